//! The host allow-list and the address check that makes it hold after DNS.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How a host matched the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Named exactly (host name or IP literal): any address it resolves to is allowed,
    /// loopback and private ones included.
    Exact,
    /// Matched by a wildcard (`*` or `*.example.com`): only public addresses are allowed, so a
    /// wildcard can never reach the host's own network (SSRF, DNS rebinding).
    Wildcard,
}

/// Hosts a guest may call. Deny by default: an empty list allows nothing.
///
/// Entries: an exact host name or IP address (`api.example.com`, `127.0.0.1`, `::1`),
/// `*.example.com` (any subdomain, not `example.com` itself), or `*` (any host with a public
/// address). Matching ignores case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    exact: Vec<String>,
    suffixes: Vec<String>,
    any: bool,
}

/// Lower-case, without IPv6 brackets or a trailing dot.
fn normalise(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

impl AllowList {
    /// Build from configuration entries.
    pub fn new<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Self {
        let mut list = AllowList::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry == "*" {
                list.any = true;
            } else if let Some(suffix) = entry.strip_prefix("*.") {
                list.suffixes.push(format!(".{}", normalise(suffix)));
            } else if !entry.is_empty() {
                list.exact.push(normalise(entry));
            }
        }
        list
    }

    /// Whether and how `host` is allowed.
    pub fn check(&self, host: &str) -> Option<Listing> {
        let host = normalise(host);
        if self.exact.contains(&host) {
            return Some(Listing::Exact);
        }
        if self.any || self.suffixes.iter().any(|s| host.ends_with(s.as_str())) {
            return Some(Listing::Wildcard);
        }
        None
    }
}

/// Whether `ip` is a public unicast address (not loopback, private, link-local, shared,
/// documentation, benchmarking, reserved, multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)) // NAT64 can reach private v4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_by_default() {
        assert_eq!(
            AllowList::new(Vec::<String>::new()).check("example.com"),
            None
        );
    }

    #[test]
    fn exact_wildcard_and_any() {
        let list = AllowList::new(["API.example.com", "*.svc.test", "::1"]);
        assert_eq!(list.check("api.EXAMPLE.com"), Some(Listing::Exact));
        assert_eq!(list.check("api.example.com."), Some(Listing::Exact));
        assert_eq!(list.check("[::1]"), Some(Listing::Exact));
        assert_eq!(list.check("a.b.svc.test"), Some(Listing::Wildcard));
        assert_eq!(list.check("svc.test"), None);
        assert_eq!(list.check("evilsvc.test"), None);
        assert_eq!(list.check("example.com"), None);
        let any = AllowList::new(["*"]);
        assert_eq!(any.check("anything.org"), Some(Listing::Wildcard));
    }

    #[test]
    fn address_classes() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
