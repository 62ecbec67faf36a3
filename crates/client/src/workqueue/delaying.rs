//! The delaying queue, client-go's `DelayingInterface`: a [`Queue`] whose items can
//! be added after a delay.
//!
//! Unlike client-go, no background loop moves ready items into the queue. Every
//! queue operation first moves the items whose ready instant has passed, and idle
//! workers in [`DelayingQueue::get`] sleep until the earliest ready instant, so an
//! item reaches the queue when it becomes ready as long as a worker waits. Metrics
//! count a moved item as added at its ready instant.
//!
//! NOTE: while every worker is busy and no caller touches the queue, ready items stay in
//! the waiting set, so the depth gauge and adds counter lag behind client-go's.

use std::hash::Hash;
use std::time::Duration;

use super::queue::{Queue, QueueConfig};

/// A work queue with delayed adds. Cloning returns another handle to the same queue.
pub struct DelayingQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for DelayingQueue<T> {
    fn clone(&self) -> Self {
        DelayingQueue {
            queue: self.queue.clone(),
        }
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> DelayingQueue<T> {
    /// Creates an unnamed delaying queue, which records no metrics.
    pub fn new() -> Self {
        Self::with_config(QueueConfig::default())
    }

    /// Creates a delaying queue whose metrics carry `name`.
    pub fn new_named(name: impl Into<String>) -> Self {
        Self::with_config(QueueConfig::named(name))
    }

    /// Creates a delaying queue from `config`; see [`Queue::with_config`].
    pub fn with_config(config: QueueConfig) -> Self {
        DelayingQueue {
            queue: Queue::build(config, true),
        }
    }

    /// Adds `item` once `delay` has passed on the queue's clock; a zero delay adds it
    /// at once. If the item already waits, it keeps the earlier ready instant. Does
    /// nothing when the queue is shutting down. Counts one retry in the metrics.
    /// Delays longer than [`MAX_DELAY`](super::MAX_DELAY) are shortened to it.
    pub fn add_after(&self, item: T, delay: Duration) {
        self.queue.add_after(item, delay);
    }

    /// Returns the number of items that delayed adds still hold back.
    pub fn waiting_len(&self) -> usize {
        self.queue.waiting_len()
    }

    /// Adds `item` at once; see [`Queue::add`].
    pub fn add(&self, item: T) {
        self.queue.add(item);
    }

    /// Returns the number of queued items; see [`Queue::len`].
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Returns true when no item is queued; see [`Queue::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Waits for the next item; see [`Queue::get`].
    pub async fn get(&self) -> Option<T> {
        self.queue.get().await
    }

    /// Marks `item` as finished; see [`Queue::done`].
    pub fn done(&self, item: &T) {
        self.queue.done(item);
    }

    /// Shuts the queue down and drops every waiting item; see [`Queue::shut_down`].
    pub fn shut_down(&self) {
        self.queue.shut_down();
    }

    /// Returns true once the queue is shutting down.
    pub fn shutting_down(&self) -> bool {
        self.queue.shutting_down()
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> Default for DelayingQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::clock::FakeClock;
    use super::*;
    use std::sync::Arc;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn fake_queue() -> (DelayingQueue<&'static str>, Arc<FakeClock>) {
        let clock = FakeClock::shared();
        let queue = DelayingQueue::with_config(QueueConfig::default().with_clock(clock.clone()));
        (queue, clock)
    }

    async fn get_soon(queue: &DelayingQueue<&'static str>) -> Option<&'static str> {
        tokio::time::timeout(Duration::from_secs(5), queue.get())
            .await
            .unwrap_or_else(|_| panic!("get did not return within 5 s"))
    }

    #[tokio::test]
    async fn add_after_waits_for_delay() {
        let (queue, clock) = fake_queue();
        queue.add_after("a", ms(50));
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.waiting_len(), 1);

        clock.step(ms(49));
        assert_eq!(queue.len(), 0);

        clock.step(ms(1));
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.waiting_len(), 0);
        assert_eq!(get_soon(&queue).await, Some("a"));
    }

    #[tokio::test]
    async fn zero_delay_adds_at_once() {
        let (queue, _clock) = fake_queue();
        queue.add_after("a", Duration::ZERO);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.waiting_len(), 0);
    }

    #[tokio::test]
    async fn ready_items_leave_in_ready_order() {
        let (queue, clock) = fake_queue();
        queue.add_after("c", ms(30));
        queue.add_after("a", ms(10));
        queue.add_after("b", ms(20));
        queue.add_after("late", ms(31));

        clock.step(ms(30));
        assert_eq!(queue.len(), 3);
        for expected in ["a", "b", "c"] {
            assert_eq!(get_soon(&queue).await, Some(expected));
        }
        assert_eq!(queue.waiting_len(), 1);
    }

    #[tokio::test]
    async fn duplicate_add_after_keeps_earliest() {
        let cases: [(&str, &[u64], u64); 3] = [
            ("later first", &[100, 50], 50),
            ("earlier first", &[50, 100], 50),
            ("three delays", &[80, 30, 60], 30),
        ];
        for (name, delays, ready_after) in cases {
            let (queue, clock) = fake_queue();
            for delay in delays {
                queue.add_after("a", ms(*delay));
            }
            assert_eq!(queue.waiting_len(), 1, "case {name}");

            clock.step(ms(ready_after - 1));
            assert_eq!(queue.len(), 0, "case {name}");
            clock.step(ms(1));
            assert_eq!(queue.len(), 1, "case {name}");

            clock.step(ms(1000));
            assert_eq!(queue.len(), 1, "case {name}: a second copy was added");
        }
    }

    #[tokio::test]
    async fn waiting_get_wakes_when_ready() {
        let (queue, clock) = fake_queue();
        let getter = tokio::spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        queue.add_after("slow", Duration::from_secs(10));
        tokio::task::yield_now().await;

        // An earlier item arriving later must wake the getter sleeping until 10 s.
        queue.add_after("fast", Duration::from_secs(1));
        tokio::task::yield_now().await;
        clock.step(Duration::from_secs(1));

        let got = tokio::time::timeout(Duration::from_secs(5), getter).await;
        assert!(matches!(got, Ok(Ok(Some("fast")))), "getter: {got:?}");
        assert_eq!(queue.waiting_len(), 1);
    }

    #[tokio::test]
    async fn shutdown_drops_waiting_items() {
        let (queue, clock) = fake_queue();
        queue.add("now");
        queue.add_after("later", ms(10));
        queue.shut_down();
        queue.add_after("after shutdown", Duration::ZERO);
        assert_eq!(queue.waiting_len(), 0);

        clock.step(ms(10));
        assert_eq!(get_soon(&queue).await, Some("now"));
        assert_eq!(get_soon(&queue).await, None);
    }

    #[tokio::test]
    async fn waiting_item_also_added_directly() {
        // As client-go, a waiting entry stays when the item is added directly, so
        // the item runs again once the delay passes.
        let (queue, clock) = fake_queue();
        queue.add_after("a", ms(10));
        queue.add("a");
        assert_eq!(get_soon(&queue).await, Some("a"));
        queue.done(&"a");
        assert_eq!(queue.len(), 0);

        clock.step(ms(10));
        assert_eq!(queue.len(), 1);
    }
}
