//! `/video/status`, `/video/delete`, `/video/mediainfo`.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{ErrorReply, OK, Reply};
use crate::Reel;
use crate::auth::Caller;
use crate::error::ErrorCode;
use crate::ids::VideoId;
use crate::video::{Video, VideoError};

pub struct VideoApi;

#[derive(Object)]
pub struct StatusReply {
    code: String,
    message: String,
    vid: i64,
    /// `UPLOADING`, `UPLOADED`, `UPLOAD_FAILED`, `TRANSCODE_QUEUED`, `TRANSCODING`,
    /// `TRANSCODED`, `TRANSCODE_FAILED` or `PLAYABLE`.
    status: String,
    /// Progress of the current step, 0 to 100.
    progress: i16,
    error: Option<String>,
}

#[derive(Object)]
pub struct DoneReply {
    code: String,
    message: String,
}

#[derive(Object)]
pub struct MediaInfoReply {
    code: String,
    message: String,
    vid: i64,
    /// What the probe found (format, duration, bit rate, video and audio streams);
    /// absent until the video was probed.
    media_info: Option<serde_json::Value>,
}

fn vid(raw: &str) -> Result<VideoId, ErrorReply> {
    raw.parse::<VideoId>()
        .ok()
        .filter(|v| v.0 > 0)
        .ok_or_else(|| ErrorReply::new(ErrorCode::BadRequest, "vid must be a video id"))
}

async fn find(reel: &Reel, caller: &Caller, raw: &str) -> Result<Video, ErrorReply> {
    reel.videos
        .get(caller.app_id, vid(raw)?)
        .await
        .map_err(ErrorReply::from_coded)?
        .ok_or_else(|| ErrorReply::from_coded(VideoError::NotFound))
}

#[OpenApi]
impl VideoApi {
    /// A video's status: not found, uploading, uploaded, upload failed, transcode queued,
    /// transcoding, transcoded, transcode failed, playable.
    #[oai(path = "/status", method = "get", method = "post")]
    async fn status(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<StatusReply> {
        let video = find(&reel, &caller, &vid).await?;
        Ok(Json(StatusReply {
            code: OK.into(),
            message: video.status.to_string(),
            vid: video.id.0,
            status: video.status.to_string(),
            progress: video.progress,
            error: video.error,
        }))
    }

    /// Delete a video with its renditions, snapshots and stored bytes.
    #[oai(path = "/delete", method = "get", method = "post")]
    async fn delete(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<DoneReply> {
        reel.videos
            .delete(caller.app_id, self::vid(&vid)?)
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(DoneReply {
            code: OK.into(),
            message: "deleted".into(),
        }))
    }

    /// Media information of a video (after it was probed).
    #[oai(path = "/mediainfo", method = "get", method = "post")]
    async fn mediainfo(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<MediaInfoReply> {
        let video = find(&reel, &caller, &vid).await?;
        Ok(Json(MediaInfoReply {
            code: OK.into(),
            message: if video.media_info.is_some() {
                "ok"
            } else {
                "not probed yet"
            }
            .into(),
            vid: video.id.0,
            media_info: video.media_info,
        }))
    }
}
