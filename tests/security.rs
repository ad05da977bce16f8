//! The kernel security layers, observed from inside: seccomp, Landlock,
//! capabilities, rlimits. Each test runs as root and as a user.

mod common;
use common::*;

const SYSCALL: &str = "import ctypes, errno, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n\
def sc(nr, *a):\n    r = libc.syscall(nr, *[ctypes.c_long(x) for x in a])\n    return 'OK' if r >= 0 else errno.errorcode[ctypes.get_errno()]\n";

both!(
    every_default_denied_syscall_returns_the_configured_errno,
    |who| {
        // The list the plan says it denies, by number; EACCES so that a
        // refusal by the filter cannot be confused with the kernel's EPERM.
        let profile =
            "extends = [\"default\"]\n[seccomp]\nerrno = \"EACCES\"\n[process]\ncwd = \"/\"\n";
        let s = Scratch::new("deny");
        let path = s.write("p.toml", profile);
        let plan = std::process::Command::new(binary())
            .args(["plan", "--json", &path])
            .output()
            .unwrap();
        let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
        let step = plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["op"] == "seccomp")
            .unwrap();
        let numbers: Vec<u32> = step["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| sandbox::syscalls::number(n.as_str().unwrap()).unwrap())
            .collect();
        assert!(
            numbers.len() > 40,
            "the default list is long: {}",
            numbers.len()
        );
        let code =
            format!("{SYSCALL}print(sorted(set(sc(nr, 0, 0, 0, 0, 0, 0) for nr in {numbers:?})))");
        let Some(got) = run_python(who, profile, &code) else {
            return;
        };
        assert_eq!(got, "['EACCES']");
    }
);

both!(
    ordinary_programs_run_unharmed_under_the_default_filter,
    |who| {
        if !need(&[PYTHON]) {
            return;
        }
        let script = "set -e; ls -la /usr/bin >/dev/null; printf 'b\\na\\n' | sort | head -1; \
                  tar -cf /tmp/t.tar -C /usr/share/doc . 2>/dev/null || true; \
                  python3 -c 'import threading, subprocess, json, hashlib; t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join(); print(subprocess.run([\"echo\", \"child\"], capture_output=True, text=True).stdout.strip(), hashlib.sha256(b\"x\").hexdigest()[:8])'";
        let Some(out) = run_sh(who, "default", script) else {
            return;
        };
        assert_eq!(ok(out), "a\nthread\nchild 2d711642\n");
    }
);

both!(an_allowlist_refuses_what_it_does_not_list, |who| {
    // Everything but getppid: python starts, and getppid is refused.
    let allow: Vec<String> = sandbox::syscalls::SYSCALLS
        .iter()
        .map(|(n, _)| n.to_string())
        .filter(|n| n != "getppid")
        .collect();
    let profile = format!(
        "extends = [\"default\"]\n[seccomp]\npolicy = \"allowlist\"\nallow = {allow:?}\nerrno = \"EACCES\"\n[process]\ncwd = \"/\"\n"
    );
    let code = format!(
        "{SYSCALL}print(sc({}), sc({}))",
        libc::SYS_getppid,
        libc::SYS_getpid
    );
    let Some(got) = run_python(who, &profile, &code) else {
        return;
    };
    assert_eq!(got, "EACCES OK");
});

both!(
    landlock_confines_reads_and_writes_beyond_the_mounts,
    |who| {
        let s = Scratch::new("landlock");
        s.write("shared/file", "x\n");
        s.chown_to(who, "shared");
        let shared = s.path.join("shared").to_string_lossy().into_owned();
        let mounts = format!("[[mount]]\ntype = \"bind\"\nsrc = \"{shared}\"\ndst = \"/shared\"\n");
        let code = "import errno\ndef ok(f):\n    try:\n        f(); return 'OK'\n    except OSError as e:\n        return errno.errorcode[e.errno]\n\
                print(ok(lambda: open('/shared/new', 'w')), ok(lambda: open('/shared/file').read()), ok(lambda: open('/etc/passwd').read()))";
        // Rules from the mounts: the writable bind is writable.
        let derived = format!("extends = [\"default\"]\n{mounts}[process]\ncwd = \"/\"\n");
        let Some(got) = run_python(who, &derived, code) else {
            return;
        };
        assert_eq!(got, "OK OK OK");
        std::fs::remove_file(s.path.join("shared/new")).unwrap();
        // Explicit rules only: read /usr, /proc, /dev and the bind; write nowhere.
        let explicit = format!(
            "extends = [\"default\"]\n{mounts}[landlock]\nfrom_mounts = false\nread = [\"/proc\", \"/dev\", \"/shared\"]\nexec = [\"/usr\"]\ncompat = \"hard\"\n[process]\ncwd = \"/\"\n"
        );
        let got = run_python(who, &explicit, code).unwrap();
        assert_eq!(
            got, "EACCES OK EACCES",
            "writes to a writable bind and reads outside the rules must be refused"
        );
        assert!(!s.path.join("shared/new").exists());
    }
);

both!(landlock_confines_tcp_connections_to_listed_ports, |who| {
    let allowed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (a, r) = (
        allowed.local_addr().unwrap().port(),
        refused.local_addr().unwrap().port(),
    );
    let profile = format!(
        "extends = [\"default\"]\n[namespaces]\nnet = false\n[landlock]\ntcp_connect = [{a}]\ncompat = \"hard\"\n[process]\ncwd = \"/\"\n"
    );
    let code = format!(
        "import socket, errno\ndef c(p):\n    try:\n        socket.create_connection(('127.0.0.1', p), timeout=5).close(); return 'OK'\n    except OSError as e:\n        return errno.errorcode[e.errno]\nprint(c({a}), c({r}))"
    );
    let Some(got) = run_python(who, &profile, &code) else {
        return;
    };
    assert_eq!(got, "OK EACCES");
});

both!(every_rlimit_shows_in_proc_self_limits, |who| {
    let profile = "extends = [\"default\"]\n[limits]\nnofile = 123\nnproc = 4567\ncore = 0\ncpu = 60\nfsize = \"1M\"\nstack = \"8M\"\nas = \"4G\"\nmemlock = \"64K\"\n";
    let Some(out) = run_profile(who, profile, "tr -s ' ' < /proc/self/limits") else {
        return;
    };
    let text = ok(out);
    for line in [
        "Max open files 123 123 files",
        "Max processes 4567 4567 processes",
        "Max core file size 0 0 bytes",
        "Max cpu time 60 60 seconds",
        "Max file size 1048576 1048576 bytes",
        "Max stack size 8388608 8388608 bytes",
        "Max address space 4294967296 4294967296 bytes",
        "Max locked memory 65536 65536 bytes",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
});

both!(
    kept_capabilities_survive_exec_and_nothing_else_does,
    |who| {
        let profile = "extends = [\"default\"]\n[process]\ncapabilities = [\"net_bind_service\"]\n";
        let Some(out) = run_profile(
            who,
            profile,
            "grep -E '^Cap(Eff|Prm|Inh|Bnd|Amb):' /proc/self/status | tr -s '\\t' ' '",
        ) else {
            return;
        };
        assert_eq!(
            ok(out),
            "CapInh: 0000000000000400\nCapPrm: 0000000000000400\nCapEff: 0000000000000400\nCapBnd: 0000000000000400\nCapAmb: 0000000000000400\n"
        );
    }
);
