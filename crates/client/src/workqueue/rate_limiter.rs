//! Rate limiters of the rate-limited queue, as in client-go's
//! `default_rate_limiters.go`: per-item exponential backoff, per-item fast-then-slow
//! delays, an overall token bucket, and the maximum of several limiters.
//! [`default_controller_rate_limiter`] is what controllers use unless they choose.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::clock::{Clock, RealClock};

/// Decides how long an item waits before it is retried.
pub trait RateLimiter<T>: Send + Sync {
    /// Records one more attempt for `item` and returns how long it must wait.
    fn when(&self, item: &T) -> Duration;

    /// Drops what the limiter tracks for `item`, as after a success. Limiters
    /// without per-item state ignore it.
    fn forget(&self, item: &T);

    /// Returns how many attempts were recorded for `item` since it was last
    /// forgotten. Limiters without per-item state return 0.
    fn num_requeues(&self, item: &T) -> u32;
}

/// The base delay of the default exponential limiter of controllers.
pub const DEFAULT_CONTROLLER_BASE_DELAY: Duration = Duration::from_millis(5);
/// The maximum delay of the default exponential limiters.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(1000);
/// The events per second of the default controller token bucket.
pub const DEFAULT_CONTROLLER_QPS: f64 = 10.0;
/// The burst of the default controller token bucket.
pub const DEFAULT_CONTROLLER_BURST: u32 = 100;

/// Returns client-go's `DefaultControllerRateLimiter`: the maximum of per-item
/// exponential backoff from 5 ms up to 1000 s and an overall token bucket of
/// 10 events per second with a burst of 100.
pub fn default_controller_rate_limiter<T>() -> MaxOfRateLimiter<T>
where
    T: Clone + Eq + Hash + Send + 'static,
{
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialFailureRateLimiter::new(
            DEFAULT_CONTROLLER_BASE_DELAY,
            DEFAULT_MAX_DELAY,
        )),
        Box::new(BucketRateLimiter::new(
            DEFAULT_CONTROLLER_QPS,
            DEFAULT_CONTROLLER_BURST,
        )),
    ])
}

/// Returns client-go's `DefaultItemBasedRateLimiter`: per-item exponential backoff
/// from 1 ms up to 1000 s.
pub fn default_item_based_rate_limiter<T>() -> ItemExponentialFailureRateLimiter<T>
where
    T: Clone + Eq + Hash + Send,
{
    ItemExponentialFailureRateLimiter::new(Duration::from_millis(1), DEFAULT_MAX_DELAY)
}

fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Per-item exponential backoff: the n-th attempt of an item since it was last
/// forgotten waits `base_delay * 2^(n-1)`, at most `max_delay`.
pub struct ItemExponentialFailureRateLimiter<T> {
    failures: Mutex<HashMap<T, u32>>,
    base_delay: Duration,
    max_delay: Duration,
}

impl<T: Clone + Eq + Hash + Send> ItemExponentialFailureRateLimiter<T> {
    /// Creates a limiter whose delays start at `base_delay` and stop growing at
    /// `max_delay`.
    pub fn new(base_delay: Duration, max_delay: Duration) -> Self {
        ItemExponentialFailureRateLimiter {
            failures: Mutex::new(HashMap::new()),
            base_delay,
            max_delay,
        }
    }
}

impl<T: Clone + Eq + Hash + Send> RateLimiter<T> for ItemExponentialFailureRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let exponent = {
            let mut failures = lock(&self.failures);
            let count = failures.entry(item.clone()).or_insert(0);
            let exponent = *count;
            *count = count.saturating_add(1);
            exponent
        };

        // As client-go, compute in floating point nanoseconds so a large exponent
        // saturates at the maximum instead of overflowing.
        let backoff = self.base_delay.as_nanos() as f64 * 2f64.powf(f64::from(exponent));
        if !backoff.is_finite() || backoff > i64::MAX as f64 {
            return self.max_delay;
        }
        Duration::from_nanos(backoff as u64).min(self.max_delay)
    }

    fn forget(&self, item: &T) {
        lock(&self.failures).remove(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        lock(&self.failures).get(item).copied().unwrap_or(0)
    }
}

