//! `sandbox desktop-entry`: the launcher it writes, through the binary.

mod common;
use common::*;
use std::process::Command;

fn desktop_entry(s: &Scratch, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .arg("desktop-entry")
        .args(args)
        .env("XDG_DATA_HOME", s.path.join("data"))
        .env("XDG_DATA_DIRS", s.path.join("system"))
        .output()
        .unwrap()
}

#[test]
fn the_apps_own_entry_is_shadowed_by_one_that_runs_through_the_profile() {
    let s = Scratch::new("desktop");
    s.write(
        "system/applications/firefox-esr.desktop",
        "[Desktop Entry]\nName=Firefox ESR\nExec=/usr/lib/firefox-esr/firefox-esr %u\nTryExec=firefox-esr\nDBusActivatable=true\nMimeType=text/html;\nActions=new-window;\n\n[Desktop Action new-window]\nName=New Window\nExec=/usr/lib/firefox-esr/firefox-esr --new-window %u\n",
    );
    let out = desktop_entry(&s, &["firefox"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = s.path.join("data/applications/firefox-esr.desktop");
    let text = std::fs::read_to_string(&written).unwrap();
    let exe = binary().display().to_string();
    assert!(
        text.contains(&format!(
            "Exec={exe} run firefox -- /usr/lib/firefox-esr/firefox-esr %u\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Exec={exe} run firefox -- /usr/lib/firefox-esr/firefox-esr --new-window %u\n"
        )),
        "{text}"
    );
    assert!(
        !text.contains("DBusActivatable"),
        "D-Bus activation would start it unsandboxed"
    );
    assert!(
        text.contains("MimeType=text/html;"),
        "file associations kept"
    );
    // --remove takes it away; a file it did not write is left alone.
    let out = desktop_entry(&s, &["firefox", "--remove"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!written.exists());
    s.write(
        "data/applications/firefox-esr.desktop",
        "[Desktop Entry]\nName=mine\n",
    );
    let out = desktop_entry(&s, &["firefox"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("was not written by sandbox"),
        "{}",
        stderr(&out)
    );
    let out = desktop_entry(&s, &["firefox", "--remove"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(written.exists());
}

#[test]
fn a_profile_without_an_app_entry_gets_a_plain_launcher() {
    let s = Scratch::new("desktop");
    let out = desktop_entry(&s, &["curl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text =
        std::fs::read_to_string(s.path.join("data/applications/sandbox-curl.desktop")).unwrap();
    assert!(
        text.contains(&format!("Exec={} run curl\n", binary().display())),
        "{text}"
    );
    assert!(
        text.contains("Terminal=true\n"),
        "a command-line profile opens a terminal"
    );
    assert!(text.contains("Name=curl (sandboxed)\n"));
    let out = desktop_entry(&s, &["no-such-profile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such-profile"));
}
