//! Per-provider configuration: limits, pool sizing, deadlines and WASI grants.
//!
//! Everything is denied or bounded by default; `ComponentConfig::default()` documents each
//! default. The struct deserializes from the `[providers.*]` tables of `switchboard.toml`
//! (durations in milliseconds).

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

/// A host directory visible read-only to a wasip2 component.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadOnlyDir {
    /// The directory on the host.
    pub host: PathBuf,
    /// The path the component sees (e.g. `/data`).
    pub guest: String,
}

/// The capabilities a component gets. Nothing by default: no environment, no arguments, no
/// directories, no sockets, no host calls; stdin is empty; stdout/stderr go to `tracing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grants {
    /// Environment variables, as `(name, value)`.
    pub env: Vec<(String, String)>,
    /// Read-only preopened directories.
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
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ComponentConfig {
    /// The provider's name in logs, errors and route listings. Default: the file stem for
    /// files, else `"component"`.
    pub name: Option<String>,
    /// Cap on linear memory, bytes. Default [`DEFAULT_MAX_MEMORY_BYTES`] (64 MiB).
    pub max_memory_bytes: usize,
    /// Cap on table elements. Default [`DEFAULT_MAX_TABLE_ELEMENTS`].
    pub max_table_elements: usize,
    /// Cap on core instances. Default [`DEFAULT_MAX_INSTANCES`].
    pub max_instances: usize,
    /// Deadline of one call. Default [`DEFAULT_CALL_TIMEOUT`] (5 s).
    #[serde(rename = "call_timeout_ms", with = "millis")]
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
    /// Bound on the wait for a free instance. Default [`DEFAULT_POOL_WAIT`] (1 s).
    #[serde(rename = "pool_wait_ms", with = "millis")]
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

/// `Duration` as integer milliseconds in config files.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
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
