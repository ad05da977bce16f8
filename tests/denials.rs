//! `--trace-denials` (`[seccomp] trace`), through the built binary, as
//! root and as an unprivileged user: each refused call is reported on the
//! launcher's stderr with its name, arguments and the rule that refused
//! it, while the app sees exactly what it sees untraced (the control);
//! the listener that could answer a refusal with success is the
//! launcher's alone, never the app's.

mod common;
use common::*;
use std::process::Stdio;

/// What the script inside does: a call the profile denies (chdir, by
/// `--deny chdir`) and one the default policy refuses (a new user
/// namespace), each with its exit status.
const SCRIPT: &str =
    "cd / 2>/dev/null; echo cd=$?; unshare -U true 2>/dev/null; echo unshare=$?; echo done";

fn run(who: Who, traced: bool, script: &str) -> Option<std::process::Output> {
    let mut c = sandbox(who)?;
    c.args(["run", "default", "--deny", "chdir"]);
    if traced {
        c.arg("--trace-denials");
    }
    c.args(["--", "/bin/sh", "-c", script]);
    Some(c.stdin(Stdio::null()).output().unwrap())
}

both!(each_refusal_is_reported_with_its_rule, |who| {
    if !need(&["unshare"]) {
        return;
    }
    let Some(plain) = run(who, false, SCRIPT) else {
        return;
    };
    let traced = run(who, true, SCRIPT).unwrap();
    // The app sees the same: the same errno, the same statuses.
    assert_eq!(stdout(&traced), stdout(&plain), "{}", stderr(&traced));
    assert!(stdout(&plain).ends_with("done\n"), "{}", stdout(&plain));
    assert!(!stdout(&plain).contains("cd=0"), "chdir is denied");
    assert_eq!(traced.status.code(), plain.status.code());
    // Untraced: nothing said.
    assert!(!stderr(&plain).contains("refused:"), "{}", stderr(&plain));
    let err = stderr(&traced);
    let line = |call: &str| {
        err.lines()
            .find(|l| l.starts_with(&format!("sandbox: refused: {call}(")))
            .unwrap_or_else(|| panic!("no refusal of {call} in:\n{err}"))
            .to_string()
    };
    let cd = line("chdir");
    assert!(
        cd.contains(": EPERM, by seccomp.deny (command line: --deny chdir)"),
        "{cd}"
    );
    let un = line("unshare");
    assert!(
        un.starts_with("sandbox: refused: unshare(0x10000000, "),
        "{un}"
    );
    assert!(
        un.contains("new namespaces (user.nested_userns is off)"),
        "{un}"
    );
    // `sandbox plan` says so.
    let mut c = sandbox(who).unwrap();
    c.args(["plan", "default", "--trace-denials"]);
    let plan = ok(c.output().unwrap());
    let step = plan
        .lines()
        .find(|l| l.contains("seccomp default policy"))
        .unwrap();
    assert!(
        step.contains("each refusal reported by the launcher"),
        "{step}"
    );
    // Its origin stays the rules' (the default's here): what a report names.
    assert!(step.ends_with("# (default)"), "{step}");
});

/// A profile whose Landlock rules (not its mounts) refuse writing the
/// writable tmpfs at /scratch: a file refused by Landlock alone (the one
/// docs/seccomp.md shows).
const LANDLOCKED: &str = include_str!("../examples/landlocked.toml");

/// What the script inside does: a denied call (chdir), a file refused by
/// Landlock (/scratch/x), one it allows (/tmp/y), and one a read-only
/// mount refuses first (/usr/x, EROFS), each with its status.
const PATHS: &str = "cd / 2>/dev/null; echo cd=$?; (echo a > /scratch/x) 2>/dev/null; echo scratch=$?; \
     (echo b > /tmp/y) 2>/dev/null; echo tmp=$?; (echo c > /usr/x) 2>/dev/null; echo usr=$?; \
     mkdir /scratch/d 2>/dev/null; echo mkdir=$?; cat /scratch/x /tmp/y 2>/dev/null; echo done";

