//! Network modes, through the binary: what a program inside can reach and
//! what the host can reach of it. Traffic goes only to loopback, to pasta's
//! mapping of the host's loopback, or to interfaces these tests create.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on right now (the kernel's pick, then freed).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A host server on 127.0.0.1 answering every connection with `reply`.
fn host_server(reply: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let _ = c.write_all(reply.as_bytes());
        }
    });
    port
}

fn has_pasta() -> bool {
    have("pasta")
}

/// pasta processes whose arguments mention `needle`.
fn pastas_with(needle: &str) -> Vec<String> {
    let mut found = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.starts_with("pasta ") && cmd.contains(needle) {
                found.push(cmd);
            }
        }
    }
    found
}

/// Interface names as /proc/net/dev lists them.
const LIST_INTERFACES: &str = "print(' '.join(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:])))";

both!(none_has_only_loopback_and_no_way_out, |who| {
    let port = host_server("host");
    let code = format!(
        "{LIST_INTERFACES}
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=3); print('reached')
except ConnectionRefusedError: print('refused')"
    );
    let Some(out) = run_python(who, "extends = [\"default\"]\n", &code) else {
        return;
    };
    assert_eq!(
        out, "lo\nrefused",
        "the host's loopback server is out of reach"
    );
});

both!(host_mode_shares_the_hosts_interfaces, |who| {
    let host_ifaces: Vec<String> = std::fs::read_to_string("/proc/net/dev")
        .unwrap()
        .lines()
        .skip(2)
        .map(|l| l.split(':').next().unwrap().trim().to_string())
        .collect();
    assert!(host_ifaces.len() > 1, "the host has more than lo");
    let port = host_server("host-mode");
    let code = format!(
        "{LIST_INTERFACES}
import socket
print(socket.create_connection(('127.0.0.1', {port}), timeout=3).recv(64).decode())"
    );
    let Some(out) = run_python(
        who,
        "extends = [\"default\"]\n[namespaces]\nnet = false\n",
        &code,
    ) else {
        return;
    };
    let mut lines = out.lines();
    let inside: Vec<&str> = lines.next().unwrap().split(' ').collect();
    // Interfaces other tests create and remove meanwhile ("sb...") aside.
    for i in host_ifaces.iter().filter(|i| !i.starts_with("sb")) {
        assert!(
            inside.contains(&i.as_str()),
            "{i} missing inside: {inside:?}"
        );
    }
    assert_eq!(lines.next().unwrap(), "host-mode");
});

fn pasta_profile(extra: &str) -> String {
    format!("extends = [\"default\"]\n[network]\nmode = \"pasta\"\n{extra}\n")
}

