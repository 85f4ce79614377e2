//! WASI for guests that import it, with nothing granted unless configured: preview 1
//! (`wasi_snapshot_preview1`), and preview 0 (`wasi_unstable`) for modules built by TinyGo
//! before 2022. Both run on the same context, so grants and stdio capture are the same.

use std::sync::Arc;

use wasmtime::{Linker, Module};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtxBuilder;

use super::config::WasiGrants;
use super::error::WapcError;
use super::stdio;
use super::store::StoreData;
use crate::sandbox::grants;

/// The import module name of WASI preview 1.
pub(crate) const WASI_P1_MODULE: &str = "wasi_snapshot_preview1";
/// The import module name of WASI preview 0 (snapshot 0).
pub(crate) const WASI_P0_MODULE: &str = "wasi_unstable";

/// Which WASI versions a module imports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Imported {
    pub(crate) p0: bool,
    pub(crate) p1: bool,
}

impl Imported {
    /// Whether the module imports any WASI at all.
    pub(crate) fn any(self) -> bool {
        self.p0 || self.p1
    }
}

/// Which WASI versions `module` imports (TinyGo guests import one).
pub(crate) fn imported(module: &Module) -> Imported {
    module
        .imports()
        .fold(Imported::default(), |seen, import| Imported {
            p0: seen.p0 || import.module() == WASI_P0_MODULE,
            p1: seen.p1 || import.module() == WASI_P1_MODULE,
        })
}

/// Link the WASI versions the module imports, and only those.
pub(crate) fn add_to_linker(
    linker: &mut Linker<StoreData>,
    imported: Imported,
) -> Result<(), WapcError> {
    let define_error =
        |e: wasmtime::Error| WapcError::Config(format!("cannot define the WASI imports: {e}"));
    if imported.p1 {
        wasmtime_wasi::p1::add_to_linker_sync(linker, |data: &mut StoreData| &mut data.wasi)
            .map_err(define_error)?;
    }
    if imported.p0 {
        wasmtime_wasi::p0::add_to_linker_sync(linker, |data: &mut StoreData| &mut data.wasi)
            .map_err(define_error)?;
    }
    Ok(())
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
    grants::preopen_read_only(&mut builder, &grants.read_only_dirs).map_err(WapcError::Config)?;
    Ok(builder.build_p1())
}
