//! The event correlator, after client-go's `tools/record/events_cache.go` (v1.18):
//! it turns a stream of new events into creates and patches, counting repeats,
//! folding floods of similar events into one, and dropping spam.
//!
//! For each event, in order:
//! 1. The aggregator groups events by everything but the message. From the tenth
//!    distinct message within ten minutes on, the event is replaced by one whose
//!    message starts with "(combined from similar events): ".
//! 2. The logger counts repeats of identical events (or of the combined event): a
//!    repeat becomes a patch of `count`, `lastTimestamp` and `message` of the event
//!    created first.
//! 3. The spam filter keeps a token bucket per source and involved object (burst
//!    25, one token every five minutes) and drops events that find it empty.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Event;
use serde_json::{Value, json};

/// Events that differ only in message and arrive within this window are counted
/// together by the aggregator.
pub const AGGREGATE_INTERVAL: Duration = Duration::from_secs(600);

/// The number of distinct messages at which the aggregator starts combining.
pub const AGGREGATE_MAX_EVENTS: usize = 10;

/// The message prefix of a combined event.
pub const AGGREGATE_PREFIX: &str = "(combined from similar events): ";

/// The spam filter's bucket size per source and object.
pub const SPAM_BURST: f64 = 25.0;

/// The spam filter's refill rate: one event per five minutes.
pub const SPAM_QPS: f64 = 1.0 / 300.0;

/// Keys each cache may hold before it is emptied (upstream keeps an LRU of 4096).
const MAX_CACHE_ENTRIES: usize = 4096;

/// What to send for one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlated {
    /// The event to create, or the state of the existing event after the patch.
    pub event: Event,
    /// A strategic merge patch of the existing event `event.metadata.name`, for a
    /// repeat; `None` means create.
    pub patch: Option<Value>,
}

struct AggregateRecord {
    messages: HashSet<String>,
    last: Instant,
}

#[derive(Clone)]
struct Observation {
    count: i32,
    first_timestamp: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    name: Option<String>,
    resource_version: Option<String>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Correlates events; one per event sink.
#[derive(Default)]
pub struct EventCorrelator {
    aggregates: HashMap<String, AggregateRecord>,
    observations: HashMap<String, Observation>,
    buckets: HashMap<String, Bucket>,
}

impl EventCorrelator {
    /// An empty correlator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decides what to send for `event`, observed at `now`. Returns `None` when the
    /// spam filter drops it.
    pub fn correlate(&mut self, event: Event, now: Instant) -> Option<Correlated> {
        let (event, key) = self.aggregate(event, now);
        let (event, patch) = self.observe(event, key);
        if !self.accept(&event, now) {
            tracing::debug!(
                reason = event.reason.as_deref().unwrap_or(""),
                object = event.involved_object.name.as_deref().unwrap_or(""),
                "dropping event: too many events for this object"
            );
            return None;
        }
        Some(Correlated { event, patch })
    }

    /// Records the event as the server returned it, so later repeats patch it.
    pub fn update_state(&mut self, event: &Event) {
        let key = event_key(event);
        bounded_insert(
            &mut self.observations,
            key,
            Observation {
                count: event.count.unwrap_or(1),
                first_timestamp: event.first_timestamp.clone(),
                name: event.metadata.name.clone(),
                resource_version: event.metadata.resource_version.clone(),
            },
        );
    }

    fn aggregate(&mut self, event: Event, now: Instant) -> (Event, String) {
        let aggregate = aggregate_key(&event);
        let message = event.message.clone().unwrap_or_default();
        if self.aggregates.len() >= MAX_CACHE_ENTRIES && !self.aggregates.contains_key(&aggregate) {
            self.aggregates.clear();
        }
        let record = self
            .aggregates
            .entry(aggregate.clone())
            .or_insert_with(|| AggregateRecord {
                messages: HashSet::new(),
                last: now,
            });
        if now.saturating_duration_since(record.last) > AGGREGATE_INTERVAL {
            record.messages.clear();
        }
        record.messages.insert(message.clone());
        record.last = now;
        if record.messages.len() < AGGREGATE_MAX_EVENTS {
            let key = event_key(&event);
            return (event, key);
        }
        // Keep the set at its cap; which message leaves does not matter.
        if let Some(any) = record.messages.iter().next().cloned() {
            record.messages.remove(&any);
        }

        let involved = &event.involved_object;
        let mut combined = Event {
            involved_object: involved.clone(),
            reason: event.reason.clone(),
            type_: event.type_.clone(),
            source: event.source.clone(),
            first_timestamp: event.first_timestamp.clone(),
            last_timestamp: event.last_timestamp.clone(),
            count: Some(1),
            message: Some(format!("{AGGREGATE_PREFIX}{message}")),
            ..Event::default()
        };
        combined.metadata.namespace = event.metadata.namespace.clone();
        combined.metadata.name = Some(event_name(involved.name.as_deref().unwrap_or("")));
        (combined, aggregate)
    }

