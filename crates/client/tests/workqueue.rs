//! Concurrency tests of the workqueue: many tokio workers on a multi-threaded
//! runtime, checking that no key is processed by two workers at once and that no
//! add is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use client::workqueue::{
    ItemExponentialFailureRateLimiter, Queue, RateLimitingQueue, default_controller_rate_limiter,
};

const WORKERS: usize = 8;
const KEYS: usize = 100;
const ADDS: usize = 10_000;

/// Per-key bookkeeping shared by the producer and the workers.
struct Tracker {
    /// True while the key is in processing, between get and done.
    in_flight: Vec<AtomicBool>,
    /// Set by the producer before each add, cleared by a worker right after get. A
    /// key still set at the end had an add that no processing followed.
    pending: Vec<AtomicBool>,
    overlaps: AtomicUsize,
    processed: AtomicUsize,
}

impl Tracker {
    fn new() -> Self {
        Tracker {
            in_flight: (0..KEYS).map(|_| AtomicBool::new(false)).collect(),
            pending: (0..KEYS).map(|_| AtomicBool::new(false)).collect(),
            overlaps: AtomicUsize::new(0),
            processed: AtomicUsize::new(0),
        }
    }
}

async fn run_worker(queue: Queue<usize>, tracker: Arc<Tracker>) {
    while let Some(key) = queue.get().await {
        tracker.pending[key].store(false, Ordering::SeqCst);
        if tracker.in_flight[key].swap(true, Ordering::SeqCst) {
            tracker.overlaps.fetch_add(1, Ordering::SeqCst);
        }

        // Hold the key long enough that the producer adds it again meanwhile: odd
        // keys across a few scheduling points, even keys for a timer tick.
        if key % 2 == 0 {
            tokio::time::sleep(Duration::from_micros(100)).await;
        } else {
            for _ in 0..(key % 8) {
                tokio::task::yield_now().await;
            }
        }

        tracker.in_flight[key].store(false, Ordering::SeqCst);
        tracker.processed.fetch_add(1, Ordering::SeqCst);
        queue.done(&key);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_exclusive_and_lossless() {
    let queue: Queue<usize> = Queue::new();
    let tracker = Arc::new(Tracker::new());

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| tokio::spawn(run_worker(queue.clone(), tracker.clone())))
        .collect();

    let mut adds_during_processing = 0;
    for add in 0..ADDS {
        let key = (add * 7919) % KEYS;
        tracker.pending[key].store(true, Ordering::SeqCst);
        if tracker.in_flight[key].load(Ordering::SeqCst) {
            adds_during_processing += 1;
        }
        queue.add(key);
        // Pause after each round of all keys, so the next round adds keys that are
        // in processing.
        if add % KEYS == KEYS - 1 {
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    }

    // Workers drain what is queued, and what `done` queues again, after shutdown.
    queue.shut_down();
    for worker in workers {
        let joined = tokio::time::timeout(Duration::from_secs(30), worker).await;
        assert!(
            matches!(joined, Ok(Ok(()))),
            "worker did not finish: {joined:?}"
        );
    }

    assert!(
        adds_during_processing > 0,
        "no add hit a key in processing, so re-adds went untested"
    );
    assert_eq!(
        tracker.overlaps.load(Ordering::SeqCst),
        0,
        "a key was processed by two workers at once"
    );
    let unprocessed: Vec<usize> = (0..KEYS)
        .filter(|key| tracker.pending[*key].load(Ordering::SeqCst))
        .collect();
    assert!(
        unprocessed.is_empty(),
        "keys added after their last processing: {unprocessed:?}"
    );

    let processed = tracker.processed.load(Ordering::SeqCst);
    assert!(
        processed >= KEYS,
        "only {processed} processings for {KEYS} keys"
    );
    assert!(processed <= ADDS, "{processed} processings for {ADDS} adds");
    assert_eq!(queue.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limited_retries_reach_every_key() {
    const FAILURES_PER_KEY: u32 = 3;
    const RETRY_KEYS: usize = 20;

    let limiter = Arc::new(ItemExponentialFailureRateLimiter::new(
        Duration::from_millis(1),
        Duration::from_millis(20),
    ));
    let queue: RateLimitingQueue<usize> = RateLimitingQueue::new(limiter);
    let attempts: Arc<Vec<AtomicU32>> =
        Arc::new((0..RETRY_KEYS).map(|_| AtomicU32::new(0)).collect());
    let succeeded = Arc::new(AtomicUsize::new(0));

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let queue = queue.clone();
            let attempts = attempts.clone();
            let succeeded = succeeded.clone();
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    let attempt = attempts[key].fetch_add(1, Ordering::SeqCst) + 1;
                    if attempt <= FAILURES_PER_KEY {
                        assert_eq!(queue.num_requeues(&key), attempt - 1);
                        queue.add_rate_limited(key);
                    } else {
                        queue.forget(&key);
                        if succeeded.fetch_add(1, Ordering::SeqCst) + 1 == RETRY_KEYS {
                            queue.shut_down();
                        }
                    }
                    queue.done(&key);
                }
            })
        })
        .collect();

    for key in 0..RETRY_KEYS {
        queue.add(key);
    }

    for worker in workers {
        let joined = tokio::time::timeout(Duration::from_secs(30), worker).await;
        assert!(
            matches!(joined, Ok(Ok(()))),
            "worker did not finish: {joined:?}"
        );
    }
    for (key, count) in attempts.iter().enumerate() {
        assert_eq!(
            count.load(Ordering::SeqCst),
            FAILURES_PER_KEY + 1,
            "attempts of key {key}"
        );
        assert_eq!(
            queue.num_requeues(&key),
            0,
            "requeues of key {key} after forget"
        );
    }
}

#[tokio::test]
async fn default_controller_limiter_queue_delays_retries() {
    let queue: RateLimitingQueue<&str> =
        RateLimitingQueue::new_named(Arc::new(default_controller_rate_limiter()), "test");
    queue.add_rate_limited("a");
    assert_eq!(queue.num_requeues(&"a"), 1);
    assert_eq!(queue.len(), 0, "the first retry waits 5 ms");

    let got = tokio::time::timeout(Duration::from_secs(5), queue.get()).await;
    assert_eq!(got, Ok(Some("a")));
    queue.shut_down();
}
