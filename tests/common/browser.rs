//! The browser scripts under `tests/browser/` (Node, playwright-core, Debian's Chromium).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `node tests/browser/{script} args…` and returns its stdout and stderr, asserting
/// that it succeeded and printed `expect`.
pub async fn run(script: &str, args: &[&dyn AsRef<OsStr>], expect: &str) -> String {
    let out = tokio::process::Command::new("node")
        .arg(Path::new(&repo()).join("tests/browser").join(script))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .await
        .expect("node is installed (scripts/setup)");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && log.contains(expect), "{log}");
    log
}
