//! Profile and plan tests, without privileges: malformed profiles must fail
//! at the exact line and column with the right message, warnings must be
//! warnings, and the plan of every shipped and example profile is pinned by
//! a golden file (UPDATE_GOLDEN=1 rewrites them).

use sandbox::diag::Diagnostic;
use sandbox::host::FakeHost;
use sandbox::plan::{self, Invocation};
use sandbox::profile::{self, Loaded, Location, SearchPath, Vars};
use std::path::{Path, PathBuf};

fn vars() -> Vars {
    Vars {
        uid: 1000,
        gid: 1000,
        user: Some("user".into()),
        home: Some("/home/user".into()),
        pwd: Some("/home/user/project".into()),
        env: [("XDG_RUNTIME_DIR", "/run/user/1000"), ("TERM", "xterm")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect(),
    }
}

fn search() -> SearchPath {
    SearchPath::builtin_only()
}

fn host() -> FakeHost {
    let mut h = FakeHost::debian_user();
    h.paths
        .push(("/home/user/project".into(), sandbox::host::PathKind::Dir));
    // The services the shipped service profiles confine, installed.
    for d in [
        "/etc/nginx",
        "/var/www",
        "/var/log/nginx",
        "/var/lib/nginx",
        "/etc/redis",
        "/var/lib/redis",
        "/etc/postgresql",
        "/var/lib/postgresql",
    ] {
        h.paths.push((d.into(), sandbox::host::PathKind::Dir));
    }
    h
}

/// The fake host for a profile: root's for one meant for root (no user
/// namespace: a root-run service), else the example user's.
fn host_for(l: &Loaded) -> FakeHost {
    let mut h = host();
    if !l.profile.ns_new(sandbox::profile::NsKind::User) {
        h.uid = 0;
        h.gid = 0;
    }
    h
}

fn load_checked(path: &Path) -> Loaded {
    let mut l = profile::load(Location::File(path.to_path_buf()), &search());
    profile::validate(&mut l, &vars(), &host());
    l
}

fn render(l: &Loaded, diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| d.render(&l.sources)).collect()
}

fn expectations(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|e| {
            let name = path.file_name().unwrap().to_string_lossy();
            if e.starts_with(|c: char| c.is_ascii_digit()) {
                format!("{name}:{e}")
            } else {
                e.to_string()
            }
        })
        .collect()
}

