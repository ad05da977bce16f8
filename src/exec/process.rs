//! The process the app will be: session, environment, limits, the parent
//! death signal, no_new_privs, and finally execve.

use super::failure::{Call, Failure};
use super::kernel::Kernel;
use crate::glob::glob_match;
use crate::plan::{LimitValue, Resource, Rlimit};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;

/// The environment the app gets: the caller's variables (`caller`) if not
/// cleared, or those matching `keep`, less those `unset` takes out
/// ([`crate::plan::unsets`]); then `set` on top.
pub fn environment(
    caller: &[(OsString, OsString)],
    clear: bool,
    keep: &[String],
    unset: &[String],
    set: &[(String, String)],
) -> Vec<CString> {
    let mut vars: Vec<(Vec<u8>, Vec<u8>)> = caller
        .iter()
        .filter(|(k, _)| {
            let name = k.to_string_lossy();
            (!clear || keep.iter().any(|p| glob_match(p, &name)))
                && !crate::plan::unsets(unset, keep, &name)
        })
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    for (k, v) in set {
        vars.retain(|(n, _)| n != k.as_bytes());
        vars.push((k.as_bytes().to_vec(), v.as_bytes().to_vec()));
    }
    vars.into_iter()
        .filter_map(|(k, v)| CString::new([k, b"=".to_vec(), v].concat()).ok())
        .collect()
}

fn resource(r: Resource) -> libc::__rlimit_resource_t {
    match r {
        Resource::Nofile => libc::RLIMIT_NOFILE,
        Resource::Nproc => libc::RLIMIT_NPROC,
        Resource::Core => libc::RLIMIT_CORE,
        Resource::Cpu => libc::RLIMIT_CPU,
        Resource::Fsize => libc::RLIMIT_FSIZE,
        Resource::Stack => libc::RLIMIT_STACK,
        Resource::As => libc::RLIMIT_AS,
        Resource::Memlock => libc::RLIMIT_MEMLOCK,
    }
}

pub fn set_rlimits(k: &dyn Kernel, limits: &[Rlimit]) -> Result<(), Failure> {
    for l in limits {
        let v = match l.value {
            LimitValue::Value(v) => v,
            LimitValue::Unlimited => libc::RLIM_INFINITY,
        };
        k.setrlimit(resource(l.resource), v)
            .call_with(|| format!("setrlimit {}={v}", l.resource))?;
    }
    Ok(())
}

/// Ask for SIGKILL when the launcher dies, then make sure it has not
/// already died: the launcher holds the other end of `alive` until it exits.
pub fn die_with_parent(k: &dyn Kernel, alive: BorrowedFd) -> Result<(), Failure> {
    k.prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0)
        .call("prctl(PR_SET_PDEATHSIG, SIGKILL)")?;
    let mut fds = [PollFd::new(alive, PollFlags::POLLIN)];
    // Without waiting: a hang-up says the launcher is already gone.
    let _ = poll(&mut fds, PollTimeout::ZERO);
    let gone = fds[0]
        .revents()
        .is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR));
    if gone {
        return Err(Failure::new(libc::ESRCH, "the launcher is gone"));
    }
    Ok(())
}

pub fn no_new_privs(k: &dyn Kernel) -> Result<(), Failure> {
    k.prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0)
        .call("prctl(PR_SET_NO_NEW_PRIVS, 1)")
        .map(drop)
}

/// The signals the launcher and the init forward to the app.
pub fn forwarded_signals() -> SigSet {
    let mut s = SigSet::empty();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGWINCH,
        Signal::SIGCHLD,
    ] {
        s.add(sig);
    }
    s
}

/// Give the app a clean signal state: nothing blocked, SIGPIPE default
/// (the Rust runtime ignores it, and an ignored signal survives exec).
pub fn reset_signals() {
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    super::sys::default_signal(libc::SIGPIPE);
}

/// Kill and reap every child this process still has but `spare`: as
/// subreaper of a sandbox without a pid namespace, what the app left
/// running (re-parented here when its parent died). Children appearing
/// meanwhile (an orphan's own orphans) are taken in the next round.
pub fn end_orphans(spare: Option<nix::unistd::Pid>) {
    let me = std::process::id();
    for _ in 0..100 {
        let children: Vec<i32> = std::fs::read_dir(format!("/proc/{me}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|c| {
                c.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect::<Vec<i32>>()
            })
            .filter(|p| Some(nix::unistd::Pid::from_raw(*p)) != spare)
            .collect();
        if children.is_empty() {
            return;
        }
        for c in children {
            let pid = nix::unistd::Pid::from_raw(c);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
}

/// Start `cmd` (a helper the launcher runs: pasta, xdg-dbus-proxy) with
/// the clean signal state of [`reset_signals`]: the launcher blocks the
/// signals it reads from its signalfd, and a helper inheriting that mask
/// could not be stopped.
pub fn clean_signals_on_exec(cmd: &mut std::process::Command) {
    super::sys::before_exec(cmd, reset_signals);
}

/// execve the command, searching PATH from `env` when argv[0] has no '/'
/// (execvp's search, [`search_path`]). Returns only on failure.
pub fn exec(k: &dyn Kernel, argv: &[OsString], env: &[CString]) -> io::Error {
    let Some(cargv) = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).ok())
        .collect::<Option<Vec<_>>>()
    else {
        return io::Error::from_raw_os_error(libc::EINVAL);
    };
    let Some(program) = cargv.first() else {
        return io::Error::from_raw_os_error(libc::ENOENT);
    };
    if program.as_bytes().contains(&b'/') {
        return k.execve(program, &cargv, env);
    }
    let path = env
        .iter()
        .find_map(|e| e.as_bytes().strip_prefix(b"PATH=").map(<[u8]>::to_vec))
        .unwrap_or_else(|| crate::plan::DEFAULT_PATH.as_bytes().to_vec());
    k.execvp(program, &path, &cargv, env)
}

/// execve `program` in each folder of `path` in turn, as execvp does: a
/// folder without it (ENOENT, ENOTDIR, ESTALE, ENODEV, ETIMEDOUT) is
/// passed over, EACCES remembered while the search goes on, any other
/// error ends it. Returns only on failure, with the most telling error.
pub fn search_path(execve: impl Fn(&CStr) -> io::Error, program: &CStr, path: &[u8]) -> io::Error {
    let mut best = io::Error::from_raw_os_error(libc::ENOENT);
    for dir in path.split(|b| *b == b':').filter(|d| !d.is_empty()) {
        let full = std::path::Path::new(OsStr::from_bytes(dir))
            .join(OsStr::from_bytes(program.to_bytes()));
        let Ok(c) = CString::new(full.as_os_str().as_bytes()) else {
            continue;
        };
        let e = execve(&c);
        match e.raw_os_error() {
            Some(libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT) => {}
            Some(libc::EACCES) => best = e,
            _ => return e,
        }
    }
    best
}

/// SIGKILL when the process that started this one ends; if it already
/// has (we were adopted between our start and the prctl), now.
pub fn die_with_caller() -> io::Result<()> {
    let caller = nix::unistd::getppid();
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
    if nix::unistd::getppid() != caller {
        nix::sys::signal::raise(Signal::SIGKILL).map_err(io::Error::from)?;
    }
    Ok(())
}
