//! The dispatch core: a route table from `(binding, namespace, operation)` to providers, with
//! pre-call middleware, post-call observers, deadlines, cancellation and bounded re-entrancy.
//!
//! Semantics start from Tarmac's Go `callbacks.Router` and fix its flaws: tuple keys instead of
//! `"ns:op"` strings, typed errors, duplicate registrations refused unless replacement is asked
//! for, lock-free reads while routes change, providers called outside any lock.
//!
//! # Every method of [`Router`]
//!
//! Most methods live here: building ([`Router::new`], [`Router::builder`]), registering one
//! route ([`register`](Router::register), [`register_namespace`](Router::register_namespace),
//! [`replace`](Router::replace), [`register_key`](Router::register_key)) or a batch, all or
//! nothing ([`register_all`](Router::register_all), `batch.rs`), removing
//! ([`unregister`](Router::unregister)), inspecting ([`lookup`](Router::lookup),
//! [`routes`](Router::routes)) and calling ([`call`](Router::call)).
//!
//! Two groups are inherent methods written next to the types they take, so that the router core
//! never imports a runtime; they are listed here so that nothing about `Router` has to be
//! searched for:
//! - component providers: [`register_component`](Router::register_component) and
//!   [`replace_component`](Router::replace_component) (`component/register.rs`), both one
//!   [`register_all`](Router::register_all) batch;
//! - waPC guests: [`host_callback`](Router::host_callback) and
//!   [`host_callback_async`](Router::host_callback_async) (`wapc/callback.rs`), the
//!   `__host_call` handlers that route into this router.

mod batch;
mod middleware;
mod table;

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;

pub use batch::BatchError;
pub use middleware::{CallInfo, CallResult, PostCall, PreCall, PreOutcome};
pub use table::{RouteInfo, RouteKey};

use table::{Route, Table};

use crate::{CallContext, CallError, IntoProvider, ProviderError, RegisterError, Request};

/// What to do when a registration meets an existing route with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Refuse with [`RegisterError::Duplicate`].
    Reject,
    /// Replace the existing route atomically; calls already running keep the old provider.
    Replace,
}

/// Default bound on nested calls (a provider calling the router calling a provider ...).
pub const DEFAULT_MAX_DEPTH: u32 = 16;

/// Builds a [`Router`] with its middleware, composed in the order added.
///
/// ```
/// use switchboard::{Router, PreOutcome, CallInfo, CallResult, CallContext, CallError};
/// let router = Router::builder()
///     .pre(|call: &CallInfo<'_>, _payload: &[u8]| {
///         if call.namespace == "admin" { PreOutcome::Deny("no admin".into()) } else { PreOutcome::Continue }
///     })
///     .post(|result: &CallResult<'_>| tracing::debug!(op = result.operation, took = ?result.duration))
///     .build();
/// router.register("admin", "wipe", |_: &[u8]| Ok::<_, String>(vec![])).unwrap();
/// let err = router.call(&CallContext::new(), "", "admin", "wipe", b"").unwrap_err();
/// assert_eq!(err, CallError::Denied { reason: "no admin".into() });
/// ```
#[derive(Default)]
#[allow(missing_debug_implementations)] // middleware are closures
pub struct RouterBuilder {
    pre: Vec<Arc<dyn PreCall>>,
    post: Vec<Arc<dyn PostCall>>,
    max_depth: Option<u32>,
}

impl RouterBuilder {
    /// Add a pre-call middleware; they run in the order added, after the route lookup.
    pub fn pre(mut self, middleware: impl PreCall) -> Self {
        self.pre.push(Arc::new(middleware));
        self
    }

    /// Add a post-call observer; they run in the order added, after the provider returned.
    pub fn post(mut self, observer: impl PostCall) -> Self {
        self.post.push(Arc::new(observer));
        self
    }

    /// Bound on nested calls, default [`DEFAULT_MAX_DEPTH`]. A call at depth greater than this
    /// fails with [`CallError::DepthExceeded`].
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.max_depth = Some(depth);
        self
    }

    /// The router.
    pub fn build(self) -> Router {
        Router {
            inner: Arc::new(Inner {
                table: ArcSwap::from_pointee(Table::default()),
                write: Mutex::new(()),
                pre: self.pre.into_boxed_slice(),
                post: self.post.into_boxed_slice(),
                max_depth: self.max_depth.unwrap_or(DEFAULT_MAX_DEPTH),
            }),
        }
    }
}

