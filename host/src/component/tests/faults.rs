//! Each misbehaviour of the `faults` component ends its call with the exact typed error, and
//! the very next call to the same provider succeeds.

use std::sync::Arc;
use std::thread;

use super::*;

/// A router serving the faults component under `f`, pool of `max` instances, one warm.
fn faults(config: ComponentConfig) -> (Router, ComponentProvider) {
    let provider = load("faults", config.with_name("faults"));
    let router = router_with("f", provider.clone());
    (router, provider)
}

/// The provider still answers, and the pool is back at its minimum.
fn assert_recovers(router: &Router, provider: &ComponentProvider) {
    assert_eq!(
        call(router, "f", "echo", b"still here"),
        Ok(b"still here".to_vec())
    );
    assert_eq!(provider.pool_stats(), PoolStats { live: 1, idle: 1 });
}

#[test]
fn infinite_loop_hits_the_deadline() {
    let (router, provider) =
        faults(ComponentConfig::default().with_call_timeout(Duration::from_millis(100)));
    assert_eq!(
        call(&router, "f", "loop", b""),
        Err(CallError::DeadlineExceeded)
    );
    assert_recovers(&router, &provider);
}

#[test]
fn caller_deadline_is_shorter_than_the_config() {
    let (router, provider) = faults(ComponentConfig::default());
    let ctx = CallContext::new().with_timeout(Duration::from_millis(50));
    assert_eq!(
        router.call(&ctx, "", "f", "loop", b""),
        Err(CallError::DeadlineExceeded)
    );
    assert_recovers(&router, &provider);
}

#[test]
fn cancellation_stops_a_running_call() {
    let (router, provider) =
        faults(ComponentConfig::default().with_call_timeout(Duration::from_secs(60)));
    let token = CancelToken::new();
    let ctx = CallContext::new().with_cancel(token.clone());
    let worker = {
        let router = router.clone();
        thread::spawn(move || router.call(&ctx, "", "f", "loop", b""))
    };
    // Wait until the loop holds the only warm instance, then cancel.
    while provider.pool_stats().idle != 0 && !worker.is_finished() {
        thread::yield_now();
    }
    token.cancel();
    assert_eq!(worker.join().unwrap(), Err(CallError::Canceled));
    assert_recovers(&router, &provider);
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    let (router, provider) = faults(ComponentConfig::default().with_max_memory_bytes(32 << 20));
    let err = call(&router, "f", "memory-bomb", b"").unwrap_err();
    assert!(
        matches!(&err, CallError::LimitExceeded(m)
            if m.starts_with("memory of ") && m.ends_with(" bytes is over the cap of 33554432 bytes")),
        "{err:?}"
    );
    assert_recovers(&router, &provider);
}

#[test]
fn stack_overflow_traps() {
    let (router, provider) = faults(ComponentConfig::default());
    assert_eq!(
        call(&router, "f", "stack-overflow", b""),
        Err(CallError::ProviderTrapped(
            "wasm trap: call stack exhausted".into()
        ))
    );
    assert_recovers(&router, &provider);
}

#[test]
fn unreachable_traps() {
    let (router, provider) = faults(ComponentConfig::default());
    assert_eq!(
        call(&router, "f", "unreachable", b""),
        Err(CallError::ProviderTrapped(
            "wasm trap: wasm `unreachable` instruction executed".into()
        ))
    );
    assert_recovers(&router, &provider);
}

#[test]
fn panic_traps() {
    let (router, provider) = faults(ComponentConfig::default());
    assert_eq!(
        call(&router, "f", "panic", b""),
        Err(CallError::ProviderTrapped(
            "wasm trap: wasm `unreachable` instruction executed".into()
        ))
    );
    assert_recovers(&router, &provider);
}

#[test]
fn response_over_the_cap_is_refused() {
    let (router, provider) = faults(ComponentConfig::default().with_max_response_bytes(1 << 20));
    assert_eq!(
        call(&router, "f", "big-response", b"2000000"),
        Err(CallError::LimitExceeded(
            "response of 2000000 bytes is over the cap of 1048576 bytes".into()
        ))
    );
    assert_recovers(&router, &provider);
}

#[test]
fn request_over_the_cap_is_refused_before_the_component_runs() {
    let (router, provider) = faults(ComponentConfig::default().with_max_request_bytes(4));
    assert_eq!(
        call(&router, "f", "echo", b"12345"),
        Err(CallError::LimitExceeded(
            "request of 5 bytes is over the cap of 4 bytes".into()
        ))
    );
    assert_eq!(call(&router, "f", "echo", b"1234"), Ok(b"1234".to_vec()));
    assert_eq!(provider.pool_stats(), PoolStats { live: 1, idle: 1 });
}

#[test]
fn file_access_without_a_grant_fails() {
    let (router, provider) = faults(ComponentConfig::default());
    assert_eq!(
        call(&router, "f", "read-file", b"/etc/hostname"),
        Err(CallError::ProviderFailed {
            message: "read-file: NotFound".into(),
            payload: None
        })
    );
    assert_recovers(&router, &provider);
}

#[test]
fn file_access_with_a_read_only_grant_works() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), b"granted").unwrap();
    let (router, _) = faults(ComponentConfig::default().with_read_only_dir(dir.path(), "/data"));
    assert_eq!(
        call(&router, "f", "read-file", b"/data/hello.txt"),
        Ok(b"granted".to_vec())
    );
}

