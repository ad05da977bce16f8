//! `sandbox enter`: the messages, the launcher's side and the caller's.
//!
//! Three processes talk. The caller (`sandbox enter`, on the host)
//! connects to the launcher's socket beside the sandbox's state entry
//! (`ID.sock`, in the caller's 0700 state folder) and sends the command
//! with its standard input, output and error. The launcher checks who is
//! calling (the sandbox's owner or root, from the launcher's own user
//! namespace: never a process of a sandbox) and passes the request on, over
//! a socket pair made before the spawn, to the helper inside the sandbox
//! (helper.rs), a copy of the app's process forked just before its exec:
//! the helper starts the command and reports its end, which the launcher
//! passes back. Nothing the helper sends is trusted by the launcher: it
//! only ever reaches the caller it answers, as an exit code or a message.
//!
//! Each message is one SOCK_SEQPACKET packet: a kind byte, then its
//! fields; between launcher and helper the packet starts with the
//! request's number (u32, little-endian).

use super::sys;
use crate::diag::printable;
use nix::sys::socket::{
    self, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType,
    UnixAddr,
};
use std::ffi::OsString;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

/// The longest message: a command's arguments, NUL-terminated.
pub const MAX_MESSAGE: usize = 128 * 1024;

/// Processes entering at once; more are refused until one ends.
const MAX_CLIENTS: usize = 32;

/// One message of the protocol.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// Caller to helper: run this command (empty: the app's $SHELL, else
    /// /bin/sh) with the three descriptors that come with the message.
    Start(Vec<Vec<u8>>),
    /// Caller to helper: send this signal to the command's process group.
    Signal(i32),
    /// Launcher to helper: the caller is gone; kill the command.
    Hangup,
    /// Helper to caller: the command runs (its exec went through).
    Started,
    /// Helper to caller: the command ended, with this exit code (128+N
    /// for signal N).
    Exited(i32),
    /// To the caller: it could not be done; the exit code to leave with,
    /// the errno and what failed.
    Failed { code: u8, errno: i32, what: String },
}

fn int(b: &[u8]) -> Option<i32> {
    Some(i32::from_le_bytes(b.get(..4)?.try_into().ok()?))
}

impl Msg {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = vec![];
        match self {
            Msg::Start(argv) => {
                v.push(b'E');
                for a in argv {
                    v.extend_from_slice(a);
                    v.push(0);
                }
            }
            Msg::Signal(s) => {
                v.push(b'S');
                v.extend_from_slice(&s.to_le_bytes());
            }
            Msg::Hangup => v.push(b'H'),
            Msg::Started => v.push(b'R'),
            Msg::Exited(c) => {
                v.push(b'X');
                v.extend_from_slice(&c.to_le_bytes());
            }
            Msg::Failed { code, errno, what } => {
                v.push(b'F');
                v.push(*code);
                v.extend_from_slice(&errno.to_le_bytes());
                v.extend_from_slice(what.as_bytes());
            }
        }
        v
    }

    /// The message in `b`; None for anything else (never a panic).
    pub fn decode(b: &[u8]) -> Option<Msg> {
        let (&kind, rest) = b.split_first()?;
        Some(match kind {
            b'E' => {
                if !rest.is_empty() && rest.last() != Some(&0) {
                    return None;
                }
                let argv = match rest.len() {
                    0 => vec![],
                    n => rest[..n - 1]
                        .split(|&c| c == 0)
                        .map(<[u8]>::to_vec)
                        .collect(),
                };
                Msg::Start(argv)
            }
            b'S' if rest.len() == 4 => Msg::Signal(int(rest)?),
            b'H' if rest.is_empty() => Msg::Hangup,
            b'R' if rest.is_empty() => Msg::Started,
            b'X' if rest.len() == 4 => Msg::Exited(int(rest)?),
            b'F' if rest.len() >= 5 => Msg::Failed {
                code: rest[0],
                errno: int(&rest[1..])?,
                what: String::from_utf8_lossy(&rest[5..]).into_owned(),
            },
            _ => return None,
        })
    }
}

