//! Guest output into `tracing`, and WASI (preview 1 and 0) with nothing granted by default.

use super::*;

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
fn missing_preopen_dir_is_a_config_error() {
    let err = GuestModule::from_bytes(
        GUEST_WAT.as_bytes(),
        GuestConfig::default().with_read_only_dir("/definitely/not/here", "/data"),
    )
    .err();
    assert!(matches!(err, Some(WapcError::Config(_))), "{err:?}");
}

#[cfg(feature = "wasmtime-provider")]
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

/// An old TinyGo guest: WASI preview 0 (`wasi_unstable`) only. `v` replies the number of
/// environment variables it can see (4 bytes, little endian); anything else writes a line to
/// stdout through `wasi_unstable::fd_write` and replies "ok".
const WASI_P0_GUEST_WAT: &str = r#"
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 320) "hello from wasi_unstable\n")
  (data (i32.const 40) "ok")
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (call $guest_request (i32.const 1024) (i32.const 4096))
    (if (i32.eq (i32.load8_u (i32.const 1024)) (i32.const 118))
      (then
        (drop (call $env_sizes (i32.const 400) (i32.const 404)))
        (call $guest_response (i32.const 400) (i32.const 4))
        (return (i32.const 1))))
    (i32.store (i32.const 300) (i32.const 320))
    (i32.store (i32.const 304) (i32.const 25))
    (drop (call $fd_write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 340)))
    (call $guest_response (i32.const 40) (i32.const 2))
    (i32.const 1))
)
"#;

/// A guest importing both WASI preview 0 and preview 1: one stdout line through each, then the
/// errno of each `fd_write` as the reply (2 x 4 bytes, little endian).
const WASI_P0_P1_GUEST_WAT: &str = r#"
(module
  (import "wasi_unstable" "fd_write" (func $fd_write0 (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write1 (param i32 i32 i32 i32) (result i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 320) "via p0\n")
  (data (i32.const 360) "via p1\n")
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (i32.store (i32.const 300) (i32.const 320))
    (i32.store (i32.const 304) (i32.const 7))
    (i32.store (i32.const 400) (call $fd_write0 (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 340)))
    (i32.store (i32.const 300) (i32.const 360))
    (i32.store (i32.const 304) (i32.const 7))
    (i32.store (i32.const 404) (call $fd_write1 (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 340)))
    (call $guest_response (i32.const 400) (i32.const 8))
    (i32.const 1))
)
"#;

/// The guest output lines among `events`, as (guest, stream, line).
fn guest_lines(events: &[stdio::tests::Captured]) -> Vec<(&str, &str, &str)> {
    events
        .iter()
        .filter(|e| e.0 == GUEST_LOG_TARGET)
        .map(|e| (e.1.as_str(), e.2.as_str(), e.3.as_str()))
        .collect()
}

#[test]
fn old_tinygo_guests_importing_wasi_unstable_run_with_stdio_captured() {
    let rt = GuestModule::from_bytes(
        WASI_P0_GUEST_WAT.as_bytes(),
        GuestConfig::default().with_name("tinygo-2021"),
    )
    .and_then(|module| module.runtime(&Router::new()))
    .expect("a wasi_unstable guest loads");
    let (reply, events) = capture_events(|| rt.invoke("hello", b""));
    assert_eq!(reply.expect("the guest replies"), b"ok".to_vec());
    assert_eq!(
        guest_lines(&events),
        vec![("tinygo-2021", "stdout", "hello from wasi_unstable")]
    );
}

#[test]
fn wasi_unstable_guests_get_only_what_is_granted() {
    let load = |config: GuestConfig| {
        GuestModule::from_bytes(
            WASI_P0_GUEST_WAT.as_bytes(),
            config.with_name("tinygo-2021"),
        )
        .and_then(|module| module.runtime(&Router::new()))
        .expect("a wasi_unstable guest loads")
    };
    let denied = load(GuestConfig::default());
    assert_eq!(
        denied.invoke("v", b"").expect("env count"),
        0u32.to_le_bytes().to_vec()
    );
    let granted = load(GuestConfig::default().with_env("A", "1").with_env("B", "2"));
    assert_eq!(
        granted.invoke("v", b"").expect("env count"),
        2u32.to_le_bytes().to_vec()
    );
}

#[test]
fn a_guest_importing_wasi_preview_0_and_1_gets_both_on_one_context() {
    let rt = GuestModule::from_bytes(
        WASI_P0_P1_GUEST_WAT.as_bytes(),
        GuestConfig::default().with_name("both"),
    )
    .and_then(|module| module.runtime(&Router::new()))
    .expect("a guest importing both WASI versions loads");
    let (reply, events) = capture_events(|| rt.invoke("hello", b""));
    // errno 0 (success) from each fd_write.
    assert_eq!(reply.expect("the guest replies"), vec![0u8; 8]);
    assert_eq!(
        guest_lines(&events),
        vec![("both", "stdout", "via p0"), ("both", "stdout", "via p1")]
    );
}
