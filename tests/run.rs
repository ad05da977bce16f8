//! `sandbox run` for real: each test starts the built binary and asserts
//! what a program inside observes. Every test runs as root and as an
//! unprivileged user (see tests/common).

mod common;
use common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

both!(every_namespace_is_new, |who| {
    let Some(out) = run_sh(
        who,
        "default",
        "for n in user mnt pid ipc uts net cgroup; do echo $n $(readlink /proc/self/ns/$n); done",
    ) else {
        return;
    };
    let inside = ok(out);
    for line in inside.lines() {
        let (kind, id) = line.split_once(' ').unwrap();
        let host = std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap();
        assert_ne!(id, host.to_string_lossy(), "{kind} namespace is the host's");
    }
    assert_eq!(inside.lines().count(), 7);
});

both!(ids_are_the_callers_and_mapped_to_one_id, |who| {
    let Some(out) = run_sh(
        who,
        "default",
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map",
    ) else {
        return;
    };
    let text = ok(out);
    let lines: Vec<&str> = text.lines().collect();
    let (uid, gid) = caller_ids(who);
    assert_eq!(lines[0], uid.to_string());
    assert_eq!(lines[1], gid.to_string());
    let uid_map: Vec<&str> = lines[2].split_whitespace().collect();
    let gid_map: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(uid_map[0], uid.to_string());
    assert_eq!(uid_map[2], "1", "one id mapped: {text}");
    assert_eq!(gid_map[0], gid.to_string());
    assert_eq!(gid_map[2], "1");
});

both!(hostname_and_pid_one, |who| {
    let Some(out) = run_sh(
        who,
        "default",
        "hostname; echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'",
    ) else {
        return;
    };
    let text = ok(out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "sandbox");
    assert_eq!(lines[1], "2", "the app is PID 2 under the init");
    assert!(
        lines[2].contains("sandbox"),
        "PID 1 is the sandbox's init: {}",
        lines[2]
    );
    let procs: usize = lines[3].parse().unwrap();
    // PID 1, the shell, ls and grep, and the helper of `sandbox enter`.
    assert!(
        procs <= 5,
        "only the sandbox's processes are visible, saw {procs}"
    );
});

both!(only_planned_mounts_are_visible, |who| {
    let Some(out) = run_sh(who, "default", "cut -d' ' -f5 /proc/self/mountinfo") else {
        return;
    };
    let home = caller_home(who);
    let text = ok(out);
    let mut seen: Vec<&str> = text.lines().collect();
    seen.sort();
    let mut want = vec![
        "/",
        "/dev",
        "/dev/full",
        "/dev/null",
        "/dev/pts",
        "/dev/random",
        "/dev/shm",
        "/dev/tty",
        "/dev/urandom",
        "/dev/zero",
        "/etc/ld.so.cache",
        "/proc",
        "/proc/bus",
        "/proc/irq",
        "/proc/sys",
        "/run",
        "/tmp",
        "/usr",
        home.as_str(),
    ];
    // Pressure stall information, where the kernel has it.
    if std::path::Path::new("/proc/pressure").exists() {
        want.push("/proc/pressure");
    }
    // The base fragment's optional binds, where the host has them (as
    // files or directories; links are recreated, not mounted).
    for optional in [
        "/etc/ld.so.conf",
        "/etc/ld.so.conf.d",
        "/etc/locale.alias",
        "/etc/alternatives",
    ] {
        if std::fs::symlink_metadata(optional).is_ok_and(|m| !m.file_type().is_symlink()) {
            want.push(optional);
        }
    }
    want.sort();
    assert_eq!(seen, want);
});

both!(
    read_only_binds_refuse_writes_and_tmpfs_accepts_them,
    |who| {
        let Some(out) = run_sh(
            who,
            "default",
            "touch /usr/x 2>&1; touch /x 2>&1; echo hi > /tmp/f && cat /tmp/f; echo data > ~/f && cat ~/f",
        ) else {
            return;
        };
        let text = ok(out);
        assert!(
            text.contains("touch: cannot touch '/usr/x': Read-only file system"),
            "{text}"
        );
        assert!(
            text.contains("touch: cannot touch '/x': Read-only file system"),
            "{text}"
        );
        assert!(text.contains("hi\n") && text.contains("data\n"), "{text}");
    }
);

both!(each_mount_type_has_its_effect, |who| {
    let s = Scratch::new("types");
    let ro = s.dir("ro", 0o755);
    let rw = s.dir("ro/rw", 0o777);
    s.write("ro/file.txt", "from the host\n");
    let profile = s.write(
        "p.toml",
        &format!(
            r#"
extends = ["default"]
[[mount]]
type = "ro-bind"
src = "{ro}"
dst = "/data"
[[mount]]
type = "bind"
src = "{rw}"
dst = "/data/rw"
[[mount]]
type = "tmpfs"
dst = "/small"
size = "1M"
mode = "0700"
[[mount]]
type = "symlink"
src = "/data/file.txt"
dst = "/link"
[[mount]]
type = "file"
dst = "/etc/motd"
content = "hello ${{USER}}\n"
mode = "0600"
[[mount]]
type = "dir"
dst = "/opt/empty"
mode = "0750"
[[mount]]
type = "mqueue"
dst = "/dev/mqueue"
"#
        ),
    );
    let script = "cat /data/file.txt; touch /data/x 2>&1; echo w > /data/rw/out && echo rw-ok; \
                  stat -c '%a' /small; dd if=/dev/zero of=/small/big bs=1M count=2 2>&1 | grep -o 'No space left on device' | head -1; \
                  readlink /link; cat /link; cat /etc/motd; stat -c '%a' /etc/motd /opt/empty; \
                  grep -c ' /dev/mqueue ' /proc/self/mountinfo; ls /dev | tr '\\n' ' '";
    let Some(out) = run_sh(who, &profile, script) else {
        return;
    };
    let text = ok(out);
    let user = if who == Who::Root {
        "root".to_string()
    } else {
        test_user()
            .map(|u| u.name)
            .unwrap_or_else(|| std::env::var("USER").unwrap_or_default())
    };
    let expected = format!(
        "from the host\ntouch: cannot touch '/data/x': Read-only file system\nrw-ok\n700\nNo space left on device\n/data/file.txt\nfrom the host\nhello {user}\n600\n750\n1\n"
    );
    assert!(
        text.starts_with(&expected),
        "got:\n{text}\nwanted to start with:\n{expected}"
    );
    let devs = text.lines().last().unwrap();
    assert_eq!(
        devs.trim(),
        "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"
    );
    assert_eq!(
        std::fs::read_to_string(s.path.join("ro/rw/out")).unwrap(),
        "w\n",
        "the writable sub-bind wrote to the host"
    );
});

