//! The filtered session bus: xdg-dbus-proxy (Debian package of that name)
//! listens on a socket in a private directory the launcher makes before
//! the spawn (so the child knows its path); the child binds that socket
//! into the sandbox. The proxy writes a byte on a pipe when it listens and
//! quits when the pipe's other end closes; the launcher also stops it, and
//! removes the directory, when the sandbox ends or its setup fails.

use super::Caller;
use super::failure::{Call, Cause, Failure};
use super::sys;
use super::wait;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The private directory for the proxy's socket; removed on drop.
pub struct SocketDir {
    dir: PathBuf,
}

impl SocketDir {
    /// A new 0700 directory under the caller's `runtime_dir`
    /// ($XDG_RUNTIME_DIR; else /tmp), told to `reaper` before it is made.
    /// The runtime folder must be the caller's: root under `sudo -E`
    /// still has the user's, where the user could swap the socket the
    /// sandbox binds.
    pub fn create(
        reaper: &super::reaper::Reaper,
        runtime_dir: Option<&OsStr>,
    ) -> io::Result<SocketDir> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        let me = nix::unistd::geteuid().as_raw();
        let base = runtime_dir
            .map(PathBuf::from)
            .filter(|p| {
                std::fs::symlink_metadata(p)
                    .is_ok_and(|m| m.is_dir() && m.uid() == me && m.mode() & 0o022 == 0)
            })
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        // mkdtemp would name it only as it makes it: too late to tell.
        for _ in 0..NAME_TRIES {
            let mut random = [0u8; 8];
            sys::getrandom(&mut random)?;
            let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
            let dir = base.join(format!("sandbox-dbus-{name}"));
            reaper.folder(&dir)?;
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(SocketDir { dir }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::from_raw_os_error(libc::EEXIST))
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("bus")
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// How many random names are tried for the socket's folder before giving
/// up (each taken one means another sandbox, or someone, has it).
const NAME_TRIES: u32 = 100;

/// How long the proxy may take to listen.
const START_GRACE: Duration = Duration::from_secs(10);

/// The running proxy; stopped and reaped on drop.
pub struct Proxy {
    child: Child,
    /// Our end of the proxy's --fd pipe, read once when it listens; held
    /// open while it runs, as closing it also tells the proxy to quit.
    ready: OwnedFd,
}

pub struct Filter<'a> {
    pub talk: &'a [String],
    pub own: &'a [String],
    pub see: &'a [String],
    pub call: &'a [String],
    pub broadcast: &'a [String],
}

/// The caller's session bus: $DBUS_SESSION_BUS_ADDRESS, else the
/// conventional $XDG_RUNTIME_DIR/bus.
pub fn upstream(caller: &Caller) -> Option<String> {
    if let Some(a) = caller
        .var("DBUS_SESSION_BUS_ADDRESS")
        .and_then(OsStr::to_str)
        .filter(|a| !a.is_empty())
    {
        return Some(a.to_string());
    }
    let rt = caller.var("XDG_RUNTIME_DIR")?;
    let bus = Path::new(&rt).join("bus");
    bus.exists().then(|| format!("unix:path={}", bus.display()))
}

pub fn args(f: &Filter) -> Vec<String> {
    let mut a = vec!["--filter".to_string()];
    for (flag, names) in [
        ("--talk", f.talk),
        ("--own", f.own),
        ("--see", f.see),
        ("--call", f.call),
        ("--broadcast", f.broadcast),
    ] {
        a.extend(names.iter().map(|n| format!("{flag}={n}")));
    }
    a
}

/// Start the proxy on `socket` and wait (up to START_GRACE) until it listens.
pub fn start(socket: &Path, f: &Filter, caller: &Caller) -> Result<Proxy, Failure> {
    let Some(bus) = upstream(caller) else {
        return Err(Failure::new(libc::ENOENT, "find the session bus").with_detail(
            "no session bus to filter: DBUS_SESSION_BUS_ADDRESS is unset and there is no $XDG_RUNTIME_DIR/bus",
        ));
    };
    let (ready_r, ready_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).call("pipe")?;
    // The pipe's write end, close-on-exec everywhere else, goes to the
    // proxy as a copy without the flag (dup's), closed once it is started.
    let ready_w_for_proxy = nix::unistd::dup(ready_w.as_fd()).call("dup")?;
    let mut cmd = Command::new("xdg-dbus-proxy");
    cmd.arg(format!("--fd={}", ready_w_for_proxy.as_raw_fd()))
        .arg(&bus)
        .arg(socket)
        .args(args(f))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    super::process::clean_signals_on_exec(&mut cmd);
    let child = cmd.spawn().map_err(|e| {
        let installed = e.kind() != io::ErrorKind::NotFound;
        let f = e.failure("run xdg-dbus-proxy".into());
        match installed {
            true => f,
            false => f.with_detail("not installed (Debian/Ubuntu package 'xdg-dbus-proxy')"),
        }
    })?;
    drop(cmd);
    drop(ready_w_for_proxy);
    drop(ready_w);
    let mut proxy = Proxy {
        child,
        ready: ready_r,
    };
    let mut byte = [0u8; 1];
    let ready = wait::readable_within(proxy.ready.as_fd(), START_GRACE)
        && std::fs::File::from(proxy.ready.try_clone().call("dup")?)
            .read(&mut byte)
            .map(|k| k == 1)
            .unwrap_or(false);
    if !ready {
        let exited = proxy.child.try_wait().ok().flatten();
        let why = match exited {
            Some(status) => format!(
                "xdg-dbus-proxy for {bus} exited ({status}) before it listened; its message is above"
            ),
            None => format!("xdg-dbus-proxy for {bus} did not listen within 10 s"),
        };
        // The proxy does not say why: ECONNREFUSED is what the app would
        // see, a bus that does not answer.
        return Err(Failure::new(libc::ECONNREFUSED, "start xdg-dbus-proxy").with_detail(why));
    }
    // Connecting takes write access to the socket: the sandbox's ids may
    // not be the caller's (a root caller's sandbox is nobody). The folder
    // is the caller's alone (0700), so the mode opens it to no one else.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666))
        .call_with(|| format!("chmod {}", socket.display()))?;
    Ok(proxy)
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}
