//! Thin wrappers over the system calls the executor needs that `nix` does
//! not wrap (the new mount API, pivot_root, openat2, capset, clone). Each
//! returns `io::Result` and does nothing else, so the mechanism files read
//! as what they do.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn fd(ret: libc::c_long) -> io::Result<OwnedFd> {
    // SAFETY: the kernel just returned this descriptor to us.
    check(ret).map(|r| unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

pub const OPEN_TREE_CLONE: u32 = 1;
pub const OPEN_TREE_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
pub const AT_RECURSIVE: u32 = 0x8000;
pub const AT_EMPTY_PATH: u32 = libc::AT_EMPTY_PATH as u32;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
pub const FSOPEN_CLOEXEC: u32 = 1;
pub const FSMOUNT_CLOEXEC: u32 = 1;
pub const FSCONFIG_SET_FLAG: u32 = 0;
pub const FSCONFIG_SET_STRING: u32 = 1;
pub const FSCONFIG_CMD_CREATE: u32 = 6;

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A detached copy of the mount at `path` under `dirfd` (an empty path:
/// `dirfd` itself; None: the working directory), with the mounts below it
/// if `recursive`.
pub fn open_tree_clone(
    dirfd: Option<BorrowedFd>,
    path: &CStr,
    recursive: bool,
) -> io::Result<OwnedFd> {
    let (dfd, flags) = match dirfd {
        Some(d) => (d.as_raw_fd(), AT_EMPTY_PATH),
        None => (libc::AT_FDCWD, 0),
    };
    let flags = flags | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: `path` is a valid C string that outlives the call and `dfd`
    // a descriptor the caller holds (or AT_FDCWD); open_tree(2) reads
    // nothing else, and the descriptor it returns is taken by `fd`.
    fd(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            dfd,
            path.as_ptr(),
            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags,
        )
    })
}

/// Set mount attributes on the mount at `fd` (and below it if `recursive`).
/// Flags not named are kept, so flags the kernel locked stay as they are.
pub fn mount_setattr(fd: BorrowedFd, attr_set: u64, recursive: bool) -> io::Result<()> {
    let attr = MountAttr {
        attr_set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = AT_EMPTY_PATH | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: attr is a valid mount_attr of the size passed.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// Attach the detached mount `from` on top of the object `to` refers to.
pub fn move_mount(from: BorrowedFd, to: BorrowedFd) -> io::Result<()> {
    // SAFETY: both fds are valid; empty paths with the EMPTY_PATH flags.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            c"".as_ptr(),
            to.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// A filesystem context for `fstype` (fsopen(2)).
pub fn fsopen(fstype: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: valid C string.
    fd(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
}

pub fn fsconfig_string(fs: BorrowedFd, key: &CStr, value: &CStr) -> io::Result<()> {
    // SAFETY: valid fd and C strings.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    })
    .map(drop)
}

pub fn fsconfig_flag(fs: BorrowedFd, key: &CStr) -> io::Result<()> {
    // SAFETY: valid fd and C string; a flag takes no value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_FLAG,
            key.as_ptr(),
            std::ptr::null::<u8>(),
            0,
        )
    })
    .map(drop)
}

/// Create the filesystem and return it as a detached mount with `attrs`.
pub fn fsmount(fs: BorrowedFd, attrs: u64) -> io::Result<OwnedFd> {
    // SAFETY: valid fd; CMD_CREATE takes no key or value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<u8>(),
            std::ptr::null::<u8>(),
            0,
        )
    })?;
    // SAFETY: valid fd.
    fd(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) })
}

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

/// openat2(2) with RESOLVE_IN_ROOT: `path` is looked up as if `root` were
/// `/`, so neither `..` nor a symlink can lead outside it.
pub fn open_in_root(root: BorrowedFd, path: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: mode as u64,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    openat2(root, path, &how)
}

/// How often openat2 is asked again when it says EAGAIN: with
/// RESOLVE_IN_ROOT or RESOLVE_BENEATH, a `..` in the path (a symbolic
/// link's target) is refused that way whenever anything was renamed or
/// mounted anywhere on the machine during the lookup, which the kernel
/// cannot tell from an attack; openat2(2) says to try again.
const OPENAT2_TRIES: usize = 64;

