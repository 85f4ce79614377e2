//! [`Worker`]: serves a [`Router`]'s routes to the fleet.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::{HeaderMap, Message, Subscriber};
use futures_util::StreamExt;
use switchboard::{CallContext, CallError, Router};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::envelope;
use crate::subject::{decode_header, route_subject};

/// How a worker serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Subject prefix (tenant), as the remote routes use it. Default `sb.v1`.
    pub prefix: String,
    /// How many calls run at once (size it like the instance pools behind the routes). A
    /// request arriving when all are busy is answered `overloaded` at once. Default 64.
    pub max_in_flight: usize,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            prefix: "sb.v1".to_string(),
            max_in_flight: 64,
        }
    }
}

/// What a worker did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Calls run and answered (successfully or with the provider's error).
    pub answered: u64,
    /// Requests dropped unexecuted because the caller's budget was gone.
    pub skipped: u64,
    /// Calls that ran but ended after the caller's deadline: no reply was sent.
    pub late: u64,
    /// Requests refused with `overloaded`.
    pub overloaded: u64,
    /// Requests without the Switchboard headers, answered with an invalid-input error.
    pub malformed: u64,
}

#[derive(Default)]
struct Counters {
    answered: AtomicU64,
    skipped: AtomicU64,
    late: AtomicU64,
    overloaded: AtomicU64,
    malformed: AtomicU64,
}

struct Shared {
    client: async_nats::Client,
    router: Router,
    in_flight: Arc<Semaphore>,
    counters: Counters,
}

/// Serves the routes of a [`Router`] through NATS queue groups.
///
/// Each route gets one subscription (see [`crate::subject::route_subject`]), all in one queue
/// group per prefix, `<prefix>.workers` ([`queue_group`]): the workers serving a route share
/// its calls and each call goes to exactly one of them. NATS picks one member per queue group
/// among all subscriptions a message matches, so one group also keeps a call from running
/// twice when routes overlap (a worker serving `kv.*` next to one serving `kv.get`); a group
/// per subject would deliver such a call once to each group. Calls run concurrently on tokio's blocking pool, at most
/// [`WorkerOptions::max_in_flight`] at once; each runs with a [`CallContext`] carrying the
/// caller's deadline (measured from when the request arrived), caller name and trace. A request
/// whose budget is gone is dropped without running; a call that finishes after the deadline
/// gets no reply (the caller has given up). Stop with [`Worker::drain`].
///
/// Routes registered on the router after [`Worker::start`] are not subscribed.
pub struct Worker {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
    max_in_flight: usize,
    subjects: Vec<String>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("subjects", &self.subjects)
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Subscribes every route of `router` and starts serving. Must be called within a tokio
    /// runtime (multi-threaded: the calls run on its blocking pool).
    ///
    /// # Errors
    ///
    /// [`WorkerError::NoRoutes`] when the router has no route, [`WorkerError::Capacity`] when
    /// `max_in_flight` is 0, and [`WorkerError::Subscribe`] when the server refuses a
    /// subscription.
    pub async fn start(
        client: async_nats::Client,
        router: Router,
        options: WorkerOptions,
    ) -> Result<Worker, WorkerError> {
        let max_in_flight = options.max_in_flight;
        if max_in_flight == 0 || max_in_flight > Semaphore::MAX_PERMITS {
            return Err(WorkerError::Capacity(max_in_flight));
        }
        let routes = router.routes();
        if routes.is_empty() {
            return Err(WorkerError::NoRoutes);
        }
        let mut subjects: Vec<String> = routes
            .iter()
            .map(|route| {
                route_subject(
                    &options.prefix,
                    route.key.binding(),
                    route.key.namespace_name(),
                    route.key.operation(),
                )
            })
            .collect();
        subjects.sort();
        subjects.dedup();
        let shared = Arc::new(Shared {
            client: client.clone(),
            router,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            counters: Counters::default(),
        });
        let (shutdown, _) = watch::channel(false);
        let mut loops = Vec::with_capacity(subjects.len());
        for subject in &subjects {
            let subscriber = client
                .queue_subscribe(subject.clone(), queue_group(&options.prefix))
                .await
                .map_err(|source| WorkerError::Subscribe {
                    subject: subject.clone(),
                    source,
                })?;
            tracing::info!(subject, "worker serving");
            loops.push(tokio::spawn(serve(
                subscriber,
                shutdown.subscribe(),
                Arc::clone(&shared),
            )));
        }
        Ok(Worker {
            shared,
            shutdown,
            loops,
            max_in_flight,
            subjects,
        })
    }

