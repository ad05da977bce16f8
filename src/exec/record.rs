//! The recording [`Kernel`]: each call written down, one line, the way
//! strace shows it, and answered from a small model instead of made.
//!
//! The model knows what a trace needs to come out as the real run does:
//! which paths exist in the new root (made by mkdir_at, open with O_CREAT,
//! symlink_at; only `/` at first, so every mount point is made, as on an
//! empty tmpfs root), the filesystem ids, the umask, and the capability
//! sets of root in a new user namespace. Descriptors are real (each a
//! /dev/null opened for it, so the mechanism code can hold and drop them
//! as usual) and named in the trace by the order they were made (`fd1`,
//! `fd2`, ...), not by their numbers, which depend on the test process.
//! A descriptor opened relative to a directory the model knows carries
//! its path (`fd4=/usr`).

use super::kernel::{Kernel, Tree};
use super::sys::CapSets;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{CStr, CString};
use std::fmt::Write;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// What a recorded descriptor names.
#[derive(Clone)]
struct Handle {
    name: String,
    /// Its path in the new root's model, when it is a folder or file there.
    path: Option<String>,
    /// A mount whose content the model cannot know (a host tree, a proc,
    /// an overlay): once attached, whatever is looked up below it is there.
    full: bool,
    /// The file system type of an fsopen context.
    fstype: Option<String>,
}

/// The "errno" a recorded execve (and PID 1's supervision) returns with:
/// the app's command "ran". No failing system call gives 0, so it cannot
/// be taken for a real failure.
pub const EXEC_RECORDED: i32 = 0;

pub struct Recorder {
    lines: RefCell<Vec<String>>,
    /// Who makes the calls now: the launcher, the child, the app, ...
    who: RefCell<Vec<String>>,
    handles: RefCell<HashMap<i32, Handle>>,
    made: Cell<u32>,
    pids: Cell<i32>,
    exists: RefCell<BTreeSet<String>>,
    /// Where a mount the model cannot see into was attached.
    full_at: RefCell<BTreeSet<String>>,
    links: RefCell<BTreeMap<String, Vec<u8>>>,
    umask: Cell<u32>,
    /// Files outside the new root a trace reads (/proc/self/gid_map), as
    /// the harness says they are.
    files: RefCell<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Effective and filesystem uid/gid: setres*id sets both, setfs*id
    /// the filesystem ones only.
    ids: Cell<(u32, u32)>,
    fs_ids: Cell<(u32, u32)>,
    caps: Cell<CapSets>,
}

/// Every capability this kernel knows (0..=CAP_LAST_CAP).
const LAST_CAP: u64 = 40;

impl Default for Recorder {
    fn default() -> Self {
        Self::new("child")
    }
}

impl Recorder {
    /// A recorder whose calls are made by `who` until told otherwise.
    pub fn new(who: &str) -> Recorder {
        let all = (1u64 << (LAST_CAP + 1)) - 1;
        Recorder {
            lines: RefCell::default(),
            who: RefCell::new(vec![who.to_string()]),
            handles: RefCell::default(),
            made: Cell::new(0),
            pids: Cell::new(1),
            exists: RefCell::new(["/".to_string()].into()),
            full_at: RefCell::default(),
            links: RefCell::default(),
            umask: Cell::new(0o022),
            files: RefCell::default(),
            ids: Cell::new((0, 0)),
            fs_ids: Cell::new((0, 0)),
            caps: Cell::new(CapSets {
                effective: all,
                permitted: all,
                inheritable: 0,
            }),
        }
    }

    /// What `read_file` of `path` gives.
    pub fn set_file(&self, path: &str, content: &[u8]) {
        self.files
            .borrow_mut()
            .insert(path.as_bytes().to_vec(), content.to_vec());
    }

