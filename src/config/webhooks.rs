//! `[webhooks]`: how deliveries are sent and retried.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// How long one POST may take, in seconds.
    pub timeout_secs: u64,
    /// How long a delivery is retried before it is given up, in hours.
    pub retry_hours: i64,
    /// Let endpoints be on private, loopback and link-local addresses (closed networks only).
    pub allow_private: bool,
    /// First retry delay in seconds; later ones grow (×3, ×6, ×30, … up to 4 h).
    pub retry_base_secs: i64,
    /// Deliveries sent at once by one node.
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout_secs: 10,
            retry_hours: 24,
            allow_private: false,
            retry_base_secs: 10,
            concurrency: 8,
        }
    }
}