    /// The subjects this worker subscribed to, sorted.
    pub fn subjects(&self) -> &[String] {
        &self.subjects
    }

    /// What the worker did so far.
    pub fn stats(&self) -> WorkerStats {
        let c = &self.shared.counters;
        WorkerStats {
            answered: c.answered.load(Ordering::Relaxed),
            skipped: c.skipped.load(Ordering::Relaxed),
            late: c.late.load(Ordering::Relaxed),
            overloaded: c.overloaded.load(Ordering::Relaxed),
            malformed: c.malformed.load(Ordering::Relaxed),
        }
    }

    /// Stops taking calls without losing any: drains every subscription (the server stops
    /// sending to this worker and the requests already delivered are still served), waits for
    /// every call in flight to reply, and flushes the replies. The client stays connected.
    /// Returns the final [`WorkerStats`].
    ///
    /// # Errors
    ///
    /// [`WorkerError::Flush`] when the last replies could not be flushed to the server.
    pub async fn drain(mut self) -> Result<WorkerStats, WorkerError> {
        // Receivers only see the change; a send error means every loop already ended.
        let _ = self.shutdown.send(true);
        for serve_loop in std::mem::take(&mut self.loops) {
            if let Err(err) = serve_loop.await {
                tracing::error!(error = %err, "a worker subscription loop failed");
            }
        }
        let permits = u32::try_from(self.max_in_flight)
            .expect("max_in_flight was checked against Semaphore::MAX_PERMITS: this is a bug");
        let _all_idle = self
            .shared
            .in_flight
            .acquire_many(permits)
            .await
            .expect("the worker never closes its semaphore: this is a bug");
        self.shared
            .client
            .flush()
            .await
            .map_err(WorkerError::Flush)?;
        let stats = self.stats();
        tracing::info!(?stats, "worker drained");
        Ok(stats)
    }
}

/// The queue group of every worker subscription under `prefix`.
pub fn queue_group(prefix: &str) -> String {
    format!("{prefix}.workers")
}

async fn serve(
    mut subscriber: Subscriber,
    mut shutdown: watch::Receiver<bool>,
    shared: Arc<Shared>,
) {
    let mut draining = false;
    loop {
        let message = if draining {
            subscriber.next().await
        } else {
            tokio::select! {
                message = subscriber.next() => message,
                // A dropped `Worker` (sender gone) drains as well.
                _ = shutdown.changed() => {
                    draining = true;
                    if let Err(err) = subscriber.drain().await {
                        tracing::warn!(error = %err, "cannot drain a worker subscription");
                        return;
                    }
                    continue;
                }
            }
        };
        match message {
            Some(message) => dispatch(message, &shared),
            None => return,
        }
    }
}

/// The parsed request envelope.
struct Call {
    binding: String,
    namespace: String,
    operation: String,
    call_id: String,
    caller: Option<String>,
    traceparent: Option<String>,
    budget: Duration,
}

fn parse(headers: Option<&HeaderMap>) -> Result<Call, String> {
    let raw = |name: &str| headers.and_then(|h| h.get(name)).map(|v| v.as_str());
    let name = |header: &str| {
        raw(header)
            .ok_or_else(|| format!("missing header {header}"))
            .and_then(|v| decode_header(v).ok_or_else(|| format!("malformed header {header}")))
    };
    let budget = raw(envelope::TIMEOUT_MS)
        .ok_or_else(|| format!("missing header {}", envelope::TIMEOUT_MS))?
        .parse::<u64>()
        .map_err(|_| format!("malformed header {}", envelope::TIMEOUT_MS))?;
    Ok(Call {
        binding: name(envelope::BINDING)?,
        namespace: name(envelope::NAMESPACE)?,
        operation: name(envelope::OPERATION)?,
        call_id: raw(envelope::CALL_ID).unwrap_or("").to_string(),
        caller: raw(envelope::CALLER).and_then(decode_header),
        traceparent: raw(envelope::TRACEPARENT).map(str::to_string),
        budget: Duration::from_millis(budget),
    })
}

