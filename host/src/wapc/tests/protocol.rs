//! The waPC protocol: routed calls, guest and host errors, init functions.

use super::*;

#[test]
fn echo_and_routed_call_on_both_engines() {
    for &engine in ENGINES {
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
    for &engine in ENGINES {
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
    for &engine in ENGINES {
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
    for &engine in ENGINES {
        let err = runtime(engine).invoke("fail", b"").err();
        assert!(
            matches!(&err, Some(WapcError::Guest(m)) if m == "guest failed"),
            "{engine:?}: {err:?}"
        );
    }
}

#[test]
fn silent_guests_get_wapcs_messages_on_both_engines() {
    for &engine in ENGINES {
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

#[test]
fn providers_see_the_guest_and_its_deadline_at_init_and_on_every_call() {
    for &engine in ENGINES {
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
    for &engine in ENGINES {
        // One instance: the failed call and the later successful one run on the same guest.
        let rt = runtime_with(engine, config(engine).with_pool_size(1));
        let err = rt.invoke("route", b"nope").expect_err("a failed host call");
        assert!(
            matches!(err, WapcError::HostCall { .. }),
            "{engine:?}: {err:?}"
        );
        assert_eq!(
            rt.instances(),
            1,
            "{engine:?}: a failed host call keeps the instance"
        );
        let reply = rt.invoke("k", b"fresh").expect("a successful host call");
        let mut expected = 0u32.to_le_bytes().to_vec();
        expected.extend_from_slice(b"fresh");
        assert_eq!(
            reply, expected,
            "{engine:?}: __host_error_len, then the response"
        );
        assert_eq!(rt.instances(), 1, "{engine:?}");
    }
}

#[test]
fn init_functions_run_in_order() {
    // `_initialize` (TinyGo reactors), then `_start`, then `wapc_init`.
    let rt = runtime(EngineKind::Switchboard);
    assert_eq!(rt.invoke("init", b"").ok(), Some(b"123".to_vec()));
    // wasmtime-provider 2.25 never calls `_initialize`.
    #[cfg(feature = "wasmtime-provider")]
    {
        let rt = runtime(EngineKind::WasmtimeProvider);
        assert_eq!(rt.invoke("init", b"").ok(), Some(b"23".to_vec()));
    }
}
