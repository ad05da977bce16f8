//! Building the new root with the new mount API.
//!
//! Two passes over the mount steps:
//! 1. [`prepare`]: while the host's paths still resolve as the user wrote
//!    them, every source is cloned into a detached mount (`open_tree`), or a
//!    filesystem created (`fsopen`/`fsmount`), with its read-only / nosuid /
//!    nodev attributes already set, recursively, before anyone can see it.
//! 2. [`attach`]: each detached mount is moved onto its destination, in
//!    plan order. Destinations are opened relative to the new root with
//!    `openat2(RESOLVE_IN_ROOT)`, so a symlink planted in a source cannot
//!    send a mount outside the sandbox.
//!
//! Nothing here is visible on the host: the child runs in a mount
//! namespace of its own whose root was made a slave first.

use super::failure::{Call, Cause, Failure};
use super::kernel::{Kernel, Tree};
use super::steps::{Mount, Root};
use super::sys::{MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY};
use crate::plan::{DEV_NODES, MOUNT_POINT_DIR, parent_mode};
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// The host side of a mount, opened before the new root exists (and, for
/// a root caller, before the child gives up host root).
pub enum Detached {
    Tree(OwnedFd),
    Dev(Vec<(&'static str, OwnedFd)>),
    /// An overlay's folders, opened (O_PATH) to be named through
    /// /proc/self/fd when the overlay is made: no lookup of their paths is
    /// needed then, which the sandbox's ids may not be allowed.
    Layers {
        lower: Vec<OwnedFd>,
        upper: Option<(OwnedFd, OwnedFd)>,
    },
}

fn cstr(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

pub fn make_root_slave(k: &dyn Kernel) -> Result<(), Failure> {
    k.make_rslave(c"/").call("mount --make-rslave /")
}

/// A detached copy of the tree at `src`, with `attrs`; `below`: a folder
/// the sandbox may write that `src` lies below (see [`super::hostpath`]).
fn clone_tree(
    k: &dyn Kernel,
    src: &str,
    below: Option<&str>,
    attrs: u64,
) -> Result<OwnedFd, Failure> {
    let fd = match below {
        None => {
            let c = cstr(src).call(src)?;
            k.open_tree(None, &c, Tree::Recursive)
                .call_with(|| format!("open_tree {src}"))?
        }
        Some(w) => {
            let at = super::hostpath::open(k, src, Some(w), libc::O_PATH)
                .call_with(|| format!("open {src} (no links below {w})"))?;
            k.open_tree(Some(at.as_fd()), c"", Tree::Recursive)
                .call_with(|| format!("open_tree {src}"))?
        }
    };
    if attrs != 0 {
        k.mount_setattr(fd.as_fd(), attrs, true)
            .call_with(|| format!("mount_setattr {src}"))?;
    }
    Ok(fd)
}

/// A new filesystem of `fstype` as a detached mount.
fn new_fs(
    k: &dyn Kernel,
    fstype: &CStr,
    options: &[(&CStr, Option<String>)],
    attrs: u64,
) -> Result<OwnedFd, Failure> {
    let name = fstype.to_string_lossy().into_owned();
    let fs = k.fsopen(fstype).call_with(|| format!("fsopen {name}"))?;
    // The mount table then says "tmpfs", "proc", ... where `df` shows a source.
    k.fsconfig_string(fs.as_fd(), c"source", fstype)
        .call_with(|| format!("{name} source"))?;
    for (key, value) in options {
        let r = match value {
            Some(v) => k.fsconfig_string(fs.as_fd(), key, &cstr(v).call_with(|| v.clone())?),
            None => k.fsconfig_flag(fs.as_fd(), key),
        };
        r.call_with(|| {
            format!(
                "{name} option {}{}",
                key.to_string_lossy(),
                value.as_ref().map(|v| format!("={v}")).unwrap_or_default()
            )
        })?;
    }
    k.fsmount(fs.as_fd(), attrs)
        .call_with(|| format!("create {name}"))
}

/// The message-queue file system of the current IPC namespace, mounted
/// nowhere: a handle for Landlock to allow it by.
pub fn mqueue_root(k: &dyn Kernel) -> Result<OwnedFd, Failure> {
    new_fs(
        k,
        c"mqueue",
        &[],
        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
    )
}

/// The terminal device of standard input, output or error (the first that
/// is one), as the host names it.
fn callers_terminal(k: &dyn Kernel) -> Option<String> {
    (0..3).find_map(|fd| {
        if !k.is_terminal(fd) {
            return None;
        }
        let link = CString::new(format!("/proc/self/fd/{fd}")).ok()?;
        String::from_utf8(k.read_link_at(None, &link).ok()?).ok()
    })
}

/// Pass 1 for the root: a rootfs folder's tree (a tmpfs root is made when
/// attached).
pub fn prepare_root(k: &dyn Kernel, root: &Root) -> Result<Option<Detached>, Failure> {
    match root {
        Root::Tmpfs => Ok(None),
        // Like every bind: nothing setuid or a device node from it.
        Root::Bind { src, below } => Ok(Some(Detached::Tree(clone_tree(
            k,
            src,
            *below,
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        )?))),
    }
}

/// Pass 1: the host side of a mount step, if it has one. `dbus_socket`:
/// the proxy's socket the launcher made (None: there is no bus to filter).
pub fn prepare(
    k: &dyn Kernel,
    op: &Mount,
    dbus_socket: Option<&std::path::Path>,
) -> Result<Option<Detached>, Failure> {
    let tree = match op {
        Mount::Bind {
            src,
            readonly,
            devices,
            below,
            ..
        } => {
            let mut attrs = MOUNT_ATTR_NOSUID;
            if !devices {
                attrs |= MOUNT_ATTR_NODEV;
            }
            if *readonly {
                attrs |= MOUNT_ATTR_RDONLY;
            }
            clone_tree(k, src, *below, attrs)?
        }
        Mount::Dev { console, .. } => {
            let mut nodes = vec![];
            for n in DEV_NODES {
                nodes.push((
                    n,
                    clone_tree(k, &format!("/dev/{n}"), None, MOUNT_ATTR_NOSUID)?,
                ));
            }
            if *console && let Some(tty) = callers_terminal(k) {
                nodes.push(("console", clone_tree(k, &tty, None, MOUNT_ATTR_NOSUID)?));
            }
            return Ok(Some(Detached::Dev(nodes)));
        }
        Mount::Overlay {
            lower,
            upper,
            work,
            readonly,
            below,
            ..
        } => {
            let folder = |p: &str| {
                let w = super::hostpath::writable_above(p, below);
                super::hostpath::open(k, p, w, libc::O_PATH | libc::O_DIRECTORY).call_with(|| {
                    match w {
                        Some(w) => format!("open {p} (no links below {w})"),
                        None => format!("open {p}"),
                    }
                })
            };
            let lower = lower.iter().map(|l| folder(l)).collect::<Result<_, _>>()?;
            let upper = match (upper, work, readonly) {
                (Some(u), Some(w), false) => Some((folder(u)?, folder(w)?)),
                _ => None,
            };
            return Ok(Some(Detached::Layers { lower, upper }));
        }
        Mount::DbusSocket { .. } => match dbus_socket {
            Some(path) => clone_tree(
                k,
                &path.to_string_lossy(),
                None,
                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
            )?,
            None => return Ok(None),
        },
        // Made in the new root, from nothing of the host's.
        Mount::Tmpfs { .. }
        | Mount::Proc { .. }
        | Mount::Mqueue { .. }
        | Mount::Symlink { .. }
        | Mount::Dir { .. }
        | Mount::File { .. }
        | Mount::RemountRo { .. }
        | Mount::Pin { .. }
        | Mount::Hide { .. }
        | Mount::ResolvConf { .. }
        | Mount::RemountRootRo => return Ok(None),
    };
    Ok(Some(Detached::Tree(tree)))
}

/// The overlay of the folders pass 1 opened: `upper` (and its work
/// folder), or a throw-away tmpfs unless `readonly`.
fn overlay(
    k: &dyn Kernel,
    lower: &[OwnedFd],
    upper: Option<&(OwnedFd, OwnedFd)>,
    readonly: bool,
) -> Result<OwnedFd, Failure> {
    let through = |fd: &OwnedFd| format!("/proc/self/fd/{}", fd.as_raw_fd());
    let mut opts: Vec<(&CStr, Option<String>)> = lower
        .iter()
        .map(|l| (c"lowerdir+", Some(through(l))))
        .collect();
    // The tmpfs that holds a throw-away upper layer lives until the
    // overlay is mounted; the overlay keeps its own reference.
    let mut scratch: Option<OwnedFd> = None;
    match (upper, readonly) {
        (_, true) => {}
        (Some((u, w)), false) => {
            opts.push((c"upperdir", Some(through(u))));
            opts.push((c"workdir", Some(through(w))));
        }
        (None, false) => {
            let tmp = new_fs(
                k,
                c"tmpfs",
                &[(c"mode", Some("0755".into()))],
                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            )?;
            for d in [c"upper", c"work"] {
                k.mkdir_at(tmp.as_fd(), d, 0o755)
                    .call("overlay scratch directory")?;
            }
            let base = format!("/proc/self/fd/{}", tmp.as_raw_fd());
            opts.push((c"upperdir", Some(format!("{base}/upper"))));
            opts.push((c"workdir", Some(format!("{base}/work"))));
            scratch = Some(tmp);
        }
    }
    // Unprivileged overlay needs user.* xattrs instead of trusted.*.
    opts.push((c"userxattr", None));
    let attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | if readonly { MOUNT_ATTR_RDONLY } else { 0 };
    let made = new_fs(k, c"overlay", &opts, attrs);
    drop(scratch);
    made
}

/// What a destination must be when it has to be created.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    /// A folder, made with this mode.
    Dir(u32),
    /// A file, made empty with this mode.
    File(u32),
}

/// Mode of a mount point file made for a bind, 0444 (what is mounted on
/// it decides what anyone may do there); a folder's is MOUNT_POINT_DIR.
const MOUNT_POINT_FILE: u32 = 0o444;

/// The new root, attached at a staging point and built through its fd.
pub struct NewRoot<'k> {
    k: &'k dyn Kernel,
    root: OwnedFd,
    /// The caller's umask, the app's again at the pivot: while the root is
    /// built the umask is 0, so that what is made has exactly the mode
    /// the plan gives it, as bubblewrap does.
    umask: u32,
}

impl<'k> NewRoot<'k> {
    /// Attach the root mount (a fresh tmpfs, or a prepared rootfs tree)
    /// over /tmp of this private mount namespace: every source is already
    /// cloned, so covering host paths no longer matters.
    pub fn attach(
        k: &'k dyn Kernel,
        root: &Root,
        prepared: Option<Detached>,
    ) -> Result<NewRoot<'k>, Failure> {
        let root = match (root, prepared) {
            (Root::Tmpfs, None) => new_fs(
                k,
                c"tmpfs",
                &[(c"mode", Some("0755".into()))],
                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
            )?,
            (Root::Bind { .. }, Some(Detached::Tree(t))) => t,
            (Root::Tmpfs | Root::Bind { .. }, _) => {
                return Err(Failure::new(libc::EINVAL, "the new root was not prepared"));
            }
        };
        let staging = k
            .open(None, c"/tmp", libc::O_PATH | libc::O_DIRECTORY, 0)
            .call("open /tmp to stage the new root")?;
        k.move_mount(root.as_fd(), staging.as_fd())
            .call("attach the new root")?;
        let umask = k.umask(0);
        Ok(NewRoot { k, root, umask })
    }

