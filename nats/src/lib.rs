//! Remote Switchboard routes over NATS core request-reply.
//!
//! A route whose provider runs elsewhere is registered with a [`RemoteProvider`]: each call
//! becomes one NATS request on `<prefix>.call.<binding>.<namespace>.<operation>`
//! ([`subject`]), raw payload as the body and the call's names, id, caller, remaining
//! deadline and W3C trace in headers ([`envelope`]). A [`Worker`] serves the routes of its own
//! [`switchboard::Router`] to the fleet: one subscription per route in one queue group,
//! bounded concurrency, the caller's deadline enforced, graceful [`Worker::drain`]. Both
//! connect with [`NatsOptions::connect`].
//!
//! Delivery is at most once: only "no responders" (never delivered) is retried automatically,
//! and a timeout only for routes declared idempotent ([`RemoteOptions::idempotent`]).
//!
//! # Tenants
//!
//! Give each tenant its own prefix (`sb.v1.<tenant>`) and, to enforce it, its own NATS account
//! or user permissions: callers may publish `<prefix>.call.>` and subscribe to their inbox
//! (`_INBOX.>`, or a custom inbox prefix); workers may subscribe to `<prefix>.call.>` (queue
//! group `<prefix>.workers`) with `allow_responses: true`, so they can only answer requests
//! they received. Use TLS and nkeys or `.creds` files across machines ([`NatsOptions`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard::{provider_fn, CallContext, Router};
//! use switchboard_nats::{NatsOptions, RemoteOptions, RemoteProvider, Worker, WorkerOptions};
//!
//! let options = NatsOptions::new("nats://127.0.0.1:4222");
//! // The worker's side: a router with a local echo route, served to the fleet.
//! let local = Router::new();
//! local.register("echo", "say", provider_fn(|req| Ok(req.payload.to_vec())))?;
//! let worker = Worker::start(options.connect().await?, local, WorkerOptions::default()).await?;
//!
//! // The caller's side: the same route, served remotely.
//! let remote = Router::new();
//! let provider = RemoteProvider::new(
//!     options.connect().await?,
//!     tokio::runtime::Handle::current(),
//!     RemoteOptions::default(),
//! );
//! remote.register("echo", "say", provider)?;
//! let answer = tokio::task::spawn_blocking(move || {
//!     remote.call(&CallContext::new(), "", "echo", "say", b"hi")
//! })
//! .await??;
//! assert_eq!(answer, b"hi");
//! worker.drain().await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod envelope;
mod options;
mod random;
mod remote;
pub mod subject;
mod worker;

pub use options::{ConnectError, NatsOptions};
pub use remote::{RemoteOptions, RemoteProvider};
pub use worker::{queue_group, Worker, WorkerError, WorkerOptions, WorkerStats};
