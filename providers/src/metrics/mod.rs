//! `metrics`: guest-defined counters, gauges and histograms (Tarmac's `counter`, `gauge`,
//! `histogram`), the router's own per-callback statistics, and the Prometheus text exposition of
//! all of them ([`Metrics::render`]).
//!
//! Guest metrics follow Tarmac: no status envelope (the answer is empty bytes or an error); the
//! name must match `^[a-zA-Z_:][a-zA-Z0-9_:]*$` (`invalid metric name`; Tarmac's own regex also
//! lets a leading digit through, which Prometheus rejects); a gauge action is `inc` or `dec`
//! (`invalid action`); a name already used by another type is `metric name in use`. A
//! `histogram` is exposed as a summary with quantiles 0.5, 0.9 and 0.99 (as in Tarmac),
//! computed over the last [`SUMMARY_WINDOW`] observations; a non-finite value is
//! `invalid value`. Requests are Tarmac's JSON or the protobuf messages of the same names. At most
//! [`MetricsLimits::max_metrics`] guest metrics exist (`too many metrics`).
//!
//! [`Metrics::observer`] is a router post-call observer that records every call that reached a
//! provider: `wasm_callbacks{callback="<namespace>:<operation>"}`, a histogram of durations in
//! milliseconds (Tarmac records the same name), and `switchboard_callbacks_total{callback,
//! outcome="ok"|"error"}`. Distinct callbacks are capped ([`MetricsLimits::max_callbacks`]);
//! further ones are counted under `callback="other"`.

mod exposition;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use switchboard::{CallResult, PostCall, Provider, ProviderError, Request};

use crate::wire::{json, proto, Encoding};

/// Observations a summary keeps for its quantiles.
pub const SUMMARY_WINDOW: usize = 1024;

/// Upper bounds (milliseconds) of the `wasm_callbacks` histogram buckets.
pub const CALLBACK_BUCKETS_MS: [f64; 14] = [
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, 30000.0,
];

/// Names the host exposes itself; a guest cannot define metrics starting with them.
const RESERVED_PREFIXES: [&str; 2] = ["wasm_callbacks", "switchboard_"];

/// Caps on what guests and callbacks can make the registry hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsLimits {
    /// Guest-defined metrics (default 1000).
    pub max_metrics: usize,
    /// Distinct `namespace:operation` labels in the callback statistics (default 1000).
    pub max_callbacks: usize,
}

