//! Tracks and protection: audio languages, text tracks over GraphQL, REST and tus,
//! audio-only media, AES-128 encryption with its key endpoint.

mod common;

use std::path::Path;
use std::process::Command;

use common::media::{clip, lavfi, playable, signed_like, text, two_languages, wait_for};
use common::tus::Tus;
use common::{Credentials, TestApp, error_code};
use reel::model::{VideoId, VideoStatus};
use serde_json::{Value, json};

const VIDEO: &str = "query($id: ID!) { video(id: $id) { status kind encrypted
    audioTracks { language name default }
    textTracks { id language name kind default url }
    mediaInfo { audioStreams { language title } }
    playUrl { url } } }";

const ADD: &str = "mutation($v: ID!, $l: String!, $n: String, $k: TextTrackKind, $d: Boolean,
    $c: String, $u: ID) { addTextTrack(videoId: $v, language: $l, name: $n, kind: $k,
    default: $d, content: $c, uploadId: $u) { id language name kind default url } }";

const SRT: &str = "1\r\n00:00:01,000 --> 00:00:03,500\r\nBonjour le monde\r\n\r\n2\r\n00:00:04,000 --> 00:00:05,000\r\n<i>Au revoir</i>\r\n";
const VTT: &str = "WEBVTT\n\nNOTE made by the test\n\n00:00:01.000 --> 00:00:03.500\nHello world\n";

async fn video(app: &TestApp, creds: &Credentials, id: VideoId) -> Value {
    let out = app
        .graphql(creds, VIDEO, json!({ "id": id.to_string() }))
        .await;
    assert!(out["errors"].is_null(), "{out}");
    out["data"]["video"].clone()
}

/// ffmpeg reads `url` to the end into `out`; returns the output's duration.
fn ffmpeg_copy(url: &str, out: &Path, args: &[&str]) -> f64 {
    let run = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i", url])
        .args(args)
        .arg(out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "ffmpeg read {url}: {err}");
    common::media::duration(out)
}

/// The first URI after `#EXT-X-STREAM-INF` or the `URI="…"` of the first line with `tag`.
fn uri_of(playlist: &str, tag: &str) -> String {
    let line = playlist
        .lines()
        .find(|l| l.starts_with(tag))
        .unwrap_or_else(|| panic!("no {tag} in {playlist}"));
    let at = line.find("URI=\"").expect("a URI") + 5;
    line[at..at + line[at..].find('"').unwrap()].to_string()
}

