//! The resolver the transport calls right before every connection: the allow-list is enforced
//! on the addresses actually connected to.
//!
//! ureq hands the addresses this returns to its connector, which connects to one of exactly
//! those: the name is resolved once, the addresses are checked, and no second lookup can swap
//! them (no time-of-check/time-of-use gap, no DNS rebinding between check and connect).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use super::address::is_public;
use super::allow::{AllowList, Listing};
use super::error::Denied;
use super::host::Host;
use super::target::{Target, UrlError};

/// Resolves only hosts on the allow-list; IP literals are taken as they are (no lookup); a host
/// allowed only by a wildcard keeps only its public addresses (and addresses listed exactly) and
/// is refused when it has none.
#[derive(Debug)]
pub(crate) struct GuardedResolver {
    allow: Arc<AllowList>,
    inner: DefaultResolver,
}

impl GuardedResolver {
    pub(crate) fn new(allow: Arc<AllowList>) -> Self {
        GuardedResolver {
            allow,
            inner: DefaultResolver::default(),
        }
    }
}

/// A refusal travels through ureq as an I/O error; [`denial`] recovers it.
fn refuse(denied: Denied) -> ureq::Error {
    ureq::Error::Io(io::Error::new(io::ErrorKind::PermissionDenied, denied))
}

/// The refusal inside a transport error, if it is one.
pub(crate) fn denial(err: &ureq::Error) -> Option<&Denied> {
    match err {
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<Denied>(),
        _ => None,
    }
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        // Every URL reaching the transport was checked already; checking again here keeps the
        // guarantee local to the place that decides where to connect.
        let target = Target::from_uri(uri.clone()).map_err(|err| match err {
            UrlError::Denied(denied) => refuse(denied),
            UrlError::Scheme(scheme) => refuse(Denied::Scheme { scheme }),
            UrlError::Syntax(reason) => ureq::Error::BadUri(reason),
        })?;
        let host = target.host.to_string();
        let listing = self
            .allow
            .check_host(&target.host)
            .ok_or_else(|| refuse(Denied::HostNotAllowed { host: host.clone() }))?;
        let addrs = match target.host {
            Host::Ip(ip) => {
                let mut one = self.inner.empty();
                one.push(SocketAddr::new(ip, target.port()));
                one
            }
            // The name resolved is the canonical one that was checked: `LOCALHOST.` is looked
            // up as `localhost`, exactly as it was judged.
            Host::Name(ref name) => {
                let checked = Uri::builder()
                    .scheme(uri.scheme_str().unwrap_or("http"))
                    .authority(format!("{name}:{}", target.port()))
                    .path_and_query("/")
                    .build()
                    .map_err(|e| ureq::Error::BadUri(e.to_string()))?;
                self.inner.resolve(&checked, config, timeout)?
            }
        };
        if listing == Listing::Exact {
            return Ok(addrs);
        }
        let reachable =
            |addr: &SocketAddr| is_public(addr.ip()) || self.allow.lists_address(addr.ip());
        let mut public = self.inner.empty();
        for addr in addrs.iter().filter(|a| reachable(a)) {
            public.push(*addr);
        }
        match addrs.iter().find(|a| !reachable(a)) {
            Some(private) if public.is_empty() => Err(refuse(Denied::NonPublicAddress {
                host,
                addr: private.ip(),
            })),
            _ => Ok(public),
        }
    }
}
