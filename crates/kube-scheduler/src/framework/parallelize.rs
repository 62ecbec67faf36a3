//! Runs a function over `0..n` on the calling thread and a few long-lived helper
//! threads, the role of upstream's `workqueue.ParallelizeUntil`.
//!
//! The calling thread takes items too. Once it has taken the last one, it waits only
//! for the helpers that already started on the job, and a helper that starts later
//! skips it. Threads started per call made the scheduling loop wait twice per cycle
//! for a new thread to get a CPU. On two busy cores that wait cost more than the
//! extra thread saved (docs/benchmarks.md has the figures).

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, TryLockError};

/// The minimum number of items per thread. Below twice this many items the work runs on
/// the calling thread alone, because waking a helper costs more than checking a few
/// nodes.
const MIN_ITEMS_PER_WORKER: usize = 32;

/// About how many chunks each thread's share of the items is cut into, so that a
/// thread that starts late or runs slowly leaves its share to the others.
const CHUNKS_PER_THREAD: usize = 8;

/// The largest chunk: an early stop wastes at most this many items per thread.
const MAX_CHUNK: usize = 16;

/// Calls `f(i)` for every `i` in `0..n` on up to `parallelism` threads (the calling
/// thread included) and returns the `Some` results with their indices, in index
/// order. A thread stops early when `stop()` returns true, so the result may then
/// miss some indices.
///
/// No more threads work than the machine has CPUs. While another call uses the
/// helpers, this one runs on the calling thread alone instead of waiting.
pub fn parallelize<T, F, S>(parallelism: usize, n: usize, f: F, stop: S) -> Vec<(usize, T)>
where
    T: Send,
    F: Fn(usize) -> Option<T> + Sync,
    S: Fn() -> bool + Sync,
{
    let helpers = parallelism
        .max(1)
        .min(n / MIN_ITEMS_PER_WORKER)
        .saturating_sub(1);
    // Threads take items in chunks, so that they do not pass the counter's cache
    // line back and forth for every item.
    let chunk = (n / ((helpers + 1) * CHUNKS_PER_THREAD)).clamp(1, MAX_CHUNK);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut local = Vec::new();
        'claim: loop {
            let first = next.fetch_add(chunk, Ordering::Relaxed);
            if first >= n {
                break;
            }
            for i in first..(first + chunk).min(n) {
                if stop() {
                    break 'claim;
                }
                if let Some(value) = f(i) {
                    local.push((i, value));
                }
            }
        }
        local
    };
    if helpers == 0 {
        return work();
    }

    let gathered = Mutex::new(Vec::new());
    let job = || {
        let local = work();
        if !local.is_empty() {
            lock(&gathered).extend(local);
        }
    };
    pool().run(helpers, &job);
    let mut results = gathered.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process's helper threads: one fewer than the CPUs, started on first use.
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Pool::start(cpus.saturating_sub(1))
    })
}

