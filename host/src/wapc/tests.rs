//! Engine and runtime tests over inline WAT guests implementing the waPC guest ABI, by topic
//! in `tests/`.
//!
//! The guests declare the waPC imports themselves, so they can also break the ABI on purpose
//! (bad pointers) — what a hostile guest would do. Tests that hold for any engine run on
//! [`ENGINES`]: Switchboard's, and wasmtime-provider's with the `wasmtime-provider` feature.

use std::sync::Arc;
use std::time::Duration;

use super::stdio::tests::capture_events;
use super::*;
use crate::{CallContext, CallError, CancelToken, ProviderError, Router};

mod faults;
mod loading;
mod pool;
mod protocol;
mod wapc_host;
mod wasi;

/// The test guest. The first byte of the operation picks the behaviour:
/// `e`cho, `c`all echo/echo, `r`oute (namespace = payload, operation "op"), `f`ail, `l`oop,
/// `t`rap, `g`row memory by 64 MiB, c`o`nsole log, `i`nit trace, `b`ad pointer (second byte
/// picks the import), `n`o response (succeeds silently), `z`ero (fails silently), `k`: call
/// echo/echo with the payload and reply `__host_error_len` (4 bytes, little endian) followed
/// by the host response.
pub(super) const GUEST_WAT: &str = r#"
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
    (if (i32.eq (local.get $op) (i32.const 107))
      (then
        (drop (call $host_call
          (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4) (i32.const 8) (i32.const 4)
          (i32.const 4096) (local.get $msg_len)))
        (i32.store (i32.const 32768) (call $host_error_len))
        (call $host_response (i32.const 32772))
        (call $guest_response (i32.const 32768) (i32.add (i32.const 4) (call $host_response_len)))
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
pub(super) const WASI_GUEST_WAT: &str = r#"
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

/// Calls `wapc/who/op` from `wapc_init` and from every invocation; traps on a 1-byte payload.
pub(super) const WHO_GUEST_WAT: &str = r#"
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

pub(super) fn router() -> Router {
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

pub(super) fn config(engine: EngineKind) -> GuestConfig {
    GuestConfig::default()
        .with_name("t")
        .with_engine(engine)
        .with_pool_size(2)
        .with_invoke_timeout(Duration::from_millis(300))
}

pub(super) fn runtime_with(engine: EngineKind, config: GuestConfig) -> GuestRuntime {
    let module = GuestModule::from_bytes(GUEST_WAT.as_bytes(), config.with_engine(engine));
    match module.and_then(|m| m.runtime(&router())) {
        Ok(runtime) => runtime,
        Err(e) => panic!("test guest failed to load: {e}"),
    }
}

pub(super) fn runtime(engine: EngineKind) -> GuestRuntime {
    runtime_with(engine, config(engine))
}

/// The engines every engine-independent test runs on.
#[cfg(not(feature = "wasmtime-provider"))]
pub(super) const ENGINES: &[EngineKind] = &[EngineKind::Switchboard];
/// The engines every engine-independent test runs on.
#[cfg(feature = "wasmtime-provider")]
pub(super) const ENGINES: &[EngineKind] = &[EngineKind::Switchboard, EngineKind::WasmtimeProvider];
