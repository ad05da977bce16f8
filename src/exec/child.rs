//! The child: one loop over the plan's steps, like bubblewrap's SetupOp
//! list. Each step either succeeds or ends the child with a report naming
//! the step, so the parent can point at the profile line.

use super::failure::{Call, Failure};
use super::mount::{self, Detached, NewRoot};
use super::report::{self, StepError};
use super::{caps, init, net, process, seccomp, sys, userns};
use crate::plan::{Action, NsKind, Phase, Plan};
use std::convert::Infallible;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// What the child keeps from the launcher.
pub struct FromLauncher<'a> {
    /// Read end of the launcher's "go" pipe; also tells whether it lives.
    pub go: OwnedFd,
    /// Write end of the report pipe (close-on-exec).
    pub report: OwnedFd,
    /// The D-Bus proxy's socket, when the plan has one.
    pub dbus_socket: Option<std::path::PathBuf>,
    /// Whoever started the launcher: the app's environment is made from
    /// theirs.
    pub caller: &'a super::Caller,
}

/// Run the child's steps; never returns (exec, or _exit with a report).
pub fn main(plan: &Plan, pipes: FromLauncher) -> ! {
    let Err(e) = run(plan, &pipes);
    let code = report_failure(plan, &pipes, &e);
    // SAFETY: leaving the child without the parent's destructors.
    unsafe { libc::_exit(code) }
}

/// Tell the launcher which step failed; the exit code to leave with.
fn report_failure(plan: &Plan, pipes: &FromLauncher, e: &StepError) -> i32 {
    report::send(pipes.report.as_fd(), e);
    report::exit_code(plan, e) as i32
}

/// The child's steps end in exec or in an error, never in a return.
type Outcome = Result<Infallible, StepError>;

fn wait_for_go(go: &OwnedFd) -> bool {
    let mut b = [0u8; 1];
    matches!(nix::unistd::read(go.as_fd(), &mut b), Ok(1))
}

fn run(plan: &Plan, pipes: &FromLauncher) -> Outcome {
    if !wait_for_go(&pipes.go) {
        // The launcher failed to set us up and has said so itself.
        // SAFETY: exit quietly.
        unsafe { libc::_exit(crate::exit::SETUP_FAILED.into()) }
    }
    // Only 0, 1 and 2 may reach the app.
    sys::cloexec_from(3).map_err(|e| StepError::setup(e, "close-on-exec from descriptor 3"))?;
    // Root callers may carry supplementary groups; drop them where allowed.
    let _ = nix::unistd::setgroups(&[]);

    let mut st = State {
        prepared: plan.steps.iter().map(|_| None).collect(),
        root: None,
        env: vec![],
        userns_limit: None,
        host_proc: open_host_proc(),
        mqueue: None,
    };
    // Opened now, while the host's /proc is writable (see userns.rs).
    let sandwich_limits = plan.steps.iter().position(|s| {
        matches!(
            s.action,
            Action::Sandwich {
                nested_userns: false,
                ..
            }
        )
    });
    if let Some(i) = sandwich_limits {
        st.userns_limit =
            Some(userns::open_user_namespace_limit().map_err(|f| StepError::at(i, f))?);
    }
    run_steps(plan, pipes, &mut st, 0)
}

fn owns_pid_namespace(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .any(|s| matches!(&s.action, Action::Sandwich { own, .. } if own.contains(&NsKind::Pid)))
}

