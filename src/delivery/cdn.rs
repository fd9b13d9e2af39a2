//! One CDN as configured, with the signer of its URLs.

use super::signing::UrlSigner;
use crate::config::delivery::CdnConfig;

/// One CDN as configured, with its signer ready.
#[derive(Debug, Clone)]
pub struct Cdn {
    pub name: String,
    pub base_url: String,
    pub origin: String,
    pub weight: u32,
    pub cost_per_gb: f64,
    pub enabled: bool,
    pub signer: UrlSigner,
}

pub(super) fn signer(cfg: &CdnConfig) -> UrlSigner {
    UrlSigner {
        scheme: cfg.scheme,
        key: cfg.key.clone(),
        console_ttl_secs: cfg.console_ttl_secs,
        param: cfg.param.clone(),
        time_param: cfg.time_param.clone(),
        uid: cfg.uid.clone(),
    }
}
