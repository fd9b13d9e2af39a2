//! `/metrics` after a known sequence of requests: names, labels and values.

mod common;

use common::TestApp;
use common::metrics::sample;
use common::tus::Tus;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_a_known_sequence_of_requests() {
    let app = TestApp::builder()
        .config(|c| c.metrics.token = "scrape-secret".into())
        .start()
        .await;
    let scrape = || async {
        app.http
            .get(app.url("/metrics"))
            .bearer_auth("scrape-secret")
            .send()
            .await
            .unwrap()
    };
    let refused = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let wrong = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let creds = app.create_app("counted").await;
    for _ in 0..3 {
        let out = app
            .graphql(&creds, "{ videos { edges { node { id } } } }", json!({}))
            .await;
        assert!(out["errors"].is_null(), "{out}");
    }
    let (status, _) = app
        .rest(&creds, "GET", "/video/status", &[("vid", "999999")], None)
        .await;
    assert_eq!(status, 404);
    let token = app.token(&creds, 600).await;
    let tus = Tus { app: &app, token };
    let stored = tus
        .create_url(5, &[("filename", "a.bin"), ("autoTranscode", "false")])
        .await;
    assert_eq!(tus.patch(&stored, 0, b"hello".to_vec()).await.status(), 204);
    let queued = tus.create_url(7, &[("filename", "b.mp4")]).await;
    assert_eq!(
        tus.patch(&queued, 0, b"1234567".to_vec()).await.status(),
        204
    );
    let _unfinished = tus.create_url(9, &[("filename", "c.bin")]).await;

    let resp = scrape().await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    let get = |name: &str, labels: &[(&str, &str)]| {
        sample(&text, name, labels).unwrap_or_else(|| panic!("{name} {labels:?} in\n{text}"))
    };
    let graphql = [("route", "/graphql"), ("method", "POST"), ("status", "200")];
    // The 3 queries, and the createToken behind `app.token`.
    assert_eq!(get("reel_http_requests_total", &graphql), 4.0);
    let missing = [
        ("route", "/video/status"),
        ("method", "GET"),
        ("status", "404"),
    ];
    assert_eq!(get("reel_http_requests_total", &missing), 1.0);
    let unauthorized = [("route", "/metrics"), ("status", "401")];
    assert_eq!(get("reel_http_requests_total", &unauthorized), 2.0);
    let tus_created = [("route", "/files"), ("method", "POST"), ("status", "201")];
    assert_eq!(get("reel_http_requests_total", &tus_created), 3.0);
    assert_eq!(
        get(
            "reel_http_request_duration_seconds_count",
            &[("route", "/graphql")]
        ),
        4.0
    );
    assert_eq!(
        get(
            "reel_http_request_duration_seconds_bucket",
            &[("route", "/graphql"), ("le", "+Inf")]
        ),
        4.0
    );
    assert_eq!(get("reel_upload_bytes_total", &[]), 12.0);
    assert_eq!(get("reel_uploads_started_total", &[]), 3.0);
    assert_eq!(get("reel_uploads_completed_total", &[]), 2.0);
    assert_eq!(get("reel_uploads_active", &[]), 1.0);
    assert_eq!(
        get("reel_jobs", &[("kind", "transcode"), ("state", "queued")]),
        1.0
    );
    assert_eq!(
        get("reel_jobs", &[("kind", "transcode"), ("state", "running")]),
        0.0
    );
    for line in text.lines().filter(|l| !l.is_empty()) {
        let name = line
            .trim_start_matches("# HELP ")
            .trim_start_matches("# TYPE ");
        assert!(name.starts_with("reel_"), "every name is reel_*: {line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standalone_worker_serves_its_own_metrics() {
    use tokio::io::AsyncBufReadExt;
    let cluster = common::node::Cluster::new().await;
    let mut child = tokio::process::Command::new(common::node::REEL)
        .args(["worker", "--metrics-listen", "127.0.0.1:0"])
        .envs(cluster.env())
        .env("REEL_METRICS__TOKEN", "worker-secret")
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the worker starts")
            .unwrap()
            .expect("it prints its metrics address");
        if let Some(url) = line.strip_prefix("reel worker metrics on ") {
            break url.to_string();
        }
    };
    assert_eq!(
        reqwest::get(&url).await.unwrap().status(),
        401,
        "no token, no metrics"
    );
    let body = reqwest::Client::new()
        .get(&url)
        .bearer_auth("worker-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    let text = body.text().await.unwrap();
    assert!(text.contains("reel_uploads_active 0"), "{text}");
    let health = reqwest::get(url.replace("/metrics", "/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    child.kill().await.unwrap();
}
