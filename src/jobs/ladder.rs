//! The job graph of a chunked ladder (docs/architecture.md, "Chunked ladder"): once the
//! early rung is published, one `transcode_chunk` job per chunk (any worker may take
//! each), and one `finish_ladder` job that waits for all of them. Queued in the
//! transaction that publishes the early rung; how each runs is in `chunk.rs` and
//! `stitch.rs`.

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use crate::db::models::Video;
use crate::media::chunks::Chunk;
use crate::media::ladder::Rung;
use crate::model::{Generation, JobId, VideoId, layout};
use crate::queue::{NewJob, Payload};
use crate::video::lifecycle::{self, Changes};

/// Encode every rung but the early one for one chunk of the source's video.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncodeChunk {
    pub generation: Generation,
    pub chunk: Chunk,
    /// Storage key of the chunk's video (`layout::chunk_key`).
    pub source_key: String,
    pub rungs: Vec<Rung>,
    pub fps: f64,
}

impl Payload for EncodeChunk {
    const KIND: &'static str = "transcode_chunk";
}

/// Join the chunks' playlists, list every rung in the master playlist, publish them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinishLadder {
    pub generation: Generation,
    /// Where the chunks' sources are (removed once the ladder is done or given up).
    pub chunk_dir: String,
    pub chunks: u32,
    /// Every rung, the early one first.
    pub rungs: Vec<Rung>,
    pub fps: f64,
    pub has_audio: bool,
    pub duration_ms: i64,
}

impl Payload for FinishLadder {
    const KIND: &'static str = "finish_ladder";
}

/// What follows the early rung of one transcode.
#[derive(Debug, Clone)]
pub struct RestOfLadder {
    pub generation: Generation,
    pub chunks: Vec<Chunk>,
    /// Every rung, the early one first.
    pub rungs: Vec<Rung>,
    pub fps: f64,
    pub has_audio: bool,
    pub duration_ms: i64,
    pub video: VideoId,
    /// The transcode job that cut the chunks (names their directory).
    pub transcode_job: JobId,
}

impl RestOfLadder {
    pub fn chunk_dir(&self) -> String {
        layout::chunk_dir(self.video, self.transcode_job)
    }

    /// Queues the chunks' jobs and the job that finishes the ladder after them. Chunks
    /// run at the video's priority, so one long film does not hold up short videos queued
    /// after it any longer than its early rung did.
    pub async fn enqueue(
        &self,
        conn: &mut AsyncPgConnection,
        changes: &mut Changes,
        video: &Video,
    ) -> QueryResult<()> {
        let mut chunk_jobs = Vec::with_capacity(self.chunks.len());
        for chunk in &self.chunks {
            let payload = EncodeChunk {
                generation: self.generation.clone(),
                chunk: chunk.clone(),
                source_key: layout::chunk_key(self.video, self.transcode_job, chunk.index),
                rungs: self.rungs[1..].to_vec(),
                fps: self.fps,
            };
            let job = NewJob::new(&payload).for_video(video);
            chunk_jobs.push(lifecycle::enqueue(conn, changes, job).await?);
        }
        let finish = FinishLadder {
            generation: self.generation.clone(),
            chunk_dir: self.chunk_dir(),
            chunks: self.chunks.len() as u32,
            rungs: self.rungs.clone(),
            fps: self.fps,
            has_audio: self.has_audio,
            duration_ms: self.duration_ms,
        };
        let job = NewJob::new(&finish)
            .for_video(video)
            .priority(video.task_priority.saturating_add(1))
            .after(chunk_jobs);
        lifecycle::enqueue(conn, changes, job).await?;
        Ok(())
    }
}
