//! The caller's secrets and the places code runs from later, inside a
//! broad bind: a bind of the current folder is read-only when that folder
//! is the home folder (or above it, or where such a place would be made);
//! inside any bind, secrets are hidden and, inside a writable one, existing
//! places code runs from are read-only, unless the profile names them
//! itself. Each attack (read a key, append to ~/.bashrc, drop an autostart
//! entry) is shown to work where the profile grants the place explicitly.

mod common;
use common::*;
use std::process::Stdio;

/// A home folder with a key, a shell startup file, an autostart folder,
/// a project folder, and a profile binding the current folder writable.
struct Home {
    s: Scratch,
    home: String,
}

fn home(who: Who) -> Home {
    let s = Scratch::new("guarded");
    let home = s.dir("home", 0o755);
    s.dir("home/.ssh", 0o700);
    s.write("home/.ssh/id_ed25519", "PRIVATE KEY\n");
    s.write("home/.bashrc", "# the caller's\n");
    s.dir("home/.config/autostart", 0o755);
    s.dir("home/proj", 0o755);
    // The caller's own files; the project folder is the sandbox's to write.
    s.chown_to_caller(who, "home");
    s.chown_to(who, "home/proj");
    s.write(
        "cwd.toml",
        "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"${PWD}\"\n[process]\ncwd = \"${PWD}\"\n",
    );
    Home { s, home }
}

impl Home {
    /// `sh -c script` under `profile` (a file in the scratch folder), from
    /// the folder `cwd`, with this home as HOME.
    fn run(
        &self,
        who: Who,
        profile: &str,
        cwd: &str,
        script: &str,
    ) -> Option<(i32, String, String)> {
        let mut c = sandbox_env(who, &[("HOME", self.home.as_str())])?;
        let profile = self.s.path.join(profile);
        // The shell's own messages (a redirection refused) to stdout too.
        let script = format!("exec 2>&1; {script}");
        c.args([
            "run",
            &profile.to_string_lossy(),
            "--",
            "/bin/sh",
            "-c",
            &script,
        ])
        .current_dir(cwd)
        .stdin(Stdio::null());
        let o = c.output().unwrap();
        // The scripts probe, and end with `exit 0`: any other code is the
        // sandbox's.
        Some((o.status.code().unwrap_or(-1), stdout(&o), stderr(&o)))
    }
}

// From the home folder: the current folder is bound read-only, with a
// warning; the key is hidden and ~/.bashrc is not writable.
both!(
    the_home_folder_as_current_folder_is_bound_read_only,
    |who| {
        let h = home(who);
        // Writable by the sandbox's ids, so that only the mount stands in the way.
        h.s.chown_to(who, "home");
        let Some((code, out, err)) = h.run(
        who,
        "cwd.toml",
        &h.home,
        "cat ~/.ssh/id_ed25519 2>&1; ls -A ~/.ssh | wc -l; echo 'evil' >> ~/.bashrc 2>&1; touch new 2>&1; exit 0",
    ) else {
        return;
    };
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("warning: the current folder") && err.contains("bound read-only"),
            "{err}"
        );
        assert!(
            out.contains("No such file or directory"),
            "the key is hidden: {out}"
        );
        assert!(out.contains("\n0\n"), "~/.ssh is empty inside: {out}");
        assert!(out.matches("Read-only file system").count() >= 2, "{out}");
        assert_eq!(
            std::fs::read_to_string(format!("{}/.bashrc", h.home)).unwrap(),
            "# the caller's\n"
        );
    }
);

// A project folder below the home is bound writable, as the profile says:
// the control for the read-only fallback.
both!(a_project_folder_stays_writable, |who| {
    let h = home(who);
    let proj = format!("{}/proj", h.home);
    let Some((code, out, err)) =
        h.run(who, "cwd.toml", &proj, "echo made > out.txt && cat out.txt")
    else {
        return;
    };
    assert_eq!((code, out.trim()), (0, "made"), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(
        std::fs::read_to_string(format!("{proj}/out.txt")).unwrap(),
        "made\n"
    );
});

// A writable bind of ~/.config named by the profile: its autostart folder
// is read-only inside, the rest writable; the key of a read-only bind of
// the home is hidden.
both!(
    places_code_runs_from_are_read_only_inside_a_writable_bind,
    |who| {
        let h = home(who);
        h.s.chown_to(who, "home/.config");
        let profile = format!(
            "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{0}\"\n[[mount]]\ntype = \"bind\"\nsrc = \"{0}/.config\"\n",
            h.home
        );
        h.s.write("cfg.toml", &profile);
        let Some((code, out, err)) = h.run(
        who,
        "cfg.toml",
        "/",
        "echo '[Desktop Entry]' > ~/.config/autostart/evil.desktop 2>&1; echo ok > ~/.config/app.conf && echo wrote-config; cat ~/.ssh/id_ed25519 2>&1; exit 0",
    ) else {
        return;
    };
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("Read-only file system"), "{out}");
        assert!(out.contains("wrote-config"), "{out}");
        assert!(out.contains("No such file or directory"), "{out}");
        assert!(
            !std::path::Path::new(&format!("{}/.config/autostart/evil.desktop", h.home)).exists()
        );
    }
);

