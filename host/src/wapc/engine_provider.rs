//! Switchboard's engine behind wapc's public [`WebAssemblyEngineProvider`], for embedders
//! that drive guests with `wapc::WapcHost`, without wasmtime-provider 2.25's defects:
//!
//! - host imports are bounds-checked ([`imports`](super::imports)): a bad guest pointer traps
//!   the guest, never the host;
//! - init calls `_initialize` (TinyGo reactors), then `_start`, then `wapc_init`;
//! - deadlines use epochs; each tick the store checks the invocation's real deadline and
//!   cancellation token, so the caller's [`CallContext`](crate::CallContext) (published with
//!   [`with_call_context`](super::with_call_context)) reaches the guest;
//! - linear memory is capped; going over it is a typed error;
//! - WASI (preview 1, or preview 0 for old TinyGo guests) only for guests importing it,
//!   nothing granted by default, stdio into `tracing`;
//! - after a trap or deadline the instance is dropped with its store and a fresh one is made
//!   on the next call (no instance leaks into a long-lived store).

use std::error::Error as StdError;
use std::sync::Arc;

use wapc::{ModuleState, WebAssemblyEngineProvider};

use super::compile::SwitchboardEngineProviderPre;
use super::config::GuestConfig;
use super::instance::{scope_bounds, HostKind, SwitchboardEngineProvider};

type BoxError = Box<dyn StdError + Send + Sync>;

impl WebAssemblyEngineProvider for SwitchboardEngineProvider {
    fn init(&mut self, host: Arc<ModuleState>) -> Result<(), BoxError> {
        self.host = HostKind::Wapc(host);
        self.live = None;
        self.live = Some(self.instantiate(None)?);
        Ok(())
    }

    fn call(&mut self, op_length: i32, msg_length: i32) -> Result<i32, BoxError> {
        let bounds = scope_bounds(self.pre.invoke_timeout);
        Ok(self.guest_call(op_length, msg_length, bounds)?)
    }

    fn replace(&mut self, bytes: &[u8]) -> Result<(), BoxError> {
        let config = GuestConfig {
            wasi: self.pre.wasi.clone(),
            max_memory_bytes: self.pre.max_memory,
            max_table_elements: self.pre.max_table_elements,
            invoke_timeout: self.pre.invoke_timeout,
            init_timeout: self.pre.init_timeout,
            ..GuestConfig::default()
        };
        let pre =
            SwitchboardEngineProviderPre::new(&self.pre.engine, &self.pre.guest, bytes, &config)?;
        // The old store goes away with its instance: nothing accumulates.
        self.pre = pre.inner;
        self.live = None;
        if !matches!(self.host, HostKind::Unset) {
            self.live = Some(self.instantiate(None)?);
        }
        Ok(())
    }
}
