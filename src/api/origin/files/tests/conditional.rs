//! Validators and preconditions: 304, 412, If-Range, entity-tag lists.

use super::*;
use std::time::Duration;

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
