//! The reaper: a process outside the sandbox that undoes what the launcher
//! made on the host (cgroups, the D-Bus proxy's folder, pasta) if the
//! launcher dies without undoing it itself, SIGKILL at any moment included.
//!
//! The launcher tells it each thing *before* making it, over a pipe whose
//! write end only the launcher holds; when the pipe closes without the
//! launcher's "done" (it undid everything itself), the reaper undoes what
//! it was told: stops pasta, kills what is left in the sandbox's cgroups
//! (with die-with-parent) or waits for them to empty, removes them, and
//! removes the folder. It is forked before anything it may have to undo
//! exists, runs in a session of its own (the terminal's keys do not reach
//! it), ignores the signals that ask a program to stop, holds only its
//! pipe, and is non-dumpable. Started only for plans that make such things.

use super::sys;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a record asks the reaper to undo.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// A cgroup folder: removed once empty.
    Cgroup = b'c' as isize,
    /// A cgroup folder whose processes are killed first (die-with-parent).
    CgroupKill = b'k' as isize,
    /// A folder of the launcher's: its entries and itself removed.
    Folder = b'd' as isize,
    /// pasta is about to start: stopped once it has written its pid.
    Pasta = b'p' as isize,
    /// The launcher undid everything itself.
    Done = b'x' as isize,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        [
            Kind::Cgroup,
            Kind::CgroupKill,
            Kind::Folder,
            Kind::Pasta,
            Kind::Done,
        ]
        .into_iter()
        .find(|k| *k as u8 == b)
    }
}

/// The launcher's handle; `Reaper::none()` when the plan makes nothing on
/// the host, whose methods then do nothing.
pub struct Reaper {
    live: Option<(std::fs::File, nix::unistd::Pid)>,
}

/// Longest record payload: one write(2) of a record stays atomic.
const MAX_RECORD: usize = 4000;

/// A record's head: its kind's byte, then the payload's length (u32).
const HEADER: usize = 5;

impl Reaper {
    pub fn none() -> Reaper {
        Reaper { live: None }
    }

    /// Fork the reaper; it keeps `pasta_pid_file`, where a pasta the
    /// launcher starts writes its pid.
    pub fn start(pasta_pid_file: Option<&std::fs::File>) -> io::Result<Reaper> {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        // SAFETY: fork is unsound only where another thread may hold a lock
        // (the allocator's, stdio's) the child then waits on forever. The
        // launcher has no other thread: it has started none, and nothing
        // it links starts one. The child runs only `reap`, never returns
        // into the launcher's code, and leaves through _exit.
        match unsafe { nix::unistd::fork() }? {
            nix::unistd::ForkResult::Child => {
                drop(w);
                reap(r, pasta_pid_file.map(|f| f.as_fd()))
            }
            nix::unistd::ForkResult::Parent { child } => Ok(Reaper {
                live: Some((std::fs::File::from(w), child)),
            }),
        }
    }

    fn send(&self, kind: Kind, payload: &[u8]) -> io::Result<()> {
        let Some((pipe, _)) = &self.live else {
            return Ok(());
        };
        if payload.len() > MAX_RECORD {
            return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
        }
        let mut rec = Vec::with_capacity(HEADER + payload.len());
        rec.push(kind as u8);
        rec.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
        rec.extend_from_slice(payload);
        (&*pipe).write_all(&rec)
    }

    /// The reaper's process, if one runs.
    pub fn pid(&self) -> Option<nix::unistd::Pid> {
        self.live.as_ref().map(|(_, pid)| *pid)
    }

    /// `dir` is about to be made as the sandbox's cgroup; `kill`: what is
    /// left in it is killed if the launcher dies.
    pub fn cgroup(&self, dir: &Path, kill: bool) -> io::Result<()> {
        let kind = if kill { Kind::CgroupKill } else { Kind::Cgroup };
        self.send(kind, dir.as_os_str().as_bytes())
    }

    /// `dir` is about to be made, and is to go with everything in it.
    pub fn folder(&self, dir: &Path) -> io::Result<()> {
        self.send(Kind::Folder, dir.as_os_str().as_bytes())
    }

    /// pasta is about to start, writing its pid to the pid file the
    /// reaper was given.
    pub fn pasta(&self) -> io::Result<()> {
        self.send(Kind::Pasta, &[])
    }

