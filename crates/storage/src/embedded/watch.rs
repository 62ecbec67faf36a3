//! Watches on the embedded store.
//!
//! Each watch runs one task. It subscribes to the writer's broadcast of committed
//! batches before it reads the history it must replay, then forwards live events,
//! skipping any revision it already sent. A task that falls more than the broadcast's
//! capacity behind catches up from the log on disk, so a slow consumer never makes the
//! writer wait and never receives a gap. Only a compaction past its position ends it, with
//! [`Error::Compacted`].

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redb::Database;
use tokio::sync::{broadcast, mpsc};

use super::{Shared, internal, read};
use crate::interface::{Error, Event, WatchMessage, WatchStream};

/// How long a watch whose prefix saw no events waits before it reports progress.
const PROGRESS_DELAY: Duration = Duration::from_millis(100);

pub(crate) async fn start(
    db: Weak<Database>,
    shared: Arc<Shared>,
    prefix: String,
    after_revision: i64,
) -> Result<WatchStream, Error> {
    // Subscribe before reading anything, so no commit falls between history and live.
    let live = shared.events.subscribe();

    let (history, last_sent) = if after_revision == 0 {
        (Vec::new(), shared.revision.load(Ordering::SeqCst))
    } else {
        let compacted = shared.compacted.load(Ordering::SeqCst);
        if after_revision < compacted {
            return Err(Error::Compacted {
                requested: after_revision,
                compacted,
            });
        }
        let (history, upto) = read_history(&db, &prefix, after_revision).await?;
        // A watch from a future revision skips the writes up to that revision.
        (history, upto.max(after_revision))
    };

    let (sender, receiver) = mpsc::channel(shared.options.watch_channel_capacity.max(1));
    let task = WatchTask {
        db,
        prefix,
        last_sent,
        sender,
    };
    tokio::spawn(task.run(history, live));
    Ok(WatchStream::new(receiver))
}

async fn read_history(
    db: &Weak<Database>,
    prefix: &str,
    after: i64,
) -> Result<(Vec<Event>, i64), Error> {
    let Some(db) = db.upgrade() else {
        return Err(Error::Unavailable("embedded store is closed".into()));
    };
    let prefix = prefix.to_string();
    tokio::task::spawn_blocking(move || read::events_between(&db, &prefix, after, None))
        .await
        .map_err(internal)?
}

struct WatchTask {
    db: Weak<Database>,
    prefix: String,
    /// Revision up to which every event has been sent or skipped.
    last_sent: i64,
    sender: mpsc::Sender<Result<WatchMessage, Error>>,
}

impl WatchTask {
    async fn run(mut self, history: Vec<Event>, mut live: broadcast::Receiver<Arc<Vec<Event>>>) {
        for event in history {
            if !self.send(event).await {
                return;
            }
        }

        let mut progress_due: Option<tokio::time::Instant> = None;
        loop {
            let received = tokio::select! {
                received = live.recv() => received,
                _ = self.sender.closed() => return,
                _ = sleep_until(progress_due) => {
                    progress_due = None;
                    let progress = WatchMessage::Progress { revision: self.last_sent };
                    // Progress is advisory: a full channel skips it.
                    let _ = self.sender.try_send(Ok(progress));
                    continue;
                }
            };

            match received {
                Ok(batch) => {
                    let mut sent_any = false;
                    for event in batch.iter() {
                        if event.revision() <= self.last_sent {
                            continue;
                        }
                        if event.kv.key.starts_with(&self.prefix) {
                            if !self.send(event.clone()).await {
                                return;
                            }
                            sent_any = true;
                        } else {
                            self.last_sent = event.revision();
                        }
                    }
                    if sent_any {
                        progress_due = None;
                    } else if progress_due.is_none() {
                        progress_due = Some(tokio::time::Instant::now() + PROGRESS_DELAY);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    tracing::debug!(prefix = %self.prefix, skipped, "watch lagged; catching up from the log");
                    if !self.catch_up().await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => {
                    let _ = self
                        .sender
                        .send(Err(Error::Unavailable("embedded store is closed".into())))
                        .await;
                    return;
                }
            }
        }
    }

    /// Sends one event; returns false when the consumer is gone.
    async fn send(&mut self, event: Event) -> bool {
        let revision = event.revision();
        if self
            .sender
            .send(Ok(WatchMessage::Event(event)))
            .await
            .is_err()
        {
            return false;
        }
        self.last_sent = revision;
        true
    }

    /// Replays what the broadcast dropped; returns false when the watch must end.
    async fn catch_up(&mut self) -> bool {
        match read_history(&self.db, &self.prefix, self.last_sent).await {
            Ok((events, upto)) => {
                for event in events {
                    if !self.send(event).await {
                        return false;
                    }
                }
                self.last_sent = self.last_sent.max(upto);
                true
            }
            Err(error) => {
                tracing::warn!(prefix = %self.prefix, error = %error, "watch cannot catch up");
                let _ = self.sender.send(Err(error)).await;
                false
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
