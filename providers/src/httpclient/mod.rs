//! `httpclient`: Tarmac's outbound HTTP capability (`call`), on a blocking `ureq` client.
//!
//! Why ureq: a small synchronous client (providers run on the guest's thread; reqwest's blocking
//! client would start a tokio runtime per client and pull in hyper), rustls without system
//! OpenSSL, and a pluggable resolver, which is where the allow-list meets the addresses
//! actually connected to.
//!
//! # The allow-list rule
//!
//! A guest's request is sent only when all of these hold, for its URL and for every redirect:
//! - the scheme is `http` or `https` (`file:`, `ftp:`, `gopher:`, `data:`, `javascript:`... are
//!   refused before anything else: `400 Unable to create HTTP request - unsupported URL`);
//! - the URL has no user information: `http://allowed@evil/`, `http://user:pass@host/` are refused
//!   outright ([`Denied::Userinfo`]); credentials go in an `Authorization` header;
//! - the host is a valid name or a canonical IP literal: IPv4 only as a dotted quad of unpadded
//!   decimals (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1` are refused,
//!   [`Denied::NonCanonicalAddress`], because resolvers read them as addresses and a string
//!   comparison as names);
//! - the host is on the [`AllowList`] (deny by default, [`Denied::HostNotAllowed`]). Names
//!   compare ignoring case and one trailing dot (`LOCALHOST.` is `localhost`); addresses compare
//!   as addresses, an IPv4-mapped IPv6 literal (`[::ffff:127.0.0.1]`) being its IPv4 address,
//!   while IPv4-compatible (`[::127.0.0.1]`) and NAT64 (`[64:ff9b::7f00:1]`) forms are other
//!   hosts. Ports are not part of the rule;
//! - right before each connection the host's canonical name is resolved once (IP literals are
//!   not looked up), the addresses are checked, and the connection goes to exactly those
//!   addresses (no second lookup, no gap for DNS rebinding). A host named exactly on the list may
//!   resolve to any address, loopback and private ones included (the operator named it); a host
//!   matched only by a wildcard (`*`, `*.example.com`) keeps only its public addresses and the
//!   addresses listed exactly, and is refused when none is left
//!   ([`Denied::NonPublicAddress`]): `localhost` under `*` never reaches loopback, whatever its
//!   spelling or DNS answer;
//! - redirects (301, 302, 303, 307, 308) are followed by this module, never by the transport,
//!   at most `max_redirects` of them ([`HttpClientError::TooManyRedirects`]; `0` returns the
//!   3xx response to the guest). Each hop is checked like the first
//!   ([`HttpClientError::RedirectDenied`]); credentials headers are dropped when the origin
//!   changes; methods and bodies follow Go's client.
//!
//! A guest's `Host` header is dropped (as Go's client ignores it): the `Host` sent is the URL's,
//! so a shared front end cannot be steered to another virtual host than the one allowed.
//!
//! # Other policy ([`HttpClientConfig`])
//! - a timeout for the whole exchange, redirects included (default 30 s; a shorter call
//!   deadline wins);
//! - a response body cap (default 10 MiB). A cut body is flagged by the response header
//!   `x-switchboard-truncated: true` (Tarmac cuts silently);
//! - `insecure` (skip TLS verification) is honoured only with `allow_insecure`; otherwise the
//!   request is made with verification, as if `insecure` were false;
//! - no proxy from the environment, no response decompression.
//!
//! # Wire
//! Status 200 means the request was made; the remote status is `code`. Header names are
//! lower-cased. Protobuf carries every value of a repeated header; JSON (a `string -> string`
//! map) joins them with `, `. Statuses: 400 `Error Parsing Input`, 400
//! `Unable to decode data - <reason>` (JSON body base64), then the [`HttpClientError`] texts:
//! 400 `Unable to create HTTP request - <reason>` (bad URL, scheme, method or header), 403
//! `HTTP request denied - <reason>` (the allow-list rule), 500
//! `Unable to execute HTTP request - <reason>` (connection, TLS, timeout, too many redirects),
//! 500 `Unexpected error reading HTTP response body - <reason>`.

