//! The API signature (docs/api.md, "Authentication"), as pure functions:
//! `METHOD \n PATH \n QUERY \n BODY_HASH`, signed with hex HMAC-SHA256(app_secret, canonical).

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// BODY_HASH of upload data, whose bytes are never hashed for the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// RFC 3986: everything but unreserved characters is percent-encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn rfc3986(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// Hex SHA-256 of a body.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Content types whose bodies are signed as `UNSIGNED-PAYLOAD`.
pub fn is_upload_content_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/offset+octet-stream")
        || essence.eq_ignore_ascii_case("application/octet-stream")
}

/// The canonical string. `params` are decoded `(name, value)` pairs without `signature`.
pub fn canonical_string(
    method: &str,
    path: &str,
    params: &[(String, String)],
    body_hash: &str,
) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (rfc3986(k), rfc3986(v)))
        .collect();
    encoded.sort();
    let query = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        query,
        body_hash
    )
}

fn mac(secret: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

/// Hex HMAC-SHA256 of `canonical` under `secret`.
pub fn sign(secret: &str, canonical: &str) -> String {
    let mut mac = mac(secret);
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a hex signature.
pub fn verify(secret: &str, canonical: &str, signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(canonical.as_bytes());
    mac.verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn canonical_sorts_and_encodes() {
        let params = pairs(&[
            ("timestamp", "1700000000"),
            ("app_key", "ak_demo"),
            ("random", "n 1/2"),
            ("fn", "YWJjLm1wNA=="),
        ]);
        let canonical = canonical_string("get", "/video/status", &params, UNSIGNED_PAYLOAD);
        assert_eq!(
            canonical,
            "GET\n/video/status\napp_key=ak_demo&fn=YWJjLm1wNA%3D%3D&random=n%201%2F2&timestamp=1700000000\nUNSIGNED-PAYLOAD"
        );
    }

    #[test]
    fn rfc3986_keeps_unreserved_only() {
        assert_eq!(rfc3986("aZ09-._~"), "aZ09-._~");
        assert_eq!(rfc3986("a+b c*é"), "a%2Bb%20c%2A%C3%A9");
    }

    #[test]
    fn empty_body_hash_is_sha256_of_nothing() {
        assert_eq!(
            body_hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn sign_matches_known_hmac_and_verifies() {
        // RFC 4231 test case 2.
        let sig = sign("Jefe", "what do ya want for nothing?");
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify("Jefe", "what do ya want for nothing?", &sig));
        assert!(!verify("Jefe", "what do ya want for nothing!", &sig));
        assert!(!verify("Jefe", "what do ya want for nothing?", "zz"));
    }

    /// The worked example of the README, computed there with openssl.
    #[test]
    fn readme_worked_example() {
        let body = br#"{"query":"{ videos { edges { node { id } } } }"}"#;
        let hash = body_hash(body);
        assert_eq!(
            hash,
            "c2b441ecb745da00f57b75fce5e9d0e20c040c54c7a839ceaef1380e92aa98bd"
        );
        let params = pairs(&[
            ("app_key", "ak_demo"),
            ("timestamp", "1764300000"),
            ("random", "5f2b8c1e"),
        ]);
        let canonical = canonical_string("POST", "/graphql", &params, &hash);
        assert_eq!(
            sign("sk_demo_secret", &canonical),
            "29d3a761a1cb2e3cf534c7705815b1bc04e2e54b56e2c2f0187a023a3c297c79"
        );
    }

    #[test]
    fn upload_content_types() {
        assert!(is_upload_content_type(Some(
            "application/offset+octet-stream"
        )));
        assert!(is_upload_content_type(Some(
            "Application/Octet-Stream; x=1"
        )));
        assert!(!is_upload_content_type(Some("application/json")));
        assert!(!is_upload_content_type(None));
    }
}
