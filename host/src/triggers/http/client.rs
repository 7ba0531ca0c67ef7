//! Who is calling: the client address handed to components in the
//! `spin-client-addr` header (Spin's name for it), taken from the socket or,
//! behind a proxy the operator names, from that proxy's header — never from
//! a header the client chose.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;
use http::{HeaderName, HeaderValue};

/// The header components read the client address from.
pub const CLIENT_ADDR_HEADER: &str = "spin-client-addr";

/// Where the client address comes from.
#[derive(Debug, Clone, Default)]
pub enum ClientAddress {
    /// The TCP peer (clients connect to the host directly).
    #[default]
    Socket,
    /// The last entry of this header, set by a trusted reverse proxy in
    /// front of every client (`X-Forwarded-For` style: a proxy appends the
    /// address it saw, so earlier entries are the client's own claims).
    Header(HeaderName),
}

impl ClientAddress {
    /// `--client-address-header`: none means the socket.
    pub fn from_header_name(name: Option<&str>) -> Result<Self, http::header::InvalidHeaderName> {
        Ok(match name {
            None | Some("") => ClientAddress::Socket,
            Some(name) => ClientAddress::Header(HeaderName::try_from(name)?),
        })
    }

    /// Replaces whatever `spin-client-addr` the request carried by the
    /// address this source vouches for (removed when it vouches for none:
    /// a proxy header missing or unparsable).
    pub fn stamp(&self, parts: &mut Parts) {
        let addr = match self {
            ClientAddress::Socket => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.to_string()),
            ClientAddress::Header(name) => last_forwarded(parts, name).map(|ip| ip.to_string()),
        };
        parts.headers.remove(CLIENT_ADDR_HEADER);
        if let Some(value) = addr.and_then(|a| HeaderValue::from_str(&a).ok()) {
            parts.headers.insert(CLIENT_ADDR_HEADER, value);
        }
    }
}

/// The address the trusted proxy appended: the last entry of the last
/// occurrence of `name`.
fn last_forwarded(parts: &Parts, name: &HeaderName) -> Option<IpAddr> {
    let value = parts.headers.get_all(name).iter().next_back()?;
    let last = value.to_str().ok()?.rsplit(',').next()?.trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)], peer: Option<&str>) -> Parts {
        let mut req = http::Request::builder().uri("/x");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    fn stamped(source: &ClientAddress, p: &mut Parts) -> Option<String> {
        source.stamp(p);
        p.headers
            .get(CLIENT_ADDR_HEADER)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn the_socket_wins_over_a_claimed_address() {
        let mut p = parts(
            &[
                (CLIENT_ADDR_HEADER, "10.9.9.9"),
                ("x-forwarded-for", "10.8.8.8"),
            ],
            Some("127.0.0.2:5000"),
        );
        assert_eq!(
            stamped(&ClientAddress::Socket, &mut p).as_deref(),
            Some("127.0.0.2:5000")
        );
    }

    #[test]
    fn behind_a_proxy_its_appended_entry_counts_not_the_clients() {
        let source = ClientAddress::from_header_name(Some("X-Forwarded-For")).unwrap();
        let mut p = parts(
            &[
                (CLIENT_ADDR_HEADER, "10.9.9.9"),
                ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
            ],
            Some("10.0.0.1:1"),
        );
        assert_eq!(stamped(&source, &mut p).as_deref(), Some("203.0.113.7"));
        // No proxy header (or garbage in it): no address, not the claim.
        let mut p = parts(&[(CLIENT_ADDR_HEADER, "10.9.9.9")], Some("10.0.0.1:1"));
        assert_eq!(stamped(&source, &mut p), None);
        let mut p = parts(&[("x-forwarded-for", "1.2.3.4, nonsense")], None);
        assert_eq!(stamped(&source, &mut p), None);
        let mut p = parts(&[("x-forwarded-for", "[2001:db8::1]:443")], None);
        assert_eq!(stamped(&source, &mut p).as_deref(), Some("2001:db8::1"));
    }
}
