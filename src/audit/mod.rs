//! `sandbox audit`: what a profile exposes of the caller and the host, as
//! findings with a weight and the profile line that causes each, and one
//! score, in the manner of `systemd-analyze security`. Read from the plan
//! (what the executor would do, the guards of secrets included), made for
//! a machine that has every path and helper the profile names
//! ([`assumed::Assumed`]), so that the score is the profile's and not
//! this machine's. Pure: nothing here acts.

pub mod assumed;
pub mod view;

use crate::diag::Origin;
use crate::host::HostFacts;
use crate::plan::{Action, NsKind, Plan, SeccompPolicy};
use crate::profile::Loaded;
use crate::profile::guarded::Guard;
use serde::Serialize;
use view::{Access, Sight, sight};

/// One thing the app is given that it could do harm with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// What kind of exposure: `secret`, `persistence`, `x11`, ...
    pub id: &'static str,
    /// How much of the host user it gives away: 0 (nothing) to 10 (all).
    pub weight: f64,
    pub what: String,
    /// The profile line that causes it; None for the sandbox's defaults.
    #[serde(serialize_with = "crate::plan::origin_text")]
    pub origin: Option<Origin>,
}

/// A profile's findings and its score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub profile: String,
    /// 0 = nothing exposed, 10 = the host user (see [`score`]).
    pub score: f64,
    pub level: &'static str,
    pub findings: Vec<Finding>,
}

/// The caller's places the audit looks for, besides the guarded ones.
pub struct Caller {
    pub home: Option<String>,
    /// $XDG_RUNTIME_DIR: the session's sockets.
    pub runtime: Option<String>,
    /// $SSH_AUTH_SOCK: the ssh agent's socket.
    pub ssh_agent: Option<String>,
    /// $WAYLAND_DISPLAY: the compositor's socket's name in the runtime folder.
    pub wayland: Option<String>,
    /// The path of $DBUS_SESSION_BUS_ADDRESS (`unix:path=...`).
    pub session_bus: Option<String>,
}

/// The findings' weights combined as independent chances of harm:
/// 10 × (1 − Π(1 − wᵢ/10)), one decimal. One finding of weight 10 is 10;
/// more findings never lower the score, and it never passes 10.
pub fn score(findings: &[Finding]) -> f64 {
    let kept: f64 = findings
        .iter()
        .map(|f| 1.0 - (f.weight / 10.0).clamp(0.0, 1.0))
        .product();
    ((1.0 - kept) * 100.0).round() / 10.0
}

/// The word for a score, as `systemd-analyze security` has them.
pub fn level(score: f64) -> &'static str {
    match score {
        s if s <= 1.0 => "ok",
        s if s <= 3.0 => "low",
        s if s <= 6.0 => "medium",
        s if s <= 8.0 => "exposed",
        _ => "unsafe",
    }
}

/// Secrets whose exposure weighs less: profiles of browsers and mail
/// (sessions, messages) rather than keys that open other machines.
const PROFILE_SECRETS: [&str; 7] = [
    ".mozilla",
    ".thunderbird",
    "google-chrome",
    "chromium",
    "BraveSoftware",
    "microsoft-edge",
    "vivaldi",
];

/// The audit of `plan` (compiled from `loaded` for an [`assumed::Assumed`]
/// host).
pub fn audit(loaded: &Loaded, plan: &Plan, host: &dyn HostFacts, caller: &Caller) -> Report {
    let mut a = Auditor {
        loaded,
        plan,
        host,
        findings: vec![],
    };
    a.files(caller);
    a.sockets(caller);
    a.devices();
    a.network();
    a.namespaces();
    a.privileges();
    a.filters();
    a.writable(caller);
    a.findings.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then_with(|| x.what.cmp(&y.what))
    });
    let score = score(&a.findings);
    Report {
        profile: plan.profile.clone(),
        score,
        level: level(score),
        findings: a.findings,
    }
}

struct Auditor<'a> {
    loaded: &'a Loaded,
    plan: &'a Plan,
    host: &'a dyn HostFacts,
    findings: Vec<Finding>,
}

