//! The sandwich: after setup, a second user namespace in which the app has
//! the ids the profile asks for, mapped onto the outer namespace's root.
//! Every mount made during setup belongs to the outer namespace, so even
//! root in the inner one cannot unmount, remount or move it.

use super::failure::{Call, Failure};
use crate::plan::IdMapEntry;
use crate::plan::NsKind;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The user-namespace limit of the namespace we are in, opened while the
/// host's /proc is still reachable and writable (the sandbox's own /proc
/// has /proc/sys read-only). The file writes to the namespace of whoever
/// opened it, so it can be written later, after the mounts.
pub fn open_user_namespace_limit() -> Result<std::fs::File, Failure> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(MAX_USER_NAMESPACES)
        .call(format!("open {MAX_USER_NAMESPACES}"))
}

const MAX_USER_NAMESPACES: &str = "/proc/sys/user/max_user_namespaces";

/// Allow at most `max` more user namespaces below the current one.
pub fn limit_user_namespaces(limit: &mut std::fs::File, max: u32) -> Result<(), Failure> {
    use std::io::Write;
    limit
        .write_all(max.to_string().as_bytes())
        .call(format!("write {MAX_USER_NAMESPACES} \"{max}\""))
}

/// This process's own directory in the host's /proc (`proc`, opened
/// before the pivot): the sandbox may have no /proc of its own, or one
/// the profile bound read-only. The directory stays this process's
/// whatever namespaces it enters, and a helper forked from it that holds
/// it writes this process's files.
fn own_proc_dir(proc: BorrowedFd) -> Result<OwnedFd, Failure> {
    use nix::fcntl::{OFlag, openat};
    openat(
        proc,
        "self",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .call("open /proc/self (the host's /proc)")
}

/// Write `text` to the file `name` under the directory `dir`.
fn write_at(dir: BorrowedFd, name: &str, text: &str) -> Result<(), Failure> {
    use nix::fcntl::{OFlag, openat};
    let call = || format!("write /proc/self/{name} {text:?}");
    let fd = openat(
        dir,
        name,
        OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .call_with(|| format!("open /proc/self/{name}"))?;
    let n = nix::unistd::write(&fd, text.as_bytes()).call_with(call)?;
    // These files take a whole write or fail it with an errno: a short
    // one, with none, would be a kernel's we do not know.
    if n != text.len() {
        return Err(Failure::new(libc::EIO, call())
            .with_detail(format!("wrote {n} of {} bytes", text.len())));
    }
    Ok(())
}

/// Enter a new user namespace in which this process is `uid`/`gid`, mapped
/// onto its current ids; `ranges` (the profile's extra ids) are mapped onto
/// the same ids of the outer namespace. `proc` is the host's /proc.
///
/// A map of more than the writer's own id needs CAP_SETUID in the parent
/// namespace when the map file is opened, which this process loses by
/// entering the new namespace: so with ranges, a helper forked beforehand
/// (still outside, still capable) writes the maps.
pub fn enter_inner(
    uid: Option<u32>,
    gid: Option<u32>,
    ranges: &[IdMapEntry],
    own: &[NsKind],
    proc: BorrowedFd,
) -> Result<(), Failure> {
    let (outer_uid, outer_gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    let extra: String = ranges
        .iter()
        .map(|r| format!("{} {} {}\n", r.inside, r.outside, r.count))
        .collect();
    // An id left unmapped has no map at all (the kernel then shows the
    // overflow id, 65534); the profile gives no ranges with it.
    let uid_map = uid.map(|uid| format!("{uid} {outer_uid} 1\n{extra}"));
    let gid_map = gid.map(|gid| format!("{gid} {outer_gid} 1\n{extra}"));
    let me = own_proc_dir(proc)?;
    if ranges.is_empty() {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)
            .call("unshare(CLONE_NEWUSER)")?;
        write_maps(me.as_fd(), uid_map.as_deref(), gid_map.as_deref(), true)?;
    } else {
        with_helper(|| write_maps(me.as_fd(), uid_map.as_deref(), gid_map.as_deref(), false))?;
    }
    // The namespaces the app administers belong to the inner user namespace.
    // A new pid namespace takes the children made from now on (see
    // child.rs). A time namespace's clocks can be set only until a process
    // enters it, as the app's would at exec: the app makes its own instead
    // (the seccomp filter lets that unshare through, and it keeps
    // CAP_SYS_TIME for the offsets).
    let flags = own
        .iter()
        .filter(|k| !matches!(k, NsKind::User | NsKind::Time))
        .fold(nix::sched::CloneFlags::empty(), |f, k| {
            f | super::clone_flag(*k)
        });
    if !flags.is_empty() {
        nix::sched::unshare(flags).call_with(|| format!("unshare({flags:?})"))?;
    }
    Ok(())
}

fn write_maps(
    dir: BorrowedFd,
    uid_map: Option<&str>,
    gid_map: Option<&str>,
    deny_setgroups: bool,
) -> Result<(), Failure> {
    if let Some(m) = uid_map {
        write_at(dir, "uid_map", m)?;
    }
    if deny_setgroups {
        write_at(dir, "setgroups", "deny")?;
    }
    match gid_map {
        Some(m) => write_at(dir, "gid_map", m),
        None => Ok(()),
    }
}

/// Fork a helper that waits for us to unshare, then runs `write` (on our
/// /proc directory, which it inherited).
fn with_helper(write: impl Fn() -> Result<(), Failure>) -> Result<(), Failure> {
    use nix::unistd::{ForkResult, fork, read};
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).call("pipe")?;
    // SAFETY: single-threaded; the helper only writes two files and exits.
    match unsafe { fork() }.call("fork")? {
        ForkResult::Child => {
            drop(w);
            let mut b = [0u8; 1];
            let code = match read(&r, &mut b) {
                Ok(1) => match write() {
                    Ok(()) => 0,
                    Err(f) => f.errno.clamp(1, 255),
                },
                _ => libc::ECHILD,
            };
            // SAFETY: leaving the helper without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(r);
            let unshared = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER);
            if unshared.is_ok() {
                nix::unistd::write(&w, b"g").call("write to the id-map helper")?;
            }
            drop(w);
            let status = nix::sys::wait::waitpid(child, None).call("waitpid")?;
            unshared.call("unshare(CLONE_NEWUSER)")?;
            let call = "write /proc/self/uid_map and gid_map (by a helper outside)";
            match status {
                nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
                // The helper exits with the errno of the write that failed.
                nix::sys::wait::WaitStatus::Exited(_, code) => Err(Failure::new(code, call)),
                _ => Err(Failure::new(libc::ECHILD, call).with_detail(format!("{status:?}"))),
            }
        }
    }
}

/// A new time namespace for the children created from now on, with the
/// monotonic and boottime clocks moved by the given offsets (written
/// through the host's /proc, `proc`).
pub fn new_time_namespace(
    monotonic_ms: i64,
    boottime_ms: i64,
    proc: BorrowedFd,
) -> Result<(), Failure> {
    let me = own_proc_dir(proc)?;
    nix::sched::unshare(nix::sched::CloneFlags::from_bits_retain(
        libc::CLONE_NEWTIME,
    ))
    .call("unshare(CLONE_NEWTIME)")?;
    let line = |clock: &str, ms: i64| {
        format!(
            "{clock} {} {}\n",
            ms.div_euclid(1000),
            ms.rem_euclid(1000) * 1_000_000
        )
    };
    let offsets = line("monotonic", monotonic_ms) + &line("boottime", boottime_ms);
    write_at(me.as_fd(), "timens_offsets", &offsets)
}
