//! Helpers for tests that run the built `sandbox` binary for real.
//!
//! Every executor test runs twice: as root and as an unprivileged user.
//! As root, the unprivileged run goes through `runuser -u $SANDBOX_TEST_USER`;
//! as a normal user, the root run cannot happen. A run that cannot happen
//! is skipped with a message, or fails when SANDBOX_MUST_WORK=1 (CI).
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Who {
    Root,
    User,
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Skip (return None) or, under SANDBOX_MUST_WORK=1, fail.
///
/// A skip is visible in the normal `cargo test` output: libtest captures
/// what a test prints (and shows it only for a failure), so the line goes
/// straight to the process's stderr, and when the test binary exits (after
/// libtest's summary) a count of the skipped tests with their reasons.
pub fn cannot(reason: &str) -> Option<Command> {
    if std::env::var("SANDBOX_MUST_WORK").as_deref() == Ok("1") {
        panic!("cannot run this test here: {reason} (SANDBOX_MUST_WORK=1)");
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed)")
        .to_string();
    to_stderr(&format!("SKIPPED {test}: {reason}\n"));
    let mut skips = SKIPS.lock().unwrap_or_else(|e| e.into_inner());
    if !skips.iter().any(|(t, _)| *t == test) {
        skips.push((test, reason.to_string()));
    }
    static SUMMARY: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a function without arguments that only writes.
    SUMMARY.call_once(|| unsafe {
        libc::atexit(skip_summary);
    });
    None
}

/// The tests skipped so far, with their reasons.
static SKIPS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Write to file descriptor 2, past libtest's capture.
pub fn to_stderr(text: &str) {
    let mut bytes = text.as_bytes();
    while !bytes.is_empty() {
        // SAFETY: writing a live buffer to stderr.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

extern "C" fn skip_summary() {
    let skips = SKIPS.lock().unwrap_or_else(|e| e.into_inner());
    if skips.is_empty() {
        return;
    }
    let binary = std::env::args()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let binary = binary.rsplit_once('-').map_or(binary.as_str(), |(b, _)| b);
    let mut text = format!(
        "\n{binary}: {} test(s) SKIPPED, they cannot run here (SANDBOX_MUST_WORK=1 makes them fail):\n",
        skips.len()
    );
    let mut sorted = skips.clone();
    sorted.sort();
    for (test, reason) in sorted {
        text.push_str(&format!("  {test}: {reason}\n"));
    }
    to_stderr(&text);
}

/// Whether `program` is installed: an executable file of that name on
/// PATH or in the usual system folders (or at that path, for a path).
pub fn have(program: &str) -> bool {
    if program.contains('/') {
        return std::fs::metadata(program)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/sbin", "/bin", "/sbin"].map(PathBuf::from))
        .any(|d| {
            std::fs::metadata(d.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether every one of `programs` is installed; if not, the test is
/// skipped (visibly), naming what is missing.
pub fn need(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| !have(p)).collect();
    if missing.is_empty() {
        return true;
    }
    cannot(&format!(
        "not installed: {} (see .ci/run)",
        missing.join(", ")
    ));
    false
}

/// The binary, copied where any user can run it (the build tree may be in
/// a home directory other users cannot enter). SANDBOX_TEST_BINARY runs the
/// suites against another build instead (e.g. an older one, to see a new
/// test fail without its fix).
pub fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let built = std::env::var_os("SANDBOX_TEST_BINARY")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sandbox")));
        if !is_root() {
            return built;
        }
        let dir = std::env::temp_dir().join(format!("sandbox-test-bin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = dir.join("sandbox");
        std::fs::copy(&built, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        copy
    })
    .clone()
}

pub struct TestUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// SANDBOX_TEST_USER, as /etc/passwd has it. Not through the name
/// service: in a static binary (these tests are, as sandbox is) it crashes
/// looking up a name no database knows (src/userdb.rs).
pub fn test_user() -> Option<TestUser> {
    let name = std::env::var("SANDBOX_TEST_USER").ok()?;
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[0] == name).then(|| TestUser {
            uid: f[2].parse().unwrap_or(u32::MAX),
            gid: f[3].parse().unwrap_or(u32::MAX),
            home: f[5].to_string(),
            name: name.clone(),
        })
    })
}

/// A `sandbox` command run as `who`, or None when that cannot be done here.
pub fn sandbox(who: Who) -> Option<Command> {
    sandbox_env(who, &[])
}

/// The same, with these environment variables set for `sandbox` (the
/// unprivileged variant starts from an empty environment).
pub fn sandbox_env(who: Who, vars: &[(&str, &str)]) -> Option<Command> {
    let vars: Vec<(&str, &OsStr)> = vars.iter().map(|(k, v)| (*k, OsStr::new(v))).collect();
    sandbox_env_os(who, &vars)
}

/// The same with any bytes as values (a variable that is not UTF-8).
pub fn sandbox_env_os(who: Who, vars: &[(&str, &OsStr)]) -> Option<Command> {
    match (who, is_root()) {
        (Who::Root, true) => {
            let mut c = Command::new(binary());
            c.env("HOME", "/root").env("USER", "root");
            c.envs(vars.iter().copied());
            Some(c)
        }
        (Who::Root, false) => cannot("the root variant needs the tests to run as root"),
        (Who::User, false) => {
            let mut c = Command::new(binary());
            c.envs(vars.iter().copied());
            Some(c)
        }
        (Who::User, true) => {
            let Some(u) = test_user() else {
                return cannot(
                    "set SANDBOX_TEST_USER to an unprivileged user to run the unprivileged variant",
                );
            };
            let mut c = Command::new("runuser");
            c.args(["-u", &u.name, "--", "env", "-i"])
                .arg(format!("HOME={}", u.home))
                .arg(format!("USER={}", u.name))
                .arg("PATH=/usr/local/bin:/usr/bin:/bin")
                .arg("LANG=C.UTF-8")
                .args(vars.iter().map(|(k, v)| {
                    let mut kv = OsString::from(format!("{k}="));
                    kv.push(v);
                    kv
                }))
                .arg(binary())
                .current_dir("/");
            Some(c)
        }
    }
}

/// The uid/gid the sandbox's caller has.
pub fn caller_ids(who: Who) -> (u32, u32) {
    match (who, is_root()) {
        (Who::Root, _) => (0, 0),
        (Who::User, true) => test_user()
            .map(|u| (u.uid, u.gid))
            .unwrap_or((65534, 65534)),
        (Who::User, false) => (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        ),
    }
}

/// The ids the sandbox has on the host: the caller's, but for a root
/// caller, whose sandbox runs as nobody.
pub fn sandbox_host_ids(who: Who) -> (u32, u32) {
    match who {
        Who::Root => (65534, 65534),
        Who::User => caller_ids(who),
    }
}

pub fn caller_home(who: Who) -> String {
    match (who, is_root()) {
        (Who::Root, _) => "/root".into(),
        (Who::User, true) => test_user().map(|u| u.home).unwrap_or_default(),
        (Who::User, false) => std::env::var("HOME").unwrap_or_default(),
    }
}

/// `sandbox run PROFILE -- sh -c SCRIPT` as `who`.
pub fn run_sh(who: Who, profile: &str, script: &str) -> Option<Output> {
    let mut c = sandbox(who)?;
    c.args(["run", profile, "--command", "--", "/bin/sh", "-c", script]);
    Some(c.stdin(Stdio::null()).output().expect("spawn sandbox"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run `script` as `who` under a profile given as text (written to a
/// scratch folder that lives as long as the run).
pub fn run_profile(who: Who, profile: &str, script: &str) -> Option<Output> {
    let s = Scratch::new("profile");
    let path = s.write("p.toml", profile);
    run_sh(who, &path, script)
}

/// The Python the tests run inside the sandbox (package python3).
pub const PYTHON: &str = "/usr/bin/python3";

/// Run Python `code` with /usr/bin/python3 inside the sandbox a profile
/// (given as text) describes; its trimmed output. The run must succeed.
pub fn run_python(who: Who, profile: &str, code: &str) -> Option<String> {
    if !need(&[PYTHON]) {
        return None;
    }
    let s = Scratch::new("python");
    let path = s.write("p.toml", profile);
    let mut c = sandbox(who)?;
    c.args([
        "run",
        &path,
        "--command",
        "--",
        "/usr/bin/python3",
        "-c",
        code,
    ]);
    let out = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "python inside failed: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    Some(stdout(&out).trim().to_string())
}

/// Assert success and return stdout.
pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "sandbox failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// A directory for one test, readable by the unprivileged test user, and
/// removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("sandbox-test-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch { path }
    }
    /// Write a file (a profile, usually) and return its path as a string.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.path.join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        p.to_string_lossy().into_owned()
    }
    pub fn dir(&self, name: &str, mode: u32) -> String {
        let p = self.path.join(name);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p.to_string_lossy().into_owned()
    }
    /// Give the tree at `rel` to the ids `who`'s sandbox has on the host,
    /// as the files a user lets the sandbox change are theirs.
    pub fn chown_to(&self, who: Who, rel: &str) {
        self.chown_tree(rel, sandbox_host_ids(who));
    }

    /// Give the tree at `rel` to `who` itself: a caller's own files (its
    /// profiles, the folders of a program the test runs outside the
    /// sandbox as that caller).
    pub fn chown_to_caller(&self, who: Who, rel: &str) {
        self.chown_tree(rel, caller_ids(who));
    }

    fn chown_tree(&self, rel: &str, (uid, gid): (u32, u32)) {
        fn walk(p: &Path, uid: u32, gid: u32) {
            std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
            if p.is_dir() && !p.is_symlink() {
                for e in std::fs::read_dir(p).unwrap().flatten() {
                    walk(&e.path(), uid, gid);
                }
            }
        }
        if is_root() {
            walk(&self.path.join(rel), uid, gid);
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The host's mount table, to check that a failed run left nothing behind.
pub fn host_mounts() -> String {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(|l| l.split(' ').skip(4).take(1).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a run can leave in the host's /tmp: the folders it makes there
/// (sandbox-dbus-..., for the filtered session bus, when there is no
/// runtime folder); not the tests' own scratch folders (sandbox-test-...),
/// nor anything else other programs write to /tmp meanwhile.
pub fn tmp_entries() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sandbox-") && !n.starts_with("sandbox-test-"))
        .collect();
    v.sort();
    v
}

/// Define one test per caller kind: `both!(name, |who| { ... })`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn as_root() {
                let f: fn(Who) = $body;
                f(Who::Root)
            }
            #[test]
            fn as_user() {
                let f: fn(Who) = $body;
                f(Who::User)
            }
        }
    };
}

pub fn exists(p: &str) -> bool {
    Path::new(p).exists()
}
