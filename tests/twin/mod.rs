//! One sandbox described once, set up twice: by `sandbox run` (a profile)
//! and by bubblewrap (its command line), each started the same way by the
//! same caller; and a probe that prints what a program inside observes, to
//! compare the two line by line.
//!
//! The three callers ([`Caller`]):
//! - `Root`: both run by root. `sandbox` with `[user] host_root = true`,
//!   bwrap with `--cap-drop ALL` (the app keeps no capability in either):
//!   root on the host on what the mounts grant, in both.
//! - `User`: both run by the unprivileged test user (`SANDBOX_TEST_USER`,
//!   through runuser when the tests run as root).
//! - `Nobody`: `sandbox` run by root with its default, a sandbox that runs
//!   as nobody on the host, against bwrap run by the user nobody with
//!   `--uid`/`--gid` of the app's ids inside: the same rights on the host,
//!   the same ids inside, so the same observations.
//!
//! Every run starts from `env -i` with [`CALLER_ENV`] and umask 022, in `/`.
#![allow(dead_code)]

use crate::common::*;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment both tools are started with (and the app inherits, with
/// `[env] clear = false`).
pub const CALLER_ENV: [(&str, &str); 4] = [
    ("HOME", "/nonexistent-twin-home"),
    ("USER", "twin"),
    ("PATH", "/usr/bin:/bin"),
    ("LANG", "C.UTF-8"),
];

/// `sandbox`'s PATH when `[env] clear` and no PATH is kept or set.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Caller {
    Root,
    User,
    Nobody,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tool {
    Sandbox,
    Bwrap,
}

/// One mount step, in the terms both tools have. `src` may start with
/// `{H}`: the host folder of the run (see [`Twin::host`]).
#[derive(Clone, Debug)]
pub enum Op {
    Bind {
        src: String,
        dst: String,
    },
    RoBind {
        src: String,
        dst: String,
    },
    DevBind {
        src: String,
        dst: String,
    },
    Tmpfs {
        dst: String,
        size: Option<u64>,
        mode: u32,
    },
    Dir {
        dst: String,
        mode: u32,
    },
    /// A file with this content: `file` / `--file FD`.
    File {
        dst: String,
        content: String,
        mode: u32,
    },
    /// A read-only file: `file` then `remount-ro` of it / `--ro-bind-data FD`.
    RoFile {
        dst: String,
        content: String,
        mode: u32,
    },
    Symlink {
        target: String,
        dst: String,
    },
    /// `remount-ro`, which is recursive; bwrap's `--remount-ro` is not, so
    /// it is given for each mount below `dst` too.
    RemountRo {
        dst: String,
    },
    Proc {
        dst: String,
    },
    Dev {
        dst: String,
    },
    Mqueue {
        dst: String,
    },
}

impl Op {
    pub fn dst(&self) -> &str {
        match self {
            Op::Bind { dst, .. }
            | Op::RoBind { dst, .. }
            | Op::DevBind { dst, .. }
            | Op::Tmpfs { dst, .. }
            | Op::Dir { dst, .. }
            | Op::File { dst, .. }
            | Op::RoFile { dst, .. }
            | Op::Symlink { dst, .. }
            | Op::RemountRo { dst }
            | Op::Proc { dst }
            | Op::Dev { dst }
            | Op::Mqueue { dst } => dst,
        }
    }

    /// The mode the step gives what it makes, if it has one.
    pub fn mode(&self) -> Option<u32> {
        match self {
            Op::Tmpfs { mode, .. }
            | Op::Dir { mode, .. }
            | Op::File { mode, .. }
            | Op::RoFile { mode, .. } => Some(*mode),
            _ => None,
        }
    }

    /// Whether the step puts a mount at its destination.
    pub fn mounts(&self) -> bool {
        !matches!(
            self,
            Op::Dir { .. } | Op::File { .. } | Op::Symlink { .. } | Op::RemountRo { .. }
        )
    }
}

/// The mode of the folders sandbox makes on the way to a step's
/// destination (src/exec/mount.rs, bubblewrap's rule): 0755, without the
/// group's or others' bits where the step's mode gives them nothing.
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

pub fn bind(src: &str, dst: &str) -> Op {
    Op::Bind {
        src: src.into(),
        dst: dst.into(),
    }
}
pub fn ro_bind(src: &str, dst: &str) -> Op {
    Op::RoBind {
        src: src.into(),
        dst: dst.into(),
    }
}
pub fn dev_bind(src: &str, dst: &str) -> Op {
    Op::DevBind {
        src: src.into(),
        dst: dst.into(),
    }
}
pub fn tmpfs(dst: &str) -> Op {
    Op::Tmpfs {
        dst: dst.into(),
        size: None,
        mode: 0o755,
    }
}
pub fn dir(dst: &str, mode: u32) -> Op {
    Op::Dir {
        dst: dst.into(),
        mode,
    }
}
pub fn file(dst: &str, content: &str, mode: u32) -> Op {
    Op::File {
        dst: dst.into(),
        content: content.into(),
        mode,
    }
}
pub fn symlink(target: &str, dst: &str) -> Op {
    Op::Symlink {
        target: target.into(),
        dst: dst.into(),
    }
}
pub fn remount_ro(dst: &str) -> Op {
    Op::RemountRo { dst: dst.into() }
}

/// The environment of the app: `sandbox`'s `[env]`. bwrap gets the same
/// through `--clearenv` and `--setenv`.
#[derive(Clone, Debug)]
pub struct Env {
    pub clear: bool,
    pub keep: Vec<String>,
    pub set: Vec<(String, String)>,
}

/// A sandbox, as both tools can make it.
#[derive(Clone, Debug)]
pub struct Twin {
    /// `/usr` read-only and the merged-/usr links (`/bin`, `/lib`, ...)
    /// before `ops`.
    pub base: bool,
    pub ops: Vec<Op>,
    pub hostname: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub env: Env,
    pub cwd: Option<String>,
    pub new_session: bool,
    pub die_with_parent: bool,
    pub init: bool,
    pub readonly_root: bool,
    /// `sandbox`'s own layers (the default seccomp filter and Landlock),
    /// which bwrap does not have; off, the profile says so.
    pub hardened: bool,
    pub capabilities: Vec<String>,
    /// Raw TOML appended to the profile (its `[[mount]]`s come after
    /// `ops`); raw arguments given to bwrap after `ops` (before the root
    /// is made read-only).
    pub extra_profile: String,
    pub extra_bwrap: Vec<String>,
    /// The host tree the `{H}` sources name, made fresh for each run.
    pub host: Option<HostTree>,
    /// The caller's HOME instead of [`CALLER_ENV`]'s (`{H}` allowed).
    pub caller_home: Option<String>,
    /// More variables in the caller's environment.
    pub caller_extra_env: Vec<(String, String)>,
    /// A host folder as the root (`[filesystem] root` / `--bind DIR /`)
    /// instead of an empty tmpfs (`{H}` allowed).
    pub rootfs: Option<String>,
    /// Give bwrap each missing parent as a `--dir` first, with the mode
    /// sandbox gives it ([`parent_mode`]): bwrap's own for a step with a
    /// mode, 0755 for one without (a bind, a link), where bwrap makes 0700
    /// (`parents_modes` pins that); off, bwrap makes them its own way.
    pub bwrap_parents: bool,
    /// `[user] host_root` instead of the caller's default (true for
    /// `Caller::Root`, unsaid otherwise).
    pub host_root: Option<bool>,
    /// The umask both tools start with (022 unless said).
    pub umask: u32,
    /// `[user] nested_userns`; `Some(false)` gives bwrap
    /// `--disable-userns`, None says nothing to either.
    pub nested_userns: Option<bool>,
    /// Options of bwrap's rendered line to leave out (with their
    /// arguments): `--hostname`, `--chdir`, `--new-session`, ...
    pub bwrap_drop: Vec<&'static str>,
}

impl Default for Twin {
    fn default() -> Self {
        Twin {
            base: true,
            ops: vec![],
            hostname: None,
            uid: None,
            gid: None,
            env: Env {
                clear: true,
                keep: vec![],
                set: vec![],
            },
            cwd: None,
            new_session: true,
            die_with_parent: true,
            init: true,
            readonly_root: true,
            hardened: true,
            capabilities: vec![],
            extra_profile: String::new(),
            extra_bwrap: vec![],
            host: None,
            caller_home: None,
            caller_extra_env: vec![],
            rootfs: None,
            bwrap_parents: true,
            host_root: None,
            umask: 0o022,
            nested_userns: None,
            bwrap_drop: vec![],
        }
    }
}

/// A node of a host tree: a path relative to its root and what it is.
#[derive(Clone, Debug)]
pub enum Node {
    Dir {
        path: String,
        mode: u32,
    },
    File {
        path: String,
        mode: u32,
        content: String,
    },
    Link {
        path: String,
        target: String,
    },
    /// A unix socket (bound, then left without a listener).
    Socket {
        path: String,
    },
}

impl Node {
    pub fn path(&self) -> &str {
        match self {
            Node::Dir { path, .. }
            | Node::File { path, .. }
            | Node::Link { path, .. }
            | Node::Socket { path } => path,
        }
    }
}

/// Host folders and files the mounts take as sources; `owner_other` lists
/// the paths given to someone other than the caller (root for the test
/// user, the test user for root).
#[derive(Clone, Debug, Default)]
pub struct HostTree {
    pub nodes: Vec<Node>,
    pub owner_other: Vec<String>,
}

impl HostTree {
    /// Make the tree at `root` (a missing folder), owned as `caller` owns
    /// its files, but for `owner_other`.
    pub fn make(&self, root: &Path, caller: Caller) {
        std::fs::create_dir_all(root).unwrap();
        for n in &self.nodes {
            let p = root.join(n.path());
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).unwrap();
            }
            match n {
                Node::Dir { mode, .. } => {
                    std::fs::create_dir_all(&p).unwrap();
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
                }
                Node::File { mode, content, .. } => {
                    std::fs::write(&p, content).unwrap();
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
                }
                Node::Link { target, .. } => std::os::unix::fs::symlink(target, &p).unwrap(),
                Node::Socket { .. } => {
                    std::os::unix::net::UnixListener::bind(&p).unwrap();
                }
            }
        }
        // Modes last: a folder made 0500 first could not be filled.
        for n in self.nodes.iter().rev() {
            if let Node::Dir { path, mode } = n {
                std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(*mode))
                    .unwrap();
            }
        }
        if is_root() {
            let mine = owner_of(caller);
            let other = match caller {
                Caller::User => (0, 0),
                _ => test_user().map(|u| (u.uid, u.gid)).unwrap_or((1, 1)),
            };
            chown_tree(root, mine);
            for o in &self.owner_other {
                let p = root.join(o);
                std::os::unix::fs::lchown(&p, Some(other.0), Some(other.1)).unwrap();
            }
        }
    }
}

