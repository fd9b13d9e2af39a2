//! Reel's own URL signature (`hmac`): one token covers every file under a path prefix,
//! so the relative URIs inside a playlist can carry it.
//!
//! Query: `exp=<unix>&scope=<prefix>[&cdn=<name>]&sig=<hex HMAC-SHA256(key, "<exp>\n<scope>\n<cdn>")>`.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

/// RFC 3986 unreserved characters stay as they are.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A verified or freshly made token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaToken {
    /// Unix seconds after which the token is refused.
    pub expires_at: i64,
    /// Path prefix (starting and ending with `/`) the token opens, relative to `/media`.
    pub scope: String,
    /// The CDN whose URLs a playlist served with this token points at (empty: relative).
    pub cdn: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the URL is not signed (exp, scope and sig are required)")]
    Missing,
    #[error("the URL's signature is malformed")]
    Malformed,
    #[error("the URL's signature does not match")]
    BadSignature,
    #[error("the URL expired")]
    Expired,
    #[error("the URL does not open this path")]
    OutOfScope,
}

fn mac(key: &[u8], expires_at: i64, scope: &str, cdn: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{expires_at}\n{scope}\n{cdn}").as_bytes());
    mac
}

impl MediaToken {
    /// The query string (without `?`) of this token signed with `key`.
    pub fn query(&self, key: &[u8]) -> String {
        let sig = hex::encode(
            mac(key, self.expires_at, &self.scope, &self.cdn)
                .finalize()
                .into_bytes(),
        );
        let mut q = format!(
            "exp={}&scope={}",
            self.expires_at,
            utf8_percent_encode(&self.scope, QUERY_VALUE)
        );
        if !self.cdn.is_empty() {
            q.push_str("&cdn=");
            q.extend(utf8_percent_encode(&self.cdn, QUERY_VALUE));
        }
        q.push_str("&sig=");
        q.push_str(&sig);
        q
    }

    /// Checks `query` (decoded pairs) against `key` for a request of `path` (relative to
    /// `/media`, starting with `/`) at unix time `now`.
    pub fn verify<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        key: &[u8],
        path: &str,
        now: i64,
    ) -> Result<Self, TokenError> {
        let (mut exp, mut scope, mut cdn, mut sig) = (None, None, "", None);
        for (k, v) in pairs {
            match k {
                "exp" => exp = Some(v),
                "scope" => scope = Some(v),
                "cdn" => cdn = v,
                "sig" => sig = Some(v),
                _ => {}
            }
        }
        let (Some(exp), Some(scope), Some(sig)) = (exp, scope, sig) else {
            return Err(TokenError::Missing);
        };
        let expires_at: i64 = exp.parse().map_err(|_| TokenError::Malformed)?;
        let sig = hex::decode(sig).map_err(|_| TokenError::Malformed)?;
        mac(key, expires_at, scope, cdn)
            .verify_slice(&sig)
            .map_err(|_| TokenError::BadSignature)?;
        if now > expires_at {
            return Err(TokenError::Expired);
        }
        if !scope.starts_with('/') || !scope.ends_with('/') || !path.starts_with(scope) {
            return Err(TokenError::OutOfScope);
        }
        Ok(Self {
            expires_at,
            scope: scope.to_string(),
            cdn: cdn.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    }

    fn check(q: &str, path: &str, now: i64) -> Result<MediaToken, TokenError> {
        let p = pairs(q);
        MediaToken::verify(
            p.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            b"k",
            path,
            now,
        )
    }

    #[test]
    fn known_answer() {
        // printf '1800000000\n/videos/7/\n' | openssl dgst -sha256 -hmac k
        let t = MediaToken {
            expires_at: 1_800_000_000,
            scope: "/videos/7/".into(),
            cdn: String::new(),
        };
        assert_eq!(
            t.query(b"k"),
            "exp=1800000000&scope=%2Fvideos%2F7%2F&sig=\
             9e5965e94dc2d70fc33cc2a03cf14068b45f4e93aa84a538b60a1c3646023c16"
        );
    }

    #[test]
    fn round_trip_and_refusals() {
        let t = MediaToken {
            expires_at: 1000,
            scope: "/videos/7/".into(),
            cdn: "edge".into(),
        };
        let q = t.query(b"k");
        assert_eq!(check(&q, "/videos/7/12/HD/a.m4s", 999), Ok(t.clone()));
        assert_eq!(check(&q, "/videos/7/x", 1001), Err(TokenError::Expired));
        assert_eq!(check(&q, "/videos/70/x", 999), Err(TokenError::OutOfScope));
        assert_eq!(check(&q, "/videos/8/x", 999), Err(TokenError::OutOfScope));
        let tampered = q.replace("exp=1000", "exp=2000");
        assert_eq!(
            check(&tampered, "/videos/7/x", 999),
            Err(TokenError::BadSignature)
        );
        let other_cdn = q.replace("cdn=edge", "cdn=other");
        assert_eq!(
            check(&other_cdn, "/videos/7/x", 999),
            Err(TokenError::BadSignature)
        );
        assert_eq!(check("exp=1", "/videos/7/x", 0), Err(TokenError::Missing));
        assert_eq!(
            check("exp=x&scope=%2F&sig=00", "/a", 0),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            check("exp=1&scope=%2F&sig=zz", "/a", 0),
            Err(TokenError::Malformed)
        );
    }
}
