//! Every case of Tarmac's `callbacks_test.go`, asserting the exact error kind.

use super::*;

#[test]
fn tarmac_defaults_register_and_call() {
    let router = Router::new();
    let counter = Arc::new(AtomicUsize::new(0));
    router
        .register("counter", "++", counter_provider(&counter))
        .unwrap();
    let out = router
        .call(&ctx(), "default", "counter", "++", b"")
        .unwrap();
    assert_eq!(out, b"");
    assert_eq!(counter.load(Ordering::SeqCst), 1);
}

#[test]
fn tarmac_expired_context_is_canceled_and_provider_not_called() {
    let router = Router::new();
    let counter = Arc::new(AtomicUsize::new(0));
    router
        .register("counter", "++", counter_provider(&counter))
        .unwrap();
    let token = CancelToken::new();
    let live = ctx().with_cancel(token.clone());
    router.call(&live, "default", "counter", "++", b"").unwrap();
    token.cancel();
    let err = router
        .call(&live, "default", "counter", "++", b"")
        .unwrap_err();
    assert_eq!(err, CallError::Canceled);
    assert_eq!(counter.load(Ordering::SeqCst), 1);
}

#[test]
fn tarmac_past_deadline_is_deadline_exceeded() {
    let router = Router::new();
    let counter = Arc::new(AtomicUsize::new(0));
    router
        .register("counter", "++", counter_provider(&counter))
        .unwrap();
    let late = ctx().with_deadline(Instant::now() - Duration::from_millis(5));
    let err = router
        .call(&late, "default", "counter", "++", b"")
        .unwrap_err();
    assert_eq!(err, CallError::DeadlineExceeded);
    assert_eq!(counter.load(Ordering::SeqCst), 0);
}

#[test]
fn tarmac_delete_then_call_is_not_found() {
    let router = Router::new();
    let counter = Arc::new(AtomicUsize::new(0));
    router
        .register("counter", "++", counter_provider(&counter))
        .unwrap();
    let removed = router
        .unregister(&RouteKey::exact("counter", "++"))
        .unwrap();
    assert_eq!(removed.key, RouteKey::exact("counter", "++"));
    assert_eq!(removed.provider, "native");
    let err = router
        .call(&ctx(), "default", "counter", "++", b"")
        .unwrap_err();
    assert_eq!(
        err,
        CallError::NotFound {
            binding: "default".into(),
            namespace: "counter".into(),
            operation: "++".into()
        }
    );
    assert_eq!(router.unregister(&RouteKey::exact("counter", "++")), None);
}

#[test]
fn tarmac_empty_namespace_is_invalid() {
    let router = Router::new();
    let err = router.call(&ctx(), "default", "", "++", b"").unwrap_err();
    assert_eq!(err, CallError::InvalidRouteName("namespace is empty"));
}

#[test]
fn tarmac_empty_operation_is_invalid() {
    let router = Router::new();
    let err = router
        .call(&ctx(), "default", "counter", "", b"")
        .unwrap_err();
    assert_eq!(err, CallError::InvalidRouteName("operation is empty"));
}

#[test]
fn tarmac_pre_function_error_denies_without_running_provider() {
    let counter = Arc::new(AtomicUsize::new(0));
    let router = Router::builder()
        .pre(|call: &CallInfo<'_>, _: &[u8]| {
            if call.namespace == "badfunc" {
                PreOutcome::Deny("Forced Error".into())
            } else {
                PreOutcome::Continue
            }
        })
        .build();
    router
        .register("badfunc", "nil", counter_provider(&counter))
        .unwrap();
    let err = router
        .call(&ctx(), "default", "badfunc", "nil", b"")
        .unwrap_err();
    assert_eq!(
        err,
        CallError::Denied {
            reason: "Forced Error".into()
        }
    );
    assert_eq!(err.to_string(), "denied: Forced Error");
    assert_eq!(counter.load(Ordering::SeqCst), 0);
}

#[test]
fn tarmac_missing_function_is_not_found() {
    // Tarmac registers a nil func under "badfunc2" and calls "badfunc"; Rust cannot register a
    // nil provider, so what remains of the case is the lookup miss.
    let router = Router::new();
    router.register("badfunc2", "nil", echo).unwrap();
    let err = router
        .call(&ctx(), "default2", "badfunc", "nil", b"")
        .unwrap_err();
    assert_eq!(
        err,
        CallError::NotFound {
            binding: "default2".into(),
            namespace: "badfunc".into(),
            operation: "nil".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "no route for namespace 'badfunc' operation 'nil' (binding 'default2')"
    );
}

#[test]
fn tarmac_post_function_is_called() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let router = Router::builder()
        .post(move |r: &CallResult<'_>| {
            sink.lock().unwrap().push((
                r.binding.to_string(),
                r.namespace.to_string(),
                r.operation.to_string(),
                r.input.to_vec(),
                r.outcome.map(<[u8]>::to_vec).map_err(Clone::clone),
            ));
        })
        .build();
    router.register("goodfunc1", "post", echo).unwrap();
    router
        .call(&ctx(), "default", "goodfunc1", "post", b"in")
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        *seen,
        vec![(
            "default".to_string(),
            "goodfunc1".to_string(),
            "post".to_string(),
            b"in".to_vec(),
            Ok(b"in".to_vec())
        )]
    );
}
