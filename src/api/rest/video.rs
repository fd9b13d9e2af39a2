//! `/video/status`, `/video/delete`, `/video/mediainfo`.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{ErrorReply, OK, Reply, may};
use crate::Reel;
use crate::auth::Caller;
use crate::auth::Scope;
use crate::error::ErrorCode;
use crate::model::VideoId;
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
    /// Progress of the current step, 0 to 100 (while `ladder_complete` is false: of the
    /// rungs still coming).
    progress: i16,
    #[oai(nullable)]
    error: Option<String>,
    /// False while rungs are still coming after the video became playable on its first.
    ladder_complete: bool,
}

#[derive(Object)]
pub struct SnapshotReply {
    code: String,
    message: String,
    vid: i64,
    /// Index of the cover among `snapshots`.
    cover: i32,
    snapshots: Vec<SnapshotItem>,
    /// Scrubbing previews: a sprite sheet and the WebVTT track that points into it.
    #[oai(nullable)]
    sprite: Option<String>,
    #[oai(nullable)]
    thumbnails: Option<String>,
}

#[derive(Object)]
pub struct SnapshotItem {
    image_index: i32,
    url: String,
    #[oai(nullable)]
    width: Option<i32>,
    #[oai(nullable)]
    height: Option<i32>,
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
    #[oai(nullable)]
    media_info: Option<serde_json::Value>,
}

pub(super) fn vid(raw: &str) -> Result<VideoId, ErrorReply> {
    raw.parse::<VideoId>()
        .ok()
        .filter(|v| v.0 > 0)
        .ok_or_else(|| ErrorReply::new(ErrorCode::BadRequest, "vid must be a video id"))
}

pub(super) async fn find(reel: &Reel, caller: &Caller, raw: &str) -> Result<Video, ErrorReply> {
    reel.videos
        .get(caller.app_id, vid(raw)?)
        .await
        .map_err(ErrorReply::from_coded)?
        .ok_or_else(|| ErrorReply::from_coded(VideoError::NotFound))
}

fn status_reply(video: Video) -> StatusReply {
    StatusReply {
        code: OK.into(),
        message: video.status.to_string(),
        vid: video.id.0,
        status: video.status.to_string(),
        progress: video.progress,
        ladder_complete: video.ladder_complete,
        error: video.error,
    }
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
        may(&caller, Scope::Read)?;
        let video = find(&reel, &caller, &vid).await?;
        Ok(Json(status_reply(video)))
    }

    /// Delete a video with its renditions, snapshots and stored bytes.
    #[oai(path = "/delete", method = "get", method = "post")]
    async fn delete(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<DoneReply> {
        may(&caller, Scope::Upload)?;
        reel.videos
            .delete(caller.app_id, self::vid(&vid)?)
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(DoneReply {
            code: OK.into(),
            message: "deleted".into(),
        }))
    }

    /// Queue a transcode of `vid` (higher `priority` first), or of a file already in
    /// storage: `src` (`fs://key`, `s3://bucket/key`, `oss://bucket/key`) and optional `dst`
    /// (where the outputs go), which returns the new `vid`.
    #[oai(path = "/transcode", method = "get", method = "post")]
    async fn transcode(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<Option<String>>,
        src: Query<Option<String>>,
        dst: Query<Option<String>>,
        priority: Query<Option<i32>>,
    ) -> Reply<StatusReply> {
        let video = match (vid.0, src.0) {
            (Some(vid), None) => {
                may(&caller, Scope::Upload)?;
                reel.videos
                    .transcode(
                        (caller.app_id, &caller.app_key),
                        self::vid(&vid)?,
                        priority.0,
                    )
                    .await
            }
            (None, Some(src)) => {
                may(&caller, Scope::Manage)?;
                reel.videos
                    .transcode_uri(
                        (caller.app_id, &caller.app_key),
                        &src,
                        dst.0.as_deref(),
                        priority.0,
                    )
                    .await
            }
            _ => {
                return Err(ErrorReply::new(
                    ErrorCode::BadRequest,
                    "give either vid or src (with optional dst)",
                ));
            }
        }
        .map_err(ErrorReply::from_coded)?;
        Ok(Json(status_reply(video)))
    }

    /// Transcode `vid` again; its current renditions play until the new ones replace them.
    #[oai(path = "/retranscode", method = "get", method = "post")]
    async fn retranscode(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<StatusReply> {
        may(&caller, Scope::Upload)?;
        let video = reel
            .videos
            .transcode((caller.app_id, &caller.app_key), self::vid(&vid)?, None)
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(status_reply(video)))
    }

    /// The seed's spelling of `retranscode`.
    #[oai(path = "/retransocde", method = "get", method = "post", deprecated)]
    async fn retransocde(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<StatusReply> {
        self.retranscode(reel, caller, vid).await
    }

    /// Snapshots of `vid` (evenly spaced), its cover, and the scrubbing sprite + WebVTT.
    #[oai(path = "/snapshot", method = "get", method = "post")]
    async fn snapshot(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
    ) -> Reply<SnapshotReply> {
        may(&caller, Scope::Play)?;
        let video = find(&reel, &caller, &vid).await?;
        let snapshots = reel
            .videos
            .snapshots(&video)
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(SnapshotReply {
            code: OK.into(),
            message: if snapshots.is_empty() {
                "no snapshots yet"
            } else {
                "ok"
            }
            .into(),
            vid: video.id.0,
            cover: video.image_index,
            snapshots: snapshots
                .into_iter()
                .map(|s| SnapshotItem {
                    image_index: s.image_index,
                    url: reel.videos.media_url(&s.storage_uri),
                    width: s.width,
                    height: s.height,
                })
                .collect(),
            sprite: video.sprite_uri.map(|k| reel.videos.media_url(&k)),
            thumbnails: video.thumbnails_uri.map(|k| reel.videos.media_url(&k)),
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
        may(&caller, Scope::Read)?;
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
