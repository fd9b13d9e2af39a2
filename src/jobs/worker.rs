//! The worker loop: claims jobs, runs up to N at once, holds each job's lease while it
//! runs (losing it cancels the job, killing ffmpeg), retries failures with backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;

use super::transcode::Pipeline;
use super::{JobError, JobSignal};
use crate::db::{self, DbPool, jobs::Job};

#[derive(Clone)]
pub struct Worker {
    db: DbPool,
    signal: JobSignal,
    pipeline: Pipeline,
    name: String,
    slots: usize,
    /// Lease length; renewed every third of it while the job runs.
    lease_secs: i32,
    poll: Duration,
}

impl Worker {
    pub fn new(
        db: DbPool,
        signal: JobSignal,
        pipeline: Pipeline,
        slots: usize,
        config: &crate::config::JobsConfig,
    ) -> Self {
        let name = super::claimer_name("worker");
        Self {
            db,
            signal,
            pipeline,
            name,
            slots: slots.max(1),
            lease_secs: config.lease_secs.clamp(3, 3600) as i32,
            poll: Duration::from_millis(config.poll_ms.max(50)),
        }
    }

    /// Runs until `stop` turns true; then cancels running jobs and gives them back.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let wake = self.signal.listen();
            let slots = Arc::new(Semaphore::new(self.slots));
            let shutdown = CancellationToken::new();
            let mut running = tokio::task::JoinSet::new();
            tracing::info!(worker = %self.name, slots = self.slots, "worker started");
            loop {
                if *stop.borrow() {
                    break;
                }
                let permit = tokio::select! {
                    p = slots.clone().acquire_owned() => p.expect("semaphore open"),
                    _ = stop.changed() => break,
                };
                let claimed = match self.db.get().await {
                    Ok(mut conn) => {
                        db::jobs::claim(
                            &mut conn,
                            &self.name,
                            self.lease_secs,
                            &db::jobs::MEDIA_KINDS,
                        )
                        .await
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "worker cannot reach the database");
                        Ok(None)
                    }
                };
                match claimed {
                    Ok(Some(job)) => {
                        let worker = self.clone();
                        let shutdown = shutdown.clone();
                        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, video = ?job.video_id.map(|v| v.0), attempt = job.attempts);
                        running.spawn(tracing::Instrument::instrument(
                            async move {
                                worker.run(job, shutdown).await;
                                drop(permit);
                            },
                            span,
                        ));
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "claiming a job failed"),
                }
                drop(permit);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = stop.changed() => break,
                    Some(_) = running.join_next(), if !running.is_empty() => {}
                }
            }
            shutdown.cancel();
            while running.join_next().await.is_some() {}
            tracing::info!(worker = %self.name, "worker stopped");
        })
    }

    async fn run(&self, job: Job, shutdown: CancellationToken) {
        let lost = CancellationToken::new();
        let heartbeat = {
            let (db, name, lost, id) = (self.db.clone(), self.name.clone(), lost.clone(), job.id);
            let lease = self.lease_secs;
            tokio::spawn(async move {
                let mut tick =
                    tokio::time::interval(Duration::from_secs_f64(f64::from(lease) / 3.0));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let kept = match db.get().await {
                        Ok(mut conn) => db::jobs::renew(&mut conn, id, &name, lease).await,
                        Err(_) => continue,
                    };
                    if matches!(kept, Ok(false)) {
                        lost.cancel();
                        return;
                    }
                }
            })
        };
        let work = async {
            match job.kind.as_str() {
                db::jobs::TRANSCODE => self.pipeline.run(&job, &self.name).await,
                db::jobs::IMPORT => self.pipeline.import(&job, &self.name).await,
                db::jobs::PUBLISH => self.pipeline.publish_job(&job, &self.name).await,
                db::jobs::PURGE => self.pipeline.purge_job(&job, &self.name).await,
                db::jobs::HASH => self.pipeline.hash_job(&job, &self.name).await,
                other => Err(JobError::Permanent(format!("unknown job kind {other:?}"))),
            }
        };
        let outcome = tokio::select! {
            r = work => Some(r),
            _ = lost.cancelled() => None,
            _ = shutdown.cancelled() => {
                if let Ok(mut conn) = self.db.get().await {
                    let _ = db::jobs::release(&mut conn, job.id, &self.name).await;
                }
                heartbeat.abort();
                return;
            }
        };
        heartbeat.abort();
        match outcome {
            // The handler finished the job row in its own transaction.
            Some(Ok(())) => {}
            None => {
                tracing::info!(job = job.id, "job lost its lease (video deleted?); stopped");
                self.pipeline.cancelled(&job).await;
            }
            Some(Err(e)) => self.failed(&job, e).await,
        }
    }

    async fn failed(&self, job: &Job, e: JobError) {
        let last = matches!(e, JobError::Permanent(_)) || job.attempts >= job.max_attempts;
        // 10 s, 40 s, 90 s, …
        let backoff = (!last).then(|| 10 * job.attempts * job.attempts);
        let message = e.to_string();
        tracing::warn!(job = job.id, attempt = job.attempts, last, error = %message, "job failed");
        match self.db.get().await {
            Ok(mut conn) => {
                if let Err(e) =
                    db::jobs::fail(&mut conn, job.id, &self.name, &message, backoff).await
                {
                    tracing::error!(error = %e, "recording the failure failed");
                }
            }
            Err(e) => tracing::error!(error = %e, "recording the failure failed"),
        }
        self.pipeline.after_failure(job, &message, last).await;
    }
}