// A denied call and a file Landlock refuses, in one traced run: both are
// reported with the rule and the profile line that refuse them; what
// Landlock allows, and what a read-only mount refuses first, are not;
// the app sees what it sees untraced (the control).
both!(a_file_landlock_refuses_is_reported_with_its_rule, |who| {
    let s = Scratch::new("denials-landlock");
    let profile = s.write("p.toml", LANDLOCKED);
    let run = |traced: bool| {
        let mut c = sandbox(who)?;
        c.args(["run", &profile, "--deny", "chdir"]);
        if traced {
            c.arg("--trace-denials");
        }
        c.args(["--", "/bin/sh", "-c", PATHS]);
        Some(c.stdin(Stdio::null()).output().unwrap())
    };
    let Some(plain) = run(false) else { return };
    assert_eq!(
        stdout(&plain),
        "cd=2\nscratch=2\ntmp=0\nusr=2\nmkdir=1\nb\ndone\n",
        "{}",
        stderr(&plain)
    );
    assert!(!stderr(&plain).contains("refused"), "{}", stderr(&plain));
    let traced = run(true).unwrap();
    assert_eq!(stdout(&traced), stdout(&plain), "{}", stderr(&traced));
    assert_eq!(traced.status.code(), plain.status.code());
    let err = stderr(&traced);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("sandbox: refused"))
        .collect();
    let at = format!("({profile}:11:15)");
    let scratch =
        "sandbox: refused (predicted): openat \"/scratch/x\" (an entry made or removed) by thread ";
    let mkdir =
        "sandbox: refused (predicted): mkdir \"/scratch/d\" (an entry made or removed) by thread ";
    for want in [scratch, mkdir] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(want))
            .unwrap_or_else(|| panic!("no {want:?} in:\n{err}"));
        assert!(
            line.ends_with(&format!(
                ": EACCES, by Landlock: no write rule covers it {at}"
            )),
            "{line}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("sandbox: refused: chdir(")
                && l.ends_with("by seccomp.deny (command line: --deny chdir)")),
        "{err}"
    );
    // Nothing else: not /tmp (allowed), not /usr (read-only first), not
    // the reads of the shell and cat (allowed by read = ["/"]).
    assert_eq!(lines.len(), 3, "{err}");
    // `sandbox plan` says what the trace watches.
    let mut c = sandbox(who).unwrap();
    c.args(["plan", &profile, "--trace-denials"]);
    let plan = ok(c.output().unwrap());
    assert!(
        plan.contains("reported when Landlock's rules would refuse it"),
        "{plan}"
    );
});

// Control: with Landlock's rules derived from the mounts, /scratch is
// writable, and the same traced run reports only the denied call.
both!(a_file_landlock_allows_is_not_reported, |who| {
    let s = Scratch::new("denials-landlock-allowed");
    let profile = s.write(
        "p.toml",
        "extends = [\"default\"]\n\n[[mount]]\ntype = \"tmpfs\"\ndst = \"/scratch\"\n",
    );
    let Some(mut c) = sandbox(who) else { return };
    c.args(["run", &profile, "--deny", "chdir", "--trace-denials"])
        .args(["--", "/bin/sh", "-c", PATHS]);
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        stdout(&out),
        "cd=2\nscratch=0\ntmp=0\nusr=2\nmkdir=0\na\nb\ndone\n",
        "{}",
        stderr(&out)
    );
    let lines: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("sandbox: refused"))
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("sandbox: refused: chdir("),
        "{lines:?}"
    );
});

