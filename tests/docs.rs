//! The documentation is part of the feature: its examples must be valid
//! profiles, and every name the code accepts must be documented.

use sandbox::host::FakeHost;
use sandbox::profile::{MountKind, NsKind, SearchPath, Vars, load_text, validate};

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(name),
    )
    .unwrap()
}

fn toml_blocks(text: &str) -> Vec<String> {
    text.split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect()
}

#[test]
fn every_profile_format_example_is_valid() {
    let text = doc("profile-format.md");
    let blocks = toml_blocks(&text);
    assert!(blocks.len() >= 10, "examples found: {}", blocks.len());
    let vars = Vars::example_user();
    // An example that only root can run says so on its first line; it
    // runs where `ip netns add` has made /run/netns.
    let mut root = FakeHost {
        uid: 0,
        gid: 0,
        ..FakeHost::debian_user()
    };
    root.paths
        .push(("/run/netns".into(), sandbox::host::PathKind::Dir));
    for b in blocks {
        let mut l = load_text("doc-example.toml", None, &b, &SearchPath::builtin_only());
        let host = if b.starts_with("# as root\n") {
            &root
        } else {
            &FakeHost::debian_user()
        };
        validate(&mut l, &vars, host);
        let errors: Vec<String> = l
            .diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render(&l.sources))
            .collect();
        assert!(
            errors.is_empty(),
            "example is not valid:\n{b}\n{}",
            errors.join("")
        );
    }
}

#[test]
fn every_name_the_code_accepts_is_documented() {
    let format = doc("profile-format.md");
    for (name, _) in MountKind::ALL {
        assert!(
            format.contains(&format!("| `{name}` |")),
            "mount type {name} missing from the table"
        );
    }
    for k in NsKind::ALL {
        assert!(
            format.contains(&format!("| `{}` |", k.key())),
            "namespace {} undocumented",
            k.key()
        );
    }
    for key in sandbox::limits::Resource::ALL.map(|r| r.key()) {
        assert!(
            format.contains(&format!("| `{key}` |")),
            "limit {key} undocumented"
        );
    }
    let seccomp = doc("seccomp.md");
    for g in sandbox::syscalls::GROUPS {
        let members = g.members.join(", ");
        assert!(
            seccomp.contains(&format!("| `{}` |", g.name)),
            "group {} undocumented",
            g.name
        );
        assert!(
            seccomp.contains(&members),
            "members of {} differ from the docs: {members}",
            g.name
        );
        let default = sandbox::syscalls::DEFAULT_DENY.contains(&g.name);
        let row = seccomp
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", g.name)))
            .unwrap();
        assert_eq!(
            row.contains("| yes |"),
            default,
            "default flag of {} differs from the docs",
            g.name
        );
    }
}

#[test]
fn the_plan_shown_in_the_cli_docs_is_the_plan() {
    // Each line of docs/cli.md's excerpt is a line of the golden plan of
    // `default` (tests/golden, pinned by tests/profiles.rs).
    let cli = doc("cli.md");
    let excerpt = cli
        .split("```\nplan for 'default'\n")
        .nth(1)
        .and_then(|r| r.split("```").next())
        .expect("docs/cli.md shows the plan of default");
    let golden = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/default.plan"),
    )
    .unwrap();
    let mut shown = 0;
    for line in excerpt.lines().filter(|l| l.trim() != "...") {
        assert!(
            golden.lines().any(|g| g == line),
            "docs/cli.md shows a step the plan does not have:\n{line}"
        );
        shown += 1;
    }
    assert!(shown >= 3);
}

#[test]
fn the_calls_shown_in_the_cli_docs_are_the_calls() {
    // The lines of docs/cli.md's excerpt are lines of the golden call
    // trace of `default` (pinned by tests/profiles.rs), in that order.
    let cli = doc("cli.md");
    let excerpt = cli
        .split("### `--calls`")
        .nth(1)
        .and_then(|r| r.split("```\n").nth(1))
        .expect("docs/cli.md shows the calls of default");
    let golden = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/calls/default.calls"),
    )
    .unwrap();
    let lines: Vec<&str> = golden.lines().collect();
    let mut at = 0;
    let mut shown = 0;
    for line in excerpt.lines().filter(|l| l.trim() != "...") {
        match lines[at..].iter().position(|g| *g == line) {
            Some(i) => at += i + 1,
            None => {
                panic!("docs/cli.md shows a call the trace does not have, or out of order:\n{line}")
            }
        }
        shown += 1;
    }
    assert!(shown >= 5);
}

/// Every option of every subcommand, as `sandbox SUB --help` lists it, is
/// in docs/cli.md.
#[test]
fn every_flag_is_in_the_cli_docs() {
    let cli = doc("cli.md");
    let help = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&["--help"]);
    let subcommands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|s| s != "help")
        .collect();
    assert!(subcommands.len() >= 9, "{subcommands:?}");
    let mut missing = vec![];
    for sub in &subcommands {
        assert!(cli.contains(&format!("sandbox {sub}")), "sandbox {sub}");
        for word in help(&[sub, "--help"]).split_whitespace() {
            let Some(flag) = word.strip_prefix("--") else {
                continue;
            };
            let flag: String = flag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if flag.is_empty() || ["help", "version"].contains(&flag.as_str()) {
                continue;
            }
            // `--bind` counts for --bind, not for --bind-try.
            let named = cli.match_indices(&format!("--{flag}")).any(|(i, m)| {
                !cli[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
            });
            if !named {
                missing.push(format!("sandbox {sub} --{flag}"));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "not in docs/cli.md: {missing:?}");
}
