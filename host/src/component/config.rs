//! Per-provider configuration: limits, pool sizing, deadlines and WASI grants.
//!
//! Everything is denied or bounded by default; `ComponentConfig::default()` documents each
//! default. [`ComponentConfig`] deserializes from a component route's `[route.options]` table
//! in `switchboard.toml`, with the same key names and units as the `[guest]` table of waPC
//! guests:
//!
//! | key | meaning | alias (old name) |
//! |---|---|---|
//! | `max_memory_mib` | cap on linear memory, MiB | `max_memory_bytes` (bytes) |
//! | `max_table_elements` | cap on table elements | |
//! | `timeout_ms` | deadline of one call, ms | `call_timeout_ms` |
//! | `pool_min`, `pool_max` | instances kept warm / alive at most | |
//! | `pool_wait_ms` | bound on the wait for a free instance, ms | |
//! | `[grants]` `env` | `{ NAME = "value" }` (or the old list of `["NAME", "value"]` pairs) | |
//! | `[grants]` `args` | WASI arguments, a list of strings | |
//! | `[grants]` `dirs` | read-only directories, `[{ host = "...", guest = "/data" }]` | `read_only_dirs` |
//! | `[grants]` `host_calls` | whether `host.call` may call other routes | |
//!
//! Component-only keys: `name`, `max_instances`, `fuel_per_call`, `max_request_bytes`,
//! `max_response_bytes`, `recycle_after`. Giving a key and its alias together is an error
//! naming both; unknown keys are errors.
//!
//! ```
//! use std::time::Duration;
//! use switchboard::component::ComponentConfig;
//! let config: ComponentConfig = toml::from_str(r#"
//!     max_memory_mib = 16
//!     timeout_ms = 500
//!     pool_max = 4
//!     [grants]
//!     env = { MODE = "prod" }
//!     dirs = [{ host = "/srv/data", guest = "/data" }]
//! "#).unwrap();
//! assert_eq!(config.max_memory_bytes, 16 << 20);
//! assert_eq!(config.call_timeout, Duration::from_millis(500));
//! assert_eq!(config.grants.env, [("MODE".to_string(), "prod".to_string())]);
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default cap on a component's linear memory: 64 MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 64 << 20;
/// Default cap on the elements of a component's tables.
pub const DEFAULT_MAX_TABLE_ELEMENTS: usize = 100_000;
/// Default cap on core instances a component may create (a Rust component has a handful).
pub const DEFAULT_MAX_INSTANCES: usize = 64;
/// Default deadline of one call (a caller's earlier deadline wins): 5 s.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Default cap on a request payload: 16 MiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 16 << 20;
/// Default cap on a response payload: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;
/// Default number of instances kept warm from registration on.
pub const DEFAULT_POOL_MIN: usize = 1;
/// Default bound on instances alive at once (= calls served in parallel).
pub const DEFAULT_POOL_MAX: usize = 8;
/// Default bound on the wait for a free instance when the pool is saturated: 1 s.
pub const DEFAULT_POOL_WAIT: Duration = Duration::from_secs(1);
/// Default number of calls after which an instance is replaced by a fresh one.
pub const DEFAULT_RECYCLE_AFTER: u64 = 10_000;

/// A host directory visible read-only to a wasip2 component: the grant type shared with waPC
/// guests (`wapc::PreopenDir` is the same type).
pub use crate::sandbox::ReadOnlyDir;

/// The capabilities a component gets. Nothing by default: no environment, no arguments, no
/// directories, no sockets, no host calls; stdin is empty; stdout/stderr go to `tracing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "raw::Grants")]
#[non_exhaustive]
pub struct Grants {
    /// Environment variables, as `(name, value)`.
    pub env: Vec<(String, String)>,
    /// WASI command-line arguments.
    pub args: Vec<String>,
    /// Read-only preopened directories (key `dirs`, alias `read_only_dirs`).
    pub read_only_dirs: Vec<ReadOnlyDir>,
    /// Whether the component may call other routes through the `host.call` import.
    pub host_calls: bool,
}

