//! `sandbox desktop-entry`: a `.desktop` launcher that starts an app through
//! its profile. Where the app ships its own entry (the profile's
//! `desktop_entry`), a copy goes under the same file name in the user's
//! applications folder, which the desktop prefers to the system one: the
//! menu item, its actions and its file associations then all run
//! sandboxed. Otherwise a plain entry `sandbox-NAME.desktop` is written.
//! `entry.rs` makes the text; this file finds the files and writes them.

pub mod entry;
pub mod ready;

use crate::profile::{self, Category, Loaded, Vars};
use std::path::{Path, PathBuf};

/// Write (or with `remove`, delete) the launcher for the profile `spec`,
/// already loaded and valid. Progress goes to stdout; the error, if any,
/// is returned for the CLI to print. Nothing is written unless every value
/// the launcher holds could be written into it.
pub fn command(loaded: &Loaded, spec: &str, remove: bool, vars: &Vars) -> Result<(), String> {
    let p = &loaded.profile;
    // What the launcher runs: the profile's name, or its absolute path.
    let (name, run_spec) = if profile::resolve::is_path(spec) {
        let abs = std::fs::canonicalize(spec).map_err(|e| format!("{spec}: {e}"))?;
        if !abs.is_file() {
            return Err(format!(
                "{spec} is not a file a launcher could name each time it starts (a pipe?): save the profile to a file"
            ));
        }
        let stem = abs.file_stem().map(|s| s.to_string_lossy().into_owned());
        let abs = abs.into_os_string().into_string().map_err(|p| {
            format!(
                "the profile's path {} is not UTF-8, which a desktop entry cannot hold",
                Path::new(&p).display()
            )
        })?;
        (stem.unwrap_or_default(), abs)
    } else {
        (spec.replace('/', "-"), spec.to_string())
    };
    let data_home = vars
        .xdg_dir("XDG_DATA_HOME", ".local/share")
        .ok_or("neither XDG_DATA_HOME nor HOME is set: nowhere to put the launcher")?;
    let dir = data_home.join("applications");
    let own = p.desktop_entry.as_ref().map(|e| e.value.clone());
    let system = own.as_ref().and_then(|e| {
        entry::system_dirs(vars.env.get("XDG_DATA_DIRS").map(|d| d.as_os_str()))
            .into_iter()
            .map(|d| d.join(format!("{e}.desktop")))
            .find(|f| f.is_file())
    });
    let file = match (&own, &system) {
        (Some(e), Some(_)) => dir.join(format!("{e}.desktop")),
        _ => dir.join(format!("sandbox-{name}.desktop")),
    };
    if remove {
        return remove_launchers(&dir, own.as_deref(), &name, &run_spec);
    }
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot tell where the sandbox binary is: {e}"))?
        .into_os_string()
        .into_string()
        .map_err(|p| {
            format!(
                "the sandbox binary's path {} is not UTF-8, which a desktop entry cannot hold",
                Path::new(&p).display()
            )
        })?;
    let text = match &system {
        Some(src) => {
            let original =
                std::fs::read_to_string(src).map_err(|e| format!("{}: {e}", src.display()))?;
            entry::rewrite(&original, &exe, &run_spec)
        }
        None => {
            let terminal = p.category.as_ref().map(|c| c.value) != Some(Category::Desktop);
            let desc = p.description.as_ref().map(|d| d.value.as_str());
            let title = p.name.as_ref().map_or(name.as_str(), |n| n.value.as_str());
            entry::generate(title, &run_spec, desc, &exe, terminal)
        }
    }
    .map_err(|e| format!("cannot write a launcher for '{run_spec}': {e}"))?;
    if let Ok(existing) = std::fs::read_to_string(&file)
        && !entry::written_for(&existing, &run_spec)
    {
        return Err(format!(
            "{} exists and was not written by sandbox: move it away first",
            file.display()
        ));
    }
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&file, text))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    match &system {
        Some(src) => println!(
            "wrote {} (from {}; every Exec runs through '{run_spec}')",
            file.display(),
            src.display()
        ),
        None => println!("wrote {}", file.display()),
    }
    Ok(())
}

/// `--remove`: delete what this tool wrote for `run_spec`, nothing else.
fn remove_launchers(
    dir: &Path,
    own: Option<&str>,
    name: &str,
    run_spec: &str,
) -> Result<(), String> {
    let mut removed = false;
    let candidates: Vec<PathBuf> = own
        .iter()
        .map(|e| dir.join(format!("{e}.desktop")))
        .chain([dir.join(format!("sandbox-{name}.desktop"))])
        .collect();
    for f in candidates {
        match std::fs::read_to_string(&f) {
            Ok(text) if entry::written_for(&text, run_spec) => {
                std::fs::remove_file(&f).map_err(|e| format!("{}: {e}", f.display()))?;
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
        return Err(format!("no launcher for '{run_spec}' in {}", dir.display()));
    }
    Ok(())
}