/// The host ids whose files the caller's sandbox writes as its own.
pub fn owner_of(caller: Caller) -> (u32, u32) {
    match caller {
        Caller::Root => (0, 0),
        Caller::Nobody => (65534, 65534),
        Caller::User => caller_ids(Who::User),
    }
}

fn chown_tree(p: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
    if p.is_dir() && !p.is_symlink() {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            chown_tree(&e.path(), (uid, gid));
        }
    }
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A single-quoted shell word.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

const BASE_LINKS: [(&str, &str); 4] = [
    ("usr/bin", "/bin"),
    ("usr/sbin", "/sbin"),
    ("usr/lib", "/lib"),
    ("usr/lib64", "/lib64"),
];

/// The app's ids inside when the twin does not say: the caller's (root's
/// for `Nobody`, whose `sandbox` is run by root).
pub fn default_ids(caller: Caller) -> (u32, u32) {
    match caller {
        Caller::Root | Caller::Nobody => (0, 0),
        Caller::User => caller_ids(Who::User),
    }
}

/// What bwrap's command line needs besides its arguments: files whose
/// content goes in on a descriptor.
pub struct BwrapLine {
    pub args: Vec<String>,
    /// (descriptor, file to open on it).
    pub fds: Vec<(i32, PathBuf)>,
}

