use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::builtin::Echo;
use crate::{CallContext, CallError, RegisterError};

const PATH: &str = "conf/switchboard.toml";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, PATH)
}

fn invalid(text: &str) -> (usize, usize, Option<String>, String) {
    match parse(text) {
        Err(ConfigError::Invalid { at, key, message }) => {
            assert_eq!(at.path, Path::new(PATH));
            (at.line, at.column, key, message)
        }
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

#[test]
fn empty_file_is_an_empty_config() {
    let config = parse("").unwrap();
    assert!(config.routes.is_empty() && config.presets.is_empty());
    assert_eq!(config.guest, GuestSettings::default());
    assert_eq!(config.base_dir, Path::new("conf"));
    assert_eq!(
        Config::parse("", "x.toml").unwrap().base_dir,
        Path::new(".")
    );
}

#[test]
fn full_example_parses() {
    let config = parse(
        r#"
[guest]
engine = "switchboard"
memory_limit_mib = 16
timeout_ms = 250
init_timeout_ms = 1000
instances = 3

[guest.wasi]
env = { B = "2", A = "1" }
args = ["prog", "-v"]

[[route]]
namespace = "example"
operation = "echo"
provider = "echo"

[[route]]
namespace = "kv"
binding = "demo"
provider = "memory-kv"
[route.options]
store = "main"

[[route]]
namespace = "database:kv"
component = "kv.wasm"

[preset.tarmac]
binding = "tarmac"
"#,
    )
    .unwrap();
    assert_eq!(config.guest.engine, Some(EngineKind::Switchboard));
    assert_eq!(config.guest.memory_limit_bytes, Some(16 << 20));
    assert_eq!(config.guest.timeout, Some(Duration::from_millis(250)));
    assert_eq!(config.guest.init_timeout, Some(Duration::from_secs(1)));
    assert_eq!(config.guest.instances, Some(3));
    assert_eq!(
        config.guest.wasi.env,
        [
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string())
        ]
    );
    assert_eq!(config.guest.wasi.args, ["prog", "-v"]);

    let keys: Vec<String> = config.routes.iter().map(|r| r.key.to_string()).collect();
    assert_eq!(keys, ["*/example:echo", "demo/kv:*", "*/database:kv:*"]);
    let providers: Vec<&str> = config.routes.iter().map(|r| r.provider.as_str()).collect();
    assert_eq!(providers, ["echo", "memory-kv", "component"]);
    assert_eq!(
        config.routes[1]
            .options
            .get("store")
            .and_then(|v| v.as_str()),
        Some("main")
    );
    assert_eq!(
        config.routes[2]
            .options
            .get("path")
            .and_then(|v| v.as_str()),
        Some("kv.wasm")
    );
    assert_eq!((config.routes[1].at.line, config.routes[1].index), (18, 1));

    assert_eq!(config.presets.len(), 1);
    assert_eq!(config.presets[0].name, "tarmac");
    assert_eq!(
        config.presets[0]
            .options
            .get("binding")
            .and_then(|v| v.as_str()),
        Some("tarmac")
    );
}

#[test]
fn unknown_key_names_line_column_and_key() {
    let err = parse("[[route]]\nnamespace = \"a\"\nprovder = \"echo\"\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:3:1: `route[0].provder`: unknown field `provder`, expected one of \
         `namespace`, `operation`, `binding`, `provider`, `component`, `options`"
    );
    assert_eq!(err.key(), Some("route[0].provder"));
    assert_eq!(err.location().map(|l| (l.line, l.column)), Some((3, 1)));
}

#[test]
fn unknown_top_level_table_is_an_error() {
    let (line, column, key, message) = invalid("[routes]\nx = 1\n");
    assert_eq!((line, column, key.as_deref()), (1, 2, Some("routes")));
    assert_eq!(
        message,
        "unknown field `routes`, expected one of `guest`, `route`, `preset`, `function`"
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    let (line, column, key, message) = invalid("[guest]\ntimeout_ms = \"5s\"\n");
    assert_eq!(
        (line, column, key.as_deref()),
        (2, 14, Some("guest.timeout_ms"))
    );
    assert_eq!(message, "invalid type: string \"5s\", expected u64");
}

#[test]
fn missing_namespace_points_at_the_route() {
    let (line, _, key, message) = invalid(
        "[[route]]\nnamespace = \"a\"\nprovider = \"echo\"\n\n[[route]]\nprovider = \"echo\"\n",
    );
    assert_eq!((line, key.as_deref()), (5, Some("route[1]")));
    assert_eq!(message, "missing field `namespace`");
}

#[test]
fn syntax_error_has_a_position_but_no_key() {
    let (line, column, key, message) = invalid("[guest]\ntimeout_ms = 5 x\n");
    assert_eq!((line, column, key), (2, 16, None));
    assert_eq!(message, "expected newline, `#`");
}

#[test]
fn empty_names_are_refused() {
    let (line, column, key, message) =
        invalid("[[route]]\nnamespace = \"ns\"\noperation = \"\"\nprovider = \"echo\"\n");
    assert_eq!(
        (line, column, key.as_deref()),
        (3, 13, Some("route[0].operation"))
    );
    assert_eq!(
        message,
        "must not be empty (omit it to serve every operation)"
    );

    let (_, _, key, _) = invalid("[[route]]\nnamespace = \"\"\nprovider = \"echo\"\n");
    assert_eq!(key.as_deref(), Some("route[0].namespace"));
    let (_, _, key, message) =
        invalid("[[route]]\nnamespace = \"a\"\nbinding = \"\"\nprovider = \"echo\"\n");
    assert_eq!(key.as_deref(), Some("route[0].binding"));
    assert_eq!(
        message,
        "must not be empty (omit it to match every binding)"
    );
}

#[test]
fn a_route_needs_exactly_one_of_provider_and_component() {
    let (line, _, key, message) = invalid("[[route]]\nnamespace = \"a\"\n");
    assert_eq!((line, key.as_deref()), (1, Some("route[0]")));
    assert_eq!(
        message,
        "a route needs `provider = \"<name>\"` or `component = \"<file>.wasm\"`"
    );
    let (line, _, key, message) =
        invalid("[[route]]\nnamespace = \"a\"\nprovider = \"echo\"\ncomponent = \"x.wasm\"\n");
    assert_eq!((line, key.as_deref()), (3, Some("route[0].provider")));
    assert_eq!(
        message,
        "a route has either `provider` or `component`, not both"
    );
    let (_, _, key, _) = invalid(
        "[[route]]\nnamespace = \"a\"\ncomponent = \"x.wasm\"\noptions = { path = \"y.wasm\" }\n",
    );
    assert_eq!(key.as_deref(), Some("route[0].options.path"));
}

#[test]
fn guest_limits_are_range_checked() {
    let (line, _, key, message) = invalid("[guest]\ninstances = 0\n");
    assert_eq!((line, key.as_deref()), (2, Some("guest.instances")));
    assert_eq!(message, "must be greater than 0");
    let (_, _, key, message) = invalid("[guest]\nmemory_limit_mib = 4097\n");
    assert_eq!(key.as_deref(), Some("guest.memory_limit_mib"));
    assert_eq!(message, "must be at most 4096 (4 GiB, the wasm32 maximum)");
    let (_, _, key, _) = invalid("[guest]\ntimeout_ms = -1\n");
    assert_eq!(key.as_deref(), Some("guest.timeout_ms"));
}

#[test]
fn wasi_env_names_are_checked() {
    let (line, _, key, _) = invalid("[guest.wasi]\nenv = { \"A=B\" = \"x\" }\n");
    assert_eq!((line, key.as_deref()), (2, Some("guest.wasi.env.A=B")));
}

#[test]
fn dir_grants_resolve_against_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let file = dir.path().join("switchboard.toml");
    std::fs::write(
        &file,
        "[guest.wasi]\ndirs = [{ host = \"data\", guest = \"/data\" }]\n",
    )
    .unwrap();
    let config = Config::load(&file).unwrap();
    assert_eq!(
        config.guest.wasi.dirs,
        [DirGrant {
            host: dir.path().join("data"),
            guest: "/data".into()
        }]
    );

    std::fs::write(
        &file,
        "[guest.wasi]\ndirs = [\n  { host = \"data\", guest = \"/data\" },\n  { host = \"nope\", guest = \"/n\" },\n]\n",
    )
    .unwrap();
    match Config::load(&file) {
        Err(ConfigError::Invalid { at, key, message }) => {
            assert_eq!((at.line, at.column), (4, 12));
            assert_eq!(key.as_deref(), Some("guest.wasi.dirs[1].host"));
            assert_eq!(
                message,
                format!(
                    "directory {} does not exist",
                    dir.path().join("nope").display()
                )
            );
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    let (_, _, key, message) =
        invalid("[guest.wasi]\ndirs = [{ host = \"/\", guest = \"data\" }]\n");
    assert_eq!(key.as_deref(), Some("guest.wasi.dirs[0].guest"));
    assert_eq!(message, "the guest path must be absolute (e.g. \"/data\")");
}

#[test]
fn unreadable_file_is_io() {
    let err = Config::load("/nonexistent/switchboard.toml").unwrap_err();
    assert!(
        matches!(&err, ConfigError::Io { path, .. } if path == Path::new("/nonexistent/switchboard.toml"))
    );
    assert!(err.location().is_none());
}

#[test]
fn apply_registers_routes_that_serve_calls() {
    let config = parse(
        "[[route]]\nnamespace = \"t\"\noperation = \"up\"\nprovider = \"uppercase\"\n\
         [[route]]\nnamespace = \"kv\"\nbinding = \"demo\"\nprovider = \"memory-kv\"\n",
    )
    .unwrap();
    let router = Router::new();
    let routes = config
        .apply(&router, &ProviderRegistry::with_builtins())
        .unwrap();
    let listed: Vec<String> = routes
        .iter()
        .map(|r| format!("{} {}", r.key, r.provider))
        .collect();
    assert_eq!(
        listed,
        ["*/t:up builtin uppercase", "demo/kv:* builtin memory-kv"]
    );
    let ctx = CallContext::new();
    assert_eq!(router.call(&ctx, "any", "t", "up", b"abc").unwrap(), b"ABC");
    router.call(&ctx, "demo", "kv", "Set", b"k=v").unwrap();
    assert_eq!(router.call(&ctx, "demo", "kv", "Get", b"k").unwrap(), b"v");
    assert!(matches!(
        router.call(&ctx, "other", "kv", "Get", b"k"),
        Err(CallError::NotFound { .. })
    ));
}

#[test]
fn unknown_provider_names_the_provider_value() {
    let config = parse("[[route]]\nnamespace = \"a\"\nprovider = \"ecko\"\n").unwrap();
    let err = config
        .apply(&Router::new(), &ProviderRegistry::with_builtins())
        .unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownProvider { name, .. } if name == "ecko"));
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:3:12: `route[0].provider`: unknown provider 'ecko' \
         (known: echo, fail, memory-kv, uppercase)"
    );
}