impl Auditor<'_> {
    fn add(&mut self, id: &'static str, weight: f64, what: String, origin: Option<Origin>) {
        self.findings.push(Finding {
            id,
            weight,
            what,
            origin,
        });
    }

    fn sight(&self, place: &str, access: Access) -> Option<Sight> {
        sight(self.plan, self.host, place, access)
    }

    fn origin_of(&self, s: &Sight) -> Option<Origin> {
        self.plan.steps[s.step].origin.clone()
    }

    fn span_origin(&self, span: Option<crate::diag::Span>) -> Option<Origin> {
        span.map(|s| self.loaded.sources.origin(s))
    }

    /// The home folder, the secrets and the places code runs from later.
    fn files(&mut self, caller: &Caller) {
        if let Some(home) = &caller.home
            && let Some(s) = self.sight(home, Access::Files).filter(|s| s.whole)
        {
            let (w, how) = match s.writable {
                true => (
                    9.0,
                    "readable and writable: its secrets, and every place code runs from later",
                ),
                false => (6.0, "readable: everything in it the sandbox does not hide"),
            };
            self.add(
                "home",
                w,
                format!("the home folder {home} is {how}"),
                self.origin_of(&s),
            );
        }
        for g in &self.loaded.guarded {
            let Some(s) = self.sight(&g.path, Access::Files) else {
                continue;
            };
            match g.guard {
                Guard::Secret => {
                    let browser = PROFILE_SECRETS.iter().any(|n| g.path.ends_with(n));
                    let (w, kind) = match browser {
                        true => (
                            4.0,
                            "a browser's or mail profile: sessions, saved passwords, messages",
                        ),
                        false => (
                            5.0,
                            "keys or credentials that open other machines and accounts",
                        ),
                    };
                    self.add(
                        "secret",
                        w,
                        format!("{} is readable: {kind}", g.path),
                        self.origin_of(&s),
                    );
                }
                Guard::Runs if s.writable => self.add(
                    "persistence",
                    7.0,
                    format!(
                        "{} is writable: code the app leaves there runs outside the sandbox later",
                        g.path
                    ),
                    self.origin_of(&s),
                ),
                Guard::Runs => {}
            }
        }
    }

    /// The other host paths the app may change: its data at risk, not
    /// the host user's (those already found are not counted again).
    fn writable(&mut self, caller: &Caller) {
        let mut seen = vec![];
        let root_ro = self
            .plan
            .find(|a| matches!(a, Action::RemountRootRo))
            .is_some();
        for (i, st) in self.plan.steps.iter().enumerate() {
            // Where what the app writes lands on the host: a writable
            // bind's source, an overlay's upper folder, a root folder.
            let src = match &st.action {
                Action::Bind {
                    src,
                    readonly: false,
                    ..
                } => src,
                Action::Overlay {
                    upper: Some(u),
                    readonly: false,
                    ..
                } => u,
                Action::RootBind { src, .. } => {
                    if src == "/" {
                        let (w, how) = match root_ro {
                            false => (10.0, "writable"),
                            true => (6.0, "read-only, nothing of it hidden"),
                        };
                        let what = format!("the host's / is the sandbox's root, {how}");
                        self.add("filesystem", w, what, st.origin.clone());
                        continue;
                    }
                    if root_ro {
                        continue;
                    }
                    src
                }
                _ => continue,
            };
            let found = self.findings.iter().any(|f| f.what.contains(src.as_str()));
            if src.starts_with("/dev") || seen.contains(src) || found {
                continue;
            }
            let covered = caller.home.as_deref() == Some(src.as_str());
            let upper = matches!(st.action, Action::Overlay { .. });
            match self.sight(src, Access::Files) {
                Some(s) if upper || (s.writable && s.step == i && !covered) => {
                    seen.push(src.clone());
                    self.add(
                        "host-write",
                        1.0,
                        format!("the host's {src} is writable"),
                        st.origin.clone(),
                    );
                }
                _ => {}
            }
        }
    }

    /// Sockets of the session and the host.
    fn sockets(&mut self, caller: &Caller) {
        let mut places: Vec<(String, &'static str, f64, &str)> = vec![
            (
                "/tmp/.X11-unix".into(),
                "x11",
                6.0,
                "the X11 server: every window's keystrokes and images",
            ),
            (
                "/run/dbus/system_bus_socket".into(),
                "system-bus",
                2.0,
                "the system bus: the host's services",
            ),
        ];
        for sock in [
            "/run/docker.sock",
            "/var/run/docker.sock",
            "/run/podman/podman.sock",
            "/run/containerd/containerd.sock",
        ] {
            places.push((
                sock.into(),
                "container-socket",
                10.0,
                "a container runtime's socket: root on the host",
            ));
        }
        if let Some(r) = &caller.runtime {
            let at = |n: &str| format!("{r}/{n}");
            places.extend([
                (
                    at("bus"),
                    "session-bus",
                    6.0,
                    "the session bus, unfiltered: every desktop service, as you",
                ),
                (
                    at("pulse"),
                    "audio",
                    4.0,
                    "PulseAudio: the microphone, and every app's sound",
                ),
                (
                    at("pipewire-0"),
                    "audio",
                    4.0,
                    "PipeWire: the microphone, the camera, the screen",
                ),
                (
                    at("wayland-0"),
                    "wayland",
                    2.0,
                    "the Wayland compositor: windows of its own, the clipboard",
                ),
                (
                    at("podman/podman.sock"),
                    "container-socket",
                    8.0,
                    "podman's socket: containers as you, with your files",
                ),
                (
                    at("docker.sock"),
                    "container-socket",
                    8.0,
                    "rootless docker's socket: containers as you, with your files",
                ),
                (
                    at("gnupg"),
                    "agent-socket",
                    5.0,
                    "gpg-agent: signing and decrypting with your keys",
                ),
                (
                    at("keyring"),
                    "agent-socket",
                    5.0,
                    "the keyring's agents (ssh, secrets)",
                ),
                (
                    at("ssh-agent.socket"),
                    "agent-socket",
                    5.0,
                    "the ssh agent: logging in elsewhere as you",
                ),
                (
                    at("systemd"),
                    "service-manager",
                    9.0,
                    "your systemd manager: it starts programs outside the sandbox",
                ),
                (
                    at("at-spi"),
                    "accessibility-bus",
                    4.0,
                    "the accessibility bus: other apps' text and keystrokes",
                ),
            ]);
            if let Some(w) = &caller.wayland {
                places.push((
                    at(w),
                    "wayland",
                    2.0,
                    "the Wayland compositor: windows of its own, the clipboard",
                ));
            }
        }
        if let Some(b) = &caller.session_bus {
            places.push((b.clone(), "session-bus", 6.0, "the session bus ($DBUS_SESSION_BUS_ADDRESS), unfiltered: every desktop service, as you"));
        }
        if let Some(s) = &caller.ssh_agent {
            places.push((
                s.clone(),
                "agent-socket",
                5.0,
                "the ssh agent ($SSH_AUTH_SOCK): logging in elsewhere as you",
            ));
        }
        let mut seen: Vec<(&str, usize)> = vec![];
        for (path, id, w, what) in places {
            let Some(s) = self.sight(&path, Access::Socket) else {
                continue;
            };
            // Two names of one socket (/run and /var/run) count once.
            if seen.contains(&(id, s.step)) && id == "container-socket" {
                continue;
            }
            seen.push((id, s.step));
            self.add(id, w, format!("{path}: {what}"), self.origin_of(&s));
        }
        if let Some(st) = self.plan.find(|a| matches!(a, Action::DbusProxy { .. })) {
            let Action::DbusProxy { talk, own, .. } = &st.action else {
                return;
            };
            let names: Vec<&str> = talk.iter().chain(own).map(String::as_str).collect();
            self.add(
                "session-bus",
                1.0,
                format!("the session bus, filtered to: {}", names.join(" ")),
                st.origin.clone(),
            );
        }
    }

    /// Device nodes of the host.
    fn devices(&mut self) {
        for (i, st) in self.plan.steps.iter().enumerate() {
            let Action::Bind {
                src, devices: true, ..
            } = &st.action
            else {
                continue;
            };
            if !self
                .sight(src, Access::Files)
                .is_some_and(|s| s.devices && s.step == i)
            {
                continue;
            }
            let path = std::path::Path::new(src);
            // A dev-bind elsewhere (a folder of files) is its folder's
            // finding, not a device's.
            if !path.starts_with("/dev") {
                continue;
            }
            let (id, w, what) = match path.to_string_lossy().trim_end_matches('/') {
                "/dev" | "" => ("devices", 6.0, "every device of the host"),
                s if s.starts_with("/dev/snd") => ("audio", 4.0, "the sound cards: the microphone"),
                s if s.starts_with("/dev/video") => ("camera", 4.0, "a camera"),
                s if s.starts_with("/dev/dri") || s.starts_with("/dev/nvidia") => {
                    ("gpu", 2.0, "the GPU")
                }
                _ => ("devices", 3.0, "a device of the host"),
            };
            // The nodes of one device (a GPU's four) are one finding.
            match self
                .findings
                .iter_mut()
                .find(|f| f.id == id && f.what.starts_with(what))
            {
                Some(f) => f.what.push_str(&format!(" {src}")),
                None => self.add(id, w, format!("{what}: {src}"), st.origin.clone()),
            }
        }
    }

    fn network(&mut self) {
        let p = &self.loaded.profile;
        if !self.plan.new_namespaces().contains(&NsKind::Net) {
            let at = self.span_origin(p.namespace(NsKind::Net).map(|s| s.span));
            // Abstract unix sockets are the network namespace's: the
            // host's, X11's among them, unless Landlock scopes them.
            let scoped = self.plan.steps.iter().any(|s| match &s.action {
                Action::Landlock { scope, .. } => {
                    scope.contains(&crate::plan::Scope::AbstractUnixSocket)
                        && self.host.landlock_abi() >= 6
                }
                _ => false,
            });
            let what = match scoped {
                true => {
                    "the host's network: the internet, and every service listening on the host and its network"
                }
                false => {
                    "the host's network: the internet, every service listening on the host and its network, and the host's abstract sockets"
                }
            };
            self.add("network", 5.0, what.into(), at.clone());
            if !scoped {
                self.add(
                    "x11",
                    6.0,
                    "the X11 server's abstract socket (@/tmp/.X11-unix/X0), on the host's network: every window's keystrokes and images".into(),
                    at,
                );
            }
            return;
        }
        for st in &self.plan.steps {
            match &st.action {
                Action::Pasta {
                    tcp,
                    udp,
                    host_loopback,
                    ..
                } => {
                    let (w, what) = match host_loopback {
                        true => (
                            4.0,
                            "the network through pasta, and the services listening on the host's loopback",
                        ),
                        false => (
                            2.0,
                            "the network through pasta (the internet, the host's network)",
                        ),
                    };
                    self.add("network", w, what.into(), st.origin.clone());
                    // The forwards in the order the profile lists them:
                    // each at its own line.
                    let n = &self.loaded.profile.network;
                    let said = n
                        .forward_tcp
                        .iter()
                        .map(Some)
                        .chain(std::iter::repeat(None));
                    let said_udp = n
                        .forward_udp
                        .iter()
                        .map(Some)
                        .chain(std::iter::repeat(None));
                    let lines: Vec<_> = tcp
                        .iter()
                        .zip(said)
                        .chain(udp.iter().zip(said_udp))
                        .collect();
                    for (f, line) in lines {
                        let at = match line {
                            Some(l) => self.span_origin(Some(l.span)),
                            None => st.origin.clone(),
                        };
                        self.add(
                            "port-forward",
                            1.0,
                            format!("port {f} of the host leads into the sandbox"),
                            at,
                        );
                    }
                    let tcp = n.to_host_tcp.iter().map(|p| ("tcp", p));
                    for (proto, p) in tcp.chain(n.to_host_udp.iter().map(|p| ("udp", p))) {
                        let at = self.span_origin(Some(p.span));
                        self.add(
                            "host-service",
                            1.5,
                            format!(
                                "the service on the host's loopback at {proto} port {}",
                                p.value
                            ),
                            at,
                        );
                    }
                }
                Action::Veth { .. } | Action::Macvlan { .. } => self.add(
                    "network",
                    3.0,
                    "an interface on the host's network".into(),
                    st.origin.clone(),
                ),
                _ => {}
            }
        }
    }

    fn namespaces(&mut self) {
        let p = &self.loaded.profile;
        let new = self.plan.new_namespaces();
        let joined_any = |k: NsKind| {
            self.plan
                .steps
                .iter()
                .any(|s| matches!(&s.action, Action::JoinNamespace { kind, .. } if *kind == k))
        };
        // No mount namespace of its own: every file of the host, as the
        // app's ids may reach it, and nothing hidden.
        if !new.contains(&NsKind::Mount) {
            let at = self.span_origin(p.namespace(NsKind::Mount).map(|s| s.span));
            let (w, what) = match joined_any(NsKind::Mount) {
                true => (
                    8.0,
                    "a joined mount namespace: its files, whatever they are",
                ),
                false => (
                    10.0,
                    "the host's mount namespace: every file of the host, nothing hidden",
                ),
            };
            self.add("filesystem", w, what.into(), at);
        }
        // Root's sandbox acts as root on the host: without a user namespace
        // of its own, or with host_root.
        if self.host.is_root() {
            let userns = new.contains(&NsKind::User);
            let nobody = self.plan.steps.iter().any(|s| {
                matches!(
                    s.action,
                    Action::DropHostRoot { .. } | Action::SetIds { .. }
                )
            });
            if !nobody {
                let at = match userns {
                    true => self.span_origin(p.user.host_root.as_ref().map(|s| s.span)),
                    false => self.span_origin(p.namespace(NsKind::User).map(|s| s.span)),
                };
                let what = match userns {
                    true => "host_root: the app acts as root on the host files it is given",
                    false => {
                        "no user namespace: the app's root is the host's, owner of root's files it is given, its capabilities the host's"
                    }
                };
                // Within what its mounts give it: the files of the host it
                // sees are still only those.
                let w = if userns { 5.0 } else { 6.0 };
                self.add("host-root", w, what.into(), at);
            }
        }
        // The host's /proc bound in: its processes, their command lines.
        for st in &self.plan.steps {
            if let Action::Bind { src, .. } = &st.action
                && std::path::Path::new(src).starts_with("/proc")
            {
                self.add(
                    "namespaces",
                    3.0,
                    format!("{src}: the host's processes and their command lines"),
                    st.origin.clone(),
                );
            }
        }
        // The caller's environment, whole: tokens, agents' sockets, paths.
        if let Some(st) = self
            .plan
            .find(|a| matches!(a, Action::Environment { clear: false, .. }))
        {
            let at = self
                .span_origin(p.env.clear.as_ref().map(|c| c.span))
                .or(st.origin.clone());
            self.add(
                "environment",
                2.0,
                "the caller's whole environment: tokens and passwords kept in variables".into(),
                at,
            );
        }
        let joined = |k: NsKind| {
            self.plan
                .steps
                .iter()
                .any(|s| matches!(&s.action, Action::JoinNamespace { kind, .. } if *kind == k))
        };
        for (kind, w, what) in [
            (
                NsKind::Pid,
                3.0,
                "the host's processes: it sees them, and may signal or trace yours",
            ),
            (
                NsKind::Ipc,
                1.0,
                "the host's shared memory and message queues",
            ),
        ] {
            if !new.contains(&kind) && !joined(kind) {
                let at = self.span_origin(p.namespace(kind).map(|s| s.span));
                self.add("namespaces", w, what.into(), at);
            }
        }
        let sandwich = self.plan.find(|a| matches!(a, Action::Sandwich { .. }));
        if new.contains(&NsKind::User) && sandwich.is_none() {
            let at = self.span_origin(p.user.sandwich.as_ref().map(|s| s.span));
            self.add(
                "sandwich",
                3.0,
                "no sandwich: the app holds the user namespace its mounts were made in, and can undo them".into(),
                at,
            );
        }
        let nested = self.plan.steps.iter().find(|s| match &s.action {
            Action::Sandwich { nested_userns, .. } => *nested_userns,
            Action::Seccomp { namespaces, .. } => *namespaces,
            _ => false,
        });
        if let Some(st) = nested {
            let at = st.origin.clone().or_else(|| {
                let said = p.user.nested_userns.as_ref().or(p.user.nesting.as_ref());
                self.span_origin(said.map(|s| s.span))
            });
            self.add(
                "nested-userns",
                2.0,
                "it may create namespaces: the kernel's code for them is within its reach".into(),
                at,
            );
        }
    }

    fn privileges(&mut self) {
        for st in &self.plan.steps {
            let Action::DropCapabilities { keep } = &st.action else {
                continue;
            };
            if keep.is_empty() {
                continue;
            }
            let admin = keep.iter().any(|c| c.name() == "CAP_SYS_ADMIN");
            let names: Vec<String> = keep.iter().map(|c| c.to_string()).collect();
            let w = if admin {
                4.0
            } else {
                (keep.len() as f64).min(3.0)
            };
            self.add(
                "capabilities",
                w,
                format!("capabilities kept: {}", names.join(" ")),
                st.origin.clone(),
            );
        }
    }

    /// seccomp, Landlock, the cgroup.
    fn filters(&mut self) {
        let p = &self.loaded.profile;
        match self.plan.find(|a| matches!(a, Action::Seccomp { .. })) {
            None => {
                let at = self.span_origin(p.seccomp.policy.as_ref().map(|s| s.span));
                self.add(
                    "seccomp",
                    3.0,
                    "no seccomp filter: every system call".into(),
                    at,
                );
            }
            Some(st) => {
                let Action::Seccomp {
                    policy,
                    syscalls,
                    setuid_bits,
                    ..
                } = &st.action
                else {
                    return;
                };
                let names: Vec<&str> = syscalls.iter().map(|s| s.name()).collect();
                let risky: Vec<&str> = crate::syscalls::DEFAULT_DENY
                    .iter()
                    .flat_map(|g| crate::syscalls::expand(g).unwrap_or_default())
                    .map(|s| s.name())
                    .filter(|n| match policy {
                        SeccompPolicy::Default => !names.contains(n),
                        SeccompPolicy::Allowlist => names.contains(n),
                    })
                    .collect();
                if !risky.is_empty() {
                    let w = (risky.len() as f64 * 0.5).min(3.0);
                    self.add(
                        "seccomp",
                        w,
                        format!(
                            "calls the default policy refuses are allowed: {}",
                            risky.join(" ")
                        ),
                        st.origin.clone(),
                    );
                }
                if *setuid_bits {
                    self.add(
                        "seccomp",
                        1.0,
                        "it may set setuid bits on the files it writes".into(),
                        st.origin.clone(),
                    );
                }
            }
        }
        match self.plan.find(|a| matches!(a, Action::Landlock { .. })) {
            None => {
                let at = self.span_origin(p.landlock.enabled.as_ref().map(|s| s.span));
                self.add(
                    "landlock",
                    2.0,
                    "no Landlock: the mounts alone decide what it may open".into(),
                    at,
                );
            }
            Some(st) => {
                let abi = self.host.landlock_abi();
                let best_effort = matches!(
                    &st.action,
                    Action::Landlock {
                        compat: crate::plan::Compat::BestEffort,
                        ..
                    }
                );
                if best_effort && abi < crate::exec::LANDLOCK_ABI_NEWEST {
                    let w = if abi == 0 { 2.0 } else { 1.0 };
                    self.add(
                        "landlock",
                        w,
                        format!("Landlock best-effort, and this kernel offers ABI {abi} of {}: not every rule is enforced here", crate::exec::LANDLOCK_ABI_NEWEST),
                        st.origin.clone(),
                    );
                }
            }
        }
        if self
            .plan
            .find(|a| matches!(a, Action::Cgroup { .. }))
            .is_none()
        {
            self.add(
                "cgroup",
                1.0,
                "no cgroup limits: it may use all of the host's memory, processes and CPU".into(),
                None,
            );
        }
    }
}

