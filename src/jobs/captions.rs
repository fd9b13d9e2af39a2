//! The `captions` job: the operator's speech-to-text command run on a transcoded video's
//! first audio stream, its WebVTT added as an auto-generated CAPTIONS track (off unless
//! `media.captions_command` is set; docs/configuration.md, "Captions by speech-to-text").

use std::time::Duration;

use super::{Job, JobContext, JobError};
use crate::db;
use crate::media::audio::speech_wav_args;
use crate::media::subtitles::SubtitleLimits;
use crate::model::TextTrackKind;
use crate::queue::Claimed;
use crate::video::VideoError;
use crate::video::tracks::{TextTrackInput, Tracks};
use crate::video::work::Captions;

/// The name of the tracks this job makes.
pub const AUTO_CAPTIONS: &str = "Auto-generated";

impl Job for Captions {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let Some(id) = job.video_id else {
            return Ok(());
        };
        let Some(video) = ctx.video(id).await? else {
            return Ok(());
        };
        let language = ctx.media.config().captions_language.clone();
        let existing = {
            let mut conn = ctx.db.get().await?;
            db::tracks::text_tracks(&mut conn, id).await?
        };
        // A publisher's own captions in this language win over generated ones.
        if existing
            .iter()
            .any(|t| t.track_kind() == TextTrackKind::Captions && t.language == language)
        {
            return Ok(());
        }
        let work = ctx.work_dir("captions-").await?;
        let source = ctx
            .storage
            .local_file(&video.storage_uri, &work.path().join("source"))
            .await?
            .ok_or_else(|| JobError::Permanent("the stored source is missing".into()))?;
        let wav = work.path().join("speech.wav");
        let vtt = work.path().join("captions.vtt");
        let timeout = Duration::from_secs(ctx.media.config().captions_timeout_secs.max(1));
        let duration = video.duration.unwrap_or(0);
        ctx.media
            .ffmpeg(&speech_wav_args(&source, &wav), timeout, duration, |_| {})
            .await?;
        ctx.media.speech_to_text(&wav, &vtt).await?;
        let limits = SubtitleLimits::default();
        let size = tokio::fs::metadata(&vtt)
            .await
            .map_err(|_| JobError::Permanent("the speech-to-text command wrote no file".into()))?
            .len();
        if size > limits.max_bytes as u64 {
            return Err(JobError::Permanent(format!(
                "the speech-to-text command wrote {size} bytes, more than a track may hold"
            )));
        }
        let content = tokio::fs::read(&vtt).await?;
        let tracks = Tracks {
            db: &ctx.db,
            storage: &ctx.storage,
            origins: ctx.delivery.origins(),
        };
        let input = TextTrackInput {
            video: id,
            language,
            name: Some(AUTO_CAPTIONS.into()),
            kind: TextTrackKind::Captions,
            default: false,
            content,
        };
        match tracks.add(video.app_id, input, limits).await {
            Ok(_) | Err(VideoError::NotFound) => Ok(()),
            Err(VideoError::BadRequest(reason)) => Err(JobError::Permanent(format!(
                "the speech-to-text command's output: {reason}"
            ))),
            Err(e) => Err(JobError::Transient(e.to_string())),
        }
    }

    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        if let (true, Some(video)) = (last, job.video_id) {
            ctx.note_error(video, &format!("no captions: {error}"))
                .await;
        }
    }
}
