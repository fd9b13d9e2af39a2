//! Fetching a source over `https://` for `transcodeUri`, without becoming an SSRF tool:
//! hosts come from an allow-list, every address they resolve to must be public (unless
//! the operator allows private networks), the connection is pinned to the checked
//! address, and redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::StreamExt;
use opendal::Operator;
use url::Url;

use crate::config::MediaConfig;
use crate::upload::digest::RunningMd5;

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

/// Addresses a fetch may never reach: loopback, private, link-local (cloud metadata),
/// unspecified, multicast, shared and documentation ranges, IPv6 unique-local.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
        }
    }
}

/// Checks `raw` against the policy; returns the URL and the address to connect to.
pub async fn check(raw: &str, config: &MediaConfig) -> Result<(Url, SocketAddr), FetchError> {
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
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|_| FetchError::Unresolvable(host.clone()))?
        .collect();
    let first = *addrs
        .first()
        .ok_or_else(|| FetchError::Unresolvable(host.clone()))?;
    // Every answer must pass: a rebinding answer is refused rather than skipped.
    if !config.fetch_allow_private
        && let Some(bad) = addrs.iter().find(|a| is_private(a.ip()))
    {
        return Err(FetchError::PrivateAddress {
            host,
            addr: bad.ip(),
        });
    }
    Ok((url, first))
}

/// Streams `raw` into `key`, at most `max` bytes; returns (bytes, md5 hex).
pub async fn fetch_into(
    raw: &str,
    config: &MediaConfig,
    storage: &Operator,
    key: &str,
    max: u64,
) -> Result<(u64, String), FetchError> {
    let (url, addr) = check(raw, config).await?;
    let host = url.host_str().unwrap_or_default().to_string();
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .resolve(&host, addr);
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
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| FetchError::Network(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(FetchError::Status(resp.status().as_u16()));
    }
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(FetchError::TooLarge(max));
    }
    let store = |e: opendal::Error| FetchError::Storage(e.to_string());
    let mut writer = storage
        .writer_with(key)
        .chunk(8 << 20)
        .await
        .map_err(store)?;
    let mut md5 = RunningMd5::default();
    let mut total = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| FetchError::Network(e.to_string()))?;
        total += chunk.len() as u64;
        if total > max {
            let _ = writer.abort().await;
            return Err(FetchError::TooLarge(max));
        }
        md5.update(&chunk);
        writer.write(chunk).await.map_err(store)?;
    }
    writer.close().await.map_err(store)?;
    Ok((total, md5.hex()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

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
        let (_, addr) = check("https://127.0.0.1:8443/a.mp4", &config)
            .await
            .unwrap();
        assert_eq!(addr.port(), 8443);
    }
}
