//! Unpacks one layer tar (plain, gzip or zstd) into a directory that overlayfs can use as
//! a lower layer. OCI whiteouts become overlay whiteouts: `.wh.NAME` turns into a 0/0
//! character device `NAME`, and `.wh..wh..opq` sets `trusted.overlay.opaque=y` on its
//! directory. Owners, modes, modification times, symlinks, hardlinks, FIFOs and
//! `SCHILY.xattr.*` attributes are kept; device nodes are created when the kernel allows
//! it (root) and skipped otherwise. Entry point: [`unpack_layer`].
//!
//! NOTE: each layer is unpacked on its own, not on top of the layers below it. A layer
//! that writes through a symlink of a lower layer (`lib/x` with `lib -> usr/lib` below)
//! gets a real `lib` directory that hides the symlink, and a hardlink to a lower layer's
//! file fails to unpack. containerd applies each layer onto the mounted view of its
//! parents instead. Image builders write
//! the resolved path (`usr/lib/x`), so common images are not affected.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, Timespec, Timestamps};

use super::digest::{Digest, DigestReader};
use super::manifest::Compression;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";
const PAX_XATTR_PREFIX: &str = "SCHILY.xattr.";

/// Result of unpacking a layer, for logs and the diff-id check.
#[derive(Debug)]
pub struct UnpackSummary {
    /// SHA-256 of the uncompressed tar stream (the layer's diff id).
    pub diff_id: Digest,
    pub entries: u64,
    pub skipped_devices: u64,
}

/// Unpacks the layer blob at `blob` into the existing empty directory `target`.
///
/// # Errors
/// A message naming the entry that failed: unsafe paths (`..`, absolute hardlink
/// targets), a parent that is a symlink, I/O errors, or a broken tar stream.
pub fn unpack_layer(blob: &Path, target: &Path) -> Result<UnpackSummary, String> {
    let mut file = fs::File::open(blob).map_err(|e| format!("opening {}: {e}", blob.display()))?;
    let mut head = [0u8; 4];
    let head_len = read_head(&mut file, &mut head).map_err(|e| format!("reading blob: {e}"))?;
    let file = io::Cursor::new(head[..head_len].to_vec()).chain(file);
    let compressed = BufReader::new(file);

    let decompressed: Box<dyn Read> = match Compression::sniff(&head[..head_len]) {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(compressed)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(compressed)
                .map_err(|e| format!("starting zstd decoder: {e}"))?,
        ),
        Compression::None => Box::new(compressed),
    };
    let mut hashed = DigestReader::new(decompressed);
    let mut summary = UnpackSummary {
        diff_id: Digest::of(b""),
        entries: 0,
        skipped_devices: 0,
    };
    let mut directory_times = Vec::new();
    {
        let mut archive = tar::Archive::new(&mut hashed);
        let entries = archive
            .entries()
            .map_err(|e| format!("reading tar stream: {e}"))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("reading tar entry: {e}"))?;
            let raw_path = entry
                .path()
                .map_err(|e| format!("reading tar entry path: {e}"))?
                .into_owned();
            unpack_entry(
                target,
                &mut entry,
                &raw_path,
                &mut summary,
                &mut directory_times,
            )
            .map_err(|e| format!("entry {}: {e}", raw_path.display()))?;
            summary.entries += 1;
        }
    }
    let (diff_id, _) = hashed
        .finish()
        .map_err(|e| format!("reading the end of the tar stream: {e}"))?;
    summary.diff_id = diff_id;

    for (path, mtime) in directory_times.into_iter().rev() {
        set_times(&path, mtime).map_err(|e| format!("setting times of {}: {e}", path.display()))?;
    }
    Ok(summary)
}

fn read_head(file: &mut fs::File, head: &mut [u8; 4]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Turns an entry path into a relative path of normal components, rejecting `..`.
fn clean_path(raw: &Path) -> io::Result<PathBuf> {
    let mut clean = PathBuf::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "path leaves the layer root with '..'",
                ));
            }
        }
    }
    Ok(clean)
}

