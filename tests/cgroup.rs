//! cgroup limits: enforced as root, on whichever hierarchy holds each
//! controller (this machine's kind has memory, pids and cpu on v1 and the
//! unified hierarchy beside them); refused with a clear error for a user
//! without a delegated cgroup. Nothing is left behind either way.

mod common;
use common::*;

/// sandbox-PID cgroups below the launcher's own cgroups whose sandbox has
/// ended (PID gone): what a run must never leave behind. Those of sandboxes
/// still running in parallel tests are not counted.
/// The cgroups of launchers that are gone. Another test's launcher,
/// killed while this one runs, leaves its cgroups to its reaper, which
/// removes them a moment later: only those still there after a while
/// count.
fn leftover_cgroups() -> Vec<String> {
    let mut found = cgroups_of_the_gone();
    for _ in 0..50 {
        if found.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        found = cgroups_of_the_gone();
    }
    found
}

fn cgroups_of_the_gone() -> Vec<String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut found = vec![];
    for h in sandbox::exec::cgroup::hierarchies(&mountinfo) {
        let Some(own) = sandbox::exec::cgroup::own_path(&h, &proc_cgroup) else {
            continue;
        };
        let dir = h.mount.join(own.trim_start_matches('/'));
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("sandbox-")
                && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                found.push(e.path().display().to_string());
            }
        }
    }
    found
}

fn limited(who: Who, limits: &str, script: &str) -> Option<std::process::Output> {
    run_profile(
        who,
        &format!("extends = [\"default\"]\n[cgroup]\n{limits}\n"),
        script,
    )
}

both!(a_memory_hog_is_killed_at_the_limit, |who| {
    if !need(&[PYTHON]) {
        return;
    }
    let hog = "python3 -c 'b = []\nwhile True: b.append(bytearray(8 << 20))'";
    let Some(out) = limited(who, "memory = \"64M\"", hog) else {
        return;
    };
    if who == Who::User && is_root() {
        // Not delegated here: refused, with what to do.
        assert_eq!(out.status.code(), Some(125));
        assert!(
            stderr(&out).contains("hint: creating a cgroup needs root or a delegated cgroup"),
            "{}",
            stderr(&out)
        );
    } else {
        assert_eq!(
            out.status.code(),
            Some(128 + 9),
            "the hog was not killed: {}",
            stderr(&out)
        );
    }
    assert_eq!(
        leftover_cgroups(),
        Vec::<String>::new(),
        "a cgroup was left behind"
    );
});

both!(a_fork_bomb_stops_at_the_pids_limit, |who| {
    // dash gives up on a failed fork: count successful forks in python.
    if !need(&[PYTHON]) {
        return;
    }
    let script = "python3 -c 'import os, time\nn = 0\nfor i in range(60):\n    try:\n        if os.fork() == 0:\n            time.sleep(2)\n            os._exit(0)\n        n += 1\n    except OSError:\n        break\nprint(n)'";
    let Some(out) = limited(who, "pids = 16", script) else {
        return;
    };
    if who == Who::User && is_root() {
        assert_eq!(out.status.code(), Some(125));
        return;
    }
    let n: usize = ok(out).trim().parse().unwrap();
    // The init, sh and python count too.
    assert!((5..=13).contains(&n), "{n} forks succeeded under pids = 16");
});

both!(cpu_time_is_capped, |who| {
    if !need(&[PYTHON]) {
        return;
    }
    let burn = "python3 -c 'import os, time\nt = time.time()\nwhile time.time() < t + 1.5: pass\nprint(os.times().user + os.times().system)'";
    let Some(out) = limited(who, "cpu = 0.2", burn) else {
        return;
    };
    if who == Who::User && is_root() {
        assert_eq!(out.status.code(), Some(125));
        return;
    }
    let used: f64 = ok(out).trim().parse().unwrap();
    assert!(used < 0.6, "used {used} s of CPU in 1.5 s under cpu = 0.2");
});

