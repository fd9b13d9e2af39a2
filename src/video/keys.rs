//! AES-128 keys of encrypted generations (docs/architecture.md, "Encryption"): 16 random
//! bytes and an IV per generation, so a retranscode rotates them; stored sealed under a
//! key derived from the server's URL-signing key, never in storage or on an origin.

use diesel_async::AsyncPgConnection;
use rand::Rng;

use super::{VideoError, VideoService};
use crate::db;
use crate::model::{Generation, VideoId};
use crate::sealing::SecretBox;

/// One generation's key and IV.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaKey {
    pub key: [u8; 16],
    pub iv: [u8; 16],
}

impl std::fmt::Debug for MediaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaKey(…)")
    }
}

impl MediaKey {
    fn random() -> Self {
        let mut rng = rand::rng();
        let (mut key, mut iv) = ([0u8; 16], [0u8; 16]);
        rng.fill(&mut key);
        rng.fill(&mut iv);
        Self { key, iv }
    }

    fn encode(&self) -> String {
        format!("{}{}", hex::encode(self.key), hex::encode(self.iv))
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        (bytes.len() == 32).then(|| {
            let mut k = Self {
                key: [0; 16],
                iv: [0; 16],
            };
            k.key.copy_from_slice(&bytes[..16]);
            k.iv.copy_from_slice(&bytes[16..]);
            k
        })
    }

    /// The `-hls_key_info_file` of ffmpeg: the URI players fetch (relative: the origin
    /// turns it into the viewer's key URL), the key file, the IV (explicit, so chunks
    /// encrypted apart join into one playlist).
    pub fn key_info(&self, key_file: &std::path::Path) -> String {
        format!(
            "{}\n{}\n{}\n",
            crate::model::layout::KEY_FILE,
            key_file.display(),
            hex::encode(self.iv)
        )
    }
}

/// The box media keys are sealed in: derived from the URL-signing key (always set).
fn sealer(signing_key: &[u8]) -> SecretBox {
    SecretBox::new(Some(&hex::encode(signing_key)), None).unwrap_or_else(|_| SecretBox::plain())
}

fn owner(video: VideoId, generation: &str) -> String {
    format!("media-key:{video}:{generation}")
}

/// The key of `generation`, made now unless an earlier attempt made it.
pub async fn key_for(
    conn: &mut AsyncPgConnection,
    signing_key: &[u8],
    video: VideoId,
    generation: &Generation,
) -> Result<MediaKey, VideoError> {
    let sealer = sealer(signing_key);
    let owner = owner(video, generation.prefix());
    let fresh = sealer.seal(&owner, &MediaKey::random().encode());
    let stored = db::tracks::put_key(conn, video, generation.prefix(), &fresh).await?;
    open(&sealer, &owner, &stored)
}

/// The key of an existing generation, if it is encrypted.
pub async fn existing_key(
    conn: &mut AsyncPgConnection,
    signing_key: &[u8],
    generation: &Generation,
) -> Result<Option<MediaKey>, VideoError> {
    let Some(row) = db::tracks::generation(conn, generation.prefix()).await? else {
        return Ok(None);
    };
    let Some(sealed) = row.sealed_key else {
        return Ok(None);
    };
    let sealer = sealer(signing_key);
    open(&sealer, &owner(row.video_id, generation.prefix()), &sealed).map(Some)
}

fn open(sealer: &SecretBox, owner: &str, sealed: &str) -> Result<MediaKey, VideoError> {
    sealer
        .open(owner, sealed)
        .ok()
        .and_then(|t| MediaKey::decode(&t))
        .ok_or_else(|| VideoError::Conflict("the media key does not open".into()))
}

impl VideoService {
    /// The 16 key bytes of an encrypted generation (the caller checked the viewer's token
    /// opens it); `None` when it is not encrypted or unknown.
    pub async fn media_key(&self, generation: &Generation) -> Result<Option<[u8; 16]>, VideoError> {
        let mut conn = self.db.get().await?;
        let key = existing_key(&mut conn, self.delivery.key(), generation).await?;
        Ok(key.map(|k| k.key))
    }
}
