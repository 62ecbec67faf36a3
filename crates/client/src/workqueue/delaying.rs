//! The delaying queue, client-go's `DelayingInterface`: a [`Queue`] whose items can
//! be added after a delay.
//!
//! Unlike client-go, no background loop moves ready items into the queue. Every
//! queue operation first moves the items whose ready instant has passed, and idle
//! workers in [`DelayingQueue::get`] sleep until the earliest ready instant, so an
//! item reaches the queue when it becomes ready as long as a worker waits. Metrics
//! count a moved item as added at its ready instant.

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
