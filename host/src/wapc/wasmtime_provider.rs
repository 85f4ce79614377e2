//! wasmtime-provider 2.25 as the second engine, for comparison (cargo feature
//! `wasmtime-provider`, off by default).
//!
//! One `WasmtimeEngineProviderPre` per module, `rehydrate`d once per pooled instance (cloning an
//! initialised provider instantiates twice, `replace_module` leaks instances into the store).
//! It runs on our [`WasmEngine`] so its epoch deadlines are driven by our ticker.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use wapc::{WapcHost, WasiParams, WebAssemblyEngineProvider};
use wasmtime_provider::{
    EpochDeadlines, ResourceLimits, WasmtimeEngineProvider, WasmtimeEngineProviderBuilder,
    WasmtimeEngineProviderPre,
};

use super::config::GuestConfig;
use super::epoch::WasmEngine;
use super::error::{TrapCause, WapcError};
use super::scope::{self, Outcome};
use crate::sandbox::epoch::ticks_for;
use crate::{CallContext, Router};

/// What wasmtime-provider reports when its epoch deadline interrupts a guest call.
const INTERRUPTED_MESSAGE: &str = "guest code interrupted, execution deadline exceeded";

/// The cause reported for a wasmtime-provider trap: it flattens the engine error to its
/// outermost context (the backtrace) before we see it.
const TRAP_CAUSE: &str = "wasm trap (wasmtime-provider reports only the backtrace)";

/// A compiled module for wasmtime-provider.
#[derive(Clone)]
pub(crate) struct WasmtimeProviderPre {
    pre: WasmtimeEngineProviderPre,
    deadlines: EpochDeadlines,
}

impl std::fmt::Debug for WasmtimeProviderPre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmtimeProviderPre")
            .field("deadlines", &self.deadlines)
            .finish_non_exhaustive()
    }
}

impl WasmtimeProviderPre {
    pub(crate) fn new(
        engine: &WasmEngine,
        module: wasmtime::Module,
        config: &GuestConfig,
    ) -> Result<Self, WapcError> {
        if !config.wasi.read_only_dirs.is_empty() {
            // It can only preopen read-write: refuse rather than grant more than asked.
            return Err(WapcError::Config(
                "the wasmtime-provider engine cannot preopen directories read-only; \
                 use the switchboard engine"
                    .into(),
            ));
        }
        let wasi = WasiParams {
            argv: config.wasi.args.clone(),
            env_vars: config.wasi.env.clone(),
            ..WasiParams::default()
        };
        let deadlines = EpochDeadlines {
            wapc_init: ticks_for(config.init_timeout),
            wapc_func: ticks_for(config.invoke_timeout),
        };
        let pre = WasmtimeEngineProviderBuilder::new()
            .engine(engine.wasmtime().clone())
            .module(module)
            .wasi_params(wasi)
            .enable_resource_limits(ResourceLimits {
                max_memory_size: Some(config.max_memory_bytes),
                max_table_elements: Some(config.max_table_elements),
            })
            .build_pre()
            .map_err(|e| WapcError::BadModule(e.to_string()))?;
        Ok(WasmtimeProviderPre { pre, deadlines })
    }

    /// A fresh, uninitialised provider (`WapcHost::new` initialises it).
    fn provider(&self) -> Result<WasmtimeEngineProvider, WapcError> {
        self.pre
            .rehydrate(Some(self.deadlines))
            .map_err(|e| WapcError::Instantiation(e.to_string()))
    }

    /// A new instance behind a `WapcHost`, initialised with its host calls routed to `router`
    /// under `ctx` (as calls of `guest`).
    pub(crate) fn instance(
        &self,
        router: &Router,
        guest: &str,
        ctx: &CallContext,
    ) -> Result<WapcHostInstance, WapcError> {
        // Host calls made by the guest's init functions are this guest's calls too.
        let scope = scope::enter(ctx.clone().with_caller(guest));
        let provider = self.provider()?;
        let created = catch_unwind(AssertUnwindSafe(|| {
            WapcHostInstance::new(provider, router, guest)
        }));
        scope.finish();
        match created {
            Ok(Ok(host)) => Ok(host),
            Ok(Err(error)) => Err(WapcError::Instantiation(error.to_string())),
            Err(panic) => Err(WapcError::Instantiation(format!(
                "engine panicked: {}",
                panic_message(panic.as_ref())
            ))),
        }
    }
}

/// A `WapcHost` and the guest's name for `CallContext::caller` (one allocation per instance,
/// so the refcount traffic of every call stays on the thread holding the instance).
pub(crate) struct WapcHostInstance {
    host: WapcHost,
    caller: Arc<str>,
}

#[allow(unsafe_code)] // see SAFETY
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

    /// Invoke `operation` under `ctx` (already capped by the invoke timeout).
    pub(crate) fn invoke(
        &self,
        ctx: CallContext,
        operation: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, WapcError> {
        let scope = scope::enter(ctx.with_caller(Arc::clone(&self.caller)));
        // wasmtime-provider panics on bad guest pointers; contain it to this instance.
        let result = catch_unwind(AssertUnwindSafe(|| self.host.call(operation, payload)));
        let outcome = scope.finish();
        match result {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(classify(error, outcome)),
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                Err(WapcError::Trap {
                    detail: message.clone(),
                    cause: TrapCause::EnginePanic(message),
                })
            }
        }
    }
}

/// A wasmtime-provider failure, told apart by its text (it keeps no error types).
fn classify(error: wapc::errors::Error, outcome: Outcome) -> WapcError {
    match error {
        wapc::errors::Error::GuestCallFailure(message) => {
            if message == INTERRUPTED_MESSAGE {
                WapcError::DeadlineExceeded
            } else if looks_like_trap(&message) {
                WapcError::Trap {
                    cause: TrapCause::Other(TRAP_CAUSE.to_owned()),
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

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Whether a guest error text from wasmtime-provider is really a trap (it reports traps as
/// guest errors, with the wasm backtrace as the message).
fn looks_like_trap(message: &str) -> bool {
    message.starts_with("error while executing at wasm backtrace")
        || message.starts_with("wasm trap:")
}
