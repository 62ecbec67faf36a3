//! The reflector loop that keeps a watch cache in step with storage.
//!
//! [`run_reflector`] lists the resource prefix at the latest revision, replaces
//! the cache with the list, and watches storage from that revision, applying each
//! event to the cache and queueing it for the dispatcher. When the watch breaks
//! it re-watches from the cache's revision. When storage rejects that revision
//! with [`Error::Compacted`], the loop marks the cache not ready and lists again.
//! Failed lists and watches are retried with exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::interface::{Backend, Error, KeyValue, ListOptions, WatchMessage};

use super::CacherState;
use super::dispatcher::DispatchItem;

/// Items per page of the relist, as upstream's cacher uses for its lists.
const LIST_PAGE_SIZE: usize = 10_000;

/// Exponential backoff between failed attempts.
#[derive(Debug)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        Backoff {
            initial,
            max: max.max(initial),
            next: initial,
        }
    }

    /// Returns the delay before the next attempt and doubles the one after it.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// Result of a watch phase.
enum WatchOutcome {
    /// The cache must be rebuilt from a new list.
    Relist,
    /// The dispatcher is gone: the cacher stopped.
    Stopped,
}

/// Runs list-then-watch cycles until the dispatcher's queue closes.
pub(crate) async fn run_reflector(
    state: Arc<CacherState>,
    items: mpsc::Sender<DispatchItem>,
    mut backoff: Backoff,
) {
    loop {
        let (objects, revision) = match list_all(state.backend.as_ref(), &state.prefix).await {
            Ok(listed) => listed,
            Err(error) => {
                let delay = backoff.next_delay();
                tracing::warn!(prefix = %state.prefix, %error, retry_in_ms = delay.as_millis() as u64,
                    "cacher: list failed; retrying");
                tokio::time::sleep(delay).await;
                continue;
            }
        };

        let count = objects.len();
        let outcome = state.replace(objects, revision);
        let replaced = DispatchItem::Replaced {
            revision,
            changed: outcome.changed,
        };
        if items.send(replaced).await.is_err() {
            return;
        }
        state.set_ready(true);
        backoff.reset();
        tracing::info!(prefix = %state.prefix, resource_version = revision, objects = count,
            "cacher: list completed; watching storage");

        match watch_until_relist(&state, &items, &mut backoff).await {
            WatchOutcome::Stopped => return,
            WatchOutcome::Relist => {
                state.set_ready(false);
                tracing::info!(prefix = %state.prefix, resource_version = state.revision(),
                    "cacher: storage history is compacted past the cache; relisting");
            }
        }
    }
}

/// Watches storage from the cache's revision, re-watching after transient
/// failures, until a relist is needed or the cacher stops.
async fn watch_until_relist(
    state: &CacherState,
    items: &mpsc::Sender<DispatchItem>,
    backoff: &mut Backoff,
) -> WatchOutcome {
    loop {
        let from = state.revision();
        let mut stream = match state.backend.watch(&state.prefix, from).await {
            Ok(stream) => stream,
            Err(Error::Compacted { .. }) => return WatchOutcome::Relist,
            Err(error) => {
                let delay = backoff.next_delay();
                tracing::warn!(prefix = %state.prefix, resource_version = from, %error,
                    retry_in_ms = delay.as_millis() as u64, "cacher: starting the storage watch failed; retrying");
                tokio::time::sleep(delay).await;
                continue;
            }
        };

        // A watch after revision 0 starts at the call, so a write between the
        // list and the call would be lost. List again if one happened.
        if from == 0 {
            match state.backend.current_revision().await {
                Ok(0) => {}
                Ok(_) => return WatchOutcome::Relist,
                Err(error) => {
                    tracing::warn!(prefix = %state.prefix, %error,
                        "cacher: reading the storage revision failed; relisting");
                    return WatchOutcome::Relist;
                }
            }
        }

        loop {
            match stream.next().await {
                Some(Ok(WatchMessage::Event(event))) => {
                    backoff.reset();
                    let Some(recorded) = state.apply(event) else {
                        continue;
                    };
                    if items.send(DispatchItem::Event(recorded)).await.is_err() {
                        return WatchOutcome::Stopped;
                    }
                }
                Some(Ok(WatchMessage::Progress { revision })) => {
                    let revision = state.progress(revision);
                    if items.send(DispatchItem::Progress(revision)).await.is_err() {
                        return WatchOutcome::Stopped;
                    }
                }
                Some(Err(Error::Compacted { .. })) => return WatchOutcome::Relist,
                Some(Err(error)) => {
                    tracing::warn!(prefix = %state.prefix, resource_version = state.revision(), %error,
                        "cacher: storage watch failed; watching again");
                    break;
                }
                None => {
                    tracing::warn!(prefix = %state.prefix, resource_version = state.revision(),
                        "cacher: storage closed the watch; watching again");
                    break;
                }
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Lists every key under `prefix` at one revision, page by page.
async fn list_all(backend: &dyn Backend, prefix: &str) -> Result<(Vec<KeyValue>, i64), Error> {
    let mut items = Vec::new();
    let mut options = ListOptions {
        prefix: prefix.to_string(),
        start_key: String::new(),
        limit: LIST_PAGE_SIZE,
        revision: 0,
    };
    loop {
        let page = backend.list(options.clone()).await?;
        options.revision = page.revision;
        if let Some(last) = page.items.last() {
            options.start_key = format!("{}\0", last.key);
        }
        let exhausted = !page.more || page.items.is_empty();
        items.extend(page.items);
        if exhausted {
            return Ok((items, options.revision));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_max_and_resets() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::new(ms(100), ms(500));
        let delays: Vec<Duration> = (0..5).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays, [ms(100), ms(200), ms(400), ms(500), ms(500)]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), ms(100));
    }
}
