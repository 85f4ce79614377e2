//! Engine and runtime tests over inline WAT guests implementing the waPC guest ABI.
//!
//! The guests declare the waPC imports themselves, so they can also break the ABI on purpose
//! (bad pointers) — what a hostile guest would do.

use std::sync::Arc;
use std::time::Duration;

use super::stdio::tests::capture_events;
use super::*;
use crate::{CallContext, CallError, CancelToken, ProviderError, Router};

/// The test guest. The first byte of the operation picks the behaviour:
/// `e`cho, `c`all echo/echo, `r`oute (namespace = payload, operation "op"), `f`ail, `l`oop,
/// `t`rap, `g`row memory by 64 MiB, c`o`nsole log, `i`nit trace, `b`ad pointer (second byte
/// picks the import), `n`o response (succeeds silently), `z`ero (fails silently).
pub(crate) const GUEST_WAT: &str = r#"
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (memory (export "memory") 1)
  (global $trace_len (mut i32) (i32.const 0))
  (data (i32.const 0) "wapc")
  (data (i32.const 8) "echo")
  (data (i32.const 16) "op")
  (data (i32.const 24) "guest failed")
  (data (i32.const 40) "ok")

  (func $trace (param $c i32)
    (i32.store8 (i32.add (i32.const 200) (global.get $trace_len)) (local.get $c))
    (global.set $trace_len (i32.add (global.get $trace_len) (i32.const 1))))
  (func (export "_initialize") (call $trace (i32.const 49)))
  (func (export "_start") (call $trace (i32.const 50)))
  (func (export "wapc_init") (call $trace (i32.const 51)))

  (func $finish (param $ok i32) (result i32)
    (if (result i32) (local.get $ok)
      (then
        (call $host_response (i32.const 32768))
        (call $guest_response (i32.const 32768) (call $host_response_len))
        (i32.const 1))
      (else
        (call $host_error (i32.const 32768))
        (call $guest_error (i32.const 32768) (call $host_error_len))
        (i32.const 0))))

  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (local $op i32)
    (call $guest_request (i32.const 1024) (i32.const 4096))
    (local.set $op (i32.load8_u (i32.const 1024)))
    (if (i32.eq (local.get $op) (i32.const 101))
      (then (call $guest_response (i32.const 4096) (local.get $msg_len)) (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 99))
      (then (return (call $finish (call $host_call
        (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4) (i32.const 8) (i32.const 4)
        (i32.const 4096) (local.get $msg_len))))))
    (if (i32.eq (local.get $op) (i32.const 114))
      (then (return (call $finish (call $host_call
        (i32.const 0) (i32.const 4) (i32.const 4096) (local.get $msg_len) (i32.const 16) (i32.const 2)
        (i32.const 4096) (local.get $msg_len))))))
    (if (i32.eq (local.get $op) (i32.const 102))
      (then (call $guest_error (i32.const 24) (i32.const 12)) (return (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 108))
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $op) (i32.const 116))
      (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 103))
      (then (drop (memory.grow (i32.const 1024)))
            (call $guest_response (i32.const 40) (i32.const 2)) (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 111))
      (then (call $console_log (i32.const 4096) (local.get $msg_len))
            (call $guest_response (i32.const 40) (i32.const 2)) (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 105))
      (then (call $guest_response (i32.const 200) (global.get $trace_len)) (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 98))
      (then
        (local.set $op (i32.load8_u (i32.const 1025)))
        (if (i32.eq (local.get $op) (i32.const 99))
          (then (drop (call $host_call (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4)
                  (i32.const 8) (i32.const 4) (i32.const 65000) (i32.const 1000)))))
        (if (i32.eq (local.get $op) (i32.const 110))
          (then (drop (call $host_call (i32.const 0) (i32.const 4) (i32.const -1) (i32.const 4)
                  (i32.const 8) (i32.const 4) (i32.const 0) (i32.const 0)))))
        (if (i32.eq (local.get $op) (i32.const 108))
          (then (call $console_log (i32.const 65530) (i32.const 100))))
        (if (i32.eq (local.get $op) (i32.const 114))
          (then (call $guest_response (i32.const 70000) (i32.const 1))))
        (if (i32.eq (local.get $op) (i32.const 101))
          (then (call $guest_error (i32.const 0) (i32.const -1))))
        (if (i32.eq (local.get $op) (i32.const 113))
          (then (call $guest_request (i32.const 65535) (i32.const 65535))))
        (if (i32.eq (local.get $op) (i32.const 104))
          (then (drop (call $host_call (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4)
                  (i32.const 8) (i32.const 4) (i32.const 4096) (local.get $msg_len)))
                (call $host_response (i32.const 65535))))
        (if (i32.eq (local.get $op) (i32.const 120))
          (then (drop (call $host_call (i32.const 0) (i32.const 4) (i32.const 16) (i32.const 2)
                  (i32.const 16) (i32.const 2) (i32.const 0) (i32.const 0)))
                (call $host_error (i32.const 65535))))
        (call $guest_response (i32.const 40) (i32.const 2))
        (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 110))
      (then (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 122))
      (then (return (i32.const 0))))
    (call $guest_error (i32.const 24) (i32.const 12))
    (i32.const 0))
)
"#;