impl Twin {
    pub fn new() -> Twin {
        Twin::default()
    }
    pub fn op(mut self, op: Op) -> Twin {
        self.ops.push(op);
        self
    }
    pub fn ops(mut self, ops: impl IntoIterator<Item = Op>) -> Twin {
        self.ops.extend(ops);
        self
    }
    /// The environment both tools start with: [`CALLER_ENV`], HOME
    /// changed by `caller_home`.
    pub fn caller_env(&self, host: &Path) -> Vec<(String, String)> {
        let h = host.to_string_lossy();
        let mut env: Vec<(String, String)> = CALLER_ENV
            .iter()
            .map(|(k, v)| match (*k, &self.caller_home) {
                ("HOME", Some(home)) => (k.to_string(), home.replace("{H}", &h)),
                _ => (k.to_string(), v.to_string()),
            })
            .collect();
        env.extend(self.caller_extra_env.iter().cloned());
        env
    }

    /// Neither seccomp nor Landlock in `sandbox`.
    pub fn bare(mut self) -> Twin {
        self.hardened = false;
        self
    }

    fn all_ops(&self) -> Vec<Op> {
        let mut v = vec![];
        if self.base && self.rootfs.is_none() {
            v.push(ro_bind("/usr", "/usr"));
            for (t, d) in BASE_LINKS {
                v.push(symlink(t, d));
            }
        }
        v.extend(self.ops.iter().cloned());
        v
    }

