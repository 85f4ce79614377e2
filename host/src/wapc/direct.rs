//! An instance of [`SwitchboardEngineProvider`] driven by the guest runtime itself, without
//! `wapc::WapcHost`: its host is a [`DirectHost`](super::direct_host::DirectHost), whose
//! `__host_call`s go straight to the [`Router`](crate::Router).
//!
//! Why not `WapcHost`: its `ModuleState` keeps each call's request, response and host answer
//! until the *next* call replaces them. When a pooled instance changes threads, the new
//! thread frees buffers the old one allocated; glibc keeps such chunks in the freeing
//! thread's cache and hands them out again, right next to the old thread's own busy
//! allocations, so two threads end up writing one cache line on every call (measured: two
//! threads sometimes ran at 1.45x one thread instead of 1.9x, for the whole run). Here an
//! invocation frees everything it allocated before it returns, on its own thread; it also
//! skips wapc's five lock round trips and the copies of the request and response.

use std::sync::Arc;

use super::error::Fault;
use super::instance::SwitchboardEngineProvider;
use crate::{CallContext, CallError};

/// What wapc's `WapcHost::call` reports when a guest fails without calling `__guest_error`.
const NO_ERROR_MESSAGE: &str = "No error message set for call failure";
/// What it reports when a guest succeeds without calling `__guest_response`.
const NO_RESPONSE: &str = "No error message OR response set for call success";

/// Why a direct invocation failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The engine stopped the guest (trap, deadline, memory cap) or could not make it.
    Fault(Fault),
    /// The guest reported failure; the last host call's error if that one failed too.
    Guest {
        message: String,
        last_host_error: Option<CallError>,
    },
}

/// One pooled guest instance driven directly.
pub(crate) struct DirectInstance {
    provider: SwitchboardEngineProvider,
    /// The guest's name for [`CallContext::caller`], moved into each invocation's context and
    /// back, so invocations never touch a reference count (see the module docs: the instance
    /// may have been made on another thread).
    caller: Option<Arc<str>>,
}

impl DirectInstance {
    /// Make and initialise an instance; its init functions' host calls run under `ctx`.
    pub(crate) fn new(
        mut provider: SwitchboardEngineProvider,
        ctx: &CallContext,
    ) -> Result<Self, Fault> {
        let ctx = ctx.clone().with_caller(provider.guest());
        provider.direct_host(&ctx)?;
        Ok(DirectInstance {
            provider,
            caller: ctx.into_caller(),
        })
    }

    /// Invoke `operation` with `payload` under `ctx`, whose deadline the runtime has already
    /// capped by the guest's invoke timeout.
    pub(crate) fn invoke(
        &mut self,
        ctx: CallContext,
        operation: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, Failure> {
        let limits = (ctx.deadline(), ctx.cancel_token().cloned());
        let caller = self
            .caller
            .take()
            .unwrap_or_else(|| Arc::from(self.provider.guest()));
        let ctx = ctx.with_caller(caller);
        let (Ok(op_len), Ok(msg_len)) =
            (i32::try_from(operation.len()), i32::try_from(payload.len()))
        else {
            self.caller = ctx.into_caller();
            return Err(Failure::Guest {
                message: "the operation or payload is larger than the waPC ABI allows".into(),
                last_host_error: None,
            });
        };
        let host = match self.provider.direct_host(&ctx) {
            Ok(host) => host,
            Err(fault) => {
                self.caller = ctx.into_caller();
                return Err(Failure::Fault(fault));
            }
        };
        host.begin(ctx, operation, payload);
        let code = self.provider.guest_call(op_len, msg_len, limits);
        // After a fault the instance (and the invocation with it) is gone already.
        let ended = match self.provider.direct_host_if_live() {
            Some(host) => host.end(),
            None => None,
        };
        let Some(inv) = ended else {
            return Err(match code {
                Err(fault) => Failure::Fault(fault),
                Ok(_) => Failure::Fault(Fault::Instantiation(
                    "the guest instance lost its invocation state".into(),
                )),
            });
        };
        self.caller = inv.ctx.into_caller();
        match code {
            Err(fault) => Err(Failure::Fault(fault)),
            Ok(0) => Err(Failure::Guest {
                message: inv
                    .guest_error
                    .unwrap_or_else(|| NO_ERROR_MESSAGE.to_owned()),
                last_host_error: inv.last_host_error,
            }),
            Ok(_) => match inv.guest_response {
                Some(response) => Ok(response),
                None => Err(Failure::Guest {
                    message: inv.guest_error.unwrap_or_else(|| NO_RESPONSE.to_owned()),
                    last_host_error: inv.last_host_error,
                }),
            },
        }
    }
}
