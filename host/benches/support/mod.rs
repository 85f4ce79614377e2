//! Shared by the benchmarks: the waPC echo guest and its runtime floor ([`guest`]), and
//! long-lived worker threads for 1-vs-N-thread throughput ([`Workers`]).

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub mod guest;

/// The work one thread repeats: one call per invocation.
pub type Work = Box<dyn FnMut()>;

/// `threads` workers, each running its own [`Work`] built on its own thread (so `!Send` state
/// such as a `WapcHost` works).
///
/// Spawning fresh threads for every criterion sample measured the scheduler, not the code:
/// criterion's first samples last well under a millisecond, and two just-spawned threads often
/// start on one core until the load balancer moves one (2-thread ratios swung from 1.45x to
/// 1.85x between runs of the same code). Workers are spawned once per benchmark, build their
/// per-thread state once, and only wait on a barrier between samples.
pub struct Workers {
    starts: Vec<SyncSender<u64>>,
    done: Receiver<Duration>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Spawn the workers; `per_thread` runs once on each to build its work.
    pub fn new(threads: usize, per_thread: impl Fn() -> Work + Send + Sync + 'static) -> Self {
        let per_thread = Arc::new(per_thread);
        let barrier = Arc::new(Barrier::new(threads));
        let (done_tx, done) = mpsc::channel();
        let mut starts = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads {
            let (start_tx, start_rx) = mpsc::sync_channel::<u64>(1);
            let (per_thread, barrier, done_tx) = (
                Arc::clone(&per_thread),
                Arc::clone(&barrier),
                done_tx.clone(),
            );
            let handle = std::thread::Builder::new()
                .name(format!("bench-worker-{i}"))
                .spawn(move || {
                    let mut work = per_thread();
                    while let Ok(iters) = start_rx.recv() {
                        barrier.wait();
                        let start = Instant::now();
                        for _ in 0..iters {
                            work();
                        }
                        if done_tx.send(start.elapsed()).is_err() {
                            return;
                        }
                    }
                })
                .expect("spawn bench worker");
            starts.push(start_tx);
            handles.push(handle);
        }
        Workers {
            starts,
            done,
            handles,
        }
    }

    /// Every worker runs `iters` calls from a common start; the slowest worker's time.
    pub fn run(&self, iters: u64) -> Duration {
        for start in &self.starts {
            start.send(iters).expect("bench worker alive");
        }
        (0..self.starts.len())
            .map(|_| self.done.recv().expect("bench worker result"))
            .max()
            .unwrap_or_default()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.starts.clear();
        for handle in self.handles.drain(..) {
            // A worker that panicked already reported through `run`'s `expect`.
            let _ = handle.join();
        }
    }
}
