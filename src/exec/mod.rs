//! The executor: applies a plan with real system calls. It decides nothing;
//! every choice was made by the plan.
//!
//! The launcher (parent) spawns the child with its namespaces, writes the
//! id maps, releases it, then supervises: forwards signals, enforces the
//! timeout, and turns the child's end into an exit code. The child runs the
//! steps in order ([`child`]), each mechanism in a file of its own.

mod attach;
mod calls;
mod caps;
pub mod cgroup;
mod child;
mod dbus;
mod denials;
pub mod enter;
mod failure;
mod helper;
mod hostdir;
mod hostpath;
mod idmap;
mod init;
mod keep;
mod kernel;
mod landlock;
mod learn;
pub use landlock::ABI_NEWEST as LANDLOCK_ABI_NEWEST;
mod mount;
mod net;
mod netlink;
mod pasta;
mod predict;
mod process;
mod reaper;
mod record;
mod relay;
mod report;
mod resident;
pub mod seccomp;
pub mod state;
mod status;
mod steps;
pub mod sys;
mod timens;
mod trace;
mod userns;
mod wait;

use crate::plan::{NsKind, Plan};
use failure::Call;
use nix::sys::signal::{SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use report::StepError;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};
use steps::{Before, Indexed, Parent, Steps};
pub use trace::trace;

/// Grace between TERM and KILL when the timeout fires.
const KILL_GRACE: Duration = Duration::from_secs(2);

fn clone_flags(new: &[NsKind]) -> u64 {
    new.iter()
        // The cgroup namespace is made by the child once it is in its own
        // cgroup; the time namespace is not a clone() flag but a step of
        // its own (TimeNamespace).
        .filter(|k| !matches!(k, NsKind::Cgroup | NsKind::Time))
        .fold(0, |a, k| a | k.clone_flag().bits() as u64)
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(std::io::Error::from)
}

/// What the executor takes from whoever runs it, besides the plan (built
/// by main.rs): what it does is a function of the two, not of the
/// process's environment read behind the caller's back.
pub struct Caller {
    /// The caller's environment: what the app's is made from (see
    /// [`Action::Environment`]) and where the session bus is.
    pub env: Vec<(OsString, OsString)>,
    /// Where `--status-fd` asks for the events of the run.
    pub status: Option<Status>,
    /// The name `--name` gives the sandbox (in its `sandbox ps` entry).
    pub name: Option<String>,
    /// `--join-or-start`: the lock on the name, held from the search for
    /// a sandbox of that name until this one's entry is written.
    pub name_lock: Option<OwnedFd>,
    /// `sandbox learn`: where the launcher records what the app used.
    pub learned: Option<crate::plan::learned::Record>,
}

pub use status::Stream as Status;

impl Caller {
    /// A variable of the caller's environment, if set.
    pub fn var(&self, name: &str) -> Option<&OsStr> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }
}

/// Apply the plan; returns the exit code for `sandbox run`.
pub fn run(plan: &Plan, caller: &Caller) -> u8 {
    match launch(plan, caller) {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", report::message(plan, &e));
            if let Some(s) = &caller.status {
                s.setup_failed(plan, &e);
            }
            report::exit_code(plan, &e)
        }
    }
}

fn launch(plan: &Plan, caller: &Caller) -> Result<u8, StepError> {
    let steps = steps::split(plan);
    // The caller's descriptors reach no helper the launcher starts (pasta,
    // xdg-dbus-proxy, newuidmap) and no process of the sandbox.
    sys::cloexec_from(3).map_err(|e| StepError::setup(e, "close-on-exec from descriptor 3"))?;
    // Where the caller is, before any join: who may `sandbox enter`.
    let home = sys::own_place().ok();
    before_spawn(&steps)?;
    let host = HostSide::start(&steps, caller)?;
    let mut child = spawn(plan, &steps, caller, &host)?;
    let made = parent_steps(plan, &steps, caller, &host, &mut child, home)?;
    if let Some(s) = &caller.status {
        s.started(child.pid.as_raw(), &child.namespaces);
    }
    Ok(finish(plan, &steps, caller, host, child, made))
}

