//! Storage URIs given by clients (`transcodeUri`): parsed strictly, never trusted as
//! paths. `fs://key`, `s3://bucket/key`, `oss://bucket/key` name keys of the configured
//! storage; keys may not be absolute, hold `..`, backslashes or control characters. An
//! app's keys live in its own area (`apps/{app}/`), so it cannot name another app's
//! files; only sources in the operator's import area are read where they are.

use crate::config::{StorageConfig, StorageKind};
use crate::model::{AppId, layout};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UriError {
    #[error("{0:?} is not a URI (expected scheme://…)")]
    NotAUri(String),
    #[error("scheme {0}:// is not accepted here (use the configured storage's scheme)")]
    Scheme(String),
    #[error("sources on the network must use https://")]
    HttpsDisabled,
    #[error("bucket {given:?} is not the configured bucket")]
    Bucket { given: String },
    #[error("key {0:?} is not allowed: no absolute paths, `..`, backslashes or control characters")]
    BadKey(String),
}

/// Where a `transcodeUri` source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A key of the configured storage.
    Stored(String),
    /// An `https://` URL (fetched under `video::fetch`'s policy).
    Remote(String),
}

/// How one app's storage URIs become storage keys.
pub struct Namespace<'a> {
    pub storage: &'a StorageConfig,
    /// `media.import_prefix` (empty: none).
    pub import_prefix: &'a str,
    pub app: AppId,
}

impl Namespace<'_> {
    /// A source: in the import area as named, anywhere else inside the app's area.
    pub fn source(&self, uri: &str) -> Result<Source, UriError> {
        if uri.starts_with("https://") {
            return Ok(Source::Remote(uri.to_string()));
        }
        let key = storage_key(uri, self.storage)?;
        if !self.import_prefix.is_empty() && key.starts_with(self.import_prefix) {
            return Ok(Source::Stored(key));
        }
        Ok(Source::Stored(format!(
            "{}{key}",
            layout::app_area(self.app)
        )))
    }

    /// A destination prefix for outputs (`dst`), inside the app's area, ending with `/`.
    pub fn destination(&self, uri: &str) -> Result<String, UriError> {
        let key = storage_key(uri.trim_end_matches('/'), self.storage)?;
        Ok(format!("{}{key}/", layout::app_area(self.app)))
    }
}

/// A key inside the configured storage.
pub fn storage_key(uri: &str, storage: &StorageConfig) -> Result<String, UriError> {
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| UriError::NotAUri(uri.to_string()))?;
    let key = match (scheme, storage.kind) {
        ("fs", StorageKind::Fs) => rest.to_string(),
        ("s3", StorageKind::S3) | ("oss", StorageKind::Oss) => {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            let configured = storage
                .options
                .get("bucket")
                .map(String::as_str)
                .unwrap_or("");
            if bucket != configured {
                return Err(UriError::Bucket {
                    given: bucket.to_string(),
                });
            }
            key.to_string()
        }
        ("https" | "http", _) => return Err(UriError::HttpsDisabled),
        (other, _) => return Err(UriError::Scheme(other.to_string())),
    };
    validate_key(&key)?;
    Ok(key)
}

fn validate_key(key: &str) -> Result<(), UriError> {
    let bad = || UriError::BadKey(key.to_string());
    if key.is_empty()
        || key.starts_with('/')
        || key.contains('\\')
        || key.chars().any(char::is_control)
    {
        return Err(bad());
    }
    if key
        .split('/')
        .any(|part| part == ".." || part == "." || part.is_empty())
    {
        return Err(bad());
    }
    // Reel's own areas are never named, even inside an app's area: a key that looks
    // like one is a mistake or a probe.
    if layout::is_reserved(key) {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> StorageConfig {
        StorageConfig::default()
    }

    fn s3() -> StorageConfig {
        StorageConfig {
            kind: StorageKind::S3,
            options: [("bucket".to_string(), "media".to_string())].into(),
        }
    }

    #[test]
    fn keys_of_the_configured_storage() {
        assert_eq!(
            storage_key("fs://imports/a.mp4", &fs()).unwrap(),
            "imports/a.mp4"
        );
        assert_eq!(
            storage_key("s3://media/in/a.mp4", &s3()).unwrap(),
            "in/a.mp4"
        );
        let storage = fs();
        let ns = Namespace {
            storage: &storage,
            import_prefix: "imports/",
            app: AppId(7),
        };
        assert_eq!(
            ns.destination("fs://exports/x/").unwrap(),
            "apps/7/exports/x/"
        );
        assert_eq!(
            ns.source("fs://exports/x/a.ts").unwrap(),
            Source::Stored("apps/7/exports/x/a.ts".into())
        );
        assert_eq!(
            ns.source("fs://imports/a.mp4").unwrap(),
            Source::Stored("imports/a.mp4".into())
        );
        assert_eq!(
            ns.destination("fs://imports/x").unwrap(),
            "apps/7/imports/x/",
            "the import area is never written"
        );
    }

    #[test]
    fn refusals() {
        for bad in [
            "fs://../etc/passwd",
            "fs:///etc/passwd",
            "fs://a/../../b",
            "fs://a//b",
            "fs://a\\b",
            "fs://a\u{0}b",
            "fs://",
            "fs://staging/x",
            "fs://staging/",
            "fs://sources",
            "fs://apps/1/x",
        ] {
            assert!(
                matches!(storage_key(bad, &fs()), Err(UriError::BadKey(_))),
                "{bad}"
            );
        }
        assert_eq!(
            storage_key("s3://media/a", &fs()),
            Err(UriError::Scheme("s3".into()))
        );
        assert!(matches!(
            storage_key("s3://other/a", &s3()),
            Err(UriError::Bucket { .. })
        ));
        assert_eq!(
            storage_key("https://169.254.169.254/x", &fs()),
            Err(UriError::HttpsDisabled)
        );
        assert_eq!(
            storage_key("ftp://x/y", &fs()),
            Err(UriError::Scheme("ftp".into()))
        );
        assert!(matches!(
            storage_key("/etc/passwd", &fs()),
            Err(UriError::NotAUri(_))
        ));
        let storage = fs();
        let ns = Namespace {
            storage: &storage,
            import_prefix: "imports/",
            app: AppId(7),
        };
        for dst in ["fs://videos/1", "fs://staging/", "fs://sources/"] {
            assert!(ns.destination(dst).is_err(), "{dst}");
        }
    }
}
