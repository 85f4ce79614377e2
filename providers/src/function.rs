//! `function`: Tarmac's function-to-function calls. Operation `<name>` invokes the `handler` of
//! the guest registered under `<name>` with the payload and answers its output verbatim (no
//! envelope, as in Tarmac).
//!
//! Only functions registered on the provider can be called (deny by default); any other name is
//! `UnknownOperation`. Calls are bounded in depth twice: by [`Functions::max_depth`] (default 4)
//! and by the router's own re-entrancy limit, and every nested invocation inherits the caller's
//! deadline and cancellation.
//!
//! From `switchboard.toml`, the [`FunctionGuests`] capability compiles every
//! `[function.<name>]` guest with the config's `[guest]` settings and serves them as namespace
//! `function` under the binding of `[preset.tarmac]` (`tarmac` unless the preset says
//! otherwise; `"*"` for every binding).
//!
//! In code, the guests are anything implementing [`GuestFunction`];
//! [`switchboard::wapc::GuestRuntime`] does (its `handler`). Build the runtimes with the router
//! that will serve their host calls, then register this provider on that router:
//!
//! ```no_run
//! # use switchboard::{Router, wapc::{GuestModule, GuestConfig}};
//! # use switchboard_providers::function::Functions;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let router = Router::new();
//! let reports = GuestModule::from_file("reports.wasm", GuestConfig::default())?.runtime(&router)?;
//! let functions = Functions::new().with("reports", reports);
//! router.register_namespace("function", functions)?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use switchboard::config::{
    BuiltRoutes, Capability, FactoryContext, FactoryError, ProviderRegistry,
};
use switchboard::wapc::{GuestConfig, GuestModule, GuestRuntime, WapcError};
use switchboard::{CallContext, Provider, ProviderError, Request, RouteKey};

use crate::tarmac::{DEFAULT_BINDING, PRESET};

/// The waPC operation Tarmac invokes on a function.
pub const HANDLER: &str = "handler";

/// Default bound on nested function calls.
pub const DEFAULT_MAX_DEPTH: u32 = 4;

/// A callable guest function.
pub trait GuestFunction: Send + Sync + 'static {
    /// Run the function with `payload` under `ctx` (deadline, cancellation, depth).
    ///
    /// # Errors
    ///
    /// The guest's failure, trap, deadline or cancellation as a [`ProviderError`].
    fn invoke(&self, ctx: &CallContext, payload: &[u8]) -> Result<Vec<u8>, ProviderError>;
}

impl GuestFunction for GuestRuntime {
    fn invoke(&self, ctx: &CallContext, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        self.invoke_with(ctx, HANDLER, payload)
            .map_err(provider_error)
    }
}

impl<F> GuestFunction for F
where
    F: Fn(&CallContext, &[u8]) -> Result<Vec<u8>, ProviderError> + Send + Sync + 'static,
{
    fn invoke(&self, ctx: &CallContext, payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
        self(ctx, payload)
    }
}

/// How a guest's failure reaches the calling guest: its own error message verbatim, a failed
/// host call of the callee as that call's error, traps, limits, deadlines and cancellation
/// as themselves.
pub fn provider_error(err: WapcError) -> ProviderError {
    match err {
        WapcError::Guest(message) => ProviderError::failed(message),
        WapcError::HostCall { error, .. } => ProviderError::from(error),
        WapcError::Trap { cause, .. } => ProviderError::Trapped(cause.to_string()),
        WapcError::DeadlineExceeded => ProviderError::DeadlineExceeded,
        WapcError::Canceled => ProviderError::Canceled,
        err @ WapcError::MemoryLimit { .. } => ProviderError::LimitExceeded(err.to_string()),
        other => ProviderError::failed(other.to_string()),
    }
}

/// The `function` provider: named guest functions that guests may call.
#[derive(Clone)]
pub struct Functions {
    functions: BTreeMap<String, Arc<dyn GuestFunction>>,
    max_depth: u32,
}

