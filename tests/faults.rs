//! Uploads across process crashes and across nodes: separate `reel serve` processes
//! sharing one Postgres database, Redis prefix and data directory.

mod common;

use std::time::Duration;

use common::node::Cluster;
use common::tus::{bytes, md5_hex, metadata};
use common::{Credentials, graphql_at, rest_at, token_at};
use serde_json::json;
use tokio::io::AsyncWriteExt;

const MIB: usize = 1 << 20;

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn create(&self, base: &str, len: usize) -> String {
        let resp = self
            .http
            .post(format!("{base}/files/"))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", len.to_string())
            .header(
                "Upload-Metadata",
                metadata(&[("filename", "crash.mp4"), ("autoTranscode", "false")]),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let location = resp.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with(base),
            "{location} names the node's address"
        );
        // The path: any node can serve it.
        location[location.find("/files/").unwrap()..].to_string()
    }

    async fn offset(&self, base: &str, path: &str) -> usize {
        let resp = self
            .http
            .head(format!("{base}{path}"))
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// PATCHes `chunk` at `offset`, retrying while a crashed node's lock is still held.
    async fn patch(
        &self,
        base: &str,
        path: &str,
        offset: usize,
        chunk: &[u8],
    ) -> reqwest::Response {
        for _ in 0..40 {
            let resp = self
                .http
                .patch(format!("{base}{path}"))
                .bearer_auth(&self.token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(chunk.to_vec())
                .send()
                .await;
            // A locked upload is refused at once (423), sometimes before the body was
            // sent, which the client then sees as a broken pipe: both mean "retry".
            match resp {
                Ok(resp) if resp.status() != 423 => return resp,
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("upload stayed locked");
    }
}

async fn stored_hash(base: &str, creds: &Credentials, vid: &str) -> String {
    let out = graphql_at(
        &reqwest::Client::new(),
        base,
        creds,
        "query($id: ID!) { video(id: $id) { hash status } }",
        json!({ "id": vid }),
    )
    .await;
    assert_eq!(out["data"]["video"]["status"], "UPLOADED", "{out}");
    out["data"]["video"]["hash"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn server_killed_mid_upload_then_restarted_resumes() {
    let cluster = Cluster::new().await;
    let creds = cluster.create_app("alpha");
    let first = cluster.start_node().await;
    let client = Client {
        http: reqwest::Client::new(),
        token: token_at(&first.base, &creds).await,
    };
    let data = bytes(16 * MIB, 31);
    let path = client.create(&first.base, data.len()).await;

    // A PATCH promising everything, cut by SIGKILL after 6 MiB.
    let host = first.base.strip_prefix("http://").unwrap().to_string();
    let mut sock = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        client.token,
        data.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&data[..6 * MIB]).await.unwrap();
    sock.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().await;
    drop(sock);

    let second = cluster.start_node().await;
    let offset = client.offset(&second.base, &path).await;
    assert!(offset <= 6 * MIB, "offset {offset}");
    let resp = client
        .patch(&second.base, &path, offset, &data[offset..])
        .await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let vid = resp.headers()["reel-video-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        stored_hash(&second.base, &creds, &vid).await,
        md5_hex(&data)
    );
    let stored = std::fs::read(
        cluster
            .data
            .path()
            .join(format!("storage/sources/{vid}/source")),
    )
    .unwrap();
    assert_eq!(md5_hex(&stored), md5_hex(&data));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_share_uploads() {
    let cluster = Cluster::new().await;
    let creds = cluster.create_app("alpha");
    let (a, b) = tokio::join!(cluster.start_node(), cluster.start_node());
    assert_ne!(a.base, b.base);
    let client = Client {
        http: reqwest::Client::new(),
        token: token_at(&a.base, &creds).await,
    };

    // tus: half through A, the rest through B.
    let data = bytes(5 * MIB + 7, 32);
    let path = client.create(&a.base, data.len()).await;
    let half = data.len() / 2;
    assert_eq!(
        client
            .patch(&a.base, &path, 0, &data[..half])
            .await
            .status(),
        204
    );
    assert_eq!(client.offset(&b.base, &path).await, half);
    let resp = client.patch(&b.base, &path, half, &data[half..]).await;
    assert_eq!(resp.status(), 204);
    let vid = resp.headers()["reel-video-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(stored_hash(&a.base, &creds, &vid).await, md5_hex(&data));

    // Seed parts: odd parts through A, even parts through B, at the same time.
    let data = bytes(4 * MIB, 33);
    let http = reqwest::Client::new();
    let fsize = data.len().to_string();
    let fname = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "parts.mp4");
    let (status, out) = rest_at(
        &http,
        &a.base,
        &creds,
        "GET",
        "/video/upload/init",
        &[
            ("fn", &fname),
            ("fsize", &fsize),
            ("psize", "1048576"),
            ("auto", "0"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let upid = out["upload_id"].as_str().unwrap().to_string();
    let send = |n: usize| {
        let base = if n % 2 == 1 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        let (http, creds, upid) = (http.clone(), creds.clone(), upid.clone());
        let chunk = data[(n - 1) * MIB..n * MIB].to_vec();
        async move {
            let n = n.to_string();
            rest_at(
                &http,
                &base,
                &creds,
                "PUT",
                "/video/upload/upload",
                &[("upid", &upid), ("pseq", &n)],
                Some(chunk),
            )
            .await
        }
    };
    let results = futures_util::future::join_all((1..=4).map(send)).await;
    assert!(results.iter().all(|(s, _)| *s == 200), "{results:?}");
    let (_, resume) = rest_at(
        &http,
        &b.base,
        &creds,
        "GET",
        "/video/upload/resume",
        &[("upid", &upid)],
        None,
    )
    .await;
    assert_eq!(resume["state"], "COMPLETE", "{resume}");
    let vid = resume["vid"].as_i64().unwrap().to_string();
    assert_eq!(stored_hash(&b.base, &creds, &vid).await, md5_hex(&data));
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_postgres_connections_are_replaced_without_a_client_error() {
    let app = common::TestApp::start().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let query = "{ videos(first: 5) { nodes { id } } }";
    // Several requests at once so the pool holds several connections.
    let burst = || async {
        let all = futures_util::future::join_all((0..6).map(|_| app.graphql_bearer(&token, query)));
        for (status, body) in all.await {
            assert_eq!(status, 200, "{body}");
            assert!(body.get("errors").is_none(), "{body}");
        }
    };
    burst().await;
    let (client, conn) = tokio_postgres::connect(&common::admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let killed: i64 = client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&app.db_name],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed > 0, "the server held connections");
    // Every pooled connection is dead now: none of them may reach a client.
    burst().await;
    burst().await;
}
