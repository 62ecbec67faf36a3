//! The waiting set of the delaying queue: items ordered by the instant they become
//! ready, at most one entry per item.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::Instant;

/// Items waiting for their ready instant. Items with equal ready instants leave in
/// the order they were inserted.
pub(crate) struct Waiting<T> {
    by_ready_at: BTreeMap<(Instant, u64), T>,
    entries: HashMap<T, (Instant, u64)>,
    next_sequence: u64,
}

impl<T: Clone + Eq + Hash> Waiting<T> {
    pub(crate) fn new() -> Self {
        Waiting {
            by_ready_at: BTreeMap::new(),
            entries: HashMap::new(),
            next_sequence: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Inserts `item` to become ready at `ready_at`. An item already waiting keeps
    /// the earlier of its two ready instants. Returns true when the earliest ready
    /// instant of the whole set moved earlier.
    pub(crate) fn insert(&mut self, item: T, ready_at: Instant) -> bool {
        let earliest_before = self.next_ready_at();

        match self.entries.get(&item).copied() {
            Some((existing, _)) if existing <= ready_at => return false,
            Some(key) => {
                self.by_ready_at.remove(&key);
            }
            None => {}
        }

        let key = (ready_at, self.next_sequence);
        self.next_sequence += 1;
        self.by_ready_at.insert(key, item.clone());
        self.entries.insert(item, key);

        earliest_before.is_none_or(|earliest| ready_at < earliest)
    }

    /// Returns the earliest ready instant, if any item waits.
    pub(crate) fn next_ready_at(&self) -> Option<Instant> {
        self.by_ready_at
            .first_key_value()
            .map(|((ready_at, _), _)| *ready_at)
    }

    /// Removes and returns the earliest item whose ready instant is at or before
    /// `now`, with that instant.
    pub(crate) fn pop_ready(&mut self, now: Instant) -> Option<(T, Instant)> {
        let ((ready_at, _), _) = self.by_ready_at.first_key_value()?;
        if *ready_at > now {
            return None;
        }
        let ((ready_at, _), item) = self.by_ready_at.pop_first()?;
        self.entries.remove(&item);
        Some((item, ready_at))
    }

    pub(crate) fn clear(&mut self) {
        self.by_ready_at.clear();
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A case name, the inserted (item, ready milliseconds) pairs, the current
    /// milliseconds and the items expected to be ready in order.
    type Case = (
        &'static str,
        &'static [(&'static str, u64)],
        u64,
        &'static [&'static str],
    );

    fn drain(waiting: &mut Waiting<&'static str>, now: Instant) -> Vec<&'static str> {
        std::iter::from_fn(|| waiting.pop_ready(now).map(|(item, _)| item)).collect()
    }

    #[test]
    fn waiting_orders_by_ready_instant() {
        let start = Instant::now();
        let ms = |n| start + Duration::from_millis(n);

        let cases: [Case; 5] = [
            ("empty", &[], 100, &[]),
            (
                "sorted by time",
                &[("c", 30), ("a", 10), ("b", 20)],
                100,
                &["a", "b", "c"],
            ),
            ("only ready items", &[("a", 10), ("b", 50)], 10, &["a"]),
            (
                "ties in insertion order",
                &[("x", 10), ("y", 10), ("z", 10)],
                10,
                &["x", "y", "z"],
            ),
            (
                "duplicate keeps earliest",
                &[("a", 50), ("b", 30), ("a", 10), ("a", 40)],
                35,
                &["a", "b"],
            ),
        ];

        for (name, inserts, now, expected) in cases {
            let mut waiting = Waiting::new();
            for (item, at) in inserts {
                waiting.insert(*item, ms(*at));
            }
            assert_eq!(drain(&mut waiting, ms(now)), expected, "case {name}");
        }
    }

    #[test]
    fn waiting_insert_reports_new_earliest() {
        let start = Instant::now();
        let mut waiting = Waiting::new();

        assert!(waiting.insert("a", start + Duration::from_secs(10)));
        assert!(!waiting.insert("b", start + Duration::from_secs(20)));
        assert!(!waiting.insert("a", start + Duration::from_secs(15)));
        assert!(waiting.insert("b", start + Duration::from_secs(5)));
        assert_eq!(waiting.len(), 2);
        assert_eq!(
            waiting.next_ready_at(),
            Some(start + Duration::from_secs(5))
        );

        waiting.clear();
        assert_eq!(waiting.len(), 0);
        assert_eq!(waiting.next_ready_at(), None);
    }
}
