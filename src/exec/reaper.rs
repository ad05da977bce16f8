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

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
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

impl Reaper {
    pub fn none() -> Reaper {
        Reaper { live: None }
    }

    /// Fork the reaper; it keeps `pasta_pid_file`, where a pasta the
    /// launcher starts writes its pid.
    pub fn start(pasta_pid_file: Option<&std::fs::File>) -> io::Result<Reaper> {
        let pid_fd = pasta_pid_file.map(|f| f.as_raw_fd());
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        // SAFETY: the launcher is single-threaded; the child runs only
        // `reap`, which reads its pipe and undoes files and processes.
        match unsafe { nix::unistd::fork() }? {
            nix::unistd::ForkResult::Child => {
                drop(w);
                reap(r, pid_fd)
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
        let mut rec = Vec::with_capacity(5 + payload.len());
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
fn reap(pipe: OwnedFd, pasta_pid_file: Option<i32>) -> ! {
    // SAFETY: plain system calls in a single-threaded fresh fork.
    unsafe {
        libc::setsid();
        for sig in [
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGTSTP,
            libc::SIGTTIN,
            libc::SIGTTOU,
            libc::SIGPIPE,
        ] {
            libc::signal(sig, libc::SIG_IGN);
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        // Only the pipe, as descriptor 0, and pasta's pid file, as 1:
        // nothing of the caller's or of the sandbox's setup stays open.
        libc::dup2(pipe.as_raw_fd(), 0);
        match pasta_pid_file {
            Some(fd) => {
                libc::dup2(fd, 1);
            }
            None => {
                libc::close(1);
            }
        }
        libc::syscall(libc::SYS_close_range, 2, u32::MAX, 0);
    }
    std::mem::forget(pipe);
    // SAFETY: descriptor 0 is the pipe, ours alone now.
    let mut input = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(0) });
    let mut todo: Vec<(Kind, Vec<u8>)> = vec![];
    loop {
        let mut head = [0u8; 5];
        if input.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_ne_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut payload = vec![0u8; len.min(MAX_RECORD)];
        if input.read_exact(&mut payload).is_err() {
            break;
        }
        match Kind::from_byte(head[0]) {
            // SAFETY: leaving without running the launcher's destructors.
            Some(Kind::Done) => unsafe { libc::_exit(0) },
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
            Kind::Pasta if pasta_pid_file.is_some() => stop_pasta(),
            Kind::Cgroup | Kind::CgroupKill | Kind::Pasta | Kind::Done => {}
        }
    }
    for (kind, payload) in todo.iter().rev() {
        match kind {
            Kind::Cgroup => remove_cgroup(&path(payload), false),
            Kind::CgroupKill => remove_cgroup(&path(payload), true),
            Kind::Folder | Kind::Pasta | Kind::Done => {}
        }
    }
    // SAFETY: leaving without running the launcher's destructors.
    unsafe { libc::_exit(0) }
}

/// Stop the pasta whose pid is in descriptor 1, the pid file, once it has
/// written one: it may still be setting up, as the launcher was killed
/// while it waited for it (pasta writes it as it daemonizes, or fails).
/// Only a process that is pasta is signalled (one that quit on its own
/// leaves its pid to be reused).
fn stop_pasta() {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < until {
        let mut text = [0u8; 32];
        // SAFETY: pread into a local buffer from the pid file.
        let n = unsafe { libc::pread(1, text.as_mut_ptr().cast(), text.len(), 0) };
        let pid = (n > 0)
            .then(|| std::str::from_utf8(&text[..n as usize]).ok())
            .flatten()
            .and_then(|t| t.trim().parse::<i32>().ok());
        let Some(pid) = pid else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        // SAFETY: pidfd_open on a pid number; checked.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        // /proc/PID/comm is readable even for a non-dumpable pasta.
        let is_pasta = std::fs::read(format!("/proc/{pid}/comm"))
            .is_ok_and(|c| c.starts_with(b"pasta") || c.starts_with(b"passt"));
        if fd >= 0 && is_pasta {
            // SAFETY: a pidfd this process opened.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd,
                    libc::SIGTERM,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
            }
        }
        return;
    }
}

/// Remove a cgroup folder once no process is left in it; `kill`: kill
/// those left (cgroup.kill on the unified hierarchy, each listed process
/// on v1).
fn remove_cgroup(dir: &Path, kill: bool) {
    // A sandbox that outlives its launcher (no die-with-parent) may run
    // for long: look less often the longer it does.
    let mut pause = Duration::from_millis(10);
    loop {
        match std::fs::remove_dir(dir) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            // Gone, or never made.
            _ => return,
        }
        if kill && std::fs::write(dir.join("cgroup.kill"), "1").is_err() {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                // SAFETY: a signal to a process listed in the sandbox's cgroup.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// Remove a folder's entries (not recursively: the launcher's folders
/// hold files only) and the folder.
fn remove_folder(dir: &Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let _ = std::fs::remove_file(e.path());
    }
    let _ = std::fs::remove_dir(dir);
}
