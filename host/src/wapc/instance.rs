//! One guest instance of [`SwitchboardEngineProvider`]: made from a compiled module
//! ([`Prepared`]), initialised, called, and dropped with its store after a fault.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wapc::{wapc_functions as f, ModuleState};
use wasmtime::{InstancePre, Module, Store, TypedFunc};
use wasmtime_wasi::I32Exit;

use super::config::WasiGrants;
use super::direct_host::DirectHost;
use super::epoch::WasmEngine;
use super::error::Fault;
use super::module_state::ModuleStateView;
use super::store::{self, HostState, StoreData};
use super::{scope, wasi};
use crate::sandbox::limits::{Limiter, Limits, TableOverrun};
use crate::{CallContext, CancelToken, Router};

/// Init functions, in the order they are called when exported.
const INIT_FUNCTIONS: [&str; 3] = ["_initialize", f::TINYGO_START, f::WAPC_INIT];

/// A compiled, linked guest and everything its instances are made with.
pub(crate) struct Prepared {
    pub(crate) engine: WasmEngine,
    pub(crate) module: Module,
    pub(crate) instance_pre: InstancePre<StoreData>,
    pub(crate) guest: Arc<str>,
    pub(crate) uses_wasi: bool,
    pub(crate) wasi: WasiGrants,
    pub(crate) max_memory: usize,
    pub(crate) max_table_elements: usize,
    pub(crate) invoke_timeout: Duration,
    pub(crate) init_timeout: Duration,
}

/// What a new instance's [`HostState`] is made from.
pub(crate) enum HostKind {
    Unset,
    Wapc(Arc<ModuleState>),
    Direct(Router),
}

impl HostKind {
    fn state(&self) -> HostState {
        match self {
            HostKind::Unset => HostState::Unset,
            HostKind::Wapc(state) => HostState::Wapc(ModuleStateView(Arc::clone(state))),
            HostKind::Direct(router) => HostState::Direct(DirectHost::new(router.clone())),
        }
    }
}

/// One guest instance behind wapc's [`WebAssemblyEngineProvider`](wapc::WebAssemblyEngineProvider).
/// Made by [`SwitchboardEngineProviderPre::provider`](super::SwitchboardEngineProviderPre::provider);
/// `Send`, so a `WapcHost` over it can move between threads.
pub struct SwitchboardEngineProvider {
    pub(crate) pre: Arc<Prepared>,
    pub(crate) host: HostKind,
    pub(crate) live: Option<Live>,
}

