//! On-disk cache of compiled wasm: components and waPC guest modules.
//!
//! Compiling a large component (a Python or JavaScript one is 12-18 MB) takes seconds, and a
//! CLI that compiles its guest on every run pays cranelift each time; deserializing a compiled
//! artifact takes milliseconds. Artifacts are keyed by the SHA-256 of the kind, the wasm bytes
//! and the engine's compatibility hash (wasmtime version, target, compilation settings), so a
//! changed input or engine never picks up a stale artifact. Files are written to a temporary
//! name and renamed, so readers never see half a file.
//!
//! Trust: deserializing runs native code from the cache directory, so the directory must be
//! writable only by whoever runs the host.

// The one place that deserializes native code: wasmtime marks it `unsafe` (see Trust above).
#![allow(unsafe_code)]

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// Something wasmtime compiles and can serialize: a component or a core module.
pub(crate) trait Artifact: Sized {
    /// Separates the key spaces of the kinds.
    const KIND: &'static [u8];
    /// # Safety
    /// `path` must hold an artifact this engine configuration serialized (see
    /// [`DiskCache::load`]).
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
}

impl Artifact for Component {
    const KIND: &'static [u8] = b"switchboard-component";
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: forwarded to the caller's contract.
        unsafe { Component::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Component::serialize(self)
    }
}

impl Artifact for Module {
    const KIND: &'static [u8] = b"switchboard-module";
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: forwarded to the caller's contract.
        unsafe { Module::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Module::serialize(self)
    }
}

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

    /// The artifact file for `bytes` compiled by `engine` as an `A`.
    pub(crate) fn path_for<A: Artifact>(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut sha = Sha256::new();
        engine
            .precompile_compatibility_hash()
            .hash(&mut ShaHasher(&mut sha));
        sha.update(b"\0");
        sha.update(A::KIND);
        sha.update(b"\0");
        sha.update(bytes);
        let digest = sha.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.cwasm"))
    }

    /// The cached artifact, if present and loadable. A corrupt or incompatible file is
    /// ignored (and will be overwritten).
    pub(crate) fn load<A: Artifact>(&self, engine: &Engine, path: &Path) -> Option<A> {
        if !path.is_file() {
            return None;
        }
        // SAFETY: the artifact was written by `store` below from `Component::serialize` of
        // this engine configuration (the file name includes the compatibility hash), and the
        // cache directory is trusted (see the module docs). wasmtime additionally checks the
        // artifact's header against the engine and rejects a mismatch with an error.
        match unsafe { A::deserialize_file(engine, path) } {
            Ok(artifact) => Some(artifact),
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "ignoring unusable compiled artifact in cache");
                None
            }
        }
    }

    /// Write `artifact`. Failures only cost a recompile later, so they are logged, not
    /// returned.
    pub(crate) fn store<A: Artifact>(&self, path: &Path, artifact: &A) {
        let result = (|| -> Result<(), String> {
            let bytes = artifact.serialize().map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, &bytes).map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                e.to_string()
            })
        })();
        if let Err(error) = result {
            tracing::warn!(path = %path.display(), %error, "cannot write compiled artifact to cache");
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
        let a = cache.path_for::<Component>(&plain, b"component a");
        assert_eq!(a, cache.path_for::<Component>(&plain, b"component a"));
        assert_ne!(a, cache.path_for::<Component>(&plain, b"component b"));
        assert_ne!(a, cache.path_for::<Component>(&fuel, b"component a"));
        assert_ne!(a, cache.path_for::<Module>(&plain, b"component a"));
        assert!(a.starts_with("/cache"));
        assert_eq!(a.extension().and_then(|e| e.to_str()), Some("cwasm"));
    }

    #[test]
    fn corrupt_artifact_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path());
        let engine = Engine::default();
        let path = cache.path_for::<Module>(&engine, b"x");
        std::fs::write(&path, b"not an artifact").unwrap();
        assert!(cache.load::<Module>(&engine, &path).is_none());
    }

    #[test]
    fn modules_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().join("nested"));
        let engine = Engine::default();
        let wat = b"(module (func (export \"f\") (result i32) i32.const 7))";
        let path = cache.path_for::<Module>(&engine, wat);
        assert!(cache.load::<Module>(&engine, &path).is_none());
        let module = Module::new(&engine, wat).unwrap();
        cache.store(&path, &module);
        let loaded = cache.load::<Module>(&engine, &path).expect("cached module");
        assert!(loaded.get_export("f").is_some());
    }
}
