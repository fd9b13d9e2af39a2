//! GraphQL output types: thin views over the domain types.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::enums::{GqlDefinition, GqlVideoStatus};
use super::errors::{allowed, gql, reel};
use super::images::{self, GqlAnimatedFormat, GqlImageFit, GqlImageFormat};
use super::loaders::{Renditions, Snapshots};
use super::media_info::MediaInfoObject;
use super::playback::PlayUrlObject;
use crate::auth::Scope;
use crate::events::VideoEvent;
use crate::model::MediaInfo;
use crate::video::{Snapshot, Video};

/// A source video, or one rendition of it (`parentId` set).
pub struct VideoObject(pub Video);

#[Object(name = "Video")]
impl VideoObject {
    /// The public video id (`vid`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The source of a rendition; null for a source.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(|id| ID(id.to_string()))
    }
    /// The video whose stored bytes this one shares (instant upload).
    async fn unique_id(&self) -> Option<ID> {
        self.0.unique_id.map(|id| ID(id.to_string()))
    }
    /// The file name given at upload (never used as a path).
    async fn source_name(&self) -> &str {
        &self.0.source_name
    }
    async fn create_time(&self) -> DateTime<Utc> {
        self.0.create_time
    }
    async fn update_time(&self) -> DateTime<Utc> {
        self.0.update_time
    }
    /// Size in bytes.
    async fn file_size(&self) -> i64 {
        self.0.file_size
    }
    async fn video_width(&self) -> Option<i32> {
        self.0.video_width
    }
    async fn video_height(&self) -> Option<i32> {
        self.0.video_height
    }
    /// Duration in milliseconds.
    async fn duration(&self) -> Option<i64> {
        self.0.duration
    }
    /// MD5 of the bytes, lowercase hex.
    async fn hash(&self) -> Option<&str> {
        self.0.hash.as_deref()
    }
    async fn definition(&self) -> Option<GqlDefinition> {
        self.0.definition.map(Into::into)
    }
    /// Storage key of the bytes (sources) or of the HLS playlist (renditions).
    async fn storage_uri(&self) -> &str {
        &self.0.storage_uri
    }
    async fn status(&self) -> GqlVideoStatus {
        self.0.status.into()
    }
    /// Index of the snapshot used as cover.
    async fn image_index(&self) -> i32 {
        self.0.image_index
    }
    /// How many snapshots are taken.
    async fn image_count(&self) -> i32 {
        self.0.image_count
    }
    async fn task_priority(&self) -> i32 {
        self.0.task_priority
    }
    /// Progress of the current step, 0 to 100.
    async fn progress(&self) -> i32 {
        i32::from(self.0.progress)
    }
    /// Why the last step failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// False while rungs are still coming after the video became `PLAYABLE` on its first
    /// one (long sources); `progress` then counts the rest of the ladder.
    async fn ladder_complete(&self) -> bool {
        self.0.ladder_complete
    }
    /// The rungs still coming (empty once the ladder is complete).
    #[graphql(complexity = "RENDITIONS_COUNTED * child_complexity")]
    async fn pending_definitions(&self, ctx: &Context<'_>) -> Result<Vec<GqlDefinition>> {
        if self.0.ladder_complete {
            return Ok(Vec::new());
        }
        let loader = ctx.data_unchecked::<DataLoader<Renditions>>();
        let renditions = loader.load_one(self.0.id).await?.unwrap_or_default();
        let have: Vec<_> = renditions.iter().filter_map(|r| r.definition).collect();
        let pending = reel(ctx).videos.pending_definitions(&self.0, &have);
        Ok(pending.into_iter().map(Into::into).collect())
    }
    /// The client's string given at upload, echoed in every event.
    async fn passthrough(&self) -> Option<&str> {
        self.0.passthrough.as_deref()
    }
    /// `VIDEO`, or `AUDIO` for a source with sound only (known once transcoded).
    async fn kind(&self) -> super::tracks::GqlMediaKind {
        self.0.media_kind().into()
    }
    /// Its segments are AES-128 encrypted; players fetch the key with their play token.
    async fn encrypted(&self) -> bool {
        self.0.encrypt
    }
    /// The watermark profile its transcodes burn in (its own choice, else the app's
    /// default); null for none. Needs `MANAGE`.
    async fn watermark(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::watermark::WatermarkObject>> {
        super::watermark::of_video(ctx, &self.0).await
    }
    /// Subtitles and captions, oldest first.
    async fn text_tracks(&self, ctx: &Context<'_>) -> Result<Vec<super::tracks::TextTrackObject>> {
        super::tracks::text_tracks(ctx, &self.0).await
    }
    /// The audio renditions: one per language of the source (the default first), then
    /// the tracks added from audio files.
    async fn audio_tracks(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::tracks::AudioTrackObject>> {
        super::tracks::audio_tracks(ctx, &self.0).await
    }
    /// The downloadable files made so far (`enableDownloads`; needs `PLAY`).
    async fn downloads(&self, ctx: &Context<'_>) -> Result<Vec<super::derived::DownloadObject>> {
        super::derived::downloads(ctx, &self.0).await
    }
    /// The video a clip was cut from (null for other videos, or once it is deleted).
    async fn clip_of(&self, ctx: &Context<'_>) -> Result<Option<VideoObject>> {
        super::derived::clip_of(ctx, &self.0).await
    }
    /// What the probe found; null until the video was probed.
    async fn media_info(&self) -> Option<MediaInfoObject> {
        let info = self.0.media_info.clone()?;
        serde_json::from_value::<MediaInfo>(info)
            .ok()
            .map(MediaInfoObject::from)
    }
    /// The renditions of a source, smallest first.
    #[graphql(complexity = "RENDITIONS_COUNTED * child_complexity")]
    async fn renditions(&self, ctx: &Context<'_>) -> Result<Vec<VideoObject>> {
        let loader = ctx.data_unchecked::<DataLoader<Renditions>>();
        let renditions = loader.load_one(self.0.id).await?.unwrap_or_default();
        Ok(renditions.into_iter().map(VideoObject).collect())
    }
    /// Snapshot images with signed URLs (needs `PLAY`).
    #[graphql(complexity = "SNAPSHOTS_COUNTED * child_complexity")]
    async fn snapshots(&self, ctx: &Context<'_>) -> Result<Vec<SnapshotObject>> {
        allowed(ctx, Scope::Play)?;
        let reel = reel(ctx);
        Ok(self
            .load_snapshots(ctx)
            .await?
            .into_iter()
            .map(|s| SnapshotObject::new(s, &reel.videos))
            .collect())
    }
    /// The scrubbing-preview sprite sheet (signed URL; needs `PLAY`).
    async fn sprite(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        allowed(ctx, Scope::Play)?;
        let key = self.0.sprite_uri.as_deref();
        Ok(key.map(|key| reel(ctx).videos.media_url(key)))
    }
    /// WebVTT track mapping times to regions of the sprite (signed URL; needs `PLAY`).
    async fn thumbnails(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        allowed(ctx, Scope::Play)?;
        let key = self.0.thumbnails_uri.as_deref();
        Ok(key.map(|key| reel(ctx).videos.media_url(key)))
    }
    /// Signed play URLs through `cdn` (default: chosen by the server's policy, stable for
    /// `viewer`). Null, with an error saying why, until renditions are published.
    async fn play_url(
        &self,
        ctx: &Context<'_>,
        cdn: Option<String>,
        #[graphql(desc = "Lifetime of the URLs in seconds (default: the server's)")]
        expires_in: Option<i32>,
        #[graphql(desc = "Any stable id of the viewer, to keep them on one CDN")] viewer: Option<
            String,
        >,
    ) -> Result<Option<PlayUrlObject>> {
        allowed(ctx, Scope::Play)?;
        let play = reel(ctx)
            .videos
            .play_url(
                &self.0,
                cdn.as_deref(),
                expires_in.map(i64::from),
                viewer.as_deref().unwrap_or(""),
            )
            .await
            .map_err(gql)?;
        Ok(Some(play.into()))
    }
    /// The snapshot at `imageIndex` (needs `PLAY`).
    async fn cover(&self, ctx: &Context<'_>) -> Result<Option<SnapshotObject>> {
        allowed(ctx, Scope::Play)?;
        let reel = reel(ctx);
        Ok(self
            .load_snapshots(ctx)
            .await?
            .into_iter()
            .find(|s| s.image_index == self.0.image_index)
            .map(|s| SnapshotObject::new(s, &reel.videos)))
    }
    /// The frame at `time` seconds as an image made on demand (signed URL; needs `PLAY`);
    /// null until renditions are published. A time outside the video is `BAD_REQUEST`.
    async fn thumbnail_url(
        &self,
        ctx: &Context<'_>,
        time: f64,
        width: Option<i32>,
        height: Option<i32>,
        #[graphql(default_with = "Some(GqlImageFit::Preserve)")] fit: Option<GqlImageFit>,
        #[graphql(default_with = "Some(GqlImageFormat::Jpg)")] format: Option<GqlImageFormat>,
    ) -> Result<Option<String>> {
        images::thumbnail_url(ctx, &self.0, time, (width, height), fit, format)
    }
    /// `start` to `end` seconds (at most 10) as an animated image made on demand (signed
    /// URL; needs `PLAY`); null until renditions are published.
    async fn animated_url(
        &self,
        ctx: &Context<'_>,
        start: f64,
        end: f64,
        width: Option<i32>,
        fps: Option<i32>,
        #[graphql(default_with = "Some(GqlAnimatedFormat::Gif)")] format: Option<GqlAnimatedFormat>,
    ) -> Result<Option<String>> {
        images::animated_url(ctx, &self.0, (start, end), width, fps, format)
    }
}

impl VideoObject {
    async fn load_snapshots(&self, ctx: &Context<'_>) -> Result<Vec<Snapshot>> {
        let loader = ctx.data_unchecked::<DataLoader<Snapshots>>();
        Ok(loader.load_one(self.0.id).await?.unwrap_or_default())
    }
}

/// What a list field counts for in a query's complexity: the ladder's rungs, and the
/// snapshots a video has by default (at most 100 are taken).
const RENDITIONS_COUNTED: usize = crate::model::Definition::ALL.len();
const SNAPSHOTS_COUNTED: usize = 10;

#[derive(SimpleObject)]
#[graphql(name = "Snapshot")]
pub struct SnapshotObject {
    image_index: i32,
    url: String,
    width: Option<i32>,
    height: Option<i32>,
    file_size: i64,
}

impl SnapshotObject {
    fn new(s: Snapshot, videos: &crate::video::VideoService) -> Self {
        Self {
            image_index: s.image_index,
            url: videos.media_url(&s.storage_uri),
            width: s.width,
            height: s.height,
            file_size: s.file_size,
        }
    }
}

/// A change of a video's status or progress.
pub struct VideoEventObject {
    event: VideoEvent,
}

#[Object(name = "VideoEvent")]
impl VideoEventObject {
    async fn video_id(&self) -> ID {
        ID(self.event.video_id.to_string())
    }
    async fn status(&self) -> GqlVideoStatus {
        self.event.status.into()
    }
    async fn progress(&self) -> i32 {
        i32::from(self.event.progress)
    }
    async fn error(&self) -> Option<&str> {
        self.event.error.as_deref()
    }
    /// The video was deleted; `status` is the last it had.
    async fn deleted(&self) -> bool {
        self.event.deleted
    }
    /// False while rungs are still coming after the first one was published.
    async fn ladder_complete(&self) -> bool {
        self.event.ladder_complete
    }
    /// Set when this event announces one more rung of a playable video.
    async fn rendition_added(&self) -> Option<GqlDefinition> {
        self.event.rendition_added.map(Into::into)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.event.at
    }
}

impl From<VideoEvent> for VideoEventObject {
    fn from(event: VideoEvent) -> Self {
        Self { event }
    }
}

/// A bearer token for browsers.
#[derive(SimpleObject)]
#[graphql(name = "Token")]
pub struct TokenObject {
    /// Send as `Authorization: Bearer <token>`, or in the WebSocket `connection_init` payload.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}
