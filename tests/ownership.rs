//! As root, `sandbox` loads only profiles no one but root can change: the
//! file, every `extends` target, and the folders on the way to them. Run
//! as root, with the unprivileged test user planting the files (as `sudo
//! -E` or `su` without `-` would let a user's HOME lead root to them); the
//! same files load for the user themselves, and root's own files load for
//! root.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

const PROFILE: &str = "extends = [\"default\"]\n[uts]\nhostname = \"planted\"\n";

/// `sandbox ARGS` as `who` with these variables.
fn sandbox_out(who: Who, vars: &[(&str, &str)], args: &[&str]) -> Option<Output> {
    let mut c = sandbox_env(who, vars)?;
    Some(c.args(args).stdin(Stdio::null()).output().unwrap())
}

/// The test user's name, or None (the test is skipped, or fails in CI).
fn planter() -> Option<TestUser> {
    if !is_root() {
        cannot("these tests are about root: run them as root");
        return None;
    }
    let u = test_user();
    if u.is_none() {
        cannot("set SANDBOX_TEST_USER: an unprivileged user plants the files");
    }
    u
}

fn chmod(path: &str, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Root refuses, with exit 125 from run and plan, 1 from check, and `why`.
fn refused_for_root(vars: &[(&str, &str)], spec: &str, why: &str) {
    for args in [
        vec!["run", spec, "--", "/bin/true"],
        vec!["plan", spec],
        vec!["check", spec],
    ] {
        let out = sandbox_out(Who::Root, vars, &args).unwrap();
        let code = if args[0] == "check" { 1 } else { 125 };
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(why),
            "{args:?}: wanted {why:?} in\n{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
    }
}

/// `sandbox run SPEC -- hostname` as `who` prints "planted".
fn loads(who: Who, vars: &[(&str, &str)], spec: &str) {
    let out = sandbox_out(who, vars, &["run", spec, "--", "/bin/hostname"]).unwrap();
    assert_eq!(ok(out).trim(), "planted", "{who:?} loads {spec}");
}

#[test]
fn a_users_profile_found_through_xdg_config_home_is_refused_for_root() {
    let Some(u) = planter() else { return };
    let s = Scratch::new("owner");
    let file = s.write("config/sandbox/profiles/default.toml", PROFILE);
    s.chown_to(Who::User, "config");
    let config = s.path.join("config").display().to_string();
    let vars = [("XDG_CONFIG_HOME", config.as_str())];
    // `sandbox run` with no profile: the search path's default.
    let out = sandbox_out(Who::Root, &vars, &["run", "--", "/bin/true"]).unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let why = format!(
        "sandbox: error: root does not load profile {file}: it belongs to uid {} ({}), who could change what root runs",
        u.uid, u.name
    );
    assert!(stderr(&out).contains(&why), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("use 'sudo -i' or 'su -'"),
        "{}",
        stderr(&out)
    );
    refused_for_root(&vars, "default", &why);
    // The listing says so rather than describe it.
    let out = sandbox_out(Who::Root, &vars, &["profiles"]).unwrap();
    assert!(
        ok(out).contains("(root does not load it: 'sandbox check' says why)"),
        "marked in the listing"
    );
    // The user's own profile, for the user.
    loads(Who::User, &vars, "default");
}

#[test]
fn a_root_file_that_group_or_others_can_write_is_refused() {
    if planter().is_none() {
        return;
    }
    let s = Scratch::new("owner");
    for mode in [0o664, 0o646] {
        let file = s.write("p.toml", PROFILE);
        chmod(&file, mode);
        let why = format!(
            "root does not load profile {file}: its group or others can write it (mode {mode:04o})"
        );
        refused_for_root(&[], &file, &why);
        assert!(
            stderr(&sandbox_out(Who::Root, &[], &["check", &file]).unwrap())
                .contains(&format!("hint: chmod go-w {file}"))
        );
    }
}

#[test]
fn a_root_file_in_a_users_folder_is_refused() {
    let Some(u) = planter() else { return };
    let s = Scratch::new("owner");
    s.dir("mine", 0o755);
    s.chown_to(Who::User, "mine");
    // Root's file, but the user may rename it away and put another there.
    let file = s.write("mine/p.toml", PROFILE);
    let folder = s.path.join("mine").display().to_string();
    let why = format!(
        "root does not load profile {file}: the folder {folder} belongs to uid {} ({}), who could put another file in its place",
        u.uid, u.name
    );
    refused_for_root(&[], &file, &why);
    // The same through a symlink of root's, in root's folder: where the
    // file really is counts too.
    let link = s.path.join("link.toml").display().to_string();
    std::os::unix::fs::symlink(&file, &link).unwrap();
    refused_for_root(
        &[],
        &link,
        &format!("root does not load profile {link}: the folder {folder} belongs to uid"),
    );
    // A folder of root's that others can write is no better.
    s.dir("shared", 0o777);
    let file = s.write("shared/p.toml", PROFILE);
    refused_for_root(
        &[],
        &file,
        &format!(
            "the folder {} (mode 0777), and so put another file in its place",
            s.path.join("shared").display()
        ),
    );
    loads(
        Who::User,
        &[],
        &s.path.join("mine/p.toml").display().to_string(),
    );
}

#[test]
fn an_extends_target_a_user_planted_is_refused_at_the_entry() {
    let Some(u) = planter() else { return };
    let s = Scratch::new("owner");
    // Root's profile, in root's folder, extends 'helper' by name: root's
    // XDG_CONFIG_HOME (a user's, under sudo -E) is searched before the
    // profiles built into the binary.
    let top = s.write("root/top.toml", "name = \"top\"\nextends = [\"helper\"]\n");
    let planted = s.write("config/sandbox/profiles/helper.toml", PROFILE);
    s.chown_to(Who::User, "config");
    let config = s.path.join("config").display().to_string();
    let vars = [("XDG_CONFIG_HOME", config.as_str())];
    let why = format!(
        "top.toml:2:12: error: root does not load profile {planted}: it belongs to uid {} ({})",
        u.uid, u.name
    );
    refused_for_root(&vars, &top, &why);
    loads(Who::User, &vars, &top);

    // A sticky folder of root's (as /tmp is) is fine for root's own files,
    // but what others put in it is theirs.
    s.dir("sticky", 0o1777);
    let top = s.write(
        "sticky/top.toml",
        "name = \"top\"\nextends = [\"helper.toml\"]\n",
    );
    let helper = s.write("sticky/helper.toml", PROFILE);
    loads(Who::Root, &[], &top);
    s.chown_to(Who::User, "sticky/helper.toml");
    refused_for_root(
        &[],
        &top,
        &format!("top.toml:2:12: error: root does not load profile {helper}: it belongs to uid"),
    );
    // A user's symlink there, even to a file of root's, could be replaced.
    std::fs::remove_file(&helper).unwrap();
    let target = s.write("root/helper.toml", PROFILE);
    let out = std::process::Command::new("runuser")
        .args(["-u", &u.name, "--", "ln", "-s", &target, &helper])
        .status()
        .unwrap();
    assert!(out.success());
    refused_for_root(
        &[],
        &top,
        &format!(
            "root does not load profile {helper}: {helper} in the sticky folder {} belongs to uid",
            s.path.join("sticky").display()
        ),
    );
    loads(Who::User, &[], &top);
}

/// A pipe as if the test user had made it (the kernel gives a pipe the
/// fsuid of its maker), with `text` written into it.
fn users_pipe(uid: u32, text: &'static str) -> std::os::fd::OwnedFd {
    // The fsuid is per thread: this one's alone changes.
    std::thread::spawn(move || {
        nix::unistd::setfsuid(uid.into());
        let (r, w) = nix::unistd::pipe().unwrap();
        std::fs::File::from(w).write_all(text.as_bytes()).unwrap();
        r
    })
    .join()
    .unwrap()
}

#[test]
fn standard_input_is_checked_by_what_was_opened() {
    let Some(u) = planter() else { return };
    let run = |stdin: Stdio| {
        let mut c = sandbox(Who::Root).unwrap();
        c.args(["run", "/dev/stdin", "--", "/bin/hostname"])
            .stdin(stdin)
            .output()
            .unwrap()
    };
    let out = run(Stdio::from(users_pipe(u.uid, PROFILE)));
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "root does not load profile /dev/stdin: it belongs to uid {} ({})",
            u.uid, u.name
        )),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint: feed the profile from a process of root's"));
    // Root's own pipe.
    let out = run(Stdio::from(users_pipe(0, PROFILE)));
    assert_eq!(ok(out).trim(), "planted");
    // A file of the user's behind standard input.
    let s = Scratch::new("owner");
    let file = s.write("p.toml", PROFILE);
    s.chown_to(Who::User, "p.toml");
    let out = run(Stdio::from(std::fs::File::open(&file).unwrap()));
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("root does not load profile /dev/stdin: it belongs to uid"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn roots_own_files_and_the_built_in_profiles_load_for_root() {
    if planter().is_none() {
        return;
    }
    let s = Scratch::new("owner");
    let file = s.write("a/b/p.toml", PROFILE);
    loads(Who::Root, &[], &file);
    let out = sandbox_out(Who::Root, &[], &["check", &file, "default", "include/base"]).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