fn openat2(dir: BorrowedFd, path: &CStr, how: &OpenHow) -> io::Result<OwnedFd> {
    let mut tries = OPENAT2_TRIES;
    loop {
        // SAFETY: `how` is a valid open_how of the size passed and `path`
        // a C string, both outliving the call; `dir` is open (borrowed);
        // the descriptor returned is taken by `fd`.
        let r = fd(unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        });
        match r {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && tries > 1 => tries -= 1,
            r => return r,
        }
    }
}

pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;

/// openat2(2) of `path` below `dir`, following no symbolic link (nor a
/// magic link) and never leaving `dir` (`..` past it fails with EXDEV).
pub fn open_beneath(dir: BorrowedFd, path: &CStr, flags: i32) -> io::Result<OwnedFd> {
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    openat2(dir, path, &how)
}

pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> io::Result<()> {
    // SAFETY: valid C strings.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })
        .map(drop)
}

/// clone(2) with fork semantics (no new stack): returns 0 in the child and
/// the child's pid in the parent. The caller must be single-threaded.
pub fn clone_fork(flags: u64) -> io::Result<libc::pid_t> {
    // SAFETY: without CLONE_VM the child gets a copy of the address space,
    // like fork(); the launcher has only one thread.
    check(unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags | libc::SIGCHLD as u64,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    })
    .map(|p| p as libc::pid_t)
}

/// Run `body` in a new process that shares this one's memory until it
/// execs or exits (CLONE_VM | CLONE_VFORK, as posix_spawn does), on a stack
/// of its own; this process sleeps meanwhile. Returns the new pid. Unlike
/// a fork, nothing is copied: no page tables, no copy-on-write faults in
/// either process afterwards, which is most of what a fork costs PID 1.
///
/// `body` must end in exec, or return the exit code: it runs with this
/// process's heap and thread-local state (safe because this process is
/// single-threaded and suspended), and must not unwind (panic = abort).
pub fn spawn_sharing_memory<F: FnMut() -> i32>(mut body: F) -> io::Result<libc::pid_t> {
    // Lazily backed: only the pages the steps touch are ever faulted in.
    const STACK: usize = 1 << 20;
    // SAFETY: the process's page size.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let len = STACK + page;
    // SAFETY: a fresh private anonymous mapping, ours alone.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    extern "C" fn start<F: FnMut() -> i32>(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `body` below, alive while the parent sleeps.
        let body = unsafe { &mut *(arg as *mut F) };
        body()
    }
    // SAFETY: the lowest page becomes a guard: an overflow faults instead
    // of writing into memory the parent shares. The stack grows down from
    // the end of the mapping; the parent does not run until the child has
    // exec'd or exited (CLONE_VFORK), so `body` and the stack outlive it.
    let pid = unsafe {
        if libc::mprotect(base, page, libc::PROT_NONE) == 0 {
            libc::clone(
                start::<F>,
                (base as *mut u8).add(len) as *mut libc::c_void,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                &mut body as *mut F as *mut libc::c_void,
            )
        } else {
            -1
        }
    };
    let err = io::Error::last_os_error();
    // SAFETY: the child no longer runs on this stack (it exec'd or exited).
    unsafe { libc::munmap(base, len) };
    if pid < 0 { Err(err) } else { Ok(pid) }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// This thread's capability sets as 64-bit masks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

pub fn capget() -> io::Result<CapSets> {
    let mut header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and two data words, as capget(2) version 3 expects.
    check(unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut CapHeader,
            data.as_mut_ptr(),
        )
    })?;
    let join = |lo: u32, hi: u32| lo as u64 | ((hi as u64) << 32);
    Ok(CapSets {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// Set this thread's effective, permitted and inheritable sets.
pub fn capset(sets: CapSets) -> io::Result<()> {
    let header = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    let (e, p, i) = (sets.effective, sets.permitted, sets.inheritable);
    let data = [
        CapData {
            effective: e as u32,
            permitted: p as u32,
            inheritable: i as u32,
        },
        CapData {
            effective: (e >> 32) as u32,
            permitted: (p >> 32) as u32,
            inheritable: (i >> 32) as u32,
        },
    ];
    // SAFETY: header and two data words, as capset(2) version 3 expects.
    check(unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) })
        .map(drop)
}

/// Close every descriptor from `first` up, but `keep`.
pub fn close_all_but(first: u32, keep: Option<u32>) -> io::Result<()> {
    match keep {
        Some(k) if k >= first => {
            if k > first {
                close_range(first, k - 1)?;
            }
            close_range(k + 1, u32::MAX)
        }
        _ => close_range(first, u32::MAX),
    }
}

