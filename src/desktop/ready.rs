//! `sandbox desktop-entry`'s checks before it writes a launcher: a launcher
//! for a profile that is wrong, for an app that is not installed, or for a
//! profile whose plan fails here would not start. What only running needs
//! (a helper, a delegated cgroup) is needed to run the app, not to write its
//! launcher: that is a warning here.

use crate::diag::{Diagnostic, Readiness, Severity};
use crate::host::HostFacts;
use crate::plan::{self, Invocation};
use crate::profile::Loaded;

/// What the checks found.
pub struct Verdict {
    /// The diagnostics to show, in order.
    pub shown: Vec<Diagnostic>,
    /// Whether the launcher may be written (or removed).
    pub go: bool,
    /// Said last when nothing is written for a reason no diagnostic gives.
    pub why_not: Option<&'static str>,
}

/// Check `loaded` before its launcher is written (or, with `remove`,
/// removed: then only the profile itself must be valid). `caller_path`:
/// the caller's PATH, where an app is looked for.
pub fn check(
    loaded: &mut Loaded,
    remove: bool,
    host: &dyn HostFacts,
    caller_path: Option<&str>,
) -> Verdict {
    if !remove {
        for d in loaded.diags.iter_mut() {
            if d.is_error() && d.readiness == Some(Readiness::Setup) {
                d.severity = Severity::Warning;
                d.hint = Some(format!(
                    "{}; the launcher is written, and runs once that is done",
                    d.hint.take().unwrap_or_default()
                ));
            }
        }
    }
    let mut v = Verdict {
        shown: loaded.diags.clone(),
        go: !loaded.has_errors(),
        why_not: None,
    };
    if !v.go || remove {
        return v;
    }
    match plan::compile(loaded, host, &Invocation::checking(loaded)) {
        Ok(p) => {
            if loaded.profile.command.is_some()
                && let Some(d) = plan::app::not_installed(loaded, &p, host, caller_path)
            {
                v.shown.push(d);
                v.why_not = Some("sandbox: no launcher written: the app is not there to start");
                v.go = false;
            }
        }
        Err(diags) => {
            v.shown.extend(diags);
            v.go = false;
        }
    }
    v
}
