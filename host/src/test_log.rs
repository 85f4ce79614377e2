//! Test support: capture the `tracing` events a closure emits on this thread.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One captured event: its target, level and fields (`message` included), as text.
#[derive(Debug, Clone)]
pub(crate) struct LogEvent {
    pub(crate) target: String,
    pub(crate) level: tracing::Level,
    pub(crate) fields: BTreeMap<&'static str, String>,
}

impl LogEvent {
    /// A field's text, empty when absent.
    pub(crate) fn field(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

struct Fields(BTreeMap<&'static str, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

struct Capture(Arc<Mutex<Vec<LogEvent>>>);

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(LogEvent {
                target: meta.target().to_owned(),
                level: *meta.level(),
                fields: fields.0,
            });
    }
}

/// Run `f` with a subscriber capturing every event on this thread.
pub(crate) fn capture_events<R>(f: impl FnOnce() -> R) -> (R, Vec<LogEvent>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Capture(events.clone()));
    let result = tracing::subscriber::with_default(subscriber, f);
    let events = events
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (result, events)
}
