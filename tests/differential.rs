//! The same sandbox set up by bubblewrap (arguments) and by `sandbox run`
//! (a profile), compared by what a program inside observes. CI installs
//! Debian's `bubblewrap`; each test runs as root and as an unprivileged user.

mod common;
use common::*;
use std::path::Path;
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
    both_outputs_with(who, script, "")
}

/// As [`both_outputs`], with `more` added to sandbox's profile.
fn both_outputs_with(who: Who, script: &str, more: &str) -> Option<(String, String)> {
    if !have("bwrap") {
        cannot("needs bubblewrap (apt-get install bubblewrap)");
        return None;
    }
    let s = Scratch::new("twin");
    let profile = s.write("twin.toml", &format!("{PROFILE}\n{more}"));
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
    // Without the helper of `sandbox enter`, one more process of
    // sandbox's (docs/bubblewrap.md).
    let Some((b, s)) = both_outputs_with(
        who,
        "echo $$; set -- /proc/[0-9]*; echo $#",
        "[process]\nenter = false\n",
    ) else {
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
// docs/bubblewrap.md for every difference the tests expect.

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
            Node::File {
                path: "theirs".into(),
                mode: 0o600,
                content: "t".into(),
            },
            Node::Socket {
                path: "sock".into(),
            },
        ],
        owner_other: vec!["d/other".into(), "d/other/o".into(), "theirs".into()],
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
        // Someone else's file (bwrap's test: /etc/shadow cannot be read
        // through a bind), a socket bound over a socket's place.
        bind("{H}/theirs", "/t/theirs"),
        bind("{H}/sock", "/t/sock"),
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
    let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
        return;
    };
    // B7 (fixed): the folders pinned above the binds in the tmpfs (in,
    // in/sub/deep: see pin_folders_above_mounts) were made before the tmpfs
    // was mounted, in the writable bind below it: on the host, where the
    // other binds of that folder showed them.
    let on_host: Vec<String> = s
        .host_listing()
        .into_iter()
        .filter(|l| l.starts_with("e/tmp/"))
        .collect();
    assert_eq!(on_host, Vec::<String>::new());
    assert_same("nested binds", &b, &s, b.ok(), s.ok());
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

/// The probe line of `path` in `out`.
fn line_of<'a>(out: &'a str, path: &str) -> &'a str {
    out.lines()
        .find(|l| l.split(' ').next() == Some(path))
        .unwrap_or_else(|| panic!("no line for {path} in:\n{out}"))
}

/// The paths (first words) of the lines that differ.
fn differing(bo: &str, so: &str) -> std::collections::BTreeSet<String> {
    let (bl, sl): (Vec<&str>, Vec<&str>) = (bo.lines().collect(), so.lines().collect());
    bl.iter()
        .filter(|l| !sl.contains(l))
        .chain(sl.iter().filter(|l| !bl.contains(l)))
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect()
}

/// Assert the two views differ at exactly `paths` (the documented
/// differences), and are the same everywhere else.
fn assert_differ_only_at(what: &str, b: &Ran, s: &Ran, paths: &[&str]) {
    let (bo, so) = (b.ok(), s.ok());
    let got = differing(bo, so);
    let want: std::collections::BTreeSet<String> = paths.iter().map(|p| p.to_string()).collect();
    if got != want {
        panic!(
            "{what}: expected differences at {want:?}, found them at {got:?}\n--- bwrap:\n{}\n--- sandbox:\n{}\n{}",
            b.setup,
            s.setup,
            diff(bo, so)
        );
    }
}

/// For each path: whether it can be read (a byte), opened for writing,
/// whether its mount is read-only, and where a link leads; errors by name.
const ACCESS: &str = r#"
import errno, os, sys
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
for p in sys.argv[1:]:
    out = [p]
    try:
        os.lstat(p)
    except OSError as e:
        print(p, "missing", name(e))
        continue
    if os.path.islink(p):
        try:
            out.append("-> " + os.readlink(p))
        except OSError as e:
            out.append("readlink=" + name(e))
    else:
        try:
            if os.path.isdir(p):
                os.listdir(p)
            else:
                with open(p, "rb", buffering=0) as f:
                    f.read(1)
            out.append("r=ok")
        except OSError as e:
            out.append("r=" + name(e))
        if not os.path.isdir(p):
            try:
                os.close(os.open(p, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY))
                out.append("w=ok")
            except OSError as e:
                out.append("w=" + name(e))
        try:
            out.append("ro=%d" % (os.statvfs(p).f_flag & os.ST_RDONLY))
        except OSError as e:
            out.append("vfs=" + name(e))
    print(" ".join(out))
"#;

fn both_access(t: &Twin, c: Caller, paths: &[&str]) -> Option<(Ran, Ran)> {
    let mut argv = vec![PYTHON, "-c", ACCESS];
    argv.extend(paths);
    both(t, c, &argv)
}

/// The parts of a new /proc sandbox makes read-only (docs/profile-format.md,
/// src/plan/compile.rs); with host root, also PROC_RO_HOST_ROOT.
const PROC_RO: [&str; 5] = ["sys", "sysrq-trigger", "irq", "bus", "pressure"];
const PROC_RO_HOST_ROOT: [&str; 5] = ["mtrr", "acpi", "driver", "fs", "scsi"];
/// What the app cannot reach of the sandbox's PID 1, non-dumpable.
const PID1_SEALED: [&str; 8] = [
    "/proc/1/environ",
    "/proc/1/maps",
    "/proc/1/mem",
    "/proc/1/ns/user",
    "/proc/1/ns/mnt",
    "/proc/1/root",
    "/proc/1/cwd",
    "/proc/1/exe",
];

twin!(proc_of_the_sandbox, |c| {
    // Without sandbox's own layers here: Landlock keeps every file of
    // /proc from being opened for writing (proc_writes_under_landlock).
    let t = Twin::new().bare().op(Op::Proc {
        dst: "/proc".into(),
    });
    let same = [
        "/proc/self/status",
        "/proc/self/uid_map",
        "/proc/self/environ",
        "/proc/self/cmdline",
        "/proc/self/mountinfo",
        "/proc/self/fd",
        "/proc/self/oom_score_adj",
        "/proc/kcore",
        "/proc/1/status",
        "/proc/1/cmdline",
    ];
    let ro: Vec<String> = PROC_RO
        .iter()
        .chain(PROC_RO_HOST_ROOT.iter())
        .map(|p| format!("/proc/{p}"))
        .chain(["/proc/sys/kernel/ns_last_pid".to_string()])
        .collect();
    let mut paths: Vec<&str> = same.to_vec();
    paths.extend(PID1_SEALED);
    paths.extend(ro.iter().map(String::as_str));
    let Some((b, s)) = both_access(&t, c, &paths) else {
        return;
    };
    let (bo, so) = (b.ok(), s.ok());
    for p in same {
        assert_eq!(line_of(bo, p), line_of(so, p), "{p}");
    }
    // PID 1 is non-dumpable: its links and private files are not the app's.
    for p in PID1_SEALED {
        let sealed = |l: &str| l.contains(" r=EACCES") || l.contains("readlink=EACCES");
        assert!(sealed(line_of(so, p)), "{}", line_of(so, p));
        assert!(!sealed(line_of(bo, p)), "bwrap: {}", line_of(bo, p));
    }
    // The parts that change the kernel are read-only in sandbox (for host
    // root, more of them), whatever bwrap does.
    let host_root = c == Caller::Root;
    for p in &ro {
        let l = line_of(so, p);
        let part = p.trim_start_matches("/proc/");
        let listed = PROC_RO.contains(&part)
            || (host_root && PROC_RO_HOST_ROOT.contains(&part))
            || p.starts_with("/proc/sys/");
        if l.contains("missing") || !listed {
            continue;
        }
        assert!(l.contains("ro=1"), "{l}");
    }
});

twin!(proc_writes_under_landlock, |c| {
    // With sandbox's defaults, Landlock grants writes only where a mount
    // makes them (binds, tmpfs, /dev, ...): /proc is read-only to the app.
    let t = Twin::new().op(Op::Proc {
        dst: "/proc".into(),
    });
    let p = ["/proc/self/oom_score_adj", "/proc/self/comm"];
    let Some((b, s)) = both_access(&t, c, &p) else {
        return;
    };
    for p in p {
        assert!(line_of(b.ok(), p).contains("w=ok"), "{}", b.ok());
        assert!(line_of(s.ok(), p).contains("w=EACCES"), "{}", s.ok());
    }
});

twin!(dev_nodes, |c| {
    let t = Twin::new().ops([
        Op::Dev { dst: "/dev".into() },
        Op::Proc {
            dst: "/proc".into(),
        },
    ]);
    let Some((b, s)) = both_probe(&t, c, &["/dev"]) else {
        return;
    };
    // sandbox's /dev/shm is a tmpfs anyone may write (1777); bwrap makes a
    // folder of the caller's (0755). bwrap adds /dev/core -> /proc/kcore.
    assert_differ_only_at("/dev", &b, &s, &["/dev", "/dev/core", "/dev/shm"]);
    let (bo, so) = (b.ok(), s.ok());
    assert!(line_of(bo, "/dev/core").ends_with("-> /proc/kcore"));
    assert!(!so.contains("/dev/core "));
    assert!(line_of(so, "/dev/shm").contains(" d 1777 "), "{so}");
    assert!(line_of(bo, "/dev/shm").contains(" d 0755 "), "{bo}");
    let flags = |out: &str| {
        let l = line_of(out, "/dev");
        let m = l.split(' ').find(|w| w.starts_with("mnt=")).unwrap_or("");
        if m.contains("nodev") {
            "nodev"
        } else {
            "no nodev"
        }
        .to_string()
    };
    // B4 (fixed): the tmpfs under the device nodes (each a bind of its
    // own, whose flags are the ones that count: they open the same in both,
    // above) needs no device access: nodev, as bwrap's.
    assert_eq!(flags(so), flags(bo));
    assert_eq!(flags(so), "nodev");
});

