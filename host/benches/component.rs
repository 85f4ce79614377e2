//! Component providers: the raw wasmtime typed call of the same echo (the floor), the call
//! through the router to a warm pooled instance, a waPC guest's `__host_call` routed to the
//! component next to the guest floors, 1 vs 2 threads, and cold start from the disk cache.
//!
//! Target (DESIGN.md): `component_guest/guest_runtime_router_component` at most 1.2x
//! `component_guest/floor_guest_runtime_closure` + `component_guest/raw_typed_call` of the
//! same size, all three measured in the same group, one size after the other. The older
//! `component_route` group measures the guest side through a bare `WapcHost` instead (target
//! 1.5x of its `floor_wapc_closure` + `component_echo/raw_typed_call`).
//!
//! `bash scripts/build-components.sh && cargo bench -p switchboard --bench component`
// criterion_group! generates public functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use switchboard::component::bindings::switchboard::provider::types::CallInfo;
use switchboard::component::bindings::Provider as ProviderWorld;
use switchboard::component::{ComponentConfig, ComponentEngine, ComponentProvider, EngineOptions};
use switchboard::wapc::GuestConfig;
use switchboard::{CallContext, Router};
use wapc::WapcHost;
use wasmtime::component::Linker;
use wasmtime::Store;
use wasmtime_provider::WasmtimeEngineProviderBuilder;

mod support;
use support::guest::{echo_router, GUEST};
use support::Workers;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn wapc_host(callback: Box<wapc::HostCallback>) -> WapcHost {
    let engine = WasmtimeEngineProviderBuilder::new()
        .module_bytes(GUEST.as_bytes())
        .build()
        .expect("wasmtime-provider engine");
    WapcHost::new(Box::new(engine), Some(callback)).expect("wapc host")
}

