//! The classic ways around an allow-list, against real HTTP servers on loopback: each is refused
//! with its typed error, and the server it aimed at never sees a connection.
//!
//! Servers bind 127.0.0.1 (the allowed host) and 127.0.0.2 (the one off the list); both are
//! loopback, nothing leaves the machine.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::{CallContext, CallError, Router};
use switchboard_providers::httpclient::{
    Denied, HttpClient, HttpClientConfig, HttpClientError, HttpRequest, HttpResponse,
};

mod support;
use support::{read_request, response, Seen};

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

type Respond = Box<dyn Fn(&Seen) -> Vec<u8> + Send + Sync>;

/// A loopback HTTP server that counts connections (accepted, whatever was sent on them) and
/// records requests.
struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(ip: &str, respond: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind((ip, 0)).expect("bind a loopback test server");
        let addr = listener.local_addr().expect("local address");
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (count, log) = (connections.clone(), seen.clone());
        let respond: Arc<Respond> = Arc::new(Box::new(respond));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let (log, respond) = (log.clone(), respond.clone());
                std::thread::spawn(move || {
                    if let Some(req) = read_request(&stream) {
                        let reply = respond(&req);
                        log.lock().expect("log lock").push(req);
                        let _ = stream.write_all(&reply);
                    }
                });
            }
        });
        Server {
            addr,
            connections,
            seen,
        }
    }

    /// A server that answers 200 with the request body.
    fn echo(ip: &str) -> Server {
        Server::start(ip, |req| response("200 OK", &[], &req.body))
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("log lock").clone()
    }

    fn paths(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }

    /// Assert that nothing ever connected. Connections are accepted in order, so once a probe
    /// connection of our own has been counted, any earlier one would have been too.
    fn assert_untouched(&self) {
        drop(TcpStream::connect(self.addr).expect("probe connection"));
        let start = Instant::now();
        while self.connections.load(Ordering::SeqCst) == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "probe never accepted"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            self.connections.load(Ordering::SeqCst),
            1,
            "the refused server saw a connection"
        );
        assert!(self.requests().is_empty(), "{:?}", self.requests());
    }
}

fn redirect(code: u16, location: &str) -> Vec<u8> {
    let reason = match code {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        _ => "Redirect",
    };
    response(
        &format!("{code} {reason}"),
        &[("Location", location)],
        b"moved",
    )
}

fn client(hosts: &[&str]) -> HttpClient {
    HttpClient::new(config(hosts))
}

fn config(hosts: &[&str]) -> HttpClientConfig {
    HttpClientConfig {
        allow_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        timeout: Duration::from_secs(10),
        ..HttpClientConfig::default()
    }
}

fn get(url: &str) -> HttpRequest {
    HttpRequest {
        url: url.to_string(),
        ..HttpRequest::default()
    }
}

fn send(client: &HttpClient, request: HttpRequest) -> Result<HttpResponse, HttpClientError> {
    client.send(&CallContext::new(), request)
}

fn refused(client: &HttpClient, request: HttpRequest) -> HttpClientError {
    let url = request.url.clone();
    match send(client, request) {
        Err(err) => err,
        Ok(rsp) => panic!("{url} was sent: {rsp:?}"),
    }
}

fn sent(client: &HttpClient, request: HttpRequest) -> HttpResponse {
    let url = request.url.clone();
    match send(client, request) {
        Ok(rsp) => rsp,
        Err(err) => panic!("{url} was refused: {err:?}"),
    }
}

