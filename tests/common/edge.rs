//! Real infrastructure around a test server: an S3-compatible store (moto) and nginx as
//! a caching CDN edge, each started on loopback and stopped on drop.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_http(url: &str) {
    for _ in 0..200 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered");
}

/// moto's S3 server with one bucket.
pub struct S3 {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
}

impl S3 {
    pub async fn start(bucket: &str) -> Self {
        let tools =
            std::env::var("REEL_TOOLS_DIR").unwrap_or_else(|_| "/var/tmp/reel-tools".into());
        let port = free_port();
        let child = Command::new(format!("{tools}/venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto is installed (scripts/setup)");
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_http(&endpoint).await;
        let resp = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "bucket created");
        Self {
            child,
            endpoint,
            bucket: bucket.into(),
        }
    }

    /// opendal options of this store.
    pub fn options(&self) -> BTreeMap<String, String> {
        [
            ("bucket", self.bucket.clone()),
            ("endpoint", self.endpoint.clone()),
            ("region", "us-east-1".into()),
            ("access_key_id", "test".into()),
            ("secret_access_key", "test".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx with `proxy_cache` in front of an upstream's `/media/`.
pub struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl Nginx {
    /// Listens on `port`, caching what `upstream` (`host:port`) serves under `/media/`.
    pub async fn start(port: u16, upstream: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let conf = format!(
            "user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  proxy_cache_path {d}/cache keys_zone=edge:10m;
  server {{
    listen 127.0.0.1:{port};
    location /media/ {{
      proxy_pass http://{upstream};
      proxy_http_version 1.1;
      proxy_cache edge;
      proxy_cache_valid 200 206 10m;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
  }}
}}
"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx is installed (scripts/setup)");
        wait_http(&format!("http://127.0.0.1:{port}/")).await;
        Self {
            child,
            _dir: dir,
            port,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (SIGKILL would orphan them).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
