//! The plan: what the executor will do, in order, each step with the
//! profile line it came from. Built by a pure function ([`compile`]) from
//! a validated profile, host facts and the command line; printed by
//! `sandbox plan` ([`render`]); applied by [`crate::exec`].

pub mod app;
mod compile;
pub mod learned;
mod order;
pub mod render;

pub use crate::paths::split_parent;
pub use compile::{DEFAULT_PATH, Invocation, compile, work_dir_for};

/// Mode of a folder made as a mount point (then covered by what is
/// mounted there).
pub const MOUNT_POINT_DIR: u32 = 0o755;

/// The device nodes a `dev` step binds from the host's /dev (the plan's
/// text names them; the executor binds them).
pub const DEV_NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// Mode of the folders made on the way to a destination, as bubblewrap
/// derives it: 0755, without the group's or others' access where the
/// step's own mode gives them none (a 0700 folder gets 0700 parents).
pub fn parent_mode(mode: Option<u32>) -> u32 {
    let mut m = 0o755;
    if let Some(mode) = mode {
        if mode & 0o070 == 0 {
            m &= !0o050;
        }
        if mode & 0o007 == 0 {
            m &= !0o005;
        }
    }
    m
}

impl Action {
    /// The mode of the folders made on the way to this step's destination:
    /// derived from the mode of what a `dir`, `file` or `tmpfs` makes, 0755
    /// for any other step.
    pub fn parents_mode(&self) -> u32 {
        match self {
            Action::Dir { mode, .. } | Action::File { mode, .. } | Action::Tmpfs { mode, .. } => {
                parent_mode(Some(*mode))
            }
            _ => parent_mode(None),
        }
    }
}
pub use order::check_order;
pub use render::render_text;

use crate::diag::Origin;
use serde::Serialize;
use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::ffi::OsStrExt;

// The vocabulary the plan shares with the profile lives in leaf modules;
// re-exported so that the executor takes every type it needs from here.
pub use crate::capabilities::Capability;
pub use crate::limits::{LimitValue, Resource};
pub use crate::namespaces::NsKind;
pub use crate::syscalls::Syscall;

/// The stages of a sandbox's life, in the order they run. A plan's steps
/// never go back to an earlier phase ([`check_order`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The launcher joins namespaces given by path (user first), as
    /// nsenter does, so the child is created inside them.
    Join,
    /// The child is created with its new namespaces.
    Spawn,
    /// The parent writes the id maps and releases the child.
    Parent,
    /// The child builds the new root.
    Mount,
    /// The child switches to the new root.
    Pivot,
    /// Hostname, loopback: needs the outer user namespace's capabilities.
    Identity,
    /// PID 1 starts the application's process and stays to reap and
    /// forward signals. It does so before the sandwich, so that it stays in
    /// the outer user namespace, where the app has no rights over it; every
    /// later step runs in the app's process.
    Init,
    /// The second user namespace; capabilities dropped.
    Sandwich,
    /// Session, directory, environment, limits.
    Process,
    Landlock,
    Seccomp,
    Exec,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdMapEntry {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// One rlimit to set (both soft and hard).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rlimit {
    pub resource: Resource,
    pub value: LimitValue,
}

/// An interface address and its prefix length, `10.0.0.2/24`, checked when
/// the plan is built; printed as that text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpCidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl std::fmt::Display for IpCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for IpCidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What Landlock does with rights this kernel cannot enforce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compat {
    /// Apply what it can (the launcher says what it could not).
    BestEffort,
    /// Refuse to run.
    Hard,
}

