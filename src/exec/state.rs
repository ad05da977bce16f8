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

/// The entry of a running sandbox, removed when dropped.
pub struct Written {
    dir: OwnedFd,
    file: OsString,
}

impl Drop for Written {
    fn drop(&mut self) {
        let _ = nix::unistd::unlinkat(
            &self.dir,
            self.file.as_os_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
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
        Ok(()) => Some(Written { dir, file }),
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
    for d in dir.flatten() {
        let name = d.file_name();
        if !name.as_bytes().ends_with(b".json") || name.as_bytes().starts_with(b".") {
            continue;
        }
        // Not followed: an entry is a plain file.
        let Ok(meta) = std::fs::symlink_metadata(d.path()) else {
            continue;
        };
        if !meta.is_file() || meta.len() > 1 << 20 {
            continue;
        }
        let Ok(text) = std::fs::read(d.path()) else {
            continue;
        };
        let Ok(e) = serde_json::from_slice::<Entry>(&text) else {
            continue;
        };
        if e.uid == owner
            && alive(&e)
            && name == OsString::from(format!("{}.json", e.id)).as_os_str()
        {
            v.push(e);
        } else if clean {
            let _ = std::fs::remove_file(d.path());
        }
    }
    v.sort_by_key(|e| (e.started, e.launcher));
    v
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
