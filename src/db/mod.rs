//! Postgres: the connection pool, database creation and embedded migrations. Queries
//! are plain functions over `&mut AsyncPgConnection`, so callers own transactions, and
//! they make no domain decisions (those are `video::lifecycle`'s).

pub mod apps;
pub mod audio;
pub mod clips;
pub mod downloads;
pub mod jobs;
pub mod models;
pub mod outputs;
pub mod scans;
pub mod schema;
pub mod settings;
pub mod tls;
pub mod tracks;
pub mod uploads;
pub mod videos;
pub mod watermarks;
pub mod webhooks;

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{BuildError, Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;

use crate::config::{DatabaseConfig, redact_url};
use tls::PgTarget;

pub use diesel_async::pooled_connection::deadpool::PoolError;

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Arbitrary key of the advisory lock that serialises migrations across nodes.
const MIGRATION_LOCK: i64 = 0x0072_6565_6c6d_6967; // "reelmig"

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error(
        "cannot reach PostgreSQL at {url}: {reason}. Start it (scripts/setup installs and starts it) or point DATABASE_URL at a running server."
    )]
    Unreachable { url: String, reason: String },
    #[error("invalid DATABASE_URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot create database {name:?} at {url}: {reason}")]
    Create {
        url: String,
        name: String,
        reason: String,
    },
    #[error("migrations failed: {0}")]
    Migrate(String),
    #[error("database: {0}")]
    Query(String),
}

fn unreachable(url: &str, e: impl std::fmt::Display) -> DbSetupError {
    DbSetupError::Unreachable {
        url: redact_url(url),
        reason: e.to_string(),
    }
}

fn target(url: &str) -> Result<PgTarget, DbSetupError> {
    PgTarget::parse(url).map_err(|reason| DbSetupError::BadUrl {
        url: redact_url(url),
        reason,
    })
}

/// Creates the database named in `url` when the server lacks it.
pub async fn ensure_database(url: &str, connect_timeout: Duration) -> Result<(), DbSetupError> {
    let target = target(url)?;
    let mut pg = target.config.clone();
    pg.connect_timeout(connect_timeout);
    let name = match pg.get_dbname() {
        Some(name) => name.to_string(),
        None => pg.get_user().unwrap_or("postgres").to_string(),
    };
    match target.client(&pg).await {
        Ok(_) => return Ok(()),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) => {}
        Err(e) => return Err(unreachable(url, tls::error_chain(&e))),
    }
    let mut last_err = None;
    for maintenance in ["postgres", "template1"] {
        let mut admin = pg.clone();
        admin.dbname(maintenance);
        let client = match target.client(&admin).await {
            Ok(client) => client,
            Err(e) => {
                last_err = Some(tls::error_chain(&e));
                continue;
            }
        };
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        let result = client.batch_execute(&sql).await;
        drop(client);
        return match result {
            Ok(()) => {
                tracing::info!(database = %name, "created database");
                Ok(())
            }
            // Another node created it first.
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => {
                Ok(())
            }
            Err(e) => Err(DbSetupError::Create {
                url: redact_url(url),
                name,
                reason: e.to_string(),
            }),
        };
    }
    Err(DbSetupError::Create {
        url: redact_url(url),
        name,
        reason: last_err.unwrap_or_default(),
    })
}

/// Builds the pool; every connection gets the configured `statement_timeout`.
pub async fn connect(url: &str, cfg: &DatabaseConfig) -> Result<DbPool, DbSetupError> {
    let statement_timeout = cfg.statement_timeout_ms;
    let connect_timeout = Duration::from_millis(cfg.connect_timeout_ms);
    let target = target(url)?;
    let mut manager_config = ManagerConfig::default();
    manager_config.custom_setup = Box::new(move |_url: &str| {
        let target = target.clone();
        async move {
            let mut conn = tokio::time::timeout(connect_timeout, target.diesel())
                .await
                .map_err(|_| ConnectionError::BadConnection("connect timed out".into()))??;
            diesel::sql_query(format!("SET statement_timeout = {statement_timeout}"))
                .execute(&mut conn)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::new_with_config(url, manager_config);
    let pool = Pool::builder(manager)
        .max_size(cfg.pool_size)
        .wait_timeout(Some(Duration::from_millis(cfg.wait_timeout_ms)))
        .create_timeout(Some(connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e: BuildError| unreachable(url, e))?;
    // Fail at start-up, with the URL, rather than at the first request.
    let _probe = pool.get().await.map_err(|e| unreachable(url, e))?;
    Ok(pool)
}

/// Runs pending migrations under an advisory lock; returns the versions applied.
/// Needs a multi-threaded tokio runtime (diesel's harness is synchronous).
pub async fn migrate(url: &str) -> Result<Vec<String>, DbSetupError> {
    let mut conn = target(url)?
        .diesel()
        .await
        .map_err(|e| unreachable(url, e))?;
    let lock = |sql: &'static str| {
        diesel::sql_query(sql).bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
    };
    lock("SELECT pg_advisory_lock($1)")
        .execute(&mut conn)
        .await
        .map_err(|e| DbSetupError::Migrate(e.to_string()))?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = harness
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect::<Vec<_>>())
        .map_err(|e| DbSetupError::Migrate(e.to_string()));
    let mut conn = harness.into_inner();
    let _ = lock("SELECT pg_advisory_unlock($1)")
        .execute(&mut conn)
        .await;
    applied
}

/// Cheap liveness probe used by `/healthz`.
pub async fn ping(pool: &DbPool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
