//! The command line's overrides of `run` and `plan` (`--bind`, `--net`,
//! `--set`, `--with`, ...), through the built binary, as root and as an
//! unprivileged user: each shows in `sandbox plan` with its origin
//! (`command line: ARGUMENT`) and changes what a program inside observes;
//! a bad one is an error at its argument with exit 125; and the profile
//! `plan --emit-profile` prints makes the same plan. bubblewrap's options
//! of the same meaning are compared in tests/differential.rs
//! (same_command_line_overrides).

mod common;
use common::*;
use serde_json::Value;
use std::process::{Output, Stdio};

/// `sandbox ARGS` as `who`, with no input.
fn sandbox_run(who: Who, args: &[&str]) -> Option<Output> {
    let mut c = sandbox(who)?;
    Some(c.args(args).stdin(Stdio::null()).output().unwrap())
}

/// `sandbox plan --json default ARGS` as `who`: the steps.
fn plan_steps(who: Who, profile: &str, args: &[&str]) -> Option<Vec<Value>> {
    let mut all = vec!["plan", "--json", profile];
    all.extend(args);
    let out = ok(sandbox_run(who, &all)?);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    Some(v["steps"].as_array().unwrap().clone())
}

// Each override, alone: the plan has a step whose origin is that argument,
// and the step says what the argument asked for.
both!(each_override_shows_in_the_plan_with_its_origin, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("cli-plan");
    let data = s.dir("data", 0o755);
    let fragment = s.write("frag.toml", "[uts]\nhostname = \"from-with\"\n");
    let bind = format!("{data}:/data");
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["--bind", &bind], "bind", "/data"),
        (vec!["--bind-try", &bind], "bind", "/data"),
        (vec!["--ro-bind", &data], "bind", "\"readonly\":true"),
        (vec!["--ro-bind-try", &bind], "bind", "\"readonly\":true"),
        (
            vec!["--dev-bind", "/dev/null:/null"],
            "bind",
            "\"devices\":true",
        ),
        (vec!["--tmpfs", "/scratch"], "tmpfs", "/scratch"),
        (vec!["--overlay", &bind], "overlay", "/data"),
        (vec!["--net", "none"], "spawn", "net"),
        (vec!["--no-network"], "loopback-up", ""),
        (vec!["--net", "host"], "spawn", "ipc"),
        (vec!["--env", "K=V"], "environment", "\"K\""),
        (vec!["--unset-env", "LANG"], "environment", "\"LANG\""),
        (vec!["--keep-env", "K2"], "environment", "\"K2\""),
        (vec!["--hostname", "box"], "set-hostname", "box"),
        (vec!["--cwd", "/tmp"], "chdir", "/tmp"),
        (vec!["--uid", "7"], "uid-map", ""),
        (vec!["--gid", "8"], "gid-map", ""),
        (vec!["--timeout", "5s"], "timeout", "5000"),
        (vec!["--deny", "chdir"], "seccomp", "chdir"),
        (vec!["--allow", "ptrace"], "seccomp", "default"),
        (vec!["--set", "process.cwd=/usr"], "chdir", "/usr"),
        (vec!["--set", "uts.hostname=\"q\""], "set-hostname", "\"q\""),
    ];
    for (args, op, says) in &cases {
        let steps = plan_steps(who, "default", args).unwrap();
        let shown = args.join(" ");
        let step = steps
            .iter()
            .find(|st| st["op"] == *op && st["origin"] == format!("command line: {shown}"))
            .unwrap_or_else(|| panic!("{shown}: no {op} step from the command line in {steps:#?}"));
        let text = step.to_string();
        assert!(text.contains(says), "{shown}: {text}");
    }
    // --with: the fragment's own file is the origin.
    let steps = plan_steps(who, "default", &["--with", &fragment]).unwrap();
    let step = steps.iter().find(|st| st["op"] == "set-hostname").unwrap();
    assert!(step.to_string().contains("from-with"), "{step}");
    let origin = step["origin"].as_str().unwrap();
    assert!(origin.starts_with(&format!("{fragment}:")), "{origin}");
    // The text plan says `# command line: ARGUMENT`.
    let out = ok(sandbox_run(who, &["plan", "default", "--tmpfs", "/scratch"]).unwrap());
    let line = out.lines().find(|l| l.contains("tmpfs /scratch")).unwrap();
    assert!(line.ends_with("# command line: --tmpfs /scratch"), "{line}");
});

