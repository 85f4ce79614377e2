//! httpclient against a real HTTP server on loopback, started by each test.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use serde_json::{json, Value};
use switchboard::{CallContext, CallError, Router};
use switchboard_providers::httpclient::{HttpClient, HttpClientConfig, TRUNCATED_HEADER};
use switchboard_providers::wire::json::{b64_decode, b64_encode};
use switchboard_providers::wire::proto;

mod support;
use support::{read_request, response, Seen};

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serve every connection with `respond(request) -> raw HTTP response`.
    fn start(respond: fn(&Seen) -> Vec<u8>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                if let Some(req) = read_request(&stream) {
                    let reply = respond(&req);
                    log.lock().unwrap().push(req);
                    let mut stream = stream;
                    let _ = stream.write_all(&reply);
                }
            }
        });
        Server { addr, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn echo(req: &Seen) -> Vec<u8> {
    match req.path.as_str() {
        "/missing" => response("404 Not Found", &[], b"nope"),
        "/big" => response("200 OK", &[], &[b'x'; 100]),
        "/redirect-out" => response("302 Found", &[("Location", "http://localhost:1/")], b""),
        _ => response(
            "200 OK",
            &[
                ("X-Multi", "a"),
                ("X-Multi", "b"),
                ("Content-Type", "text/plain"),
            ],
            &req.body,
        ),
    }
}

fn router(config: HttpClientConfig) -> Router {
    let router = Router::new();
    router
        .register_namespace("httpclient", HttpClient::new(config))
        .unwrap();
    router
}

fn allow(hosts: &[&str]) -> HttpClientConfig {
    HttpClientConfig {
        allow_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..HttpClientConfig::default()
    }
}

fn call(router: &Router, payload: &[u8]) -> Result<Vec<u8>, CallError> {
    router.call(&CallContext::new(), "tarmac", "httpclient", "call", payload)
}

fn failed_message(err: CallError) -> String {
    match err {
        CallError::ProviderFailed { message, .. } => message,
        other => panic!("expected ProviderFailed, got {other:?}"),
    }
}

#[test]
fn json_request_round_trip() {
    let server = Server::start(echo);
    let r = router(allow(&["127.0.0.1"]));
    let payload = json!({
        "method": "POST",
        "url": server.url("/echo"),
        "headers": {"X-Token": "t1"},
        "body": b64_encode(b"\x00hello\xff"),
    });
    let out = call(&r, payload.to_string().as_bytes()).unwrap();
    let rsp: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(rsp["status"], json!({"code": 200, "status": "OK"}));
    assert_eq!(rsp["code"], json!(200));
    assert_eq!(rsp["headers"]["x-multi"], json!("a, b"));
    assert_eq!(rsp["headers"]["content-type"], json!("text/plain"));
    assert_eq!(
        b64_decode(rsp["body"].as_str().unwrap()).unwrap(),
        b"\x00hello\xff"
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/echo");
    assert_eq!(seen[0].body, b"\x00hello\xff");
    assert!(seen[0]
        .headers
        .contains(&("x-token".to_string(), "t1".to_string())));
}

#[test]
fn protobuf_request_with_multi_value_headers() {
    let server = Server::start(echo);
    let r = router(allow(&["127.0.0.1"]));
    let mut headers = BTreeMap::new();
    headers.insert(
        "X-Values".to_string(),
        proto::Header {
            values: vec!["one".to_string(), "two".to_string()],
        },
    );
    let payload = proto::HttpClient {
        method: "PUT".to_string(),
        headers,
        url: server.url("/put"),
        body: b"data".to_vec(),
        insecure: false,
    }
    .encode_to_vec();
    let out = call(&r, &payload).unwrap();
    let rsp = proto::HttpClientResponse::decode(&out[..]).unwrap();
    assert_eq!(
        rsp.status,
        Some(proto::Status {
            code: 200,
            status: "OK".to_string()
        })
    );
    assert_eq!(rsp.code, 200);
    assert_eq!(rsp.body, b"data");
    assert_eq!(rsp.headers["x-multi"].values, ["a", "b"]);
    assert!(rsp.headers.keys().all(|k| *k == k.to_ascii_lowercase()));
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "PUT");
    let values: Vec<&str> = seen
        .headers
        .iter()
        .filter(|(k, _)| k == "x-values")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(values, ["one", "two"]);
}

#[test]
fn remote_error_status_is_a_successful_call() {
    let server = Server::start(echo);
    let r = router(allow(&["127.0.0.1"]));
    let payload = json!({"method": "GET", "url": server.url("/missing")});
    let rsp: Value =
        serde_json::from_slice(&call(&r, payload.to_string().as_bytes()).unwrap()).unwrap();
    assert_eq!(rsp["code"], json!(404));
    assert_eq!(rsp["body"], json!(b64_encode(b"nope")));
    // An empty method is GET, as in Go.
    let payload = json!({"url": server.url("/missing")});
    call(&r, payload.to_string().as_bytes()).unwrap();
    assert_eq!(server.requests()[1].method, "GET");
}

#[test]
fn body_over_the_cap_is_cut_and_flagged() {
    let server = Server::start(echo);
    let r = router(HttpClientConfig {
        max_response_bytes: 10,
        ..allow(&["127.0.0.1"])
    });
    let payload = json!({"method": "GET", "url": server.url("/big")});
    let rsp: Value =
        serde_json::from_slice(&call(&r, payload.to_string().as_bytes()).unwrap()).unwrap();
    assert_eq!(
        b64_decode(rsp["body"].as_str().unwrap()).unwrap(),
        [b'x'; 10]
    );
    assert_eq!(rsp["headers"][TRUNCATED_HEADER], json!("true"));
    // At the cap exactly: not flagged.
    let r = router(HttpClientConfig {
        max_response_bytes: 100,
        ..allow(&["127.0.0.1"])
    });
    let rsp: Value =
        serde_json::from_slice(&call(&r, payload.to_string().as_bytes()).unwrap()).unwrap();
    assert_eq!(rsp["headers"].get(TRUNCATED_HEADER), None);
}

#[test]
fn hosts_are_denied_by_default_and_wildcards_never_reach_loopback() {
    let server = Server::start(echo);
    let url = server.url("/echo");
    let payload = json!({"method": "GET", "url": url}).to_string();

    let denied = "HTTP request denied - host '127.0.0.1' is not on the allow-list";
    let err = call(&router(HttpClientConfig::default()), payload.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CallError::ProviderFailed {
            message: denied.to_string(),
            payload: Some(
                format!(
                    r#"{{"status":{{"code":403,"status":"{denied}"}},"code":0,"headers":{{}},"body":""}}"#
                )
                .into_bytes()
            ),
        }
    );
    let err = call(&router(allow(&["*"])), payload.as_bytes()).unwrap_err();
    assert_eq!(
        failed_message(err),
        "HTTP request denied - host '127.0.0.1' resolves to non-public address 127.0.0.1 and \
         is not listed explicitly"
    );
    let err = call(&router(allow(&["*.0.0.1"])), payload.as_bytes()).unwrap_err();
    assert!(failed_message(err).contains("non-public"));
    // A redirect to a host off the list is refused before it is followed.
    let redirect = json!({"method": "GET", "url": server.url("/redirect-out")}).to_string();
    let err = call(&router(allow(&["127.0.0.1"])), redirect.as_bytes()).unwrap_err();
    assert_eq!(
        failed_message(err),
        "HTTP request denied - redirect to 'http://localhost:1/': host 'localhost' is not on \
         the allow-list"
    );
    // Nothing denied ever reached the server.
    assert!(server.requests().iter().all(|r| r.path == "/redirect-out"));
    // An explicitly listed loopback name works.
    let by_name =
        json!({"method": "GET", "url": format!("http://localhost:{}/x", server.addr.port())});
    let out = call(
        &router(allow(&["localhost"])),
        by_name.to_string().as_bytes(),
    );
    assert!(out.is_ok(), "{out:?}");
}

#[test]
fn bad_requests_have_tarmac_statuses() {
    let r = router(allow(&["127.0.0.1"]));
    let cases: [(&[u8], &str); 6] = [
        (b"{not json", "Error Parsing Input"),
        (
            br#"{"url":"http://127.0.0.1:1/","body":"%%"}"#,
            "Unable to decode data - Invalid symbol 37, offset 0.",
        ),
        (
            br#"{"url":"ftp://127.0.0.1/x"}"#,
            "Unable to create HTTP request - unsupported URL 'ftp://127.0.0.1/x'",
        ),
        (
            br#"{"url":"not a url"}"#,
            "Unable to create HTTP request - invalid uri character",
        ),
        (
            br#"{"method":"GE T","url":"http://127.0.0.1:1/"}"#,
            "Unable to create HTTP request - invalid method 'GE T'",
        ),
        (
            br#"{"url":"http://127.0.0.1:1/","headers":{"bad header":"v"}}"#,
            "Unable to create HTTP request - invalid header name 'bad header'",
        ),
    ];
    for (payload, message) in cases {
        assert_eq!(failed_message(call(&r, payload).unwrap_err()), message);
    }
    assert_eq!(
        failed_message(call(&r, &[0x0a, 0x05, b'G']).unwrap_err()),
        "Error Parsing Input"
    );
    assert_eq!(
        r.call(&CallContext::new(), "tarmac", "httpclient", "get", b"")
            .unwrap_err(),
        CallError::UnknownOperation("get".to_string())
    );
}

#[test]
fn connection_failures_and_timeouts_are_500() {
    // A port that was just free: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let r = router(allow(&["127.0.0.1"]));
    let payload = json!({"url": format!("http://{closed}/")}).to_string();
    let msg = failed_message(call(&r, payload.as_bytes()).unwrap_err());
    assert!(
        msg.starts_with("Unable to execute HTTP request - "),
        "{msg}"
    );

    // A server that accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let r = router(HttpClientConfig {
        timeout: Duration::from_millis(200),
        ..allow(&["127.0.0.1"])
    });
    let payload = json!({"url": format!("http://{}/", silent.local_addr().unwrap())}).to_string();
    let msg = failed_message(call(&r, payload.as_bytes()).unwrap_err());
    assert!(
        msg.starts_with("Unable to execute HTTP request - timeout"),
        "{msg}"
    );
    drop(silent);
}

