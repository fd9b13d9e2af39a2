//! `/metrics` (Prometheus text format) and the middleware that counts every request by
//! route, method and status with its latency, in a span with a request id, and logs it.

use std::time::Instant;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, handler};

use crate::Reel;
use crate::metrics::{HTTP_DURATION, HTTP_REQUESTS, handle};
use crate::model::routes;

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
        let span = tracing::info_span!("request", id = %&crate::model::random_id()[..12], method = %method, path = %path);
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

/// The metrics, for a scraper holding `metrics.token`, or anyone when the operator set
/// `metrics.open` (a loopback caller may be a local proxy serving the world).
#[handler]
pub async fn scrape(req: &Request) -> Response {
    let Some(reel) = req.data::<Reel>() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let config = &reel.config.metrics;
    let token = &config.token;
    let allowed = config.open
        || (!token.is_empty()
            && super::auth::bearer_token(req)
                .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())));
    if !allowed {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body("metrics need `Authorization: Bearer <metrics.token>` (set metrics.token, or metrics.open on a trusted network)\n");
    }
    if let Err(e) = reel.refresh_gauges().await {
        tracing::warn!(error = %e, "queue and upload gauges unavailable");
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(handle().render())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The route label of a request path: the fixed routes as they are, ids left out, so
/// label values stay few.
fn route_label(path: &str) -> &'static str {
    const FIXED: [&str; 5] = [
        routes::GRAPHQL,
        routes::GRAPHQL_WS,
        routes::GRAPHIQL,
        routes::HEALTH,
        routes::METRICS,
    ];
    // The seed API's operations, as their `#[oai(path)]` attributes in `api/rest` spell them.
    const REST: [&str; 11] = [
        "/video/upload/init",
        "/video/upload/upload",
        "/video/upload/resume",
        "/video/status",
        "/video/delete",
        "/video/transcode",
        "/video/retranscode",
        "/video/snapshot",
        "/video/mediainfo",
        "/video/playurl",
        "/video/openapi.json",
    ];
    if let Some(route) = FIXED.iter().chain(&REST).find(|r| **r == path) {
        return route;
    }
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    for prefix in [routes::TUS, routes::MEDIA, routes::PLAYGROUND] {
        if under(prefix) {
            return prefix;
        }
    }
    match path.strip_prefix(routes::REST) {
        Some(rest) if rest.starts_with("/docs") => "/video/docs",
        Some(rest) if rest.starts_with('/') => "/video/other",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::route_label;

    #[test]
    fn labels_are_few() {
        assert_eq!(route_label("/graphql"), "/graphql");
        assert_eq!(route_label("/files/abc123"), "/files");
        assert_eq!(route_label("/files/"), "/files");
        assert_eq!(route_label("/media/videos/1/2/HD/a.m4s"), "/media");
        assert_eq!(route_label("/video/playurl"), "/video/playurl");
        assert_eq!(route_label("/video/nope"), "/video/other");
        assert_eq!(route_label("/../etc/passwd"), "other");
    }
}