fn close_range(first: u32, last: u32) -> io::Result<()> {
    // SAFETY: close_range without flags; whatever owned those descriptors
    // is never used again by the caller (PID 1 sealing itself).
    check(unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) }).map(drop)
}

/// Close every descriptor from `first` up.
pub fn close_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range without flags; whatever owned those descriptors
    // is never used again by the caller (PID 1 sealing itself).
    check(unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0) }).map(drop)
}

/// Overwrite with zeros every environment string `environ` points to: in
/// a process that never called setenv, those are the strings exec put on
/// the stack, which /proc/PID/environ shows.
pub fn wipe_environment() {
    // SAFETY: `environ` is a null-terminated array of pointers to
    // null-terminated strings, valid for the life of the process; this
    // process is single-threaded, and zeroing a string's bytes in place
    // leaves a valid (empty) string behind.
    unsafe {
        let env = *std::ptr::addr_of!(libc::environ);
        if env.is_null() {
            return;
        }
        let mut i = 0;
        while !(*env.add(i)).is_null() {
            let s = *env.add(i);
            std::ptr::write_bytes(s, 0, libc::strlen(s));
            i += 1;
        }
    }
}

/// Mark every descriptor from `first` up close-on-exec.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    // SAFETY: close_range with the CLOEXEC flag closes nothing.
    check(unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) })
        .map(drop)
}

/// The user namespace that owns the namespace `ns` (NS_GET_USERNS).
pub fn namespace_owner(ns: BorrowedFd) -> io::Result<OwnedFd> {
    const NS_GET_USERNS: libc::c_ulong = 0xb701; // _IO(0xb7, 0x1)
    // SAFETY: the ioctl takes no argument and returns a new descriptor,
    // which `fd` takes ownership of.
    fd(unsafe { libc::ioctl(ns.as_raw_fd(), NS_GET_USERNS) } as libc::c_long)
}

/// openat(2) of `path` under `dir` (None: the working directory).
pub fn openat(dir: Option<BorrowedFd>, path: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    use nix::fcntl::OFlag;
    let flags = OFlag::from_bits_retain(flags);
    let mode = nix::sys::stat::Mode::from_bits_retain(mode);
    match dir {
        Some(d) => nix::fcntl::openat(d, path, flags, mode),
        None => nix::fcntl::open(path, flags, mode),
    }
    .map_err(io::Error::from)
}

pub fn mkdirat(dir: BorrowedFd, name: &CStr, mode: u32) -> io::Result<()> {
    nix::sys::stat::mkdirat(dir, name, nix::sys::stat::Mode::from_bits_retain(mode))
        .map_err(io::Error::from)
}

pub fn symlinkat(target: &CStr, dir: BorrowedFd, name: &CStr) -> io::Result<()> {
    nix::unistd::symlinkat(target, dir, name).map_err(io::Error::from)
}

pub fn readlinkat(dir: Option<BorrowedFd>, path: &CStr) -> io::Result<Vec<u8>> {
    use std::os::unix::ffi::OsStringExt;
    match dir {
        Some(d) => nix::fcntl::readlinkat(d, path),
        None => nix::fcntl::readlink(path),
    }
    .map(|s| s.into_vec())
    .map_err(io::Error::from)
}

/// Whether descriptor `fd` (which may be closed) is a terminal.
pub fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty takes a descriptor number and touches no memory of
    // ours; a closed one gives 0 (EBADF).
    unsafe { libc::isatty(fd) == 1 }
}

/// prctl with integer arguments.
pub fn prctl(op: i32, a: u64, b: u64) -> io::Result<i32> {
    // SAFETY: the prctl operations the executor uses take integer
    // arguments only; none is read as a pointer.
    let r = unsafe { libc::prctl(op, a as libc::c_ulong, b as libc::c_ulong, 0u64, 0u64) };
    check(r as libc::c_long).map(|r| r as i32)
}

pub fn setdomainname(name: &[u8]) -> io::Result<()> {
    // SAFETY: the kernel reads exactly `name.len()` bytes from `name`.
    check(unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } as libc::c_long)
        .map(drop)
}

/// setrlimit with soft and hard limit `value`.
pub fn setrlimit(resource: u32, value: u64) -> io::Result<()> {
    let r = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: `r` is a valid rlimit the kernel only reads.
    check(unsafe { libc::setrlimit(resource as libc::__rlimit_resource_t, &r) } as libc::c_long)
        .map(drop)
}

