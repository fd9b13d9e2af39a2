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
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::Stream;
use http_range_header::RangeUnsatisfiableError;
use poem::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use poem::http::{Method, StatusCode};
use poem::{Body, Response, ResponseBuilder};

/// Largest read from disk, and so the most one response buffers at once.
///
/// 512 KiB rather than 1 MiB: poem hands hyper an IO without vectored writes, so hyper
/// copies every chunk into its own write buffer, which grows to about two chunks per
/// connection; at 512 KiB that stays near 1 MiB per response, and wrk measured the same
/// requests per second as with 1 MiB chunks (256 KiB was slower).
pub const CHUNK: usize = 512 * 1024;

/// Chunk buffers kept for reuse, `CHUNK` bytes each (so at most 4 MiB idle).
const POOL_MAX: usize = 8;
/// Reads smaller than this get a buffer of their own instead of a pooled one.
const POOL_MIN_READ: usize = 64 * 1024;

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

/// The request headers that decide the answer, copied (cheaply) for the blocking pool.
struct Conditions {
    if_match: Option<HeaderValue>,
    if_unmodified_since: Option<HeaderValue>,
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
    range: Option<HeaderValue>,
    if_range: Option<HeaderValue>,
}

impl Conditions {
    fn from_headers(headers: &HeaderMap) -> Self {
        let one = |name| headers.get(name).cloned();
        Self {
            if_match: joined(headers, header::IF_MATCH),
            if_unmodified_since: one(header::IF_UNMODIFIED_SINCE),
            if_none_match: joined(headers, header::IF_NONE_MATCH),
            if_modified_since: one(header::IF_MODIFIED_SINCE),
            range: one(header::RANGE),
            if_range: one(header::IF_RANGE),
        }
    }
}

/// A list header that may come as several fields, joined into one value.
fn joined(headers: &HeaderMap, name: HeaderName) -> Option<HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    let mut all = first.as_bytes().to_vec();
    let mut several = false;
    for v in values {
        several = true;
        all.extend_from_slice(b", ");
        all.extend_from_slice(v.as_bytes());
    }
    if several {
        HeaderValue::from_bytes(&all).ok()
    } else {
        Some(first.clone())
    }
}

/// Length and modification time of the file, and the validators made of them.
struct Validators {
    len: u64,
    /// Whole seconds since the epoch: the precision of `Last-Modified`.
    mtime_secs: u64,
    /// `"<hex len>-<hex mtime nanos>"`, quotes included.
    etag: String,
    last_modified: String,
}

impl Validators {
    fn new(len: u64, mtime: SystemTime) -> Self {
        let since = mtime.duration_since(UNIX_EPOCH).unwrap_or_default();
        Self {
            len,
            mtime_secs: since.as_secs(),
            etag: format!("\"{:x}-{:x}\"", len, since.as_nanos()),
            last_modified: httpdate::fmt_http_date(
                UNIX_EPOCH + Duration::from_secs(since.as_secs()),
            ),
        }
    }

    /// The ETag without its quotes.
    fn opaque(&self) -> &str {
        self.etag.trim_matches('"')
    }
}

/// The answer, once the file is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// 304.
    NotModified,
    /// 412.
    PreconditionFailed,
    /// 416.
    Unsatisfiable,
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
}

impl Plan {
    /// The bytes the body carries (`start`, `len`), for plans that have a body.
    fn span(self, len: u64) -> Option<(u64, u64)> {
        match self {
            Plan::Full => Some((0, len)),
            Plan::Partial { start, end } => Some((start, end - start + 1)),
            _ => None,
        }
    }
}

