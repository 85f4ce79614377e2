//! End-to-end: the `database:kv` component provider written in Rust, Python (componentize-py),
//! JavaScript (componentize-js) and C (clang + wasi-libc + wit-bindgen C bindings), each driven through an unchanged waPC guest (the Rust
//! fixture's `callback` operation) by one conformance suite; plus the runtime behaviour of the
//! big interpreter-based components: memory growth handled by cap + recycling, the disk cache,
//! and pre-warming at registration.
//!
//! Components come from `bash scripts/build-components.sh` (Rust) and
//! `bash scripts/build-lang-components.sh` (the others), both run by `bash scripts/test.sh`.
//! A Python or JavaScript component takes 5-13 s to compile: each is compiled at most once per
//! test binary (see [`warm_cache`]) and then loaded from the disk cache under `target/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use switchboard::component::{
    ComponentConfig, ComponentEngine, ComponentProvider, EngineOptions, PoolStats,
};
use switchboard::wapc::{GuestConfig, GuestModule, GuestRuntime, WapcError};
use switchboard::{CallContext, CallError, Router};
use switchboard_tests::{callback_payload, decode_str, encode_str, CallbackGuest, KvComponent};

const BINDING: &str = "switchboard";
const NAMESPACE: &str = "database:kv";
/// The Rust `wapc-guest` 1.2 fixture; it words a failed host call as "Host error: {msg}".
const GUEST: CallbackGuest = CallbackGuest::ALL[0];

fn engine() -> &'static ComponentEngine {
    static ENGINE: OnceLock<ComponentEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/component-cache");
        ComponentEngine::new(EngineOptions::default().with_cache_dir(cache))
            .unwrap_or_else(|e| panic!("component engine: {e}"))
    })
}

/// Loads each language's component once per test binary, serially, so its compiled artifact
/// is in the disk cache before any test loads it (tests run in parallel; without this each
/// would compile the 12-18 MB component itself). Returns whether that first load was itself
/// served from the cache (it is when an earlier test run left the artifact).
fn warm_cache(kv: KvComponent) -> bool {
    static WARMED: OnceLock<Mutex<HashMap<KvComponent, bool>>> = OnceLock::new();
    let warmed = WARMED.get_or_init(|| Mutex::new(HashMap::new()));
    let mut warmed = warmed.lock().unwrap_or_else(|e| e.into_inner());
    *warmed.entry(kv).or_insert_with(|| {
        ComponentProvider::from_file(engine(), kv.require(), ComponentConfig::default())
            .unwrap_or_else(|e| panic!("loading {kv}: {e}"))
            .loaded_from_cache()
    })
}

/// A fresh provider (fresh instances, so a fresh map) for `kv`, from the disk cache.
fn provider(kv: KvComponent, config: ComponentConfig) -> ComponentProvider {
    warm_cache(kv);
    ComponentProvider::from_file(engine(), kv.require(), config)
        .unwrap_or_else(|e| panic!("loading {kv}: {e}"))
}

/// One warm instance: the map lives in the instance, so Set and Get must meet in the same one.
fn single_instance() -> ComponentConfig {
    ComponentConfig::default().with_pool(1, 1)
}

fn router_with(provider: ComponentProvider) -> Router {
    let router = Router::new();
    router
        .register_component(NAMESPACE, None, provider)
        .unwrap_or_else(|e| panic!("registering: {e}"));
    router
}

fn guest(router: &Router) -> GuestRuntime {
    let config = GuestConfig::default()
        .with_pool_size(1)
        .with_invoke_timeout(Duration::from_secs(20));
    GuestModule::from_file(GUEST.fixture.require(), config)
        .and_then(|m| m.runtime(router))
        .unwrap_or_else(|e| panic!("{}: {e}", GUEST.fixture))
}

/// The guest's `callback` to `database:kv` / `operation` with `msg`; the route receives
/// `msgpack(msg)` and must answer a msgpack str, which the guest hands back decoded.
fn callback(rt: &GuestRuntime, operation: &str, msg: &str) -> Result<String, WapcError> {
    rt.invoke(
        "callback",
        &callback_payload(BINDING, NAMESPACE, operation, msg),
    )
    .map(|out| decode_str(&out).unwrap_or_else(|e| panic!("guest answer not msgpack: {e}")))
}

/// The guest's text and the router's error of a failed `callback`.
fn guest_error(result: Result<String, WapcError>) -> (String, CallError) {
    match result {
        Err(WapcError::HostCall {
            error,
            guest_message,
        }) => (guest_message, error),
        other => panic!("expected a failed host call, got {other:?}"),
    }
}

