//! Derived media in GraphQL (DESIGN §14): downloads and clips.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::errors::{allowed, gql, reel, video_id};
use super::types::VideoObject;
use crate::auth::Scope;
use crate::video::Video;
use crate::video::downloads::DownloadLink;

/// A downloadable file: an MP4 of one rung, or the audio-only M4A (`AUDIO`).
#[derive(SimpleObject)]
#[graphql(name = "Download")]
pub struct DownloadObject {
    /// A rung name (`HD`, …) or `AUDIO`.
    definition: String,
    /// Signed URL; the built-in origin names the file in `Content-Disposition`.
    url: String,
    /// Size in bytes.
    file_size: i64,
}

impl From<DownloadLink> for DownloadObject {
    fn from(d: DownloadLink) -> Self {
        Self {
            definition: d.definition,
            url: d.url,
            file_size: d.file_size,
        }
    }
}

/// `Video.downloads` (needs `PLAY`).
pub async fn downloads(ctx: &Context<'_>, video: &Video) -> Result<Vec<DownloadObject>> {
    allowed(ctx, Scope::Play)?;
    let links = reel(ctx).videos.downloads(video).await.map_err(gql)?;
    Ok(links.into_iter().map(Into::into).collect())
}

/// `Video.clipOf`: the video a clip was cut from, while it exists.
pub async fn clip_of(ctx: &Context<'_>, video: &Video) -> Result<Option<VideoObject>> {
    let clip = reel(ctx).videos.clip_of(video).await.map_err(gql)?;
    Ok(clip.map(VideoObject))
}

#[derive(Default)]
pub struct DerivedMutation;

#[Object]
impl DerivedMutation {
    /// Asks for downloadable MP4 files of a video (`definitions`: `HIGHEST`, rung names,
    /// `AUDIO` for an M4A; default `["HIGHEST"]`, `[]` for none). They are remuxed from the
    /// renditions (no encode), now when the video plays, else after its transcode, and
    /// again after each retranscode.
    async fn enable_downloads(
        &self,
        ctx: &Context<'_>,
        video_id: ID,
        definitions: Option<Vec<String>>,
    ) -> Result<VideoObject> {
        let caller = allowed(ctx, Scope::Upload)?;
        let id = super::errors::video_id(&video_id)?;
        let video = reel(ctx)
            .videos
            .enable_downloads(caller.app_id, id, definitions.as_deref())
            .await
            .map_err(gql)?;
        Ok(VideoObject(video))
    }

    /// A clip of a playable video from `start` to `end` seconds: instantly (its
    /// playlists point at the parent's segments that overlap the range; no encode), or with
    /// `precise`, a frame-accurate new asset transcoded from the range.
    async fn create_clip(
        &self,
        ctx: &Context<'_>,
        video_id: ID,
        start: f64,
        end: f64,
        #[graphql(default_with = "Some(false)")] precise: Option<bool>,
    ) -> Result<VideoObject> {
        let caller = allowed(ctx, Scope::Upload)?;
        let parent = self::video_id(&video_id)?;
        let clip = reel(ctx)
            .videos
            .create_clip(
                (caller.app_id, &caller.app_key),
                parent,
                start,
                end,
                precise.unwrap_or(false),
            )
            .await
            .map_err(gql)?;
        Ok(VideoObject(clip))
    }
}
