//! Parent side: the child's uid and gid maps. Written directly when the
//! kernel allows it (one id, or any as root), through newuidmap/newgidmap
//! (Debian's `uidmap`) for ranges granted in /etc/subuid and /etc/subgid.

use crate::plan::IdMapEntry;
use std::io;
use std::process::Command;

fn text(map: &[IdMapEntry]) -> String {
    map.iter()
        .map(|e| format!("{} {} {}\n", e.inside, e.outside, e.count))
        .collect()
}

pub fn deny_setgroups(pid: libc::pid_t) -> io::Result<()> {
    std::fs::write(format!("/proc/{pid}/setgroups"), "deny")
}

/// Write `/proc/PID/{uid,gid}_map` (`which` is "uid" or "gid").
pub fn write_map(
    pid: libc::pid_t,
    which: &str,
    map: &[IdMapEntry],
    helper: bool,
) -> io::Result<()> {
    if !helper {
        return std::fs::write(format!("/proc/{pid}/{which}_map"), text(map));
    }
    let mut cmd = Command::new(format!("new{which}map"));
    cmd.arg(pid.to_string());
    for e in map {
        cmd.args([
            e.inside.to_string(),
            e.outside.to_string(),
            e.count.to_string(),
        ]);
    }
    let out = cmd.output().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("new{which}map: {e} (install Debian's 'uidmap' package)"),
        )
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "new{which}map: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ))
    }
}
