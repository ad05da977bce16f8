//! The `sandbox` command line: parse arguments, call the library, map the
//! outcome to an exit code. No policy lives here.

mod cli;

use cli::{Cli, Command};
use sandbox::diag::{Diagnostic, Severity};
use sandbox::host::RealHost;
use sandbox::plan::{self, Invocation};
use sandbox::profile::{self, Loaded, SearchPath, Vars};
use std::process::ExitCode;

use sandbox::exit::{NOT_FOUND, SETUP_FAILED};

/// What the command line lays over the profile.
#[derive(Default)]
struct Layering {
    /// The --with profiles, as given.
    with: Vec<String>,
    /// The other overrides, in the order given.
    layers: Vec<profile::overrides::Layer>,
}

impl Layering {
    fn is_empty(&self) -> bool {
        self.with.is_empty() && self.layers.is_empty()
    }
}

/// The overrides in `m` (the matches of `run` or `plan`), in the order
/// given; an argument that stands for no profile text is an error said
/// here.
fn layering(m: &clap::ArgMatches) -> Result<Layering, ExitCode> {
    use profile::overrides::{Flag, layer};
    // No current folder: relative paths are errors (overrides.rs), never
    // taken from somewhere else.
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut given: Vec<(usize, Flag, Option<std::ffi::OsString>)> = vec![];
    for flag in Flag::ALL {
        let id = flag.id();
        // A flag's default (--no-network's count of 0) has an index too.
        if m.value_source(&id) != Some(clap::parser::ValueSource::CommandLine) {
            continue;
        }
        let indices: Vec<usize> = m.indices_of(&id).map(Iterator::collect).unwrap_or_default();
        if !flag.takes_value() {
            given.extend(indices.into_iter().map(|i| (i, flag, None)));
            continue;
        }
        let values = m.get_raw(&id).into_iter().flatten();
        for (i, v) in indices.into_iter().zip(values) {
            given.push((i, flag, Some(v.to_os_string())));
        }
    }
    given.sort_by_key(|(i, _, _)| *i);
    let mut layers = vec![];
    for (_, flag, value) in given {
        match layer(flag, value.as_deref(), &cwd) {
            Ok(l) => layers.push(l),
            Err(p) => {
                let shown = sandbox::diag::printable;
                eprintln!("command line: {}: error: {}", p.argument, shown(&p.message));
                if let Some(h) = p.hint {
                    eprintln!("  = hint: {}", shown(&h));
                }
                return Err(ExitCode::from(SETUP_FAILED));
            }
        }
    }
    let with = m
        .get_many::<String>("with")
        .map(|w| w.cloned().collect())
        .unwrap_or_default();
    Ok(Layering { with, layers })
}

fn search_path(vars: &Vars) -> SearchPath {
    SearchPath::standard(vars.xdg_dir("XDG_CONFIG_HOME", ".config"))
}

fn print_diags(loaded: &Loaded, diags: &[Diagnostic]) {
    for d in diags {
        eprint!("{}", d.render(&loaded.sources));
    }
}

/// Whether the plan's command is missing inside the sandbox: the error.
fn app_missing(
    loaded: &Loaded,
    p: &plan::Plan,
    vars: &Vars,
    host: &RealHost,
) -> Option<Diagnostic> {
    plan::app::not_installed(loaded, p, host, caller_path(vars))
}

/// The caller's PATH, where an app is looked for.
fn caller_path(vars: &Vars) -> Option<&str> {
    vars.env.get("PATH").and_then(|p| p.to_str())
}

/// `sandbox profiles`' mark for a profile whose app is not installed here.
fn not_installed_mark(
    l: &profile::resolve::Listed,
    vars: &Vars,
    host: &RealHost,
) -> Option<String> {
    if l.shadowed || l.name.starts_with("include/") {
        return None;
    }
    let mut loaded = profile::load(l.location.clone(), &search_path(vars));
    profile::validate(&mut loaded, vars, host);
    // A profile wrong in itself is for 'sandbox check' to explain.
    if loaded
        .diags
        .iter()
        .any(|d| d.is_error() && d.readiness.is_none())
    {
        return None;
    }
    let p = plan::compile(&loaded, host, &Invocation::default()).ok()?;
    app_missing(&loaded, &p, vars, host)?;
    Some(match &loaded.profile.package {
        Some(pkg) => format!("(not installed: apt install {})", pkg.value),
        None => "(not installed)".into(),
    })
}

/// Load and validate; problems, if any, are in the result's `diags`.
fn load_valid(spec: &str, vars: &Vars, host: &dyn sandbox::host::HostFacts) -> Loaded {
    load_valid_layered(spec, &Layering::default(), vars, host)
}

