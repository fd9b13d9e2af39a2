//! Text tracks: added, replaced and deleted without re-encoding (docs/architecture.md,
//! "Tracks"). A track's WebVTT lives in Postgres; `Tracks::refresh` writes it into every
//! generation a video plays or is about to play, as `text/{id}.vtt` with its media
//! playlist, then rewrites the master playlist to list it, and copies both to the origins.

use diesel_async::AsyncConnection;

use super::{Video, VideoError};
use crate::db::{self, DbPool, models::NewTextTrack, models::TextTrack};
use crate::delivery::origins::Origins;
use crate::media::decorate::{AudioEntry, TextEntry, with_tracks};
use crate::media::subtitles::{self, SubtitleLimits};
use crate::model::{AppId, Generation, TextTrackKind, VideoId};
use crate::storage::Storage;

use crate::media::transcode::MPEGTS_START_PTS;

/// A text track's file in a generation, relative to it (`ext`: `m3u8` or `vtt`).
fn text_file(id: i64, ext: &str) -> String {
    format!("text/{id}.{ext}")
}

/// A text track to add, as an adapter parsed it.
pub struct TextTrackInput {
    pub video: VideoId,
    pub language: String,
    pub name: Option<String>,
    pub kind: TextTrackKind,
    pub default: bool,
    /// The WebVTT or SRT file.
    pub content: Vec<u8>,
}

/// What writing text tracks needs: the rows, the bytes, the origins.
pub struct Tracks<'a> {
    pub db: &'a DbPool,
    pub storage: &'a Storage,
    pub origins: &'a Origins,
}

/// A language tag as HLS and players take it (BCP 47 shape: `fr`, `pt-BR`, `zh-Hans`).
pub fn check_language(language: &str) -> Result<String, VideoError> {
    let language = language.trim();
    let ok = (2..=35).contains(&language.len())
        && language
            .split('-')
            .all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()));
    match ok {
        true => Ok(language.to_string()),
        false => Err(VideoError::BadRequest(format!(
            "{language:?} is not a language tag (e.g. \"en\", \"pt-BR\")"
        ))),
    }
}

fn track_name(name: Option<&str>, language: &str) -> Result<String, VideoError> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(language);
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(VideoError::BadRequest(
            "a track name is at most 100 characters, without control characters".into(),
        ));
    }
    Ok(name.to_string())
}

