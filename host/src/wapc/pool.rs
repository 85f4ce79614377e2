//! A bounded checkout/checkin pool of guest instances.
//!
//! At most `capacity` items exist; an idle one is reused, a missing one is created outside
//! any lock, and a caller finding every item busy waits until its deadline. A discarded item
//! (trapped, timed out) frees its slot for a fresh one.
//!
//! Idle items live in per-thread-affine shards, so threads invoking in parallel do not fight
//! over one lock on every call (2 threads must give ~2x the calls of one). Only the slow path
//! (everything busy) takes the shared `gate` lock.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// A shard on its own cache lines, so two threads' shards do not share one.
#[derive(Debug)]
#[repr(align(128))]
struct Shard<T>(Mutex<Vec<Padded<T>>>);

/// An idle item on cache lines of its own. A shard's `Vec` buffer is a small heap block that
/// can land next to another shard's; padding each element keeps two threads' checkins from
/// writing one cache line.
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

/// The pool. `Sync` when `T: Send`.
#[derive(Debug)]
pub(crate) struct Pool<T> {
    shards: Box<[Shard<T>]>,
    /// Items in existence (idle, checked out, or being created).
    live: AtomicUsize,
    /// Callers sleeping in `checkout`; checkin signals only when there are any (an unneeded
    /// `notify_one` is a futex syscall on every call).
    waiters: AtomicUsize,
    gate: Mutex<()>,
    freed: Condvar,
    capacity: usize,
}

/// Why no item could be checked out.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CheckoutError<E> {
    /// Every item stayed busy until the deadline.
    Timeout,
    /// Creating a new item failed.
    Create(E),
}

/// A small number naming this thread, stable for its lifetime: the home shard of the waPC pool
/// (modulo the shard count) and the affinity key of the component pool.
pub(crate) fn home_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    HOME.with(|home| *home)
}

fn lock<U>(mutex: &Mutex<U>) -> MutexGuard<'_, U> {
    // Shards hold plain Vecs: valid even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T> Pool<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Pool {
            shards: (0..capacity)
                .map(|_| Shard(Mutex::new(Vec::new())))
                .collect(),
            live: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            gate: Mutex::new(()),
            freed: Condvar::new(),
            capacity,
        }
    }

    fn home(&self) -> usize {
        home_index() % self.shards.len()
    }

    /// An idle item, this thread's shard first.
    fn take_idle(&self) -> Option<T> {
        let home = self.home();
        let count = self.shards.len();
        (0..count).find_map(|i| lock(&self.shards[(home + i) % count].0).pop().map(|p| p.0))
    }

    /// Reserve a slot for a new item if below capacity.
    fn reserve(&self) -> bool {
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                (live < self.capacity).then_some(live + 1)
            })
            .is_ok()
    }

    fn lease(&self, item: T) -> Lease<'_, T> {
        Lease {
            pool: self,
            item: Some(item),
        }
    }

    fn create<E>(
        &self,
        create: impl FnOnce() -> Result<T, E>,
    ) -> Result<Lease<'_, T>, CheckoutError<E>> {
        match create() {
            Ok(item) => Ok(self.lease(item)),
            Err(e) => {
                self.release_slot();
                Err(CheckoutError::Create(e))
            }
        }
    }

    /// An idle item, a new one from `create` if below capacity, or the first one freed
    /// before `deadline` (`None`: wait as long as it takes).
    pub(crate) fn checkout<E>(
        &self,
        deadline: Option<Instant>,
        create: impl FnOnce() -> Result<T, E>,
    ) -> Result<Lease<'_, T>, CheckoutError<E>> {
        if let Some(item) = self.take_idle() {
            return Ok(self.lease(item));
        }
        if self.reserve() {
            return self.create(create);
        }
        let mut gate = lock(&self.gate);
        loop {
            // Registered as a waiter before looking again: a checkin or release after this
            // point sees the count and signals (see `wake`), so no wakeup is lost.
            self.waiters.fetch_add(1, Ordering::SeqCst);
            if let Some(item) = self.take_idle() {
                self.waiters.fetch_sub(1, Ordering::SeqCst);
                return Ok(self.lease(item));
            }
            if self.reserve() {
                self.waiters.fetch_sub(1, Ordering::SeqCst);
                drop(gate);
                return self.create(create);
            }
            let left = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) => Some(left),
                    None => {
                        self.waiters.fetch_sub(1, Ordering::SeqCst);
                        return Err(CheckoutError::Timeout);
                    }
                },
            };
            gate = match left {
                None => self
                    .freed
                    .wait(gate)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(left) => {
                    self.freed
                        .wait_timeout(gate, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            self.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Signal one sleeping caller, if any. Taking `gate` orders the signal after the
    /// waiter's final check.
    fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _gate = lock(&self.gate);
            self.freed.notify_one();
        }
    }

    fn checkin(&self, item: T) {
        lock(&self.shards[self.home()].0).push(Padded(item));
        self.wake();
    }

    fn release_slot(&self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        self.wake();
    }

    /// Idle items right now.
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.shards.iter().map(|shard| lock(&shard.0).len()).sum()
    }

    /// Items in existence right now.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