/// Evaluates the preconditions, then the range (RFC 9110 §13.2.2 and §14.2).
fn plan(c: &Conditions, v: &Validators, head: bool) -> Plan {
    // 1-2: If-Match, else If-Unmodified-Since.
    if let Some(value) = &c.if_match {
        if !etag_list_matches(value, v, true) {
            return Plan::PreconditionFailed;
        }
    } else if let Some(date) = c.if_unmodified_since.as_ref().and_then(http_date_secs)
        && v.mtime_secs > date
    {
        return Plan::PreconditionFailed;
    }
    // 3-4: If-None-Match, else If-Modified-Since (GET and HEAD are all we serve).
    if let Some(value) = &c.if_none_match {
        if etag_list_matches(value, v, false) {
            return Plan::NotModified;
        }
    } else if let Some(date) = c.if_modified_since.as_ref().and_then(http_date_secs)
        && v.mtime_secs <= date
    {
        return Plan::NotModified;
    }
    // 5: Range, for GET only; If-Range decides whether it applies.
    let Some(range) = c.range.as_ref().filter(|_| !head) else {
        return Plan::Full;
    };
    if c.if_range.as_ref().is_some_and(|r| !if_range_matches(r, v)) {
        return Plan::Full;
    }
    let Some(parsed) = range
        .to_str()
        .ok()
        .and_then(|s| http_range_header::parse_range_header(s).ok())
    else {
        return Plan::Full; // malformed: ignored
    };
    let several = parsed.len() > 1;
    match parsed.validate(v.len) {
        Ok(ranges) if !several && ranges.len() == 1 => Plan::Partial {
            start: *ranges[0].start(),
            end: *ranges[0].end(),
        },
        // Several ranges, or a suffix of an empty file: the whole file.
        Ok(_) => Plan::Full,
        Err(RangeUnsatisfiableError::Unsatisfiable) => Plan::Unsatisfiable,
        // Rejected shapes (many overlapping ranges, …): ignored.
        Err(_) => Plan::Full,
    }
}

/// `If-Match` (strong comparison) or `If-None-Match` (weak comparison) against our ETag.
fn etag_list_matches(value: &HeaderValue, v: &Validators, strong: bool) -> bool {
    let Ok(s) = value.to_str() else {
        return false;
    };
    s.trim() == "*" || EntityTags(s).any(|(weak, opaque)| opaque == v.opaque() && !(strong && weak))
}

/// `If-Range`: our ETag compared strongly, or exactly our `Last-Modified` (§13.1.5).
fn if_range_matches(value: &HeaderValue, v: &Validators) -> bool {
    let Ok(s) = value.to_str() else {
        return false;
    };
    let s = s.trim();
    if s.starts_with('"') || s.starts_with("W/") {
        let mut tags = EntityTags(s);
        return matches!(tags.next(), Some((false, opaque)) if opaque == v.opaque())
            && tags.next().is_none();
    }
    http_date_secs(value) == Some(v.mtime_secs)
}

/// An HTTP-date as whole seconds since the epoch; `None` when it is not one.
fn http_date_secs(value: &HeaderValue) -> Option<u64> {
    let t = httpdate::parse_http_date(value.to_str().ok()?.trim()).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_secs())
}

/// The entity tags of a comma-separated list as `(weak, opaque without quotes)`, up to
/// the first malformed member.
struct EntityTags<'a>(&'a str);

