//! The sandbox's own processes, attacked from inside: what the app can
//! reach besides itself is PID 1 (always: it is pid 1 of the app's pid
//! namespace) and, where the app shares the caller's pid namespace, the
//! launcher. For each, the app tries what would give it more than it has:
//! the target's descriptors (pidfd_getfd, /proc/N/fd), its environment
//! (/proc/N/environ), its memory (ptrace, process_vm_readv, /proc/N/mem),
//! its root and namespaces (/proc/N/root, /proc/N/ns), and stopping it.
//!
//! Every attack is first shown to work on a control: a process the app
//! itself starts with a secret descriptor and variable (dumpable, in the
//! app's own namespaces). Each case runs as root and as an unprivileged
//! user, under the default profile and with the app's own protections off
//! (no seccomp, no Landlock), with and without the sandwich, so that what
//! holds is the boundary around PID 1 itself.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};

/// The token the caller has in its environment and the app was not given.
const TOKEN: &str = "API_TOKEN_5f3c9e";

/// The attacks, as Python run inside: `attack(pid)` returns a dict of
/// outcome per attack ("OK ..." or the errno name). Then the control: a
/// child holding a file at descriptor 7 and the token in its
/// environment, attacked the same way.
const ATTACK: &str = r#"
import ctypes, errno, json, os, signal, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
TOKEN = sys.argv[1].encode()
def err():
    e = ctypes.get_errno()
    return errno.errorcode.get(e, str(e))
def ok(f):
    try:
        r = f()
        return "OK" if r is None else r
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
def attack(pid, try_stop):
    r = {}
    def environ():
        data = open(f"/proc/{pid}/environ", "rb").read()
        return "OK token" if TOKEN in data else "OK no token"
    r["environ"] = ok(environ)
    r["fd"] = ok(lambda: "OK %d" % len(os.listdir(f"/proc/{pid}/fd")))
    r["fd_link"] = ok(lambda: "OK " + os.readlink(f"/proc/{pid}/fd/0"))
    r["root"] = ok(lambda: "OK %d" % len(os.listdir(f"/proc/{pid}/root")))
    r["mem"] = ok(lambda: open(f"/proc/{pid}/mem", "rb").close())
    r["ns"] = ok(lambda: os.close(os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)))
    pidfd = libc.syscall(434, pid, 0)  # pidfd_open
    if pidfd < 0:
        r["pidfd_getfd"] = "pidfd_open " + err()
    else:
        got, first = [], None
        for fd in range(64):
            n = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
            if n >= 0:
                got.append(fd)
                os.close(n)
            elif first in (None, "EBADF"):
                first = err()
        os.close(pidfd)
        r["pidfd_getfd"] = ("OK %s" % got) if got else first
    if libc.ptrace(0x4206, pid, None, None) == 0:  # PTRACE_SEIZE
        r["ptrace"] = "OK"
        libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
    else:
        r["ptrace"] = err()
    buf = ctypes.create_string_buffer(8)
    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
    remote = iovec(0x1000, 8)  # unmapped: EFAULT once allowed, EPERM when not
    n = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    r["vm_read"] = "OK" if n >= 0 else err()
    def stop():
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.1)
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        os.kill(pid, signal.SIGCONT)
        return "stopped" if state in "tT" else "not stopped"
    # Refused (EPERM: Landlock's signal scope) or ignored: not stopped.
    if try_stop:
        r["stop"] = ok(stop).replace("EPERM", "not stopped")
    return r
