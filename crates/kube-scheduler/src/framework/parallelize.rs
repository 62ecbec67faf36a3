//! Runs a function over `0..n` on scoped worker threads, the role of upstream's
//! `workqueue.ParallelizeUntil`.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The minimum number of items per worker thread. Below twice this many items the work runs on
/// the calling thread, because starting a thread costs more than checking a few nodes.
const MIN_ITEMS_PER_WORKER: usize = 32;

/// Calls `f(i)` for every `i` in `0..n` on up to `parallelism` threads and returns the
/// `Some` results with their indices, in index order. A worker stops early when
/// `stop()` returns true, so the result may then miss some indices.
///
/// The calling thread works too, and no more threads run than the machine has CPUs:
/// every scheduling cycle pays for the threads it starts, and threads beyond the CPUs
/// only add that cost.
pub fn parallelize<T, F, S>(parallelism: usize, n: usize, f: F, stop: S) -> Vec<(usize, T)>
where
    T: Send,
    F: Fn(usize) -> Option<T> + Sync,
    S: Fn() -> bool + Sync,
{
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = parallelism.max(1).min(cpus).min(n / MIN_ITEMS_PER_WORKER);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut local = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n || stop() {
                break;
            }
            if let Some(value) = f(i) {
                local.push((i, value));
            }
        }
        local
    };
    if workers <= 1 {
        return work();
    }

    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut results = work();
        for handle in handles {
            results.extend(handle.join().unwrap_or_default());
        }
        results
    });
    results.sort_by_key(|(i, _)| *i);
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallelize_visits_every_index_once() {
        let results = parallelize(4, 1000, |i| Some(i * 2), || false);
        assert_eq!(results.len(), 1000);
        assert!(results.iter().all(|(i, value)| *value == i * 2));
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
}
