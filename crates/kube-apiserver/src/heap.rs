//! Keeps the API server's resident heap close to the objects it holds, under glibc's
//! malloc.
//!
//! Serving a request decodes, defaults, validates and encodes objects, and a list
//! encodes every object it returns. Those buffers are freed right after, between the
//! objects that the watch cache keeps, and glibc hands memory back to the system only
//! from the top of each arena. So after a burst of writes the freed pages stay
//! resident. In the memory benchmark (`benches/apiserver.rs`, 100,000 pods created
//! over the API with etcd as the store), the arena limit and the trims together cut
//! the server's resident memory beyond the pods' JSON from 530 to 338 bytes per pod.
//!
//! [`limit_arenas`] runs in `main` before the async runtime starts. [`run`] trims the
//! heap on a blocking thread once a burst of requests ends, and every [`TRIM_PERIOD`]
//! under steady load. Requests never trim themselves, and the server counts each one
//! with [`record_request`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How often [`run`] reads the request count.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Requests after which a [`CHECK_INTERVAL`] without requests counts as the end of a
/// burst and trims at once.
pub const BURST_REQUESTS: u64 = 1_000;

/// The maximum time between two trims while requests keep arriving.
pub const TRIM_PERIOD: Duration = Duration::from_secs(10);

/// Requests served since [`run`] last read the count.
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Counts one request, the work that leaves freed memory behind.
pub fn record_request() {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// Limits glibc's malloc to one arena per core, the number of the async runtime's
/// worker threads, in place of glibc's eight per core. Call it before any thread
/// starts. `MALLOC_ARENA_MAX` in the environment still wins.
pub fn limit_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    let applied = apimachinery::heap::limit_arenas(cores);
    tracing::debug!(arenas = cores, applied, "limited malloc arenas");
}

/// Trims the heap after bursts of requests and periodically under load, until
/// `shutdown` turns true.
pub async fn run(mut shutdown: watch::Receiver<bool>) {
    let mut check = tokio::time::interval(CHECK_INTERVAL);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since_trim = 0u64;
    let mut last_trim = Instant::now();
    loop {
        tokio::select! {
            _ = check.tick() => {}
            _ = shutdown.changed() => return,
        }
        let recent = REQUESTS.swap(0, Ordering::Relaxed);
        since_trim += recent;
        if !trim_due(recent, since_trim, last_trim.elapsed()) {
            continue;
        }
        since_trim = 0;
        last_trim = Instant::now();
        // malloc_trim holds each arena's lock while it walks the free chunks, so it
        // runs off the runtime's worker threads.
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

/// Decides whether to trim, given the requests of the last [`CHECK_INTERVAL`], the
/// requests since the last trim (including the recent ones) and the time since it.
fn trim_due(recent: u64, since_trim: u64, since_last_trim: Duration) -> bool {
    let burst_ended = recent == 0 && since_trim >= BURST_REQUESTS;
    let period_passed = since_trim > 0 && since_last_trim >= TRIM_PERIOD;
    burst_ended || period_passed
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_due_cases() {
        let second = Duration::from_secs(1);
        let cases = [
            // (recent, since trim, since last trim, due, case)
            (0, 0, TRIM_PERIOD * 6, false, "idle server"),
            (0, BURST_REQUESTS, second, true, "burst ended"),
            (
                0,
                BURST_REQUESTS - 1,
                second,
                false,
                "short burst still waits",
            ),
            (5, BURST_REQUESTS * 3, second, false, "burst still running"),
            (
                5,
                BURST_REQUESTS * 3,
                TRIM_PERIOD,
                true,
                "steady load, period passed",
            ),
            (0, 1, TRIM_PERIOD, true, "few requests, period passed"),
        ];
        for (recent, since_trim, since_last_trim, due, case) in cases {
            assert_eq!(trim_due(recent, since_trim, since_last_trim), due, "{case}");
        }
    }
}
