//! TOML syntax problems as their causes, not their echoes.
//!
//! `toml`'s error-recovering parser reports each place its recovery later
//! stumbles on: one missing `]` after an array gives a dozen errors down
//! the file, the real one among them, and its recovered tree then gives
//! the checks after it a dozen more (a table that became an array, keys
//! that moved to the wrong table). This module takes the first problem,
//! reports it where it was made (the `[` that is never closed, the string
//! that runs to the end of its line, not where the parser noticed), repairs
//! the text there (puts in the missing `]`, quote or `=`, or leaves the
//! line out) and parses again: what the parser still finds past the
//! repaired line is a problem of its own, and so on. The repaired text is
//! what gets decoded, so the checks after parsing see the file as its
//! author meant it, not as the parser's recovery left it; an [`OffsetMap`]
//! takes every position back to the file.

use std::ops::Range;
use toml::de::DeTable;

/// At most this many syntax problems are reported for one file: past
/// them, the file is more typo than profile.
const MAX_PROBLEMS: usize = 20;

/// The name a broken table header is repaired to, so that the keys under
/// it land in a table nothing reads rather than in the one above it.
pub const QUARANTINE: &str = " sandbox: broken header ";

/// One syntax problem, at its cause.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Byte range in the file.
    pub span: Range<usize>,
    pub message: String,
    pub hint: Option<String>,
}

/// The file's text with its syntax problems repaired, and the problems.
#[derive(Debug, Default)]
pub struct Repaired {
    pub text: String,
    pub map: OffsetMap,
    pub problems: Vec<Problem>,
    /// Ranges of the file left out of `text` (a line that could not be
    /// repaired otherwise): a key missing from the table around one may
    /// be missing only because of it.
    pub removed: Vec<Range<usize>>,
    /// More problems follow the last one reported (past [`MAX_PROBLEMS`]).
    pub more: Option<Range<usize>>,
}

/// A change to the file: the bytes `orig` replaced by `text`.
#[derive(Clone, Debug)]
struct Edit {
    orig: Range<usize>,
    text: String,
}

/// Where the positions of a repaired text are in the file.
#[derive(Clone, Debug, Default)]
pub struct OffsetMap {
    /// (range in the repaired text, range in the file) of each edit, in order.
    edits: Vec<(Range<usize>, Range<usize>)>,
}

impl OffsetMap {
    /// The file's offset for the repaired text's `pos`, as a start: a
    /// position inside text an edit put in is where the edit is.
    pub fn start(&self, pos: usize) -> usize {
        let mut base = (0, 0);
        for (rep, orig) in &self.edits {
            if pos < rep.start {
                break;
            }
            if pos < rep.end {
                return orig.start;
            }
            base = (rep.end, orig.end);
        }
        base.1 + (pos - base.0)
    }

    /// The same, as the end of a range.
    fn end(&self, pos: usize) -> usize {
        let mut base = (0, 0);
        for (rep, orig) in &self.edits {
            if pos <= rep.start {
                break;
            }
            if pos <= rep.end {
                return orig.end;
            }
            base = (rep.end, orig.end);
        }
        base.1 + (pos - base.0)
    }

    /// A range of the repaired text, in the file.
    pub fn range(&self, r: Range<usize>) -> Range<usize> {
        let start = self.start(r.start);
        start..self.end(r.end).max(start)
    }
}

/// `text` with `edits` (sorted, not overlapping) applied.
fn apply(text: &str, edits: &[Edit]) -> (String, OffsetMap) {
    let mut out = String::with_capacity(text.len() + 16);
    let mut map = OffsetMap::default();
    let mut last = 0;
    for e in edits {
        out.push_str(&text[last..e.orig.start]);
        let start = out.len();
        out.push_str(&e.text);
        map.edits.push((start..out.len(), e.orig.clone()));
        last = e.orig.end;
    }
    out.push_str(&text[last..]);
    (out, map)
}

