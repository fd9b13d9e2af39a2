//! Browser tokens: HS256 JWTs signed with the app's secret, so every node can verify
//! them and rotating a secret revokes its tokens.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{AuthError, Scopes};
use crate::db::models::App;
use crate::model::AppId;

const ISSUER: &str = "reel";

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Claims {
    /// The app's public key.
    pub sub: String,
    /// The app's id, so a token outlives no re-created app with the same key.
    pub app: i64,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    /// What the token allows (tokens from before scopes allow the default set).
    #[serde(default)]
    pub scopes: Scopes,
}

/// A token handed to a browser.
#[derive(Debug, Clone)]
pub struct Token {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub(super) fn issue(
    app: &App,
    secret: &str,
    scopes: Scopes,
    now: i64,
    exp: i64,
) -> Result<Token, AuthError> {
    let claims = Claims {
        sub: app.app_key.clone(),
        app: app.id.0,
        iss: ISSUER.into(),
        iat: now,
        exp,
        scopes,
    };
    let key = EncodingKey::from_secret(secret.as_bytes())
        .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
    Ok(Token {
        token,
        expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_default(),
    })
}

/// The app a token claims to be for, read before its signature can be checked.
pub(super) fn claimed_app_key(jwt: &str) -> Result<String, AuthError> {
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(jwt)
        .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
    Ok(claims.sub)
}

pub(super) fn verify(jwt: &str, secret: &str, app: AppId) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "sub", "iss"]);
    validation.leeway = 0;
    let key = DecodingKey::from_secret(secret.as_bytes())
        .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
    let data =
        jsonwebtoken::decode::<Claims>(jwt, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::ExpiredToken,
            _ => AuthError::InvalidToken(e.to_string()),
        })?;
    if data.claims.app != app.0 {
        return Err(AuthError::InvalidToken("token is for another app".into()));
    }
    Ok(data.claims)
}
