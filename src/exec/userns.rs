//! The sandwich: after setup, a second user namespace in which the app has
//! the ids the profile asks for, mapped onto the outer namespace's root.
//! Every mount made during setup belongs to the outer namespace, so even
//! root in the inner one cannot unmount, remount or move it.

use std::io;

/// Limit user namespaces that may still be created below the current one.
pub fn limit_user_namespaces(max: u32) -> io::Result<()> {
    std::fs::write("/proc/sys/user/max_user_namespaces", max.to_string())
}

/// Enter a new user namespace mapping `uid`/`gid` onto our current ids.
pub fn enter_inner(uid: u32, gid: u32) -> io::Result<()> {
    let (outer_uid, outer_gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)?;
    std::fs::write("/proc/self/uid_map", format!("{uid} {outer_uid} 1\n"))?;
    std::fs::write("/proc/self/setgroups", "deny")?;
    std::fs::write("/proc/self/gid_map", format!("{gid} {outer_gid} 1\n"))?;
    Ok(())
}
