//! Host paths below a folder the sandbox may write. The app can leave
//! anything there for the next run, a symbolic link in place of a folder
//! above another mount's source among it: so the part of such a path below
//! that folder is resolved without following any link (openat2 with
//! RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH), while the folder itself, which
//! the app cannot replace, is opened as the profile names it.

use super::kernel::Kernel;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

fn cstr(p: &Path) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The part of `path` below `folder`, if `path` is strictly below it.
pub fn below<'a>(path: &'a Path, folder: &Path) -> Option<&'a Path> {
    path.strip_prefix(folder)
        .ok()
        .filter(|rest| !rest.as_os_str().is_empty())
}

/// The folder of `folders` that `path` lies below, if any.
pub fn writable_above<'a>(path: &str, folders: &'a [String]) -> Option<&'a str> {
    folders
        .iter()
        .map(String::as_str)
        .find(|f| below(Path::new(path), Path::new(f)).is_some())
}

/// Open `path` with `flags` (O_PATH, usually); below `writable`, a folder
/// the sandbox may write, without following links.
pub fn open(k: &dyn Kernel, path: &str, writable: Option<&str>, flags: i32) -> io::Result<OwnedFd> {
    let p = Path::new(path);
    match writable.and_then(|w| Some((w, below(p, Path::new(w))?))) {
        Some((w, rest)) => {
            let top = k.open(
                None,
                &cstr(Path::new(w))?,
                libc::O_PATH | libc::O_DIRECTORY,
                0,
            )?;
            k.open_beneath(top.as_fd(), &cstr(rest)?, flags)
        }
        None => k.open(None, &cstr(p)?, flags, 0),
    }
}
