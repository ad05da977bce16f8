//! The command line's overrides (`sandbox run --bind . --net pasta ...`):
//! each option stands for a few lines of a profile, so that one layer of
//! them is applied over the profile by the same rules as `extends`, is
//! checked by the same validator, and can be printed as a profile to keep
//! (`sandbox plan --emit-profile`). Nothing here touches the machine: the
//! working directory relative paths start from is given.

use std::ffi::OsStr;
use std::path::Path;

/// The options that override a profile, each as the argument clap knows
/// it by (the field of `Overrides` in src/main.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    Bind,
    BindTry,
    RoBind,
    RoBindTry,
    DevBind,
    Tmpfs,
    Overlay,
    Net,
    NoNetwork,
    Forward,
    Env,
    UnsetEnv,
    KeepEnv,
    Hostname,
    Cwd,
    Uid,
    Gid,
    Timeout,
    Deny,
    Allow,
    TraceDenials,
    Set,
}

impl Flag {
    pub const ALL: [Flag; 22] = [
        Flag::Bind,
        Flag::BindTry,
        Flag::RoBind,
        Flag::RoBindTry,
        Flag::DevBind,
        Flag::Tmpfs,
        Flag::Overlay,
        Flag::Net,
        Flag::NoNetwork,
        Flag::Forward,
        Flag::Env,
        Flag::UnsetEnv,
        Flag::KeepEnv,
        Flag::Hostname,
        Flag::Cwd,
        Flag::Uid,
        Flag::Gid,
        Flag::Timeout,
        Flag::Deny,
        Flag::Allow,
        Flag::TraceDenials,
        Flag::Set,
    ];

    /// The option's long name, without `--`.
    pub fn long(self) -> &'static str {
        match self {
            Flag::Bind => "bind",
            Flag::BindTry => "bind-try",
            Flag::RoBind => "ro-bind",
            Flag::RoBindTry => "ro-bind-try",
            Flag::DevBind => "dev-bind",
            Flag::Tmpfs => "tmpfs",
            Flag::Overlay => "overlay",
            Flag::Net => "net",
            Flag::NoNetwork => "no-network",
            Flag::Forward => "forward",
            Flag::Env => "env",
            Flag::UnsetEnv => "unset-env",
            Flag::KeepEnv => "keep-env",
            Flag::Hostname => "hostname",
            Flag::Cwd => "cwd",
            Flag::Uid => "uid",
            Flag::Gid => "gid",
            Flag::Timeout => "timeout",
            Flag::Deny => "deny",
            Flag::Allow => "allow",
            Flag::TraceDenials => "trace-denials",
            Flag::Set => "set",
        }
    }

    /// The id clap gives the option (its field's name).
    pub fn id(self) -> String {
        self.long().replace('-', "_")
    }

    /// Whether it takes a value (all but `--no-network` and
    /// `--trace-denials`).
    pub fn takes_value(self) -> bool {
        !matches!(self, Flag::NoNetwork | Flag::TraceDenials)
    }
}

/// One override: the argument as given, and the profile text it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// `--bind /srv:/data`, as shown in `sandbox plan` and diagnostics.
    pub argument: String,
    /// One or two lines of TOML: what a profile would say.
    pub text: String,
}

/// Why an argument stands for no profile text, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub argument: String,
    pub message: String,
    pub hint: Option<String>,
}

/// A TOML string holding `s`, which profiles read as it is: a `$` doubled,
/// so that no variable is expanded in what the shell already expanded.
fn literal(s: &str) -> String {
    quoted(&s.replace('$', "$$"))
}

