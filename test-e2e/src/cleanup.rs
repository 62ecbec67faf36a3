//! Teardown of what node daemons leave in the kernel: cgroups under a node's cgroup
//! root and mounts under a node's directories.
//!
//! Both are found from the kernel's own view (/sys/fs/cgroup and
//! /proc/self/mountinfo), so a daemon that crashed before cleaning up still gets
//! cleaned up.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use crate::process::signal;

/// The root of the cgroup v1 hierarchies.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Kills every process in the cgroup `relative` (such as `/kcl-node1`) and its
/// descendants in every cgroup v1 hierarchy, then removes the cgroups, deepest first.
/// Returns the cgroup directories that could not be removed.
pub fn remove_cgroup_tree(relative: &str) -> Vec<PathBuf> {
    let relative = relative.trim_start_matches('/');
    let mut left = Vec::new();
    if relative.is_empty() {
        return left;
    }
    let Ok(hierarchies) = fs::read_dir(CGROUP_ROOT) else {
        return left;
    };
    for hierarchy in hierarchies.flatten() {
        let root = hierarchy.path().join(relative);
        if !root.is_dir() {
            continue;
        }
        let mut directories = Vec::new();
        collect_directories(&root, &mut directories);
        for _ in 0..50 {
            let mut alive = false;
            for directory in &directories {
                for pid in read_pids(directory) {
                    alive = true;
                    signal(pid, libc::SIGKILL);
                }
            }
            if !alive {
                break;
            }
            sleep(Duration::from_millis(100));
        }
        // Deepest first: a cgroup with children cannot be removed.
        directories.sort_by_key(|directory| std::cmp::Reverse(directory.components().count()));
        for directory in directories {
            if let Err(error) = fs::remove_dir(&directory) {
                tracing::warn!(cgroup = %directory.display(), %error, "failed to remove cgroup");
                left.push(directory);
            }
        }
    }
    left
}

fn collect_directories(directory: &Path, into: &mut Vec<PathBuf>) {
    into.push(directory.to_path_buf());
    if let Ok(entries) = fs::read_dir(directory) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                collect_directories(&entry.path(), into);
            }
        }
    }
}

fn read_pids(cgroup: &Path) -> Vec<u32> {
    fs::read_to_string(cgroup.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

/// Unmounts every mount point at or below `prefix`, deepest first, detaching busy
/// ones. Returns the mount points that could not be unmounted.
pub fn unmount_below(prefix: &Path) -> Vec<PathBuf> {
    let mut points: Vec<PathBuf> = mount_points()
        .into_iter()
        .filter(|point| point.starts_with(prefix))
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.components().count()));
    points.dedup();
    let mut left = Vec::new();
    for point in points {
        if let Err(error) = unmount(&point) {
            tracing::warn!(path = %point.display(), %error, "failed to unmount");
            left.push(point);
        }
    }
    left
}

/// Returns the mount points listed in /proc/self/mountinfo, with octal escapes
/// such as `\040` decoded.
pub fn mount_points() -> Vec<PathBuf> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|point| PathBuf::from(decode_mount_escapes(point)))
        .collect()
}

fn decode_mount_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\' && index + 4 <= bytes.len() {
            let digits = &text[index + 1..index + 4];
            if let Ok(value) = u8::from_str_radix(digits, 8) {
                decoded.push(value);
                index += 4;
                continue;
            }
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn unmount(point: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;

    let path = std::ffi::CString::new(point.as_os_str().as_bytes())
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    let result = unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::decode_mount_escapes;

    #[test]
    fn mount_escapes_decode_space() {
        assert_eq!(decode_mount_escapes("/a\\040b"), "/a b");
    }

    #[test]
    fn mount_escapes_keep_plain_paths() {
        assert_eq!(decode_mount_escapes("/var/lib/x"), "/var/lib/x");
    }

    #[test]
    fn mount_escapes_keep_trailing_backslash() {
        assert_eq!(decode_mount_escapes("/a\\"), "/a\\");
    }
}
