//! The job graph of a chunked ladder (docs/architecture.md, "Chunked ladder"): one
//! `transcode_chunk` job per chunk (any worker may take each, while the transcode job
//! still encodes the early rung), and one `finish_ladder` job that waits for all of them
//! and for the transcode job. How each runs is in `chunk.rs` and `stitch.rs`.

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use crate::db::models::Video;
use crate::media::chunks::Chunk;
use crate::media::ladder::Rung;
use crate::model::{AudioTrack, Generation, JobId, VideoId, layout};
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
    /// The transcode job that cut the chunk: while it runs, the ladder is still coming.
    pub transcode_job: JobId,
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
    /// The audio renditions the early pass made (the master lists them).
    #[serde(default)]
    pub audio: Vec<AudioTrack>,
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
    pub audio: Vec<AudioTrack>,
    pub duration_ms: i64,
    pub video: VideoId,
    /// The transcode job that cut the chunks (names their directory).
    pub transcode_job: JobId,
}

impl RestOfLadder {
    pub fn chunk_dir(&self) -> String {
        layout::chunk_dir(self.video, self.transcode_job)
    }

    /// Whether the chunks' jobs are queued already (by an earlier attempt of the job).
    pub async fn queued(&self, conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        let prefix = self.generation.prefix();
        crate::db::jobs::exists_with(conn, self.video, EncodeChunk::KIND, "generation", prefix)
            .await
    }

    /// Queues the chunks' jobs, and the job that finishes the ladder after them and after
    /// the transcode job (which publishes the early rung). Chunks run at the video's
    /// priority; other workers take them while the early rung is being encoded.
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
                transcode_job: self.transcode_job,
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
            audio: self.audio.clone(),
            duration_ms: self.duration_ms,
        };
        let job = NewJob::new(&finish)
            .for_video(video)
            .priority(video.task_priority.saturating_add(1))
            .after(chunk_jobs.into_iter().chain([self.transcode_job]));
        lifecycle::enqueue(conn, changes, job).await?;
        crate::db::videos::start_ladder(conn, self.video, self.chunks.len() as i32).await
    }
}
