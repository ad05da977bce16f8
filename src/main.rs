//! The `sandbox` command line: parse arguments, call the library, map the
//! outcome to an exit code. No policy lives here.

use clap::{Parser, Subcommand};
use sandbox::diag::Diagnostic;
use sandbox::host::RealHost;
use sandbox::plan::{self, Invocation};
use sandbox::profile::{self, Loaded, SearchPath, Vars};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when the sandbox could not be set up (bad profile, failed step).
const SETUP_FAILED: u8 = 125;

#[derive(Parser)]
#[command(
    name = "sandbox",
    version,
    about = "Run programs in a sandbox described by a TOML profile"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a command in the sandbox a profile describes.
    Run {
        /// A profile name (searched on the profile path) or a path to a .toml file.
        #[arg(default_value = "default")]
        profile: String,
        /// The command and its arguments; default: the profile's `command`.
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Check profiles: exit 0 when every one is valid (warnings are printed), 1 otherwise.
    Check {
        #[arg(required = true)]
        profiles: Vec<String>,
    },
    /// Print the steps `run` would take, each with the profile line it comes from.
    Plan {
        profile: String,
        /// Print the plan as JSON (format in docs/cli.md).
        #[arg(long)]
        json: bool,
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// List the profiles on the search path, with their descriptions.
    Profiles,
    /// Write a desktop launcher (~/.local/share/applications) that starts the
    /// app through its profile; with --remove, take it away again.
    DesktopEntry {
        /// A profile name (or a path to a .toml file).
        profile: String,
        #[arg(long)]
        remove: bool,
    },
}

fn search_path(vars: &Vars) -> SearchPath {
    SearchPath::standard(vars.xdg_dir("XDG_CONFIG_HOME", ".config"))
}

fn print_diags(loaded: &Loaded, diags: &[Diagnostic]) {
    for d in diags {
        eprint!("{}", d.render(&loaded.sources));
    }
}

/// Load and validate; problems, if any, are in the result's `diags`.
fn load_valid(spec: &str, vars: &Vars, host: &RealHost) -> Loaded {
    let search = search_path(vars);
    let loc = match profile::locate(spec, &search) {
        Ok(l) => l,
        Err(d) => {
            let mut l = profile::load_text(spec, None, "", &search);
            l.diags = vec![d];
            return l;
        }
    };
    let mut loaded = profile::load(loc, &search);
    // Semantic checks run even after syntax problems: every problem at once.
    profile::validate(&mut loaded, vars, host);
    loaded
}

fn main() -> ExitCode {
    // A closed pipe (`sandbox plan | head`) ends the program quietly, as for
    // any Unix tool; the Rust runtime would otherwise ignore SIGPIPE and panic.
    // SAFETY: restoring the default disposition before anything else runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let vars = Vars::from_process();
    let host = RealHost::new();
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
                if let Err(diags) = plan::compile(
                    &l,
                    &host,
                    &Invocation {
                        command: vec!["true".into()],
                    },
                ) {
                    print_diags(&l, &diags);
                    ok = false;
                }
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::DesktopEntry { profile, remove } => desktop_entry(&profile, remove, &vars, &host),
        Command::Plan {
            profile,
            json,
            command,
        } => {
            let (loaded, p) = match compiled(&profile, command, &vars, &host) {
                Ok(v) => v,
                Err(code) => return code,
            };
            print_diags(&loaded, &loaded.diags);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&p).expect("plans serialize")
                );
            } else {
                print!("{}", plan::render_text(&p));
            }
            ExitCode::SUCCESS
        }
        Command::Profiles => {
            print!(
                "{}",
                sandbox::profile::resolve::list_text(&search_path(&vars))
            );
            ExitCode::SUCCESS
        }
        Command::Run { profile, command } => {
            let (loaded, p) = match compiled(&profile, command, &vars, &host) {
                Ok(v) => v,
                Err(code) => return code,
            };
            print_diags(&loaded, &loaded.diags);
            ExitCode::from(sandbox::exec::run(&p))
        }
    }
}

