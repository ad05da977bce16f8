//! The launcher's side of `--trace-denials` (`[seccomp] trace`): the app's
//! filter answers a refused call with SECCOMP_RET_USER_NOTIF, and its
//! listener, sent here over a socket pair the launcher made, is read by a
//! thread of the launcher, outside the sandbox: each refusal is reported
//! on the launcher's stderr with the call's name, arguments and the rule
//! that refused it, and answered with the errno the plan gives, so that
//! the app sees what it would see untraced. The app never holds the
//! listener (its process sends it and closes it before exec, and the
//! socket is close-on-exec); answering from inside would let it pass any
//! call.

use crate::plan::learned::Refusal;
use crate::plan::{Action, Plan, SeccompPolicy};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// struct seccomp_data.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Data {
    pub nr: i32,
    arch: u32,
    instruction_pointer: u64,
    pub args: [u64; 6],
}

/// struct seccomp_notif.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Notif {
    pub id: u64,
    pub pid: u32,
    flags: u32,
    pub data: Data,
}

/// struct seccomp_notif_resp.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Resp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct seccomp_notif_resp).
const NOTIF_RECV: libc::c_ulong =
    0xc000_0000 | ((size_of::<Notif>() as libc::c_ulong) << 16) | 0x2100;
const NOTIF_SEND: libc::c_ulong =
    0xc000_0000 | ((size_of::<Resp>() as libc::c_ulong) << 16) | 0x2101;

/// _IOW('!', 2, __u64): whether a notification's caller still waits.
const NOTIF_ID_VALID: libc::c_ulong = 0x4008_2102;

/// Whether the caller of notification `n` still waits: only then is what
/// was read of its memory and /proc entries its own (a thread id reused
/// meanwhile would be another process's).
pub(super) fn still_waits(listener: &OwnedFd, n: &Notif) -> bool {
    // SAFETY: `n.id` is a u64 the kernel reads.
    unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_ID_VALID, &n.id) == 0 }
}

/// What the launcher knows of the filter, to say which rule refused.
#[derive(Clone, Debug)]
pub struct Rules {
    pub(super) policy: SeccompPolicy,
    /// The numbers the policy names (refused, or allowed by an allowlist).
    pub(super) named: Vec<u32>,
    pub(super) errno: i32,
    /// Whether new namespaces may be made.
    pub(super) namespaces: bool,
    /// Whether the setuid and setgid bits may be set.
    pub(super) setuid_bits: bool,
    /// Whether openat2 passes although its mode is out of the filter's
    /// reach (else it fails with ENOSYS while the bits are refused).
    pub(super) openat2: bool,
    /// `sandbox learn`'s filter (learn.rs answers), not `--trace-denials`'.
    pub(super) learn: bool,
    /// The profile line of the seccomp step.
    pub(super) origin: Option<String>,
    /// With `--trace-denials` and a Landlock step: its rules, for the
    /// launcher to report what they refuse of the watched calls.
    pub(super) landlock: Option<super::predict::Prediction>,
}

impl Rules {
    /// The plan's seccomp step, when it traces its refusals.
    pub fn of(plan: &Plan) -> Option<Rules> {
        plan.steps.iter().find_map(|s| match &s.action {
            Action::Seccomp {
                policy,
                syscalls,
                errno,
                namespaces,
                setuid_bits,
                openat2,
                trace,
                watch_paths,
                learn,
                ..
            } if *trace || *learn => Some(Rules {
                landlock: match watch_paths {
                    true => super::predict::Prediction::of(plan),
                    false => None,
                },
                openat2: *openat2,
                policy: *policy,
                named: syscalls.iter().map(|c| c.nr()).collect(),
                errno: *errno,
                namespaces: *namespaces,
                setuid_bits: *setuid_bits,
                learn: *learn,
                origin: s.origin.as_ref().map(|o| o.to_string()),
            }),
            _ => None,
        })
    }

    /// Whether call `nr` is openat2 failing with ENOSYS, as in the filter
    /// untraced: while the setuid bits are refused, its mode is out of
    /// the filter's reach (it is in memory another thread could change
    /// after it was read), and libc falls back to openat.
    pub(super) fn openat2_fails(&self, nr: u32) -> bool {
        Some(nr) == crate::syscalls::number("openat2") && !self.setuid_bits && !self.openat2
    }

