//! The seccomp filter, generated as classic BPF (in seccompiler's
//! instruction type) and loaded through the kernel seam
//! (`Kernel::load_seccomp`, seccomp(SECCOMP_SET_MODE_FILTER)): the app's
//! after the NoNewPrivs step (order.rs checks it comes first), PID 1's own
//! in init::seal after it sets no_new_privs itself.
//!
//! seccompiler's own compiler lays rules out as a linear chain; the kernel
//! runs a new filter once per syscall number when it is attached (to build
//! its allow-cache), so a chain costs more to attach and more per denied
//! call. This module lays the syscall numbers out as a binary search.
//!
//! Shape of the program:
//! 1. wrong architecture: kill (a 32-bit or foreign ABI would bypass every
//!    number below);
//! 2. x32 ABI (number with bit 30 set): refused;
//! 3. binary search over the numbers that have a verdict; each leaf
//!    returns, possibly after checking an argument (ioctl, clone, unshare,
//!    personality); numbers without a verdict get the default.

use crate::plan::{SeccompPolicy, Syscall};
use seccompiler::sock_filter;
use std::os::fd::AsRawFd;

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JGE_K: u16 = 0x35;
const BPF_JSET_K: u16 = 0x45;
const BPF_JA: u16 = 0x05;
const BPF_RET_K: u16 = 0x06;

const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// The call waits for the launcher, which answers with the errno.
const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Offsets in struct seccomp_data.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// Low 32 bits of argument `n` (little-endian): ioctl requests and flags
/// are compared on these only, as the kernel itself truncates them.
const fn off_arg(n: u32) -> u32 {
    16 + 8 * n
}

/// Namespace flags refused to clone/unshare unless the profile allows
/// nested namespaces.
const CLONE_NS_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWTIME) as u32;

/// personality(0xffffffff) reads the persona without changing it.
const PERSONALITY_QUERY: u32 = 0xffff_ffff;

/// ioctl without TIOCSTI and TIOCLINUX: no keystrokes pushed into the
/// caller's terminal, which the app shares unless it has a new session.
fn no_keystrokes(refuse: u32) -> Verdict {
    Verdict::ArgIn {
        arg: 1,
        values: vec![libc::TIOCSTI as u32, libc::TIOCLINUX as u32],
        refuse,
        otherwise: SECCOMP_RET_ALLOW,
    }
}

/// The setuid and setgid mode bits.
const SETUID_BITS: u32 = libc::S_ISUID | libc::S_ISGID;

/// The calls that set a file's mode, and which argument holds it: a file
/// given the setuid or setgid bit on a writable bind is a privilege for
/// whoever runs it on the host (a root caller's app, without a user
/// namespace or mapped onto root, would leave a setuid-root binary).
pub(super) const MODE_ARG: [(&str, u32); 9] = [
    ("chmod", 1),
    ("fchmod", 1),
    ("fchmodat", 2),
    ("fchmodat2", 2),
    ("creat", 1),
    ("open", 2),
    ("openat", 3),
    ("mknod", 1),
    ("mknodat", 2),
];

/// The verdicts that refuse the setuid and setgid bits: on each call of
/// [`MODE_ARG`] by its mode, and `openat2` (its mode lives in memory a
/// filter cannot read) with ENOSYS, as libc falls back to `openat`.
fn setuid_rules(refuse: u32, openat2: bool) -> Vec<(u32, Verdict)> {
    let mut rules: Vec<(u32, Verdict)> = MODE_ARG
        .iter()
        .filter_map(|(name, arg)| {
            let n = crate::syscalls::number(name)?;
            Some((
                n,
                Verdict::ArgMask {
                    arg: *arg,
                    mask: SETUID_BITS,
                    refuse,
                    otherwise: SECCOMP_RET_ALLOW,
                    unless: None,
                },
            ))
        })
        .collect();
    if let Some(n) = crate::syscalls::number("openat2").filter(|_| !openat2) {
        rules.push((n, Verdict::Ret(SECCOMP_RET_ERRNO | libc::ENOSYS as u32)));
    }
    rules
}

