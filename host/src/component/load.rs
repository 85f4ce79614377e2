//! Compile (or fetch from the disk cache) and check a component against the world, once.

use wasmtime::component::Component;

use super::bindings::{ProviderPre, HANDLER_EXPORT, HOST_IMPORT, TYPES_IMPORT, WASI_PREFIX};
use super::engine::ComponentEngine;
use super::error::ComponentError;
use super::state::InstanceState;

/// What a component may import, for error messages.
const ALLOWED_IMPORTS: &str =
    "switchboard:provider/host@0.1.0, switchboard:provider/types@0.1.0, wasi:*";

/// A compiled component that matches the world, ready to instantiate.
pub(crate) struct Loaded {
    pub(crate) pre: ProviderPre<InstanceState>,
    pub(crate) from_cache: bool,
}

/// Compile `bytes` (or load their cached artifact), then check the exports and imports.
pub(crate) fn load(
    engine: &ComponentEngine,
    name: &str,
    bytes: &[u8],
) -> Result<Loaded, ComponentError> {
    let inner = engine.inner();
    let cached = inner.cache.as_ref().map(|cache| {
        let path = cache.path_for::<Component>(&inner.engine, bytes);
        (cache, path)
    });
    let mut from_cache = false;
    let component = match cached
        .as_ref()
        .and_then(|(cache, path)| cache.load::<Component>(&inner.engine, path))
    {
        Some(component) => {
            from_cache = true;
            component
        }
        None => {
            let component =
                Component::new(&inner.engine, bytes).map_err(|e| ComponentError::Compile {
                    name: name.to_string(),
                    message: format!("{e:#}"),
                })?;
            if let Some((cache, path)) = &cached {
                cache.store(path, &component);
            }
            component
        }
    };
    check_world(engine, name, &component)?;
    let instance_pre =
        inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| ComponentError::ImportMismatch {
                name: name.to_string(),
                message: format!("{e:#}"),
            })?;
    let pre = ProviderPre::new(instance_pre).map_err(|e| ComponentError::ExportMismatch {
        name: name.to_string(),
        export: HANDLER_EXPORT,
        message: format!("{e:#}"),
    })?;
    Ok(Loaded { pre, from_cache })
}

/// Name the missing export or the foreign import before wasmtime's generic link errors.
fn check_world(
    engine: &ComponentEngine,
    name: &str,
    component: &Component,
) -> Result<(), ComponentError> {
    let ty = component.component_type();
    let wasmtime = engine.wasmtime();
    let exports: Vec<String> = ty
        .exports(wasmtime)
        .map(|(export, _)| export.to_string())
        .collect();
    if !exports.iter().any(|export| export == HANDLER_EXPORT) {
        return Err(ComponentError::MissingExport {
            name: name.to_string(),
            expected: HANDLER_EXPORT,
            found: if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports.join(", ")
            },
        });
    }
    for (import, _) in ty.imports(wasmtime) {
        if import != HOST_IMPORT && import != TYPES_IMPORT && !import.starts_with(WASI_PREFIX) {
            return Err(ComponentError::UnknownImport {
                name: name.to_string(),
                import: import.to_string(),
                allowed: ALLOWED_IMPORTS,
            });
        }
    }
    Ok(())
}
