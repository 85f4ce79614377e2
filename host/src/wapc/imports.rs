//! The waPC host imports (`wapc.__host_call` and friends), bounds-checked.
//!
//! Every pointer/length pair from the guest goes through [`memory`](super::memory); a bad one
//! traps the guest with an [`AbiViolation`] and the host keeps serving. `__host_call` hands
//! the router a view of guest memory instead of copying the payload.

use wapc::{wapc_functions as f, HOST_NAMESPACE};
use wasmtime::{Caller, Extern, Linker, Memory};

use super::direct::{DirectHost, Invocation};
use super::engine::{HostState, StoreData};
use super::error::{AbiViolation, WapcError};
use super::memory;
use super::stdio;

type Ctx<'a> = Caller<'a, StoreData>;

/// Define all waPC host imports in `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<StoreData>) -> Result<(), WapcError> {
    let define_error =
        |e: wasmtime::Error| WapcError::Config(format!("cannot define the waPC imports: {e}"));
    linker
        .func_wrap(HOST_NAMESPACE, f::GUEST_REQUEST_FN, guest_request)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::HOST_CONSOLE_LOG, console_log)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::HOST_CALL, host_call)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::HOST_RESPONSE_FN, host_response)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::HOST_RESPONSE_LEN_FN, host_response_len)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::GUEST_RESPONSE_FN, guest_response)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::GUEST_ERROR_FN, guest_error)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::HOST_ERROR_FN, host_error)
        .map_err(define_error)?;
    linker
        .func_wrap(HOST_NAMESPACE, f::HOST_ERROR_LEN_FN, host_error_len)
        .map_err(define_error)?;
    Ok(())
}

fn guest_memory(caller: &mut Ctx<'_>, import: &'static str) -> Result<Memory, AbiViolation> {
    if let Some(memory) = caller.data().memory {
        return Ok(memory);
    }
    // Before the engine cached it (e.g. a wasm start function calling an import).
    caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or(AbiViolation::NoMemory { import })
}

fn no_host(import: &'static str) -> AbiViolation {
    AbiViolation::NoHost { import }
}

/// The runtime-driven host's invocation in progress, or the "no host" violation.
fn invocation<'a>(
    host: &'a DirectHost,
    import: &'static str,
) -> Result<&'a Invocation, AbiViolation> {
    host.current().ok_or_else(|| no_host(import))
}

fn guest_request(mut caller: Ctx<'_>, op_ptr: i32, ptr: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::GUEST_REQUEST_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    match &data.host {
        HostState::Unset => return Err(no_host(IMPORT).into()),
        HostState::Wapc(host) => {
            if let Some(invocation) = host.get_guest_request() {
                memory::write(mem, ptr, &invocation.msg, IMPORT)?;
                memory::write(mem, op_ptr, invocation.operation.as_bytes(), IMPORT)?;
            }
        }
        HostState::Direct(host) => {
            let inv = invocation(host, IMPORT)?;
            memory::write(mem, ptr, inv.payload(), IMPORT)?;
            memory::write(mem, op_ptr, inv.operation(), IMPORT)?;
        }
    }
    Ok(())
}

