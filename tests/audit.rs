//! `sandbox audit`, through the built binary: each finding appears, with
//! its weight and the profile line that causes it, on a profile made to
//! have it, and is gone from the same profile without that grant (the
//! control); the shipped profiles' scores are the table in
//! docs/profiles.md, which UPDATE_GOLDEN=1 rewrites, and none scores above
//! its entry.

mod common;
use common::*;
use serde_json::Value;
use std::process::Stdio;

/// The caller's session folder the audit is told about.
const RUNTIME: &str = "/run/user/4242";

/// `sandbox audit --json FILE` as `who`: the one report.
fn report(who: Who, file: &str, env: &[(&str, &str)]) -> Option<Value> {
    let mut vars = vec![("XDG_RUNTIME_DIR", RUNTIME)];
    vars.extend(env);
    let mut c = sandbox_env(who, &vars)?;
    c.args(["audit", "--json", file]).stdin(Stdio::null());
    let out = ok(c.output().unwrap());
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    Some(v[0].clone())
}

fn findings<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

// Each grant, alone over default: its finding, at its line, with its
// weight; the control (default alone) has none of that kind.
both!(each_finding_is_at_the_line_that_grants_it, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("audit");
    let base = s.write("base.toml", "extends = [\"default\"]\n");
    let Some(control) = report(who, &base, &[]) else {
        return;
    };
    let agent = "/tmp/sandbox-audit-agent.sock";
    // (profile text after `extends`, finding, weight, line of the grant:
    // a mount's is its type)
    let cases: &[(&str, &str, f64, usize)] = &[
        (
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"~/.ssh\"\n",
            "secret",
            5.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"~/.mozilla\"\n",
            "secret",
            4.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"bind\"\nsrc = \"~/.config/autostart\"\n",
            "persistence",
            7.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"bind\"\nsrc = \"~/.bashrc\"\noptional = true\n",
            "persistence",
            7.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"~\"\n",
            "home",
            6.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"/tmp/.X11-unix\"\n",
            "x11",
            6.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"bind\"\nsrc = \"${XDG_RUNTIME_DIR}/bus\"\n",
            "session-bus",
            6.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"bind\"\nsrc = \"${XDG_RUNTIME_DIR}/pulse/native\"\n",
            "audio",
            4.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"dev-bind\"\nsrc = \"/dev/video0\"\n",
            "camera",
            4.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"dev-bind\"\nsrc = \"/dev\"\n",
            "devices",
            6.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"bind\"\nsrc = \"/run/docker.sock\"\n",
            "container-socket",
            10.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"bind\"\nsrc = \"${ENV:SSH_AUTH_SOCK}\"\n",
            "agent-socket",
            5.0,
            3,
        ),
        ("[namespaces]\nnet = false\n", "network", 5.0, 3),
        (
            "[namespaces]\nnet = true\n[network]\nmode = \"pasta\"\nhost_loopback = true\n",
            "network",
            4.0,
            5,
        ),
        (
            "[namespaces]\nnet = true\n[network]\nmode = \"pasta\"\nforward_tcp = [\"8080:80\"]\n",
            "port-forward",
            1.0,
            6,
        ),
        ("[namespaces]\nipc = false\n", "namespaces", 1.0, 3),
        ("[user]\nsandwich = false\n", "sandwich", 3.0, 3),
        ("[user]\nnested_userns = true\n", "nested-userns", 2.0, 3),
        (
            "[process]\ncapabilities = [\"CAP_NET_BIND_SERVICE\"]\n",
            "capabilities",
            1.0,
            3,
        ),
        ("[seccomp]\npolicy = \"none\"\n", "seccomp", 3.0, 3),
        (
            "[seccomp]\nallow = [\"mount\", \"umount2\"]\n",
            "seccomp",
            1.0,
            3,
        ),
        ("[landlock]\nenabled = false\n", "landlock", 2.0, 3),
        (
            "[namespaces]\nnet = false\n[landlock]\nscope = []\n",
            "x11",
            6.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"/proc\"\ndst = \"/mnt/proc\"\n",
            "namespaces",
            3.0,
            3,
        ),
        ("[env]\nclear = false\n", "environment", 2.0, 3),
        (
            "[[mount]]\ntype = \"overlay\"\ndst = \"/work\"\nlower = [\"/usr\"]\nupper = \"/tmp/sandbox-audit-upper\"\n",
            "host-write",
            1.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"${XDG_RUNTIME_DIR}/systemd\"\n",
            "service-manager",
            9.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"ro-bind\"\nsrc = \"${XDG_RUNTIME_DIR}/at-spi\"\n",
            "accessibility-bus",
            4.0,
            3,
        ),
        (
            "[[mount]]\ntype = \"dev-bind\"\nsrc = \"/dev/\"\n",
            "devices",
            6.0,
            3,
        ),
        // A place code runs from that is missing is made by the app: a
        // writable bind of the folder above it is no guard.
        (
            "[[mount]]\ntype = \"bind\"\nsrc = \"~/.config\"\n",
            "persistence",
            7.0,
            3,
        ),
    ];
    for (text, id, weight, line) in cases {
        let file = s.write("case.toml", &format!("extends = [\"default\"]\n{text}"));
        let r = report(who, &file, &[("SSH_AUTH_SOCK", agent)]).unwrap();
        let found = findings(&r, id);
        let at = format!("{file}:{line}:");
        let f = found
            .iter()
            .find(|f| f["origin"].as_str().is_some_and(|o| o.starts_with(&at)))
            .unwrap_or_else(|| panic!("{text}: no {id} finding at {at} in {r:#}"));
        assert_eq!(f["weight"].as_f64(), Some(*weight), "{text}: {f}");
        assert!(
            findings(&control, id).is_empty(),
            "the control has a {id} finding: {control:#}"
        );
        assert!(
            r["score"].as_f64() > control["score"].as_f64(),
            "{text}: the score rises"
        );
    }
    // What the default lacks: a cgroup limit. Given one, that finding goes.
    assert_eq!(findings(&control, "cgroup").len(), 1, "{control:#}");
    let file = s.write(
        "limited.toml",
        "extends = [\"default\"]\n[cgroup]\nmemory = \"1G\"\npids = 100\n",
    );
    let r = report(who, &file, &[]).unwrap();
    assert!(findings(&r, "cgroup").is_empty(), "{r:#}");
    assert_eq!(r["score"], 0.0, "{r:#}");
    assert_eq!(r["level"], "ok");
});

