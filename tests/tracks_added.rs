//! Tracks that join a video later or come from its chunked ladder: an audio track added
//! from an audio file (kept through a retranscode, then deleted), and an encrypted chunked
//! ladder with two audio languages.

mod common;

use std::process::Command;
use std::time::Duration;

use common::ladder::{ladder_complete, setup, worker};
use common::media::{clip, lavfi, text, upload, video_id_header, wait_for};
use common::tus::Tus;
use common::{Credentials, TestApp};
use reel::model::{VideoId, VideoStatus};
use serde_json::{Value, json};

const VIDEO: &str = "query($id: ID!) { video(id: $id) { status encrypted ladderComplete
    audioTracks { id language name default } playUrl { url } } }";

async fn video(app: &TestApp, creds: &Credentials, id: VideoId) -> Value {
    let out = app
        .graphql(creds, VIDEO, json!({ "id": id.to_string() }))
        .await;
    assert!(out["errors"].is_null(), "{out}");
    out["data"]["video"].clone()
}

/// The master playlist once `ready` holds for it (60 s at most).
async fn master_when(
    app: &TestApp,
    creds: &Credentials,
    id: VideoId,
    ready: impl Fn(&str, &str) -> bool,
) -> (String, String) {
    for _ in 0..600 {
        let v = video(app, creds, id).await;
        if let Some(url) = v["playUrl"]["url"].as_str() {
            let master = text(app, url).await;
            if ready(url, &master) {
                return (url.to_string(), master);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the master of {id} never got there");
}

/// The duration of what ffmpeg copies from `url` (every stream), to the end.
fn copied(url: &str, out: &std::path::Path) -> f64 {
    let run = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i", url, "-map", "0", "-c", "copy"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    common::media::duration(out)
}

fn media_uri<'a>(master: &'a str, dir: &str) -> &'a str {
    let line = master
        .lines()
        .find(|l| l.contains(&format!("URI=\"{dir}/")))
        .unwrap_or_else(|| panic!("no {dir} in {master}"));
    let at = line.find("URI=\"").unwrap() + 5;
    &line[at..at + line[at..].find('"').unwrap()]
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audio_track_added_from_a_file_plays_survives_a_retranscode_and_goes() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("dubbing").await;
    let token = app.token(&creds, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    // A silent video: the added track gives it its audio group.
    let id = upload(
        &app,
        &token,
        &lavfi(dir.path(), "silent.mp4", 320, 240, 5, false),
    )
    .await;
    let states = [VideoStatus::Playable, VideoStatus::TranscodeFailed];
    assert_eq!(
        wait_for(&app, creds.app_id, id, &states).await.status,
        VideoStatus::Playable
    );

    let dub = clip(
        dir.path(),
        "de.m4a",
        "-f lavfi -i sine=frequency=550:duration=5 -c:a aac",
    );
    let data = std::fs::read(&dub).unwrap();
    let tus = Tus { app: &app, token };
    let vid = id.to_string();
    let meta = [
        ("filename", "de.m4a"),
        ("audioTrackFor", vid.as_str()),
        ("language", "de"),
        ("name", "Deutsch"),
    ];
    let url = tus.create_url(data.len(), &meta).await;
    let resp = tus.patch(&url, 0, data).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    assert_eq!(video_id_header(&resp), id);
    let upload_id = url.rsplit('/').next().unwrap();

    let (play, master) = master_when(&app, &creds, id, |_, m| m.contains("audio_t")).await;
    assert!(
        master.contains("NAME=\"Deutsch\",LANGUAGE=\"de\",DEFAULT=YES"),
        "{master}"
    );
    assert!(master.contains("mp4a.40.2\",AUDIO=\"audio\""), "{master}");
    let german = reqwest::Url::parse(&play)
        .unwrap()
        .join(media_uri(&master, "audio_t1"))
        .unwrap();
    let secs = copied(german.as_str(), &dir.path().join("de.ts"));
    assert!((secs - 5.0).abs() < 0.3, "{secs}");
    // Picture and the added sound together, to the end.
    let both = copied(&play, &dir.path().join("both.mkv"));
    assert!((both - 5.0).abs() < 0.3, "{both}");

    let q = "mutation($v: ID!, $u: ID!) { addAudioTrack(videoId: $v, uploadId: $u) { id language name } }";
    let added = app
        .graphql(&creds, q, json!({ "v": vid, "u": upload_id }))
        .await;
    assert_eq!(added["data"]["addAudioTrack"]["language"], "de", "{added}");
    let track_id = added["data"]["addAudioTrack"]["id"].clone();
    let v = video(&app, &creds, id).await;
    assert_eq!(v["audioTracks"][0]["name"], "Deutsch", "{v}");

    // A retranscode makes a new generation: the track is encoded into it too.
    let old = play.clone();
    let again = app
        .graphql(
            &creds,
            "mutation($id: ID!) { retranscode(id: $id) { id } }",
            json!({ "id": vid }),
        )
        .await;
    assert!(again["errors"].is_null(), "{again}");
    let path = |u: &str| reqwest::Url::parse(u).unwrap().path().to_string();
    let (new_play, _) = master_when(&app, &creds, id, |u, m| {
        path(u) != path(&old) && m.contains("audio_t1")
    })
    .await;

    let gone = app
        .graphql(
            &creds,
            "mutation($id: ID!) { deleteAudioTrack(id: $id) }",
            json!({ "id": track_id }),
        )
        .await;
    assert_eq!(gone["data"]["deleteAudioTrack"], true, "{gone}");
    let master = text(&app, &new_play).await;
    assert!(
        !master.contains("TYPE=AUDIO") && !master.contains("mp4a"),
        "{master}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_encrypted_chunked_ladder_with_two_languages_plays_every_rung() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let file = clip(
        dir.path(),
        "film.mkv",
        "-f lavfi -i testsrc2=size=854x480:rate=25:duration=24 \
         -f lavfi -i sine=frequency=440:duration=24 -f lavfi -i sine=frequency=880:duration=24 \
         -map 0:v -map 1:a -map 2:a -c:v libx264 -preset veryfast -bf 2 -g 37 -pix_fmt yuv420p \
         -c:a aac -metadata:s:a:0 language=eng -metadata:s:a:1 language=spa -shortest",
    );
    let tus = Tus { app: &app, token };
    let data = std::fs::read(&file).unwrap();
    let url = tus
        .create_url(data.len(), &[("filename", "film.mkv"), ("encrypt", "true")])
        .await;
    let id = video_id_header(&tus.patch(&url, 0, data).await);
    let _worker = worker(&app);
    ladder_complete(&app, creds.app_id, id).await;
    let v = video(&app, &creds, id).await;
    assert_eq!(v["encrypted"], true);
    let langs: Vec<&str> = v["audioTracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["eng", "spa"]);
    let play = v["playUrl"]["url"].as_str().unwrap();
    let master = text(&app, play).await;
    assert_eq!(master.matches("TYPE=AUDIO").count(), 2, "{master}");
    // A rung joined from chunks encrypted by the chunk jobs: one key line, every segment.
    let sd = master
        .lines()
        .find(|l| l.starts_with("SD/"))
        .expect("an SD rung");
    let sd_url = reqwest::Url::parse(play).unwrap().join(sd).unwrap();
    let playlist = text(&app, sd_url.as_str()).await;
    assert_eq!(
        playlist.matches("#EXT-X-KEY:METHOD=AES-128").count(),
        1,
        "{playlist}"
    );
    let secs = copied(sd_url.as_str(), &dir.path().join("sd.ts"));
    assert!((secs - 24.0).abs() < 0.2, "{secs}");
    let spanish = reqwest::Url::parse(play)
        .unwrap()
        .join(media_uri(&master, "audio_1"))
        .unwrap();
    let secs = copied(spanish.as_str(), &dir.path().join("spa.ts"));
    assert!((secs - 24.0).abs() < 0.3, "{secs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn captions_come_from_the_operators_speech_to_text_command() {
    let dir = tempfile::tempdir().unwrap();
    // The operator's command: here a script that "hears" the WAV's magic bytes.
    let script = dir.path().join("stt.sh");
    std::fs::write(
        &script,
        "magic=$(head -c 4 \"$1\")\n\
         printf 'WEBVTT\\n\\n00:00:00.500 --> 00:00:02.000\\nheard %s in %s\\n' \"$magic\" \"$3\" > \"$2\"\n",
    )
    .unwrap();
    let command: Vec<String> = [
        "sh",
        &script.to_string_lossy(),
        "{input}",
        "{output}",
        "{language}",
    ]
    .map(String::from)
    .to_vec();
    let app = TestApp::builder()
        .config(move |c| {
            c.workers = 1;
            c.media.captions_command = command;
            c.media.captions_language = "de".into();
        })
        .start()
        .await;
    let creds = app.create_app("captions").await;
    let token = app.token(&creds, 3600).await;
    let id = upload(
        &app,
        &token,
        &lavfi(dir.path(), "talk.mp4", 320, 240, 3, true),
    )
    .await;
    let q = "query($id: ID!) { video(id: $id) { textTracks { language name kind url } } }";
    for _ in 0..300 {
        let out = app
            .graphql(&creds, q, json!({ "id": id.to_string() }))
            .await;
        let tracks = out["data"]["video"]["textTracks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // Listed once its row commits; served once its files are written just after.
        let served = |t: &&Value| t["url"].as_str().map(str::to_string);
        let ready = match tracks.first().and_then(|t| served(&t)) {
            Some(url) => app.http.get(&url).send().await.unwrap().status() == 200,
            None => false,
        };
        if let Some(t) = tracks.first().filter(|_| ready) {
            assert_eq!(
                (t["language"].as_str(), t["kind"].as_str()),
                (Some("de"), Some("CAPTIONS"))
            );
            assert_eq!(t["name"], "Auto-generated");
            let playlist = text(&app, t["url"].as_str().unwrap()).await;
            let segment = playlist.lines().find(|l| l.contains(".vtt")).unwrap();
            let vtt_url = reqwest::Url::parse(t["url"].as_str().unwrap())
                .unwrap()
                .join(segment)
                .unwrap();
            let vtt = text(&app, vtt_url.as_str()).await;
            assert!(vtt.contains("heard RIFF in de"), "{vtt}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no captions were made");
}