    /// Which rule of the policy refuses call `nr` with `args`; None when
    /// it passes (the filter sends the watched calls it lets through too,
    /// with their argument checks left to this).
    pub(super) fn verdict(&self, nr: u32, args: &[u64; 6]) -> Option<Rule> {
        if nr & 0x4000_0000 != 0 {
            return Some(Rule::X32);
        }
        let name = name_of(nr);
        let setuid = (libc::S_ISUID | libc::S_ISGID) as u64;
        if !self.setuid_bits
            && let Some((_, arg)) = super::seccomp::MODE_ARG.iter().find(|(n, _)| *n == name)
            && args[*arg as usize] & setuid != 0
        {
            return Some(Rule::SetuidBits);
        }
        let named = self.named.contains(&nr);
        match self.policy {
            SeccompPolicy::Allowlist if !named && name != "execve" => {
                return Some(Rule::NotAllowed);
            }
            SeccompPolicy::Default if named => {
                let group = crate::syscalls::DEFAULT_DENY.iter().find(|g| {
                    crate::syscalls::expand(g)
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.nr() == nr)
                });
                return Some(Rule::Denied(group.copied()));
            }
            _ => {}
        }
        if super::calls::form_of(nr).is_some() {
            return None;
        }
        Some(match name {
            "ioctl" => Rule::Terminal,
            "clone" | "unshare" | "setns" if !self.namespaces => Rule::Namespaces,
            "personality" => Rule::Personality,
            _ => Rule::Filter,
        })
    }

    /// The rule that refused call `nr` with `args`, in words, with the
    /// profile line of the seccomp step.
    pub fn why(&self, nr: u32, args: &[u64; 6]) -> String {
        let rule = self.verdict(nr, args).unwrap_or(Rule::Filter).text();
        match &self.origin {
            Some(o) => format!("{rule} ({o})"),
            None => rule,
        }
    }

    /// The line the launcher prints for one refusal.
    fn line(&self, pid: u32, nr: u32, args: &[u64; 6]) -> String {
        let shown: Vec<String> = args.iter().map(|a| format!("{a:#x}")).collect();
        format!(
            "sandbox: refused: {}({}) by thread {pid}: {}, by {}",
            name_of(nr),
            shown.join(", "),
            crate::plan::errno_name(self.errno),
            self.why(nr, args)
        )
    }
}

/// A rule of the seccomp policy that refuses a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rule {
    /// The x32 ABI, always refused.
    X32,
    /// A setuid or setgid bit in a mode (`allow_setuid_bits` is off).
    SetuidBits,
    /// Not in the allowlist.
    NotAllowed,
    /// In the default policy's group, or `seccomp.deny`.
    Denied(Option<&'static str>),
    /// Keystrokes into the terminal (ioctl TIOCSTI/TIOCLINUX).
    Terminal,
    /// New namespaces (`user.nested_userns` is off).
    Namespaces,
    /// A personality flag that weakens address-space randomization.
    Personality,
    /// Another check of the filter's.
    Filter,
}

impl Rule {
    fn text(self) -> String {
        match self {
            Rule::X32 => "the x32 ABI, always refused".into(),
            Rule::SetuidBits => "a setuid or setgid bit (seccomp.allow_setuid_bits is off)".into(),
            Rule::NotAllowed => "not in the allowlist".into(),
            Rule::Denied(Some(g)) => format!("the default policy's {g}, or seccomp.deny"),
            Rule::Denied(None) => "seccomp.deny".into(),
            Rule::Terminal => {
                "keystrokes into the terminal (ioctl TIOCSTI/TIOCLINUX), always refused".into()
            }
            Rule::Namespaces => "new namespaces (user.nested_userns is off)".into(),
            Rule::Personality => {
                "a personality flag that weakens address-space randomization".into()
            }
            Rule::Filter => "the seccomp filter".into(),
        }
    }

    /// What a draft profile could do about a refusal of call `nr`.
    pub(super) fn refusal(self, nr: u32) -> Refusal {
        // The kernel's own business: no draft allows them, whatever the
        // app tried (they fail in a user namespace anyway).
        const KERNEL: &[&str] = &[
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "reboot",
            "swapon",
            "swapoff",
            "bpf",
            "iopl",
            "ioperm",
        ];
        match self {
            Rule::NotAllowed | Rule::Denied(_) if KERNEL.contains(&name_of(nr)) => Refusal::Never,
            Rule::NotAllowed | Rule::Denied(_) => Refusal::Allowable,
            Rule::Namespaces => Refusal::Namespaces,
            Rule::X32 | Rule::SetuidBits | Rule::Terminal | Rule::Personality | Rule::Filter => {
                Refusal::Never
            }
        }
    }
}