both!(
    the_app_sees_its_cgroup_as_the_root_and_it_is_removed_after,
    |who| {
        let Some(out) = limited(who, "pids = 100", "cut -d: -f3 /proc/self/cgroup | sort -u")
        else {
            return;
        };
        if who == Who::User && is_root() {
            assert_eq!(out.status.code(), Some(125));
        } else {
            assert_eq!(ok(out), "/\n");
        }
        assert_eq!(
            leftover_cgroups(),
            Vec::<String>::new(),
            "a cgroup was left behind"
        );
    }
);

/// Watched from the host while the sandbox runs: its cgroups exist on the
/// hierarchies that hold the controllers and on the unified one, hold the
/// sandbox's init, carry the limits; and they are gone after.
#[test]
fn cgroups_are_created_moved_into_and_removed() {
    if !is_root() {
        cannot("needs root to create cgroups");
        return;
    }
    let s = Scratch::new("cg-watch");
    let profile = s.write(
        "p.toml",
        "extends = [\"default\"]\n[cgroup]\nmemory = \"96M\"\npids = 50\n",
    );
    let mut c = std::process::Command::new(binary());
    c.args([
        "run",
        &profile,
        "--",
        "/bin/sh",
        "-c",
        "echo ready; sleep 2",
    ]);
    let mut child = c.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut buf = [0u8; 6];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut buf).unwrap();
    let launcher = child.id();
    // The sandbox's init, not the reaper the launcher also started.
    let init: String =
        std::fs::read_to_string(format!("/proc/{launcher}/task/{launcher}/children"))
            .unwrap()
            .split_whitespace()
            .find(|p| {
                std::fs::read_to_string(format!("/proc/{p}/status"))
                    .unwrap_or_default()
                    .lines()
                    .any(|l| l.starts_with("NSpid:") && l.split_whitespace().count() > 2)
            })
            .expect("the sandbox's init")
            .to_string();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut seen = vec![];
    for h in sandbox::exec::cgroup::hierarchies(&mountinfo) {
        let own = sandbox::exec::cgroup::own_path(&h, &proc_cgroup).unwrap();
        let dir = h
            .mount
            .join(own.trim_start_matches('/'))
            .join(format!("sandbox-{init}"));
        if !dir.exists() {
            continue;
        }
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(
            procs.lines().any(|p| p == init),
            "the init is not in {}",
            dir.display()
        );
        if let Ok(limit) = std::fs::read_to_string(dir.join("memory.limit_in_bytes"))
            .or_else(|_| std::fs::read_to_string(dir.join("memory.max")))
        {
            assert_eq!(limit.trim(), (96u64 << 20).to_string());
        }
        if let Ok(max) = std::fs::read_to_string(dir.join("pids.max")) {
            assert_eq!(max.trim(), "50");
        }
        seen.push(dir);
    }
    assert!(
        seen.iter().any(|d| d.to_string_lossy().contains("memory"))
            || seen.iter().any(|d| d.join("memory.max").exists()),
        "no memory cgroup: {seen:?}"
    );
    let unified = sandbox::exec::cgroup::hierarchies(&mountinfo)
        .into_iter()
        .any(|h| h.v1.is_none());
    assert_eq!(
        seen.iter()
            .any(|d| std::fs::read_to_string(d.join("cgroup.controllers")).is_ok()),
        unified,
        "placement on the unified hierarchy: {seen:?}"
    );
    assert!(child.wait().unwrap().success());
    for d in seen {
        assert!(!d.exists(), "{} was left behind", d.display());
    }
}