/// `msg` framed for the launcher-helper pair: request `id` first.
pub fn framed(id: u32, msg: &Msg) -> Vec<u8> {
    let mut v = id.to_le_bytes().to_vec();
    v.extend(msg.encode());
    v
}

/// The request number and message of a framed packet.
pub fn unframe(b: &[u8]) -> Option<(u32, Msg)> {
    let id = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
    Some((id, Msg::decode(&b[4..])?))
}

/// Send one packet with `fds` attached, without waiting (a full peer is
/// an error, not a stall) and without SIGPIPE.
pub fn send(sock: BorrowedFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let iov = [IoSlice::new(data)];
    let cmsg = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    socket::sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        cmsgs,
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map(drop)
    .map_err(io::Error::from)
}

/// One packet received: its bytes (empty at the end of the connection)
/// and the descriptors that came with it, close-on-exec.
pub fn receive(sock: BorrowedFd, wait: bool) -> io::Result<(Vec<u8>, Vec<OwnedFd>)> {
    let mut buf = vec![0u8; MAX_MESSAGE + 16];
    // Room for as many descriptors as a message can carry (SCM_MAX_FD):
    // a truncated control message would leave those installed unclosed.
    let mut space = nix::cmsg_space!([RawFd; 253]);
    let mut flags = MsgFlags::MSG_CMSG_CLOEXEC;
    if !wait {
        flags |= MsgFlags::MSG_DONTWAIT;
    }
    let (n, fds, truncated) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let m = socket::recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut space), flags)
            .map_err(io::Error::from)?;
        let mut fds = vec![];
        for c in m.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(v) = c {
                fds.extend(v.into_iter().map(sys::received));
            }
        }
        let truncated = m
            .flags
            .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC);
        (m.bytes, fds, truncated)
    };
    if truncated {
        return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    buf.truncate(n);
    Ok((buf, fds))
}

/// A connected pair of packet sockets, close-on-exec: the launcher's end
/// and the helper's.
pub fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    socket::socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(io::Error::from)
}

/// The socket's name beside entry `id`.
pub fn socket_name(id: &str) -> String {
    format!("{id}.sock")
}

/// A caller in the middle of a request.
struct Client {
    id: u32,
    conn: OwnedFd,
    /// Its Start went to the helper.
    sent: bool,
    /// It is refused: answered so once its request is read (closed with
    /// its request unread, the connection would be reset, and the
    /// answer lost).
    refused: Option<Msg>,
}

/// Who the launcher is, for telling who calls.
struct Me {
    uid: u32,
    euid: u32,
    /// Where its caller was: the launcher's place before it joined any
    /// namespace.
    place: sys::Place,
}

/// Ok when `peer` is where `home` is: the same user, mount and pid
/// namespaces, and no no_new_privs `home` has not (every sandbox's app
/// has it, so a process of any sandbox is told apart, even one without
/// namespaces of its own, as root's `user = false` sandbox is). `who`
/// names the peer in the message.
pub fn same_place(peer: &sys::Place, home: &sys::Place, who: &str) -> Result<(), String> {
    let differs = |what: &str| {
        Err(format!(
            "{who} is in another {what} (a sandbox's, it seems): only processes of the host, where the sandbox was started, may enter"
        ))
    };
    if peer.user != home.user {
        return differs("user namespace");
    }
    if peer.mnt != home.mnt {
        return differs("mount namespace");
    }
    if peer.pid != home.pid {
        return differs("pid namespace");
    }
    if peer.no_new_privs && !home.no_new_privs {
        return Err(format!(
            "{who} has no_new_privs, as every sandbox's app has: only processes of the host, where the sandbox was started, may enter"
        ));
    }
    Ok(())
}

