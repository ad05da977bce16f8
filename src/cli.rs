//! The command line's definition: every subcommand and option, for the
//! binary to parse, and for build.rs to make the manual pages and the
//! completion scripts from (it includes this file, so nothing here may
//! use the library). The scripts complete profile names where a PROFILE
//! goes, from `sandbox profiles --names`.

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

#[derive(Parser)]
#[command(
    name = "sandbox",
    version,
    about = "Run programs in a sandbox described by a TOML profile"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a command in the sandbox a profile describes.
    Run {
        /// A profile name (searched on the profile path) or a path to a .toml file.
        #[arg(default_value = "default")]
        profile: String,
        /// What follows `--` is the command to run instead of the profile's
        /// (for an app's profile, whose words after `--` are its arguments).
        #[arg(long)]
        command: bool,
        /// Write the run's events as JSON lines to this open descriptor
        /// (started, setup-failed, exited; docs/cli.md).
        #[arg(long, value_name = "FD")]
        status_fd: Option<i32>,
        /// A name for this sandbox, shown by `sandbox ps` (letters, digits,
        /// '.', '_', '-'; at most 64).
        #[arg(long, value_parser = sandbox_name)]
        name: Option<String>,
        /// Run the command in the running sandbox of this name (as `sandbox
        /// enter` does) if there is one, else start the sandbox with this
        /// name.
        #[arg(long, value_name = "NAME", value_parser = sandbox_name, conflicts_with = "name")]
        join_or_start: Option<String>,
        #[command(flatten)]
        overrides: Overrides,
        /// Arguments for the profile's command, or the command to run (see
        /// the profile's `arguments`, and --command).
        #[arg(last = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Check profiles: exit 0 when every one is valid (warnings are printed), 1 otherwise.
    Check {
        #[arg(required = true)]
        profiles: Vec<String>,
    },
    /// Score what each profile exposes of you and the host (0: nothing,
    /// 10: all the host user has), with each finding's weight and the
    /// profile line that causes it (docs/audit.md).
    Audit {
        #[arg(required = true)]
        profiles: Vec<String>,
        /// One JSON array of the reports (format in docs/audit.md).
        #[arg(long)]
        json: bool,
        /// Exit 1 when a profile scores above SCORE (for CI).
        #[arg(long, value_name = "SCORE", value_parser = score)]
        fail_above: Option<f64>,
    },
    /// Run a command in a permissive variant of a profile, record what it
    /// opens, runs, writes, connects to and binds, and write a draft
    /// profile that grants that and nothing more (docs/learn.md). The
    /// learning run sees the host's files as you do: run only what you
    /// would run without a sandbox.
    Learn {
        /// The profile the draft extends, and whose command the words
        /// after `--` are for (default: the fragments base and
        /// home-private, and the words are the command).
        profile: Option<String>,
        /// Where the draft is written ("-": standard output, after the run).
        #[arg(long, short, value_name = "FILE")]
        output: std::ffi::OsString,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
        /// The command to run, or the profile's command's arguments.
        #[arg(last = true, required = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Print the steps `run` would take, each with the profile line it comes from.
    Plan {
        /// A profile name (searched on the profile path) or a path to a .toml file.
        profile: String,
        /// Print the plan as JSON (format in docs/cli.md).
        #[arg(long)]
        json: bool,
        /// Print the system calls the plan makes, in order, with their
        /// arguments, recorded without making them (docs/cli.md).
        #[arg(long, conflicts_with = "json")]
        calls: bool,
        /// Print the profile the overrides make, as TOML to keep: it
        /// extends PROFILE and each --with, then says what the options say.
        #[arg(long, conflicts_with_all = ["json", "calls"])]
        emit_profile: bool,
        /// As for `run`.
        #[arg(long)]
        command: bool,
        #[command(flatten)]
        overrides: Overrides,
        #[arg(last = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// List the profiles on the search path, with their descriptions.
    Profiles {
        /// Print the search path instead: each folder, in the order a name
        /// is looked for, and whether it exists.
        #[arg(long)]
        paths: bool,
        /// Print only the names, one a line (fragments as include/NAME),
        /// as the completion scripts offer them.
        #[arg(long, conflicts_with = "paths")]
        names: bool,
    },
    /// Print a completion script for SHELL (bash, zsh, fish, elvish,
    /// powershell): subcommands, options, and profile names for bash, zsh
    /// and fish.
    Completions { shell: clap_complete::Shell },
    /// Stop a running sandbox (by the ID or NAME `sandbox ps` shows): SIGNAL
    /// (default TERM) to its launcher, which passes it to the app; KILL
    /// after TIMEOUT seconds (default 10).
    Stop {
        sandbox: String,
        #[arg(long, default_value = "TERM")]
        signal: String,
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
    /// List your running sandboxes (root: everyone's).
    Ps {
        /// One JSON array of the entries (format in docs/cli.md).
        #[arg(long)]
        json: bool,
        /// Each sandbox's processes, as a tree under its launcher.
        #[arg(long, conflicts_with = "json")]
        tree: bool,
    },
    /// Run a command inside a running sandbox (by the ID or NAME `sandbox
    /// ps` shows), with the app's namespaces, ids, capabilities, filter,
    /// Landlock domain, limits, environment and working directory; by
    /// default the app's $SHELL, else /bin/sh. Exits with the command's
    /// status.
    Enter {
        sandbox: String,
        #[arg(last = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Write a desktop launcher (~/.local/share/applications) that starts the
    /// app through its profile; with --remove, take it away again.
    DesktopEntry {
        /// A profile name (or a path to a .toml file).
        profile: String,
        #[arg(long)]
        remove: bool,
    },
}

/// The options of `run` and `plan` that override the profile: one layer
/// over it, applied in the order given, after each --with (docs/cli.md,
/// "Overrides"). Each stands for profile text (src/profile/overrides.rs);
/// main reads them in order from the matches, by the ids of
/// `overrides::Flag`.
#[derive(clap::Args)]
#[command(next_help_heading = "Overrides (a layer over the profile, in the order given)")]
pub struct Overrides {
    /// Stack a profile or fragment (a name or a path) over the profile,
    /// before the other overrides.
    #[arg(long, value_name = "PROFILE")]
    with: Vec<String>,
    /// Bind the host's SRC read-write at DST (default: the same path); a
    /// relative SRC is from the current folder.
    #[arg(long, value_name = "SRC[:DST]")]
    bind: Vec<std::ffi::OsString>,
    /// As --bind, skipped when SRC is missing.
    #[arg(long, value_name = "SRC[:DST]")]
    bind_try: Vec<std::ffi::OsString>,
    /// Bind the host's SRC read-only at DST.
    #[arg(long, value_name = "SRC[:DST]")]
    ro_bind: Vec<std::ffi::OsString>,
    /// As --ro-bind, skipped when SRC is missing.
    #[arg(long, value_name = "SRC[:DST]")]
    ro_bind_try: Vec<std::ffi::OsString>,
    /// Bind the host's SRC at DST with device nodes working.
    #[arg(long, value_name = "SRC[:DST]")]
    dev_bind: Vec<std::ffi::OsString>,
    /// An empty tmpfs at DST.
    #[arg(long, value_name = "DST")]
    tmpfs: Vec<std::ffi::OsString>,
    /// A copy-on-write view of the host's SRC at DST (default: the same
    /// path), whose changes vanish with the sandbox.
    #[arg(long, value_name = "SRC[:DST]")]
    overlay: Vec<std::ffi::OsString>,
    /// The network: none (loopback only), pasta (user-mode), veth (root),
    /// or host (the host's own network namespace, not isolated).
    #[arg(long, value_name = "MODE")]
    net: Vec<std::ffi::OsString>,
    /// The same as --net none.
    #[arg(long, action = clap::ArgAction::Count)]
    no_network: u8,
    /// Report each system call the seccomp filter refuses (its name,
    /// arguments and the rule), from the launcher, on stderr; the app gets
    /// the same errno (seccomp.trace = true).
    #[arg(long, action = clap::ArgAction::Count)]
    trace_denials: u8,
    /// Forward the host's port to the sandbox's (pasta): [tcp:|udp:][ADDR:]HOST:SANDBOX.
    #[arg(long, value_name = "HOST:SANDBOX")]
    forward: Vec<std::ffi::OsString>,
    /// Set a variable in the app's environment.
    #[arg(long, value_name = "NAME=VALUE")]
    env: Vec<std::ffi::OsString>,
    /// Keep a variable (a name or glob) out of the app's environment.
    #[arg(long, value_name = "NAME")]
    unset_env: Vec<std::ffi::OsString>,
    /// Pass the caller's variable (a name or glob) to the app.
    #[arg(long, value_name = "NAME")]
    keep_env: Vec<std::ffi::OsString>,
    /// The sandbox's host name.
    #[arg(long, value_name = "NAME")]
    hostname: Vec<std::ffi::OsString>,
    /// The app's working directory, inside the sandbox.
    #[arg(long, value_name = "DIR")]
    cwd: Vec<std::ffi::OsString>,
    /// The app's uid inside the sandbox.
    #[arg(long, value_name = "UID")]
    uid: Vec<std::ffi::OsString>,
    /// The app's gid inside the sandbox.
    #[arg(long, value_name = "GID")]
    gid: Vec<std::ffi::OsString>,
    /// End the sandbox after this long ("30s", "5m", "1h30m"); exit 124.
    #[arg(long, value_name = "DURATION")]
    timeout: Vec<std::ffi::OsString>,
    /// Refuse a system call or @group (in addition to the profile's).
    #[arg(long, value_name = "SYSCALL")]
    deny: Vec<std::ffi::OsString>,
    /// Allow a system call or @group the profile refuses.
    #[arg(long, value_name = "SYSCALL")]
    allow: Vec<std::ffi::OsString>,
    /// Set any profile key: KEY is its TOML path, VALUE TOML or a bare
    /// string (--set landlock.compat=hard, --set 'cgroup.memory="2G"').
    #[arg(long, value_name = "KEY=VALUE")]
    set: Vec<std::ffi::OsString>,
}

/// `--name`: what `sandbox ps` can show in a column and a file name.
pub fn sandbox_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !s.starts_with('.');
    match ok {
        true => Ok(s.to_string()),
        false => {
            Err("a name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'".into())
        }
    }
}

/// A score of `sandbox audit --fail-above`: 0 to 10.
fn score(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=10.0).contains(&v) => Ok(v),
        _ => Err("a score is a number from 0 to 10".into()),
    }
}

/// The completion script for `shell`: clap's, with profile names where a
/// PROFILE goes (bash, zsh and fish).
pub fn completion(shell: Shell) -> String {
    let mut cmd = Cli::command();
    let mut buf = vec![];
    clap_complete::generate(shell, &mut cmd, "sandbox", &mut buf);
    let script = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        Shell::Bash => script + &bash_profiles(&cmd),
        Shell::Zsh => zsh_profiles(&script),
        Shell::Fish => script + FISH_PROFILES,
        _ => script,
    }
}

