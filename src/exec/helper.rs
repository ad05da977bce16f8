//! The helper of `sandbox enter`, inside the sandbox.
//!
//! The app's process forks it just before its exec (EnterHelper), after
//! every step of the app's: so it has the app's namespaces (the sandwich's
//! inner user namespace too), ids, capabilities, no_new_privs, seccomp
//! filter, Landlock domain, limits, cgroup, working directory, and the
//! environment the app gets. What it starts is a fork of it that execs:
//! never stronger than the app, by construction, and refused exactly what
//! the app is refused. Its parent is the app's (CLONE_PARENT: PID 1), so
//! the app neither waits for it nor is signalled by its end.
//!
//! Its memory is a copy of the launcher's (the caller's whole environment
//! among it): it is born non-dumpable, so the app, holding no
//! CAP_SYS_PTRACE (plan: no helper where the app keeps it), can neither
//! ptrace it nor read its memory or descriptors; it closes every
//! descriptor but its socket to the launcher and zeroes its environment
//! strings. The app may signal or kill it (the same uid, the same domain):
//! then `sandbox enter` says the helper is gone; the app gains nothing.

use super::enter::{self, Msg};
use super::failure::{Call, Failure};
use super::kernel::Kernel;
use super::sys;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::ffi::{CString, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

/// The helper's body, in the forked copy: seal, then serve until the
/// launcher's end closes. Returns only on the recording kernel, or when
/// the seal fails.
pub fn main(k: &dyn Kernel, channel: BorrowedFd, env: &[CString]) -> i32 {
    let sealed = k
        .close_all_but(0, Some(channel.as_raw_fd() as u32))
        .call("close_range(0, ~0) but the socket to the launcher");
    if let Err(Failure { errno, .. }) = sealed {
        return errno;
    }
    k.wipe_environment();
    k.serve_enter(channel, env)
}

/// The requests the helper serves until the launcher's end closes; on a
/// real kernel, never returns.
pub fn serve(channel: BorrowedFd, env: &[CString]) -> ! {
    let mut chld = SigSet::empty();
    chld.add(Signal::SIGCHLD);
    let sfd = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&chld), None).and_then(|()| {
        SignalFd::with_flags(
            &chld,
            nix::sys::signalfd::SfdFlags::SFD_CLOEXEC | nix::sys::signalfd::SfdFlags::SFD_NONBLOCK,
        )
    });
    let Ok(sfd) = sfd else { sys::exit_now(1) };
    // Commands running: (pid, request).
    let mut running: Vec<(i32, u32)> = vec![];
    loop {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut p = [
            PollFd::new(channel.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut p, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => end(&running),
        }
        if p[1].any().unwrap_or(false) {
            while let Ok(Some(_)) = sfd.read_signal() {}
            reap(channel, &mut running);
        }
        if !p[0].any().unwrap_or(false) {
            continue;
        }
        // Everything queued, taken at once: a helper the app stopped
        // finds, when it goes on, a caller's start and its hang-up
        // together, and starts nothing for a caller already gone.
        let mut batch = vec![];
        let mut wait = true;
        loop {
            match enter::receive(channel.as_fd(), wait) {
                Ok((bytes, _)) if bytes.is_empty() => end(&running),
                Ok(m) => batch.push(m),
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(_) if !batch.is_empty() => break,
                Err(_) => end(&running),
            }
            wait = false;
        }
        let hung_up: Vec<u32> = batch
            .iter()
            .filter_map(|(b, _)| match enter::unframe(b) {
                Some((id, Msg::Hangup)) => Some(id),
                _ => None,
            })
            .collect();
        for (bytes, fds) in batch {
            let group = |id: u32| {
                running
                    .iter()
                    .find(|(_, r)| *r == id)
                    .map(|(pid, _)| Pid::from_raw(-pid))
            };
            match enter::unframe(&bytes) {
                Some((id, Msg::Start(_))) if hung_up.contains(&id) => {}
                Some((id, Msg::Start(argv))) if fds.len() == 3 => {
                    let reply = match start(argv, fds, env) {
                        Ok(pid) => {
                            running.push((pid, id));
                            Msg::Started
                        }
                        Err(m) => m,
                    };
                    let _ = enter::send(channel.as_fd(), &enter::framed(id, &reply), &[]);
                }
                Some((id, Msg::Signal(s))) => {
                    if let (Some(g), Ok(sig)) = (group(id), Signal::try_from(s)) {
                        let _ = kill(g, sig);
                    }
                }
                Some((id, Msg::Hangup)) => {
                    if let Some(g) = group(id) {
                        let _ = kill(g, Signal::SIGKILL);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Kill what runs and leave: the launcher is gone, or the sandbox ends.
fn end(running: &[(i32, u32)]) -> ! {
    for (pid, _) in running {
        let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
    }
    sys::exit_now(0)
}

/// Reap ended commands and tell the launcher how each ended.
fn reap(channel: BorrowedFd, running: &mut Vec<(i32, u32)>) {
    loop {
        let st = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(st) => st,
        };
        let (Some(pid), Some(code)) = (st.pid(), super::init::status_code(st)) else {
            continue;
        };
        if let Some(i) = running.iter().position(|(p, _)| *p == pid.as_raw()) {
            let (_, id) = running.remove(i);
            let _ = enter::send(channel.as_fd(), &enter::framed(id, &Msg::Exited(code)), &[]);
        }
    }
}

/// The command to run when none is given: the app's $SHELL, else /bin/sh.
fn default_command(env: &[CString]) -> Vec<Vec<u8>> {
    let shell = env
        .iter()
        .find_map(|e| e.as_bytes().strip_prefix(b"SHELL="))
        .filter(|s| !s.is_empty())
        .unwrap_or(b"/bin/sh");
    vec![shell.to_vec()]
}

/// Fork and exec `argv` with the caller's three descriptors as 0, 1 and
/// 2, in a session of its own (its group is what signals reach); its pid,
/// or the failure to report.
fn start(argv: Vec<Vec<u8>>, fds: Vec<OwnedFd>, env: &[CString]) -> Result<i32, Msg> {
    let shell_default = argv.is_empty();
    let argv: Vec<OsString> = match argv.is_empty() {
        true => default_command(env),
        false => argv,
    }
    .into_iter()
    .map(OsString::from_vec)
    .collect();
    let failed = |errno: i32, what: String| Msg::Failed {
        code: match errno {
            libc::ENOENT => crate::exit::NOT_FOUND,
            _ => crate::exit::CANNOT_EXECUTE,
        },
        errno,
        what,
    };
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| failed(e as i32, "pipe".into()))?;
    let k = super::kernel::Linux;
    let mut body = || {
        let _ = nix::unistd::setsid();
        // The helper's end (the sandbox's) ends the command too.
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
        // Copied above 2 first (try_clone: F_DUPFD_CLOEXEC from 3): the
        // descriptors may have arrived as 0, 1 or 2, in any order.
        let tell = |errno: i32| {
            let _ = nix::unistd::write(&w, &errno.to_le_bytes());
            126
        };
        let high = match fds
            .iter()
            .map(|f| f.try_clone())
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(h) => h,
            Err(e) => return tell(e.raw_os_error().unwrap_or(libc::EIO)),
        };
        let moved = nix::unistd::dup2_stdin(&high[0])
            .and_then(|()| nix::unistd::dup2_stdout(&high[1]))
            .and_then(|()| nix::unistd::dup2_stderr(&high[2]));
        if let Err(e) = moved {
            return tell(e as i32);
        }
        // A pseudo-terminal from `sandbox enter` is the command's own
        // (job control, the terminal's keys as signals).
        if nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
            sys::take_controlling_terminal();
        }
        super::process::reset_signals();
        let mut e = super::process::exec(&k, &argv, env);
        if shell_default && e.raw_os_error() == Some(libc::ENOENT) {
            e = super::process::exec(&k, &[OsString::from("/bin/sh")], env);
        }
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        let _ = nix::unistd::write(&w, &errno.to_le_bytes());
        127
    };
    let pid = sys::fork_running(&mut body)
        .map_err(|e| failed(e.raw_os_error().unwrap_or(libc::EIO), "fork".into()))?;
    drop(w);
    drop(fds);
    let mut b = [0u8; 4];
    let program = crate::plan::bytes_text(argv[0].as_encoded_bytes());
    match nix::unistd::read(&r, &mut b) {
        Ok(4) => {
            let _ = waitpid(Pid::from_raw(pid), None);
            Err(failed(i32::from_le_bytes(b), format!("execvp {program:?}")))
        }
        _ => Ok(pid),
    }
}
