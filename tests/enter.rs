//! `sandbox enter` and `sandbox run --join-or-start`, through the built
//! binary, as root and as an unprivileged user: an entered process sees
//! what the app sees (mounts, hostname, namespaces, ids, capabilities,
//! filter, limits, cgroup, environment, working directory) and is refused
//! what the app is refused (a mount, a new namespace, a Landlock-denied
//! exec); input, output, exit status and signals pass; the app cannot use
//! the socket of `sandbox enter`, nor read the helper's memory; another
//! user can neither enter nor stop.

mod common;
use common::*;
use serde_json::Value;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A runtime folder for `who` (the test user has no login session).
struct Runtime {
    scratch: Scratch,
    dir: String,
}

fn runtime(who: Who) -> Runtime {
    let s = Scratch::new("enter");
    let dir = s.dir("run", 0o700);
    s.chown_to_caller(who, "run");
    Runtime { scratch: s, dir }
}

fn cmd(who: Who, rt: &Runtime) -> Option<Command> {
    sandbox_env(who, &[("XDG_RUNTIME_DIR", &rt.dir)])
}

/// The state folder of `who`'s sandboxes.
fn state_dir(who: Who, rt: &Runtime) -> String {
    match who {
        Who::Root => "/run/sandbox".into(),
        Who::User => format!("{}/sandbox", rt.dir),
    }
}

/// A name no other test uses.
fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{tag}-{}-{n}", std::process::id())
}

