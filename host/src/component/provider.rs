//! [`ComponentProvider`]: a [`Provider`] served by a pool of sandboxed component instances.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;

use super::bindings::exports::switchboard::provider::handler;
use super::bindings::switchboard::provider::types;
use super::bindings::Provider as ProviderWorld;
use super::config::ComponentConfig;
use super::engine::ComponentEngine;
use super::error::{classify, ComponentError};
use super::load::{load, Loaded};
use super::state::{CallScope, InstanceState};
use crate::pool::{Pool, PoolError, PoolStats};
use crate::{CallContext, Provider, ProviderError, Request};

/// One warm instance: its own Store (a trap poisons a whole Store, so nothing is shared).
///
/// Pooled boxed: a call moves its lease in and out of the pool, and a pointer moves for
/// free where the whole struct cost a copy at every step. Aligned to 128 bytes (as the pool
/// pads its slots) so two threads' instances never share a cache line on the heap.
#[repr(align(128))]
pub(crate) struct Warm {
    store: Store<InstanceState>,
    bindings: ProviderWorld,
    calls: u64,
    /// Reused for every call: refilling its strings allocates nothing once they have grown.
    call: types::CallInfo,
}

struct Shared {
    name: Arc<str>,
    source: String,
    engine: ComponentEngine,
    config: ComponentConfig,
    loaded: Loaded,
    pool: Pool<Box<Warm>>,
}

/// A route's provider backed by a WASM component of the `switchboard:provider` world.
///
/// Loading compiles the component once (or deserializes it from the engine's disk cache),
/// checks it against the world and pre-warms `pool_min` instances. Each call runs on a warm
/// instance in its own `Store`, with the configured memory/table caps, an epoch deadline
/// (the earlier of the call's deadline and `call_timeout`), optional fuel, and request and
/// response size caps. An instance that trapped, timed out or hit a limit is discarded and
/// replaced; so is one that served `recycle_after` calls.
///
/// Cheap to clone (clones share the pool). Calls already running on a provider that is
/// replaced in the router finish on it.
///
/// ```no_run
/// use switchboard::component::{ComponentConfig, ComponentEngine, ComponentProvider};
/// use switchboard::{CallContext, Router};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = ComponentEngine::shared()?;
/// let kv = ComponentProvider::from_file(&engine, "kv.wasm", ComponentConfig::default())?;
/// let router = Router::new();
/// router.register_component("database:kv", Some(&["Get", "Set", "Delete"]), kv)?;
/// router.call(&CallContext::new(), "", "database:kv", "Set", b"k\0v")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ComponentProvider {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ComponentProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentProvider")
            .field("name", &self.shared.name)
            .field("source", &self.shared.source)
            .field("pool", &self.shared.pool.stats())
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// Component providers serving a call on this thread, innermost last: a provider reached
    /// again through `host.call` is a cycle (it would also wait on its own pool).
    static ACTIVE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Marks a provider active on this thread for the guard's lifetime.
struct ActiveGuard;

impl ActiveGuard {
    fn enter(id: usize) -> Option<Self> {
        ACTIVE.with_borrow_mut(|active| {
            if active.contains(&id) {
                None
            } else {
                active.push(id);
                Some(ActiveGuard)
            }
        })
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        ACTIVE.with_borrow_mut(|active| {
            active.pop();
        });
    }
}

