use switchboard::config::{ApplyOptions, Config, ConfigError, FactoryError};
use switchboard::{CallContext, CallError};

use super::*;

fn kv_set(router: &Router, binding: &str, key: &str, value: &str) -> Result<Vec<u8>, CallError> {
    let payload = format!(
        r#"{{"key":"{key}","data":"{}"}}"#,
        crate::wire::json::b64_encode(value.as_bytes())
    );
    router.call(
        &CallContext::new(),
        binding,
        "kvstore",
        "set",
        payload.as_bytes(),
    )
}

fn kv_get(router: &Router, binding: &str, key: &str) -> Result<Vec<u8>, CallError> {
    let payload = format!(r#"{{"key":"{key}"}}"#);
    router.call(
        &CallContext::new(),
        binding,
        "kvstore",
        "get",
        payload.as_bytes(),
    )
}

#[test]
fn suite_registers_every_capability_under_the_binding() {
    let router = Router::new();
    let suite = TarmacSuite::in_memory().unwrap();
    let routes = suite.register(&router).unwrap();
    let keys: Vec<String> = routes.iter().map(|r| r.key.to_string()).collect();
    let expected: Vec<String> = [
        "kvstore",
        "sql",
        "httpclient",
        "logger",
        "logging",
        "metrics",
    ]
    .iter()
    .map(|ns| RouteKey::namespace(*ns).with_binding("tarmac").to_string())
    .collect();
    assert_eq!(keys, expected);
    kv_set(&router, "tarmac", "k", "v").unwrap();
    assert_eq!(
        kv_get(&router, "other", "k").unwrap_err(),
        CallError::NotFound {
            binding: "other".to_string(),
            namespace: "kvstore".to_string(),
            operation: "get".to_string(),
        }
    );
    // Registering again is refused and leaves the first registration in place.
    let again = suite.register(&router).unwrap_err();
    assert!(
        matches!(
            &again,
            TarmacError::Register(RegisterError::Duplicate(key)) if key.to_string() == "tarmac/kvstore:*"
        ),
        "{again:?}"
    );
    assert_eq!(router.routes().len(), 6);
    assert_eq!(kv_get(&router, "tarmac", "k").unwrap(), GOT_V);
}

#[test]
fn star_binding_serves_every_binding() {
    let router = Router::new();
    TarmacSuite::in_memory()
        .unwrap()
        .with_binding("*")
        .register(&router)
        .unwrap();
    kv_set(&router, "default", "k", "v").unwrap();
    assert_eq!(kv_get(&router, "tarmac", "k").unwrap(), GOT_V);
    assert_eq!(
        router.routes()[0].key,
        RouteKey::namespace("httpclient"),
        "`*` leaves the routes unscoped"
    );
}

#[test]
fn failed_registration_removes_what_it_added() {
    let router = Router::new();
    router
        .register_key(
            RouteKey::namespace("metrics").with_binding("tarmac"),
            |_: &[u8]| Ok::<_, String>(Vec::new()),
            Conflict::Reject,
        )
        .unwrap();
    let err = TarmacSuite::in_memory()
        .unwrap()
        .register(&router)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            TarmacError::Register(RegisterError::Duplicate(key)) if key.to_string() == "tarmac/metrics:*"
        ),
        "{err:?}"
    );
    assert_eq!(router.routes().len(), 1);
}

/// `v` as stored: the kvstore's JSON answer to `get`.
const GOT_V: &[u8] = br#"{"status":{"code":200,"status":"OK"},"data":"dg=="}"#;

fn apply(text: &str, dir: &Path, metrics: &Metrics) -> Result<Router, ConfigError> {
    apply_with(text, dir, metrics, &ApplyOptions::new())
}

fn apply_with(
    text: &str,
    dir: &Path,
    metrics: &Metrics,
    options: &ApplyOptions,
) -> Result<Router, ConfigError> {
    let config = Config::parse(text, dir.join("switchboard.toml"))?;
    let registry = ProviderRegistry::new().with(&Tarmac::new(metrics.clone()));
    let router = Router::builder().post(metrics.observer()).build();
    config.apply_with(&router, &registry, options)?;
    Ok(router)
}

#[test]
fn the_capability_registers_exactly_the_suite_names() {
    let registry = ProviderRegistry::new().with(&Tarmac::new(Metrics::new()));
    assert_eq!(
        registry.provider_names().collect::<Vec<_>>(),
        ["httpclient", "kvstore", "logger", "metrics", "sql"]
    );
    assert_eq!(registry.preset_names().collect::<Vec<_>>(), ["tarmac"]);
    assert!(registry.functions().is_none());
}

#[test]
fn data_dir_replaces_the_stores_directory_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let metrics = Metrics::new();
    let options = ApplyOptions::new().with_data_dir(data.path());
    // The preset's `data_dir` and a kvstore route's are replaced; the echo-like logger route
    // has no store.
    let text = "[preset.tarmac]
