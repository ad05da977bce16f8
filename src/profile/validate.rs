//! Variable expansion and the semantic checks of a merged profile.
//!
//! Every problem is reported, not just the first. Errors stop `check`,
//! `plan` and `run`; warnings are printed and let them go on.

use super::guarded::Guard;
use super::resolve::Loaded;
use super::types::*;
use super::vars::{VarError, Vars};
use crate::diag::{Diagnostic, Readiness, Sources, Sp, Span, suggest};
use crate::host::{CgroupRefused, HostFacts, PathKind};
use std::collections::HashMap;
use std::path::{Component, Path};

/// Expand variables, then check the profile. Problems go to `loaded.diags`;
/// optional mounts whose variables are unset are dropped with a note.
pub fn validate(loaded: &mut Loaded, vars: &Vars, host: &dyn HostFacts) {
    let mut v = Validator {
        sources: &loaded.sources,
        vars,
        host,
        diags: vec![],
        notes: vec![],
    };
    v.expand_profile(&mut loaded.profile);
    let unexpanded = v.diags.len();
    v.check(&loaded.profile);
    // A value whose variables could not be expanded is reported once, for
    // that: what the checks then say of its unexpanded text is an echo.
    let failed: Vec<_> = v.diags[..unexpanded].iter().map(|d| d.span).collect();
    let mut i = 0;
    v.diags.retain(|d| {
        i += 1;
        i <= unexpanded || d.span.is_none() || !failed.contains(&d.span)
    });
    loaded.diags.extend(v.diags);
    loaded.notes.extend(v.notes);
    loaded.guarded = super::guarded::places(vars);
    loaded.home = vars
        .home
        .as_ref()
        .and_then(|h| h.to_str())
        .filter(|h| h.starts_with('/'))
        .map(str::to_string);
}

struct Validator<'a> {
    sources: &'a Sources,
    vars: &'a Vars,
    host: &'a dyn HostFacts,
    diags: Vec<Diagnostic>,
    notes: Vec<String>,
}

/// The largest tmpfs size: half of the range, as bubblewrap allows.
pub const MAX_TMPFS_SIZE: u64 = u64::MAX >> 1;

fn is_absolute_clean(p: &str) -> bool {
    Path::new(p).is_absolute() && !Path::new(p).components().any(|c| c == Component::ParentDir)
}

/// A name the kernel takes for a network interface (dev_valid_name).
pub fn is_interface_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() < 16
        && n != "."
        && n != ".."
        && !n.contains(|c: char| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
}

/// `inner` is `outer` or below it.
pub fn is_under(inner: &str, outer: &str) -> bool {
    let (i, o) = (Path::new(inner), Path::new(outer));
    i.starts_with(o)
}

