//! Requests to addresses that clients chose (`transcodeUri` sources, webhook endpoints),
//! without becoming an SSRF tool: every address a host resolves to must be public unless
//! the operator allows private networks, the connection is pinned to the addresses that
//! were checked (no second lookup to rebind), and redirects are not followed.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error("cannot resolve {0}")]
    Unresolvable(String),
    #[error("host {host} resolves to {addr}, a private, loopback or link-local address")]
    Private { host: String, addr: IpAddr },
}

/// Addresses a request may never reach: loopback, private, link-local (cloud metadata),
/// unspecified, multicast, shared and documentation ranges, IPv6 unique-local, and IPv6
/// forms that lead to an IPv4 address (mapped, translated, NAT64, 6to4) when that address
/// is one of these. Teredo and IPv4-compatible addresses are refused outright: tunnels
/// and a deprecated form no public endpoint needs.
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
            let s = v6.segments();
            let low_v4 = || Ipv4Addr::from(v6.to_bits() as u32);
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            // IPv4-translated (::ffff:0:a.b.c.d) and NAT64's well-known prefix (64:ff9b::/96).
            if s[..6] == [0, 0, 0, 0, 0xffff, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_private(IpAddr::V4(low_v4()));
            }
            // 6to4 (2002::/16) carries its IPv4 address in bits 16..48.
            if s[0] == 0x2002 {
                let v4 =
                    Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
                return is_private(IpAddr::V4(v4));
            }
            let ipv4_compatible = s[..6] == [0; 6];
            let teredo = s[0] == 0x2001 && s[1] == 0;
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || ipv4_compatible
                || teredo
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 (RFC 8215)
                || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation
                || (s[0] == 0x100 && s[1..4] == [0; 3]) // discard-only
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated)
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
            "::ffff:0:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::127.0.0.1",
            "::8.8.8.8",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
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
