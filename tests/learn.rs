//! `sandbox learn` on real programs: python3 running a script that reads
//! a data folder and writes an output, curl of a local server, tar
//! unpacking an archive. Each draft is pinned by a golden file under
//! examples/learned/ (UPDATE_GOLDEN=1 rewrites them), passes `sandbox
//! check`, and a second run of the same command under it succeeds, where
//! the bare base (the control) does not. Root and unprivileged callers
//! get the same draft.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// What one program is learned on.
struct Case {
    /// The golden file's stem under examples/learned/.
    name: &'static str,
    /// The command, run in the work folder.
    argv: &'static [&'static str],
    /// Lay out the work folder.
    setup: fn(&Path),
    /// Whether the command did its work (what it wrote is there).
    done: fn(&Path) -> bool,
    /// Undo what it wrote, for the second run.
    undo: fn(&Path),
}

const SCRIPT: &str = r#"import os
total = 0
for name in sorted(os.listdir("data")):
    with open(os.path.join("data", name)) as f:
        for line in f:
            total += sum(int(x) for x in line.split(","))
with open("out/total.txt", "w") as f:
    f.write(f"{total}\n")
"#;

/// The port of the local server curl fetches from (fixed: the draft
/// names it).
const PORT: u16 = 18731;

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "python3-script",
            argv: &["python3", "script.py"],
            setup: |w| {
                std::fs::write(w.join("script.py"), SCRIPT).unwrap();
                std::fs::create_dir_all(w.join("data")).unwrap();
                std::fs::create_dir_all(w.join("out")).unwrap();
                std::fs::write(w.join("data/a.csv"), "1,2\n").unwrap();
                std::fs::write(w.join("data/b.csv"), "3,4\n5\n").unwrap();
                // Not used: the draft must not grant it.
                std::fs::write(w.join("notes.txt"), "private\n").unwrap();
            },
            done: |w| std::fs::read_to_string(w.join("out/total.txt")).is_ok_and(|t| t == "15\n"),
            undo: |w| {
                let _ = std::fs::remove_file(w.join("out/total.txt"));
            },
        },
        Case {
            name: "curl-local",
            argv: &[
                "curl",
                "-sS",
                "--fail",
                "-o",
                "page.html",
                "http://127.0.0.1:18731/page.html",
            ],
            setup: |_| serve(),
            done: |w| std::fs::read_to_string(w.join("page.html")).is_ok_and(|t| t == PAGE),
            undo: |w| {
                let _ = std::fs::remove_file(w.join("page.html"));
            },
        },
        Case {
            name: "tar-unpack",
            argv: &["tar", "-xf", "archive.tar", "-C", "unpacked"],
            setup: |w| {
                let src = w.join("src");
                std::fs::create_dir_all(src.join("docs")).unwrap();
                std::fs::write(src.join("README"), "read me\n").unwrap();
                std::fs::write(src.join("docs/guide.txt"), "guide\n").unwrap();
                let made = std::process::Command::new("tar")
                    .arg("-cf")
                    .arg(w.join("archive.tar"))
                    .args(["-C"])
                    .arg(&src)
                    .args(["README", "docs"])
                    .status()
                    .unwrap();
                assert!(made.success());
                std::fs::remove_dir_all(&src).unwrap();
                std::fs::create_dir_all(w.join("unpacked")).unwrap();
            },
            done: |w| {
                std::fs::read_to_string(w.join("unpacked/docs/guide.txt"))
                    .is_ok_and(|t| t == "guide\n")
            },
            undo: |w| {
                let _ = std::fs::remove_dir_all(w.join("unpacked/docs"));
                let _ = std::fs::remove_file(w.join("unpacked/README"));
            },
        },
    ]
}

const PAGE: &str = "<p>hello from the host's loopback</p>\n";

/// A tiny HTTP server on the host's loopback, once per test binary.
fn serve() {
    static STARTED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    STARTED.get_or_init(|| {
        let l = std::net::TcpListener::bind(("127.0.0.1", PORT))
            .unwrap_or_else(|e| panic!("the test server's port 127.0.0.1:{PORT}: {e}"));
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for mut c in l.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = write!(
                    c,
                    "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{PAGE}",
                    PAGE.len()
                );
            }
        });
    });
}

