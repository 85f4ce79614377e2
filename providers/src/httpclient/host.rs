//! What a URL's host names: a host name or an IP address, in one canonical spelling.
//!
//! The same classification serves the allow-list entries, the pre-flight check of every URL and
//! the resolver that runs right before each connection, so "the host that is checked" and "the
//! host that is connected to" can never be two readings of one string.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::error::Denied;

/// A host, canonical: names lower-case without a trailing dot, IPv4-mapped IPv6 addresses as
/// their IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Host {
    /// A DNS name (letters, digits, `-`, `_`; dot-separated labels).
    Name(String),
    /// An IP address literal.
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(ip) => ip.fmt(f),
        }
    }
}

impl Host {
    /// Classify a host as written in a URL (`example.com`, `Example.COM.`, `127.0.0.1`,
    /// `[::1]`) or in the allow-list (where a bare `::1` is accepted too).
    ///
    /// Refused: anything but letters, digits, `-`, `_` and dots in a name, empty labels, and
    /// every IPv4 spelling other than the dotted quad with decimal, unpadded parts. Resolvers
    /// (`inet_aton`, WHATWG URL) read `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` as
    /// 127.0.0.1 while a string comparison reads them as names: refusing them leaves one spelling
    /// per address.
    pub(crate) fn parse(raw: &str) -> Result<Host, Denied> {
        let invalid = || Denied::InvalidHost {
            host: raw.to_string(),
        };
        if let Some(inner) = raw.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(invalid)?;
            let v6: Ipv6Addr = inner.parse().map_err(|_| invalid())?;
            return Ok(Host::Ip(IpAddr::V6(v6).to_canonical()));
        }
        if raw.contains(':') {
            let v6: Ipv6Addr = raw.parse().map_err(|_| invalid())?;
            return Ok(Host::Ip(IpAddr::V6(v6).to_canonical()));
        }
        let name = normalise_name(raw).ok_or_else(invalid)?;
        let last = name.rsplit('.').next().unwrap_or_default();
        if !ends_in_a_number(last) {
            return Ok(Host::Name(name));
        }
        // Rust's parser takes exactly four decimal parts without leading zeros.
        match name.parse::<Ipv4Addr>() {
            Ok(v4) => Ok(Host::Ip(IpAddr::V4(v4))),
            Err(_) => Err(Denied::NonCanonicalAddress {
                host: raw.to_string(),
            }),
        }
    }
}

/// A DNS name lower-case and without its trailing dot, or `None` when it is not one: empty
/// labels, labels over 63 bytes, names over 253, or bytes other than letters, digits, `-`, `_`.
/// Also the check of a wildcard's suffix (`*.example.com`), which may end in digits.
pub(crate) fn normalise_name(raw: &str) -> Option<String> {
    let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    (labels_ok && name.len() <= 253).then_some(name)
}

/// WHATWG's "ends in a number": a last label that an IPv4 parser would take as a number, which
/// makes the whole host an IPv4 address (or an error) rather than a name.
fn ends_in_a_number(label: &str) -> bool {
    if label.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
    {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Host {
        Host::Ip(text.parse().expect("test address"))
    }

    fn name(text: &str) -> Host {
        Host::Name(text.to_string())
    }

    #[test]
    fn names_are_lower_case_without_the_trailing_dot() {
        assert_eq!(Host::parse("Allowed.Example."), Ok(name("allowed.example")));
        assert_eq!(Host::parse("LOCALHOST."), Ok(name("localhost")));
        assert_eq!(Host::parse("localhost"), Ok(name("localhost")));
        assert_eq!(
            Host::parse("under_score.x-y.test"),
            Ok(name("under_score.x-y.test"))
        );
        assert_eq!(
            Host::parse("xn--bcher-kva.example"),
            Ok(name("xn--bcher-kva.example"))
        );
        // A digit-only label elsewhere than last is still a name.
        assert_eq!(Host::parse("1.example"), Ok(name("1.example")));
        assert_eq!(Host::parse("0x7f.example"), Ok(name("0x7f.example")));
    }

    #[test]
    fn ip_literals_are_canonical() {
        assert_eq!(Host::parse("127.0.0.1"), Ok(ip("127.0.0.1")));
        assert_eq!(Host::parse("127.0.0.1."), Ok(ip("127.0.0.1")));
        assert_eq!(Host::parse("[::1]"), Ok(ip("::1")));
        assert_eq!(Host::parse("::1"), Ok(ip("::1")));
        assert_eq!(Host::parse("[0:0:0:0:0:0:0:1]"), Ok(ip("::1")));
        assert_eq!(Host::parse("[::FFFF:127.0.0.1]"), Ok(ip("127.0.0.1")));
        assert_eq!(Host::parse("[::ffff:7f00:1]"), Ok(ip("127.0.0.1")));
        // IPv4-compatible and NAT64 forms are IPv6 addresses of their own.
        assert_eq!(Host::parse("[::127.0.0.1]"), Ok(ip("::7f00:1")));
        assert_eq!(
            Host::parse("[64:ff9b::127.0.0.1]"),
            Ok(ip("64:ff9b::7f00:1"))
        );
    }

    #[test]
    fn other_ipv4_spellings_are_refused() {
        for host in [
            "2130706433",
            "0177.0.0.1",
            "0x7f.1",
            "0x7F000001",
            "127.1",
            "127.0.1",
            "127.000.000.001",
            "1.2.3.4.5",
            "256.0.0.1",
            "example.123",
            "example.0x",
        ] {
            assert_eq!(
                Host::parse(host),
                Err(Denied::NonCanonicalAddress {
                    host: host.to_string()
                }),
                "{host}"
            );
        }
    }

    #[test]
    fn malformed_hosts_are_refused() {
        for host in [
            "",
            ".",
            "a..b",
            "localhost..",
            ".localhost",
            "evil%2f",
            "a b",
            "a\\b",
            "a@b",
            "[::1",
            "[127.0.0.1]",
            "[fe80::1%25eth0]",
            "::g",
        ] {
            assert_eq!(
                Host::parse(host),
                Err(Denied::InvalidHost {
                    host: host.to_string()
                }),
                "{host}"
            );
        }
        let long_label = "a".repeat(64);
        assert!(matches!(
            Host::parse(&long_label),
            Err(Denied::InvalidHost { .. })
        ));
        let long_name = ["a"; 128].join(".");
        assert!(matches!(
            Host::parse(&long_name),
            Err(Denied::InvalidHost { .. })
        ));
    }
}
