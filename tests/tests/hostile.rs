//! End-to-end: a hostile guest passes out-of-range pointers and lengths to every waPC import.
//! wasmtime-provider 2.25 panics the host on these; Switchboard answers each with a typed error
//! naming the import and the bad range, and the same runtime keeps serving.

use switchboard::wapc::{
    AbiViolation, EngineKind, GuestConfig, GuestModule, GuestRuntime, TrapCause, WapcError,
};
use switchboard::{ProviderError, Router};
use switchboard_tests::Fixture;

/// Where the hostile guest points (far past its ~1 MiB memory).
const OUT_OF_RANGE: u32 = 0xFFFF_0000;

fn runtime(engine: EngineKind) -> GuestRuntime {
    let router = Router::new();
    // `bad_host_response` needs one route that answers; `bad_host_error` needs one that doesn't.
    router
        .register("hostile", "echo", |payload: &[u8]| {
            Ok::<_, ProviderError>(payload.to_vec())
        })
        .unwrap();
    let config = GuestConfig::default().with_engine(engine).with_pool_size(1);
    GuestModule::from_file(Fixture::HostileGuest.require(), config)
        .and_then(|module| module.runtime(&router))
        .unwrap_or_else(|err| panic!("loading the hostile guest on {engine:?}: {err}"))
}

/// The range the guest passed, as `(import, ptr, len)`; `None` for "any" (it depends on where
/// the guest's allocator put a buffer, or on a message length).
type Expected = (&'static str, Option<u32>, Option<u32>);

const ATTACKS: [(&str, Expected); 9] = [
    (
        "bad_host_call",
        ("__host_call", Some(OUT_OF_RANGE), Some(16)),
    ),
    (
        "bad_host_call_len",
        ("__host_call", None, Some(0x8000_0000)),
    ),
    (
        "bad_host_call_wrap",
        ("__host_call", Some(0xFFFF_FFF0), Some(0x20)),
    ),
    (
        "bad_console_log",
        ("__console_log", Some(OUT_OF_RANGE), Some(64)),
    ),
    (
        "bad_guest_request",
        ("__guest_request", Some(OUT_OF_RANGE), None),
    ),
    (
        "bad_guest_response",
        ("__guest_response", Some(OUT_OF_RANGE), Some(1024)),
    ),
    (
        "bad_guest_error",
        ("__guest_error", Some(OUT_OF_RANGE), Some(1024)),
    ),
    // The route (hostile, echo) answered the 1-byte payload "x".
    (
        "bad_host_response",
        ("__host_response", Some(OUT_OF_RANGE), Some(1)),
    ),
    ("bad_host_error", ("__host_error", Some(OUT_OF_RANGE), None)),
];

#[test]
fn every_bad_pointer_is_a_typed_abi_violation_and_the_host_keeps_serving() {
    let runtime = runtime(EngineKind::Switchboard);
    assert_eq!(runtime.invoke("ok", b"").unwrap(), b"ok");
    for (operation, (import, ptr, len)) in ATTACKS {
        // A non-empty payload, so `__guest_request` really has bytes to write.
        let err = runtime.invoke(operation, b"payload").unwrap_err();
        match &err {
            WapcError::Trap {
                cause:
                    TrapCause::Abi(AbiViolation::OutOfBounds {
                        import: got_import,
                        ptr: got_ptr,
                        len: got_len,
                        memory_size,
                    }),
                ..
            } => {
                assert_eq!(*got_import, import, "{operation}");
                if let Some(ptr) = ptr {
                    assert_eq!(*got_ptr, ptr, "{operation}");
                }
                if let Some(len) = len {
                    assert_eq!(*got_len, len, "{operation}");
                }
                let end = u64::from(*got_ptr) + u64::from(*got_len);
                assert!(end > *memory_size as u64, "{operation}: {err}");
            }
            _ => panic!("{operation}: expected an out-of-bounds ABI violation, got {err:?}"),
        }
        assert!(err.discards_instance(), "{operation}: {err:?}");
        assert_eq!(
            runtime.invoke("ok", b"").unwrap(),
            b"ok",
            "after {operation}"
        );
    }
    assert_eq!(runtime.instances(), 1);
}

#[test]
fn abi_violation_message_names_the_import_and_range() {
    let runtime = runtime(EngineKind::Switchboard);
    let err = runtime.invoke("bad_console_log", b"").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "guest trapped: __console_log: range of 64 bytes at 4294901760 is outside guest memory of "
        ),
        "{text}"
    );
}

#[test]
fn wasmtime_provider_engine_panics_are_contained() {
    // The stock engine panics inside the import; the runtime turns that into a trap error and
    // replaces the instance. (Only the imports it slices without checking are attacked here.)
    let runtime = runtime(EngineKind::WasmtimeProvider);
    for operation in [
        "bad_host_call",
        "bad_console_log",
        "bad_guest_response",
        "bad_guest_error",
    ] {
        let err = runtime.invoke(operation, b"payload").unwrap_err();
        assert!(
            matches!(err, WapcError::Trap { .. }),
            "{operation}: got {err:?}"
        );
        assert_eq!(
            runtime.invoke("ok", b"").unwrap(),
            b"ok",
            "after {operation}"
        );
    }
}
