//! `sql`: Tarmac's SQL capability (`query`, `exec`) over a pluggable [`SqlBackend`]:
//! [`SqliteSql`] (bundled SQLite, the embedded default) and [`PostgresSql`].
//!
//! `query` answers with the rows as a JSON array of objects keyed by column name, with real
//! types: integers and floats as numbers, text as strings, NULL as `null`, blobs (`bytea`) as
//! base64 strings, booleans as booleans (PostgreSQL), anything else (numeric, dates, json, ...)
//! as the engine's text form. No rows is `[]` (Tarmac sends `null`; `[]` decodes the same way in
//! Go and also in typed decoders that reject `null`). Protobuf responses also list the columns.
//! In JSON the query and the row data are base64, as in Tarmac.
//!
//! `exec` answers rows affected and the last insert id. SQLite reports its last insert rowid.
//! **PostgreSQL has no last insert id**: it answers `0` with status 200 (Tarmac's Go drivers
//! answer 206, which fails every guest's insert); use `query` with `INSERT ... RETURNING id`.
//! `exec` is protobuf in Tarmac; a JSON `{"query": base64}` is also accepted and answered in
//! JSON (`last_insert_id`, `rows_affected`, `status`).
//!
//! Statuses: 400 `Error Parsing Input`; 400 `Unable to decode query - <reason>` (bad base64);
//! 400 `SQL Query must be defined` (empty); 500 `Unable to execute query - <engine message>`
//! (engine errors, and the configured [`SqlLimits`]).

mod postgres_backend;
mod sqlite_backend;

use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message as _;
use serde_json::{Map, Value};
use switchboard::{CallContext, Provider, ProviderError, Request};

use crate::wire::{self, code, json, proto, Encoding, Status};

pub use postgres_backend::PostgresSql;
pub use sqlite_backend::SqliteSql;

/// An engine or limit failure, with the engine's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SqlError(pub String);

impl SqlError {
    /// Wrap any displayable engine error.
    pub fn from_display(err: impl std::fmt::Display) -> Self {
        SqlError(err.to_string())
    }
}

/// The rows of a query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// Column names in result order.
    pub columns: Vec<String>,
    /// One object per row, keyed by column name (a repeated name keeps the last value).
    pub rows: Vec<Map<String, Value>>,
}

/// What a statement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecResult {
    /// Rows inserted, updated or deleted.
    pub rows_affected: i64,
    /// The last inserted row id where the engine has one (SQLite), `None` where it has not.
    pub last_insert_id: Option<i64>,
}

/// Bounds on one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// Most rows a query may return before it fails (default 10 000).
    pub max_rows: usize,
    /// Longest a statement may run, on top of the call's own deadline (default 30 s).
    pub timeout: Duration,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            max_rows: 10_000,
            timeout: Duration::from_secs(30),
        }
    }
}

impl SqlLimits {
    /// The statement's deadline: the earlier of the call's deadline and now + `timeout`.
    pub fn deadline(&self, ctx: &CallContext) -> Instant {
        let own = Instant::now() + self.timeout;
        match ctx.deadline() {
            Some(call) if call < own => call,
            _ => own,
        }
    }
}

/// A SQL engine behind the `sql` provider. One statement per call.
pub trait SqlBackend: Send + Sync + 'static {
    /// Run a statement that returns rows.
    ///
    /// # Errors
    ///
    /// [`SqlError`] when the statement fails to prepare or run, or a value cannot
    /// be read.
    fn query(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        sql: &str,
    ) -> Result<QueryResult, SqlError>;
    /// Run a statement for its effect.
    ///
    /// # Errors
    ///
    /// [`SqlError`] when the statement fails to prepare or run.
    fn exec(
        &self,
        ctx: &CallContext,
        limits: &SqlLimits,
        sql: &str,
    ) -> Result<ExecResult, SqlError>;
    /// A short description for route listings.
    fn describe(&self) -> String;
}

