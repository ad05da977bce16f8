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
use super::sys;
use crate::plan::{Action, MOUNT_POINT_DIR, parent_mode};
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

/// Device nodes a `dev` mount gets from the host.
const DEV_NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

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

pub fn make_root_slave() -> Result<(), Failure> {
    use nix::mount::{MsFlags, mount};
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .call("mount --make-rslave /")
}

/// A detached copy of the tree at `src`, with `attrs`; `below`: a folder
/// the sandbox may write that `src` lies below (see [`super::hostpath`]).
fn clone_tree(src: &str, below: Option<&str>, attrs: u64) -> Result<OwnedFd, Failure> {
    let fd = match below {
        None => {
            let c = cstr(src).call(src)?;
            sys::open_tree_clone(None, &c).call_with(|| format!("open_tree {src}"))?
        }
        Some(w) => {
            let at = super::hostpath::open(src, Some(w), libc::O_PATH)
                .call_with(|| format!("open {src} (no links below {w})"))?;
            sys::open_tree_clone(Some(at.as_fd()), c"").call_with(|| format!("open_tree {src}"))?
        }
    };
    if attrs != 0 {
        sys::mount_setattr(fd.as_fd(), attrs, true).call_with(|| format!("mount_setattr {src}"))?;
    }
    Ok(fd)
}

/// A new filesystem of `fstype` as a detached mount.
fn new_fs(
    fstype: &CStr,
    options: &[(&CStr, Option<String>)],
    attrs: u64,
) -> Result<OwnedFd, Failure> {
    let name = fstype.to_string_lossy().into_owned();
    let fs = sys::fsopen(fstype).call_with(|| format!("fsopen {name}"))?;
    // The mount table then says "tmpfs", "proc", ... where `df` shows a source.
    sys::fsconfig_string(fs.as_fd(), c"source", fstype).call_with(|| format!("{name} source"))?;
    for (key, value) in options {
        let r = match value {
            Some(v) => sys::fsconfig_string(fs.as_fd(), key, &cstr(v).call_with(|| v.clone())?),
            None => sys::fsconfig_flag(fs.as_fd(), key),
        };
        r.call_with(|| {
            format!(
                "{name} option {}{}",
                key.to_string_lossy(),
                value.as_ref().map(|v| format!("={v}")).unwrap_or_default()
            )
        })?;
    }
    sys::fsmount(fs.as_fd(), attrs).call_with(|| format!("create {name}"))
}

/// The message-queue file system of the current IPC namespace, mounted
/// nowhere: a handle for Landlock to allow it by.
pub fn mqueue_root() -> Result<OwnedFd, Failure> {
    new_fs(
        c"mqueue",
        &[],
        sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
    )
}

/// The terminal device of standard input, output or error (the first that
/// is one), as the host names it.
fn callers_terminal() -> Option<String> {
    (0..3).find_map(|fd| {
        // SAFETY: isatty on a descriptor number; no memory is passed.
        if unsafe { libc::isatty(fd) } != 1 {
            return None;
        }
        std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .ok()?
            .into_os_string()
            .into_string()
            .ok()
    })
}

/// Pass 1: the host side of a step, if it has one.
pub fn prepare(action: &Action) -> Result<Option<Detached>, Failure> {
    let tree = match action {
        // Like every bind: nothing setuid or a device node from it.
        Action::RootBind { src, below } => clone_tree(
            src,
            below.as_deref(),
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
        )?,
        Action::Bind {
            src,
            readonly,
            devices,
            below,
            ..
        } => {
            let mut attrs = sys::MOUNT_ATTR_NOSUID;
            if !devices {
                attrs |= sys::MOUNT_ATTR_NODEV;
            }
            if *readonly {
                attrs |= sys::MOUNT_ATTR_RDONLY;
            }
            clone_tree(src, below.as_deref(), attrs)?
        }
        Action::Dev { console, .. } => {
            let mut nodes = vec![];
            for n in DEV_NODES {
                nodes.push((
                    n,
                    clone_tree(&format!("/dev/{n}"), None, sys::MOUNT_ATTR_NOSUID)?,
                ));
            }
            if *console && let Some(tty) = callers_terminal() {
                nodes.push(("console", clone_tree(&tty, None, sys::MOUNT_ATTR_NOSUID)?));
            }
            return Ok(Some(Detached::Dev(nodes)));
        }
        Action::Overlay {
            lower,
            upper,
            work,
            readonly,
            below,
            ..
        } => {
            let folder = |p: &str| {
                let w = super::hostpath::writable_above(p, below);
                super::hostpath::open(p, w, libc::O_PATH | libc::O_DIRECTORY).call_with(
                    || match w {
                        Some(w) => format!("open {p} (no links below {w})"),
                        None => format!("open {p}"),
                    },
                )
            };
            let lower = lower.iter().map(|l| folder(l)).collect::<Result<_, _>>()?;
            let upper = match (upper, work, readonly) {
                (Some(u), Some(w), false) => Some((folder(u)?, folder(w)?)),
                _ => None,
            };
            return Ok(Some(Detached::Layers { lower, upper }));
        }
        _ => return Ok(None),
    };
    Ok(Some(Detached::Tree(tree)))
}

