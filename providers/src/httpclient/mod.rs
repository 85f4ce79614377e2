//! `httpclient`: Tarmac's outbound HTTP capability (`call`), on a blocking `ureq` client.
//!
//! Why ureq: a small synchronous client (providers run on the guest's thread; reqwest's blocking
//! client would start a tokio runtime per client and pull in hyper), rustls without system
//! OpenSSL, and a pluggable resolver, which is where the allow-list is enforced.
//!
//! Policy ([`HttpClientConfig`]):
//! - hosts must be on the allow-list ([`AllowList`], deny by default). The check runs on the
//!   URL before anything is sent (`403 HTTP request denied - ...`) and again in the resolver for
//!   every connection, redirects included; hosts matched only by a wildcard may not resolve to
//!   loopback, private or other non-public addresses; exact entries may.
//! - a timeout for the whole exchange (default 30 s; a shorter call deadline wins);
//! - a response body cap (default 10 MiB). A cut body is flagged by the response header
//!   `x-switchboard-truncated: true` (Tarmac cuts silently);
//! - `insecure` (skip TLS verification) is honoured only with `allow_insecure`; otherwise the
//!   request is made with verification, as if `insecure` were false;
//! - no proxy from the environment, no response decompression, at most `max_redirects` hops.
//!
//! Wire: status 200 means the request was made; the remote status is `code`. Header names are
//! lower-cased. Protobuf carries every value of a repeated header; JSON (a `string -> string`
//! map) joins them with `, `. Statuses: 400 `Error Parsing Input`, 400
//! `Unable to decode data - <reason>` (JSON body base64), 400
//! `Unable to create HTTP request - <reason>` (bad URL, scheme, method or header), 403
//! `HTTP request denied - <reason>`, 500 `Unable to execute HTTP request - <reason>`
//! (connection, TLS, timeout, a denied redirect), 500
//! `Unexpected error reading HTTP response body - <reason>`.

mod allow;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use prost::Message as _;
use switchboard::{CallContext, Provider, ProviderError, Request};
use ureq::config::Config;
use ureq::http;
use ureq::tls::TlsConfig;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::{Agent, RequestExt};

use crate::wire::{self, code, json, proto, Encoding, Status};

pub use allow::{is_public, AllowList, Listing};

/// Response header added when the body was cut at the cap.
pub const TRUNCATED_HEADER: &str = "x-switchboard-truncated";

/// Settings of the `httpclient` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpClientConfig {
    /// Hosts guests may call (see [`AllowList`]); empty denies everything.
    pub allow_hosts: Vec<String>,
    /// Longest a whole exchange may take (default 30 s).
    pub timeout: Duration,
    /// Largest response body kept (default 10 MiB); the rest is dropped and flagged.
    pub max_response_bytes: usize,
    /// Whether a request's `insecure` flag may disable TLS verification (default false).
    pub allow_insecure: bool,
    /// Redirects followed (default 5); each hop is checked against the allow-list.
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

/// Resolves only hosts on the allow-list, and drops non-public addresses of hosts allowed by a
/// wildcard. Runs for every connection, so redirects are held to the same policy.
#[derive(Debug)]
struct GuardedResolver {
    allow: Arc<AllowList>,
    inner: DefaultResolver,
}

fn denied(reason: String) -> ureq::Error {
    ureq::Error::Io(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        reason,
    ))
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let listing = self
            .allow
            .check(host)
            .ok_or_else(|| denied(format!("host '{host}' is not on the allow-list")))?;
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if listing == Listing::Exact {
            return Ok(addrs);
        }
        let mut public = self.inner.empty();
        for addr in addrs.iter().filter(|a| is_public(a.ip())) {
            public.push(*addr);
        }
        if public.is_empty() {
            return Err(denied(format!(
                "host '{host}' resolves to a non-public address and is not listed explicitly"
            )));
        }
        Ok(public)
    }
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

/// A guest's request, decoded from either encoding.
struct Outgoing {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    insecure: bool,
}

