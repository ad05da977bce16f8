//! Finding profiles by name or path, and loading one with everything it
//! `extends`.
//!
//! Search path, first match wins:
//! 1. for `extends`, the folder of the profile that names it;
//! 2. `$XDG_CONFIG_HOME/sandbox/profiles` (default `~/.config/...`);
//! 3. `/etc/sandbox/profiles`;
//! 4. the profiles built into the binary.
//!
//! In each folder NAME is looked up as `NAME.toml`, then `include/NAME.toml`
//! (where fragments live). A name never resolves to the file that names it:
//! the search goes on past it, which is how `~/.config/sandbox/profiles/
//! firefox.toml` can say `extends = ["firefox"]` to refine the shipped one.

use super::decode::decode;
use super::file::{self, Problem};
use super::merge::merge;
use super::types::{Profile, SpStr};
use crate::diag::{Diagnostic, FileId, Sources, Span};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use builtin::BUILTIN;
mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_profiles.rs"));
}

/// Where a profile's text comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// A shipped profile, by its name under `profiles/` (`include/base`).
    Builtin(&'static str),
}

impl Location {
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Builtin(n) => format!("<builtin>/{n}.toml"),
        }
    }
    fn dir(&self) -> Option<&Path> {
        match self {
            Location::File(p) => p.parent(),
            Location::Builtin(_) => None,
        }
    }
    /// Its text; with `root_only`, only if no one but root can change it
    /// (the profiles built into the binary are root's).
    fn read(&self, root_only: bool) -> Result<String, Problem> {
        match self {
            Location::File(p) => file::read(p, root_only),
            Location::Builtin(n) => Ok(builtin_text(n).unwrap_or_default().to_string()),
        }
    }
    /// What identifies it: one file reached by two names is one profile.
    fn key(&self) -> Key {
        match self {
            Location::File(p) => Key::File(p.canonicalize().unwrap_or_else(|_| p.clone())),
            Location::Builtin(n) => Key::Builtin(n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    File(PathBuf),
    Builtin(&'static str),
}

pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Whether a command-line or `extends` entry names a file rather than a
/// profile on the search path. `include/NAME`, as `sandbox profiles` lists
/// a fragment, is a name.
pub fn is_path(spec: &str) -> bool {
    if let Some(fragment) = spec.strip_prefix("include/")
        && !fragment.is_empty()
        && !fragment.contains('/')
        && !fragment.ends_with(".toml")
    {
        return false;
    }
    spec.contains('/') || spec.ends_with(".toml")
}

#[derive(Clone, Debug)]
pub struct SearchPath {
    /// Folders searched before the built-in profiles.
    pub dirs: Vec<PathBuf>,
    /// Whether the built-in profiles are searched (off in some tests).
    pub builtin: bool,
    /// Load only files no one but root can change (src/profile/file.rs):
    /// set when the caller is root.
    pub root_only: bool,
}

impl SearchPath {
    /// The documented search path for the caller, and, when the caller is
    /// root, the rule that root loads only root's files.
    pub fn standard(config_home: Option<PathBuf>) -> SearchPath {
        let mut dirs = vec![];
        if let Some(c) = config_home {
            dirs.push(c.join("sandbox/profiles"));
        }
        dirs.push(PathBuf::from("/etc/sandbox/profiles"));
        SearchPath {
            dirs,
            builtin: true,
            root_only: nix::unistd::geteuid().is_root(),
        }
    }

    /// Only the profiles built into the binary (tests, benchmarks).
    pub fn builtin_only() -> SearchPath {
        SearchPath {
            dirs: vec![],
            builtin: true,
            root_only: false,
        }
    }

    /// Find NAME, looking first in `own_dir`, never returning `skip`.
    pub fn find(
        &self,
        name: &str,
        own_dir: Option<&Path>,
        skip: Option<&Location>,
    ) -> Option<Location> {
        let mut candidates = vec![];
        for dir in own_dir
            .into_iter()
            .chain(self.dirs.iter().map(PathBuf::as_path))
        {
            candidates.push(Location::File(dir.join(format!("{name}.toml"))));
            candidates.push(Location::File(dir.join(format!("include/{name}.toml"))));
        }
        let found = candidates.into_iter().find(|c| match c {
            Location::File(p) => p.is_file() && !skip.is_some_and(|s| same(s, c)),
            Location::Builtin(_) => false,
        });
        if found.is_some() || !self.builtin {
            return found;
        }
        [name.to_string(), format!("include/{name}")]
            .iter()
            .filter_map(|n| {
                BUILTIN
                    .iter()
                    .find(|(b, _)| b == n)
                    .map(|(b, _)| Location::Builtin(b))
            })
            .find(|l| Some(l) != skip)
    }

    /// Every folder searched, for error hints. The folder of a profile
    /// named by a bare file name (`p.toml`) is the current one: shown as
    /// its path, not as an empty entry.
    pub fn describe(&self, own_dir: Option<&Path>) -> String {
        let mut parts: Vec<String> = own_dir
            .into_iter()
            .chain(self.dirs.iter().map(PathBuf::as_path))
            .map(|d| match d.as_os_str().is_empty() {
                true => {
                    std::env::current_dir().map_or_else(|_| ".".into(), |c| c.display().to_string())
                }
                false => d.display().to_string(),
            })
            .collect();
        if self.builtin {
            parts.push("the built-in profiles".into());
        }
        parts.join(", ")
    }
}

impl SearchPath {
    /// The names a lookup from `own_dir` could find, for "did you mean":
    /// each profile's, and each fragment's both as `NAME` and as
    /// `include/NAME`; with `fragments` false, profiles only.
    pub fn names(&self, own_dir: Option<&Path>, fragments: bool) -> Vec<String> {
        let mut names = vec![];
        let mut add = |n: &str, fragment: bool| {
            let forms = match fragment {
                true if !fragments => vec![],
                true => vec![n.to_string(), format!("include/{n}")],
                false => vec![n.to_string()],
            };
            for f in forms {
                if !names.contains(&f) {
                    names.push(f);
                }
            }
        };
        for dir in own_dir
            .into_iter()
            .chain(self.dirs.iter().map(PathBuf::as_path))
        {
            for (sub, fragment) in [("", false), ("include", true)] {
                let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                    continue;
                };
                for e in entries.flatten() {
                    if let Some(stem) = e.file_name().to_str().and_then(|n| n.strip_suffix(".toml"))
                    {
                        add(stem, fragment);
                    }
                }
            }
        }
        if self.builtin {
            for (n, _) in BUILTIN {
                match n.strip_prefix("include/") {
                    Some(f) => add(f, true),
                    None => add(n, false),
                }
            }
        }
        names
    }

    /// "did you mean ...?" for a name found nowhere, and where it was
    /// looked for.
    fn not_found_hint(&self, name: &str, own_dir: Option<&Path>, fragments: bool) -> String {
        let names = self.names(own_dir, fragments);
        let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
        let near = crate::diag::nearest(name, &candidates);
        let searched = format!("searched {}", self.describe(own_dir));
        match near.as_slice() {
            [] => searched,
            [one] => format!("did you mean '{one}'? ({searched})"),
            many => {
                let quoted: Vec<String> = many.iter().map(|n| format!("'{n}'")).collect();
                format!("did you mean one of {}? ({searched})", quoted.join(", "))
            }
        }
    }
}

/// A profile with everything it extends, merged, and the files it came from.
#[derive(Debug)]
pub struct Loaded {
    pub profile: Profile,
    pub sources: Sources,
    pub diags: Vec<Diagnostic>,
    /// Where the top profile came from.
    pub location: Option<Location>,
    /// What validation skipped on purpose (optional mounts whose variable
    /// is unset), for the plan's notes.
    pub notes: Vec<String>,
    /// The caller's places a broad bind must not hand the app (validation
    /// fills it from the caller's home).
    pub guarded: Vec<super::guarded::Guarded>,
    /// The caller's home folder, when it is a usable path.
    pub home: Option<String>,
    /// Every profile file read (not the built-in ones), as an absolute
    /// path, with the `extends` entry that named it by name (not by path),
    /// if one did: a plan that lets the sandbox write where such a file is
    /// must keep it from being changed, or planted for the next run.
    pub files: Vec<(PathBuf, Option<Span>)>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Resolve a command-line PROFILE (path or name) to a location.
pub fn locate(spec: &str, search: &SearchPath) -> Result<Location, Diagnostic> {
    if is_path(spec) {
        let p = PathBuf::from(spec);
        // Not only regular files: a pipe (`<(...)`, `/dev/stdin`) holds a profile too.
        if !p.exists() || p.is_dir() {
            return Err(Diagnostic::global(format!("cannot read profile '{spec}': no such file"))
                .with_hint("a PROFILE containing '/' or ending in '.toml' is a path; give a name to search the profile folders"));
        }
        return Ok(Location::File(p));
    }
    search.find(spec, None, None).ok_or_else(|| {
        Diagnostic::global(format!("no profile named '{spec}'")).with_hint(format!(
            "{}; 'sandbox profiles' lists what is there",
            search.not_found_hint(spec, None, false)
        ))
    })
}

/// Load the profile at `loc` and everything it extends.
pub fn load(loc: Location, search: &SearchPath) -> Loaded {
    load_layered(loc, &[], &[], search)
}

/// Load the profile at `loc` with the command line's layer over it: each
/// of `with` (a profile or fragment, with what it extends), then each of
/// `layers` (src/profile/overrides.rs), in order, by the merge rules of
/// `extends`. A file already applied (the profile extends the fragment
/// `--with` names) is not applied again, as in a diamond of `extends`.
/// The name and description stay the profile's.
pub fn load_layered(
    loc: Location,
    with: &[(String, Location)],
    layers: &[super::overrides::Layer],
    search: &SearchPath,
) -> Loaded {
    let mut l = Loader::new(search);
    let mut profile = Profile::default();
    let mut own = (None, None);
    let mut notes = vec![];
    let each = with.iter().map(|(given, w)| (Some(given), w));
    for (i, (given, w)) in std::iter::once((None, &loc)).chain(each).enumerate() {
        if i > 0 && l.done.contains(&w.key()) {
            notes.push(format!(
                "--with {}: already applied by the profile, which is over it: not applied again",
                crate::diag::printable(given.map_or("", |g| g.as_str()))
            ));
            continue;
        }
        if let Location::File(p) = w {
            l.files
                .push((std::path::absolute(p).unwrap_or(p.clone()), None));
        }
        // A --with file that cannot be read is an error at its argument.
        let via = given.map(|g| with_argument(&mut l.sources, g));
        if let Some(frame) = l.open(w.clone(), via) {
            let layer = l.load_all(frame);
            profile = match i {
                0 => {
                    own = (layer.name.clone(), layer.description.clone());
                    layer
                }
                _ => merge(profile, layer),
            };
        }
    }
    for layer in layers {
        let fid = l
            .sources
            .add_argument(layer.argument.clone(), layer.text.clone());
        l.next_layer(fid);
        let own = decode(fid, &layer.text, &mut l.diags);
        profile = merge(profile, own);
    }
    (profile.name, profile.description) = own;
    Loaded {
        profile,
        sources: l.sources,
        diags: l.diags,
        location: Some(loc),
        notes,
        guarded: vec![],
        home: None,
        files: l.files,
    }
}

/// A place for what is said about `--with GIVEN`: the argument, which
/// stands for no profile text of its own.
pub fn with_argument(sources: &mut Sources, given: &str) -> Span {
    let argument = format!("--with {}", crate::diag::printable(given));
    Span::new(sources.add_argument(argument, String::new()), 0..0)
}

/// Load a profile given as text (tests, fuzzing, `sandbox check -`).
pub fn load_text(name: &str, dir: Option<&Path>, text: &str, search: &SearchPath) -> Loaded {
    let mut l = Loader::new(search);
    let fid = l.sources.add(name.to_string(), dir, text.to_string());
    let loc = Location::File(dir.unwrap_or(Path::new("")).join(name));
    let top = l.frame(loc, fid);
    let profile = l.load_all(top);
    Loaded {
        profile,
        sources: l.sources,
        diags: l.diags,
        location: None,
        notes: vec![],
        guarded: vec![],
        home: None,
        files: l.files,
    }
}

struct Loader<'a> {
    search: &'a SearchPath,
    sources: Sources,
    diags: Vec<Diagnostic>,
    /// Files already applied: a file reached twice (a diamond) is applied once.
    done: HashSet<Key>,
    /// How many layers have been applied (see [`crate::diag::SourceFile::layer`]).
    layers: u32,
    /// See [`Loaded::files`].
    files: Vec<(PathBuf, Option<Span>)>,
}

/// A profile being loaded: its own settings, which of its `extends` comes
/// next, and the merge of those loaded so far.
struct Frame {
    loc: Location,
    fid: FileId,
    key: Key,
    own: Profile,
    next: usize,
    parents: Profile,
}

impl Frame {
    /// The profile over what it extends; `name` and `description` are its own.
    fn finish(self) -> Profile {
        let (name, description) = (self.own.name.clone(), self.own.description.clone());
        let mut merged = merge(self.parents, self.own);
        merged.name = name;
        merged.description = description;
        merged
    }
}

impl<'a> Loader<'a> {
    /// File `fid` is applied now, over every file before it.
    fn next_layer(&mut self, fid: FileId) {
        self.layers += 1;
        self.sources.set_layer(fid, self.layers);
    }

    fn new(search: &'a SearchPath) -> Self {
        Loader {
            search,
            sources: Sources::default(),
            diags: vec![],
            done: HashSet::new(),
            layers: 0,
            files: vec![],
        }
    }

    /// Read and decode one file. A problem is reported at `via`, the
    /// `extends` entry that leads to it (none for the command line's).
    fn open(&mut self, loc: Location, via: Option<Span>) -> Option<Frame> {
        let text = match loc.read(self.search.root_only) {
            Ok(t) => t,
            Err(p) => {
                let d = match via {
                    Some(span) => Diagnostic::error(span, p.message),
                    None => Diagnostic::global(p.message),
                };
                self.diags.push(Diagnostic { hint: p.hint, ..d });
                return None;
            }
        };
        // ${PROFILE_DIR} is absolute even for a profile named by a relative path.
        let dir = loc.dir().and_then(|d| std::path::absolute(d).ok());
        let fid = self.sources.add(loc.display(), dir.as_deref(), text);
        Some(self.frame(loc, fid))
    }

    fn frame(&mut self, loc: Location, fid: FileId) -> Frame {
        let own = decode(fid, &self.sources.file(fid).text, &mut self.diags);
        Frame {
            key: loc.key(),
            fid,
            loc,
            own,
            next: 0,
            parents: Profile::default(),
        }
    }

    /// `top` with everything it extends, depth first, each profile merged
    /// over its parents in order. A loop over a stack of its own rather
    /// than recursion, so that no chain of `extends` is too long for the
    /// thread's stack.
    fn load_all(&mut self, top: Frame) -> Profile {
        let mut stack = vec![top];
        while let Some(frame) = stack.last_mut() {
            if let Some(entry) = frame.own.extends.get(frame.next).cloned() {
                frame.next += 1;
                if let Some(parent) = self
                    .parent(&stack, &entry)
                    .and_then(|loc| self.open(loc, Some(entry.span)))
                {
                    if let Location::File(p) = &parent.loc {
                        let by_name = (!is_path(&entry.value)).then_some(entry.span);
                        self.files
                            .push((std::path::absolute(p).unwrap_or(p.clone()), by_name));
                    }
                    stack.push(parent);
                }
                continue;
            }
            let Some(done) = stack.pop() else { break };
            self.done.insert(done.key.clone());
            self.next_layer(done.fid);
            let profile = done.finish();
            match stack.last_mut() {
                Some(child) => child.parents = merge(std::mem::take(&mut child.parents), profile),
                None => return profile,
            }
        }
        Profile::default()
    }

    /// Where an `extends` entry of the profile on top of `stack` leads;
    /// None when nowhere or into a cycle (both reported), or to a profile
    /// already applied.
    fn parent(&mut self, stack: &[Frame], entry: &SpStr) -> Option<Location> {
        let loc = &stack.last()?.loc;
        let found = if is_path(&entry.value) {
            let base = loc.dir().map(Path::to_path_buf).unwrap_or_default();
            let p = base.join(&entry.value);
            p.is_file().then_some(Location::File(p))
        } else {
            self.search.find(&entry.value, loc.dir(), Some(loc))
        };
        let Some(found) = found else {
            self.diags.push(
                Diagnostic::error(
                    entry.span,
                    format!("extends '{}': no such profile", entry.value),
                )
                .with_hint(self.search.not_found_hint(
                    &entry.value,
                    loc.dir(),
                    true,
                )),
            );
            return None;
        };
        let key = found.key();
        if let Some(pos) = stack.iter().position(|f| f.key == key) {
            let chain: Vec<String> = stack[pos..]
                .iter()
                .map(|f| f.loc.display())
                .chain(std::iter::once(found.display()))
                .collect();
            self.diags.push(
                Diagnostic::error(entry.span, format!("extends cycle: {}", chain.join(" -> ")))
                    .with_hint("remove one of these 'extends' entries"),
            );
            return None;
        }
        (!self.done.contains(&key)).then_some(found)
    }
}

fn same(a: &Location, b: &Location) -> bool {
    a.key() == b.key()
}

/// One profile `sandbox profiles` lists.
#[derive(Clone, Debug)]
pub struct Listed {
    /// The name to give `sandbox run` (`include/NAME` for fragments).
    pub name: String,
    pub description: String,
    /// Its `category`, or that of the profile of the same name it
    /// overrides; None for fragments and uncategorised profiles.
    pub category: Option<crate::profile::types::Category>,
    pub location: Location,
    /// Hidden by a profile of the same name earlier on the search path.
    pub shadowed: bool,
}

/// Every profile on the search path, in search order.
pub fn list(search: &SearchPath) -> Vec<Listed> {
    let mut found: Vec<(String, Location)> = vec![];
    for dir in &search.dirs {
        for (sub, prefix) in [("", ""), ("include", "include/")] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            names.sort();
            // Only regular files: listing must not wait on a pipe.
            for p in names.into_iter().filter(|p| p.is_file()) {
                if let Some(stem) = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".toml"))
                {
                    found.push((format!("{prefix}{stem}"), Location::File(p.clone())));
                }
            }
        }
    }
    if search.builtin {
        found.extend(
            BUILTIN
                .iter()
                .map(|(n, _)| (n.to_string(), Location::Builtin(n))),
        );
    }
    let mut out: Vec<Listed> = vec![];
    for (name, location) in found {
        // What root would not load is marked so instead of described.
        let text = location.read(search.root_only);
        let refused = text.as_ref().err().map(|_| {
            let why = if search.root_only {
                "root does not load it"
            } else {
                "unreadable"
            };
            format!("({why}: 'sandbox check' says why)")
        });
        let text = text.unwrap_or_default();
        let mut sources = Sources::default();
        let fid = sources.add(location.display(), None, text.clone());
        let mut diags = vec![];
        let p = decode(fid, &text, &mut diags);
        let shadowed = out.iter().any(|l| l.name == name);
        out.push(Listed {
            description: refused
                .or(p.description.map(|d| d.value))
                .unwrap_or_default(),
            category: p.category.map(|c| c.value),
            name,
            location,
            shadowed,
        });
    }
    // An override that does not say its category has the one it overrides.
    for i in 0..out.len() {
        if out[i].category.is_none()
            && let Some(c) = out
                .iter()
                .find(|o| o.name == out[i].name && o.category.is_some())
                .and_then(|o| o.category)
        {
            out[i].category = Some(c);
        }
    }
    out
}

