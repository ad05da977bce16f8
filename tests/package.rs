//! The Debian package (#17): built by cargo-deb from this build's binary,
//! manual pages and completion scripts (Cargo.toml,
//! `package.metadata.deb`), installed on this machine with dpkg, and used
//! from the installed files: `sandbox run default -- true`, `man -w
//! sandbox`, the completion scripts where the shells look; then removed.
//!
//! It changes the machine (a package installed and removed), so it runs
//! only where asked: as root with SANDBOX_TEST_PACKAGE=1 (.ci/run sets
//! it), and not where a `sandbox` package is installed already.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `dpkg -r sandbox` when dropped: the machine as it was.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["-r", "sandbox"]).output();
    }
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir("/")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn the_debian_package_installs_and_works() {
    if std::env::var("SANDBOX_TEST_PACKAGE").as_deref() != Ok("1") {
        cannot("it installs a package on this machine: set SANDBOX_TEST_PACKAGE=1 (as root)");
        return;
    }
    if !is_root() {
        cannot("installing a package needs root");
        return;
    }
    if !need(&["cargo-deb", "dpkg", "man"]) {
        return;
    }
    let status = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "sandbox"])
        .output()
        .unwrap();
    if stdout(&status).contains("install ok installed") {
        cannot("a sandbox package is installed here already: the test would replace it");
        return;
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // The binary this test run was built with, and the assets its build
    // wrote beside it: --no-build packages them as they are.
    let built = PathBuf::from(env!("CARGO_BIN_EXE_sandbox"));
    let release = built.parent().unwrap();
    assert!(
        release.join("assets/man/sandbox.1").is_file(),
        "build.rs wrote no man pages"
    );
    let target = release
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let s = Scratch::new("package");
    let deb = s.path.join("sandbox.deb");
    let out = Command::new("cargo-deb")
        .args(["--no-build", "--no-strip", "--target", &target, "--output"])
        .arg(&deb)
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo-deb: {}", stderr(&out));
    let listing = run("dpkg-deb", &["--contents", &deb.display().to_string()]);
    for file in [
        "./usr/bin/sandbox",
        // Compressed or not, as cargo-deb's version does it.
        "./usr/share/man/man1/sandbox.1",
        "./usr/share/man/man1/sandbox-run.1",
        "./usr/share/man/man5/sandbox-profile.5",
        "./usr/share/bash-completion/completions/sandbox",
        "./usr/share/zsh/vendor-completions/_sandbox",
        "./usr/share/fish/vendor_completions.d/sandbox.fish",
        "./usr/share/doc/sandbox/docs/profile-format.md",
    ] {
        assert!(
            listing.contains(file),
            "{file} not in the package:\n{listing}"
        );
    }
    run("dpkg", &["-i", &deb.display().to_string()]);
    let _installed = Installed;
    // The installed binary, by its installed path, works.
    assert!(Path::new("/usr/bin/sandbox").is_file());
    run("/usr/bin/sandbox", &["run", "default", "--", "true"]);
    assert_eq!(
        run("/usr/bin/sandbox", &["--version"]),
        run(&built.display().to_string(), &["--version"])
    );
    // man finds the pages where they were installed.
    let found = run("man", &["-w", "sandbox"]);
    assert!(
        found.starts_with("/usr/share/man/man1/sandbox.1"),
        "{found}"
    );
    let found = run("man", &["-w", "5", "sandbox-profile"]);
    assert!(
        found.starts_with("/usr/share/man/man5/sandbox-profile.5"),
        "{found}"
    );
    let page = run("man", &["-P", "cat", "sandbox-run"]);
    assert!(page.contains("--ro-bind"), "{page}");
    let page = run("man", &["-P", "cat", "5", "sandbox-profile"]);
    assert!(page.contains("remount-ro"), "{page}");
    // The installed bash script, loaded as bash-completion would, offers
    // profile names from the installed binary.
    if have("bash") {
        let offered = run(
            "bash",
            &[
                "-c",
                "source /usr/share/bash-completion/completions/sandbox; COMP_WORDS=(sandbox run fire); COMP_CWORD=2; _sandbox_profiles sandbox fire run; printf '%s\\n' \"${COMPREPLY[@]}\"",
            ],
        );
        assert!(offered.lines().any(|l| l == "firefox"), "{offered}");
    }
    drop(_installed);
    assert!(
        !Path::new("/usr/bin/sandbox").exists(),
        "dpkg -r left the binary"
    );
}
