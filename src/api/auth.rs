//! The auth layer in front of every route. It decides on the headers alone (signature
//! fields or bearer token, app, clock) before reading any body, so a caller without valid
//! credentials costs no more than its headers; then reads the body within
//! `server.max_body_bytes` and `server.body_timeout_secs` (upload data is streamed
//! instead, and may pause at most `server.upload_idle_timeout_secs`), checks the
//! signature over it, and counts the request against the app's rate limit.

use std::time::Duration;

use poem::error::ReadBodyError;
use poem::http::{Method, header};
use poem::web::RealIp;
use poem::{Body, Endpoint, FromRequest, IntoResponse, Middleware, Request, Response, Result};
use serde_json::json;

use super::body::{BodyError, idle_timeout};
use super::coded_response;
use crate::Reel;
use crate::auth::{AuthError, Caller, Scope, SignedRequest, signature};
use crate::error::{Coded, ErrorCode};
use crate::model::routes;

const HEADER_FIELDS: [(&str, &str); 3] = [
    ("x-reel-app-key", "app_key"),
    ("x-reel-timestamp", "timestamp"),
    ("x-reel-random", "random"),
];

/// Middleware that puts the `Caller` into the request's extensions, after counting the
/// request against the app's rate limit.
pub struct Authenticate {
    reel: Reel,
    required: bool,
    graphql: bool,
    scope: Option<Scope>,
}

impl Authenticate {
    /// Requests without credentials are refused with 401.
    pub fn required(reel: Reel) -> Self {
        Self {
            reel,
            required: true,
            graphql: false,
            scope: None,
        }
    }

    /// Requests without credentials pass (the endpoint authenticates later, e.g. a
    /// WebSocket's `connection_init`); wrong credentials are still refused.
    pub fn optional(reel: Reel) -> Self {
        Self {
            reel,
            required: false,
            graphql: false,
            scope: None,
        }
    }

    /// Refusals also carry a GraphQL `errors` list, so GraphQL clients surface them.
    pub fn for_graphql(mut self) -> Self {
        self.graphql = true;
        self
    }

    /// Every route behind it needs `scope` (tokens without it get 403).
    pub fn needs(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }
}

impl<E: Endpoint> Middleware<E> for Authenticate {
    type Output = AuthenticateEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AuthenticateEndpoint {
            inner,
            reel: self.reel.clone(),
            required: self.required,
            graphql: self.graphql,
            scope: self.scope,
        }
    }
}

pub struct AuthenticateEndpoint<E> {
    inner: E,
    reel: Reel,
    required: bool,
    graphql: bool,
    scope: Option<Scope>,
}

impl<E> AuthenticateEndpoint<E> {
    fn refuse<C: Coded>(&self, e: &C) -> Response {
        let resp = coded_response(e);
        if !self.graphql {
            return resp;
        }
        let (parts, _) = resp.into_parts();
        let body = json!({
            "code": e.code().as_str(),
            "message": e.public_message(),
            "errors": [super::graphql::errors::error_entry(e)],
        });
        Response::from_parts(parts, body.to_string().into())
    }
}

/// Why a request was refused before its endpoint ran.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Body(#[from] BodyError),
}

impl Coded for Refusal {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Auth(e) => e.code(),
            Self::Body(e) => e.code(),
        }
    }
}

