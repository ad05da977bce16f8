//! Facts about the host that validation and the plan depend on, behind a
//! trait so that both are testable without privileges (tests pass a
//! [`FakeHost`]); the executor never asks these, it acts.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathKind {
    Missing,
    Dir,
    File,
    Symlink,
    /// A device, socket or fifo.
    Other,
}

pub trait HostFacts {
    fn uid(&self) -> u32;
    fn gid(&self) -> u32;
    fn is_root(&self) -> bool {
        self.uid() == 0
    }
    /// What is at `path` on the host (not following a final symlink).
    fn path_kind(&self, path: &str) -> PathKind;
    /// The text of the symlink at `path`, if it is one.
    fn read_link(&self, path: &str) -> Option<String>;
    /// Where `path` really is, every symlink resolved; None if missing.
    fn real_path(&self, path: &str) -> Option<String>;
    /// Ranges (start, count) /etc/subuid grants the caller.
    fn subuids(&self) -> Vec<(u32, u32)>;
    /// Ranges (start, count) /etc/subgid grants the caller.
    fn subgids(&self) -> Vec<(u32, u32)>;
    /// Whether a helper program (newuidmap, pasta, ...) is on PATH.
    fn has_program(&self, name: &str) -> bool;
    /// Whether `path` (links followed) is a file someone may execute.
    fn executable(&self, path: &str) -> bool {
        self.path_kind(path) == PathKind::File
    }
    /// The Landlock ABI version the running kernel offers (0: none).
    fn landlock_abi(&self) -> u32;
    /// Why the launcher, run by this caller, could not give a sandbox a
    /// cgroup with `controller` (memory, pids, cpu); None when it could,
    /// or when that cannot be told beforehand.
    fn cgroup_refused(&self, _controller: &str) -> Option<CgroupRefused> {
        None
    }
    /// The folder on the way to `path` that the caller may not enter
    /// (whose it is, its mode), if that is why `path` looks missing.
    fn denied(&self, _path: &str) -> Option<Denied> {
        None
    }
}

/// Why a sandbox cannot have a cgroup with some controller here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CgroupRefused {
    /// No hierarchy mounted here has the controller.
    Unavailable,
    /// The caller may not create a cgroup in this folder (the launcher's
    /// own cgroup), nor, on the unified hierarchy, enable controllers there.
    Denied(String),
    /// The unified hierarchy's folder holds the launcher itself, so no
    /// controller can be enabled for the folders below it (EBUSY).
    NotALeaf(String),
}

/// The real machine.
pub struct RealHost {
    uid: u32,
    gid: u32,
    root: bool,
}

/// CAP_SETUID and CAP_SETGID: what writing id maps of other ids than
/// one's own takes.
const SET_IDS: u64 = 1 << 7 | 1 << 6;

impl RealHost {
    pub fn new() -> RealHost {
        let uid = nix::unistd::getuid().as_raw();
        // Root without CAP_SETUID/CAP_SETGID (the app of another sandbox,
        // whose capabilities are all dropped) can map only its own ids,
        // as any user can: it sets up a sandbox as an unprivileged caller.
        let root =
            uid == 0 && crate::exec::sys::capget().is_ok_and(|c| c.effective & SET_IDS == SET_IDS);
        RealHost {
            uid,
            gid: nix::unistd::getgid().as_raw(),
            root,
        }
    }

    fn subids(&self, file: &str) -> Vec<(u32, u32)> {
        let Ok(text) = std::fs::read_to_string(file) else {
            return vec![];
        };
        let uid = self.uid.to_string();
        // The user database is asked only here, for profiles with id ranges:
        // a name service lookup would cost every other run for nothing.
        let user = crate::userdb::name(self.uid);
        text.lines()
            .filter_map(|l| {
                let mut f = l.split(':');
                let (who, start, count) = (f.next()?, f.next()?, f.next()?);
                let mine = who == uid || Some(who) == user.as_deref();
                mine.then(|| Some((start.trim().parse().ok()?, count.trim().parse().ok()?)))?
            })
            .collect()
    }
}

impl Default for RealHost {
    fn default() -> Self {
        RealHost::new()
    }
}

