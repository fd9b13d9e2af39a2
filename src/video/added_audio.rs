//! Audio tracks added to a video from audio files (docs/architecture.md, "Tracks"): the
//! file is kept under the video's output directory, an `audio_track` job encodes it into
//! each generation, and the master lists it once it is there.

use diesel_async::AsyncPgConnection;

use super::lifecycle::{self, Changes};
use super::tracks::{Tracks, check_language};
use super::work::AddedAudioTrack;
use super::{Video, VideoError};
use crate::db::{self, models::AddedAudio};
use crate::model::{AppId, VideoId, layout};
use crate::queue::NewJob;

/// Where an added track's file is kept (removed with the video's outputs).
pub fn source_key(video: VideoId, upload: &str) -> String {
    format!("{}added_audio/{upload}", layout::output_dir(video))
}

/// Records the track whose file is stored at `key` and queues its encode, in the
/// caller's transaction.
pub async fn add(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    video: &Video,
    language: &str,
    name: Option<&str>,
    key: &str,
) -> Result<AddedAudio, VideoError> {
    let language = check_language(language)?;
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&language);
    let name: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
    let track = db::audio::insert(conn, video.id, &language, &name, key).await?;
    let job = NewJob::new(&AddedAudioTrack { track: track.id }).for_video(video);
    lifecycle::enqueue(conn, changes, job).await?;
    Ok(track)
}

impl Tracks<'_> {
    /// `app`'s video's added audio tracks.
    pub async fn added_audio(
        &self,
        app: AppId,
        video: VideoId,
    ) -> Result<Vec<AddedAudio>, VideoError> {
        let mut conn = self.db.get().await?;
        match db::videos::find(&mut conn, app, video).await? {
            Some(_) => Ok(db::audio::of_video(&mut conn, video).await?),
            None => Err(VideoError::NotFound),
        }
    }

    /// The track the tus upload `upload` added to `app`'s video, if it did.
    pub async fn added_audio_of_upload(
        &self,
        app: AppId,
        video: VideoId,
        upload: &str,
    ) -> Result<Option<AddedAudio>, VideoError> {
        let key = source_key(video, upload);
        let tracks = self.added_audio(app, video).await?;
        Ok(tracks.into_iter().find(|t| t.source_key == key))
    }

    /// Deletes one of `app`'s added audio tracks: gone from the playlists, then its files.
    pub async fn delete_audio(&self, app: AppId, id: i64) -> Result<bool, VideoError> {
        let mut conn = self.db.get().await?;
        let Some(track) = db::audio::find(&mut conn, id).await? else {
            return Ok(false);
        };
        let Some(video) = db::videos::find(&mut conn, app, track.video_id).await? else {
            return Ok(false);
        };
        db::audio::delete(&mut conn, id).await?;
        drop(conn);
        self.refresh(video.id).await?;
        let mut prefixes: Vec<String> = [video.generation(), video.published_generation()]
            .into_iter()
            .flatten()
            .map(|g| g.key(&format!("{}/", track.dir())))
            .collect();
        prefixes.dedup();
        for prefix in prefixes {
            if let Err(e) = self.storage.remove_all(&prefix).await {
                tracing::warn!(video = %video.id, error = %e, "a deleted track's files stay");
            }
            self.origins.remove(&prefix).await;
        }
        if let Err(e) = self.storage.op().delete(&track.source_key).await {
            tracing::warn!(video = %video.id, error = %e, "a deleted track's file stays");
        }
        Ok(true)
    }
}
