//! The caller's places that a broad bind must not hand the app: secrets
//! (keys, keyrings, browser and mail profiles, cloud credentials), hidden
//! inside any bind that covers them; and places code runs from later (the
//! shell's and session's startup files, autostart, user units, `~/.local/bin`,
//! desktop entries, git's and editors' configuration, sandbox's own profile
//! folder), read-only inside any writable bind that covers them. A profile
//! that names one of them itself (a mount whose source is it or below it)
//! keeps it as it says.

use super::Vars;
use std::path::Path;

/// How a place is guarded inside a bind that covers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Hidden: an empty read-only folder or file over it.
    Secret,
    /// Read-only inside a writable bind.
    Runs,
}

/// One place, as an absolute path of the caller's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guarded {
    pub path: String,
    pub guard: Guard,
}

/// Below the home folder.
const SECRETS: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".password-store",
    ".pki",
    ".local/share/keyrings",
    ".local/share/kwalletd",
    ".mozilla",
    ".thunderbird",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
];

/// Below the configuration folder ($XDG_CONFIG_HOME, else ~/.config).
const CONFIG_SECRETS: &[&str] = &[
    "google-chrome",
    "chromium",
    "BraveSoftware",
    "microsoft-edge",
    "vivaldi",
    "gcloud",
    "gh",
];

/// Below the home folder.
const RUNS: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".bash_aliases",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".zlogout",
    ".cshrc",
    ".tcshrc",
    ".xprofile",
    ".xsession",
    ".xsessionrc",
    ".xinitrc",
    ".pam_environment",
    ".gitconfig",
    ".vimrc",
    ".vim",
    ".emacs",
    ".emacs.d",
    ".local/bin",
    // Python's user site (a .pth file there runs in every python3),
    // cargo's and go's installed programs, tmux's start-up commands.
    ".local/lib",
    ".cargo/bin",
    "go/bin",
    ".tmux.conf",
    "bin",
    ".local/share/applications",
    ".local/share/systemd",
    // ssh runs what these say (ProxyCommand, rc), and lets in their keys.
    ".ssh/config",
    ".ssh/authorized_keys",
    ".ssh/rc",
    ".ssh/environment",
];

/// Below the configuration folder.
const CONFIG_RUNS: &[&str] = &[
    "autostart",
    "systemd",
    "environment.d",
    "fish",
    "git",
    "nvim",
    "tmux",
    "sandbox",
];

/// The system's profile folder: a profile there runs with whatever it says.
const SYSTEM_PROFILES: &str = "/etc/sandbox/profiles";

/// The caller's guarded places; none without a home folder. Paths that
/// are not UTF-8 cannot be a profile's sources, so they guard nothing.
pub fn places(vars: &Vars) -> Vec<Guarded> {
    let mut v = home_places(vars);
    // A user's state folder of running sandboxes (`sandbox ps`, `enter`):
    // its entries and sockets are no app's business. (Root's,
    // /run/sandbox, 0700 root's, is out of a sandbox's reach as nobody,
    // which could not even open it to hide it.)
    let runtime = vars
        .env
        .get("XDG_RUNTIME_DIR")
        .and_then(|c| c.to_str())
        .filter(|c| c.starts_with('/') && *c != "/" && vars.uid != 0);
    v.extend(runtime.map(|r| Guarded {
        path: format!("{r}/sandbox"),
        guard: Guard::Secret,
    }));
    v
}

fn home_places(vars: &Vars) -> Vec<Guarded> {
    let system = Guarded {
        path: SYSTEM_PROFILES.into(),
        guard: Guard::Runs,
    };
    let Some(home) = vars
        .home
        .as_ref()
        .and_then(|h| h.to_str())
        .filter(|h| h.starts_with('/') && *h != "/")
    else {
        return vec![system];
    };
    let config = vars
        .env
        .get("XDG_CONFIG_HOME")
        .and_then(|c| c.to_str())
        .filter(|c| c.starts_with('/'))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{home}/.config"));
    let under = |base: &str, names: &'static [&str], guard: Guard| {
        let base = base.to_string();
        names.iter().map(move |n| Guarded {
            path: Path::new(&base).join(n).to_string_lossy().into_owned(),
            guard,
        })
    };
    under(home, SECRETS, Guard::Secret)
        .chain(under(&config, CONFIG_SECRETS, Guard::Secret))
        .chain(under(home, RUNS, Guard::Runs))
        .chain(under(&config, CONFIG_RUNS, Guard::Runs))
        .chain([system])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_under_home_and_the_config_folder() {
        let mut v = Vars::example_user();
        let p = places(&v);
        assert!(p.contains(&Guarded {
            path: "/home/user/.ssh".into(),
            guard: Guard::Secret
        }));
        assert!(p.contains(&Guarded {
            path: "/home/user/.config/autostart".into(),
            guard: Guard::Runs
        }));
        v.env.insert("XDG_CONFIG_HOME".into(), "/cfg".into());
        let p = places(&v);
        assert!(
            p.iter()
                .any(|g| g.path == "/cfg/sandbox" && g.guard == Guard::Runs)
        );
        assert!(p.iter().all(|g| g.path.starts_with("/home/user/")
            || g.path.starts_with("/cfg/")
            || g.path == SYSTEM_PROFILES
            || g.path.ends_with("/sandbox") && g.guard == Guard::Secret));
        v.home = Some("/".into());
        assert_eq!(
            places(&v).len(),
            1 + usize::from(v.env.contains_key("XDG_RUNTIME_DIR") && v.uid != 0),
            "only the system's profile folder and the state folder"
        );
    }
}
