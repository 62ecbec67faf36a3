//! Returns the pages of freed objects to the operating system.
//!
//! glibc's malloc gives each thread that allocates concurrently its own heap (arena)
//! and gives memory back to the system only from the top of a heap. A cache replaces
//! whole objects on every update, and its reflector, informer and handler threads
//! allocate and free them, so freed blocks accumulate inside the arenas. In the
//! informer benchmark (`crates/client/benches/informer_sync.rs`), an informer of
//! 5,000 pods that followed 10,000 updates kept 132 to 142 MiB resident with
//! glibc's default arenas and about 98 MiB with one arena (`MALLOC_ARENA_MAX=1`),
//! for the same 75 MiB of live objects.
//!
//! Reflectors [`record`] the JSON bytes they decode and call [`trim_if_due`] after
//! each watch event and each list. Once [`TRIM_AFTER_BYTES`] have been recorded,
//! `malloc_trim(0)` runs on a blocking thread, at most once every
//! [`MIN_TRIM_INTERVAL`] in the whole process. It hands the free pages of every arena
//! back. Where the
//! C library is not glibc this does nothing, and with another global allocator the
//! call finds little to return.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Decoded JSON bytes after which a trim is due. A decoded pod takes about seven
/// times its JSON size in memory, so this is roughly 100 MiB of replaced objects.
pub const TRIM_AFTER_BYTES: usize = 4 << 20;

/// The shortest time between two trims in one process.
pub const MIN_TRIM_INTERVAL: Duration = Duration::from_secs(2);

/// Bytes decoded since the last trim.
static DECODED: AtomicUsize = AtomicUsize::new(0);

/// When the last trim started, in milliseconds since [`epoch`], at least 1; 0 before
/// the first.
static LAST_TRIM_MS: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Counts `bytes` of decoded JSON.
pub(crate) fn record(bytes: usize) {
    DECODED.fetch_add(bytes, Ordering::Relaxed);
}

/// Starts a trim when enough bytes were decoded since the last one and the last one
/// is old enough. Processes whose packed caches decode objects on reads call it
/// now and then, since reads alone never start a trim.
pub fn trim_if_due() {
    if DECODED.load(Ordering::Relaxed) < TRIM_AFTER_BYTES {
        return;
    }
    let now_ms = (epoch().elapsed().as_millis() as u64).max(1);
    let last_ms = LAST_TRIM_MS.load(Ordering::Relaxed);
    if last_ms != 0 && now_ms.saturating_sub(last_ms) < MIN_TRIM_INTERVAL.as_millis() as u64 {
        return;
    }
    // One caller wins the trim; the others see the new time and return.
    if LAST_TRIM_MS
        .compare_exchange(last_ms, now_ms, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    DECODED.store(0, Ordering::Relaxed);

    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(trim);
        }
        Err(_) => trim(),
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
