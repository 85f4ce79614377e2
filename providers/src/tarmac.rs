//! The Tarmac suite as one unit: every capability registered under one waPC binding (`tarmac`
//! by default), built in code ([`TarmacSuite`]) or from `switchboard.toml` ([`TarmacOptions`],
//! the `[preset.tarmac]` table).
//!
//! ```toml
//! [preset.tarmac]
//! binding = "tarmac"            # "*" serves every binding (Tarmac before 2024 ignored it)
//! data_dir = ".switchboard"     # embedded stores live here (relative to the config file)
//! capabilities = ["kvstore", "sql", "httpclient", "logger", "metrics"]   # the default
//!
//! # kvstore backend: "redb" (default, <data_dir>/kvstore.redb), "memory", or "redis" with
//! # `url`; also `path`, `data_dir`, `max_key_bytes`, `max_value_bytes`.
//! kvstore = { backend = "redb" }
//! # sql backend: "sqlite" (default, <data_dir>/sql.sqlite; `path = ":memory:"` for none) or
//! # "postgres" with `url`; also `data_dir`, `max_rows`, `timeout_ms`.
//! sql = { backend = "sqlite" }
//! # empty allow_hosts (the default) denies every host; also `timeout_ms`,
//! # `max_response_bytes`, `allow_insecure`, `max_redirects`.
//! httpclient = { allow_hosts = ["api.example.com", "*.example.org"] }
//! ```
//!
//! `logger` is served under both `logger` and `logging`. Metrics are shared with the host
//! through the [`Metrics`] handed to [`Tarmac::new`], so the CLI can add the router observer
//! and print the exposition.
//!
//! The embedded stores' directory can be imposed by the apply step
//! ([`ApplyOptions::data_dir`](switchboard::config::ApplyOptions), `switchboard run
//! --data-dir`): it replaces the preset's `data_dir` and the `data_dir` option of `kvstore` /
//! `sql` routes; an explicit per-store `path`, or a `data_dir` nested in
//! `[preset.tarmac.kvstore]` / `[preset.tarmac.sql]`, still wins.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use switchboard::config::{Capability, FactoryContext, FactoryError, ProviderRegistry};
use switchboard::{Conflict, Provider, RegisterError, RouteInfo, RouteKey, Router};

use crate::httpclient::{HttpClient, HttpClientConfig};
use crate::kvstore::{KvError, KvLimits, KvStore, MemoryKv, RedbKv, RedisKv};
use crate::logger::Logger;
use crate::metrics::Metrics;
use crate::sql::{PostgresSql, Sql, SqlError, SqlLimits, SqliteSql};

/// The default waPC binding of the suite.
pub const DEFAULT_BINDING: &str = "tarmac";

/// The preset's name: `[preset.tarmac]`.
pub const PRESET: &str = "tarmac";

/// Default directory of the embedded stores, relative to the config file.
pub const DEFAULT_DATA_DIR: &str = ".switchboard";

/// Every capability the suite offers, in registration order.
pub const CAPABILITIES: [&str; 5] = ["kvstore", "sql", "httpclient", "logger", "metrics"];

/// Why the suite (or one of its providers) could not be built or registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TarmacError {
    /// The options are inconsistent (a backend without its `url`, an unknown capability, ...).
    #[error("{0}")]
    InvalidOptions(String),
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key-value backend failed to open.
    #[error("kvstore: {0}")]
    Kv(#[from] KvError),
    /// A SQL backend failed to open.
    #[error("sql: {0}")]
    Sql(#[from] SqlError),
    /// The router refused a route (e.g. one is already registered).
    #[error(transparent)]
    Register(#[from] RegisterError),
}

impl From<TarmacError> for FactoryError {
    fn from(err: TarmacError) -> Self {
        match err {
            TarmacError::InvalidOptions(m) => FactoryError::InvalidOptions(m),
            other => FactoryError::other(other),
        }
    }
}

/// Key-value backend choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KvBackendKind {
    /// Embedded persistent file (default).
    #[default]
    Redb,
    /// Process memory.
    Memory,
    /// A Redis server (`url`).
    Redis,
}

/// `kvstore` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KvOptions {
    /// Which backend.
    pub backend: KvBackendKind,
    /// redb file; default `<data_dir>/kvstore.redb`.
    pub path: Option<PathBuf>,
    /// Directory of the default file (default: the preset's `data_dir`, or `.switchboard`).
    pub data_dir: Option<PathBuf>,
    /// Redis URL (required for `redis`).
    pub url: Option<String>,
    /// See [`KvLimits::max_key_bytes`].
    pub max_key_bytes: Option<usize>,
    /// See [`KvLimits::max_value_bytes`].
    pub max_value_bytes: Option<usize>,
}