/// The app owns a pid namespace (entered for the children this process
/// makes): there it is PID 2, under an init like the sandbox's own, so
/// that it gets the signals a process expects and its orphans are reaped.
/// This process stays in the sandbox's pid namespace to relay that init's
/// exit; both seal themselves as PID 1 does. The inner init is a plain
/// fork: a CLONE_VFORK child would suspend this process until it execs,
/// and an init never does.
fn own_pid_namespace(plan: &Plan, pipes: &FromLauncher, st: &mut State, i: usize) -> Outcome {
    use nix::sys::resource::{Resource, setrlimit};
    use nix::unistd::{Pid, setpgid};
    // The relay also leaves the app's process group (a kill(0, SIGSTOP)
    // would stop it, a SIGSEGV kill it) and never dumps a core.
    let inner_init = fork_copy(
        i,
        || {
            setpgid(Pid::from_raw(0), Pid::from_raw(0)).call("setpgid(0, 0)")?;
            setrlimit(Resource::RLIMIT_CORE, 0, 0).call("setrlimit(RLIMIT_CORE, 0)")
        },
        || match sys::spawn_sharing_memory(|| {
            let Err(e) = run_steps(plan, pipes, st, i + 1);
            report_failure(plan, pipes, &e)
        }) {
            Ok(app) => init::supervise(Pid::from_raw(app), None),
            Err(e) => report_failure(plan, pipes, &StepError::new(i, e, "clone")),
        },
    )?;
    init::supervise(inner_init, None)
}

/// Fork a copy of this process that runs `child` (and exits with what it
/// returns), for a parent that stays after it: a CLONE_VFORK child sharing
/// this memory would suspend the parent until it execs. The copy's memory
/// is not the one SealInit makes non-dumpable, so the parent makes its own
/// so, then `seal`s itself further; if it cannot, the copy is killed and
/// goes no further (fail closed).
fn fork_copy(
    i: usize,
    seal: impl FnOnce() -> Result<(), Failure>,
    child: impl FnOnce() -> i32,
) -> Result<nix::unistd::Pid, StepError> {
    use nix::unistd::{ForkResult, fork};
    // SAFETY: single-threaded; the child runs `child` and exits, never
    // returning into the parent's frames.
    match unsafe { fork() }.map_err(|e| StepError::new(i, e, "fork"))? {
        ForkResult::Child => {
            let code = child();
            // SAFETY: leaving without the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            let sealed = nix::sys::prctl::set_dumpable(false)
                .call("prctl(PR_SET_DUMPABLE, 0)")
                .and_then(|()| seal());
            if let Err(f) = sealed {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                return Err(StepError::at(i, f));
            }
            Ok(child)
        }
    }
}

/// What the steps hand on to later steps.
struct State {
    /// Mounts made in pass 1, by step index, for pass 2 to attach.
    prepared: Vec<Option<Detached>>,
    /// The new root being built, until pivot_root.
    root: Option<NewRoot>,
    /// The app's environment.
    env: Vec<CString>,
    /// user.max_user_namespaces, opened before the pivot.
    userns_limit: Option<std::fs::File>,
    /// The host's /proc, opened before the pivot, for the files steps
    /// after it write about this process (the inner id maps, the time
    /// namespace's offsets): the sandbox may have no /proc of its own.
    /// PID 1 closes it when it seals; the app's copy is close-on-exec.
    host_proc: Option<OwnedFd>,
    /// The IPC namespace's message-queue file system, for Landlock.
    mqueue: Option<OwnedFd>,
}

fn open_host_proc() -> Option<OwnedFd> {
    use nix::fcntl::{OFlag, open};
    open(
        "/proc",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ok()
}

impl State {
    fn host_proc(&self, step: usize) -> Result<std::os::fd::BorrowedFd<'_>, StepError> {
        self.host_proc.as_ref().map(|fd| fd.as_fd()).ok_or_else(|| {
            StepError::new(
                step,
                io::Error::from_raw_os_error(libc::ENOENT),
                "the host's /proc",
            )
        })
    }
}