/// The subcommands that take a PROFILE (or several), with the options of
/// each that take a value (the word after one is not the profile).
fn takes_profile(cmd: &clap::Command) -> Vec<(String, Vec<String>, bool)> {
    cmd.get_subcommands()
        .filter(|s| {
            s.get_positionals()
                .any(|a| ["profile", "profiles"].contains(&a.get_id().as_str()))
        })
        .map(|s| {
            let valued = s
                .get_arguments()
                .filter(|a| a.get_action().takes_values() && !a.is_positional())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect();
            let many = s.get_positionals().any(|a| a.get_id() == "profiles");
            (s.get_name().to_string(), valued, many)
        })
        .collect()
}

/// bash: the first word after the subcommand that is neither an option
/// nor an option's value is a PROFILE (each word, for `check`), and so is
/// the value of --with; elsewhere clap's completion answers.
fn bash_profiles(cmd: &clap::Command) -> String {
    let mut cases = String::new();
    for (name, valued, many) in takes_profile(cmd) {
        let many = u8::from(many);
        cases.push_str(&format!(
            "        {name}) valued=\" {} \"; many={many} ;;\n",
            valued.join(" ")
        ));
    }
    format!(
        r#"
# Profile names where a PROFILE goes (sandbox profiles --names).
_sandbox_profiles() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} valued many i w
    case "${{COMP_WORDS[1]}}" in
{cases}        *) _sandbox "$@"; return ;;
    esac
    if [[ $prev != --with ]]; then
        if [[ $cur == -* || $valued == *" $prev "* ]]; then _sandbox "$@"; return; fi
        for ((i = 2; i < COMP_CWORD; i++)); do
            w=${{COMP_WORDS[i]}}
            if [[ $w == -- ]]; then _sandbox "$@"; return; fi
            if [[ $w == -* ]]; then
                [[ $valued == *" $w "* ]] && ((i++))
                continue
            fi
            if ((!many)); then _sandbox "$@"; return; fi
        done
    fi
    COMPREPLY=($(compgen -W "$(sandbox profiles --names 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur"))
}}
complete -F _sandbox_profiles -o nosort -o bashdefault -o default sandbox
"#
    )
}

