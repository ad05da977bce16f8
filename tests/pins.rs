//! `[namespaces] keep`: a sandbox's namespaces bound at paths of the
//! host's, so that they outlive it (as `unshare --net=FILE` and `ip netns
//! add` keep them); through the binary, as root. What a test keeps it
//! removes again (`umount FILE; rm FILE`), also when it fails.

mod common;
use common::*;
use std::process::{Command, Stdio};

/// Whether the host's mount table has a mount at `path`.
fn mounted(path: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(path))
}

/// Kept namespace files, unmounted and removed when dropped.
struct Pins(Vec<String>);

impl Drop for Pins {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Command::new("umount").arg(p).stderr(Stdio::null()).status();
            let _ = std::fs::remove_file(p);
        }
    }
}

fn run_root(profile: &str, script: &str) -> std::process::Output {
    let mut c = sandbox(Who::Root).unwrap();
    c.args(["run", profile, "--command", "--", "/bin/sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn sh(script: &str) -> String {
    let o = Command::new("/bin/sh")
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{script}: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

#[test]
fn kept_net_and_uts_outlive_the_sandbox_and_a_second_sandbox_joins_them() {
    if !is_root() {
        cannot("keeping a namespace needs root");
        return;
    }
    if !need(&["nsenter", "ip", "umount"]) {
        return;
    }
    let s = Scratch::new("keep");
    let dir = s.path.to_string_lossy().into_owned();
    let (net, uts) = (format!("{dir}/net"), format!("{dir}/uts"));
    let pins = Pins(vec![net.clone(), uts.clone()]);
    // The app may add an address: CAP_NET_ADMIN where its network is.
    let first = s.write(
        "first.toml",
        &format!(
            "extends = [\"default\"]\n[namespaces]\nkeep = {{ net = \"{net}\", uts = \"{uts}\" }}\n[uts]\nhostname = \"kept-box\"\n[user]\nsandwich = false\n[process]\ncapabilities = [\"CAP_NET_ADMIN\"]\n"
        ),
    );
    let plan = Command::new(binary())
        .args(["plan", &first, "--", "true"])
        .output()
        .unwrap();
    assert!(
        stdout(&plan).contains(&format!("bind /proc/PID/ns/net at {net}")),
        "{}",
        stdout(&plan)
    );
    let out = ok(run_root(
        &first,
        "ip addr add 192.0.2.7/32 dev lo && hostname",
    ));
    assert_eq!(out.trim(), "kept-box");
    // The sandbox has ended; its namespaces are still there.
    assert!(mounted(&net) && mounted(&uts), "both kept");
    let seen = sh(&format!(
        "nsenter --net={net} --uts={uts} sh -c 'hostname; ip -o -4 addr show dev lo'"
    ));
    assert!(seen.starts_with("kept-box\n"), "{seen}");
    assert!(seen.contains("192.0.2.7/32"), "{seen}");
    // A second sandbox joins them by path and sees what the first left.
    let second = s.write(
        "second.toml",
        &format!("extends = [\"default\"]\n[namespaces]\nnet = \"{net}\"\nuts = \"{uts}\"\n"),
    );
    let out = ok(run_root(&second, "hostname; ip -o -4 addr show dev lo"));
    assert!(out.starts_with("kept-box\n"), "{out}");
    assert!(out.contains("192.0.2.7/32"), "{out}");
    // Kept there already: the first profile again fails at that step,
    // and leaves the namespace kept as it was.
    let o = run_root(&first, "echo ran");
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("already kept there"), "{}", stderr(&o));
    let seen = sh(&format!("nsenter --uts={uts} hostname"));
    assert_eq!(seen.trim(), "kept-box");
    // Removing a kept namespace: umount FILE; rm FILE.
    drop(pins);
    assert!(!mounted(&net) && !mounted(&uts));
    assert!(!exists(&net) && !exists(&uts));
}

#[test]
fn a_kept_mount_namespace_needs_a_parent_mount_that_is_not_shared() {
    if !is_root() {
        cannot("keeping a namespace needs root");
        return;
    }
    if !need(&["nsenter", "mount", "umount"]) {
        return;
    }
    let s = Scratch::new("keep-mnt");
    let private = s.dir("private", 0o755);
    let shared = s.dir("shared", 0o755);
    // Folders bound onto themselves, one private (as unshare(1) asks),
    // one shared; unmounted at the end (Pins drops before Scratch).
    let _folders = Pins(vec![private.clone(), shared.clone()]);
    sh(&format!(
        "mount --bind {private} {private} && mount --make-private {private} && mount --bind {shared} {shared} && mount --make-shared {shared}"
    ));
    let pin = format!("{private}/mnt");
    let _pin = Pins(vec![pin.clone()]);
    let p = s.write(
        "p.toml",
        &format!("extends = [\"default\"]\n[namespaces]\nkeep = {{ mount = \"{pin}\" }}\n"),
    );
    ok(run_root(&p, "mkdir /tmp/left-by-the-sandbox"));
    assert!(mounted(&pin));
    // The sandbox's own tree: its empty /tmp holds what it left there.
    let seen = sh(&format!("nsenter --mount={pin} /bin/ls /tmp"));
    assert_eq!(seen.trim(), "left-by-the-sandbox");
    // On a shared mount the kernel refuses it: an error that says why,
    // and nothing left.
    let refused = format!("{shared}/mnt");
    let q = s.write(
        "q.toml",
        &format!("extends = [\"default\"]\n[namespaces]\nkeep = {{ mount = \"{refused}\" }}\n"),
    );
    let o = run_root(&q, "echo ran");
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(!stdout(&o).contains("ran"));
    assert!(stderr(&o).contains("q.toml:3:18: error"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("mount --make-private"),
        "{}",
        stderr(&o)
    );
    assert!(!mounted(&refused) && !exists(&refused));
}

#[test]
fn a_failing_setup_leaves_no_kept_namespace() {
    if !is_root() {
        cannot("keeping a namespace needs root");
        return;
    }
    if !need(&["ip"]) {
        return;
    }
    let s = Scratch::new("keep-fail");
    let dir = s.path.to_string_lossy().into_owned();
    let (net, uts) = (format!("{dir}/net"), format!("{dir}/uts"));
    let _pins = Pins(vec![net.clone(), uts.clone()]);
    let keep = format!("[namespaces]\nkeep = {{ net = \"{net}\", uts = \"{uts}\" }}\n");
    // A step of the child fails (its working directory is not there).
    let p = s.write(
        "child.toml",
        &format!("extends = [\"default\"]\n{keep}[process]\ncwd = \"/not-in-the-sandbox\"\n"),
    );
    let o = run_root(&p, "echo ran");
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("chdir"), "{}", stderr(&o));
    assert!(!mounted(&net) && !mounted(&uts), "nothing kept");
    assert!(!exists(&net) && !exists(&uts), "no file left");
    // A step of the launcher after the binds fails (the veth's host end
    // is taken); an existing file is kept as it was.
    std::fs::write(&uts, "").unwrap();
    let taken = "sbkeepfail0";
    assert!(
        Command::new("ip")
            .args([
                "link",
                "add",
                taken,
                "type",
                "veth",
                "peer",
                "name",
                "sbkeepfail1"
            ])
            .status()
            .unwrap()
            .success()
    );
    let p = s.write(
        "launcher.toml",
        &format!(
            "extends = [\"default\"]\n{keep}[network]\nmode = \"veth\"\nhost_interface = \"{taken}\"\n"
        ),
    );
    let o = run_root(&p, "echo ran");
    let _ = Command::new("ip").args(["link", "del", taken]).status();
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(!mounted(&net) && !mounted(&uts), "nothing kept");
    assert!(!exists(&net), "the file made is removed");
    assert!(exists(&uts), "the file that was there stays");
}

#[test]
fn namespaces_that_cannot_be_kept_are_refused_at_their_line() {
    let Some(mut c) = sandbox(Who::Root) else {
        return;
    };
    let s = Scratch::new("keep-pid");
    let dir = s.path.to_string_lossy().into_owned();
    let p = s.write(
        "p.toml",
        &format!("extends = [\"default\"]\n[namespaces]\nkeep = {{ pid = \"{dir}/pid\" }}\n"),
    );
    let o = c.args(["run", &p, "--", "true"]).output().unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("p.toml:3:16: error: the pid namespace cannot be kept"),
        "{}",
        stderr(&o)
    );
    assert!(!exists(&format!("{dir}/pid")));
}

#[test]
fn keeping_a_namespace_without_root_is_an_error_at_its_line() {
    let s = Scratch::new("keep-user");
    let dir = s.path.to_string_lossy().into_owned();
    let p = s.write(
        "p.toml",
        &format!("extends = [\"default\"]\n[namespaces]\nkeep = {{ net = \"{dir}/net\" }}\n"),
    );
    let Some(mut c) = sandbox(Who::User) else {
        return;
    };
    let o = c
        .args(["run", &p, "--", "/bin/echo", "ran"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(!stdout(&o).contains("ran"));
    assert!(
        stderr(&o).contains("p.toml:3:16: error: keeping the net namespace binds its file in the host's mount namespace, which needs root"),
        "{}",
        stderr(&o)
    );
    assert!(!exists(&format!("{dir}/net")));
}
