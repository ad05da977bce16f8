//! The seam between the steps and the kernel: every system call the
//! child's steps and the launcher's id-map steps make goes through
//! [`Kernel`]. [`Linux`] makes them (through [`super::sys`] and `nix`);
//! [`super::record::Recorder`] writes each down instead and answers from a
//! small model, so that the order and arguments of a plan's calls can be
//! pinned by golden traces without root and without namespaces (as youki's
//! `Syscall` trait and its test double do).
//!
//! A method is one system call (or, for Landlock, seccomp and the network
//! calls, one kernel operation made through a library), so that a trace
//! reads like `strace` of the real run. Methods take and give descriptors
//! as `OwnedFd`/`BorrowedFd`, so the mechanism code is the same for both.

use super::sys::{self, CapSets};
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// What `open_tree` copies: the mount at the path and those below it, or
/// that one mount alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tree {
    Recursive,
    One,
}

/// The system calls the steps make.
pub trait Kernel {
    // Files, relative to a directory descriptor (None: the working directory).
    fn open(
        &self,
        dir: Option<BorrowedFd>,
        path: &CStr,
        flags: i32,
        mode: u32,
    ) -> io::Result<OwnedFd>;
    /// openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS.
    fn open_in_root(
        &self,
        root: BorrowedFd,
        path: &CStr,
        flags: i32,
        mode: u32,
    ) -> io::Result<OwnedFd>;
    /// openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS.
    fn open_beneath(&self, dir: BorrowedFd, path: &CStr, flags: i32) -> io::Result<OwnedFd>;
    fn mkdir_at(&self, dir: BorrowedFd, name: &CStr, mode: u32) -> io::Result<()>;
    fn symlink_at(&self, target: &CStr, dir: BorrowedFd, name: &CStr) -> io::Result<()>;
    fn read_link_at(&self, dir: Option<BorrowedFd>, path: &CStr) -> io::Result<Vec<u8>>;
    fn fchmod(&self, fd: BorrowedFd, mode: u32) -> io::Result<()>;
    /// The whole content of a (small) file.
    fn read_file(&self, path: &CStr) -> io::Result<Vec<u8>>;
    /// One write(2); returns how much was written.
    fn write(&self, fd: BorrowedFd, data: &[u8]) -> io::Result<usize>;
    fn fchdir(&self, fd: BorrowedFd) -> io::Result<()>;
    fn chdir(&self, path: &CStr) -> io::Result<()>;
    /// Set the umask; returns the previous one.
    fn umask(&self, mask: u32) -> u32;
    fn is_terminal(&self, fd: i32) -> bool;

    // Mounts.
    /// mount(NULL, path, NULL, MS_SLAVE | MS_REC, NULL).
    fn make_rslave(&self, path: &CStr) -> io::Result<()>;
    /// open_tree(OPEN_TREE_CLONE) of `path` under `dir` (None: the working
    /// directory; an empty path: `dir` itself).
    fn open_tree(&self, dir: Option<BorrowedFd>, path: &CStr, tree: Tree) -> io::Result<OwnedFd>;
    fn mount_setattr(&self, mount: BorrowedFd, set: u64, recursive: bool) -> io::Result<()>;
    fn move_mount(&self, from: BorrowedFd, to: BorrowedFd) -> io::Result<()>;
    fn fsopen(&self, fstype: &CStr) -> io::Result<OwnedFd>;
    fn fsconfig_string(&self, fs: BorrowedFd, key: &CStr, value: &CStr) -> io::Result<()>;
    fn fsconfig_flag(&self, fs: BorrowedFd, key: &CStr) -> io::Result<()>;
    /// fsconfig(FSCONFIG_CMD_CREATE), then fsmount with `attrs`.
    fn fsmount(&self, fs: BorrowedFd, attrs: u64) -> io::Result<OwnedFd>;
    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> io::Result<()>;
    /// umount2(path, MNT_DETACH).
    fn umount_detach(&self, path: &CStr) -> io::Result<()>;

