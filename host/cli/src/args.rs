//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run waPC guests whose host calls are routed to native and component providers.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, after_help = crate::exit::HELP)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Invoke one operation of a waPC guest; the response bytes go to stdout unchanged.
    Run(RunArgs),
    /// List the routes a config file declares.
    Routes(RoutesArgs),
    /// List the provider and preset names a config file may use.
    Providers,
}

/// `switchboard run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The guest module (.wasm).
    pub guest: PathBuf,
    /// The operation to invoke.
    pub operation: String,
    /// The payload: literal text, `@path` to read a file, `-` to read stdin. Default: empty.
    pub payload: Option<String>,
    /// Routes, guest limits and grants (switchboard.toml). Default: no routes, default limits.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// After the run (also a failed one), write the Prometheus text exposition of the Tarmac
    /// metrics and per-route call statistics: `--metrics` to stderr, `--metrics=FILE` to a file.
    /// stdout always carries the guest's response only.
    #[arg(
        long,
        value_name = "FILE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "-"
    )]
    pub metrics: Option<PathBuf>,
    #[command(flatten)]
    pub stores: StoreArgs,
}

/// Where the embedded stores live.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Directory of the embedded stores (redb kvstore, SQLite) of the Tarmac suite, overriding
    /// the config's `data_dir`. Default: `.switchboard` beside the config file.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `switchboard routes`.
#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// The config file (switchboard.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: PathBuf,
    #[command(flatten)]
    pub stores: StoreArgs,
}
