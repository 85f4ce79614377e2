//! The guest runtime: a waPC module compiled once, invoked from many threads through a pool
//! of instances, with host calls routed by a [`Router`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::compile::SwitchboardEngineProviderPre;
use super::config::{EngineKind, GuestConfig};
use super::direct::{DirectInstance, Failure};
use super::epoch::WasmEngine;
use super::error::WapcError;
#[cfg(feature = "wasmtime-provider")]
use super::wasmtime_provider::{WapcHostInstance, WasmtimeProviderPre};
use crate::pool::{Lease, Pool, PoolError};
use crate::{CallContext, CallError, Router};

/// A waPC guest module, compiled once. Cheap to clone, `Send + Sync`.
///
/// ```no_run
/// use switchboard::wapc::{GuestConfig, GuestModule};
/// use switchboard::{ProviderError, Router};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let router = Router::new();
/// router.register("echo", "echo", |p: &[u8]| Ok::<_, ProviderError>(p.to_vec()))?;
/// let module = GuestModule::from_file("guest.wasm", GuestConfig::default())?;
/// let runtime = module.runtime(&router)?;
/// let reply = runtime.invoke("hello", b"world")?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct GuestModule {
    inner: Arc<ModuleInner>,
}

#[derive(Debug)]
struct ModuleInner {
    name: String,
    config: GuestConfig,
    compiled: Compiled,
}

#[derive(Debug)]
enum Compiled {
    Switchboard(SwitchboardEngineProviderPre),
    #[cfg(feature = "wasmtime-provider")]
    WasmtimeProvider(Box<WasmtimeProviderPre>),
}

impl GuestModule {
    /// Read and compile a module file (binary wasm, or WAT text). The guest is named after
    /// the file stem unless `config.name` is set.
    ///
    /// # Errors
    /// [`WapcError::Io`] if the file cannot be read, else as [`from_bytes`](Self::from_bytes).
    pub fn from_file(path: impl AsRef<Path>, config: GuestConfig) -> Result<Self, WapcError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| WapcError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = config;
        if config.name.is_none() {
            config.name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned());
        }
        Self::from_bytes(&bytes, config)
    }

    /// Compile module bytes (binary wasm, or WAT text) on the shared [`WasmEngine`].
    ///
    /// # Errors
    /// [`WapcError::BadModule`] for bytes that are not a usable waPC module,
    /// [`WapcError::Config`] for a configuration that cannot be honoured (or no engine).
    pub fn from_bytes(bytes: &[u8], config: GuestConfig) -> Result<Self, WapcError> {
        Self::from_bytes_with_engine(&WasmEngine::shared()?, bytes, config)
    }

    /// Compile module bytes on a given engine.
    ///
    /// # Errors
    /// As [`from_bytes`](Self::from_bytes).
    pub fn from_bytes_with_engine(
        engine: &WasmEngine,
        bytes: &[u8],
        config: GuestConfig,
    ) -> Result<Self, WapcError> {
        let name = config.name.clone().unwrap_or_else(|| "guest".to_owned());
        let compiled = match config.engine {
            EngineKind::Switchboard => Compiled::Switchboard(SwitchboardEngineProviderPre::new(
                engine, &name, bytes, &config,
            )?),
            #[cfg(feature = "wasmtime-provider")]
            EngineKind::WasmtimeProvider => {
                // Compile and check through our engine first for the same typed load errors.
                let pre = SwitchboardEngineProviderPre::new(engine, &name, bytes, &config)?;
                Compiled::WasmtimeProvider(Box::new(WasmtimeProviderPre::new(
                    engine,
                    pre.module().clone(),
                    &config,
                )?))
            }
        };
        Ok(GuestModule {
            inner: Arc::new(ModuleInner {
                name,
                config,
                compiled,
            }),
        })
    }

    /// The guest's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The configuration it was loaded with.
    pub fn config(&self) -> &GuestConfig {
        &self.inner.config
    }

    /// A runtime whose host calls go to `router`. One instance is created (and initialised)
    /// right away so that a guest failing at init is reported here.
    ///
    /// # Errors
    /// The first instance's failure: [`WapcError::Instantiation`], a trap, the memory cap or
    /// the init deadline.
    pub fn runtime(&self, router: &Router) -> Result<GuestRuntime, WapcError> {
        let runtime = GuestRuntime {
            inner: Arc::new(RuntimeInner {
                module: self.clone(),
                router: router.clone(),
                pool: Pool::new(self.inner.config.effective_pool_size()),
            }),
        };
        let ctx = CallContext::new().with_timeout(self.inner.config.init_timeout);
        runtime.checkout(&ctx)?.keep();
        Ok(runtime)
    }
}

