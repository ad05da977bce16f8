//! Every shell example in README.md and docs/ runs as written, as a new
//! user would type it: each line of each ```sh block, by `sh -c`, with the
//! built `sandbox` first on PATH, from a home folder holding the files the
//! examples name (`~/incoming/x.zip`, `my.toml`, ...). A line whose app is
//! not installed here, opens a window, or needs the internet is checked
//! with `sandbox plan` instead and reported as skipped, with its reason and
//! a count; a service is started and must still be serving after a while.
//! The README's `sandbox check` output is compared as printed.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One line of a ```sh block.
struct Example {
    file: String,
    line: usize,
    text: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files whose examples are run: the README and docs/.
fn documents() -> Vec<PathBuf> {
    let mut v = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    v.extend(docs);
    v
}

/// Blocks of `lang` in a Markdown text: (first line number, body).
fn blocks(text: &str, lang: &str) -> Vec<(usize, String)> {
    let mut out = vec![];
    let mut open: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut open {
            None if line.trim_start().starts_with("```") => {
                let tag = line.trim_start().trim_start_matches('`').trim();
                open = Some((i + 2, String::new()));
                if tag != lang {
                    open = Some((0, String::new()));
                }
            }
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                let (n, body) = open.take().unwrap();
                if n != 0 {
                    out.push((n, body));
                }
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    out
}

fn examples() -> Vec<Example> {
    let mut v = vec![];
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let file = doc.strip_prefix(repo()).unwrap().display().to_string();
        for (first, body) in blocks(&text, "sh") {
            for (i, line) in body.lines().enumerate() {
                let t = line.trim();
                if !t.is_empty() && !t.starts_with('#') {
                    v.push(Example {
                        file: file.clone(),
                        line: first + i,
                        text: t.to_string(),
                    });
                }
            }
        }
    }
    v
}

/// Said on the test's own stderr, past libtest's capture: a skip must be
/// seen.
fn say(msg: &str) {
    to_stderr(&format!("{msg}\n"));
}

/// The `sandbox` invocation in a line: its subcommand and the words after.
fn sandbox_words(line: &str) -> Option<Vec<String>> {
    let at = line.find("sandbox ")?;
    let rest = &line[at + "sandbox ".len()..];
    let rest = rest.split('#').next().unwrap();
    // The first command of a list or a pipeline.
    let rest = rest.split(['&', ';', '|']).next().unwrap();
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// The profile a `run`/`plan`/`desktop-entry` line names, and the words
/// after its `--`.
fn profile_of(words: &[String]) -> Option<(String, Vec<String>)> {
    let sub = words.first()?;
    if !["run", "plan", "desktop-entry"].contains(&sub.as_str()) {
        return None;
    }
    let mut it = words[1..].iter();
    let mut profile = None;
    let mut after = vec![];
    while let Some(w) = it.next() {
        if w == "--" {
            after = it.cloned().collect();
            break;
        }
        // The flags of `run` that take a value: the value is not the profile.
        let valued = [
            "--name",
            "--join-or-start",
            "--status-fd",
            "--with",
            "--bind",
            "--bind-try",
            "--ro-bind",
            "--ro-bind-try",
            "--dev-bind",
            "--tmpfs",
            "--overlay",
            "--net",
            "--forward",
            "--env",
            "--unset-env",
            "--keep-env",
            "--hostname",
            "--cwd",
            "--uid",
            "--gid",
            "--timeout",
            "--deny",
            "--allow",
            "--set",
        ];
        if valued.contains(&w.as_str()) {
            it.next();
            continue;
        }
        if !w.starts_with('-') && profile.is_none() {
            profile = Some(w.clone());
        }
    }
    Some((profile.unwrap_or_else(|| "default".into()), after))
}

/// A shipped profile's `category` (desktop, cli, service).
fn category(profile: &str) -> Option<String> {
    let text = std::fs::read_to_string(repo().join(format!("profiles/{profile}.toml"))).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("category = "))
        .map(|c| c.trim_matches('"').to_string())
}

/// The user's world: a home with what the examples name.
struct Home {
    scratch: Scratch,
}

impl Home {
    fn new(who: Who) -> Home {
        let scratch = Scratch::new("examples");
        let s = &scratch;
        s.dir("home", 0o755);
        for d in [
            "home/incoming",
            "home/Downloads",
            "home/sandbox/examples",
            "home/src/thing",
        ] {
            s.dir(d, 0o755);
        }
        zip(&s.path.join("home/incoming/x.zip"), "from-x.zip");
        zip(
            &s.path.join("home/incoming/suspicious.zip"),
            "from-suspicious.zip",
        );
        s.write("t/from-archive.tar", "x");
        let tar = Command::new("tar")
            .arg("cf")
            .arg(s.path.join("home/Downloads/archive.tar"))
            .arg("-C")
            .arg(s.path.join("t"))
            .arg("from-archive.tar")
            .status()
            .unwrap();
        assert!(tar.success());
        s.write("home/report.pdf", "%PDF-1.4\n%%EOF\n");
        // `my.toml`: the README's own example profile.
        s.write("home/my.toml", &readme_profile());
        s.write(
            "home/src/thing/Makefile",
            "all:\n\techo built > built.txt\n",
        );
        // docs/seccomp.md's profile whose Landlock rules refuse /scratch.
        std::fs::copy(
            repo().join("examples/landlocked.toml"),
            s.path.join("home/landlocked.toml"),
        )
        .unwrap();
        std::fs::copy(
            repo().join("examples/project-build.toml"),
            s.path.join("home/sandbox/examples/project-build.toml"),
        )
        .unwrap();
        s.chown_to_caller(who, "home");
        // A login session's runtime folder ($XDG_RUNTIME_DIR), where
        // `sandbox ps`, `enter` and `stop` find the running sandboxes.
        s.dir("run", 0o700);
        s.chown_to_caller(who, "run");
        Home { scratch }
    }

