//! Per-call context: deadline, cancellation and re-entrancy depth.
//!
//! Every routed call carries a [`CallContext`]. Native providers read it (through
//! [`Request::ctx`](crate::Request)) to stop early; sandboxed providers get the remaining time
//! as their epoch deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::CallError;

/// A cheap, cloneable cancellation flag shared between a caller and the calls it starts.
///
/// ```
/// use switchboard::{CallContext, CancelToken};
/// let token = CancelToken::new();
/// let ctx = CallContext::new().with_cancel(token.clone());
/// token.cancel();
/// assert!(ctx.is_canceled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not canceled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancel every call holding this token. Idempotent.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The deadline, cancellation token and nesting depth of one call.
///
/// `CallContext::new()` has no deadline and no token and allocates nothing, so the common path
/// pays only for what a caller asks for.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    deadline: Option<Instant>,
    cancel: Option<CancelToken>,
    depth: u32,
    caller: Option<Arc<str>>,
    traceparent: Option<Arc<str>>,
}

impl CallContext {
    /// A context without deadline or cancellation, at depth 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set an absolute deadline. An earlier existing deadline is kept: a callee never gets
    /// more time than its caller.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(match self.deadline {
            Some(existing) => existing.min(deadline),
            None => deadline,
        });
        self
    }

    /// Set a deadline `timeout` from now (see [`with_deadline`](Self::with_deadline)).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.with_deadline(deadline),
            // A timeout too large to represent is no deadline at all.
            None => self,
        }
    }

    /// Attach a cancellation token.
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Name who is calling: the waPC guest runtime sets its guest's name for every invocation,
    /// so providers can log and authorise per guest.
    pub fn with_caller(mut self, caller: impl Into<Arc<str>>) -> Self {
        self.caller = Some(caller.into());
        self
    }

    /// Attach a W3C `traceparent` (`00-<trace id>-<parent id>-<flags>`): the trace this call
    /// belongs to. Remote routes forward it so one trace spans the fleet.
    pub fn with_traceparent(mut self, traceparent: impl Into<Arc<str>>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }

    /// The W3C `traceparent` of the call, if the caller set one.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    /// Give up the caller's name (the guest runtime moves it between invocations).
    pub(crate) fn into_caller(self) -> Option<Arc<str>> {
        self.caller
    }

    /// The caller's name (the guest's, for calls made by a waPC guest), if known.
    pub fn caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (`Some(ZERO)` once it passed), or `None` without deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The cancellation token, if any.
    pub fn cancel_token(&self) -> Option<&CancelToken> {
        self.cancel.as_ref()
    }

    /// Whether the call was canceled.
    pub fn is_canceled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_canceled)
    }

    /// How many routed calls enclose this one (0 for a call made by a guest or the host).
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// `Err(Canceled)` or `Err(DeadlineExceeded)` if the call should not go on.
    ///
    /// # Errors
    ///
    /// [`CallError::Canceled`] once the token is canceled, else
    /// [`CallError::DeadlineExceeded`] once the deadline has passed.
    pub fn check(&self) -> Result<(), CallError> {
        if self.is_canceled() {
            return Err(CallError::Canceled);
        }
        if let Some(deadline) = self.deadline {
            if Instant::now() >= deadline {
                return Err(CallError::DeadlineExceeded);
            }
        }
        Ok(())
    }

    /// The context of a call made from inside this one: same deadline and token, one deeper.
    pub fn child(&self) -> Self {
        CallContext {
            deadline: self.deadline,
            cancel: self.cancel.clone(),
            depth: self.depth.saturating_add(1),
            caller: self.caller.clone(),
            traceparent: self.traceparent.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_keeps_the_trace() {
        let ctx = CallContext::new()
            .with_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assert_eq!(
            ctx.child().traceparent(),
            Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        );
        assert_eq!(CallContext::new().traceparent(), None);
    }

    #[test]
    fn fresh_context_passes_check() {
        assert_eq!(CallContext::new().check(), Ok(()));
        assert_eq!(CallContext::new().remaining(), None);
    }

    #[test]
    fn expired_deadline_is_reported() {
        let ctx = CallContext::new().with_deadline(Instant::now() - Duration::from_millis(1));
        assert_eq!(ctx.check(), Err(CallError::DeadlineExceeded));
        assert_eq!(ctx.remaining(), Some(Duration::ZERO));
    }

    #[test]
    fn cancel_wins_over_deadline() {
        let token = CancelToken::new();
        let ctx = CallContext::new()
            .with_deadline(Instant::now() - Duration::from_millis(1))
            .with_cancel(token.clone());
        token.cancel();
        assert_eq!(ctx.check(), Err(CallError::Canceled));
    }

    #[test]
    fn deadlines_only_shrink() {
        let soon = Instant::now() + Duration::from_secs(1);
        let ctx = CallContext::new()
            .with_deadline(soon)
            .with_timeout(Duration::from_secs(3600));
        assert_eq!(ctx.deadline(), Some(soon));
    }

    #[test]
    fn child_inherits_and_deepens() {
        let token = CancelToken::new();
        let ctx = CallContext::new().with_cancel(token.clone());
        let child = ctx.child().child();
        assert_eq!(child.depth(), 2);
        token.cancel();
        assert!(child.is_canceled());
    }

    #[test]
    fn caller_is_kept_for_nested_calls() {
        let ctx = CallContext::new().with_caller("billing");
        assert_eq!(ctx.child().caller(), Some("billing"));
        assert_eq!(CallContext::new().caller(), None);
    }

    #[test]
    fn huge_timeout_means_no_deadline() {
        assert_eq!(
            CallContext::new().with_timeout(Duration::MAX).deadline(),
            None
        );
    }
}
