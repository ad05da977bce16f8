//! pasta (from the passt package): user-mode networking for the sandbox's
//! network namespace. The launcher starts it once the id maps are written;
//! pasta configures the namespace's interface, binds the forwarded ports,
//! then goes to the background, so its first process exiting means ready.
//! Its daemon's pid comes back through a pid file that is a memfd of ours
//! (pasta opens the pid file before it closes inherited descriptors), and
//! the launcher stops it, through a pidfd, when the sandbox ends; a
//! watchdog stops it when the launcher itself is killed.

use std::io::{self, Read, Seek};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// The running pasta, stopped when dropped.
pub struct Pasta {
    pidfd: OwnedFd,
    /// The write end of the watchdog's pipe and the watchdog's pid.
    watchdog: Option<(OwnedFd, nix::unistd::Pid)>,
}

/// pasta is not our child (it daemonizes) and outlives a launcher killed
/// with SIGKILL: a forked watchdog waits for the end of a pipe whose write
/// end only the launcher holds, then stops pasta. Only read, a signal and
/// _exit run in the forked copy.
fn watchdog(pidfd: &OwnedFd) -> io::Result<(OwnedFd, nix::unistd::Pid)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: the child only calls read, syscall and _exit.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => {
            let mut b = [0u8; 1];
            // SAFETY: plain syscalls on descriptors this process holds.
            unsafe {
                // Keep only the pipe's read end (3) and the pidfd (4): a
                // copy of the launcher's other descriptors (the sandbox's
                // "go" pipe among them) must not outlive the launcher.
                let high_r = libc::fcntl(r.as_raw_fd(), libc::F_DUPFD, 1000);
                let high_p = libc::fcntl(pidfd.as_raw_fd(), libc::F_DUPFD, 1000);
                libc::dup2(high_r, 3);
                libc::dup2(high_p, 4);
                libc::syscall(libc::SYS_close_range, 5, u32::MAX, 0);
                loop {
                    let n = libc::read(3, b.as_mut_ptr().cast(), 1);
                    let interrupted = n < 0 && *libc::__errno_location() == libc::EINTR;
                    if n == 0 || (n < 0 && !interrupted) {
                        break;
                    }
                }
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    4,
                    libc::SIGTERM,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
                libc::_exit(0)
            }
        }
        nix::unistd::ForkResult::Parent { child } => Ok((w, child)),
    }
}

pub struct Options<'a> {
    pub child: i32,
    pub tcp: &'a [String],
    pub udp: &'a [String],
    pub dns_forward: Option<&'a str>,
    pub host_loopback: bool,
    pub userns: bool,
}

/// The arguments pasta gets (not counting the pid file); `ns(kind)` names
/// the child's namespace file pasta is to open.
pub fn args(o: &Options, root: bool, ns: impl Fn(&str) -> String) -> Vec<String> {
    let mut a: Vec<String> = vec!["--config-net".into(), "--quiet".into(), "--stderr".into()];
    // Nothing forwarded unless the profile says so: pasta's default
    // ("auto") would follow every port bound on either side.
    for (flag, specs) in [("-t", o.tcp), ("-u", o.udp)] {
        a.push(flag.into());
        a.push(if specs.is_empty() {
            "none".into()
        } else {
            specs.join(",")
        });
    }
    a.extend(["-T", "none", "-U", "none"].map(String::from));
    if !o.host_loopback {
        a.push("--no-map-gw".into());
    }
    if let Some(d) = o.dns_forward {
        a.extend(["--dns-forward".into(), d.to_string()]);
    }
    if root {
        // pasta would switch to "nobody" before joining namespaces that
        // root owns, and then fail to join them.
        a.extend(["--runas".into(), "0".into()]);
    }
    if o.userns {
        a.extend(["--userns".into(), ns("user")]);
    }
    a.extend(["--netns".into(), ns("net")]);
    if !o.userns {
        a.push("--netns-only".into());
    }
    a
}

