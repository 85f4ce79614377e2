//! End-to-end: real, unchanged waPC guests whose host calls Switchboard routes to native Rust
//! providers.
//!
//! The `callback` suite drives three guests identically — Rust (`wapc-guest` 1.2),
//! AssemblyScript (`@wapc/as-guest`) and the third-party `rust_host_call.wasm` from npm
//! `@wapc/host` — on both engines (Switchboard's own and wasmtime-provider). Each assertion is
//! on exact outputs, exact error variants and the exact text the guest received through
//! `__host_error` (wrapped the way each guest SDK wraps it). The guest-behaviour suite (trap,
//! loop, memory, cancellation) drives our two guests.
//!
//! Fixtures come from `bash scripts/build-fixtures.sh` (run by `bash scripts/test.sh`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard::wapc::{EngineKind, GuestConfig, GuestModule, GuestRuntime, TrapCause, WapcError};
use switchboard::{
    provider_fn, CallContext, CallError, CallInfo, CallResult, CancelToken, Conflict, PreOutcome,
    ProviderError, RouteKey, Router,
};
use switchboard_tests::{callback_payload, decode_str, encode_str, CallbackGuest, Fixture};

const ENGINES: [EngineKind; 2] = [EngineKind::Switchboard, EngineKind::WasmtimeProvider];

/// The engines that can run `fixture`. wasmtime-provider 2.25 cannot start a module with a
/// wasm start function (AssemblyScript's) while epoch deadlines are on: its `init` creates a
/// fresh `Store` (epoch deadline 0) and instantiates before setting a deadline, so the start
/// function is interrupted at once. See `wasmtime_provider_engine_cannot_start_assemblyscript`.
fn engines_for(fixture: Fixture) -> &'static [EngineKind] {
    match fixture {
        Fixture::AsGuest => &[EngineKind::Switchboard],
        _ => &ENGINES,
    }
}

/// The two guests we build, which implement every operation (not only `callback`).
const OUR_GUESTS: [Fixture; 2] = [Fixture::RustGuest, Fixture::AsGuest];

/// The binding every `callback` in this suite uses.
const BINDING: &str = "switchboard";

fn config(engine: EngineKind) -> GuestConfig {
    GuestConfig::default()
        .with_engine(engine)
        .with_pool_size(2)
        .with_invoke_timeout(Duration::from_secs(20))
}

fn runtime_with(fixture: Fixture, config: GuestConfig, router: &Router) -> GuestRuntime {
    let label = format!("{fixture} on {:?}", config.engine);
    GuestModule::from_file(fixture.require(), config)
        .and_then(|module| module.runtime(router))
        .unwrap_or_else(|err| panic!("{label}: loading: {err}"))
}

fn runtime(fixture: Fixture, engine: EngineKind, router: &Router) -> GuestRuntime {
    runtime_with(fixture, config(engine), router)
}

/// Every `callback` guest on every engine, with a label for assertion messages.
fn callback_cases() -> Vec<(CallbackGuest, EngineKind, String)> {
    CallbackGuest::ALL
        .into_iter()
        .flat_map(|guest| {
            engines_for(guest.fixture)
                .iter()
                .map(move |&engine| (guest, engine, format!("{} on {engine:?}", guest.fixture)))
        })
        .collect()
}

/// Upper-cases a msgpack str (the format `callback` sends and expects back).
fn upper(payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
    let text = decode_str(payload).map_err(|err| ProviderError::InvalidInput(err.to_string()))?;
    Ok(encode_str(&text.to_uppercase()))
}

/// Returns a msgpack str naming the route that served the call.
fn names_itself(label: &'static str) -> impl Fn(&[u8]) -> Result<Vec<u8>, ProviderError> {
    move |_payload: &[u8]| Ok(encode_str(label))
}

fn callback(
    runtime: &GuestRuntime,
    namespace: &str,
    operation: &str,
    msg: &str,
) -> Result<String, WapcError> {
    callback_on(runtime, BINDING, namespace, operation, msg)
}

