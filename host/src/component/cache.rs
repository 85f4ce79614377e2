//! On-disk cache of compiled components.
//!
//! Compiling a large component (a Python or JavaScript one is 12-18 MB) takes seconds;
//! deserializing its compiled artifact takes milliseconds. Artifacts are keyed by the SHA-256
//! of the component bytes together with the engine's compatibility hash (wasmtime version,
//! target, compilation settings), so a changed component or engine never picks up a stale
//! artifact. Files are written to a temporary name and renamed, so readers never see half a
//! file.
//!
//! Trust: deserializing runs native code from the cache directory, so the directory must be
//! writable only by whoever runs the host.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

/// A directory of `<sha256>.cwasm` artifacts.
#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
}

/// Feeds `Hash` output into SHA-256, so the engine's compatibility hash is stable across runs
/// (unlike `DefaultHasher`, which makes no such promise).
struct ShaHasher<'a>(&'a mut Sha256);

impl Hasher for ShaHasher<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Never used: the digest is read from the Sha256 itself.
        0
    }
}

impl DiskCache {
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Self {
        DiskCache { dir: dir.into() }
    }

    /// The artifact file for `bytes` compiled by `engine`.
    pub(crate) fn path_for(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut sha = Sha256::new();
        engine
            .precompile_compatibility_hash()
            .hash(&mut ShaHasher(&mut sha));
        sha.update(b"\0switchboard-component\0");
        sha.update(bytes);
        let digest = sha.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.cwasm"))
    }

    /// The cached artifact, if present and loadable. A corrupt or incompatible file is
    /// ignored (and will be overwritten).
    pub(crate) fn load(&self, engine: &Engine, path: &Path) -> Option<Component> {
        if !path.is_file() {
            return None;
        }
        // SAFETY: the artifact was written by `store` below from `Component::serialize` of
        // this engine configuration (the file name includes the compatibility hash), and the
        // cache directory is trusted (see the module docs). wasmtime additionally checks the
        // artifact's header against the engine and rejects a mismatch with an error.
        match unsafe { Component::deserialize_file(engine, path) } {
            Ok(component) => Some(component),
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "ignoring unusable compiled component in cache");
                None
            }
        }
    }

    /// Write `component`'s artifact. Failures only cost a recompile later, so they are logged,
    /// not returned.
    pub(crate) fn store(&self, path: &Path, component: &Component) {
        let result = (|| -> Result<(), String> {
            let bytes = component.serialize().map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, &bytes).map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                e.to_string()
            })
        })();
        if let Err(error) = result {
            tracing::warn!(path = %path.display(), %error, "cannot write compiled component to cache");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_bytes_and_engine_settings() {
        let cache = DiskCache::new("/cache");
        let plain = Engine::default();
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        let fuel = Engine::new(&config).unwrap();
        let a = cache.path_for(&plain, b"component a");
        assert_eq!(a, cache.path_for(&plain, b"component a"));
        assert_ne!(a, cache.path_for(&plain, b"component b"));
        assert_ne!(a, cache.path_for(&fuel, b"component a"));
        assert!(a.starts_with("/cache"));
        assert_eq!(a.extension().and_then(|e| e.to_str()), Some("cwasm"));
    }

    #[test]
    fn corrupt_artifact_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path());
        let engine = Engine::default();
        let path = cache.path_for(&engine, b"x");
        std::fs::write(&path, b"not an artifact").unwrap();
        assert!(cache.load(&engine, &path).is_none());
    }
}
