//! The image API (issue 17): thumbnails and animated previews made on demand by the
//! `/media/` origin from a video's renditions, cached in storage, signed like play URLs.

mod common;

use std::path::Path;

use common::media::{ImageInfo, clip, image_info, lavfi, playable, signed_like};
use common::{Credentials, TestApp, error_code};
use reel::model::{VideoId, VideoStatus};
use serde_json::{Value, json};

const THUMBNAIL: &str = "query($id: ID!, $t: Float!, $w: Int, $h: Int, $fit: ImageFit,
    $format: ImageFormat) { video(id: $id) { thumbnailUrl(time: $t, width: $w, height: $h,
    fit: $fit, format: $format) } }";
const ANIMATED: &str = "query($id: ID!, $s: Float!, $e: Float!, $w: Int, $fps: Int,
    $format: AnimatedFormat) { video(id: $id) { animatedUrl(start: $s, end: $e, width: $w,
    fps: $fps, format: $format) } }";

/// `thumbnailUrl` (or `animatedUrl`) with `vars`: the URL, or the whole response when
/// there is none.
async fn image_url(
    app: &TestApp,
    creds: &Credentials,
    query: &str,
    id: VideoId,
    mut vars: Value,
) -> Result<String, Value> {
    vars["id"] = json!(id.to_string());
    let out = app.graphql(creds, query, vars).await;
    let field = if query == THUMBNAIL {
        "thumbnailUrl"
    } else {
        "animatedUrl"
    };
    match out["data"]["video"][field].as_str() {
        Some(url) => Ok(url.to_string()),
        None => Err(out),
    }
}

/// GET `url`: status, `X-Reel-Image`, content type and body.
async fn fetch(app: &TestApp, url: &str) -> (u16, String, String, Vec<u8>) {
    let resp = app.http.get(url).send().await.unwrap();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (cache, kind) = (header("x-reel-image"), header("content-type"));
    (
        resp.status().as_u16(),
        cache,
        kind,
        resp.bytes().await.unwrap().to_vec(),
    )
}

/// GET `url`, which must answer an image; what ffprobe reads of it.
async fn image(app: &TestApp, url: &str, dir: &Path, name: &str) -> ImageInfo {
    let (status, _, kind, body) = fetch(app, url).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    assert!(kind.starts_with("image/"), "{kind}");
    image_info(dir, name, &body)
}

/// `url` with `from` (in its path) replaced by `to`, signed as it was.
fn renamed(url: &str, from: &str, to: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    format!("{}?{query}", path.replace(from, to))
}

