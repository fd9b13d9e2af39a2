//! URL signing for CDNs: the providers' published auth schemes (Aliyun A/B/C, Tencent Cloud A–D) as pure functions, with known-answer tests.
//!
//! Every one of these schemes puts the *signing* time in the URL and the CDN adds the validity
//! configured in its console, so a URL meant to die at `expires_at` is signed with
//! `t = expires_at - console_ttl_secs`. With `console_ttl_secs = 0` the time in the URL is the
//! expiry itself (what Aliyun's older docs and sample code call `exp`).

#[cfg(test)]
mod known_answers;
mod schemes;
#[cfg(test)]
mod tests;

pub use schemes::*;

pub use crate::config::delivery::{ParseSchemeError, SigningScheme};

/// Why a URL could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("path must start with '/', got {0:?}")]
    PathNotAbsolute(String),
    #[error("path must be percent-encoded printable ASCII without '?' or '#', got {0:?}")]
    InvalidPath(String),
    #[error(
        "base URL must be scheme://host[/prefix] in printable ASCII, without query or fragment, got {0:?}"
    )]
    InvalidBaseUrl(String),
    #[error("signing scheme {0} needs a non-empty key")]
    EmptyKey(SigningScheme),
    #[error("the hmac scheme is Reel's own and is not signed by UrlSigner")]
    NotCdnScheme,
    #[error("{field} must be 1 to 100 characters of {allowed}, got {value:?}")]
    InvalidField {
        field: &'static str,
        allowed: &'static str,
        value: String,
    },
    #[error("aliyun-c query form needs both param and time_param")]
    IncompleteQueryForm,
    #[error("console_ttl_secs must not be negative, got {0}")]
    NegativeTtl(i64),
    #[error(
        "signing time expires_at ({expires_at}) - console_ttl_secs ({console_ttl_secs}) is out of range"
    )]
    TimeOutOfRange {
        expires_at: i64,
        console_ttl_secs: i64,
    },
}

/// How one CDN signs: the scheme, the key set in the CDN console, and the options some schemes take.
#[derive(Debug, Clone)]
pub struct UrlSigner {
    pub scheme: SigningScheme,
    pub key: String,
    /// The validity the CDN console is configured with, for schemes whose URL carries the *signing* time
    /// rather than the expiry time (the URL then expires at t + ttl, so we sign with t = expires_at - ttl).
    pub console_ttl_secs: i64,
    /// Query parameter name for schemes that let the customer choose it (Aliyun A uses `auth_key` by default; Tencent A `sign`, Tencent D `sign` and `t`) — use the providers' defaults when None.
    pub param: Option<String>,
    pub time_param: Option<String>,
    /// `uid` for Aliyun A / Tencent A (default "0").
    pub uid: String,
}

/// Latest signing time accepted: 9999-12-31 23:59:59 in UTC+8, so YYYYMMDDHHMM stays 12 digits.
const MAX_SIGNING_TIME: i64 = 253_402_300_799 - UTC8_SECS;
const UTC8_SECS: i64 = 8 * 3600;

impl UrlSigner {
    /// A signer with the providers' defaults: no console TTL offset, default parameter names, uid "0".
    pub fn new(scheme: SigningScheme, key: impl Into<String>) -> Self {
        Self {
            scheme,
            key: key.into(),
            console_ttl_secs: 0,
            param: None,
            time_param: None,
            uid: "0".to_owned(),
        }
    }

