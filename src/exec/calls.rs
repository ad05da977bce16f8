//! What a call the app's filter sends to the launcher names: the calls
//! watched (by `sandbox learn`, and by `--trace-denials` for what
//! Landlock may refuse), and how their paths and addresses are read from
//! the calling thread's memory and /proc entries, as its supervisor (its
//! own descendant, in user namespaces the launcher owns).
//!
//! What is read is what the caller named before the call ran, not what
//! the kernel resolved: another thread of the app could change it
//! meanwhile. Nothing may be granted by what is read here: the kernel
//! checks the call again when it goes on.

use crate::plan::learned::{Address, Event, Use, absolute};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// Where a watched call holds a path: its directory descriptor's
/// argument (none: the working folder), and the path's.
type At = (Option<usize>, usize);

/// How a watched call names what it uses.
#[derive(Clone, Copy)]
pub(super) enum Form {
    /// open, openat, creat (no flags argument: O_CREAT|O_WRONLY|O_TRUNC).
    Open {
        at: At,
        flags: Option<usize>,
    },
    /// openat2: the flags are in the `struct open_how` at argument 2.
    Openat2,
    Exec(At),
    /// Entries made (their folders are written); one already there is
    /// not made (EEXIST).
    Make(&'static [At]),
    /// An entry removed (its folder is written): only what the call can
    /// remove (a folder by rmdir when empty, anything else by unlink).
    Remove {
        at: At,
        dir: Dir,
    },
    /// rename: the first goes away, the second is made or replaced.
    Rename {
        from: At,
        to: At,
    },
    /// A file changed in place.
    Change(At),
    /// link, linkat: a new name (an entry) for a file that is there.
    Link {
        from: At,
        to: At,
    },
    Connect,
    Bind,
}

const WATCHED: &[(&str, Form)] = &[
    (
        "open",
        Form::Open {
            at: (None, 0),
            flags: Some(1),
        },
    ),
    (
        "openat",
        Form::Open {
            at: (Some(0), 1),
            flags: Some(2),
        },
    ),
    (
        "creat",
        Form::Open {
            at: (None, 0),
            flags: None,
        },
    ),
    ("openat2", Form::Openat2),
    ("execve", Form::Exec((None, 0))),
    ("execveat", Form::Exec((Some(0), 1))),
    ("mkdir", Form::Make(&[(None, 0)])),
    ("mkdirat", Form::Make(&[(Some(0), 1)])),
    (
        "rmdir",
        Form::Remove {
            at: (None, 0),
            dir: Dir::Always,
        },
    ),
    (
        "unlink",
        Form::Remove {
            at: (None, 0),
            dir: Dir::Never,
        },
    ),
    (
        "unlinkat",
        Form::Remove {
            at: (Some(0), 1),
            dir: Dir::Flag(2),
        },
    ),
    ("mknod", Form::Make(&[(None, 0)])),
    ("mknodat", Form::Make(&[(Some(0), 1)])),
    (
        "rename",
        Form::Rename {
            from: (None, 0),
            to: (None, 1),
        },
    ),
    (
        "renameat",
        Form::Rename {
            from: (Some(0), 1),
            to: (Some(2), 3),
        },
    ),
    (
        "renameat2",
        Form::Rename {
            from: (Some(0), 1),
            to: (Some(2), 3),
        },
    ),
    ("symlink", Form::Make(&[(None, 1)])),
    ("symlinkat", Form::Make(&[(Some(1), 2)])),
    (
        "link",
        Form::Link {
            from: (None, 0),
            to: (None, 1),
        },
    ),
    (
        "linkat",
        Form::Link {
            from: (Some(0), 1),
            to: (Some(2), 3),
        },
    ),
    ("truncate", Form::Change((None, 0))),
    ("chmod", Form::Change((None, 0))),
    ("fchmodat", Form::Change((Some(0), 1))),
    ("fchmodat2", Form::Change((Some(0), 1))),
    ("chown", Form::Change((None, 0))),
    ("lchown", Form::Change((None, 0))),
    ("fchownat", Form::Change((Some(0), 1))),
    ("utimensat", Form::Change((Some(0), 1))),
    ("futimesat", Form::Change((Some(0), 1))),
    ("utimes", Form::Change((None, 0))),
    ("utime", Form::Change((None, 0))),
    ("connect", Form::Connect),
    ("bind", Form::Bind),
];

/// Whether a removal is of a folder.
#[derive(Clone, Copy)]
pub(super) enum Dir {
    Always,
    Never,
    /// When this argument has AT_REMOVEDIR.
    Flag(usize),
}

/// The watched calls this architecture has, by number: their numbers
/// (for the filter), then their forms in the same order. Looked up once:
/// every call the launcher answers asks for its form.
fn by_number() -> &'static (Vec<u32>, Vec<Form>) {
    static TABLE: std::sync::OnceLock<(Vec<u32>, Vec<Form>)> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        WATCHED
            .iter()
            .filter_map(|(n, f)| Some((crate::syscalls::number(n)?, *f)))
            .unzip()
    })
}