// A secret inside a broad bind is hidden by the sandbox (src/profile/
// guarded.rs): no finding, whether or not it exists on this machine.
// Control: naming it itself exposes it.
both!(a_guarded_secret_is_no_finding, |who| {
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("audit-guard");
    let broad = s.write(
        "broad.toml",
        "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"~\"\n",
    );
    let r = report(who, &broad, &[]).unwrap();
    assert!(findings(&r, "secret").is_empty(), "{r:#}");
    assert_eq!(findings(&r, "home").len(), 1, "{r:#}");
    let named = s.write(
        "named.toml",
        "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"~\"\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"~/.gnupg\"\n",
    );
    let r = report(who, &named, &[]).unwrap();
    assert_eq!(findings(&r, "secret").len(), 1, "{r:#}");
    // A writable bind of the home is made read-only by the plan: the
    // audit says what the app gets, readable, and no persistence.
    let rw = s.write(
        "rw.toml",
        "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"~\"\n",
    );
    // A writable bind of the home: the places code runs from that exist
    // are made read-only, but one that does not exist yet can be made.
    let r = report(who, &rw, &[]).unwrap();
    assert_eq!(findings(&r, "home")[0]["weight"], 9.0, "{r:#}");
    assert!(!findings(&r, "persistence").is_empty(), "{r:#}");
});

// What no mount shows: the host's own mount namespace, and, for root, a
// sandbox that is root on the host. Control: default has neither.
both!(the_host_itself_is_a_finding, |who| {
    let s = Scratch::new("audit-host");
    let Some(control) = report(who, &s.write("base.toml", "extends = [\"default\"]\n"), &[]) else {
        return;
    };
    assert!(findings(&control, "filesystem").is_empty(), "{control:#}");
    assert!(findings(&control, "host-root").is_empty(), "{control:#}");
    let host_fs = s.write(
        "m.toml",
        "[namespaces]\nmount = false\n[landlock]\nenabled = false\n",
    );
    let r = report(who, &host_fs, &[]).unwrap();
    let f = findings(&r, "filesystem");
    assert_eq!(f.len(), 1, "{r:#}");
    assert_eq!(f[0]["weight"], 10.0);
    assert_eq!(r["score"], 10.0);
    if who == Who::Root {
        let rooted = s.write(
            "r.toml",
            "extends = [\"default\"]\n[namespaces]\nuser = false\n[user]\nsandwich = false\n",
        );
        let r = report(who, &rooted, &[]).unwrap();
        assert_eq!(findings(&r, "host-root").len(), 1, "{r:#}");
        let host_root = s.write(
            "h.toml",
            "extends = [\"default\"]\n[user]\nhost_root = true\n",
        );
        let r = report(who, &host_root, &[]).unwrap();
        assert_eq!(findings(&r, "host-root")[0]["weight"], 5.0, "{r:#}");
    }
});