/// The same, with the command line's layer over the profile.
fn load_valid_layered(
    spec: &str,
    over: &Layering,
    vars: &Vars,
    host: &dyn sandbox::host::HostFacts,
) -> Loaded {
    let search = search_path(vars);
    let not_found = |d: Diagnostic| {
        let mut l = profile::load_text(spec, None, "", &search);
        l.diags = vec![d];
        l
    };
    let loc = match profile::locate(spec, &search) {
        Ok(l) => l,
        Err(d) => return not_found(d),
    };
    let mut with = vec![];
    for w in &over.with {
        match profile::locate(w, &search) {
            Ok(l) => with.push((w.clone(), l)),
            Err(d) => {
                let mut l = not_found(d);
                let at = profile::resolve::with_argument(&mut l.sources, w);
                l.diags[0].span = Some(at);
                return l;
            }
        }
    }
    let mut loaded = profile::resolve::load_layered(loc, &with, &over.layers, &search);
    // Semantic checks run even after syntax problems: every problem at once.
    profile::validate(&mut loaded, vars, host);
    loaded
}

/// The caller's places `sandbox audit` looks for.
fn audit_caller(vars: &Vars) -> sandbox::audit::Caller {
    let text = |v: Option<&std::ffi::OsString>| {
        v.and_then(|v| v.to_str())
            .filter(|v| v.starts_with('/') && *v != "/")
            .map(str::to_string)
    };
    sandbox::audit::Caller {
        home: text(vars.home.as_ref()),
        runtime: text(vars.env.get("XDG_RUNTIME_DIR")),
        ssh_agent: text(vars.env.get("SSH_AUTH_SOCK")),
        wayland: vars
            .env
            .get("WAYLAND_DISPLAY")
            .and_then(|w| w.to_str())
            .filter(|w| !w.is_empty() && !w.contains('/'))
            .map(str::to_string),
        session_bus: vars
            .env
            .get("DBUS_SESSION_BUS_ADDRESS")
            .and_then(|a| a.to_str())
            .and_then(|a| a.strip_prefix("unix:path="))
            .map(|a| a.split(',').next().unwrap_or(a).to_string())
            .filter(|a| a.starts_with('/')),
    }
}