/// personality() bits that weaken address-space randomization or W^X.
const UNSAFE_PERSONALITY: u32 = 0x0004_0000 /* ADDR_NO_RANDOMIZE */
    | 0x0040_0000 /* READ_IMPLIES_EXEC */
    | 0x0020_0000 /* ADDR_COMPAT_LAYOUT */
    | 0x0010_0000 /* MMAP_PAGE_ZERO */;

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}
fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// What happens to one syscall number.
#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Ret(u32),
    /// Refuse (with the given return) when the argument has any of `mask`,
    /// unless it is exactly `unless`.
    ArgMask {
        arg: u32,
        mask: u32,
        refuse: u32,
        otherwise: u32,
        unless: Option<u32>,
    },
    /// `pass` when every argument's low 32 bits equal their value, else
    /// `otherwise`.
    ArgsAll {
        checks: Vec<(u32, u32)>,
        pass: u32,
        otherwise: u32,
    },
    /// Refuse when the argument's low 32 bits equal one of `values`.
    ArgIn {
        arg: u32,
        values: Vec<u32>,
        refuse: u32,
        otherwise: u32,
    },
}

impl Verdict {
    fn code(&self) -> Vec<sock_filter> {
        match self {
            Verdict::Ret(r) => vec![stmt(BPF_RET_K, *r)],
            Verdict::ArgMask {
                arg,
                mask,
                refuse,
                otherwise,
                unless,
            } => {
                let mut c = vec![stmt(BPF_LD_W_ABS, off_arg(*arg))];
                if let Some(u) = unless {
                    // Equal: over the test and the refusal, to `otherwise`.
                    c.push(jump(BPF_JEQ_K, *u, 2, 0));
                }
                c.extend([
                    jump(BPF_JSET_K, *mask, 0, 1),
                    stmt(BPF_RET_K, *refuse),
                    stmt(BPF_RET_K, *otherwise),
                ]);
                c
            }
            Verdict::ArgsAll {
                checks,
                pass,
                otherwise,
            } => {
                let n = checks.len();
                let mut c = vec![];
                for (i, (arg, value)) in checks.iter().enumerate() {
                    c.push(stmt(BPF_LD_W_ABS, off_arg(*arg)));
                    // Not equal: over the rest of the checks and `pass`.
                    c.push(jump(BPF_JEQ_K, *value, 0, (2 * (n - i) - 1) as u8));
                }
                c.push(stmt(BPF_RET_K, *pass));
                c.push(stmt(BPF_RET_K, *otherwise));
                c
            }
            Verdict::ArgIn {
                arg,
                values,
                refuse,
                otherwise,
            } => {
                let mut c = vec![stmt(BPF_LD_W_ABS, off_arg(*arg))];
                for v in values {
                    c.push(jump(BPF_JEQ_K, *v, 0, 1));
                    c.push(stmt(BPF_RET_K, *refuse));
                }
                c.push(stmt(BPF_RET_K, *otherwise));
                c
            }
        }
    }
}

/// Binary search over sorted (number, verdict) pairs; falls to `default`.
fn search(rules: &[(u32, Verdict)], default: u32) -> Vec<sock_filter> {
    if rules.len() <= 4 {
        let mut c = vec![];
        for (nr, v) in rules {
            let body = v.code();
            // Not this number: jump over the verdict's code.
            if body.len() <= 255 {
                c.push(jump(BPF_JEQ_K, *nr, 0, body.len() as u8));
            } else {
                c.push(jump(BPF_JEQ_K, *nr, 1, 0));
                c.push(stmt(BPF_JA, body.len() as u32));
            }
            c.extend(body);
        }
        c.push(stmt(BPF_RET_K, default));
        return c;
    }
    let mid = rules.len() / 2;
    let left = search(&rules[..mid], default);
    let right = search(&rules[mid..], default);
    // nr >= pivot: take the `ja` over the left half; else skip the `ja`.
    let mut c = vec![
        jump(BPF_JGE_K, rules[mid].0, 0, 1),
        stmt(BPF_JA, left.len() as u32),
    ];
    c.extend(left);
    c.extend(right);
    c
}

/// The handover of a traced filter's listener: the descriptor it is sent
/// over, and a secret the sendmsg carries in its unused arguments 3 to 5
/// (which the kernel ignores), so that only that one call passes: the
/// secret is in no memory the app can read once it has exec'd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handover {
    pub fd: u32,
    pub secret: [u32; 3],
    /// `sandbox learn`'s calls, sent to the listener whatever their
    /// verdict: the launcher applies the checks of their arguments itself
    /// (learn.rs).
    pub watched: &'static [u32],
}