both!(pasta_forwards_a_port_in_and_reaches_the_host_out, |who| {
    if !has_pasta() {
        cannot("pasta is not installed (package passt)");
        return;
    }
    let host_port = host_server("hello from the host");
    let fwd = free_port();
    let s = Scratch::new("pasta");
    let profile = s.write(
        "p.toml",
        &pasta_profile(&format!(
            "forward_tcp = [\"127.0.0.1:{fwd}:80\"]\nhost_loopback = true"
        )),
    );
    // Inside: reach the host's loopback server through the gateway (pasta
    // maps it to the host), then serve one connection on port 80.
    let code = format!(
        "import socket, struct
gw = [l.split() for l in open('/proc/net/route')][1][2]
gw = socket.inet_ntoa(struct.pack('<I', int(gw, 16)))
print(socket.create_connection((gw, {host_port}), timeout=5).recv(64).decode(), flush=True)
srv = socket.socket(); srv.bind(('0.0.0.0', 80)); srv.listen(); srv.settimeout(20)
c, _ = srv.accept(); c.sendall(b'hello from the sandbox'); c.close()
print(open('/etc/resolv.conf').read().strip())"
    );
    if !need(&[PYTHON]) {
        return;
    }
    let Some(mut c) = sandbox(who) else { return };
    let child = c
        .args(["run", &profile, "--", "/usr/bin/python3", "-c", &code])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // pasta accepts on the host side at once and closes the connection
    // while nothing listens inside yet: retry until the sandbox answers.
    let until = Instant::now() + Duration::from_secs(15);
    let mut got = String::new();
    while Instant::now() < until && got.is_empty() {
        if let Ok(mut conn) = TcpStream::connect(("127.0.0.1", fwd)) {
            conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let _ = conn.read_to_string(&mut got);
        }
        if got.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let out = child.wait_with_output().unwrap();
    let text = ok(out);
    assert_eq!(
        got, "hello from the sandbox",
        "host reached the sandbox's server"
    );
    assert_eq!(
        text, "hello from the host\nnameserver 169.254.1.1\n",
        "the sandbox reached the host's loopback server; DNS goes to pasta"
    );
    assert!(
        pastas_with(&format!("127.0.0.1/{fwd}:80")).is_empty(),
        "pasta stopped with the sandbox"
    );
});

both!(pasta_without_host_loopback_cannot_reach_the_host, |who| {
    if !has_pasta() {
        cannot("pasta is not installed (package passt)");
        return;
    }
    let host_port = host_server("host");
    let code = format!(
        "import socket, struct
gw = [l.split() for l in open('/proc/net/route')][1][2]
gw = socket.inet_ntoa(struct.pack('<I', int(gw, 16)))
try:
    socket.create_connection((gw, {host_port}), timeout=3).recv(64); print('reached')
except OSError: print('unreachable')
print(open('/etc/resolv.conf').read().strip())"
    );
    let Some(out) = run_python(who, &pasta_profile("dns = [\"192.0.2.53\"]"), &code) else {
        return;
    };
    assert_eq!(out, "unreachable\nnameserver 192.0.2.53");
});

both!(
    pasta_port_in_use_is_a_clear_error_and_leaves_nothing,
    |who| {
        if !has_pasta() {
            cannot("pasta is not installed (package passt)");
            return;
        }
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        let Some(o) = run_profile(
            who,
            &pasta_profile(&format!("forward_tcp = [\"127.0.0.1:{port}:80\"]")),
            "echo ran",
        ) else {
            return;
        };
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(125), "{err}");
        assert!(!stdout(&o).contains("ran"));
        assert!(err.contains("p.toml:3:8: error:"), "{err}");
        assert!(
            err.contains("already listens on a forwarded host port"),
            "{err}"
        );
        // The errno is the one the launcher meets binding the port itself,
        // not one guessed from pasta's words.
        assert!(
            err.contains(&format!(
                "(bind tcp 127.0.0.1:{port}): Address already in use (pasta: "
            )),
            "{err}"
        );
        assert!(pastas_with(&format!("127.0.0.1/{port}:80")).is_empty());
        drop(busy);
    }
);