    /// The trace so far, one call per line.
    pub fn text(&self) -> String {
        self.lines
            .borrow()
            .iter()
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// Write a line as the current process.
    pub fn note(&self, line: impl AsRef<str>) {
        let who = self.who.borrow().last().cloned().unwrap_or_default();
        self.lines
            .borrow_mut()
            .push(format!("[{who}] {}", line.as_ref()));
    }

    /// Run `body` as another process (its calls marked `who`).
    pub fn as_process<T>(&self, who: String, body: impl FnOnce() -> T) -> T {
        self.who.borrow_mut().push(who);
        let r = body();
        self.who.borrow_mut().pop();
        r
    }

    /// Whether `path` exists in the new root's model.
    fn exists(&self, path: &str) -> bool {
        self.exists.borrow().contains(path)
            || self.full_at.borrow().iter().any(|m| {
                path.strip_prefix(m.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            })
    }

    fn fd(&self, kind: &str, path: Option<String>) -> io::Result<OwnedFd> {
        self.fd_with(kind, path, false, None)
    }

    /// A stand-in for the helper's socket to the launcher.
    pub fn enter_socket(&self) -> io::Result<OwnedFd> {
        let fd = OwnedFd::from(std::fs::File::open("/dev/null")?);
        self.handles.borrow_mut().insert(
            fd.as_raw_fd(),
            Handle {
                name: "enter-socket".into(),
                path: None,
                full: false,
                fstype: None,
            },
        );
        Ok(fd)
    }

    fn fd_with(
        &self,
        kind: &str,
        path: Option<String>,
        full: bool,
        fstype: Option<String>,
    ) -> io::Result<OwnedFd> {
        let f = std::fs::File::open("/dev/null")?;
        let fd = OwnedFd::from(f);
        let n = self.made.get() + 1;
        self.made.set(n);
        let name = match &path {
            Some(p) => format!("{kind}{n}={p}"),
            None => format!("{kind}{n}"),
        };
        self.handles.borrow_mut().insert(
            fd.as_raw_fd(),
            Handle {
                name,
                path,
                full,
                fstype,
            },
        );
        Ok(fd)
    }

    fn handle(&self, fd: BorrowedFd) -> Handle {
        self.handles
            .borrow()
            .get(&fd.as_raw_fd())
            .cloned()
            .unwrap_or_else(|| Handle {
                name: format!("fd{}?", fd.as_raw_fd()),
                path: None,
                full: false,
                fstype: None,
            })
    }

    fn name(&self, fd: BorrowedFd) -> String {
        self.handle(fd).name
    }

    /// `/proc/self/fd/N...` (how an overlay names its layers) with the
    /// descriptor's name for N, which depends on the test process.
    fn named_fds(&self, value: &str) -> String {
        let Some(rest) = value.strip_prefix("/proc/self/fd/") else {
            return value.to_string();
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(n) = rest[..digits].parse::<i32>() else {
            return value.to_string();
        };
        match self.handles.borrow().get(&n) {
            Some(h) => format!("/proc/self/fd/<{}>{}", h.name, &rest[digits..]),
            None => value.to_string(),
        }
    }

    fn dir_name(&self, dir: Option<BorrowedFd>) -> String {
        dir.map(|d| self.name(d))
            .unwrap_or_else(|| "AT_FDCWD".into())
    }

    /// `name` under the folder `dir` names in the model, if it names one.
    fn below(&self, dir: BorrowedFd, name: &CStr) -> Option<String> {
        let base = self.handle(dir).path?;
        Some(join(&base, &text(name.to_bytes())))
    }

    fn answer<T>(
        &self,
        call: String,
        r: io::Result<T>,
        show: impl Fn(&T) -> String,
    ) -> io::Result<T> {
        match &r {
            Ok(v) => {
                let shown = show(v);
                if shown.is_empty() {
                    self.note(call)
                } else {
                    self.note(format!("{call} = {shown}"))
                }
            }
            Err(e) => self.note(format!("{call} = {}", errno_name(e))),
        }
        r
    }

    fn ok(&self, call: String) -> io::Result<()> {
        self.note(call);
        Ok(())
    }

    fn opened(&self, call: String, r: io::Result<OwnedFd>) -> io::Result<OwnedFd> {
        let r2 = r.map(|fd| {
            let n = self.name(fd.as_fd());
            (fd, n)
        });
        match r2 {
            Ok((fd, n)) => {
                self.note(format!("{call} = {n}"));
                Ok(fd)
            }
            Err(e) => {
                self.note(format!("{call} = {}", errno_name(&e)));
                Err(e)
            }
        }
    }
}

use std::os::fd::AsFd;

fn join(base: &str, name: &str) -> String {
    let name = name.trim_start_matches('/');
    match (base, name) {
        (b, "") => b.to_string(),
        ("/", n) => format!("/{n}"),
        (b, n) => format!("{}/{n}", b.trim_end_matches('/')),
    }
}

/// Bytes as a quoted string, escaped where not plain text, cut after 120.
fn quoted(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for c in b.iter().take(120) {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(*c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    if b.len() > 120 {
        let _ = write!(s, "...({} bytes)", b.len());
    }
    s
}

/// `["a", "b"]`: each string quoted.
fn quoted_list(v: &[CString]) -> String {
    let items: Vec<String> = v.iter().map(|s| quoted(s.to_bytes())).collect();
    format!("[{}]", items.join(", "))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn errno_name(e: &io::Error) -> String {
    let n = e.raw_os_error().unwrap_or(0);
    let name = match n {
        libc::ENOENT => "ENOENT",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        _ => return format!("-1 (errno {n})"),
    };
    format!("-1 {name}")
}

fn open_flags(flags: i32) -> String {
    let mut out = vec![match flags & libc::O_ACCMODE {
        libc::O_WRONLY => "O_WRONLY",
        libc::O_RDWR => "O_RDWR",
        _ if flags & libc::O_PATH != 0 => "O_PATH",
        _ => "O_RDONLY",
    }];
    for (bit, name) in [
        (libc::O_DIRECTORY, "O_DIRECTORY"),
        (libc::O_CREAT, "O_CREAT"),
        (libc::O_EXCL, "O_EXCL"),
        (libc::O_NOFOLLOW, "O_NOFOLLOW"),
        (libc::O_TRUNC, "O_TRUNC"),
    ] {
        if flags & bit != 0 {
            out.push(name);
        }
    }
    out.join("|")
}

fn mount_attrs(a: u64) -> String {
    use super::sys::{MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY};
    let names: Vec<&str> = [
        (MOUNT_ATTR_RDONLY, "RDONLY"),
        (MOUNT_ATTR_NOSUID, "NOSUID"),
        (MOUNT_ATTR_NODEV, "NODEV"),
        (MOUNT_ATTR_NOEXEC, "NOEXEC"),
    ]
    .into_iter()
    .filter(|(bit, _)| a & bit != 0)
    .map(|(_, n)| n)
    .collect();
    if names.is_empty() {
        "0".into()
    } else {
        names.join("|")
    }
}

fn prctl_name(op: i32, a: u64) -> String {
    match op {
        libc::PR_CAPBSET_DROP => format!("PR_CAPBSET_DROP, {}", cap_name(a)),
        libc::PR_CAP_AMBIENT => match a as i32 {
            libc::PR_CAP_AMBIENT_CLEAR_ALL => "PR_CAP_AMBIENT, CLEAR_ALL".into(),
            libc::PR_CAP_AMBIENT_RAISE => "PR_CAP_AMBIENT, RAISE".into(),
            _ => format!("PR_CAP_AMBIENT, {a}"),
        },
        libc::PR_SET_KEEPCAPS => format!("PR_SET_KEEPCAPS, {a}"),
        libc::PR_SET_DUMPABLE => format!("PR_SET_DUMPABLE, {a}"),
        libc::PR_SET_NO_NEW_PRIVS => format!("PR_SET_NO_NEW_PRIVS, {a}"),
        libc::PR_SET_PDEATHSIG => format!("PR_SET_PDEATHSIG, {a}"),
        _ => format!("{op}, {a}"),
    }
}

fn cap_name(n: u64) -> String {
    crate::capabilities::CAPABILITIES
        .iter()
        .find(|(_, v)| u64::from(*v) == n)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| n.to_string())
}

fn caps_text(mask: u64) -> String {
    if mask == 0 {
        return "{}".into();
    }
    if mask == (1u64 << (LAST_CAP + 1)) - 1 {
        return "{all}".into();
    }
    let names: Vec<String> = (0..64)
        .filter(|c| mask & (1u64 << c) != 0)
        .map(cap_name)
        .collect();
    format!("{{{}}}", names.join(","))
}

impl Kernel for Recorder {
    fn open(
        &self,
        dir: Option<BorrowedFd>,
        path: &CStr,
        flags: i32,
        mode: u32,
    ) -> io::Result<OwnedFd> {
        let call = if flags & libc::O_CREAT != 0 {
            format!(
                "openat({}, {}, {}, {mode:04o})",
                self.dir_name(dir),
                quoted(path.to_bytes()),
                open_flags(flags)
            )
        } else {
            format!(
                "openat({}, {}, {})",
                self.dir_name(dir),
                quoted(path.to_bytes()),
                open_flags(flags)
            )
        };
        let inside = dir.and_then(|d| self.below(d, path));
        let r = match &inside {
            Some(p) if flags & libc::O_CREAT != 0 => {
                if self.exists(p) && flags & libc::O_EXCL != 0 {
                    Err(io::Error::from_raw_os_error(libc::EEXIST))
                } else {
                    self.exists.borrow_mut().insert(p.clone());
                    self.fd("fd", Some(p.clone()))
                }
            }
            Some(p) if !self.exists(p) => Err(io::Error::from_raw_os_error(libc::ENOENT)),
            Some(p) => self.fd("fd", Some(p.clone())),
            None => self.fd("fd", None),
        };
        self.opened(call, r)
    }

    fn open_in_root(
        &self,
        root: BorrowedFd,
        path: &CStr,
        flags: i32,
        _mode: u32,
    ) -> io::Result<OwnedFd> {
        let p = join("/", &text(path.to_bytes()));
        let call = format!(
            "openat2({}, {}, {}, RESOLVE_IN_ROOT)",
            self.name(root),
            quoted(path.to_bytes()),
            open_flags(flags)
        );
        // A root bound from a rootfs folder has what the folder has.
        let r = if self.handle(root).full || self.exists(&p) {
            self.fd("fd", Some(p))
        } else {
            Err(io::Error::from_raw_os_error(libc::ENOENT))
        };
        self.opened(call, r)
    }

    fn open_beneath(&self, dir: BorrowedFd, path: &CStr, flags: i32) -> io::Result<OwnedFd> {
        let call = format!(
            "openat2({}, {}, {}, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)",
            self.name(dir),
            quoted(path.to_bytes()),
            open_flags(flags)
        );
        let r = self.fd("fd", None);
        self.opened(call, r)
    }

    fn mkdir_at(&self, dir: BorrowedFd, name: &CStr, mode: u32) -> io::Result<()> {
        let call = format!(
            "mkdirat({}, {}, {mode:04o})",
            self.name(dir),
            quoted(name.to_bytes())
        );
        let r = match self.below(dir, name) {
            Some(p) if self.exists(&p) => Err(io::Error::from_raw_os_error(libc::EEXIST)),
            Some(p) => {
                self.exists.borrow_mut().insert(p);
                Ok(())
            }
            None => Ok(()),
        };
        self.answer(call, r, |_| String::new())
    }

    fn symlink_at(&self, target: &CStr, dir: BorrowedFd, name: &CStr) -> io::Result<()> {
        let call = format!(
            "symlinkat({}, {}, {})",
            quoted(target.to_bytes()),
            self.name(dir),
            quoted(name.to_bytes())
        );
        let r = match self.below(dir, name) {
            Some(p) if self.exists(&p) => Err(io::Error::from_raw_os_error(libc::EEXIST)),
            Some(p) => {
                self.exists.borrow_mut().insert(p.clone());
                self.links
                    .borrow_mut()
                    .insert(p, target.to_bytes().to_vec());
                Ok(())
            }
            None => Ok(()),
        };
        self.answer(call, r, |_| String::new())
    }

    fn read_link_at(&self, dir: Option<BorrowedFd>, path: &CStr) -> io::Result<Vec<u8>> {
        let call = format!(
            "readlinkat({}, {})",
            self.dir_name(dir),
            quoted(path.to_bytes())
        );
        let r = dir
            .and_then(|d| self.below(d, path))
            .and_then(|p| self.links.borrow().get(&p).cloned())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL));
        self.answer(call, r, |t| quoted(t))
    }

    fn fchmod(&self, fd: BorrowedFd, mode: u32) -> io::Result<()> {
        self.ok(format!("fchmod({}, {mode:04o})", self.name(fd)))
    }

    fn read_file(&self, path: &CStr) -> io::Result<Vec<u8>> {
        let call = format!("read {}", quoted(path.to_bytes()));
        let r = self
            .files
            .borrow()
            .get(path.to_bytes())
            .cloned()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT));
        self.answer(call, r, |c| quoted(c))
    }

    fn write(&self, fd: BorrowedFd, data: &[u8]) -> io::Result<usize> {
        self.note(format!("write({}, {})", self.name(fd), quoted(data)));
        Ok(data.len())
    }

    fn fchdir(&self, fd: BorrowedFd) -> io::Result<()> {
        self.ok(format!("fchdir({})", self.name(fd)))
    }

    fn chdir(&self, path: &CStr) -> io::Result<()> {
        self.ok(format!("chdir({})", quoted(path.to_bytes())))
    }

    fn umask(&self, mask: u32) -> u32 {
        self.note(format!("umask({mask:03o})"));
        self.umask.replace(mask)
    }

    fn is_terminal(&self, fd: i32) -> bool {
        self.note(format!("isatty({fd}) = 0"));
        false
    }

    fn make_rslave(&self, path: &CStr) -> io::Result<()> {
        self.ok(format!(
            "mount(NULL, {}, NULL, MS_SLAVE|MS_REC, NULL)",
            quoted(path.to_bytes())
        ))
    }

    fn open_tree(&self, dir: Option<BorrowedFd>, path: &CStr, tree: Tree) -> io::Result<OwnedFd> {
        let recursive = match tree {
            Tree::Recursive => "|AT_RECURSIVE",
            Tree::One => "",
        };
        let call = format!(
            "open_tree({}, {}, OPEN_TREE_CLONE{recursive})",
            self.dir_name(dir),
            quoted(path.to_bytes())
        );
        let r = self.fd_with("tree", None, true, None);
        self.opened(call, r)
    }

    fn mount_setattr(&self, mount: BorrowedFd, set: u64, recursive: bool) -> io::Result<()> {
        self.ok(format!(
            "mount_setattr({}, {}{})",
            self.name(mount),
            mount_attrs(set),
            if recursive { ", AT_RECURSIVE" } else { "" }
        ))
    }

    fn move_mount(&self, from: BorrowedFd, to: BorrowedFd) -> io::Result<()> {
        if let (true, Some(p)) = (self.handle(from).full, self.handle(to).path) {
            self.full_at.borrow_mut().insert(p);
        }
        self.ok(format!(
            "move_mount({}, {})",
            self.name(from),
            self.name(to)
        ))
    }

    fn fsopen(&self, fstype: &CStr) -> io::Result<OwnedFd> {
        let call = format!("fsopen({})", quoted(fstype.to_bytes()));
        let r = self.fd_with("fs", None, false, Some(text(fstype.to_bytes())));
        self.opened(call, r)
    }

    fn fsconfig_string(&self, fs: BorrowedFd, key: &CStr, value: &CStr) -> io::Result<()> {
        self.ok(format!(
            "fsconfig({}, SET_STRING, {}, {})",
            self.name(fs),
            quoted(key.to_bytes()),
            quoted(self.named_fds(&text(value.to_bytes())).as_bytes())
        ))
    }

    fn fsconfig_flag(&self, fs: BorrowedFd, key: &CStr) -> io::Result<()> {
        self.ok(format!(
            "fsconfig({}, SET_FLAG, {})",
            self.name(fs),
            quoted(key.to_bytes())
        ))
    }

    fn fsmount(&self, fs: BorrowedFd, attrs: u64) -> io::Result<OwnedFd> {
        let call = format!("fsmount({}, {})", self.name(fs), mount_attrs(attrs));
        // A proc or an overlay has files of its own; a tmpfs, a devpts or
        // an mqueue starts empty.
        let full = matches!(self.handle(fs).fstype.as_deref(), Some("proc" | "overlay"));
        let r = self.fd_with("mnt", None, full, None);
        self.opened(call, r)
    }

    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> io::Result<()> {
        self.ok(format!(
            "pivot_root({}, {})",
            quoted(new_root.to_bytes()),
            quoted(put_old.to_bytes())
        ))
    }

    fn umount_detach(&self, path: &CStr) -> io::Result<()> {
        self.ok(format!("umount2({}, MNT_DETACH)", quoted(path.to_bytes())))
    }

    fn unshare(&self, flags: nix::sched::CloneFlags) -> io::Result<()> {
        self.ok(format!("unshare({})", clone_flags(flags)))
    }

    fn unshare_user_with_helper(&self, outside: &dyn Fn() -> i32) -> io::Result<()> {
        self.note("fork() = helper");
        self.ok("unshare(CLONE_NEWUSER)".into())?;
        match self.as_process("helper".into(), outside) {
            0 => Ok(()),
            errno => Err(io::Error::from_raw_os_error(errno)),
        }
    }

    fn effective_ids(&self) -> (u32, u32) {
        self.ids.get()
    }

    fn setresuid(&self, uid: u32) -> io::Result<()> {
        let (_, g) = self.ids.get();
        self.ids.set((uid, g));
        let (_, g) = self.fs_ids.get();
        self.fs_ids.set((uid, g));
        self.ok(format!("setresuid({uid}, {uid}, {uid})"))
    }

    fn setresgid(&self, gid: u32) -> io::Result<()> {
        let (u, _) = self.ids.get();
        self.ids.set((u, gid));
        let (u, _) = self.fs_ids.get();
        self.fs_ids.set((u, gid));
        self.ok(format!("setresgid({gid}, {gid}, {gid})"))
    }

    fn setgroups(&self, groups: &[u32]) -> io::Result<()> {
        self.ok(format!("setgroups({groups:?})"))
    }

    fn setfsuid(&self, uid: u32) -> u32 {
        let (u, g) = self.fs_ids.get();
        self.fs_ids.set((uid, g));
        self.note(format!("setfsuid({uid}) = {u}"));
        u
    }

    fn setfsgid(&self, gid: u32) -> u32 {
        let (u, g) = self.fs_ids.get();
        self.fs_ids.set((u, gid));
        self.note(format!("setfsgid({gid}) = {g}"));
        g
    }

    fn prctl(&self, op: i32, a: u64, _b: u64) -> io::Result<i32> {
        let call = format!("prctl({})", prctl_name(op, a));
        let r = if op == libc::PR_CAPBSET_DROP && a > LAST_CAP {
            Err(io::Error::from_raw_os_error(libc::EINVAL))
        } else {
            Ok(0)
        };
        self.answer(call, r, |_| String::new())
    }

    fn capget(&self) -> io::Result<CapSets> {
        let c = self.caps.get();
        self.note(format!(
            "capget() = e={} p={} i={}",
            caps_text(c.effective),
            caps_text(c.permitted),
            caps_text(c.inheritable)
        ));
        Ok(c)
    }

    fn capset(&self, c: CapSets) -> io::Result<()> {
        self.caps.set(c);
        self.ok(format!(
            "capset(e={} p={} i={})",
            caps_text(c.effective),
            caps_text(c.permitted),
            caps_text(c.inheritable)
        ))
    }

    fn sethostname(&self, name: &[u8]) -> io::Result<()> {
        self.ok(format!("sethostname({})", quoted(name)))
    }

    fn setdomainname(&self, name: &[u8]) -> io::Result<()> {
        self.ok(format!("setdomainname({})", quoted(name)))
    }

    fn setsid(&self) -> io::Result<()> {
        self.ok("setsid()".into())
    }

    fn setpgid_self(&self) -> io::Result<()> {
        self.ok("setpgid(0, 0)".into())
    }

    fn kill(&self, pid: i32, sig: i32) {
        self.note(format!("kill({pid}, {sig})"));
    }

    fn setrlimit(&self, resource: u32, value: u64) -> io::Result<()> {
        let v = if value == libc::RLIM_INFINITY {
            "RLIM_INFINITY".to_string()
        } else {
            value.to_string()
        };
        self.ok(format!("setrlimit({resource}, {v})"))
    }

    fn nofile_soft(&self, soft: Option<u64>) -> io::Result<u64> {
        let to = soft.map_or("the hard limit".to_string(), |s| s.to_string());
        self.note(format!("setrlimit(RLIMIT_NOFILE, soft {to})"));
        // A caller's usual soft limit.
        Ok(1024)
    }

    fn run_program(&self, argv: &[String]) -> io::Result<(bool, Vec<u8>)> {
        let args: Vec<String> = argv.iter().map(|a| quoted(a.as_bytes())).collect();
        self.note(format!("run [{}] = success", args.join(", ")));
        Ok((true, vec![]))
    }

    fn close_all_but(&self, first: u32, keep: Option<u32>) -> io::Result<()> {
        match keep {
            Some(k) => self.ok(format!(
                "close_range({first}, ~0) but {}",
                self.named_fds(&format!("/proc/self/fd/{k}"))
            )),
            None => self.ok(format!("close_range({first}, ~0)")),
        }
    }

    fn wipe_environment(&self) {
        self.note("(environment strings zeroed in place)");
    }

    fn cloexec_from(&self, first: u32) -> io::Result<()> {
        self.ok(format!("close_range({first}, ~0, CLOSE_RANGE_CLOEXEC)"))
    }

    fn loopback_up(&self) -> io::Result<()> {
        self.ok("ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP|IFF_RUNNING)".into())
    }

    fn configure_interface(
        &self,
        address: Option<crate::plan::IpCidr>,
        gateway: Option<std::net::IpAddr>,
    ) -> io::Result<()> {
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "none".into());
        self.ok(format!(
            "rtnetlink: the attached interface as eth0, address {}, default route via {}",
            or_none(address.map(|a| a.to_string())),
            or_none(gateway.map(|g| g.to_string()))
        ))
    }

