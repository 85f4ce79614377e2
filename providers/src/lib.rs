//! Tarmac-compatible native providers for Switchboard (issue 4; wire format in
//! `tarmac-wire.md`).
//!
//! Each capability is a [`switchboard::Provider`] serving one namespace and speaking Tarmac's
//! wire format ([`wire`]: JSON or protobuf, chosen by the request's first byte; answers in the
//! request's encoding; status envelope; any non-200 status fails the host call with the status
//! text):
//!
//! | namespace | provider | backends |
//! |---|---|---|
//! | `kvstore` | [`kvstore::KvStore`] | [`kvstore::MemoryKv`], [`kvstore::RedbKv`] (embedded default), [`kvstore::RedisKv`] |
//! | `sql` | [`sql::Sql`] | [`sql::SqliteSql`] (embedded default), [`sql::PostgresSql`] |
//! | `httpclient` | [`httpclient::HttpClient`] | allow-listed, capped, timed out |
//! | `logger`, `logging` | [`logger::Logger`] | `tracing` |
//! | `metrics` | [`metrics::Metrics`] | Prometheus text exposition |
//! | `function` | [`function::Functions`] | other guests' `handler` |
//!
//! [`tarmac`] registers them all under binding `tarmac`, in code or from `switchboard.toml`.
//! From a config, two [`Capability`](switchboard::config::Capability)s make them known:
//! [`Tarmac`] (preset `tarmac` and the providers by name) and [`FunctionGuests`]
//! (`[function.<name>]` guests, served as namespace `function`).
//!
//! ```
//! use switchboard::{CallContext, Router};
//! use switchboard_providers::metrics::Metrics;
//! use switchboard_providers::tarmac::TarmacSuite;
//!
//! let suite = TarmacSuite::in_memory()?;
//! let metrics = suite.metrics.clone().unwrap_or_default();
//! let router = Router::builder().post(metrics.observer()).build();
//! suite.register(&router)?;
//!
//! let ctx = CallContext::new();
//! router.call(&ctx, "tarmac", "kvstore", "set", br#"{"key":"greeting","data":"aGk="}"#)?;
//! let got = router.call(&ctx, "tarmac", "kvstore", "get", br#"{"key":"greeting"}"#)?;
//! assert_eq!(got, br#"{"status":{"code":200,"status":"OK"},"data":"aGk="}"#);
//! assert!(metrics.render().contains(r#"wasm_callbacks_count{callback="kvstore:get"} 1"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod function;
pub mod httpclient;
pub mod kvstore;
pub mod logger;
pub mod metrics;
pub mod sql;
pub mod tarmac;
pub mod wire;

pub use function::FunctionGuests;
pub use tarmac::{Tarmac, TarmacSuite};
