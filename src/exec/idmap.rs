//! Parent side: the child's uid and gid maps. Written directly when the
//! kernel allows it (one id, or any as root), through newuidmap/newgidmap
//! (Debian's `uidmap`) for ranges granted in /etc/subuid and /etc/subgid.

use super::failure::{Cause, Failure};
use super::kernel::Kernel;
use super::steps::Ids;
use crate::plan::IdMapEntry;

/// A uid_map or gid_map's text: one `INSIDE OUTSIDE COUNT` line an entry.
pub fn text<'a>(map: impl IntoIterator<Item = &'a IdMapEntry>) -> String {
    map.into_iter()
        .map(|e| format!("{} {} {}\n", e.inside, e.outside, e.count))
        .collect()
}

/// Write `text` to the child's /proc file `path` in one write.
fn write_proc(k: &dyn Kernel, path: &str, text: &str) -> Result<(), Failure> {
    super::userns::write_file(k, None, path, path, text)
}

pub fn deny_setgroups(k: &dyn Kernel, pid: libc::pid_t) -> Result<(), Failure> {
    write_proc(k, &format!("/proc/{pid}/setgroups"), "deny")
}

/// Write `/proc/PID/{uid,gid}_map`, or have newuidmap/newgidmap do it.
pub fn write_map(
    k: &dyn Kernel,
    pid: libc::pid_t,
    ids: Ids,
    map: &[IdMapEntry],
    helper: bool,
) -> Result<(), Failure> {
    let which = ids.name();
    if !helper {
        return write_proc(k, &format!("/proc/{pid}/{which}_map"), &text(map));
    }
    let mut argv = vec![format!("new{which}map"), pid.to_string()];
    for e in map {
        argv.extend([
            e.inside.to_string(),
            e.outside.to_string(),
            e.count.to_string(),
        ]);
    }
    let call = argv.join(" ");
    let (ok, stderr) = match k.run_program(&argv) {
        Ok(out) => out,
        Err(e) => {
            return Err(e
                .failure(call)
                .with_detail("install Debian's 'uidmap' package"));
        }
    };
    if ok {
        return Ok(());
    }
    // newuidmap exits 1 whatever went wrong, and says why only in words:
    // most often the ranges are not granted to the caller, which is what
    // EPERM says; its own words follow.
    Err(Failure::new(libc::EPERM, call)
        .with_detail(String::from_utf8_lossy(&stderr).trim().to_string()))
}
