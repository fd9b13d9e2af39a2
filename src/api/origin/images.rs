//! `/media/{generation}thumbnail.{jpg,png,webp}` and `/media/{generation}animated.{gif,webp}`:
//! images made on demand (`video::images`) for the holder of a token of the generation,
//! the same token play URLs carry. Errors are plain text with their code's status.

use poem::http::{Method, StatusCode, header};
use poem::{Body, Response};

use super::refuse;
use crate::Reel;
use crate::api::{finish_refusal, status_of};
use crate::error::Coded;
use crate::media::image::{ImageSpec, is_image_name};
use crate::model::Generation;
use crate::video::images::{ImageBody, ImageError};

/// Images never change under their URL (every parameter is in it).
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Says whether the image was read from its stored copy (`hit`) or made now (`miss`).
const CACHE_HEADER: &str = "X-Reel-Image";

/// Whether `path` names an image of a generation rather than a stored file.
pub fn is_image(path: &str) -> bool {
    path.rsplit_once('/')
        .is_some_and(|(_, name)| is_image_name(name))
}

/// Answers image `path` (see `is_image`) with its query `pairs`.
pub async fn serve(
    reel: &Reel,
    method: &Method,
    path: &str,
    pairs: &[(String, String)],
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD");
    }
    let Some((dir, name)) = path.rsplit_once('/') else {
        return refuse(StatusCode::NOT_FOUND, "not found");
    };
    let Ok(generation) = Generation::try_from(format!("{dir}/")) else {
        return refuse(StatusCode::NOT_FOUND, "not found");
    };
    let spec = match ImageSpec::parse(name, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(spec) => spec,
        Err(e) => return refused(&ImageError::from(e)),
    };
    let image = match reel.images.get(&generation, &spec).await {
        Ok(image) => image,
        Err(e) => return refused(&e),
    };
    let builder = Response::builder()
        .content_type(image.content_type)
        .header(header::CACHE_CONTROL, CACHE_IMMUTABLE)
        .header("X-Content-Type-Options", "nosniff")
        .header(CACHE_HEADER, if image.cached { "hit" } else { "miss" })
        .header(header::CONTENT_LENGTH, image.len);
    if method == Method::HEAD {
        return builder.finish();
    }
    match image.body {
        ImageBody::Made(bytes) => builder.body(bytes),
        ImageBody::Stored(stream) => builder.body(Body::from_bytes_stream(stream)),
    }
}

fn refused(e: &ImageError) -> Response {
    finish_refusal(refuse(status_of(e.code()), &e.public_message()), e)
}