// A profile that names the places itself gets them: the attacks work,
// which shows what the guards above stop.
both!(a_profile_that_names_a_place_gets_it, |who| {
    let h = home(who);
    // Readable and writable by the sandbox (a root caller's is nobody).
    h.s.chown_to(who, "home/.bashrc");
    h.s.chown_to(who, "home/.ssh");
    let profile = format!(
        "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{0}\"\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{0}/.ssh\"\n[[mount]]\ntype = \"bind\"\nsrc = \"{0}/.bashrc\"\n",
        h.home
    );
    h.s.write("named.toml", &profile);
    let Some((code, out, err)) = h.run(
        who,
        "named.toml",
        "/",
        "cat ~/.ssh/id_ed25519; echo 'evil' >> ~/.bashrc && echo appended",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("PRIVATE KEY") && out.contains("appended"),
        "{out}"
    );
    assert!(
        err.contains("warning: writable bind of"),
        "the grant is warned about: {err}"
    );
});

// A secret reached through a link inside the bind is hidden where it
// really is.
both!(a_secret_behind_a_link_is_hidden_where_it_is, |who| {
    let h = home(who);
    std::fs::rename(
        format!("{}/.ssh", h.home),
        format!("{}/dotfiles-ssh", h.home),
    )
    .unwrap();
    std::os::unix::fs::symlink("dotfiles-ssh", format!("{}/.ssh", h.home)).unwrap();
    h.s.chown_to_caller(who, "home");
    let profile = format!(
        "extends = [\"default\"]\n[[mount]]\ntype = \"ro-bind\"\nsrc = \"{}\"\n",
        h.home
    );
    h.s.write("link.toml", &profile);
    let Some((code, out, err)) = h.run(
        who,
        "link.toml",
        "/",
        "cat ~/.ssh/id_ed25519 2>&1; cat ~/dotfiles-ssh/id_ed25519 2>&1; exit 0",
    ) else {
        return;
    };
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("PRIVATE KEY"), "{out}");
});

// A home folder reached through a link (HOME names the link, the current
// folder is where it leads): the bind is still the home's, read-only, with
// the key hidden.
both!(a_home_reached_through_a_link_is_still_guarded, |who| {
    let h = home(who);
    h.s.chown_to(who, "home");
    let link = h.s.path.join("link-to-home");
    std::os::unix::fs::symlink(&h.home, &link).unwrap();
    let Some(mut c) = sandbox_env(who, &[("HOME", &link.to_string_lossy())]) else {
        return;
    };
    let profile = h.s.path.join("cwd.toml");
    c.args([
        "run",
        &profile.to_string_lossy(),
        "--",
        "/bin/sh",
        "-c",
        "exec 2>&1; cat .ssh/id_ed25519; echo evil >> .bashrc; exit 0",
    ])
    .current_dir(&h.home)
    .stdin(Stdio::null());
    let o = c.output().unwrap();
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(err.contains("bound read-only"), "{err}");
    assert!(!out.contains("PRIVATE KEY"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
});

// Dotfiles: ~/.bashrc is a link into ~/dotfiles, and the tool runs from
// there: the file the link leads to is read-only inside.
both!(
    a_startup_file_behind_a_link_is_read_only_where_it_is,
    |who| {
        let h = home(who);
        h.s.dir("home/dotfiles", 0o755);
        std::fs::rename(
            format!("{}/.bashrc", h.home),
            format!("{}/dotfiles/bashrc", h.home),
        )
        .unwrap();
        std::os::unix::fs::symlink("dotfiles/bashrc", format!("{}/.bashrc", h.home)).unwrap();
        h.s.chown_to(who, "home");
        let dots = format!("{}/dotfiles", h.home);
        let Some((code, out, err)) = h.run(
            who,
            "cwd.toml",
            &dots,
            "echo evil >> bashrc; echo ok > notes && echo wrote-notes; exit 0",
        ) else {
            return;
        };
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("Read-only file system") && out.contains("wrote-notes"),
            "{out}"
        );
        assert_eq!(
            std::fs::read_to_string(format!("{dots}/bashrc")).unwrap(),
            "# the caller's\n"
        );
    }
);

// A guarded place two levels down (~/.local/share/applications in a bind
// of ~/.local): renaming its parent away to make a fresh, unguarded copy is
// refused, as the parent is pinned.
both!(
    a_guarded_place_cannot_be_moved_away_with_its_parent,
    |who| {
        let h = home(who);
        // Every place code runs from in ~/.local exists: one missing
        // would make the whole writable bind read-only (it could be made).
        for d in [
            "home/.local/bin",
            "home/.local/lib",
            "home/.local/share/applications",
            "home/.local/share/systemd",
        ] {
            h.s.dir(d, 0o755);
        }
        h.s.chown_to(who, "home");
        let local = format!("{}/.local", h.home);
        let Some((code, out, err)) = h.run(
        who,
        "cwd.toml",
        &local,
        "mv share share.orig; mkdir -p share/applications && echo '[Desktop Entry]' > share/applications/evil.desktop; echo made > kept; exit 0",
    ) else {
        return;
    };
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("Device or resource busy"), "{out}");
        assert!(std::path::Path::new(&format!("{local}/share")).is_dir());
        assert!(
            !std::path::Path::new(&format!("{local}/share/applications/evil.desktop")).exists()
        );
        assert!(
            std::path::Path::new(&format!("{local}/kept")).exists(),
            "the rest is writable"
        );
    }
);

