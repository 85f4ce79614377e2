//! What providers see and how their failures, panics and nested calls surface.

use super::*;

#[test]
fn providers_see_the_context() {
    let router = Router::new();
    router
        .register(
            "ns",
            "op",
            provider_fn(|req| {
                let remaining = req.ctx.remaining().ok_or("no deadline")?;
                Ok(
                    format!("{}:{}", req.binding, remaining <= Duration::from_secs(60))
                        .into_bytes(),
                )
            }),
        )
        .unwrap();
    let out = router
        .call(
            &ctx().with_timeout(Duration::from_secs(60)),
            "b",
            "ns",
            "op",
            b"",
        )
        .unwrap();
    assert_eq!(out, b"b:true");
}

#[test]
fn provider_error_kinds_map_to_call_errors() {
    let router = Router::new();
    let cases: Vec<(&str, ProviderError, CallError)> = vec![
        (
            "invalid",
            ProviderError::InvalidInput("bad json".into()),
            CallError::InvalidInput("bad json".into()),
        ),
        (
            "unknown",
            ProviderError::UnknownOperation("Zap".into()),
            CallError::UnknownOperation("Zap".into()),
        ),
        (
            "trap",
            ProviderError::Trapped("unreachable".into()),
            CallError::ProviderTrapped("unreachable".into()),
        ),
        (
            "limit",
            ProviderError::LimitExceeded("memory".into()),
            CallError::LimitExceeded("memory".into()),
        ),
        (
            "deadline",
            ProviderError::DeadlineExceeded,
            CallError::DeadlineExceeded,
        ),
        ("canceled", ProviderError::Canceled, CallError::Canceled),
    ];
    for (op, perr, _) in &cases {
        let perr = perr.clone();
        router
            .register("k", op, move |_: &[u8]| Err::<Vec<u8>, _>(perr.clone()))
            .unwrap();
    }
    for (op, _, expected) in cases {
        assert_eq!(router.call(&ctx(), "", "k", op, b"").unwrap_err(), expected);
    }
}

#[test]
fn a_panicking_provider_becomes_a_typed_failure() {
    let router = Router::new();
    router
        .register("ns", "op", |_: &[u8]| -> Result<Vec<u8>, String> {
            panic!("oops")
        })
        .unwrap();
    let err = router.call(&ctx(), "", "ns", "op", b"").unwrap_err();
    assert_eq!(
        err,
        CallError::ProviderFailed {
            message: "provider panicked: oops".into(),
            payload: None
        }
    );
    // The router keeps serving.
    router.register("ns", "ok", echo).unwrap();
    assert_eq!(router.call(&ctx(), "", "ns", "ok", b"1").unwrap(), b"1");
}

#[test]
fn providers_can_call_back_into_the_router() {
    let router = Router::new();
    router
        .register(
            "outer",
            "op",
            provider_fn(|req| {
                let inner = req.call("inner", "op", req.payload)?;
                Ok([b"outer(".as_slice(), &inner, b")"].concat())
            }),
        )
        .unwrap();
    router
        .register(
            "inner",
            "op",
            provider_fn(|req| Ok(format!("inner@{}", req.ctx.depth()).into_bytes())),
        )
        .unwrap();
    assert_eq!(
        router.call(&ctx(), "", "outer", "op", b"").unwrap(),
        b"outer(inner@1)"
    );
}

#[test]
fn re_entrancy_is_depth_bounded() {
    let router = Router::builder().max_depth(3).build();
    let depth_seen = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&depth_seen);
    router
        .register(
            "loop",
            "op",
            provider_fn(move |req| {
                d.fetch_max(req.ctx.depth() as usize, Ordering::SeqCst);
                req.call("loop", "op", req.payload).map_err(Into::into)
            }),
        )
        .unwrap();
    let err = router.call(&ctx(), "", "loop", "op", b"").unwrap_err();
    assert_eq!(err, CallError::DepthExceeded { max: 3 });
    assert_eq!(depth_seen.load(Ordering::SeqCst), 3);
}

#[test]
fn nested_calls_inherit_cancellation() {
    let router = Router::new();
    let token = CancelToken::new();
    let t = token.clone();
    router
        .register(
            "outer",
            "op",
            provider_fn(move |req| {
                t.cancel();
                req.call("inner", "op", b"").map_err(Into::into)
            }),
        )
        .unwrap();
    router.register("inner", "op", echo).unwrap();
    let err = router
        .call(&ctx().with_cancel(token), "", "outer", "op", b"")
        .unwrap_err();
    assert_eq!(err, CallError::Canceled);
}
