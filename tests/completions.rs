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

/// `sandbox COMPLETION-WORDS` completed by the bash script: what it offers.
fn bash_offers(words: &str) -> Vec<String> {
    let s = Scratch::new("completions");
    let path = s.write("sandbox.bash", &script("bash"));
    let bin = binary();
    let dir = bin.parent().unwrap().display().to_string();
    // The script asks `sandbox profiles --names`: the built binary, first
    // on PATH. The last word is the one being completed.
    let cword = words.split(' ').count() - 1;
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "PATH={dir}:$PATH; cd /; source {path}; COMP_WORDS=({words}); COMP_CWORD={cword}; _sandbox_profiles sandbox \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        ))
        .output()
        .unwrap();
    ok(o).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_profile_names_where_a_profile_goes() {
    if !have("bash") {
        cannot("needs bash");
        return;
    }
    for words in [
        "sandbox run fire",
        "sandbox plan --json fire",
        "sandbox run --name x --bind /a:/b fire",
        "sandbox check default fire",
        "sandbox run default --with fire",
    ] {
        let offered = bash_offers(words);
        assert!(
            offered.iter().any(|o| o == "firefox"),
            "{words}: {offered:?}"
        );
    }
    // Fragments, for --with.
    let offered = bash_offers("sandbox run default --with include/way");
    assert!(
        offered.iter().any(|o| o == "include/wayland"),
        "{offered:?}"
    );
    // Not where a PROFILE does not go: after the profile, an option's
    // value, an option.
    for words in [
        "sandbox run default fire",
        "sandbox run --name fire",
        "sandbox run default -- fire",
        "sandbox ps fire",
    ] {
        let offered = bash_offers(words);
        assert!(
            !offered.iter().any(|o| o == "firefox"),
            "{words}: {offered:?}"
        );
    }
    let opts = bash_offers("sandbox run --ro-b");
    assert!(opts.iter().any(|o| o == "--ro-bind"), "{opts:?}");
}

#[test]
fn fish_and_zsh_complete_profile_names() {
    let fish = script("fish");
    assert!(fish.contains("(sandbox profiles --names"), "{fish}");
    if have("fish") {
        let bin = binary();
        let dir = bin.parent().unwrap().display().to_string();
        let s = Scratch::new("completions");
        let path = s.write("sandbox.fish", &fish);
        let o = Command::new("fish")
            .arg("-c")
            .arg(format!(
                "set -x PATH {dir} $PATH; source {path}; complete -C 'sandbox run fire'"
            ))
            .output()
            .unwrap();
        let offered = ok(o);
        assert!(
            offered.lines().any(|l| l.starts_with("firefox")),
            "{offered}"
        );
    } else {
        cannot("needs fish (apt-get install fish)");
    }
    let zsh = script("zsh");
    // The PROFILE positions of run, plan, check and desktop-entry, and
    // each --with, ask the names function.
    assert!(zsh.contains("_sandbox_profile_names() {"), "{zsh}");
    let asking = zsh.matches(":_sandbox_profile_names'").count();
    assert!(asking >= 6, "{asking} places ask for names:\n{zsh}");
}

#[test]
fn profiles_names_lists_each_name_once() {
    let o = Command::new(binary())
        .args(["profiles", "--names"])
        .output()
        .unwrap();
    let text = ok(o);
    let names: Vec<&str> = text.lines().collect();
    assert!(
        names.contains(&"default") && names.contains(&"include/base"),
        "{text}"
    );
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "a name twice: {text}");
}
