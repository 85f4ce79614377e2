//! waPC host-call cost: the same guest round trip (guest -> `__host_call` -> echo -> guest
//! response) with a bare closure callback (the floor), through the router (middleware off and
//! on), on both engines, and 1 vs 2 threads through the pooled runtime.
//!
//! `cargo bench -p switchboard --bench wapc`
//!
//! The guest is inline WAT implementing the waPC guest ABI, so no fixture build is needed.
// criterion_group! generates public functions without docs.
#![allow(missing_docs)]

use std::error::Error;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use switchboard::wapc::{
    EngineKind, GuestConfig, GuestRuntime, SwitchboardEngineProviderPre, WasmEngine,
};
use wapc::WapcHost;
use wasmtime_provider::WasmtimeEngineProviderBuilder;

mod support;
use support::guest::{echo_router, GUEST};
use support::Workers;

type BoxError = Box<dyn Error + Send + Sync>;

fn closure_callback() -> Box<wapc::HostCallback> {
    Box::new(|_id, _binding, _namespace, _operation, payload| Ok::<_, BoxError>(payload.to_vec()))
}

/// A bare `WapcHost` on wasmtime-provider 2.25 (its own default engine, as users build it).
fn provider_host(callback: Box<wapc::HostCallback>) -> WapcHost {
    let engine = WasmtimeEngineProviderBuilder::new()
        .module_bytes(GUEST.as_bytes())
        .build()
        .expect("wasmtime-provider engine");
    WapcHost::new(Box::new(engine), Some(callback)).expect("wapc host")
}

/// A bare `WapcHost` on Switchboard's engine.
fn switchboard_host(callback: Box<wapc::HostCallback>) -> WapcHost {
    let engine = WasmEngine::shared().expect("engine");
    let pre = SwitchboardEngineProviderPre::new(
        &engine,
        "bench",
        GUEST.as_bytes(),
        &GuestConfig::default(),
    )
    .expect("compile");
    WapcHost::new(Box::new(pre.provider()), Some(callback)).expect("wapc host")
}

fn runtime(engine: EngineKind, pool_size: usize) -> GuestRuntime {
    let config = GuestConfig::default()
        .with_engine(engine)
        .with_pool_size(pool_size);
    support::guest::runtime(config, &echo_router(false))
}

fn host_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("wapc_host_call");
    for size in [64usize, 4096] {
        let payload = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        let hosts = [
            (
                "floor_wasmtime_provider_closure",
                provider_host(closure_callback()),
            ),
            (
                "wasmtime_provider_router",
                provider_host(echo_router(false).host_callback()),
            ),
            (
                "wasmtime_provider_router_middleware",
                provider_host(echo_router(true).host_callback()),
            ),
            (
                "switchboard_engine_closure",
                switchboard_host(closure_callback()),
            ),
            (
                "switchboard_engine_router",
                switchboard_host(echo_router(false).host_callback()),
            ),
            (
                "switchboard_engine_router_middleware",
                switchboard_host(echo_router(true).host_callback()),
            ),
        ];
        for (name, host) in &hosts {
            group.bench_with_input(BenchmarkId::new(*name, size), &payload, |b, p| {
                b.iter(|| host.call("call", black_box(p)).expect("call"))
            });
        }
        for (name, engine) in [
            ("runtime_switchboard_engine", EngineKind::Switchboard),
            ("runtime_wasmtime_provider", EngineKind::WasmtimeProvider),
        ] {
            let rt = runtime(engine, 1);
            group.bench_with_input(BenchmarkId::new(name, size), &payload, |b, p| {
                b.iter(|| rt.invoke("call", black_box(p)).expect("invoke"))
            });
        }
    }
    group.finish();
}

fn threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("wapc_threads_64B");
    for threads in [1usize, 2] {
        // One call per thread per iteration: elements/s is the total call rate.
        group.throughput(Throughput::Elements(threads as u64));
        let floor = Workers::new(threads, || {
            let host = provider_host(closure_callback());
            let payload = vec![7u8; 64];
            Box::new(move || {
                black_box(host.call("call", &payload).expect("call"));
            })
        });
        group.bench_function(
            BenchmarkId::new("floor_wapchost_per_thread", threads),
            |b| b.iter_custom(|iters| floor.run(iters)),
        );
        for (name, engine) in [
            ("runtime_switchboard_engine", EngineKind::Switchboard),
            ("runtime_wasmtime_provider", EngineKind::WasmtimeProvider),
        ] {
            let rt = runtime(engine, threads);
            let workers = Workers::new(threads, move || {
                let rt = rt.clone();
                let payload = vec![7u8; 64];
                Box::new(move || {
                    black_box(rt.invoke("call", &payload).expect("invoke"));
                })
            });
            group.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| workers.run(iters))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, host_call, threads);
criterion_main!(benches);
