//! Nothing acknowledged is lost: a child `switchboard run` writes kvstore and SQL records in a
//! loop (the Tarmac fixture guest's `crash.writes` command) and reports each write its host call
//! acknowledged (`ack kv <key>` / `ack sql <table> <id>` through `logger:warn`, on stderr). The
//! test kills it with SIGKILL at a random point, several rounds in a row on the same stores, and
//! after each kill reopens the stores and checks that:
//!
//! - they open cleanly (through the providers' backends, and through a new `switchboard run`);
//! - every acknowledged write is there with its value;
//! - nothing was written that the guest had not asked for yet: at most the one write in flight
//!   when the kill landed is there unacknowledged.
//!
//! Embedded stores (redb, SQLite) in a temp data dir; then Redis (database 3 of the test server,
//! see scripts/services.sh) and PostgreSQL, whose acknowledgement must mean the server confirmed.
//!
//! The kill points come from a seed printed by every failure message; set
//! `SWITCHBOARD_CRASH_SEED` to rerun with the same kill delays. Needs `bash scripts/build-fixtures.sh`; the server
//! test needs `scripts/services.sh start`.
// SIGKILL and `ExitStatusExt::signal` are Unix notions.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use switchboard::{CallContext, Router};
use switchboard_providers::kvstore::{KvStore, RedbKv, RedisKv};
use switchboard_providers::sql::{PostgresSql, Sql, SqliteSql};
use switchboard_tests::Fixture;

/// Each round writes ids `round * ROUND_SPAN ..`: rounds never collide, and a killed round's
/// in-flight write cannot be mistaken for a later round's.
const ROUND_SPAN: u64 = 1_000_000;

/// Writes a round asks for: far more than it can do before it is killed.
const WRITES_PER_ROUND: u64 = ROUND_SPAN - 1;

/// This suite's Redis database (scripts/services.sh lists who owns which).
const REDIS_DB: u8 = 3;

/// Longest wait for a child's first acknowledgement (a cold guest compile in a debug build).
const FIRST_ACK_TIMEOUT: Duration = Duration::from_secs(120);

// --- randomness: a seeded xorshift, so a failing run can be replayed ---

struct Rng {
    state: u64,
    seed: u64,
}

impl Rng {
    fn from_env_or_clock() -> Rng {
        let seed = match std::env::var("SWITCHBOARD_CRASH_SEED") {
            Ok(text) => text
                .parse()
                .unwrap_or_else(|err| panic!("SWITCHBOARD_CRASH_SEED={text:?}: {err}")),
            Err(_) => {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("the clock is after 1970")
                    .as_nanos() as u64;
                nanos ^ (u64::from(std::process::id()) << 32)
            }
        };
        Rng {
            // xorshift must not start at 0.
            state: seed | 1,
            seed,
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// A duration in `0..max`.
    fn below(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.next() % max.as_micros().max(1) as u64)
    }
}

// --- the child ---

fn switchboard_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_switchboard"))
}

/// Compiled guests are cached across the suite's runs (the same cache as tarmac.rs), under
/// target/, never the user's home.
fn test_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-cache")
}

/// When the kill lands.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// This long after the child started: possibly while it opens the stores, before any write.
    AfterStart(Duration),
    /// This long after its first acknowledged write: in the middle of the write loop.
    AfterFirstAck(Duration),
}

/// What one killed child reported.
#[derive(Debug, Default)]
struct Acks {
    /// Keys whose `kvstore:set` was acknowledged, in order.
    kv: Vec<String>,
    /// Ids whose `INSERT` was acknowledged, in order.
    sql: Vec<u64>,
    /// Its whole stderr (complete lines only), for failure messages.
    stderr: String,
}

fn parse_ack(line: &str, table: &str, acks: &mut Acks) {
    if let Some(rest) = line.split("ack kv ").nth(1) {
        let key = rest.split_whitespace().next().unwrap_or_default();
        acks.kv.push(key.to_string());
    } else if let Some(rest) = line.split(&format!("ack sql {table} ")).nth(1) {
        let id = rest.split_whitespace().next().unwrap_or_default();
        acks.sql.push(
            id.parse()
                .unwrap_or_else(|err| panic!("ack line {line:?}: id {id:?}: {err}")),
        );
    }
}

