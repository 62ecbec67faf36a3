//! Controls over glibc's malloc shared by the long-running components: a limit on its
//! arenas, set once at start-up, and handing free heap pages back to the system.
//!
//! glibc gives each thread that allocates concurrently an arena of its own, up to
//! eight per core, and returns memory to the system only from the top of an arena.
//! A server that replaces many objects keeps freed blocks scattered over all of
//! them. Fewer arenas pack the live objects tighter, and [`trim`] releases the free
//! pages in the middle of each arena.
//!
//! Where the C library is not glibc both do nothing and return `false`.

/// The environment variable through which an operator sets glibc's arena limit, which
/// [`limit_arenas`] leaves alone.
pub const ARENA_MAX_ENV: &str = "MALLOC_ARENA_MAX";

/// Limits glibc's malloc to `max` arenas (`mallopt(M_ARENA_MAX)`). Call it at the top
/// of `main`, before any thread starts, because threads that already have an arena
/// keep it. Returns whether the limit was applied: it is not when `max` is 0, when
/// [`ARENA_MAX_ENV`] is set, or when the C library is not glibc.
pub fn limit_arenas(max: usize) -> bool {
    if max == 0 || std::env::var_os(ARENA_MAX_ENV).is_some() {
        return false;
    }
    set_arena_max(max)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(max: usize) -> bool {
    let max = libc::c_int::try_from(max).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt takes no pointers. glibc returns 1 on success and 0 on error.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, max) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_max: usize) -> bool {
    false
}

/// Hands the free pages of every arena back to the system (`malloc_trim(0)`) and
/// returns whether any memory was released. It takes each arena's lock while it walks
/// that arena's free chunks, and threads allocating meanwhile wait. So call it from a
/// blocking thread after heavy work, never per request.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() -> bool {
    // SAFETY: malloc_trim takes no pointers and may be called from any thread.
    unsafe { libc::malloc_trim(0) != 0 }
}

/// Does nothing where the C library is not glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_arenas_zero_is_not_applied() {
        assert!(!limit_arenas(0));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn trim_releases_freed_blocks() {
        // 4 KiB blocks stay below the mmap threshold, so they live in an arena. Freeing
        // the older half leaves a run of free pages below blocks still in use, which
        // free() keeps and only a trim hands back.
        let mut blocks: Vec<Vec<u8>> = (0..4_096).map(|_| vec![1u8; 4096]).collect();
        let newer = blocks.split_off(2_048);
        drop(blocks);
        assert!(
            trim(),
            "malloc_trim released nothing after 8 MiB were freed"
        );
        assert!(newer.iter().all(|block| block[0] == 1));
    }
}
