//! The draft profile made from what a learning run recorded: the profiles
//! it extends, then only what they do not already give: a mount per
//! folder the app used (read-only where nothing in it was written; single
//! files where a folder is too broad to hand over whole), the network if
//! it connected out, the calls the policy refused that it needed. A
//! secret or a place code runs from is granted only with a comment
//! saying so; what a draft never grants is listed as a comment.

use super::{Address, Event, Refusal, Use, toml_string};
use crate::audit::view::{Access, is_under as under, sight};
use crate::host::{HostFacts, PathKind};
use crate::plan::{Action, Plan};
use crate::profile::guarded::{Guard, Guarded};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the draft is made against.
pub struct Context<'a> {
    /// The profiles the draft extends.
    pub extends: Vec<String>,
    /// The command that ran, as shown in the draft's heading.
    pub command: String,
    /// The command the draft runs itself (`command`, the words after
    /// `--` replacing it), when the base has none of its own.
    pub own_command: Option<Vec<String>>,
    pub home: Option<String>,
    pub pwd: Option<String>,
    /// The caller's guarded places (secrets, places code runs from).
    pub guarded: Vec<Guarded>,
    pub host: &'a dyn HostFacts,
    /// The learning run's plan: what it showed of the host.
    pub learning: &'a Plan,
    /// The plan of the profiles the draft extends, alone.
    pub base: &'a Plan,
}

/// One mount the draft adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// A host path, the mount's source and destination.
    pub path: String,
    pub writable: bool,
    /// Why, in a few words (the comment above it).
    pub why: String,
}

/// The draft, and what it grants (for the check that it shows each).
pub struct Draft {
    pub text: String,
    pub grants: Vec<Grant>,
}

/// At most this many paths are looked at, and this many mounts made: a
/// run that used more wants a folder of its own, not a longer draft.
const MOST_PATHS: usize = 20_000;
const MOST_GRANTS: usize = 100;

/// Folders never handed over whole: their files are bound one by one,
/// and a new entry in them is not granted.
fn broad(path: &str, home: Option<&str>) -> bool {
    let depth = Path::new(path).components().count();
    if depth <= 2 {
        // "/", and "/etc", "/home", "/var", ...
        return true;
    }
    match home {
        Some(h) => {
            Path::new(h).starts_with(path)
                || [
                    ".config",
                    ".local",
                    ".local/share",
                    ".cache",
                    ".local/state",
                ]
                .iter()
                .any(|d| Path::new(path) == Path::new(h).join(d))
        }
        None => false,
    }
}

fn parent(p: &str) -> String {
    Path::new(p)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into())
}

/// What one folder's use comes to.
#[derive(Default)]
struct Folder {
    /// Files read or run in it (their full paths).
    read: BTreeSet<String>,
    /// Files changed in place in it.
    written: BTreeSet<String>,
    /// Its entries listed.
    listed: bool,
    /// An entry made or removed in it (by name).
    entries: BTreeSet<String>,
}