impl Default for Functions {
    fn default() -> Self {
        Functions {
            functions: BTreeMap::new(),
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

impl Functions {
    /// No functions: every call is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Make `function` callable as operation `name` (replacing an earlier one of that name).
    pub fn with(mut self, name: impl Into<String>, function: impl GuestFunction) -> Self {
        self.functions.insert(name.into(), Arc::new(function));
        self
    }

    /// Bound on nested calls: a call made at a router depth of `max_depth` or more fails with
    /// `LimitExceeded`.
    pub fn max_depth(mut self, max_depth: u32) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// The callable names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }
}

impl Provider for Functions {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        let function = self
            .functions
            .get(req.operation)
            .ok_or_else(|| ProviderError::UnknownOperation(req.operation.to_string()))?;
        if req.ctx.depth() >= self.max_depth {
            return Err(ProviderError::LimitExceeded(format!(
                "function call depth limit of {} reached calling '{}'",
                self.max_depth, req.operation
            )));
        }
        // One level deeper: the callee's own host calls (and its function calls) count from here.
        function.invoke(&req.ctx.child(), req.payload)
    }

    fn describe(&self) -> String {
        let names: Vec<&str> = self.names().collect();
        format!("tarmac function ({})", names.join(", "))
    }
}

/// The namespace guest functions are served under.
pub const NAMESPACE: &str = "function";

/// `[function.<name>]` guests as a [`Capability`]: registers the functions factory, which
/// compiles every guest the config names (its `[guest]` settings on top of a base
/// [`GuestConfig`], one pool per function sized for the depth bound) and serves them as one
/// [`Functions`] route: namespace [`NAMESPACE`] under the binding of `[preset.tarmac]`.
///
/// ```
/// use switchboard::config::ProviderRegistry;
/// use switchboard::wapc::GuestConfig;
/// use switchboard_providers::FunctionGuests;
///
/// let registry = ProviderRegistry::new().with(&FunctionGuests::new(GuestConfig::default()));
/// assert!(registry.functions().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct FunctionGuests {
    base: GuestConfig,
    max_depth: u32,
}

impl FunctionGuests {
    /// Guests compiled from `base` (e.g. with a module cache directory) with the config's
    /// `[guest]` settings applied, nesting bounded by [`DEFAULT_MAX_DEPTH`].
    pub fn new(base: GuestConfig) -> Self {
        FunctionGuests {
            base,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// Another bound on nested function calls (see [`Functions::max_depth`]).
    pub fn max_depth(mut self, max_depth: u32) -> Self {
        self.max_depth = max_depth;
        self
    }

    fn build(&self, ctx: &FactoryContext<'_>) -> Result<BuiltRoutes, FactoryError> {
        let router = ctx.router().ok_or_else(|| {
            FactoryError::other("guest functions are built for a router, and none was given")
        })?;
        let mut functions = Functions::new().max_depth(self.max_depth);
        for entry in ctx.functions() {
            let mut config = ctx
                .guest()
                .apply_to(self.base.clone().with_name(entry.name.clone()));
            // A function may call itself (directly or through others) up to the depth bound;
            // each level needs its own instance, or the nested call would wait for the pool
            // until the deadline. Instances are created on demand, so this costs nothing
            // unless used.
            let depth = usize::try_from(self.max_depth).unwrap_or(usize::MAX);
            config.pool_size = config.pool_size.max(depth.saturating_add(1));
            let runtime = GuestModule::from_file(&entry.guest, config)
                .and_then(|module| module.runtime(router))
                .map_err(|source| {
                    FactoryError::other(FunctionError {
                        name: entry.name.clone(),
                        source,
                    })
                })?;
            functions = functions.with(entry.name.clone(), runtime);
        }
        Ok(vec![(function_key(ctx), Arc::new(functions))])
    }
}

impl Capability for FunctionGuests {
    fn register(&self, registry: &mut ProviderRegistry) {
        let guests = self.clone();
        registry.register_functions(move |ctx| guests.build(ctx));
    }
}

/// `function:*` under the Tarmac preset's binding (its `binding` option, else the default).
fn function_key(ctx: &FactoryContext<'_>) -> RouteKey {
    let binding = ctx
        .preset(PRESET)
        .and_then(|preset| preset.options.get("binding"))
        .and_then(|binding| binding.as_str())
        .unwrap_or(DEFAULT_BINDING);
    RouteKey::namespace(NAMESPACE).with_binding_rule(binding)
}

/// A `[function.<name>]` guest could not be compiled or instantiated.
#[derive(Debug, thiserror::Error)]
#[error("function '{name}'")]
pub struct FunctionError {
    /// The function's name.
    pub name: String,
    /// Why its guest could not be loaded.
    #[source]
    pub source: WapcError,
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::path::Path;

    use switchboard::config::{Config, ConfigError};
    use switchboard::{CallError, Router};

    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(text, "/etc/sb/switchboard.toml").unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn functions_follow_the_tarmac_binding() {
        // An empty options table (its type is `toml::Table`, a crate this one does not name).
        let no_options = Default::default();
        let key = |text: &str| {
            let config = parse(text);
            let ctx = FactoryContext::new(NAMESPACE, &no_options, Path::new("/etc/sb"))
                .with_config(&config);
            function_key(&ctx).to_string()
        };
        assert_eq!(key(""), "tarmac/function:*");
        assert_eq!(
            key("[preset.tarmac]\nbinding = \"default\"\n"),
            "default/function:*"
        );
        assert_eq!(key("[preset.tarmac]\nbinding = \"*\"\n"), "*/function:*");
    }

    #[test]
    fn a_function_guest_that_cannot_load_is_a_located_error_naming_it() {
        let config = parse("[function.reports]\nguest = \"missing.wasm\"\n");
        let registry = ProviderRegistry::new().with(&FunctionGuests::new(GuestConfig::default()));
        let router = Router::new();
        let err = config.apply(&router, &registry).unwrap_err();
        match &err {
            ConfigError::Provider { at, key, .. } => {
                assert_eq!((at.line, key.as_str()), (1, "function"));
            }
            other => panic!("expected a provider error, got {other:?}"),
        }
        assert!(
            err.to_string().starts_with(
                "/etc/sb/switchboard.toml:1:1: `function`: provider 'function': function 'reports'"
            ),
            "{err}"
        );
        let mut cause = err.source();
        let mut wapc = None;
        while let Some(c) = cause {
            if let Some(w) = c.downcast_ref::<WapcError>() {
                wapc = Some(w);
            }
            cause = c.source();
        }
        assert!(
            matches!(wapc, Some(WapcError::Io { .. })),
            "the guest's load error is in the chain: {err:?}"
        );
        assert!(router.routes().is_empty());
    }

    #[test]
    fn only_registered_functions_are_callable() {
        let router = Router::new();
        let functions = Functions::new().with("upper", |_: &CallContext, p: &[u8]| {
            Ok(p.to_ascii_uppercase())
        });
        router.register_namespace("function", functions).unwrap();
        let ctx = CallContext::new();
        assert_eq!(
            router.call(&ctx, "tarmac", "function", "upper", b"abc"),
            Ok(b"ABC".to_vec())
        );
        assert_eq!(
            router.call(&ctx, "tarmac", "function", "lower", b"abc"),
            Err(CallError::UnknownOperation("lower".to_string()))
        );
    }

    #[test]
    fn recursion_is_depth_bounded() {
        let router = Router::new();
        // A function that calls itself through the router, forever if nothing stops it.
        let r = router.clone();
        let functions =
            Functions::new()
                .max_depth(3)
                .with("loop", move |ctx: &CallContext, p: &[u8]| {
                    r.call(ctx, "tarmac", "function", "loop", p)
                        .map_err(ProviderError::from)
                });
        router.register_namespace("function", functions).unwrap();
        let err = router
            .call(&CallContext::new(), "tarmac", "function", "loop", b"")
            .unwrap_err();
        assert_eq!(
            err,
            CallError::LimitExceeded(
                "function call depth limit of 3 reached calling 'loop'".to_string()
            )
        );
    }

    #[test]
    fn guest_failures_map_to_provider_errors() {
        assert_eq!(
            provider_error(WapcError::Guest("bad input".to_string())),
            ProviderError::failed("bad input")
        );
        assert_eq!(
            provider_error(WapcError::DeadlineExceeded),
            ProviderError::DeadlineExceeded
        );
        assert_eq!(provider_error(WapcError::Canceled), ProviderError::Canceled);
        let nested = CallError::NotFound {
            binding: "tarmac".to_string(),
            namespace: "kvstore".to_string(),
            operation: "get".to_string(),
        };
        assert_eq!(
            CallError::from(provider_error(WapcError::HostCall {
                error: nested.clone(),
                guest_message: "x".to_string(),
            })),
            nested
        );
        assert_eq!(
            provider_error(WapcError::MemoryLimit {
                limit: 10,
                requested: 20
            }),
            ProviderError::LimitExceeded(
                "guest memory limit exceeded: 20 bytes requested, limit is 10 bytes".to_string()
            )
        );
    }
}
