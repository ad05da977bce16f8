//! `sandbox run` inside `sandbox run`, through `[user] nesting`: the inner
//! sandbox gets its own pid namespace, hostname and mounts (a /proc of its
//! own among them), and sees no more than the outer one does. Without
//! nesting the inner sandbox fails. bubblewrap inside a nesting sandbox,
//! and bubblewrap inside bubblewrap, for comparison.

mod common;
use common::*;
use std::process::{Output, Stdio};

/// The built binary, bound read-only into the outer sandbox at /sandbox.
fn outer(extra: &str) -> String {
    format!(
        r#"extends = ["default"]

[[mount]]
type = "ro-bind"
src = "{}"
dst = "/sandbox"

{extra}
"#,
        binary().display()
    )
}

const NESTING: &str = "[user]\nnesting = true\n\n[landlock]\nenabled = false\n";

/// The inner sandbox's profile, written inside the outer one (in its
/// /tmp, so that as root it is root's), then run with `script`.
fn nested(inner_profile: &str, script: &str) -> String {
    format!(
        "cat > /tmp/inner.toml <<'EOF'\n{inner_profile}\nEOF\n/sandbox run /tmp/inner.toml --command -- /bin/sh -c '{script}'"
    )
}

const INNER: &str = "extends = [\"default\"]\n[uts]\nhostname = \"inner\"";

fn run(who: Who, outer_profile: &str, script: &str) -> Option<Output> {
    run_profile(who, outer_profile, script)
}

fn nested_sandbox_runs(who: Who) {
    let script = nested(
        INNER,
        "echo pid=$$; echo host=$(hostname); grep -E \"^(NSpid|Uid):\" /proc/self/status; \
         grep \" /proc \" /proc/self/mountinfo | grep -c \" - proc \"; ls /tmp; echo end",
    );
    // A file in the outer /tmp: the inner /tmp is a tmpfs of its own.
    let script = format!("echo x > /tmp/outer-file; echo outer=$(hostname); {script}");
    let Some(o) = run(who, &outer(NESTING), &script) else {
        return;
    };
    let out = ok(o);
    // The app of the inner sandbox is pid 2 of its own pid namespace (its
    // init is 1), and that /proc is its own: NSpid (of grep) has one level.
    assert!(out.contains("outer=sandbox\n"), "{out}");
    assert!(out.contains("pid=2\n"), "{out}");
    let nspid = out
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .unwrap_or_default();
    assert_eq!(nspid.split_whitespace().count(), 2, "{out}");
    assert!(out.contains("host=inner\n"), "{out}");
    let (uid, _) = caller_ids(who);
    assert!(out.contains(&format!("Uid:\t{uid}\t")), "{out}");
    // One proc mount at /proc (its own), and an empty /tmp of its own.
    assert!(out.ends_with("1\nend\n"), "{out}");
    assert!(!out.contains("outer-file"), "{out}");
    assert!(!out.contains("inner.toml"), "{out}");
}

#[test]
fn nested_sandbox_runs_root() {
    nested_sandbox_runs(Who::Root)
}

#[test]
fn nested_sandbox_runs_user() {
    nested_sandbox_runs(Who::User)
}

/// The control: the same outer sandbox without nesting (Landlock off as
/// well, so that only the switch differs): the inner one cannot be made.
fn without_nesting_the_inner_sandbox_fails(who: Who) {
    let script = nested(INNER, "echo inside");
    let Some(o) = run(
        who,
        &outer("[landlock]\nenabled = false\n"),
        &format!("{script}; echo status=$?"),
    ) else {
        return;
    };
    let out = ok(o);
    assert!(!out.contains("inside"), "{out}");
    assert!(out.contains("status=125\n"), "{out}");
}

#[test]
fn without_nesting_the_inner_sandbox_fails_root() {
    without_nesting_the_inner_sandbox_fails(Who::Root)
}

#[test]
fn without_nesting_the_inner_sandbox_fails_user() {
    without_nesting_the_inner_sandbox_fails(Who::User)
}