/// The report as `sandbox audit` prints it.
pub fn render_text(r: &Report) -> String {
    let mut out = format!(
        "{}: exposure {:.1} of 10 ({})\n",
        r.profile, r.score, r.level
    );
    for f in &r.findings {
        let at = f
            .origin
            .as_ref()
            .map(|o| o.to_string())
            .unwrap_or_else(|| "(default)".into());
        out.push_str(&format!(
            "  {:>4.1}  {:<16} {}\n        {:<16} at {}\n",
            f.weight,
            f.id,
            crate::diag::printable(&f.what),
            "",
            crate::diag::printable(&at)
        ));
    }
    if r.findings.is_empty() {
        out.push_str("  nothing found\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(weight: f64) -> Finding {
        Finding {
            id: "x",
            weight,
            what: String::new(),
            origin: None,
        }
    }

    #[test]
    fn the_score_combines_as_chances() {
        assert_eq!(score(&[]), 0.0);
        assert_eq!(score(&[f(10.0)]), 10.0);
        assert_eq!(score(&[f(5.0)]), 5.0);
        assert_eq!(score(&[f(5.0), f(5.0)]), 7.5);
        assert_eq!(score(&[f(10.0), f(3.0)]), 10.0);
        let many: Vec<Finding> = (0..100).map(|_| f(1.0)).collect();
        assert!(score(&many) <= 10.0);
        assert_eq!(level(0.0), "ok");
        assert_eq!(level(9.5), "unsafe");
    }
}