/// Creates the parent directories of `relative` under `root`, refusing to pass through
/// a symlink so a layer cannot write outside `root`.
fn prepare_parent(root: &Path, relative: &Path) -> io::Result<PathBuf> {
    let mut current = root.to_path_buf();
    if let Some(parent) = relative.parent() {
        for part in parent.components() {
            current.push(part);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("parent {} is not a directory", current.display()),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir(&current)?;
                    fs::set_permissions(&current, fs::Permissions::from_mode(0o755))?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(root.join(relative))
}

/// Checks that no parent of `relative` under `root` is a symlink, so that a path the
/// kernel resolves (a hardlink source) stays inside `root`.
fn check_parents(root: &Path, relative: &Path) -> io::Result<()> {
    let mut current = root.to_path_buf();
    if let Some(parent) = relative.parent() {
        for part in parent.components() {
            current.push(part);
            if !fs::symlink_metadata(&current)?.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("parent {} is not a directory", current.display()),
                ));
            }
        }
    }
    Ok(())
}

/// Removes whatever is at `path` unless it is a directory and `keep_dir` is set.
fn remove_existing(path: &Path, keep_dir: bool) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            if keep_dir {
                Ok(())
            } else {
                fs::remove_dir_all(path)
            }
        }
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn unpack_entry<R: Read>(
    root: &Path,
    entry: &mut tar::Entry<'_, R>,
    raw_path: &Path,
    summary: &mut UnpackSummary,
    directory_times: &mut Vec<(PathBuf, u64)>,
) -> io::Result<()> {
    let relative = clean_path(raw_path)?;
    if relative.as_os_str().is_empty() {
        return Ok(());
    }
    let name = relative.file_name().unwrap_or_default();
    let path = prepare_parent(root, &relative)?;

    if name == OsStr::new(OPAQUE_WHITEOUT) {
        let directory = path.parent().unwrap_or(root);
        return rustix::fs::lsetxattr(
            directory,
            OVERLAY_OPAQUE_XATTR,
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .map_err(io::Error::from);
    }
    if let Some(hidden) = name.as_bytes().strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
        let whiteout = path.with_file_name(OsStr::from_bytes(hidden));
        remove_existing(&whiteout, false)?;
        return rustix::fs::mknodat(
            rustix::fs::CWD,
            &whiteout,
            FileType::CharacterDevice,
            Mode::empty(),
            0,
        )
        .map_err(io::Error::from);
    }

    let header = entry.header();
    let entry_type = header.entry_type();
    let mode = header.mode()? & 0o7777;
    let uid = header.uid().unwrap_or(0);
    let gid = header.gid().unwrap_or(0);
    let mtime = header.mtime().unwrap_or(0);

    match entry_type {
        tar::EntryType::Directory => {
            remove_existing(&path, true)?;
            if !path.exists() {
                fs::create_dir(&path)?;
            }
            directory_times.push((path.clone(), mtime));
        }
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            remove_existing(&path, false)?;
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
            io::copy(entry, &mut file)?;
        }
        tar::EntryType::Symlink => {
            let target = entry
                .link_name()?
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "symlink without target")
                })?
                .into_owned();
            remove_existing(&path, false)?;
            symlink(&target, &path)?;
        }
        tar::EntryType::Link => {
            let target = entry
                .link_name()?
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "hardlink without target")
                })?
                .into_owned();
            let source_relative = clean_path(&target)?;
            check_parents(root, &source_relative)?;
            let source = root.join(source_relative);
            let source_meta = fs::symlink_metadata(&source)?;
            if source_meta.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("hardlink to directory {}", target.display()),
                ));
            }
            remove_existing(&path, false)?;
            fs::hard_link(&source, &path)?;
            return Ok(());
        }
        tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
            let file_type = match entry_type {
                tar::EntryType::Char => FileType::CharacterDevice,
                tar::EntryType::Block => FileType::BlockDevice,
                _ => FileType::Fifo,
            };
            // FIFOs have no device numbers, and writers often leave those fields blank.
            let device = if file_type == FileType::Fifo {
                0
            } else {
                rustix::fs::makedev(
                    header.device_major()?.unwrap_or(0),
                    header.device_minor()?.unwrap_or(0),
                )
            };
            remove_existing(&path, false)?;
            match rustix::fs::mknodat(
                rustix::fs::CWD,
                &path,
                file_type,
                Mode::from_raw_mode(mode),
                device,
            ) {
                Ok(()) => {}
                Err(rustix::io::Errno::PERM) if file_type != FileType::Fifo => {
                    tracing::debug!(path = %path.display(), "skipping device node: not permitted");
                    summary.skipped_devices += 1;
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => return Ok(()),
        other => {
            tracing::debug!(path = %path.display(), entry_type = ?other, "skipping tar entry of unsupported type");
            return Ok(());
        }
    }

    apply_xattrs(entry, &path)?;
    rustix::fs::chownat(
        rustix::fs::CWD,
        &path,
        Some(rustix::fs::Uid::from_raw(uid as u32)),
        Some(rustix::fs::Gid::from_raw(gid as u32)),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io::Error::from)?;
    if entry_type != tar::EntryType::Symlink {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
    }
    if entry_type != tar::EntryType::Directory {
        set_times(&path, mtime)?;
    }
    Ok(())
}