/// How a component provider runs. See each field for its default.
///
/// ```
/// use std::time::Duration;
/// use switchboard::component::ComponentConfig;
/// let config = ComponentConfig::default()
///     .with_name("kv")
///     .with_max_memory_bytes(16 << 20)
///     .with_call_timeout(Duration::from_millis(500))
///     .with_pool(1, 4)
///     .with_env("MODE", "prod")
///     .with_host_calls(true);
/// assert_eq!(config.pool_max, 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "raw::Config")]
#[non_exhaustive]
pub struct ComponentConfig {
    /// The provider's name in logs, errors and route listings. Default: the file stem for
    /// files, else `"component"`.
    pub name: Option<String>,
    /// Cap on linear memory, bytes (key `max_memory_mib` in MiB, alias `max_memory_bytes`).
    /// Default [`DEFAULT_MAX_MEMORY_BYTES`] (64 MiB).
    pub max_memory_bytes: usize,
    /// Cap on table elements. Default [`DEFAULT_MAX_TABLE_ELEMENTS`].
    pub max_table_elements: usize,
    /// Cap on core instances. Default [`DEFAULT_MAX_INSTANCES`].
    pub max_instances: usize,
    /// Deadline of one call (key `timeout_ms`, alias `call_timeout_ms`). Default
    /// [`DEFAULT_CALL_TIMEOUT`] (5 s).
    pub call_timeout: Duration,
    /// Fuel per call, when the engine was built with fuel metering; `None` (default) means
    /// no fuel accounting (epoch deadlines bound the time anyway).
    pub fuel_per_call: Option<u64>,
    /// Cap on the request payload. Default [`DEFAULT_MAX_REQUEST_BYTES`] (16 MiB).
    pub max_request_bytes: usize,
    /// Cap on the response payload. Default [`DEFAULT_MAX_RESPONSE_BYTES`] (16 MiB).
    pub max_response_bytes: usize,
    /// Instances created at registration and kept warm. Default [`DEFAULT_POOL_MIN`] (1).
    pub pool_min: usize,
    /// Instances alive at most. Default [`DEFAULT_POOL_MAX`] (8).
    pub pool_max: usize,
    /// Bound on the wait for a free instance (key `pool_wait_ms`). Default
    /// [`DEFAULT_POOL_WAIT`] (1 s).
    pub pool_wait: Duration,
    /// Calls after which an instance is replaced. Default [`DEFAULT_RECYCLE_AFTER`]. `1` gives
    /// a fresh instance per call (maximum isolation, ~10-100 us more per call).
    pub recycle_after: u64,
    /// What the component may touch. Default: nothing.
    pub grants: Grants,
}

impl Default for ComponentConfig {
    fn default() -> Self {
        ComponentConfig {
            name: None,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_table_elements: DEFAULT_MAX_TABLE_ELEMENTS,
            max_instances: DEFAULT_MAX_INSTANCES,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            fuel_per_call: None,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            pool_min: DEFAULT_POOL_MIN,
            pool_max: DEFAULT_POOL_MAX,
            pool_wait: DEFAULT_POOL_WAIT,
            recycle_after: DEFAULT_RECYCLE_AFTER,
            grants: Grants::default(),
        }
    }
}

impl ComponentConfig {
    /// Set the provider's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Set the linear memory cap.
    pub fn with_max_memory_bytes(mut self, bytes: usize) -> Self {
        self.max_memory_bytes = bytes;
        self
    }

    /// Set the per-call deadline.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Meter fuel: each call may spend at most `fuel` (the engine must enable fuel).
    pub fn with_fuel_per_call(mut self, fuel: u64) -> Self {
        self.fuel_per_call = Some(fuel);
        self
    }

    /// Set the request payload cap.
    pub fn with_max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }

    /// Set the response payload cap.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Keep `min` instances warm, allow at most `max`.
    pub fn with_pool(mut self, min: usize, max: usize) -> Self {
        self.pool_min = min;
        self.pool_max = max;
        self
    }

    /// Bound the wait for a free instance.
    pub fn with_pool_wait(mut self, wait: Duration) -> Self {
        self.pool_wait = wait;
        self
    }

    /// Replace an instance after `calls` calls.
    pub fn with_recycle_after(mut self, calls: u64) -> Self {
        self.recycle_after = calls;
        self
    }

    /// Grant a WASI command-line argument.
    pub fn with_arg(mut self, arg: impl Into<String>) -> Self {
        self.grants.args.push(arg.into());
        self
    }

    /// Grant an environment variable.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.grants.env.push((name.into(), value.into()));
        self
    }

    /// Grant read-only access to a host directory, seen as `guest`.
    pub fn with_read_only_dir(
        mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
    ) -> Self {
        self.grants.read_only_dirs.push(ReadOnlyDir {
            host: host.into(),
            guest: guest.into(),
        });
        self
    }

    /// Allow (or deny) calls back into the router through `host.call`.
    pub fn with_host_calls(mut self, allowed: bool) -> Self {
        self.grants.host_calls = allowed;
        self
    }

    /// Refuse settings that cannot work, naming the field.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.pool_max == 0 {
            return Err("pool_max must be at least 1".into());
        }
        if self.pool_min > self.pool_max {
            return Err(format!(
                "pool_min ({}) is larger than pool_max ({})",
                self.pool_min, self.pool_max
            ));
        }
        if self.recycle_after == 0 {
            return Err("recycle_after must be at least 1".into());
        }
        if self.call_timeout.is_zero() {
            return Err("call_timeout must be positive".into());
        }
        for dir in &self.grants.read_only_dirs {
            if !dir.host.is_dir() {
                return Err(format!(
                    "read-only dir {} (seen as {}) is not a directory",
                    dir.host.display(),
                    dir.guest
                ));
            }
        }
        Ok(())
    }
}

