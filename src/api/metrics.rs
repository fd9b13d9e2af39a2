//! `/metrics` (Prometheus text format) and the middleware that counts every request by
//! route, method and status with its latency, in a span with a request id, and logs it.

use std::time::Instant;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, handler};

use crate::Reel;
use crate::metrics::{HTTP_DURATION, HTTP_REQUESTS, JOBS, UPLOADS_ACTIVE, handle, route_label};

/// Counts requests; wraps the whole route table.
pub struct Measure;

impl<E: Endpoint> Middleware<E> for Measure {
    type Output = MeasureEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        MeasureEndpoint(ep)
    }
}

pub struct MeasureEndpoint<E>(E);

impl<E: Endpoint> Endpoint for MeasureEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let route = route_label(req.uri().path());
        let method = req.method().as_str().to_string();
        // The path only: queries carry signatures and tokens.
        let path = req.uri().path().to_string();
        let started = Instant::now();
        let span = tracing::info_span!("request", id = %&crate::auth::new_nonce()[..12], method = %method, path = %path);
        let response = tracing::Instrument::instrument(self.0.call(req), span.clone())
            .await
            .map(IntoResponse::into_response);
        let status = match &response {
            Ok(r) => r.status(),
            Err(e) => e.status(),
        };
        let labels = [
            ("route", route.to_string()),
            ("method", method),
            ("status", status.as_u16().to_string()),
        ];
        ::metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
        let elapsed = started.elapsed();
        ::metrics::histogram!(HTTP_DURATION, "route" => route).record(elapsed.as_secs_f64());
        // One access-log line per request, inside its span.
        span.in_scope(|| {
            tracing::info!(
                target: "reel::http",
                status = status.as_u16(),
                ms = elapsed.as_secs_f64() * 1000.0,
                "request"
            )
        });
        response
    }
}

/// The metrics, for a scraper holding `metrics.token` (or from loopback when none is set).
#[handler]
pub async fn scrape(req: &Request) -> Response {
    let Some(reel) = req.data::<Reel>() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let token = &reel.config.metrics.token;
    let allowed = if token.is_empty() {
        req.remote_addr()
            .as_socket_addr()
            .is_some_and(|a| a.ip().is_loopback())
    } else {
        req.headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes()))
    };
    if !allowed {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body("metrics need `Authorization: Bearer <metrics.token>` (or a loopback client when no token is set)\n");
    }
    if let Err(e) = refresh_shared_gauges(reel).await {
        tracing::warn!(error = %e, "queue and upload gauges unavailable");
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(handle().render())
}

/// What every node shares (the queue, uploads in progress) is read at scrape time
/// rather than counted per node.
async fn refresh_shared_gauges(reel: &Reel) -> Result<(), crate::error::InfraError> {
    let mut conn = reel.db.get().await?;
    for (kind, state, n) in crate::db::jobs::counts(&mut conn).await? {
        ::metrics::gauge!(JOBS, "kind" => kind, "state" => state).set(n as f64);
    }
    let uploading = crate::db::jobs::uploading(&mut conn).await?;
    ::metrics::gauge!(UPLOADS_ACTIVE).set(uploading as f64);
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
