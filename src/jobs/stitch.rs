//! The `finish_ladder` job, once every chunk's job has ended: join each rung's chunk
//! playlists into its media playlist, publish the rungs, then list them in the master
//! playlist (players that reload it see them), add their renditions and mark the ladder
//! complete. A chunk that failed for good leaves the video on the rungs it has, with the
//! reason. The chunks' sources are removed on every path.

use futures_util::TryStreamExt;
use scoped_futures::ScopedFutureExt;

use super::ladder::FinishLadder;
use super::outputs::rendition_row;
use super::{Job, JobContext, JobError};
use crate::db;
use crate::media::chunks::stitch;
use crate::media::ladder::Rung;
use crate::media::master::master_playlist;
use crate::model::VideoId;
use crate::queue::Claimed;
use crate::video::lifecycle;

impl Job for FinishLadder {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("ladder job without a video".into()))?;
        let finished = self.finish(ctx, job, id).await;
        // Whatever happened, the chunks' sources are not needed again: a retry of this job
        // only needs the chunks' outputs.
        if !matches!(finished, Err(JobError::Transient(_))) {
            remove_chunk_sources(ctx, id, &self.chunk_dir).await;
        }
        finished
    }

    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        if !last {
            return;
        }
        let Some(id) = job.video_id else { return };
        if let Ok(payload) = job.payload::<FinishLadder>() {
            remove_chunk_sources(ctx, id, &payload.chunk_dir).await;
        }
        let reason = format!("the ladder could not be completed: {error}");
        ctx.note_error(id, &reason).await;
    }
}

impl FinishLadder {
    async fn finish(&self, ctx: &JobContext, job: &Claimed, id: VideoId) -> Result<(), JobError> {
        let Some(video) = ctx.video(id).await? else {
            return Ok(());
        };
        let ours = Some(&self.generation);
        if video.ladder_complete || video.generation().as_ref() != ours {
            // The early rung never made it (the transcode failed) or was replaced: what
            // the chunks stored is nobody's, unless players still hold it.
            if video.generation().as_ref() != ours && video.published_generation().as_ref() != ours
            {
                ctx.remove_generation(self.generation.prefix()).await;
            }
            return Ok(());
        }
        let added: Vec<Rung> = self.rungs[1..].to_vec();
        let mut sizes = Vec::with_capacity(added.len());
        for rung in &added {
            let def = rung.definition.as_str();
            let mut playlists = Vec::with_capacity(self.chunks as usize);
            for index in 0..self.chunks {
                let key = self.generation.key(&format!("{def}/chunk_{index:05}.m3u8"));
                match ctx.storage.get_small(&key).await? {
                    Some(bytes) => playlists.push(String::from_utf8_lossy(&bytes).into_owned()),
                    None => {
                        let reason = format!(
                            "the ladder stays incomplete: chunk {index} was not encoded \
                             (retranscode to try again)"
                        );
                        ctx.note_error(id, &reason).await;
                        return Ok(());
                    }
                }
            }
            let joined = stitch(&playlists).map_err(|e| JobError::Permanent(e.to_string()))?;
            let key = self.generation.key(&format!("{def}/index.m3u8"));
            ctx.storage.put_bytes(&key, joined.into_bytes()).await?;
            sizes.push(rung_bytes(ctx, &self.generation.key(&format!("{def}/"))).await?);
        }
        let origins = ctx.delivery.origins();
        let needs_copies = origins.need_copies();
        let publish = |prefix: String| async move {
            if needs_copies {
                origins
                    .publish(&ctx.storage, &prefix)
                    .await
                    .map_err(|e| JobError::Transient(e.to_string()))?;
            }
            Ok::<_, JobError>(())
        };
        for rung in &added {
            publish(self.generation.key(&format!("{}/", rung.definition))).await?;
        }
        // The rungs are everywhere: now the master playlist may name them.
        let master_key = self.generation.master();
        let master = master_playlist(&self.rungs, self.fps, &self.audio);
        ctx.storage
            .put_bytes(&master_key, master.into_bytes())
            .await?;
        publish(master_key.clone()).await?;
        super::protect::refresh_tracks(ctx, id).await;

        let generation = &self.generation;
        let duration = Some(self.duration_ms);
        let (added, sizes, master_key) = (&added, &sizes, &master_key);
        let completed = ctx
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    let Some(source) = db::videos::find_any_for_update(conn, id).await? else {
                        return Ok(None);
                    };
                    if source.generation().as_ref() != Some(generation) || source.ladder_complete {
                        return Ok(None);
                    }
                    for (rung, bytes) in added.iter().zip(sizes) {
                        let key = generation.key(&format!("{}/index.m3u8", rung.definition));
                        let row = rendition_row(&source, rung, duration, &key, *bytes);
                        db::videos::insert(conn, &row).await?;
                    }
                    let defs: Vec<_> = added.iter().map(|r| r.definition).collect();
                    let done =
                        lifecycle::ladder_completed(conn, changes, id, master_key, &defs).await?;
                    if done.is_some() {
                        crate::video::downloads::queue_if_asked(conn, changes, &source).await?;
                    }
                    if !job.finish(conn).await? {
                        return Err(JobError::Transient(
                            "the job was taken over by another worker".into(),
                        ));
                    }
                    Ok(done)
                }
                .scope_boxed()
            })
            .await?;
        if completed.is_some() {
            tracing::info!(video = %id, rungs = added.len(), "ladder complete");
            for rung in added {
                let dir = self.generation.key(&format!("{}/", rung.definition));
                remove_chunk_playlists(ctx, &dir, self.chunks).await;
            }
        }
        Ok(())
    }
}

async fn remove_chunk_sources(ctx: &JobContext, id: VideoId, dir: &str) {
    if let Err(e) = ctx.storage.remove_all(dir).await {
        tracing::warn!(video = %id, error = %e, "chunk sources not removed");
    }
}

/// Bytes stored under one rung's directory.
async fn rung_bytes(ctx: &JobContext, dir: &str) -> Result<i64, JobError> {
    let mut lister = ctx.storage.op().lister_with(dir).recursive(true).await?;
    let mut total = 0i64;
    while let Some(entry) = lister.try_next().await? {
        if entry.metadata().is_file() {
            let size = match entry.metadata().content_length() {
                0 => ctx.storage.op().stat(entry.path()).await?.content_length(),
                n => n,
            };
            total += size as i64;
        }
    }
    Ok(total)
}

/// The chunks' playlists, joined now (best effort: they are small).
async fn remove_chunk_playlists(ctx: &JobContext, dir: &str, chunks: u32) {
    for index in 0..chunks {
        let key = format!("{dir}chunk_{index:05}.m3u8");
        let _ = ctx.storage.op().delete(&key).await;
        ctx.delivery.origins().remove(&key).await;
    }
}