both!(exit_codes, |who| {
    let code = |profile: &str, args: &[&str]| {
        let mut c = sandbox(who)?;
        c.arg("run").arg(profile).arg("--").args(args);
        Some(c.stdin(Stdio::null()).output().unwrap())
    };
    let Some(o) = code("default", &["/bin/true"]) else {
        return;
    };
    assert_eq!(o.status.code(), Some(0));
    let o = code("default", &["/bin/sh", "-c", "exit 42"]).unwrap();
    assert_eq!(o.status.code(), Some(42));
    let o = code("default", &["/bin/sh", "-c", "kill -TERM $$"]).unwrap();
    assert_eq!(o.status.code(), Some(128 + 15));
    let (mounts, tmp) = (host_mounts(), tmp_entries());
    let o = code("default", &["/no/such/program"]).unwrap();
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert_eq!(
        (host_mounts(), tmp_entries()),
        (mounts, tmp),
        "a failed exec left something behind"
    );
    // Said before anything starts, not as a failed exec.
    assert!(
        stderr(&o).contains("error: '/no/such/program' is not installed: there is no such file"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("step "), "{}", stderr(&o));
    let o = code("default", &["no-such-program-anywhere"]).unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert!(
        stderr(&o).contains("error: 'no-such-program-anywhere' is not installed: it is in no folder of the sandbox's PATH"),
        "{}",
        stderr(&o)
    );
    let o = code("default", &["/etc/passwd"]).unwrap();
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    let o = code("/nonexistent/profile.toml", &["/bin/true"]).unwrap();
    assert_eq!(o.status.code(), Some(125));
});

// Also when the app owns a pid namespace: there it runs under an init of
// its own, which forwards as the sandbox's PID 1 does, and the exit
// status comes back through the relay.
both!(signals_are_forwarded_to_the_app, |who| {
    let s = Scratch::new("signals");
    let own_pid = s.write(
        "own-pid.toml",
        "extends = [\"default\"]\n[user]\nown_namespaces = [\"pid\"]\n",
    );
    for profile in ["default", own_pid.as_str()] {
        for (script, want) in [
            (
                "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
                Some(7),
            ),
            ("echo ready; exec sleep 30", Some(128 + libc::SIGTERM)),
        ] {
            let Some(mut c) = sandbox(who) else { return };
            c.args(["run", profile, "--", "/bin/sh", "-c", script]);
            let mut child = c
                .stdout(Stdio::piped())
                .stdin(Stdio::null())
                .spawn()
                .unwrap();
            let mut out = child.stdout.take().unwrap();
            let mut buf = [0u8; 6];
            std::io::Read::read_exact(&mut out, &mut buf).unwrap();
            assert_eq!(&buf, b"ready\n");
            // runuser sits between us and the launcher when run as the test user.
            signal_tree(child.id(), libc::SIGTERM);
            let status = child.wait().unwrap();
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
            if want == Some(7) {
                assert!(
                    rest.contains("got-term"),
                    "{profile}: the app saw TERM: {rest:?}"
                );
            }
            assert_eq!(status.code(), want, "{profile}: {script}");
        }
    }
});

/// Send `sig` to the sandbox launcher under `pid` (itself, or its child
/// when `pid` is runuser).
fn signal_tree(pid: u32, sig: i32) {
    let launcher = launcher_pid(pid);
    // SAFETY: kill with a pid we started.
    unsafe { libc::kill(launcher as i32, sig) };
}

fn launcher_pid(pid: u32) -> u32 {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() == "runuser" {
        for _ in 0..100 {
            if let Ok(children) =
                std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                && let Some(c) = children.split_whitespace().next()
            {
                return c.parse().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    pid
}

both!(zombies_are_reaped_by_the_init, |who| {
    let script = "sh -c 'sleep 0.1 & sleep 0.1 & exit 0'; sleep 1; grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l";
    let Some(out) = run_sh(who, "default", script) else {
        return;
    };
    assert_eq!(ok(out).trim(), "0", "orphans left as zombies");
});

both!(the_app_dies_with_the_launcher, |who| {
    if !need(&["pgrep"]) {
        return;
    }
    // A command line no other test runs (a plain `sleep 30` of another
    // test, running meanwhile, once matched and failed this one).
    let marker = format!(
        "sleep 3{}.{}",
        std::process::id() % 1000,
        std::process::id()
    );
    let Some(mut c) = sandbox(who) else { return };
    c.args([
        "run",
        "default",
        "--",
        "/bin/sh",
        "-c",
        &format!("echo ready; exec {marker}"),
    ]);
    let mut child = c
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut buf).unwrap();
    let launcher = launcher_pid(child.id());
    // SAFETY: killing the launcher we started.
    unsafe { libc::kill(launcher as i32, libc::SIGKILL) };
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive = std::process::Command::new("pgrep")
            .args(["-f", &format!("^{marker}$")])
            .output()
            .unwrap();
        if !alive.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the app outlived the launcher: {}",
            stdout(&alive)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
});

both!(environment_and_cwd, |who| {
    let Some(mut c) = sandbox(who) else { return };
    c.env("SECRET_TOKEN", "leak")
        .env("TERM", "xterm-test")
        .env("LC_PAPER", "fr_FR.UTF-8");
    if who == Who::User && is_root() {
        // runuser's env -i drops the variables: pass them through it.
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        c = std::process::Command::new("runuser");
        c.args(&args[..5])
            .args([
                "SECRET_TOKEN=leak",
                "TERM=xterm-test",
                "LC_PAPER=fr_FR.UTF-8",
            ])
            .args(&args[5..]);
    }
    c.args([
        "run",
        "default",
        "--",
        "/bin/sh",
        "-c",
        "pwd; echo \"${SECRET_TOKEN:-unset} $TERM $LC_PAPER $HOME\"; echo $PATH",
    ]);
    let text = ok(c.stdin(Stdio::null()).output().unwrap());
    let home = caller_home(who);
    assert_eq!(
        text,
        format!(
            "{home}\nunset xterm-test fr_FR.UTF-8 {home}\n/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin\n"
        )
    );
});

both!(no_descriptor_leaks_into_the_sandbox, |who| {
    use std::os::unix::process::CommandExt;
    let Some(mut c) = sandbox(who) else { return };
    c.args([
        "run",
        "default",
        "--",
        "/bin/sh",
        "-c",
        "ls /proc/self/fd | sort -n | tr '\\n' ' '",
    ]);
    // SAFETY: dup2 in the child before exec; fd 9 is left open on purpose.
    unsafe {
        c.pre_exec(|| {
            libc::dup2(2, 9);
            Ok(())
        });
    }
    let text = ok(c.stdin(Stdio::null()).output().unwrap());
    // ls itself holds one descriptor for the directory it reads.
    assert_eq!(text.trim(), "0 1 2 3", "descriptors inside: {text}");
});

both!(security_status_of_the_app, |who| {
    let Some(out) = run_sh(
        who,
        "default",
        "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t' ' '",
    ) else {
        return;
    };
    let text = ok(out);
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert!(
            text.contains(&format!("{cap}: 0000000000000000")),
            "{cap} not empty:\n{text}"
        );
    }
    assert!(text.contains("NoNewPrivs: 1"), "{text}");
    assert!(text.contains("Seccomp: 2"), "{text}");
});

both!(
    a_missing_bind_source_fails_at_its_line_and_leaves_nothing,
    |who| {
        let s = Scratch::new("missing");
        let profile = s.write("p.toml", "extends = [\"default\"]\n\n[[mount]]\ntype = \"bind\"\nsrc = \"/no/such/dir\"\ndst = \"/x\"\n");
        let (mounts, tmp) = (host_mounts(), tmp_entries());
        let Some(out) = run_sh(who, &profile, "true") else {
            return;
        };
        assert_eq!(out.status.code(), Some(125));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "{profile}:5:7: error: bind source '/no/such/dir' does not exist"
            )),
            "{err}"
        );
        assert_eq!(host_mounts(), mounts);
        assert_eq!(tmp_entries(), tmp);
    }
);

