//! Launcher, before the spawn: the host folders the mounts need and that
//! do not exist yet (bind sources with `create`, overlay upper and work
//! folders). Made here rather than by the child so that a root caller's
//! sandbox, which runs as nobody, gets folders it can write: root makes
//! them and gives them to nobody.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

type Failed = (io::Error, String);

/// Make each of `dirs` (mode 0700) and its missing parents; those made are
/// given to `owner` when there is one.
pub fn make(dirs: &[String], owner: Option<(u32, u32)>) -> Result<(), Failed> {
    for d in dirs {
        make_one(Path::new(d), owner).map_err(|e| (e, format!("create {d}")))?;
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
