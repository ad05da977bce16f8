//! The child: one loop over its operations ([`super::steps::Child`]), like
//! bubblewrap's SetupOp list, each an exhaustive match arm. Each succeeds
//! or ends the child with a report naming the plan step, so the parent can
//! point at the profile line. Every system call goes through the
//! [`Kernel`], so a recording one traces the same code (record.rs).

use super::failure::{Call, Failure};
use super::kernel::Kernel;
use super::mount::{self, Detached, NewRoot};
use super::report::{self, StepError};
use super::steps::{Child, Indexed, Steps};
use super::{caps, net, process, seccomp, timens, userns};
use crate::plan::{NsKind, Plan};
use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// What the child keeps from the launcher.
pub struct FromLauncher<'a> {
    /// Read end of the launcher's "go" pipe; also tells whether it lives.
    pub go: OwnedFd,
    /// Write end of the report pipe (close-on-exec).
    pub report: OwnedFd,
    /// The helper's end of its socket to the launcher, when the plan
    /// forks the helper of `sandbox enter`.
    pub enter: Option<OwnedFd>,
    /// The app's end of the socket its filter's listener goes to the
    /// launcher over, when the plan traces refusals (close-on-exec).
    pub denials: Option<OwnedFd>,
    /// The D-Bus proxy's socket, when the plan has one.
    pub dbus_socket: Option<std::path::PathBuf>,
    /// Whoever started the launcher: the app's environment is made from
    /// theirs.
    pub caller: &'a super::Caller,
}

/// Everything the child's operations run with.
struct Ctx<'a> {
    k: &'a dyn Kernel,
    plan: &'a Plan,
    pipes: &'a FromLauncher<'a>,
}

impl Ctx<'_> {
    /// Tell the launcher which step failed; the exit code to leave with.
    fn report(&self, e: &StepError) -> i32 {
        report::send(self.pipes.report.as_fd(), e);
        report::exit_code(self.plan, e) as i32
    }
}

/// Run the child's steps; never returns (exec, or _exit with a report).
pub fn main(plan: &Plan, steps: &Steps, pipes: FromLauncher) -> ! {
    let k = super::kernel::Linux;
    let cx = Ctx {
        k: &k,
        plan,
        pipes: &pipes,
    };
    let code = match wait_for_go(&pipes.go) {
        Ok(()) => {
            let Err(e) = run(&cx, steps);
            cx.report(&e)
        }
        // The launcher failed to set us up and has said so itself.
        Err(code) => code,
    };
    super::sys::exit_now(code)
}

/// The same operations on `k`, once the launcher said go (a trace's
/// recording kernel, see record.rs); the error they end with.
pub fn run_on(k: &dyn Kernel, plan: &Plan, steps: &Steps, pipes: &FromLauncher) -> StepError {
    let cx = Ctx { k, plan, pipes };
    let Err(e) = run(&cx, steps);
    e
}

/// The child's steps end in exec or in an error, never in a return.
type Outcome = Result<Infallible, StepError>;

/// Ok once the launcher says go; else the code to leave with quietly.
fn wait_for_go(go: &OwnedFd) -> Result<(), i32> {
    let mut b = [0u8; 1];
    match nix::unistd::read(go.as_fd(), &mut b) {
        Ok(1) => Ok(()),
        _ => Err(crate::exit::SETUP_FAILED.into()),
    }
}

fn run(cx: &Ctx, steps: &Steps) -> Outcome {
    let k = cx.k;
    // Only 0, 1 and 2 may reach the app.
    k.cloexec_from(3)
        .map_err(|e| StepError::setup(e, "close-on-exec from descriptor 3"))?;
    // Root callers may carry supplementary groups; drop them where allowed.
    let _ = k.setgroups(&[]);
    let mut st = State {
        prepared: cx.plan.steps.iter().map(|_| None).collect(),
        root: None,
        env: vec![],
        userns_limit: None,
        host_proc: k
            .open(None, c"/proc", libc::O_PATH | libc::O_DIRECTORY, 0)
            .ok(),
        mqueue: None,
        app_owns_pid: steps.shape.app_owns_pid,
        nofile: None,
    };
    // Opened now, while the host's /proc is writable (see userns.rs).
    if let Some(i) = steps.shape.sandwich_limit {
        st.userns_limit =
            Some(userns::open_user_namespace_limit(k).map_err(|f| StepError::at(i, f))?);
    }
    run_ops(cx, &steps.child, &mut st)
}