// The escape through the watched calls: with Landlock on, a traced
// filter sends every path call to the launcher, which lets those the
// policy passes go on. One the policy refuses must stay refused with the
// same errno, a setuid bit stays refused on every call that sets a mode,
// openat2 gets what it gets untraced (EPERM when denied, ENOSYS while
// the bits are refused), and what Landlock refuses stays refused. The
// control: the untraced run, which must print the same.
both!(a_watched_call_gets_what_it_gets_untraced, |who| {
    if !need(&[PYTHON]) {
        return;
    }
    let code = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(f):
    try:
        f(); return "ok"
    except OSError as e:
        return e.strerror
def openat2(path):
    how = (ctypes.c_uint64 * 3)(os.O_CREAT | os.O_WRONLY, 0o644, 0)
    r = libc.syscall(437, -100, path.encode(), ctypes.byref(how), 24)
    return "ok" if r >= 0 else os.strerror(ctypes.get_errno())
open("/tmp/f", "w").close()
print("chmod", errno_of(lambda: os.chmod("/tmp/f", 0o4755)))
print("open", errno_of(lambda: os.close(os.open("/tmp/g", os.O_CREAT | os.O_WRONLY, 0o2755))))
print("mkdir", errno_of(lambda: os.mkdir("/tmp/d")))
print("openat2", openat2("/tmp/h"))
print("scratch", errno_of(lambda: open("/scratch/x", "w")))
print("rename", errno_of(lambda: os.rename("/tmp/f", "/tmp/f2")))
"#;
    let s = Scratch::new("denials-watched");
    let profile = s.write("p.toml", LANDLOCKED);
    let run = |traced: bool, deny: &[&str]| {
        let mut c = sandbox(who)?;
        c.args(["run", &profile]);
        for d in deny {
            c.args(["--deny", d]);
        }
        if traced {
            c.arg("--trace-denials");
        }
        c.args(["--", PYTHON, "-c", code]);
        Some(c.stdin(Stdio::null()).output().unwrap())
    };
    for (deny, want) in [
        (
            &["mkdir", "openat2"][..],
            "chmod Operation not permitted\nopen Operation not permitted\nmkdir Operation not permitted\nopenat2 Operation not permitted\nscratch Permission denied\nrename ok\n",
        ),
        (
            &["rseq"][..],
            "chmod Operation not permitted\nopen Operation not permitted\nmkdir ok\nopenat2 Function not implemented\nscratch Permission denied\nrename ok\n",
        ),
    ] {
        let Some(plain) = run(false, deny) else {
            return;
        };
        assert_eq!(stdout(&plain), want, "{}", stderr(&plain));
        let traced = run(true, deny).unwrap();
        assert_eq!(stdout(&traced), want, "{}", stderr(&traced));
    }
});

// Many refusals at once, from several processes: each is answered, none
// passes, none is lost.
both!(refusals_at_once_are_each_answered, |who| {
    let script = "for p in 1 2 3 4; do (i=0; while [ $i -lt 50 ]; do cd / 2>/dev/null && echo passed; i=$((i+1)); done) & done; wait; echo done";
    let Some(out) = run(who, true, script) else {
        return;
    };
    assert_eq!(stdout(&out), "done\n", "{}", stderr(&out));
    let n = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("sandbox: refused: chdir("))
        .count();
    assert_eq!(n, 200, "{}", stderr(&out));
});

// The escape: a process inside that held the listener could answer its
// own refusals with success (SECCOMP_USER_NOTIF_FLAG_CONTINUE). No
// process of the sandbox holds one; the control: the launcher, outside,
// does, while the sandbox runs.
both!(the_listener_is_out_of_the_apps_reach, |who| {
    let s = Scratch::new("denials-escape");
    let mark = s.path.join("inside");
    s.chown_to(who, "");
    let inside = "for f in /proc/[0-9]*/fd/*; do readlink $f; done 2>/dev/null | grep -c 'seccomp notify'; \
         touch /mark/inside; sleep 3";
    let Some(mut c) = sandbox(who) else { return };
    c.args(["run", "default", "--trace-denials", "--bind"])
        .arg(format!("{}:/mark", s.path.display()))
        .args(["--", "/bin/sh", "-c", inside])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let mut waited = 0;
    while !mark.exists() && waited < 100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    assert!(mark.exists(), "the sandbox started");
    // Outside: a process of the sandbox binary holds the listener.
    let mut holders = vec![];
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path())
                .is_ok_and(|l| l.to_string_lossy().contains("seccomp notify"))
            {
                let exe = std::fs::read_link(p.path().join("exe")).unwrap_or_default();
                holders.push(exe.display().to_string());
            }
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        stdout(&out),
        "0\n",
        "no process inside holds it: {}",
        stderr(&out)
    );
    assert!(
        holders.iter().any(|h| h.ends_with("/sandbox")),
        "the launcher holds the listener: {holders:?}"
    );
});