/// `# expect-errors: N`: the number of errors the file must give.
fn error_count(path: &Path) -> Option<usize> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# expect-errors: "))
        .map(|n| n.trim().parse().expect("a number after expect-errors"))
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn malformed_profiles_fail_at_the_right_place() {
    let cases = files("tests/malformed");
    assert!(
        cases.len() >= 25,
        "at least 25 malformed profiles, found {}",
        cases.len()
    );
    let mut failures = vec![];
    for path in &cases {
        let l = load_checked(path);
        let mut text = render(&l, &l.diags);
        // Problems only the host can reveal come from the plan.
        if !l.has_errors()
            && let Err(d) = plan::compile(
                &l,
                &host(),
                &Invocation {
                    command: vec!["true".into()],
                    ..Invocation::default()
                },
            )
        {
            text.push_str(&render(&l, &d));
        }
        let wanted = expectations(path);
        assert!(
            !wanted.is_empty(),
            "{} has no '# expect:' line",
            path.display()
        );
        if !text.contains(": error: ") {
            failures.push(format!("{}: no error reported", path.display()));
        }
        for w in wanted {
            if !text.contains(&w) {
                failures.push(format!("{}: wanted {w:?} in:\n{text}", path.display()));
            }
        }
        // Causes, not their echoes: as many errors as the file says.
        if let Some(n) = error_count(path) {
            let found = text.matches(": error: ").count();
            if found != n {
                failures.push(format!(
                    "{}: wanted {n} errors, found {found}:\n{text}",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn likely_mistakes_are_warnings_not_errors() {
    for path in files("tests/warnings") {
        let l = load_checked(&path);
        let text = render(&l, &l.diags);
        assert!(
            !l.has_errors(),
            "{}: errors where warnings were expected:\n{text}",
            path.display()
        );
        for w in expectations(&path) {
            assert!(
                text.contains(&w),
                "{}: wanted {w:?} in:\n{text}",
                path.display()
            );
        }
    }
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed/many-problems.toml");
    let l = load_checked(&path);
    assert_eq!(
        l.diags.iter().filter(|d| d.is_error()).count(),
        3,
        "{}",
        render(&l, &l.diags)
    );
}

/// Every profile shipped in the binary and every example.
fn all_profiles() -> Vec<(String, Location)> {
    let mut v: Vec<(String, Location)> = sandbox::profile::resolve::BUILTIN
        .iter()
        .map(|(n, _)| (n.replace('/', "-"), Location::Builtin(n)))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["examples", "examples/rootfs"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for p in paths {
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            v.push((
                format!("{}", rel.display()).replace(['/', '.'], "-"),
                Location::File(rel),
            ));
        }
    }
    v
}

/// A profile as the golden files see it: loaded, validated on its fake
/// host, and the command line they compile it with (its own command, or
/// /bin/true standing in).
fn golden_input(loc: Location) -> (Loaded, FakeHost, Invocation) {
    let mut l = profile::load(loc, &search());
    let host = host_for(&l);
    profile::validate(&mut l, &vars(), &host);
    let inv = Invocation {
        command: if l.profile.command.is_some() {
            vec![]
        } else {
            vec!["/bin/true".into()]
        },
        ..Invocation::default()
    };
    (l, host, inv)
}

#[test]
fn golden_plans() {
    // Relative example paths keep the origins in the golden files stable.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let update = std::env::var("UPDATE_GOLDEN").is_ok();
    let mut failures = vec![];
    for (name, loc) in all_profiles() {
        let (l, host, inv) = golden_input(loc);
        let diags = render(&l, &l.diags);
        assert!(!l.has_errors(), "{name} does not validate:\n{diags}");
        let text = match plan::compile(&l, &host, &inv) {
            Ok(p) => {
                assert_eq!(plan::check_order(&p), Ok(()), "{name}");
                format!("{diags}{}", plan::render_text(&p))
            }
            // Fragments may need more than a fake host has; pin that too.
            Err(d) => format!("{diags}{}", render(&l, &d)),
        };
        // ${PROFILE_DIR} is absolute: show the checkout as <repo>.
        let text = text.replace(env!("CARGO_MANIFEST_DIR"), "<repo>");
        let file = Path::new("tests/golden").join(format!("{name}.plan"));
        if update {
            std::fs::create_dir_all("tests/golden").unwrap();
            std::fs::write(&file, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(want) if want == text => {}
            Ok(want) => failures.push(format!(
                "{name}: plan changed\n--- golden\n{want}\n--- now\n{text}"
            )),
            Err(_) => failures.push(format!(
                "{name}: no golden file {} (run with UPDATE_GOLDEN=1)",
                file.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn plan_json_is_stable_and_complete() {
    let mut l = profile::load(Location::Builtin("default"), &search());
    profile::validate(&mut l, &vars(), &host());
    let p = plan::compile(&l, &host(), &Invocation::default()).unwrap();
    let json: serde_json::Value = serde_json::to_value(&p).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["profile"], "default");
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), p.steps.len());
    assert_eq!(steps[0]["op"], "spawn");
    assert_eq!(steps[0]["phase"], "spawn");
    let bind = steps.iter().find(|s| s["op"] == "bind").unwrap();
    assert_eq!(bind["src"], "/usr");
    assert_eq!(bind["readonly"], true);
    assert_eq!(bind["origin"], "<builtin>/include/base.toml:15:8");
    assert_eq!(steps.last().unwrap()["op"], "exec");
    assert_eq!(steps.last().unwrap()["argv"][0], "/bin/sh");
}

#[test]
fn extends_merges_by_the_documented_rules() {
    let dir = std::env::temp_dir().join(format!("sandbox-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("parent.toml"),
        "command = [\"/a\"]\n[uts]\nhostname = \"parent\"\n[env]\nkeep = [\"A\", \"B\"]\nset = { X = \"1\", Y = \"1\" }\n[[mount]]\ntype = \"tmpfs\"\ndst = \"/one\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("child.toml"),
        "extends = [\"parent\"]\n[uts]\nhostname = \"child\"\n[env]\nkeep = [\"B\", \"C\"]\nset = { Y = \"2\" }\n[[mount]]\ntype = \"tmpfs\"\ndst = \"/two\"\n",
    )
    .unwrap();
    let l = profile::load(Location::File(dir.join("child.toml")), &search());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!l.has_errors(), "{}", render(&l, &l.diags));
    let p = &l.profile;
    assert_eq!(
        p.uts.hostname.as_ref().unwrap().value,
        "child",
        "scalars: the child wins"
    );
    assert_eq!(
        p.command.as_ref().unwrap().value[0].value,
        "/a",
        "unset in the child: the parent's"
    );
    let keep: Vec<&str> = p.env.keep.iter().map(|k| k.value.as_str()).collect();
    assert_eq!(keep, ["A", "B", "C"], "lists: union in order");
    let set: Vec<(&str, &str)> = p
        .env
        .set
        .iter()
        .map(|(k, v)| (k.value.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(
        set,
        [("X", "1"), ("Y", "2")],
        "tables: per key, the child wins"
    );
    let dsts: Vec<&str> = p
        .mounts
        .iter()
        .map(|m| m.dst.as_ref().unwrap().value.as_str())
        .collect();
    assert_eq!(dsts, ["/one", "/two"], "mounts: parents' first");
}

#[test]
fn a_user_profile_can_extend_the_shipped_one_of_the_same_name() {
    let dir = std::env::temp_dir().join(format!("sandbox-override-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("default.toml"),
        "extends = [\"default\"]\n[uts]\nhostname = \"mine\"\n",
    )
    .unwrap();
    let s = SearchPath {
        dirs: vec![dir.clone()],
        builtin: true,
        root_only: false,
    };
    let loc = profile::locate("default", &s).unwrap();
    assert_eq!(loc, Location::File(dir.join("default.toml")));
    let l = profile::load(loc, &s);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!l.has_errors(), "{}", render(&l, &l.diags));
    assert_eq!(l.profile.uts.hostname.as_ref().unwrap().value, "mine");
    assert!(
        !l.profile.mounts.is_empty(),
        "the shipped default's mounts came along"
    );
}

fn plan_on(host: &FakeHost, text: &str) -> Result<sandbox::plan::Plan, String> {
    let mut l = profile::load_text("p.toml", None, text, &search());
    profile::validate(&mut l, &vars(), host);
    assert!(!l.has_errors(), "{}", render(&l, &l.diags));
    plan::compile(
        &l,
        host,
        &Invocation {
            command: vec!["/bin/true".into()],
            ..Invocation::default()
        },
    )
    .map_err(|d| render(&l, &d))
}

#[test]
fn landlock_gaps_of_an_older_kernel_are_noted_or_refused() {
    let mut old = host();
    old.landlock_abi = 3;
    // Best-effort: planned, and the plan says what will not be enforced.
    let p = plan_on(&old, "[landlock]\ntcp_connect = [443]\n").unwrap();
    let notes = p.notes.join("\n");
    assert!(notes.contains("Landlock ABI is 3; it cannot enforce TCP ports (ABI 4), device ioctls (ABI 5), signal and abstract unix socket scopes (ABI 6)"), "{notes}");
    // Hard: refused at the compat line before anything runs.
    let err = plan_on(&old, "[landlock]\ncompat = \"hard\"\n").unwrap_err();
    assert!(
        err.contains("p.toml:2:10: error: landlock: this kernel's Landlock ABI is 3"),
        "{err}"
    );
    // A kernel with everything: nothing to say.
    let p = plan_on(
        &host(),
        "[landlock]\ncompat = \"hard\"\ntcp_bind = [8080]\n",
    )
    .unwrap();
    assert!(
        p.notes.iter().all(|n| !n.contains("landlock")),
        "{:?}",
        p.notes
    );
    // No Landlock at all.
    old.landlock_abi = 0;
    let p = plan_on(&old, "").unwrap();
    assert!(
        p.notes
            .join("\n")
            .contains("it cannot enforce everything: this kernel has no Landlock")
    );
}

#[test]
fn an_optional_mount_with_an_unset_variable_is_a_note_not_a_warning() {
    let s = SearchPath::builtin_only();
    let mut l = profile::load_text(
        "p.toml",
        None,
        "[[mount]]\ntype = \"bind\"\nsrc = \"${XDG_RUNTIME_DIR}/${ENV:WAYLAND_DISPLAY}\"\noptional = true\n",
        &s,
    );
    profile::validate(&mut l, &vars(), &host());
    assert!(l.diags.is_empty(), "{:?}", l.diags);
    let p = plan::compile(
        &l,
        &host(),
        &Invocation {
            command: vec!["true".into()],
            ..Invocation::default()
        },
    )
    .unwrap();
    assert!(
        p.notes.iter().any(|n| n.contains("p.toml:2:8: skipped optional bind: ${WAYLAND_DISPLAY} is not set")),
        "{:?}",
        p.notes
    );
    assert!(
        !p.steps
            .iter()
            .any(|s| matches!(s.action, plan::Action::Bind { .. }))
    );
}

#[test]
fn every_shipped_profile_is_clean_described_and_categorised() {
    use sandbox::profile::resolve::BUILTIN;
    let mut apps = 0;
    let mut failures = vec![];
    for (name, _) in BUILTIN {
        let mut l = profile::load(Location::Builtin(name), &search());
        let h = host_for(&l);
        profile::validate(&mut l, &vars(), &h);
        if !l.diags.is_empty() {
            failures.push(format!("{name}:\n{}", render(&l, &l.diags)));
        }
        let p = &l.profile;
        if p.description.is_none() {
            failures.push(format!("{name}: no description"));
        }
        if name.starts_with("include/") {
            if p.category.is_some() || p.command.is_some() {
                failures.push(format!("{name}: a fragment has no category or command"));
            }
            continue;
        }
        if p.category.is_none()
            || p.command.is_none()
            || p.name.as_ref().map(|n| n.value.as_str()) != Some(name)
        {
            failures.push(format!(
                "{name}: needs name = \"{name}\", category and command"
            ));
        }
        if *name != "default" {
            apps += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(apps >= 40, "at least 40 application profiles, found {apps}");
}

#[test]
fn profiles_that_need_the_network_use_pasta() {
    use sandbox::profile::resolve::BUILTIN;
    use sandbox::profile::types::NetMode;
    for (name, _) in BUILTIN.iter().filter(|(n, _)| !n.starts_with("include/")) {
        let mut l = profile::load(Location::Builtin(name), &search());
        let h = host_for(&l);
        profile::validate(&mut l, &vars(), &h);
        let p = &l.profile;
        let mode = p
            .network
            .mode
            .as_ref()
            .map(|m| m.value)
            .unwrap_or(NetMode::None);
        assert!(
            matches!(mode, NetMode::None | NetMode::Pasta),
            "{name}: network mode other than pasta"
        );
        assert!(
            p.ns_new(sandbox::profile::NsKind::Net),
            "{name}: shares the host's network"
        );
    }
}

#[test]
fn profiles_lists_shipped_profiles_by_category() {
    let text = profile::resolve::list_text(&SearchPath::builtin_only());
    let pos = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} missing in:\n{text}"))
    };
    assert!(pos("desktop:\n") < pos("cli:\n"));
    assert!(pos("cli:\n") < pos("service:\n"));
    assert!(pos("service:\n") < pos("include (fragments, for extends):\n"));
    let section = |title: &str| {
        let start = pos(title);
        let rest = &text[start + title.len()..];
        rest[..rest
            .find(":\n")
            .map(|i| rest[..i].rfind('\n').unwrap_or(0))
            .unwrap_or(rest.len())]
            .to_string()
    };
    assert!(section("desktop:\n").contains("  firefox "));
    assert!(section("cli:\n").contains("  curl "));
    assert!(section("service:\n").contains("  nginx "));
    assert!(section("include (fragments, for extends):\n").contains("  include/x11 "));
}

#[test]
fn a_root_service_can_keep_the_hosts_network_through_an_override() {
    let mut l = profile::load_text(
        "nginx-host-net.toml",
        None,
        "extends = [\"nginx\"]\n\n[namespaces]\nnet = false\n",
        &SearchPath::builtin_only(),
    );
    let h = host_for(&l);
    profile::validate(&mut l, &vars(), &h);
    assert!(l.diags.is_empty(), "{}", render(&l, &l.diags));
    let p = plan::compile(&l, &h, &Invocation::default()).unwrap();
    assert!(!p.steps.iter().any(|s| matches!(
        s.action,
        plan::Action::Pasta { .. } | plan::Action::ResolvConf { .. } | plan::Action::NetSysctls
    )));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("shares the host's network")),
        "{:?}",
        p.notes
    );
    let spawn = p.steps.iter().find_map(|s| match &s.action {
        plan::Action::Spawn { new } => Some(new.clone()),
        _ => None,
    });
    assert!(!spawn.unwrap().contains(&sandbox::profile::NsKind::Net));
}

/// The caller a trace is made for: a fixed environment, so that the app's
/// environment in the traces does not depend on who runs the tests.
fn trace_caller() -> sandbox::exec::Caller {
    sandbox::exec::Caller {
        env: [
            ("HOME", "/home/user"),
            ("USER", "user"),
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("LANG", "C.UTF-8"),
            ("TERM", "xterm"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect(),
        status: None,
        name: None,
        name_lock: None,
        learned: None,
    }
}

/// The system calls of every shipped and example profile's plan, in
/// order and with their arguments (the id maps, the mounts, the sandwich,
/// the capabilities, ...), recorded by the executor's own code on the
/// recording kernel: no privileges, no namespaces. UPDATE_GOLDEN=1
/// rewrites them.
#[test]
fn golden_call_traces() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let update = std::env::var("UPDATE_GOLDEN").is_ok();
    let mut failures = vec![];
    let mut traced = 0;
    for (name, loc) in all_profiles() {
        let (l, host, inv) = golden_input(loc);
        // A fragment that does not compile on its own has no calls.
        let Ok(p) = plan::compile(&l, &host, &inv) else {
            continue;
        };
        let text =
            sandbox::exec::trace(&p, &trace_caller()).replace(env!("CARGO_MANIFEST_DIR"), "<repo>");
        assert!(
            text.contains("execve(") || text.contains("execvp(") || text.contains("error:"),
            "{name}: the trace reaches neither exec nor an error:\n{text}"
        );
        traced += 1;
        let file = Path::new("tests/golden/calls").join(format!("{name}.calls"));
        if update {
            std::fs::create_dir_all("tests/golden/calls").unwrap();
            std::fs::write(&file, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(want) if want == text => {}
            Ok(want) => failures.push(format!(
                "{name}: calls changed\n{}",
                first_difference(&want, &text)
            )),
            Err(_) => failures.push(format!(
                "{name}: no golden file {} (run with UPDATE_GOLDEN=1)",
                file.display()
            )),
        }
    }
    assert!(traced > 40, "only {traced} profiles traced");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The first line where two traces part, with its number.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let n = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    format!(
        "  line {}:\n  - golden: {}\n  - now:    {}",
        n + 1,
        w.get(n).unwrap_or(&"(end)"),
        g.get(n).unwrap_or(&"(end)")
    )
}

/// What a trace of the default profile must show, in this order: the
/// sandbox's own code on the recording kernel walks the real sequence.
#[test]
fn the_default_trace_walks_the_real_order() {
    let mut l = profile::load(Location::Builtin("default"), &search());
    profile::validate(&mut l, &vars(), &host());
    let inv = Invocation {
        command: vec!["/bin/true".into()],
        ..Invocation::default()
    };
    let p = plan::compile(&l, &host(), &inv).unwrap();
    let text = sandbox::exec::trace(&p, &trace_caller());
    let order = [
        "[launcher] openat(AT_FDCWD, \"/proc/4242/uid_map\", O_WRONLY)",
        "[launcher] write(go, \"g\")",
        "mount(NULL, \"/\", NULL, MS_SLAVE|MS_REC, NULL)",
        "open_tree(AT_FDCWD, \"/usr\", OPEN_TREE_CLONE|AT_RECURSIVE)",
        "mount_setattr(",
        "pivot_root(\".\", \".\")",
        "umount2(\".\", MNT_DETACH)",
        "clone(CLONE_VM|CLONE_VFORK) = 2",
        "[pid 2] unshare(CLONE_NEWUSER)",
        "[pid 2] prctl(PR_CAPBSET_DROP, CAP_CHOWN)",
        "[pid 2] capset(e={} p={} i={})",
        "[pid 2] prctl(PR_SET_NO_NEW_PRIVS, 1)",
        "[pid 2] landlock_restrict_self(",
        "[pid 2] prctl(PR_SET_DUMPABLE, 0)",
        "[pid 2] seccomp(SECCOMP_SET_MODE_FILTER",
        "[pid 2] execve(\"/bin/true\"",
        "[pid 4242] close_range(3, ~0) but /proc/self/fd/<fd",
        "[pid 4242] capset(e={} p={} i={})",
        "[pid 4242] prctl(PR_SET_NO_NEW_PRIVS, 1)",
        "[pid 4242] seccomp(SECCOMP_SET_MODE_FILTER",
        "[pid 4242] close_range(0, ~0) but",
        "[pid 4242] supervise pid 2",
    ];
    let mut from = 0;
    for want in order {
        match text[from..].find(want) {
            Some(at) => from += at + want.len(),
            None => panic!("{want:?} not found after byte {from} of:\n{text}"),
        }
    }
}
