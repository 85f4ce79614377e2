//! A bounded, sharded pool of warm instances, shared by waPC guests and component providers.
//!
//! At most `max` instances are alive (idle or serving). A call takes an idle one, or creates
//! one while under `max`, or waits for one to come back, bounded by the pool's wait and the
//! call's deadline and cancellation. An instance goes back to the pool through its [`Lease`]
//! only when the holder says so ([`Lease::keep`]): one that must not be reused (after a trap,
//! a deadline, a limit, N calls, or a panic in between) is dropped and its slot freed.

use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::CallContext;

/// How long one wait lasts before cancellation is checked again.
const CANCEL_POLL: Duration = Duration::from_millis(5);

/// A small number naming this thread, stable for its lifetime: picks its home shard.
fn home_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    HOME.with(|home| *home)
}

/// Why no instance could be had.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PoolError<E> {
    /// Every instance stayed busy for the whole wait.
    Saturated { max: usize, waited: Duration },
    /// The call's deadline passed while waiting.
    DeadlineExceeded,
    /// The call was canceled while waiting.
    Canceled,
    /// Creating a new instance failed.
    Create(E),
}

/// Idle instances returned by one thread, on cache lines of their own.
///
/// A thread takes from and returns to its home shard, so on the common path two calling
/// threads touch neither the same lock nor the same instance: with one shared lock and stack,
/// 2 threads ran no faster than 1 (the lock's line and each instance's memory bounced between
/// cores on every call).
#[repr(align(128))]
struct Shard<T>(Mutex<Vec<Padded<T>>>);

/// An idle instance on cache lines of its own. A shard's `Vec` buffer is a small heap block
/// that can land next to another shard's; padding each element keeps two threads' returns
/// from writing one cache line.
#[repr(align(128))]
struct Padded<T>(T);

pub(crate) struct Pool<T> {
    shards: Box<[Shard<T>]>,
    /// Instances alive: idle, serving, or being created.
    live: AtomicUsize,
    /// Callers sleeping in `checkout`: without any, returning an instance skips the gate
    /// (a futex syscall per call otherwise).
    waiting: AtomicUsize,
    /// Taken only on the slow path (everything busy), to sleep and to signal.
    gate: Mutex<()>,
    freed: Condvar,
    max: usize,
}

/// Counters for tests and route listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Instances alive (idle or serving).
    pub live: usize,
    /// Instances idle.
    pub idle: usize,
}