fn compiled(
    spec: &str,
    command: Vec<String>,
    vars: &Vars,
    host: &RealHost,
) -> Result<(Loaded, plan::Plan), ExitCode> {
    let loaded = load_valid(spec, vars, host);
    if loaded.has_errors() {
        print_diags(&loaded, &loaded.diags);
        return Err(ExitCode::from(SETUP_FAILED));
    }
    match plan::compile(&loaded, host, &Invocation { command }) {
        Ok(p) => Ok((loaded, p)),
        Err(diags) => {
            print_diags(&loaded, &loaded.diags);
            print_diags(&loaded, &diags);
            Err(ExitCode::from(SETUP_FAILED))
        }
    }
}

/// `sandbox desktop-entry`: see src/desktop.rs.
fn desktop_entry(spec: &str, remove: bool, vars: &Vars, host: &RealHost) -> ExitCode {
    use sandbox::desktop;
    let fail = |msg: String| {
        eprintln!("sandbox: {msg}");
        ExitCode::from(1)
    };
    let loaded = load_valid(spec, vars, host);
    if loaded.has_errors() {
        print_diags(&loaded, &loaded.diags);
        return ExitCode::from(1);
    }
    let p = &loaded.profile;
    // What the launcher runs: the profile's name, or its absolute path.
    let (name, run_spec) = if profile::resolve::is_path(spec) {
        let abs = std::fs::canonicalize(spec).unwrap_or_else(|_| PathBuf::from(spec));
        let stem = abs
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        (stem, abs.display().to_string())
    } else {
        (spec.to_string(), spec.to_string())
    };
    let Some(data_home) = vars.xdg_dir("XDG_DATA_HOME", ".local/share") else {
        return fail("neither XDG_DATA_HOME nor HOME is set: nowhere to put the launcher".into());
    };
    let dir = data_home.join("applications");
    let own = p.desktop_entry.as_ref().map(|e| e.value.clone());
    let data_dirs = vars
        .env
        .get("XDG_DATA_DIRS")
        .and_then(|d| d.to_str())
        .map(str::to_owned);
    let system = own.as_ref().and_then(|entry| {
        desktop::system_dirs(data_dirs.as_deref())
            .into_iter()
            .map(|d| d.join(format!("{entry}.desktop")))
            .find(|f| f.is_file())
    });
    let file = match (&own, &system) {
        (Some(entry), Some(_)) => dir.join(format!("{entry}.desktop")),
        _ => dir.join(format!("sandbox-{name}.desktop")),
    };
    if remove {
        let mut removed = false;
        let candidates = own
            .iter()
            .map(|e| dir.join(format!("{e}.desktop")))
            .chain([dir.join(format!("sandbox-{name}.desktop"))]);
        for f in candidates {
            match std::fs::read_to_string(&f) {
                Ok(text) if desktop::written_for(&text, &run_spec) => {
                    if let Err(e) = std::fs::remove_file(&f) {
                        return fail(format!("{}: {e}", f.display()));
                    }
                    println!("removed {}", f.display());
                    removed = true;
                }
                Ok(_) => eprintln!(
                    "sandbox: {} was not written by sandbox for '{run_spec}': left alone",
                    f.display()
                ),
                Err(_) => {}
            }
        }
        if !removed {
            return fail(format!("no launcher for '{run_spec}' in {}", dir.display()));
        }
        return ExitCode::SUCCESS;
    }
    let exe = std::env::current_exe()
        .map(|e| e.display().to_string())
        .unwrap_or_else(|_| "sandbox".into());
    let text = match &system {
        Some(src) => match std::fs::read_to_string(src) {
            Ok(original) => desktop::rewrite(&original, &exe, &run_spec),
            Err(e) => return fail(format!("{}: {e}", src.display())),
        },
        None => {
            let terminal = p.category.as_ref().map(|c| c.value) != Some(profile::Category::Desktop);
            let desc = p.description.as_ref().map(|d| d.value.as_str());
            desktop::generate(&run_spec, desc, &exe, terminal)
        }
    };
    if let Ok(existing) = std::fs::read_to_string(&file)
        && !desktop::written_for(&existing, &run_spec)
    {
        return fail(format!(
            "{} exists and was not written by sandbox: move it away first",
            file.display()
        ));
    }
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&file, text)) {
        return fail(format!("{}: {e}", file.display()));
    }
    match &system {
        Some(src) => println!(
            "wrote {} (from {}; every Exec runs through '{run_spec}')",
            file.display(),
            src.display()
        ),
        None => println!("wrote {}", file.display()),
    }
    ExitCode::SUCCESS
}
