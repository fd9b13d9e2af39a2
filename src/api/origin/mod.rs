//! `/media/…`: the built-in origin. Checks the signed token, serves files of the fs
//! media origin, rewrites playlists so every URI inside carries the viewer's access, and
//! answers images of a generation (`images`) from any storage.

mod download;
pub mod files;
mod images;

use poem::http::{Method, StatusCode, header};
use poem::web::Path;
use poem::{Request, Response, Route, get, handler};

use crate::Reel;
use crate::delivery::token::MediaToken;
use crate::model::Generation;

/// Largest playlist read into memory for rewriting (ours are a few KiB).
const MAX_PLAYLIST_BYTES: u64 = 4 << 20;

fn refuse(status: StatusCode, reason: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(format!("{reason}\n"))
}

/// The object path, checked segment by segment: nothing but plain names.
fn clean(path: &str) -> Option<String> {
    let ok = !path.is_empty()
        && path.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && !s.chars().any(|c| c.is_control() || c == '\\')
        });
    ok.then(|| path.to_string())
}

/// `/media/…`: GET and HEAD of any object path.
pub fn routes() -> Route {
    Route::new().at("/*path", get(media).head(media))
}

#[handler]
async fn media(req: &Request, Path(path): Path<String>) -> Response {
    let Some(reel) = req.data::<Reel>() else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "not configured");
    };
    let Some(path) = clean(&path) else {
        return refuse(StatusCode::NOT_FOUND, "not found");
    };
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let delivery = &reel.delivery;
    let token = match MediaToken::verify(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        delivery.key(),
        &format!("/{path}"),
        chrono::Utc::now().timestamp(),
    ) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::FORBIDDEN, &e.to_string()),
    };
    if crate::delivery::is_key(&path) {
        return key(reel, req.method(), &token).await;
    }
    if images::is_image(&path) {
        return images::serve(reel, req.method(), &path, &pairs).await;
    }
    let Some(root) = delivery.media_root() else {
        return refuse(StatusCode::NOT_FOUND, "this server has no built-in origin");
    };
    let file = root.join(&path);
    if path.ends_with(".m3u8") {
        return playlist(reel, req.method(), &file, &path, &token).await;
    }
    let served = files::serve(
        &file,
        files::FileRequest {
            method: req.method(),
            headers: req.headers(),
        },
    )
    .await;
    download::with_file_name(served, &path, &pairs)
}

/// The AES-128 key of the generation the viewer's token opens (docs/architecture.md,
/// "Encryption"): 16 bytes, never cached by anyone; 404 when it is not encrypted.
async fn key(reel: &Reel, method: &Method, token: &MediaToken) -> Response {
    let Ok(generation) = Generation::try_from(token.scope.trim_start_matches('/').to_string())
    else {
        return refuse(StatusCode::FORBIDDEN, "the URL does not open a video");
    };
    let key = match reel.videos.media_key(&generation).await {
        Ok(Some(key)) => key,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "not found"),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a media key");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
    };
    let builder = Response::builder()
        .content_type("application/octet-stream")
        .header(header::CACHE_CONTROL, "private, no-store")
        .header(header::CONTENT_LENGTH, key.len());
    match *method == Method::HEAD {
        true => builder.finish(),
        false => builder.body(key.to_vec()),
    }
}

/// A playlist, rewritten for the token's holder: never shared by caches.
async fn playlist(
    reel: &Reel,
    method: &Method,
    file: &std::path::Path,
    path: &str,
    token: &MediaToken,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD");
    }
    let body = match tokio::fs::metadata(file).await {
        Ok(meta) if meta.is_file() && meta.len() <= MAX_PLAYLIST_BYTES => {
            match tokio::fs::read_to_string(file).await {
                Ok(b) => b,
                Err(_) => return refuse(StatusCode::NOT_FOUND, "not found"),
            }
        }
        Ok(meta) if meta.is_file() => {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "playlist too large");
        }
        _ => return refuse(StatusCode::NOT_FOUND, "not found"),
    };
    let rewritten = match reel.delivery.rewrite_playlist(&body, path, token) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::FORBIDDEN, &e.to_string()),
    };
    let builder = Response::builder()
        .content_type("application/vnd.apple.mpegurl")
        .header(header::CACHE_CONTROL, "private, max-age=60")
        .header("X-Content-Type-Options", "nosniff")
        .header(header::CONTENT_LENGTH, rewritten.len());
    if method == Method::HEAD {
        builder.finish()
    } else {
        builder.body(rewritten)
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn only_plain_paths() {
        assert_eq!(
            clean("videos/1/2/HD/a.m4s").as_deref(),
            Some("videos/1/2/HD/a.m4s")
        );
        for bad in [
            "",
            "a//b",
            "../etc/passwd",
            "a/../b",
            "a/./b",
            "a\\b",
            "a/\u{0}b",
            "/a",
        ] {
            assert_eq!(clean(bad), None, "{bad:?}");
        }
    }
}