impl Default for MetricsLimits {
    fn default() -> Self {
        MetricsLimits {
            max_metrics: 1000,
            max_callbacks: 1000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Metric {
    Counter(f64),
    Gauge(f64),
    Summary(Summary),
}

impl Metric {
    fn kind(&self) -> &'static str {
        match self {
            Metric::Counter(_) => "counter",
            Metric::Gauge(_) => "gauge",
            Metric::Summary(_) => "summary",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Summary {
    count: u64,
    sum: f64,
    window: VecDeque<f64>,
}

impl Summary {
    fn observe(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        if self.window.len() == SUMMARY_WINDOW {
            self.window.pop_front();
        }
        self.window.push_back(value);
    }

    /// The `q` quantile of the window (nearest rank), NaN when empty.
    fn quantile(&self, q: f64) -> f64 {
        if self.window.is_empty() {
            return f64::NAN;
        }
        let mut sorted: Vec<f64> = self.window.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let rank = (q * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Histogram {
    buckets: [u64; CALLBACK_BUCKETS_MS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, value: f64) {
        for (bound, n) in CALLBACK_BUCKETS_MS.iter().zip(self.buckets.iter_mut()) {
            if value <= *bound {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum += value;
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Callback {
    latency_ms: Histogram,
    ok: u64,
    error: u64,
}

#[derive(Debug, Default)]
struct Registry {
    guest: BTreeMap<String, Metric>,
    callbacks: BTreeMap<String, Callback>,
}

/// Why a metrics call failed; the `Display` text is what the guest receives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// The name does not match `^[a-zA-Z_:][a-zA-Z0-9_:]*$` or is reserved by the host.
    #[error("invalid metric name")]
    InvalidName,
    /// A gauge action other than `inc` / `dec`.
    #[error("invalid action")]
    InvalidAction,
    /// A histogram value that is NaN or infinite.
    #[error("invalid value")]
    InvalidValue,
    /// The name belongs to a metric of another type.
    #[error("metric name in use")]
    NameInUse,
    /// The registry already holds the maximum number of guest metrics.
    #[error("too many metrics")]
    TooMany,
    /// The payload was neither valid JSON nor valid protobuf for the operation.
    #[error("unable to parse input {encoding} - {reason}")]
    Parse {
        /// `JSON` or `protobuf`.
        encoding: &'static str,
        /// The decoder's message.
        reason: String,
    },
}

impl From<MetricsError> for ProviderError {
    fn from(err: MetricsError) -> Self {
        ProviderError::failed(err.to_string())
    }
}

/// Whether `name` is a valid Prometheus metric name.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The metrics registry and provider. Cheap to clone; clones share the registry, so one value
/// can serve the `metrics` route, observe the router, and render the exposition.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    limits: MetricsLimits,
}

impl Metrics {
    /// An empty registry with default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry with these limits.
    pub fn with_limits(limits: MetricsLimits) -> Self {
        Metrics {
            registry: Arc::default(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // Every update is a single step on plain numbers: a panic elsewhere cannot leave a
        // half-written metric, so a poisoned lock still guards consistent data.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(
        &self,
        name: &str,
        fresh: impl FnOnce() -> Metric,
        apply: impl FnOnce(&mut Metric) -> Result<(), MetricsError>,
    ) -> Result<(), MetricsError> {
        if !valid_name(name) || RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)) {
            return Err(MetricsError::InvalidName);
        }
        let mut registry = self.lock();
        let new = fresh();
        if let Some(existing) = registry.guest.get_mut(name) {
            if existing.kind() != new.kind() {
                return Err(MetricsError::NameInUse);
            }
            return apply(existing);
        }
        if registry.guest.len() >= self.limits.max_metrics {
            return Err(MetricsError::TooMany);
        }
        let mut metric = new;
        apply(&mut metric)?;
        registry.guest.insert(name.to_string(), metric);
        Ok(())
    }

    /// Increment counter `name` by one, creating it.
    ///
    /// # Errors
    ///
    /// [`MetricsError`] when `name` is not a valid metric name or is already
    /// another kind of metric, or a new metric would pass the limit.
    pub fn counter(&self, name: &str) -> Result<(), MetricsError> {
        self.update(
            name,
            || Metric::Counter(0.0),
            |m| {
                if let Metric::Counter(v) = m {
                    *v += 1.0;
                }
                Ok(())
            },
        )
    }

    /// Move gauge `name` by one (`inc` or `dec`), creating it.
    ///
    /// # Errors
    ///
    /// [`MetricsError`] when `name` is invalid or another kind of metric, `action`
    /// is neither `inc` nor `dec`, or a new metric would pass the limit.
    pub fn gauge(&self, name: &str, action: &str) -> Result<(), MetricsError> {
        let delta = match action {
            "inc" => 1.0,
            "dec" => -1.0,
            _ => {
                // Validate the name first, as Tarmac does, so a bad name wins over a bad action.
                if !valid_name(name) {
                    return Err(MetricsError::InvalidName);
                }
                return Err(MetricsError::InvalidAction);
            }
        };
        self.update(
            name,
            || Metric::Gauge(0.0),
            |m| {
                if let Metric::Gauge(v) = m {
                    *v += delta;
                }
                Ok(())
            },
        )
    }

    /// Observe `value` in histogram (summary) `name`, creating it.
    ///
    /// # Errors
    ///
    /// [`MetricsError`] when `name` is invalid or another kind of metric, or a new
    /// metric would pass the limit.
    pub fn histogram(&self, name: &str, value: f64) -> Result<(), MetricsError> {
        if !value.is_finite() {
            if !valid_name(name) {
                return Err(MetricsError::InvalidName);
            }
            return Err(MetricsError::InvalidValue);
        }
        self.update(
            name,
            || Metric::Summary(Summary::default()),
            |m| {
                if let Metric::Summary(s) = m {
                    s.observe(value);
                }
                Ok(())
            },
        )
    }

    /// Record one routed call (what [`observer`](Self::observer) does for every call).
    pub fn record_callback(&self, namespace: &str, operation: &str, millis: f64, ok: bool) {
        let mut label = format!("{namespace}:{operation}");
        let mut registry = self.lock();
        if !registry.callbacks.contains_key(&label)
            && registry.callbacks.len() >= self.limits.max_callbacks
        {
            label = "other".to_string();
        }
        let entry = registry.callbacks.entry(label).or_default();
        entry.latency_ms.observe(millis);
        if ok {
            entry.ok += 1;
        } else {
            entry.error += 1;
        }
    }

    /// A post-call observer feeding the callback statistics; add it with
    /// `Router::builder().post(metrics.observer())`.
    pub fn observer(&self) -> MetricsObserver {
        MetricsObserver(self.clone())
    }

    /// Everything in Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let registry = self.lock();
        exposition::render(&registry)
    }
}

/// Records every routed call into a [`Metrics`] registry. See [`Metrics::observer`].
#[derive(Clone, Debug)]
pub struct MetricsObserver(Metrics);

impl PostCall for MetricsObserver {
    fn after(&self, result: &CallResult<'_>) {
        let millis = result.duration.as_secs_f64() * 1000.0;
        self.0.record_callback(
            result.namespace,
            result.operation,
            millis,
            result.outcome.is_ok(),
        );
    }
}

fn parse_err(encoding: Encoding, reason: impl ToString) -> MetricsError {
    MetricsError::Parse {
        encoding: match encoding {
            Encoding::Json => "JSON",
            Encoding::Protobuf => "protobuf",
        },
        reason: reason.to_string(),
    }
}

fn decode<J, P>(payload: &[u8]) -> Result<Result<J, P>, MetricsError>
where
    J: serde::de::DeserializeOwned,
    P: prost::Message + Default,
{
    match Encoding::detect(payload) {
        Encoding::Json => serde_json::from_slice(payload)
            .map(Ok)
            .map_err(|e| parse_err(Encoding::Json, e)),
        Encoding::Protobuf => P::decode(payload)
            .map(Err)
            .map_err(|e| parse_err(Encoding::Protobuf, e)),
    }
}

impl Provider for Metrics {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        match req.operation {
            "counter" => {
                let name = match decode::<json::MetricsCounter, proto::MetricsCounter>(req.payload)?
                {
                    Ok(j) => j.name,
                    Err(p) => p.name,
                };
                self.counter(&name)?;
            }
            "gauge" => {
                let (name, action) =
                    match decode::<json::MetricsGauge, proto::MetricsGauge>(req.payload)? {
                        Ok(j) => (j.name, j.action),
                        Err(p) => (p.name, p.action),
                    };
                self.gauge(&name, &action)?;
            }
            "histogram" => {
                let (name, value) =
                    match decode::<json::MetricsHistogram, proto::MetricsHistogram>(req.payload)? {
                        Ok(j) => (j.name, j.value),
                        Err(p) => (p.name, p.value),
                    };
                self.histogram(&name, value)?;
            }
            other => return Err(ProviderError::UnknownOperation(other.to_string())),
        }
        Ok(Vec::new())
    }

    fn describe(&self) -> String {
        "tarmac metrics".to_string()
    }
}

#[cfg(test)]
mod tests;