    fn open(&self, path: &str, flags: i32) -> io::Result<OwnedFd> {
        self.k
            .open_in_root(self.root.as_fd(), &cstr(path)?, flags, 0)
    }

    /// Open `path` inside the root, making it (a mount point: `want`) and
    /// its missing parents (mode `parents`) as needed; whether it was made.
    fn ensure(&self, path: &str, want: Want, parents: u32) -> Result<(OwnedFd, bool), Failure> {
        match self.open(path, libc::O_PATH) {
            Ok(fd) => return Ok((fd, false)),
            Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {
                return Err(e.failure(format!("open {path}")));
            }
            Err(_) => {}
        }
        let (parent, name) = self.ensure_parent(path, parents)?;
        let cname = cstr(&name).call_with(|| name.clone())?;
        let made = match want {
            Want::Dir(mode) => self.k.mkdir_at(parent.as_fd(), &cname, mode),
            // O_NOFOLLOW refuses a planted link, O_EXCL a file made meanwhile.
            Want::File(mode) => self
                .k
                .open(
                    Some(parent.as_fd()),
                    &cname,
                    libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW,
                    mode,
                )
                .map(drop),
        };
        let made = match made {
            Ok(()) => true,
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => false,
            Err(e) => return Err(e.failure(format!("create {path}"))),
        };
        let fd = self
            .open(path, libc::O_PATH)
            .call_with(|| format!("open {path}"))?;
        Ok((fd, made))
    }

