//! What the app is given of a host path, read from the plan's steps as the
//! executor would apply them: the mounts that show it (or part of it), in
//! order, less what a later mount covers, read-only where a bind or a
//! later remount says so, and within the Landlock rules when there are
//! any.

use crate::host::HostFacts;
use crate::plan::{Action, Plan};
use std::path::Path;

/// How the app reaches one host path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sight {
    pub readable: bool,
    pub writable: bool,
    /// Device nodes there can be opened (a dev-bind).
    pub devices: bool,
    /// All of it is shown, not only a file or folder inside it.
    pub whole: bool,
    /// The step that shows it.
    pub step: usize,
}

/// What Landlock is to be asked about a path.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Files: Landlock's path rules apply.
    Files,
    /// A socket, which Landlock's path rules do not govern: connecting
    /// to it needs only that it is there.
    Socket,
}

/// Whether `inner` is `outer` or below it.
pub fn is_under(inner: &str, outer: &str) -> bool {
    Path::new(inner).starts_with(outer)
}

/// Where `path` really is, links resolved (also for a path that does not
/// exist yet: its nearest existing folder's real path, then the rest).
pub fn resolved(host: &dyn HostFacts, path: &str) -> String {
    let mut rest = vec![];
    let mut at = Path::new(path);
    loop {
        if let Some(real) = host.real_path(&at.to_string_lossy()) {
            let mut p = std::path::PathBuf::from(real);
            p.extend(rest.iter().rev());
            return p.to_string_lossy().into_owned();
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return path.to_string(),
        }
    }
}

/// Where a mount of host `src` at `dst` shows host `place`, and whether
/// all of it (else a part of it: `src` is inside `place`).
fn inside(src: &str, dst: &str, place: &str) -> Option<(String, bool)> {
    if let Ok(rel) = Path::new(place).strip_prefix(src) {
        let at = Path::new(dst).join(rel).to_string_lossy().into_owned();
        return Some((at, true));
    }
    is_under(src, place).then(|| (dst.to_string(), false))
}

/// One mount of a host path.
struct Shown<'a> {
    step: usize,
    src: &'a str,
    dst: &'a str,
    readonly: bool,
    devices: bool,
}

/// The mounts of host paths in `plan`; an overlay shows its lower layers
/// read-only, and its upper folder, where what the app writes is kept,
/// writable.
fn mounts(plan: &Plan) -> Vec<Shown<'_>> {
    let mut v = vec![];
    for (step, s) in plan.steps.iter().enumerate() {
        match &s.action {
            Action::Bind {
                src,
                dst,
                readonly,
                devices,
                ..
            } => v.push(Shown {
                step,
                src,
                dst,
                readonly: *readonly,
                devices: *devices,
            }),
            Action::RootBind { src, .. } => v.push(Shown {
                step,
                src,
                dst: "/",
                readonly: false,
                devices: false,
            }),
            Action::Overlay {
                dst,
                lower,
                upper,
                readonly,
                ..
            } => {
                for l in lower {
                    v.push(Shown {
                        step,
                        src: l,
                        dst,
                        readonly: true,
                        devices: false,
                    });
                }
                if let Some(u) = upper {
                    v.push(Shown {
                        step,
                        src: u,
                        dst,
                        readonly: *readonly,
                        devices: false,
                    });
                }
            }
            _ => {}
        }
    }
    v
}

/// The destination of a step that mounts something over what was there.
fn covers(a: &Action) -> Option<&str> {
    match a {
        Action::Bind { dst, .. }
        | Action::Tmpfs { dst, .. }
        | Action::Proc { dst, .. }
        | Action::Dev { dst, .. }
        | Action::Mqueue { dst }
        | Action::File { dst, .. }
        | Action::Hide { dst, .. }
        | Action::Overlay { dst, .. }
        | Action::DbusSocket { dst } => Some(dst),
        Action::ResolvConf { .. } => Some("/etc/resolv.conf"),
        _ => None,
    }
}

/// How the app reaches host `place`, if it does.
pub fn sight(plan: &Plan, host: &dyn HostFacts, place: &str, access: Access) -> Option<Sight> {
    let place = resolved(host, place);
    let landlock = plan.steps.iter().find_map(|s| match &s.action {
        Action::Landlock {
            read, write, exec, ..
        } => Some((read, write, exec)),
        _ => None,
    });
    let root_ro = plan
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::RemountRootRo));
    let mut best: Option<Sight> = None;
    for Shown {
        step: i,
        src,
        dst,
        readonly,
        devices,
    } in mounts(plan)
    {
        let Some((at, whole)) = inside(&resolved(host, src), dst, &place) else {
            continue;
        };
        let later = &plan.steps[i + 1..];
        if later
            .iter()
            .filter_map(|s| covers(&s.action))
            .any(|d| is_under(&at, d))
        {
            continue;
        }
        let remounted = later.iter().any(|s| match &s.action {
            Action::RemountRo { dst } => is_under(&at, dst),
            _ => false,
        });
        let root = matches!(plan.steps[i].action, Action::RootBind { .. });
        let mut sight = Sight {
            readable: true,
            writable: !(readonly || remounted || (root && root_ro)),
            devices,
            whole,
            step: i,
        };
        if let (Access::Files, Some((read, write, exec))) = (access, landlock) {
            let by = |rules: &Vec<String>| rules.iter().any(|r| is_under(&at, r));
            sight.writable &= by(write);
            sight.readable = by(read) || by(write) || by(exec);
        }
        if !sight.readable {
            continue;
        }
        best = match best {
            Some(b)
                if (b.whole, b.writable, b.devices)
                    >= (sight.whole, sight.writable, sight.devices) =>
            {
                Some(b)
            }
            _ => Some(sight),
        };
    }
    best
}