    /// The profile, with `{H}` standing for `host`.
    pub fn profile(&self, caller: Caller, host: &Path) -> String {
        let h = host.to_string_lossy();
        let src = |s: &str| toml_str(&s.replace("{H}", &h));
        let mut p = String::new();
        if let Some(n) = &self.hostname {
            let _ = writeln!(p, "[uts]\nhostname = {}\n", toml_str(n));
        }
        let _ = writeln!(p, "[user]");
        if let Some(u) = self.uid {
            let _ = writeln!(p, "uid = {u}");
        }
        if let Some(g) = self.gid {
            let _ = writeln!(p, "gid = {g}");
        }
        match (self.host_root, caller) {
            (Some(h), _) => {
                let _ = writeln!(p, "host_root = {h}");
            }
            (None, Caller::Root) => {
                let _ = writeln!(p, "host_root = true");
            }
            _ => {}
        }
        if let Some(n) = self.nested_userns {
            let _ = writeln!(p, "nested_userns = {n}");
        }
        let _ = writeln!(p, "\n[filesystem]\nreadonly_root = {}", self.readonly_root);
        if let Some(r) = &self.rootfs {
            let _ = writeln!(p, "root = {}", src(r));
        }
        p.push('\n');
        for op in self.all_ops() {
            let mut m = |kind: &str, rest: &[(&str, String)]| {
                let _ = writeln!(p, "[[mount]]\ntype = \"{kind}\"");
                for (k, v) in rest {
                    let _ = writeln!(p, "{k} = {v}");
                }
                p.push('\n');
            };
            match &op {
                Op::Bind { src: s, dst } => m("bind", &[("src", src(s)), ("dst", toml_str(dst))]),
                Op::RoBind { src: s, dst } => {
                    m("ro-bind", &[("src", src(s)), ("dst", toml_str(dst))])
                }
                Op::DevBind { src: s, dst } => {
                    m("dev-bind", &[("src", src(s)), ("dst", toml_str(dst))])
                }
                Op::Tmpfs { dst, size, mode } => {
                    let mut kv = vec![("dst", toml_str(dst)), ("mode", format!("\"{mode:04o}\""))];
                    // A TOML integer up to i64::MAX, a string of bytes above.
                    match size {
                        Some(s) if i64::try_from(*s).is_ok() => kv.push(("size", s.to_string())),
                        Some(s) => kv.push(("size", format!("\"{s}\""))),
                        None => {}
                    }
                    m("tmpfs", &kv)
                }
                Op::Dir { dst, mode } => m(
                    "dir",
                    &[("dst", toml_str(dst)), ("mode", format!("\"{mode:04o}\""))],
                ),
                Op::File { dst, content, mode } => m(
                    "file",
                    &[
                        ("dst", toml_str(dst)),
                        ("content", toml_str(content)),
                        ("mode", format!("\"{mode:04o}\"")),
                    ],
                ),
                Op::RoFile { dst, content, mode } => {
                    m(
                        "file",
                        &[
                            ("dst", toml_str(dst)),
                            ("content", toml_str(content)),
                            ("mode", format!("\"{mode:04o}\"")),
                        ],
                    );
                    let _ = writeln!(
                        p,
                        "[[mount]]\ntype = \"remount-ro\"\ndst = {}\n",
                        toml_str(dst)
                    );
                }
                Op::Symlink { target, dst } => m(
                    "symlink",
                    &[("src", toml_str(target)), ("dst", toml_str(dst))],
                ),
                Op::RemountRo { dst } => m("remount-ro", &[("dst", toml_str(dst))]),
                Op::Proc { dst } => m("proc", &[("dst", toml_str(dst))]),
                Op::Dev { dst } => m("dev", &[("dst", toml_str(dst))]),
                Op::Mqueue { dst } => m("mqueue", &[("dst", toml_str(dst))]),
            }
        }
        let _ = writeln!(p, "[env]\nclear = {}", self.env.clear);
        if !self.env.keep.is_empty() {
            let keep: Vec<String> = self.env.keep.iter().map(|k| toml_str(k)).collect();
            let _ = writeln!(p, "keep = [{}]", keep.join(", "));
        }
        if !self.env.set.is_empty() {
            let _ = writeln!(p, "[env.set]");
            for (k, v) in &self.env.set {
                let _ = writeln!(p, "{} = {}", toml_str(k), toml_str(v));
            }
        }
        let _ = writeln!(p, "\n[process]");
        if let Some(c) = &self.cwd {
            let _ = writeln!(p, "cwd = {}", toml_str(c));
        }
        let caps: Vec<String> = self.capabilities.iter().map(|c| toml_str(c)).collect();
        let _ = writeln!(
            p,
            "new_session = {}\ndie_with_parent = {}\ninit = {}\ncapabilities = [{}]\n",
            self.new_session,
            self.die_with_parent,
            self.init,
            caps.join(", ")
        );
        if !self.hardened {
            let _ = writeln!(
                p,
                "[seccomp]\npolicy = \"none\"\n\n[landlock]\nenabled = false\n"
            );
        }
        p.push_str(&self.extra_profile);
        p
    }

