//! Tests against real components built from source by `scripts/build-components.sh`
//! (providers/components/): `kv` and `transform` import-free, `transform_wasip2` and `faults`
//! for wasm32-wasip2.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use super::*;
use crate::{CallContext, CallError, CancelToken, Router};

const BUILD_COMMAND: &str = "bash scripts/build-components.sh";

fn component_path(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../providers/components/out")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "component {} is missing: run `{BUILD_COMMAND}` from the repository root first",
        path.display()
    );
    path
}

/// One engine for the whole test binary: its ticker thread and compiled code are shared.
fn engine() -> ComponentEngine {
    static ENGINE: OnceLock<ComponentEngine> = OnceLock::new();
    ENGINE
        .get_or_init(|| ComponentEngine::new(EngineOptions::default()).unwrap())
        .clone()
}

fn load(name: &str, config: ComponentConfig) -> ComponentProvider {
    ComponentProvider::from_file(&engine(), component_path(name), config).unwrap()
}

fn router_with(namespace: &str, provider: ComponentProvider) -> Router {
    let router = Router::new();
    router
        .register_component(namespace, None, provider)
        .unwrap();
    router
}

fn call(
    router: &Router,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, CallError> {
    router.call(&CallContext::new(), "", namespace, operation, payload)
}

mod loading {
    use super::*;

    #[test]
    fn import_free_kv_serves_get_set_delete() {
        let kv = load("kv", ComponentConfig::default());
        let router = Router::new();
        router
            .register_component("database:kv", Some(&["Get", "Set", "Delete"]), kv)
            .unwrap();
        assert_eq!(
            call(&router, "database:kv", "Set", b"color\0blue"),
            Ok(vec![])
        );
        assert_eq!(
            call(&router, "database:kv", "Get", b"color"),
            Ok(b"blue".to_vec())
        );
        assert_eq!(call(&router, "database:kv", "Delete", b"color"), Ok(vec![]));
        assert_eq!(
            call(&router, "database:kv", "Get", b"color"),
            Err(CallError::ProviderFailed {
                message: "key not found".into(),
                payload: Some(b"color".to_vec()),
            })
        );
        assert_eq!(
            call(&router, "database:kv", "Set", b"no separator"),
            Err(CallError::InvalidInput(
                "Set expects key, NUL, value".into()
            ))
        );
        assert!(matches!(
            call(&router, "database:kv", "Keys", b""),
            Err(CallError::NotFound { .. })
        ));
    }

    #[test]
    fn unknown_operation_is_typed() {
        let router = router_with("transform", load("transform", ComponentConfig::default()));
        assert_eq!(
            call(&router, "transform", "explode", b""),
            Err(CallError::UnknownOperation("explode".into()))
        );
        assert_eq!(
            call(&router, "transform", "upper", b"abc"),
            Ok(b"ABC".to_vec())
        );
    }

    #[test]
    fn wasip2_component_loads_and_serves() {
        let router = router_with("t", load("transform_wasip2", ComponentConfig::default()));
        assert_eq!(call(&router, "t", "reverse", b"abc"), Ok(b"cba".to_vec()));
    }

    fn imports_of(name: &str) -> Vec<String> {
        let component =
            wasmtime::component::Component::from_file(engine().wasmtime(), component_path(name))
                .unwrap();
        let ty = component.component_type();
        ty.imports(engine().wasmtime())
            .map(|(import, _)| import.to_string())
            .collect()
    }

    #[test]
    fn sdk_components_are_import_free_or_wasip2() {
        // Import-free: at most the world's own interfaces, never WASI.
        assert!(imports_of("kv")
            .iter()
            .all(|i| i.starts_with("switchboard:provider/")));
        assert!(imports_of("transform")
            .iter()
            .all(|i| i.starts_with("switchboard:provider/")));
        // The wasip2 build of the same source imports WASI.
        assert!(imports_of("transform_wasip2")
            .iter()
            .any(|i| i.starts_with("wasi:")));
    }

    #[test]
    fn describe_names_the_file() {
        let provider = load("transform", ComponentConfig::default());
        assert_eq!(
            crate::Provider::describe(&provider),
            "component transform.wasm"
        );
        assert_eq!(provider.name(), "transform");
    }

    #[test]
    fn core_module_is_refused() {
        let err = ComponentProvider::from_bytes(
            &engine(),
            b"\0asm\x01\0\0\0",
            ComponentConfig::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ComponentError::Compile { .. }), "{err}");
    }

    #[test]
    fn missing_handler_export_is_named() {
        let bytes = b"(component)";
        let err = ComponentProvider::from_bytes(
            &engine(),
            bytes,
            ComponentConfig::default().with_name("empty"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "component empty does not export switchboard:provider/handler@0.1.0 (it exports: nothing)"
        );
    }

    #[test]
    fn wrong_version_export_is_named() {
        let bytes = br#"(component
                (instance $h)
                (export "switchboard:provider/handler@0.2.0" (instance $h)))"#;
        let err = ComponentProvider::from_bytes(
            &engine(),
            bytes,
            ComponentConfig::default().with_name("v2"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "component v2 does not export switchboard:provider/handler@0.1.0 (it exports: switchboard:provider/handler@0.2.0)"
        );
    }

    #[test]
    fn mismatched_handler_export_is_named() {
        let bytes = br#"(component
                (instance $h)
                (export "switchboard:provider/handler@0.1.0" (instance $h)))"#;
        let err = ComponentProvider::from_bytes(
            &engine(),
            bytes,
            ComponentConfig::default().with_name("bad"),
        )
        .unwrap_err();
        assert!(
            matches!(&err, ComponentError::ExportMismatch { name, export, .. }
                if name == "bad" && *export == "switchboard:provider/handler@0.1.0"),
            "{err}"
        );
    }

    #[test]
    fn foreign_import_is_named() {
        let bytes = br#"(component
                (import "evil:net/raw-socket" (instance))
                (instance $h)
                (export "switchboard:provider/handler@0.1.0" (instance $h)))"#;
        let err = ComponentProvider::from_bytes(
            &engine(),
            bytes,
            ComponentConfig::default().with_name("evil"),
        )
        .unwrap_err();
        assert!(
            matches!(&err, ComponentError::UnknownImport { import, .. } if import == "evil:net/raw-socket"),
            "{err}"
        );
    }

    #[test]
    fn impossible_config_is_refused_at_load() {
        let err = ComponentProvider::from_file(
            &engine(),
            component_path("kv"),
            ComponentConfig::default().with_fuel_per_call(1000),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration for component kv: fuel_per_call needs an engine created with fuel metering"
        );
    }

    #[test]
    fn initial_memory_over_the_cap_fails_at_load() {
        let err = ComponentProvider::from_file(
            &engine(),
            component_path("kv"),
            ComponentConfig::default().with_max_memory_bytes(64 << 10),
        )
        .unwrap_err();
        assert!(
            matches!(&err, ComponentError::Instantiate { name, message }
                if name == "kv" && message.starts_with("limit exceeded: memory of ")
                    && message.ends_with(" bytes is over the cap of 65536 bytes")),
            "{err}"
        );
    }

    #[test]
    fn compiled_component_is_cached_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let options = EngineOptions::default().with_cache_dir(dir.path());
        let first = ComponentEngine::new(options.clone()).unwrap();
        let cold = ComponentProvider::from_file(
            &first,
            component_path("transform"),
            ComponentConfig::default(),
        )
        .unwrap();
        assert!(!cold.loaded_from_cache());
        let second = ComponentEngine::new(options).unwrap();
        let warm = ComponentProvider::from_file(
            &second,
            component_path("transform"),
            ComponentConfig::default(),
        )
        .unwrap();
        assert!(warm.loaded_from_cache());
        let router = router_with("t", warm);
        assert_eq!(call(&router, "t", "upper", b"x"), Ok(b"X".to_vec()));
    }

    #[test]
    fn fuel_limits_a_call_when_metered() {
        let engine = ComponentEngine::new(EngineOptions::default().with_fuel(true)).unwrap();
        let faults = ComponentProvider::from_file(
            &engine,
            component_path("faults"),
            ComponentConfig::default().with_fuel_per_call(5_000_000),
        )
        .unwrap();
        let router = router_with("f", faults);
        assert_eq!(
            call(&router, "f", "loop", b""),
            Err(CallError::LimitExceeded("fuel exhausted".into()))
        );
        assert_eq!(call(&router, "f", "echo", b"ok"), Ok(b"ok".to_vec()));
    }
}