#[tokio::test(flavor = "multi_thread")]
async fn thumbnails_and_animations_are_made_once_then_read_from_storage() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("images").await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "clip.mp4", 640, 360, 6, true);
    let id = playable(&app, &creds, &file, &[]).await;

    // A 320-wide JPEG at 2.5 s, made now, then read from its stored copy.
    let url = image_url(&app, &creds, THUMBNAIL, id, json!({ "t": 2.5, "w": 320 }))
        .await
        .unwrap();
    assert!(url.starts_with(&app.url("/media/videos/")), "{url}");
    assert!(
        url.contains("/thumbnail.jpg?time=2.5&width=320&exp="),
        "{url}"
    );
    let resp = app.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-reel-image"], "miss");
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let made = resp.bytes().await.unwrap();
    let info = image_info(dir.path(), "a.jpg", &made);
    assert_eq!(
        (info.codec.as_str(), info.width, info.height),
        ("mjpeg", 320, 180)
    );
    let (status, cache, _, again) = fetch(&app, &url).await;
    assert_eq!((status, cache.as_str()), (200, "hit"));
    assert_eq!(again, made.to_vec());
    let video = app.video(creds.app_id, id).await;
    let generation = video.published_generation().unwrap();
    let cached = generation.key("images/thumbnail_2500ms_320xauto_preserve.jpg");
    assert!(
        app.reel.storage.op().exists(&cached).await.unwrap(),
        "{cached}"
    );

    // PNG and WebP through the same token; crop and pad give exactly the box.
    for (name, codec) in [("thumbnail.png", "png"), ("thumbnail.webp", "webp")] {
        let info = image(
            &app,
            &renamed(&url, "thumbnail.jpg", name),
            dir.path(),
            name,
        )
        .await;
        assert_eq!((info.codec.as_str(), info.width), (codec, 320), "{name}");
    }
    for fit in ["CROP", "PAD"] {
        let vars = json!({ "t": 1, "w": 200, "h": 200, "fit": fit, "format": "PNG" });
        let url = image_url(&app, &creds, THUMBNAIL, id, vars).await.unwrap();
        let info = image(&app, &url, dir.path(), "box.png").await;
        assert_eq!((info.width, info.height), (200, 200), "{fit}");
    }

    // An animated GIF across two segments (they are 4 s long), and an animated WebP.
    let vars = json!({ "s": 3, "e": 5.5, "w": 240, "fps": 10 });
    let url = image_url(&app, &creds, ANIMATED, id, vars).await.unwrap();
    let gif = image(&app, &url, dir.path(), "a.gif").await;
    assert_eq!((gif.codec.as_str(), gif.width), ("gif", 240));
    assert!((20..=26).contains(&gif.frames), "{gif:?}");
    let vars = json!({ "s": 0, "e": 1, "format": "WEBP" });
    let url = image_url(&app, &creds, ANIMATED, id, vars).await.unwrap();
    let (status, _, kind, webp) = fetch(&app, &url).await;
    assert_eq!((status, kind.as_str()), (200, "image/webp"));
    // ffprobe cannot decode animated WebP: count its frames (ANMF chunks) instead.
    assert_eq!(&webp[8..12], b"WEBP");
    assert!(webp.windows(4).filter(|w| w == b"ANMF").count() > 5);

    // Concurrent requests of one new image all get it.
    let url = image_url(&app, &creds, THUMBNAIL, id, json!({ "t": 4.2 }))
        .await
        .unwrap();
    let all = futures_util::future::join_all((0..4).map(|_| fetch(&app, &url))).await;
    for (status, _, _, body) in &all {
        assert_eq!(*status, 200);
        assert_eq!(body, &all[0].3);
    }
    assert_eq!(image_info(dir.path(), "full.jpg", &all[0].3).width, 640);

    // Bad input is refused with the reason.
    let base = url.split_once('?').unwrap().0.to_string();
    for (name, query, says) in [
        ("thumbnail.jpg", "time=7", "past the end"),
        ("thumbnail.jpg", "time=6", "past the end"),
        ("thumbnail.jpg", "time=-1", "0 or more"),
        ("thumbnail.jpg", "time=1&width=0", "between 1 and 1920"),
        ("thumbnail.jpg", "time=1&width=100000", "between 1 and 1920"),
        (
            "thumbnail.jpg",
            "time=1&fit=stretch",
            "preserve, crop or pad",
        ),
        ("animated.gif", "start=3&end=3", "before end"),
        ("animated.gif", "start=4&end=2", "before end"),
        ("animated.gif", "start=0&end=11", "at most 10 s"),
        ("animated.gif", "start=2&end=7", "past the end"),
    ] {
        let unsigned = format!("{}?{query}", base.replace("thumbnail.jpg", name));
        let signed = signed_like(&app, &unsigned, 600, Some(&scope(&url)));
        let (status, _, _, body) = fetch(&app, &signed).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{name}?{query}: {text}");
        assert!(text.contains(says), "{name}?{query}: {text}");
    }

    // Unsigned, expired, or another video's token: refused.
    let (status, ..) = fetch(&app, &format!("{base}?time=1")).await;
    assert_eq!(status, 403);
    let (status, ..) = fetch(&app, &signed_like(&app, &url, -10, None)).await;
    assert_eq!(status, 403);
    let (status, ..) = fetch(&app, &signed_like(&app, &url, 600, Some("/videos/0/"))).await;
    assert_eq!(status, 403);

    // GraphQL refuses a time outside the video, and has no URL before publication.
    let out = image_url(&app, &creds, THUMBNAIL, id, json!({ "t": 60 }))
        .await
        .unwrap_err();
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    let out = image_url(&app, &creds, ANIMATED, id, json!({ "s": 1, "e": 12 }))
        .await
        .unwrap_err();
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    let early = app.insert_video(creds.app_id, VideoStatus::Uploaded).await;
    let out = image_url(&app, &creds, THUMBNAIL, early, json!({ "t": 1 }))
        .await
        .unwrap_err();
    assert!(
        out["errors"].is_null() && out["data"]["video"]["thumbnailUrl"].is_null(),
        "{out}"
    );

    // Deleting the video removes its images; the URL then finds nothing.
    assert!(app.delete_video(&creds, id).await);
    assert!(!app.reel.storage.op().exists(&cached).await.unwrap());
    let (status, _, _, body) = fetch(&app, &url).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
}