/// Set the soft RLIMIT_NOFILE to `soft` (None: the hard limit), never
/// above the hard one; the soft limit it had.
pub fn nofile_soft(soft: Option<u64>) -> io::Result<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid rlimit the kernel fills.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } as libc::c_long)?;
    let was = r.rlim_cur;
    r.rlim_cur = soft.unwrap_or(r.rlim_max).min(r.rlim_max);
    // SAFETY: as above; the kernel only reads it.
    check(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } as libc::c_long)?;
    Ok(was)
}

/// execve(2); returns only on failure.
pub fn execve(path: &CStr, argv: &[std::ffi::CString], envp: &[std::ffi::CString]) -> io::Error {
    let mut argp: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argp.push(std::ptr::null());
    let mut envpp: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envpp.push(std::ptr::null());
    // SAFETY: both arrays are null-terminated and point to C strings that
    // outlive the call (borrowed from `argv` and `envp`).
    unsafe { libc::execve(path.as_ptr(), argp.as_ptr(), envpp.as_ptr()) };
    io::Error::last_os_error()
}

/// Load a seccomp filter on this thread (no_new_privs must be set, or
/// CAP_SYS_ADMIN held).
pub fn load_seccomp(program: &[libc::sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        len: u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points to `len` instructions that outlive the call;
    // the kernel copies them.
    check(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0u32,
            &prog as *const libc::sock_fprog,
        )
    })
    .map(drop)
}

/// Load a seccomp filter whose SECCOMP_RET_USER_NOTIF verdicts go to the
/// listener returned (close-on-exec, as the kernel makes it).
pub fn load_seccomp_listener(program: &[libc::sock_filter]) -> io::Result<OwnedFd> {
    const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 1 << 3;
    // Once the launcher has read a refusal, only a fatal signal ends the
    // wait: a handled one would make the call fail with EINTR, which an
    // untraced refusal never does (Linux 5.19; without it on older ones).
    const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;
    let prog = libc::sock_fprog {
        len: u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?,
        filter: program.as_ptr().cast_mut(),
    };
    let load = |flags: u32| {
        // SAFETY: as for load_seccomp; the call returns a new descriptor.
        check(unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                flags,
                &prog as *const libc::sock_fprog,
            )
        })
    };
    let fd = match load(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => load(SECCOMP_FILTER_FLAG_NEW_LISTENER)?,
        other => other?,
    };
    // SAFETY: the kernel just gave us this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// sendmsg(2) of `fd` over `channel` (SCM_RIGHTS), made as a raw system
/// call so that its unused arguments 3 to 5 carry `secret`: the filter
/// lets this one call through by them (seccomp.rs, Handover).
pub fn send_listener(channel: BorrowedFd, fd: BorrowedFd, secret: [u32; 3]) -> io::Result<()> {
    let mut data = *b"listener";
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let fd_len = size_of::<RawFd>() as u32;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(fd_len) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: msghdr is plain data; every field used is set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: the control buffer holds one header and its descriptor, as
    // CMSG_SPACE sized it; CMSG_FIRSTHDR points into it.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(fd_len) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd.as_raw_fd());
    }
    // SAFETY: `msg` and what it points to outlive the call; the kernel
    // reads them and ignores arguments 3 to 5.
    check(unsafe {
        libc::syscall(
            libc::SYS_sendmsg,
            channel.as_raw_fd(),
            &msg as *const libc::msghdr,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            secret[0] as libc::c_long,
            secret[1] as libc::c_long,
            secret[2] as libc::c_long,
        )
    })
    .map(drop)
}