fn join(base: &str, uri: &str) -> String {
    reqwest::Url::parse(base)
        .unwrap()
        .join(uri)
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_audio_languages_become_two_audio_renditions() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("languages").await;
    let dir = tempfile::tempdir().unwrap();
    let file = two_languages(dir.path(), "two.mkv", 4);
    let id = playable(&app, &creds, &file, &[]).await;
    let v = video(&app, &creds, id).await;
    assert_eq!(v["kind"], "VIDEO");
    assert_eq!(
        v["audioTracks"],
        json!([
            { "language": "eng", "name": "English", "default": true },
            { "language": "fre", "name": "fre", "default": false },
        ])
    );
    assert_eq!(v["mediaInfo"]["audioStreams"].as_array().unwrap().len(), 2);
    let url = v["playUrl"]["url"].as_str().unwrap();
    let master = text(&app, url).await;
    assert_eq!(master.matches("TYPE=AUDIO").count(), 2, "{master}");
    assert!(master.contains("LANGUAGE=\"fre\",DEFAULT=NO"), "{master}");
    // The second language plays on its own, to the end.
    let second = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-MEDIA:TYPE=AUDIO"))
        .nth(1)
        .unwrap();
    let french = join(url, &uri_of(second, "#EXT-X-MEDIA"));
    let secs = ffmpeg_copy(&french, &dir.path().join("fre.m4a"), &["-c", "copy"]);
    assert!((secs - 4.0).abs() < 0.3, "{secs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn text_tracks_over_graphql_rest_and_tus() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("subtitles").await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "clip.mp4", 320, 240, 6, true);
    let id = playable(&app, &creds, &file, &[]).await;
    let vid = id.to_string();

    // GraphQL: an SRT, converted.
    let added = app
        .graphql(
            &creds,
            ADD,
            json!({ "v": vid, "l": "fr", "n": "Français", "c": SRT, "d": true }),
        )
        .await;
    assert!(added["errors"].is_null(), "{added}");
    let fr = &added["data"]["addTextTrack"];
    assert_eq!(
        (fr["language"].as_str(), fr["kind"].as_str()),
        (Some("fr"), Some("SUBTITLES"))
    );
    let vtt_playlist = text(&app, fr["url"].as_str().unwrap()).await;
    assert!(vtt_playlist.contains("#EXTINF:6."), "{vtt_playlist}");
    let segment = vtt_playlist.lines().find(|l| l.contains(".vtt")).unwrap();
    let vtt = text(&app, &join(fr["url"].as_str().unwrap(), segment)).await;
    let vtt_fetched = vtt.clone();
    assert!(vtt.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:"), "{vtt}");
    assert!(
        vtt.contains("00:00:01.000 --> 00:00:03.500\nBonjour le monde"),
        "{vtt}"
    );

    // A malformed file is refused with its line.
    let bad = "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:05,000 -> 00:00:06,000\nbroken\n";
    let refused = app
        .graphql(&creds, ADD, json!({ "v": vid, "l": "de", "c": bad }))
        .await;
    assert_eq!(error_code(&refused), Some("BAD_REQUEST"), "{refused}");
    assert!(refused.to_string().contains("line 6"), "{refused}");

    // REST: a WebVTT as the body.
    let params = [
        ("vid", vid.as_str()),
        ("language", "en"),
        ("kind", "CAPTIONS"),
    ];
    let (status, body) = app
        .rest(
            &creds,
            "POST",
            "/video/texttrack/add",
            &params,
            Some(VTT.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, listed) = app
        .rest(
            &creds,
            "GET",
            "/video/texttrack/list",
            &[("vid", vid.as_str())],
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["tracks"].as_array().unwrap().len(), 2, "{listed}");

    // tus: an upload whose metadata makes it a text track.
    let tus = Tus {
        app: &app,
        token: app.token(&creds, 600).await,
    };
    let body = VTT.replace("Hello world", "Hallo Welt").into_bytes();
    let meta = [
        ("filename", "de.vtt"),
        ("textTrackFor", vid.as_str()),
        ("language", "de"),
    ];
    let url = tus.create_url(body.len(), &meta).await;
    let resp = tus.patch(&url, 0, body).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);

    let v = video(&app, &creds, id).await;
    let tracks = v["textTracks"].as_array().unwrap();
    let langs: Vec<&str> = tracks
        .iter()
        .map(|t| t["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["fr", "en", "de"]);
    let master = text(&app, v["playUrl"]["url"].as_str().unwrap()).await;
    assert_eq!(master.matches("TYPE=SUBTITLES").count(), 3, "{master}");
    assert!(master.contains("LANGUAGE=\"fr\",DEFAULT=YES"), "{master}");
    assert!(master.contains("describes-music-and-sound"), "{master}");

    // ffmpeg reads a text playlist as WebVTT.
    let de = tracks.iter().find(|t| t["language"] == "de").unwrap();
    let out = dir.path().join("de.vtt");
    let run = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-i",
            de["url"].as_str().unwrap(),
            "-f",
            "webvtt",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("Hallo Welt")
    );

    // Deleted: gone from the master, and its files with it.
    let gone = app
        .graphql(
            &creds,
            "mutation($id: ID!) { deleteTextTrack(id: $id) }",
            json!({ "id": fr["id"] }),
        )
        .await;
    assert_eq!(gone["data"]["deleteTextTrack"], true, "{gone}");
    let master = text(&app, v["playUrl"]["url"].as_str().unwrap()).await;
    assert_eq!(master.matches("TYPE=SUBTITLES").count(), 2, "{master}");
    assert!(!vtt_fetched.is_empty());
    let stale = app
        .http
        .get(fr["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);

    // Another app sees none of it.
    let other = app.create_app("other").await;
    let foreign = app
        .graphql(&other, ADD, json!({ "v": vid, "l": "it", "c": VTT }))
        .await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mp3_becomes_audio_only_hls() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("podcast").await;
    let dir = tempfile::tempdir().unwrap();
    let file = clip(
        dir.path(),
        "episode.mp3",
        "-f lavfi -i sine=frequency=330:duration=7 -c:a libmp3lame -b:a 96k",
    );
    let id = playable(&app, &creds, &file, &[]).await;
    let v = video(&app, &creds, id).await;
    assert_eq!(v["kind"], "AUDIO", "{v}");
    let snaps = app
        .graphql(
            &creds,
            "query($id: ID!) { video(id: $id) { snapshots { url } sprite } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    assert_eq!(snaps["data"]["video"]["snapshots"], json!([]), "{snaps}");
    let url = v["playUrl"]["url"].as_str().unwrap();
    let master = text(&app, url).await;
    assert!(master.contains("CODECS=\"mp4a.40.2\""), "{master}");
    assert!(!master.contains("RESOLUTION"), "{master}");
    let secs = ffmpeg_copy(url, &dir.path().join("episode.m4a"), &["-c", "copy"]);
    assert!((secs - 7.0).abs() < 0.3, "{secs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_encrypted_video_plays_with_its_token_only() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("locked").await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "secret.mp4", 320, 240, 5, true);
    let id = playable(
        &app,
        &creds,
        &file,
        &[("filename", "secret.mp4"), ("encrypt", "true")],
    )
    .await;
    let plain = playable(
        &app,
        &creds,
        &lavfi(dir.path(), "open.mp4", 320, 240, 3, false),
        &[],
    )
    .await;
    let v = video(&app, &creds, id).await;
    assert_eq!(v["encrypted"], true);
    let url = v["playUrl"]["url"].as_str().unwrap();

    // ffmpeg plays it through the play URL (it fetches the key itself).
    let secs = ffmpeg_copy(url, &dir.path().join("copy.mp4"), &["-c", "copy"]);
    assert!((secs - 5.0).abs() < 0.3, "{secs}");

    // The media playlist names the key; the key answers the play token only.
    let master = text(&app, url).await;
    let rung_uri = master
        .lines()
        .find(|l| l.contains(".m3u8") && !l.starts_with('#'))
        .unwrap();
    let rung_url = join(url, rung_uri);
    let media = text(&app, &rung_url).await;
    assert!(media.contains("#EXT-X-KEY:METHOD=AES-128"), "{media}");
    let key_url = join(&rung_url, &uri_of(&media, "#EXT-X-KEY"));
    let key = app.http.get(&key_url).send().await.unwrap();
    assert_eq!(key.status(), 200);
    assert_eq!(key.headers()["cache-control"], "private, no-store");
    assert_eq!(key.bytes().await.unwrap().len(), 16);
    let unsigned = key_url.split('?').next().unwrap().to_string();
    assert_eq!(app.http.get(&unsigned).send().await.unwrap().status(), 403);
    let expired = signed_like(&app, &key_url, -10, None);
    assert_eq!(app.http.get(&expired).send().await.unwrap().status(), 403);
    // A valid token of another video does not open this one's key.
    let other = video(&app, &creds, plain).await;
    let other_url = other["playUrl"]["url"].as_str().unwrap();
    let scope = reqwest::Url::parse(other_url).unwrap();
    let other_scope = scope
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    let borrowed = signed_like(&app, &key_url, 600, Some(&other_scope));
    assert_eq!(app.http.get(&borrowed).send().await.unwrap().status(), 403);

    // A segment fetched alone does not decode.
    let segment = media.lines().find(|l| l.contains(".ts")).unwrap();
    let seg_url = join(&rung_url, segment);
    let bytes = app
        .http
        .get(&seg_url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let seg_file = dir.path().join("alone.ts");
    std::fs::write(&seg_file, &bytes).unwrap();
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_type"])
        .arg(&seg_file)
        .output()
        .unwrap();
    let streams = String::from_utf8_lossy(&probe.stdout);
    assert!(
        !probe.status.success() || !streams.contains("video"),
        "{streams}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hls_js_switches_audio_language_and_shows_a_subtitle_cue() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("player").await;
    let dir = tempfile::tempdir().unwrap();
    let file = two_languages(dir.path(), "film.mkv", 10);
    let id = playable(&app, &creds, &file, &[]).await;
    let vtt = "WEBVTT\n\n00:00:03.000 --> 00:00:06.000\nBonjour le monde\n";
    let added = app
        .graphql(
            &creds,
            ADD,
            json!({ "v": id.to_string(), "l": "fr", "c": vtt }),
        )
        .await;
    assert!(added["errors"].is_null(), "{added}");
    let v = video(&app, &creds, id).await;
    let url = v["playUrl"]["url"].as_str().unwrap().to_string();
    let hls = common::browser::repo().join("playground/node_modules/hls.js/dist/hls.min.js");
    let page = app.url("/healthz");
    let args: [&dyn AsRef<std::ffi::OsStr>; 7] =
        [&page, &url, &hls, &"fre", &"fr", &"Bonjour le monde", &"3"];
    common::browser::run("hls_tracks.mjs", &args, "OK: switched audio to fre").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_setting_encrypts_every_upload_and_a_retranscode_rotates_the_key() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("always-locked").await;
    app.reel
        .apps
        .set_encrypt_uploads("always-locked", true)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = playable(
        &app,
        &creds,
        &lavfi(dir.path(), "a.mp4", 320, 240, 3, true),
        &[],
    )
    .await;
    let first = key_of(&app, &creds, id).await;
    let again = app
        .graphql(
            &creds,
            "mutation($id: ID!) { retranscode(id: $id) { id } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    assert!(again["errors"].is_null(), "{again}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let states = [VideoStatus::Playable, VideoStatus::TranscodeFailed];
    wait_for(&app, creds.app_id, id, &states).await;
    let second = key_of(&app, &creds, id).await;
    assert_ne!(first, second, "a retranscode rotates the key");
}

/// The key bytes of the video's published generation, through its play URL.
async fn key_of(app: &TestApp, creds: &Credentials, id: VideoId) -> Vec<u8> {
    let v = video(app, creds, id).await;
    assert_eq!(v["encrypted"], true, "{v}");
    let url = v["playUrl"]["url"].as_str().unwrap();
    let master = text(app, url).await;
    let rung = master
        .lines()
        .find(|l| l.contains(".m3u8") && !l.starts_with('#'))
        .unwrap();
    let rung_url = join(url, rung);
    let media = text(app, &rung_url).await;
    let key_url = join(&rung_url, &uri_of(&media, "#EXT-X-KEY"));
    let resp = app.http.get(&key_url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap().to_vec()
}
