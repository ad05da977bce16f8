//! pasta (from the passt package): user-mode networking for the sandbox's
//! network namespace. The launcher starts it once the id maps are written;
//! pasta configures the namespace's interface, binds the forwarded ports,
//! then goes to the background, so its first process exiting means ready.
//! Its daemon's pid comes back through a pid file that is a memfd of ours
//! (pasta opens the pid file before it closes inherited descriptors), and
//! the launcher stops it, through a pidfd, when the sandbox ends; the
//! reaper stops it when the launcher itself is killed.

use super::failure::{Call, Cause, Failure};
use super::sys;
use super::wait;
use std::io::{self, Read, Seek};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// The running pasta, stopped when dropped.
pub struct Pasta {
    pidfd: OwnedFd,
}

pub struct Options<'a> {
    pub child: i32,
    pub tcp: &'a [String],
    pub udp: &'a [String],
    pub dns_forward: Option<&'a str>,
    pub host_loopback: bool,
    pub to_host_tcp: &'a [u16],
    pub to_host_udp: &'a [u16],
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
    // From inside to the host: only the ports listed, each to the same
    // port of the host's loopback.
    for (flag, ports) in [("-T", o.to_host_tcp), ("-U", o.to_host_udp)] {
        a.push(flag.into());
        a.push(if ports.is_empty() {
            "none".into()
        } else {
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",")
        });
    }
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

/// Where pasta writes the pid of its daemon: a memfd, made before the
/// reaper is forked so that the reaper holds it too and can stop a pasta
/// whose launcher was killed while it started (pasta takes ~100 ms, then
/// daemonizes out of our reach).
pub fn pid_file() -> io::Result<std::fs::File> {
    use nix::sys::memfd::{MFdFlags, memfd_create};
    let fd = memfd_create(c"sandbox-pasta-pid", MFdFlags::MFD_CLOEXEC)?;
    Ok(std::fs::File::from(fd))
}

/// Start pasta on the child's namespaces and wait until it is ready; it
/// writes its daemon's pid to `pidfile` (see [`pid_file`]). Errors carry
/// pasta's own message (a port in use, no /dev/net/tun).
pub fn start(o: &Options, root: bool, pidfile: &std::fs::File) -> Result<Pasta, Failure> {
    let mut pidfile = pidfile;
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
        .call_with(|| format!("open {path}"))?;
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
    // The pid file, close-on-exec everywhere else, goes to pasta as a copy
    // without the flag (dup's), closed once pasta has run.
    let pid_file_for_pasta = nix::unistd::dup(pidfile.as_fd()).call("dup pasta's pid file")?;
    let mut cmd = Command::new("pasta");
    cmd.args(args(o, root, fd_path))
        .arg("--pid")
        .arg(format!("/proc/self/fd/{}", pid_file_for_pasta.as_raw_fd()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    super::process::clean_signals_on_exec(&mut cmd);
    let out = cmd.output().call("run pasta")?;
    drop(cmd);
    drop(held);
    drop(pid_file_for_pasta);
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        // This pasta also complains when there is no syslog; not the news.
        let said: Vec<&str> = said
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("Failed to send"))
            .collect();
        let said = format!("pasta: {}", said.join("; "));
        // pasta exits 1 whatever failed and says why only in words: the
        // errno is what we see ourselves when we try what it needed.
        // Seeing nothing refused, we know no errno: EIO says only that it failed.
        let seen = refused(o).unwrap_or_else(|| Failure::new(libc::EIO, "run pasta"));
        return Err(seen.with_detail(said));
    }
    let mut text = String::new();
    pidfile
        .rewind()
        .and_then(|_| pidfile.read_to_string(&mut text))
        .call("read pasta's pid")?;
    let pid: i32 = text.trim().parse().map_err(|_| {
        Failure::new(libc::ESRCH, "read pasta's pid").with_detail(format!("it said {text:?}"))
    })?;
    let pidfd = sys::pidfd_open(pid).call_with(|| format!("pidfd_open {pid} (pasta)"))?;
    Ok(Pasta { pidfd })
}

/// What pasta needed and we cannot have either, tried once pasta failed:
/// a forwarded host port (it binds each on the host, as we do here), or
/// the tun device. None: we see nothing refused.
fn refused(o: &Options) -> Option<Failure> {
    for (proto, specs) in [("tcp", o.tcp), ("udp", o.udp)] {
        for spec in specs {
            // "ADDRESS/HOST:SANDBOX" or "HOST:SANDBOX" (see plan/compile.rs).
            let host = spec.rsplit_once(':').map_or(spec.as_str(), |(h, _)| h);
            let implicit = !host.contains('/');
            let (addrs, port) = match host.rsplit_once('/') {
                Some((a, p)) => (vec![a], p),
                // No address: pasta binds the port on every address.
                None => (vec!["0.0.0.0", "::"], host),
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            for a in addrs {
                let Ok(ip) = a.parse::<std::net::IpAddr>() else {
                    continue;
                };
                let at = std::net::SocketAddr::new(ip, port);
                let bound = match proto {
                    "tcp" => std::net::TcpListener::bind(at).map(drop),
                    _ => std::net::UdpSocket::bind(at).map(drop),
                };
                let absent = [Some(libc::EAFNOSUPPORT), Some(libc::EADDRNOTAVAIL)];
                match bound {
                    // An address family this host lacks, tried only because
                    // no address was given: pasta skips it as well.
                    Err(e) if implicit && absent.contains(&e.raw_os_error()) => {}
                    Err(e) => return Some(e.failure(format!("bind {proto} {at}"))),
                    Ok(()) => {}
                }
            }
        }
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .call("open /dev/net/tun")
        .err()
}

impl Drop for Pasta {
    fn drop(&mut self) {
        // Through the pidfd, so a recycled pid can never be hit. pasta is
        // not our child (it daemonized): nothing to reap.
        let _ = sys::pidfd_send_signal(self.pidfd.as_fd(), libc::SIGTERM);
        // Wait (briefly) until it is gone, so that its ports are free again
        // when `sandbox run` returns.
        wait::readable_within(self.pidfd.as_fd(), STOP_GRACE);
    }
}

/// How long a stopped pasta may take to go.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(1);
