//! How a failure inside the sandbox reaches the user: the child sends
//! (step index, errno, call, detail) over a close-on-exec pipe; the parent
//! prints it as `ORIGIN: error: <step as in 'sandbox plan'> (<call>):
//! <errno text> (<detail>)` with a hint where one is known. A successful
//! exec closes the pipe unseen.

use super::failure::{Cause, Failure, errno_text};
use crate::plan::NsKind;
use crate::plan::{Action, Plan, render};
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;

/// A failed step: which one (None: the setup around the steps, e.g. the
/// child's closing of inherited descriptors), and what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub step: Option<usize>,
    pub failure: Failure,
}

impl StepError {
    /// Step `step`'s `call` failed with `err`.
    pub fn new(step: usize, err: impl Cause, call: impl Into<String>) -> Self {
        StepError::at(step, err.failure(call.into()))
    }

    pub fn at(step: usize, failure: Failure) -> Self {
        StepError {
            step: Some(step),
            failure,
        }
    }

    /// A failure of no step in particular.
    pub fn setup(err: impl Cause, call: impl Into<String>) -> Self {
        StepError {
            step: None,
            failure: err.failure(call.into()),
        }
    }
}

/// A report is written in one write(2), which a pipe keeps whole only up to
/// PIPE_BUF bytes: the parent then reads it whole or not at all.
const PIPE_BUF: usize = libc::PIPE_BUF;
/// has-step (1), step (4), errno (4), the call's and the detail's lengths (2 + 2).
const HEADER: usize = 13;
/// The call's share of a report; the detail gets the rest.
const MAX_CALL: usize = 1024;
const MAX_DETAIL: usize = PIPE_BUF - HEADER - MAX_CALL;

/// At most `max` bytes of `s`, cut where a character starts.
fn truncated(s: &str, max: usize) -> &str {
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

fn encode(e: &StepError) -> Vec<u8> {
    let call = truncated(&e.failure.call, MAX_CALL).as_bytes();
    let detail = truncated(&e.failure.detail, MAX_DETAIL).as_bytes();
    let mut buf = Vec::with_capacity(HEADER + call.len() + detail.len());
    buf.push(e.step.is_some() as u8);
    // A step index above u32::MAX cannot be; saturate rather than wrap.
    let step = e.step.map_or(0, |s| u32::try_from(s).unwrap_or(u32::MAX));
    buf.extend_from_slice(&step.to_ne_bytes());
    buf.extend_from_slice(&e.failure.errno.to_ne_bytes());
    // Both below PIPE_BUF, so within u16.
    buf.extend_from_slice(&(call.len() as u16).to_ne_bytes());
    buf.extend_from_slice(&(detail.len() as u16).to_ne_bytes());
    buf.extend_from_slice(call);
    buf.extend_from_slice(detail);
    buf
}

/// A report from its bytes; None for anything that is not one.
fn decode(buf: &[u8]) -> Option<StepError> {
    let field = |at: usize, len: usize| buf.get(at..at + len);
    let u16_at = |at: usize| Some(u16::from_ne_bytes(field(at, 2)?.try_into().ok()?) as usize);
    let step = u32::from_ne_bytes(field(1, 4)?.try_into().ok()?) as usize;
    let errno = i32::from_ne_bytes(field(5, 4)?.try_into().ok()?);
    let (call_len, detail_len) = (u16_at(9)?, u16_at(11)?);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Some(StepError {
        step: match buf.first()? {
            0 => None,
            _ => Some(step),
        },
        failure: Failure {
            errno,
            call: text(field(HEADER, call_len)?),
            detail: text(field(HEADER + call_len, detail_len)?),
        },
    })
}

/// Child side: write the report in one write(2) (atomic under PIPE_BUF).
pub fn send(pipe: BorrowedFd, e: &StepError) {
    // Nothing to do if it fails: the child's exit code still says 125.
    let _ = nix::unistd::write(pipe, &encode(e));
}

/// Parent side: read a report if the child sent one.
pub fn receive(pipe: BorrowedFd) -> Option<StepError> {
    let mut buf = [0u8; PIPE_BUF];
    let n = nix::unistd::read(pipe, &mut buf).ok()?;
    decode(&buf[..n])
}

/// The exit code for a failed step: 127 for a command not found, 126 for
/// one that cannot be executed, 125 for any other setup failure.
pub fn exit_code(plan: &Plan, e: &StepError) -> u8 {
    match e.step.and_then(|i| plan.steps.get(i)).map(|s| &s.action) {
        Some(Action::Exec { .. }) if e.failure.errno == libc::ENOENT => crate::exit::NOT_FOUND,
        Some(Action::Exec { .. }) => crate::exit::CANNOT_EXECUTE,
        _ => crate::exit::SETUP_FAILED,
    }
}

fn read_sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Why creating namespaces may fail on this machine, if we can tell.
pub fn userns_hint() -> Option<String> {
    if read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1")
    {
        return Some("AppArmor restricts unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns = 1); an administrator can set it to 0 or add an AppArmor profile for sandbox".into());
    }
    if read_sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some("unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone = 0)".into());
    }
    if read_sysctl("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Some("user namespaces are disabled (sysctl user.max_user_namespaces = 0)".into());
    }
    None
}

