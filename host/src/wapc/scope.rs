//! The guest invocation in progress on this thread.
//!
//! wapc's `HostCallback` receives only `(id, binding, namespace, operation, payload)`, and
//! `WapcHost::call` flattens engine errors into strings. A synchronous guest runs on the
//! calling thread, so the runtime publishes the invocation's [`CallContext`] here for the
//! host callback and the engine, and they report back the last host-call error and the
//! engine fault. Scopes nest (a provider may invoke another guest on the same thread).

use std::cell::RefCell;

use super::error::Fault;
use crate::{CallContext, CallError};

#[derive(Debug, Default)]
struct Invocation {
    ctx: CallContext,
    last_host_error: Option<CallError>,
    fault: Option<Fault>,
}

thread_local! {
    static CURRENT: RefCell<Option<Invocation>> = const { RefCell::new(None) };
}

/// What an invocation left behind.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The error of the guest's last host call, if that call failed.
    pub(crate) last_host_error: Option<CallError>,
    /// The engine fault that ended the invocation, if any.
    pub(crate) fault: Option<Fault>,
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
            ..Invocation::default()
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
        ended.map_or_else(Outcome::default, |inv| Outcome {
            last_host_error: inv.last_host_error,
            fault: inv.fault,
        })
    }
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
pub(crate) fn record_host_result(error: Option<&CallError>) {
    CURRENT.with_borrow_mut(|current| {
        if let Some(inv) = current.as_mut() {
            inv.last_host_error = error.cloned();
        }
    });
}

/// Remember the engine fault that ended the invocation.
pub(crate) fn record_fault(fault: &Fault) {
    CURRENT.with_borrow_mut(|current| {
        if let Some(inv) = current.as_mut() {
            inv.fault = Some(fault.clone());
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
        record_host_result(Some(&CallError::Canceled));
        {
            let inner = enter(CallContext::new());
            assert_eq!(context().and_then(|c| c.deadline()), None);
            record_fault(&Fault::DeadlineExceeded);
            let outcome = inner.finish();
            assert_eq!(outcome.fault, Some(Fault::DeadlineExceeded));
            assert_eq!(outcome.last_host_error, None);
        }
        assert_eq!(context().and_then(|c| c.deadline()), Some(outer_deadline));
        let outcome = outer.finish();
        assert_eq!(outcome.last_host_error, Some(CallError::Canceled));
        assert_eq!(outcome.fault, None);
        assert!(context().is_none());
    }

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
