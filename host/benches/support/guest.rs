//! The waPC echo guest and the floor every guest-side benchmark is measured against: a
//! `GuestRuntime` whose `echo/echo` host call goes through the router to a native closure.

use std::hint::black_box;

use switchboard::wapc::{GuestConfig, GuestModule, GuestRuntime};
use switchboard::{CallInfo, CallResult, PreOutcome, ProviderError, Router};

/// `__guest_call`: host-call `wapc/echo/echo` with the payload, answer with the host response.
pub const GUEST: &str = include_str!("../echo_guest.wat");

/// A router serving `echo/echo` with a native echo closure; with `middleware`, also one pre
/// middleware that lets every call through and one post observer.
pub fn echo_router(middleware: bool) -> Router {
    let router = if middleware {
        Router::builder()
            .pre(|_: &CallInfo<'_>, _: &[u8]| PreOutcome::Continue)
            .post(|result: &CallResult<'_>| {
                black_box(result);
            })
            .build()
    } else {
        Router::new()
    };
    router
        .register("echo", "echo", |payload: &[u8]| {
            Ok::<_, ProviderError>(payload.to_vec())
        })
        .expect("fresh route");
    router
}

/// A `GuestRuntime` of [`GUEST`] named `bench`, its host calls routed by `router`.
pub fn runtime(config: GuestConfig, router: &Router) -> GuestRuntime {
    GuestModule::from_bytes(GUEST.as_bytes(), config.with_name("bench"))
        .and_then(|module| module.runtime(router))
        .expect("runtime")
}
