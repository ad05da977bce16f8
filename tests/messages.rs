//! What a new user sees on a first mistake, through the binary: a typo is
//! one error at its place (not a dozen echoes), a mistyped name gets the
//! names it was likely meant to be, and the places searched are listed as
//! they are.

mod common;
use common::*;
use std::process::{Command, Output};

/// `sandbox ARGS` as the caller of the tests, in `dir`, with no profile
/// folders of the caller's in the way.
fn sandbox_in(dir: &str, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", format!("{dir}/no-config"))
        .output()
        .unwrap()
}

/// The `FILE:LINE:COL: error: ...` lines of an output.
fn errors(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.contains(": error: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn two_typos_are_two_errors_each_at_its_place() {
    let s = Scratch::new("messages");
    // The README's viewer, with its name's quote and a bracket left out.
    let p = s.write(
        "viewer.toml",
        "name = \"viewer\ndescription = \"Look at a file in ~/Downloads, nothing else\"\nextends = [\"default\"]\ncommand = [\"/usr/bin/less\"]\n\n[[mount]\ntype = \"ro-bind\"\nsrc = \"~/Downloads\"\noptional = true\n\n[seccomp]\ndeny = [\"@debug\"]\n",
    );
    for cmd in [&["check", &p][..], &["run", &p, "--", "/bin/true"][..]] {
        let out = sandbox_in(&s.path.to_string_lossy(), cmd);
        assert_eq!(
            out.status.code(),
            Some(if cmd[0] == "check" { 1 } else { 125 }),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            errors(&out),
            [
                format!("{p}:1:8: error: TOML syntax: this string is not closed on its line"),
                format!("{p}:6:9: error: TOML syntax: unclosed array table, expected `]`"),
            ],
            "{}",
            stderr(&out)
        );
        assert!(
            stderr(&out)
                .contains("1 | name = \"viewer\n  |        ^^^^^^^\n  = hint: end it with `\"`"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn an_array_left_open_is_one_error_at_its_bracket() {
    let s = Scratch::new("messages");
    let p = s.write(
        "p.toml",
        "extends = [\"default\"]\ncommand = [\"/usr/bin/less\", \"-R\"\n\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"/usr/share/doc\"\n\n[process]\ncwd = \"/usr/share/doc\"\n",
    );
    let out = sandbox_in(&s.path.to_string_lossy(), &["check", &p]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        errors(&out),
        [format!(
            "{p}:2:11: error: TOML syntax: this array is never closed"
        )],
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out)
            .contains("= hint: add `]` after its last element: line 4 starts something new"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_mistyped_profile_name_gets_the_names_it_was_likely_meant_to_be() {
    let s = Scratch::new("messages");
    let dir = s.path.to_string_lossy().into_owned();
    for (cmd, code) in [("run", 125), ("plan", 125), ("check", 1)] {
        let out = sandbox_in(&dir, &[cmd, "firfox"]);
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("sandbox: error: no profile named 'firfox'\n  = hint: did you mean 'firefox'? (searched "),
            "{err}"
        );
    }
    let out = sandbox_in(&dir, &["run", "redis"]);
    assert!(
        stderr(&out).contains("did you mean 'redis-server'?"),
        "{}",
        stderr(&out)
    );
    // Nothing near: no guess, only where it looked.
    let out = sandbox_in(&dir, &["run", "qqqqqqqq"]);
    assert!(
        stderr(&out).contains("= hint: searched ") && !stderr(&out).contains("did you mean"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_mistyped_extends_entry_gets_the_nearest_profile_or_fragment() {
    let s = Scratch::new("messages");
    let p = s.write("p.toml", "extends = [\"defualt\", \"x1l\"]\n");
    s.write("mine/local-one.toml", "\n");
    let q = s.write("mine/q.toml", "extends = [\"local-on\"]\n");
    let out = sandbox_in(&s.path.to_string_lossy(), &["check", &p, &q]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{p}:1:12: error: extends 'defualt': no such profile"
        )),
        "{err}"
    );
    assert!(
        err.contains("= hint: did you mean 'default'? (searched "),
        "{err}"
    );
    assert!(
        err.contains("= hint: did you mean 'x11'? (searched "),
        "{err}"
    );
    // A profile beside the one that names it is a candidate too.
    assert!(
        err.contains("= hint: did you mean 'local-one'? (searched "),
        "{err}"
    );
}

#[test]
fn the_folders_searched_have_no_empty_entry_for_the_current_one() {
    let s = Scratch::new("messages");
    s.write("p.toml", "extends = [\"nothing-like-it\"]\n");
    let dir = s.path.to_string_lossy().into_owned();
    let out = sandbox_in(&dir, &["check", "p.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "= hint: searched {dir}, {dir}/no-config/sandbox/profiles, /etc/sandbox/profiles, the built-in profiles\n"
        )),
        "{err}"
    );
    assert!(!err.contains("searched , "), "{err}");
}

/// A folder of `owner`'s, mode 0750 (0000 when the tests run unprivileged,
/// which cannot give a folder away: then even its owner may not enter it).
fn locked_folder(s: &Scratch, name: &str) -> (String, String, String) {
    let dir = s.dir(name, if is_root() { 0o750 } else { 0o000 });
    let mode = if is_root() { "0750" } else { "0000" };
    let owner = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap()
        .name;
    (dir, owner, mode.into())
}

both!(
    a_folder_the_sandbox_may_not_enter_is_said_to_be_whose_it_is,
    |who| {
        let s = Scratch::new("messages");
        let (data, owner, mode) = locked_folder(&s, "data");
        // As the redis-server profile does with /var/lib/redis.
        let p = s.write(
            "p.toml",
            &format!("extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"{data}\"\n\n[process]\ncwd = \"{data}\"\n"),
        );
        let Some(out) = run_sh(who, &p, "true") else {
            return;
        };
        let _ =
            std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o755));
        assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{p}:7:7: error: step "))
                && err.contains(&format!("'chdir {data}' ({data}): Permission denied\n")),
            "{err}"
        );
        let nobody = if who == Who::Root {
            " (a root caller's sandbox is nobody on the host)"
        } else {
            ""
        };
        assert!(
            err.contains(&format!("  = hint: '{data}' is {owner}'s ({mode}){nobody}: run as that user, as docs/profiles.md says for services")),
            "{err}"
        );
    }
);

#[test]
fn a_bind_source_behind_a_folder_the_caller_may_not_enter_is_not_called_missing() {
    let s = Scratch::new("messages");
    let (locked, owner, mode) = locked_folder(&s, "locked");
    if is_root() {
        s.dir("locked/inner", 0o755);
    }
    let p = s.write(
        "p.toml",
        &format!(
            "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{locked}/inner\"\n"
        ),
    );
    let Some(out) = run_sh(Who::User, &p, "true") else {
        return;
    };
    let _ = std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755));
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{p}:4:7: error: bind source '{locked}/inner' cannot be reached: '{locked}' is {owner}'s ({mode})\n")),
        "{err}"
    );
}