/// A call's name on this architecture, or its number.
pub(super) fn name_of(nr: u32) -> &'static str {
    crate::syscalls::SYSCALLS
        .iter()
        .find(|(_, n)| *n == nr & !0x4000_0000)
        .map(|(name, _)| *name)
        .unwrap_or("?")
}

/// What the launcher answers a notification.
pub(super) enum Answer {
    /// The call fails with this errno.
    Fail(i32),
    /// The call goes on (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
    Continue,
}

/// Start the thread `name` that waits for the listener on `channel`,
/// then gives each notification to `handle` (with the listener, to ask
/// whether its caller still waits) and sends the answer, until the
/// sandbox ends (the launcher's exit ends it). A channel closed without a
/// listener (the app's process ended or failed before its filter) ends it
/// at once.
pub(super) fn listen(
    name: &str,
    channel: OwnedFd,
    mut handle: impl FnMut(&OwnedFd, &Notif) -> Answer + Send + 'static,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let Ok((_, mut fds)) = super::enter::receive(channel.as_fd(), true) else {
                return;
            };
            drop(channel);
            let Some(listener) = fds.pop() else { return };
            loop {
                let mut n = Notif::default();
                // SAFETY: `n` is a zeroed seccomp_notif the kernel fills.
                let r =
                    unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_RECV, &mut n as *mut Notif) };
                if r < 0 {
                    match io::Error::last_os_error().raw_os_error() {
                        // Interrupted, or the caller died before we read it.
                        Some(libc::EINTR) | Some(libc::ENOENT) => continue,
                        _ => return,
                    }
                }
                let (error, flags) = match handle(&listener, &n) {
                    Answer::Fail(errno) => (-errno, 0),
                    Answer::Continue => (0, CONTINUE),
                };
                let resp = Resp {
                    id: n.id,
                    val: 0,
                    error,
                    flags,
                };
                // SAFETY: `resp` is a valid seccomp_notif_resp the kernel
                // reads. A caller that died meanwhile (ENOENT) needs no
                // answer.
                unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_SEND, &resp as *const Resp) };
            }
        })
        .map(drop)
}

/// SECCOMP_USER_NOTIF_FLAG_CONTINUE.
const CONTINUE: u32 = 1;

/// Report and refuse every refusal until the sandbox ends; with
/// Landlock's rules, let each watched call that passes the policy go on,
/// and report it when they would refuse it.
pub fn watch(channel: OwnedFd, mut rules: Rules) -> io::Result<()> {
    listen("denials", channel, move |listener, n| {
        let nr = n.data.nr as u32;
        let args = n.data.args;
        if rules.verdict(nr, &args).is_some() {
            say(&rules.line(n.pid, nr, &args));
            return Answer::Fail(rules.errno);
        }
        // After the policy's verdict, as untraced.
        if rules.openat2_fails(nr) {
            return Answer::Fail(libc::ENOSYS);
        }
        // A watched call the policy lets through: the kernel decides.
        if let (Some(form), Some(landlock)) = (super::calls::form_of(nr), rules.landlock.as_mut()) {
            let task = super::calls::Task::tracing(n.pid, landlock.ports());
            let call = name_of(nr);
            let refused: Vec<String> = task
                .uses(form, &args)
                .iter()
                .filter_map(|e| {
                    let why = landlock.refusal(&task, call, form, e)?;
                    Some(format!(
                        "sandbox: refused (predicted): {call} {} by thread {}: EACCES, by Landlock: {why}",
                        shown(e),
                        n.pid
                    ))
                })
                .collect();
            if still_waits(listener, n) {
                refused.iter().for_each(|l| say(l));
            }
        }
        Answer::Continue
    })
}

