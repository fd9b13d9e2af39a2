//! Watermark profiles of the caller's app (docs/api.md, "Watermarks"): `watermarks`,
//! `createWatermark`, `updateWatermark`, `deleteWatermark` and `Video.watermark`. Like
//! every app setting they need the `MANAGE` scope (or a signature).

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use super::errors::{allowed, coded, gql, reel};
use crate::apps::watermarks::{
    ImageSource, Placement, Watermark, WatermarkInput, WatermarkService, WatermarkUpdate,
};
use crate::auth::Scope;
use crate::error::ErrorCode;
use crate::model::{AppId, WatermarkId, WatermarkPosition};
use crate::video::Video;

/// Where the overlay sits on the picture.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "WatermarkPosition", remote = "WatermarkPosition")]
pub enum GqlWatermarkPosition {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
    Center,
}

/// A watermark profile: an overlay image and where and how every rung shows it.
pub struct WatermarkObject(Watermark);

#[Object(name = "Watermark")]
impl WatermarkObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn position(&self) -> GqlWatermarkPosition {
        self.0.position().into()
    }
    /// Space between the overlay and the edges it is near, as a fraction of the video's
    /// width.
    async fn margin(&self) -> f64 {
        self.0.margin
    }
    /// The overlay's width as a fraction of the video's width.
    async fn scale(&self) -> f64 {
        self.0.scale
    }
    /// 0 (invisible) to 1 (opaque), times the image's own transparency.
    async fn opacity(&self) -> f64 {
        self.0.opacity
    }
    /// The app's default: burned into its uploads that name no profile (nor `none`).
    async fn default(&self) -> bool {
        self.0.is_default
    }
    /// `png`, `jpeg` or `webp`.
    async fn image_format(&self) -> &str {
        &self.0.image_format
    }
    async fn image_width(&self) -> i32 {
        self.0.image_width
    }
    async fn image_height(&self) -> i32 {
        self.0.image_height
    }
    /// The image's size in bytes.
    async fn image_size(&self) -> i64 {
        self.0.image_bytes
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A new profile: the image in `content` (base64) or `uploadId` (a finished tus upload
/// made with metadata `watermarkImage`), at most 2 MiB.
#[derive(InputObject)]
pub struct CreateWatermarkInput {
    name: String,
    /// The PNG, JPEG or WebP image, base64 (a `data:` URL prefix is accepted).
    content: Option<String>,
    upload_id: Option<ID>,
    #[graphql(default_with = "GqlWatermarkPosition::TopRight")]
    position: GqlWatermarkPosition,
    #[graphql(default = 0.02)]
    margin: f64,
    #[graphql(default = 0.15)]
    scale: f64,
    #[graphql(default = 1.0)]
    opacity: f64,
    /// Make it the app's default (the previous default stops being one).
    #[graphql(default)]
    default: bool,
}

/// What to change; what is left out stays.
#[derive(InputObject)]
pub struct UpdateWatermarkInput {
    name: Option<String>,
    content: Option<String>,
    upload_id: Option<ID>,
    position: Option<GqlWatermarkPosition>,
    margin: Option<f64>,
    scale: Option<f64>,
    opacity: Option<f64>,
    /// `true` makes it the app's default; `false` leaves the app without one if it was.
    default: Option<bool>,
}

fn watermark_id(id: &ID) -> Result<WatermarkId> {
    id.parse::<WatermarkId>()
        .ok()
        .filter(|w| w.0 > 0)
        .ok_or_else(|| {
            coded(
                ErrorCode::BadRequest,
                format!("{:?} is not a watermark id", id.as_str()),
            )
        })
}

/// The new image named by `content` or `upload_id` (not both); `None` when neither.
async fn image_source(
    ctx: &Context<'_>,
    app: AppId,
    content: Option<String>,
    upload_id: Option<ID>,
) -> Result<Option<ImageSource>> {
    match (content, upload_id) {
        (Some(_), Some(_)) => Err(coded(
            ErrorCode::BadRequest,
            "give the image as content or uploadId, not both",
        )),
        (Some(content), None) => {
            let text = match content.split_once(";base64,") {
                Some((prefix, data)) if prefix.starts_with("data:") => data,
                _ => content.as_str(),
            };
            let compact: String = text.split_whitespace().collect();
            let bytes = STANDARD.decode(compact).map_err(|_| {
                coded(
                    ErrorCode::BadRequest,
                    "content is not base64 (the image's bytes)",
                )
            })?;
            Ok(Some(ImageSource::Bytes(bytes)))
        }
        (None, Some(upload)) => {
            let key = reel(ctx)
                .uploads
                .watermark_image_of(app, upload.as_str())
                .await
                .map_err(gql)?;
            Ok(Some(ImageSource::Uploaded(key)))
        }
        (None, None) => Ok(None),
    }
}

fn service<'a>(ctx: &Context<'a>) -> &'a WatermarkService {
    &reel(ctx).watermarks
}

