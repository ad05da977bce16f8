//! PID 1 of the sandbox's pid namespace. The kernel gives PID 1 no default
//! signal actions, and orphans are re-parented to it: so it forks the app,
//! forwards the usual signals to it, reaps every child, and exits with the
//! app's status (128+N when signal N ended it).

use super::failure::{Call, Failure};
use super::kernel::Kernel;
use super::process::forwarded_signals;
use super::sys;
use super::wait::{self, Woke};
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

/// Seal PID 1, then supervise `app` until it exits; the forwarded signals
/// must already be blocked in this process. `smaps`: PID 1's own
/// /proc/PID/smaps, opened through the host's /proc, the one descriptor it
/// keeps (to give memory back later). Never returns.
pub fn supervise(app: Pid, smaps: Option<std::fs::File>) -> ! {
    if let Err(e) = seal(&super::kernel::Linux, smaps.as_ref()) {
        // Fail closed: a PID 1 holding more than the app must not stay.
        let _ = kill(app, Signal::SIGKILL);
        let msg = format!("sandbox: error: PID 1 could not seal itself: {e}\n");
        // Not eprintln!, which panics when standard error is gone.
        let _ = nix::unistd::write(std::io::stderr(), msg.as_bytes());
        // Leaving without running destructors or atexit hooks.
        sys::exit_now(crate::exit::SETUP_FAILED.into())
    }
    let code = match SignalFd::new(&forwarded_signals()) {
        Ok(sfd) => loop_until_exit(&sfd, app, smaps.as_ref()),
        Err(_) => crate::exit::SETUP_FAILED.into(),
    };
    // Leaving without running destructors or atexit hooks.
    sys::exit_now(code)
}

/// PID 1 is a copy of the launcher that never execs, and the app can name
/// it: it must hold nothing the app does not. The app's process made its
/// memory non-dumpable before exec (SealInit), so the app can neither
/// ptrace it nor read its /proc files; this is what PID 1 gives up itself,
/// in case anything ever reached it: every descriptor (the caller's, the
/// pipes to the launcher, the host's /proc), the caller's environment
/// strings, every capability of the outer user namespace, and every
/// system call it does not need (its own allowlist).
pub fn seal(k: &dyn Kernel, keep: Option<&std::fs::File>) -> Result<(), Failure> {
    use std::os::fd::AsRawFd;
    let filter = super::seccomp::as_kernel_program(&super::seccomp::init_program());
    let keep = keep.map(|f| f.as_raw_fd() as u32);
    // Standard error stays open until the filter is loaded, for the message.
    k.close_all_but(3, keep).call("close_range(3, ~0)")?;
    k.wipe_environment();
    k.capset(sys::CapSets::default()).call("capset (none)")?;
    // The filter needs no_new_privs (PID 1 holds no CAP_SYS_ADMIN now).
    k.prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
        .call("prctl(PR_SET_NO_NEW_PRIVS, 1)")?;
    k.load_seccomp(&filter)
        .call("seccomp(SECCOMP_SET_MODE_FILTER) of PID 1's own filter")?;
    k.close_all_but(0, keep).call("close_range(0, ~0)")
}

fn loop_until_exit(sfd: &SignalFd, app: Pid, smaps: Option<&std::fs::File>) -> i32 {
    // PID 1 is a copy of the launcher's memory it has no use for: given
    // back once the app has run a little.
    let mut trim_at = Some(std::time::Instant::now() + super::resident::AFTER);
    loop {
        let info = match wait::next_signal(sfd, trim_at) {
            Woke::Signal(info) => info,
            Woke::Due => {
                trim_at = None;
                if let Some(f) = smaps {
                    let _ = super::resident::trim(Some(f));
                }
                continue;
            }
            Woke::Nothing => continue,
        };
        let sig = info.ssi_signo as i32;
        if sig != libc::SIGCHLD {
            // Forwarded: what a process sent (the launcher, or anyone who
            // may signal PID 1). Not what the kernel sent, the terminal's
            // keys when PID 1 shares the caller's terminal: the app, in the
            // same foreground group, got those itself.
            if info.ssi_code <= 0
                && let Ok(s) = Signal::try_from(sig)
            {
                let _ = kill(app, s);
            }
            continue;
        }
        // Reap everything that has exited; stop when the app has.
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(status) if status.pid() == Some(app) => {
                    if let Some(code) = status_code(status) {
                        return code;
                    }
                }
                Ok(_) => {}
            }
        }
    }
}
