//! `[guest]`: limits, engine, grants, and the older key names as aliases.

use super::*;

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
        config.guest.grants.dirs,
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
fn unknown_engine_is_refused() {
    let (line, column, key, message) = invalid("[guest]\nengine = \"v8\"\n");
    assert_eq!(
        (line, column, key.as_deref()),
        (2, 10, Some("guest.engine"))
    );
    #[cfg(feature = "wasmtime-provider")]
    assert_eq!(
        message,
        "unknown engine 'v8' (known: switchboard, wasmtime-provider)"
    );
    #[cfg(not(feature = "wasmtime-provider"))]
    assert_eq!(message, "unknown engine 'v8' (known: switchboard)");
}

#[cfg(feature = "wasmtime-provider")]
#[test]
fn the_wasmtime_provider_engine_is_chosen_by_name() {
    let config = parse("[guest]\nengine = \"wasmtime-provider\"\n").expect("engine is known");
    assert_eq!(config.guest.engine, Some(EngineKind::WasmtimeProvider));
}

#[cfg(not(feature = "wasmtime-provider"))]
#[test]
fn the_wasmtime_provider_engine_is_refused_by_builds_without_it() {
    let (line, column, key, message) = invalid("[guest]\nengine = \"wasmtime-provider\"\n");
    assert_eq!(
        (line, column, key.as_deref()),
        (2, 10, Some("guest.engine"))
    );
    assert_eq!(
        message,
        "this build has no wasmtime-provider engine (build switchboard with the cargo feature \
         `wasmtime-provider`)"
    );
}

#[test]
fn today_names_and_their_aliases_mean_the_same() {
    let names = parse(
        "[guest]\nmax_memory_mib = 8\npool_max = 3\nmax_table_elements = 500\n\
         [guest.grants]\nenv = { A = \"1\" }\nargs = [\"g\"]\n",
    )
    .expect("today's names");
    let aliases = parse(
        "[guest]\nmemory_limit_mib = 8\ninstances = 3\nmax_table_elements = 500\n\
         [guest.wasi]\nenv = { A = \"1\" }\nargs = [\"g\"]\n",
    )
    .expect("the aliases");
    assert_eq!(names.guest, aliases.guest);
    assert_eq!(names.guest.max_memory_bytes, Some(8 << 20));
    assert_eq!(names.guest.pool_max, Some(3));
    assert_eq!(names.guest.max_table_elements, Some(500));
    assert_eq!(names.guest.grants.env, [("A".to_string(), "1".to_string())]);
    assert_eq!(names.guest.grants.args, ["g"]);
    let guest = names.guest.apply_to(GuestConfig::default());
    assert_eq!(
        (
            guest.max_memory_bytes,
            guest.pool_size,
            guest.max_table_elements
        ),
        (8 << 20, 3, 500)
    );
}

#[test]
fn a_key_and_its_alias_together_are_refused_naming_both() {
    let (line, column, key, message) =
        invalid("[guest]\nmax_memory_mib = 8\nmemory_limit_mib = 8\n");
    assert_eq!(
        (line, column, key.as_deref()),
        (3, 20, Some("guest.memory_limit_mib"))
    );
    assert_eq!(
        message,
        "`guest.max_memory_mib` and its alias `guest.memory_limit_mib` are both given; keep \
         `guest.max_memory_mib`"
    );

    let (line, _, key, message) = invalid("[guest]\ninstances = 2\npool_max = 2\n");
    assert_eq!((line, key.as_deref()), (2, Some("guest.instances")));
    assert_eq!(
        message,
        "`guest.pool_max` and its alias `guest.instances` are both given; keep `guest.pool_max`"
    );

    let (line, column, key, message) =
        invalid("[guest.grants]\nargs = [\"a\"]\n\n[guest.wasi]\nargs = [\"b\"]\n");
    assert_eq!((line, column, key.as_deref()), (4, 1, Some("guest.wasi")));
    assert_eq!(
        message,
        "`guest.grants` and its alias `guest.wasi` are both given; keep `guest.grants`"
    );
}

#[test]
fn grants_errors_name_the_table_they_were_given_in() {
    let (_, _, key, _) = invalid("[guest.grants]\nenv = { \"A=B\" = \"x\" }\n");
    assert_eq!(key.as_deref(), Some("guest.grants.env.A=B"));
    let (_, _, key, message) =
        invalid("[guest.grants]\ndirs = [{ host = \"/\", guest = \"data\" }]\n");
    assert_eq!(key.as_deref(), Some("guest.grants.dirs[0].guest"));
    assert_eq!(message, "the guest path must be absolute (e.g. \"/data\")");
}

#[test]
fn table_elements_must_be_positive() {
    let (line, _, key, message) = invalid("[guest]\nmax_table_elements = 0\n");
    assert_eq!(
        (line, key.as_deref()),
        (2, Some("guest.max_table_elements"))
    );
    assert_eq!(message, "must be greater than 0");
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