/// The launcher's side: the listening socket, the helper's end, the
/// callers. Polled by the launcher's supervision (`fds`, then `ready`);
/// never blocks it.
pub struct Server {
    listener: OwnedFd,
    helper: Option<OwnedFd>,
    clients: Vec<Client>,
    next: u32,
    me: Me,
    /// The socket's file in the state folder, unlinked on drop.
    _file: super::state::Unlinked,
    /// A descriptor kept in reserve, given up to refuse a caller when
    /// the launcher has no other left.
    spare: Option<OwnedFd>,
}

/// Bind a packet socket at `name` in the folder `dir` (through
/// /proc/self/fd, so that the folder checked is the folder bound in).
fn listen_in(dir: BorrowedFd, name: &str) -> io::Result<OwnedFd> {
    let sock = socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    let _ = nix::unistd::unlinkat(dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir);
    let path = format!("/proc/self/fd/{}/{name}", dir.as_raw_fd());
    // The socket file 0600 whatever the caller's umask (the folder is
    // 0700 too).
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = socket::bind(sock.as_raw_fd(), &UnixAddr::new(path.as_str())?);
    nix::sys::stat::umask(old);
    bound?;
    socket::listen(&sock, socket::Backlog::new(8)?)?;
    Ok(sock)
}

impl Server {
    /// Listen at `ID.sock` in the state folder `dir` for callers of the
    /// sandbox whose helper is at the other end of `helper`.
    pub fn start(
        dir: BorrowedFd,
        id: &str,
        helper: OwnedFd,
        place: sys::Place,
    ) -> io::Result<Server> {
        let name = socket_name(id);
        let listener = listen_in(dir, &name)?;
        let me = Me {
            uid: nix::unistd::getuid().as_raw(),
            euid: nix::unistd::geteuid().as_raw(),
            place,
        };
        Ok(Server {
            listener,
            helper: Some(helper),
            clients: vec![],
            next: 1,
            me,
            _file: super::state::Unlinked::new(dir.try_clone_to_owned()?, name.into()),
            spare: std::fs::File::open("/dev/null").ok().map(OwnedFd::from),
        })
    }