/// An HTTPS server with a fresh self-signed certificate for `localhost`; answers `200 secure`.
fn start_tls_server() -> SocketAddr {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            // A client that rejects the certificate ends the handshake: nothing to answer.
            if read_request(&mut tls).is_some() {
                let _ = tls.write_all(&response("200 OK", &[], b"secure"));
                let _ = tls.flush();
            }
        }
    });
    addr
}

#[test]
fn https_verifies_certificates_and_insecure_needs_configuration() {
    let addr = start_tls_server();
    let url = format!("https://localhost:{}/", addr.port());
    let insecure = json!({"url": url, "insecure": true}).to_string();
    let verified = json!({"url": url}).to_string();

    // Allowed by configuration: the self-signed certificate is accepted.
    let lax = router(HttpClientConfig {
        allow_insecure: true,
        ..allow(&["localhost"])
    });
    let rsp: Value = serde_json::from_slice(&call(&lax, insecure.as_bytes()).unwrap()).unwrap();
    assert_eq!(rsp["code"], json!(200));
    assert_eq!(rsp["body"], json!(b64_encode(b"secure")));
    // Without `insecure` the certificate is still verified, and fails.
    let msg = failed_message(call(&lax, verified.as_bytes()).unwrap_err());
    assert!(
        msg.starts_with("Unable to execute HTTP request - "),
        "{msg}"
    );

    // Not allowed by configuration: `insecure` is ignored and verification fails.
    let strict = router(allow(&["localhost"]));
    let msg = failed_message(call(&strict, insecure.as_bytes()).unwrap_err());
    assert!(
        msg.starts_with("Unable to execute HTTP request - ") && msg.contains("certificate"),
        "{msg}"
    );
}