impl KvOptions {
    /// Build the provider; relative paths resolve against `base_dir`, the default file lives in
    /// `self.data_dir`, else `data_dir`.
    ///
    /// # Errors
    ///
    /// [`TarmacError::InvalidOptions`] for `redis` without `url`, [`TarmacError::DataDir`] when
    /// the directory cannot be created, [`TarmacError::Kv`] when the backend cannot open.
    pub fn build(&self, base_dir: &Path, data_dir: &Path) -> Result<KvStore, TarmacError> {
        let kv = match self.backend {
            KvBackendKind::Memory => KvStore::new(MemoryKv::new()),
            KvBackendKind::Redb => {
                let path = match &self.path {
                    Some(p) => base_dir.join(p),
                    None => {
                        let dir = self.data_dir.as_deref().unwrap_or(data_dir);
                        ensure_dir(&base_dir.join(dir))?.join("kvstore.redb")
                    }
                };
                KvStore::new(RedbKv::open(path)?)
            }
            KvBackendKind::Redis => {
                let url = self.url.as_deref().ok_or_else(|| {
                    TarmacError::InvalidOptions("kvstore backend \"redis\" needs `url`".into())
                })?;
                KvStore::new(RedisKv::connect(url)?)
            }
        };
        let defaults = KvLimits::default();
        Ok(kv.with_limits(KvLimits {
            max_key_bytes: self.max_key_bytes.unwrap_or(defaults.max_key_bytes),
            max_value_bytes: self.max_value_bytes.unwrap_or(defaults.max_value_bytes),
        }))
    }
}

/// SQL backend choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlBackendKind {
    /// Bundled SQLite (default).
    #[default]
    Sqlite,
    /// A PostgreSQL server (`url`).
    Postgres,
}

/// `sql` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqlOptions {
    /// Which backend.
    pub backend: SqlBackendKind,
    /// SQLite file or `:memory:`; default `<data_dir>/sql.sqlite`.
    pub path: Option<PathBuf>,
    /// Directory of the default file (default: the preset's `data_dir`, or `.switchboard`).
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (required for `postgres`).
    pub url: Option<String>,
    /// See [`SqlLimits::max_rows`].
    pub max_rows: Option<usize>,
    /// See [`SqlLimits::timeout`], in milliseconds.
    pub timeout_ms: Option<u64>,
}

impl SqlOptions {
    /// Build the provider; relative paths resolve against `base_dir`, the default file lives in
    /// `self.data_dir`, else `data_dir`.
    ///
    /// # Errors
    ///
    /// [`TarmacError::InvalidOptions`] for `postgres` without `url`, [`TarmacError::DataDir`]
    /// when the directory cannot be created, [`TarmacError::Sql`] when the backend cannot open.
    pub fn build(&self, base_dir: &Path, data_dir: &Path) -> Result<Sql, TarmacError> {
        let sql = match self.backend {
            SqlBackendKind::Sqlite => match &self.path {
                Some(p) if p.as_os_str() == ":memory:" => Sql::new(SqliteSql::open_in_memory()?),
                Some(p) => Sql::new(SqliteSql::open(base_dir.join(p))?),
                None => {
                    let dir = self.data_dir.as_deref().unwrap_or(data_dir);
                    Sql::new(SqliteSql::open(
                        ensure_dir(&base_dir.join(dir))?.join("sql.sqlite"),
                    )?)
                }
            },
            SqlBackendKind::Postgres => {
                let url = self.url.as_deref().ok_or_else(|| {
                    TarmacError::InvalidOptions("sql backend \"postgres\" needs `url`".into())
                })?;
                Sql::new(PostgresSql::connect(url)?)
            }
        };
        let defaults = SqlLimits::default();
        Ok(sql.with_limits(SqlLimits {
            max_rows: self.max_rows.unwrap_or(defaults.max_rows),
            timeout: self
                .timeout_ms
                .map_or(defaults.timeout, Duration::from_millis),
        }))
    }
}

/// `httpclient` options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpOptions {
    /// See [`HttpClientConfig::allow_hosts`].
    pub allow_hosts: Vec<String>,
    /// See [`HttpClientConfig::timeout`], in milliseconds.
    pub timeout_ms: Option<u64>,
    /// See [`HttpClientConfig::max_response_bytes`].
    pub max_response_bytes: Option<usize>,
    /// See [`HttpClientConfig::allow_insecure`].
    pub allow_insecure: bool,
    /// See [`HttpClientConfig::max_redirects`].
    pub max_redirects: Option<u32>,
}