data_dir = \"old\"
capabilities = [\"sql\"]

\
                [[route]]
namespace = \"kv2\"
provider = \"kvstore\"
\
                [route.options]
data_dir = \"route-dir\"

\
                [[route]]
namespace = \"log\"
provider = \"logger\"
";
    let router = apply_with(text, dir.path(), &metrics, &options).expect("applies");
    assert!(data.path().join("sql.sqlite").is_file());
    assert!(data.path().join("kvstore.redb").is_file());
    assert!(!dir.path().join("old").exists());
    assert!(!dir.path().join("route-dir").exists());
    assert!(!dir.path().join(DEFAULT_DATA_DIR).exists());
    drop(router);

    // A data_dir nested in the preset's store table, and an explicit per-store path, still win.
    let data = tempfile::tempdir().unwrap();
    let options = ApplyOptions::new().with_data_dir(data.path());
    let text = "[preset.tarmac]
capabilities = [\"kvstore\", \"sql\"]
\
                kvstore = { data_dir = \"nested\" }
sql = { path = \"own.sqlite\" }
";
    let router = apply_with(text, dir.path(), &metrics, &options).expect("applies");
    assert!(dir.path().join("nested/kvstore.redb").is_file());
    assert!(dir.path().join("own.sqlite").is_file());
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
    drop(router);
}

#[test]
fn preset_from_config_persists_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Metrics::new();
    let text = "[preset.tarmac]\ndata_dir = \"state\"\n";
    {
        let router = apply(text, dir.path(), &metrics).unwrap();
        kv_set(&router, "tarmac", "k", "kept").unwrap();
        let exec = crate::wire::proto::SqlExec {
            query: b"CREATE TABLE t (v TEXT)".to_vec(),
        };
        let payload = prost::Message::encode_to_vec(&exec);
        router
            .call(&CallContext::new(), "tarmac", "sql", "exec", &payload)
            .unwrap();
        router
            .call(
                &CallContext::new(),
                "tarmac",
                "metrics",
                "counter",
                br#"{"name":"hits"}"#,
            )
            .unwrap();
    }
    assert!(dir.path().join("state/kvstore.redb").is_file());
    assert!(dir.path().join("state/sql.sqlite").is_file());
    let router = apply(text, dir.path(), &metrics).unwrap();
    assert_eq!(
        kv_get(&router, "tarmac", "k").unwrap(),
        br#"{"status":{"code":200,"status":"OK"},"data":"a2VwdA=="}"#
    );
    let text = metrics.render();
    assert!(text.contains("# TYPE hits counter\nhits 1\n"), "{text}");
    assert!(
        text.contains("wasm_callbacks_count{callback=\"kvstore:set\"} 1\n"),
        "{text}"
    );
}

#[test]
fn preset_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Metrics::new();
    let provider_error = |text: &str| match apply(text, dir.path(), &metrics) {
        Err(ConfigError::Provider { source, .. }) => source,
        Err(other) => panic!("expected a provider error, got {other}"),
        Ok(_) => panic!("expected an error"),
    };
    let err = provider_error("[preset.tarmac]\ncapabilities = [\"kvstore\", \"queue\"]\n");
    assert_eq!(
        err.to_string(),
        "invalid options: unknown capability \"queue\", expected one of kvstore, sql, \
         httpclient, logger, metrics"
    );
    let err = provider_error("[preset.tarmac]\nkvstore = { backend = \"redis\" }\n");
    assert!(
        matches!(&err, FactoryError::InvalidOptions(m) if m == "kvstore backend \"redis\" needs `url`"),
        "{err}"
    );
    let err = provider_error("[preset.tarmac]\nbindng = \"x\"\n");
    assert!(
        matches!(&err, FactoryError::InvalidOptions(m) if m.starts_with("unknown field `bindng`")),
        "{err}"
    );
    let err = provider_error("[preset.tarmac]\nsql = { backend = \"mysql\" }\n");
    assert!(
        matches!(&err, FactoryError::InvalidOptions(m) if m.starts_with("unknown variant `mysql`")),
        "{err}"
    );
}

#[test]
fn single_capabilities_as_routes() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Metrics::new();
    let text = r#"
[[route]]
namespace = "kvstore"
binding = "tarmac"
provider = "kvstore"
[route.options]
backend = "memory"

[[route]]
namespace = "logger"
provider = "logger"

[[route]]
namespace = "sql"
provider = "sql"
[route.options]
path = ":memory:"
"#;
    let router = apply(text, dir.path(), &metrics).unwrap();
    kv_set(&router, "tarmac", "a", "b").unwrap();
    assert_eq!(
        router.call(&CallContext::new(), "any", "logger", "info", b"hi"),
        Ok(Vec::new())
    );
    // The in-memory SQLite left nothing on disk.
    assert!(!dir.path().join(".switchboard").exists());
    let bad =
        "[[route]]\nnamespace = \"logger\"\nprovider = \"logger\"\n[route.options]\nlevel = 1\n";
    match apply(bad, dir.path(), &metrics) {
        Err(ConfigError::Provider { source, .. }) => assert_eq!(
            source.to_string(),
            "invalid options: unknown option `level`: provider \"logger\" takes no options"
        ),
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("expected an error"),
    }
}
