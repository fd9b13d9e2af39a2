//! An app's upload quotas, checked and taken in one step when an upload starts: how many
//! uploads it has open and how many bytes it stores (stored + declared by open uploads).

use std::sync::LazyLock;

use chrono::Utc;
use redis::Script;

use super::UploadError;
use super::service::UploadService;
use super::session::UploadSession;
use crate::db;
use crate::error::InfraError;
use crate::limits::LimitError;

/// KEYS: the app's open uploads (zset by expiry) and their declared sizes (hash).
/// ARGV: now, upload id, its expiry, its size, max uploads, max bytes, bytes stored.
/// Returns {0} when taken, {1} over the uploads limit, {2, used} over the byte quota.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local uploads, sizes = KEYS[1], KEYS[2]
for _, id in ipairs(redis.call('ZRANGEBYSCORE', uploads, '-inf', ARGV[1])) do
  redis.call('ZREM', uploads, id)
  redis.call('HDEL', sizes, id)
end
-- An upload already counted (its length just became known) takes no second place.
local counted = redis.call('ZSCORE', uploads, ARGV[2])
local max_uploads = tonumber(ARGV[5])
if not counted and max_uploads > 0 and redis.call('ZCARD', uploads) >= max_uploads then
  return {1, '0'}
end
local size, max_bytes = tonumber(ARGV[4]), tonumber(ARGV[6])
if max_bytes > 0 then
  local used = tonumber(ARGV[7])
  local entries = redis.call('HGETALL', sizes)
  for i = 1, #entries, 2 do
    if entries[i] ~= ARGV[2] then used = used + tonumber(entries[i + 1]) end
  end
  if used + size > max_bytes then return {2, string.format('%d', used)} end
end
redis.call('ZADD', uploads, ARGV[3], ARGV[2])
redis.call('HSET', sizes, ARGV[2], ARGV[4])
return {0, '0'}
",
    )
});

impl UploadService {
    /// Takes a place for `session` under its app's limits, or says which one refuses;
    /// called again when a deferred length becomes known, it checks the bytes again.
    /// (`SessionStore::put` keeps the same entries; finishing an upload frees them.)
    pub(super) async fn reserve(&self, session: &UploadSession) -> Result<(), UploadError> {
        let limits = self.limits.for_key(&session.app_key);
        if limits.max_concurrent_uploads == 0 && limits.max_storage_bytes == 0 {
            return Ok(());
        }
        let stored = if limits.max_storage_bytes > 0 {
            let mut conn = self.db.get().await?;
            db::scans::stored_bytes(&mut conn, session.app_id).await? as u64
        } else {
            0
        };
        let size = session.size.unwrap_or(0);
        let (outcome, used): (u8, String) = RESERVE
            .key(self.sessions.app_uploads_key(session.app_id))
            .key(self.sessions.app_bytes_key(session.app_id))
            .arg(Utc::now().timestamp())
            .arg(session.id.as_str())
            .arg(session.expires_at.timestamp())
            .arg(size)
            .arg(limits.max_concurrent_uploads)
            .arg(limits.max_storage_bytes)
            .arg(stored)
            .invoke_async(&mut self.sessions.conn())
            .await
            .map_err(InfraError::from)?;
        let refused = match outcome {
            0 => return Ok(()),
            1 => LimitError::Uploads {
                max: limits.max_concurrent_uploads,
            },
            _ => LimitError::Storage {
                used: used.parse().unwrap_or(stored),
                needed: size,
                max: limits.max_storage_bytes,
            },
        };
        Err(refused.counted().into())
    }
}