impl Validator<'_> {
    fn error(&mut self, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(span, msg));
        self.diags.last_mut().expect("just pushed")
    }
    fn warn(&mut self, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::warning(span, msg));
        self.diags.last_mut().expect("just pushed")
    }

    /// Expand one value in place; on failure report it and return the
    /// reason. `optional`: a mount that is skipped, with a note, when a
    /// variable it uses is not there (reported here only when it is there
    /// but unusable).
    fn expand(&mut self, s: &mut SpStr, optional: bool) -> Result<(), VarError> {
        let dir = self.sources.file(s.span.file).dir.clone();
        match self.vars.expand(&s.value, dir.as_deref()) {
            Ok(v) => {
                s.value = v;
                Ok(())
            }
            Err(e) => {
                if !(optional && e.skips_optional()) {
                    self.error(s.span, e.to_string()).hint = e.hint();
                }
                Err(e)
            }
        }
    }

    fn expand_all(&mut self, items: &mut [SpStr]) {
        for s in items {
            let _ = self.expand(s, false);
        }
    }

    fn expand_opt(&mut self, s: &mut Option<SpStr>) {
        if let Some(s) = s {
            let _ = self.expand(s, false);
        }
    }

    fn expand_profile(&mut self, p: &mut Profile) {
        if let Some(cmd) = &mut p.command {
            self.expand_all(&mut cmd.value);
        }
        for (_, ns) in &mut p.namespaces {
            if let NsSetting::Join(path) = &ns.value {
                let mut s = Sp::new(path.clone(), ns.span);
                if self.expand(&mut s, false).is_ok() {
                    ns.value = NsSetting::Join(s.value);
                }
            }
        }
        for (_, path) in &mut p.keep {
            let _ = self.expand(path, false);
        }
        self.expand_opt(&mut p.filesystem.root);
        p.mounts.retain_mut(|m| {
            let quiet = m.is_optional();
            m.src_is_cwd = m.src.as_ref().is_some_and(|s| s.value.contains("${PWD}"));
            let mut failed = vec![];
            for s in [&mut m.src, &mut m.dst, &mut m.content, &mut m.upper]
                .into_iter()
                .flatten()
                .chain(&mut m.lower)
            {
                if let Err(e) = self.expand(s, quiet) {
                    failed.push(e);
                }
            }
            match failed.first() {
                Some(e) if quiet && failed.iter().all(VarError::skips_optional) => {
                    // What `optional` is for (a display socket when there
                    // is no display): a note in the plan, not a warning.
                    let at = self.sources.origin(m.kind.span);
                    self.notes.push(format!(
                        "{at}: skipped optional {}: {e}",
                        m.kind.value.name()
                    ));
                    false
                }
                _ => true,
            }
        });
        self.expand_opt(&mut p.process.cwd);
        for (_, v) in &mut p.env.set {
            let _ = self.expand(v, false);
        }
        self.expand_all(&mut p.landlock.read);
        self.expand_all(&mut p.landlock.write);
        self.expand_all(&mut p.landlock.exec);
    }

    fn check(&mut self, p: &Profile) {
        self.check_namespaces(p);
        self.check_user(p);
        self.check_mounts(p);
        self.check_network(p);
        self.check_dbus(p);
        self.check_env_process(p);
        self.check_seccomp(p);
        self.check_landlock(p);
        self.check_desktop_entry(p);
        self.check_package(p);
        self.check_cgroup(p);
    }

    /// `run` makes the sandbox's cgroup before anything else: a limit this
    /// caller cannot have here is said now, not at that step.
    fn check_cgroup(&mut self, p: &Profile) {
        let c = &p.cgroup;
        // An app that may mount a cgroup file system of a cgroup namespace
        // it owns reaches the limit files of the sandbox's cgroup, which
        // belong to the caller unless the caller is root and the sandbox
        // runs as nobody: it could lift its own limits.
        let own = |k| p.user.own_namespaces.iter().any(|o| o.value == k);
        let mounts_cgroups =
            flag(&p.user.nesting, false) || (own(NsKind::Cgroup) && own(NsKind::Mount));
        let files_out_of_reach = self.host.is_root() && !flag(&p.user.host_root, false);
        if mounts_cgroups && !files_out_of_reach {
            let first = [
                c.memory.as_ref().map(|v| v.span),
                c.pids.as_ref().map(|v| v.span),
                c.cpu.as_ref().map(|v| v.span),
            ]
            .into_iter()
            .flatten()
            .next();
            if let Some(span) = first {
                self.error(span, "the app could lift this limit: it may mount the cgroup file system of a cgroup namespace of its own (nesting, or own_namespaces cgroup and mount) and rewrite the sandbox's limit files, which are the caller's")
                    .hint = Some("drop the limit, or nesting / own_namespaces \"cgroup\"; as root, the limit holds without host_root (the files are root's)".into());
            }
        }
        let wanted = [
            ("memory", c.memory.as_ref().map(|v| v.span)),
            ("pids", c.pids.as_ref().map(|v| v.span)),
            ("cpu", c.cpu.as_ref().map(|v| v.span)),
        ];
        for (controller, span) in wanted {
            let Some(span) = span else { continue };
            let Some(refused) = self.host.cgroup_refused(controller) else {
                continue;
            };
            let delegate = "creating a cgroup needs root or a delegated cgroup: run from one, e.g. systemd-run --user --scope -p Delegate=yes sandbox run ...";
            let (message, hint) = match refused {
                CgroupRefused::Unavailable => (
                    format!("a {controller} limit needs the cgroup controller '{controller}', which this machine does not offer"),
                    "remove the limit here, or use a kernel with the controller mounted".to_string(),
                ),
                CgroupRefused::Denied(dir) => (
                    format!("a {controller} limit needs a cgroup of the sandbox's own, which you may not create in '{dir}'"),
                    delegate.to_string(),
                ),
                CgroupRefused::NotALeaf(dir) => (
                    format!("a {controller} limit needs the controller enabled below '{dir}', which holds the launcher itself"),
                    "the launcher's cgroup must be able to delegate: run it from a leaf cgroup, e.g. systemd-run --user --scope -p Delegate=yes sandbox run ...".to_string(),
                ),
            };
            let e = self.error(span, message);
            e.hint = Some(hint);
            e.readiness = Some(Readiness::Setup);
        }
    }

    /// A package name, for `apt install`: one word.
    fn check_package(&mut self, p: &Profile) {
        let Some(k) = &p.package else { return };
        if k.value.is_empty()
            || k.value
                .contains(|c: char| c.is_whitespace() || c.is_control() || c == '/')
        {
            self.error(
                k.span,
                format!("package '{}' is not the name of a package", k.value),
            )
            .hint = Some("give the name apt installs it by, e.g. \"firefox-esr\"".into());
        }
    }

    /// `sandbox desktop-entry` makes a file of this name in the user's
    /// applications folder: a name, not a path.
    fn check_desktop_entry(&mut self, p: &Profile) {
        let Some(e) = &p.desktop_entry else { return };
        let v = &e.value;
        if v.is_empty()
            || v.starts_with('.')
            || v.ends_with(".desktop")
            || v.contains(|c: char| c == '/' || c.is_control())
        {
            self.error(
                e.span,
                format!("desktop_entry '{v}' is not the name of a desktop entry"),
            )
            .hint = Some(
                "give its file name under applications/ without '.desktop', e.g. \"firefox-esr\""
                    .into(),
            );
        }
    }

    fn check_namespaces(&mut self, p: &Profile) {
        for (kind, ns) in &p.namespaces {
            if let NsSetting::Join(path) = &ns.value
                && !Path::new(path).is_absolute()
            {
                self.error(
                    ns.span,
                    format!(
                        "namespaces.{} = \"{path}\": a namespace to join must be an absolute path",
                        kind.key()
                    ),
                )
                .hint = Some(format!(
                    "e.g. \"/proc/PID/ns/{}\" or a bind-mounted namespace file",
                    kind.proc_name()
                ));
            }
        }
        self.check_keep(p);
        let time_new = p.ns_new(NsKind::Time);
        if !time_new {
            for s in [&p.time.monotonic, &p.time.boottime].into_iter().flatten() {
                self.error(s.span, "clock offsets need a new time namespace")
                    .hint = Some("set namespaces.time = true".into());
            }
        }
        if time_new && !(p.ns_new(NsKind::Pid) && flag(&p.process.init, true)) {
            let span = p
                .namespace(NsKind::Time)
                .map(|s| s.span)
                .unwrap_or_default();
            self.error(span, "a new time namespace needs the init (namespaces.pid = true, process.init = true)")
                .hint = Some("a time namespace applies to the processes created after it: the init forks the app into it".into());
        }
        if !p.ns_private(NsKind::Uts) {
            for s in [&p.uts.hostname, &p.uts.domainname].into_iter().flatten() {
                self.error(
                    s.span,
                    "setting a hostname needs a UTS namespace of the sandbox's own",
                )
                .hint = Some("set namespaces.uts = true, or remove this line".into());
            }
        }
        for s in [&p.uts.hostname, &p.uts.domainname].into_iter().flatten() {
            if s.value.is_empty() || s.value.len() > 64 || s.value.contains(['/', '\0', ' ']) {
                self.error(
                    s.span,
                    format!(
                        "'{}' is not a valid host or domain name (1 to 64 characters, no spaces)",
                        s.value
                    ),
                );
            }
        }
    }

    /// `[namespaces] keep`: root binds the files of the sandbox's new
    /// namespaces in its own mount namespace, at paths in folders that exist.
    fn check_keep(&mut self, p: &Profile) {
        let root = self.host.is_root();
        for (i, (kind, path)) in p.keep.iter().enumerate() {
            let key = kind.key();
            if !root {
                self.error(path.span, format!("keeping the {key} namespace binds its file in the host's mount namespace, which needs root"))
                    .hint = Some("run as root, or remove this entry; a running sandbox's namespaces can be joined by /proc/PID/ns/ without it".into());
                continue;
            }
            if let Some(why) = kind.unkeepable() {
                self.error(
                    path.span,
                    format!("the {key} namespace cannot be kept: {why}"),
                )
                .hint = Some("keep user, mount, ipc, uts or net".into());
                continue;
            }
            if !p.ns_new(*kind) {
                self.error(
                    path.span,
                    format!(
                        "keep.{key}: the sandbox has no new {key} namespace of its own to keep"
                    ),
                )
                .hint = Some(format!("set namespaces.{key} = true, or remove this entry"));
                continue;
            }
            for joined in [NsKind::User, NsKind::Mount] {
                if let Some(j) = p
                    .namespace(joined)
                    .filter(|s| matches!(s.value, NsSetting::Join(_)))
                {
                    let at = self.sources.origin(j.span);
                    self.error(path.span, format!("a namespace is kept in the caller's mount namespace, which the launcher leaves when it joins the {} namespace at {at}", joined.key()))
                        .hint = Some("keep namespaces from a sandbox that joins no user or mount namespace".into());
                }
            }
            let v = &path.value;
            if !is_absolute_clean(v) || v.ends_with('/') {
                self.error(
                    path.span,
                    format!("keep.{key} = \"{v}\" must be the absolute path of a file"),
                )
                .hint = Some(format!(
                    "e.g. \"/run/netns/box\" for net (ip netns's place), \"/run/sandbox/{}\"",
                    kind.proc_name()
                ));
                continue;
            }
            if p.keep[..i].iter().any(|(_, q)| q.value == *v) {
                self.error(path.span, format!("'{v}' already keeps another namespace"));
                continue;
            }
            let (parent, _) = crate::paths::split_parent(v);
            let folder = match self.host.real_path(&parent) {
                Some(r) => self.host.path_kind(&r),
                None => PathKind::Missing,
            };
            match (folder, self.host.path_kind(v)) {
                (PathKind::Dir, PathKind::Missing | PathKind::File) => {}
                (PathKind::Dir, _) => {
                    self.error(
                        path.span,
                        format!(
                            "'{v}' exists and is not a file: a namespace is kept on an (empty) file"
                        ),
                    );
                }
                _ => {
                    let e = self.error(path.span, format!("the folder '{parent}' does not exist: it is not made for a kept namespace"));
                    e.hint = Some(format!("make it first: mkdir -p {parent}"));
                    e.readiness = Some(Readiness::Setup);
                }
            }
        }
    }

    /// `host_root` makes the app root on what it may write; a persistent
    /// overlay then can end up holding a setuid-root file with the app's
    /// bytes: copy-up keeps a lower file's setuid bit, and a write through a
    /// shared mapping does not clear it (the seccomp filter sees neither).
    fn warn_host_root_overlays(&mut self, p: &Profile) {
        let Some(h) = p.user.host_root.as_ref().filter(|h| h.value) else {
            return;
        };
        for m in &p.mounts {
            if m.kind.value == MountKind::Overlay
                && m.upper.is_some()
                && !m.readonly.as_ref().is_some_and(|r| r.value)
            {
                self.warn(m.kind.span, "with host_root, a setuid file of a lower layer that the app opens for writing is copied up with its setuid bit, and a write through a shared mapping keeps it: the upper folder can end up holding a setuid-root program with the app's contents")
                    .hint = Some(format!("keep the upper folder where no one runs programs from (the launcher makes it 0700), or drop host_root ({})", self.sources.origin(h.span)));
            }
        }
    }

    /// `[user] nesting`: the app runs sandboxes of its own. Its /proc then
    /// has no read-only covers (the kernel refuses a new proc in a mount
    /// namespace whose every proc is partly covered), so what keeps
    /// /proc/sys, sysrq-trigger, irq and bus unwritable is that the app is
    /// not host root: a user namespace with the sandwich, never host root.
    /// And a Landlock-restricted process may not mount.
    fn check_nesting(&mut self, p: &Profile) {
        let Some(n) = p.user.nesting.as_ref().filter(|n| n.value) else {
            return;
        };
        let span = n.span;
        let userns = p.ns_private(NsKind::User);
        if !(p.ns_new(NsKind::User) && flag(&p.user.sandwich, true)) {
            self.error(span, "nesting needs a new user namespace and the sandwich: without the covers of /proc, only the app's not being host root keeps /proc/sys, /proc/sysrq-trigger, /proc/irq and /proc/bus unwritable")
                .hint = Some(if userns {
                    "keep namespaces.user = true (a new one) and sandwich = true".into()
                } else {
                    "set namespaces.user = true".into()
                });
        }
        if let Some(h) = p.user.host_root.as_ref().filter(|h| h.value) {
            self.error(h.span, "nesting with host_root would let the app write /proc/sysrq-trigger and the rest of /proc as host root: nesting leaves out the read-only covers of /proc")
                .hint = Some("drop host_root (the sandbox then runs as nobody on the host), or nesting".into());
        }
        if let Some(u) = p.user.nested_userns.as_ref().filter(|u| !u.value) {
            self.error(
                u.span,
                "nested_userns = false contradicts nesting, which needs user namespaces of the app's own",
            )
            .hint = Some("drop nested_userns, or nesting".into());
        }
        if flag(&p.landlock.enabled, true) {
            let at = p.landlock.enabled.as_ref().map(|e| e.span).unwrap_or(span);
            self.error(at, "a Landlock-restricted process may not mount: nesting needs landlock.enabled = false")
                .hint = Some("add [landlock] enabled = false; the sandwich keeps the profile's mounts locked, and the nested sandbox sees only what this one does".into());
        }
        // A mount inside a /proc covers part of it, and the kernel then
        // refuses the nested sandbox's own /proc.
        let mut procs: Vec<&str> = vec![];
        for m in &p.mounts {
            let Some(dst) = m.dst.as_ref() else { continue };
            if procs
                .iter()
                .any(|d| is_under(&dst.value, d) && dst.value != *d)
            {
                self.error(dst.span, format!("with nesting, nothing may be mounted inside a /proc: '{}' would cover part of it, and the kernel refuses a nested sandbox's /proc unless some /proc is wholly visible", dst.value))
                    .hint = Some("mount it elsewhere, or drop nesting".into());
            }
            if m.kind.value == MountKind::Proc {
                procs.push(&dst.value);
            }
        }
    }

    fn check_user(&mut self, p: &Profile) {
        self.warn_host_root_overlays(p);
        // (uid_t)-1 is "no id" to the kernel: setuid(-1) changes nothing,
        // and an id map cannot name it.
        for (which, id) in [("uid", &p.user.uid), ("gid", &p.user.gid)] {
            if let Some(id) = id.as_ref().filter(|i| i.value == u32::MAX) {
                self.error(
                    id.span,
                    format!(
                        "{which} {} is not an id: the kernel reads it as -1, \"no id\"",
                        id.value
                    ),
                )
                .hint = Some(format!("give a {which} from 0 to 4294967294"));
            }
        }
        let userns = p.ns_private(NsKind::User);
        if !userns {
            if let Some(s) = p.user.sandwich.as_ref().filter(|s| s.value) {
                self.error(s.span, "the sandwich needs a user namespace")
                    .hint = Some("set namespaces.user = true, or sandwich = false".into());
            }
            if !self.host.is_root() {
                let span = p
                    .namespace(NsKind::User)
                    .map(|s| s.span)
                    .unwrap_or_default();
                self.error(
                    span,
                    "without a user namespace the sandbox can only be set up by root",
                )
                .hint = Some("keep namespaces.user = true to run unprivileged".into());
            }
            if let Some(m) = &p.user.map {
                self.error(m.span, "id ranges need a user namespace");
            }
        }
        // The app's pid namespace gets an init sealed as PID 1 is, whose
        // memory SealInit makes unreadable and which dies with the sandbox's
        // PID 1: both need the sandbox's own init.
        if let Some(pid) = p
            .user
            .own_namespaces
            .iter()
            .find(|k| k.value == NsKind::Pid)
            && !(p.ns_new(NsKind::Pid) && flag(&p.process.init, true))
        {
            self.error(pid.span, "a pid namespace of the app's own needs the sandbox's init (namespaces.pid = true, process.init = true)")
                .hint = Some("keep the init: it seals the app's init and takes it down with the sandbox".into());
        }
        if let Some(first) = p.user.own_namespaces.first() {
            if !(userns && flag(&p.user.sandwich, true)) {
                self.error(
                    first.span,
                    "own_namespaces are created under the sandwich's inner user namespace",
                )
                .hint = Some("keep namespaces.user = true and sandwich = true".into());
            }
            let landlock = flag(&p.landlock.enabled, true);
            if let Some(m) = p
                .user
                .own_namespaces
                .iter()
                .find(|k| k.value == NsKind::Mount)
                .filter(|_| landlock)
            {
                self.error(m.span, "a Landlock-restricted process may not mount: owning a mount namespace needs landlock.enabled = false")
                    .hint = Some("add [landlock] enabled = false; the sandwich keeps the profile's mounts locked".into());
            }
        }
        if let Some(first) = p.user.unmapped.first() {
            if !(userns && flag(&p.user.sandwich, true)) {
                // The setup needs both ids: a file system mounted in a user
                // namespace refuses to make files for an unmapped one.
                self.error(
                    first.span,
                    "unmapped needs the sandwich: only its inner user namespace may leave ids unmapped (the setup cannot make files without them)",
                )
                .hint = Some("keep namespaces.user = true and sandwich = true".into());
            }
            if let Some(m) = &p.user.map {
                self.error(m.span, "id ranges need the ids mapped").hint =
                    Some("remove [user] map or unmapped".into());
            }
            for u in &p.user.unmapped {
                let given = if u.value == "uid" {
                    &p.user.uid
                } else {
                    &p.user.gid
                };
                if let Some(id) = given {
                    self.error(
                        id.span,
                        format!(
                            "{} {} cannot be given when it is unmapped",
                            u.value, id.value
                        ),
                    )
                    .hint = Some(format!(
                        "remove [user] {} or its entry in unmapped",
                        u.value
                    ));
                }
            }
        }
        self.check_nesting(p);
        let Some(map) = &p.user.map else { return };
        for (i, r) in map.value.iter().enumerate() {
            let range = &r.value;
            if range.count == 0 {
                self.error(r.span, "a map entry with count = 0 maps nothing");
                continue;
            }
            if range.inside.checked_add(range.count).is_none()
                || range.outside.checked_add(range.count).is_none()
            {
                self.error(r.span, "this id range runs past the largest id");
                continue;
            }
            for (which, own) in [("uid", p.user.uid.as_ref()), ("gid", p.user.gid.as_ref())] {
                let own_inside = own.map(|s| s.value).unwrap_or(if which == "uid" {
                    self.host.uid()
                } else {
                    self.host.gid()
                });
                if own_inside >= range.inside && own_inside < range.inside + range.count {
                    self.error(r.span, format!("this range covers the sandbox's own {which} {own_inside}, which is already mapped to the caller"))
                        .hint = Some("start the range after it, or change [user] uid/gid".into());
                }
            }
            for other in &map.value[..i] {
                let o = &other.value;
                if range.inside < o.inside + o.count && o.inside < range.inside + range.count {
                    self.error(
                        r.span,
                        "this id range overlaps an earlier one inside the sandbox",
                    );
                }
            }
            if !self.host.is_root() {
                let granted = |subs: &[(u32, u32)]| {
                    subs.iter().any(|(s, c)| {
                        range.outside >= *s
                            && range.outside as u64 + range.count as u64 <= *s as u64 + *c as u64
                    })
                };
                let (subuids, subgids) = (self.host.subuids(), self.host.subgids());
                if !granted(&subuids) || !granted(&subgids) {
                    self.error(
                        r.span,
                        format!(
                            "ids {}..{} outside are not granted to you in /etc/subuid and /etc/subgid",
                            range.outside,
                            range.outside as u64 + range.count as u64 - 1
                        ),
                    )
                    .hint = Some("ask an administrator for a subordinate id range (usermod --add-subuids/--add-subgids), or run as root".into());
                } else if !self.host.has_program("newuidmap") || !self.host.has_program("newgidmap")
                {
                    let e = self.error(r.span, "id ranges need newuidmap and newgidmap");
                    e.hint = Some("install Debian's 'uidmap' package".into());
                    e.readiness = Some(Readiness::Setup);
                }
            }
        }
    }

    fn check_mounts(&mut self, p: &Profile) {
        let mountns = p.ns_private(NsKind::Mount);
        if !mountns {
            let span = p
                .namespace(NsKind::Mount)
                .map(|s| s.span)
                .unwrap_or_default();
            if let Some(m) = p.mounts.first() {
                self.error(
                    m.kind.span,
                    "mounts need a mount namespace of the sandbox's own",
                )
                .hint = Some(format!(
                    "namespaces.mount is false at {}; set it to true or remove the [[mount]] entries",
                    self.sources.origin(span)
                ));
            }
            if let Some(r) = &p.filesystem.root {
                self.error(
                    r.span,
                    "a root filesystem needs a mount namespace of the sandbox's own",
                );
            }
        }
        if let Some(r) = &p.filesystem.root
            && r.value != "tmpfs"
            && !is_absolute_clean(&r.value)
        {
            self.error(
                r.span,
                format!(
                    "root = \"{}\": give \"tmpfs\" or an absolute path to a root filesystem",
                    r.value
                ),
            );
        }
        let pidns = p.ns_private(NsKind::Pid);
        for m in &p.mounts {
            let kind = m.kind.value;
            if let (Some(c), true) = (&m.create, m.is_optional())
                && c.value
            {
                self.error(c.span, "'create' and 'optional' contradict each other")
                    .hint = Some(
                    "create = true makes a missing source; optional = true skips the mount instead"
                        .into(),
                );
            }
            if let Some(c) = m.create.as_ref().filter(|c| c.value)
                && kind == MountKind::DevBind
            {
                self.error(c.span, "'create' makes directories: not for a dev-bind");
            }
            let Some(target) = m.target() else { continue };
            if !is_absolute_clean(&target.value) {
                self.error(
                    target.span,
                    format!(
                        "destination '{}' must be an absolute path without '..'",
                        target.value
                    ),
                )
                .hint = Some("paths inside the sandbox start with '/'".into());
            }
            if matches!(
                kind,
                MountKind::Bind | MountKind::RoBind | MountKind::DevBind
            ) && let Some(src) = &m.src
                && !is_absolute_clean(&src.value)
            {
                self.error(
                    src.span,
                    format!(
                        "source '{}' must be an absolute path without '..'",
                        src.value
                    ),
                )
                .hint = Some(
                    "use ${PROFILE_DIR}/... for a path beside the profile, or ~/... for your home"
                        .into(),
                );
            }
            if kind == MountKind::Proc && !pidns {
                self.error(m.kind.span, "a 'proc' mount needs a pid namespace of the sandbox's own")
                    .hint = Some("a /proc of the host's pid namespace would show every host process; set namespaces.pid = true".into());
            }
            if kind == MountKind::Mqueue && !p.ns_private(NsKind::Ipc) {
                self.error(
                    m.kind.span,
                    "an 'mqueue' mount needs an IPC namespace of the sandbox's own",
                );
            }
            if kind == MountKind::Symlink
                && let Some(src) = &m.src
                && src.value.is_empty()
            {
                self.error(src.span, "a symlink needs a non-empty target in 'src'");
            }
            if kind == MountKind::Overlay {
                self.check_overlay(m);
            }
            if kind == MountKind::Tmpfs
                && let Some(size) = &m.size
            {
                self.check_tmpfs_size(size);
            }
        }
        self.warn_hidden_mounts(p);
        self.warn_dangerous_binds(p);
    }

    /// The kernel takes a tmpfs of size 0 as one without a limit, and
    /// rounds a size up to whole pages, which wraps to 0 near the top of
    /// the range: both would be a tmpfs that can fill the memory. Refused,
    /// as bubblewrap refuses them (at most half of the range).
    fn check_tmpfs_size(&mut self, size: &Sp<u64>) {
        if size.value == 0 {
            self.error(size.span, "a tmpfs of size 0 has no size limit")
                .hint = Some(
                "give a size such as \"64M\", or leave 'size' out for the kernel's default (half of the memory)"
                    .into(),
            );
        } else if size.value > MAX_TMPFS_SIZE {
            self.error(
                size.span,
                format!(
                    "a tmpfs of {} bytes is too large: the kernel would give it no size limit",
                    size.value
                ),
            )
            .hint = Some(format!("at most {MAX_TMPFS_SIZE} bytes"));
        }
    }

    fn check_overlay(&mut self, m: &Mount) {
        let mut layers: Vec<&SpStr> = m.lower.iter().collect();
        layers.extend(m.upper.iter());
        for l in &layers {
            if !is_absolute_clean(&l.value) {
                self.error(
                    l.span,
                    format!(
                        "overlay layer '{}' must be an absolute path without '..'",
                        l.value
                    ),
                );
            }
        }
        for (i, a) in layers.iter().enumerate() {
            for b in &layers[..i] {
                if is_under(&a.value, &b.value) || is_under(&b.value, &a.value) {
                    self.error(
                        a.span,
                        format!("overlay layers '{}' and '{}' overlap", b.value, a.value),
                    )
                    .hint = Some(
                        "overlayfs refuses layers inside one another; use separate directories"
                            .into(),
                    );
                }
            }
        }
        // Without an upper layer overlayfs stacks lower layers only, and
        // needs two of them ("at least 2 lowerdir are needed").
        if let (None, Some(ro), [_]) = (
            &m.upper,
            m.readonly.as_ref().filter(|r| r.value),
            m.lower.as_slice(),
        ) {
            self.error(
                ro.span,
                "a read-only overlay needs at least two lower layers",
            )
            .hint = Some("for one folder, use type = \"ro-bind\"".into());
        }
        if let (Some(u), Some(ro)) = (&m.upper, m.readonly.as_ref().filter(|r| r.value)) {
            self.error(
                ro.span,
                format!(
                    "a read-only overlay cannot have an upper directory ('{}')",
                    u.value
                ),
            );
        }
    }

    /// A mount hidden by a later mount over it or over a parent of it.
    fn warn_hidden_mounts(&mut self, p: &Profile) {
        let covers = |k: MountKind| {
            !matches!(
                k,
                MountKind::RemountRo | MountKind::Dir | MountKind::File | MountKind::Symlink
            )
        };
        // Where each covering mount lands, with the indices of the mounts
        // there in profile order: each mount then looks up its own parents
        // (linear in the number of mounts; a pairwise check took 40 ms for
        // 1000 binds). Path hashing ignores repeated and trailing '/'.
        let mut covering: HashMap<&Path, Vec<usize>> = HashMap::new();
        for (j, l) in p.mounts.iter().enumerate() {
            if let (true, Some(lt)) = (covers(l.kind.value), l.target()) {
                covering.entry(Path::new(&lt.value)).or_default().push(j);
            }
        }
        for (i, m) in p.mounts.iter().enumerate() {
            let Some(t) = m.target() else { continue };
            // The first later mount over a parent. The same destination
            // again is a replacement (how an override changes a mount), not
            // an accident: the plan drops the earlier one.
            let first_later = Path::new(&t.value)
                .ancestors()
                .skip(1)
                .filter_map(|a| covering.get(a)?.iter().find(|&&j| j > i))
                .min();
            if let Some(&j) = first_later {
                let later = &p.mounts[j];
                let lt = later.target().expect("indexed by target");
                let origin = self.sources.origin(later.kind.span);
                self.warn(
                    m.kind.span,
                    format!(
                        "this mount at '{}' is hidden by the later '{}' mount at '{}' ({origin})",
                        t.value,
                        later.kind.value.name(),
                        lt.value
                    ),
                )
                .hint = Some("move this entry after the one that covers it".into());
            }
        }
    }

    /// A writable bind of a place from which code runs outside the sandbox,
    /// or of a secret, that the profile names itself (a broader bind gets
    /// those made read-only or hidden by the plan), or of a folder where
    /// such a place does not exist yet, so that the app could make it.
    fn warn_dangerous_binds(&mut self, p: &Profile) {
        let places = super::guarded::places(self.vars);
        let replaced = p.replacements();
        for (i, m) in p.mounts.iter().enumerate() {
            if replaced[i].is_some() {
                continue;
            }
            if !matches!(m.kind.value, MountKind::Bind | MountKind::DevBind) {
                continue;
            }
            let Some(src) = &m.src else { continue };
            let named = places
                .iter()
                .find(|g| g.guard == Guard::Runs && is_under(&src.value, &g.path));
            if let Some(g) = named {
                self.warn(src.span, format!("writable bind of '{}' lets the sandbox change '{}', from which code runs outside the sandbox", src.value, g.path))
                    .hint = Some("bind it read-only (type = \"ro-bind\"), or bind only the folders the app needs".into());
                continue;
            }
            // The current folder is made read-only instead (see the plan).
            if m.src_is_cwd {
                continue;
            }
            let missing = places.iter().find(|g| {
                g.guard == Guard::Runs
                    && g.path != src.value
                    && is_under(&g.path, &src.value)
                    && self.host.path_kind(&g.path) == PathKind::Missing
            });
            if let Some(g) = missing {
                self.warn(src.span, format!("writable bind of '{}' lets the sandbox make '{}', from which code would run outside the sandbox", src.value, g.path))
                    .hint = Some("bind it read-only (type = \"ro-bind\"), or bind only the folders the app needs".into());
            }
        }
    }

    fn check_dbus(&mut self, p: &Profile) {
        let d = &p.dbus;
        let on = d.session.as_ref().is_some_and(|s| s.value);
        let lists = [
            ("talk", &d.talk, false),
            ("own", &d.own, false),
            ("see", &d.see, false),
            ("call", &d.call, true),
            ("broadcast", &d.broadcast, true),
        ];
        for (key, list, rule) in lists {
            for n in list {
                if !on {
                    self.error(n.span, format!("[dbus] {key} needs session = true"))
                        .hint =
                        Some("add session = true to [dbus], or extends = [\"dbus\"]".into());
                    continue;
                }
                let name = if rule {
                    match n.value.split_once('=') {
                        Some((name, _)) => name,
                        None => {
                            self.error(n.span, format!("'{}' is not NAME=RULE", n.value))
                                .hint = Some("e.g. \"org.freedesktop.portal.*=*\" or \"org.example.App=org.example.Iface.Method@/path\"".into());
                            continue;
                        }
                    }
                } else {
                    &n.value
                };
                if !is_bus_name(name) {
                    self.error(n.span, format!("'{name}' is not a D-Bus name"))
                        .hint = Some("a well-known name such as \"org.freedesktop.Notifications\", or \"org.example.*\" for a subtree".into());
                }
            }
        }
        let Some(s) = d.session.as_ref().filter(|s| s.value) else {
            return;
        };
        if !p.ns_private(NsKind::Mount) {
            self.error(
                s.span,
                "a filtered session bus needs a mount namespace (to put its socket in)",
            )
            .hint = Some("set namespaces.mount = true".into());
        }
        if !self.host.has_program("xdg-dbus-proxy") {
            let e = self.error(
                s.span,
                "a filtered session bus needs the program 'xdg-dbus-proxy', which is not installed",
            );
            e.hint = Some("install Debian's or Ubuntu's package 'xdg-dbus-proxy'".into());
            e.readiness = Some(Readiness::Setup);
        }
        if !p.ns_new(NsKind::Net) {
            self.warn(s.span, "with the host's network, a session bus on an abstract socket is reachable unfiltered")
                .hint = Some("use a network namespace (namespaces.net = true, mode = \"pasta\" for a network)".into());
        }
    }

    fn check_network(&mut self, p: &Profile) {
        let n = &p.network;
        let netns = p.ns_new(NsKind::Net);
        if !netns {
            // Sharing the host's network overrides what an extended profile
            // set up for a network of its own (how a service keeps the
            // host's network): noted, not an error.
            if let Some(mode) = n.mode.as_ref().filter(|m| m.value != NetMode::None) {
                let at = self.sources.origin(mode.span);
                self.notes.push(format!(
                    "{at}: network mode '{}' and its settings do not apply: namespaces.net = false shares the host's network",
                    name_of_net(mode.value)
                ));
            }
            return;
        }
        if let Some(mode) = &n.mode {
            if matches!(mode.value, NetMode::Veth | NetMode::Macvlan) && !self.host.is_root() {
                self.error(
                    mode.span,
                    format!("network mode '{}' needs root", name_of_net(mode.value)),
                )
                .hint = Some("use mode = \"pasta\" for networking without root".into());
            }
            if mode.value == NetMode::Macvlan && n.parent.is_none() {
                self.error(
                    mode.span,
                    "a macvlan needs 'parent', the host interface it sits on",
                )
                .hint = Some("e.g. parent = \"eth0\"".into());
            }
            if mode.value == NetMode::Macvlan && n.address.is_none() {
                self.error(
                    mode.span,
                    "a macvlan needs 'address', its address on the parent's network",
                )
                .hint = Some("e.g. address = \"192.168.1.50/24\"; ask your network's administrator for a free one".into());
            }
            if mode.value == NetMode::Pasta && netns && !self.host.has_program("pasta") {
                let e = self.error(
                    mode.span,
                    "network mode 'pasta' needs the program 'pasta', which is not installed",
                );
                e.hint =
                    Some("install Debian's or Ubuntu's package 'passt' (apt install passt)".into());
                e.readiness = Some(Readiness::Setup);
            }
        }
        let mode = n.mode.as_ref().map(|m| m.value).unwrap_or(NetMode::None);
        // A mode of "none" said in a layer over the one that forwards
        // (`--net none` over a service's profile) means no network: what
        // was to be forwarded is not. Both in one file, or a forward over
        // the "none", is a mistake.
        let layer = |sp: Span| self.sources.file(sp.file).layer;
        let none_over = |f: &SpStr| {
            n.mode
                .as_ref()
                .is_some_and(|m| m.value == NetMode::None && layer(m.span) > layer(f.span))
        };
        for f in n.forward_tcp.iter().chain(&n.forward_udp) {
            if none_over(f) {
                let origin = n.mode.as_ref().map(|m| self.sources.origin(m.span));
                self.warn(
                    f.span,
                    format!(
                        "port forward '{}' ignored: the network mode is \"none\" (at {})",
                        f.value,
                        origin.map(|o| o.to_string()).unwrap_or_default()
                    ),
                );
            } else if mode != NetMode::Pasta {
                self.error(f.span, "port forwards need mode = \"pasta\"")
                    .hint =
                    Some("[network] mode = \"pasta\" (on the command line: --net pasta)".into());
            } else if let Err(e) = parse_forward(&f.value) {
                self.error(f.span, e).hint = Some(
                    "write \"HOST:SANDBOX\", e.g. \"8080:80\", or \"127.0.0.1:8080:80\"".into(),
                );
            }
        }
        for p in n.to_host_tcp.iter().chain(&n.to_host_udp) {
            let at_none = n
                .mode
                .as_ref()
                .is_some_and(|m| m.value == NetMode::None && layer(m.span) > layer(p.span));
            if at_none {
                self.warn(
                    p.span,
                    format!(
                        "port {} to the host ignored: the network mode is \"none\"",
                        p.value
                    ),
                );
            } else if mode != NetMode::Pasta {
                self.error(p.span, "ports to the host's loopback need mode = \"pasta\"")
                    .hint =
                    Some("[network] mode = \"pasta\" (on the command line: --net pasta)".into());
            } else if p.value == 0 {
                self.error(p.span, "port 0 is no port").hint =
                    Some("give the port the host's service listens on, 1 to 65535".into());
            }
        }
        let unaddressed = n.address.as_ref().filter(|a| a.value == NO_ADDRESS);
        for a in [&n.address, &n.host_address].into_iter().flatten() {
            if unaddressed.is_some_and(|u| std::ptr::eq(u, a)) {
                continue;
            }
            if parse_cidr(&a.value).is_none() {
                self.error(
                    a.span,
                    format!(
                        "'{}' is not an address with a prefix length (e.g. \"10.0.0.2/24\")",
                        a.value
                    ),
                );
            }
        }
        for a in n.gateway.iter().chain(&n.dns) {
            if a.value.parse::<std::net::IpAddr>().is_err() {
                self.error(a.span, format!("'{}' is not an IP address", a.value));
            }
        }
        if let Some(p) = &n.parent
            && !matches!(mode, NetMode::Macvlan)
        {
            self.error(p.span, "'parent' applies to mode = \"macvlan\" only");
        }
        if let Some(h) = &n.host_address
            && mode != NetMode::Veth
        {
            self.error(h.span, "'host_address' applies to mode = \"veth\" only");
        }
        if let Some(h) = &n.host_interface {
            if mode != NetMode::Veth {
                self.error(h.span, "'host_interface' applies to mode = \"veth\" only");
            } else if !is_interface_name(&h.value) {
                self.error(
                    h.span,
                    format!("'{}' is not an interface name", h.value),
                )
                .hint = Some("1 to 15 characters, none of them '/', ':' or a space, not \".\" or \"..\", e.g. \"sbdhcp0\"".into());
            }
        }
        if let (Some(u), Some(g)) = (unaddressed, &n.gateway) {
            let at = self.sources.origin(u.span);
            self.error(
                g.span,
                "'gateway' needs an address: with address = \"none\" the app sets its own route",
            )
            .hint = Some(format!("remove this line, or give an address at {at}"));
        }
        for a in [&n.address, &n.gateway].into_iter().flatten() {
            if !matches!(mode, NetMode::Veth | NetMode::Macvlan) {
                self.error(
                    a.span,
                    "'address' and 'gateway' apply to mode = \"veth\" or \"macvlan\"",
                )
                .hint = Some("pasta copies the host's addresses; loopback-only needs none".into());
            }
        }
        if let Some(h) = &n.host_loopback
            && mode != NetMode::Pasta
        {
            self.error(h.span, "'host_loopback' applies to mode = \"pasta\" only");
        }
        if mode == NetMode::None {
            for d in &n.dns {
                self.error(
                    d.span,
                    "'dns' needs a network: mode = \"pasta\", \"veth\" or \"macvlan\"",
                );
            }
        }
    }

    fn check_env_process(&mut self, p: &Profile) {
        for (k, v) in &p.env.set {
            if k.value.is_empty() || k.value.contains(['=', '\0']) {
                self.error(
                    k.span,
                    format!("'{}' is not a valid environment variable name", k.value),
                );
            }
            // The C strings of execve end at a NUL: the value would be cut.
            if v.value.contains('\0') {
                self.error(
                    v.span,
                    "an environment variable's value cannot hold a NUL character",
                );
            }
        }
        for a in p.command.iter().flat_map(|c| &c.value) {
            if a.value.contains('\0') {
                self.error(a.span, "a command's argument cannot hold a NUL character");
            }
        }
        for k in p.env.keep.iter().chain(&p.env.unset) {
            if k.value.is_empty() || k.value.contains(['=', '\0']) {
                self.error(
                    k.span,
                    format!("'{}' is not a variable name or glob", k.value),
                );
            }
        }
        // Across files the later one wins (src/profile/merge.rs): both
        // left means one file says both. A glob is no conflict: the name
        // set is the more exact word, and wins (src/plan/mod.rs, unsets).
        for u in &p.env.unset {
            if let Some((k, _)) = p.env.set.iter().find(|(k, _)| k.value == u.value) {
                let origin = self.sources.origin(k.span);
                self.error(
                    u.span,
                    format!(
                        "'{}' is unset, and '{}' set (at {origin})",
                        u.value, k.value
                    ),
                )
                .hint = Some("keep one of the two".into());
            }
        }
        if let Some(c) = &p.process.cwd
            && !Path::new(&c.value).is_absolute()
        {
            self.error(
                c.span,
                format!(
                    "cwd '{}' must be an absolute path inside the sandbox",
                    c.value
                ),
            );
        }
        if let Some(i) = p.process.init.as_ref().filter(|i| i.value)
            && !p.ns_new(NsKind::Pid)
        {
            self.error(i.span, "init = true needs a new pid namespace")
                .hint = Some(
                "the init reaps orphans as PID 1, which it is only in a pid namespace of its own"
                    .into(),
            );
        }
        // The helper of `sandbox enter` is forked by the app's process,
        // which cannot make it a sibling when it is itself a pid
        // namespace's PID 1; and an app holding CAP_SYS_PTRACE could read
        // the helper's memory (a copy of the launcher's) in spite of its
        // being non-dumpable.
        if let Some(e) = p.process.enter.as_ref().filter(|e| e.value) {
            if p.ns_new(NsKind::Pid) && !flag(&p.process.init, true) {
                self.error(e.span, "enter = true needs the init when the sandbox has a pid namespace")
                    .hint = Some("set process.init = true (the app, as PID 1, cannot fork the helper beside itself)".into());
            }
            if p.process.capabilities.iter().any(|c| {
                crate::capabilities::number(&c.value)
                    == Some(crate::capabilities::SYS_PTRACE.number())
            }) {
                self.error(e.span, "enter = true cannot be given to an app that keeps CAP_SYS_PTRACE")
                    .hint = Some("with CAP_SYS_PTRACE the app could read the helper's memory, a copy of the launcher's: drop the capability or set enter = false".into());
            }
        }
        for c in &p.process.capabilities {
            if crate::capabilities::number(&c.value).is_none() {
                let names: Vec<&str> = crate::capabilities::CAPABILITIES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                let upper = c.value.to_ascii_uppercase();
                let hint = suggest(&upper, &names).map(|s| format!("did you mean '{s}'?"));
                self.error(c.span, format!("unknown capability '{}'", c.value))
                    .hint = hint;
            }
        }
        if let Some(t) = &p.process.timeout
            && t.value == 0
        {
            self.error(t.span, "a timeout of zero would kill the sandbox at once");
        }
    }

    fn check_seccomp(&mut self, p: &Profile) {
        let s = &p.seccomp;
        if let (Some(t), Some(policy)) = (&s.trace, &s.policy)
            && t.value
            && policy.value == SeccompPolicy::None
        {
            // Said over the profile (`--trace-denials` over one without a
            // filter): nothing to report, which is worth a word, not a
            // refusal; in the profile that says "none" it is a mistake.
            let layer = |sp: Span| self.sources.file(sp.file).layer;
            if layer(t.span) > layer(policy.span) {
                let at = self.sources.origin(policy.span).to_string();
                self.warn(
                    t.span,
                    format!(
                        "no refusal to report: the profile loads no seccomp filter (policy = \"none\" at {at})"
                    ),
                );
            } else {
                self.error(
                    t.span,
                    "trace reports what the seccomp filter refuses, and policy = \"none\" loads none",
                )
                .hint = Some("remove trace, or give a policy".into());
            }
        }
        let names: Vec<&str> = crate::syscalls::all_names().collect();
        for n in s.allow.iter().chain(&s.deny) {
            if crate::syscalls::expand(&n.value).is_none() {
                let what = if n.value.starts_with('@') {
                    "syscall group"
                } else {
                    "system call"
                };
                let hint = match suggest(&n.value, &names) {
                    Some(s) => format!("did you mean '{s}'?"),
                    None if n.value.starts_with('@') => {
                        let groups: Vec<&str> =
                            crate::syscalls::GROUPS.iter().map(|g| g.name).collect();
                        format!("groups: {}", groups.join(", "))
                    }
                    None => "see docs/seccomp.md for the names this sandbox knows".into(),
                };
                self.error(n.span, format!("unknown {what} '{}'", n.value))
                    .hint = Some(hint);
            }
        }
        for a in &s.allow {
            if let Some(d) = s.deny.iter().find(|d| d.value == a.value) {
                let origin = self.sources.origin(d.span);
                self.error(
                    a.span,
                    format!(
                        "'{}' is both allowed and denied (denied at {origin})",
                        a.value
                    ),
                );
            }
        }
        let policy = s
            .policy
            .as_ref()
            .map(|p| p.value)
            .unwrap_or(SeccompPolicy::Default);
        if let Some(pol) = &s.policy {
            if policy == SeccompPolicy::None && !(s.allow.is_empty() && s.deny.is_empty()) {
                self.warn(
                    pol.span,
                    "policy = \"none\": the 'allow' and 'deny' lists are ignored",
                );
            }
            if policy == SeccompPolicy::Allowlist && s.allow.is_empty() {
                self.error(pol.span, "an allowlist that allows nothing: no program could run")
                    .hint = Some("list the system calls the program needs in 'allow', or use policy = \"default\"".into());
            }
        }
    }

    fn check_landlock(&mut self, p: &Profile) {
        let l = &p.landlock;
        for path in l.read.iter().chain(&l.write).chain(&l.exec) {
            if !Path::new(&path.value).is_absolute() {
                self.error(
                    path.span,
                    format!("landlock path '{}' must be absolute", path.value),
                );
            }
        }
        if let Some(scope) = &l.scope {
            for s in &scope.value {
                if !["signal", "abstract-unix-socket"].contains(&s.value.as_str()) {
                    let hint = suggest(&s.value, &["signal", "abstract-unix-socket"])
                        .map(|s| format!("did you mean '{s}'?"));
                    self.error(s.span, format!("unknown landlock scope '{}'", s.value))
                        .hint = hint.or(Some("scopes: signal, abstract-unix-socket".into()));
                }
            }
        }
        if let Some(e) = l.enabled.as_ref().filter(|e| !e.value) {
            let has_rules = !(l.read.is_empty()
                && l.write.is_empty()
                && l.exec.is_empty()
                && l.tcp_bind.is_empty()
                && l.tcp_connect.is_empty());
            if has_rules {
                self.warn(
                    e.span,
                    "landlock is disabled: its path and port rules are ignored",
                );
            }
        }
    }
}