    /// The parent directory of `path` (made, mode `parents`, with its own
    /// parents, if missing) and the last name.
    fn ensure_parent(&self, path: &str, parents: u32) -> Result<(OwnedFd, String), Failure> {
        let (parent, name) = crate::plan::split_parent(path);
        let fd = if parent == "/" {
            self.open("/", libc::O_PATH | libc::O_DIRECTORY)
                .call("open /")?
        } else {
            self.ensure(&parent, Want::Dir(parents), parents)?.0
        };
        Ok((fd, name))
    }

    fn mount_on(&self, tree: &OwnedFd, dst: &str, want: Want) -> Result<(), Failure> {
        self.mount_on_with(tree, dst, want, parent_mode(None))
    }

    /// `mount_on`, the missing parents made with mode `parents`.
    fn mount_on_with(
        &self,
        tree: &OwnedFd,
        dst: &str,
        want: Want,
        parents: u32,
    ) -> Result<(), Failure> {
        let (target, _) = self.ensure(dst, want, parents)?;
        self.k
            .move_mount(tree.as_fd(), target.as_fd())
            .call_with(|| format!("mount on {dst}"))
    }

    fn symlink(&self, target: &str, dst: &str) -> Result<(), Failure> {
        let (parent, name) = self.ensure_parent(dst, parent_mode(None))?;
        let (t, n) = (
            cstr(target).call(target)?,
            cstr(&name).call_with(|| name.clone())?,
        );
        let err = match self.k.symlink_at(&t, parent.as_fd(), &n) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        // The same link made twice (two profiles both add /bin) is fine.
        if err.raw_os_error() == Some(libc::EEXIST)
            && self
                .k
                .read_link_at(Some(parent.as_fd()), &n)
                .is_ok_and(|now| now == target.as_bytes())
        {
            return Ok(());
        }
        Err(err.failure(format!("symlink {dst}")))
    }