/// The steps from `from` on; on success the last step execs the app.
fn run_steps(plan: &Plan, pipes: &FromLauncher, st: &mut State, from: usize) -> Outcome {
    let fail = |step: usize| move |f: Failure| StepError::at(step, f);
    for (i, step) in plan.steps.iter().enumerate().skip(from) {
        let os = |r: io::Result<()>, what: &str| r.map_err(|e| StepError::new(i, e, what));
        match &step.action {
            Action::Spawn { .. }
            | Action::Cgroup { .. }
            | Action::KeepNamespace { .. }
            | Action::SetgroupsDeny
            | Action::UidMap { .. }
            | Action::GidMap { .. }
            | Action::Release
            | Action::Timeout { .. }
            | Action::Pasta { .. }
            | Action::DbusProxy { .. }
            | Action::Veth { .. }
            | Action::Macvlan { .. }
            | Action::JoinNamespace { .. }
            | Action::JoinedFsIds { .. }
            | Action::HostDirs { .. } => {} // the launcher's steps
            Action::DropHostRoot { uid, gid } => {
                os(caps::take_ids(*uid, *gid), "setresuid/setresgid")?
            }
            Action::MakeRootPrivate => {
                mount::make_root_slave().map_err(fail(i))?;
                // Pass 1 over the mount steps, while host paths still resolve
                // (after any join of a mount namespace, before the new root).
                for (j, s) in plan.steps.iter().enumerate().skip(i + 1) {
                    if s.phase == Phase::Mount {
                        st.prepared[j] = match (&s.action, &pipes.dbus_socket) {
                            (Action::DbusSocket { .. }, Some(socket)) => {
                                Some(mount::prepare_socket(socket).map_err(fail(j))?)
                            }
                            (Action::DbusSocket { .. }, None) => None,
                            (a, _) => mount::prepare(a).map_err(fail(j))?,
                        };
                    }
                }
            }
            Action::NetSysctls => os(net::app_sysctls(), "/proc/sys/net/ipv4")?,
            Action::RootTmpfs | Action::RootBind { .. } => {
                st.root = Some(NewRoot::attach(st.prepared[i].take()).map_err(fail(i))?);
            }
            Action::PivotRoot => {
                let r = st.root.take().ok_or_else(|| {
                    StepError::new(i, io::Error::from_raw_os_error(libc::EINVAL), "no new root")
                })?;
                r.pivot().map_err(fail(i))?;
            }
            Action::MqueueRights => st.mqueue = Some(mount::mqueue_root().map_err(fail(i))?),
            a if step.phase == Phase::Mount => {
                let r = st.root.as_ref().ok_or_else(|| {
                    StepError::new(i, io::Error::from_raw_os_error(libc::EINVAL), "no new root")
                })?;
                r.apply(a, st.prepared[i].take()).map_err(fail(i))?;
            }
            Action::SetHostname { name } => os(
                nix::unistd::sethostname(name).map_err(io::Error::from),
                "sethostname",
            )?,
            Action::SetDomainname { name } => {
                let set = |c: CString| {
                    let bytes = c.as_bytes();
                    // SAFETY: setdomainname with a buffer and its length.
                    let r = unsafe { libc::setdomainname(bytes.as_ptr().cast(), bytes.len()) };
                    if r < 0 {
                        Err(io::Error::last_os_error())
                    } else {
                        Ok(())
                    }
                };
                let named = CString::new(name.as_str())
                    .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
                    .and_then(set);
                os(named, "setdomainname")?;
            }
            Action::LoopbackUp => os(net::loopback_up(), "lo")?,
            Action::ConfigureInterface { address, gateway } => {
                os(net::configure_interface(*address, *gateway), net::INTERFACE)?
            }
            Action::NewCgroupNamespace => os(
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
                    .map_err(io::Error::from),
                "unshare(CLONE_NEWCGROUP)",
            )?,
            Action::TimeNamespace {
                monotonic_ms,
                boottime_ms,
            } => userns::new_time_namespace(*monotonic_ms, *boottime_ms, st.host_proc(i)?)
                .map_err(fail(i))?,
            Action::Sandwich {
                uid,
                gid,
                nested_userns,
                ranges,
                own,
            } => {
                if !nested_userns {
                    // The inner namespace is the last one allowed below this one.
                    let limit = st.userns_limit.as_mut().ok_or_else(|| {
                        StepError::new(
                            i,
                            io::Error::from_raw_os_error(libc::EBADF),
                            "user.max_user_namespaces",
                        )
                    })?;
                    userns::limit_user_namespaces(limit, 1).map_err(fail(i))?;
                }
                userns::enter_inner(*uid, *gid, ranges, own, st.host_proc(i)?).map_err(fail(i))?;
                if own.contains(&NsKind::Pid) {
                    return own_pid_namespace(plan, pipes, st, i);
                }
            }
            Action::SetIds { uid, gid } => os(caps::become_ids(*uid, *gid), "setresuid/setresgid")?,
            Action::DropCapabilities { keep } => {
                let nums: Vec<u8> = keep.iter().map(|c| c.number()).collect();
                os(caps::drop_all_but(&nums), "capabilities")?;
            }
            Action::NewSession => os(
                nix::unistd::setsid().map(drop).map_err(io::Error::from),
                "setsid",
            )?,
            Action::Chdir { path } => os(std::env::set_current_dir(path), path)?,
            Action::Environment { clear, keep, set } => {
                st.env = process::environment(&pipes.caller.env, *clear, keep, set)
            }
            Action::SetRlimits { limits } => process::set_rlimits(limits).map_err(fail(i))?,
            Action::DieWithParent => {
                os(process::die_with_parent(pipes.go.as_fd()), "parent is gone")?
            }
            Action::NoNewPrivs => os(process::no_new_privs(), "prctl(PR_SET_NO_NEW_PRIVS)")?,
            Action::Landlock { .. } => {
                super::landlock::apply(&step.action, st.mqueue.take()).map_err(fail(i))?
            }
            Action::Init => {
                // PID 1's own smaps, to give memory back later, opened here
                // through the host's /proc: once sealed it opens nothing,
                // and the sandbox's tree is the app's to fill.
                let smaps = st.host_proc.as_ref().and_then(|p| {
                    nix::fcntl::openat(
                        p,
                        "self/smaps",
                        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
                        nix::sys::stat::Mode::empty(),
                    )
                    .ok()
                    .map(std::fs::File::from)
                });
                // The app's process goes on with the steps after this one
                // in this process's memory, while this one waits for its
                // exec (see sys::spawn_sharing_memory): no copy of the
                // address space, no copy-on-write faults on either side.
                let app = if owns_pid_namespace(plan) {
                    // The app's process will stay to relay (own_pid_namespace).
                    fork_copy(
                        i,
                        || Ok(()),
                        || {
                            let Err(e) = run_steps(plan, pipes, st, i + 1);
                            report_failure(plan, pipes, &e)
                        },
                    )?
                    .as_raw()
                } else {
                    sys::spawn_sharing_memory(|| {
                        let Err(e) = run_steps(plan, pipes, st, i + 1);
                        report_failure(plan, pipes, &e)
                    })
                    .map_err(|e| StepError::new(i, e, "clone"))?
                };
                // From here on this process is only PID 1: it seals itself
                // (every descriptor closed, the report pipe among them: only
                // the app reports) and supervises; it never returns.
                init::supervise(nix::unistd::Pid::from_raw(app), smaps)
            }
            Action::SealInit => os(
                nix::sys::prctl::set_dumpable(false).map_err(io::Error::from),
                "prctl(PR_SET_DUMPABLE, 0)",
            )?,
            Action::Seccomp { .. } => {
                process::reset_signals();
                seccomp::apply(&step.action).map_err(fail(i))?;
            }
            Action::Exec { argv } => {
                process::reset_signals();
                let e = process::exec(argv, &st.env);
                return Err(StepError::new(
                    i,
                    e,
                    argv.first()
                        .map(|a| crate::plan::bytes_text(a.as_bytes()))
                        .unwrap_or_default(),
                ));
            }
            other => unreachable!("step {other:?} in phase {:?}", step.phase),
        }
    }
    unreachable!("a plan ends with exec")
}