/// fork(2): the copy runs `body` and exits with what it returns (without
/// the parent's destructors); returns the copy's pid.
pub fn fork_running(body: &mut dyn FnMut() -> i32) -> io::Result<libc::pid_t> {
    // SAFETY: the executor is single-threaded when it forks, and the copy
    // never returns into the caller's frames: it runs `body` and _exits.
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        nix::unistd::ForkResult::Child => {
            let code = body();
            // SAFETY: leaving the copy without the parent's destructors,
            // which belong to the parent's resources.
            unsafe { libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { child } => Ok(child.as_raw()),
    }
}

/// unshare(CLONE_NEWUSER) while a helper forked beforehand, still outside
/// and holding the capabilities this process loses, runs `outside` once
/// the new namespace exists (it writes its id maps: a map of more than the
/// writer's own id needs CAP_SETUID over the parent namespace when the
/// file is opened). `outside` returns 0, or the errno of what failed,
/// which the helper exits with.
pub fn unshare_user_with_helper(outside: &dyn Fn() -> i32) -> io::Result<()> {
    use nix::unistd::read;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let mut helper = || {
        let mut b = [0u8; 1];
        match read(&r, &mut b) {
            Ok(1) => outside().clamp(0, 255),
            _ => libc::ECHILD,
        }
    };
    let child = nix::unistd::Pid::from_raw(fork_running(&mut helper)?);
    let unshared = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER);
    // The helper is waited for whatever happens: closing the pipe without
    // a byte tells it to leave without writing.
    let told = match unshared {
        Ok(()) => nix::unistd::write(&w, b"g").map(drop),
        Err(_) => Ok(()),
    };
    drop(w);
    let status = nix::sys::wait::waitpid(child, None)?;
    unshared?;
    told?;
    match status {
        nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
        nix::sys::wait::WaitStatus::Exited(_, code) => Err(io::Error::from_raw_os_error(code)),
        _ => Err(io::Error::from_raw_os_error(libc::ECHILD)),
    }
}

// ---------------------------------------------------------------------
// The helpers' calls (pasta, the reaper, the D-Bus proxy, netlink, PID 1's
// memory): added here so that no mechanism file needs an unsafe block.

/// A descriptor for process `pid` (pidfd_open): it names that process
/// only, never one that reuses its number later.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open reads no memory of ours; it returns a new
    // descriptor (or -1), which `fd` checks and takes ownership of.
    fd(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })
}

/// Send `sig` to the process `pidfd` names (pidfd_send_signal).
pub fn pidfd_send_signal(pidfd: BorrowedFd, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: the descriptor is borrowed, so open for the call; a null
    // siginfo asks the kernel to fill it in as kill(2) would, and nothing
    // else points into our memory.
    check(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })
    .map(drop)
}

/// Fill `buf` from the kernel's random source (getrandom, blocking until
/// it is seeded).
pub fn getrandom(buf: &mut [u8]) -> io::Result<()> {
    // SAFETY: the kernel writes at most `buf.len()` bytes at `buf`, a
    // slice we hold mutably for the call.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n == buf.len() as isize {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The index of interface `name` in the current network namespace.
pub fn if_nametoindex(name: &CStr) -> io::Result<u32> {
    // SAFETY: `name` is a NUL-terminated string that outlives the call;
    // if_nametoindex only reads it.
    match unsafe { libc::if_nametoindex(name.as_ptr()) } {
        0 => Err(io::Error::from_raw_os_error(libc::ENODEV)),
        i => Ok(i),
    }
}

/// Every interface of the current network namespace: (index, name).
pub fn if_nameindex() -> Vec<(u32, String)> {
    // SAFETY: if_nameindex returns null or an array that ends with an
    // entry of index 0, every other entry holding a NUL-terminated name;
    // we read up to that end only, copy the names out, and free the array
    // once, after the last read.
    unsafe {
        let list = libc::if_nameindex();
        if list.is_null() {
            return vec![];
        }
        let mut out = vec![];
        let mut p = list;
        while (*p).if_index != 0 {
            let name = CStr::from_ptr((*p).if_name).to_string_lossy().into_owned();
            out.push(((*p).if_index, name));
            p = p.add(1);
        }
        libc::if_freenameindex(list);
        out
    }
}

/// Give the heap's free memory back to the system (glibc's malloc_trim).
pub fn malloc_trim() {
    // SAFETY: malloc_trim only releases pages the allocator holds free;
    // no allocation that is live moves or changes.
    unsafe { libc::malloc_trim(0) };
}

/// Set `sigs` to be ignored (SIG_IGN).
pub fn ignore_signals(sigs: &[libc::c_int]) {
    for &sig in sigs {
        // SAFETY: SIG_IGN installs no handler, so no code of ours can run
        // at an arbitrary point; the disposition is all that changes.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
}

/// Restore `sig`'s default action (SIG_DFL).
pub fn default_signal(sig: libc::c_int) {
    // SAFETY: SIG_DFL installs no handler of ours; the kernel's default
    // action is all that changes.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
}

/// Keep only `first` as descriptor 0 and `second` (if any) as descriptor
/// 1, closing every other descriptor of the process, and own them: for a
/// forked helper (the reaper) that is to hold nothing else. Whatever else
/// this process owned as a descriptor is closed: the caller must not use
/// any other descriptor afterwards (it never returns to code that does).
pub fn keep_only(
    first: OwnedFd,
    second: Option<BorrowedFd>,
) -> io::Result<(std::fs::File, Option<std::fs::File>)> {
    // SAFETY: dup2 and close take numbers, not memory. Descriptors 0 and
    // 1 are replaced (atomically, by dup2) with `first` and `second`; the
    // original `first` is forgotten rather than closed, since its number
    // may be 0 or 1 itself, and close_range closes it otherwise.
    unsafe {
        if libc::dup2(first.as_raw_fd(), 0) < 0 {
            return Err(io::Error::last_os_error());
        }
        match second {
            Some(fd) => {
                if libc::dup2(fd.as_raw_fd(), 1) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            None => {
                libc::close(1);
            }
        }
    }
    let from = if second.is_some() { 2 } else { 1 };
    std::mem::forget(first);
    // Best effort: a helper holding a stray descriptor still works.
    let _ = close_from(from);
    // SAFETY: descriptors 0 and (with `second`) 1 were just made by dup2
    // above, and no other owner of those numbers can remain: whatever
    // owned them before had its descriptor replaced, so it is ours alone.
    let input = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(0) });
    // SAFETY: as above, for descriptor 1.
    let output = second.map(|_| std::fs::File::from(unsafe { OwnedFd::from_raw_fd(1) }));
    Ok((input, output))
}

/// End this process now with `code` (_exit): no destructors, no atexit
/// hooks, no stdio flush; for a forked copy (PID 1, the reaper) whose
/// destructors belong to the launcher it was copied from.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit touches no memory of ours and never returns; skipping
    // destructors is safe Rust too (as mem::forget is).
    unsafe { libc::_exit(code) }
}

