//! Delivery: publishing to origins, signed play URLs, the built-in origin, CDN edges.

mod common;

use std::path::Path;
use std::process::Command;

use common::edge::{Nginx, S3, free_port};
use common::media::{lavfi, upload, wait_for};
use common::{Credentials, TestApp, error_code};
use reel::config::delivery::{CdnConfig, OriginConfig};
use reel::delivery::signing::SigningScheme;
use reel::delivery::token::MediaToken;
use reel::model::VideoStatus;
use serde_json::{Value, json};

const PLAY: &str = "query($id: ID!, $cdn: String) { video(id: $id) { status playUrl(cdn: $cdn) {
    url cdn expiresAt fallbacks { cdn url } definitions { definition url } } } }";

async fn play_url(
    app: &TestApp,
    creds: &Credentials,
    id: impl ToString,
    cdn: Option<&str>,
) -> Value {
    let out = app
        .graphql(creds, PLAY, json!({ "id": id.to_string(), "cdn": cdn }))
        .await;
    assert!(out["errors"].is_null(), "{out}");
    out["data"]["video"]["playUrl"].clone()
}

/// Copies the whole HLS stream behind `url` with ffmpeg; returns the copy's duration.
fn read_hls(url: &str, dir: &Path) -> f64 {
    let out = dir.join(format!("copy-{}.mp4", rand_suffix()));
    let run = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i", url, "-map", "0", "-c", "copy"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "ffmpeg read {url}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    common::media::duration(&out)
}

fn rand_suffix() -> u64 {
    rand::random::<u64>()
}

/// Every URI of a playlist, resolved against the playlist's URL.
async fn uris(http: &reqwest::Client, url: &str) -> Vec<String> {
    let resp = http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    let base = reqwest::Url::parse(url).unwrap();
    let body = resp.text().await.unwrap();
    let mut out = Vec::new();
    for line in body.lines() {
        let line = line.trim();
        if let Some(at) = line.find("URI=\"") {
            let rest = &line[at + 5..];
            out.push(rest[..rest.find('"').unwrap()].to_string());
        } else if !line.is_empty() && !line.starts_with('#') {
            out.push(line.to_string());
        }
    }
    out.into_iter()
        .map(|u| base.join(&u).unwrap().to_string())
        .collect()
}