/// Make the draft.
pub fn draft(events: &BTreeSet<Event>, cx: &Context) -> Draft {
    let mut folders: BTreeMap<String, Folder> = BTreeMap::new();
    let mut notes: Vec<String> = vec![];
    // Only what shows a place whole counts: a bind of a folder inside
    // /tmp does not show the sandbox's /tmp.
    let shown_in =
        |plan: &Plan, p: &str| sight(plan, cx.host, p, Access::Files).filter(|s| s.whole);
    let mut looked = 0;
    for e in events {
        let Event::Path { path, how } = e else {
            continue;
        };
        looked += 1;
        if looked > MOST_PATHS {
            notes.push(format!(
                "the run used more than {MOST_PATHS} paths: the rest were not looked at"
            ));
            break;
        }
        let Some(p) = path.to_str() else {
            notes.push(format!(
                "not granted: {} (not UTF-8, which a profile cannot name)",
                crate::diag::printable(&path.to_string_lossy())
            ));
            continue;
        };
        // Where the learning run showed a place of its own (the base's
        // /tmp, /proc, /dev, a file it writes), the draft does too.
        let at = match how {
            Use::Entry => parent(p),
            _ => p.to_string(),
        };
        let in_learning = shown_in(cx.learning, &at).filter(|_| *how != Use::Missing);
        if in_learning.is_none() {
            // A secret stays hidden in the learning run too: say so, as
            // the app may have failed for it.
            if let Some(g) = cx
                .guarded
                .iter()
                .find(|g| g.guard == Guard::Secret && under(p, &g.path))
                && cx.host.path_kind(p) != PathKind::Missing
            {
                notes.push(format!(
                    "not granted: {p}: a secret ({}), hidden in the learning run too; bind it yourself if the app must have it",
                    g.path
                ));
            }
            continue;
        }
        let writes = matches!(how, Use::Write | Use::Entry);
        // A write the learning run refused (a place code runs from, made
        // read-only there) failed: what the app only tried is not granted.
        if writes && !in_learning.is_some_and(|s| s.writable) {
            notes.push(format!(
                "not granted: writing {p}: read-only in the learning run too (a place code runs from, or a read-only mount of the base)"
            ));
            continue;
        }
        if let Some(s) = shown_in(cx.base, &at)
            && (s.writable || !writes)
        {
            continue;
        }
        // What is granted is where the path leads: a bind of a link is
        // made as the same link, which would lead to nothing.
        let real = match how {
            Use::Entry => {
                let name = Path::new(p).file_name().unwrap_or_default();
                let f = cx.host.real_path(&parent(p)).unwrap_or_else(|| parent(p));
                Path::new(&f).join(name).to_string_lossy().into_owned()
            }
            _ => cx.host.real_path(p).unwrap_or_else(|| p.to_string()),
        };
        let p = real.as_str();
        match how {
            // Missing in the app's view yet shown by the learning run: a
            // file that came later, or a failed open: nothing to grant.
            Use::Missing => continue,
            Use::Read | Use::Exec => {
                if cx.host.path_kind(p) == PathKind::Dir {
                    continue;
                }
                folders.entry(parent(p)).or_default().read.insert(p.into());
            }
            Use::List => folders.entry(p.into()).or_default().listed = true,
            Use::Write if cx.host.path_kind(p) == PathKind::Dir => {
                folders
                    .entry(p.into())
                    .or_default()
                    .entries
                    .insert(".".into());
            }
            Use::Write => {
                folders
                    .entry(parent(p))
                    .or_default()
                    .written
                    .insert(p.into());
            }
            Use::Entry => {
                // The nearest folder there still is (a folder the run made
                // and removed is made again in the one above).
                let mut f = parent(p);
                while cx.host.path_kind(&f) != PathKind::Dir && f != "/" {
                    f = parent(&f);
                }
                let name = Path::new(p)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                folders.entry(f).or_default().entries.insert(name);
            }
        }
    }
    let home = cx.home.as_deref();
    let mut grants: Vec<Grant> = vec![];
    for (path, f) in &folders {
        let count = |n: usize, what: &str| match n {
            1 => format!("1 {what}"),
            n => format!("{n} {what}s"),
        };
        if !f.entries.is_empty() {
            if broad(path, home) {
                for e in &f.entries {
                    notes.push(format!(
                        "not granted: {}: making or removing an entry needs all of {path} writable; give the app a folder of its own",
                        Path::new(path).join(e).display()
                    ));
                }
            } else {
                grants.push(Grant {
                    path: path.clone(),
                    writable: true,
                    why: format!(
                        "it made or removed {} here",
                        count(
                            f.entries.iter().filter(|e| *e != ".").count().max(1),
                            "entry"
                        )
                        .replace("entrys", "entries")
                    ),
                });
                continue;
            }
        }
        for w in &f.written {
            grants.push(Grant {
                path: w.clone(),
                writable: true,
                why: "it wrote this file".into(),
            });
        }
        let read: Vec<&String> = f.read.iter().filter(|r| !f.written.contains(*r)).collect();
        if (f.listed || read.len() >= 2) && !broad(path, home) {
            let why = match (f.listed, read.len()) {
                (true, 0) => "it listed this folder".to_string(),
                (true, n) => format!("it listed this folder and read {}", count(n, "file")),
                (false, n) => format!("it read {} here", count(n, "file")),
            };
            grants.push(Grant {
                path: path.clone(),
                writable: false,
                why,
            });
        } else {
            if f.listed {
                notes.push(format!(
                    "not granted: listing {path} (too broad to hand over whole; the files it read are bound)"
                ));
            }
            for r in read {
                grants.push(Grant {
                    path: r.clone(),
                    writable: false,
                    why: "it read this file".into(),
                });
            }
        }
    }
    // What a writable grant holds needs no grant of its own, nor what a
    // read-only one holds read-only.
    let all = grants.clone();
    grants.retain(|g| {
        !all.iter()
            .any(|o| o.path != g.path && under(&g.path, &o.path) && (o.writable || !g.writable))
    });
    grants.sort_by(|a, b| Path::new(&a.path).cmp(Path::new(&b.path)));
    // A place code runs from later is never made writable by a draft,
    // even where the learning run could write it (it did not exist yet):
    // what the app leaves there runs outside the sandbox.
    // A file of the home's own folder, written: shells and programs read
    // those at start (the guarded list cannot name them all).
    let home_file = |g: &Grant| {
        g.writable
            && cx.home.as_deref().is_some_and(|h| parent(&g.path) == h)
            && cx.host.path_kind(&g.path) != PathKind::Dir
    };
    grants.retain(|g| {
        if home_file(g) {
            notes.push(format!(
                "not granted: writing {}: a file in the home's own folder, which programs may read at start; bind it yourself if it is only data",
                g.path
            ));
            return false;
        }
        let runs = cx
            .guarded
            .iter()
            .find(|gp| gp.guard == Guard::Runs && under(&g.path, &gp.path));
        match runs {
            Some(gp) if g.writable => {
                notes.push(format!(
                    "not granted: writing {}: a place code runs from later ({}); what the app leaves there runs outside the sandbox",
                    g.path, gp.path
                ));
                false
            }
            _ => true,
        }
    });
    if grants.len() > MOST_GRANTS {
        notes.push(format!(
            "{} more places not granted: a draft holds at most {MOST_GRANTS} mounts; give the app a folder of its own",
            grants.len() - MOST_GRANTS
        ));
        grants.truncate(MOST_GRANTS);
    }
    let (tables, fragments) = network_and_calls(events, cx, &mut notes);
    let mut out = heading(cx, &fragments);
    out.push_str(&tables);
    let cwd_used = cx.pwd.as_deref().is_some_and(|pwd| {
        grants
            .iter()
            .any(|g| under(&g.path, pwd) || under(pwd, &g.path))
    });
    if cwd_used {
        out.push_str("\n[process]\ncwd = \"${PWD}\"\n");
    }
    for g in &grants {
        out.push('\n');
        out.push_str(&format!("# {}\n", g.why));
        for gp in &cx.guarded {
            let inside = under(&gp.path, &g.path) || under(&g.path, &gp.path);
            match gp.guard {
                Guard::Secret if under(&g.path, &gp.path) => out.push_str(&format!(
                    "# A SECRET ({}): granted because the run used it; remove this unless the app must have it\n",
                    gp.path
                )),
                Guard::Runs if inside && g.writable => out.push_str(&format!(
                    "# A PLACE CODE RUNS FROM ({}): writable because the run wrote there; what the app leaves there runs later outside the sandbox\n",
                    gp.path
                )),
                _ => {}
            }
        }
        out.push_str(&format!(
            "[[mount]]\ntype = \"{}\"\nsrc = {}\n",
            if g.writable { "bind" } else { "ro-bind" },
            toml_string(&with_variables(&g.path, cx))
        ));
    }
    if !notes.is_empty() {
        out.push_str("\n# What the run used that this draft does not grant:\n");
        for n in notes {
            out.push_str(&format!("# - {}\n", crate::diag::printable(&n)));
        }
    }
    Draft { text: out, grants }
}

