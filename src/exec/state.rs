//! The state of running sandboxes: one entry per sandbox in the caller's
//! state folder (`$XDG_RUNTIME_DIR/sandbox`, or `/run/sandbox` for root),
//! written by the launcher once the child exists and removed when the
//! sandbox ends; `sandbox ps` lists them.
//!
//! The folder is the caller's: made 0700, and used only if it is a real
//! folder (not a link) owned by the caller with no access for anyone else;
//! otherwise the run goes on without an entry, and says so. An entry is
//! made under a temporary name with O_EXCL | O_NOFOLLOW and renamed into
//! place, so that nothing planted there is written through. An entry is
//! never trusted: its launcher must be alive with the start time it
//! recorded (a pid reused after a SIGKILL is another process), or the
//! entry is stale and removed.

use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One running sandbox, as its entry holds it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// `LAUNCHER-STARTTIME`: unique while the machine runs.
    pub id: String,
    /// The name given with `sandbox run --name`, if any.
    pub name: Option<String>,
    pub profile: String,
    /// The command, each argument as text (`\xNN` for a byte that is not
    /// UTF-8).
    pub command: Vec<String>,
    pub uid: u32,
    pub launcher: i32,
    /// The launcher's start time (clock ticks after boot, /proc/PID/stat).
    pub launcher_start: u64,
    /// The sandbox's first process (its PID 1, with a pid namespace).
    pub child: i32,
    /// Seconds since the epoch.
    pub started: u64,
    /// Namespace kind: inode number, as made at the spawn.
    pub namespaces: std::collections::BTreeMap<String, u64>,
    /// Whether `sandbox enter` can reach it (`ID.sock` beside the entry).
    #[serde(default)]
    pub enter: bool,
    #[serde(default)]
    pub network: Network,
}

/// The sandbox's network, as the plan made it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Network {
    /// `host` (the host's network), `none` (a namespace with loopback
    /// only), `pasta`, `veth`, `macvlan`, or `joined` (a namespace given by
    /// path).
    pub mode: String,
    /// Addresses inside, where the plan sets them (CIDR).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Forwarded ports, as pasta's `-t`/`-u` specs, prefixed `tcp:`/`udp:`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwards: Vec<String>,
}

impl Network {
    pub fn of(plan: &crate::plan::Plan) -> Network {
        use crate::plan::{Action, NsKind};
        let mut n = Network {
            mode: "host".into(),
            ..Network::default()
        };
        for s in &plan.steps {
            match &s.action {
                Action::Spawn { new } if new.contains(&NsKind::Net) => n.mode = "none".into(),
                Action::JoinNamespace {
                    kind: NsKind::Net, ..
                } => n.mode = "joined".into(),
                Action::Pasta { tcp, udp, .. } => {
                    n.mode = "pasta".into();
                    n.forwards.extend(tcp.iter().map(|t| format!("tcp:{t}")));
                    n.forwards.extend(udp.iter().map(|u| format!("udp:{u}")));
                }
                Action::Veth { .. } => n.mode = "veth".into(),
                Action::Macvlan { .. } => n.mode = "macvlan".into(),
                Action::ConfigureInterface {
                    address: Some(a), ..
                } => n.addresses.push(a.to_string()),
                _ => {}
            }
        }
        n
    }
}

/// The caller's state folder: `/run/sandbox` for root, else under the
/// runtime folder the caller's environment names.
pub fn folder(euid: u32, runtime_dir: Option<&OsStr>) -> Option<PathBuf> {
    match (euid, runtime_dir) {
        (0, _) => Some(PathBuf::from("/run/sandbox")),
        (_, Some(d)) if !d.is_empty() => Some(PathBuf::from(d).join("sandbox")),
        _ => None,
    }
}

/// Make the caller's state folder (0700) if it is missing, before a run's
/// plan is made: a bind that covers it then hides it (guarded.rs), which
/// a folder made later, under the bind, would not be.
pub fn make_folder(euid: u32, runtime_dir: Option<&OsStr>) {
    if let Some(path) = folder(euid, runtime_dir) {
        let _ = open_folder(&path, euid);
    }
}