/// The `scope` of a signed URL.
fn scope(url: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypted_videos_have_images_and_audio_only_ones_none() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("locked").await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "secret.mp4", 320, 240, 5, false);
    let meta = [("filename", "secret.mp4"), ("encrypt", "true")];
    let id = playable(&app, &creds, &file, &meta).await;
    assert!(app.video(creds.app_id, id).await.encrypt);
    let url = image_url(&app, &creds, THUMBNAIL, id, json!({ "t": 4.5, "w": 160 }))
        .await
        .unwrap();
    let info = image(&app, &url, dir.path(), "secret.jpg").await;
    assert_eq!((info.width, info.height), (160, 120));
    let vars = json!({ "s": 3.5, "e": 4.5, "fps": 5 });
    let gif = image(
        &app,
        &image_url(&app, &creds, ANIMATED, id, vars).await.unwrap(),
        dir.path(),
        "secret.gif",
    )
    .await;
    assert!((4..=6).contains(&gif.frames), "{gif:?}");

    let mp3 = clip(
        dir.path(),
        "episode.mp3",
        "-f lavfi -i sine=frequency=330:duration=3 -c:a libmp3lame -b:a 96k",
    );
    let audio = playable(&app, &creds, &mp3, &[]).await;
    let out = image_url(&app, &creds, THUMBNAIL, audio, json!({ "t": 1 }))
        .await
        .unwrap_err();
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");
    assert!(
        out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("audio-only")
    );
    // Its play token opens no image at the origin either.
    let play = app
        .graphql(
            &creds,
            "query($id: ID!) { video(id: $id) { playUrl { url } } }",
            json!({ "id": audio.to_string() }),
        )
        .await;
    let master = play["data"]["video"]["playUrl"]["url"].as_str().unwrap();
    let thumb = renamed(master, "master.m3u8", "thumbnail.jpg").replace('?', "?time=1&");
    let (status, _, _, body) = fetch(&app, &thumb).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("audio-only"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thumbnail_from_a_waiting_ffmpeg_is_the_one_a_fresh_ffmpeg_makes() {
    use common::metrics::sample;
    use reel::media::Media;
    use reel::media::image::args::{Input, Source};
    use reel::media::image::{Fit, ImageFormat, ImageSpec, Thumbnail};

    reel::metrics::handle(); // the recorder, before anything is counted
    let dir = tempfile::tempdir().unwrap();
    // A segment as the ladder makes them: MPEG-TS, one keyframe first, B-frames.
    let segment = clip(
        dir.path(),
        "segment.ts",
        "-f lavfi -i testsrc2=size=640x360:rate=30 -t 4 -c:v libx264 -preset ultrafast -g 120 -bf 2 -f mpegts",
    );
    let source = |offset| Source {
        inputs: vec![Input {
            path: segment.clone(),
            key: None,
        }],
        offset,
        threads: 1,
    };
    let thumbnail = |format| {
        ImageSpec::Thumbnail(Thumbnail {
            time_ms: 0,
            width: Some(320),
            height: None,
            fit: Fit::Preserve,
            format,
        })
    };
    let made = |how: &str| {
        let text = reel::metrics::handle().render();
        sample(&text, reel::metrics::IMAGES_MADE, &[("ffmpeg", how)]).unwrap_or(0.0)
    };
    let config = reel::config::MediaConfig::default();
    let fresh = Media::new(&config);
    let warm = Media::new(&config).with_warm_thumbnails(dir.path().join("warm"), 1);
    let work = dir.path();
    let timeout = std::time::Duration::from_secs(30);
    let jpg = thumbnail(ImageFormat::Jpg);

    // The first of its kind starts ffmpeg (and one to wait for the next); the next is
    // made by the one waiting, exactly as a fresh ffmpeg makes it.
    let first = warm.image(&jpg, &source(2.5), work, timeout).await.unwrap();
    assert_eq!((made("started"), made("waiting")), (1.0, 0.0));
    let from_waiting = warm.image(&jpg, &source(3.9), work, timeout).await.unwrap();
    assert_eq!((made("started"), made("waiting")), (1.0, 1.0));
    let from_fresh = fresh
        .image(&jpg, &source(3.9), work, timeout)
        .await
        .unwrap();
    assert_eq!(made("started"), 2.0);
    assert_eq!(from_waiting, from_fresh);
    assert_ne!(from_waiting, first, "another time, another picture");
    assert_eq!(image_info(work, "w.jpg", &from_waiting).width, 320);

    // Waiting processes that died (killed, say) are passed over: the image is still made.
    let warm_dir = dir.path().join("warm");
    let killed = std::process::Command::new("pkill")
        .args(["-f", &warm_dir.to_string_lossy()])
        .status()
        .unwrap();
    assert!(killed.success(), "a waiting ffmpeg was there to kill");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = warm.image(&jpg, &source(1.0), work, timeout).await.unwrap();
    assert_eq!(
        after,
        fresh
            .image(&jpg, &source(1.0), work, timeout)
            .await
            .unwrap()
    );
    assert_eq!(made("waiting"), 1.0);
    // Another format waits in processes of its own.
    let png = thumbnail(ImageFormat::Png);
    warm.image(&png, &source(0.5), work, timeout).await.unwrap();
    let png_warm = warm.image(&png, &source(1.5), work, timeout).await.unwrap();
    assert_eq!(made("waiting"), 2.0);
    assert_eq!(image_info(work, "w.png", &png_warm).codec, "png");
}
