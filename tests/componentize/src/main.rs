//! `switchboard-componentize IN.wasm OUT.wasm`: wrap a wit-bindgen core module as a component.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

fn run() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(input), Some(output), None) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: switchboard-componentize IN.wasm OUT.wasm");
    };
    let (input, output) = (PathBuf::from(input), PathBuf::from(output));
    let module =
        std::fs::read(&input).with_context(|| format!("cannot read {}", input.display()))?;
    let component = switchboard_componentize::componentize(&module)
        .with_context(|| format!("cannot componentize {}", input.display()))?;
    std::fs::write(&output, &component)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("switchboard-componentize: {err:#}");
            ExitCode::FAILURE
        }
    }
}