fn not_allowed(host: &str) -> HttpClientError {
    HttpClientError::Denied(Denied::HostNotAllowed {
        host: host.to_string(),
    })
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

#[test]
fn redirects_off_the_list_are_refused_for_every_redirect_status() {
    let evil = Server::echo("127.0.0.2");
    let target = evil.url("/stolen");
    let to_evil = target.clone();
    let allowed = Server::start("127.0.0.1", move |req| {
        let code = req.path.trim_start_matches('/').parse().unwrap_or(302);
        redirect(code, &to_evil)
    });
    let client = client(&["127.0.0.1"]);
    for code in [301, 302, 303, 307, 308] {
        let request = HttpRequest {
            method: "POST".to_string(),
            url: allowed.url(&format!("/{code}")),
            body: b"secret".to_vec(),
            ..HttpRequest::default()
        };
        assert_eq!(
            refused(&client, request),
            HttpClientError::RedirectDenied {
                location: target.clone(),
                reason: Denied::HostNotAllowed {
                    host: "127.0.0.2".to_string()
                },
            },
            "{code}"
        );
    }
    assert_eq!(allowed.paths(), ["/301", "/302", "/303", "/307", "/308"]);
    evil.assert_untouched();
}

#[test]
fn every_hop_of_a_chain_is_checked() {
    let evil = Server::echo("127.0.0.2");
    let to_evil = evil.url("/");
    let allowed = Server::start("127.0.0.1", move |req| match req.path.as_str() {
        "/a" => redirect(302, "/b"),
        "/b" => redirect(307, "c"),
        _ => redirect(308, &to_evil),
    });
    let err = refused(&client(&["127.0.0.1"]), get(&allowed.url("/a")));
    assert_eq!(
        err,
        HttpClientError::RedirectDenied {
            location: evil.url("/"),
            reason: Denied::HostNotAllowed {
                host: "127.0.0.2".to_string()
            },
        }
    );
    assert_eq!(allowed.paths(), ["/a", "/b", "/c"]);
    evil.assert_untouched();
}

#[test]
fn redirects_to_refused_urls_are_refused_like_the_first_url() {
    let evil = Server::echo("127.0.0.2");
    let e = evil.port();
    let refusals = [
        (
            format!("http://127.0.0.1:80@127.0.0.2:{e}/"),
            Denied::Userinfo,
        ),
        (
            format!("http://2130706434:{e}/"),
            Denied::NonCanonicalAddress {
                host: "2130706434".to_string(),
            },
        ),
        (
            format!("http://[::ffff:127.0.0.2]:{e}/"),
            Denied::HostNotAllowed {
                host: "127.0.0.2".to_string(),
            },
        ),
        (
            "file:///etc/passwd".to_string(),
            Denied::Scheme {
                scheme: "file".to_string(),
            },
        ),
        (
            format!("gopher://127.0.0.2:{e}/_GET"),
            Denied::Scheme {
                scheme: "gopher".to_string(),
            },
        ),
        (
            "javascript:alert(1)".to_string(),
            Denied::Scheme {
                scheme: "javascript".to_string(),
            },
        ),
        (
            "data:text/plain,hi".to_string(),
            Denied::Scheme {
                scheme: "data".to_string(),
            },
        ),
    ];
    // Path `/<i>` redirects to the i-th location.
    let locations: Vec<String> = refusals
        .iter()
        .map(|(location, _)| location.clone())
        .chain(["http://[::1".to_string()])
        .collect();
    let allowed = Server::start("127.0.0.1", move |req| {
        let i: usize = req.path.trim_start_matches('/').parse().unwrap_or(0);
        redirect(302, &locations[i])
    });
    let client = client(&["127.0.0.1"]);
    for (i, (location, reason)) in refusals.into_iter().enumerate() {
        assert_eq!(
            refused(&client, get(&allowed.url(&format!("/{i}")))),
            HttpClientError::RedirectDenied { location, reason }
        );
    }
    // A Location that is no URL at all.
    let last = allowed.url(&format!("/{}", 7));
    assert_eq!(
        refused(&client, get(&last)),
        HttpClientError::InvalidRedirect {
            location: "http://[::1".to_string()
        }
    );
    evil.assert_untouched();
}

#[test]
fn a_redirect_to_a_wildcard_name_on_loopback_is_refused_at_resolution() {
    // `localhost` is allowed by the wildcard only, and resolves to loopback (127.0.0.1), which
    // is not listed; the redirecting server's own address is.
    let evil = Server::echo("127.0.0.1");
    let location = format!("http://localhost:{}/", evil.port());
    let to = location.clone();
    let allowed = Server::start("127.0.0.2", move |_| redirect(302, &to));
    let err = refused(&client(&["127.0.0.2", "*"]), get(&allowed.url("/")));
    assert_eq!(
        err,
        HttpClientError::RedirectDenied {
            location,
            reason: Denied::NonPublicAddress {
                host: "localhost".to_string(),
                addr: ip("127.0.0.1"),
            },
        }
    );
    evil.assert_untouched();
}

#[test]
fn redirect_loops_stop_at_the_cap() {
    let looping = Server::start("127.0.0.1", |_| redirect(302, "/loop"));
    let err = refused(&client(&["127.0.0.1"]), get(&looping.url("/loop")));
    assert_eq!(err, HttpClientError::TooManyRedirects { limit: 5 });
    assert_eq!(err.code(), 500);
    // The first request and five redirects; the sixth redirect is not followed.
    assert_eq!(looping.paths().len(), 6);

    let two = HttpClient::new(HttpClientConfig {
        max_redirects: 2,
        ..config(&["127.0.0.1"])
    });
    let err = refused(&two, get(&looping.url("/loop")));
    assert_eq!(err, HttpClientError::TooManyRedirects { limit: 2 });
    assert_eq!(looping.paths().len(), 6 + 3);
}

#[test]
fn with_no_redirects_allowed_the_guest_gets_the_redirect() {
    let evil = Server::echo("127.0.0.2");
    let to_evil = evil.url("/");
    let allowed = Server::start("127.0.0.1", move |_| redirect(301, &to_evil));
    let none = HttpClient::new(HttpClientConfig {
        max_redirects: 0,
        ..config(&["127.0.0.1"])
    });
    let rsp = sent(&none, get(&allowed.url("/")));
    assert_eq!(rsp.code, 301);
    assert_eq!(rsp.headers["location"], [evil.url("/")]);
    assert_eq!(rsp.body, b"moved");
    evil.assert_untouched();
}

#[test]
fn redirects_within_the_list_follow_go_semantics() {
    // `other` is another origin: same address, another port and host name.
    let other = Server::start("127.0.0.1", |req| response("200 OK", &[], &req.body));
    let other_url = format!("http://localhost:{}/other", other.port());
    let server = Server::start("127.0.0.1", move |req| match req.path.as_str() {
        "/301" => redirect(301, "/echo"),
        "/302" => redirect(302, "echo"),
        "/303" => redirect(303, "./echo?q=1"),
        "/307" => redirect(307, "/echo"),
        "/308" => redirect(308, &other_url),
        _ => response("200 OK", &[], &req.body),
    });
    let client = client(&["127.0.0.1", "localhost"]);
    let request = |method: &str, path: &str| HttpRequest {
        method: method.to_string(),
        url: server.url(path),
        headers: vec![
            ("Authorization".to_string(), "Bearer t".to_string()),
            ("Cookie".to_string(), "a=b".to_string()),
            ("Content-Type".to_string(), "text/plain".to_string()),
            ("X-Other".to_string(), "kept".to_string()),
        ],
        body: b"payload".to_vec(),
        insecure: false,
    };
    // (request method, path) -> (method, path, body) of the follow-up on the same origin.
    let cases = [
        ("POST", "/301", "GET", "/echo", &b""[..]),
        ("POST", "/302", "GET", "/echo", b""),
        ("PUT", "/302", "PUT", "/echo", b""),
        ("PUT", "/303", "GET", "/echo?q=1", b""),
        ("POST", "/307", "POST", "/echo", b"payload"),
    ];
    for (method, path, next_method, next_path, next_body) in cases {
        let rsp = sent(&client, request(method, path));
        assert_eq!((rsp.code, rsp.body.as_slice()), (200, next_body), "{path}");
        let seen = server.requests();
        let follow_up = seen.last().expect("a follow-up request");
        assert_eq!(
            (follow_up.method.as_str(), follow_up.path.as_str()),
            (next_method, next_path),
            "{method} {path}"
        );
        assert_eq!(follow_up.body, next_body, "{method} {path}");
        // Same origin: the credentials follow; the body's type only with the body.
        assert_eq!(follow_up.header("authorization"), Some("Bearer t"));
        assert_eq!(follow_up.header("cookie"), Some("a=b"));
        assert_eq!(
            follow_up.header("content-type").is_some(),
            !next_body.is_empty(),
            "{method} {path}"
        );
    }
    // Another origin: method and body kept (308), credentials dropped.
    let rsp = sent(&client, request("POST", "/308"));
    assert_eq!((rsp.code, rsp.body.as_slice()), (200, &b"payload"[..]));
    let seen = other.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/other")
    );
    assert_eq!(seen[0].header("authorization"), None);
    assert_eq!(seen[0].header("cookie"), None);
    assert_eq!(seen[0].header("x-other"), Some("kept"));
    assert_eq!(
        seen[0].header("host"),
        Some(&*format!("localhost:{}", other.port()))
    );
}

