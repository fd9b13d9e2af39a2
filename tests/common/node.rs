//! `reel serve` as a separate process, for fault tests (SIGKILL, several nodes).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

pub const REEL: &str = env!("CARGO_BIN_EXE_reel");

/// The environment several nodes share: one database, Redis prefix and data dir.
pub struct Cluster {
    pub db_name: String,
    pub prefix: String,
    pub data: tempfile::TempDir,
}

impl Cluster {
    pub async fn new() -> Self {
        let db_name = super::fresh_database().await;
        Self {
            prefix: format!("reeltest:{db_name}:"),
            db_name,
            data: tempfile::tempdir().unwrap(),
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", super::database_url(&self.db_name)),
            ("REDIS_URL", super::redis_url()),
            ("REEL_REDIS_PREFIX", self.prefix.clone()),
            (
                "REEL_DATA_DIR",
                self.data.path().to_string_lossy().into_owned(),
            ),
            ("REEL_LISTEN", "127.0.0.1:0".into()),
        ]
    }

    /// The `reel` command with this cluster's environment.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(REEL);
        cmd.envs(self.env()).env("RUST_LOG", "warn");
        cmd
    }

    /// `reel app create NAME --json` against this cluster.
    pub fn create_app(&self, name: &str) -> super::Credentials {
        let out = self
            .command()
            .args(["app", "create", name, "--json"])
            .output()
            .unwrap();
        super::assert_success(&out);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        super::Credentials {
            app_id: reel::model::AppId(0),
            key: v["app_key"].as_str().unwrap().into(),
            secret: v["app_secret"].as_str().unwrap().into(),
        }
    }

    pub async fn start_node(&self) -> Node {
        Node::start(self.env()).await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        super::cleanup(
            self.db_name.clone(),
            super::redis_url(),
            self.prefix.clone(),
        );
    }
}

pub struct Node {
    pub child: Child,
    pub base: String,
}

impl Node {
    pub async fn start(env: Vec<(&'static str, String)>) -> Self {
        let mut child = Command::new(REEL)
            .arg("serve")
            .envs(env)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let base = loop {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("node starts within 30 s")
                .unwrap()
                .expect("node prints its address");
            if let Some(rest) = line.strip_prefix("reel listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining stderr so the node never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, base }
    }

    /// SIGKILL: no cleanup, no graceful shutdown.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}