    /// What to poll for reading, in the order `ready` takes.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        let mut v = vec![self.listener.as_fd()];
        v.extend(self.helper.as_ref().map(|h| h.as_fd()));
        v.extend(self.clients.iter().map(|c| c.conn.as_fd()));
        v
    }

    /// Handle what `fds` found readable (or hung up), in its order.
    pub fn ready(&mut self, readable: &[bool]) {
        let mut it = readable.iter().copied();
        let accept = it.next().unwrap_or(false);
        let helper = match self.helper {
            Some(_) => it.next().unwrap_or(false),
            None => false,
        };
        let clients: Vec<u32> = self
            .clients
            .iter()
            .zip(it)
            .filter(|(_, r)| *r)
            .map(|(c, _)| c.id)
            .collect();
        if helper {
            self.read_helper();
        }
        for id in clients {
            self.read_client(id);
        }
        if accept {
            self.accept();
        }
    }

    fn accept(&mut self) {
        // Everyone waiting, each answered or taken in.
        loop {
            let conn = match sys::accept(self.listener.as_fd()) {
                Ok(c) => c,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return,
                // Out of descriptors: the waiting caller is let go with
                // the spare one's room, or the listener, readable still,
                // would wake every poll at once.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                    self.spare = None;
                    if let Ok(c) = sys::accept(self.listener.as_fd()) {
                        drop(c);
                    }
                    self.spare = std::fs::File::open("/dev/null").ok().map(OwnedFd::from);
                    return;
                }
                Err(_) => return,
            };
            let failed = |errno, what: String| Msg::Failed {
                code: crate::exit::SETUP_FAILED,
                errno,
                what,
            };
            if self.clients.len() >= MAX_CLIENTS {
                // No room to wait for its request: read what is there.
                let _ = receive(conn.as_fd(), false);
                let why = format!("{MAX_CLIENTS} commands are entering already");
                let _ = send(conn.as_fd(), &failed(libc::EAGAIN, why).encode(), &[]);
                continue;
            }
            let refused = match self.authenticate(conn.as_fd()) {
                Err(why) => Some(failed(libc::EPERM, why)),
                Ok(()) if self.helper.is_none() => Some(failed(
                    libc::ESRCH,
                    "the sandbox's enter helper is gone (the app may end it)".into(),
                )),
                Ok(()) => None,
            };
            let id = self.next;
            self.next = self.next.wrapping_add(1).max(1);
            self.clients.push(Client {
                id,
                conn,
                sent: false,
                refused,
            });
        }
    }

    /// Ok for the sandbox's owner or root, calling from where the
    /// sandbox was started ([`same_place`]); a process inside any sandbox
    /// is refused, whatever uid it maps to.
    fn authenticate(&self, conn: BorrowedFd) -> Result<(), String> {
        let cred = socket::getsockopt(&conn, socket::sockopt::PeerCredentials)
            .map_err(|e| format!("the caller's credentials: {e}"))?;
        let uid = cred.uid();
        if uid != self.me.uid && uid != 0 {
            return Err(format!(
                "uid {uid} is neither the sandbox's owner ({}) nor root",
                self.me.uid
            ));
        }
        match sys::peer_place(conn, cred.pid()) {
            Ok(peer) => same_place(&peer, &self.me.place, "the caller"),
            // An unprivileged launcher may not read root's namespaces; and
            // no process of its sandboxes is uid 0 in its namespace (an
            // unprivileged user maps only its own ids): this is root.
            // Its no_new_privs anyone may read: no sandbox's app is
            // without it.
            Err(e)
                if uid == 0
                    && self.me.euid != 0
                    && matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) =>
            {
                match sys::no_new_privs_of(&cred.pid().to_string()) {
                    Ok(false) => Ok(()),
                    Ok(true) => Err("the caller has no_new_privs, as every sandbox's app has: only processes of the host, where the sandbox was started, may enter".into()),
                    Err(e) => Err(format!("the caller's status: {e}")),
                }
            }
            Err(e) => Err(format!("the caller's namespaces: {e}")),
        }
    }

    fn client_index(&self, id: u32) -> Option<usize> {
        self.clients.iter().position(|c| c.id == id)
    }

    /// Tell client `i` and let it go: what it sent and we have not read
    /// is read first (closed with it unread, the connection is reset and
    /// the answer lost).
    fn answer_and_drop(&mut self, i: usize, msg: &Msg) {
        let c = self.clients.remove(i);
        // Its command, if it runs, goes with it.
        if c.sent
            && let Some(h) = &self.helper
        {
            let _ = send(h.as_fd(), &framed(c.id, &Msg::Hangup), &[]);
        }
        for _ in 0..16 {
            match receive(c.conn.as_fd(), false) {
                Ok((b, _)) if !b.is_empty() => {}
                _ => break,
            }
        }
        let _ = send(c.conn.as_fd(), &msg.encode(), &[]);
    }

    fn read_client(&mut self, id: u32) {
        let Some(i) = self.client_index(id) else {
            return;
        };
        let got = receive(self.clients[i].conn.as_fd(), false);
        let (bytes, fds) = match got {
            Ok(m) => m,
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return,
            Err(_) => (vec![], vec![]),
        };
        let to_helper = |s: &Self, msg: &Msg, fds: &[RawFd]| -> io::Result<()> {
            match &s.helper {
                Some(h) => send(h.as_fd(), &framed(id, msg), fds),
                None => Err(io::Error::from_raw_os_error(libc::ESRCH)),
            }
        };
        if bytes.is_empty() {
            // The caller is gone: so goes its command.
            let c = self.clients.remove(i);
            if c.sent {
                let _ = to_helper(self, &Msg::Hangup, &[]);
            }
            return;
        }
        if let Some(why) = self.clients[i].refused.take() {
            drop(fds);
            self.answer_and_drop(i, &why);
            return;
        }
        match Msg::decode(&bytes) {
            Some(m @ Msg::Start(_)) if !self.clients[i].sent && fds.len() == 3 => {
                let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
                match to_helper(self, &m, &raw) {
                    Ok(()) => self.clients[i].sent = true,
                    Err(e) => self.answer_and_drop(
                        i,
                        &Msg::Failed {
                            code: crate::exit::SETUP_FAILED,
                            errno: e.raw_os_error().unwrap_or(libc::EIO),
                            what: "pass the command to the sandbox's enter helper".into(),
                        },
                    ),
                }
                // The caller's descriptors were for the helper, not for us.
                drop(fds);
            }
            Some(m @ Msg::Signal(_)) if self.clients[i].sent => {
                let _ = to_helper(self, &m, &[]);
            }
            _ => self.answer_and_drop(
                i,
                &Msg::Failed {
                    code: crate::exit::SETUP_FAILED,
                    errno: libc::EPROTO,
                    what: "a message sandbox enter does not send".into(),
                },
            ),
        }
    }

    fn read_helper(&mut self) {
        let Some(h) = &self.helper else { return };
        let got = receive(h.as_fd(), false);
        let bytes = match got {
            Ok((b, _fds)) => b,
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => return,
            Err(_) => vec![],
        };
        if bytes.is_empty() {
            // The helper is gone: every caller is told, none waits.
            self.helper = None;
            while !self.clients.is_empty() {
                self.answer_and_drop(
                    0,
                    &Msg::Failed {
                        code: crate::exit::SETUP_FAILED,
                        errno: libc::ESRCH,
                        what: "the sandbox ended, or its enter helper did, before the command"
                            .into(),
                    },
                );
            }
            return;
        }
        // Only answers, and only to the caller they name.
        let Some((id, msg)) = unframe(&bytes) else {
            return;
        };
        let Some(i) = self.client_index(id) else {
            return;
        };
        match msg {
            Msg::Started => {
                let _ = send(self.clients[i].conn.as_fd(), &msg.encode(), &[]);
            }
            Msg::Exited(_) | Msg::Failed { .. } => self.answer_and_drop(i, &msg),
            Msg::Start(_) | Msg::Signal(_) | Msg::Hangup => {}
        }
    }
}