/// Make a POSIX message queue, then the probe.
const MQ_THEN_PROBE: &str = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mq_open.restype = ctypes.c_int
q = libc.mq_open(b"/twin", os.O_CREAT | os.O_RDWR, 0o600, None)
print("mq_open", "ok" if q >= 0 else os.strerror(ctypes.get_errno()))
"#;

twin!(mqueue, |c| {
    let t = Twin::new().op(Op::Mqueue {
        dst: "/dev/mqueue".into(),
    });
    let code = format!("{MQ_THEN_PROBE}\n{PROBE}");
    let Some((b, s)) = both(&t, c, &[PYTHON, "-c", &code, "/dev/mqueue"]) else {
        return;
    };
    // sandbox mounts it nosuid, nodev, noexec; bwrap with no flags. Run by
    // root as nobody, sandbox made the IPC namespace (and with it this
    // filesystem) while still root: its root folder is root's (65534 here).
    assert_differ_only_at("mqueue", &b, &s, &["/dev/mqueue", "/dev/mqueue/twin"]);
    assert!(line_of(s.ok(), "/dev/mqueue").contains("mnt=nosuid,nodev,noexec"));
    assert!(s.ok().contains("mq_open ok"), "{}", s.ok());
    assert!(line_of(s.ok(), "/dev/mqueue/twin").contains(" f 0600 "));
});

twin!(hostname, |c| {
    let t = Twin {
        hostname: Some("twin-host".into()),
        ..Twin::new()
    }
    .op(Op::Proc {
        dst: "/proc".into(),
    });
    let Some((b, s)) = both_sh(&t, c, "hostname; uname -n; cat /proc/sys/kernel/hostname") else {
        return;
    };
    assert_eq!(b, s);
    assert_eq!(s, "twin-host\n".repeat(3));
});

twin!(default_hostname, |c| {
    // bwrap keeps the host's name in its new UTS namespace; sandbox names
    // it "sandbox".
    let t = Twin {
        bwrap_drop: vec!["--hostname"],
        ..Twin::new()
    };
    let Some((b, s)) = both_sh(&t, c, "hostname") else {
        return;
    };
    let host = nix::unistd::gethostname().unwrap();
    assert_eq!(b.trim(), host.to_string_lossy());
    assert_eq!(s, "sandbox\n");
});

const ENV: &str = "import os\nfor k, v in sorted(os.environ.items()):\n    print(k + '=' + v)";

/// The app's environment under each, PWD taken out of both and returned
/// (bwrap's, sandbox's): bwrap always sets it to the working directory,
/// sandbox where the caller's environment passes (`clear = false`, or PWD
/// kept), and not in a cleared one.
type EnvSeen = (String, String, Option<String>, Option<String>);
fn both_env(t: &Twin, c: Caller) -> Option<EnvSeen> {
    let (b, s) = both(t, c, &[PYTHON, "-c", ENV])?;
    let split = |out: &str| {
        let pwd = out
            .lines()
            .find(|l| l.starts_with("PWD="))
            .map(String::from);
        let rest: String = out
            .lines()
            .filter(|l| !l.starts_with("PWD="))
            .map(|l| format!("{l}\n"))
            .collect();
        (rest, pwd)
    };
    let ((bo, bp), (so, sp)) = (split(b.ok()), split(s.ok()));
    Some((bo, so, bp, sp))
}

twin!(environment_cleared_kept_and_set, |c| {
    let t = Twin {
        env: Env {
            clear: true,
            keep: vec!["L*".into(), "USER".into()],
            set: vec![
                ("FOO".into(), "bar baz".into()),
                ("EMPTY".into(), String::new()),
                ("USER".into(), "over".into()),
            ],
        },
        ..Twin::new()
    };
    let Some((b, s, pwd, ours)) = both_env(&t, c) else {
        return;
    };
    assert_eq!(b, s);
    assert_eq!(
        s,
        format!("EMPTY=\nFOO=bar baz\nLANG=C.UTF-8\nPATH={DEFAULT_PATH}\nUSER=over\n")
    );
    assert_eq!(pwd.as_deref(), Some("PWD=/"));
    assert_eq!(ours, None);
});

twin!(environment_passed_through, |c| {
    let t = Twin {
        env: Env {
            clear: false,
            keep: vec![],
            set: vec![("FOO".into(), "bar".into()), ("LANG".into(), "C".into())],
        },
        ..Twin::new()
    };
    let Some((b, s, bp, sp)) = both_env(&t, c) else {
        return;
    };
    assert_eq!((b.as_str(), bp.as_deref()), (s.as_str(), sp.as_deref()));
    assert_eq!(sp.as_deref(), Some("PWD=/"));
    assert!(
        s.contains("HOME=/nonexistent-twin-home\n") && s.contains("LANG=C\n"),
        "{s}"
    );
});

twin!(environment_without_one_variable, |c| {
    // bwrap --unsetenv LANG; sandbox: every other one kept.
    let t = Twin {
        env: Env {
            clear: true,
            keep: vec!["HOME".into(), "USER".into(), "PATH".into()],
            set: vec![],
        },
        bwrap_drop: vec!["--clearenv", "--setenv"],
        extra_bwrap: vec!["--unsetenv".into(), "LANG".into()],
        ..Twin::new()
    };
    let Some((b, s, _, sp)) = both_env(&t, c) else {
        return;
    };
    assert_eq!(b, s);
    assert!(!s.contains("LANG="));
    assert_eq!(sp, None);
});

twin!(pwd_of_the_caller, |c| {
    // B5 (fixed): with [env] clear = false the caller's PWD reached the
    // app, which starts in [process] cwd. Both set PWD to it, the same
    // where PWD is kept from a cleared environment; a PWD the profile
    // sets is the app's.
    let caller_pwd = vec![("PWD".to_string(), "/work/elsewhere".to_string())];
    let pwd = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("PWD="))
            .unwrap_or("no PWD")
            .to_string()
    };
    for (env, cwd, want) in [
        (
            Env {
                clear: false,
                keep: vec![],
                set: vec![],
            },
            None,
            "PWD=/",
        ),
        (
            Env {
                clear: false,
                keep: vec![],
                set: vec![],
            },
            Some("/usr/bin"),
            "PWD=/usr/bin",
        ),
        (
            Env {
                clear: true,
                keep: vec!["P?D".into()],
                set: vec![],
            },
            Some("/usr"),
            "PWD=/usr",
        ),
    ] {
        let t = Twin {
            env,
            cwd: cwd.map(String::from),
            caller_extra_env: caller_pwd.clone(),
            ..Twin::new()
        };
        let Some((b, s)) = both(&t, c, &[PYTHON, "-c", ENV]) else {
            return;
        };
        assert_eq!(pwd(b.ok()), want);
        assert_eq!(pwd(s.ok()), want);
    }
    // Set by the profile: the app gets that (bwrap sets PWD after its
    // --setenv, whatever they say).
    let t = Twin {
        env: Env {
            clear: false,
            keep: vec![],
            set: vec![("PWD".into(), "/set".into())],
        },
        caller_extra_env: caller_pwd,
        ..Twin::new()
    };
    let (b, s) = both(&t, c, &[PYTHON, "-c", ENV]).unwrap();
    assert_eq!(pwd(b.ok()), "PWD=/");
    assert_eq!(pwd(s.ok()), "PWD=/set");
});

twin!(working_directory, |c| {
    let t = Twin {
        cwd: Some("/t/d/sub".into()),
        ..with_tree()
    }
    .op(bind("{H}/d", "/t/d"));
    let script = "pwd; /bin/pwd -P; cat ../f; ls; cd ..; pwd";
    let Some((b, s)) = both_sh(&t, c, script) else {
        return;
    };
    assert_eq!(b, s);
    assert!(s.starts_with("/t/d/sub\n/t/d/sub\nhello\n"), "{s}");
});

twin!(default_working_directory, |c| {
    // Started in a folder the sandbox also has: bwrap's app starts there
    // (else in $HOME, else /), sandbox's in / ([process] cwd).
    let t = Twin {
        bwrap_drop: vec!["--chdir"],
        ..Twin::new()
    };
    let argv = ["/bin/pwd"];
    let in_usr = |c: &mut Command| {
        c.current_dir("/usr");
    };
    let Some(b) = t.run_with(c, Tool::Bwrap, &argv, in_usr) else {
        return;
    };
    let Some(s) = t.run_with(c, Tool::Sandbox, &argv, in_usr) else {
        return;
    };
    assert_eq!(b.ok(), "/usr\n");
    assert_eq!(s.ok(), "/\n");
});

const IDS: &str = "id -u; id -g; id -G; tr -s ' ' < /proc/self/uid_map; tr -s ' ' < /proc/self/gid_map; \
    cat /proc/self/setgroups; grep -E '^(Uid|Gid|Groups):' /proc/self/status; \
    touch /t/tmp/new /t/d/new; stat -c '%n %u %g' /t/tmp/new /t/d/new /t/d/f /t/d/other /usr";