/// A TOML string holding `s` (for keys that expand no variables), on one
/// line: a basic string, its control characters escaped (the toml crate
/// would write a line break as one, in a multi-line string).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A host path of the command line, as a profile holds it: relative ones
/// from `cwd`; `~/...` is left for the profile's own `~/`.
fn host_path(p: &str, cwd: &Path) -> Option<String> {
    if p.starts_with('/') || p == "~" || p.starts_with("~/") {
        return Some(p.to_string());
    }
    // No usable current folder (deleted, or not UTF-8): no relative path,
    // rather than one from somewhere else.
    cwd.to_str().filter(|c| c.starts_with('/'))?;
    let joined = cwd.join(p);
    // `.` components say nothing; `..` may cross a link, so it stays.
    let mut out = String::new();
    for c in joined.components() {
        match c {
            std::path::Component::RootDir => {}
            std::path::Component::CurDir => continue,
            other => {
                out.push('/');
                out.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    Some(if out.is_empty() { "/".into() } else { out })
}

/// `SRC[:DST]`: split at the last `:` that starts an absolute DST, so that
/// a SRC may hold `:` (a SRC holding `:/` needs its DST given).
pub fn split_src_dst(s: &str) -> (&str, Option<&str>) {
    match s.rfind(":/") {
        Some(i) if i > 0 => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    }
}

/// The profile text `flag value` stands for; `cwd` is where relative host
/// paths start.
pub fn layer(flag: Flag, value: Option<&OsStr>, cwd: &Path) -> Result<Layer, Problem> {
    // Shown in the plan and in diagnostics: a line break or an escape
    // sequence in the value is shown escaped, never acted on.
    let shown = match value {
        Some(v) => format!(
            "--{} {}",
            flag.long(),
            crate::diag::printable(&v.to_string_lossy())
        ),
        None => format!("--{}", flag.long()),
    };
    let problem = |message: String, hint: Option<&str>| Problem {
        argument: shown.clone(),
        message,
        hint: hint.map(str::to_string),
    };
    let v = match value.map(|v| v.to_str()) {
        None => "",
        Some(Some(v)) => v,
        Some(None) => {
            return Err(problem(
                "the value is not UTF-8 text, which a profile cannot hold".into(),
                Some("rename the file, or bind a folder above it that has a UTF-8 name"),
            ));
        }
    };
    let no_cwd = || {
        problem(
            "a relative path needs the current folder, which cannot be read (removed?) or is not UTF-8".into(),
            Some("give an absolute path"),
        )
    };
    // SRC[:DST] of the binds and the overlay: SRC as a profile holds it.
    let source = || {
        let (src, dst) = split_src_dst(v);
        if src.is_empty() {
            let hint = format!("give SRC or SRC:DST, e.g. --{} .:/work", flag.long());
            return Err(problem("no source path".into(), Some(&hint)));
        }
        Ok((host_path(src, cwd).ok_or_else(no_cwd)?, dst))
    };
    let mount = |kind: &str, optional: bool| {
        let (src, dst) = source()?;
        let mut keys = format!("type = {}, src = {}", quoted(kind), literal(&src));
        if let Some(d) = dst {
            keys.push_str(&format!(", dst = {}", literal(d)));
        }
        if optional {
            keys.push_str(", optional = true");
        }
        Ok(format!("mount = [{{ {keys} }}]"))
    };
    let list = |key: &str, item: &str| format!("{key} = [{}]", quoted(item));
    let text = match flag {
        Flag::Bind => mount("bind", false)?,
        Flag::BindTry => mount("bind", true)?,
        Flag::RoBind => mount("ro-bind", false)?,
        Flag::RoBindTry => mount("ro-bind", true)?,
        Flag::DevBind => mount("dev-bind", false)?,
        Flag::Tmpfs => format!("mount = [{{ type = \"tmpfs\", dst = {} }}]", literal(v)),
        Flag::Overlay => {
            let (src, dst) = source()?;
            let dst = dst.map_or(src.clone(), str::to_string);
            format!(
                "mount = [{{ type = \"overlay\", dst = {}, lower = [{}] }}]",
                literal(&dst),
                literal(&src)
            )
        }
        Flag::Net | Flag::NoNetwork => {
            let mode = if flag == Flag::NoNetwork { "none" } else { v };
            match mode {
                "none" | "pasta" | "veth" => {
                    format!("namespaces.net = true\nnetwork.mode = {}", quoted(mode))
                }
                "host" => "namespaces.net = false\nnetwork.mode = \"none\"".into(),
                _ => {
                    return Err(problem(
                        format!("'{mode}' is not a network"),
                        Some(
                            "give none (loopback only), pasta (user-mode networking), veth (root) or host (the host's own, not isolated)",
                        ),
                    ));
                }
            }
        }
        Flag::Forward => match v.split_once(':') {
            Some(("tcp", spec)) => list("network.forward_tcp", spec),
            Some(("udp", spec)) => list("network.forward_udp", spec),
            _ => list("network.forward_tcp", v),
        },
        Flag::Env => match v.split_once('=') {
            Some((name, val)) => format!("env.set.{} = {}", quoted(name), literal(val)),
            None => {
                return Err(problem(
                    format!("'{v}' is not NAME=VALUE"),
                    Some("e.g. --env LANG=C.UTF-8; --keep-env NAME passes the caller's value"),
                ));
            }
        },
        Flag::UnsetEnv => list("env.unset", v),
        Flag::KeepEnv => list("env.keep", v),
        Flag::Hostname => format!("uts.hostname = {}", quoted(v)),
        Flag::Cwd => format!("process.cwd = {}", literal(v)),
        Flag::Uid | Flag::Gid => {
            let key = if flag == Flag::Uid { "uid" } else { "gid" };
            // A number as a number; anything else as written, for the
            // decoder to say what is wrong with it.
            match v.parse::<i64>() {
                Ok(n) => format!("user.{key} = {n}"),
                Err(_) => format!("user.{key} = {}", quoted(v)),
            }
        }
        Flag::Timeout => format!("process.timeout = {}", quoted(v)),
        Flag::Deny => list("seccomp.deny", v),
        Flag::Allow => list("seccomp.allow", v),
        Flag::TraceDenials => "seccomp.trace = true".into(),
        Flag::Set => set(v).map_err(|(m, h)| problem(m, Some(&h)))?,
    };
    Ok(Layer {
        argument: shown,
        text,
    })
}

/// `--set KEY=VALUE`: KEY one dotted profile key, VALUE one TOML value
/// (`--set 'cgroup.memory="2G"'`), or, when it is not, the string it
/// spells (`--set landlock.compat=hard`). The text is one line holding
/// exactly that key, whatever the value holds (a newline cannot start
/// another key or table). A `mount` is one table or an array of them.
fn set(v: &str) -> Result<String, (String, String)> {
    let example = "e.g. --set landlock.compat=hard or --set 'cgroup.memory=\"2G\"'";
    let Some((key, value)) = v.split_once('=') else {
        return Err((
            format!("'{v}' is not KEY=VALUE"),
            format!("give a profile key and its value, {example}"),
        ));
    };
    let key = key.trim();
    let top = one_key(key).ok_or_else(|| {
        (
            format!("'{key}' is not one profile key"),
            format!("give a key as a profile writes it, dotted for a table's, {example}"),
        )
    })?;
    match top.as_str() {
        "extends" => {
            return Err((
                "--set cannot extend another profile".into(),
                "stack a profile or fragment with --with FILE".into(),
            ));
        }
        "name" | "description" => {
            return Err((
                format!("--set cannot change the profile's {top}"),
                "the name and description stay the profile's; copy it to a file of another name to rename it".into(),
            ));
        }
        _ => {}
    }
    let value = value.trim();
    let one_value = |text: &str| -> Option<toml::Value> {
        let mut t = format!("v = {text}").parse::<toml::Table>().ok()?;
        (t.len() == 1).then(|| t.remove("v")).flatten()
    };
    let parsed = match one_value(value) {
        Some(v) => v,
        None if value.is_empty() => {
            return Err((
                format!("'{key}' is given no value"),
                format!("give one after the '=', {example}"),
            ));
        }
        None => toml::Value::String(value.to_string()),
    };
    let parsed = match parsed {
        toml::Value::Table(t) if top == "mount" && !key.contains('.') => {
            toml::Value::Array(vec![toml::Value::Table(t)])
        }
        other => other,
    };
    Ok(format!("{key} = {}", inline(&parsed)))
}

/// The first key of `key` when it is exactly one dotted TOML key (`a`,
/// `a.b`, `env.set."X Y"`): one leaf, nothing else.
fn one_key(key: &str) -> Option<String> {
    // A line break would start a table of its own (`[t]` then `k`).
    if key.chars().any(char::is_control) {
        return None;
    }
    let t = format!("{key} = 0").parse::<toml::Table>().ok()?;
    let (top, mut v) = match t.iter().collect::<Vec<_>>().as_slice() {
        [(k, v)] => ((*k).clone(), *v),
        _ => return None,
    };
    loop {
        match v {
            toml::Value::Table(t) if t.len() == 1 => v = t.values().next()?,
            toml::Value::Integer(0) => return Some(top),
            _ => return None,
        }
    }
}

/// `v` written on one line, as TOML (inline tables and arrays).
fn inline(v: &toml::Value) -> String {
    use toml::Value;
    match v {
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Table(t) => {
            let items: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", key_text(k), inline(v)))
                .collect();
            match items.is_empty() {
                true => "{}".into(),
                false => format!("{{ {} }}", items.join(", ")),
            }
        }
        Value::String(text) => quoted(text),
        other => other.to_string(),
    }
}

/// A key as TOML writes it: bare when it can be, else quoted.
fn key_text(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match bare {
        true => k.to_string(),
        false => quoted(k),
    }
}

/// The layers as one profile's text, for `sandbox plan --emit-profile`:
/// `extends` the profile and `--with` files, then what the options say,
/// combined by the merge rules (src/profile/merge.rs), so that loading
/// the text makes the same plan.
pub fn emit(extends: &[String], layers: &[Layer]) -> String {
    let mut doc = toml::Table::new();
    for l in layers {
        if let Ok(t) = l.text.parse::<toml::Table>() {
            combine(&mut doc, t, &[]);
        }
    }
    let mut out = String::new();
    let names: Vec<String> = extends.iter().map(|e| quoted(e)).collect();
    out.push_str(&format!("extends = [{}]\n", names.join(", ")));
    if !doc.is_empty() {
        out.push('\n');
        out.push_str(&toml::to_string(&doc).unwrap_or_default());
    }
    out
}

/// The arrays the merge replaces as a whole rather than appends to.
const REPLACED: [&[&str]; 3] = [&["command"], &["user", "map"], &["landlock", "scope"]];

/// `over` merged into `base`, at the table path `at`: tables per key,
/// arrays appended (opposites cancelling as the merge does) but those of
/// [`REPLACED`], anything else replaced.
fn combine(base: &mut toml::Table, over: toml::Table, at: &[&str]) {
    use toml::Value;
    for (k, v) in over {
        let path: Vec<&str> = at.iter().copied().chain([k.as_str()]).collect();
        cancel_opposites(base, &path, &v);
        let whole = REPLACED.contains(&path.as_slice());
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => combine(b, o, &path),
            (Some(Value::Array(b)), Value::Array(o)) if !whole => {
                for item in o {
                    if k == "mount" || !b.contains(&item) {
                        b.push(item);
                    }
                }
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// What `value`, about to land at `path` in `table` (the table that holds
/// its key), takes out of it: as src/profile/merge.rs does across files.
fn cancel_opposites(table: &mut toml::Table, path: &[&str], value: &toml::Value) {
    let names = |v: &toml::Value| -> Vec<String> {
        match v {
            toml::Value::Array(a) => a
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            toml::Value::Table(t) => t.keys().cloned().collect(),
            _ => vec![],
        }
    };
    let gone = names(value);
    match path {
        // What the command's words are, and its package, go with it
        // (merge.rs): a command set here takes its own, or the defaults.
        ["command"] => {
            table.remove("arguments");
            table.remove("package");
        }
        // No network: the forwards said before it are ignored, and in one
        // file they would be an error.
        ["network", "mode"] if value.as_str() == Some("none") => {
            table.remove("forward_tcp");
            table.remove("forward_udp");
            table.remove("to_host_tcp");
            table.remove("to_host_udp");
        }
        ["seccomp", side @ ("allow" | "deny")] => {
            let other = if *side == "allow" { "deny" } else { "allow" };
            if let Some(toml::Value::Array(list)) = table.get_mut(other) {
                let kept = super::merge::cancel_names(
                    list.iter()
                        .filter_map(|i| i.as_str().map(str::to_string))
                        .collect(),
                    &gone,
                );
                *list = kept.into_iter().map(toml::Value::String).collect();
            }
        }
        ["env", "set" | "keep"] => {
            if let Some(toml::Value::Array(list)) = table.get_mut("unset") {
                list.retain(|u| !u.as_str().is_some_and(|u| gone.iter().any(|g| g == u)));
            }
        }
        ["env", "unset"] => {
            if let Some(toml::Value::Table(set)) = table.get_mut("set") {
                set.retain(|k, _| !gone.iter().any(|g| g == k));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(flag: Flag, v: &str) -> String {
        layer(flag, Some(OsStr::new(v)), Path::new("/work/dir"))
            .map(|l| l.text)
            .unwrap_or_else(|p| format!("error: {}", p.message))
    }

    #[test]
    fn binds_split_at_the_last_absolute_destination() {
        assert_eq!(split_src_dst("/a"), ("/a", None));
        assert_eq!(split_src_dst("/a:/b"), ("/a", Some("/b")));
        assert_eq!(split_src_dst("/a:b:/c"), ("/a:b", Some("/c")));
        assert_eq!(split_src_dst("/a:b"), ("/a:b", None));
        assert_eq!(split_src_dst(":/b"), (":/b", None));
        assert_eq!(
            text(Flag::Bind, ".:/work"),
            r#"mount = [{ type = "bind", src = "/work/dir", dst = "/work" }]"#
        );
        assert_eq!(
            text(Flag::RoBindTry, "../x"),
            r#"mount = [{ type = "ro-bind", src = "/work/dir/../x", optional = true }]"#
        );
        assert_eq!(
            text(Flag::Bind, "~/Music"),
            r#"mount = [{ type = "bind", src = "~/Music" }]"#
        );
    }

    #[test]
    fn values_are_literal() {
        assert_eq!(text(Flag::Env, "A=$HOME x"), r#"env.set."A" = "$$HOME x""#);
        assert_eq!(text(Flag::Hostname, "a$b"), r#"uts.hostname = "a$b""#);
        assert!(text(Flag::Env, "NOVALUE").starts_with("error: "));
        assert!(text(Flag::Net, "wifi").starts_with("error: "));
    }

    #[test]
    fn set_takes_toml_or_a_bare_string() {
        assert_eq!(
            text(Flag::Set, "landlock.compat=hard"),
            r#"landlock.compat = "hard""#
        );
        assert_eq!(text(Flag::Set, "cgroup.pids=64"), "cgroup.pids = 64");
        assert_eq!(
            text(Flag::Set, "mount={type=\"tmpfs\", dst=\"/x\"}"),
            r#"mount = [{ type = "tmpfs", dst = "/x" }]"#
        );
        for refused in [
            "extends=[\"x\"]",
            "\"extends\"=[\"x\"]",
            "name=x",
            "description=x",
            "novalue",
            "cgroup.pids=",
            "a b=1",
            "[t]\nk=1",
        ] {
            assert!(
                text(Flag::Set, refused).starts_with("error: "),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn set_is_one_key_whatever_the_value_holds() {
        // A value that is a document of its own is one string, not keys.
        assert_eq!(
            text(Flag::Set, "uts.hostname=a\n[process]\ncwd=\"/\""),
            r#"uts.hostname = "a\n[process]\ncwd=\"/\"""#
        );
        assert_eq!(
            text(Flag::Set, "seccomp.deny=[\n\"ptrace\",\n]"),
            r#"seccomp.deny = ["ptrace"]"#
        );
        assert_eq!(text(Flag::Set, "env.set.\"A B\"=1"), r#"env.set."A B" = 1"#);
    }

    #[test]
    fn emit_combines_by_the_merge_rules() {
        let l = |f, v: &str| layer(f, Some(OsStr::new(v)), Path::new("/")).unwrap();
        let layers = [
            l(Flag::Deny, "ptrace"),
            l(Flag::Bind, "/a"),
            l(Flag::Allow, "ptrace"),
            l(Flag::Bind, "/b"),
            l(Flag::Hostname, "one"),
            l(Flag::Hostname, "two"),
            l(Flag::Env, "K=1"),
            l(Flag::UnsetEnv, "K"),
        ];
        let out = emit(&["default".into()], &layers);
        let t: toml::Table = out.parse().unwrap();
        assert_eq!(t["extends"].as_array().unwrap().len(), 1);
        assert_eq!(t["mount"].as_array().unwrap().len(), 2);
        assert_eq!(t["uts"]["hostname"].as_str(), Some("two"));
        assert_eq!(t["seccomp"]["deny"].as_array().unwrap().len(), 0);
        assert_eq!(t["seccomp"]["allow"].as_array().unwrap().len(), 1);
        assert!(t["env"]["set"].as_table().unwrap().is_empty());
    }

    #[test]
    fn emit_drops_what_the_merge_drops() {
        let set = |v: &str| layer(Flag::Set, Some(OsStr::new(v)), Path::new("/")).unwrap();
        let l = |f, v: &str| layer(f, Some(OsStr::new(v)), Path::new("/")).unwrap();
        let layers = [
            set("arguments=replace"),
            set("package=p"),
            set("command=[\"/bin/echo\"]"),
            l(Flag::Net, "pasta"),
            l(Flag::Forward, "8080:80"),
            l(Flag::Net, "none"),
        ];
        let t: toml::Table = emit(&["default".into()], &layers).parse().unwrap();
        assert!(
            t.get("arguments").is_none() && t.get("package").is_none(),
            "{t}"
        );
        assert!(t["network"].get("forward_tcp").is_none(), "{t}");
        assert_eq!(t["network"]["mode"].as_str(), Some("none"));
    }

    #[test]
    fn emit_replaces_what_the_merge_replaces() {
        let l = |v: &str| layer(Flag::Set, Some(OsStr::new(v)), Path::new("/")).unwrap();
        let layers = [
            l("command=[\"a\", \"1\"]"),
            l("command=[\"b\"]"),
            l("landlock.scope=[\"signal\"]"),
            l("landlock.scope=[]"),
            l("landlock.read=[\"/a\"]"),
            l("landlock.read=[\"/b\"]"),
        ];
        let t: toml::Table = emit(&["default".into()], &layers).parse().unwrap();
        assert_eq!(t["command"].as_array().unwrap().len(), 1);
        assert!(t["landlock"]["scope"].as_array().unwrap().is_empty());
        assert_eq!(t["landlock"]["read"].as_array().unwrap().len(), 2);
    }

    proptest! {
        /// Whatever a path holds, the text is TOML that gives it back as
        /// written (a `$` doubled for the variables' `$$`).
        #[test]
        fn any_path_round_trips(src in "/[^\u{0}]{0,40}", dst in "/[^\u{0}:]{0,20}") {
            let arg = format!("{src}:{dst}");
            let l = layer(Flag::RoBind, Some(OsStr::new(&arg)), Path::new("/")).unwrap();
            let t: toml::Table = l.text.parse().unwrap();
            let m = &t["mount"].as_array().unwrap()[0];
            let (want_src, want_dst) = split_src_dst(&arg);
            prop_assert_eq!(m["src"].as_str().unwrap(), want_src.replace('$', "$$"));
            prop_assert_eq!(
                m.get("dst").and_then(|d| d.as_str()).map(str::to_string),
                want_dst.map(|d| d.replace('$', "$$"))
            );
        }

        /// No value makes a panic, and what is not an error is TOML.
        #[test]
        fn no_value_panics(i in 0usize..22, v in "[\\s\\S]{0,30}") {
            if let Ok(l) = layer(Flag::ALL[i], Some(OsStr::new(&v)), Path::new("/w")) {
                prop_assert!(l.text.parse::<toml::Table>().is_ok(), "{}", l.text);
                prop_assert!(!l.text.contains('\n') || matches!(Flag::ALL[i], Flag::Net | Flag::NoNetwork), "{}", l.text);
                prop_assert!(!l.argument.chars().any(char::is_control), "{}", l.argument);
            }
        }
    }
}
