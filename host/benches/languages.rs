//! The `database:kv` component provider in each language (Rust, Python, JavaScript, C): warm
//! call latency through the router (`Set` of a 16-byte value on a pooled instance) and cold
//! start (load from the disk cache, register, first call). The README's per-language table
//! comes from this benchmark.
//!
//! `bash scripts/build-components.sh && bash scripts/build-lang-components.sh &&
//!  cargo bench -p switchboard --bench languages`
// criterion_group! generates public functions without docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use switchboard::component::{ComponentConfig, ComponentEngine, ComponentProvider, EngineOptions};
use switchboard::{CallContext, Router};

/// (language, component file in providers/components/out/).
const LANGUAGES: [(&str, &str); 4] = [
    ("rust", "kv.wasm"),
    ("python", "kv_python.wasm"),
    ("js", "kv_js.wasm"),
    ("c", "kv_c.wasm"),
];

fn component_path(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../providers/components/out")
        .join(file);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/build-components.sh && bash \
         scripts/build-lang-components.sh`",
        path.display()
    );
    path
}

/// An engine whose disk cache already holds every language's compiled component (the Python
/// and JavaScript ones take seconds to compile).
fn engine(dir: &tempfile::TempDir) -> ComponentEngine {
    let engine =
        ComponentEngine::new(EngineOptions::default().with_cache_dir(dir.path())).expect("engine");
    for (_, file) in LANGUAGES {
        ComponentProvider::from_file(&engine, component_path(file), ComponentConfig::default())
            .expect("load");
    }
    engine
}

/// `Set` of a 16-byte value: it answers the same whatever instance serves it (the map lives in
/// the instance and instances are recycled every `recycle_after` calls), and it returns nothing,
/// so componentize-py's per-response memory growth stays out of the measurement.
const PAYLOAD: &[u8] = b"key\0sixteen bytes!!!";

fn warm_set(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir);
    let ctx = CallContext::new();
    let mut group = c.benchmark_group("language_warm_set");
    for (language, file) in LANGUAGES {
        let provider = ComponentProvider::from_file(
            &engine,
            component_path(file),
            ComponentConfig::default().with_pool(1, 1),
        )
        .expect("load");
        let router = Router::new();
        router
            .register_component("database:kv", None, provider)
            .expect("register");
        group.bench_function(language, |b| {
            b.iter(|| {
                black_box(
                    router
                        .call(&ctx, "", "database:kv", "Set", black_box(PAYLOAD))
                        .expect("set"),
                )
            })
        });
    }
    group.finish();
}

fn cold_start(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir);
    let ctx = CallContext::new();
    let mut group = c.benchmark_group("language_cold_start");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    for (language, file) in LANGUAGES {
        let path = component_path(file);
        group.bench_function(language, |b| {
            b.iter(|| {
                let provider =
                    ComponentProvider::from_file(&engine, &path, ComponentConfig::default())
                        .expect("load");
                assert!(provider.loaded_from_cache());
                let router = Router::new();
                router
                    .register_component("database:kv", None, provider)
                    .expect("register");
                black_box(
                    router
                        .call(&ctx, "", "database:kv", "Delete", b"k")
                        .expect("delete"),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, warm_set, cold_start);
criterion_main!(benches);
