//! The guest runtime: a waPC module compiled once, invoked from many threads through a pool
//! of instances, with host calls routed by a [`Router`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wapc::{WapcHost, WebAssemblyEngineProvider};

use super::config::{EngineKind, GuestConfig};
use super::direct::{DirectInstance, Failure};
use super::engine::SwitchboardEngineProviderPre;
use super::epoch::WasmEngine;
use super::error::{TrapCause, WapcError};
use super::legacy::{self, LegacyPre};
use super::scope::{self, Outcome};
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
    WasmtimeProvider(Box<LegacyPre>),
}

impl GuestModule {
    /// Read and compile a module file (binary wasm, or WAT text). The guest is named after
    /// the file stem unless `config.name` is set.
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
    pub fn from_bytes(bytes: &[u8], config: GuestConfig) -> Result<Self, WapcError> {
        Self::from_bytes_with_engine(&WasmEngine::shared()?, bytes, config)
    }

    /// Compile module bytes on a given engine.
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
            EngineKind::WasmtimeProvider => {
                // Compile and check through our engine first for the same typed load errors.
                let pre = SwitchboardEngineProviderPre::new(engine, &name, bytes, &config)?;
                Compiled::WasmtimeProvider(Box::new(LegacyPre::new(
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
    Wapc(WapcHostInstance),
}

/// A `WapcHost` and the guest's name for `CallContext::caller` (one allocation per instance,
/// so the refcount traffic of every call stays on the thread holding the instance).
struct WapcHostInstance {
    host: WapcHost,
    caller: Arc<str>,
}

// SAFETY: `WapcHost` is `!Send` only because it stores its engine as
// `Box<dyn WebAssemblyEngineProvider>` without a `Send` bound; its other field is an
// `Arc<ModuleState>`, which is `Send + Sync`. `WapcHostInstance::new` only accepts engines that
// are `Send`, so the whole host may move to another thread. It is never shared: the pool hands
// it to one thread at a time.
unsafe impl Send for WapcHostInstance {}

impl WapcHostInstance {
    fn new<E: WebAssemblyEngineProvider + Send + 'static>(
        engine: E,
        router: &Router,
        guest: &str,
    ) -> Result<Self, wapc::errors::Error> {
        let host = WapcHost::new(Box::new(engine), Some(router.host_callback()))?;
        Ok(WapcHostInstance {
            host,
            caller: Arc::from(guest),
        })
    }
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
    pub fn invoke(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, WapcError> {
        self.invoke_with(&CallContext::new(), operation, payload)
    }

    /// Invoke with a caller's context: its deadline (capped by the invoke timeout) and
    /// cancellation token bound the guest and reach every host call it makes.
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
            Some(PooledHost::Direct(instance)) => instance
                .invoke(ctx, operation, payload)
                .map_err(WapcError::from),
            Some(PooledHost::Wapc(instance)) => {
                Self::invoke_wapc_host(instance, ctx, operation, payload)
            }
            None => Err(WapcError::Instantiation("the pool lent no instance".into())),
        };
        match &result {
            Err(error) if error.discards_instance() => {
                tracing::debug!(guest = self.inner.module.name(), %error, "replacing guest instance");
            }
            _ => lease.keep(),
        }
        result
    }

    fn invoke_wapc_host(
        instance: &WapcHostInstance,
        ctx: CallContext,
        operation: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, WapcError> {
        let scope = scope::enter(ctx.with_caller(Arc::clone(&instance.caller)));
        // wasmtime-provider panics on bad guest pointers; contain it to this instance.
        let result = catch_unwind(AssertUnwindSafe(|| instance.host.call(operation, payload)));
        let outcome = scope.finish();
        match result {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(Self::classify_legacy(error, outcome)),
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                Err(WapcError::Trap {
                    detail: message.clone(),
                    cause: TrapCause::EnginePanic(message),
                })
            }
        }
    }

    /// A wasmtime-provider failure, told apart by its text (it keeps no error types).
    fn classify_legacy(error: wapc::errors::Error, outcome: Outcome) -> WapcError {
        if let Some(fault) = outcome.fault {
            return fault.into();
        }
        match error {
            wapc::errors::Error::GuestCallFailure(message) => {
                if message == legacy::INTERRUPTED_MESSAGE {
                    WapcError::DeadlineExceeded
                } else if legacy::looks_like_trap(&message) {
                    WapcError::Trap {
                        cause: TrapCause::Other(legacy::TRAP_CAUSE.to_owned()),
                        detail: message,
                    }
                } else if let Some(error) = outcome.last_host_error {
                    WapcError::HostCall {
                        error,
                        guest_message: message,
                    }
                } else {
                    WapcError::Guest(message)
                }
            }
            other => WapcError::Trap {
                cause: TrapCause::Other(other.to_string()),
                detail: format!("{other:?}"),
            },
        }
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
        let guest = self.inner.module.name();
        let pre = match &self.inner.module.inner.compiled {
            Compiled::Switchboard(pre) => {
                return DirectInstance::new(pre.direct_provider(router), ctx)
                    .map(PooledHost::Direct)
                    .map_err(WapcError::from);
            }
            Compiled::WasmtimeProvider(pre) => pre,
        };
        // Host calls made by the guest's init functions are this guest's calls too.
        let scope = scope::enter(ctx.clone().with_caller(guest));
        let provider = pre.provider()?;
        let created = catch_unwind(AssertUnwindSafe(|| {
            WapcHostInstance::new(provider, router, guest)
        }));
        let outcome = scope.finish();
        match created {
            Ok(Ok(host)) => Ok(PooledHost::Wapc(host)),
            Ok(Err(error)) => Err(outcome.fault.map_or_else(
                || WapcError::Instantiation(error.to_string()),
                WapcError::from,
            )),
            Err(panic) => Err(WapcError::Instantiation(format!(
                "engine panicked: {}",
                panic_message(panic.as_ref())
            ))),
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

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}
