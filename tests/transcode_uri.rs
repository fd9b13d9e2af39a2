//! `transcodeUri`: a new video from a file already in storage or from an allowed
//! `https://` host, never from another app's files, Reel's own areas or private addresses.

mod common;

use common::media::{lavfi, settle, video_id_json, wait_for};
use common::{Credentials, TestApp, error_code};
use reel::model::VideoStatus;
use serde_json::json;

async fn setup() -> (TestApp, Credentials, String) {
    TestApp::builder()
        .config(|c| c.workers = 1)
        .signed_in()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn transcode_uri_takes_files_from_storage_only() {
    let (app, creds, _) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "in.mp4", 320, 240, 2, true);
    app.reel
        .storage
        .op()
        .write("imports/in.mp4", std::fs::read(&file).unwrap())
        .await
        .unwrap();
    let mutation = "mutation($src: String!, $dst: String) { transcodeUri(src: $src, dst: $dst, priority: 3) { id status sourceName taskPriority } }";
    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": "fs://imports/in.mp4", "dst": "fs://exports/site" }),
        )
        .await;
    let video = &out["data"]["transcodeUri"];
    assert_eq!(video["status"], "TRANSCODE_QUEUED", "{out}");
    assert_eq!(video["sourceName"], "in.mp4");
    let vid = video_id_json(&video["id"]);
    let done = settle(&app, creds.app_id, vid).await;
    assert_eq!(done.status, VideoStatus::Playable, "{:?}", done.error);
    let playlist = done.playlist_uri.clone().unwrap();
    assert!(
        playlist.starts_with(&format!("apps/{}/exports/site/{vid}/", creds.app_id)),
        "the app's own area: {playlist}"
    );
    assert!(app.storage_path(&playlist).exists());

    // Another app cannot read this app's files through storage URIs: not its outputs at
    // dst, not uploaded sources, not Reel's output area.
    let other = app.create_app("other").await;
    let generation = playlist.strip_suffix("master.m3u8").unwrap();
    let rendition = app.reel.videos.renditions(&done).await.unwrap()[0]
        .storage_uri
        .clone();
    for src in [
        format!("fs://{rendition}"),
        format!("fs://{generation}snapshots/snap_001.jpg"),
        format!("fs://sources/{vid}/source"),
        format!("fs://{playlist}"),
    ] {
        let out = app.graphql(&other, mutation, json!({ "src": src })).await;
        assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{src}: {out}");
    }

    // Deleting removes the outputs at dst, and never the client's own source file.
    assert!(app.delete_video(&creds, vid).await);
    assert!(!app.storage_path(&playlist).exists());
    assert!(app.storage_path("imports/in.mp4").exists());

    for (src, dst) in [
        ("fs://../../etc/passwd", None),
        ("fs:///etc/passwd", None),
        ("https://127.0.0.1/x.mp4", None),
        ("http://169.254.169.254/latest", None),
        ("s3://bucket/key", None),
        ("fs://imports/missing.mp4", None),
        ("fs://imports/in.mp4", Some("fs://../out")),
        ("fs://imports/in.mp4", Some("fs://videos/1")),
    ] {
        let out = app
            .graphql(&creds, mutation, json!({ "src": src, "dst": dst }))
            .await;
        assert_eq!(
            error_code(&out),
            Some("BAD_REQUEST"),
            "{src} {dst:?}: {out}"
        );
    }
    let (status, body) = app
        .rest(
            &creds,
            "GET",
            "/video/transcode",
            &[("src", "fs://imports/in.mp4")],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "TRANSCODE_QUEUED");
}

/// An HTTPS server on loopback serving `dir`, with its own CA; returns (child, port, ca
/// path). Two paths misbehave: `/trickle` sends a byte every half second forever, and
/// `/endless` streams without a length, forever.
fn https_server(dir: &std::path::Path) -> (std::process::Child, u16, std::path::PathBuf) {
    let run = |args: &str| {
        let ok = std::process::Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "openssl {args}");
    };
    run(
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=reel-test-ca",
    );
    run("req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=localhost");
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1 -extfile ext.cnf",
    );
    let script = r#"
