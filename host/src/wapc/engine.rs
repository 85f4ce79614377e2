//! Switchboard's waPC engine: wapc's public [`WebAssemblyEngineProvider`] on wasmtime 48,
//! without wasmtime-provider 2.25's defects.
//!
//! - Host imports are bounds-checked ([`imports`](super::imports)): a bad guest pointer traps
//!   the guest, never the host.
//! - Init calls `_initialize` (TinyGo reactors), then `_start`, then `wapc_init`.
//! - Deadlines use epochs ([`WasmEngine`]); each tick the store checks the invocation's real
//!   deadline and cancellation token, so the caller's [`CallContext`](crate::CallContext)
//!   reaches the guest.
//! - Linear memory is capped; going over it is a typed error.
//! - WASI preview 1 only for guests importing it, nothing granted by default, stdio into
//!   `tracing`.
//! - After a trap or deadline the instance is dropped with its store and a fresh one is made
//!   on the next call (no instance leaks into a long-lived store).

use std::error::Error as StdError;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wapc::{wapc_functions as f, ModuleState, WebAssemblyEngineProvider};
use wasmtime::{
    ExternType, InstancePre, Linker, Memory, Module, ResourceLimiter, Store, StoreContextMut,
    TypedFunc, UpdateDeadline, ValType,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::I32Exit;

use super::config::{GuestConfig, WasiGrants};
use super::direct::DirectHost;
use super::epoch::WasmEngine;
use super::error::{Fault, TrapCause, WapcError};
use super::{imports, scope, wasi};
use crate::artifact_cache::DiskCache;
use crate::{CallContext, CancelToken, Router};

/// Init functions, in the order they are called when exported.
const INIT_FUNCTIONS: [&str; 3] = ["_initialize", f::TINYGO_START, f::WAPC_INIT];

/// Per-store state of one guest instance.
pub(crate) struct StoreData {
    pub(crate) host: HostState,
    pub(crate) memory: Option<Memory>,
    pub(crate) guest: Arc<str>,
    wasi: WasiP1Ctx,
    limiter: GuestLimiter,
    deadline: Option<Instant>,
    cancel: Option<CancelToken>,
}

/// Who answers the guest's waPC host imports.
// It lives inside the store's own allocation: boxing the large variant would only add a
// pointer chase to every import.
#[allow(clippy::large_enum_variant)]
pub(crate) enum HostState {
    /// Nobody yet: a provider that `WapcHost::new` has not initialised.
    Unset,
    /// A `wapc::WapcHost` drives the guest through wapc's `ModuleState`.
    Wapc(Arc<ModuleState>),
    /// The guest runtime drives the guest itself ([`super::direct`]).
    Direct(DirectHost),
}

/// What a new instance's [`HostState`] is made from.
enum HostKind {
    Unset,
    Wapc(Arc<ModuleState>),
    Direct(Router),
}

impl HostKind {
    fn state(&self) -> HostState {
        match self {
            HostKind::Unset => HostState::Unset,
            HostKind::Wapc(state) => HostState::Wapc(Arc::clone(state)),
            HostKind::Direct(router) => HostState::Direct(DirectHost::new(router.clone())),
        }
    }
}

/// Why the epoch callback stopped the guest.
#[derive(Debug, thiserror::Error)]
enum Interrupt {
    #[error("guest invocation deadline exceeded")]
    Deadline,
    #[error("guest invocation canceled")]
    Canceled,
}

/// Raised by the limiter so that going over the cap is reported, not just a failed grow.
#[derive(Debug, thiserror::Error)]
#[error("guest memory limit exceeded: {requested} bytes requested, limit is {limit} bytes")]
struct MemoryLimitHit {
    limit: usize,
    requested: usize,
}

struct GuestLimiter {
    max_memory: usize,
    max_table_elements: usize,
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            return Err(MemoryLimitHit {
                limit: self.max_memory,
                requested: desired,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table_elements)
    }
}

fn check_interrupt(ctx: StoreContextMut<'_, StoreData>) -> wasmtime::Result<UpdateDeadline> {
    let data = ctx.data();
    if data.cancel.as_ref().is_some_and(CancelToken::is_canceled) {
        return Err(Interrupt::Canceled.into());
    }
    if data
        .deadline
        .is_some_and(|deadline| Instant::now() >= deadline)
    {
        return Err(Interrupt::Deadline.into());
    }
    Ok(UpdateDeadline::Continue(1))
}

/// Turn an engine error into a typed fault. `init` maps unknown failures to instantiation
/// errors rather than traps.
fn classify(err: &wasmtime::Error, init: bool) -> Fault {
    if let Some(interrupt) = err.downcast_ref::<Interrupt>() {
        return match interrupt {
            Interrupt::Deadline => Fault::DeadlineExceeded,
            Interrupt::Canceled => Fault::Canceled,
        };
    }
    if let Some(hit) = err.downcast_ref::<MemoryLimitHit>() {
        return Fault::MemoryLimit {
            limit: hit.limit,
            requested: hit.requested,
        };
    }
    let detail = format!("{err:?}");
    let cause = if let Some(violation) = err.downcast_ref::<super::error::AbiViolation>() {
        TrapCause::Abi(violation.clone())
    } else if let Some(exit) = err.downcast_ref::<I32Exit>() {
        TrapCause::Exit(exit.0)
    } else if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        if *trap == wasmtime::Trap::Interrupt {
            return Fault::DeadlineExceeded;
        }
        TrapCause::Wasm(*trap)
    } else if init {
        return Fault::Instantiation(format!("{err:#}"));
    } else {
        TrapCause::Other(format!("{err:#}"))
    };
    Fault::Trap { cause, detail }
}