impl HostFacts for RealHost {
    fn uid(&self) -> u32 {
        self.uid
    }
    fn is_root(&self) -> bool {
        self.root
    }
    fn gid(&self) -> u32 {
        self.gid
    }
    fn path_kind(&self, path: &str) -> PathKind {
        match std::fs::symlink_metadata(path) {
            Err(_) => PathKind::Missing,
            Ok(m) if m.file_type().is_symlink() => PathKind::Symlink,
            Ok(m) if m.is_dir() => PathKind::Dir,
            Ok(m) if m.is_file() => PathKind::File,
            Ok(_) => PathKind::Other,
        }
    }
    fn read_link(&self, path: &str) -> Option<String> {
        std::fs::read_link(path)
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    }
    fn real_path(&self, path: &str) -> Option<String> {
        std::fs::canonicalize(path)
            .ok()
            .and_then(|p| p.into_os_string().into_string().ok())
    }
    fn subuids(&self) -> Vec<(u32, u32)> {
        self.subids("/etc/subuid")
    }
    fn subgids(&self) -> Vec<(u32, u32)> {
        self.subids("/etc/subgid")
    }
    fn landlock_abi(&self) -> u32 {
        const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
        // SAFETY: with LANDLOCK_CREATE_RULESET_VERSION the kernel requires
        // a null attribute pointer and size 0, reads and writes no memory
        // of ours, and returns the ABI version (or -1), no descriptor.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<u8>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        v.max(0) as u32
    }
    fn denied(&self, path: &str) -> Option<Denied> {
        denied(path, self.uid, self.gid, Need::Reach)
    }
    fn executable(&self, path: &str) -> bool {
        is_executable(Path::new(path))
    }
    fn cgroup_refused(&self, controller: &str) -> Option<CgroupRefused> {
        use crate::exec::cgroup;
        use nix::unistd::{AccessFlags, access};
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let all = cgroup::hierarchies(&mountinfo);
        let Some((dir, unified)) = cgroup::Controller::from_name(controller)
            .and_then(|c| cgroup::home(c, &all, &proc_cgroup))
        else {
            return Some(CgroupRefused::Unavailable);
        };
        let shown = dir.display().to_string().trim_end_matches('/').to_string();
        let write = AccessFlags::W_OK | AccessFlags::X_OK;
        if access(&dir, write).is_err()
            || (unified && access(&dir.join("cgroup.subtree_control"), AccessFlags::W_OK).is_err())
        {
            return Some(CgroupRefused::Denied(shown));
        }
        // Below the root, a domain cgroup with processes in it (this one)
        // cannot enable controllers for its children.
        let kind = std::fs::read_to_string(dir.join("cgroup.type")).unwrap_or_default();
        if unified && kind.trim() == "domain" {
            return Some(CgroupRefused::NotALeaf(shown));
        }
        None
    }
    fn has_program(&self, name: &str) -> bool {
        let path =
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin:/usr/sbin:/sbin".into());
        std::env::split_paths(&path).any(|d| is_executable(&d.join(name)))
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A host described by hand, for tests and golden plans.
#[derive(Clone, Debug, Default)]
pub struct FakeHost {
    pub uid: u32,
    pub gid: u32,
    /// (path, kind); anything not listed is Missing.
    pub paths: Vec<(String, PathKind)>,
    /// (link, target) for the paths listed as Symlink.
    pub links: Vec<(String, String)>,
    pub subuids: Vec<(u32, u32)>,
    pub subgids: Vec<(u32, u32)>,
    pub programs: Vec<String>,
    pub landlock_abi: u32,
}

impl FakeHost {
    /// An unprivileged user (1000:1000) on a usual merged-/usr Debian.
    pub fn debian_user() -> FakeHost {
        let dirs = [
            "/usr",
            "/etc",
            "/home/user",
            "/tmp",
            "/opt",
            "/srv",
            "/var",
            "/run",
            "/dev",
            "/proc",
            "/sys",
            "/home",
        ];
        let links = [
            ("/bin", "usr/bin"),
            ("/lib", "usr/lib"),
            ("/lib64", "usr/lib64"),
            ("/sbin", "usr/sbin"),
        ];
        let files = [
            "/etc/passwd",
            "/etc/group",
            "/etc/hosts",
            "/etc/nsswitch.conf",
            "/etc/resolv.conf",
            "/etc/ld.so.cache",
            "/etc/localtime",
            "/etc/os-release",
        ];
        let mut paths: Vec<(String, PathKind)> = dirs
            .iter()
            .map(|d| (d.to_string(), PathKind::Dir))
            .collect();
        paths.extend(
            links
                .iter()
                .map(|(d, _)| (d.to_string(), PathKind::Symlink)),
        );
        paths.extend(files.iter().map(|d| (d.to_string(), PathKind::File)));
        FakeHost {
            uid: 1000,
            gid: 1000,
            paths,
            links: links
                .iter()
                .map(|(l, t)| (l.to_string(), t.to_string()))
                .collect(),
            subuids: vec![],
            subgids: vec![],
            programs: vec!["pasta".into(), "xdg-dbus-proxy".into()],
            landlock_abi: 6,
        }
    }
}

impl HostFacts for FakeHost {
    fn uid(&self) -> u32 {
        self.uid
    }
    fn gid(&self) -> u32 {
        self.gid
    }
    fn path_kind(&self, path: &str) -> PathKind {
        self.paths
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, k)| *k)
            .unwrap_or(PathKind::Missing)
    }
    fn read_link(&self, path: &str) -> Option<String> {
        self.links
            .iter()
            .find(|(l, _)| l == path)
            .map(|(_, t)| t.clone())
    }
    /// Listed paths are where they are (the fake host's links are only
    /// ever bind sources, recreated as links).
    fn real_path(&self, path: &str) -> Option<String> {
        (self.path_kind(path) != PathKind::Missing).then(|| path.to_string())
    }
    fn subuids(&self) -> Vec<(u32, u32)> {
        self.subuids.clone()
    }
    fn subgids(&self) -> Vec<(u32, u32)> {
        self.subgids.clone()
    }
    fn has_program(&self, name: &str) -> bool {
        self.programs.iter().any(|p| p == name)
    }
    fn landlock_abi(&self) -> u32 {
        self.landlock_abi
    }
}