mod faults;

mod hot_swap {
    use super::*;

    #[test]
    fn replacing_a_provider_under_load_loses_no_call() {
        let router = router_with("t", load("transform", ComponentConfig::default()));
        let replacements = [
            load("transform_wasip2", ComponentConfig::default()),
            load("transform", ComponentConfig::default()),
        ];
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let caller = {
            let (router, stop) = (router.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut calls = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Acquire) || calls < 200 {
                    assert_eq!(call(&router, "t", "upper", b"abc"), Ok(b"ABC".to_vec()));
                    calls += 1;
                }
                calls
            })
        };
        for round in 0..20 {
            let next = replacements[round % 2].clone();
            assert_eq!(router.replace_component("t", None, next), Ok(1));
        }
        stop.store(true, std::sync::atomic::Ordering::Release);
        assert!(caller.join().unwrap() >= 200);
        assert_eq!(
            router.routes()[0].provider,
            "component transform.wasm".to_string()
        );
    }

    #[test]
    fn duplicate_registration_is_refused_and_rolled_back() {
        let router = Router::new();
        router
            .register("database:kv", "Delete", |_: &[u8]| Ok::<_, String>(vec![]))
            .unwrap();
        let kv = load("kv", ComponentConfig::default());
        let err = router
            .register_component("database:kv", Some(&["Get", "Set", "Delete"]), kv)
            .unwrap_err();
        assert!(matches!(err, crate::RegisterError::Duplicate(_)), "{err}");
        assert_eq!(router.routes().len(), 1);
    }
}