    /// The launcher undid everything: the reaper leaves without acting.
    pub fn finish(mut self) {
        if let Some((pipe, pid)) = self.live.take() {
            let _ = (&pipe).write_all(&[Kind::Done as u8, 0, 0, 0, 0]);
            drop(pipe);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
}

impl Drop for Reaper {
    /// Without `finish` (a failed setup's early return): the pipe closes
    /// and the reaper undoes what it was told; we wait for it, so that it
    /// is done when `sandbox run` returns.
    fn drop(&mut self) {
        if let Some((pipe, pid)) = self.live.take() {
            drop(pipe);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
}

/// The reaper's life: read records until the pipe closes, then undo.
fn reap(pipe: OwnedFd, pasta_pid_file: Option<BorrowedFd>) -> ! {
    let _ = nix::unistd::setsid();
    sys::ignore_signals(&[
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGPIPE,
    ]);
    let _ = nix::sys::prctl::set_dumpable(false);
    // Only the pipe, as descriptor 0, and pasta's pid file, as 1: nothing
    // of the caller's or of the sandbox's setup stays open.
    let Ok((mut input, pasta_pid_file)) = sys::keep_only(pipe, pasta_pid_file) else {
        // Without its pipe the reaper cannot hear the launcher at all.
        sys::exit_now(0)
    };
    let mut todo: Vec<(Kind, Vec<u8>)> = vec![];
    loop {
        let mut head = [0u8; HEADER];
        if input.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_ne_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut payload = vec![0u8; len.min(MAX_RECORD)];
        if input.read_exact(&mut payload).is_err() {
            break;
        }
        match Kind::from_byte(head[0]) {
            // Leaving without running the launcher's destructors.
            Some(Kind::Done) => sys::exit_now(0),
            Some(k) => todo.push((k, payload)),
            None => {}
        }
    }
    let path = |payload: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(payload));
    // Folders, then pasta (it may be starting still), then the cgroups
    // (waiting for the sandbox's processes to leave), innermost first.
    for (kind, payload) in &todo {
        match kind {
            Kind::Folder => remove_folder(&path(payload)),
            Kind::Pasta => {
                if let Some(f) = &pasta_pid_file {
                    stop_pasta(f)
                }
            }
            Kind::Cgroup | Kind::CgroupKill | Kind::Done => {}
        }
    }
    for (kind, payload) in todo.iter().rev() {
        match kind {
            Kind::Cgroup => remove_cgroup(&path(payload), false),
            Kind::CgroupKill => remove_cgroup(&path(payload), true),
            Kind::Folder | Kind::Pasta | Kind::Done => {}
        }
    }
    // Leaving without running the launcher's destructors.
    sys::exit_now(0)
}

/// Stop the pasta whose pid is in `pid_file` once it has written one: it
/// may still be setting up, as the launcher was killed while it waited
/// for it (pasta writes it as it daemonizes, or fails). Only a process
/// that is pasta is signalled (one that quit on its own leaves its pid to
/// be reused).
fn stop_pasta(pid_file: &std::fs::File) {
    let until = std::time::Instant::now() + PASTA_START_GRACE;
    while std::time::Instant::now() < until {
        let mut text = [0u8; 32];
        let pid = pid_file
            .read_at(&mut text, 0)
            .ok()
            .filter(|n| *n > 0)
            .and_then(|n| std::str::from_utf8(&text[..n]).ok())
            .and_then(|t| t.trim().parse::<i32>().ok());
        let Some(pid) = pid else {
            std::thread::sleep(PASTA_PID_POLL);
            continue;
        };
        let pidfd = sys::pidfd_open(pid);
        // /proc/PID/comm is readable even for a non-dumpable pasta.
        let is_pasta = std::fs::read(format!("/proc/{pid}/comm"))
            .is_ok_and(|c| c.starts_with(b"pasta") || c.starts_with(b"passt"));
        if let Ok(pidfd) = pidfd
            && is_pasta
        {
            let _ = sys::pidfd_send_signal(pidfd.as_fd(), libc::SIGTERM);
        }
        return;
    }
}

/// How often the reaper looks for pasta's pid.
const PASTA_PID_POLL: Duration = Duration::from_millis(20);

/// How long pasta may take to write its pid file: the launcher may have
/// been killed after it said it would start pasta and before, or while, it
/// did. The reaper waits that long when pasta never started.
const PASTA_START_GRACE: Duration = Duration::from_secs(10);

/// Remove a cgroup folder once no process is left in it; `kill`: kill
/// those left (cgroup.kill on the unified hierarchy, each listed process
/// on v1).
fn remove_cgroup(dir: &Path, kill: bool) {
    // A sandbox that outlives its launcher (no die-with-parent) may run
    // for long: look less often the longer it does.
    let mut pause = CGROUP_FIRST_PAUSE;
    loop {
        match std::fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            // Gone, or never made.
            _ => return,
        }
        if kill && std::fs::write(dir.join("cgroup.kill"), "1").is_err() {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let pid = nix::unistd::Pid::from_raw(pid);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(CGROUP_LONGEST_PAUSE);
    }
}

/// How long the reaper first waits for a cgroup to empty, and at most.
const CGROUP_FIRST_PAUSE: Duration = Duration::from_millis(10);
const CGROUP_LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// Remove a folder's entries (not recursively: the launcher's folders
/// hold files only) and the folder.
/// A helper still starting (the D-Bus proxy, dying with the launcher)
/// may yet make its socket there: try again for a while.
fn remove_folder(dir: &Path) {
    let until = std::time::Instant::now() + FOLDER_GRACE;
    loop {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let _ = std::fs::remove_file(e.path());
        }
        match std::fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) => {}
            _ => return,
        }
        if std::time::Instant::now() >= until {
            return;
        }
        std::thread::sleep(FOLDER_RETRY);
    }
}

/// How long the reaper waits between tries to remove a folder.
const FOLDER_RETRY: Duration = Duration::from_millis(20);

/// How long a folder's helper may take to let go of it.
const FOLDER_GRACE: Duration = Duration::from_secs(5);
