//! `Video.thumbnailUrl` and `Video.animatedUrl`: signed URLs of images made on demand by
//! the built-in origin (`/media/{generation}thumbnail.jpg?time=…`).

use async_graphql::{Context, Enum, Result};

use super::errors::{allowed, gql, reel};
use crate::auth::Scope;
use crate::media::image::{Animated, AnimatedFormat, Fit, ImageFormat, ImageSpec, Thumbnail};
use crate::video::Video;
use crate::video::images::ImageError;

/// How a thumbnail fills a `width`×`height` box (with one side only, `PRESERVE`).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ImageFit", remote = "Fit")]
pub enum GqlImageFit {
    /// Fits inside the box, keeping the aspect ratio (it may be smaller than the box).
    Preserve,
    /// Covers the box and is cut to it: exactly the box.
    Crop,
    /// Fits inside the box with black bars around: exactly the box.
    Pad,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ImageFormat", remote = "ImageFormat")]
pub enum GqlImageFormat {
    Jpg,
    Png,
    Webp,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AnimatedFormat", remote = "AnimatedFormat")]
pub enum GqlAnimatedFormat {
    Gif,
    Webp,
}

/// `Video.thumbnailUrl`: null while the video has no published generation.
pub fn thumbnail_url(
    ctx: &Context<'_>,
    video: &Video,
    time: f64,
    (width, height): (Option<i32>, Option<i32>),
    fit: Option<GqlImageFit>,
    format: Option<GqlImageFormat>,
) -> Result<Option<String>> {
    allowed(ctx, Scope::Play)?;
    let fit = fit.unwrap_or(GqlImageFit::Preserve).into();
    let format = format.unwrap_or(GqlImageFormat::Jpg).into();
    let thumbnail = Thumbnail::new(
        time,
        width.map(i64::from),
        height.map(i64::from),
        fit,
        format,
    )
    .map_err(|e| gql(ImageError::from(e)))?;
    url(ctx, video, ImageSpec::Thumbnail(thumbnail))
}

/// `Video.animatedUrl`: null while the video has no published generation.
pub fn animated_url(
    ctx: &Context<'_>,
    video: &Video,
    (start, end): (f64, f64),
    width: Option<i32>,
    fps: Option<i32>,
    format: Option<GqlAnimatedFormat>,
) -> Result<Option<String>> {
    allowed(ctx, Scope::Play)?;
    let format = format.unwrap_or(GqlAnimatedFormat::Gif).into();
    let animated = Animated::new(start, end, width.map(i64::from), fps.map(i64::from), format)
        .map_err(|e| gql(ImageError::from(e)))?;
    url(ctx, video, ImageSpec::Animated(animated))
}

fn url(ctx: &Context<'_>, video: &Video, spec: ImageSpec) -> Result<Option<String>> {
    reel(ctx).images.url(video, &spec).map_err(gql)
}