/// The `sql` provider. Register it for the whole namespace:
/// `router.register_namespace("sql", Sql::new(SqliteSql::open_in_memory()?))`.
#[derive(Clone)]
pub struct Sql {
    backend: Arc<dyn SqlBackend>,
    limits: SqlLimits,
}

impl std::fmt::Debug for Sql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sql")
            .field("backend", &self.backend.describe())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Sql {
    /// A provider over `backend` with default limits.
    pub fn new(backend: impl SqlBackend) -> Self {
        Self::from_arc(Arc::new(backend))
    }

    /// A provider over a shared backend.
    pub fn from_arc(backend: Arc<dyn SqlBackend>) -> Self {
        Sql {
            backend,
            limits: SqlLimits::default(),
        }
    }

    /// Replace the limits.
    pub fn with_limits(mut self, limits: SqlLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn SqlBackend> {
        &self.backend
    }

    fn parse_query(enc: Encoding, payload: &[u8]) -> Result<String, Status> {
        let bytes = wire::parse(
            enc,
            payload,
            |m: json::SqlQuery| {
                json::b64_decode(&m.query)
                    .map_err(|e| Status::bad_request(format!("Unable to decode query - {e}")))
            },
            |m: proto::SqlQuery| Ok(m.query),
        )?;
        if bytes.is_empty() {
            return Err(Status::bad_request("SQL Query must be defined"));
        }
        String::from_utf8(bytes)
            .map_err(|_| Status::bad_request("Unable to decode query - not valid UTF-8"))
    }

    fn query(&self, ctx: &CallContext, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let enc = Encoding::detect(payload);
        let outcome = Self::parse_query(enc, payload).and_then(|sql| {
            self.backend
                .query(ctx, &self.limits, &sql)
                .map_err(|e| Status::new(code::INTERNAL, format!("Unable to execute query - {e}")))
        });
        let (status, result) = match outcome {
            Ok(result) => (Status::ok(), result),
            Err(status) => (status, QueryResult::default()),
        };
        let rows = if status.is_ok() {
            json::encode(&result.rows)
        } else {
            Vec::new()
        };
        let encoded = match enc {
            Encoding::Json => json::encode(&json::SqlQueryResponse {
                status: status.to_json(),
                data: json::b64_encode(&rows),
            }),
            Encoding::Protobuf => proto::SqlQueryResponse {
                status: Some(status.to_proto()),
                columns: result.columns,
                data: rows,
            }
            .encode_to_vec(),
        };
        wire::reply(&status, encoded)
    }

    fn exec(&self, ctx: &CallContext, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let enc = Encoding::detect(payload);
        let outcome = Self::parse_query(enc, payload).and_then(|sql| {
            self.backend
                .exec(ctx, &self.limits, &sql)
                .map_err(|e| Status::new(code::INTERNAL, format!("Unable to execute query - {e}")))
        });
        let (status, rows_affected, last_insert_id) = match outcome {
            Ok(r) => (Status::ok(), r.rows_affected, r.last_insert_id.unwrap_or(0)),
            Err(status) => (status, 0, 0),
        };
        let encoded = match enc {
            Encoding::Json => json::encode(&json::SqlExecResponse {
                status: status.to_json(),
                last_insert_id,
                rows_affected,
            }),
            Encoding::Protobuf => proto::SqlExecResponse {
                status: Some(status.to_proto()),
                last_insert_id,
                rows_affected,
            }
            .encode_to_vec(),
        };
        wire::reply(&status, encoded)
    }
}

impl Provider for Sql {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        match req.operation {
            "query" => self.query(req.ctx, req.payload),
            "exec" => self.exec(req.ctx, req.payload),
            other => Err(ProviderError::UnknownOperation(other.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!("tarmac sql ({})", self.backend.describe())
    }
}

/// The error of a query that returned more rows than allowed.
pub(crate) fn too_many_rows(limits: &SqlLimits) -> SqlError {
    SqlError(format!("result exceeds {} rows", limits.max_rows))
}

/// A float as JSON: a number, or `null` for NaN and infinities (JSON has no such numbers).
pub(crate) fn float_value(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}
