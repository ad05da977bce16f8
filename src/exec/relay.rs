//! The standard streams of `sandbox enter`, relayed. The caller's own
//! descriptors never go into the sandbox: the app, the same uid in the
//! same Landlock domain as the entered command, could take them from it
//! (pidfd_getfd) and keep the caller's terminal after `sandbox enter` has
//! returned: read what is typed at the shell, change its settings. The
//! command gets instead a pseudo-terminal (when the caller's input and
//! output are a terminal, as `docker exec -t` and `ssh -t` give) or three
//! pipes, whose other ends this process holds and copies to and from its
//! own; when the command has ended they are closed, and whatever the app
//! kept of them leads nowhere.

use nix::poll::PollFlags;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// How much is read at a time.
const CHUNK: usize = 64 * 1024;

pub struct Relay {
    /// The pseudo-terminal's master, or the pipe into the command's input.
    input: Option<OwnedFd>,
    /// What the command writes: the master again, or the pipes of its
    /// output and error, each with where it goes (1 or 2).
    outputs: Vec<(OwnedFd, i32)>,
    /// Read from our standard input, not yet written to `input`.
    pending: Vec<u8>,
    /// Our standard input has ended (or is not to be read).
    stdin_done: bool,
    /// The caller's terminal settings, restored when dropped (raw mode
    /// while a pseudo-terminal is relayed).
    saved: Option<nix::sys::termios::Termios>,
    pty: bool,
}

fn nonblocking(fd: &OwnedFd) -> io::Result<()> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = OFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

fn stdio(fd: i32) -> BorrowedFd<'static> {
    super::sys::standard(fd)
}

/// Write all of `data` to `fd` (waiting while it is full); false when it
/// no longer takes any.
fn write_all(fd: BorrowedFd, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => {
                let mut p = [nix::poll::PollFd::new(fd, PollFlags::POLLOUT)];
                let _ = nix::poll::poll(&mut p, nix::poll::PollTimeout::NONE);
            }
            Err(_) => return false,
        }
    }
    true
}

fn is_open(fd: i32) -> bool {
    nix::fcntl::fcntl(stdio(fd), nix::fcntl::FcntlArg::F_GETFD).is_ok()
}

