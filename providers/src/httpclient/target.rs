//! A URL checked for sending: `http`/`https`, no user information, a canonical host.

use ureq::http::Uri;

use super::error::{Denied, HttpClientError};
use super::host::Host;

/// A URL that may be requested if its host passes the allow-list.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The parsed URL, exactly what the transport is given.
    pub(crate) uri: Uri,
    /// Its host, canonical.
    pub(crate) host: Host,
}

/// Why a URL is not a [`Target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// Not `http` or `https` (the scheme, lower-case; empty when there is none).
    Scheme(String),
    /// Not a URL `http::Uri` accepts, or one without a host.
    Syntax(String),
    /// A URL the policy refuses whatever the allow-list says.
    Denied(Denied),
}

impl Target {
    /// Check a URL. The scheme is read from the text first: the parser takes `data:text/plain`
    /// for a host and a port, and rejects `javascript:alert(1)`, both of which are unsupported
    /// schemes rather than syntax errors.
    pub(crate) fn parse(url: &str) -> Result<Target, UrlError> {
        let scheme = scheme_of(url).map(str::to_ascii_lowercase);
        match (scheme, url.parse::<Uri>()) {
            (Some(scheme), _) if scheme != "http" && scheme != "https" => {
                Err(UrlError::Scheme(scheme))
            }
            (_, Ok(uri)) => Target::from_uri(uri),
            (_, Err(err)) => Err(UrlError::Syntax(err.to_string())),
        }
    }

    /// Check a parsed URL (what the resolver sees before each connection).
    pub(crate) fn from_uri(uri: Uri) -> Result<Target, UrlError> {
        let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(UrlError::Scheme(scheme));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| UrlError::Syntax(format!("URL '{uri}' has no host")))?;
        // `http::Uri` takes the host after the last `@`; refusing user information outright
        // means no reader of this URL can see another host in it.
        if authority.as_str().contains('@') {
            return Err(UrlError::Denied(Denied::Userinfo));
        }
        let host = Host::parse(authority.host()).map_err(UrlError::Denied)?;
        Ok(Target { uri, host })
    }

    /// The port connected to: the URL's, or the scheme's default.
    pub(crate) fn port(&self) -> u16 {
        let default = if self.uri.scheme_str() == Some("https") {
            443
        } else {
            80
        };
        self.uri.port_u16().unwrap_or(default)
    }

    /// Whether two targets share scheme, host and port (credentials may follow a redirect).
    pub(crate) fn same_origin(&self, other: &Target) -> bool {
        self.uri.scheme_str() == other.uri.scheme_str()
            && self.host == other.host
            && self.port() == other.port()
    }

    /// The error for the guest's own URL (as opposed to a redirect's).
    pub(crate) fn parse_request_url(url: &str) -> Result<Target, HttpClientError> {
        Target::parse(url).map_err(|err| match err {
            UrlError::Scheme(_) => HttpClientError::UnsupportedUrl {
                url: url.to_string(),
            },
            UrlError::Syntax(reason) => HttpClientError::InvalidRequest { reason },
            UrlError::Denied(denied) => HttpClientError::Denied(denied),
        })
    }
}

/// The scheme of an absolute URL reference (RFC 3986: a letter, then letters, digits, `+`, `-`,
/// `.`, then `:`), or `None` for a relative reference.
pub(crate) fn scheme_of(reference: &str) -> Option<&str> {
    let (scheme, _) = reference.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    (first_ok && rest_ok).then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(url: &str) -> Host {
        match Target::parse(url) {
            Ok(target) => target.host,
            Err(err) => panic!("{url}: {err:?}"),
        }
    }

    #[test]
    fn http_and_https_urls_name_their_host() {
        assert_eq!(
            host_of("http://Example.COM./path?q#frag"),
            Host::Name("example.com".to_string())
        );
        assert_eq!(
            host_of("HTTPS://127.0.0.1:8443/"),
            Host::Ip("127.0.0.1".parse().expect("test address"))
        );
        assert_eq!(
            host_of("http://[::ffff:127.0.0.1]:80/"),
            Host::Ip("127.0.0.1".parse().expect("test address"))
        );
        // A `#` ends the authority: the host is the one before it, and it is what is connected to.
        assert_eq!(
            host_of("http://evil.test#@allowed.test/"),
            Host::Name("evil.test".to_string())
        );
    }

    #[test]
    fn other_schemes_are_unsupported() {
        for (url, scheme) in [
            ("file:///etc/passwd", "file"),
            ("ftp://127.0.0.1/x", "ftp"),
            ("gopher://127.0.0.1:70/_x", "gopher"),
            ("data:text/plain,hi", "data"),
            ("javascript:alert(1)", "javascript"),
            ("ws://127.0.0.1/", "ws"),
            ("//127.0.0.1/", ""),
            ("/relative", ""),
            ("127.0.0.1:80", ""),
        ] {
            assert_eq!(
                Target::parse(url).map(|t| t.host),
                Err(UrlError::Scheme(scheme.to_string())),
                "{url}"
            );
        }
    }

    #[test]
    fn user_information_is_refused() {
        for url in [
            "http://allowed.test@evil.test/",
            "http://user:pass@allowed.test/",
            "http://allowed.test%2f@evil.test/",
            "http://allowed.test:80@evil.test/",
            "http://@allowed.test/",
        ] {
            assert_eq!(
                Target::parse(url).map(|t| t.host),
                Err(UrlError::Denied(Denied::Userinfo)),
                "{url}"
            );
        }
    }

    #[test]
    fn unparsable_urls_are_syntax_errors() {
        for url in [
            "http://allowed.test\\@evil.test/",
            "http://evil.test\\allowed.test/",
            "http://",
            "http:///path",
            "http://a b/",
            "http://evil%2e.test/",
        ] {
            match Target::parse(url) {
                Err(UrlError::Syntax(_)) => {}
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn non_canonical_addresses_are_refused() {
        for url in [
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://127.1/",
        ] {
            match Target::parse(url) {
                Err(UrlError::Denied(Denied::NonCanonicalAddress { .. })) => {}
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