    // Namespaces, ids, capabilities.
    fn unshare(&self, flags: nix::sched::CloneFlags) -> io::Result<()>;
    /// unshare(CLONE_NEWUSER) while a helper forked beforehand, still
    /// outside with the capabilities this process loses, runs `outside`
    /// (writes the new namespace's id maps) once it is done.
    fn unshare_user_with_helper(&self, outside: &dyn Fn() -> i32) -> io::Result<()>;
    /// geteuid(), getegid().
    fn effective_ids(&self) -> (u32, u32);
    fn setresuid(&self, uid: u32) -> io::Result<()>;
    fn setresgid(&self, gid: u32) -> io::Result<()>;
    fn setgroups(&self, groups: &[u32]) -> io::Result<()>;
    /// setfsuid; returns the previous filesystem uid (the call reports no error).
    fn setfsuid(&self, uid: u32) -> u32;
    fn setfsgid(&self, gid: u32) -> u32;
    /// prctl with integer arguments.
    fn prctl(&self, op: i32, a: u64, b: u64) -> io::Result<i32>;
    fn capget(&self) -> io::Result<CapSets>;
    fn capset(&self, sets: CapSets) -> io::Result<()>;
    fn sethostname(&self, name: &[u8]) -> io::Result<()>;
    fn setdomainname(&self, name: &[u8]) -> io::Result<()>;
    fn setsid(&self) -> io::Result<()>;
    /// setpgid(0, 0): a process group of its own.
    fn setpgid_self(&self) -> io::Result<()>;
    /// kill(pid, sig), its failure ignored (the process may be gone).
    fn kill(&self, pid: i32, sig: i32);
    /// setrlimit, soft and hard both `value`.
    fn setrlimit(&self, resource: u32, value: u64) -> io::Result<()>;
    /// Set the soft limit of open descriptors to `soft` (None: the hard
    /// limit, the most it may be); the soft limit it had.
    fn nofile_soft(&self, soft: Option<u64>) -> io::Result<u64>;