fn in_folder(who: Who, dir: &Path, args: &[&str]) -> Option<Output> {
    let mut c = sandbox(who)?;
    c.current_dir(dir).args(args).stdin(Stdio::null());
    Some(c.output().unwrap())
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/learned/{name}.toml"))
}

/// Learn `case` as `who`; the draft's text, after every check.
fn learn_case(case: &Case, who: Who) -> Option<String> {
    if !need(&[case.argv[0]]) {
        return None;
    }
    let s = Scratch::new(&format!("learn-{}", case.name));
    let work = PathBuf::from(s.dir("work", 0o755));
    (case.setup)(&work);
    // The app's files are the user's; as root, the sandbox runs as nobody.
    s.chown_to(who, "work");
    s.dir("drafts", 0o755);
    s.chown_to_caller(who, "drafts");
    let draft = s.path.join("drafts/draft.toml");
    let draft_arg = draft.to_string_lossy().into_owned();
    let mut args = vec!["learn", "-o", &draft_arg, "--"];
    args.extend(case.argv);
    let out = in_folder(who, &work, &args)?;
    assert_eq!(out.status.code(), Some(0), "learn: {}", stderr(&out));
    assert!(
        (case.done)(&work),
        "the learning run did not do its work: {}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(
        stderr(&out).contains("Next: sandbox check"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("does not"), "{}", stderr(&out));

    let check = in_folder(who, &work, &["check", &draft_arg])?;
    assert_eq!(check.status.code(), Some(0), "check: {}", stderr(&check));

    // The second run, under the draft (which holds the command), does
    // the work again.
    (case.undo)(&work);
    assert!(!(case.done)(&work));
    let out = in_folder(who, &work, &["run", &draft_arg])?;
    assert_eq!(out.status.code(), Some(0), "rerun: {}", stderr(&out));
    assert!(
        (case.done)(&work),
        "the rerun did not do its work: {}",
        stderr(&out)
    );

    // The control: the base alone does not let it.
    (case.undo)(&work);
    let bare = s.write("bare.toml", "extends = [\"base\", \"home-private\"]\n");
    let mut control = vec!["run", &bare, "--"];
    control.extend(case.argv);
    let out = in_folder(who, &work, &control)?;
    assert!(
        !(case.done)(&work),
        "the base alone did the work: the draft's grants prove nothing"
    );
    drop(out);
    Some(text)
}

fn pinned(case: &Case, who: Who) {
    let Some(text) = learn_case(case, who) else {
        return;
    };
    let path = golden(case.name);
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        text,
        want,
        "the draft differs from {} (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

fn case(name: &str) -> Case {
    cases().into_iter().find(|c| c.name == name).unwrap()
}

both!(python3_reading_a_folder_and_writing_one, |who| pinned(
    &case("python3-script"),
    who
));
both!(curl_of_a_server_on_the_host_loopback, |who| pinned(
    &case("curl-local"),
    who
));
both!(tar_unpacking_an_archive, |who| pinned(
    &case("tar-unpack"),
    who
));

// What was not used is not granted: the python draft names neither the
// current folder as a whole nor the file the script never opened.
#[test]
fn the_drafts_grant_nothing_unused() {
    let text = std::fs::read_to_string(golden("python3-script")).unwrap();
    assert!(!text.contains("notes.txt"), "{text}");
    assert!(!text.contains("src = \"${PWD}\"\n"), "{text}");
    assert!(
        text.contains("type = \"ro-bind\"\nsrc = \"${PWD}/data\""),
        "{text}"
    );
    assert!(
        text.contains("type = \"bind\"\nsrc = \"${PWD}/out\""),
        "{text}"
    );
    let tar = std::fs::read_to_string(golden("tar-unpack")).unwrap();
    assert!(
        tar.contains("type = \"ro-bind\"\nsrc = \"${PWD}/archive.tar\""),
        "{tar}"
    );
    assert!(
        tar.contains("type = \"bind\"\nsrc = \"${PWD}/unpacked\""),
        "{tar}"
    );
    assert!(!tar.contains("[network]"), "{tar}");
    let curl = std::fs::read_to_string(golden("curl-local")).unwrap();
    assert!(curl.contains(&format!("to_host_tcp = [{PORT}]")), "{curl}");
    assert!(
        !curl.contains("\"network\""),
        "only the host's loopback port: {curl}"
    );
}

// Learning within a profile: the draft extends it and adds only what it
// lacks (tar's profile already binds the current folder writable).
both!(a_draft_extends_the_profile_it_learned_in, |who| {
    if !need(&["tar"]) {
        return;
    }
    let s = Scratch::new("learn-within");
    let work = PathBuf::from(s.dir("work", 0o755));
    (case("tar-unpack").setup)(&work);
    s.chown_to(who, "work");
    s.dir("drafts", 0o755);
    s.chown_to_caller(who, "drafts");
    let draft = s.path.join("drafts/d.toml").to_string_lossy().into_owned();
    let Some(out) = in_folder(
        who,
        &work,
        &[
            "learn",
            "tar",
            "-o",
            &draft,
            "--",
            "-xf",
            "archive.tar",
            "-C",
            "unpacked",
        ],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(text.contains("extends = [\"tar\"]"), "{text}");
    assert!(
        !text.contains("${PWD}"),
        "tar's profile gives the folder: {text}"
    );
    (case("tar-unpack").undo)(&work);
    let Some(out) = in_folder(
        who,
        &work,
        &["run", &draft, "--", "-xf", "archive.tar", "-C", "unpacked"],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!((case("tar-unpack").done)(&work));
});

// An existing draft is not replaced without --force, and nothing runs.
both!(an_existing_output_is_kept, |who| {
    let s = Scratch::new("learn-exists");
    s.dir("drafts", 0o755);
    s.chown_to_caller(who, "drafts");
    let draft = s.path.join("drafts/d.toml");
    std::fs::write(&draft, "# mine\n").unwrap();
    s.chown_to_caller(who, "drafts");
    let marker = s.path.join("drafts/ran");
    let script = format!("echo > {}", marker.display());
    let Some(out) = in_folder(
        who,
        &s.path,
        &[
            "learn",
            "-o",
            &draft.to_string_lossy(),
            "--",
            "sh",
            "-c",
            &script,
        ],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&draft).unwrap(), "# mine\n");
    assert!(!marker.exists());
});

// The learning run's listener is the launcher's: the app holds no
// seccomp notification descriptor, and a call no draft grants (a setuid
// bit) is refused in the learning run too, and listed in the draft.
both!(the_learning_run_gives_the_app_nothing_more, |who| {
    if !need(&["python3"]) {
        return;
    }
    let s = Scratch::new("learn-boundary");
    let work = PathBuf::from(s.dir("work", 0o755));
    s.chown_to(who, "work");
    s.dir("drafts", 0o755);
    s.chown_to_caller(who, "drafts");
    let draft = s.path.join("drafts/d.toml").to_string_lossy().into_owned();
    let code = r#"
import os
fds = sorted(os.listdir("/proc/self/fd"))
links = [os.readlink("/proc/self/fd/" + f) for f in fds if os.path.exists("/proc/self/fd/" + f)]
print("notify" if any("seccomp" in l for l in links) else "no-notify")
open("f", "w").close()
try:
    os.chmod("f", 0o4755)
    print("setuid-set")
except PermissionError:
    print("setuid-refused")
"#;
    let Some(out) = in_folder(
        who,
        &work,
        &["learn", "-o", &draft, "--", "python3", "-c", code],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "no-notify\nsetuid-refused\n",
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(
        text.contains("refused, also in the learning run: chmod, by a setuid or setgid bit"),
        "{text}"
    );
    assert!(!text.contains("allow_setuid_bits = true"), "{text}");
    // The control: without the learning filter the same app, in a
    // sandbox whose profile lets the bits through, sets them.
    let open = s.write(
        "open.toml",
        "extends = [\"default\"]\n[seccomp]\nallow_setuid_bits = true\n[[mount]]\ntype = \"bind\"\nsrc = \"${PWD}\"\n[process]\ncwd = \"${PWD}\"\n",
    );
    let _ = std::fs::remove_file(work.join("f"));
    let Some(out) = in_folder(who, &work, &["run", &open, "--", "python3", "-c", code]) else {
        return;
    };
    assert_eq!(stdout(&out), "no-notify\nsetuid-set\n", "{}", stderr(&out));
});

// A hostile command cannot make the draft hand out what runs later or
// what is secret: writing the shell's startup file (read-only in the
// learning run), making ~/.local/bin (a place code runs from), reading a
// key (hidden there) come out as notes, never as grants. The control: the
// command did write its own folder, and that is granted.
both!(a_draft_grants_no_place_code_runs_from_nor_a_secret, |who| {
    let s = Scratch::new("learn-poison");
    s.dir("home/.ssh", 0o700);
    s.write("home/.ssh/id_ed25519", "KEY\n");
    s.write("home/.bashrc", "# mine\n");
    s.dir("home/project/out", 0o755);
    s.chown_to_caller(who, "home");
    let home = s.path.join("home");
    let home_s = home.to_string_lossy().into_owned();
    let draft = home.join("d.toml").to_string_lossy().into_owned();
    let script = "echo evil >> ~/.bashrc; mkdir -p ~/.local/bin && echo x > ~/.local/bin/ls; cat ~/.ssh/id_ed25519; echo made > out/made";
    let Some(mut c) = sandbox_env(who, &[("HOME", &home_s)]) else {
        return;
    };
    let out = c
        .current_dir(home.join("project"))
        .args(["learn", "-o", &draft, "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&draft).unwrap();
    let granted: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("src = "))
        .collect();
    assert!(
        !granted
            .iter()
            .any(|g| g.contains(".bashrc") || g.contains(".local") || g.contains(".ssh")),
        "{text}"
    );
    assert!(
        !stdout(&out).contains("KEY"),
        "the learning run showed the key"
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".bashrc")).unwrap(),
        "# mine\n"
    );
    if who == Who::User {
        assert!(granted.contains(&"\"${PWD}/out\""), "{text}");
        assert!(text.contains("a secret"), "{text}");
    }
});

// Found by an attacker: the app replaced the old draft with a link to
// ~/.bashrc, and `--force` wrote the new draft through it; it made a
// setuid file through openat2, whose mode the filter cannot read; it
// opened (and failed to open) a server's socket, which the draft then
// bound. Each is closed: the link is replaced, not followed; openat2
// fails (ENOSYS) while the bits are refused; a socket is granted only as
// a note.
both!(the_app_cannot_aim_the_draft_nor_slip_a_setuid_file, |who| {
    if !need(&["python3"]) {
        return;
    }
    let s = Scratch::new("learn-aim");
    s.write("home/.bashrc", "# mine\n");
    s.write("home/d.toml", "# old draft\n");
    s.dir("home/work", 0o755);
    s.chown_to_caller(who, "home");
    s.chown_to(who, "home/work");
    let home = s.path.join("home");
    let code = r#"
import ctypes, os, socket, struct
home = os.environ["HOME"]
try:
    os.remove(home + "/d.toml"); os.symlink(home + "/.bashrc", home + "/d.toml")
except OSError:
    pass
libc = ctypes.CDLL(None, use_errno=True)
how = struct.pack("QQQ", os.O_CREAT | os.O_WRONLY, 0o6755, 0)
r = libc.syscall(437, -100, b"suid", how, 24)
print("openat2", r, ctypes.get_errno())
print("setuid" if os.path.exists("suid") and os.stat("suid").st_mode & 0o6000 else "no-setuid")
srv = socket.socket(socket.AF_UNIX); srv.bind("svc.sock"); srv.listen()
try:
    os.open("svc.sock", os.O_RDONLY)
except OSError:
    pass
"#;
    let draft = home.join("d.toml").to_string_lossy().into_owned();
    let home_s = home.to_string_lossy().into_owned();
    let Some(mut c) = sandbox_env(who, &[("HOME", &home_s)]) else {
        return;
    };
    let out = c
        .current_dir(home.join("work"))
        .args([
            "learn", "--force", "-o", &draft, "--", "python3", "-c", code,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("openat2 -1 38\nno-setuid"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".bashrc")).unwrap(),
        "# mine\n"
    );
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(
        text.starts_with("# A draft made by `sandbox learn`"),
        "{text}"
    );
    assert!(!text.contains("svc.sock\"\n"), "{text}");
});
