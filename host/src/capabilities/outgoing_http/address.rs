//! Which resolved addresses a request may reach. Private, loopback,
//! link-local and other non-public ranges are refused unless the operator
//! allows them, so an allowed *name* cannot be pointed (by its DNS or by
//! whoever controls it) at the pod's own network: the sidecar, the
//! cluster's services, the cloud's metadata endpoint.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether `ip` is outside the public internet.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => private_v4(v4),
            None => private_v6(v6),
        },
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // 0.0.0.0/8 ("this network"), 100.64.0.0/10 (carrier-grade NAT),
        // 192.0.0.0/24 (protocol assignments), 198.18.0.0/15 (benchmarks),
        // 240.0.0.0/4 (reserved).
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // ::ffff:0:0/96 is handled by the caller; 64:ff9b::/96 (NAT64) may
        // embed any IPv4 address, private ones included.
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)
}

/// The first address a request may connect to, or why there is none.
pub fn pick(addrs: &[SocketAddr], allow_private: bool) -> Result<SocketAddr, Refusal> {
    if addrs.is_empty() {
        return Err(Refusal::NotFound);
    }
    addrs
        .iter()
        .copied()
        .find(|a| allow_private || !is_private(a.ip()))
        .ok_or(Refusal::Private)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The name resolved to nothing.
    NotFound,
    /// Every address is private and the operator has not allowed that.
    Private,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_private_link_local_and_metadata_are_private() {
        for addr in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_private(ip(addr)), "{addr}");
        }
    }

    #[test]
    fn public_addresses_are_not() {
        for addr in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private(ip(addr)), "{addr}");
        }
    }

    #[test]
    fn pick_skips_private_addresses_unless_allowed() {
        let local: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let public: SocketAddr = "1.1.1.1:80".parse().unwrap();
        assert_eq!(pick(&[local, public], false), Ok(public));
        assert_eq!(pick(&[local], false), Err(Refusal::Private));
        assert_eq!(pick(&[local], true), Ok(local));
        assert_eq!(pick(&[], true), Err(Refusal::NotFound));
    }
}