    /// Write all of `content` to `fd`.
    fn write_all(&self, fd: &OwnedFd, content: &[u8]) -> io::Result<()> {
        let mut rest = content;
        while !rest.is_empty() {
            match self.k.write(fd.as_fd(), rest)? {
                0 => return Err(io::Error::from_raw_os_error(libc::EIO)),
                n => rest = &rest[n..],
            }
        }
        Ok(())
    }

    /// A `file` step: made with `content` and `mode` where nothing is;
    /// over a file that is there (perhaps a host file, on a writable bind),
    /// a private copy bound on top, so that the host's is neither read,
    /// rewritten nor given another mode.
    fn write_file(&self, dst: &str, content: &str, mode: u32) -> Result<(), Failure> {
        match self.open(dst, libc::O_PATH) {
            Ok(_) => return self.bind_data(dst, content, mode, mode & 0o222 == 0),
            Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {
                return Err(e.failure(format!("open {dst}")));
            }
            Err(_) => {}
        }
        let (parent, name) = self.ensure_parent(dst, parent_mode(Some(mode)))?;
        let n = cstr(&name).call_with(|| name.clone())?;
        // O_NOFOLLOW refuses a planted link, O_EXCL a file made meanwhile.
        let file = self
            .k
            .open(
                Some(parent.as_fd()),
                &n,
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW,
                mode,
            )
            .call_with(|| format!("create {dst}"))?;
        self.write_all(&file, content.as_bytes())
            .call_with(|| format!("write {dst}"))?;
        // Exactly `mode`, which the umask may have narrowed.
        self.k
            .fchmod(file.as_fd(), mode)
            .call_with(|| format!("chmod {dst}"))
    }

    /// `content` in a file (mode `mode`) of a small private tmpfs, bound
    /// over `dst` (made if missing), read-only if `readonly`: what is
    /// underneath, perhaps a host file, is neither written nor needed
    /// writable.
    fn bind_data(
        &self,
        dst: &str,
        content: &str,
        mode: u32,
        readonly: bool,
    ) -> Result<(), Failure> {
        // Room for the content, in whole 4 kB pages.
        let size = (content.len() / 4096 + 2) * 4096;
        let fs = new_fs(
            self.k,
            c"tmpfs",
            &[
                (c"mode", Some("0755".into())),
                (c"size", Some(size.to_string())),
            ],
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        )?;
        let file = self
            .k
            .open(
                Some(fs.as_fd()),
                c"data",
                libc::O_CREAT | libc::O_WRONLY,
                mode,
            )
            .call_with(|| format!("stage {dst}"))?;
        self.write_all(&file, content.as_bytes())
            .call_with(|| format!("stage {dst}"))?;
        self.k
            .fchmod(file.as_fd(), mode)
            .call_with(|| format!("stage {dst}"))?;
        let copy = self
            .k
            .open_tree(Some(fs.as_fd()), c"data", Tree::One)
            .call_with(|| format!("stage {dst}"))?;
        if readonly {
            self.k
                .mount_setattr(copy.as_fd(), MOUNT_ATTR_RDONLY, false)
                .call_with(|| format!("mount_setattr {dst}"))?;
        }
        self.mount_on(&copy, dst, Want::File(MOUNT_POINT_FILE))
    }