fn lock<U>(mutex: &Mutex<U>) -> MutexGuard<'_, U> {
    // Shards hold plain Vecs and the gate nothing: valid even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T> Pool<T> {
    pub(crate) fn new(max: usize) -> Self {
        Pool {
            shards: (0..max.max(1))
                .map(|_| Shard(Mutex::new(Vec::new())))
                .collect(),
            live: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            gate: Mutex::new(()),
            freed: Condvar::new(),
            max,
        }
    }

    /// Instances alive (idle or serving), without looking into the shards.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    pub(crate) fn stats(&self) -> PoolStats {
        PoolStats {
            live: self.live.load(Ordering::SeqCst),
            idle: self.shards.iter().map(|shard| lock(&shard.0).len()).sum(),
        }
    }

    fn home(&self) -> usize {
        home_index() % self.shards.len()
    }

    /// An idle instance, this thread's shard first.
    fn take_idle(&self) -> Option<T> {
        let home = self.home();
        let count = self.shards.len();
        (0..count).find_map(|i| lock(&self.shards[(home + i) % count].0).pop().map(|p| p.0))
    }

    /// Count a new instance in if that stays within `limit` (and `max`).
    fn reserve(&self, limit: usize) -> bool {
        let limit = limit.min(self.max);
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                (live < limit).then_some(live + 1)
            })
            .is_ok()
    }

    /// Create instances until `min` are alive (used to pre-warm and to refill after discards).
    pub(crate) fn top_up<E>(&self, min: usize, create: impl Fn() -> Result<T, E>) -> Result<(), E> {
        while self.reserve(min) {
            match create() {
                Ok(item) => self.put_back(item),
                Err(err) => {
                    self.release_slot();
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    fn create<E>(
        &self,
        create: impl FnOnce() -> Result<T, E>,
    ) -> Result<Lease<'_, T>, PoolError<E>> {
        match create() {
            Ok(item) => Ok(Lease::new(self, item)),
            Err(err) => {
                self.release_slot();
                Err(PoolError::Create(err))
            }
        }
    }

    /// Take an instance: idle, new, or waited for at most `wait` (and never past the call's
    /// deadline or cancellation; `Duration::MAX` waits as long as those allow).
    pub(crate) fn checkout<E>(
        &self,
        ctx: &CallContext,
        wait: Duration,
        create: impl FnOnce() -> Result<T, E>,
    ) -> Result<Lease<'_, T>, PoolError<E>> {
        if let Some(item) = self.take_idle() {
            return Ok(Lease::new(self, item));
        }
        if self.reserve(self.max) {
            return self.create(create);
        }
        let started = Instant::now();
        let give_up = started.checked_add(wait);
        let mut gate = lock(&self.gate);
        loop {
            // Registered as a waiter before looking again: a return after this point sees the
            // count and signals under the gate, so no wakeup is lost.
            self.waiting.fetch_add(1, Ordering::SeqCst);
            if let Some(item) = self.take_idle() {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                return Ok(Lease::new(self, item));
            }
            if self.reserve(self.max) {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                drop(gate);
                return self.create(create);
            }
            let outcome = self.nap(ctx, started, give_up);
            let nap = match outcome {
                Ok(nap) => nap,
                Err(err) => {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(err);
                }
            };
            gate = self
                .freed
                .wait_timeout(gate, nap)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// How long to sleep before looking again, or why to stop waiting.
    fn nap<E>(
        &self,
        ctx: &CallContext,
        started: Instant,
        give_up: Option<Instant>,
    ) -> Result<Duration, PoolError<E>> {
        if ctx.is_canceled() {
            return Err(PoolError::Canceled);
        }
        let now = Instant::now();
        if ctx.deadline().is_some_and(|d| now >= d) {
            return Err(PoolError::DeadlineExceeded);
        }
        let saturated = || PoolError::Saturated {
            max: self.max,
            waited: now.duration_since(started),
        };
        // A wait too long to represent as an instant is unbounded (deadline still applies).
        let remaining = match give_up {
            Some(give_up) => give_up.checked_duration_since(now).ok_or_else(saturated)?,
            None => CANCEL_POLL,
        };
        let mut nap = remaining.min(CANCEL_POLL);
        if let Some(left) = ctx.remaining() {
            nap = nap.min(left);
        }
        if nap.is_zero() {
            return Err(saturated());
        }
        Ok(nap)
    }

    /// Signal one sleeping caller, if any. Taking the gate orders the signal after the
    /// waiter's last look.
    fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let _gate = lock(&self.gate);
            self.freed.notify_one();
        }
    }

    fn put_back(&self, item: T) {
        lock(&self.shards[self.home()].0).push(Padded(item));
        self.wake();
    }

    fn release_slot(&self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.wake();
    }
}

/// An instance taken from the pool. Dropping it returns the instance to the pool only if
/// [`keep`](Lease::keep) was called since the last [`discard`](Lease::discard); otherwise
/// (including when the holder panicked before saying so) the instance is dropped and its slot
/// freed.
pub(crate) struct Lease<'a, T> {
    pool: &'a Pool<T>,
    /// Always `Some` until `drop` takes it out.
    item: Option<T>,
    keep: bool,
}

impl<'a, T> Lease<'a, T> {
    fn new(pool: &'a Pool<T>, item: T) -> Self {
        Lease {
            pool,
            item: Some(item),
            // Set to true only when a call finished cleanly: a panic in between discards.
            keep: false,
        }
    }

    /// The instance.
    pub(crate) fn get(&mut self) -> &mut T {
        self.item
            .as_mut()
            .expect("a lease holds its instance until it is dropped; this is a bug")
    }

    /// Return the instance to the pool when dropped.
    pub(crate) fn keep(&mut self) {
        self.keep = true;
    }

    /// Drop the instance instead of returning it.
    pub(crate) fn discard(&mut self) {
        self.keep = false;
    }
}

