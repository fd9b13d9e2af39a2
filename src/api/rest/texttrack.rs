//! `/video/texttrack/add`, `/video/texttrack/list`, `/video/texttrack/delete`: a video's
//! subtitles and captions (WebVTT or SRT files), added without re-encoding.

use std::time::Duration;

use poem::Body;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiRequest, Object, OpenApi};

use super::video::find;
use super::{ErrorReply, OK, Reply, may};
use crate::Reel;
use crate::api::body::BodyError;
use crate::auth::{Caller, Scope};
use crate::db::models::TextTrack;
use crate::error::ErrorCode;
use crate::media::subtitles::SubtitleLimits;
use crate::model::TextTrackKind;
use crate::video::Video;
use crate::video::tracks::TextTrackInput;

pub struct TextTrackApi;

/// One text track of a video.
#[derive(Object)]
pub struct TextTrackItem {
    id: i64,
    /// Language tag (`fr`, `pt-BR`).
    language: String,
    /// The label players show.
    name: String,
    /// `SUBTITLES` or `CAPTIONS`.
    kind: String,
    /// Whether players select it without being asked.
    default: bool,
    /// Number of cues.
    cues: i32,
    /// Signed URL of the track's HLS media playlist; null until the video is playable.
    #[oai(nullable)]
    url: Option<String>,
}

#[derive(Object)]
pub struct TextTrackReply {
    code: String,
    message: String,
    track: TextTrackItem,
}

#[derive(Object)]
pub struct TextTrackListReply {
    code: String,
    message: String,
    vid: i64,
    tracks: Vec<TextTrackItem>,
}

#[derive(Object)]
pub struct TextTrackDeleteReply {
    code: String,
    message: String,
}

/// The WebVTT or SRT file, whatever its Content-Type says.
#[derive(ApiRequest)]
pub enum TrackFile {
    #[oai(content_type = "text/vtt")]
    WebVtt(Binary<Body>),
    #[oai(content_type = "application/x-subrip")]
    SubRip(Binary<Body>),
    #[oai(content_type = "text/plain")]
    Text(Binary<Body>),
    /// Any other Content-Type.
    Other(Binary<Body>),
}

impl TrackFile {
    fn into_body(self) -> Body {
        match self {
            Self::WebVtt(b) | Self::SubRip(b) | Self::Text(b) | Self::Other(b) => b.0,
        }
    }
}

fn bad(message: impl Into<String>) -> ErrorReply {
    ErrorReply::new(ErrorCode::BadRequest, message)
}

/// `kind`: `SUBTITLES` (the default) or `CAPTIONS`, in any case.
fn kind_param(raw: Option<&str>) -> Result<TextTrackKind, String> {
    match raw.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(TextTrackKind::default()),
        Some(kind) => kind.parse().map_err(|e| format!("kind: {e}")),
    }
}

/// `default`: `1`/`0` or `true`/`false` (any case); absent or empty is false.
fn flag_param(raw: Option<&str>) -> Result<bool, String> {
    match raw.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some("0" | "false") => Ok(false),
        Some(_) => Err("default must be 1/0 or true/false".into()),
    }
}

/// `id`: a text track id (a positive integer).
fn track_id(raw: &str) -> Result<i64, String> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| "id must be a text track id".into())
}

/// The request body, refused (`PAYLOAD_TOO_LARGE`) as soon as it outgrows `max_bytes`:
/// nothing past that is buffered.
async fn read_body(reel: &Reel, body: Body, max_bytes: usize) -> Result<Vec<u8>, ErrorReply> {
    let deadline = Duration::from_secs(reel.config.server.body_timeout_secs.max(1));
    let read = body.into_bytes_limit(max_bytes);
    let error = match tokio::time::timeout(deadline, read).await {
        Ok(Ok(bytes)) => return Ok(bytes.to_vec()),
        Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => BodyError::TooLarge(max_bytes),
        Ok(Err(e)) => BodyError::Unreadable(e.to_string()),
        Err(_) => BodyError::TooSlow(deadline),
    };
    Err(ErrorReply::from_coded(error))
}

/// A track as the API shows it; its URL points into the generation every origin holds.
fn item(reel: &Reel, video: &Video, track: TextTrack) -> TextTrackItem {
    let url = reel.videos.text_track_url(video, track.id);
    TextTrackItem {
        id: track.id,
        language: track.language,
        name: track.name,
        kind: track.kind,
        default: track.is_default,
        cues: track.cues,
        url,
    }
}