fn heading(cx: &Context, fragments: &[&str]) -> String {
    let extends: Vec<String> = cx
        .extends
        .iter()
        .map(String::as_str)
        .chain(fragments.iter().copied())
        .map(toml_string)
        .collect();
    let mut t = format!(
        "# A draft made by `sandbox learn` from one run of:\n#   {}\n# It grants what that run used and nothing more, less what is listed at\n# the end. Read it before you rely on it: `sandbox check FILE` checks it,\n# `sandbox plan FILE` shows what it does, `sandbox audit FILE` scores it.\ndescription = {}\nextends = [{}]\n",
        crate::diag::printable(&cx.command),
        toml_string(&format!(
            "Drafted by sandbox learn from: {}",
            crate::diag::printable(&cx.command)
        )),
        extends.join(", ")
    );
    if let Some(argv) = &cx.own_command {
        let words: Vec<String> = argv.iter().map(|w| toml_string(w)).collect();
        t.push_str(&format!(
            "command = [{}]\n# The words after -- run instead: sandbox run FILE -- CMD ARGS\narguments = \"replace\"\n",
            words.join(", ")
        ));
    }
    t
}

/// A host path as the draft writes it: below the current folder or the
/// home, through their variables (the draft then works for another
/// folder or user), and `$` doubled.
fn with_variables(path: &str, cx: &Context) -> String {
    let escaped = |s: &str| s.replace('$', "$$");
    let mut best: Option<(&str, &str)> = None;
    for (var, place) in [
        ("${PWD}", cx.pwd.as_deref()),
        ("${HOME}", cx.home.as_deref()),
    ] {
        let Some(place) = place.filter(|p| *p != "/") else {
            continue;
        };
        if under(path, place) && best.is_none_or(|(_, b)| place.len() > b.len()) {
            best = Some((var, place));
        }
    }
    match best {
        Some((var, place)) => {
            let rest = Path::new(path)
                .strip_prefix(place)
                .unwrap_or(Path::new(""))
                .to_string_lossy()
                .into_owned();
            match rest.is_empty() {
                true => var.to_string(),
                false => format!("{var}/{}", escaped(&rest)),
            }
        }
        None => escaped(path),
    }
}

