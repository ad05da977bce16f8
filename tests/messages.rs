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