import http.server, ssl, sys, time
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path not in ('/trickle', '/endless'):
            return super().do_GET()
        self.send_response(200)
        self.send_header('Content-Type', 'video/mp4')
        self.end_headers()
        try:
            while True:
                if self.path == '/trickle':
                    self.wfile.write(b'x')
                    self.wfile.flush()
                    time.sleep(0.5)
                else:
                    self.wfile.write(b'x' * 65536)
        except OSError:
            pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain('leaf.pem', 'leaf.key')
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, line.trim().parse().unwrap(), dir.join("ca.pem"))
}

/// A server with a worker that may fetch from `https_server` (trusting its `ca`).
fn fetching_from_localhost(
    ca: std::path::PathBuf,
    tweak: impl FnOnce(&mut reel::config::Config) + 'static,
) -> common::TestAppBuilder {
    TestApp::builder().config(move |c| {
        c.workers = 1;
        c.media.fetch_allow_hosts = vec!["localhost".into()];
        // The test server is on loopback; production keeps this off.
        c.media.fetch_allow_private = true;
        c.media.fetch_ca_file = Some(ca);
        tweak(c);
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn transcode_uri_fetches_https_sources_from_allowed_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "remote.mp4", 320, 240, 2, true);
    let (mut server, port, ca) = https_server(dir.path());
    let app = fetching_from_localhost(ca, |_| {}).start().await;
    let creds = app.create_app("alpha").await;
    let mutation = "mutation($src: String!) { transcodeUri(src: $src) { id status sourceName } }";
    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": format!("https://localhost:{port}/remote.mp4") }),
        )
        .await;
    assert_eq!(out["data"]["transcodeUri"]["status"], "UPLOADING", "{out}");
    assert_eq!(out["data"]["transcodeUri"]["sourceName"], "remote.mp4");
    let vid = video_id_json(&out["data"]["transcodeUri"]["id"]);
    let done = wait_for(
        &app,
        creds.app_id,
        vid,
        &[
            VideoStatus::Playable,
            VideoStatus::TranscodeFailed,
            VideoStatus::UploadFailed,
        ],
    )
    .await;
    assert_eq!(done.status, VideoStatus::Playable, "{:?}", done.error);
    assert_eq!(
        done.hash.as_deref(),
        Some(common::tus::md5_hex(&std::fs::read(&file).unwrap()).as_str())
    );

    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": format!("https://localhost:{port}/missing.mp4") }),
        )
        .await;
    let vid = video_id_json(&out["data"]["transcodeUri"]["id"]);
    let failed = settle(&app, creds.app_id, vid).await;
    assert_eq!(failed.status, VideoStatus::UploadFailed);
    assert!(
        failed.error.as_deref().unwrap().contains("404"),
        "{:?}",
        failed.error
    );

    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": format!("https://127.0.0.1:{port}/remote.mp4") }),
        )
        .await;
    assert_eq!(
        error_code(&out),
        Some("BAD_REQUEST"),
        "hosts outside the allow-list: {out}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fetch_ends_at_its_deadline_and_its_size_cap_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port, ca) = https_server(dir.path());
    let app = fetching_from_localhost(ca, |c| {
        c.media.fetch_timeout_secs = 2;
        c.upload.max_size = 1 << 20;
    })
    .start()
    .await;
    let creds = app.create_app("alpha").await;
    let mutation = "mutation($src: String!) { transcodeUri(src: $src) { id } }";
    for (path, reason) in [
        ("trickle", "did not arrive within 2 s"),
        ("endless", "larger than the 1048576 bytes"),
    ] {
        let src = format!("https://localhost:{port}/{path}");
        let out = app.graphql(&creds, mutation, json!({ "src": src })).await;
        let vid = video_id_json(&out["data"]["transcodeUri"]["id"]);
        let failed = settle(&app, creds.app_id, vid).await;
        assert_eq!(failed.status, VideoStatus::UploadFailed, "{path}");
        let error = failed.error.unwrap_or_default();
        assert!(error.contains(reason), "{path}: {error}");
        assert_eq!(
            app.jobs_of(vid).await,
            vec![("import".into(), "failed".into())],
            "{path}: not retried"
        );
        let source = reel::model::layout::source_key(vid);
        assert!(
            !app.reel.storage.op().exists(&source).await.unwrap(),
            "{path}: no partial source left"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