/// The folder opened, made 0700 if missing; an error if it is not the
/// caller's alone.
fn open_folder(path: &std::path::Path, euid: u32) -> std::io::Result<OwnedFd> {
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::{Mode, fstat};
    match nix::unistd::mkdir(path, Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
        Err(e) => return Err(e.into()),
    }
    let fd = open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let st = fstat(&fd)?;
    if st.st_uid != euid || st.st_mode & 0o077 != 0 {
        return Err(std::io::Error::from_raw_os_error(libc::EPERM));
    }
    Ok(fd)
}

/// Field 22 of /proc/PID/stat: when the process started.
pub fn start_time(pid: i32) -> Option<u64> {
    state_and_start(pid).map(|(_, start)| start)
}

/// Fields 3 (the state letter) and 22 (the start time) of /proc/PID/stat.
fn state_and_start(pid: i32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) may hold spaces and parentheses: count from the
    // last ')'.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// A file in a folder, unlinked when dropped: an entry, a socket.
pub struct Unlinked {
    dir: OwnedFd,
    name: OsString,
}

impl Unlinked {
    pub fn new(dir: OwnedFd, name: OsString) -> Unlinked {
        Unlinked { dir, name }
    }
}

impl Drop for Unlinked {
    fn drop(&mut self) {
        let _ = nix::unistd::unlinkat(
            &self.dir,
            self.name.as_os_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
    }
}

/// The entry of a running sandbox, removed when dropped.
pub struct Written {
    file: Unlinked,
    id: String,
}

impl Written {
    /// The state folder it is in.
    pub fn dir(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.file.dir)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Write `entry` into the folder at `path`; None (and a warning) when
/// the folder cannot be used, for an entry is a convenience and its
/// absence is no reason to refuse a run.
pub fn write(path: &std::path::Path, euid: u32, entry: &Entry) -> Option<Written> {
    let warn = |e: &dyn std::fmt::Display| {
        eprintln!(
            "sandbox: warning: no entry for `sandbox ps` in {}: {e}",
            path.display()
        );
    };
    let dir = match open_folder(path, euid) {
        Ok(d) => d,
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            warn(&"it is not a folder of yours alone (mode 0700): remove it, sandbox makes it");
            return None;
        }
        Err(e) => {
            warn(&e);
            return None;
        }
    };
    let text = match serde_json::to_vec(entry) {
        Ok(t) => t,
        Err(e) => {
            warn(&e);
            return None;
        }
    };
    let file = OsString::from(format!("{}.json", entry.id));
    let tmp = OsString::from(format!(".{}.tmp", entry.id));
    use nix::fcntl::{OFlag, openat};
    let made = openat(
        &dir,
        tmp.as_os_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .map_err(std::io::Error::from)
    .and_then(|fd| std::fs::File::from(fd).write_all(&text))
    .and_then(|()| {
        nix::fcntl::renameat(&dir, tmp.as_os_str(), &dir, file.as_os_str())
            .map_err(std::io::Error::from)
    });
    match made {
        Ok(()) => Some(Written {
            file: Unlinked::new(dir, file),
            id: entry.id.clone(),
        }),
        Err(e) => {
            let _ = nix::unistd::unlinkat(
                &dir,
                tmp.as_os_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            );
            warn(&e);
            None
        }
    }
}

/// Whether process `pid` runs (a zombie has ended) and started at `start`.
pub fn runs(pid: i32, start: u64) -> bool {
    matches!(state_and_start(pid), Some((state, started)) if !matches!(state, 'Z' | 'X') && started == start)
}

/// Whether `e`'s launcher still runs: the same pid with the same start,
/// and the user the entry names (an entry planted in a user's folder
/// cannot name another user's process, for root's `sandbox stop` to end).
fn alive(e: &Entry) -> bool {
    runs(e.launcher, e.launcher_start) && real_uid(e.launcher) == Some(e.uid)
}

/// The real uid of process `pid` (/proc/PID/status).
fn real_uid(pid: i32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The running sandboxes in the folder at `path`; stale entries (their
/// launcher gone) are removed when `clean`, unreadable ones skipped.
pub fn list(path: &std::path::Path, clean: bool) -> Vec<Entry> {
    use std::os::unix::fs::MetadataExt;
    // Not followed: the folder is a real one, and its owner is the only
    // user its entries may name.
    let Ok(owner) = std::fs::symlink_metadata(path).map(|m| (m.is_dir(), m.uid())) else {
        return vec![];
    };
    let (true, owner) = owner else {
        return vec![];
    };
    let Ok(dir) = std::fs::read_dir(path) else {
        return vec![];
    };
    let mut v = vec![];
    let mut sockets = vec![];
    for d in dir.flatten() {
        let name = d.file_name();
        if name.as_bytes().ends_with(b".sock") {
            sockets.push(d.path());
            continue;
        }
        if !name.as_bytes().ends_with(b".json") || name.as_bytes().starts_with(b".") {
            continue;
        }
        let Some(text) = read_entry(&d.path()) else {
            continue;
        };
        let Ok(e) = serde_json::from_slice::<Entry>(&text) else {
            continue;
        };
        if e.uid == owner
            && !e.id.is_empty()
            && e.id.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            && alive(&e)
            && name == OsString::from(format!("{}.json", e.id)).as_os_str()
        {
            v.push(e);
        } else if clean {
            let _ = std::fs::remove_file(d.path());
        }
    }
    // A socket is stale with its entry (a launcher killed before it
    // could remove either).
    if clean {
        for path in sockets {
            let live = v
                .iter()
                .any(|e| path.file_name() == Some(OsStr::new(&super::enter::socket_name(&e.id))));
            if !live {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    v.sort_by_key(|e| (e.started, e.launcher));
    v
}

/// An entry's bytes: a plain file, opened without following a link and
/// without waiting (a file swapped for a link to a FIFO, or to
/// /dev/zero, between a look and the read must not hang or fill root's
/// `sandbox ps`), checked on the descriptor, at most 1 MiB.
fn read_entry(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = vec![];
    f.take((1 << 20) + 1).read_to_end(&mut text).ok()?;
    (text.len() <= 1 << 20).then_some(text)
}

/// The folders root's `sandbox ps` reads: its own and every user's.
pub fn all_folders() -> Vec<PathBuf> {
    let mut v = vec![PathBuf::from("/run/sandbox")];
    if let Ok(users) = std::fs::read_dir("/run/user") {
        let mut more: Vec<PathBuf> = users.flatten().map(|u| u.path().join("sandbox")).collect();
        more.sort();
        v.extend(more);
    }
    v
}

/// The state folder at `path` (made if missing, checked the caller's
/// alone) opened and locked (flock, exclusive): `--join-or-start` holds it
/// from its search for a name until its entry is written, so that two at
/// once start one sandbox. Nothing is left in the folder.
pub fn lock_folder(path: &std::path::Path, euid: u32) -> std::io::Result<OwnedFd> {
    let dir = open_folder(path, euid)?;
    super::sys::lock_exclusive(std::os::fd::AsFd::as_fd(&dir))?;
    Ok(dir)
}

/// The processes below `pid`, depth first: (depth, pid, command line).
pub fn tree(pid: i32) -> Vec<(usize, i32, String)> {
    let mut parent_of: Vec<(i32, i32)> = vec![];
    for d in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = d.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let ppid = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
            .and_then(|f| f.parse().ok());
        if let Some(ppid) = ppid {
            parent_of.push((p, ppid));
        }
    }
    let command = |p: i32| {
        let raw = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
        let words: Vec<String> = raw
            .split(|&b| b == 0)
            .filter(|w| !w.is_empty())
            .map(crate::plan::bytes_text)
            .collect();
        match words.is_empty() {
            false => words.join(" "),
            // No command line to read (another user's, or a zombie).
            true => std::fs::read_to_string(format!("/proc/{p}/comm"))
                .map(|c| format!("[{}]", c.trim_end()))
                .unwrap_or_default(),
        }
    };
    let mut out = vec![];
    let mut stack = vec![(0usize, pid)];
    // /proc is not read at once: a pid reused meanwhile could make a loop.
    let mut seen = std::collections::HashSet::new();
    while let Some((depth, p)) = stack.pop() {
        if !seen.insert(p) {
            continue;
        }
        let mut children: Vec<i32> = parent_of
            .iter()
            .filter(|(_, pp)| *pp == p)
            .map(|(c, _)| *c)
            .collect();
        children.sort_unstable_by(|a, b| b.cmp(a));
        for c in children {
            stack.push((depth + 1, c));
        }
        if p != pid {
            out.push((depth - 1, p, command(p)));
        }
    }
    out
}
