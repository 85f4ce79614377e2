//! What one guest instance's `Store` holds: who answers its waPC imports, its WASI context, its
//! limiter, and the bounds of the invocation in progress.
//!
//! The rest of the engine depends on this module, and it only on the two hosts it holds and
//! their trait: `store` <- `imports` <- `instance` <- `compile` <- `runtime`.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::{Memory, StoreContextMut, UpdateDeadline};
use wasmtime_wasi::p1::WasiP1Ctx;

use super::direct_host::DirectHost;
use super::module_state::ModuleStateView;
use super::view::WapcView;
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
    pub(crate) fn view(&mut self) -> Option<&mut dyn WapcView> {
        match &mut self.host {
            HostState::Unset => None,
            HostState::Wapc(host) => Some(host),
            HostState::Direct(host) => Some(host),
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

/// The store's epoch callback: stop the guest at the invocation's deadline or cancellation.
pub(crate) fn on_epoch(ctx: StoreContextMut<'_, StoreData>) -> wasmtime::Result<UpdateDeadline> {
    let data = ctx.data();
    epoch::check(data.deadline, data.cancel.as_ref())
}