#[OpenApi(prefix_path = "/texttrack", tag = "TextTrackTag::TextTrack")]
impl TextTrackApi {
    /// Add a text track to `vid`: the WebVTT or SRT file is the request body (any
    /// Content-Type: `text/vtt`, `application/x-subrip`, `text/plain`,
    /// `application/octet-stream`; at most 2 MiB, UTF-8). A track of the same `language`
    /// and `kind` is replaced. The video's playlists list it at once; a file that does not
    /// parse is refused with the line to fix.
    #[oai(path = "/add", method = "post")]
    #[allow(clippy::too_many_arguments)]
    async fn add(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
        /// Language tag (`en`, `fr`, `pt-BR`).
        language: Query<String>,
        /// The label players show (default: the language tag).
        name: Query<Option<String>>,
        /// `SUBTITLES` (default) or `CAPTIONS` (also describe the sound), any case.
        kind: Query<Option<String>>,
        /// `1`/`true`: players select this track unless told otherwise (default 0).
        #[oai(name = "default")]
        is_default: Query<Option<String>>,
        body: TrackFile,
    ) -> Reply<TextTrackReply> {
        may(&caller, Scope::Upload)?;
        let kind = kind_param(kind.0.as_deref()).map_err(bad)?;
        let default = flag_param(is_default.0.as_deref()).map_err(bad)?;
        let limits = SubtitleLimits::default();
        let content = read_body(&reel, body.into_body(), limits.max_bytes).await?;
        let video = find(&reel, &caller, &vid).await?;
        let input = TextTrackInput {
            video: video.id,
            language: language.0,
            name: name.0,
            kind,
            default,
            content,
        };
        let track = reel
            .videos
            .tracks()
            .add(caller.app_id, input, limits)
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(TextTrackReply {
            code: OK.into(),
            message: "text track saved".into(),
            track: item(&reel, &video, track),
        }))
    }

    /// The text tracks of `vid`.
    #[oai(path = "/list", method = "get", method = "post")]
    async fn list(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<TextTrackListReply> {
        may(&caller, Scope::Read)?;
        let video = find(&reel, &caller, &vid).await?;
        let tracks = reel
            .videos
            .tracks()
            .list(caller.app_id, video.id)
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(TextTrackListReply {
            code: OK.into(),
            message: if tracks.is_empty() {
                "no text tracks"
            } else {
                "ok"
            }
            .into(),
            vid: video.id.0,
            tracks: tracks.into_iter().map(|t| item(&reel, &video, t)).collect(),
        }))
    }

    /// Delete text track `id`: gone from the video's playlists, then its files.
    #[oai(path = "/delete", method = "get", method = "post")]
    async fn delete(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        /// The track's id (from `add` or `list`).
        id: Query<String>,
    ) -> Reply<TextTrackDeleteReply> {
        may(&caller, Scope::Upload)?;
        let id = track_id(&id).map_err(bad)?;
        let deleted = reel
            .videos
            .tracks()
            .delete(caller.app_id, id)
            .await
            .map_err(ErrorReply::from_coded)?;
        if !deleted {
            return Err(ErrorReply::new(ErrorCode::NotFound, "text track not found"));
        }
        Ok(Json(TextTrackDeleteReply {
            code: OK.into(),
            message: "deleted".into(),
        }))
    }
}

#[derive(poem_openapi::Tags)]
enum TextTrackTag {
    /// Subtitles and captions: WebVTT or SRT files added to a video without re-encoding.
    TextTrack,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_defaults_to_subtitles_and_ignores_case() {
        assert_eq!(kind_param(None), Ok(TextTrackKind::Subtitles));
        assert_eq!(kind_param(Some(" ")), Ok(TextTrackKind::Subtitles));
        assert_eq!(kind_param(Some("subtitles")), Ok(TextTrackKind::Subtitles));
        assert_eq!(kind_param(Some("Captions")), Ok(TextTrackKind::Captions));
        assert_eq!(kind_param(Some(" CAPTIONS ")), Ok(TextTrackKind::Captions));
    }

    #[test]
    fn other_kinds_are_refused() {
        for raw in ["chapters", "SUBTITLE", "1", "captions,subtitles"] {
            let e = kind_param(Some(raw)).unwrap_err();
            assert!(e.contains("SUBTITLES or CAPTIONS"), "{raw}: {e}");
        }
    }

    #[test]
    fn default_flag() {
        assert_eq!(flag_param(None), Ok(false));
        assert_eq!(flag_param(Some("")), Ok(false));
        for raw in ["1", "true", "TRUE", "True", " 1 "] {
            assert_eq!(flag_param(Some(raw)), Ok(true), "{raw}");
        }
        for raw in ["0", "false", "FALSE", "False"] {
            assert_eq!(flag_param(Some(raw)), Ok(false), "{raw}");
        }
        for raw in ["yes", "2", "-1", "on", "truee"] {
            assert!(flag_param(Some(raw)).is_err(), "{raw}");
        }
    }

    #[test]
    fn the_routes_are_in_the_openapi_document() {
        let spec = poem_openapi::OpenApiService::new(TextTrackApi, "t", "1").spec();
        let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
        let paths = &spec["paths"];
        let add = &paths["/texttrack/add"];
        assert!(add["get"].is_null() && add["post"].is_object(), "{add}");
        let params: Vec<&str> = add["post"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(params, ["vid", "language", "name", "kind", "default"]);
        let media: Vec<&str> = add["post"]["requestBody"]["content"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for content_type in ["text/vtt", "application/x-subrip", "text/plain"] {
            assert!(media.contains(&content_type), "{media:?}");
        }
        for status in ["200", "400", "404", "413"] {
            assert!(add["post"]["responses"][status].is_object(), "{status}");
        }
        for path in ["/texttrack/list", "/texttrack/delete"] {
            assert!(paths[path]["get"].is_object() && paths[path]["post"].is_object());
        }
    }

    #[test]
    fn track_ids_are_positive_integers() {
        assert_eq!(track_id("42"), Ok(42));
        assert_eq!(track_id(" 7 "), Ok(7));
        for raw in ["0", "-3", "", "abc", "1.5", "99999999999999999999"] {
            assert!(track_id(raw).is_err(), "{raw:?}");
        }
    }
}