fn callback_on(
    runtime: &GuestRuntime,
    binding: &str,
    namespace: &str,
    operation: &str,
    msg: &str,
) -> Result<String, WapcError> {
    let out = runtime.invoke(
        "callback",
        &callback_payload(binding, namespace, operation, msg),
    )?;
    Ok(decode_str(&out).unwrap_or_else(|err| panic!("answer {out:?} is not a msgpack str: {err}")))
}

/// Splits a failed host call into the router's error and the guest's message.
fn host_call_error(result: Result<String, WapcError>, label: &str) -> (CallError, String) {
    match result {
        Err(WapcError::HostCall {
            error,
            guest_message,
        }) => (error, guest_message),
        other => panic!("{label}: expected WapcError::HostCall, got {other:?}"),
    }
}

#[test]
fn callback_reaches_a_native_provider_with_the_exact_call() {
    for (guest, engine, label) in callback_cases() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let router = Router::new();
        let record = Arc::clone(&seen);
        router
            .register(
                "text",
                "upper",
                provider_fn(move |req| {
                    record.lock().unwrap().push((
                        req.binding.to_owned(),
                        req.namespace.to_owned(),
                        req.operation.to_owned(),
                        req.payload.to_vec(),
                    ));
                    upper(req.payload)
                }),
            )
            .unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        assert_eq!(
            callback(&runtime, "text", "upper", "hello world").unwrap(),
            "HELLO WORLD",
            "{label}"
        );
        assert_eq!(
            *seen.lock().unwrap(),
            vec![(
                BINDING.to_owned(),
                "text".to_owned(),
                "upper".to_owned(),
                encode_str("hello world")
            )],
            "{label}"
        );
    }
}

#[test]
fn callback_to_a_missing_route_gets_not_found() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::new();
        router.register("text", "upper", upper).unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        let (error, guest_message) =
            host_call_error(callback(&runtime, "nowhere", "nothing", "hi"), &label);
        assert_eq!(
            error,
            CallError::NotFound {
                binding: BINDING.into(),
                namespace: "nowhere".into(),
                operation: "nothing".into(),
            },
            "{label}"
        );
        assert_eq!(
            guest_message,
            guest.host_error(
                "no route for namespace 'nowhere' operation 'nothing' (binding 'switchboard')"
            ),
            "{label}"
        );
        // The instance survives a failed host call.
        assert_eq!(
            callback(&runtime, "text", "upper", "still here").unwrap(),
            "STILL HERE",
            "{label}"
        );
    }
}

#[test]
fn callback_gets_the_failing_providers_message_verbatim() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::new();
        router
            .register("kv", "get", |_: &[u8]| {
                Err::<Vec<u8>, _>(ProviderError::failed("Error Parsing Input"))
            })
            .unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        let (error, guest_message) = host_call_error(callback(&runtime, "kv", "get", "k"), &label);
        assert_eq!(
            error,
            CallError::ProviderFailed {
                message: "Error Parsing Input".into(),
                payload: None
            },
            "{label}"
        );
        assert_eq!(
            guest_message,
            guest.host_error("Error Parsing Input"),
            "{label}"
        );
    }
}

#[test]
fn callback_denied_by_middleware_never_reaches_the_provider() {
    for (guest, engine, label) in callback_cases() {
        let calls = Arc::new(AtomicUsize::new(0));
        let router = Router::builder()
            .pre(|call: &CallInfo<'_>, _payload: &[u8]| {
                if call.namespace == "secrets" {
                    PreOutcome::Deny("guests may not read secrets".into())
                } else {
                    PreOutcome::Continue
                }
            })
            .build();
        let counter = Arc::clone(&calls);
        router
            .register("secrets", "read", move |payload: &[u8]| {
                counter.fetch_add(1, Ordering::SeqCst);
                upper(payload)
            })
            .unwrap();
        router.register("text", "upper", upper).unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        let (error, guest_message) =
            host_call_error(callback(&runtime, "secrets", "read", "root"), &label);
        assert_eq!(
            error,
            CallError::Denied {
                reason: "guests may not read secrets".into()
            },
            "{label}"
        );
        assert_eq!(
            guest_message,
            guest.host_error("denied: guests may not read secrets"),
            "{label}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0, "{label}");
        assert_eq!(
            callback(&runtime, "text", "upper", "allowed").unwrap(),
            "ALLOWED",
            "{label}"
        );
    }
}

