//! Is the app there? The plan's command looked up as the sandbox will look
//! it up: through the mounts the plan makes (a path inside is a host path
//! through the bind that covers it, or a file, a link or nothing the plan
//! makes), in the PATH the sandbox gets, following links as the sandbox
//! sees them. Pure: the host is seen only through [`HostFacts`]. Said up
//! front, before anything starts, instead of a failed exec after pasta and
//! the D-Bus proxy.

use super::{Action, DEFAULT_PATH, Plan};
use crate::diag::{Diagnostic, Readiness};
use crate::host::{HostFacts, PathKind};
use crate::profile::Loaded;

/// What is at a path inside the sandbox.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Missing,
    Dir,
    File { exec: bool },
    Link(String),
}

/// Where a path inside comes from: the last mount that covers it.
enum From {
    Host(String),
    /// An overlay's layers, top first, each with the rest of the path.
    Layers(Vec<String>),
    Link(String),
    File(u32),
    Dir,
    Nothing,
}

/// The sandbox's file tree as the plan builds it.
struct View<'a> {
    steps: Vec<&'a Action>,
    host: &'a dyn HostFacts,
}

/// `rest` when `p` is `dst` or below it ("" or "/...").
fn below<'p>(p: &'p str, dst: &str) -> Option<&'p str> {
    let dst = dst.trim_end_matches('/');
    let rest = p.strip_prefix(dst)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

impl View<'_> {
    fn from(&self, p: &str) -> From {
        let mut found = From::Nothing;
        for a in &self.steps {
            match a {
                Action::RootTmpfs => found = From::Nothing,
                Action::RootBind { src, .. } => {
                    found = From::Host(format!("{}{p}", src.trim_end_matches('/')))
                }
                Action::Bind { src, dst, .. } => {
                    if let Some(rest) = below(p, dst) {
                        found = From::Host(format!("{src}{rest}"));
                    }
                }
                Action::Tmpfs { dst, .. }
                | Action::Proc { dst, .. }
                | Action::Dev { dst, .. }
                | Action::Mqueue { dst } => {
                    if let Some(rest) = below(p, dst) {
                        found = if rest.is_empty() {
                            From::Dir
                        } else {
                            From::Nothing
                        };
                    }
                }
                Action::Hide { dst, dir } => {
                    if let Some(rest) = below(p, dst) {
                        found = match (rest.is_empty(), dir) {
                            (true, true) => From::Dir,
                            (true, false) => From::File(0),
                            (false, _) => From::Nothing,
                        };
                    }
                }
                Action::Symlink { target, dst } if p == dst => found = From::Link(target.clone()),
                Action::Dir { dst, .. } if p == dst => found = From::Dir,
                Action::File { dst, mode, .. } if p == dst => found = From::File(*mode),
                Action::Overlay {
                    dst, lower, upper, ..
                } => {
                    if let Some(rest) = below(p, dst) {
                        found = From::Layers(
                            upper
                                .iter()
                                .chain(lower)
                                .map(|l| format!("{l}{rest}"))
                                .collect(),
                        );
                    }
                }
                _ => {}
            }
        }
        found
    }

    fn on_host(&self, h: &str) -> Kind {
        match self.host.path_kind(h) {
            PathKind::Missing => Kind::Missing,
            PathKind::Dir => Kind::Dir,
            PathKind::Symlink => self.host.read_link(h).map_or(Kind::Missing, Kind::Link),
            PathKind::File => Kind::File {
                exec: self.host.executable(h),
            },
            PathKind::Other => Kind::File { exec: false },
        }
    }

    /// Whether a mount is made below `p`: its missing parents, `p`
    /// among them, are made as folders for it.
    fn made_for_a_mount(&self, p: &str) -> bool {
        self.steps.iter().any(|a| {
            super::compile::step_dst(a)
                .and_then(|dst| below(dst, p))
                .is_some_and(|rest| !rest.is_empty())
        })
    }

    /// What is at `p` itself (a link not followed).
    fn kind(&self, p: &str) -> Kind {
        if p == "/" {
            return Kind::Dir;
        }
        let k = self.kind_made(p);
        if k == Kind::Missing && self.made_for_a_mount(p) {
            return Kind::Dir;
        }
        k
    }

    fn kind_made(&self, p: &str) -> Kind {
        match self.from(p) {
            From::Host(h) => self.on_host(&h),
            From::Layers(layers) => layers
                .iter()
                .map(|l| self.on_host(l))
                .find(|k| *k != Kind::Missing)
                .unwrap_or(Kind::Missing),
            From::Link(t) => Kind::Link(t),
            From::File(mode) => Kind::File {
                exec: mode & 0o111 != 0,
            },
            From::Dir => Kind::Dir,
            From::Nothing => Kind::Missing,
        }
    }

    /// What `path` (absolute) leads to, links followed as inside.
    fn resolve(&self, path: &str) -> Kind {
        let mut todo: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(str::to_string)
            .collect();
        let mut cur = String::from("/");
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    cur = match cur.rfind('/') {
                        Some(0) | None => "/".into(),
                        Some(i) => cur[..i].to_string(),
                    };
                    continue;
                }
                _ => {}
            }
            let next = join(&cur, &c);
            match self.kind(&next) {
                Kind::Link(t) => {
                    hops += 1;
                    if hops > 40 {
                        return Kind::Missing;
                    }
                    if t.starts_with('/') {
                        cur = "/".into();
                    }
                    todo.extend(
                        t.split('/')
                            .filter(|c| !c.is_empty())
                            .rev()
                            .map(str::to_string),
                    );
                }
                Kind::Missing => return Kind::Missing,
                k if todo.is_empty() => return k,
                Kind::Dir => cur = next,
                Kind::File { .. } => return Kind::Missing,
            }
        }
        Kind::Dir
    }
}

