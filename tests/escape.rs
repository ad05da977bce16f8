//! The escape suite: from inside the sandbox, attempts that must fail,
//! each asserting the specific error. Every case runs as root and as an
//! unprivileged user. Most run as uid 0 inside with seccomp and Landlock
//! off ("bare"), to show that the namespaces and the sandwich hold on their
//! own; the kernel-surface cases run under the default filter.
//!
//! Each case is a few lines of Python run by /usr/bin/python3 inside,
//! calling the system directly through ctypes and printing the errno name.

mod common;
use common::*;

/// uid 0 inside, no seccomp, no Landlock: only namespaces, the sandwich,
/// capabilities and the mount flags stand in the way.
const BARE: &str = r#"
extends = ["default"]
[user]
uid = 0
gid = 0
[seccomp]
policy = "none"
[landlock]
enabled = false
[env]
set = { HOME = "/root" }
[[mount]]
type = "tmpfs"
dst = "/root"
[process]
cwd = "/"
"#;

/// BARE, and the app keeps CAP_SYS_ADMIN: only the sandwich stands between
/// it and the profile's mounts (its capabilities belong to the inner user
/// namespace, the mounts to the outer one).
const BARE_ADMIN: &str = r#"
extends = ["default"]
[user]
uid = 0
gid = 0
[seccomp]
policy = "none"
[landlock]
enabled = false
[process]
cwd = "/"
capabilities = ["CAP_SYS_ADMIN"]
"#;

/// uid 0 inside, owning new mount, uts and net namespaces of its own under
/// the sandwich, with the default seccomp filter.
const OWN: &str = r#"
extends = ["default"]
[user]
uid = 0
gid = 0
own_namespaces = ["mount", "uts", "net"]
[landlock]
enabled = false
[process]
cwd = "/"
"#;

/// The shipped default: seccomp and Landlock on.
const DEFAULT: &str = "extends = [\"default\"]\n[process]\ncwd = \"/\"\n";

/// Helpers every probe can use: `sc(name, *args)` makes a raw system call
/// and returns "OK" or the errno name; `ok(f)` runs a Python call likewise.
const PRELUDE: &str = r#"
import ctypes, errno, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
NR = {"mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
      "keyctl": 250, "bpf": 321, "perf_event_open": 298, "init_module": 175, "reboot": 169,
      "io_uring_setup": 425, "userfaultfd": 323, "open_by_handle_at": 304, "clone3": 435,
      "personality": 135, "mknod": 133, "sethostname": 170, "setuid": 105, "ptrace": 101,
      "getppid": 110, "kexec_load": 246, "swapon": 167, "iopl": 172, "add_key": 248,
      "move_mount": 429, "fsopen": 430, "open_tree": 428}
def res(r):
    return "OK" if r >= 0 else errno.errorcode[ctypes.get_errno()]
def sc(name, *args):
    args = [ctypes.c_char_p(a) if isinstance(a, bytes) else ctypes.c_long(a) for a in args]
    return res(libc.syscall(NR[name] if isinstance(name, str) else name, *args))
def ok(f):
    try:
        f()
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
"#;

fn probe(who: Who, profile: &str, code: &str) -> Option<String> {
    run_python(who, profile, &format!("{PRELUDE}\n{code}"))
}

/// `escape!(name, PROFILE, "python", "expected output")`
macro_rules! escape {
    ($name:ident, $profile:expr, $code:expr, $want:expr) => {
        both!($name, |who| {
            let Some(got) = probe(who, $profile, $code) else {
                return;
            };
            assert_eq!(
                got,
                $want,
                "escape attempt {} gave an unexpected result",
                stringify!($name)
            );
        });
    };
}

// --- Undoing the profile's mounts (the sandwich) -------------------------