#[test]
fn middleware_rewrites_the_payload_the_provider_sees() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::builder()
            .pre(|_call: &CallInfo<'_>, _payload: &[u8]| {
                PreOutcome::Rewrite(encode_str("rewritten"))
            })
            .build();
        router.register("text", "upper", upper).unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        assert_eq!(
            callback(&runtime, "text", "upper", "original").unwrap(),
            "REWRITTEN",
            "{label}"
        );
    }
}

/// What a post observer recorded: namespace, operation, input, and the answer or error text.
type Observed = (String, String, Vec<u8>, Result<Vec<u8>, String>);

fn observing_router(log: &Arc<Mutex<Vec<Observed>>>) -> Router {
    let log = Arc::clone(log);
    Router::builder()
        .post(move |result: &CallResult<'_>| {
            log.lock().unwrap().push((
                result.namespace.to_owned(),
                result.operation.to_owned(),
                result.input.to_vec(),
                result
                    .outcome
                    .map(<[u8]>::to_vec)
                    .map_err(ToString::to_string),
            ));
        })
        .build()
}

#[test]
fn post_observers_see_every_call_that_reached_a_provider() {
    for (guest, engine, label) in callback_cases() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let router = observing_router(&log);
        router.register("text", "upper", upper).unwrap();
        router
            .register("text", "broken", |_: &[u8]| {
                Err::<Vec<u8>, _>("disk on fire")
            })
            .unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        callback(&runtime, "text", "upper", "a").unwrap();
        host_call_error(callback(&runtime, "text", "broken", "b"), &label);
        // Never reaches a provider: not observed.
        host_call_error(callback(&runtime, "text", "missing", "c"), &label);

        assert_eq!(
            *log.lock().unwrap(),
            vec![
                (
                    "text".into(),
                    "upper".into(),
                    encode_str("a"),
                    Ok(encode_str("A"))
                ),
                (
                    "text".into(),
                    "broken".into(),
                    encode_str("b"),
                    Err("disk on fire".into())
                ),
            ],
            "{label}"
        );
    }
}

#[test]
fn nested_chain_of_calls_through_the_router() {
    for (guest, engine, label) in callback_cases() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let router = observing_router(&log);
        // start -> middle -> end: each provider calls the router again.
        router
            .register(
                "chain",
                "start",
                provider_fn(|req| Ok(req.call("chain", "middle", req.payload)?)),
            )
            .unwrap();
        router
            .register(
                "chain",
                "middle",
                provider_fn(|req| Ok(req.call("chain", "end", req.payload)?)),
            )
            .unwrap();
        router.register("chain", "end", upper).unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        assert_eq!(
            callback(&runtime, "chain", "start", "deep").unwrap(),
            "DEEP",
            "{label}"
        );
        let finished: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .map(|entry| entry.1.clone())
            .collect();
        // Observers run when a provider returns: innermost first.
        assert_eq!(finished, ["end", "middle", "start"], "{label}");
    }
}

#[test]
fn runaway_recursion_is_stopped_by_the_depth_bound() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::builder().max_depth(4).build();
        router
            .register(
                "loop",
                "self",
                provider_fn(|req| Ok(req.call("loop", "self", req.payload)?)),
            )
            .unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        let (error, guest_message) =
            host_call_error(callback(&runtime, "loop", "self", "x"), &label);
        assert_eq!(error, CallError::DepthExceeded { max: 4 }, "{label}");
        assert_eq!(
            guest_message,
            guest.host_error("call depth limit of 4 exceeded"),
            "{label}"
        );
    }
}

