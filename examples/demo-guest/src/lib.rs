//! The Switchboard demo: a Tarmac function, written with the official `wapc-guest` SDK and
//! sending the JSON payloads of Tarmac's Go SDK. `examples/switchboard.toml` serves its host
//! calls with the Tarmac suite on the embedded defaults (redb key-value store, SQLite).
//!
//! `handler <name>` signs a guestbook: it reads and replaces the last visitor in the key-value
//! store, records the visit in SQL, and reports, e.g.
//!
//! ```text
//! hello, grace: you are visitor #2 (last visitor: ada)
//! guestbook: ada, grace
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use wapc_guest::prelude::*;

/// Tarmac functions make every host call under binding `tarmac`.
const BINDING: &str = "tarmac";

#[no_mangle]
pub fn wapc_init() {
    register_function("handler", handler);
}

/// Both kvstore `get` and sql `query` answer base64 `data` (Go's `[]byte`) next to the status.
#[derive(Deserialize)]
struct DataResponse {
    data: String,
}

fn handler(payload: &[u8]) -> CallResult {
    let name = std::str::from_utf8(payload).map_err(|_| "the name must be UTF-8 text")?;
    // Only letters, digits, spaces, `-` and `_`: the name goes into SQL text below (Tarmac's
    // sql capability has no bind parameters).
    let valid = |c: char| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_');
    if name.is_empty() || name.chars().count() > 40 || !name.chars().all(valid) {
        return Err("the name must be 1 to 40 letters, digits, spaces, '-' or '_'".into());
    }
    console_log(&format!("signing the guestbook for {name}"));

    // kvstore: the previous visitor; a missing key is a failed call with a 404 status text.
    let last = match host_call(BINDING, "kvstore", "get", &to_json(json!({"key": "last"}))) {
        Ok(response) => String::from_utf8_lossy(&data_of(&response)?).into_owned(),
        Err(err) if err.to_string().ends_with("key not found") => "nobody".to_string(),
        Err(err) => return Err(err),
    };
    let set = json!({"key": "last", "data": B64.encode(name)});
    host_call(BINDING, "kvstore", "set", &to_json(set))?;

    // sql: the guestbook table, one row per visit.
    sql("CREATE TABLE IF NOT EXISTS guestbook (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")?;
    sql(&format!("INSERT INTO guestbook (name) VALUES ('{name}')"))?;
    let rows: Vec<Map<String, Value>> =
        serde_json::from_slice(&sql("SELECT name FROM guestbook ORDER BY id")?)
            .map_err(|e| format!("unexpected rows: {e}"))?;
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|row| row.get("name").and_then(Value::as_str))
        .collect();

    Ok(format!(
        "hello, {name}: you are visitor #{} (last visitor: {last})\nguestbook: {}\n",
        names.len(),
        names.join(", ")
    )
    .into_bytes())
}

/// Run one SQL statement; returns the rows as JSON (`[{"column": value, ...}, ...]`).
fn sql(query: &str) -> Result<Vec<u8>, Box<dyn std::error::Error + Sync + Send>> {
    let request = json!({"query": B64.encode(query)});
    let response = host_call(BINDING, "sql", "query", &to_json(request))?;
    data_of(&response)
}

fn to_json(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

fn data_of(response: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error + Sync + Send>> {
    let response: DataResponse = serde_json::from_slice(response)?;
    Ok(B64.decode(response.data)?)
}