escape!(
    umount_a_profile_mount,
    BARE,
    "print(sc('umount2', b'/usr', 0))",
    "EPERM"
);
escape!(
    lazy_umount_a_profile_mount,
    BARE,
    "print(sc('umount2', b'/usr', 2))",
    "EPERM"
); // MNT_DETACH
escape!(
    remount_a_read_only_bind_read_write,
    BARE,
    "print(sc('mount', b'none', b'/usr', b'', 0x20 | 0x1000, 0))", // MS_REMOUNT|MS_BIND
    "EPERM"
);
escape!(
    bind_mount_over_a_profile_mount,
    BARE,
    "print(sc('mount', b'/tmp', b'/usr', b'', 0x1000, 0))",
    "EPERM"
);
escape!(
    move_a_profile_mount,
    BARE,
    "os.mkdir('/tmp/m'); print(sc('mount', b'/usr', b'/tmp/m', b'', 0x2000, 0))", // MS_MOVE
    "EPERM"
);
escape!(
    unshare_a_mount_namespace_to_unmount_there,
    BARE,
    "print(sc('unshare', 0x20000))", // CLONE_NEWNS: no CAP_SYS_ADMIN over the mount namespace's owner
    "EPERM"
);
escape!(
    create_a_user_namespace_when_disabled,
    BARE,
    "print(sc('unshare', 0x10000000))", // CLONE_NEWUSER: the sandbox's limit is used up
    "ENOSPC"
);
escape!(
    create_a_user_namespace_under_the_default_filter,
    DEFAULT,
    "print(sc('unshare', 0x10000000))",
    "EPERM"
);
escape!(
    mount_a_new_proc_to_see_host_pids,
    BARE,
    "os.mkdir('/tmp/p'); print(sc('mount', b'proc', b'/tmp/p', b'proc', 0, 0))",
    "EPERM"
);
escape!(
    chroot_back_out,
    BARE,
    "print(sc('chroot', b'/tmp'))",
    "EPERM"
);
escape!(
    pivot_root_back_out,
    BARE,
    "print(sc('pivot_root', b'/tmp', b'/tmp'))",
    "EPERM"
);
escape!(
    detach_a_mount_with_the_new_mount_api,
    BARE,
    "print(sc('open_tree', -100, b'/usr', 1 | 0x80000))", // OPEN_TREE_CLONE|CLOEXEC
    "EPERM"
);

escape!(
    umount_with_cap_sys_admin_behind_the_sandwich,
    BARE_ADMIN,
    "print(sc('umount2', b'/usr', 2))",
    "EPERM"
);
escape!(
    remount_read_write_with_cap_sys_admin_behind_the_sandwich,
    BARE_ADMIN,
    "print(sc('mount', b'none', b'/usr', b'', 0x20 | 0x1000, 0))",
    "EPERM"
);
escape!(
    bind_over_with_cap_sys_admin_behind_the_sandwich,
    BARE_ADMIN,
    "print(sc('mount', b'/tmp', b'/usr', b'', 0x1000, 0))",
    "EPERM"
);

// The control: without the sandwich, the same capability does unmount.
// This is what `sandwich = false` exposes, and it shows the cases above
// can fail.
both!(without_the_sandwich_cap_sys_admin_can_unmount, |who| {
    let profile = BARE_ADMIN.replace("gid = 0\n", "gid = 0\nsandwich = false\n");
    assert!(profile.contains("sandwich = false"));
    let Some(got) = probe(
        who,
        &profile,
        "print(sc('umount2', b'/usr', 2), os.path.exists('/usr/bin'))",
    ) else {
        return;
    };
    assert_eq!(got, "OK False");
});

// --- Namespaces the app owns: its own things work, the profile's stay locked

escape!(
    owned_namespaces_can_be_administered,
    OWN,
    "os.mkdir('/tmp/m')\nprint(sc('sethostname', b'mine', 4), sc('mount', b'none', b'/tmp/m', b'tmpfs', 0, 0), socket.gethostname())",
    "OK OK mine"
);
escape!(
    owned_mount_namespace_cannot_unmount_profile_mounts,
    OWN,
    "print(sc('umount2', b'/usr', 0), sc('umount2', b'/usr', 2))",
    "EINVAL EINVAL"
);
escape!(
    owned_mount_namespace_cannot_remount_profile_mounts_read_write,
    OWN,
    "print(sc('mount', b'none', b'/usr', b'', 0x20 | 0x1000, 0), ok(lambda: open('/usr/x', 'w')))",
    "EPERM EROFS"
);
escape!(
    owned_mount_namespace_cannot_move_profile_mounts,
    OWN,
    "os.mkdir('/tmp/m')\nprint(sc('mount', b'/usr', b'/tmp/m', b'', 0x2000, 0))",
    "EINVAL"
);
escape!(
    owned_mount_namespace_still_has_no_chroot_or_pivot_root,
    OWN,
    "print(sc('chroot', b'/tmp'), sc('pivot_root', b'/tmp', b'/tmp'))",
    "EPERM EPERM"
);

// --- Pid, cgroup and time namespaces the app owns ------------------------

const OWN_PID: &str =
    "extends = [\"default\"]\n[user]\nown_namespaces = [\"pid\"]\n[process]\ncwd = \"/\"\n";