// What a program inside observes, with overrides of most kinds at once.
both!(overrides_change_what_the_app_sees, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("cli-run");
    let rw = s.dir("rw", 0o755);
    let ro = s.dir("ro", 0o755);
    s.write("ro/file", "host\n");
    let ov = s.dir("ov", 0o755);
    s.write("ov/over", "lower\n");
    s.chown_to(who, "rw");
    s.chown_to(who, "ov");
    let script = "echo host=$(hostname) k=$K lang=${LANG-unset} kept=${KEPT-unset} home=${HOME-unset}; \
                  pwd; id -u; id -g; \
                  echo x > /rw/f && echo rw-ok; \
                  echo x > /ro/f 2>/dev/null || echo ro-refused; \
                  echo changed > /ov/over && cat /ov/over; \
                  stat -f -c %T /scratch; \
                  cd / 2>/dev/null && echo cd-ok || echo cd-refused";
    let mut c = sandbox_env(who, &[("KEPT", "yes"), ("LANG", "C.UTF-8")]).unwrap();
    c.args(["run", "default"])
        .args([
            "--bind",
            &format!("{rw}:/rw"),
            "--ro-bind",
            &format!("{ro}:/ro"),
        ])
        .args(["--overlay", &format!("{ov}:/ov"), "--tmpfs", "/scratch"])
        .args([
            "--hostname",
            "box",
            "--env",
            "K=v$HOME",
            "--keep-env",
            "KEPT",
        ])
        .args(["--unset-env", "LANG", "--unset-env", "HOME", "--cwd", "/rw"])
        .args(["--uid", "1234", "--gid", "4321", "--deny", "chdir"])
        .args(["--", "/bin/sh", "-c", script]);
    let out = ok(c.stdin(Stdio::null()).output().unwrap());
    let want = "host=box k=v$HOME lang=unset kept=yes home=unset\n/rw\n1234\n4321\nrw-ok\nro-refused\nchanged\ntmpfs\ncd-refused\n";
    assert!(out.starts_with(want), "{out}");
    // The overlay's change stayed inside.
    assert_eq!(
        std::fs::read_to_string(s.path.join("ov/over")).unwrap(),
        "lower\n"
    );
    // Later wins: a call denied then allowed is allowed, and the other way round.
    let cd = |order: [&str; 4]| {
        let mut c = sandbox(who).unwrap();
        c.args(["run", "default"]).args(order).args([
            "--",
            "/bin/sh",
            "-c",
            "cd / 2>/dev/null && echo cd-ok || echo cd-refused",
        ]);
        ok(c.stdin(Stdio::null()).output().unwrap())
    };
    assert_eq!(cd(["--deny", "chdir", "--allow", "chdir"]), "cd-ok\n");
    assert_eq!(cd(["--allow", "chdir", "--deny", "chdir"]), "cd-refused\n");
    // A group allowed, then one of its calls denied.
    let mut c = sandbox(who).unwrap();
    c.args([
        "plan", "--json", "default", "--allow", "@debug", "--deny", "ptrace",
    ]);
    let plan = ok(c.output().unwrap());
    let v: Value = serde_json::from_str(&plan).unwrap();
    let seccomp = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["op"] == "seccomp")
        .unwrap();
    let names = seccomp["syscalls"].to_string();
    assert!(names.contains("\"ptrace\""), "{names}");
    assert!(!names.contains("\"process_vm_readv\""), "{names}");
    // The network: the host's, or only loopback (/proc/net is the
    // reader's network namespace).
    let names = |dev: &str| {
        let mut v: Vec<String> = dev
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next())
            .map(|n| n.trim().to_string())
            .collect();
        v.sort();
        v
    };
    let ifaces = |args: &[&str]| {
        let mut c = sandbox(who).unwrap();
        c.args(["run", "default"])
            .args(args)
            .args(["--", "cat", "/proc/net/dev"]);
        names(&ok(c.stdin(Stdio::null()).output().unwrap()))
    };
    let host = names(&std::fs::read_to_string("/proc/net/dev").unwrap());
    assert!(host.len() > 1, "the host has more than lo: {host:?}");
    assert_eq!(ifaces(&["--net", "host"]), host);
    assert_eq!(ifaces(&["--net", "host", "--no-network"]), ["lo"]);
    assert_eq!(ifaces(&["--no-network", "--net", "host"]), host);
    // --timeout ends it with 124.
    let out = sandbox_run(
        who,
        &["run", "default", "--timeout", "300ms", "--", "sleep", "30"],
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(124), "{}", stderr(&out));
});

