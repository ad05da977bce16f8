//! What Landlock refuses, as `--trace-denials` reports it: predicted by
//! the launcher from the plan's Landlock rules, as the kernel tells no
//! one else. (Landlock's audit records, from Linux 6.15, are logged only
//! to the audit log, which takes host root to read, and for a process
//! that has exec'd only when the domain asks for it, which sandbox's does
//! not.) In a traced run with a Landlock step, the filter sends each call
//! that opens, runs, makes or removes a path, connects or binds to the
//! launcher (calls.rs reads what it names), which lets it go on: the
//! kernel then decides, with the real rules. This module says whether
//! those rules cover what the call uses, the way Landlock looks: from the
//! file up through each folder to the app's root, by identity (device
//! and inode, so that links and bind mounts resolve as the kernel's
//! walk does), a rule on any of them with the right granting it.
//!
//! A prediction, not the kernel's word: it says nothing when a look-up
//! fails, when the mount is read-only (EROFS comes first), or for a call
//! Landlock does not restrict; the file's own permissions may refuse
//! first; what another thread changes meanwhile is not seen.

use super::calls::{DEEPEST, Form, Task, stat};
use crate::plan::learned::{Address, Event, Use};
use crate::plan::{Action, Plan};
use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A file or folder, as Landlock's rules hold it.
type Id = (u64, u64);

/// The rights a use needs: which rules grant them (landlock.rs gives a
/// read rule read rights, an exec rule read and execute, a write rule
/// every right).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// Read a file or list a folder: any rule.
    Read,
    /// Run a file: an exec or a write rule.
    Exec,
    /// Write a file, or make or remove an entry of a folder: a write rule.
    Write,
}

impl Need {
    fn rules(self) -> &'static str {
        match self {
            Need::Read => "read, exec or write",
            Need::Exec => "exec or write",
            Need::Write => "write",
        }
    }
}

/// The plan's Landlock rules, to predict what they refuse.
#[derive(Clone, Debug)]
pub struct Prediction {
    read: Vec<String>,
    write: Vec<String>,
    exec: Vec<String>,
    tcp_bind: Vec<u16>,
    tcp_connect: Vec<u16>,
    /// The profile line of the Landlock step.
    origin: Option<String>,
    /// The rules' files and folders by identity, for each need; read in
    /// the app's root at its first call (its exec, in its final root).
    ids: Option<[HashSet<Id>; 3]>,
    /// Folders already walked, by need: whether a rule covers each. Their
    /// place changes only by a rename or a removal, which empties it.
    walked: [HashMap<Id, bool>; 3],
}

/// At most this many folders are remembered; then they are forgotten.
const MOST_WALKED: usize = 1 << 16;

impl Prediction {
    /// The plan's Landlock step.
    pub fn of(plan: &Plan) -> Option<Prediction> {
        plan.steps.iter().find_map(|s| match &s.action {
            Action::Landlock {
                read,
                write,
                exec,
                tcp_bind,
                tcp_connect,
                ..
            } => Some(Prediction {
                read: read.clone(),
                write: write.clone(),
                exec: exec.clone(),
                tcp_bind: tcp_bind.clone(),
                tcp_connect: tcp_connect.clone(),
                origin: s.origin.as_ref().map(|o| o.to_string()),
                ids: None,
                walked: Default::default(),
            }),
            _ => None,
        })
    }

    /// Whether TCP ports are ruled (else a socket's type need not be
    /// asked).
    pub(super) fn ports(&self) -> bool {
        !self.tcp_bind.is_empty() || !self.tcp_connect.is_empty()
    }

