//! Switchboard's engine and the router's callbacks under wapc's own `WapcHost` / `WapcHostAsync`.

use super::*;

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

#[cfg(feature = "wasmtime-provider")]
#[test]
fn async_callback_plugs_into_wapc_host_async() {
    let runtime = tokio::runtime::Builder::new_current_thread().build();
    let Ok(runtime) = runtime else {
        panic!("no tokio runtime");
    };
    let result = runtime.block_on(async {
        let engine = ::wasmtime_provider::WasmtimeEngineProviderBuilder::new()
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
