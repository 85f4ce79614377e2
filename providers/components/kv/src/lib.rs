//! `database:kv` as a component: `Get`, `Set` and `Delete` over a map kept in the warm
//! instance (gone when the host recycles the instance: a cache, not storage).
//!
//! Payloads: `Get` and `Delete` take the key; `Set` takes `key`, a NUL byte, then the value.

use std::cell::RefCell;
use std::collections::HashMap;

use switchboard_guest::{dispatch, Call, Error, Provider};

thread_local! {
    static MAP: RefCell<HashMap<Vec<u8>, Vec<u8>>> = RefCell::new(HashMap::new());
}

struct Kv;

impl Provider for Kv {
    fn handle(call: &Call, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        dispatch(
            call,
            payload,
            &[("Get", get), ("Set", set), ("Delete", delete)],
        )
    }
}

fn get(key: Vec<u8>) -> Result<Vec<u8>, Error> {
    MAP.with_borrow(|map| map.get(&key).cloned())
        .ok_or_else(|| Error::failure_with_payload("key not found", key))
}

fn set(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
    let Some(split) = payload.iter().position(|b| *b == 0) else {
        return Err(Error::invalid_input("Set expects key, NUL, value"));
    };
    if split == 0 {
        return Err(Error::invalid_input("empty key"));
    }
    let key = payload[..split].to_vec();
    let value = payload[split + 1..].to_vec();
    MAP.with_borrow_mut(|map| map.insert(key, value));
    Ok(Vec::new())
}

fn delete(key: Vec<u8>) -> Result<Vec<u8>, Error> {
    MAP.with_borrow_mut(|map| map.remove(&key));
    Ok(Vec::new())
}

switchboard_guest::export_provider!(Kv);
