//! The sandwich: after setup, a second user namespace in which the app has
//! the ids the profile asks for, mapped onto the outer namespace's root.
//! Every mount made during setup belongs to the outer namespace, so even
//! root in the inner one cannot unmount, remount or move it.

use super::failure::{Call, Failure};
use super::kernel::Kernel;
use crate::plan::IdMapEntry;
use crate::plan::NsKind;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

const MAX_USER_NAMESPACES: &str = "/proc/sys/user/max_user_namespaces";

/// The user-namespace limit of the namespace we are in, opened while the
/// host's /proc is still reachable and writable (the sandbox's own /proc
/// has /proc/sys read-only). The file writes to the namespace of whoever
/// opened it, so it can be written later, after the mounts.
pub fn open_user_namespace_limit(k: &dyn Kernel) -> Result<OwnedFd, Failure> {
    k.open(
        None,
        c"/proc/sys/user/max_user_namespaces",
        libc::O_WRONLY,
        0,
    )
    .call(format!("open {MAX_USER_NAMESPACES}"))
}

/// Allow at most `max` more user namespaces below the current one.
pub fn limit_user_namespaces(k: &dyn Kernel, limit: &OwnedFd, max: u32) -> Result<(), Failure> {
    let text = max.to_string();
    write_whole(k, limit.as_fd(), &text, || {
        format!("write {MAX_USER_NAMESPACES} \"{max}\"")
    })
}

/// This process's own directory in the host's /proc (`proc`, opened
/// before the pivot): the sandbox may have no /proc of its own, or one
/// the profile bound read-only. The directory stays this process's
/// whatever namespaces it enters, and a helper forked from it that holds
/// it writes this process's files.
pub(super) fn own_proc_dir(k: &dyn Kernel, proc: BorrowedFd) -> Result<OwnedFd, Failure> {
    k.open(Some(proc), c"self", libc::O_PATH | libc::O_DIRECTORY, 0)
        .call("open /proc/self (the host's /proc)")
}

/// One write of all of `text`: these files (/proc and /sys ones) take a
/// whole write or fail it with an errno; a short one, with none, would be
/// a kernel's we do not know.
pub(super) fn write_whole(
    k: &dyn Kernel,
    fd: BorrowedFd,
    text: &str,
    call: impl Fn() -> String,
) -> Result<(), Failure> {
    let n = k.write(fd, text.as_bytes()).call_with(&call)?;
    if n != text.len() {
        return Err(Failure::new(libc::EIO, call())
            .with_detail(format!("wrote {n} of {} bytes", text.len())));
    }
    Ok(())
}

/// Write `text` to the file `name` under the directory `dir` (this
/// process's /proc directory).
pub(super) fn write_at(
    k: &dyn Kernel,
    dir: BorrowedFd,
    name: &str,
    text: &str,
) -> Result<(), Failure> {
    write_file(k, Some(dir), &format!("/proc/self/{name}"), name, text)
}

/// Open `path` (under `dir`, when given, as `shown`) for writing and
/// write all of `text` in one write.
pub(super) fn write_file(
    k: &dyn Kernel,
    dir: Option<BorrowedFd>,
    shown: &str,
    path: &str,
    text: &str,
) -> Result<(), Failure> {
    let cpath = CString::new(path).call(shown)?;
    let fd = k
        .open(dir, &cpath, libc::O_WRONLY, 0)
        .call_with(|| format!("open {shown}"))?;
    write_whole(k, fd.as_fd(), text, || format!("write {shown} {text:?}"))
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
    k: &dyn Kernel,
    uid: Option<u32>,
    gid: Option<u32>,
    ranges: &[IdMapEntry],
    own: &[NsKind],
    proc: BorrowedFd,
) -> Result<(), Failure> {
    let (outer_uid, outer_gid) = k.effective_ids();
    // The app's id onto this process's, then the extra ranges. An id left
    // unmapped has no map at all (the kernel then shows the overflow id,
    // 65534); the profile gives no ranges with it.
    let map = |inside: u32, outside: u32| {
        let own = IdMapEntry {
            inside,
            outside,
            count: 1,
        };
        super::idmap::text(std::iter::once(&own).chain(ranges))
    };
    let uid_map = uid.map(|uid| map(uid, outer_uid));
    let gid_map = gid.map(|gid| map(gid, outer_gid));
    let me = own_proc_dir(k, proc)?;
    let maps = |deny_setgroups| {
        write_maps(
            k,
            me.as_fd(),
            uid_map.as_deref(),
            gid_map.as_deref(),
            deny_setgroups,
        )
    };
    if ranges.is_empty() {
        k.unshare(nix::sched::CloneFlags::CLONE_NEWUSER)
            .call("unshare(CLONE_NEWUSER)")?;
        maps(true)?;
    } else {
        // The helper exits with the errno of the write that failed.
        // (at least 1: a failure must never read as success).
        k.unshare_user_with_helper(&|| maps(false).map_or_else(|f| f.errno.clamp(1, 255), |()| 0))
            .call(
                "unshare(CLONE_NEWUSER), a helper outside writing /proc/self/uid_map and gid_map",
            )?;
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
        .fold(nix::sched::CloneFlags::empty(), |f, kind| {
            f | kind.clone_flag()
        });
    if !flags.is_empty() {
        k.unshare(flags)
            .call_with(|| format!("unshare({flags:?})"))?;
    }
    Ok(())
}

fn write_maps(
    k: &dyn Kernel,
    dir: BorrowedFd,
    uid_map: Option<&str>,
    gid_map: Option<&str>,
    deny_setgroups: bool,
) -> Result<(), Failure> {
    if let Some(m) = uid_map {
        write_at(k, dir, "uid_map", m)?;
    }
    if deny_setgroups {
        write_at(k, dir, "setgroups", "deny")?;
    }
    match gid_map {
        Some(m) => write_at(k, dir, "gid_map", m),
        None => Ok(()),
    }
}
