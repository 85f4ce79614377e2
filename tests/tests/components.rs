//! End-to-end: unchanged waPC guests whose host calls Switchboard forwards into sandboxed WASM
//! component providers (`switchboard:provider` world), registered by API and by
//! `switchboard.toml`.
//!
//! Guests come from `bash scripts/build-fixtures.sh`, components from
//! `bash scripts/build-components.sh` (both run by `bash scripts/test.sh`).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use switchboard::builtin::Builtins;
use switchboard::component::{ComponentConfig, ComponentEngine, ComponentProvider};
use switchboard::config::{Config, ProviderRegistry};
use switchboard::wapc::{GuestConfig, GuestModule, GuestRuntime, WapcError};
use switchboard::{CallError, Router};
use switchboard_tests::{callback_payload, decode_str, CallbackGuest};

const BINDING: &str = "switchboard";

fn component_path(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../providers/components/out")
        .join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "component {} is missing: run `bash scripts/build-components.sh` first",
        path.display()
    );
    path
}

fn engine() -> &'static ComponentEngine {
    static ENGINE: OnceLock<ComponentEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/component-cache");
        ComponentEngine::new(switchboard::component::EngineOptions::default().with_cache_dir(cache))
            .unwrap_or_else(|e| panic!("component engine: {e}"))
    })
}

