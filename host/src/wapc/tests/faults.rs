//! Traps, deadlines, cancellation, the memory cap and ABI violations: each ends the invocation with its typed error, and the runtime recovers.

use super::*;

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

#[cfg(feature = "wasmtime-provider")]
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
    for &engine in ENGINES {
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

#[cfg(feature = "wasmtime-provider")]
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