async fn playable(
    app: &TestApp,
    secs: u32,
) -> (Credentials, reel::model::VideoId, tempfile::TempDir) {
    let creds = app.create_app("viewer").await;
    let token = app.token(&creds, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "clip.mp4", 640, 360, secs, true);
    let vid = upload(app, &token, &file).await;
    let v = wait_for(
        app,
        creds.app_id,
        vid,
        &[VideoStatus::Playable, VideoStatus::TranscodeFailed],
    )
    .await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);
    (creds, vid, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_install_plays_over_http_and_refuses_bad_tokens() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let (creds, vid, dir) = playable(&app, 6).await;
    let play = play_url(&app, &creds, vid, None).await;
    assert_eq!(play["cdn"], "builtin");
    let url = play["url"].as_str().unwrap();
    assert!(url.starts_with(&app.url("/media/videos/")), "{url}");
    assert!(play["fallbacks"].as_array().unwrap().is_empty());
    let defs = play["definitions"].as_array().unwrap();
    assert_eq!(defs.len(), 1, "a 360p source has one rung: {play}");

    // A player reads everything: ffmpeg copies the stream to the end.
    let duration = read_hls(url, dir.path());
    assert!((duration - 6.0).abs() < 0.5, "duration {duration}");
    // Every playlist and segment of every rendition answers.
    let mut segments = 0;
    for playlist in uris(&app.http, url).await {
        assert!(playlist.contains("sig="), "{playlist}");
        for seg in uris(&app.http, &playlist).await {
            let resp = app.http.get(&seg).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{seg}");
            segments += 1;
        }
    }
    assert!(
        segments >= 3,
        "init + segments of video and audio: {segments}"
    );

    // Tampered and expired tokens are refused.
    let tampered = url.replace("exp=", "exp=9");
    assert_eq!(app.http.get(&tampered).send().await.unwrap().status(), 403);
    let unsigned = url.split('?').next().unwrap();
    assert_eq!(app.http.get(unsigned).send().await.unwrap().status(), 403);
    let path = unsigned.strip_prefix(&app.url("/media")).unwrap();
    let scope = format!("{}/", path.rsplit_once('/').unwrap().0);
    let expired = MediaToken {
        expires_at: chrono::Utc::now().timestamp() - 5,
        scope,
        cdn: String::new(),
    };
    let resp = app
        .http
        .get(format!(
            "{unsigned}?{}",
            expired.query(app.reel.delivery.key())
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("expired"));
    // A token for one video opens nothing of another.
    let other = url.replace(
        &format!("/videos/{vid}/"),
        &format!("/videos/{}/", vid.0 + 1),
    );
    assert_eq!(app.http.get(&other).send().await.unwrap().status(), 403);

    // The seed API hands out the same kind of URL.
    let (status, body) = app
        .rest(
            &creds,
            "GET",
            "/video/playurl",
            &[("vid", &vid.to_string())],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "OK");
    assert!(body["url"].as_str().unwrap().contains("/master.m3u8?exp="));
    assert_eq!(
        read_hls(body["url"].as_str().unwrap(), dir.path()).round(),
        6.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_play_url_before_publication() {
    let app = TestApp::start().await;
    let creds = app.create_app("early").await;
    let vid = app.insert_video(creds.app_id, VideoStatus::Uploaded).await;
    let out = app
        .graphql(&creds, PLAY, json!({ "id": vid.to_string() }))
        .await;
    assert!(out["data"]["video"]["playUrl"].is_null(), "{out}");
    assert_eq!(error_code(&out), Some("NOT_PLAYABLE"), "{out}");
    let (status, body) = app
        .rest(
            &creds,
            "GET",
            "/video/playurl",
            &[("vid", &vid.to_string())],
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("NOT_PLAYABLE")),
        "{body}"
    );
    let (_, body) = app
        .rest(
            &creds,
            "GET",
            "/video/playurl",
            &[("vid", &vid.to_string()), ("cdn", "nope")],
            None,
        )
        .await;
    assert_eq!(
        body["code"], "NOT_PLAYABLE",
        "the video is checked first: {body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_origin_speaks_http_ranges_validators_and_cors() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let (creds, vid, _dir) = playable(&app, 4).await;
    let play = play_url(&app, &creds, vid, None).await;
    let variant = uris(&app.http, play["url"].as_str().unwrap())
        .await
        .remove(0);
    let seg = uris(&app.http, &variant)
        .await
        .into_iter()
        .find(|u| u.contains(".m4s") || u.contains(".ts"))
        .unwrap();
    let full = app.http.get(&seg).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert!(
        full.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = full.headers()["etag"].to_str().unwrap().to_string();
    let body = full.bytes().await.unwrap();
    let len = body.len();
    assert!(len > 200);
    let get = |range: &'static str| app.http.get(&seg).header("Range", range).send();

    let r = get("bytes=10-99").await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 10-99/{len}").as_str()
    );
    assert_eq!(r.bytes().await.unwrap(), body.slice(10..100));
    let r = get("bytes=-100").await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), body.slice(len - 100..));
    let r = get("bytes=100-").await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), body.slice(100..));
    let r = app
        .http
        .get(&seg)
        .header("Range", format!("bytes={}-", len + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );
    let r = get("bytes=0-9,20-29").await.unwrap();
    assert!(matches!(r.status().as_u16(), 200 | 206), "{}", r.status());
    if r.status() == 200 {
        assert_eq!(r.bytes().await.unwrap(), body);
    }
    let r = app
        .http
        .get(&seg)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.bytes().await.unwrap().is_empty());

    // Playlists are per viewer: not for shared caches.
    let r = app
        .http
        .get(play["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("private")
    );

    // A player on another origin: preflight and the actual response carry CORS headers.
    let pre = app
        .http
        .request(reqwest::Method::OPTIONS, &seg)
        .header("Origin", "https://player.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "{}", pre.status());
    assert!(pre.headers().contains_key("access-control-allow-origin"));
    let r = app
        .http
        .get(&seg)
        .header("Origin", "https://player.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_origin_on_s3_receives_every_file_before_playable() {
    let s3 = S3::start("origin").await;
    let options = s3.options();
    let app = TestApp::builder()
        .config(move |c| {
            c.workers = 1;
            let root = c.data_dir.join("storage").to_string_lossy().into_owned();
            c.delivery.origins.insert(
                "local".into(),
                OriginConfig {
                    kind: reel::config::StorageKind::Fs,
                    options: [("root".to_string(), root)].into(),
                },
            );
            c.delivery.origins.insert(
                "s3".into(),
                OriginConfig {
                    kind: reel::config::StorageKind::S3,
                    options,
                },
            );
        })
        .start()
        .await;
    let (creds, vid, dir) = playable(&app, 4).await;
    let video = app.video(creds.app_id, vid).await;
    let master = video.published_uri.clone().unwrap();
    let generation = master.strip_suffix("master.m3u8").unwrap();
    let s3_op = reel::storage::build(
        &reel::config::StorageConfig {
            kind: reel::config::StorageKind::S3,
            options: s3.options(),
        },
        dir.path(),
    )
    .unwrap();
    let local = app.storage_path(generation);
    let mut files = Vec::new();
    walk(&local, &mut files);
    assert!(files.len() > 10, "{files:?}");
    for rel in &files {
        let key = format!("{generation}{rel}");
        let meta = s3_op
            .stat(&key)
            .await
            .unwrap_or_else(|e| panic!("{key} on S3: {e}"));
        assert_eq!(
            meta.content_length(),
            std::fs::metadata(local.join(rel)).unwrap().len(),
            "{key}"
        );
        assert_eq!(
            meta.content_type(),
            Some(reel::storage::content_type(&key)),
            "{key}"
        );
    }
    assert!(
        app.jobs_of(vid)
            .await
            .iter()
            .any(|(k, s)| k == "publish" && s == "done")
    );
    // Deleting the video removes it from the origins too.
    app.reel.videos.delete(creds.app_id, vid).await.unwrap();
    assert!(s3_op.stat(&master).await.is_err(), "gone from S3");
}

fn walk(dir: &Path, out: &mut Vec<String>) {
    fn go(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                go(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    go(dir, dir, out);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_publish_leaves_the_video_transcoded_with_the_reason() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let app = TestApp::builder()
        .config(move |c| {
            c.workers = 1;
            c.jobs.max_attempts = 1;
            let root = c.data_dir.join("storage").to_string_lossy().into_owned();
            c.delivery.origins.insert(
                "local".into(),
                OriginConfig {
                    kind: reel::config::StorageKind::Fs,
                    options: [("root".to_string(), root)].into(),
                },
            );
            let options = [
                ("bucket", "nowhere"),
                ("endpoint", dead.as_str()),
                ("region", "us-east-1"),
                ("access_key_id", "x"),
                ("secret_access_key", "x"),
            ];
            c.delivery.origins.insert(
                "down".into(),
                OriginConfig {
                    kind: reel::config::StorageKind::S3,
                    options: options
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                },
            );
        })
        .start()
        .await;
    let creds = app.create_app("unlucky").await;
    let token = app.token(&creds, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let vid = upload(
        &app,
        &token,
        &lavfi(dir.path(), "c.mp4", 320, 240, 2, false),
    )
    .await;
    let v = wait_for(&app, creds.app_id, vid, &[VideoStatus::Transcoded]).await;
    let mut v = v;
    for _ in 0..300 {
        if v.error
            .as_deref()
            .is_some_and(|e| e.starts_with("publishing failed:"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        v = app.video(creds.app_id, vid).await;
    }
    assert_eq!(v.status, VideoStatus::Transcoded);
    assert!(
        v.error.as_deref().unwrap_or("").contains("down"),
        "{:?}",
        v.error
    );
    assert!(v.published_uri.is_none());
    let out = app
        .graphql(&creds, PLAY, json!({ "id": vid.to_string() }))
        .await;
    assert_eq!(error_code(&out), Some("NOT_PLAYABLE"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hls_plays_through_an_nginx_edge_and_the_edge_caches_segments() {
    let edge_port = free_port();
    let app = TestApp::builder()
        .config(move |c| {
            c.workers = 1;
            c.delivery.cdns.insert(
                "edge".into(),
                CdnConfig {
                    base_url: format!("http://127.0.0.1:{edge_port}/media"),
                    scheme: SigningScheme::Hmac,
                    ..CdnConfig::default()
                },
            );
        })
        .start()
        .await;
    let upstream = app.base.trim_start_matches("http://").to_string();
    let _nginx = Nginx::start(edge_port, &upstream).await;
    let (creds, vid, dir) = playable(&app, 4).await;
    let play = play_url(&app, &creds, vid, None).await;
    assert_eq!(
        play["cdn"], "edge",
        "a configured CDN comes before the built-in origin"
    );
    assert_eq!(play["fallbacks"][0]["cdn"], "builtin");
    let url = play["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{edge_port}/media/")),
        "{url}"
    );
    let duration = read_hls(url, dir.path());
    assert!((duration - 4.0).abs() < 0.5, "duration {duration}");

    let variant = uris(&app.http, url).await.remove(0);
    assert!(variant.starts_with(&format!("http://127.0.0.1:{edge_port}/")));
    let seg = uris(&app.http, &variant).await.pop().unwrap();
    let first = app.http.get(&seg).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = app.http.get(&seg).send().await.unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["x-cache-status"], "HIT");
    // The edge passes refusals through and does not cache them.
    let bad = seg.replace("sig=", "sig=00");
    assert_eq!(app.http.get(&bad).send().await.unwrap().status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_per_file_signing_cdn_gets_signed_segment_urls_in_reel_served_playlists() {
    let app = TestApp::builder()
        .config(|c| {
            c.workers = 1;
            c.delivery.cdns.insert(
                "ali".into(),
                CdnConfig {
                    base_url: "https://vod.example.com".into(),
                    scheme: SigningScheme::AliyunA,
                    key: "aliyuncdnexp1234".into(),
                    console_ttl_secs: 1800,
                    ..CdnConfig::default()
                },
            );
        })
        .start()
        .await;
    let (creds, vid, _dir) = playable(&app, 4).await;
    let play = play_url(&app, &creds, vid, Some("ali")).await;
    assert_eq!(play["cdn"], "ali");
    let url = play["url"].as_str().unwrap();
    assert!(
        url.starts_with(&app.url("/media/")) && url.contains("cdn=ali"),
        "{url}"
    );
    let expires_at = chrono::DateTime::parse_from_rfc3339(play["expiresAt"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let variant = uris(&app.http, url).await.remove(0);
    assert!(
        variant.starts_with(&app.url("/media/")),
        "playlists stay on Reel: {variant}"
    );
    let segments = uris(&app.http, &variant).await;
    assert!(!segments.is_empty());
    for seg in segments {
        // https://vod.example.com/<uri>?auth_key=<t>-<rand>-<uid>-<md5(uri-t-rand-uid-key)>
        let (path, auth) = seg
            .strip_prefix("https://vod.example.com")
            .and_then(|s| s.split_once("?auth_key="))
            .unwrap_or_else(|| panic!("{seg}"));
        let parts: Vec<&str> = auth.splitn(4, '-').collect();
        let t: i64 = parts[0].parse().unwrap();
        assert_eq!(
            t,
            expires_at - 1800,
            "signed at expiry minus the console's validity"
        );
        let expect = format!(
            "{path}-{}-{}-{}-aliyuncdnexp1234",
            parts[0], parts[1], parts[2]
        );
        assert_eq!(
            parts[3],
            hex::encode(<md5::Md5 as md5::Digest>::digest(expect.as_bytes()))
        );
    }
}