/// Run `f` in the child of `cmd` between fork and exec. `f` must only
/// make async-signal-safe calls (the child of a fork may hold a lock the
/// parent's other threads had; the launcher has none, but the rule holds).
pub fn before_exec(cmd: &mut std::process::Command, f: fn()) {
    use std::os::unix::process::CommandExt;
    // SAFETY: `f` is a plain function (no captured state to alias) that
    // the caller promises makes only async-signal-safe calls; the
    // launcher is single-threaded, so no lock can be held at the fork.
    unsafe {
        cmd.pre_exec(move || {
            f();
            Ok(())
        });
    }
}

/// Bring the interface `name` up (SIOCGIFFLAGS, then SIOCSIFFLAGS with
/// IFF_UP | IFF_RUNNING added), through a datagram socket made for it.
pub fn interface_up(name: &CStr) -> io::Result<()> {
    let bytes = name.to_bytes_with_nul();
    // SAFETY: ifreq is plain old data; all zeroes is a valid value of it.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    if bytes.len() > req.ifr_name.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: socket(2) reads no memory of ours; `fd` takes the result.
    let sock = fd(
        unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) }
            as libc::c_long,
    )?;
    // SAFETY: SIOCGIFFLAGS writes the flags into `req`, a valid ifreq
    // that outlives the call; `sock` is open.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } as libc::c_long)?;
    // SAFETY: the union member SIOCGIFFLAGS just filled is the flags.
    unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short };
    // SAFETY: SIOCSIFFLAGS only reads `req`, valid for the call.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } as libc::c_long)
        .map(drop)
}

