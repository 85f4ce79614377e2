//! A hostile provider for the host's fault tests, built for wasm32-wasip2 so that it can try
//! the WASI capabilities it must not get without a grant. Every operation is one misbehaviour;
//! `echo` proves the next call still works.

use std::hint::black_box;

use switchboard_guest::{dispatch, Call, Error, Provider};

struct Faults;

impl Provider for Faults {
    fn handle(call: &Call, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        if call.operation == "cycle" {
            // Call our own route again: the host must stop the cycle.
            return switchboard_guest::call(&call.namespace, "cycle", &payload)
                .map_err(|e| Error::failure(e.message()));
        }
        dispatch(
            call,
            payload,
            &[
                ("echo", echo),
                ("loop", spin),
                ("memory-bomb", memory_bomb),
                ("stack-overflow", stack_overflow),
                ("unreachable", unreachable),
                ("panic", panic),
                ("big-response", big_response),
                ("read-file", read_file),
                ("env", env),
                ("socket", socket),
                ("host-call", host_call),
                ("log", log),
                ("print", print),
                ("trap-every-10th", trap_every_10th),
            ],
        )
    }
}

fn echo(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    Ok(payload)
}

fn spin(_: Vec<u8>) -> Result<Vec<u8>, Error> {
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

fn memory_bomb(_: Vec<u8>) -> Result<Vec<u8>, Error> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Touch every page so nothing is optimised away.
        hoard.push(black_box(vec![1u8; 1 << 20]));
    }
}

/// Recursion with (almost) nothing in linear memory: each level costs a wasm frame, so the
/// engine's call stack runs out before the shadow stack in linear memory does.
#[allow(unconditional_recursion)] // the point: overflow the stack
fn recurse(depth: u64) -> u64 {
    recurse(black_box(depth) + 1).wrapping_mul(3)
}

fn stack_overflow(_: Vec<u8>) -> Result<Vec<u8>, Error> {
    Ok(recurse(0).to_le_bytes().to_vec())
}

fn unreachable(_: Vec<u8>) -> Result<Vec<u8>, Error> {
    std::process::abort()
}

fn panic(_: Vec<u8>) -> Result<Vec<u8>, Error> {
    panic!("the faults provider panics on purpose")
}

/// Answers as many bytes as the payload asks for (decimal ASCII).
fn big_response(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let size: usize = std::str::from_utf8(&payload)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::invalid_input("expected a decimal size"))?;
    Ok(vec![b'x'; size])
}

/// Reads the file named by the payload.
fn read_file(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let path = String::from_utf8(payload).map_err(|_| Error::invalid_input("path not UTF-8"))?;
    std::fs::read(&path).map_err(|e| Error::failure(format!("read-file: {:?}", e.kind())))
}

/// Reads the environment variable named by the payload.
fn env(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let name = String::from_utf8(payload).map_err(|_| Error::invalid_input("name not UTF-8"))?;
    std::env::var(&name)
        .map(String::into_bytes)
        .map_err(|e| Error::failure(format!("env: {e}")))
}

/// Connects to the address in the payload (`127.0.0.1:PORT`).
fn socket(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let addr = String::from_utf8(payload).map_err(|_| Error::invalid_input("addr not UTF-8"))?;
    std::net::TcpStream::connect(&addr)
        .map(|_| b"connected".to_vec())
        .map_err(|e| Error::failure(format!("socket: {:?}", e.kind())))
}

/// Calls the route named in the payload (`namespace NUL operation NUL payload`).
fn host_call(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let mut parts = payload.splitn(3, |b| *b == 0);
    let (Some(ns), Some(op), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::invalid_input(
            "expected namespace NUL operation NUL payload",
        ));
    };
    let (ns, op) = (String::from_utf8_lossy(ns), String::from_utf8_lossy(op));
    switchboard_guest::call(&ns, &op, body)
        .map_err(|e| Error::failure(format!("host-call: {}", e.message())))
}

fn log(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    switchboard_guest::log::info(&String::from_utf8_lossy(&payload));
    Ok(Vec::new())
}

fn print(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    println!("{}", String::from_utf8_lossy(&payload));
    eprintln!("to stderr: {}", String::from_utf8_lossy(&payload));
    Ok(Vec::new())
}

/// The payload is a little-endian u64 sequence number: traps when it is 9 mod 10, else echoes.
fn trap_every_10th(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let bytes: [u8; 8] = payload
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::invalid_input("expected a u64"))?;
    if u64::from_le_bytes(bytes) % 10 == 9 {
        std::process::abort();
    }
    Ok(payload)
}

switchboard_guest::export_provider!(Faults);
