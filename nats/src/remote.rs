//! [`RemoteProvider`]: a route whose provider runs on a worker of the fleet.

use std::future::Future;
use std::time::{Duration, Instant};

use async_nats::{HeaderMap, RequestErrorKind};
use bytes::Bytes;
use switchboard::{Provider, ProviderError, Request};

use crate::envelope;
use crate::random::{random_u64, traceparent_for};
use crate::subject::{call_subject, encode_header};

/// How a remote route behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Subject prefix (tenant), as the workers use it. Default `sb.v1`.
    pub prefix: String,
    /// Whether the route's operations may run twice. Only then is a timed-out attempt
    /// retried (each attempt waiting at most `attempt_timeout`); otherwise a timeout is final,
    /// because the worker may have run the call. Default `false`.
    pub idempotent: bool,
    /// For idempotent routes: the longest one attempt waits. Default 1 s.
    pub attempt_timeout: Duration,
    /// The request timeout of a call without deadline: a remote call always has one. Default
    /// 30 s.
    pub timeout_without_deadline: Duration,
    /// How many times "no responders" (no worker subscribed: the request was never
    /// delivered) is retried, so a worker restarting or resubscribing is waited for briefly
    /// while a route nobody serves still fails fast. Default 3.
    pub no_responders_retries: u32,
    /// The longest pause between attempts after "no responders" (jittered, doubling from
    /// 2 ms). Default 50 ms.
    pub max_backoff: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            prefix: "sb.v1".to_string(),
            idempotent: false,
            attempt_timeout: Duration::from_secs(1),
            timeout_without_deadline: Duration::from_secs(30),
            no_responders_retries: 3,
            max_backoff: Duration::from_millis(50),
        }
    }
}

/// A [`Provider`] that forwards each call as one NATS request to the workers serving the route
/// (see [`crate::envelope`] for the wire format and [`crate::subject`] for the subjects).
///
/// Outcomes map to typed errors: no worker subscribed -> [`ProviderError::RouteUnavailable`]
/// (retried a few times with a short jittered backoff while the deadline allows: the request
/// was never delivered); no reply in time -> [`ProviderError::DeadlineExceeded`]; a payload over the
/// server's `max_payload` -> [`ProviderError::PayloadTooLarge`] without sending; a worker at
/// capacity -> [`ProviderError::Overloaded`]; a connection that is down ->
/// [`ProviderError::TransportUnavailable`]; the worker's provider errors keep their kind,
/// message and error payload.
///
/// # Threads
///
/// [`Provider::call`] is synchronous: it hands the request to the tokio runtime given to
/// [`RemoteProvider::new`] and blocks the calling thread until the answer. Call it from a
/// plain thread or a `tokio::task::spawn_blocking` thread, never from an async task: it would
/// block a runtime worker thread (and deadlock a current-thread runtime).
///
/// Cancellation is checked before each attempt, not while one is in flight.
#[derive(Debug, Clone)]
pub struct RemoteProvider {
    client: async_nats::Client,
    runtime: tokio::runtime::Handle,
    options: RemoteOptions,
}

impl RemoteProvider {
    /// A remote provider sending through `client`, whose connection runs on `runtime`.
    pub fn new(
        client: async_nats::Client,
        runtime: tokio::runtime::Handle,
        options: RemoteOptions,
    ) -> Self {
        RemoteProvider {
            client,
            runtime,
            options,
        }
    }

    /// Runs `future` on the runtime and waits for it on this (non-async) thread.
    fn block_on<F>(&self, future: F) -> Result<F::Output, ProviderError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            // The caller only stops waiting when it panicked; nobody is left to tell.
            let _ = tx.send(future.await);
        });
        rx.recv().map_err(|_| {
            ProviderError::TransportUnavailable("the NATS client's runtime has shut down".into())
        })
    }
}