mod address;
mod allow;
mod error;
mod host;
mod redirect;
mod resolver;
mod target;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message as _;
use switchboard::{CallContext, Provider, ProviderError, Request};
use ureq::http::{self, HeaderMap, Method};
use ureq::tls::TlsConfig;
use ureq::unversioned::transport::DefaultConnector;
use ureq::{Agent, RequestExt};

use crate::wire::{self, json, proto, Encoding, Status};
use resolver::GuardedResolver;
use target::{Target, UrlError};

pub use address::is_public;
pub use allow::{AllowList, Listing};
pub use error::{Denied, HttpClientError};

/// Response header added when the body was cut at the cap.
pub const TRUNCATED_HEADER: &str = "x-switchboard-truncated";

/// Settings of the `httpclient` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientConfig {
    /// Hosts guests may call (see [`AllowList`]); empty denies everything.
    pub allow_hosts: Vec<String>,
    /// Longest a whole exchange may take, redirects included (default 30 s).
    pub timeout: Duration,
    /// Largest response body kept (default 10 MiB); the rest is dropped and flagged.
    pub max_response_bytes: usize,
    /// Whether a request's `insecure` flag may disable TLS verification (default false).
    pub allow_insecure: bool,
    /// Redirects followed (default 5), each hop checked against the allow-list; one more is
    /// [`HttpClientError::TooManyRedirects`]. `0` follows none and returns the 3xx response.
    pub max_redirects: u32,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            allow_hosts: Vec::new(),
            timeout: Duration::from_secs(30),
            max_response_bytes: 10 * 1024 * 1024,
            allow_insecure: false,
            max_redirects: 5,
        }
    }
}

/// A request as a guest describes it (what an `httpclient:call` payload decodes to).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...; empty means `GET`, as in Go.
    pub method: String,
    /// Absolute `http` or `https` URL.
    pub url: String,
    /// Headers in order; a name may repeat. `Host` is ignored.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
    /// Skip TLS verification; honoured only with [`HttpClientConfig::allow_insecure`].
    pub insecure: bool,
}

/// The remote answer to an [`HttpRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Remote HTTP status.
    pub code: u16,
    /// Headers, names lower-case, every value of a repeated header in order; plus
    /// [`TRUNCATED_HEADER`] when the body was cut.
    pub headers: BTreeMap<String, Vec<String>>,
    /// Body, at most [`HttpClientConfig::max_response_bytes`].
    pub body: Vec<u8>,
}

/// The `httpclient` provider.
#[derive(Clone)]
pub struct HttpClient {
    config: HttpClientConfig,
    allow: Arc<AllowList>,
    verified: Agent,
    unverified: Agent,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.config)
            .finish()
    }
}

/// One request of a chain of redirects.
struct Hop {
    target: Target,
    method: Method,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The `Location` that led here; `None` for the guest's own URL.
    via: Option<String>,
}

impl HttpClient {
    /// A client with this policy.
    pub fn new(config: HttpClientConfig) -> Self {
        let allow = Arc::new(AllowList::new(&config.allow_hosts));
        let agent = |insecure: bool| {
            let tls = TlsConfig::builder().disable_verification(insecure).build();
            let cfg = Agent::config_builder()
                .http_status_as_error(false)
                .proxy(None)
                // Redirects are followed by `send`, hop by hop, through the same checks.
                .max_redirects(0)
                .allow_non_standard_methods(true)
                .timeout_global(Some(config.timeout))
                .tls_config(tls)
                .build();
            Agent::with_parts(
                cfg,
                DefaultConnector::default(),
                GuardedResolver::new(allow.clone()),
            )
        };
        HttpClient {
            verified: agent(false),
            unverified: agent(true),
            allow: allow.clone(),
            config,
        }
    }

    /// The policy.
    pub fn config(&self) -> &HttpClientConfig {
        &self.config
    }

