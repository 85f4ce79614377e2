//! Remote routes against a real `nats-server` on loopback (one server per test).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard::{provider_fn, CallContext, CallError, ProviderError, Router};
use switchboard_nats::{
    envelope, NatsOptions, RemoteOptions, RemoteProvider, Worker, WorkerOptions, WorkerStats,
};

/// A `nats-server` on a free loopback port, killed on drop.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        Server::with_config("")
    }

    fn with_config(extra: &str) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("server.conf");
        std::fs::write(&config, extra).expect("write server config");
        let child = Command::new("nats-server")
            .args(["-c"])
            .arg(&config)
            .args(["-a", "127.0.0.1", "-p", "-1", "--ports_file_dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server on PATH (apt-get install -y nats-server)");
        let ports: PathBuf = dir.path().join(format!("nats-server_{}.ports", child.id()));
        let mut server = Server {
            child,
            url: String::new(),
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&ports) {
                // {"nats":["nats://127.0.0.1:PORT"],...}
                if let Some(url) = text.split('"').find(|part| part.starts_with("nats://")) {
                    server.url = url.to_string();
                    return server;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nats-server wrote no ports file"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn options(&self) -> NatsOptions {
        NatsOptions::new(self.url.clone())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The server may already be gone; nothing else to do then.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn worker(server: &Server, router: Router, max_in_flight: usize) -> Worker {
    let client = server.options().connect().await.expect("worker connects");
    Worker::start(
        client,
        router,
        WorkerOptions {
            max_in_flight,
            ..WorkerOptions::default()
        },
    )
    .await
    .expect("worker starts")
}

/// A caller's router whose `namespace`/`operation` route is remote.
async fn remote_router(server: &Server, namespace: &str, operation: &str) -> Router {
    let client = server.options().connect().await.expect("caller connects");
    let provider = RemoteProvider::new(
        client,
        tokio::runtime::Handle::current(),
        RemoteOptions::default(),
    );
    let router = Router::new();
    router
        .register(namespace, operation, provider)
        .expect("register the remote route");
    router
}

/// Calls on a blocking-pool thread, as serve mode will.
async fn call(
    router: &Router,
    ctx: CallContext,
    namespace: &'static str,
    operation: &'static str,
    payload: Vec<u8>,
) -> Result<Vec<u8>, CallError> {
    let router = router.clone();
    tokio::task::spawn_blocking(move || router.call(&ctx, "b1", namespace, operation, &payload))
        .await
        .expect("the call does not panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_keeps_bytes_names_caller_deadline_and_trace() {
    let server = Server::start();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let local = Router::new();
    let record = Arc::clone(&seen);
    // Names a subject could not carry as they are: they travel encoded, exact in headers.
    local
        .register(
            "k.v *",
            "gét",
            provider_fn(move |req| {
                record.lock().expect("lock").push((
                    req.binding.to_string(),
                    req.ctx.caller().map(str::to_string),
                    req.ctx.traceparent().map(str::to_string),
                    req.ctx.remaining(),
                ));
                let mut answer = req.payload.to_vec();
                answer.reverse();
                Ok(answer)
            }),
        )
        .expect("register");
    let worker = worker(&server, local, 4).await;
    assert_eq!(worker.subjects(), ["sb.v1.call.*.~nmxhmibk.~m7b2s5a"]);

    let remote = remote_router(&server, "k.v *", "gét").await;
    let payload: Vec<u8> = (0..=255).collect();
    let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let ctx = CallContext::new()
        .with_timeout(Duration::from_secs(5))
        .with_caller("guest-a")
        .with_traceparent(trace);
    // From a plain thread, the other way `Provider::call` is used.
    let sent = payload.clone();
    let answer = std::thread::spawn(move || remote.call(&ctx, "b1", "k.v *", "gét", &sent))
        .join()
        .expect("the caller thread does not panic")
        .expect("the remote call succeeds");
    let mut expected = payload;
    expected.reverse();
    assert_eq!(answer, expected);

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (binding, caller, traceparent, remaining) = &seen[0];
    assert_eq!(binding, "b1");
    assert_eq!(caller.as_deref(), Some("guest-a"));
    let traceparent = traceparent.as_deref().expect("a traceparent");
    assert!(
        traceparent.starts_with("00-0af7651916cd43dd8448eb211c80319c-") && traceparent != trace,
        "same trace, new parent: {traceparent}"
    );
    let remaining = remaining.expect("the worker's context has the caller's deadline");
    assert!(
        remaining > Duration::from_secs(3) && remaining <= Duration::from_secs(5),
        "{remaining:?}"
    );
    assert_eq!(worker.drain().await.expect("drain").answered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_envelope_carries_the_headers() {
    use futures_util::StreamExt;
    let server = Server::start();
    let raw = server.options().connect().await.expect("connect");
    let mut requests = raw
        .subscribe("sb.v1.call.b1.kv.get")
        .await
        .expect("subscribe");
    let replier = raw.clone();
    let answer = tokio::spawn(async move {
        let request = requests.next().await.expect("one request");
        replier
            .publish_with_headers(
                request.reply.clone().expect("a reply subject"),
                envelope::ok_headers(),
                "pong".into(),
            )
            .await
            .expect("reply");
        request
    });
    let remote = remote_router(&server, "kv", "get").await;
    let ctx = CallContext::new().with_timeout(Duration::from_millis(1500));
    let reply = call(&remote, ctx, "kv", "get", b"ping".to_vec()).await;
    assert_eq!(reply.expect("answered"), b"pong");
    let request = answer.await.expect("the replier does not panic");
    assert_eq!(&request.payload[..], b"ping");
    let headers = request.headers.expect("headers");
    let header = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
    assert_eq!(header(envelope::BINDING).as_deref(), Some("b1"));
    assert_eq!(header(envelope::NAMESPACE).as_deref(), Some("kv"));
    assert_eq!(header(envelope::OPERATION).as_deref(), Some("get"));
    assert_eq!(header(envelope::ATTEMPT).as_deref(), Some("1"));
    assert_eq!(header(envelope::CALLER), None);
    let millis: u64 = header(envelope::TIMEOUT_MS)
        .expect("a timeout")
        .parse()
        .expect("milliseconds");
    assert!((1000..=1500).contains(&millis), "{millis}");
    assert_eq!(header(envelope::CALL_ID).expect("a call id").len(), 22);
    let traceparent = header(envelope::TRACEPARENT).expect("a generated traceparent");
    assert_eq!(traceparent.len(), 55, "{traceparent}");
    assert!(traceparent.starts_with("00-") && traceparent.ends_with("-01"));
}

fn tagging_router(id: &'static str) -> Router {
    let router = Router::new();
    router
        .register(
            "echo",
            "tag",
            provider_fn(move |req| {
                std::thread::sleep(Duration::from_millis(2));
                let mut answer = format!("{id}:").into_bytes();
                answer.extend_from_slice(req.payload);
                Ok(answer)
            }),
        )
        .expect("register");
    router
}

/// Runs `calls` calls on `threads` threads; each checks its answer belongs to its request and
/// returns which worker served it, or the error.
async fn load(remote: &Router, calls: usize, threads: usize) -> Vec<Result<String, CallError>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..threads {
        let (remote, next) = (remote.clone(), Arc::clone(&next));
        tasks.push(tokio::task::spawn_blocking(move || {
            let mut results = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls {
                    return results;
                }
                let ctx = CallContext::new().with_timeout(Duration::from_secs(5));
                let request = format!("call-{n}");
                let result = remote
                    .call(&ctx, "b1", "echo", "tag", request.as_bytes())
                    .map(|answer| {
                        let answer = String::from_utf8(answer).expect("utf-8 answer");
                        let (worker, echoed) = answer.split_once(':').expect("worker:call");
                        assert_eq!(echoed, request, "misrouted answer");
                        worker.to_string()
                    });
                results.push(result);
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a load thread does not panic"));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_calls_and_nothing_is_misrouted() {
    let server = Server::start();
    let a = worker(&server, tagging_router("A"), 8).await;
    let b = worker(&server, tagging_router("B"), 8).await;
    let remote = remote_router(&server, "echo", "tag").await;
    let results = load(&remote, 200, 8).await;
    let served: Vec<String> = results
        .into_iter()
        .map(|r| r.expect("every call succeeds"))
        .collect();
    let by_a = served.iter().filter(|w| *w == "A").count();
    let by_b = served.iter().filter(|w| *w == "B").count();
    assert_eq!(by_a + by_b, 200);
    assert!(by_a >= 40 && by_b >= 40, "A {by_a}, B {by_b}");
    let (a, b) = (
        a.drain().await.expect("drain"),
        b.drain().await.expect("drain"),
    );
    assert_eq!(a.answered as usize, by_a);
    assert_eq!(b.answered as usize, by_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_routes_on_two_workers_run_each_call_once() {
    let server = Server::start();
    let runs = Arc::new(AtomicUsize::new(0));
    let counting = |runs: &Arc<AtomicUsize>| {
        let runs = Arc::clone(runs);
        provider_fn(move |_| {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(b"ok".to_vec())
        })
    };
    let exact = Router::new();
    exact
        .register("kv", "get", counting(&runs))
        .expect("register");
    let namespace = Router::new();
    namespace
        .register_key(
            switchboard::RouteKey::namespace("kv"),
            counting(&runs),
            switchboard::Conflict::Reject,
        )
        .expect("register");
    let a = worker(&server, exact, 4).await;
    let b = worker(&server, namespace, 4).await;
    let remote = remote_router(&server, "kv", "get").await;
    for _ in 0..20 {
        let ctx = CallContext::new().with_timeout(Duration::from_secs(5));
        let answer = call(&remote, ctx, "kv", "get", Vec::new()).await;
        assert_eq!(answer.expect("served"), b"ok");
    }
    let (a, b) = (
        a.drain().await.expect("drain"),
        b.drain().await.expect("drain"),
    );
    assert_eq!(runs.load(Ordering::SeqCst), 20);
    assert_eq!(a.answered + b.answered, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_worker_is_a_fast_typed_error() {
    let server = Server::start();
    let remote = remote_router(&server, "kv", "get").await;
    let started = Instant::now();
    let ctx = CallContext::new().with_timeout(Duration::from_secs(5));
    let err = call(&remote, ctx, "kv", "get", b"k".to_vec())
        .await
        .expect_err("nobody serves kv.get");
    let elapsed = started.elapsed();
    assert_eq!(
        err,
        CallError::RouteUnavailable {
            binding: "b1".into(),
            namespace: "kv".into(),
            operation: "get".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "no worker for namespace 'kv' operation 'get' (binding 'b1')"
    );
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_provider_is_stopped_at_the_callers_deadline() {
    let server = Server::start();
    let completed = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let local = Router::new();
    let (done, stop) = (Arc::clone(&completed), Arc::clone(&stopped));
    local
        .register(
            "slow",
            "op",
            provider_fn(move |req| {
                for _ in 0..400 {
                    if let Err(err) = req.ctx.check() {
                        stop.fetch_add(1, Ordering::SeqCst);
                        return Err(ProviderError::from(err));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                done.fetch_add(1, Ordering::SeqCst);
                Ok(b"finally".to_vec())
            }),
        )
        .expect("register");
    let worker = worker(&server, local, 4).await;
    let remote = remote_router(&server, "slow", "op").await;
    let started = Instant::now();
    let ctx = CallContext::new().with_timeout(Duration::from_millis(200));
    let err = call(&remote, ctx, "slow", "op", Vec::new())
        .await
        .expect_err("too slow");
    assert_eq!(err, CallError::DeadlineExceeded);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // The worker saw the same deadline: the provider gave up, and no reply was sent.
    let waited = Instant::now();
    while worker.stats().late == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "{:?}",
            worker.stats()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stopped.load(Ordering::SeqCst), 1);
    assert_eq!(completed.load(Ordering::SeqCst), 0);
    assert_eq!(
        worker.drain().await.expect("drain"),
        WorkerStats {
            late: 1,
            ..WorkerStats::default()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_worker_answers_overloaded_at_once() {
    let server = Server::start();
    let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let entered_tx = Mutex::new(entered_tx);
    let release_rx = Mutex::new(release_rx);
    let local = Router::new();
    local
        .register(
            "busy",
            "op",
            provider_fn(move |_| {
                entered_tx
                    .lock()
                    .expect("lock")
                    .send(())
                    .expect("test waits");
                release_rx
                    .lock()
                    .expect("lock")
                    .recv_timeout(Duration::from_secs(5))
                    .expect("test releases");
                Ok(b"done".to_vec())
            }),
        )
        .expect("register");
    let worker = worker(&server, local, 1).await;
    let remote = remote_router(&server, "busy", "op").await;
    let first_remote = remote.clone();
    let first = tokio::spawn(async move {
        call(
            &first_remote,
            CallContext::new().with_timeout(Duration::from_secs(5)),
            "busy",
            "op",
            Vec::new(),
        )
        .await
    });
    tokio::task::spawn_blocking(move || {
        entered_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the first call runs")
    })
    .await
    .expect("wait");
    let started = Instant::now();
    let err = call(
        &remote,
        CallContext::new().with_timeout(Duration::from_secs(5)),
        "busy",
        "op",
        Vec::new(),
    )
    .await
    .expect_err("no capacity left");
    assert_eq!(err, CallError::Overloaded);
    assert_eq!(err.to_string(), "worker overloaded");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    release_tx.send(()).expect("the provider waits");
    let first = first
        .await
        .expect("no panic")
        .expect("the first call succeeds");
    assert_eq!(first, b"done");
    let stats = worker.drain().await.expect("drain");
    assert_eq!((stats.answered, stats.overloaded), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_payload_is_refused_before_sending() {
    let server = Server::with_config("max_payload: 1024\n");
    let runs = Arc::new(AtomicUsize::new(0));
    let local = Router::new();
    let counter = Arc::clone(&runs);
    local
        .register(
            "kv",
            "set",
            provider_fn(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(Vec::new())
            }),
        )
        .expect("register");
    let worker = worker(&server, local, 4).await;
    let remote = remote_router(&server, "kv", "set").await;
    let ctx = CallContext::new().with_timeout(Duration::from_secs(5));
    let err = call(&remote, ctx, "kv", "set", vec![7; 2000])
        .await
        .expect_err("over max_payload");
    assert_eq!(
        err,
        CallError::PayloadTooLarge {
            size: 2000,
            max: 1024
        }
    );
    assert_eq!(
        err.to_string(),
        "payload of 2000 bytes is over the transport limit of 1024 bytes"
    );
    let ctx = CallContext::new().with_timeout(Duration::from_secs(5));
    call(&remote, ctx, "kv", "set", vec![7; 100])
        .await
        .expect("a small payload goes through");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    worker.drain().await.expect("drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_a_worker_mid_load_loses_nothing() {
    let server = Server::start();
    let a = worker(&server, tagging_router("A"), 8).await;
    let b = worker(&server, tagging_router("B"), 8).await;
    let remote = remote_router(&server, "echo", "tag").await;
    let load = tokio::spawn({
        let remote = remote.clone();
        async move { load(&remote, 400, 6).await }
    });
    // Let the load reach both workers, then drain A while calls are in flight.
    let waited = Instant::now();
    while a.stats().answered < 20 {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "{:?}",
            a.stats()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let a = a.drain().await.expect("drain A");
    let results = load.await.expect("load does not panic");
    let failures: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    let by_b = results
        .iter()
        .filter(|r| matches!(r, Ok(w) if w == "B"))
        .count();
    let b = b.drain().await.expect("drain B");
    assert_eq!(a.answered + b.answered, 400);
    assert_eq!(b.answered as usize, by_b);
    assert!(a.answered < 400 && by_b > 0, "A {a:?}, B {b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_provider_failure_keeps_its_message_and_payload() {
    let server = Server::start();
    let local = Router::new();
    local
        .register(
            "kv",
            "get",
            provider_fn(|_| {
                Err(ProviderError::failed_with_payload(
                    "Error Parsing Input\nline 2",
                    vec![0, 1, 255],
                ))
            }),
        )
        .expect("register");
    let worker = worker(&server, local, 4).await;
    let remote = remote_router(&server, "kv", "get").await;
    let ctx = CallContext::new().with_timeout(Duration::from_secs(5));
    let err = call(&remote, ctx, "kv", "get", Vec::new())
        .await
        .expect_err("the provider fails");
    assert_eq!(
        err,
        CallError::ProviderFailed {
            message: "Error Parsing Input\nline 2".into(),
            payload: Some(vec![0, 1, 255]),
        }
    );
    assert_eq!(worker.drain().await.expect("drain").answered, 1);
}
