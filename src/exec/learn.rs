//! The launcher's side of `sandbox learn`. The app's filter sends every
//! call that opens, runs, changes, connects to or binds a path or an
//! address, and every call the profile's policy refuses, to a listener
//! the launcher holds (sent to it as for `--trace-denials`, denials.rs:
//! the app never holds it). A thread of the launcher, outside the
//! sandbox, reads what each call names from the caller's memory and /proc
//! entries (as the supervisor of its own descendant, in user namespaces
//! it owns), records it, and lets the call go on
//! (SECCOMP_USER_NOTIF_FLAG_CONTINUE): the kernel then does what it would
//! have done without the filter. A refusal a draft could allow
//! (`seccomp.allow`, new namespaces) goes on too, and is recorded; one no
//! draft grants (setuid bits, keystrokes into the terminal, an unsafe
//! personality) gets the profile's errno, as without learning.
//!
//! What is read is what the caller named before the call ran, not what
//! the kernel resolved: another thread of the app could change it
//! meanwhile. That only makes the draft wrong, which its check and its
//! second run show; nothing is granted by what is read here.

use super::calls::{Task, form_of};
use super::denials::{Answer, NOTIF_ID_VALID, Rules, listen, name_of};
use crate::plan::learned::{Event, Record, Refusal};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// At most this many different things, and this many bytes of paths,
/// are recorded (a draft of more would be read by no one, and an app
/// naming ever new paths must not grow the launcher without end); the
/// rest is dropped.
const MOST: usize = 50_000;
const MOST_BYTES: usize = 16 << 20;

/// Record and answer every watched call and refusal until the sandbox
/// ends.
pub fn watch(channel: OwnedFd, rules: Rules, record: Record) -> io::Result<()> {
    let mut bytes = 0;
    listen("learn", channel, move |listener, n| {
        let nr = n.data.nr as u32;
        let args = n.data.args;
        // openat2's mode is in memory another thread could change after
        // it was read: while the bits are refused, it fails as in the
        // filter (ENOSYS), and libc falls back to openat, which is watched.
        if Some(nr) == crate::syscalls::number("openat2") && !rules.setuid_bits && !rules.openat2 {
            return Answer::Fail(libc::ENOSYS);
        }
        let refused = rules.verdict(nr, &args).map(|r| r.refusal(nr));
        let mut events = match form_of(nr) {
            Some(form) if refused != Some(Refusal::Never) => {
                Task::learning(n.pid).uses(form, &args)
            }
            _ => vec![],
        };
        if let Some(what) = refused {
            events.push(Event::Refused {
                call: name_of(nr).to_string(),
                rule: rules.why(nr, &args),
                what,
            });
        }
        // What was read is the caller's only if it still waits (a thread
        // id reused meanwhile would be another process's).
        // SAFETY: `n.id` is a u64 the kernel reads.
        let valid = unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_ID_VALID, &n.id) } == 0;
        if valid && let Ok(mut r) = record.lock() {
            for e in events {
                let size = e.size();
                if r.len() < MOST && bytes + size <= MOST_BYTES && r.insert(e) {
                    bytes += size;
                }
            }
        }
        match refused {
            Some(Refusal::Never) => Answer::Fail(rules.errno),
            _ => Answer::Continue,
        }
    })
}
