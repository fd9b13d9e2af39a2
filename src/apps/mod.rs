//! Tenants: creating apps, their credentials, and rotating a secret with a grace period
//! (docs/operations.md, "Rotating an app secret").

pub mod watermarks;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::db::{self, DbPool, models::App, models::NewApp};
use crate::error::{Coded, ErrorCode, InfraError};
use crate::sealing::{SealError, SecretBox};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("app name must be 1 to 200 characters")]
    BadName,
    #[error("no app is called or keyed {0:?}")]
    NotFound(String),
    #[error("{count} apps are called {name:?}; name one by its app_key")]
    Ambiguous { name: String, count: usize },
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl Coded for AppError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BadName | Self::Ambiguous { .. } => ErrorCode::BadRequest,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Sealed(_) => ErrorCode::Internal,
            Self::Infra(e) => e.code(),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Infra(e.into())
    }
}

fn random_token(prefix: &str, len: usize) -> String {
    let body: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    format!("{prefix}{body}")
}

fn new_secret() -> String {
    random_token("sk_", 40)
}

/// An app with its secret in plain text, shown once (at creation or rotation).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub app: App,
    pub secret: String,
    /// Until when the secret it replaced is still accepted (rotation with a grace).
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// The secrets an app's requests and tokens may be signed with now.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Signs new tokens; checked first.
    pub current: String,
    /// The secret before a rotation, during its grace.
    pub previous: Option<String>,
}

impl Secrets {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.current.as_str()).chain(self.previous.as_deref())
    }
}

#[derive(Clone)]
pub struct AppService {
    db: DbPool,
    sealing: Arc<SecretBox>,
}

impl AppService {
    pub fn new(db: DbPool, sealing: Arc<SecretBox>) -> Self {
        Self { db, sealing }
    }

    /// A new app with a fresh key pair.
    pub async fn create(&self, name: &str) -> Result<Credentials, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::BadName);
        }
        let key = random_token("ak_", 24);
        let secret = new_secret();
        let stored = self.sealing.seal(&key, &secret);
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let app = db::apps::insert(
            &mut conn,
            NewApp {
                name,
                app_key: &key,
                app_secret: &stored,
            },
        )
        .await?;
        Ok(Credentials {
            app,
            secret,
            previous_valid_until: None,
        })
    }

    /// The first app called `name`, created when there is none.
    pub async fn ensure(&self, name: &str) -> Result<App, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        if let Some(app) = db::apps::find_by_name(&mut conn, name.trim()).await? {
            return Ok(app);
        }
        drop(conn);
        Ok(self.create(name).await?.app)
    }

    pub async fn list(&self) -> Result<Vec<App>, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        Ok(db::apps::list(&mut conn).await?)
    }

    /// The secrets `app` accepts at `now`, opened.
    pub fn secrets(&self, app: &App, now: DateTime<Utc>) -> Result<Secrets, SealError> {
        let previous = match (&app.previous_secret, app.previous_secret_until) {
            (Some(stored), Some(until)) if until > now => {
                Some(self.sealing.open(&app.app_key, stored)?)
            }
            _ => None,
        };
        Ok(Secrets {
            current: self.sealing.open(&app.app_key, &app.stored_secret)?,
            previous,
        })
    }

    /// Gives the app named or keyed `which` a new secret. The old one (and tokens signed
    /// with it) stays valid for `grace`, then stops; with no grace it stops at once.
    pub async fn rotate_secret(
        &self,
        which: &str,
        grace: std::time::Duration,
    ) -> Result<Credentials, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let app = self.resolve(&mut conn, which).await?;
        let secret = new_secret();
        let stored = self.sealing.seal(&app.app_key, &secret);
        let grace_until = chrono::Duration::from_std(grace)
            .ok()
            .filter(|g| !g.is_zero())
            .map(|g| Utc::now() + g);
        let app = db::apps::rotate_secret(&mut conn, app.id, &stored, grace_until).await?;
        Ok(Credentials {
            previous_valid_until: app.previous_secret_until,
            app,
            secret,
        })
    }

    /// Makes every upload of the app named or keyed `which` encrypted (AES-128 HLS), or
    /// leaves it to each upload again.
    pub async fn set_encrypt_uploads(&self, which: &str, on: bool) -> Result<App, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let app = self.resolve(&mut conn, which).await?;
        Ok(db::apps::set_encrypt_uploads(&mut conn, app.id, on).await?)
    }

    /// The downloads every new video of the app named or keyed `which` asks for
    /// (definitions already checked; empty: none).
    pub async fn set_default_downloads(
        &self,
        which: &str,
        definitions: &[String],
    ) -> Result<App, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let app = self.resolve(&mut conn, which).await?;
        db::downloads::set_app_default(&mut conn, app.id, definitions).await?;
        Ok(app)
    }

    /// The app whose key, or else whose only name, is `which` (operator commands).
    pub async fn find(&self, which: &str) -> Result<App, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        self.resolve(&mut conn, which).await
    }

    /// The app whose key, or else whose only name, is `which`.
    async fn resolve(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        which: &str,
    ) -> Result<App, AppError> {
        if let Some(app) = db::apps::find_by_key(conn, which).await? {
            return Ok(app);
        }
        let mut named = db::apps::find_all_by_name(conn, which.trim()).await?;
        match named.len() {
            0 => Err(AppError::NotFound(which.to_string())),
            1 => Ok(named.remove(0)),
            count => Err(AppError::Ambiguous {
                name: which.to_string(),
                count,
            }),
        }
    }

    /// Checks at start that every stored secret opens, and seals again those stored in
    /// plain text or under the previous master key. Returns how many were sealed.
    pub async fn reseal(&self) -> Result<usize, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let mut sealed = 0;
        for app in db::apps::list(&mut conn).await? {
            let owner = &app.app_key;
            let secret = self.sealing.open(owner, &app.stored_secret)?;
            let previous = match &app.previous_secret {
                Some(stored) => Some(self.sealing.open(owner, stored)?),
                None => None,
            };
            let stale = self.sealing.stale(&app.stored_secret)
                || app
                    .previous_secret
                    .as_deref()
                    .is_some_and(|p| self.sealing.stale(p));
            if !stale {
                continue;
            }
            let previous = previous.map(|p| self.sealing.seal(owner, &p));
            let secret = self.sealing.seal(owner, &secret);
            // Lost to a concurrent rotation or another node's reseal: theirs stands.
            if db::apps::restore_secrets(&mut conn, &app, &secret, previous.as_deref()).await? {
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    pub fn sealing(&self) -> &Arc<SecretBox> {
        &self.sealing
    }
}