/// Decides at once what to do with one request; running it happens on its own task.
fn dispatch(message: Message, shared: &Arc<Shared>) {
    let received = Instant::now();
    let Some(reply) = message.reply.clone() else {
        tracing::debug!(subject = %message.subject, "dropped a message without reply subject");
        return;
    };
    let call = match parse(message.headers.as_ref()) {
        Ok(call) => call,
        Err(reason) => {
            shared.counters.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(subject = %message.subject, reason, "malformed remote call");
            let err = CallError::InvalidInput(format!("malformed remote call: {reason}"));
            respond(shared, reply, Err(err));
            return;
        }
    };
    if call.budget.is_zero() {
        shared.counters.skipped.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            call_id = call.call_id,
            "skipped a call: the caller's budget is gone"
        );
        return;
    }
    let deadline = received + call.budget;
    let Ok(permit) = Arc::clone(&shared.in_flight).try_acquire_owned() else {
        shared.counters.overloaded.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(call_id = call.call_id, "refused a call: overloaded");
        respond(shared, reply, Err(CallError::Overloaded));
        return;
    };
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        // The permit lives until the reply is handed to the client: `drain` waits for it.
        let _permit = permit;
        if Instant::now() >= deadline {
            shared.counters.skipped.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                call_id = call.call_id,
                "skipped a call: its deadline passed before it ran"
            );
            return;
        }
        let mut ctx = CallContext::new().with_deadline(deadline);
        if let Some(caller) = &call.caller {
            ctx = ctx.with_caller(caller.as_str());
        }
        if let Some(traceparent) = &call.traceparent {
            ctx = ctx.with_traceparent(traceparent.as_str());
        }
        let router = shared.router.clone();
        let call_id = call.call_id.clone();
        let payload = message.payload;
        let outcome = tokio::task::spawn_blocking(move || {
            router.call(
                &ctx,
                &call.binding,
                &call.namespace,
                &call.operation,
                &payload,
            )
        })
        .await
        .unwrap_or_else(|err| {
            tracing::error!(call_id, error = %err, "a provider panicked");
            Err(CallError::ProviderFailed {
                message: "provider panicked".to_string(),
                payload: None,
            })
        });
        if Instant::now() >= deadline {
            shared.counters.late.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                call_id,
                outcome = ?outcome.as_ref().err(),
                "stopped a call at the caller's deadline: no reply"
            );
            return;
        }
        shared.counters.answered.fetch_add(1, Ordering::Relaxed);
        publish(&shared, reply, outcome).await;
    });
}

/// Replies without waiting (for answers decided before any work).
fn respond(shared: &Arc<Shared>, reply: async_nats::Subject, outcome: Result<Vec<u8>, CallError>) {
    let shared = Arc::clone(shared);
    tokio::spawn(async move { publish(&shared, reply, outcome).await });
}

async fn publish(shared: &Shared, reply: async_nats::Subject, outcome: Result<Vec<u8>, CallError>) {
    let (headers, body) = match outcome {
        Ok(body) => (envelope::ok_headers(), body),
        Err(err) => {
            let (headers, payload) = envelope::encode_error(&err);
            (headers, payload.unwrap_or_default())
        }
    };
    if let Err(err) = shared
        .client
        .publish_with_headers(reply, headers, body.into())
        .await
    {
        tracing::warn!(error = %err, "cannot send a reply");
    }
}

/// Why a worker could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The router has no route to serve.
    #[error("the router has no route to serve")]
    NoRoutes,
    /// `max_in_flight` is 0 or larger than a semaphore holds.
    #[error("max_in_flight must be at least 1 and fit a semaphore, not {0}")]
    Capacity(usize),
    /// The server refused a subscription.
    #[error("cannot subscribe to {subject}")]
    Subscribe {
        /// The route's subject.
        subject: String,
        /// The client's error.
        #[source]
        source: async_nats::SubscribeError,
    },
    /// The last replies could not be flushed.
    #[error("cannot flush the last replies")]
    Flush(#[source] async_nats::client::FlushError),
}
