//! `sandbox plan` text: one numbered step a line, with its origin. The
//! executor's error messages describe a failed step with the same words.

use super::{Action, Compat, LimitValue, Plan, SeccompPolicy};
use std::os::unix::ffi::OsStrExt;

fn ids(map: &[super::IdMapEntry]) -> String {
    map.iter()
        .map(|e| {
            if e.count == 1 {
                format!("{} -> {}", e.inside, e.outside)
            } else {
                format!(
                    "{}..{} -> {}..{}",
                    e.inside,
                    e.inside + e.count - 1,
                    e.outside,
                    e.outside + e.count - 1
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn size(bytes: u64) -> String {
    for (unit, shift) in [("G", 30), ("M", 20), ("K", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.iter().map(T::to_string).collect::<Vec<_>>().join(" ")
    }
}

/// How one step reads, e.g. `ro-bind /usr -> /usr`: on one line, a
/// control character a path or value holds shown escaped (`\x0a`).
pub fn describe(a: &Action) -> String {
    crate::diag::printable(&words(a))
}

fn words(a: &Action) -> String {
    match a {
        Action::Spawn { new } => {
            let names: Vec<&str> = new.iter().map(|k| k.key()).collect();
            format!(
                "spawn child with new namespaces: {}",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(" ")
                }
            )
        }
        Action::Cgroup { memory, pids, cpu } => {
            let mut parts = vec![];
            if let Some(m) = memory {
                parts.push(format!("memory {}", size(*m)));
            }
            if let Some(p) = pids {
                parts.push(format!("pids {p}"));
            }
            if let Some(c) = cpu {
                parts.push(format!("cpu {c} cores"));
            }
            format!("cgroup: {}", parts.join(", "))
        }
        Action::SetgroupsDeny => "write setgroups: deny".into(),
        Action::HostDirs { dirs, owner, below } => format!(
            "make the host folders the mounts need if missing (mode 0700{}): {}{}",
            match owner {
                Some((u, g)) => format!(", owned by {u}:{g}"),
                None => String::new(),
            },
            dirs.join(" "),
            no_links_below(below)
        ),
        Action::DropHostRoot { uid, gid } => {
            format!("become {uid}:{gid} in the user namespace (nobody on the host)")
        }
        Action::UidMap { map, helper } => format!(
            "write uid_map: {}{}",
            ids(map),
            if *helper { " (newuidmap)" } else { "" }
        ),
        Action::GidMap { map, helper } => format!(
            "write gid_map: {}{}",
            ids(map),
            if *helper { " (newgidmap)" } else { "" }
        ),
        Action::Release => "release the child".into(),
        Action::StateEntry { enter } => format!(
            "state entry for sandbox ps and stop{}: ID.json in the caller's state folder ($XDG_RUNTIME_DIR/sandbox, /run/sandbox for root), removed at the end",
            if *enter { ", and ID.sock for sandbox enter" } else { "" }
        ),
        Action::EnterHelper => "fork the helper of sandbox enter: a copy of the app's process as it is now (its filter, Landlock domain, ids, capabilities, limits, environment, cwd), non-dumpable, holding only its socket to the launcher".into(),
        Action::Timeout { ms } => format!("kill the sandbox after {ms} ms (TERM, then KILL)"),
        Action::JoinNamespace { kind, path } => format!("join {} namespace {path}", kind.key()),
        Action::JoinedFsIds { uid, gid } => {
            format!("make files as {uid}:{gid} of the joined user namespace")
        }
        Action::MakeRootPrivate => {
            "make / recursively slave (nothing propagates to the host)".into()
        }
        Action::RootTmpfs => "new root: empty tmpfs".into(),
        Action::RootBind { src, below } => format!(
            "new root: bind {src}{}",
            no_links_below(below.as_slice())
        ),
        Action::Bind {
            src,
            dst,
            readonly,
            devices,
            below,
            ..
        } => {
            let kind = if *devices {
                "dev-bind"
            } else if *readonly {
                "ro-bind"
            } else {
                "bind"
            };
            format!("{kind} {src} -> {dst}{}", no_links_below(below.as_slice()))
        }
        Action::Tmpfs {
            dst,
            size: sz,
            mode,
        } => {
            let s = sz.map(|s| format!(" size={}", size(s))).unwrap_or_default();
            format!("tmpfs {dst} (mode {mode:04o}{s})")
        }
        Action::Proc { dst, read_only } if read_only.is_empty() => {
            format!("proc {dst} (no read-only covers: nesting)")
        }
        Action::Proc { dst, read_only } => {
            format!("proc {dst} ({} read-only)", read_only.join(" "))
        }
        Action::Dev { dst, console } => format!(
            "dev {dst} ({}, devpts, shm{})",
            super::DEV_NODES.join(" "),
            if *console {
                ", the caller's terminal as console"
            } else {
                ""
            }
        ),
        Action::Mqueue { dst } => format!("mqueue {dst}"),
        Action::Symlink { target, dst } => format!("symlink {dst} -> {target}"),
        Action::Dir { dst, mode } => format!("dir {dst} (mode {mode:04o})"),
        Action::File { dst, content, mode } => {
            format!("file {dst} ({} bytes, mode {mode:04o})", content.len())
        }
        Action::RemountRo { dst } => format!("remount-ro {dst} (recursive)"),
        Action::Pin { dst, mode } => format!("pin {dst} (made {mode:04o} if missing; a mount point of itself: it cannot be renamed away)"),
        Action::Hide { dst, dir } => format!(
            "hide {dst} (an empty read-only {})",
            if *dir { "folder" } else { "file" }
        ),
        Action::Overlay {
            dst,
            lower,
            upper,
            readonly,
            below,
            ..
        } => {
            let up = match (upper, readonly) {
                (_, true) => "read-only".to_string(),
                (Some(u), _) => format!("upper {u}"),
                (None, _) => "upper in tmpfs".to_string(),
            };
            format!(
                "overlay {dst} (lower {}; {up}){}",
                lower.join(":"),
                no_links_below(below)
            )
        }
        Action::RemountRootRo => "remount / read-only".into(),
        Action::PivotRoot => "pivot_root into the new root, detach the old one".into(),
        Action::SetHostname { name } => format!("hostname {name}"),
        Action::SetDomainname { name } => format!("domainname {name}"),
        Action::LoopbackUp => "bring lo up".into(),
        Action::NetSysctls => "network sysctls of the sandbox's own namespace: ports below 1024 bindable, ping allowed".into(),
        Action::Pasta {
            tcp,
            udp,
            dns_forward,
            host_loopback,
            to_host_tcp,
            to_host_udp,
            ..
        } => {
            let mut t = "start pasta (user-mode networking) on the sandbox's network namespace".to_string();
            for (proto, ports) in [("tcp", to_host_tcp), ("udp", to_host_udp)] {
                if !ports.is_empty() {
                    let p: Vec<String> = ports.iter().map(u16::to_string).collect();
                    t.push_str(&format!(
                        "; {proto} to the sandbox's loopback at {} reaches the host's loopback",
                        p.join(", ")
                    ));
                }
            }
            for (proto, specs) in [("tcp", tcp), ("udp", udp)] {
                if !specs.is_empty() {
                    t.push_str(&format!("; forward {proto} {}", specs.join(", ")));
                }
            }
            if let Some(d) = dns_forward {
                t.push_str(&format!("; DNS at {d} goes to the host's resolver"));
            }
            if *host_loopback {
                t.push_str("; the gateway address reaches the host's loopback");
            }
            t
        }
        Action::KeepNamespace { kind, path } => format!(
            "keep the sandbox's {} namespace: bind /proc/PID/ns/{} at {path} (made if missing); it stays after the run (umount {path}; rm {path})",
            kind.key(),
            kind.proc_name()
        ),
        Action::Veth {
            host_address,
            host_interface,
        } => format!(
            "veth pair: host end {} {host_address}, other end inside",
            host_interface.as_deref().unwrap_or("sb<PID>")
        ),
        Action::Macvlan { parent } => format!("macvlan on {parent} (bridge mode), inside"),
        Action::ConfigureInterface {
            address: None,
            gateway: _,
        } => "eth0 up, no address or route: the app configures it (e.g. a DHCP client)".into(),
        Action::ConfigureInterface {
            address: Some(address),
            gateway,
        } => format!(
            "eth0 {address} up{}",
            gateway
                .as_ref()
                .map(|g| format!(", default route via {g}"))
                .unwrap_or_default()
        ),
        Action::DbusProxy {
            talk,
            own,
            see,
            call,
            broadcast,
        } => {
            let mut t = "start xdg-dbus-proxy on the session bus, filtered".to_string();
            for (what, names) in [("talk", talk), ("own", own), ("see", see), ("call", call), ("broadcast", broadcast)] {
                if !names.is_empty() {
                    t.push_str(&format!("; {what} {}", names.join(" ")));
                }
            }
            if talk.is_empty() && own.is_empty() && see.is_empty() {
                t.push_str("; no names");
            }
            t
        }
        Action::DbusSocket { dst } => format!("bind the filtered session bus at {dst}"),
        Action::ResolvConf { nameservers } => {
            format!("/etc/resolv.conf: nameserver {}", nameservers.join(", "))
        }
        Action::NewCgroupNamespace => {
            "new cgroup namespace (rooted at the sandbox's cgroup)".into()
        }
        Action::TimeNamespace {
            monotonic_ms,
            boottime_ms,
        } => {
            format!(
                "new time namespace: monotonic {monotonic_ms:+} ms, boottime {boottime_ms:+} ms"
            )
        }
        Action::Sandwich {
            uid,
            gid,
            nested_userns,
            ranges,
            own,
        } => format!(
            "sandwich: new user namespace, app runs as {}:{}{}{}{}",
            uid.map_or("unmapped".into(), |u| u.to_string()),
            gid.map_or("unmapped".into(), |g| g.to_string()),
            if ranges.is_empty() {
                String::new()
            } else {
                format!(", with {}", ids(ranges))
            },
            if *nested_userns {
                ""
            } else {
                "; nested user namespaces disabled"
            },
            if own.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = own.iter().map(|k| k.key()).collect();
                format!("; the app owns new {}", names.join(" "))
            }
        ),
        Action::SetIds { uid, gid } => {
            format!("become {uid}:{gid} (setgroups, setresgid, setresuid)")
        }
        Action::DropCapabilities { keep } => format!("drop capabilities, keep: {}", list(keep)),
        Action::NewSession => "new session (setsid)".into(),
        Action::Chdir { path } => format!("chdir {path}"),
        Action::Environment {
            clear,
            keep,
            unset,
            set,
        } => {
            let names: Vec<String> = set.iter().map(|(k, _)| k.clone()).collect();
            let unset = match unset.is_empty() {
                true => String::new(),
                false => format!("; unset {}", list(unset)),
            };
            format!(
                "environment: {}keep {}{unset}; set {}",
                if *clear { "cleared; " } else { "inherited; " },
                list(keep),
                list(&names)
            )
        }
        Action::SetRlimits { limits } => {
            let parts: Vec<String> = limits
                .iter()
                .map(|l| match l.value {
                    LimitValue::Value(v) => format!("{}={v}", l.resource),
                    LimitValue::Unlimited => format!("{}=unlimited", l.resource),
                })
                .collect();
            format!("rlimits: {}", parts.join(" "))
        }
        Action::DieWithParent => "die with parent (PDEATHSIG=KILL)".into(),
        Action::NoNewPrivs => "no_new_privs".into(),
        Action::MqueueRights => {
            "open the IPC namespace's message queues, for landlock to allow".into()
        }
        Action::Landlock {
            mqueue,
            read,
            write,
            exec,
            tcp_bind,
            tcp_connect,
            scope,
            compat,
        } => {
            let ports = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>();
            format!(
                "landlock ({}): read {}; write {}{}; exec {}; tcp bind {}; tcp connect {}; scope {}",
                match compat {
                    Compat::Hard => "hard",
                    Compat::BestEffort => "best-effort",
                },
                list(read),
                list(write),
                if *mqueue { ", its message queues" } else { "" },
                list(exec),
                list(&ports(tcp_bind)),
                list(&ports(tcp_connect)),
                list(scope)
            )
        }
        Action::Init => "init: PID 1 starts the app, seals itself (no descriptors, environment or capabilities; its own filter), reaps, forwards signals".into(),
        Action::SealInit => "make PID 1 non-dumpable (out of the app's reach)".into(),
        Action::Seccomp {
            policy,
            syscalls,
            errno,
            namespaces,
            time_namespaces,
            setuid_bits,
            openat2,
            trace,
            watch_paths,
            learn,
        } => {
            let traced = match (trace, watch_paths, learn) {
                (_, _, true) => "; learning: each open, exec, change of a folder, connect and bind recorded by the launcher and let through, and each refusal the draft could allow",
                (true, true, false) => "; each refusal reported by the launcher, and each open, exec, change of a folder, connect and bind let through to the kernel and reported when Landlock's rules would refuse it",
                (true, false, false) => "; each refusal reported by the launcher",
                (false, _, false) => "",
            };
            let setuid = match (setuid_bits, openat2) {
                (true, _) => "",
                (false, false) => ", setuid/setgid bits",
                (false, true) => ", setuid/setgid bits (not through openat2, let through for nesting)",
            };
            let errno_name = crate::profile::units::ERRNOS
                .iter()
                .find(|(_, v)| v == errno)
                .map(|(n, _)| n.to_string())
                .unwrap_or_else(|| errno.to_string());
            let rule = match policy {
                SeccompPolicy::Allowlist => format!(
                    "seccomp allowlist: {} syscalls allowed, others fail with {errno_name}{}",
                    syscalls.len(),
                    if *setuid_bits { "" } else { "; setuid/setgid bits refused" }
                ),
                SeccompPolicy::Default => format!(
                    "seccomp default policy: {} syscalls fail with {errno_name}, clone3 with ENOSYS; ioctl TIOCSTI/TIOCLINUX, x32 ABI{}{setuid} refused",
                    syscalls.len(),
                    match (namespaces, time_namespaces) {
                        (true, _) => "",
                        (false, true) => ", new namespaces but time",
                        (false, false) => ", new namespaces",
                    }
                ),
            };
            rule + traced
        }
        Action::Exec { argv } => format!(
            "exec {}",
            argv.iter()
                .map(|a| shell_quote_bytes(a.as_bytes()))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// How a step says that it follows no link below folders the sandbox may
/// write.
fn no_links_below(folders: &[String]) -> String {
    if folders.is_empty() {
        String::new()
    } else {
        format!(" (no links followed below {})", folders.join(" "))
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Bytes quoted for a shell: text as [`shell_quote`], anything else in
/// `$'...'` with every byte outside printable ASCII as `\xNN`.
fn shell_quote_bytes(b: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(b) {
        return shell_quote(s);
    }
    let mut out = String::from("$'");
    for &c in b {
        match c {
            b'\\' | b'\'' => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('\'');
    out
}

/// The plan as `sandbox plan` prints it.
pub fn render_text(plan: &Plan) -> String {
    let mut out = format!("plan for '{}'\n", crate::diag::printable(&plan.profile));
    let width = plan
        .steps
        .iter()
        .map(|s| describe(&s.action).chars().count())
        .max()
        .unwrap_or(0)
        .min(72);
    for (i, s) in plan.steps.iter().enumerate() {
        let d = describe(&s.action);
        let origin = s
            .origin
            .as_ref()
            .map(|o| crate::diag::printable(&o.to_string()))
            .unwrap_or_else(|| "(default)".into());
        let phase = serde_json::to_value(s.phase)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:>3}. {phase:<9} {d:<width$}  # {origin}\n",
            i + 1
        ));
    }
    for n in &plan.notes {
        out.push_str(&format!("note: {}\n", crate::diag::printable(n)));
    }
    out
}