/// The inner sandbox is no stronger than the outer: a host folder the
/// outer does not bind is not there to bind, and one it binds read-only
/// stays read-only through the inner's writable bind.
fn the_inner_sandbox_is_no_stronger(who: Who) {
    let s = Scratch::new("nesting");
    let hidden = s.dir("hidden", 0o755);
    s.write("hidden/secret", "secret\n");
    let shown = s.dir("shown", 0o755);
    s.write("shown/file", "shown\n");
    let extra =
        format!("[[mount]]\ntype = \"ro-bind\"\nsrc = \"{shown}\"\ndst = \"/shown\"\n\n{NESTING}");
    let inner = format!(
        "{INNER}\n[[mount]]\ntype = \"bind\"\nsrc = \"/shown\"\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{hidden}\"\noptional = true"
    );
    let script = nested(
        &inner,
        &format!(
            "cat /shown/file; echo new > /shown/new || echo refused; cat {hidden}/secret || echo absent"
        ),
    );
    let Some(o) = run(who, &outer(&extra), &script) else {
        return;
    };
    let out = ok(o);
    assert!(out.starts_with("shown\n"), "{out}");
    assert!(out.contains("refused\n"), "{out}");
    assert!(out.contains("absent\n"), "{out}");
    assert!(!out.contains("secret"), "{out}");
    assert!(!exists(&format!("{shown}/new")));
    // Without optional, the inner sandbox refuses at the profile's line.
    let inner = format!("{INNER}\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{hidden}\"");
    let script = nested(&inner, "cat secret");
    let Some(o) = run(who, &outer(NESTING), &format!("{script}; echo status=$?")) else {
        return;
    };
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(out.ends_with("status=125\n"), "{out}");
    assert!(!out.contains("secret"), "{out}");
    assert!(
        err.contains(&format!("bind source '{hidden}' does not exist")),
        "{err}"
    );
}

#[test]
fn the_inner_sandbox_is_no_stronger_root() {
    the_inner_sandbox_is_no_stronger(Who::Root)
}

#[test]
fn the_inner_sandbox_is_no_stronger_user() {
    the_inner_sandbox_is_no_stronger(Who::User)
}

/// What nesting keeps: the app is not host root, so without the covers
/// of /proc it still cannot write /proc/sys or /proc/sysrq-trigger; the
/// filter still refuses TIOCSTI and chroot.
fn what_nesting_still_refuses(who: Who) {
    if !need(&[PYTHON]) {
        return;
    }
    let extra = NESTING;
    let code = r#"
import ctypes, fcntl, os, termios
for path in ["/proc/sys/kernel/hostname", "/proc/sysrq-trigger", "/proc/sys/user/max_user_namespaces"]:
    try:
        with open(path, "w") as f:
            f.write("h")
        print(path, "written")
    except OSError as e:
        print(path, "absent" if e.errno == 2 else "refused" if e.errno in (1, 13, 30) else e)
libc = ctypes.CDLL(None, use_errno=True)
print("chroot", libc.chroot(b"/tmp"), ctypes.get_errno() == 1)
fd = os.open("/dev/ptmx", os.O_RDWR)
try:
    fcntl.ioctl(fd, termios.TIOCSTI, b"x")
    print("tiocsti allowed")
except OSError as e:
    print("tiocsti refused", e.errno == 1)
"#;
    let Some(out) = run_python(who, &outer(extra), code) else {
        return;
    };
    // A kernel without CONFIG_MAGIC_SYSRQ has no sysrq-trigger.
    assert!(
        out.contains("/proc/sysrq-trigger refused\n")
            || out.contains("/proc/sysrq-trigger absent\n"),
        "{out}"
    );
    for line in [
        "/proc/sys/kernel/hostname refused\n",
        "/proc/sys/user/max_user_namespaces refused\n",
        "chroot -1 True",
        "tiocsti refused True",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
}

#[test]
fn what_nesting_still_refuses_root() {
    what_nesting_still_refuses(Who::Root)
}

#[test]
fn what_nesting_still_refuses_user() {
    what_nesting_still_refuses(Who::User)
}

/// `sandbox plan` says what nesting loosens; `check` refuses nesting
/// with Landlock on, at its line, with the hint.
#[test]
fn the_plan_shows_what_nesting_loosens() {
    let Some(mut c) = sandbox(if is_root() { Who::Root } else { Who::User }) else {
        return;
    };
    let s = Scratch::new("nesting-plan");
    let p = s.write("p.toml", &outer(NESTING));
    let o = c.args(["plan", &p]).stdin(Stdio::null()).output().unwrap();
    let out = ok(o);
    assert!(
        out.contains("proc /proc (no read-only covers: nesting)"),
        "{out}"
    );
    assert!(
        out.contains("note: nesting: the app may create user, mount, pid"),
        "{out}"
    );
    assert!(!out.contains("nested user namespaces disabled"), "{out}");
    assert!(
        out.contains("(not through openat2, let through for nesting)"),
        "{out}"
    );
    let q = s.write("q.toml", "[user]\nnesting = true\n");
    let mut c = sandbox(if is_root() { Who::Root } else { Who::User }).unwrap();
    let o = c.args(["check", &q]).stdin(Stdio::null()).output().unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("q.toml:2:11: error: a Landlock-restricted process may not mount: nesting needs landlock.enabled = false"),
        "{err}"
    );
    assert!(
        err.contains("hint: add [landlock] enabled = false"),
        "{err}"
    );
}