// The text, the exit codes: --fail-above, and a profile that cannot be
// planned (125, at its line).
both!(audit_text_and_exit_codes, |who| {
    let Some(mut c) = sandbox(who) else { return };
    let out = c.args(["audit", "default"]).output().unwrap();
    let text = ok(out);
    assert!(text.starts_with("default: exposure "), "{text}");
    assert!(text.contains(" cgroup "), "{text}");
    let s = Scratch::new("audit-exit");
    let open = s.write(
        "open.toml",
        "extends = [\"default\"]\n[seccomp]\npolicy = \"none\"\n",
    );
    let code = |args: &[&str]| {
        let mut c = sandbox(who).unwrap();
        c.arg("audit").args(args).stdin(Stdio::null());
        c.output().unwrap()
    };
    assert_eq!(
        code(&["--fail-above", "2", "default"]).status.code(),
        Some(0)
    );
    assert_eq!(
        code(&["--fail-above", "2", "default", &open]).status.code(),
        Some(1)
    );
    let bad = s.write(
        "bad.toml",
        "extends = [\"default\"]\n[seccomp]\npolicy = \"nope\"\n",
    );
    let o = code(&[&bad]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{bad}:3:")), "{}", stderr(&o));
    assert_eq!(code(&["no-such-profile"]).status.code(), Some(125));
});

/// The table of docs/profiles.md between its markers.
const START: &str = "<!-- audit table: generated by tests/audit.rs (UPDATE_GOLDEN=1) -->\n";
const END: &str = "<!-- end of the audit table -->\n";

// Every shipped profile's score, for an unprivileged caller, is at or under
// its entry in docs/profiles.md; UPDATE_GOLDEN=1 writes the table.
#[test]
fn shipped_profiles_are_at_or_under_their_documented_score() {
    let Some(_) = sandbox(Who::User) else { return };
    let mut names: Vec<String> = std::fs::read_dir("profiles")
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    names.sort();
    // A profile that binds the current folder is audited from an empty
    // one (from / it would bind all of the host). A service's profile
    // that only root can run is audited for root.
    let s = Scratch::new("audit-table");
    let work = s.dir("work", 0o755);
    let audit = |who: Who, name: &str| {
        let mut c = sandbox_env(who, &[("XDG_RUNTIME_DIR", RUNTIME)])?;
        c.current_dir(&work);
        let out = c
            .args(["audit", "--json", name])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let v: Option<Vec<Value>> = serde_json::from_slice(&out.stdout).ok();
        Some((out, v?.pop()?))
    };
    let mut reports = vec![];
    for name in &names {
        let (out, mut r) = match audit(Who::User, name) {
            Some(v) => v,
            None => match audit(Who::Root, name) {
                Some((out, mut r)) => {
                    r["as"] = Value::from("root");
                    (out, r)
                }
                None => {
                    to_stderr(&format!("skipped: {name} needs root to be audited"));
                    continue;
                }
            },
        };
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        if r["profile"] != name.as_str() {
            r["profile"] = Value::from(name.as_str());
        }
        reports.push(r);
    }
    let mut table = String::from(
        "| profile | for | score | level | the heaviest findings |\n|---|---|---|---|---|\n",
    );
    for r in &reports {
        let top: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .take(3)
            .map(|f| format!("{} ({})", f["id"].as_str().unwrap(), f["weight"]))
            .collect();
        table.push_str(&format!(
            "| {} | {} | {:.1} | {} | {} |\n",
            r["profile"].as_str().unwrap(),
            r["as"].as_str().unwrap_or("user"),
            r["score"].as_f64().unwrap(),
            r["level"].as_str().unwrap(),
            top.join(", ")
        ));
    }
    let doc = std::fs::read_to_string("docs/profiles.md").unwrap();
    let (Some(a), Some(b)) = (doc.find(START), doc.find(END)) else {
        panic!("docs/profiles.md has no audit table between {START:?} and {END:?}");
    };
    if std::env::var("UPDATE_GOLDEN").is_ok() {
        let new = format!("{}{START}{table}{}", &doc[..a], &doc[b..]);
        std::fs::write("docs/profiles.md", new).unwrap();
        return;
    }
    let documented: std::collections::HashMap<&str, f64> = doc[a + START.len()..b]
        .lines()
        .skip(2)
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            Some((*cells.get(1)?, cells.get(3)?.parse().ok()?))
        })
        .collect();
    for r in &reports {
        let name = r["profile"].as_str().unwrap();
        let score = r["score"].as_f64().unwrap();
        let Some(max) = documented.get(name) else {
            panic!("{name} is not in docs/profiles.md's audit table (UPDATE_GOLDEN=1)");
        };
        assert!(
            score <= *max,
            "{name} scores {score}, above the {max} docs/profiles.md gives it: {r:#}"
        );
    }
}
