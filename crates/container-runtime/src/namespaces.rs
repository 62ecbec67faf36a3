//! Pinned namespaces: the pod sandbox's network, IPC and UTS namespaces, kept alive by
//! bind mounts instead of a pause process.
//!
//! A short-lived thread unshares the namespaces, sets the pod hostname, and bind-mounts
//! `/proc/self/task/<tid>/ns/{net,ipc,uts}` onto files in the sandbox's state directory.
//! The namespaces live as long as those mounts; containers join them by path. A PID
//! namespace cannot be kept this way, so pods that share one get an init (see `pod_init`).

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;

use crate::error::{Error, Result};
use crate::store::PinnedNamespaces;

/// The set of namespaces to create; the others stay the host's.
#[derive(Clone, Copy, Debug)]
pub struct NamespaceRequest {
    pub net: bool,
    pub ipc: bool,
    pub uts: bool,
}

/// Creates the requested namespaces, pinned as files under `dir`, and sets `hostname`
/// in a new UTS namespace. On error nothing stays mounted.
pub fn pin(dir: &Path, request: NamespaceRequest, hostname: &str) -> Result<PinnedNamespaces> {
    std::fs::create_dir_all(dir).map_err(Error::io("failed to create", dir))?;
    let dir = dir.to_path_buf();
    let hostname = hostname.to_string();

    // unshare(2) changes only the calling thread, so a throwaway thread keeps the
    // daemon's own threads in the host namespaces.
    std::thread::spawn(move || pin_in_thread(&dir, request, &hostname))
        .join()
        .map_err(|_| Error::Internal("namespace thread panicked".to_string()))?
}

fn pin_in_thread(
    dir: &Path,
    request: NamespaceRequest,
    hostname: &str,
) -> Result<PinnedNamespaces> {
    let mut flags = CloneFlags::empty();
    let mut kinds = Vec::new();
    if request.net {
        flags |= CloneFlags::CLONE_NEWNET;
        kinds.push("net");
    }
    if request.ipc {
        flags |= CloneFlags::CLONE_NEWIPC;
        kinds.push("ipc");
    }
    if request.uts {
        flags |= CloneFlags::CLONE_NEWUTS;
        kinds.push("uts");
    }
    nix::sched::unshare(flags)
        .map_err(|errno| Error::Internal(format!("unshare({flags:?}) failed: {errno}")))?;
    if request.uts && !hostname.is_empty() {
        nix::unistd::sethostname(hostname).map_err(|errno| {
            Error::InvalidArgument(format!("failed to set hostname {hostname:?}: {errno}"))
        })?;
    }

    let tid = nix::unistd::gettid();
    let mut pinned = PinnedNamespaces::default();
    for kind in kinds {
        let source = PathBuf::from(format!("/proc/self/task/{tid}/ns/{kind}"));
        let target = dir.join(kind);
        if let Err(error) = bind_file(&source, &target) {
            unpin(&pinned);
            return Err(error);
        }
        match kind {
            "net" => pinned.net = Some(target),
            "ipc" => pinned.ipc = Some(target),
            _ => pinned.uts = Some(target),
        }
    }
    Ok(pinned)
}

fn bind_file(source: &Path, target: &Path) -> Result<()> {
    std::fs::File::create(target).map_err(Error::io("failed to create", target))?;
    nix::mount::mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|errno| {
        let _ = std::fs::remove_file(target);
        Error::Internal(format!(
            "failed to bind {} to {}: {errno}",
            source.display(),
            target.display()
        ))
    })
}

/// Unmounts and deletes pinned namespace files; missing ones are fine. Errors are logged
/// because a caller tearing down a sandbox should go on with the rest.
pub fn unpin(pinned: &PinnedNamespaces) {
    for path in [&pinned.net, &pinned.ipc, &pinned.uts]
        .into_iter()
        .flatten()
    {
        unpin_one(path);
    }
}

/// Unmounts and deletes one pinned namespace file.
pub fn unpin_one(path: &Path) {
    if let Err(error) = unmount(path) {
        tracing::warn!(path = %path.display(), %error, "failed to unmount namespace");
    }
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %error, "failed to remove namespace file");
    }
}

/// Size of a pod's /dev/shm: 64 MiB, the default of containerd's CRI plugin and of
/// dockershim.
const SHM_SIZE: &str = "64m";

/// Mounts a pod's /dev/shm tmpfs at `dir`, which every container of the pod then binds
/// at /dev/shm. Containers of a pod share the IPC namespace, so they share POSIX shared
/// memory too.
pub fn mount_shm(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(Error::io("failed to create", dir))?;
    let options = format!("mode=1777,size={SHM_SIZE}");
    nix::mount::mount(
        Some("shm"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(options.as_str()),
    )
    .map_err(|errno| {
        Error::Internal(format!(
            "failed to mount tmpfs at {}: {errno}",
            dir.display()
        ))
    })?;
    Ok(dir.to_path_buf())
}

/// Unmounts and deletes a pod's /dev/shm. Errors are logged, like [`unpin`].
pub fn unmount_shm(dir: &Path) {
    if let Err(error) = unmount(dir) {
        tracing::warn!(path = %dir.display(), %error, "failed to unmount /dev/shm");
    }
    if let Err(error) = std::fs::remove_dir(dir)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %dir.display(), %error, "failed to remove /dev/shm directory");
    }
}

/// Lazily unmounts `path`; a path that is not a mount point or does not exist is fine.
pub fn unmount(path: &Path) -> Result<()> {
    match nix::mount::umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(errno) => Err(Error::Internal(format!(
            "failed to unmount {}: {errno}",
            path.display()
        ))),
    }
}

/// Reports whether `path` is a pinned namespace (an nsfs mount), which stops being true
/// after a reboot wipes the mounts.
pub fn is_pinned(path: &Path) -> bool {
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    nix::sys::statfs::statfs(path)
        .map(|stat| stat.filesystem_type().0 == NSFS_MAGIC)
        .unwrap_or(false)
}