impl HttpOptions {
    /// Build the provider.
    pub fn build(&self) -> HttpClient {
        let defaults = HttpClientConfig::default();
        HttpClient::new(HttpClientConfig {
            allow_hosts: self.allow_hosts.clone(),
            timeout: self
                .timeout_ms
                .map_or(defaults.timeout, Duration::from_millis),
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(defaults.max_response_bytes),
            allow_insecure: self.allow_insecure,
            max_redirects: self.max_redirects.unwrap_or(defaults.max_redirects),
        })
    }
}

/// The `[preset.tarmac]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TarmacOptions {
    /// waPC binding to serve; `*` for every binding.
    pub binding: String,
    /// Directory of the embedded stores, relative to the config file.
    pub data_dir: PathBuf,
    /// Capabilities to register (a subset of [`CAPABILITIES`]).
    pub capabilities: Vec<String>,
    /// `kvstore` options.
    pub kvstore: KvOptions,
    /// `sql` options.
    pub sql: SqlOptions,
    /// `httpclient` options.
    pub httpclient: HttpOptions,
}

impl Default for TarmacOptions {
    fn default() -> Self {
        TarmacOptions {
            binding: DEFAULT_BINDING.to_string(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            capabilities: CAPABILITIES.iter().map(|c| c.to_string()).collect(),
            kvstore: KvOptions::default(),
            sql: SqlOptions::default(),
            httpclient: HttpOptions::default(),
        }
    }
}

impl TarmacOptions {
    /// Build the suite; relative paths resolve against `base_dir`, and `metrics` is the registry
    /// the `metrics` capability writes to.
    ///
    /// # Errors
    ///
    /// [`TarmacError::InvalidOptions`] for an unknown capability or an empty binding, and the
    /// errors of [`KvOptions::build`] and [`SqlOptions::build`].
    pub fn build(&self, base_dir: &Path, metrics: &Metrics) -> Result<TarmacSuite, TarmacError> {
        if let Some(unknown) = self
            .capabilities
            .iter()
            .find(|c| !CAPABILITIES.contains(&c.as_str()))
        {
            return Err(TarmacError::InvalidOptions(format!(
                "unknown capability \"{unknown}\", expected one of {}",
                CAPABILITIES.join(", ")
            )));
        }
        if self.binding.is_empty() {
            return Err(TarmacError::InvalidOptions(
                "binding must not be empty (use \"*\" for every binding)".into(),
            ));
        }
        let wants = |c: &str| self.capabilities.iter().any(|x| x == c);
        Ok(TarmacSuite {
            binding: self.binding.clone(),
            kvstore: if wants("kvstore") {
                Some(self.kvstore.build(base_dir, &self.data_dir)?)
            } else {
                None
            },
            sql: if wants("sql") {
                Some(self.sql.build(base_dir, &self.data_dir)?)
            } else {
                None
            },
            httpclient: wants("httpclient").then(|| self.httpclient.build()),
            logger: wants("logger"),
            metrics: wants("metrics").then(|| metrics.clone()),
        })
    }
}

fn ensure_dir(dir: &Path) -> Result<PathBuf, TarmacError> {
    std::fs::create_dir_all(dir).map_err(|source| TarmacError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(dir.to_path_buf())
}

/// The built suite: the providers to register, and the binding to register them under.
#[derive(Debug, Clone)]
pub struct TarmacSuite {
    /// waPC binding; `*` registers the routes for every binding.
    pub binding: String,
    /// `kvstore`.
    pub kvstore: Option<KvStore>,
    /// `sql`.
    pub sql: Option<Sql>,
    /// `httpclient`.
    pub httpclient: Option<HttpClient>,
    /// `logger` and `logging`.
    pub logger: bool,
    /// `metrics`.
    pub metrics: Option<Metrics>,
}

impl TarmacSuite {
    /// Everything in memory (in-memory kvstore, in-memory SQLite), httpclient denying every
    /// host, fresh metrics: for tests and demos.
    ///
    /// # Errors
    ///
    /// [`TarmacError::Sql`] if the in-memory SQLite database cannot open.
    pub fn in_memory() -> Result<Self, TarmacError> {
        Ok(TarmacSuite {
            binding: DEFAULT_BINDING.to_string(),
            kvstore: Some(KvStore::new(MemoryKv::new())),
            sql: Some(Sql::new(SqliteSql::open_in_memory()?)),
            httpclient: Some(HttpClient::new(HttpClientConfig::default())),
            logger: true,
            metrics: Some(Metrics::new()),
        })
    }

    /// Serve another binding (`*` for every binding).
    pub fn with_binding(mut self, binding: impl Into<String>) -> Self {
        self.binding = binding.into();
        self
    }

    fn key(&self, namespace: &str) -> RouteKey {
        RouteKey::namespace(namespace).with_binding_rule(&self.binding)
    }

    /// The namespace routes of the suite.
    pub fn routes(&self) -> Vec<(RouteKey, Arc<dyn Provider>)> {
        let mut routes: Vec<(RouteKey, Arc<dyn Provider>)> = Vec::new();
        if let Some(kv) = &self.kvstore {
            routes.push((self.key("kvstore"), Arc::new(kv.clone())));
        }
        if let Some(sql) = &self.sql {
            routes.push((self.key("sql"), Arc::new(sql.clone())));
        }
        if let Some(http) = &self.httpclient {
            routes.push((self.key("httpclient"), Arc::new(http.clone())));
        }
        if self.logger {
            routes.push((self.key("logger"), Arc::new(Logger)));
            routes.push((self.key("logging"), Arc::new(Logger)));
        }
        if let Some(metrics) = &self.metrics {
            routes.push((self.key("metrics"), Arc::new(metrics.clone())));
        }
        routes
    }

    /// Register every route on `router`, all or nothing ([`Router::register_all`]).
    ///
    /// # Errors
    ///
    /// [`TarmacError::Register`] when the router refuses a route (one is already
    /// registered); nothing of the suite is registered then.
    pub fn register(&self, router: &Router) -> Result<Vec<RouteInfo>, TarmacError> {
        router
            .register_all(self.routes(), Conflict::Reject)
            .map_err(|refused| TarmacError::Register(refused.into_error()))
    }
}

/// The Tarmac suite as a [`Capability`]: registers
/// - preset `tarmac` (`[preset.tarmac]`, options [`TarmacOptions`]);
/// - providers `kvstore` ([`KvOptions`]), `sql` ([`SqlOptions`]),
///   `httpclient` ([`HttpOptions`]), `logger` and `metrics` (no options), for `[[route]]`s.
///
/// Guest functions (`[function.<name>]`) are their own capability,
/// [`FunctionGuests`](crate::FunctionGuests).
///
/// ```
/// use switchboard::config::ProviderRegistry;
/// use switchboard_providers::metrics::Metrics;
/// use switchboard_providers::Tarmac;
///
/// let registry = ProviderRegistry::new().with(&Tarmac::new(Metrics::new()));
/// assert_eq!(registry.preset_names().collect::<Vec<_>>(), ["tarmac"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Tarmac {
    metrics: Metrics,
}

impl Tarmac {
    /// The suite, its `metrics` capability writing to `metrics`: give the same value's
    /// [`observer`](Metrics::observer) to the router and render it for `--metrics`.
    pub fn new(metrics: Metrics) -> Self {
        Tarmac { metrics }
    }
}

impl Capability for Tarmac {
    fn register(&self, registry: &mut ProviderRegistry) {
        let preset_metrics = self.metrics.clone();
        registry.register_preset(PRESET, move |ctx| {
            let mut options: TarmacOptions = ctx.parse_options()?;
            if let Some(dir) = ctx.data_dir() {
                options.data_dir = dir.to_path_buf();
            }
            let suite = options.build(ctx.base_dir(), &preset_metrics)?;
            Ok(suite.routes())
        });
        registry.register_provider("kvstore", |ctx| {
            let mut opts: KvOptions = ctx.parse_options()?;
            if let Some(dir) = ctx.data_dir() {
                opts.data_dir = Some(dir.to_path_buf());
            }
            let kv = opts.build(ctx.base_dir(), Path::new(DEFAULT_DATA_DIR))?;
            Ok(Arc::new(kv) as Arc<dyn Provider>)
        });
        registry.register_provider("sql", |ctx| {
            let mut opts: SqlOptions = ctx.parse_options()?;
            if let Some(dir) = ctx.data_dir() {
                opts.data_dir = Some(dir.to_path_buf());
            }
            let sql = opts.build(ctx.base_dir(), Path::new(DEFAULT_DATA_DIR))?;
            Ok(Arc::new(sql) as Arc<dyn Provider>)
        });
        registry.register_provider("httpclient", |ctx| {
            let opts: HttpOptions = ctx.parse_options()?;
            Ok(Arc::new(opts.build()) as Arc<dyn Provider>)
        });
        registry.register_provider("logger", |ctx| {
            no_options(ctx)?;
            Ok(Arc::new(Logger) as Arc<dyn Provider>)
        });
        let route_metrics = self.metrics.clone();
        registry.register_provider("metrics", move |ctx| {
            no_options(ctx)?;
            Ok(Arc::new(route_metrics.clone()) as Arc<dyn Provider>)
        });
    }
}

fn no_options(ctx: &FactoryContext<'_>) -> Result<(), FactoryError> {
    match ctx.options().keys().next() {
        None => Ok(()),
        Some(key) => Err(FactoryError::InvalidOptions(format!(
            "unknown option `{key}`: provider \"{}\" takes no options",
            ctx.name()
        ))),
    }
}

#[cfg(test)]
mod tests;
