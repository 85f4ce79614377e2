//! The guest invocation in progress on this thread, for guests driven by `wapc::WapcHost`.
//!
//! wapc's `HostCallback` receives only `(id, binding, namespace, operation, payload)`. A
//! synchronous guest runs on the calling thread, so [`with_call_context`] (and the runtime,
//! for the wasmtime-provider engine) publishes the invocation's [`CallContext`] here for the
//! host callback and for Switchboard's engine. With the `wasmtime-provider` feature the host
//! callback also reports back the last host-call error, since wasmtime-provider flattens
//! everything into strings. Scopes nest (a provider may invoke another guest on the same
//! thread).
//!
//! [`with_call_context`]: super::with_call_context

use std::cell::RefCell;

use crate::CallContext;
#[cfg(feature = "wasmtime-provider")]
use crate::CallError;

#[derive(Debug, Default)]
struct Invocation {
    ctx: CallContext,
    #[cfg(feature = "wasmtime-provider")]
    last_host_error: Option<CallError>,
}

thread_local! {
    static CURRENT: RefCell<Option<Invocation>> = const { RefCell::new(None) };
}

/// What an invocation left behind.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The error of the guest's last host call, if that call failed.
    #[cfg(feature = "wasmtime-provider")]
    pub(crate) last_host_error: Option<CallError>,
}

/// Restores the enclosing invocation (if any) when dropped.
#[derive(Debug)]
pub(crate) struct Scope {
    previous: Option<Invocation>,
    finished: bool,
}

/// Make `ctx` the current invocation on this thread until the returned scope ends.
pub(crate) fn enter(ctx: CallContext) -> Scope {
    let previous = CURRENT.with_borrow_mut(|current| {
        current.replace(Invocation {
            ctx,
            #[cfg(feature = "wasmtime-provider")]
            last_host_error: None,
        })
    });
    Scope {
        previous,
        finished: false,
    }
}

impl Scope {
    /// End the invocation and return what it recorded.
    pub(crate) fn finish(mut self) -> Outcome {
        self.finished = true;
        let previous = self.previous.take();
        let ended = CURRENT.with_borrow_mut(|current| std::mem::replace(current, previous));
        outcome(ended)
    }
}

#[cfg(feature = "wasmtime-provider")]
fn outcome(ended: Option<Invocation>) -> Outcome {
    ended.map_or_else(Outcome::default, |inv| Outcome {
        last_host_error: inv.last_host_error,
    })
}

#[cfg(not(feature = "wasmtime-provider"))]
fn outcome(_ended: Option<Invocation>) -> Outcome {
    Outcome::default()
}

impl Drop for Scope {
    fn drop(&mut self) {
        if !self.finished {
            let previous = self.previous.take();
            CURRENT.with_borrow_mut(|current| *current = previous);
        }
    }
}

/// The current invocation's context (a fresh one outside any invocation).
pub(crate) fn context() -> Option<CallContext> {
    CURRENT.with_borrow(|current| current.as_ref().map(|inv| inv.ctx.clone()))
}

/// Remember the outcome of a host call: a failure is kept, a success clears it.
#[cfg(feature = "wasmtime-provider")]
pub(crate) fn record_host_result(error: Option<&CallError>) {
    CURRENT.with_borrow_mut(|current| {
        if let Some(inv) = current.as_mut() {
            inv.last_host_error = error.cloned();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn scopes_nest_and_restore() {
        assert!(context().is_none());
        let outer_deadline = Instant::now() + Duration::from_secs(60);
        let outer = enter(CallContext::new().with_deadline(outer_deadline));
        {
            let inner = enter(CallContext::new());
            assert_eq!(context().and_then(|c| c.deadline()), None);
            inner.finish();
        }
        assert_eq!(context().and_then(|c| c.deadline()), Some(outer_deadline));
        outer.finish();
        assert!(context().is_none());
    }

    #[cfg(feature = "wasmtime-provider")]
    #[test]
    fn host_errors_stay_in_their_scope() {
        let outer = enter(CallContext::new());
        record_host_result(Some(&CallError::Canceled));
        let inner = enter(CallContext::new());
        assert_eq!(inner.finish().last_host_error, None);
        assert_eq!(outer.finish().last_host_error, Some(CallError::Canceled));
    }

    #[cfg(feature = "wasmtime-provider")]
    #[test]
    fn success_clears_the_last_host_error() {
        let scope = enter(CallContext::new());
        record_host_result(Some(&CallError::DeadlineExceeded));
        record_host_result(None);
        assert_eq!(scope.finish().last_host_error, None);
    }

    #[test]
    fn dropped_scope_restores_previous() {
        let outer = enter(CallContext::new().with_timeout(Duration::from_secs(5)));
        drop(enter(CallContext::new()));
        assert!(context().and_then(|c| c.deadline()).is_some());
        drop(outer);
        assert!(context().is_none());
    }
}
