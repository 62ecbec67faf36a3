//! Returns the pages that the kubelet's heap freed to the system.
//!
//! glibc's malloc keeps freed memory in its arenas and gives it back only from the
//! top of each. A burst of pod starts allocates and frees many short-lived objects
//! (decoded pods, CRI responses, status patches) on both threads of the async
//! runtime, so after it the arenas hold far more free memory than live objects. In
//! the pod startup benchmark (`test-e2e/benches/pod_startup.rs`), the kubelet with
//! 110 pods kept 96.6 MiB in its arenas for 13.0 MiB in use, and a `malloc_trim(0)`
//! called from a debugger brought its VmRSS from 126 MiB to 37 MiB.
//!
//! [`run`] calls `malloc_trim(0)`, which also releases free pages in the middle of
//! each arena, every [`TRIM_PERIOD`] in which a pod worker synced. The reflectors
//! of the client library trim on their own after large lists and watch streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How often the heap is trimmed while pod workers are busy.
pub const TRIM_PERIOD: Duration = Duration::from_secs(10);

/// Pod syncs since the last trim.
static SYNCS: AtomicU64 = AtomicU64::new(0);

/// Counts one pod sync, the work that leaves freed memory behind.
pub fn record_sync() {
    SYNCS.fetch_add(1, Ordering::Relaxed);
}

/// Trims the heap every [`TRIM_PERIOD`] in which a pod synced, until `cancel`.
pub async fn run(mut cancel: watch::Receiver<bool>) {
    let mut period = tokio::time::interval(TRIM_PERIOD);
    period.tick().await;
    loop {
        tokio::select! {
            _ = period.tick() => {}
            _ = crate::cancelled(&mut cancel) => return,
        }
        if SYNCS.swap(0, Ordering::Relaxed) == 0 {
            continue;
        }
        // malloc_trim walks every arena under its lock, so it runs off the
        // runtime's worker threads.
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

fn trim() {
    let started = Instant::now();
    let released = apimachinery::heap::trim();
    tracing::debug!(
        released,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "returned free heap pages to the system"
    );
}
