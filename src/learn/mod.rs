//! `sandbox learn`: run a command in a permissive variant of a profile,
//! record what it uses (through the launcher, outside the sandbox: see
//! exec/learn.rs), and write a draft profile that grants that and nothing
//! more. This module holds no system calls: the learning variant of a
//! profile (text), what a run recorded ([`Event`]), and the draft made
//! from it (draft.rs).

pub mod draft;

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

/// The profile a learning run uses, extending `base` (the profiles the
/// draft will extend): the host's whole tree as the root, writable as the
/// caller may write it, with the base's own mounts (its /proc, /dev, /tmp)
/// on top and the caller's home and current folder bound over whatever the
/// base put there, so that the app finds what it looks for and the run
/// can see it; the host's network; no Landlock. The guarded places in the
/// home stay hidden (secrets) or read-only (places code runs from), as in
/// any bind of a home. `pwd_bound`: the current folder is neither `/` nor
/// the home or inside it.
pub fn learning_profile(base: &[String], home_bound: bool, pwd_bound: bool) -> String {
    let extends: Vec<String> = base.iter().map(|b| toml_string(b)).collect();
    let mut t = format!(
        "# the learning variant (sandbox learn)\nextends = [{}]\n\n[filesystem]\nroot = \"/\"\nreadonly_root = false\n\n[namespaces]\nnet = false\n\n[network]\nmode = \"none\"\n\n[landlock]\nenabled = false\n\n[process]\ncwd = \"${{PWD}}\"\n",
        extends.join(", ")
    );
    if home_bound {
        t.push_str("\n[[mount]]\ntype = \"bind\"\nsrc = \"${HOME}\"\n");
    }
    if pwd_bound {
        t.push_str("\n[[mount]]\ntype = \"bind\"\nsrc = \"${PWD}\"\n");
    }
    t
}

/// `s` as a TOML basic string.
pub fn toml_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            // Control characters, and those that change how the rest of a
            // line reads (bidirectional overrides, line separators).
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                o.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Make `plan`'s seccomp step the learning one; false when the plan has
/// none (`seccomp.policy = "none"`: nothing would see the app's calls).
pub fn learning(plan: &mut crate::plan::Plan) -> bool {
    let mut found = false;
    for s in &mut plan.steps {
        if let crate::plan::Action::Seccomp { trace, learn, .. } = &mut s.action {
            *trace = true;
            *learn = true;
            found = true;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_absolute_lexically() {
        let a = |b: &str, p: &str| absolute(b.as_bytes(), p.as_bytes());
        assert_eq!(a("/home/u", "x/../y/./z"), PathBuf::from("/home/u/y/z"));
        assert_eq!(a("/home/u", "/etc//hosts"), PathBuf::from("/etc/hosts"));
        assert_eq!(a("/", "../.."), PathBuf::from("/"));
        assert_eq!(a("/a", ""), PathBuf::from("/a"));
    }

    #[test]
    fn strings_are_quoted_for_toml() {
        assert_eq!(toml_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\u000Ad\"");
        assert_eq!(toml_string("x\u{202e}y"), "\"x\\u202Ey\"");
    }
}