// A tmpfs inside a writable bind, and a mount inside that tmpfs two
// levels down: the folders between are the tmpfs's, made (and pinned, if
// at all) there, never in the bind, on the host.
both!(
    folders_inside_a_tmpfs_in_a_writable_bind_stay_off_the_host,
    |who| {
        let s = Scratch::new("pins");
        s.dir("w", 0o755);
        s.dir("ro", 0o755);
        s.chown_to(who, "w");
        let w = s.path.join("w");
        let ro = s.path.join("ro");
        let p = s.write(
            "p.toml",
            &format!(
                "extends = [\"default\"]\n\
                 [[mount]]\ntype = \"bind\"\nsrc = \"{w}\"\ndst = \"/w\"\n\
                 [[mount]]\ntype = \"tmpfs\"\ndst = \"/w/t\"\n\
                 [[mount]]\ntype = \"ro-bind\"\nsrc = \"{ro}\"\ndst = \"/w/t/a/b\"\n",
                w = w.display(),
                ro = ro.display()
            ),
        );
        let Some(out) = run_sh(who, &p, "test -d /w/t/a/b && echo there") else {
            return;
        };
        assert_eq!(ok(out), "there\n");
        let left: Vec<_> = std::fs::read_dir(&w)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        // The tmpfs's mount point only.
        assert_eq!(left, vec![std::ffi::OsString::from("t")]);
        assert!(!w.join("t/a").exists());
    }
);

// A profile kept in the folder it binds writable: the app cannot change
// it, and a profile it plants there for `extends = ["default"]` to find by
// name is refused at the next run, not loaded.
both!(
    a_profile_in_a_folder_the_sandbox_writes_is_not_the_apps_to_change,
    |who| {
        let h = home(who);
        let proj = format!("{}/proj", h.home);
        let tool = format!("{proj}/tool.toml");
        std::fs::write(
        &tool,
        "extends = [\"default\"]\n[[mount]]\ntype = \"bind\"\nsrc = \"${PWD}\"\n[process]\ncwd = \"${PWD}\"\n",
    )
    .unwrap();
        h.s.chown_to_caller(who, "home/proj/tool.toml");
        let run = |script: &str| {
            let mut c = sandbox_env(who, &[("HOME", h.home.as_str())])?;
            c.args(["run", &tool, "--", "/bin/sh", "-c", script])
                .current_dir(&proj)
                .stdin(Stdio::null());
            Some(c.output().unwrap())
        };
        let Some(first) = run(
            "exec 2>&1; echo '[seccomp]' >> tool.toml; printf '[seccomp]\\npolicy = \"none\"\\n' > default.toml && echo planted; exit 0",
        ) else {
            return;
        };
        let out = stdout(&first);
        if who == Who::Root {
            // Root loads no profile from a folder another uid (here nobody, its
            // sandbox) may write: refused before anything runs.
            assert_eq!(first.status.code(), Some(125));
            assert!(
                stderr(&first).contains("root does not load"),
                "{}",
                stderr(&first)
            );
            return;
        }
        assert!(
            out.contains("Read-only file system") && out.contains("planted"),
            "{out}"
        );
        let second = run("grep Seccomp: /proc/self/status").unwrap();
        assert_eq!(second.status.code(), Some(125), "{}", stdout(&second));
        let err = stderr(&second);
        assert!(
            err.contains("tool.toml:1:12: error: this finds") && err.contains("by name"),
            "{err}"
        );
    }
);