impl std::fmt::Debug for SwitchboardEngineProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchboardEngineProvider")
            .field("guest", &self.pre.guest)
            .field("instantiated", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Live {
    store: Store<StoreData>,
    guest_call: TypedFunc<(i32, i32), i32>,
}

/// The deadline and token for what runs next.
pub(crate) type Bounds = (Option<Instant>, Option<CancelToken>);

/// `ctx`'s deadline capped by `timeout`, and its token (none without a context).
fn bounds_of(ctx: Option<&CallContext>, timeout: Duration) -> Bounds {
    let cap = Instant::now().checked_add(timeout);
    match ctx {
        Some(ctx) => {
            let deadline = match (ctx.deadline(), cap) {
                (Some(d), Some(c)) => Some(d.min(c)),
                (d, c) => d.or(c),
            };
            (deadline, ctx.cancel_token().cloned())
        }
        None => (cap, None),
    }
}

/// The bounds of the invocation in progress on this thread (for a `WapcHost`-driven engine).
pub(crate) fn scope_bounds(timeout: Duration) -> Bounds {
    bounds_of(scope::context().as_ref(), timeout)
}

impl SwitchboardEngineProvider {
    pub(crate) fn new(pre: Arc<Prepared>, host: HostKind) -> Self {
        SwitchboardEngineProvider {
            pre,
            host,
            live: None,
        }
    }

    /// A fresh instance, initialised. `ctx` is the context of the host calls its init
    /// functions make when the runtime drives it; a `WapcHost`-driven one uses the scope's.
    pub(crate) fn instantiate(&self, ctx: Option<&CallContext>) -> Result<Live, Fault> {
        let pre = &self.pre;
        let wasi = if pre.uses_wasi {
            wasi::context(&pre.guest, &pre.wasi).map_err(|e| Fault::Instantiation(e.to_string()))?
        } else {
            // Never linked for this guest; an empty context costs next to nothing.
            wasmtime_wasi::WasiCtxBuilder::new().build_p1()
        };
        let (deadline, cancel) = match (&self.host, ctx) {
            (HostKind::Direct(_), ctx) => bounds_of(ctx, pre.init_timeout),
            _ => scope_bounds(pre.init_timeout),
        };
        let mut host = self.host.state();
        if let (HostState::Direct(direct), Some(ctx)) = (&mut host, ctx) {
            direct.begin(ctx.clone(), "", &[]);
        }
        let mut store = Store::new(
            pre.engine.wasmtime(),
            StoreData {
                host,
                memory: None,
                guest: pre.guest.clone(),
                wasi,
                limiter: Limiter::new(Limits {
                    max_memory_bytes: pre.max_memory,
                    max_table_elements: pre.max_table_elements,
                    table_overrun: TableOverrun::FailGrow,
                    max_instances: None,
                }),
                deadline,
                cancel,
            },
        );
        store.limiter(|data| &mut data.limiter);
        store.epoch_deadline_callback(store::on_epoch);
        store.set_epoch_deadline(1);

        let instance = pre
            .instance_pre
            .instantiate(&mut store)
            .map_err(|e| Fault::of(&e, true))?;
        let memory = instance.get_memory(&mut store, "memory");
        store.data_mut().memory = memory;
        let guest_call = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, f::GUEST_CALL)
            .map_err(|e| Fault::Instantiation(format!("{e:#}")))?;

        for name in INIT_FUNCTIONS {
            let Some(func) = instance.get_func(&mut store, name) else {
                continue;
            };
            let func = func.typed::<(), ()>(&store).map_err(|e| {
                Fault::Instantiation(format!("`{name}` must take and return nothing: {e:#}"))
            })?;
            tracing::trace!(guest = %pre.guest, function = name, "calling init function");
            if let Err(err) = func.call(&mut store, ()) {
                // A command's `_start` ends with proc_exit(0): that is success.
                if err
                    .downcast_ref::<I32Exit>()
                    .is_some_and(|exit| exit.0 == 0)
                {
                    continue;
                }
                return Err(Fault::of(&err, true));
            }
        }
        if let Some(direct) = store.data_mut().direct() {
            // Freed here, by the thread that allocated it during init.
            drop(direct.end());
        }
        Ok(Live { store, guest_call })
    }

    /// Run `__guest_call` within `bounds`, replacing the instance first if a previous trap
    /// dropped it. On a fault the instance is dropped.
    pub(crate) fn guest_call(
        &mut self,
        op_length: i32,
        msg_length: i32,
        bounds: Bounds,
    ) -> Result<i32, Fault> {
        let live = self.live_instance(None)?;
        let (deadline, cancel) = bounds;
        let data = live.store.data_mut();
        data.deadline = deadline;
        data.cancel = cancel;
        live.store.set_epoch_deadline(1);
        match live
            .guest_call
            .call(&mut live.store, (op_length, msg_length))
        {
            Ok(code) => Ok(code),
            Err(err) => {
                let fault = Fault::of(&err, false);
                tracing::debug!(guest = %self.pre.guest, error = %fault, "guest call failed; instance discarded");
                self.live = None;
                Err(fault)
            }
        }
    }

    /// The live instance, made (with `ctx` for its init) if there is none.
    fn live_instance(&mut self, ctx: Option<&CallContext>) -> Result<&mut Live, Fault> {
        let live = match self.live.take() {
            Some(live) => live,
            None => self.instantiate(ctx)?,
        };
        Ok(self.live.insert(live))
    }

    /// The runtime-driven host state of the live instance, making the instance if needed.
    pub(crate) fn direct_host(&mut self, ctx: &CallContext) -> Result<&mut DirectHost, Fault> {
        self.live_instance(Some(ctx))?
            .store
            .data_mut()
            .direct()
            .ok_or_else(|| {
                Fault::Instantiation("the instance is driven by a wapc::WapcHost".into())
            })
    }

    /// The guest's name.
    pub(crate) fn guest(&self) -> &str {
        &self.pre.guest
    }

    /// The runtime-driven host state of the live instance, if there is one.
    pub(crate) fn direct_host_if_live(&mut self) -> Option<&mut DirectHost> {
        self.live.as_mut()?.store.data_mut().direct()
    }
}
