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
            | Action::ResolvConf { .. }
            | Action::DbusSocket { .. }
            | Action::RemountRo { .. }
            | Action::Hide { .. }
            | Action::Pin { .. }
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
    // 2. one spawn, first after the joins and the launcher's preparation
    // of the mounts (which a joined mount namespace changes).
    let joins = plan
        .steps
        .iter()
        .take_while(|s| {
            matches!(
                s.action,
                Action::JoinNamespace { .. } | Action::JoinedFsIds { .. }
            )
        })
        .count();
    let host_dirs = plan.steps[joins..]
        .iter()
        .take_while(|s| matches!(s.action, Action::HostDirs { .. }))
        .count();
    if last_index(plan, |a| matches!(a, Action::HostDirs { .. })) >= Some(joins + host_dirs) {
        return Err("host folders are made before the spawn".into());
    }
    if index(plan, |a| matches!(a, Action::Spawn { .. })) != Some(joins + host_dirs) {
        return Err("the spawn must be the first step after the joins and the host folders".into());
    }
    // A child that starts as host root gives it up once it has opened the
    // host side of its mounts, before it makes anything.
    if let Some(d) = index(plan, |a| matches!(a, Action::DropHostRoot { .. })) {
        let allowed_before = |a: &Action| matches!(a, Action::NetSysctls | Action::MakeRootPrivate);
        if plan.steps[..d]
            .iter()
            .any(|s| s.phase > Phase::Parent && !allowed_before(&s.action))
        {
            return Err("the child must drop host root before it makes anything".into());
        }
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
    // 3b. The network is attached by the launcher once pasta can join the
    // mapped user namespace, and before the child (which configures the
    // interface) goes on.
    let attach = index(plan, |a| {
        matches!(
            a,
            Action::Pasta { .. } | Action::Veth { .. } | Action::Macvlan { .. }
        )
    });
    before(uid_map, attach, "the network is attached after the id maps")?;
    before(gid_map, attach, "the network is attached after the id maps")?;
    before(
        attach,
        release,
        "the network is attached before the child is released",
    )?;
    // A kept namespace is bound while the child still waits: nothing of
    // the sandbox has run in it yet.
    let kept = last_index(plan, |a| matches!(a, Action::KeepNamespace { .. }));
    before(
        kept,
        release,
        "namespaces are kept before the child is released",
    )?;
    let proxy = index(plan, |a| matches!(a, Action::DbusProxy { .. }));
    let socket = index(plan, |a| matches!(a, Action::DbusSocket { .. }));
    before(
        proxy,
        release,
        "the D-Bus proxy is started before the child is released",
    )?;
    if socket.is_some() != proxy.is_some() {
        return Err("a D-Bus socket without its proxy, or the reverse".into());
    }
    let configure = index(plan, |a| matches!(a, Action::ConfigureInterface { .. }));
    if configure.is_some() && attach.is_none() {
        return Err("an interface configured but none attached".into());
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
    // die-with-parent after both (a uid change clears PDEATHSIG), unless
    // PID 1 holds it: PID 1 changes no ids, and its death ends the sandbox.
    // 9. PID 1 starts the app's process before the sandwich, so that it
    // stays in the outer user namespace, with the session and the death
    // signal set; the app's process makes PID 1 non-dumpable before exec.
    let init = index(plan, |a| matches!(a, Action::Init));
    let sandwich = index(plan, |a| matches!(a, Action::Sandwich { .. }));
    let drop_caps = index(plan, |a| matches!(a, Action::DropCapabilities { .. }));
    let pdeathsig = index(plan, |a| matches!(a, Action::DieWithParent));
    let session = index(plan, |a| matches!(a, Action::NewSession));
    let set_ids = index(plan, |a| matches!(a, Action::SetIds { .. }));
    let seal = index(plan, |a| matches!(a, Action::SealInit));
    before(
        sandwich,
        drop_caps,
        "capabilities must be dropped after the sandwich",
    )?;
    before(
        set_ids,
        drop_caps,
        "capabilities must be dropped after the id change",
    )?;
    if init.is_some() {
        before(
            init,
            sandwich,
            "the init must start the app before the sandwich",
        )?;
        before(
            init,
            set_ids,
            "the init must start the app before the id change",
        )?;
        before(
            init,
            drop_caps,
            "the init must start the app before capabilities are dropped",
        )?;
        before(
            pdeathsig,
            init,
            "PID 1 sets die-with-parent before it starts the app",
        )?;
        before(
            session,
            init,
            "PID 1 starts the session before it starts the app",
        )?;
        if seal.is_none() {
            return Err("PID 1 must be made non-dumpable before the app runs".into());
        }
        before(
            init,
            seal,
            "PID 1 is made non-dumpable by the app's process",
        )?;
    } else {
        if seal.is_some() {
            return Err("no PID 1 to make non-dumpable".into());
        }
        before(
            sandwich,
            pdeathsig,
            "die-with-parent must be set after the last id change",
        )?;
        before(
            set_ids,
            pdeathsig,
            "die-with-parent must be set after the last id change",
        )?;
    }
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
    before(seal, seccomp, "PID 1 is made non-dumpable before seccomp")?;
    let time = index(plan, |a| matches!(a, Action::TimeNamespace { .. }));
    if time.is_some() && init.is_none() {
        return Err("a time namespace needs the init to fork the app into it".into());
    }
    before(
        time,
        init,
        "the time namespace must exist before the init forks",
    )?;
    before(init, seccomp, "the init must fork before seccomp is loaded")?;
    let exec = plan.steps.len().checked_sub(1);
    if !matches!(
        plan.steps.last().map(|s| &s.action),
        Some(Action::Exec { .. })
    ) {
        return Err("the last step must be exec".into());
    }
    // The helper of `sandbox enter` is forked with the app's filter,
    // right before exec.
    let helper = index(plan, |a| matches!(a, Action::EnterHelper));
    if helper.is_some_and(|h| Some(h + 1) != exec) {
        return Err("the enter helper must be forked right before exec".into());
    }
    if let Some(s) = seccomp
        && Some(s + 1) != helper.or(exec)
    {
        return Err("seccomp must be the step right before exec".into());
    }
    if plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Spawn { .. }))
        .count()
        != 1
    {
        return Err("exactly one step spawns the child".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;
    use crate::plan::{Invocation, Step, compile};
    use crate::profile::{SearchPath, Vars, load_text, validate};

    fn plan_of(text: &str) -> Plan {
        let mut l = load_text("t.toml", None, text, &SearchPath::builtin_only());
        validate(&mut l, &Vars::example_user(), &FakeHost::debian_user());
        assert!(!l.has_errors(), "{:?}", l.diags);
        compile(
            &l,
            &FakeHost::debian_user(),
            &Invocation {
                command: vec!["/bin/true".into()],
                ..Invocation::default()
            },
        )
        .unwrap()
    }

    fn default_plan() -> Plan {
        plan_of("extends = [\"default\"]")
    }

    fn pos(p: &Plan, f: impl Fn(&Action) -> bool) -> usize {
        p.steps
            .iter()
            .position(|s| f(&s.action))
            .expect("step present")
    }

    /// Move the step matching `what` to just before the one matching `before`.
    fn move_before(p: &mut Plan, what: impl Fn(&Action) -> bool, before: impl Fn(&Action) -> bool) {
        let step = p.steps.remove(pos(p, what));
        let at = pos(p, before);
        p.steps.insert(at, step);
    }

    fn broken(p: &Plan, rule: &str) {
        let e = check_order(p).expect_err("the rule should fire");
        assert!(e.contains(rule), "wanted {rule:?}, got {e:?}");
    }

    #[test]
    fn compiled_plans_respect_every_rule() {
        assert_eq!(check_order(&default_plan()), Ok(()));
        assert_eq!(
            check_order(&plan_of(
                "[namespaces]\npid = false\n[process]\ninit = false"
            )),
            Ok(())
        );
        assert_eq!(
            check_order(&plan_of(
                "[seccomp]\npolicy = \"none\"\n[landlock]\nenabled = false"
            )),
            Ok(())
        );
    }

    #[test]
    fn setgroups_before_gid_map() {
        let mut p = default_plan();
        move_before(
            &mut p,
            |a| matches!(a, Action::SetgroupsDeny),
            |a| matches!(a, Action::Release),
        );
        broken(&p, "setgroups must be denied before gid_map");
    }

    #[test]
    fn maps_before_release() {
        let mut p = default_plan();
        move_before(
            &mut p,
            |a| matches!(a, Action::Release),
            |a| matches!(a, Action::UidMap { .. }),
        );
        broken(&p, "before the child is released");
    }

    #[test]
    fn root_private_before_the_first_mount() {
        let mut p = default_plan();
        let i = pos(&p, |a| matches!(a, Action::MakeRootPrivate));
        p.steps.remove(i);
        broken(&p, "without making / private");
    }

    #[test]
    fn mounts_before_the_pivot() {
        let mut p = default_plan();
        move_before(
            &mut p,
            |a| matches!(a, Action::PivotRoot),
            |a| matches!(a, Action::Tmpfs { .. }),
        );
        broken(&p, "step after a");
    }

    #[test]
    fn proc_needs_a_pid_namespace() {
        let mut p = default_plan();
        if let Action::Spawn { new } = &mut p.steps[0].action {
            new.retain(|k| *k != NsKind::Pid);
        }
        broken(&p, "/proc mounted without a new pid namespace");
    }

    #[test]
    fn capabilities_and_pdeathsig_after_the_sandwich() {
        let mut p = default_plan();
        let i = pos(&p, |a| matches!(a, Action::DropCapabilities { .. }));
        let j = pos(&p, |a| matches!(a, Action::Sandwich { .. }));
        p.steps.swap(i, j);
        broken(&p, "capabilities must be dropped after the sandwich");
    }

    #[test]
    fn no_new_privs_before_landlock() {
        let mut p = default_plan();
        let nnp = p.steps.remove(pos(&p, |a| matches!(a, Action::NoNewPrivs)));
        let at = pos(&p, |a| matches!(a, Action::Landlock { .. })) + 1;
        p.steps.insert(
            at,
            Step {
                phase: Phase::Landlock,
                ..nnp
            },
        );
        broken(&p, "no_new_privs must be set before landlock");
    }

    #[test]
    fn the_init_forks_before_seccomp() {
        let mut p = default_plan();
        let init = p.steps.remove(pos(&p, |a| matches!(a, Action::Init)));
        let at = pos(&p, |a| matches!(a, Action::Seccomp { .. })) + 1;
        p.steps.insert(
            at,
            Step {
                phase: Phase::Seccomp,
                ..init
            },
        );
        broken(&p, "the init must");
    }

    #[test]
    fn the_init_starts_the_app_before_the_sandwich() {
        let mut p = default_plan();
        let init = p.steps.remove(pos(&p, |a| matches!(a, Action::Init)));
        let at = pos(&p, |a| matches!(a, Action::Sandwich { .. })) + 1;
        p.steps.insert(
            at,
            Step {
                phase: Phase::Sandwich,
                ..init
            },
        );
        broken(&p, "the init must start the app before the sandwich");
    }

    #[test]
    fn pid_1_is_made_non_dumpable() {
        let mut p = default_plan();
        p.steps.remove(pos(&p, |a| matches!(a, Action::SealInit)));
        broken(&p, "PID 1 must be made non-dumpable");
    }

    #[test]
    fn seccomp_is_last_before_exec() {
        let mut p = default_plan();
        let seccomp = p
            .steps
            .remove(pos(&p, |a| matches!(a, Action::Seccomp { .. })));
        let at = pos(&p, |a| matches!(a, Action::SealInit));
        p.steps.insert(at, seccomp);
        broken(&p, "PID 1 is made non-dumpable before seccomp");
    }

    #[test]
    fn exec_is_last() {
        let mut p = default_plan();
        p.steps.pop();
        broken(&p, "the last step must be exec");
    }

    fn root_plan_of(text: &str) -> Plan {
        let host = FakeHost {
            uid: 0,
            gid: 0,
            ..FakeHost::debian_user()
        };
        let mut l = load_text("t.toml", None, text, &SearchPath::builtin_only());
        validate(&mut l, &Vars::example_user(), &host);
        assert!(!l.has_errors(), "{:?}", l.diags);
        compile(
            &l,
            &host,
            &Invocation {
                command: vec!["/bin/true".into()],
                ..Invocation::default()
            },
        )
        .unwrap()
    }

    const WITH_HOST_DIRS: &str = "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"/srv/new\"\ndst = \"/data\"\ncreate = true\n";

    #[test]
    fn a_root_callers_child_drops_host_root_before_it_makes_anything() {
        let p = root_plan_of(WITH_HOST_DIRS);
        assert_eq!(check_order(&p), Ok(()));
        let mut late = p.clone();
        move_before(
            &mut late,
            |a| matches!(a, Action::DropHostRoot { .. }),
            |a| matches!(a, Action::PivotRoot),
        );
        broken(
            &late,
            "the child must drop host root before it makes anything",
        );
    }

    #[test]
    fn host_folders_are_made_before_the_spawn() {
        let mut p = plan_of(WITH_HOST_DIRS);
        assert_eq!(check_order(&p), Ok(()));
        let dirs = p
            .steps
            .remove(pos(&p, |a| matches!(a, Action::HostDirs { .. })));
        let at = pos(&p, |a| matches!(a, Action::Spawn { .. })) + 1;
        p.steps.insert(at, dirs);
        broken(&p, "host folders are made before the spawn");
    }

    #[test]
    fn read_only_root_after_every_mount() {
        let mut p = default_plan();
        move_before(
            &mut p,
            |a| matches!(a, Action::RemountRootRo),
            |a| matches!(a, Action::Proc { .. }),
        );
        broken(&p, "read-only after every other mount");
    }
}
