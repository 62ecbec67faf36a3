//! Per-key exponential backoff (upstream's flowcontrol.Backoff) for container
//! restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff).
//!
//! Times are wall-clock [`SystemTime`]s because the event a backoff is measured from
//! (a container's finish time) comes from the runtime.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Keyed backoff: each key's delay starts at `initial`, doubles on every
/// [`Backoff::next`] up to `max`, and is forgotten after `2 * max` without use.
pub struct Backoff {
    initial: Duration,
    max: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    delay: Duration,
    last_update: SystemTime,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the current delay of `key`, zero when unknown.
    pub fn get(&self, key: &str) -> Duration {
        self.entries().get(key).map(|e| e.delay).unwrap_or_default()
    }

    /// Records another failure of `key` at `now`: the first one (or the first after
    /// a quiet `2 * max`) gets `initial`, later ones double the delay up to `max`.
    pub fn next(&self, key: &str, now: SystemTime) {
        let mut entries = self.entries();
        let delay = match entries.get(key) {
            Some(e) if !self.expired(e, now) => (e.delay * 2).min(self.max),
            _ => self.initial,
        };
        entries.insert(
            key.to_string(),
            Entry {
                delay,
                last_update: now,
            },
        );
    }

    /// True when `now` is within the key's current delay after `event_time`; returns
    /// the time left.
    pub fn in_backoff_since(
        &self,
        key: &str,
        event_time: SystemTime,
        now: SystemTime,
    ) -> Option<Duration> {
        let entries = self.entries();
        let entry = entries.get(key)?;
        if self.expired(entry, now) {
            return None;
        }
        let elapsed = now.duration_since(event_time).unwrap_or_default();
        (elapsed < entry.delay).then(|| entry.delay - elapsed)
    }

    /// Forgets `key`.
    pub fn reset(&self, key: &str) {
        self.entries().remove(key);
    }

    /// Forgets every key whose prefix is `prefix` (all containers of one pod).
    pub fn forget_prefix(&self, prefix: &str) {
        self.entries().retain(|k, _| !k.starts_with(prefix));
    }

    fn expired(&self, entry: &Entry, now: SystemTime) -> bool {
        now.duration_since(entry.last_update).unwrap_or_default() > 2 * self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_and_resets_when_quiet() {
        let b = Backoff::new(Duration::from_secs(10), Duration::from_secs(300));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(b.get("k"), Duration::ZERO);
        let mut want = [10, 20, 40, 80, 160, 300, 300].into_iter();
        for i in 0..7 {
            b.next("k", t0 + Duration::from_secs(i));
            assert_eq!(b.get("k"), Duration::from_secs(want.next().unwrap()));
        }
        // Quiet for longer than 2 * max: back to the initial delay.
        b.next("k", t0 + Duration::from_secs(7 + 601));
        assert_eq!(b.get("k"), Duration::from_secs(10));
    }

    #[test]
    fn in_backoff_window() {
        let b = Backoff::new(Duration::from_secs(10), Duration::from_secs(300));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(b.in_backoff_since("k", t0, t0), None);
        b.next("k", t0);
        assert_eq!(
            b.in_backoff_since("k", t0, t0 + Duration::from_secs(4)),
            Some(Duration::from_secs(6))
        );
        assert_eq!(
            b.in_backoff_since("k", t0, t0 + Duration::from_secs(10)),
            None
        );
        b.forget_prefix("k");
        assert_eq!(b.get("k"), Duration::ZERO);
    }
}
