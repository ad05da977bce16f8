//! The manual pages, made at build time (build.rs includes this file):
//! sandbox(1) and a page per subcommand from the command line's own
//! definition (src/cli.rs), and sandbox-profile(5) from the profile
//! reference, docs/profile-format.md, turned into roff here. Only what
//! that page uses is turned: headings, paragraphs, lists, tables, code
//! blocks, `code`, **bold** and links.

use std::path::Path;

/// sandbox(1), sandbox-SUBCOMMAND(1) for each subcommand, into `dir`.
pub fn write_cli_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
    let cmd = cmd.after_help(
        "The profile format: sandbox-profile(5). Every page of the manual is also in \
         /usr/share/doc/sandbox (README.md, docs/).",
    );
    clap_mangen::generate_to(cmd, dir)
}

/// Text with roff's special characters escaped, the inline Markdown of
/// the reference turned into fonts.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut in_code = false;
    let mut in_bold = false;
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                out.push_str(if in_code { "\\fR" } else { "\\fB" });
                in_code = !in_code;
            }
            '*' if !in_code && chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(if in_bold { "\\fR" } else { "\\fB" });
                in_bold = !in_bold;
            }
            '\\' => out.push_str("\\e"),
            // [text](target): the text; the target is for the web.
            '[' if !in_code => {
                let rest: String = chars.clone().collect();
                if let Some(close) = rest.find("](")
                    && let Some(end) = rest[close..].find(')')
                {
                    out.push_str(&inline(&rest[..close]));
                    for _ in 0..close + end + 1 {
                        chars.next();
                    }
                } else {
                    out.push('[');
                }
            }
            '-' => out.push_str("\\-"),
            _ => out.push(c),
        }
    }
    if in_code || in_bold {
        out.push_str("\\fR");
    }
    out
}

/// A line as roff reads it: one that starts with `.` or `'` is text.
fn line(text: &str) -> String {
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text.to_string()
    }
}

/// The cells of a table row `| a | b |`.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    // A `\|` inside a cell is a bar of the text, not a border.
    inner
        .replace("\\|", "\u{0}")
        .split('|')
        .map(|c| c.trim().replace('\u{0}', "|"))
        .collect()
}

/// A Markdown page as a roff manual page `name(section)`.
pub fn roff(markdown: &str, name: &str, section: &str, summary: &str) -> String {
    let mut out = format!(
        ".TH {} {section} \"\" \"sandbox\" \"sandbox manual\"\n.SH NAME\n{name} \\- {}\n.SH DESCRIPTION\n",
        name.to_uppercase(),
        inline(summary)
    );
    let mut lines = markdown.lines().peekable();
    let mut header: Option<Vec<String>> = None;
    while let Some(l) = lines.next() {
        let t = l.trim_end();
        if let Some(code) = t.trim_start().strip_prefix("```") {
            let _ = code;
            out.push_str(".PP\n.RS 4\n.nf\n");
            for c in lines.by_ref() {
                if c.trim_start().starts_with("```") {
                    break;
                }
                out.push_str(&line(&c.replace('\\', "\\e")));
                out.push('\n');
            }
            out.push_str(".fi\n.RE\n");
        } else if let Some(h) = t.strip_prefix("# ") {
            // The page's title: its name says it already.
            let _ = h;
        } else if let Some(h) = t.strip_prefix("## ") {
            out.push_str(&format!(".SH \"{}\"\n", inline(h).to_uppercase()));
        } else if let Some(h) = t.strip_prefix("### ") {
            out.push_str(&format!(".SS \"{}\"\n", inline(h)));
        } else if t.starts_with('|') {
            let row = cells(t);
            if row
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
            {
                continue;
            }
            match &header {
                None => header = Some(row),
                Some(head) => {
                    // The first cell is the entry; the others follow it,
                    // each under its column's name.
                    out.push_str(&format!(".TP\n{}\n", line(&inline(&row[0]))));
                    let rest: Vec<String> = row
                        .iter()
                        .zip(head)
                        .skip(1)
                        .filter(|(c, _)| !c.is_empty())
                        .map(|(c, h)| match h.as_str() {
                            "meaning" | "effect" | "value" => inline(c),
                            _ => format!("{}: {}", inline(h), inline(c)),
                        })
                        .collect();
                    out.push_str(&line(&rest.join(". ")));
                    out.push('\n');
                }
            }
            if !lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with('|'))
            {
                header = None;
            }
        } else if let Some(item) = t
            .trim_start()
            .strip_prefix("- ")
            .or_else(|| t.trim_start().strip_prefix("* "))
        {
            out.push_str(".IP \\(bu 2\n");
            out.push_str(&line(&inline(item)));
            out.push('\n');
        } else if t.trim().is_empty() {
            out.push_str(".PP\n");
        } else {
            out.push_str(&line(&inline(t.trim_start())));
            out.push('\n');
        }
    }
    // One paragraph break at a time.
    while out.contains(".PP\n.PP\n") {
        out = out.replace(".PP\n.PP\n", ".PP\n");
    }
    out
}
