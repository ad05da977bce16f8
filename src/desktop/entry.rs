//! The text of a desktop entry (the freedesktop.org Desktop Entry
//! Specification): the app's own entry rewritten so that every `Exec` runs
//! through the profile, or a new one. Pure text in, text out.
//!
//! Every value written is escaped as the specification says, so that no
//! value can add a key or a line: string values take the general escapes
//! (`\\ \n \t \r`, `\s` for a space at either end), and an `Exec`
//! argument is quoted when it holds a reserved character, with `%` as `%%`,
//! before the general escapes. What cannot be escaped (a control character
//! in an `Exec` argument, any other control character) is refused.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The key that marks an entry this tool wrote (and may remove).
pub const MARK: &str = "X-Sandbox-Profile";

/// Where the app's own entry is looked for: each `$XDG_DATA_DIRS` folder's
/// `applications` (default `/usr/local/share:/usr/share`), bytes kept.
pub fn system_dirs(xdg_data_dirs: Option<&OsStr>) -> Vec<PathBuf> {
    xdg_data_dirs
        .filter(|d| !d.is_empty())
        .unwrap_or(OsStr::new("/usr/local/share:/usr/share"))
        .as_bytes()
        .split(|b| *b == b':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(OsStr::from_bytes(d)).join("applications"))
        .collect()
}

/// A control character `what` holds, as an error.
fn control(what: &str, c: char) -> String {
    format!(
        "{what} holds the control character U+{:04X}, which a desktop entry cannot hold",
        c as u32
    )
}

/// A string value (Name, Comment, the mark): the general escapes.
fn string_value(what: &str, s: &str) -> Result<String, String> {
    let last = s.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // A parser trims the spaces around a value.
            ' ' if i == 0 || i == last => out.push_str("\\s"),
            c if c.is_control() => return Err(control(what, c)),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The characters that make an `Exec` argument need quotes.
const RESERVED: &str = " \t\n\"'\\><~|&;$*?#()`";

/// One argument of an `Exec` line: quoted (in `"`, with `"` `` ` `` `$` `\`
/// escaped by a backslash) when it holds a reserved character or is
/// empty, `%` written `%%` (a field code otherwise), then the general
/// escapes. A control character is refused: a newline or a tab could only
/// be carried by the general escapes, which launchers do not all apply
/// before splitting the line, and the others not at all.
fn exec_arg(what: &str, arg: &str) -> Result<String, String> {
    if let Some(c) = arg.chars().find(|c| c.is_control()) {
        return Err(control(what, c));
    }
    let mut q = String::with_capacity(arg.len() + 2);
    let quoted = arg.is_empty() || arg.contains(|c| RESERVED.contains(c));
    if quoted {
        q.push('"');
    }
    for c in arg.chars() {
        match c {
            '"' | '`' | '$' | '\\' if quoted => {
                q.push('\\');
                q.push(c);
            }
            '%' => q.push_str("%%"),
            c => q.push(c),
        }
    }
    if quoted {
        q.push('"');
    }
    // The general escapes: here only the backslash can occur.
    Ok(q.replace('\\', "\\\\"))
}

/// `SANDBOX run PROFILE` as the start of an Exec line.
fn run_command(sandbox: &str, profile: &str) -> Result<String, String> {
    Ok(format!(
        "{} run {}",
        exec_arg("the sandbox binary's path", sandbox)?,
        exec_arg("the profile's name or path", profile)?
    ))
}

/// The app's own entry, rewritten so that every Exec runs through the
/// profile: `Exec=SANDBOX run --command PROFILE -- ORIGINAL` (the original
/// is the whole command, not arguments for the profile's), the original kept as it
/// is written (its quoting, escapes and field codes such as `%u` stay what
/// they were: arguments are separated at the space before it). Keys that
/// would start the app some other way go: `TryExec` (hides the entry if the
/// program is missing, no longer our business) and `DBusActivatable` (the
/// desktop would ask D-Bus to start the app, outside the sandbox).
pub fn rewrite(original: &str, sandbox: &str, profile: &str) -> Result<String, String> {
    let prefix = format!(
        "{} run --command {} --",
        exec_arg("the sandbox binary's path", sandbox)?,
        exec_arg("the profile's name or path", profile)?
    );
    let mark = mark_line(profile)?;
    let mut out = String::new();
    let mut marked = false;
    for line in original.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        if key == "TryExec" || key == "DBusActivatable" || key == MARK {
            continue;
        }
        if key == "Exec" {
            let value = line.split_once('=').map(|(_, v)| v.trim()).unwrap_or("");
            if value.starts_with(&prefix) || value.is_empty() {
                out.push_str(&format!(
                    "Exec={}\n",
                    if value.is_empty() { &prefix } else { value }
                ));
            } else {
                out.push_str(&format!("Exec={prefix} {value}\n"));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "[Desktop Entry]" && !marked {
            out.push_str(&mark);
            marked = true;
        }
    }
    Ok(out)
}

/// A new entry for a profile whose app ships none; `title` is what the
/// menu shows.
pub fn generate(
    title: &str,
    profile: &str,
    description: Option<&str>,
    sandbox: &str,
    terminal: bool,
) -> Result<String, String> {
    let mut t = String::from("[Desktop Entry]\nType=Application\n");
    let name = string_value("the profile's name", &format!("{title} (sandboxed)"))?;
    t.push_str(&format!("Name={name}\n"));
    if let Some(d) = description {
        t.push_str(&format!(
            "Comment={}\n",
            string_value("the profile's description", d)?
        ));
    }
    t.push_str(&format!("Exec={}\n", run_command(sandbox, profile)?));
    t.push_str(&format!("Terminal={terminal}\n"));
    t.push_str("Categories=Utility;\n");
    t.push_str(&mark_line(profile)?);
    Ok(t)
}

/// `X-Sandbox-Profile=PROFILE` and its newline.
fn mark_line(profile: &str) -> Result<String, String> {
    Ok(format!(
        "{MARK}={}\n",
        string_value("the profile's name or path", profile)?
    ))
}

/// Whether `text` is an entry this tool wrote for `profile`.
pub fn written_for(text: &str, profile: &str) -> bool {
    let Ok(mark) = mark_line(profile) else {
        return false;
    };
    text.lines().any(|l| l.trim() == mark.trim_end())
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
        let t = rewrite(FIREFOX, "/usr/local/bin/sandbox", "firefox").unwrap();
        assert!(t.contains(
            "Exec=/usr/local/bin/sandbox run --command firefox -- /usr/lib/firefox-esr/firefox-esr %u\n"
        ));
        assert!(t.contains("Exec=/usr/local/bin/sandbox run --command firefox -- /usr/lib/firefox-esr/firefox-esr --new-window %u\n"));
        assert!(!t.contains("TryExec") && !t.contains("DBusActivatable"));
        assert!(t.contains("Icon=firefox-esr\nMimeType=text/html;x-scheme-handler/https;\n"));
        assert!(t.starts_with("[Desktop Entry]\nX-Sandbox-Profile=firefox\n"));
        assert!(written_for(&t, "firefox") && !written_for(&t, "chromium"));
        // Rewriting again changes nothing.
        assert_eq!(rewrite(&t, "/usr/local/bin/sandbox", "firefox").unwrap(), t);
    }

    #[test]
    fn values_are_escaped_as_the_specification_says() {
        let arg = |a: &str| exec_arg("x", a).unwrap();
        assert_eq!(arg("/opt/my tools/sandbox"), "\"/opt/my tools/sandbox\"");
        // `$` escaped for the quoting, that backslash escaped again as a
        // string value.
        assert_eq!(arg("a$b"), "\"a\\\\$b\"");
        assert_eq!(arg("a\\b"), "\"a\\\\\\\\b\"");
        assert_eq!(arg("50%"), "50%%");
        assert_eq!(arg("it's"), "\"it's\"");
        assert_eq!(arg(""), "\"\"");
        assert!(
            exec_arg("the path", "a\nb")
                .unwrap_err()
                .contains("the path holds the control character U+000A")
        );
        assert!(exec_arg("x", "a\tb").is_err());
        assert_eq!(string_value("x", " a\\b\nc ").unwrap(), "\\sa\\\\b\\nc\\s");
        assert!(string_value("x", "a\u{1b}b").is_err());
        let t = generate("curl", "curl", Some("fetch"), "/x/sandbox", true).unwrap();
        assert!(t.contains("Exec=/x/sandbox run curl\nTerminal=true\n"));
        assert!(written_for(&t, "curl"));
        let t = generate("b", "/p/a\\b.toml", Some("two\nlines"), "/x/sandbox", false).unwrap();
        assert!(t.contains("Comment=two\\nlines\n"), "{t}");
        assert!(t.contains("X-Sandbox-Profile=/p/a\\\\b.toml\n"), "{t}");
        assert!(written_for(&t, "/p/a\\b.toml"));
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
            system_dirs(Some(OsStr::new("/a:"))),
            vec![PathBuf::from("/a/applications")]
        );
    }
}