mod logging {
    use super::*;

    /// (target, level, provider, stream, message) of every component log event.
    type Event = (String, tracing::Level, String, String, String);

    fn capture(f: impl FnOnce()) -> Vec<Event> {
        let ((), events) = crate::test_log::capture_events(f);
        events
            .into_iter()
            .filter(|e| e.target == COMPONENT_LOG_TARGET)
            .map(|e| {
                let (provider, stream, message) =
                    (e.field("provider"), e.field("stream"), e.field("message"));
                (e.target, e.level, provider, stream, message)
            })
            .collect()
    }

    fn event(level: tracing::Level, stream: &str, message: &str) -> Event {
        (
            COMPONENT_LOG_TARGET.to_owned(),
            level,
            "faults".to_owned(),
            stream.to_owned(),
            message.to_owned(),
        )
    }

    #[test]
    fn stdout_and_stderr_become_tagged_log_lines() {
        let router = router_with(
            "f",
            load("faults", ComponentConfig::default().with_name("faults")),
        );
        let events = capture(|| {
            assert_eq!(call(&router, "f", "print", b"hello"), Ok(vec![]));
        });
        assert_eq!(
            events,
            vec![
                event(tracing::Level::INFO, "stdout", "hello"),
                event(tracing::Level::INFO, "stderr", "to stderr: hello"),
            ]
        );
    }

    #[test]
    fn host_log_import_reaches_tracing() {
        let router = router_with(
            "f",
            load("faults", ComponentConfig::default().with_name("faults")),
        );
        let events = capture(|| {
            assert_eq!(call(&router, "f", "log", b"from the component"), Ok(vec![]));
        });
        assert_eq!(
            events,
            vec![event(tracing::Level::INFO, "", "from the component")]
        );
    }
}
