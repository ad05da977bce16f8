//! Capabilities: every set emptied except what the profile keeps.
//!
//! Order matters: the effective set is first raised to the permitted one
//! (after a uid change it is empty), the bounding set is cut while
//! CAP_SETPCAP is still effective, then ambient is cleared and the
//! remaining sets reduced to what is kept; kept capabilities are raised in
//! the ambient set so that they survive exec for a non-root app.

use super::sys::{self, CapSets};
use std::io;

fn prctl(op: libc::c_int, a: libc::c_ulong, b: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: prctl with integer arguments only.
    let r = unsafe { libc::prctl(op, a, b, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn drop_all_but(keep: &[u8]) -> io::Result<()> {
    let mask = keep.iter().fold(0u64, |m, c| m | (1u64 << c));
    let now = sys::capget()?;
    sys::capset(CapSets {
        effective: now.permitted,
        ..now
    })?;
    // Drop until the kernel says EINVAL: past its last capability. Dropping
    // one already gone succeeds, so no read is needed first (one system
    // call per capability instead of two, on every start).
    for cap in 0..64 {
        if mask & (1u64 << cap) != 0 {
            continue;
        }
        match prctl(libc::PR_CAPBSET_DROP, cap, 0) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
            Err(e) => return Err(e),
        }
    }
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )?;
    let kept = mask & now.permitted;
    sys::capset(CapSets {
        effective: kept,
        permitted: kept,
        inheritable: kept,
    })?;
    for c in keep {
        prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            *c as libc::c_ulong,
        )?;
    }
    Ok(())
}

/// Take `uid`/`gid` within this user namespace, keeping every capability
/// it gives (they are the namespace's own; the sandwich or the capability
/// step takes them later). A root caller's child, whose host root the map
/// names as nobody, becomes nobody on the host this way.
pub fn take_ids(uid: u32, gid: u32) -> io::Result<()> {
    prctl(libc::PR_SET_KEEPCAPS, 1, 0)?;
    let g = nix::unistd::Gid::from_raw(gid);
    nix::unistd::setresgid(g, g, g)?;
    let u = nix::unistd::Uid::from_raw(uid);
    nix::unistd::setresuid(u, u, u)?;
    prctl(libc::PR_SET_KEEPCAPS, 0, 0)?;
    // The id change made this process non-dumpable, which would give its
    // /proc files (the inner id maps the sandwich writes) to host root.
    // Nothing but our own code runs in it until SealInit or exec.
    prctl(libc::PR_SET_DUMPABLE, 1, 0)?;
    // A uid change left the effective set empty; the permitted one stands.
    let now = sys::capget()?;
    sys::capset(CapSets {
        effective: now.permitted,
        ..now
    })
}

/// Become `uid`/`gid` for real (no user namespace: root hardening a
/// service). Capabilities are kept across the change, in the permitted set
/// only, so that the next step can drop them in order.
/// Make files as `uid`/`gid` (ids of the current user namespace), the
/// other ids and the capabilities unchanged. setfsuid reports no error:
/// asking again says which id it took.
pub fn filesystem_ids(uid: u32, gid: u32) -> io::Result<()> {
    nix::unistd::setfsgid(nix::unistd::Gid::from_raw(gid));
    nix::unistd::setfsuid(nix::unistd::Uid::from_raw(uid));
    let g = nix::unistd::setfsgid(nix::unistd::Gid::from_raw(gid));
    let u = nix::unistd::setfsuid(nix::unistd::Uid::from_raw(uid));
    if (u.as_raw(), g.as_raw()) != (uid, gid) {
        // The namespace maps no such id.
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(())
}

pub fn become_ids(uid: u32, gid: u32) -> io::Result<()> {
    prctl(libc::PR_SET_KEEPCAPS, 1, 0)?;
    let g = nix::unistd::Gid::from_raw(gid);
    // A joined user namespace may deny setgroups: the process then keeps
    // the groups it has (none, for a root caller: dropped before the join).
    match nix::unistd::setgroups(&[g]) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => {}
        Err(e) => return Err(e.into()),
    }
    nix::unistd::setresgid(g, g, g)?;
    let u = nix::unistd::Uid::from_raw(uid);
    nix::unistd::setresuid(u, u, u)?;
    prctl(libc::PR_SET_KEEPCAPS, 0, 0)?;
    Ok(())
}