impl ComponentProvider {
    /// Load a component file. The provider's name defaults to the file stem.
    ///
    /// # Errors
    ///
    /// [`ComponentError`] if the file cannot be read or compiled, does not implement the
    /// `switchboard:provider` world, or its first warm instances cannot be created.
    pub fn from_file(
        engine: &ComponentEngine,
        path: impl AsRef<Path>,
        config: ComponentConfig,
    ) -> Result<Self, ComponentError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ComponentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = config.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "component".to_string())
        });
        let source = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::build(engine, name, source, &bytes, config)
    }

    /// Load a component from bytes. The provider's name defaults to `"component"`.
    ///
    /// # Errors
    ///
    /// As [`from_file`](Self::from_file), without the file.
    pub fn from_bytes(
        engine: &ComponentEngine,
        bytes: &[u8],
        config: ComponentConfig,
    ) -> Result<Self, ComponentError> {
        let name = config
            .name
            .clone()
            .unwrap_or_else(|| "component".to_string());
        Self::build(engine, name.clone(), name, bytes, config)
    }

    fn build(
        engine: &ComponentEngine,
        name: String,
        source: String,
        bytes: &[u8],
        config: ComponentConfig,
    ) -> Result<Self, ComponentError> {
        let config_error = |message: String| ComponentError::Config {
            name: name.clone(),
            message,
        };
        config.validate().map_err(config_error)?;
        if config.fuel_per_call.is_some() && !engine.inner().fuel {
            return Err(config_error(
                "fuel_per_call needs an engine created with fuel metering".into(),
            ));
        }
        let loaded = load(engine, &name, bytes)?;
        let provider = ComponentProvider {
            shared: Arc::new(Shared {
                name: name.into(),
                source,
                engine: engine.clone(),
                pool: Pool::new(config.pool_max),
                config,
                loaded,
            }),
        };
        // Pre-warm; this also proves at load time that the component instantiates.
        let min = provider.shared.config.pool_min.max(1);
        provider
            .shared
            .pool
            .top_up(min, || provider.instantiate())
            .map_err(|err| ComponentError::Instantiate {
                name: provider.name().to_string(),
                message: err.to_string(),
            })?;
        Ok(provider)
    }

    /// The provider's name (logs, errors, listings).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Whether the compiled component came from the engine's disk cache.
    pub fn loaded_from_cache(&self) -> bool {
        self.shared.loaded.from_cache
    }

    /// Instances alive and idle right now.
    pub fn pool_stats(&self) -> PoolStats {
        self.shared.pool.stats()
    }

    /// The configuration the provider runs with.
    pub fn config(&self) -> &ComponentConfig {
        &self.shared.config
    }

    fn instantiate(&self) -> Result<Box<Warm>, ProviderError> {
        let shared = &*self.shared;
        let state = InstanceState::new(shared.name.clone(), &shared.config).map_err(|message| {
            ProviderError::failed(format!(
                "component provider '{}' cannot start: {message}",
                shared.name
            ))
        })?;
        let mut store = Store::new(&shared.engine.inner().engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|ctx| ctx.data().on_epoch());
        // Start code runs during instantiation: bound it like a call.
        store.data_mut().deadline = Instant::now().checked_add(shared.config.call_timeout);
        store.set_epoch_deadline(1);
        self.refuel(&mut store)?;
        let bindings = shared
            .loaded
            .pre
            .instantiate(&mut store)
            .map_err(classify)?;
        store.data_mut().deadline = None;
        Ok(Box::new(Warm {
            store,
            bindings,
            calls: 0,
            call: types::CallInfo {
                binding: String::new(),
                namespace: String::new(),
                operation: String::new(),
            },
        }))
    }

    fn refuel(&self, store: &mut Store<InstanceState>) -> Result<(), ProviderError> {
        if self.shared.engine.inner().fuel {
            // With metering on, a store without fuel traps at once: no per-call budget means
            // unlimited (deadlines still apply).
            let fuel = self.shared.config.fuel_per_call.unwrap_or(u64::MAX);
            store
                .set_fuel(fuel)
                .map_err(|e| ProviderError::Trapped(format!("cannot set fuel: {e}")))?;
        }
        Ok(())
    }

    fn serve(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        let shared = &*self.shared;
        let config = &shared.config;
        if req.payload.len() > config.max_request_bytes {
            return Err(ProviderError::LimitExceeded(format!(
                "request of {} bytes is over the cap of {} bytes",
                req.payload.len(),
                config.max_request_bytes
            )));
        }
        let id = Arc::as_ptr(&self.shared) as usize;
        let _active = ActiveGuard::enter(id).ok_or_else(|| {
            ProviderError::LimitExceeded(format!(
                "call cycle: component provider '{}' is already serving a call on this thread",
                shared.name
            ))
        })?;

        // The earlier of the caller's deadline and `call_timeout` from now.
        let deadline = match Instant::now().checked_add(config.call_timeout) {
            Some(timeout) => Some(req.ctx.deadline().map_or(timeout, |d| d.min(timeout))),
            None => req.ctx.deadline(),
        };
        // The pool only reads the deadline and the cancellation token, and only when it has to
        // wait: a context with just those two leaves the caller's (its name is refcounted)
        // untouched on every call.
        let mut wait_ctx = CallContext::new();
        if let Some(deadline) = deadline {
            wait_ctx = wait_ctx.with_deadline(deadline);
        }
        if let Some(token) = req.ctx.cancel_token() {
            wait_ctx = wait_ctx.with_cancel(token.clone());
        }
        let mut lease = shared
            .pool
            .checkout(&wait_ctx, config.pool_wait, || self.instantiate())
            .map_err(|err| match err {
                PoolError::Saturated { max, waited } => ProviderError::LimitExceeded(format!(
                    "component provider '{}': all {max} instances busy for {} ms",
                    shared.name,
                    waited.as_millis()
                )),
                PoolError::DeadlineExceeded => ProviderError::DeadlineExceeded,
                PoolError::Canceled => ProviderError::Canceled,
                PoolError::Create(err) => err,
            })?;
        let warm = lease.get();

        let outcome = self.run(warm, deadline, req);
        warm.calls += 1;
        let worn_out = warm.calls >= config.recycle_after;
        let healthy = matches!(outcome, Ok(_) | Err(Outcome::Answered(_)));
        if healthy && !worn_out {
            lease.keep();
        } else {
            lease.discard();
        }
        drop(lease);
        if !healthy {
            // Keep the warm minimum after a discard; a failure here only delays the next call.
            if let Err(error) = shared.pool.top_up(config.pool_min, || self.instantiate()) {
                tracing::warn!(provider = %shared.name, %error, "cannot refill the instance pool");
            }
        }
        match outcome {
            Ok(bytes) if bytes.len() > config.max_response_bytes => {
                Err(ProviderError::LimitExceeded(format!(
                    "response of {} bytes is over the cap of {} bytes",
                    bytes.len(),
                    config.max_response_bytes
                )))
            }
            Ok(bytes) => Ok(bytes),
            Err(Outcome::Answered(err) | Outcome::Broken(err)) => Err(err),
        }
    }

    /// One call on one instance, until `deadline` or the caller's cancellation. The scope
    /// (router, deadline) is set only for the call.
    fn run(
        &self,
        warm: &mut Warm,
        deadline: Option<Instant>,
        req: &Request<'_>,
    ) -> Result<Vec<u8>, Outcome> {
        let store = &mut warm.store;
        {
            let state = store.data_mut();
            state.deadline = deadline;
            state.cancel = req.ctx.cancel_token().cloned();
            // Only a provider granted host calls needs the router (and the caller's whole
            // context, for the calls it makes) during the call.
            if self.shared.config.grants.host_calls {
                let ctx = match deadline {
                    Some(deadline) => req.ctx.clone().with_deadline(deadline),
                    None => req.ctx.clone(),
                };
                state.scope = Some(CallScope {
                    router: req.router().clone(),
                    ctx,
                });
                state.binding.clear();
                state.binding.push_str(req.binding);
            }
        }
        store.set_epoch_deadline(1);
        if let Err(err) = self.refuel(store) {
            return Err(Outcome::Broken(err));
        }
        let call = &mut warm.call;
        for (field, value) in [
            (&mut call.binding, req.binding),
            (&mut call.namespace, req.namespace),
            (&mut call.operation, req.operation),
        ] {
            field.clear();
            field.push_str(value);
        }
        let result = warm.bindings.switchboard_provider_handler().call_handle(
            &mut *store,
            call,
            req.payload,
        );
        {
            let state = store.data_mut();
            state.scope = None;
            state.deadline = None;
            state.cancel = None;
        }
        match result {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(err)) => Err(Outcome::Answered(from_wit_error(err, req.operation))),
            Err(err) => Err(Outcome::Broken(classify(err))),
        }
    }
}

/// How a call ended when it did not answer bytes.
enum Outcome {
    /// The component answered with an error: the instance is fine.
    Answered(ProviderError),
    /// Trap, deadline, limit: the instance must go.
    Broken(ProviderError),
}

fn from_wit_error(err: handler::Error, operation: &str) -> ProviderError {
    match err {
        types::Error::UnknownOperation => ProviderError::UnknownOperation(operation.to_string()),
        types::Error::InvalidInput(message) => ProviderError::InvalidInput(message),
        types::Error::Failure(types::Failure { message, payload }) => {
            ProviderError::Failed { message, payload }
        }
    }
}

impl Provider for ComponentProvider {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        self.serve(req)
    }

    fn describe(&self) -> String {
        format!("component {}", self.shared.source)
    }
}