twin!(ids_inside, |c| {
    // With a /dev: bwrap then nests a user namespace as the sandwich does
    // (for devpts), and the maps read the same.
    let t = Twin {
        uid: Some(1234),
        gid: Some(5678),
        ..with_tree()
    }
    .ops([
        Op::Dev { dst: "/dev".into() },
        Op::Proc {
            dst: "/proc".into(),
        },
        tmpfs("/t/tmp"),
        bind("{H}/d", "/t/d"),
    ]);
    let Some((b, s)) = both(&t, c, &["/bin/sh", "-c", IDS]) else {
        return;
    };
    // Run by nobody, bwrap's app keeps nobody's group (nogroup, seen as
    // the app's gid); sandbox drops root's supplementary groups.
    let bo = match c {
        Caller::Nobody => b.ok().replace("Groups:\t5678 \n", "Groups:\t \n"),
        _ => b.ok().to_string(),
    };
    assert_same("ids", &b, &s, &bo, s.ok());
    assert!(s.ok().starts_with("1234\n5678\n"));
    // What the app made on the host is the caller's (nobody's for root's
    // default sandbox) in both.
    let owner = |r: &Ran| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(r.host.join("d/new")).unwrap();
        (m.uid(), m.gid())
    };
    assert_eq!(owner(&b), owner(&s));
    assert_eq!(owner(&s), owner_of(c));
});

twin!(id_maps_without_dev, |c| {
    // Without a /dev bwrap maps the app's ids straight onto the caller's;
    // sandbox's app sits in the sandwich's inner namespace, whose other
    // side is the outer namespace's root: `ID 0 1` whatever the caller.
    let t = Twin {
        uid: Some(1234),
        gid: Some(5678),
        ..Twin::new()
    }
    .op(Op::Proc {
        dst: "/proc".into(),
    });
    let Some((b, s)) = both_sh(
        &t,
        c,
        "tr -s ' ' < /proc/self/uid_map; tr -s ' ' < /proc/self/gid_map",
    ) else {
        return;
    };
    let (hu, hg) = match c {
        Caller::Nobody => (65534, 65534),
        _ => default_ids(c),
    };
    assert_eq!(b, format!(" 1234 {hu} 1\n 5678 {hg} 1\n"));
    assert_eq!(s, " 1234 0 1\n 5678 0 1\n");
});

twin!(capabilities, |c| {
    for caps in [
        vec![],
        vec!["CAP_NET_BIND_SERVICE".to_string()],
        // (not CAP_NET_ADMIN: under the sandwich it would reach nothing,
        // which sandbox refuses: network_capabilities_... in tests/run.rs)
        vec!["CAP_SYS_ADMIN".to_string(), "CAP_SYS_PTRACE".to_string()],
    ] {
        let t = Twin {
            capabilities: caps.clone(),
            ..Twin::new()
        }
        .op(Op::Proc {
            dst: "/proc".into(),
        });
        let Some((b, s)) = both_sh(&t, c, "grep -E '^(Cap|NoNewPrivs)' /proc/self/status") else {
            return;
        };
        // sandbox always sets no_new_privs; bwrap only with a seccomp
        // filter (none here).
        let b = b.replace("NoNewPrivs:\t0", "NoNewPrivs:\t1");
        assert_eq!(b, s, "capabilities {caps:?}");
    }
});

#[test]
fn root_keeps_its_capabilities_under_bwrap_only() {
    // Run by root, bwrap leaves the app root's capabilities unless told
    // --cap-drop; sandbox keeps only those the profile names.
    let t = Twin {
        bwrap_drop: vec!["--cap-drop"],
        ..Twin::new()
    }
    .op(Op::Proc {
        dst: "/proc".into(),
    });
    let Some((b, s)) = both_sh(&t, Caller::Root, "grep CapEff /proc/self/status") else {
        return;
    };
    assert_ne!(b, "CapEff:\t0000000000000000\n");
    assert_eq!(s, "CapEff:\t0000000000000000\n");
}

twin!(exit_codes, |c| {
    let t = Twin::new().ops([
        tmpfs("/t"),
        file("/t/plain", "echo hi\n", 0o644),
        file("/t/script", "#!/bin/sh\nexit 3\n", 0o755),
    ]);
    let code = |t: &Twin, tool, argv: &[&str]| t.run(c, tool, argv).map(|r| r.code());
    let same: &[&[&str]] = &[
        &["/bin/true"],
        &["/bin/false"],
        &["/bin/sh", "-c", "exit 42"],
        &["/bin/sh", "-c", "exit 255"],
        &["/bin/sh", "-c", "kill -TERM $$"],
        &["/bin/sh", "-c", "kill -KILL $$"],
        &["/bin/sh", "-c", "kill -INT $$"],
        &["/bin/sh", "-c", "kill -HUP $$"],
        &["/bin/sh", "-c", "kill -USR1 $$"],
        &["/bin/sh", "-c", "kill -PIPE $$"],
    ];
    for argv in same {
        let Some(b) = code(&t, Tool::Bwrap, argv) else {
            return;
        };
        let s = code(&t, Tool::Sandbox, argv).unwrap();
        assert_eq!(b, s, "{argv:?}");
    }
    // A script in a tmpfs, with and without sandbox's own layers (Landlock
    // lets the app run what is in a place it may write, as bwrap does:
    // what_the_app_may_execute).
    let bare = t.clone().bare();
    let b = code(&bare, Tool::Bwrap, &["/t/script"]).unwrap();
    assert_eq!(b, code(&bare, Tool::Sandbox, &["/t/script"]).unwrap());
    assert_eq!(b, code(&t, Tool::Sandbox, &["/t/script"]).unwrap());
    assert_eq!(b, Some(3));
    // An exec that fails: bwrap exits 1 ("execvp ..."), sandbox 127 for a
    // command not found and 126 for one it cannot execute (docs/cli.md).
    for (argv, ours) in [
        (&["/no/such/program"][..], 127),
        (&["no-such-program-anywhere"][..], 127),
        (&["/t/plain"][..], 126),
        (&["/"][..], 126),
    ] {
        assert_eq!(code(&bare, Tool::Bwrap, argv).unwrap(), Some(1), "{argv:?}");
        assert_eq!(
            code(&bare, Tool::Sandbox, argv).unwrap(),
            Some(ours),
            "{argv:?}"
        );
    }
});

twin!(the_app_as_pid_1, |c| {
    // [process] init = false / --as-pid-1: the app is PID 1, which no
    // signal from inside ends without a handler.
    let t = Twin {
        init: false,
        ..Twin::new()
    }
    .op(Op::Proc {
        dst: "/proc".into(),
    });
    let script = "echo $$; kill -TERM $$; echo survived; set -- /proc/[0-9]*; echo $#; exit 9";
    let Some((b, s)) = both(&t, c, &["/bin/sh", "-c", script]) else {
        return;
    };
    assert_eq!(b.stdout, s.stdout);
    assert_eq!(s.stdout, "1\nsurvived\n1\n");
    assert_eq!((b.code(), s.code()), (Some(9), Some(9)));
});

twin!(standard_streams_pass_through, |c| {
    let t = Twin::new().ops([
        Op::Dev { dst: "/dev".into() },
        Op::Proc {
            dst: "/proc".into(),
        },
    ]);
    let input = b"one\ntwo\x00three\n\xff\xfe last";
    let argv = [
        "/bin/sh",
        "-c",
        "cat; echo to-stderr >&2; echo via-dev > /dev/stdout; echo err-via-dev > /dev/stderr; exit 4",
    ];
    let Some(b) = t.run_input(c, Tool::Bwrap, &argv, input) else {
        return;
    };
    let s = t.run_input(c, Tool::Sandbox, &argv, input).unwrap();
    assert_eq!((b.code(), s.code()), (Some(4), Some(4)));
    assert_eq!(b.stdout, s.stdout);
    assert_eq!(b.stderr, s.stderr);
    assert!(s.stdout.starts_with("one\ntwo\0three\n"));
    // Reopening a pipe through /dev/stdout takes the rights of its owner,
    // the test (root): the others are refused, in both.
    if c == Caller::Root {
        assert_eq!(s.stderr, "to-stderr\nerr-via-dev\n");
    }
});

// ---------------------------------------------------------------------
// Bugs found by comparing with bwrap (docs/bubblewrap.md#bugs-found-by-comparing): each test
// passes on the known wrong behaviour and on bwrap's, fails on anything
// else, and fails on the known one with SANDBOX_KNOWN_BUGS=fail.

fn mode_of(p: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!(
        "{:04o}",
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    )
}

/// The mode field of `path`'s probe line.
fn probe_mode(out: &str, path: &str) -> String {
    line_of(out, path).split(' ').nth(2).unwrap().to_string()
}

