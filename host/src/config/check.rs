//! Checking: from the file's text to a [`Config`], refusing everything the file alone can
//! tell is wrong, with the file, line, column and dotted key of the problem.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::location;
use super::model::{
    Config, DirGrant, FunctionEntry, GrantSettings, GuestSettings, PresetEntry, RouteEntry,
    COMPONENT_PROVIDER,
};
use super::raw::{RawConfig, RawFunction, RawGrants, RawGuest, RawRoute};
use super::{ConfigError, Location};
use crate::wapc::EngineKind;
use crate::RouteKey;

/// `max_memory_mib` above this cannot be honoured by a 32-bit linear memory.
const MAX_MEMORY_MIB: u64 = 4096;

/// The engine names this build accepts, for the error message.
#[cfg(feature = "wasmtime-provider")]
const KNOWN_ENGINES: &str = "switchboard, wasmtime-provider";
#[cfg(not(feature = "wasmtime-provider"))]
const KNOWN_ENGINES: &str = "switchboard";

impl Config {
    /// Read and check a config file.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Io`] when the file cannot be read, otherwise as [`parse`](Self::parse).
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Check config text; `path` names it in errors and its directory is the base of relative
    /// paths (the file itself is not read).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`], located, for bad TOML, an unknown key, a value of the wrong
    /// type or out of range, a key given together with its alias, a missing directory grant, or
    /// an engine this build does not have.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let raw: RawConfig = toml::from_str(text).map_err(|err| {
            let offset = err.span().map(|s| s.start);
            ConfigError::Invalid {
                at: offset.map_or_else(
                    || Location::file(path),
                    |o| Location::at_offset(path, text, o),
                ),
                key: offset.and_then(|o| location::key_path_at(text, o)),
                message: err.message().to_string(),
            }
        })?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let checker = Checker { path, text };
        Ok(Config {
            path: Some(path.to_path_buf()),
            guest: checker.guest(raw.guest, &base_dir)?,
            routes: raw
                .route
                .into_iter()
                .enumerate()
                .map(|(index, route)| checker.route(index, route))
                .collect::<Result<_, _>>()?,
            presets: raw
                .preset
                .into_iter()
                .map(|(name, options)| PresetEntry {
                    at: checker.table_at(&["preset", &name]),
                    name,
                    options,
                })
                .collect(),
            functions: raw
                .function
                .into_iter()
                .map(|(name, function)| checker.function(name, function, &base_dir))
                .collect::<Result<_, _>>()?,
            base_dir,
        })
    }
}

