//! Fetching a source over `https://` for `transcodeUri`: hosts come from an allow-list,
//! and the request follows `outbound`'s rules (public addresses only, pinned, no
//! redirects).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::StreamExt;
use url::Url;

use crate::config::MediaConfig;
use crate::outbound::{self, ResolveError};
use crate::storage::Storage;
use crate::storage::io::RunningMd5;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("only https:// sources can be fetched")]
    NotHttps,
    #[error("{0:?} is not a valid URL")]
    BadUrl(String),
    #[error("host {0} is not in media.fetch_allow_hosts")]
    HostNotAllowed(String),
    #[error("host {host} resolves to {addr}, a private, loopback or link-local address")]
    PrivateAddress { host: String, addr: IpAddr },
    #[error("cannot resolve {0}")]
    Unresolvable(String),
    #[error("the source answered {0}")]
    Status(u16),
    #[error("the source is larger than the {0} bytes allowed")]
    TooLarge(u64),
    #[error("the source did not arrive within {0} s (media.fetch_timeout_secs)")]
    TimedOut(u64),
    #[error("fetching failed: {0}")]
    Network(String),
    #[error("storing the fetched file failed: {0}")]
    Storage(String),
}

impl FetchError {
    /// Worth retrying (the network or the store had a bad moment).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Network(_) | Self::Storage(_) | Self::Unresolvable(_)
        ) || matches!(self, Self::Status(s) if *s >= 500 || *s == 429)
    }
}

impl From<ResolveError> for FetchError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Unresolvable(host) => Self::Unresolvable(host),
            ResolveError::Private { host, addr } => Self::PrivateAddress { host, addr },
        }
    }
}

/// Checks `raw` against the policy; returns the URL and the addresses to connect to.
pub async fn check(raw: &str, config: &MediaConfig) -> Result<(Url, Vec<SocketAddr>), FetchError> {
    let url = Url::parse(raw).map_err(|_| FetchError::BadUrl(raw.to_string()))?;
    if url.scheme() != "https" {
        return Err(FetchError::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::BadUrl(raw.to_string()));
    }
    let host = url
        .host_str()
        .ok_or_else(|| FetchError::BadUrl(raw.to_string()))?
        .to_ascii_lowercase();
    if !config
        .fetch_allow_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&host))
    {
        return Err(FetchError::HostNotAllowed(host));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = outbound::resolve(&host, port, config.fetch_allow_private).await?;
    Ok((url, addrs))
}

/// Streams `raw` into `key`, at most `max` bytes; returns (bytes, md5 hex).
pub async fn fetch_into(
    raw: &str,
    config: &MediaConfig,
    storage: &Storage,
    key: &str,
    max: u64,
) -> Result<(u64, String), FetchError> {
    let (url, addrs) = check(raw, config).await?;
    let host = url.host_str().unwrap_or_default().to_string();
    let mut client = outbound::pinned_client(&host, &addrs)
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60));
    if let Some(ca) = &config.fetch_ca_file {
        let pem =
            std::fs::read(ca).map_err(|e| FetchError::Network(format!("{}: {e}", ca.display())))?;
        let cert =
            reqwest::Certificate::from_pem(&pem).map_err(|e| FetchError::Network(e.to_string()))?;
        client = client.add_root_certificate(cert);
    }
    let client = client
        .build()
        .map_err(|e| FetchError::Network(e.to_string()))?;
    // One deadline for the whole fetch: a source that trickles a byte a minute passes
    // every read timeout but not this.
    let limit = config.fetch_timeout_secs.max(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(limit);
    let resp = tokio::time::timeout_at(deadline, client.get(url).send())
        .await
        .map_err(|_| FetchError::TimedOut(limit))?
        .map_err(|e| FetchError::Network(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(FetchError::Status(resp.status().as_u16()));
    }
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(FetchError::TooLarge(max));
    }
    let store = |e: opendal::Error| FetchError::Storage(e.to_string());
    let mut writer = storage
        .op()
        .writer_with(key)
        .chunk(8 << 20)
        .await
        .map_err(store)?;
    let mut md5 = RunningMd5::default();
    let copy = async {
        let mut total = 0u64;
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| FetchError::Network(e.to_string()))?;
            total += chunk.len() as u64;
            if total > max {
                return Err(FetchError::TooLarge(max));
            }
            md5.update(&chunk);
            writer.write(chunk).await.map_err(store)?;
        }
        Ok(total)
    };
    let copied = tokio::time::timeout_at(deadline, copy)
        .await
        .unwrap_or(Err(FetchError::TimedOut(limit)));
    match copied {
        Ok(total) => {
            writer.close().await.map_err(store)?;
            Ok((total, md5.hex()))
        }
        Err(e) => {
            // Nothing of a failed fetch stays in storage (fs without an atomic write dir
            // cannot abort, so the key is deleted too; it is the new video's own).
            let _ = writer.abort().await;
            let _ = storage.op().delete(key).await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn policy() {
        let mut config = MediaConfig::default();
        assert_eq!(
            check("http://example.com/a.mp4", &config)
                .await
                .unwrap_err(),
            FetchError::NotHttps
        );
        assert_eq!(
            check("https://example.com/a.mp4", &config)
                .await
                .unwrap_err(),
            FetchError::HostNotAllowed("example.com".into())
        );
        config.fetch_allow_hosts = vec!["localhost".into(), "127.0.0.1".into()];
        assert!(matches!(
            check("https://localhost/a.mp4", &config).await.unwrap_err(),
            FetchError::PrivateAddress { .. }
        ));
        assert!(matches!(
            check("https://127.0.0.1:8443/a.mp4", &config)
                .await
                .unwrap_err(),
            FetchError::PrivateAddress { .. }
        ));
        assert!(matches!(
            check("https://user:pw@localhost/a", &config)
                .await
                .unwrap_err(),
            FetchError::BadUrl(_)
        ));
        config.fetch_allow_private = true;
        let (_, addrs) = check("https://127.0.0.1:8443/a.mp4", &config)
            .await
            .unwrap();
        assert_eq!(addrs[0].port(), 8443);
    }
}