impl<T> Drop for Lease<'_, T> {
    fn drop(&mut self) {
        match self.item.take() {
            Some(item) if self.keep => self.pool.put_back(item),
            // Drop the instance (and its Store) outside the pool lock.
            _ => self.pool.release_slot(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(n: u32) -> impl FnOnce() -> Result<u32, &'static str> {
        move || Ok(n)
    }

    #[test]
    fn reuses_a_kept_instance() {
        let pool = Pool::new(2);
        let ctx = CallContext::new();
        let mut lease = pool.checkout(&ctx, Duration::ZERO, ok(1)).unwrap();
        lease.keep();
        drop(lease);
        let mut lease = pool.checkout(&ctx, Duration::ZERO, ok(2)).unwrap();
        assert_eq!(*lease.get(), 1);
        drop(lease);
        assert_eq!(pool.stats(), PoolStats { live: 0, idle: 0 });
    }

    #[test]
    fn discarded_instance_frees_its_slot() {
        let pool = Pool::new(1);
        let ctx = CallContext::new();
        let mut lease = pool.checkout(&ctx, Duration::ZERO, ok(1)).unwrap();
        lease.discard();
        drop(lease);
        assert_eq!(pool.stats(), PoolStats { live: 0, idle: 0 });
        let mut lease = pool.checkout(&ctx, Duration::ZERO, ok(7)).unwrap();
        assert_eq!(*lease.get(), 7);
    }

    #[test]
    fn saturated_pool_reports_after_the_bounded_wait() {
        let pool = Pool::new(1);
        let ctx = CallContext::new();
        let _busy = pool.checkout(&ctx, Duration::ZERO, ok(1)).unwrap();
        let err = pool
            .checkout(&ctx, Duration::from_millis(20), ok(2))
            .err()
            .unwrap();
        assert!(
            matches!(err, PoolError::Saturated { max: 1, waited } if waited >= Duration::from_millis(20))
        );
    }

    #[test]
    fn waiting_stops_at_the_call_deadline_and_on_cancel() {
        let pool = Pool::new(1);
        let _busy = pool
            .checkout(&CallContext::new(), Duration::ZERO, ok(1))
            .unwrap();
        let ctx = CallContext::new().with_timeout(Duration::from_millis(10));
        let err = pool
            .checkout(&ctx, Duration::from_secs(60), ok(2))
            .err()
            .unwrap();
        assert_eq!(err, PoolError::DeadlineExceeded);
        // An unbounded wait still ends at the deadline.
        let ctx = CallContext::new().with_timeout(Duration::from_millis(10));
        let err = pool.checkout(&ctx, Duration::MAX, ok(2)).err().unwrap();
        assert_eq!(err, PoolError::DeadlineExceeded);

        let token = crate::CancelToken::new();
        token.cancel();
        let ctx = CallContext::new().with_cancel(token);
        let err = pool
            .checkout(&ctx, Duration::from_secs(60), ok(2))
            .err()
            .unwrap();
        assert_eq!(err, PoolError::Canceled);
    }

    #[test]
    fn a_waiter_gets_the_instance_given_back() {
        let pool = std::sync::Arc::new(Pool::new(1));
        let mut lease = pool
            .checkout(&CallContext::new(), Duration::ZERO, ok(1))
            .unwrap();
        lease.keep();
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut lease = pool
                    .checkout(&CallContext::new(), Duration::from_secs(30), ok(2))
                    .unwrap();
                *lease.get()
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        drop(lease);
        assert_eq!(waiter.join().unwrap(), 1);
    }

    #[test]
    fn failed_creation_frees_the_slot() {
        let pool: Pool<u32> = Pool::new(1);
        let err = pool
            .checkout(&CallContext::new(), Duration::ZERO, || Err("boom"))
            .err()
            .unwrap();
        assert_eq!(err, PoolError::Create("boom"));
        assert_eq!(pool.stats(), PoolStats { live: 0, idle: 0 });
    }

    #[test]
    fn top_up_creates_up_to_min() {
        let pool = Pool::new(4);
        pool.top_up(3, || Ok::<_, ()>(0u32)).unwrap();
        assert_eq!(pool.stats(), PoolStats { live: 3, idle: 3 });
        pool.top_up(3, || Ok::<_, ()>(0u32)).unwrap();
        assert_eq!(pool.stats(), PoolStats { live: 3, idle: 3 });
    }

    #[test]
    fn contended_checkouts_never_exceed_max_or_lose_a_wakeup() {
        const MAX: usize = 2;
        let pool = Pool::new(MAX);
        let created = AtomicUsize::new(0);
        // Leases held right now, counted from checkout to drop, and the highest count seen.
        let held = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let (pool, created, held, peak) = (&pool, &created, &held, &peak);
                s.spawn(move || {
                    let ctx = CallContext::new().with_timeout(Duration::from_secs(30));
                    for i in 0..2000 {
                        let mut lease = pool
                            .checkout(&ctx, Duration::MAX, || {
                                created.fetch_add(1, Ordering::SeqCst);
                                Ok::<_, ()>(t)
                            })
                            .expect("checkout");
                        let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        // Hold the lease a little, so overcommitted leases would overlap.
                        for _ in 0..20 {
                            std::hint::spin_loop();
                        }
                        std::thread::yield_now();
                        peak.fetch_max(held.load(Ordering::SeqCst), Ordering::SeqCst);
                        if i % 97 != 0 {
                            lease.keep();
                        }
                        held.fetch_sub(1, Ordering::SeqCst);
                        drop(lease);
                    }
                });
            }
        });
        let peak = peak.load(Ordering::SeqCst);
        assert!(
            peak <= MAX,
            "{peak} leases held at once, the bound is {MAX}"
        );
        // Four threads on a bound of two: the bound was reached, so the check above could fail.
        assert_eq!(peak, MAX);
        let stats = pool.stats();
        assert!(stats.live <= MAX, "{stats:?}");
        assert_eq!(stats.idle, stats.live);
        // Each thread discarded 21 instances, each replaced at most once.
        assert!(created.load(Ordering::SeqCst) <= MAX + 4 * 21);
    }
}