fn ps(who: Who, rt: &Runtime) -> Vec<Value> {
    let text = ok(cmd(who, rt)
        .unwrap()
        .args(["ps", "--json"])
        .output()
        .unwrap());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The entry named `name`, waited for up to 10 s.
fn listed(who: Who, rt: &Runtime, name: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Some(e) = ps(who, rt).into_iter().find(|e| e["name"] == name) {
            return e;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("sandbox {name} is not listed");
}

/// A running sandbox, stopped when dropped.
struct Running {
    who: Who,
    name: String,
    child: Child,
    entry: Value,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        // The launcher (under runuser for the test user) ends with SIGTERM.
        if let Some(l) = self.entry["launcher"].as_i64() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(l as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.wait();
        let _ = self.who;
    }
}

/// `sandbox run --name NAME PROFILE --command -- sh -c SCRIPT` as `who`,
/// once listed.
fn start(who: Who, rt: &Runtime, profile: &str, script: &str) -> Option<Running> {
    let name = unique("enter");
    let mut c = cmd(who, rt)?;
    c.args(["run", "--name", &name, profile, "--command", "--"])
        .args(["/bin/sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let child = c.spawn().unwrap();
    let entry = listed(who, rt, &name);
    Some(Running {
        who,
        name,
        child,
        entry,
    })
}

/// `sandbox enter NAME -- ARGS` as `who`, with `input` on its stdin.
fn enter(who: Who, rt: &Runtime, name: &str, args: &[&str], input: &[u8]) -> Output {
    let mut c = cmd(who, rt).unwrap();
    c.args(["enter", name, "--"]).args(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Wait up to 10 s for `path` to hold a line `done`.
fn wait_done(path: &str) -> String {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Ok(t) = std::fs::read_to_string(path)
            && t.lines().any(|l| l == "done")
        {
            return t;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{path} was not written");
}

/// A folder /out of `rt`'s scratch folder, of `mode`, the sandbox's on
/// the host, and the default profile with it bound writable there: its
/// path and the profile's.
fn with_out(rt: &Runtime, who: Who, mode: u32) -> (String, String) {
    let out = rt.scratch.dir("out", mode);
    rt.scratch.chown_to(who, "out");
    let profile = rt.scratch.write(
        "p.toml",
        &format!(
            "extends = \"default\"\n\n[[mount]]\ntype = \"bind\"\nsrc = \"{out}\"\ndst = \"/out\"\n"
        ),
    );
    (out, profile)
}

/// What a program inside observes of itself and of what it may do.
const PROBE: &str = r#"
id -u; id -g; hostname; pwd
for ns in user mnt pid uts ipc net cgroup time; do echo "$ns $(readlink /proc/self/ns/$ns)"; done
grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status
cat /proc/self/limits /proc/self/cgroup /proc/self/mountinfo
env | grep -v -E '^(_|SHLVL|PWD|OLDPWD)=' | sort
echo "pid 1: $(tr '\0' ' ' < /proc/1/cmdline | cut -c1-20)"
mount -t tmpfs probe /tmp 2>/dev/null; echo "mount $?"
unshare -U true 2>/dev/null; echo "unshare $?"
touch /tmp/probe 2>/dev/null; echo "write /tmp $?"
touch /usr/probe 2>/dev/null; echo "write /usr $?"
kill -0 1 2>/dev/null; echo "signal PID 1 $?"
echo done
"#;

/// The default profile and a folder /out, writable, for the probe's
/// findings; Landlock allows writing only there and in /dev, so that
/// /tmp (a tmpfs, writable as a mount) is refused by Landlock alone.
fn probe_profile(s: &Scratch, who: Who) -> String {
    let out = s.dir("out", 0o755);
    s.write("out/probe.sh", PROBE);
    s.chown_to(who, "out");
    s.write(
        "probe.toml",
        &format!(
            "extends = \"default\"\n\n[landlock]\nfrom_mounts = false\nread = [\"/\"]\nexec = [\"/usr\"]\nwrite = [\"/out\", \"/dev\"]\n\n[[mount]]\ntype = \"bind\"\nsrc = \"{out}\"\ndst = \"/out\"\n"
        ),
    )
}

both!(
    enter_sees_what_the_app_sees_and_is_refused_the_same,
    |who| {
        if !have("unshare") {
            to_stderr("skipped: unshare is not installed");
            return;
        }
        let rt = runtime(who);
        let profile = probe_profile(&rt.scratch, who);
        let out = rt.scratch.path.join("out").to_string_lossy().into_owned();
        let Some(sb) = start(
            who,
            &rt,
            &profile,
            "sh /out/probe.sh > /out/app.txt 2>&1; exec sleep 60",
        ) else {
            return;
        };
        let app = wait_done(&format!("{out}/app.txt"));
        let entered = enter(who, &rt, &sb.name, &["sh", "/out/probe.sh"], b"");
        let entered = ok(entered);
        assert_eq!(entered, app, "the entered process differs from the app");
        // And what they both see is the sandbox, not the host.
        for line in [
            "sandbox",
            "NoNewPrivs:\t1",
            "Seccomp:\t2",
            "CapEff:\t0000000000000000",
            "write /usr 1",
            "write /tmp 1",
        ] {
            assert!(app.lines().any(|l| l == line), "{line:?} in {app}");
        }
        for refused in ["mount 0", "unshare 0", "signal PID 1 0"] {
            assert!(!app.lines().any(|l| l == refused), "{refused:?} in {app}");
        }
        // Control: root's nsenter into the same namespaces sees the same
        // mounts and hostname but none of the app's limits, and the
        // comparison above tells them apart.
        if who == Who::Root && have("nsenter") {
            let init = sb.entry["child"].as_i64().unwrap();
            let app_pid = children(init as i32)
                .into_iter()
                .find(|p| comm(*p) == "sleep")
                .expect("the app's process");
            let o = Command::new("nsenter")
                .args(["-t", &app_pid.to_string(), "-a", "sh", "/out/probe.sh"])
                .output()
                .unwrap();
            let nsenter = stdout(&o);
            assert!(nsenter.contains("sandbox\n"), "{nsenter}");
            assert!(nsenter.contains("Seccomp:\t0"), "{nsenter}");
            assert_ne!(nsenter, app);
        }
    }
);

/// The children of `pid`.
fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

both!(enter_passes_input_output_and_the_exit_status, |who| {
    let rt = runtime(who);
    let Some(sb) = start(who, &rt, "default", "exec sleep 60") else {
        return;
    };
    let o = enter(who, &rt, &sb.name, &["cat"], b"through\n");
    assert_eq!(ok(o), "through\n");
    let o = enter(
        who,
        &rt,
        &sb.name,
        &["sh", "-c", "echo err >&2; exit 7"],
        b"",
    );
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(stderr(&o), "err\n");
    let o = enter(who, &rt, &sb.name, &["sh", "-c", "kill -9 $$"], b"");
    assert_eq!(o.status.code(), Some(137));
    let o = enter(who, &rt, &sb.name, &["no-such-program"], b"");
    assert_eq!(o.status.code(), Some(127));
    assert!(
        stderr(&o).contains("execvp \"no-such-program\": No such file or directory"),
        "{}",
        stderr(&o)
    );
    // No command: the app's shell ($SHELL of its environment, /bin/sh).
    let o = enter(who, &rt, &sb.name, &[], b"echo from the shell; exit 3\n");
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stdout(&o), "from the shell\n");
    // A sandbox that is not there: the launcher's own failure.
    let o = enter(who, &rt, "no-such-sandbox", &["true"], b"");
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("no running sandbox"), "{}", stderr(&o));
});

/// The host pid of a process whose command line is exactly `argv`.
fn process_running(argv: &[&str]) -> Option<i32> {
    let want: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|d| d.file_name().to_str()?.parse::<i32>().ok())
        .find(|p| std::fs::read(format!("/proc/{p}/cmdline")).ok().as_deref() == Some(&want[..]))
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what}");
}

both!(
    signals_reach_the_command_and_its_caller_takes_it_along,
    |who| {
        let rt = runtime(who);
        let Some(sb) = start(who, &rt, "default", "exec sleep 60") else {
            return;
        };
        for (signal, code) in [
            (Some(nix::sys::signal::Signal::SIGTERM), Some(143)),
            (None, None),
        ] {
            // A number no other sleep of these tests has: 4242.PIDN.
            let marker = format!("4242.{}", unique("").replace('-', ""));
            let sleep = ["sleep", marker.as_str()];
            let mut c = cmd(who, &rt).unwrap();
            c.args(["enter", &sb.name, "--"]).args(sleep);
            let mut client = c.stdin(Stdio::null()).spawn().unwrap();
            wait_for("the command starts", || process_running(&sleep).is_some());
            let caller = process_running(&[
                binary().to_str().unwrap(),
                "enter",
                &sb.name,
                "--",
                sleep[0],
                sleep[1],
            ])
            .expect("the sandbox enter process");
            let sig = signal.unwrap_or(nix::sys::signal::Signal::SIGKILL);
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(caller), sig).unwrap();
            let status = client.wait().unwrap();
            if let Some(code) = code {
                assert_eq!(status.code(), Some(code), "the command's end, passed on");
            }
            // Forwarded, or its caller gone: the command ends.
            wait_for("the command ends with its caller", || {
                process_running(&sleep).is_none()
            });
        }
    }
);

both!(the_app_cannot_use_the_socket_of_sandbox_enter, |who| {
    let rt = runtime(who);
    let Some(_) = cmd(who, &rt) else { return };
    let state = state_dir(who, &rt);
    // The folder exists before the sandbox that binds it.
    if who == Who::User {
        rt.scratch.dir("run/sandbox", 0o700);
        rt.scratch.chown_to_caller(who, "run");
    }
    let client = r#"
import array, glob, socket, sys
path = [p for p in glob.glob(sys.argv[1]) if p.endswith(".sock")][0]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
try:
    s.sendmsg([b"Etrue\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0, 1, 2]))])
except BrokenPipeError:
    pass  # refused at once: the answer is waiting
reply = s.recv(4096)
print(reply[:1].decode(), reply[6:].decode(errors="replace"))
"#;
    rt.scratch.write("client/client.py", client);
    let client_dir = rt
        .scratch
        .path
        .join("client")
        .to_string_lossy()
        .into_owned();
    // Root's app below is host root without capabilities: the folder is
    // everyone's.
    let out = rt.scratch.dir("out", 0o777);
    rt.scratch.chown_to(who, "out");
    // The state folder bound into the sandbox; root's sandbox is host
    // root (else, nobody, it could not even look into root's folder), so
    // that only the launcher's check stands in its way.
    let host_root = match who {
        Who::Root => "[user]\nhost_root = true\n",
        Who::User => "",
    };
    let profile = rt.scratch.write(
        "state.toml",
        &format!(
            "extends = \"default\"\n{host_root}\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{state}\"\ndst = \"/state\"\n\n[[mount]]\ntype = \"bind\"\nsrc = \"{out}\"\ndst = \"/out\"\n\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{client_dir}\"\ndst = \"/client\"\n"
        ),
    );
    let Some(sb) = start(
        who,
        &rt,
        &profile,
        "python3 /client/client.py '/state/*' > /out/app.txt 2>&1; echo done >> /out/app.txt; exec sleep 60",
    ) else {
        return;
    };
    let app = wait_done(&format!("{out}/app.txt"));
    assert!(
        app.starts_with("F ") && app.contains("another user namespace"),
        "the app's request is refused: {app}"
    );
    // Control: the same client on the host, as the sandbox's owner (and
    // as root, for a user's sandbox), is answered: the command starts.
    let id = sb.entry["id"].as_str().unwrap();
    let socket = format!("{state}/{id}.sock");
    let mut clients = vec![];
    match (who, is_root()) {
        (Who::User, true) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &test_user().unwrap().name, "--", PYTHON]);
            clients.push(c);
            clients.push(Command::new(PYTHON));
        }
        _ => clients.push(Command::new(PYTHON)),
    }
    for mut c in clients {
        let o = c
            .arg(format!("{client_dir}/client.py"))
            .arg(&socket)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            stdout(&o).starts_with('R'),
            "the host's caller is answered: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
});

both!(the_app_cannot_read_the_helper, |who| {
    let rt = runtime(who);
    let secret = unique("hunter2");
    let mut c = sandbox_env(
        who,
        &[
            ("XDG_RUNTIME_DIR", &rt.dir),
            ("SANDBOX_TEST_SECRET", &secret),
        ],
    )
    .unwrap_or_else(|| cmd(who, &rt).unwrap());
    let name = unique("helper");
    let (out, profile) = with_out(&rt, who, 0o755);
    // The helper is the process of the sandbox that is neither PID 1 nor
    // the app's: everything the app may read of it, tried.
    let attack = r#"for p in /proc/[0-9]*; do
  n=${p#/proc/}; [ "$n" = 1 ] || [ "$n" = $$ ] && continue
  cat $p/environ $p/cmdline 2>/dev/null | tr '\0' '\n' | grep -c SANDBOX_TEST_""SECRET=
  python3 -c "
import sys
try:
    maps = open('$p/maps').read().split(chr(10))
    mem = open('$p/mem', 'rb')
    print('read mem')
except OSError as e:
    print('refused', e.errno)
"
  ls $p/fd/ 2>&1 | head -1
done > /out/attack.txt 2>&1; echo done >> /out/attack.txt; exec sleep 60"#;
    c.args([
        "run",
        "--name",
        &name,
        &profile,
        "--command",
        "--",
        "/bin/sh",
        "-c",
        attack,
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null());
    let child = c.spawn().unwrap();
    let entry = listed(who, &rt, &name);
    let _sb = Running {
        who,
        name: name.clone(),
        child,
        entry: entry.clone(),
    };
    let found = wait_done(&format!("{out}/attack.txt"));
    assert!(
        found.contains("refused 13"),
        "the helper's memory is out of reach: {found}"
    );
    assert!(!found.contains("read mem"), "{found}");
    assert!(
        !found.lines().any(|l| l.parse::<u32>().is_ok_and(|n| n > 0)),
        "{found}"
    );
    // Control: the secret is in the helper's memory (a copy of the
    // launcher's), where a process allowed to read it finds it.
    if who == Who::Root {
        let init = entry["child"].as_i64().unwrap() as i32;
        let helper = children(init)
            .into_iter()
            .find(|p| comm(*p) == "sandbox")
            .expect("the helper");
        assert!(
            memory_holds(helper, secret.as_bytes()),
            "the control finds the secret"
        );
    }
});

/// Whether `needle` is in the writable memory of process `pid` (root).
fn memory_holds(pid: i32, needle: &[u8]) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let Ok(mut mem) = std::fs::File::open(format!("/proc/{pid}/mem")) else {
        return false;
    };
    for l in maps.lines() {
        let mut f = l.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else {
            continue;
        };
        if !perms.starts_with("rw") {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
            continue;
        };
        let mut buf = vec![0u8; (b - a) as usize];
        if mem.seek(SeekFrom::Start(a)).is_ok()
            && mem.read_exact(&mut buf).is_ok()
            && buf.windows(needle.len()).any(|w| w == needle)
        {
            return true;
        }
    }
    false
}

#[test]
fn another_user_can_neither_enter_nor_stop() {
    if !is_root() || test_user().is_none() {
        to_stderr("skipped: needs root and SANDBOX_TEST_USER");
        return;
    }
    let rt = runtime(Who::Root);
    let Some(sb) = start(Who::Root, &rt, "default", "exec sleep 60") else {
        return;
    };
    let user_rt = runtime(Who::User);
    let id = sb.entry["id"].as_str().unwrap().to_string();
    for which in [&sb.name, &id] {
        let o = enter(Who::User, &user_rt, which, &["true"], b"");
        assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
        let o = cmd(Who::User, &user_rt)
            .unwrap()
            .args(["stop", which])
            .output()
            .unwrap();
        assert_ne!(o.status.code(), Some(0));
    }
    // Nor straight at the socket: the folder is root's alone.
    let o = Command::new("runuser")
        .args(["-u", &test_user().unwrap().name, "--", PYTHON, "-c"])
        .arg(format!(
            "import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect('/run/sandbox/{id}.sock')"
        ))
        .output()
        .unwrap();
    assert!(stderr(&o).contains("PermissionError"), "{}", stderr(&o));
    // Still running, and root may enter it.
    let o = enter(Who::Root, &rt, &sb.name, &["true"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

both!(join_or_start_starts_once_then_enters, |who| {
    let rt = runtime(who);
    let name = unique("join");
    let join = |args: &[&str]| {
        let mut c = cmd(who, &rt).unwrap();
        c.args(["run", "--join-or-start", &name, "default", "--"])
            .args(args)
            .stdin(Stdio::null());
        c
    };
    let Some(_) = cmd(who, &rt) else { return };
    let first = join(&["sh", "-c", "echo first > /tmp/mark; exec sleep 60"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let entry = listed(who, &rt, &name);
    let _sb = Running {
        who,
        name: name.clone(),
        child: first,
        entry,
    };
    wait_for("the first run writes its mark", || {
        join(&["cat", "/tmp/mark"])
            .output()
            .is_ok_and(|o| stdout(&o) == "first\n")
    });
    let count = ps(who, &rt)
        .iter()
        .filter(|e| e["name"] == name.as_str())
        .count();
    assert_eq!(count, 1, "one sandbox of that name");
    // Overrides cannot change the running sandbox: refused, not dropped.
    // Control: the same command without them joins.
    let mut c = cmd(who, &rt).unwrap();
    c.args([
        "run",
        "--join-or-start",
        &name,
        "default",
        "--hostname",
        "other",
    ])
    .args(["--", "cat", "/tmp/mark"]);
    let o = c.stdin(Stdio::null()).output().unwrap();
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("overrides"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "the command did not run");
    assert_eq!(
        stdout(&join(&["cat", "/tmp/mark"]).output().unwrap()),
        "first\n"
    );
    // A different profile under that name: refused.
    let o = cmd(who, &rt)
        .unwrap()
        .args(["run", "--join-or-start", &name, "python3", "--", "-c", "1"])
        .output()
        .unwrap();
    if o.status.code() != Some(127) {
        assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("runs profile default"),
            "{}",
            stderr(&o)
        );
    }
});

both!(join_or_start_at_once_starts_one, |who| {
    let rt = runtime(who);
    let name = unique("race");
    let Some(_) = cmd(who, &rt) else { return };
    let runs: Vec<Child> = (0..3)
        .map(|_| {
            cmd(who, &rt)
                .unwrap()
                .args([
                    "run",
                    "--join-or-start",
                    &name,
                    "default",
                    "--",
                    "sleep",
                    "3",
                ])
                .stdin(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let entry = listed(who, &rt, &name);
    std::thread::sleep(Duration::from_millis(500));
    let count = ps(who, &rt)
        .iter()
        .filter(|e| e["name"] == name.as_str())
        .count();
    assert_eq!(count, 1, "three at once start one sandbox");
    // Each ran `sleep 3`: the one that started the sandbox, and those that
    // entered it, unless the sandbox (its app, the first `sleep 3`) ended
    // first, which ends them too.
    for r in runs {
        let o = r.wait_with_output().unwrap();
        assert!(
            o.status.success() || stderr(&o).contains("the sandbox ended"),
            "{}",
            stderr(&o)
        );
    }
    let _ = entry;
});

both!(ps_tree_shows_the_processes_inside, |who| {
    let rt = runtime(who);
    let Some(sb) = start(who, &rt, "default", "exec sleep 61") else {
        return;
    };
    let text = ok(cmd(who, &rt)
        .unwrap()
        .args(["ps", "--tree"])
        .output()
        .unwrap());
    let after: String = text
        .lines()
        .skip_while(|l| !l.contains(&sb.name))
        .take(6)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(after.contains("sleep 61"), "{text}");
    assert_eq!(sb.entry["enter"], true);
    assert_eq!(sb.entry["network"]["mode"], "none");
});

both!(without_the_helper_enter_says_why, |who| {
    let rt = runtime(who);
    let profile = rt.scratch.write(
        "noenter.toml",
        "extends = \"default\"\n\n[process]\nenter = false\n",
    );
    let plan = ok(cmd(who, &rt)
        .unwrap()
        .args(["plan", &profile, "--", "true"])
        .output()
        .unwrap());
    assert!(
        plan.contains("state entry for sandbox ps and stop:"),
        "{plan}"
    );
    assert!(!plan.contains("helper"), "{plan}");
    let Some(sb) = start(who, &rt, &profile, "exec sleep 60") else {
        return;
    };
    assert_eq!(sb.entry["enter"], false);
    let o = enter(who, &rt, &sb.name, &["true"], b"");
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("process.enter = false"),
        "{}",
        stderr(&o)
    );
    // Asked for where it cannot be: an error at its line.
    let bad = rt.scratch.write(
        "bad.toml",
        "extends = \"default\"\n\n[process]\nenter = true\ncapabilities = [\"CAP_SYS_PTRACE\"]\n",
    );
    let o = cmd(who, &rt)
        .unwrap()
        .args(["check", &bad])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("bad.toml:4:9"), "{}", stderr(&o));
});

both!(
    the_helper_killed_by_the_app_makes_enter_fail_cleanly,
    |who| {
        let rt = runtime(who);
        // The app ends the helper: the process of its sandbox that runs
        // sandbox's binary and is not PID 1.
        let Some(sb) = start(
            who,
            &rt,
            "default",
            "for p in /proc/[0-9]*; do n=${p#/proc/}; [ $n != 1 ] && [ $n != $$ ] && grep -q sandbox $p/cmdline 2>/dev/null && kill -9 $n; done; exec sleep 60",
        ) else {
            return;
        };
        let started = Instant::now();
        let mut o = enter(who, &rt, &sb.name, &["true"], b"");
        // The kill may come after the first try.
        while o.status.code() == Some(0) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(100));
            o = enter(who, &rt, &sb.name, &["true"], b"");
        }
        assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
        assert!(stderr(&o).contains("helper"), "{}", stderr(&o));
        // The sandbox itself goes on.
        assert!(ps(who, &rt).iter().any(|e| e["name"] == sb.name.as_str()));
    }
);

both!(a_killed_launcher_leaves_no_socket_after_ps, |who| {
    let rt = runtime(who);
    let Some(sb) = start(who, &rt, "default", "exec sleep 60") else {
        return;
    };
    let id = sb.entry["id"].as_str().unwrap().to_string();
    let socket = format!("{}/{id}.sock", state_dir(who, &rt));
    assert!(exists(&socket), "the socket is there while it runs");
    let launcher = sb.entry["launcher"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(launcher),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Gone, or a zombie its parent (this test, for root) has not reaped.
    wait_for("the launcher is gone", || {
        std::fs::read_to_string(format!("/proc/{launcher}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true)
    });
    // Its sandbox dies with it; its entry and socket, stale, go at the
    // next `sandbox ps`.
    let _ = ps(who, &rt);
    assert!(!exists(&socket), "the stale socket is removed");
    assert!(!exists(&format!("{}/{id}.json", state_dir(who, &rt))));
    let o = enter(who, &rt, &sb.name, &["true"], b"");
    assert_eq!(o.status.code(), Some(125));
});

both!(ps_shows_control_characters_escaped, |who| {
    let rt = runtime(who);
    // A command line with a terminal's escape sequence and a newline,
    // which root's `sandbox ps` would otherwise print to its terminal.
    let Some(sb) = start(who, &rt, "default", "exec sleep 62 # \x1b[31m\nred") else {
        return;
    };
    for args in [&["ps"][..], &["ps", "--tree"]] {
        let text = ok(cmd(who, &rt).unwrap().args(args).output().unwrap());
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("\\x1b[31m\\x0ared"), "{text}");
    }
    let _ = sb;
});

both!(an_entry_swapped_for_a_fifo_does_not_hang_ps, |who| {
    let rt = runtime(who);
    let Some(_) = cmd(who, &rt) else { return };
    if who == Who::Root {
        // Root's own folder is shared with the tests running now.
        to_stderr("skipped: as root, this test would plant files in /run/sandbox");
        return;
    }
    let folder = rt.scratch.dir("run/sandbox", 0o700);
    rt.scratch.chown_to_caller(who, "run");
    // An entry file and a link to a FIFO, exchanged again and again while
    // `sandbox ps` reads the folder: a read that followed the link would
    // wait for a writer forever.
    let fifo = rt.scratch.path.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o666)).unwrap();
    let a = format!("{folder}/1-1.json");
    let b = format!("{folder}/2-1.json");
    std::fs::write(&a, "{}").unwrap();
    std::os::unix::fs::symlink(&fifo, &b).unwrap();
    rt.scratch.chown_to_caller(who, "run");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapping = {
        let stop = stop.clone();
        let (a, b) = (
            std::ffi::CString::new(a.clone()).unwrap(),
            std::ffi::CString::new(b.clone()).unwrap(),
        );
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: two valid C strings; the call only renames.
                unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
            }
        })
    };
    for _ in 0..30 {
        let mut c = cmd(who, &rt).unwrap();
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let mut child = c
            .arg("ps")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        let done = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() > until {
                // runuser's child too: the whole group.
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(child.id() as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if done.is_none() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!("sandbox ps hung on an entry swapped for a FIFO");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapping.join().unwrap();
});

/// The Python client of the socket of `sandbox enter` (enter.rs's
/// messages): sends `true` with descriptors 0-2 to every socket in the
/// folder argv[1] names, prints the first byte of each answer and its
/// text.
const CLIENT: &str = r#"
import array, glob, socket, sys
for path in sorted(glob.glob(sys.argv[1] + "/*.sock")):
    # Other tests' sandboxes come and go meanwhile.
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        try:
            s.sendmsg([b"Etrue\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0, 1, 2]))])
        except BrokenPipeError:
            pass
        reply = s.recv(4096)
    except OSError as e:
        print("E", e)
        continue
    print(reply[:1].decode(), reply[6:].decode(errors="replace"))
print("done")
"#;

#[test]
fn a_root_sandbox_without_namespaces_cannot_enter_another() {
    if !is_root() {
        to_stderr("skipped: needs root");
        return;
    }
    let rt = runtime(Who::Root);
    let Some(_victim) = start(Who::Root, &rt, "default", "exec sleep 60") else {
        return;
    };
    // An app that is host root in the host's user, mount and pid
    // namespaces, with the state folder in view: only its no_new_privs
    // tells it from a host process.
    let client = rt.scratch.write("client.py", CLIENT);
    let profile = rt.scratch.write(
        "bare.toml",
        "command = [\"/bin/sh\"]\narguments = \"replace\"\n\n[namespaces]\nuser = false\nmount = false\npid = false\nnet = false\nipc = false\nuts = false\ncgroup = false\n\n[user]\nsandwich = false\n\n[landlock]\nexec = [\"/usr\"]\n",
    );
    let o = sandbox(Who::Root)
        .unwrap()
        .args(["run", &profile, "--", PYTHON, &client, "/run/sandbox"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = ok(o);
    assert!(text.contains("no_new_privs"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with('R')), "entered: {text}");
    // Control: the same client as root on the host is answered.
    let o = Command::new(PYTHON)
        .args([&client, "/run/sandbox"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        stdout(&o).lines().any(|l| l.starts_with('R')),
        "{}",
        stdout(&o)
    );
}

both!(a_socket_replaced_by_an_app_is_refused_by_enter, |who| {
    let rt = runtime(who);
    let Some(_) = cmd(who, &rt) else { return };
    let Some(victim) = start(who, &rt, "default", "exec sleep 60") else {
        return;
    };
    let state = state_dir(who, &rt);
    let id = victim.entry["id"].as_str().unwrap().to_string();
    // The app of a sandbox whose profile binds the state folder writable
    // puts its own listener in the victim's socket's place. (Root's
    // sandbox is host root, or nobody could write root's folder.)
    let host_root = match who {
        Who::Root => "[user]\nhost_root = true\n",
        Who::User => "",
    };
    let profile = rt.scratch.write(
        "bind.toml",
        &format!(
            "extends = \"default\"\n{host_root}\n[[mount]]\ntype = \"bind\"\nsrc = \"{state}\"\ndst = \"/state\"\n"
        ),
    );
    let fake = format!(
        "import os, socket, time\np = '/state/{id}.sock'\nos.unlink(p)\ns = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\ns.bind(p)\ns.listen(8)\nopen('/state/{id}.fake', 'w').close()\ntime.sleep(60)\n"
    );
    let mut c = cmd(who, &rt).unwrap();
    c.args(["run", &profile, "--command", "--", PYTHON, "-c", &fake])
        .stdin(Stdio::null());
    let mut attacker = c.spawn().unwrap();
    wait_for("the app replaced the socket", || {
        exists(&format!("{state}/{id}.fake"))
    });
    let o = enter(who, &rt, &victim.name, &["true"], b"");
    let _ = attacker.kill();
    let _ = attacker.wait();
    let _ = std::fs::remove_file(format!("{state}/{id}.fake"));
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not its launcher's"),
        "{}",
        stderr(&o)
    );
});

both!(the_app_keeps_nothing_of_the_callers_streams, |who| {
    let rt = runtime(who);
    let (out, profile) = with_out(&rt, who, 0o777);
    // The app takes the entered command's standard output (pidfd_getfd:
    // the same uid in the same domain may), keeps it after the command and
    // `sandbox enter` have ended, and writes to it.
    let thief = r#"
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
def find():
    for p in os.listdir("/proc"):
        try:
            if open(f"/proc/{p}/cmdline", "rb").read() == b"sleep\0" + b"1.5\0":
                return int(p)
        except OSError:
            pass
pid = None
while pid is None:
    pid = find()
pidfd = libc.syscall(434, pid, 0)
fd = libc.syscall(438, pidfd, 1, 0)
log = open("/out/app.txt", "w", buffering=1)
if fd < 0:
    log.write(f"steal refused {ctypes.get_errno()}\ndone\n")
    raise SystemExit
log.write("stolen\n"); log.flush()
while find() is not None:
    time.sleep(0.05)
time.sleep(1)
try:
    os.write(fd, b"INJECTED\n")
    log.write("written\n")
except OSError as e:
    log.write(f"write failed {e.errno}\n")
log.write("done\n")
time.sleep(60)
"#;
    let Some(sb) = start(who, &rt, &profile, &format!("exec python3 -c '{thief}'")) else {
        return;
    };
    let o = enter(who, &rt, &sb.name, &["sleep", "1.5"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    // `output()` read standard output to its end: the app's copy does not
    // keep it open. And what the app wrote later went nowhere.
    assert!(!stdout(&o).contains("INJECTED"), "{}", stdout(&o));
    let app = wait_done(&format!("{out}/app.txt"));
    if app.contains("steal refused") {
        to_stderr(&format!(
            "skipped: the kernel refuses pidfd_getfd here: {app}"
        ));
        return;
    }
    assert!(app.contains("stolen"), "the attack works: {app}");
    assert!(
        app.contains("write failed 32") || app.contains("written"),
        "{app}"
    );
});

both!(a_stopped_helper_starts_nothing_for_a_caller_gone, |who| {
    let rt = runtime(who);
    let (out, profile) = with_out(&rt, who, 0o777);
    // The app stops the helper, and lets it go on once `sandbox enter`
    // has given up.
    let app = "for p in /proc/[0-9]*; do n=${p#/proc/}; [ $n != 1 ] && [ $n != $$ ] && grep -q sandbox $p/cmdline 2>/dev/null && h=$n; done; kill -STOP $h; echo stopped > /out/state; while [ ! -e /out/go ]; do sleep 0.1; done; kill -CONT $h; sleep 1; echo done >> /out/state; exec sleep 60";
    let Some(sb) = start(who, &rt, &profile, app) else {
        return;
    };
    wait_for("the app stopped the helper", || {
        exists(&format!("{out}/state"))
    });
    let o = enter(
        who,
        &rt,
        &sb.name,
        &["sh", "-c", "echo ran > /out/ran"],
        b"",
    );
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("did not answer"), "{}", stderr(&o));
    std::fs::write(format!("{out}/go"), "").unwrap();
    wait_done(&format!("{out}/state"));
    assert!(
        !exists(&format!("{out}/ran")),
        "the command ran for a caller gone"
    );
});

both!(a_bind_over_the_state_folder_hides_it, |who| {
    let rt = runtime(who);
    let Some(_) = cmd(who, &rt) else { return };
    let Some(other) = start(who, &rt, "default", "exec sleep 60") else {
        return;
    };
    // Something in the runtime folder's `sandbox` for root as well, whose
    // entries are in /run/sandbox.
    if who == Who::Root {
        rt.scratch.dir("run/sandbox", 0o700);
        rt.scratch.write("run/sandbox/x.json", "{}");
    }
    let profile = rt.scratch.write(
        "p.toml",
        &format!(
            "extends = \"default\"\n\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{}\"\ndst = \"/rt\"\n",
            rt.dir
        ),
    );
    let o = cmd(who, &rt)
        .unwrap()
        .args(["run", &profile, "--command", "--", "/bin/sh", "-c"])
        .arg("ls -A /rt/sandbox | wc -l")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        ok(o).trim(),
        "0",
        "the state folder is hidden inside the bind"
    );
    let _ = other;
});
