//! Grants both kinds of guest accept, and the WASI context setup they share.

use std::path::PathBuf;

use serde::Deserialize;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// A host directory made visible, read-only, to a WASI guest or component.
///
/// The same type as `wapc::PreopenDir` and `component::ReadOnlyDir`; in configuration files a
/// table `{ host = "...", guest = "/data" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadOnlyDir {
    /// The directory on the host.
    pub host: PathBuf,
    /// The path the guest sees (e.g. `/data`).
    pub guest: String,
}

/// Preopen each of `dirs` read-only in `builder`.
///
/// # Errors
/// A directory cannot be opened; the text names it and the path the guest would see.
pub(crate) fn preopen_read_only(
    builder: &mut WasiCtxBuilder,
    dirs: &[ReadOnlyDir],
) -> Result<(), String> {
    for dir in dirs {
        builder
            .preopened_dir(&dir.host, &dir.guest, FsPerms::ReadOnly)
            .map_err(|e| {
                format!(
                    "cannot preopen {} as {}: {e}",
                    dir.host.display(),
                    dir.guest
                )
            })?;
    }
    Ok(())
}
