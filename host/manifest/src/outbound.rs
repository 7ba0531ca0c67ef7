//! `allowed_outbound_hosts`: where a component may send HTTP requests,
//! in Spin's syntax. Each entry is `scheme://host[:port]`:
//!
//! - the scheme is `http`, `https` or `*`;
//! - the host is a name, an IP address, `*` (any host) or `*.domain`
//!   (any subdomain of `domain`, not `domain` itself);
//! - the port is a number, `*`, or a range `low..high` (high excluded);
//!   without one, the scheme's default port (80, 443) is meant, so `*://`
//!   needs an explicit port.
//!
//! A component without the key may send nothing. Paths and Spin's
//! `self` (its own app) are not supported and are refused by name.

use std::ops::Range;

/// The parsed allow-list of one component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// `None`: any scheme.
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    /// `*.suffix`: `suffix` with the leading dot kept (`.example.com`).
    Subdomain(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    One(u16),
    Range(Range<u16>),
}

impl AllowedHosts {
    /// Parses every entry; the error names the first bad one and why.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let entries = entries
            .iter()
            .map(|e| parse_entry(e).map_err(|why| format!("allowed_outbound_hosts: `{e}`: {why}")))
            .collect::<Result<_, _>>()?;
        Ok(AllowedHosts { entries })
    }

    /// Whether nothing is allowed (the key is absent or empty).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a request to `scheme://host:port` is allowed. `port` is the
    /// effective port (the scheme's default when the URL has none).
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = host.to_ascii_lowercase();
        self.entries.iter().any(|e| {
            e.scheme.as_deref().is_none_or(|s| s == scheme)
                && e.host.matches(&host)
                && e.port.matches(port)
        })
    }
}

impl HostPattern {
    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Any => true,
            HostPattern::Subdomain(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
            HostPattern::Exact(name) => host == name,
        }
    }
}

impl PortPattern {
    fn matches(&self, port: u16) -> bool {
        match self {
            PortPattern::Any => true,
            PortPattern::One(p) => *p == port,
            PortPattern::Range(r) => r.contains(&port),
        }
    }
}

/// The port a URL of `scheme` means when it names none.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn parse_entry(entry: &str) -> Result<Entry, String> {
    let (scheme, rest) = entry
        .split_once("://")
        .ok_or("expected `scheme://host[:port]`")?;
    let scheme = match scheme {
        "*" => None,
        "http" | "https" => Some(scheme.to_owned()),
        other => return Err(format!("scheme `{other}` is not http, https or *")),
    };
    if rest.contains('/') {
        return Err("paths are not supported: give scheme://host[:port] only".into());
    }
    let (host, port) = split_port(rest)?;
    if host == "self" || host == "self.alt" {
        return Err("`self` (the app itself) is not supported; use invoke".into());
    }
    let host = parse_host(&host.to_ascii_lowercase())?;
    let port = match port {
        Some(p) => parse_port(p)?,
        None => match scheme.as_deref().and_then(default_port) {
            Some(p) => PortPattern::One(p),
            None => return Err("`*://` needs an explicit port (`:*` for any)".into()),
        },
    };
    Ok(Entry { scheme, host, port })
}

/// Splits `host[:port]`, where an IPv6 host is bracketed (`[::1]:8080`).
fn split_port(rest: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(inner) = rest.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or("unclosed `[` in the host")?;
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("unexpected `{after}` after the host")),
            },
        };
    }
    Ok(match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    })
}

fn parse_host(host: &str) -> Result<HostPattern, String> {
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    let (pattern, name) = match host.strip_prefix("*.") {
        Some(domain) => (HostPattern::Subdomain(format!(".{domain}")), domain),
        None => (HostPattern::Exact(host.to_owned()), host),
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':');
    if name.is_empty() || !name.chars().all(ok) {
        return Err(format!(
            "`{host}` is not a host name, an address, `*` or `*.domain`"
        ));
    }
    Ok(pattern)
}

fn parse_port(port: &str) -> Result<PortPattern, String> {
    let number = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("port `{p}` is not a number from 0 to 65535"))
    };
    if port == "*" {
        return Ok(PortPattern::Any);
    }
    if let Some((low, high)) = port.split_once("..") {
        let (low, high) = (number(low)?, number(high)?);
        if low >= high {
            return Err(format!("port range `{port}` is empty"));
        }
        return Ok(PortPattern::Range(low..high));
    }
    number(port).map(PortPattern::One)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn an_absent_list_allows_nothing() {
        let none = AllowedHosts::default();
        assert!(none.is_empty());
        assert!(!none.allows("https", "example.com", 443));
    }

    #[test]
    fn a_scheme_without_a_port_means_its_default_port() {
        let h = hosts(&["https://api.example.com", "http://hooks.example.com"]);
        assert!(h.allows("https", "api.example.com", 443));
        assert!(!h.allows("https", "api.example.com", 8443));
        assert!(!h.allows("http", "api.example.com", 80));
        assert!(h.allows("http", "hooks.example.com", 80));
        assert!(!h.allows("https", "other.example.com", 443));
        assert!(
            h.allows("https", "API.Example.COM", 443),
            "host names are case-insensitive"
        );
    }

    #[test]
    fn wildcards_for_scheme_host_subdomain_and_port() {
        let h = hosts(&[
            "*://*.example.com:*",
            "http://*:8080",
            "https://10.0.0.1:8000..8010",
        ]);
        assert!(h.allows("http", "a.example.com", 1));
        assert!(h.allows("https", "a.b.example.com", 443));
        assert!(
            !h.allows("https", "example.com", 443),
            "`*.d` is subdomains only"
        );
        assert!(!h.allows("https", "badexample.com", 443));
        assert!(h.allows("http", "anything.test", 8080));
        assert!(!h.allows("https", "anything.test", 8080));
        assert!(h.allows("https", "10.0.0.1", 8000));
        assert!(h.allows("https", "10.0.0.1", 8009));
        assert!(
            !h.allows("https", "10.0.0.1", 8010),
            "the range's end is excluded"
        );
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        let h = hosts(&["http://[::1]:3000"]);
        assert!(h.allows("http", "[::1]", 3000));
        assert!(h.allows("http", "::1", 3000));
        assert!(!h.allows("http", "::1", 3001));
    }

    #[test]
    fn bad_entries_are_named_with_the_reason() {
        for (entry, why) in [
            ("example.com", "expected `scheme://host[:port]`"),
            ("ftp://example.com", "scheme `ftp`"),
            ("https://example.com/hooks", "paths are not supported"),
            ("*://example.com", "needs an explicit port"),
            ("http://self", "`self`"),
            ("https://example.com:http", "port `http` is not a number"),
            ("https://example.com:90..80", "is empty"),
            ("https://exa mple.com", "is not a host name"),
            ("https://", "the host is empty"),
        ] {
            let err = AllowedHosts::parse(&[entry.to_owned()]).unwrap_err();
            assert!(err.contains(&format!("`{entry}`")), "{err}");
            assert!(err.contains(why), "{entry}: {err}");
        }
    }
}
