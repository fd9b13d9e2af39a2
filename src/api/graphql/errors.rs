//! Mapping domain errors to GraphQL errors with `extensions.code`, and context access.

use async_graphql::{Context, Error, ErrorExtensions, ID};

use crate::Reel;
use crate::auth::{Caller, Scope};
use crate::error::{Coded, ErrorCode};
use crate::model::VideoId;

pub fn coded(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, ext| ext.set("code", code.as_str()))
}

/// The one conversion of a domain error; internal details are logged, not sent.
pub fn gql<E: Coded>(e: E) -> Error {
    coded_error(&e)
}

fn coded_error<E: Coded>(e: &E) -> Error {
    if e.code() == ErrorCode::Internal {
        tracing::error!(error = %e, "graphql request failed");
    }
    entry(e)
}

/// The error as GraphQL shows it: message, `extensions.code` and, when waiting helps,
/// `extensions.retryAfter`.
fn entry<E: Coded>(e: &E) -> Error {
    let error = coded(e.code(), e.public_message());
    match e.retry_after() {
        Some(after) => error.extend_with(|_, ext| {
            ext.set("retryAfter", crate::api::retry_after_secs(after));
        }),
        None => error,
    }
}

/// A domain error as one entry of a response's `errors` (for refusals made before
/// GraphQL runs, which log it themselves).
pub fn error_entry<E: Coded>(e: &E) -> serde_json::Value {
    let Error {
        message,
        extensions,
        ..
    } = entry(e);
    serde_json::json!({ "message": message, "extensions": extensions })
}

pub fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Caller, Error> {
    ctx.data::<Caller>()
        .map_err(|_| coded(ErrorCode::Unauthenticated, "authentication required"))
}

/// The caller, when it may do what `scope` allows (`FORBIDDEN` otherwise).
pub fn allowed<'a>(ctx: &Context<'a>, scope: Scope) -> Result<&'a Caller, Error> {
    caller(ctx)?.may(scope).map_err(gql)
}

pub fn reel<'a>(ctx: &Context<'a>) -> &'a Reel {
    ctx.data_unchecked::<Reel>()
}

pub fn video_id(id: &ID) -> Result<VideoId, Error> {
    id.parse::<VideoId>()
        .ok()
        .filter(|v| v.0 > 0)
        .ok_or_else(|| {
            coded(
                ErrorCode::BadRequest,
                format!("{:?} is not a video id", id.as_str()),
            )
        })
}
