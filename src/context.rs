//! `Reel`: the connected services one process runs with, built once from the config.

use std::sync::Arc;
use std::time::Duration;

use opendal::Operator;

use crate::apps::AppService;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::config::StagingKind;
use crate::db::{self, DbPool, DbSetupError};
use crate::delivery::{Delivery, Origins};
use crate::events::EventBus;
use crate::jobs::JobSignal;
use crate::jobs::transcode::Pipeline;
use crate::kv::{Kv, KvSetupError};
use crate::storage::{self, StorageSetupError};
use crate::upload::UploadService;
use crate::upload::session::SessionStore;
use crate::upload::staging::Staging;
use crate::video::VideoService;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] DbSetupError),
    #[error(transparent)]
    Kv(#[from] KvSetupError),
    #[error(transparent)]
    Storage(#[from] StorageSetupError),
}

#[derive(Clone)]
pub struct Reel {
    pub config: Arc<Config>,
    pub db: DbPool,
    pub kv: Kv,
    pub storage: Operator,
    pub events: EventBus,
    pub auth: Authenticator,
    pub apps: AppService,
    pub videos: VideoService,
    pub uploads: UploadService,
    pub job_signal: JobSignal,
    pub pipeline: Pipeline,
    pub delivery: Delivery,
    pub webhooks: crate::webhook::WebhookService,
    pub limits: crate::limits::Limits,
}

impl Reel {
    /// A worker over this process's connections, with `slots` jobs at once.
    pub fn worker(&self, slots: usize) -> crate::jobs::worker::Worker {
        crate::jobs::worker::Worker::new(
            self.db.clone(),
            self.job_signal.clone(),
            self.pipeline.clone(),
            slots,
            &self.config.jobs,
        )
    }

    /// The webhook sender of this process.
    pub fn dispatcher(&self) -> crate::webhook::dispatch::Dispatcher {
        crate::webhook::dispatch::Dispatcher::new(
            self.db.clone(),
            self.job_signal.clone(),
            self.config.webhooks.clone(),
            std::time::Duration::from_millis(self.config.jobs.poll_ms.max(50)),
        )
    }

    /// Starts this process's background work: the webhook sender and `slots` media
    /// workers (none when 0).
    pub fn spawn_background(&self, slots: usize) -> Background {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = vec![self.dispatcher().spawn(stopped.clone())];
        if slots > 0 {
            tasks.push(self.worker(slots).spawn(stopped));
        }
        Background { stop, tasks }
    }

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
        db::jobs::set_max_attempts(config.jobs.max_attempts);
        let kv = Kv::connect(&config.redis_url, &config.redis_prefix).await?;
        let storage = storage::build(&config.storage, &config.data_dir)?;
        let events = EventBus::start(kv.clone(), db.clone()).await;
        let origins = Origins::build(
            &config.delivery,
            &config.storage,
            &storage,
            &config.data_dir,
        )?;
        let key = {
            let mut conn = db
                .get()
                .await
                .map_err(|e| DbSetupError::Query(e.to_string()))?;
            crate::delivery::media_key(&mut conn, &config.delivery.key)
                .await
                .map_err(|e| DbSetupError::Query(e.to_string()))?
        };
        let delivery = Delivery::new(&config.delivery, origins, key, &config.public_base());
        let staging = match config.upload.staging {
            StagingKind::Fs => Staging::Fs {
                dir: config
                    .upload
                    .staging_dir
                    .clone()
                    .unwrap_or_else(|| config.data_dir.join("staging")),
                storage_root: storage::fs_root(&config.storage, &config.data_dir),
            },
            StagingKind::Storage => Staging::Store {
                op: storage.clone(),
            },
        };
        let job_signal = JobSignal::new(kv.clone());
        let limits =
            crate::limits::Limits::new(kv.clone(), config.rate_limit_rps, config.limits.clone());
        let uploads = UploadService::new(
            db.clone(),
            SessionStore::new(kv.clone()),
            staging,
            storage.clone(),
            events.clone(),
            job_signal.clone(),
            limits.clone(),
            config.upload.clone(),
        );
        let pipeline = Pipeline::new(
            db.clone(),
            storage.clone(),
            delivery.clone(),
            events.clone(),
            job_signal.clone(),
            &config,
        );
        let config = Arc::new(config);
        Ok(Self {
            uploads,
            pipeline,
            job_signal: job_signal.clone(),
            auth: Authenticator::new(db.clone(), kv.clone(), config.auth.clone()),
            apps: AppService::new(db.clone()),
            videos: VideoService::new(
                db.clone(),
                storage.clone(),
                delivery.clone(),
                events.clone(),
                job_signal,
                config.clone(),
            ),
            delivery,
            webhooks: crate::webhook::WebhookService::new(db.clone()),
            limits,
            config,
            db,
            kv,
            storage,
            events,
        })
    }
}

/// A process's background work (media workers, the webhook sender), stopped together.
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