fn memfd() -> io::Result<std::fs::File> {
    // Without MFD_CLOEXEC: pasta inherits it and writes its pid there.
    // SAFETY: memfd_create with a valid name; checked.
    let fd = unsafe { libc::memfd_create(c"sandbox-pasta-pid".as_ptr(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: just created and owned here.
    Ok(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Start pasta on the child's namespaces and wait until it is ready.
/// Errors carry pasta's own message (a port in use, no /dev/net/tun).
pub fn start(o: &Options, root: bool) -> Result<Pasta, (io::Error, String)> {
    let mut pidfile = memfd().map_err(|e| (e, "memfd for pasta's pid".into()))?;
    // The namespaces go to pasta as descriptors opened here, by their
    // /proc/self/fd paths: pasta may not open /proc/CHILD/ns/* itself (a
    // root child still holds every capability, which ptrace rules protect
    // from a process with fewer), and a descriptor cannot name a recycled pid.
    let mut held = vec![];
    for kind in ["net", "user"] {
        let path = format!("/proc/{}/ns/{kind}", o.child);
        // Without O_CLOEXEC: pasta inherits them.
        let f = nix::fcntl::open(
            path.as_str(),
            nix::fcntl::OFlag::O_RDONLY,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|e| (io::Error::from(e), path.clone()))?;
        held.push((kind, f));
    }
    let fd_path = |kind: &str| {
        let fd = held
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, f)| f.as_raw_fd())
            .unwrap_or(-1);
        format!("/proc/self/fd/{fd}")
    };
    let mut cmd = Command::new("pasta");
    cmd.args(args(o, root, fd_path))
        .arg("--pid")
        .arg(format!("/proc/self/fd/{}", pidfile.as_raw_fd()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    super::process::clean_signals_on_exec(&mut cmd);
    let out = cmd.output().map_err(|e| {
        let hint = if e.kind() == io::ErrorKind::NotFound {
            "pasta is not installed (Debian/Ubuntu package 'passt')".to_string()
        } else {
            "run pasta".to_string()
        };
        (e, hint)
    })?;
    drop(cmd);
    drop(held);
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        // This pasta also complains when there is no syslog; not the news.
        let said: Vec<&str> = said
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("Failed to send"))
            .collect();
        let said = said.join("; ");
        let errno = if said.contains("bind") {
            libc::EADDRINUSE
        } else if said.contains("tun") || said.contains("ermission") {
            libc::EACCES
        } else {
            libc::EIO
        };
        return Err((
            io::Error::from_raw_os_error(errno),
            format!("pasta: {said}"),
        ));
    }
    let mut text = String::new();
    pidfile
        .rewind()
        .and_then(|_| pidfile.read_to_string(&mut text))
        .map_err(|e| (e, "read pasta's pid".into()))?;
    let pid: i32 = text.trim().parse().map_err(|_| {
        (
            io::Error::from_raw_os_error(libc::ESRCH),
            format!("pasta's pid file said {text:?}"),
        )
    })?;
    // SAFETY: pidfd_open on a pid; checked.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if raw < 0 {
        return Err((
            io::Error::last_os_error(),
            format!("pidfd_open pasta {pid}"),
        ));
    }
    // SAFETY: a new descriptor we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    let mut pasta = Pasta {
        pidfd,
        watchdog: None,
    };
    pasta.watchdog =
        Some(watchdog(&pasta.pidfd).map_err(|e| (e, "fork pasta's watchdog".to_string()))?);
    Ok(pasta)
}

impl Drop for Pasta {
    fn drop(&mut self) {
        // Through the pidfd, so a recycled pid can never be hit. pasta is
        // not our child (it daemonized): nothing to reap.
        // SAFETY: pidfd_send_signal on a pidfd we own.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGTERM,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
        // Wait (briefly) until it is gone, so that its ports are free again
        // when `sandbox run` returns.
        let mut pfd = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: polling one valid descriptor.
        unsafe { libc::poll(&mut pfd, 1, 1000) };
        if let Some((w, pid)) = self.watchdog.take() {
            drop(w);
            let _ = nix::sys::wait::waitpid(pid, None);
        }
    }
}
