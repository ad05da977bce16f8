//! The same sandbox set up by bubblewrap (arguments) and by `sandbox run`
//! (a profile), compared by what a program inside observes. CI installs
//! Debian's `bubblewrap`; each test runs as root and as an unprivileged user.

mod common;
use common::*;
use std::process::{Command, Stdio};

/// The profile equivalent of [`bwrap_args`].
const PROFILE: &str = r#"
[uts]
hostname = "twin"

[[mount]]
type = "ro-bind"
src = "/usr"

[[mount]]
type = "symlink"
src = "usr/bin"
dst = "/bin"

[[mount]]
type = "symlink"
src = "usr/lib"
dst = "/lib"

[[mount]]
type = "symlink"
src = "usr/lib64"
dst = "/lib64"

[[mount]]
type = "proc"
dst = "/proc"

[[mount]]
type = "dev"
dst = "/dev"

[[mount]]
type = "tmpfs"
dst = "/tmp"

[env]
clear = false

[seccomp]
policy = "none"

[landlock]
enabled = false

[filesystem]
readonly_root = false
"#;

fn bwrap_args() -> Vec<&'static str> {
    vec![
        "--unshare-all",
        "--unshare-user",
        "--hostname",
        "twin",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/bin",
        "/bin",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--new-session",
        "--die-with-parent",
        "--chdir",
        "/",
    ]
}

/// Wrap a command the way `sandbox(who)` does (runuser for the test user).
fn as_who(who: Who, program: &str) -> Option<Command> {
    let mut c = sandbox(who)?;
    // sandbox(who) runs our binary, directly or as runuser's last argument:
    // swap that for `program`.
    let args: Vec<String> = c
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = c.get_program().to_string_lossy().into_owned();
    if prog == "runuser" {
        let mut r = Command::new("runuser");
        r.args(&args[..args.len() - 1])
            .arg(program)
            .current_dir("/");
        c = r;
    } else {
        c = Command::new(program);
    }
    Some(c)
}

/// (what bwrap's sandbox printed, what ours printed) for one script.
fn both_outputs(who: Who, script: &str) -> Option<(String, String)> {
    if !have("bwrap") {
        cannot("needs bubblewrap (apt-get install bubblewrap)");
        return None;
    }
    let s = Scratch::new("twin");
    let profile = s.write("twin.toml", PROFILE);
    let mut b = as_who(who, "bwrap")?;
    b.args(bwrap_args()).args(["/bin/sh", "-c", script]);
    let bw = b.stdin(Stdio::null()).output().unwrap();
    assert!(bw.status.success(), "bwrap failed: {}", stderr(&bw));
    let ours = run_sh(who, &profile, script)?;
    Some((stdout(&bw), ok(ours)))
}

both!(same_ids_and_maps, |who| {
    let Some((b, s)) = both_outputs(
        who,
        "id -u; id -g; tr -s ' ' < /proc/self/uid_map; tr -s ' ' < /proc/self/gid_map",
    ) else {
        return;
    };
    assert_eq!(b, s);
});

both!(same_hostname, |who| {
    let Some((b, s)) = both_outputs(who, "hostname") else {
        return;
    };
    assert_eq!(b, s);
    assert_eq!(s, "twin\n");
});

both!(same_pid_view, |who| {
    let Some((b, s)) = both_outputs(who, "echo $$; set -- /proc/[0-9]*; echo $#") else {
        return;
    };
    assert_eq!(b, s, "the app's pid and how many processes it sees");
});

both!(same_root_listing, |who| {
    let Some((b, s)) = both_outputs(
        who,
        "ls -1 / | tr '\\n' ' '; echo; readlink /bin /lib /lib64",
    ) else {
        return;
    };
    assert_eq!(b, s);
});

// Mount points and filesystem types, with the inner layout of /dev and
// /proc left out: bwrap mounts no tmpfs at /dev/shm, and protects fewer
// parts of /proc (and only when it runs as root).
both!(same_mount_table_shape, |who| {
    let script = "sed 's/.* - //' /proc/self/mountinfo | cut -d' ' -f1,2 > /tmp/types; \
                  cut -d' ' -f5 /proc/self/mountinfo | paste -d' ' - /tmp/types | grep -v '^/dev/' | grep -v '^/proc/' | sort";
    let Some((b, s)) = both_outputs(who, script) else {
        return;
    };
    assert_eq!(b, s);
});

// Which namespaces the app shares with the host (this test's own). Not
// with PID 1, as one could under bwrap: the sandbox's PID 1 is
// non-dumpable, so its /proc/1/ns links are not the app's to read.
both!(same_namespaces_unshared, |who| {
    let kinds = ["user", "mnt", "pid", "ipc", "uts", "net", "cgroup"];
    let script =
        "for n in user mnt pid ipc uts net cgroup; do echo $n $(readlink /proc/self/ns/$n); done";
    let Some((b, s)) = both_outputs(who, script) else {
        return;
    };
    let shared = |out: &str| -> Vec<String> {
        out.lines()
            .filter_map(|l| {
                let (kind, link) = l.split_once(' ')?;
                let host = std::fs::read_link(format!("/proc/self/ns/{kind}")).ok()?;
                (host.to_string_lossy() == link).then(|| kind.to_string())
            })
            .collect()
    };
    assert_eq!(b.lines().count(), kinds.len(), "bwrap: {b}");
    assert_eq!(s.lines().count(), kinds.len(), "sandbox: {s}");
    assert_eq!(shared(&b), shared(&s));
});

both!(same_read_only_behaviour, |who| {
    let script = "touch /usr/x 2>&1 | sed 's/.*: //'; echo data > /tmp/f && cat /tmp/f";
    let Some((b, s)) = both_outputs(who, script) else {
        return;
    };
    assert_eq!(b, s);
    assert!(s.contains("Read-only file system"));
});
