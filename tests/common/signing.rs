//! Client side of the API signature for tests (the README's Python recipe is tested separately).

use reel::auth::signature::{UNSIGNED_PAYLOAD, body_hash, canonical_string, rfc3986, sign};
use reel::model::AppId;

#[derive(Debug, Clone)]
pub struct Credentials {
    pub app_id: AppId,
    pub key: String,
    pub secret: String,
}

/// The fields of a signature, each overridable to build a bad request.
#[derive(Debug, Clone)]
pub struct Signature {
    pub app_key: String,
    pub timestamp: i64,
    pub random: String,
    pub secret: String,
}

impl Signature {
    pub fn new(creds: &Credentials) -> Self {
        Self {
            app_key: creds.key.clone(),
            timestamp: chrono::Utc::now().timestamp(),
            random: reel::auth::new_nonce(),
            secret: creds.secret.clone(),
        }
    }

    fn fields(&self) -> Vec<(String, String)> {
        vec![
            ("app_key".into(), self.app_key.clone()),
            ("timestamp".into(), self.timestamp.to_string()),
            ("random".into(), self.random.clone()),
        ]
    }

    /// `signature` over the request with these fields in the query.
    pub fn sign(&self, method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> String {
        self.sign_hashed(method, path, extra, &body_hash(body))
    }

    /// `signature` of upload data, whose body is signed as `UNSIGNED-PAYLOAD`.
    pub fn sign_upload(&self, method: &str, path: &str, extra: &[(&str, &str)]) -> String {
        self.sign_hashed(method, path, extra, UNSIGNED_PAYLOAD)
    }

    fn sign_hashed(&self, method: &str, path: &str, extra: &[(&str, &str)], hash: &str) -> String {
        let mut params = self.fields();
        params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        sign(&self.secret, &canonical_string(method, path, &params, hash))
    }

    /// The query string carrying `extra`, the fields and `signature`.
    pub fn query(&self, signature: &str, extra: &[(&str, &str)]) -> String {
        let mut params = self.fields();
        params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        params.push(("signature".into(), signature.to_string()));
        params
            .iter()
            .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `base + path` with a valid signature in the query.
pub fn signed_url(
    base: &str,
    creds: &Credentials,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> String {
    let sig = Signature::new(creds);
    let signature = sig.sign(method, path, extra, body);
    format!("{base}{path}?{}", sig.query(&signature, extra))
}
