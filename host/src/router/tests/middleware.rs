//! Pre-call middleware and post-call observers.

use super::*;

#[test]
fn pre_middleware_rewrites_payload_in_order() {
    let router = Router::builder()
        .pre(|_: &CallInfo<'_>, p: &[u8]| PreOutcome::Rewrite([p, b"-1"].concat()))
        .pre(|_: &CallInfo<'_>, p: &[u8]| PreOutcome::Rewrite([p, b"-2"].concat()))
        .build();
    router.register("ns", "op", echo).unwrap();
    assert_eq!(router.call(&ctx(), "", "ns", "op", b"p").unwrap(), b"p-1-2");
}

#[test]
fn post_observers_see_failures_with_timing_and_route() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let router = Router::builder()
        .post(move |r: &CallResult<'_>| {
            sink.lock().unwrap().push((
                r.route.clone(),
                r.outcome.map(<[u8]>::to_vec).map_err(Clone::clone),
                r.duration,
            ));
        })
        .build();
    router
        .register_namespace("ns", |_: &[u8]| {
            std::thread::sleep(Duration::from_millis(2));
            Err::<Vec<u8>, _>(ProviderError::failed_with_payload(
                "boom",
                b"detail".to_vec(),
            ))
        })
        .unwrap();
    let err = router.call(&ctx(), "", "ns", "op", b"").unwrap_err();
    assert_eq!(
        err,
        CallError::ProviderFailed {
            message: "boom".into(),
            payload: Some(b"detail".to_vec())
        }
    );
    assert_eq!(err.to_string(), "boom");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, RouteKey::namespace("ns"));
    assert_eq!(seen[0].1, Err(err.clone()));
    assert!(seen[0].2 >= Duration::from_millis(2));
}

#[test]
fn denied_and_missing_calls_do_not_reach_post_observers() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    let router = Router::builder()
        .pre(|_: &CallInfo<'_>, _: &[u8]| PreOutcome::Deny("no".into()))
        .post(move |_: &CallResult<'_>| {
            c.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    router.register("ns", "op", echo).unwrap();
    assert_eq!(
        router.call(&ctx(), "", "ns", "op", b""),
        Err(CallError::Denied {
            reason: "no".into()
        })
    );
    assert_eq!(
        router.call(&ctx(), "", "ns", "missing", b""),
        Err(CallError::NotFound {
            binding: String::new(),
            namespace: "ns".into(),
            operation: "missing".into(),
        })
    );
    assert_eq!(count.load(Ordering::SeqCst), 0);
}
