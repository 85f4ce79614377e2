//! Loading modules: what is refused, and how the guest is named.

use super::*;

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
