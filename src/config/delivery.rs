//! The `[delivery]` configuration: named origins, named CDNs and how a CDN is chosen.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::StorageKind;

/// The origin that `/media/` serves when nothing else is configured.
pub const LOCAL_ORIGIN: &str = "local";
/// The CDN entry of the built-in origin.
pub const BUILTIN_CDN: &str = "builtin";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryConfig {
    /// `weighted` (stable per viewer and video), `cheapest`, or the name of a CDN.
    pub policy: String,
    /// Lifetime of play and snapshot URLs when the caller gives none, in seconds.
    pub url_ttl_secs: i64,
    /// Upper bound of a requested lifetime.
    pub max_url_ttl_secs: i64,
    /// Key of `/media/` tokens (the `hmac` scheme); generated once and kept in Postgres
    /// when empty, so every node agrees.
    pub key: String,
    /// The fs origin that `/media/` serves.
    pub media_origin: String,
    /// Where renditions are published. Empty: one fs origin, `local`, which is the fs
    /// storage itself (nothing to copy) or `{data_dir}/media` when storage is an object store.
    pub origins: BTreeMap<String, OriginConfig>,
    /// CDNs in front of the origins. The built-in origin is always available as `builtin`
    /// unless an entry of that name says otherwise.
    pub cdns: BTreeMap<String, CdnConfig>,
    /// Old generations stay on the origins this long after a retranscode replaced them, so
    /// viewers holding a playlist can finish; in seconds.
    pub retain_replaced_secs: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OriginConfig {
    pub kind: StorageKind,
    /// opendal options (`root` for fs; `bucket`, `endpoint`, keys for s3/oss).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CdnConfig {
    /// Scheme and host (and an optional path prefix) players fetch from.
    pub base_url: String,
    /// The origin this CDN pulls from.
    pub origin: String,
    /// Share of viewers under the `weighted` policy.
    pub weight: u32,
    /// Price per GB delivered, in any currency shared by all entries (`cheapest`).
    pub cost_per_gb: f64,
    pub enabled: bool,
    pub scheme: SigningScheme,
    /// The key set in the CDN's console (for `hmac`: defaults to the media key).
    pub key: String,
    /// Validity set in the console, for schemes whose URL carries the signing time.
    pub console_ttl_secs: i64,
    /// Custom query parameter names, for schemes that allow them.
    pub param: Option<String>,
    pub time_param: Option<String>,
    pub uid: String,
}

impl Default for CdnConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            origin: LOCAL_ORIGIN.into(),
            weight: 1,
            cost_per_gb: 0.0,
            enabled: true,
            scheme: SigningScheme::None,
            key: String::new(),
            console_ttl_secs: 0,
            param: None,
            time_param: None,
            uid: "0".into(),
        }
    }
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            policy: "weighted".into(),
            url_ttl_secs: 3600,
            max_url_ttl_secs: 7 * 24 * 3600,
            key: String::new(),
            media_origin: LOCAL_ORIGIN.into(),
            origins: BTreeMap::new(),
            cdns: BTreeMap::new(),
            retain_replaced_secs: 6 * 3600,
        }
    }
}

impl DeliveryConfig {
    /// Checks names and references; returns a readable reason.
    pub fn validate(&self) -> Result<(), String> {
        let origin_exists = |name: &str| {
            self.origins.contains_key(name) || (self.origins.is_empty() && name == LOCAL_ORIGIN)
        };
        for (name, cdn) in &self.cdns {
            if !origin_exists(&cdn.origin) {
                return Err(format!(
                    "delivery.cdns.{name}.origin = {:?} is not a configured origin",
                    cdn.origin
                ));
            }
            if cdn.enabled && name != BUILTIN_CDN && cdn.base_url.is_empty() {
                return Err(format!("delivery.cdns.{name}.base_url is empty"));
            }
            if cdn.base_url.contains('?') {
                return Err(format!(
                    "delivery.cdns.{name}.base_url must not have a query"
                ));
            }
            if cdn.scheme.signs_each_file() && cdn.key.is_empty() {
                return Err(format!(
                    "delivery.cdns.{name} uses {} and needs a key",
                    cdn.scheme.as_str()
                ));
            }
        }
        if !matches!(self.policy.as_str(), "weighted" | "cheapest")
            && !self.cdns.contains_key(&self.policy)
            && self.policy != BUILTIN_CDN
        {
            return Err(format!(
                "delivery.policy = {:?}: use weighted, cheapest or a CDN's name",
                self.policy
            ));
        }
        if self.url_ttl_secs <= 0 || self.max_url_ttl_secs < self.url_ttl_secs {
            return Err(
                "delivery.url_ttl_secs must be positive and at most max_url_ttl_secs".into(),
            );
        }
        Ok(())
    }
}

/// Which auth scheme a CDN domain is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigningScheme {
    None,
    AliyunA,
    AliyunB,
    AliyunC,
    TencentA,
    TencentB,
    TencentC,
    TencentD,
    Hmac,
}

impl SigningScheme {
    pub const ALL: [SigningScheme; 9] = [
        Self::None,
        Self::AliyunA,
        Self::AliyunB,
        Self::AliyunC,
        Self::TencentA,
        Self::TencentB,
        Self::TencentC,
        Self::TencentD,
        Self::Hmac,
    ];

    /// The config / serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::AliyunA => "aliyun-a",
            Self::AliyunB => "aliyun-b",
            Self::AliyunC => "aliyun-c",
            Self::TencentA => "tencent-a",
            Self::TencentB => "tencent-b",
            Self::TencentC => "tencent-c",
            Self::TencentD => "tencent-d",
            Self::Hmac => "hmac",
        }
    }

    /// True for the CDN schemes, whose signature covers one file path, so every segment URL
    /// of a playlist needs its own signature.
    pub fn signs_each_file(self) -> bool {
        !matches!(self, Self::None | Self::Hmac)
    }
}

impl fmt::Display for SigningScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scheme name that is not one of [`SigningScheme::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSchemeError(pub String);

impl fmt::Display for ParseSchemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown signing scheme {:?}; expected one of: ", self.0)?;
        for (i, s) in SigningScheme::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseSchemeError {}

impl FromStr for SigningScheme {
    type Err = ParseSchemeError;

    // Lenient on case and surrounding blanks: the value usually comes from an env var.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|scheme| scheme.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ParseSchemeError(s.to_owned()))
    }
}