/// A checked-out item; returns to the pool when dropped unless [`discard`](Lease::discard)ed.
#[derive(Debug)]
pub(crate) struct Lease<'a, T> {
    pool: &'a Pool<T>,
    item: Option<T>,
}

impl<T> Lease<'_, T> {
    /// Drop the item (outside the pool's lock) and free its slot.
    pub(crate) fn discard(mut self) {
        drop(self.item.take());
        self.pool.release_slot();
    }
}

impl<T> Deref for Lease<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.item {
            Some(item) => item,
            // `item` is only taken by `discard` and `drop`, which consume the lease.
            None => unreachable!("lease used after release"),
        }
    }
}

impl<T> DerefMut for Lease<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.item {
            Some(item) => item,
            None => unreachable!("lease used after release"),
        }
    }
}

impl<T> Drop for Lease<'_, T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.pool.checkin(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn make(n: u32) -> impl FnOnce() -> Result<u32, &'static str> {
        move || Ok(n)
    }

    #[test]
    fn reuses_idle_items() {
        let pool = Pool::new(2);
        drop(pool.checkout(None, make(1)));
        let lease = pool.checkout(None, make(2));
        assert!(matches!(lease.as_deref(), Ok(1)));
        drop(lease);
        assert_eq!((pool.idle(), pool.live()), (1, 1));
    }

    #[test]
    fn creates_up_to_capacity_then_times_out() {
        let pool = Pool::new(2);
        let a = pool.checkout(None, make(1));
        let b = pool.checkout(None, make(2));
        assert!(matches!((a.as_deref(), b.as_deref()), (Ok(1), Ok(2))));
        let c = pool.checkout(Some(Instant::now() + Duration::from_millis(1)), make(3));
        assert_eq!(c.err(), Some(CheckoutError::Timeout));
        assert_eq!(pool.live(), 2);
    }

    #[test]
    fn discard_frees_a_slot_for_a_new_item() {
        let pool = Pool::new(1);
        if let Ok(lease) = pool.checkout(None, make(1)) {
            lease.discard();
        }
        assert_eq!((pool.idle(), pool.live()), (0, 0));
        let lease = pool.checkout(Some(Instant::now()), make(7));
        assert!(matches!(lease.as_deref(), Ok(7)));
    }

    #[test]
    fn failed_creation_releases_the_slot() {
        let pool: Pool<u32> = Pool::new(1);
        let err = pool.checkout(None, || Err("boom")).err();
        assert_eq!(err, Some(CheckoutError::Create("boom")));
        assert_eq!(pool.live(), 0);
        assert!(pool.checkout(Some(Instant::now()), make(1)).is_ok());
    }

    #[test]
    fn a_waiter_gets_the_item_checked_in_by_another_thread() {
        let pool = Pool::new(1);
        let held = pool.checkout(None, make(5));
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                pool.checkout(None, make(9))
                    .map(|lease| *lease)
                    .map_err(|_| ())
            });
            drop(held);
            assert_eq!(waiter.join().ok(), Some(Ok(5)));
        });
    }

    #[test]
    fn contended_checkouts_never_exceed_capacity_or_lose_a_wakeup() {
        let pool = Pool::new(2);
        let created = AtomicUsize::new(0);
        let max_out = AtomicUsize::new(0);
        let out = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..4 {
                let (pool, created, max_out, out) = (&pool, &created, &max_out, &out);
                s.spawn(move || {
                    for i in 0..2000 {
                        let deadline = Some(Instant::now() + Duration::from_secs(30));
                        let lease = pool.checkout(deadline, || {
                            created.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, ()>(t)
                        });
                        let Ok(lease) = lease else {
                            panic!("checkout failed");
                        };
                        let now = out.fetch_add(1, Ordering::SeqCst) + 1;
                        max_out.fetch_max(now, Ordering::SeqCst);
                        out.fetch_sub(1, Ordering::SeqCst);
                        if i % 97 == 0 {
                            lease.discard();
                        }
                    }
                });
            }
        });
        assert!(max_out.load(Ordering::SeqCst) <= 2);
        assert!(pool.live() <= 2);
        assert_eq!(pool.idle(), pool.live());
        // Each thread discarded 21 items, each replaced at most once more.
        assert!(created.load(Ordering::SeqCst) <= 2 + 4 * 21);
    }
}
