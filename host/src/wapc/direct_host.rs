//! The guest runtime's own waPC host: the state of one instance's invocation, kept in the
//! instance's store, with its `__host_call`s going straight to the [`Router`] (see
//! `direct.rs` for why the runtime does not use `wapc::WapcHost`).

use std::borrow::Cow;

use super::view::{Detached, GuestRequest, WapcView};
use crate::{CallContext, CallError, Router};

/// The host side of the waPC protocol for one instance (lives in the instance's store).
pub(crate) struct DirectHost {
    router: Router,
    call: Option<Invocation>,
}

/// The state of the invocation in progress: the request, and what guest and host answered.
pub(crate) struct Invocation {
    pub(crate) ctx: CallContext,
    /// The operation name followed by the payload.
    request: Vec<u8>,
    op_len: usize,
    pub(crate) guest_response: Option<Vec<u8>>,
    pub(crate) guest_error: Option<String>,
    host_response: Option<Vec<u8>>,
    host_error: Option<String>,
    pub(crate) last_host_error: Option<CallError>,
}

impl DirectHost {
    pub(crate) fn new(router: Router) -> Self {
        DirectHost { router, call: None }
    }

    /// Start an invocation of `operation` with `payload` under `ctx`.
    pub(crate) fn begin(&mut self, ctx: CallContext, operation: &str, payload: &[u8]) {
        let mut request = Vec::with_capacity(operation.len() + payload.len());
        request.extend_from_slice(operation.as_bytes());
        request.extend_from_slice(payload);
        self.call = Some(Invocation {
            ctx,
            request,
            op_len: operation.len(),
            guest_response: None,
            guest_error: None,
            host_response: None,
            host_error: None,
            last_host_error: None,
        });
    }

    /// End the invocation, handing back its state.
    pub(crate) fn end(&mut self) -> Option<Invocation> {
        self.call.take()
    }

    /// The invocation in progress (`Detached` outside one: the guest called an import while
    /// not invoked, e.g. from a wasm start function of an instance made without a context).
    fn current(&self) -> Result<&Invocation, Detached> {
        self.call.as_ref().ok_or(Detached)
    }
}

impl WapcView for DirectHost {
    fn guest_request(&self) -> Result<Option<GuestRequest<'_>>, Detached> {
        let inv = self.current()?;
        let (operation, payload) = inv.request.split_at(inv.op_len);
        Ok(Some(GuestRequest {
            operation: Cow::Borrowed(operation),
            payload: Cow::Borrowed(payload),
        }))
    }

    fn host_call(
        &mut self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> Result<i32, Detached> {
        let DirectHost { router, call } = self;
        let inv = call.as_mut().ok_or(Detached)?;
        inv.host_response = None;
        inv.host_error = None;
        Ok(
            match router.call(&inv.ctx, binding, namespace, operation, payload) {
                Ok(response) => {
                    inv.host_response = Some(response);
                    inv.last_host_error = None;
                    1
                }
                Err(error) => {
                    inv.host_error = Some(error.to_string());
                    inv.last_host_error = Some(error);
                    0
                }
            },
        )
    }

    fn with_host_response(&self, write: &mut dyn FnMut(&[u8])) -> Result<(), Detached> {
        if let Some(bytes) = self.current()?.host_response.as_deref() {
            write(bytes);
        }
        Ok(())
    }

    fn host_response_len(&self) -> Result<usize, Detached> {
        Ok(self.current()?.host_response.as_ref().map_or(0, Vec::len))
    }

    fn host_error(&self) -> Result<Option<Cow<'_, str>>, Detached> {
        Ok(self.current()?.host_error.as_deref().map(Cow::Borrowed))
    }

    fn host_error_len(&self) -> Result<usize, Detached> {
        Ok(self.current()?.host_error.as_ref().map_or(0, String::len))
    }

    fn set_guest_response(&mut self, response: Vec<u8>) -> Result<(), Detached> {
        // Outside an invocation there is nobody to answer: the response is dropped.
        if let Some(inv) = self.call.as_mut() {
            inv.guest_response = Some(response);
        }
        Ok(())
    }

    fn set_guest_error(&mut self, message: String) -> Result<(), Detached> {
        if let Some(inv) = self.call.as_mut() {
            inv.guest_error = Some(message);
        }
        Ok(())
    }
}
