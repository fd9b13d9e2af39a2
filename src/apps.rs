//! Tenants: creating apps and their credentials.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::db::{self, DbPool, models::App, models::NewApp};
use crate::error::{Coded, ErrorCode, InfraError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("app name must be 1 to 200 characters")]
    BadName,
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl Coded for AppError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BadName => ErrorCode::BadRequest,
            Self::Infra(e) => e.code(),
        }
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

#[derive(Clone)]
pub struct AppService {
    db: DbPool,
}

impl AppService {
    pub fn new(db: DbPool) -> Self {
        Self { db }
    }

    /// A new app with a fresh key pair.
    pub async fn create(&self, name: &str) -> Result<App, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::BadName);
        }
        let key = random_token("ak_", 24);
        let secret = random_token("sk_", 40);
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let app = db::apps::insert(
            &mut conn,
            NewApp {
                name,
                app_key: &key,
                app_secret: &secret,
            },
        )
        .await
        .map_err(InfraError::from)?;
        Ok(app)
    }

    /// The first app called `name`, created when there is none.
    pub async fn ensure(&self, name: &str) -> Result<App, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        if let Some(app) = db::apps::find_by_name(&mut conn, name.trim())
            .await
            .map_err(InfraError::from)?
        {
            return Ok(app);
        }
        drop(conn);
        self.create(name).await
    }

    pub async fn list(&self) -> Result<Vec<App>, AppError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        Ok(db::apps::list(&mut conn).await.map_err(InfraError::from)?)
    }
}