    /// bwrap's arguments, with `{H}` standing for `host`; the files of
    /// `--file`/`--ro-bind-data` are written in `scratch`.
    pub fn bwrap(&self, caller: Caller, host: &Path, scratch: &Path) -> BwrapLine {
        let h = host.to_string_lossy().into_owned();
        let src = |s: &str| s.replace("{H}", &h);
        let mut a: Vec<String> = ["--unshare-all", "--unshare-user"]
            .map(String::from)
            .to_vec();
        let mut fds = vec![];
        let hostname = self.hostname.clone().unwrap_or_else(|| "sandbox".into());
        a.extend(["--hostname".into(), hostname]);
        let (du, dg) = default_ids(caller);
        let (uid, gid) = (self.uid.unwrap_or(du), self.gid.unwrap_or(dg));
        // bwrap's defaults are the caller's ids; nobody's are not the app's.
        if self.uid.is_some() || caller == Caller::Nobody {
            a.extend(["--uid".into(), uid.to_string()]);
        }
        if self.gid.is_some() || caller == Caller::Nobody {
            a.extend(["--gid".into(), gid.to_string()]);
        }
        // Mounts visible now, to make bwrap's --remount-ro recursive.
        let mut mounts: Vec<String> = vec![];
        if let Some(r) = &self.rootfs {
            a.extend(["--bind".into(), src(r), "/".into()]);
        }
        let under =
            |p: &str, top: &str| p == top || top == "/" || p.starts_with(&format!("{top}/"));
        for op in self.all_ops() {
            // Parents as sandbox makes them (parent_mode): as bwrap does
            // below a step with a mode, 0755 below one without, whose
            // parents bwrap makes 0700: that difference is tested on its
            // own (parents_modes).
            let dst = op.dst().to_string();
            if self.bwrap_parents && !matches!(op, Op::RemountRo { .. }) {
                let mode = format!("{:04o}", parent_mode(op.mode()));
                let mut parent = String::new();
                let parts: Vec<&str> = dst.split('/').filter(|s| !s.is_empty()).collect();
                for part in &parts[..parts.len().saturating_sub(1)] {
                    parent.push('/');
                    parent.push_str(part);
                    a.extend([
                        "--perms".into(),
                        mode.clone(),
                        "--dir".into(),
                        parent.clone(),
                    ]);
                }
            }
            let perms = |a: &mut Vec<String>, mode: u32| {
                a.extend(["--perms".into(), format!("{mode:04o}")]);
            };
            let mut data = |a: &mut Vec<String>, content: &str| {
                let fd = 10 + fds.len() as i32;
                let path = scratch.join(format!("bwrap-fd-{fd}"));
                std::fs::write(&path, content).unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
                fds.push((fd, path));
                a.push(fd.to_string());
            };
            match &op {
                Op::Bind { src: s, dst } => a.extend(["--bind".into(), src(s), dst.clone()]),
                Op::RoBind { src: s, dst } => a.extend(["--ro-bind".into(), src(s), dst.clone()]),
                Op::DevBind { src: s, dst } => a.extend(["--dev-bind".into(), src(s), dst.clone()]),
                Op::Tmpfs { dst, size, mode } => {
                    if let Some(s) = size {
                        a.extend(["--size".into(), s.to_string()]);
                    }
                    perms(&mut a, *mode);
                    a.extend(["--tmpfs".into(), dst.clone()]);
                }
                Op::Dir { dst, mode } => {
                    perms(&mut a, *mode);
                    a.extend(["--dir".into(), dst.clone()]);
                }
                Op::File { dst, content, mode } => {
                    perms(&mut a, *mode);
                    a.push("--file".into());
                    data(&mut a, content);
                    a.push(dst.clone());
                }
                Op::RoFile { dst, content, mode } => {
                    perms(&mut a, *mode);
                    a.push("--ro-bind-data".into());
                    data(&mut a, content);
                    a.push(dst.clone());
                }
                Op::Symlink { target, dst } => {
                    a.extend(["--symlink".into(), target.clone(), dst.clone()])
                }
                Op::RemountRo { dst } => {
                    a.extend(["--remount-ro".into(), dst.clone()]);
                    for m in mounts.iter().filter(|m| *m != dst && under(m, dst)) {
                        a.extend(["--remount-ro".into(), m.clone()]);
                    }
                }
                Op::Proc { dst } => a.extend(["--proc".into(), dst.clone()]),
                Op::Dev { dst } => a.extend(["--dev".into(), dst.clone()]),
                Op::Mqueue { dst } => a.extend(["--mqueue".into(), dst.clone()]),
            }
            if op.mounts() {
                mounts.retain(|m| !under(m, &dst));
                mounts.push(dst);
            }
        }
        // Raw arguments, as mounts (before the root is made read-only).
        a.extend(self.extra_bwrap.iter().cloned());
        if self.readonly_root {
            a.extend(["--remount-ro".into(), "/".into()]);
        }
        // The environment: what sandbox computes from [env].
        if self.env.clear {
            a.push("--clearenv".into());
            for (k, v) in self.caller_env(host) {
                if self.env.keep.iter().any(|p| glob(p, &k)) {
                    a.extend(["--setenv".into(), k, v]);
                }
            }
            let path_given = self.env.keep.iter().any(|k| k == "PATH")
                || self.env.set.iter().any(|(k, _)| k == "PATH");
            if !path_given {
                a.extend(["--setenv".into(), "PATH".into(), DEFAULT_PATH.into()]);
            }
        }
        for (k, v) in &self.env.set {
            a.extend(["--setenv".into(), k.clone(), v.clone()]);
        }
        a.extend([
            "--chdir".into(),
            self.cwd.clone().unwrap_or_else(|| "/".into()),
        ]);
        if self.new_session {
            a.push("--new-session".into());
        }
        if self.die_with_parent {
            a.push("--die-with-parent".into());
        }
        if !self.init {
            a.push("--as-pid-1".into());
        }
        if self.nested_userns == Some(false) {
            a.push("--disable-userns".into());
        }
        // Run by root, bwrap leaves the app root's capabilities; sandbox
        // keeps only those the profile names.
        if caller == Caller::Root {
            a.extend(["--cap-drop".into(), "ALL".into()]);
        }
        for c in &self.capabilities {
            a.extend(["--cap-add".into(), c.clone()]);
        }
        BwrapLine {
            args: drop_options(a, &self.bwrap_drop),
            fds,
        }
    }

    /// Run `argv` in the sandbox `tool` makes of this twin, as `caller`.
    pub fn run(&self, caller: Caller, tool: Tool, argv: &[&str]) -> Option<Ran> {
        self.run_with(caller, tool, argv, |_| {})
    }

    /// The same, with a last word on the command (its directory, ...).
    pub fn run_with(
        &self,
        caller: Caller,
        tool: Tool,
        argv: &[&str],
        adjust: impl FnOnce(&mut Command),
    ) -> Option<Ran> {
        let mut p = self.prepare(caller, tool, argv)?;
        p.command.stdin(Stdio::null());
        adjust(&mut p.command);
        let out = p.command.output().expect("spawn");
        Some(p.ran(tool, out))
    }

