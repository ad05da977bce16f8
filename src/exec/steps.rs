//! Who runs each step of a plan, and with what: the one exhaustive match
//! over the plan's actions ([`split`]). Each action becomes an operation of
//! the process that runs it, carrying the typed fields its mechanism takes.
//! Adding an action is a compile error here, and then in the dispatch of
//! whichever list it joins (the launcher's, the child's, the mounts'), each
//! an exhaustive match as well: nothing is handled by a default arm.

use crate::plan::{
    Action, Capability, Compat, IdMapEntry, IpCidr, NsKind, Plan, Rlimit, Scope, SeccompPolicy,
    Syscall,
};
use std::ffi::OsString;
use std::net::IpAddr;

/// An operation and the plan step it comes from (for the report).
pub struct Indexed<T> {
    pub step: usize,
    pub op: T,
}

/// The launcher's operations before the child exists.
pub enum Before<'p> {
    /// setns() into the namespace at `path` (all joins are made together,
    /// see `exec::join_all`).
    Join {
        kind: NsKind,
        path: &'p str,
    },
    JoinedFsIds {
        uid: u32,
        gid: u32,
    },
    HostDirs {
        dirs: &'p [String],
        owner: Option<(u32, u32)>,
        below: &'p [String],
    },
}

/// Which id map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ids {
    Uid,
    Gid,
}

impl Ids {
    pub fn name(self) -> &'static str {
        match self {
            Ids::Uid => "uid",
            Ids::Gid => "gid",
        }
    }
}

/// The launcher's operations once the child exists and before it goes on.
pub enum Parent<'p> {
    KeepNamespace {
        kind: NsKind,
        path: &'p str,
    },
    Cgroup(super::cgroup::Limits),
    SetgroupsDeny,
    IdMap {
        ids: Ids,
        map: &'p [IdMapEntry],
        helper: bool,
    },
    Timeout {
        ms: u64,
    },
    Network(Network<'p>),
    DbusProxy(super::dbus::Filter<'p>),
    /// The state entry, and with `enter` the socket of `sandbox enter`.
    StateEntry {
        enter: bool,
    },
    Release,
}

/// The launcher's network for the child (see attach.rs).
pub enum Network<'p> {
    Pasta {
        tcp: &'p [String],
        udp: &'p [String],
        dns_forward: Option<&'p str>,
        host_loopback: bool,
        to_host_tcp: &'p [u16],
        to_host_udp: &'p [u16],
        userns: bool,
        root: bool,
    },
    Veth {
        host_address: IpCidr,
        host_interface: Option<&'p str>,
    },
    Macvlan {
        parent: &'p str,
    },
}

/// The root the child builds the sandbox on.
pub enum Root<'p> {
    Tmpfs,
    Bind {
        src: &'p str,
        below: Option<&'p str>,
    },
}

/// A step that puts something in the new root (pass 2 of mount.rs).
pub enum Mount<'p> {
    Bind {
        src: &'p str,
        dst: &'p str,
        readonly: bool,
        devices: bool,
        dir: bool,
        below: Option<&'p str>,
    },
    Tmpfs {
        dst: &'p str,
        size: Option<u64>,
        mode: u32,
    },
    Proc {
        dst: &'p str,
        read_only: &'p [String],
    },
    Dev {
        dst: &'p str,
        console: bool,
    },
    Mqueue {
        dst: &'p str,
    },
    Symlink {
        target: &'p str,
        dst: &'p str,
    },
    Dir {
        dst: &'p str,
        mode: u32,
    },
    File {
        dst: &'p str,
        content: &'p str,
        mode: u32,
    },
    RemountRo {
        dst: &'p str,
    },
    Pin {
        dst: &'p str,
        mode: u32,
    },
    Hide {
        dst: &'p str,
        dir: bool,
    },
    Overlay {
        dst: &'p str,
        lower: &'p [String],
        upper: Option<&'p str>,
        work: Option<&'p str>,
        readonly: bool,
        below: &'p [String],
    },
    DbusSocket {
        dst: &'p str,
    },
    ResolvConf {
        nameservers: &'p [String],
    },
    RemountRootRo,
}

/// The sandwich's inner user namespace.
pub struct Sandwich<'p> {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub nested_userns: bool,
    pub ranges: &'p [IdMapEntry],
    pub own: &'p [NsKind],
}

/// The Landlock domain the app enters.
pub struct Landlock<'p> {
    pub mqueue: bool,
    pub read: &'p [String],
    pub write: &'p [String],
    pub exec: &'p [String],
    pub tcp_bind: &'p [u16],
    pub tcp_connect: &'p [u16],
    pub scope: &'p [Scope],
    pub compat: Compat,
}