/// The launcher's steps before the child exists: joins first (the user
/// namespace before the others), so that the child is created inside
/// them and a joined pid namespace applies to it; then the filesystem ids
/// in a joined user namespace, and the host folders the mounts need.
fn before_spawn(steps: &Steps) -> Result<(), StepError> {
    join_all(&steps.before)?;
    for Indexed { step, op } in &steps.before {
        match op {
            Before::Join { .. } => {}
            Before::JoinedFsIds { uid, gid } => caps::filesystem_ids(&kernel::Linux, *uid, *gid)
                .map_err(|f| StepError::at(*step, f))?,
            Before::HostDirs { dirs, owner, below } => {
                hostdir::make(dirs, *owner, below).map_err(|f| StepError::at(*step, f))?
            }
        }
    }
    Ok(())
}

/// What the launcher holds on the host side before the spawn.
struct HostSide {
    /// Undoes what the launcher makes on the host if it is killed first.
    reaper: reaper::Reaper,
    pasta_pid_file: Option<std::fs::File>,
    /// The D-Bus proxy's socket directory: made before the spawn, so that
    /// the child knows where to find the socket.
    socket_dir: Option<dbus::SocketDir>,
}

impl HostSide {
    fn start(steps: &Steps, caller: &Caller) -> Result<HostSide, StepError> {
        let at_spawn = steps.spawn.step;
        let shape = steps.shape;
        let pasta_pid_file = match shape.pasta {
            true => Some(pasta::pid_file().map_err(|e| StepError::new(at_spawn, e, "memfd"))?),
            false => None,
        };
        let reaper = match shape.host_things {
            true => reaper::Reaper::start(pasta_pid_file.as_ref())
                .map_err(|e| StepError::new(at_spawn, e, "fork the reaper"))?,
            false => reaper::Reaper::none(),
        };
        // And we die with our caller, as bwrap's --die-with-parent does:
        // the shell that started us killed, the sandbox ends (the reaper
        // undoes what we made on the host).
        if shape.die_with_parent {
            process::die_with_caller()
                .map_err(|e| StepError::new(at_spawn, e, "prctl(PR_SET_PDEATHSIG)"))?;
        }
        // With no session bus to filter (a server, an ssh session), the app
        // gets no bus: less than the profile allows, never more.
        let socket_dir = match shape.dbus_proxy {
            Some(_) if dbus::upstream(caller).is_none() => {
                eprintln!(
                    "sandbox: no session bus (DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus): the sandbox gets none"
                );
                None
            }
            Some(i) => Some(
                dbus::SocketDir::create(&reaper, caller.var("XDG_RUNTIME_DIR")).map_err(|e| {
                    StepError::new(i, e, "create a directory for the proxy's socket")
                })?,
            ),
            None => None,
        };
        Ok(HostSide {
            reaper,
            pasta_pid_file,
            socket_dir,
        })
    }
}

/// The child, and the launcher's ends of what it shares with it.
struct Spawned {
    pid: Pid,
    /// The "go" pipe's write end: written by the Release step; its closing
    /// tells a waiting child that the launcher is gone.
    go: OwnedFd,
    /// Where a child that fails a step reports it.
    report: OwnedFd,
    /// The signals the launcher forwards, read from here.
    signals: SignalFd,
    /// The launcher adopts what the app leaves behind (no pid namespace).
    subreaper: bool,
    /// The child's namespaces (kind: inode), read while it waits to be
    /// released: later its ids change and its /proc files are not ours.
    namespaces: std::collections::BTreeMap<String, u64>,
    /// The launcher's end of the socket to the helper of `sandbox enter`,
    /// until the state entry's step takes it.
    enter: Option<OwnedFd>,
    /// The launcher's end of the socket the app's filter's listener comes
    /// over, when the plan traces refusals.
    denials: Option<OwnedFd>,
}

