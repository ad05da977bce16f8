//! The time namespace made for the app: monotonic and boottime clocks
//! moved by the plan's offsets, for the children created from now on.

use super::failure::{Call, Failure};
use super::kernel::Kernel;
use super::userns::{own_proc_dir, write_at};
use std::os::fd::{AsFd, BorrowedFd};

/// A new time namespace for the children created from now on, with the
/// monotonic and boottime clocks moved by the given offsets (written
/// through the host's /proc, `proc`).
pub fn new_time_namespace(
    k: &dyn Kernel,
    monotonic_ms: i64,
    boottime_ms: i64,
    proc: BorrowedFd,
) -> Result<(), Failure> {
    let me = own_proc_dir(k, proc)?;
    k.unshare(nix::sched::CloneFlags::from_bits_retain(
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
    write_at(k, me.as_fd(), "timens_offsets", &offsets)
}