fn console_log(mut caller: Ctx<'_>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::HOST_CONSOLE_LOG;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let bytes = memory::slice(memory.data(&caller), ptr, len, IMPORT)?;
    stdio::emit(&caller.data().guest, "console", bytes);
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the waPC ABI's signature
fn host_call(
    mut caller: Ctx<'_>,
    bd_ptr: i32,
    bd_len: i32,
    ns_ptr: i32,
    ns_len: i32,
    op_ptr: i32,
    op_len: i32,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<i32> {
    const IMPORT: &str = f::HOST_CALL;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    let mem: &[u8] = mem;
    let binding = memory::utf8(
        memory::slice(mem, bd_ptr, bd_len, IMPORT)?,
        IMPORT,
        "binding",
    )?;
    let namespace = memory::utf8(
        memory::slice(mem, ns_ptr, ns_len, IMPORT)?,
        IMPORT,
        "namespace",
    )?;
    let operation = memory::utf8(
        memory::slice(mem, op_ptr, op_len, IMPORT)?,
        IMPORT,
        "operation",
    )?;
    let payload = memory::slice(mem, ptr, len, IMPORT)?;
    match &mut data.host {
        HostState::Unset => Err(no_host(IMPORT).into()),
        // wapc's ModuleState never returns Err here; treat one as a failed call (0) anyway.
        HostState::Wapc(host) => Ok(host
            .do_host_call(binding, namespace, operation, payload)
            .unwrap_or(0)),
        HostState::Direct(host) => Ok(host
            .host_call(binding, namespace, operation, payload)
            .ok_or_else(|| no_host(IMPORT))?),
    }
}

fn host_response(mut caller: Ctx<'_>, ptr: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::HOST_RESPONSE_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    match &data.host {
        HostState::Unset => return Err(no_host(IMPORT).into()),
        HostState::Wapc(host) => {
            host.with_host_response(|bytes| memory::write(mem, ptr, bytes, IMPORT))
                .transpose()?;
        }
        HostState::Direct(host) => {
            if let Some(bytes) = invocation(host, IMPORT)?.host_response() {
                memory::write(mem, ptr, bytes, IMPORT)?;
            }
        }
    }
    Ok(())
}

fn host_response_len(caller: Ctx<'_>) -> wasmtime::Result<i32> {
    const IMPORT: &str = f::HOST_RESPONSE_LEN_FN;
    let len = match &caller.data().host {
        HostState::Unset => return Err(no_host(IMPORT).into()),
        HostState::Wapc(host) => host.host_response_len(),
        HostState::Direct(host) => invocation(host, IMPORT)?
            .host_response()
            .map_or(0, <[u8]>::len),
    };
    Ok(memory::abi_len(len, IMPORT)?)
}

fn guest_response(mut caller: Ctx<'_>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::GUEST_RESPONSE_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    let bytes = memory::slice(mem, ptr, len, IMPORT)?.to_vec();
    match &mut data.host {
        HostState::Unset => return Err(no_host(IMPORT).into()),
        HostState::Wapc(host) => host.set_guest_response(bytes),
        HostState::Direct(host) => host.set_guest_response(bytes),
    }
    Ok(())
}

fn guest_error(mut caller: Ctx<'_>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::GUEST_ERROR_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    let bytes = memory::slice(mem, ptr, len, IMPORT)?;
    // A guest's error text is only reported, never parsed: keep it even if not UTF-8.
    let message = String::from_utf8_lossy(bytes).into_owned();
    match &mut data.host {
        HostState::Unset => return Err(no_host(IMPORT).into()),
        HostState::Wapc(host) => host.set_guest_error(message),
        HostState::Direct(host) => host.set_guest_error(message),
    }
    Ok(())
}

fn host_error(mut caller: Ctx<'_>, ptr: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::HOST_ERROR_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    match &data.host {
        HostState::Unset => return Err(no_host(IMPORT).into()),
        HostState::Wapc(host) => {
            if let Some(error) = host.get_host_error() {
                memory::write(mem, ptr, error.as_bytes(), IMPORT)?;
            }
        }
        HostState::Direct(host) => {
            if let Some(error) = invocation(host, IMPORT)?.host_error() {
                memory::write(mem, ptr, error.as_bytes(), IMPORT)?;
            }
        }
    }
    Ok(())
}

fn host_error_len(caller: Ctx<'_>) -> wasmtime::Result<i32> {
    const IMPORT: &str = f::HOST_ERROR_LEN_FN;
    let len = match &caller.data().host {
        HostState::Unset => return Err(no_host(IMPORT).into()),
        HostState::Wapc(host) => host.get_host_error().map_or(0, |e| e.len()),
        HostState::Direct(host) => invocation(host, IMPORT)?.host_error().map_or(0, str::len),
    };
    Ok(memory::abi_len(len, IMPORT)?)
}