/// Build the program for a plan's seccomp step. With `traced`, a refusal
/// waits for the launcher instead of failing at once
/// (SECCOMP_RET_USER_NOTIF), and the one sendmsg that hands over the
/// listener passes: without it, under an allowlist or a deny that refuses
/// sendmsg, the call would wait for an answer from a listener no one holds
/// yet.
pub fn program(
    policy: SeccompPolicy,
    syscalls: &[Syscall],
    errno: i32,
    creatable_namespaces: u32,
    setuid_bits: bool,
    openat2: bool,
    traced: Option<Handover>,
) -> Vec<sock_filter> {
    let refuse = match traced {
        Some(_) => SECCOMP_RET_USER_NOTIF,
        None => SECCOMP_RET_ERRNO | (errno as u32 & 0xffff),
    };
    let enosys = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    let mut rules: Vec<(u32, Verdict)> = vec![];
    let setuid = if setuid_bits {
        vec![]
    } else {
        setuid_rules(refuse, openat2)
    };
    let default = match policy {
        SeccompPolicy::Allowlist => {
            let execve = libc::SYS_execve as u32;
            for n in syscalls.iter().map(|s| s.nr()).chain([execve]) {
                // An allowed call that sets modes still may not set the
                // setuid bits, and an allowed ioctl still may not push
                // keystrokes.
                let verdict = setuid
                    .iter()
                    .find(|(m, _)| *m == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(if n == libc::SYS_ioctl as u32 {
                        no_keystrokes(refuse)
                    } else {
                        Verdict::Ret(SECCOMP_RET_ALLOW)
                    });
                rules.push((n, verdict));
            }
            refuse
        }
        SeccompPolicy::Default => {
            for s in syscalls {
                rules.push((s.nr(), Verdict::Ret(refuse)));
            }
            rules.push((libc::SYS_ioctl as u32, no_keystrokes(refuse)));
            // clone3 passes flags in memory a filter cannot read: answer
            // ENOSYS so that libc falls back to clone, whose flags we check.
            rules.push((libc::SYS_clone3 as u32, Verdict::Ret(enosys)));
            // The namespace flags the app may not use.
            let refused = CLONE_NS_FLAGS & !creatable_namespaces;
            if refused != 0 {
                for call in [libc::SYS_clone, libc::SYS_unshare] {
                    rules.push((
                        call as u32,
                        Verdict::ArgMask {
                            arg: 0,
                            mask: refused,
                            refuse,
                            otherwise: SECCOMP_RET_ALLOW,
                            unless: None,
                        },
                    ));
                }
                rules.push((libc::SYS_setns as u32, Verdict::Ret(refuse)));
            }
            rules.push((
                libc::SYS_personality as u32,
                Verdict::ArgMask {
                    arg: 0,
                    mask: UNSAFE_PERSONALITY,
                    refuse,
                    otherwise: SECCOMP_RET_ALLOW,
                    // 0xffffffff changes nothing: it asks for the current one.
                    unless: Some(PERSONALITY_QUERY),
                },
            ));
            // After the denied names: a call the profile denies stays denied.
            rules.extend(setuid);
            SECCOMP_RET_ALLOW
        }
    };
    // A number named twice keeps its first (most specific) verdict.
    rules.sort_by_key(|(n, _)| *n);
    rules.dedup_by_key(|(n, _)| *n);
    if let Some(Handover { watched, .. }) = traced {
        rules.retain(|(n, _)| !watched.contains(n));
        rules.extend(
            watched
                .iter()
                .map(|n| (*n, Verdict::Ret(SECCOMP_RET_USER_NOTIF))),
        );
        rules.sort_by_key(|(n, _)| *n);
        rules.dedup_by_key(|(n, _)| *n);
    }
    if let Some(h) = traced {
        let sendmsg = libc::SYS_sendmsg as u32;
        let otherwise = match rules.iter().position(|(n, _)| *n == sendmsg) {
            Some(i) => match rules.remove(i).1 {
                Verdict::Ret(r) => r,
                _ => refuse,
            },
            None => default,
        };
        rules.push((
            sendmsg,
            Verdict::ArgsAll {
                checks: vec![
                    (0, h.fd),
                    (3, h.secret[0]),
                    (4, h.secret[1]),
                    (5, h.secret[2]),
                ],
                pass: SECCOMP_RET_ALLOW,
                otherwise,
            },
        ));
        rules.sort_by_key(|(n, _)| *n);
    }
    let mut prog = header(refuse);
    prog.extend(search(&rules, default));
    prog
}

/// What PID 1 still calls once sealed: waiting for signals and children,
/// forwarding signals, reaping, giving back memory (reading its smaps
/// through the descriptor it kept), and exiting. Nothing that opens,
/// creates, executes or changes credentials, namespaces or mounts.
const INIT_SYSCALLS: &[&str] = &[
    "read",
    "close",
    "close_range",
    "poll",
    "ppoll",
    "wait4",
    "waitid",
    "kill",
    "exit",
    "exit_group",
    "rt_sigreturn",
    "restart_syscall",
    "rt_sigprocmask",
    "signalfd4",
    "madvise",
    "munmap",
    "mmap",
    "mremap",
    "brk",
    "pread64",
    "fstat",
    "newfstatat",
    "statx",
    "lseek",
    "clock_gettime",
    "clock_nanosleep",
    "getpid",
    "gettid",
    "sched_yield",
    "futex",
];

/// PID 1's own filter: only [`INIT_SYSCALLS`]. Stricter than any app
/// policy. Anything else kills it, and with it the sandbox: PID 1 cannot
/// be stopped or killed from inside, so a refusal it did not expect would
/// leave it looping, and the launcher says when PID 1 died this way.
pub fn init_program() -> Vec<sock_filter> {
    let refuse = SECCOMP_RET_KILL_PROCESS;
    let mut rules: Vec<(u32, Verdict)> = INIT_SYSCALLS
        .iter()
        .filter_map(|n| crate::syscalls::number(n))
        .map(|n| (n, Verdict::Ret(SECCOMP_RET_ALLOW)))
        .collect();
    rules.sort_by_key(|(n, _)| *n);
    rules.dedup_by_key(|(n, _)| *n);
    let mut prog = header(refuse);
    prog.extend(search(&rules, refuse));
    prog
}

/// The checks every program starts with: a foreign architecture is
/// killed, an x32 call refused.
fn header(refuse: u32) -> Vec<sock_filter> {
    vec![
        stmt(BPF_LD_W_ABS, OFF_ARCH),
        jump(BPF_JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
        stmt(BPF_LD_W_ABS, OFF_NR),
        jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1),
        stmt(BPF_RET_K, refuse),
    ]
}

/// Load the app's filter; with `channel` (the plan traces refusals), with
/// a listener, sent to the launcher over it.
pub fn apply(
    k: &dyn super::kernel::Kernel,
    f: &super::steps::Seccomp,
    channel: Option<std::os::fd::BorrowedFd>,
) -> Result<(), super::failure::Failure> {
    use super::failure::Call;
    let creatable = match (f.namespaces, f.time_namespaces) {
        (true, _) => CLONE_NS_FLAGS,
        (false, true) => libc::CLONE_NEWTIME as u32,
        (false, false) => 0,
    };
    let handover = match channel {
        Some(c) => Some(Handover {
            fd: c.as_raw_fd() as u32,
            secret: k.random_words().call("getrandom")?,
            watched: if f.learn || f.watch_paths {
                super::calls::watched()
            } else {
                &[]
            },
        }),
        None => None,
    };
    let prog = program(
        f.policy,
        f.syscalls,
        f.errno,
        creatable,
        f.setuid_bits,
        f.openat2,
        handover,
    );
    if let (Some(c), Some(h)) = (channel, handover) {
        return k
            .load_seccomp_traced(&as_kernel_program(&prog), c, h.secret)
            .call_with(|| {
                format!(
                    "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, {} instructions), then sendmsg of the listener",
                    prog.len()
                )
            });
    }
    k.load_seccomp(&as_kernel_program(&prog)).call_with(|| {
        format!(
            "seccomp(SECCOMP_SET_MODE_FILTER, {} instructions)",
            prog.len()
        )
    })
}

/// The program in the kernel's own layout (seccompiler's is the same
/// struct under its own name).
pub fn as_kernel_program(prog: &[sock_filter]) -> Vec<libc::sock_filter> {
    prog.iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic-BPF interpreter for the subset we emit, to check verdicts
    /// without loading anything into the kernel.
    fn run(prog: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = vec![];
        data.extend_from_slice(&nr.to_le_bytes());
        data.extend_from_slice(&arch.to_le_bytes());
        data.extend_from_slice(&0u64.to_le_bytes());
        for a in args {
            data.extend_from_slice(&a.to_le_bytes());
        }
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = &prog[pc];
            pc += 1;
            match i.code {
                BPF_LD_W_ABS => {
                    acc =
                        u32::from_le_bytes(data[i.k as usize..i.k as usize + 4].try_into().unwrap())
                }
                BPF_RET_K => return i.k,
                BPF_JA => pc += i.k as usize,
                BPF_JEQ_K | BPF_JGE_K | BPF_JSET_K => {
                    let t = match i.code {
                        BPF_JEQ_K => acc == i.k,
                        BPF_JGE_K => acc >= i.k,
                        _ => acc & i.k != 0,
                    };
                    pc += if t { i.jt } else { i.jf } as usize;
                }
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    /// The plan's syscalls, by name.
    fn calls(names: &[&str]) -> Vec<Syscall> {
        names.iter().map(|n| Syscall::named(n).unwrap()).collect()
    }

    fn default_prog() -> Vec<sock_filter> {
        let deny: Vec<Syscall> = crate::syscalls::DEFAULT_DENY
            .iter()
            .flat_map(|g| crate::syscalls::expand(g).unwrap())
            .collect();
        program(
            SeccompPolicy::Default,
            &deny,
            libc::EPERM,
            0,
            false,
            false,
            None,
        )
    }

    const EPERM: u32 = SECCOMP_RET_ERRNO | libc::EPERM as u32;

    #[test]
    fn default_policy_verdicts() {
        let p = default_prog();
        let v = |nr: i64, a0: u64, a1: u64| run(&p, AUDIT_ARCH, nr as u32, [a0, a1, 0, 0, 0, 0]);
        assert_eq!(v(libc::SYS_getppid, 0, 0), SECCOMP_RET_ALLOW);
        assert_eq!(v(libc::SYS_read, 0, 0), SECCOMP_RET_ALLOW);
        for denied in [
            libc::SYS_mount,
            libc::SYS_bpf,
            libc::SYS_keyctl,
            libc::SYS_kexec_load,
            libc::SYS_reboot,
            libc::SYS_userfaultfd,
        ] {
            assert_eq!(v(denied, 0, 0), EPERM, "syscall {denied}");
        }
        assert_eq!(v(libc::SYS_ioctl, 0, libc::TIOCSTI), EPERM);
        // Upper bits set: still TIOCSTI to the kernel, still refused.
        assert_eq!(
            v(libc::SYS_ioctl, 0, 0xdead_0000_0000_0000 | libc::TIOCSTI),
            EPERM
        );
        assert_eq!(v(libc::SYS_ioctl, 0, libc::TIOCLINUX), EPERM);
        assert_eq!(v(libc::SYS_ioctl, 0, libc::TCGETS), SECCOMP_RET_ALLOW);
        assert_eq!(
            v(libc::SYS_clone3, 0, 0),
            SECCOMP_RET_ERRNO | libc::ENOSYS as u32
        );
        assert_eq!(
            v(libc::SYS_clone, libc::SIGCHLD as u64, 0),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(v(libc::SYS_clone, libc::CLONE_NEWUSER as u64, 0), EPERM);
        assert_eq!(v(libc::SYS_unshare, libc::CLONE_NEWNS as u64, 0), EPERM);
        assert_eq!(
            v(libc::SYS_personality, 0xffff_ffff & !0x0004_0000, 0),
            EPERM
        );
        assert_eq!(v(libc::SYS_personality, 0, 0), SECCOMP_RET_ALLOW);
        assert_eq!(v(libc::SYS_personality, 0x0004_0000, 0), EPERM);
        // The query, 0xffffffff, has every bit set and changes nothing.
        assert_eq!(v(libc::SYS_personality, 0xffff_ffff, 0), SECCOMP_RET_ALLOW);
        // x32 ABI and foreign architectures.
        assert_eq!(v(libc::SYS_getppid | X32_SYSCALL_BIT as i64, 0, 0), EPERM);
        assert_eq!(run(&p, 0x4000_0003, 20, [0; 6]), SECCOMP_RET_KILL_PROCESS);
    }

    #[test]
    fn every_number_gets_the_verdict_of_a_linear_scan() {
        let p = default_prog();
        let denied: Vec<u32> = crate::syscalls::DEFAULT_DENY
            .iter()
            .flat_map(|g| crate::syscalls::expand(g).unwrap())
            .map(Syscall::nr)
            .collect();
        let mut special = vec![
            libc::SYS_ioctl,
            libc::SYS_clone3,
            libc::SYS_clone,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_personality,
        ];
        special.extend(setuid_rules(0, false).iter().map(|(n, _)| *n as i64));
        for nr in 0..500u32 {
            if special.contains(&(nr as i64)) {
                continue;
            }
            let want = if denied.contains(&nr) {
                EPERM
            } else {
                SECCOMP_RET_ALLOW
            };
            assert_eq!(run(&p, AUDIT_ARCH, nr, [0; 6]), want, "syscall {nr}");
        }
    }

    #[test]
    fn setuid_and_setgid_bits_are_refused_on_every_call_that_sets_a_mode() {
        let p = default_prog();
        let call = |name: &str, args: [u64; 6]| {
            run(&p, AUDIT_ARCH, crate::syscalls::number(name).unwrap(), args)
        };
        let with_mode = |arg: usize, mode: u64| {
            let mut a = [0u64; 6];
            a[arg] = mode;
            a
        };
        for (name, arg) in MODE_ARG {
            let arg = arg as usize;
            for bits in [0o4755, 0o2755, 0o6000, 0xffff_0000_0000_0800] {
                assert_eq!(call(name, with_mode(arg, bits)), EPERM, "{name} {bits:o}");
            }
            for plain in [0o755, 0o1777, 0o644] {
                assert_eq!(
                    call(name, with_mode(arg, plain)),
                    SECCOMP_RET_ALLOW,
                    "{name} {plain:o}"
                );
            }
        }
        assert_eq!(
            call("openat2", [0; 6]),
            SECCOMP_RET_ERRNO | libc::ENOSYS as u32
        );
        // Opted out: the bits pass.
        let deny = calls(&["bpf"]);
        let open = program(
            SeccompPolicy::Default,
            &deny,
            libc::EPERM,
            0,
            true,
            false,
            None,
        );
        let nr = crate::syscalls::number("chmod").unwrap();
        assert_eq!(
            run(&open, AUDIT_ARCH, nr, [0, 0o4755, 0, 0, 0, 0]),
            SECCOMP_RET_ALLOW
        );
        // Nesting lets openat2 through (a nested sandbox resolves paths
        // with it); the other calls still refuse the bits.
        let nest = program(
            SeccompPolicy::Default,
            &[],
            libc::EPERM,
            CLONE_NS_FLAGS,
            false,
            true,
            None,
        );
        let openat2 = crate::syscalls::number("openat2").unwrap();
        assert_eq!(run(&nest, AUDIT_ARCH, openat2, [0; 6]), SECCOMP_RET_ALLOW);
        assert_eq!(run(&nest, AUDIT_ARCH, nr, [0, 0o4755, 0, 0, 0, 0]), EPERM);
        // A denied name stays denied whatever its mode.
        let deny = calls(&["chmod"]);
        let p = program(
            SeccompPolicy::Default,
            &deny,
            libc::EPERM,
            0,
            false,
            false,
            None,
        );
        assert_eq!(run(&p, AUDIT_ARCH, nr, [0, 0o755, 0, 0, 0, 0]), EPERM);
        // An allowlist that allows chmod still refuses the bits.
        let allow = calls(&["chmod"]);
        let p = program(
            SeccompPolicy::Allowlist,
            &allow,
            libc::EPERM,
            0,
            false,
            false,
            None,
        );
        assert_eq!(
            run(&p, AUDIT_ARCH, nr, [0, 0o755, 0, 0, 0, 0]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(run(&p, AUDIT_ARCH, nr, [0, 0o4755, 0, 0, 0, 0]), EPERM);
    }

    #[test]
    fn pid_1s_filter_allows_its_loop_and_nothing_else() {
        let p = init_program();
        let call = |name: &str, args: [u64; 6]| {
            run(&p, AUDIT_ARCH, crate::syscalls::number(name).unwrap(), args)
        };
        for name in INIT_SYSCALLS {
            assert_eq!(call(name, [0; 6]), SECCOMP_RET_ALLOW, "{name}");
        }
        for name in [
            "execve", "ptrace", "setns", "unshare", "mount", "write", "open", "openat", "socket",
            "prctl",
        ] {
            assert_eq!(call(name, [0; 6]), SECCOMP_RET_KILL_PROCESS, "{name}");
        }
    }

    #[test]
    fn traced_refusals_go_to_the_listener_and_its_handover_passes() {
        let nr = |n: &str| crate::syscalls::number(n).unwrap();
        let allow = program(
            SeccompPolicy::Allowlist,
            &calls(&["read"]),
            libc::EACCES,
            0,
            false,
            false,
            Some(Handover {
                fd: 9,
                secret: [1, 2, 3],
                watched: &[],
            }),
        );
        let sendmsg = libc::SYS_sendmsg as u32;
        assert_eq!(
            run(&allow, AUDIT_ARCH, nr("getppid"), [0; 6]),
            SECCOMP_RET_USER_NOTIF
        );
        assert_eq!(
            run(&allow, AUDIT_ARCH, sendmsg, [9, 0, 0, 1, 2, 3]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&allow, AUDIT_ARCH, sendmsg, [8, 0, 0, 0, 0, 0]),
            SECCOMP_RET_USER_NOTIF
        );
        // The channel's number without the secret (a socket of the app's
        // that got the number after exec), or a part of it: refused.
        for args in [[9, 0, 0, 0, 0, 0], [9, 0, 0, 1, 2, 0], [9, 0, 0, 0, 2, 3]] {
            assert_eq!(
                run(&allow, AUDIT_ARCH, sendmsg, args),
                SECCOMP_RET_USER_NOTIF
            );
        }
        assert_eq!(
            run(&allow, AUDIT_ARCH, nr("read"), [0; 6]),
            SECCOMP_RET_ALLOW
        );
        // The default policy: refused calls wait for the launcher, and a
        // sendmsg the profile denies stays denied but for the handover.
        let deny = program(
            SeccompPolicy::Default,
            &calls(&["chdir", "sendmsg"]),
            libc::EPERM,
            0,
            false,
            false,
            Some(Handover {
                fd: 4,
                secret: [7, 8, 9],
                watched: &[],
            }),
        );
        assert_eq!(
            run(&deny, AUDIT_ARCH, nr("chdir"), [0; 6]),
            SECCOMP_RET_USER_NOTIF
        );
        assert_eq!(
            run(&deny, AUDIT_ARCH, sendmsg, [4, 0, 0, 7, 8, 9]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&deny, AUDIT_ARCH, sendmsg, [4, 0, 0, 0, 0, 0]),
            SECCOMP_RET_USER_NOTIF
        );
        assert_eq!(
            run(&deny, AUDIT_ARCH, nr("getpid"), [0; 6]),
            SECCOMP_RET_ALLOW
        );
        // Untraced, the same calls fail at once.
        let plain = program(
            SeccompPolicy::Default,
            &calls(&["chdir"]),
            libc::EPERM,
            0,
            false,
            false,
            None,
        );
        assert_eq!(
            run(&plain, AUDIT_ARCH, nr("chdir"), [0; 6]),
            SECCOMP_RET_ERRNO | libc::EPERM as u32
        );
    }

    #[test]
    fn allowlist_refuses_the_rest_but_allows_execve() {
        let p = program(
            SeccompPolicy::Allowlist,
            &calls(&["read", "write"]),
            libc::EACCES,
            0,
            false,
            false,
            None,
        );
        let acc = SECCOMP_RET_ERRNO | libc::EACCES as u32;
        assert_eq!(
            run(&p, AUDIT_ARCH, libc::SYS_read as u32, [0; 6]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&p, AUDIT_ARCH, libc::SYS_execve as u32, [0; 6]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(run(&p, AUDIT_ARCH, libc::SYS_getppid as u32, [0; 6]), acc);
    }

    #[test]
    fn a_long_allowlist_still_searches_correctly() {
        let names: Vec<&str> = crate::syscalls::SYSCALLS.iter().map(|(n, _)| *n).collect();
        let all = calls(&names);
        let p = program(
            SeccompPolicy::Allowlist,
            &all,
            libc::EPERM,
            0,
            true,
            false,
            None,
        );
        for (name, nr) in crate::syscalls::SYSCALLS {
            assert_eq!(
                run(&p, AUDIT_ARCH, *nr, [0; 6]),
                SECCOMP_RET_ALLOW,
                "{name}"
            );
        }
        assert_eq!(run(&p, AUDIT_ARCH, 1000, [0; 6]), EPERM);
    }
}