twin!(dir_over_an_existing_folder, |c| {
    // A `dir` whose destination exists (here a host folder, 0710, through
    // a writable bind) leaves it as it is, on the host too, as bwrap's
    // --dir does (B1, fixed).
    let t = with_tree().ops([bind("{H}/d", "/t/d"), dir("/t/d/sub", 0o700)]);
    let Some((b, s)) = both_probe(&t, c, &["/t/d/sub"]) else {
        return;
    };
    let seen = |r: &Ran| {
        format!(
            "inside {} host {}",
            probe_mode(r.ok(), "/t/d/sub"),
            mode_of(&r.host.join("d/sub"))
        )
    };
    assert_eq!(seen(&b), "inside 0710 host 0710");
    assert_eq!(seen(&s), seen(&b));
    // The same over a folder of a read-only bind: nothing to do, and
    // both start.
    let t = with_tree().ops([ro_bind("{H}/d", "/t/d"), dir("/t/d/sub", 0o700)]);
    let (b, s) = both_probe(&t, c, &["/t/d/sub"]).unwrap();
    assert_same("dir over a read-only folder", &b, &s, b.ok(), s.ok());
});

twin!(modes_do_not_depend_on_the_callers_umask, |c| {
    // B2 (fixed): sandbox made the folders on the way to a destination
    // (and the mount points it creates) with mkdir's 0755 less the
    // caller's umask, 0700 under umask 077, which a service that switches
    // to another uid inside (a range of [user] map) cannot cross. Both now
    // build the sandbox with umask 0 and give the app the caller's.
    let t = Twin {
        umask: 0o077,
        ..with_tree()
    }
    .ops([
        Op::Tmpfs {
            dst: "/t/a/tmp".into(),
            size: None,
            mode: 0o755,
        },
        bind("{H}/d", "/t/d"),
        file("/t/d/new/f", "x", 0o644),
        bind("{H}/ro", "/t/d/newer/ro"),
    ]);
    let Some((b, s)) = both(&t, c, &["/bin/sh", "-c", "umask"]) else {
        return;
    };
    // The app's own umask is the caller's in both.
    assert_eq!((b.ok(), s.ok()), ("0077\n", "0077\n"));
    let (b, s) = both_probe(&t, c, &["/t"]).unwrap();
    let seen = |r: &Ran| {
        let o = r.ok();
        format!(
            "/t {} /t/a {} /t/d/new {} /t/d/newer {} (host {} {})",
            probe_mode(o, "/t"),
            probe_mode(o, "/t/a"),
            probe_mode(o, "/t/d/new"),
            probe_mode(o, "/t/d/newer"),
            mode_of(&r.host.join("d/new")),
            mode_of(&r.host.join("d/newer"))
        )
    };
    assert_eq!(
        seen(&b),
        "/t 0755 /t/a 0755 /t/d/new 0755 /t/d/newer 0755 (host 0755 0755)"
    );
    assert_eq!(seen(&s), seen(&b));
    // And all the rest: the views, and the host's tree (the mount point
    // of d/newer/ro 0444 in both).
    assert_same("under umask 077", &b, &s, b.ok(), s.ok());
    assert_eq!(b.host_listing(), s.host_listing());
});

twin!(a_tmpfs_of_size_zero, |c| {
    // B3 (fixed): `size = 0` reached the kernel, for which a tmpfs of size
    // 0 has no limit at all, as has one whose size wraps to 0 when rounded
    // up to whole pages. bwrap refuses --size 0 ("takes a non-zero number
    // of bytes") and sizes above 2^63 - 1; sandbox refuses both at their
    // profile line, before anything runs.
    for (size, bwrap_says) in [(0, "non-zero"), (1 << 63, "limited to 9223372036854775807")] {
        let t = Twin::new().op(Op::Tmpfs {
            dst: "/t".into(),
            size: Some(size),
            mode: 0o755,
        });
        let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
            return;
        };
        assert!(!b.status.success());
        assert!(b.stderr.contains(bwrap_says), "{}", b.stderr);
        assert_eq!(s.code(), Some(125), "{}", s.stdout);
        assert!(s.stdout.is_empty(), "{}", s.stdout);
        let line = t
            .profile(c, &s.host)
            .lines()
            .position(|l| l.starts_with("size = "))
            .unwrap()
            + 1;
        assert!(
            s.stderr
                .contains(&format!("twin.toml:{line}:8: error: a tmpfs of ")),
            "{}",
            s.stderr
        );
    }
});

// ---------------------------------------------------------------------
// Intended differences (docs/bubblewrap.md), each pinned.

twin!(a_file_over_an_existing_host_file, |c| {
    // A `file` over a host file (through a writable bind): bwrap's --file
    // rewrites the host's file, keeping its mode; sandbox never writes a
    // host file it was not asked to bind: the app sees a private copy
    // with the profile's content and mode, bound over it, and the host's
    // stays as it was.
    let t = with_tree().ops([bind("{H}/d", "/t/d"), file("/t/d/f", "new\n", 0o600)]);
    let Some((b, s)) = both_probe(&t, c, &["/t/d/f"]) else {
        return;
    };
    let seen = |r: &Ran| {
        let l = line_of(r.ok(), "/t/d/f");
        format!(
            "inside {} {} host {} {:?}",
            probe_mode(r.ok(), "/t/d/f"),
            l.split(' ').find(|w| w.starts_with("data=")).unwrap(),
            mode_of(&r.host.join("d/f")),
            std::fs::read_to_string(r.host.join("d/f")).unwrap()
        )
    };
    assert_eq!(seen(&b), "inside 0644 data=b'new\\n' host 0644 \"new\\n\"");
    assert_eq!(
        seen(&s),
        "inside 0600 data=b'new\\n' host 0644 \"hello\\n\""
    );
});

twin!(remount_ro_is_recursive, |c| {
    // sandbox's remount-ro makes every mount below read-only too; bwrap's
    // --remount-ro changes the one mount it names.
    let t = Twin {
        extra_profile: "[[mount]]\ntype = \"remount-ro\"\ndst = \"/t/d\"\n".into(),
        extra_bwrap: vec!["--remount-ro".into(), "/t/d".into()],
        ..with_tree()
    }
    .ops([bind("{H}/d", "/t/d"), tmpfs("/t/d/sub")]);
    let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
        return;
    };
    assert_differ_only_at("remount-ro", &b, &s, &["/t/d/sub"]);
    assert!(line_of(s.ok(), "/t/d/sub").contains("w=EROFS mnt=ro,"));
    assert!(line_of(b.ok(), "/t/d/sub").contains("w=ok mnt=nosuid"));
});

twin!(remount_ro_of_a_folder_that_is_not_a_mount, |c| {
    // sandbox makes a read-only mount of whatever is there; bwrap remounts
    // and needs a mount point.
    let t = Twin::new().ops([tmpfs("/t"), dir("/t/x", 0o755), remount_ro("/t/x")]);
    let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
        return;
    };
    assert!(!b.status.success(), "{}", b.stdout);
    assert!(b.stderr.contains("in mount table"), "{}", b.stderr);
    assert!(line_of(s.ok(), "/t/x").contains("w=EROFS mnt=ro,"));
    assert!(line_of(s.ok(), "/t").contains("w=ok"));
});

twin!(a_later_mount_at_the_same_place_replaces_the_earlier, |c| {
    // Mounts at one destination: sandbox keeps the last (that is how an
    // extending profile changes a mount); bwrap applies both, in order:
    // here the bind goes through the link the first made.
    let t = with_tree().ops([
        tmpfs("/t"),
        dir("/t/real", 0o755),
        symlink("real", "/t/link"),
        bind("{H}/d", "/t/link"),
    ]);
    let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
        return;
    };
    assert!(line_of(b.ok(), "/t/link").ends_with("-> real"));
    assert!(line_of(b.ok(), "/t/real/f").contains(" f "));
    assert!(line_of(s.ok(), "/t/link").contains(" d "));
    assert!(line_of(s.ok(), "/t/link/f").contains(" f "));
    assert!(!s.ok().contains("/t/real/f"));
    // Two different links at one place: bwrap fails, sandbox makes the
    // last.
    let t = Twin::new().ops([tmpfs("/t"), symlink("a", "/t/l"), symlink("b", "/t/l")]);
    let (b, s) = both_probe(&t, c, &["/t/l"]).unwrap();
    assert!(!b.status.success());
    assert!(line_of(s.ok(), "/t/l").ends_with("-> b"));
});

twin!(a_bind_of_a_symlink_is_the_link, |c| {
    // sandbox recreates a link it is asked to bind (so /bin -> usr/bin
    // stays a link); bwrap binds what the link leads to.
    let t = with_tree().op(bind("{H}/d/l", "/t/l"));
    let Some((b, s)) = both_probe(&t, c, &["/t/l"]) else {
        return;
    };
    assert!(line_of(s.ok(), "/t/l").ends_with(" -> f"), "{}", s.ok());
    assert!(line_of(b.ok(), "/t/l").contains(" f 0644 "), "{}", b.ok());
});

twin!(the_root_is_read_only_by_default, |c| {
    // sandbox's empty root is read-only once built (readonly_root); bwrap's
    // stays writable unless told --remount-ro /.
    let t = Twin {
        bwrap_drop: vec!["--remount-ro"],
        ..Twin::new()
    };
    let script = "mkdir /x 2>&1 | sed 's/.*: //'; test -d /x && echo made; true";
    let Some((b, s)) = both_sh(&t, c, script) else {
        return;
    };
    assert_eq!(b, "made\n");
    assert_eq!(s, "Read-only file system\n");
    // Asked not to, both leave it writable, Landlock or not (its rules
    // grant the writes a root left writable takes).
    let t = Twin {
        readonly_root: false,
        ..Twin::new()
    };
    let (b, s) = both_sh(&t.clone().bare(), c, "mkdir /x && echo made").unwrap();
    assert_eq!((b.as_str(), s.as_str()), ("made\n", "made\n"));
    let (b, s) = both_sh(&t, c, "mkdir /x && echo made").unwrap();
    assert_eq!((b.as_str(), s.as_str()), ("made\n", "made\n"));
});