/// `key` NUL `value`, the `Set` payload.
fn set_payload(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut payload = key.to_vec();
    payload.push(0);
    payload.extend_from_slice(value);
    payload
}

fn direct(router: &Router, operation: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
    router.call(&CallContext::new(), BINDING, NAMESPACE, operation, payload)
}

/// The conformance cases every language's `database:kv` must pass, identically.
fn conformance(kv: KvComponent) {
    let router = router_with(provider(kv, single_instance()));
    let rt = guest(&router);

    // Round trip. The guest sends `msgpack(msg)` as the payload, so a key the guest can Get
    // is msgpack("color"), and the stored value must be a msgpack str for the guest to
    // decode. Set and Delete answer an empty payload (not msgpack), so they go to the router
    // directly; Get and every error case go through the guest.
    let key = encode_str("color");
    assert_eq!(
        direct(&router, "Set", &set_payload(&key, &encode_str("blue"))),
        Ok(vec![]),
        "{kv}"
    );
    assert_eq!(callback(&rt, "Get", "color").unwrap(), "blue", "{kv}");
    assert_eq!(
        direct(&router, "Set", &set_payload(&key, &encode_str("green"))),
        Ok(vec![]),
        "{kv}: overwrite"
    );
    assert_eq!(callback(&rt, "Get", "color").unwrap(), "green", "{kv}");
    assert_eq!(direct(&router, "Delete", &key), Ok(vec![]), "{kv}");
    assert_eq!(
        direct(&router, "Delete", &key),
        Ok(vec![]),
        "{kv}: idempotent"
    );

    // Missing key: the provider's exact message, and the key as the failure payload.
    let (text, error) = guest_error(callback(&rt, "Get", "color"));
    assert_eq!(
        error,
        CallError::ProviderFailed {
            message: "key not found".into(),
            payload: Some(key.clone()),
        },
        "{kv}"
    );
    assert_eq!(text, GUEST.host_error("key not found"), "{kv}");

    // Invalid input.
    let (text, error) = guest_error(callback(&rt, "Set", "no separator"));
    assert_eq!(
        error,
        CallError::InvalidInput("Set expects key, NUL, value".into()),
        "{kv}"
    );
    assert_eq!(
        text,
        GUEST.host_error("invalid input: Set expects key, NUL, value"),
        "{kv}"
    );
    assert_eq!(
        direct(&router, "Set", b"\0value"),
        Err(CallError::InvalidInput("empty key".into())),
        "{kv}"
    );

    // Unknown operation.
    let (text, error) = guest_error(callback(&rt, "Zap", ""));
    assert_eq!(error, CallError::UnknownOperation("Zap".into()), "{kv}");
    assert_eq!(text, GUEST.host_error("unknown operation 'Zap'"), "{kv}");

    // Binary keys and values pass unchanged (no text decoding in any language).
    let binary = [0xff, 0x00, 0x80, b'x'];
    assert_eq!(
        direct(&router, "Set", &set_payload(&[0xfe, 0x01], &binary)),
        Ok(vec![]),
        "{kv}"
    );
    assert_eq!(
        direct(&router, "Get", &[0xfe, 0x01]),
        Ok(binary.to_vec()),
        "{kv}"
    );

    // After all those errors the same instance still serves, its state intact.
    assert_eq!(
        direct(&router, "Get", &[0xfe, 0x01]),
        Ok(binary.to_vec()),
        "{kv}"
    );
    assert_eq!(
        direct(&router, "Set", &set_payload(&key, &encode_str("after"))),
        Ok(vec![]),
        "{kv}"
    );
    assert_eq!(callback(&rt, "Get", "color").unwrap(), "after", "{kv}");
}

#[test]
fn rust_kv_passes_the_conformance_suite() {
    conformance(KvComponent::Rust);
}

#[test]
fn python_kv_passes_the_conformance_suite() {
    conformance(KvComponent::Python);
}

#[test]
fn js_kv_passes_the_conformance_suite() {
    conformance(KvComponent::Js);
}

#[test]
fn c_kv_passes_the_conformance_suite() {
    conformance(KvComponent::C);
}

#[test]
fn every_language_is_covered_by_the_suite() {
    // A new language added to KvComponent must get a conformance test above.
    assert_eq!(
        KvComponent::ALL.map(KvComponent::file_name),
        ["kv.wasm", "kv_python.wasm", "kv_js.wasm", "kv_c.wasm"]
    );
}

