//! Parent side: the sandbox's own cgroup, with the profile's memory, pids
//! and cpu limits, below the launcher's cgroup.
//!
//! Each controller is used where it lives: the unified (v2) hierarchy when
//! it offers it, else the v1 hierarchy that has it; machines with a hybrid
//! layout have memory, pids and cpu on v1 and little on v2. The child is
//! also placed in a cgroup of its own on the unified hierarchy, so that its
//! cgroup namespace (made after the move) is rooted there. Everything made
//! here is removed when the sandbox ends, and on any failure.

use super::failure::{Call, Cause, Failure};
use std::io;
use std::path::{Path, PathBuf};

/// A mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    pub mount: PathBuf,
    /// None for the unified (v2) hierarchy; the controllers of a v1 one.
    pub v1: Option<Vec<String>>,
}

/// The limits a plan asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub memory: Option<u64>,
    pub pids: Option<u64>,
    pub cpu: Option<f64>,
}

/// A controller the sandbox's limits use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    Memory,
    Pids,
    Cpu,
}

impl Controller {
    pub const ALL: [Controller; 3] = [Controller::Memory, Controller::Pids, Controller::Cpu];

    /// The kernel's name for it (cgroup.controllers, a v1 mount option).
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Cpu => "cpu",
        }
    }

    pub fn from_name(name: &str) -> Option<Controller> {
        Controller::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether `limits` asks for this controller.
    fn wanted(self, limits: &Limits) -> bool {
        match self {
            Controller::Memory => limits.memory.is_some(),
            Controller::Pids => limits.pids.is_some(),
            Controller::Cpu => limits.cpu.is_some(),
        }
    }
}

/// The cgroup folders made for one sandbox, innermost last; removed when
/// dropped (or by [`Cgroups::remove`], which dropping then repeats as a
/// no-op).
#[derive(Debug, Default)]
pub struct Cgroups {
    dirs: Vec<PathBuf>,
}

/// Where the cgroup hierarchies are mounted, as /proc/self/mountinfo
/// names them; [`Cgroups::create_at`] takes another root (a test's folder).
pub const ROOT: &str = "/sys/fs/cgroup";

const CPU_PERIOD_US: u64 = 100_000;

/// How often, and how long apart, removing a cgroup is tried while its
/// processes leave (up to 2 s in all).
const REMOVE_TRIES: u32 = 200;
const REMOVE_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// Told of each folder before it is made (the reaper).
type Tell<'a> = dyn Fn(&Path) -> Result<(), Failure> + 'a;

/// The cgroup hierarchies mounted here (from /proc/self/mountinfo).
pub fn hierarchies(mountinfo: &str) -> Vec<Hierarchy> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let mount = PathBuf::from(pre.split(' ').nth(4)?);
            let mut post = post.split(' ');
            match (post.next()?, post.nth(1)) {
                ("cgroup2", _) => Some(Hierarchy { mount, v1: None }),
                ("cgroup", Some(opts)) => {
                    let known = [
                        "memory",
                        "pids",
                        "cpu",
                        "cpuacct",
                        "cpuset",
                        "blkio",
                        "devices",
                        "freezer",
                        "hugetlb",
                        "net_cls",
                        "perf_event",
                    ];
                    let ctl: Vec<String> = opts
                        .split(',')
                        .filter(|o| known.contains(o))
                        .map(str::to_string)
                        .collect();
                    (!ctl.is_empty()).then_some(Hierarchy {
                        mount,
                        v1: Some(ctl),
                    })
                }
                _ => None,
            }
        })
        .collect()
}

/// This process's cgroup in `h` (from /proc/self/cgroup).
pub fn own_path(h: &Hierarchy, proc_cgroup: &str) -> Option<String> {
    proc_cgroup.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (id, ctl, path) = (f.next()?, f.next()?, f.next()?);
        let matches = match &h.v1 {
            None => id == "0" && ctl.is_empty(),
            Some(c) => ctl.split(',').any(|x| c.iter().any(|y| y == x)),
        };
        matches.then(|| path.to_string())
    })
}

