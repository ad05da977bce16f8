//! The caller's environment may hold bytes that are not UTF-8: every
//! subcommand still works, the app gets the bytes as they are, and only a
//! profile that expands such a variable into a string value is refused, at
//! its line.

mod common;
use common::*;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Output, Stdio};

fn not_utf8() -> &'static OsStr {
    OsStr::from_bytes(b"a\xffb")
}

/// `sandbox ARGS` as `who` with X (and `more`) in its environment.
fn with_x(who: Who, more: &[(&str, &OsStr)], args: &[&str]) -> Option<Output> {
    let mut vars = vec![("X", not_utf8())];
    vars.extend_from_slice(more);
    let mut c = sandbox_env_os(who, &vars)?;
    c.args(args).stdin(Stdio::null());
    Some(c.output().unwrap())
}

both!(
    every_subcommand_works_beside_a_variable_that_is_not_utf8,
    |who| {
        let s = Scratch::new("env");
        let p = s.write("p.toml", "extends = [\"default\"]\n[env]\nkeep = [\"X\"]\n");
        s.dir("data", 0o755);
        s.chown_to_caller(who, "data");
        let data = s.path.join("data");
        let Some(out) = with_x(
            who,
            &[],
            &[
                "run",
                &p,
                "--",
                "/bin/sh",
                "-c",
                "printf %s \"$X\" | od -An -tx1",
            ],
        ) else {
            return;
        };
        assert_eq!(
            ok(out).trim(),
            "61 ff 62",
            "the app gets the bytes as they are"
        );
        for args in [
            vec!["plan", p.as_str()],
            vec!["plan", "--json", "default"],
            vec!["check", p.as_str(), "default"],
            vec!["profiles"],
        ] {
            let out = with_x(who, &[], &args).unwrap();
            assert!(
                out.status.success(),
                "sandbox {args:?}: {:?}\n{}",
                out.status,
                stderr(&out)
            );
        }
        let out = with_x(
            who,
            &[("XDG_DATA_HOME", data.as_os_str())],
            &["desktop-entry", "curl"],
        )
        .unwrap();
        ok(out);
        assert!(data.join("applications/sandbox-curl.desktop").is_file());
    }
);

both!(a_profile_that_expands_it_is_refused_at_the_line, |who| {
    let s = Scratch::new("env");
    let p = s.write(
        "p.toml",
        "extends = [\"default\"]\n[[mount]]\ntype = \"tmpfs\"\ndst = \"${ENV:X}\"\n",
    );
    let Some(out) = with_x(who, &[], &["run", &p, "--", "/bin/true"]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("p.toml:4:7: error: ${ENV:X} holds bytes that are not UTF-8"),
        "{err}"
    );
    assert!(err.contains("give X a UTF-8 value"), "{err}");
    // Once, for that: not again for the unexpanded text it leaves.
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    // Not skipped as an unset variable would be: the variable is there.
    let p = s.write(
        "optional.toml",
        "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"/tmp/${ENV:X}\"\noptional = true\n",
    );
    let out = with_x(who, &[], &["plan", &p]).unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("optional.toml:4:7: error: ${ENV:X} holds bytes"),
        "{}",
        stderr(&out)
    );
    let out = with_x(who, &[], &["check", &p]).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("${ENV:X} holds bytes"));
});

both!(folders_named_by_such_variables_keep_their_bytes, |who| {
    let s = Scratch::new("env");
    let named = |tail: &str| {
        let mut b = s.path.join(tail).into_os_string().into_vec();
        b.push(0xff);
        OsString::from_vec(b)
    };
    let (config, data) = (named("config-"), named("data-"));
    let profiles = Path::new(&config).join("sandbox/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let mine = profiles.join("mine.toml");
    std::fs::write(
        &mine,
        "extends = [\"default\"]\n[uts]\nhostname = \"found-it\"\n",
    )
    .unwrap();
    for p in [
        &config,
        &data,
        profiles.parent().unwrap().as_os_str(),
        profiles.as_os_str(),
    ] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o644)).unwrap();
    s.chown_to_caller(who, "");
    let Some(out) = with_x(
        who,
        &[("XDG_CONFIG_HOME", &config)],
        &["run", "mine", "--", "/bin/hostname"],
    ) else {
        return;
    };
    assert_eq!(ok(out).trim(), "found-it");
    let out = with_x(
        who,
        &[("XDG_DATA_HOME", &data), ("XDG_CONFIG_HOME", &config)],
        &["desktop-entry", "mine"],
    )
    .unwrap();
    ok(out);
    assert!(
        Path::new(&data)
            .join("applications/sandbox-mine.desktop")
            .is_file()
    );
});

both!(
    a_nul_in_a_value_set_for_the_app_is_refused_not_dropped,
    |who| {
        let s = Scratch::new("env");
        let p = s.write(
            "p.toml",
            "extends = [\"default\"]\n[env]\nset = { A = \"x\\u0000y\" }\n",
        );
        let Some(mut c) = sandbox(who) else {
            return;
        };
        let out = c.args(["run", &p, "--", "/bin/true"]).output().unwrap();
        assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
        let want =
            "p.toml:3:13: error: an environment variable's value cannot hold a NUL character";
        assert!(stderr(&out).contains(want), "{}", stderr(&out));
    }
);

both!(
    arguments_that_are_not_utf8_reach_the_app_as_they_are,
    |who| {
        // As bwrap passes its argv: bytes in, the same bytes out.
        let arg = OsStr::from_bytes(b"x\xff\xfe'y");
        let Some(mut c) = sandbox(who) else {
            return;
        };
        let out = c
            .arg("run")
            .arg("default")
            .arg("--")
            .args(["/bin/sh", "-c", "printf %s \"$1\" | od -An -tx1", "sh"])
            .arg(arg)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(ok(out).trim(), "78 ff fe 27 79");
        // The plan shows them as a shell would take them back.
        let mut c = sandbox(who).unwrap();
        let out = c
            .args(["plan", "default", "--", "/bin/echo"])
            .arg(arg)
            .output()
            .unwrap();
        assert!(
            ok(out).contains("exec /bin/echo $'x\\xff\\xfe\\'y'"),
            "the exec line quotes the bytes"
        );
        let mut c = sandbox(who).unwrap();
        let out = c
            .args(["plan", "--json", "default", "--", "/bin/echo"])
            .arg(arg)
            .output()
            .unwrap();
        assert!(ok(out).contains(r#""x\\xff\\xfe'y""#));
    }
);

#[test]
fn a_wrong_command_line_is_the_launchers_failure() {
    // 125, as env(1) and timeout(1) do, never a code the app could return.
    let out = std::process::Command::new(binary())
        .args(["run", "--no-such-option"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(stderr(&out).contains("--no-such-option"));
    let out = std::process::Command::new(binary())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
