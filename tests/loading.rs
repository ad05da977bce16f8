//! Loading profiles through the binary whatever they are: a chain of
//! `extends` of any length, files, devices and pipes that hold too much.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `sandbox ARGS` as `who`, with stdin from nowhere.
fn sandbox_out(who: Who, args: &[&str]) -> Option<std::process::Output> {
    let mut c = sandbox(who)?;
    Some(c.args(args).stdin(Stdio::null()).output().unwrap())
}

/// p0.toml extends p1.toml ... extends p{n}.toml, which says `last`.
fn chain(s: &Scratch, n: usize, last: &str) -> String {
    for i in 0..n {
        s.write(
            &format!("p{i}.toml"),
            &format!("extends = [\"p{}.toml\"]\n", i + 1),
        );
    }
    s.write(&format!("p{n}.toml"), last);
    s.path.join("p0.toml").display().to_string()
}

both!(a_chain_of_thousands_of_extends_loads, |who| {
    let s = Scratch::new("chain");
    let top = chain(
        &s,
        3000,
        "extends = [\"default\"]\n[uts]\nhostname = \"deepest\"\n",
    );
    let Some(out) = sandbox_out(who, &["run", &top, "--", "/bin/hostname"]) else {
        return;
    };
    assert_eq!(ok(out).trim(), "deepest");
    let out = sandbox_out(who, &["check", &top]).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
});

both!(a_cycle_at_the_end_of_a_long_chain_is_reported, |who| {
    let s = Scratch::new("chain");
    let top = chain(&s, 3000, "\n\nextends = [\"p0.toml\"]\n");
    let Some(out) = sandbox_out(who, &["plan", &top]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("p3000.toml:3:12: error: extends cycle: "),
        "{}",
        &err[..err.len().min(2000)]
    );
});

/// The cap's message, for `file`.
fn too_big(file: &str) -> String {
    format!("error: profile {file} holds more than 1 MiB, the most a profile may hold")
}

both!(a_profile_file_larger_than_the_cap_is_refused, |who| {
    let s = Scratch::new("big");
    // A valid profile, padded with a comment past 1 MiB.
    let big = s.write(
        "big.toml",
        &format!("extends = [\"default\"]\n#{}\n", "x".repeat(1 << 20)),
    );
    let Some(out) = sandbox_out(who, &["run", &big, "--", "/bin/true"]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains(&too_big(&big)), "{}", stderr(&out));
    // Reached through extends: reported at the entry.
    let child = s.write("child.toml", "name = \"child\"\nextends = [\"big.toml\"]\n");
    let out = sandbox_out(who, &["check", &child]).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("child.toml:2:12: {}", too_big(&big))),
        "{}",
        stderr(&out)
    );
    // Just under the cap is fine.
    let fits = s.write(
        "fits.toml",
        &format!(
            "extends = [\"default\"]\n#{}\n",
            "x".repeat((1 << 20) - 100)
        ),
    );
    let out = sandbox_out(who, &["check", &fits]).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
});

both!(dev_zero_is_refused_without_reading_it_all, |who| {
    let Some(out) = sandbox_out(who, &["plan", "/dev/zero"]) else {
        return;
    };
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    // Root reads no profile from a device at all (tests/ownership.rs).
    let why = match who {
        Who::User => too_big("/dev/zero"),
        Who::Root => "root does not load profile /dev/zero: it is a device".into(),
    };
    assert!(stderr(&out).contains(&why), "{}", stderr(&out));
});

/// Writes to the FIFO at `path` until its reader closes it, or until
/// `stop` is set while no reader has opened it.
fn feed_forever(path: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut fifo = loop {
            match std::fs::File::options()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&path)
            {
                Ok(f) => break f,
                Err(_) if stop.load(Ordering::SeqCst) => return,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        };
        // Blocking from here: the reader reads at its own pace.
        nix::fcntl::fcntl(
            &fifo,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
        )
        .unwrap();
        while fifo.write_all(&[b'#'; 65536]).is_ok() {}
    })
}

both!(a_pipe_that_never_ends_is_refused, |who| {
    let s = Scratch::new("pipe");
    let fifo = s.path.join("endless.toml").display().to_string();
    nix::unistd::mkfifo(
        fifo.as_str(),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = feed_forever(fifo.clone(), stop.clone());
    let Some(out) = sandbox_out(who, &["run", &fifo, "--", "/bin/true"]) else {
        stop.store(true, Ordering::SeqCst);
        return;
    };
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(stderr(&out).contains(&too_big(&fifo)), "{}", stderr(&out));
});

#[test]
fn standard_input_that_never_ends_is_refused() {
    // The caller's own pipe (a pipe of the tests' user is not the test
    // user's to open again through /dev/stdin).
    let who = if is_root() { Who::Root } else { Who::User };
    let mut child = sandbox(who)
        .unwrap()
        .args(["run", "/dev/stdin", "--", "/bin/true"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || while pipe.write_all(&[b'#'; 65536]).is_ok() {});
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&too_big("/dev/stdin")),
        "{}",
        stderr(&out)
    );
}
