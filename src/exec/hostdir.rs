//! Launcher, before the spawn: the host folders the mounts need and that
//! do not exist yet (bind sources with `create`, overlay upper and work
//! folders). Made here rather than by the child so that a root caller's
//! sandbox, which runs as nobody, gets folders it can write: root makes
//! them and gives them to nobody. Below a folder the sandbox may write,
//! each level is made and entered without following links (see
//! [`super::hostpath`]).

use super::failure::{Call, Failure};
use super::hostpath;
use super::sys;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path};

/// Make each of `dirs` (mode 0700) and its missing parents; those made are
/// given to `owner` when there is one. `below`: folders the sandbox may
/// write that some of `dirs` lie below.
pub fn make(dirs: &[String], owner: Option<(u32, u32)>, below: &[String]) -> Result<(), Failure> {
    for d in dirs {
        let made = match hostpath::writable_above(d, below) {
            Some(w) => make_below(Path::new(w), Path::new(d), owner),
            None => make_one(Path::new(d), owner),
        };
        made.call_with(|| format!("create {d}"))?;
    }
    Ok(())
}

fn make_one(path: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    // The missing part of the path, outermost first.
    let mut missing = vec![];
    let mut at = Some(path);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || std::fs::symlink_metadata(p).is_ok() {
            break;
        }
        missing.push(p);
        at = p.parent();
    }
    for d in missing.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(0o700).create(d) {
            Ok(()) => {
                if let Some((uid, gid)) = owner {
                    std::os::unix::fs::lchown(d, Some(uid), Some(gid))?;
                }
            }
            // Made meanwhile by someone else: theirs, as it is.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Make `path` below the writable `folder`, one level at a time: each
/// level made if missing, then entered with openat2, which follows no
/// link, so a link the app left there stops the walk (ELOOP).
fn make_below(folder: &Path, path: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    let rest =
        hostpath::below(path, folder).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut at: OwnedFd = nix::fcntl::open(
        folder,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    for c in rest.components() {
        let Component::Normal(name) = c else {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        };
        let cname = CString::new(name.as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        match nix::sys::stat::mkdirat(
            at.as_fd(),
            cname.as_c_str(),
            nix::sys::stat::Mode::from_bits_truncate(0o700),
        ) {
            Ok(()) => {
                if let Some((uid, gid)) = owner {
                    nix::unistd::fchownat(
                        at.as_fd(),
                        cname.as_c_str(),
                        Some(uid.into()),
                        Some(gid.into()),
                        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                    )?;
                }
            }
            Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(e.into()),
        }
        at = sys::open_beneath(at.as_fd(), &cname, libc::O_PATH | libc::O_DIRECTORY)?;
    }
    Ok(())
}