// --with stacks a fragment before the other options, which come in the
// order given; the profile's name stays.
both!(with_comes_first_then_the_order_given, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("cli-with");
    let frag = s.write("frag.toml", "[uts]\nhostname = \"fragment\"\n");
    let host = |args: &[&str]| {
        let mut all = vec!["run", "default"];
        all.extend(args);
        all.extend(["--", "hostname"]);
        ok(sandbox_run(who, &all).unwrap())
    };
    assert_eq!(host(&["--with", &frag]), "fragment\n");
    assert_eq!(host(&["--hostname", "a", "--with", &frag]), "a\n");
    assert_eq!(host(&["--hostname", "a", "--set", "uts.hostname=b"]), "b\n");
    assert_eq!(host(&["--set", "uts.hostname=b", "--hostname", "a"]), "a\n");
    let v: Value = serde_json::from_str(&ok(sandbox_run(
        who,
        &["plan", "--json", "default", "--with", &frag],
    )
    .unwrap()))
    .unwrap();
    assert_eq!(v["profile"], "default");
});

// A bad override: exit 125, the argument named, nothing run.
both!(a_bad_override_is_an_error_at_its_argument, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let cases: &[(&[&str], &str)] = &[
        (
            &["--net", "wifi"],
            "command line: --net wifi: error: 'wifi' is not a network",
        ),
        (&["--env", "NOVALUE"], "command line: --env NOVALUE: error:"),
        (&["--set", "novalue"], "command line: --set novalue: error:"),
        (&["--set", "extends=[\"x\"]"], "--set cannot extend"),
        (
            &["--set", "landlock.compat=bogus"],
            "command line: --set landlock.compat=bogus: error: 'bogus' is not a valid 'compat'",
        ),
        (
            &["--set", "nosuchkey=1"],
            "command line: --set nosuchkey=1: error: unknown key 'nosuchkey'",
        ),
        (
            &["--bind", "/nonexistent-sandbox-test"],
            "command line: --bind /nonexistent-sandbox-test: error: bind source '/nonexistent-sandbox-test' does not exist",
        ),
        (
            &["--bind", ""],
            "command line: --bind : error: no source path",
        ),
        (
            &["--tmpfs", "relative"],
            "command line: --tmpfs relative: error:",
        ),
        (
            &["--cwd", "relative"],
            "command line: --cwd relative: error: cwd 'relative' must be an absolute path",
        ),
        (
            &["--uid", "x"],
            "command line: --uid x: error: 'uid' must be an integer",
        ),
        (
            &["--deny", "nosuchcall"],
            "command line: --deny nosuchcall: error: unknown",
        ),
        (
            &["--timeout", "forever"],
            "command line: --timeout forever: error:",
        ),
        (
            &["--forward", "8080:80"],
            "command line: --forward 8080:80: error: port forwards need mode = \"pasta\"",
        ),
        (
            &["--with", "no-such-fragment"],
            "command line: --with no-such-fragment: error: no profile named",
        ),
        (
            &["--with", "/nonexistent-sandbox-test.toml"],
            "command line: --with /nonexistent-sandbox-test.toml: error:",
        ),
        (
            &["--uid", "4294967295"],
            "command line: --uid 4294967295: error: uid 4294967295 is not an id",
        ),
        (&["--set", "\"extends\"=[\"x\"]"], "--set cannot extend"),
        (&["--set", "name=x"], "cannot change the profile's name"),
        (&["--set", "[uts]\nhostname=x"], "is not one profile key"),
        (&["--bind"], "a value is required for '--bind"),
    ];
    for (args, says) in cases {
        for sub in ["run", "plan"] {
            let mut all = vec![sub, "default"];
            all.extend(*args);
            all.extend(["--", "/bin/sh", "-c", "echo ran"]);
            let out = sandbox_run(who, &all).unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(125), "{all:?}: {err}");
            assert!(err.contains(says), "{all:?}: wanted {says:?} in:\n{err}");
            assert!(!stdout(&out).contains("ran"), "{all:?}");
        }
    }
    // Not UTF-8: a profile cannot hold it.
    use std::os::unix::ffi::OsStrExt;
    let mut c = sandbox(who).unwrap();
    c.args(["plan", "default", "--bind"])
        .arg(std::ffi::OsStr::from_bytes(b"/tmp/\xff"));
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("not UTF-8"), "{}", stderr(&out));
});