impl<E: Endpoint> Endpoint for AuthenticateEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        match authenticate(&self.reel, &mut req).await {
            Ok(Some(caller)) => {
                if let Some(Err(e)) = self.scope.map(|s| caller.may(s)) {
                    return Ok(self.refuse(&e));
                }
                if let Err(e) = self
                    .reel
                    .limits
                    .check_request(caller.app_id, &caller.app_key)
                    .await
                {
                    return Ok(self.refuse(&e));
                }
                req.extensions_mut().insert(caller);
            }
            Ok(None) if !self.required => {}
            Ok(None) => return Ok(self.refuse(&AuthError::Missing)),
            Err(e) => {
                if let Refusal::Auth(reason) = &e {
                    log_refusal(&req, reason).await;
                }
                return Ok(self.refuse(&e));
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// Logs a refusal, at most `REFUSALS_PER_SECOND` a second: a flood of bad credentials
/// must not turn into a flood of log lines (the rest are counted).
async fn log_refusal(req: &Request, reason: &AuthError) {
    const REFUSALS_PER_SECOND: u64 = 10;
    static WINDOW: std::sync::Mutex<(i64, u64)> = std::sync::Mutex::new((0, 0));
    let logged = {
        let second = chrono::Utc::now().timestamp();
        let mut window = WINDOW.lock().unwrap_or_else(|e| e.into_inner());
        if window.0 != second {
            if let Some(skipped) = window.1.checked_sub(REFUSALS_PER_SECOND).filter(|n| *n > 0) {
                tracing::info!(skipped, "authentication refusals not logged");
            }
            *window = (second, 0);
        }
        window.1 += 1;
        window.1 <= REFUSALS_PER_SECOND
    };
    if logged {
        let ip = RealIp::from_request_without_body(req)
            .await
            .ok()
            .and_then(|ip| ip.0);
        tracing::info!(reason = %reason, ?ip, path = %req.uri().path(), "authentication refused");
    }
}

/// `Ok(None)` when the request carries no credentials at all. The body is read (or
/// wrapped, for upload data) only once the headers' credentials hold.
async fn authenticate(reel: &Reel, req: &mut Request) -> Result<Option<Caller>, Refusal> {
    let upload_data = is_upload_data(req);
    if let Some(token) = bearer_token(req) {
        let caller = reel.auth.verify_token(token).await?;
        take_body(reel, req, upload_data).await?;
        return Ok(Some(caller));
    }
    let Some(mut signed) = signed_request(req)? else {
        return Ok(None);
    };
    let app = reel.auth.check_signed(&signed).await?;
    signed.body_hash = match take_body(reel, req, upload_data).await? {
        Some(body) => signature::body_hash(&body),
        None => signature::UNSIGNED_PAYLOAD.to_string(),
    };
    Ok(Some(reel.auth.verify_signed(app, &signed).await?))
}

/// Whether the request carries upload data: a tus creation or PATCH, or a seed-API part,
/// with an upload content type. Its body is streamed to storage, never read whole nor
/// hashed for a signature (`UNSIGNED-PAYLOAD`).
fn is_upload_data(req: &Request) -> bool {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !signature::is_upload_content_type(content_type) {
        return false;
    }
    let path = req.original_uri().path();
    let tus = path
        .strip_prefix(routes::TUS)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    let part = path
        .strip_prefix(routes::REST)
        .is_some_and(|rest| rest == "/upload/upload");
    match *req.method() {
        Method::POST | Method::PATCH if tus => true,
        Method::PUT | Method::POST if part => true,
        _ => false,
    }
}

/// Reads a body whole, within the size and time limits, and puts it back; upload data is
/// left as a stream that fails when it stalls. Returns what was read.
async fn take_body(
    reel: &Reel,
    req: &mut Request,
    upload_data: bool,
) -> Result<Option<bytes::Bytes>, BodyError> {
    let limits = &reel.config.server;
    if upload_data {
        let idle = Duration::from_secs(limits.upload_idle_timeout_secs.max(1));
        let stream = idle_timeout(req.take_body().into_bytes_stream(), idle);
        req.set_body(Body::from_bytes_stream(stream));
        return Ok(None);
    }
    let limit = limits.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let deadline = Duration::from_secs(limits.body_timeout_secs.max(1));
    let read = req.take_body().into_bytes_limit(limit);
    let body = match tokio::time::timeout(deadline, read).await {
        Err(_) => return Err(BodyError::TooSlow(deadline)),
        Ok(Err(ReadBodyError::PayloadTooLarge)) => return Err(BodyError::TooLarge(limit)),
        Ok(Err(e)) => return Err(BodyError::Unreadable(e.to_string())),
        Ok(Ok(body)) => body,
    };
    req.set_body(body.clone());
    Ok(Some(body))
}

pub fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The signature fields of `req`, from its query and headers (its body hash is filled
/// in once the credentials hold); `None` when it has none.
fn signed_request(req: &Request) -> Result<Option<SignedRequest>, AuthError> {
    let query = req.original_uri().query().unwrap_or("");
    let mut params: Vec<(String, String)> = Vec::new();
    let mut signature = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k == "signature" {
            if signature.replace(v.into_owned()).is_some() {
                return Err(AuthError::DuplicateParam("signature"));
            }
        } else {
            params.push((k.into_owned(), v.into_owned()));
        }
    }
    for (header_name, field) in HEADER_FIELDS {
        if let Some(value) = req.headers().get(header_name) {
            let value = value.to_str().map_err(|_| AuthError::BadSignature)?;
            params.push((field.to_string(), value.to_string()));
        }
    }
    if let Some(value) = req.headers().get("x-reel-signature") {
        let value = value.to_str().map_err(|_| AuthError::BadSignature)?;
        if signature.replace(value.to_string()).is_some() {
            return Err(AuthError::DuplicateParam("signature"));
        }
    }
    let has_app_key = params.iter().any(|(k, _)| k == "app_key");
    if signature.is_none() && !has_app_key {
        return Ok(None);
    }
    Ok(Some(SignedRequest {
        method: req.method().as_str().to_string(),
        path: req.original_uri().path().to_string(),
        params,
        signature: signature.unwrap_or_default(),
        body_hash: String::new(),
    }))
}