/// What the operations hand on to later ones.
struct State<'k> {
    /// Mounts opened by OpenMountSources, by plan step, for their own
    /// step to attach.
    prepared: Vec<Option<Detached>>,
    /// The new root being built, until pivot_root.
    root: Option<NewRoot<'k>>,
    /// The app's environment.
    env: Vec<CString>,
    /// user.max_user_namespaces, opened before the pivot.
    userns_limit: Option<OwnedFd>,
    /// The host's /proc, opened before the pivot, for the files steps
    /// after it write about this process (the inner id maps, the time
    /// namespace's offsets): the sandbox may have no /proc of its own.
    /// PID 1 closes it when it seals; the app's copy is close-on-exec.
    host_proc: Option<OwnedFd>,
    /// The IPC namespace's message-queue file system, for Landlock.
    mqueue: Option<OwnedFd>,
    /// The app owns a pid namespace: its process, forked by PID 1, stays
    /// to relay (see `own_pid_namespace`).
    app_owns_pid: bool,
    /// The caller's soft limit of open descriptors, while the mounts run
    /// with the hard one: every source is open at once (a profile of
    /// 1000 binds outgrows the usual 1024), and the app gets the caller's
    /// back (a program using select() needs descriptors below 1024).
    nofile: Option<u64>,
}

impl State<'_> {
    fn host_proc(&self, step: usize) -> Result<BorrowedFd<'_>, StepError> {
        self.host_proc
            .as_ref()
            .map(|fd| fd.as_fd())
            .ok_or_else(|| StepError::at(step, Failure::new(libc::ENOENT, "the host's /proc")))
    }

    /// Give back the caller's soft limit of open descriptors, if it was
    /// raised: once the mounts are made, before the profile's limits, PID
    /// 1 and the app.
    fn restore_nofile(&mut self, k: &dyn Kernel) -> Result<(), Failure> {
        match self.nofile.take() {
            Some(soft) => k
                .nofile_soft(Some(soft))
                .map(drop)
                .call("setrlimit(RLIMIT_NOFILE), the caller's soft limit"),
            None => Ok(()),
        }
    }
}

