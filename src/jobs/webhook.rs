//! The `webhook` job: POST one signed delivery to its endpoint (under `outbound`'s
//! rules: public addresses only, pinned, no redirects), record the attempt, and retry
//! with backoff until a 2xx or the retry window (`webhooks.retry_hours`) closes.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::{Job, JobContext, JobError, Lane};
use crate::config::JobsConfig;
use crate::db::{self, webhooks::DeliveryRow};
use crate::outbound;
use crate::queue::Claimed;
use crate::webhook::outbox::Deliver;
use crate::webhook::{secret_owner, signature};

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

impl Job for Deliver {
    const LANE: Lane = Lane::Deliveries;

    /// The retry window, not a count, ends a delivery.
    fn max_attempts(_: &JobsConfig) -> i32 {
        i32::MAX
    }

    async fn run(self, ctx: &JobContext, _: &Claimed) -> Result<(), JobError> {
        let mut conn = ctx.db.get().await?;
        let Some((delivery, hook)) = db::webhooks::find_delivery(&mut conn, self.delivery).await?
        else {
            return Ok(()); // the endpoint was deleted: nothing to send
        };
        drop(conn);
        let secret = ctx
            .sealing
            .open(&secret_owner(hook.app_id), &hook.secret)
            .map_err(|e| JobError::Transient(format!("webhook secret: {e}")))?;
        let outcome = post(ctx, &hook.url, &secret, &delivery).await;
        let ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let age = Utc::now() - delivery.created_at;
        let give_up = age >= chrono::Duration::hours(ctx.webhooks.retry_hours);
        let state = match (ok, give_up) {
            (true, _) => "delivered",
            (false, false) => "pending",
            (false, true) => "failed",
        };
        tracing::info!(delivery = delivery.id, event = %delivery.event, status = ?outcome.status, state, "webhook attempt");
        let error = outcome
            .error
            .clone()
            .or_else(|| (!ok).then(|| format!("answered {}", outcome.status.unwrap_or(0))));
        let took = outcome.took.as_millis().min(i32::MAX as u128) as i32;
        let mut conn = ctx.db.get().await?;
        db::webhooks::record_attempt(
            &mut conn,
            delivery.id,
            outcome.status,
            error.as_deref(),
            took,
            state,
        )
        .await?;
        drop(conn);
        let message = error.unwrap_or_default();
        match state {
            "delivered" => Ok(()),
            "pending" => {
                let retry = backoff(ctx.webhooks.retry_base_secs, delivery.attempts + 1);
                Err(JobError::RetryAfter(
                    Duration::from_secs(retry as u64),
                    message,
                ))
            }
            _ => Err(JobError::Permanent(message)),
        }
    }
}

async fn post(ctx: &JobContext, raw: &str, secret: &str, delivery: &DeliveryRow) -> Outcome {
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
    let addrs = match outbound::resolve(&host, port, ctx.webhooks.allow_private).await {
        Ok(addrs) => addrs,
        Err(e) => return fail(e.to_string()),
    };
    let client = outbound::pinned_client(&host, &addrs)
        .timeout(Duration::from_secs(ctx.webhooks.timeout_secs.max(1)))
        .user_agent(concat!("Reel-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
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
