//! Requests to addresses that clients chose (`transcodeUri` sources, webhook endpoints),
//! without becoming an SSRF tool: every address a host resolves to must be public unless
//! the operator allows private networks, the connection is pinned to the addresses that
//! were checked (no second lookup to rebind), and redirects are not followed.

use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error("cannot resolve {0}")]
    Unresolvable(String),
    #[error("host {host} resolves to {addr}, a private, loopback or link-local address")]
    Private { host: String, addr: IpAddr },
}

/// Addresses a request may never reach: loopback, private, link-local (cloud metadata),
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

/// Resolves `host` and checks every answer: one private answer refuses the host (a
/// rebinding answer is refused rather than skipped).
pub async fn resolve(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|_| ResolveError::Unresolvable(host.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(ResolveError::Unresolvable(host.to_string()));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
        return Err(ResolveError::Private {
            host: host.to_string(),
            addr: bad.ip(),
        });
    }
    Ok(addrs)
}

/// A client for `host` that connects only to `addrs` (as checked by `resolve`) and
/// follows no redirect; callers add their timeouts.
pub fn pinned_client(host: &str, addrs: &[SocketAddr]) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve_to_addrs(host, addrs)
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
    async fn a_private_answer_refuses_the_host_unless_allowed() {
        assert!(matches!(
            resolve("localhost", 443, false).await,
            Err(ResolveError::Private { .. })
        ));
        let addrs = resolve("127.0.0.1", 8443, true).await.unwrap();
        assert_eq!(addrs[0].port(), 8443);
    }
}
