//! PID 1 of the sandbox's pid namespace. The kernel gives PID 1 no default
//! signal actions, and orphans are re-parented to it: so it forks the app,
//! forwards the usual signals to it, reaps every child, and exits with the
//! app's status (128+N when signal N ended it).

use super::process::forwarded_signals;
use nix::sys::signal::{Signal, kill};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// Code for a wait status, as a shell reports it.
pub fn status_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Supervise `app` until it exits; the forwarded signals must already be
/// blocked in this process. Never returns.
pub fn supervise(app: Pid) -> ! {
    let code = match SignalFd::new(&forwarded_signals()) {
        Ok(sfd) => loop_until_exit(&sfd, app),
        Err(_) => 125,
    };
    // SAFETY: leaving the init without running destructors or atexit hooks.
    unsafe { libc::_exit(code) }
}

fn loop_until_exit(sfd: &SignalFd, app: Pid) -> i32 {
    // PID 1 is a copy of the launcher's memory it has no use for: given
    // back once the app has run a little.
    let mut trim_at = Some(std::time::Instant::now() + super::resident::AFTER);
    loop {
        if let Some(t) = trim_at {
            let ms = t
                .saturating_duration_since(std::time::Instant::now())
                .as_millis() as i32;
            let mut pfd = libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(sfd),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: polling one descriptor this process owns.
            if unsafe { libc::poll(&mut pfd, 1, ms) } == 0 {
                trim_at = None;
                let _ = super::resident::trim();
                continue;
            }
        }
        let Ok(Some(info)) = sfd.read_signal() else {
            continue;
        };
        let sig = info.ssi_signo as i32;
        if sig != libc::SIGCHLD {
            if let Ok(s) = Signal::try_from(sig) {
                let _ = kill(app, s);
            }
            continue;
        }
        // Reap everything that has exited; stop when the app has.
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) if st.pid() == Some(app) => {
                    if let Some(code) = status_code(st) {
                        return code;
                    }
                }
                Ok(_) => {}
            }
        }
    }
}