twin!(what_the_app_may_execute, |c| {
    // With sandbox's defaults Landlock lets the app execute below the
    // read-only folder binds and the places it may write (a tmpfs, a
    // writable bind), as bwrap does.
    let t = with_tree().ops([
        tmpfs("/t"),
        file("/t/run", "#!/bin/sh\necho ran\n", 0o755),
        bind("{H}/d", "/t/rw"),
        ro_bind("{H}/d", "/t/ro"),
        ro_bind("{H}/d/x", "/bin-x"),
        file("/root-run", "#!/bin/sh\necho ran\n", 0o755),
    ]);
    for prog in ["/t/run", "/t/rw/x", "/t/ro/x"] {
        let Some((b, s)) = both(&t, c, &[prog]) else {
            return;
        };
        assert_eq!((b.ok(), s.ok()), ("ran\n", "ran\n"), "{prog}");
    }
    // B6 (fixed): nor did it run a program bound read-only on its own (a
    // file, not a folder: only folder binds were in Landlock's executable
    // set), nor one the profile makes in the read-only root, where no
    // place the app may write holds them; bwrap runs both, and so does
    // sandbox now (its executable set has read-only file binds and the
    // files the profile makes).
    for prog in ["/bin-x", "/root-run"] {
        let (b, s) = both(&t, c, &[prog]).unwrap();
        assert_eq!((b.ok(), s.ok()), ("ran\n", "ran\n"), "{prog}");
    }
    // A mount a later one hides is in no Landlock rule (whose path may be
    // gone): both start, and see the same.
    let t = with_tree().ops([
        ro_bind("{H}/d", "/t/hidden/d"),
        ro_bind("{H}/d/x", "/t/hidden/x"),
        file("/t/hidden/f", "#!/bin/sh\n", 0o755),
        bind("{H}/e", "/t/hidden/e"),
        tmpfs("/t/hidden"),
    ]);
    same_view("hidden mounts", &t, c, &["/t"]);
});

/// A home with a secret and a startup file.
fn home_tree() -> HostTree {
    HostTree {
        nodes: vec![
            Node::Dir {
                path: "home".into(),
                mode: 0o755,
            },
            Node::Dir {
                path: "home/.ssh".into(),
                mode: 0o700,
            },
            Node::File {
                path: "home/.ssh/id_ed25519".into(),
                mode: 0o600,
                content: "PRIVATE".into(),
            },
            Node::File {
                path: "home/.bashrc".into(),
                mode: 0o644,
                content: "alias ls=rm\n".into(),
            },
            Node::File {
                path: "home/notes".into(),
                mode: 0o644,
                content: "n".into(),
            },
        ],
        owner_other: vec![],
    }
}

twin!(secrets_hidden_inside_a_bind_of_home, |c| {
    // A writable bind of the caller's home: sandbox hides the secrets in
    // it (an empty read-only folder over ~/.ssh) and makes the places code
    // runs from read-only (~/.bashrc); bwrap shows all, writable.
    let t = Twin {
        host: Some(home_tree()),
        caller_home: Some("{H}/home".into()),
        ..Twin::new()
    }
    .op(bind("{H}/home", "/home/u"));
    let Some((b, s)) = both_probe(&t, c, &["/home/u"]) else {
        return;
    };
    assert_differ_only_at(
        "home",
        &b,
        &s,
        &["/home/u/.ssh", "/home/u/.ssh/id_ed25519", "/home/u/.bashrc"],
    );
    let so = s.ok();
    assert!(
        line_of(so, "/home/u/.ssh").contains(" d 0700 ")
            && line_of(so, "/home/u/.ssh").contains("mnt=ro,")
    );
    assert!(!so.contains("id_ed25519"));
    assert!(line_of(so, "/home/u/.bashrc").contains("w=EROFS"));
    assert!(line_of(b.ok(), "/home/u/.ssh/id_ed25519").contains("PRIVATE"));
});

twin!(parents_modes, |c| {
    // The folders made on the way to a destination: 0755 less what the
    // mode of the thing made lacks (its group and other bits: 0700 below
    // a 0700 dir), in both. Below a step without a mode (a bind, a link)
    // sandbox's are 0755; bwrap 0.8 takes the mode of such a step as 0
    // and makes them 0700.
    let t = Twin {
        bwrap_parents: false,
        ..with_tree()
    }
    .ops([
        tmpfs("/t"),
        dir("/t/p0700/d", 0o700),
        dir("/t/p0750/d", 0o750),
        dir("/t/p0705/d", 0o705),
        dir("/t/p1777/d", 0o1777),
        Op::Tmpfs {
            dst: "/t/ptmp/d".into(),
            size: None,
            mode: 0o700,
        },
        file("/t/pfile/f", "", 0o600),
        bind("{H}/d", "/t/pbind/d"),
        bind("{H}/ro", "/t/pbindf/f"),
        symlink("x", "/t/plink/l"),
    ]);
    let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
        return;
    };
    let parents = [
        "p0700", "p0750", "p0705", "p1777", "ptmp", "pfile", "pbind", "pbindf", "plink",
    ];
    let modes = |out: &str| -> Vec<String> {
        parents
            .iter()
            .map(|p| format!("{p} {}", probe_mode(out, &format!("/t/{p}"))))
            .collect()
    };
    let with_a_mode = "p0700 0700, p0750 0750, p0705 0705, p1777 0755, ptmp 0700, pfile 0700";
    assert_eq!(
        modes(b.ok()).join(", "),
        format!("{with_a_mode}, pbind 0700, pbindf 0700, plink 0700")
    );
    assert_eq!(
        modes(s.ok()).join(", "),
        format!("{with_a_mode}, pbind 0755, pbindf 0755, plink 0755")
    );
    assert_differ_only_at("parents", &b, &s, &["/t/pbind", "/t/pbindf", "/t/plink"]);
});

twin!(parents_pinned_in_a_writable_bind, |c| {
    // Inside a writable bind of a host folder, the folders between it and
    // a deeper mount are pinned (made, then bound onto themselves, right
    // after the bind): made with the mode the step that needs them would
    // give them, as bwrap makes them. They were 0755 whatever that step
    // said (found by random_plans).
    let t = with_tree().ops([
        bind("{H}/d", "/t/d"),
        Op::Tmpfs {
            dst: "/t/d/new/tmp".into(),
            size: None,
            mode: 0o750,
        },
        dir("/t/d/a", 0o711),
        ro_bind("{H}/e", "/t/d/a/b/c"),
        file("/t/d/p/f", "f", 0o600),
        ro_bind("{H}/e", "/t/d/p/q/r"),
    ]);
    let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
        return;
    };
    let modes = |out: &str| {
        ["new", "a", "a/b", "p", "p/q"]
            .map(|p| format!("{p} {}", probe_mode(out, &format!("/t/d/{p}"))))
            .join(", ")
    };
    assert_eq!(
        modes(b.ok()),
        "new 0750, a 0711, a/b 0755, p 0700, p/q 0755"
    );
    assert_same("pinned parents", &b, &s, b.ok(), s.ok());
    assert_eq!(b.host_listing(), s.host_listing());
});

twin!(mount_points_made_on_the_host, |c| {
    // On a host folder as the root, the mount points are made on the
    // host, the same in both: a folder 0755, a file 0444.
    let t = Twin {
        rootfs: Some("{H}/root".into()),
        readonly_root: false,
        host: Some(HostTree {
            nodes: vec![
                Node::Dir {
                    path: "root".into(),
                    mode: 0o755,
                },
                Node::Dir {
                    path: "src".into(),
                    mode: 0o755,
                },
                Node::File {
                    path: "srcf".into(),
                    mode: 0o600,
                    content: "f".into(),
                },
            ],
            owner_other: vec![],
        }),
        ..Twin::new()
    }
    .ops([
        ro_bind("/usr", "/usr"),
        symlink("usr/lib", "/lib"),
        symlink("usr/lib64", "/lib64"),
        bind("{H}/src", "/newdir"),
        bind("{H}/srcf", "/new/file"),
    ]);
    let Some((b, s)) = both(&t, c, &["/usr/bin/true"]) else {
        return;
    };
    let (b, s) = (b.host_listing().join("\n"), s.host_listing().join("\n"));
    assert_eq!(b, s);
    let (uid, gid) = owner_of(c);
    assert!(
        s.contains(&format!("root/newdir d 0755 {uid}:{gid}")),
        "{s}"
    );
    assert!(
        s.contains(&format!("root/new/file f 0444 {uid}:{gid}")),
        "{s}"
    );
});

