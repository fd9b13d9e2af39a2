//! Registering, listing and deleting an app's endpoints, and reading their deliveries.

use super::{EVENTS, WebhookError, check_url};
use crate::db::{self, DbPool, webhooks::WebhookRow};
use crate::model::AppId;

/// Endpoints one app may register.
const MAX_WEBHOOKS: usize = 20;

#[derive(Clone)]
pub struct WebhookService {
    db: DbPool,
}

impl WebhookService {
    pub fn new(db: DbPool) -> Self {
        Self { db }
    }

    /// Registers an endpoint for `events` (empty: all); the returned secret signs deliveries.
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
        Ok(db::webhooks::insert(&mut conn, app, url.as_str(), &events, &secret).await?)
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
