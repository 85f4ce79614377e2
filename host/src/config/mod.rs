//! `switchboard.toml`: routes to providers, guest limits and grants.
//!
//! ```toml
//! [guest]                     # the waPC guest run by `switchboard run`; every key optional
//! engine = "switchboard"      # or "wasmtime-provider" (only in builds with that cargo feature)
//! max_memory_mib = 64         # linear memory cap                    (alias: memory_limit_mib)
//! max_table_elements = 10000  # cap on every table of the guest
//! timeout_ms = 10000          # deadline of one invocation, host calls included
//! init_timeout_ms = 10000     # deadline of instantiation and init functions
//! pool_max = 4                # instances: parallel invocations       (alias: instances)
//!
//! [guest.grants]              # WASI grants; nothing is granted by default (alias: [guest.wasi])
//! env = { GREETING = "hi" }
//! args = ["guest", "--verbose"]
//! dirs = [{ host = "./data", guest = "/data" }]   # read-only; host path must exist
//!
//! [[route]]
//! namespace = "example"       # required
//! operation = "echo"          # omitted: the provider serves every operation of the namespace
//! binding = "demo"            # omitted: every waPC binding
//! provider = "echo"           # a provider name from the registry (see `switchboard providers`)
//! [route.options]             # handed to the provider's factory
//!
//! [[route]]
//! namespace = "database:kv"
//! component = "kv.wasm"       # same as provider = "component" with options.path = "kv.wasm"
//!
//! [preset.tarmac]             # a preset registers a whole suite of routes; the table is
//! binding = "tarmac"          # the preset's options
//!
//! [function.reports]          # a guest function other guests may call (Tarmac's `function`
//! guest = "reports.wasm"      # capability): operation `reports` invokes its `handler`
//! ```
//!
//! The `[guest]` keys share their names and units with component routes (`max_memory_*`,
//! `max_table_elements`, `*_timeout_ms`, `pool_max`, `grants`). The older names stay accepted
//! as aliases, so existing files load: `memory_limit_mib` for `max_memory_mib`, `instances` for
//! `pool_max`, `[guest.wasi]` for `[guest.grants]`. Giving a key together with its alias is an
//! error naming both.
//!
//! Unknown keys are errors. Relative paths resolve against the config file's directory.
//! Errors name the file, line, column and dotted key:
//! ``switchboard.toml:7:1: `route[0].provder`: unknown field `provder`, expected one of ...``.
//!
//! The module is split by step:
//! - checking ([`Config::load`], [`Config::parse`]) decides everything the file alone decides
//!   and yields the [model](Config);
//! - the registration contract ([`Capability`], [`ProviderRegistry`], [`FactoryContext`]) is
//!   how providers make their names known; this module never names a concrete provider;
//! - applying ([`Config::apply_with`], [`ApplyOptions`]) builds the providers through a
//!   registry and registers the routes on a [`Router`](crate::Router) in one batch.

mod apply;
mod check;
mod context;
mod error;
mod location;
mod model;
mod raw;
mod registry;

pub use apply::ApplyOptions;
pub use context::{BuiltRoutes, FactoryContext, FactoryError, PresetFactory, ProviderFactory};
pub use error::ConfigError;
pub use location::Location;
pub use model::{
    Config, DirGrant, FunctionEntry, GrantSettings, GuestSettings, PresetEntry, RouteEntry,
    COMPONENT_PROVIDER,
};
pub use registry::{Capability, ProviderRegistry};

#[cfg(test)]
mod tests;
