//! Turn a core WASM module into a component with `wit-component`'s `ComponentEncoder`.
//!
//! The module must carry the `component-type` custom section that `wit-bindgen` embeds: it
//! tells the encoder which world the module implements. Only import-free modules (built for
//! `wasm32-unknown-unknown`) are supported: a `wasm32-wasip1` module would need the WASI
//! preview 1 adapter, and `wasm32-wasip2` builds are components already.

use anyhow::{bail, Context, Result};

/// The first bytes of a core module: magic plus version 1.
const CORE_MODULE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/// Encode `module` (a core WASM module with an embedded `component-type` section) as a
/// validated component.
///
/// # Errors
///
/// When `module` is not a core module, has no `component-type` section, or does not validate as
/// a component once encoded.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>> {
    if module.len() < CORE_MODULE_HEADER.len() || module[..4] != CORE_MODULE_HEADER[..4] {
        bail!("not a WASM binary (bad magic number)");
    }
    if module[4..8] != CORE_MODULE_HEADER[4..8] {
        bail!("already a component (or an unknown WASM version): nothing to do");
    }
    if !has_component_type(module)? {
        bail!("the module has no component-type section: build it with wit-bindgen");
    }
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .context("the module's component-type section is unusable")?
        .encode()
        .context("encoding the component failed")
}

/// Whether the module embeds a `component-type*` custom section (wit-bindgen's world
/// description). Without one the encoder would happily produce a component exporting nothing.
fn has_component_type(module: &[u8]) -> Result<bool> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::CustomSection(section) =
            payload.context("the module is not valid WASM")?
        {
            if section.name().starts_with("component-type") {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_wasm_input() {
        let err = componentize(b"hello world").unwrap_err();
        assert_eq!(err.to_string(), "not a WASM binary (bad magic number)");
    }

    #[test]
    fn rejects_a_component() {
        // Magic, then the component-model layer/version header.
        let component = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
        let err = componentize(&component).unwrap_err();
        assert_eq!(
            err.to_string(),
            "already a component (or an unknown WASM version): nothing to do"
        );
    }

    #[test]
    fn rejects_a_module_without_component_type() {
        // The smallest valid core module: no custom section tells the world.
        let err = componentize(&CORE_MODULE_HEADER).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the module has no component-type section: build it with wit-bindgen"
        );
    }
}