/// Run `ops` in order; on success the last one execs the app.
fn run_ops<'k>(cx: &Ctx<'k>, ops: &[Indexed<Child>], st: &mut State<'k>) -> Outcome {
    let k = cx.k;
    for (n, Indexed { step: i, op }) in ops.iter().enumerate() {
        let i = *i;
        let at = |f: Failure| StepError::at(i, f);
        match op {
            Child::DropHostRoot { uid, gid } => caps::take_ids(k, *uid, *gid).map_err(at)?,
            Child::MakeRootPrivate => mount::make_root_slave(k).map_err(at)?,
            Child::OpenMountSources => {
                // Pass 1, while host paths still resolve as the user wrote
                // them (after any join of a mount namespace, before the
                // new root): each mount's source opened for its step.
                st.nofile = Some(
                    k.nofile_soft(None)
                        .call("setrlimit(RLIMIT_NOFILE), the hard limit")
                        .map_err(|f| StepError::at(i, f))?,
                );
                for later in &ops[n + 1..] {
                    let dbus = cx.pipes.dbus_socket.as_deref();
                    let at = |f: Failure| StepError::at(later.step, f);
                    st.prepared[later.step] = match &later.op {
                        Child::Root(r) => mount::prepare_root(k, r).map_err(at)?,
                        Child::Mount(op) => mount::prepare(k, op, dbus).map_err(at)?,
                        _ => None,
                    };
                }
            }
            Child::NetSysctls => net::app_sysctls(k).map_err(at)?,
            Child::Root(root) => {
                st.root = Some(NewRoot::attach(k, root, st.prepared[i].take()).map_err(at)?);
            }
            Child::Mount(op) => {
                let root = st
                    .root
                    .as_ref()
                    .ok_or_else(|| at(Failure::new(libc::EINVAL, "no new root")))?;
                root.apply(op, st.prepared[i].take()).map_err(at)?;
            }
            Child::PivotRoot => {
                let root = st
                    .root
                    .take()
                    .ok_or_else(|| at(Failure::new(libc::EINVAL, "no new root")))?;
                root.pivot().map_err(at)?;
                st.restore_nofile(k).map_err(at)?;
            }
            Child::MqueueRights => st.mqueue = Some(mount::mqueue_root(k).map_err(at)?),
            Child::SetHostname(name) => k
                .sethostname(name.as_bytes())
                .call_with(|| format!("sethostname({name:?})"))
                .map_err(at)?,
            Child::SetDomainname(name) => k
                .setdomainname(name.as_bytes())
                .call_with(|| format!("setdomainname({name:?})"))
                .map_err(at)?,
            Child::LoopbackUp => k.loopback_up().call("bring lo up").map_err(at)?,
            Child::ConfigureInterface { address, gateway } => k
                .configure_interface(*address, *gateway)
                .call_with(|| format!("configure {}", net::INTERFACE))
                .map_err(at)?,
            Child::NewCgroupNamespace => k
                .unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
                .call("unshare(CLONE_NEWCGROUP)")
                .map_err(at)?,
            Child::TimeNamespace {
                monotonic_ms,
                boottime_ms,
            } => timens::new_time_namespace(k, *monotonic_ms, *boottime_ms, st.host_proc(i)?)
                .map_err(at)?,
            Child::Sandwich(s) => {
                if !s.nested_userns {
                    // The inner namespace is the last one allowed below this one.
                    let limit = st
                        .userns_limit
                        .as_ref()
                        .ok_or_else(|| at(Failure::new(libc::EBADF, "user.max_user_namespaces")))?;
                    userns::limit_user_namespaces(k, limit, 1).map_err(at)?;
                }
                userns::enter_inner(k, s.uid, s.gid, s.ranges, s.own, st.host_proc(i)?)
                    .map_err(at)?;
                if s.own.contains(&NsKind::Pid) {
                    return own_pid_namespace(cx, i, &ops[n + 1..], st);
                }
            }
            Child::SetIds { uid, gid } => caps::become_ids(k, *uid, *gid).map_err(at)?,
            Child::DropCapabilities(keep) => caps::drop_all_but(k, keep).map_err(at)?,
            Child::NewSession => k.setsid().call("setsid").map_err(at)?,
            Child::Chdir(path) => {
                let c = CString::new(*path).call(*path).map_err(at)?;
                k.chdir(&c).call(*path).map_err(at)?
            }
            Child::Environment {
                clear,
                keep,
                unset,
                set,
            } => st.env = process::environment(&cx.pipes.caller.env, *clear, keep, unset, set),
            Child::SetRlimits(limits) => {
                st.restore_nofile(k).map_err(at)?;
                process::set_rlimits(k, limits).map_err(at)?
            }
            Child::DieWithParent => process::die_with_parent(k, cx.pipes.go.as_fd()).map_err(at)?,
            Child::NoNewPrivs => process::no_new_privs(k).map_err(at)?,
            Child::Landlock(step) => {
                let rules = super::landlock::Rules {
                    step,
                    mqueue: st.mqueue.take(),
                };
                k.landlock(rules).map_err(at)?
            }
            Child::Init => {
                st.restore_nofile(k).map_err(at)?;
                return be_init(cx, i, &ops[n + 1..], st);
            }
            Child::SealInit => k
                .prctl(libc::PR_SET_DUMPABLE, 0, 0)
                .call("prctl(PR_SET_DUMPABLE, 0)")
                .map(drop)
                .map_err(at)?,
            Child::Seccomp(filter) => {
                k.reset_signals();
                let channel = cx.pipes.denials.as_ref().filter(|_| filter.trace);
                seccomp::apply(k, filter, channel.map(|c| c.as_fd())).map_err(at)?;
            }
            Child::EnterHelper => {
                // Born non-dumpable (the flag is the memory's, copied by
                // the fork): the app, once it runs, cannot reach into it.
                // The app's own is set again by its exec.
                k.prctl(libc::PR_SET_DUMPABLE, 0, 0)
                    .call("prctl(PR_SET_DUMPABLE, 0)")
                    .map_err(at)?;
                if let Some(channel) = &cx.pipes.enter {
                    let env = &st.env;
                    let mut body = || super::helper::main(k, channel.as_fd(), env);
                    k.fork_beside(&mut body)
                        .call("clone(CLONE_PARENT)")
                        .map_err(at)?;
                }
            }
            Child::Exec(argv) => {
                st.restore_nofile(k).map_err(at)?;
                k.reset_signals();
                let e = process::exec(k, argv, &st.env);
                let program = argv
                    .first()
                    .map(|a| crate::plan::bytes_text(a.as_bytes()))
                    .unwrap_or_default();
                return Err(StepError::new(i, e, program));
            }
        }
    }
    Err(StepError::setup(
        std::io::Error::from_raw_os_error(libc::EINVAL),
        "the plan ends without exec",
    ))
}