twin!(default_modes, |c| {
    // Without a mode: sandbox's file is 0644; bwrap's --file 0666 and its
    // --ro-bind-data 0600 (sandbox's read-only file: a file, then
    // remount-ro). Folders and tmpfs 0755 in both.
    let t = Twin {
        extra_profile: "[[mount]]\ntype = \"file\"\ndst = \"/t/file\"\n\n\
            [[mount]]\ntype = \"file\"\ndst = \"/t/rofile\"\n\n\
            [[mount]]\ntype = \"remount-ro\"\ndst = \"/t/rofile\"\n\n\
            [[mount]]\ntype = \"dir\"\ndst = \"/t/dir\"\n\n\
            [[mount]]\ntype = \"tmpfs\"\ndst = \"/t/tmp\"\n"
            .into(),
        extra_bwrap: [
            "--file",
            "0",
            "/t/file",
            "--ro-bind-data",
            "0",
            "/t/rofile",
            "--dir",
            "/t/dir",
            "--tmpfs",
            "/t/tmp",
        ]
        .map(String::from)
        .to_vec(),
        ..Twin::new()
    }
    .op(tmpfs("/t"));
    let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
        return;
    };
    let modes = |out: &str| {
        ["file", "rofile", "dir", "tmp"]
            .map(|n| format!("{n} {}", probe_mode(out, &format!("/t/{n}"))))
            .join(", ")
    };
    assert_eq!(modes(b.ok()), "file 0666, rofile 0600, dir 0755, tmp 0755");
    assert_eq!(modes(s.ok()), "file 0644, rofile 0644, dir 0755, tmp 0755");
});

#[test]
fn a_root_callers_sandbox_is_nobody_on_the_host() {
    // Run by root, sandbox's sandbox is nobody on the host unless the
    // profile says host_root; bwrap's is root. (Caller::Nobody compares
    // the same sandbox with bwrap run by nobody.) Root's files here.
    let mut tree = tree();
    tree.nodes.push(Node::Dir {
        path: "d/pub".into(),
        mode: 0o777,
    });
    let t = Twin {
        host: Some(tree),
        host_root: Some(false),
        ..Twin::new()
    }
    .op(bind("{H}/d", "/t/d"));
    let script = "touch /t/d/made /t/d/pub/made 2>&1 | sed 's/.*: //'; cat /t/d/secret 2>&1 | sed 's/.*: //'";
    let Some((b, s)) = both_sh(&t, Caller::Root, script) else {
        return;
    };
    assert_eq!(b, "s");
    assert_eq!(s, "Permission denied\nPermission denied\n");
    let owner = |script_run: Option<Ran>| {
        use std::os::unix::fs::MetadataExt;
        let r = script_run.unwrap();
        let m = std::fs::metadata(r.host.join("d/pub/made")).unwrap();
        (m.uid(), m.gid())
    };
    let argv = ["/bin/sh", "-c", "touch /t/d/pub/made"];
    assert_eq!(owner(t.run(Caller::Root, Tool::Bwrap, &argv)), (0, 0));
    assert_eq!(
        owner(t.run(Caller::Root, Tool::Sandbox, &argv)),
        (65534, 65534)
    );
}

/// Numbers the apps of the_app_dies_with_the_launcher apart: one counter
/// for the test's three variants, which run at once (a counter in the
/// test's body is one per variant, and their markers would meet, so that
/// one variant would find, and end, another's app).
static DIES_N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