    /// The same with `input` on its standard input.
    pub fn run_input(
        &self,
        caller: Caller,
        tool: Tool,
        argv: &[&str],
        input: &[u8],
    ) -> Option<Ran> {
        use std::io::Write;
        let mut p = self.prepare(caller, tool, argv)?;
        let mut child = p
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        Some(p.ran(tool, out))
    }

    /// The same on a fresh pseudo-terminal (util-linux `script`), which
    /// is the controlling terminal of the caller: what the app printed,
    /// with the terminal's line ends.
    pub fn run_on_terminal(&self, caller: Caller, tool: Tool, argv: &[&str]) -> Option<Ran> {
        let p = self.prepare(caller, tool, argv)?;
        let line = std::iter::once(p.command.get_program().to_string_lossy().into_owned())
            .chain(
                p.command
                    .get_args()
                    .map(|a| a.to_string_lossy().into_owned()),
            )
            .map(|a| sh_quote(&a))
            .collect::<Vec<_>>()
            .join(" ");
        let out = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir("/")
            .stdin(Stdio::piped())
            .output()
            .expect("spawn script");
        let mut ran = p.ran(tool, out);
        ran.stdout = ran.stdout.replace("\r\n", "\n");
        Some(ran)
    }

    /// The command that runs `argv` under `tool` as `caller`, with the
    /// host tree made for it; None when that cannot be done here.
    pub fn prepare(&self, caller: Caller, tool: Tool, argv: &[&str]) -> Option<Prepared> {
        let launcher = launcher(caller, tool)?;
        if tool == Tool::Bwrap && !bwrap_installed() {
            cannot("needs bubblewrap (apt-get install bubblewrap)");
            return None;
        }
        let scratch = Scratch::new(match tool {
            Tool::Sandbox => "twin-s",
            Tool::Bwrap => "twin-b",
        });
        let host = scratch.path.join("h");
        if let Some(t) = &self.host {
            t.make(&host, caller);
        }
        let mut words: Vec<String> = vec![];
        let mut redirects = String::new();
        let setup = match tool {
            Tool::Sandbox => {
                let text = self.profile(caller, &host);
                let p = scratch.write("twin.toml", &text);
                words.extend([binary().to_string_lossy().into_owned(), "run".into(), p]);
                words.push("--".into());
                text
            }
            Tool::Bwrap => {
                let line = self.bwrap(caller, &host, &scratch.path);
                for (fd, path) in &line.fds {
                    let _ = write!(redirects, " {fd}<{}", sh_quote(&path.to_string_lossy()));
                }
                words.push("bwrap".into());
                words.extend(line.args);
                words.push("--".into());
                words[1..words.len() - 1]
                    .iter()
                    .map(|w| sh_quote(w))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        words.extend(argv.iter().map(|s| s.to_string()));
        // bash (dash takes descriptors up to 9 only) sets the umask and opens
        // the descriptors, then env -i gives the tool exactly the caller's
        // environment (no SHLVL or PWD of bash's).
        let mut c = launcher;
        c.arg("/bin/bash")
            .arg("-c")
            .arg(format!(
                "umask {:03o}; exec /usr/bin/env -i \"$@\"{redirects}",
                self.umask
            ))
            .arg("bash")
            .args(
                self.caller_env(&host)
                    .iter()
                    .map(|(k, v)| format!("{k}={v}")),
            )
            .args(&words)
            .current_dir("/");
        Some(Prepared {
            command: c,
            setup,
            host,
            scratch,
        })
    }
}

/// A command ready to run, and what it was made from.
pub struct Prepared {
    pub command: Command,
    /// The profile, or bwrap's arguments as a shell line.
    pub setup: String,
    /// The host tree of this run.
    pub host: PathBuf,
    pub scratch: Scratch,
}

impl Prepared {
    /// The run's outcome from its output.
    pub fn ran(self, tool: Tool, out: std::process::Output) -> Ran {
        Ran {
            tool,
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            setup: self.setup,
            host: self.host,
            _scratch: self.scratch,
        }
    }
}

pub fn bwrap_installed() -> bool {
    ["/usr/bin/bwrap", "/bin/bwrap"].iter().any(|p| exists(p))
}

/// `[runuser -u USER --] env -i` for `caller` running `tool`.
fn launcher(caller: Caller, tool: Tool) -> Option<Command> {
    let runuser = |name: &str| {
        let mut c = Command::new("runuser");
        c.args(["-u", name, "--", "env", "-i", "PATH=/usr/bin:/bin"]);
        c
    };
    let env_i = || {
        let mut c = Command::new("env");
        c.args(["-i", "PATH=/usr/bin:/bin"]);
        c
    };
    match (caller, is_root()) {
        (Caller::Root, true) => Some(env_i()),
        (Caller::User, true) => match test_user() {
            Some(u) => Some(runuser(&u.name)),
            None => {
                cannot(
                    "set SANDBOX_TEST_USER to an unprivileged user to run the unprivileged variant",
                );
                None
            }
        },
        (Caller::User, false) => Some(env_i()),
        (Caller::Nobody, true) => match tool {
            Tool::Sandbox => Some(env_i()),
            Tool::Bwrap => Some(runuser("nobody")),
        },
        (Caller::Root | Caller::Nobody, false) => {
            cannot("the root variants need the tests to run as root");
            None
        }
    }
}

/// `args` without the options named in `drop`, each with its arguments.
fn drop_options(args: Vec<String>, drop: &[&str]) -> Vec<String> {
    let arity = |o: &str| match o {
        "--hostname" | "--chdir" | "--uid" | "--gid" | "--unsetenv" | "--cap-drop"
        | "--cap-add" | "--remount-ro" | "--dir" | "--perms" | "--size" | "--proc" | "--dev"
        | "--tmpfs" | "--mqueue" => 1,
        "--setenv" | "--bind" | "--ro-bind" | "--dev-bind" | "--symlink" | "--file"
        | "--ro-bind-data" => 2,
        _ => 0,
    };
    let mut out = vec![];
    let mut i = 0;
    while i < args.len() {
        let o = args[i].as_str();
        if drop.contains(&o) {
            i += 1 + arity(o);
        } else {
            out.push(args[i].clone());
            i += 1;
        }
    }
    out
}

fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
    }
}

