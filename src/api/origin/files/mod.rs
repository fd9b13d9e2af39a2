//! Serving one stored file over HTTP: ranges, validators, content types and caching headers, streamed from disk.
//!
//! [`serve`] answers `GET` and `HEAD` for a path the caller has already resolved and
//! checked, following RFC 9110:
//!
//! * validators: a strong `ETag` made of the length and the modification time, and
//!   `Last-Modified`; preconditions are evaluated in the order of §13.2.2 (`If-Match`,
//!   `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since`, then `If-Range`);
//! * ranges, for `GET` only (§14.2: a server must ignore `Range` on other methods): one
//!   satisfiable range gives `206`; several ranges give the whole file with `200` (a server
//!   may ignore `Range`) unless none is satisfiable (`416`); a malformed `Range` is ignored;
//! * `Content-Type` from the extension, `X-Content-Type-Options: nosniff`, and
//!   `Cache-Control`: playlists are short-lived and private, everything else (segments,
//!   init segments, images, subtitles) is written once and never changes, so immutable.
//!
//! The body is read on the blocking pool in chunks of at most [`CHUNK`] bytes, each read
//! only when the connection asks for the next one, so a response buffers one chunk at a
//! time. Checking, opening, `fstat`, deciding the answer and reading the first chunk take
//! one hop to the blocking pool: a file of up to one chunk costs a single hop.
//!
//! Chunk buffers come from a small pool ([`POOL_MAX`] buffers): safe Rust can only read
//! into initialised memory, and a fresh large buffer costs a memset or page faults on
//! every read; a pooled one is zeroed once and reused (about 10 % more requests per
//! second for 1 MiB segments).

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use poem::http::header::{self, HeaderMap};
use poem::http::{Method, StatusCode};
use poem::{Body, Response, ResponseBuilder};

mod pool;
mod preconditions;
#[cfg(test)]
mod tests;

use pool::read_chunk;
use preconditions::{Conditions, Plan, Validators, plan};

/// Largest read from disk, and so the most one response buffers at once.
///
/// 512 KiB rather than 1 MiB: poem hands hyper an IO without vectored writes, so hyper
/// copies every chunk into its own write buffer, which grows to about two chunks per
/// connection; at 512 KiB that stays near 1 MiB per response, and wrk measured the same
/// requests per second as with 1 MiB chunks (256 KiB was slower).
pub const CHUNK: usize = 512 * 1024;

/// Playlists may be rewritten per viewer by the caller, hence private and short.
const CACHE_PLAYLIST: &str = "private, max-age=5";
/// Everything else is written once under a generation directory and never changes.
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";

/// What [`serve`] needs of the request.
pub struct FileRequest<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
}

/// Serves the file at `path` for `req`.
///
/// `path`: an absolute path on disk that the caller has already checked (no traversal concerns here).
/// Returns 404 when missing or a directory, 405 for methods other than GET/HEAD.
pub async fn serve(path: &Path, req: FileRequest<'_>) -> Response {
    let head = match *req.method {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            return Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(header::ALLOW, "GET, HEAD")
                .body("method not allowed");
        }
    };
    let conditions = Conditions::from_headers(req.headers);
    let owned = path.to_path_buf();
    let opened =
        tokio::task::spawn_blocking(move || open_and_plan(&owned, &conditions, head)).await;
    match opened {
        Ok(Ok(Some(opened))) => respond(path, opened, head),
        Ok(Ok(None)) => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found"),
        Ok(Err(e)) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read file");
            internal_error()
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "file task failed");
            internal_error()
        }
    }
}

use crate::storage::content_type;

fn cache_control(name: &str) -> &'static str {
    if content_type(name) == PLAYLIST_TYPE {
        CACHE_PLAYLIST
    } else {
        CACHE_IMMUTABLE
    }
}

fn internal_error() -> Response {
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .body("cannot read file")
}

/// The file, open, with the answer decided and, for a body, its first chunk read.
struct Opened {
    file: File,
    validators: Validators,
    plan: Plan,
    first: Bytes,
}

/// On the blocking pool: check, open, `fstat`, decide and read the first chunk.
/// `Ok(None)` when there is no regular file at `path`.
fn open_and_plan(path: &Path, c: &Conditions, head: bool) -> io::Result<Option<Opened>> {
    // A stat first, so that a directory or a FIFO is never opened (a FIFO would block).
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    // The validators come from the open file, so they describe the bytes sent.
    let meta = file.metadata()?;
    let validators = Validators::new(meta.len(), meta.modified()?);
    let plan = plan(c, &validators, head);
    let mut first = Bytes::new();
    if let Some((start, len)) = plan
        .span(validators.len)
        .filter(|&(_, len)| !head && len > 0)
    {
        if start > 0 {
            file.seek(SeekFrom::Start(start))?;
        }
        first = read_chunk(&file, chunk_len(len))?;
    }
    Ok(Some(Opened {
        file,
        validators,
        plan,
        first,
    }))
}

fn is_not_found(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
    )
}

fn chunk_len(remaining: u64) -> usize {
    remaining.min(CHUNK as u64) as usize
}

/// Builds the response: headers for the plan, then the body.
fn respond(path: &Path, opened: Opened, head: bool) -> Response {
    let Opened {
        file,
        validators: v,
        plan,
        first,
    } = opened;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let builder = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &v.etag)
        .header(header::LAST_MODIFIED, &v.last_modified)
        .header(header::CACHE_CONTROL, cache_control(name))
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    let (builder, len) = match plan {
        Plan::NotModified => return builder.status(StatusCode::NOT_MODIFIED).finish(),
        Plan::PreconditionFailed => return empty(builder.status(StatusCode::PRECONDITION_FAILED)),
        Plan::Unsatisfiable => {
            return empty(
                builder
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{}", v.len)),
            );
        }
        Plan::Full => (builder, v.len),
        Plan::Partial { start, end } => (
            builder.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{}", v.len),
            ),
            end - start + 1,
        ),
    };
    let builder = builder
        .header(header::CONTENT_TYPE, content_type(name))
        .header(header::CONTENT_LENGTH, len);
    if head || len == 0 {
        return builder.finish();
    }
    let rest = len - first.len() as u64;
    if rest == 0 {
        return builder.body(Body::from_bytes(first));
    }
    builder.body(Body::from_bytes_stream(chunks(
        path.to_path_buf(),
        file,
        first,
        rest,
    )))
}

fn empty(builder: ResponseBuilder) -> Response {
    builder.header(header::CONTENT_LENGTH, 0).finish()
}

/// The body after the headers: `first`, then `rest` more bytes, one chunk read per poll.
/// A failed read ends the body with an error (the connection is closed: the client sees a
/// short body, never wrong bytes).
fn chunks(
    path: PathBuf,
    file: File,
    first: Bytes,
    rest: u64,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    struct State {
        path: PathBuf,
        file: Arc<File>,
        first: Option<Bytes>,
        rest: u64,
    }
    let state = State {
        path,
        file: Arc::new(file),
        first: Some(first),
        rest,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if let Some(first) = st.first.take() {
            return Some((Ok(first), st));
        }
        if st.rest == 0 {
            return None;
        }
        let want = chunk_len(st.rest);
        let file = Arc::clone(&st.file);
        let read = tokio::task::spawn_blocking(move || read_chunk(&file, want))
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e)));
        match read {
            Ok(bytes) => {
                st.rest -= want as u64;
                Some((Ok(bytes), st))
            }
            Err(e) => {
                tracing::warn!(path = %st.path.display(), error = %e, "reading file failed mid-response");
                st.rest = 0;
                Some((Err(e), st))
            }
        }
    })
}