both!(
    a_destination_inside_a_read_only_mount_fails_with_the_step,
    |who| {
        let s = Scratch::new("rodst");
        let data = s.dir("data", 0o755);
        let profile = s.write(
        "p.toml",
        &format!("extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{data}\"\ndst = \"/data\"\n[[mount]]\ntype = \"tmpfs\"\ndst = \"/data/new/sub\"\n"),
    );
        let mounts = host_mounts();
        let Some(out) = run_sh(who, &profile, "true") else {
            return;
        };
        assert_eq!(out.status.code(), Some(125));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{profile}:7:8: error: step")),
            "{err}"
        );
        assert!(
            err.contains("hint: the destination lies inside a read-only mount"),
            "{err}"
        );
        assert!(
            err.contains("tmpfs /data/new/sub") && err.contains("Read-only file system"),
            "{err}"
        );
        assert!(
            !s.path.join("data/new").exists(),
            "created a directory on the host"
        );
        assert_eq!(host_mounts(), mounts);
    }
);

both!(a_bad_rootfs_fails_cleanly, |who| {
    let s = Scratch::new("badroot");
    let file = s.write("not-a-dir", "x");
    let profile = s.write("p.toml", &format!("[filesystem]\nroot = \"{file}\"\n"));
    let Some(out) = run_sh(who, &profile, "true") else {
        return;
    };
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains(&format!(
            "{profile}:2:8: error: root filesystem '{file}' is not a directory"
        )),
        "{}",
        stderr(&out)
    );
});

both!(a_rootfs_directory_becomes_the_root, |who| {
    let Some(busybox) = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| have(p))
    else {
        cannot("needs busybox-static (apt-get install busybox-static)");
        return;
    };
    let s = Scratch::new("rootfs");
    let root = s.dir("root", 0o755);
    s.dir("root/bin", 0o755);
    std::fs::copy(busybox, s.path.join("root/bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", s.path.join("root/bin/sh")).unwrap();
    s.write("root/etc/os-release", "NAME=tiny\n");
    s.chown_to(who, "root");
    let profile = s.write(
        "p.toml",
        &format!("[filesystem]\nroot = \"{root}\"\n[uts]\nhostname = \"tiny\"\n[[mount]]\ntype = \"proc\"\ndst = \"/proc\"\n[[mount]]\ntype = \"tmpfs\"\ndst = \"/tmp\"\n"),
    );
    let Some(out) = run_sh(
        who,
        &profile,
        "/bin/busybox cat /etc/os-release; /bin/busybox hostname; echo $$; /bin/busybox ls /",
    ) else {
        return;
    };
    let text = ok(out);
    assert_eq!(text, "NAME=tiny\ntiny\n2\nbin\netc\nproc\ntmp\n");
});

both!(timeout_stops_the_sandbox, |who| {
    let profile = "extends = [\"default\"]\n[process]\ntimeout = \"300ms\"\n";
    let start = Instant::now();
    let Some(out) = run_profile(who, profile, "sleep 20") else {
        return;
    };
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
    assert!(start.elapsed() < Duration::from_secs(10));
});