// `check` says beforehand what `run` would refuse: a limit for a caller
// who may not make cgroups here (the test user, below root's cgroup), at
// the limit's line, as a problem of this machine; root's passes.
both!(check_predicts_a_limit_run_would_refuse, |who| {
    let s = Scratch::new("cg-check");
    let profile = s.write(
        "p.toml",
        "extends = [\"default\"]\n[cgroup]\nmemory = \"64M\"\npids = 50\n",
    );
    let Some(mut c) = sandbox(who) else { return };
    let checked = c.args(["check", &profile]).output().unwrap();
    let Some(mut c) = sandbox(who) else { return };
    let ran = c
        .args(["run", &profile, "--", "/bin/true"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    if who == Who::User && is_root() {
        assert_eq!(checked.status.code(), Some(1), "{}", stderr(&checked));
        let err = stderr(&checked);
        assert!(
            err.contains(&format!(
                "{profile}:3:10: error: a memory limit needs a cgroup of the sandbox's own, which you may not create in '/sys/fs/cgroup/"
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!("{profile}:4:8: error: a pids limit needs")),
            "{err}"
        );
        assert!(
            err.contains("hint: creating a cgroup needs root or a delegated cgroup"),
            "{err}"
        );
        assert_eq!(ran.status.code(), Some(125), "{}", stderr(&ran));
        assert!(
            !stderr(&ran).contains("step "),
            "refused at a step, not up front: {}",
            stderr(&ran)
        );
    } else {
        assert_eq!(checked.status.code(), Some(0), "{}", stderr(&checked));
        assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
    }
});

/// Restrict writing files, with Landlock, to everything but the tree at
/// argv[1], then exec argv[2..]: a refusal that access(2) does not see (as
/// an LSM's), and so one that `check` cannot predict and a step meets.
const DENY_WRITES_BELOW: &str = r#"import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
WRITE_FILE = 1 << 1
class Attr(ctypes.Structure): _fields_ = [("handled", ctypes.c_uint64)]
class Beneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]
attr = Attr(WRITE_FILE)
rs = libc.syscall(444, ctypes.byref(attr), ctypes.sizeof(attr), 0)
if rs < 0: sys.exit("landlock_create_ruleset: %s" % os.strerror(ctypes.get_errno()))
def allow(path):
    b = Beneath(WRITE_FILE, os.open(path, os.O_PATH | os.O_CLOEXEC))
    assert libc.syscall(445, rs, 1, ctypes.byref(b), 0) == 0, ctypes.get_errno()
at = "/"
for part in sys.argv[1].strip("/").split("/"):
    for name in os.listdir(at):
        if name != part: allow(os.path.join(at, name))
    at = os.path.join(at, part)
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.syscall(446, rs, 0) == 0, ctypes.get_errno()
os.execv(sys.argv[2], sys.argv[2:])
"#;

/// A cgroup that may not delegate a controller (its cgroup.subtree_control
/// refused, here by Landlock) fails the cgroup step with the kernel's
/// errno and the write that got it, and so with the delegation hint; not
/// with an "Input/output error" that no hint matches. Root only: for the
/// test user, `run` refuses such a limit up front (access(2) says so),
/// before any step. The unified hierarchy here may lack the controller:
/// a private mount namespace shows it to the launcher (cgroup.controllers
/// bound over), as a machine with cgroup v2 only would.
#[test]
fn a_cgroup_that_cannot_delegate_gets_the_kernels_errno_and_the_hint() {
    if !is_root() {
        cannot("needs root to bind over cgroup.controllers");
        return;
    }
    if !need(&[PYTHON, "unshare"]) {
        return;
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let Some(unified) = sandbox::exec::cgroup::hierarchies(&mountinfo)
        .into_iter()
        .find(|h| h.v1.is_none())
        .and_then(|h| {
            let own = sandbox::exec::cgroup::own_path(&h, &proc_cgroup)?;
            Some(h.mount.join(own.trim_start_matches('/')))
        })
    else {
        cannot("no unified cgroup hierarchy here");
        return;
    };
    let s = Scratch::new("cg-delegate");
    let controllers = s.write("controllers", "memory pids cpu\n");
    let deny = s.write("deny.py", DENY_WRITES_BELOW);
    let profile = s.write(
        "p.toml",
        "extends = [\"default\"]\n[cgroup]\nmemory = \"64M\"\n",
    );
    let dir = unified
        .display()
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let out = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount --bind {controllers} {dir}/cgroup.controllers && exec python3 {deny} {dir} \"$0\" run {profile} -- /bin/true"
        ))
        .arg(binary())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.contains(&format!("{profile}:3:10: error: step "))
            && err.contains(&format!(
                "'cgroup: memory 64M' (write {dir}/cgroup.subtree_control \"+memory\"): Permission denied"
            )),
        "{err}"
    );
    assert!(
        err.contains("hint: creating a cgroup needs root or a delegated cgroup"),
        "{err}"
    );
    assert_eq!(leftover_cgroups(), Vec::<String>::new());
}