/// bubblewrap inside a nesting sandbox runs as it runs on the host.
fn bwrap_inside_a_nesting_sandbox(who: Who) {
    if !need(&["/usr/bin/bwrap"]) {
        return;
    }
    let script = "/usr/bin/bwrap --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \
        --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp --unshare-all \
        --hostname inner /bin/sh -c 'echo pid=$$; hostname'";
    let Some(o) = run(who, &outer(NESTING), script) else {
        return;
    };
    assert_eq!(ok(o), "pid=2\ninner\n");
}

#[test]
fn bwrap_inside_a_nesting_sandbox_root() {
    bwrap_inside_a_nesting_sandbox(Who::Root)
}

#[test]
fn bwrap_inside_a_nesting_sandbox_user() {
    bwrap_inside_a_nesting_sandbox(Who::User)
}

/// For comparison, bubblewrap inside bubblewrap: unprivileged it nests,
/// because its covers of /proc are left out where /proc/sys is not
/// writable (in its user namespace none is); as root, without a user
/// namespace, its covers are made, and the inner one's /proc is refused.
/// And `sandbox` inside bubblewrap, unprivileged.
#[test]
fn bwrap_inside_bwrap_for_comparison() {
    if !need(&["/usr/bin/bwrap"]) {
        return;
    }
    let bw = "/usr/bin/bwrap --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/sbin /sbin \
        --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp \
        --unshare-all";
    let sh = |who: Who, script: &str| -> Option<Output> {
        let mut c = sandbox(who)?;
        // Only to reach the user: run bwrap through the same runuser.
        let prog = c.get_program().to_owned();
        let mut args: Vec<_> = c.get_args().map(|a| a.to_owned()).collect();
        if prog != binary().as_os_str() {
            args.pop();
            let mut c2 = std::process::Command::new(prog);
            c2.args(args).args(["/bin/sh", "-c", script]);
            c = c2;
        } else {
            c = std::process::Command::new("/bin/sh");
            c.args(["-c", script]);
        }
        Some(c.stdin(Stdio::null()).output().unwrap())
    };
    let script = format!("{bw} {bw} /bin/sh -c 'echo pid=$$'");
    if let Some(o) = sh(Who::User, &script) {
        assert_eq!(ok(o), "pid=2\n");
    }
    if let Some(o) = sh(Who::Root, &script) {
        assert!(!o.status.success());
        assert!(stderr(&o).contains("Can't mount proc"), "{}", stderr(&o));
    }
    let script = format!(
        "{bw} --ro-bind {b} /sandbox /sandbox run --command -- /bin/sh -c 'echo pid=$$; hostname'",
        b = binary().display()
    );
    if let Some(o) = sh(Who::User, &script) {
        assert_eq!(ok(o), "pid=2\nsandbox\n");
    }
}

/// Run argv[1:] as root of a user namespace that maps ids 0-65535 onto the
/// host's and allows one user namespace below it: a container that allows
/// one level of nesting.
const ONE_LEVEL_BELOW: &str = r#"import ctypes, os, sys
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(ready_r); os.close(go_w)
    if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0: os._exit(99)
    os.write(ready_w, b"u")
    os.read(go_r, 1)
    os.setgroups([]); os.setresgid(0, 0, 0); os.setresuid(0, 0, 0)
    with open("/proc/sys/user/max_user_namespaces", "w") as f: f.write("1")
    os.execv(sys.argv[1], sys.argv[1:])
os.close(ready_w)
if os.read(ready_r, 1) != b"u": sys.exit("unshare(CLONE_NEWUSER) failed")
for m in ("uid_map", "gid_map"):
    with open("/proc/%d/%s" % (pid, m), "w") as f: f.write("0 0 65536\n")
os.write(go_w, b"g")
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#;

/// Where the sandbox's own user namespace is the last one allowed, the
/// sandwich's inner one cannot be made: the step says so with the call
/// that failed and the kernel's errno (ENOSPC), not only what it was doing.
#[test]
fn a_sandwich_with_no_user_namespace_left_names_the_call_and_errno() {
    if !is_root() {
        cannot("needs root to map a container's ids onto the host's");
        return;
    }
    if !need(&[PYTHON]) {
        return;
    }
    let s = Scratch::new("sandwich-limit");
    let wrapper = s.write("one-level.py", ONE_LEVEL_BELOW);
    let profile = s.write("p.toml", "extends = [\"default\"]\n");
    let out = std::process::Command::new(PYTHON)
        .arg(&wrapper)
        .arg(binary())
        .args(["run", &profile, "--", "/bin/true"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.contains("error: step ")
            && err.contains("'sandwich: new user namespace")
            && err.contains("(unshare(CLONE_NEWUSER)): No space left on device\n"),
        "{err}"
    );
}