impl Tracks<'_> {
    /// Adds a text track to `app`'s video (or replaces its track of that language and
    /// kind), then lists it in the video's playlists.
    pub async fn add(
        &self,
        app: AppId,
        input: TextTrackInput,
        limits: SubtitleLimits,
    ) -> Result<TextTrack, VideoError> {
        let language = check_language(&input.language)?;
        let name = track_name(input.name.as_deref(), &language)?;
        let parsed = subtitles::parse(&input.content, limits)
            .map_err(|e| VideoError::BadRequest(format!("the text track is refused: {e}")))?;
        let mut conn = self.db.get().await?;
        let video = source_of(&mut conn, app, input.video).await?;
        let row = NewTextTrack {
            video_id: video.id,
            language,
            name,
            kind: input.kind.as_str().to_string(),
            is_default: input.default,
            content: parsed.vtt,
            cues: parsed.cues as i32,
            end_ms: parsed.end_ms as i64,
        };
        let track = (*conn)
            .transaction(async |conn| {
                let track = db::tracks::upsert_text_track(conn, &row).await?;
                if track.is_default {
                    db::tracks::clear_other_defaults(conn, track.video_id, track.id).await?;
                }
                Ok::<_, VideoError>(track)
            })
            .await?;
        drop(conn);
        self.refresh(video.id).await?;
        Ok(track)
    }

    /// `app`'s video's text tracks.
    pub async fn list(&self, app: AppId, video: VideoId) -> Result<Vec<TextTrack>, VideoError> {
        let mut conn = self.db.get().await?;
        let video = source_of(&mut conn, app, video).await?;
        Ok(db::tracks::text_tracks(&mut conn, video.id).await?)
    }

    /// Deletes one of `app`'s text tracks: gone from the playlists, then its files.
    pub async fn delete(&self, app: AppId, id: i64) -> Result<bool, VideoError> {
        let mut conn = self.db.get().await?;
        let Some(track) = db::tracks::text_track(&mut conn, id).await? else {
            return Ok(false);
        };
        let video = match source_of(&mut conn, app, track.video_id).await {
            Err(VideoError::NotFound) => return Ok(false),
            other => other?,
        };
        db::tracks::delete_text_track(&mut conn, id).await?;
        drop(conn);
        self.refresh(video.id).await?;
        for generation in generations(&video) {
            for ext in ["m3u8", "vtt"] {
                let key = generation.key(&text_file(id, ext));
                if let Err(e) = self.storage.op().delete(&key).await {
                    tracing::warn!(video = %video.id, error = %e, "a deleted track's file stays");
                }
                self.origins.remove(&key).await;
            }
        }
        Ok(true)
    }

    /// Writes the video's text tracks into each generation it plays or is about to play
    /// and lists them, and the added audio renditions each holds, in its master playlist.
    /// Writers take the video's row lock in turn, so the last change wins everywhere.
    pub async fn refresh(&self, video: VideoId) -> Result<(), VideoError> {
        let mut conn = self.db.get().await?;
        (*conn)
            .transaction(async |conn| {
                if !db::tracks::lock_video(conn, video).await? {
                    return Ok(());
                }
                let Some(row) = db::videos::find_any(conn, video).await? else {
                    return Ok(());
                };
                let tracks = db::tracks::text_tracks(conn, video).await?;
                for generation in generations(&row) {
                    let pts = db::tracks::generation(conn, generation.prefix())
                        .await?
                        .and_then(|g| g.timeline_pts)
                        .map_or(MPEGTS_START_PTS, |p| p.max(0) as u64);
                    let master = self.stored(&generation.master()).await?;
                    let Some(master) = master else { continue };
                    let added = db::audio::in_generation(conn, video, generation.prefix()).await?;
                    let audio: Vec<AudioEntry<'_>> = added
                        .iter()
                        .map(|a| AudioEntry {
                            language: &a.language,
                            name: &a.name,
                            dir: a.dir(),
                        })
                        .collect();
                    self.write(&row, &generation, (&audio, &tracks), pts, &master)
                        .await?;
                }
                Ok::<_, VideoError>(())
            })
            .await
    }

    async fn stored(&self, key: &str) -> Result<Option<String>, VideoError> {
        let bytes = self.storage.get_small(key).await.map_err(infra)?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// One generation: the text tracks' files, then the master naming them and the added
    /// audio renditions it holds, then the origins.
    async fn write(
        &self,
        video: &Video,
        generation: &Generation,
        (audio, tracks): (&[AudioEntry<'_>], &[TextTrack]),
        pts: u64,
        master: &str,
    ) -> Result<(), VideoError> {
        let duration = video.duration.unwrap_or(0).max(0) as u64;
        for t in tracks {
            let vtt = subtitles::with_timestamp_map(&t.content, pts);
            let playlist = subtitles::media_playlist(
                &format!("{}.vtt", t.id),
                duration.max(t.end_ms.max(0) as u64),
            );
            for (name, body) in [
                (text_file(t.id, "vtt"), vtt),
                (text_file(t.id, "m3u8"), playlist),
            ] {
                let key = generation.key(&name);
                self.storage
                    .put_bytes(&key, body.into_bytes())
                    .await
                    .map_err(infra)?;
            }
        }
        let entries: Vec<TextEntry<'_>> = tracks
            .iter()
            .map(|t| TextEntry {
                language: &t.language,
                name: &t.name,
                kind: t.track_kind(),
                default: t.is_default,
                uri: text_file(t.id, "m3u8"),
            })
            .collect();
        let decorated = with_tracks(master, audio, &entries);
        let master_key = generation.master();
        self.storage
            .put_bytes(&master_key, decorated.into_bytes())
            .await
            .map_err(infra)?;
        if self.origins.need_copies() {
            let publish = |prefix: String| async move {
                self.origins
                    .publish(self.storage, &prefix)
                    .await
                    .map_err(|e| {
                        let kind = opendal::ErrorKind::Unexpected;
                        infra(opendal::Error::new(kind, e.to_string()))
                    })
            };
            if !tracks.is_empty() {
                publish(generation.key("text/")).await?;
            }
            publish(master_key).await?;
        }
        Ok(())
    }
}

/// The generations a video plays (published) or is about to (current), once each.
fn generations(video: &Video) -> Vec<Generation> {
    let mut out: Vec<Generation> = video.generation().into_iter().collect();
    if let Some(p) = video.published_generation()
        && !out.contains(&p)
    {
        out.push(p);
    }
    out
}

/// `app`'s source video `id` (a rendition or another app's video is not found).
async fn source_of(
    conn: &mut diesel_async::AsyncPgConnection,
    app: AppId,
    id: VideoId,
) -> Result<Video, VideoError> {
    db::videos::find(conn, app, id)
        .await?
        .filter(|v| v.parent_id.is_none())
        .ok_or(VideoError::NotFound)
}

fn infra(e: impl Into<crate::error::InfraError>) -> VideoError {
    VideoError::Infra(e.into())
}

impl super::VideoService {
    /// The signed URL of a text track's media playlist in the generation every origin
    /// holds; `None` before the video is published.
    pub fn text_track_url(&self, video: &Video, track: i64) -> Option<String> {
        let generation = video.published_generation()?;
        self.delivery
            .file_url(&generation.key(&text_file(track, "m3u8")))
    }
}
