//! A Tarmac function (tests/fixtures/tarmac-guest) run unchanged through the real `switchboard`
//! binary with a config on the embedded defaults: redb kvstore and SQLite in a temp data dir.
//!
//! Every operation is driven in the Go SDK's JSON and the standalone SDK's protobuf, and the
//! guest hands back the host's raw answer (`ok:<bytes>`) or the failed host call's error
//! (`err:Host error: <status text>`), so every byte is asserted. Expected protobuf answers are
//! encoded here with independent prost messages (and the spec's test vectors). Each step is a
//! separate process, so the stores' persistence is exercised too.
//!
//! Needs `bash scripts/build-fixtures.sh`. The Redis and
//! PostgreSQL test needs `SWITCHBOARD_TEST_REDIS_URL` / `SWITCHBOARD_TEST_POSTGRES_URL`
//! (`scripts/test.sh` starts both servers); it uses Redis database 2, its own.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use prost::Message;
use serde_json::{json, Value};
use switchboard_tests::Fixture;

// --- The binary under test ---

/// The `switchboard` binary cargo built for this test (same profile and feature set), after
/// compiling the guest into the shared cache once: on a cold cache every test would otherwise
/// compile it at the same time.
fn switchboard_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_switchboard"));
        // The run's outcome does not matter (no config: the guest's host calls fail), only the
        // cache.
        let _ = Command::new(&bin)
            .args(["run"])
            .arg(Fixture::TarmacGuest.require())
            .args(["handler", "{}"])
            .env_remove("RUST_LOG")
            .env("SWITCHBOARD_CACHE_DIR", test_cache_dir())
            .stdin(Stdio::null())
            .output();
        bin
    })
}

/// Where the suite's runs cache compiled guests (under target/, never the user's home).
fn test_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-cache")
}