// The profile --emit-profile prints, loaded as a file, makes the plan the
// overrides make: the same steps, the origins aside. Cases drawn from a
// pool of overrides, in random order (proptest).
mod emitted_profile_makes_the_same_plan {
    use super::*;
    use proptest::prelude::*;

    fn pool(dir: &str) -> Vec<Vec<String>> {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        vec![
            v(&["--bind", &format!("{dir}:/data")]),
            v(&["--ro-bind", dir]),
            v(&["--bind-try", "/nonexistent-sandbox-test"]),
            v(&["--tmpfs", "/scratch"]),
            v(&["--overlay", &format!("{dir}:/ov")]),
            v(&["--net", "host"]),
            v(&["--no-network"]),
            v(&["--env", "K=a$b c"]),
            v(&["--env", "K=other"]),
            v(&["--unset-env", "K"]),
            v(&["--unset-env", "LC_*"]),
            v(&["--keep-env", "LC_*"]),
            v(&["--hostname", "one"]),
            v(&["--hostname", "two"]),
            v(&["--cwd", "/tmp"]),
            v(&["--uid", "5"]),
            v(&["--gid", "6"]),
            v(&["--timeout", "1m"]),
            v(&["--deny", "@debug"]),
            v(&["--allow", "ptrace"]),
            v(&["--deny", "chdir"]),
            v(&["--allow", "chdir"]),
            v(&["--set", "landlock.compat=hard"]),
            v(&["--set", "mount={type=\"dir\", dst=\"/made\"}"]),
            v(&["--set", "limits.nofile=256"]),
        ]
    }

