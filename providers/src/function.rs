//! `function`: Tarmac's function-to-function calls. Operation `<name>` invokes the `handler` of
//! the guest registered under `<name>` with the payload and answers its output verbatim (no
//! envelope, as in Tarmac).
//!
//! Only functions registered on the provider can be called (deny by default); any other name is
//! `UnknownOperation`. Calls are bounded in depth twice: by [`Functions::max_depth`] (default 4)
//! and by the router's own re-entrancy limit, and every nested invocation inherits the caller's
//! deadline and cancellation.
//!
//! The guests are anything implementing [`GuestFunction`]; [`switchboard::wapc::GuestRuntime`]
//! does (its `handler`). Build the runtimes with the router that will serve their host calls,
//! then register this provider on that router:
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

use switchboard::wapc::{GuestRuntime, WapcError};
use switchboard::{CallContext, Provider, ProviderError, Request};

/// The waPC operation Tarmac invokes on a function.
pub const HANDLER: &str = "handler";

/// Default bound on nested function calls.
pub const DEFAULT_MAX_DEPTH: u32 = 4;

/// A callable guest function.
pub trait GuestFunction: Send + Sync + 'static {
    /// Run the function with `payload` under `ctx` (deadline, cancellation, depth).
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

#[cfg(test)]
mod tests {
    use switchboard::{CallError, Router};

    use super::*;

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