/// `sandbox audit`: each profile's report, 125 for one that cannot be
/// planned, 1 when one scores above `fail_above`.
fn audit(
    specs: &[String],
    json: bool,
    fail_above: Option<f64>,
    vars: &Vars,
    host: &RealHost,
) -> ExitCode {
    let caller = audit_caller(vars);
    let mut reports = vec![];
    for spec in specs {
        // Where code runs from later is taken as it is, unless the
        // profile names it: a missing one inside a writable bind is made
        // by the app, and no guard covers what is not there.
        let named = load_valid(
            spec,
            vars,
            &sandbox::audit::assumed::Assumed { host, real: vec![] },
        );
        let sources: Vec<String> = named
            .profile
            .mounts
            .iter()
            .filter_map(|m| vars.expand(&m.src.as_ref()?.value, None).ok())
            .collect();
        let real: Vec<String> = profile::guarded::places(vars)
            .into_iter()
            .filter(|g| g.guard == profile::guarded::Guard::Runs)
            .filter(|g| {
                !sources
                    .iter()
                    .any(|s| std::path::Path::new(s).starts_with(&g.path))
            })
            .map(|g| g.path)
            .collect();
        let assumed = sandbox::audit::assumed::Assumed { host, real };
        let l = load_valid(spec, vars, &assumed);
        if l.has_errors() {
            print_diags(&l, &l.diags);
            return ExitCode::from(SETUP_FAILED);
        }
        let p = match plan::compile(&l, &assumed, &Invocation::checking(&l)) {
            Ok(p) => p,
            Err(diags) => {
                print_diags(&l, &diags);
                return ExitCode::from(SETUP_FAILED);
            }
        };
        reports.push(sandbox::audit::audit(&l, &p, &assumed, &caller));
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("reports serialize")
        );
    } else {
        for r in &reports {
            print!("{}", sandbox::audit::render_text(r));
        }
    }
    match fail_above {
        Some(max) if reports.iter().any(|r| r.score > max) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn main() -> ExitCode {
    // A closed pipe (`sandbox plan | head`) ends the program quietly, as for
    // any Unix tool; the Rust runtime would otherwise ignore SIGPIPE and panic.
    sandbox::exec::sys::default_signal(libc::SIGPIPE);
    // A wrong command line is the launcher's own failure, as for env(1)
    // and timeout(1): 125, so a script can tell it from the app's exit.
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(v) => v,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(SETUP_FAILED),
            };
        }
    };
    let vars = Vars::from_process();
    let host = RealHost::new();
    // The overrides of `run` and `plan`, in the order given.
    let over = match matches.subcommand() {
        Some(("run" | "plan", m)) => match layering(m) {
            Ok(l) => l,
            Err(code) => return code,
        },
        _ => Layering::default(),
    };
    match cli.command {
        Command::Check { profiles } => {
            let mut ok = true;
            for spec in &profiles {
                let l = load_valid(spec, &vars, &host);
                print_diags(&l, &l.diags);
                if l.has_errors() {
                    ok = false;
                    continue;
                }
                // Host-dependent problems (a missing bind source) show in the plan.
                // Its own command when it has one: is the app there?
                match plan::compile(&l, &host, &Invocation::checking(&l)) {
                    Ok(p) => {
                        print_diags(&l, &p.warnings);
                        // A fragment has no command of its own: "true"
                        // stands in for one, and is not asked for.
                        if l.profile.command.is_some()
                            && let Some(d) = app_missing(&l, &p, &vars, &host)
                        {
                            print_diags(&l, &[d]);
                            ok = false;
                        }
                    }
                    Err(diags) => {
                        print_diags(&l, &diags);
                        ok = false;
                    }
                }
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Audit {
            profiles,
            json,
            fail_above,
        } => audit(&profiles, json, fail_above, &vars, &host),
        Command::DesktopEntry { profile, remove } => {
            let mut loaded = load_valid(&profile, &vars, &host);
            let verdict =
                sandbox::desktop::ready::check(&mut loaded, remove, &host, caller_path(&vars));
            print_diags(&loaded, &verdict.shown);
            if let Some(why) = verdict.why_not {
                eprintln!("{why}");
            }
            if !verdict.go {
                return ExitCode::from(1);
            }
            match sandbox::desktop::command(&loaded, &profile, remove, &vars) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("sandbox: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Plan {
            profile,
            json,
            calls,
            emit_profile,
            command,
            overrides: _,
            args,
        } => plan_then(
            &profile,
            &over,
            command,
            args,
            Then::Show {
                json,
                calls,
                emit: emit_profile,
            },
            &vars,
            &host,
        ),
        Command::Profiles { paths: true, .. } => {
            let search = search_path(&vars);
            for d in &search.dirs {
                let state = match std::fs::metadata(d) {
                    Ok(m) if m.is_dir() => "",
                    Ok(_) => "  (not a folder)",
                    Err(_) => "  (missing)",
                };
                println!("{}{state}", d.display());
            }
            if search.builtin {
                println!("(the profiles built into sandbox)");
            }
            ExitCode::SUCCESS
        }
        Command::Completions { shell } => {
            print!("{}", cli::completion(shell));
            ExitCode::SUCCESS
        }
        Command::Profiles { names: true, .. } => {
            let mut seen = vec![];
            for l in sandbox::profile::resolve::list(&search_path(&vars)) {
                if !seen.contains(&l.name) {
                    println!("{}", l.name);
                    seen.push(l.name);
                }
            }
            ExitCode::SUCCESS
        }
        Command::Profiles { .. } => {
            print!(
                "{}",
                sandbox::profile::resolve::list_text_marked(&search_path(&vars), &|l| {
                    not_installed_mark(l, &vars, &host)
                })
            );
            ExitCode::SUCCESS
        }
        Command::Ps { json, tree } => ps(json, tree),
        Command::Learn {
            profile,
            output,
            force,
            args,
        } => learn(profile.as_deref(), &output, force, args, &vars, &host),
        Command::Enter { sandbox, args } => match find_running(&sandbox, SETUP_FAILED) {
            Ok((folder, e)) => enter(&folder, &e, &args),
            Err(code) => code,
        },
        Command::Stop {
            sandbox,
            signal,
            timeout,
        } => stop(&sandbox, &signal, timeout),
        Command::Run {
            profile,
            command,
            status_fd,
            name,
            join_or_start,
            overrides: _,
            args,
        } => {
            let status = match status_fd.map(sandbox::exec::sys::status_descriptor) {
                None => None,
                Some(Ok(f)) => Some(sandbox::exec::Status::new(f)),
                Some(Err(e)) => {
                    eprintln!(
                        "sandbox: error: --status-fd {}: {e}: give a descriptor open for writing, e.g. --status-fd 3 3>status.jsonl",
                        status_fd.unwrap_or_default()
                    );
                    return ExitCode::from(SETUP_FAILED);
                }
            };
            sandbox::exec::state::make_folder(
                nix::unistd::geteuid().as_raw(),
                std::env::var_os("XDG_RUNTIME_DIR").as_deref(),
            );
            let then = match join_or_start {
                Some(n) => Then::JoinOrStart(status, n, !over.is_empty()),
                None => Then::Run(status, name),
            };
            plan_then(&profile, &over, command, args, then, &vars, &host)
        }
    }
}

/// What `plan` and `run` do once the plan is made.
enum Then {
    /// Print it (`sandbox plan`), as JSON with `json`, as the system calls
    /// it makes with `calls`; with `emit`, the profile instead.
    Show { json: bool, calls: bool, emit: bool },
    /// Run it (`sandbox run`), its events to the status stream if given.
    Run(Option<sandbox::exec::Status>, Option<String>),
    /// `sandbox run --join-or-start NAME`: its command in the running
    /// sandbox of that name, or run it with that name; whether the
    /// command line overrides the profile (which joining cannot apply).
    JoinOrStart(Option<sandbox::exec::Status>, String, bool),
}

/// `sandbox plan` and `sandbox run`: load, compile, show the diagnostics,
/// then show or run the plan.
fn plan_then(
    profile: &str,
    over: &Layering,
    replace: bool,
    args: Vec<std::ffi::OsString>,
    then: Then,
    vars: &Vars,
    host: &RealHost,
) -> ExitCode {
    let inv = Invocation {
        command: args,
        replace,
    };
    let (loaded, p) = match compiled(profile, over, &inv, vars, host) {
        Ok(v) => v,
        Err(code) => {
            if let Then::Run(Some(s), _) | Then::JoinOrStart(Some(s), _, _) = &then {
                s.profile_failed(SETUP_FAILED);
            }
            return code;
        }
    };
    print_diags(&loaded, &loaded.diags);
    print_diags(&loaded, &p.warnings);
    let missing = app_missing(&loaded, &p, vars, host);
    match then {
        Then::Show { json, calls, emit } => {
            // The plan is still shown: what run would do once it is installed.
            if let Some(mut d) = missing {
                d.severity = Severity::Warning;
                print_diags(&loaded, &[d]);
            }
            if emit {
                print!("{}", emitted(profile, over));
            } else if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&p).expect("plans serialize")
                );
            } else if calls {
                print!("{}", sandbox::exec::trace(&p, &caller()));
            } else {
                print!("{}", plan::render_text(&p));
            }
            ExitCode::SUCCESS
        }
        Then::JoinOrStart(status, name, overridden) => {
            if let Some(d) = missing {
                print_diags(&loaded, &[d]);
                return ExitCode::from(NOT_FOUND);
            }
            join_or_start(&p, status, name, overridden)
        }
        Then::Run(status, name) => {
            // Said before anything starts (pasta, the D-Bus proxy).
            if let Some(d) = missing {
                print_diags(&loaded, &[d]);
                if let Some(s) = &status {
                    s.profile_failed(NOT_FOUND);
                }
                return ExitCode::from(NOT_FOUND);
            }
            let caller = sandbox::exec::Caller {
                status,
                name,
                ..caller()
            };
            ExitCode::from(sandbox::exec::run(&p, &caller))
        }
    }
}