#[test]
fn user_information_is_refused_outright() {
    let allowed = Server::echo("127.0.0.1");
    let evil = Server::echo("127.0.0.2");
    let (a, e) = (allowed.port(), evil.port());
    let client = client(&["127.0.0.1"]);
    for url in [
        format!("http://127.0.0.1:{a}@127.0.0.2:{e}/"),
        format!("http://127.0.0.1@127.0.0.2:{e}/"),
        format!("http://127.0.0.1:{a}%2f@127.0.0.2:{e}/"),
        format!("http://127.0.0.2@127.0.0.1:{a}/"),
        format!("http://user:pass@127.0.0.1:{a}/"),
    ] {
        assert_eq!(
            refused(&client, get(&url)),
            HttpClientError::Denied(Denied::Userinfo),
            "{url}"
        );
    }
    // A `#` ends the authority: the host is the one before it, and it is off the list.
    let url = format!("http://127.0.0.2:{e}#@127.0.0.1:{a}/");
    assert_eq!(refused(&client, get(&url)), not_allowed("127.0.0.2"));
    // Backslashes are not URL characters to this parser (WHATWG would read them as `/`).
    for url in [
        format!("http://127.0.0.1:{a}\\@127.0.0.2:{e}/"),
        format!("http://127.0.0.2:{e}\\@127.0.0.1:{a}/"),
        format!("http://127.0.0.1:{a}\\\\127.0.0.2:{e}/"),
    ] {
        assert_eq!(
            refused(&client, get(&url)),
            HttpClientError::InvalidRequest {
                reason: "invalid uri character".to_string()
            },
            "{url}"
        );
    }
    allowed.assert_untouched();
    evil.assert_untouched();
}

