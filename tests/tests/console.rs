//! End-to-end: an unchanged guest's `__console_log` goes to `tracing` (target
//! `switchboard::guest`), tagged with the guest's name, instead of the host's stdout.

use std::sync::{Arc, Mutex, PoisonError};

use switchboard::wapc::{GuestConfig, GuestModule, GUEST_LOG_TARGET};
use switchboard::Router;
use switchboard_tests::Fixture;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One event: (target, guest, stream, message).
type Event = (String, String, String, String);

#[derive(Default)]
struct Fields {
    guest: String,
    stream: String,
    message: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "guest" => self.guest = value.to_owned(),
            "stream" => self.stream = value.to_owned(),
            "message" => self.message = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "guest" => self.guest = format!("{value:?}"),
            "stream" => self.stream = format!("{value:?}"),
            "message" => self.message = format!("{value:?}"),
            _ => {}
        }
    }
}

struct Capture(Arc<Mutex<Vec<Event>>>);

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push((
            event.metadata().target().to_owned(),
            fields.guest,
            fields.stream,
            fields.message,
        ));
    }
}

#[test]
fn console_log_is_a_tracing_event_tagged_with_the_guest_name() {
    for (fixture, name) in [
        (Fixture::RustGuest, "rust_guest"),
        (Fixture::AsGuest, "as_guest"),
    ] {
        let events = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(Arc::clone(&events)));
        let out = tracing::subscriber::with_default(subscriber, || {
            // The guest is named after the file stem; invocations run on the calling thread.
            let runtime = GuestModule::from_file(fixture.require(), GuestConfig::default())
                .and_then(|module| module.runtime(&Router::new()))
                .unwrap_or_else(|err| panic!("{fixture}: {err}"));
            runtime.invoke("log", b"hello from the guest")
        });
        assert_eq!(out.unwrap(), b"logged", "{fixture}");

        let guest_events: Vec<Event> = events
            .lock()
            .unwrap()
            .iter()
            .filter(|event| event.0 == GUEST_LOG_TARGET)
            .cloned()
            .collect();
        assert_eq!(
            guest_events,
            vec![(
                GUEST_LOG_TARGET.to_owned(),
                name.to_owned(),
                "console".to_owned(),
                "hello from the guest".to_owned()
            )],
            "{fixture}"
        );
    }
}