#[test]
fn component_route_without_component_runtime_is_an_unknown_provider() {
    let config = parse("[[route]]\nnamespace = \"a\"\ncomponent = \"kv.wasm\"\n").unwrap();
    let err = config
        .apply(&Router::new(), &ProviderRegistry::new())
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnknownProvider { name, known, .. } if name == "component" && known.is_empty())
    );
}

#[test]
fn factory_errors_name_the_route() {
    let config = parse(
        "[[route]]\nnamespace = \"a\"\nprovider = \"echo\"\n\n[[route]]\nnamespace = \"b\"\nprovider = \"fail\"\noptions = { mesage = \"x\" }\n",
    )
    .unwrap();
    let router = Router::new();
    let err = config
        .apply(&router, &ProviderRegistry::with_builtins())
        .unwrap_err();
    assert!(matches!(
        &err,
        ConfigError::Provider { provider, source: FactoryError::InvalidOptions(_), .. } if provider == "fail"
    ));
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:5:1: `route[1]`: provider 'fail': invalid options: \
         unknown field `mesage`, expected `message` or `payload`"
    );
    assert!(router.routes().is_empty(), "nothing registered on error");
}

#[test]
fn duplicate_route_is_refused_and_rolled_back() {
    let config = parse(
        "[[route]]\nnamespace = \"a\"\nprovider = \"echo\"\n[[route]]\nnamespace = \"b\"\nprovider = \"echo\"\n[[route]]\nnamespace = \"a\"\nprovider = \"uppercase\"\n",
    )
    .unwrap();
    let router = Router::new();
    router.register("keep", "me", Echo).unwrap();
    let err = config
        .apply(&router, &ProviderRegistry::with_builtins())
        .unwrap_err();
    match &err {
        ConfigError::Register { at, key, source } => {
            assert_eq!((at.line, key.as_str()), (7, "route[2]"));
            assert_eq!(**source, RegisterError::Duplicate(RouteKey::namespace("a")));
        }
        other => panic!("expected Register, got {other:?}"),
    }
    let left: Vec<String> = router.routes().iter().map(|r| r.key.to_string()).collect();
    assert_eq!(
        left,
        ["*/keep:me"],
        "routes added by the failed apply are removed"
    );
}