fn spawn(
    plan: &Plan,
    steps: &Steps,
    caller: &Caller,
    host: &HostSide,
) -> Result<Spawned, StepError> {
    let at_spawn = steps.spawn.step;
    let fail = |call: &'static str| move |e: nix::Error| StepError::new(at_spawn, e, call);
    let (go_r, go_w) = pipe().map_err(|e| StepError::new(at_spawn, e, "pipe"))?;
    let (report_r, report_w) = pipe().map_err(|e| StepError::new(at_spawn, e, "pipe"))?;
    let (enter_ours, enter_theirs) = match steps.shape.enter {
        true => {
            let (a, b) = enter::pair().map_err(|e| StepError::new(at_spawn, e, "socketpair"))?;
            (Some(a), Some(b))
        }
        false => (None, None),
    };
    let (denials_ours, denials_theirs) = match steps.shape.trace {
        true => {
            let (a, b) = enter::pair().map_err(|e| StepError::new(at_spawn, e, "socketpair"))?;
            (Some(a), Some(b))
        }
        false => (None, None),
    };
    // Signals are blocked from here on and read from a signalfd; the child
    // inherits the mask and unblocks it just before exec.
    let forwarded = process::forwarded_signals();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&forwarded), None)
        .map_err(fail("sigprocmask(SIG_BLOCK)"))?;
    // Without a pid namespace, what the app starts and leaves behind
    // (setsid, double fork) is not killed with it: as their subreaper, the
    // launcher gets them, and ends them when the app has ended.
    let new = steps.spawn.op;
    let subreaper = !new.contains(&NsKind::Pid);
    if subreaper {
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(fail("prctl(PR_SET_CHILD_SUBREAPER)"))?;
    }
    let pid = match sys::clone_fork(clone_flags(new)) {
        Ok(0) => {
            drop((go_w, report_r));
            child::main(
                plan,
                steps,
                child::FromLauncher {
                    go: go_r,
                    report: report_w,
                    enter: enter_theirs,
                    denials: denials_theirs,
                    dbus_socket: host.socket_dir.as_ref().map(|d| d.socket()),
                    caller,
                },
            )
        }
        Ok(pid) => Pid::from_raw(pid),
        Err(e) => return Err(StepError::new(at_spawn, e, "clone")),
    };
    drop((go_r, report_w, enter_theirs, denials_theirs));
    let namespaces = status::namespaces_of(pid.as_raw());
    let spawned = |signals| Spawned {
        pid,
        go: go_w,
        report: report_r,
        signals,
        subreaper,
        namespaces,
        enter: enter_ours,
        denials: denials_ours,
    };
    // Where the app shares our user namespace and sees our pid (no user or
    // pid namespace), it must not ptrace the launcher, which holds no
    // filter and no Landlock domain: non-dumpable, it needs CAP_SYS_PTRACE
    // for that. Only now: the child, a copy of us, had to start dumpable so
    // that we may write its id maps.
    let sealed = nix::sys::prctl::set_dumpable(false)
        .map_err(fail("prctl(PR_SET_DUMPABLE, 0)"))
        // Close-on-exec: the helpers started later must not inherit it.
        .and_then(|()| {
            SignalFd::with_flags(&forwarded, nix::sys::signalfd::SfdFlags::SFD_CLOEXEC)
                .map_err(fail("signalfd"))
        });
    match sealed {
        Ok(signals) => Ok(spawned(signals)),
        Err(e) => {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
            Err(e)
        }
    }
}

/// What the parent steps made, each undone when dropped (after the child
/// has ended, or on a failed step's return once it is killed), and what
/// they set.
#[derive(Default)]
struct Made {
    deadline: Option<Instant>,
    cgroups: cgroup::Cgroups,
    attached: attach::Attached,
    proxy: Option<dbus::Proxy>,
    /// Undone when dropped, unless the setup went through.
    kept: keep::Kept,
    /// The state entry, removed when dropped.
    entry: Option<state::Written>,
    /// The socket of `sandbox enter`, unlinked when dropped.
    server: Option<enter::Server>,
}

