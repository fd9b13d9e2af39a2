//! Per-app rate limits and quotas: requests per second (checked by the auth layer on
//! every authenticated request), open uploads and stored bytes (checked when an upload
//! starts). Counters live in Redis, so every node enforces the same budget.

mod rate;

use std::sync::Arc;
use std::time::Duration;

use crate::config::limits::{AppLimitsOverride, LimitsConfig};
use crate::error::{Coded, ErrorCode, InfraError};
use crate::kv::Kv;
use crate::model::AppId;

/// A hint for clients refused because too many uploads are open: uploads finish or are
/// terminated on their own schedule, so there is no exact time to give.
const UPLOADS_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The limits that apply to one app; zero means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLimits {
    pub rps: u32,
    pub burst: u32,
    pub max_concurrent_uploads: u32,
    pub max_storage_bytes: u64,
    pub max_priority: u32,
}

impl AppLimits {
    fn new(rps: u32, config: &LimitsConfig, o: Option<&AppLimitsOverride>) -> Self {
        let rps = o.and_then(|o| o.rps).unwrap_or(rps);
        let burst = o.and_then(|o| o.burst).unwrap_or(config.burst);
        Self {
            rps,
            burst: if burst == 0 {
                rps.saturating_mul(2)
            } else {
                burst
            },
            max_concurrent_uploads: o
                .and_then(|o| o.max_concurrent_uploads)
                .unwrap_or(config.max_concurrent_uploads),
            max_storage_bytes: o
                .and_then(|o| o.max_storage_bytes)
                .unwrap_or(config.max_storage_bytes),
            max_priority: o
                .and_then(|o| o.max_priority)
                .unwrap_or(config.max_priority),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("rate limit: this app may send {rps} requests per second; retry after {} ms", retry_after.as_millis())]
    Requests { rps: u32, retry_after: Duration },
    #[error(
        "upload limit: this app may have {max} uploads open at once; finish or terminate one first"
    )]
    Uploads { max: u32 },
    #[error(
        "storage quota: this app stores {used} of its {max} bytes and the upload needs {needed}; delete videos or ask for a larger quota"
    )]
    Storage { used: u64, needed: u64, max: u64 },
    #[error("priority {given} is outside -{max}..={max}")]
    Priority { given: i32, max: u32 },
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl Coded for LimitError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Infra(e) => e.code(),
            Self::Priority { .. } => ErrorCode::BadRequest,
            _ => ErrorCode::RateLimited,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Requests { retry_after, .. } => Some(*retry_after),
            Self::Uploads { .. } => Some(UPLOADS_RETRY_AFTER),
            // Waiting does not free storage, nor make a priority fit.
            Self::Storage { .. } | Self::Priority { .. } | Self::Infra(_) => None,
        }
    }
}

impl LimitError {
    /// Which limit refused: `requests`, `uploads` or `storage`.
    pub fn limit(&self) -> Option<&'static str> {
        match self {
            Self::Requests { .. } => Some("requests"),
            Self::Uploads { .. } => Some("uploads"),
            Self::Storage { .. } => Some("storage"),
            Self::Priority { .. } | Self::Infra(_) => None,
        }
    }

    /// The refusal, counted in `reel_rate_limited_total{limit}`.
    pub fn counted(self) -> Self {
        if let Some(limit) = self.limit() {
            metrics::counter!(crate::metrics::RATE_LIMITED, "limit" => limit).increment(1);
        }
        self
    }
}

/// Resolves each app's limits and enforces the request rate.
#[derive(Clone)]
pub struct Limits {
    kv: Kv,
    rps: u32,
    config: Arc<LimitsConfig>,
}

impl Limits {
    pub fn new(kv: Kv, rps: u32, config: LimitsConfig) -> Self {
        Self {
            kv,
            rps,
            config: Arc::new(config),
        }
    }

    /// The limits of the app with this key.
    pub fn for_key(&self, app_key: &str) -> AppLimits {
        AppLimits::new(self.rps, &self.config, self.config.apps.get(app_key))
    }

    /// `requested` when it is a priority the app may ask for.
    pub fn priority(
        &self,
        app_key: &str,
        requested: Option<i32>,
    ) -> Result<Option<i32>, LimitError> {
        let max = self.for_key(app_key).max_priority;
        match requested {
            Some(given) if given.unsigned_abs() > max => Err(LimitError::Priority { given, max }),
            _ => Ok(requested),
        }
    }

    /// Counts one request of `app` against its rate. Redis being unreachable lets the
    /// request through: limits protect the service, they should not take it down.
    pub async fn check_request(&self, app: AppId, app_key: &str) -> Result<(), LimitError> {
        let limits = self.for_key(app_key);
        if limits.rps == 0 {
            return Ok(());
        }
        match rate::take(&self.kv, app, limits.rps, limits.burst).await {
            Ok(None) => Ok(()),
            Ok(Some(retry_after)) => Err(LimitError::Requests {
                rps: limits.rps,
                retry_after,
            }
            .counted()),
            Err(e) => {
                tracing::warn!(error = %e, "rate limit not checked");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_what_they_name_and_burst_defaults_to_two_seconds() {
        let mut config = LimitsConfig {
            max_storage_bytes: 10,
            ..LimitsConfig::default()
        };
        config.apps.insert(
            "ak_big".into(),
            AppLimitsOverride {
                rps: Some(1000),
                max_storage_bytes: Some(0),
                ..Default::default()
            },
        );
        let plain = AppLimits::new(50, &config, None);
        assert_eq!(
            plain,
            AppLimits {
                rps: 50,
                burst: 100,
                max_concurrent_uploads: 500,
                max_storage_bytes: 10,
                max_priority: 100,
            }
        );
        let big = AppLimits::new(50, &config, config.apps.get("ak_big"));
        assert_eq!((big.rps, big.burst, big.max_storage_bytes), (1000, 2000, 0));
        assert_eq!(big.max_concurrent_uploads, 500);
        config.burst = 7;
        assert_eq!(AppLimits::new(50, &config, None).burst, 7);
    }

    #[test]
    fn only_waiting_refusals_name_a_retry_time() {
        let requests = LimitError::Requests {
            rps: 1,
            retry_after: Duration::from_millis(300),
        };
        assert_eq!(requests.retry_after(), Some(Duration::from_millis(300)));
        assert_eq!(requests.code(), ErrorCode::RateLimited);
        let storage = LimitError::Storage {
            used: 1,
            needed: 2,
            max: 2,
        };
        assert_eq!(storage.retry_after(), None);
        assert_eq!(storage.code(), ErrorCode::RateLimited);
        assert!(LimitError::Uploads { max: 3 }.retry_after().is_some());
    }
}
