//! The file's shape as serde sees it: every table refuses unknown keys, and values whose
//! problems are only found after parsing keep their spans for error messages.
//!
//! Free-form tables (preset tables, route options) are plain `toml::Table`s, never
//! `Spanned<toml::Table>`: toml 0.8 cannot give a span to a table that only exists through a
//! sub-table header (`[preset.tarmac.kvstore]` without `[preset.tarmac]`) and fails with
//! "expected a borrowed string". Their locations come from [`super::location::table_offset`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub guest: RawGuest,
    #[serde(default)]
    pub route: Vec<Spanned<RawRoute>>,
    #[serde(default)]
    pub preset: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub function: BTreeMap<String, RawFunction>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFunction {
    pub guest: Spanned<String>,
}

/// `[guest]`, with today's names and their older aliases side by side: the checker refuses a
/// key given together with its alias.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGuest {
    pub engine: Option<Spanned<String>>,
    pub max_memory_mib: Option<Spanned<u64>>,
    pub memory_limit_mib: Option<Spanned<u64>>,
    pub max_table_elements: Option<Spanned<u64>>,
    pub timeout_ms: Option<Spanned<u64>>,
    pub init_timeout_ms: Option<Spanned<u64>>,
    pub pool_max: Option<Spanned<u64>>,
    pub instances: Option<Spanned<u64>>,
    pub grants: Option<RawGrants>,
    pub wasi: Option<RawGrants>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrants {
    pub env: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub dirs: Vec<RawDir>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDir {
    pub host: Spanned<String>,
    pub guest: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub namespace: Spanned<String>,
    pub operation: Option<Spanned<String>>,
    pub binding: Option<Spanned<String>>,
    pub provider: Option<Spanned<String>>,
    pub component: Option<Spanned<String>>,
    pub options: Option<toml::Table>,
}