fn component(name: &str, config: ComponentConfig) -> ComponentProvider {
    ComponentProvider::from_file(engine(), component_path(name), config)
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

fn guest(guest: CallbackGuest, router: &Router) -> GuestRuntime {
    let config = GuestConfig::default()
        .with_pool_size(2)
        .with_invoke_timeout(Duration::from_secs(20));
    GuestModule::from_file(guest.fixture.require(), config)
        .and_then(|m| m.runtime(router))
        .unwrap_or_else(|e| panic!("{}: {e}", guest.fixture))
}

/// The guest's `callback` to `(namespace, operation)` with `msg`, decoded.
fn callback(
    rt: &GuestRuntime,
    namespace: &str,
    operation: &str,
    msg: &str,
) -> Result<String, WapcError> {
    rt.invoke(
        "callback",
        &callback_payload(BINDING, namespace, operation, msg),
    )
    .map(|out| decode_str(&out).unwrap_or_else(|e| panic!("guest answer not msgpack: {e}")))
}

/// The guest error text of a failed `callback`.
fn guest_error(result: Result<String, WapcError>) -> (String, CallError) {
    match result {
        Err(WapcError::HostCall {
            error,
            guest_message,
        }) => (guest_message, error),
        other => panic!("expected a failed host call, got {other:?}"),
    }
}

#[test]
fn every_guest_reaches_the_component_handler() {
    let router = Router::new();
    router
        .register_component(
            "text",
            Some(&["upper", "echo"]),
            component("transform", ComponentConfig::default()),
        )
        .unwrap();
    for g in CallbackGuest::ALL {
        let rt = guest(g, &router);
        assert_eq!(
            callback(&rt, "text", "upper", "hello, component").unwrap(),
            "HELLO, COMPONENT",
            "{}",
            g.fixture
        );
        assert_eq!(callback(&rt, "text", "echo", "ünïcode").unwrap(), "ünïcode");
    }
}

#[test]
fn component_errors_reach_the_guest_with_their_exact_text() {
    let router = Router::new();
    router
        .register_component(
            "database:kv",
            None,
            component("kv", ComponentConfig::default()),
        )
        .unwrap();
    for g in CallbackGuest::ALL {
        let rt = guest(g, &router);
        let label = g.fixture;

        let (text, error) = guest_error(callback(&rt, "database:kv", "Get", "absent"));
        assert!(
            matches!(error, CallError::ProviderFailed { ref message, .. } if message == "key not found"),
            "{label}: {error:?}"
        );
        assert_eq!(text, g.host_error("key not found"), "{label}");

        let (text, error) = guest_error(callback(&rt, "database:kv", "Zap", ""));
        assert_eq!(error, CallError::UnknownOperation("Zap".into()), "{label}");
        assert_eq!(text, g.host_error("unknown operation 'Zap'"), "{label}");

        let (text, error) = guest_error(callback(&rt, "database:kv", "Set", "no separator"));
        assert_eq!(
            error,
            CallError::InvalidInput("Set expects key, NUL, value".into()),
            "{label}"
        );
        assert_eq!(
            text,
            g.host_error("invalid input: Set expects key, NUL, value"),
            "{label}"
        );
    }
}

#[test]
fn a_trapping_component_fails_one_call_and_the_guest_keeps_going() {
    let router = Router::new();
    let faults = component("faults", ComponentConfig::default().with_pool(1, 2));
    router
        .register_component("faults", None, faults.clone())
        .unwrap();
    for g in CallbackGuest::ALL {
        let rt = guest(g, &router);
        let (text, error) = guest_error(callback(&rt, "faults", "unreachable", ""));
        assert!(
            matches!(error, CallError::ProviderTrapped(ref m) if m.contains("unreachable")),
            "{}: {error:?}",
            g.fixture
        );
        assert!(
            text.starts_with(&g.host_error("provider trapped: ")),
            "{}: {text}",
            g.fixture
        );
        // The trapped instance was replaced; the same guest and provider serve the next call.
        assert_eq!(callback(&rt, "faults", "echo", "after").unwrap(), "after");
    }
    let stats = faults.pool_stats();
    assert!(stats.live >= 1, "{stats:?}");
}

#[test]
fn a_looping_component_hits_its_deadline_not_the_guests() {
    let router = Router::new();
    router
        .register_component(
            "faults",
            None,
            component(
                "faults",
                ComponentConfig::default().with_call_timeout(Duration::from_millis(50)),
            ),
        )
        .unwrap();
    let rt = guest(CallbackGuest::ALL[0], &router);
    let (_, error) = guest_error(callback(&rt, "faults", "loop", ""));
    assert_eq!(error, CallError::DeadlineExceeded);
    assert_eq!(callback(&rt, "faults", "echo", "alive").unwrap(), "alive");
}

#[test]
fn guests_on_two_threads_share_one_component_without_mixing_answers() {
    let router = Router::new();
    router
        .register_component(
            "text",
            Some(&["upper"]),
            component("transform", ComponentConfig::default().with_pool(1, 2)),
        )
        .unwrap();
    let rt = guest(CallbackGuest::ALL[0], &router);
    std::thread::scope(|s| {
        for t in 0..2 {
            let rt = rt.clone();
            s.spawn(move || {
                for i in 0..300 {
                    let msg = format!("thread {t} call {i}");
                    assert_eq!(
                        callback(&rt, "text", "upper", &msg).unwrap(),
                        msg.to_uppercase()
                    );
                }
            });
        }
    });
}

#[test]
fn component_routes_from_switchboard_toml() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../providers/components/out");
    let text = format!(
        r#"
[[route]]
namespace = "database:kv"
component = "{}"
[route.options]
call_timeout_ms = 1000
max_memory_bytes = 33554432

[[route]]
namespace = "text"
operation = "upper"
binding = "{BINDING}"
component = "transform.wasm"
"#,
        component_path("kv").display()
    );
    let config = Config::parse(&text, dir.join("switchboard.toml")).unwrap();
    let registry = ProviderRegistry::new().with(&Builtins).with(engine());
    let router = Router::new();
    let routes = config.apply(&router, &registry).unwrap();
    assert_eq!(
        routes
            .iter()
            .map(|r| r.provider.as_str())
            .collect::<Vec<_>>(),
        vec!["component kv.wasm", "component transform.wasm"]
    );
    let rt = guest(CallbackGuest::ALL[0], &router);
    assert_eq!(callback(&rt, "text", "upper", "toml").unwrap(), "TOML");
    let (text, error) = guest_error(callback(&rt, "database:kv", "Get", "nothing"));
    // The kv component fails a missing key with the key (the guest's msgpack str) as payload.
    assert_eq!(
        error,
        CallError::ProviderFailed {
            message: "key not found".into(),
            payload: Some(switchboard_tests::encode_str("nothing")),
        }
    );
    assert_eq!(text, CallbackGuest::ALL[0].host_error("key not found"));
}