/// A WASI guest: `s` writes a line to stdout and one to stderr, `p` returns the errno of
/// `fd_prestat_get(3)` (0 when a directory is preopened), `v` returns the number of
/// environment variables it can see (4 bytes, little endian).
const WASI_GUEST_WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 320) "hello from wasi\n")
  (data (i32.const 360) "oops\n")
  (data (i32.const 40) "ok")
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (call $guest_request (i32.const 1024) (i32.const 4096))
    (if (i32.eq (i32.load8_u (i32.const 1024)) (i32.const 115))
      (then
        (i32.store (i32.const 300) (i32.const 320))
        (i32.store (i32.const 304) (i32.const 16))
        (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 340)))
        (i32.store (i32.const 300) (i32.const 360))
        (i32.store (i32.const 304) (i32.const 5))
        (drop (call $fd_write (i32.const 2) (i32.const 300) (i32.const 1) (i32.const 340)))
        (call $guest_response (i32.const 40) (i32.const 2))
        (return (i32.const 1))))
    (if (i32.eq (i32.load8_u (i32.const 1024)) (i32.const 112))
      (then
        (i32.store (i32.const 400) (call $prestat (i32.const 3) (i32.const 500)))
        (call $guest_response (i32.const 400) (i32.const 4))
        (return (i32.const 1))))
    (drop (call $env_sizes (i32.const 400) (i32.const 404)))
    (call $guest_response (i32.const 400) (i32.const 4))
    (i32.const 1))
)
"#;

fn router() -> Router {
    let router = Router::new();
    let registered = [
        router.register("echo", "echo", |payload: &[u8]| {
            Ok::<_, ProviderError>(payload.to_vec())
        }),
        router.register("fail", "op", |_: &[u8]| {
            Err::<Vec<u8>, _>(ProviderError::failed("no such key"))
        }),
    ];
    assert!(registered.iter().all(Result::is_ok));
    router
}

fn config(engine: EngineKind) -> GuestConfig {
    GuestConfig::default()
        .with_name("t")
        .with_engine(engine)
        .with_pool_size(2)
        .with_invoke_timeout(Duration::from_millis(300))
}

fn runtime_with(engine: EngineKind, config: GuestConfig) -> GuestRuntime {
    let module = GuestModule::from_bytes(GUEST_WAT.as_bytes(), config.with_engine(engine));
    match module.and_then(|m| m.runtime(&router())) {
        Ok(runtime) => runtime,
        Err(e) => panic!("test guest failed to load: {e}"),
    }
}

fn runtime(engine: EngineKind) -> GuestRuntime {
    runtime_with(engine, config(engine))
}

const BOTH: [EngineKind; 2] = [EngineKind::Switchboard, EngineKind::WasmtimeProvider];

#[test]
fn echo_and_routed_call_on_both_engines() {
    for engine in BOTH {
        let rt = runtime(engine);
        assert_eq!(
            rt.invoke("echo", b"abc").ok(),
            Some(b"abc".to_vec()),
            "{engine:?}"
        );
        assert_eq!(
            rt.invoke("call", b"routed").ok(),
            Some(b"routed".to_vec()),
            "{engine:?}"
        );
        assert_eq!(rt.invoke("echo", b"").ok(), Some(Vec::new()), "{engine:?}");
    }
}

