//! Compiling and linking a waPC guest once: [`SwitchboardEngineProviderPre`].

use std::path::Path;
use std::sync::Arc;

use wapc::wapc_functions as f;
use wasmtime::{ExternType, Linker, Module, ValType};

use super::config::GuestConfig;
use super::epoch::WasmEngine;
use super::error::WapcError;
use super::instance::{HostKind, Prepared, SwitchboardEngineProvider};
use super::{imports, wasi};
use crate::artifact_cache::DiskCache;
use crate::Router;

/// A compiled waPC module ready to be instantiated many times: the `Module`, the
/// `InstancePre` with the waPC (and, if imported, WASI) imports, and the limits. Cheap to
/// clone and shareable between threads.
///
/// ```no_run
/// use switchboard::wapc::{GuestConfig, SwitchboardEngineProviderPre, WasmEngine};
/// use switchboard::Router;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bytes = std::fs::read("guest.wasm")?;
/// let pre = SwitchboardEngineProviderPre::new(
///     &WasmEngine::shared()?, "guest", &bytes, &GuestConfig::default())?;
/// let router = Router::new();
/// let host = wapc::WapcHost::new(Box::new(pre.provider()), Some(router.host_callback()))?;
/// let reply = host.call("echo", b"hi")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SwitchboardEngineProviderPre {
    pub(crate) inner: Arc<Prepared>,
}

impl std::fmt::Debug for SwitchboardEngineProviderPre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchboardEngineProviderPre")
            .field("guest", &self.inner.guest)
            .field("uses_wasi", &self.inner.uses_wasi)
            .finish_non_exhaustive()
    }
}

impl SwitchboardEngineProviderPre {
    /// Compile `bytes` (wasm or, for tests, WAT) for `engine` and check it is a waPC guest.
    ///
    /// # Errors
    /// [`WapcError::BadModule`] for bytes that are not a usable waPC module,
    /// [`WapcError::Config`] for grants that cannot be honoured.
    pub fn new(
        engine: &WasmEngine,
        name: &str,
        bytes: &[u8],
        config: &GuestConfig,
    ) -> Result<Self, WapcError> {
        let module = compile(engine, bytes, config.cache_dir.as_deref())?;
        Self::from_module(engine, name, module, config)
    }

    /// Use an already compiled module (it must come from `engine`).
    ///
    /// # Errors
    /// As [`new`](Self::new), and [`WapcError::Config`] for a module of another engine.
    pub fn from_module(
        engine: &WasmEngine,
        name: &str,
        module: Module,
        config: &GuestConfig,
    ) -> Result<Self, WapcError> {
        if !wasmtime::Engine::same(module.engine(), engine.wasmtime()) {
            return Err(WapcError::Config(
                "the module was compiled by another engine".into(),
            ));
        }
        check_exports(&module)?;
        wasi::check_grants(&config.wasi)?;
        let imported = wasi::imported(&module);
        let mut linker = Linker::new(engine.wasmtime());
        imports::add_to_linker(&mut linker)?;
        wasi::add_to_linker(&mut linker, imported)?;
        let instance_pre = linker
            .instantiate_pre(&module)
            .map_err(|e| WapcError::BadModule(format!("{e:#}")))?;
        Ok(SwitchboardEngineProviderPre {
            inner: Arc::new(Prepared {
                engine: engine.clone(),
                module,
                instance_pre,
                guest: Arc::from(name),
                uses_wasi: imported.any(),
                wasi: config.wasi.clone(),
                max_memory: config.max_memory_bytes,
                max_table_elements: config.max_table_elements,
                invoke_timeout: config.invoke_timeout,
                init_timeout: config.init_timeout,
            }),
        })
    }

    /// A new, not yet initialised engine provider for `WapcHost::new` (which instantiates it).
    pub fn provider(&self) -> SwitchboardEngineProvider {
        SwitchboardEngineProvider::new(self.inner.clone(), HostKind::Unset)
    }

    /// An instance driven by the guest runtime itself, its host calls routed to `router`.
    pub(crate) fn direct_provider(&self, router: &Router) -> SwitchboardEngineProvider {
        SwitchboardEngineProvider::new(self.inner.clone(), HostKind::Direct(router.clone()))
    }

    /// The guest's name.
    pub fn name(&self) -> &str {
        &self.inner.guest
    }

    /// Whether the guest imports WASI (preview 1, or preview 0 `wasi_unstable`).
    pub fn uses_wasi(&self) -> bool {
        self.inner.uses_wasi
    }

    /// The compiled module.
    pub fn module(&self) -> &Module {
        &self.inner.module
    }
}

fn check_exports(module: &Module) -> Result<(), WapcError> {
    match module.get_export(f::GUEST_CALL) {
        Some(ExternType::Func(ty)) => {
            let params: Vec<ValType> = ty.params().collect();
            let results: Vec<ValType> = ty.results().collect();
            let ok = matches!(params.as_slice(), [ValType::I32, ValType::I32])
                && matches!(results.as_slice(), [ValType::I32]);
            if !ok {
                return Err(WapcError::BadModule(format!(
                    "`{}` must have type (i32, i32) -> i32, found {ty}",
                    f::GUEST_CALL
                )));
            }
        }
        _ => {
            return Err(WapcError::BadModule(format!(
                "the module does not export the function `{}`",
                f::GUEST_CALL
            )))
        }
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        return Err(WapcError::BadModule(
            "the module does not export its linear memory as `memory`".into(),
        ));
    }
    Ok(())
}

/// Compile `bytes`, or deserialize them from `cache_dir` when an artifact of this engine's
/// configuration is there (and store a fresh compile for next time).
fn compile(
    engine: &WasmEngine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> Result<Module, WapcError> {
    let compile = || {
        Module::new(engine.wasmtime(), bytes).map_err(|e| WapcError::BadModule(format!("{e:#}")))
    };
    let Some(dir) = cache_dir else {
        return compile();
    };
    let cache = DiskCache::new(dir);
    let path = cache.path_for::<Module>(engine.wasmtime(), bytes);
    if let Some(module) = cache.load::<Module>(engine.wasmtime(), &path) {
        return Ok(module);
    }
    let module = compile()?;
    cache.store(&path, &module);
    Ok(module)
}
