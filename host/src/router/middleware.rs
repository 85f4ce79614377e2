//! Pre-call middleware (allow, deny, rewrite) and post-call observers.
//!
//! Both are tiny traits that closures implement. They are composed once, on the
//! [`RouterBuilder`](crate::RouterBuilder), in the order they were added; a router without them
//! pays nothing for them on the call path.

use std::time::{Duration, SystemTime};

use crate::{CallContext, CallError, RouteKey};

/// The names of a call, as middleware sees them.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    /// Deadline, cancellation and depth.
    pub ctx: &'a CallContext,
    /// The waPC binding.
    pub binding: &'a str,
    /// The namespace.
    pub namespace: &'a str,
    /// The operation.
    pub operation: &'a str,
    /// The route that matched.
    pub route: &'a RouteKey,
}

/// What a pre-call middleware decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreOutcome {
    /// Go on with the payload unchanged.
    Continue,
    /// Go on with this payload instead.
    Rewrite(Vec<u8>),
    /// Refuse the call with a reason; the provider does not run.
    Deny(String),
}

/// Runs before the provider, after the route was found.
pub trait PreCall: Send + Sync + 'static {
    /// Decide about one call.
    fn before(&self, call: &CallInfo<'_>, payload: &[u8]) -> PreOutcome;
}

impl<F> PreCall for F
where
    F: Fn(&CallInfo<'_>, &[u8]) -> PreOutcome + Send + Sync + 'static,
{
    fn before(&self, call: &CallInfo<'_>, payload: &[u8]) -> PreOutcome {
        self(call, payload)
    }
}

/// The record of one call that reached a provider, handed to every [`PostCall`] observer.
#[derive(Debug, Clone, Copy)]
pub struct CallResult<'a> {
    /// The waPC binding.
    pub binding: &'a str,
    /// The namespace.
    pub namespace: &'a str,
    /// The operation.
    pub operation: &'a str,
    /// The route that served the call.
    pub route: &'a RouteKey,
    /// The payload the provider received (after any rewrite).
    pub input: &'a [u8],
    /// The provider's answer or the error the caller receives.
    pub outcome: Result<&'a [u8], &'a CallError>,
    /// Wall-clock time the provider was entered.
    pub started: SystemTime,
    /// How long the provider took (monotonic clock).
    pub duration: Duration,
}

/// Observes every call that reached a provider, success or failure.
pub trait PostCall: Send + Sync + 'static {
    /// Observe one finished call.
    fn after(&self, result: &CallResult<'_>);
}

impl<F> PostCall for F
where
    F: Fn(&CallResult<'_>) + Send + Sync + 'static,
{
    fn after(&self, result: &CallResult<'_>) {
        self(result)
    }
}
