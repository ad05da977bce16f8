//! Nothing is left behind when the launcher is killed with SIGKILL, at any
//! moment of setup or while the app runs: no process of the sandbox (its
//! reaper included, once done), no cgroup, no D-Bus proxy folder, no pasta,
//! no host mount. The profile makes every kind of host-side thing the
//! launcher knows (cgroup limits as root, a filtered session bus, pasta),
//! and the launcher is killed after a spread of delays, from before the
//! child exists to after the app started.

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// sandbox-PID cgroups below this process's own whose sandbox has ended.
fn leftover_cgroups() -> Vec<String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut found = vec![];
    for h in sandbox::exec::cgroup::hierarchies(&mountinfo) {
        let Some(own) = sandbox::exec::cgroup::own_path(&h, &proc_cgroup) else {
            continue;
        };
        let dir = h.mount.join(own.trim_start_matches('/'));
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("sandbox-")
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                found.push(e.path().display().to_string());
            }
        }
    }
    found
}

/// Processes whose command line mentions `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(marker) {
            found.push(format!("{name}: {cmd}"));
        }
    }
    found
}

fn pastas() -> usize {
    processes_with("pasta")
        .iter()
        .filter(|p| p.contains("--config-net"))
        .count()
}

fn folders_named(dir: &str, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

struct Bus(Child);
impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Counting pastas needs the two variants one after the other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn kill_at_many_moments(who: Who) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(_) = sandbox(who) else {
        return;
    };
    let mut missing: Vec<&str> = ["pasta", "dbus-daemon", "xdg-dbus-proxy"]
        .into_iter()
        .filter(|p| !have(p))
        .collect();
    if !missing.is_empty() {
        missing.sort();
        cannot(&format!("not installed: {missing:?} (see .ci/run)"));
        return;
    }
    let s = Scratch::new("killed");
    let runtime = s.dir("runtime", 0o700);
    s.chown_to_caller(who, "runtime");
    // A session bus of the caller's for the proxy to filter.
    let address = format!("unix:path={runtime}/bus");
    let mut daemon = Command::new("dbus-daemon");
    daemon
        .args(["--session", "--nofork", "--address", &address])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if who == Who::User && is_root() {
        use std::os::unix::process::CommandExt;
        let u = test_user().unwrap();
        daemon.uid(u.uid).gid(u.gid);
    }
    let _bus = Bus(daemon.spawn().unwrap());
    let until = Instant::now() + Duration::from_secs(10);
    while !Path::new(&format!("{runtime}/bus")).exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Cgroups need root here (no delegation for the test user).
    let cgroup = if who == Who::Root {
        "[cgroup]\npids = 64\nmemory = \"256M\"\n"
    } else {
        ""
    };
    let profile = s.write(
        "p.toml",
        &format!(
            "extends = [\"default\"]\n{cgroup}[network]\nmode = \"pasta\"\n[dbus]\nsession = true\ntalk = [\"org.example.Nothing\"]\n"
        ),
    );
    // In every command line of the sandbox's (launcher, PID 1, app, reaper).
    let marker = profile.clone();
    let mounts = host_mounts();
    let pastas_before = pastas();
    let mut report = vec![];
    for delay_ms in [0u64, 1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 150, 300] {
        let mut c = sandbox_env(
            who,
            &[
                ("XDG_RUNTIME_DIR", runtime.as_str()),
                ("DBUS_SESSION_BUS_ADDRESS", address.as_str()),
            ],
        )
        .unwrap();
        c.args(["run", &profile, "--", "/bin/sleep", "30"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        // The launcher itself (runuser stays above it for the user), from
        // the moment it exists.
        let launcher = || {
            std::iter::once(child.id())
                .chain(descendants(child.id()))
                .find(|p| {
                    std::fs::read_link(format!("/proc/{p}/exe"))
                        .is_ok_and(|e| e.file_name() == Some(std::ffi::OsStr::new("sandbox")))
                })
        };
        let until = Instant::now() + Duration::from_secs(5);
        let mut found = launcher();
        while found.is_none() && Instant::now() < until {
            found = launcher();
        }
        let l = found.expect("the launcher started");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(l as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = child.wait();
        // Everything should be gone within a few seconds (the reaper
        // waits for the sandbox's processes to leave its cgroups), or
        // within the reaper's 10 s for a pasta that was to start but may
        // never have (PASTA_START_GRACE in src/exec/reaper.rs).
        let until = Instant::now() + Duration::from_secs(15);
        let settled = || {
            processes_with(&marker).is_empty()
                && leftover_cgroups().is_empty()
                && pastas() <= pastas_before
                && folders_named(&runtime, "sandbox-dbus-").is_empty()
        };
        while !settled() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left = [
            processes_with(&marker),
            leftover_cgroups(),
            folders_named(&runtime, "sandbox-dbus-"),
            folders_named("/tmp", "sandbox-dbus-"),
        ]
        .concat();
        if !left.is_empty() || pastas() > pastas_before {
            report.push(format!(
                "killed after {delay_ms} ms: left {left:?}, {} pasta(s) more",
                pastas() - pastas_before.min(pastas())
            ));
        }
        assert_eq!(host_mounts(), mounts, "killed after {delay_ms} ms");
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Processes below `pid`, recursively.
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = vec![];
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for t in std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
                out.push(k);
                todo.push(k);
            }
        }
    }
    out
}

both!(nothing_is_left_when_the_launcher_is_killed, |who| {
    kill_at_many_moments(who)
});
