//! `sandbox learn`: run a command in a permissive variant of a profile,
//! record what it uses (through the launcher, outside the sandbox: see
//! exec/learn.rs), and write a draft profile that grants that and nothing
//! more. This module holds no system calls: the learning variant of a
//! profile (text), what a run recorded ([`Event`]), and the draft made
//! from it (draft.rs).

pub mod draft;

pub use crate::plan::learned::{Address, Event, Record, Refusal, Use, absolute};

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
        if let crate::plan::Action::Seccomp {
            trace,
            learn,
            watch_paths,
            ..
        } = &mut s.action
        {
            *trace = true;
            *learn = true;
            // learn watches every path call itself.
            *watch_paths = false;
            found = true;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
