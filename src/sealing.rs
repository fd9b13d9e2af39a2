//! Secrets sealed at rest with the operator's master key (docs/operations.md, "Secrets at
//! rest"): a copy of the database alone does not give away what signs requests, tokens,
//! webhooks and playback URLs.
//!
//! A sealed value reads `sealed:v1:{key id}:{base64url(nonce ‖ ciphertext)}`, sealed with
//! XChaCha20-Poly1305 under a key derived (HKDF-SHA256) from the master key. The value's
//! owner (an app key, a setting's name) is the associated data, so a sealed value copied to
//! another row does not open. Values without the prefix are plain text: what Reel stored
//! before a master key was set, sealed at the next start.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng;
use sha2::Sha256;

const PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;
/// Shortest master key accepted: a random key of 32 characters or more (`openssl rand
/// -base64 32`), not a password, since nothing slows down guessing it.
pub const MIN_MASTER_KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "the master key must be at least {MIN_MASTER_KEY_LEN} characters (e.g. `openssl rand -base64 32`)"
    )]
    WeakKey,
    #[error(
        "secrets in the database are sealed; set the master key they were sealed with (auth.master_key, REEL_AUTH__MASTER_KEY)"
    )]
    NoMasterKey,
    #[error(
        "a secret is sealed with master key {0}, which is neither auth.master_key nor auth.previous_master_key"
    )]
    UnknownKey(String),
    #[error("a sealed secret does not open (damaged, or moved from another row)")]
    Corrupt,
}

struct MasterKey {
    /// Names the key in sealed values (not secret: derived apart from the cipher key).
    id: String,
    cipher: XChaCha20Poly1305,
}

impl MasterKey {
    fn derive(master: &str) -> Result<Self, SealError> {
        if master.chars().count() < MIN_MASTER_KEY_LEN {
            return Err(SealError::WeakKey);
        }
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(b"reel sealed secrets"), master.as_bytes());
        let mut key = [0u8; 32];
        let mut id = [0u8; 4];
        // Lengths are fixed and far below HKDF's limit, so expand cannot fail.
        hkdf.expand(b"v1 cipher key", &mut key)
            .map_err(|_| SealError::WeakKey)?;
        hkdf.expand(b"v1 key id", &mut id)
            .map_err(|_| SealError::WeakKey)?;
        Ok(Self {
            id: hex::encode(id),
            cipher: XChaCha20Poly1305::new(&key.into()),
        })
    }
}

/// Seals and opens secrets; without a master key it stores them as they are.
pub struct SecretBox {
    current: Option<MasterKey>,
    /// The key before the current one, while an operator rotates the master key.
    previous: Option<MasterKey>,
}

impl SecretBox {
    pub fn new(master: Option<&str>, previous: Option<&str>) -> Result<Self, SealError> {
        let key = |k: Option<&str>| k.filter(|k| !k.is_empty()).map(MasterKey::derive);
        Ok(Self {
            current: key(master).transpose()?,
            previous: key(previous).transpose()?,
        })
    }

    /// A box that stores secrets as plain text (no master key).
    pub fn plain() -> Self {
        Self {
            current: None,
            previous: None,
        }
    }

    pub fn seals(&self) -> bool {
        self.current.is_some()
    }

    /// `secret` as it is stored for `owner`.
    pub fn seal(&self, owner: &str, secret: &str) -> String {
        let Some(key) = &self.current else {
            return secret.to_string();
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill(&mut nonce);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: owner.as_bytes(),
        };
        // Encryption fails only for messages beyond ~256 GiB.
        let sealed = key
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("a secret is far below the cipher's message limit");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{PREFIX}{}:{}", key.id, URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret `stored` for `owner`.
    pub fn open(&self, owner: &str, stored: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (id, body) = rest.split_once(':').ok_or(SealError::Corrupt)?;
        let key = [&self.current, &self.previous]
            .into_iter()
            .flatten()
            .find(|k| k.id == id)
            .ok_or_else(|| match self.current {
                None => SealError::NoMasterKey,
                Some(_) => SealError::UnknownKey(id.to_string()),
            })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Corrupt)?;
        let payload = Payload {
            msg: sealed,
            aad: owner.as_bytes(),
        };
        let plain = key
            .cipher
            .decrypt(&XNonce::from(nonce), payload)
            .map_err(|_| SealError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| SealError::Corrupt)
    }

    /// Whether `stored` should be sealed again: plain text or another key's seal while a
    /// master key is set.
    pub fn stale(&self, stored: &str) -> bool {
        match &self.current {
            None => false,
            Some(key) => !stored
                .strip_prefix(PREFIX)
                .is_some_and(|rest| rest.starts_with(&format!("{}:", key.id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";
    const OLD: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn sealed_secrets_open_only_for_their_owner_and_key() {
        let sealing = SecretBox::new(Some(KEY), None).unwrap();
        let stored = sealing.seal("ak_one", "sk_secret");
        assert!(stored.starts_with(PREFIX) && !stored.contains("sk_secret"));
        assert_eq!(sealing.open("ak_one", &stored).unwrap(), "sk_secret");
        assert_eq!(sealing.open("ak_two", &stored), Err(SealError::Corrupt));
        assert_ne!(stored, sealing.seal("ak_one", "sk_secret"), "fresh nonce");
        assert_eq!(
            SecretBox::plain().open("ak_one", &stored),
            Err(SealError::NoMasterKey)
        );
        let other = SecretBox::new(Some(OLD), None).unwrap();
        assert!(matches!(
            other.open("ak_one", &stored),
            Err(SealError::UnknownKey(_))
        ));
        let mut damaged = stored.clone();
        damaged.pop();
        assert_eq!(sealing.open("ak_one", &damaged), Err(SealError::Corrupt));
    }

    #[test]
    fn a_previous_master_key_opens_and_marks_stale() {
        let old = SecretBox::new(Some(OLD), None).unwrap();
        let stored = old.seal("ak", "sk");
        let rotating = SecretBox::new(Some(KEY), Some(OLD)).unwrap();
        assert_eq!(rotating.open("ak", &stored).unwrap(), "sk");
        assert!(rotating.stale(&stored) && rotating.stale("sk_plain"));
        assert!(!rotating.stale(&rotating.seal("ak", "sk")));
        assert!(!SecretBox::plain().stale("sk_plain"));
        assert_eq!(
            SecretBox::plain().open("ak", "sk_plain").unwrap(),
            "sk_plain"
        );
    }

    #[test]
    fn short_master_keys_are_refused() {
        assert_eq!(
            SecretBox::new(Some("hunter2"), None).err(),
            Some(SealError::WeakKey)
        );
    }
}