#[test]
fn presets_build_their_routes() {
    let mut registry = ProviderRegistry::new();
    registry.register_preset("suite", |ctx| {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Opts {
            binding: String,
        }
        let opts: Opts = ctx.parse_options()?;
        Ok(vec![(
            RouteKey::namespace("suite").with_binding(opts.binding),
            Arc::new(Echo) as Arc<dyn Provider>,
        )])
    });
    let config = parse("[preset.suite]\nbinding = \"x\"\n").unwrap();
    let router = Router::new();
    let routes = config.apply(&router, &registry).unwrap();
    assert_eq!(routes[0].key.to_string(), "x/suite:*");
    assert_eq!(
        router
            .call(&CallContext::new(), "x", "suite", "op", b"p")
            .unwrap(),
        b"p"
    );

    let config = parse("\n[preset.suite]\nbinding = 1\n").unwrap();
    let err = config.apply(&Router::new(), &registry).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:2:1: `preset.suite`: provider 'suite': invalid options: \
         invalid type: integer `1`, expected a string"
    );

    let config = parse("[preset.tarmac]\n").unwrap();
    let err = config.apply(&Router::new(), &registry).unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownPreset { name, .. } if name == "tarmac"));
    assert_eq!(
        err.to_string(),
        "conf/switchboard.toml:1:1: `preset.tarmac`: unknown preset 'tarmac' (known: suite)"
    );
}