    /// Make the request under this client's policy (the [module documentation](self) states the
    /// rule), following redirects within it, and read the answer.
    ///
    /// # Errors
    /// [`HttpClientError`]: the URL, method or a header is invalid; the policy refuses the URL or
    /// a redirect (nothing is sent to a refused host); too many redirects; or the exchange
    /// failed or timed out.
    pub fn send(
        &self,
        ctx: &CallContext,
        request: HttpRequest,
    ) -> Result<HttpResponse, HttpClientError> {
        let timeout = match ctx.remaining() {
            Some(left) if left < self.config.timeout => left,
            _ => self.config.timeout,
        };
        let deadline = Instant::now().checked_add(timeout);
        let insecure = request.insecure && self.config.allow_insecure;
        if request.insecure && !insecure {
            tracing::debug!("httpclient: `insecure` ignored, not allowed by configuration");
        }
        let agent = if insecure {
            &self.unverified
        } else {
            &self.verified
        };
        let mut hop = self.first_hop(request)?;
        let mut followed = 0;
        loop {
            let response = self.exchange(agent, &hop, deadline)?;
            let Some(location) = redirect::location(response.status(), response.headers()) else {
                return self.read(response);
            };
            if self.config.max_redirects == 0 {
                return self.read(response);
            }
            if followed == self.config.max_redirects {
                return Err(HttpClientError::TooManyRedirects {
                    limit: self.config.max_redirects,
                });
            }
            followed += 1;
            let location =
                location.map_err(|location| HttpClientError::InvalidRedirect { location })?;
            hop = self.next_hop(hop, response.status(), location)?;
        }
    }

