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
use super::denials::{Answer, Rules, listen, name_of, still_waits};
use crate::plan::learned::{Event, Record, Refusal};
use std::io;
use std::os::fd::OwnedFd;

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
        // Before anything else: a refusal let through here would be
        // openat2 with its mode unchecked.
        if rules.openat2_fails(nr) {
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
        if still_waits(listener, n)
            && let Ok(mut r) = record.lock()
        {
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