/// A pooled guest instance.
enum PooledHost {
    /// Switchboard's engine, driven by the runtime itself (see [`super::direct`]).
    Direct(DirectInstance),
    /// wasmtime-provider behind a `wapc::WapcHost`.
    #[cfg(feature = "wasmtime-provider")]
    Wapc(WapcHostInstance),
}

/// Invokes a guest's operations. `Clone` (shared pool), `Send + Sync`: call
/// [`invoke`](Self::invoke) from as many threads as you like; up to `pool_size` run in
/// parallel, the rest wait for a free instance until their deadline.
#[derive(Clone)]
pub struct GuestRuntime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    module: GuestModule,
    router: Router,
    pool: Pool<PooledHost>,
}

impl std::fmt::Debug for GuestRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestRuntime")
            .field("guest", &self.inner.module.name())
            .field("live_instances", &self.inner.pool.live())
            .finish_non_exhaustive()
    }
}

impl GuestRuntime {
    /// Invoke `operation` with `payload`, within the configured invoke timeout.
    ///
    /// # Errors
    /// Every way an invocation ends without a reply, one [`WapcError`] variant each.
    pub fn invoke(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, WapcError> {
        self.invoke_with(&CallContext::new(), operation, payload)
    }

    /// Invoke with a caller's context: its deadline (capped by the invoke timeout) and
    /// cancellation token bound the guest and reach every host call it makes.
    ///
    /// # Errors
    /// As [`invoke`](Self::invoke).
    pub fn invoke_with(
        &self,
        ctx: &CallContext,
        operation: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, WapcError> {
        ctx.check().map_err(|e| match e {
            CallError::Canceled => WapcError::Canceled,
            _ => WapcError::DeadlineExceeded,
        })?;
        let ctx = ctx
            .clone()
            .with_timeout(self.inner.module.inner.config.invoke_timeout);
        let mut lease = self.checkout(&ctx)?;
        // Only a clean end returns the instance: a panic in between discards it.
        let result = match lease.get() {
            PooledHost::Direct(instance) => instance
                .invoke(ctx, operation, payload)
                .map_err(WapcError::from),
            #[cfg(feature = "wasmtime-provider")]
            PooledHost::Wapc(instance) => instance.invoke(ctx, operation, payload),
        };
        match &result {
            Err(error) if error.discards_instance() => {
                tracing::debug!(guest = self.inner.module.name(), %error, "replacing guest instance");
            }
            _ => lease.keep(),
        }
        result
    }

    /// An instance; with every one busy, wait for one as long as `ctx` allows.
    fn checkout(&self, ctx: &CallContext) -> Result<Lease<'_, PooledHost>, WapcError> {
        self.inner
            .pool
            .checkout(ctx, Duration::MAX, || self.new_host(ctx))
            .map_err(|e| match e {
                PoolError::Saturated { .. } | PoolError::DeadlineExceeded => {
                    WapcError::DeadlineExceeded
                }
                PoolError::Canceled => WapcError::Canceled,
                PoolError::Create(e) => e,
            })
    }

    fn new_host(&self, ctx: &CallContext) -> Result<PooledHost, WapcError> {
        let router = &self.inner.router;
        match &self.inner.module.inner.compiled {
            Compiled::Switchboard(pre) => DirectInstance::new(pre.direct_provider(router), ctx)
                .map(PooledHost::Direct)
                .map_err(WapcError::from),
            #[cfg(feature = "wasmtime-provider")]
            Compiled::WasmtimeProvider(pre) => pre
                .instance(router, self.inner.module.name(), ctx)
                .map(PooledHost::Wapc),
        }
    }

    /// The module this runtime runs.
    pub fn module(&self) -> &GuestModule {
        &self.inner.module
    }

    /// The router receiving the guest's host calls.
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    /// Instances in existence (idle or busy).
    pub fn instances(&self) -> usize {
        self.inner.pool.live()
    }
}

impl From<Failure> for WapcError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Fault(fault) => fault.into(),
            Failure::Guest {
                message,
                last_host_error: Some(error),
            } => WapcError::HostCall {
                error,
                guest_message: message,
            },
            Failure::Guest {
                message,
                last_host_error: None,
            } => WapcError::Guest(message),
        }
    }
}