/// The import-free echo component (`transform`, operation `echo`).
fn transform_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../providers/components/out/transform.wasm");
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/build-components.sh` from the repository root first",
        path.display()
    );
    path
}

/// The transform component's echo called straight through wasmtime's typed bindings: same
/// engine settings as `ComponentEngine` (epoch interruption on), no pool, no router.
struct RawEcho {
    store: Store<()>,
    bindings: ProviderWorld,
    call: CallInfo,
}

impl RawEcho {
    fn new() -> Self {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&config).expect("engine");
        let component =
            wasmtime::component::Component::from_file(&engine, transform_path()).expect("compile");
        let linker: Linker<()> = Linker::new(&engine);
        let mut store = Store::new(&engine, ());
        store.set_epoch_deadline(u64::MAX / 2);
        let bindings =
            ProviderWorld::instantiate(&mut store, &component, &linker).expect("instantiate");
        let call = CallInfo {
            binding: String::new(),
            namespace: "t".into(),
            operation: "echo".into(),
        };
        RawEcho {
            store,
            bindings,
            call,
        }
    }

    fn echo(&mut self, payload: &[u8]) -> Vec<u8> {
        self.bindings
            .switchboard_provider_handler()
            .call_handle(&mut self.store, &self.call, payload)
            .expect("call")
            .expect("echo")
    }
}

fn raw_typed_call(c: &mut Criterion) {
    let mut raw = RawEcho::new();
    let mut group = c.benchmark_group("component_echo");
    for size in [64usize, 4096] {
        let payload = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("raw_typed_call", size),
            &payload,
            |b, payload| b.iter(|| black_box(raw.echo(black_box(payload)))),
        );
    }
    group.finish();
}

fn router_warm(c: &mut Criterion) {
    let engine = ComponentEngine::shared().expect("engine");
    let provider =
        ComponentProvider::from_file(&engine, transform_path(), ComponentConfig::default())
            .expect("load");
    let router = Router::new();
    router
        .register_component("t", None, provider)
        .expect("register");
    let ctx = CallContext::new();
    let mut group = c.benchmark_group("component_echo");
    for size in [64usize, 4096] {
        let payload = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("router_warm", size),
            &payload,
            |b, payload| {
                b.iter(|| {
                    black_box(
                        router
                            .call(&ctx, "", "t", "echo", black_box(payload))
                            .expect("echo"),
                    )
                })
            },
        );
    }
    group.finish();

    // Throughput: the same number of calls per thread on 1 and 2 threads (ratio = 2 x time1 /
    // time2 when the calls scale).
    let mut group = c.benchmark_group("component_threads");
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        let routed = {
            let router = router.clone();
            Workers::new(threads, move || {
                let (router, payload) = (router.clone(), vec![7u8; 64]);
                let ctx = CallContext::new();
                Box::new(move || {
                    black_box(router.call(&ctx, "", "t", "echo", &payload).expect("echo"));
                })
            })
        };
        group.bench_function(BenchmarkId::new("router_warm_64B", threads), |b| {
            b.iter_custom(|iters| routed.run(iters))
        });
        // Control: pure CPU work of similar length. If this does not scale either, the
        // machine (not the router or the pool) is what limits the 2-thread number.
        let control = Workers::new(threads, || {
            let mut i = 0u64;
            Box::new(move || {
                i = i.wrapping_add(1);
                let mut x = i;
                for _ in 0..400 {
                    x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
                black_box(x);
            })
        });
        group.bench_function(BenchmarkId::new("control_cpu_work", threads), |b| {
            b.iter_custom(|iters| control.run(iters))
        });
    }
    group.finish();
}

fn guest_route(c: &mut Criterion) {
    let engine = ComponentEngine::shared().expect("engine");
    let provider =
        ComponentProvider::from_file(&engine, transform_path(), ComponentConfig::default())
            .expect("load");
    // The guest calls namespace `echo`, operation `echo`: the transform component's echo.
    let router = Router::new();
    router
        .register_component("echo", None, provider)
        .expect("register");
    let floor = wapc_host(Box::new(|_id, _binding, _ns, _op, payload| {
        Ok::<_, BoxError>(payload.to_vec())
    }));
    let routed = wapc_host(router.host_callback());
    let mut group = c.benchmark_group("component_route");
    for size in [64usize, 4096] {
        let payload = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        for (name, host) in [
            ("floor_wapc_closure", &floor),
            ("guest_router_component", &routed),
        ] {
            group.bench_with_input(BenchmarkId::new(name, size), &payload, |b, p| {
                b.iter(|| host.call("call", black_box(p)).expect("call"))
            });
        }
    }
    group.finish();
}

/// What users run: a pooled `GuestRuntime` whose `__host_call` goes through the router to a
/// warm component, next to its two parts measured in the same group: the guest floor (the
/// same runtime, the router and a native echo closure) and the raw typed component call.
fn guest_runtime_route(c: &mut Criterion) {
    let engine = ComponentEngine::shared().expect("engine");
    let provider =
        ComponentProvider::from_file(&engine, transform_path(), ComponentConfig::default())
            .expect("load");
    // The guest calls namespace `echo`, operation `echo`: the transform component's echo.
    let router = Router::new();
    router
        .register_component("echo", None, provider)
        .expect("register");
    let config = || GuestConfig::default().with_pool_size(1);
    let floor = support::guest::runtime(config(), &echo_router(false));
    let routed = support::guest::runtime(config(), &router);
    let mut raw = RawEcho::new();
    let mut group = c.benchmark_group("component_guest");
    for size in [64usize, 4096] {
        let payload = vec![7u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("floor_guest_runtime_closure", size),
            &payload,
            |b, p| b.iter(|| floor.invoke("call", black_box(p)).expect("invoke")),
        );
        group.bench_with_input(
            BenchmarkId::new("raw_typed_call", size),
            &payload,
            |b, p| b.iter(|| black_box(raw.echo(black_box(p)))),
        );
        group.bench_with_input(
            BenchmarkId::new("guest_runtime_router_component", size),
            &payload,
            |b, p| b.iter(|| routed.invoke("call", black_box(p)).expect("invoke")),
        );
    }
    group.finish();
}

fn cold_start(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine =
        ComponentEngine::new(EngineOptions::default().with_cache_dir(dir.path())).expect("engine");
    // Fill the cache once.
    ComponentProvider::from_file(&engine, transform_path(), ComponentConfig::default())
        .expect("load");
    let ctx = CallContext::new();
    let mut group = c.benchmark_group("component_cold_start");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("register_and_first_call_from_disk_cache", |b| {
        b.iter(|| {
            let provider =
                ComponentProvider::from_file(&engine, transform_path(), ComponentConfig::default())
                    .expect("load");
            assert!(provider.loaded_from_cache());
            let router = Router::new();
            router
                .register_component("t", None, provider)
                .expect("register");
            black_box(router.call(&ctx, "", "t", "echo", b"x").expect("echo"))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    raw_typed_call,
    router_warm,
    guest_route,
    guest_runtime_route,
    cold_start
);
criterion_main!(benches);