both!(
    without_a_user_namespace_root_drops_to_the_profile_ids,
    |who| {
        let profile = "extends = [\"default\"]\n[namespaces]\nuser = false\n[user]\nuid = 65534\ngid = 65534\n[process]\ncwd = \"/\"\ncapabilities = [\"CAP_NET_BIND_SERVICE\"]\n";
        let script = "id -u; id -g; id -G; head -1 /proc/self/uid_map | tr -s ' '; grep -E '^Cap(Eff|Prm|Bnd|Amb):' /proc/self/status | tr -s '\\t' ' '";
        let Some(out) = run_profile(who, profile, script) else {
            return;
        };
        if who == Who::User {
            assert_eq!(out.status.code(), Some(125));
            assert!(
                stderr(&out)
                    .contains("without a user namespace the sandbox can only be set up by root"),
                "{}",
                stderr(&out)
            );
            return;
        }
        let text = ok(out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(&lines[..3], ["65534", "65534", "65534"], "{text}");
        assert_eq!(
            lines[3].trim(),
            "0 0 4294967295",
            "no user namespace: the host's map"
        );
        for l in &lines[4..] {
            assert!(
                l.ends_with("0000000000000400"),
                "only CAP_NET_BIND_SERVICE kept: {text}"
            );
        }
    }
);

both!(kernel_settings_in_proc_are_read_only, |who| {
    let Some(out) = run_sh(
        who,
        "default",
        "echo 1 > /proc/sys/kernel/core_pattern 2>&1; echo 1 > /proc/sys/vm/drop_caches 2>&1; true",
    ) else {
        return;
    };
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(text.matches("Read-only file system").count(), 2, "{text}");
});

both!(nested_user_namespaces_are_refused, |who| {
    let Some(out) = run_sh(who, "default", "unshare -U true 2>&1; echo rc=$?") else {
        return;
    };
    let text = ok(out);
    assert!(
        text.contains("Operation not permitted") && text.contains("rc=1"),
        "{text}"
    );
});

both!(namespaces_given_by_path_are_joined, |who| {
    if who == Who::Root && !need(&["ip"]) {
        return;
    }
    let s = Scratch::new("join");
    // A namespace to join: as root a named network namespace; as a user, a
    // user+network namespace pair held open by a sleeping process of theirs.
    let (profile, holder, netns) = if who == Who::Root {
        if !is_root() {
            cannot("joining as root needs root");
            return;
        }
        let name = format!("sandbox-test-{}", std::process::id());
        assert!(
            std::process::Command::new("ip")
                .args(["netns", "add", &name])
                .status()
                .unwrap()
                .success()
        );
        let path = format!("/run/netns/{name}");
        let p = s.write(
            "p.toml",
            &format!("extends = [\"default\"]\n[namespaces]\nuser = false\nnet = \"{path}\"\n"),
        );
        (p, None, path)
    } else {
        let mut hold = if is_root() {
            let Some(u) = test_user() else {
                cannot("set SANDBOX_TEST_USER");
                return;
            };
            let mut c = std::process::Command::new("runuser");
            c.args([
                "-u", &u.name, "--", "unshare", "-U", "-r", "-n", "sleep", "30",
            ]);
            c
        } else {
            let mut c = std::process::Command::new("unshare");
            c.args(["-U", "-r", "-n", "sleep", "30"]);
            c
        };
        let child = hold.spawn().unwrap();
        // The holder is the spawned process or (under runuser) its child:
        // whichever has entered a user namespace other than ours.
        let ours = std::fs::read_link("/proc/self/ns/user").ok();
        let deadline = Instant::now() + Duration::from_secs(5);
        let pid = loop {
            let id = child.id();
            let children = std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"))
                .unwrap_or_default();
            let candidates = std::iter::once(id.to_string())
                .chain(children.split_whitespace().map(str::to_string));
            let found = candidates.into_iter().find(|p| {
                let ns = std::fs::read_link(format!("/proc/{p}/ns/user")).ok();
                ns.is_some() && ns != ours
            });
            if let Some(p) = found {
                break p;
            }
            assert!(
                Instant::now() < deadline,
                "the holder never entered its namespace"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let p = s.write(
            "p.toml",
            &format!("extends = [\"default\"]\n[namespaces]\nuser = \"/proc/{pid}/ns/user\"\nnet = \"/proc/{pid}/ns/net\"\n[user]\nsandwich = false\n"),
        );
        (p, Some(child), format!("/proc/{pid}/ns/net"))
    };
    let out = run_sh(who, &profile, "readlink /proc/self/ns/net");
    let want = std::fs::read_link(&netns)
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_else(|_| {
            use std::os::unix::fs::MetadataExt;
            format!("net:[{}]", std::fs::metadata(&netns).unwrap().ino())
        });
    if let Some(mut h) = holder {
        let _ = h.kill();
        let _ = h.wait();
    } else {
        let name = netns.trim_start_matches("/run/netns/");
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", name])
            .status();
    }
    let Some(out) = out else { return };
    assert_eq!(ok(out).trim(), want);
});

both!(id_ranges_are_usable_inside, |who| {
    // As root any range may be mapped; a user needs one granted in
    // /etc/subuid and /etc/subgid (useradd grants one) and newuidmap.
    let start = if who == Who::Root {
        100_000
    } else {
        let user = match (is_root(), test_user()) {
            (true, Some(u)) => u.name,
            (true, None) => {
                cannot("set SANDBOX_TEST_USER");
                return;
            }
            (false, _) => std::env::var("USER").unwrap_or_default(),
        };
        let granted = std::fs::read_to_string("/etc/subuid").unwrap_or_default();
        let Some(start) = granted.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 3 && f[0] == user && f[2].parse::<u32>().is_ok_and(|c| c >= 1000))
                .then(|| f[1].parse::<u32>().ok())
                .flatten()
        }) else {
            cannot(&format!(
                "needs a subordinate id range for {user} in /etc/subuid"
            ));
            return;
        };
        if !exists("/usr/bin/newuidmap") {
            cannot("needs newuidmap (apt-get install uidmap)");
            return;
        }
        start
    };
    let profile = &format!(
        "extends = [\"default\"]\n[user]\nuid = 0\ngid = 0\nmap = [{{ inside = 1, outside = {start}, count = 1000 }}]\n[process]\ncapabilities = [\"CAP_CHOWN\"]\n"
    );
    let Some(out) = run_profile(
        who,
        profile,
        "tr -s ' ' < /proc/self/uid_map; touch /tmp/f; chown 5:7 /tmp/f && stat -c '%u %g' /tmp/f",
    ) else {
        return;
    };
    let text = ok(out);
    assert_eq!(text, " 0 0 1\n 1 1 1000\n5 7\n");
});

