//! Parent side: the child's uid and gid maps. Written directly when the
//! kernel allows it (one id, or any as root), through newuidmap/newgidmap
//! (Debian's `uidmap`) for ranges granted in /etc/subuid and /etc/subgid.

use super::failure::{Call, Cause, Failure};
use crate::plan::IdMapEntry;
use std::process::Command;

fn text(map: &[IdMapEntry]) -> String {
    map.iter()
        .map(|e| format!("{} {} {}\n", e.inside, e.outside, e.count))
        .collect()
}

pub fn deny_setgroups(pid: libc::pid_t) -> Result<(), Failure> {
    let path = format!("/proc/{pid}/setgroups");
    std::fs::write(&path, "deny").call_with(|| format!("write {path} \"deny\""))
}

/// Write `/proc/PID/{uid,gid}_map` (`which` is "uid" or "gid").
pub fn write_map(
    pid: libc::pid_t,
    which: &str,
    map: &[IdMapEntry],
    helper: bool,
) -> Result<(), Failure> {
    if !helper {
        let path = format!("/proc/{pid}/{which}_map");
        let text = text(map);
        return std::fs::write(&path, &text).call_with(|| format!("write {path} {text:?}"));
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
    let call: String = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            return Err(e
                .failure(call)
                .with_detail("install Debian's 'uidmap' package"));
        }
    };
    if out.status.success() {
        return Ok(());
    }
    // newuidmap exits 1 whatever went wrong, and says why only in words:
    // most often the ranges are not granted to the caller, which is what
    // EPERM says; its own words follow.
    Err(Failure::new(libc::EPERM, call)
        .with_detail(String::from_utf8_lossy(&out.stderr).trim().to_string()))
}