    /// `base_url`: scheme+host and optional path prefix, no trailing slash (e.g. "https://cdn.example.com" or "https://cdn.example.com/vod").
    /// `path`: the object path, starting with '/', already percent-encoded as it will be requested (e.g. "/videos/12/g3/HD/seg_00001.m4s").
    /// `expires_at`: unix seconds when the URL must stop working. `rand`: a nonce (alphanumeric, no '-'), used by the schemes that take one.
    /// Returns the full URL a player requests. For `None`: base_url + path unchanged. For `Hmac` return an error (that scheme is Reel's own and signed elsewhere).
    ///
    /// The hashed URI is the full path the CDN sees: the base URL's prefix followed by `path`.
    /// B-type URLs carry minutes only, so they stop working up to 59 s before `expires_at`.
    pub fn sign(
        &self,
        base_url: &str,
        path: &str,
        expires_at: i64,
        rand: &str,
    ) -> Result<String, SignError> {
        let (origin, prefix) = split_base_url(base_url)?;
        check_path(path)?;
        let uri = format!("{prefix}{path}");
        let key = self.key.as_str();
        if self.scheme == SigningScheme::Hmac {
            return Err(SignError::NotCdnScheme);
        }
        if self.scheme.signs_each_file() && key.is_empty() {
            return Err(SignError::EmptyKey(self.scheme));
        }
        let t = || self.signing_time(expires_at);
        Ok(match self.scheme {
            SigningScheme::None | SigningScheme::Hmac => format!("{origin}{uri}"),
            SigningScheme::AliyunA | SigningScheme::TencentA => {
                let default_param = match self.scheme {
                    SigningScheme::AliyunA => "auth_key",
                    _ => "sign",
                };
                let param = param_name(self.param.as_deref(), default_param)?;
                let rand = nonce_field("rand", rand)?;
                let uid = nonce_field("uid", &self.uid)?;
                type_a(origin, &uri, t()?, rand, uid, key, param)
            }
            SigningScheme::AliyunB => aliyun_b(origin, &uri, t()?, key),
            SigningScheme::TencentB => tencent_b(origin, &uri, t()?, key),
            SigningScheme::AliyunC => {
                let query = match (self.param.as_deref(), self.time_param.as_deref()) {
                    (None, None) => None,
                    (Some(k1), Some(k2)) => {
                        Some((param_name(Some(k1), "")?, param_name(Some(k2), "")?))
                    }
                    _ => return Err(SignError::IncompleteQueryForm),
                };
                aliyun_c(origin, &uri, t()?, key, query)
            }
            SigningScheme::TencentC => tencent_c(origin, &uri, t()?, key),
            SigningScheme::TencentD => {
                let sign = param_name(self.param.as_deref(), "sign")?;
                let time = param_name(self.time_param.as_deref(), "t")?;
                tencent_d(origin, &uri, t()?, key, sign, time, false)
            }
        })
    }

    fn signing_time(&self, expires_at: i64) -> Result<i64, SignError> {
        if self.console_ttl_secs < 0 {
            return Err(SignError::NegativeTtl(self.console_ttl_secs));
        }
        match expires_at.checked_sub(self.console_ttl_secs) {
            Some(t) if (0..=MAX_SIGNING_TIME).contains(&t) => Ok(t),
            _ => Err(SignError::TimeOutOfRange {
                expires_at,
                console_ttl_secs: self.console_ttl_secs,
            }),
        }
    }
}

/// Splits "scheme://host[/prefix]" into ("scheme://host", "/prefix" or "").
fn split_base_url(base_url: &str) -> Result<(&str, &str), SignError> {
    let bad = || SignError::InvalidBaseUrl(base_url.to_owned());
    let base = base_url.trim_end_matches('/');
    if !base
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
    {
        return Err(bad());
    }
    let (scheme, rest) = base.split_once("://").ok_or_else(bad)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let host_len = rest.find('/').unwrap_or(rest.len());
    if !scheme_ok || host_len == 0 {
        return Err(bad());
    }
    Ok(base.split_at(scheme.len() + 3 + host_len))
}

fn check_path(path: &str) -> Result<(), SignError> {
    if !path.starts_with('/') {
        return Err(SignError::PathNotAbsolute(path.to_owned()));
    }
    // The CDNs sign the path alone and refuse raw non-ASCII, so anything else cannot verify.
    if !path
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
    {
        return Err(SignError::InvalidPath(path.to_owned()));
    }
    Ok(())
}

/// rand / uid: '-' separates the A-type token's fields, so only letters and digits; empty means "0".
fn nonce_field<'a>(field: &'static str, value: &'a str) -> Result<&'a str, SignError> {
    if value.is_empty() {
        return Ok("0");
    }
    if value.len() <= 100 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(value);
    }
    Err(SignError::InvalidField {
        field,
        allowed: "ASCII letters and digits",
        value: value.to_owned(),
    })
}

/// A query parameter name, or `default` when unset; only characters that need no escaping.
fn param_name<'a>(value: Option<&'a str>, default: &'a str) -> Result<&'a str, SignError> {
    let name = value.unwrap_or(default);
    let ok = (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok {
        return Ok(name);
    }
    Err(SignError::InvalidField {
        field: "query parameter name",
        allowed: "ASCII letters, digits, '_', '-' and '.'",
        value: name.to_owned(),
    })
}
