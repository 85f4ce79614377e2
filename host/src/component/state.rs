//! What each instance's `Store` holds: its WASI context, its resource limiter, and the scope
//! of the call it is serving (for the `host` import and for epoch checks).

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::UpdateDeadline;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::switchboard::provider::{host, types};
use super::config::ComponentConfig;
use crate::sandbox::epoch;
use crate::sandbox::grants;
use crate::sandbox::limits::{Limiter, Limits, TableOverrun};
use crate::wasi_output::{WasiOutput, Writer, COMPONENT_LOG_TARGET, MAX_LINE_BYTES};
use crate::{CallContext, CallError, CancelToken, Router};

/// The call an instance is serving: what `host.call` routes with, and what the epoch
/// callback checks.
pub(crate) struct CallScope {
    pub(crate) router: Router,
    pub(crate) ctx: CallContext,
}

/// The data of one instance's `Store`.
pub(crate) struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    provider: Arc<str>,
    host_calls: bool,
    /// Set for the duration of a call, cleared after it (so no `Router` clone outlives the
    /// call: a route holding its own router would never be freed).
    pub(crate) scope: Option<CallScope>,
    /// The binding of the running call (a reused buffer: no allocation per call).
    pub(crate) binding: String,
    /// Real deadline and cancellation of the running call, checked at every epoch tick.
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: Option<CancelToken>,
}

impl InstanceState {
    /// A fresh state with exactly the configured grants.
    pub(crate) fn new(provider: Arc<str>, config: &ComponentConfig) -> Result<Self, String> {
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdout(WasiOutput::new(
                Writer::Component,
                provider.clone(),
                "stdout",
            ))
            .stderr(WasiOutput::new(
                Writer::Component,
                provider.clone(),
                "stderr",
            ))
            .envs(&config.grants.env)
            .args(&config.grants.args)
            // Explicit even where these are the defaults: no network of any kind.
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }));
        grants::preopen_read_only(&mut builder, &config.grants.read_only_dirs)?;
        Ok(InstanceState {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(Limits {
                max_memory_bytes: config.max_memory_bytes,
                max_table_elements: config.max_table_elements,
                table_overrun: TableOverrun::Trap,
                max_instances: Some(config.max_instances),
            }),
            provider,
            host_calls: config.grants.host_calls,
            scope: None,
            binding: String::new(),
            deadline: None,
            cancel: None,
        })
    }

    /// The epoch callback's decision: keep running one more tick, or stop the call.
    pub(crate) fn on_epoch(&self) -> wasmtime::Result<UpdateDeadline> {
        epoch::check(self.deadline, self.cancel.as_ref())
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for InstanceState {}

impl host::Host for InstanceState {
    fn log(&mut self, level: types::Level, message: String) {
        let provider = &*self.provider;
        let message = clip(&message);
        match level {
            types::Level::Trace => {
                tracing::trace!(target: COMPONENT_LOG_TARGET, provider, "{message}")
            }
            types::Level::Debug => {
                tracing::debug!(target: COMPONENT_LOG_TARGET, provider, "{message}")
            }
            types::Level::Info => {
                tracing::info!(target: COMPONENT_LOG_TARGET, provider, "{message}")
            }
            types::Level::Warn => {
                tracing::warn!(target: COMPONENT_LOG_TARGET, provider, "{message}")
            }
            types::Level::Error => {
                tracing::error!(target: COMPONENT_LOG_TARGET, provider, "{message}")
            }
        }
    }

    fn call(
        &mut self,
        namespace: String,
        operation: String,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, types::CallError> {
        if !self.host_calls {
            return Err(types::CallError::NotGranted);
        }
        let Some(scope) = &self.scope else {
            // Only reachable if a component calls the host outside `handle` (e.g. from a
            // start function): there is no call to attach it to.
            return Err(types::CallError::Other("no call in progress".into()));
        };
        scope
            .router
            .call(
                &scope.ctx.child(),
                &self.binding,
                &namespace,
                &operation,
                &payload,
            )
            .map_err(to_wit_call_error)
    }
}

/// At most [`MAX_LINE_BYTES`] of a log message, cut on a character boundary.
fn clip(message: &str) -> &str {
    let mut end = message.len().min(MAX_LINE_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

/// A router error as the component sees it.
pub(crate) fn to_wit_call_error(err: CallError) -> types::CallError {
    match err {
        CallError::NotFound { .. } => types::CallError::NotFound,
        CallError::UnknownOperation(_) => types::CallError::UnknownOperation,
        CallError::InvalidInput(message) => types::CallError::InvalidInput(message),
        CallError::ProviderFailed { message, payload } => {
            types::CallError::Failure(types::Failure { message, payload })
        }
        other => types::CallError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_log_messages_are_clipped_on_a_char_boundary() {
        assert_eq!(clip("short"), "short");
        let long = format!("{}é", "a".repeat(MAX_LINE_BYTES - 1));
        assert_eq!(clip(&long).len(), MAX_LINE_BYTES - 1);
    }

    #[test]
    fn router_errors_keep_their_kind_for_the_component() {
        assert_eq!(
            to_wit_call_error(CallError::ProviderFailed {
                message: "m".into(),
                payload: Some(vec![1])
            }),
            types::CallError::Failure(types::Failure {
                message: "m".into(),
                payload: Some(vec![1])
            })
        );
        assert_eq!(
            to_wit_call_error(CallError::DepthExceeded { max: 16 }),
            types::CallError::Other("call depth limit of 16 exceeded".into())
        );
    }
}