/// The configuration file's shape: every key and alias, all optional.
mod raw {
    use super::*;

    /// A component's `[route.options]`.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub(super) struct Config {
        name: Option<String>,
        max_memory_mib: Option<usize>,
        max_memory_bytes: Option<usize>,
        max_table_elements: Option<usize>,
        max_instances: Option<usize>,
        timeout_ms: Option<u64>,
        call_timeout_ms: Option<u64>,
        fuel_per_call: Option<u64>,
        max_request_bytes: Option<usize>,
        max_response_bytes: Option<usize>,
        pool_min: Option<usize>,
        pool_max: Option<usize>,
        pool_wait_ms: Option<u64>,
        recycle_after: Option<u64>,
        grants: Option<super::Grants>,
    }

    /// Its `[grants]`.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub(super) struct Grants {
        env: Option<Env>,
        args: Option<Vec<String>>,
        dirs: Option<Vec<ReadOnlyDir>>,
        read_only_dirs: Option<Vec<ReadOnlyDir>>,
        host_calls: Option<bool>,
    }

    /// `env = { NAME = "value" }`, or the old list of `[name, value]` pairs.
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum Env {
        Table(BTreeMap<String, String>),
        Pairs(Vec<(String, String)>),
    }

    /// The value of `key` or of its `alias` (never both).
    fn one_of<T>(key: (&str, Option<T>), alias: (&str, Option<T>)) -> Result<Option<T>, String> {
        match (key, alias) {
            ((key, Some(_)), (alias, Some(_))) => Err(format!(
                "`{key}` and `{alias}` are the same setting (`{alias}` is its old name): give one"
            )),
            ((_, value), (_, None)) | ((_, None), (_, value)) => Ok(value),
        }
    }

    impl TryFrom<Config> for ComponentConfig {
        type Error = String;

        fn try_from(raw: Config) -> Result<Self, String> {
            let defaults = ComponentConfig::default();
            let mib = raw
                .max_memory_mib
                .map(|mib| {
                    mib.checked_mul(1 << 20)
                        .ok_or_else(|| format!("`max_memory_mib` = {mib} is too large"))
                })
                .transpose()?;
            let max_memory_bytes = one_of(
                ("max_memory_mib", mib),
                ("max_memory_bytes", raw.max_memory_bytes),
            )?;
            let timeout_ms = one_of(
                ("timeout_ms", raw.timeout_ms),
                ("call_timeout_ms", raw.call_timeout_ms),
            )?;
            Ok(ComponentConfig {
                name: raw.name,
                max_memory_bytes: max_memory_bytes.unwrap_or(defaults.max_memory_bytes),
                max_table_elements: raw
                    .max_table_elements
                    .unwrap_or(defaults.max_table_elements),
                max_instances: raw.max_instances.unwrap_or(defaults.max_instances),
                call_timeout: timeout_ms.map_or(defaults.call_timeout, Duration::from_millis),
                fuel_per_call: raw.fuel_per_call,
                max_request_bytes: raw.max_request_bytes.unwrap_or(defaults.max_request_bytes),
                max_response_bytes: raw
                    .max_response_bytes
                    .unwrap_or(defaults.max_response_bytes),
                pool_min: raw.pool_min.unwrap_or(defaults.pool_min),
                pool_max: raw.pool_max.unwrap_or(defaults.pool_max),
                pool_wait: raw
                    .pool_wait_ms
                    .map_or(defaults.pool_wait, Duration::from_millis),
                recycle_after: raw.recycle_after.unwrap_or(defaults.recycle_after),
                grants: raw.grants.unwrap_or_default(),
            })
        }
    }

    impl TryFrom<Grants> for super::Grants {
        type Error = String;

        fn try_from(raw: Grants) -> Result<Self, String> {
            let dirs = one_of(("dirs", raw.dirs), ("read_only_dirs", raw.read_only_dirs))?;
            Ok(super::Grants {
                env: match raw.env {
                    Some(Env::Table(table)) => table.into_iter().collect(),
                    Some(Env::Pairs(pairs)) => pairs,
                    None => Vec::new(),
                },
                args: raw.args.unwrap_or_default(),
                read_only_dirs: dirs.unwrap_or_default(),
                host_calls: raw.host_calls.unwrap_or(false),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_grant_nothing() {
        let config = ComponentConfig::default();
        assert_eq!(config.grants, Grants::default());
        assert!(!config.grants.host_calls);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn deserializes_from_toml_with_millis() {
        let config: ComponentConfig = toml::from_str(
            r#"
            name = "kv"
            call_timeout_ms = 250
            pool_min = 0
            pool_max = 2
            [grants]
            env = [["MODE", "prod"]]
            host_calls = true
            "#,
        )
        .unwrap();
        assert_eq!(config.name.as_deref(), Some("kv"));
        assert_eq!(config.call_timeout, Duration::from_millis(250));
        assert_eq!((config.pool_min, config.pool_max), (0, 2));
        assert_eq!(config.grants.env, vec![("MODE".into(), "prod".into())]);
        assert!(config.grants.host_calls);
        assert_eq!(config.max_memory_bytes, DEFAULT_MAX_MEMORY_BYTES);
    }

    fn parse(text: &str) -> Result<ComponentConfig, String> {
        toml::from_str::<ComponentConfig>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn the_shared_vocabulary_and_its_aliases_mean_the_same() {
        let dir = std::env::temp_dir();
        let dir = dir.display();
        let new = parse(&format!(
            r#"
            max_memory_mib = 16
            timeout_ms = 250
            pool_wait_ms = 20
            [grants]
            env = {{ B = "2", A = "1" }}
            args = ["serve", "-v"]
            dirs = [{{ host = "{dir}", guest = "/data" }}]
            "#
        ))
        .expect("new keys");
        let old = parse(&format!(
            r#"
            max_memory_bytes = 16777216
            call_timeout_ms = 250
            pool_wait_ms = 20
            [grants]
            env = [["A", "1"], ["B", "2"]]
            args = ["serve", "-v"]
            read_only_dirs = [{{ host = "{dir}", guest = "/data" }}]
            "#
        ))
        .expect("aliases");
        assert_eq!(new, old);
        assert_eq!(new.max_memory_bytes, 16 << 20);
        assert_eq!(new.call_timeout, Duration::from_millis(250));
        assert_eq!(new.pool_wait, Duration::from_millis(20));
        assert_eq!(
            new.grants.env,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        assert_eq!(new.grants.args, vec!["serve".to_string(), "-v".to_string()]);
        assert_eq!(
            new.grants.read_only_dirs,
            vec![ReadOnlyDir {
                host: std::env::temp_dir(),
                guest: "/data".into()
            }]
        );
    }

    #[test]
    fn a_key_and_its_alias_together_are_refused_naming_both() {
        let cases = [
            (
                "max_memory_mib = 1\nmax_memory_bytes = 1048576",
                "`max_memory_mib` and `max_memory_bytes` are the same setting \
                 (`max_memory_bytes` is its old name): give one",
            ),
            (
                "timeout_ms = 1\ncall_timeout_ms = 1",
                "`timeout_ms` and `call_timeout_ms` are the same setting \
                 (`call_timeout_ms` is its old name): give one",
            ),
            (
                "[grants]\ndirs = []\nread_only_dirs = []",
                "`dirs` and `read_only_dirs` are the same setting \
                 (`read_only_dirs` is its old name): give one",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Err(expected.to_string()), "{text}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<ComponentConfig>("pool_size = 3").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `pool_size`"),
            "{err}"
        );
    }

    #[test]
    fn impossible_pools_are_refused() {
        let config = ComponentConfig::default().with_pool(3, 2);
        assert_eq!(
            config.validate(),
            Err("pool_min (3) is larger than pool_max (2)".to_string())
        );
        let config = ComponentConfig::default().with_pool(0, 0);
        assert_eq!(config.validate(), Err("pool_max must be at least 1".into()));
    }

    #[test]
    fn missing_grant_dir_is_refused() {
        let config = ComponentConfig::default().with_read_only_dir("/no/such/dir/x", "/data");
        assert_eq!(
            config.validate(),
            Err("read-only dir /no/such/dir/x (seen as /data) is not a directory".into())
        );
    }
}
