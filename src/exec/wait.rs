//! Waiting on a descriptor until a moment: the one poll(2) loop step that
//! PID 1 and the launcher's supervision both take (a signalfd and the
//! next thing due), and the helpers' waits for one descriptor (the D-Bus
//! proxy's ready pipe, pasta's pidfd).

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signalfd::{SignalFd, siginfo};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

/// What a wait on a signalfd ended with.
pub enum Woke {
    /// A signal was read.
    Signal(siginfo),
    /// The moment passed with no signal.
    Due,
    /// Woken with nothing to read (EINTR, or the signal was taken).
    Nothing,
}

/// Milliseconds until `until` for poll(2), -1 for none. Rounded up:
/// rounded down, poll would wake just before the moment and spin with a
/// zero timeout until it passes.
pub fn timeout(until: Option<Instant>) -> PollTimeout {
    match until {
        None => PollTimeout::NONE,
        Some(t) => {
            let ms = t
                .saturating_duration_since(Instant::now())
                .as_micros()
                .div_ceil(1000)
                .min(i32::MAX as u128) as i32;
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    }
}

/// Whether `fd` became readable (or hung up) before `until` (None: wait
/// as long as it takes). An error of poll itself counts as not readable.
pub fn readable(fd: BorrowedFd, until: Option<Instant>) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    matches!(poll(&mut fds, timeout(until)), Ok(n) if n > 0)
}

/// Whether `fd` became readable within `within`.
pub fn readable_within(fd: BorrowedFd, within: Duration) -> bool {
    readable(fd, Some(Instant::now() + within))
}

/// Wait for the next signal on `signals`, or until `until` (None: no
/// moment, only a signal ends the wait).
pub fn next_signal(signals: &SignalFd, until: Option<Instant>) -> Woke {
    let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, timeout(until)) {
        Ok(0) => Woke::Due,
        _ => match signals.read_signal() {
            Ok(Some(info)) => Woke::Signal(info),
            _ => Woke::Nothing,
        },
    }
}

/// As [`next_signal`], watching `others` too: which of them became
/// readable (or hung up), in their order.
pub fn next_signal_watching(
    signals: &SignalFd,
    others: &[BorrowedFd],
    until: Option<Instant>,
) -> (Woke, Vec<bool>) {
    let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
    fds.extend(others.iter().map(|fd| PollFd::new(*fd, PollFlags::POLLIN)));
    let n = poll(&mut fds, timeout(until));
    let ready: Vec<bool> = fds[1..].iter().map(|f| f.any().unwrap_or(false)).collect();
    let signal_ready = fds[0].any().unwrap_or(false);
    let woke = match n {
        Ok(0) => Woke::Due,
        Ok(_) if !signal_ready => Woke::Nothing,
        _ => match signals.read_signal() {
            Ok(Some(info)) => Woke::Signal(info),
            _ => Woke::Nothing,
        },
    };
    (woke, ready)
}
