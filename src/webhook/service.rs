//! Registering, listing and deleting an app's endpoints, and reading their deliveries.

use std::sync::Arc;

use super::{EVENTS, WebhookError, check_url, secret_owner};
use crate::db::{self, DbPool, webhooks::WebhookRow};
use crate::error::InfraError;
use crate::model::AppId;
use crate::sealing::{SealError, SecretBox};

/// Endpoints one app may register.
const MAX_WEBHOOKS: usize = 20;

#[derive(Clone)]
pub struct WebhookService {
    db: DbPool,
    sealing: Arc<SecretBox>,
}

impl WebhookService {
    pub fn new(db: DbPool, sealing: Arc<SecretBox>) -> Self {
        Self { db, sealing }
    }

    /// Registers an endpoint for `events` (empty: all); the returned row holds the secret
    /// that signs deliveries in plain text, the only time it is shown.
    pub async fn create(
        &self,
        app: AppId,
        url: &str,
        events: &[String],
    ) -> Result<WebhookRow, WebhookError> {
        let url = check_url(url)?;
        if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(WebhookError::BadRequest(format!(
                "unknown event {bad:?}; known: {}",
                EVENTS.join(", ")
            )));
        }
        let mut conn = self.db.get().await?;
        if db::webhooks::list(&mut conn, app).await?.len() >= MAX_WEBHOOKS {
            return Err(WebhookError::BadRequest(format!(
                "an app has at most {MAX_WEBHOOKS} webhooks"
            )));
        }
        let secret = format!("whsec_{}", hex::encode(rand::random::<[u8; 24]>()));
        let mut events = events.to_vec();
        events.sort();
        events.dedup();
        let stored = self.sealing.seal(&secret_owner(app), &secret);
        let mut row = db::webhooks::insert(&mut conn, app, url.as_str(), &events, &stored).await?;
        row.secret = secret;
        Ok(row)
    }

    /// Seals again the secrets stored in plain text or under the previous master key
    /// (at start), after checking they open; returns how many were sealed.
    pub async fn reseal(&self) -> Result<usize, ResealError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let mut sealed = 0;
        for (id, app, stored) in db::webhooks::secrets(&mut conn)
            .await
            .map_err(InfraError::from)?
        {
            let secret = self.sealing.open(&secret_owner(app), &stored)?;
            if self.sealing.stale(&stored) {
                let fresh = self.sealing.seal(&secret_owner(app), &secret);
                if db::webhooks::replace_secret(&mut conn, id, &stored, &fresh)
                    .await
                    .map_err(InfraError::from)?
                {
                    sealed += 1;
                }
            }
        }
        Ok(sealed)
    }

    pub async fn list(&self, app: AppId) -> Result<Vec<WebhookRow>, WebhookError> {
        let mut conn = self.db.get().await?;
        Ok(db::webhooks::list(&mut conn, app).await?)
    }

    pub async fn delete(&self, app: AppId, id: i64) -> Result<(), WebhookError> {
        let mut conn = self.db.get().await?;
        if db::webhooks::delete(&mut conn, app, id).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    pub async fn deliveries(
        &self,
        app: AppId,
        webhook: i64,
        first: i64,
    ) -> Result<Vec<db::webhooks::DeliveryRow>, WebhookError> {
        let mut conn = self.db.get().await?;
        Ok(db::webhooks::deliveries(&mut conn, app, webhook, first).await?)
    }

    pub async fn attempts(
        &self,
        delivery: i64,
    ) -> Result<Vec<db::webhooks::AttemptRow>, WebhookError> {
        let mut conn = self.db.get().await?;
        Ok(db::webhooks::attempts(&mut conn, delivery).await?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error("webhook secrets: {0}")]
    Sealed(#[from] SealError),
    #[error(transparent)]
    Infra(#[from] InfraError),
}