/// `sandbox(who)` as one shell command line, for `script -c`.
fn command_line(c: &std::process::Command) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    std::iter::once(c.get_program().to_string_lossy().into_owned())
        .chain(c.get_args().map(|a| a.to_string_lossy().into_owned()))
        .map(|a| quote(&a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run `sandbox ARGS` on a fresh pseudo-terminal (util-linux `script`),
/// typing `input`; returns (exit code, what the terminal showed).
fn on_a_terminal(who: Who, args: &[&str], input: &str) -> Option<(Option<i32>, String)> {
    use std::io::Write;
    let mut c = sandbox(who)?;
    c.args(args);
    let mut s = std::process::Command::new("script")
        .args(["-qec", &command_line(&c), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    s.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = s.wait_with_output().unwrap();
    Some((out.status.code(), stdout(&out)))
}

// bash: dash, interactive in a pid namespace on a shared terminal, cannot
// give the terminal back to the caller's process group at exit (it is not
// in its pid namespace) and exits 2, exactly as under bubblewrap.
both!(an_interactive_shell_works_on_the_callers_terminal, |who| {
    let Some((code, screen)) = on_a_terminal(
        who,
        &["run", "default", "--", "/bin/bash", "--norc", "-i"],
        "test -t 0 && echo stdin-is-a-tty\necho sum-$((40+2))\nexit 3\n",
    ) else {
        return;
    };
    assert!(screen.contains("stdin-is-a-tty"), "{screen}");
    assert!(screen.contains("sum-42"), "{screen}");
    assert_eq!(code, Some(3), "{screen}");
});

both!(
    the_app_cannot_push_keystrokes_into_the_callers_terminal,
    |who| {
        if !need(&[PYTHON]) {
            return;
        }
        let inject = "import fcntl, termios\nfor req in (termios.TIOCSTI, getattr(termios, 'TIOCLINUX', 0x541C)):\n    try:\n        fcntl.ioctl(0, req, b'x')\n        print('injected')\n    except OSError as e:\n        print('refused', e.errno)\n";
        let Some((code, screen)) = on_a_terminal(
            who,
            &["run", "default", "--", "/usr/bin/python3", "-c", inject],
            "",
        ) else {
            return;
        };
        assert_eq!(code, Some(0), "{screen}");
        assert!(!screen.contains("injected"), "{screen}");
        assert_eq!(
            screen.matches(&format!("refused {}", libc::EPERM)).count(),
            2,
            "{screen}"
        );
    }
);

both!(a_time_namespace_moves_the_clocks, |who| {
    let profile =
        "extends = [\"default\"]\n[namespaces]\ntime = true\n[time]\nboottime = \"100h\"\n";
    let host_uptime = || -> f64 {
        std::fs::read_to_string("/proc/uptime")
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = host_uptime();
    let Some(out) = run_profile(
        who,
        profile,
        // Read by the app's own process (the shell's builtins, then exec),
        // not by a child it forks: the app itself must be in the namespace.
        "read up rest < /proc/uptime; echo $up; exec readlink /proc/self/ns/time",
    ) else {
        return;
    };
    let after = host_uptime();
    let text = ok(out);
    let mut lines = text.lines();
    let inside: f64 = lines.next().unwrap().parse().unwrap();
    assert!(
        inside >= before + 360_000.0 && inside <= after + 360_000.0 + 1.0,
        "uptime inside {inside}, host {before}..{after}"
    );
    assert_ne!(
        lines.next().unwrap(),
        std::fs::read_link("/proc/self/ns/time")
            .unwrap()
            .to_string_lossy()
    );
});

// The words after `--`: arguments for an app's profile's command, the
// command itself for a general profile (default), and for a profile that
// extends default without a command of its own.
both!(
    words_after_the_separator_go_to_the_app_or_replace_the_shell,
    |who| {
        let s = Scratch::new("words");
        let dir = s.dir("work", 0o755);
        s.chown_to(who, "work");
        let zip = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import zipfile, sys; z = zipfile.ZipFile(sys.argv[1], 'w'); z.writestr('inside.txt', 'unpacked\\n'); z.close()",
            &format!("{dir}/x.zip"),
        ])
        .status()
        .unwrap();
        assert!(zip.success());
        s.chown_to(who, "work");
        if !std::path::Path::new("/usr/bin/unzip").exists() {
            cannot("unzip is not installed (see .ci/run)");
            return;
        }
        let Some(mut c) = sandbox(who) else {
            return;
        };
        let out = c
            .args(["run", "unzip", "--", "-q", "x.zip"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        ok(out);
        assert_eq!(
            std::fs::read_to_string(format!("{dir}/inside.txt")).unwrap(),
            "unpacked\n"
        );
        let Some(out) = run_sh(who, "default", "echo replaced") else {
            return;
        };
        assert_eq!(ok(out), "replaced\n");
        let own = s.write(
            "own.toml",
            "extends = [\"default\"]\ncommand = [\"/bin/echo\", \"app:\"]\n",
        );
        let mut c = sandbox(who).unwrap();
        let out = c
            .args(["run", &own, "--", "one", "two"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(ok(out), "app: one two\n");
        let inherited = s.write("inherited.toml", "extends = [\"default\"]\n");
        let mut c = sandbox(who).unwrap();
        let out = c
            .args(["run", &inherited, "--", "/bin/echo", "ran"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(ok(out), "ran\n");
    }
);

/// Drive `sandbox ARGS` on a fresh pseudo-terminal of `rows`x`cols`, typing
/// each of `keys` after the screen settles; what the terminal showed and the
/// exit status. Python's pty module does the terminal side.
fn on_a_pty(who: Who, args: &[&str], rows: u16, cols: u16, keys: &[&str]) -> Option<(String, i32)> {
    const DRIVER: &str = r#"
import fcntl, json, os, pty, select, struct, sys, termios, time
argv, rows, cols, keys = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
out = b""
def drain(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return
            if not d:
                return
            out += d
drain(1.5)
for k in keys:
    os.write(fd, k.encode().decode("unicode_escape").encode())
    drain(0.8)
drain(1.0)
status = -1
for _ in range(50):
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.waitstatus_to_exitcode(st)
        break
    time.sleep(0.1)
else:
    os.kill(pid, 9)
sys.stdout.write(json.dumps([out.decode(errors="replace"), status]))
"#;
    let c = sandbox(who)?;
    let argv: Vec<String> = std::iter::once(c.get_program().to_string_lossy().into_owned())
        .chain(c.get_args().map(|a| a.to_string_lossy().into_owned()))
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    let spec = serde_json::json!([argv, rows, cols, keys]).to_string();
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", DRIVER, &spec])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("driver output");
    Some((
        v[0].as_str().unwrap().to_string(),
        v[1].as_i64().unwrap() as i32,
    ))
}

// An app that stops its terminal's output (tcflow TCOOFF, as Ctrl-S does)
// blocks every write to it: the launcher's message at the timeout must not
// stand between the deadline and the stop. Without the fix the launcher
// waited in that write, the app slept on, and the driver had to kill both.
both!(a_stopped_terminal_does_not_hold_off_the_timeout, |who| {
    let app = "import termios, time; termios.tcflow(1, termios.TCOOFF); time.sleep(30)";
    let Some((_, status)) = on_a_pty(
        who,
        &[
            "run",
            "--timeout",
            "1s",
            "default",
            "--",
            "python3",
            "-c",
            app,
        ],
        24,
        80,
        &[],
    ) else {
        return;
    };
    assert_eq!(status, 124, "the sandbox was not stopped at its timeout");
});

// On the caller's terminal the app shares it, as under bubblewrap: bash has
// job control, `tty` names the terminal (/dev/console), Ctrl-C ends the
// foreground command and not the shell, the window size is the terminal's,
// and the exit status comes through.
both!(an_interactive_shell_has_job_control_and_ctrl_c, |who| {
    let Some((screen, status)) = on_a_pty(
        who,
        &["run", "default", "--", "/bin/bash", "--norc", "-i"],
        33,
        101,
        &[
            "tty\\n",
            "stty size\\n",
            "sleep 30 &\\n",
            "jobs\\n",
            "kill %1\\n",
            "sleep 30\\n",
            "\\x03",
            "echo after-ctrl-c $?\\n",
            "exit 3\\n",
        ],
    ) else {
        return;
    };
    assert!(!screen.contains("no job control"), "{screen}");
    assert!(screen.contains("/dev/console"), "{screen}");
    assert!(screen.contains("33 101"), "{screen}");
    assert!(screen.contains("Running"), "{screen}");
    assert!(screen.contains("after-ctrl-c 130"), "{screen}");
    assert_eq!(status, 3, "{screen}");
});

// `dir` and `file` over what a writable bind of a host folder already
// holds leave the host's alone: a 0700 folder keeps its mode, a 0600 file
// its mode and content (the sandbox sees the profile's content, bound on
// top). What the steps make is as bubblewrap makes it: a `dir`'s mode
// exactly, its parents 0755 without the group's or others' access the
// step's own mode denies, and mount-point files 0444.
both!(
    dir_and_file_never_loosen_or_rewrite_what_the_host_has,
    |who| {
        use std::os::unix::fs::PermissionsExt;
        let s = Scratch::new("hostperm");
        let w = s.dir("w", 0o755);
        s.dir("w/private", 0o700);
        s.write("w/secret.conf", "the host's\n");
        std::fs::set_permissions(
            format!("{w}/secret.conf"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        s.write("lone", "x\n");
        s.chown_to(who, "w");
        let profile = format!(
            r#"extends = ["default"]
[[mount]]
type = "bind"
src = "{w}"
[[mount]]
type = "dir"
dst = "{w}/private"
mode = "0755"
[[mount]]
type = "file"
dst = "{w}/secret.conf"
content = "the profile's\n"
mode = "0644"
[[mount]]
type = "dir"
dst = "/run/a/b/c"
mode = "0700"
[[mount]]
type = "ro-bind"
src = "{lone}"
dst = "/run/m/lone"
[[mount]]
type = "ro-bind"
src = "{lone}"
dst = "{w}/mount-point"
"#,
            lone = s.path.join("lone").display()
        );
        let Some(out) = run_profile(
            who,
            &profile,
            &format!("cat {w}/secret.conf; stat -c '%a %n' /run/a /run/a/b /run/a/b/c /run/m"),
        ) else {
            return;
        };
        let text = ok(out);
        let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(
            mode(&format!("{w}/private")),
            0o700,
            "the host folder's mode"
        );
        assert_eq!(
            mode(&format!("{w}/secret.conf")),
            0o600,
            "the host file's mode"
        );
        assert_eq!(
            std::fs::read_to_string(format!("{w}/secret.conf")).unwrap(),
            "the host's\n"
        );
        assert!(text.starts_with("the profile's\n"), "{text}");
        assert!(
            text.contains("700 /run/a\n")
                && text.contains("700 /run/a/b\n")
                && text.contains("700 /run/a/b/c\n"),
            "{text}"
        );
        assert!(text.contains("755 /run/m\n"), "{text}");
        // The mount point the bind needed, left on the host: empty and 0444.
        assert_eq!(mode(&format!("{w}/mount-point")), 0o444);
    }
);

// The sandwich, the id maps and the time namespace are set up through
// the host's /proc, opened before the new root: a sandbox without a /proc
// of its own, or with the host's bound read-only, sets up as any other.
both!(
    the_empty_profile_and_profiles_without_a_proc_of_their_own_set_up,
    |who| {
        let s = Scratch::new("noproc");
        // Empty: nothing inside, which is said before anything is set up.
        let empty = s.write("empty.toml", "");
        let Some(mut c) = sandbox(who) else {
            return;
        };
        let out = c
            .args(["run", &empty, "--", "/bin/true"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(127), "{err}");
        assert!(
            err.contains(
                "'/bin/true' is installed on the host (/bin/true) but not inside the sandbox"
            ),
            "{err}"
        );
        // Empty but for a script (on the root tmpfs, which is noexec): all
        // is set up, and the exec is what fails, at its step.
        let script = s.write(
            "script.toml",
            "[[mount]]\ntype = \"file\"\ndst = \"/run-me\"\ncontent = \"#!/bin/sh\\n\"\nmode = \"0755\"\n",
        );
        let Some(mut c) = sandbox(who) else {
            return;
        };
        let out = c
            .args(["run", &script, "--", "/run-me"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = stderr(&out);
        // 126 (the root is noexec) or 127 (its interpreter is not there).
        assert!(matches!(out.status.code(), Some(126 | 127)), "{err}");
        assert!(err.contains("'exec /run-me'"), "{err}");
        assert!(!err.contains("sandwich"), "{err}");
        let usr = "[env]\nset = { PATH = \"/usr/bin:/bin\" }\n\
            [[mount]]\ntype = \"ro-bind\"\nsrc = \"/usr\"\n\
            [[mount]]\ntype = \"symlink\"\nsrc = \"usr/bin\"\ndst = \"/bin\"\n\
            [[mount]]\ntype = \"symlink\"\nsrc = \"usr/lib\"\ndst = \"/lib\"\n\
            [[mount]]\ntype = \"symlink\"\nsrc = \"usr/lib64\"\ndst = \"/lib64\"\n";
        // No /proc at all, in a pid namespace and without one.
        for pid in ["true", "false"] {
            let profile = format!("[namespaces]\npid = {pid}\n{usr}");
            let out =
                run_profile(who, &profile, "test -e /proc/self && echo proc; echo ran").unwrap();
            assert_eq!(ok(out), "ran\n", "pid = {pid}");
        }
        // The host's /proc, read-only, without a pid namespace.
        let profile = format!(
            "[namespaces]\npid = false\n{usr}[[mount]]\ntype = \"ro-bind\"\nsrc = \"/proc\"\n"
        );
        let out = run_profile(who, &profile, "grep -c . /proc/self/uid_map").unwrap();
        assert_eq!(ok(out), "1\n");
    }
);

// A root the profile leaves writable is writable under Landlock too: the
// rules derived from the mounts grant write to it (a tmpfs root, or the
// host's tree as `root = "/"`, written as whoever the sandbox is there).
both!(a_root_left_writable_is_writable_under_landlock, |who| {
    let s = Scratch::new("rootrw");
    s.dir("mine", 0o755);
    s.chown_to(who, "mine");
    let mine = s.path.join("mine");
    let host = "[filesystem]\nroot = \"/\"\nreadonly_root = false\n[user]\nhost_root = false\n";
    let Some(out) = run_profile(
        who,
        host,
        &format!("echo hi > {}/made && echo wrote", mine.display()),
    ) else {
        return;
    };
    assert_eq!(ok(out), "wrote\n");
    assert_eq!(std::fs::read_to_string(mine.join("made")).unwrap(), "hi\n");
    let tmpfs = "extends = [\"default\"]\n[filesystem]\nreadonly_root = false\n";
    let out = run_profile(who, tmpfs, "mkdir /new && echo made").unwrap();
    assert_eq!(ok(out), "made\n");
    // Control: read-only, the same writes fail.
    let out = run_profile(who, "extends = [\"default\"]\n", "mkdir /new 2>&1").unwrap();
    assert!(
        stdout(&out).contains("Read-only file system"),
        "{}",
        stdout(&out)
    );
});

// POSIX message queues of the sandbox's own IPC namespace work under
// Landlock (mq_open opens files of a file system no path reaches), and
// stay the sandbox's: the host's queues are neither seen nor made.
both!(message_queues_are_the_sandboxs_own_and_usable, |who| {
    let name = format!("/sandbox-test-q{}-{who:?}", std::process::id());
    let code = |name: &str| {
        format!(
            "import ctypes, os\n\
         rt = ctypes.CDLL('librt.so.1', use_errno=True)\n\
         fd = rt.mq_open({name:?}.encode(), os.O_CREAT | os.O_RDWR, 0o600, None)\n\
         e = ctypes.get_errno()\n\
         sent = rt.mq_send(fd, b'hi', 2, 0) if fd >= 0 else -1\n\
         print(fd >= 0, e, sent)"
        )
    };
    let Some(out) = run_python(who, "extends = [\"default\"]\n", &code(&name)) else {
        return;
    };
    assert_eq!(out, "True 0 0");
    // The host's namespace has no such queue.
    let probe = format!(
        "import ctypes, os\nrt = ctypes.CDLL('librt.so.1', use_errno=True)\n\
         print(rt.mq_open({name:?}.encode(), os.O_RDONLY), ctypes.get_errno())"
    );
    let host = std::process::Command::new("python3")
        .args(["-c", &probe])
        .output()
        .unwrap();
    assert_eq!(stdout(&host).trim(), "-1 2", "the queue is the host's");
    // Control: with Landlock but the host's IPC namespace, no rule
    // reaches its queues.
    // (Landlock refuses the open, not the making: the queue it was asked
    // for is left in the host's namespace, which that profile shares.)
    let host_ipc = "extends = [\"default\"]\n[namespaces]\nipc = false\n";
    let control = format!("{name}-control");
    let out = run_python(who, host_ipc, &code(&control)).unwrap();
    let unlink =
        format!("import ctypes\nctypes.CDLL('librt.so.1').mq_unlink({control:?}.encode())");
    std::process::Command::new("python3")
        .args(["-c", &unlink])
        .status()
        .unwrap();
    assert_eq!(out, "False 13 -1");
});

/// Processes whose command line is `cmd` (words joined by spaces).
fn pids_with(cmd: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim_end() == cmd)
                .unwrap_or(false)
        })
        .collect()
}

// die_with_parent follows the caller, as bwrap's --die-with-parent does:
// the shell that started `sandbox run` killed, the sandbox ends.
both!(the_sandbox_dies_with_the_shell_that_started_it, |who| {
    let s = Scratch::new("caller");
    for die in [true, false] {
        // Its own for each variant: the two run at once, and each kills
        // the apps its marker finds.
        let marker = format!(
            "sleep 99.{}{}{}",
            std::process::id(),
            matches!(who, Who::Root) as u8,
            die as u8
        );
        let p = s.write(
            &format!("p{die}.toml"),
            &format!("extends = [\"default\"]\n[process]\ndie_with_parent = {die}\n"),
        );
        let line = format!(
            "{} run {p} --command -- /bin/sh -c 'exec {marker}' & wait",
            binary().display()
        );
        let mut c = std::process::Command::new("sh");
        c.args(["-c", &line]);
        match (who, is_root()) {
            // The user's shell, straight from here (no runuser between).
            (Who::User, true) => {
                let Some(u) = test_user() else {
                    cannot("set SANDBOX_TEST_USER");
                    return;
                };
                use std::os::unix::process::CommandExt;
                c.uid(u.uid).gid(u.gid);
                c.env("HOME", &u.home).current_dir("/");
            }
            (Who::Root, false) => {
                cannot("the root variant needs root");
                return;
            }
            _ => {}
        }
        let mut shell = c.stdin(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while pids_with(&marker).is_empty() {
            assert!(Instant::now() < deadline, "the app never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        shell.kill().unwrap();
        let _ = shell.wait();
        let settle = Instant::now() + Duration::from_millis(700);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let alive = pids_with(&marker);
            if die && alive.is_empty() {
                break;
            }
            if !die && Instant::now() >= settle {
                assert!(
                    !alive.is_empty(),
                    "without die_with_parent the app lives on"
                );
                for pid in alive {
                    // SAFETY: the app this test started.
                    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                }
                break;
            }
            assert!(Instant::now() < deadline, "the app outlived its caller");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
});

// Under the sandwich the sandbox's network belongs to the outer user
// namespace: ports below 1024 and ping work without a capability, one
// that would reach nothing is an error at its line, and a network the app
// administers itself (own_namespaces = ["net"]) gives it its capabilities.
both!(network_capabilities_work_or_are_refused_up_front, |who| {
    let code = "import socket\n\
        s = socket.socket(); s.bind(('127.0.0.1', 80))\n\
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)\n\
        print('bound and pinged')";
    let Some(out) = run_python(who, "extends = [\"default\"]\n", code) else {
        return;
    };
    assert_eq!(out, "bound and pinged");
    let raw = "import socket\n\
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n\
        print('raw')";
    let own = "extends = [\"default\"]\n[process]\ncapabilities = [\"CAP_NET_RAW\"]\n[user]\nown_namespaces = [\"net\"]\n";
    assert_eq!(run_python(who, own, raw).unwrap(), "raw");
    let s = Scratch::new("netcaps");
    let p = s.write(
        "p.toml",
        "extends = [\"default\"]\n[process]\ncapabilities = [\"CAP_NET_RAW\"]\n",
    );
    let out = sandbox(who)
        .unwrap()
        .args(["run", &p, "--", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("p.toml:3:17: error: CAP_NET_RAW would reach nothing"),
        "{}",
        stderr(&out)
    );
});

// A profile joins a running sandbox's namespaces by path, the user
// namespace too: that of its app is the sandwich's inner one, which owns
// none of the others, so the join goes through their owner first (as
// root and as the user who started it), and the joined process makes
// files and runs as ids of that namespace, never as the caller on the host.
both!(a_profile_joins_a_running_sandbox_by_path, |who| {
    let s = Scratch::new("join");
    let target = s.write(
        "target.toml",
        "extends = [\"default\"]\n[uts]\nhostname = \"joinme\"\n",
    );
    let marker = format!("sleep 300.{}{}", std::process::id(), who as u8);
    let Some(mut c) = sandbox(who) else {
        return;
    };
    let mut running = c
        .args(["run", &target, "--command", "--", "/bin/sh", "-c"])
        .arg(format!("id -u; exec {marker}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(running.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let app = loop {
        if let Some(p) = pids_with(&marker).first() {
            break *p;
        }
        assert!(Instant::now() < deadline, "the target never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    let join = format!(
        "[namespaces]\nuser = \"/proc/{app}/ns/user\"\nuts = \"/proc/{app}/ns/uts\"\nnet = \"/proc/{app}/ns/net\"\n\
         [env]\nset = {{ PATH = \"/usr/bin:/bin\" }}\n\
         [[mount]]\ntype = \"ro-bind\"\nsrc = \"/usr\"\n\
         [[mount]]\ntype = \"symlink\"\nsrc = \"usr/bin\"\ndst = \"/bin\"\n\
         [[mount]]\ntype = \"symlink\"\nsrc = \"usr/lib\"\ndst = \"/lib\"\n\
         [[mount]]\ntype = \"symlink\"\nsrc = \"usr/lib64\"\ndst = \"/lib64\"\n\
         [[mount]]\ntype = \"tmpfs\"\ndst = \"/tmp\"\n"
    );
    let out = run_profile(who, &join, "hostname; id -u; touch /tmp/made && echo made").unwrap();
    let _ = running.kill();
    for pid in pids_with(&marker) {
        // SAFETY: the target's app, which this test started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    let _ = running.wait();
    assert_eq!(ok(out), format!("joinme\n{first}made\n"));
});

// A bind receives what the host mounts below it later (a disk plugged in
// after the sandbox started), as a slave: the sandbox's mounts never
// reach the host. The "host" here is a mount namespace of the test's own
// (so that the real host's mount table, which other tests compare, stays
// as it is), where the folder is a shared mount point, as a
// distribution's / is.
both!(a_mount_made_on_the_host_later_appears_in_a_bind, |who| {
    if !is_root() {
        cannot("making a shared mount on the host needs root");
        return;
    }
    let s = Scratch::new("propagation");
    s.dir("x", 0o755);
    s.dir("x/sub", 0o755);
    let x = s.path.join("x");
    let x = x.display();
    let profile = format!(
        "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{x}\"\ndst = \"/x\"\n"
    );
    let p = s.write("p.toml", &profile);
    let caller = match who {
        Who::Root => String::new(),
        Who::User => {
            let Some(u) = test_user() else {
                cannot("set SANDBOX_TEST_USER");
                return;
            };
            format!("runuser -u {} -- ", u.name)
        }
    };
    let script = format!(
        "mount --bind {x} {x} && mount --make-shared {x} || exit 1\n\
         {caller}{bin} run {p} --command -- /bin/sh -c \
           'for i in $(seq 100); do test -e /x/sub/f && break; sleep 0.05; done; cat /x/sub/f' &\n\
         sleep 0.3\n\
         mount -t tmpfs -o size=64k sandbox-test {x}/sub && echo later > {x}/sub/f\n\
         wait $!",
        bin = binary().display()
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(ok(out), "later\n");
});

// The tutorial's user namespace with a uid map and no gid map, and one
// with neither: the app sees the overflow ids (65534) for what is left
// unmapped, and still makes files (as its ids outside, which the
// sandbox's own namespace maps).
both!(unmapped_ids_show_the_overflow_id, |who| {
    let s = Scratch::new("unmapped");
    for (kinds, want_uid, want_gid) in [
        ("[\"gid\"]", None, Some(65534)),
        ("[\"uid\"]", Some(65534), None),
        ("[\"uid\", \"gid\"]", Some(65534), Some(65534)),
    ] {
        let p = s.write(
            "p.toml",
            &format!("extends = [\"default\"]\n[user]\nunmapped = {kinds}\n"),
        );
        let out = ok(sandbox(who)
            .unwrap()
            .args(["run", &p, "--", "/bin/sh", "-c"])
            .arg("echo $(id -u) $(id -g) $(wc -l < /proc/self/uid_map) $(wc -l < /proc/self/gid_map); touch /tmp/f && echo made")
            .output()
            .unwrap());
        // Inside, a mapped id is the caller's own.
        let (uid, gid) = caller_ids(who);
        let (uid, gid) = (want_uid.unwrap_or(uid), want_gid.unwrap_or(gid));
        let maps = |w: Option<u32>| if w.is_some() { 0 } else { 1 };
        assert_eq!(
            out,
            format!("{uid} {gid} {} {}\nmade\n", maps(want_uid), maps(want_gid)),
            "unmapped = {kinds}"
        );
    }
});

// `sandbox plan --calls` runs the executor's own code on the recording
// kernel: as root and as an unprivileged user, with no namespace made,
// nothing mounted and nothing of the host touched.
both!(plan_calls_records_without_making_them, |who| {
    let before = host_mounts();
    let Some(mut c) = sandbox(who) else { return };
    let out = c
        .args(["plan", "--calls", "default", "--", "/bin/true"])
        .output()
        .unwrap();
    let text = ok(out);
    for want in [
        "mount(NULL, \"/\", NULL, MS_SLAVE|MS_REC, NULL)",
        "pivot_root(\".\", \".\")",
        "unshare(CLONE_NEWUSER)",
        "seccomp(SECCOMP_SET_MODE_FILTER",
        "execve(\"/bin/true\"",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
    assert_eq!(host_mounts(), before, "a trace changed the host's mounts");
});

// A caller no name database of /etc/passwd knows (an LDAP user, a systemd
// DynamicUser): the static binary must not ask the name service, whose
// shared modules crash it (src/userdb.rs). Control: the uid is in no
// database, so glibc's own lookup of it is what crashed before.
#[test]
fn a_caller_missing_from_passwd_runs() {
    if !is_root() {
        cannot("needs root, to become a uid no database knows");
        return;
    }
    let uid = "4242";
    assert!(
        !std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .lines()
            .any(|l| l.split(':').nth(2) == Some(uid)),
        "uid {uid} is in /etc/passwd here"
    );
    let as_nobody_known = |vars: &[&str]| {
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--reuid",
            uid,
            "--regid",
            uid,
            "--clear-groups",
            "env",
            "-i",
        ])
        .args(vars)
        .arg(binary())
        .args(["run", "default", "--", "id", "-u"])
        .current_dir("/");
        c.output().unwrap()
    };
    let out = as_nobody_known(&["HOME=/tmp", "USER=svc", "PATH=/usr/bin:/bin"]);
    assert_eq!(ok(out), format!("{uid}\n"));
    // Without $USER, ${USER} is a clear error, not a crash.
    let out = as_nobody_known(&["HOME=/tmp", "PATH=/usr/bin:/bin"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("${USER} is not set"),
        "{}",
        stderr(&out)
    );
}

// A thousand binds and more, under the usual soft limit of 1024 open
// descriptors: the child opens every source before the new root, so it
// runs its mounts with the hard limit; the app gets the caller's soft
// limit back (select() needs descriptors below 1024), or the profile's.
both!(more_binds_than_the_soft_descriptor_limit, |who| {
    let s = Scratch::new("many-binds");
    let mut profile = String::from("extends = [\"default\"]\n");
    for i in 0..1100 {
        let d = s.dir(&format!("src/{i}"), 0o755);
        profile.push_str(&format!(
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"{d}\"\ndst = \"/m/{i}\"\n"
        ));
    }
    let path = s.write("p.toml", &profile);
    let run = |limits: &str| {
        let mut c = sandbox(who)?;
        c.args(["run", &path]);
        if !limits.is_empty() {
            c.args(["--set", limits]);
        }
        c.args(["--", "/bin/sh", "-c", "ulimit -Sn; ls /m | wc -l"]);
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit only, between fork and exec.
        unsafe {
            c.pre_exec(|| {
                let mut r = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
                r.rlim_cur = 1024;
                libc::setrlimit(libc::RLIMIT_NOFILE, &r);
                Ok(())
            });
        }
        Some(c.stdin(std::process::Stdio::null()).output().unwrap())
    };
    let Some(out) = run("") else { return };
    assert_eq!(ok(out), "1024\n1100\n");
    let out = run("limits.nofile = 512").unwrap();
    assert_eq!(ok(out), "512\n1100\n");
});
