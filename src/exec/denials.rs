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
pub(super) const NOTIF_ID_VALID: libc::c_ulong = 0x4008_2102;

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
                learn,
                ..
            } if *trace || *learn => Some(Rules {
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

    /// The rule that refused call `nr` with `args`, in words.
    pub fn why(&self, nr: u32, args: &[u64; 6]) -> String {
        let name = name_of(nr);
        let setuid = (libc::S_ISUID | libc::S_ISGID) as u64;
        let rule = if nr & 0x4000_0000 != 0 && nr < 0x4000_1000 {
            "the x32 ABI, always refused".to_string()
        } else if self.policy == SeccompPolicy::Allowlist && !self.named.contains(&nr) {
            "not in the allowlist".to_string()
        } else if self.policy == SeccompPolicy::Default && self.named.contains(&nr) {
            let group = crate::syscalls::DEFAULT_DENY.iter().find(|g| {
                crate::syscalls::expand(g)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.nr() == nr)
            });
            match group {
                Some(g) => format!("the default policy's {g}, or seccomp.deny"),
                None => "seccomp.deny".to_string(),
            }
        } else if name == "ioctl" {
            "keystrokes into the terminal (ioctl TIOCSTI/TIOCLINUX), always refused".to_string()
        } else if ["clone", "unshare", "setns"].contains(&name) && !self.namespaces {
            "new namespaces (user.nested_userns is off)".to_string()
        } else if let Some((_, arg)) = super::seccomp::MODE_ARG.iter().find(|(n, _)| *n == name)
            && args[*arg as usize] & setuid != 0
        {
            "a setuid or setgid bit (seccomp.allow_setuid_bits is off)".to_string()
        } else if name == "personality" {
            "a personality flag that weakens address-space randomization".to_string()
        } else {
            "the seccomp filter".to_string()
        };
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

/// Report and refuse every refusal until the sandbox ends.
pub fn watch(channel: OwnedFd, rules: Rules) -> io::Result<()> {
    listen("denials", channel, move |_, n| {
        use std::io::Write;
        let line = crate::diag::printable(&rules.line(n.pid, n.data.nr as u32, &n.data.args));
        let line = format!("{line}\n");
        let _ = io::stderr().lock().write_all(line.as_bytes());
        Answer::Fail(rules.errno)
    })
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
}
