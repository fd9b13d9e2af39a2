//! HTTP adapters: route table, the auth layer every route shares, and the server loop.

pub mod auth;
mod body;
pub mod graphql;
mod health;
mod metrics;
mod origin;
mod playground;
mod rest;
mod server;
pub mod tus;

use std::future::Future;
use std::time::Duration;

use poem::http::{StatusCode, header};
use poem::middleware::Cors;
use poem::{EndpointExt, IntoEndpoint, Response, Route, get};
use serde_json::json;
use tokio::net::TcpListener;

use crate::Reel;
use crate::error::{Coded, ErrorCode};
use crate::model::routes;

use self::auth::Authenticate;

/// The whole HTTP surface of `reel serve`.
pub fn routes(reel: Reel) -> impl poem::Endpoint<Output = Response> {
    // Installed before the first request so nothing recorded is lost.
    crate::metrics::handle();
    let schema = graphql::build(reel.clone());
    Route::new()
        .at(
            routes::GRAPHQL,
            get(graphql::http)
                .post(graphql::http)
                .with(Authenticate::required(reel.clone()).for_graphql()),
        )
        // Browsers cannot set headers on a WebSocket: the token may come in `connection_init`.
        .at(
            routes::GRAPHQL_WS,
            get(graphql::websocket).with(Authenticate::optional(reel.clone()).for_graphql()),
        )
        // Static pages holding no data; their requests to /graphql are authenticated.
        .nest(
            routes::GRAPHIQL,
            playground::graphiql(&reel.config.playground),
        )
        .at(routes::HEALTH, get(health::healthz))
        // Token (or loopback) protected; see `metrics.token`.
        .at(routes::METRICS, get(metrics::scrape))
        // Authenticated by the signed token in each URL, not by app credentials.
        .nest(routes::MEDIA, origin::routes())
        .nest(
            routes::PLAYGROUND,
            playground::endpoint(&reel.config.playground),
        )
        .nest(routes::TUS, tus::routes(reel.clone()))
        .nest(routes::REST, rest::routes(reel.clone()))
        .data(schema)
        .data(graphql::Renderers::default())
        .data(reel)
        // Outside auth, so browsers' preflight requests are answered.
        .with(
            Cors::new()
                .expose_headers(tus::EXPOSED_HEADERS)
                .max_age(86400),
        )
        .with(metrics::Measure)
        .into_endpoint()
        .map_to_response()
}

/// What a standalone `reel worker` serves (`--metrics-listen`): its own metrics (transcode
/// durations are recorded where ffmpeg runs) and its health.
pub fn worker_routes(reel: Reel) -> impl poem::Endpoint<Output = Response> {
    crate::metrics::handle();
    Route::new()
        .at(routes::HEALTH, get(health::healthz))
        .at(routes::METRICS, get(metrics::scrape))
        .data(reel)
        .into_endpoint()
        .map_to_response()
}

pub use server::bind;

/// Serves the whole HTTP surface until `shutdown` resolves, then lets requests in flight
/// finish (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    reel: Reel,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let config = reel.config.server.clone();
    server::serve(listener, routes(reel), &config, shutdown).await
}

/// `serve` for any route table (the worker's).
pub async fn serve_endpoint(
    listener: TcpListener,
    endpoint: impl poem::Endpoint<Output = Response> + 'static,
    config: &crate::config::ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    server::serve(listener, endpoint, config, shutdown).await
}

/// The HTTP status of an error code (`ErrorCode::http_status` is the one mapping).
pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A JSON error body `{code, message}` with the code's HTTP status.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> Response {
    Response::builder()
        .status(status_of(code))
        .content_type("application/json")
        .body(json!({ "code": code.as_str(), "message": message.into() }).to_string())
}

/// The response for a domain error; internal details are logged, not sent.
pub fn coded_response<E: Coded>(e: &E) -> Response {
    finish_refusal(error_response(e.code(), e.public_message()), e)
}

/// What every refusal gets, whatever its body's shape: internal details logged (never
/// sent) and `Retry-After` when the refusal passes with time.
pub fn finish_refusal<E: Coded>(mut resp: Response, e: &E) -> Response {
    if e.code() == ErrorCode::Internal {
        tracing::error!(error = %e, "request failed");
    }
    set_retry_after(&mut resp, e);
    resp
}

fn set_retry_after<E: Coded>(resp: &mut Response, e: &E) {
    if let Some(after) = e.retry_after() {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, retry_after_secs(after).into());
    }
}

/// `Retry-After` in whole seconds, rounded up so a client waiting that long gets through.
pub fn retry_after_secs(after: Duration) -> u64 {
    after.as_millis().div_ceil(1000).max(1) as u64
}

/// Resolves on SIGINT or SIGTERM: when `serve` (and a worker) should stop.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}