/// What using a host path takes of the one who uses it, besides entering
/// every folder on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing more (a bind source, opened as a path).
    Reach,
    /// Entering it (a working directory).
    Enter,
    /// Reading it.
    Read,
    /// Running it.
    Run,
}

/// A folder or file on the way to a host path that some ids may not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub path: String,
    /// Its owner's name (or uid).
    pub owner: String,
    /// Its permission bits.
    pub mode: u32,
}

/// The first place on the way to `path` (folders to enter, then the path
/// itself as `need` says) that `uid`/`gid` on the host may not use, if
/// the permissions say so. For the caller's own ids the kernel is asked
/// (groups and ACLs count); for others (nobody, a root caller's sandbox)
/// the mode bits decide; root is never refused.
pub fn denied(path: &str, uid: u32, gid: u32, need: Need) -> Option<Denied> {
    use nix::unistd::AccessFlags;
    use std::os::unix::fs::MetadataExt;
    let p = Path::new(path);
    if !p.is_absolute() || uid == 0 {
        return None;
    }
    let own = uid == nix::unistd::getuid().as_raw() && uid == nix::unistd::geteuid().as_raw();
    let mut places: Vec<&Path> = p.ancestors().collect();
    places.reverse();
    for (i, place) in places.iter().enumerate() {
        let last = i + 1 == places.len();
        let meta = std::fs::metadata(place).ok()?;
        let want = match (last, need) {
            (false, _) | (true, Need::Enter) => AccessFlags::X_OK,
            (true, Need::Reach) => continue,
            (true, Need::Read) if meta.is_dir() => AccessFlags::R_OK | AccessFlags::X_OK,
            (true, Need::Read) => AccessFlags::R_OK,
            (true, Need::Run) => AccessFlags::X_OK,
        };
        let allowed = if own {
            nix::unistd::access(*place, want).is_ok()
        } else {
            let bits = if meta.uid() == uid {
                meta.mode() >> 6
            } else if meta.gid() == gid {
                meta.mode() >> 3
            } else {
                meta.mode()
            } & 0o7;
            let mut need_bits = 0;
            if want.contains(AccessFlags::R_OK) {
                need_bits |= 4;
            }
            if want.contains(AccessFlags::X_OK) {
                need_bits |= 1;
            }
            bits & need_bits == need_bits
        };
        if !allowed {
            let owner = crate::userdb::name(meta.uid()).unwrap_or_else(|| meta.uid().to_string());
            return Some(Denied {
                path: place.display().to_string(),
                owner,
                mode: meta.mode() & 0o7777,
            });
        }
    }
    None
}