    fn steps_without_origins(plan: &str) -> Vec<Value> {
        let v: Value = serde_json::from_str(plan).unwrap_or_else(|e| panic!("{e}: {plan}"));
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.as_object_mut().unwrap().remove("origin");
                s
            })
            .collect()
    }

    fn check(who: Who, picks: &[usize]) -> Option<()> {
        let s = Scratch::new("cli-emit");
        let dir = s.dir("d", 0o755);
        let pool = pool(&dir);
        let mut args: Vec<String> = vec![];
        for i in picks {
            args.extend(pool[*i % pool.len()].clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let plan = |profile: &str, more: &[&str]| -> Option<String> {
            let mut all = vec!["plan", profile];
            all.extend(more);
            Some(ok(sandbox_run(who, &all)?))
        };
        let mut json = vec!["--json"];
        json.extend(&args);
        let direct = plan("default", &json)?;
        let mut emit = vec!["--emit-profile"];
        emit.extend(&args);
        let text = plan("default", &emit)?;
        let file = s.write("kept.toml", &text);
        let kept = plan(&file, &["--json"])?;
        let (direct, kept) = (steps_without_origins(&direct), steps_without_origins(&kept));
        // The first step that differs, not both plans whole.
        let differs = direct
            .iter()
            .zip(&kept)
            .position(|(a, b)| a != b)
            .or((direct.len() != kept.len()).then_some(direct.len().min(kept.len())));
        if let Some(i) = differs {
            panic!(
                "{args:?}: step {i} differs:\n  direct: {}\n  kept:   {}\nthe profile:\n{text}",
                direct.get(i).map_or("(none)".into(), Value::to_string),
                kept.get(i).map_or("(none)".into(), Value::to_string),
            );
        }
        Some(())
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 24,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    fn run(who: Who) {
        if sandbox(who).is_none() {
            return;
        }
        proptest!(config(), |(picks in prop::collection::vec(0usize..64, 0..8))| {
            check(who, &picks);
        });
    }

    #[test]
    fn as_root() {
        run(Who::Root)
    }

    #[test]
    fn as_user() {
        run(Who::User)
    }
}

// An argument's text never becomes lines of the emitted profile.
#[test]
fn emitted_comment_holds_no_line_of_an_argument() {
    let Some(out) = sandbox_run(
        Who::User,
        &[
            "plan",
            "default",
            "--emit-profile",
            "--env",
            "K=1\n[process]\ncwd = \"/etc\"",
        ],
    ) else {
        return;
    };
    let text = ok(out);
    let t: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(t.get("process").is_none(), "{text}");
    assert_eq!(
        t["env"]["set"]["K"].as_str(),
        Some("1\n[process]\ncwd = \"/etc\"")
    );
}

// Root loads a --with file only if no one else can change it, as it does
// the profile itself (docs/security-model.md): a user's fragment cannot
// decide what root runs. Control: the same fragment, root's, is loaded.
#[test]
fn root_refuses_a_with_file_another_user_can_change() {
    if !is_root() {
        cannot("needs root");
        return;
    }
    let Some(u) = test_user() else {
        cannot("set SANDBOX_TEST_USER to an unprivileged user");
        return;
    };
    let s = Scratch::new("cli-with-owner");
    let frag = s.write("frag.toml", "[uts]\nhostname = \"users\"\n");
    let run = || {
        sandbox_run(
            Who::Root,
            &["run", "default", "--with", &frag, "--", "hostname"],
        )
        .unwrap()
    };
    let out = run();
    assert_eq!(ok(out), "users\n", "control: root's own fragment is loaded");
    std::os::unix::fs::chown(&frag, Some(u.uid), Some(u.gid)).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("root does not load profile"),
        "{}",
        stderr(&out)
    );
}

// A relative SRC with no current folder (removed) is an error, never a
// path from elsewhere: this bound the host's / writable before (found by
// an attacker review).
#[test]
fn a_relative_source_without_a_current_folder_is_an_error() {
    let s = Scratch::new("cli-gone");
    let gone = s.dir("gone", 0o755);
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "cd {gone} && rmdir {gone} && exec \"$0\" run default --bind .:/w -- ls /w"
        ))
        .arg(binary());
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(125),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("needs the current folder"),
        "{}",
        stderr(&out)
    );
}