/// What `sandbox enter` ends with, after the command ran (or not).
pub struct Outcome {
    pub code: u8,
    /// What went wrong, when it was the sandbox's side and not the
    /// command's exit.
    pub error: Option<String>,
}

/// `sandbox enter`: connect to the socket of entry `e` in the state
/// folder at `folder`, check that the launcher the entry names answers
/// there, from where this process is (a socket or entry planted by a
/// sandbox's app, whose folder a profile bound, is refused), run `argv` (empty: the app's shell) in the sandbox with this
/// process's standard descriptors, forward the usual signals to it, and
/// end with its exit code.
pub fn call(folder: &std::path::Path, e: &super::state::Entry, argv: &[OsString]) -> Outcome {
    let name = socket_name(&e.id);
    let name = name.as_str();
    let fail = |code: u8, error: String| Outcome {
        code,
        error: Some(error),
    };
    let setup = crate::exit::SETUP_FAILED;
    let request = Msg::Start(argv.iter().map(|a| a.as_bytes().to_vec()).collect()).encode();
    if request.len() > MAX_MESSAGE {
        return fail(
            setup,
            format!("the command is longer than {} KiB", MAX_MESSAGE / 1024),
        );
    }
    // An entry is written just before its socket is bound: a sandbox
    // that has only just started is given a moment.
    let mut tries = 0;
    let conn = loop {
        match connect(folder, name) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other,
        }
    };
    let conn = match conn {
        Ok(c) => c,
        Err(e) => {
            return fail(
                setup,
                format!("connect to {}/{name}: {e}", folder.display()),
            );
        }
    };
    if let Err(why) = is_the_launcher(conn.as_fd(), e) {
        return fail(setup, why);
    }
    // The command's standard streams: a pseudo-terminal or pipes this
    // process relays, never its own descriptors (relay.rs).
    let (mut relay, ends) = match super::relay::Relay::new() {
        Ok(r) => r,
        Err(e) => return fail(setup, format!("a terminal or pipes for the command: {e}")),
    };
    let fds: Vec<RawFd> = ends.iter().map(|f| f.as_raw_fd()).collect();
    // Signals from here on are the command's, read from a signalfd.
    let forwarded = super::process::forwarded_signals();
    let signals = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_BLOCK,
        Some(&forwarded),
        None,
    )
    .and_then(|()| {
        nix::sys::signalfd::SignalFd::with_flags(
            &forwarded,
            nix::sys::signalfd::SfdFlags::SFD_CLOEXEC,
        )
    });
    let signals = match signals {
        Ok(s) => s,
        Err(e) => return fail(setup, format!("signalfd: {e}")),
    };
    // The whole request in one packet: the launcher answers or drops it.
    let sent = {
        let iov = [IoSlice::new(&request)];
        socket::sendmsg::<()>(
            conn.as_raw_fd(),
            &iov,
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
    };
    // Theirs now: the command's end is EOF once it and its own are gone.
    drop(ends);
    if let Err(e) = sent {
        // Refused at once, the connection closed: the reason is waiting.
        if let Ok((b, _)) = receive(conn.as_fd(), false)
            && let Some(Msg::Failed { code, errno, what }) = Msg::decode(&b)
        {
            return fail(
                code,
                format!(
                    "{}: {}",
                    printable(&what),
                    io::Error::from_raw_os_error(errno)
                ),
            );
        }
        return fail(setup, format!("send the command to the sandbox: {e}"));
    }
    // The helper answers at once: a silent one was stopped (by the app).
    let mut started_by = Some(std::time::Instant::now() + std::time::Duration::from_secs(10));
    let mut stop_requests = 0;
    loop {
        use nix::poll::{PollFd, PollFlags, poll};
        let timeout = super::wait::timeout(started_by);
        let streams = relay.fds();
        let mut p = vec![
            PollFd::new(conn.as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
        ];
        p.extend(streams.iter().map(|(fd, ev)| PollFd::new(*fd, *ev)));
        match poll(&mut p, timeout) {
            Ok(0) => {
                return fail(
                    setup,
                    "the sandbox's enter helper did not answer within 10 s (stopped?)".into(),
                );
            }
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return fail(setup, format!("poll: {e}")),
        }
        let has = |i: usize| {
            p[i].revents().is_some_and(|r| {
                r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
            })
        };
        let ready: Vec<bool> = p[2..].iter().map(|f| f.any().unwrap_or(false)).collect();
        let conn_ready = has(0);
        let signal = has(1)
            .then(|| signals.read_signal().ok().flatten())
            .flatten();
        drop(p);
        drop(streams);
        relay.ready(&ready);
        if let Some(info) = signal {
            let sig = info.ssi_signo as i32;
            match sig {
                libc::SIGCHLD => {}
                // A pseudo-terminal's size is set, and the kernel signals
                // the command's foreground group itself.
                libc::SIGWINCH if relay.is_pty() => relay.resize(),
                _ => {
                    let _ = send(conn.as_fd(), &Msg::Signal(sig).encode(), &[]);
                    // A second request to stop is not left to the sandbox
                    // (its app may have stopped the helper): `sandbox
                    // enter` ends, and with it, its command.
                    if [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT].contains(&sig) {
                        stop_requests += 1;
                        if stop_requests >= 2 {
                            return fail(
                                128 + sig as u8,
                                format!("stopped by a second signal {sig}; the command is killed"),
                            );
                        }
                    }
                }
            }
        }
        if !conn_ready {
            continue;
        }
        let bytes = match receive(conn.as_fd(), false) {
            Ok((b, _)) => b,
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            Err(e) => return fail(setup, format!("the launcher's socket: {e}")),
        };
        match Msg::decode(&bytes) {
            Some(Msg::Started) => started_by = None,
            Some(Msg::Exited(code)) => {
                relay.drain();
                return Outcome {
                    code: code.clamp(0, 255) as u8,
                    error: None,
                };
            }
            Some(Msg::Failed { code, errno, what }) => {
                let e = io::Error::from_raw_os_error(errno);
                return fail(code, format!("{}: {e}", printable(&what)));
            }
            _ if bytes.is_empty() => {
                return fail(setup, "the sandbox ended before the command did".into());
            }
            _ => {
                return fail(
                    setup,
                    "the launcher sent something sandbox does not know".into(),
                );
            }
        }
    }
}

/// Ok when the process listening at `conn` is the launcher entry `e`
/// names, running with the start time it recorded, as its user, from
/// where this process is.
fn is_the_launcher(conn: BorrowedFd, e: &super::state::Entry) -> Result<(), String> {
    let cred = socket::getsockopt(&conn, socket::sockopt::PeerCredentials)
        .map_err(|err| format!("the launcher's credentials: {err}"))?;
    if cred.pid() != e.launcher
        || cred.uid() != e.uid
        || !super::state::runs(e.launcher, e.launcher_start)
    {
        return Err(format!(
            "the socket of sandbox {} is not its launcher's (pid {} uid {} listens, not the launcher {} of uid {}): it was replaced, by a sandbox's app whose profile binds the state folder, it seems",
            e.id,
            cred.pid(),
            cred.uid(),
            e.launcher,
            e.uid
        ));
    }
    let home = sys::own_place().map_err(|err| format!("this process's namespaces: {err}"))?;
    match sys::peer_place(conn, cred.pid()) {
        Ok(peer) => same_place(&peer, &home, "the sandbox's launcher"),
        // A launcher is non-dumpable: only root reads its namespaces. Its
        // no_new_privs anyone may read, and no sandbox's app can be
        // without it (a process may set it, never clear it).
        Err(err) if matches!(err.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
            match sys::no_new_privs_of(&cred.pid().to_string()) {
                Ok(false) => Ok(()),
                Ok(true) if home.no_new_privs => Ok(()),
                Ok(true) => Err(format!(
                    "the process listening for sandbox {} has no_new_privs, as a sandbox's app has: not its launcher",
                    e.id
                )),
                Err(err) => Err(format!("the launcher's status: {err}")),
            }
        }
        Err(err) => Err(format!("the launcher's namespaces: {err}")),
    }
}

/// Connect to `name` in `folder`, through the folder's descriptor (a
/// path longer than a socket address holds still works).
fn connect(folder: &std::path::Path, name: &str) -> io::Result<OwnedFd> {
    let dir = nix::fcntl::open(
        folder,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let sock = socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let path = format!("/proc/self/fd/{}/{name}", dir.as_raw_fd());
    socket::connect(sock.as_raw_fd(), &UnixAddr::new(path.as_str())?)?;
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn messages_round_trip() {
        for m in [
            Msg::Start(vec![]),
            Msg::Start(vec![b"sh".to_vec(), b"-c".to_vec(), vec![0xff, b' ']]),
            Msg::Start(vec![vec![]]),
            Msg::Signal(15),
            Msg::Hangup,
            Msg::Started,
            Msg::Exited(-1),
            Msg::Failed {
                code: 127,
                errno: libc::ENOENT,
                what: "execvp \"x\"".into(),
            },
        ] {
            assert_eq!(Msg::decode(&m.encode()), Some(m.clone()), "{m:?}");
            assert_eq!(unframe(&framed(7, &m)), Some((7, m)));
        }
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Msg::decode(&b);
            let _ = unframe(&b);
        }

        #[test]
        fn arguments_without_nul_round_trip(argv in proptest::collection::vec(
            proptest::collection::vec(1u8..=255, 0..8), 0..6)) {
            let m = Msg::Start(argv);
            prop_assert_eq!(Msg::decode(&m.encode()), Some(m));
        }
    }
}