/// A Landlock scope: IPC the app may not reach out of its domain with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Signals to processes outside the domain.
    Signal,
    /// Connections to abstract unix sockets made outside it.
    AbstractUnixSocket,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Signal, Scope::AbstractUnixSocket];

    /// The name a profile writes (`[landlock] scope`) and the plan prints.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Signal => "signal",
            Scope::AbstractUnixSocket => "abstract-unix-socket",
        }
    }

    pub fn named(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The filter a seccomp step loads (`policy = "none"` makes no step).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompPolicy {
    /// Everything passes but the syscalls listed (and the argument checks).
    Default,
    /// Only the syscalls listed pass.
    Allowlist,
}

/// What one step does. Paths inside the sandbox are absolute; sources are
/// host paths.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Action {
    /// Create the child with these namespaces new.
    Spawn {
        new: Vec<NsKind>,
    },
    /// Launcher (root), as soon as the child exists: bind the child's
    /// namespace file (/proc/PID/ns/KIND) at `path` in the caller's mount
    /// namespace, an empty file made there if missing (as `unshare
    /// --net=FILE` and `ip netns add` do), so that the namespace outlives
    /// the sandbox. Undone if the setup fails; kept after a run.
    KeepNamespace {
        kind: NsKind,
        path: String,
    },
    /// Put the child in a cgroup with these limits (parent side).
    Cgroup {
        memory: Option<u64>,
        pids: Option<u64>,
        cpu: Option<f64>,
    },
    /// Write "deny" to the child's /proc/PID/setgroups.
    SetgroupsDeny,
    /// Write the child's uid_map (`helper`: through newuidmap).
    UidMap {
        map: Vec<IdMapEntry>,
        helper: bool,
    },
    GidMap {
        map: Vec<IdMapEntry>,
        helper: bool,
    },
    /// Let the child go on.
    Release,
    /// Kill the sandbox after this many milliseconds (TERM, then KILL).
    Timeout {
        ms: u64,
    },
    /// Launcher, before the spawn: make the host folders the mounts need
    /// that do not exist yet (bind sources with `create`, overlay upper and
    /// work folders), mode 0700, with their missing parents; those it makes
    /// belong to `owner` when given (a root caller's sandbox: nobody).
    HostDirs {
        dirs: Vec<String>,
        owner: Option<(u32, u32)>,
        /// Folders the sandbox may write that some of `dirs` lie below
        /// (see [`Action::Bind`]'s `below`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        below: Vec<String>,
    },
    /// Child, once it has opened the host side of every mount: take
    /// `uid`/`gid` of its user namespace, which are nobody's on the host, so
    /// that it has root's rights over nothing it did not open as root.
    DropHostRoot {
        uid: u32,
        gid: u32,
    },
    /// setns() into the namespace at `path`.
    JoinNamespace {
        kind: NsKind,
        path: String,
    },
    /// In the sandbox's own network namespace, let the app bind ports below
    /// 1024 (as a server expects) and use ping sockets; written through
    /// /proc/sys before the host's /proc goes away.
    NetSysctls,
    /// Make every mount under / a slave, so nothing propagates to the host.
    MakeRootPrivate,
    /// The new root: an empty tmpfs, or a rootfs directory bound onto itself.
    RootTmpfs,
    RootBind {
        src: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        below: Option<String>,
    },
    Bind {
        src: String,
        dst: String,
        readonly: bool,
        /// Device nodes usable (dev-bind).
        devices: bool,
        /// The source is a directory (else a file or device).
        dir: bool,
        /// A folder the sandbox may write (another bind's source) that
        /// `src` lies below: the part of `src` below it is resolved without
        /// following symbolic links, which the app could have planted there
        /// for this run.
        #[serde(skip_serializing_if = "Option::is_none")]
        below: Option<String>,
    },
    Tmpfs {
        dst: String,
        size: Option<u64>,
        mode: u32,
    },
    /// A new /proc, with these entries of its top level read-only.
    Proc {
        dst: String,
        read_only: Vec<String>,
    },
    /// A minimal /dev: null zero full random urandom tty, a private devpts,
    /// shm; `console`: the caller's terminal (of standard input, output or
    /// error, when one is) bound at DST/console.
    Dev {
        dst: String,
        console: bool,
    },
    Mqueue {
        dst: String,
    },
    Symlink {
        target: String,
        dst: String,
    },
    Dir {
        dst: String,
        mode: u32,
    },
    File {
        dst: String,
        content: String,
        mode: u32,
    },
    RemountRo {
        dst: String,
    },
    /// Bind the folder at `dst` (inside a writable bind of a host folder)
    /// onto itself: a mount point cannot be renamed or removed, so the app
    /// cannot move it, and the mounts below it, out of the way and make a
    /// fresh unprotected copy of the path.
    /// `mode`: the folder's if it has to be made, the mode the step that
    /// would have made it gives it (see `compile::made_as`).
    Pin {
        dst: String,
        mode: u32,
    },
    /// An empty read-only folder (`dir`) or file over `dst`: a secret of
    /// the caller's that a broader bind would show.
    Hide {
        dst: String,
        dir: bool,
    },
    Overlay {
        dst: String,
        lower: Vec<String>,
        /// None: changes go to a tmpfs and vanish with the sandbox.
        upper: Option<String>,
        work: Option<String>,
        readonly: bool,
        /// Folders the sandbox may write that some of the layers lie below
        /// (see [`Action::Bind`]'s `below`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        below: Vec<String>,
    },
    /// Make the sandbox's / read-only, once every mount is in place.
    RemountRootRo,
    /// pivot_root into the new root and detach the old one.
    PivotRoot,
    SetHostname {
        name: String,
    },
    SetDomainname {
        name: String,
    },
    LoopbackUp,
    /// Launcher: start pasta on the child's network namespace (user-mode
    /// networking), wait until it is ready, stop it when the sandbox ends.
    Pasta {
        /// pasta `-t` / `-u` specs: `[ADDR/]HOST:SANDBOX`.
        tcp: Vec<String>,
        udp: Vec<String>,
        /// Address inside whose DNS queries pasta sends to the host's resolver.
        dns_forward: Option<String>,
        /// Whether the gateway address reaches the host's loopback.
        host_loopback: bool,
        /// The sandbox's loopback ports that reach the host's loopback at
        /// the same port (pasta -T / -U).
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        to_host_tcp: Vec<u16>,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        to_host_udp: Vec<u16>,
        /// Join the child's user namespace too (it owns the network namespace).
        userns: bool,
        /// The launcher is root: pasta is told to stay root (`--runas 0`),
        /// or it would switch to nobody and fail to join the namespaces
        /// root owns.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        root: bool,
    },
    /// Launcher (root): a veth pair, the host end `host_interface` (default
    /// `sb<PID>`) with this address, the other end created inside the
    /// child's namespace.
    Veth {
        host_address: IpCidr,
        #[serde(skip_serializing_if = "Option::is_none")]
        host_interface: Option<String>,
    },
    /// Launcher (root): a macvlan (bridge mode) on the host's `parent`,
    /// created inside the child's namespace.
    Macvlan {
        parent: String,
    },
    /// Child: the one interface the launcher made is renamed eth0, given
    /// its address, brought up, and the default route set. No address
    /// (`address = "none"`): renamed and up only, for the app to configure.
    ConfigureInterface {
        address: Option<IpCidr>,
        gateway: Option<IpAddr>,
    },
    /// Launcher: start xdg-dbus-proxy on the caller's session bus,
    /// filtering to these names (its --talk, --own, --see, --call,
    /// --broadcast), listening in a private directory; stopped at the end.
    DbusProxy {
        talk: Vec<String>,
        own: Vec<String>,
        see: Vec<String>,
        call: Vec<String>,
        broadcast: Vec<String>,
    },
    /// Child: bind the proxy's socket at `dst`.
    DbusSocket {
        dst: String,
    },
    /// A read-only /etc/resolv.conf with these name servers, bound over the
    /// sandbox's own (the file underneath is not touched).
    ResolvConf {
        nameservers: Vec<String>,
    },
    /// A new cgroup namespace, made by the child once it is in its own
    /// cgroup, so that the app sees that cgroup as the root.
    NewCgroupNamespace,
    /// A new time namespace with these clock offsets (milliseconds); the
    /// app, forked by the init, lives in it.
    TimeNamespace {
        monotonic_ms: i64,
        boottime_ms: i64,
    },
    /// A second user namespace in which the app is `uid`/`gid`; the setup
    /// mounts belong to the outer one and cannot be undone from here.
    Sandwich {
        /// The app's ids inside; `None`: left unmapped (the overflow id).
        uid: Option<u32>,
        gid: Option<u32>,
        nested_userns: bool,
        /// The profile's extra id ranges, mapped onto themselves in the
        /// outer namespace so that the app can use them.
        ranges: Vec<IdMapEntry>,
        /// Namespaces created under the inner user namespace, for the app
        /// to administer ([user] own_namespaces).
        own: Vec<NsKind>,
    },
    /// After joining a user namespace, in the launcher: make files as
    /// `uid`/`gid` of that namespace (the filesystem ids only: the rights
    /// the join gave are kept for the mounts), for the caller's own ids
    /// may not be mapped there.
    JoinedFsIds {
        uid: u32,
        gid: u32,
    },
    /// Without a user namespace of the sandbox's making (none, or one
    /// joined): become `uid`/`gid` for real.
    SetIds {
        uid: u32,
        gid: u32,
    },
    /// Empty every capability set but these.
    DropCapabilities {
        keep: Vec<Capability>,
    },
    NewSession,
    Chdir {
        path: String,
    },
    /// The environment: cleared (or not), variables kept by name/glob,
    /// those of `unset` (names/globs) taken out, then `set`. A name kept
    /// by itself is not taken out by a glob ([`unsets`]).
    Environment {
        clear: bool,
        keep: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        unset: Vec<String>,
        set: Vec<(String, String)>,
    },
    SetRlimits {
        limits: Vec<Rlimit>,
    },
    DieWithParent,
    NoNewPrivs,
    /// Open the message-queue file system of the sandbox's own IPC
    /// namespace (no mount in the tree), for the Landlock step to let the
    /// app use its POSIX message queues: mq_open opens files there, which
    /// no path rule can name.
    MqueueRights,
    Landlock {
        /// Allow the queues of the sandbox's own IPC namespace (opened by
        /// an earlier [`Action::MqueueRights`]).
        mqueue: bool,
        read: Vec<String>,
        write: Vec<String>,
        exec: Vec<String>,
        tcp_bind: Vec<u16>,
        tcp_connect: Vec<u16>,
        scope: Vec<Scope>,
        compat: Compat,
    },
    /// A small PID 1 starts the app's process, then seals itself (closes
    /// every descriptor, wipes its copy of the environment, drops its
    /// capabilities, loads a filter of its own), reaps zombies and forwards
    /// signals.
    Init,
    /// In the app's process, which shares PID 1's memory until it execs:
    /// make that memory non-dumpable, so that the app cannot ptrace PID 1
    /// or read its /proc files, whatever user namespace it is in.
    SealInit,
    Seccomp {
        policy: SeccompPolicy,
        /// Syscalls denied (policy default) or allowed (allowlist).
        syscalls: Vec<Syscall>,
        errno: i32,
        /// Whether clone/unshare may create namespaces and setns join them.
        namespaces: bool,
        /// Whether unshare may create a time namespace (`own_namespaces`
        /// "time": the app makes its own, for its children).
        time_namespaces: bool,
        /// Whether chmod, open, mknod and their kin may set the setuid or
        /// setgid bit (refused by default: such a file on a writable bind
        /// is a privilege for whoever runs it on the host).
        setuid_bits: bool,
        /// Whether openat2 passes (`[user] nesting`: a nested sandbox
        /// resolves its paths with it) although its mode, in memory, is
        /// out of the filter's reach; otherwise it fails with ENOSYS while
        /// setuid bits are refused, and libc falls back to openat.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        openat2: bool,
        /// Each refused call goes to the launcher, which reports it and
        /// answers with the same errno (SECCOMP_RET_USER_NOTIF): the
        /// listener is sent to it over a socket the app never holds.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        trace: bool,
        /// With `trace` and a Landlock step: each call that opens, runs,
        /// makes or removes a path, connects or binds goes to the launcher
        /// too, which lets it go on (the kernel decides) and reports the
        /// ones Landlock's rules would refuse (see exec/predict.rs).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        watch_paths: bool,
        /// `sandbox learn`: besides the refusals, every call that opens,
        /// runs, changes, connects or binds a path or an address goes to
        /// the launcher, which records it and lets it (and a refusal it
        /// could grant) go on (see learn/). Never set by a profile.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        learn: bool,
    },
    /// In the app's process, after its filter, just before exec: fork a
    /// helper that `sandbox enter` asks to start processes. It is a copy
    /// of this process at this point (the app's namespaces, ids,
    /// capabilities, no_new_privs, filter, Landlock domain, limits,
    /// cgroup, environment and working directory), so nothing it starts is
    /// stronger than the app; non-dumpable, it holds one descriptor, its
    /// socket to the launcher.
    EnterHelper,
    /// Launcher, before the release: the sandbox's entry in the caller's
    /// state folder (`$XDG_RUNTIME_DIR/sandbox`, `/run/sandbox` for root)
    /// for `sandbox ps` and `stop`; with `enter`, a socket beside it
    /// through which `sandbox enter` reaches the helper. Removed when the
    /// sandbox ends.
    StateEntry {
        enter: bool,
    },
    Exec {
        /// Bytes, as the caller gave them: an argument need not be UTF-8.
        #[serde(serialize_with = "args_text")]
        argv: Vec<OsString>,
    },
}