/// A job as the helpers see it: the caller's closure with its lifetime erased.
#[derive(Clone, Copy)]
struct JobRef(*const (dyn Fn() + Sync + 'static));

// SAFETY: the closure behind the pointer is `Sync`, so calling it from another thread
// is sound, and `Pool::run` keeps it alive until every helper that took it returned.
unsafe impl Send for JobRef {}

struct PoolState {
    /// The job helpers may still join; `None` once its caller retracted it.
    job: Option<JobRef>,
    /// Counts published jobs, so that a helper joins each one at most once.
    generation: u64,
    /// How many more helpers may join the current job.
    openings: usize,
    /// Helpers running the current job.
    active: usize,
    /// Whether a helper's run of the current job panicked.
    panicked: bool,
}

struct Shared {
    state: Mutex<PoolState>,
    /// Wakes the helpers for a new job.
    published: Condvar,
    /// Wakes the caller when the last active helper finished.
    finished: Condvar,
}

struct Pool {
    helpers: usize,
    /// Held by the one caller that has the helpers at a time.
    caller: Mutex<()>,
    shared: Arc<Shared>,
}

impl Pool {
    fn start(count: usize) -> Pool {
        let shared = Arc::new(Shared {
            state: Mutex::new(PoolState {
                job: None,
                generation: 0,
                openings: 0,
                active: 0,
                panicked: false,
            }),
            published: Condvar::new(),
            finished: Condvar::new(),
        });
        let mut helpers = 0;
        for index in 0..count {
            let shared = shared.clone();
            let started = std::thread::Builder::new()
                .name(format!("scheduler-helper-{index}"))
                .spawn(move || help(&shared));
            // Without a helper the work runs on fewer threads, not at all differently.
            if started.is_ok() {
                helpers += 1;
            }
        }
        Pool {
            helpers,
            caller: Mutex::new(()),
            shared,
        }
    }

    /// Calls `job` on the calling thread and on up to `helpers` helpers that start
    /// before the calling thread's call returns. Every thread calls `job` once, so
    /// `job` splits the work itself. Returns when no helper runs it any more, and
    /// raises a panic of any of the calls.
    fn run(&self, helpers: usize, job: &(dyn Fn() + Sync)) {
        let _caller = match self.caller.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            // Another call has the helpers: this one does its work alone.
            Err(TryLockError::WouldBlock) => return job(),
        };
        let helpers = helpers.min(self.helpers);
        if helpers == 0 {
            return job();
        }

        // SAFETY: only the lifetime is erased. The job is retracted below before this
        // function returns or unwinds, and the wait after it outlasts every helper
        // that took the job, so no helper calls it after `job`'s borrow ends.
        let erased = unsafe {
            std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(
                job,
            )
        };
        {
            let mut state = lock(&self.shared.state);
            state.job = Some(JobRef(erased));
            state.generation += 1;
            state.openings = helpers;
            state.panicked = false;
        }
        for _ in 0..helpers {
            self.shared.published.notify_one();
        }

        let own = catch_unwind(AssertUnwindSafe(job));
        let helper_panicked = {
            let mut state = lock(&self.shared.state);
            state.job = None;
            while state.active > 0 {
                state = self
                    .shared
                    .finished
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            state.panicked
        };

        if let Err(payload) = own {
            resume_unwind(payload);
        }
        assert!(
            !helper_panicked,
            "a parallelized function panicked on a helper thread"
        );
    }
}

/// Runs a helper: joins each published job that still has an opening, once.
fn help(shared: &Shared) {
    let mut seen = 0;
    loop {
        let job = {
            let mut state = lock(&shared.state);
            loop {
                if state.generation != seen
                    && let Some(job) = state.job
                    && state.openings > 0
                {
                    seen = state.generation;
                    state.openings -= 1;
                    state.active += 1;
                    break job;
                }
                state = shared
                    .published
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
        };
        // SAFETY: the job was taken while published, and its caller waits for
        // `active` to drop to zero before the closure goes away.
        let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)() }));
        let mut state = lock(&shared.state);
        state.panicked |= outcome.is_err();
        state.active -= 1;
        if state.active == 0 {
            shared.finished.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallelize_visits_every_index_once() {
        let results = parallelize(4, 1000, |i| Some(i * 2), || false);
        assert_eq!(results.len(), 1000);
        assert!(
            results
                .iter()
                .enumerate()
                .all(|(position, (i, value))| *i == position && *value == i * 2)
        );
    }

    #[test]
    fn parallelize_stops_early() {
        let count = AtomicUsize::new(0);
        let results = parallelize(
            4,
            10_000,
            |i| {
                count.fetch_add(1, Ordering::Relaxed);
                Some(i)
            },
            || count.load(Ordering::Relaxed) >= 100,
        );
        assert!(results.len() < 10_000);
    }

    #[test]
    fn parallelize_serves_concurrent_callers() {
        let callers: Vec<_> = (0..4)
            .map(|caller| {
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| parallelize(4, 500, |i| Some(i + caller), || false))
                        .all(|results| {
                            results.len() == 500
                                && results.iter().all(|(i, value)| *value == i + caller)
                        })
                })
            })
            .collect();
        for caller in callers {
            assert!(caller.join().expect("caller thread"));
        }
    }

    #[test]
    fn parallelize_raises_a_panic_and_recovers() {
        let outcome = std::panic::catch_unwind(|| {
            parallelize(
                4,
                1000,
                |i| {
                    assert!(i != 700, "item 700");
                    Some(i)
                },
                || false,
            )
        });
        assert!(outcome.is_err());
        let results = parallelize(4, 1000, Some, || false);
        assert_eq!(results.len(), 1000);
    }
}