/// A store setup: the config the child runs with, and how to read the stores back.
struct Stores {
    /// Holds the config and the embedded stores' data dir.
    dir: tempfile::TempDir,
    config: PathBuf,
    /// kvstore keys are `<table>-<id>`; the SQL table is `<table>`.
    table: String,
    create_table: String,
}

impl Stores {
    fn new(config_body: &str, table: String, create_table: String) -> Stores {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("switchboard.toml");
        // A guest deadline far beyond any round: only the kill ends the loop.
        let body = format!("[guest]\ntimeout_ms = 600000\n\n{config_body}");
        std::fs::write(&config, body).expect("write config");
        Stores {
            dir,
            config,
            table,
            create_table,
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, round: u64) -> Value {
        json!({
            "op": "crash.writes",
            "name": self.table,
            "query": self.create_table,
            "start": round * ROUND_SPAN,
            "count": WRITES_PER_ROUND,
        })
    }

    fn switchboard(&self, command: &Value) -> Command {
        let mut cmd = Command::new(switchboard_bin());
        cmd.arg("run")
            .arg(Fixture::TarmacGuest.require())
            .arg("handler")
            .arg(command.to_string())
            .arg("--config")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(self.data_dir())
            .env_remove("RUST_LOG")
            .env("SWITCHBOARD_CACHE_DIR", test_cache_dir())
            .stdin(Stdio::null());
        cmd
    }

    /// Run one writer and SIGKILL it at `kill`; returns the writes it acknowledged.
    fn run_and_kill(&self, round: u64, kill: KillPoint, seed: u64) -> Acks {
        let mut child = self
            .switchboard(&self.command(round))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("switchboard starts");
        let started = Instant::now();
        let stderr = child.stderr.take().expect("piped stderr");
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    // A line cut by the kill has no newline: it was never fully reported.
                    Ok(0) => break,
                    Ok(_) if line.ends_with(b"\n") => {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        if lines_tx.send(text).is_err() {
                            break;
                        }
                    }
                    Ok(_) => break,
                    Err(err) => panic!("reading the child's stderr: {err}"),
                }
            }
        });

        let mut lines = Vec::new();
        let deadline = match kill {
            KillPoint::AfterStart(after) => started + after,
            KillPoint::AfterFirstAck(after) => {
                // Wait for the first acknowledgement, keeping every line.
                loop {
                    let left = FIRST_ACK_TIMEOUT.saturating_sub(started.elapsed());
                    match lines_rx.recv_timeout(left) {
                        Ok(line) => {
                            let first_ack = line.contains("ack kv ");
                            lines.push(line);
                            if first_ack {
                                break;
                            }
                        }
                        Err(err) => {
                            let _ = child.kill();
                            let status = child.wait().expect("wait for the child");
                            panic!(
                                "seed {seed}: round {round}: no acknowledged write after {:?} \
                                 ({err}; child {status}):\n{}",
                                started.elapsed(),
                                lines.concat()
                            );
                        }
                    }
                }
                Instant::now() + after
            }
        };
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no clean shutdown.
        child.kill().expect("SIGKILL the child");
        let status = child.wait().expect("wait for the child");
        reader.join().expect("stderr reader thread");
        lines.extend(lines_rx.try_iter());
        let stderr = lines.concat();
        assert_eq!(
            status.signal(),
            Some(9),
            "seed {seed}: round {round}: the child ended before the kill ({status}):\n{stderr}"
        );
        let mut acks = Acks::default();
        for line in &lines {
            parse_ack(line, &self.table, &mut acks);
        }
        acks.stderr = stderr;
        acks
    }
}

// --- reading the stores back, through the providers (Tarmac's JSON wire format) ---

/// One host call as the Go SDK makes it (a JSON payload, or none for `kvstore:keys`); the
/// answer must be a success, and JSON.
fn call(router: &Router, namespace: &str, operation: &str, payload: Option<&Value>) -> Value {
    let bytes = payload.map(Value::to_string).unwrap_or_default();
    let out = router
        .call(
            &CallContext::new(),
            "tarmac",
            namespace,
            operation,
            bytes.as_bytes(),
        )
        .unwrap_or_else(|err| panic!("{namespace}:{operation} {bytes}: {err:?}"));
    serde_json::from_slice(&out).unwrap_or_else(|err| {
        panic!(
            "{namespace}:{operation}: answer {:?} is not JSON: {err}",
            String::from_utf8_lossy(&out)
        )
    })
}