twin!(the_app_dies_with_the_launcher, |c| {
    // SIGKILL the tool: with die_with_parent / --die-with-parent the app
    // goes too; without, it outlives it (in both; the test ends it).
    use std::io::Read;
    for die in [true, false] {
        for tool in [Tool::Bwrap, Tool::Sandbox] {
            let n = DIES_N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let marker = format!("sleep 60.{}{n}", std::process::id());
            let t = Twin {
                die_with_parent: die,
                ..Twin::new()
            };
            let script = format!("echo ready; exec {marker}");
            let Some(mut p) = t.prepare(c, tool, &["/bin/sh", "-c", &script]) else {
                return;
            };
            let mut child = p
                .command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut buf = [0u8; 6];
            child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
            let launcher = tool_pid(child.id());
            // SAFETY: killing the tool this test started.
            unsafe { libc::kill(launcher as i32, libc::SIGKILL) };
            let _ = child.wait();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            let settle = std::time::Instant::now() + std::time::Duration::from_millis(500);
            loop {
                let alive = pids_of(&marker);
                let now = std::time::Instant::now();
                if die && alive.is_empty() {
                    break;
                }
                if !die && now >= settle {
                    assert!(
                        !alive.is_empty(),
                        "{tool:?}: the app died with the launcher"
                    );
                    for pid in alive {
                        // SAFETY: the app this test started.
                        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                    }
                    break;
                }
                assert!(now < deadline, "{tool:?}: the app outlived the launcher");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
});

twin!(a_signal_to_the_launcher, |c| {
    // sandbox forwards SIGTERM (and INT, HUP, QUIT, USR1, USR2, WINCH) to
    // the app; bwrap does not: it dies of it, and the app with it.
    use std::io::Read;
    let t = Twin::new();
    let script = "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done";
    let mut seen = vec![];
    for tool in [Tool::Bwrap, Tool::Sandbox] {
        let Some(mut p) = t.prepare(c, tool, &["/bin/sh", "-c", script]) else {
            return;
        };
        use std::os::unix::process::CommandExt;
        // A group of its own: what bwrap leaves running (its inner PID 1
        // can outlive the outer one's death, holding the pipe) is killed
        // with it, and the rest is read for a bounded time.
        let mut child = p
            .command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 6];
        out.read_exact(&mut buf).unwrap();
        // SAFETY: signalling the tool this test started.
        unsafe { libc::kill(tool_pid(child.id()) as i32, libc::SIGTERM) };
        let status = child.wait().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut rest = vec![];
            let mut chunk = [0u8; 256];
            while let Ok(n @ 1..) = out.read(&mut chunk) {
                rest.extend_from_slice(&chunk[..n]);
                if tx.send(rest.clone()).is_err() {
                    return;
                }
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut rest = vec![];
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(r) => rest = r,
                Err(_) => break,
            }
        }
        // SAFETY: the group this test made; what is left of it goes.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        seen.push((String::from_utf8_lossy(&rest).into_owned(), status.code()));
    }
    assert_eq!(seen[1], ("got-term\n".to_string(), Some(7)));
    assert!(!seen[0].0.contains("got-term"), "{:?}", seen[0]);
    assert_ne!(seen[0].1, Some(7));
});

/// What the app can do with the terminal it is started on.
const TTY: &str = r#"
import errno, fcntl, os, termios
def attempt(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
print("stdin-is-a-tty", os.isatty(0))
print("open-dev-tty", attempt(lambda: os.close(os.open("/dev/tty", os.O_RDWR))))
print("foreground", attempt(lambda: os.tcgetpgrp(0)))
def push():
    # With the terminal's echo off: the byte pushed would be echoed into
    # the output, in front of the next line.
    try:
        saved = termios.tcgetattr(0)
        quiet = list(saved)
        quiet[3] &= ~termios.ECHO
        termios.tcsetattr(0, termios.TCSANOW, quiet)
    except OSError:
        saved = None
    try:
        fcntl.ioctl(0, termios.TIOCSTI, b"x")
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSANOW, saved)
print("tiocsti", attempt(push))
def console_is_stdin():
    try:
        return os.path.samestat(os.stat("/dev/console"), os.fstat(0))
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
print("console-is-stdin", console_is_stdin())
"#;

twin!(on_a_terminal, |c| {
    let dev = [
        Op::Dev { dst: "/dev".into() },
        Op::Proc {
            dst: "/proc".into(),
        },
    ];
    let run = |t: &Twin| -> Option<(String, String)> {
        let b = t.run_on_terminal(c, Tool::Bwrap, &[PYTHON, "-c", TTY])?;
        let s = t.run_on_terminal(c, Tool::Sandbox, &[PYTHON, "-c", TTY])?;
        Some((b.stdout, s.stdout))
    };
    // A new session: the terminal is still stdin, but no longer the
    // controlling one, so no keystrokes can be pushed into it. bwrap binds
    // it at /dev/console all the same; sandbox only when the app shares
    // the caller's terminal (no new session), where `tty` needs it.
    let t = Twin::new().ops(dev.clone());
    let Some((b, s)) = run(&t) else {
        return;
    };
    assert!(b.contains("console-is-stdin True"), "{b}");
    assert_eq!(
        b.replace("console-is-stdin True", "console-is-stdin ENOENT"),
        s
    );
    assert!(
        s.contains("stdin-is-a-tty True\nopen-dev-tty ENXIO\nforeground ENOTTY\ntiocsti EPERM\n"),
        "{s}"
    );
    // The caller's session, without sandbox's seccomp filter: both can.
    let t = Twin {
        new_session: false,
        ..Twin::new()
    }
    .ops(dev.clone());
    // Both bind it at /dev/console (bd643d4).
    let (b, s) = run(&t.clone().bare()).unwrap();
    assert_eq!(b, s);
    assert!(
        s.contains("open-dev-tty ok\nforeground ok\ntiocsti ok\nconsole-is-stdin True\n"),
        "{s}"
    );
    // With it, TIOCSTI is refused even then; all else the same.
    let (b, s) = run(&t).unwrap();
    assert!(b.contains("tiocsti ok"), "{b}");
    assert_eq!(b.replace("tiocsti ok", "tiocsti EPERM"), s);
    assert!(
        s.contains("open-dev-tty ok\nforeground ok\ntiocsti EPERM\nconsole-is-stdin True\n"),
        "{s}"
    );
});

twin!(nested_user_namespaces, |c| {
    let script = "cat /proc/sys/user/max_user_namespaces; unshare -U true 2>&1 | sed 's/^unshare: //'; echo end";
    let ops = [
        Op::Dev { dst: "/dev".into() },
        Op::Proc {
            dst: "/proc".into(),
        },
    ];
    // Refused: nested_userns = false / --disable-userns.
    let t = Twin {
        nested_userns: Some(false),
        ..Twin::new()
    }
    .ops(ops.clone());
    let Some((b, s)) = both_sh(&t.clone().bare(), c, script) else {
        return;
    };
    assert_eq!(b, s);
    assert!(
        s.ends_with("unshare failed: No space left on device\nend\n"),
        "{s}"
    );
    // sandbox's seccomp filter refuses the call itself, before the limit.
    let (_, s) = both_sh(&t, c, script).unwrap();
    assert!(
        s.ends_with("unshare failed: Operation not permitted\nend\n"),
        "{s}"
    );
    // Allowed.
    let t = Twin {
        nested_userns: Some(true),
        ..Twin::new()
    }
    .ops(ops);
    let (b, s) = both_sh(&t.clone().bare(), c, script).unwrap();
    assert_eq!(b, s);
    assert!(s.ends_with("\nend\n") && !s.contains("failed"), "{s}");
});

twin!(a_folder_over_tmp_of_the_hosts_root, |c| {
    // bwrap's tests: --bind / / --bind DIR /tmp shows DIR at /tmp, and no
    // trace of the old or new root. sandbox: [filesystem] root = "/".
    let t = Twin {
        rootfs: Some("/".into()),
        readonly_root: false,
        ..with_tree()
    }
    .op(bind("{H}/d", "/tmp"));
    let script = "cat /tmp/f; ls /tmp | tr '\\n' ' '; echo; \
        for d in /tmp/oldroot /tmp/newroot /oldroot /newroot; do test -e $d && echo $d; done; \
        test -d /usr/bin && echo usr";
    let Some((b, s)) = both_sh(&t, c, script) else {
        return;
    };
    assert_eq!(b, s);
    assert!(s.starts_with("hello\n") && s.ends_with("\nusr\n"), "{s}");
});

twin!(a_command_named_like_an_option, |c| {
    // bwrap's tests: after --, a command named --like-this is a command.
    let t = Twin {
        host: Some(HostTree {
            nodes: vec![
                Node::Dir {
                    path: "bin".into(),
                    mode: 0o755,
                },
                Node::File {
                    path: "bin/--inadvisable-executable-name--".into(),
                    mode: 0o755,
                    content: "#!/bin/sh\necho hello\n".into(),
                },
            ],
            owner_other: vec![],
        }),
        env: Env {
            clear: true,
            keep: vec![],
            set: vec![("PATH".into(), "/t/bin:/usr/bin".into())],
        },
        ..Twin::new()
    }
    .op(ro_bind("{H}/bin", "/t/bin"));
    let Some((b, s)) = both(&t, c, &["--inadvisable-executable-name--"]) else {
        return;
    };
    assert_eq!((b.ok(), s.ok()), ("hello\n", "hello\n"));
});
// ---------------------------------------------------------------------
// Random mount plans (proptest): a host tree and a sequence of mounts over
// it, each rendered to both tools and run by the same caller; the probe's
// view of /t (types, modes, owners, link targets, contents, whether each
// place can be read and written, mount flags) and the host tree afterwards
// must be the same. PROPTEST_CASES sets how many plans (24 unless said).
//
// Where the tools differ on purpose the generator does not go (each is
// pinned by a test of its own above, and listed in docs/bubblewrap.md):
// - one mount per destination: sandbox keeps the last of several at one
//   place (a_later_mount_at_the_same_place_replaces_the_earlier);
// - remount-ro only of a mount (bwrap needs a mount point:
//   remount_ro_of_a_folder_that_is_not_a_mount), and only of one still in
//   view; its recursion is rendered for bwrap (remount_ro_is_recursive);
// - no bind of a link, and nothing made at or through a link
//   (a_bind_of_a_symlink_is_the_link);
// - `file` and `symlink` only where nothing is: over an existing host
//   file sandbox binds a private copy (a_file_over_an_existing_host_file),
//   and a link over a link is replaced by sandbox, refused by bwrap;
// - parents below a bind or a link: bwrap makes them 0700, so the twin
//   gives it sandbox's (parents_modes);
// - no proc, dev, mqueue or dev-bind (their own tests: the layout of /dev
//   differs, dev_nodes), and no names of the places sandbox guards inside
//   a bind (.ssh, .bashrc, ...: secrets_hidden_inside_a_bind_of_home).

mod random_plans {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::{Index, select};
    use std::collections::{BTreeMap, BTreeSet};

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum K {
        Dir,
        File,
        Link,
    }

    /// What the sandbox has at a path, as far as the plan so far made it.
    #[derive(Clone, Copy, Debug)]
    struct Entry {
        kind: K,
        /// A folder in which setup can make something new: in the root, a
        /// tmpfs, or a writable bind, and not made read-only since.
        writable: bool,
    }

    /// A host folder or file a bind can take: its path below {H} and,
    /// for a folder, what is in it (relative paths).
    #[derive(Clone, Debug)]
    struct Source {
        path: String,
        dir: bool,
        content: Vec<(String, K)>,
    }

    #[derive(Clone, Debug)]
    struct Choice {
        kind: u8,
        at: Index,
        src: Index,
        mode: Index,
        existing: bool,
        deep: bool,
    }

    #[derive(Clone, Debug)]
    struct Case {
        host: HostTree,
        ops: Vec<Op>,
    }

    const DIR_MODES: [u32; 6] = [0o755, 0o750, 0o700, 0o711, 0o1777, 0o555];
    const FILE_MODES: [u32; 5] = [0o644, 0o600, 0o755, 0o444, 0o640];
    const TMPFS_MODES: [u32; 4] = [0o755, 0o700, 0o1777, 0o750];
    const LINK_TARGETS: [&str; 5] = ["f0", "../x0", "/usr/bin", "nowhere", "a b"];

    /// Host folders s0.. (owner-writable modes: a bind makes mount points
    /// in them) with files, perhaps a subfolder and links; files x0.. at
    /// the top.
    fn host_strategy() -> impl Strategy<Value = HostTree> {
        let dmode = select(vec![0o755u32, 0o750, 0o700, 0o711]);
        let fmode = select(FILE_MODES.to_vec());
        let folder = (
            dmode.clone(),
            prop::collection::vec(fmode.clone(), 0..3),
            prop::option::of((dmode, prop::collection::vec(fmode.clone(), 0..2))),
            any::<bool>(),
        );
        (
            prop::collection::vec(folder, 1..4),
            prop::collection::vec(fmode, 1..3),
        )
            .prop_map(|(folders, files)| {
                let mut nodes = vec![];
                for (i, (mode, fs, sub, links)) in folders.into_iter().enumerate() {
                    let d = format!("s{i}");
                    nodes.push(Node::Dir {
                        path: d.clone(),
                        mode,
                    });
                    for (j, m) in fs.iter().enumerate() {
                        nodes.push(Node::File {
                            path: format!("{d}/f{j}"),
                            mode: *m,
                            content: format!("{d}/f{j}\n"),
                        });
                    }
                    if let Some((smode, sfs)) = sub {
                        nodes.push(Node::Dir {
                            path: format!("{d}/sub"),
                            mode: smode,
                        });
                        for (j, m) in sfs.iter().enumerate() {
                            nodes.push(Node::File {
                                path: format!("{d}/sub/g{j}"),
                                mode: *m,
                                content: format!("{d}/sub/g{j}\n"),
                            });
                        }
                    }
                    if links {
                        nodes.push(Node::Link {
                            path: format!("{d}/l"),
                            target: "f0".into(),
                        });
                        nodes.push(Node::Link {
                            path: format!("{d}/dl"),
                            target: "../nowhere".into(),
                        });
                    }
                }
                for (j, m) in files.iter().enumerate() {
                    nodes.push(Node::File {
                        path: format!("x{j}"),
                        mode: *m,
                        content: format!("x{j}\n"),
                    });
                }
                HostTree {
                    nodes,
                    owner_other: vec![],
                }
            })
    }

    /// The folders and files of the host tree a bind can take (no links).
    fn sources(host: &HostTree) -> Vec<Source> {
        let top: Vec<&Node> = host
            .nodes
            .iter()
            .filter(|n| !matches!(n, Node::Link { .. }))
            .collect();
        top.iter()
            .map(|n| {
                let path = n.path().to_string();
                let dir = matches!(n, Node::Dir { .. });
                let content = host
                    .nodes
                    .iter()
                    .filter_map(|m| {
                        let rel = m.path().strip_prefix(&format!("{path}/"))?;
                        let k = match m {
                            Node::Dir { .. } => K::Dir,
                            Node::Link { .. } => K::Link,
                            _ => K::File,
                        };
                        Some((rel.to_string(), k))
                    })
                    .collect();
                Source { path, dir, content }
            })
            .collect()
    }

    fn under(p: &str, top: &str) -> bool {
        p == top || p.starts_with(&format!("{top}/"))
    }

    struct Model {
        entries: BTreeMap<String, Entry>,
        /// Mounts still in view, in order.
        mounts: Vec<String>,
        /// Every destination used so far.
        used: BTreeSet<String>,
        names: usize,
    }

    impl Model {
        /// Folders something new can be made in.
        fn writable_dirs(&self) -> Vec<String> {
            self.entries
                .iter()
                .filter(|(_, e)| e.kind == K::Dir && e.writable)
                .map(|(p, _)| p.clone())
                .collect()
        }

        /// What exists of `kind` and is no destination yet.
        fn existing(&self, kind: K) -> Vec<String> {
            self.entries
                .iter()
                .filter(|(p, e)| e.kind == kind && !self.used.contains(*p))
                .map(|(p, _)| p.clone())
                .collect()
        }

        /// A new path in a writable folder (with a new folder on the way
        /// if `deep`), its folders entered in the model.
        fn new_path(&mut self, at: &Index, deep: bool) -> Option<String> {
            let dirs = self.writable_dirs();
            if dirs.is_empty() {
                return None;
            }
            let parent = at.get(&dirs).clone();
            let mut p = parent;
            let levels = if deep { 2 } else { 1 };
            for l in 0..levels {
                self.names += 1;
                p = format!("{p}/n{}", self.names);
                if l + 1 < levels {
                    self.entries.insert(
                        p.clone(),
                        Entry {
                            kind: K::Dir,
                            writable: true,
                        },
                    );
                }
            }
            Some(p)
        }

        /// A mount at `dst`: what was below it is hidden.
        fn mount(&mut self, dst: &str) {
            self.entries.retain(|p, _| !(under(p, dst) && p != dst));
            self.mounts.retain(|m| !under(m, dst));
            self.mounts.push(dst.to_string());
        }
    }

    /// Read the choices against the model: each makes one valid step, or
    /// none (a choice with nothing to act on is dropped).
    fn build(host: &HostTree, choices: &[Choice]) -> Vec<Op> {
        let srcs = sources(host);
        let mut m = Model {
            entries: BTreeMap::from([(
                "/t".to_string(),
                Entry {
                    kind: K::Dir,
                    writable: true,
                },
            )]),
            mounts: vec![],
            used: BTreeSet::new(),
            names: 0,
        };
        let mut ops = vec![];
        for c in choices {
            let kind = c.kind % 7;
            // The destination: something already there of the kind a step
            // mounts over, or a new path.
            let dst_for = |m: &mut Model, k: K, may_exist: bool| -> Option<String> {
                if may_exist && c.existing {
                    let e = m.existing(k);
                    if !e.is_empty() {
                        return Some(c.at.get(&e).clone());
                    }
                }
                m.new_path(&c.at, c.deep)
            };
            let op = match kind {
                0 | 1 => {
                    let ro = kind == 1;
                    let s = c.src.get(&srcs).clone();
                    let k = if s.dir { K::Dir } else { K::File };
                    let Some(dst) = dst_for(&mut m, k, true) else {
                        continue;
                    };
                    m.mount(&dst);
                    m.entries.insert(
                        dst.clone(),
                        Entry {
                            kind: k,
                            writable: !ro,
                        },
                    );
                    for (rel, k) in &s.content {
                        m.entries.insert(
                            format!("{dst}/{rel}"),
                            Entry {
                                kind: *k,
                                writable: !ro,
                            },
                        );
                    }
                    let src = format!("{{H}}/{}", s.path);
                    if ro {
                        ro_bind(&src, &dst)
                    } else {
                        bind(&src, &dst)
                    }
                }
                2 => {
                    let Some(dst) = dst_for(&mut m, K::Dir, true) else {
                        continue;
                    };
                    m.mount(&dst);
                    m.entries.insert(
                        dst.clone(),
                        Entry {
                            kind: K::Dir,
                            writable: true,
                        },
                    );
                    Op::Tmpfs {
                        dst,
                        size: c.deep.then_some(1 << 20),
                        mode: *c.mode.get(&TMPFS_MODES),
                    }
                }
                3 => {
                    let Some(dst) = dst_for(&mut m, K::Dir, true) else {
                        continue;
                    };
                    let writable = m.entries.get(&dst).map(|e| e.writable);
                    let parent = crate::twin_parent(&dst);
                    let inherited = m.entries.get(&parent).is_some_and(|e| e.writable);
                    m.entries.insert(
                        dst.clone(),
                        Entry {
                            kind: K::Dir,
                            writable: writable.unwrap_or(inherited),
                        },
                    );
                    dir(&dst, *c.mode.get(&DIR_MODES))
                }
                4 => {
                    let Some(dst) = dst_for(&mut m, K::File, false) else {
                        continue;
                    };
                    m.entries.insert(
                        dst.clone(),
                        Entry {
                            kind: K::File,
                            writable: false,
                        },
                    );
                    let content = format!("made at {dst}\n");
                    file(&dst, &content, *c.mode.get(&FILE_MODES))
                }
                5 => {
                    let Some(dst) = dst_for(&mut m, K::Link, false) else {
                        continue;
                    };
                    m.entries.insert(
                        dst.clone(),
                        Entry {
                            kind: K::Link,
                            writable: false,
                        },
                    );
                    symlink(LINK_TARGETS[c.src.index(LINK_TARGETS.len())], &dst)
                }
                _ => {
                    if m.mounts.is_empty() {
                        continue;
                    }
                    let dst = c.at.get(&m.mounts).clone();
                    for (p, e) in m.entries.iter_mut() {
                        if under(p, &dst) {
                            e.writable = false;
                        }
                    }
                    // Not a destination of its own: it may come again.
                    ops.push(remount_ro(&dst));
                    continue;
                }
            };
            m.used.insert(op.dst().to_string());
            ops.push(op);
        }
        ops
    }

    fn case_strategy() -> impl Strategy<Value = Case> {
        let choice = (
            any::<u8>(),
            any::<Index>(),
            any::<Index>(),
            any::<Index>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(kind, at, src, mode, existing, deep)| Choice {
                kind,
                at,
                src,
                mode,
                existing,
                deep,
            });
        (host_strategy(), prop::collection::vec(choice, 1..9)).prop_map(|(host, choices)| {
            let ops = build(&host, &choices);
            Case { host, ops }
        })
    }

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(24);
        ProptestConfig {
            cases,
            max_shrink_iters: 200,
            ..ProptestConfig::default()
        }
    }

    fn check(c: Caller, case: &Case) {
        let t = Twin {
            host: Some(case.host.clone()),
            ..Twin::new()
        }
        .ops(case.ops.clone());
        if std::env::var_os("TWIN_SHOW").is_some() {
            eprintln!("{c:?}: {:?}", case.ops);
        }
        let Some((b, s)) = both_probe(&t, c, &["/t"]) else {
            return;
        };
        assert_same("a random plan", &b, &s, b.ok(), s.ok());
        assert_eq!(
            b.host_listing(),
            s.host_listing(),
            "the host tree after a random plan\n--- bwrap:\n{}\n--- sandbox:\n{}",
            b.setup,
            s.setup
        );
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn as_root(case in case_strategy()) {
            check(Caller::Root, &case);
        }

        #[test]
        fn as_user(case in case_strategy()) {
            check(Caller::User, &case);
        }
    }
}

