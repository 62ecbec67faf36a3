//! Seccomp filters for containers: turns the CRI security context's seccomp choice
//! into the OCI spec's `linux.seccomp`.
//!
//! Entry point: [`seccomp_profile`]. `RuntimeDefault` maps to [`default_profile`], an
//! allow list with the same effect as containerd 1.6's default, as read from the spec
//! that containerd 1.6.20 writes. Unlisted syscalls fail with EPERM. `clone3` fails with
//! ENOSYS so that libc falls back to `clone`. A few syscalls are allowed only with the
//! capability that guards them.

use std::path::Path;

use cri::v1;
use oci_spec::runtime::{
    Arch, Capabilities, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg,
    LinuxSeccompArgBuilder, LinuxSeccompOperator, LinuxSyscall,
};

use crate::error::{Error, Result};

/// Syscalls every container may call under the default profile.
const ALLOWED_SYSCALLS: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socket",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// Syscalls allowed only when the capability that guards them is in the bounding set.
// NOTE: only the rules for the default capability set were compared with containerd
// 1.6.20's output. The lists for added capabilities are an estimate of its rules.
const CAPABILITY_SYSCALLS: &[(Capability, &[&str])] = &[
    (Capability::DacReadSearch, &["open_by_handle_at"]),
    (
        Capability::SysAdmin,
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "mount",
            "mount_setattr",
            "move_mount",
            "name_to_handle_at",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "umount",
            "umount2",
            "unshare",
        ],
    ),
    (Capability::SysBoot, &["reboot"]),
    (Capability::SysChroot, &["chroot"]),
    (
        Capability::SysModule,
        &["delete_module", "init_module", "finit_module"],
    ),
    (Capability::SysPacct, &["acct"]),
    (
        Capability::SysPtrace,
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
        ],
    ),
    (Capability::SysRawio, &["iopl", "ioperm"]),
    (
        Capability::SysTime,
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    (Capability::SysTtyConfig, &["vhangup"]),
    (
        Capability::SysNice,
        &["get_mempolicy", "mbind", "set_mempolicy"],
    ),
];

/// `personality(2)` arguments the default profile allows: PER_LINUX, PER_LINUX32,
/// UNAME26, UNAME26 | PER_LINUX32 and the query value 0xffffffff.
const ALLOWED_PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// Namespace flags of `clone(2)` that need CAP_SYS_ADMIN: NEWNS, NEWUTS, NEWIPC,
/// NEWUSER, NEWPID, NEWNET and NEWCGROUP.
const CLONE_NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

/// Picks the container's seccomp filter from its security context. Returns `None`
/// for unconfined and privileged containers.
///
/// The `seccomp` field wins over the deprecated `seccomp_profile_path`. When neither
/// is set the container runs unconfined, as the CRI defines it. A `Localhost`
/// profile is read from the absolute path in the request, in the OCI
/// `linux.seccomp` JSON form. Errors are [`Error::InvalidArgument`] for an unknown
/// profile name, a relative path or a file that cannot be read or parsed.
// The deprecated `seccomp_profile_path` is what kubelets before 1.19 send.
#[allow(deprecated)]
pub fn seccomp_profile(
    security: &v1::LinuxContainerSecurityContext,
    bounding: &Capabilities,
) -> Result<Option<LinuxSeccomp>> {
    if security.privileged {
        return Ok(None);
    }
    if let Some(profile) = &security.seccomp {
        return match v1::security_profile::ProfileType::try_from(profile.profile_type) {
            Ok(v1::security_profile::ProfileType::RuntimeDefault) => {
                Ok(Some(default_profile(bounding)))
            }
            Ok(v1::security_profile::ProfileType::Unconfined) => Ok(None),
            Ok(v1::security_profile::ProfileType::Localhost) => {
                load_profile(&profile.localhost_ref).map(Some)
            }
            Err(_) => Err(Error::InvalidArgument(format!(
                "invalid seccomp profile type {}: expected RuntimeDefault, Unconfined or Localhost",
                profile.profile_type
            ))),
        };
    }
    match security.seccomp_profile_path.as_str() {
        "" | "unconfined" => Ok(None),
        "runtime/default" | "docker/default" => Ok(Some(default_profile(bounding))),
        path => match path.strip_prefix("localhost/") {
            Some(file) => load_profile(file).map(Some),
            None => Err(Error::InvalidArgument(format!(
                "invalid seccomp profile path {path:?}: expected runtime/default, unconfined or localhost/<path>"
            ))),
        },
    }
}