#[test]
fn unknown_engine_is_refused() {
    let (line, column, key, message) = invalid("[guest]\nengine = \"v8\"\n");
    assert_eq!(
        (line, column, key.as_deref()),
        (2, 10, Some("guest.engine"))
    );
    assert_eq!(
        message,
        "unknown engine 'v8' (known: switchboard, wasmtime-provider)"
    );
}

#[test]
fn guest_settings_override_only_what_the_file_sets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("switchboard.toml");
    std::fs::write(
        &file,
        "[guest]\ntimeout_ms = 1500\nmemory_limit_mib = 8\n[guest.wasi]\nenv = { A = \"1\" }\nargs = [\"g\"]\ndirs = [{ host = \".\", guest = \"/cfg\" }]\n",
    )
    .unwrap();
    let config = Config::load(&file).unwrap();
    let base = GuestConfig::default().with_name("demo").with_pool_size(7);
    let guest = config.guest.apply_to(base.clone());
    assert_eq!(guest.name.as_deref(), Some("demo"));
    assert_eq!(guest.pool_size, 7);
    assert_eq!(guest.engine, base.engine);
    assert_eq!(guest.init_timeout, base.init_timeout);
    assert_eq!(guest.invoke_timeout, Duration::from_millis(1500));
    assert_eq!(guest.max_memory_bytes, 8 << 20);
    assert_eq!(guest.wasi.env, [("A".to_string(), "1".to_string())]);
    assert_eq!(guest.wasi.args, ["g"]);
    assert_eq!(
        guest.wasi.read_only_dirs,
        [PreopenDir {
            host: dir.path().join("."),
            guest: "/cfg".into()
        }]
    );
}