    /// A `dir` step: made with exactly `mode` where nothing is; a folder
    /// that is there (perhaps a host one, on a writable bind) keeps its own.
    fn dir(&self, dst: &str, mode: u32) -> Result<(), Failure> {
        let (_, made) = self.ensure(dst, Want::Dir(mode), parent_mode(Some(mode)))?;
        if !made {
            return Ok(());
        }
        let fd = self
            .open(dst, libc::O_RDONLY | libc::O_DIRECTORY)
            .call_with(|| format!("open {dst}"))?;
        self.k
            .fchmod(fd.as_fd(), mode)
            .call_with(|| format!("chmod {dst}"))
    }

    fn tmpfs(&self, dst: &str, size: Option<u64>, mode: u32, attrs: u64) -> Result<(), Failure> {
        let mut opts = vec![(c"mode", Some(format!("{mode:o}")))];
        if let Some(s) = size {
            opts.push((c"size", Some(s.to_string())));
        }
        let fs = new_fs(self.k, c"tmpfs", &opts, attrs)?;
        self.mount_on_with(
            &fs,
            dst,
            Want::Dir(MOUNT_POINT_DIR),
            parent_mode(Some(mode)),
        )
    }

    fn dev(&self, dst: &str, nodes: &[(&'static str, OwnedFd)]) -> Result<(), Failure> {
        // Nothing in the tmpfs itself is a device, executable or setuid:
        // each device node is a bind of the host's, a mount of its own
        // whose flags (not nodev) are the ones its opening checks, and
        // pts is a devpts of its own.
        self.tmpfs(
            dst,
            Some(1 << 20),
            0o755,
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        )?;
        for (name, tree) in nodes {
            self.mount_on(tree, &format!("{dst}/{name}"), Want::File(MOUNT_POINT_FILE))?;
        }
        let pts = new_fs(
            self.k,
            c"devpts",
            &[
                (c"newinstance", None),
                (c"ptmxmode", Some("0666".into())),
                (c"mode", Some("0620".into())),
            ],
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
        )?;
        self.mount_on(&pts, &format!("{dst}/pts"), Want::Dir(MOUNT_POINT_DIR))?;
        self.symlink("pts/ptmx", &format!("{dst}/ptmx"))?;
        self.tmpfs(
            &format!("{dst}/shm"),
            None,
            0o1777,
            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        )?;
        for (link, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            self.symlink(target, &format!("{dst}/{link}"))?;
        }
        Ok(())
    }

    /// A new /proc, with the parts of its top level the plan names
    /// read-only (those this kernel has): without a user namespace, a uid-0
    /// app with no capabilities could otherwise still write the root-owned
    /// files there.
    fn proc(&self, dst: &str, read_only: &[String]) -> Result<(), Failure> {
        let attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        let fs = new_fs(self.k, c"proc", &[], attrs)?;
        self.mount_on(&fs, dst, Want::Dir(MOUNT_POINT_DIR))?;
        for part in read_only {
            let path = format!("{dst}/{part}");
            match self.open(&path, libc::O_PATH) {
                Ok(_) => self.remount_ro(&path)?,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(e.failure(format!("open {path}"))),
            }
        }
        Ok(())
    }

    /// The folder at `dst` bound onto itself (made first, mode `mode`, if
    /// missing): a mount point the app cannot rename.
    fn pin(&self, dst: &str, mode: u32) -> Result<(), Failure> {
        let (at, _) = self.ensure(dst, Want::Dir(mode), parent_mode(None))?;
        let copy = self
            .k
            .open_tree(Some(at.as_fd()), c"", Tree::One)
            .call_with(|| format!("open_tree {dst}"))?;
        self.k
            .move_mount(copy.as_fd(), at.as_fd())
            .call_with(|| format!("mount on {dst}"))
    }

    /// A read-only copy of what is at `dst` (with its submounts) on top of it.
    fn remount_ro(&self, dst: &str) -> Result<(), Failure> {
        let at = self
            .open(dst, libc::O_PATH)
            .call_with(|| format!("open {dst}"))?;
        let copy = self
            .k
            .open_tree(Some(at.as_fd()), c"", Tree::Recursive)
            .call_with(|| format!("open_tree {dst}"))?;
        self.k
            .mount_setattr(copy.as_fd(), MOUNT_ATTR_RDONLY, true)
            .call_with(|| format!("mount_setattr {dst}"))?;
        self.k
            .move_mount(copy.as_fd(), at.as_fd())
            .call_with(|| format!("mount on {dst}"))
    }

    /// Pass 2: apply one mount step with what pass 1 opened for it.
    pub fn apply(&self, op: &Mount, prepared: Option<Detached>) -> Result<(), Failure> {
        let not_prepared = || Failure::new(libc::EINVAL, "not prepared");
        match (op, prepared) {
            (Mount::Bind { dst, dir, .. }, Some(Detached::Tree(t))) => self.mount_on(
                &t,
                dst,
                if *dir {
                    Want::Dir(MOUNT_POINT_DIR)
                } else {
                    Want::File(MOUNT_POINT_FILE)
                },
            ),
            (Mount::Overlay { dst, readonly, .. }, Some(Detached::Layers { lower, upper })) => self
                .mount_on(
                    &overlay(self.k, &lower, upper.as_ref(), *readonly)?,
                    dst,
                    Want::Dir(MOUNT_POINT_DIR),
                ),
            (Mount::Dev { dst, .. }, Some(Detached::Dev(nodes))) => self.dev(dst, &nodes),
            (Mount::DbusSocket { dst }, Some(Detached::Tree(t))) => {
                self.mount_on(&t, dst, Want::File(MOUNT_POINT_FILE))
            }
            // Not prepared: there was no session bus to filter (see
            // exec::launch), so there is no socket to bind.
            (Mount::DbusSocket { .. }, None) => Ok(()),
            (
                Mount::Bind { .. }
                | Mount::Overlay { .. }
                | Mount::Dev { .. }
                | Mount::DbusSocket { .. },
                _,
            ) => Err(not_prepared()),
            (Mount::Tmpfs { dst, size, mode }, _) => {
                self.tmpfs(dst, *size, *mode, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
            }
            (Mount::Proc { dst, read_only }, _) => self.proc(dst, read_only),
            (Mount::Mqueue { dst }, _) => {
                let fs = new_fs(
                    self.k,
                    c"mqueue",
                    &[],
                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                )?;
                self.mount_on(&fs, dst, Want::Dir(MOUNT_POINT_DIR))
            }
            (Mount::Symlink { target, dst }, _) => self.symlink(target, dst),
            (Mount::Dir { dst, mode }, _) => self.dir(dst, *mode),
            (Mount::File { dst, content, mode }, _) => self.write_file(dst, content, *mode),
            (Mount::RemountRo { dst }, _) => self.remount_ro(dst),
            (Mount::Pin { dst, mode }, _) => self.pin(dst, *mode),
            (Mount::Hide { dst, dir: true }, _) => {
                let empty = new_fs(
                    self.k,
                    c"tmpfs",
                    &[(c"mode", Some("0700".into())), (c"size", Some("4k".into()))],
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                )?;
                self.mount_on(&empty, dst, Want::Dir(MOUNT_POINT_DIR))
            }
            (Mount::Hide { dst, dir: false }, _) => self.bind_data(dst, "", 0o400, true),
            (Mount::ResolvConf { nameservers }, _) => {
                let text: String = nameservers
                    .iter()
                    .map(|n| format!("nameserver {n}\n"))
                    .collect();
                self.bind_data("/etc/resolv.conf", &text, 0o644, true)
            }
            (Mount::RemountRootRo, _) => self
                .k
                .mount_setattr(self.root.as_fd(), MOUNT_ATTR_RDONLY, false)
                .call("remount / read-only"),
        }
    }

    /// Make the new root `/` and detach the old one, so that nothing of the
    /// host's mount table stays reachable.
    pub fn pivot(self) -> Result<(), Failure> {
        self.k.umask(self.umask);
        self.k
            .fchdir(self.root.as_fd())
            .call("chdir into the new root")?;
        self.k.pivot_root(c".", c".").call("pivot_root")?;
        self.k.umount_detach(c".").call("detach the old root")?;
        self.k.chdir(c"/").call("chdir /")
    }
}