// The app is PID 2 of a pid namespace of its own, under an init; its
// children are numbered there; that namespace belongs to the app's user
// namespace (NS_GET_USERNS answers with it).
escape!(
    owned_pid_namespace_numbers_the_app_and_its_children,
    OWN_PID,
    "import fcntl, subprocess\n\
     nspid = lambda s: [l.split()[1:] for l in s.splitlines() if l.startswith('NSpid:')][0]\n\
     me = nspid(open('/proc/self/status').read())\n\
     child = subprocess.run(['grep', '^NSpid:', '/proc/self/status'], capture_output=True, text=True).stdout.split()[1:]\n\
     fd = os.open('/proc/self/ns/pid_for_children', os.O_RDONLY)\n\
     owner = fcntl.ioctl(fd, 0xb701)\n\
     print(len(me), me[-1], os.getppid(), len(child), child[-1] != me[-1], os.fstat(owner).st_ino == os.stat('/proc/self/ns/user').st_ino)",
    "2 2 1 2 True True"
);
// Its own init and the relay the sandbox's pid namespace keeps hold
// nothing for the app: no environment, no memory it may read, no ptrace,
// even with seccomp and Landlock off. Control: the app's own child, same
// user and namespaces, can be read. (/proc is the sandbox's, so it names
// them by their numbers in the sandbox's pid namespace; the relay has no
// number in the app's, so ptrace cannot name it at all, and it is not in
// the app's process group, which kill(0, SIGSTOP) would reach.)
escape!(
    owned_pid_namespace_inits_are_out_of_reach,
    "extends = [\"default\"]\n[user]\nown_namespaces = [\"pid\"]\n[landlock]\nenabled = false\n[seccomp]\npolicy = \"none\"\n[process]\ncwd = \"/\"\n",
    "import subprocess\n\
     def reach(pid, own_number):\n    return [ok(lambda: open(f'/proc/{pid}/environ', 'rb').read()), ok(lambda: open(f'/proc/{pid}/mem', 'rb')), sc('ptrace', 16, own_number, 0, 0)]\n\
     ppid = lambda pid: int(open(f'/proc/{pid}/status').read().split('PPid:')[1].split()[0])\n\
     init = ppid('self')\n\
     relay = ppid(init)\n\
     child = subprocess.Popen(['sleep', '5'])\n\
     tid = os.listdir('/proc/self/task')[0]\n\
     seen = int(open(f'/proc/self/task/{tid}/children').read().split()[0])\n\
     control = reach(seen, child.pid)\n\
     child.kill()\n\
     pgrp = lambda pid: open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[2]\n\
     print(reach(init, 1), reach(relay, 0)[:2], ppid(relay), reach(1, 0)[:2], control, pgrp(relay) != pgrp('self'))",
    "['EACCES', 'EACCES', 'EPERM'] ['EACCES', 'EACCES'] 1 ['EACCES', 'EACCES'] ['OK', 'OK', 'OK'] True"
);

// With nesting (no read-only covers on the sandbox's /proc) and a mount
// namespace of its own too, the app mounts the proc of its pid namespace:
// its init is 1, itself 2, and none of the sandbox's processes are there.
escape!(
    owned_pid_namespace_gets_its_own_proc_with_nesting,
    "extends = [\"default\"]\n[user]\nuid = 0\nnesting = true\nown_namespaces = [\"pid\", \"mount\"]\n[landlock]\nenabled = false\n[process]\ncwd = \"/\"\n",
    "made = sc('mount', b'proc', b'/proc', b'proc', 0, 0)\n\
     pids = sorted(int(n) for n in os.listdir('/proc') if n.isdigit())\n\
     print(made, os.getpid(), pids[:2], open('/proc/1/cmdline', 'rb').read() == b'')",
    "OK 2 [1, 2] False"
);

// The app's cgroup namespace belongs to its own user namespace; without
// own_namespaces it belongs to one the app may not name (EPERM).
const NS_OWNER: &str = "import fcntl\n\
    def owner(kind):\n    fd = os.open(f'/proc/self/ns/{kind}', os.O_RDONLY)\n    try:\n        return os.fstat(fcntl.ioctl(fd, 0xb701)).st_ino == os.stat('/proc/self/ns/user').st_ino\n    except OSError as e:\n        return errno.errorcode[e.errno]\n\
    print(owner('cgroup'), open('/proc/self/cgroup').read().split()[-1])";
escape!(
    owned_cgroup_namespace_belongs_to_the_app,
    "extends = [\"default\"]\n[user]\nown_namespaces = [\"cgroup\"]\n",
    NS_OWNER,
    "True 0::/"
);
escape!(
    cgroup_namespace_not_owned_by_default,
    DEFAULT,
    NS_OWNER,
    "EPERM 0::/"
);