fn hint(action: &Action, errno: i32) -> Option<String> {
    match (action, errno) {
        (Action::Spawn { .. }, libc::EPERM | libc::ENOSPC | libc::EINVAL | libc::EACCES) => userns_hint(),
        (Action::Exec { argv }, libc::ENOENT) => Some(format!(
            "'{}' is not inside the sandbox: bind the folder it lives in, or check PATH",
            argv.first().map(|a| crate::plan::bytes_text(a.as_bytes())).unwrap_or_default()
        )),
        (Action::Exec { .. }, libc::EACCES) => Some("the file is not executable, or its filesystem is mounted noexec".into()),
        (Action::Bind { .. } | Action::Tmpfs { .. } | Action::Dir { .. } | Action::File { .. } | Action::Symlink { .. }, libc::EROFS) => {
            Some("the destination lies inside a read-only mount: create it in the source, or mount a tmpfs or dir there first".into())
        }
        (
            Action::Bind { .. } | Action::RootBind { .. } | Action::Overlay { .. } | Action::HostDirs { .. },
            libc::ELOOP | libc::EXDEV,
        ) => Some("a symbolic link (or '..') below a folder the sandbox may write, where the app may have left it for this run: look at what it points to, and remove it".into()),
        (Action::KeepNamespace { kind: NsKind::Mount, .. }, libc::EINVAL) => Some(
            "a mount namespace is kept only on a mount that is not shared (the kernel refuses what could make a loop): keep it in a folder bound onto itself and made private, as unshare(1) asks: mount --bind DIR DIR; mount --make-private DIR (findmnt -o+PROPAGATION shows it)".into(),
        ),
        (Action::KeepNamespace { .. }, libc::EBUSY) => Some(
            "a namespace is already kept there: umount FILE first (then rm FILE), or keep this one elsewhere".into(),
        ),
        (Action::KeepNamespace { .. }, libc::ENOENT) => Some("the folder does not exist: make it first (mkdir -p)".into()),
        (Action::KeepNamespace { .. }, libc::ELOOP) => Some("the path is a symbolic link: a namespace is kept on a file, not through a link".into()),
        (Action::Cgroup { .. }, libc::EACCES | libc::EPERM | libc::EROFS) => Some(
            "creating a cgroup needs root or a delegated cgroup: run from one, e.g. systemd-run --user --scope -p Delegate=yes sandbox run ...".into(),
        ),
        (Action::Pasta { .. }, libc::EADDRINUSE) => Some(
            "another program already listens on a forwarded host port: stop it, or pick another HOST port in forward_tcp/forward_udp".into(),
        ),
        (Action::Pasta { .. }, libc::ENOENT) => Some("install Debian's or Ubuntu's package 'passt' (apt install passt)".into()),
        (Action::Pasta { .. }, libc::EACCES | libc::EPERM) => Some(
            "pasta needs /dev/net/tun usable by you (Debian's default mode is 0666)".into(),
        ),
        (Action::Veth { .. } | Action::Macvlan { .. }, libc::EPERM) => Some("veth and macvlan need root (CAP_NET_ADMIN on the host); use mode = \"pasta\" without root".into()),
        (Action::Veth { host_interface: None, .. }, libc::EEXIST) => Some("an interface of that name already exists: a previous sandbox with this pid left it? remove it with: ip link del NAME".into()),
        (Action::Veth { host_interface: Some(n), .. }, libc::EEXIST) => Some(format!("an interface named {n} already exists (another sandbox with this host_interface running?): give each concurrent sandbox its own, or remove it with: ip link del {n}")),
        (Action::ConfigureInterface { .. }, libc::EEXIST) => Some("the address or route is already set: another sandbox with the same address? give network.address".into()),
        (Action::ResolvConf { .. }, libc::ENOENT) => Some("/etc/resolv.conf is a link to a file the sandbox does not have: bind its target (e.g. /run/systemd/resolve) or mount a tmpfs on /etc".into()),
        (Action::Chdir { .. }, libc::ENOENT) => Some("mount something at that path, or change [process] cwd".into()),
        _ => None,
    }
}