target = int(sys.argv[2]) if sys.argv[2] != "parent" else os.getppid()
out = {"target": attack(target, sys.argv[2] != "parent")}
env = dict(os.environ, API_TOKEN=TOKEN.decode())
holder = subprocess.Popen(
    ["/usr/bin/python3", "-c", "import os, time\nfd = os.open('/tmp/held', os.O_CREAT | os.O_RDWR)\nos.dup2(fd, 7)\ntime.sleep(60)"],
    env=env, pass_fds=(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL)
time.sleep(0.3)
out["control"] = attack(holder.pid, True)
holder.kill()
holder.wait()
print(json.dumps(out), flush=True)
sys.stdin.read()
"#;

/// What an attack on a protected process must give.
fn refused() -> BTreeMap<String, String> {
    [
        ("environ", "EACCES"),
        ("fd", "EACCES"),
        ("fd_link", "EACCES"),
        ("root", "EACCES"),
        ("mem", "EACCES"),
        ("ns", "EACCES"),
        ("pidfd_getfd", "EPERM"),
        ("ptrace", "EPERM"),
        ("vm_read", "EPERM"),
        ("stop", "not stopped"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// What the same attacks give on the control: each one works.
fn control_ok(c: &BTreeMap<String, String>) {
    assert_eq!(c["environ"], "OK token", "control: {c:?}");
    assert!(c["fd"].starts_with("OK"), "control: {c:?}");
    assert!(c["pidfd_getfd"].contains('7'), "control: {c:?}");
    assert_eq!(c["ptrace"], "OK", "control: {c:?}");
    assert_eq!(c["vm_read"], "EFAULT", "control: {c:?}");
    assert_eq!(c["stop"], "stopped", "control: {c:?}");
}

/// A sandbox running the attack on `target` ("1" or "parent"), started
/// with a secret at descriptor 7 and the token in its environment.
struct Attack {
    child: Child,
    _scratch: Scratch,
    /// Outcomes on the target and on the control.
    target: BTreeMap<String, String>,
    control: BTreeMap<String, String>,
}

fn start(who: Who, profile: &str, target: &str) -> Option<Attack> {
    let s = Scratch::new("boundary");
    let path = s.write("p.toml", profile);
    let secret = s.write("secret", "the caller's secret\n");
    let mut c = sandbox_env(who, &[("API_TOKEN", TOKEN)])?;
    c.args([
        "run",
        &path,
        "--",
        "/usr/bin/python3",
        "-c",
        ATTACK,
        TOKEN,
        target,
    ]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let file = std::fs::File::open(&secret).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    // SAFETY: dup2 between fork and exec, to give the caller descriptor 7.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut c, move || {
            if libc::dup2(fd, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn().expect("spawn sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.is_empty() {
        let out = child.wait_with_output().unwrap();
        panic!("the attack did not run: {}", stderr(&out));
    }
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    let map = |k: &str| -> BTreeMap<String, String> {
        v[k].as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    };
    Some(Attack {
        target: map("target"),
        control: map("control"),
        child,
        _scratch: s,
    })
}

impl Attack {
    fn finish(mut self) {
        drop(self.child.stdin.take());
        let out = self.child.wait_with_output().unwrap();
        assert!(out.status.success(), "{:?} {}", out.status, stderr(&out));
    }
}

/// Processes below `pid` (children, recursively).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = vec![];
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
                out.push(k);
                todo.push(k);
            }
        }
    }
    out
}

/// The host pid of the sandbox's PID 1 under `launcher_ancestor`.
fn host_pid_of_init(ancestor: u32) -> u32 {
    descendants(ancestor)
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status"))
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with("NSpid:") && l.split_whitespace().last() == Some("1"))
        })
        .expect("the sandbox's PID 1")
}

fn status_field(pid: u32, field: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{field}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default()
}

