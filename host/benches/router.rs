//! Router dispatch cost against calling the same closure directly (the baseline of this run).
//!
//! `cargo bench -p switchboard --bench router`
// criterion_group! generates public functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use switchboard::{CallContext, CallInfo, CallResult, PreOutcome, Router};

/// The closure every variant runs; behind a trait object like the router's providers.
type DynEcho = dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync;

fn echo(payload: &[u8]) -> Result<Vec<u8>, String> {
    Ok(payload.to_vec())
}

fn populated(router: Router) -> Router {
    // A realistic table: the Tarmac suite's routes plus a few namespaces.
    for ns in [
        "kvstore",
        "sql",
        "httpclient",
        "logger",
        "metrics",
        "database:kv",
    ] {
        for op in [
            "get", "set", "delete", "keys", "query", "exec", "call", "info",
        ] {
            router.register(ns, op, echo).expect("fresh route");
        }
    }
    router
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    for size in [64usize, 4096] {
        let payload = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("direct_closure", size),
            &payload,
            |b, p| {
                let f: Arc<DynEcho> = Arc::new(echo);
                b.iter(|| f(black_box(p)).expect("echo"))
            },
        );
        let plain = populated(Router::new());
        group.bench_with_input(BenchmarkId::new("router", size), &payload, |b, p| {
            let ctx = CallContext::new();
            b.iter(|| {
                plain
                    .call(&ctx, "tarmac", "database:kv", "get", black_box(p))
                    .expect("routed")
            })
        });
        let with_mw = populated(
            Router::builder()
                .pre(|_: &CallInfo<'_>, _: &[u8]| PreOutcome::Continue)
                .post(|r: &CallResult<'_>| {
                    black_box(r.duration);
                })
                .build(),
        );
        group.bench_with_input(
            BenchmarkId::new("router_middleware", size),
            &payload,
            |b, p| {
                let ctx = CallContext::new();
                b.iter(|| {
                    with_mw
                        .call(&ctx, "tarmac", "database:kv", "get", black_box(p))
                        .expect("routed")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