/// The message for a failed step, as the user sees it.
pub fn message(plan: &Plan, e: &StepError) -> String {
    let f = &e.failure;
    let detail = if f.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", f.detail)
    };
    let Some((i, step)) = e.step.and_then(|i| Some((i, plan.steps.get(i)?))) else {
        return format!(
            "sandbox: error: setup failed: {}: {}{detail}\n",
            f.call,
            errno_text(f.errno)
        );
    };
    let origin = match &step.origin {
        Some(o) => format!("{o}: error"),
        None => "sandbox: error".into(),
    };
    let call = if f.call.is_empty() {
        String::new()
    } else {
        format!(" ({})", f.call)
    };
    let mut out = format!(
        "{origin}: step {} '{}'{call}: {}{detail}\n",
        i + 1,
        render::describe(&step.action),
        errno_text(f.errno)
    );
    if let Some(h) = access_hint(plan, i, f.errno).or_else(|| hint(&step.action, f.errno)) {
        out.push_str(&format!("  = hint: {h}\n"));
    }
    out
}

/// A step refused (EACCES) because a host path it uses is someone else's:
/// whose it is and its mode. The step's path inside is taken to the host
/// through the plan's binds; the sandbox's ids on the host are its maps'.
fn access_hint(plan: &Plan, step: usize, errno: i32) -> Option<String> {
    use crate::host::{Need, denied};
    if errno != libc::EACCES {
        return None;
    }
    let on_host = |inside: &str| -> Option<String> {
        plan.steps[..step].iter().rev().find_map(|s| {
            let (src, dst) = match &s.action {
                Action::Bind { src, dst, .. } => (src.as_str(), dst.as_str()),
                Action::RootBind { src, .. } => (src.as_str(), "/"),
                _ => return None,
            };
            let rest = inside.strip_prefix(dst.trim_end_matches('/'))?;
            (rest.is_empty() || rest.starts_with('/')).then(|| format!("{src}{rest}"))
        })
    };
    let (path, need) = match &plan.steps.get(step)?.action {
        Action::Chdir { path } => (on_host(path)?, Need::Enter),
        Action::Exec { argv } => {
            let program = argv.first()?.to_str()?;
            if !program.starts_with('/') {
                return None;
            }
            (on_host(program)?, Need::Run)
        }
        Action::Bind { src, .. } | Action::RootBind { src, .. } => (src.clone(), Need::Reach),
        _ => return None,
    };
    let ids = |uid: bool| {
        plan.steps.iter().find_map(|s| match (&s.action, uid) {
            (Action::UidMap { map, .. }, true) | (Action::GidMap { map, .. }, false) => {
                map.first().map(|m| m.outside)
            }
            _ => None,
        })
    };
    let caller = (
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
    );
    let (uid, gid) = (
        ids(true).unwrap_or(caller.0),
        ids(false).unwrap_or(caller.1),
    );
    let d = denied(&path, uid, gid, need)?;
    let who = match uid {
        _ if uid == caller.0 => String::new(),
        65534 if caller.0 == 0 => " (a root caller's sandbox is nobody on the host)".into(),
        _ => format!(" (the sandbox is uid {uid} on the host)"),
    };
    Some(format!(
        "'{}' is {}'s ({:04o}){who}: run as that user, as docs/profiles.md says for services, or give the sandbox a folder it may use",
        d.path, d.owner, d.mode
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn report(step: Option<usize>, call: &str, detail: &str) -> StepError {
        StepError {
            step,
            failure: Failure::new(libc::EACCES, call).with_detail(detail),
        }
    }

    /// Through a real pipe, as the child and the parent use it.
    fn through_a_pipe(e: &StepError) -> Option<StepError> {
        use std::os::fd::AsFd;
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        send(w.as_fd(), e);
        drop(w);
        receive(r.as_fd())
    }

    #[test]
    fn a_report_arrives_whole() {
        for e in [
            report(Some(41), "write /sys/fs/cgroup/x \"+memory\"", "why"),
            report(None, "close-on-exec", ""),
            report(Some(0), "", ""),
        ] {
            assert_eq!(through_a_pipe(&e), Some(e));
        }
    }

    #[test]
    fn a_long_report_fits_one_atomic_write_cut_between_characters() {
        // 'é' is two bytes: an odd limit would split one.
        let (call, detail) = ("é".repeat(MAX_CALL), "é".repeat(PIPE_BUF));
        let e = report(Some(3), &call, &detail);
        assert!(encode(&e).len() <= PIPE_BUF);
        let got = through_a_pipe(&e).unwrap();
        assert_eq!(got.step, Some(3));
        assert!(call.starts_with(&got.failure.call) && !got.failure.call.is_empty());
        assert!(detail.starts_with(&got.failure.detail));
        assert_eq!(got.failure.detail.len(), MAX_DETAIL - MAX_DETAIL % 2);
    }

    #[test]
    fn nothing_sent_is_no_report() {
        assert_eq!(decode(&[]), None);
        assert_eq!(
            decode(&encode(&report(Some(1), "c", "d"))[..HEADER - 1]),
            None
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..PIPE_BUF + 64)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn any_report_round_trips(step in proptest::option::of(0usize..100_000), errno in any::<i32>(), call in ".{0,40}", detail in ".{0,40}") {
            let e = StepError { step, failure: Failure { errno, call, detail } };
            prop_assert_eq!(decode(&encode(&e)), Some(e));
        }
    }
}
