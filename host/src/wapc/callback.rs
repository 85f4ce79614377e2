//! The router as a waPC host callback, for `wapc::WapcHost` and `wapc::WapcHostAsync`.
//!
//! The guest receives a failed call's [`CallError`] `Display` text through `__host_error`.

use std::error::Error as StdError;

use super::scope;
use crate::{CallContext, CallError, Router};

type BoxError = Box<dyn StdError + Send + Sync>;

impl Router {
    /// This router as a waPC host callback: `__host_call(binding, namespace, operation,
    /// payload)` becomes [`Router::call`].
    ///
    /// The call runs with the context of the guest invocation in progress on this thread
    /// (set by [`GuestRuntime`](super::GuestRuntime) or [`with_call_context`]), so the
    /// invocation's deadline and cancellation reach the providers; without one, a fresh
    /// [`CallContext`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use switchboard::{ProviderError, Router};
    /// let router = Router::new();
    /// router.register("database:kv", "Get", |payload: &[u8]| Ok::<_, ProviderError>(payload.to_vec()))?;
    /// let engine = switchboard::wapc::WasmEngine::shared()?;
    /// let bytes = std::fs::read("guest.wasm")?;
    /// let pre = switchboard::wapc::SwitchboardEngineProviderPre::new(
    ///     &engine, "guest", &bytes, &Default::default())?;
    /// let host = wapc::WapcHost::new(Box::new(pre.provider()), Some(router.host_callback()))?;
    /// let reply = host.call("get", b"key")?;
    /// # Ok(()) }
    /// ```
    pub fn host_callback(&self) -> Box<wapc::HostCallback> {
        let router = self.clone();
        Box::new(move |_id, binding, namespace, operation, payload| {
            let ctx = scope::context().unwrap_or_default();
            let result = router.call(&ctx, binding, namespace, operation, payload);
            #[cfg(feature = "wasmtime-provider")]
            scope::record_host_result(result.as_ref().err());
            result.map_err(|e: CallError| Box::new(e) as BoxError)
        })
    }

    /// The async twin of [`host_callback`](Self::host_callback), for `wapc::WapcHostAsync`.
    ///
    /// Each call gets a fresh [`CallContext`] (an async guest may resume on another thread,
    /// so there is no per-thread invocation to inherit). Providers are synchronous and run
    /// inside the returned future.
    pub fn host_callback_async(&self) -> Box<wapc::HostCallbackAsync> {
        let router = self.clone();
        Box::new(move |_id, binding, namespace, operation, payload| {
            let router = router.clone();
            Box::pin(async move {
                router
                    .call(
                        &CallContext::new(),
                        &binding,
                        &namespace,
                        &operation,
                        &payload,
                    )
                    .map_err(|e| Box::new(e) as BoxError)
            })
        })
    }
}

/// Run `f` (typically `WapcHost::call`) as a guest invocation with `ctx`: host calls the guest
/// makes on this thread through [`Router::host_callback`] get `ctx`, and a
/// [`SwitchboardEngineProvider`](super::SwitchboardEngineProvider) interrupts the guest at
/// `ctx`'s deadline or cancellation.
pub fn with_call_context<R>(ctx: CallContext, f: impl FnOnce() -> R) -> R {
    let scope = scope::enter(ctx);
    let result = f();
    scope.finish();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProviderError;
    use std::time::Duration;

    fn echo_router() -> Router {
        let router = Router::new();
        router
            .register("echo", "echo", |payload: &[u8]| {
                Ok::<_, ProviderError>(payload.to_vec())
            })
            .ok();
        router
            .register("fail", "now", |_: &[u8]| {
                Err::<Vec<u8>, _>(ProviderError::failed("no such key"))
            })
            .ok();
        router
    }

    #[test]
    fn callback_routes_and_returns_the_payload() {
        let callback = echo_router().host_callback();
        let out = callback(1, "b", "echo", "echo", b"ping").ok();
        assert_eq!(out, Some(b"ping".to_vec()));
    }

    #[test]
    fn callback_error_text_is_the_call_error_display() {
        let callback = echo_router().host_callback();
        let err = callback(1, "wapc", "nope", "op", b"")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("no route for namespace 'nope' operation 'op' (binding 'wapc')")
        );
        let err = callback(1, "wapc", "fail", "now", b"")
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("no such key"));
    }

    #[test]
    fn callback_uses_the_invocation_context() {
        let callback = echo_router().host_callback();
        let expired = CallContext::new().with_timeout(Duration::ZERO);
        let err = with_call_context(expired, || callback(1, "b", "echo", "echo", b"x"));
        let err = err.err().and_then(|e| e.downcast::<CallError>().ok());
        assert_eq!(err.map(|e| *e), Some(CallError::DeadlineExceeded));
    }

    #[cfg(feature = "wasmtime-provider")]
    #[test]
    fn callback_records_the_last_host_error() {
        let callback = echo_router().host_callback();
        let scope = scope::enter(CallContext::new());
        let _ = callback(1, "b", "fail", "now", b"");
        let outcome = scope.finish();
        assert!(matches!(
            outcome.last_host_error,
            Some(CallError::ProviderFailed { ref message, .. }) if message == "no such key"
        ));
    }

    #[test]
    fn async_callback_routes() {
        let callback = echo_router().host_callback_async();
        let rt = tokio::runtime::Builder::new_current_thread().build();
        let out = rt.ok().and_then(|rt| {
            rt.block_on(callback(
                1,
                "b".into(),
                "echo".into(),
                "echo".into(),
                b"hey".to_vec(),
            ))
            .ok()
        });
        assert_eq!(out, Some(b"hey".to_vec()));
    }
}
