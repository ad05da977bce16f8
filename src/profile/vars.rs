//! `${VAR}` expansion in string values, done after parsing so that a value
//! can never change the structure of the profile.
//!
//! The caller's environment is kept as the bytes it is: a variable that is
//! not UTF-8 breaks nothing until a profile expands it into a string value
//! (profiles are UTF-8 text), which is then an error naming the variable.
//! Paths the CLI takes from it (the search path, the launcher folder) keep
//! their bytes.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

/// The facts variables expand to. Built from the real process by the CLI,
/// and by hand in tests.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub uid: u32,
    pub gid: u32,
    pub user: Option<OsString>,
    pub home: Option<OsString>,
    pub pwd: Option<OsString>,
    /// The caller's environment. Names that are not UTF-8 are left out: no
    /// profile can name them (the app still gets them through `[env]`, which
    /// reads the process's own environment).
    pub env: HashMap<String, OsString>,
}

/// The built-in variable names, for error messages and docs.
pub const NAMES: &[&str] = &[
    "HOME",
    "USER",
    "UID",
    "GID",
    "PWD",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "PROFILE_DIR",
];

/// Why a value could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarError {
    /// `${NAME}` that is neither built in nor `ENV:...`.
    Unknown(String),
    /// A variable the caller has not set (the message says which).
    Unset(String),
    /// A variable whose value is not UTF-8: it cannot go into a profile's
    /// string values. Holds how the profile names it (`HOME`, `ENV:X`).
    NotUtf8(String),
    /// `${` without its `}`.
    Unterminated,
}

impl fmt::Display for VarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarError::Unknown(n) => write!(f, "unknown variable ${{{n}}}"),
            VarError::Unset(why) => f.write_str(why),
            VarError::NotUtf8(n) => write!(
                f,
                "${{{n}}} holds bytes that are not UTF-8, which a profile's string values cannot hold"
            ),
            VarError::Unterminated => {
                f.write_str("unterminated '${' (write '$$' for a literal '$')")
            }
        }
    }
}

impl VarError {
    /// Whether an `optional` mount is skipped for it: a variable that is
    /// not there. One that is there but unusable is an error even then.
    pub fn skips_optional(&self) -> bool {
        matches!(self, VarError::Unknown(_) | VarError::Unset(_))
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            VarError::Unknown(_) => Some(format!(
                "known variables: {}, and ${{ENV:NAME}}",
                NAMES.join(", ")
            )),
            VarError::Unset(_) => {
                Some("set it, or mark the mount 'optional = true' to skip it when unset".into())
            }
            VarError::NotUtf8(n) => Some(format!(
                "a profile's paths and strings are UTF-8: give {} a UTF-8 value (rename the folder it names); to hand the app the variable itself, [env] keep passes its bytes as they are",
                n.strip_prefix("ENV:").unwrap_or(n)
            )),
            VarError::Unterminated => None,
        }
    }
}

/// A variable's value as text, or why it cannot be.
fn text(name: &str, value: &OsStr) -> Result<String, VarError> {
    value
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| VarError::NotUtf8(name.to_string()))
}

impl Vars {
    /// The caller's own facts.
    pub fn from_process() -> Vars {
        let env: HashMap<String, OsString> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .collect();
        let uid = nix::unistd::getuid().as_raw();
        let user = env
            .get("USER")
            .cloned()
            .or_else(|| crate::userdb::name(uid).map(Into::into));
        Vars {
            uid,
            gid: nix::unistd::getgid().as_raw(),
            user,
            home: env.get("HOME").cloned(),
            pwd: std::env::current_dir().ok().map(PathBuf::into_os_string),
            env,
        }
    }

    /// A fixed caller, uid/gid 1000 'user' at /home/user, for tests and
    /// golden plans (the counterpart of `host::FakeHost::debian_user`).
    pub fn example_user() -> Vars {
        Vars {
            uid: 1000,
            gid: 1000,
            user: Some("user".into()),
            home: Some("/home/user".into()),
            ..Vars::default()
        }
    }

    /// `$XDG_CONFIG_HOME`-style folder: the variable when set and not
    /// empty, else `~/default_under_home`; bytes kept, for the CLI's paths.
    pub fn xdg_dir(&self, name: &str, default_under_home: &str) -> Option<PathBuf> {
        match self.env.get(name) {
            Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
            _ => self
                .home
                .as_ref()
                .map(|h| Path::new(h).join(default_under_home)),
        }
    }

    fn xdg(&self, name: &str, default_under_home: &str) -> Result<String, VarError> {
        match self.env.get(name) {
            Some(v) if !v.is_empty() => text(name, v),
            _ => match &self.home {
                Some(h) => Ok(format!("{}/{default_under_home}", text("HOME", h)?)),
                None => Err(VarError::Unset(format!(
                    "${{{name}}} is unset and so is $HOME"
                ))),
            },
        }
    }