/// A compiled waPC module ready to be instantiated many times: the `Module`, the
/// `InstancePre` with the waPC (and, if imported, WASI) imports, and the limits. Cheap to
/// clone and shareable between threads.
///
/// ```no_run
/// use switchboard::wapc::{GuestConfig, SwitchboardEngineProviderPre, WasmEngine};
/// use switchboard::Router;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bytes = std::fs::read("guest.wasm")?;
/// let pre = SwitchboardEngineProviderPre::new(
///     &WasmEngine::shared()?, "guest", &bytes, &GuestConfig::default())?;
/// let router = Router::new();
/// let host = wapc::WapcHost::new(Box::new(pre.provider()), Some(router.host_callback()))?;
/// let reply = host.call("echo", b"hi")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SwitchboardEngineProviderPre {
    inner: Arc<PreInner>,
}

struct PreInner {
    engine: WasmEngine,
    module: Module,
    instance_pre: InstancePre<StoreData>,
    guest: Arc<str>,
    uses_wasi: bool,
    wasi: WasiGrants,
    max_memory: usize,
    max_table_elements: usize,
    invoke_timeout: Duration,
    init_timeout: Duration,
}

impl std::fmt::Debug for SwitchboardEngineProviderPre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchboardEngineProviderPre")
            .field("guest", &self.inner.guest)
            .field("uses_wasi", &self.inner.uses_wasi)
            .finish_non_exhaustive()
    }
}

impl SwitchboardEngineProviderPre {
    /// Compile `bytes` (wasm or, for tests, WAT) for `engine` and check it is a waPC guest.
    pub fn new(
        engine: &WasmEngine,
        name: &str,
        bytes: &[u8],
        config: &GuestConfig,
    ) -> Result<Self, WapcError> {
        let module = compile(engine, bytes, config.cache_dir.as_deref())?;
        Self::from_module(engine, name, module, config)
    }

