//! Runs a function over `0..n` on scoped worker threads, the role of upstream's
//! `workqueue.ParallelizeUntil`.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many items the work runs on the calling thread, because thread start-up
/// costs more than the work.
const INLINE_LIMIT: usize = 16;

/// Calls `f(i)` for every `i` in `0..n` on up to `parallelism` threads and returns the
/// `Some` results with their indices, in index order. A worker stops early when
/// `stop()` returns true, so the result may then miss some indices.
pub fn parallelize<T, F, S>(parallelism: usize, n: usize, f: F, stop: S) -> Vec<(usize, T)>
where
    T: Send,
    F: Fn(usize) -> Option<T> + Sync,
    S: Fn() -> bool + Sync,
{
    let workers = parallelism.max(1).min(n.div_ceil(INLINE_LIMIT));
    if workers <= 1 {
        let mut results = Vec::new();
        for i in 0..n {
            if stop() {
                break;
            }
            if let Some(value) = f(i) {
                results.push((i, value));
            }
        }
        return results;
    }

    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
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
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap_or_default())
            .collect()
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