/// One error of the parser: where in the file, where in the repaired
/// text, and what it says.
#[derive(Clone, Debug)]
struct ParseError {
    orig: Range<usize>,
    rep: Range<usize>,
    message: String,
}

fn errors_of(text: &str, map: &OffsetMap) -> Vec<ParseError> {
    let (_, errors) = DeTable::parse_recoverable(text);
    let mut v: Vec<ParseError> = errors
        .into_iter()
        .map(|e| {
            let rep = e.span().unwrap_or(0..0);
            let rep = rep.start.min(text.len())..rep.end.min(text.len());
            ParseError {
                orig: map.range(rep.clone()),
                rep,
                message: e.message().trim_end().to_string(),
            }
        })
        .collect();
    v.sort_by_key(|e| (e.orig.start, e.rep.start));
    v
}

/// A way to repair the text at a problem: accepted when the parser finds
/// nothing before `bound` (a position in the file) once it is applied.
struct Candidate {
    edits: Vec<Edit>,
    bound: usize,
    /// What of the file it leaves out (or swallows), if anything.
    damage: Option<Range<usize>>,
}

/// Find the syntax problems of `text`, causes only, and repair each.
pub fn repair(text: &str) -> Repaired {
    let mut edits: Vec<Edit> = vec![];
    let mut out = Repaired {
        text: text.to_string(),
        ..Repaired::default()
    };
    let mut errors = errors_of(text, &out.map);
    while let Some(first) = errors.first().cloned() {
        if out.problems.len() == MAX_PROBLEMS {
            out.more = Some(first.orig);
            break;
        }
        let (problem, candidates) = diagnose(text, &out.text, &out.map, &first, out.problems.len());
        out.problems.push(problem);
        let mut accepted = false;
        for c in candidates {
            let Some(trial) = with_edits(&edits, c.edits) else {
                continue;
            };
            let (t, m) = apply(text, &trial);
            let errs = errors_of(&t, &m);
            if errs.iter().all(|e| e.orig.start >= c.bound) {
                out.removed.extend(c.damage);
                (edits, out.text, out.map, errors) = (trial, t, m, errs);
                accepted = true;
                break;
            }
        }
        if !accepted {
            break;
        }
    }
    out.removed.sort_by_key(|r| r.start);
    out.removed.dedup();
    out
}

/// `edits` with `new` added in order, or None when one overlaps an edit
/// already there.
fn with_edits(edits: &[Edit], new: Vec<Edit>) -> Option<Vec<Edit>> {
    let mut all = edits.to_vec();
    for e in new {
        let clash = all.iter().any(|o| {
            e.orig.start < o.orig.end && o.orig.start < e.orig.end
                || (e.orig.is_empty() && o.orig.start < e.orig.start && e.orig.start < o.orig.end)
        });
        if clash {
            return None;
        }
        let at = all.partition_point(|o| o.orig.start <= e.orig.start);
        all.insert(at, e);
    }
    Some(all)
}

fn insert(at: usize, text: &str) -> Edit {
    Edit {
        orig: at..at,
        text: text.into(),
    }
}

/// The line of the file around `pos`: its start and its end (before the
/// newline and a carriage return).
fn line_of(text: &str, pos: usize) -> Range<usize> {
    let pos = pos.min(text.len());
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let mut end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    if end > start && text.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    start..end
}

/// Where the line after the one around `pos` starts (the end for the last).
fn next_line(text: &str, pos: usize) -> usize {
    let pos = pos.min(text.len());
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

fn line_number(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].matches('\n').count() + 1
}

