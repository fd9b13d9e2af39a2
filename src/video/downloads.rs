//! Downloads (docs/architecture.md, "Derived media"): which MP4/M4A files a video asks
//! for, enabling them, and their signed URLs. The files are made by `jobs/downloads.rs`.

use scoped_futures::ScopedFutureExt;

use super::lifecycle;
use super::work::MakeDownloads;
use super::{Video, VideoError, VideoService};
use crate::db;
use crate::media::download::file_name;
use crate::model::{AppId, Definition, MediaKind, VideoId};
use crate::queue::NewJob;

/// The top rung the ladder has.
pub const HIGHEST: &str = "HIGHEST";
/// The audio-only M4A.
pub const AUDIO: &str = "AUDIO";
/// At most this many definitions in one request.
const MAX_DEFINITIONS: usize = 8;

/// Definitions as clients give them (`HIGHEST`, `AUDIO`, rung names; any case),
/// checked, upper-cased and without repeats.
pub fn parse_definitions<S: AsRef<str>>(given: &[S]) -> Result<Vec<String>, VideoError> {
    if given.len() > MAX_DEFINITIONS {
        return Err(VideoError::BadRequest(format!(
            "at most {MAX_DEFINITIONS} download definitions"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for name in given {
        let name = name.as_ref().trim().to_ascii_uppercase();
        let known = name == HIGHEST || name == AUDIO || name.parse::<Definition>().is_ok();
        if !known {
            let rungs: Vec<&str> = Definition::ALL.iter().map(|d| d.as_str()).collect();
            return Err(VideoError::BadRequest(format!(
                "unknown download definition {name:?}: HIGHEST, AUDIO or one of {}",
                rungs.join(", ")
            )));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// One file to make: its definition (a rung name or `AUDIO`), the media playlists it is
/// remuxed from and its extension.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadTarget {
    pub definition: String,
    pub video: Option<String>,
    pub audio: Option<String>,
    pub extension: &'static str,
}

/// The files `wanted` means for a video with these `renditions` (of one generation) and
/// audio playlist: `HIGHEST` is the top rung, a rung the ladder lacks is skipped, and an
/// audio-only video has only its `AUDIO` file.
pub fn targets(
    wanted: &[String],
    kind: MediaKind,
    renditions: &[Video],
    audio: Option<&str>,
) -> Vec<DownloadTarget> {
    let rung = |d: Definition| {
        renditions
            .iter()
            .find(|r| r.definition == Some(d))
            .map(|r| r.storage_uri.clone())
    };
    let highest = renditions.iter().filter_map(|r| r.definition).max();
    let mut out: Vec<DownloadTarget> = Vec::new();
    for name in wanted {
        let target = match (name.as_str(), kind) {
            (AUDIO, _) | (HIGHEST, MediaKind::Audio) => audio.map(|a| DownloadTarget {
                definition: AUDIO.into(),
                video: None,
                audio: Some(a.to_string()),
                extension: "m4a",
            }),
            (_, MediaKind::Audio) => None,
            (name, MediaKind::Video) => {
                let definition = match name {
                    HIGHEST => highest,
                    other => other.parse::<Definition>().ok(),
                };
                definition.and_then(|d| {
                    Some(DownloadTarget {
                        definition: d.as_str().into(),
                        video: Some(rung(d)?),
                        audio: audio.map(str::to_string),
                        extension: "mp4",
                    })
                })
            }
        };
        if let Some(t) = target.filter(|t| !out.iter().any(|o| o.definition == t.definition)) {
            out.push(t);
        }
    }
    out
}

/// A made file as clients see it.
#[derive(Debug, Clone)]
pub struct DownloadLink {
    pub definition: String,
    pub url: String,
    pub file_size: i64,
}

impl VideoService {
    /// Asks for downloads of a source of `app` (`None`: `HIGHEST`; empty: none any more)
    /// and, when it plays its complete ladder, queues them at once.
    pub async fn enable_downloads(
        &self,
        app: AppId,
        id: VideoId,
        definitions: Option<&[String]>,
    ) -> Result<Video, VideoError> {
        let wanted = match definitions {
            Some(given) => parse_definitions(given)?,
            None => vec![HIGHEST.to_string()],
        };
        self.lifecycle
            .commit(|conn, changes| {
                async move {
                    let video = db::videos::find(conn, app, id)
                        .await?
                        .ok_or(VideoError::NotFound)?;
                    if video.parent_id.is_some() {
                        return Err(VideoError::BadRequest(
                            "renditions have no downloads; ask on their source".into(),
                        ));
                    }
                    if db::clips::find(conn, id).await?.is_some_and(|c| !c.precise) {
                        return Err(VideoError::BadRequest(
                            "an instant clip has no renditions of its own; make a precise clip to download it".into(),
                        ));
                    }
                    db::downloads::set_requested(conn, id, &wanted).await?;
                    if wanted.is_empty() {
                        db::downloads::delete_except(conn, id, &[]).await?;
                    } else if video.generation().is_some() && video.ladder_complete {
                        let job = NewJob::new(&MakeDownloads {}).for_video(&video);
                        lifecycle::enqueue(conn, changes, job).await?;
                    }
                    Ok(video)
                }
                .scope_boxed()
            })
            .await
    }

    /// The downloads made for `video`, with signed URLs naming the file.
    pub async fn downloads(&self, video: &Video) -> Result<Vec<DownloadLink>, VideoError> {
        let mut conn = self.db.get().await?;
        let made = db::downloads::of_video(&mut conn, video.id).await?;
        Ok(made
            .into_iter()
            .filter_map(|d| {
                let extension = d.storage_key.rsplit('.').next().unwrap_or("mp4");
                let name = file_name(&video.source_name, &d.definition, extension);
                Some(DownloadLink {
                    url: self.delivery.download_url(&d.storage_key, &name)?,
                    definition: d.definition,
                    file_size: d.file_size,
                })
            })
            .collect())
    }
}

/// Queues the downloads a video asks for, if any (after a ladder completes).
pub async fn queue_if_asked(
    conn: &mut diesel_async::AsyncPgConnection,
    changes: &mut lifecycle::Changes,
    video: &Video,
) -> diesel::QueryResult<()> {
    if db::downloads::requested(conn, video.id).await?.is_some() {
        let job = NewJob::new(&MakeDownloads {}).for_video(video);
        lifecycle::enqueue(conn, changes, job).await?;
    }
    Ok(())
}