fn b64_text(value: &Value) -> String {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a base64 string"));
    let bytes = B64
        .decode(text)
        .unwrap_or_else(|err| panic!("{text:?} is not base64: {err}"));
    String::from_utf8(bytes).unwrap_or_else(|err| panic!("{text:?} is not UTF-8 text: {err}"))
}

/// The round's kvstore records, `id -> value`, through `keys` and `get`.
fn kv_records(router: &Router, table: &str, round: u64) -> Vec<(u64, String)> {
    let keys = call(router, "kvstore", "keys", None);
    let keys = keys["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("keys answer without keys: {keys}"));
    let prefix = format!("{table}-");
    let range = round * ROUND_SPAN..(round + 1) * ROUND_SPAN;
    let mut records: Vec<(u64, String)> = keys
        .iter()
        .filter_map(|key| key.as_str()?.strip_prefix(&prefix))
        .map(|id| {
            id.parse::<u64>()
                .unwrap_or_else(|err| panic!("key {id}: {err}"))
        })
        .filter(|id| range.contains(id))
        .map(|id| {
            let got = call(
                router,
                "kvstore",
                "get",
                Some(&json!({"key": format!("{prefix}{id}")})),
            );
            (id, b64_text(&got["data"]))
        })
        .collect();
    records.sort();
    records
}

/// The round's SQL rows, `id -> v`, ordered by id.
fn sql_records(router: &Router, table: &str, round: u64) -> Vec<(u64, String)> {
    let query = format!(
        "SELECT id, v FROM {table} WHERE id >= {} AND id < {} ORDER BY id",
        round * ROUND_SPAN,
        (round + 1) * ROUND_SPAN
    );
    let answer = call(
        router,
        "sql",
        "query",
        Some(&json!({"query": B64.encode(&query)})),
    );
    let rows: Value = serde_json::from_str(&b64_text(&answer["data"]))
        .unwrap_or_else(|err| panic!("rows of {query}: {err}"));
    rows.as_array()
        .unwrap_or_else(|| panic!("rows of {query}: {rows}"))
        .iter()
        .map(|row| {
            let id = row["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("row without an integer id: {row}"));
            let v = row["v"]
                .as_str()
                .unwrap_or_else(|| panic!("row without a text v: {row}"));
            (id, v.to_string())
        })
        .collect()
}

/// Every acknowledged write is stored with its value, and at most the one write in flight at
/// the kill is stored without an acknowledgement.
#[track_caller]
fn check_round(what: &str, acked: &[u64], stored: &[(u64, String)], round: u64, context: &str) {
    let start = round * ROUND_SPAN;
    // The guest writes ids in order and acknowledges each before the next.
    let expected_acks: Vec<u64> = (start..start + acked.len() as u64).collect();
    assert_eq!(
        acked, expected_acks,
        "{what}: acknowledgements out of order; {context}"
    );
    let stored_ids: Vec<u64> = stored.iter().map(|(id, _)| *id).collect();
    let acked_and_in_flight: Vec<u64> = (start..start + acked.len() as u64 + 1).collect();
    if stored_ids != expected_acks && stored_ids != acked_and_in_flight {
        let lost: Vec<u64> = acked
            .iter()
            .filter(|id| !stored_ids.contains(id))
            .copied()
            .collect();
        let unasked: Vec<u64> = stored_ids
            .iter()
            .filter(|id| !acked_and_in_flight.contains(id))
            .copied()
            .collect();
        panic!(
            "{what}: {} writes acknowledged from id {start}, {} stored; acknowledged but lost: \
             {lost:?}; stored but never asked for: {unasked:?}; {context}",
            acked.len(),
            stored_ids.len()
        );
    }
    for (id, value) in stored {
        assert_eq!(*value, format!("value-{id}"), "{what}: id {id}; {context}");
    }
}

/// Both stores hold exactly the round's acknowledged writes, plus at most the one in flight;
/// returns how many records of the round each holds (kvstore, SQL).
fn check_stores(
    router: &Router,
    stores: &Stores,
    acks: &Acks,
    round: u64,
    context: &str,
) -> (usize, usize) {
    let kv = kv_records(router, &stores.table, round);
    check_round("kvstore", &kv_ids(acks, &stores.table), &kv, round, context);
    let sql = sql_records(router, &stores.table, round);
    check_round("sql", &acks.sql, &sql, round, context);
    (kv.len(), sql.len())
}

/// A summary of the acknowledgements, for the log of a passing run.
fn summary(acks: &Acks) -> String {
    format!("{} kv + {} sql acknowledged", acks.kv.len(), acks.sql.len())
}

fn kv_ids(acks: &Acks, table: &str) -> Vec<u64> {
    let prefix = format!("{table}-");
    acks.kv
        .iter()
        .map(|key| {
            key.strip_prefix(&prefix)
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(|| panic!("acknowledged key {key:?} is not {prefix}<id>"))
        })
        .collect()
}

/// A new `switchboard run` opens the stores and finds in them what the test read directly:
/// `stored` (kvstore keys, SQL rows) over every round so far.
fn reopen_with_the_binary(stores: &Stores, stored: (usize, usize), context: &str) {
    let answer = |command: Value| -> Value {
        let out = stores
            .switchboard(&command)
            .output()
            .expect("switchboard runs");
        let body = out
            .stdout
            .strip_prefix(b"ok:")
            .filter(|_| out.status.success())
            .unwrap_or_else(|| {
                panic!(
                    "reopening the stores with switchboard for {command}: {}, stdout {:?}, \
                     stderr {}; {context}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        serde_json::from_slice(body).unwrap_or_else(|err| {
            panic!(
                "answer to {command} is not JSON: {err}: {:?}",
                String::from_utf8_lossy(body)
            )
        })
    };
    let keys = answer(json!({"op": "kv.keys"}));
    let prefix = format!("{}-", stores.table);
    let ours = keys["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("kv.keys answer without keys: {keys}"))
        .iter()
        .filter(|key| key.as_str().is_some_and(|key| key.starts_with(&prefix)))
        .count();
    assert_eq!(
        ours, stored.0,
        "kvstore keys seen by switchboard; {context}"
    );
    let count = answer(json!({
        "op": "sql.query",
        "query": format!("SELECT COUNT(*) AS n FROM {}", stores.table),
    }));
    let rows: Value = serde_json::from_str(&b64_text(&count["data"]))
        .unwrap_or_else(|err| panic!("COUNT rows: {err}: {count}"));
    assert_eq!(
        rows,
        json!([{ "n": stored.1 }]),
        "SQL rows seen by switchboard; {context}"
    );
}

/// Kill points for `rounds` rounds: the first always mid-loop, then a mix of mid-loop and
/// anywhere from the start.
fn kill_points(rng: &mut Rng, rounds: u64) -> Vec<KillPoint> {
    (0..rounds)
        .map(|round| {
            if round == 0 || !rng.next().is_multiple_of(3) {
                KillPoint::AfterFirstAck(rng.below(Duration::from_millis(800)))
            } else {
                KillPoint::AfterStart(rng.below(Duration::from_millis(600)))
            }
        })
        .collect()
}

#[test]
fn embedded_stores_keep_every_acknowledged_write_across_sigkill() {
    let mut rng = Rng::from_env_or_clock();
    let seed = rng.seed;
    let stores = Stores::new(
        "[preset.tarmac]\n",
        "crash".to_string(),
        "CREATE TABLE IF NOT EXISTS crash (id INTEGER PRIMARY KEY, v TEXT NOT NULL)".to_string(),
    );
    let mut total = (0, 0);
    let mut stored = (0, 0);
    for (round, kill) in (0..).zip(kill_points(&mut rng, 6)) {
        let acks = stores.run_and_kill(round, kill, seed);
        let context = format!(
            "seed {seed}, round {round}, kill {kill:?}, {}; child stderr:\n{}",
            summary(&acks),
            acks.stderr
        );
        {
            // Reopen both files the child had open when it died; dropped before the next round
            // (redb allows one process at a time).
            let data = stores.data_dir();
            let router = Router::new();
            let kv = RedbKv::open(data.join("kvstore.redb"))
                .unwrap_or_else(|err| panic!("redb does not reopen: {err}; {context}"));
            router
                .register_namespace("kvstore", KvStore::new(kv))
                .expect("register kvstore");
            let sql = SqliteSql::open(data.join("sql.sqlite"))
                .unwrap_or_else(|err| panic!("SQLite does not reopen: {err}; {context}"));
            router
                .register_namespace("sql", Sql::new(sql))
                .expect("register sql");
            let found = check_stores(&router, &stores, &acks, round, &context);
            stored = (stored.0 + found.0, stored.1 + found.1);
        }
        reopen_with_the_binary(&stores, stored, &context);
        total.0 += acks.kv.len();
        total.1 += acks.sql.len();
    }
    // The test proved something: writes were acknowledged and then found.
    assert!(
        total.0 > 0 && total.1 > 0,
        "seed {seed}: no write acknowledged in any round"
    );
    eprintln!(
        "seed {seed}: {} kv + {} sql acknowledged writes survived",
        total.0, total.1
    );
}

#[test]
fn redis_and_postgres_hold_every_acknowledged_write_after_sigkill() {
    let redis = switchboard_tests::test_redis_url(REDIS_DB);
    let postgres = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "SWITCHBOARD_TEST_POSTGRES_URL is not set: run `scripts/services.sh start` and \
             source the env file it writes, or use scripts/test.sh (this test needs a real server)"
        )
    });
    let mut rng = Rng::from_env_or_clock();
    let seed = rng.seed;
    // Names unique to this process: other suites share both servers.
    let table = format!("crash_{}", std::process::id());
    let stores = Stores::new(
        &format!(
            "[preset.tarmac.kvstore]\nbackend = \"redis\"\nurl = {redis:?}\n\n\
             [preset.tarmac.sql]\nbackend = \"postgres\"\nurl = {postgres:?}\n"
        ),
        table.clone(),
        format!("CREATE TABLE IF NOT EXISTS {table} (id BIGINT PRIMARY KEY, v TEXT NOT NULL)"),
    );
    let router = Router::new();
    let kv = RedisKv::connect(&redis).unwrap_or_else(|err| panic!("Redis at {redis}: {err}"));
    router
        .register_namespace("kvstore", KvStore::new(kv))
        .expect("register kvstore");
    let sql = PostgresSql::connect(&postgres)
        .unwrap_or_else(|err| panic!("PostgreSQL at {postgres}: {err}"));
    router
        .register_namespace("sql", Sql::new(sql))
        .expect("register sql");
    let exec = |query: String| {
        let payload = json!({"query": B64.encode(&query)});
        call(&router, "sql", "exec", Some(&payload));
    };
    // Leftovers of an earlier run of the same pid would count as stored records.
    exec(format!("DROP TABLE IF EXISTS {table}"));
    delete_keys(&router, &table);

    let mut total = (0, 0);
    let mut stored = (0, 0);
    for (round, kill) in (0..).zip(kill_points(&mut rng, 3)) {
        let acks = stores.run_and_kill(round, kill, seed);
        let context = format!(
            "seed {seed}, round {round}, kill {kill:?}, {}; child stderr:\n{}",
            summary(&acks),
            acks.stderr
        );
        let found = check_stores(&router, &stores, &acks, round, &context);
        stored = (stored.0 + found.0, stored.1 + found.1);
        reopen_with_the_binary(&stores, stored, &context);
        total.0 += acks.kv.len();
        total.1 += acks.sql.len();
    }
    assert!(
        total.0 > 0 && total.1 > 0,
        "seed {seed}: no write acknowledged in any round"
    );
    eprintln!(
        "seed {seed}: {} kv + {} sql acknowledged writes survived",
        total.0, total.1
    );

    exec(format!("DROP TABLE {table}"));
    delete_keys(&router, &table);
}

/// Remove the kvstore keys `<table>-*` (what a run leaves on a shared server).
fn delete_keys(router: &Router, table: &str) {
    let keys = call(router, "kvstore", "keys", None);
    let prefix = format!("{table}-");
    for key in keys["keys"].as_array().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        if key.starts_with(&prefix) {
            call(router, "kvstore", "delete", Some(&json!({ "key": key })));
        }
    }
}
