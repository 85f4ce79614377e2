//! Guest configuration: limits, deadlines, pool size, WASI grants and engine choice.

use std::path::PathBuf;
use std::time::Duration;

/// Default cap on a guest's linear memory: 64 MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 64 << 20;
/// Default cap on the elements of a guest's tables.
pub const DEFAULT_MAX_TABLE_ELEMENTS: usize = 100_000;
/// Default deadline of one invocation (including the host calls it makes): 10 s.
pub const DEFAULT_INVOKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default deadline of instantiation plus `_initialize` / `_start` / `wapc_init`: 10 s.
pub const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which engine runs the guest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// Switchboard's own engine ([`SwitchboardEngineProvider`](super::SwitchboardEngineProvider)):
    /// bounds-checked imports, `_initialize` support, epoch deadlines that honour the call's
    /// context, typed memory-limit errors, guest stdio captured into `tracing`.
    #[default]
    Switchboard,
    /// `wasmtime-provider` 2.25, kept for comparison (only with the cargo feature
    /// `wasmtime-provider`). Known limits: guest stdio is the host's
    /// stdio, `_initialize` is not called, the deadline is the fixed `invoke_timeout` (the
    /// call context's deadline and cancellation are not seen by the guest), going over the
    /// memory cap makes `memory.grow` fail instead of a typed error, a trap's cause is lost
    /// (only its backtrace is reported), directory grants are refused (it can only preopen
    /// read-write), and its panics on bad guest pointers are contained by the runtime
    /// (reported as [`TrapCause::EnginePanic`](super::TrapCause)).
    #[cfg(feature = "wasmtime-provider")]
    WasmtimeProvider,
}

/// A host directory made visible, read-only, to a WASI guest: the grant type shared with
/// component providers (`component::ReadOnlyDir` is the same type).
pub use crate::sandbox::ReadOnlyDir as PreopenDir;

/// What a WASI guest (preview 1 or 0) may see. Nothing by default: no environment, no arguments,
/// no directories; stdin is empty and stdout/stderr go to `tracing`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasiGrants {
    /// Environment variables, as `(name, value)`.
    pub env: Vec<(String, String)>,
    /// Command-line arguments (`argv`).
    pub args: Vec<String>,
    /// Read-only preopened directories.
    pub read_only_dirs: Vec<PreopenDir>,
}

/// How a guest module is run. `GuestConfig::default()` documents every default.
///
/// ```
/// use std::time::Duration;
/// use switchboard::wapc::{GuestConfig, EngineKind};
/// let config = GuestConfig::default()
///     .with_name("orders")
///     .with_max_memory_bytes(16 << 20)
///     .with_invoke_timeout(Duration::from_secs(2))
///     .with_pool_size(4)
///     .with_env("MODE", "prod");
/// assert_eq!(config.engine, EngineKind::Switchboard);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GuestConfig {
    /// The guest's name in logs and errors. Default: the file stem for
    /// [`GuestModule::from_file`](super::GuestModule::from_file), else `"guest"`.
    pub name: Option<String>,
    /// The engine. Default: [`EngineKind::Switchboard`].
    pub engine: EngineKind,
    /// Cap on linear memory in bytes. Default: [`DEFAULT_MAX_MEMORY_BYTES`] (64 MiB).
    pub max_memory_bytes: usize,
    /// Cap on table elements. Default: [`DEFAULT_MAX_TABLE_ELEMENTS`].
    pub max_table_elements: usize,
    /// Deadline of one invocation; a caller's earlier deadline wins. Default:
    /// [`DEFAULT_INVOKE_TIMEOUT`] (10 s).
    pub invoke_timeout: Duration,
    /// Deadline of instantiation and init functions. Default: [`DEFAULT_INIT_TIMEOUT`] (10 s).
    pub init_timeout: Duration,
    /// Maximum number of instances, i.e. of parallel invocations; further callers wait for a
    /// free instance until their deadline. Default: the number of CPUs (at least 1).
    pub pool_size: usize,
    /// WASI grants (only used by guests importing `wasi_snapshot_preview1` or
    /// `wasi_unstable`). Default: none.
    pub wasi: WasiGrants,
    /// Directory of compiled-module artifacts, so a process that loads the same guest again
    /// (every `switchboard run`) deserializes in milliseconds instead of compiling. Only the
    /// Switchboard engine uses it. The directory must be writable only by the host's user:
    /// artifacts are native code. Default: none (compile every time).
    pub cache_dir: Option<PathBuf>,
}

impl Default for GuestConfig {
    fn default() -> Self {
        GuestConfig {
            name: None,
            engine: EngineKind::default(),
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_table_elements: DEFAULT_MAX_TABLE_ELEMENTS,
            invoke_timeout: DEFAULT_INVOKE_TIMEOUT,
            init_timeout: DEFAULT_INIT_TIMEOUT,
            pool_size: std::thread::available_parallelism().map_or(1, usize::from),
            wasi: WasiGrants::default(),
            cache_dir: None,
        }
    }
}

impl GuestConfig {
    /// Set the guest's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Choose the engine.
    pub fn with_engine(mut self, engine: EngineKind) -> Self {
        self.engine = engine;
        self
    }

    /// Set the linear memory cap in bytes.
    pub fn with_max_memory_bytes(mut self, bytes: usize) -> Self {
        self.max_memory_bytes = bytes;
        self
    }

    /// Set the invocation deadline.
    pub fn with_invoke_timeout(mut self, timeout: Duration) -> Self {
        self.invoke_timeout = timeout;
        self
    }

    /// Set the instantiation/init deadline.
    pub fn with_init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = timeout;
        self
    }

    /// Cache compiled modules in `dir` (see [`GuestConfig::cache_dir`]).
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Set the maximum number of instances (0 is treated as 1).
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// Grant one environment variable to a WASI guest.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.wasi.env.push((name.into(), value.into()));
        self
    }

    /// Grant read-only access to a host directory, seen by the guest at `guest`.
    pub fn with_read_only_dir(
        mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
    ) -> Self {
        self.wasi.read_only_dirs.push(PreopenDir {
            host: host.into(),
            guest: guest.into(),
        });
        self
    }

    pub(crate) fn effective_pool_size(&self) -> usize {
        self.pool_size.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_grant_nothing() {
        let config = GuestConfig::default();
        assert_eq!(config.wasi, WasiGrants::default());
        assert!(config.wasi.env.is_empty() && config.wasi.read_only_dirs.is_empty());
        assert_eq!(config.max_memory_bytes, 64 << 20);
        assert_eq!(config.invoke_timeout, Duration::from_secs(10));
        assert!(config.pool_size >= 1);
    }

    #[test]
    fn zero_pool_size_means_one() {
        assert_eq!(
            GuestConfig::default()
                .with_pool_size(0)
                .effective_pool_size(),
            1
        );
    }
}