/// Interfaces on the host whose names start with `prefix`.
fn host_links(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Send one ICMP echo to `addr` (Python); true if answered. An
/// unprivileged ping socket where the group may (inside), else a raw socket
/// (root on the host, whose ping_group_range may allow no one).
const PING: &str = "def ping(addr):
    import socket, struct
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); off = 0
    except PermissionError:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); off = 20
    body = b'\\x08\\x00\\x00\\x00\\x12\\x34\\x00\\x01hello!'
    total = sum(struct.unpack('!%dH' % (len(body) // 2), body))
    while total >> 16: total = (total & 0xffff) + (total >> 16)
    body = body[:2] + struct.pack('!H', ~total & 0xffff) + body[4:]
    s.settimeout(3); s.sendto(body, (addr, 0))
    try:
        while True:
            data, src = s.recvfrom(128)
            if src[0] == addr and data[off] == 0: return True
    except OSError: return False
";

#[test]
fn veth_ping_and_tcp_both_ways_then_removed() {
    if !is_root() {
        cannot("veth needs root");
        return;
    }
    if !need(&[PYTHON, "ip"]) {
        return;
    }
    let before = host_links("sb");
    // The host end does not exist yet: listen on every address.
    let l = TcpListener::bind("0.0.0.0:0").unwrap();
    let host_port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let _ = c.write_all(b"hello from the host end");
        }
    });
    let s = Scratch::new("veth");
    let profile = s.write(
        "p.toml",
        "extends = [\"default\"]\n[network]\nmode = \"veth\"\naddress = \"10.89.7.2/24\"\nhost_address = \"10.89.7.1/24\"\n",
    );
    let code = format!(
        "{PING}
import socket, time
print('ping out', ping('10.89.7.1'), flush=True)
print(socket.create_connection(('10.89.7.1', {host_port}), timeout=5).recv(64).decode(), flush=True)
srv = socket.socket(); srv.bind(('0.0.0.0', 8000)); srv.listen(); srv.settimeout(20)
print('listening', flush=True)
c, _ = srv.accept(); c.sendall(b'hello from the sandbox'); c.close()
time.sleep(1)"
    );
    let mut c = sandbox(Who::Root).unwrap();
    let mut child = c
        .args(["run", &profile, "--", "/usr/bin/python3", "-c", &code])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("listening") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "sandbox ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let made = host_links("sb");
    assert_eq!(made.len(), before.len() + 1, "one host end: {made:?}");
    // From the host: ping, then TCP into the sandbox.
    let out = Command::new(PYTHON)
        .args(["-c", &format!("{PING}\nprint(ping('10.89.7.2'))")])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "True",
        "ping in"
    );
    let mut got = String::new();
    TcpStream::connect(("10.89.7.2", 8000))
        .unwrap()
        .read_to_string(&mut got)
        .unwrap();
    assert_eq!(got, "hello from the sandbox");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{seen}{rest}");
    assert_eq!(seen, "ping out True\nhello from the host end\nlistening\n");
    assert_eq!(host_links("sb"), before, "the host end is gone");
}

#[test]
fn veth_without_root_is_refused_before_anything_starts() {
    let Some(o) = run_profile(
        Who::User,
        "extends = [\"default\"]\n[network]\nmode = \"veth\"\n",
        "echo ran",
    ) else {
        return;
    };
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("network mode 'veth' needs root"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("pasta"),
        "the hint names the alternative"
    );
}

/// A parent interface for a macvlan: a dummy where the kernel has the
/// driver, else one end of a veth pair (also an Ethernet device).
struct Parent(&'static str);

impl Parent {
    fn new() -> Parent {
        let name = "sbtparent0";
        let _ = ip(&["link", "del", name]);
        if !ip(&["link", "add", name, "type", "dummy"]) {
            assert!(ip(&[
                "link",
                "add",
                name,
                "type",
                "veth",
                "peer",
                "name",
                "sbtparent1"
            ]));
        }
        assert!(ip(&["link", "set", name, "up"]));
        Parent(name)
    }
}

impl Drop for Parent {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", self.0]);
    }
}

#[test]
fn macvlan_appears_inside_with_its_address() {
    if !is_root() {
        cannot("macvlan needs root");
        return;
    }
    if !need(&[PYTHON, "ip"]) {
        return;
    }
    let parent = Parent::new();
    let profile = format!(
        "extends = [\"default\"]\n[network]\nmode = \"macvlan\"\nparent = \"{}\"\naddress = \"10.91.3.5/24\"\n",
        parent.0
    );
    let code = format!(
        "{LIST_INTERFACES}
import socket, fcntl, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
raw = fcntl.ioctl(s.fileno(), 0x8915, struct.pack('256s', b'eth0'))
print(socket.inet_ntoa(raw[20:24]))"
    );
    let Some(out) = run_python(Who::Root, &profile, &code) else {
        return;
    };
    assert_eq!(out, "eth0 lo\n10.91.3.5");
    assert!(
        host_links("sbm").is_empty(),
        "nothing of it left on the host"
    );
}

