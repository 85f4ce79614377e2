//! Prometheus text exposition format 0.0.4.

use std::fmt::Write as _;

use super::{Metric, Registry, CALLBACK_BUCKETS_MS};

/// A float as Prometheus writes it: `+Inf`, `-Inf`, `NaN`, or the shortest decimal.
pub(crate) fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

/// Escape a label value: backslash, double quote and newline.
pub(crate) fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub(super) fn render(registry: &Registry) -> String {
    // `write!` into a String cannot fail; the results are ignored for that reason.
    let mut out = String::new();
    for (name, metric) in &registry.guest {
        let _ = writeln!(out, "# TYPE {name} {}", metric.kind());
        match metric {
            Metric::Counter(v) | Metric::Gauge(v) => {
                let _ = writeln!(out, "{name} {}", number(*v));
            }
            Metric::Summary(s) => {
                for q in [0.5, 0.9, 0.99] {
                    let _ = writeln!(out, "{name}{{quantile=\"{q}\"}} {}", number(s.quantile(q)));
                }
                let _ = writeln!(out, "{name}_sum {}", number(s.sum));
                let _ = writeln!(out, "{name}_count {}", s.count);
            }
        }
    }
    if registry.callbacks.is_empty() {
        return out;
    }
    out.push_str("# HELP wasm_callbacks Duration of host callbacks in milliseconds.\n");
    out.push_str("# TYPE wasm_callbacks histogram\n");
    for (callback, stats) in &registry.callbacks {
        let cb = label(callback);
        let h = &stats.latency_ms;
        for (bound, n) in CALLBACK_BUCKETS_MS.iter().zip(h.buckets.iter()) {
            let _ = writeln!(
                out,
                "wasm_callbacks_bucket{{callback=\"{cb}\",le=\"{}\"}} {n}",
                number(*bound)
            );
        }
        let _ = writeln!(
            out,
            "wasm_callbacks_bucket{{callback=\"{cb}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            out,
            "wasm_callbacks_sum{{callback=\"{cb}\"}} {}",
            number(h.sum)
        );
        let _ = writeln!(out, "wasm_callbacks_count{{callback=\"{cb}\"}} {}", h.count);
    }
    out.push_str("# HELP switchboard_callbacks_total Host callbacks that reached a provider.\n");
    out.push_str("# TYPE switchboard_callbacks_total counter\n");
    for (callback, stats) in &registry.callbacks {
        let cb = label(callback);
        let _ = writeln!(
            out,
            "switchboard_callbacks_total{{callback=\"{cb}\",outcome=\"ok\"}} {}",
            stats.ok
        );
        let _ = writeln!(
            out,
            "switchboard_callbacks_total{{callback=\"{cb}\",outcome=\"error\"}} {}",
            stats.error
        );
    }
    out
}
