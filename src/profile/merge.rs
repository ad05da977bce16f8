//! Merging a profile over what it extends.
//!
//! The rules (docs/profile-format.md, "extends"):
//! - scalars: the extending profile's value wins;
//! - `[[mount]]`: appended, parents' first, in order;
//! - name lists (`env.keep`, `seccomp.allow`/`deny`, `landlock` paths and
//!   ports, `process.capabilities`, `network.forward_*`, `network.dns`):
//!   union, in order of first appearance;
//! - keyed tables (`namespaces`, `namespaces.keep`, `env.set`, `limits`): per key, the
//!   extending profile's value wins;
//! - `command`, `user.map`, `landlock.scope`: replaced as a whole;
//! - `package` goes with `command`: a profile that sets `command` sets
//!   its package too (none, if it names none);
//! - opposites cancel: what the extending profile allows in `seccomp` is
//!   taken out of what it extends denies, and the other way round (a
//!   group by its members: allowing `ptrace` after a denied `@debug`
//!   leaves the group's other members denied); a variable it sets or
//!   keeps is taken out of `env.unset`, and one it unsets by name out of
//!   `env.set` (a glob leaves a name set or kept by itself: the more
//!   exact word wins, src/plan/mod.rs `unsets`). Within one file, a name
//!   on both sides stays an error.

use super::types::*;
use crate::diag::Sp;

fn union<T: PartialEq>(mut base: Vec<Sp<T>>, over: Vec<Sp<T>>) -> Vec<Sp<T>> {
    for v in over {
        if !base.iter().any(|b| b.value == v.value) {
            base.push(v);
        }
    }
    base
}

/// Per-key override for lists of (key, value) pairs.
fn keyed<K: PartialEq, V>(
    mut base: Vec<(K, V)>,
    over: Vec<(K, V)>,
    eq: impl Fn(&K, &K) -> bool,
) -> Vec<(K, V)> {
    for (k, v) in over {
        base.retain(|(bk, _)| !eq(bk, &k));
        base.push((k, v));
    }
    base
}

/// `base` without what `over` names: an entry whose calls `over` shares
/// goes, a group as its members that `over` does not name. An entry that
/// names no call this machine knows goes only by its name.
fn cancel(base: Vec<SpStr>, over: &[SpStr]) -> Vec<SpStr> {
    use crate::syscalls::expand;
    let gone: Vec<_> = over
        .iter()
        .flat_map(|o| expand(&o.value).unwrap_or_default())
        .collect();
    let mut out = vec![];
    for b in base {
        if over.iter().any(|o| o.value == b.value) {
            continue;
        }
        let members = expand(&b.value).unwrap_or_default();
        if !members.iter().any(|m| gone.contains(m)) {
            out.push(b);
            continue;
        }
        out.extend(
            members
                .into_iter()
                .filter(|m| !gone.contains(m))
                .map(|m| Sp::new(m.name().to_string(), b.span)),
        );
    }
    out
}

/// [`cancel`] for names without places (the command line's layer).
pub fn cancel_names(base: Vec<String>, over: &[String]) -> Vec<String> {
    let sp = |v: &String| Sp::new(v.clone(), crate::diag::Span::default());
    let over: Vec<SpStr> = over.iter().map(sp).collect();
    cancel(base.iter().map(sp).collect(), &over)
        .into_iter()
        .map(|s| s.value)
        .collect()
}

/// The environment of `over` on top of `base`'s, opposites cancelling.
fn env(base: Env, over: Env) -> Env {
    let named = |k: &SpStr| {
        over.set.iter().any(|(s, _)| s.value == k.value)
            || over.keep.iter().any(|s| s.value == k.value)
    };
    let unset: Vec<SpStr> = base.unset.into_iter().filter(|u| !named(u)).collect();
    let set: Vec<(SpStr, SpStr)> = base
        .set
        .into_iter()
        .filter(|(k, _)| !over.unset.iter().any(|u| u.value == k.value))
        .collect();
    Env {
        clear: over.clear.or(base.clear),
        keep: union(base.keep, over.keep),
        set: keyed(set, over.set, |a, b| a.value == b.value),
        unset: union(unset, over.unset),
    }
}