/// Per-item two-speed delays: the first `max_fast_attempts` attempts of an item wait
/// `fast_delay`, later ones `slow_delay`.
pub struct ItemFastSlowRateLimiter<T> {
    failures: Mutex<HashMap<T, u32>>,
    fast_delay: Duration,
    slow_delay: Duration,
    max_fast_attempts: u32,
}

impl<T: Clone + Eq + Hash + Send> ItemFastSlowRateLimiter<T> {
    /// Creates a limiter that waits `fast_delay` for the first `max_fast_attempts`
    /// attempts of an item and `slow_delay` after that.
    pub fn new(fast_delay: Duration, slow_delay: Duration, max_fast_attempts: u32) -> Self {
        ItemFastSlowRateLimiter {
            failures: Mutex::new(HashMap::new()),
            fast_delay,
            slow_delay,
            max_fast_attempts,
        }
    }
}

impl<T: Clone + Eq + Hash + Send> RateLimiter<T> for ItemFastSlowRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        let mut failures = lock(&self.failures);
        let count = failures.entry(item.clone()).or_insert(0);
        *count = count.saturating_add(1);
        if *count <= self.max_fast_attempts {
            self.fast_delay
        } else {
            self.slow_delay
        }
    }

    fn forget(&self, item: &T) {
        lock(&self.failures).remove(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        lock(&self.failures).get(item).copied().unwrap_or(0)
    }
}

/// An overall token bucket shared by all items, with the semantics of
/// `golang.org/x/time/rate`'s `Reserve`. The bucket starts full with `burst` tokens
/// and refills at `qps` tokens per second. Each [`RateLimiter::when`] takes one
/// token, borrowing against the future when the bucket is empty, and returns how
/// long until that token exists.
///
/// An infinite `qps` never delays. A `burst` of 0, or a `qps` of 0 or below (or NaN)
/// once the burst is spent, returns [`Duration::MAX`], which the delaying queue
/// shortens to [`MAX_DELAY`](super::MAX_DELAY).
pub struct BucketRateLimiter {
    bucket: Mutex<TokenBucket>,
    clock: Arc<dyn Clock>,
}

struct TokenBucket {
    qps: f64,
    burst: u32,
    tokens: f64,
    /// When the tokens were last counted; `None` before the first reservation.
    last: Option<Instant>,
}

impl BucketRateLimiter {
    /// Creates a bucket of `burst` tokens refilled at `qps` tokens per second.
    pub fn new(qps: f64, burst: u32) -> Self {
        Self::with_clock(qps, burst, Arc::new(RealClock))
    }

    /// Creates a bucket that reads time from `clock`.
    pub fn with_clock(qps: f64, burst: u32, clock: Arc<dyn Clock>) -> Self {
        BucketRateLimiter {
            bucket: Mutex::new(TokenBucket {
                qps,
                burst,
                tokens: 0.0,
                last: None,
            }),
            clock,
        }
    }
}

impl TokenBucket {
    fn reserve(&mut self, now: Instant) -> Duration {
        if self.qps == f64::INFINITY {
            return Duration::ZERO;
        }
        if self.burst == 0 {
            // x/time/rate rejects a reservation larger than the burst.
            return Duration::MAX;
        }

        let burst = f64::from(self.burst);
        let tokens = match self.last {
            None => burst,
            Some(last) => {
                let elapsed = now.saturating_duration_since(last).as_secs_f64();
                let refill = if self.qps > 0.0 {
                    elapsed * self.qps
                } else {
                    0.0
                };
                (self.tokens + refill).min(burst)
            }
        };

        let tokens = tokens - 1.0;
        self.tokens = tokens;
        // A clock that went backwards keeps the later instant, as x/time/rate does.
        self.last = Some(self.last.map_or(now, |last| last.max(now)));

        if tokens >= 0.0 {
            return Duration::ZERO;
        }
        if self.qps.is_nan() || self.qps <= 0.0 {
            return Duration::MAX;
        }
        let nanos = 1e9 * (-tokens / self.qps);
        if nanos >= u64::MAX as f64 {
            return Duration::MAX;
        }
        Duration::from_nanos(nanos as u64)
    }
}