#[test]
fn exact_route_beats_namespace_route() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::new();
        router
            .register_namespace("kv", names_itself("namespace"))
            .unwrap();
        router
            .register("kv", "special", names_itself("exact"))
            .unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        assert_eq!(
            callback(&runtime, "kv", "anything", "").unwrap(),
            "namespace",
            "{label}"
        );
        assert_eq!(
            callback(&runtime, "kv", "special", "").unwrap(),
            "exact",
            "{label}"
        );
    }
}

#[test]
fn binding_scoped_route_serves_only_its_binding() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::new();
        router
            .register_key(
                RouteKey::exact("kvstore", "get").with_binding("tarmac"),
                names_itself("tarmac kvstore"),
                Conflict::Reject,
            )
            .unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        assert_eq!(
            callback_on(&runtime, "tarmac", "kvstore", "get", "").unwrap(),
            "tarmac kvstore",
            "{label}"
        );
        let (error, _) =
            host_call_error(callback_on(&runtime, "other", "kvstore", "get", ""), &label);
        assert_eq!(
            error,
            CallError::NotFound {
                binding: "other".into(),
                namespace: "kvstore".into(),
                operation: "get".into()
            },
            "{label}"
        );
    }
}

#[test]
fn routes_changed_while_the_guest_is_loaded_apply_to_the_next_call() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::new();
        let runtime = runtime(guest.fixture, engine, &router);

        let (error, _) = host_call_error(callback(&runtime, "text", "upper", "a"), &label);
        assert!(
            matches!(error, CallError::NotFound { .. }),
            "{label}: {error:?}"
        );

        router.register("text", "upper", upper).unwrap();
        assert_eq!(
            callback(&runtime, "text", "upper", "b").unwrap(),
            "B",
            "{label}"
        );

        let removed = router.unregister(&RouteKey::exact("text", "upper"));
        assert_eq!(
            removed.map(|route| route.key),
            Some(RouteKey::exact("text", "upper")),
            "{label}"
        );
        let (error, _) = host_call_error(callback(&runtime, "text", "upper", "c"), &label);
        assert!(
            matches!(error, CallError::NotFound { .. }),
            "{label}: {error:?}"
        );
    }
}

#[test]
fn routes_churned_while_guests_call_never_lose_or_misroute_a_call() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::new();
        router.register("hot", "swap", names_itself("v0")).unwrap();
        let runtime = runtime(guest.fixture, engine, &router);
        let done = std::sync::atomic::AtomicBool::new(false);

        std::thread::scope(|scope| {
            // Writer: replaces the route under the guests' feet and churns a neighbour route,
            // until both callers finished (bounded by their fixed number of calls).
            scope.spawn(|| {
                let mut round = 0u32;
                while !done.load(Ordering::SeqCst) {
                    let version = if round.is_multiple_of(2) { "v1" } else { "v2" };
                    router
                        .replace("hot", "swap", names_itself(version))
                        .unwrap();
                    router
                        .register("hot", "churn", names_itself("churn"))
                        .unwrap();
                    router.unregister(&RouteKey::exact("hot", "churn")).unwrap();
                    round = round.wrapping_add(1);
                }
            });
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        for _ in 0..40 {
                            let out = callback(&runtime, "hot", "swap", "").unwrap();
                            assert!(["v0", "v1", "v2"].contains(&out.as_str()), "{label}: {out}");
                        }
                    })
                })
                .collect();
            for caller in callers {
                let joined = caller.join();
                done.store(true, Ordering::SeqCst);
                if let Err(panic) = joined {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }
}

#[test]
fn two_threads_invoke_one_runtime_in_parallel() {
    for (guest, engine, label) in callback_cases() {
        let router = Router::new();
        router.register("text", "upper", upper).unwrap();
        let runtime = runtime(guest.fixture, engine, &router);

        std::thread::scope(|scope| {
            for thread in 0..2 {
                let (runtime, label) = (&runtime, &label);
                scope.spawn(move || {
                    for i in 0..25 {
                        let msg = format!("thread {thread} call {i}");
                        let out = callback(runtime, "text", "upper", &msg).unwrap();
                        assert_eq!(out, msg.to_uppercase(), "{label}");
                    }
                });
            }
        });
        assert!(
            runtime.instances() <= 2,
            "{label}: {} instances",
            runtime.instances()
        );
    }
}