/// The remote answer, before encoding.
#[derive(Default)]
struct Incoming {
    code: i32,
    headers: BTreeMap<String, Vec<String>>,
    body: Vec<u8>,
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
                .max_redirects(config.max_redirects)
                .allow_non_standard_methods(true)
                .timeout_global(Some(config.timeout))
                .tls_config(tls)
                .build();
            Agent::with_parts(
                cfg,
                DefaultConnector::default(),
                GuardedResolver {
                    allow: allow.clone(),
                    inner: DefaultResolver::default(),
                },
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

    fn decode(enc: Encoding, payload: &[u8]) -> Result<Outgoing, Status> {
        wire::parse(
            enc,
            payload,
            |m: json::HttpClient| {
                let body = json::b64_decode(&m.body)
                    .map_err(|e| Status::bad_request(format!("Unable to decode data - {e}")))?;
                Ok(Outgoing {
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
                Ok(Outgoing {
                    method: m.method,
                    url: m.url,
                    headers,
                    body: m.body,
                    insecure: m.insecure,
                })
            },
        )
    }

    fn build(&self, out: Outgoing) -> Result<(http::Request<Vec<u8>>, bool), Status> {
        let create = |reason: String| {
            Status::bad_request(format!("Unable to create HTTP request - {reason}"))
        };
        // Go's http.NewRequest treats an empty method as GET.
        let method = if out.method.is_empty() {
            http::Method::GET
        } else {
            http::Method::from_bytes(out.method.as_bytes())
                .map_err(|_| create(format!("invalid method '{}'", out.method)))?
        };
        let uri: http::Uri = out.url.parse().map_err(|e| create(format!("{e}")))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => return Err(create(format!("unsupported URL '{}'", out.url))),
        }
        let host = uri
            .host()
            .ok_or_else(|| create(format!("URL '{}' has no host", out.url)))?;
        if self.allow.check(host).is_none() {
            return Err(Status::new(
                403,
                format!("HTTP request denied - host '{host}' is not on the allow-list"),
            ));
        }
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in &out.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| create(format!("invalid header name '{name}'")))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| create(format!("invalid value for header '{name}'")))?;
            builder = builder.header(name, value);
        }
        let request = builder.body(out.body).map_err(|e| create(e.to_string()))?;
        let insecure = out.insecure && self.config.allow_insecure;
        if out.insecure && !insecure {
            tracing::debug!("httpclient: `insecure` ignored, not allowed by configuration");
        }
        Ok((request, insecure))
    }

    fn execute(
        &self,
        ctx: &CallContext,
        request: http::Request<Vec<u8>>,
        insecure: bool,
    ) -> Result<Incoming, Status> {
        let agent = if insecure {
            &self.unverified
        } else {
            &self.verified
        };
        let timeout = match ctx.remaining() {
            Some(left) if left < self.config.timeout => left,
            _ => self.config.timeout,
        };
        let response = request
            .with_agent(agent)
            .configure()
            .timeout_global(Some(timeout))
            .build()
            .run()
            .map_err(|e| {
                Status::new(
                    code::INTERNAL,
                    format!("Unable to execute HTTP request - {e}"),
                )
            })?;
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
            .map_err(|e| {
                Status::new(
                    code::INTERNAL,
                    format!("Unexpected error reading HTTP response body - {e}"),
                )
            })?;
        if data.len() > cap {
            data.truncate(cap);
            headers.insert(TRUNCATED_HEADER.to_string(), vec!["true".to_string()]);
        }
        Ok(Incoming {
            code: i32::from(parts.status.as_u16()),
            headers,
            body: data,
        })
    }

    fn call_http(&self, ctx: &CallContext, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let enc = Encoding::detect(payload);
        let outcome = Self::decode(enc, payload)
            .and_then(|out| self.build(out))
            .and_then(|(request, insecure)| self.execute(ctx, request, insecure));
        let (status, incoming) = match outcome {
            Ok(incoming) => (Status::ok(), incoming),
            Err(status) => (status, Incoming::default()),
        };
        let encoded = match enc {
            Encoding::Json => json::encode(&json::HttpClientResponse {
                status: status.to_json(),
                code: incoming.code,
                headers: incoming
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k, v.join(", ")))
                    .collect(),
                body: json::b64_encode(&incoming.body),
            }),
            Encoding::Protobuf => proto::HttpClientResponse {
                status: Some(status.to_proto()),
                code: incoming.code,
                headers: incoming
                    .headers
                    .into_iter()
                    .map(|(k, values)| (k, proto::Header { values }))
                    .collect(),
                body: incoming.body,
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