#[test]
fn missing_route_is_a_host_call_error_with_the_exact_text() {
    for engine in BOTH {
        let err = runtime(engine).invoke("route", b"nope").err();
        let Some(WapcError::HostCall {
            error,
            guest_message,
        }) = err
        else {
            panic!("{engine:?}: expected HostCall, got {err:?}");
        };
        assert_eq!(
            error,
            CallError::NotFound {
                binding: "wapc".into(),
                namespace: "nope".into(),
                operation: "op".into()
            }
        );
        assert_eq!(
            guest_message,
            "no route for namespace 'nope' operation 'op' (binding 'wapc')"
        );
    }
}

#[test]
fn failing_provider_message_reaches_the_guest_verbatim() {
    for engine in BOTH {
        let err = runtime(engine).invoke("route", b"fail").err();
        assert!(
            matches!(
                &err,
                Some(WapcError::HostCall {
                    error: CallError::ProviderFailed { message, payload: None },
                    guest_message,
                }) if message == "no such key" && guest_message == "no such key"
            ),
            "{engine:?}: {err:?}"
        );
    }
}

#[test]
fn guest_error_is_its_own_variant() {
    for engine in BOTH {
        let err = runtime(engine).invoke("fail", b"").err();
        assert!(
            matches!(&err, Some(WapcError::Guest(m)) if m == "guest failed"),
            "{engine:?}: {err:?}"
        );
    }
}

#[test]
fn silent_guests_get_wapcs_messages_on_both_engines() {
    for engine in BOTH {
        let rt = runtime(engine);
        assert_eq!(
            rt.invoke("no response", b"").err().map(|e| e.to_string()),
            Some("guest error: No error message OR response set for call success".into()),
            "{engine:?}"
        );
        assert_eq!(
            rt.invoke("zero", b"").err().map(|e| e.to_string()),
            Some("guest error: No error message set for call failure".into()),
            "{engine:?}"
        );
    }
}

/// Calls `wapc/who/op` from `wapc_init` and from every invocation; traps on a 1-byte payload.
const WHO_GUEST_WAT: &str = r#"
(module
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "wapc")
  (data (i32.const 8) "who")
  (data (i32.const 16) "op")
  (func $who (result i32)
    (call $host_call (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 3)
      (i32.const 16) (i32.const 2) (i32.const 0) (i32.const 0)))
  (func (export "wapc_init") (drop (call $who)))
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (if (i32.eq (local.get $msg_len) (i32.const 1)) (then unreachable))
    (drop (call $who))
    (call $guest_response (i32.const 0) (i32.const 0))
    (i32.const 1))
)
"#;

#[test]
fn providers_see_the_guest_and_its_deadline_at_init_and_on_every_call() {
    for engine in BOTH {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let router = Router::new();
        let record = Arc::clone(&seen);
        let registered = router.register(
            "who",
            "op",
            crate::provider_fn(move |req| {
                let entry = (
                    req.ctx.caller().map(str::to_owned),
                    req.ctx.deadline().is_some(),
                );
                record
                    .lock()
                    .map_err(|_| ProviderError::failed("poisoned"))?
                    .push(entry);
                Ok(Vec::new())
            }),
        );
        assert!(registered.is_ok());
        let config = config(engine).with_name("who-guest").with_pool_size(1);
        let rt = GuestModule::from_bytes(WHO_GUEST_WAT.as_bytes(), config)
            .and_then(|module| module.runtime(&router));
        let Ok(rt) = rt else {
            panic!("{engine:?}: {rt:?}");
        };
        assert_eq!(rt.invoke("x", b"").ok(), Some(Vec::new()), "{engine:?}");
        assert_eq!(rt.invoke("x", b"").ok(), Some(Vec::new()), "{engine:?}");
        // The trap drops the instance; its replacement's init call is the guest's too.
        assert!(
            matches!(rt.invoke("x", b"!"), Err(WapcError::Trap { .. })),
            "{engine:?}"
        );
        assert_eq!(rt.invoke("x", b"").ok(), Some(Vec::new()), "{engine:?}");
        let seen = seen.lock().map(|seen| seen.clone()).unwrap_or_default();
        let expected = vec![(Some("who-guest".to_owned()), true); 5];
        assert_eq!(seen, expected, "{engine:?}: init, call, call, init, call");
    }
}

