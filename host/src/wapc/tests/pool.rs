//! The runtime's pool of instances under parallel callers.

use super::*;

#[test]
fn parallel_invocations_share_a_bounded_pool() {
    for &engine in ENGINES {
        let rt = runtime_with(engine, config(engine).with_pool_size(2));
        let rt = Arc::new(rt);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..4u8)
                .map(|t| {
                    let rt = rt.clone();
                    s.spawn(move || {
                        (0..50u8).all(|i| {
                            let payload = [t, i];
                            rt.invoke("call", &payload).ok() == Some(payload.to_vec())
                        })
                    })
                })
                .collect();
            for worker in workers {
                assert_eq!(worker.join().ok(), Some(true), "{engine:?}");
            }
        });
        assert!(rt.instances() <= 2, "{engine:?}");
    }
}

#[test]
fn a_caller_waiting_for_a_busy_pool_stops_on_cancel() {
    for &engine in ENGINES {
        // The provider holds the only instance until released.
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = std::sync::Mutex::new(release_rx);
        let router = Router::new();
        let registered = router.register(
            "echo",
            "echo",
            crate::provider_fn(move |req| {
                let _ = entered_tx.send(());
                if let Ok(release) = release_rx.lock() {
                    let _ = release.recv_timeout(Duration::from_secs(10));
                }
                Ok(req.payload.to_vec())
            }),
        );
        assert!(registered.is_ok());
        let config = config(engine)
            .with_pool_size(1)
            .with_invoke_timeout(Duration::from_secs(3600));
        let rt = GuestModule::from_bytes(GUEST_WAT.as_bytes(), config)
            .and_then(|module| module.runtime(&router));
        let Ok(rt) = rt else {
            panic!("{engine:?}: {rt:?}");
        };
        std::thread::scope(|s| {
            let holder = s.spawn(|| rt.invoke("call", b"a"));
            assert!(entered_rx.recv_timeout(Duration::from_secs(10)).is_ok());
            let token = CancelToken::new();
            let ctx = CallContext::new().with_cancel(token.clone());
            let rt_ref = &rt;
            let waiter = s.spawn(move || rt_ref.invoke_with(&ctx, "call", b"b"));
            // Let the waiter reach the pool; either way it must not wait for the holder.
            std::thread::sleep(Duration::from_millis(50));
            token.cancel();
            let waited = waiter.join().ok().map(|r| r.map_err(|e| e.to_string()));
            // Released only now: a waiter ignoring the token would have had to wait for this.
            let _ = release_tx.send(());
            assert_eq!(
                waited,
                Some(Err("guest invocation canceled".to_owned())),
                "{engine:?}"
            );
            assert_eq!(holder.join().ok().and_then(Result::ok), Some(b"a".to_vec()));
        });
    }
}
