//! Router semantics, by topic: Tarmac parity (every case of its `callbacks_test.go`), keys and
//! registration, batches, middleware, providers, concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::{provider_fn, CancelToken, Provider, ProviderError};

fn counter_provider(counter: &Arc<AtomicUsize>) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> {
    let counter = Arc::clone(counter);
    move |_: &[u8]| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(Vec::new())
    }
}

fn echo(payload: &[u8]) -> Result<Vec<u8>, ProviderError> {
    Ok(payload.to_vec())
}

fn ctx() -> CallContext {
    CallContext::new()
}

mod batch;
mod concurrency;
mod keys;
mod middleware;
mod providers;
mod tarmac_parity;