/// Arguments in JSON: each a string, a byte that is not UTF-8 as `\xNN`.
fn args_text<S: serde::Serializer>(argv: &[OsString], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(argv.iter().map(|a| bytes_text(a.as_bytes())))
}

/// `b` as text: UTF-8 as it is, every other byte as `\xNN`.
pub fn bytes_text(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    pub phase: Phase,
    #[serde(flatten)]
    pub action: Action,
    /// The profile line that asked for this step; None for what the
    /// sandbox always does or does by default.
    #[serde(serialize_with = "origin_text")]
    pub origin: Option<Origin>,
}

/// An origin in JSON: its text (`FILE:LINE:COL`), or null.
pub fn origin_text<S: serde::Serializer>(o: &Option<Origin>, s: S) -> Result<S::Ok, S::Error> {
    match o {
        Some(o) => s.serialize_str(&o.to_string()),
        None => s.serialize_none(),
    }
}

/// Everything the executor needs, and all `sandbox plan` shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// The plan format, for `--json` readers.
    pub version: u32,
    /// The profile's name, or its file.
    pub profile: String,
    pub steps: Vec<Step>,
    /// Things the plan decided not to do, and why (an optional mount whose
    /// source is missing, ...), with their origin.
    pub notes: Vec<String>,
    /// What the plan changed from what the profile says, at its line (a
    /// bind of the caller's home made read-only): printed before a run.
    #[serde(skip)]
    pub warnings: Vec<crate::diag::Diagnostic>,
}

impl Plan {
    pub fn find(&self, pred: impl Fn(&Action) -> bool) -> Option<&Step> {
        self.steps.iter().find(|s| pred(&s.action))
    }

    /// The namespaces the child is created with.
    pub fn new_namespaces(&self) -> &[NsKind] {
        match self
            .find(|a| matches!(a, Action::Spawn { .. }))
            .map(|s| &s.action)
        {
            Some(Action::Spawn { new }) => new,
            _ => &[],
        }
    }
}

/// An errno's name (`EPERM`), or its number.
pub fn errno_name(e: i32) -> String {
    crate::profile::units::ERRNOS
        .iter()
        .find(|(_, v)| *v == e)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| e.to_string())
}

/// Whether the environment step's `unset` takes the variable `name` out:
/// an entry naming it, or a glob matching it unless `keep` names it
/// exactly (`--unset-env 'LC_*' --keep-env LC_ALL` keeps LC_ALL): the
/// more exact word wins, whichever comes first.
pub fn unsets(unset: &[String], keep: &[String], name: &str) -> bool {
    let kept_by_name = keep.iter().any(|k| k == name);
    unset
        .iter()
        .any(|u| u == name || (!kept_by_name && crate::glob::glob_match(u, name)))
}