    fn observe(&mut self, mut event: Event, key: String) -> (Event, Option<Value>) {
        let mut patch = None;
        if let Some(last) = self.observations.get(&key).filter(|o| o.count > 0) {
            event.count = Some(last.count + 1);
            event.first_timestamp = last.first_timestamp.clone();
            event.metadata.name = last.name.clone();
            event.metadata.resource_version = last.resource_version.clone();
            patch = Some(json!({
                "count": event.count,
                "lastTimestamp": event.last_timestamp,
                "message": event.message,
            }));
        }
        bounded_insert(
            &mut self.observations,
            key,
            Observation {
                count: event.count.unwrap_or(1),
                first_timestamp: event.first_timestamp.clone(),
                name: event.metadata.name.clone(),
                resource_version: event.metadata.resource_version.clone(),
            },
        );
        (event, patch)
    }

    fn accept(&mut self, event: &Event, now: Instant) -> bool {
        let key = spam_key(event);
        if self.buckets.len() >= MAX_CACHE_ENTRIES && !self.buckets.contains_key(&key) {
            self.buckets.clear();
        }
        let bucket = self.buckets.entry(key).or_insert(Bucket {
            tokens: SPAM_BURST,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * SPAM_QPS).min(SPAM_BURST);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn bounded_insert<V>(map: &mut HashMap<String, V>, key: String, value: V) {
    if map.len() >= MAX_CACHE_ENTRIES && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(key, value);
}

/// The name of a new event about the object `name`: the name plus the current time
/// in hexadecimal nanoseconds.
pub(crate) fn event_name(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{name}.{nanos:x}")
}

fn join(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .map(|p| p.unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// Everything that makes two events the same event, message included.
fn event_key(event: &Event) -> String {
    let source = event.source.as_ref();
    let io = &event.involved_object;
    join(&[
        source.and_then(|s| s.component.as_deref()),
        source.and_then(|s| s.host.as_deref()),
        io.kind.as_deref(),
        io.namespace.as_deref(),
        io.name.as_deref(),
        io.field_path.as_deref(),
        io.uid.as_deref(),
        io.api_version.as_deref(),
        event.type_.as_deref(),
        event.reason.as_deref(),
        event.message.as_deref(),
    ])
}

/// Everything but the message (and field path): what similar events share.
fn aggregate_key(event: &Event) -> String {
    let source = event.source.as_ref();
    let io = &event.involved_object;
    join(&[
        source.and_then(|s| s.component.as_deref()),
        source.and_then(|s| s.host.as_deref()),
        io.kind.as_deref(),
        io.namespace.as_deref(),
        io.name.as_deref(),
        io.uid.as_deref(),
        io.api_version.as_deref(),
        event.type_.as_deref(),
        event.reason.as_deref(),
    ])
}

/// The source and involved object: what the spam filter limits.
fn spam_key(event: &Event) -> String {
    let source = event.source.as_ref();
    let io = &event.involved_object;
    join(&[
        source.and_then(|s| s.component.as_deref()),
        source.and_then(|s| s.host.as_deref()),
        io.kind.as_deref(),
        io.namespace.as_deref(),
        io.name.as_deref(),
        io.uid.as_deref(),
        io.api_version.as_deref(),
    ])
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{EventSource, ObjectReference};

    use super::*;

    fn event(object: &str, reason: &str, message: &str) -> Event {
        let mut event = Event {
            involved_object: ObjectReference {
                kind: Some("Pod".to_string()),
                namespace: Some("default".to_string()),
                name: Some(object.to_string()),
                uid: Some(format!("uid-{object}")),
                api_version: Some("v1".to_string()),
                ..ObjectReference::default()
            },
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            type_: Some("Normal".to_string()),
            source: Some(EventSource {
                component: Some("test".to_string()),
                host: None,
            }),
            count: Some(1),
            ..Event::default()
        };
        event.metadata.name = Some(event_name(object));
        event.metadata.namespace = Some("default".to_string());
        event
    }

    #[test]
    fn repeats_become_patches_with_growing_counts() {
        let mut correlator = EventCorrelator::new();
        let now = Instant::now();
        let first = correlator
            .correlate(event("p", "Pulled", "pulled image"), now)
            .expect("not filtered");
        assert!(first.patch.is_none());
        assert_eq!(first.event.count, Some(1));
        let mut created = first.event.clone();
        created.metadata.resource_version = Some("7".to_string());
        correlator.update_state(&created);

        for expected in 2..=4 {
            let repeat = correlator
                .correlate(event("p", "Pulled", "pulled image"), now)
                .expect("not filtered");
            assert_eq!(repeat.event.count, Some(expected));
            assert_eq!(repeat.event.metadata.name, created.metadata.name);
            assert_eq!(repeat.event.metadata.resource_version.as_deref(), Some("7"));
            let patch = repeat.patch.expect("a repeat is a patch");
            assert_eq!(patch["count"], expected);
            assert_eq!(patch["message"], "pulled image");
        }
    }

    #[test]
    fn ten_similar_messages_are_combined() {
        let mut correlator = EventCorrelator::new();
        let now = Instant::now();
        let mut combined_name = None;
        for i in 1..=12 {
            let result = correlator
                .correlate(event("p", "Failed", &format!("attempt {i}")), now)
                .expect("not filtered");
            let message = result.event.message.clone().unwrap();
            if i < AGGREGATE_MAX_EVENTS {
                assert_eq!(message, format!("attempt {i}"));
                assert!(result.patch.is_none());
                continue;
            }
            assert_eq!(message, format!("{AGGREGATE_PREFIX}attempt {i}"));
            let count = i32::try_from(i - AGGREGATE_MAX_EVENTS + 1).unwrap();
            assert_eq!(result.event.count, Some(count), "event {i}");
            assert_eq!(result.patch.is_some(), i > AGGREGATE_MAX_EVENTS);
            match &combined_name {
                None => combined_name = result.event.metadata.name.clone(),
                Some(name) => assert_eq!(result.event.metadata.name.as_ref(), Some(name)),
            }
        }

        // Another reason is another group.
        let other = correlator
            .correlate(event("p", "Killing", "attempt 1"), now)
            .unwrap();
        assert_eq!(other.event.message.as_deref(), Some("attempt 1"));
    }

    #[test]
    fn similar_events_older_than_the_window_start_over() {
        let mut correlator = EventCorrelator::new();
        let start = Instant::now();
        for i in 1..AGGREGATE_MAX_EVENTS {
            correlator
                .correlate(event("p", "Failed", &format!("attempt {i}")), start)
                .unwrap();
        }
        let later = start + AGGREGATE_INTERVAL + Duration::from_secs(1);
        let result = correlator
            .correlate(event("p", "Failed", "attempt 10"), later)
            .unwrap();
        assert_eq!(result.event.message.as_deref(), Some("attempt 10"));
    }

    #[test]
    fn spam_filter_allows_a_burst_then_one_per_five_minutes() {
        let mut correlator = EventCorrelator::new();
        let start = Instant::now();
        // Distinct reasons so that neither aggregation nor counting interferes.
        let accepted = (0..30)
            .filter(|i| {
                correlator
                    .correlate(event("p", &format!("R{i}"), "m"), start)
                    .is_some()
            })
            .count();
        assert_eq!(accepted, 25);
        assert!(
            correlator
                .correlate(event("other", "R0", "m"), start)
                .is_some(),
            "each object has its own bucket"
        );
        let soon = start + Duration::from_secs(200);
        assert!(correlator.correlate(event("p", "R40", "m"), soon).is_none());
        let later = start + Duration::from_secs(301);
        assert!(
            correlator
                .correlate(event("p", "R41", "m"), later)
                .is_some()
        );
        assert!(
            correlator
                .correlate(event("p", "R42", "m"), later)
                .is_none()
        );
    }
}
