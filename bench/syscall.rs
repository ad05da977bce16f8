//! Per-syscall cost of the seccomp filter, and the cost of attaching it.
//! Run: `cargo bench --bench syscall` (as any user; needs the release
//! sandbox binary: `cargo build --release`).
//!
//! The same loop of a cheap allowed call (getppid) and an argument-checked
//! one (ioctl on /dev/null, which the default filter inspects for TIOCSTI)
//! runs on the bare host and inside `sandbox run` with the default filter,
//! an allowlist of every call, and no filter, side by side in one run.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const CALLS: u64 = 2_000_000;
const ROUNDS: usize = 5;

fn inner() {
    let null = std::fs::File::open("/dev/null").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&null);
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..CALLS {
            f();
        }
        t.elapsed().as_nanos() as f64 / CALLS as f64
    };
    // SAFETY: getppid takes no argument and touches no memory of ours.
    let getppid = time(&|| unsafe {
        libc::getppid();
    });
    // SAFETY: TIOCGWINSZ writes a winsize into `w`, which outlives the call.
    let ioctl = time(&|| unsafe {
        let mut w: libc::winsize = std::mem::zeroed();
        libc::ioctl(fd, libc::TIOCGWINSZ, &mut w);
    });
    println!("{getppid:.1} {ioctl:.1}");
}

/// Attach the default filter in a fresh child and time it.
fn attach_cost() -> f64 {
    let deny: Vec<sandbox::plan::Syscall> = sandbox::syscalls::DEFAULT_DENY
        .iter()
        .flat_map(|g| sandbox::syscalls::expand(g).unwrap())
        .collect();
    let prog = sandbox::exec::seccomp::program(
        sandbox::plan::SeccompPolicy::Default,
        &deny,
        libc::EPERM,
        0,
        false,
        false,
        None,
    );
    let mut samples = vec![];
    for _ in 0..50 {
        let (r, w) = nix::unistd::pipe().unwrap();
        // SAFETY: the child only attaches a filter, writes a number and exits.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let t = Instant::now();
                seccompiler::apply_filter(&prog).unwrap();
                let us = t.elapsed().as_nanos() as u64;
                nix::unistd::write(&w, &us.to_ne_bytes()).unwrap();
                // SAFETY: leaving the forked child at once.
                unsafe { libc::_exit(0) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                drop(w);
                let mut b = [0u8; 8];
                nix::unistd::read(&r, &mut b).unwrap();
                nix::sys::wait::waitpid(child, None).unwrap();
                samples.push(u64::from_ne_bytes(b) as f64 / 1000.0);
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The floor: a one-instruction filter that allows everything, so the
/// difference between it and the bare host is what any filter costs.
fn inner_trivial() {
    let allow = seccompiler::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: 0x7fff_0000,
    };
    seccompiler::apply_filter(&[allow]).unwrap();
    inner();
}

fn main() {
    if std::env::args().any(|a| a == "--inner-trivial") {
        return inner_trivial();
    }
    if std::env::args().any(|a| a == "--inner") {
        return inner();
    }
    let me = std::env::current_exe().unwrap();
    let dir = me.parent().unwrap();
    let sandbox = PathBuf::from(env!("CARGO_BIN_EXE_sandbox"));
    let scratch = std::env::temp_dir().join(format!("sandbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let base = format!(
        "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{}\"\n",
        dir.display()
    );
    let all: Vec<String> = sandbox::syscalls::SYSCALLS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    let cases = [
        ("default filter", base.clone()),
        (
            "allowlist (every call)",
            format!("{base}[seccomp]\npolicy = \"allowlist\"\nallow = {all:?}\n"),
        ),
        ("no filter", format!("{base}[seccomp]\npolicy = \"none\"\n")),
    ];
    let mut results: Vec<(String, Vec<(f64, f64)>)> = vec![
        ("bare host".into(), vec![]),
        ("host, one-instruction allow-all filter".into(), vec![]),
    ];
    results.extend(cases.iter().map(|(n, _)| (n.to_string(), vec![])));
    for _ in 0..ROUNDS {
        let out = Command::new(&me).arg("--inner").output().unwrap();
        results[0].1.push(parse(&out.stdout));
        let out = Command::new(&me).arg("--inner-trivial").output().unwrap();
        results[1].1.push(parse(&out.stdout));
        for (i, (_, profile)) in cases.iter().enumerate() {
            let p = scratch.join(format!("case{i}.toml"));
            std::fs::write(&p, profile).unwrap();
            let out = Command::new(&sandbox)
                .arg("run")
                .arg(&p)
                .arg("--")
                .arg(&me)
                .arg("--inner")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            results[i + 2].1.push(parse(&out.stdout));
        }
    }
    std::fs::remove_dir_all(&scratch).unwrap();
    let median = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| {
        let mut x: Vec<f64> = v.iter().map(f).collect();
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    let (bare_g, bare_i) = (
        median(&results[0].1, |r| r.0),
        median(&results[0].1, |r| r.1),
    );
    println!("| setup | getppid ns/call | +ns vs bare | ioctl ns/call | +ns vs bare |");
    println!("|---|---:|---:|---:|---:|");
    for (name, rows) in &results {
        let (g, i) = (median(rows, |r| r.0), median(rows, |r| r.1));
        println!(
            "| {name} | {g:.1} | {:+.1} | {i:.1} | {:+.1} |",
            g - bare_g,
            i - bare_i
        );
    }
    println!(
        "\nattaching the default filter: {:.3} ms (median of 50)",
        attach_cost() / 1000.0
    );
}

fn parse(out: &[u8]) -> (f64, f64) {
    let s = String::from_utf8_lossy(out);
    let mut it = s.split_whitespace().map(|x| x.parse::<f64>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}