/// `sandbox profiles` output: profiles by category, then fragments.
pub fn list_text(search: &SearchPath) -> String {
    list_text_marked(search, &|_| None)
}

/// The same, with a mark after each profile `mark` has one for (an app
/// that is not installed).
pub fn list_text_marked(search: &SearchPath, mark: &dyn Fn(&Listed) -> Option<String>) -> String {
    use crate::profile::types::Category;
    let all = list(search);
    let width = all.iter().map(|l| l.name.len()).max().unwrap_or(0);
    type Belongs = fn(&Listed) -> bool;
    let groups: [(&str, Belongs); 5] = [
        ("desktop", |l| l.category == Some(Category::Desktop)),
        ("cli", |l| l.category == Some(Category::Cli)),
        ("service", |l| l.category == Some(Category::Service)),
        ("other", |l| {
            l.category.is_none() && !l.name.starts_with("include/")
        }),
        ("include (fragments, for extends)", |l| {
            l.name.starts_with("include/")
        }),
    ];
    let mut out = String::new();
    for (title, belongs) in groups {
        let members: Vec<&Listed> = all.iter().filter(|l| belongs(l)).collect();
        if members.is_empty() {
            continue;
        }
        out.push_str(&format!("{title}:\n"));
        for l in members {
            let shadow = if l.shadowed { " (overridden)" } else { "" };
            let marked = mark(l).map(|m| format!(" {m}")).unwrap_or_default();
            out.push_str(&format!(
                "  {:<width$}  {}  [{}]{shadow}{marked}\n",
                l.name,
                l.description,
                l.location.display()
            ));
        }
    }
    out.push_str(&format!("search path: {}\n", search.describe(None)));
    out
}
