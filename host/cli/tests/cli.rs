//! The real `switchboard` binary: exact stdout, exact one-line errors, exit codes.
//!
//! `run` tests use the demo guest (examples/demo-guest), built here on first use with the
//! wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo_config() -> PathBuf {
    repo_root().join("examples/switchboard.toml")
}

/// Build the demo guest once per test binary; a missing target or toolchain fails loudly.
fn demo_guest() -> &'static Path {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let dir = repo_root().join("examples/demo-guest");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let out = Command::new(cargo)
            .args(["build", "--quiet", "--release", "--locked"])
            .args(["--target", "wasm32-unknown-unknown"])
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(dir.join("target"))
            .stdin(Stdio::null())
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "building examples/demo-guest failed (is the wasm32-unknown-unknown target \
             installed? `rustup target add wasm32-unknown-unknown`):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir.join("target/wasm32-unknown-unknown/release/demo_guest.wasm")
    })
}

fn switchboard(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("RUST_LOG")
        // Compiled guests are cached across the suite's runs, and never in the user's home.
        .env(
            "SWITCHBOARD_CACHE_DIR",
            repo_root().join("target/test-cache"),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("switchboard starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input)
            .expect("write stdin");
    }
    child.wait_with_output().expect("switchboard finishes")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8 output")
}

fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, body).expect("write config");
    path
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A fresh data dir for the demo's embedded stores, so tests never write into examples/.
fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn routes_lists_the_demo_config() {
    let data = data_dir();
    let dir = s(data.path());
    let out = switchboard(
        &["routes", "--config", s(&demo_config()), "--data-dir", dir],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "BINDING  NAMESPACE  OPERATION  PROVIDER\n\
             tarmac   kvstore    *          tarmac kvstore (redb {dir}/kvstore.redb)\n\
             tarmac   logger     *          tarmac logger\n\
             tarmac   logging    *          tarmac logger\n\
             tarmac   sql        *          tarmac sql (sqlite {dir}/sql.sqlite)\n"
        )
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn providers_lists_the_builtins() {
    let out = switchboard(&["providers"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "provider component\nprovider echo\nprovider fail\nprovider httpclient\nprovider kvstore\nprovider logger\n\
         provider memory-kv\nprovider metrics\nprovider sql\nprovider uppercase\npreset   tarmac\n"
    );
}

#[test]
fn bad_key_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        "[[route]]\nnamespace = \"a\"\nprovder = \"echo\"\n",
    );
    let out = switchboard(&["routes", "--config", s(&config)], None);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "switchboard: {}:3:1: `route[0].provder`: unknown field `provder`, expected one of \
             `namespace`, `operation`, `binding`, `provider`, `component`, `options`\n",
            config.display()
        )
    );
}

#[test]
fn wrong_type_names_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), "[guest]\ntimeout_ms = \"5s\"\n");
    let out = switchboard(&["routes", "--config", s(&config)], None);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr),
        format!(
            "switchboard: {}:2:14: `guest.timeout_ms`: invalid type: string \"5s\", expected u64\n",
            config.display()
        )
    );
}

#[test]
fn unknown_provider_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        "[[route]]\nnamespace = \"a\"\noperation = \"b\"\nprovider = \"redis\"\n",
    );
    for args in [
        vec!["routes", "--config", s(&config)],
        vec!["run", "missing.wasm", "op", "--config", s(&config)],
    ] {
        let out = switchboard(&args, None);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            format!(
                "switchboard: {}:4:12: `route[0].provider`: unknown provider 'redis' \
                 (known: component, echo, fail, httpclient, kvstore, logger, memory-kv, metrics, sql, uppercase)\n",
                config.display()
            )
        );
    }
}

#[test]
fn missing_config_file_is_a_config_error() {
    let out = switchboard(&["routes", "--config", "/nonexistent/sb.toml"], None);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr),
        "switchboard: cannot read config file /nonexistent/sb.toml: No such file or directory (os error 2)\n"
    );
}

/// `switchboard run demo_guest.wasm handler <payload> -c examples/switchboard.toml --data-dir <data>`.
fn demo(data: &Path, payload: &str, stdin: Option<&[u8]>) -> Output {
    switchboard(
        &[
            "run",
            s(demo_guest()),
            "handler",
            payload,
            "--config",
            s(&demo_config()),
            "--data-dir",
            s(data),
        ],
        stdin,
    )
}