#[test]
fn wasmtime_provider_engine_cannot_start_assemblyscript() {
    let config = config(EngineKind::WasmtimeProvider);
    let result = GuestModule::from_file(Fixture::AsGuest.require(), config)
        .and_then(|module| module.runtime(&Router::new()))
        .and_then(|runtime| runtime.invoke("echo", b"x"));
    match result {
        Err(WapcError::Instantiation(message)) => {
            assert!(message.contains("interrupt"), "{message}")
        }
        other => panic!(
            "expected WapcError::Instantiation (a known wasmtime-provider defect), got {other:?}"
        ),
    }
}

#[test]
fn echo_returns_the_exact_bytes() {
    let big: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    for fixture in OUR_GUESTS {
        for &engine in engines_for(fixture) {
            let runtime = runtime(fixture, engine, &Router::new());
            for payload in [&b""[..], b"\x00\xffbinary\x01", &big] {
                let out = runtime.invoke("echo", payload).unwrap();
                assert_eq!(out, payload, "{fixture} on {engine:?}");
            }
        }
    }
}

#[test]
fn third_party_echo_string_runs_unchanged() {
    #[derive(serde::Serialize)]
    struct Echo<'a> {
        msg: &'a str,
    }
    for engine in ENGINES {
        let runtime = runtime(Fixture::RustEchoString, engine, &Router::new());
        let payload = rmp_serde::to_vec_named(&Echo { msg: "hello world" }).unwrap();
        let out = runtime.invoke("echo", &payload).unwrap();
        assert_eq!(decode_str(&out).unwrap(), "hello world", "{engine:?}");
    }
}

#[test]
fn guest_error_is_reported_verbatim() {
    for fixture in OUR_GUESTS {
        for &engine in engines_for(fixture) {
            let runtime = runtime(fixture, engine, &Router::new());
            match runtime.invoke("fail", b"on purpose") {
                Err(WapcError::Guest(message)) => {
                    assert_eq!(
                        message, "fail requested: on purpose",
                        "{fixture} on {engine:?}"
                    )
                }
                other => {
                    panic!("{fixture} on {engine:?}: expected WapcError::Guest, got {other:?}")
                }
            }
        }
    }
}

#[test]
fn unknown_operation_is_a_guest_error() {
    let expected = [
        (
            Fixture::RustGuest,
            "No handler registered for function nope",
        ),
        (Fixture::AsGuest, "Could not find function \"nope\""),
    ];
    for (fixture, message) in expected {
        for &engine in engines_for(fixture) {
            let runtime = runtime(fixture, engine, &Router::new());
            match runtime.invoke("nope", b"") {
                Err(WapcError::Guest(got)) => assert_eq!(got, message, "{fixture} on {engine:?}"),
                other => {
                    panic!("{fixture} on {engine:?}: expected WapcError::Guest, got {other:?}")
                }
            }
        }
    }
}

#[test]
fn chain_operation_returns_the_nested_answer_raw() {
    for fixture in OUR_GUESTS {
        for &engine in engines_for(fixture) {
            let router = Router::new();
            router
                .register(
                    "chain",
                    "start",
                    provider_fn(|req| Ok(req.call("chain", "end", req.payload)?)),
                )
                .unwrap();
            router
                .register("chain", "end", |payload: &[u8]| {
                    Ok::<_, ProviderError>([b"end:", payload].concat())
                })
                .unwrap();
            let runtime = runtime(fixture, engine, &router);
            assert_eq!(
                runtime.invoke("chain", b"\x00raw").unwrap(),
                b"end:\x00raw",
                "{fixture} on {engine:?}"
            );
        }
    }
}