/// One run's outcome.
pub struct Ran {
    pub tool: Tool,
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub setup: String,
    pub host: PathBuf,
    _scratch: Scratch,
}

impl Ran {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
    /// stdout, asserting the run succeeded.
    pub fn ok(&self) -> &str {
        assert!(
            self.status.success(),
            "{:?} failed ({:?})\nsetup:\n{}\nstdout:\n{}\nstderr:\n{}",
            self.tool,
            self.status,
            self.setup,
            self.stdout,
            self.stderr
        );
        &self.stdout
    }
    /// The host tree as the test sees it after the run.
    pub fn host_listing(&self) -> Vec<String> {
        host_listing(&self.host)
    }
}

/// Both runs of `argv`, bwrap's first; None when either cannot run here.
pub fn both(twin: &Twin, caller: Caller, argv: &[&str]) -> Option<(Ran, Ran)> {
    let b = twin.run(caller, Tool::Bwrap, argv)?;
    let s = twin.run(caller, Tool::Sandbox, argv)?;
    Some((b, s))
}

/// Both runs' stdout after `sh -c script`, each asserted successful.
pub fn both_sh(twin: &Twin, caller: Caller, script: &str) -> Option<(String, String)> {
    let (b, s) = both(twin, caller, &["/bin/sh", "-c", script])?;
    Some((b.ok().to_string(), s.ok().to_string()))
}

/// The probe's view of `roots` under both tools: (bwrap's, sandbox's).
pub fn both_probe(twin: &Twin, caller: Caller, roots: &[&str]) -> Option<(Ran, Ran)> {
    let mut argv = vec![PYTHON, "-c", PROBE];
    argv.extend(roots);
    both(twin, caller, &argv)
}

/// Assert two observations are the same, showing both setups and a diff.
pub fn assert_same(what: &str, b: &Ran, s: &Ran, bo: &str, so: &str) {
    if bo == so {
        return;
    }
    panic!(
        "{what}: bwrap and sandbox differ\n--- bwrap ({:?}):\n{}\n--- sandbox ({:?}):\n{}\n{}",
        b.status,
        b.setup,
        s.status,
        s.setup,
        diff(bo, so)
    );
}

/// Lines only bwrap showed (-) and only sandbox showed (+), in order.
pub fn diff(b: &str, s: &str) -> String {
    let bl: Vec<&str> = b.lines().collect();
    let sl: Vec<&str> = s.lines().collect();
    let mut out = String::new();
    for l in &bl {
        if !sl.contains(l) {
            let _ = writeln!(out, "- {l}");
        }
    }
    for l in &sl {
        if !bl.contains(l) {
            let _ = writeln!(out, "+ {l}");
        }
    }
    if out.is_empty() {
        out = format!("(same lines, other order or count)\n--- bwrap:\n{b}\n--- sandbox:\n{s}");
    }
    out
}

