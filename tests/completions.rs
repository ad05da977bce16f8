//! `sandbox completions SHELL` and `sandbox profiles --paths`, through
//! the built binary: the scripts are valid for their shells and complete
//! the subcommands and options; the search path is printed in order.

mod common;
use common::*;
use std::process::Command;

fn script(shell: &str) -> String {
    ok(Command::new(binary())
        .args(["completions", shell])
        .output()
        .unwrap())
}

#[test]
fn bash_completes_subcommands_and_options() {
    let s = Scratch::new("completions");
    let path = s.write("sandbox.bash", &script("bash"));
    // The script as bash loads it, then a completion of `sandbox en`
    // and of `sandbox ps --`.
    let run = |words: &str, cword: usize| {
        let o = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {path}; COMP_WORDS=({words}); COMP_CWORD={cword}; _sandbox sandbox \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\""
            ))
            .output()
            .unwrap();
        ok(o)
    };
    let subs = run("sandbox en", 1);
    assert!(subs.lines().any(|l| l == "enter"), "{subs}");
    let opts = run("sandbox ps --", 2);
    assert!(opts.lines().any(|l| l == "--tree"), "{opts}");
    assert!(opts.lines().any(|l| l == "--json"), "{opts}");
}

#[test]
fn every_shell_gets_a_script_its_shell_accepts() {
    for (shell, check) in [
        ("bash", Some(("bash", "-n"))),
        ("zsh", Some(("zsh", "-n"))),
        ("fish", Some(("fish", "--no-execute"))),
        ("elvish", None),
        ("powershell", None),
    ] {
        let text = script(shell);
        assert!(
            text.contains("enter") && text.contains("join-or-start"),
            "{shell}: {text}"
        );
        let Some((program, flag)) = check else {
            continue;
        };
        if !have(program) {
            to_stderr(&format!(
                "skipped: {program} is not installed, its script is not checked"
            ));
            continue;
        }
        let s = Scratch::new("completions");
        let path = s.write("script", &text);
        let o = Command::new(program).args([flag, &path]).output().unwrap();
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
    }
    let o = Command::new(binary())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(125),
        "an unknown shell is the launcher's error"
    );
}

#[test]
fn profiles_paths_lists_the_search_path_in_order() {
    let s = Scratch::new("paths");
    let config = s.dir("config", 0o755);
    let o = Command::new(binary())
        .args(["profiles", "--paths"])
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    let text = ok(o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("{config}/sandbox/profiles  (missing)"));
    assert!(lines[1].starts_with("/etc/sandbox/profiles"), "{text}");
    assert_eq!(lines.last(), Some(&"(the profiles built into sandbox)"));
    s.dir("config/sandbox/profiles", 0o755);
    let o = Command::new(binary())
        .args(["profiles", "--paths"])
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    assert_eq!(
        ok(o).lines().next(),
        Some(format!("{config}/sandbox/profiles").as_str())
    );
}