/// This process becomes PID 1: the app's process goes on with `rest` and
/// this one seals itself (every descriptor closed, the report pipe among
/// them: only the app reports) and supervises; it never returns.
fn be_init<'k>(cx: &Ctx<'k>, i: usize, rest: &[Indexed<Child>], st: &mut State<'k>) -> Outcome {
    let k = cx.k;
    // PID 1's own smaps, to give memory back later, opened here through
    // the host's /proc: once sealed it opens nothing, and the sandbox's
    // tree is the app's to fill.
    let smaps = st.host_proc.as_ref().and_then(|p| {
        k.open(Some(p.as_fd()), c"self/smaps", libc::O_RDONLY, 0)
            .ok()
            .map(std::fs::File::from)
    });
    let relays = st.app_owns_pid;
    let mut app_body = || {
        let Err(e) = run_ops(cx, rest, st);
        cx.report(&e)
    };
    let app = if relays {
        // The app's process will stay to relay (own_pid_namespace).
        fork_copy(cx, i, &mut app_body, &|| Ok(()))?
    } else {
        // The app's process goes on with the steps after this one in this
        // process's memory, while this one waits for its exec (see
        // sys::spawn_sharing_memory): no copy of the address space, no
        // copy-on-write faults on either side.
        k.spawn_sharing_memory(&mut app_body)
            .map_err(|e| StepError::new(i, e, "clone(CLONE_VM | CLONE_VFORK)"))?
    };
    Err(StepError::new(i, k.supervise(app, smaps), "supervise"))
}

/// The app owns a pid namespace (entered for the children this process
/// makes): there it is PID 2, under an init like the sandbox's own, so
/// that it gets the signals a process expects and its orphans are reaped.
/// This process stays in the sandbox's pid namespace to relay that init's
/// exit; both seal themselves as PID 1 does. The inner init is a plain
/// fork: a CLONE_VFORK child would suspend this process until it execs,
/// and an init never does.
fn own_pid_namespace<'k>(
    cx: &Ctx<'k>,
    i: usize,
    rest: &[Indexed<Child>],
    st: &mut State<'k>,
) -> Outcome {
    let k = cx.k;
    // The relay also leaves the app's process group (a kill(0, SIGSTOP)
    // would stop it, a SIGSEGV kill it) and never dumps a core.
    let seal_relay = || -> Result<(), Failure> {
        k.setpgid_self().call("setpgid(0, 0)")?;
        k.setrlimit(libc::RLIMIT_CORE, 0)
            .call("setrlimit(RLIMIT_CORE, 0)")
    };
    let mut inner_init = || {
        let mut app_body = || {
            let Err(e) = run_ops(cx, rest, st);
            cx.report(&e)
        };
        match k.spawn_sharing_memory(&mut app_body) {
            Ok(app) => {
                let e = k.supervise(app, None);
                cx.report(&StepError::new(i, e, "supervise"))
            }
            Err(e) => cx.report(&StepError::new(i, e, "clone(CLONE_VM | CLONE_VFORK)")),
        }
    };
    let init = fork_copy(cx, i, &mut inner_init, &seal_relay)?;
    Err(StepError::new(i, k.supervise(init, None), "supervise"))
}

/// Fork a copy of this process that runs `body` (and exits with what it
/// returns), for a parent that stays after it: a CLONE_VFORK child sharing
/// this memory would suspend the parent until it execs. The copy's memory
/// is not the one SealInit makes non-dumpable, so the parent makes its own
/// so, then `seal`s itself further; if it cannot, the copy is killed and
/// goes no further (fail closed).
fn fork_copy(
    cx: &Ctx,
    i: usize,
    body: &mut dyn FnMut() -> i32,
    seal: &dyn Fn() -> Result<(), Failure>,
) -> Result<i32, StepError> {
    let k = cx.k;
    let child = k
        .fork_copy(body)
        .map_err(|e| StepError::new(i, e, "fork"))?;
    let sealed = k
        .prctl(libc::PR_SET_DUMPABLE, 0, 0)
        .call("prctl(PR_SET_DUMPABLE, 0)")
        .and_then(|_| seal());
    if let Err(f) = sealed {
        k.kill(child, libc::SIGKILL);
        return Err(StepError::at(i, f));
    }
    Ok(child)
}