/// What a program inside observes of each path under the roots it is
/// given (recursively, not into /proc): one line per path with its type,
/// mode, owner, link target or size and first bytes, whether it can be
/// read and written (by trying: a folder gets a subfolder made and
/// removed, a file is opened for appending) with the error's name, and
/// the flags of the mount it is on.
pub const PROBE: &str = r#"
import errno, os, stat, sys
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
def attempt(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return name(e)
def kind(m):
    for t, k in ((stat.S_ISDIR, "d"), (stat.S_ISREG, "f"), (stat.S_ISLNK, "l"),
                 (stat.S_ISCHR, "c"), (stat.S_ISBLK, "b"), (stat.S_ISFIFO, "p"),
                 (stat.S_ISSOCK, "s")):
        if t(m):
            return k
    return "?"
def opened(p, flags):
    os.close(os.open(p, flags | os.O_NOCTTY | os.O_NONBLOCK))
def probe_dir(p):
    q = os.path.join(p, ".twin-probe")
    os.mkdir(q)
    os.rmdir(q)
def mount_flags(p):
    try:
        f = os.statvfs(p).f_flag
    except OSError as e:
        return "vfs=" + name(e)
    names = [n for b, n in ((os.ST_RDONLY, "ro"), (os.ST_NOSUID, "nosuid"),
             (os.ST_NODEV, "nodev"), (os.ST_NOEXEC, "noexec")) if f & b]
    return "mnt=" + (",".join(names) or "-")
def visit(p, depth):
    try:
        st = os.lstat(p)
    except OSError as e:
        print(p, "!", name(e))
        return
    k = kind(st.st_mode)
    f = [p, k, "%04o" % stat.S_IMODE(st.st_mode), "%d:%d" % (st.st_uid, st.st_gid)]
    if k == "l":
        f.append("-> " + os.readlink(p))
    elif k == "f":
        f.append("size=%d" % st.st_size)
        try:
            with open(p, "rb") as fh:
                f.append("data=%r" % fh.read(24))
        except OSError as e:
            f.append("r=" + name(e))
        f.append("w=" + attempt(lambda: opened(p, os.O_WRONLY | os.O_APPEND)))
        f.append(mount_flags(p))
    elif k in "cb":
        f.append("dev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
        f.append("r=" + attempt(lambda: opened(p, os.O_RDONLY)))
        f.append("w=" + attempt(lambda: opened(p, os.O_WRONLY)))
    elif k == "d":
        entries = None
        try:
            entries = sorted(os.listdir(p))
            f.append("r=ok")
        except OSError as e:
            f.append("r=" + name(e))
        f.append("w=" + attempt(lambda: probe_dir(p)))
        f.append(mount_flags(p))
        try:
            v = os.statvfs(p)
            f.append("fs=%d" % (v.f_blocks * v.f_frsize))
        except OSError:
            pass
    print(" ".join(f))
    if k == "d" and entries is not None and depth < 8 and p != "/proc":
        for e in entries:
            visit(os.path.join(p, e), depth + 1)
for root in sys.argv[1:]:
    visit(root, 0)
"#;

/// The host tree at `root` as the test sees it: relative path, type, mode,
/// owner, link target, size and content.
pub fn host_listing(root: &Path) -> Vec<String> {
    fn walk(root: &Path, p: &Path, out: &mut Vec<String>) {
        use std::os::unix::fs::MetadataExt;
        let Ok(m) = std::fs::symlink_metadata(p) else {
            return;
        };
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            "d"
        } else if ft.is_symlink() {
            "l"
        } else if ft.is_file() {
            "f"
        } else {
            "o"
        };
        let mut line = format!(
            "{rel} {kind} {:04o} {}:{}",
            m.mode() & 0o7777,
            m.uid(),
            m.gid()
        );
        if ft.is_symlink() {
            let _ = write!(line, " -> {}", std::fs::read_link(p).unwrap().display());
        } else if ft.is_file() {
            let data = std::fs::read(p).unwrap_or_default();
            let _ = write!(line, " {:?}", String::from_utf8_lossy(&data));
        }
        out.push(line);
        if ft.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(p)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect();
            names.sort();
            for n in names {
                walk(root, &n, out);
            }
        }
    }
    let mut out = vec![];
    walk(root, root, &mut out);
    out
}

/// Define one test per caller: `twin!(name, |caller| { ... })`.
#[macro_export]
macro_rules! twin {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn as_root() {
                let f: fn(Caller) = $body;
                f(Caller::Root)
            }
            #[test]
            fn as_user() {
                let f: fn(Caller) = $body;
                f(Caller::User)
            }
            #[test]
            fn as_root_run_as_nobody() {
                let f: fn(Caller) = $body;
                f(Caller::Nobody)
            }
        }
    };
}

/// A difference from bubblewrap that is a bug in `sandbox`, listed in
/// docs/bubblewrap.md under `id`: the test passes while `sandbox` shows
/// either the right behaviour (`expected`, bwrap's; the bug is fixed:
/// remove the mark) or the known wrong one (`known`), and fails on
/// anything else. SANDBOX_KNOWN_BUGS=fail makes the known one fail too.
pub fn known_bug(id: &str, what: &str, observed: &str, expected: &str, known: &str) {
    if observed == expected {
        eprintln!("{id} looks fixed: {what}; remove its known_bug mark");
        return;
    }
    let strict = std::env::var("SANDBOX_KNOWN_BUGS").as_deref() == Ok("fail");
    if observed == known && !strict {
        eprintln!("KNOWN BUG {id}: {what} (docs/bubblewrap.md)");
        return;
    }
    panic!(
        "{id}: {what}\n{}",
        if observed == known {
            "the known bug (SANDBOX_KNOWN_BUGS=fail)".to_string()
        } else {
            format!(
                "neither bwrap's behaviour nor the known bug:\n{}",
                diff(expected, observed)
            )
        }
    );
}

/// The tool's own process below `pid`, the process the test started
/// (itself, or its child when that is runuser).
pub fn tool_pid(pid: u32) -> u32 {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() == "runuser" {
        for _ in 0..250 {
            if let Ok(children) =
                std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                && let Some(c) = children.split_whitespace().next()
            {
                // runuser may run the command under a child of its own
                // (with a PAM session): the tool is below that one.
                return tool_pid(c.parse().unwrap());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    pid
}

/// The pids of the processes whose command line is exactly `cmdline`.
pub fn pids_of(cmdline: &str) -> Vec<u32> {
    let mut v = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let words: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        if words.join(" ") == cmdline {
            v.push(pid);
        }
    }
    v
}
