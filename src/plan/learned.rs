//! What `sandbox learn`'s launcher records while the app runs (the
//! executor fills it, learn/ reads it): plain data, as the plan is.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the launcher records while the app runs; ordered and without
/// repeats, so that a draft does not depend on the order of threads.
pub type Record = Arc<Mutex<BTreeSet<Event>>>;

/// One thing the app did that a profile must allow.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    /// A path, absolute and without `.` or `..`, as the app named it.
    Path { path: PathBuf, how: Use },
    /// A connection the app made.
    Connect(Address),
    /// An address the app bound (a server's).
    Bind(Address),
    /// A call the profile's seccomp policy refuses.
    Refused {
        call: String,
        /// The rule that refuses it, in words (denials.rs's).
        rule: String,
        what: Refusal,
    },
}

impl Event {
    /// About what it takes in memory, for the launcher's bound.
    pub fn size(&self) -> usize {
        64 + match self {
            Event::Path { path, .. } => path.as_os_str().len(),
            Event::Connect(a) | Event::Bind(a) => match a {
                Address::Unix(p) => p.as_os_str().len(),
                Address::Abstract(n) => n.len(),
                Address::Ip { .. } => 0,
            },
            Event::Refused { call, rule, .. } => call.len() + rule.len(),
        }
    }
}

/// How a path was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Use {
    /// A file read, or a folder looked up.
    Read,
    /// A folder's entries listed (opened as a folder).
    List,
    /// Run (execve).
    Exec,
    /// A file there changed in place (written, truncated, its mode,
    /// owner or times).
    Write,
    /// An entry made or removed there (a new file, a folder, a rename, a
    /// link, a socket): its folder must be writable.
    Entry,
    /// Opened, and not there in the app's view (the open fails): nothing
    /// to grant, unless it is a secret the learning run hid.
    Missing,
}

/// An address of a socket.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    /// A unix socket's path (absolute, as for [`Event::Path`]).
    Unix(PathBuf),
    /// An abstract unix socket's name (without its leading NUL).
    Abstract(Vec<u8>),
    /// An IP address and port; `stream`: TCP (else UDP or another).
    Ip { ip: IpAddr, port: u16, stream: bool },
}

/// What a refused call needs of a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// `seccomp.allow` can name it: the learning run let it through.
    Allowable,
    /// New namespaces (`user.nested_userns`): let through.
    Namespaces,
    /// Never granted by a draft (setuid bits, keystrokes into the
    /// terminal, an unsafe personality): refused in the learning run too.
    Never,
}

/// Lexically absolute `path` (bytes), joined to `base` when relative,
/// without `.`, `..` or repeated slashes. `..` is taken lexically: where
/// a link stands before it the kernel may have gone elsewhere (the draft
/// then names a place the app did not use, which its check shows).
pub fn absolute(base: &[u8], path: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let mut parts: Vec<&[u8]> = vec![];
    let joined: Vec<&[u8]> = if path.first() == Some(&b'/') {
        path.split(|b| *b == b'/').collect()
    } else {
        base.split(|b| *b == b'/')
            .chain(path.split(|b| *b == b'/'))
            .collect()
    };
    for p in joined {
        match p {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = vec![];
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    PathBuf::from(std::ffi::OsStr::from_bytes(&out))
}
