//! Why the `httpclient` provider did not deliver a response, and the status each reason maps to.

use std::net::IpAddr;

use crate::wire::code;

/// Why [`HttpClient::send`](super::HttpClient::send) did not deliver a response. The `Display`
/// text is the Tarmac status text the guest sees; [`HttpClientError::code`] is the status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpClientError {
    /// The URL's scheme is not `http` or `https` (`file:`, `ftp:`, `gopher:`, `data:`, ...): 400.
    #[error("Unable to create HTTP request - unsupported URL '{url}'")]
    UnsupportedUrl {
        /// The URL as the guest sent it.
        url: String,
    },
    /// The request cannot be built: URL syntax, method or header: 400.
    #[error("Unable to create HTTP request - {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The allow-list policy refused the request; nothing was sent: 403.
    #[error("HTTP request denied - {0}")]
    Denied(#[from] Denied),
    /// A redirect led where the policy refuses to go; nothing was sent there: 403.
    #[error("HTTP request denied - redirect to '{location}': {reason}")]
    RedirectDenied {
        /// The redirect's `Location`, as the server sent it.
        location: String,
        /// Why that target is refused.
        reason: Denied,
    },
    /// The server redirected more than `max_redirects` times (a loop, or too long a chain): 500.
    #[error("Unable to execute HTTP request - stopped after {limit} redirects")]
    TooManyRedirects {
        /// The configured `max_redirects`.
        limit: u32,
    },
    /// A redirect's `Location` is not a usable URL reference: 500.
    #[error("Unable to execute HTTP request - invalid redirect location '{location}'")]
    InvalidRedirect {
        /// The `Location` header, lossily decoded.
        location: String,
    },
    /// Connection, TLS, timeout or protocol failure: 500.
    #[error("Unable to execute HTTP request - {reason}")]
    Execute {
        /// The transport's message.
        reason: String,
    },
    /// The response body could not be read: 500.
    #[error("Unexpected error reading HTTP response body - {reason}")]
    ReadBody {
        /// The transport's message.
        reason: String,
    },
}

impl HttpClientError {
    /// The Tarmac status code of the envelope: 400, 403 or 500.
    pub fn code(&self) -> i32 {
        match self {
            HttpClientError::UnsupportedUrl { .. } | HttpClientError::InvalidRequest { .. } => {
                code::BAD_REQUEST
            }
            HttpClientError::Denied(_) | HttpClientError::RedirectDenied { .. } => code::FORBIDDEN,
            HttpClientError::TooManyRedirects { .. }
            | HttpClientError::InvalidRedirect { .. }
            | HttpClientError::Execute { .. }
            | HttpClientError::ReadBody { .. } => code::INTERNAL,
        }
    }
}

/// A request the allow-list policy refuses (see the [module documentation](super) for the rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The host is not on the allow-list.
    #[error("host '{host}' is not on the allow-list")]
    HostNotAllowed {
        /// The host, canonical (lower-case, no trailing dot).
        host: String,
    },
    /// The host is allowed only by a wildcard and resolves to a loopback, private, link-local or
    /// otherwise non-public address.
    #[error("host '{host}' resolves to non-public address {addr} and is not listed explicitly")]
    NonPublicAddress {
        /// The host, canonical.
        host: String,
        /// The first non-public address it resolved to.
        addr: IpAddr,
    },
    /// The URL has user information (`http://user:pass@host/`, `http://allowed@evil/`).
    /// Refused outright: it is the classic way to make a reader and a parser see two hosts, and
    /// credentials belong in an `Authorization` header.
    #[error("URLs with user information are refused (send credentials in a header)")]
    Userinfo,
    /// An IPv4 address spelled other than as a dotted quad (`2130706433`, `0177.0.0.1`,
    /// `0x7f.1`, `127.1`).
    #[error("host '{host}' is an IPv4 address in a non-canonical form (write a dotted quad)")]
    NonCanonicalAddress {
        /// The host as written.
        host: String,
    },
    /// The host is neither a host name nor an IP address literal.
    #[error("host '{host}' is not a valid host name or IP address")]
    InvalidHost {
        /// The host as written.
        host: String,
    },
    /// A redirect to a scheme other than `http` and `https`.
    #[error("scheme '{scheme}' is not http or https")]
    Scheme {
        /// The scheme, as written.
        scheme: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_texts() {
        let denied = HttpClientError::Denied(Denied::HostNotAllowed {
            host: "evil".to_string(),
        });
        assert_eq!(denied.code(), 403);
        assert_eq!(
            denied.to_string(),
            "HTTP request denied - host 'evil' is not on the allow-list"
        );
        let redirect = HttpClientError::RedirectDenied {
            location: "file:///etc/passwd".to_string(),
            reason: Denied::Scheme {
                scheme: "file".to_string(),
            },
        };
        assert_eq!(redirect.code(), 403);
        assert_eq!(
            redirect.to_string(),
            "HTTP request denied - redirect to 'file:///etc/passwd': scheme 'file' is not http or https"
        );
        let unsupported = HttpClientError::UnsupportedUrl {
            url: "ftp://x/".to_string(),
        };
        assert_eq!(unsupported.code(), 400);
        let many = HttpClientError::TooManyRedirects { limit: 5 };
        assert_eq!(many.code(), 500);
        assert_eq!(
            many.to_string(),
            "Unable to execute HTTP request - stopped after 5 redirects"
        );
    }
}