struct Inner {
    table: ArcSwap<Table>,
    // Serialises writers only; readers load the current table without waiting.
    write: Mutex<()>,
    pre: Box<[Arc<dyn PreCall>]>,
    post: Box<[Arc<dyn PostCall>]>,
    max_depth: u32,
}

/// Routes host calls to providers. Cheap to clone; every clone shares the same routes.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.inner.table.load().routes().count())
            .field("pre", &self.inner.pre.len())
            .field("post", &self.inner.post.len())
            .field("max_depth", &self.inner.max_depth)
            .finish()
    }
}

impl Router {
    /// A router without routes or middleware.
    pub fn new() -> Self {
        RouterBuilder::default().build()
    }

    /// Start building a router with middleware.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// Register a provider for one operation of a namespace, for every binding. Refuses a
    /// duplicate; see [`replace`](Self::replace).
    ///
    /// # Errors
    ///
    /// [`RegisterError::EmptyNamespace`] or [`RegisterError::EmptyOperation`] for an empty
    /// name, [`RegisterError::Duplicate`] when the route exists.
    ///
    /// ```
    /// use switchboard::{Router, CallContext};
    /// let router = Router::new();
    /// router.register("database:kv", "Get", |key: &[u8]| Ok::<_, String>(key.to_vec())).unwrap();
    /// assert_eq!(router.call(&CallContext::new(), "", "database:kv", "Get", b"k").unwrap(), b"k");
    /// ```
    pub fn register<M>(
        &self,
        namespace: &str,
        operation: &str,
        provider: impl IntoProvider<M>,
    ) -> Result<(), RegisterError> {
        self.register_key(
            RouteKey::exact(namespace, operation),
            provider,
            Conflict::Reject,
        )
        .map(|_| ())
    }

    /// Register a provider for every operation of a namespace. An exact route for an operation
    /// still wins over it.
    ///
    /// # Errors
    ///
    /// [`RegisterError::EmptyNamespace`] for an empty namespace, [`RegisterError::Duplicate`]
    /// when the namespace route exists.
    pub fn register_namespace<M>(
        &self,
        namespace: &str,
        provider: impl IntoProvider<M>,
    ) -> Result<(), RegisterError> {
        self.register_key(RouteKey::namespace(namespace), provider, Conflict::Reject)
            .map(|_| ())
    }

    /// Register or replace the provider of one operation; returns the route it replaced.
    ///
    /// # Errors
    ///
    /// [`RegisterError::EmptyNamespace`] or [`RegisterError::EmptyOperation`] for an empty
    /// name.
    pub fn replace<M>(
        &self,
        namespace: &str,
        operation: &str,
        provider: impl IntoProvider<M>,
    ) -> Result<Option<RouteInfo>, RegisterError> {
        self.register_key(
            RouteKey::exact(namespace, operation),
            provider,
            Conflict::Replace,
        )
    }

    /// The general registration: any key (binding-scoped, namespace-wide), explicit conflict
    /// policy. Returns the replaced route, if any. For several routes at once, use
    /// [`register_all`](Self::register_all).
    ///
    /// # Errors
    ///
    /// [`RegisterError::EmptyNamespace`], [`RegisterError::EmptyOperation`] or
    /// [`RegisterError::EmptyBinding`] for an empty name; [`RegisterError::Duplicate`] when the
    /// route exists and `on_conflict` is [`Conflict::Reject`].
    pub fn register_key<M>(
        &self,
        key: RouteKey,
        provider: impl IntoProvider<M>,
        on_conflict: Conflict,
    ) -> Result<Option<RouteInfo>, RegisterError> {
        validate_key(&key)?;
        let route = Arc::new(Route {
            key,
            provider: provider.into_provider(),
        });
        self.write(|table| {
            if on_conflict == Conflict::Reject && table.get(&route.key).is_some() {
                return Err(RegisterError::Duplicate(route.key.clone()));
            }
            Ok(table.insert(route).map(|old| old.info()))
        })
    }

    /// Remove a route; returns what was removed. Calls already running finish normally.
    pub fn unregister(&self, key: &RouteKey) -> Option<RouteInfo> {
        self.write(|table| Ok::<_, std::convert::Infallible>(table.remove(key).map(|r| r.info())))
            .unwrap_or_else(|never| match never {})
    }

    /// The route that would serve a call, if any.
    pub fn lookup(&self, binding: &str, namespace: &str, operation: &str) -> Option<RouteInfo> {
        self.inner
            .table
            .load()
            .lookup(binding, namespace, operation)
            .map(|r| r.info())
    }

