//! `switchboard`: run waPC guests whose host calls are routed to providers.
//!
//! A thin shell over the `switchboard` library: parse arguments, set up logging, call the
//! library, turn errors into one line on stderr and an exit code (see [`exit`]).

mod args;
mod exit;
mod listing;
mod registry;
mod run;
mod stdout;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match &cli.command {
        Command::Run(run) => run::run(run),
        Command::Routes(routes) => listing::routes(routes),
        Command::Providers => listing::providers(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("switchboard: {}", exit::one_line(&err));
            ExitCode::from(exit::code_for(&err))
        }
    }
}

/// Logs go to stderr only: stdout carries the guest's response and nothing else. `RUST_LOG`
/// wins over `-v`.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