/// Builds the default filter for a container with the given bounding capabilities.
pub fn default_profile(bounding: &Capabilities) -> LinuxSeccomp {
    let mut syscalls = vec![allow(ALLOWED_SYSCALLS, Vec::new())];
    for value in ALLOWED_PERSONALITIES {
        syscalls.push(allow(
            &["personality"],
            vec![argument(0, *value, None, LinuxSeccompOperator::ScmpCmpEq)],
        ));
    }
    // Since Linux 4.8 seccomp filters the tracee's syscalls after ptrace changes
    // them, so ptrace cannot bypass the filter.
    syscalls.push(allow(&["ptrace"], Vec::new()));
    if cfg!(target_arch = "x86_64") {
        syscalls.push(allow(&["arch_prctl", "modify_ldt"], Vec::new()));
    }
    for (capability, names) in CAPABILITY_SYSCALLS {
        if bounding.contains(capability) {
            syscalls.push(allow(names, Vec::new()));
        }
    }
    if !bounding.contains(&Capability::SysAdmin) {
        // Plain clone is fine as long as it makes no namespace. clone3 passes its
        // flags in memory, which seccomp cannot inspect, so it reports ENOSYS and
        // libc retries with clone.
        syscalls.push(allow(
            &["clone"],
            vec![argument(
                0,
                CLONE_NAMESPACE_FLAGS,
                Some(0),
                LinuxSeccompOperator::ScmpCmpMaskedEq,
            )],
        ));
        let mut clone3 = LinuxSyscall::default();
        clone3.set_names(vec!["clone3".to_string()]);
        clone3.set_action(LinuxSeccompAction::ScmpActErrno);
        clone3.set_errno_ret(Some(libc::ENOSYS as u32));
        syscalls.push(clone3);
    }

    let mut profile = LinuxSeccomp::default();
    profile.set_default_action(LinuxSeccompAction::ScmpActErrno);
    profile.set_default_errno_ret(Some(libc::EPERM as u32));
    profile.set_architectures(Some(architectures()));
    profile.set_syscalls(Some(syscalls));
    profile
}

/// Architectures the filter covers: the native one plus its 32-bit ABIs, so that a
/// 32-bit binary cannot bypass the filter.
fn architectures() -> Vec<Arch> {
    if cfg!(target_arch = "x86_64") {
        vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
    } else if cfg!(target_arch = "aarch64") {
        vec![Arch::ScmpArchArm, Arch::ScmpArchAarch64]
    } else {
        Vec::new()
    }
}

fn allow(names: &[&str], args: Vec<LinuxSeccompArg>) -> LinuxSyscall {
    let mut syscall = LinuxSyscall::default();
    syscall.set_names(names.iter().map(|name| name.to_string()).collect());
    syscall.set_action(LinuxSeccompAction::ScmpActAllow);
    if !args.is_empty() {
        syscall.set_args(Some(args));
    }
    syscall
}

fn argument(
    index: usize,
    value: u64,
    value_two: Option<u64>,
    op: LinuxSeccompOperator,
) -> LinuxSeccompArg {
    let mut builder = LinuxSeccompArgBuilder::default()
        .index(index)
        .value(value)
        .op(op);
    if let Some(value_two) = value_two {
        builder = builder.value_two(value_two);
    }
    builder
        .build()
        .expect("a seccomp argument with every field set always builds")
}