impl<T> RateLimiter<T> for BucketRateLimiter {
    fn when(&self, _item: &T) -> Duration {
        let now = self.clock.now();
        lock(&self.bucket).reserve(now)
    }

    fn forget(&self, _item: &T) {}

    fn num_requeues(&self, _item: &T) -> u32 {
        0
    }
}

/// The maximum of several limiters: every limiter records each attempt, and the
/// longest delay wins.
pub struct MaxOfRateLimiter<T> {
    limiters: Vec<Box<dyn RateLimiter<T>>>,
}

impl<T> MaxOfRateLimiter<T> {
    /// Creates a limiter over `limiters`. With none, it never delays.
    pub fn new(limiters: Vec<Box<dyn RateLimiter<T>>>) -> Self {
        MaxOfRateLimiter { limiters }
    }
}

impl<T> RateLimiter<T> for MaxOfRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        // Every limiter must see the attempt, so no short-circuit here.
        self.limiters
            .iter()
            .map(|limiter| limiter.when(item))
            .fold(Duration::ZERO, Duration::max)
    }

    fn forget(&self, item: &T) {
        for limiter in &self.limiters {
            limiter.forget(item);
        }
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.limiters
            .iter()
            .map(|limiter| limiter.num_requeues(item))
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::clock::FakeClock;
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn exponential_delays_double_until_capped() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(5), ms(100));
        let expected = [5, 10, 20, 40, 80, 100, 100];
        for (attempt, expected) in expected.iter().enumerate() {
            assert_eq!(limiter.when(&"one"), ms(*expected), "attempt {attempt}");
        }
        assert_eq!(limiter.num_requeues(&"one"), 7);

        // Items back off independently.
        assert_eq!(limiter.when(&"two"), ms(5));
        assert_eq!(limiter.num_requeues(&"two"), 1);

        limiter.forget(&"one");
        assert_eq!(limiter.num_requeues(&"one"), 0);
        assert_eq!(limiter.when(&"one"), ms(5));
        assert_eq!(limiter.num_requeues(&"two"), 1);
    }

    #[test]
    fn exponential_large_exponent_saturates() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(1), DEFAULT_MAX_DELAY);
        for _ in 0..2000 {
            limiter.when(&0);
        }
        assert_eq!(limiter.when(&0), DEFAULT_MAX_DELAY);

        // A maximum beyond what int64 nanoseconds hold is reached through the
        // overflow guard.
        let limiter = ItemExponentialFailureRateLimiter::new(Duration::from_secs(1), Duration::MAX);
        for _ in 0..64 {
            limiter.when(&0);
        }
        assert_eq!(limiter.when(&0), Duration::MAX);
    }

    #[test]
    fn fast_slow_switches_after_fast_attempts() {
        let limiter = ItemFastSlowRateLimiter::new(ms(5), Duration::from_secs(10), 3);
        let cases = [
            (1, ms(5)),
            (2, ms(5)),
            (3, ms(5)),
            (4, Duration::from_secs(10)),
            (5, Duration::from_secs(10)),
        ];
        for (attempt, expected) in cases {
            assert_eq!(limiter.when(&"one"), expected, "attempt {attempt}");
            assert_eq!(limiter.num_requeues(&"one"), attempt);
        }
        assert_eq!(limiter.when(&"two"), ms(5));

        limiter.forget(&"one");
        assert_eq!(limiter.num_requeues(&"one"), 0);
        assert_eq!(limiter.when(&"one"), ms(5));
    }

    #[test]
    fn bucket_burst_then_qps_spacing() {
        let clock = FakeClock::shared();
        let limiter = BucketRateLimiter::with_clock(10.0, 100, clock.clone());

        for attempt in 0..100 {
            assert_eq!(
                RateLimiter::<u32>::when(&limiter, &attempt),
                Duration::ZERO,
                "attempt {attempt}"
            );
        }
        for (reserved, expected) in [100, 200, 300, 400].into_iter().enumerate() {
            assert_eq!(
                RateLimiter::<u32>::when(&limiter, &0),
                ms(expected),
                "reservation {reserved}"
            );
        }

        // 0.5 s refills five tokens; four were borrowed, so the next is 100 ms away
        // after one free token is spent.
        clock.step(ms(500));
        assert_eq!(RateLimiter::<u32>::when(&limiter, &0), Duration::ZERO);
        assert_eq!(RateLimiter::<u32>::when(&limiter, &0), ms(100));

        // A long pause refills no more than the burst.
        clock.step(Duration::from_secs(3600));
        for _ in 0..100 {
            assert_eq!(RateLimiter::<u32>::when(&limiter, &0), Duration::ZERO);
        }
        assert_eq!(RateLimiter::<u32>::when(&limiter, &0), ms(100));

        assert_eq!(RateLimiter::<u32>::num_requeues(&limiter, &0), 0);
    }

    #[test]
    fn bucket_edge_limits() {
        let clock = FakeClock::shared();
        let cases = [
            (
                "infinite qps",
                f64::INFINITY,
                0,
                [Duration::ZERO, Duration::ZERO],
            ),
            ("zero burst", 10.0, 0, [Duration::MAX, Duration::MAX]),
            ("zero qps", 0.0, 1, [Duration::ZERO, Duration::MAX]),
            ("nan qps", f64::NAN, 1, [Duration::ZERO, Duration::MAX]),
            ("negative qps", -1.0, 1, [Duration::ZERO, Duration::MAX]),
        ];
        for (name, qps, burst, expected) in cases {
            let limiter = BucketRateLimiter::with_clock(qps, burst, clock.clone());
            for (attempt, expected) in expected.into_iter().enumerate() {
                assert_eq!(
                    RateLimiter::<u32>::when(&limiter, &0),
                    expected,
                    "case {name}, attempt {attempt}"
                );
            }
        }
    }

    #[test]
    fn max_of_takes_longest_and_forgets_all() {
        let limiter = MaxOfRateLimiter::new(vec![
            Box::new(ItemFastSlowRateLimiter::new(
                ms(5),
                Duration::from_secs(3),
                3,
            )),
            Box::new(ItemExponentialFailureRateLimiter::new(
                ms(1),
                Duration::from_secs(1),
            )),
        ]);
        let expected = [5, 5, 5, 3000, 3000];
        for (attempt, expected) in expected.iter().enumerate() {
            assert_eq!(limiter.when(&"one"), ms(*expected), "attempt {attempt}");
        }
        assert_eq!(limiter.num_requeues(&"one"), 5);

        limiter.forget(&"one");
        assert_eq!(limiter.num_requeues(&"one"), 0);
        assert_eq!(limiter.when(&"one"), ms(5));

        let empty: MaxOfRateLimiter<&str> = MaxOfRateLimiter::new(Vec::new());
        assert_eq!(empty.when(&"one"), Duration::ZERO);
        assert_eq!(empty.num_requeues(&"one"), 0);
    }

    #[test]
    fn default_controller_limiter_combines_both() {
        let limiter = default_controller_rate_limiter::<u32>();
        let expected = [5, 10, 20, 40];
        for (attempt, expected) in expected.iter().enumerate() {
            assert_eq!(limiter.when(&7), ms(*expected), "attempt {attempt}");
        }
        assert_eq!(limiter.num_requeues(&7), 4);

        // The exponential limiter saturates at 1000 s.
        for _ in 0..40 {
            limiter.when(&7);
        }
        assert_eq!(limiter.when(&7), DEFAULT_MAX_DELAY);

        let item_based = default_item_based_rate_limiter::<u32>();
        assert_eq!(item_based.when(&1), ms(1));
        assert_eq!(item_based.when(&1), ms(2));
    }
}