impl<'a> Iterator for EntityTags<'a> {
    type Item = (bool, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.0.trim_start_matches([' ', '\t', ',']);
        let (weak, s) = match s.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (opaque, rest) = s.strip_prefix('"')?.split_once('"')?;
        self.0 = rest;
        Some((weak, opaque))
    }
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

/// Reads exactly `want` (≤ `CHUNK`) bytes at the file's position; a file that shrank
/// since it was opened is an `UnexpectedEof` error.
fn read_chunk(mut file: &File, want: usize) -> io::Result<Bytes> {
    if want < POOL_MIN_READ {
        let mut buf = vec![0; want];
        file.read_exact(&mut buf)?;
        return Ok(Bytes::from(buf));
    }
    let buf = POOL.lock().ok().and_then(|mut pool| pool.pop());
    let mut buf = Pooled(buf.unwrap_or_else(|| vec![0; CHUNK]), want);
    if buf.0.len() < want {
        buf.0.resize(want, 0);
    }
    file.read_exact(&mut buf.0[..want])?;
    Ok(Bytes::from_owner(buf))
}

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A pooled buffer of which the first `.1` bytes were read; back to the pool on drop.
struct Pooled(Vec<u8>, usize);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        if let Ok(mut pool) = POOL.lock()
            && pool.len() < POOL_MAX
        {
            pool.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::test::{TestClient, TestResponse};
    use poem::{Endpoint, Request};

    /// Serves `dir/<request path>`.
    fn app(dir: &Path) -> TestClient<impl Endpoint> {
        let dir = dir.to_path_buf();
        TestClient::new(poem::endpoint::make(move |req: Request| {
            let path = dir.join(req.uri().path().trim_start_matches('/'));
            async move {
                let req = FileRequest {
                    method: req.method(),
                    headers: req.headers(),
                };
                serve(&path, req).await
            }
        }))
    }

    /// A temporary directory with `name` holding `data`.
    fn dir_with(name: &str, data: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), data).unwrap();
        dir
    }

    const DATA: &[u8] = b"0123456789";

    fn header<'a>(resp: &'a TestResponse, name: &str) -> &'a str {
        resp.0.headers().get(name).unwrap().to_str().unwrap()
    }

    async fn body(resp: TestResponse) -> Vec<u8> {
        resp.0.into_body().into_vec().await.unwrap()
    }

    /// A GET of `path` with one extra header.
    async fn get_with(dir: &Path, path: &str, name: &str, value: &str) -> TestResponse {
        app(dir).get(path).header(name, value).send().await
    }

    #[tokio::test]
    async fn full_file() {
        let dir = dir_with("seg_00001.m4s", DATA);
        let resp = app(dir.path()).get("/seg_00001.m4s").send().await;
        resp.assert_status_is_ok();
        resp.assert_header("content-type", "video/iso.segment");
        resp.assert_header("content-length", "10");
        resp.assert_header("accept-ranges", "bytes");
        resp.assert_header("x-content-type-options", "nosniff");
        resp.assert_header("cache-control", CACHE_IMMUTABLE);
        assert!(header(&resp, "etag").starts_with("\"a-"));
        assert!(httpdate::parse_http_date(header(&resp, "last-modified")).is_ok());
        resp.assert_bytes(DATA).await;
    }

    #[tokio::test]
    async fn head_has_the_headers_of_get_and_no_body() {
        let dir = dir_with("a.mp4", DATA);
        let get = app(dir.path()).get("/a.mp4").send().await;
        let head = app(dir.path()).head("/a.mp4").send().await;
        head.assert_status_is_ok();
        for name in [
            "content-type",
            "content-length",
            "etag",
            "last-modified",
            "cache-control",
            "accept-ranges",
        ] {
            assert_eq!(header(&get, name), header(&head, name), "{name}");
        }
        head.assert_header("content-length", "10");
        assert!(body(head).await.is_empty());
    }

    #[tokio::test]
    async fn single_range() {
        let dir = dir_with("a.m4s", DATA);
        let resp = get_with(dir.path(), "/a.m4s", "range", "bytes=2-5").await;
        resp.assert_status(StatusCode::PARTIAL_CONTENT);
        resp.assert_header("content-range", "bytes 2-5/10");
        resp.assert_header("content-length", "4");
        resp.assert_header("content-type", "video/iso.segment");
        resp.assert_bytes("2345").await;
    }

    #[tokio::test]
    async fn range_end_past_the_end_is_clamped() {
        let dir = dir_with("a.m4s", DATA);
        let resp = get_with(dir.path(), "/a.m4s", "range", "bytes=8-100").await;
        resp.assert_status(StatusCode::PARTIAL_CONTENT);
        resp.assert_header("content-range", "bytes 8-9/10");
        resp.assert_bytes("89").await;
    }

    #[tokio::test]
    async fn suffix_range() {
        let dir = dir_with("a.m4s", DATA);
        let resp = get_with(dir.path(), "/a.m4s", "range", "bytes=-3").await;
        resp.assert_status(StatusCode::PARTIAL_CONTENT);
        resp.assert_header("content-range", "bytes 7-9/10");
        resp.assert_bytes("789").await;
    }

    #[tokio::test]
    async fn open_range() {
        let dir = dir_with("a.m4s", DATA);
        let resp = get_with(dir.path(), "/a.m4s", "range", "bytes=6-").await;
        resp.assert_status(StatusCode::PARTIAL_CONTENT);
        resp.assert_header("content-range", "bytes 6-9/10");
        resp.assert_header("content-length", "4");
        resp.assert_bytes("6789").await;
    }

    #[tokio::test]
    async fn range_past_the_end_is_416() {
        let dir = dir_with("a.m4s", DATA);
        for range in ["bytes=10-", "bytes=500-600", "bytes=-0"] {
            let resp = get_with(dir.path(), "/a.m4s", "range", range).await;
            resp.assert_status(StatusCode::RANGE_NOT_SATISFIABLE);
            resp.assert_header("content-range", "bytes */10");
            assert!(body(resp).await.is_empty(), "{range}");
        }
    }

    #[tokio::test]
    async fn multiple_ranges_get_the_whole_file() {
        let dir = dir_with("a.m4s", DATA);
        for range in ["bytes=0-1,4-5", "bytes=0-1, 100-200", "bytes=-2, 0-0"] {
            let resp = get_with(dir.path(), "/a.m4s", "range", range).await;
            resp.assert_status_is_ok();
            resp.assert_header_is_not_exist("content-range");
            resp.assert_bytes(DATA).await;
        }
        let resp = get_with(dir.path(), "/a.m4s", "range", "bytes=20-30, 40-").await;
        resp.assert_status(StatusCode::RANGE_NOT_SATISFIABLE);
        resp.assert_header("content-range", "bytes */10");
    }

    #[tokio::test]
    async fn malformed_range_is_ignored() {
        let dir = dir_with("a.m4s", DATA);
        for range in [
            "bytes=abc",
            "items=0-1",
            "bytes=5-2",
            "bytes=",
            "bytes=1-2,x",
            "0-1",
        ] {
            let resp = get_with(dir.path(), "/a.m4s", "range", range).await;
            resp.assert_status_is_ok();
            resp.assert_header_is_not_exist("content-range");
            resp.assert_bytes(DATA).await;
        }
    }

    #[tokio::test]
    async fn head_ignores_range() {
        let dir = dir_with("a.m4s", DATA);
        let resp = app(dir.path())
            .head("/a.m4s")
            .header("range", "bytes=2-5")
            .send()
            .await;
        resp.assert_status_is_ok();
        resp.assert_header("content-length", "10");
    }

    #[tokio::test]
    async fn if_none_match_gives_304() {
        let dir = dir_with("a.m4s", DATA);
        let etag = header(&app(dir.path()).get("/a.m4s").send().await, "etag").to_string();
        let weak = format!("W/{etag}");
        let listed = format!("\"other\", {etag}");
        for value in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
            let resp = get_with(dir.path(), "/a.m4s", "if-none-match", value).await;
            resp.assert_status(StatusCode::NOT_MODIFIED);
            resp.assert_header("etag", etag.as_str());
            resp.assert_header("cache-control", CACHE_IMMUTABLE);
            assert!(body(resp).await.is_empty(), "{value}");
        }
        let head = app(dir.path())
            .head("/a.m4s")
            .header("if-none-match", etag.as_str())
            .send()
            .await;
        head.assert_status(StatusCode::NOT_MODIFIED);
        let other = get_with(dir.path(), "/a.m4s", "if-none-match", "\"other\"").await;
        other.assert_status_is_ok();
        other.assert_bytes(DATA).await;
    }

    #[tokio::test]
    async fn if_modified_since_gives_304() {
        let dir = dir_with("a.m4s", DATA);
        let first = app(dir.path()).get("/a.m4s").send().await;
        let last_modified = header(&first, "last-modified").to_string();
        let resp = get_with(dir.path(), "/a.m4s", "if-modified-since", &last_modified).await;
        resp.assert_status(StatusCode::NOT_MODIFIED);
        resp.assert_header_exist("etag");

        let earlier = httpdate::fmt_http_date(
            httpdate::parse_http_date(&last_modified).unwrap() - Duration::from_secs(60),
        );
        get_with(dir.path(), "/a.m4s", "if-modified-since", &earlier)
            .await
            .assert_status_is_ok();
        get_with(dir.path(), "/a.m4s", "if-modified-since", "not a date")
            .await
            .assert_status_is_ok();
        // Ignored when If-None-Match is present.
        let resp = app(dir.path())
            .get("/a.m4s")
            .header("if-none-match", "\"other\"")
            .header("if-modified-since", last_modified.as_str())
            .send()
            .await;
        resp.assert_status_is_ok();
    }

    #[tokio::test]
    async fn if_range() {
        let dir = dir_with("a.m4s", DATA);
        let first = app(dir.path()).get("/a.m4s").send().await;
        let etag = header(&first, "etag").to_string();
        let last_modified = header(&first, "last-modified").to_string();
        let ranged = |if_range: String| {
            let dir = dir.path().to_path_buf();
            async move {
                app(&dir)
                    .get("/a.m4s")
                    .header("range", "bytes=2-5")
                    .header("if-range", if_range)
                    .send()
                    .await
            }
        };
        // Mismatch: the Range is ignored.
        for stale in [
            "\"other\"".to_string(),
            format!("W/{etag}"),
            "Thu, 01 Jan 2015 00:00:00 GMT".to_string(),
        ] {
            let resp = ranged(stale).await;
            resp.assert_status_is_ok();
            resp.assert_bytes(DATA).await;
        }
        // Match by ETag or by date.
        for fresh in [etag, last_modified] {
            let resp = ranged(fresh).await;
            resp.assert_status(StatusCode::PARTIAL_CONTENT);
            resp.assert_bytes("2345").await;
        }
    }

    #[tokio::test]
    async fn if_match_and_if_unmodified_since() {
        let dir = dir_with("a.m4s", DATA);
        let first = app(dir.path()).get("/a.m4s").send().await;
        let etag = header(&first, "etag").to_string();
        get_with(dir.path(), "/a.m4s", "if-match", "\"other\"")
            .await
            .assert_status(StatusCode::PRECONDITION_FAILED);
        get_with(dir.path(), "/a.m4s", "if-match", &format!("W/{etag}"))
            .await
            .assert_status(StatusCode::PRECONDITION_FAILED);
        get_with(dir.path(), "/a.m4s", "if-match", &etag)
            .await
            .assert_status_is_ok();
        get_with(
            dir.path(),
            "/a.m4s",
            "if-unmodified-since",
            "Thu, 01 Jan 2015 00:00:00 GMT",
        )
        .await
        .assert_status(StatusCode::PRECONDITION_FAILED);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("index.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("seg_00001.m4s"), "video/iso.segment");
        assert_eq!(content_type("init.mp4"), "video/mp4");
        assert_eq!(content_type("seg1.ts"), "video/mp2t");
        assert_eq!(content_type("thumb.jpg"), "image/jpeg");
        assert_eq!(content_type("thumb.JPEG"), "image/jpeg");
        assert_eq!(content_type("en.vtt"), "text/vtt");
        assert_eq!(content_type("notes.txt"), "application/octet-stream");
        assert_eq!(content_type("README"), "application/octet-stream");
    }

    #[tokio::test]
    async fn content_type_header_has_no_charset() {
        let dir = dir_with("en.vtt", b"WEBVTT\n");
        let resp = app(dir.path()).get("/en.vtt").send().await;
        resp.assert_header("content-type", "text/vtt");
        resp.assert_header("cache-control", CACHE_IMMUTABLE);
    }

    #[tokio::test]
    async fn cache_control_playlist_and_segment() {
        let dir = dir_with("index.m3u8", b"#EXTM3U\n");
        std::fs::write(dir.path().join("seg_00001.m4s"), DATA).unwrap();
        let playlist = app(dir.path()).get("/index.m3u8").send().await;
        playlist.assert_header("cache-control", "private, max-age=5");
        playlist.assert_header("content-type", "application/vnd.apple.mpegurl");
        let segment = app(dir.path()).get("/seg_00001.m4s").send().await;
        segment.assert_header("cache-control", "public, max-age=31536000, immutable");
    }

    #[tokio::test]
    async fn missing_or_directory_is_404() {
        let dir = dir_with("a.m4s", DATA);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for path in ["/nope.m4s", "/sub", "/a.m4s/below"] {
            app(dir.path())
                .get(path)
                .send()
                .await
                .assert_status(StatusCode::NOT_FOUND);
        }
    }

    #[tokio::test]
    async fn other_methods_are_405() {
        let dir = dir_with("a.m4s", DATA);
        for method in [Method::POST, Method::PUT, Method::DELETE] {
            let resp = app(dir.path()).request(method, "/a.m4s").send().await;
            resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
            resp.assert_header("allow", "GET, HEAD");
        }
    }

    #[tokio::test]
    async fn empty_file() {
        let dir = dir_with("a.m4s", b"");
        let resp = app(dir.path()).get("/a.m4s").send().await;
        resp.assert_status_is_ok();
        resp.assert_header("content-length", "0");
        resp.assert_bytes(b"").await;
        let resp = get_with(dir.path(), "/a.m4s", "range", "bytes=0-").await;
        resp.assert_status(StatusCode::RANGE_NOT_SATISFIABLE);
        resp.assert_header("content-range", "bytes */0");
    }

    /// Bytes that differ at every offset within a chunk, so a misplaced chunk shows.
    fn big_data(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
            .collect()
    }

    #[tokio::test]
    async fn large_file_whole_and_ranges_across_chunks() {
        const MIB: usize = 1 << 20;
        let data = big_data(3 * MIB + 12345);
        let dir = dir_with("big.mp4", &data);
        let resp = app(dir.path()).get("/big.mp4").send().await;
        resp.assert_status_is_ok();
        resp.assert_header("content-length", data.len().to_string());
        assert!(body(resp).await == data, "whole file differs");

        for (start, end) in [
            (CHUNK - 10, 2 * CHUNK + 10),
            (1, data.len() - 2),
            (3 * MIB - 1, 3 * MIB),
            (5, 5 * CHUNK),
        ] {
            let resp = get_with(
                dir.path(),
                "/big.mp4",
                "range",
                &format!("bytes={start}-{end}"),
            )
            .await;
            resp.assert_status(StatusCode::PARTIAL_CONTENT);
            resp.assert_header(
                "content-range",
                format!("bytes {start}-{end}/{}", data.len()),
            );
            resp.assert_header("content-length", (end - start + 1).to_string());
            assert!(
                body(resp).await == data[start..=end],
                "range {start}-{end} differs"
            );
        }
        let suffix = format!("bytes=-{}", CHUNK + 1);
        let resp = get_with(dir.path(), "/big.mp4", "range", &suffix).await;
        resp.assert_status(StatusCode::PARTIAL_CONTENT);
        assert!(body(resp).await == data[data.len() - CHUNK - 1..]);
    }

    #[tokio::test]
    async fn file_that_shrinks_mid_response_ends_the_body_early() {
        let data = big_data(2 * CHUNK + 7);
        let dir = dir_with("big.mp4", &data);
        let resp = app(dir.path()).get("/big.mp4").send().await;
        resp.assert_status_is_ok();
        // The first chunk is already read; cut the file before the rest is.
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("big.mp4"))
            .unwrap()
            .set_len(CHUNK as u64 + 5)
            .unwrap();
        assert!(resp.0.into_body().into_vec().await.is_err());
    }

    #[tokio::test]
    async fn entity_tag_lists() {
        let tags: Vec<_> = EntityTags(r#" "a", W/"b",,"c,d" , "#).collect();
        assert_eq!(tags, vec![(false, "a"), (true, "b"), (false, "c,d")]);
        assert_eq!(EntityTags("garbage").count(), 0);
    }
}
