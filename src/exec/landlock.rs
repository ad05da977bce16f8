//! Landlock: filesystem, TCP port and IPC-scope rules, applied after the
//! pivot (rules open their paths) and before seccomp.
//!
//! `compat = "hard"` refuses to run unless the kernel enforces every right
//! asked for; `"best-effort"` applies what the kernel supports and says on
//! stderr what it could not.

use crate::plan::{Action, Compat, Scope};
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
};
use std::io;
use std::os::fd::OwnedFd;

/// The newest ABI this build knows; the kernel may offer less.
const ABI_WANTED: ABI = ABI::V6;

fn err(e: impl std::fmt::Display, what: &str) -> (io::Error, String) {
    (io::Error::other(e.to_string()), what.to_string())
}

pub fn apply(action: &Action, mqueue: Option<OwnedFd>) -> Result<(), (io::Error, String)> {
    let Action::Landlock {
        mqueue: allow_mqueue,
        read,
        write,
        exec,
        tcp_bind,
        tcp_connect,
        scope,
        compat,
    } = action
    else {
        return Ok(());
    };
    let level = match compat {
        Compat::Hard => CompatLevel::HardRequirement,
        Compat::BestEffort => CompatLevel::BestEffort,
    };
    let read_access = AccessFs::from_read(ABI_WANTED) & !AccessFs::Execute;
    let mut ruleset = Ruleset::default().set_compatibility(level);
    ruleset = ruleset
        .handle_access(AccessFs::from_all(ABI_WANTED))
        .map_err(|e| err(e, "landlock filesystem rights"))?;
    if !tcp_bind.is_empty() {
        ruleset = ruleset
            .handle_access(AccessNet::BindTcp)
            .map_err(|e| err(e, "landlock tcp_bind"))?;
    }
    if !tcp_connect.is_empty() {
        ruleset = ruleset
            .handle_access(AccessNet::ConnectTcp)
            .map_err(|e| err(e, "landlock tcp_connect"))?;
    }
    for s in scope {
        let sc = match s {
            Scope::Signal => landlock::Scope::Signal,
            Scope::AbstractUnixSocket => landlock::Scope::AbstractUnixSocket,
        };
        ruleset = ruleset
            .scope(sc)
            .map_err(|e| err(e, &format!("landlock scope {s}")))?;
    }
    let mut created = ruleset.create().map_err(|e| err(e, "landlock ruleset"))?;
    let rules: [(&Vec<String>, landlock::BitFlags<AccessFs>); 3] = [
        (read, read_access),
        (exec, read_access | AccessFs::Execute),
        (write, AccessFs::from_all(ABI_WANTED)),
    ];
    for (paths, access) in rules {
        for p in paths {
            // Directory rights (make, remove, read a listing) mean nothing on
            // a file, and asking for them would weaken "fully enforced".
            let access = match std::fs::metadata(p) {
                Ok(m) if !m.is_dir() => access & AccessFs::from_file(ABI_WANTED),
                _ => access,
            };
            let fd = PathFd::new(p).map_err(|e| err(e, p))?;
            created = created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|e| err(e, p))?;
        }
    }
    // The queues mq_open makes and opens live in a file system no path
    // reaches: the rule is on its root, opened before the sandwich.
    if *allow_mqueue {
        let fd = mqueue.ok_or_else(|| {
            (
                io::Error::from_raw_os_error(libc::EBADF),
                "the message-queue file system".to_string(),
            )
        })?;
        created = created
            .add_rule(PathBeneath::new(fd, AccessFs::from_all(ABI_WANTED)))
            .map_err(|e| err(e, "the message-queue file system"))?;
    }
    for port in tcp_bind {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::BindTcp))
            .map_err(|e| err(e, "tcp_bind"))?;
    }
    for port in tcp_connect {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
            .map_err(|e| err(e, "tcp_connect"))?;
    }
    let status = created
        .restrict_self()
        .map_err(|e| err(e, "landlock_restrict_self"))?;
    match status.ruleset {
        RulesetStatus::FullyEnforced => {}
        RulesetStatus::PartiallyEnforced => {
            eprintln!(
                "sandbox: warning: landlock is only partly enforced: this kernel lacks some of the rights asked for (compat = \"best-effort\")"
            );
        }
        RulesetStatus::NotEnforced => {
            eprintln!(
                "sandbox: warning: landlock is not enforced: this kernel does not support it (compat = \"best-effort\")"
            );
        }
    }
    Ok(())
}
