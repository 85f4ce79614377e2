//! [`WapcView`] for an engine driven by `wapc::WapcHost`: its `ModuleState` answers.

use std::borrow::Cow;
use std::sync::Arc;

use wapc::ModuleState;

use super::view::{Detached, GuestRequest, WapcView};

/// The `ModuleState` wapc's `WapcHost` gave the engine at `init`.
pub(crate) struct ModuleStateView(pub(crate) Arc<ModuleState>);

impl WapcView for ModuleStateView {
    fn guest_request(&self) -> Result<Option<GuestRequest<'_>>, Detached> {
        Ok(self.0.get_guest_request().map(|invocation| GuestRequest {
            operation: Cow::Owned(invocation.operation.into_bytes()),
            payload: Cow::Owned(invocation.msg),
        }))
    }

    fn host_call(
        &mut self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> Result<i32, Detached> {
        // wapc's ModuleState never returns Err here; treat one as a failed call (0) anyway.
        Ok(self
            .0
            .do_host_call(binding, namespace, operation, payload)
            .unwrap_or(0))
    }

    fn with_host_response(&self, write: &mut dyn FnMut(&[u8])) -> Result<(), Detached> {
        self.0.with_host_response(|bytes| write(bytes));
        Ok(())
    }

    fn host_response_len(&self) -> Result<usize, Detached> {
        Ok(self.0.host_response_len())
    }

    fn host_error(&self) -> Result<Option<Cow<'_, str>>, Detached> {
        Ok(self.0.get_host_error().map(Cow::Owned))
    }

    fn host_error_len(&self) -> Result<usize, Detached> {
        Ok(self.0.get_host_error().map_or(0, |error| error.len()))
    }

    fn set_guest_response(&mut self, response: Vec<u8>) -> Result<(), Detached> {
        self.0.set_guest_response(response);
        Ok(())
    }

    fn set_guest_error(&mut self, message: String) -> Result<(), Detached> {
        self.0.set_guest_error(message);
        Ok(())
    }
}
