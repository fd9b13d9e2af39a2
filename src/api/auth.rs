//! The auth layer in front of every route: gathers the signature fields or bearer token
//! from the request and asks `auth::Authenticator` who is calling.

use poem::error::ReadBodyError;
use poem::http::header;
use poem::web::RealIp;
use poem::{Endpoint, FromRequest, IntoResponse, Middleware, Request, Response, Result};

use crate::Reel;
use crate::auth::{AuthError, Caller, SignedRequest, signature};

use super::coded_response;
use crate::error::Coded;
use serde_json::json;

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
}

impl Authenticate {
    /// Requests without credentials are refused with 401.
    pub fn required(reel: Reel) -> Self {
        Self {
            reel,
            required: true,
            graphql: false,
        }
    }

    /// Requests without credentials pass (the endpoint authenticates later, e.g. a
    /// WebSocket's `connection_init`); wrong credentials are still refused.
    pub fn optional(reel: Reel) -> Self {
        Self {
            reel,
            required: false,
            graphql: false,
        }
    }

    /// Refusals also carry a GraphQL `errors` list, so GraphQL clients surface them.
    pub fn for_graphql(mut self) -> Self {
        self.graphql = true;
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
        }
    }
}

pub struct AuthenticateEndpoint<E> {
    inner: E,
    reel: Reel,
    required: bool,
    graphql: bool,
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

impl<E: Endpoint> Endpoint for AuthenticateEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        match authenticate(&self.reel, &mut req).await {
            Ok(Some(caller)) => {
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
                let ip = RealIp::from_request_without_body(&req)
                    .await
                    .ok()
                    .and_then(|ip| ip.0);
                tracing::info!(reason = %e, ?ip, path = %req.uri().path(), "authentication refused");
                return Ok(self.refuse(&e));
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// `Ok(None)` when the request carries no credentials at all.
async fn authenticate(reel: &Reel, req: &mut Request) -> Result<Option<Caller>, AuthError> {
    if let Some(token) = bearer_token(req) {
        return reel.auth.verify_token(token).await.map(Some);
    }
    let Some(signed) = signed_request(reel, req).await? else {
        return Ok(None);
    };
    reel.auth.verify_signature(&signed).await.map(Some)
}

pub fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The signature fields of `req`, reading (and putting back) the body to hash it.
async fn signed_request(
    reel: &Reel,
    req: &mut Request,
) -> Result<Option<SignedRequest>, AuthError> {
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

    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let body_hash = if signature::is_upload_content_type(content_type) {
        signature::UNSIGNED_PAYLOAD.to_string()
    } else {
        let limit = reel.auth.config().max_signed_body_bytes;
        let body = req
            .take_body()
            .into_bytes_limit(limit)
            .await
            .map_err(|e| match e {
                ReadBodyError::PayloadTooLarge => AuthError::BodyTooLarge(limit),
                other => AuthError::UnreadableBody(other.to_string()),
            })?;
        let hash = signature::body_hash(&body);
        req.set_body(body);
        hash
    };
    Ok(Some(SignedRequest {
        method: req.method().as_str().to_string(),
        path: req.original_uri().path().to_string(),
        params,
        signature: signature.unwrap_or_default(),
        body_hash,
    }))
}
