//! Build tool for component providers written in C (see providers/components/c/README.md):
//!
//! - `switchboard-c-bindgen bindgen WIT_DIR WORLD OUT_DIR`: the C bindings `wit-bindgen c`
//!   generates (`<world>.h`, `<world>.c`, `<world>_component_type.o`), from the
//!   `wit-bindgen-c` library, so no `wit-bindgen-cli` install (5-8 min) is needed.
//! - `switchboard-c-bindgen componentize CORE.wasm OUT.wasm`: a wasi-libc reactor module (which
//!   embeds the world through the `_component_type.o`) into a component, with the WASI
//!   preview 1 reactor adapter of wasmtime 48.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use wit_bindgen_core::wit_parser::Resolve;

const USAGE: &str = "usage: switchboard-c-bindgen bindgen WIT_DIR WORLD OUT_DIR\n       \
                     switchboard-c-bindgen componentize CORE.wasm OUT.wasm";

fn bindgen(wit: &Path, world: &str, out: &Path) -> Result<()> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit)
        .with_context(|| format!("cannot parse the WIT in {}", wit.display()))?;
    let world = resolve.select_world(&[package], Some(world))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for (name, contents) in files.iter() {
        let path = out.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

fn componentize(input: &Path, output: &Path) -> Result<()> {
    let module =
        std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .validate(true)
        .encode()?;
    std::fs::write(output, component).with_context(|| format!("cannot write {}", output.display()))
}

fn run() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    match args.as_slice() {
        [command, wit, world, out] if *command == Path::new("bindgen") => {
            let world = world.to_str().context("the world name is not UTF-8")?;
            bindgen(wit, world, out)
        }
        [command, input, output] if *command == Path::new("componentize") => {
            componentize(input, output)
                .with_context(|| format!("cannot componentize {}", input.display()))
        }
        _ => bail!("{USAGE}"),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("switchboard-c-bindgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}
