//! System call names, numbers and the named groups a profile may use in
//! `[seccomp] allow` / `deny`. Pure data: the filter itself is built by the
//! executor from the plan.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::SYSCALLS;

#[cfg(not(target_arch = "x86_64"))]
pub const SYSCALLS: &[(&str, u32)] = &[];

/// A named set of system calls: `@name` in a profile.
pub struct Group {
    pub name: &'static str,
    pub why: &'static str,
    pub members: &'static [&'static str],
}

/// Every group, documented in docs/seccomp.md (kept in sync by a test).
pub const GROUPS: &[Group] = &[
    Group {
        name: "@keyring",
        why: "the kernel keyring is not namespaced: keys leak between sandboxes and the host",
        members: &["add_key", "request_key", "keyctl"],
    },
    Group {
        name: "@bpf",
        why: "loading BPF programs is a large kernel attack surface",
        members: &["bpf"],
    },
    Group {
        name: "@perf",
        why: "performance counters leak information about other processes and have a history of exploits",
        members: &["perf_event_open"],
    },
    Group {
        name: "@kexec",
        why: "replacing the running kernel",
        members: &["kexec_load", "kexec_file_load"],
    },
    Group {
        name: "@module",
        why: "loading and unloading kernel modules",
        members: &["init_module", "finit_module", "delete_module"],
    },
    Group {
        name: "@reboot",
        why: "rebooting or halting the machine",
        members: &["reboot"],
    },
    Group {
        name: "@swap",
        why: "enabling and disabling swap",
        members: &["swapon", "swapoff"],
    },
    Group {
        name: "@mount",
        why: "changing the mount table: the sandbox's filesystem view is fixed by the profile",
        members: &[
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "move_mount",
            "open_tree",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
        ],
    },
    Group {
        name: "@raw-io",
        why: "direct access to I/O ports",
        members: &["ioperm", "iopl"],
    },
    Group {
        name: "@clock",
        why: "setting the system clock, which is not namespaced",
        members: &["settimeofday", "clock_settime", "clock_adjtime", "adjtimex"],
    },
    Group {
        name: "@obsolete",
        why: "system calls no current program uses; kept out to shrink the attack surface",
        members: &[
            "uselib",
            "ustat",
            "sysfs",
            "_sysctl",
            "nfsservctl",
            "getpmsg",
            "putpmsg",
            "afs_syscall",
            "tuxcall",
            "security",
            "vserver",
            "lookup_dcookie",
        ],
    },
    Group {
        name: "@cpu-emulation",
        why: "changing the local descriptor table, used only by emulators",
        members: &["modify_ldt"],
    },
    Group {
        name: "@io-uring",
        why: "io_uring performs system calls the seccomp filter never sees",
        members: &["io_uring_setup", "io_uring_enter", "io_uring_register"],
    },
    Group {
        name: "@privileged",
        why: "administration of the host: accounting, quotas, file handles that bypass path checks, the kernel log",
        members: &[
            "acct",
            "quotactl",
            "quotactl_fd",
            "open_by_handle_at",
            "name_to_handle_at",
            "syslog",
            "vhangup",
        ],
    },
    Group {
        name: "@userfaultfd",
        why: "userfaultfd makes kernel race conditions easy to win",
        members: &["userfaultfd"],
    },
    Group {
        name: "@debug",
        why: "tracing and reading other processes' memory (not in the default deny list: a pid namespace already hides the host's processes)",
        members: &[
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "pidfd_getfd",
            "kcmp",
        ],
    },
    Group {
        name: "@namespaces",
        why: "creating or joining namespaces (unshare and setns are checked by argument in the default policy)",
        members: &["unshare", "setns"],
    },
];

/// Groups denied by `policy = "default"`.
pub const DEFAULT_DENY: &[&str] = &[
    "@keyring",
    "@bpf",
    "@perf",
    "@kexec",
    "@module",
    "@reboot",
    "@swap",
    "@mount",
    "@raw-io",
    "@clock",
    "@obsolete",
    "@cpu-emulation",
    "@io-uring",
    "@privileged",
    "@userfaultfd",
];

/// A system call the plan names: its number on this architecture (for the
/// filter) and its name (for the printed plan). Made only from the table,
/// so the two always agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syscall {
    nr: u32,
    name: &'static str,
}

impl Syscall {
    /// None for a name this architecture has no call of.
    pub fn named(name: &str) -> Option<Syscall> {
        SYSCALLS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(name, nr)| Syscall { nr, name })
    }

    pub fn nr(self) -> u32 {
        self.nr
    }

    pub fn name(self) -> &'static str {
        self.name
    }
}

impl std::fmt::Display for Syscall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// As its name: the JSON plan lists syscalls by name, as before numbers.
impl serde::Serialize for Syscall {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

pub fn number(name: &str) -> Option<u32> {
    SYSCALLS.iter().find(|(n, _)| *n == name).map(|(_, nr)| *nr)
}

pub fn group(name: &str) -> Option<&'static Group> {
    GROUPS.iter().find(|g| g.name == name)
}

/// Every name a profile may write: syscalls and `@groups`.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    SYSCALLS
        .iter()
        .map(|(n, _)| *n)
        .chain(GROUPS.iter().map(|g| g.name))
}

/// The syscalls a name stands for: itself, or a group's members (those
/// this architecture has); None for a name that is neither.
pub fn expand(name: &str) -> Option<Vec<Syscall>> {
    match group(name) {
        Some(g) => Some(g.members.iter().filter_map(|m| Syscall::named(m)).collect()),
        None => Syscall::named(name).map(|s| vec![s]),
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn every_group_member_is_a_known_syscall() {
        for g in GROUPS {
            for m in g.members {
                assert!(number(m).is_some(), "{} lists unknown syscall {m}", g.name);
            }
        }
        for d in DEFAULT_DENY {
            assert!(group(d).is_some(), "default deny names unknown group {d}");
        }
    }

    #[test]
    fn numbers_match_libc() {
        assert_eq!(number("read"), Some(libc::SYS_read as u32));
        assert_eq!(number("clone3"), Some(libc::SYS_clone3 as u32));
        assert_eq!(
            number("mount_setattr"),
            Some(libc::SYS_mount_setattr as u32)
        );
        assert_eq!(number("nonsense"), None);
        let chmod = Syscall::named("chmod").unwrap();
        assert_eq!(
            (chmod.nr(), chmod.name()),
            (libc::SYS_chmod as u32, "chmod")
        );
        assert_eq!(Syscall::named("nonsense"), None);
    }
}
