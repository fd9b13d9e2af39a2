//! An app's upload quotas, checked and taken in one step when an upload starts: how many
//! uploads it has open and how many bytes it stores (stored + declared by open uploads).

use diesel_async::AsyncConnection;

use super::UploadError;
use super::service::UploadService;
use super::session::UploadSession;
use crate::db;
use crate::limits::LimitError;

impl UploadService {
    /// Takes a place for `session` under its app's limits, or says which one refuses;
    /// called again when a deferred length becomes known, it checks the bytes again.
    /// The place is the session's row while it receives; finishing the upload frees it.
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
        let (max_uploads, max_bytes) = (limits.max_concurrent_uploads, limits.max_storage_bytes);
        let mut conn = self.db.get().await?;
        // The check and the session row that takes the place, under the app's quota lock:
        // two nodes starting uploads at once cannot both take the last place.
        let conn: &mut diesel_async::AsyncPgConnection = &mut conn;
        let outcome = conn
            .transaction::<_, UploadError, _>(async |conn| {
                db::uploads::lock_app_quota(conn, session.app_id).await?;
                let (others, declared, counted) =
                    db::uploads::open_of_app(conn, session.app_id, session.id.as_str()).await?;
                // An upload already counted (its length just became known) takes no
                // second place.
                if !counted && max_uploads > 0 && others >= i64::from(max_uploads) {
                    return Ok(Err(LimitError::Uploads { max: max_uploads }));
                }
                let used = stored + declared as u64;
                if max_bytes > 0 && used + size > max_bytes {
                    return Ok(Err(LimitError::Storage {
                        used,
                        needed: size,
                        max: max_bytes,
                    }));
                }
                self.sessions.put_with(conn, session).await?;
                Ok(Ok(()))
            })
            .await?;
        let refused = match outcome {
            Ok(()) => return Ok(()),
            Err(refused) => refused,
        };
        Err(refused.counted().into())
    }
}