/// The numbers of the calls a learning or path-watching filter sends
/// to the launcher.
pub fn watched() -> &'static [u32] {
    &by_number().0
}

pub(super) fn form_of(nr: u32) -> Option<Form> {
    let (numbers, forms) = by_number();
    numbers.iter().position(|n| *n == nr).map(|i| forms[i])
}

/// Whether a path names an entry of a folder (its last component is not
/// `.` or `..`, nor is it empty).
fn names_entry(path: &[u8]) -> bool {
    let trimmed = match path.iter().rposition(|b| *b != b'/') {
        Some(end) => &path[..=end],
        None => return false,
    };
    let last = trimmed.rsplit(|b| *b == b'/').next().unwrap_or_default();
    !matches!(last, b"" | b"." | b"..")
}

/// What a descriptor (an O_PATH one too) names.
pub(super) fn stat(fd: BorrowedFd) -> Option<std::fs::Metadata> {
    // SAFETY: the File is never dropped: the descriptor stays the
    // caller's, open for the whole call.
    let file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd.as_raw_fd()) });
    file.metadata().ok()
}

/// No path deeper than this is looked up, nor a walk up from one higher.
pub(super) const DEEPEST: usize = 256;

/// How a [`Task`] gives back the paths a call names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Naming {
    /// Absolute, with `.` and `..` folded by text: what a draft profile
    /// names (`sandbox learn`).
    Folded,
    /// Joined to their folder as named, for the kernel to look up: a
    /// `..` after a link is then the parent of the link's target, as in
    /// the call (`--trace-denials`' predictions).
    AsNamed,
}

/// The app's thread that made a call, by its id in the launcher's pid
/// namespace.
pub(super) struct Task {
    tid: u32,
    naming: Naming,
    /// Whether a socket's type is asked (of a copy of it, pidfd_getfd),
    /// to tell TCP: only where what is recorded or predicted needs it.
    streams: bool,
    /// Its root (/proc/TID/root), opened at the first look-up: a call's
    /// paths are looked up several times, all from there.
    root: std::cell::OnceCell<Option<std::fs::File>>,
}

impl Task {
    /// For `sandbox learn`: folded paths, sockets' types asked.
    pub(super) fn learning(tid: u32) -> Task {
        Task {
            tid,
            naming: Naming::Folded,
            streams: true,
            root: Default::default(),
        }
    }

    /// For `--trace-denials`: paths as named; sockets' types asked only
    /// with `streams` (Landlock rules on TCP ports).
    pub(super) fn tracing(tid: u32, streams: bool) -> Task {
        Task {
            tid,
            naming: Naming::AsNamed,
            streams,
            root: Default::default(),
        }
    }

    fn proc(&self, rest: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{rest}", self.tid))
    }

    /// `named` after the folder `base` (itself when `named` is absolute).
    fn join(&self, base: &[u8], named: &[u8]) -> PathBuf {
        use std::os::unix::ffi::OsStringExt;
        match self.naming {
            Naming::Folded => absolute(base, named),
            Naming::AsNamed => {
                let mut out = vec![];
                if named.first() != Some(&b'/') {
                    out.extend_from_slice(base);
                    if !named.is_empty() && !base.ends_with(b"/") {
                        out.push(b'/');
                    }
                }
                out.extend_from_slice(named);
                PathBuf::from(std::ffi::OsString::from_vec(out))
            }
        }
    }