/// zsh: clap's script, with the PROFILE arguments (and --with) completed
/// by a function that offers the names and files.
fn zsh_profiles(script: &str) -> String {
    let mut out = String::new();
    for l in script.lines() {
        let profile = l.starts_with("'::profile")
            || l.starts_with("':profile")
            || l.starts_with("'*::profiles")
            || l.starts_with("'*--with=");
        match l.strip_suffix(":_default' \\") {
            Some(head) if profile => {
                out.push_str(head);
                out.push_str(":_sandbox_profile_names' \\");
            }
            _ => out.push_str(l),
        }
        out.push('\n');
    }
    let names = r#"(( $+functions[_sandbox_profile_names] )) ||
_sandbox_profile_names() {
    local -a names
    names=(${(f)"$(sandbox profiles --names 2>/dev/null)"})
    _alternative 'profiles:profile:compadd -a names' 'files:file:_files'
}

"#;
    match out.rfind("if [ \"$funcstack[1]\" = \"_sandbox\" ]") {
        Some(at) => format!("{}{names}{}", &out[..at], &out[at..]),
        None => out + names,
    }
}

/// fish: names where a PROFILE goes, beside the files fish offers.
const FISH_PROFILES: &str = r#"
# Profile names where a PROFILE goes (sandbox profiles --names).
complete -c sandbox -n "__fish_seen_subcommand_from run plan check audit learn desktop-entry" -a "(sandbox profiles --names 2>/dev/null)"
complete -c sandbox -n "__fish_seen_subcommand_from run plan" -l with -r -a "(sandbox profiles --names 2>/dev/null)"
"#;