#[test]
fn env_without_a_grant_is_empty() {
    let (router, provider) = faults(ComponentConfig::default());
    assert_eq!(
        call(&router, "f", "env", b"PATH"),
        Err(CallError::ProviderFailed {
            message: "env: environment variable not found".into(),
            payload: None
        })
    );
    assert_recovers(&router, &provider);
    let (router, _) = faults(ComponentConfig::default().with_env("MODE", "prod"));
    assert_eq!(call(&router, "f", "env", b"MODE"), Ok(b"prod".to_vec()));
}

#[test]
fn socket_without_a_grant_is_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (router, provider) = faults(ComponentConfig::default());
    assert_eq!(
        call(&router, "f", "socket", addr.as_bytes()),
        Err(CallError::ProviderFailed {
            message: "socket: PermissionDenied".into(),
            payload: None
        })
    );
    assert_recovers(&router, &provider);
}

#[test]
fn host_call_without_a_grant_is_refused() {
    let (router, provider) = faults(ComponentConfig::default());
    router
        .register("native", "echo", |p: &[u8]| Ok::<_, String>(p.to_vec()))
        .unwrap();
    assert_eq!(
        call(&router, "f", "host-call", b"native\0echo\0hi"),
        Err(CallError::ProviderFailed {
            message: "host-call: host calls are not granted to this provider".into(),
            payload: None
        })
    );
    assert_recovers(&router, &provider);
}

#[test]
fn host_call_with_a_grant_reaches_the_router() {
    let (router, _) = faults(ComponentConfig::default().with_host_calls(true));
    router
        .register("native", "echo", |p: &[u8]| Ok::<_, String>(p.to_vec()))
        .unwrap();
    assert_eq!(
        call(&router, "f", "host-call", b"native\0echo\0hi"),
        Ok(b"hi".to_vec())
    );
    assert_eq!(
        call(&router, "f", "host-call", b"native\0nope\0hi"),
        Err(CallError::ProviderFailed {
            message: "host-call: no route".into(),
            payload: None
        })
    );
}

#[test]
fn calling_itself_in_a_cycle_is_stopped() {
    let (router, provider) = faults(ComponentConfig::default().with_host_calls(true));
    assert_eq!(
        call(&router, "f", "cycle", b""),
        Err(CallError::ProviderFailed {
            message: "limit exceeded: call cycle: component provider 'faults' is already serving a call on this thread".into(),
            payload: None
        })
    );
    assert_recovers(&router, &provider);
}

#[test]
fn saturated_pool_answers_with_a_clear_error() {
    let config = ComponentConfig::default()
        .with_pool(1, 1)
        .with_pool_wait(Duration::from_millis(20))
        .with_call_timeout(Duration::from_secs(60));
    let (router, provider) = faults(config);
    let token = CancelToken::new();
    let ctx = CallContext::new().with_cancel(token.clone());
    let worker = {
        let router = router.clone();
        thread::spawn(move || router.call(&ctx, "", "f", "loop", b""))
    };
    while provider.pool_stats().idle != 0 && !worker.is_finished() {
        thread::yield_now();
    }
    let err = call(&router, "f", "echo", b"x").unwrap_err();
    assert!(
        matches!(&err, CallError::LimitExceeded(m)
            if m.starts_with("component provider 'faults': all 1 instances busy for ")),
        "{err:?}"
    );
    token.cancel();
    assert_eq!(worker.join().unwrap(), Err(CallError::Canceled));
    assert_recovers(&router, &provider);
}

#[test]
fn instances_are_recycled_after_n_calls() {
    let (router, provider) = faults(ComponentConfig::default().with_recycle_after(3));
    for _ in 0..7 {
        assert_eq!(call(&router, "f", "echo", b"x"), Ok(b"x".to_vec()));
    }
    assert_eq!(provider.pool_stats(), PoolStats { live: 1, idle: 1 });
}

#[test]
fn two_threads_with_a_trap_every_tenth_call_lose_nothing() {
    const CALLS: u64 = 2_000;
    let (router, provider) = faults(ComponentConfig::default().with_pool(1, 2));
    let router = Arc::new(router);
    let workers: Vec<_> = (0..2u8)
        .map(|thread_id| {
            let router = router.clone();
            thread::spawn(move || {
                let (mut answered, mut trapped) = (0u64, 0u64);
                for seq in 0..CALLS {
                    let mut payload = seq.to_le_bytes().to_vec();
                    payload.push(thread_id);
                    match call(&router, "f", "trap-every-10th", &payload) {
                        Ok(reply) => {
                            assert_eq!(reply, payload, "reply handed to the wrong caller");
                            assert_ne!(seq % 10, 9);
                            answered += 1;
                        }
                        Err(err) => {
                            assert_eq!(
                                err,
                                CallError::ProviderTrapped(
                                    "wasm trap: wasm `unreachable` instruction executed".into()
                                )
                            );
                            assert_eq!(seq % 10, 9);
                            trapped += 1;
                        }
                    }
                }
                (answered, trapped)
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(worker.join().unwrap(), (CALLS / 10 * 9, CALLS / 10));
    }
    assert!(provider.pool_stats().live <= 2);
}