    fn first_hop(&self, request: HttpRequest) -> Result<Hop, HttpClientError> {
        let invalid = |reason: String| HttpClientError::InvalidRequest { reason };
        // Go's http.NewRequest treats an empty method as GET.
        let method = if request.method.is_empty() {
            Method::GET
        } else {
            Method::from_bytes(request.method.as_bytes())
                .map_err(|_| invalid(format!("invalid method '{}'", request.method)))?
        };
        let target = Target::parse_request_url(&request.url)?;
        self.admit(&target)?;
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("invalid header name '{name}'")))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("invalid value for header '{name}'")))?;
            if name == http::header::HOST {
                tracing::debug!("httpclient: the guest's Host header is ignored");
                continue;
            }
            headers.append(name, value);
        }
        Ok(Hop {
            target,
            method,
            headers,
            body: request.body,
            via: None,
        })
    }

    /// The request a redirect asks for, checked like the first one.
    fn next_hop(
        &self,
        hop: Hop,
        status: http::StatusCode,
        location: String,
    ) -> Result<Hop, HttpClientError> {
        let url = redirect::resolve(&hop.target.uri, &location);
        let target = match Target::parse(&url) {
            Ok(target) => target,
            Err(UrlError::Syntax(_)) => return Err(HttpClientError::InvalidRedirect { location }),
            Err(UrlError::Scheme(scheme)) => {
                return Err(HttpClientError::RedirectDenied {
                    location,
                    reason: Denied::Scheme { scheme },
                })
            }
            Err(UrlError::Denied(reason)) => {
                return Err(HttpClientError::RedirectDenied { location, reason })
            }
        };
        if let Err(reason) = self.admit(&target) {
            return Err(HttpClientError::RedirectDenied { location, reason });
        }
        let (method, keeps_body) = redirect::next_method(status, &hop.method);
        let mut headers = hop.headers;
        redirect::next_headers(&mut headers, hop.target.same_origin(&target), keeps_body);
        Ok(Hop {
            target,
            method,
            headers,
            body: if keeps_body { hop.body } else { Vec::new() },
            via: Some(location),
        })
    }

    /// The allow-list check on the host name, before anything is resolved; the resolver checks
    /// the addresses.
    fn admit(&self, target: &Target) -> Result<Listing, Denied> {
        self.allow
            .check_host(&target.host)
            .ok_or_else(|| Denied::HostNotAllowed {
                host: target.host.to_string(),
            })
    }

    fn exchange(
        &self,
        agent: &Agent,
        hop: &Hop,
        deadline: Option<Instant>,
    ) -> Result<http::Response<ureq::Body>, HttpClientError> {
        let left = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => self.config.timeout,
        };
        if left.is_zero() {
            return Err(HttpClientError::Execute {
                reason: ureq::Error::Timeout(ureq::Timeout::Global).to_string(),
            });
        }
        let mut builder = http::Request::builder()
            .method(hop.method.clone())
            .uri(hop.target.uri.clone());
        if let Some(headers) = builder.headers_mut() {
            headers.extend(hop.headers.clone());
        }
        let request =
            builder
                .body(hop.body.clone())
                .map_err(|e| HttpClientError::InvalidRequest {
                    reason: e.to_string(),
                })?;
        request
            .with_agent(agent)
            .configure()
            .timeout_global(Some(left))
            .build()
            .run()
            .map_err(|err| match (resolver::denial(&err), &hop.via) {
                (Some(denied), None) => HttpClientError::Denied(denied.clone()),
                (Some(denied), Some(location)) => HttpClientError::RedirectDenied {
                    location: location.clone(),
                    reason: denied.clone(),
                },
                (None, _) => HttpClientError::Execute {
                    reason: err.to_string(),
                },
            })
    }

    fn read(&self, response: http::Response<ureq::Body>) -> Result<HttpResponse, HttpClientError> {
        let (parts, body) = response.into_parts();
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in &parts.headers {
            headers
                .entry(name.as_str().to_string())
                .or_default()
                .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
        // Read one byte past the cap to know whether the body was cut.
        let cap = self.config.max_response_bytes;
        let mut data = Vec::new();
        body.into_reader()
            .take(u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| HttpClientError::ReadBody {
                reason: e.to_string(),
            })?;
        if data.len() > cap {
            data.truncate(cap);
            headers.insert(TRUNCATED_HEADER.to_string(), vec!["true".to_string()]);
        }
        Ok(HttpResponse {
            code: parts.status.as_u16(),
            headers,
            body: data,
        })
    }

    fn decode(enc: Encoding, payload: &[u8]) -> Result<HttpRequest, Status> {
        wire::parse(
            enc,
            payload,
            |m: json::HttpClient| {
                let body = json::b64_decode(&m.body)
                    .map_err(|e| Status::bad_request(format!("Unable to decode data - {e}")))?;
                Ok(HttpRequest {
                    method: m.method,
                    url: m.url,
                    headers: m.headers.into_iter().collect(),
                    body,
                    insecure: m.insecure,
                })
            },
            |m: proto::HttpClient| {
                let headers = m
                    .headers
                    .into_iter()
                    .flat_map(|(name, h)| h.values.into_iter().map(move |v| (name.clone(), v)))
                    .collect();
                Ok(HttpRequest {
                    method: m.method,
                    url: m.url,
                    headers,
                    body: m.body,
                    insecure: m.insecure,
                })
            },
        )
    }

    fn call_http(&self, ctx: &CallContext, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let enc = Encoding::detect(payload);
        let outcome = Self::decode(enc, payload).and_then(|request| {
            self.send(ctx, request)
                .map_err(|err| Status::new(err.code(), err.to_string()))
        });
        let (status, response) = match outcome {
            Ok(response) => (Status::ok(), response),
            Err(status) => (status, HttpResponse::default()),
        };
        let encoded = match enc {
            Encoding::Json => json::encode(&json::HttpClientResponse {
                status: status.to_json(),
                code: i32::from(response.code),
                headers: response
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, v.join(", ")))
                    .collect(),
                body: json::b64_encode(&response.body),
            }),
            Encoding::Protobuf => proto::HttpClientResponse {
                status: Some(status.to_proto()),
                code: i32::from(response.code),
                headers: response
                    .headers
                    .into_iter()
                    .map(|(k, values)| (k, proto::Header { values }))
                    .collect(),
                body: response.body,
            }
            .encode_to_vec(),
        };
        wire::reply(&status, encoded)
    }
}

impl Provider for HttpClient {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        // Tarmac's docs register `Call`; its SDKs send `call`.
        match req.operation {
            "call" | "Call" => self.call_http(req.ctx, req.payload),
            other => Err(ProviderError::UnknownOperation(other.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!(
            "tarmac httpclient ({} allowed host entries)",
            self.config.allow_hosts.len()
        )
    }
}
