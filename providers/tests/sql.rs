//! One sql conformance suite, run against SQLite (bundled) and a real PostgreSQL
//! (`scripts/services.sh start` provides it through `SWITCHBOARD_TEST_POSTGRES_URL`).

use std::sync::Arc;

use prost::Message;
use serde_json::{json, Value};
use switchboard::{CallContext, CallError, Router};
use switchboard_providers::sql::{PostgresSql, Sql, SqlBackend, SqlLimits, SqliteSql};
use switchboard_providers::wire::{json::b64_decode, json::b64_encode, proto};

struct Dialect {
    create: &'static str,
    blob: &'static str,
    /// Whether the engine reports a last insert id (SQLite yes, PostgreSQL no: 0).
    last_insert_id: bool,
}

const SQLITE: Dialect = Dialect {
    create: "CREATE TABLE sb_conf (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE PRECISION, \
             data BLOB, note TEXT)",
    blob: "X'00ff'",
    last_insert_id: true,
};

const POSTGRES: Dialect = Dialect {
    create: "CREATE TABLE sb_conf (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, \
             data BYTEA, note TEXT)",
    blob: "'\\x00ff'::bytea",
    last_insert_id: false,
};

fn call(router: &Router, op: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
    router.call(&CallContext::new(), "tarmac", "sql", op, payload)
}

fn ok() -> Option<proto::Status> {
    Some(proto::Status {
        code: 200,
        status: "OK".to_string(),
    })
}

fn exec(router: &Router, sql: &str) -> Result<proto::SqlExecResponse, CallError> {
    let payload = proto::SqlExec {
        query: sql.as_bytes().to_vec(),
    }
    .encode_to_vec();
    let out = call(router, "exec", &payload)?;
    Ok(proto::SqlExecResponse::decode(&out[..]).unwrap())
}

fn query(router: &Router, sql: &str) -> Result<(Vec<String>, Value), CallError> {
    let payload = proto::SqlQuery {
        query: sql.as_bytes().to_vec(),
    }
    .encode_to_vec();
    let out = call(router, "query", &payload)?;
    let rsp = proto::SqlQueryResponse::decode(&out[..]).unwrap();
    assert_eq!(rsp.status, ok());
    Ok((rsp.columns, serde_json::from_slice(&rsp.data).unwrap()))
}

fn failed_message(err: CallError) -> String {
    match err {
        CallError::ProviderFailed { message, .. } => message,
        other => panic!("expected ProviderFailed, got {other:?}"),
    }
}