pub fn name_of_net(m: NetMode) -> &'static str {
    match m {
        NetMode::None => "none",
        NetMode::Pasta => "pasta",
        NetMode::Veth => "veth",
        NetMode::Macvlan => "macvlan",
    }
}

/// `"8080:80"` or `"127.0.0.1:8080:80"` -> (address, host port, sandbox port).
pub fn parse_forward(s: &str) -> Result<(Option<std::net::IpAddr>, u16, u16), String> {
    let (addr, ports) = match s.rsplitn(3, ':').collect::<Vec<_>>().as_slice() {
        [sb, host] => (None, (*host, *sb)),
        [sb, host, addr] => {
            let a = addr
                .trim_matches(['[', ']'])
                .parse()
                .map_err(|_| format!("'{addr}' is not an IP address"))?;
            (Some(a), (*host, *sb))
        }
        _ => return Err(format!("'{s}' is not a port forward")),
    };
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{p}' is not a port number (1-65535)"))
    };
    Ok((addr, port(ports.0)?, port(ports.1)?))
}

/// A well-known D-Bus name (`org.example.App`), or a subtree of them
/// (`org.example.*`), as xdg-dbus-proxy takes them.
fn is_bus_name(n: &str) -> bool {
    let n = n.strip_suffix(".*").unwrap_or(n);
    let parts: Vec<&str> = n.split('.').collect();
    n.len() <= 255
        && parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with(|c: char| c.is_ascii_digit())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// `"10.0.0.2/24"` -> (address, prefix).
pub fn parse_cidr(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let (a, p) = s.split_once('/')?;
    let addr: std::net::IpAddr = a.parse().ok()?;
    let prefix: u8 = p.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((addr, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards() {
        assert_eq!(parse_forward("8080:80"), Ok((None, 8080, 80)));
        assert_eq!(
            parse_forward("127.0.0.1:8080:80").unwrap().0,
            Some("127.0.0.1".parse().unwrap())
        );
        assert!(parse_forward("80").is_err());
        assert!(parse_forward("0:80").is_err());
        assert!(parse_forward("x:1:2").is_err());
    }

    #[test]
    fn cidrs() {
        assert!(parse_cidr("10.0.0.2/24").is_some());
        assert!(parse_cidr("10.0.0.2/33").is_none());
        assert!(parse_cidr("10.0.0.2").is_none());
        assert!(parse_cidr("fd00::2/64").is_some());
    }

    #[test]
    fn under() {
        assert!(is_under("/usr/lib", "/usr"));
        assert!(is_under("/usr", "/usr"));
        assert!(!is_under("/usrx", "/usr"));
        assert!(is_under("/anything", "/"));
    }
}
