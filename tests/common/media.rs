//! Test media made with ffmpeg's lavfi sources, and waiting for the pipeline.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reel::model::{AppId, VideoId};
use reel::{model::VideoStatus, video::Video};

use super::TestApp;

/// Runs ffmpeg with `args` (inputs and options) writing `name` into `dir`.
pub fn clip(dir: &Path, name: &str, args: &str) -> PathBuf {
    let out = dir.join(name);
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-v", "error", "-y"])
        .args(args.split_whitespace())
        .arg(&out);
    let status = cmd.status().expect("ffmpeg is installed (scripts/setup)");
    assert!(status.success(), "ffmpeg {args}");
    out
}

/// A clip of `secs` seconds at `w`x`h`, with a sine tone when `audio`.
pub fn lavfi(dir: &Path, name: &str, w: u32, h: u32, secs: u32, audio: bool) -> PathBuf {
    let video = format!("-f lavfi -i testsrc2=size={w}x{h}:rate=25:duration={secs}");
    let sound = if audio {
        format!(" -f lavfi -i sine=frequency=440:duration={secs} -c:a aac")
    } else {
        String::new()
    };
    clip(
        dir,
        name,
        &format!("{video}{sound} -c:v libx264 -preset ultrafast -pix_fmt yuv420p -shortest"),
    )
}

/// A 320x240 clip of `secs` seconds with two audio streams: English (`eng`, titled
/// "English") and French (`fre`, untitled), at two pitches.
pub fn two_languages(dir: &Path, name: &str, secs: u32) -> PathBuf {
    clip(
        dir,
        name,
        &format!(
            "-f lavfi -i testsrc2=size=320x240:rate=25:duration={secs} \
             -f lavfi -i sine=frequency=440:duration={secs} \
             -f lavfi -i sine=frequency=880:duration={secs} \
             -map 0:v -map 1:a -map 2:a -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
             -c:a aac -metadata:s:a:0 language=eng -metadata:s:a:0 title=English \
             -metadata:s:a:1 language=fre -shortest"
        ),
    )
}

/// The body of `url` (a playlist or a file), asserting 200.
pub async fn text(app: &TestApp, url: &str) -> String {
    let resp = app.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.text().await.unwrap()
}

/// Uploads `file` through tus in one PATCH (autoTranscode on); returns the video id.
pub async fn upload(app: &TestApp, token: &str, file: &Path) -> VideoId {
    upload_with(app, token, file, &[]).await
}

/// `upload` with more tus metadata.
pub async fn upload_with(
    app: &TestApp,
    token: &str,
    file: &Path,
    meta: &[(&str, &str)],
) -> VideoId {
    let data = std::fs::read(file).unwrap();
    let tus = super::tus::Tus {
        app,
        token: token.to_string(),
    };
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let mut meta = meta.to_vec();
    meta.push(("filename", &name));
    let url = tus.create_url(data.len(), &meta).await;
    let resp = tus.patch(&url, 0, data).await;
    assert_eq!(resp.status(), 204);
    video_id_header(&resp)
}

/// The video a finished tus upload made (`Reel-Video-Id`).
pub fn video_id_header(resp: &reqwest::Response) -> VideoId {
    let id = resp.headers()["reel-video-id"].to_str().unwrap();
    VideoId(id.parse().unwrap())
}

/// A video id as GraphQL gives it (a string).
pub fn video_id_json(id: &serde_json::Value) -> VideoId {
    let id = id.as_str().unwrap_or_else(|| panic!("{id} is not an id"));
    VideoId(id.parse().unwrap())
}

/// Where the pipeline leaves a video until someone acts: it played or it failed.
pub const SETTLED: [VideoStatus; 3] = [
    VideoStatus::Playable,
    VideoStatus::TranscodeFailed,
    VideoStatus::UploadFailed,
];

/// Waits until the pipeline is done with the video (`SETTLED`, 60 s at most).
pub async fn settle(app: &TestApp, owner: AppId, id: VideoId) -> Video {
    wait_for(app, owner, id, &SETTLED).await
}

/// Waits until the video reaches one of `states` (60 s at most).
pub async fn wait_for(app: &TestApp, owner: AppId, id: VideoId, states: &[VideoStatus]) -> Video {
    for _ in 0..600 {
        if let Some(v) = app.reel.videos.get(owner, id).await.unwrap()
            && states.contains(&v.status)
        {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = app.reel.videos.get(owner, id).await.unwrap();
    panic!("video {id} never reached {states:?}: {v:?}");
}

/// The duration ffprobe reads from a file or URL, in seconds.
pub fn duration(input: impl AsRef<std::ffi::OsStr>) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(input.as_ref())
        .output()
        .unwrap();
    super::assert_success(&out);
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Uploads `file` through tus (metadata `meta` besides the name, or none) and waits
/// until it is `PLAYABLE`.
pub async fn playable(
    app: &TestApp,
    creds: &super::Credentials,
    file: &Path,
    meta: &[(&str, &str)],
) -> VideoId {
    let token = app.token(creds, 3600).await;
    let id = match meta.is_empty() {
        true => upload(app, &token, file).await,
        false => {
            let tus = super::tus::Tus { app, token };
            let data = std::fs::read(file).unwrap();
            let url = tus.create_url(data.len(), meta).await;
            video_id_header(&tus.patch(&url, 0, data).await)
        }
    };
    let states = [VideoStatus::Playable, VideoStatus::TranscodeFailed];
    let v = wait_for(app, creds.app_id, id, &states).await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);
    id
}

/// `url` with a token signed by the server's key, expiring in `ttl` seconds, opening
/// `scope` (default: the URL's own); its other parameters are kept.
pub fn signed_like(app: &TestApp, url: &str, ttl: i64, scope: Option<&str>) -> String {
    let parsed = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    let own = || {
        let scope = pairs.iter().find(|(k, _)| k == "scope");
        scope.expect("a signed URL").1.clone()
    };
    let token = reel::delivery::token::MediaToken {
        expires_at: chrono::Utc::now().timestamp() + ttl,
        scope: scope.map_or_else(own, str::to_string),
        cdn: String::new(),
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs
        .iter()
        .filter(|(k, _)| !["exp", "scope", "cdn", "sig"].contains(&k.as_str()))
    {
        query.append_pair(k, v);
    }
    let mut query = query.finish();
    if !query.is_empty() {
        query.push('&');
    }
    let base = url.split('?').next().unwrap();
    format!("{base}?{query}{}", token.query(app.reel.delivery.key()))
}

/// What ffprobe reads of an image: codec, width, height and frames (decoded).
#[derive(Debug, PartialEq)]
pub struct ImageInfo {
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub frames: u32,
}

/// Probes `bytes` (written into `dir` as `name`).
pub fn image_info(dir: &Path, name: &str, bytes: &[u8]) -> ImageInfo {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
        ])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(&file)
        .output()
        .unwrap();
    super::assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("no {k} in {text}"))
            .to_string()
    };
    ImageInfo {
        codec: field("codec_name"),
        width: field("width").parse().unwrap(),
        height: field("height").parse().unwrap(),
        frames: field("nb_read_frames").parse().unwrap_or(0),
    }
}
