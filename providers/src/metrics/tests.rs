use prost::Message;
use switchboard::{CallContext, CallError, Router};

use super::*;

fn router(metrics: &Metrics) -> Router {
    let router = Router::builder().post(metrics.observer()).build();
    router
        .register_namespace("metrics", metrics.clone())
        .unwrap();
    router
}

fn call(router: &Router, op: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
    router.call(&CallContext::new(), "tarmac", "metrics", op, payload)
}

fn failed(message: &str) -> CallError {
    CallError::ProviderFailed {
        message: message.to_string(),
        payload: None,
    }
}

#[test]
fn guest_metrics_in_json_and_protobuf_render_as_prometheus_text() {
    let metrics = Metrics::new();
    // Guest metrics only: no router observer here, so the exposition is exact.
    let r = Router::new();
    r.register_namespace("metrics", metrics.clone()).unwrap();
    assert_eq!(
        call(&r, "counter", br#"{"name":"jobs_done"}"#),
        Ok(Vec::new())
    );
    let proto_counter = proto::MetricsCounter {
        name: "jobs_done".to_string(),
    }
    .encode_to_vec();
    assert_eq!(call(&r, "counter", &proto_counter), Ok(Vec::new()));
    call(&r, "gauge", br#"{"name":"queue:depth","action":"inc"}"#).unwrap();
    call(&r, "gauge", br#"{"name":"queue:depth","action":"dec"}"#).unwrap();
    call(&r, "gauge", br#"{"name":"queue:depth","action":"dec"}"#).unwrap();
    for v in [1.0, 2.0, 3.0, 4.0] {
        let payload = proto::MetricsHistogram {
            name: "_latency".to_string(),
            value: v,
        }
        .encode_to_vec();
        call(&r, "histogram", &payload).unwrap();
    }
    call(&r, "histogram", br#"{"name":"_latency","value":10.5}"#).unwrap();
    assert_eq!(
        metrics.render(),
        "# TYPE _latency summary\n\
         _latency{quantile=\"0.5\"} 3\n\
         _latency{quantile=\"0.9\"} 10.5\n\
         _latency{quantile=\"0.99\"} 10.5\n\
         _latency_sum 20.5\n\
         _latency_count 5\n\
         # TYPE jobs_done counter\n\
         jobs_done 2\n\
         # TYPE queue:depth gauge\n\
         queue:depth -1\n"
    );
}

#[test]
fn validation_errors_have_tarmac_texts() {
    let metrics = Metrics::new();
    let r = router(&metrics);
    assert_eq!(
        call(&r, "counter", br#"{"name":"9lives"}"#),
        Err(failed("invalid metric name"))
    );
    assert_eq!(
        call(&r, "counter", br#"{"name":""}"#),
        Err(failed("invalid metric name"))
    );
    assert_eq!(
        call(&r, "counter", br#"{"name":"a-b"}"#),
        Err(failed("invalid metric name"))
    );
    assert_eq!(
        call(&r, "counter", br#"{"name":"wasm_callbacks"}"#),
        Err(failed("invalid metric name"))
    );
    assert_eq!(
        call(&r, "gauge", br#"{"name":"g","action":"up"}"#),
        Err(failed("invalid action"))
    );
    assert_eq!(
        call(&r, "gauge", br#"{"name":"9g","action":"up"}"#),
        Err(failed("invalid metric name"))
    );
    call(&r, "counter", br#"{"name":"shared"}"#).unwrap();
    assert_eq!(
        call(&r, "gauge", br#"{"name":"shared","action":"inc"}"#),
        Err(failed("metric name in use"))
    );
    assert_eq!(
        call(&r, "histogram", br#"{"name":"shared","value":1}"#),
        Err(failed("metric name in use"))
    );
    assert_eq!(
        call(&r, "histogram", br#"{"name":"x","value":"1"}"#),
        Err(failed(
            "unable to parse input JSON - invalid type: string \"1\", expected f64 at line 1 column 23"
        ))
    );
    assert_eq!(
        call(&r, "counter", &[0x0a, 0x05, b'a']),
        Err(failed(
            "unable to parse input protobuf - failed to decode Protobuf message: \
             MetricsCounter.name: buffer underflow"
        ))
    );
    assert_eq!(
        call(&r, "summary", b""),
        Err(CallError::UnknownOperation("summary".to_string()))
    );
    assert_eq!(
        metrics.histogram("h", f64::NAN),
        Err(MetricsError::InvalidValue)
    );
}

#[test]
fn guest_metric_count_is_capped() {
    let metrics = Metrics::with_limits(MetricsLimits {
        max_metrics: 2,
        max_callbacks: 10,
    });
    metrics.counter("a").unwrap();
    metrics.gauge("b", "inc").unwrap();
    assert_eq!(metrics.counter("c"), Err(MetricsError::TooMany));
    // Existing metrics still update.
    metrics.counter("a").unwrap();
}

#[test]
fn summary_window_is_bounded() {
    let metrics = Metrics::new();
    for i in 0..(SUMMARY_WINDOW + 10) {
        metrics.histogram("h", i as f64).unwrap();
    }
    let registry = metrics.lock();
    let Some(Metric::Summary(s)) = registry.guest.get("h") else {
        panic!("no summary");
    };
    assert_eq!(s.window.len(), SUMMARY_WINDOW);
    assert_eq!(s.count, (SUMMARY_WINDOW + 10) as u64);
    assert_eq!(s.quantile(0.0001), 10.0);
}

#[test]
fn callbacks_are_counted_per_route_with_a_latency_histogram() {
    let metrics = Metrics::new();
    metrics.record_callback("kvstore", "get", 0.3, true);
    metrics.record_callback("kvstore", "get", 7.0, false);
    let text = metrics.render();
    let expected_tail = "\
wasm_callbacks_bucket{callback=\"kvstore:get\",le=\"0.5\"} 1
wasm_callbacks_bucket{callback=\"kvstore:get\",le=\"1\"} 1
wasm_callbacks_bucket{callback=\"kvstore:get\",le=\"5\"} 1
wasm_callbacks_bucket{callback=\"kvstore:get\",le=\"10\"} 2
";
    assert!(text.contains(expected_tail), "{text}");
    assert!(text.contains("wasm_callbacks_bucket{callback=\"kvstore:get\",le=\"+Inf\"} 2\n"));
    assert!(text.contains("wasm_callbacks_sum{callback=\"kvstore:get\"} 7.3\n"));
    assert!(text.contains("wasm_callbacks_count{callback=\"kvstore:get\"} 2\n"));
    assert!(text.contains(
        "switchboard_callbacks_total{callback=\"kvstore:get\",outcome=\"ok\"} 1\n\
         switchboard_callbacks_total{callback=\"kvstore:get\",outcome=\"error\"} 1\n"
    ));
}

#[test]
fn observer_sees_routed_calls_and_caps_labels() {
    let metrics = Metrics::with_limits(MetricsLimits {
        max_metrics: 10,
        max_callbacks: 1,
    });
    let r = router(&metrics);
    r.register_namespace("echo", |p: &[u8]| Ok::<_, String>(p.to_vec()))
        .unwrap();
    call(&r, "counter", br#"{"name":"c"}"#).unwrap();
    r.call(&CallContext::new(), "tarmac", "echo", "a", b"x")
        .unwrap();
    r.call(&CallContext::new(), "tarmac", "echo", "b", b"x")
        .unwrap();
    let text = metrics.render();
    assert!(
        text.contains("wasm_callbacks_count{callback=\"metrics:counter\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("wasm_callbacks_count{callback=\"other\"} 2\n"),
        "{text}"
    );
    assert!(!text.contains("echo:a"), "{text}");
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(exposition::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    assert_eq!(exposition::number(f64::INFINITY), "+Inf");
    assert_eq!(exposition::number(0.25), "0.25");
}
