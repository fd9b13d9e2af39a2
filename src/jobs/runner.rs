//! The one runner: per lane, claims jobs of that lane's kinds and runs up to its slots at
//! once, holds each job's lease while it runs (losing it cancels the job, killing
//! ffmpeg), retries failures with backoff, and on shutdown gives running jobs back and
//! waits for them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{JobContext, JobError, Lane, Registry};
use crate::db;
use crate::queue::{Claimed, JobSignal, claimer_name};

#[derive(Clone)]
pub struct Runner {
    ctx: JobContext,
    registry: Arc<Registry>,
    signal: JobSignal,
    name: String,
    /// Lease length; renewed every third of it while the job runs.
    lease_secs: i32,
    poll: Duration,
}

impl Runner {
    pub fn new(ctx: JobContext, registry: Registry, signal: JobSignal) -> Self {
        let (lease_secs, poll) = (ctx.jobs.lease_secs, ctx.jobs.poll_ms);
        Self {
            ctx,
            registry: Arc::new(registry),
            signal,
            name: claimer_name("worker"),
            lease_secs: lease_secs.clamp(3, 3600) as i32,
            poll: Duration::from_millis(poll.max(50)),
        }
    }

    /// Runs each lane with its number of slots (a lane with none is not run) until
    /// `stop` turns true; then cancels running jobs, gives them back and waits for them.
    pub fn spawn(
        self,
        lanes: &[(Lane, usize)],
        stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let lanes: Vec<(Lane, usize)> = lanes.iter().copied().filter(|(_, n)| *n > 0).collect();
        tokio::spawn(async move {
            let wake = self.signal.listen();
            let shutdown = CancellationToken::new();
            let mut loops = JoinSet::new();
            for (lane, slots) in lanes {
                tracing::info!(worker = %self.name, ?lane, slots, "runner started");
                let (me, wake, stop) = (self.clone(), wake.clone(), stop.clone());
                loops.spawn(me.lane(lane, slots, wake, stop, shutdown.clone()));
            }
            if self.ctx.jobs.keep_finished_secs > 0 {
                loops.spawn(self.clone().prune_finished(stop));
            }
            while loops.join_next().await.is_some() {}
            tracing::info!(worker = %self.name, "runner stopped");
        })
    }

    /// Deletes jobs that ended long ago, a batch a minute (every runner does; they skip
    /// each other's rows), so the table stays as large as the recent past.
    async fn prune_finished(self, mut stop: watch::Receiver<bool>) {
        const EVERY: Duration = Duration::from_secs(60);
        const BATCH: i64 = 10_000;
        let keep = self.ctx.jobs.keep_finished_secs.min(i64::MAX as u64) as i64;
        loop {
            let pruned = match self.ctx.db.get().await {
                Ok(mut conn) => db::jobs::prune(&mut conn, keep, BATCH).await,
                Err(e) => {
                    tracing::warn!(error = %e, "pruning jobs: no database connection");
                    Ok(0)
                }
            };
            match pruned {
                // A full batch: there is more to delete; go on at once.
                Ok(n) if n as i64 == BATCH => {
                    tracing::info!(pruned = n, "finished jobs deleted");
                    continue;
                }
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "finished jobs deleted"),
                Err(e) => tracing::warn!(error = %e, "pruning finished jobs failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.changed() => break,
            }
        }
    }