/// A config in a temp dir (its data dir `.switchboard` lands there too).
struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    /// A config with `body` as its text.
    fn new(body: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("switchboard.toml");
        std::fs::write(&config, body).expect("write config");
        Env { dir, config }
    }

    /// The embedded defaults, plus the guest itself as function `self`.
    fn with_self_function() -> Env {
        let guest = Fixture::TarmacGuest.require();
        Env::new(&format!(
            "[preset.tarmac]\n\n[function.self]\nguest = {:?}\n",
            guest.to_str().expect("UTF-8 fixture path")
        ))
    }

    fn embedded() -> Env {
        Env::new("[preset.tarmac]\n")
    }

    fn switchboard(&self, extra: &[&str], command: &Value) -> Output {
        let guest = Fixture::TarmacGuest.require();
        Command::new(switchboard_bin())
            .arg("run")
            .arg(&guest)
            .arg("handler")
            .arg(command.to_string())
            .arg("--config")
            .arg(&self.config)
            .args(extra)
            .env_remove("RUST_LOG")
            // One compile of the guest for the whole suite, kept under target/.
            .env("SWITCHBOARD_CACHE_DIR", test_cache_dir())
            .stdin(Stdio::null())
            .output()
            .expect("switchboard runs")
    }

    /// Run one command; the process must succeed; its stdout is the guest's answer.
    fn run(&self, command: Value) -> Vec<u8> {
        let out = self.switchboard(&[], &command);
        assert!(
            out.status.success(),
            "switchboard failed for {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

fn ok(response: &[u8]) -> Vec<u8> {
    [b"ok:".as_slice(), response].concat()
}

fn err(message: &str) -> Vec<u8> {
    format!("err:Host error: {message}").into_bytes()
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Assert bytes, printing both sides as text on failure.
#[track_caller]
fn same(actual: Vec<u8>, expected: Vec<u8>) {
    assert_eq!(show(&actual), show(&expected));
    assert_eq!(actual, expected);
}

const OK_JSON: &str = r#"{"code":200,"status":"OK"}"#;

fn json_ok(rest: &str) -> Vec<u8> {
    ok(format!(r#"{{"status":{OK_JSON}{rest}}}"#).as_bytes())
}

// --- Tarmac's protobuf responses, written independently of the providers crate ---

#[derive(Clone, PartialEq, Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    status: String,
}

fn status_ok() -> Option<Status> {
    Some(Status {
        code: 200,
        status: "OK".to_string(),
    })
}

#[derive(Clone, PartialEq, Message)]
struct StatusOnly {
    #[prost(message, optional, tag = "1")]
    status: Option<Status>,
}

#[derive(Clone, PartialEq, Message)]
struct KvGetResponse {
    #[prost(message, optional, tag = "1")]
    status: Option<Status>,
    #[prost(bytes = "vec", tag = "2")]
    data: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct KvKeysResponse {
    #[prost(message, optional, tag = "1")]
    status: Option<Status>,
    #[prost(string, repeated, tag = "2")]
    keys: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct SqlQueryResponse {
    #[prost(message, optional, tag = "1")]
    status: Option<Status>,
    #[prost(string, repeated, tag = "4")]
    columns: Vec<String>,
    #[prost(bytes = "vec", tag = "5")]
    data: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct SqlExecResponse {
    #[prost(message, optional, tag = "1")]
    status: Option<Status>,
    #[prost(int64, tag = "2")]
    last_insert_id: i64,
    #[prost(int64, tag = "3")]
    rows_affected: i64,
}

#[derive(Clone, PartialEq, Message)]
struct Header {
    #[prost(string, repeated, tag = "1")]
    values: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct HttpResponse {
    #[prost(message, optional, tag = "1")]
    status: Option<Status>,
    #[prost(int32, tag = "2")]
    code: i32,
    #[prost(btree_map = "string, message", tag = "3")]
    headers: BTreeMap<String, Header>,
    #[prost(bytes = "vec", tag = "4")]
    body: Vec<u8>,
}

fn proto_ok(message: &impl Message) -> Vec<u8> {
    ok(&message.encode_to_vec())
}

// --- kvstore ---

/// Values that must round-trip byte-exact: binary (every byte), UTF-8, JSON-looking text, and
/// bytes that look like a protobuf message or a JSON request.
fn tricky_values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("binary", (0..=255u8).collect()),
        ("utf8", "héllo ✓ 世界".as_bytes().to_vec()),
        ("json-looking", br#"{"key":"x","data":null}"#.to_vec()),
        ("empty-object", b"{}".to_vec()),
        (
            "proto-looking",
            vec![0x0a, 0x07, 0x08, 0xc8, 0x01, 0x12, 0x02, 0x4f, 0x4b],
        ),
    ]
}

#[test]
fn kvstore_json_round_trips_byte_exact_across_runs() {
    let env = Env::embedded();
    for (key, value) in tricky_values() {
        let b64 = B64.encode(&value);
        same(
            env.run(json!({"op":"kv.set","key":key,"data_b64":b64})),
            json_ok(""),
        );
    }
    // A fresh process per call: the values come back from the redb file.
    for (key, value) in tricky_values() {
        same(
            env.run(json!({"op":"kv.get","key":key})),
            json_ok(&format!(r#","data":"{}""#, B64.encode(&value))),
        );
    }
    same(
        env.run(json!({"op":"kv.keys"})),
        ok(format!(
            r#"{{"keys":["binary","empty-object","json-looking","proto-looking","utf8"],"status":{OK_JSON}}}"#
        )
        .as_bytes()),
    );
    same(env.run(json!({"op":"kv.delete","key":"utf8"})), json_ok(""));
    same(
        env.run(json!({"op":"kv.get","key":"utf8"})),
        err("Unable to fetch key utf8 - key not found"),
    );
    // Deleting a missing key is not an error (as in Tarmac's stores).
    same(env.run(json!({"op":"kv.delete","key":"utf8"})), json_ok(""));
    // An empty value is a value.
    same(
        env.run(json!({"op":"kv.set","key":"empty","data_b64":""})),
        json_ok(""),
    );
    same(
        env.run(json!({"op":"kv.get","key":"empty"})),
        json_ok(r#","data":"""#),
    );
}

#[test]
fn kvstore_protobuf_round_trips_byte_exact() {
    let env = Env::embedded();
    // The spec's test vectors: Status{200,"OK"} and KVStoreGetResponse{OK, "somedata"}.
    let set_ok = [0x0a, 0x07, 0x08, 0xc8, 0x01, 0x12, 0x02, 0x4f, 0x4b];
    same(
        env.run(json!({"op":"kv.set","enc":"proto","key":"test-data","data_b64":B64.encode("somedata")})),
        ok(&set_ok),
    );
    same(
        env.run(json!({"op":"kv.get","enc":"proto","key":"test-data"})),
        ok(&[
            0x0a, 0x07, 0x08, 0xc8, 0x01, 0x12, 0x02, 0x4f, 0x4b, 0x12, 0x08, 0x73, 0x6f, 0x6d,
            0x65, 0x64, 0x61, 0x74, 0x61,
        ]),
    );
    for (key, value) in tricky_values() {
        same(
            env.run(json!({"op":"kv.set","enc":"proto","key":key,"data_b64":B64.encode(&value)})),
            proto_ok(&StatusOnly {
                status: status_ok(),
            }),
        );
        same(
            env.run(json!({"op":"kv.get","enc":"proto","key":key})),
            proto_ok(&KvGetResponse {
                status: status_ok(),
                data: value,
            }),
        );
    }
    same(
        env.run(json!({"op":"kv.keys","enc":"proto"})),
        proto_ok(&KvKeysResponse {
            status: status_ok(),
            keys: [
                "binary",
                "empty-object",
                "json-looking",
                "proto-looking",
                "test-data",
                "utf8",
            ]
            .map(String::from)
            .to_vec(),
        }),
    );
    same(
        env.run(json!({"op":"kv.delete","enc":"proto","key":"binary"})),
        proto_ok(&StatusOnly {
            status: status_ok(),
        }),
    );
    same(
        env.run(json!({"op":"kv.get","enc":"proto","key":"binary"})),
        err("Unable to fetch key binary - key not found"),
    );
    // A value stored through protobuf reads back identically through JSON.
    same(
        env.run(json!({"op":"kv.get","key":"test-data"})),
        json_ok(r#","data":"c29tZWRhdGE=""#),
    );
}

// --- sql ---

const CREATE: &str =
    "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT, raw BLOB)";

fn exec_ok(rows_affected: i64, last_insert_id: i64) -> Vec<u8> {
    proto_ok(&SqlExecResponse {
        status: status_ok(),
        last_insert_id,
        rows_affected,
    })
}

#[test]
fn sql_exec_and_query_in_json_and_protobuf() {
    let env = Env::embedded();
    same(
        env.run(json!({"op":"sql.exec","query":CREATE})),
        exec_ok(0, 0),
    );
    same(
        env.run(json!({"op":"sql.exec",
            "query":"INSERT INTO people (name, score, note, raw) VALUES ('ada', 1.5, NULL, x'00ff')"})),
        exec_ok(1, 1),
    );
    same(
        env.run(json!({"op":"sql.exec",
            "query":"INSERT INTO people (name, score, note, raw) VALUES ('bob', -2, 'hi \"there\"', NULL)"})),
        exec_ok(1, 2),
    );
    same(
        // Every run is a new connection: SQLite reports no insert id for it (0).
        env.run(json!({"op":"sql.exec","query":"UPDATE people SET score = score + 1"})),
        exec_ok(2, 0),
    );

    // Keys sorted, as Go's json.Marshal writes Tarmac's `map[string]any` rows.
    let rows = r#"[{"id":1,"name":"ada","note":null,"raw":"AP8=","score":2.5},{"id":2,"name":"bob","note":"hi \"there\"","raw":null,"score":-1.0}]"#;
    let query = "SELECT id, name, score, note, raw FROM people ORDER BY id";
    same(
        env.run(json!({"op":"sql.query","query":query})),
        json_ok(&format!(r#","data":"{}""#, B64.encode(rows))),
    );
    same(
        env.run(json!({"op":"sql.query","enc":"proto","query":query})),
        proto_ok(&SqlQueryResponse {
            status: status_ok(),
            columns: ["id", "name", "score", "note", "raw"]
                .map(String::from)
                .to_vec(),
            data: rows.as_bytes().to_vec(),
        }),
    );
    // No rows: an empty array (the spec allows `null` or empty).
    let none = "SELECT id FROM people WHERE id > 100";
    same(
        env.run(json!({"op":"sql.query","query":none})),
        json_ok(&format!(r#","data":"{}""#, B64.encode("[]"))),
    );
}

// --- httpclient ---

/// One HTTP/1.1 exchange on loopback: answers 201 with two `X-Multi` headers and echoes the
/// request (method, path, body) in the response body. Returns the port and the request text.
fn one_shot_server() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let handle = std::thread::spawn(move || {
        // Wait at most 60 s for the request, so a call that never comes fails the test
        // instead of hanging it.
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if std::time::Instant::now() > give_up {
                        return String::new();
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).expect("blocking stream");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("read timeout");
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        // Headers, then the Content-Length body.
        loop {
            let n = stream.read(&mut buf).expect("read request");
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length || n == 0 {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&request).into_owned();
        let first = text.lines().next().unwrap_or_default().to_string();
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let reply = format!("{first}|{body}");
        let response = format!(
            "HTTP/1.1 201 Created\r\nContent-Length: {}\r\nX-Multi: a\r\nX-Multi: b\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
        stream
            .write_all(response.as_bytes())
            .expect("write response");
        text
    });
    (port, handle)
}

fn http_env() -> Env {
    Env::new("[preset.tarmac.httpclient]\nallow_hosts = [\"127.0.0.1\"]\n")
}

#[test]
fn httpclient_json_like_the_go_sdk() {
    let env = http_env();
    let (port, server) = one_shot_server();
    let url = format!("http://127.0.0.1:{port}/echo?q=1");
    let answer = env.run(json!({"op":"http.call","method":"POST","url":url,
        "headers":{"X-Test":"yes"},"body_b64":B64.encode("ping")}));
    let request = server.join().expect("server thread");
    assert!(
        request.starts_with("POST /echo?q=1 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.to_ascii_lowercase().contains("\r\nx-test: yes\r\n"),
        "{request}"
    );
    let reply = "POST /echo?q=1 HTTP/1.1|ping";
    same(
        answer,
        json_ok(&format!(
            r#","code":201,"headers":{{"connection":"close","content-length":"{}","x-multi":"a, b"}},"body":"{}""#,
            reply.len(),
            B64.encode(reply)
        )),
    );

    // The Go SDK sends `null` for a nil header map and a nil body.
    let (port, server) = one_shot_server();
    let answer = env.run(json!({"op":"http.call","method":"GET",
        "url":format!("http://127.0.0.1:{port}/")}));
    server.join().expect("server thread");
    let reply = "GET / HTTP/1.1|";
    same(
        answer,
        json_ok(&format!(
            r#","code":201,"headers":{{"connection":"close","content-length":"{}","x-multi":"a, b"}},"body":"{}""#,
            reply.len(),
            B64.encode(reply)
        )),
    );
}

#[test]
fn httpclient_protobuf_keeps_repeated_headers() {
    let env = http_env();
    let (port, server) = one_shot_server();
    let answer = env.run(json!({"op":"http.call","enc":"proto","method":"PUT",
        "url":format!("http://127.0.0.1:{port}/p"),"body_b64":B64.encode("x")}));
    server.join().expect("server thread");
    let reply = "PUT /p HTTP/1.1|x";
    let header = |values: &[&str]| Header {
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    same(
        answer,
        proto_ok(&HttpResponse {
            status: status_ok(),
            code: 201,
            headers: BTreeMap::from([
                ("connection".to_string(), header(&["close"])),
                (
                    "content-length".to_string(),
                    header(&[&reply.len().to_string()]),
                ),
                ("x-multi".to_string(), header(&["a", "b"])),
            ]),
            body: reply.as_bytes().to_vec(),
        }),
    );
}

#[test]
fn httpclient_refuses_hosts_not_listed_and_bad_urls() {
    let env = Env::embedded();
    same(
        env.run(json!({"op":"http.call","method":"GET","url":"http://127.0.0.1:9/"})),
        err("HTTP request denied - host '127.0.0.1' is not on the allow-list"),
    );
    same(
        env.run(json!({"op":"http.call","method":"GET","url":"not a url"})),
        err("Unable to create HTTP request - invalid uri character"),
    );
}

// --- logger and metrics ---

#[test]
fn logger_levels_in_both_spellings_reach_stderr() {
    let env = Env::embedded();
    for level in ["info", "warn", "error", "debug", "trace"] {
        for standalone in [false, true] {
            let msg = format!("log {level} standalone={standalone}");
            let command = json!({"op":"log","level":level,"msg":msg,"standalone":standalone});
            let out = env.switchboard(&["-vvv"], &command);
            assert!(out.status.success(), "{}", show(&out.stderr));
            same(out.stdout, ok(b""));
            let stderr = show(&out.stderr);
            let line = stderr
                .lines()
                .find(|l| l.contains(&msg))
                .unwrap_or_else(|| panic!("no log line for {msg}:\n{stderr}"));
            assert!(
                line.contains(&level.to_ascii_uppercase()),
                "level {level} in {line}"
            );
            assert!(
                line.contains("guest=\"tarmac_guest\" binding=\"tarmac\""),
                "guest and binding fields in {line}"
            );
        }
    }
}

#[test]
fn metrics_in_json_and_protobuf_and_the_exposition() {
    let env = Env::embedded();
    let file = env.dir.path().join("metrics.prom");
    let metrics_arg = format!("--metrics={}", file.display());
    let steps = [
        json!({"op":"metrics.counter","name":"jobs_total"}),
        json!({"op":"metrics.counter","enc":"proto","name":"jobs_total"}),
        json!({"op":"metrics.gauge","name":"queue","action":"inc"}),
        json!({"op":"metrics.gauge","enc":"proto","name":"queue","action":"dec"}),
        json!({"op":"metrics.histogram","name":"size","value":2.5}),
        json!({"op":"metrics.histogram","enc":"proto","name":"size","value":0.5}),
    ];
    // Each run is a fresh process: the exposition covers that run only.
    for step in &steps {
        let out = env.switchboard(&[&metrics_arg], step);
        assert!(out.status.success(), "{}", show(&out.stderr));
        same(out.stdout, ok(b""));
    }
    let exposition = std::fs::read_to_string(&file).expect("metrics file");
    assert!(
        exposition.starts_with("# TYPE size summary\nsize{quantile=\"0.5\"} 0.5\n"),
        "{exposition}"
    );
    assert!(
        exposition.contains("wasm_callbacks_count{callback=\"metrics:histogram\"} 1\n"),
        "{exposition}"
    );

    // `--metrics` alone: stderr, after a run that counts twice.
    let out = env.switchboard(
        &["--metrics"],
        &json!({"op":"metrics.counter","name":"jobs_total"}),
    );
    same(out.stdout, ok(b""));
    let stderr = show(&out.stderr);
    assert!(
        stderr.contains("# TYPE jobs_total counter\njobs_total 1\n"),
        "{stderr}"
    );

    for (command, message) in [
        (
            json!({"op":"metrics.counter","name":"9lives"}),
            "invalid metric name",
        ),
        (
            json!({"op":"metrics.gauge","enc":"proto","name":"queue","action":"up"}),
            "invalid action",
        ),
    ] {
        same(env.run(command), err(message));
    }
}

// --- function ---

#[test]
fn functions_call_listed_guests_only_and_depth_is_bounded() {
    let env = Env::with_self_function();
    env.run(json!({"op":"kv.set","key":"k","data_b64":B64.encode("v")}));
    // The guest calls itself as function `self`, which reads the store.
    let inner = json!({"op":"kv.get","key":"k"}).to_string();
    same(
        env.run(json!({"op":"function","name":"self","payload":inner})),
        ok(&json_ok(r#","data":"dg==""#)),
    );
    same(
        env.run(json!({"op":"function","name":"other","payload":"x"})),
        err("unknown operation 'other'"),
    );
    same(
        env.run(json!({"op":"recurse","name":"self"})),
        // Each level answers `ok:` + the level below; the fifth nested call is refused.
        ok(b"ok:ok:ok:err:Host error: limit exceeded: function call depth limit of 4 reached calling 'self'"),
    );
}

// --- bad inputs ---

fn raw(ns: &str, operation: &str, payload: &[u8]) -> Value {
    json!({"op":"raw","ns":ns,"operation":operation,"payload_b64":B64.encode(payload)})
}

#[test]
fn bad_inputs_get_the_spec_status_and_leave_data_intact() {
    let env = Env::embedded();
    env.run(json!({"op":"kv.set","key":"keep","data_b64":B64.encode("safe")}));
    env.run(json!({"op":"sql.exec","query":"CREATE TABLE t (v TEXT)"}));
    env.run(json!({"op":"sql.exec","query":"INSERT INTO t VALUES ('row')"}));

    let cases: Vec<(Value, Vec<u8>)> = vec![
        // Malformed JSON.
        (
            raw("kvstore", "set", br#"{"key":"keep","data":"#),
            err("Error Parsing Input"),
        ),
        (raw("kvstore", "get", b"{not json"), err("Error Parsing Input")),
        (raw("sql", "query", b"{]"), err("Error Parsing Input")),
        // Bad base64.
        (
            raw("kvstore", "set", br#"{"key":"keep","data":"!!!"}"#),
            err("Unable to decode data - Invalid symbol 33, offset 0."),
        ),
        // Invalid protobuf: a length-delimited key running past the end.
        (
            raw("kvstore", "set", &[0x0a, 0x7f, 0x6b]),
            err("Error Parsing Input"),
        ),
        (raw("kvstore", "get", &[0xff, 0xff]), err("Error Parsing Input")),
        // Empty key, in both encodings; no data.
        (
            json!({"op":"kv.set","key":"","data_b64":"eA=="}),
            err("key cannot be nil"),
        ),
        (
            json!({"op":"kv.get","enc":"proto","key":""}),
            err("key cannot be nil"),
        ),
        (json!({"op":"kv.delete","key":""}), err("key cannot be nil")),
        (json!({"op":"kv.set","key":"keep"}), err("Data cannot be nil")),
        // Unknown capability and unknown operation.
        (
            raw("queue", "publish", b"x"),
            err("no route for namespace 'queue' operation 'publish' (binding 'tarmac')"),
        ),
        (raw("kvstore", "scan", b""), err("unknown operation 'scan'")),
        // SQL: syntax error (the engine's message), empty query.
        (
            json!({"op":"sql.exec","query":"DELETE FRM t"}),
            err("Unable to execute query - near \"FRM\": syntax error in DELETE FRM t at offset 7"),
        ),
        (
            json!({"op":"sql.query","query":"SELEC * FROM t"}),
            err("Unable to execute query - near \"SELEC\": syntax error in SELEC * FROM t at offset 0"),
        ),
        (
            json!({"op":"sql.query","enc":"proto","query":""}),
            err("SQL Query must be defined"),
        ),
    ];
    for (command, expected) in cases {
        let actual = env.run(command.clone());
        assert_eq!(show(&actual), show(&expected), "for {command}");
    }

    same(
        env.run(json!({"op":"kv.get","key":"keep"})),
        json_ok(r#","data":"c2FmZQ==""#),
    );
    same(
        env.run(json!({"op":"kv.keys"})),
        ok(format!(r#"{{"keys":["keep"],"status":{OK_JSON}}}"#).as_bytes()),
    );
    same(
        env.run(json!({"op":"sql.query","query":"SELECT v FROM t"})),
        json_ok(&format!(r#","data":"{}""#, B64.encode(r#"[{"v":"row"}]"#))),
    );
}

#[test]
fn data_dir_flag_moves_the_embedded_stores() {
    let env = Env::embedded();
    let elsewhere = env.dir.path().join("elsewhere");
    let flag = ["--data-dir", elsewhere.to_str().expect("UTF-8 path")];
    let set = json!({"op":"kv.set","key":"k","data_b64":"dg=="});
    let out = env.switchboard(&flag, &set);
    same(out.stdout, json_ok(""));
    for store in ["kvstore.redb", "sql.sqlite"] {
        assert!(
            elsewhere.join(store).is_file(),
            "{store} in {}",
            elsewhere.display()
        );
    }
    // The default data dir beside the config has no such key.
    same(
        env.run(json!({"op":"kv.get","key":"k"})),
        err("Unable to fetch key k - key not found"),
    );
    let out = env.switchboard(&flag, &json!({"op":"kv.get","key":"k"}));
    same(out.stdout, json_ok(r#","data":"dg==""#));
}

// --- real servers ---

/// This suite's Redis database (scripts/services.sh lists who owns which).
const REDIS_DB: u8 = 2;

fn env_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `scripts/services.sh start` and source the env file it \
             writes, or use scripts/test.sh (this test needs a real server)"
        )
    })
}

#[test]
fn redis_and_postgres_through_the_config() {
    // This suite's own database of the test server (see scripts/services.sh).
    let redis = switchboard_tests::test_redis_url(REDIS_DB);
    let postgres = env_var("SWITCHBOARD_TEST_POSTGRES_URL");
    let env = Env::new(&format!(
        "[preset.tarmac.kvstore]\nbackend = \"redis\"\nurl = {redis:?}\n\n\
         [preset.tarmac.sql]\nbackend = \"postgres\"\nurl = {postgres:?}\n"
    ));
    // Names unique to this process: other suites share both servers.
    let id = std::process::id();
    let key = format!("e2e-tarmac-{id}");
    let table = format!("e2e_tarmac_{id}");
    let value: Vec<u8> = (0..=255u8).rev().collect();

    same(
        env.run(json!({"op":"kv.set","enc":"proto","key":key,"data_b64":B64.encode(&value)})),
        proto_ok(&StatusOnly {
            status: status_ok(),
        }),
    );
    same(
        env.run(json!({"op":"kv.get","key":key})),
        json_ok(&format!(r#","data":"{}""#, B64.encode(&value))),
    );
    same(env.run(json!({"op":"kv.delete","key":key})), json_ok(""));
    same(
        env.run(json!({"op":"kv.get","enc":"proto","key":key})),
        err(&format!("Unable to fetch key {key} - key not found")),
    );

    same(
        env.run(json!({"op":"sql.exec",
            "query":format!("CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY, name TEXT, n INTEGER)")})),
        exec_ok(0, 0),
    );
    same(
        env.run(json!({"op":"sql.exec",
            "query":format!("INSERT INTO {table} (name, n) VALUES ('ada', 7), ('bob', NULL)")})),
        exec_ok(2, 0),
    );
    let rows = r#"[{"id":1,"n":7,"name":"ada"},{"id":2,"n":null,"name":"bob"}]"#;
    let query = format!("SELECT id, name, n FROM {table} ORDER BY id");
    same(
        env.run(json!({"op":"sql.query","query":query})),
        json_ok(&format!(r#","data":"{}""#, B64.encode(rows))),
    );
    same(
        env.run(json!({"op":"sql.query","query":format!("SELEC * FROM {table}")})),
        err("Unable to execute query - ERROR: syntax error at or near \"SELEC\""),
    );
    same(
        env.run(json!({"op":"sql.exec","query":format!("DROP TABLE {table}")})),
        exec_ok(0, 0),
    );
}
