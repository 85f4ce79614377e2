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
    for guest in CallbackGuest::ALL {
        let host = host(guest.fixture);
        let message =
            guest_failure(host.call("callback", &callback_payload("b", "nil", "op", "hi")));
        assert!(!message.is_empty(), "{}", guest.fixture);
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
        // Switchboard's engine fixes; see guests.rs).
        let trap = guest_failure(host.call("trap", b""));
        assert!(
            trap.starts_with("error while executing at wasm backtrace:"),
            "{fixture}: {trap}"
        );
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
