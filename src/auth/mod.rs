//! Who is calling: API signatures (server to server) and JWT bearer tokens (browsers),
//! both resolved to the one app the request acts for (docs/api.md, "Authentication").

mod scopes;
pub mod signature;
mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::apps::{AppService, Secrets};
use crate::config::AuthConfig;
use crate::db::{self, DbPool, models::App};
use crate::error::{Coded, ErrorCode, InfraError};
use crate::kv::Kv;
use crate::model::AppId;

pub use scopes::{Scope, Scopes};
pub use token::Token;

/// The authenticated app a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub app_id: AppId,
    pub app_key: String,
    pub method: AuthMethod,
    /// What it may do: everything when signed, its token's scopes otherwise.
    pub scopes: Scopes,
}

impl Caller {
    /// The caller, if it may do what `scope` allows.
    pub fn may(&self, scope: Scope) -> Result<&Self, AuthError> {
        if self.scopes.contains(scope) {
            Ok(self)
        } else {
            Err(AuthError::Forbidden(scope))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Signature,
    /// A bearer token valid until this unix time.
    Token {
        expires_at: i64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "authentication required: sign the request (app_key, timestamp, random, signature) or send Authorization: Bearer <token>"
    )]
    Missing,
    #[error("missing signature parameter `{0}`")]
    MissingParam(&'static str),
    #[error("signature parameter `{0}` is given twice")]
    DuplicateParam(&'static str),
    #[error("unknown app_key")]
    UnknownAppKey,
    #[error("the app's secret cannot be read: {0}")]
    Sealed(#[from] crate::sealing::SealError),
    #[error("timestamp is not a unix time in seconds")]
    BadTimestamp,
    #[error("timestamp is {skew} s away from the server's clock (limit ±{limit} s)")]
    StaleTimestamp { skew: i64, limit: i64 },
    #[error("random must be 1 to 128 characters")]
    BadNonce,
    #[error("signature does not match the request")]
    BadSignature,
    #[error("random was already used; send a fresh one with every request")]
    ReplayedNonce,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("token expired")]
    ExpiredToken,
    #[error("this needs the {0} scope, which the token lacks")]
    Forbidden(Scope),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl Coded for AuthError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Infra(e) => e.code(),
            Self::Sealed(_) => ErrorCode::Internal,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            _ => ErrorCode::Unauthenticated,
        }
    }
}

/// The signature fields of one request, gathered by an adapter from query or headers.
#[derive(Debug, Clone, Default)]
pub struct SignedRequest {
    pub method: String,
    /// The path as it appears in the request line, without the query.
    pub path: String,
    /// Every signed `(name, value)`: the query without `signature`, plus header-borne fields.
    pub params: Vec<(String, String)>,
    pub signature: String,
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    pub body_hash: String,
}

impl SignedRequest {
    fn param(&self, name: &'static str) -> Result<&str, AuthError> {
        let mut values = self.params.iter().filter(|(k, _)| k == name);
        let first = values.next().ok_or(AuthError::MissingParam(name))?;
        if values.next().is_some() {
            return Err(AuthError::DuplicateParam(name));
        }
        Ok(&first.1)
    }
}

/// How long an unknown app key is remembered as unknown: a flood of bogus keys costs one
/// database lookup per key and window, not one per request.
const UNKNOWN_KEY_TTL: Duration = Duration::from_secs(10);
/// Unknown keys remembered at most (the memory a flood of distinct keys can take).
const UNKNOWN_KEYS_MAX: usize = 10_000;

#[derive(Clone)]
pub struct Authenticator {
    db: DbPool,
    apps: AppService,
    kv: Kv,
    cfg: AuthConfig,
    unknown_keys: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Authenticator {
    pub fn new(db: DbPool, apps: AppService, kv: Kv, cfg: AuthConfig) -> Self {
        Self {
            db,
            apps,
            kv,
            cfg,
            unknown_keys: Arc::default(),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.cfg
    }

    /// Checks what a signed request's headers and query say, before its body is read:
    /// the fields are there and well formed, the clock is close, the app exists.
    pub async fn check_signed(&self, req: &SignedRequest) -> Result<App, AuthError> {
        let app_key = req.param("app_key")?;
        let timestamp = req.param("timestamp")?;
        let random = req.param("random")?;
        if req.signature.is_empty() {
            return Err(AuthError::MissingParam("signature"));
        }
        let timestamp: i64 = timestamp.parse().map_err(|_| AuthError::BadTimestamp)?;
        // Saturating: a timestamp near i64::MIN must not wrap into a small skew.
        let skew = timestamp.saturating_sub(Utc::now().timestamp());
        if skew.unsigned_abs() > self.cfg.timestamp_skew_secs.unsigned_abs() {
            return Err(AuthError::StaleTimestamp {
                skew,
                limit: self.cfg.timestamp_skew_secs,
            });
        }
        if random.is_empty() || random.len() > 128 {
            return Err(AuthError::BadNonce);
        }
        self.app_by_key(app_key).await
    }

    /// Checks the signature of a request whose body hash is known, then its nonce (so a
    /// forged request cannot burn someone's nonce).
    pub async fn verify_signed(&self, app: App, req: &SignedRequest) -> Result<Caller, AuthError> {
        let canonical =
            signature::canonical_string(&req.method, &req.path, &req.params, &req.body_hash);
        let secrets = self.secrets(&app)?;
        if !secrets
            .iter()
            .any(|secret| signature::verify(secret, &canonical, &req.signature))
        {
            return Err(AuthError::BadSignature);
        }
        let random = req.param("random")?;
        let nonce_key = self.kv.key(&format!("nonce:{}:{}", app.id, random));
        let mut conn = self.kv.conn();
        let fresh: bool = redis::cmd("SET")
            .arg(&nonce_key)
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(self.cfg.nonce_ttl_secs)
            .query_async::<Option<String>>(&mut conn)
            .await
            .map_err(InfraError::from)?
            .is_some();
        if !fresh {
            return Err(AuthError::ReplayedNonce);
        }
        Ok(Caller {
            app_id: app.id,
            app_key: app.app_key,
            method: AuthMethod::Signature,
            scopes: Scopes::ALL,
        })
    }

    /// Checks a signed request whole: `check_signed`, then `verify_signed`.
    pub async fn verify_signature(&self, req: &SignedRequest) -> Result<Caller, AuthError> {
        let app = self.check_signed(req).await?;
        self.verify_signed(app, req).await
    }

    /// Checks a bearer token from `createToken`.
    pub async fn verify_token(&self, jwt: &str) -> Result<Caller, AuthError> {
        let claimed_key = token::claimed_app_key(jwt)?;
        let app = self.app_by_key(&claimed_key).await.map_err(|e| match e {
            AuthError::UnknownAppKey => AuthError::InvalidToken("unknown app".into()),
            other => other,
        })?;
        // The current secret first; during a rotation's grace the previous one too.
        let secrets = self.secrets(&app)?;
        let mut verified = token::verify(jwt, &secrets.current, app.id);
        if let (Err(AuthError::InvalidToken(_)), Some(previous)) = (&verified, &secrets.previous) {
            verified = token::verify(jwt, previous, app.id);
        }
        let claims = verified?;
        Ok(Caller {
            app_id: app.id,
            app_key: app.app_key,
            method: AuthMethod::Token {
                expires_at: claims.exp,
            },
            scopes: claims.scopes,
        })
    }

    /// Issues a token for `caller`'s app with `scopes` (every scope but `MANAGE` when
    /// none are named). A token-authenticated caller cannot give more than it has, nor
    /// a token outliving its own.
    pub async fn issue_token(
        &self,
        caller: &Caller,
        ttl_secs: Option<i64>,
        scopes: Option<Scopes>,
    ) -> Result<Token, AuthError> {
        let scopes = scopes.unwrap_or(Scopes::DEFAULT);
        if let Some(missing) = scopes.iter().find(|s| !caller.scopes.contains(*s)) {
            return Err(AuthError::Forbidden(missing));
        }
        let ttl = ttl_secs
            .unwrap_or(self.cfg.default_token_ttl_secs)
            .clamp(1, self.cfg.max_token_ttl_secs);
        let now = Utc::now().timestamp();
        let mut expires_at = now + ttl;
        if let AuthMethod::Token { expires_at: limit } = caller.method {
            expires_at = expires_at.min(limit);
        }
        let app = self.app_by_key(&caller.app_key).await?;
        token::issue(&app, &self.secrets(&app)?.current, scopes, now, expires_at)
    }

    /// A browser token for `app` (the playground's sign-in link), `ttl_secs` long.
    pub fn token_for(&self, app: &App, ttl_secs: i64, scopes: Scopes) -> Result<Token, AuthError> {
        let now = Utc::now().timestamp();
        let ttl = ttl_secs.clamp(1, self.cfg.max_token_ttl_secs);
        token::issue(app, &self.secrets(app)?.current, scopes, now, now + ttl)
    }

    fn secrets(&self, app: &App) -> Result<Secrets, AuthError> {
        Ok(self.apps.secrets(app, Utc::now())?)
    }

    async fn app_by_key(&self, key: &str) -> Result<App, AuthError> {
        if self.known_unknown(key) {
            return Err(AuthError::UnknownAppKey);
        }
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let app = db::apps::find_by_key(&mut conn, key)
            .await
            .map_err(InfraError::from)?;
        match app {
            Some(app) => Ok(app),
            None => {
                self.remember_unknown(key);
                Err(AuthError::UnknownAppKey)
            }
        }
    }

    fn known_unknown(&self, key: &str) -> bool {
        let keys = self.unknown_keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.get(key)
            .is_some_and(|at| at.elapsed() < UNKNOWN_KEY_TTL)
    }

    fn remember_unknown(&self, key: &str) {
        let mut keys = self.unknown_keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= UNKNOWN_KEYS_MAX {
            keys.retain(|_, at| at.elapsed() < UNKNOWN_KEY_TTL);
            if keys.len() >= UNKNOWN_KEYS_MAX {
                keys.clear();
            }
        }
        keys.insert(key.to_string(), Instant::now());
    }
}

/// A fresh `random` for a signed request (used by the CLI client and tests).
pub fn new_nonce() -> String {
    crate::model::random_id()
}