    /// Every route, sorted by key.
    pub fn routes(&self) -> Vec<RouteInfo> {
        let mut routes: Vec<RouteInfo> =
            self.inner.table.load().routes().map(|r| r.info()).collect();
        routes.sort_by(|a, b| a.key.cmp(&b.key));
        routes
    }

    /// Route one call: validate, check cancellation and deadline, look up, run pre-call
    /// middleware, run the provider, notify post-call observers, return.
    ///
    /// # Errors
    ///
    /// [`CallError::InvalidRouteName`] for an empty namespace or operation,
    /// [`CallError::Canceled`] / [`CallError::DeadlineExceeded`] from the context,
    /// [`CallError::DepthExceeded`] past the nesting bound, [`CallError::NotFound`] without a
    /// route, [`CallError::Denied`] from a pre-call middleware, and the provider's own failure
    /// (a panic becomes [`CallError::ProviderFailed`]).
    pub fn call(
        &self,
        ctx: &CallContext,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, CallError> {
        if namespace.is_empty() {
            return Err(CallError::InvalidRouteName("namespace is empty"));
        }
        if operation.is_empty() {
            return Err(CallError::InvalidRouteName("operation is empty"));
        }
        ctx.check()?;
        if ctx.depth() > self.inner.max_depth {
            return Err(CallError::DepthExceeded {
                max: self.inner.max_depth,
            });
        }
        // The guard pins this snapshot for the call without touching a shared refcount (an
        // `Arc` clone per call would bounce one cache line between calling threads); writers
        // never wait for it, they publish a new table.
        let table = self.inner.table.load();
        let route =
            table
                .lookup(binding, namespace, operation)
                .ok_or_else(|| CallError::NotFound {
                    binding: binding.to_string(),
                    namespace: namespace.to_string(),
                    operation: operation.to_string(),
                })?;

        let payload = self.run_pre(ctx, binding, namespace, operation, &route.key, payload)?;
        let req = Request {
            ctx,
            binding,
            namespace,
            operation,
            payload: &payload,
            router: self,
        };
        if self.inner.post.is_empty() {
            return invoke(route, &req);
        }

        let started = SystemTime::now();
        let clock = Instant::now();
        let outcome = invoke(route, &req);
        let duration = clock.elapsed();
        let result = CallResult {
            binding,
            namespace,
            operation,
            route: &route.key,
            input: &payload,
            outcome: outcome.as_deref(),
            started,
            duration,
        };
        for observer in self.inner.post.iter() {
            observer.after(&result);
        }
        outcome
    }

    fn run_pre<'p>(
        &self,
        ctx: &CallContext,
        binding: &str,
        namespace: &str,
        operation: &str,
        route: &RouteKey,
        payload: &'p [u8],
    ) -> Result<Cow<'p, [u8]>, CallError> {
        let mut payload = Cow::Borrowed(payload);
        if self.inner.pre.is_empty() {
            return Ok(payload);
        }
        let info = CallInfo {
            ctx,
            binding,
            namespace,
            operation,
            route,
        };
        for middleware in self.inner.pre.iter() {
            match middleware.before(&info, &payload) {
                PreOutcome::Continue => {}
                PreOutcome::Rewrite(new) => payload = Cow::Owned(new),
                PreOutcome::Deny(reason) => return Err(CallError::Denied { reason }),
            }
        }
        Ok(payload)
    }

    fn write<T, E>(&self, edit: impl FnOnce(&mut Table) -> Result<T, E>) -> Result<T, E> {
        // A poisoned lock only means another writer panicked mid-edit; the published table is
        // still consistent because edits happen on a private copy.
        let _guard = self
            .inner
            .write
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut table = Table::clone(&self.inner.table.load());
        let out = edit(&mut table)?;
        self.inner.table.store(Arc::new(table));
        Ok(out)
    }
}

/// Run the provider; a panicking native provider becomes a typed failure instead of unwinding
/// through the guest's wasm frames.
fn invoke(route: &Route, req: &Request<'_>) -> Result<Vec<u8>, CallError> {
    match catch_unwind(AssertUnwindSafe(|| route.provider.call(req))) {
        Ok(result) => result.map_err(CallError::from),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            tracing::error!(route = %route.key, %detail, "native provider panicked");
            Err(ProviderError::failed(format!("provider panicked: {detail}")).into())
        }
    }
}

fn validate_key(key: &RouteKey) -> Result<(), RegisterError> {
    if key.namespace_name().is_empty() {
        return Err(RegisterError::EmptyNamespace);
    }
    if key.operation() == Some("") {
        return Err(RegisterError::EmptyOperation);
    }
    if key.binding() == Some("") {
        return Err(RegisterError::EmptyBinding);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