/// The descriptor `--status-fd` names, taken over: it must be open for
/// writing, and not one of standard input, output or error (which stay
/// the app's). Made close-on-exec, so that only the launcher holds it.
pub fn status_descriptor(fd: RawFd) -> io::Result<std::fs::File> {
    use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
    if fd < 3 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: the descriptor is only borrowed for the checks below, while
    // this function runs; nothing else closes it meanwhile (one thread).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let mode = OFlag::from_bits_truncate(fcntl(borrowed, FcntlArg::F_GETFL)?) & OFlag::O_ACCMODE;
    if mode != OFlag::O_WRONLY && mode != OFlag::O_RDWR {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    fcntl(borrowed, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    // SAFETY: the caller gave this descriptor to sandbox for its status
    // stream (--status-fd): it is open (F_GETFL succeeded) and nothing
    // else in this process owns it, so the File may own and close it.
    Ok(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Fork a copy of this process as a sibling (CLONE_PARENT: its parent is
/// this process's parent), which runs `body` and _exits with what it
/// returns; its pid. For the helper of `sandbox enter`, forked by the
/// app's process so that PID 1, not the app, is its parent.
pub fn fork_beside(body: &mut dyn FnMut() -> i32) -> io::Result<libc::pid_t> {
    match clone_fork(libc::CLONE_PARENT as u64)? {
        0 => {
            let code = body();
            exit_now(code)
        }
        pid => Ok(pid),
    }
}

/// The (device, inode) of a namespace descriptor.
fn namespace_id(ns: BorrowedFd) -> io::Result<(u64, u64)> {
    let st = nix::sys::stat::fstat(ns)?;
    Ok((st.st_dev, st.st_ino))
}

/// Where a process is: its user, mount and pid namespaces, as (device,
/// inode), and whether it has no_new_privs (every sandbox's app has).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Place {
    pub user: (u64, u64),
    pub mnt: (u64, u64),
    pub pid: (u64, u64),
    pub no_new_privs: bool,
}

/// The namespace kinds of a [`Place`], with their /proc/PID/ns names and
/// PIDFD_GET_*_NAMESPACE ioctls (_IO(0xff, N)).
const PLACE_NAMESPACES: [(&str, libc::c_ulong); 3] =
    [("user", 0xff09), ("mnt", 0xff03), ("pid", 0xff05)];

/// Whether /proc/PID/status says no_new_privs.
pub fn no_new_privs_of(pid: &str) -> io::Result<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("NoNewPrivs:"))
        .map(|v| v.trim() == "1")
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODATA))
}

/// This process's place.
pub fn own_place() -> io::Result<Place> {
    let ns = |name: &str| -> io::Result<(u64, u64)> {
        let f = std::fs::File::open(format!("/proc/self/ns/{name}"))?;
        namespace_id(f.as_fd())
    };
    Ok(Place {
        user: ns("user")?,
        mnt: ns("mnt")?,
        pid: ns("pid")?,
        no_new_privs: no_new_privs_of("self")?,
    })
}

/// The place of the process at the other end of the connected Unix
/// socket `conn` (`pid`: SO_PEERCRED's). The process is named by the
/// kernel's pidfd of the peer (SO_PEERPIDFD), so a pid reused since the
/// connect cannot stand in for it: its namespaces come from that pidfd
/// (PIDFD_GET_*_NAMESPACE, which the kernel grants only to whoever may
/// read the process's /proc files), and its no_new_privs from
/// /proc/PID/status, read while the pidfd shows the process alive (then
/// the pid is still its). Before Linux 6.11, /proc/PID/ns of
/// SO_PEERCRED's pid, racing a reuse of the pid (docs/security-model.md).
pub fn peer_place(conn: BorrowedFd, pid: i32) -> io::Result<Place> {
    const SO_PEERPIDFD: libc::c_int = 77;
    let mut pidfd: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: SO_PEERPIDFD writes one int (a new descriptor) into `pidfd`,
    // whose size `len` gives.
    let got = check(unsafe {
        libc::getsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_PEERPIDFD,
            (&mut pidfd as *mut libc::c_int).cast(),
            &mut len,
        )
    } as libc::c_long);
    let by_path = |name: &str| -> io::Result<(u64, u64)> {
        let f = std::fs::File::open(format!("/proc/{pid}/ns/{name}"))?;
        namespace_id(f.as_fd())
    };
    let pidfd = match got {
        // SAFETY: the kernel just made this descriptor for us.
        Ok(_) => Some(unsafe { OwnedFd::from_raw_fd(pidfd) }),
        Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => None,
        Err(e) => return Err(e),
    };
    let mut ids = [(0, 0); 3];
    for (slot, (name, ioctl)) in ids.iter_mut().zip(PLACE_NAMESPACES) {
        *slot = match &pidfd {
            Some(p) => {
                // SAFETY: the ioctl takes no argument and returns a new
                // descriptor or -1.
                match check(unsafe { libc::ioctl(p.as_raw_fd(), ioctl, 0) } as libc::c_long) {
                    Ok(fd) => {
                        // SAFETY: a new descriptor, ours alone.
                        let ns = unsafe { OwnedFd::from_raw_fd(fd as i32) };
                        namespace_id(ns.as_fd())?
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ENOTTY) => by_path(name)?,
                    Err(e) => return Err(e),
                }
            }
            None => by_path(name)?,
        };
    }
    let no_new_privs = no_new_privs_of(&pid.to_string())?;
    // Still alive, so `pid` was still its when its status was read.
    if let Some(p) = &pidfd {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", p.as_raw_fd()))?;
        let alive = info
            .lines()
            .find_map(|l| l.strip_prefix("Pid:"))
            .is_some_and(|v| v.trim() == pid.to_string());
        if !alive {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
    }
    Ok(Place {
        user: ids[0],
        mnt: ids[1],
        pid: ids[2],
        no_new_privs,
    })
}

