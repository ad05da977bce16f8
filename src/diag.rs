//! Source files, spans and diagnostics.
//!
//! Every value a user can get wrong carries a [`Span`]: which file, and which
//! bytes of it. A [`Diagnostic`] renders as `FILE:LINE:COL: error: ...`
//! followed by the offending line and a caret, so that a problem found at
//! any stage (loading, validation, planning, or a failed mount at run time)
//! points at the line that asked for it.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// Index of a file in [`Sources`].
pub type FileId = u32;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: std::ops::Range<usize>) -> Self {
        Span {
            file,
            start: range.start as u32,
            end: range.end as u32,
        }
    }
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

/// One loaded profile file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// What the user is shown: a path, or `<builtin>/NAME.toml` for a
    /// profile embedded in the binary.
    pub name: String,
    /// The folder `${PROFILE_DIR}` expands to (None for embedded ones).
    pub dir: Option<PathBuf>,
    /// For the text an argument of the command line stands for (`--bind
    /// /a`, src/profile/overrides.rs): that argument, as given.
    pub argument: Option<String>,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// Where it lies in the stack of layers the profile is merged from:
    /// higher is applied later (a profile above what it extends, the
    /// command line above the files).
    pub layer: u32,
}

/// Every file read while loading one profile (the file and its `extends`).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, name: String, dir: Option<&Path>, text: String) -> FileId {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.files.push(SourceFile {
            name,
            dir: dir.map(Path::to_path_buf),
            argument: None,
            text,
            line_starts,
            layer: 0,
        });
        (self.files.len() - 1) as FileId
    }

    /// The profile text `text` that the command line's `argument` stands
    /// for: shown as `command line: ARGUMENT`.
    pub fn add_argument(&mut self, argument: String, text: String) -> FileId {
        let id = self.add(COMMAND_LINE.into(), None, text);
        self.files[id as usize].argument = Some(argument);
        id
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id as usize]
    }

    /// Record that file `id` is applied as the `layer`th layer.
    pub fn set_layer(&mut self, id: FileId, layer: u32) {
        self.files[id as usize].layer = layer;
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let f = self.file(span.file);
        let off = (span.start as usize).min(f.text.len());
        let line = f.line_starts.partition_point(|&s| s <= off) - 1;
        let start = f.line_starts[line];
        let col = f.text[start..off].chars().count() + 1;
        (line + 1, col)
    }

    /// `FILE:LINE:COL` of a span.
    pub fn origin(&self, span: Span) -> Origin {
        let (line, col) = self.line_col(span);
        let f = self.file(span.file);
        Origin {
            file: f.name.clone(),
            line,
            col,
            argument: f.argument.clone(),
        }
    }

    fn line_text(&self, span: Span) -> &str {
        let f = self.file(span.file);
        let (line, _) = self.line_col(span);
        let start = f.line_starts[line - 1];
        let end = f
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(f.text.len());
        f.text[start..end].trim_end_matches('\r')
    }
}

/// The name of the source an override of the command line is.
pub const COMMAND_LINE: &str = "command line";

/// Where a plan step or a diagnostic comes from, resolved to text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// For an override, the command line's argument (`file` is then
    /// "command line", and line and column are in the profile text the
    /// argument stands for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.argument {
            Some(a) => write!(f, "{}: {a}", self.file),
            None => write!(f, "{}:{}:{}", self.file, self.line, self.col),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What a problem of this machine, rather than of the profile, stands in
/// the way of: running the sandbox only, or the app itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Something the sandbox needs around the app is missing here: a
    /// helper it starts (pasta, xdg-dbus-proxy, newuidmap), the right to
    /// create a cgroup. Needed to run, not to write a launcher.
    Setup,
    /// The app itself is not installed, or not inside the sandbox.
    App,
}