// Whatever an argument holds, it is one value of one key: a line break in
// it adds no key, no table and no line to the plan. Control: the same
// lines in a profile file do set the hostname.
both!(an_argument_adds_no_lines, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let injected = "a\n[uts]\nhostname = \"injected\"";
    for (flag, value) in [
        ("--set", format!("env.set.K={injected}")),
        ("--env", format!("K={injected}")),
    ] {
        let args = ["run", "default", flag, &value, "--", "/bin/sh", "-c"];
        let mut all = args.to_vec();
        all.push("hostname; printf '%s' \"$K\"");
        let out = ok(sandbox_run(who, &all).unwrap());
        let (host, k) = out.split_once('\n').unwrap();
        assert_ne!(host, "injected", "{flag}");
        assert_eq!(k, injected, "{flag}");
        let plan = ok(sandbox_run(who, &["plan", "default", flag, &value]).unwrap());
        assert!(
            !plan
                .lines()
                .any(|l| l.starts_with("[uts]") || l.starts_with("hostname")),
            "{plan}"
        );
        assert!(
            plan.contains("\\x0a[uts]\\x0a"),
            "escaped in its origin: {plan}"
        );
    }
    let s = Scratch::new("cli-lines");
    let file = s.write(
        "p.toml",
        &format!(
            "extends = [\"default\"]\n[env.set]\nK = \"a\"\n{}\n",
            &injected[2..]
        ),
    );
    let out = ok(sandbox_run(who, &["run", &file, "--", "hostname"]).unwrap());
    assert_eq!(out, "injected\n", "the control sets it");
});

// A --with file the profile already extends is not applied again (as a
// diamond of extends): what the profile says over it stays.
both!(with_a_file_already_extended_applies_it_once, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("cli-once");
    let frag = s.write("frag.toml", "[seccomp]\ndeny = [\"chdir\"]\n");
    let other = s.write("other.toml", "[seccomp]\ndeny = [\"chdir\"]\n");
    let prof = s.write(
        "p.toml",
        "extends = [\"default\", \"frag.toml\"]\n[seccomp]\nallow = [\"chdir\"]\n",
    );
    let cd = |with: &str| {
        let args = ["run", &prof, "--with", with, "--", "/bin/sh", "-c"];
        let mut all = args.to_vec();
        all.push("cd / 2>/dev/null && echo cd-ok || echo cd-refused");
        ok(sandbox_run(who, &all).unwrap())
    };
    assert_eq!(cd(&frag), "cd-ok\n");
    let plan = ok(sandbox_run(who, &["plan", &prof, "--with", &frag]).unwrap());
    assert!(plan.contains("already applied by the profile"), "{plan}");
    // Control: a file of the same content not yet applied is.
    assert_eq!(cd(&other), "cd-refused\n");
    // And the emitted profile keeps the rule.
    let emitted =
        ok(sandbox_run(who, &["plan", "--emit-profile", &prof, "--with", &frag]).unwrap());
    let kept = s.write("kept.toml", &emitted);
    let args = ["run", &kept, "--", "/bin/sh", "-c", "cd / && echo cd-ok"];
    assert_eq!(ok(sandbox_run(who, &args).unwrap()), "cd-ok\n");
});

// A variable named by itself is not taken out by a glob, in either order.
both!(a_name_beats_a_glob, |who| {
    let env = [("LC_ALL", "C"), ("LC_PAPER", "x"), ("LC_TIME", "y")];
    let show = "echo all=${LC_ALL-unset} paper=${LC_PAPER-unset} time=${LC_TIME-unset} own=${LC_OWN-unset}";
    let run = |args: &[&str]| {
        let mut c = sandbox_env(who, &env)?;
        c.args(["run", "default"])
            .args(["--keep-env", "LC_*"])
            .args(args);
        c.args(["--", "/bin/sh", "-c", show]);
        Some(ok(c.stdin(Stdio::null()).output().unwrap()))
    };
    let Some(control) = run(&[]) else { return };
    assert_eq!(control, "all=C paper=x time=y own=unset\n");
    let want = "all=C paper=unset time=unset own=1\n";
    let a = [
        "--unset-env",
        "LC_*",
        "--keep-env",
        "LC_ALL",
        "--env",
        "LC_OWN=1",
    ];
    let b = [
        "--keep-env",
        "LC_ALL",
        "--env",
        "LC_OWN=1",
        "--unset-env",
        "LC_*",
    ];
    assert_eq!(run(&a).unwrap(), want);
    assert_eq!(run(&b).unwrap(), want);
    // By name, it goes.
    let c = ["--keep-env", "LC_ALL", "--unset-env", "LC_ALL"];
    assert_eq!(run(&c).unwrap(), "all=unset paper=x time=y own=unset\n");
});