/// flock(fd, LOCK_EX): wait for the exclusive lock of the file `fd` is
/// open on.
pub fn lock_exclusive(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: flock on a descriptor we borrow; no memory is passed.
    check(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) } as libc::c_long).map(drop)
}

/// flock(fd, LOCK_UN): let the lock go, for every copy of the open file
/// (the child's too).
pub fn unlock(fd: BorrowedFd) -> io::Result<()> {
    // SAFETY: as above.
    check(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_UN) } as libc::c_long).map(drop)
}

/// The window size of the terminal `fd` (TIOCGWINSZ), if it is one.
pub fn window_size(fd: BorrowedFd) -> Option<libc::winsize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into `ws`.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (r == 0).then_some(ws)
}

/// Set the window size of the terminal `fd` (TIOCSWINSZ).
pub fn set_window_size(fd: BorrowedFd, ws: &libc::winsize) {
    // SAFETY: TIOCSWINSZ reads one winsize from `ws`.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, ws as *const libc::winsize) };
}

/// Make the terminal on descriptor 0 this process's controlling terminal
/// (TIOCSCTTY; a session leader without one), if it is a terminal.
pub fn take_controlling_terminal() {
    // SAFETY: TIOCSCTTY takes an int (0: do not steal it from another
    // session).
    unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) };
}

/// Descriptor 0, 1 or 2, borrowed for the life of the process.
pub fn standard(fd: i32) -> BorrowedFd<'static> {
    // SAFETY: `sandbox enter` keeps 0, 1 and 2 open while it runs.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// A descriptor that came with a message (SCM_RIGHTS), now ours.
pub fn received(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel installed it for us just now; no one else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// accept4(listener, SOCK_CLOEXEC | SOCK_NONBLOCK): a connection.
pub fn accept(listener: BorrowedFd) -> io::Result<OwnedFd> {
    use nix::sys::socket::{SockFlag, accept4};
    let fd = accept4(
        listener.as_raw_fd(),
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
    )?;
    // SAFETY: a new descriptor, ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Write `text` to standard error from a thread of its own, never
/// waiting for it: a terminal the app has stopped (tcflow TCOOFF, Ctrl-S)
/// blocks every write to it, and the launcher's duty (stopping the
/// sandbox at its timeout, forwarding signals) must not wait on one.
/// The write is raw, taking no lock another message would then wait on;
/// a write still blocked when the launcher exits ends with it.
pub fn say_detached(text: String) {
    let _ = std::thread::Builder::new()
        .name("say".into())
        .spawn(move || {
            let mut rest = text.as_bytes();
            while !rest.is_empty() {
                // SAFETY: writing bytes we own to descriptor 2.
                let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
                match n {
                    1.. => rest = &rest[n as usize..],
                    _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
                    _ => return,
                }
            }
        });
}

/// Put `bytes` in a new file named `name` in the folder `dir`: written to
/// a temporary name there (O_EXCL, O_NOFOLLOW), then renamed over `name`
/// (`replace`) or to it only if nothing is there (RENAME_NOREPLACE). A
/// link at `name` is replaced or refused, never followed: the folder may
/// be one a sandbox could write (a draft made beside the app's files).
pub fn write_new_in(dir: BorrowedFd, name: &CStr, bytes: &[u8], replace: bool) -> io::Result<()> {
    use std::io::Write;
    let tmp = CString::new(format!(
        ".{}.{}.tmp",
        name.to_string_lossy().replace('/', "_"),
        std::process::id()
    ))
    .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let fd = openat(
        Some(dir),
        &tmp,
        libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        0o644,
    )?;
    let mut f = std::fs::File::from(fd);
    let flags = if replace { 0 } else { libc::RENAME_NOREPLACE };
    let done = f.write_all(bytes).and_then(|()| {
        // SAFETY: both names are NUL-terminated and `dir` is open.
        let r = unsafe {
            libc::renameat2(
                dir.as_raw_fd(),
                tmp.as_ptr(),
                dir.as_raw_fd(),
                name.as_ptr(),
                flags,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    });
    if done.is_err() {
        // SAFETY: removing the temporary name made above.
        unsafe { libc::unlinkat(dir.as_raw_fd(), tmp.as_ptr(), 0) };
    }
    done
}
