//! Host commands and clean-up shared by the runtime's integration tests and its
//! pod start benchmark: both run real containers and must leave no mount or cgroup
//! behind.

use std::path::Path;
use std::process::Command;

/// Runs `program` with `args` and panics with its standard error when it fails.
pub fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Unmounts everything mounted below `dir`, deepest first.
pub fn unmount_below(dir: &Path) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = dir.display().to_string();
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| point.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    points.sort_by_key(|point| std::cmp::Reverse(point.len()));
    for point in points {
        let _ = nix::mount::umount2(point.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Removes the cgroup subtree `root` from every cgroup v1 hierarchy, leaves first.
pub fn remove_cgroups(root: &str) {
    let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for controller in controllers.flatten() {
        let mut dirs = Vec::new();
        let mut pending = vec![controller.path().join(root)];
        while let Some(dir) = pending.pop() {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    if entry.file_type().map(|kind| kind.is_dir()).unwrap_or(false) {
                        pending.push(entry.path());
                    }
                }
                dirs.push(dir);
            }
        }
        dirs.sort_by_key(|dir| std::cmp::Reverse(dir.as_os_str().len()));
        for dir in dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}
