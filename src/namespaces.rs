//! The namespace kinds: the vocabulary the profile's `[namespaces]`, the
//! plan and the executor share (a leaf: it imports nothing of the crate).

/// The namespace kinds, in the order they are listed and joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NsKind {
    User,
    Mount,
    Pid,
    Ipc,
    Uts,
    Net,
    Cgroup,
    Time,
}

impl NsKind {
    pub const ALL: [NsKind; 8] = [
        NsKind::User,
        NsKind::Mount,
        NsKind::Pid,
        NsKind::Ipc,
        NsKind::Uts,
        NsKind::Net,
        NsKind::Cgroup,
        NsKind::Time,
    ];
    pub fn key(self) -> &'static str {
        match self {
            NsKind::User => "user",
            NsKind::Mount => "mount",
            NsKind::Pid => "pid",
            NsKind::Ipc => "ipc",
            NsKind::Uts => "uts",
            NsKind::Net => "net",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }
    /// The flag that makes (clone, unshare) or joins (setns) a namespace
    /// of this kind.
    pub fn clone_flag(self) -> nix::sched::CloneFlags {
        use nix::sched::CloneFlags as F;
        match self {
            NsKind::User => F::CLONE_NEWUSER,
            NsKind::Mount => F::CLONE_NEWNS,
            NsKind::Pid => F::CLONE_NEWPID,
            NsKind::Ipc => F::CLONE_NEWIPC,
            NsKind::Uts => F::CLONE_NEWUTS,
            NsKind::Net => F::CLONE_NEWNET,
            NsKind::Cgroup => F::CLONE_NEWCGROUP,
            NsKind::Time => F::from_bits_retain(libc::CLONE_NEWTIME),
        }
    }
    /// The file under /proc/PID/ns/ for this kind.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsKind::Mount => "mnt",
            other => other.key(),
        }
    }
    /// Why a namespace of this kind cannot be kept by binding its file
    /// (`[namespaces] keep`), if it cannot.
    pub fn unkeepable(self) -> Option<&'static str> {
        match self {
            NsKind::Pid => Some(
                "a pid namespace ends with its PID 1: its file can be kept, but nothing can start in it after the sandbox ends (fork fails)",
            ),
            NsKind::Cgroup | NsKind::Time => Some(
                "the sandbox makes this namespace after the launcher binds the others (the child, once it is in its cgroup; the init, for the time namespace): a bound file would hold the host's",
            ),
            _ => None,
        }
    }
    /// Whether the profile format turns this namespace on when nothing is
    /// said. Time is off: few applications need it and it costs a fork.
    pub fn default_new(self) -> bool {
        self != NsKind::Time
    }
}
