//! Profile + host facts + command line -> Plan. Pure: the only view of the
//! machine is the [`HostFacts`] trait. The order of the steps is decided
//! here, phase by phase, and nowhere else.

use super::*;
use std::path::Path;
// The plan's own, not the profile's of the same name (converted here).
use super::{Compat, SeccompPolicy};
use crate::diag::{Diagnostic, Sp, Span};
use crate::glob::glob_match;
use crate::host::{HostFacts, PathKind};
use crate::profile::guarded::Guard;
use crate::profile::types::*;
use crate::profile::{Loaded, validate::is_under};

/// What the command line adds to a profile.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    /// The words after `--`: arguments for the profile's `command`, or the
    /// command itself (see [`Arguments`]).
    pub command: Vec<OsString>,
    /// `--command`: the words are the command to run instead of the
    /// profile's, whatever its `arguments` say.
    pub replace: bool,
}

impl Invocation {
    /// What `check` and `desktop-entry` compile a profile with: its own
    /// command when it has one, else `true` standing in (a fragment has no
    /// command of its own).
    pub fn checking(loaded: &Loaded) -> Invocation {
        let command = match loaded.profile.command {
            Some(_) => vec![],
            None => vec!["true".into()],
        };
        Invocation {
            command,
            ..Invocation::default()
        }
    }
}

/// The PATH a cleared environment gets unless the profile sets one.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

struct Compiler<'a> {
    loaded: &'a Loaded,
    host: &'a dyn HostFacts,
    steps: Vec<Step>,
    /// Host folders the mounts need made, per mount, with its origin.
    host_dirs: Vec<(Vec<String>, Option<Origin>)>,
    notes: Vec<String>,
    diags: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Where each path asked of [`Compiler::resolved`] really is: the
    /// guarded places are asked of for every bind.
    real: std::cell::RefCell<std::collections::HashMap<String, String>>,
}

/// Build the plan. Errors are problems only the host can reveal (a bind
/// source that does not exist, no command to run), at their profile line.
/// The address inside whose DNS queries pasta forwards to the host's
/// resolver (link-local: never a real server's).
pub const PASTA_DNS: &str = "169.254.1.1";
/// veth defaults: the host end and the sandbox's end of the pair.
pub const VETH_HOST_ADDRESS: IpCidr = IpCidr {
    addr: IpAddr::V4(std::net::Ipv4Addr::new(10, 89, 0, 1)),
    prefix: 24,
};
pub const VETH_ADDRESS: IpCidr = IpCidr {
    addr: IpAddr::V4(std::net::Ipv4Addr::new(10, 89, 0, 2)),
    prefix: 24,
};

/// nobody and nogroup: what a root caller's sandbox is on the host, unless
/// the profile sets `[user] host_root = true`.
pub const NOBODY: u32 = 65534;

pub fn compile(
    loaded: &Loaded,
    host: &dyn HostFacts,
    inv: &Invocation,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut c = Compiler {
        loaded,
        host,
        steps: vec![],
        host_dirs: vec![],
        notes: loaded.notes.clone(),
        diags: vec![],
        warnings: vec![],
        real: Default::default(),
    };
    c.build(inv);
    if !c.diags.is_empty() {
        return Err(c.diags);
    }
    let p = &loaded.profile;
    let profile = p
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .or_else(|| loaded.location.as_ref().map(|l| l.display()))
        .unwrap_or_else(|| "profile".into());
    let plan = Plan {
        version: 1,
        profile,
        steps: c.steps,
        notes: c.notes,
        warnings: c.warnings,
    };
    debug_assert_eq!(check_order(&plan), Ok(()));
    Ok(plan)
}