#[test]
fn trap_is_a_typed_error_with_its_cause_and_the_next_invoke_succeeds() {
    for fixture in OUR_GUESTS {
        for &engine in engines_for(fixture) {
            let runtime = runtime(fixture, engine, &Router::new());
            let err = runtime.invoke("trap", b"").unwrap_err();
            match (&err, engine) {
                (WapcError::Trap { cause, .. }, EngineKind::Switchboard) => assert_eq!(
                    *cause,
                    TrapCause::Wasm(wasmtime::Trap::UnreachableCodeReached),
                    "{fixture}"
                ),
                (WapcError::Trap { .. }, EngineKind::WasmtimeProvider) => {}
                _ => panic!("{fixture} on {engine:?}: expected WapcError::Trap, got {err:?}"),
            }
            assert_eq!(
                runtime.invoke("echo", b"after").unwrap(),
                b"after",
                "{fixture} on {engine:?}"
            );
        }
    }
}

#[test]
fn looping_guest_hits_the_invoke_deadline_and_the_next_invoke_succeeds() {
    for fixture in OUR_GUESTS {
        for &engine in engines_for(fixture) {
            let config = config(engine).with_invoke_timeout(Duration::from_millis(300));
            let runtime = runtime_with(fixture, config, &Router::new());
            let err = runtime.invoke("loop", b"").unwrap_err();
            assert!(
                matches!(err, WapcError::DeadlineExceeded),
                "{fixture} on {engine:?}: expected DeadlineExceeded, got {err:?}"
            );
            assert_eq!(
                runtime.invoke("echo", b"after").unwrap(),
                b"after",
                "{fixture} on {engine:?}"
            );
        }
    }
}

#[test]
fn callers_deadline_bounds_a_looping_guest() {
    for fixture in OUR_GUESTS {
        let runtime = runtime(fixture, EngineKind::Switchboard, &Router::new());
        let ctx = CallContext::new().with_timeout(Duration::from_millis(200));
        let err = runtime.invoke_with(&ctx, "loop", b"").unwrap_err();
        assert!(
            matches!(err, WapcError::DeadlineExceeded),
            "{fixture}: got {err:?}"
        );
    }
}

#[test]
fn cancel_token_stops_a_looping_guest() {
    for fixture in OUR_GUESTS {
        let runtime = runtime(fixture, EngineKind::Switchboard, &Router::new());
        let token = CancelToken::new();
        let ctx = CallContext::new().with_cancel(token.clone());
        let err = std::thread::scope(|scope| {
            let invocation = scope.spawn(|| runtime.invoke_with(&ctx, "loop", b""));
            // Whenever the cancel lands (before or during the loop), the outcome is the same.
            std::thread::sleep(Duration::from_millis(100));
            token.cancel();
            invocation.join().unwrap()
        })
        .unwrap_err();
        assert!(matches!(err, WapcError::Canceled), "{fixture}: got {err:?}");
        assert_eq!(
            runtime.invoke("echo", b"after").unwrap(),
            b"after",
            "{fixture}"
        );
    }
}

#[test]
fn memory_cap_is_a_typed_error_and_the_next_invoke_succeeds() {
    const CAP: usize = 8 << 20;
    for fixture in OUR_GUESTS {
        let config = config(EngineKind::Switchboard).with_max_memory_bytes(CAP);
        let runtime = runtime_with(fixture, config, &Router::new());
        assert_eq!(runtime.invoke("alloc", b"2").unwrap(), b"2", "{fixture}");
        match runtime.invoke("alloc", b"64") {
            Err(WapcError::MemoryLimit { limit, requested }) => {
                assert_eq!(limit, CAP, "{fixture}");
                assert!(requested > CAP, "{fixture}: requested {requested}");
            }
            other => panic!("{fixture}: expected WapcError::MemoryLimit, got {other:?}"),
        }
        assert_eq!(
            runtime.invoke("echo", b"after").unwrap(),
            b"after",
            "{fixture}"
        );
    }
}
