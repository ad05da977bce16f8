//! The sandwich: after setup, a second user namespace in which the app has
//! the ids the profile asks for, mapped onto the outer namespace's root.
//! Every mount made during setup belongs to the outer namespace, so even
//! root in the inner one cannot unmount, remount or move it.

use std::io;

/// The user-namespace limit of the namespace we are in, opened while the
/// host's /proc is still reachable and writable (the sandbox's own /proc
/// has /proc/sys read-only). The file writes to the namespace of whoever
/// opened it, so it can be written later, after the mounts.
pub fn open_user_namespace_limit() -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/sys/user/max_user_namespaces")
}

/// Allow at most `max` more user namespaces below the current one.
pub fn limit_user_namespaces(limit: &mut std::fs::File, max: u32) -> io::Result<()> {
    use std::io::Write;
    limit.write_all(max.to_string().as_bytes())
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
