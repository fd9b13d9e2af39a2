//! The transcode job: probe the source, run the single-pass ffmpeg plan with live
//! progress, store the outputs, then swap the renditions in one transaction.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use opendal::Operator;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::JobError;
use super::failure::trim;
use super::outputs::{self, Outputs};
use crate::config::{Config, MediaConfig};
use crate::db::{self, DbPool, jobs::Job, videos::VideoChange};
use crate::delivery::Delivery;
use crate::events::{EventBus, VideoEvent};
use crate::ids::VideoId;
use crate::media::ladder::{MIN_SIDE, ladder};
use crate::media::process::{ToolError, Tools};
use crate::media::transcode::{Plan, progress_line};
use crate::media::{MediaInfo, probe};
use crate::storage::layout;
use crate::upload::direct::read_chunks;
use crate::upload::pump::Chunks;
use crate::video::{Video, VideoStatus};

#[derive(Clone)]
pub struct Pipeline {
    pub(super) db: DbPool,
    pub(super) storage: Operator,
    pub(super) delivery: Delivery,
    /// `delivery.retain_replaced_secs`.
    pub(super) retain_replaced_secs: i64,
    /// Root of fs storage: sources are read in place instead of downloaded.
    pub(super) storage_root: Option<PathBuf>,
    pub(super) events: EventBus,
    pub(super) tools: Tools,
    pub(super) config: MediaConfig,
    pub(super) tmp_dir: PathBuf,
    pub(super) signal: super::JobSignal,
    /// Largest source an import may fetch (`upload.max_size`).
    pub(super) max_source_bytes: u64,
}

impl Pipeline {
    pub fn new(
        db: DbPool,
        storage: Operator,
        delivery: Delivery,
        events: EventBus,
        signal: super::JobSignal,
        config: &Config,
    ) -> Self {
        Self {
            tools: Tools::new(config.media.max_processes),
            db,
            storage,
            delivery,
            retain_replaced_secs: config.delivery.retain_replaced_secs,
            storage_root: crate::storage::fs_root(&config.storage, &config.data_dir),
            events,
            signal,
            config: config.media.clone(),
            tmp_dir: config.data_dir.join("tmp"),
            max_source_bytes: config.upload.max_size,
        }
    }

    pub(super) async fn announce(&self, video: &Video) {
        if let Err(e) = self.events.publish(&VideoEvent::snapshot(video)).await {
            tracing::warn!(video = %video.id, error = %e, "event not published");
        }
    }

    pub(super) async fn set(
        &self,
        id: VideoId,
        to: VideoStatus,
        change: VideoChange,
    ) -> Result<Option<Video>, JobError> {
        let mut conn = self.db.get().await?;
        let video = db::videos::transition(&mut conn, id, to, change).await?;
        drop(conn);
        if let Some(v) = &video {
            self.announce(v).await;
        }
        Ok(video)
    }

