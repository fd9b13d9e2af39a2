//! `/video/playurl`: signed play URLs of a video through a CDN.

use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::video::find;
use super::{ErrorReply, OK, Reply, may};
use crate::Reel;
use crate::auth::Caller;
use crate::auth::Scope;

pub struct PlayApi;

#[derive(Object)]
pub struct PlayUrlReply {
    code: String,
    message: String,
    vid: i64,
    /// The HLS master playlist through `cdn`.
    url: String,
    cdn: String,
    /// Unix seconds after which the URLs are refused.
    expires_at: i64,
    /// The same playlist through the other enabled CDNs.
    fallbacks: Vec<CdnUrl>,
    /// One media playlist per rendition (`LD` … `UHD`) through `cdn`.
    definitions: Vec<DefinitionUrl>,
}

#[derive(Object)]
pub struct CdnUrl {
    cdn: String,
    url: String,
}

#[derive(Object)]
pub struct DefinitionUrl {
    definition: String,
    url: String,
}

#[OpenApi]
impl PlayApi {
    /// Play URLs of `vid` once its renditions are published (`PLAYABLE`, or a retranscode
    /// of a playable video still running); `NOT_PLAYABLE` before. `cdn` picks a CDN by
    /// name, `expires` the lifetime in seconds, `viewer` keeps a viewer on one CDN.
    #[oai(path = "/playurl", method = "get", method = "post")]
    async fn playurl(
        &self,
        reel: Data<&Reel>,
        caller: Data<&Caller>,
        vid: Query<String>,
        cdn: Query<Option<String>>,
        expires: Query<Option<i64>>,
        viewer: Query<Option<String>>,
    ) -> Reply<PlayUrlReply> {
        may(&caller, Scope::Play)?;
        let video = find(&reel, &caller, &vid).await?;
        let play = reel
            .videos
            .play_url(
                &video,
                cdn.0.as_deref(),
                expires.0,
                viewer.0.as_deref().unwrap_or(""),
            )
            .await
            .map_err(ErrorReply::from_coded)?;
        Ok(Json(PlayUrlReply {
            code: OK.into(),
            message: "ok".into(),
            vid: video.id.0,
            url: play.url,
            cdn: play.cdn,
            expires_at: play.expires_at.timestamp(),
            fallbacks: play
                .fallbacks
                .into_iter()
                .map(|(cdn, url)| CdnUrl { cdn, url })
                .collect(),
            definitions: play
                .definitions
                .into_iter()
                .map(|(d, url)| DefinitionUrl {
                    definition: d.as_str().to_string(),
                    url,
                })
                .collect(),
        }))
    }
}
