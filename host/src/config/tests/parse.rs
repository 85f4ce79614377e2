//! Checking the file: syntax, unknown keys, routes, presets and functions, with locations.

use super::*;

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
    assert_eq!(config.guest.max_memory_bytes, Some(16 << 20));
    assert_eq!(config.guest.timeout, Some(Duration::from_millis(250)));
    assert_eq!(config.guest.init_timeout, Some(Duration::from_secs(1)));
    assert_eq!(config.guest.pool_max, Some(3));
    assert_eq!(
        config.guest.grants.env,
        [
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string())
        ]
    );
    assert_eq!(config.guest.grants.args, ["prog", "-v"]);

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
fn unreadable_file_is_io() {
    let err = Config::load("/nonexistent/switchboard.toml").unwrap_err();
    assert!(
        matches!(&err, ConfigError::Io { path, .. } if path == Path::new("/nonexistent/switchboard.toml")),
        "{err:?}"
    );
    assert!(err.location().is_none());
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
