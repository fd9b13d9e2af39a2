//! Background work (docs/architecture.md, "Jobs"): the `Job` trait, one file per kind,
//! the registry that lists them, and the one runner that claims and runs every kind.
//!
//! Adding a kind: a file here with its payload (`queue::Payload`) and `impl Job`, and one
//! line in `registry()`.

mod audio_track;
mod captions;
mod chunk;
mod context;
mod downloads;
mod early;
mod hash;
mod import;
mod ladder;
mod outputs;
mod protect;
mod publish;
mod purge;
mod runner;
mod stitch;
mod transcode;
mod webhook;

use std::collections::HashMap;
use std::future::Future;

use futures_util::future::BoxFuture;

use crate::config::JobsConfig;
use crate::queue::{Claimed, Payload};

pub use context::JobContext;
pub use runner::Runner;

/// Every kind of job this build runs.
pub fn registry() -> Registry {
    Registry::default()
        .with::<crate::video::work::Transcode>()
        .with::<crate::video::work::Import>()
        .with::<crate::video::work::Hash>()
        .with::<crate::video::work::AddedAudioTrack>()
        .with::<crate::video::work::Captions>()
        .with::<crate::video::work::MakeDownloads>()
        .with::<ladder::EncodeChunk>()
        .with::<ladder::FinishLadder>()
        .with::<publish::Publish>()
        .with::<purge::Purge>()
        .with::<crate::webhook::outbox::Deliver>()
}

/// Which slots of a node run a kind: heavy work is held to the node's workers, outgoing
/// HTTP has its own slots on every node, so a long transcode never delays a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// ffmpeg and storage copies: `workers` at once, on nodes that run workers.
    Media,
    /// Webhook deliveries: `webhooks.concurrency` at once, on every node.
    Deliveries,
}

/// How a job attempt ended badly.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Retrying cannot help (not a video, too small, …): fail now.
    #[error("{0}")]
    Permanent(String),
    /// Worth another attempt after the usual backoff (a crash, storage hiccup, timeout).
    #[error("{0}")]
    Transient(String),
    /// Try again after this long (the kind keeps its own schedule).
    #[error("{1}")]
    RetryAfter(std::time::Duration, String),
}

impl From<crate::error::InfraError> for JobError {
    fn from(e: crate::error::InfraError) -> Self {
        Self::Transient(e.to_string())
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Transient(format!("database: {e}"))
    }
}

impl From<crate::db::PoolError> for JobError {
    fn from(e: crate::db::PoolError) -> Self {
        Self::Transient(format!("database pool: {e}"))
    }
}

impl From<opendal::Error> for JobError {
    fn from(e: opendal::Error) -> Self {
        Self::Transient(format!("storage: {e}"))
    }
}

impl From<std::io::Error> for JobError {
    fn from(e: std::io::Error) -> Self {
        Self::Transient(format!("i/o: {e}"))
    }
}

impl From<crate::storage::io::CopyError> for JobError {
    fn from(e: crate::storage::io::CopyError) -> Self {
        Self::Transient(e.to_string())
    }
}

/// A watermark that cannot be read now (its image replaced this instant, storage down):
/// the retry resolves it again.
impl From<crate::apps::watermarks::WatermarkError> for JobError {
    fn from(e: crate::apps::watermarks::WatermarkError) -> Self {
        Self::Transient(format!("watermark: {e}"))
    }
}

impl From<crate::media::MediaError> for JobError {
    fn from(e: crate::media::MediaError) -> Self {
        match e.is_permanent() {
            true => Self::Permanent(e.to_string()),
            false => Self::Transient(e.to_string()),
        }
    }
}

/// A kind of background work: its payload says what to do, `run` does it.
pub trait Job: Payload {
    const LANE: Lane = Lane::Media;

    /// One attempt. A job whose effects must commit with its completion finishes itself
    /// (`Claimed::finish` in its transaction); otherwise the runner finishes it after `Ok`.
    fn run(
        self,
        ctx: &JobContext,
        job: &Claimed,
    ) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Attempts before the job fails for good.
    fn max_attempts(config: &JobsConfig) -> i32 {
        config.max_attempts
    }

    /// After a failed attempt (`last`: none follows): what it leaves on its video.
    fn failed(
        ctx: &JobContext,
        job: &Claimed,
        error: &str,
        last: bool,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, job, error, last);
        async {}
    }

    /// The job was taken away while it ran (its lease lost: its video was deleted).
    fn cancelled(ctx: &JobContext, job: &Claimed) -> impl Future<Output = ()> + Send {
        let _ = (ctx, job);
        async {}
    }
}

type Run = for<'a> fn(&'a JobContext, &'a Claimed) -> BoxFuture<'a, Result<(), JobError>>;
type Failed = for<'a> fn(&'a JobContext, &'a Claimed, &'a str, bool) -> BoxFuture<'a, ()>;
type Cancelled = for<'a> fn(&'a JobContext, &'a Claimed) -> BoxFuture<'a, ()>;

/// One kind as the runner calls it.
#[derive(Clone, Copy)]
pub struct Kind {
    pub name: &'static str,
    pub lane: Lane,
    pub run: Run,
    pub failed: Failed,
    pub cancelled: Cancelled,
    pub max_attempts: fn(&JobsConfig) -> i32,
}

/// The kinds a runner knows, by name.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: HashMap<&'static str, Kind>,
}

impl Registry {
    pub fn with<J: Job>(mut self) -> Self {
        let kind = Kind {
            name: J::KIND,
            lane: J::LANE,
            run: |ctx, job| {
                Box::pin(async move {
                    let payload: J = job.payload().map_err(|e| {
                        JobError::Permanent(format!("{} job with a bad payload: {e}", J::KIND))
                    })?;
                    payload.run(ctx, job).await
                })
            },
            failed: |ctx, job, error, last| Box::pin(J::failed(ctx, job, error, last)),
            cancelled: |ctx, job| Box::pin(J::cancelled(ctx, job)),
            max_attempts: J::max_attempts,
        };
        assert!(
            self.kinds.insert(J::KIND, kind).is_none(),
            "job kind {} registered twice",
            J::KIND
        );
        self
    }

    /// The same kinds but `name` (a node that leaves that kind to others).
    pub fn without(mut self, name: &str) -> Self {
        self.kinds.remove(name);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Kind> {
        self.kinds.get(name)
    }

    /// The names of the kinds that run in `lane`.
    pub fn names_in(&self, lane: Lane) -> Vec<&'static str> {
        let mut names: Vec<_> = self
            .kinds
            .values()
            .filter(|k| k.lane == lane)
            .map(|k| k.name)
            .collect();
        names.sort_unstable();
        names
    }

    /// Every kind's name.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.kinds.keys().copied().collect();
        names.sort_unstable();
        names
    }
}
