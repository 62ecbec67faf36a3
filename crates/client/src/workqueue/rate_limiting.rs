//! The rate-limited queue, client-go's `RateLimitingInterface`: a
//! [`DelayingQueue`] whose retries wait for the delay a [`RateLimiter`] returns.

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use super::delaying::DelayingQueue;
use super::queue::QueueConfig;
use super::rate_limiter::RateLimiter;

/// A work queue with rate-limited adds. Cloning returns another handle to the same
/// queue and rate limiter.
pub struct RateLimitingQueue<T> {
    queue: DelayingQueue<T>,
    rate_limiter: Arc<dyn RateLimiter<T>>,
}

impl<T> Clone for RateLimitingQueue<T> {
    fn clone(&self) -> Self {
        RateLimitingQueue {
            queue: self.queue.clone(),
            rate_limiter: Arc::clone(&self.rate_limiter),
        }
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> RateLimitingQueue<T> {
    /// Creates an unnamed rate-limited queue, which records no metrics.
    pub fn new(rate_limiter: Arc<dyn RateLimiter<T>>) -> Self {
        Self::with_config(rate_limiter, QueueConfig::default())
    }

    /// Creates a rate-limited queue whose metrics carry `name`.
    pub fn new_named(rate_limiter: Arc<dyn RateLimiter<T>>, name: impl Into<String>) -> Self {
        Self::with_config(rate_limiter, QueueConfig::named(name))
    }

    /// Creates a rate-limited queue from `config`; see
    /// [`Queue::with_config`](super::Queue::with_config).
    pub fn with_config(rate_limiter: Arc<dyn RateLimiter<T>>, config: QueueConfig) -> Self {
        RateLimitingQueue {
            queue: DelayingQueue::with_config(config),
            rate_limiter,
        }
    }

    /// Adds `item` after the delay the rate limiter returns for it, which also counts
    /// this attempt in the rate limiter.
    pub fn add_rate_limited(&self, item: T) {
        let delay = self.rate_limiter.when(&item);
        self.queue.add_after(item, delay);
    }

    /// Makes the rate limiter forget `item`'s failures. Call it when the item was
    /// processed successfully; it does not remove the item from the queue.
    pub fn forget(&self, item: &T) {
        self.rate_limiter.forget(item);
    }

    /// Returns how many times `item` was rate limited since it was last forgotten.
    pub fn num_requeues(&self, item: &T) -> u32 {
        self.rate_limiter.num_requeues(item)
    }

    /// Adds `item` after `delay`; see [`DelayingQueue::add_after`].
    pub fn add_after(&self, item: T, delay: Duration) {
        self.queue.add_after(item, delay);
    }

    /// Returns the number of items that delayed adds still hold back.
    pub fn waiting_len(&self) -> usize {
        self.queue.waiting_len()
    }

    /// Adds `item` at once; see [`Queue::add`](super::Queue::add).
    pub fn add(&self, item: T) {
        self.queue.add(item);
    }

    /// Returns the number of queued items; see [`Queue::len`](super::Queue::len).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Returns true when no item is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Waits for the next item; see [`Queue::get`](super::Queue::get).
    pub async fn get(&self) -> Option<T> {
        self.queue.get().await
    }

    /// Marks `item` as finished; see [`Queue::done`](super::Queue::done).
    pub fn done(&self, item: &T) {
        self.queue.done(item);
    }

    /// Shuts the queue down; see [`DelayingQueue::shut_down`].
    pub fn shut_down(&self) {
        self.queue.shut_down();
    }

    /// Returns true once the queue is shutting down.
    pub fn shutting_down(&self) -> bool {
        self.queue.shutting_down()
    }
}

#[cfg(test)]
mod tests {
    use super::super::clock::FakeClock;
    use super::super::rate_limiter::ItemExponentialFailureRateLimiter;
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test]
    async fn add_rate_limited_backs_off_per_item() {
        let clock = FakeClock::shared();
        let limiter = Arc::new(ItemExponentialFailureRateLimiter::new(
            ms(5),
            Duration::from_secs(1),
        ));
        let queue = RateLimitingQueue::with_config(
            limiter,
            QueueConfig::default().with_clock(clock.clone()),
        );

        queue.add_rate_limited("a");
        assert_eq!(queue.num_requeues(&"a"), 1);
        assert_eq!(queue.waiting_len(), 1);
        clock.step(ms(4));
        assert_eq!(queue.len(), 0);
        clock.step(ms(1));
        assert_eq!(queue.len(), 1);

        let got = tokio::time::timeout(Duration::from_secs(5), queue.get()).await;
        assert_eq!(got, Ok(Some("a")));

        // The second failure waits 10 ms.
        queue.add_rate_limited("a");
        queue.done(&"a");
        assert_eq!(queue.num_requeues(&"a"), 2);
        clock.step(ms(9));
        assert_eq!(queue.len(), 0);
        clock.step(ms(1));
        assert_eq!(queue.len(), 1);

        queue.forget(&"a");
        assert_eq!(queue.num_requeues(&"a"), 0);
        assert_eq!(queue.len(), 1, "forget must not remove the item");
    }

    #[tokio::test]
    async fn rate_limited_adds_collapse_to_earliest() {
        let clock = FakeClock::shared();
        let limiter = Arc::new(ItemExponentialFailureRateLimiter::new(
            ms(5),
            Duration::from_secs(1),
        ));
        let queue = RateLimitingQueue::with_config(
            limiter,
            QueueConfig::default().with_clock(clock.clone()),
        );

        queue.add_rate_limited("a");
        queue.add_rate_limited("a");
        queue.add_rate_limited("a");
        assert_eq!(queue.num_requeues(&"a"), 3);
        assert_eq!(queue.waiting_len(), 1);

        clock.step(ms(5));
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.waiting_len(), 0);
    }
}