/// The app's seccomp filter (see seccomp.rs).
pub struct Seccomp<'p> {
    pub policy: SeccompPolicy,
    pub syscalls: &'p [Syscall],
    pub errno: i32,
    pub namespaces: bool,
    pub time_namespaces: bool,
    pub setuid_bits: bool,
    pub openat2: bool,
    /// Refusals go to the launcher through a listener (see seccomp.rs).
    pub trace: bool,
    /// So do the calls Landlock may refuse (see predict.rs).
    pub watch_paths: bool,
    /// So do the calls `sandbox learn` records (see learn.rs).
    pub learn: bool,
}

/// The child's operations, in plan order.
pub enum Child<'p> {
    DropHostRoot {
        uid: u32,
        gid: u32,
    },
    MakeRootPrivate,
    /// Pass 1 of mount.rs over the mount steps after it: every source
    /// opened while the host's paths resolve as the user wrote them. Made
    /// by [`split`] right after [`Child::MakeRootPrivate`].
    OpenMountSources,
    NetSysctls,
    Root(Root<'p>),
    Mount(Mount<'p>),
    PivotRoot,
    MqueueRights,
    SetHostname(&'p str),
    SetDomainname(&'p str),
    LoopbackUp,
    ConfigureInterface {
        address: Option<IpCidr>,
        gateway: Option<IpAddr>,
    },
    NewCgroupNamespace,
    TimeNamespace {
        monotonic_ms: i64,
        boottime_ms: i64,
    },
    Sandwich(Sandwich<'p>),
    SetIds {
        uid: u32,
        gid: u32,
    },
    DropCapabilities(&'p [Capability]),
    NewSession,
    Chdir(&'p str),
    Environment {
        clear: bool,
        keep: &'p [String],
        unset: &'p [String],
        set: &'p [(String, String)],
    },
    SetRlimits(&'p [Rlimit]),
    DieWithParent,
    NoNewPrivs,
    Landlock(Landlock<'p>),
    Init,
    SealInit,
    Seccomp(Seccomp<'p>),
    EnterHelper,
    Exec(&'p [OsString]),
}

/// A plan's steps by who runs them, and what the launcher must know of
/// the child's before it starts it.
pub struct Steps<'p> {
    pub before: Vec<Indexed<Before<'p>>>,
    /// The namespaces the child is created with, and the step that says so.
    pub spawn: Indexed<&'p [NsKind]>,
    pub parent: Vec<Indexed<Parent<'p>>>,
    pub child: Vec<Indexed<Child<'p>>>,
    pub shape: Shape,
}

/// Facts about the whole plan that a process needs before the step that
/// makes them true, gathered in the same pass.
#[derive(Debug, Default, Clone, Copy)]
pub struct Shape {
    /// The launcher dies with its caller, the child with the launcher.
    pub die_with_parent: bool,
    /// The sandbox is in a session of its own.
    pub own_session: bool,
    /// A PID 1 of the sandbox's runs the app.
    pub init: bool,
    /// The app owns a pid namespace (an inner init runs it as PID 2).
    pub app_owns_pid: bool,
    /// The launcher makes things on the host that must be undone even if
    /// it is killed (cgroup, pasta, D-Bus proxy): a reaper watches.
    pub host_things: bool,
    pub pasta: bool,
    /// The step of the D-Bus proxy, if any.
    pub dbus_proxy: Option<usize>,
    /// The step of the sandwich, when it limits user namespaces (opened
    /// early, see userns.rs).
    pub sandwich_limit: Option<usize>,
    /// The app's process forks a helper for `sandbox enter`: the
    /// launcher makes the socket pair between them before the spawn.
    pub enter: bool,
    /// The app's filter sends its refusals to the launcher: the launcher
    /// makes the socket pair the listener comes over before the spawn.
    pub trace: bool,
}

/// Who runs an action.
enum Who<'p> {
    Before(Before<'p>),
    Spawn(&'p [NsKind]),
    Parent(Parent<'p>),
    Child(Child<'p>),
}

/// Sort the plan's steps by who runs them.
pub fn split(plan: &Plan) -> Steps<'_> {
    let mut s = Steps {
        before: vec![],
        spawn: Indexed { step: 0, op: &[] },
        parent: vec![],
        child: vec![],
        shape: Shape::default(),
    };
    for (step, st) in plan.steps.iter().enumerate() {
        match classify(&st.action, step, &mut s.shape) {
            Who::Before(op) => s.before.push(Indexed { step, op }),
            Who::Spawn(new) => s.spawn = Indexed { step, op: new },
            Who::Parent(op) => s.parent.push(Indexed { step, op }),
            Who::Child(op) => {
                let opens_sources = matches!(op, Child::MakeRootPrivate);
                s.child.push(Indexed { step, op });
                if opens_sources {
                    s.child.push(Indexed {
                        step,
                        op: Child::OpenMountSources,
                    });
                }
            }
        }
    }
    s
}

/// The one match over [`Action`]: who runs it, with what; what it tells
/// the processes before it runs goes into `shape`.
fn classify<'p>(action: &'p Action, step: usize, shape: &mut Shape) -> Who<'p> {
    match action {
        Action::Spawn { new } => Who::Spawn(new),
        Action::JoinNamespace { kind, path } => Who::Before(Before::Join { kind: *kind, path }),
        Action::JoinedFsIds { uid, gid } => Who::Before(Before::JoinedFsIds {
            uid: *uid,
            gid: *gid,
        }),
        Action::HostDirs { dirs, owner, below } => Who::Before(Before::HostDirs {
            dirs,
            owner: *owner,
            below,
        }),
        Action::KeepNamespace { kind, path } => {
            Who::Parent(Parent::KeepNamespace { kind: *kind, path })
        }
        Action::Cgroup { memory, pids, cpu } => {
            shape.host_things = true;
            Who::Parent(Parent::Cgroup(super::cgroup::Limits {
                memory: *memory,
                pids: *pids,
                cpu: *cpu,
            }))
        }
        Action::SetgroupsDeny => Who::Parent(Parent::SetgroupsDeny),
        Action::UidMap { map, helper } => Who::Parent(Parent::IdMap {
            ids: Ids::Uid,
            map,
            helper: *helper,
        }),
        Action::GidMap { map, helper } => Who::Parent(Parent::IdMap {
            ids: Ids::Gid,
            map,
            helper: *helper,
        }),
        Action::Release => Who::Parent(Parent::Release),
        Action::StateEntry { enter } => Who::Parent(Parent::StateEntry { enter: *enter }),
        Action::Timeout { ms } => Who::Parent(Parent::Timeout { ms: *ms }),
        Action::Pasta {
            tcp,
            udp,
            dns_forward,
            host_loopback,
            to_host_tcp,
            to_host_udp,
            userns,
            root,
        } => {
            shape.host_things = true;
            shape.pasta = true;
            Who::Parent(Parent::Network(Network::Pasta {
                tcp,
                udp,
                dns_forward: dns_forward.as_deref(),
                host_loopback: *host_loopback,
                to_host_tcp,
                to_host_udp,
                userns: *userns,
                root: *root,
            }))
        }
        Action::Veth {
            host_address,
            host_interface,
        } => Who::Parent(Parent::Network(Network::Veth {
            host_address: *host_address,
            host_interface: host_interface.as_deref(),
        })),
        Action::Macvlan { parent: p } => {
            Who::Parent(Parent::Network(Network::Macvlan { parent: p }))
        }
        Action::DbusProxy {
            talk,
            own,
            see,
            call,
            broadcast,
        } => {
            shape.host_things = true;
            shape.dbus_proxy = Some(step);
            Who::Parent(Parent::DbusProxy(super::dbus::Filter {
                talk,
                own,
                see,
                call,
                broadcast,
            }))
        }
        Action::DropHostRoot { uid, gid } => Who::Child(Child::DropHostRoot {
            uid: *uid,
            gid: *gid,
        }),
        Action::MakeRootPrivate => Who::Child(Child::MakeRootPrivate),
        Action::NetSysctls => Who::Child(Child::NetSysctls),
        Action::RootTmpfs => Who::Child(Child::Root(Root::Tmpfs)),
        Action::RootBind { src, below } => Who::Child(Child::Root(Root::Bind {
            src,
            below: below.as_deref(),
        })),
        Action::Bind {
            src,
            dst,
            readonly,
            devices,
            dir,
            below,
        } => Who::Child(Child::Mount(Mount::Bind {
            src,
            dst,
            readonly: *readonly,
            devices: *devices,
            dir: *dir,
            below: below.as_deref(),
        })),
        Action::Tmpfs { dst, size, mode } => Who::Child(Child::Mount(Mount::Tmpfs {
            dst,
            size: *size,
            mode: *mode,
        })),
        Action::Proc { dst, read_only } => Who::Child(Child::Mount(Mount::Proc { dst, read_only })),
        Action::Dev { dst, console } => Who::Child(Child::Mount(Mount::Dev {
            dst,
            console: *console,
        })),
        Action::Mqueue { dst } => Who::Child(Child::Mount(Mount::Mqueue { dst })),
        Action::Symlink { target, dst } => Who::Child(Child::Mount(Mount::Symlink { target, dst })),
        Action::Dir { dst, mode } => Who::Child(Child::Mount(Mount::Dir { dst, mode: *mode })),
        Action::File { dst, content, mode } => Who::Child(Child::Mount(Mount::File {
            dst,
            content,
            mode: *mode,
        })),
        Action::RemountRo { dst } => Who::Child(Child::Mount(Mount::RemountRo { dst })),
        Action::Pin { dst, mode } => Who::Child(Child::Mount(Mount::Pin { dst, mode: *mode })),
        Action::Hide { dst, dir } => Who::Child(Child::Mount(Mount::Hide { dst, dir: *dir })),
        Action::Overlay {
            dst,
            lower,
            upper,
            work,
            readonly,
            below,
        } => Who::Child(Child::Mount(Mount::Overlay {
            dst,
            lower,
            upper: upper.as_deref(),
            work: work.as_deref(),
            readonly: *readonly,
            below,
        })),
        Action::DbusSocket { dst } => Who::Child(Child::Mount(Mount::DbusSocket { dst })),
        Action::ResolvConf { nameservers } => {
            Who::Child(Child::Mount(Mount::ResolvConf { nameservers }))
        }
        Action::RemountRootRo => Who::Child(Child::Mount(Mount::RemountRootRo)),
        Action::PivotRoot => Who::Child(Child::PivotRoot),
        Action::SetHostname { name } => Who::Child(Child::SetHostname(name)),
        Action::SetDomainname { name } => Who::Child(Child::SetDomainname(name)),
        Action::LoopbackUp => Who::Child(Child::LoopbackUp),
        Action::ConfigureInterface { address, gateway } => Who::Child(Child::ConfigureInterface {
            address: *address,
            gateway: *gateway,
        }),
        Action::NewCgroupNamespace => Who::Child(Child::NewCgroupNamespace),
        Action::TimeNamespace {
            monotonic_ms,
            boottime_ms,
        } => Who::Child(Child::TimeNamespace {
            monotonic_ms: *monotonic_ms,
            boottime_ms: *boottime_ms,
        }),
        Action::Sandwich {
            uid,
            gid,
            nested_userns,
            ranges,
            own,
        } => {
            if !nested_userns {
                shape.sandwich_limit = Some(step);
            }
            shape.app_owns_pid |= own.contains(&NsKind::Pid);
            Who::Child(Child::Sandwich(Sandwich {
                uid: *uid,
                gid: *gid,
                nested_userns: *nested_userns,
                ranges,
                own,
            }))
        }
        Action::SetIds { uid, gid } => Who::Child(Child::SetIds {
            uid: *uid,
            gid: *gid,
        }),
        Action::DropCapabilities { keep } => Who::Child(Child::DropCapabilities(keep)),
        Action::NewSession => {
            shape.own_session = true;
            Who::Child(Child::NewSession)
        }
        Action::Chdir { path } => Who::Child(Child::Chdir(path)),
        Action::Environment {
            clear,
            keep,
            unset,
            set,
        } => Who::Child(Child::Environment {
            clear: *clear,
            keep,
            unset,
            set,
        }),
        Action::SetRlimits { limits } => Who::Child(Child::SetRlimits(limits)),
        Action::DieWithParent => {
            shape.die_with_parent = true;
            Who::Child(Child::DieWithParent)
        }
        Action::NoNewPrivs => Who::Child(Child::NoNewPrivs),
        Action::MqueueRights => Who::Child(Child::MqueueRights),
        Action::Landlock {
            mqueue,
            read,
            write,
            exec,
            tcp_bind,
            tcp_connect,
            scope,
            compat,
        } => Who::Child(Child::Landlock(Landlock {
            mqueue: *mqueue,
            read,
            write,
            exec,
            tcp_bind,
            tcp_connect,
            scope,
            compat: *compat,
        })),
        Action::Init => {
            shape.init = true;
            Who::Child(Child::Init)
        }
        Action::SealInit => Who::Child(Child::SealInit),
        Action::EnterHelper => {
            shape.enter = true;
            Who::Child(Child::EnterHelper)
        }
        Action::Seccomp {
            policy,
            syscalls,
            errno,
            namespaces,
            time_namespaces,
            setuid_bits,
            openat2,
            trace,
            watch_paths,
            learn,
        } => {
            shape.trace = *trace || *learn;
            Who::Child(Child::Seccomp(Seccomp {
                policy: *policy,
                syscalls,
                errno: *errno,
                namespaces: *namespaces,
                time_namespaces: *time_namespaces,
                setuid_bits: *setuid_bits,
                openat2: *openat2,
                trace: *trace || *learn,
                watch_paths: *watch_paths,
                learn: *learn,
            }))
        }
        Action::Exec { argv } => Who::Child(Child::Exec(argv)),
    }
}
