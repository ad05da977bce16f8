//! Capabilities: every set emptied except what the profile keeps.
//!
//! Order matters: the effective set is first raised to the permitted one
//! (after a uid change it is empty), the bounding set is cut while
//! CAP_SETPCAP is still effective, then ambient is cleared and the
//! remaining sets reduced to what is kept; kept capabilities are raised in
//! the ambient set so that they survive exec for a non-root app.

use super::failure::{Call, Failure};
use super::kernel::Kernel;
use super::sys::CapSets;
use crate::plan::Capability;

/// Empty every capability set but `keep`.
pub fn drop_all_but(k: &dyn Kernel, keep: &[Capability]) -> Result<(), Failure> {
    let mask = keep.iter().fold(0u64, |m, c| m | (1u64 << c.number()));
    let now = k.capget().call("capget")?;
    k.capset(CapSets {
        effective: now.permitted,
        ..now
    })
    .call("capset (effective = permitted)")?;
    // Drop until the kernel says EINVAL: past its last capability. Dropping
    // one already gone succeeds, so no read is needed first (one system
    // call per capability instead of two, on every start).
    for cap in 0..64 {
        if mask & (1u64 << cap) != 0 {
            continue;
        }
        match k.prctl(libc::PR_CAPBSET_DROP, cap, 0) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
            Err(e) => return Err(e).call_with(|| format!("prctl(PR_CAPBSET_DROP, {cap})")),
        }
    }
    k.prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as u64,
        0,
    )
    .call("prctl(PR_CAP_AMBIENT_CLEAR_ALL)")?;
    let kept = mask & now.permitted;
    k.capset(CapSets {
        effective: kept,
        permitted: kept,
        inheritable: kept,
    })
    .call_with(|| format!("capset {kept:#x}"))?;
    for c in keep {
        k.prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as u64,
            c.number().into(),
        )
        .call_with(|| format!("prctl(PR_CAP_AMBIENT_RAISE, {})", c.name()))?;
    }
    Ok(())
}

/// Take `uid`/`gid` within this user namespace, keeping every capability
/// it gives (they are the namespace's own; the sandwich or the capability
/// step takes them later). A root caller's child, whose host root the map
/// names as nobody, becomes nobody on the host this way.
pub fn take_ids(k: &dyn Kernel, uid: u32, gid: u32) -> Result<(), Failure> {
    k.prctl(libc::PR_SET_KEEPCAPS, 1, 0)
        .call("prctl(PR_SET_KEEPCAPS, 1)")?;
    k.setresgid(gid).call_with(|| format!("setresgid({gid})"))?;
    k.setresuid(uid).call_with(|| format!("setresuid({uid})"))?;
    k.prctl(libc::PR_SET_KEEPCAPS, 0, 0)
        .call("prctl(PR_SET_KEEPCAPS, 0)")?;
    // The id change made this process non-dumpable, which would give its
    // /proc files (the inner id maps the sandwich writes) to host root.
    // Nothing but our own code runs in it until SealInit or exec.
    k.prctl(libc::PR_SET_DUMPABLE, 1, 0)
        .call("prctl(PR_SET_DUMPABLE, 1)")?;
    // A uid change left the effective set empty; the permitted one stands.
    let now = k.capget().call("capget")?;
    k.capset(CapSets {
        effective: now.permitted,
        ..now
    })
    .call("capset (effective = permitted)")
}

/// Make files as `uid`/`gid` (ids of the current user namespace), the
/// other ids and the capabilities unchanged. setfsuid reports no error:
/// asking again says which id it took.
pub fn filesystem_ids(k: &dyn Kernel, uid: u32, gid: u32) -> Result<(), Failure> {
    k.setfsgid(gid);
    k.setfsuid(uid);
    let (g, u) = (k.setfsgid(gid), k.setfsuid(uid));
    if (u, g) != (uid, gid) {
        // The namespace maps no such id.
        return Err(
            Failure::new(libc::EINVAL, format!("setfsuid({uid})/setfsgid({gid})")).with_detail(
                format!("the ids are still {u}/{g}: this namespace maps no such id"),
            ),
        );
    }
    Ok(())
}

/// Become `uid`/`gid` for real (no user namespace: root hardening a
/// service). Capabilities are kept across the change, in the permitted set
/// only, so that the next step can drop them in order.
pub fn become_ids(k: &dyn Kernel, uid: u32, gid: u32) -> Result<(), Failure> {
    k.prctl(libc::PR_SET_KEEPCAPS, 1, 0)
        .call("prctl(PR_SET_KEEPCAPS, 1)")?;
    // A joined user namespace may deny setgroups: the process then keeps
    // the groups it has (none, for a root caller: dropped before the join).
    match k.setgroups(&[gid]) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
        Err(e) => return Err(e).call_with(|| format!("setgroups([{gid}])")),
    }
    k.setresgid(gid).call_with(|| format!("setresgid({gid})"))?;
    k.setresuid(uid).call_with(|| format!("setresuid({uid})"))?;
    k.prctl(libc::PR_SET_KEEPCAPS, 0, 0)
        .call("prctl(PR_SET_KEEPCAPS, 0)")?;
    Ok(())
}