#[test]
fn case_and_trailing_dot_variants_get_the_same_decision() {
    let server = Server::echo("127.0.0.1");
    let p = server.port();
    let variants = [
        format!("http://localhost:{p}/"),
        format!("http://LOCALHOST:{p}/"),
        format!("http://LocalHost.:{p}/"),
        format!("http://localhost.:{p}/"),
    ];
    for entry in ["localhost", "LOCALHOST.", "LocalHost"] {
        let exact = client(&[entry]);
        for url in &variants {
            assert_eq!(sent(&exact, get(url)).code, 200, "{entry}: {url}");
        }
    }
    assert_eq!(server.requests().len(), 3 * variants.len());

    let refused_server = Server::echo("127.0.0.1");
    let p = refused_server.port();
    for url in [
        format!("http://localhost:{p}/"),
        format!("http://LOCALHOST.:{p}/"),
    ] {
        assert_eq!(
            refused(&client(&["127.0.0.1"]), get(&url)),
            not_allowed("localhost")
        );
        assert_eq!(
            refused(&client(&["*"]), get(&url)),
            HttpClientError::Denied(Denied::NonPublicAddress {
                host: "localhost".to_string(),
                addr: ip("127.0.0.1"),
            })
        );
    }
    refused_server.assert_untouched();
}

#[test]
fn ip_literal_spellings_cannot_name_hosts_off_the_list() {
    let evil = Server::echo("127.0.0.2");
    let e = evil.port();
    let non_canonical = [
        "2130706434",
        "0177.0.0.2",
        "0x7f.2",
        "0x7f000002",
        "127.2",
        "127.0.2",
        "0177.0.0.02",
    ];
    for hosts in [&["127.0.0.1"][..], &["*"], &["127.0.0.1", "*.0.0.2"]] {
        let client = client(hosts);
        for host in non_canonical {
            let url = format!("http://{host}:{e}/");
            assert_eq!(
                refused(&client, get(&url)),
                HttpClientError::Denied(Denied::NonCanonicalAddress {
                    host: host.to_string()
                }),
                "{hosts:?} {url}"
            );
        }
    }
    // IPv6 forms: mapped is the IPv4 address itself; compatible and NAT64 are other hosts.
    let v6 = [
        ("[::ffff:127.0.0.2]", "127.0.0.2"),
        ("[::ffff:7f00:2]", "127.0.0.2"),
        ("[::127.0.0.2]", "::7f00:2"),
        ("[64:ff9b::127.0.0.2]", "64:ff9b::7f00:2"),
    ];
    let exact = client(&["127.0.0.1"]);
    let any = client(&["*"]);
    for (literal, host) in v6 {
        let url = format!("http://{literal}:{e}/");
        assert_eq!(refused(&exact, get(&url)), not_allowed(host), "{url}");
        assert_eq!(
            refused(&any, get(&url)),
            HttpClientError::Denied(Denied::NonPublicAddress {
                host: host.to_string(),
                addr: ip(host),
            }),
            "{url}"
        );
    }
    // The canonical address under the wildcard: loopback is not public.
    assert_eq!(
        refused(&any, get(&format!("http://127.0.0.2:{e}/"))),
        HttpClientError::Denied(Denied::NonPublicAddress {
            host: "127.0.0.2".to_string(),
            addr: ip("127.0.0.2"),
        })
    );
    evil.assert_untouched();

    // The mapped form of an allowed address is that address, and is connected to as IPv4.
    let allowed = Server::echo("127.0.0.1");
    let url = format!("http://[::ffff:127.0.0.1]:{}/", allowed.port());
    assert_eq!(sent(&exact, get(&url)).code, 200);
    assert_eq!(allowed.requests().len(), 1);
}