#[test]
fn a_later_successful_host_call_clears_the_host_error() {
    let rt = runtime(EngineKind::Switchboard);
    assert!(matches!(
        rt.invoke("route", b"nope"),
        Err(WapcError::HostCall { .. })
    ));
    assert!(matches!(rt.invoke("fail", b""), Err(WapcError::Guest(_))));
}

#[test]
fn trap_keeps_its_cause_and_the_instance_is_replaced() {
    let rt = runtime(EngineKind::Switchboard);
    let err = rt.invoke("trap", b"").err();
    assert!(
        matches!(
            &err,
            Some(WapcError::Trap {
                cause: TrapCause::Wasm(wasmtime::Trap::UnreachableCodeReached),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(rt.instances(), 0);
    assert_eq!(rt.invoke("echo", b"again").ok(), Some(b"again".to_vec()));
    assert_eq!(rt.instances(), 1);
}

#[test]
fn wasmtime_provider_trap_is_a_trap_too() {
    let rt = runtime(EngineKind::WasmtimeProvider);
    let err = rt.invoke("trap", b"").err();
    assert!(
        matches!(
            &err,
            Some(WapcError::Trap {
                cause: TrapCause::Other(_),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(rt.invoke("echo", b"again").ok(), Some(b"again".to_vec()));
}

#[test]
fn looping_guest_gets_a_deadline_error_and_the_runtime_recovers() {
    for engine in BOTH {
        let rt = runtime(engine);
        let err = rt.invoke("loop", b"").err();
        assert!(
            matches!(err, Some(WapcError::DeadlineExceeded)),
            "{engine:?}: {err:?}"
        );
        assert_eq!(
            rt.invoke("echo", b"x").ok(),
            Some(b"x".to_vec()),
            "{engine:?}"
        );
    }
}

#[test]
fn caller_deadline_is_shorter_than_the_configured_one() {
    let rt = runtime_with(
        EngineKind::Switchboard,
        config(EngineKind::Switchboard).with_invoke_timeout(Duration::from_secs(3600)),
    );
    let ctx = CallContext::new().with_timeout(Duration::from_millis(30));
    let err = rt.invoke_with(&ctx, "loop", b"").err();
    assert!(matches!(err, Some(WapcError::DeadlineExceeded)), "{err:?}");
}

#[test]
fn cancellation_interrupts_a_running_guest() {
    let rt = runtime_with(
        EngineKind::Switchboard,
        config(EngineKind::Switchboard).with_invoke_timeout(Duration::from_secs(3600)),
    );
    let token = CancelToken::new();
    let ctx = CallContext::new().with_cancel(token.clone());
    let err = std::thread::scope(|s| {
        let running = s.spawn(|| rt.invoke_with(&ctx, "loop", b""));
        std::thread::sleep(Duration::from_millis(20));
        token.cancel();
        running.join().ok().and_then(Result::err)
    });
    assert!(matches!(err, Some(WapcError::Canceled)), "{err:?}");
    // An already canceled context does not even start the guest.
    assert!(matches!(
        rt.invoke_with(&ctx, "echo", b""),
        Err(WapcError::Canceled)
    ));
}

#[test]
fn memory_cap_is_a_typed_error() {
    let cap = 2 << 20;
    let rt = runtime_with(
        EngineKind::Switchboard,
        config(EngineKind::Switchboard).with_max_memory_bytes(cap),
    );
    let err = rt.invoke("grow", b"").err();
    assert!(
        matches!(
            err,
            Some(WapcError::MemoryLimit { limit, requested }) if limit == cap && requested == 65536 + (64 << 20)
        ),
        "{err:?}"
    );
    assert_eq!(rt.invoke("echo", b"x").ok(), Some(b"x".to_vec()));
}

#[test]
fn memory_cap_below_the_initial_memory_fails_at_load() {
    let module = GuestModule::from_bytes(
        GUEST_WAT.as_bytes(),
        config(EngineKind::Switchboard).with_max_memory_bytes(1024),
    );
    let err = module.and_then(|m| m.runtime(&router())).err();
    assert!(
        matches!(
            err,
            Some(WapcError::MemoryLimit {
                limit: 1024,
                requested: 65536
            })
        ),
        "{err:?}"
    );
}

#[test]
fn bad_guest_pointers_trap_the_guest_not_the_host() {
    let rt = runtime(EngineKind::Switchboard);
    let cases: [(&str, &str); 8] = [
        ("bc", "__host_call"),
        ("bn", "__host_call"),
        ("bl", "__console_log"),
        ("br", "__guest_response"),
        ("be", "__guest_error"),
        ("bq", "__guest_request"),
        ("bh", "__host_response"),
        ("bx", "__host_error"),
    ];
    for (operation, import) in cases {
        let err = rt.invoke(operation, b"xyz").err();
        assert!(
            matches!(
                &err,
                Some(WapcError::Trap {
                    cause: TrapCause::Abi(AbiViolation::OutOfBounds { import: i, .. }),
                    ..
                }) if *i == import
            ),
            "{operation}: {err:?}"
        );
        assert_eq!(
            rt.invoke("echo", b"alive").ok(),
            Some(b"alive".to_vec()),
            "{operation}"
        );
    }
}

#[test]
fn wasmtime_provider_panic_on_a_bad_pointer_is_contained() {
    let rt = runtime(EngineKind::WasmtimeProvider);
    let err = rt.invoke("bl", b"").err();
    assert!(
        matches!(
            &err,
            Some(WapcError::Trap {
                cause: TrapCause::EnginePanic(_),
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(rt.invoke("echo", b"alive").ok(), Some(b"alive".to_vec()));
}

#[test]
fn init_functions_run_in_order() {
    // `_initialize` (TinyGo reactors), then `_start`, then `wapc_init`.
    let rt = runtime(EngineKind::Switchboard);
    assert_eq!(rt.invoke("init", b"").ok(), Some(b"123".to_vec()));
    // wasmtime-provider 2.25 never calls `_initialize`.
    let rt = runtime(EngineKind::WasmtimeProvider);
    assert_eq!(rt.invoke("init", b"").ok(), Some(b"23".to_vec()));
}

#[test]
fn console_log_goes_to_tracing_with_the_guest_name() {
    let rt = runtime(EngineKind::Switchboard);
    let (reply, events) = capture_events(|| rt.invoke("o", b"hello log"));
    assert_eq!(reply.ok(), Some(b"ok".to_vec()));
    let logs: Vec<_> = events
        .into_iter()
        .filter(|e| e.0 == GUEST_LOG_TARGET)
        .collect();
    assert_eq!(
        logs,
        vec![(
            GUEST_LOG_TARGET.to_owned(),
            "t".to_owned(),
            "console".to_owned(),
            "hello log".to_owned()
        )]
    );
}

#[test]
fn wasi_stdio_is_captured_and_nothing_is_granted_by_default() {
    let load = |config: GuestConfig| {
        GuestModule::from_bytes(WASI_GUEST_WAT.as_bytes(), config.with_name("w"))
            .and_then(|m| m.runtime(&Router::new()))
    };
    let rt = match load(GuestConfig::default()) {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    };
    let (reply, events) = capture_events(|| rt.invoke("s", b""));
    assert_eq!(reply.ok(), Some(b"ok".to_vec()));
    let lines: Vec<_> = events
        .iter()
        .filter(|e| e.0 == GUEST_LOG_TARGET)
        .map(|e| (e.1.as_str(), e.2.as_str(), e.3.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![("w", "stdout", "hello from wasi"), ("w", "stderr", "oops")]
    );
    assert_eq!(rt.invoke("v", b"").ok(), Some(0u32.to_le_bytes().to_vec()));

    // EBADF (8): no directory is preopened.
    assert_eq!(rt.invoke("p", b"").ok(), Some(8u32.to_le_bytes().to_vec()));

    let dir = tempfile::tempdir().ok();
    let granted = dir.as_ref().and_then(|dir| {
        load(
            GuestConfig::default()
                .with_env("A", "1")
                .with_env("B", "2")
                .with_read_only_dir(dir.path(), "/data"),
        )
        .ok()
    });
    let count = granted.as_ref().and_then(|rt| rt.invoke("v", b"").ok());
    assert_eq!(count, Some(2u32.to_le_bytes().to_vec()));
    let prestat = granted.as_ref().and_then(|rt| rt.invoke("p", b"").ok());
    assert_eq!(prestat, Some(0u32.to_le_bytes().to_vec()));
}

#[test]
fn unusable_modules_are_bad_modules() {
    let cases = [
        &b"not wasm"[..],
        br#"(module (memory (export "memory") 1))"#,
        br#"(module (memory (export "memory") 1)
              (func (export "__guest_call") (param i32) (result i32) (i32.const 1)))"#,
        br#"(module (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#,
        br#"(module (import "env" "mystery" (func))
              (memory (export "memory") 1)
              (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#,
    ];
    for bytes in cases {
        let err = GuestModule::from_bytes(bytes, GuestConfig::default()).err();
        assert!(matches!(err, Some(WapcError::BadModule(_))), "{err:?}");
    }
}

#[test]
fn wasmtime_provider_refuses_read_only_dirs() {
    let dir = std::env::temp_dir();
    let err = GuestModule::from_bytes(
        GUEST_WAT.as_bytes(),
        config(EngineKind::WasmtimeProvider).with_read_only_dir(dir, "/tmp"),
    )
    .err();
    assert!(matches!(err, Some(WapcError::Config(_))), "{err:?}");
}

#[test]
fn missing_preopen_dir_is_a_config_error() {
    let err = GuestModule::from_bytes(
        GUEST_WAT.as_bytes(),
        GuestConfig::default().with_read_only_dir("/definitely/not/here", "/data"),
    )
    .err();
    assert!(matches!(err, Some(WapcError::Config(_))), "{err:?}");
}

#[test]
fn from_file_names_the_guest_after_the_file() {
    let dir = tempfile::tempdir().ok();
    let module = dir.as_ref().and_then(|dir| {
        let path = dir.path().join("orders.wat");
        std::fs::write(&path, GUEST_WAT).ok()?;
        GuestModule::from_file(&path, GuestConfig::default()).ok()
    });
    assert_eq!(module.as_ref().map(GuestModule::name), Some("orders"));
    let missing = GuestModule::from_file("/no/such/guest.wasm", GuestConfig::default()).err();
    assert!(matches!(missing, Some(WapcError::Io { .. })), "{missing:?}");
}

#[test]
fn parallel_invocations_share_a_bounded_pool() {
    for engine in BOTH {
        let rt = runtime_with(engine, config(engine).with_pool_size(2));
        let rt = Arc::new(rt);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..4u8)
                .map(|t| {
                    let rt = rt.clone();
                    s.spawn(move || {
                        (0..50u8).all(|i| {
                            let payload = [t, i];
                            rt.invoke("call", &payload).ok() == Some(payload.to_vec())
                        })
                    })
                })
                .collect();
            for worker in workers {
                assert_eq!(worker.join().ok(), Some(true), "{engine:?}");
            }
        });
        assert!(rt.instances() <= 2, "{engine:?}");
    }
}

#[test]
fn a_caller_waiting_for_a_busy_pool_stops_on_cancel() {
    for engine in BOTH {
        // The provider holds the only instance until released.
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = std::sync::Mutex::new(release_rx);
        let router = Router::new();
        let registered = router.register(
            "echo",
            "echo",
            crate::provider_fn(move |req| {
                let _ = entered_tx.send(());
                if let Ok(release) = release_rx.lock() {
                    let _ = release.recv_timeout(Duration::from_secs(10));
                }
                Ok(req.payload.to_vec())
            }),
        );
        assert!(registered.is_ok());
        let config = config(engine)
            .with_pool_size(1)
            .with_invoke_timeout(Duration::from_secs(3600));
        let rt = GuestModule::from_bytes(GUEST_WAT.as_bytes(), config)
            .and_then(|module| module.runtime(&router));
        let Ok(rt) = rt else {
            panic!("{engine:?}: {rt:?}");
        };
        std::thread::scope(|s| {
            let holder = s.spawn(|| rt.invoke("call", b"a"));
            assert!(entered_rx.recv_timeout(Duration::from_secs(10)).is_ok());
            let token = CancelToken::new();
            let ctx = CallContext::new().with_cancel(token.clone());
            let rt_ref = &rt;
            let waiter = s.spawn(move || rt_ref.invoke_with(&ctx, "call", b"b"));
            // Let the waiter reach the pool; either way it must not wait for the holder.
            std::thread::sleep(Duration::from_millis(50));
            token.cancel();
            let waited = waiter.join().ok().map(|r| r.map_err(|e| e.to_string()));
            // Released only now: a waiter ignoring the token would have had to wait for this.
            let _ = release_tx.send(());
            assert_eq!(
                waited,
                Some(Err("guest invocation canceled".to_owned())),
                "{engine:?}"
            );
            assert_eq!(holder.join().ok().and_then(Result::ok), Some(b"a".to_vec()));
        });
    }
}

#[test]
fn bare_wapc_host_with_our_engine_heals_after_a_trap() {
    let pre = WasmEngine::shared().and_then(|engine| {
        SwitchboardEngineProviderPre::new(
            &engine,
            "bare",
            GUEST_WAT.as_bytes(),
            &GuestConfig::default(),
        )
    });
    let host = pre.map_err(|e| e.to_string()).and_then(|pre| {
        wapc::WapcHost::new(Box::new(pre.provider()), Some(router().host_callback()))
            .map_err(|e| e.to_string())
    });
    let host = match host {
        Ok(host) => host,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(host.call("call", b"bare").ok(), Some(b"bare".to_vec()));
    let err = host.call("trap", b"").err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "Guest call failure: guest trapped: wasm trap: wasm `unreachable` instruction executed"
        )
    );
    assert_eq!(host.call("echo", b"healed").ok(), Some(b"healed".to_vec()));
    // The invocation context reaches the guest through `with_call_context`.
    let expired = CallContext::new().with_timeout(Duration::from_millis(20));
    let err = with_call_context(expired, || host.call("loop", b"")).err();
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("Guest call failure: guest invocation deadline exceeded")
    );
}

#[test]
fn runtime_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GuestRuntime>();
    assert_send_sync::<GuestModule>();
    assert_send_sync::<SwitchboardEngineProviderPre>();
    fn assert_send<T: Send>() {}
    assert_send::<SwitchboardEngineProvider>();
}

#[test]
fn replace_module_swaps_the_guest_in_a_fresh_store() {
    const ECHO_ONLY: &str = r#"
    (module
      (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
      (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
      (memory (export "memory") 1)
      (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
        (call $guest_request (i32.const 1024) (i32.const 4096))
        (call $guest_response (i32.const 4096) (local.get $msg_len))
        (i32.const 1)))
    "#;
    let host = WasmEngine::shared()
        .and_then(|engine| {
            SwitchboardEngineProviderPre::new(
                &engine,
                "r",
                GUEST_WAT.as_bytes(),
                &GuestConfig::default(),
            )
        })
        .map_err(|e| e.to_string())
        .and_then(|pre| {
            wapc::WapcHost::new(Box::new(pre.provider()), Some(router().host_callback()))
                .map_err(|e| e.to_string())
        });
    let host = match host {
        Ok(host) => host,
        Err(e) => panic!("{e}"),
    };
    assert!(matches!(
        host.call("fail", b""),
        Err(wapc::errors::Error::GuestCallFailure(_))
    ));
    assert!(host.replace_module(ECHO_ONLY.as_bytes()).is_ok());
    assert_eq!(
        host.call("fail", b"now echo").ok(),
        Some(b"now echo".to_vec())
    );
    let bad = host.replace_module(b"not wasm").err();
    assert!(
        matches!(bad, Some(wapc::errors::Error::ReplacementFailed(_))),
        "{bad:?}"
    );
}

#[test]
fn async_callback_plugs_into_wapc_host_async() {
    let runtime = tokio::runtime::Builder::new_current_thread().build();
    let Ok(runtime) = runtime else {
        panic!("no tokio runtime");
    };
    let result = runtime.block_on(async {
        let engine = wasmtime_provider::WasmtimeEngineProviderBuilder::new()
            .module_bytes(GUEST_WAT.as_bytes())
            .build_async()
            .map_err(|e| e.to_string())?;
        let host = wapc::WapcHostAsync::new(Box::new(engine), Some(router().host_callback_async()))
            .await
            .map_err(|e| e.to_string())?;
        let reply = host
            .call("call", b"async")
            .await
            .map_err(|e| e.to_string())?;
        let error = host
            .call("route", b"nope")
            .await
            .err()
            .map(|e| e.to_string());
        Ok::<_, String>((reply, error))
    });
    assert_eq!(
        result,
        Ok((
            b"async".to_vec(),
            Some(
                "Guest call failure: no route for namespace 'nope' operation 'op' (binding 'wapc')"
                    .to_owned()
            )
        ))
    );
}