#[test]
fn run_demo_prints_exactly_the_response_and_the_stores_persist() {
    let data = data_dir();
    let out = demo(data.path(), "ada", None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "hello, ada: you are visitor #1 (last visitor: nobody)\nguestbook: ada\n"
    );
    assert_eq!(text(&out.stderr), "");
    // A second process reads what the first stored (redb and SQLite files in the data dir).
    let out = demo(data.path(), "grace", None);
    assert_eq!(
        text(&out.stdout),
        "hello, grace: you are visitor #2 (last visitor: ada)\nguestbook: ada, grace\n"
    );
    for store in ["kvstore.redb", "sql.sqlite"] {
        assert!(
            data.path().join(store).is_file(),
            "{store} in {}",
            data.path().display()
        );
    }
}

#[test]
fn run_payload_from_argument_file_and_stdin() {
    let data = data_dir();
    let out = demo(data.path(), "hé", None);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (
            Some(0),
            "hello, hé: you are visitor #1 (last visitor: nobody)\nguestbook: hé\n"
        )
    );

    let file = data.path().join("payload.txt");
    std::fs::write(&file, "from a file").expect("write payload");
    let out = demo(data.path(), &format!("@{}", file.display()), None);
    assert_eq!(
        text(&out.stdout),
        "hello, from a file: you are visitor #2 (last visitor: hé)\nguestbook: hé, from a file\n"
    );

    let out = demo(data.path(), "-", Some(b"from stdin"));
    assert_eq!(
        text(&out.stdout),
        "hello, from stdin: you are visitor #3 (last visitor: from a file)\n\
         guestbook: hé, from a file, from stdin\n"
    );
}

#[test]
fn unreadable_payload_file_exits_2() {
    let out = switchboard(&["run", "x.wasm", "op", "@/nonexistent/payload"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "switchboard: cannot read payload file /nonexistent/payload: No such file or directory (os error 2)\n"
    );
}

#[test]
fn guest_errors_are_one_line_with_exit_code_5() {
    let guest = s(demo_guest());
    let data = data_dir();
    let out = switchboard(
        &[
            "run",
            guest,
            "nope",
            "-c",
            s(&demo_config()),
            "--data-dir",
            s(data.path()),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "switchboard: guest error: No handler registered for function nope\n"
    );

    // The guest refuses an empty name itself.
    let out = demo(data.path(), "", None);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        text(&out.stderr),
        "switchboard: guest error: the name must be 1 to 40 letters, digits, spaces, '-' or '_'\n"
    );

    // Without a config nothing is routed: the guest's host call fails and it reports it.
    let out = switchboard(&["run", guest, "handler", "x"], None);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        text(&out.stderr),
        "switchboard: host call failed: no route for namespace 'kvstore' operation 'get' \
         (binding 'tarmac') (guest reported: Host error: no route for namespace 'kvstore' \
         operation 'get' (binding 'tarmac'))\n"
    );
}

#[test]
fn unloadable_guest_exits_4() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bogus = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"not wasm").expect("write");
    let out = switchboard(&["run", s(&bogus), "op"], None);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    // The rest of the line is wasmtime's parser message, not ours.
    assert!(
        text(&out.stderr).starts_with("switchboard: invalid guest module: "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );

    let out = switchboard(&["run", "/nonexistent/g.wasm", "op"], None);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        text(&out.stderr),
        "switchboard: cannot read guest module /nonexistent/g.wasm: No such file or directory (os error 2)\n"
    );
}

