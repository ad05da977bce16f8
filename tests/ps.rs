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