/// The parent steps, in plan order: maps, cgroup, network, proxy, then
/// release. On failure the child is killed before anything of it could
/// outlive us, and what was made is undone.
fn parent_steps(
    plan: &Plan,
    steps: &Steps,
    caller: &Caller,
    host: &HostSide,
    child: &mut Spawned,
    home: Option<sys::Place>,
) -> Result<Made, StepError> {
    let mut made = Made::default();
    let raw = child.pid.as_raw();
    let k = &kernel::Linux;
    for Indexed { step, op } in &steps.parent {
        let r = match op {
            Parent::SetgroupsDeny => idmap::deny_setgroups(k, raw),
            Parent::IdMap { ids, map, helper } => idmap::write_map(k, raw, *ids, map, *helper),
            Parent::KeepNamespace { kind, path } => made
                .kept
                .keep(raw, *kind, path)
                .call_with(|| format!("bind /proc/{raw}/ns/{} at {path}", kind.proc_name())),
            Parent::Timeout { ms } => {
                made.deadline = Some(Instant::now() + Duration::from_millis(*ms));
                Ok(())
            }
            Parent::StateEntry { enter } => {
                made.entry = write_entry(plan, caller, child, *enter);
                // Without an entry, no socket: the helper, its socket
                // closed, leaves at once.
                let helper = child.enter.take();
                if let (Some(e), Some(helper), Some(home)) = (&made.entry, helper, home) {
                    match enter::Server::start(e.dir(), e.id(), helper, home) {
                        Ok(s) => made.server = Some(s),
                        Err(err) => {
                            eprintln!("sandbox: warning: no socket for `sandbox enter`: {err}")
                        }
                    }
                }
                // Released once the entry and its socket are there: a
                // second `--join-or-start` of the name finds both.
                if let Some(lock) = &caller.name_lock
                    && let Err(err) = sys::unlock(lock.as_fd())
                {
                    eprintln!(
                        "sandbox: warning: the state folder stays locked (--join-or-start of others waits): {err}"
                    );
                }
                Ok(())
            }
            Parent::Release => {
                // The thread that answers refusals runs before the app
                // can make one (an unanswered one would wait for ever),
                // and after every fork of the launcher's steps.
                let watching = match (child.denials.take(), denials::Rules::of(plan)) {
                    (Some(ours), Some(rules)) if rules.learn => {
                        let record = caller.learned.clone().unwrap_or_default();
                        learn::watch(ours, rules, record)
                            .call("start the thread that records what the app uses")
                    }
                    (Some(ours), Some(rules)) => {
                        denials::watch(ours, rules).call("start the thread that reports refusals")
                    }
                    _ => Ok(()),
                };
                watching.and_then(|()| {
                    nix::unistd::write(child.go.as_fd(), b"g")
                        .map(drop)
                        .call("write to the child's go pipe")
                })
            }
            Parent::Cgroup(limits) => {
                made.cgroups
                    .create(raw, *limits, &host.reaper, steps.shape.die_with_parent)
            }
            Parent::Network(network) => {
                attach::attach(network, raw, host.pasta_pid_file.as_ref(), &host.reaper)
                    .map(|a| made.attached = a)
            }
            Parent::DbusProxy(filter) => match &host.socket_dir {
                Some(d) => dbus::start(&d.socket(), filter, caller).map(|p| made.proxy = Some(p)),
                None => Ok(()),
            },
        };
        if let Err(f) = r {
            // Then `made` is dropped: the cgroups (empty now) removed,
            // the network detached, the proxy stopped, no pin kept.
            let _ = kill(child.pid, Signal::SIGKILL);
            let _ = waitpid(child.pid, None);
            return Err(StepError::at(*step, f));
        }
    }
    Ok(made)
}