    /// Use an already compiled module (it must come from `engine`).
    pub fn from_module(
        engine: &WasmEngine,
        name: &str,
        module: Module,
        config: &GuestConfig,
    ) -> Result<Self, WapcError> {
        if !wasmtime::Engine::same(module.engine(), engine.wasmtime()) {
            return Err(WapcError::Config(
                "the module was compiled by another engine".into(),
            ));
        }
        check_exports(&module)?;
        wasi::check_grants(&config.wasi)?;
        let uses_wasi = wasi::imports_wasi(&module);
        let mut linker = Linker::new(engine.wasmtime());
        imports::add_to_linker(&mut linker)?;
        if uses_wasi {
            wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |data: &mut StoreData| {
                &mut data.wasi
            })
            .map_err(|e| WapcError::Config(format!("cannot define the WASI imports: {e}")))?;
        }
        let instance_pre = linker
            .instantiate_pre(&module)
            .map_err(|e| WapcError::BadModule(format!("{e:#}")))?;
        Ok(SwitchboardEngineProviderPre {
            inner: Arc::new(PreInner {
                engine: engine.clone(),
                module,
                instance_pre,
                guest: Arc::from(name),
                uses_wasi,
                wasi: config.wasi.clone(),
                max_memory: config.max_memory_bytes,
                max_table_elements: config.max_table_elements,
                invoke_timeout: config.invoke_timeout,
                init_timeout: config.init_timeout,
            }),
        })
    }

    /// A new, not yet initialised engine provider for `WapcHost::new` (which instantiates it).
    pub fn provider(&self) -> SwitchboardEngineProvider {
        SwitchboardEngineProvider {
            pre: self.inner.clone(),
            host: HostKind::Unset,
            live: None,
        }
    }

    /// An instance driven by the guest runtime itself, its host calls routed to `router`.
    pub(crate) fn direct_provider(&self, router: &Router) -> SwitchboardEngineProvider {
        SwitchboardEngineProvider {
            pre: self.inner.clone(),
            host: HostKind::Direct(router.clone()),
            live: None,
        }
    }

    /// The guest's name.
    pub fn name(&self) -> &str {
        &self.inner.guest
    }

    /// Whether the guest imports WASI preview 1.
    pub fn uses_wasi(&self) -> bool {
        self.inner.uses_wasi
    }

    /// The compiled module.
    pub fn module(&self) -> &Module {
        &self.inner.module
    }
}

fn check_exports(module: &Module) -> Result<(), WapcError> {
    match module.get_export(f::GUEST_CALL) {
        Some(ExternType::Func(ty)) => {
            let params: Vec<ValType> = ty.params().collect();
            let results: Vec<ValType> = ty.results().collect();
            let ok = matches!(params.as_slice(), [ValType::I32, ValType::I32])
                && matches!(results.as_slice(), [ValType::I32]);
            if !ok {
                return Err(WapcError::BadModule(format!(
                    "`{}` must have type (i32, i32) -> i32, found {ty}",
                    f::GUEST_CALL
                )));
            }
        }
        _ => {
            return Err(WapcError::BadModule(format!(
                "the module does not export the function `{}`",
                f::GUEST_CALL
            )))
        }
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        return Err(WapcError::BadModule(
            "the module does not export its linear memory as `memory`".into(),
        ));
    }
    Ok(())
}

/// One guest instance behind wapc's [`WebAssemblyEngineProvider`]. Made by
/// [`SwitchboardEngineProviderPre::provider`]; `Send`, so a `WapcHost` over it can move
/// between threads (see the runtime's pool).
pub struct SwitchboardEngineProvider {
    pre: Arc<PreInner>,
    host: HostKind,
    live: Option<Live>,
}

