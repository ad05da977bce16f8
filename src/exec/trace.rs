//! `sandbox plan --calls` and the golden call traces: the system calls a
//! plan makes, in order, with their arguments, written down by the
//! recording kernel (record.rs) while the launcher's id-map steps and the
//! child's steps run as they would, the same code on a kernel that is not
//! there. Nothing is created, mounted or entered, so it needs no rights.
//!
//! The launcher's helpers (pasta, veth, xdg-dbus-proxy, cgroups, kept
//! namespaces, host folders, joins) are named, not traced: their calls go
//! to the host, not to the sandbox's namespaces.

use super::Caller;
use super::child::{self, FromLauncher};
use super::record::{EXEC_RECORDED, Recorder};
use super::steps::{self, Before, Indexed, Parent};
use super::{caps, idmap, report};
use crate::plan::{Plan, render};

/// The pid the trace gives the child.
const CHILD_PID: i32 = 4242;

/// The calls `plan` makes, one per line.
pub fn trace(plan: &Plan, caller: &Caller) -> String {
    let steps = steps::split(plan);
    let rec = Recorder::new("launcher");
    let describe = |i: usize| render::describe(&plan.steps[i].action);
    for Indexed { step, op } in &steps.before {
        match op {
            Before::JoinedFsIds { uid, gid } => {
                if let Err(f) = caps::filesystem_ids(&rec, *uid, *gid) {
                    rec.note(format!("step {} failed: {f:?}", step + 1));
                }
            }
            Before::Join { .. } | Before::HostDirs { .. } => rec.note(format!(
                "(step {}, not traced: {})",
                step + 1,
                describe(*step)
            )),
        }
    }
    let flags: Vec<&str> = steps.spawn.op.iter().map(|k| k.key()).collect();
    rec.note(format!(
        "clone(new namespaces: {}) = {CHILD_PID}",
        flags.join(" ")
    ));
    for Indexed { step, op } in &steps.parent {
        let r = match op {
            Parent::SetgroupsDeny => idmap::deny_setgroups(&rec, CHILD_PID),
            Parent::IdMap { ids, map, helper } => {
                idmap::write_map(&rec, CHILD_PID, *ids, map, *helper)
            }
            Parent::Release => {
                rec.note("write(go, \"g\")");
                Ok(())
            }
            Parent::StateEntry { enter } => {
                rec.note("(launcher, on the host) write ID.json in the state folder: O_CREAT|O_EXCL|O_NOFOLLOW, then rename");
                if *enter {
                    rec.note("(launcher, on the host) socket(AF_UNIX, SOCK_SEQPACKET), bind ID.sock in the state folder, listen");
                }
                Ok(())
            }
            Parent::KeepNamespace { .. }
            | Parent::Cgroup(_)
            | Parent::Timeout { .. }
            | Parent::Network(_)
            | Parent::DbusProxy(_) => {
                rec.note(format!(
                    "(step {}, not traced: {})",
                    step + 1,
                    describe(*step)
                ));
                Ok(())
            }
        };
        if let Err(f) = r {
            rec.note(format!("step {} failed: {f:?}", step + 1));
        }
    }
    // What the child reads of its own: the gid map the launcher wrote.
    let gid_map = plan.steps.iter().find_map(|s| match &s.action {
        crate::plan::Action::GidMap { map, .. } => Some(
            map.iter()
                .map(|e| format!("{:>10} {:>10} {:>10}\n", e.inside, e.outside, e.count))
                .collect::<String>(),
        ),
        _ => None,
    });
    rec.set_file(
        "/proc/self/gid_map",
        gid_map
            .unwrap_or_else(|| "         0          0 4294967295\n".into())
            .as_bytes(),
    );
    let Ok((go, _go_w)) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) else {
        return "sandbox: error: no pipe for the trace\n".into();
    };
    let Ok((report_r, report_w)) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) else {
        return "sandbox: error: no pipe for the trace\n".into();
    };
    let pipes = FromLauncher {
        go,
        report: report_w,
        enter: match steps.shape.enter {
            true => rec.enter_socket().ok(),
            false => None,
        },
        denials: match steps.shape.trace {
            true => rec.enter_socket().ok(),
            false => None,
        },
        dbus_socket: steps
            .shape
            .dbus_proxy
            .map(|_| "/run/user/UID/sandbox-dbus/bus".into()),
        caller,
    };
    let end = rec.as_process(format!("pid {CHILD_PID}"), || {
        child::run_on(&rec, plan, &steps, &pipes)
    });
    let mut failures = vec![];
    if end.failure.errno != EXEC_RECORDED {
        failures.push(end);
    }
    // A process of the sandbox that failed (the app's, after the init's
    // clone) reported it, as it would to the launcher.
    super::set_nonblocking(&report_r);
    if let Some(e) = report::receive(std::os::fd::AsFd::as_fd(&report_r))
        && e.failure.errno != EXEC_RECORDED
    {
        failures.push(e);
    }
    let mut text = rec.text();
    for e in failures {
        text.push_str(&report::message(plan, &e));
    }
    text
}