/// The problem the parser's first error stands for, and the ways to
/// repair it, the most faithful first.
fn diagnose(
    orig: &str,
    rep: &str,
    map: &OffsetMap,
    e: &ParseError,
    n: usize,
) -> (Problem, Vec<Candidate>) {
    let line = line_of(orig, e.orig.start);
    let after = next_line(orig, e.orig.start);
    let rep_line = line_of(rep, e.rep.start);
    let mut fallbacks = generic_fallbacks(orig, e, n);

    // A multi-line string that never ends swallows the rest of the file.
    let at_end = scan(rep, rep.len());
    if let Some((kind, start)) = at_end.string
        && kind.multi_line()
        && start <= e.rep.start
    {
        let delim = kind.delimiter();
        let p = Problem {
            span: map.start(start)..(map.start(start) + 3).min(orig.len()),
            message: "this multi-line string is never closed".into(),
            hint: Some(format!("end it with `{delim}`")),
        };
        let mut c = vec![Candidate {
            edits: vec![insert(orig.len(), delim)],
            bound: orig.len(),
            damage: Some(map.start(start)..orig.len()),
        }];
        c.append(&mut fallbacks);
        return (p, c);
    }

    // An array or inline table opened on an earlier line, still open when
    // a line that can only be a new key or table starts: its `]` or `}`
    // is missing.
    let state = scan(rep, rep_line.start);
    if let Some(&(open, at)) = state.brackets.last()
        && statement_like(&rep[rep_line.clone()])
    {
        let (what, close) = if open == b'[' {
            ("array", "`]` after its last element")
        } else {
            ("inline table", "`}` after its last key")
        };
        let closers: String = state
            .brackets
            .iter()
            .rev()
            .map(|(b, _)| if *b == b'[' { ']' } else { '}' })
            .collect();
        let opened = map.start(at);
        let p = Problem {
            span: opened..opened + 1,
            message: format!("this {what} is never closed"),
            hint: Some(format!(
                "add {close}: line {} starts something new",
                line_number(orig, line.start)
            )),
        };
        let outer = map.start(state.brackets[0].1);
        let statement = line_of(orig, outer).start;
        let mut c = vec![
            Candidate {
                edits: vec![insert(line.start, &format!("{closers}\n"))],
                bound: line.start,
                damage: None,
            },
            Candidate {
                edits: vec![Edit {
                    orig: statement..line.start,
                    text: String::new(),
                }],
                bound: line.start,
                damage: Some(statement..line.start),
            },
        ];
        c.append(&mut fallbacks);
        return (p, c);
    }

    // A string that runs to the end of its line.
    let here = scan(rep, e.rep.start);
    if let Some((kind, start)) = here.string
        && !kind.multi_line()
        && (e.message.starts_with("invalid basic string")
            || e.message.starts_with("invalid literal string"))
    {
        let q = kind.quote();
        let from = map.start(start);
        let mut p = Problem {
            span: from..e.orig.start.max(from + 1),
            message: "this string is not closed on its line".into(),
            hint: Some(format!("end it with `{q}`")),
        };
        let mut c = vec![Candidate {
            edits: vec![insert(e.orig.start, &q.to_string())],
            bound: after,
            damage: None,
        }];
        // Its end on a later line: meant as text over several lines.
        if let Some(end) = closing_quote_below(orig, after, q) {
            p.hint = Some(format!(
                "end it on its line with `{q}`, or write text over several lines between `{q}{q}{q}` and `{q}{q}{q}`"
            ));
            let triple: String = [q; 3].iter().collect();
            c.insert(
                0,
                Candidate {
                    edits: vec![
                        Edit {
                            orig: from..from + 1,
                            text: triple.clone(),
                        },
                        Edit {
                            orig: end..end + 1,
                            text: triple,
                        },
                    ],
                    bound: next_line(orig, end),
                    damage: None,
                },
            );
        }
        c.append(&mut fallbacks);
        return (p, c);
    }

    // Anything else: the parser's own words, at its place.
    let word = &orig[e.orig.clone()];
    let mut hint = None;
    let mut c = vec![];
    let expected = e
        .message
        .split_once(", expected ")
        .map(|(_, x)| x)
        .unwrap_or("");
    if let Some(token) = expected
        .strip_prefix('`')
        .and_then(|x| x.strip_suffix('`'))
        .filter(|t| ["]", "]]", "}", ",", "=", "\"", "'"].contains(t))
    {
        c.push(Candidate {
            edits: vec![insert(e.orig.start, token)],
            bound: after,
            damage: None,
        });
    }
    if e.message.starts_with("string values must be quoted") && !word.is_empty() {
        hint = Some(format!("quote it: \"{word}\""));
        c.push(Candidate {
            edits: vec![insert(e.orig.start, "\""), insert(e.orig.end, "\"")],
            bound: after,
            damage: None,
        });
    }
    if e.message.starts_with("invalid boolean") {
        hint = Some("a boolean is true or false, in lowercase".into());
        let lower = word.to_ascii_lowercase();
        if lower == "true" || lower == "false" {
            c.push(Candidate {
                edits: vec![Edit {
                    orig: e.orig.clone(),
                    text: lower,
                }],
                bound: after,
                damage: None,
            });
        }
    }
    if e.message.starts_with("key with no value")
        || e.message.starts_with("extra `=`")
        || word == ":"
    {
        hint = Some("a key and its value are written KEY = VALUE".into());
        if word == ":" {
            c.push(Candidate {
                edits: vec![Edit {
                    orig: e.orig.clone(),
                    text: "=".into(),
                }],
                bound: after,
                damage: None,
            });
        }
    }
    if e.message.starts_with("unclosed table") || e.message.starts_with("unclosed array table") {
        hint = Some("a table's header is [name]; an entry of a list of tables, such as a mount, is [[name]]".into());
    }
    if e.message
        .starts_with("missing comma between array elements")
    {
        hint = Some("separate the elements with `,`".into());
    }
    if e.message.starts_with("duplicate key") {
        hint = Some("a key is set once in its table, and a [table] is written once: remove one, or merge them".into());
    }
    if e.message
        .starts_with("unexpected key or value, expected newline")
    {
        hint = Some("one KEY = VALUE a line; a comment starts with #".into());
    }
    let message = match e.message.strip_prefix("duplicate key") {
        Some("") if !word.is_empty() => format!("duplicate key '{}'", word.trim_matches('"')),
        _ => e.message.clone(),
    };
    let p = Problem {
        span: e.orig.clone(),
        message,
        hint,
    };
    c.append(&mut fallbacks);
    (p, c)
}