impl Compiler<'_> {
    fn origin(&self, span: Span) -> Option<Origin> {
        Some(self.loaded.sources.origin(span))
    }

    fn origin_of<T>(&self, v: &Option<Sp<T>>) -> Option<Origin> {
        v.as_ref().and_then(|s| self.origin(s.span))
    }

    /// For a step many places say something about (the environment, the
    /// filter): an override of the command line's if one is among
    /// `spans`, the last said, else the first of them.
    fn origin_among(&self, spans: impl IntoIterator<Item = Span>) -> Option<Origin> {
        let spans: Vec<Span> = spans.into_iter().collect();
        let from_command_line = |s: &&Span| self.loaded.sources.file(s.file).argument.is_some();
        spans
            .iter()
            .filter(from_command_line)
            .max_by_key(|s| s.file)
            .or(spans.first())
            .and_then(|s| self.origin(*s))
    }

    fn push(&mut self, phase: Phase, action: Action, origin: Option<Origin>) {
        self.steps.push(Step {
            phase,
            action,
            origin,
        });
    }

    fn build(&mut self, inv: &Invocation) {
        let p = &self.loaded.profile;
        let argv = self.command(inv);
        self.joins();
        let nobody = self.onto_nobody();
        // Where the launcher's steps go: after the joins, before the spawn.
        let before_spawn = self.steps.len();
        self.spawn_and_maps();
        if nobody {
            self.notes.push(format!(
                "run by root: the sandbox runs as nobody:nogroup ({NOBODY}) on the host, so its app writes only what nobody may; only the mounts' host paths are opened with root's rights; [user] host_root = true lets it act as root"
            ));
        }
        if !p.ns_private(NsKind::User) && self.app_ids().0 == 0 {
            self.notes.push(
                "no user namespace: the app is host root (uid 0), confined by its mounts, capabilities, no_new_privs, seccomp and Landlock; it acts as root on every file it may write".into(),
            );
        }
        if self.nesting() {
            self.notes.push(
                "nesting: the app may create user, mount, pid and the other namespaces and mount in them (the default seccomp policy lets namespace flags, setns and the mount calls but chroot through; Landlock is off), so it can run a sandbox of its own, which sees no more than this one; every /proc has no read-only covers (the kernel refuses a nested /proc under them): the app, not host root, still cannot write /proc/sys, sysrq-trigger, irq or bus, but may set /proc/pressure triggers as any user may".into(),
            );
        }
        if p.ns_private(NsKind::Mount) {
            self.filesystem();
        } else if nobody {
            self.drop_host_root();
        }
        // One launcher step per mount that needs folders, at its line.
        let owner = nobody.then_some((NOBODY, NOBODY));
        let made: Vec<Step> = self
            .host_dirs
            .drain(..)
            .map(|(dirs, origin)| Step {
                phase: Phase::Spawn,
                action: Action::HostDirs {
                    dirs,
                    owner,
                    below: vec![],
                },
                origin,
            })
            .collect();
        self.steps.splice(before_spawn..before_spawn, made);
        self.mark_writable_folders();
        self.identity();
        let init = p.ns_new(NsKind::Pid) && flag(&p.process.init, true);
        if init {
            self.init();
        }
        self.sandwich();
        self.process(init);
        self.landlock();
        if init {
            self.push(Phase::Seccomp, Action::SealInit, None);
        }
        self.seccomp();
        if self.enter(init) {
            let o = self.origin_of(&p.process.enter);
            self.push(Phase::Exec, Action::EnterHelper, o);
        }
        // The profile's command, unless the command line's replaced it.
        let replaced = !inv.command.is_empty()
            && (p.command.is_none()
                || inv.replace
                || p.arguments.as_ref().map(|a| a.value) == Some(Arguments::Replace));
        let o = p
            .command
            .as_ref()
            .filter(|_| !replaced)
            .and_then(|c| self.origin(c.span));
        self.push(Phase::Exec, Action::Exec { argv }, o);
    }

    /// What runs: the profile's `command`, followed by the command line's
    /// words (an app's profile: `sandbox run unzip -- x.zip`), or those
    /// words instead (`arguments = "replace"`, a general profile such as
    /// `default`, or a profile without a command).
    fn command(&mut self, inv: &Invocation) -> Vec<OsString> {
        let p = &self.loaded.profile;
        let replace =
            inv.replace || p.arguments.as_ref().map(|a| a.value) == Some(Arguments::Replace);
        match &p.command {
            Some(c) if !replace || inv.command.is_empty() => c
                .value
                .iter()
                .map(|a| OsString::from(&a.value))
                .chain(inv.command.iter().cloned())
                .collect(),
            _ if !inv.command.is_empty() => inv.command.clone(),
            _ => {
                self.diags.push(
                    Diagnostic::global("no command to run")
                        .with_hint("give one after '--' (sandbox run PROFILE -- CMD ARGS...), or set 'command' in the profile"),
                );
                vec![]
            }
        }
    }

    fn spawn_and_maps(&mut self) {
        let p = &self.loaded.profile;
        // A time namespace cannot be asked of clone(): it is its own step.
        // Nor a cgroup namespace rooted in the sandbox's own cgroup, which
        // the parent creates after the spawn.
        let later = [NsKind::Time, NsKind::Cgroup];
        let new: Vec<NsKind> = NsKind::ALL
            .into_iter()
            .filter(|k| !later.contains(k) && p.ns_new(*k))
            .collect();
        let ns_origin = p.namespaces.first().and_then(|(_, s)| self.origin(s.span));
        self.push(Phase::Spawn, Action::Spawn { new: new.clone() }, ns_origin);
        for (kind, path) in &p.keep {
            let o = self.origin(path.span);
            self.push(
                Phase::Parent,
                Action::KeepNamespace {
                    kind: *kind,
                    path: path.value.clone(),
                },
                o,
            );
        }
        let cg = &p.cgroup;
        if cg.memory.is_some() || cg.pids.is_some() || cg.cpu.is_some() {
            let o = self
                .origin_of(&cg.memory)
                .or(self.origin_of(&cg.pids))
                .or(self.origin_of(&cg.cpu));
            self.push(
                Phase::Parent,
                Action::Cgroup {
                    memory: cg.memory.as_ref().map(|v| v.value),
                    pids: cg.pids.as_ref().map(|v| v.value),
                    cpu: cg.cpu.as_ref().map(|v| v.value),
                },
                o,
            );
        }
        if new.contains(&NsKind::User) {
            let (uid, gid) = self.outer_ids();
            let extra = self.id_ranges();
            let helper = !extra.is_empty() && !self.host.is_root();
            let map_origin = self.origin_of(&p.user.map);
            // A root caller's sandbox is nobody's on the host.
            let (host_uid, host_gid) = if self.onto_nobody() {
                (NOBODY, NOBODY)
            } else {
                (self.host.uid(), self.host.gid())
            };
            let mut uid_map = vec![IdMapEntry {
                inside: uid,
                outside: host_uid,
                count: 1,
            }];
            let mut gid_map = vec![IdMapEntry {
                inside: gid,
                outside: host_gid,
                count: 1,
            }];
            uid_map.extend(extra.iter().cloned());
            gid_map.extend(extra);
            // setgroups must be denied before an unprivileged gid_map; a
            // helper (newgidmap) decides for itself.
            if !helper && !self.host.is_root() {
                self.push(Phase::Parent, Action::SetgroupsDeny, None);
            }
            let uo = map_origin.clone().or(self.origin_of(&p.user.uid));
            let go = map_origin.or(self.origin_of(&p.user.gid));
            self.push(
                Phase::Parent,
                Action::UidMap {
                    map: uid_map,
                    helper,
                },
                uo,
            );
            self.push(
                Phase::Parent,
                Action::GidMap {
                    map: gid_map,
                    helper,
                },
                go,
            );
        }
        self.network_attach();
        if self.dbus_on() {
            let d = &p.dbus;
            let list = |v: &[SpStr]| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
            let o = self.origin_of(&d.session);
            self.push(
                Phase::Parent,
                Action::DbusProxy {
                    talk: list(&d.talk),
                    own: list(&d.own),
                    see: list(&d.see),
                    call: list(&d.call),
                    broadcast: list(&d.broadcast),
                },
                o,
            );
        }
        if let Some(t) = &p.process.timeout {
            let o = self.origin(t.span);
            self.push(Phase::Parent, Action::Timeout { ms: t.value }, o);
        }
        let init = p.ns_new(NsKind::Pid) && flag(&p.process.init, true);
        let enter = self.enter(init);
        let o = self.origin_of(&p.process.enter);
        self.push(Phase::Parent, Action::StateEntry { enter }, o);
        self.push(Phase::Parent, Action::Release, None);
    }

    /// Whether the sandbox keeps a helper for `sandbox enter`: unless the
    /// profile says no, or cannot have one (validate.rs says why when the
    /// profile asked for it): the app is a pid namespace's PID 1, or keeps
    /// CAP_SYS_PTRACE; or the launcher joins a user or mount namespace.
    fn enter(&self, init: bool) -> bool {
        let p = &self.loaded.profile;
        // A launcher that joined a user or mount namespace is not where
        // its caller is, who could then not be told from a sandbox's app.
        let joined = self.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::JoinNamespace {
                    kind: NsKind::User | NsKind::Mount,
                    ..
                }
            )
        });
        !joined
            && flag(&p.process.enter, true)
            && (init || !p.ns_new(NsKind::Pid))
            && !p
                .process
                .capabilities
                .iter()
                .any(|c| Capability::named(&c.value) == Some(crate::capabilities::SYS_PTRACE))
    }

    fn dbus_on(&self) -> bool {
        let p = &self.loaded.profile;
        flag(&p.dbus.session, false) && p.ns_private(NsKind::Mount)
    }

    /// Where the filtered bus appears inside: the app's runtime directory.
    fn dbus_socket(&self) -> String {
        format!("/run/user/{}/bus", self.app_ids().0)
    }

    fn net_mode(&self) -> NetMode {
        let p = &self.loaded.profile;
        match &p.network.mode {
            Some(m) if p.ns_new(NsKind::Net) => m.value,
            _ => NetMode::None,
        }
    }

    /// Where the profile leaves the interface unaddressed for the app to
    /// configure (`address = "none"` of a veth or macvlan), if it does.
    fn unaddressed(&self) -> Option<Origin> {
        let a = self.loaded.profile.network.address.as_ref()?;
        (a.value == NO_ADDRESS && matches!(self.net_mode(), NetMode::Veth | NetMode::Macvlan))
            .then(|| self.origin(a.span))
            .flatten()
    }

    fn veth_host_address(&mut self) -> Option<IpCidr> {
        match &self.loaded.profile.network.host_address {
            Some(a) => self.cidr(a),
            None => Some(VETH_HOST_ADDRESS),
        }
    }

    /// A profile's address: the validator refused what does not parse, so
    /// this is a backstop, an error at its line rather than a guess.
    fn cidr(&mut self, a: &SpStr) -> Option<IpCidr> {
        let parsed = crate::profile::validate::parse_cidr(&a.value);
        if parsed.is_none() {
            let e = format!(
                "'{}' is not an address with its prefix length (ADDRESS/PREFIX)",
                a.value
            );
            self.diags.push(Diagnostic::error(a.span, e));
        }
        parsed.map(|(addr, prefix)| IpCidr { addr, prefix })
    }

    /// Launcher steps that connect the child's network namespace to the
    /// world, once the maps are written (pasta joins the user namespace).
    fn network_attach(&mut self) {
        let p = &self.loaded.profile;
        let n = &p.network;
        let o = self.origin_of(&n.mode);
        let action = match self.net_mode() {
            NetMode::None => return,
            NetMode::Pasta => {
                let spec = |f: &SpStr| match crate::profile::validate::parse_forward(&f.value) {
                    Ok((Some(a), h, s)) => format!("{a}/{h}:{s}"),
                    Ok((None, h, s)) => format!("{h}:{s}"),
                    Err(_) => String::new(),
                };
                Action::Pasta {
                    tcp: n.forward_tcp.iter().map(spec).collect(),
                    udp: n.forward_udp.iter().map(spec).collect(),
                    dns_forward: n.dns.is_empty().then(|| PASTA_DNS.to_string()),
                    host_loopback: flag(&n.host_loopback, false),
                    to_host_tcp: n.to_host_tcp.iter().map(|p| p.value).collect(),
                    to_host_udp: n.to_host_udp.iter().map(|p| p.value).collect(),
                    userns: p.ns_new(NsKind::User),
                    root: self.host.is_root(),
                }
            }
            NetMode::Veth => match self.veth_host_address() {
                Some(host_address) => Action::Veth {
                    host_address,
                    host_interface: n.host_interface.as_ref().map(|h| h.value.clone()),
                },
                None => return,
            },
            NetMode::Macvlan => Action::Macvlan {
                parent: n
                    .parent
                    .as_ref()
                    .map(|v| v.value.clone())
                    .unwrap_or_default(),
            },
        };
        self.push(Phase::Parent, action, o);
    }

    /// The sandbox's /etc/resolv.conf: the profile's name servers, or
    /// pasta's forwarder.
    fn resolv_conf(&mut self) {
        let n = &self.loaded.profile.network;
        let mode = self.net_mode();
        let nameservers: Vec<String> = match mode {
            NetMode::None => return,
            _ if !n.dns.is_empty() => n.dns.iter().map(|d| d.value.clone()).collect(),
            NetMode::Pasta => vec![PASTA_DNS.into()],
            // veth/macvlan without `dns`: the host's network decides.
            NetMode::Veth | NetMode::Macvlan => return,
        };
        let o = n
            .dns
            .first()
            .and_then(|d| self.origin(d.span))
            .or(self.origin_of(&n.mode));
        self.push(Phase::Mount, Action::ResolvConf { nameservers }, o);
    }

    /// The ids the setup runs as inside the outer user namespace. With the
    /// sandwich, setup is root (0) there and the app's ids come later; without
    /// it, the app's own ids are mapped directly.
    fn outer_ids(&self) -> (u32, u32) {
        if self.sandwich_on() {
            (0, 0)
        } else {
            self.app_ids()
        }
    }

    fn app_ids(&self) -> (u32, u32) {
        let u = &self.loaded.profile.user;
        (
            u.uid.as_ref().map(|s| s.value).unwrap_or(self.host.uid()),
            u.gid.as_ref().map(|s| s.value).unwrap_or(self.host.gid()),
        )
    }

    /// The profile's extra id ranges, as written.
    fn id_ranges(&self) -> Vec<IdMapEntry> {
        let map = self
            .loaded
            .profile
            .user
            .map
            .iter()
            .flat_map(|m| m.value.iter());
        map.map(|r| IdMapEntry {
            inside: r.value.inside,
            outside: r.value.outside,
            count: r.value.count,
        })
        .collect()
    }

    /// Whether the profile leaves this id kind out of the inner user namespace.
    fn unmapped(&self, kind: &str) -> bool {
        self.loaded
            .profile
            .user
            .unmapped
            .iter()
            .any(|u| u.value == kind)
    }

    /// `[user] nesting`: the app may run sandboxes of its own.
    fn nesting(&self) -> bool {
        flag(&self.loaded.profile.user.nesting, false)
    }

    /// May the app create user namespaces (and the others) of its own?
    fn nested_userns(&self) -> bool {
        flag(&self.loaded.profile.user.nested_userns, false) || self.nesting()
    }

    /// The namespaces the app administers, in a fixed order, once each.
    fn own_namespaces(&self) -> Vec<NsKind> {
        let mut own: Vec<NsKind> = self
            .loaded
            .profile
            .user
            .own_namespaces
            .iter()
            .map(|k| k.value)
            .collect();
        own.sort();
        own.dedup();
        own
    }

    /// A root caller's sandbox runs as nobody on the host unless the
    /// profile lets it act as root: otherwise every file its app may write
    /// is root's to change, and a setuid-root binary it leaves is anyone's
    /// root.
    fn onto_nobody(&self) -> bool {
        let p = &self.loaded.profile;
        self.host.is_root() && p.ns_new(NsKind::User) && !flag(&p.user.host_root, false)
    }

    /// The child has opened the host side of every mount: it now takes the
    /// ids that are nobody's on the host.
    fn drop_host_root(&mut self) {
        let (uid, gid) = self.outer_ids();
        self.push(Phase::Mount, Action::DropHostRoot { uid, gid }, None);
    }

    /// What of a new /proc is made read-only: the parts that change the
    /// kernel itself (sysctls, sysrq, IRQ affinity, bus devices), and
    /// pressure's triggers, writable by anyone; where the app may be host
    /// root (no user namespace, or `host_root`), also every other part root
    /// may write (memory type ranges, ACPI, drivers, filesystems, SCSI).
    fn proc_read_only(&self) -> Vec<String> {
        let p = &self.loaded.profile;
        // A nested sandbox's new proc is refused unless a proc of its mount
        // namespace is wholly visible: no covers (validation made sure the
        // app is not host root, which is what they guard against here).
        if self.nesting() {
            return vec![];
        }
        let host_root =
            !p.ns_new(NsKind::User) || (self.host.is_root() && flag(&p.user.host_root, false));
        let mut parts = vec!["sys", "sysrq-trigger", "irq", "bus", "pressure"];
        if host_root {
            parts.extend(["mtrr", "acpi", "driver", "fs", "scsi"]);
        }
        parts.into_iter().map(String::from).collect()
    }

    /// Whether, in a joined user namespace, the app takes ids of it: those
    /// the profile names, and always for a root caller, whose host
    /// identity may be unmapped there and would still own root's files.
    /// A user without them stays who they are (as that namespace maps
    /// them: `unshare -r`'s makes them 0).
    fn joined_user_ids(&self) -> bool {
        let p = &self.loaded.profile;
        p.ns_private(NsKind::User)
            && !p.ns_new(NsKind::User)
            && (self.host.is_root() || p.user.uid.is_some() || p.user.gid.is_some())
    }

    fn sandwich_on(&self) -> bool {
        let p = &self.loaded.profile;
        p.ns_new(NsKind::User) && flag(&p.user.sandwich, true)
    }

    fn joins(&mut self) {
        let p = &self.loaded.profile;
        // The user namespace first: joining it gives the rights the others need.
        let mut joins: Vec<&(NsKind, Sp<NsSetting>)> = p.namespaces.iter().collect();
        joins.sort_by_key(|(k, _)| *k);
        for (kind, s) in joins {
            if let NsSetting::Join(path) = &s.value {
                let o = self.origin(s.span);
                self.push(
                    Phase::Join,
                    Action::JoinNamespace {
                        kind: *kind,
                        path: path.clone(),
                    },
                    o,
                );
            }
        }
        if self.joined_user_ids() {
            let (uid, gid) = self.app_ids();
            let o = self.origin_of(&p.user.uid).or(self.origin_of(&p.user.gid));
            self.push(Phase::Join, Action::JoinedFsIds { uid, gid }, o);
        }
    }

    fn filesystem(&mut self) {
        let p = &self.loaded.profile;
        // Its own network, loopback only or not: its ports and ICMP
        // sockets are its own (the sandwich leaves it no capability there).
        if p.ns_new(NsKind::Net) {
            let o = self.origin_of(&p.network.mode);
            self.push(Phase::Mount, Action::NetSysctls, o);
        }
        self.push(Phase::Mount, Action::MakeRootPrivate, None);
        if self.onto_nobody() {
            self.drop_host_root();
        }
        let root = p.filesystem.root.as_ref();
        let tmpfs_root = root.is_none_or(|r| r.value == "tmpfs");
        match root {
            Some(r) if !tmpfs_root => {
                if self.host.path_kind(&r.value) != PathKind::Dir {
                    self.diags.push(
                        Diagnostic::error(r.span, format!("root filesystem '{}' is not a directory", r.value))
                            .with_hint("build one with: debootstrap --variant=minbase stable DIR (see examples/rootfs)"),
                    );
                }
                let o = self.origin(r.span);
                self.push(
                    Phase::Mount,
                    Action::RootBind {
                        src: r.value.clone(),
                        below: None,
                    },
                    o,
                );
            }
            _ => {
                let o = root.and_then(|r| self.origin(r.span));
                self.push(Phase::Mount, Action::RootTmpfs, o);
            }
        }
        let replaced = p.replacements();
        for (i, m) in p.mounts.iter().enumerate() {
            // A later mount at the same destination replaces this one (an
            // override's way to change a mount): skip it, and its source.
            if let (Some(later), Some(t)) = (replaced[i].map(|j| &p.mounts[j]), m.target()) {
                let (here, there) = (self.origin(m.kind.span), self.origin(later.kind.span));
                self.notes.push(format!(
                    "{}: the {} at '{}' is replaced by the one at {}",
                    here.expect("span"),
                    m.kind.value.name(),
                    t.value,
                    there.expect("span")
                ));
                continue;
            }
            self.mount(m);
        }
        self.resolv_conf();
        if self.dbus_on() {
            let o = self.origin_of(&p.dbus.session);
            let dst = self.dbus_socket();
            self.push(Phase::Mount, Action::DbusSocket { dst }, o);
        }
        if flag(&p.filesystem.readonly_root, tmpfs_root) {
            let o = self.origin_of(&p.filesystem.readonly_root);
            self.push(Phase::Mount, Action::RemountRootRo, o);
        }
        self.guard_profile_files();
        self.pin_folders_above_mounts();
        self.push(Phase::Pivot, Action::PivotRoot, None);
    }

    fn mount(&mut self, m: &Mount) {
        let o = self.origin(m.kind.span);
        let dst = m.target().map(|t| t.value.clone()).unwrap_or_default();
        let mode = m.mode.as_ref().map(|v| v.value);
        let action = match m.kind.value {
            MountKind::Bind | MountKind::RoBind | MountKind::DevBind => {
                let src = m.src.as_ref().expect("validated: binds have src");
                match self.host.path_kind(&src.value) {
                    PathKind::Missing if m.is_optional() => {
                        self.notes.push(format!(
                            "{}: skipped optional {} of '{}': it does not exist",
                            o.clone().expect("span"),
                            m.kind.value.name(),
                            src.value
                        ));
                        return;
                    }
                    PathKind::Missing if flag(&m.create, false) => {
                        self.host_dirs.push((vec![src.value.clone()], o.clone()));
                        Action::Bind {
                            src: src.value.clone(),
                            dst,
                            readonly: m.kind.value == MountKind::RoBind,
                            devices: false,
                            dir: true,
                            below: None,
                        }
                    }
                    PathKind::Missing => {
                        let d = self.missing_source(src);
                        self.diags.push(d);
                        return;
                    }
                    PathKind::Symlink => match self.host.read_link(&src.value) {
                        // A link is recreated as the same link, so /bin -> usr/bin
                        // stays a link in the sandbox, as on the host.
                        Some(target) => Action::Symlink { target, dst },
                        None => return,
                    },
                    kind => {
                        let mut readonly = m.kind.value == MountKind::RoBind;
                        let why = (!readonly && m.src_is_cwd)
                            .then(|| self.too_broad_to_write(&src.value))
                            .flatten();
                        if let Some(why) = why {
                            readonly = true;
                            self.warnings.push(
                                Diagnostic::warning(src.span, format!("the current folder '{}' {why}: bound read-only", src.value))
                                    .with_hint("a writable bind of it would let the app change what runs outside the sandbox later: cd into the folder to work in"),
                            );
                        }
                        let bind = Action::Bind {
                            src: src.value.clone(),
                            dst: dst.clone(),
                            readonly,
                            devices: m.kind.value == MountKind::DevBind,
                            dir: kind == PathKind::Dir,
                            below: None,
                        };
                        self.push(Phase::Mount, bind, o.clone());
                        if kind == PathKind::Dir {
                            self.guard(&src.value, &dst, readonly, o);
                        }
                        return;
                    }
                }
            }
            MountKind::Tmpfs => Action::Tmpfs {
                dst,
                size: m.size.as_ref().map(|s| s.value),
                mode: mode.unwrap_or(0o755),
            },
            MountKind::Proc => Action::Proc {
                dst,
                read_only: self.proc_read_only(),
            },
            // The caller's terminal, shared when there is no new session,
            // at DST/console, as bubblewrap does (`tty` finds it there).
            MountKind::Dev => Action::Dev {
                dst,
                console: !self.new_session(),
            },
            MountKind::Mqueue => Action::Mqueue { dst },
            MountKind::Symlink => Action::Symlink {
                target: m.src.as_ref().map(|s| s.value.clone()).unwrap_or_default(),
                dst,
            },
            MountKind::Dir => Action::Dir {
                dst,
                mode: mode.unwrap_or(0o755),
            },
            MountKind::File => Action::File {
                dst,
                content: m
                    .content
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default(),
                mode: mode.unwrap_or(0o644),
            },
            MountKind::RemountRo => Action::RemountRo { dst },
            MountKind::Overlay => {
                let mut lower = vec![];
                for l in &m.lower {
                    if self.host.path_kind(&l.value) != PathKind::Dir {
                        if m.is_optional() {
                            self.notes.push(format!("{}: skipped optional overlay on '{dst}': lower '{}' is not a directory", o.clone().expect("span"), l.value));
                            return;
                        }
                        self.diags.push(Diagnostic::error(
                            l.span,
                            format!("overlay lower '{}' is not a directory", l.value),
                        ));
                    }
                    lower.push(l.value.clone());
                }
                let upper = m.upper.as_ref().map(|u| u.value.clone());
                let work = upper.as_ref().map(|u| work_dir_for(u));
                if !flag(&m.readonly, false) {
                    let missing: Vec<String> = upper
                        .iter()
                        .chain(work.iter())
                        .filter(|d| self.host.path_kind(d) == PathKind::Missing)
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        self.host_dirs.push((missing, o.clone()));
                    }
                }
                Action::Overlay {
                    dst,
                    lower,
                    upper,
                    work,
                    readonly: flag(&m.readonly, false),
                    below: vec![],
                }
            }
        };
        if let Some(d) = self.made_in_a_new_proc(&action, m) {
            self.diags.push(d);
            return;
        }
        self.push(Phase::Mount, action, o);
    }

    /// A `dir`, `file` or `symlink` is made in the folder it goes in; a new
    /// /proc (the kernel's own files) takes none of them, so the run would
    /// fail at that step: said here, where `check` sees it.
    fn made_in_a_new_proc(&self, action: &Action, m: &Mount) -> Option<Diagnostic> {
        let (Action::Dir { dst, .. } | Action::File { dst, .. } | Action::Symlink { dst, .. }) =
            action
        else {
            return None;
        };
        let strictly_below = |d: &str| dst != d && is_under(dst, d);
        // The last mount step whose folder holds `dst` decides.
        let mut proc = None;
        for s in self.steps.iter().filter(|s| s.phase == Phase::Mount) {
            match &s.action {
                Action::Proc { dst: d, .. } if strictly_below(d) => proc = Some(d.clone()),
                Action::Bind { src, dst: d, .. } if strictly_below(d) => {
                    proc = is_under(src, "/proc").then(|| d.clone())
                }
                Action::Tmpfs { dst: d, .. }
                | Action::Overlay { dst: d, .. }
                | Action::Dev { dst: d, .. }
                | Action::Mqueue { dst: d }
                | Action::Hide { dst: d, .. }
                    if strictly_below(d) =>
                {
                    proc = None
                }
                _ => {}
            }
        }
        let at = proc?;
        let what = m.kind.value.name();
        let span = m.target().map_or(m.kind.span, |t| t.span);
        Some(
            Diagnostic::error(
                span,
                format!("a {what} cannot be made at '{dst}': it lies in the new /proc at '{at}', which holds only the kernel's own files"),
            )
            .with_hint("to replace a file of /proc, ro-bind a host file over it; to add files, mount a tmpfs on a folder of it first"),
        )
    }

    /// A bind source that is not there, or that the caller cannot reach
    /// (a folder on the way is someone else's): which, and what to do.
    fn missing_source(&self, src: &SpStr) -> Diagnostic {
        match self.host.denied(&src.value) {
            Some(d) => Diagnostic::error(
                src.span,
                format!("bind source '{}' cannot be reached: '{}' is {}'s ({:04o})", src.value, d.path, d.owner, d.mode),
            )
            .with_hint("run as a user who may enter it, as docs/profiles.md says for services, or bind a folder of your own"),
            None => Diagnostic::error(src.span, format!("bind source '{}' does not exist", src.value))
                .with_hint("create it, add 'create = true' to make the directory when missing, or 'optional = true' to skip this mount"),
        }
    }

    /// A profile file this run read, inside a writable bind: the app could
    /// change it, and the next run would do what it says. So it is made
    /// read-only inside; and a file found by name (`extends = ["default"]`
    /// looks in the profile's own folder first) in such a folder is refused:
    /// the app could have put it there, to be picked up by name instead of
    /// the profile meant.
    fn guard_profile_files(&mut self) {
        let binds: Vec<(usize, String, String)> = self
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.action {
                Action::Bind {
                    src,
                    dst,
                    readonly: false,
                    dir: true,
                    ..
                } => Some((i, self.resolved(src), dst.clone())),
                _ => None,
            })
            .collect();
        let mut protect: Vec<(usize, String)> = vec![];
        for (file, by_name) in &self.loaded.files {
            let file = self.resolved(&file.to_string_lossy());
            // The innermost writable bind it is in.
            let Some((i, src, dst)) = binds
                .iter()
                .filter(|(_, src, _)| is_under(&file, src) && &file != src)
                .max_by_key(|(_, src, _)| src.len())
            else {
                continue;
            };
            if let Some(span) = by_name {
                self.diags.push(
                    Diagnostic::error(*span, format!("this finds '{file}' by name, inside '{src}', which this profile lets the sandbox write: the sandbox could have put it there"))
                        .with_hint("name it by path (extends = [\"./NAME.toml\"]), or keep the profile out of the folders the sandbox may write"),
                );
                continue;
            }
            let rel = std::path::Path::new(&file)
                .strip_prefix(src)
                .expect("under src");
            let at = std::path::Path::new(dst).join(rel);
            protect.push((*i, at.to_string_lossy().into_owned()));
        }
        protect.sort();
        protect.dedup();
        for (i, dst) in protect.into_iter().rev() {
            let origin = self.steps[i].origin.clone();
            self.steps.insert(
                i + 1,
                Step {
                    phase: Phase::Mount,
                    action: Action::RemountRo { dst },
                    origin,
                },
            );
        }
    }

    /// Inside a writable bind of a host folder, a mount deeper than one
    /// level (a read-only bind of W/.git/hooks, a guarded ~/.local/share/
    /// applications) is safe only if the folders between the bind and it
    /// stay where they are: renamed away (`mv W/.git W/x`), they take the
    /// mount along and the app makes the path afresh, unprotected. Each
    /// such folder is pinned (a mount point of itself, which cannot be
    /// renamed or removed), right after the writable bind; folders that
    /// are themselves mount points, or inside another mount, need none.
    fn pin_folders_above_mounts(&mut self) {
        let protects = |a: &Action| -> Option<String> {
            match a {
                Action::Bind { dst, .. }
                | Action::Tmpfs { dst, .. }
                | Action::Proc { dst, .. }
                | Action::Dev { dst, .. }
                | Action::Mqueue { dst }
                | Action::RemountRo { dst }
                | Action::Hide { dst, .. }
                | Action::Overlay { dst, .. }
                | Action::DbusSocket { dst } => Some(dst.clone()),
                _ => None,
            }
        };
        let mut pins: Vec<(usize, Vec<String>)> = vec![];
        for (i, s) in self.steps.iter().enumerate() {
            let Action::Bind {
                dst: top,
                readonly: false,
                dir: true,
                ..
            } = &s.action
            else {
                continue;
            };
            let top = std::path::Path::new(top);
            let mut mine: Vec<String> = vec![];
            // Mount points below `top` so far: a mount below one of them is
            // inside that mount (a tmpfs, a bind: another writable bind
            // pins its own), not in this bind, and its folders are made
            // there, after it: pinned here, before it, they would be made
            // in this bind, on the host, and then covered.
            let mut points: Vec<String> = vec![];
            for later in &self.steps[i + 1..] {
                let Some(d) = protects(&later.action) else {
                    continue;
                };
                let d = std::path::Path::new(&d);
                if d.strip_prefix(top)
                    .map_or(true, |r| r.as_os_str().is_empty())
                {
                    continue;
                }
                let mut between: Vec<String> = vec![];
                let mut inside_another = false;
                for a in d.ancestors().skip(1) {
                    if a == top {
                        break;
                    }
                    if points.iter().any(|p| std::path::Path::new(p) == a) {
                        inside_another = true;
                        break;
                    }
                    between.push(a.to_string_lossy().into_owned());
                }
                if !inside_another {
                    for a in between {
                        if !mine.contains(&a) {
                            mine.push(a);
                        }
                    }
                }
                points.push(d.to_string_lossy().into_owned());
            }
            if !mine.is_empty() {
                // Outer folders first.
                mine.sort_by_key(|p| p.matches('/').count());
                pins.push((i, mine));
            }
        }
        for (i, dirs) in pins.into_iter().rev() {
            let origin = self.steps[i].origin.clone();
            let steps: Vec<Step> = dirs
                .into_iter()
                .map(|dst| Step {
                    phase: Phase::Mount,
                    action: Action::Pin {
                        mode: made_as(&self.steps[i + 1..], &dst),
                        dst,
                    },
                    origin: origin.clone(),
                })
                .collect();
            self.steps.splice(i + 1..i + 1, steps);
        }
    }

    /// Every host path a step opens or makes that lies below a folder the
    /// sandbox may write (a writable bind's source, a writable overlay's
    /// upper folder) gets that folder, the outermost one: the executor
    /// resolves the rest without following links the app could have left
    /// there (a writable W and a read-only bind of W/app/conf: the app
    /// replaces W/app with a link to ~/.ssh, and the next run would bind
    /// ~/.ssh/conf).
    fn mark_writable_folders(&mut self) {
        let writable: Vec<String> = self
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::Bind {
                    src,
                    readonly: false,
                    dir: true,
                    ..
                } => Some(src.clone()),
                Action::Overlay {
                    upper: Some(u),
                    readonly: false,
                    ..
                } => Some(u.clone()),
                _ => None,
            })
            .collect();
        let outermost = |p: &str| -> Option<String> {
            writable
                .iter()
                .filter(|w| p != w.as_str() && is_under(p, w))
                .min_by_key(|w| w.len())
                .cloned()
        };
        let all = |paths: &mut dyn Iterator<Item = &String>| -> Vec<String> {
            let mut found: Vec<String> = paths.filter_map(|p| outermost(p)).collect();
            found.sort();
            found.dedup();
            found
        };
        for s in &mut self.steps {
            match &mut s.action {
                Action::Bind { src, below, .. } | Action::RootBind { src, below } => {
                    *below = outermost(src)
                }
                Action::Overlay {
                    lower,
                    upper,
                    work,
                    below,
                    ..
                } => *below = all(&mut lower.iter().chain(upper.iter()).chain(work.iter())),
                Action::HostDirs { dirs, below, .. } => *below = all(&mut dirs.iter()),
                _ => {}
            }
        }
    }

    /// Why the current folder `src` may not be bound writable, if it may
    /// not: it is `/`, the caller's home or above it, or it holds a place
    /// code runs from later that does not exist yet (one that exists is
    /// made read-only inside it instead).
    fn too_broad_to_write(&self, src: &str) -> Option<String> {
        let src = &self.resolved(src);
        let home = self.loaded.home.as_deref().map(|h| self.resolved(h));
        if src == "/" || home.as_deref().is_some_and(|h| is_under(h, src)) {
            return Some("holds your home folder".into());
        }
        self.loaded
            .guarded
            .iter()
            .find(|g| {
                let place = self.resolved(&g.path);
                g.guard == Guard::Runs
                    && &place != src
                    && is_under(&place, src)
                    && self.host.path_kind(&place) == PathKind::Missing
            })
            .map(|g| {
                format!(
                    "is where '{}' would be made, from which code runs later",
                    g.path
                )
            })
    }

    /// Where `path` really is: every link resolved, also for a path that
    /// does not exist yet (its nearest existing folder's real path, and
    /// the rest as written). The bind of a folder reached through a link
    /// shows the folder the link leads to, and the guarded places are
    /// named from `$HOME`, which may lead through links too.
    fn resolved(&self, path: &str) -> String {
        if let Some(r) = self.real.borrow().get(path) {
            return r.clone();
        }
        let r = self.resolve(path);
        self.real.borrow_mut().insert(path.to_string(), r.clone());
        r
    }

    fn resolve(&self, path: &str) -> String {
        let mut rest = vec![];
        let mut at = std::path::Path::new(path);
        loop {
            if let Some(real) = self.host.real_path(&at.to_string_lossy()) {
                let mut p = std::path::PathBuf::from(real);
                p.extend(rest.iter().rev());
                return p.to_string_lossy().into_owned();
            }
            match (at.parent(), at.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    at = parent;
                }
                _ => return path.to_string(),
            }
        }
    }

    /// The caller's guarded places inside a bind of `src` at `dst`:
    /// secrets hidden, places code runs from read-only (when the bind is
    /// writable), unless the profile names them itself. Compared where
    /// they really are: through a link into the bind (dotfiles), or a home
    /// reached through a link, a place is still inside it.
    fn guard(&mut self, src: &str, dst: &str, readonly: bool, o: Option<Origin>) {
        let src = self.resolved(src);
        let named = |c: &Self, place: &str| {
            c.loaded.profile.mounts.iter().any(|m| {
                m.src
                    .as_ref()
                    .is_some_and(|s| is_under(&c.resolved(&s.value), place))
            })
        };
        let mut steps = vec![];
        for g in &self.loaded.guarded {
            if g.guard == Guard::Runs && readonly {
                continue;
            }
            let real = self.resolved(&g.path);
            if real == src || !is_under(&real, &src) || named(self, &real) {
                continue;
            }
            // Only what is there: a mask needs something to cover (a
            // missing place is the validator's, and the cwd rule's).
            let kind = self.host.path_kind(&real);
            if kind == PathKind::Missing {
                continue;
            }
            let Ok(rel) = std::path::Path::new(&real).strip_prefix(&src) else {
                continue;
            };
            let at = std::path::Path::new(dst)
                .join(rel)
                .to_string_lossy()
                .into_owned();
            steps.push(match g.guard {
                Guard::Secret => Action::Hide {
                    dst: at,
                    dir: kind == PathKind::Dir,
                },
                Guard::Runs => Action::RemountRo { dst: at },
            });
        }
        // Two names of one place (a link to it) guard it once.
        let mut seen = std::collections::HashSet::new();
        steps.retain(|s| seen.insert(format!("{s:?}")));
        for s in steps {
            self.push(Phase::Mount, s, o.clone());
        }
    }

    fn identity(&mut self) {
        let p = &self.loaded.profile;
        if p.ns_new(NsKind::Uts) {
            let name = p
                .uts
                .hostname
                .as_ref()
                .map(|h| h.value.clone())
                .unwrap_or_else(|| "sandbox".into());
            let o = self.origin_of(&p.uts.hostname);
            self.push(Phase::Identity, Action::SetHostname { name }, o);
            if let Some(d) = &p.uts.domainname {
                let o = self.origin(d.span);
                self.push(
                    Phase::Identity,
                    Action::SetDomainname {
                        name: d.value.clone(),
                    },
                    o,
                );
            }
        }
        if p.ns_new(NsKind::Cgroup) {
            let o = p
                .namespace(NsKind::Cgroup)
                .and_then(|s| self.origin(s.span));
            self.push(Phase::Identity, Action::NewCgroupNamespace, o);
        }
        if p.ns_new(NsKind::Time) {
            let o = p.namespace(NsKind::Time).and_then(|s| self.origin(s.span));
            let ms = |v: &Option<Sp<i64>>| v.as_ref().map(|s| s.value).unwrap_or(0);
            self.push(
                Phase::Identity,
                Action::TimeNamespace {
                    monotonic_ms: ms(&p.time.monotonic),
                    boottime_ms: ms(&p.time.boottime),
                },
                o,
            );
        }
        if p.ns_new(NsKind::Net) {
            let o = p.namespace(NsKind::Net).and_then(|s| self.origin(s.span));
            self.push(Phase::Identity, Action::LoopbackUp, o);
            let n = &p.network;
            if matches!(self.net_mode(), NetMode::Veth | NetMode::Macvlan) {
                let veth = self.net_mode() == NetMode::Veth;
                let address = match &n.address {
                    Some(a) if a.value == NO_ADDRESS => None,
                    Some(a) => Some(self.cidr(a)),
                    None => Some(Some(VETH_ADDRESS)),
                };
                let gateway = match &n.gateway {
                    Some(g) => match g.value.parse::<IpAddr>() {
                        Ok(ip) => Some(ip),
                        Err(_) => {
                            let e = format!("gateway '{}' is not an IP address", g.value);
                            self.diags.push(Diagnostic::error(g.span, e));
                            None
                        }
                    },
                    // A veth's other end is the way out, by default; an
                    // interface the app configures gets the route it asks for.
                    None if veth && address.is_some() => self.veth_host_address().map(|a| a.addr),
                    None => None,
                };
                // An address that did not parse is an error said above.
                let Some(address) = address.map_or(Some(None), |a| a.map(Some)) else {
                    return;
                };
                let o = self.origin_of(&n.address).or(self.origin_of(&n.mode));
                self.push(
                    Phase::Identity,
                    Action::ConfigureInterface { address, gateway },
                    o,
                );
            }
        }
    }

    fn sandwich(&mut self) {
        let p = &self.loaded.profile;
        if self.sandwich_on() {
            let (uid, gid) = self.app_ids();
            let own_origin = p
                .user
                .own_namespaces
                .first()
                .and_then(|k| self.origin(k.span));
            let o = self.origin_of(&p.user.sandwich).or(own_origin);
            let nested_userns = self.nested_userns();
            // Inside the sandwich the ranges map onto the same ids outside it.
            let ranges = self
                .id_ranges()
                .into_iter()
                .map(|r| IdMapEntry {
                    outside: r.inside,
                    ..r
                })
                .collect();
            self.push(
                Phase::Sandwich,
                Action::Sandwich {
                    uid: Some(uid).filter(|_| !self.unmapped("uid")),
                    gid: Some(gid).filter(|_| !self.unmapped("gid")),
                    nested_userns,
                    ranges,
                    own: self.own_namespaces(),
                },
                o,
            );
        }
        if self.joined_user_ids()
            || !p.ns_private(NsKind::User) && (p.user.uid.is_some() || p.user.gid.is_some())
        {
            let (uid, gid) = self.app_ids();
            let o = self.origin_of(&p.user.uid).or(self.origin_of(&p.user.gid));
            self.push(Phase::Sandwich, Action::SetIds { uid, gid }, o);
        }
        let mut keep: Vec<Capability> = vec![];
        for c in &p.process.capabilities {
            match Capability::named(&c.value) {
                Some(cap) => keep.push(cap),
                // The validator says it with the names there are; a plan
                // never drops a capability the profile asked for unheard.
                None => self.diags.push(Diagnostic::error(
                    c.span,
                    format!("unknown capability '{}'", c.value),
                )),
            }
        }
        // Administering its own namespaces takes these capabilities; in the
        // inner user namespace they reach nothing the profile set up.
        for k in self.own_namespaces() {
            use crate::capabilities::{NET_ADMIN, SYS_ADMIN, SYS_TIME};
            let caps: &[Capability] = match k {
                NsKind::Net => &[NET_ADMIN],
                // The app makes its time namespaces itself (unshare needs
                // CAP_SYS_ADMIN) and sets their clocks (CAP_SYS_TIME).
                NsKind::Time => &[SYS_ADMIN, SYS_TIME],
                NsKind::User
                | NsKind::Mount
                | NsKind::Pid
                | NsKind::Ipc
                | NsKind::Uts
                | NsKind::Cgroup => &[SYS_ADMIN],
            };
            for cap in caps {
                if !keep.contains(cap) {
                    keep.push(*cap);
                }
            }
        }
        // Mapping uid 0 into a new user namespace takes CAP_SETFCAP over
        // the parent one (Linux 5.12 on): an app that is root inside keeps
        // it to run a sandbox of its own. In the inner user namespace it
        // reaches only files' capabilities for that namespace's root, which
        // no_new_privs keeps any exec from gaining.
        if self.nesting() && self.sandwich_on() && self.app_ids().0 == 0 {
            let cap = crate::capabilities::SETFCAP;
            if !keep.contains(&cap) {
                keep.push(cap);
            }
        }
        // The sandbox's network belongs to the outer user namespace: from
        // inside the sandwich no capability reaches it. Ports below 1024
        // and ping need none there (see NetSysctls); the rest would be
        // kept for nothing.
        // An interface left for the app to configure (address = "none")
        // needs the capabilities where the sandbox's network is: a network
        // of the app's own (own_namespaces) would not have it.
        let unaddressed = self.unaddressed();
        use crate::capabilities::{NET_ADMIN, NET_BROADCAST, NET_RAW};
        const NET_CAPS: [Capability; 3] = [NET_ADMIN, NET_RAW, NET_BROADCAST];
        if self.sandwich_on()
            && p.ns_new(NsKind::Net)
            && (unaddressed.is_some() || !self.own_namespaces().contains(&NsKind::Net))
        {
            for c in &p.process.capabilities {
                if let Some(name) = Capability::named(&c.value).filter(|c| NET_CAPS.contains(c)) {
                    let hint = match &unaddressed {
                        Some(at) => format!("an app that configures eth0 itself (address = \"none\" at {at}) needs them in the user namespace that owns the sandbox's network: set [user] sandwich = false (own_namespaces = [\"net\"] would give it a new network without eth0)"),
                        None => "add [user] own_namespaces = [\"net\"] for a network the app administers itself (it brings its interfaces up), or set [user] sandwich = false; ping and ports below 1024 need no capability here".into(),
                    };
                    self.diags.push(
                        Diagnostic::error(
                            c.span,
                            format!("{name} would reach nothing: under the sandwich the sandbox's network belongs to the outer user namespace"),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
        // Unaddressed, and no way for the app to address it: say so.
        if let Some(a) = p.network.address.as_ref().filter(|_| unaddressed.is_some()) {
            let both = keep.contains(&NET_ADMIN) && keep.contains(&NET_RAW);
            if !self.sandwich_on() && !both {
                self.warnings.push(
                    Diagnostic::warning(a.span, "address = \"none\" leaves eth0 for the app to configure, but it does not keep CAP_NET_ADMIN and CAP_NET_RAW, which a DHCP client needs to do it")
                        .with_hint("add [process] capabilities = [\"CAP_NET_ADMIN\", \"CAP_NET_RAW\"]"),
                );
            } else if self.sandwich_on()
                && !p
                    .process
                    .capabilities
                    .iter()
                    .any(|c| Capability::named(&c.value).is_some_and(|c| NET_CAPS.contains(&c)))
            {
                self.warnings.push(
                    Diagnostic::warning(a.span, "address = \"none\" leaves eth0 for the app to configure, but under the sandwich it can hold no capability over the sandbox's network")
                        .with_hint("for a DHCP client inside: [user] sandwich = false and [process] capabilities = [\"CAP_NET_ADMIN\", \"CAP_NET_RAW\"]"),
                );
            }
        }
        let o = p
            .process
            .capabilities
            .first()
            .and_then(|c| self.origin(c.span));
        self.push(Phase::Sandwich, Action::DropCapabilities { keep }, o);
    }

    /// PID 1's steps: with an init, the session and the parent death
    /// signal belong to PID 1 (the app inherits the session; PID 1's death
    /// ends the pid namespace), and the app's process starts from it before
    /// the sandwich, so that PID 1 stays in the outer user namespace.
    /// A new session (no controlling terminal) by default only where no
    /// filter refuses TIOCSTI and TIOCLINUX: with one, the app shares the
    /// caller's terminal as under bubblewrap and firejail (job control,
    /// Ctrl-C, /dev/tty), and cannot push keystrokes into it.
    fn new_session(&self) -> bool {
        let p = &self.loaded.profile;
        let filtered =
            p.seccomp.policy.as_ref().map(|s| s.value) != Some(crate::profile::SeccompPolicy::None);
        flag(&p.process.new_session, !filtered)
    }

    fn init(&mut self) {
        let pr = &self.loaded.profile.process;
        if self.new_session() {
            let o = self.origin_of(&pr.new_session);
            self.push(Phase::Init, Action::NewSession, o);
        }
        if flag(&pr.die_with_parent, true) {
            let o = self.origin_of(&pr.die_with_parent);
            self.push(Phase::Init, Action::DieWithParent, o);
        }
        let o = self.origin_of(&pr.init);
        self.push(Phase::Init, Action::Init, o);
    }

    /// The app's process. `init`: PID 1 took the session and the parent
    /// death signal.
    fn process(&mut self, init: bool) {
        let p = &self.loaded.profile;
        let pr = &p.process;
        if !init && self.new_session() {
            let o = self.origin_of(&pr.new_session);
            self.push(Phase::Process, Action::NewSession, o);
        }
        let cwd = pr
            .cwd
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_else(|| "/".into());
        let o = self.origin_of(&pr.cwd);
        self.push(Phase::Process, Action::Chdir { path: cwd.clone() }, o);
        let clear = flag(&p.env.clear, true);
        let mut set: Vec<(String, String)> = p
            .env
            .set
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect();
        if self.dbus_on() && !set.iter().any(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS") {
            set.push((
                "DBUS_SESSION_BUS_ADDRESS".into(),
                format!("unix:path={}", self.dbus_socket()),
            ));
        }
        let unset: Vec<String> = p.env.unset.iter().map(|u| u.value.clone()).collect();
        let keep: Vec<String> = p.env.keep.iter().map(|k| k.value.clone()).collect();
        let unsets = |name: &str| super::unsets(&unset, &keep, name);
        if clear
            && !set.iter().any(|(k, _)| k == "PATH")
            && !p.env.keep.iter().any(|k| k.value == "PATH")
            && !unsets("PATH")
        {
            set.insert(0, ("PATH".into(), DEFAULT_PATH.into()));
        }
        // PWD names the working directory to shells and getcwd's users:
        // the caller's, where the caller's environment passes, names where
        // the launcher was started, not where the app starts. It is the
        // app's cwd, as bubblewrap sets it, unless the profile sets it.
        let passes_pwd =
            (!clear || p.env.keep.iter().any(|k| glob_match(&k.value, "PWD"))) && !unsets("PWD");
        if passes_pwd && !set.iter().any(|(k, _)| k == "PWD") {
            set.push(("PWD".into(), cwd));
        }
        let e = &p.env;
        let o = self.origin_among(
            e.clear.iter().map(|c| c.span).chain(
                e.keep
                    .iter()
                    .chain(&e.unset)
                    .chain(e.set.iter().map(|(k, _)| k))
                    .map(|k| k.span),
            ),
        );
        self.push(
            Phase::Process,
            Action::Environment {
                clear,
                keep,
                unset,
                set,
            },
            o,
        );
        if !p.limits.values.is_empty() {
            let limits = p
                .limits
                .values
                .iter()
                .map(|(resource, v)| Rlimit {
                    resource: *resource,
                    value: v.value,
                })
                .collect();
            let o = p
                .limits
                .values
                .first()
                .and_then(|(_, v)| self.origin(v.span));
            self.push(Phase::Process, Action::SetRlimits { limits }, o);
        }
        if !init && flag(&pr.die_with_parent, true) {
            let o = self.origin_of(&pr.die_with_parent);
            self.push(Phase::Process, Action::DieWithParent, o);
        }
        self.push(Phase::Process, Action::NoNewPrivs, None);
    }

    fn landlock(&mut self) {
        let p = &self.loaded.profile;
        let l = &p.landlock;
        if !flag(&l.enabled, true) {
            return;
        }
        let paths = |v: &[SpStr]| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
        let (mut read, mut write, mut exec) = (paths(&l.read), paths(&l.write), paths(&l.exec));
        if flag(&l.from_mounts, true) {
            // Everything mounted is there to be read: the mounts decide what
            // the sandbox sees; landlock adds where it may write and execute.
            read.push("/".into());
            // A rule opens its path once the root is built: not one a
            // later mount hides (sandbox check warns of it), which may not
            // be there at all.
            let hidden = hidden_later(&self.steps);
            for (step, hidden) in self.steps.iter().zip(hidden) {
                if hidden {
                    continue;
                }
                match &step.action {
                    // Read-only code: readable (by the rule on /) and
                    // executable; a file bound on its own as well as a
                    // folder, and a file the profile made (its content is
                    // the profile's, in the read-only root or elsewhere).
                    Action::Bind {
                        dst,
                        readonly: true,
                        ..
                    }
                    | Action::Overlay {
                        dst,
                        readonly: true,
                        ..
                    }
                    | Action::File { dst, .. } => exec.push(dst.clone()),
                    Action::Bind { dst, .. }
                    | Action::Tmpfs { dst, .. }
                    | Action::Overlay { dst, .. }
                    | Action::Mqueue { dst }
                    | Action::Dev { dst, .. } => write.push(dst.clone()),
                    Action::RootBind { .. } => exec.push("/".into()),
                    _ => {}
                }
            }
            // A root left writable (readonly_root = false) is written as
            // the mounts on it are: a tmpfs root, or the host's own tree.
            let has_root = self
                .steps
                .iter()
                .any(|s| matches!(s.action, Action::RootTmpfs | Action::RootBind { .. }));
            let root_ro = self
                .steps
                .iter()
                .any(|s| matches!(s.action, Action::RemountRootRo));
            if has_root && !root_ro {
                write.push("/".into());
            }
        }
        // An own time namespace is the app's to set the clocks of, through
        // the offsets file of its own process (the app's process applies
        // the ruleset, so /proc/self is the app's then and after exec).
        let proc_at_proc = self
            .steps
            .iter()
            .any(|s| matches!(&s.action, Action::Proc { dst, .. } if dst == "/proc"));
        if self.own_namespaces().contains(&NsKind::Time) && proc_at_proc {
            write.push("/proc/self/timens_offsets".into());
        }
        // A path already covered by a broader rule of the same kind adds
        // nothing. (Looked up by its parents: linear in the rules.)
        for list in [&mut read, &mut write, &mut exec] {
            list.sort();
            list.dedup();
            let all = list.clone();
            let all: std::collections::HashSet<&Path> = all.iter().map(Path::new).collect();
            list.retain(|p| !Path::new(p).ancestors().skip(1).any(|a| all.contains(a)));
        }
        let scope = match &l.scope {
            Some(s) => s
                .value
                .iter()
                .filter_map(|v| {
                    let scope = Scope::named(&v.value);
                    if scope.is_none() {
                        // The validator said it, with the scopes there are.
                        let e = format!("unknown landlock scope '{}'", v.value);
                        self.diags.push(Diagnostic::error(v.span, e));
                    }
                    scope
                })
                .collect(),
            None => Scope::ALL.to_vec(),
        };
        let o = self
            .origin_of(&l.enabled)
            .or(self.origin_of(&l.from_mounts))
            .or(self.origin_of(&l.compat));
        let compat = match l.compat.as_ref().map(|c| c.value) {
            Some(crate::profile::Compat::Hard) => Compat::Hard,
            Some(crate::profile::Compat::BestEffort) | None => Compat::BestEffort,
        };
        // An app allowed user namespaces of its own writes their id maps in
        // /proc (the sandbox's own /proc: /proc/sys stays read-only).
        if self.nested_userns() && !write.iter().any(|w| w == "/proc") {
            write.push("/proc".into());
        }
        // The sandbox's own message queues are its own, as its abstract
        // sockets are: allowed, through their file system opened before
        // the sandwich (mounting it needs rights over the IPC namespace).
        let mqueue = p.ns_new(NsKind::Ipc) && p.ns_private(NsKind::Mount);
        if mqueue {
            let at = self
                .steps
                .iter()
                .position(|s| matches!(s.action, Action::PivotRoot))
                .unwrap_or(self.steps.len());
            self.steps.insert(
                at,
                Step {
                    phase: Phase::Mount,
                    action: Action::MqueueRights,
                    origin: None,
                },
            );
        }
        // What this kernel cannot enforce: an error with compat = "hard",
        // a note (and a warning at run time) with best-effort.
        let abi = self.host.landlock_abi();
        let mut missing: Vec<String> = LANDLOCK_FEATURES
            .iter()
            .filter(|(_, need, used)| abi < *need && used(&l.tcp_bind, &l.tcp_connect, &scope))
            .map(|(what, need, _)| format!("{what} (ABI {need})"))
            .collect();
        if abi == 0 {
            missing = vec!["everything: this kernel has no Landlock".into()];
        }
        if !missing.is_empty() {
            let what = format!(
                "this kernel's Landlock ABI is {abi}; it cannot enforce {}",
                missing.join(", ")
            );
            match (compat, &l.compat) {
                (Compat::Hard, Some(c)) => {
                    self.diags.push(
                        Diagnostic::error(c.span, format!("landlock: {what}")).with_hint(
                            "use compat = \"best-effort\" to apply what the kernel supports",
                        ),
                    );
                }
                _ => self.notes.push(format!("landlock (best-effort): {what}")),
            }
        }
        self.push(
            Phase::Landlock,
            Action::Landlock {
                mqueue,
                read,
                write,
                exec,
                tcp_bind: l.tcp_bind.iter().map(|p| p.value).collect(),
                tcp_connect: l.tcp_connect.iter().map(|p| p.value).collect(),
                scope,
                compat,
            },
            o,
        );
    }

    fn seccomp(&mut self) {
        let s = &self.loaded.profile.seccomp;
        let policy = match s.policy.as_ref().map(|p| p.value) {
            Some(crate::profile::SeccompPolicy::None) => return,
            Some(crate::profile::SeccompPolicy::Default) | None => SeccompPolicy::Default,
            Some(crate::profile::SeccompPolicy::Allowlist) => SeccompPolicy::Allowlist,
        };
        let mut names = |list: &[SpStr]| -> Vec<Syscall> {
            let mut calls = vec![];
            for n in list {
                match crate::syscalls::expand(&n.value) {
                    Some(c) => calls.extend(c),
                    // The validator said it, with the names there are; a
                    // filter never leaves out a call the profile named.
                    None => self.diags.push(Diagnostic::error(
                        n.span,
                        format!("unknown system call '{}'", n.value),
                    )),
                }
            }
            calls
        };
        let (allow, deny) = (names(&s.allow), names(&s.deny));
        let mut syscalls: Vec<Syscall> = match policy {
            SeccompPolicy::Default => {
                // An app that owns a mount namespace needs the mount calls
                // (they reach only that namespace); not chroot or pivot_root.
                // A nested sandbox needs pivot_root too (into its new root),
                // still not chroot.
                let owns_mounts = self.own_namespaces().contains(&NsKind::Mount);
                let nesting = self.nesting();
                let mount_calls = crate::syscalls::expand("@mount").unwrap_or_default();
                crate::syscalls::DEFAULT_DENY
                    .iter()
                    .flat_map(|g| crate::syscalls::expand(g).unwrap_or_default())
                    .filter(|n| {
                        let kept = if nesting {
                            &["chroot"][..]
                        } else {
                            &["chroot", "pivot_root"][..]
                        };
                        !((owns_mounts || nesting)
                            && mount_calls.contains(n)
                            && !kept.contains(&n.name()))
                    })
                    .chain(deny)
                    .filter(|n| !allow.contains(n))
                    .collect()
            }
            SeccompPolicy::Allowlist => allow.into_iter().filter(|n| !deny.contains(n)).collect(),
        };
        let mut seen = std::collections::HashSet::new();
        syscalls.retain(|n| seen.insert(n.nr()));
        let o = self.origin_among(
            s.policy
                .iter()
                .map(|p| p.span)
                .chain(s.errno.iter().map(|e| e.span))
                .chain(s.deny.iter().chain(&s.allow).map(|n| n.span)),
        );
        self.push(
            Phase::Seccomp,
            Action::Seccomp {
                policy,
                syscalls,
                errno: s.errno.as_ref().map(|e| e.value).unwrap_or(libc::EPERM),
                namespaces: self.nested_userns(),
                time_namespaces: self.own_namespaces().contains(&NsKind::Time),
                setuid_bits: flag(&s.allow_setuid_bits, false),
                openat2: self.nesting(),
                // Not among the origins: the step's is the rules', which
                // a refusal's report names.
                trace: flag(&s.trace, false),
                watch_paths: flag(&s.trace, false)
                    && self
                        .steps
                        .iter()
                        .any(|s| matches!(s.action, Action::Landlock { .. })),
                learn: false,
            },
            o,
        );
    }
}

/// Landlock features, the ABI that brought them, and whether a profile uses
/// them (filesystem rights are always asked for).
type Uses = fn(&[Sp<u16>], &[Sp<u16>], &[Scope]) -> bool;
const LANDLOCK_FEATURES: [(&str, u32, Uses); 6] = [
    ("file system rights", 1, |_, _, _| true),
    (
        "renaming and linking across folders (refer)",
        2,
        |_, _, _| true,
    ),
    ("truncate", 3, |_, _, _| true),
    ("TCP ports", 4, |b, c, _| !b.is_empty() || !c.is_empty()),
    ("device ioctls", 5, |_, _, _| true),
    ("signal and abstract unix socket scopes", 6, |_, _, s| {
        !s.is_empty()
    }),
];

/// The destination of a mount step that puts something at a path.
pub(super) fn step_dst(a: &Action) -> Option<&str> {
    match a {
        Action::Bind { dst, .. }
        | Action::Tmpfs { dst, .. }
        | Action::Proc { dst, .. }
        | Action::Dev { dst, .. }
        | Action::Mqueue { dst }
        | Action::Symlink { dst, .. }
        | Action::Dir { dst, .. }
        | Action::File { dst, .. }
        | Action::Hide { dst, .. }
        | Action::Overlay { dst, .. }
        | Action::DbusSocket { dst } => Some(dst),
        _ => None,
    }
}

/// The mode folder `p` gets from the first of `later` that makes it, had
/// no pin made it first: a `dir`'s own at `p`, a mount point's at `p`, or
/// the parents' mode of a step below it.
fn made_as(later: &[Step], p: &str) -> u32 {
    for s in later {
        let Some(d) = step_dst(&s.action) else {
            continue;
        };
        if d == p {
            return match &s.action {
                Action::Dir { mode, .. } => *mode,
                _ => MOUNT_POINT_DIR,
            };
        }
        if is_under(d, p) {
            return s.action.parents_mode();
        }
    }
    MOUNT_POINT_DIR
}

/// For each step with a place, whether a later step mounts something at
/// it or above it, hiding what is there (a pin or a remount-ro keeps what
/// it covers in view).
fn hidden_later(steps: &[Step]) -> Vec<bool> {
    // From the last step back, the places mounted over after each one:
    // each step then looks up its own place and its parents (linear in
    // the steps; a pairwise check was quadratic).
    let mut later: std::collections::HashSet<&Path> = Default::default();
    let mut hidden = vec![false; steps.len()];
    for (i, s) in steps.iter().enumerate().rev() {
        if let Some(d) = step_dst(&s.action) {
            hidden[i] = Path::new(d).ancestors().any(|a| later.contains(a));
        }
        match &s.action {
            Action::Bind { dst: d, .. }
            | Action::Tmpfs { dst: d, .. }
            | Action::Proc { dst: d, .. }
            | Action::Dev { dst: d, .. }
            | Action::Mqueue { dst: d }
            | Action::Hide { dst: d, .. }
            | Action::Overlay { dst: d, .. }
            | Action::DbusSocket { dst: d } => {
                later.insert(Path::new(d));
            }
            _ => {}
        }
    }
    hidden
}

/// Overlayfs needs a work directory on the upper's filesystem: a hidden
/// sibling of the upper directory.
pub fn work_dir_for(upper: &str) -> String {
    let (parent, name) = split_parent(upper);
    format!("{}/.{name}.work", parent.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;
    use crate::profile::{SearchPath, Vars, load_text, validate};

    fn compiled(
        text: &str,
        host: &FakeHost,
        validated: bool,
    ) -> (Loaded, Result<Plan, Vec<Diagnostic>>) {
        let mut l = load_text("t.toml", None, text, &SearchPath::builtin_only());
        validate(&mut l, &Vars::example_user(), host);
        if validated {
            assert!(!l.has_errors(), "{:?}", l.diags);
        }
        let inv = Invocation {
            command: vec!["/bin/true".into()],
            ..Invocation::default()
        };
        let plan = compile(&l, host, &inv);
        (l, plan)
    }

    fn plan_of(text: &str) -> Plan {
        compiled(text, &FakeHost::debian_user(), true).1.unwrap()
    }

    /// A root caller, whom veth networking needs.
    fn root() -> FakeHost {
        FakeHost {
            uid: 0,
            gid: 0,
            ..FakeHost::debian_user()
        }
    }

    fn on_root(text: &str) -> Plan {
        compiled(text, &root(), true).1.unwrap()
    }

    fn action(p: &Plan, f: impl Fn(&Action) -> bool) -> &Action {
        &p.find(f).expect("step present").action
    }

    /// The plan's own error for what the validator lets through only when
    /// its errors are ignored: (message, line) of each.
    fn refused(text: &str) -> Vec<(String, usize)> {
        let (l, plan) = compiled(text, &FakeHost::debian_user(), false);
        lines(&l, &plan.expect_err("the plan refuses it"))
    }

    fn lines(l: &Loaded, diags: &[Diagnostic]) -> Vec<(String, usize)> {
        diags
            .iter()
            .map(|d| {
                (
                    d.message.clone(),
                    d.span.map_or(0, |s| l.sources.line_col(s).0),
                )
            })
            .collect()
    }

    #[test]
    fn capabilities_are_resolved_to_their_numbers() {
        let p = plan_of(
            "extends = [\"default\"]\n[process]\ncapabilities = [\"net_bind_service\", \"CAP_CHOWN\"]\n",
        );
        let Action::DropCapabilities { keep } =
            action(&p, |a| matches!(a, Action::DropCapabilities { .. }))
        else {
            unreachable!()
        };
        let kept: Vec<(u8, &str)> = keep.iter().map(|c| (c.number(), c.name())).collect();
        assert_eq!(kept, [(10, "CAP_NET_BIND_SERVICE"), (0, "CAP_CHOWN")]);
    }

    #[test]
    fn an_unknown_capability_is_an_error_at_its_line_not_dropped() {
        let e = refused(
            "extends = [\"default\"]\n[process]\ncapabilities = [\"CAP_CHOWN\", \"CAP_NOSUCH\"]\n",
        );
        assert_eq!(e, [("unknown capability 'CAP_NOSUCH'".to_string(), 3)]);
    }

    #[test]
    fn landlock_scopes_are_an_enum_and_an_unknown_one_is_an_error() {
        let landlock = |p: &Plan| match action(p, |a| matches!(a, Action::Landlock { .. })) {
            Action::Landlock { scope, compat, .. } => (scope.clone(), *compat),
            _ => unreachable!(),
        };
        let p = plan_of("extends = [\"default\"]\n");
        assert_eq!(landlock(&p), (Scope::ALL.to_vec(), Compat::BestEffort));
        let p = plan_of(
            "extends = [\"default\"]\n[landlock]\nscope = [\"signal\"]\ncompat = \"hard\"\n",
        );
        assert_eq!(landlock(&p), (vec![Scope::Signal], Compat::Hard));
        let e =
            refused("extends = [\"default\"]\n[landlock]\n\nscope = [\"signal\", \"sockets\"]\n");
        assert_eq!(e, [("unknown landlock scope 'sockets'".to_string(), 4)]);
    }

    #[test]
    fn syscalls_are_resolved_to_numbers_and_an_unknown_one_is_an_error() {
        let seccomp = |p: &Plan| match action(p, |a| matches!(a, Action::Seccomp { .. })) {
            Action::Seccomp {
                policy, syscalls, ..
            } => (*policy, syscalls.clone()),
            _ => unreachable!(),
        };
        let p = plan_of(
            "extends = [\"default\"]\n[seccomp]\npolicy = \"allowlist\"\nallow = [\"read\", \"@swap\"]\n",
        );
        let nr = |n: &str| crate::syscalls::number(n).unwrap();
        let (policy, calls) = seccomp(&p);
        assert_eq!(policy, SeccompPolicy::Allowlist);
        let got: Vec<(u32, &str)> = calls.iter().map(|s| (s.nr(), s.name())).collect();
        assert_eq!(
            got,
            [
                (nr("read"), "read"),
                (nr("swapon"), "swapon"),
                (nr("swapoff"), "swapoff")
            ]
        );
        let p = plan_of("extends = [\"default\"]\n[seccomp]\npolicy = \"none\"\n");
        assert!(p.find(|a| matches!(a, Action::Seccomp { .. })).is_none());
        let e =
            refused("extends = [\"default\"]\n[seccomp]\ndeny = [\"ptrace\",\n  \"frobnicate\"]\n");
        assert_eq!(e, [("unknown system call 'frobnicate'".to_string(), 4)]);
    }

    #[test]
    fn rlimits_name_their_resource() {
        let p = plan_of(
            "extends = [\"default\"]\n[limits]\nnofile = 64\nstack = \"8M\"\ncore = \"unlimited\"\n",
        );
        let Action::SetRlimits { limits } = action(&p, |a| matches!(a, Action::SetRlimits { .. }))
        else {
            unreachable!()
        };
        let got: Vec<(Resource, LimitValue)> =
            limits.iter().map(|l| (l.resource, l.value)).collect();
        // In the documentation's order, as the profile's keys are read.
        assert_eq!(
            got,
            [
                (Resource::Nofile, LimitValue::Value(64)),
                (Resource::Core, LimitValue::Unlimited),
                (Resource::Stack, LimitValue::Value(8 << 20)),
            ]
        );
    }

    #[test]
    fn addresses_are_parsed_when_the_plan_is_built() {
        let p = on_root(
            "extends = [\"default\"]\n[network]\nmode = \"veth\"\naddress = \"fd00::2/64\"\nhost_address = \"fd00::1/64\"\n",
        );
        let Action::Veth { host_address, .. } = action(&p, |a| matches!(a, Action::Veth { .. }))
        else {
            unreachable!()
        };
        assert_eq!(host_address.to_string(), "fd00::1/64");
        let Action::ConfigureInterface { address, gateway } =
            action(&p, |a| matches!(a, Action::ConfigureInterface { .. }))
        else {
            unreachable!()
        };
        assert_eq!(
            (
                address.map(|a| (a.addr.to_string(), a.prefix)),
                gateway.map(|g| g.to_string())
            ),
            (Some(("fd00::2".into(), 64)), Some("fd00::1".into()))
        );
        let p = on_root("extends = [\"default\"]\n[network]\nmode = \"veth\"\n");
        assert!(matches!(
            action(&p, |a| matches!(a, Action::ConfigureInterface { .. })),
            Action::ConfigureInterface { address: Some(VETH_ADDRESS), gateway: Some(g) } if *g == VETH_HOST_ADDRESS.addr
        ));
        let e = refused(
            "extends = [\"default\"]\n[network]\nmode = \"veth\"\nhost_address = \"10.0.0.1/33\"\n",
        );
        assert!(
            e.iter()
                .any(|(m, line)| m.contains("10.0.0.1/33") && *line == 4),
            "{e:?}"
        );
    }

    #[test]
    fn whether_pasta_stays_root_is_the_hosts_fact() {
        let pasta_root = |uid: u32| {
            let host = FakeHost {
                uid,
                ..FakeHost::debian_user()
            };
            let (_, p) = compiled(
                "extends = [\"default\"]\n[network]\nmode = \"pasta\"\n",
                &host,
                true,
            );
            match action(&p.unwrap(), |a| matches!(a, Action::Pasta { .. })) {
                Action::Pasta { root, .. } => *root,
                _ => unreachable!(),
            }
        };
        assert!(!pasta_root(1000));
        assert!(pasta_root(0));
    }
}