    /// Why Landlock refuses `event`, a use by `task` in call `form`
    /// (named `call`); None when its rules allow it or nothing is known.
    pub(super) fn refusal(
        &mut self,
        task: &Task,
        call: &str,
        form: Form,
        event: &Event,
    ) -> Option<String> {
        // What moved or went away may leave a folder walked elsewhere.
        if matches!(form, Form::Rename { .. } | Form::Remove { .. }) {
            self.walked.iter_mut().for_each(HashMap::clear);
        }
        let why = match event {
            Event::Path { path, how } => self.path_refusal(task, call, form, path, *how)?,
            Event::Connect(Address::Ip {
                port, stream: true, ..
            }) if !self.tcp_connect.is_empty() && !self.tcp_connect.contains(port) => {
                format!("tcp port {port} is not in landlock.tcp_connect")
            }
            Event::Bind(Address::Ip {
                port, stream: true, ..
            }) if !self.tcp_bind.is_empty() && !self.tcp_bind.contains(port) => {
                format!("tcp port {port} is not in landlock.tcp_bind")
            }
            _ => return None,
        };
        Some(match &self.origin {
            Some(o) => format!("{why} ({o})"),
            None => why,
        })
    }

    fn path_refusal(
        &mut self,
        task: &Task,
        call: &str,
        form: Form,
        path: &Path,
        how: Use,
    ) -> Option<String> {
        let need = match (form, how) {
            // Landlock restricts no change of a mode, an owner or times;
            // a link's source is not read.
            (Form::Change(_), Use::Write) if call == "truncate" => Need::Write,
            (Form::Change(_), _) | (Form::Link { .. }, Use::Read) => return None,
            (_, Use::Read | Use::List) => Need::Read,
            (_, Use::Exec) => Need::Exec,
            (_, Use::Write | Use::Entry) => Need::Write,
            (_, Use::Missing) => return None,
        };
        // An entry is its folder's to make or remove.
        let start = match how {
            Use::Entry => task.inside(path.parent()?, true)?,
            _ => task.inside(path, true)?,
        };
        let m = stat(start.as_fd())?;
        if need == Need::Write && read_only(&start, &m) {
            return None;
        }
        let root = stat(task.inside(Path::new("/"), true)?.as_fd())?;
        let root = (root.dev(), root.ino());
        self.ids(task);
        let rules = &self.ids.as_ref()?[need as usize];
        // A rule on a file is the file's; a file has no `..`: the walk
        // goes on from the folder that holds it, its last link followed.
        let folder = if m.is_dir() {
            start
        } else if rules.contains(&(m.dev(), m.ino())) {
            return None;
        } else {
            task.inside(task.final_path(path)?.parent()?, true)?
        };
        let walked = &mut self.walked[need as usize];
        if walked.len() >= MOST_WALKED {
            walked.clear();
        }
        if covered(folder, root, rules, walked)? {
            return None;
        }
        Some(format!("no {} rule covers it", need.rules()))
    }

    /// The rules' identities by need, read once.
    fn ids(&mut self, task: &Task) {
        self.ids.get_or_insert_with(|| {
            let ids = |paths: &[&Vec<String>]| -> HashSet<Id> {
                paths
                    .iter()
                    .flat_map(|p| p.iter())
                    .filter_map(|p| stat(task.inside(Path::new(p), true)?.as_fd()))
                    .map(|m| (m.dev(), m.ino()))
                    .collect()
            };
            [
                ids(&[&self.read, &self.exec, &self.write]),
                ids(&[&self.exec, &self.write]),
                ids(&[&self.write]),
            ]
        });
    }
}

/// Whether a rule is on `start` or a folder above it, up to the app's
/// root `root`; None when a look-up fails or the tree is deeper than
/// [`DEEPEST`]. `walked` holds what earlier walks found of a folder, and
/// is told what this one found of each it went through.
fn covered(
    start: OwnedFd,
    root: Id,
    rules: &HashSet<Id>,
    walked: &mut HashMap<Id, bool>,
) -> Option<bool> {
    let mut at = start;
    let mut through = vec![];
    let found = 'walk: {
        for _ in 0..DEEPEST {
            let m = stat(at.as_fd())?;
            let id = (m.dev(), m.ino());
            if let Some(c) = walked.get(&id).copied() {
                break 'walk c;
            }
            through.push(id);
            if rules.contains(&id) {
                break 'walk true;
            }
            if id == root {
                break 'walk false;
            }
            // SAFETY: a C string literal; the descriptor returned is owned.
            let up = unsafe {
                libc::openat(
                    at.as_raw_fd(),
                    c"..".as_ptr(),
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
                )
            };
            if up < 0 {
                return None;
            }
            // SAFETY: a descriptor openat just returned.
            let up = unsafe { OwnedFd::from_raw_fd(up) };
            let above = stat(up.as_fd())?;
            if (above.dev(), above.ino()) == id {
                // The top of a tree that is not the app's root.
                break 'walk false;
            }
            at = up;
        }
        return None;
    };
    for id in through {
        walked.insert(id, found);
    }
    Some(found)
}

