//! `[limits]`: per-app request rates and quotas (enforced by `limits`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[limits]`; the default request rate is the top-level `rate_limit_rps`
/// (`REEL_RATE_LIMIT_RPS`). Zero means unlimited everywhere.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// Requests an app may send at once above its steady rate; 0: twice `rps`.
    pub burst: u32,
    /// Uploads an app may have open (started, neither finished nor expired).
    pub max_concurrent_uploads: u32,
    /// Bytes an app may store: its sources and renditions, plus the declared size of
    /// its open uploads.
    pub max_storage_bytes: u64,
    /// Job priorities an app may ask for lie in `-max_priority..=max_priority` (the queue
    /// is shared by every app).
    pub max_priority: u32,
    /// Overrides for single apps, by `app_key`.
    pub apps: BTreeMap<String, AppLimitsOverride>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            burst: 0,
            max_concurrent_uploads: 500,
            max_storage_bytes: 0,
            max_priority: 100,
            apps: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppLimitsOverride {
    pub rps: Option<u32>,
    pub burst: Option<u32>,
    pub max_concurrent_uploads: Option<u32>,
    pub max_storage_bytes: Option<u64>,
    pub max_priority: Option<u32>,
}