/// `sandbox plan --emit-profile`: the profile `spec` with the overrides,
/// as a profile. A path is made absolute, so that the text works from
/// wherever it is kept.
fn emitted(spec: &str, over: &Layering) -> String {
    let entry = |s: &String| match profile::resolve::is_path(s) {
        true => std::path::absolute(s).map_or(s.clone(), |p| p.display().to_string()),
        false => s.clone(),
    };
    let extends: Vec<String> = std::iter::once(&spec.to_string())
        .chain(&over.with)
        .map(entry)
        .collect();
    // A comment ends at a line's end: what the arguments hold is shown
    // escaped, never as lines of the profile.
    let with = over.with.iter().map(|w| format!("--with {w}"));
    let said: Vec<String> = std::iter::once(spec.to_string())
        .chain(with)
        .chain(over.layers.iter().map(|l| l.argument.clone()))
        .collect();
    let mut out = format!(
        "# made by sandbox plan --emit-profile\n# from {}\n",
        sandbox::diag::printable(&said.join(" "))
    );
    out.push_str(&profile::overrides::emit(&extends, &over.layers));
    out
}

fn compiled(
    spec: &str,
    over: &Layering,
    inv: &Invocation,
    vars: &Vars,
    host: &RealHost,
) -> Result<(Loaded, plan::Plan), ExitCode> {
    let loaded = load_valid_layered(spec, over, vars, host);
    if loaded.has_errors() {
        print_diags(&loaded, &loaded.diags);
        return Err(ExitCode::from(SETUP_FAILED));
    }
    match plan::compile(&loaded, host, inv) {
        Ok(p) => Ok((loaded, p)),
        Err(diags) => {
            print_diags(&loaded, &loaded.diags);
            print_diags(&loaded, &diags);
            Err(ExitCode::from(SETUP_FAILED))
        }
    }
}

