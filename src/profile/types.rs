//! The profile as data: what one file says, or what a file and its
//! `extends` say together once merged.
//!
//! Every field is optional (`None`: this file does not say) or a list, and
//! every value carries the span it was written at. Defaults are not filled
//! in here: they belong to the plan, so that merging can tell "not said"
//! from "said the default".

use crate::diag::Sp;

pub type SpStr = Sp<String>;

/// What a `[namespaces]` entry asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum NsSetting {
    /// `true`: a new namespace of this kind.
    New,
    /// `false`: share the caller's.
    Host,
    /// `"PATH"`: join the namespace at PATH (like nsenter), e.g.
    /// `/proc/1234/ns/net` or a bind-mounted ns file.
    Join(String),
}

pub use crate::namespaces::NsKind;

#[derive(Clone, Debug, PartialEq)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct User {
    pub uid: Option<Sp<u32>>,
    pub gid: Option<Sp<u32>>,
    pub sandwich: Option<Sp<bool>>,
    pub nested_userns: Option<Sp<bool>>,
    /// May the app run a sandbox of its own (`sandbox run`, bwrap)? Implies
    /// nested user namespaces; lets the namespace and mount calls through
    /// the default seccomp policy and leaves the read-only covers out of
    /// every /proc, which the kernel requires of a nested /proc mount.
    pub nesting: Option<Sp<bool>>,
    /// Namespaces created under the inner user namespace of the sandwich,
    /// which the app (root there) administers itself.
    pub own_namespaces: Vec<Sp<NsKind>>,
    /// "uid" and/or "gid": left unmapped in the sandwich's inner user
    /// namespace (the app sees the overflow id, 65534).
    pub unmapped: Vec<SpStr>,
    /// Extra id ranges, applied to both uids and gids. Replaced as a whole
    /// by a profile that sets it.
    pub map: Option<Sp<Vec<Sp<IdRange>>>>,
    /// For a root caller: may the sandbox act as host root? Without it,
    /// its ids (setup and app) are nobody/nogroup on the host.
    pub host_root: Option<Sp<bool>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uts {
    pub hostname: Option<SpStr>,
    pub domainname: Option<SpStr>,
}

/// Clock offsets of a new time namespace, in milliseconds (may be negative).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Time {
    pub monotonic: Option<Sp<i64>>,
    pub boottime: Option<Sp<i64>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filesystem {
    /// `"tmpfs"` or a rootfs directory.
    pub root: Option<SpStr>,
    /// Make `/` of the sandbox read-only once every mount is in place.
    pub readonly_root: Option<Sp<bool>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MountKind {
    Bind,
    RoBind,
    DevBind,
    Tmpfs,
    Proc,
    Dev,
    Mqueue,
    Symlink,
    Dir,
    File,
    RemountRo,
    Overlay,
}

impl MountKind {
    pub const ALL: [(&'static str, MountKind); 12] = [
        ("bind", MountKind::Bind),
        ("ro-bind", MountKind::RoBind),
        ("dev-bind", MountKind::DevBind),
        ("tmpfs", MountKind::Tmpfs),
        ("proc", MountKind::Proc),
        ("dev", MountKind::Dev),
        ("mqueue", MountKind::Mqueue),
        ("symlink", MountKind::Symlink),
        ("dir", MountKind::Dir),
        ("file", MountKind::File),
        ("remount-ro", MountKind::RemountRo),
        ("overlay", MountKind::Overlay),
    ];

    pub fn name(self) -> &'static str {
        MountKind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// Keys a `[[mount]]` of this type accepts, beside `type`.
    pub fn keys(self) -> &'static [&'static str] {
        use MountKind::*;
        match self {
            Bind | RoBind | DevBind => &["src", "dst", "optional", "create"],
            Tmpfs => &["dst", "size", "mode"],
            Proc | Dev | Mqueue | RemountRo => &["dst"],
            Symlink => &["src", "dst"],
            Dir => &["dst", "mode"],
            File => &["dst", "content", "mode"],
            Overlay => &["dst", "lower", "upper", "readonly", "optional"],
        }
    }

    /// Whether `src` may be omitted (then `dst` defaults to nothing) or
    /// must be given.
    pub fn needs_src(self) -> bool {
        matches!(
            self,
            MountKind::Bind | MountKind::RoBind | MountKind::DevBind | MountKind::Symlink
        )
    }
}

/// One `[[mount]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Mount {
    /// The span of the `type = ...` value: where the entry starts.
    pub kind: Sp<MountKind>,
    pub src: Option<SpStr>,
    pub dst: Option<SpStr>,
    pub optional: Option<Sp<bool>>,
    /// Bind: make the source directory (mode 0700) when it is missing.
    pub create: Option<Sp<bool>>,
    pub size: Option<Sp<u64>>,
    pub mode: Option<Sp<u32>>,
    pub content: Option<SpStr>,
    pub lower: Vec<SpStr>,
    pub upper: Option<SpStr>,
    pub readonly: Option<Sp<bool>>,
    /// The source was written with `${PWD}`: the folder the caller happens
    /// to be in, not one the profile chose (set when variables expand).
    pub src_is_cwd: bool,
}

