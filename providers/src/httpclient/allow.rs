//! The host allow-list: which hosts a guest may call, and how they matched.

use std::net::IpAddr;

use super::host::{normalise_name, Host};

/// How a host matched the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Named exactly (host name or IP literal): any address it resolves to is allowed,
    /// loopback and private ones included.
    Exact,
    /// Matched by a wildcard (`*` or `*.example.com`): only public addresses and addresses listed
    /// exactly are allowed, so a wildcard can never reach the host's own network (SSRF, DNS
    /// rebinding).
    Wildcard,
}

/// Hosts a guest may call. Deny by default: an empty list allows nothing.
///
/// Entries: an exact host name or IP address (`api.example.com`, `127.0.0.1`, `::1`, `[::1]`),
/// `*.example.com` (any subdomain, not `example.com` itself), or `*` (any host; see [`Listing`]
/// for the addresses each kind of match may reach). Names match ignoring case and a trailing dot; addresses match as addresses
/// (`[0:0:0:0:0:0:0:1]` is `::1`, `[::ffff:127.0.0.1]` is `127.0.0.1`). Ports are not part of
/// the rule. An entry that is neither a valid name nor a canonical address (`127.1`) can match
/// nothing and is ignored with a warning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    names: Vec<String>,
    addresses: Vec<IpAddr>,
    suffixes: Vec<String>,
    any: bool,
}

impl AllowList {
    /// Build from configuration entries.
    pub fn new<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Self {
        let mut list = AllowList::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                list.any = true;
                continue;
            }
            if let Some(suffix) = entry.strip_prefix("*.") {
                match normalise_name(suffix) {
                    Some(suffix) => list.suffixes.push(format!(".{suffix}")),
                    None => tracing::warn!(entry, "httpclient: allow-list wildcard ignored"),
                }
                continue;
            }
            match Host::parse(entry) {
                Ok(Host::Name(name)) => list.names.push(name),
                Ok(Host::Ip(ip)) => list.addresses.push(ip),
                Err(err) => tracing::warn!(entry, %err, "httpclient: allow-list entry ignored"),
            }
        }
        list
    }

    /// Whether and how `host` (as written in a URL: `Example.COM.`, `127.0.0.1`, `[::1]`) is
    /// allowed; `None` also for a host that is not a valid name or canonical address.
    pub fn check(&self, host: &str) -> Option<Listing> {
        Host::parse(host)
            .ok()
            .and_then(|host| self.check_host(&host))
    }

    /// Whether `ip` is listed exactly: a host matched by a wildcard may resolve to it even when it
    /// is not public (the guest could name it directly anyway).
    pub(crate) fn lists_address(&self, ip: IpAddr) -> bool {
        self.addresses.contains(&ip.to_canonical())
    }

    pub(crate) fn check_host(&self, host: &Host) -> Option<Listing> {
        let exact = match host {
            Host::Name(name) => self.names.contains(name),
            Host::Ip(ip) => self.addresses.contains(ip),
        };
        if exact {
            return Some(Listing::Exact);
        }
        let text = host.to_string();
        if self.any || self.suffixes.iter().any(|s| text.ends_with(s.as_str())) {
            return Some(Listing::Wildcard);
        }
        None
    }
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
        assert_eq!(list.check("A.B.SVC.TEST."), Some(Listing::Wildcard));
        assert_eq!(list.check("svc.test"), None);
        assert_eq!(list.check("evilsvc.test"), None);
        assert_eq!(list.check("example.com"), None);
        let any = AllowList::new(["*"]);
        assert_eq!(any.check("anything.org"), Some(Listing::Wildcard));
        assert_eq!(any.check("8.8.8.8"), Some(Listing::Wildcard));
    }

    #[test]
    fn case_and_trailing_dot_give_the_same_decision() {
        let list = AllowList::new(["Allowed.Example."]);
        for host in [
            "allowed.example",
            "Allowed.Example.",
            "ALLOWED.EXAMPLE",
            "allowed.example.",
        ] {
            assert_eq!(list.check(host), Some(Listing::Exact), "{host}");
        }
        assert_eq!(list.check("allowed.example.."), None);
        assert_eq!(list.check("other.example"), None);
    }

    #[test]
    fn addresses_match_as_addresses() {
        let list = AllowList::new(["127.0.0.1", "[::1]"]);
        for host in [
            "127.0.0.1",
            "127.0.0.1.",
            "[::ffff:127.0.0.1]",
            "[::1]",
            "[0:0:0:0:0:0:0:1]",
        ] {
            assert_eq!(list.check(host), Some(Listing::Exact), "{host}");
        }
        // Other spellings of 127.0.0.1 are not addresses at all; other forms are other hosts.
        for host in [
            "2130706433",
            "0177.0.0.1",
            "0x7f.1",
            "127.1",
            "127.0.0.2",
            "[::127.0.0.1]",
            "[64:ff9b::7f00:1]",
            "localhost",
        ] {
            assert_eq!(list.check(host), None, "{host}");
        }
    }

    #[test]
    fn unusable_entries_are_ignored() {
        let list = AllowList::new(["127.1", "bad host", "*.bad host", "*.", "", "  "]);
        assert_eq!(list, AllowList::default());
    }
}