    /// Run a program (found on PATH) to its end: whether it succeeded, and
    /// what it wrote on standard error.
    fn run_program(&self, argv: &[String]) -> io::Result<(bool, Vec<u8>)>;
    /// Close every descriptor from `first` up but `keep` (close_range).
    fn close_all_but(&self, first: u32, keep: Option<u32>) -> io::Result<()>;
    /// Zero the strings of this process's environment in place.
    fn wipe_environment(&self);
    /// Mark every descriptor from `first` up close-on-exec.
    fn cloexec_from(&self, first: u32) -> io::Result<()>;
    /// Bring the loopback interface up (SIOCGIFFLAGS, SIOCSIFFLAGS).
    fn loopback_up(&self) -> io::Result<()>;
    /// Through rtnetlink: the one interface the launcher attached renamed
    /// eth0, addressed, up, the default route through `gateway`.
    fn configure_interface(
        &self,
        address: Option<crate::plan::IpCidr>,
        gateway: Option<std::net::IpAddr>,
    ) -> io::Result<()>;
    /// landlock_create_ruleset, landlock_add_rule for each rule,
    /// landlock_restrict_self (through the `landlock` crate).
    fn landlock(&self, rules: super::landlock::Rules) -> Result<(), super::failure::Failure>;
    /// seccomp(SECCOMP_SET_MODE_FILTER) of this BPF program.
    fn load_seccomp(&self, program: &[libc::sock_filter]) -> io::Result<()>;
    /// Load the filter with a listener for its refusals, send the
    /// listener to the launcher over `channel`, and close it here.
    fn load_seccomp_traced(
        &self,
        program: &[libc::sock_filter],
        channel: BorrowedFd,
        secret: [u32; 3],
    ) -> io::Result<()>;
    /// Three random words (getrandom).
    fn random_words(&self) -> io::Result<[u32; 3]>;
    /// The app's signal state: nothing blocked, SIGPIPE at its default.
    fn reset_signals(&self);
    /// Run `body` in a new process sharing this one's memory until it execs
    /// (CLONE_VM | CLONE_VFORK); its pid.
    fn spawn_sharing_memory(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32>;
    /// fork(); the copy runs `body` and exits with what it returns; its pid.
    fn fork_copy(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32>;
    /// Fork a copy as this process's sibling (CLONE_PARENT), which runs
    /// `body` and exits with what it returns; its pid.
    fn fork_beside(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32>;
    /// Serve `sandbox enter` on `channel` (helper.rs): never returns on a
    /// real kernel; the recording one returns 0 once it is noted.
    fn serve_enter(&self, channel: BorrowedFd, env: &[CString]) -> i32;
    /// Become the init of `app`: seal (init::seal, on this kernel), reap,
    /// forward signals, exit with its status. Never returns on a real
    /// kernel; the recording one returns once the seal is recorded, with
    /// errno 0 (record::EXEC_RECORDED) or the seal's failure.
    fn supervise(&self, app: i32, smaps: Option<std::fs::File>) -> io::Error;
    /// execve(path, argv, envp): returns only on failure.
    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error;
    /// execve of `program` found on `path` (a PATH value), as execvp
    /// searches (process::search_path): returns only on failure.
    fn execvp(&self, program: &CStr, path: &[u8], argv: &[CString], envp: &[CString]) -> io::Error;
}

/// The real kernel.
pub struct Linux;

fn nix_io<T>(r: nix::Result<T>) -> io::Result<T> {
    r.map_err(io::Error::from)
}

impl Kernel for Linux {
    fn open(
        &self,
        dir: Option<BorrowedFd>,
        path: &CStr,
        flags: i32,
        mode: u32,
    ) -> io::Result<OwnedFd> {
        sys::openat(dir, path, flags | libc::O_CLOEXEC, mode)
    }
    fn open_in_root(
        &self,
        root: BorrowedFd,
        path: &CStr,
        flags: i32,
        mode: u32,
    ) -> io::Result<OwnedFd> {
        sys::open_in_root(root, path, flags, mode)
    }
    fn open_beneath(&self, dir: BorrowedFd, path: &CStr, flags: i32) -> io::Result<OwnedFd> {
        sys::open_beneath(dir, path, flags)
    }
    fn mkdir_at(&self, dir: BorrowedFd, name: &CStr, mode: u32) -> io::Result<()> {
        sys::mkdirat(dir, name, mode)
    }
    fn symlink_at(&self, target: &CStr, dir: BorrowedFd, name: &CStr) -> io::Result<()> {
        sys::symlinkat(target, dir, name)
    }
    fn read_link_at(&self, dir: Option<BorrowedFd>, path: &CStr) -> io::Result<Vec<u8>> {
        sys::readlinkat(dir, path)
    }
    fn fchmod(&self, fd: BorrowedFd, mode: u32) -> io::Result<()> {
        nix_io(nix::sys::stat::fchmod(
            fd,
            nix::sys::stat::Mode::from_bits_retain(mode),
        ))
    }
    fn read_file(&self, path: &CStr) -> io::Result<Vec<u8>> {
        use std::os::unix::ffi::OsStrExt;
        std::fs::read(std::ffi::OsStr::from_bytes(path.to_bytes()))
    }
    fn write(&self, fd: BorrowedFd, data: &[u8]) -> io::Result<usize> {
        nix_io(nix::unistd::write(fd, data))
    }
    fn fchdir(&self, fd: BorrowedFd) -> io::Result<()> {
        nix_io(nix::unistd::fchdir(fd))
    }
    fn chdir(&self, path: &CStr) -> io::Result<()> {
        nix_io(nix::unistd::chdir(path))
    }
    fn umask(&self, mask: u32) -> u32 {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_retain(mask)).bits()
    }
    fn is_terminal(&self, fd: i32) -> bool {
        sys::is_terminal(fd)
    }
    fn make_rslave(&self, path: &CStr) -> io::Result<()> {
        use nix::mount::{MsFlags, mount};
        nix_io(mount(
            None::<&CStr>,
            path,
            None::<&CStr>,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None::<&CStr>,
        ))
    }
    fn open_tree(&self, dir: Option<BorrowedFd>, path: &CStr, tree: Tree) -> io::Result<OwnedFd> {
        sys::open_tree_clone(dir, path, tree == Tree::Recursive)
    }
    fn mount_setattr(&self, mount: BorrowedFd, set: u64, recursive: bool) -> io::Result<()> {
        sys::mount_setattr(mount, set, recursive)
    }
    fn move_mount(&self, from: BorrowedFd, to: BorrowedFd) -> io::Result<()> {
        sys::move_mount(from, to)
    }
    fn fsopen(&self, fstype: &CStr) -> io::Result<OwnedFd> {
        sys::fsopen(fstype)
    }
    fn fsconfig_string(&self, fs: BorrowedFd, key: &CStr, value: &CStr) -> io::Result<()> {
        sys::fsconfig_string(fs, key, value)
    }
    fn fsconfig_flag(&self, fs: BorrowedFd, key: &CStr) -> io::Result<()> {
        sys::fsconfig_flag(fs, key)
    }
    fn fsmount(&self, fs: BorrowedFd, attrs: u64) -> io::Result<OwnedFd> {
        sys::fsmount(fs, attrs)
    }
    fn pivot_root(&self, new_root: &CStr, put_old: &CStr) -> io::Result<()> {
        sys::pivot_root(new_root, put_old)
    }
    fn umount_detach(&self, path: &CStr) -> io::Result<()> {
        nix_io(nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH))
    }
    fn unshare(&self, flags: nix::sched::CloneFlags) -> io::Result<()> {
        nix_io(nix::sched::unshare(flags))
    }
    fn unshare_user_with_helper(&self, outside: &dyn Fn() -> i32) -> io::Result<()> {
        sys::unshare_user_with_helper(outside)
    }
    fn effective_ids(&self) -> (u32, u32) {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    }
    fn setresuid(&self, uid: u32) -> io::Result<()> {
        let u = nix::unistd::Uid::from_raw(uid);
        nix_io(nix::unistd::setresuid(u, u, u))
    }
    fn setresgid(&self, gid: u32) -> io::Result<()> {
        let g = nix::unistd::Gid::from_raw(gid);
        nix_io(nix::unistd::setresgid(g, g, g))
    }
    fn setgroups(&self, groups: &[u32]) -> io::Result<()> {
        let g: Vec<_> = groups
            .iter()
            .map(|g| nix::unistd::Gid::from_raw(*g))
            .collect();
        nix_io(nix::unistd::setgroups(&g))
    }
    fn setfsuid(&self, uid: u32) -> u32 {
        nix::unistd::setfsuid(nix::unistd::Uid::from_raw(uid)).as_raw()
    }
    fn setfsgid(&self, gid: u32) -> u32 {
        nix::unistd::setfsgid(nix::unistd::Gid::from_raw(gid)).as_raw()
    }
    fn prctl(&self, op: i32, a: u64, b: u64) -> io::Result<i32> {
        sys::prctl(op, a, b)
    }
    fn capget(&self) -> io::Result<CapSets> {
        sys::capget()
    }
    fn capset(&self, sets: CapSets) -> io::Result<()> {
        sys::capset(sets)
    }
    fn sethostname(&self, name: &[u8]) -> io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        nix_io(nix::unistd::sethostname(std::ffi::OsStr::from_bytes(name)))
    }
    fn setdomainname(&self, name: &[u8]) -> io::Result<()> {
        sys::setdomainname(name)
    }
    fn setsid(&self) -> io::Result<()> {
        nix_io(nix::unistd::setsid().map(drop))
    }
    fn setpgid_self(&self) -> io::Result<()> {
        let me = nix::unistd::Pid::from_raw(0);
        nix_io(nix::unistd::setpgid(me, me))
    }
    fn kill(&self, pid: i32, sig: i32) {
        if let Ok(s) = nix::sys::signal::Signal::try_from(sig) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), s);
        }
    }
    fn setrlimit(&self, resource: u32, value: u64) -> io::Result<()> {
        sys::setrlimit(resource, value)
    }
    fn nofile_soft(&self, soft: Option<u64>) -> io::Result<u64> {
        sys::nofile_soft(soft)
    }
    fn run_program(&self, argv: &[String]) -> io::Result<(bool, Vec<u8>)> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        let out = std::process::Command::new(program).args(args).output()?;
        Ok((out.status.success(), out.stderr))
    }
    fn close_all_but(&self, first: u32, keep: Option<u32>) -> io::Result<()> {
        sys::close_all_but(first, keep)
    }
    fn wipe_environment(&self) {
        sys::wipe_environment()
    }
    fn cloexec_from(&self, first: u32) -> io::Result<()> {
        sys::cloexec_from(first)
    }
    fn loopback_up(&self) -> io::Result<()> {
        super::net::loopback_up()
    }
    fn configure_interface(
        &self,
        address: Option<crate::plan::IpCidr>,
        gateway: Option<std::net::IpAddr>,
    ) -> io::Result<()> {
        super::net::configure_interface(address, gateway)
    }
    fn landlock(&self, rules: super::landlock::Rules) -> Result<(), super::failure::Failure> {
        super::landlock::restrict_self(rules)
    }
    fn load_seccomp(&self, program: &[libc::sock_filter]) -> io::Result<()> {
        sys::load_seccomp(program)
    }
    fn load_seccomp_traced(
        &self,
        program: &[libc::sock_filter],
        channel: BorrowedFd,
        secret: [u32; 3],
    ) -> io::Result<()> {
        let listener = sys::load_seccomp_listener(program)?;
        sys::send_listener(channel, listener.as_fd(), secret)
    }
    fn random_words(&self) -> io::Result<[u32; 3]> {
        let mut w = [0u32; 3];
        // SAFETY: `w` is 12 writable bytes.
        let n = unsafe { libc::getrandom(w.as_mut_ptr().cast(), 12, 0) };
        match n {
            12 => Ok(w),
            _ => Err(io::Error::last_os_error()),
        }
    }
    fn reset_signals(&self) {
        super::process::reset_signals()
    }
    fn spawn_sharing_memory(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32> {
        sys::spawn_sharing_memory(body)
    }
    fn fork_copy(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32> {
        sys::fork_running(body)
    }
    fn fork_beside(&self, body: &mut dyn FnMut() -> i32) -> io::Result<i32> {
        sys::fork_beside(body)
    }
    fn serve_enter(&self, channel: BorrowedFd, env: &[CString]) -> i32 {
        super::helper::serve(channel, env)
    }
    fn supervise(&self, app: i32, smaps: Option<std::fs::File>) -> io::Error {
        super::init::supervise(nix::unistd::Pid::from_raw(app), smaps)
    }
    fn execve(&self, path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error {
        sys::execve(path, argv, envp)
    }
    fn execvp(&self, program: &CStr, path: &[u8], argv: &[CString], envp: &[CString]) -> io::Error {
        super::process::search_path(|full| sys::execve(full, argv, envp), program, path)
    }
}
