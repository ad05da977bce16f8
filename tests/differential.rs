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
    if !["/usr/bin/bwrap", "/bin/bwrap"].iter().any(|p| exists(p)) {
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

// ---------------------------------------------------------------------
// The same setups described once (tests/twin): the profile and bwrap's
// command line are rendered from one description, run by the same caller
// (root, the test user, and root's default sandbox against bwrap run by
// nobody), and a probe inside prints what it sees. See
// docs/differences.md for every difference the tests expect.

mod twin;
use twin::*;

/// Host folders and files to bind: the caller's, but `d/other` (root's for
/// the test user, the test user's for root).
fn tree() -> HostTree {
    HostTree {
        nodes: vec![
            Node::Dir {
                path: "d".into(),
                mode: 0o755,
            },
            Node::File {
                path: "d/f".into(),
                mode: 0o644,
                content: "hello\n".into(),
            },
            Node::File {
                path: "d/x".into(),
                mode: 0o755,
                content: "#!/bin/sh\necho ran\n".into(),
            },
            Node::File {
                path: "d/secret".into(),
                mode: 0o600,
                content: "s".into(),
            },
            Node::Dir {
                path: "d/sub".into(),
                mode: 0o710,
            },
            Node::Dir {
                path: "d/sub/deep".into(),
                mode: 0o700,
            },
            Node::File {
                path: "d/sub/deep/g".into(),
                mode: 0o640,
                content: "g".into(),
            },
            Node::Dir {
                path: "d/mnt".into(),
                mode: 0o755,
            },
            Node::File {
                path: "d/mntf".into(),
                mode: 0o644,
                content: "under".into(),
            },
            Node::Link {
                path: "d/l".into(),
                target: "f".into(),
            },
            Node::Link {
                path: "d/dangling".into(),
                target: "nowhere".into(),
            },
            Node::Link {
                path: "d/up".into(),
                target: "../e".into(),
            },
            Node::Link {
                path: "d/toreal".into(),
                target: "../real".into(),
            },
            Node::Dir {
                path: "d/other".into(),
                mode: 0o750,
            },
            Node::File {
                path: "d/other/o".into(),
                mode: 0o644,
                content: "o".into(),
            },
            Node::Dir {
                path: "e".into(),
                mode: 0o700,
            },
            Node::File {
                path: "e/g".into(),
                mode: 0o666,
                content: "e/g".into(),
            },
            Node::File {
                path: "ro".into(),
                mode: 0o444,
                content: "r".into(),
            },
            Node::File {
                path: "rw".into(),
                mode: 0o600,
                content: "w".into(),
            },
        ],
        owner_other: vec!["d/other".into(), "d/other/o".into()],
    }
}

fn with_tree() -> Twin {
    Twin {
        host: Some(tree()),
        ..Twin::new()
    }
}

/// The probe's view of `roots` in both, asserted the same.
fn same_view(what: &str, t: &Twin, c: Caller, roots: &[&str]) {
    let Some((b, s)) = both_probe(t, c, roots) else {
        return;
    };
    if std::env::var_os("TWIN_SHOW").is_some() {
        eprintln!("{what}:\n{}", s.ok());
    }
    assert_same(what, &b, &s, b.ok(), s.ok());
}

twin!(binds_of_folders_and_files, |c| {
    let t = with_tree().ops([
        bind("{H}/d", "/t/d"),
        ro_bind("{H}/e", "/t/e"),
        bind("{H}/rw", "/t/rw"),
        ro_bind("{H}/rw", "/t/rw-ro"),
        ro_bind("{H}/ro", "/t/ro"),
        dev_bind("{H}/d/sub", "/t/devbind"),
    ]);
    same_view("binds", &t, c, &["/t"]);
});

twin!(nested_binds, |c| {
    // A writable folder inside a read-only one, a read-only file inside a
    // writable one, a tmpfs inside a bind, a bind inside that tmpfs, and a
    // bind over a bind.
    let t = with_tree().ops([
        ro_bind("{H}/d", "/t/d"),
        bind("{H}/e", "/t/d/mnt"),
        ro_bind("{H}/rw", "/t/d/mntf"),
        bind("{H}/e", "/t/w"),
        Op::Tmpfs {
            dst: "/t/w/tmp".into(),
            size: Some(1 << 20),
            mode: 0o1777,
        },
        ro_bind("{H}/d/sub", "/t/w/tmp/in/sub"),
        bind("{H}/ro", "/t/w/tmp/in/sub/deep/g"),
        bind("{H}/d", "/t/twice"),
        ro_bind("{H}/e", "/t/twice"),
    ]);
    same_view("nested binds", &t, c, &["/t"]);
});

twin!(devices_work_only_through_dev_bind, |c| {
    let t = Twin::new().ops([
        bind("/dev", "/t/bind"),
        dev_bind("/dev", "/t/devbind"),
        ro_bind("/dev", "/t/robind"),
    ]);
    let roots: Vec<String> = ["bind", "devbind", "robind"]
        .iter()
        .flat_map(|d| ["null", "zero", "full"].map(|n| format!("/t/{d}/{n}")))
        .collect();
    let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
    same_view("device nodes", &t, c, &roots);
});

twin!(tmpfs_with_size_and_mode, |c| {
    let t = Twin::new().ops([
        Op::Tmpfs {
            dst: "/t/a".into(),
            size: Some(1 << 20),
            mode: 0o1777,
        },
        Op::Tmpfs {
            dst: "/t/b".into(),
            size: Some(65536),
            mode: 0o700,
        },
        Op::Tmpfs {
            dst: "/t/c".into(),
            size: None,
            mode: 0o750,
        },
        Op::Tmpfs {
            dst: "/t/c/d".into(),
            size: Some(3 << 20),
            mode: 0o555,
        },
    ]);
    same_view("tmpfs", &t, c, &["/t"]);
    // Filling it ends the same way.
    let fill = "head -c 200000 /dev/zero 2>/dev/null > /t/b/big; echo $?; wc -c < /t/b/big";
    let t = t.op(Op::Dev { dst: "/dev".into() });
    let Some((bo, so)) = both_sh(&t, c, fill) else {
        return;
    };
    assert_eq!(bo, so);
});

twin!(dirs_and_files_with_modes, |c| {
    let t = Twin::new().ops([
        tmpfs("/t"),
        dir("/t/d0700", 0o700),
        dir("/t/d1777", 0o1777),
        dir("/t/d0750", 0o750),
        dir("/t/d0000", 0o000),
        dir("/t/d0755/in/deep", 0o755),
        file("/t/f0600", "secret\n", 0o600),
        file("/t/f0755", "#!/bin/sh\n", 0o755),
        file("/t/f0444", "", 0o444),
        file("/t/sub/f", "in a new folder", 0o640),
        Op::RoFile {
            dst: "/t/ro0640".into(),
            content: "ro data".into(),
            mode: 0o640,
        },
        Op::RoFile {
            dst: "/t/ro0600".into(),
            content: "".into(),
            mode: 0o600,
        },
    ]);
    same_view("dir and file", &t, c, &["/t"]);
    // The same in the read-only root.
    let t = Twin::new().ops([
        dir("/rootdir", 0o711),
        file("/rootfile", "x", 0o604),
        Op::RoFile {
            dst: "/rootro".into(),
            content: "y".into(),
            mode: 0o644,
        },
    ]);
    same_view(
        "dir and file in the root",
        &t,
        c,
        &["/rootdir", "/rootfile", "/rootro"],
    );
});

twin!(symlinks, |c| {
    let t = with_tree().ops([
        tmpfs("/t"),
        symlink("target", "/t/rel"),
        symlink("/usr/bin", "/t/abs"),
        symlink("../../nowhere", "/t/dangling"),
        symlink("a b\tc", "/t/odd"),
        dir("/t/real", 0o755),
        // A mount onto a link lands where it leads (bwrap's test: "can
        // bind a destination over a symlink"); the link is the host's, as
        // one the profile made would be replaced by a mount at its path
        // (see a_later_mount_at_the_same_place_replaces_the_earlier).
        bind("{H}/d", "/t/hd"),
        bind("{H}/e", "/t/hd/toreal"),
        // A new folder through a link.
        tmpfs("/t/hd/toreal/new"),
        symlink("d/f", "/t/new/parent/made"),
    ]);
    same_view("symlinks", &t, c, &["/t"]);
});

twin!(remount_ro_of_a_mount, |c| {
    let t = with_tree().ops([
        bind("{H}/d", "/t/d"),
        remount_ro("/t/d"),
        tmpfs("/t/tmp"),
        file("/t/tmp/f", "x", 0o644),
        remount_ro("/t/tmp"),
        bind("{H}/rw", "/t/rw"),
        remount_ro("/t/rw"),
    ]);
    same_view("remount-ro", &t, c, &["/t"]);
});

twin!(remount_ro_reaches_mounts_below, |c| {
    // Rendered for bwrap as one --remount-ro per mount (its own is not
    // recursive: see remount_ro_is_recursive below).
    let t = with_tree().ops([
        bind("{H}/d", "/t/d"),
        bind("{H}/e", "/t/d/mnt"),
        tmpfs("/t/d/sub"),
        remount_ro("/t/d"),
    ]);
    same_view("recursive remount-ro", &t, c, &["/t"]);
});