    fn lookup(&self, name: &str, profile_dir: Option<&Path>) -> Result<String, VarError> {
        let unset =
            |n: &str| VarError::Unset(format!("${{{n}}} is not set in the caller's environment"));
        let given = |n: &str, v: &Option<OsString>| match v {
            Some(v) => text(n, v),
            None => Err(unset(n)),
        };
        match name {
            "HOME" => given(name, &self.home),
            "USER" => given(name, &self.user),
            "UID" => Ok(self.uid.to_string()),
            "GID" => Ok(self.gid.to_string()),
            "PWD" => given(name, &self.pwd),
            "XDG_RUNTIME_DIR" => {
                given(name, &self.env.get(name).filter(|v| !v.is_empty()).cloned())
            }
            "XDG_CONFIG_HOME" => self.xdg(name, ".config"),
            "XDG_DATA_HOME" => self.xdg(name, ".local/share"),
            "XDG_CACHE_HOME" => self.xdg(name, ".cache"),
            "PROFILE_DIR" => match profile_dir {
                Some(d) => text(name, d.as_os_str()),
                None => Err(VarError::Unset(
                    "${PROFILE_DIR} has no meaning in a profile built into the binary".into(),
                )),
            },
            _ => match name.strip_prefix("ENV:") {
                Some(var) => match self.env.get(var) {
                    Some(v) => text(name, v),
                    None => Err(unset(var)),
                },
                None => Err(VarError::Unknown(name.to_string())),
            },
        }
    }

    /// Expand `${NAME}`, `${ENV:NAME}`, `$$` (a literal `$`) and a leading
    /// `~/`. Any other `$` is kept as written.
    pub fn expand(&self, s: &str, profile_dir: Option<&Path>) -> Result<String, VarError> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        if let Some(r) = s.strip_prefix("~/") {
            out.push_str(&self.lookup("HOME", None)?);
            out.push('/');
            rest = r;
        } else if s == "~" {
            return self.lookup("HOME", None);
        }
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('$') {
                out.push('$');
                rest = r;
            } else if let Some(r) = after.strip_prefix('{') {
                let end = r.find('}').ok_or(VarError::Unterminated)?;
                out.push_str(&self.lookup(&r[..end], profile_dir)?);
                rest = &r[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            uid: 1000,
            gid: 100,
            user: Some("ada".into()),
            home: Some("/home/ada".into()),
            pwd: Some("/work".into()),
            env: [
                ("XDG_RUNTIME_DIR", "/run/user/1000"),
                ("WAYLAND_DISPLAY", "wayland-0"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect(),
        }
    }

    #[test]
    fn expands_builtins_env_and_tilde() {
        let v = vars();
        assert_eq!(v.expand("${HOME}/x", None).unwrap(), "/home/ada/x");
        assert_eq!(
            v.expand("~/Downloads", None).unwrap(),
            "/home/ada/Downloads"
        );
        assert_eq!(
            v.expand("${XDG_RUNTIME_DIR}/${ENV:WAYLAND_DISPLAY}", None)
                .unwrap(),
            "/run/user/1000/wayland-0"
        );
        assert_eq!(
            v.expand("${XDG_CONFIG_HOME}", None).unwrap(),
            "/home/ada/.config"
        );
        assert_eq!(v.expand("u${UID}g${GID}", None).unwrap(), "u1000g100");
        assert_eq!(
            v.expand("${PROFILE_DIR}/a", Some(Path::new("/p"))).unwrap(),
            "/p/a"
        );
        assert_eq!(v.expand("cost: $$5 or $x", None).unwrap(), "cost: $5 or $x");
    }

    #[test]
    fn unknown_and_unset_are_errors() {
        let v = vars();
        assert!(
            v.expand("${NOPE}", None)
                .unwrap_err()
                .to_string()
                .contains("unknown variable")
        );
        assert!(
            v.expand("${ENV:NOPE}", None)
                .unwrap_err()
                .to_string()
                .contains("not set")
        );
        assert!(
            v.expand("${HOME", None)
                .unwrap_err()
                .to_string()
                .contains("unterminated")
        );
        assert!(v.expand("${PROFILE_DIR}", None).is_err());
    }

    #[test]
    fn a_value_that_is_not_utf8_is_an_error_naming_the_variable() {
        use std::os::unix::ffi::OsStringExt;
        let mut v = vars();
        v.env
            .insert("X".into(), OsString::from_vec(vec![b'a', 0xff]));
        v.home = Some(OsString::from_vec(b"/home/\xff".to_vec()));
        let e = v.expand("/x/${ENV:X}", None).unwrap_err();
        assert_eq!(e, VarError::NotUtf8("ENV:X".into()));
        assert!(e.to_string().contains("${ENV:X}"), "{e}");
        assert!(!e.skips_optional());
        assert_eq!(
            v.expand("~/a", None).unwrap_err(),
            VarError::NotUtf8("HOME".into())
        );
        assert_eq!(
            v.expand("${XDG_CACHE_HOME}", None).unwrap_err(),
            VarError::NotUtf8("HOME".into())
        );
        // Paths keep their bytes.
        assert_eq!(
            v.xdg_dir("XDG_CONFIG_HOME", ".config").unwrap(),
            PathBuf::from(OsString::from_vec(b"/home/\xff/.config".to_vec()))
        );
        // Variables the profile does not use do not matter.
        assert_eq!(v.expand("${UID}", None).unwrap(), "1000");
    }
}