/// The parent of an absolute path ("/" for a top-level one).
fn twin_parent(p: &str) -> String {
    match p.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((parent, _)) => parent.into(),
    }
}

// The command line's overrides against bubblewrap's options of the same
// meaning: `sandbox run twin.toml --bind A:/a ...` and `bwrap ... --bind A
// /a ...` must give a program inside the same view.
both!(same_command_line_overrides, |who| {
    if !have("bwrap") {
        cannot("needs bubblewrap (apt-get install bubblewrap)");
        return;
    }
    let s = Scratch::new("twin-cli");
    let profile = s.write("twin.toml", PROFILE);
    // Writable by all: root's bwrap is root mapped to 7, ours nobody; the
    // test is about what the options mean, not whose the files are (and
    // each run writes a file of its own).
    let rw = s.dir("rw", 0o777);
    let ro = s.dir("ro", 0o755);
    s.write("ro/file", "read me\n");
    let script = "pwd; hostname; echo \"K=$K\"; echo \"GONE=${GONE-unset}\"; id -u; id -g; \
                  cat /b/file; f=$(mktemp /a/new.XXXXXX) && echo w > $f && cat $f; \
                  echo w > /b/new 2>/dev/null || echo ro-refused; \
                  stat -f -c %T /t; ls -a /t | tr '\\n' ' '";
    let ours = sandbox_env(who, &[("GONE", "x")])
        .unwrap()
        .args(["run", &profile, "--command"])
        .args([
            "--bind",
            &format!("{rw}:/a"),
            "--ro-bind",
            &format!("{ro}:/b"),
        ])
        .args(["--tmpfs", "/t", "--env", "K=v w", "--unset-env", "GONE"])
        .args([
            "--cwd",
            "/a",
            "--hostname",
            "cli",
            "--uid",
            "7",
            "--gid",
            "8",
        ])
        .args(["--", "/bin/sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let mut b = as_who(who, "env").unwrap();
    b.args(["GONE=x", "bwrap"])
        .args(bwrap_args())
        .args(["--bind", &rw, "/a", "--ro-bind", &ro, "/b", "--tmpfs", "/t"])
        .args(["--setenv", "K", "v w", "--unsetenv", "GONE"])
        .args([
            "--chdir",
            "/a",
            "--hostname",
            "cli",
            "--uid",
            "7",
            "--gid",
            "8",
        ])
        .args(["/bin/sh", "-c", script]);
    let bw = b.stdin(Stdio::null()).output().unwrap();
    assert!(bw.status.success(), "bwrap failed: {}", stderr(&bw));
    let ours = ok(ours);
    assert_eq!(stdout(&bw), ours, "bwrap said: {}", stderr(&bw));
    assert!(
        ours.starts_with("/a\ncli\nK=v w\nGONE=unset\n7\n8\nread me\nw\nro-refused\ntmpfs"),
        "{ours}"
    );
});