/// The shipped service profile as a user who is not redis: why it fails.
#[test]
fn redis_server_as_another_user_says_whose_its_data_is() {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata("/var/lib/redis") else {
        cannot("redis is not installed (see .ci/run)");
        return;
    };
    if meta.mode() & 0o005 == 0o005 {
        cannot("/var/lib/redis is open to everyone here");
        return;
    }
    let Some(mut c) = sandbox(Who::User) else {
        return;
    };
    let out = c
        .args(["run", "redis-server"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let owner = nix::unistd::User::from_uid(meta.uid().into())
        .unwrap()
        .unwrap()
        .name;
    let hint = format!(
        "= hint: '/var/lib/redis' is {owner}'s ({:04o}): run as that user, as docs/profiles.md says for services",
        meta.mode() & 0o7777
    );
    assert!(stderr(&out).contains(&hint), "{}", stderr(&out));
}

/// A profile whose program is nowhere: said by `check`, by `run` before
/// anything starts (127, the shell's "not found"), and by `plan` as a
/// warning over the plan that would run once it is installed.
#[test]
fn an_app_that_is_not_installed_is_said_up_front() {
    let s = Scratch::new("messages");
    let p = s.write(
        "ghost.toml",
        "extends = [\"default\"]\ncommand = [\"no-such-app-anywhere\", \"--flag\"]\npackage = \"no-such-package\"\n\n[network]\nmode = \"pasta\"\n",
    );
    let dir = s.path.to_string_lossy().into_owned();
    let said = format!(
        "{p}:2:12: error: 'no-such-app-anywhere' is not installed: it is in no folder of the sandbox's PATH"
    );
    let hint = "= hint: install the package 'no-such-package' (apt install no-such-package)";
    let out = sandbox_in(&dir, &["check", &p]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&said), "{}", stderr(&out));
    assert!(stderr(&out).contains(hint), "{}", stderr(&out));
    let out = sandbox_in(&dir, &["run", &p]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(stderr(&out).contains(&said), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("step "),
        "a step ran before the app was found missing: {}",
        stderr(&out)
    );
    let out = sandbox_in(&dir, &["plan", &p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&said.replace(": error: ", ": warning: ")),
        "{}",
        stderr(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("exec no-such-app-anywhere --flag"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A program at a path, neither inside nor on the host.
    let p = s.write(
        "path.toml",
        "extends = [\"default\"]\ncommand = [\"/opt/no-such/app\"]\n",
    );
    let out = sandbox_in(&dir, &["check", &p]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{p}:2:12: error: '/opt/no-such/app' is not installed: there is no such file"
        )),
        "{}",
        stderr(&out)
    );
}

/// On the host but not inside: the hint says what to bind.
#[test]
fn a_program_the_sandbox_does_not_show_is_told_apart_from_a_missing_one() {
    let s = Scratch::new("messages");
    let bin = s.dir("bin", 0o755);
    s.write("bin/hosttool", "#!/bin/sh\necho hi\n");
    std::fs::set_permissions(
        format!("{bin}/hosttool"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let p = s.write(
        "p.toml",
        &format!("extends = [\"default\"]\ncommand = [\"{bin}/hosttool\"]\n"),
    );
    let out = sandbox_in(&s.path.to_string_lossy(), &["check", &p]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "error: '{bin}/hosttool' is installed on the host ({bin}/hosttool) but not inside the sandbox"
        )),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!("hint: bind the folder it lives in ({bin})")),
        "{}",
        stderr(&out)
    );
    // Bound, it is there.
    let p = s.write(
        "bound.toml",
        &format!("extends = [\"default\"]\ncommand = [\"{bin}/hosttool\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{bin}\"\n"),
    );
    let out = sandbox_in(&s.path.to_string_lossy(), &["check", &p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// `sandbox profiles` marks a profile whose program is not installed here,
/// with its package; one that is installed, and one wrong in itself (for
/// `check` to explain), are not marked.
#[test]
fn profiles_marks_the_ones_whose_app_is_not_installed() {
    let s = Scratch::new("messages");
    s.write(
        "config/sandbox/profiles/ghost.toml",
        "description = \"not here\"\nextends = [\"default\"]\ncommand = [\"no-such-app-anywhere\"]\npackage = \"no-such-package\"\n",
    );
    s.write(
        "config/sandbox/profiles/bare.toml",
        "description = \"not here either\"\nextends = [\"default\"]\ncommand = [\"no-such-app-anywhere\"]\n",
    );
    s.write(
        "config/sandbox/profiles/here.toml",
        "description = \"here\"\nextends = [\"default\"]\ncommand = [\"/bin/true\"]\n",
    );
    s.write(
        "config/sandbox/profiles/broken.toml",
        "description = \"wrong\"\nextends = [\"default\"]\ncommand = [\"no-such-app-anywhere\"]\nno_such_key = 1\n",
    );
    let out = Command::new(binary())
        .arg("profiles")
        .env("XDG_CONFIG_HOME", s.path.join("config"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = |name: &str| -> String {
        text.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}:\n{text}"))
            .to_string()
    };
    assert!(
        line("ghost").ends_with("] (not installed: apt install no-such-package)"),
        "{text}"
    );
    assert!(line("bare").ends_with("] (not installed)"), "{text}");
    assert!(line("here").ends_with(".toml]"), "{text}");
    assert!(line("broken").ends_with(".toml]"), "{text}");
    assert!(line("default").ends_with(".toml]"), "{text}");
}

/// A new /proc holds only the kernel's files: a `file`, `dir` or
/// `symlink` in it fails at run time, so `check` says so at its line; a
/// host file bound over an entry, or a tmpfs on a folder of it, is fine.
#[test]
fn check_refuses_what_cannot_be_made_in_a_new_proc() {
    let s = Scratch::new("messages");
    let dir = s.path.to_string_lossy().into_owned();
    for (kind, extra) in [
        ("file", "content = \"x\"\n"),
        ("dir", ""),
        ("symlink", "src = \"/x\"\n"),
    ] {
        let p = s.write(
            &format!("{kind}.toml"),
            &format!("extends = [\"default\"]\n[[mount]]\ntype = \"{kind}\"\ndst = \"/proc/cpuinfo\"\n{extra}"),
        );
        for cmd in ["check", "run"] {
            let out = sandbox_in(
                &dir,
                &[cmd, &p, "--", "/bin/true"][..if cmd == "check" { 2 } else { 4 }],
            );
            assert_eq!(
                out.status.code(),
                Some(if cmd == "check" { 1 } else { 125 }),
                "{}",
                stderr(&out)
            );
            assert_eq!(
                errors(&out),
                [format!(
                    "{p}:4:7: error: a {kind} cannot be made at '/proc/cpuinfo': it lies in the new /proc at '/proc', which holds only the kernel's own files"
                )],
                "{}",
                stderr(&out)
            );
        }
    }
    let p = s.write(
        "fine.toml",
        "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"/etc/hostname\"\ndst = \"/proc/version\"\n[[mount]]\ntype = \"tmpfs\"\ndst = \"/proc/sys\"\n[[mount]]\ntype = \"file\"\ndst = \"/proc/sys/note\"\ncontent = \"x\"\n",
    );
    let out = sandbox_in(&dir, &["check", &p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn an_unknown_capability_scope_or_syscall_stops_the_run_at_its_line() {
    // The child used to drop such a capability silently, take any scope
    // for abstract-unix-socket and leave such a syscall out of the filter.
    let s = Scratch::new("messages");
    let p = s.write(
        "p.toml",
        "extends = [\"default\"]\n[process]\ncapabilities = [\"CAP_CHOWN\", \"CAP_NOSUCH\"]\n[landlock]\nscope = [\"sockets\"]\n[seccomp]\ndeny = [\"frobnicate\"]\n",
    );
    for cmd in [&["plan", &p][..], &["run", &p, "--", "/bin/true"][..]] {
        let out = sandbox_in(&s.path.to_string_lossy(), cmd);
        assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
        assert_eq!(
            errors(&out),
            [
                format!("{p}:3:30: error: unknown capability 'CAP_NOSUCH'"),
                format!("{p}:7:9: error: unknown system call 'frobnicate'"),
                format!("{p}:5:10: error: unknown landlock scope 'sockets'"),
            ],
            "{}",
            stderr(&out)
        );
        assert!(!stdout(&out).contains("exec"), "{}", stdout(&out));
    }
}