/// Reads a `Localhost` profile: a JSON file in the OCI `linux.seccomp` form.
fn load_profile(path: &str) -> Result<LinuxSeccomp> {
    if !Path::new(path).is_absolute() {
        return Err(Error::InvalidArgument(format!(
            "invalid localhost seccomp profile {path:?}: the path must be absolute"
        )));
    }
    let bytes = std::fs::read(path).map_err(|error| {
        Error::InvalidArgument(format!(
            "failed to read localhost seccomp profile {path}: {error}"
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|error| {
        Error::InvalidArgument(format!("invalid localhost seccomp profile {path}: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(deprecated)]
    fn context(
        seccomp: Option<v1::SecurityProfile>,
        path: &str,
    ) -> v1::LinuxContainerSecurityContext {
        v1::LinuxContainerSecurityContext {
            seccomp,
            seccomp_profile_path: path.to_string(),
            ..Default::default()
        }
    }

    fn profile(
        kind: v1::security_profile::ProfileType,
        localhost_ref: &str,
    ) -> Option<v1::SecurityProfile> {
        Some(v1::SecurityProfile {
            profile_type: kind as i32,
            localhost_ref: localhost_ref.to_string(),
        })
    }

    fn allowed(filter: &LinuxSeccomp, name: &str) -> bool {
        filter.syscalls().iter().flatten().any(|rule| {
            rule.action() == LinuxSeccompAction::ScmpActAllow
                && rule.args().is_none()
                && rule.names().iter().any(|n| n == name)
        })
    }

    #[test]
    fn profile_selection() {
        use v1::security_profile::ProfileType;
        let none = Capabilities::new();
        let cases = [
            (context(None, ""), false),
            (context(None, "unconfined"), false),
            (context(None, "runtime/default"), true),
            (context(None, "docker/default"), true),
            (context(profile(ProfileType::RuntimeDefault, ""), ""), true),
            (
                context(profile(ProfileType::Unconfined, ""), "runtime/default"),
                false,
            ),
        ];
        for (security, confined) in cases {
            let result = seccomp_profile(&security, &none).unwrap();
            assert_eq!(result.is_some(), confined, "{security:?}");
        }

        let mut privileged = context(profile(ProfileType::RuntimeDefault, ""), "");
        privileged.privileged = true;
        assert!(seccomp_profile(&privileged, &none).unwrap().is_none());
    }

    #[test]
    fn invalid_profiles_are_rejected() {
        use v1::security_profile::ProfileType;
        let none = Capabilities::new();
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{not json").unwrap();
        let cases = [
            context(None, "apparmor/whatever"),
            context(profile(ProfileType::Localhost, "relative.json"), ""),
            context(
                profile(ProfileType::Localhost, "/nonexistent/profile.json"),
                "",
            ),
            context(
                profile(ProfileType::Localhost, broken.to_str().unwrap()),
                "",
            ),
            context(
                Some(v1::SecurityProfile {
                    profile_type: 7,
                    localhost_ref: String::new(),
                }),
                "",
            ),
        ];
        for security in cases {
            let error = seccomp_profile(&security, &none).unwrap_err();
            assert!(
                matches!(error, Error::InvalidArgument(_)),
                "{security:?}: {error}"
            );
        }
    }

    #[test]
    fn localhost_profile_is_loaded() {
        use v1::security_profile::ProfileType;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deny-mkdir.json");
        std::fs::write(
            &path,
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
        )
        .unwrap();
        let by_field = context(profile(ProfileType::Localhost, path.to_str().unwrap()), "");
        let by_path = context(None, &format!("localhost/{}", path.display()));
        for security in [by_field, by_path] {
            let filter = seccomp_profile(&security, &Capabilities::new())
                .unwrap()
                .unwrap();
            assert_eq!(filter.default_action(), LinuxSeccompAction::ScmpActAllow);
            let rules = filter.syscalls().clone().unwrap();
            assert_eq!(rules.len(), 1);
            assert_eq!(rules[0].errno_ret(), Some(13));
        }
    }

    #[test]
    fn default_profile_follows_capabilities() {
        let plain: Capabilities = [Capability::Chown, Capability::SysChroot].into();
        let filter = default_profile(&plain);
        assert_eq!(filter.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(filter.default_errno_ret(), Some(libc::EPERM as u32));
        assert!(allowed(&filter, "read"));
        assert!(allowed(&filter, "chroot"));
        assert!(!allowed(&filter, "unshare"));
        assert!(!allowed(&filter, "mount"));
        assert!(
            !allowed(&filter, "clone"),
            "clone is allowed only without namespace flags"
        );
        let clone3 = filter
            .syscalls()
            .iter()
            .flatten()
            .find(|rule| rule.names() == &["clone3".to_string()])
            .expect("a clone3 rule");
        assert_eq!(clone3.errno_ret(), Some(libc::ENOSYS as u32));

        let admin: Capabilities = [Capability::SysAdmin].into();
        let filter = default_profile(&admin);
        assert!(allowed(&filter, "unshare"));
        assert!(allowed(&filter, "clone"));
        assert!(allowed(&filter, "clone3"));
        assert!(!allowed(&filter, "chroot"));
    }
}
