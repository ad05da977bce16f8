//! How a failure inside the sandbox reaches the user: the child sends
//! (step index, errno, detail) over a close-on-exec pipe; the parent prints
//! it as `ORIGIN: error: <step as in 'sandbox plan'>: <errno text>` with a
//! hint where one is known. A successful exec closes the pipe unseen.

use crate::plan::NsKind;
use crate::plan::{Action, Plan, render};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

/// A failed step: which one, the OS error, and what it was doing.
#[derive(Debug)]
pub struct StepError {
    pub step: usize,
    pub errno: i32,
    pub detail: String,
}

impl StepError {
    pub fn new(step: usize, err: io::Error, detail: impl Into<String>) -> Self {
        StepError {
            step,
            errno: err.raw_os_error().unwrap_or(libc::EIO),
            detail: detail.into(),
        }
    }
}

/// Child side: write the report in one write(2) (atomic under PIPE_BUF).
pub fn send(pipe: BorrowedFd, e: &StepError) {
    let mut buf = Vec::with_capacity(12 + e.detail.len());
    buf.extend_from_slice(&(e.step as u32).to_ne_bytes());
    buf.extend_from_slice(&e.errno.to_ne_bytes());
    let detail = &e.detail.as_bytes()[..e.detail.len().min(3000)];
    buf.extend_from_slice(&(detail.len() as u32).to_ne_bytes());
    buf.extend_from_slice(detail);
    // SAFETY: writing a local buffer to a pipe we own.
    unsafe { libc::write(pipe.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
}

/// Parent side: read a report if the child sent one.
pub fn receive(pipe: BorrowedFd) -> Option<StepError> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: reading into a local buffer.
    let n = unsafe { libc::read(pipe.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 12 {
        return None;
    }
    let n = n as usize;
    let word = |i: usize| <[u8; 4]>::try_from(&buf[i..i + 4]).expect("4 bytes");
    let len = (u32::from_ne_bytes(word(8)) as usize).min(n - 12);
    Some(StepError {
        step: u32::from_ne_bytes(word(0)) as usize,
        errno: i32::from_ne_bytes(word(4)),
        detail: String::from_utf8_lossy(&buf[12..12 + len]).into_owned(),
    })
}

/// The exit code for a failed step: 127 for a command not found, 126 for
/// one that cannot be executed, 125 for any other setup failure.
pub fn exit_code(plan: &Plan, e: &StepError) -> u8 {
    match plan.steps.get(e.step).map(|s| &s.action) {
        Some(Action::Exec { .. }) if e.errno == libc::ENOENT => crate::exit::NOT_FOUND,
        Some(Action::Exec { .. }) => crate::exit::CANNOT_EXECUTE,
        _ => crate::exit::SETUP_FAILED,
    }
}

fn errno_text(errno: i32) -> String {
    let s = io::Error::from_raw_os_error(errno).to_string();
    // "No such file or directory (os error 2)" -> without the suffix.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
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
    let Some(step) = plan.steps.get(e.step) else {
        return format!(
            "sandbox: error: setup failed: {}: {}\n",
            e.detail,
            errno_text(e.errno)
        );
    };
    let origin = match &step.origin {
        Some(o) => format!("{o}: error"),
        None => "sandbox: error".into(),
    };
    let detail = if e.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", e.detail)
    };
    let mut out = format!(
        "{origin}: step {} '{}'{detail}: {}\n",
        e.step + 1,
        render::describe(&step.action),
        errno_text(e.errno)
    );
    if let Some(h) = access_hint(plan, e.step, e.errno).or_else(|| hint(&step.action, e.errno)) {
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