/// Where the command was looked for, when it is found nowhere inside.
#[derive(Debug, PartialEq)]
pub struct Missing {
    pub program: String,
    /// The PATH searched, for a name.
    pub path: Option<String>,
    /// The host's own copy, when it has one the sandbox does not show.
    pub on_host: Option<String>,
}

/// The PATH the app's environment gets (`caller`: the caller's own).
fn sandbox_path(plan: &Plan, caller: Option<&str>) -> String {
    for s in &plan.steps {
        if let Action::Environment {
            clear,
            keep,
            unset,
            set,
        } = &s.action
        {
            if let Some((_, v)) = set.iter().find(|(k, _)| k == "PATH") {
                return v.clone();
            }
            let kept = (!clear || keep.iter().any(|k| crate::glob::glob_match(k, "PATH")))
                && !super::unsets(unset, keep, "PATH");
            return match (kept, caller) {
                (true, Some(p)) => p.to_string(),
                _ => DEFAULT_PATH.to_string(),
            };
        }
    }
    caller.unwrap_or(DEFAULT_PATH).to_string()
}

/// Whether the plan's command is found inside the sandbox; if not, where
/// it was looked for. A file that is there but not executable is found
/// (the run says so, with its own exit code).
pub fn find(plan: &Plan, host: &dyn HostFacts, caller_path: Option<&str>) -> Result<(), Missing> {
    // A name that is not UTF-8 cannot be asked of the host: the run tells.
    let Some(program) = plan.steps.iter().find_map(|s| match &s.action {
        Action::Exec { argv } => argv.first().and_then(|a| a.to_str()).map(str::to_string),
        _ => None,
    }) else {
        return Ok(());
    };
    if program.is_empty() {
        return Ok(());
    }
    let view = View {
        steps: plan
            .steps
            .iter()
            .filter(|s| s.phase == super::Phase::Mount)
            .map(|s| &s.action)
            .collect(),
        host,
    };
    // A sandbox without a mount namespace of its own sees the host's tree.
    let own_tree = view
        .steps
        .iter()
        .any(|a| matches!(a, Action::RootTmpfs | Action::RootBind { .. }));
    // A folder named as the program is there too: exec says it cannot
    // run it (126), as for any file it cannot execute.
    let here = |p: &str, folder_too: bool| -> bool {
        let k = if own_tree {
            view.resolve(p)
        } else if host.path_kind(p) == PathKind::Missing {
            Kind::Missing
        } else {
            Kind::File { exec: true }
        };
        matches!(k, Kind::File { .. }) || folder_too && k == Kind::Dir
    };
    if program.contains('/') {
        let cwd = plan
            .steps
            .iter()
            .find_map(|s| match &s.action {
                Action::Chdir { path } => Some(path.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "/".into());
        let abs = if program.starts_with('/') {
            program.clone()
        } else {
            join(&cwd, &program)
        };
        if here(&abs, true) {
            return Ok(());
        }
        let on_host = (own_tree && host.executable(&abs)).then_some(abs);
        return Err(Missing {
            program,
            path: None,
            on_host,
        });
    }
    let path = sandbox_path(plan, caller_path);
    let dirs: Vec<&str> = path.split(':').filter(|d| d.starts_with('/')).collect();
    if dirs.iter().any(|d| here(&join(d, &program), false)) {
        return Ok(());
    }
    let host_path = caller_path.unwrap_or(DEFAULT_PATH);
    let on_host = own_tree
        .then(|| {
            host_path
                .split(':')
                .chain(DEFAULT_PATH.split(':'))
                .filter(|d| d.starts_with('/'))
                .map(|d| join(d, &program))
                .find(|p| host.executable(p))
        })
        .flatten();
    Err(Missing {
        program,
        path: Some(path),
        on_host,
    })
}

/// The error for a plan whose command is not there, at the profile's
/// `command` when that is what runs, with the profile's `package` in the
/// hint; None when it is there.
pub fn not_installed(
    loaded: &Loaded,
    plan: &Plan,
    host: &dyn HostFacts,
    caller_path: Option<&str>,
) -> Option<Diagnostic> {
    let m = find(plan, host, caller_path).err()?;
    let p = &loaded.profile;
    let argv = plan.steps.iter().find_map(|s| match &s.action {
        Action::Exec { argv } => Some(argv),
        _ => None,
    })?;
    // The profile's own program (its arguments may follow, from the
    // command line): its line, and the package it names.
    let own = p.command.as_ref().filter(|c| {
        c.value
            .first()
            .is_some_and(|a| argv.first().is_some_and(|b| *b == *a.value))
    });
    let package = own.and(p.package.as_ref()).map(|k| k.value.as_str());
    let (message, hint) = match (&m.on_host, &m.path) {
        (Some(h), _) => (
            format!(
                "'{}' is installed on the host ({h}) but not inside the sandbox",
                m.program
            ),
            format!(
                "bind the folder it lives in ({}), or make the profile's PATH name it",
                super::split_parent(h).0
            ),
        ),
        (None, Some(path)) => (
            format!(
                "'{}' is not installed: it is in no folder of the sandbox's PATH ({path})",
                m.program
            ),
            install_hint(package),
        ),
        (None, None) => (
            format!("'{}' is not installed: there is no such file", m.program),
            install_hint(package),
        ),
    };
    let d = match own {
        Some(c) => Diagnostic::error(c.value.first().map_or(c.span, |a| a.span), message),
        None => Diagnostic::global(message),
    };
    Some(d.with_hint(hint).of_host(Readiness::App))
}

fn install_hint(package: Option<&str>) -> String {
    match package {
        Some(pkg) => format!(
            "install the package '{pkg}' (apt install {pkg}), or run another program in this sandbox with --command -- CMD"
        ),
        None => "install it, or run another program in this sandbox with --command -- CMD (or change the profile's 'command')"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;
    use crate::plan::{Invocation, compile};
    use crate::profile::{SearchPath, Vars, load_text, validate};

    /// A Debian user's machine with these executables (and their folders).
    fn host_with(files: &[&str]) -> FakeHost {
        let mut h = FakeHost::debian_user();
        for f in files {
            let mut dir = String::new();
            for part in f.trim_start_matches('/').split('/').collect::<Vec<_>>()
                [..f.matches('/').count() - 1]
                .iter()
            {
                dir = format!("{dir}/{part}");
                if !h.paths.iter().any(|(p, _)| *p == dir) {
                    h.paths.push((dir.clone(), PathKind::Dir));
                }
            }
            h.paths.push((f.to_string(), PathKind::File));
        }
        h
    }

    /// What `not_installed` says of a profile (text) run with `argv` as
    /// the command (`--command`; empty: its own) on `host`: the message
    /// and hint, or None.
    fn said(text: &str, argv: &[&str], host: &FakeHost) -> Option<(String, String)> {
        let mut l = load_text("t.toml", None, text, &SearchPath::builtin_only());
        validate(&mut l, &Vars::example_user(), host);
        assert!(!l.has_errors(), "{:?}", l.diags);
        let plan = compile(
            &l,
            host,
            &Invocation {
                command: argv.iter().map(|a| a.into()).collect(),
                replace: !argv.is_empty(),
            },
        )
        .unwrap();
        not_installed(&l, &plan, host, Some("/usr/bin:/bin"))
            .map(|d| (d.message, d.hint.unwrap_or_default()))
    }

    const APP: &str =
        "extends = [\"default\"]\ncommand = [\"viewer\", \"--safe\"]\npackage = \"viewer-pkg\"\n";

    #[test]
    fn a_program_in_a_bound_folder_on_path_is_there() {
        let host = host_with(&["/usr/bin/viewer"]);
        assert_eq!(said(APP, &[], &host), None);
        // Through the /bin -> usr/bin link, by path.
        assert_eq!(said(APP, &["/bin/viewer"], &host), None);
    }

    #[test]
    fn a_program_nowhere_is_not_installed_with_its_package() {
        let host = host_with(&[]);
        let (message, hint) = said(APP, &[], &host).unwrap();
        assert!(
            message
                .starts_with("'viewer' is not installed: it is in no folder of the sandbox's PATH"),
            "{message}"
        );
        assert!(hint.contains("apt install viewer-pkg"), "{hint}");
        // Another command than the profile's: not its package.
        let (_, hint) = said(APP, &["other-tool"], &host).unwrap();
        assert!(!hint.contains("viewer-pkg"), "{hint}");
    }

    #[test]
    fn arguments_for_the_profiles_program_keep_its_package() {
        let host = host_with(&[]);
        let mut l = load_text("t.toml", None, APP, &SearchPath::builtin_only());
        validate(&mut l, &Vars::example_user(), &host);
        let inv = Invocation {
            command: vec!["file.txt".into()],
            replace: false,
        };
        let plan = compile(&l, &host, &inv).unwrap();
        let d = not_installed(&l, &plan, &host, Some("/usr/bin:/bin")).unwrap();
        assert!(d.hint.unwrap().contains("apt install viewer-pkg"));
        assert!(d.span.is_some(), "at the profile's command");
    }

    #[test]
    fn a_program_on_the_host_but_not_inside_says_what_to_bind() {
        let host = host_with(&["/opt/tool/bin/tool"]);
        let text = "extends = [\"default\"]\ncommand = [\"/opt/tool/bin/tool\"]\n";
        let (message, hint) = said(text, &[], &host).unwrap();
        assert_eq!(
            message,
            "'/opt/tool/bin/tool' is installed on the host (/opt/tool/bin/tool) but not inside the sandbox"
        );
        assert!(
            hint.starts_with("bind the folder it lives in (/opt/tool/bin)"),
            "{hint}"
        );
        // Bound below a folder the plan makes for the mount: there.
        let bound = format!("{text}[[mount]]\ntype = \"ro-bind\"\nsrc = \"/opt/tool/bin\"\n");
        assert_eq!(said(&bound, &[], &host), None);
    }

    #[test]
    fn a_file_the_profile_writes_is_there_only_when_executable() {
        let host = host_with(&[]);
        let text = |mode: &str| {
            format!(
                "extends = [\"default\"]\ncommand = [\"/run/hello\"]\n[[mount]]\ntype = \"file\"\ndst = \"/run/hello\"\ncontent = \"#!/bin/sh\\n\"\nmode = \"{mode}\"\n"
            )
        };
        assert_eq!(said(&text("0755"), &[], &host), None);
        // Not executable: there, and the run says so (126), not "missing".
        assert_eq!(said(&text("0644"), &[], &host), None);
        let hidden = format!(
            "{}[[mount]]\ntype = \"tmpfs\"\ndst = \"/run\"\n",
            text("0755")
        );
        assert!(said(&hidden, &[], &host).is_some());
    }
}
