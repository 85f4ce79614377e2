//! `register_all`: a batch is registered whole or not at all, and readers never see a part.

use super::*;

fn provider(answer: &'static str) -> Arc<dyn Provider> {
    Arc::new(provider_fn(move |_: &Request<'_>| {
        Ok::<_, ProviderError>(answer.as_bytes().to_vec())
    }))
}

#[test]
fn a_batch_registers_every_route_in_order() {
    let router = Router::new();
    let infos = router
        .register_all(
            [
                (RouteKey::exact("ns", "a"), provider("a")),
                (
                    RouteKey::namespace("ns").with_binding("tarmac"),
                    provider("b"),
                ),
            ],
            Conflict::Reject,
        )
        .expect("batch registers");
    assert_eq!(
        infos.iter().map(|i| i.key.to_string()).collect::<Vec<_>>(),
        ["*/ns:a", "tarmac/ns:*"]
    );
    assert_eq!(router.call(&ctx(), "", "ns", "a", b"").unwrap(), b"a");
    assert_eq!(router.call(&ctx(), "tarmac", "ns", "x", b"").unwrap(), b"b");
}

#[test]
fn a_duplicate_in_the_middle_leaves_the_router_exactly_as_before() {
    let router = Router::new();
    router.register("ns", "b", echo).unwrap();
    router.register_namespace("other", echo).unwrap();
    let before = router.routes();
    let err = router
        .register_all(
            [
                (RouteKey::exact("ns", "a"), provider("a")),
                (RouteKey::exact("ns", "b"), provider("b")),
                (RouteKey::exact("ns", "c"), provider("c")),
            ],
            Conflict::Reject,
        )
        .unwrap_err();
    assert_eq!(
        err,
        BatchError {
            index: 1,
            error: RegisterError::Duplicate(RouteKey::exact("ns", "b")),
        }
    );
    assert_eq!(err.to_string(), "route */ns:b is already registered");
    assert_eq!(router.routes(), before);
}

#[test]
fn a_key_twice_in_one_batch_is_a_duplicate() {
    let router = Router::new();
    let err = router
        .register_all(
            [
                (RouteKey::namespace("kv"), provider("1")),
                (RouteKey::namespace("sql"), provider("2")),
                (RouteKey::namespace("kv"), provider("3")),
            ],
            Conflict::Reject,
        )
        .unwrap_err();
    assert_eq!(
        err.into_error(),
        RegisterError::Duplicate(RouteKey::namespace("kv"))
    );
    assert_eq!(router.routes(), []);
}

#[test]
fn an_invalid_key_refuses_the_batch_before_anything_changes() {
    let router = Router::new();
    let err = router
        .register_all(
            [
                (RouteKey::namespace("kv"), provider("1")),
                (RouteKey::namespace("kv").with_binding(""), provider("2")),
            ],
            Conflict::Replace,
        )
        .unwrap_err();
    assert_eq!(
        err,
        BatchError {
            index: 1,
            error: RegisterError::EmptyBinding,
        }
    );
    assert_eq!(router.routes(), []);
}

#[test]
fn replace_swaps_existing_routes_and_counts_them() {
    let router = Router::new();
    router.register("ns", "a", echo).unwrap();
    let outcome = router
        .register_batch(
            [
                (RouteKey::exact("ns", "a"), provider("new a")),
                (RouteKey::exact("ns", "b"), provider("new b")),
            ],
            Conflict::Replace,
        )
        .expect("replace never conflicts");
    assert_eq!((outcome.registered.len(), outcome.replaced), (2, 1));
    assert_eq!(router.call(&ctx(), "", "ns", "a", b"").unwrap(), b"new a");
    assert_eq!(router.call(&ctx(), "", "ns", "b", b"").unwrap(), b"new b");
}

#[test]
fn readers_never_see_part_of_a_batch() {
    const BATCH: usize = 8;
    const BATCHES: usize = 200;
    let router = Router::new();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let router = router.clone();
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let mut looks = 0usize;
                while !done.load(Ordering::Acquire) {
                    let seen = router.routes().len();
                    assert_eq!(
                        seen % BATCH,
                        0,
                        "a reader saw {seen} routes: part of a batch"
                    );
                    looks += 1;
                }
                looks
            })
        })
        .collect();
    for b in 0..BATCHES {
        let batch: Vec<(RouteKey, Arc<dyn Provider>)> = (0..BATCH)
            .map(|r| {
                (
                    RouteKey::exact(format!("batch{b}"), format!("op{r}")),
                    provider("x"),
                )
            })
            .collect();
        router
            .register_all(batch, Conflict::Reject)
            .expect("fresh keys register");
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        let looks = reader.join().expect("reader saw only whole batches");
        assert!(looks > 0);
    }
    assert_eq!(router.routes().len(), BATCH * BATCHES);
}
