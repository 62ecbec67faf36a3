//! The atomic writer: publishes a set of files into a volume directory so that a
//! reader inside a container sees either the whole old set or the whole new set.
//!
//! Layout, as upstream's configMap, secret, downwardAPI and projected volumes use
//! it: the files live in a hidden timestamped directory (`..2026_01_31_12_00_00.42`),
//! the symlink `..data` points at the current one, and each top-level user-visible
//! name is a symlink into `..data` (`key -> ..data/key`). An update writes a new
//! timestamped directory, points a temporary symlink at it and renames that over
//! `..data` (rename(2) is atomic), then adds and removes user-visible symlinks and
//! deletes the old directory.
//!
//! Entry point: [`write`].

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The symlink to the current timestamped directory.
pub const DATA_DIR_NAME: &str = "..data";
const NEW_DATA_DIR_NAME: &str = "..data_tmp";

/// One file of a volume's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProjection {
    pub data: Vec<u8>,
    /// Permission bits (for example 0o644).
    pub mode: u32,
}

/// An error of [`write`].
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid file path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_error<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Publishes `payload` (relative path to file) into `target_dir`, which must exist.
/// Returns `false` without touching anything when the current files already
/// equal the payload, `true` after an update.
///
/// Files of an earlier payload that are absent from this one disappear. Plain
/// files left in `target_dir` under a payload name (written before this layout)
/// are replaced by the symlink.
///
/// # Errors
///
/// [`WriteError::InvalidPath`] for an absolute path, an empty component or a
/// component starting with `..`, before anything is written; [`WriteError::Io`]
/// naming the path of a failed file operation.
pub fn write(
    target_dir: &Path,
    payload: &BTreeMap<String, FileProjection>,
) -> Result<bool, WriteError> {
    for path in payload.keys() {
        validate_path(path)?;
    }

    let data_link = target_dir.join(DATA_DIR_NAME);
    let old_ts_name = std::fs::read_link(&data_link).ok();
    let old_ts_dir = old_ts_name.as_ref().map(|name| target_dir.join(name));
    let old_paths = match &old_ts_dir {
        Some(dir) => list_files(dir)?,
        None => BTreeSet::new(),
    };
    if let Some(dir) = &old_ts_dir
        && payload_matches(dir, &old_paths, payload)?
    {
        return Ok(false);
    }

    let ts_dir = create_timestamped_dir(target_dir)?;
    write_payload(&ts_dir, payload)?;

    // Swap `..data` over to the new directory in one rename.
    let new_link = target_dir.join(NEW_DATA_DIR_NAME);
    match std::fs::remove_file(&new_link) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(io_error("remove", &new_link)(e));
        }
        _ => {}
    }
    let ts_name = ts_dir.file_name().unwrap_or_default();
    std::os::unix::fs::symlink(ts_name, &new_link).map_err(io_error("symlink", &new_link))?;
    std::fs::rename(&new_link, &data_link).map_err(io_error("rename", &data_link))?;

    let new_top = top_level_names(payload.keys());
    create_user_visible_links(target_dir, &new_top)?;
    for stale in top_level_names(old_paths.iter()).difference(&new_top) {
        let path = target_dir.join(stale);
        std::fs::remove_file(&path).map_err(io_error("remove", &path))?;
    }
    if let Some(dir) = old_ts_dir
        && dir != ts_dir
    {
        std::fs::remove_dir_all(&dir).map_err(io_error("remove", &dir))?;
    }
    Ok(true)
}

/// Checks a payload path the way upstream does: relative, no empty component,
/// and no component starting with `..` (which would reach outside the volume or
/// collide with the writer's own hidden names).
fn validate_path(path: &str) -> Result<(), WriteError> {
    let invalid = |reason| {
        Err(WriteError::InvalidPath {
            path: path.to_string(),
            reason,
        })
    };
    if path.is_empty() {
        return invalid("must not be empty");
    }
    if path.starts_with('/') {
        return invalid("must be relative");
    }
    for part in path.split('/') {
        if part.is_empty() {
            return invalid("must not contain an empty component");
        }
        if part.starts_with("..") {
            return invalid("must not contain a component starting with '..'");
        }
    }
    Ok(())
}