    fn path(&self) -> PathBuf {
        self.scratch.path.join("home")
    }

    /// `sh -c LINE` as `who`, from the home, `sandbox` first on PATH.
    fn shell(&self, who: Who, line: &str) -> Command {
        let bin = binary();
        let path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            bin.parent().unwrap().display()
        );
        let home = self.path();
        let mut c = match (who, is_root()) {
            (Who::User, true) => {
                let u = test_user().expect("checked by the caller");
                let mut c = Command::new("runuser");
                c.args(["-u", &u.name, "--", "env", "-i"]);
                c
            }
            _ => {
                let mut c = Command::new("env");
                c.arg("-i");
                c
            }
        };
        c.arg(format!("HOME={}", home.display()))
            .arg(format!(
                "XDG_RUNTIME_DIR={}",
                self.scratch.path.join("run").display()
            ))
            .arg(format!("PATH={path}"))
            .arg("LANG=C.UTF-8")
            .args(["sh", "-c", line])
            .current_dir(&home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c
    }
}

fn zip(path: &Path, member: &str) {
    let py = format!(
        "import zipfile\nwith zipfile.ZipFile({:?}, 'w') as z: z.writestr({member:?}, 'x')",
        path.display()
    );
    assert!(
        Command::new("python3")
            .args(["-c", &py])
            .status()
            .unwrap()
            .success()
    );
}

/// The README's example profile (the block after "A profile:").
fn readme_profile() -> String {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let (_, body) = blocks(&text, "toml")
        .into_iter()
        .find(|(_, b)| b.contains("name = \"viewer\""))
        .expect("the README shows the viewer profile");
    body
}

/// Wait for `child` at most `limit`; None when it is still running.
fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn end_group(child: &mut Child) -> Output {
    // SAFETY: signalling the process group this test made for the line.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
    if wait_for(child, Duration::from_secs(10)).is_none() {
        // SAFETY: as above.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    }
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    Output {
        status: child.wait().unwrap(),
        stdout: out.into_bytes(),
        stderr: err.into_bytes(),
    }
}

/// The program a profile runs, from its plan.
fn program_of(home: &Home, who: Who, profile: &str, after: &[String]) -> String {
    let mut line = format!("sandbox plan --json {profile}");
    if !after.is_empty() {
        line.push_str(" -- ");
        line.push_str(&after.join(" "));
    }
    let out = home.shell(who, &line).output().unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s["argv"][0].as_str().map(str::to_string))
        .expect("a plan ends with exec")
}

/// Why a line is checked with `plan` rather than run, if it is.
fn reason_not_to_run(home: &Home, who: Who, e: &Example) -> Option<String> {
    if e.text.contains("https://") || e.text.contains("http://") {
        return Some("it needs the internet".into());
    }
    let words = sandbox_words(&e.text)?;
    let (profile, after) = profile_of(&words)?;
    if words[0] == "plan" {
        return None;
    }
    let program = program_of(home, who, &profile, &after);
    if !have(&program) {
        return Some(format!("'{program}' is not installed here"));
    }
    if category(&profile).as_deref() == Some("desktop") && words[0] == "run" {
        return Some("it opens a window".into());
    }
    None
}

/// What must be true after a line ran: the files it was to make.
fn made_by(e: &Example) -> Vec<&'static str> {
    let mut v = vec![];
    for (says, file) in [
        ("unzip -- x.zip", "incoming/from-x.zip"),
        ("unzip -- suspicious.zip", "incoming/from-suspicious.zip"),
        ("tar -- xf archive.tar", "Downloads/from-archive.tar"),
        ("project-build.toml -- make", "src/thing/built.txt"),
    ] {
        if e.text.contains(says) {
            v.push(file);
        }
    }
    v
}

