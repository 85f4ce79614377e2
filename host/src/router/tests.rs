//! Router semantics. The first group mirrors every case of Tarmac's `callbacks_test.go`,
//! asserting the exact error kind; the rest covers what Switchboard fixes or adds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::{provider_fn, CancelToken, Provider, ProviderError};

fn counter_provider(counter: &Arc<AtomicUsize>) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> {
    let counter = Arc::clone(counter);
    move |_: &[u8]| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(Vec::new())
    }
}

fn echo(payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
    Ok(payload.to_vec())
}

fn ctx() -> CallContext {
    CallContext::new()
}

// ---- Tarmac callbacks_test.go ----

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
    assert!(matches!(err, CallError::NotFound { ref namespace, .. } if namespace == "badfunc"));
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

// ---- Switchboard's fixes and additions ----

#[test]
fn keys_are_tuples_not_joined_strings() {
    let router = Router::new();
    router
        .register("a:b", "c", |_: &[u8]| Ok::<_, String>(b"first".to_vec()))
        .unwrap();
    // In Tarmac this second registration overwrites the first ("a:b:c" == "a:b:c").
    router
        .register("a", "b:c", |_: &[u8]| Ok::<_, String>(b"second".to_vec()))
        .unwrap();
    assert_eq!(router.call(&ctx(), "", "a:b", "c", b"").unwrap(), b"first");
    assert_eq!(router.call(&ctx(), "", "a", "b:c", b"").unwrap(), b"second");
    assert_eq!(router.routes().len(), 2);
}

#[test]
fn exact_route_beats_namespace_route() {
    let router = Router::new();
    router
        .register_namespace("kv", |_: &[u8]| Ok::<_, String>(b"namespace".to_vec()))
        .unwrap();
    router
        .register("kv", "Get", |_: &[u8]| Ok::<_, String>(b"exact".to_vec()))
        .unwrap();
    assert_eq!(router.call(&ctx(), "", "kv", "Get", b"").unwrap(), b"exact");
    assert_eq!(
        router.call(&ctx(), "", "kv", "Set", b"").unwrap(),
        b"namespace"
    );
    assert_eq!(
        router.lookup("", "kv", "Set").unwrap().key,
        RouteKey::namespace("kv")
    );
}

#[test]
fn binding_scoped_route_beats_unscoped_and_only_matches_its_binding() {
    let router = Router::new();
    router
        .register("kv", "get", |_: &[u8]| Ok::<_, String>(b"any".to_vec()))
        .unwrap();
    router
        .register_key(
            RouteKey::exact("kv", "get").with_binding("tarmac"),
            |_: &[u8]| Ok::<_, String>(b"tarmac".to_vec()),
            Conflict::Reject,
        )
        .unwrap();
    router
        .register_key(
            RouteKey::namespace("only").with_binding("tarmac"),
            echo,
            Conflict::Reject,
        )
        .unwrap();
    assert_eq!(
        router.call(&ctx(), "tarmac", "kv", "get", b"").unwrap(),
        b"tarmac"
    );
    assert_eq!(
        router.call(&ctx(), "other", "kv", "get", b"").unwrap(),
        b"any"
    );
    assert!(matches!(
        router.call(&ctx(), "other", "only", "x", b""),
        Err(CallError::NotFound { .. })
    ));
    assert_eq!(
        router.call(&ctx(), "tarmac", "only", "x", b"p").unwrap(),
        b"p"
    );
}

#[test]
fn registration_rejects_empty_names() {
    let router = Router::new();
    assert_eq!(
        router.register("", "op", echo),
        Err(RegisterError::EmptyNamespace)
    );
    assert_eq!(
        router.register("ns", "", echo),
        Err(RegisterError::EmptyOperation)
    );
    assert_eq!(
        router.register_key(
            RouteKey::exact("ns", "op").with_binding(""),
            echo,
            Conflict::Reject
        ),
        Err(RegisterError::EmptyBinding)
    );
    assert!(router.routes().is_empty());
}

#[test]
fn duplicates_are_refused_and_replacement_is_explicit() {
    let router = Router::new();
    router
        .register("ns", "op", |_: &[u8]| Ok::<_, String>(b"old".to_vec()))
        .unwrap();
    assert_eq!(
        router.register("ns", "op", echo),
        Err(RegisterError::Duplicate(RouteKey::exact("ns", "op")))
    );
    assert_eq!(router.call(&ctx(), "", "ns", "op", b"x").unwrap(), b"old");
    let replaced = router
        .replace("ns", "op", |_: &[u8]| Ok::<_, String>(b"new".to_vec()))
        .unwrap();
    assert_eq!(replaced.map(|r| r.key), Some(RouteKey::exact("ns", "op")));
    assert_eq!(router.call(&ctx(), "", "ns", "op", b"x").unwrap(), b"new");
    assert_eq!(router.replace("ns", "fresh", echo).unwrap(), None);
}

#[test]
fn lookup_and_listing_report_routes() {
    struct Named;
    impl Provider for Named {
        fn call(&self, _: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
            Ok(vec![])
        }
        fn describe(&self) -> String {
            "named provider".into()
        }
    }
    let router = Router::new();
    router.register("b", "op", Named).unwrap();
    router.register_namespace("a", echo).unwrap();
    assert_eq!(router.lookup("", "c", "op"), None);
    assert_eq!(
        router.lookup("x", "b", "op"),
        Some(RouteInfo {
            key: RouteKey::exact("b", "op"),
            provider: "named provider".into()
        })
    );
    let keys: Vec<String> = router.routes().iter().map(|r| r.key.to_string()).collect();
    assert_eq!(keys, vec!["*/a:*", "*/b:op"]);
}

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
                r.outcome.map_err(Clone::clone).is_err(),
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
    assert!(seen[0].1);
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
    assert!(router.call(&ctx(), "", "ns", "op", b"").is_err());
    assert!(router.call(&ctx(), "", "ns", "missing", b"").is_err());
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

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

#[test]
fn reads_never_wait_and_nothing_is_lost_or_misrouted_under_reregistration() {
    let router = Router::new();
    // Stable routes that must always answer with their own name.
    for i in 0..8 {
        let name = format!("stable{i}");
        let answer = name.clone().into_bytes();
        router
            .register(&name, "op", move |_: &[u8]| Ok::<_, String>(answer.clone()))
            .unwrap();
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let router = router.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let gen = n.to_string().into_bytes();
                router
                    .replace("hot", "op", move |_: &[u8]| Ok::<_, String>(gen.clone()))
                    .unwrap();
                if n.is_multiple_of(3) {
                    router.unregister(&RouteKey::exact("hot", "op"));
                }
                n += 1;
            }
            n
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|t| {
            let router = router.clone();
            std::thread::spawn(move || {
                let mut hot_hits = 0;
                for i in 0..20_000usize {
                    let name = format!("stable{}", (i + t) % 8);
                    let out = router
                        .call(&CallContext::new(), "", &name, "op", b"")
                        .unwrap();
                    assert_eq!(out, name.as_bytes());
                    match router.call(&CallContext::new(), "", "hot", "op", b"") {
                        Ok(gen) => {
                            assert!(std::str::from_utf8(&gen).unwrap().parse::<u64>().is_ok());
                            hot_hits += 1;
                        }
                        Err(CallError::NotFound { .. }) => {}
                        Err(other) => panic!("unexpected error {other}"),
                    }
                }
                hot_hits
            })
        })
        .collect();
    let hits: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    assert!(writes > 0);
    assert!(hits > 0, "the hot route was never seen registered");
}
