//! The host side of the waPC protocol as the imports see it: one small trait, the way
//! wasmtime-wasi writes its host functions against `WasiView`.
//!
//! Each import (`imports.rs`) is written once against [`WapcView`]; two hosts implement it: the
//! guest runtime's own `DirectHost` (`direct_host.rs`), and `ModuleStateView`
//! (`module_state.rs`), the adapter for the `wapc::ModuleState` of an engine driven by
//! `wapc::WapcHost`. This module depends on none of them.

use std::borrow::Cow;

/// No waPC host is attached, or it has no invocation in progress where one is needed (the
/// imports report it as `AbiViolation::NoHost`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Detached;

/// The operation and payload of the invocation in progress.
#[derive(Debug)]
pub(crate) struct GuestRequest<'a> {
    /// The operation name.
    pub(crate) operation: Cow<'a, [u8]>,
    /// The payload.
    pub(crate) payload: Cow<'a, [u8]>,
}

/// What the waPC imports need from a host.
pub(crate) trait WapcView {
    /// `__guest_request`: the invocation's operation and payload; `Ok(None)` when the host has
    /// none to give (the guest's buffers are left as they are).
    fn guest_request(&self) -> Result<Option<GuestRequest<'_>>, Detached>;

    /// `__host_call`: route one call; 1 on success, 0 on failure (its error text is then what
    /// `__host_error` returns).
    fn host_call(
        &mut self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> Result<i32, Detached>;

    /// `__host_response`: hands the last host call's answer, if it succeeded, to `write`.
    /// A visitor rather than a returned slice: wapc's `ModuleState` only lends its buffer
    /// inside a closure, and copying it out cost a 4 KiB response ~190 ns per call.
    fn with_host_response(&self, write: &mut dyn FnMut(&[u8])) -> Result<(), Detached>;

    /// `__host_response_len`: the length of that answer (0 without one).
    fn host_response_len(&self) -> Result<usize, Detached>;

    /// `__host_error`: the last host call's error text, if it failed.
    fn host_error(&self) -> Result<Option<Cow<'_, str>>, Detached>;

    /// `__host_error_len`: the length of that text (0 without one).
    fn host_error_len(&self) -> Result<usize, Detached>;

    /// `__guest_response`: the guest's answer.
    fn set_guest_response(&mut self, response: Vec<u8>) -> Result<(), Detached>;

    /// `__guest_error`: the guest's error text.
    fn set_guest_error(&mut self, message: String) -> Result<(), Detached>;
}
