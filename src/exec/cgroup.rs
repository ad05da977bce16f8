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

/// cgroups made for one sandbox.
#[derive(Debug, Default)]
pub struct Made {
    dirs: Vec<PathBuf>,
}

const CPU_PERIOD_US: u64 = 100_000;

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

fn v2_has(dir: &Path, controller: &str) -> bool {
    std::fs::read_to_string(dir.join("cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|x| x == controller))
}

/// Where a sandbox's cgroup with `controller` would be made: the
/// launcher's own cgroup on the hierarchy that holds the controller (the
/// unified one where it offers it, as [`Made::create`] chooses), and
/// whether that is the unified one. None: no hierarchy here has it.
pub fn home(controller: &str, all: &[Hierarchy], proc_cgroup: &str) -> Option<(PathBuf, bool)> {
    if let Some(h) = all.iter().find(|h| h.v1.is_none())
        && let Some(own) = own_path(h, proc_cgroup)
        && v2_has(&under(h, &own), controller)
    {
        return Some((under(h, &own), true));
    }
    let h = all.iter().find(|h| {
        h.v1.as_ref()
            .is_some_and(|v| v.iter().any(|x| x == controller))
    })?;
    Some((under(h, &own_path(h, proc_cgroup)?), false))
}

impl Made {
    /// Create the sandbox's cgroups for `pid` and move it in.
    /// Each folder is told to `reaper` before it is made (`kill`: what
    /// is left in it dies with the launcher).
    pub fn create(
        pid: i32,
        limits: Limits,
        reaper: &super::reaper::Reaper,
        kill: bool,
    ) -> Result<Made, Failure> {
        let read = |p: &str| std::fs::read_to_string(p).call_with(|| format!("read {p}"));
        let all = hierarchies(&read("/proc/self/mountinfo")?);
        let proc_cgroup = read("/proc/self/cgroup")?;
        let mut made = Made::default();
        let tell = |d: &Path| {
            reaper
                .cgroup(d, kill)
                .call_with(|| format!("tell the reaper about {}", d.display()))
        };
        match made.populate(pid, limits, &all, &proc_cgroup, &tell) {
            Ok(()) => Ok(made),
            Err(e) => {
                made.remove();
                Err(e)
            }
        }
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
        let wanted: Vec<&str> = [
            ("memory", limits.memory.is_some()),
            ("pids", limits.pids.is_some()),
            ("cpu", limits.cpu.is_some()),
        ]
        .into_iter()
        .filter_map(|(c, on)| on.then_some(c))
        .collect();
        // Where each controller lives.
        let mut v2_controllers = vec![];
        let mut v1_dirs: Vec<(&str, PathBuf)> = vec![];
        for c in &wanted {
            if let Some((h, own)) = &unified
                && v2_has(&under(h, own), c)
            {
                v2_controllers.push(*c);
                continue;
            }
            let h = all
                .iter()
                .find(|h| h.v1.as_ref().is_some_and(|v| v.iter().any(|x| x == c)))
                .ok_or_else(|| {
                    Failure::new(libc::ENOTSUP, format!("cgroup {c}")).with_detail(format!(
                        "the {c} controller is not available on this machine"
                    ))
                })?;
            // Not in /proc/self/cgroup: the file has no line for it.
            let own = own_path(h, proc_cgroup).ok_or_else(|| {
                Failure::new(libc::ENOENT, format!("own {c} cgroup in /proc/self/cgroup"))
            })?;
            v1_dirs.push((c, under(h, &own).join(&name)));
        }
        // The unified hierarchy: placement always, limits where it has them.
        if let Some((h, own)) = &unified {
            let parent = under(h, own);
            if !v2_controllers.is_empty() {
                let enable: String = v2_controllers.iter().map(|c| format!("+{c} ")).collect();
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
                    let v = limits;
                    for c in &v2_controllers {
                        match *c {
                            "memory" => {
                                write(&dir, "memory.max", &v.memory.unwrap_or(0).to_string())?;
                                if dir.join("memory.swap.max").exists() {
                                    write(&dir, "memory.swap.max", "0")?;
                                }
                            }
                            "pids" => write(&dir, "pids.max", &v.pids.unwrap_or(0).to_string())?,
                            _ => write(
                                &dir,
                                "cpu.max",
                                &format!("{} {CPU_PERIOD_US}", cpu_quota(v.cpu.unwrap_or(1.0))),
                            )?,
                        }
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
            match c {
                "memory" => {
                    let bytes = limits.memory.unwrap_or(0).to_string();
                    write(&dir, "memory.limit_in_bytes", &bytes)?;
                    if dir.join("memory.memsw.limit_in_bytes").exists() {
                        write(&dir, "memory.memsw.limit_in_bytes", &bytes)?;
                    }
                }
                "pids" => write(&dir, "pids.max", &limits.pids.unwrap_or(0).to_string())?,
                _ => {
                    write(&dir, "cpu.cfs_period_us", &CPU_PERIOD_US.to_string())?;
                    write(
                        &dir,
                        "cpu.cfs_quota_us",
                        &cpu_quota(limits.cpu.unwrap_or(1.0)).to_string(),
                    )?;
                }
            }
            write(&dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// Remove the cgroups (once their processes are gone; they may take a
    /// moment to leave after the sandbox's init exits).
    pub fn remove(&mut self) {
        for dir in self.dirs.drain(..).rev() {
            for _ in 0..200 {
                match std::fs::remove_dir(&dir) {
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                        std::thread::sleep(std::time::Duration::from_millis(10))
                    }
                    _ => break,
                }
            }
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
}