/// Where a string left open on its line seems to end: the first `q` on
/// the next few lines, before a line that starts a new key or table.
fn closing_quote_below(orig: &str, from: usize, q: char) -> Option<usize> {
    let mut at = from;
    for _ in 0..8 {
        if at >= orig.len() {
            return None;
        }
        let line = line_of(orig, at);
        let text = &orig[line.clone()];
        if statement_like(text) {
            return None;
        }
        if let Some(i) = text.find(q) {
            return Some(line.start + i);
        }
        at = next_line(orig, at);
    }
    None
}

/// Leave out the rest of the line, then the line (a table header becomes
/// one nothing reads, so that its keys do not land in the table above),
/// then the rest of the file.
fn generic_fallbacks(orig: &str, e: &ParseError, n: usize) -> Vec<Candidate> {
    let line = line_of(orig, e.orig.start);
    let after = next_line(orig, e.orig.start);
    let header = orig[line.clone()].trim_start().starts_with('[');
    let mut c = vec![];
    if e.orig.start < line.end {
        c.push(Candidate {
            edits: vec![Edit {
                orig: e.orig.start..line.end,
                text: String::new(),
            }],
            bound: after,
            damage: Some(e.orig.start..line.end),
        });
    }
    c.push(Candidate {
        edits: vec![Edit {
            orig: line.clone(),
            text: if header {
                format!("[\"{QUARANTINE}{n}\"]")
            } else {
                String::new()
            },
        }],
        bound: after,
        damage: Some(line.clone()),
    });
    c.push(Candidate {
        edits: vec![Edit {
            orig: line.start..orig.len(),
            text: String::new(),
        }],
        bound: orig.len(),
        damage: Some(line.start..orig.len()),
    });
    c
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StrKind {
    Basic,
    Literal,
    MultiBasic,
    MultiLiteral,
}

impl StrKind {
    fn multi_line(self) -> bool {
        matches!(self, StrKind::MultiBasic | StrKind::MultiLiteral)
    }
    fn quote(self) -> char {
        match self {
            StrKind::Basic | StrKind::MultiBasic => '"',
            StrKind::Literal | StrKind::MultiLiteral => '\'',
        }
    }
    /// What ends a multi-line string.
    fn delimiter(self) -> &'static str {
        match self.quote() {
            '"' => "\"\"\"",
            _ => "'''",
        }
    }
}