/// Whether `ip` is a loopback address.
fn loopback(ip: &std::net::IpAddr) -> bool {
    ip.is_loopback()
}

/// The fragment that gives the socket at `path` (a display's, a sound
/// server's), by where such sockets are.
fn fragment_of(path: &str) -> Option<&'static str> {
    let name = Path::new(path).file_name()?.to_str()?;
    if path.starts_with("/tmp/.X11-unix/X") {
        Some("x11")
    } else if name.starts_with("wayland-") {
        Some("wayland")
    } else if path.ends_with("/pulse/native") {
        Some("pulseaudio")
    } else if name == "pipewire-0" {
        Some("pipewire")
    } else {
        None
    }
}

/// The `[network]`, `[user]` and `[seccomp]` tables, and the fragments
/// to extend besides the base: `network` for a connection out, the
/// display's or sound server's for their sockets.
fn network_and_calls(
    events: &BTreeSet<Event>,
    cx: &Context,
    notes: &mut Vec<String>,
) -> (String, Vec<&'static str>) {
    let base_network = cx
        .base
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::Pasta { .. }));
    let mut fragments: Vec<&'static str> = vec![];
    let add = |f: &'static str, fragments: &mut Vec<&'static str>| {
        if !fragments.contains(&f) && !cx.extends.iter().any(|e| e == f) {
            fragments.push(f);
        }
    };
    let mut out = String::new();
    let mut outbound = false;
    let mut to_host: BTreeSet<(u16, bool)> = BTreeSet::new();
    let mut listens: BTreeSet<(u16, bool)> = BTreeSet::new();
    let mut allow: BTreeMap<String, String> = BTreeMap::new();
    let mut namespaces = false;
    for e in events {
        match e {
            Event::Connect(Address::Ip { ip, port, stream }) => {
                if *port == 53 || !loopback(ip) {
                    outbound = true;
                } else {
                    to_host.insert((*port, *stream));
                }
            }
            Event::Bind(Address::Ip { port, stream, .. }) if *port != 0 => {
                listens.insert((*port, *stream));
            }
            Event::Connect(Address::Unix(p)) => {
                let p = p.to_string_lossy();
                if let Some(f) = fragment_of(&p) {
                    add(f, &mut fragments);
                } else if sight(cx.learning, cx.host, &p, Access::Socket).is_some()
                    && sight(cx.base, cx.host, &p, Access::Socket).is_none()
                    && cx.host.path_kind(&p) == PathKind::Other
                {
                    notes.push(format!(
                        "not granted: the socket {p}: what listens there serves any client; bind it (read-only) if the app must reach it"
                    ));
                }
            }
            Event::Connect(Address::Abstract(name)) => {
                let name = String::from_utf8_lossy(name);
                match fragment_of(&name) {
                    Some(f) => add(f, &mut fragments),
                    None => notes.push(format!(
                        "not granted: the abstract socket @{name}: only the host's network namespace reaches it"
                    )),
                }
            }
            Event::Refused { call, rule, what } => match what {
                Refusal::Allowable => {
                    allow.insert(call.clone(), rule.clone());
                }
                Refusal::Namespaces => namespaces = true,
                Refusal::Never => notes.push(format!(
                    "refused, also in the learning run: {call}, by {rule}"
                )),
            },
            _ => {}
        }
    }
    let mut net: Vec<String> = vec![];
    if outbound && !base_network {
        // The fragment: pasta, name resolution's and TLS's files.
        add("network", &mut fragments);
    } else if (!to_host.is_empty() || !listens.is_empty()) && !base_network {
        net.push("mode = \"pasta\"".into());
    }
    let ports = |set: &BTreeSet<(u16, bool)>, stream: bool, f: &dyn Fn(u16) -> String| {
        set.iter()
            .filter(|(_, s)| *s == stream)
            .map(|(p, _)| f(*p))
            .collect::<Vec<_>>()
    };
    for (key, stream) in [("to_host_tcp", true), ("to_host_udp", false)] {
        let v = ports(&to_host, stream, &|p| p.to_string());
        if !v.is_empty() {
            net.push(format!(
                "# it connected to the host's loopback at port{} {}",
                if v.len() > 1 { "s" } else { "" },
                v.join(", ")
            ));
            net.push(format!("{key} = [{}]", v.join(", ")));
        }
    }
    for (key, stream) in [("forward_tcp", true), ("forward_udp", false)] {
        let v = ports(&listens, stream, &|p| format!("\"127.0.0.1:{p}:{p}\""));
        if !v.is_empty() {
            net.push("# it listened: the host's loopback reaches it at the same port".into());
            net.push(format!("{key} = [{}]", v.join(", ")));
        }
    }
    if !net.is_empty() {
        out.push_str("\n[network]\n");
        out.push_str(&net.join("\n"));
        out.push('\n');
    }
    if namespaces {
        out.push_str("\n[user]\n# it made namespaces of its own\nnested_userns = true\n");
    }
    if !allow.is_empty() {
        out.push_str("\n[seccomp]\n# REFUSED BY DEFAULT FOR A REASON: allow a call only if the app fails\n# without it (the run let each through, whatever it asked of it).\n");
        for (call, rule) in &allow {
            out.push_str(&format!(
                "# {call}: refused by {}\n",
                crate::diag::printable(rule)
            ));
        }
        let names: Vec<String> = allow.keys().map(|c| toml_string(c)).collect();
        out.push_str(&format!("allow = [{}]\n", names.join(", ")));
    }
    (out, fragments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_folders_are_not_handed_over() {
        let h = Some("/home/u");
        for b in ["/", "/etc", "/home", "/home/u", "/home/u/.config", "/var"] {
            assert!(broad(b, h), "{b}");
        }
        for n in [
            "/home/u/project",
            "/etc/ssl",
            "/home/u/.config/app",
            "/usr/share/x",
        ] {
            assert!(!broad(n, h), "{n}");
        }
    }
}
