//! Desktop integration: a `.desktop` launcher that starts an app through its
//! profile. Where the app ships its own entry (the profile's
//! `desktop_entry`), a copy goes under the same file name in the user's
//! applications folder, which the desktop prefers to the system one: the
//! menu item, its actions and its file associations then all run
//! sandboxed. Otherwise a plain entry `sandbox-NAME.desktop` is written.
//! Pure text in, text out; the CLI does the file system.

use std::path::{Path, PathBuf};

/// The key that marks an entry this tool wrote (and may remove).
pub const MARK: &str = "X-Sandbox-Profile";

/// Where the app's own entry is looked for: each `$XDG_DATA_DIRS` folder's
/// `applications` (default `/usr/local/share:/usr/share`).
pub fn system_dirs(xdg_data_dirs: Option<&str>) -> Vec<PathBuf> {
    xdg_data_dirs
        .filter(|d| !d.is_empty())
        .unwrap_or("/usr/local/share:/usr/share")
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join("applications"))
        .collect()
}

/// Quote one argument for an Exec line (the desktop entry specification's
/// rules: double quotes, with `"`, `` ` ``, `$` and `\` escaped).
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.+,=:@%".contains(c));
    if plain {
        return arg.to_string();
    }
    let mut q = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    // In a desktop file's string value, a backslash is itself escaped.
    q.replace('\\', "\\\\")
}

/// `sandbox run NAME --` as the start of an Exec line.
fn run_prefix(sandbox: &str, name: &str) -> String {
    format!("{} run {} --", quote(sandbox), quote(name))
}

/// The app's own entry, rewritten so that every Exec runs through the
/// profile. Keys that would start the app some other way go: `TryExec`
/// (hides the entry if the program is missing, no longer our business) and
/// `DBusActivatable` (the desktop would ask D-Bus to start the app,
/// outside the sandbox).
pub fn rewrite(original: &str, sandbox: &str, name: &str) -> String {
    let prefix = run_prefix(sandbox, name);
    let mut out = String::new();
    let mut marked = false;
    for line in original.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        if key == "TryExec" || key == "DBusActivatable" || key == MARK {
            continue;
        }
        if key == "Exec" {
            let value = line.split_once('=').map(|(_, v)| v.trim()).unwrap_or("");
            if value.starts_with(&prefix) {
                out.push_str(&format!("Exec={value}\n"));
            } else {
                out.push_str(&format!("Exec={prefix} {value}\n"));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "[Desktop Entry]" && !marked {
            out.push_str(&format!("{MARK}={name}\n"));
            marked = true;
        }
    }
    out
}

/// A new entry for a profile whose app ships none.
pub fn generate(name: &str, description: Option<&str>, sandbox: &str, terminal: bool) -> String {
    let mut t = String::from("[Desktop Entry]\nType=Application\n");
    t.push_str(&format!("Name={name} (sandboxed)\n"));
    if let Some(d) = description {
        t.push_str(&format!("Comment={}\n", d.replace('\n', " ")));
    }
    t.push_str(&format!("Exec={} run {}\n", quote(sandbox), quote(name)));
    t.push_str(&format!("Terminal={terminal}\n"));
    t.push_str("Categories=Utility;\n");
    t.push_str(&format!("{MARK}={name}\n"));
    t
}

/// Whether `text` is an entry this tool wrote for profile `name`.
pub fn written_for(text: &str, name: &str) -> bool {
    text.lines().any(|l| l.trim() == format!("{MARK}={name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX: &str = "[Desktop Entry]
Name=Firefox ESR
Exec=/usr/lib/firefox-esr/firefox-esr %u
TryExec=firefox-esr
DBusActivatable=false
Icon=firefox-esr
MimeType=text/html;x-scheme-handler/https;
Actions=new-window;

[Desktop Action new-window]
Name=New Window
Exec=/usr/lib/firefox-esr/firefox-esr --new-window %u
";

    #[test]
    fn every_exec_runs_through_the_profile() {
        let t = rewrite(FIREFOX, "/usr/local/bin/sandbox", "firefox");
        assert!(t.contains(
            "Exec=/usr/local/bin/sandbox run firefox -- /usr/lib/firefox-esr/firefox-esr %u\n"
        ));
        assert!(t.contains("Exec=/usr/local/bin/sandbox run firefox -- /usr/lib/firefox-esr/firefox-esr --new-window %u\n"));
        assert!(!t.contains("TryExec") && !t.contains("DBusActivatable"));
        assert!(t.contains("Icon=firefox-esr\nMimeType=text/html;x-scheme-handler/https;\n"));
        assert!(t.starts_with("[Desktop Entry]\nX-Sandbox-Profile=firefox\n"));
        assert!(written_for(&t, "firefox") && !written_for(&t, "chromium"));
        // Rewriting again changes nothing.
        assert_eq!(rewrite(&t, "/usr/local/bin/sandbox", "firefox"), t);
    }

    #[test]
    fn odd_paths_are_quoted() {
        assert_eq!(quote("/opt/my tools/sandbox"), "\"/opt/my tools/sandbox\"");
        assert_eq!(quote("a$b"), "\"a\\\\$b\"");
        let t = generate("curl", Some("fetch"), "/x/sandbox", true);
        assert!(t.contains("Exec=/x/sandbox run curl\nTerminal=true\n"));
        assert!(written_for(&t, "curl"));
    }

    #[test]
    fn data_dirs_default_and_override() {
        assert_eq!(
            system_dirs(None),
            vec![
                PathBuf::from("/usr/local/share/applications"),
                PathBuf::from("/usr/share/applications")
            ]
        );
        assert_eq!(
            system_dirs(Some("/a:")),
            vec![PathBuf::from("/a/applications")]
        );
    }
}
