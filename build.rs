//! Embeds every profile under `profiles/` into the binary, so that
//! `sandbox run NAME` works with nothing installed beside it; and makes
//! the manual pages and completion scripts into `assets/` beside the
//! binary (`target/<host>/release/assets/{man,completions}`), where the
//! Debian package takes them from (Cargo.toml, `package.metadata.deb`).

use std::fs;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/cli.rs"]
mod cli;
#[path = "src/manual.rs"]
mod manual;

/// `target/<host>/<profile>/assets`: OUT_DIR is `<that>/../build/sandbox-HASH/out`.
fn assets() -> Option<PathBuf> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR")?);
    Some(out.ancestors().nth(3)?.join("assets"))
}

/// The manual pages and completion scripts, into `dir`.
fn write_assets(dir: &Path) -> std::io::Result<()> {
    use clap::CommandFactory;
    let man = dir.join("man");
    let completions = dir.join("completions");
    fs::create_dir_all(&man)?;
    fs::create_dir_all(&completions)?;
    manual::write_cli_pages(cli::Cli::command(), &man)?;
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/profile-format.md");
    println!("cargo:rerun-if-changed={}", reference.display());
    let page = manual::roff(
        &fs::read_to_string(reference)?,
        "sandbox-profile",
        "5",
        "the TOML profiles of sandbox(1)",
    );
    fs::write(man.join("sandbox-profile.5"), page)?;
    for (shell, file) in [
        (clap_complete::Shell::Bash, "sandbox.bash"),
        (clap_complete::Shell::Zsh, "_sandbox"),
        (clap_complete::Shell::Fish, "sandbox.fish"),
    ] {
        fs::write(completions.join(file), cli::completion(shell))?;
    }
    Ok(())
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            collect(&path, &format!("{prefix}{name}/"), out);
        } else if let Some(stem) = name.strip_suffix(".toml") {
            out.push((
                format!("{prefix}{stem}"),
                path.canonicalize().unwrap().display().to_string(),
            ));
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut found = vec![];
    collect(&root, "", &mut found);
    let mut code = String::from(
        "/// (name, text) of every shipped profile, `include/NAME` for fragments.\npub const BUILTIN: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &found {
        println!("cargo:rerun-if-changed={path}");
        code.push_str(&format!("    ({name:?}, include_str!({path:?})),\n"));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_profiles.rs");
    fs::write(out, code).unwrap();
    println!("cargo:rerun-if-changed=src/cli.rs");
    println!("cargo:rerun-if-changed=src/manual.rs");
    if let Some(dir) = assets()
        && let Err(e) = write_assets(&dir)
    {
        panic!(
            "cannot write the manual pages and completions into {}: {e}",
            dir.display()
        );
    }
}
