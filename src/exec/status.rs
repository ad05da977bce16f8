//! `sandbox run --status-fd N`: JSON lines for a supervisor (systemd, a
//! desktop shell, a test harness) on a descriptor the caller gave, so that
//! "the sandbox could not be built" is told apart from "the app failed"
//! without reading standard error. The schema is in docs/cli.md.
//!
//! Only the launcher writes it: the descriptor is close-on-exec like every
//! other of the caller's (no helper and no process of the sandbox gets it),
//! and the launcher is not dumpable, so the app cannot reach it.

use super::report::{self, StepError};
use crate::plan::{NsKind, Plan};
use serde_json::{Value, json};
use std::io::Write;

/// The namespaces of process `pid`: kind, inode number.
pub fn namespaces_of(pid: i32) -> std::collections::BTreeMap<String, u64> {
    NsKind::ALL
        .into_iter()
        .filter_map(|k| {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(format!("/proc/{pid}/ns/{}", k.proc_name())).ok()?;
            Some((k.key().to_string(), m.ino()))
        })
        .collect()
}

/// The caller's status descriptor.
pub struct Stream(std::fs::File);

impl Stream {
    pub fn new(file: std::fs::File) -> Stream {
        Stream(file)
    }

    /// One event, one line, in one write (a reader never sees half of
    /// one). A reader that went away does not stop the sandbox.
    fn event(&self, v: Value) {
        let mut line = v.to_string();
        line.push('\n');
        let _ = (&self.0).write_all(line.as_bytes());
    }

    /// The child exists, its namespaces made and the launcher's steps
    /// done; what follows is `setup-failed` or `exited`.
    pub fn started(&self, child: i32, namespaces: &std::collections::BTreeMap<String, u64>) {
        self.event(json!({
            "event": "started",
            "launcher": std::process::id(),
            "child": child,
            "namespaces": namespaces,
        }));
    }

    /// The sandbox could not be built: the step (as `sandbox plan`
    /// numbers it), its origin, the errno, the call, and the message
    /// printed on standard error.
    pub fn setup_failed(&self, plan: &Plan, e: &StepError) {
        let origin = e
            .step
            .and_then(|i| plan.steps.get(i))
            .and_then(|s| s.origin.as_ref())
            .map(|o| o.to_string());
        self.event(json!({
            "event": "setup-failed",
            "stage": "setup",
            "step": e.step.map(|i| i + 1),
            "origin": origin,
            "errno": e.failure.errno,
            "error": super::failure::errno_text(e.failure.errno),
            "call": e.failure.call,
            "detail": e.failure.detail,
            "message": report::message(plan, e).trim_end(),
            "code": report::exit_code(plan, e),
        }));
    }

    /// The profile did not load or compile (its diagnostics are on
    /// standard error).
    pub fn profile_failed(&self, code: u8) {
        self.event(json!({
            "event": "setup-failed",
            "stage": "profile",
            "step": null,
            "origin": null,
            "message": "the profile has errors (see standard error)",
            "code": code,
        }));
    }

    /// A failure of the sandbox itself after setup (PID 1 ended by its own
    /// filter).
    pub fn sandbox_failed(&self, message: &str, code: u8) {
        self.event(json!({
            "event": "setup-failed",
            "stage": "init",
            "step": null,
            "origin": null,
            "message": message,
            "code": code,
        }));
    }

    /// The app ended: with `exit` its own exit code, or killed by
    /// `signal`; `code` is what `sandbox run` exits with.
    pub fn exited(&self, exit: Option<i32>, signal: Option<i32>, timed_out: bool, code: u8) {
        self.event(json!({
            "event": "exited",
            "exit": exit,
            "signal": signal,
            "timed_out": timed_out,
            "code": code,
        }));
    }
}
