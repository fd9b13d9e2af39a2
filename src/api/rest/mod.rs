//! The seed's REST API under `/video/` (docs/api.md), as thin poem-openapi adapters.
//! Every response carries a stable `code` and a `message`.

mod derived;
mod play;
mod texttrack;
mod upload;
mod video;

use poem::{EndpointExt, Route};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApiService};

use super::auth::Authenticate;
use crate::Reel;
use crate::auth::{Caller, Scope};
use crate::error::{Coded, ErrorCode};

/// The body of every error.
#[derive(Object, Debug)]
pub struct ErrorBody {
    /// Stable machine-readable code (`NOT_FOUND`, `BAD_REQUEST`, `EXPIRED`, …).
    pub code: String,
    pub message: String,
}

#[derive(ApiResponse, Debug)]
pub enum ErrorReply {
    /// Bad parameters or body.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing or wrong credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The credentials do not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// Unknown upload or video (or another app's).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request body did not arrive in time.
    #[oai(status = 408)]
    Timeout(Json<ErrorBody>),
    /// The request conflicts with the current state (offset, part bytes, status).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The upload expired.
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// Larger than allowed.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// The upload failed verification (md5, size).
    #[oai(status = 422)]
    Failed(Json<ErrorBody>),
    /// Another request holds the upload.
    #[oai(status = 423)]
    Locked(Json<ErrorBody>),
    /// One of the app's limits refuses (`RATE_LIMITED`): requests per second, open
    /// uploads or stored bytes. `Retry-After` says when to try again, unless waiting
    /// cannot help (storage).
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] Option<u64>),
    /// A dependency is down or saturated.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

impl ErrorReply {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let body = Json(ErrorBody {
            code: code.as_str().to_string(),
            message: message.into(),
        });
        // The variant of the code's one HTTP status (`ErrorCode::http_status`).
        match code.http_status() {
            400 => Self::BadRequest(body),
            401 => Self::Unauthorized(body),
            403 => Self::Forbidden(body),
            404 => Self::NotFound(body),
            408 => Self::Timeout(body),
            409 => Self::Conflict(body),
            410 => Self::Gone(body),
            413 => Self::TooLarge(body),
            422 => Self::Failed(body),
            423 => Self::Locked(body),
            429 => Self::TooManyRequests(body, None),
            503 => Self::Unavailable(body),
            // 500, and statuses no route of this API produces (tus's 460).
            _ => Self::Internal(body),
        }
    }

    /// The one mapping of domain errors.
    pub fn from_coded<E: Coded>(e: E) -> Self {
        if e.code() == ErrorCode::Internal {
            tracing::error!(error = %e, "rest request failed");
        }
        match Self::new(e.code(), e.public_message()) {
            Self::TooManyRequests(body, _) => {
                Self::TooManyRequests(body, e.retry_after().map(super::retry_after_secs))
            }
            reply => reply,
        }
    }
}

pub type Reply<T> = Result<Json<T>, ErrorReply>;

/// Refuses a caller whose token lacks `scope` (`FORBIDDEN`).
fn may(caller: &Caller, scope: Scope) -> Result<(), ErrorReply> {
    caller
        .may(scope)
        .map(|_| ())
        .map_err(ErrorReply::from_coded)
}

const OK: &str = "OK";

/// `/video/...`: the API (authenticated), its OpenAPI document and Swagger UI (public).
pub fn routes(reel: Reel) -> Route {
    let api = OpenApiService::new((upload::UploadApi, video::VideoApi, play::PlayApi, texttrack::TextTrackApi, derived::DerivedApi), "Reel seed API", env!("CARGO_PKG_VERSION"))
        .server(format!("{}/video", reel.config.public_base()))
        .description("The seed's REST API. Sign every request (see the README) or send `Authorization: Bearer <token>`.");
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest(
            "/",
            api.with(Authenticate::required(reel))
                .catch_all_error(|e| async move { framework_error(e) }),
        )
}

/// Errors raised before our handlers run (bad parameter types, unknown paths, wrong
/// methods) in the same `{code, message}` shape.
fn framework_error(e: poem::Error) -> poem::Response {
    if e.is_from_response() {
        // Our own ErrorReply, already in shape.
        return e.into_response();
    }
    let status = e.status();
    let code = match status.as_u16() {
        401 => ErrorCode::Unauthenticated,
        404 => ErrorCode::NotFound,
        413 => ErrorCode::PayloadTooLarge,
        s if s >= 500 => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    let mut resp = super::error_response(code, e.to_string());
    // Only the statuses the OpenAPI document lists (a missing Content-Type is a 400,
    // not poem's 415).
    resp.set_status(if code == ErrorCode::BadRequest {
        super::status_of(code)
    } else {
        status
    });
    resp
}
