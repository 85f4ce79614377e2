//! Readers racing writers.

use super::*;

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
                            let text = std::str::from_utf8(&gen).expect("generations are UTF-8");
                            if let Err(err) = text.parse::<u64>() {
                                panic!("hot route answered {text:?}, not a generation: {err}");
                            }
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
