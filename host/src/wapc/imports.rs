//! The waPC host imports (`wapc.__host_call` and friends), bounds-checked, each written once
//! against [`WapcView`](super::view::WapcView).
//!
//! Every pointer/length pair from the guest goes through [`memory`](super::memory); a bad one
//! traps the guest with an [`AbiViolation`] and the host keeps serving. `__host_call` hands
//! the router a view of guest memory instead of copying the payload.

use wapc::{wapc_functions as f, HOST_NAMESPACE};
use wasmtime::{Caller, Extern, Linker, Memory};

use super::error::{AbiViolation, WapcError};
use super::memory;
use super::stdio;
use super::store::{HostState, StoreData};
use super::view::{Detached, WapcView};

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

/// The attached host, or the "no host" violation naming `import`.
fn host<'a>(
    data: &'a mut StoreData,
    import: &'static str,
) -> Result<&'a mut HostState, AbiViolation> {
    data.view().ok_or(AbiViolation::NoHost { import })
}

/// A host answer, with `Detached` as the "no host" violation naming `import`.
fn attached<T>(answer: Result<T, Detached>, import: &'static str) -> Result<T, AbiViolation> {
    answer.map_err(|Detached| AbiViolation::NoHost { import })
}

fn guest_request(mut caller: Ctx<'_>, op_ptr: i32, ptr: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::GUEST_REQUEST_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    let host = host(data, IMPORT)?;
    if let Some(request) = attached(host.guest_request(), IMPORT)? {
        memory::write(mem, ptr, &request.payload, IMPORT)?;
        memory::write(mem, op_ptr, &request.operation, IMPORT)?;
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
    let binding = name(mem, bd_ptr, bd_len, "binding")?;
    let namespace = name(mem, ns_ptr, ns_len, "namespace")?;
    let operation = name(mem, op_ptr, op_len, "operation")?;
    let payload = memory::slice(mem, ptr, len, IMPORT)?;
    let host = host(data, IMPORT)?;
    Ok(attached(
        host.host_call(binding, namespace, operation, payload),
        IMPORT,
    )?)
}

/// A UTF-8 name argument of `__host_call`.
fn name<'a>(
    mem: &'a [u8],
    ptr: i32,
    len: i32,
    what: &'static str,
) -> Result<&'a str, AbiViolation> {
    memory::utf8(
        memory::slice(mem, ptr, len, f::HOST_CALL)?,
        f::HOST_CALL,
        what,
    )
}

fn host_response(mut caller: Ctx<'_>, ptr: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::HOST_RESPONSE_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    let mut written = Ok(());
    attached(
        host(data, IMPORT)?.with_host_response(&mut |bytes| {
            written = memory::write(mem, ptr, bytes, IMPORT);
        }),
        IMPORT,
    )?;
    Ok(written?)
}

fn host_response_len(mut caller: Ctx<'_>) -> wasmtime::Result<i32> {
    const IMPORT: &str = f::HOST_RESPONSE_LEN_FN;
    let len = attached(host(caller.data_mut(), IMPORT)?.host_response_len(), IMPORT)?;
    Ok(memory::abi_len(len, IMPORT)?)
}

fn guest_response(mut caller: Ctx<'_>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::GUEST_RESPONSE_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    let bytes = memory::slice(mem, ptr, len, IMPORT)?.to_vec();
    attached(host(data, IMPORT)?.set_guest_response(bytes), IMPORT)?;
    Ok(())
}

fn guest_error(mut caller: Ctx<'_>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::GUEST_ERROR_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    let bytes = memory::slice(mem, ptr, len, IMPORT)?;
    // A guest's error text is only reported, never parsed: keep it even if not UTF-8.
    let message = String::from_utf8_lossy(bytes).into_owned();
    attached(host(data, IMPORT)?.set_guest_error(message), IMPORT)?;
    Ok(())
}

fn host_error(mut caller: Ctx<'_>, ptr: i32) -> wasmtime::Result<()> {
    const IMPORT: &str = f::HOST_ERROR_FN;
    let memory = guest_memory(&mut caller, IMPORT)?;
    let (mem, data) = memory.data_and_store_mut(&mut caller);
    if let Some(error) = attached(host(data, IMPORT)?.host_error(), IMPORT)? {
        memory::write(mem, ptr, error.as_bytes(), IMPORT)?;
    }
    Ok(())
}

fn host_error_len(mut caller: Ctx<'_>) -> wasmtime::Result<i32> {
    const IMPORT: &str = f::HOST_ERROR_LEN_FN;
    let len = attached(host(caller.data_mut(), IMPORT)?.host_error_len(), IMPORT)?;
    Ok(memory::abi_len(len, IMPORT)?)
}
