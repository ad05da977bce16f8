//! One profile file's text -> [`Profile`], collecting every problem.
//!
//! The text is parsed with `toml`'s spanned, error-recovering parser into a
//! tree of values that know their byte ranges; this module walks that tree
//! by hand instead of through serde's derive, because serde stops at the
//! first unknown key or wrong type while a user fixing a profile wants all
//! of them at once, each at its line and column, with a suggestion.

use super::syntax;
use super::types::*;
use super::units;
use crate::diag::{Diagnostic, FileId, Sp, Span, suggest};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

type Node<'i> = Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "category",
    "desktop_entry",
    "extends",
    "command",
    "arguments",
    "package",
    "namespaces",
    "user",
    "uts",
    "time",
    "filesystem",
    "mount",
    "network",
    "dbus",
    "env",
    "process",
    "limits",
    "cgroup",
    "seccomp",
    "landlock",
];

/// Decode one file. Problems are appended to `diags`; what could be read is
/// returned even when some of it was wrong, so that later checks still run.
/// A file with syntax problems is decoded as `syntax::repair` left it: each
/// problem reported once, at its cause, and the checks that follow see the
/// file as meant, not the parser's recovery (src/profile/syntax.rs).
pub fn decode(file: FileId, text: &str, diags: &mut Vec<Diagnostic>) -> Profile {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if errors.is_empty() {
        return Decoder::new(file, diags).profile(doc.get_ref());
    }
    drop(doc);
    let repaired = syntax::repair(text);
    for p in &repaired.problems {
        let d = Diagnostic::error(
            Span::new(file, p.span.clone()),
            format!("TOML syntax: {}", p.message),
        );
        diags.push(Diagnostic {
            hint: p.hint.clone(),
            ..d
        });
    }
    if let Some(more) = repaired.more {
        // So many problems that what the rest says is guesswork.
        diags.push(
            Diagnostic::error(Span::new(file, more), "TOML syntax: more problems follow")
                .with_hint("fix the ones above first"),
        );
        return Profile::default();
    }
    let (doc, _) = DeTable::parse_recoverable(&repaired.text);
    let mut d = Decoder::new(file, diags);
    d.map = Some(&repaired.map);
    d.removed = &repaired.removed;
    // Where each table's header starts: a table's keys lie between its
    // header and the next.
    for (_, v) in doc.get_ref().iter() {
        match v.get_ref() {
            DeValue::Table(_) => d.headers.push(v.span().start),
            DeValue::Array(items) => d.headers.extend(
                items
                    .iter()
                    .filter(|i| matches!(i.get_ref(), DeValue::Table(_)))
                    .map(|i| i.span().start),
            ),
            _ => {}
        }
    }
    d.headers.sort_unstable();
    d.profile(doc.get_ref())
}

impl<'a> Decoder<'a> {
    fn new(file: FileId, diags: &'a mut Vec<Diagnostic>) -> Self {
        Decoder {
            file,
            diags,
            map: None,
            removed: &[],
            headers: vec![],
        }
    }

