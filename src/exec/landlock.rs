//! Landlock: filesystem, TCP port and IPC-scope rules, applied after the
//! pivot (rules open their paths) and before seccomp.
//!
//! `compat = "hard"` refuses to run unless the kernel enforces every right
//! asked for; `"best-effort"` applies what the kernel supports and says on
//! stderr what it could not.

use super::failure::Failure;
use crate::plan::{Compat, Scope};
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
};
use std::os::fd::OwnedFd;

/// The newest ABI this build knows; the kernel may offer less.
const ABI_WANTED: ABI = ABI::V6;
/// Its number, for what tells the user how much a kernel enforces
/// (`sandbox audit`).
pub const ABI_NEWEST: u32 = ABI_WANTED as u32;

/// The crate's error: the OS error of the call it made, where it made one;
/// else its own refusal, which is of a right this kernel lacks (a hard
/// requirement unmet) or of an empty set of rights: ENOTSUP, its text kept.
fn err(e: impl std::error::Error + 'static, what: &str) -> Failure {
    Failure::library(&e, libc::ENOTSUP, what)
}

/// What the app's Landlock domain is made of: the step's rules and, when
/// they allow the IPC namespace's message queues, that file system's root
/// (opened by the MqueueRights step, before the sandwich).
pub struct Rules<'p> {
    pub step: &'p super::steps::Landlock<'p>,
    pub mqueue: Option<OwnedFd>,
}

impl Rules<'_> {
    /// One line for a trace.
    pub fn summary(&self) -> String {
        let s = self.step;
        let scopes: Vec<&str> = s.scope.iter().map(|c| c.name()).collect();
        format!(
            "read {:?}, write {:?}, exec {:?}, tcp_bind {:?}, tcp_connect {:?}, scope {scopes:?}, mqueue {}, {:?}",
            s.read, s.write, s.exec, s.tcp_bind, s.tcp_connect, s.mqueue, s.compat
        )
    }
}

/// Create the ruleset, add the rules, and restrict this process (through
/// the `landlock` crate); says on stderr what best-effort left out.
pub fn restrict_self(rules: Rules) -> Result<(), Failure> {
    let super::steps::Landlock {
        mqueue: allow_mqueue,
        read,
        write,
        exec,
        tcp_bind,
        tcp_connect,
        scope,
        compat,
    } = rules.step;
    let mqueue = rules.mqueue;
    let level = match compat {
        Compat::Hard => CompatLevel::HardRequirement,
        Compat::BestEffort => CompatLevel::BestEffort,
    };
    let read_access = AccessFs::from_read(ABI_WANTED) & !AccessFs::Execute;
    let mut ruleset = Ruleset::default().set_compatibility(level);
    ruleset = ruleset
        .handle_access(AccessFs::from_all(ABI_WANTED))
        .map_err(|e| err(e, "landlock handle_access (filesystem rights)"))?;
    if !tcp_bind.is_empty() {
        ruleset = ruleset
            .handle_access(AccessNet::BindTcp)
            .map_err(|e| err(e, "landlock handle_access tcp_bind"))?;
    }
    if !tcp_connect.is_empty() {
        ruleset = ruleset
            .handle_access(AccessNet::ConnectTcp)
            .map_err(|e| err(e, "landlock handle_access tcp_connect"))?;
    }
    for s in scope.iter() {
        let sc = match s {
            Scope::Signal => landlock::Scope::Signal,
            Scope::AbstractUnixSocket => landlock::Scope::AbstractUnixSocket,
        };
        ruleset = ruleset
            .scope(sc)
            .map_err(|e| err(e, &format!("landlock scope {s}")))?;
    }
    let mut created = ruleset
        .create()
        .map_err(|e| err(e, "landlock_create_ruleset"))?;
    let rule_sets: [(&[String], landlock::BitFlags<AccessFs>); 3] = [
        (read, read_access),
        (exec, read_access | AccessFs::Execute),
        (write, AccessFs::from_all(ABI_WANTED)),
    ];
    for (paths, access) in rule_sets {
        for p in paths {
            // Directory rights (make, remove, read a listing) mean nothing on
            // a file, and asking for them would weaken "fully enforced".
            let access = match std::fs::metadata(p) {
                Ok(m) if !m.is_dir() => access & AccessFs::from_file(ABI_WANTED),
                _ => access,
            };
            let fd = PathFd::new(p).map_err(|e| err(e, &format!("open {p}")))?;
            created = created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|e| err(e, &format!("landlock_add_rule {p}")))?;
        }
    }
    // The queues mq_open makes and opens live in a file system no path
    // reaches: the rule is on its root, opened before the sandwich.
    if *allow_mqueue {
        let fd =
            mqueue.ok_or_else(|| Failure::new(libc::EBADF, "the message-queue file system"))?;
        created = created
            .add_rule(PathBeneath::new(fd, AccessFs::from_all(ABI_WANTED)))
            .map_err(|e| err(e, "landlock_add_rule (the message-queue file system)"))?;
    }
    for port in tcp_bind.iter() {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::BindTcp))
            .map_err(|e| err(e, &format!("landlock_add_rule tcp_bind {port}")))?;
    }
    for port in tcp_connect.iter() {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
            .map_err(|e| err(e, &format!("landlock_add_rule tcp_connect {port}")))?;
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
