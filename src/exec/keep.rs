//! `[namespaces] keep`: the launcher binds the child's namespace files at
//! the profile's paths in its own mount namespace, as `unshare --net=FILE`
//! and `ip netns add` do, so that the namespaces outlive the sandbox and
//! other tools (nsenter, ip netns exec, another sandbox) can join them.
//! If the setup fails, what was bound and the files made are removed
//! again (dropping a [`Kept`] that was not [`Kept::stay`]ed).

use crate::plan::NsKind;
use nix::mount::{MntFlags, MsFlags};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

/// The magic number of the namespace file system (statfs f_type).
const NSFS_MAGIC: i64 = 0x6e73_6673;

/// The namespaces bound so far: (path, whether the launcher made the file).
#[derive(Default)]
pub struct Kept {
    made: Vec<(String, bool)>,
}

impl Kept {
    /// Bind process `child`'s namespace of `kind` at `path`.
    pub fn keep(&mut self, child: i32, kind: NsKind, path: &str) -> io::Result<()> {
        // The file: made (never through a symbolic link, and only if it is
        // not there), or an existing file that holds no namespace yet.
        let (file, created) = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
        {
            Ok(f) => (f, true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(path)?;
                let stat = nix::sys::stat::fstat(&f)?;
                if stat.st_mode & libc::S_IFMT == libc::S_IFLNK {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                if nix::sys::statfs::fstatfs(&f)?.filesystem_type().0 as i64 == NSFS_MAGIC {
                    return Err(io::Error::from_raw_os_error(libc::EBUSY));
                }
                if stat.st_mode & libc::S_IFMT != libc::S_IFREG {
                    return Err(io::Error::from_raw_os_error(libc::EISDIR));
                }
                (f, false)
            }
            Err(e) => return Err(e),
        };
        // Onto the file opened, not whatever the path names by now.
        let source = format!("/proc/{child}/ns/{}", kind.proc_name());
        let target = format!("/proc/self/fd/{}", file.as_raw_fd());
        let bound = nix::mount::mount(
            Some(source.as_str()),
            target.as_str(),
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        );
        drop(file);
        if let Err(e) = bound {
            if created {
                let _ = std::fs::remove_file(path);
            }
            return Err(e.into());
        }
        self.made.push((path.to_string(), created));
        Ok(())
    }

    /// The setup went through: the namespaces stay bound.
    pub fn stay(mut self) {
        self.made.clear();
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        for (path, created) in self.made.drain(..).rev() {
            let unbound = nix::mount::umount2(
                path.as_str(),
                MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW,
            );
            if unbound.is_ok() && created {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}
