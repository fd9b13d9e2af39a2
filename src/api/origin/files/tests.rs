//! `serve` over HTTP: whole files, ranges, content types, caching, errors.

mod conditional;

use super::*;
use poem::test::{TestClient, TestResponse};
use poem::{Endpoint, Request};

/// Serves `dir/<request path>`.
pub(super) fn app(dir: &Path) -> TestClient<impl Endpoint> {
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
pub(super) fn dir_with(name: &str, data: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), data).unwrap();
    dir
}

const DATA: &[u8] = b"0123456789";

pub(super) fn header<'a>(resp: &'a TestResponse, name: &str) -> &'a str {
    resp.0.headers().get(name).unwrap().to_str().unwrap()
}

pub(super) async fn body(resp: TestResponse) -> Vec<u8> {
    resp.0.into_body().into_vec().await.unwrap()
}

/// A GET of `path` with one extra header.
pub(super) async fn get_with(dir: &Path, path: &str, name: &str, value: &str) -> TestResponse {
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