#[test]
fn preset_given_only_through_sub_tables_parses() {
    // Regression: `[preset.tarmac.kvstore]` without `[preset.tarmac]` used to fail with
    // "invalid type: string \"kvstore\", expected a borrowed string" (no span for the table).
    let config = parse("# comment\n\n[preset.tarmac.kvstore]\nbackend = \"redis\"\n").unwrap();
    assert_eq!(config.presets.len(), 1);
    let preset = &config.presets[0];
    assert_eq!(preset.name, "tarmac");
    assert_eq!((preset.at.line, preset.at.column), (3, 1));
    let kvstore = preset.options.get("kvstore").and_then(|v| v.as_table());
    assert_eq!(
        kvstore
            .and_then(|t| t.get("backend"))
            .and_then(|v| v.as_str()),
        Some("redis")
    );

    let config =
        parse("[preset.tarmac]\nbinding = \"t\"\n[preset.tarmac.sql]\nbackend = \"sqlite\"\n")
            .unwrap();
    let preset = &config.presets[0];
    assert_eq!((preset.at.line, preset.at.column), (1, 1));
    assert_eq!(
        preset.options.get("binding").and_then(|v| v.as_str()),
        Some("t")
    );
    assert!(preset.options.get("sql").is_some_and(toml::Value::is_table));

    // Dotted keys only: the location is the first entry's last key segment.
    let config = parse("preset.tarmac.binding = \"t\"\n").unwrap();
    assert_eq!(
        (config.presets[0].at.line, config.presets[0].at.column),
        (1, 15)
    );
}

#[test]
fn route_options_given_only_through_sub_tables_parse() {
    let config = parse(
        "[[route]]\nnamespace = \"kv\"\nprovider = \"echo\"\n[route.options.inner]\nsize = 1\n",
    )
    .unwrap();
    let inner = config.routes[0]
        .options
        .get("inner")
        .and_then(|v| v.as_table());
    assert_eq!(
        inner
            .and_then(|t| t.get("size"))
            .and_then(|v| v.as_integer()),
        Some(1)
    );
}

#[test]
fn functions_name_guests_relative_to_the_config() {
    let config = parse("[function.reports]\nguest = \"fn/reports.wasm\"\n\n[function.a]\nguest = \"/abs/a.wasm\"\n")
        .unwrap();
    let names: Vec<(&str, &Path, usize)> = config
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.guest.as_path(), f.at.line))
        .collect();
    assert_eq!(
        names,
        [
            ("a", Path::new("/abs/a.wasm"), 4),
            ("reports", Path::new("conf/fn/reports.wasm"), 1)
        ]
    );
}

#[test]
fn function_entries_are_checked() {
    let (line, column, key, message) = invalid("[function.x]\nguest = \"\"\n");
    assert_eq!(
        (line, column, key.as_deref(), message.as_str()),
        (2, 9, Some("function.x.guest"), "must not be empty")
    );
    let (line, _, key, message) = invalid("[function.x]\nguets = \"a.wasm\"\n");
    assert_eq!(line, 2);
    assert_eq!(key.as_deref(), Some("function.x.guets"));
    assert!(message.starts_with("unknown field `guets`"), "{message}");
    let (_, _, _, message) = invalid("[function.x]\n");
    assert_eq!(message, "missing field `guest`");
}
