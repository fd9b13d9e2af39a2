//! Sending deliveries: claims `webhook` jobs from the durable queue, POSTs each signed
//! event to its endpoint (public addresses only, pinned, no redirects), records the
//! attempt, and retries with backoff until a 2xx or the retry window closes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel_async::AsyncConnection;
use tokio::sync::{Semaphore, watch};

use super::{WebhookConfig, signature};
use crate::db::{self, DbPool, jobs::Job, webhooks::WEBHOOK};
use crate::jobs::JobSignal;
use crate::video::fetch::is_private;

#[derive(Clone)]
pub struct Dispatcher {
    db: DbPool,
    signal: JobSignal,
    config: WebhookConfig,
    name: String,
    poll: Duration,
}

/// What one POST came to.
struct Outcome {
    status: Option<i32>,
    error: Option<String>,
    took: Duration,
}

/// Delay before retry `n` (1-based): base × 1, 3, 6, 30, 90, 180, 360, … capped at 4 h.
pub fn backoff(base: i64, n: i32) -> i64 {
    const STEPS: [i64; 8] = [1, 3, 6, 30, 90, 180, 360, 720];
    let step = STEPS[(n.max(1) as usize - 1).min(STEPS.len() - 1)];
    (base.max(1) * step).min(4 * 3600)
}

impl Dispatcher {
    pub fn new(db: DbPool, signal: JobSignal, config: WebhookConfig, poll: Duration) -> Self {
        let name = crate::jobs::claimer_name("webhooks");
        Self {
            db,
            signal,
            config,
            name,
            poll,
        }
    }

    fn client(&self, host: &str, addrs: &[SocketAddr]) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(self.config.timeout_secs.max(1)))
            .resolve_to_addrs(host, addrs)
            .user_agent(concat!("Reel-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// Runs until `stop` turns true.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let wake = self.signal.listen();
            let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
            loop {
                if *stop.borrow() {
                    break;
                }
                let permit = tokio::select! {
                    p = slots.clone().acquire_owned() => p.expect("semaphore open"),
                    _ = stop.changed() => break,
                };
                let claimed = match self.db.get().await {
                    Ok(mut conn) => db::jobs::claim(&mut conn, &self.name, 60, &[WEBHOOK])
                        .await
                        .ok()
                        .flatten(),
                    Err(_) => None,
                };
                if let Some(job) = claimed {
                    let me = self.clone();
                    tokio::spawn(async move {
                        me.deliver(job).await;
                        drop(permit);
                    });
                    continue;
                }
                drop(permit);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = stop.changed() => break,
                }
            }
        })
    }

    async fn deliver(&self, job: Job) {
        if let Err(e) = self.try_deliver(&job).await {
            tracing::warn!(job = job.id, error = %e, "webhook delivery not recorded; retried after the lease");
        }
    }

    async fn try_deliver(&self, job: &Job) -> Result<(), crate::error::InfraError> {
        let id = job
            .payload
            .get("delivery")
            .and_then(|d| d.as_i64())
            .unwrap_or(0);
        let mut conn = self.db.get().await?;
        let Some((delivery, hook)) = db::webhooks::find_delivery(&mut conn, id).await? else {
            // The endpoint was deleted: nothing to send.
            db::jobs::finish(&mut conn, job.id, &self.name).await?;
            return Ok(());
        };
        drop(conn);
        let outcome = self.post(&hook.url, &hook.secret, &delivery).await;
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let age = Utc::now() - delivery.created_at;
        let give_up = age >= chrono::Duration::hours(self.config.retry_hours);
        let state = match (ok, give_up) {
            (true, _) => "delivered",
            (false, false) => "pending",
            (false, true) => "failed",
        };
        tracing::info!(delivery = id, event = %delivery.event, status = ?outcome.status, state, "webhook attempt");
        let error = outcome
            .error
            .clone()
            .or_else(|| (!ok).then(|| format!("answered {}", outcome.status.unwrap_or(0))));
        let took = outcome.took.as_millis().min(i32::MAX as u128) as i32;
        let mut conn = self.db.get().await?;
        let retry = backoff(self.config.retry_base_secs, delivery.attempts + 1);
        conn.transaction::<_, crate::error::InfraError, _>(async |conn| {
            db::webhooks::record_attempt(conn, id, outcome.status, error.as_deref(), took, state)
                .await?;
            match state {
                "delivered" => {
                    db::jobs::finish(conn, job.id, &self.name).await?;
                }
                "pending" => {
                    let msg = error.as_deref().unwrap_or("");
                    db::jobs::fail(conn, job.id, &self.name, msg, Some(retry as i32)).await?;
                }
                _ => {
                    let msg = error.as_deref().unwrap_or("");
                    db::jobs::fail(conn, job.id, &self.name, msg, None).await?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn post(&self, raw: &str, secret: &str, delivery: &db::webhooks::DeliveryRow) -> Outcome {
        let started = Instant::now();
        let fail = |e: String| Outcome {
            status: None,
            error: Some(e),
            took: started.elapsed(),
        };
        let Ok(url) = url::Url::parse(raw) else {
            return fail("invalid URL".into());
        };
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(a) => a.collect(),
            Err(e) => return fail(format!("cannot resolve {host}: {e}")),
        };
        if addrs.is_empty() {
            return fail(format!("cannot resolve {host}"));
        }
        if !self.config.allow_private
            && let Some(bad) = addrs.iter().find(|a| is_private(a.ip()))
        {
            return fail(format!(
                "{host} resolves to {}, a private address",
                bad.ip()
            ));
        }
        let client = match self.client(&host, &addrs) {
            Ok(c) => c,
            Err(e) => return fail(e.to_string()),
        };
        let body = serde_json::to_vec(&delivery.payload).unwrap_or_default();
        let t = Utc::now().timestamp();
        let sent = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Reel-Signature", signature(secret, t, &body))
            .header("Reel-Event-Id", &delivery.event_id)
            .header("Reel-Event", &delivery.event)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(resp) => Outcome {
                status: Some(i32::from(resp.status().as_u16())),
                error: None,
                took: started.elapsed(),
            },
            Err(e) => fail(if e.is_timeout() {
                "timed out".into()
            } else {
                e.to_string()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_and_caps() {
        let got: Vec<i64> = (1..=10).map(|n| backoff(10, n)).collect();
        assert_eq!(got, [10, 30, 60, 300, 900, 1800, 3600, 7200, 7200, 7200]);
        assert_eq!(backoff(100, 9), 4 * 3600);
    }
}
