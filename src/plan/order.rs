//! The ordering rules a plan must respect (docs/architecture.md). The
//! compiler builds steps phase by phase; this module states the rules as
//! checks, run on every compiled plan in debug builds and pinned by tests.

use super::{Action, Phase, Plan};
use crate::profile::NsKind;

fn index(plan: &Plan, pred: impl Fn(&Action) -> bool) -> Option<usize> {
    plan.steps.iter().position(|s| pred(&s.action))
}

fn last_index(plan: &Plan, pred: impl Fn(&Action) -> bool) -> Option<usize> {
    plan.steps.iter().rposition(|s| pred(&s.action))
}

fn is_mount(a: &Action) -> bool {
    matches!(
        a,
        Action::RootTmpfs
            | Action::RootBind { .. }
            | Action::Bind { .. }
            | Action::Tmpfs { .. }
            | Action::Proc { .. }
            | Action::Dev { .. }
            | Action::Mqueue { .. }
            | Action::Symlink { .. }
            | Action::Dir { .. }
            | Action::File { .. }
            | Action::RemountRo { .. }
            | Action::Overlay { .. }
            | Action::RemountRootRo
    )
}

/// `Ok` or the first rule the plan breaks.
pub fn check_order(plan: &Plan) -> Result<(), String> {
    let before = |a: Option<usize>, b: Option<usize>, rule: &str| match (a, b) {
        (Some(a), Some(b)) if a >= b => Err(rule.to_string()),
        _ => Ok(()),
    };
    // Phases never go back.
    for w in plan.steps.windows(2) {
        if w[1].phase < w[0].phase {
            return Err(format!(
                "{:?} step after a {:?} step",
                w[1].phase, w[0].phase
            ));
        }
    }
    // 2. one spawn, first.
    if index(plan, |a| matches!(a, Action::Spawn { .. })) != Some(0) {
        return Err("the spawn must be the first step".into());
    }
    // 3. setgroups deny before gid_map; maps before the child is released.
    let setgroups = index(plan, |a| matches!(a, Action::SetgroupsDeny));
    let gid_map = index(plan, |a| matches!(a, Action::GidMap { .. }));
    let uid_map = index(plan, |a| matches!(a, Action::UidMap { .. }));
    let release = index(plan, |a| matches!(a, Action::Release));
    before(
        setgroups,
        gid_map,
        "setgroups must be denied before gid_map is written",
    )?;
    before(
        uid_map,
        release,
        "uid_map must be written before the child is released",
    )?;
    before(
        gid_map,
        release,
        "gid_map must be written before the child is released",
    )?;
    if release.is_none() {
        return Err("the child is never released".into());
    }
    // 4. / private before the first mount; every mount before the pivot;
    // /proc only with a new pid namespace.
    let private = index(plan, |a| matches!(a, Action::MakeRootPrivate));
    let first_mount = index(plan, is_mount);
    let last_mount = last_index(plan, is_mount);
    let pivot = index(plan, |a| matches!(a, Action::PivotRoot));
    if first_mount.is_some() && private.is_none() {
        return Err("mounts without making / private first".into());
    }
    before(
        private,
        first_mount,
        "/ must be made private before the first mount",
    )?;
    before(last_mount, pivot, "every mount must come before pivot_root")?;
    if first_mount.is_some() && pivot.is_none() {
        return Err("mounts but no pivot_root".into());
    }
    let root_ro = index(plan, |a| matches!(a, Action::RemountRootRo));
    if root_ro.is_some() && root_ro != last_mount {
        return Err("/ must be made read-only after every other mount".into());
    }
    if index(plan, |a| matches!(a, Action::Proc { .. })).is_some()
        && !plan.new_namespaces().contains(&NsKind::Pid)
    {
        return Err("/proc mounted without a new pid namespace".into());
    }
    // 6. capabilities dropped after the sandwich (the last id change), and
    // die-with-parent after both (a uid change clears PDEATHSIG).
    let sandwich = index(plan, |a| matches!(a, Action::Sandwich { .. }));
    let drop_caps = index(plan, |a| matches!(a, Action::DropCapabilities { .. }));
    let pdeathsig = index(plan, |a| matches!(a, Action::DieWithParent));
    before(
        sandwich,
        drop_caps,
        "capabilities must be dropped after the sandwich",
    )?;
    before(
        sandwich,
        pdeathsig,
        "die-with-parent must be set after the last id change",
    )?;
    // 7/8. no_new_privs before landlock and seccomp; landlock after the pivot.
    let nnp = index(plan, |a| matches!(a, Action::NoNewPrivs));
    let landlock = index(plan, |a| matches!(a, Action::Landlock { .. }));
    let seccomp = index(plan, |a| matches!(a, Action::Seccomp { .. }));
    if nnp.is_none() {
        return Err("no_new_privs is always set".into());
    }
    before(nnp, landlock, "no_new_privs must be set before landlock")?;
    before(nnp, seccomp, "no_new_privs must be set before seccomp")?;
    before(pivot, landlock, "landlock must come after pivot_root")?;
    // 9/10. the init forks before the filter; seccomp is last before exec.
    let init = index(plan, |a| matches!(a, Action::Init));
    before(init, seccomp, "the init must fork before seccomp is loaded")?;
    let exec = plan.steps.len().checked_sub(1);
    if !matches!(
        plan.steps.last().map(|s| &s.action),
        Some(Action::Exec { .. })
    ) {
        return Err("the last step must be exec".into());
    }
    if let Some(s) = seccomp
        && Some(s + 1) != exec
    {
        return Err("seccomp must be the step right before exec".into());
    }
    if plan
        .steps
        .iter()
        .filter(|s| s.phase == Phase::Spawn)
        .count()
        != 1
    {
        return Err("exactly one step spawns the child".into());
    }
    Ok(())
}