/// Print one line of the report on the launcher's stderr.
fn say(line: &str) {
    use std::io::Write;
    let line = format!("{}\n", crate::diag::printable(line));
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// What a watched call uses, for a line of the report.
fn shown(e: &crate::plan::learned::Event) -> String {
    use crate::plan::learned::{Address, Event, Use};
    let address = |a: &Address| match a {
        Address::Ip { ip, port, .. } => format!("{ip}:{port}"),
        Address::Unix(p) => format!("{p:?}"),
        Address::Abstract(n) => format!("@{}", crate::plan::bytes_text(n)),
    };
    match e {
        Event::Path { path, how } => {
            let how = match how {
                Use::Read => "read",
                Use::List => "listed",
                Use::Exec => "run",
                Use::Write => "written",
                Use::Entry => "an entry made or removed",
                Use::Missing => "missing",
            };
            format!("{path:?} ({how})")
        }
        Event::Connect(a) => format!("to {}", address(a)),
        Event::Bind(a) => address(a),
        Event::Refused { call, .. } => call.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_structs_have_their_sizes() {
        assert_eq!(size_of::<Notif>(), 80);
        assert_eq!(size_of::<Resp>(), 24);
        assert_eq!(NOTIF_RECV, 0xc050_2100);
        assert_eq!(NOTIF_SEND, 0xc018_2101);
    }

    #[test]
    fn the_rule_is_named() {
        let nr = |n: &str| crate::syscalls::number(n).unwrap();
        let rules = Rules {
            policy: SeccompPolicy::Default,
            named: vec![],
            errno: libc::EPERM,
            namespaces: false,
            setuid_bits: false,
            openat2: false,
            learn: false,
            origin: Some("p.toml:3:8".into()),
            landlock: None,
        };
        let rules = Rules {
            named: vec![nr("mount"), nr("chdir")],
            ..rules
        };
        assert!(
            rules
                .why(nr("mount"), &[0; 6])
                .starts_with("the default policy's @"),
            "{}",
            rules.why(nr("mount"), &[0; 6])
        );
        assert!(rules.why(nr("chdir"), &[0; 6]).starts_with("seccomp.deny"));
        assert!(
            rules
                .why(nr("unshare"), &[0; 6])
                .starts_with("new namespaces")
        );
        assert!(
            rules
                .why(nr("chmod"), &[0, 0o4755, 0, 0, 0, 0])
                .starts_with("a setuid")
        );
        let line = rules.line(7, nr("chdir"), &[1, 0, 0, 0, 0, 0]);
        assert_eq!(
            line,
            "sandbox: refused: chdir(0x1, 0x0, 0x0, 0x0, 0x0, 0x0) by thread 7: EPERM, by seccomp.deny (p.toml:3:8)"
        );
    }

    #[test]
    fn refusals_are_sorted_by_what_a_draft_can_do() {
        let nr = |n: &str| crate::syscalls::number(n).unwrap();
        let rules = Rules {
            policy: SeccompPolicy::Default,
            named: vec![nr("mount"), nr("connect"), nr("reboot")],
            errno: libc::EPERM,
            namespaces: false,
            setuid_bits: false,
            openat2: false,
            learn: true,
            origin: None,
            landlock: None,
        };
        let refusal = |r: &Rules, n: u32, args: &[u64; 6]| r.verdict(n, args).map(|v| v.refusal(n));
        assert_eq!(
            refusal(&rules, nr("mount"), &[0; 6]),
            Some(Refusal::Allowable)
        );
        assert_eq!(
            refusal(&rules, nr("connect"), &[0; 6]),
            Some(Refusal::Allowable)
        );
        assert_eq!(refusal(&rules, nr("reboot"), &[0; 6]), Some(Refusal::Never));
        // A watched call the policy passes: the kernel decides.
        assert_eq!(refusal(&rules, nr("openat"), &[0; 6]), None);
        assert_eq!(
            refusal(&rules, nr("openat"), &[0, 0, 0, 0o4755, 0, 0]),
            Some(Refusal::Never)
        );
        assert_eq!(
            refusal(&rules, nr("unshare"), &[0; 6]),
            Some(Refusal::Namespaces)
        );
        assert_eq!(refusal(&rules, nr("ioctl"), &[0; 6]), Some(Refusal::Never));
        assert_eq!(
            refusal(&rules, 0x4000_0000 | 2, &[0; 6]),
            Some(Refusal::Never)
        );
        let allow = Rules {
            policy: SeccompPolicy::Allowlist,
            named: vec![nr("read")],
            ..rules
        };
        assert_eq!(
            refusal(&allow, nr("write"), &[0; 6]),
            Some(Refusal::Allowable)
        );
        // execve passes every allowlist; a watched call it lacks does not.
        assert_eq!(refusal(&allow, nr("execve"), &[0; 6]), None);
        assert_eq!(
            refusal(&allow, nr("openat"), &[0; 6]),
            Some(Refusal::Allowable)
        );
    }
}
