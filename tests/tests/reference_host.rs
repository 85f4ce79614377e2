//! Each fixture's contract, checked on the stock waPC host (`wapc::WapcHost` with the
//! `wasmtime-provider` engine and a plain closure as host callback), independently of
//! Switchboard. The Switchboard suites (guests.rs, hostile.rs) then prove the same unchanged
//! modules behave identically behind the router.
//!
//! Not run here: `loop` (the stock host has no deadline) and the hostile operations (the stock
//! host panics on them; that is the defect Switchboard fixes).

use std::error::Error;

use switchboard_tests::{callback_payload, decode_str, encode_str, CallbackGuest, Fixture};
use wapc::{errors::Error as WapcError, WapcHost};
use wasmtime_provider::WasmtimeEngineProviderBuilder;

type HostResult = Result<Vec<u8>, Box<dyn Error + Send + Sync>>;

/// Answers `("b", "upper", "op")` with the msgpack str upper-cased, `("b", "raw", "op")` with
/// the payload unchanged, `("b", "nil", "op")` with msgpack nil; everything else fails with
/// `no route b/<ns>/<op>`.
fn callback(
    _id: u64,
    binding: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> HostResult {
    match (binding, namespace, operation) {
        ("b", "upper", "op") => Ok(encode_str(&decode_str(payload)?.to_uppercase())),
        ("b", "raw", "op") | ("switchboard", "chain", "start") => Ok(payload.to_vec()),
        ("b", "nil", "op") => Ok(vec![0xc0]),
        _ => Err(format!("no route {binding}/{namespace}/{operation}").into()),
    }
}

fn host(fixture: Fixture) -> WapcHost {
    let bytes = fixture.bytes();
    let engine = WasmtimeEngineProviderBuilder::new()
        .module_bytes(&bytes)
        .build()
        .unwrap_or_else(|err| panic!("{fixture}: engine: {err}"));
    WapcHost::new(Box::new(engine), Some(Box::new(callback)))
        .unwrap_or_else(|err| panic!("{fixture}: host: {err}"))
}

fn guest_failure(result: Result<Vec<u8>, WapcError>) -> String {
    match result {
        Err(WapcError::GuestCallFailure(message)) => message,
        other => panic!("expected GuestCallFailure, got {other:?}"),
    }
}

#[test]
fn callback_calls_the_route_it_is_told_and_returns_the_answer() {
    for guest in CallbackGuest::ALL {
        let host = host(guest.fixture);
        let out = host
            .call(
                "callback",
                &callback_payload("b", "upper", "op", "hello world"),
            )
            .unwrap_or_else(|err| panic!("{}: {err}", guest.fixture));
        assert_eq!(
            decode_str(&out).unwrap(),
            "HELLO WORLD",
            "{}",
            guest.fixture
        );
    }
}

#[test]
fn callback_returns_the_host_error_wrapped_by_the_guest_sdk() {
    for guest in CallbackGuest::ALL {
        let host = host(guest.fixture);
        let message = guest_failure(host.call("callback", &callback_payload("b", "x", "y", "hi")));
        assert_eq!(
            message,
            guest.host_error("no route b/x/y"),
            "{}",
            guest.fixture
        );
    }
}

#[test]
fn callback_sends_msg_to_the_route_as_a_msgpack_str() {
    for guest in CallbackGuest::ALL {
        let host = host(guest.fixture);
        // The route answers its payload unchanged; it decodes back to `msg`.
        let out = host
            .call("callback", &callback_payload("b", "raw", "op", "hi"))
            .unwrap();
        assert_eq!(decode_str(&out).unwrap(), "hi", "{}", guest.fixture);
    }
}

#[test]
fn callback_fails_when_the_answer_is_not_a_msgpack_str() {
    // Each SDK's msgpack decoder words the failure its own way (msgpack nil is 0xc0 = 192).
    let expected = [
        (
            Fixture::RustGuest,
            "invalid type: unit value, expected a string",
        ),
        (Fixture::AsGuest, "Invalid length192"),
        (
            Fixture::RustHostCall,
            "Guest call failed: Failed to de-serialize: invalid type: unit value, expected a string",
        ),
    ];
    assert_eq!(
        expected.map(|(fixture, _)| fixture),
        CallbackGuest::ALL.map(|guest| guest.fixture),
        "one expectation per callback guest"
    );
    for (fixture, message) in expected {
        let host = host(fixture);
        let got = guest_failure(host.call("callback", &callback_payload("b", "nil", "op", "hi")));
        assert_eq!(got, message, "{fixture}");
    }
}

#[test]
fn our_guests_echo_fail_chain_and_trap_as_documented() {
    for fixture in [Fixture::RustGuest, Fixture::AsGuest] {
        let host = host(fixture);
        assert_eq!(
            host.call("echo", b"\x00bytes\xff").unwrap(),
            b"\x00bytes\xff",
            "{fixture}"
        );
        assert_eq!(host.call("echo", b"").unwrap(), b"", "{fixture}");
        assert_eq!(
            guest_failure(host.call("fail", b"why")),
            "fail requested: why",
            "{fixture}"
        );
        assert_eq!(host.call("chain", b"link").unwrap(), b"link", "{fixture}");
        assert_eq!(
            host.call("log", b"from the guest").unwrap(),
            b"logged",
            "{fixture}"
        );
        assert_eq!(host.call("alloc", b"3").unwrap(), b"3", "{fixture}");
        // The stock host reports a trap as a guest failure and drops its cause (a defect that
        // Switchboard's engine fixes; see guests.rs): the message is wasmtime's backtrace header
        // and frames only. The frames' offsets and symbol hashes depend on the toolchain, so
        // only their shape is asserted.
        let trap = guest_failure(host.call("trap", b""));
        let mut lines = trap.lines();
        assert_eq!(
            lines.next(),
            Some("error while executing at wasm backtrace:"),
            "{fixture}: {trap}"
        );
        let frames: Vec<&str> = lines.collect();
        assert!(!frames.is_empty(), "{fixture}: no frames in {trap}");
        for (index, frame) in frames.iter().enumerate() {
            let (number, rest) = frame
                .trim_start()
                .split_once(':')
                .unwrap_or_else(|| panic!("{fixture}: frame {frame:?} in {trap}"));
            assert_eq!(number, index.to_string(), "{fixture}: {trap}");
            assert!(rest.trim_start().starts_with("0x"), "{fixture}: {trap}");
        }
        assert!(!trap.contains("unreachable"), "{fixture}: {trap}");
        if fixture == Fixture::RustGuest {
            assert!(
                frames
                    .iter()
                    .any(|frame| frame.contains("rust_guest::trap")),
                "{fixture}: the trapping function is not in {trap}"
            );
        }
    }
}

#[test]
fn third_party_echo_string_echoes_the_msg_field() {
    #[derive(serde::Serialize)]
    struct Echo<'a> {
        msg: &'a str,
    }
    let host = host(Fixture::RustEchoString);
    let payload = rmp_serde::to_vec_named(&Echo { msg: "hello world" }).unwrap();
    let out = host.call("echo", &payload).unwrap();
    assert_eq!(decode_str(&out).unwrap(), "hello world");
}

#[test]
fn hostile_guest_serves_its_harmless_operation() {
    let host = host(Fixture::HostileGuest);
    assert_eq!(host.call("ok", b"").unwrap(), b"ok");
}
