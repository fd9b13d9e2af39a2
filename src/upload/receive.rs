//! Receiving bytes: stream writes (tus PATCH, seed `Content-Range`) and parts.

use super::UploadError;
use super::digest::{ChunkChecksum, PartDigest, is_md5_hex};
use super::rules::part_len;
use super::service::{UploadService, with_renewal};
use super::session::{Transfer, UploadSession};
use super::view::UploadView;
use crate::model::{AppId, UploadId};
use crate::storage::io::{Chunks, RunningMd5, drain};

impl UploadService {
    /// Appends `body` at `offset` of a stream transfer (tus PATCH, seed `Content-Range`).
    /// A body that breaks off keeps what arrived; a checksum mismatch keeps nothing.
    #[allow(clippy::too_many_arguments)]
    pub async fn write_stream(
        &self,
        app: AppId,
        id: &UploadId,
        offset: u64,
        body: impl Chunks,
        content_length: Option<u64>,
        checksum: Option<ChunkChecksum>,
        length: Option<u64>,
    ) -> Result<UploadView, UploadError> {
        // Whose it is first: another app's request must not hold (or wait for) the lock.
        self.receiving(app, id).await?;
        let lock = self.lock(id, "lock").await?;
        let result = with_renewal(&lock, async {
            let mut session = self.receiving(app, id).await?;
            if session.transfer != Transfer::Stream {
                return Err(UploadError::BadRequest(
                    "this upload takes parts (pseq)".into(),
                ));
            }
            if offset != session.offset {
                return Err(UploadError::OffsetMismatch {
                    expected: session.offset,
                    given: offset,
                });
            }
            if let Some(length) = length {
                match session.size {
                    Some(size) if size != length => {
                        return Err(UploadError::BadRequest(format!(
                            "Upload-Length {length} differs from the declared {size}"
                        )));
                    }
                    None if length < session.offset || length > self.config.max_size => {
                        return Err(UploadError::TooLarge(self.config.max_size));
                    }
                    None => {
                        // The length is known at last: the storage quota sees it now.
                        session.size = Some(length);
                        self.reserve(&session).await?;
                    }
                    Some(_) => {}
                }
            }
            let limit = session.size.unwrap_or(self.config.max_size) - offset;
            if let Some(len) = content_length
                && len > limit
            {
                return Err(match session.size {
                    Some(_) => UploadError::BadRequest(format!(
                        "Content-Length {len} goes past the upload's end ({limit} bytes left)"
                    )),
                    None => UploadError::TooLarge(self.config.max_size),
                });
            }
            // None: computed later (a deferred md5, or a state the completion re-reads).
            let md5 = session.md5_state.as_deref().and_then(RunningMd5::restore);
            let written = self
                .staging
                .write_at(id, offset, body, limit, true, (md5, checksum))
                .await;
            let (written, (md5, checksum)) = match written {
                Ok(w) => w,
                Err(e) => {
                    self.staging.truncate(id, offset).await?;
                    return Err(e.into());
                }
            };
            if let Some(checksum) = checksum
                && (!written.complete || !checksum.matches())
            {
                self.staging.truncate(id, offset).await?;
                return Err(UploadError::ChecksumMismatch);
            }
            session.offset += written.bytes;
            metrics::counter!(crate::metrics::UPLOAD_BYTES).increment(written.bytes);
            session.md5_state = md5.map(|m| m.save());
            // Fencing: the offset moves only while this request still holds the lock (just
            // extended, so it cannot lapse before the session is saved).
            if !lock.renew().await? {
                return Err(UploadError::LockLost);
            }
            self.sessions.put(&session).await?;
            if session.size == Some(session.offset) {
                session = self.complete(session).await?;
            }
            Ok(UploadView::new(session, Vec::new()))
        })
        .await;
        lock.release().await;
        result
    }

    /// Stores part `part` (1-based) of a parts transfer. The same bytes twice are fine;
    /// other bytes for a received part are refused.
    pub async fn write_part(
        &self,
        app: AppId,
        id: &UploadId,
        part: u32,
        body: impl Chunks,
        content_length: Option<u64>,
        md5: Option<&str>,
    ) -> Result<UploadView, UploadError> {
        let session = self.receiving(app, id).await?;
        let Transfer::Parts { part_size, count } = session.transfer else {
            return Err(UploadError::BadRequest(
                "this upload takes a stream (Content-Range or tus), not parts".into(),
            ));
        };
        if part == 0 || part > count {
            return Err(UploadError::BadRequest(format!(
                "pseq must be between 1 and {count}"
            )));
        }
        let size = session.size.unwrap_or(0);
        let expected_len = part_len(size, part_size, count, part);
        if let Some(len) = content_length
            && len != expected_len
        {
            return Err(UploadError::BadRequest(format!(
                "part {part} must be exactly {expected_len} bytes, Content-Length says {len}"
            )));
        }
        if let Some(m) = md5
            && !is_md5_hex(m)
        {
            return Err(UploadError::BadRequest(
                "hash must be 32 hexadecimal characters".into(),
            ));
        }
        let lock = self.lock(id, &format!("part:{part}")).await?;
        let result = with_renewal(
            &lock,
            self.receive_part(&session, part, expected_len, body, md5),
        )
        .await;
        lock.release().await;
        result?;
        let have = self.sessions.parts(id).await?;
        let missing: Vec<u32> = (1..=count).filter(|n| !have.contains_key(n)).collect();
        let mut session = session;
        if missing.is_empty() {
            session = self.complete(session).await?;
        }
        Ok(UploadView::new(session, missing))
    }

    async fn receive_part(
        &self,
        session: &UploadSession,
        part: u32,
        expected_len: u64,
        body: impl Chunks,
        declared: Option<&str>,
    ) -> Result<(), UploadError> {
        let Transfer::Parts { part_size, .. } = session.transfer else {
            unreachable!("checked by the caller")
        };
        let recorded = self.sessions.parts(&session.id).await?.remove(&part);
        let digest = PartDigest::new(declared.is_some(), recorded.as_deref());
        let (written, digest) = if recorded.is_some() {
            // Already stored: hash the body without touching the stored bytes.
            drain(body, expected_len, digest).await?
        } else {
            let offset = u64::from(part - 1) * part_size;
            self.staging
                .write_at(&session.id, offset, body, expected_len, false, digest)
                .await?
        };
        if !written.complete {
            return Err(UploadError::BadRequest(
                "body broke off; send the part again".into(),
            ));
        }
        let written = written.bytes;
        metrics::counter!(crate::metrics::UPLOAD_BYTES).increment(written);
        if written != expected_len {
            return Err(UploadError::BadRequest(format!(
                "part {part} must be exactly {expected_len} bytes, got {written}"
            )));
        }
        let got = digest.finish();
        if let (Some(declared), Some(md5)) = (declared, &got.md5)
            && !declared.eq_ignore_ascii_case(md5)
        {
            return Err(UploadError::BadRequest(format!(
                "part {part} md5 mismatch: declared {declared}, received {md5}; send it again"
            )));
        }
        let previous = match recorded {
            Some(previous) => Some(previous),
            None => {
                self.sessions
                    .add_part(&session.id, part, &got.record())
                    .await?
            }
        };
        match previous {
            Some(previous) if !got.matches(&previous) => Err(UploadError::Conflict(format!(
                "part {part} was already received with other bytes"
            ))),
            _ => Ok(()),
        }
    }
}