// A time namespace can only be set before a process enters it, as the
// app would at exec: so owning "time" lets the app make its own and set
// its clocks (its children see them), and nothing else. Control: without
// it the unshare is refused.
const TIME_NS: &str = "def up():\n    return float(os.popen('cat /proc/uptime').read().split()[0])\n\
    before = up()\n\
    made = sc('unshare', 0x80)\n\
    if made == 'OK':\n    open('/proc/self/timens_offsets', 'w').write('boottime 864000 0')\n\
    print(made, round((up() - before) / 86400), sc('unshare', 0x04000000))";
escape!(
    owned_time_namespace_is_made_and_set_by_the_app,
    "extends = [\"default\"]\n[user]\nown_namespaces = [\"time\"]\n",
    TIME_NS,
    "OK 10 EPERM"
);
escape!(
    time_namespace_not_made_by_default,
    DEFAULT,
    TIME_NS,
    "EPERM 0 EPERM"
);

// --- Reaching host files -------------------------------------------------

escape!(
    dot_dot_past_the_new_root,
    BARE,
    "print(sorted(os.listdir('/../../..')) == sorted(os.listdir('/')))",
    "True"
);
escape!(
    reach_host_files_through_proc_pid_root,
    BARE,
    // PID 1 is non-dumpable and outside the app's user namespace: its root
    // is not the app's to follow. The app's own is the sandbox's /.
    "print(ok(lambda: os.listdir('/proc/1/root')), sorted(os.listdir('/proc/self/root')) == sorted(os.listdir('/')), os.path.exists('/proc/self/root/sys'))",
    "EACCES True False"
);
escape!(
    reach_host_files_through_proc_self_fd,
    BARE,
    "print(sorted(os.listdir('/proc/self/fd')))",
    "['0', '1', '2', '3']"
);
both!(
    write_a_read_only_bind_by_reopening_through_proc_self_fd,
    |who| {
        // A file the caller owns, so that only the read-only mount stands in the way.
        let s = Scratch::new("reopen");
        s.write("data/file", "original\n");
        s.chown_to(who, "data");
        let data = s.path.join("data").to_string_lossy().into_owned();
        let profile =
            format!("{BARE}\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{data}\"\ndst = \"/data\"\n");
        let code = "fd = os.open('/data/file', os.O_RDONLY)\nprint(ok(lambda: os.open(f'/proc/self/fd/{fd}', os.O_WRONLY)), ok(lambda: os.open('/data/file', os.O_WRONLY)))";
        let Some(got) = probe(who, &profile, code) else {
            return;
        };
        assert_eq!(got, "EROFS EROFS");
        assert_eq!(
            std::fs::read_to_string(s.path.join("data/file")).unwrap(),
            "original\n"
        );
    }
);
escape!(
    write_into_the_read_only_root,
    BARE,
    "print(ok(lambda: open('/planted', 'w')))",
    "EROFS"
);
escape!(
    write_to_the_profile_search_path,
    BARE,
    "print(ok(lambda: os.makedirs('/etc/sandbox/profiles')), os.path.exists('/root/.config/sandbox'))",
    "EROFS False"
);
escape!(
    open_the_host_disks_and_memory,
    BARE,
    "print([os.path.exists(p) for p in ('/dev/mem', '/dev/kmem', '/dev/sda', '/dev/vda', '/sys/kernel', '/dev/kmsg')])",
    "[False, False, False, False, False, False]"
);
escape!(
    mknod_a_device,
    BARE,
    "print(sc('mknod', b'/tmp/sda', 0o60600, (8 << 8) | 0))",
    "EPERM"
);
escape!(
    write_kernel_settings,
    BARE,
    "print(ok(lambda: open('/proc/sys/kernel/hostname', 'w').write('x')))",
    "EROFS"
);
escape!(
    run_a_setuid_binary_for_privilege,
    BARE,
    "print(open('/proc/self/status').read().count('NoNewPrivs:\\t1'), [l for l in open('/proc/self/mountinfo') if ' /usr ' in l][0].count('nosuid'))",
    "1 1"
);

// --- Processes, signals, ptrace ------------------------------------------

escape!(
    see_host_processes,
    BARE,
    "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:2], open('/proc/1/cmdline').read().split('\\0')[0].endswith('sandbox'))",
    "[1, 2] True"
);
escape!(
    sethostname_without_the_admin_option,
    BARE,
    "print(sc('sethostname', b'pwned', 5))",
    "EPERM"
);
escape!(
    setns_into_the_outer_user_namespace_through_pid_1,
    BARE,
    // PID 1 lives in the outer user namespace, but its namespace files are
    // not the app's to open; joining one's own namespace is refused.
    "fd = os.open('/proc/self/ns/user', os.O_RDONLY)\nprint(ok(lambda: os.open('/proc/1/ns/user', os.O_RDONLY)), sc('setns', fd, 0x10000000))",
    "EACCES EINVAL"
);
escape!(
    become_another_user,
    BARE,
    "os.setgid(0); print(ok(lambda: os.setuid(1)) if os.getuid() == 0 else 'not-root')",
    "EINVAL"
);

