//! `sandbox run --status-fd N`: the events a supervisor reads, through
//! the built binary, as root and as an unprivileged user: a run that
//! exits, a step that fails, a profile that does not load, a descriptor
//! that is not open; and that the app never holds the stream.

mod common;
use common::*;
use serde_json::Value;
use std::process::{Command, Output};

/// `sandbox ARGS` as `who` with descriptor 3 open on a fresh file (opened
/// by a shell around the whole command, as a supervisor would), and the
/// events written to it.
fn with_status(who: Who, args: &[&str]) -> Option<(Output, Vec<Value>)> {
    let s = Scratch::new("status");
    let file = s.write("status.jsonl", "");
    // The unprivileged variant writes through the descriptor root opened.
    let c = sandbox(who)?;
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("exec \"$@\" 3>>'{file}'"))
        .arg("sh")
        .arg(c.get_program())
        .args(c.get_args())
        .args(args)
        .envs(c.get_envs().filter_map(|(k, v)| Some((k, v?))));
    if let Some(d) = c.get_current_dir() {
        sh.current_dir(d);
    }
    let out = sh.output().unwrap();
    let events = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    Some((out, events))
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

both!(a_run_is_started_then_exited_with_the_apps_code, |who| {
    let Some((out, events)) = with_status(
        who,
        &[
            "run",
            "--status-fd",
            "3",
            "default",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
    ) else {
        return;
    };
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(kinds(&events), ["started", "exited"], "{events:?}");
    let started = &events[0];
    assert!(started["child"].as_u64().unwrap() > 0);
    assert!(started["launcher"].as_u64().unwrap() > 0);
    for ns in ["user", "mount", "pid", "net"] {
        let ino = started["namespaces"][ns].as_u64().unwrap();
        let host = std::fs::metadata(format!(
            "/proc/self/ns/{}",
            if ns == "mount" { "mnt" } else { ns }
        ))
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
        assert_ne!(ino, host, "{ns}: the sandbox's is the host's");
    }
    let exited = &events[1];
    assert_eq!(exited["exit"], 7);
    assert_eq!(exited["code"], 7);
    assert_eq!(exited["timed_out"], false);
});

both!(
    a_failed_step_is_setup_failed_with_its_step_errno_and_line,
    |who| {
        let s = Scratch::new("status-cwd");
        let profile = s.write(
            "p.toml",
            "extends = \"default\"\n\n[process]\ncwd = \"/nowhere/at/all\"\n",
        );
        let Some((out, events)) =
            with_status(who, &["run", "--status-fd", "3", &profile, "--", "true"])
        else {
            return;
        };
        assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
        // The child existed (started), then a step of its failed: never an exit
        // of the app's, which never ran.
        assert_eq!(kinds(&events), ["started", "setup-failed"], "{events:?}");
        let failed = &events[1];
        assert_eq!(failed["stage"], "setup");
        assert_eq!(failed["errno"], libc::ENOENT);
        assert_eq!(failed["code"], 125);
        assert!(failed["step"].as_u64().unwrap() > 1);
        assert!(
            failed["origin"].as_str().unwrap().ends_with("p.toml:4:7"),
            "{failed}"
        );
        assert!(failed["call"].as_str().unwrap().contains("/nowhere/at/all"));
        // The message is the one on standard error.
        assert!(stderr(&out).contains(failed["message"].as_str().unwrap().lines().next().unwrap()));
    }
);

both!(
    a_profile_that_does_not_load_is_setup_failed_at_the_profile,
    |who| {
        let s = Scratch::new("status-bad");
        let profile = s.write("p.toml", "[namespaces\n");
        let Some((out, events)) = with_status(who, &["run", "--status-fd", "3", &profile]) else {
            return;
        };
        assert_eq!(out.status.code(), Some(125));
        assert_eq!(kinds(&events), ["setup-failed"], "{events:?}");
        assert_eq!(events[0]["stage"], "profile");
        assert_eq!(events[0]["code"], 125);
    }
);

both!(
    a_descriptor_not_open_for_writing_is_an_error_at_the_argument,
    |who| {
        let Some(mut c) = sandbox(who) else { return };
        let out = c
            .args(["run", "--status-fd", "9", "default", "--", "true"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(125));
        assert!(stderr(&out).contains("--status-fd 9"), "{}", stderr(&out));
        // Standard output is the app's, never the stream.
        let Some(mut c) = sandbox(who) else { return };
        let out = c
            .args(["run", "--status-fd", "1", "default", "--", "true"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(125));
    }
);

// The stream is the launcher's: the app, and every process in the
// sandbox, has no descriptor on it. Control: the same listing outside the
// sandbox shows the file, so the check can see it.
both!(the_app_never_holds_the_status_stream, |who| {
    let list = "for f in /proc/$$/fd/*; do readlink $f; done; true";
    let Some((out, events)) = with_status(
        who,
        &["run", "--status-fd", "3", "default", "--", "sh", "-c", list],
    ) else {
        return;
    };
    let inside = ok(out);
    assert!(
        !inside.contains("status.jsonl"),
        "the app holds the stream:\n{inside}"
    );
    assert_eq!(kinds(&events), ["started", "exited"]);
    let s = Scratch::new("status-control");
    let file = s.write("status.jsonl", "");
    let control = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 3>>'{file}'; {list}"))
        .output()
        .unwrap();
    assert!(
        stdout(&control).contains("status.jsonl"),
        "{}",
        stdout(&control)
    );
});
