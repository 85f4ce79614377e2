//! SQLite backend (bundled, no system library): a file in the data directory, or in memory.
//!
//! One connection behind a mutex: SQLite serialises writers anyway, and a single connection
//! keeps `last_insert_rowid` and in-memory databases coherent. A progress handler interrupts a
//! statement when the call's deadline passes, the call is canceled, or the configured timeout
//! expires, so a runaway query (`WITH RECURSIVE` without end) cannot hang the host.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::{Map, Value};
use switchboard::CallContext;

use super::{float_value, too_many_rows, ExecResult, QueryResult, SqlBackend, SqlError, SqlLimits};
use crate::wire::json::b64_encode;

/// SQLite virtual machine steps between deadline checks.
const PROGRESS_STEPS: i32 = 1000;

/// A SQLite database.
pub struct SqliteSql {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for SqliteSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSql")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteSql {
    /// Open (or create) the database file at `path`, in WAL mode.
    ///
    /// # Errors
    ///
    /// [`SqlError`] when the file cannot be opened or created, or WAL mode cannot be set.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SqlError> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|e| {
            SqlError(format!(
                "cannot open sqlite database {}: {e}",
                path.display()
            ))
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(SqlError::from_display)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(SqlError::from_display)?;
        Ok(SqliteSql {
            conn: Mutex::new(conn),
            path: Some(path),
        })
    }

    /// A private in-memory database (gone when dropped).
    ///
    /// # Errors
    ///
    /// [`SqlError`] when SQLite cannot create the database.
    pub fn open_in_memory() -> Result<Self, SqlError> {
        let conn = Connection::open_in_memory().map_err(SqlError::from_display)?;
        Ok(SqliteSql {
            conn: Mutex::new(conn),
            path: None,
        })
    }

    /// Run `f` with a progress handler that interrupts the statement at the deadline.
    fn guarded<T>(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        f: impl FnOnce(&Connection) -> Result<T, SqlError>,
    ) -> Result<T, SqlError> {
        // A panic while holding the lock cannot leave the connection half-updated: SQLite rolls
        // back the unfinished statement itself.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let deadline = limits.deadline(ctx);
        let call = ctx.clone();
        conn.progress_handler(
            PROGRESS_STEPS,
            Some(move || Instant::now() >= deadline || call.check().is_err()),
        )
        .map_err(SqlError::from_display)?;
        let out = f(&conn);
        let _ = conn.progress_handler(0, None::<fn() -> bool>);
        out.map_err(|err| {
            if Instant::now() >= deadline {
                SqlError("statement interrupted: deadline exceeded".to_string())
            } else if ctx.is_canceled() {
                SqlError("statement interrupted: call canceled".to_string())
            } else {
                err
            }
        })
    }
}

fn value_of(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => float_value(f),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(b64_encode(b)),
    }
}

impl SqlBackend for SqliteSql {
    fn query(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        sql: &str,
    ) -> Result<QueryResult, SqlError> {
        self.guarded(ctx, limits, |conn| {
            let mut stmt = conn.prepare(sql).map_err(SqlError::from_display)?;
            let columns: Vec<String> = stmt.column_names().map(String::from).collect();
            let mut rows = stmt.query([]).map_err(SqlError::from_display)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(SqlError::from_display)? {
                if out.len() == limits.max_rows {
                    return Err(too_many_rows(limits));
                }
                let mut object = Map::new();
                for (i, name) in columns.iter().enumerate() {
                    let value = row.get_ref(i).map_err(SqlError::from_display)?;
                    object.insert(name.clone(), value_of(value));
                }
                out.push(object);
            }
            Ok(QueryResult { columns, rows: out })
        })
    }

    fn exec(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        sql: &str,
    ) -> Result<ExecResult, SqlError> {
        self.guarded(ctx, limits, |conn| {
            let changed = conn.execute(sql, []).map_err(SqlError::from_display)?;
            Ok(ExecResult {
                rows_affected: i64::try_from(changed).unwrap_or(i64::MAX),
                last_insert_id: Some(conn.last_insert_rowid()),
            })
        })
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("sqlite {}", path.display()),
            None => "sqlite :memory:".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runaway_query_is_interrupted_at_the_timeout() {
        let db = SqliteSql::open_in_memory().unwrap();
        let limits = SqlLimits {
            timeout: Duration::from_millis(50),
            ..SqlLimits::default()
        };
        let err = db
            .query(
                &CallContext::new(),
                &limits,
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                 SELECT count(*) FROM c",
            )
            .unwrap_err();
        assert_eq!(err.0, "statement interrupted: deadline exceeded");
    }

    #[test]
    fn canceled_call_interrupts_the_statement() {
        let db = SqliteSql::open_in_memory().unwrap();
        let token = switchboard::CancelToken::new();
        let ctx = CallContext::new().with_cancel(token.clone());
        token.cancel();
        let err = db
            .query(
                &ctx,
                &SqlLimits::default(),
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                 SELECT count(*) FROM c",
            )
            .unwrap_err();
        assert_eq!(err.0, "statement interrupted: call canceled");
    }

    #[test]
    fn file_database_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let ctx = CallContext::new();
        let limits = SqlLimits::default();
        {
            let db = SqliteSql::open(&path).unwrap();
            db.exec(&ctx, &limits, "CREATE TABLE t (v TEXT)").unwrap();
            db.exec(&ctx, &limits, "INSERT INTO t VALUES ('x')")
                .unwrap();
        }
        let db = SqliteSql::open(&path).unwrap();
        let rows = db.query(&ctx, &limits, "SELECT v FROM t").unwrap();
        assert_eq!(
            rows.rows,
            vec![serde_json::json!({"v": "x"}).as_object().unwrap().clone()]
        );
    }
}