// The handover's exception is the one sendmsg that carries the secret:
// under a profile that denies sendmsg, no socket of the app's passes,
// whatever number it has (before the secret, the one that got the
// channel's number did). Control: untraced, the same.
both!(no_sendmsg_of_the_apps_passes_the_handover_rule, |who| {
    let code = "import socket\nok = 0\nfor i in range(60):\n    a, b = socket.socketpair()\n    try:\n        a.sendmsg([b'hi']); ok += 1\n    except OSError:\n        pass\nprint(ok)";
    let run = |traced: bool| {
        let mut c = sandbox(who)?;
        c.args(["run", "default", "--deny", "sendmsg"]);
        if traced {
            c.arg("--trace-denials");
        }
        c.args(["--", "python3", "-c", code]);
        Some(c.stdin(Stdio::null()).output().unwrap())
    };
    let Some(plain) = run(false) else { return };
    assert_eq!(stdout(&plain), "0\n", "{}", stderr(&plain));
    let traced = run(true).unwrap();
    assert_eq!(stdout(&traced), "0\n", "{}", stderr(&traced));
    let refused = stderr(&traced)
        .lines()
        .filter(|l| l.starts_with("sandbox: refused: sendmsg("))
        .count();
    assert_eq!(refused, 60, "{}", stderr(&traced));
});

/// The newest build of the test binary `name` beside this one.
fn sibling_suite(name: &str) -> Option<std::path::PathBuf> {
    let me = std::env::current_exe().ok()?;
    let dir = me.parent()?;
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(name))
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|hash| hash.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}

// Tracing adds no capability to the app: the escape and PID 1 boundary
// suites, run again with every `sandbox run` given --trace-denials (a
// wrapper in front of the binary), still pass. The wrapper is shown to
// trace: a refused call is reported through it.
#[test]
fn the_escape_suites_pass_with_tracing_on() {
    let suites: Vec<_> = ["escape", "boundary"]
        .iter()
        .map(|n| (n, sibling_suite(n)))
        .collect();
    if suites.iter().any(|(_, p)| p.is_none()) {
        cannot("the escape and boundary test binaries are not built beside this one");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sandbox-test-traced-{}", std::process::id()));
    let real = dir.join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_sandbox"), real.join("sandbox")).unwrap();
    let wrapper = dir.join("sandbox");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = run ]; then shift; exec {0} run --trace-denials \"$@\"; fi\nexec {0} \"$@\"\n",
            real.join("sandbox").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    for p in [&dir, &real, &real.join("sandbox"), &wrapper] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let shown = std::process::Command::new(&wrapper)
        .args(["run", "default", "--", "/bin/sh", "-c", "unshare -U true"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&shown.stderr).contains("sandbox: refused: unshare("),
        "the wrapper does not trace: {}",
        String::from_utf8_lossy(&shown.stderr)
    );
    for (name, suite) in suites {
        let out = std::process::Command::new(suite.unwrap())
            .env("SANDBOX_TEST_BINARY", &wrapper)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the {name} suite with tracing on:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// --trace-denials over a profile without a filter: a warning, and the
// run goes on; the same in the profile itself is an error at its line.
#[test]
fn tracing_over_no_filter_is_a_warning_in_the_profile_an_error() {
    let Some(mut c) = sandbox(if is_root() { Who::Root } else { Who::User }) else {
        return;
    };
    let s = Scratch::new("trace-none");
    let p = s.write(
        "p.toml",
        "extends = [\"default\"]\n[seccomp]\npolicy = \"none\"\n",
    );
    let out = c
        .args(["run", "--trace-denials", &p, "--", "true"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: no refusal to report"),
        "{}",
        stderr(&out)
    );
    let q = s.write(
        "q.toml",
        "extends = [\"default\"]\n[seccomp]\npolicy = \"none\"\ntrace = true\n",
    );
    let Some(mut c) = sandbox(if is_root() { Who::Root } else { Who::User }) else {
        return;
    };
    let out = c.args(["check", &q]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("q.toml:4:9: error: trace reports"),
        "{}",
        stderr(&out)
    );
}