/// `over` applied on top of `base`.
pub fn merge(base: Profile, over: Profile) -> Profile {
    let mut mounts = base.mounts;
    mounts.extend(over.mounts);
    Profile {
        name: over.name.or(base.name),
        description: over.description.or(base.description),
        category: over.category.or(base.category),
        desktop_entry: over.desktop_entry.or(base.desktop_entry),
        dbus: Dbus {
            session: over.dbus.session.or(base.dbus.session),
            talk: union(base.dbus.talk, over.dbus.talk),
            own: union(base.dbus.own, over.dbus.own),
            see: union(base.dbus.see, over.dbus.see),
            call: union(base.dbus.call, over.dbus.call),
            broadcast: union(base.dbus.broadcast, over.dbus.broadcast),
        },
        extends: vec![],
        // A command and what the command line's words are to it come
        // together: a profile with a command of its own says, or takes
        // the default, not its parent's.
        arguments: if over.command.is_some() {
            over.arguments
        } else {
            over.arguments.or(base.arguments)
        },
        package: match over.command {
            Some(_) => over.package,
            None => over.package.or(base.package),
        },
        command: over.command.or(base.command),
        namespaces: keyed(base.namespaces, over.namespaces, |a, b| a == b),
        keep: keyed(base.keep, over.keep, |a, b| a == b),
        user: User {
            uid: over.user.uid.or(base.user.uid),
            gid: over.user.gid.or(base.user.gid),
            sandwich: over.user.sandwich.or(base.user.sandwich),
            nested_userns: over.user.nested_userns.or(base.user.nested_userns),
            nesting: over.user.nesting.or(base.user.nesting),
            own_namespaces: union(base.user.own_namespaces, over.user.own_namespaces),
            unmapped: union(base.user.unmapped, over.user.unmapped),
            map: over.user.map.or(base.user.map),
            host_root: over.user.host_root.or(base.user.host_root),
        },
        uts: Uts {
            hostname: over.uts.hostname.or(base.uts.hostname),
            domainname: over.uts.domainname.or(base.uts.domainname),
        },
        time: Time {
            monotonic: over.time.monotonic.or(base.time.monotonic),
            boottime: over.time.boottime.or(base.time.boottime),
        },
        filesystem: Filesystem {
            root: over.filesystem.root.or(base.filesystem.root),
            readonly_root: over
                .filesystem
                .readonly_root
                .or(base.filesystem.readonly_root),
        },
        mounts,
        network: Network {
            mode: over.network.mode.or(base.network.mode),
            forward_tcp: union(base.network.forward_tcp, over.network.forward_tcp),
            forward_udp: union(base.network.forward_udp, over.network.forward_udp),
            to_host_tcp: union(base.network.to_host_tcp, over.network.to_host_tcp),
            to_host_udp: union(base.network.to_host_udp, over.network.to_host_udp),
            address: over.network.address.or(base.network.address),
            host_address: over.network.host_address.or(base.network.host_address),
            host_interface: over.network.host_interface.or(base.network.host_interface),
            gateway: over.network.gateway.or(base.network.gateway),
            parent: over.network.parent.or(base.network.parent),
            dns: union(base.network.dns, over.network.dns),
            host_loopback: over.network.host_loopback.or(base.network.host_loopback),
        },
        env: env(base.env, over.env),
        process: Process {
            cwd: over.process.cwd.or(base.process.cwd),
            new_session: over.process.new_session.or(base.process.new_session),
            die_with_parent: over
                .process
                .die_with_parent
                .or(base.process.die_with_parent),
            init: over.process.init.or(base.process.init),
            enter: over.process.enter.or(base.process.enter),
            capabilities: union(base.process.capabilities, over.process.capabilities),
            timeout: over.process.timeout.or(base.process.timeout),
        },
        limits: Limits {
            values: keyed(base.limits.values, over.limits.values, |a, b| a == b),
        },
        cgroup: Cgroup {
            memory: over.cgroup.memory.or(base.cgroup.memory),
            pids: over.cgroup.pids.or(base.cgroup.pids),
            cpu: over.cgroup.cpu.or(base.cgroup.cpu),
        },
        seccomp: Seccomp {
            policy: over.seccomp.policy.or(base.seccomp.policy),
            deny: union(
                cancel(base.seccomp.deny, &over.seccomp.allow),
                over.seccomp.deny.clone(),
            ),
            allow: union(
                cancel(base.seccomp.allow, &over.seccomp.deny),
                over.seccomp.allow,
            ),
            errno: over.seccomp.errno.or(base.seccomp.errno),
            allow_setuid_bits: over
                .seccomp
                .allow_setuid_bits
                .or(base.seccomp.allow_setuid_bits),
            trace: over.seccomp.trace.or(base.seccomp.trace),
        },
        landlock: Landlock {
            enabled: over.landlock.enabled.or(base.landlock.enabled),
            from_mounts: over.landlock.from_mounts.or(base.landlock.from_mounts),
            read: union(base.landlock.read, over.landlock.read),
            write: union(base.landlock.write, over.landlock.write),
            exec: union(base.landlock.exec, over.landlock.exec),
            tcp_bind: union(base.landlock.tcp_bind, over.landlock.tcp_bind),
            tcp_connect: union(base.landlock.tcp_connect, over.landlock.tcp_connect),
            scope: over.landlock.scope.or(base.landlock.scope),
            compat: over.landlock.compat.or(base.landlock.compat),
        },
    }
}