impl std::fmt::Debug for SwitchboardEngineProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchboardEngineProvider")
            .field("guest", &self.pre.guest)
            .field("instantiated", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

struct Live {
    store: Store<StoreData>,
    guest_call: TypedFunc<(i32, i32), i32>,
}

/// The deadline and token for what runs next.
type Limits = (Option<Instant>, Option<CancelToken>);

/// `ctx`'s deadline capped by `timeout`, and its token (none without a context).
fn limits_of(ctx: Option<&CallContext>, timeout: Duration) -> Limits {
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

/// The limits of the invocation in progress on this thread (for a `WapcHost`-driven engine).
fn scope_limits(timeout: Duration) -> Limits {
    limits_of(scope::context().as_ref(), timeout)
}

impl SwitchboardEngineProvider {
    /// A fresh instance, initialised. `ctx` is the context of the host calls its init
    /// functions make when the runtime drives it; a `WapcHost`-driven one uses the scope's.
    fn instantiate(&self, ctx: Option<&CallContext>) -> Result<Live, Fault> {
        let pre = &self.pre;
        let wasi = if pre.uses_wasi {
            wasi::context(&pre.guest, &pre.wasi).map_err(|e| Fault::Instantiation(e.to_string()))?
        } else {
            // Never linked for this guest; an empty context costs next to nothing.
            wasmtime_wasi::WasiCtxBuilder::new().build_p1()
        };
        let (deadline, cancel) = match (&self.host, ctx) {
            (HostKind::Direct(_), ctx) => limits_of(ctx, pre.init_timeout),
            _ => scope_limits(pre.init_timeout),
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
                limiter: GuestLimiter {
                    max_memory: pre.max_memory,
                    max_table_elements: pre.max_table_elements,
                },
                deadline,
                cancel,
            },
        );
        store.limiter(|data| &mut data.limiter);
        store.epoch_deadline_callback(check_interrupt);
        store.set_epoch_deadline(1);

        let instance = pre
            .instance_pre
            .instantiate(&mut store)
            .map_err(|e| classify(&e, true))?;
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
                return Err(classify(&err, true));
            }
        }
        if let HostState::Direct(direct) = &mut store.data_mut().host {
            // Freed here, by the thread that allocated it during init.
            drop(direct.end());
        }
        Ok(Live { store, guest_call })
    }

    /// Run `__guest_call` within `limits`, replacing the instance first if a previous trap
    /// dropped it. On a fault the instance is dropped.
    pub(crate) fn guest_call(
        &mut self,
        op_length: i32,
        msg_length: i32,
        limits: Limits,
    ) -> Result<i32, Fault> {
        let live = self.live_instance(None)?;
        let (deadline, cancel) = limits;
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
                let fault = classify(&err, false);
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
        match &mut self.live_instance(Some(ctx))?.store.data_mut().host {
            HostState::Direct(direct) => Ok(direct),
            _ => Err(Fault::Instantiation(
                "the instance is driven by a wapc::WapcHost".into(),
            )),
        }
    }

    /// The guest's name.
    pub(crate) fn guest(&self) -> &str {
        &self.pre.guest
    }

    /// The runtime-driven host state of the live instance, if there is one.
    pub(crate) fn direct_host_if_live(&mut self) -> Option<&mut DirectHost> {
        match &mut self.live.as_mut()?.store.data_mut().host {
            HostState::Direct(direct) => Some(direct),
            _ => None,
        }
    }

    fn fail(fault: Fault) -> Box<dyn StdError + Send + Sync> {
        scope::record_fault(&fault);
        Box::new(fault)
    }
}

impl WebAssemblyEngineProvider for SwitchboardEngineProvider {
    fn init(&mut self, host: Arc<ModuleState>) -> Result<(), Box<dyn StdError + Send + Sync>> {
        self.host = HostKind::Wapc(host);
        self.live = None;
        self.live = Some(self.instantiate(None).map_err(Self::fail)?);
        Ok(())
    }

    fn call(
        &mut self,
        op_length: i32,
        msg_length: i32,
    ) -> Result<i32, Box<dyn StdError + Send + Sync>> {
        let limits = scope_limits(self.pre.invoke_timeout);
        self.guest_call(op_length, msg_length, limits)
            .map_err(Self::fail)
    }

    fn replace(&mut self, bytes: &[u8]) -> Result<(), Box<dyn StdError + Send + Sync>> {
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
            self.live = Some(self.instantiate(None).map_err(Self::fail)?);
        }
        Ok(())
    }
}

/// Compile `bytes`, or deserialize them from `cache_dir` when an artifact of this engine's
/// configuration is there (and store a fresh compile for next time).
fn compile(
    engine: &WasmEngine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> Result<Module, WapcError> {
    let compile = || {
        Module::new(engine.wasmtime(), bytes).map_err(|e| WapcError::BadModule(format!("{e:#}")))
    };
    let Some(dir) = cache_dir else {
        return compile();
    };
    let cache = DiskCache::new(dir);
    let path = cache.path_for::<Module>(engine.wasmtime(), bytes);
    if let Some(module) = cache.load::<Module>(engine.wasmtime(), &path) {
        return Ok(module);
    }
    let module = compile()?;
    cache.store(&path, &module);
    Ok(module)
}
