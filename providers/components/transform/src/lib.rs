//! A stateless provider: `echo` returns the payload, `upper` upper-cases ASCII, `reverse`
//! reverses the bytes. Built both import-free (wasm32-unknown-unknown) and for wasm32-wasip2.

use switchboard_guest::{dispatch, Call, Error, Provider};

struct Transform;

impl Provider for Transform {
    fn handle(call: &Call, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        dispatch(
            call,
            payload,
            &[("echo", echo), ("upper", upper), ("reverse", reverse)],
        )
    }
}

fn echo(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    Ok(payload)
}

fn upper(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    Ok(payload.to_ascii_uppercase())
}

fn reverse(mut payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    payload.reverse();
    Ok(payload)
}

switchboard_guest::export_provider!(Transform);
