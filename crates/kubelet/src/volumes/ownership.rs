//! Volume ownership for a pod's `securityContext.fsGroup`, as upstream's
//! `SetVolumeOwnership`: every file and directory of the volume gets the group
//! `fsGroup`, group read and write (read only for read-only volumes), and
//! directories get the setgid bit and group search, so files created later inherit
//! the group.
//!
//! With `fsGroupChangePolicy: OnRootMismatch` the walk is skipped when the volume's
//! root already has the group, the setgid bit and the group permissions.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Group read and write for writable volumes.
const READ_WRITE: u32 = 0o660;
/// Group read for read-only volumes (configMap, secret, downwardAPI, projected).
const READ_ONLY: u32 = 0o440;
/// Owner and group search on directories.
const SEARCH: u32 = 0o110;
const SETGID: u32 = 0o2000;

/// Returns `mode` with the group access that an fsGroup volume needs.
fn with_group_access(mode: u32, is_dir: bool, read_only: bool) -> u32 {
    let mut mask = if read_only { READ_ONLY } else { READ_WRITE };
    if is_dir {
        mask |= SETGID | SEARCH;
    }
    mode | mask
}

fn lchown_group(path: &Path, gid: u32) -> std::io::Result<()> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
    // SAFETY: c_path is a valid NUL-terminated string; uid -1 keeps the owner.
    let result = unsafe { libc::lchown(c_path.as_ptr(), u32::MAX, gid) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Returns whether the volume root already carries the group and permissions, the
/// `OnRootMismatch` shortcut.
fn root_matches(root: &Path, gid: u32, read_only: bool) -> bool {
    let Ok(metadata) = std::fs::symlink_metadata(root) else {
        return false;
    };
    let mode = metadata.permissions().mode() & 0o7777;
    metadata.gid() == gid && with_group_access(mode, true, read_only) == mode
}

fn apply(path: &Path, gid: u32, read_only: bool) -> Result<(), String> {
    let failed = |error: std::io::Error| format!("{}: {error}", path.display());
    let metadata = std::fs::symlink_metadata(path).map_err(failed)?;
    lchown_group(path, gid).map_err(failed)?;
    if metadata.file_type().is_symlink() {
        return Ok(());
    }
    let mode = metadata.permissions().mode() & 0o7777;
    let expected = with_group_access(mode, metadata.is_dir(), read_only);
    if expected != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(expected))
            .map_err(failed)?;
    }
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path).map_err(failed)? {
            apply(&entry.map_err(failed)?.path(), gid, read_only)?;
        }
    }
    Ok(())
}

/// Gives the volume at `root` to `fs_group` under `change_policy` (`Always` when
/// unset).
///
/// # Errors
///
/// A message naming the path whose chown or chmod failed.
pub fn set_volume_ownership(
    root: &Path,
    fs_group: i64,
    change_policy: Option<&str>,
    read_only: bool,
) -> Result<(), String> {
    let gid = u32::try_from(fs_group).map_err(|_| format!("invalid fsGroup {fs_group}"))?;
    if change_policy == Some("OnRootMismatch") && root_matches(root, gid, read_only) {
        return Ok(());
    }
    apply(root, gid, read_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn group_access_masks() {
        assert_eq!(with_group_access(0o644, false, false), 0o664);
        assert_eq!(with_group_access(0o600, false, true), 0o640);
        assert_eq!(with_group_access(0o755, true, false), 0o2775);
        assert_eq!(with_group_access(0o700, true, true), 0o2750);
    }

    #[test]
    fn ownership_reaches_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("volume");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/file"), b"x").unwrap();
        std::fs::set_permissions(
            root.join("sub/file"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        std::os::unix::fs::symlink("sub/file", root.join("link")).unwrap();
        // The test's own primary group, so that chown works without privileges.
        let gid = std::fs::metadata(dir.path()).unwrap().gid();

        set_volume_ownership(&root, i64::from(gid), None, false).unwrap();

        assert_eq!(mode(&root.join("sub/file")), 0o660);
        assert_eq!(mode(&root.join("sub")) & 0o2070, 0o2070);
        assert_eq!(
            std::fs::symlink_metadata(root.join("sub/file"))
                .unwrap()
                .gid(),
            gid
        );
        assert!(root_matches(&root, gid, false));
    }

    #[test]
    fn on_root_mismatch_skips_matching_volume() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("volume");
        std::fs::create_dir(&root).unwrap();
        let gid = std::fs::metadata(dir.path()).unwrap().gid();
        set_volume_ownership(&root, i64::from(gid), None, false).unwrap();
        std::fs::write(root.join("late"), b"x").unwrap();
        std::fs::set_permissions(root.join("late"), std::fs::Permissions::from_mode(0o600))
            .unwrap();

        set_volume_ownership(&root, i64::from(gid), Some("OnRootMismatch"), false).unwrap();

        assert_eq!(mode(&root.join("late")), 0o600);
    }

    #[test]
    fn negative_group_is_rejected() {
        let dir = tempfile::tempdir().unwrap();

        let error = set_volume_ownership(dir.path(), -1, None, false).unwrap_err();

        assert_eq!(error, "invalid fsGroup -1");
    }
}