/// The caller's environment, given to the executor rather than read by
/// it: what the app's is made from, and the session bus.
fn caller() -> sandbox::exec::Caller {
    sandbox::exec::Caller {
        env: std::env::vars_os().collect(),
        status: None,
        name: None,
        name_lock: None,
        learned: None,
    }
}

/// `sandbox run --join-or-start NAME`: under the lock of the caller's
/// state folder (held by the launcher until its entry is written), enter
/// the running sandbox named NAME with the plan's command, or start this
/// plan with that name.
fn join_or_start(
    p: &plan::Plan,
    status: Option<sandbox::exec::Status>,
    name: String,
    overridden: bool,
) -> ExitCode {
    use sandbox::exec::state;
    let euid = nix::unistd::geteuid().as_raw();
    let Some(folder) = state::folder(euid, std::env::var_os("XDG_RUNTIME_DIR").as_deref()) else {
        eprintln!(
            "sandbox: error: --join-or-start needs a state folder: XDG_RUNTIME_DIR is not set"
        );
        return ExitCode::from(SETUP_FAILED);
    };
    let lock = match state::lock_folder(&folder, euid) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "sandbox: error: --join-or-start: the state folder {}: {e}",
                folder.display()
            );
            return ExitCode::from(SETUP_FAILED);
        }
    };
    let running: Vec<state::Entry> = state::list(&folder, true)
        .into_iter()
        .filter(|e| e.name.as_deref() == Some(name.as_str()))
        .collect();
    match running.as_slice() {
        [] => {
            let caller = sandbox::exec::Caller {
                status,
                name: Some(name),
                name_lock: Some(lock),
                ..caller()
            };
            ExitCode::from(sandbox::exec::run(p, &caller))
        }
        [e] if e.profile != p.profile => {
            eprintln!(
                "sandbox: error: the sandbox named {name:?} ({}) runs profile {}, not {}: give another name, or stop it first",
                e.id, e.profile, p.profile
            );
            ExitCode::from(SETUP_FAILED)
        }
        // What the overrides change is set up when a sandbox starts:
        // joining one would run the command without them.
        [e] if overridden => {
            eprintln!(
                "sandbox: error: the sandbox named {name:?} ({}) is running, and the command line's overrides change only a sandbox that starts: drop them to join it, or give another name",
                e.id
            );
            ExitCode::from(SETUP_FAILED)
        }
        [e] => {
            drop(lock);
            let argv = p.steps.iter().find_map(|s| match &s.action {
                plan::Action::Exec { argv } => Some(argv.clone()),
                _ => None,
            });
            enter(&folder, e, &argv.unwrap_or_default())
        }
        more => {
            let ids: Vec<&str> = more.iter().map(|e| e.id.as_str()).collect();
            eprintln!(
                "sandbox: error: {} sandboxes are named {name:?}: give one of their IDs to sandbox enter: {}",
                more.len(),
                ids.join(" ")
            );
            ExitCode::from(SETUP_FAILED)
        }
    }
}

/// `sandbox enter`: `argv` in the running sandbox `e` of the state folder
/// `folder`; its exit status, or 125 (126, 127: its exec) with the reason.
fn enter(
    folder: &std::path::Path,
    e: &sandbox::exec::state::Entry,
    argv: &[std::ffi::OsString],
) -> ExitCode {
    use sandbox::exec::enter;
    if !e.enter {
        eprintln!(
            "sandbox: error: sandbox {} keeps no helper for sandbox enter (its profile sets process.enter = false, or its app keeps CAP_SYS_PTRACE or is its pid namespace's PID 1; sandbox plan says which)",
            e.id
        );
        return ExitCode::from(SETUP_FAILED);
    }
    let out = enter::call(folder, e, argv);
    if let Some(err) = out.error {
        eprintln!("sandbox: error: enter {}: {err}", e.id);
    }
    ExitCode::from(out.code)
}

/// The caller's running sandboxes (root: everyone's), stale entries of
/// its own removed.
fn running() -> Vec<sandbox::exec::state::Entry> {
    running_in_folders().into_iter().map(|(_, e)| e).collect()
}

/// As [`running`], with the folder of each entry.
fn running_in_folders() -> Vec<(std::path::PathBuf, sandbox::exec::state::Entry)> {
    use sandbox::exec::state;
    let euid = nix::unistd::geteuid().as_raw();
    let own = state::folder(euid, std::env::var_os("XDG_RUNTIME_DIR").as_deref());
    let folders = match euid {
        0 => state::all_folders(),
        _ => own.iter().cloned().collect(),
    };
    // Root removes stale entries only in its own folder: in a user's, a
    // folder swapped for a link between the listing and the unlink would
    // have root remove a file elsewhere.
    folders
        .iter()
        .flat_map(|f| {
            state::list(f, Some(f) == own.as_ref())
                .into_iter()
                .map(|e| (f.clone(), e))
        })
        .collect()
}

