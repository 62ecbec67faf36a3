//! Client-side rate limiting: the token bucket that client-go's
//! `flowcontrol.NewTokenBucketRateLimiter` provides, shared by every request of one
//! [`super::RestClient`].
//!
//! [`TokenBucket::acquire`] waits until the bucket grants one token. Tokens refill at
//! `qps` per second up to `burst`. A waiter reserves its token before it sleeps, so
//! concurrent callers are spaced `1 / qps` apart instead of all waking at once.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// client-go's `DefaultQPS`, used when the config's qps is 0.
pub const DEFAULT_QPS: f32 = 5.0;
/// client-go's `DefaultBurst`, used when the config's burst is 0.
pub const DEFAULT_BURST: u32 = 10;

/// A token bucket rate limiter.
#[derive(Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    /// Available tokens; negative while callers wait on reserved tokens.
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// Builds a full bucket that refills `qps` tokens per second and keeps at most
    /// `burst` (at least 1).
    pub fn new(qps: f32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            qps: f64::from(qps),
            burst,
            state: Mutex::new(BucketState {
                tokens: burst,
                refilled_at: Instant::now(),
            }),
        }
    }

    /// Builds the limiter a config requests: qps 0 and burst 0 take client-go's
    /// defaults (5 and 10), and a negative qps disables limiting (`None`).
    pub fn from_config(qps: f32, burst: u32) -> Option<Self> {
        let qps = if qps == 0.0 { DEFAULT_QPS } else { qps };
        let burst = if burst == 0 { DEFAULT_BURST } else { burst };
        if qps.is_sign_negative() || !qps.is_finite() {
            return None;
        }
        Some(Self::new(qps, burst))
    }

    /// Waits until a token is available and takes it.
    pub async fn acquire(&self) {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes one token at `now` and returns how long the caller must wait before
    /// using it.
    fn reserve(&self, now: Instant) -> Duration {
        // A poisoned lock only means another caller panicked between two float
        // updates; the state is still usable.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());

        let elapsed = now
            .saturating_duration_since(state.refilled_at)
            .as_secs_f64();
        state.tokens = (state.tokens + elapsed * self.qps).min(self.burst);
        state.refilled_at = now.max(state.refilled_at);
        state.tokens -= 1.0;

        if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / self.qps)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_spaces_tokens_after_burst() {
        let bucket = TokenBucket::new(10.0, 3);
        let now = Instant::now();

        let waits: Vec<Duration> = (0..6).map(|_| bucket.reserve(now)).collect();

        let expected_millis = [0, 0, 0, 100, 200, 300];
        for (wait, expected) in waits.iter().zip(expected_millis) {
            let millis = wait.as_millis() as i64;
            assert!(
                (millis - expected).abs() <= 1,
                "wait {millis} ms, expected {expected} ms"
            );
        }
    }

    #[test]
    fn reserve_refills_up_to_burst() {
        let bucket = TokenBucket::new(10.0, 2);
        let start = Instant::now();
        bucket.reserve(start);
        bucket.reserve(start);

        // Ten seconds refill far more than the burst; only two tokens are kept.
        let later = start + Duration::from_secs(10);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert!(bucket.reserve(later) > Duration::ZERO);
    }

    #[test]
    fn from_config_defaults() {
        let cases = [
            // (qps, burst, expected qps, expected burst)
            (0.0, 0, Some((5.0, 10.0))),
            (20.0, 1, Some((20.0, 1.0))),
            (50.0, 0, Some((50.0, 10.0))),
            (-1.0, 5, None),
        ];
        for (qps, burst, expected) in cases {
            let bucket = TokenBucket::from_config(qps, burst);
            let actual = bucket.map(|b| (b.qps, b.burst));
            assert_eq!(actual, expected, "qps {qps} burst {burst}");
        }
    }
}