    /// One attempt of a transcode job.
    pub async fn run(&self, job: &Job, worker: &str) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("transcode job without a video".into()))?;
        let started = std::time::Instant::now();
        let change = VideoChange {
            progress: Some(0),
            error: Some(None),
            ..VideoChange::default()
        };
        let video = match self.set(id, VideoStatus::Transcoding, change).await? {
            Some(v) => v,
            // Taken over after a crash: it is TRANSCODING already.
            None => self
                .current(id)
                .await?
                .filter(|v| v.status == VideoStatus::Transcoding)
                .ok_or_else(|| {
                    JobError::Permanent("the video is not waiting for a transcode".into())
                })?,
        };
        let work = tempfile::Builder::new()
            .prefix("transcode-")
            .tempdir_in(self.ensure_tmp().await?)?;
        let source = self.local_source(&video, work.path()).await?;
        let (info, plan) = self
            .plan_file(&source, video.image_count.clamp(1, 100) as u32)
            .await?;
        self.record_probe(id, &info).await?;

        let out = work.path().join("out");
        tokio::fs::create_dir_all(out.join("snapshots")).await?;
        self.ffmpeg(&video, &plan, &source, &out).await?;

        let dst = job.payload.get("dst").and_then(|d| d.as_str());
        let generation = match dst {
            Some(dst) => format!("{dst}{id}/{}/", job.id),
            None => format!("{}{}/", layout::output_dir(id), job.id),
        };
        let outputs = Outputs::collect(&out, &plan, &generation)?;
        outputs::upload(&self.storage, &out, &outputs).await?;
        // Everything is in storage: the temp dir goes before the video is marked done.
        drop(work);
        let publishing = outputs::Publishing {
            needs_copies: self.delivery.origins().need_copies(),
            retain_secs: self.retain_replaced_secs,
        };
        let swapped = outputs::swap(
            &self.db,
            &video,
            &info,
            &plan,
            &outputs,
            job.id,
            worker,
            &publishing,
        )
        .await;
        match swapped {
            Ok(Some(done)) => {
                if let Some(unused) = done.unused {
                    self.remove_generation(&unused).await;
                }
                self.announce(&done.transcoded).await;
                match &done.playable {
                    Some(playable) => self.announce(playable).await,
                    None => self.signal.notify().await,
                }
                let seconds = started.elapsed().as_secs_f64();
                let realtime = plan_seconds(&plan) / seconds.max(0.001);
                metrics::histogram!(crate::metrics::TRANSCODE_SECONDS).record(seconds);
                metrics::histogram!(crate::metrics::TRANSCODE_REALTIME).record(realtime);
                let rungs = plan.rungs.len();
                tracing::info!(video = %id, rungs, seconds, realtime, "transcoded");
                Ok(())
            }
            // The video was deleted meanwhile: drop what we stored (by default under
            // its output directory, which goes whole).
            Ok(None) => {
                match dst {
                    Some(_) => {
                        let _ = self.storage.delete_with(&generation).recursive(true).await;
                    }
                    None => self.remove_outputs(id).await,
                }
                Ok(())
            }
            Err(e) => {
                let _ = self.storage.delete_with(&generation).recursive(true).await;
                Err(e)
            }
        }
    }

    /// Removes a generation of outputs from storage and every origin.
    pub(super) async fn remove_generation(&self, prefix: &str) {
        if let Err(e) = self.storage.delete_with(prefix).recursive(true).await {
            tracing::warn!(prefix, error = %e, "could not remove a replaced generation");
        }
        self.delivery.origins().remove(prefix).await;
    }

    pub(super) async fn current(&self, id: VideoId) -> Result<Option<Video>, JobError> {
        let mut conn = self.db.get().await?;
        Ok(db::pipeline::find_any(&mut conn, id).await?)
    }

    async fn ensure_tmp(&self) -> Result<&Path, JobError> {
        tokio::fs::create_dir_all(&self.tmp_dir).await?;
        Ok(&self.tmp_dir)
    }

    /// A local path to the source: in place on fs storage, otherwise downloaded into `work`.
    async fn local_source(&self, video: &Video, work: &Path) -> Result<PathBuf, JobError> {
        if video.storage_uri.is_empty() {
            return Err(JobError::Permanent("the video has no stored source".into()));
        }
        if let Some(root) = &self.storage_root {
            let path = root.join(&video.storage_uri);
            if tokio::fs::try_exists(&path).await? {
                return Ok(path);
            }
            return Err(JobError::Permanent("the stored source is missing".into()));
        }
        let path = work.join("source");
        let mut source = self.source_chunks(video).await?;
        let mut file = tokio::fs::File::create(&path).await?;
        while let Some(chunk) = source.next().await {
            file.write_all(&chunk?).await?;
        }
        file.flush().await?;
        Ok(path)
    }

    /// The video's stored source as it is read: on fs storage the file itself, read
    /// around the page cache (it was written that way and is read once here).
    pub(super) async fn source_chunks(
        &self,
        video: &Video,
    ) -> Result<std::pin::Pin<Box<dyn Chunks>>, JobError> {
        if let Some(root) = &self.storage_root {
            return Ok(Box::pin(read_chunks(root.join(&video.storage_uri)).await?));
        }
        let reader = self
            .storage
            .reader_with(&video.storage_uri)
            .chunk(8 << 20)
            .await?;
        Ok(Box::pin(reader.into_bytes_stream(..).await?))
    }

    /// What a file is and what would be made of it (also `reel media plan`).
    pub async fn plan_file(
        &self,
        source: &Path,
        snapshots: u32,
    ) -> Result<(MediaInfo, Plan), JobError> {
        let info = self.probe(source).await?;
        let plan = self.plan(&info, snapshots)?;
        Ok((info, plan))
    }

    async fn probe(&self, source: &Path) -> Result<MediaInfo, JobError> {
        let args: Vec<String> = [
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            "-format_whitelist",
            crate::media::SOURCE_FORMATS,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([source.to_string_lossy().into_owned()])
        .collect();
        let out = self
            .tools
            .run(&self.config.ffprobe, &args, Duration::from_secs(60))
            .await
            .map_err(|e| match e {
                // The server's paths are not the client's business.
                ToolError::Failed { stderr, .. } => JobError::Permanent(format!(
                    "not a media file: {}",
                    stderr
                        .lines()
                        .last()
                        .unwrap_or("ffprobe failed")
                        .replace(&*source.to_string_lossy(), "the file")
                )),
                other => JobError::Transient(other.to_string()),
            })?;
        probe::parse(&out.stdout).map_err(|e| JobError::Permanent(format!("not a media file: {e}")))
    }

    fn plan(&self, info: &MediaInfo, snapshots: u32) -> Result<Plan, JobError> {
        let (w, h) = info.display_size().ok_or_else(|| {
            JobError::Permanent(
                "no video stream: audio-only and other files are not transcoded".into(),
            )
        })?;
        if w < MIN_SIDE as i32 || h < MIN_SIDE as i32 {
            return Err(JobError::Permanent(format!(
                "the video is {w}x{h}; at least {MIN_SIDE}x{MIN_SIDE} is needed"
            )));
        }
        let duration_ms = info.duration_ms.filter(|d| *d > 0).ok_or_else(|| {
            JobError::Permanent("the file has no duration (empty or truncated?)".into())
        })?;
        Ok(Plan {
            rungs: ladder(w as u32, h as u32, &self.config.definitions),
            has_audio: info.audio.is_some(),
            duration_ms,
            fps: info.video.as_ref().and_then(|v| v.fps).unwrap_or(30.0),
            snapshots,
            threads: self.config.threads,
        })
    }

    async fn record_probe(&self, id: VideoId, info: &MediaInfo) -> Result<(), JobError> {
        let mut conn = self.db.get().await?;
        db::pipeline::record_media_info(&mut conn, id, info).await?;
        Ok(())
    }

    /// Runs ffmpeg, publishing progress at most twice a second.
    async fn ffmpeg(
        &self,
        video: &Video,
        plan: &Plan,
        source: &Path,
        out: &Path,
    ) -> Result<(), JobError> {
        let args = plan.ffmpeg_args(source, out);
        tracing::debug!(command = %format!("ffmpeg {}", args.join(" ")), "transcoding");
        let timeout = Duration::from_secs(120)
            + Duration::from_millis(plan.duration_ms as u64) * self.config.timeout_factor;
        let (tx, mut rx) = watch::channel(0i16);
        let reporter = {
            let (db, events, id) = (self.db.clone(), self.events.clone(), video.id);
            tokio::spawn(async move {
                let mut last = 0;
                while rx.changed().await.is_ok() {
                    let p = *rx.borrow_and_update();
                    if p <= last {
                        continue;
                    }
                    last = p;
                    if let Ok(mut conn) = db.get().await
                        && let Ok(Some(v)) = db::pipeline::set_progress(&mut conn, id, p).await
                    {
                        let _ = events.publish(&VideoEvent::snapshot(&v)).await;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            })
        };
        let duration_ms = plan.duration_ms;
        let result = self
            .tools
            .run_with_lines(&self.config.ffmpeg, &args, timeout, move |line| {
                if let Some(p) = progress_line(line, duration_ms) {
                    let _ = tx.send(p);
                }
            })
            .await;
        let _ = reporter.await;
        result.map(|_| ()).map_err(|e| match e {
            ToolError::Failed { stderr, .. } => {
                JobError::Transient(format!("ffmpeg failed: {}", trim(&stderr)))
            }
            other => JobError::Transient(other.to_string()),
        })
    }
}

fn plan_seconds(plan: &Plan) -> f64 {
    plan.duration_ms as f64 / 1000.0
}