impl Mount {
    pub fn is_optional(&self) -> bool {
        self.optional.as_ref().is_some_and(|o| o.value)
    }

    /// The destination inside the sandbox: `dst`, or `src` for binds.
    pub fn target(&self) -> Option<&SpStr> {
        self.dst.as_ref().or(match self.kind.value {
            MountKind::Bind | MountKind::RoBind | MountKind::DevBind => self.src.as_ref(),
            _ => None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetMode {
    None,
    Pasta,
    Veth,
    Macvlan,
}

/// `[network] address = "none"`: the interface is renamed eth0 and brought
/// up, with no address and no route; the app configures it itself.
pub const NO_ADDRESS: &str = "none";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Network {
    pub mode: Option<Sp<NetMode>>,
    pub forward_tcp: Vec<SpStr>,
    pub forward_udp: Vec<SpStr>,
    /// pasta: the sandbox's loopback ports that reach the host's loopback
    /// at the same port (pasta -T / -U).
    pub to_host_tcp: Vec<Sp<u16>>,
    pub to_host_udp: Vec<Sp<u16>>,
    /// Address of the sandbox's interface (veth, macvlan), CIDR, or
    /// `"none"` ([`NO_ADDRESS`]): eth0 up, unaddressed, for the app to
    /// configure (a DHCP client).
    pub address: Option<SpStr>,
    /// Name of the host end of a veth pair (default `sb<PID>`).
    pub host_interface: Option<SpStr>,
    /// Address of the host end of a veth pair, CIDR.
    pub host_address: Option<SpStr>,
    pub gateway: Option<SpStr>,
    /// Parent interface of a macvlan.
    pub parent: Option<SpStr>,
    /// Name servers written to the sandbox's /etc/resolv.conf.
    pub dns: Vec<SpStr>,
    /// pasta: the gateway address reaches the host's loopback services.
    pub host_loopback: Option<Sp<bool>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Desktop,
    Cli,
    Service,
}

impl Category {
    pub const ALL: [(&'static str, Category); 3] = [
        ("desktop", Category::Desktop),
        ("cli", Category::Cli),
        ("service", Category::Service),
    ];
    pub fn name(self) -> &'static str {
        Category::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// `[dbus]`: the session bus, filtered by xdg-dbus-proxy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dbus {
    /// Whether the sandbox gets a filtered session bus.
    pub session: Option<Sp<bool>>,
    /// Well-known names (a trailing `.*` for a subtree) the app may call,
    /// own, or only see; `call`/`broadcast` rules as `NAME=RULE`.
    pub talk: Vec<SpStr>,
    pub own: Vec<SpStr>,
    pub see: Vec<SpStr>,
    pub call: Vec<SpStr>,
    pub broadcast: Vec<SpStr>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Env {
    pub clear: Option<Sp<bool>>,
    /// Names or globs (`LC_*`) of variables passed through from the caller.
    pub keep: Vec<SpStr>,
    /// Variables set inside; a later profile's value for a name wins.
    pub set: Vec<(SpStr, SpStr)>,
    /// Names or globs of variables the app does not get: not passed
    /// through (by `keep` or `clear = false`), and not set by a profile
    /// this one extends.
    pub unset: Vec<SpStr>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Process {
    pub cwd: Option<SpStr>,
    pub new_session: Option<Sp<bool>>,
    pub die_with_parent: Option<Sp<bool>>,
    pub init: Option<Sp<bool>>,
    /// Keep a helper for `sandbox enter` (default true).
    pub enter: Option<Sp<bool>>,
    pub capabilities: Vec<SpStr>,
    /// Milliseconds.
    pub timeout: Option<Sp<u64>>,
}

pub use crate::limits::{LimitValue, Resource};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    /// At most one per resource.
    pub values: Vec<(Resource, Sp<LimitValue>)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cgroup {
    pub memory: Option<Sp<u64>>,
    pub pids: Option<Sp<u64>>,
    /// Fraction of one core.
    pub cpu: Option<Sp<f64>>,
}

/// What the words after `--` on the command line are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arguments {
    /// Arguments for the profile's `command` (an app's profile: `sandbox
    /// run unzip -- x.zip`).
    Append,
    /// The command to run instead (a general profile such as `default`:
    /// `sandbox run default -- ls /`).
    Replace,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompPolicy {
    Default,
    None,
    Allowlist,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seccomp {
    pub policy: Option<Sp<SeccompPolicy>>,
    pub deny: Vec<SpStr>,
    pub allow: Vec<SpStr>,
    pub errno: Option<Sp<i32>>,
    /// May the app give files the setuid or setgid bit? Refused unless true.
    pub allow_setuid_bits: Option<Sp<bool>>,
    /// Report each refused call, by the launcher (`--trace-denials`).
    pub trace: Option<Sp<bool>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compat {
    BestEffort,
    Hard,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Landlock {
    pub enabled: Option<Sp<bool>>,
    pub from_mounts: Option<Sp<bool>>,
    pub read: Vec<SpStr>,
    pub write: Vec<SpStr>,
    pub exec: Vec<SpStr>,
    pub tcp_bind: Vec<Sp<u16>>,
    pub tcp_connect: Vec<Sp<u16>>,
    /// IPC scopes: "signal", "abstract-unix-socket".
    pub scope: Option<Sp<Vec<SpStr>>>,
    pub compat: Option<Sp<Compat>>,
}

/// One profile file, or a profile merged with everything it extends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub name: Option<SpStr>,
    pub description: Option<SpStr>,
    /// How `sandbox profiles` groups it.
    pub category: Option<Sp<Category>>,
    /// The app's own desktop entry (file stem under
    /// /usr/share/applications), for `sandbox desktop-entry`.
    pub desktop_entry: Option<SpStr>,
    pub dbus: Dbus,
    pub extends: Vec<SpStr>,
    pub command: Option<Sp<Vec<SpStr>>>,
    /// What the words after `--` are to `command`.
    pub arguments: Option<Sp<Arguments>>,
    /// The package that installs `command`'s program, for the hint when
    /// it is not installed.
    pub package: Option<SpStr>,
    pub namespaces: Vec<(NsKind, Sp<NsSetting>)>,
    /// `[namespaces] keep`: where the launcher binds the file of each of
    /// the sandbox's new namespaces named, so that it outlives the sandbox.
    pub keep: Vec<(NsKind, SpStr)>,
    pub user: User,
    pub uts: Uts,
    pub time: Time,
    pub filesystem: Filesystem,
    pub mounts: Vec<Mount>,
    pub network: Network,
    pub env: Env,
    pub process: Process,
    pub limits: Limits,
    pub cgroup: Cgroup,
    pub seccomp: Seccomp,
    pub landlock: Landlock,
}

impl Profile {
    /// For each mount, the index of the later mount at the same destination
    /// that replaces it (an override's way to change a mount), if any. A
    /// remount-ro changes what is there rather than replacing it. One pass
    /// from the end: profiles with a thousand mounts stay linear.
    pub fn replacements(&self) -> Vec<Option<usize>> {
        let mut nearest_later: std::collections::HashMap<&str, usize> = Default::default();
        let mut out = vec![None; self.mounts.len()];
        for (i, m) in self.mounts.iter().enumerate().rev() {
            if m.kind.value == MountKind::RemountRo {
                continue;
            }
            if let Some(t) = m.target() {
                out[i] = nearest_later.insert(t.value.as_str(), i);
            }
        }
        out
    }

    /// The namespace setting for `kind`, with the span that set it.
    pub fn namespace(&self, kind: NsKind) -> Option<&Sp<NsSetting>> {
        self.namespaces
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, s)| s)
    }

    /// Whether the sandbox gets a new namespace of this kind (default: all
    /// but time).
    pub fn ns_new(&self, kind: NsKind) -> bool {
        match self.namespace(kind) {
            Some(s) => s.value == NsSetting::New,
            None => kind.default_new(),
        }
    }

    /// Whether the sandbox is in a namespace of its own of this kind, new or
    /// joined (i.e. not the caller's).
    pub fn ns_private(&self, kind: NsKind) -> bool {
        match self.namespace(kind) {
            Some(s) => s.value != NsSetting::Host,
            None => kind.default_new(),
        }
    }
}

/// Convenience for options of `Sp<bool>`.
pub fn flag(v: &Option<Sp<bool>>, default: bool) -> bool {
    v.as_ref().map(|s| s.value).unwrap_or(default)
}
