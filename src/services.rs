//! `Reel`: the connected services one process runs with, built once from the config and
//! handed to the adapters (`api`) and the job runner.

use std::sync::Arc;
use std::time::Duration;

use crate::apps::watermarks::WatermarkService;
use crate::apps::{AppError, AppService};
use crate::auth::Authenticator;
use crate::config::{Config, StagingKind};
use crate::db::{self, DbPool, DbSetupError};
use crate::delivery::{self, Delivery, Origins};
use crate::error::InfraError;
use crate::events::EventBus;
use crate::jobs::{JobContext, Lane, Registry, Runner};
use crate::kv::{Kv, KvSetupError};
use crate::limits::Limits;
use crate::queue::JobSignal;
use crate::sealing::{SealError, SecretBox};
use crate::storage::{Storage, StorageSetupError};
use crate::upload::UploadService;
use crate::upload::session::SessionStore;
use crate::upload::staging::Staging;
use crate::video::images::ImageService;
use crate::video::{Lifecycle, VideoService};
use crate::webhook::{ResealError, WebhookService};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] DbSetupError),
    #[error(transparent)]
    Kv(#[from] KvSetupError),
    #[error(transparent)]
    Storage(#[from] StorageSetupError),
    #[error("secrets at rest: {0}")]
    Sealing(#[from] SealError),
    #[error("secrets at rest: {0}")]
    Apps(#[from] AppError),
    #[error(transparent)]
    Webhooks(#[from] ResealError),
}

/// A handle on the node's services: one `Arc`, so the copies every socket, request
/// and task holds cost a pointer (the services themselves are 6 KiB, and an idle
/// WebSocket's task held four copies of them; issue 18).
#[derive(Clone)]
pub struct Reel(Arc<Services>);

impl std::ops::Deref for Reel {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub config: Arc<Config>,
    pub db: DbPool,
    pub kv: Kv,
    pub storage: Storage,
    pub events: EventBus,
    pub auth: Authenticator,
    pub apps: AppService,
    pub videos: VideoService,
    /// Thumbnails and animated previews made on demand (`/media/…/thumbnail.jpg`).
    pub images: ImageService,
    pub uploads: UploadService,
    pub delivery: Delivery,
    pub webhooks: WebhookService,
    pub watermarks: WatermarkService,
    pub limits: Limits,
    jobs: JobContext,
    signal: JobSignal,
}

impl Reel {
    /// Connects everything; creates the database and runs migrations first when `migrate`.
    pub async fn start(config: Config, migrate: bool) -> Result<Self, StartupError> {
        let connect_timeout = Duration::from_millis(config.database.connect_timeout_ms);
        if migrate {
            db::ensure_database(&config.database_url, connect_timeout).await?;
            let applied = db::migrate(&config.database_url).await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "applied migrations");
            }
        }
        let db = db::connect(&config.database_url, &config.database).await?;
        let kv = Kv::connect(
            &config.redis_url,
            &config.redis_prefix,
            config.redis_ca_file.as_deref(),
        )
        .await?;
        let storage = Storage::open(&config.storage, &config.data_dir)?;
        let sealing = Arc::new(SecretBox::new(
            config.auth.master_key.get(),
            config.auth.previous_master_key.get(),
        )?);
        let apps = AppService::new(db.clone(), sealing.clone());
        let webhooks = WebhookService::new(db.clone(), sealing.clone());
        // Every stored secret must open before the node serves; sealing what is plain.
        let resealed = apps.reseal().await? + webhooks.reseal().await?;
        if resealed > 0 {
            tracing::info!(resealed, "sealed stored secrets with the master key");
        }
        let events = EventBus::start(kv.clone(), db.clone()).await;
        let origins = Origins::build(
            &config.delivery,
            &config.storage,
            &storage,
            &config.data_dir,
        )?;
        let key = media_key(&db, &config.delivery.key, &sealing).await?;
        let delivery = Delivery::new(&config.delivery, origins, key, &config.public_base());
        let staging = match config.upload.staging {
            StagingKind::Fs => Staging::Fs {
                dir: config
                    .upload
                    .staging_dir
                    .clone()
                    .unwrap_or_else(|| config.data_dir.join("staging")),
            },
            StagingKind::Storage => Staging::Store {
                op: storage.op().clone(),
            },
        };
        let signal = JobSignal::new(kv.clone());
        let lifecycle = Lifecycle::new(db.clone(), events.clone(), signal.clone());
        let limits = Limits::new(kv.clone(), config.rate_limit_rps, config.limits.clone());
        let uploads = UploadService::new(
            db.clone(),
            SessionStore::new(db.clone()),
            staging,
            storage.clone(),
            lifecycle.clone(),
            limits.clone(),
            config.upload.clone(),
            delivery.origins().clone(),
        );
        let jobs = JobContext::new(
            &config,
            db.clone(),
            storage.clone(),
            delivery.clone(),
            lifecycle.clone(),
            sealing,
        );
        let images = ImageService::new(&config, db.clone(), storage.clone(), delivery.clone());
        let watermarks = jobs.watermarks.clone();
        let config = Arc::new(config);
        Ok(Self(Arc::new(Services {
            images,
            watermarks,
            uploads,
            auth: Authenticator::new(db.clone(), apps.clone(), kv.clone(), config.auth.clone()),
            apps,
            videos: VideoService::new(
                db.clone(),
                storage.clone(),
                delivery.clone(),
                lifecycle,
                limits.clone(),
                config.clone(),
            ),
            delivery,
            webhooks,
            limits,
            jobs,
            signal,
            config,
            db,
            kv,
            storage,
            events,
        })))
    }

    /// A job runner over this process's services, knowing every kind.
    pub fn runner(&self) -> Runner {
        self.runner_with(crate::jobs::registry())
    }

    /// A job runner over this process's services, knowing the kinds of `registry`.
    pub fn runner_with(&self, registry: Registry) -> Runner {
        Runner::new(self.jobs.clone(), registry, self.signal.clone())
    }

    /// The lanes a node runs: `workers` media jobs at once (none when 0) and the
    /// configured number of webhook deliveries.
    pub fn lanes(&self, workers: usize) -> [(Lane, usize); 2] {
        [
            (Lane::Media, workers),
            (Lane::Deliveries, self.config.webhooks.concurrency.max(1)),
        ]
    }

    /// Starts this process's background work: the job runner on `lanes(workers)`.
    pub fn spawn_background(&self, workers: usize) -> Background {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = vec![self.runner().spawn(&self.lanes(workers), stopped)];
        Background { stop, tasks }
    }

    /// Whether Postgres and Redis answer (`/healthz`).
    pub async fn health(&self) -> (Result<(), String>, Result<(), String>) {
        tokio::join!(db::ping(&self.db), self.kv.ping())
    }

    /// Gauges of what every node shares (the queue, uploads in progress), read at scrape
    /// time rather than counted per node.
    pub async fn refresh_gauges(&self) -> Result<(), InfraError> {
        use crate::metrics::{JOBS, UPLOADS_ACTIVE};
        let mut conn = self.db.get().await?;
        let kinds = crate::jobs::registry().names();
        for (kind, state, n) in db::jobs::counts(&mut conn, &kinds).await? {
            metrics::gauge!(JOBS, "kind" => kind, "state" => state).set(n as f64);
        }
        let uploading = db::scans::count_uploading(&mut conn).await?;
        metrics::gauge!(UPLOADS_ACTIVE).set(uploading as f64);
        Ok(())
    }
}

/// The key of `/media/` tokens: from the config, else the one stored in Postgres (made
/// by the first node that starts), so every node signs and verifies alike.
async fn media_key(
    db: &DbPool,
    configured: &str,
    sealing: &SecretBox,
) -> Result<Vec<u8>, StartupError> {
    if !configured.is_empty() {
        return Ok(configured.as_bytes().to_vec());
    }
    const NAME: &str = "media_key";
    let query = |e: &dyn std::fmt::Display| DbSetupError::Query(e.to_string());
    let mut conn = db.get().await.map_err(|e| query(&e))?;
    let fresh = sealing.seal(NAME, &delivery::fresh_media_key());
    let stored = db::settings::get_or_insert(&mut conn, NAME, &fresh)
        .await
        .map_err(|e| query(&e))?;
    let key = sealing.open(NAME, &stored)?;
    if sealing.stale(&stored) {
        // Another node may have sealed it first; either form opens to the same key.
        db::settings::replace(&mut conn, NAME, &stored, &sealing.seal(NAME, &key))
            .await
            .map_err(|e| query(&e))?;
    }
    Ok(key.into_bytes())
}

/// A process's background work (the job runner), stopped together.
pub struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    /// Turns true when the background is stopped (for servers that end with it).
    pub fn stopped(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stops everything and waits: running jobs are given back to the queue for another
    /// worker.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