/// What is open at a position: arrays and inline tables (`[` or `{`, and
/// where), and a string that has not ended.
#[derive(Debug, Default)]
struct Open {
    brackets: Vec<(u8, usize)>,
    string: Option<(StrKind, usize)>,
}

/// Read `text` up to `stop` as TOML's lexer would, far enough to know what
/// is open there. A line that starts with `[` outside any value is a table
/// header, whose brackets open nothing.
fn scan(text: &str, stop: usize) -> Open {
    let t = text.as_bytes();
    let stop = stop.min(t.len());
    let mut st = Open::default();
    let mut i = 0;
    let mut line_start = true;
    let mut header = false;
    while i < stop {
        let c = t[i];
        if line_start && st.brackets.is_empty() {
            if c == b' ' || c == b'\t' {
                i += 1;
                continue;
            }
            line_start = false;
            header = c == b'[';
        }
        match c {
            b'\n' => {
                line_start = true;
                header = false;
                i += 1;
            }
            b'#' => {
                while i < stop && t[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                let start = i;
                let basic = c == b'"';
                if t[i..].starts_with(&[c, c, c]) {
                    i += 3;
                    loop {
                        if i >= stop {
                            let kind = if basic {
                                StrKind::MultiBasic
                            } else {
                                StrKind::MultiLiteral
                            };
                            st.string = Some((kind, start));
                            return st;
                        }
                        if basic && t[i] == b'\\' {
                            i += 2;
                        } else if t[i..].starts_with(&[c, c, c]) {
                            i += 3;
                            // Up to two more quotes belong to the string.
                            while i < t.len() && t[i] == c {
                                i += 1;
                            }
                            break;
                        } else {
                            i += 1;
                        }
                    }
                } else {
                    i += 1;
                    loop {
                        if i >= stop {
                            let kind = if basic {
                                StrKind::Basic
                            } else {
                                StrKind::Literal
                            };
                            st.string = Some((kind, start));
                            return st;
                        }
                        if t[i] == b'\n' {
                            // Not closed on its line: the parser ends it here.
                            break;
                        }
                        if basic && t[i] == b'\\' {
                            i += 2;
                        } else if t[i] == c {
                            i += 1;
                            break;
                        } else {
                            i += 1;
                        }
                    }
                }
            }
            b'[' | b'{' if !header => {
                st.brackets.push((c, i));
                i += 1;
            }
            b']' | b'}' if !header => {
                if st
                    .brackets
                    .last()
                    .is_some_and(|(o, _)| (*o == b'[') == (c == b']'))
                {
                    st.brackets.pop();
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    st
}

/// Whether a line can only be the start of a new key or table: a table
/// header (`[name]`, `[[name]]`, even without its closing bracket), or
/// `key =`. Neither is ever an element of an array.
fn statement_like(line: &str) -> bool {
    let l = line.trim_start();
    let key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let starts_key = |s: &str| s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    if let Some(rest) = l.strip_prefix('[') {
        let rest = rest.strip_prefix('[').unwrap_or(rest).trim_start();
        let body = rest.split('#').next().unwrap_or("").trim_end();
        let (name, tail) = match body.find(']') {
            Some(i) => (&body[..i], &body[i..]),
            None => (body, ""),
        };
        return starts_key(name)
            && name.chars().all(|c| key_char(c) || c == '.' || c == ' ')
            && tail.chars().all(|c| c == ']');
    }
    if !starts_key(l) {
        return false;
    }
    let end = l
        .find(|c: char| !(key_char(c) || c == '.' || c == ' ' || c == '\t'))
        .unwrap_or(l.len());
    l[end..].starts_with('=')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(usize, usize, String)> {
        let r = repair(text);
        r.problems
            .iter()
            .map(|p| {
                let line = line_number(text, p.span.start);
                let col = p.span.start - line_of(text, p.span.start).start + 1;
                (line, col, p.message.clone())
            })
            .collect()
    }

    #[test]
    fn an_unclosed_array_is_one_problem_at_its_bracket() {
        let text = "name = \"v\"\ncommand = [\"/usr/bin/less\"\n\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"/x\"\n";
        assert_eq!(
            problems(text),
            [(2, 11, "this array is never closed".to_string())]
        );
        let r = repair(text);
        let (doc, errors) = DeTable::parse_recoverable(&r.text);
        assert!(errors.is_empty(), "{errors:?}\n{}", r.text);
        assert!(doc.get_ref().contains_key("mount"));
        assert!(doc.get_ref().contains_key("command"));
    }

    #[test]
    fn two_typos_are_two_problems() {
        let text = "name = \"viewer\ndescription = \"x\"\n\n[[mount]\ntype = \"ro-bind\"\nsrc = \"/x\"\n\n[seccomp]\ndeny = [\"@debug\"]\n";
        let p = problems(text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0], (1, 8, "this string is not closed on its line".into()));
        assert_eq!((p[1].0, p[1].1), (4, 9));
        let r = repair(text);
        let (doc, errors) = DeTable::parse_recoverable(&r.text);
        assert!(errors.is_empty(), "{errors:?}\n{}", r.text);
        assert!(doc.get_ref().contains_key("seccomp"));
        assert!(doc.get_ref().contains_key("mount"));
    }

    #[test]
    fn an_unclosed_multi_line_string_is_one_problem_at_its_start() {
        let text = "name = \"x\"\ndescription = \"\"\"hello\n[process]\ncwd = \"/tmp\"\n";
        assert_eq!(
            problems(text),
            [(2, 15, "this multi-line string is never closed".to_string())]
        );
    }

    #[test]
    fn a_missing_comma_in_a_multi_line_array_is_where_it_is() {
        let text = "command = [\n  \"/bin/sh\"\n  \"-c\",\n]\n";
        let p = problems(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].0, p[0].1), (3, 3));
    }

    #[test]
    fn positions_map_back_through_edits() {
        let edits = vec![insert(3, "ab"), insert(5, "\n")];
        let (t, m) = apply("0123456789", &edits);
        assert_eq!(t, "012ab34\n56789");
        assert_eq!(m.start(0), 0);
        assert_eq!(m.start(3), 3);
        assert_eq!(m.start(5), 3);
        assert_eq!(m.start(6), 4);
        assert_eq!(m.start(8), 5);
        assert_eq!(m.range(5..7), 3..5);
    }

    #[test]
    fn statements_and_elements() {
        assert!(statement_like("[[mount]]"));
        assert!(statement_like("  [landlock]  # c"));
        assert!(statement_like("[mount"));
        assert!(statement_like("type = \"x\""));
        assert!(statement_like("a.b = 1"));
        assert!(!statement_like("  \"x\","));
        assert!(!statement_like("[1, 2],"));
        assert!(!statement_like("[true, false]"));
        assert!(!statement_like("]"));
        assert!(!statement_like("true,"));
    }
}
