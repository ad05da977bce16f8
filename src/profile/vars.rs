//! `${VAR}` expansion in string values, done after parsing so that a value
//! can never change the structure of the profile.

use std::collections::HashMap;
use std::path::Path;

/// The facts variables expand to. Built from the real process by the CLI,
/// and by hand in tests.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub uid: u32,
    pub gid: u32,
    pub user: Option<String>,
    pub home: Option<String>,
    pub pwd: Option<String>,
    pub env: HashMap<String, String>,
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

impl Vars {
    /// The caller's own facts.
    pub fn from_process() -> Vars {
        let env: HashMap<String, String> = std::env::vars().collect();
        let uid = nix::unistd::getuid().as_raw();
        let user = env.get("USER").cloned().or_else(|| {
            nix::unistd::User::from_uid(uid.into())
                .ok()
                .flatten()
                .map(|u| u.name)
        });
        Vars {
            uid,
            gid: nix::unistd::getgid().as_raw(),
            user,
            home: env.get("HOME").cloned(),
            pwd: std::env::current_dir()
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
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

    fn xdg(&self, name: &str, default_under_home: &str) -> Result<String, String> {
        match self.env.get(name) {
            Some(v) if !v.is_empty() => Ok(v.clone()),
            _ => self
                .home
                .as_ref()
                .map(|h| format!("{h}/{default_under_home}"))
                .ok_or_else(|| format!("${{{name}}} is unset and so is $HOME")),
        }
    }

    fn lookup(&self, name: &str, profile_dir: Option<&Path>) -> Result<String, String> {
        let unset = |n: &str| format!("${{{n}}} is not set in the caller's environment");
        match name {
            "HOME" => self.home.clone().ok_or_else(|| unset("HOME")),
            "USER" => self.user.clone().ok_or_else(|| unset("USER")),
            "UID" => Ok(self.uid.to_string()),
            "GID" => Ok(self.gid.to_string()),
            "PWD" => self.pwd.clone().ok_or_else(|| unset("PWD")),
            "XDG_RUNTIME_DIR" => self
                .env
                .get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| unset(name)),
            "XDG_CONFIG_HOME" => self.xdg(name, ".config"),
            "XDG_DATA_HOME" => self.xdg(name, ".local/share"),
            "XDG_CACHE_HOME" => self.xdg(name, ".cache"),
            "PROFILE_DIR" => profile_dir
                .map(|d| d.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    "${PROFILE_DIR} has no meaning in a profile built into the binary".to_string()
                }),
            _ => match name.strip_prefix("ENV:") {
                Some(var) => self.env.get(var).cloned().ok_or_else(|| unset(var)),
                None => Err(format!("unknown variable ${{{name}}}")),
            },
        }
    }

    /// Expand `${NAME}`, `${ENV:NAME}`, `$$` (a literal `$`) and a leading
    /// `~/`. Any other `$` is kept as written.
    pub fn expand(&self, s: &str, profile_dir: Option<&Path>) -> Result<String, String> {
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
                let end = r.find('}').ok_or_else(|| {
                    "unterminated '${' (write '$$' for a literal '$')".to_string()
                })?;
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
            .map(|(k, v)| (k.to_string(), v.to_string()))
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
                .contains("unknown variable")
        );
        assert!(
            v.expand("${ENV:NOPE}", None)
                .unwrap_err()
                .contains("not set")
        );
        assert!(
            v.expand("${HOME", None)
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(v.expand("${PROFILE_DIR}", None).is_err());
    }
}