/// The sandbox's entry for `sandbox ps`, if the caller has a state folder.
fn write_entry(
    plan: &Plan,
    caller: &Caller,
    child: &Spawned,
    enter: bool,
) -> Option<state::Written> {
    let euid = nix::unistd::geteuid().as_raw();
    let folder = state::folder(euid, caller.var("XDG_RUNTIME_DIR"))?;
    let launcher = std::process::id() as i32;
    let launcher_start = state::start_time(launcher)?;
    let command = plan
        .steps
        .iter()
        .find_map(|s| match &s.action {
            crate::plan::Action::Exec { argv } => Some(
                argv.iter()
                    .map(|a| {
                        crate::plan::bytes_text(std::os::unix::ffi::OsStrExt::as_bytes(
                            a.as_os_str(),
                        ))
                    })
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    let entry = state::Entry {
        id: format!("{launcher}-{launcher_start}"),
        name: caller.name.clone(),
        profile: plan.profile.clone(),
        command,
        uid: nix::unistd::getuid().as_raw(),
        launcher,
        launcher_start,
        child: child.pid.as_raw(),
        started: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        namespaces: child.namespaces.clone(),
        enter,
        network: state::Network::of(plan),
    };
    state::write(&folder, euid, &entry)
}

/// Supervise the child to its end, undo what the launcher made, and turn
/// the end into the exit code.
fn finish(
    plan: &Plan,
    steps: &Steps,
    caller: &Caller,
    host: HostSide,
    child: Spawned,
    mut made: Made,
) -> u8 {
    let (status, timed_out) = supervise(
        child.pid,
        &child.signals,
        made.deadline,
        steps.shape.own_session,
        made.server.as_mut(),
    );
    // No one enters a sandbox that has ended.
    drop(made.server.take());
    drop(std::mem::take(&mut made.attached));
    drop(made.proxy.take());
    drop(host.socket_dir);
    if child.subreaper {
        process::end_orphans(host.reaper.pid());
    }
    // Before the reaper finishes, which forgets them: a cgroup that would
    // not go (a process of the sandbox still in it) is left to the reaper,
    // which kills what is in it and removes it, when dropped unfinished.
    if made.cgroups.remove() {
        host.reaper.finish();
    } else {
        drop(host.reaper);
    }
    let kept = std::mem::take(&mut made.kept);
    // A child that failed a step left a report; one that exec'd did not.
    set_nonblocking(&child.report);
    if let Some(e) = report::receive(child.report.as_fd()) {
        // The setup failed: nothing it kept stays.
        drop(kept);
        eprint!("{}", report::message(plan, &e));
        if let Some(s) = &caller.status {
            s.setup_failed(plan, &e);
        }
        return report::exit_code(plan, &e);
    }
    kept.stay();
    drop(child.go);
    if matches!(status, WaitStatus::Signaled(_, Signal::SIGSYS, _)) && steps.shape.init {
        let message = "the sandbox's PID 1 made a system call its own filter refuses, which ended the sandbox (a bug in sandbox: please report it)";
        eprintln!("sandbox: error: {message}");
        if let Some(s) = &caller.status {
            s.sandbox_failed(message, SETUP_FAILED);
        }
        return SETUP_FAILED;
    }
    let code = match timed_out {
        true => TIMED_OUT,
        false => init::status_code(status)
            .unwrap_or(SETUP_FAILED.into())
            .clamp(0, 255) as u8,
    };
    if let Some(s) = &caller.status {
        let (exit, signal) = match status {
            WaitStatus::Exited(_, c) => (Some(c), None),
            WaitStatus::Signaled(_, sig, _) => (None, Some(sig as i32)),
            _ => (None, None),
        };
        s.exited(exit, signal, timed_out, code);
    }
    code
}

fn set_nonblocking(fd: &OwnedFd) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
        let _ = fcntl(
            fd,
            FcntlArg::F_SETFL(OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK),
        );
    }
}

/// Signals that ask a program to stop.
const TERMINATING: [i32; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT];

use crate::exit::{SETUP_FAILED, TIMED_OUT};

/// Forward signals to the child until it exits; at the deadline send TERM,
/// then KILL after a grace period. Returns the status and whether the
/// timeout ended it.
///
/// `own_session`: the sandbox is in a session of its own. Otherwise it
/// shares the caller's terminal, whose keys (Ctrl-C, Ctrl-\\, a resize)
/// signal its foreground group, the app included, directly: a signal the
/// kernel sent (si_code SI_KERNEL) is then not forwarded, or the app would
/// get it twice.
fn supervise(
    pid: Pid,
    signals: &SignalFd,
    mut deadline: Option<Instant>,
    own_session: bool,
    mut server: Option<&mut enter::Server>,
) -> (WaitStatus, bool) {
    let mut killing_at: Option<Instant> = None;
    let mut timed_out = false;
    let mut stop_requests = 0;
    // Once the app has run a little (a short command never gets here), the
    // launcher gives back what setup left resident: it only waits now.
    let mut trim_at = Some(Instant::now() + resident::AFTER);
    loop {
        let wait_until = [killing_at.or(deadline), trim_at]
            .into_iter()
            .flatten()
            .min();
        let woke = match server.as_deref_mut() {
            Some(s) => {
                let (woke, ready) = wait::next_signal_watching(signals, &s.fds(), wait_until);
                s.ready(&ready);
                woke
            }
            None => wait::next_signal(signals, wait_until),
        };
        match woke {
            wait::Woke::Due => {
                if trim_at.is_some_and(|t| Instant::now() >= t) {
                    trim_at = None;
                    let _ = resident::trim(None);
                    continue;
                }
                if killing_at.is_some() {
                    let _ = kill(pid, Signal::SIGKILL);
                    killing_at = None;
                } else if deadline.take().is_some() {
                    // The signal first: a message must not stand between
                    // the deadline and the stop (see say_detached).
                    timed_out = true;
                    let _ = kill(pid, Signal::SIGTERM);
                    sys::say_detached("sandbox: timeout reached, stopping the sandbox\n".into());
                    killing_at = Some(Instant::now() + KILL_GRACE);
                }
                continue;
            }
            wait::Woke::Signal(info) => {
                let sig = info.ssi_signo as i32;
                let from_process = info.ssi_code <= 0;
                if sig != libc::SIGCHLD
                    && (from_process || own_session)
                    && let Ok(s) = Signal::try_from(sig)
                {
                    let _ = kill(pid, s);
                    // A second request to stop, from a process (kill,
                    // systemd, timeout(1); not the terminal's keys), is not
                    // left to the sandbox: whatever its app or PID 1 does,
                    // it ends now.
                    if from_process && TERMINATING.contains(&sig) {
                        stop_requests += 1;
                        if stop_requests >= 2 {
                            let _ = kill(pid, Signal::SIGKILL);
                        }
                    }
                }
            }
            wait::Woke::Nothing => {}
        }
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(st @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => return (st, timed_out),
            Ok(_) => {}
            Err(_) => return (WaitStatus::Exited(pid, SETUP_FAILED.into()), timed_out),
        }
    }
}

/// Join the namespaces the plan names. Every file is opened first, as
/// the caller (once in another user namespace, a process's /proc/PID/ns
/// may be out of reach). A user namespace that does not own the others
/// (a sandbox's app, in the sandwich's inner namespace, whose mount, uts,
/// ... namespaces belong to the outer one) is entered through their
/// owner: the owner, the others, then it, as the app came to be.
fn join_all(before: &[Indexed<Before>]) -> Result<(), StepError> {
    let mut open = vec![];
    for Indexed { step, op } in before {
        if let Before::Join { kind, path } = op {
            let f = std::fs::File::open(path)
                .map_err(|e| StepError::new(*step, e, format!("open {path}")))?;
            open.push((*step, *kind, path.to_string(), OwnedFd::from(f)));
        }
    }
    // Root's supplementary groups (gid 0 among them) would still count on
    // the host's files from a namespace that denies setgroups.
    if !open.is_empty() && nix::unistd::geteuid().is_root() {
        nix::unistd::setgroups(&[]).map_err(|e| StepError::new(open[0].0, e, "setgroups []"))?;
    }
    let setns = |(i, kind, path, fd): &(usize, NsKind, String, OwnedFd)| {
        nix::sched::setns(fd, kind.clone_flag())
            .map_err(|e| StepError::new(*i, e, format!("setns {path}")))
    };
    let same = |a: &OwnedFd, b: &OwnedFd| match (nix::sys::stat::fstat(a), nix::sys::stat::fstat(b))
    {
        (Ok(a), Ok(b)) => (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino),
        _ => false,
    };
    let user = open.iter().position(|(_, k, _, _)| *k == NsKind::User);
    let Some(u) = user else {
        return open.iter().try_for_each(setns);
    };
    let user = open.remove(u);
    // The owner of the others, when it is not the user namespace named.
    let owner = match open.first() {
        Some((i, _, path, fd)) => {
            let o = sys::namespace_owner(fd.as_fd())
                .map_err(|e| StepError::new(*i, e, format!("the owner of {path}")))?;
            (!same(&o, &user.3)).then_some(o)
        }
        None => None,
    };
    match owner {
        Some(o) => {
            nix::sched::setns(&o, NsKind::User.clone_flag()).map_err(|e| {
                StepError::new(
                    user.0,
                    e,
                    format!("setns (the user namespace that owns {})", open[0].2),
                )
            })?;
            open.iter().try_for_each(setns)?;
            setns(&user)
        }
        None => {
            setns(&user)?;
            open.iter().try_for_each(setns)
        }
    }
}
