//! `/healthz`: 200 only when Postgres and Redis both answer; the body says which failed.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use crate::Reel;

#[handler]
pub async fn healthz(reel: Data<&Reel>) -> Response {
    let (postgres, redis) = reel.health().await;
    let status = if postgres.is_ok() && redis.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let describe = |r: &Result<(), String>| match r {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "error": e }),
    };
    let body = json!({
        "ok": status == StatusCode::OK,
        "postgres": describe(&postgres),
        "redis": describe(&redis),
    });
    Json(body).with_status(status).into_response()
}