#[test]
fn guest_logs_go_to_stderr_never_stdout() {
    let data = data_dir();
    let out = switchboard(
        &[
            "-v",
            "run",
            s(demo_guest()),
            "handler",
            "log",
            "-c",
            s(&demo_config()),
            "--data-dir",
            s(data.path()),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "hello, log: you are visitor #1 (last visitor: nobody)\nguestbook: log\n"
    );
    assert!(
        text(&out.stderr).contains("signing the guestbook for log"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn metrics_go_to_stderr_or_a_file_never_stdout() {
    let data = data_dir();
    let expected = "hello, m: you are visitor #1 (last visitor: nobody)\nguestbook: m\n";
    let out = switchboard(
        &[
            "run",
            s(demo_guest()),
            "handler",
            "m",
            "-c",
            s(&demo_config()),
            "--data-dir",
            s(data.path()),
            "--metrics",
        ],
        None,
    );
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), expected));
    let stderr = text(&out.stderr);
    for line in [
        "# TYPE wasm_callbacks histogram\n",
        "wasm_callbacks_count{callback=\"kvstore:get\"} 1\n",
        "wasm_callbacks_count{callback=\"kvstore:set\"} 1\n",
        "wasm_callbacks_count{callback=\"sql:query\"} 3\n",
    ] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }

    // `--metrics=FILE`, also after a failed run (the guest refuses the name).
    let file = data.path().join("metrics.prom");
    let out = switchboard(
        &[
            "run",
            s(demo_guest()),
            "handler",
            "",
            "-c",
            s(&demo_config()),
            "--data-dir",
            s(data.path()),
            &format!("--metrics={}", file.display()),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(text(&out.stdout), "");
    // No host call was made: an empty exposition.
    assert_eq!(std::fs::read_to_string(&file).expect("metrics file"), "");
}

#[test]
fn usage_errors_exit_2() {
    let out = switchboard(&["run"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    // clap's usage error names what is missing.
    assert!(
        text(&out.stderr)
            .starts_with("error: the following required arguments were not provided:\n  <GUEST>\n  <OPERATION>\n"),
        "{}",
        text(&out.stderr)
    );
}

/// The fixture guest of the end-to-end suite (built by scripts/build-fixtures.sh), for the
/// failure modes the demo guest does not have: trap, endless loop, memory hog.
fn fixture_guest() -> PathBuf {
    let path = repo_root().join("tests/fixtures/out/rust_guest.wasm");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-fixtures.sh first",
        path.display()
    );
    path
}

#[test]
fn trap_exits_6() {
    let out = switchboard(&["run", s(&fixture_guest()), "trap"], None);
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        text(&out.stderr),
        "switchboard: guest trapped: wasm trap: wasm `unreachable` instruction executed\n"
    );
}

#[test]
fn config_limits_apply_deadline_exits_7_memory_exits_8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        "[guest]\ntimeout_ms = 300\nmemory_limit_mib = 16\n",
    );
    let guest = fixture_guest();
    let out = switchboard(&["run", s(&guest), "loop", "-c", s(&config)], None);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        text(&out.stderr),
        "switchboard: guest invocation deadline exceeded\n"
    );

    let out = switchboard(&["run", s(&guest), "alloc", "64", "-c", s(&config)], None);
    assert_eq!(out.status.code(), Some(8));
    assert!(
        text(&out.stderr).starts_with("switchboard: guest memory limit exceeded: ")
            && text(&out.stderr).ends_with(" bytes requested, limit is 16777216 bytes\n"),
        "{}",
        text(&out.stderr)
    );

    let out = switchboard(&["run", s(&guest), "alloc", "2", "-c", s(&config)], None);
    assert_eq!((out.status.code(), text(&out.stdout)), (Some(0), "2"));
}

/// A msgpack str of fewer than 32 bytes (what the fixture guest's `callback` speaks).
fn msgpack_str(value: &str) -> Vec<u8> {
    assert!(value.len() < 32);
    [&[0xa0 | value.len() as u8][..], value.as_bytes()].concat()
}

#[test]
fn component_routes_serve_the_guest_and_compile_into_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let transform = repo_root().join("providers/components/out/transform.wasm");
    assert!(
        transform.is_file(),
        "{} is missing: run scripts/build-components.sh first",
        transform.display()
    );
    let config = write_config(
        dir.path(),
        &format!(
            "[[route]]\nnamespace = \"text\"\noperation = \"upper\"\ncomponent = \"{}\"\n\
             options = {{ call_timeout_ms = 1000, pool_min = 1, pool_max = 2 }}\n",
            transform.display()
        ),
    );
    let mut payload = vec![0x84];
    for (key, value) in [
        ("binding", "cli"),
        ("namespace", "text"),
        ("operation", "upper"),
        ("msg", "from the cli"),
    ] {
        payload.extend(msgpack_str(key));
        payload.extend(msgpack_str(value));
    }
    let payload_file = dir.path().join("payload.bin");
    std::fs::write(&payload_file, &payload).expect("payload");
    let cache = dir.path().join("cache");
    let at_file = format!("@{}", payload_file.display());
    let guest = fixture_guest();
    let args = [
        "run",
        s(&guest),
        "callback",
        &at_file,
        "--config",
        s(&config),
    ];
    for _ in 0..2 {
        let out = Command::new(BIN)
            .args(args)
            .env("SWITCHBOARD_CACHE_DIR", &cache)
            .stdin(Stdio::null())
            .output()
            .expect("run switchboard");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(out.stdout, msgpack_str("FROM THE CLI"));
    }
    for kind in ["components", "modules"] {
        let cached = std::fs::read_dir(cache.join(kind))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(cached, 1, "compiled {kind} in {}", cache.display());
    }

    let out = switchboard(&["routes", "--config", s(&config)], None);
    assert!(
        text(&out.stdout).contains("text       upper      component transform.wasm"),
        "{}",
        text(&out.stdout)
    );
}