    async fn lane(
        self,
        lane: Lane,
        slots: usize,
        wake: Arc<Notify>,
        mut stop: watch::Receiver<bool>,
        shutdown: CancellationToken,
    ) {
        let kinds = self.registry.names_in(lane);
        let slots = Arc::new(Semaphore::new(slots));
        let mut running = JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => p.expect("semaphore open"),
                _ = stop.changed() => break,
            };
            let claimed = match self.ctx.db.get().await {
                Ok(mut conn) => {
                    db::jobs::claim(&mut conn, &self.name, self.lease_secs, &kinds).await
                }
                Err(e) => {
                    tracing::warn!(error = %e, "runner cannot reach the database");
                    Ok(None)
                }
            };
            match claimed {
                Ok(Some(row)) => {
                    let job = Claimed::new(row, &self.name);
                    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, video = ?job.video_id.map(|v| v.0), attempt = job.attempt);
                    let (me, shutdown) = (self.clone(), shutdown.clone());
                    running.spawn(tracing::Instrument::instrument(
                        async move {
                            me.run(job, shutdown).await;
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
    }

    async fn run(&self, job: Claimed, shutdown: CancellationToken) {
        let Some(kind) = self.registry.get(&job.kind).copied() else {
            let error = JobError::Permanent(format!("unknown job kind {:?}", job.kind));
            self.record_failure(&job, error, 1).await;
            return;
        };
        let lost = CancellationToken::new();
        let heartbeat = tokio::spawn(self.clone().heartbeat(job.clone(), lost.clone()));
        let outcome = tokio::select! {
            r = (kind.run)(&self.ctx, &job) => Some(r),
            _ = lost.cancelled() => None,
            _ = shutdown.cancelled() => {
                if let Ok(mut conn) = self.ctx.db.get().await {
                    let _ = db::jobs::release(&mut conn, job.id, &self.name).await;
                }
                heartbeat.abort();
                return;
            }
        };
        heartbeat.abort();
        match outcome {
            // Finished here unless the job finished itself with its effects.
            Some(Ok(())) => match self.ctx.db.get().await {
                Ok(mut conn) => {
                    if let Err(e) = job.finish_alone(&mut conn).await {
                        tracing::error!(error = %e, "recording the job's end failed");
                    }
                }
                Err(e) => tracing::error!(error = %e, "recording the job's end failed"),
            },
            None => {
                tracing::info!(job = %job.id, "job lost its lease (video deleted?); stopped");
                (kind.cancelled)(&self.ctx, &job).await;
            }
            Some(Err(e)) => {
                let max_attempts = (kind.max_attempts)(&self.ctx.jobs);
                let (error, last) = self.record_failure(&job, e, max_attempts).await;
                (kind.failed)(&self.ctx, &job, &error, last).await;
            }
        }
    }

    /// Renews the lease every third of it; cancels `lost` when the job is gone.
    async fn heartbeat(self, job: Claimed, lost: CancellationToken) {
        let mut tick =
            tokio::time::interval(Duration::from_secs_f64(f64::from(self.lease_secs) / 3.0));
        tick.tick().await;
        loop {
            tick.tick().await;
            let kept = match self.ctx.db.get().await {
                Ok(mut conn) => {
                    db::jobs::renew(&mut conn, job.id, &self.name, self.lease_secs).await
                }
                Err(_) => continue,
            };
            if matches!(kept, Ok(false)) {
                lost.cancel();
                return;
            }
        }
    }

    /// Puts the job back in the queue after its backoff, or fails it for good; returns
    /// the error text and whether it was the last attempt.
    async fn record_failure(
        &self,
        job: &Claimed,
        e: JobError,
        max_attempts: i32,
    ) -> (String, bool) {
        let last = matches!(e, JobError::Permanent(_)) || job.attempt >= max_attempts;
        let retry = match &e {
            _ if last => None,
            JobError::RetryAfter(after, _) => Some(after.as_secs().min(i32::MAX as u64) as i32),
            // 10 s, 40 s, 90 s, …
            _ => Some(10 * job.attempt * job.attempt),
        };
        let message = e.to_string();
        tracing::warn!(job = %job.id, attempt = job.attempt, last, error = %message, "job failed");
        let recorded = match self.ctx.db.get().await {
            Ok(mut conn) => db::jobs::fail(&mut conn, job.id, &self.name, &message, retry)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "recording the failure failed");
        }
        (message, last)
    }
}
