//! The `reel` command-line client against a real server: upload --wait to a playable
//! URL, and an interrupted upload that resumes instead of restarting.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::media::lavfi;
use common::node::REEL;
use common::{Credentials, TestApp};
use reel::model::VideoId;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

fn client(app: &TestApp, creds: &Credentials, state: &std::path::Path) -> Command {
    let mut cmd = Command::new(REEL);
    cmd.env("REEL_SERVER", &app.base)
        .env("REEL_APP_KEY", &creds.key)
        .env("REEL_APP_SECRET", &creds.secret)
        .env("XDG_STATE_HOME", state)
        .env("XDG_CONFIG_HOME", state)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

async fn run(mut cmd: Command) -> (bool, String, String) {
    let out = cmd.output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_wait_ends_with_a_play_url_ffprobe_can_read() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("cli").await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "clip.mp4", 640, 360, 4, true);
    let mut cmd = client(&app, &creds, dir.path());
    cmd.arg("upload").arg(&file).arg("--wait");
    let (ok, stdout, stderr) = run(cmd).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("status: PLAYABLE"), "{stdout}");
    let url = stdout
        .lines()
        .find_map(|l| l.strip_prefix("play: "))
        .unwrap_or_else(|| panic!("no play URL in {stdout}"));
    let duration = common::media::duration(url);
    assert!((duration - 4.0).abs() < 0.5, "{duration}");

    // The other commands, as a script would use them.
    let vid = stdout
        .split("vid ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let mut cmd = client(&app, &creds, dir.path());
    cmd.args(["status", &vid, "--json"]);
    let (ok, out, err) = run(cmd).await;
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["status"], "PLAYABLE");
    let mut cmd = client(&app, &creds, dir.path());
    cmd.arg("videos");
    let (ok, out, _) = run(cmd).await;
    assert!(
        ok && out.starts_with(&format!("{vid}\tPLAYABLE\t")),
        "{out}"
    );
    let mut cmd = client(&app, &creds, dir.path());
    cmd.args(["play", &vid]);
    let (ok, out, _) = run(cmd).await;
    assert!(ok && out.trim().contains("/master.m3u8?"), "{out}");
    let mut cmd = client(&app, &creds, dir.path());
    cmd.args(["delete", &vid]);
    assert!(run(cmd).await.0);
    let mut cmd = client(&app, &creds, dir.path());
    cmd.args(["status", &vid]);
    let (ok, _, err) = run(cmd).await;
    assert!(!ok && err.contains("NOT_FOUND"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_upload_resumes_where_it_stopped() {
    let app = TestApp::start().await;
    let creds = app.create_app("cli").await;
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let file = dir.path().join("big.bin");
    std::fs::write(&file, &data).unwrap();

    // 8 MiB/s: about three seconds; killed after one.
    let mut cmd = client(&app, &creds, dir.path());
    cmd.arg("upload")
        .arg(&file)
        .args(["--no-transcode", "--limit-rate", "8M"]);
    let mut first = cmd.spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    first.kill().await.unwrap();
    let mut stdout = String::new();
    first
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert!(!stdout.contains("vid "), "finished too early: {stdout}");

    let mut cmd = client(&app, &creds, dir.path());
    cmd.arg("upload").arg(&file).arg("--no-transcode");
    let (ok, stdout, stderr) = run(cmd).await;
    assert!(ok, "{stdout}\n{stderr}");
    let resumed_at: u64 = stdout
        .lines()
        .find_map(|l| l.split(" at byte ").nth(1))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("did not resume: {stdout}"));
    assert!(
        resumed_at > 0 && resumed_at < data.len() as u64,
        "{resumed_at}"
    );
    let sent = format!(
        "({} bytes sent, resumed at byte {resumed_at})",
        data.len() as u64 - resumed_at
    );
    assert!(stdout.contains(&sent), "only the rest is sent: {stdout}");

    let vid: i64 = stdout
        .split("vid ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let video = app.video(creds.app_id, VideoId(vid)).await;
    assert_eq!(video.file_size, data.len() as i64);
    assert_eq!(
        app.stored_md5(&video.storage_uri).await,
        common::tus::md5_hex(&data)
    );
}