/// `Video.watermark`: the profile its transcodes burn in now (a rendition: its source's).
pub async fn of_video(ctx: &Context<'_>, video: &Video) -> Result<Option<WatermarkObject>> {
    allowed(ctx, Scope::Manage)?;
    let source = video.parent_id.unwrap_or(video.id);
    let applying = service(ctx)
        .applying(video.app_id, source)
        .await
        .map_err(gql)?;
    Ok(applying.map(WatermarkObject))
}

#[derive(Default)]
pub struct WatermarkQuery;

#[Object]
impl WatermarkQuery {
    /// The caller's watermark profiles, oldest first.
    async fn watermarks(&self, ctx: &Context<'_>) -> Result<Vec<WatermarkObject>> {
        let caller = allowed(ctx, Scope::Manage)?;
        let rows = service(ctx).list(caller.app_id).await.map_err(gql)?;
        Ok(rows.into_iter().map(WatermarkObject).collect())
    }
}

#[derive(Default)]
pub struct WatermarkMutation;

#[Object]
impl WatermarkMutation {
    /// Adds a profile. Transcodes that start from now on burn it into every rung of the
    /// uploads that choose it (tus metadata `watermark`, `InitUploadInput.watermark`), or
    /// of every upload that chooses none when it is the default.
    async fn create_watermark(
        &self,
        ctx: &Context<'_>,
        input: CreateWatermarkInput,
    ) -> Result<WatermarkObject> {
        let caller = allowed(ctx, Scope::Manage)?;
        let image = image_source(ctx, caller.app_id, input.content, input.upload_id)
            .await?
            .ok_or_else(|| {
                coded(
                    ErrorCode::BadRequest,
                    "a watermark needs its image: content (base64) or uploadId",
                )
            })?;
        let input = WatermarkInput {
            name: input.name,
            image,
            placement: Placement {
                position: input.position.into(),
                margin: input.margin,
                scale: input.scale,
                opacity: input.opacity,
            },
            default: input.default,
        };
        let created = service(ctx)
            .create(caller.app_id, input)
            .await
            .map_err(gql)?;
        Ok(WatermarkObject(created))
    }

    /// Changes a profile; later transcodes and retranscodes use the new settings.
    async fn update_watermark(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWatermarkInput,
    ) -> Result<WatermarkObject> {
        let caller = allowed(ctx, Scope::Manage)?;
        let id = watermark_id(&id)?;
        let image = image_source(ctx, caller.app_id, input.content, input.upload_id).await?;
        let update = WatermarkUpdate {
            name: input.name,
            image,
            position: input.position.map(Into::into),
            margin: input.margin,
            scale: input.scale,
            opacity: input.opacity,
            default: input.default,
        };
        let updated = service(ctx)
            .update(caller.app_id, id, update)
            .await
            .map_err(gql)?;
        Ok(WatermarkObject(updated))
    }

    /// Deletes a profile and its image. Videos that chose it get the app's default at
    /// their next transcode; renditions made already keep what was burned in.
    async fn delete_watermark(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = allowed(ctx, Scope::Manage)?;
        service(ctx)
            .delete(caller.app_id, watermark_id(&id)?)
            .await
            .map_err(gql)?;
        Ok(true)
    }
}