/// Whether a write to what `fd` names (`m`) fails with EROFS before
/// Landlock is asked: a file or folder on a read-only mount (a device, a
/// pipe or a socket there is still written).
fn read_only(fd: &OwnedFd, m: &std::fs::Metadata) -> bool {
    if !(m.is_file() || m.is_dir()) {
        return false;
    }
    // SAFETY: all-zero is a valid statvfs, which the call fills.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `s` is a statvfs the call fills; `fd` is open.
    let r = unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut s) };
    r == 0 && s.f_flag & libc::ST_RDONLY != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process stands for the app: its root is `/`.
    fn predict(read: &[&Path], write: &[&Path], tcp_connect: &[u16]) -> Prediction {
        let s = |v: &[&Path]| v.iter().map(|p| p.display().to_string()).collect();
        Prediction {
            read: s(read),
            write: s(write),
            exec: vec![],
            tcp_bind: vec![],
            tcp_connect: tcp_connect.to_vec(),
            origin: Some("p.toml:4:1".into()),
            ids: None,
            walked: Default::default(),
        }
    }

    fn open_form() -> Form {
        super::super::calls::form_of(crate::syscalls::number("openat").unwrap()).unwrap()
    }

    #[test]
    fn a_rule_covers_what_is_under_it_through_links() {
        let dir = std::env::temp_dir().join(format!("predict-test-{}", std::process::id()));
        let (ro, rw) = (dir.join("ro"), dir.join("rw"));
        std::fs::create_dir_all(ro.join("sub")).unwrap();
        std::fs::create_dir_all(&rw).unwrap();
        std::fs::write(ro.join("sub/f"), b"x").unwrap();
        // A link in the written folder to the read one: its target is
        // what Landlock checks.
        let link = rw.join("to-ro");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&ro, &link).unwrap();
        let me = Task::tracing(std::process::id(), true);
        let mut p = predict(&[&ro], &[&rw], &[]);
        let path = |p: std::path::PathBuf, how| Event::Path { path: p, how };
        let f = open_form();
        // Read under the read rule, and through the link: allowed.
        assert_eq!(
            p.refusal(&me, "openat", f, &path(ro.join("sub/f"), Use::Read)),
            None
        );
        assert_eq!(
            p.refusal(&me, "openat", f, &path(link.join("sub/f"), Use::Read)),
            None
        );
        // Written under the read rule, even named through the written
        // folder's link: refused, with the rule and the line.
        assert_eq!(
            p.refusal(&me, "openat", f, &path(link.join("sub/f"), Use::Write))
                .as_deref(),
            Some("no write rule covers it (p.toml:4:1)")
        );
        assert_eq!(
            p.refusal(&me, "openat", f, &path(ro.join("new"), Use::Entry))
                .as_deref(),
            Some("no write rule covers it (p.toml:4:1)")
        );
        assert_eq!(
            p.refusal(&me, "openat", f, &path(rw.join("new"), Use::Entry)),
            None
        );
        // Out of every rule: refused even to read.
        assert_eq!(
            p.refusal(&me, "openat", f, &path(dir.clone(), Use::List))
                .as_deref(),
            Some("no read, exec or write rule covers it (p.toml:4:1)")
        );
        // What Landlock does not restrict, or what is not there.
        let chmod =
            super::super::calls::form_of(crate::syscalls::number("chmod").unwrap()).unwrap();
        assert_eq!(
            p.refusal(&me, "chmod", chmod, &path(ro.join("sub/f"), Use::Write)),
            None
        );
        assert_eq!(
            p.refusal(&me, "openat", f, &path(dir.join("gone"), Use::Missing)),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_is_covered_by_its_folders_rules_or_its_own() {
        let dir = std::env::temp_dir().join(format!("predict-file-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("w")).unwrap();
        std::fs::write(dir.join("w/f"), b"x").unwrap();
        std::fs::write(dir.join("alone"), b"x").unwrap();
        let to_f = dir.join("to-f");
        let _ = std::fs::remove_file(&to_f);
        std::os::unix::fs::symlink("w/f", &to_f).unwrap();
        let me = Task::tracing(std::process::id(), true);
        let f = open_form();
        let written = |p: std::path::PathBuf| Event::Path {
            path: p,
            how: Use::Write,
        };
        let mut p = predict(&[], &[&dir.join("w"), &dir.join("alone")], &[]);
        assert_eq!(p.refusal(&me, "openat", f, &written(dir.join("w/f"))), None);
        // Through a link outside the rule: the link's target is written.
        assert_eq!(p.refusal(&me, "openat", f, &written(to_f.clone())), None);
        assert_eq!(
            p.refusal(&me, "openat", f, &written(dir.join("alone"))),
            None
        );
        let mut q = predict(&[], &[&dir.join("alone")], &[]);
        assert_eq!(
            q.refusal(&me, "openat", f, &written(to_f)).as_deref(),
            Some("no write rule covers it (p.toml:4:1)")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dotdot_after_a_link_is_the_targets_parent() {
        // rw/to-ro -> ro/sub: rw/to-ro/../f is ro/f, not rw/f.
        let dir = std::env::temp_dir().join(format!("predict-dotdot-{}", std::process::id()));
        let (ro, rw) = (dir.join("ro"), dir.join("rw"));
        std::fs::create_dir_all(ro.join("sub")).unwrap();
        std::fs::create_dir_all(&rw).unwrap();
        let link = rw.join("to-ro");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(ro.join("sub"), &link).unwrap();
        let back = ro.join("sub/back");
        let _ = std::fs::remove_file(&back);
        std::os::unix::fs::symlink("../../rw/g", &back).unwrap();
        let me = Task::tracing(std::process::id(), false);
        let f = open_form();
        let entry = |p: std::path::PathBuf| Event::Path {
            path: p,
            how: Use::Entry,
        };
        let mut p = predict(&[&ro], &[&rw], &[]);
        assert_eq!(
            p.refusal(&me, "openat", f, &entry(link.join("../f")))
                .as_deref(),
            Some("no write rule covers it (p.toml:4:1)")
        );
        let mut q = predict(&[&rw], &[&ro], &[]);
        assert_eq!(q.refusal(&me, "openat", f, &entry(link.join("../f"))), None);
        // A relative link's target, from the link's own folder.
        let written = Event::Path {
            path: link.join("back"),
            how: Use::Write,
        };
        std::fs::write(rw.join("g"), b"x").unwrap();
        assert_eq!(p.refusal(&me, "openat", f, &written), None);
        assert_eq!(
            q.refusal(&me, "openat", f, &written).as_deref(),
            Some("no write rule covers it (p.toml:4:1)")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_port_is_refused_only_when_ports_are_ruled() {
        let me = Task::tracing(std::process::id(), true);
        let ip = |port, stream| Address::Ip {
            ip: std::net::Ipv4Addr::LOCALHOST.into(),
            port,
            stream,
        };
        let f = open_form();
        let mut open = predict(&[], &[], &[]);
        assert_eq!(
            open.refusal(&me, "connect", f, &Event::Connect(ip(80, true))),
            None
        );
        let mut ruled = predict(&[], &[], &[443]);
        assert_eq!(
            ruled.refusal(&me, "connect", f, &Event::Connect(ip(443, true))),
            None
        );
        assert_eq!(
            ruled.refusal(&me, "connect", f, &Event::Connect(ip(80, false))),
            None
        );
        assert_eq!(
            ruled
                .refusal(&me, "connect", f, &Event::Connect(ip(80, true)))
                .as_deref(),
            Some("tcp port 80 is not in landlock.tcp_connect (p.toml:4:1)")
        );
    }
}