fn run_example(home: &Home, who: Who, e: &Example, skipped: &mut Vec<String>) {
    let at = format!("{}:{}: {}", e.file, e.line, e.text);
    // `sudo CMD`: CMD as root (sudo itself need not be installed).
    if let Some(rest) = e.text.strip_prefix("sudo ") {
        if !is_root() {
            say(&format!("SKIPPED (needs root): {at}"));
            skipped.push(at);
            return;
        }
        let as_root = Example {
            file: e.file.clone(),
            line: e.line,
            text: rest.to_string(),
        };
        return run_example(home, Who::Root, &as_root, skipped);
    }
    if e.text.starts_with("cargo ") || e.text.starts_with("grep ") || e.text.contains("cargo test")
    {
        // The set-up commands and a developer's look-up: run by the
        // caller of the tests, in the repository, where cargo is.
        if e.text.contains("cargo test") {
            say(&format!(
                "not run here: {at}: it is the command running this test (.ci/run runs it)"
            ));
            return;
        }
        let out = Command::new("sh")
            .args(["-c", &e.text])
            .current_dir(repo())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{at}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    if let Some(why) = reason_not_to_run(home, who, e) {
        let (profile, after) = sandbox_words(&e.text)
            .and_then(|w| profile_of(&w))
            .unwrap_or_else(|| panic!("{at}: not run ({why}) and no profile to plan"));
        let mut line = format!("sandbox plan {profile}");
        if !after.is_empty() {
            line = format!("{line} -- {}", after.join(" "));
        }
        let out = home.shell(who, &line).output().unwrap();
        assert!(
            out.status.success(),
            "{at}: {line} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        say(&format!("SKIPPED (planned, not run): {at}: {why}"));
        skipped.push(at);
        return;
    }
    let service = sandbox_words(&e.text)
        .and_then(|w| profile_of(&w))
        .and_then(|(p, _)| category(&p))
        .as_deref()
        == Some("service");
    let mut child = home.shell(who, &e.text).spawn().unwrap();
    let limit = if service { 3 } else { 120 };
    match wait_for(&mut child, Duration::from_secs(limit)) {
        None if service => {
            end_group(&mut child);
        }
        None => {
            let out = end_group(&mut child);
            panic!(
                "{at}: still running after {limit} s\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Some(_) => {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{at}: {:?}\nstdout:\n{}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    for f in made_by(e) {
        assert!(home.path().join(f).exists(), "{at}: made no {f}");
    }
}

/// As a new user: the unprivileged test user under root, or the caller.
fn new_user() -> Option<Who> {
    if is_root() && test_user().is_none() {
        cannot("the examples run as an unprivileged user: set SANDBOX_TEST_USER")?;
    }
    Some(Who::User)
}

#[test]
fn every_shell_example_runs_as_written() {
    let Some(who) = new_user() else {
        return;
    };
    let all = examples();
    assert!(all.len() >= 15, "examples found: {}", all.len());
    let mut skipped = vec![];
    for e in &all {
        let home = Home::new(who);
        run_example(&home, who, e, &mut skipped);
    }
    say(&format!(
        "examples: {} run, {} planned and skipped",
        all.len() - skipped.len(),
        skipped.len()
    ));
}

#[test]
fn the_readme_shows_what_check_prints() {
    let Some(who) = new_user() else {
        return;
    };
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let shown = blocks(&text, "")
        .into_iter()
        .map(|(_, b)| b)
        .find(|b| b.starts_with("viewer.toml:"))
        .expect("the README shows check's output");
    let home = Home::new(who);
    let typo = readme_profile().replace("src = ", "scr = ");
    std::fs::write(home.path().join("viewer.toml"), typo).unwrap();
    let out = home
        .shell(who, "sandbox check viewer.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), shown);
}
