//! Capabilities: every set emptied except what the profile keeps. The
//! bounding set goes first (it needs CAP_SETPCAP, which goes last), then
//! ambient, then effective/permitted/inheritable; kept capabilities are
//! raised in the ambient set so that they survive exec for a non-root app.

use super::sys;
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
    // The kernel's last capability: probe the bounding set until EINVAL.
    let mut cap = 0;
    while prctl(libc::PR_CAPBSET_READ, cap, 0).is_ok() {
        if mask & (1u64 << cap) == 0 {
            prctl(libc::PR_CAPBSET_DROP, cap, 0)?;
        }
        cap += 1;
    }
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )?;
    sys::capset(mask)?;
    for c in keep {
        prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            *c as libc::c_ulong,
        )?;
    }
    Ok(())
}
