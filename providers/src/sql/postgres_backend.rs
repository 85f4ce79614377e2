//! PostgreSQL backend (synchronous `postgres` client, no TLS: meant for a server on loopback or a
//! private network).
//!
//! Query rows keep PostgreSQL's own text form for types JSON has no equivalent for (numeric,
//! timestamps, json, uuid, ...): the statement is prepared first to learn the column types, then
//! run through the simple-query protocol, which returns every value as text. Statements that can
//! be run through a cursor (`SELECT`, `VALUES`, `TABLE`, `WITH`) fetch at most
//! `max_rows + 1` rows, so a guest cannot make the host buffer an unbounded result; other
//! row-returning statements (`INSERT ... RETURNING`, `SHOW`, ...) are run directly.
//! Every statement runs under `statement_timeout` = the time left before the call's deadline or
//! the configured timeout, whichever is first.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use postgres::types::Type;
use postgres::{Client, NoTls, SimpleQueryMessage};
use serde_json::{Map, Value};
use switchboard::CallContext;

use super::{float_value, too_many_rows, ExecResult, QueryResult, SqlBackend, SqlError, SqlLimits};
use crate::wire::json::b64_encode;

const CURSOR: &str = "switchboard_query";

/// A PostgreSQL database reached over one connection (re-established when it drops).
pub struct PostgresSql {
    config: postgres::Config,
    client: Mutex<Option<Client>>,
    display: String,
}

impl std::fmt::Debug for PostgresSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSql")
            .field("server", &self.display)
            .finish()
    }
}

impl PostgresSql {
    /// Connect to `url` (`postgres://user@host:port/db` or a key=value string). Fails when the
    /// server cannot be reached now.
    ///
    /// # Errors
    ///
    /// [`SqlError`] when `url` is invalid or the server refuses or does not answer.
    pub fn connect(url: &str) -> Result<Self, SqlError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| SqlError(format!("invalid postgres url: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let display = describe_config(&config);
        let backend = PostgresSql {
            config,
            client: Mutex::new(None),
            display,
        };
        drop(backend.client()?);
        Ok(backend)
    }

    /// The connection, (re)connecting when there is none or it was closed.
    fn client(&self) -> Result<MutexGuard<'_, Option<Client>>, SqlError> {
        let mut guard = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.as_ref().is_none_or(Client::is_closed) {
            let client = self.config.connect(NoTls).map_err(|e| {
                SqlError(format!("cannot connect to postgres {}: {e}", self.display))
            })?;
            *guard = Some(client);
        }
        Ok(guard)
    }

    fn with<T>(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        f: impl FnOnce(&mut Client) -> Result<T, SqlError>,
    ) -> Result<T, SqlError> {
        let mut guard = self.client()?;
        let client = guard
            .as_mut()
            .ok_or_else(|| SqlError("no postgres connection".to_string()))?;
        let left = limits
            .deadline(ctx)
            .saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(SqlError("deadline exceeded".to_string()));
        }
        // statement_timeout 0 would mean "no timeout": never send less than 1 ms.
        let millis = left.as_millis().clamp(1, i32::MAX as u128);
        client
            .batch_execute(&format!("SET statement_timeout = {millis}"))
            .map_err(pg_error)?;
        let out = f(client);
        if client.is_closed() {
            *guard = None;
        }
        out
    }
}

fn describe_config(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("");
    format!("{host}:{port}/{db}")
}

/// The engine's message: the server's error text when there is one, else the client's.
fn pg_error(err: postgres::Error) -> SqlError {
    match err.as_db_error() {
        Some(db) => SqlError(format!("{}: {}", db.severity(), db.message())),
        None => SqlError::from_display(err),
    }
}

/// Whether the statement may be wrapped in `DECLARE ... CURSOR FOR`.
fn cursorable(sql: &str) -> bool {
    let start = sql.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let word: String = start
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(word.as_str(), "select" | "values" | "table" | "with")
}

fn value_of(ty: &Type, text: Option<&str>) -> Value {
    let Some(text) = text else {
        return Value::Null;
    };
    match *ty {
        Type::BOOL => Value::Bool(text == "t"),
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => text
            .parse::<i64>()
            .map_or_else(|_| Value::String(text.to_string()), Value::from),
        Type::FLOAT4 | Type::FLOAT8 => text
            .parse::<f64>()
            .map_or_else(|_| Value::String(text.to_string()), float_value),
        Type::BYTEA => match decode_bytea_hex(text) {
            Some(bytes) => Value::String(b64_encode(&bytes)),
            None => Value::String(text.to_string()),
        },
        _ => Value::String(text.to_string()),
    }
}