fn top_level_names<'a>(paths: impl Iterator<Item = &'a String>) -> BTreeSet<String> {
    paths
        .map(|p| p.split('/').next().unwrap_or_default().to_string())
        .collect()
}

/// Lists the regular files below `dir` as `/`-separated relative paths.
fn list_files(dir: &Path) -> Result<BTreeSet<String>, WriteError> {
    let mut files = BTreeSet::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        let entries = std::fs::read_dir(&path).map_err(io_error("read directory", &path))?;
        for entry in entries {
            let entry = entry.map_err(io_error("read directory", &path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let file_type = entry.file_type().map_err(io_error("stat", &entry.path()))?;
            if file_type.is_dir() {
                pending.push((entry.path(), relative));
            } else {
                files.insert(relative);
            }
        }
    }
    Ok(files)
}

fn payload_matches(
    dir: &Path,
    existing: &BTreeSet<String>,
    payload: &BTreeMap<String, FileProjection>,
) -> Result<bool, WriteError> {
    if existing.len() != payload.len() || !payload.keys().all(|k| existing.contains(k)) {
        return Ok(false);
    }
    for (relative, file) in payload {
        let path = dir.join(relative);
        let meta = std::fs::metadata(&path).map_err(io_error("stat", &path))?;
        if meta.permissions().mode() & 0o7777 != file.mode {
            return Ok(false);
        }
        let data = std::fs::read(&path).map_err(io_error("read", &path))?;
        if data != file.data {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Creates `..<UTC time as 2006_01_02_15_04_05>.<nanoseconds>` below `target_dir`;
/// a name already taken gets a counter appended.
fn create_timestamped_dir(target_dir: &Path) -> Result<PathBuf, WriteError> {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let base = format!(
        "..{}.{}",
        format_utc(since_epoch.as_secs()),
        since_epoch.subsec_nanos()
    );
    for attempt in 0u32.. {
        let name = if attempt == 0 {
            base.clone()
        } else {
            format!("{base}{attempt}")
        };
        let path = target_dir.join(name);
        match std::fs::create_dir(&path) {
            Ok(()) => {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .map_err(io_error("chmod", &path))?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error("create directory", &path)(e)),
        }
    }
    unreachable!("the attempt counter is unbounded")
}

/// Formats seconds since the Unix epoch as `YYYY_MM_DD_HH_MM_SS` in UTC.
fn format_utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Civil date from a day count (Howard Hinnant's days_from_civil inverse).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}_{month:02}_{day:02}_{:02}_{:02}_{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

fn write_payload(dir: &Path, payload: &BTreeMap<String, FileProjection>) -> Result<(), WriteError> {
    for (relative, file) in payload {
        let path = dir.join(relative);
        if let Some(parent) = path.parent()
            && parent != dir
        {
            std::fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
        }
        std::fs::write(&path, &file.data).map_err(io_error("write", &path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file.mode))
            .map_err(io_error("chmod", &path))?;
    }
    Ok(())
}

fn create_user_visible_links(
    target_dir: &Path,
    names: &BTreeSet<String>,
) -> Result<(), WriteError> {
    for name in names {
        let path = target_dir.join(name);
        let link_target = Path::new(DATA_DIR_NAME).join(name);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if std::fs::read_link(&path).ok().as_deref() == Some(link_target.as_path()) {
                    continue;
                }
                std::fs::remove_file(&path).map_err(io_error("remove", &path))?;
            }
            Ok(meta) if meta.is_dir() => {
                std::fs::remove_dir_all(&path).map_err(io_error("remove", &path))?;
            }
            Ok(_) => std::fs::remove_file(&path).map_err(io_error("remove", &path))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("stat", &path)(e)),
        }
        std::os::unix::fs::symlink(&link_target, &path).map_err(io_error("symlink", &path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(entries: &[(&str, &str)]) -> BTreeMap<String, FileProjection> {
        entries
            .iter()
            .map(|(path, data)| {
                (
                    path.to_string(),
                    FileProjection {
                        data: data.as_bytes().to_vec(),
                        mode: 0o644,
                    },
                )
            })
            .collect()
    }

    fn timestamped_dirs(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("..") && n != DATA_DIR_NAME)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writer_publishes_files_through_data_link() {
        let dir = tempfile::tempdir().unwrap();
        let changed = write(dir.path(), &payload(&[("a", "1"), ("sub/b", "2")])).unwrap();
        assert!(changed);

        let data = std::fs::read_link(dir.path().join(DATA_DIR_NAME)).unwrap();
        assert!(data.to_string_lossy().starts_with(".."));
        assert_eq!(
            std::fs::read_link(dir.path().join("a")).unwrap(),
            Path::new("..data/a")
        );
        assert_eq!(
            std::fs::read_link(dir.path().join("sub")).unwrap(),
            Path::new("..data/sub")
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "1");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sub/b")).unwrap(),
            "2"
        );
        assert_eq!(timestamped_dirs(dir.path()).len(), 1);
    }

    #[test]
    fn writer_skips_unchanged_payload() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &payload(&[("a", "1")])).unwrap();
        let before = std::fs::read_link(dir.path().join(DATA_DIR_NAME)).unwrap();

        assert!(!write(dir.path(), &payload(&[("a", "1")])).unwrap());
        let after = std::fs::read_link(dir.path().join(DATA_DIR_NAME)).unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn writer_swaps_content_and_removes_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &payload(&[("a", "1"), ("gone", "x")])).unwrap();
        let first = timestamped_dirs(dir.path());

        assert!(write(dir.path(), &payload(&[("a", "2"), ("new", "y")])).unwrap());
        assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "2");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("new")).unwrap(),
            "y"
        );
        assert!(std::fs::symlink_metadata(dir.path().join("gone")).is_err());
        let second = timestamped_dirs(dir.path());
        assert_eq!(second.len(), 1);
        assert_ne!(first, second);
        assert!(std::fs::symlink_metadata(dir.path().join(NEW_DATA_DIR_NAME)).is_err());
    }

    #[test]
    fn writer_rewrites_on_mode_change() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &payload(&[("a", "1")])).unwrap();
        let mut private = payload(&[("a", "1")]);
        private.get_mut("a").unwrap().mode = 0o400;

        assert!(write(dir.path(), &private).unwrap());
        let mode = std::fs::metadata(dir.path().join("a"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o400);
    }

    #[test]
    fn writer_replaces_plain_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "old").unwrap();

        write(dir.path(), &payload(&[("a", "new")])).unwrap();
        assert!(
            std::fs::symlink_metadata(dir.path().join("a"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a")).unwrap(),
            "new"
        );
    }

    #[test]
    fn writer_empty_payload_removes_everything() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &payload(&[("a", "1")])).unwrap();

        assert!(write(dir.path(), &BTreeMap::new()).unwrap());
        assert!(std::fs::symlink_metadata(dir.path().join("a")).is_err());
        assert_eq!(timestamped_dirs(dir.path()).len(), 1);
    }

    #[test]
    fn writer_rejects_invalid_paths() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "/abs", "a//b", "../x", "a/..b", "..data", "a/"] {
            let result = write(dir.path(), &payload(&[(bad, "x")]));
            assert!(
                matches!(result, Err(WriteError::InvalidPath { .. })),
                "{bad:?} was accepted"
            );
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn utc_timestamp_format() {
        assert_eq!(format_utc(0), "1970_01_01_00_00_00");
        assert_eq!(format_utc(951_782_400), "2000_02_29_00_00_00");
        assert_eq!(format_utc(1_798_761_599), "2026_12_31_23_59_59");
    }
}