fn apply_xattrs<R: Read>(entry: &mut tar::Entry<'_, R>, path: &Path) -> io::Result<()> {
    let Some(extensions) = entry.pax_extensions()? else {
        return Ok(());
    };
    for extension in extensions {
        let extension = extension?;
        let Ok(key) = extension.key() else { continue };
        if let Some(name) = key.strip_prefix(PAX_XATTR_PREFIX) {
            rustix::fs::lsetxattr(
                path,
                name,
                extension.value_bytes(),
                rustix::fs::XattrFlags::empty(),
            )
            .map_err(|e| io::Error::other(format!("setting xattr {name}: {e}")))?;
        }
    }
    Ok(())
}

fn set_times(path: &Path, mtime: u64) -> io::Result<()> {
    let time = Timespec {
        tv_sec: mtime as i64,
        tv_nsec: 0,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &Timestamps {
            last_access: time,
            last_modification: time,
        },
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_rejects_parent() {
        assert!(clean_path(Path::new("a/../../etc")).is_err());
        assert_eq!(
            clean_path(Path::new("/./a/b")).unwrap(),
            PathBuf::from("a/b")
        );
    }

    #[test]
    fn unpack_rejects_hardlink_through_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), b"host file").unwrap();

        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_mode(0o777);
        builder
            .append_link(&mut header, "escape", outside.to_str().unwrap())
            .unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Link);
        header.set_size(0);
        header.set_mode(0o644);
        builder
            .append_link(&mut header, "stolen", "escape/secret")
            .unwrap();
        let blob = dir.path().join("layer.tar");
        fs::write(&blob, builder.into_inner().unwrap()).unwrap();
        let target = dir.path().join("fs");
        fs::create_dir(&target).unwrap();

        let err = unpack_layer(&blob, &target).unwrap_err();
        assert!(err.contains("entry stolen"), "{err}");
        assert!(!target.join("stolen").exists());
    }

    #[test]
    fn unpack_rejects_symlink_escape() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_mode(0o777);
        builder.append_link(&mut header, "escape", "/tmp").unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, "escape/file", &b"x"[..])
            .unwrap();
        let blob = dir.path().join("layer.tar");
        fs::write(&blob, builder.into_inner().unwrap()).unwrap();
        let target = dir.path().join("fs");
        fs::create_dir(&target).unwrap();

        let err = unpack_layer(&blob, &target).unwrap_err();
        assert!(err.contains("escape/file"), "{err}");
        assert!(err.contains("not a directory"), "{err}");
    }
}