    /// `path` in the app's view with its last link (and the last link of
    /// what that names, and so on) followed: the name an open reaches,
    /// there or not.
    pub(super) fn final_path(&self, path: &std::path::Path) -> Option<PathBuf> {
        use std::os::unix::ffi::OsStrExt;
        let mut at = path.to_path_buf();
        // The kernel follows at most 40 links.
        for _ in 0..40 {
            let Some(fd) = self.inside(&at, false) else {
                return Some(at);
            };
            if !stat(fd.as_fd())?.is_symlink() {
                return Some(at);
            }
            let mut buf = vec![0u8; libc::PATH_MAX as usize];
            // SAFETY: an empty C string names the descriptor's own link;
            // `buf` has the room passed.
            let n = unsafe {
                libc::readlinkat(
                    fd.as_raw_fd(),
                    c"".as_ptr(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                )
            };
            if n < 0 {
                return None;
            }
            buf.truncate(n as usize);
            let base = at.parent()?.as_os_str().as_bytes().to_vec();
            at = self.join(&base, &buf);
        }
        None
    }

    /// A NUL-terminated string at `addr` in the thread's memory (at most
    /// PATH_MAX bytes), read page by page: the string may end just before
    /// a page that is not mapped.
    fn string(&self, addr: u64) -> Option<Vec<u8>> {
        if addr == 0 {
            return None;
        }
        let mem = std::fs::File::open(self.proc("mem")).ok()?;
        let mut out = vec![];
        let mut at = addr;
        while out.len() < libc::PATH_MAX as usize {
            let room = 4096 - (at % 4096) as usize;
            let mut buf = vec![0u8; room];
            let n = mem.read_at(&mut buf, at).ok()?;
            if n == 0 {
                return None;
            }
            if let Some(end) = buf[..n].iter().position(|b| *b == 0) {
                out.extend_from_slice(&buf[..end]);
                return Some(out);
            }
            out.extend_from_slice(&buf[..n]);
            at += n as u64;
        }
        None
    }

    fn bytes(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mem = std::fs::File::open(self.proc("mem")).ok()?;
        let mut buf = vec![0u8; len];
        let n = mem.read_at(&mut buf, addr).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    /// The folder a relative path starts from: the working folder, or
    /// what descriptor `dirfd` names.
    fn base(&self, dirfd: Option<i32>) -> Option<Vec<u8>> {
        use std::os::unix::ffi::OsStringExt;
        let link = match dirfd {
            None | Some(libc::AT_FDCWD) => self.proc("cwd"),
            Some(fd) => self.proc(&format!("fd/{fd}")),
        };
        let target = std::fs::read_link(link).ok()?.into_os_string().into_vec();
        target.starts_with(b"/").then_some(target)
    }

    /// The path a call names at `at`; an empty one (AT_EMPTY_PATH) is
    /// its descriptor's.
    fn path(&self, args: &[u64; 6], at: At) -> Option<PathBuf> {
        let dirfd = at.0.map(|i| args[i] as i32);
        let named = self.string(args[at.1])?;
        if named.first() == Some(&b'/') {
            return Some(self.join(b"/", &named));
        }
        Some(self.join(&self.base(dirfd)?, &named))
    }

    /// What is at `path` in the app's view, opened O_PATH: resolved by
    /// the kernel as the app would (its links relative to its root, not
    /// the launcher's), the last link followed when `follow`.
    /// Not deeper than [`DEEPEST`]: each level costs the launcher, outside
    /// the sandbox's cgroup.
    pub(super) fn inside(&self, path: &std::path::Path, follow: bool) -> Option<OwnedFd> {
        use std::os::unix::ffi::OsStrExt;
        if path
            .as_os_str()
            .as_bytes()
            .iter()
            .filter(|b| **b == b'/')
            .count()
            > DEEPEST
        {
            return None;
        }
        let root = self
            .root
            .get_or_init(|| std::fs::File::open(self.proc("root")).ok())
            .as_ref()?;
        let rel = path.strip_prefix("/").ok()?;
        let rel = if rel.as_os_str().is_empty() {
            std::ffi::CString::new(".").ok()?
        } else {
            std::ffi::CString::new(rel.as_os_str().as_bytes()).ok()?
        };
        let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
        super::sys::open_in_root(root.as_fd(), &rel, libc::O_PATH | nofollow, 0).ok()
    }

    /// What is at `path` in the app's view, links not followed at the
    /// end: None when nothing is.
    fn kind(&self, path: &std::path::Path) -> Option<std::fs::FileType> {
        Some(stat(self.inside(path, false)?.as_fd())?.file_type())
    }

    /// Whether `path` is what a removal can remove: an empty folder for
    /// rmdir, anything but a folder for unlink.
    fn removable(&self, path: &std::path::Path, folder: bool) -> bool {
        let Some(kind) = self.kind(path) else {
            return false;
        };
        if !folder {
            return !kind.is_dir();
        }
        let Some(fd) = self.inside(path, false) else {
            return false;
        };
        // Listed through the launcher's own descriptor of it.
        kind.is_dir()
            && std::fs::read_dir(format!("/proc/self/fd/{}", fd.as_raw_fd()))
                .is_ok_and(|mut d| d.next().is_none())
    }

    /// What a watched call uses.
    pub(super) fn uses(&self, form: Form, args: &[u64; 6]) -> Vec<Event> {
        let path = |how, p: PathBuf| Event::Path { path: p, how };
        let there = |p: &PathBuf| self.kind(p).is_some();
        match form {
            Form::Open { at, flags } => {
                let flags = match flags {
                    Some(i) => args[i] as i32,
                    None => libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC,
                };
                self.path(args, at)
                    .and_then(|p| self.opened(p, flags))
                    .into_iter()
                    .collect()
            }
            Form::Openat2 => {
                let flags = self
                    .bytes(args[2], 8)
                    .filter(|b| b.len() == 8)
                    .map(|b| u64::from_ne_bytes(b.try_into().unwrap_or_default()) as i32);
                match (self.path(args, (Some(0), 1)), flags) {
                    (Some(p), Some(f)) => self.opened(p, f).into_iter().collect(),
                    _ => vec![],
                }
            }
            Form::Exec(at) => self
                .path(args, at)
                .filter(there)
                .map(|p| path(Use::Exec, p))
                .into_iter()
                .collect(),
            Form::Make(ats) => ats
                .iter()
                // mkdir("x/.") makes nothing: it fails, "x" is there.
                .filter(|at| self.string(args[at.1]).is_some_and(|s| names_entry(&s)))
                .filter_map(|at| self.path(args, *at))
                // What is there is not made again (mkdir -p).
                .filter(|p| !there(p))
                .map(|p| path(Use::Entry, p))
                .collect(),
            Form::Remove { at, dir } => {
                let folder = match dir {
                    Dir::Always => true,
                    Dir::Never => false,
                    Dir::Flag(i) => args[i] as i32 & libc::AT_REMOVEDIR != 0,
                };
                self.string(args[at.1])
                    .filter(|s| names_entry(s))
                    .and_then(|_| self.path(args, at))
                    .filter(|p| self.removable(p, folder))
                    .map(|p| path(Use::Entry, p))
                    .into_iter()
                    .collect()
            }
            Form::Rename { from, to } => match self.path(args, from).filter(there) {
                Some(f) => std::iter::once(path(Use::Entry, f))
                    .chain(self.path(args, to).map(|t| path(Use::Entry, t)))
                    .collect(),
                None => vec![],
            },
            Form::Change(at) => {
                // utimensat(fd, NULL, ...) changes the descriptor's file.
                if args[at.1] == 0 {
                    return vec![];
                }
                self.path(args, at)
                    .filter(there)
                    .map(|p| path(Use::Write, p))
                    .into_iter()
                    .collect()
            }
            Form::Link { from, to } => {
                let mut v: Vec<Event> = self
                    .path(args, from)
                    .filter(there)
                    .map(|p| path(Use::Read, p))
                    .into_iter()
                    .collect();
                v.extend(self.path(args, to).map(|p| path(Use::Entry, p)));
                v
            }
            Form::Connect | Form::Bind => {
                let len = (args[2] as usize).min(128);
                let Some(addr) = self.bytes(args[1], len) else {
                    return vec![];
                };
                let Some(a) = self.address(&addr, args[0] as i32) else {
                    return vec![];
                };
                match (form, a) {
                    (Form::Bind, Address::Unix(p)) => {
                        vec![Event::Bind(Address::Unix(p.clone())), path(Use::Entry, p)]
                    }
                    (Form::Bind, a) => vec![Event::Bind(a)],
                    (_, a) => vec![Event::Connect(a)],
                }
            }
        }
    }

    /// What an open of `p` with `flags` uses; None for what fails anyway
    /// (a missing file not created, a link with O_NOFOLLOW, O_EXCL over
    /// an entry) or uses nothing (O_PATH).
    fn opened(&self, p: PathBuf, flags: i32) -> Option<Event> {
        use std::os::unix::fs::FileTypeExt;
        // O_PATH opens nothing (its other flags but O_DIRECTORY and
        // O_NOFOLLOW are ignored).
        if flags & libc::O_PATH != 0 {
            return None;
        }
        let here = self.kind(&p);
        let follow = flags & libc::O_NOFOLLOW == 0;
        if !follow && here.is_some_and(|k| k.is_symlink()) {
            return None;
        }
        // What the open reaches: the name, or where its links lead.
        let reached = if follow {
            self.final_path(&p)?
        } else {
            p.clone()
        };
        let kind = self.kind(&reached);
        // Opening a socket fails (ENXIO): connecting is how it is used,
        // and what connects is recorded as such.
        if kind.is_some_and(|k| k.is_socket()) {
            return None;
        }
        let create = flags & libc::O_CREAT != 0;
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        let how = if flags & libc::O_TMPFILE == libc::O_TMPFILE {
            // An unnamed file in the folder `p`.
            Use::Write
        } else if create && flags & libc::O_EXCL != 0 && here.is_some() {
            // EEXIST, even for a link to nothing.
            return None;
        } else if create && kind.is_none() {
            // Made where the links lead.
            return Some(Event::Path {
                path: reached,
                how: Use::Entry,
            });
        } else if kind.is_none() {
            // Missing here: it fails; said in the draft if it is a secret
            // the learning run hid.
            Use::Missing
        } else if writes {
            Use::Write
        } else if kind.is_some_and(|k| k.is_dir()) {
            // `reached` is no link: what `p` leads to.
            Use::List
        } else {
            Use::Read
        };
        Some(Event::Path { path: p, how })
    }

    /// A socket address the app gave for its descriptor `fd`.
    fn address(&self, a: &[u8], fd: i32) -> Option<Address> {
        use std::net::{Ipv4Addr, Ipv6Addr};
        let family = u16::from_ne_bytes([*a.first()?, *a.get(1)?]) as i32;
        let port = || Some(u16::from_be_bytes([*a.get(2)?, *a.get(3)?]));
        match family {
            libc::AF_UNIX => {
                let name = a.get(2..)?;
                if name.first() == Some(&0) {
                    return Some(Address::Abstract(name[1..].to_vec()));
                }
                let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
                let named = &name[..end];
                if named.is_empty() {
                    return None;
                }
                let base = self.base(None).unwrap_or_else(|| b"/".to_vec());
                Some(Address::Unix(self.join(&base, named)))
            }
            libc::AF_INET => {
                let ip: [u8; 4] = a.get(4..8)?.try_into().ok()?;
                Some(Address::Ip {
                    ip: Ipv4Addr::from(ip).into(),
                    port: port()?,
                    stream: self.streams && self.is_stream(fd),
                })
            }
            libc::AF_INET6 => {
                let ip: [u8; 16] = a.get(8..24)?.try_into().ok()?;
                let ip = Ipv6Addr::from(ip);
                Some(Address::Ip {
                    ip: ip.to_ipv4_mapped().map(Into::into).unwrap_or(ip.into()),
                    port: port()?,
                    stream: self.streams && self.is_stream(fd),
                })
            }
            _ => None,
        }
    }

    /// Whether the app's socket `fd` is a stream (TCP): asked of a copy
    /// of it (pidfd_getfd), closed at once.
    fn is_stream(&self, fd: i32) -> bool {
        let Some(tgid) = std::fs::read_to_string(self.proc("status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Tgid:"))
                    .and_then(|t| t.trim().parse::<i32>().ok())
            })
        else {
            return true;
        };
        // Only a socket is copied: closing a copy of anything else (a
        // file on a file system the app serves) could wait on the app.
        let named = std::fs::read_link(self.proc(&format!("fd/{fd}")));
        if !named.is_ok_and(|n| n.to_string_lossy().starts_with("socket:[")) {
            return true;
        }
        let Ok(pidfd) = super::sys::pidfd_open(tgid) else {
            return true;
        };
        // SAFETY: pidfd_getfd returns a new descriptor or -1.
        let got = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
        if got < 0 {
            return true;
        }
        // SAFETY: a descriptor the call just made, ours to close.
        let sock = unsafe { OwnedFd::from_raw_fd(got as i32) };
        let int = |option| {
            let mut v: libc::c_int = 0;
            let mut len = size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: reading one int into `v`.
            let r = unsafe {
                libc::getsockopt(
                    sock.as_raw_fd(),
                    libc::SOL_SOCKET,
                    option,
                    (&mut v as *mut libc::c_int).cast(),
                    &mut len,
                )
            };
            (r == 0).then_some(v)
        };
        // TCP, not a stream of another protocol (MPTCP, SCTP), which
        // Landlock's port rules do not restrict.
        match (int(libc::SO_TYPE), int(libc::SO_PROTOCOL)) {
            (Some(ty), Some(proto)) => ty == libc::SOCK_STREAM && proto == libc::IPPROTO_TCP,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dot_names_no_entry() {
        for p in ["x/.", ".", "..", "a/..", "/", "x/./"] {
            assert!(!names_entry(p.as_bytes()), "{p}");
        }
        for p in ["x", "a/b", "b/", "./c", ".hidden"] {
            assert!(names_entry(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn every_watched_call_is_known_here() {
        // fchmodat2 is newer than some tables; the rest must be there.
        let missing: Vec<&str> = WATCHED
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| crate::syscalls::number(n).is_none() && *n != "fchmodat2")
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_path_inside_resolves_its_links_in_the_apps_root() {
        // This process is the app: an absolute link inside resolves from
        // its root, and a missing path is None.
        let me = Task::learning(std::process::id());
        let dir = std::env::temp_dir().join(format!("calls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/", &link).unwrap();
        assert!(me.kind(&link).unwrap().is_symlink());
        assert!(
            stat(me.inside(&link, true).unwrap().as_fd())
                .unwrap()
                .is_dir()
        );
        assert!(me.kind(&dir.join("nothing")).is_none());
        assert!(me.removable(&link, false));
        assert!(!me.removable(&dir, true));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_open_uses_what_its_flags_and_links_say() {
        let dir = std::env::temp_dir().join(format!("calls-open-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("f"), b"x").unwrap();
        let dangling = dir.join("dangling");
        let _ = std::fs::remove_file(&dangling);
        std::os::unix::fs::symlink("sub/made", &dangling).unwrap();
        let me = Task::tracing(std::process::id(), false);
        let how = |p: &std::path::Path, flags| match me.opened(p.to_path_buf(), flags) {
            Some(Event::Path { path, how }) => Some((path, how)),
            _ => None,
        };
        let missing = dir.join("missing");
        // O_PATH opens nothing, whatever else it says.
        assert_eq!(how(&missing, libc::O_PATH | libc::O_CREAT), None);
        assert_eq!(
            how(&dir, libc::O_PATH | libc::O_TMPFILE | libc::O_RDWR),
            None
        );
        assert_eq!(
            how(&missing, libc::O_RDONLY),
            Some((missing.clone(), Use::Missing))
        );
        assert_eq!(
            how(&missing, libc::O_CREAT | libc::O_WRONLY),
            Some((missing.clone(), Use::Entry))
        );
        // Made through a link to nothing: where it leads.
        assert_eq!(
            how(&dangling, libc::O_CREAT | libc::O_WRONLY),
            Some((dir.join("sub/made"), Use::Entry))
        );
        assert_eq!(
            how(&dangling, libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY),
            None
        );
        assert_eq!(
            how(&dangling, libc::O_RDONLY),
            Some((dangling.clone(), Use::Missing))
        );
        assert_eq!(how(&dangling, libc::O_RDONLY | libc::O_NOFOLLOW), None);
        let f = dir.join("f");
        assert_eq!(how(&f, libc::O_RDONLY), Some((f.clone(), Use::Read)));
        assert_eq!(
            how(&f, libc::O_RDONLY | libc::O_TRUNC),
            Some((f.clone(), Use::Write))
        );
        assert_eq!(
            how(&dir, libc::O_RDONLY | libc::O_DIRECTORY),
            Some((dir.clone(), Use::List))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn paths_as_named_keep_their_dotdots_and_folded_ones_do_not() {
        let t = Task::tracing(1, false);
        assert_eq!(t.join(b"/a/link", b"../f"), PathBuf::from("/a/link/../f"));
        assert_eq!(t.join(b"/", b"f"), PathBuf::from("/f"));
        assert_eq!(t.join(b"/a", b""), PathBuf::from("/a"));
        assert_eq!(t.join(b"/a", b"/b/../c"), PathBuf::from("/b/../c"));
        let l = Task::learning(1);
        assert_eq!(l.join(b"/a/link", b"../f"), PathBuf::from("/a/f"));
    }
}