/// PostgreSQL's `bytea_output = hex` form: `\x` then two hex digits per byte.
fn decode_bytea_hex(text: &str) -> Option<Vec<u8>> {
    let hex = text.strip_prefix("\\x")?.as_bytes();
    if hex.len() % 2 != 0 {
        return None;
    }
    hex.chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

fn collect_rows(
    messages: Vec<SimpleQueryMessage>,
    columns: &[String],
    types: &[Type],
    limits: &SqlLimits,
) -> Result<Vec<Map<String, Value>>, SqlError> {
    let mut rows = Vec::new();
    for message in messages {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        if rows.len() == limits.max_rows {
            return Err(too_many_rows(limits));
        }
        let mut object = Map::new();
        for (i, (name, ty)) in columns.iter().zip(types).enumerate() {
            let text = row.try_get(i).map_err(pg_error)?;
            object.insert(name.clone(), value_of(ty, text));
        }
        rows.push(object);
    }
    Ok(rows)
}

impl SqlBackend for PostgresSql {
    fn query(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        sql: &str,
    ) -> Result<QueryResult, SqlError> {
        self.with(ctx, limits, |client| {
            // Preparing validates that this is one statement and tells the column types.
            let stmt = client.prepare(sql).map_err(pg_error)?;
            let columns: Vec<String> = stmt.columns().iter().map(|c| c.name().to_string()).collect();
            let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
            drop(stmt);
            let messages = if cursorable(sql) {
                // One round trip; the newline ends any trailing `--` comment of the guest's SQL.
                let batch = format!(
                    "BEGIN; DECLARE {CURSOR} NO SCROLL CURSOR FOR {sql}\n; FETCH {} FROM {CURSOR}; COMMIT",
                    limits.max_rows.saturating_add(1)
                );
                match client.simple_query(&batch) {
                    Ok(messages) => messages,
                    Err(err) => {
                        let _ = client.batch_execute("ROLLBACK");
                        return Err(pg_error(err));
                    }
                }
            } else {
                client.simple_query(sql).map_err(pg_error)?
            };
            let rows = collect_rows(messages, &columns, &types, limits)?;
            Ok(QueryResult { columns, rows })
        })
    }

    fn exec(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        sql: &str,
    ) -> Result<ExecResult, SqlError> {
        self.with(ctx, limits, |client| {
            let changed = client.execute(sql, &[]).map_err(pg_error)?;
            Ok(ExecResult {
                rows_affected: i64::try_from(changed).unwrap_or(i64::MAX),
                // PostgreSQL has no session "last insert id"; see the module docs of `sql`.
                last_insert_id: None,
            })
        })
    }

    fn describe(&self) -> String {
        format!("postgres {}", self.display)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_only_for_plain_queries() {
        assert!(cursorable("SELECT 1"));
        assert!(cursorable("  (select 1)"));
        assert!(cursorable("WITH a AS (SELECT 1) SELECT * FROM a"));
        assert!(!cursorable("INSERT INTO t VALUES (1) RETURNING id"));
        assert!(!cursorable("show server_version"));
    }

    #[test]
    fn bytea_hex_decodes() {
        assert_eq!(decode_bytea_hex("\\x00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_bytea_hex("\\x0"), None);
        assert_eq!(decode_bytea_hex("plain"), None);
    }

    #[test]
    fn text_values_become_real_types() {
        assert_eq!(value_of(&Type::INT8, Some("42")), Value::from(42));
        assert_eq!(value_of(&Type::BOOL, Some("f")), Value::Bool(false));
        assert_eq!(value_of(&Type::FLOAT8, Some("1.5")), Value::from(1.5));
        assert_eq!(value_of(&Type::FLOAT8, Some("NaN")), Value::Null);
        assert_eq!(value_of(&Type::NUMERIC, Some("1.10")), Value::from("1.10"));
        assert_eq!(value_of(&Type::TEXT, None), Value::Null);
        assert_eq!(value_of(&Type::BYTEA, Some("\\x6869")), Value::from("aGk="));
    }
}