/// The one running sandbox of the caller's (root: anyone's) whose ID or
/// name is `which`, with its state folder; else the error said, and the
/// exit code.
fn find_running(
    which: &str,
    code: u8,
) -> Result<(std::path::PathBuf, sandbox::exec::state::Entry), ExitCode> {
    let mut matching: Vec<_> = running_in_folders()
        .into_iter()
        .filter(|(_, e)| e.id == which || e.name.as_deref() == Some(which))
        .collect();
    // Root's own sandboxes first: a user cannot take one of root's names
    // by planting an entry of that name in their own folder.
    let euid = nix::unistd::geteuid().as_raw();
    if matching.iter().any(|(_, e)| e.uid == euid) {
        matching.retain(|(_, e)| e.uid == euid);
    }
    if let [(_, e)] = matching.as_slice()
        && e.uid != euid
    {
        eprintln!(
            "sandbox: note: sandbox {} is uid {}'s: its launcher is that user's process, which sees what passes to and from it",
            e.id, e.uid
        );
    }
    match matching.len() {
        1 => Ok(matching.into_iter().next().expect("one")),
        0 => {
            eprintln!(
                "sandbox: error: no running sandbox of yours is {which:?} (sandbox ps lists them)"
            );
            Err(ExitCode::from(code))
        }
        n => {
            let ids: Vec<&str> = matching.iter().map(|(_, e)| e.id.as_str()).collect();
            eprintln!(
                "sandbox: error: {n} sandboxes are named {which:?}: give one of their IDs: {}",
                ids.join(" ")
            );
            Err(ExitCode::from(code))
        }
    }
}

/// `sandbox stop`: the signal to the launcher (which forwards it to the
/// app, and ends the sandbox with KILL at a second TERM), KILL after the
/// timeout; returns once the launcher is gone, and with it the sandbox.
fn stop(which: &str, signal: &str, timeout: f64) -> ExitCode {
    use nix::sys::signal::{Signal, kill};
    use sandbox::exec::state;
    let name = signal.trim_start_matches("SIG").to_ascii_uppercase();
    let Ok(sig) = format!("SIG{name}").parse::<Signal>() else {
        eprintln!(
            "sandbox: error: --signal {signal}: not a signal name (e.g. TERM, INT, HUP, KILL)"
        );
        return ExitCode::from(SETUP_FAILED);
    };
    if !(0.0..=86400.0).contains(&timeout) {
        eprintln!("sandbox: error: --timeout {timeout}: give seconds, 0 to 86400");
        return ExitCode::from(SETUP_FAILED);
    }
    let e = match find_running(which, 1) {
        Ok((_, e)) => e,
        Err(code) => return code,
    };
    // The pid is the launcher's only while it runs with the recorded start
    // time: checked just before each signal, so that a reused pid is never
    // signalled.
    let launcher = nix::unistd::Pid::from_raw(e.launcher);
    let same = || state::runs(e.launcher, e.launcher_start);
    // `sig`, then KILL if it is still there after `timeout`; KILL gets 5 s.
    for (sig, wait) in [
        (sig, std::time::Duration::from_secs_f64(timeout)),
        (Signal::SIGKILL, std::time::Duration::from_secs(5)),
    ] {
        if !same() {
            break;
        }
        let _ = kill(launcher, sig);
        let until = std::time::Instant::now() + wait;
        while same() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    if same() {
        eprintln!(
            "sandbox: error: sandbox {} (launcher {}) did not end",
            e.id, e.launcher
        );
        return ExitCode::from(1);
    }
    // Killed, the launcher had no chance to remove its entry: stale now.
    let _ = running();
    ExitCode::SUCCESS
}

/// `sandbox ps`: the caller's running sandboxes, stale entries removed.
fn ps(json: bool, tree: bool) -> ExitCode {
    let entries = running();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).expect("entries serialize")
        );
        return ExitCode::SUCCESS;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    println!(
        "{:<22} {:<16} {:<14} {:>7} {:>7} {:>6} {:>8}  COMMAND",
        "ID", "NAME", "PROFILE", "PID", "CHILD", "UID", "AGE"
    );
    for e in entries {
        let age = now.saturating_sub(e.started);
        let age = match age {
            a if a < 120 => format!("{a}s"),
            a if a < 7200 => format!("{}m", a / 60),
            a => format!("{}h", a / 3600),
        };
        println!(
            "{:<22} {:<16} {:<14} {:>7} {:>7} {:>6} {:>8}  {}",
            e.id,
            sandbox::diag::printable(e.name.as_deref().unwrap_or("-")),
            sandbox::diag::printable(&e.profile),
            e.launcher,
            e.child,
            e.uid,
            age,
            sandbox::diag::printable(&e.command.join(" "))
        );
        if tree {
            for (depth, pid, command) in sandbox::exec::state::tree(e.launcher) {
                println!(
                    "{:>22} {}{pid} {}",
                    "",
                    "  ".repeat(depth + 1),
                    sandbox::diag::printable(&command)
                );
            }
        }
    }
    ExitCode::SUCCESS
}

