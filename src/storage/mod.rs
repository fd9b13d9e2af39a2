//! Object storage through opendal: `fs` under the data dir by default, `s3` or `oss` by config,
//! and the key layout every part of Reel agrees on.

pub mod layout;

use std::path::Path;

use opendal::{Operator, services};

use crate::config::{StorageConfig, StorageKind};

#[derive(Debug, thiserror::Error)]
#[error("cannot open {kind} storage: {reason}")]
pub struct StorageSetupError {
    kind: &'static str,
    reason: String,
}

/// Root directory of the fs service (`None` for object stores).
pub fn fs_root(cfg: &StorageConfig, data_dir: &Path) -> Option<std::path::PathBuf> {
    if cfg.kind != StorageKind::Fs {
        return None;
    }
    let root = cfg
        .options
        .get("root")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| data_dir.join("storage"));
    Some(std::path::absolute(&root).unwrap_or(root))
}

/// Builds the operator of the configured service.
pub fn build(cfg: &StorageConfig, data_dir: &Path) -> Result<Operator, StorageSetupError> {
    // The HTTP transport of the object stores (first call wins; later calls are no-ops).
    opendal::install_default();
    let mut options = cfg.options.clone();
    let (kind, result) = match cfg.kind {
        StorageKind::Fs => {
            let root = fs_root(cfg, data_dir).expect("fs storage has a root");
            if let Err(e) = std::fs::create_dir_all(&root) {
                return Err(StorageSetupError {
                    kind: "fs",
                    reason: format!("{}: {e}", root.display()),
                });
            }
            options.insert("root".into(), root.to_string_lossy().into_owned());
            ("fs", Operator::from_iter::<services::Fs>(options))
        }
        StorageKind::S3 => ("s3", Operator::from_iter::<services::S3>(options)),
        StorageKind::Oss => ("oss", Operator::from_iter::<services::Oss>(options)),
    };
    result.map_err(|e| StorageSetupError {
        kind,
        reason: e.to_string(),
    })
}

/// The media type of a stored object by its extension (any case), without charset;
/// `application/octet-stream` when unknown.
pub fn content_type(name: &str) -> &'static str {
    const TYPES: &[(&str, &str)] = &[
        ("m3u8", "application/vnd.apple.mpegurl"),
        ("m4s", "video/iso.segment"),
        ("ts", "video/mp2t"),
        ("mp4", "video/mp4"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("vtt", "text/vtt"),
    ];
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    TYPES
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map_or("application/octet-stream", |(_, t)| t)
}
