//! The clock seam of the workqueue: the delaying queue, the bucket rate limiter and
//! the queue metrics read time only through [`Clock`], so tests can drive time with
//! [`FakeClock`] instead of sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// A future that completes when a [`Clock`] reaches a deadline.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time and of timers that follow it.
pub trait Clock: Send + Sync {
    /// Returns the current instant.
    fn now(&self) -> Instant;

    /// Returns a future that completes once [`Clock::now`] is at or after `deadline`.
    /// A deadline in the past completes at once. The future must not borrow the clock.
    fn sleep_until(&self, deadline: Instant) -> Sleep;
}

/// The clock of the tokio runtime: wall time, or tokio's paused test time when a
/// test pauses it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    /// Completes at `deadline`. The returned future needs a tokio runtime with the
    /// time driver enabled when it is polled.
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
            deadline,
        )))
    }
}

/// A manual clock for tests: time moves only through [`FakeClock::step`] and
/// [`FakeClock::set`], and every pending [`Clock::sleep_until`] future whose deadline
/// has passed then completes.
#[derive(Debug)]
pub struct FakeClock {
    now: watch::Sender<Instant>,
}

impl FakeClock {
    /// Creates a fake clock that starts at `start`.
    pub fn new(start: Instant) -> Self {
        let (now, _) = watch::channel(start);
        FakeClock { now }
    }

    /// Creates a fake clock that starts at the real current instant, wrapped in an
    /// `Arc` so it can be shared with queues and rate limiters.
    pub fn shared() -> Arc<Self> {
        Arc::new(FakeClock::new(Instant::now()))
    }

    /// Moves the clock forward by `duration`.
    pub fn step(&self, duration: Duration) {
        self.now.send_modify(|now| *now += duration);
    }

    /// Sets the clock to `instant`, which may also move it backwards.
    pub fn set(&self, instant: Instant) {
        self.now.send_replace(instant);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: Instant) -> Sleep {
        let mut now = self.now.subscribe();
        Box::pin(async move {
            if now.wait_for(|now| *now >= deadline).await.is_err() {
                // The clock is gone, so time never reaches the deadline.
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_clock_sleep_completes_on_step() {
        let clock = FakeClock::shared();
        let start = clock.now();
        let mut sleep = clock.sleep_until(start + Duration::from_secs(2));

        let poll_now = |sleep: &mut Sleep| {
            let waker = std::task::Waker::noop();
            let mut context = std::task::Context::from_waker(waker);
            sleep.as_mut().poll(&mut context).is_ready()
        };
        assert!(!poll_now(&mut sleep));

        clock.step(Duration::from_secs(1));
        assert!(!poll_now(&mut sleep));

        clock.step(Duration::from_secs(1));
        assert!(poll_now(&mut sleep));
        assert_eq!(clock.now(), start + Duration::from_secs(2));
    }

    #[tokio::test]
    async fn fake_clock_past_deadline_completes_at_once() {
        let clock = FakeClock::shared();
        let deadline = clock.now();
        clock.step(Duration::from_millis(5));
        clock.sleep_until(deadline).await;
    }
}