// Port forwards under mode "none": an error in one file, a warning when
// the mode comes from a layer over the forwards (`--net none`).
both!(forwards_under_no_network, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("cli-fwd");
    let one = s.write(
        "one.toml",
        "extends = [\"default\"]\n[namespaces]\nnet = true\n[network]\nmode = \"none\"\nforward_tcp = [\"8080:80\"]\n",
    );
    let out = sandbox_run(who, &["check", &one]).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("port forwards need mode"),
        "{}",
        stderr(&out)
    );
    let fwd = s.write(
        "fwd.toml",
        "extends = [\"default\"]\n[namespaces]\nnet = true\n[network]\nmode = \"pasta\"\nforward_tcp = [\"8080:80\"]\n",
    );
    let out = sandbox_run(who, &["plan", &fwd, "--net", "none"]).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("ignored"), "{}", stderr(&out));
    // The order of the layers, not which file: a forward over the "none"
    // is an error, one under it ignored; the emitted profile agrees.
    let plan = |args: &[&str]| sandbox_run(who, &[&["plan", "default"], args].concat()).unwrap();
    let after = plan(&["--net", "none", "--forward", "8080:80"]);
    assert_eq!(after.status.code(), Some(125), "{}", stderr(&after));
    let under = ["--net", "pasta", "--forward", "8080:80", "--net", "none"];
    let out = plan(&under);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("ignored"), "{}", stderr(&out));
    let emitted = ok(plan(&[&under[..], &["--emit-profile"]].concat()));
    let kept = s.write("kept.toml", &emitted);
    let out = sandbox_run(who, &["plan", &kept]).unwrap();
    assert_eq!(out.status.code(), Some(0), "{emitted}\n{}", stderr(&out));
    let none = s.write(
        "none.toml",
        "extends = [\"default\"]\n[namespaces]\nnet = true\n[network]\nmode = \"none\"\n",
    );
    let out = sandbox_run(who, &["plan", &none, "--forward", "8080:80"]).unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
});

// What goes with the command goes in the emitted profile too: the plan of
// `--set arguments=replace --set command=[...]` runs what the emitted
// profile runs, with the words after `--`.
both!(emitted_command_keeps_its_arguments_rule, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("cli-emit-cmd");
    let over = [
        "--set",
        "arguments=replace",
        "--set",
        "command=[\"/bin/echo\"]",
    ];
    let exec = |profile: &str, extra: &[&str]| {
        let args = [&["plan", "--json", profile], extra, &["--", "hi"]].concat();
        let out = ok(sandbox_run(who, &args).unwrap());
        let v: Value = serde_json::from_str(&out).unwrap();
        let steps = v["steps"].as_array().unwrap().clone();
        steps.into_iter().find(|st| st["op"] == "exec").unwrap()["argv"].clone()
    };
    let direct = exec("default", &over);
    let emitted = ok(sandbox_run(
        who,
        &[&["plan", "--emit-profile", "default"], &over[..]].concat(),
    )
    .unwrap());
    let kept = s.write("kept.toml", &emitted);
    assert_eq!(exec(&kept, &[]), direct, "{emitted}");
    assert_eq!(direct, serde_json::json!(["/bin/echo", "hi"]));
});

// What an argument holds is shown escaped in every message, never sent
// to the terminal as it is.
both!(messages_escape_what_an_argument_holds, |who| {
    if sandbox(who).is_none() {
        return;
    }
    for args in [
        vec!["--net", "\x1b[2Jx"],
        vec!["--with", "a\nb"],
        vec!["--set", "uts.hostname=\x1b]0;t\x07"],
        vec!["--deny", "\x1b[31m"],
    ] {
        let all = [&["plan", "default"], &args[..]].concat();
        let out = sandbox_run(who, &all).unwrap();
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            !err.contains('\x1b') && !err.contains('\x07'),
            "{args:?}: {err:?}"
        );
        assert!(
            !lines.iter().any(|l| l.starts_with('b')),
            "{args:?}: a line of its own: {err:?}"
        );
    }
});