impl Provider for RemoteProvider {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        req.ctx.check()?;
        let started = Instant::now();
        let budget = req
            .ctx
            .remaining()
            .unwrap_or(self.options.timeout_without_deadline);
        let deadline = started + budget;
        let max = self.client.server_info().max_payload;
        if max > 0 && req.payload.len() > max {
            return Err(ProviderError::PayloadTooLarge {
                size: req.payload.len(),
                max,
            });
        }
        let subject = call_subject(
            &self.options.prefix,
            req.binding,
            req.namespace,
            req.operation,
        );
        let mut headers = HeaderMap::new();
        headers.insert(envelope::BINDING, encode_header(req.binding).as_str());
        headers.insert(envelope::NAMESPACE, encode_header(req.namespace).as_str());
        headers.insert(envelope::OPERATION, encode_header(req.operation).as_str());
        headers.insert(envelope::CALL_ID, nuid::next().as_str());
        if let Some(caller) = req.ctx.caller() {
            headers.insert(envelope::CALLER, encode_header(caller).as_str());
        }
        headers.insert(
            envelope::TRACEPARENT,
            traceparent_for(req.ctx.traceparent()).as_str(),
        );
        let payload = Bytes::copy_from_slice(req.payload);

        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            req.ctx.check()?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ProviderError::DeadlineExceeded);
            }
            let wait = if self.options.idempotent {
                remaining.min(self.options.attempt_timeout)
            } else {
                remaining
            };
            let mut attempt_headers = headers.clone();
            // Whole milliseconds, rounded up: 0 would read as "budget gone" on the worker.
            let millis = remaining.as_micros().div_ceil(1000);
            attempt_headers.insert(envelope::TIMEOUT_MS, millis.to_string().as_str());
            attempt_headers.insert(envelope::ATTEMPT, attempt.to_string().as_str());
            let request = async_nats::Request::new()
                .payload(payload.clone())
                .headers(attempt_headers)
                .timeout(Some(wait));
            let client = self.client.clone();
            let target = subject.clone();
            let result =
                self.block_on(async move { client.send_request(target, request).await })?;
            let err = match result {
                Ok(reply) => {
                    return match envelope::decode_error(reply.headers.as_ref(), &reply.payload) {
                        None => Ok(reply.payload.to_vec()),
                        Some(err) => Err(err),
                    }
                }
                Err(err) => err,
            };
            match err.kind() {
                RequestErrorKind::NoResponders => {
                    let ceiling = Duration::from_millis(1u64 << attempt.min(16))
                        .min(self.options.max_backoff);
                    let pause = jitter(ceiling);
                    if attempt > self.options.no_responders_retries
                        || Instant::now() + pause >= deadline
                    {
                        tracing::debug!(subject, attempt, "no worker for the route");
                        return Err(ProviderError::RouteUnavailable {
                            binding: req.binding.to_string(),
                            namespace: req.namespace.to_string(),
                            operation: req.operation.to_string(),
                        });
                    }
                    std::thread::sleep(pause);
                }
                RequestErrorKind::TimedOut => {
                    if !self.options.idempotent || Instant::now() >= deadline {
                        return Err(ProviderError::DeadlineExceeded);
                    }
                    tracing::debug!(
                        subject,
                        attempt,
                        "retrying an idempotent call after a timeout"
                    );
                }
                RequestErrorKind::MaxPayloadExceeded => {
                    return Err(ProviderError::PayloadTooLarge {
                        size: req.payload.len(),
                        max: self.client.server_info().max_payload,
                    })
                }
                RequestErrorKind::InvalidSubject => {
                    return Err(ProviderError::TransportUnavailable(format!(
                        "invalid subject {subject}"
                    )))
                }
                RequestErrorKind::Other => {
                    return Err(ProviderError::TransportUnavailable(err.to_string()))
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!("remote (nats, prefix {})", self.options.prefix)
    }
}

/// A pause between half of `ceiling` and `ceiling`, so retrying callers spread out.
fn jitter(ceiling: Duration) -> Duration {
    let half = ceiling / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_nanos(random_u64() % nanos)
}