fn conformance(backend: Arc<dyn SqlBackend>, dialect: &Dialect) {
    let router = Router::new();
    router
        .register_namespace("sql", Sql::from_arc(backend.clone()))
        .unwrap();

    exec(&router, "DROP TABLE IF EXISTS sb_conf").unwrap();
    let created = exec(&router, dialect.create).unwrap();
    assert_eq!(created.status, ok());
    assert_eq!(created.rows_affected, 0);

    let insert = format!(
        "INSERT INTO sb_conf (id, name, score, data, note) VALUES (1, 'alice', 1.5, {}, NULL)",
        dialect.blob
    );
    let first = exec(&router, &insert).unwrap();
    assert_eq!(
        first,
        proto::SqlExecResponse {
            status: ok(),
            last_insert_id: if dialect.last_insert_id { 1 } else { 0 },
            rows_affected: 1,
        }
    );
    let second = exec(
        &router,
        "INSERT INTO sb_conf (id, name, score, data, note) VALUES (7, 'bób ✓', -2.25, NULL, 'x')",
    )
    .unwrap();
    assert_eq!(second.rows_affected, 1);
    assert_eq!(
        second.last_insert_id,
        if dialect.last_insert_id { 7 } else { 0 }
    );

    // Rows as JSON objects with real types; protobuf lists the columns in order.
    let select = "SELECT id, name, score, data, note FROM sb_conf ORDER BY id";
    let expected = json!([
        {"id": 1, "name": "alice", "score": 1.5, "data": "AP8=", "note": null},
        {"id": 7, "name": "bób ✓", "score": -2.25, "data": null, "note": "x"},
    ]);
    let (columns, rows) = query(&router, select).unwrap();
    assert_eq!(columns, ["id", "name", "score", "data", "note"]);
    assert_eq!(rows, expected);

    // The same through JSON: query and data are base64.
    let out = call(
        &router,
        "query",
        json!({"query": b64_encode(select.as_bytes())})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let rsp: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(rsp["status"], json!({"code": 200, "status": "OK"}));
    let data = b64_decode(rsp["data"].as_str().unwrap()).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&data).unwrap(), expected);

    // No rows: an empty array, columns still listed.
    let (columns, rows) = query(&router, "SELECT id, name FROM sb_conf WHERE id = 99").unwrap();
    assert_eq!(columns, ["id", "name"]);
    assert_eq!(rows, json!([]));

    // 64-bit integers stay exact.
    let (_, rows) = query(&router, "SELECT 9007199254740993 AS big").unwrap();
    assert_eq!(rows, json!([{"big": 9007199254740993_i64}]));

    // Exec through JSON (an extension), with rows affected.
    let out = call(
        &router,
        "exec",
        json!({"query": b64_encode(b"UPDATE sb_conf SET note = 'y'")})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let rsp: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(rsp["status"], json!({"code": 200, "status": "OK"}));
    assert_eq!(rsp["rows_affected"], json!(2));

    // Error cases: status code and message of the spec; the host call fails with the text.
    let must = "SQL Query must be defined";
    let empty = proto::SqlQuery { query: Vec::new() }.encode_to_vec();
    assert_eq!(
        call(&router, "query", &empty).unwrap_err(),
        CallError::ProviderFailed {
            message: must.to_string(),
            payload: Some(
                proto::SqlQueryResponse {
                    status: Some(proto::Status {
                        code: 400,
                        status: must.to_string()
                    }),
                    columns: Vec::new(),
                    data: Vec::new(),
                }
                .encode_to_vec()
            ),
        }
    );
    assert_eq!(
        call(&router, "query", br#"{"query":""}"#).unwrap_err(),
        CallError::ProviderFailed {
            message: must.to_string(),
            payload: Some(
                format!(r#"{{"status":{{"code":400,"status":"{must}"}},"data":""}}"#).into_bytes()
            ),
        }
    );
    assert_eq!(
        failed_message(exec(&router, "").unwrap_err()),
        "SQL Query must be defined"
    );
    assert_eq!(
        failed_message(call(&router, "query", br#"{"query":"%%%"}"#).unwrap_err()),
        "Unable to decode query - Invalid symbol 37, offset 0."
    );
    assert_eq!(
        failed_message(call(&router, "query", br#"{"query":"#).unwrap_err()),
        "Error Parsing Input"
    );
    assert_eq!(
        failed_message(call(&router, "exec", &[0x0a, 0x09, 0x41]).unwrap_err()),
        "Error Parsing Input"
    );
    let syntax = failed_message(query(&router, "SELEC * FROM sb_conf").unwrap_err());
    assert!(
        syntax.starts_with("Unable to execute query - ") && syntax.contains("syntax error"),
        "{syntax}"
    );
    let syntax = failed_message(exec(&router, "DELET FROM sb_conf").unwrap_err());
    assert!(syntax.contains("syntax error"), "{syntax}");
    let missing = failed_message(query(&router, "SELECT * FROM no_such_table").unwrap_err());
    assert!(missing.contains("no_such_table"), "{missing}");
    assert_eq!(
        call(&router, "drop", b"").unwrap_err(),
        CallError::UnknownOperation("drop".to_string())
    );

    // Row limit: a query over it fails instead of buffering an unbounded result.
    let limited = Router::new();
    limited
        .register_namespace(
            "sql",
            Sql::from_arc(backend).with_limits(SqlLimits {
                max_rows: 1,
                ..SqlLimits::default()
            }),
        )
        .unwrap();
    assert_eq!(
        failed_message(query(&limited, select).unwrap_err()),
        "Unable to execute query - result exceeds 1 rows"
    );
    let (_, one) = query(&limited, "SELECT id FROM sb_conf WHERE id = 7").unwrap();
    assert_eq!(one, json!([{"id": 7}]));

    // The data is intact after all the failures.
    let (_, rows) = query(&router, "SELECT id, note FROM sb_conf ORDER BY id").unwrap();
    assert_eq!(
        rows,
        json!([{"id": 1, "note": "y"}, {"id": 7, "note": "y"}])
    );
    exec(&router, "DROP TABLE sb_conf").unwrap();
}

#[test]
fn sqlite_in_memory_conforms() {
    conformance(Arc::new(SqliteSql::open_in_memory().unwrap()), &SQLITE);
}

#[test]
fn sqlite_file_conforms() {
    let dir = tempfile::tempdir().unwrap();
    conformance(
        Arc::new(SqliteSql::open(dir.path().join("db.sqlite")).unwrap()),
        &SQLITE,
    );
}

#[test]
fn postgres_conforms() {
    let url = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").expect(
        "SWITCHBOARD_TEST_POSTGRES_URL is not set: run `scripts/services.sh start` and source \
         the env file it writes (this test needs a real PostgreSQL server)",
    );
    conformance(Arc::new(PostgresSql::connect(&url).unwrap()), &POSTGRES);
}