fn under(h: &Hierarchy, own: &str) -> PathBuf {
    h.mount.join(own.trim_start_matches('/'))
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), Failure> {
    let path = dir.join(file);
    std::fs::write(&path, value).call_with(|| format!("write {} {value:?}", path.display()))
}

fn v2_has(dir: &Path, controller: Controller) -> bool {
    std::fs::read_to_string(dir.join("cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|x| x == controller.name()))
}

/// The v1 hierarchy that holds `controller`.
fn v1_with(all: &[Hierarchy], controller: Controller) -> Option<&Hierarchy> {
    all.iter().find(|h| {
        h.v1.as_ref()
            .is_some_and(|v| v.iter().any(|x| x == controller.name()))
    })
}

/// The hierarchies as if mounted below `root` rather than [`ROOT`].
fn relocated(all: Vec<Hierarchy>, root: &Path) -> Vec<Hierarchy> {
    all.into_iter()
        .map(|h| match h.mount.strip_prefix(ROOT) {
            Ok(rest) if root != Path::new(ROOT) => Hierarchy {
                mount: root.join(rest),
                ..h
            },
            _ => h,
        })
        .collect()
}

/// Where a sandbox's cgroup with `controller` would be made: the
/// launcher's own cgroup on the hierarchy that holds the controller (the
/// unified one where it offers it, as [`Cgroups::create`] chooses), and
/// whether that is the unified one. None: no hierarchy here has it.
pub fn home(
    controller: Controller,
    all: &[Hierarchy],
    proc_cgroup: &str,
) -> Option<(PathBuf, bool)> {
    if let Some(h) = all.iter().find(|h| h.v1.is_none())
        && let Some(own) = own_path(h, proc_cgroup)
        && v2_has(&under(h, &own), controller)
    {
        return Some((under(h, &own), true));
    }
    let h = v1_with(all, controller)?;
    Some((under(h, &own_path(h, proc_cgroup)?), false))
}

impl Cgroups {
    /// Create the sandbox's cgroups for `pid` and move it in.
    /// Each folder is told to `reaper` before it is made (`kill`: what
    /// is left in it dies with the launcher).
    ///
    /// What it made is in `self` even when it fails: the caller drops it
    /// once the child is out of it (killed), or the folders could not go.
    pub fn create(
        &mut self,
        pid: i32,
        limits: Limits,
        reaper: &super::reaper::Reaper,
        kill: bool,
    ) -> Result<(), Failure> {
        self.create_at(Path::new(ROOT), pid, limits, reaper, kill)
    }

    /// [`Cgroups::create`] with the hierarchies below `root`.
    pub fn create_at(
        &mut self,
        root: &Path,
        pid: i32,
        limits: Limits,
        reaper: &super::reaper::Reaper,
        kill: bool,
    ) -> Result<(), Failure> {
        let read = |p: &str| std::fs::read_to_string(p).call_with(|| format!("read {p}"));
        let all = relocated(hierarchies(&read("/proc/self/mountinfo")?), root);
        let proc_cgroup = read("/proc/self/cgroup")?;
        let tell = |d: &Path| {
            reaper
                .cgroup(d, kill)
                .call_with(|| format!("tell the reaper about {}", d.display()))
        };
        self.populate(pid, limits, &all, &proc_cgroup, &tell)
    }

    fn populate(
        &mut self,
        pid: i32,
        limits: Limits,
        all: &[Hierarchy],
        proc_cgroup: &str,
        about_to_make: &Tell<'_>,
    ) -> Result<(), Failure> {
        let name = format!("sandbox-{pid}");
        let unified = all
            .iter()
            .find(|h| h.v1.is_none())
            .and_then(|h| Some((h, own_path(h, proc_cgroup)?)));
        let wanted = Controller::ALL.into_iter().filter(|c| c.wanted(&limits));
        // Where each controller lives.
        let mut v2_controllers = vec![];
        let mut v1_dirs: Vec<(Controller, PathBuf)> = vec![];
        for c in wanted {
            if let Some((h, own)) = &unified
                && v2_has(&under(h, own), c)
            {
                v2_controllers.push(c);
                continue;
            }
            let h = v1_with(all, c).ok_or_else(|| {
                let c = c.name();
                Failure::new(libc::ENOTSUP, format!("cgroup {c}")).with_detail(format!(
                    "the {c} controller is not available on this machine"
                ))
            })?;
            // Not in /proc/self/cgroup: the file has no line for it.
            let own = own_path(h, proc_cgroup).ok_or_else(|| {
                Failure::new(
                    libc::ENOENT,
                    format!("own {} cgroup in /proc/self/cgroup", c.name()),
                )
            })?;
            v1_dirs.push((c, under(h, &own).join(&name)));
        }
        // The unified hierarchy: placement always, limits where it has them.
        if let Some((h, own)) = &unified {
            let parent = under(h, own);
            if !v2_controllers.is_empty() {
                let enable: String = v2_controllers
                    .iter()
                    .map(|c| format!("+{} ", c.name()))
                    .collect();
                // The errno stays the kernel's, for the hint (report.rs).
                write(&parent, "cgroup.subtree_control", enable.trim()).map_err(|f| {
                    f.with_detail("the launcher's cgroup must be able to delegate; run it from a leaf cgroup, e.g. systemd-run --user --scope -p Delegate=yes")
                })?;
            }
            let dir = parent.join(&name);
            about_to_make(&dir)?;
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    self.dirs.push(dir.clone());
                    for c in &v2_controllers {
                        write_v2_limit(&dir, *c, &limits)?;
                    }
                    write(&dir, "cgroup.procs", &pid.to_string())?;
                }
                // Placement alone is no protection: without the right to
                // create it, the limits below still apply.
                Err(e)
                    if v2_controllers.is_empty() && e.kind() == io::ErrorKind::PermissionDenied => {
                }
                Err(e) => return Err(e.failure(format!("mkdir {}", dir.display()))),
            }
        }
        for (c, dir) in v1_dirs {
            if !self.dirs.contains(&dir) {
                about_to_make(&dir)?;
                std::fs::create_dir(&dir).call_with(|| format!("mkdir {}", dir.display()))?;
                self.dirs.push(dir.clone());
            }
            write_v1_limit(&dir, c, &limits)?;
            write(&dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// Remove the cgroups (once their processes are gone; they may take a
    /// moment to leave after the sandbox's init exits); whether every one
    /// went. Done once: what is tried is forgotten, so calling it again (as
    /// dropping does) does nothing; what could not go is the reaper's to
    /// undo (see exec::finish).
    pub fn remove(&mut self) -> bool {
        let mut all_gone = true;
        for dir in self.dirs.drain(..).rev() {
            for tries_left in (0..REMOVE_TRIES).rev() {
                match std::fs::remove_dir(&dir) {
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries_left > 0 => {
                        std::thread::sleep(REMOVE_PAUSE)
                    }
                    Err(e) if e.raw_os_error() != Some(libc::ENOENT) => {
                        all_gone = false;
                        break;
                    }
                    _ => break,
                }
            }
        }
        all_gone
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

/// Write `c`'s limit into `dir` on the unified hierarchy.
fn write_v2_limit(dir: &Path, c: Controller, limits: &Limits) -> Result<(), Failure> {
    match c {
        Controller::Memory => {
            write(dir, "memory.max", &limits.memory.unwrap_or(0).to_string())?;
            if dir.join("memory.swap.max").exists() {
                write(dir, "memory.swap.max", "0")?;
            }
            Ok(())
        }
        Controller::Pids => write(dir, "pids.max", &limits.pids.unwrap_or(0).to_string()),
        Controller::Cpu => write(
            dir,
            "cpu.max",
            &format!("{} {CPU_PERIOD_US}", cpu_quota(limits.cpu.unwrap_or(1.0))),
        ),
    }
}

/// Write `c`'s limit into `dir` on its v1 hierarchy.
fn write_v1_limit(dir: &Path, c: Controller, limits: &Limits) -> Result<(), Failure> {
    match c {
        Controller::Memory => {
            let bytes = limits.memory.unwrap_or(0).to_string();
            write(dir, "memory.limit_in_bytes", &bytes)?;
            if dir.join("memory.memsw.limit_in_bytes").exists() {
                write(dir, "memory.memsw.limit_in_bytes", &bytes)?;
            }
            Ok(())
        }
        Controller::Pids => write(dir, "pids.max", &limits.pids.unwrap_or(0).to_string()),
        Controller::Cpu => {
            write(dir, "cpu.cfs_period_us", &CPU_PERIOD_US.to_string())?;
            write(
                dir,
                "cpu.cfs_quota_us",
                &cpu_quota(limits.cpu.unwrap_or(1.0)).to_string(),
            )
        }
    }
}

/// CPU time per period for a fraction of one core (at least 1 ms).
fn cpu_quota(cores: f64) -> u64 {
    ((cores * CPU_PERIOD_US as f64) as u64).max(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "35 27 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n\
36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw\n\
40 35 0:35 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory\n\
41 35 0:36 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct\n\
42 35 0:37 / /sys/fs/cgroup/pids rw,relatime shared:17 - cgroup cgroup rw,pids\n";

    #[test]
    fn finds_each_hierarchy_and_its_controllers() {
        let h = hierarchies(HYBRID);
        assert_eq!(h.len(), 4);
        assert_eq!(
            h[0],
            Hierarchy {
                mount: "/sys/fs/cgroup/unified".into(),
                v1: None
            }
        );
        assert_eq!(
            h[2].v1.as_deref(),
            Some(&["cpu".to_string(), "cpuacct".to_string()][..])
        );
    }

    #[test]
    fn finds_this_process_cgroup_per_hierarchy() {
        let h = hierarchies(HYBRID);
        let proc = "12:pids:/user.slice\n4:memory:/user.slice/x\n3:cpu,cpuacct:/\n0::/user.slice/session-1.scope\n";
        assert_eq!(
            own_path(&h[0], proc).as_deref(),
            Some("/user.slice/session-1.scope")
        );
        assert_eq!(own_path(&h[1], proc).as_deref(), Some("/user.slice/x"));
        assert_eq!(own_path(&h[2], proc).as_deref(), Some("/"));
        assert_eq!(own_path(&h[3], proc).as_deref(), Some("/user.slice"));
    }

    #[test]
    fn cpu_quota_is_a_fraction_of_the_period() {
        assert_eq!(cpu_quota(0.5), 50_000);
        assert_eq!(cpu_quota(2.0), 200_000);
        assert_eq!(cpu_quota(0.0001), 1000);
    }

    /// A fresh folder for one test, as the cgroup root; removed by the test.
    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sandbox-cgroup-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const PROC: &str = "12:pids:/user.slice\n4:memory:/user.slice/x\n3:cpu,cpuacct:/\n0::/user.slice/session-1.scope\n";

    /// The hybrid layout below `root`: the unified hierarchy offering
    /// `unified_has`, and the v1 ones of HYBRID.
    fn hybrid_at(root: &Path, unified_has: &str) -> Vec<Hierarchy> {
        let all = relocated(hierarchies(HYBRID), root);
        let own = root.join("unified/user.slice/session-1.scope");
        std::fs::create_dir_all(&own).unwrap();
        std::fs::write(own.join("cgroup.controllers"), unified_has).unwrap();
        for v1 in ["memory/user.slice/x", "cpu,cpuacct", "pids/user.slice"] {
            std::fs::create_dir_all(root.join(v1)).unwrap();
        }
        all
    }

    fn read(p: PathBuf) -> String {
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn hierarchies_move_below_another_root() {
        let all = relocated(hierarchies(HYBRID), Path::new("/tmp/x"));
        assert_eq!(all[0].mount, Path::new("/tmp/x/unified"));
        assert_eq!(all[2].mount, Path::new("/tmp/x/cpu,cpuacct"));
        assert_eq!(
            relocated(hierarchies(HYBRID), Path::new(ROOT)),
            hierarchies(HYBRID)
        );
    }

    #[test]
    fn populate_writes_each_limit_where_its_controller_lives() {
        let root = scratch("limits");
        let all = hybrid_at(&root, "memory pids");
        let limits = Limits {
            memory: Some(1 << 20),
            pids: Some(10),
            cpu: Some(0.5),
        };
        let told = std::cell::RefCell::new(vec![]);
        let tell = |d: &Path| {
            told.borrow_mut().push(d.to_path_buf());
            Ok(())
        };
        let mut cgroups = Cgroups::default();
        cgroups.populate(42, limits, &all, PROC, &tell).unwrap();
        let parent = root.join("unified/user.slice/session-1.scope");
        let v2 = parent.join("sandbox-42");
        let v1 = root.join("cpu,cpuacct/sandbox-42");
        assert_eq!(read(parent.join("cgroup.subtree_control")), "+memory +pids");
        assert_eq!(read(v2.join("memory.max")), "1048576");
        assert!(!v2.join("memory.swap.max").exists());
        assert_eq!(read(v2.join("pids.max")), "10");
        assert_eq!(read(v2.join("cgroup.procs")), "42");
        assert!(!v2.join("cpu.max").exists());
        assert_eq!(read(v1.join("cpu.cfs_period_us")), "100000");
        assert_eq!(read(v1.join("cpu.cfs_quota_us")), "50000");
        assert_eq!(read(v1.join("cgroup.procs")), "42");
        assert_eq!(*told.borrow(), [v2.clone(), v1.clone()]);
        assert_eq!(cgroups.dirs, [v2, v1]);
        // Not empty (a real cgroup's files go with it): kept, then forgotten.
        let _ = cgroups.remove();
        assert!(cgroups.dirs.is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn populate_on_v1_writes_the_v1_files() {
        let root = scratch("v1");
        let all = hybrid_at(&root, "");
        let limits = Limits {
            memory: Some(4096),
            pids: Some(3),
            cpu: None,
        };
        let mut cgroups = Cgroups::default();
        cgroups
            .populate(7, limits, &all, PROC, &|_| Ok(()))
            .unwrap();
        let memory = root.join("memory/user.slice/x/sandbox-7");
        assert_eq!(read(memory.join("memory.limit_in_bytes")), "4096");
        assert_eq!(read(root.join("pids/user.slice/sandbox-7/pids.max")), "3");
        // Placement on the unified hierarchy, with nothing to enable there.
        let unified = root.join("unified/user.slice/session-1.scope");
        assert!(!unified.join("cgroup.subtree_control").exists());
        assert_eq!(read(unified.join("sandbox-7/cgroup.procs")), "7");
        drop(cgroups);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_refused_write_keeps_its_errno_and_call() {
        let root = scratch("refused");
        let all = hybrid_at(&root, "memory");
        let control = root.join("unified/user.slice/session-1.scope/cgroup.subtree_control");
        // A folder where the file is: the write fails with EISDIR.
        std::fs::create_dir(&control).unwrap();
        let limits = Limits {
            memory: Some(1),
            ..Limits::default()
        };
        let mut cgroups = Cgroups::default();
        let f = cgroups
            .populate(1, limits, &all, PROC, &|_| Ok(()))
            .unwrap_err();
        assert_eq!(f.errno, libc::EISDIR);
        assert_eq!(f.call, format!("write {} \"+memory\"", control.display()));
        assert!(f.detail.contains("delegate"), "{}", f.detail);
        assert!(cgroups.dirs.is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_controller_no_hierarchy_has_is_not_supported() {
        let root = scratch("absent");
        let all: Vec<Hierarchy> = hybrid_at(&root, "")
            .into_iter()
            .filter(|h| h.v1.as_ref().is_none_or(|v| !v.iter().any(|c| c == "pids")))
            .collect();
        let limits = Limits {
            pids: Some(1),
            ..Limits::default()
        };
        let f = Cgroups::default()
            .populate(1, limits, &all, PROC, &|_| Ok(()))
            .unwrap_err();
        assert_eq!((f.errno, f.call.as_str()), (libc::ENOTSUP, "cgroup pids"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn controllers_by_name() {
        for c in Controller::ALL {
            assert_eq!(Controller::from_name(c.name()), Some(c));
        }
        assert_eq!(Controller::from_name("cpuacct"), None);
    }
}