/// What PID 1 holds, seen from the host (root may look): its signalfd and
/// its own smaps, no environment, no capability, its own filter.
fn pid_1_holds_nothing(a: &Attack) {
    if !is_root() {
        eprintln!(
            "SKIPPED (host-side half): reading a non-dumpable PID 1 from the host needs root"
        );
        return;
    }
    let pid = host_pid_of_init(a.child.id());
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .map(|e| {
            std::fs::read_link(e.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // Its signalfd, and its own smaps (read to give memory back), opened
    // through the host's /proc before the pivot.
    let mut fds = fds;
    fds.sort();
    assert_eq!(
        fds,
        [format!("/{pid}/smaps"), "anon_inode:[signalfd]".to_string()],
        "PID 1's descriptors"
    );
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        env.iter().all(|b| *b == 0),
        "PID 1 keeps environment strings: {:?}",
        String::from_utf8_lossy(&env)
    );
    assert_eq!(status_field(pid, "CapEff"), "0000000000000000");
    assert_eq!(status_field(pid, "CapPrm"), "0000000000000000");
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    assert_eq!(status_field(pid, "Seccomp"), "2");
}

/// The app's own protections off: only what surrounds PID 1 holds.
const BARE: &str = r#"
extends = ["default"]
[user]
uid = 0
gid = 0
[seccomp]
policy = "none"
[landlock]
enabled = false
"#;

/// BARE without the sandwich: PID 1 and the app share one user namespace.
const NO_SANDWICH: &str = r#"
extends = ["default"]
[user]
uid = 0
gid = 0
sandwich = false
[seccomp]
policy = "none"
[landlock]
enabled = false
"#;

/// The shipped default, which allows ptrace and pidfd_getfd.
const DEFAULT: &str = "extends = [\"default\"]\n";

/// The outcomes on a protected target, with the listing of its fd folder
/// set aside when the app is host root: a non-dumpable process's /proc
/// folders belong to host root, who may list the numbers in them, though
/// not follow or take any (fd_link, pidfd_getfd).
fn target_outcomes(a: &Attack, app_is_host_root: bool) -> BTreeMap<String, String> {
    let mut got = a.target.clone();
    if app_is_host_root && got["fd"].starts_with("OK") {
        got.insert("fd".into(), "EACCES".into());
    }
    got
}

/// `host_root`: the app is host root (root's profile without a user
/// namespace); a root caller's sandbox otherwise is nobody on the host.
fn pid_1_is_out_of_reach(who: Who, profile: &str, host_root: bool) {
    let Some(a) = start(who, profile, "1") else {
        return;
    };
    control_ok(&a.control);
    assert_eq!(
        target_outcomes(&a, host_root),
        refused(),
        "attacks on PID 1"
    );
    pid_1_holds_nothing(&a);
    a.finish();
}

both!(pid_1_is_out_of_reach_under_the_default_profile, |who| {
    pid_1_is_out_of_reach(who, DEFAULT, false)
});
both!(pid_1_is_out_of_reach_with_the_apps_protections_off, |who| {
    pid_1_is_out_of_reach(who, BARE, false)
});
both!(pid_1_is_out_of_reach_without_the_sandwich, |who| {
    pid_1_is_out_of_reach(who, NO_SANDWICH, false)
});

/// Root hardening a service: no user namespace at all; the app and PID 1
/// are both host root (the app without capabilities).
#[test]
fn pid_1_is_out_of_reach_without_a_user_namespace() {
    let profile = "extends = [\"default\"]\n[namespaces]\nuser = false\n[seccomp]\npolicy = \"none\"\n[landlock]\nenabled = false\n";
    pid_1_is_out_of_reach(Who::Root, profile, true)
}

/// Without a pid namespace the app sees the launcher (its parent) through
/// the host's /proc: the launcher holds the caller's descriptors and
/// environment and no filter, and must be as far out of reach.
fn launcher_is_out_of_reach(who: Who, extra: &str, host_root: bool) {
    let profile = format!(
        r#"
[namespaces]
pid = false
{extra}
[env]
set = {{ PATH = "/usr/bin:/bin" }}
[[mount]]
type = "ro-bind"
src = "/usr"
[[mount]]
type = "ro-bind"
src = "/bin"
[[mount]]
type = "ro-bind"
src = "/lib"
[[mount]]
type = "ro-bind"
src = "/lib64"
optional = true
[[mount]]
type = "ro-bind"
src = "/proc"
[[mount]]
type = "dev"
dst = "/dev"
[[mount]]
type = "tmpfs"
dst = "/tmp"
"#
    );
    let Some(a) = start(who, &profile, "parent") else {
        return;
    };
    control_ok(&a.control);
    let mut want = refused();
    // Not tried: stopping the launcher is not prevented without a pid
    // namespace or Landlock's signal scope, where the app may signal the
    // caller's processes (docs/security-model.md).
    want.remove("stop");
    assert_eq!(
        target_outcomes(&a, host_root),
        want,
        "attacks on the launcher"
    );
    a.finish();
}

both!(
    the_launcher_is_out_of_reach_without_a_pid_namespace,
    |who| {
        launcher_is_out_of_reach(
            who,
            "[seccomp]\npolicy = \"none\"\n[landlock]\nenabled = false",
            false,
        )
    }
);

#[test]
fn the_launcher_is_out_of_reach_without_any_namespace_of_its_own() {
    launcher_is_out_of_reach(
        Who::Root,
        "user = false\n[seccomp]\npolicy = \"none\"\n[landlock]\nenabled = false",
        true,
    )
}

// The app ignores SIGTERM; two SIGTERMs to the launcher still end the
// sandbox, and promptly.
both!(
    a_second_sigterm_ends_a_sandbox_whose_app_ignores_it,
    |who| {
        let script = "import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)";
        let s = Scratch::new("stop");
        let path = s.write("p.toml", BARE);
        let Some(mut c) = sandbox(who) else {
            return;
        };
        c.args(["run", &path, "--", "/usr/bin/python3", "-c", script]);
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        let launcher = launcher_pid(child.id());
        let started = std::time::Instant::now();
        for _ in 0..2 {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(launcher as i32),
                nix::sys::signal::Signal::SIGTERM,
            )
            .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    }
);

/// The `sandbox` process itself under what the test spawned (runuser
/// stays as a parent for the unprivileged variant).
fn launcher_pid(spawned: u32) -> u32 {
    std::iter::once(spawned)
        .chain(descendants(spawned))
        .find(|p| {
            std::fs::read_link(format!("/proc/{p}/exe"))
                .map(|e| e.file_name() == Some(std::ffi::OsStr::new("sandbox")))
                .unwrap_or(false)
        })
        .expect("the launcher")
}

// The caller's terminal, shared with the app (`new_session = false`): the
// app cannot push keystrokes into it itself (seccomp), nor through PID 1,
// which holds no descriptor of it and cannot be traced. The control, with
// the filter off, shows the push working on this machine.
both!(
    no_keystrokes_into_the_callers_terminal_through_pid_1,
    |who| {
        let probe = r#"
import ctypes, errno, fcntl, os, termios
libc = ctypes.CDLL(None, use_errno=True)
def push():
    try:
        fcntl.ioctl(0, termios.TIOCSTI, b"Z")
        return "pushed"
    except OSError as e:
        return errno.errorcode[e.errno]
trace = "OK" if libc.ptrace(0x4206, 1, 0, 0) == 0 else errno.errorcode[ctypes.get_errno()]
print("push", push(), "ptrace-pid-1", trace)
"#;
        let terminal = |policy: &str| -> Option<String> {
            let s = Scratch::new("tty");
            let profile = format!(
                "extends = [\"default\"]\n[process]\nnew_session = false\n[seccomp]\npolicy = \"{policy}\"\n"
            );
            let path = s.write("p.toml", &profile);
            let mut c = sandbox(who)?;
            c.args(["run", &path, "--", "/usr/bin/python3", "-c", probe]);
            let quoted: Vec<String> =
                std::iter::once(c.get_program().to_string_lossy().into_owned())
                    .chain(c.get_args().map(|a| a.to_string_lossy().into_owned()))
                    .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
                    .collect();
            let mut script = std::process::Command::new("script")
                .args(["-qec", &quoted.join(" "), "/dev/null"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            script.stdin.take().unwrap().write_all(b"").unwrap();
            let out = script.wait_with_output().unwrap();
            Some(stdout(&out))
        };
        let Some(filtered) = terminal("default") else {
            return;
        };
        assert!(
            filtered.contains("push EPERM ptrace-pid-1 EPERM"),
            "{filtered}"
        );
        let control = terminal("none").unwrap();
        assert!(control.contains("push pushed"), "control: {control}");
        assert!(control.contains("ptrace-pid-1 EPERM"), "control: {control}");
    }
);

// --- Files the app leaves on the host ------------------------------------

/// Every way to give a file the setuid or setgid bit, tried on a writable
/// bind of a host folder: chmod, fchmod, fchmodat, open with O_CREAT,
/// mknod. Prints each call's outcome.
const SETUID_PLANT: &str = r#"
import ctypes, errno, os, shutil, stat
libc = ctypes.CDLL(None, use_errno=True)
def ok(f):
    try:
        f()
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
shutil.copy("/usr/bin/true", "/out/evil")
os.chmod("/out/evil", 0o755)
r = []
r.append(ok(lambda: os.chmod("/out/evil", 0o4755)))
r.append(ok(lambda: os.chmod("/out/evil", 0o2755)))
fd = os.open("/out/evil", os.O_RDONLY)
r.append(ok(lambda: os.fchmod(fd, 0o4755)))
r.append(ok(lambda: os.chmod("evil", 0o6755, dir_fd=os.open("/out", os.O_RDONLY))))
r.append(ok(lambda: os.close(os.open("/out/created", os.O_CREAT | os.O_WRONLY, 0o4755))))
r.append(ok(lambda: os.mknod("/out/node", stat.S_IFREG | 0o6755)))
print(" ".join(r))
"#;

/// The setuid and setgid bits of every file under `dir`, as the host sees
/// them.
fn setid_files(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let mode = e.metadata().unwrap().permissions().mode();
        if mode & 0o6000 != 0 {
            found.push(format!("{} {:o}", e.file_name().to_string_lossy(), mode));
        }
    }
    found
}

fn plant_setuid(who: Who, allow: bool) -> Option<(String, Vec<String>)> {
    let s = Scratch::new("setuid");
    let out = s.dir("out", 0o755);
    s.chown_to(who, "out");
    let profile = format!(
        "extends = [\"default\"]\n[seccomp]\nallow_setuid_bits = {allow}\n[[mount]]\ntype = \"bind\"\nsrc = \"{out}\"\ndst = \"/out\"\n"
    );
    let text = ok(run_python_raw(who, &s, &profile, SETUID_PLANT)?);
    Some((
        text.trim().to_string(),
        setid_files(std::path::Path::new(&out)),
    ))
}

/// Run Python `code` under `profile` (written into `s`), returning the
/// whole output.
fn run_python_raw(
    who: Who,
    s: &Scratch,
    profile: &str,
    code: &str,
) -> Option<std::process::Output> {
    let path = s.write("p.toml", profile);
    let mut c = sandbox(who)?;
    c.args(["run", &path, "--", "/usr/bin/python3", "-c", code]);
    Some(c.stdin(Stdio::null()).output().unwrap())
}

// The default filter refuses every call that would set the bits, and none
// of the planted files has them on the host; with `allow_setuid_bits` (the
// control) each call works and the host sees them.
both!(no_setuid_or_setgid_file_reaches_the_host, |who| {
    let Some((calls, found)) = plant_setuid(who, false) else {
        return;
    };
    assert_eq!(calls, "EPERM EPERM EPERM EPERM EPERM EPERM");
    assert_eq!(found, Vec::<String>::new());
    let (calls, found) = plant_setuid(who, true).unwrap();
    assert_eq!(calls, "OK OK OK OK OK OK", "control");
    assert_eq!(found.len(), 3, "control: {found:?}");
});

// personality(0xffffffff) only asks for the current persona: allowed, while
// the bits that weaken ASLR stay refused.
both!(the_personality_query_is_allowed, |who| {
    let Some(out) = run_python(
        who,
        "extends = [\"default\"]\n",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.personality(0xffffffff), libc.personality(0x0040000), ctypes.get_errno())",
    ) else {
        return;
    };
    assert_eq!(out, "0 -1 1");
});

// --- A root caller's sandbox is nobody on the host -----------------------

/// Run `script` as root under `profile`, with a host folder bound
/// writable at /out (root's 0755 folder holding a root-owned file `mine`,
/// and a folder `open` nobody may write); returns the output and the
/// folder.
fn as_root_on_a_bind(profile_extra: &str, script: &str) -> Option<(String, Scratch)> {
    if !is_root() {
        cannot("a root caller's sandbox needs the tests to run as root");
        return None;
    }
    let s = Scratch::new("root-bind");
    let out = s.dir("out", 0o755);
    s.write("out/mine", "root's\n");
    s.dir("out/open", 0o755);
    std::os::unix::fs::chown(format!("{out}/open"), Some(65534), Some(65534)).unwrap();
    let profile = format!(
        "extends = [\"default\"]\n{profile_extra}\n[[mount]]\ntype = \"bind\"\nsrc = \"{out}\"\ndst = \"/out\"\n"
    );
    let path = s.write("p.toml", &profile);
    let o = sandbox(Who::Root)?
        .args(["run", &path, "--", "/bin/sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Some((format!("{}{}", stdout(&o), stderr(&o)), s))
}

fn owner_of(p: &std::path::Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.uid(), m.gid())
}

// Root's files on a writable bind are not the app's to change, what it
// makes is nobody's, and with the filter off a setuid plant gives a
// setuid-nobody file, never root's. The control, host_root = true, shows
// the same run acting as root (the old hole: a setuid-root file).
#[test]
fn a_root_callers_app_is_nobody_on_the_host() {
    let script = "id -u; echo x >> /out/mine || echo refused; echo new > /out/open/made; cp /bin/true /out/open/evil; chmod 4755 /out/open/evil && echo chmod-ok";
    let off = "[seccomp]\npolicy = \"none\"";
    let Some((said, s)) = as_root_on_a_bind(off, script) else {
        return;
    };
    assert!(said.starts_with("0\n"), "root inside: {said}");
    assert!(said.contains("refused"), "{said}");
    assert!(said.contains("chmod-ok"), "{said}");
    let out = s.path.join("out");
    assert_eq!(
        std::fs::read_to_string(out.join("mine")).unwrap(),
        "root's\n"
    );
    assert_eq!(owner_of(&out.join("open/made")), (65534, 65534));
    assert_eq!(owner_of(&out.join("open/evil")), (65534, 65534));

    let control = format!("{off}\n[user]\nhost_root = true");
    let script =
        "echo x >> /out/mine && cp /bin/true /out/evil && chmod 4755 /out/evil && echo planted";
    let (said, s) = as_root_on_a_bind(&control, script).unwrap();
    assert!(said.contains("planted"), "control: {said}");
    assert_eq!(owner_of(&s.path.join("out/evil")), (0, 0), "control");
}

// The sandbox's own processes, PID 1 among them, run as nobody on the
// host, and what setup made in the new root is theirs.
#[test]
fn a_root_callers_pid_1_is_nobody_on_the_host() {
    let Some(a) = start(Who::Root, DEFAULT, "1") else {
        return;
    };
    let pid = host_pid_of_init(a.child.id());
    let uids = status_field(pid, "Uid");
    assert_eq!(uids.split_whitespace().collect::<Vec<_>>(), ["65534"; 4]);
    a.finish();
}

// --- Links left for the next run ------------------------------------------

/// A folder the sandbox may write (`w`, bound writable) and, elsewhere, a
/// secret folder holding `conf/file`; binds use their host paths inside.
struct Planted {
    s: Scratch,
    w: String,
    secret: String,
}

fn planted(who: Who) -> Planted {
    let s = Scratch::new("planted");
    let w = s.dir("w", 0o755);
    s.dir("w/app/conf", 0o755);
    s.write("w/app/conf/file", "the app's own\n");
    let secret = s.dir("secret", 0o755);
    s.dir("secret/conf", 0o755);
    s.write("secret/conf/file", "SECRET\n");
    // Both the caller's own, as the sandbox's ids see them: only the link
    // handling stands between the app and the secret.
    s.chown_to(who, "w");
    s.chown_to(who, "secret");
    Planted { s, w, secret }
}

impl Planted {
    fn run(
        &self,
        who: Who,
        name: &str,
        profile: &str,
        script: &str,
    ) -> Option<std::process::Output> {
        let path = self.s.write(name, profile);
        let mut c = sandbox(who)?;
        c.args(["run", &path, "--", "/bin/sh", "-c", script]);
        Some(c.stdin(Stdio::null()).output().unwrap())
    }
    /// Run 1: the app replaces `w/app` with a link to the secret folder.
    fn plant(&self, who: Who) -> Option<()> {
        let profile = format!(
            "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"{}\"\n",
            self.w
        );
        let out = self.run(
            who,
            "plant.toml",
            &profile,
            &format!("rm -rf {0}/app && ln -s {1} {0}/app", self.w, self.secret),
        )?;
        assert!(out.status.success(), "{}", stderr(&out));
        Some(())
    }
}

// Run 2 of the same profile (w writable, w/app/conf read-only at /conf)
// does not follow the planted link: it stops at the mount's line. The
// control: a profile that does not let the sandbox write w follows it,
// and binds the secret.
both!(
    a_link_planted_in_a_writable_folder_is_not_followed_next_run,
    |who| {
        let p = planted(who);
        let same = format!(
            "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"{0}\"\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{0}/app/conf\"\ndst = \"/conf\"\n",
            p.w
        );
        // First the profile's own run, before anything was planted.
        let Some(before) = p.run(who, "same.toml", &same, "cat /conf/file") else {
            return;
        };
        assert_eq!(ok(before), "the app's own\n");
        p.plant(who).unwrap();
        let out = p.run(who, "same.toml", &same, "cat /conf/file").unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(125), "{err}");
        assert!(!stdout(&out).contains("SECRET"));
        assert!(
            err.contains("same.toml:6:8: error:")
                && err.contains("Too many levels of symbolic links"),
            "{err}"
        );
        assert!(err.contains("hint: a symbolic link"), "{err}");
        // The control.
        let other = format!(
            "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{}/app/conf\"\ndst = \"/conf\"\n",
            p.w
        );
        let out = p.run(who, "other.toml", &other, "cat /conf/file").unwrap();
        assert_eq!(ok(out), "SECRET\n", "control");
    }
);

// The same for a folder the profile has made (`create = true`) and for an
// overlay's upper folder below w: nothing is made in, or written to, the
// secret folder.
both!(no_folder_is_made_or_used_through_a_planted_link, |who| {
    let p = planted(who);
    let profile = format!(
        "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"{0}\"\n[[mount]]\ntype = \"bind\"\nsrc = \"{0}/app/made\"\ndst = \"/made\"\ncreate = true\n",
        p.w
    );
    let Some(first) = p.run(who, "create.toml", &profile, "true") else {
        return;
    };
    assert!(first.status.success(), "{}", stderr(&first));
    p.plant(who).unwrap();
    let out = p
        .run(who, "create.toml", &profile, "touch /made/x")
        .unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(!std::path::Path::new(&format!("{}/made", p.secret)).exists());

    let p = planted(who);
    let profile = format!(
        "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"{0}\"\n[[mount]]\ntype = \"overlay\"\ndst = \"/o\"\nlower = [\"/usr/share/doc\"]\nupper = \"{0}/app/conf\"\n",
        p.w
    );
    p.plant(who).unwrap();
    let out = p
        .run(who, "ovl.toml", &profile, "echo x > /o/planted")
        .unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(!std::path::Path::new(&format!("{}/conf/planted", p.secret)).exists());
});

// --- What a new /proc lets the app change ---------------------------------

/// Opening for writing is what a trigger takes (this kernel refuses the
/// trigger itself, EINVAL, where PSI triggers are not built in).
const PRESSURE: &str = "import errno, os\ntry:\n    os.close(os.open('/proc/pressure/cpu', os.O_WRONLY))\n    print('OK')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])";

// Pressure triggers are writable by anyone on the host (the control runs
// the same code outside); the sandbox's /proc has them read-only, and, for
// an app that is host root, memory type ranges too.
both!(proc_pressure_triggers_are_read_only, |who| {
    let Some(inside) = run_python(who, "extends = [\"default\"]\n", PRESSURE) else {
        return;
    };
    assert_eq!(inside, "EROFS");
    let outside = std::process::Command::new("/usr/bin/python3")
        .args(["-c", PRESSURE])
        .output()
        .unwrap();
    assert_eq!(stdout(&outside).trim(), "OK", "control, on the host");
});

#[test]
fn a_host_root_app_cannot_write_the_kernels_proc_files() {
    if !is_root() {
        cannot("an app that is host root needs the tests to run as root");
        return;
    }
    let profile = "extends = [\"default\"]\n[namespaces]\nuser = false\n";
    let code = "import errno, os\nout = []\nfor p in ['/proc/mtrr', '/proc/pressure/io', '/proc/sys/vm/drop_caches']:\n    try:\n        os.close(os.open(p, os.O_WRONLY))\n        out.append('OK')\n    except OSError as e:\n        out.append(errno.errorcode[e.errno])\nprint(' '.join(out))";
    let got = run_python(Who::Root, profile, code).unwrap();
    assert_eq!(got, "EROFS EROFS EROFS");
}

// --- What the app leaves, and what PID 1 reads ----------------------------

// Without a pid namespace, what the app leaves running (a setsid'd child)
// ends with the sandbox: the launcher is its subreaper.
both!(
    without_a_pid_namespace_the_apps_leftovers_end_with_it,
    |who| {
        let profile = r#"
[namespaces]
pid = false
[env]
set = { PATH = "/usr/bin:/bin" }
[[mount]]
type = "ro-bind"
src = "/usr"
[[mount]]
type = "ro-bind"
src = "/bin"
[[mount]]
type = "ro-bind"
src = "/lib"
[[mount]]
type = "ro-bind"
src = "/lib64"
optional = true
[[mount]]
type = "dev"
dst = "/dev"
"#;
        let marker = "48211";
        let Some(out) = run_profile(
            who,
            profile,
            &format!("setsid sleep {marker} </dev/null >/dev/null 2>&1 & sleep 0.2; exit 0"),
        ) else {
            return;
        };
        assert!(out.status.success(), "{}", stderr(&out));
        let left = || {
            std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&format!("sleep\0{marker}")))
                    .unwrap_or(false)
            })
        };
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while left() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!left(), "the app's setsid'd child outlived the sandbox");
    }
);

// PID 1 gives memory back reading its own smaps through a descriptor it
// opened before the pivot: a FIFO the app puts at /proc/self/smaps in a
// writable root does not hang it.
both!(pid_1_reads_nothing_the_app_can_plant, |who| {
    let profile = r#"
[filesystem]
readonly_root = false
[landlock]
enabled = false
[env]
set = { PATH = "/usr/bin:/bin" }
[[mount]]
type = "ro-bind"
src = "/usr"
[[mount]]
type = "ro-bind"
src = "/bin"
[[mount]]
type = "ro-bind"
src = "/lib"
[[mount]]
type = "ro-bind"
src = "/lib64"
optional = true
[[mount]]
type = "dev"
dst = "/dev"
[[mount]]
type = "tmpfs"
dst = "/tmp"
"#;
    let started = std::time::Instant::now();
    let Some(out) = run_profile(
        who,
        profile,
        "mkdir -p /proc/self && mkfifo /proc/self/smaps; sleep 0.5; echo app-exits",
    ) else {
        return;
    };
    assert!(ok(out).contains("app-exits"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the sandbox ended only after {:?}",
        started.elapsed()
    );
});