#[test]
fn macvlan_on_a_missing_parent_names_it() {
    if !is_root() {
        cannot("macvlan needs root");
        return;
    }
    let o = run_profile(
        Who::Root,
        "extends = [\"default\"]\n[network]\nmode = \"macvlan\"\nparent = \"sbtnosuch0\"\naddress = \"10.91.4.5/24\"\n",
        "echo ran",
    )
    .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("parent interface 'sbtnosuch0' does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(host_links("sbm").is_empty());
}

/// The DHCP setup of docs/profile-format.md: the app keeps the network
/// capabilities in the user namespace that owns its network (no sandwich).
const DHCP_PROFILE: &str = "extends = [\"default\"]
[user]
sandwich = false
[network]
mode = \"veth\"
address = \"none\"
host_interface = \"vdhcp7\"
host_address = \"10.89.8.1/24\"
[process]
capabilities = [\"CAP_NET_ADMIN\", \"CAP_NET_RAW\"]
";

#[test]
fn veth_unaddressed_gets_its_address_from_a_dhcp_server_on_the_host_end() {
    if !is_root() {
        cannot("veth needs root");
        return;
    }
    if !need(&["/bin/busybox", "ip"]) {
        return;
    }
    let s = Scratch::new("dhcp");
    let dir = s.path.to_string_lossy().into_owned();
    let profile = s.write(
        "p.toml",
        &format!("{DHCP_PROFILE}[[mount]]\ntype = \"ro-bind\"\nsrc = \"{dir}\"\ndst = \"/dhcp\"\n"),
    );
    s.write(
        "udhcpd.conf",
        &format!(
            "start 10.89.8.100\nend 10.89.8.110\ninterface vdhcp7\nlease_file {dir}/leases\npidfile {dir}/udhcpd.pid\noption subnet 255.255.255.0\noption router 10.89.8.1\n"
        ),
    );
    s.write("leases", "");
    // udhcpc's script: apply the lease (busybox's ip, the sandbox's /usr).
    let script = s.write(
        "apply.sh",
        "#!/bin/sh\ncase \"$1\" in bound|renew) /bin/busybox ip addr add \"$ip/${mask:-24}\" dev \"$interface\" ;; esac\nexit 0\n",
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut c = sandbox(Who::Root).unwrap();
    let child = c
        .args([
            "run",
            &profile,
            "--",
            "/bin/sh",
            "-c",
            "/bin/busybox udhcpc -i eth0 -q -n -t 20 -T 1 -s /dhcp/apply.sh >&2 && /bin/busybox ip -4 -o addr show eth0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The server starts once the host end exists (it reads its address).
    let until = Instant::now() + Duration::from_secs(10);
    while host_links("vdhcp7").is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut server = Command::new("/bin/busybox")
        .args(["udhcpd", "-f", &format!("{dir}/udhcpd.conf")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let _ = server.kill();
    let served = server.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}\nudhcpd: {}",
        stderr(&out),
        String::from_utf8_lossy(&served.stderr)
    );
    let addr = text
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let last: u32 = addr
        .strip_prefix("10.89.8.")
        .and_then(|a| a.strip_suffix("/24"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("eth0 has no address from the pool: {text}"));
    assert!((100..=110).contains(&last), "from the pool: {addr}");
    assert!(host_links("vdhcp7").is_empty(), "the host end is gone");
}

#[test]
fn dhcp_profile_without_root_is_refused_as_veth_is() {
    let Some(o) = run_profile(Who::User, DHCP_PROFILE, "echo ran") else {
        return;
    };
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(!stdout(&o).contains("ran"));
    assert!(
        stderr(&o).contains("network mode 'veth' needs root"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn network_capabilities_for_an_unaddressed_interface_under_the_sandwich_point_to_sandwich_false() {
    // As root: as the unprivileged user, veth's own error comes first.
    let Some(mut c) = sandbox(Who::Root) else {
        return;
    };
    let s = Scratch::new("dhcp-sandwich");
    let profile = s.write(
        "p.toml",
        &DHCP_PROFILE.replace("sandwich = false", "sandwich = true"),
    );
    let o = c.args(["run", &profile, "--", "true"]).output().unwrap();
    assert_eq!(o.status.code(), Some(125));
    let err = stderr(&o);
    assert!(
        err.contains("p.toml:10:17: error: CAP_NET_ADMIN would reach nothing"),
        "{err}"
    );
    assert!(err.contains("set [user] sandwich = false"), "{err}");
}