/// Turns spans into locations and raw sections into checked ones.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    fn at(&self, span: &Range<usize>) -> Location {
        Location::at_offset(self.path, self.text, span.start)
    }

    /// Where the table at `keys` starts: its header, or for a table only implied by sub-tables
    /// (`[preset.tarmac.kvstore]` alone), its first entry; the file when neither is known.
    fn table_at(&self, keys: &[&str]) -> Location {
        location::table_offset(self.text, keys).map_or_else(
            || Location::file(self.path),
            |offset| Location::at_offset(self.path, self.text, offset),
        )
    }

    fn invalid(
        &self,
        span: &Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            at: self.at(span),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    fn positive(&self, value: &Spanned<u64>, key: &str) -> Result<u64, ConfigError> {
        match *value.get_ref() {
            0 => Err(self.invalid(&value.span(), key, "must be greater than 0")),
            n => Ok(n),
        }
    }

    /// The value of `key`, or of its older `alias`; both at once is an error naming both.
    fn aliased<'v, T>(
        &self,
        key: (&str, Option<&'v Spanned<T>>),
        alias: (&str, Option<&'v Spanned<T>>),
    ) -> Result<Option<(&'v Spanned<T>, String)>, ConfigError> {
        match (key.1, alias.1) {
            (Some(_), Some(old)) => Err(self.invalid(
                &old.span(),
                alias.0,
                format!(
                    "`{}` and its alias `{}` are both given; keep `{}`",
                    key.0, alias.0, key.0
                ),
            )),
            (Some(value), None) => Ok(Some((value, key.0.to_string()))),
            (None, Some(value)) => Ok(Some((value, alias.0.to_string()))),
            (None, None) => Ok(None),
        }
    }

    fn guest(&self, raw: RawGuest, base_dir: &Path) -> Result<GuestSettings, ConfigError> {
        let mut guest = GuestSettings::default();
        if let Some((mib, key)) = self.aliased(
            ("guest.max_memory_mib", raw.max_memory_mib.as_ref()),
            ("guest.memory_limit_mib", raw.memory_limit_mib.as_ref()),
        )? {
            let n = self.positive(mib, &key)?;
            if n > MAX_MEMORY_MIB {
                return Err(self.invalid(
                    &mib.span(),
                    key,
                    format!("must be at most {MAX_MEMORY_MIB} (4 GiB, the wasm32 maximum)"),
                ));
            }
            guest.max_memory_bytes = usize::try_from(n << 20).ok();
        }
        if let Some(elements) = &raw.max_table_elements {
            let n = self.positive(elements, "guest.max_table_elements")?;
            guest.max_table_elements = Some(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if let Some(ms) = &raw.timeout_ms {
            let n = self.positive(ms, "guest.timeout_ms")?;
            guest.timeout = Some(Duration::from_millis(n));
        }
        if let Some(ms) = &raw.init_timeout_ms {
            let n = self.positive(ms, "guest.init_timeout_ms")?;
            guest.init_timeout = Some(Duration::from_millis(n));
        }
        if let Some((count, key)) = self.aliased(
            ("guest.pool_max", raw.pool_max.as_ref()),
            ("guest.instances", raw.instances.as_ref()),
        )? {
            let n = self.positive(count, &key)?;
            guest.pool_max = Some(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if let Some(engine) = &raw.engine {
            guest.engine = Some(self.engine(engine)?);
        }
        let (grants, table) = match (raw.grants, raw.wasi) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    at: self.table_at(&["guest", "wasi"]),
                    key: Some("guest.wasi".to_string()),
                    message: "`guest.grants` and its alias `guest.wasi` are both given; keep \
                              `guest.grants`"
                        .to_string(),
                })
            }
            (Some(grants), None) => (grants, "guest.grants"),
            (None, Some(wasi)) => (wasi, "guest.wasi"),
            (None, None) => return Ok(guest),
        };
        guest.grants = self.grants(grants, table, base_dir)?;
        Ok(guest)
    }

    fn engine(&self, engine: &Spanned<String>) -> Result<EngineKind, ConfigError> {
        match engine.get_ref().as_str() {
            "switchboard" => Ok(EngineKind::Switchboard),
            #[cfg(feature = "wasmtime-provider")]
            "wasmtime-provider" => Ok(EngineKind::WasmtimeProvider),
            #[cfg(not(feature = "wasmtime-provider"))]
            "wasmtime-provider" => Err(self.invalid(
                &engine.span(),
                "guest.engine",
                "this build has no wasmtime-provider engine (build switchboard with the cargo \
                 feature `wasmtime-provider`)",
            )),
            other => Err(self.invalid(
                &engine.span(),
                "guest.engine",
                format!("unknown engine '{other}' (known: {})", KNOWN_ENGINES),
            )),
        }
    }

    /// `table` is the key the grants were given under (`guest.grants` or its alias).
    fn grants(
        &self,
        raw: RawGrants,
        table: &str,
        base_dir: &Path,
    ) -> Result<GrantSettings, ConfigError> {
        let mut grants = GrantSettings::default();
        if let Some(env) = raw.env {
            let span = env.span();
            for (name, value) in env.into_inner() {
                if name.is_empty()
                    || name.contains('=')
                    || name.contains('\0')
                    || value.contains('\0')
                {
                    return Err(self.invalid(
                        &span,
                        format!("{table}.env.{name}"),
                        "environment variable names must be non-empty without `=` or NUL, values without NUL",
                    ));
                }
                grants.env.push((name, value));
            }
        }
        grants.args = raw.args;
        for (index, dir) in raw.dirs.into_iter().enumerate() {
            let host = base_dir.join(dir.host.get_ref());
            if !host.is_dir() {
                return Err(self.invalid(
                    &dir.host.span(),
                    format!("{table}.dirs[{index}].host"),
                    format!("directory {} does not exist", host.display()),
                ));
            }
            if !dir.guest.get_ref().starts_with('/') {
                return Err(self.invalid(
                    &dir.guest.span(),
                    format!("{table}.dirs[{index}].guest"),
                    "the guest path must be absolute (e.g. \"/data\")",
                ));
            }
            grants.dirs.push(DirGrant {
                host,
                guest: dir.guest.into_inner(),
            });
        }
        Ok(grants)
    }

    fn function(
        &self,
        name: String,
        raw: RawFunction,
        base_dir: &Path,
    ) -> Result<FunctionEntry, ConfigError> {
        let at = self.table_at(&["function", &name]);
        if name.is_empty() {
            return Err(ConfigError::Invalid {
                at,
                key: Some("function".to_string()),
                message: "a function name must not be empty".to_string(),
            });
        }
        if raw.guest.get_ref().is_empty() {
            return Err(self.invalid(
                &raw.guest.span(),
                format!("function.{name}.guest"),
                "must not be empty",
            ));
        }
        Ok(FunctionEntry {
            guest: base_dir.join(raw.guest.get_ref()),
            name,
            at,
        })
    }

    fn route(&self, index: usize, raw: Spanned<RawRoute>) -> Result<RouteEntry, ConfigError> {
        let at = self.at(&raw.span());
        let raw = raw.into_inner();
        let name = |field: &str| format!("route[{index}].{field}");
        let non_empty = |value: &Spanned<String>, field: &str, hint: &str| {
            if value.get_ref().is_empty() {
                Err(self.invalid(
                    &value.span(),
                    name(field),
                    format!("must not be empty{hint}"),
                ))
            } else {
                Ok(value.get_ref().clone())
            }
        };

        let namespace = non_empty(&raw.namespace, "namespace", "")?;
        let mut key = match &raw.operation {
            Some(op) => RouteKey::exact(
                namespace,
                non_empty(op, "operation", " (omit it to serve every operation)")?,
            ),
            None => RouteKey::namespace(namespace),
        };
        if let Some(binding) = &raw.binding {
            key = key.with_binding(non_empty(
                binding,
                "binding",
                " (omit it to match every binding)",
            )?);
        }

        let mut options = raw.options.unwrap_or_default();
        let (provider, provider_at) = match (raw.provider, raw.component) {
            (Some(provider), None) => {
                let name_ = non_empty(&provider, "provider", "")?;
                (name_, self.at(&provider.span()))
            }
            (None, Some(component)) => {
                let path = non_empty(&component, "component", "")?;
                if options.contains_key("path") {
                    return Err(self.invalid(
                        &component.span(),
                        name("options.path"),
                        "give the component's path once: `component = ...` or `options.path`",
                    ));
                }
                options.insert("path".to_string(), toml::Value::String(path));
                (COMPONENT_PROVIDER.to_string(), self.at(&component.span()))
            }
            (Some(provider), Some(_)) => {
                return Err(self.invalid(
                    &provider.span(),
                    name("provider"),
                    "a route has either `provider` or `component`, not both",
                ))
            }
            (None, None) => {
                return Err(ConfigError::Invalid {
                    at,
                    key: Some(format!("route[{index}]")),
                    message:
                        "a route needs `provider = \"<name>\"` or `component = \"<file>.wasm\"`"
                            .to_string(),
                })
            }
        };
        Ok(RouteEntry {
            key,
            provider,
            options,
            at,
            index,
            provider_at,
        })
    }
}