/// Pass 1 for a socket the launcher made (the D-Bus proxy's).
pub fn prepare_socket(path: &std::path::Path) -> Result<Detached, Failure> {
    let p = path.to_string_lossy();
    Ok(Detached::Tree(clone_tree(
        &p,
        None,
        sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
    )?))
}

/// The overlay of the folders pass 1 opened: `upper` (and its work
/// folder), or a throw-away tmpfs unless `readonly`.
fn overlay(
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
    let _scratch;
    match (upper, readonly) {
        (_, true) => {}
        (Some((u, w)), false) => {
            opts.push((c"upperdir", Some(through(u))));
            opts.push((c"workdir", Some(through(w))));
        }
        (None, false) => {
            let tmp = new_fs(
                c"tmpfs",
                &[(c"mode", Some("0755".into()))],
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
            )?;
            for d in [c"upper", c"work"] {
                // SAFETY: mkdirat on a directory fd we own.
                let r = unsafe { libc::mkdirat(tmp.as_raw_fd(), d.as_ptr(), 0o755) };
                if r < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
                .call("overlay scratch directory")?;
            }
            let base = format!("/proc/self/fd/{}", tmp.as_raw_fd());
            opts.push((c"upperdir", Some(format!("{base}/upper"))));
            opts.push((c"workdir", Some(format!("{base}/work"))));
            _scratch = tmp;
        }
    }
    // Unprivileged overlay needs user.* xattrs instead of trusted.*.
    opts.push((c"userxattr", None));
    let attrs = sys::MOUNT_ATTR_NOSUID
        | sys::MOUNT_ATTR_NODEV
        | if readonly { sys::MOUNT_ATTR_RDONLY } else { 0 };
    new_fs(c"overlay", &opts, attrs)
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
pub struct NewRoot {
    root: OwnedFd,
    /// The caller's umask, the app's again at the pivot: while the root is
    /// built the umask is 0, so that what is made has exactly the mode
    /// the plan gives it, as bubblewrap does.
    umask: nix::sys::stat::Mode,
}

fn last_err() -> io::Error {
    io::Error::last_os_error()
}

impl NewRoot {
    /// Attach the root mount (a fresh tmpfs, or a prepared rootfs tree)
    /// over /tmp of this private mount namespace: every source is already
    /// cloned, so covering host paths no longer matters.
    pub fn attach(prepared: Option<Detached>) -> Result<NewRoot, Failure> {
        let root = match prepared {
            Some(Detached::Tree(t)) => t,
            _ => new_fs(
                c"tmpfs",
                &[(c"mode", Some("0755".into()))],
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
            )?,
        };
        let staging = open_path(c"/tmp").call_with(|| "open /tmp to stage the new root".into())?;
        sys::move_mount(root.as_fd(), staging.as_fd())
            .call_with(|| "attach the new root".into())?;
        let umask = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        Ok(NewRoot { root, umask })
    }

    fn open(&self, path: &str, flags: i32) -> io::Result<OwnedFd> {
        sys::open_in_root(self.root.as_fd(), &cstr(path)?, flags, 0)
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
        // SAFETY: *at calls on a directory fd we own, with a C string name.
        let r = unsafe {
            match want {
                Want::Dir(mode) => libc::mkdirat(parent.as_raw_fd(), cname.as_ptr(), mode),
                Want::File(mode) => {
                    let fd = libc::openat(
                        parent.as_raw_fd(),
                        cname.as_ptr(),
                        libc::O_CREAT
                            | libc::O_EXCL
                            | libc::O_WRONLY
                            | libc::O_NOFOLLOW
                            | libc::O_CLOEXEC,
                        mode,
                    );
                    if fd >= 0 {
                        libc::close(fd);
                    }
                    fd
                }
            }
        };
        let made = r >= 0;
        if !made && last_err().raw_os_error() != Some(libc::EEXIST) {
            return Err(last_err().failure(format!("create {path}")));
        }
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
                .call_with(|| "open /".into())?
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
        sys::move_mount(tree.as_fd(), target.as_fd()).call_with(|| format!("mount on {dst}"))
    }

    fn symlink(&self, target: &str, dst: &str) -> Result<(), Failure> {
        let (parent, name) = self.ensure_parent(dst, parent_mode(None))?;
        let (t, n) = (
            cstr(target).call(target)?,
            cstr(&name).call_with(|| name.clone())?,
        );
        // SAFETY: symlinkat with a directory fd we own.
        if unsafe { libc::symlinkat(t.as_ptr(), parent.as_raw_fd(), n.as_ptr()) } == 0 {
            return Ok(());
        }
        let err = last_err();
        // The same link made twice (two profiles both add /bin) is fine.
        let mut buf = [0u8; 4096];
        // SAFETY: readlinkat into a local buffer.
        let len = unsafe {
            libc::readlinkat(
                parent.as_raw_fd(),
                n.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if err.raw_os_error() == Some(libc::EEXIST)
            && len >= 0
            && &buf[..len as usize] == target.as_bytes()
        {
            return Ok(());
        }
        Err(err.failure(format!("symlink {dst}")))
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
        // SAFETY: openat on a directory fd we own; O_NOFOLLOW refuses a
        // planted link, O_EXCL a file made meanwhile.
        let fd = unsafe {
            libc::openat(
                parent.as_raw_fd(),
                n.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                mode,
            )
        };
        if fd < 0 {
            return Err(last_err().failure(format!("create {dst}")));
        }
        // SAFETY: fd was just opened by us.
        let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let mut f = &file;
        f.write_all(content.as_bytes())
            .call_with(|| format!("write {dst}"))?;
        // Exactly `mode`, which the umask may have narrowed.
        file.set_permissions(std::fs::Permissions::from_mode(mode))
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
            c"tmpfs",
            &[
                (c"mode", Some("0755".into())),
                (c"size", Some(size.to_string())),
            ],
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
        )?;
        // SAFETY: openat relative to the detached tmpfs we just made.
        let fd = unsafe {
            libc::openat(
                fs.as_raw_fd(),
                c"data".as_ptr(),
                libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                mode,
            )
        };
        if fd < 0 {
            return Err(last_err().failure(format!("stage {dst}")));
        }
        // SAFETY: fd was just opened by us.
        let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        (&file)
            .write_all(content.as_bytes())
            .call_with(|| format!("stage {dst}"))?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .call_with(|| format!("stage {dst}"))?;
        let copy =
            sys::open_tree_clone(Some(fs.as_fd()), c"data").call_with(|| format!("stage {dst}"))?;
        if readonly {
            sys::mount_setattr(copy.as_fd(), sys::MOUNT_ATTR_RDONLY, false)
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
        // SAFETY: fchmod on a descriptor we own.
        if unsafe { libc::fchmod(fd.as_raw_fd(), mode) } < 0 {
            return Err(last_err().failure(format!("chmod {dst}")));
        }
        Ok(())
    }

    fn tmpfs(&self, dst: &str, size: Option<u64>, mode: u32, attrs: u64) -> Result<(), Failure> {
        let mut opts = vec![(c"mode", Some(format!("{mode:o}")))];
        if let Some(s) = size {
            opts.push((c"size", Some(s.to_string())));
        }
        let fs = new_fs(c"tmpfs", &opts, attrs)?;
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
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
        )?;
        for (name, tree) in nodes {
            self.mount_on(tree, &format!("{dst}/{name}"), Want::File(MOUNT_POINT_FILE))?;
        }
        let pts = new_fs(
            c"devpts",
            &[
                (c"newinstance", None),
                (c"ptmxmode", Some("0666".into())),
                (c"mode", Some("0620".into())),
            ],
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
        )?;
        self.mount_on(&pts, &format!("{dst}/pts"), Want::Dir(MOUNT_POINT_DIR))?;
        self.symlink("pts/ptmx", &format!("{dst}/ptmx"))?;
        self.tmpfs(
            &format!("{dst}/shm"),
            None,
            0o1777,
            sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
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
        let attrs = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC;
        let fs = new_fs(c"proc", &[], attrs)?;
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
        let copy = sys::open_tree_clone_one(at.as_fd()).call_with(|| format!("open_tree {dst}"))?;
        sys::move_mount(copy.as_fd(), at.as_fd()).call_with(|| format!("mount on {dst}"))
    }

    /// A read-only copy of what is at `dst` (with its submounts) on top of it.
    fn remount_ro(&self, dst: &str) -> Result<(), Failure> {
        let at = self
            .open(dst, libc::O_PATH)
            .call_with(|| format!("open {dst}"))?;
        let copy =
            sys::open_tree_clone(Some(at.as_fd()), c"").call_with(|| format!("open_tree {dst}"))?;
        sys::mount_setattr(copy.as_fd(), sys::MOUNT_ATTR_RDONLY, true)
            .call_with(|| format!("mount_setattr {dst}"))?;
        sys::move_mount(copy.as_fd(), at.as_fd()).call_with(|| format!("mount on {dst}"))
    }

    /// Pass 2: apply one mount step.
    pub fn apply(&self, action: &Action, prepared: Option<Detached>) -> Result<(), Failure> {
        let tree = |p: Option<Detached>| match p {
            Some(Detached::Tree(t)) => Ok(t),
            _ => Err(Failure::new(libc::EINVAL, "not prepared")),
        };
        match action {
            Action::Bind { dst, dir, .. } => self.mount_on(
                &tree(prepared)?,
                dst,
                if *dir {
                    Want::Dir(MOUNT_POINT_DIR)
                } else {
                    Want::File(MOUNT_POINT_FILE)
                },
            ),
            Action::Overlay { dst, readonly, .. } => match prepared {
                Some(Detached::Layers { lower, upper }) => self.mount_on(
                    &overlay(&lower, upper.as_ref(), *readonly)?,
                    dst,
                    Want::Dir(MOUNT_POINT_DIR),
                ),
                _ => Err(Failure::new(libc::EINVAL, "not prepared")),
            },
            // Not prepared: there was no session bus to filter (see
            // exec::launch), so there is no socket to bind.
            Action::DbusSocket { dst } => match prepared {
                Some(Detached::Tree(t)) => self.mount_on(&t, dst, Want::File(MOUNT_POINT_FILE)),
                _ => Ok(()),
            },
            Action::Tmpfs { dst, size, mode } => self.tmpfs(
                dst,
                *size,
                *mode,
                sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
            ),
            Action::Proc { dst, read_only } => self.proc(dst, read_only),
            Action::Mqueue { dst } => {
                let fs = new_fs(
                    c"mqueue",
                    &[],
                    sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV | sys::MOUNT_ATTR_NOEXEC,
                )?;
                self.mount_on(&fs, dst, Want::Dir(MOUNT_POINT_DIR))
            }
            Action::Dev { dst, .. } => match prepared {
                Some(Detached::Dev(nodes)) => self.dev(dst, &nodes),
                _ => Err(Failure::new(libc::EINVAL, "not prepared")),
            },
            Action::Symlink { target, dst } => self.symlink(target, dst),
            Action::Dir { dst, mode } => self.dir(dst, *mode),
            Action::File { dst, content, mode } => self.write_file(dst, content, *mode),
            Action::RemountRo { dst } => self.remount_ro(dst),
            Action::Pin { dst, mode } => self.pin(dst, *mode),
            Action::Hide { dst, dir: true } => {
                let empty = new_fs(
                    c"tmpfs",
                    &[(c"mode", Some("0700".into())), (c"size", Some("4k".into()))],
                    sys::MOUNT_ATTR_RDONLY
                        | sys::MOUNT_ATTR_NOSUID
                        | sys::MOUNT_ATTR_NODEV
                        | sys::MOUNT_ATTR_NOEXEC,
                )?;
                self.mount_on(&empty, dst, Want::Dir(MOUNT_POINT_DIR))
            }
            Action::Hide { dst, dir: false } => self.bind_data(dst, "", 0o400, true),
            Action::ResolvConf { nameservers } => {
                let text: String = nameservers
                    .iter()
                    .map(|n| format!("nameserver {n}\n"))
                    .collect();
                self.bind_data("/etc/resolv.conf", &text, 0o644, true)
            }
            Action::RemountRootRo => {
                sys::mount_setattr(self.root.as_fd(), sys::MOUNT_ATTR_RDONLY, false)
                    .call("remount / read-only")
            }
            _ => Ok(()),
        }
    }

    /// Make the new root `/` and detach the old one, so that nothing of the
    /// host's mount table stays reachable.
    pub fn pivot(self) -> Result<(), Failure> {
        nix::sys::stat::umask(self.umask);
        // SAFETY: fchdir to a directory fd we own.
        if unsafe { libc::fchdir(self.root.as_raw_fd()) } < 0 {
            return Err(last_err().failure("chdir into the new root".into()));
        }
        sys::pivot_root(c".", c".").call("pivot_root")?;
        nix::mount::umount2(".", nix::mount::MntFlags::MNT_DETACH).call("detach the old root")?;
        std::env::set_current_dir("/").call("chdir /")
    }
}

fn open_path(path: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: open with a C string; the result is checked.
    let fd = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(last_err());
    }
    // SAFETY: just opened.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