impl Relay {
    /// The relay, and the command's three descriptors (0, 1, 2).
    pub fn new() -> io::Result<(Relay, [OwnedFd; 3])> {
        let terminal = |fd| is_open(fd) && nix::unistd::isatty(stdio(fd)).unwrap_or(false);
        if terminal(0) && terminal(1) {
            let size = super::sys::window_size(stdio(1));
            let pty = nix::pty::openpty(size.as_ref(), None)?;
            let master = pty.master;
            nonblocking(&master)?;
            let out = master.try_clone()?;
            let slave = pty.slave;
            let ends = [slave.try_clone()?, slave.try_clone()?, slave];
            // Raw last: nothing after it can fail and leave it so.
            let saved = nix::sys::termios::tcgetattr(stdio(0))?;
            let mut raw = saved.clone();
            nix::sys::termios::cfmakeraw(&mut raw);
            nix::sys::termios::tcsetattr(stdio(0), nix::sys::termios::SetArg::TCSANOW, &raw)?;
            return Ok((
                Relay {
                    input: Some(master),
                    outputs: vec![(out, 1)],
                    pending: vec![],
                    stdin_done: false,
                    saved: Some(saved),
                    pty: true,
                },
                ends,
            ));
        }
        let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC);
        let (in_r, in_w) = pipe()?;
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        nonblocking(&in_w)?;
        nonblocking(&out_r)?;
        nonblocking(&err_r)?;
        Ok((
            Relay {
                input: Some(in_w),
                outputs: vec![(out_r, 1), (err_r, 2)],
                pending: vec![],
                stdin_done: !is_open(0),
                saved: None,
                pty: false,
            },
            [in_r, out_w, err_w],
        ))
    }

    /// A pseudo-terminal is relayed (the terminal's keys reach the command
    /// through it, as bytes).
    pub fn is_pty(&self) -> bool {
        self.pty
    }

    /// What to poll, in the order `ready` takes.
    pub fn fds(&self) -> Vec<(BorrowedFd<'_>, PollFlags)> {
        let mut v = vec![];
        if !self.stdin_done && self.pending.is_empty() && self.input.is_some() {
            v.push((stdio(0), PollFlags::POLLIN));
        }
        if let Some(i) = &self.input
            && !self.pending.is_empty()
        {
            v.push((i.as_fd(), PollFlags::POLLOUT));
        }
        for (o, _) in &self.outputs {
            v.push((o.as_fd(), PollFlags::POLLIN));
        }
        v
    }

    /// Copy what `fds` found ready, in its order.
    pub fn ready(&mut self, ready: &[bool]) {
        let mut it = ready.iter().copied();
        let polled_stdin = !self.stdin_done && self.pending.is_empty() && self.input.is_some();
        if polled_stdin && it.next().unwrap_or(false) {
            let mut buf = vec![0u8; CHUNK];
            match nix::unistd::read(stdio(0), &mut buf) {
                Ok(0) | Err(_) => self.end_input(),
                Ok(n) => {
                    buf.truncate(n);
                    self.pending = buf;
                }
            }
        }
        let polled_input = self.input.is_some() && !self.pending.is_empty() && !polled_stdin;
        if polled_input && it.next().unwrap_or(false) {
            self.flush_input();
        } else if polled_stdin && !self.pending.is_empty() {
            // Just read: try at once.
            self.flush_input();
        }
        let mut ended = vec![];
        for (i, r) in it.enumerate() {
            if r && !self.copy_out(i) {
                ended.push(i);
            }
        }
        for i in ended.into_iter().rev() {
            self.outputs.remove(i);
        }
    }

    fn end_input(&mut self) {
        self.stdin_done = true;
        // A pipe's end tells the command its input ended; a terminal's
        // end-of-file is a key the caller types.
        if !self.pty {
            self.input = None;
        }
    }

    fn flush_input(&mut self) {
        let Some(i) = &self.input else { return };
        match nix::unistd::write(i, &self.pending) {
            Ok(n) => {
                self.pending.drain(..n);
                if self.pending.is_empty() && self.stdin_done && !self.pty {
                    self.input = None;
                }
            }
            Err(nix::errno::Errno::EAGAIN) => {}
            // The command no longer reads: what it was sent is dropped.
            Err(_) => {
                self.pending.clear();
                self.end_input();
                self.input = None;
            }
        }
    }

    /// Copy what output `i` has; false once it has ended.
    fn copy_out(&mut self, i: usize) -> bool {
        let (fd, to) = &self.outputs[i];
        let mut buf = vec![0u8; CHUNK];
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => false,
            Ok(n) => write_all(stdio(*to), &buf[..n]),
            Err(nix::errno::Errno::EAGAIN) => true,
            // EIO: the terminal's every other end is closed.
            Err(_) => false,
        }
    }

    /// After the command's end: what is left to read, without waiting
    /// (the app may hold a copy of an output open for ever).
    pub fn drain(&mut self) {
        for _ in 0..1024 {
            if self.outputs.is_empty() {
                return;
            }
            let mut more = false;
            let mut ended = vec![];
            for i in 0..self.outputs.len() {
                let (fd, _) = &self.outputs[i];
                let mut p = [nix::poll::PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                let ready =
                    nix::poll::poll(&mut p, nix::poll::PollTimeout::ZERO).is_ok_and(|n| n > 0);
                if !ready {
                    continue;
                }
                more = true;
                if !self.copy_out(i) {
                    ended.push(i);
                }
            }
            for i in ended.into_iter().rev() {
                self.outputs.remove(i);
            }
            if !more {
                return;
            }
        }
    }

    /// The caller's terminal changed size: so does the command's.
    pub fn resize(&self) {
        if let (true, Some(i)) = (self.pty, &self.input)
            && let Some(size) = super::sys::window_size(stdio(1))
        {
            super::sys::set_window_size(i.as_fd(), &size);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ =
                nix::sys::termios::tcsetattr(stdio(0), nix::sys::termios::SetArg::TCSANOW, saved);
        }
    }
}
