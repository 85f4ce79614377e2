//! Deadlines and cancellation by epoch interruption, never fuel (fuel costs on every
//! instruction).
//!
//! One ticker thread serves the whole process: every engine that guests run on registers with
//! it ([`register`]) and it bumps each registered engine's epoch every [`EPOCH_TICK`]. A store
//! whose epoch deadline passes runs its callback ([`check`]): it compares the call's real
//! deadline and cancellation token and either lets the guest run one more tick or stops it
//! with an [`Interrupt`]. The ticker holds only weak engine handles, so engines (and their
//! compiled code) are freed as usual; the thread ends when no engine is left and is started
//! again by the next registration.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::{EngineWeak, UpdateDeadline};

use crate::CancelToken;

/// The epoch period: the precision of every guest deadline and of cancellation, for waPC
/// guests and component providers alike. 2 ms keeps a canceled or late call's overrun small
/// while a running guest pays for the epoch check only 500 times a second.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Why the epoch callback stopped a running guest (recognised again in the resulting error by
/// the sandbox's fault classification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Interrupt {
    /// The call's deadline passed.
    #[error("deadline exceeded")]
    Deadline,
    /// The call's cancellation token was triggered.
    #[error("call canceled")]
    Canceled,
}

/// The epoch callback's decision for a call bounded by `deadline` and `cancel`: stop it, or
/// check again at the next tick.
pub(crate) fn check(
    deadline: Option<Instant>,
    cancel: Option<&CancelToken>,
) -> wasmtime::Result<UpdateDeadline> {
    if cancel.is_some_and(CancelToken::is_canceled) {
        return Err(wasmtime::Error::new(Interrupt::Canceled));
    }
    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
        return Err(wasmtime::Error::new(Interrupt::Deadline));
    }
    Ok(UpdateDeadline::Continue(1))
}

/// The engines the ticker serves, and whether its thread is running.
struct Ticker {
    engines: Vec<EngineWeak>,
    running: bool,
}

static TICKER: Mutex<Ticker> = Mutex::new(Ticker {
    engines: Vec::new(),
    running: false,
});

fn ticker() -> std::sync::MutexGuard<'static, Ticker> {
    // The list stays valid even if a holder panicked: at worst an engine ticks once more.
    TICKER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Have the process-wide ticker advance `engine`'s epoch every [`EPOCH_TICK`] for as long as
/// the engine lives.
///
/// # Errors
/// The ticker thread could not be started (the OS refused a thread); the text says why.
pub(crate) fn register(engine: &wasmtime::Engine) -> Result<(), String> {
    let mut ticker = ticker();
    ticker.engines.push(engine.weak());
    if ticker.running {
        return Ok(());
    }
    std::thread::Builder::new()
        .name("switchboard-epoch".into())
        .spawn(run)
        .map_err(|e| format!("cannot start the epoch ticker thread: {e}"))?;
    ticker.running = true;
    Ok(())
}

fn run() {
    loop {
        {
            let mut ticker = ticker();
            ticker.engines.retain(|weak| match weak.upgrade() {
                Some(engine) => {
                    engine.increment_epoch();
                    true
                }
                None => false,
            });
            if ticker.engines.is_empty() {
                ticker.running = false;
                return;
            }
        }
        std::thread::sleep(EPOCH_TICK);
    }
}

/// Whole ticks covering `timeout`, plus one for the tick already in progress.
#[cfg_attr(not(feature = "wasmtime-provider"), allow(dead_code))]
pub(crate) fn ticks_for(timeout: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    let ticks = timeout.as_nanos().div_ceil(tick);
    u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up_and_add_one() {
        assert_eq!(ticks_for(Duration::ZERO), 1);
        assert_eq!(ticks_for(EPOCH_TICK), 2);
        assert_eq!(ticks_for(EPOCH_TICK + Duration::from_nanos(1)), 3);
        assert_eq!(ticks_for(Duration::MAX), u64::MAX);
    }

    #[test]
    fn check_stops_on_cancel_before_the_deadline() {
        let token = CancelToken::new();
        assert!(matches!(
            check(None, Some(&token)),
            Ok(UpdateDeadline::Continue(1))
        ));
        token.cancel();
        let past = Instant::now() - Duration::from_millis(1);
        let stop = |result: wasmtime::Result<UpdateDeadline>| match result {
            Err(err) => err.downcast_ref::<Interrupt>().copied(),
            Ok(_) => panic!("the guest was let run on"),
        };
        assert_eq!(
            stop(check(Some(past), Some(&token))),
            Some(Interrupt::Canceled)
        );
        assert_eq!(stop(check(Some(past), None)), Some(Interrupt::Deadline));
    }

    #[test]
    fn one_ticker_advances_every_registered_engine() {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engines: Vec<wasmtime::Engine> = (0..2)
            .map(|_| wasmtime::Engine::new(&config).expect("engine"))
            .collect();
        for engine in &engines {
            register(engine).expect("ticker");
        }
        // Two engines, one thread: each store's epoch deadline passes within a few ticks.
        for engine in &engines {
            let module = wasmtime::Module::new(
                engine,
                r#"(module (func (export "spin") (loop $l (br $l))))"#,
            )
            .expect("module");
            let mut store = wasmtime::Store::new(engine, ());
            store.set_epoch_deadline(3);
            let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instance");
            let spin = instance
                .get_typed_func::<(), ()>(&mut store, "spin")
                .expect("spin");
            let err = spin.call(&mut store, ()).expect_err("interrupted");
            assert_eq!(
                err.downcast_ref::<wasmtime::Trap>(),
                Some(&wasmtime::Trap::Interrupt)
            );
        }
        let threads = std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .filter_map(Result::ok)
                    .filter(|task| {
                        std::fs::read_to_string(task.path().join("comm"))
                            .is_ok_and(|name| name.trim() == "switchboard-epo")
                    })
                    .count()
            })
            .unwrap_or(1);
        assert_eq!(threads, 1, "one ticker thread for every engine");
    }
}
