//! Guest payloads through the Tarmac providers, as a guest's host call reaches them: the router,
//! then the provider's decoder and logic. kvstore (in memory), metrics, logger and httpclient
//! with the default policy (an empty allow-list: nothing is ever sent). sql is left to the
//! decoder target: arbitrary SQL could write files (`ATTACH`).
//!
//! Input: one selector byte (which route), then the payload. Every call ends with a response or
//! a typed error. The router contains a provider's panic as a `provider panicked: ...` failure;
//! here that is turned back into a crash, since it is a finding.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use switchboard::{CallContext, CallError, Router};
use switchboard_providers::httpclient::{HttpClient, HttpClientConfig};
use switchboard_providers::kvstore::{KvStore, MemoryKv};
use switchboard_providers::logger::Logger;
use switchboard_providers::metrics::Metrics;

const ROUTES: [(&str, &str); 15] = [
    ("kvstore", "get"),
    ("kvstore", "set"),
    ("kvstore", "delete"),
    ("kvstore", "keys"),
    ("metrics", "counter"),
    ("metrics", "gauge"),
    ("metrics", "histogram"),
    ("httpclient", "call"),
    ("logger", "info"),
    ("logger", "error"),
    ("logging", "Debug"),
    ("kvstore", "unknown"),
    ("metrics", "unknown"),
    ("httpclient", "Call"),
    ("logger", "trace"),
];

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let router = Router::new();
        router
            .register_namespace("kvstore", KvStore::new(MemoryKv::new()))
            .expect("register kvstore");
        router
            .register_namespace("metrics", Metrics::new())
            .expect("register metrics");
        router
            .register_namespace("httpclient", HttpClient::new(HttpClientConfig::default()))
            .expect("register httpclient");
        router
            .register_namespace("logger", Logger::default())
            .expect("register logger");
        router
            .register_namespace("logging", Logger::default())
            .expect("register logging");
        router
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let (namespace, operation) = ROUTES[usize::from(selector) % ROUTES.len()];
    if let Err(CallError::ProviderFailed { message, .. }) =
        router().call(&CallContext::new(), "tarmac", namespace, operation, payload)
    {
        assert!(
            !message.starts_with("provider panicked"),
            "{namespace}:{operation}: {message}"
        );
    }
});