/// Load `text` as a profile named `name`, checked; its errors printed.
fn load_checked(name: &str, text: &str, vars: &Vars, host: &RealHost) -> Result<Loaded, ExitCode> {
    let dir = std::path::Path::new(name)
        .parent()
        .filter(|d| !d.as_os_str().is_empty());
    let mut l = profile::load_text(name, dir, text, &search_path(vars));
    profile::validate(&mut l, vars, host);
    if l.has_errors() {
        print_diags(&l, &l.diags);
        return Err(ExitCode::from(SETUP_FAILED));
    }
    Ok(l)
}

/// `sandbox learn`: the learning run, then the draft (see learn/).
fn learn(
    spec: Option<&str>,
    output: &std::ffi::OsStr,
    force: bool,
    args: Vec<std::ffi::OsString>,
    vars: &Vars,
    host: &RealHost,
) -> ExitCode {
    use sandbox::learn;
    use std::os::unix::fs::OpenOptionsExt;
    let to_stdout = output == "-";
    let Some(out_path) = output.to_str().map(std::path::PathBuf::from) else {
        eprintln!(
            "command line: --output: error: the draft's path is not UTF-8, which a profile's folder cannot be"
        );
        return ExitCode::from(SETUP_FAILED);
    };
    if !to_stdout && !force && std::fs::symlink_metadata(&out_path).is_ok() {
        eprintln!(
            "command line: --output {}: error: it exists: give another path, or --force to replace it",
            out_path.display()
        );
        return ExitCode::from(SETUP_FAILED);
    }
    // The draft's folder, opened now: the app may write where it is (the
    // current folder) and change what is there by the time the draft is
    // written, which must then neither follow a link it left nor write
    // into a folder it swapped in.
    let out_dir = if to_stdout {
        None
    } else {
        let dir = match out_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(d) => d.to_path_buf(),
            None => std::path::PathBuf::from("."),
        };
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&dir);
        match opened {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!(
                    "command line: --output {}: error: its folder {}: {e}",
                    out_path.display(),
                    dir.display()
                );
                return ExitCode::from(SETUP_FAILED);
            }
        }
    };
    let base: Vec<String> = match spec {
        Some(s) if profile::resolve::is_path(s) => {
            vec![std::path::absolute(s).map_or(s.to_string(), |p| p.display().to_string())]
        }
        Some(s) => vec![s.to_string()],
        None => vec!["base".into(), "home-private".into()],
    };
    if let Some(s) = spec
        && let Err(d) = profile::locate(s, &search_path(vars))
    {
        let mut l = profile::load_text(s, None, "", &search_path(vars));
        l.diags = vec![d];
        print_diags(&l, &l.diags);
        return ExitCode::from(SETUP_FAILED);
    }
    let text = |p: Option<&std::ffi::OsString>| p.and_then(|p| p.to_str()).map(str::to_string);
    let home = text(vars.home.as_ref());
    let pwd = text(vars.pwd.as_ref());
    let inv = Invocation {
        command: args,
        replace: false,
    };
    let quoted: Vec<String> = base.iter().map(|b| learn::toml_string(b)).collect();
    let base_text = format!("extends = [{}]\n", quoted.join(", "));
    let plan_of = |l: &Loaded| match plan::compile(l, host, &inv) {
        Ok(p) => Ok(p),
        Err(diags) => {
            print_diags(l, &diags);
            Err(ExitCode::from(SETUP_FAILED))
        }
    };
    let base_loaded = match load_checked("the draft's base (sandbox learn)", &base_text, vars, host)
    {
        Ok(l) => l,
        Err(c) => return c,
    };
    let base_plan = match plan_of(&base_loaded) {
        Ok(p) => p,
        Err(c) => return c,
    };
    // Root's app runs as nobody on the host, for whom root's home is
    // closed: it is not bound (its files are not the app's to use).
    let home_bound = vars.uid != 0 && home.is_some();
    let pwd_bound = match (&pwd, &home) {
        (Some(p), Some(h)) => p != "/" && !(home_bound && std::path::Path::new(p).starts_with(h)),
        (Some(p), None) => p != "/",
        _ => false,
    };
    let learning_text = learn::learning_profile(&base, home_bound, pwd_bound);
    let loaded = match load_checked(
        "the learning run (sandbox learn)",
        &learning_text,
        vars,
        host,
    ) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let mut learning_plan = match plan_of(&loaded) {
        Ok(p) => p,
        Err(c) => return c,
    };
    if !learn::learning(&mut learning_plan) {
        eprintln!(
            "sandbox: learn: error: the profile loads no seccomp filter (seccomp.policy = \"none\"), and the learning run sees the app's calls through one: learn with a profile that has a policy"
        );
        return ExitCode::from(SETUP_FAILED);
    }
    if let Some(d) = app_missing(&loaded, &learning_plan, vars, host) {
        print_diags(&loaded, &[d]);
        return ExitCode::from(NOT_FOUND);
    }
    let shown: Vec<String> = learning_plan
        .steps
        .iter()
        .find_map(|s| match &s.action {
            plan::Action::Exec { argv } => Some(
                argv.iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    let record = learn::Record::default();
    let caller = sandbox::exec::Caller {
        learned: Some(record.clone()),
        ..caller()
    };
    let code = sandbox::exec::run(&learning_plan, &caller);
    let events = record.lock().map(|r| r.clone()).unwrap_or_default();
    if events.is_empty() && code == SETUP_FAILED {
        eprintln!("sandbox: learn: the learning run did not start (above): no draft written");
        return ExitCode::from(SETUP_FAILED);
    }
    // Without a profile of its own, the draft runs the command itself
    // (when every word is text a profile can hold).
    let own_command = spec
        .is_none()
        .then(|| {
            inv.command
                .iter()
                .map(|a| a.to_str().map(str::to_string))
                .collect()
        })
        .flatten();
    let cx = learn::draft::Context {
        extends: base,
        command: shown.join(" "),
        own_command,
        home,
        pwd,
        guarded: profile::guarded::places(vars),
        host,
        learning: &learning_plan,
        base: &base_plan,
    };
    let draft = learn::draft::draft(&events, &cx);
    let runs_itself = cx.own_command.is_some();
    if code != 0 {
        eprintln!(
            "sandbox: learn: warning: the command exited with {code}: the draft holds what it used until then"
        );
    }
    if to_stdout {
        print!("{}", draft.text);
    } else {
        use std::os::fd::AsFd;
        use std::os::unix::ffi::OsStrExt;
        let name = out_path
            .file_name()
            .and_then(|n| std::ffi::CString::new(n.as_bytes()).ok());
        let written = match (&out_dir, name) {
            (Some(dir), Some(name)) => {
                sandbox::exec::sys::write_new_in(dir.as_fd(), &name, draft.text.as_bytes(), force)
            }
            _ => Err(std::io::Error::from_raw_os_error(libc::EINVAL)),
        };
        if let Err(e) = written {
            eprintln!(
                "sandbox: learn: error: writing the draft to {}: {e}",
                out_path.display()
            );
            return ExitCode::from(SETUP_FAILED);
        }
    }
    // The draft must check, and show every place the run needed.
    let name = if to_stdout {
        "the draft".to_string()
    } else {
        out_path.display().to_string()
    };
    let checked =
        load_checked(&name, &draft.text, vars, host).and_then(|l| plan_of(&l).map(|p| (l, p)));
    match checked {
        Ok((l, p)) => {
            print_diags(&l, &p.warnings);
            for g in &draft.grants {
                let (path, writes) = (&g.path, &g.writable);
                let s = sandbox::audit::view::sight(
                    &p,
                    host,
                    path,
                    sandbox::audit::view::Access::Files,
                );
                if !s.is_some_and(|s| s.writable || !writes) {
                    eprintln!(
                        "sandbox: learn: note: the draft does not give {path}{}, which the run used (see the end of the draft)",
                        if *writes { " writable" } else { "" }
                    );
                }
            }
        }
        Err(_) => eprintln!(
            "sandbox: learn: warning: the draft does not check (above): edit it before use"
        ),
    }
    let again: Vec<String> = inv
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if !to_stdout {
        eprintln!(
            "sandbox: learn: wrote {} ({} mount{}). Next: sandbox check {0}; sandbox plan {0}; sandbox run {0}{}",
            out_path.display(),
            draft.grants.len(),
            if draft.grants.len() == 1 { "" } else { "s" },
            match runs_itself {
                true => String::new(),
                false => format!(" -- {}", sandbox::diag::printable(&again.join(" "))),
            }
        );
    }
    ExitCode::from(code)
}
