//! `sandbox ps` and the state entries behind it, through the built
//! binary, as root and as an unprivileged user: a running sandbox is
//! listed with its pids, name and profile; it is forgotten when it ends,
//! and when its launcher is SIGKILLed (the entry is stale and removed).

mod common;
use common::*;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A runtime folder for `who` (the unprivileged test user has no login
/// session, so no /run/user/UID): a folder of theirs, mode 0700.
struct Runtime {
    _scratch: Scratch,
    dir: String,
}

fn runtime(who: Who) -> Runtime {
    let s = Scratch::new("ps");
    let dir = s.dir("run", 0o700);
    s.chown_to_caller(who, "run");
    Runtime { _scratch: s, dir }
}

fn cmd(who: Who, rt: &Runtime) -> Option<Command> {
    sandbox_env(who, &[("XDG_RUNTIME_DIR", &rt.dir)])
}

/// `sandbox ps --json` as `who`.
fn ps(who: Who, rt: &Runtime) -> Vec<Value> {
    let out = cmd(who, rt)
        .unwrap()
        .args(["ps", "--json"])
        .output()
        .unwrap();
    let text = ok(out);
    serde_json::from_str::<Vec<Value>>(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The entry named `name`, waited for up to 10 s.
fn listed(who: Who, rt: &Runtime, name: &str) -> Option<Value> {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Some(e) = ps(who, rt).into_iter().find(|e| e["name"] == name) {
            return Some(e);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn start(who: Who, rt: &Runtime, name: &str) -> Option<Child> {
    let mut c = cmd(who, rt)?;
    c.args(["run", "--name", name, "default", "--", "sleep", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    Some(c.spawn().unwrap())
}

fn comm(pid: u64) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The state folder of `who`'s sandboxes: root's is /run/sandbox.
fn state_dir(who: Who, rt: &Runtime) -> String {
    match who {
        Who::Root => "/run/sandbox".into(),
        Who::User => format!("{}/sandbox", rt.dir),
    }
}

/// The entries of sandboxes of this test (named `tag`...): root's folder
/// is shared with the other tests running now.
fn entries_in(who: Who, rt: &Runtime, tag: &str) -> Vec<String> {
    let mine = |file: &str| {
        std::fs::read_to_string(format!("{}/{file}", state_dir(who, rt)))
            .is_ok_and(|t| t.contains(tag))
    };
    std::fs::read_dir(state_dir(who, rt))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|f| mine(f))
                .collect()
        })
        .unwrap_or_default()
}

both!(
    ps_lists_a_running_sandbox_and_forgets_it_when_it_ends,
    |who| {
        let rt = runtime(who);
        let name = format!("ps-end-{}", std::process::id());
        let Some(mut child) = start(who, &rt, &name) else {
            return;
        };
        let e = listed(who, &rt, &name).expect("the running sandbox is listed");
        assert_eq!(e["profile"], "default");
        assert_eq!(e["command"][0], "sleep");
        let launcher = e["launcher"].as_u64().unwrap();
        assert_eq!(comm(launcher), "sandbox");
        assert!(e["child"].as_u64().unwrap() > 0);
        assert_eq!(e["uid"].as_u64().unwrap() as u32, caller_ids(who).0);
        let host_user = std::fs::metadata("/proc/self/ns/user")
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .unwrap();
        assert_ne!(e["namespaces"]["user"].as_u64().unwrap(), host_user);
        // The state folder is the caller's alone.
        let meta = std::fs::metadata(state_dir(who, &rt)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o700
        );
        // The table shows it too.
        let table = ok(cmd(who, &rt).unwrap().arg("ps").output().unwrap());
        assert!(
            table
                .lines()
                .any(|l| l.contains(&name) && l.contains("default")),
            "{table}"
        );
        // Ended: forgotten, and its file gone.
        let _ = Command::new("kill").arg(launcher.to_string()).status();
        let _ = child.wait();
        assert!(ps(who, &rt).iter().all(|e| e["name"] != name.as_str()));
        assert_eq!(entries_in(who, &rt, &name), Vec::<String>::new());
    }
);

both!(ps_forgets_a_sandbox_whose_launcher_was_killed, |who| {
    let rt = runtime(who);
    let name = format!("ps-kill-{}", std::process::id());
    let Some(mut child) = start(who, &rt, &name) else {
        return;
    };
    let e = listed(who, &rt, &name).expect("the running sandbox is listed");
    let launcher = e["launcher"].as_u64().unwrap();
    // No chance to remove its entry: the entry stays, and is stale.
    let _ = Command::new("kill")
        .args(["-KILL", &launcher.to_string()])
        .status();
    let _ = child.wait();
    let until = Instant::now() + Duration::from_secs(5);
    while Path::new(&format!("/proc/{launcher}")).exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        entries_in(who, &rt, &name).len(),
        1,
        "the killed launcher's entry is there"
    );
    assert!(ps(who, &rt).iter().all(|e| e["name"] != name.as_str()));
    assert_eq!(
        entries_in(who, &rt, &name),
        Vec::<String>::new(),
        "ps removed the stale entry"
    );
});

both!(a_bad_name_is_an_error_at_the_argument, |who| {
    let Some(mut c) = sandbox(who) else { return };
    let out = c
        .args(["run", "--name", "../x", "default", "--", "true"])
        .output()
        .unwrap();
    // A bad argument is a setup failure, as every other (exit 125).
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(stderr(&out).contains("--name"), "{}", stderr(&out));
});

use std::path::Path;

both!(stop_ends_a_sandbox_by_name, |who| {
    let rt = runtime(who);
    let name = format!("stop-{}", std::process::id());
    let Some(mut child) = start(who, &rt, &name) else {
        return;
    };
    let e = listed(who, &rt, &name).expect("the running sandbox is listed");
    let sandbox_pid = e["child"].as_u64().unwrap();
    let out = cmd(who, &rt)
        .unwrap()
        .args(["stop", &name, "--timeout", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // `sleep` gets TERM from the launcher and ends; so does the sandbox.
    let status = child.wait().unwrap();
    assert!(!status.success() || status.code().is_some());
    assert!(!Path::new(&format!("/proc/{sandbox_pid}")).exists() || comm(sandbox_pid) != "sandbox");
    assert!(ps(who, &rt).iter().all(|e| e["name"] != name.as_str()));
    assert_eq!(entries_in(who, &rt, &name), Vec::<String>::new());
    // Nothing of that name runs now.
    let out = cmd(who, &rt)
        .unwrap()
        .args(["stop", &name])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no running sandbox"),
        "{}",
        stderr(&out)
    );
});

// An entry is only a claim: one planted in a user's folder (their app may
// write it, where a profile binds the runtime folder) that names a process
// of another user's is not listed, and root's `sandbox stop` does not
// signal it. Control: the same entry in root's own folder, naming root's
// process, is listed (the listing does read what is planted).
#[test]
fn a_planted_entry_cannot_name_another_users_process() {
    if !is_root() {
        to_stderr("SKIPPED: a_planted_entry_cannot_name_another_users_process needs root");
        return;
    }
    let Some(user) = test_user() else {
        to_stderr(
            "SKIPPED: a_planted_entry_cannot_name_another_users_process needs SANDBOX_TEST_USER",
        );
        return;
    };
    let me = std::process::id() as i32;
    let start = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
    let start: u64 = start[start.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let entry = |uid: u32, name: &str| {
        format!(
            r#"{{"id":"{me}-{start}","name":"{name}","profile":"default","command":["x"],"uid":{uid},"launcher":{me},"launcher_start":{start},"child":{me},"started":0,"namespaces":{{}}}}"#
        )
    };
    // The user's folder: /run/user/UID/sandbox as root's ps reads it.
    let folder = format!("/run/user/{}/sandbox", user.uid);
    let made_run_user = !Path::new(&format!("/run/user/{}", user.uid)).exists();
    std::fs::create_dir_all(&folder).unwrap();
    for d in [format!("/run/user/{}", user.uid), folder.clone()] {
        std::os::unix::fs::chown(&d, Some(user.uid), Some(user.gid)).unwrap();
    }
    let planted = format!("{folder}/{me}-{start}.json");
    std::fs::write(&planted, entry(user.uid, "planted")).unwrap();
    std::os::unix::fs::chown(&planted, Some(user.uid), Some(user.gid)).unwrap();
    // It names root's process (this test) as the user's launcher.
    let listed = ok(Command::new(binary())
        .args(["ps", "--json"])
        .output()
        .unwrap());
    assert!(!listed.contains("\"planted\""), "{listed}");
    let out = Command::new(binary())
        .args(["stop", "planted", "--timeout", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Control: the same claim, true, in root's own folder.
    std::fs::create_dir_all("/run/sandbox").unwrap();
    std::fs::set_permissions(
        "/run/sandbox",
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let control = format!("/run/sandbox/{me}-{start}.json");
    std::fs::write(&control, entry(0, "control")).unwrap();
    let listed = ok(Command::new(binary())
        .args(["ps", "--json"])
        .output()
        .unwrap());
    let _ = std::fs::remove_file(&control);
    let _ = std::fs::remove_file(&planted);
    if made_run_user {
        let _ = std::fs::remove_dir_all(format!("/run/user/{}", user.uid));
    }
    assert!(listed.contains("\"control\""), "{listed}");
}
