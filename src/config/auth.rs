//! `[auth]`: signed requests, browser tokens, and the master key that seals secrets at
//! rest (docs/configuration.md).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Accepted clock difference for signed requests, in seconds.
    pub timestamp_skew_secs: i64,
    /// How long a used `random` is remembered (replays refused), in seconds.
    pub nonce_ttl_secs: u64,
    /// `createToken` without `ttlSeconds`.
    pub default_token_ttl_secs: i64,
    /// Upper bound of `createToken(ttlSeconds)`.
    pub max_token_ttl_secs: i64,
    /// Seals app secrets, webhook secrets and the media key in the database
    /// (`REEL_AUTH__MASTER_KEY`, at least 32 characters); empty: stored as they are.
    pub master_key: SecretString,
    /// The master key before this one, while secrets are sealed again under the new one
    /// (done at start).
    pub previous_master_key: SecretString,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            timestamp_skew_secs: 300,
            nonce_ttl_secs: 600,
            default_token_ttl_secs: 3600,
            max_token_ttl_secs: 7 * 24 * 3600,
            master_key: SecretString::default(),
            previous_master_key: SecretString::default(),
        }
    }
}

/// A configured secret: never printed by `Debug` (configs end up in logs).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, or `None` when unset.
    pub fn get(&self) -> Option<&str> {
        Some(self.0.as_str()).filter(|s| !s.is_empty())
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}