    fn landlock(&self, rules: super::landlock::Rules) -> Result<(), super::failure::Failure> {
        self.note(format!("landlock_restrict_self({})", rules.summary()));
        Ok(())
    }

    fn load_seccomp(&self, program: &[libc::sock_filter]) -> io::Result<()> {
        // A fingerprint (FNV-1a) pins the program without listing it: the
        // seccomp tests check what it does.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for i in program {
            for b in i
                .code
                .to_le_bytes()
                .into_iter()
                .chain([i.jt, i.jf])
                .chain(i.k.to_le_bytes())
            {
                h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
        self.ok(format!(
            "seccomp(SECCOMP_SET_MODE_FILTER, {} instructions, fnv {h:016x})",
            program.len()
        ))
    }

    fn load_seccomp_traced(
        &self,
        program: &[libc::sock_filter],
        _channel: BorrowedFd,
        _secret: [u32; 3],
    ) -> io::Result<()> {
        self.note(format!(
            "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, {} instructions)",
            program.len()
        ));
        self.ok(
            "sendmsg(the launcher's socket, SCM_RIGHTS: the listener, the secret in arguments 3-5); close(the listener)"
                .to_string(),
        )
    }

    fn random_words(&self) -> io::Result<[u32; 3]> {
        self.note("getrandom(12 bytes)");
        Ok([1, 2, 3])
    }

    fn reset_signals(&self) {
        self.note("sigprocmask(SIG_SETMASK, {})");
        self.note("sigaction(SIGPIPE, SIG_DFL)");
    }

    fn spawn_sharing_memory(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32> {
        let pid = self.pids.get() + 1;
        self.pids.set(pid);
        self.note(format!("clone(CLONE_VM|CLONE_VFORK) = {pid}"));
        // Its exit code is whatever the report says (see trace.rs).
        self.as_process(format!("pid {pid}"), body);
        Ok(pid)
    }

    /// The copy runs to its end before the parent goes on; on a real
    /// kernel the two run at once, so the order of their lines is one the
    /// trace picks, not one the kernel guarantees.
    fn fork_copy(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32> {
        let pid = self.pids.get() + 1;
        self.pids.set(pid);
        self.note(format!("fork() = {pid}"));
        // Its exit code is whatever the report says (see trace.rs).
        self.as_process(format!("pid {pid}"), body);
        Ok(pid)
    }

    fn fork_beside(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32> {
        let pid = self.pids.get() + 1;
        self.pids.set(pid);
        self.note(format!("clone(CLONE_PARENT) = {pid}"));
        self.as_process(format!("pid {pid}"), body);
        Ok(pid)
    }

    fn serve_enter(&self, channel: BorrowedFd, _env: &[CString]) -> i32 {
        self.note(format!(
            "serve sandbox enter on {}: fork and exec each command asked for",
            self.name(channel)
        ));
        0
    }

    fn supervise(&self, app: i32, smaps: Option<std::fs::File>) -> io::Error {
        if let Err(f) = super::init::seal(self, smaps.as_ref()) {
            return io::Error::from_raw_os_error(f.errno);
        }
        self.note(format!(
            "supervise pid {app}: forward signals, reap, exit with its status"
        ));
        io::Error::from_raw_os_error(EXEC_RECORDED)
    }

    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error {
        self.note(format!(
            "execve({}, {}, {})",
            quoted(path.to_bytes()),
            quoted_list(argv),
            quoted_list(envp)
        ));
        io::Error::from_raw_os_error(EXEC_RECORDED)
    }

    fn execvp(&self, program: &CStr, path: &[u8], argv: &[CString], envp: &[CString]) -> io::Error {
        // The search's outcome depends on the host's files: one line for
        // it, not a guess at which folder has the program.
        self.note(format!(
            "execvp({}, PATH={}, {}, {})",
            quoted(program.to_bytes()),
            quoted(path),
            quoted_list(argv),
            quoted_list(envp)
        ));
        io::Error::from_raw_os_error(EXEC_RECORDED)
    }
}

fn clone_flags(flags: nix::sched::CloneFlags) -> String {
    use nix::sched::CloneFlags as F;
    let names: Vec<&str> = [
        (F::CLONE_NEWUSER, "CLONE_NEWUSER"),
        (F::CLONE_NEWNS, "CLONE_NEWNS"),
        (F::CLONE_NEWPID, "CLONE_NEWPID"),
        (F::CLONE_NEWIPC, "CLONE_NEWIPC"),
        (F::CLONE_NEWUTS, "CLONE_NEWUTS"),
        (F::CLONE_NEWNET, "CLONE_NEWNET"),
        (F::CLONE_NEWCGROUP, "CLONE_NEWCGROUP"),
        (F::from_bits_retain(libc::CLONE_NEWTIME), "CLONE_NEWTIME"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect();
    names.join("|")
}
