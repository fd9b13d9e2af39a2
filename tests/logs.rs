//! `REEL_LOG_FORMAT=json`: one JSON object per line, request lines inside their span.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::node::{Cluster, REEL};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

type Lines = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>;

async fn next(lines: &mut Lines) -> String {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a log line within 30 s")
        .unwrap()
        .expect("the server is running")
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_have_a_stable_shape_and_request_spans() {
    let cluster = Cluster::new().await;
    let mut child = tokio::process::Command::new(REEL)
        .arg("serve")
        .envs(cluster.env())
        .env("REEL_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut json_lines = Vec::new();
    let base = loop {
        let line = next(&mut lines).await;
        if let Some(rest) = line.strip_prefix("reel listening on ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        json_lines.push(line);
    };
    // Everything before the human line is JSON with the same fields.
    assert!(!json_lines.is_empty());
    for line in &json_lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        assert!(v["level"].is_string() && v["target"].is_string(), "{line}");
        assert!(v["fields"]["message"].is_string(), "{line}");
    }

    let resp = reqwest::get(format!(
        "{base}/video/status?vid=1&signature=secret-looking"
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 401);
    let request = loop {
        let line = next(&mut lines).await;
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if v["fields"]["message"] == "request" && v["span"]["path"] == "/video/status" {
            break v;
        }
    };
    assert_eq!(request["level"], "INFO");
    assert_eq!(request["target"], "reel::http");
    assert_eq!(request["fields"]["status"], 401);
    assert!(request["fields"]["ms"].as_f64().is_some());
    assert_eq!(request["span"]["method"], "GET");
    assert_eq!(request["span"]["id"].as_str().map(str::len), Some(12));
    assert!(
        !request.to_string().contains("secret-looking"),
        "queries are not logged"
    );
    child.kill().await.unwrap();
}