/// componentize-py's linear memory grows by about the response size on each call returning
/// 64 KiB and is never returned (near 4 GiB, after ~65k such calls, the instance traps). With a
/// memory cap and `recycle_after` below cap / growth, every call is served by an instance that
/// still has room: thousands of 64 KiB calls all succeed.
#[test]
fn python_memory_growth_is_handled_by_cap_and_recycling() {
    const PAIRS: usize = 2_000;
    let value = vec![b'v'; 64 << 10];
    // Calls go in Set/Get pairs and 200 is even, so a pair never straddles a recycle (the map
    // lives in the instance). 100 Gets grow memory by ~6.4 MiB: far below the cap.
    let config = ComponentConfig::default()
        .with_pool(1, 1)
        .with_max_memory_bytes(64 << 20)
        .with_recycle_after(200);
    let router = router_with(provider(KvComponent::Python, config));
    for i in 0..PAIRS {
        let set = direct(&router, "Set", &set_payload(b"big", &value));
        assert_eq!(set, Ok(vec![]), "pair {i}");
        let get = direct(&router, "Get", b"big");
        // Not assert_eq!: a failure would print 64 KiB.
        assert!(
            get.as_ref().is_ok_and(|v| *v == value),
            "pair {i}: {:?}",
            get.map(|v| v.len())
        );
    }
}

/// Without recycling, the same calls run into the cap: a typed `LimitExceeded` (never a host
/// crash), after which a fresh instance serves the next call.
#[test]
fn python_memory_cap_stops_growth_with_a_typed_error_and_recovers() {
    let value = vec![b'v'; 64 << 10];
    let config = ComponentConfig::default()
        .with_pool(1, 1)
        .with_max_memory_bytes(64 << 20)
        .with_recycle_after(u64::MAX);
    let router = router_with(provider(KvComponent::Python, config));
    assert_eq!(
        direct(&router, "Set", &set_payload(b"k", &value)),
        Ok(vec![])
    );
    let mut first_error = None;
    // 64 MiB / 64 KiB = 1024 calls at most before the cap, whatever the base size.
    for i in 0..2_000 {
        if let Err(err) = direct(&router, "Get", b"k") {
            first_error = Some((i, err));
            break;
        }
    }
    let Some((at, err)) = first_error else {
        panic!("2000 calls of 64 KiB never reached a 64 MiB cap: memory growth is gone?")
    };
    assert!(
        matches!(err, CallError::LimitExceeded(_)),
        "call {at}: {err:?}"
    );
    // The growth is per call (64 KiB each), not a big base: ~11 MiB base here, so the cap is
    // reached after hundreds of calls, never within the first hundred.
    assert!((100..1024).contains(&at), "cap reached at call {at}");
    // The instance that hit the cap was replaced (its map with it): a fresh one serves.
    assert_eq!(direct(&router, "Set", b"k\0v"), Ok(vec![]), "after {at}");
    assert_eq!(
        direct(&router, "Get", b"k"),
        Ok(b"v".to_vec()),
        "after {at}"
    );
}

/// Python and JavaScript components take seconds to compile; the second load comes from the
/// disk cache.
#[test]
fn second_load_of_python_and_js_comes_from_the_disk_cache() {
    for kv in [KvComponent::Python, KvComponent::Js] {
        warm_cache(kv);
        let again =
            ComponentProvider::from_file(engine(), kv.require(), ComponentConfig::default())
                .unwrap_or_else(|e| panic!("loading {kv}: {e}"));
        assert!(again.loaded_from_cache(), "{kv}");
    }
}

/// Instances are created at load (registration) time, so the first call does not pay the
/// interpreter's start-up.
#[test]
fn python_and_js_instances_are_prewarmed_before_the_first_call() {
    for kv in [KvComponent::Python, KvComponent::Js] {
        let kv_provider = provider(kv, ComponentConfig::default().with_pool(2, 4));
        assert_eq!(
            kv_provider.pool_stats(),
            PoolStats { live: 2, idle: 2 },
            "{kv}"
        );
        let router = router_with(kv_provider.clone());
        assert_eq!(direct(&router, "Set", b"k\0v"), Ok(vec![]), "{kv}");
        assert_eq!(
            kv_provider.pool_stats(),
            PoolStats { live: 2, idle: 2 },
            "{kv}: the call used a pre-warmed instance"
        );
    }
}
