//! `switchboard run`.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use switchboard::wapc::{GuestConfig, GuestModule};
use switchboard_providers::metrics::Metrics;

use crate::args::RunArgs;
use crate::exit::InputError;

/// Load the config, register its routes, invoke the guest once, write the response to stdout
/// exactly (no newline added; a reader closing the pipe early is not an error). With `--metrics`, the exposition follows on stderr (or in the
/// file), whether the invocation succeeded or not.
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let payload = read_payload(args.payload.as_deref())?;
    let config = crate::registry::load(args.config.as_deref())?;
    let metrics = Metrics::new();
    let router = crate::registry::router(&metrics);
    let result = invoke(args, &config, &router, &metrics, &payload);
    if let Some(target) = &args.metrics {
        write_metrics(target, &metrics)?;
    }
    let response = result?;
    crate::stdout::write_all(&response).context("cannot write the response to stdout")
}

fn invoke(
    args: &RunArgs,
    config: &switchboard::config::Config,
    router: &switchboard::Router,
    metrics: &Metrics,
    payload: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let routes = crate::registry::apply(config, router, metrics, &args.stores)?;
    tracing::info!(routes = routes.len(), "routes registered");
    let guest_config =
        crate::registry::guest_config(config, GuestConfig::default().with_pool_size(1));
    let module = GuestModule::from_file(&args.guest, guest_config)?;
    let runtime = module.runtime(router)?;
    Ok(runtime.invoke(&args.operation, payload)?)
}

/// `-` is stderr, anything else a file (replaced).
fn write_metrics(target: &Path, metrics: &Metrics) -> anyhow::Result<()> {
    let text = metrics.render();
    if target == Path::new("-") {
        std::io::stderr()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write the metrics to stderr")
    } else {
        std::fs::write(target, text)
            .with_context(|| format!("cannot write the metrics to {}", target.display()))
    }
}

/// `@path` reads a file, `-` reads stdin, anything else is the payload itself.
fn read_payload(arg: Option<&str>) -> Result<Vec<u8>, InputError> {
    match arg {
        None => Ok(Vec::new()),
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|source| InputError::Stdin { source })?;
            Ok(buf)
        }
        Some(arg) => match arg.strip_prefix('@') {
            Some(path) => std::fs::read(path).map_err(|source| InputError::File {
                path: Path::new(path).to_path_buf(),
                source,
            }),
            None => Ok(arg.as_bytes().to_vec()),
        },
    }
}
