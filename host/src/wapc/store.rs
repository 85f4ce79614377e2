//! What one guest instance's `Store` holds: who answers its waPC imports, its WASI context, its
//! limiter, and the bounds of the invocation in progress.
//!
//! The rest of the engine depends on this module, and it only on the two hosts it holds and
//! their trait: `store` <- `imports` <- `instance` <- `compile` <- `runtime`.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::{Memory, StoreContextMut, UpdateDeadline};
use wasmtime_wasi::p1::WasiP1Ctx;

use super::direct_host::DirectHost;
use super::module_state::ModuleStateView;
use super::view::{Detached, GuestRequest, WapcView};
use crate::sandbox::epoch;
use crate::sandbox::limits::Limiter;
use crate::CancelToken;

/// Per-store state of one guest instance.
pub(crate) struct StoreData {
    pub(crate) host: HostState,
    pub(crate) memory: Option<Memory>,
    pub(crate) guest: Arc<str>,
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: Limiter,
    /// Real deadline and cancellation of what runs now, checked at every epoch tick.
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: Option<CancelToken>,
}

/// Who answers the guest's waPC host imports.
// It lives inside the store's own allocation: boxing the large variant would only add a
// pointer chase to every import.
#[allow(clippy::large_enum_variant)]
pub(crate) enum HostState {
    /// Nobody yet: a provider that `WapcHost::new` has not initialised.
    Unset,
    /// A `wapc::WapcHost` drives the guest through wapc's `ModuleState`.
    Wapc(ModuleStateView),
    /// The guest runtime drives the guest itself (`direct.rs`).
    Direct(DirectHost),
}

impl StoreData {
    /// The host the imports talk to; `None` before one is attached.
    pub(crate) fn view(&mut self) -> Option<&mut HostState> {
        match self.host {
            HostState::Unset => None,
            _ => Some(&mut self.host),
        }
    }

    /// The runtime's own host, if the runtime drives this instance.
    pub(crate) fn direct(&mut self) -> Option<&mut DirectHost> {
        match &mut self.host {
            HostState::Direct(host) => Some(host),
            _ => None,
        }
    }
}

/// Static dispatch to the attached host: every import is written once against [`WapcView`], and
/// this one `match` per method lets the compiler inline the runtime's own host into each import
/// (through `dyn WapcView` the pooled runtime's round trip was ~50 ns slower).
impl WapcView for HostState {
    fn guest_request(&self) -> Result<Option<GuestRequest<'_>>, Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.guest_request(),
            HostState::Direct(host) => host.guest_request(),
        }
    }

    fn host_call(
        &mut self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> Result<i32, Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.host_call(binding, namespace, operation, payload),
            HostState::Direct(host) => host.host_call(binding, namespace, operation, payload),
        }
    }

    fn with_host_response(&self, write: &mut dyn FnMut(&[u8])) -> Result<(), Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.with_host_response(write),
            HostState::Direct(host) => host.with_host_response(write),
        }
    }

    fn host_response_len(&self) -> Result<usize, Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.host_response_len(),
            HostState::Direct(host) => host.host_response_len(),
        }
    }

    fn host_error(&self) -> Result<Option<Cow<'_, str>>, Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.host_error(),
            HostState::Direct(host) => host.host_error(),
        }
    }

    fn host_error_len(&self) -> Result<usize, Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.host_error_len(),
            HostState::Direct(host) => host.host_error_len(),
        }
    }

    fn set_guest_response(&mut self, response: Vec<u8>) -> Result<(), Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.set_guest_response(response),
            HostState::Direct(host) => host.set_guest_response(response),
        }
    }

    fn set_guest_error(&mut self, message: String) -> Result<(), Detached> {
        match self {
            HostState::Unset => Err(Detached),
            HostState::Wapc(host) => host.set_guest_error(message),
            HostState::Direct(host) => host.set_guest_error(message),
        }
    }
}

/// The store's epoch callback: stop the guest at the invocation's deadline or cancellation.
pub(crate) fn on_epoch(ctx: StoreContextMut<'_, StoreData>) -> wasmtime::Result<UpdateDeadline> {
    let data = ctx.data();
    epoch::check(data.deadline, data.cancel.as_ref())
}