    fn profile(&mut self, t: &DeTable) -> Profile {
        let d = self;
        d.check_keys(t, TOP_KEYS, "the top level of a profile");
        if let Some(v) = d.int::<i64>(t, "version")
            && v.value != 1
        {
            d.err(
                v.span,
                format!("profile format version {} is not supported", v.value),
            )
            .hint = Some("this sandbox reads version 1".into());
        }
        let mut p = Profile {
            name: d.string(t, "name"),
            description: d.string(t, "description"),
            category: d.choice(t, "category", &Category::ALL),
            desktop_entry: d.string(t, "desktop_entry"),
            extends: d.string_or_strings(t, "extends"),
            command: d.command(t),
            arguments: d.choice(
                t,
                "arguments",
                &[
                    ("append", Arguments::Append),
                    ("replace", Arguments::Replace),
                ],
            ),
            package: d.string(t, "package"),
            ..Profile::default()
        };
        if let Some(ns) = d.section(t, "namespaces") {
            p.namespaces = d.namespaces(ns);
            p.keep = d.keep(ns);
        }
        if let Some(u) = d.section(t, "user") {
            p.user = d.user(u);
        }
        if let Some(u) = d.section(t, "uts") {
            d.check_keys(u, &["hostname", "domainname"], "[uts]");
            p.uts = Uts {
                hostname: d.string(u, "hostname"),
                domainname: d.string(u, "domainname"),
            };
        }
        if let Some(tm) = d.section(t, "time") {
            d.check_keys(tm, &["monotonic", "boottime"], "[time]");
            p.time = Time {
                monotonic: d.offset(tm, "monotonic"),
                boottime: d.offset(tm, "boottime"),
            };
        }
        if let Some(f) = d.section(t, "filesystem") {
            d.check_keys(f, &["root", "readonly_root"], "[filesystem]");
            p.filesystem = Filesystem {
                root: d.string(f, "root"),
                readonly_root: d.bool(f, "readonly_root"),
            };
        }
        if let Some(m) = t.get("mount") {
            p.mounts = d.mounts(m);
        }
        if let Some(n) = d.section(t, "network") {
            p.network = d.network(n);
        }
        if let Some(b) = d.section(t, "dbus") {
            p.dbus = d.dbus(b);
        }
        if let Some(e) = d.section(t, "env") {
            p.env = d.env(e);
        }
        if let Some(pr) = d.section(t, "process") {
            p.process = d.process(pr);
        }
        if let Some(l) = d.section(t, "limits") {
            p.limits = d.limits(l);
        }
        if let Some(c) = d.section(t, "cgroup") {
            p.cgroup = d.cgroup(c);
        }
        if let Some(s) = d.section(t, "seccomp") {
            p.seccomp = d.seccomp(s);
        }
        if let Some(l) = d.section(t, "landlock") {
            p.landlock = d.landlock(l);
        }
        p
    }
}

struct Decoder<'a> {
    file: FileId,
    diags: &'a mut Vec<Diagnostic>,
    /// For a repaired text, where its positions are in the file.
    map: Option<&'a syntax::OffsetMap>,
    /// Ranges of the file the repair left out.
    removed: &'a [std::ops::Range<usize>],
    /// Where each table header starts, in the decoded text.
    headers: Vec<usize>,
}

fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Decoder<'_> {
    fn span(&self, node: &Node) -> Span {
        self.at(node.span())
    }

    /// A range of the decoded text, in the file.
    fn at(&self, r: std::ops::Range<usize>) -> Span {
        match self.map {
            Some(m) => Span::new(self.file, m.range(r)),
            None => Span::new(self.file, r),
        }
    }

    /// Whether the table whose header is at `header` lost a line to the
    /// syntax repair: a key it lacks may be on that line.
    fn damaged(&self, header: &Node) -> bool {
        if self.removed.is_empty() {
            return false;
        }
        let start = header.span().start;
        let next = self.headers.iter().find(|&&h| h > start).copied();
        let file = |p: usize| self.map.map_or(p, |m| m.start(p));
        let (start, end) = (file(start), next.map_or(usize::MAX, file));
        self.removed
            .iter()
            .any(|r| r.start < end && r.end.max(r.start + 1) > start)
    }

    fn err(&mut self, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(span, msg));
        self.diags.last_mut().expect("just pushed")
    }

    fn wrong_type(&mut self, key: &str, node: &Node, expected: &str) {
        let span = self.span(node);
        self.err(
            span,
            format!(
                "'{key}' must be {expected}, found {}",
                type_name(node.get_ref())
            ),
        );
    }

    /// Report every key of `t` not in `allowed`, with a suggestion; the
    /// keys suggested, whose absence is then not a second error.
    fn check_keys<'k>(&mut self, t: &DeTable, allowed: &[&'k str], place: &str) -> Vec<&'k str> {
        let mut suggested = vec![];
        for (k, _) in t.iter() {
            if k.get_ref().starts_with(syntax::QUARANTINE) {
                continue;
            }
            if !allowed.contains(&k.get_ref().as_ref()) {
                let span = self.at(k.span());
                let name = k.get_ref().to_string();
                let hint = match suggest(&name, allowed) {
                    Some(s) => {
                        suggested.push(s);
                        format!("did you mean '{s}'?")
                    }
                    None => format!("{place} accepts: {}", allowed.join(", ")),
                };
                self.err(span, format!("unknown key '{name}' in {place}"))
                    .hint = Some(hint);
            }
        }
        suggested
    }

    fn section<'n>(&mut self, t: &'n DeTable, key: &str) -> Option<&'n DeTable<'n>> {
        let node = t.get(key)?;
        match node.get_ref() {
            DeValue::Table(tbl) => Some(tbl),
            _ => {
                self.wrong_type(key, node, &format!("a table ([{key}])"));
                None
            }
        }
    }

    fn bool(&mut self, t: &DeTable, key: &str) -> Option<Sp<bool>> {
        let node = t.get(key)?;
        match node.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, self.span(node))),
            _ => {
                self.wrong_type(key, node, "true or false");
                None
            }
        }
    }

    fn string(&mut self, t: &DeTable, key: &str) -> Option<SpStr> {
        let node = t.get(key)?;
        self.as_string(key, node)
    }

    fn as_string(&mut self, key: &str, node: &Node) -> Option<SpStr> {
        match node.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), self.span(node))),
            _ => {
                self.wrong_type(key, node, "a string");
                None
            }
        }
    }

    fn array<'n>(&mut self, key: &str, node: &'n Node<'n>, of: &str) -> Option<&'n [Node<'n>]> {
        match node.get_ref() {
            DeValue::Array(a) => Some(a),
            _ => {
                self.wrong_type(key, node, &format!("an array of {of}"));
                None
            }
        }
    }

    fn strings(&mut self, t: &DeTable, key: &str) -> Vec<SpStr> {
        let Some(node) = t.get(key) else {
            return vec![];
        };
        let Some(items) = self.array(key, node, "strings") else {
            return vec![];
        };
        items
            .iter()
            .filter_map(|i| self.as_string(key, i))
            .collect()
    }

    /// `key = "x"` or `key = ["x", "y"]`.
    fn string_or_strings(&mut self, t: &DeTable, key: &str) -> Vec<SpStr> {
        match t.get(key) {
            Some(node) if matches!(node.get_ref(), DeValue::String(_)) => {
                self.as_string(key, node).into_iter().collect()
            }
            _ => self.strings(t, key),
        }
    }

    fn as_int<T: TryFrom<i64>>(&mut self, key: &str, node: &Node) -> Option<Sp<T>> {
        let span = self.span(node);
        match node.get_ref() {
            DeValue::Integer(i) => {
                let parsed = i64::from_str_radix(i.as_str(), i.radix()).ok();
                match parsed.and_then(|v| T::try_from(v).ok()) {
                    Some(v) => Some(Sp::new(v, span)),
                    None => {
                        self.err(span, format!("'{key}' = {} is out of range", i.as_str()));
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(key, node, "an integer");
                None
            }
        }
    }

    fn int<T: TryFrom<i64>>(&mut self, t: &DeTable, key: &str) -> Option<Sp<T>> {
        let node = t.get(key)?;
        self.as_int(key, node)
    }

    fn choice<T: Copy>(&mut self, t: &DeTable, key: &str, choices: &[(&str, T)]) -> Option<Sp<T>> {
        let s = self.string(t, key)?;
        if let Some((_, v)) = choices.iter().find(|(n, _)| *n == s.value) {
            return Some(Sp::new(*v, s.span));
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let hint = match suggest(&s.value, &names) {
            Some(n) => format!("did you mean '{n}'?"),
            None => format!("one of: {}", names.join(", ")),
        };
        self.err(s.span, format!("'{}' is not a valid '{key}'", s.value))
            .hint = Some(hint);
        None
    }

    /// A value given as a human string ("64M") or a plain integer.
    fn size(&mut self, t: &DeTable, key: &str) -> Option<Sp<u64>> {
        let node = t.get(key)?;
        let span = self.span(node);
        match node.get_ref() {
            DeValue::String(s) => match units::parse_size(s) {
                Ok(v) => Some(Sp::new(v, span)),
                Err(e) => {
                    self.err(span, format!("'{key}': {e}"));
                    None
                }
            },
            DeValue::Integer(_) => self.as_int(key, node),
            _ => {
                self.wrong_type(key, node, "a size such as \"64M\" or a number of bytes");
                None
            }
        }
    }

    /// A clock offset: a duration with an optional sign ("-1h").
    fn offset(&mut self, t: &DeTable, key: &str) -> Option<Sp<i64>> {
        let s = self.string(t, key)?;
        match units::parse_signed_duration(&s.value) {
            Ok(ms) => Some(Sp::new(ms, s.span)),
            Err(e) => {
                self.err(s.span, format!("'{key}': {e}"));
                None
            }
        }
    }

    fn command(&mut self, t: &DeTable) -> Option<Sp<Vec<SpStr>>> {
        let node = t.get("command")?;
        if matches!(node.get_ref(), DeValue::String(_)) {
            let span = self.span(node);
            self.err(span, "'command' must be an array of strings").hint = Some(
                "split the command into its arguments: command = [\"/usr/bin/app\", \"--flag\"]"
                    .into(),
            );
            return None;
        }
        let items = self.array("command", node, "strings")?;
        let span = self.span(node);
        let argv: Vec<SpStr> = items
            .iter()
            .filter_map(|i| self.as_string("command", i))
            .collect();
        if argv.is_empty() {
            self.err(span, "'command' is empty").hint =
                Some("give the program and its arguments, or leave 'command' out".into());
            return None;
        }
        Some(Sp::new(argv, span))
    }

    /// `keep = { net = "/run/netns/box", ... }`: a path per namespace.
    fn keep(&mut self, t: &DeTable) -> Vec<(NsKind, SpStr)> {
        let Some(node) = t.get("keep") else {
            return vec![];
        };
        let DeValue::Table(k) = node.get_ref() else {
            self.wrong_type(
                "keep",
                node,
                "a table of namespace = \"PATH\", e.g. { net = \"/run/netns/box\" }",
            );
            return vec![];
        };
        let keys: Vec<&str> = NsKind::ALL.iter().map(|k| k.key()).collect();
        self.check_keys(k, &keys, "[namespaces] keep");
        NsKind::ALL
            .into_iter()
            .filter_map(|kind| Some((kind, self.string(k, kind.key())?)))
            .collect()
    }

    fn namespaces(&mut self, t: &DeTable) -> Vec<(NsKind, Sp<NsSetting>)> {
        let mut keys: Vec<&str> = NsKind::ALL.iter().map(|k| k.key()).collect();
        keys.push("keep");
        self.check_keys(t, &keys, "[namespaces]");
        let mut out = vec![];
        for kind in NsKind::ALL {
            let Some(node) = t.get(kind.key()) else {
                continue;
            };
            let span = self.span(node);
            let setting = match node.get_ref() {
                DeValue::Boolean(true) => NsSetting::New,
                DeValue::Boolean(false) => NsSetting::Host,
                DeValue::String(s) => NsSetting::Join(s.to_string()),
                _ => {
                    self.wrong_type(
                        kind.key(),
                        node,
                        "true (new), false (the host's) or a path to join",
                    );
                    continue;
                }
            };
            out.push((kind, Sp::new(setting, span)));
        }
        out
    }

    fn user(&mut self, t: &DeTable) -> User {
        self.check_keys(
            t,
            &[
                "uid",
                "gid",
                "sandwich",
                "nested_userns",
                "nesting",
                "map",
                "own_namespaces",
                "unmapped",
                "host_root",
            ],
            "[user]",
        );
        let unmapped = self
            .strings(t, "unmapped")
            .into_iter()
            .filter(|s| {
                let known = ["uid", "gid"].contains(&s.value.as_str());
                if !known {
                    self.err(s.span, format!("'{}' is not an id kind", s.value))
                        .hint = Some("unmapped takes \"uid\" and/or \"gid\"".into());
                }
                known
            })
            .collect();
        let mut u = User {
            uid: self.int(t, "uid"),
            gid: self.int(t, "gid"),
            sandwich: self.bool(t, "sandwich"),
            nested_userns: self.bool(t, "nested_userns"),
            nesting: self.bool(t, "nesting"),
            host_root: self.bool(t, "host_root"),
            own_namespaces: self
                .strings(t, "own_namespaces")
                .into_iter()
                .filter_map(|s| {
                    const OWN: [(&str, NsKind); 7] = [
                        ("mount", NsKind::Mount),
                        ("uts", NsKind::Uts),
                        ("net", NsKind::Net),
                        ("ipc", NsKind::Ipc),
                        ("pid", NsKind::Pid),
                        ("cgroup", NsKind::Cgroup),
                        ("time", NsKind::Time),
                    ];
                    match OWN.iter().find(|(n, _)| *n == s.value) {
                        Some((_, k)) => Some(Sp::new(*k, s.span)),
                        None => {
                            let names: Vec<&str> = OWN.iter().map(|(n, _)| *n).collect();
                            let hint = match suggest(&s.value, &names) {
                                Some(n) => format!("did you mean '{n}'?"),
                                None => "the app can own: mount, uts, net, ipc, pid, cgroup, time"
                                    .into(),
                            };
                            self.err(
                                s.span,
                                format!("'{}' is not a namespace the app can own", s.value),
                            )
                            .hint = Some(hint);
                            None
                        }
                    }
                })
                .collect(),
            unmapped,
            map: None,
        };
        if let Some(node) = t.get("map") {
            let span = self.span(node);
            if let Some(items) = self.array("map", node, "{ inside, outside, count } tables") {
                let mut ranges = vec![];
                for item in items {
                    let ispan = self.span(item);
                    let DeValue::Table(r) = item.get_ref() else {
                        self.wrong_type(
                            "map",
                            item,
                            "a table { inside = N, outside = N, count = N }",
                        );
                        continue;
                    };
                    self.check_keys(r, &["inside", "outside", "count"], "a [user] map entry");
                    let (i, o, c) = (
                        self.int::<u32>(r, "inside"),
                        self.int::<u32>(r, "outside"),
                        self.int::<u32>(r, "count"),
                    );
                    match (i, o, c) {
                        (Some(i), Some(o), Some(c)) => ranges.push(Sp::new(
                            IdRange {
                                inside: i.value,
                                outside: o.value,
                                count: c.value,
                            },
                            ispan,
                        )),
                        _ => {
                            self.err(ispan, "a map entry needs 'inside', 'outside' and 'count'");
                        }
                    }
                }
                u.map = Some(Sp::new(ranges, span));
            }
        }
        u
    }

    fn mounts(&mut self, node: &Node) -> Vec<Mount> {
        let Some(items) = self.array("mount", node, "[[mount]] tables") else {
            return vec![];
        };
        let mut all_keys: Vec<&str> = vec!["type"];
        for (_, k) in MountKind::ALL {
            for key in k.keys() {
                if !all_keys.contains(key) {
                    all_keys.push(key);
                }
            }
        }
        let mut out = vec![];
        for item in items {
            let DeValue::Table(t) = item.get_ref() else {
                self.wrong_type("mount", item, "a table ([[mount]])");
                continue;
            };
            // A misspelt key is one mistake: not also a missing one.
            let suggested = self.check_keys(t, &all_keys, "[[mount]]");
            let item_span = self.span(item);
            // A key missing from an entry that lost a line to the syntax
            // repair, or whose misspelling was just reported, is an echo
            // of that problem, not one of its own.
            let damaged = self.damaged(item);
            let echo = |key: &str| damaged || suggested.contains(&key);
            let Some(kind) = self.choice(t, "type", &MountKind::ALL) else {
                if !t.contains_key("type") && !echo("type") {
                    self.err(item_span, "[[mount]] entry has no 'type'").hint = Some(
                        "add type = \"bind\", \"ro-bind\", \"tmpfs\", \"proc\", \"dev\", \"symlink\", \"overlay\", ...".into(),
                    );
                }
                continue;
            };
            // Keys that exist but do not apply to this type.
            for (k, _) in t.iter() {
                let key = k.get_ref().as_ref();
                if key != "type" && all_keys.contains(&key) && !kind.value.keys().contains(&key) {
                    let span = self.at(k.span());
                    self.err(
                        span,
                        format!("'{key}' does not apply to a '{}' mount", kind.value.name()),
                    )
                    .hint = Some(format!(
                        "a '{}' mount takes: {}",
                        kind.value.name(),
                        kind.value.keys().join(", ")
                    ));
                }
            }
            let mode = self
                .string(t, "mode")
                .and_then(|m| match units::parse_mode(&m.value) {
                    Ok(v) => Some(Sp::new(v, m.span)),
                    Err(e) => {
                        self.err(m.span, format!("'mode': {e}"));
                        None
                    }
                });
            let m = Mount {
                src: self.string(t, "src"),
                dst: self.string(t, "dst"),
                optional: self.bool(t, "optional"),
                create: self.bool(t, "create"),
                size: self.size(t, "size"),
                mode,
                content: self.string(t, "content"),
                lower: self.string_or_strings(t, "lower"),
                upper: self.string(t, "upper"),
                readonly: self.bool(t, "readonly"),
                kind,
                src_is_cwd: false,
            };
            if m.kind.value.needs_src() && m.src.is_none() {
                if echo("src") {
                    continue;
                }
                self.err(
                    m.kind.span,
                    format!("a '{}' mount needs 'src'", m.kind.value.name()),
                );
                continue;
            }
            if m.target().is_none() {
                if echo("dst") {
                    continue;
                }
                self.err(
                    m.kind.span,
                    format!("a '{}' mount needs 'dst'", m.kind.value.name()),
                );
                continue;
            }
            if m.kind.value == MountKind::Overlay && m.lower.is_empty() {
                if echo("lower") {
                    continue;
                }
                self.err(
                    m.kind.span,
                    "an 'overlay' mount needs at least one 'lower' directory",
                );
                continue;
            }
            out.push(m);
        }
        out
    }

    fn network(&mut self, t: &DeTable) -> Network {
        self.check_keys(
            t,
            &[
                "mode",
                "forward_tcp",
                "forward_udp",
                "to_host_tcp",
                "to_host_udp",
                "address",
                "host_address",
                "host_interface",
                "gateway",
                "parent",
                "dns",
                "host_loopback",
            ],
            "[network]",
        );
        Network {
            mode: self.choice(
                t,
                "mode",
                &[
                    ("none", NetMode::None),
                    ("pasta", NetMode::Pasta),
                    ("veth", NetMode::Veth),
                    ("macvlan", NetMode::Macvlan),
                ],
            ),
            forward_tcp: self.strings(t, "forward_tcp"),
            forward_udp: self.strings(t, "forward_udp"),
            to_host_tcp: self.ports(t, "to_host_tcp"),
            to_host_udp: self.ports(t, "to_host_udp"),
            address: self.string(t, "address"),
            host_address: self.string(t, "host_address"),
            host_interface: self.string(t, "host_interface"),
            gateway: self.string(t, "gateway"),
            parent: self.string(t, "parent"),
            dns: self.strings(t, "dns"),
            host_loopback: self.bool(t, "host_loopback"),
        }
    }

    fn dbus(&mut self, t: &DeTable) -> Dbus {
        self.check_keys(
            t,
            &["session", "talk", "own", "see", "call", "broadcast"],
            "[dbus]",
        );
        Dbus {
            session: self.bool(t, "session"),
            talk: self.strings(t, "talk"),
            own: self.strings(t, "own"),
            see: self.strings(t, "see"),
            call: self.strings(t, "call"),
            broadcast: self.strings(t, "broadcast"),
        }
    }

    fn env(&mut self, t: &DeTable) -> Env {
        self.check_keys(t, &["clear", "keep", "set", "unset"], "[env]");
        let mut set = vec![];
        if let Some(node) = t.get("set") {
            match node.get_ref() {
                DeValue::Table(vars) => {
                    for (k, v) in vars.iter() {
                        let key = Sp::new(k.get_ref().to_string(), self.at(k.span()));
                        if let Some(val) = self.as_string(&key.value, v) {
                            set.push((key, val));
                        }
                    }
                }
                _ => self.wrong_type("set", node, "a table of NAME = \"value\""),
            }
        }
        Env {
            clear: self.bool(t, "clear"),
            keep: self.strings(t, "keep"),
            set,
            unset: self.strings(t, "unset"),
        }
    }

    fn process(&mut self, t: &DeTable) -> Process {
        self.check_keys(
            t,
            &[
                "cwd",
                "new_session",
                "die_with_parent",
                "init",
                "enter",
                "capabilities",
                "timeout",
            ],
            "[process]",
        );
        let timeout =
            self.string(t, "timeout")
                .and_then(|s| match units::parse_duration(&s.value) {
                    Ok(ms) => Some(Sp::new(ms, s.span)),
                    Err(e) => {
                        self.err(s.span, format!("'timeout': {e}"));
                        None
                    }
                });
        Process {
            cwd: self.string(t, "cwd"),
            new_session: self.bool(t, "new_session"),
            die_with_parent: self.bool(t, "die_with_parent"),
            init: self.bool(t, "init"),
            enter: self.bool(t, "enter"),
            capabilities: self.strings(t, "capabilities"),
            timeout,
        }
    }

    fn limits(&mut self, t: &DeTable) -> Limits {
        let keys: Vec<&str> = Resource::ALL.iter().map(|r| r.key()).collect();
        self.check_keys(t, &keys, "[limits]");
        let mut values = vec![];
        for resource in Resource::ALL {
            let (key, sized) = (resource.key(), resource.is_size());
            let Some(node) = t.get(key) else { continue };
            let span = self.span(node);
            let v = match node.get_ref() {
                DeValue::String(s) if s.as_ref() == "unlimited" => Some(LimitValue::Unlimited),
                DeValue::String(_) if sized => {
                    self.size(t, key).map(|v| LimitValue::Value(v.value))
                }
                DeValue::Integer(_) => self
                    .as_int::<u64>(key, node)
                    .map(|v| LimitValue::Value(v.value)),
                _ => {
                    let what = if sized {
                        "a number, a size such as \"64M\", or \"unlimited\""
                    } else {
                        "a number or \"unlimited\""
                    };
                    self.wrong_type(key, node, what);
                    None
                }
            };
            if let Some(v) = v {
                values.push((resource, Sp::new(v, span)));
            }
        }
        Limits { values }
    }

    fn cgroup(&mut self, t: &DeTable) -> Cgroup {
        self.check_keys(t, &["memory", "pids", "cpu"], "[cgroup]");
        let cpu = t.get("cpu").and_then(|node| {
            let span = self.span(node);
            let v = match node.get_ref() {
                DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
                DeValue::Integer(i) => i.as_str().parse::<f64>().ok(),
                _ => {
                    self.wrong_type("cpu", node, "a number of cores such as 0.5");
                    return None;
                }
            };
            match v {
                Some(c) if c > 0.0 && c.is_finite() => Some(Sp::new(c, span)),
                _ => {
                    self.err(span, "'cpu' must be a positive number of cores such as 0.5");
                    None
                }
            }
        });
        Cgroup {
            memory: self.size(t, "memory"),
            pids: self.int(t, "pids"),
            cpu,
        }
    }

    fn seccomp(&mut self, t: &DeTable) -> Seccomp {
        self.check_keys(
            t,
            &[
                "policy",
                "deny",
                "allow",
                "errno",
                "allow_setuid_bits",
                "trace",
            ],
            "[seccomp]",
        );
        let errno = self
            .string(t, "errno")
            .and_then(|s| match units::parse_errno(&s.value) {
                Some(e) => Some(Sp::new(e, s.span)),
                None => {
                    let names: Vec<&str> = units::ERRNOS.iter().map(|(n, _)| *n).collect();
                    self.err(
                        s.span,
                        format!("'{}' is not an errno this sandbox knows", s.value),
                    )
                    .hint = Some(format!("one of: {}", names.join(", ")));
                    None
                }
            });
        Seccomp {
            policy: self.choice(
                t,
                "policy",
                &[
                    ("default", SeccompPolicy::Default),
                    ("none", SeccompPolicy::None),
                    ("allowlist", SeccompPolicy::Allowlist),
                ],
            ),
            deny: self.strings(t, "deny"),
            allow: self.strings(t, "allow"),
            errno,
            allow_setuid_bits: self.bool(t, "allow_setuid_bits"),
            trace: self.bool(t, "trace"),
        }
    }

    fn ports(&mut self, t: &DeTable, key: &str) -> Vec<Sp<u16>> {
        let Some(node) = t.get(key) else {
            return vec![];
        };
        let Some(items) = self.array(key, node, "port numbers") else {
            return vec![];
        };
        items
            .iter()
            .filter_map(|i| self.as_int::<u16>(key, i))
            .collect()
    }

    fn landlock(&mut self, t: &DeTable) -> Landlock {
        self.check_keys(
            t,
            &[
                "enabled",
                "from_mounts",
                "read",
                "write",
                "exec",
                "tcp_bind",
                "tcp_connect",
                "scope",
                "compat",
            ],
            "[landlock]",
        );
        let scope = t.get("scope").map(|node| {
            let span = self.span(node);
            Sp::new(self.strings(t, "scope"), span)
        });
        Landlock {
            enabled: self.bool(t, "enabled"),
            from_mounts: self.bool(t, "from_mounts"),
            read: self.strings(t, "read"),
            write: self.strings(t, "write"),
            exec: self.strings(t, "exec"),
            tcp_bind: self.ports(t, "tcp_bind"),
            tcp_connect: self.ports(t, "tcp_connect"),
            scope,
            compat: self.choice(
                t,
                "compat",
                &[("best-effort", Compat::BestEffort), ("hard", Compat::Hard)],
            ),
        }
    }
}