/// One problem found in a profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// None for problems that belong to no file (e.g. a profile name that is
    /// found nowhere on the search path when given on the command line).
    pub span: Option<Span>,
    pub message: String,
    pub hint: Option<String>,
    /// Set for a problem of this machine rather than of the profile.
    pub readiness: Option<Readiness>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            span: Some(span),
            message: message.into(),
            hint: None,
            readiness: None,
        }
    }
    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }
    pub fn global(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            span: None,
            message: message.into(),
            hint: None,
            readiness: None,
        }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Mark it as a problem of this machine, not of the profile.
    pub fn of_host(mut self, r: Readiness) -> Self {
        self.readiness = Some(r);
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `FILE:LINE:COL: error: message`, the source line, a caret, the hint.
    pub fn render(&self, sources: &Sources) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let Some(span) = self.span else {
            let mut out = format!("sandbox: {sev}: {}\n", printable(&self.message));
            if let Some(h) = &self.hint {
                out.push_str(&format!("  = hint: {}\n", printable(h)));
            }
            return out;
        };
        let origin = sources.origin(span);
        let line = sources.line_text(span);
        let width = {
            let f = sources.file(span.file);
            let end = (span.end as usize).min(f.text.len());
            let start = (span.start as usize).min(end);
            let text = &f.text[start..end];
            text.lines().next().unwrap_or("").chars().count().max(1)
        };
        // What the message quotes of the input (an argument, a name) may
        // hold line breaks or escape sequences: shown, never acted on.
        let mut out = format!(
            "{}: {sev}: {}\n",
            printable(&origin.to_string()),
            printable(&self.message)
        );
        // An argument that stands for no text (`--with FILE`) is all there
        // is to show.
        if origin.argument.is_some() && sources.file(span.file).text.is_empty() {
            if let Some(h) = &self.hint {
                out.push_str(&format!("  = hint: {}\n", printable(h)));
            }
            return out;
        }
        // An argument's profile text is one line: shown as what the
        // argument means, without a line number.
        let (number, shown, indent) = match origin.argument {
            Some(_) => (String::new(), "as a profile: ", 14),
            None => (origin.line.to_string(), "", 0),
        };
        let gutter = number.len();
        out.push_str(&format!("{:gutter$} |\n", ""));
        out.push_str(&format!("{number} | {shown}{line}\n"));
        out.push_str(&format!(
            "{:gutter$} | {}{}\n",
            "",
            " ".repeat(origin.col - 1 + indent),
            "^".repeat(width)
        ));
        if let Some(h) = &self.hint {
            out.push_str(&format!("{:gutter$} = hint: {}\n", "", printable(h)));
        }
        out
    }
}

/// `text` with control characters shown as `\\xNN`: what the socket
/// says, what `sandbox ps` shows of entries any user may write, and the
/// command line's arguments are printed to a terminal (root's, too) and
/// into the plan's lines.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// The closest of `candidates` to `word`, when it is close enough to be a
/// likely typo ("did you mean ...?").
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The names among `candidates` a mistyped `word` most likely meant, best
/// first, at most three: those a likely typo away (as for [`suggest`]),
/// and those `word` begins (`redis` for `redis-server`).
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &'a str)> = candidates
        .iter()
        .filter(|c| **c != word)
        .filter_map(|c| {
            let d = edit_distance(word, c);
            let typo = d <= (c.len().max(word.len()) / 3).max(1);
            let prefix = word.chars().count() >= 3 && c.starts_with(word);
            (typo || prefix).then_some((if typo { d } else { c.len() - word.len() }, *c))
        })
        .collect();
    scored.sort_by_key(|(d, c)| (*d, c.len(), *c));
    scored.dedup_by_key(|(_, c)| *c);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment): "moutn" is one typo away from "mount".
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_chars() {
        let mut s = Sources::default();
        let f = s.add("p.toml".into(), None, "a = 1\nbé = 2\n".into());
        assert_eq!(s.line_col(Span::new(f, 0..1)), (1, 1));
        assert_eq!(s.line_col(Span::new(f, 6..7)), (2, 1));
        // 'é' is two bytes, one column
        assert_eq!(s.line_col(Span::new(f, 10..11)), (2, 4));
    }

    #[test]
    fn render_shows_line_and_caret() {
        let mut s = Sources::default();
        let f = s.add("p.toml".into(), None, "[mount]\nmoutn = 1\n".into());
        let d = Diagnostic::error(Span::new(f, 8..13), "unknown key 'moutn'")
            .with_hint("did you mean 'mount'?");
        let r = d.render(&s);
        assert!(
            r.starts_with("p.toml:2:1: error: unknown key 'moutn'\n"),
            "{r}"
        );
        assert!(r.contains("2 | moutn = 1\n"), "{r}");
        assert!(r.contains("  | ^^^^^\n"), "{r}");
        assert!(r.contains("= hint: did you mean 'mount'?"), "{r}");
    }

    #[test]
    fn nearest_names_are_typos_and_prefixes() {
        let names = [
            "firefox",
            "chromium",
            "redis-server",
            "default",
            "include/x11",
            "x11",
        ];
        assert_eq!(nearest("firfox", &names), ["firefox"]);
        assert_eq!(nearest("defualt", &names), ["default"]);
        assert_eq!(nearest("redis", &names), ["redis-server"]);
        assert_eq!(nearest("x1l", &names), ["x11"]);
        assert!(nearest("zzzzzz", &names).is_empty());
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(suggest("moutn", &["mount", "network"]), Some("mount"));
        assert_eq!(suggest("xyz", &["mount", "network"]), None);
        assert_eq!(suggest("ro_bind", &["ro-bind", "bind"]), Some("ro-bind"));
    }
}
