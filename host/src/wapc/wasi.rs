//! WASI preview 1 for guests that import it, with nothing granted unless configured.

use std::sync::Arc;

use wasmtime::Module;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use super::config::WasiGrants;
use super::error::WapcError;
use super::stdio;

/// The import module name of WASI preview 1.
pub(crate) const WASI_P1_MODULE: &str = "wasi_snapshot_preview1";

/// Whether `module` imports anything from WASI preview 1 (TinyGo guests do).
pub(crate) fn imports_wasi(module: &Module) -> bool {
    module
        .imports()
        .any(|import| import.module() == WASI_P1_MODULE)
}

/// Fail early, at load time, on a directory grant that cannot be opened.
pub(crate) fn check_grants(grants: &WasiGrants) -> Result<(), WapcError> {
    for dir in &grants.read_only_dirs {
        if !dir.host.is_dir() {
            return Err(WapcError::Config(format!(
                "preopened directory {} (guest path {}) is not a directory",
                dir.host.display(),
                dir.guest
            )));
        }
    }
    Ok(())
}

/// A fresh WASI context: only the granted env, args and read-only dirs; empty stdin;
/// stdout/stderr into `tracing` tagged with `guest`.
pub(crate) fn context(guest: &Arc<str>, grants: &WasiGrants) -> Result<WasiP1Ctx, WapcError> {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdout(stdio::output(guest.clone(), "stdout"))
        .stderr(stdio::output(guest.clone(), "stderr"))
        .envs(&grants.env)
        .args(&grants.args);
    for dir in &grants.read_only_dirs {
        builder
            .preopened_dir(&dir.host, &dir.guest, FsPerms::ReadOnly)
            .map_err(|e| {
                WapcError::Config(format!(
                    "cannot preopen {} as {}: {e}",
                    dir.host.display(),
                    dir.guest
                ))
            })?;
    }
    Ok(builder.build_p1())
}
