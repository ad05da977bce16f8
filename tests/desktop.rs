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
        .env("XDG_CONFIG_HOME", s.path.join("config"))
        .output()
        .unwrap()
}

/// A browser's profile on the caller's profile path, like the shipped
/// `firefox` but with a program every machine has: what is tested is the
/// launcher, not whether Firefox is installed here.
const BROWSER: &str = "description = \"a browser\"\ncategory = \"desktop\"\ndesktop_entry = \"firefox-esr\"\nextends = [\"default\"]\ncommand = [\"/bin/true\"]\n";

#[test]
fn the_apps_own_entry_is_shadowed_by_one_that_runs_through_the_profile() {
    let s = Scratch::new("desktop");
    s.write("config/sandbox/profiles/browser.toml", BROWSER);
    s.write(
        "system/applications/firefox-esr.desktop",
        "[Desktop Entry]\nName=Firefox ESR\nExec=/usr/lib/firefox-esr/firefox-esr %u\nTryExec=firefox-esr\nDBusActivatable=true\nMimeType=text/html;\nActions=new-window;\n\n[Desktop Action new-window]\nName=New Window\nExec=/usr/lib/firefox-esr/firefox-esr --new-window %u\n",
    );
    let out = desktop_entry(&s, &["browser"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = s.path.join("data/applications/firefox-esr.desktop");
    let text = std::fs::read_to_string(&written).unwrap();
    let exe = binary().display().to_string();
    assert!(
        text.contains(&format!(
            "Exec={exe} run --command browser -- /usr/lib/firefox-esr/firefox-esr %u\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Exec={exe} run --command browser -- /usr/lib/firefox-esr/firefox-esr --new-window %u\n"
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
    let out = desktop_entry(&s, &["browser", "--remove"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!written.exists());
    s.write(
        "data/applications/firefox-esr.desktop",
        "[Desktop Entry]\nName=mine\n",
    );
    let out = desktop_entry(&s, &["browser"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("was not written by sandbox"),
        "{}",
        stderr(&out)
    );
    let out = desktop_entry(&s, &["browser", "--remove"]);
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

/// A desktop entry read back as a launcher reads it (the Desktop Entry
/// Specification), strictly: anything the specification does not allow
/// fails the test.
mod spec {
    /// The raw values of `group`'s keys, in order.
    pub fn group(text: &str, name: &str) -> Vec<(String, String)> {
        let mut inside = false;
        let mut keys = vec![];
        for line in text.lines() {
            if line.starts_with('[') {
                inside = line == format!("[{name}]");
            } else if inside && !line.starts_with('#') && !line.trim().is_empty() {
                let (k, v) = line.split_once('=').expect("a KEY=VALUE line");
                keys.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        keys
    }

    /// The one value of `key` in `group`.
    pub fn get(text: &str, group_name: &str, key: &str) -> String {
        let values: Vec<String> = group(text, group_name)
            .into_iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(values.len(), 1, "one {key} in [{group_name}]:\n{text}");
        values[0].clone()
    }

    /// The general escapes of a string value: \s \n \t \r \\.
    pub fn unescape(v: &str) -> String {
        let mut out = String::new();
        let mut chars = v.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                assert!(!c.is_control(), "control character in {v:?}");
                out.push(c);
                continue;
            }
            out.push(match chars.next() {
                Some('s') => ' ',
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('\\') => '\\',
                other => panic!("invalid escape \\{other:?} in {v:?}"),
            });
        }
        out
    }

    /// The argv an Exec value starts, given `urls` and `files` to open:
    /// general escapes undone, then the quoting, then the field codes.
    pub fn exec_argv(raw: &str, urls: &[&str], files: &[&str]) -> Vec<String> {
        let v = unescape(raw);
        let mut args: Vec<(String, bool)> = vec![];
        let mut chars = v.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c == ' ' {
                chars.next();
                continue;
            }
            let mut arg = String::new();
            if c == '"' {
                chars.next();
                loop {
                    match chars.next().expect("an unterminated quote") {
                        '"' => break,
                        '\\' => {
                            let e = chars.next().expect("an escape at the end");
                            assert!("\"`$\\".contains(e), "invalid \\{e} in quotes: {v:?}");
                            arg.push(e);
                        }
                        c => arg.push(c),
                    }
                }
                args.push((arg, true));
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ' ' {
                        break;
                    }
                    assert!(
                        !" \t\n\"'\\><~|&;$*?#()`".contains(c),
                        "reserved {c:?} outside quotes: {v:?}"
                    );
                    arg.push(c);
                    chars.next();
                }
                args.push((arg, false));
            }
        }
        let mut argv = vec![];
        for (arg, quoted) in args {
            match arg.as_str() {
                "%u" | "%f" if !quoted => argv.extend(
                    (if arg == "%u" { urls } else { files })
                        .first()
                        .map(|s| s.to_string()),
                ),
                "%U" | "%F" if !quoted => argv.extend(
                    (if arg == "%U" { urls } else { files })
                        .iter()
                        .map(|s| s.to_string()),
                ),
                _ => {
                    let mut out = String::new();
                    let mut cs = arg.chars();
                    while let Some(c) = cs.next() {
                        if c == '%' {
                            assert_eq!(cs.next(), Some('%'), "a field code inside {arg:?}");
                        }
                        out.push(c);
                    }
                    argv.push(out);
                }
            }
        }
        argv
    }
}

/// Everything a shell or a launcher could read as syntax, in a folder name.
const ODD: &str = "we%ird %u \"dir\" \\ 'x' $HOME `id` ;&|<>*?#()~";

/// The built binary, copied under a folder named `ODD` (the launcher names
/// the binary too), and the profile `p.toml` beside it.
fn odd_setup(s: &Scratch, profile: &str) -> (String, String) {
    let bin = s.path.join(ODD).join("sandbox");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(binary(), &bin).unwrap();
    let profile = s.write(&format!("{ODD}/p.toml"), profile);
    (bin.display().to_string(), profile)
}

fn desktop_entry_with(s: &Scratch, exe: &str, args: &[&str]) -> std::process::Output {
    retry_busy(|| {
        Command::new(exe)
            .arg("desktop-entry")
            .args(args)
            .env("XDG_DATA_HOME", s.path.join("data"))
            .env("XDG_DATA_DIRS", s.path.join("system"))
            .output()
    })
}

/// A binary copied a moment ago can be "busy" (ETXTBSY): a process forked
/// meanwhile by another test's thread holds the copy's write descriptor
/// until it execs. Try again a little later.
fn retry_busy(
    mut run: impl FnMut() -> std::io::Result<std::process::Output>,
) -> std::process::Output {
    for _ in 0..50 {
        match run() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            r => return r.unwrap(),
        }
    }
    run().unwrap()
}

/// Run an argv read back from an entry; its stdout.
fn launch(argv: &[String]) -> String {
    let out = retry_busy(|| {
        Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .output()
    });
    ok(out)
}

#[test]
fn a_plain_launcher_holds_any_path_exactly() {
    let s = Scratch::new("desktop");
    let (exe, profile) = odd_setup(
        &s,
        "extends = [\"default\"]\ndescription = \"two\\nlines \\\\ and a tab\\t\"\ncommand = [\"/bin/echo\", \"launched\"]\n",
    );
    let out = desktop_entry_with(&s, &exe, &[&profile]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path.join("data/applications/sandbox-p.desktop")).unwrap();
    let g = "Desktop Entry";
    let argv = spec::exec_argv(&spec::get(&text, g, "Exec"), &[], &[]);
    assert_eq!(argv, [exe.as_str(), "run", profile.as_str()], "{text}");
    assert_eq!(launch(&argv).trim(), "launched");
    assert_eq!(
        spec::unescape(&spec::get(&text, g, "Name")),
        "p (sandboxed)"
    );
    assert_eq!(
        spec::unescape(&spec::get(&text, g, "Comment")),
        "two\nlines \\ and a tab\t"
    );
    assert_eq!(
        spec::unescape(&spec::get(&text, g, "X-Sandbox-Profile")),
        profile
    );
    let out = desktop_entry_with(&s, &exe, &[&profile, "--remove"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn the_apps_own_entry_keeps_its_command_and_field_codes_behind_any_path() {
    let s = Scratch::new("desktop");
    // A command of its own, which takes the words after `--` as its
    // arguments: the entry's command must replace it, not follow it.
    let (exe, profile) = odd_setup(
        &s,
        "extends = [\"default\"]\ndesktop_entry = \"odd-app\"\ncommand = [\"/bin/echo\", \"the profile's own\"]\n",
    );
    s.write(
        "system/applications/odd-app.desktop",
        "[Desktop Entry]\nName=Odd\nExec=\"/bin/echo\" \"a b\" 100%% %u\nTryExec=/bin/echo\nActions=all;\n\n[Desktop Action all]\nName=All\nExec=/bin/echo --all %F\n",
    );
    let out = desktop_entry_with(&s, &exe, &[&profile]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path.join("data/applications/odd-app.desktop")).unwrap();
    let url = "https://example.org/?q=1&r=$2";
    let argv = spec::exec_argv(&spec::get(&text, "Desktop Entry", "Exec"), &[url], &[]);
    assert_eq!(
        argv,
        [
            exe.as_str(),
            "run",
            "--command",
            profile.as_str(),
            "--",
            "/bin/echo",
            "a b",
            "100%",
            url
        ],
        "{text}"
    );
    assert_eq!(launch(&argv).trim(), format!("a b 100% {url}"));
    let files = ["/tmp/one file", "/tmp/two"];
    let argv = spec::exec_argv(&spec::get(&text, "Desktop Action all", "Exec"), &[], &files);
    assert_eq!(
        argv,
        [
            exe.as_str(),
            "run",
            "--command",
            profile.as_str(),
            "--",
            "/bin/echo",
            "--all",
            files[0],
            files[1]
        ],
        "{text}"
    );
    assert!(
        spec::group(&text, "Desktop Entry")
            .iter()
            .all(|(k, _)| k != "TryExec")
    );
    assert_eq!(
        spec::unescape(&spec::get(&text, "Desktop Entry", "X-Sandbox-Profile")),
        profile
    );
    // Written again, it is the same file.
    let out = desktop_entry_with(&s, &exe, &[&profile]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(s.path.join("data/applications/odd-app.desktop")).unwrap(),
        text
    );
}

#[test]
fn a_path_no_desktop_entry_can_hold_is_refused_and_nothing_is_written() {
    let s = Scratch::new("desktop");
    let profile = s.write("new\nline/p.toml", "extends = [\"default\"]\n");
    let out = desktop_entry(&s, &[&profile]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("holds the control character U+000A, which a desktop entry cannot hold"),
        "{}",
        stderr(&out)
    );
    assert!(!s.path.join("data").exists(), "nothing written");
    // Nor through the app's own entry.
    let profile = s.write(
        "new\nline/q.toml",
        "extends = [\"default\"]\ndesktop_entry = \"app\"\n",
    );
    s.write(
        "system/applications/app.desktop",
        "[Desktop Entry]\nExec=/bin/true\n",
    );
    let out = desktop_entry(&s, &[&profile]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!s.path.join("data").exists(), "nothing written");
}

/// What only running needs (here the network helper, hidden by a PATH
/// without it) is a warning: the launcher is written, and runs once the
/// helper is installed. A profile wrong in itself, or whose app is not
/// installed, gets no launcher.
#[test]
fn a_launcher_needs_the_app_and_a_valid_profile_but_not_the_helpers() {
    let s = Scratch::new("desktop");
    let run = |profile: &str, path: &str| {
        Command::new(binary())
            .args(["desktop-entry", profile])
            .env("XDG_DATA_HOME", s.path.join("data"))
            .env("XDG_DATA_DIRS", s.path.join("system"))
            .env("XDG_CONFIG_HOME", s.path.join("config"))
            .env("PATH", path)
            .output()
            .unwrap()
    };
    let no_helpers = s.dir("empty-bin", 0o755);
    s.write(
        "config/sandbox/profiles/online.toml",
        "description = \"online\"\nextends = [\"default\"]\ncommand = [\"/bin/true\"]\n\n[network]\nmode = \"pasta\"\n",
    );
    let out = run("online", &no_helpers);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "online.toml:6:8: warning: network mode 'pasta' needs the program 'pasta', which is not installed"
        ),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out)
            .contains("(apt install passt); the launcher is written, and runs once that is done"),
        "{}",
        stderr(&out)
    );
    assert!(
        s.path
            .join("data/applications/sandbox-online.desktop")
            .exists()
    );

    s.write(
        "config/sandbox/profiles/ghost.toml",
        "description = \"ghost\"\nextends = [\"default\"]\ncommand = [\"no-such-app-anywhere\"]\npackage = \"no-such-package\"\n",
    );
    let out = run("ghost", "/usr/bin:/bin");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: 'no-such-app-anywhere' is not installed"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("apt install no-such-package"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("no launcher written"),
        "{}",
        stderr(&out)
    );
    assert!(
        !s.path
            .join("data/applications/sandbox-ghost.desktop")
            .exists()
    );

    s.write(
        "config/sandbox/profiles/broken.toml",
        "description = \"broken\"\nextends = [\"default\"]\ncommand = [\"/bin/true\"]\n[[mount]]\ntype = \"tmpfs\"\ndst = \"relative\"\n",
    );
    let out = run("broken", "/usr/bin:/bin");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("broken.toml:6:7: error: "),
        "{}",
        stderr(&out)
    );
    assert!(
        !s.path
            .join("data/applications/sandbox-broken.desktop")
            .exists()
    );

    // The shipped profile of an app this machine lacks.
    if !have("firefox-esr") {
        let out = run("firefox", "/usr/bin:/bin");
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("(apt install firefox-esr)"),
            "{}",
            stderr(&out)
        );
        assert!(
            !s.path
                .join("data/applications/firefox-esr.desktop")
                .exists()
        );
    }
}
