//! Derived media in the seed API (DESIGN §14): `/video/downloads`, enabling them, and
//! clips.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::video::{find, vid};
use super::{ErrorReply, OK, Reply, may};
use crate::Reel;
use crate::auth::Caller;
use crate::auth::Scope;
use crate::video::downloads::parse_definitions;

pub struct DerivedApi;

#[derive(Object)]
pub struct DownloadsReply {
    code: String,
    message: String,
    vid: i64,
    /// The files made so far (an enabled download appears once its remux is done).
    downloads: Vec<DownloadItem>,
}

#[derive(Object)]
pub struct DownloadItem {
    /// A rung name (`HD`, …) or `AUDIO`.
    definition: String,
    /// Signed URL; the built-in origin names the file in `Content-Disposition`.
    url: String,
    file_size: i64,
}

#[derive(Object)]
pub struct ClipReply {
    code: String,
    message: String,
    /// The clip's own video id.
    vid: i64,
    /// Its status: `PLAYABLE` at once for an instant clip, `TRANSCODE_QUEUED` for a
    /// precise one.
    status: String,
    /// Its length in milliseconds (an instant clip's segments; a precise clip's range).
    duration: Option<i64>,
}

/// `downloads=` of an upload: comma-separated definitions, checked.
pub(super) fn downloads_param(raw: Option<&str>) -> Result<Option<Vec<String>>, ErrorReply> {
    let Some(raw) = raw else { return Ok(None) };
    let given: Vec<&str> = raw.split(',').filter(|d| !d.trim().is_empty()).collect();
    parse_definitions(&given)
        .map(Some)
        .map_err(ErrorReply::from_coded)
}

#[OpenApi]
impl DerivedApi {
    /// The downloadable MP4/M4A files of `vid`, with signed URLs.
    #[oai(path = "/downloads", method = "get", method = "post")]
    async fn downloads(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<DownloadsReply> {
        may(&caller, Scope::Play)?;
        let video = find(&reel, &caller, &vid).await?;
        let links = reel
            .videos
            .downloads(&video)
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(DownloadsReply {
            code: OK.into(),
            message: "ok".into(),
            vid: video.id.0,
            downloads: links
                .into_iter()
                .map(|d| DownloadItem {
                    definition: d.definition,
                    url: d.url,
                    file_size: d.file_size,
                })
                .collect(),
        }))
    }

    /// Asks for downloads of `vid`: `definitions` comma-separated (`HIGHEST`, rung
    /// names, `AUDIO`; default `HIGHEST`; empty for none). Made from the renditions
    /// without an encode, now if the video plays, else after its transcode.
    #[oai(path = "/downloads/enable", method = "post")]
    async fn enable(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
        definitions: Query<Option<String>>,
    ) -> Reply<DownloadsReply> {
        may(&caller, Scope::Upload)?;
        let id = self::vid(&vid)?;
        let definitions = downloads_param(definitions.0.as_deref())?;
        let video = reel
            .videos
            .enable_downloads(caller.app_id, id, definitions.as_deref())
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(DownloadsReply {
            code: OK.into(),
            message: "enabled".into(),
            vid: video.id.0,
            downloads: Vec::new(),
        }))
    }

    /// A clip of `vid` from `start` to `end` seconds: instant (segment-accurate, playable
    /// at once) or, with `precise=1`, frame-accurate (transcoded from the range).
    #[oai(path = "/clip/create", method = "post")]
    async fn create_clip(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
        start: Query<f64>,
        end: Query<f64>,
        precise: Query<Option<bool>>,
    ) -> Reply<ClipReply> {
        may(&caller, Scope::Upload)?;
        let parent = self::vid(&vid)?;
        let clip = reel
            .videos
            .create_clip(
                (caller.app_id, &caller.app_key),
                parent,
                start.0,
                end.0,
                precise.0.unwrap_or(false),
            )
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(ClipReply {
            code: OK.into(),
            message: "created".into(),
            vid: clip.id.0,
            status: clip.status.to_string(),
            duration: clip.duration,
        }))
    }
}