/// A process of the test, on the host: the sandbox must not be able to
/// signal or trace it.
fn host_sleeper() -> std::process::Child {
    std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap()
}

both!(kill_a_host_process, |who| {
    let mut host = host_sleeper();
    let got = probe(
        who,
        BARE,
        &format!("print(ok(lambda: os.kill({}, 9)))", host.id()),
    );
    let alive = host.try_wait().unwrap().is_none();
    let _ = host.kill();
    let _ = host.wait();
    let Some(got) = got else { return };
    assert_eq!(got, "ESRCH");
    assert!(alive, "the host process was killed");
});

both!(ptrace_a_host_process, |who| {
    let mut host = host_sleeper();
    let got = probe(
        who,
        BARE,
        &format!("print(sc('ptrace', 16, {}, 0, 0))", host.id()),
    ); // PTRACE_ATTACH
    let _ = host.kill();
    let _ = host.wait();
    let Some(got) = got else { return };
    assert_eq!(got, "ESRCH");
});

both!(signal_the_process_that_started_the_sandbox, |who| {
    let me = std::process::id();
    let Some(got) = probe(who, BARE, &format!("print(ok(lambda: os.kill({me}, 0)))")) else {
        return;
    };
    assert_eq!(
        got, "ESRCH",
        "the sandbox could address a process outside it"
    );
});

both!(reach_the_hosts_abstract_unix_sockets, |who| {
    let name = format!("\0sandbox-escape-{}-{who:?}", std::process::id());
    let listener = {
        use std::os::linux::net::SocketAddrExt;
        let addr =
            std::os::unix::net::SocketAddr::from_abstract_name(&name.as_bytes()[1..]).unwrap();
        std::os::unix::net::UnixListener::bind_addr(&addr).unwrap()
    };
    let code = format!(
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\nprint(ok(lambda: s.connect({:?})))",
        name
    );
    let got = probe(who, BARE, &code);
    drop(listener);
    let Some(got) = got else { return };
    assert_eq!(got, "ECONNREFUSED", "a host abstract socket was reachable");
});

// --- The kernel's attack surface (default filter) -------------------------

escape!(
    keyring,
    DEFAULT,
    "print(sc('add_key', b'user', b'k', b'v', 1, -4))",
    "EPERM"
);
escape!(load_bpf, DEFAULT, "print(sc('bpf', 0, 0, 0))", "EPERM");
escape!(
    perf_events,
    DEFAULT,
    "print(sc('perf_event_open', 0, 0, -1, -1, 0))",
    "EPERM"
);
escape!(
    load_a_kernel_module,
    DEFAULT,
    "print(sc('init_module', 0, 0, b''))",
    "EPERM"
);
escape!(
    kexec,
    DEFAULT,
    "print(sc('kexec_load', 0, 0, 0, 0))",
    "EPERM"
);
escape!(
    reboot_the_machine,
    DEFAULT,
    "print(sc('reboot', 0xfee1dead, 672274793, 0x1234567, 0))",
    "EPERM"
);
escape!(
    io_uring_bypass,
    DEFAULT,
    "print(sc('io_uring_setup', 1, 0))",
    "EPERM"
);
escape!(
    userfaultfd_races,
    DEFAULT,
    "print(sc('userfaultfd', 0))",
    "EPERM"
);
escape!(
    open_by_handle_shocker,
    DEFAULT,
    "print(sc('open_by_handle_at', 3, 0, 0))",
    "EPERM"
);
escape!(
    disable_aslr,
    DEFAULT,
    "print(sc('personality', 0x0040000))",
    "EPERM"
);
escape!(
    clone3_unchecked_flags,
    DEFAULT,
    "print(sc('clone3', 0, 0))",
    "ENOSYS"
);
escape!(
    x32_abi_bypass,
    DEFAULT,
    "print(sc(0x40000000 | NR['getppid']))",
    "EPERM"
);
escape!(
    mount_under_the_default_filter,
    DEFAULT,
    "print(sc('mount', b'none', b'/tmp', b'tmpfs', 0, 0))",
    "EPERM"
);
escape!(
    the_filter_leaves_ordinary_calls_alone,
    DEFAULT,
    "print(sc('getppid'), ok(lambda: open('/tmp/f', 'w').write('x')))",
    "OK OK"
);