#[test]
fn names_that_resolve_to_loopback_need_an_exact_entry() {
    let server = Server::echo("127.0.0.1");
    let url = format!("http://localhost:{}/", server.port());
    for hosts in [&["*"][..], &["*", "*.localhost", "127.0.0.2"]] {
        assert_eq!(
            refused(&client(hosts), get(&url)),
            HttpClientError::Denied(Denied::NonPublicAddress {
                host: "localhost".to_string(),
                addr: ip("127.0.0.1"),
            }),
            "{hosts:?}"
        );
    }
    server.assert_untouched();
    // Loopback granted: the name itself, or the address it resolves to, is listed exactly.
    assert_eq!(sent(&client(&["localhost"]), get(&url)).code, 200);
    assert_eq!(sent(&client(&["*", "127.0.0.1"]), get(&url)).code, 200);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn non_http_schemes_are_refused() {
    let evil = Server::echo("127.0.0.2");
    let e = evil.port();
    let client = client(&["127.0.0.2", "*"]);
    for url in [
        "file:///etc/passwd".to_string(),
        "FILE:///etc/passwd".to_string(),
        format!("ftp://127.0.0.2:{e}/x"),
        format!("gopher://127.0.0.2:{e}/_GET%20/%20HTTP/1.0%0d%0a"),
        format!("ws://127.0.0.2:{e}/"),
        format!("dict://127.0.0.2:{e}/info"),
        "data:text/plain,hi".to_string(),
        "data:text/html;base64,PHNjcmlwdD4=".to_string(),
        "javascript:alert(1)".to_string(),
        format!("//127.0.0.2:{e}/"),
        format!("127.0.0.2:{e}"),
    ] {
        assert_eq!(
            refused(&client, get(&url)),
            HttpClientError::UnsupportedUrl { url: url.clone() },
            "{url}"
        );
    }
    evil.assert_untouched();
}

#[test]
fn the_guests_host_header_is_not_sent() {
    let server = Server::echo("127.0.0.1");
    let request = HttpRequest {
        url: server.url("/"),
        headers: vec![("Host".to_string(), "internal.example".to_string())],
        ..HttpRequest::default()
    };
    assert_eq!(sent(&client(&["127.0.0.1"]), request).code, 200);
    let seen = server.requests();
    let hosts: Vec<&str> = seen[0]
        .headers
        .iter()
        .filter(|(k, _)| k == "host")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(hosts, [server.addr.to_string()]);
}

#[test]
fn refusals_are_403_on_the_wire() {
    let evil = Server::echo("127.0.0.2");
    let to_evil = evil.url("/");
    let allowed = Server::start("127.0.0.1", move |_| redirect(302, &to_evil));
    let router = Router::new();
    router
        .register_namespace("httpclient", client(&["127.0.0.1"]))
        .expect("register");
    let call = |url: String| {
        let payload = json!({"method": "GET", "url": url}).to_string();
        router
            .call(
                &CallContext::new(),
                "tarmac",
                "httpclient",
                "call",
                payload.as_bytes(),
            )
            .unwrap_err()
    };
    let cases = [
        (
            allowed.url("/"),
            format!(
                "HTTP request denied - redirect to '{}': host '127.0.0.2' is not on the allow-list",
                evil.url("/")
            ),
        ),
        (
            format!("http://127.0.0.1@127.0.0.2:{}/", evil.port()),
            "HTTP request denied - URLs with user information are refused (send credentials \
             in a header)"
                .to_string(),
        ),
        (
            format!("http://2130706434:{}/", evil.port()),
            "HTTP request denied - host '2130706434' is an IPv4 address in a non-canonical \
             form (write a dotted quad)"
                .to_string(),
        ),
    ];
    for (url, message) in cases {
        match call(url.clone()) {
            CallError::ProviderFailed {
                message: got,
                payload: Some(payload),
            } => {
                assert_eq!(got, message, "{url}");
                let envelope: Value = serde_json::from_slice(&payload).expect("JSON envelope");
                assert_eq!(
                    envelope,
                    json!({"status": {"code": 403, "status": message}, "code": 0, "headers": {}, "body": ""}),
                    "{url}"
                );
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    evil.assert_untouched();
}
