//! The machine an audit plans for: this one, but with every path a
//! profile names there and every helper installed, so that a profile's
//! exposure does not depend on what this machine happens to hold (an
//! optional bind of `~/.mozilla` exposes the browser profile wherever it
//! exists, and a secret inside a broad bind is hidden wherever it exists).

use crate::host::{CgroupRefused, HostFacts, PathKind};

pub struct Assumed<'a> {
    pub host: &'a dyn HostFacts,
    /// Paths taken as they are on this machine (the places code runs from
    /// later: one that is missing is made by the app, unguarded).
    pub real: Vec<String>,
}

impl HostFacts for Assumed<'_> {
    fn uid(&self) -> u32 {
        self.host.uid()
    }
    fn gid(&self) -> u32 {
        self.host.gid()
    }
    fn path_kind(&self, path: &str) -> PathKind {
        match self.host.path_kind(path) {
            PathKind::Missing if !self.real.iter().any(|r| r == path) => PathKind::Dir,
            kind => kind,
        }
    }
    fn read_link(&self, path: &str) -> Option<String> {
        self.host.read_link(path)
    }
    fn real_path(&self, path: &str) -> Option<String> {
        self.host.real_path(path)
    }
    fn subuids(&self) -> Vec<(u32, u32)> {
        self.host.subuids()
    }
    fn subgids(&self) -> Vec<(u32, u32)> {
        self.host.subgids()
    }
    fn has_program(&self, _name: &str) -> bool {
        true
    }
    fn executable(&self, _path: &str) -> bool {
        true
    }
    fn landlock_abi(&self) -> u32 {
        self.host.landlock_abi()
    }
    fn cgroup_refused(&self, _controller: &str) -> Option<CgroupRefused> {
        None
    }
}
