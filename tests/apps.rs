//! Real applications under their shipped profiles, looked at as a user
//! would: a window on a display, a rendered page, a web server answering,
//! a database keeping its data, a bus call, a sound server reached. Each
//! needs Debian packages that `.ci/run` installs; without them a test is
//! skipped (and fails under SANDBOX_MUST_WORK=1).

mod common;
use common::*;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child killed (and reaped) when dropped.
struct Running(Child);

impl Drop for Running {
    /// TERM first, as a service manager stops a service (the sandbox then
    /// stops its helpers, freeing their ports); KILL after 5 s.
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        if !wait_for(5, || self.0.try_wait().ok().flatten().is_some()) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Wait until `ready` holds, up to `secs`.
fn wait_for(secs: u64, mut ready: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// `program` as `who` (the test user's ids set directly, so that killing
/// the child kills the program), with `env` added.
fn host_command(who: Who, program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(program);
    if matches!(who, Who::User) && is_root() {
        let u = test_user().expect("SANDBOX_TEST_USER");
        c.uid(u.uid)
            .gid(u.gid)
            .env("HOME", &u.home)
            .env("USER", &u.name);
    }
    c.envs(env.iter().copied()).args(args).stdin(Stdio::null());
    c
}

// ---------------------------------------------------------------- X11

/// A display number whose socket does not exist yet.
fn free_display() -> u32 {
    (60..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free display number")
}

/// The number of distinct colours on the display's root window, by a
/// screenshot taken outside the sandbox (ImageMagick's import).
fn screen_colours(display: &str, scratch: &Scratch, name: &str) -> usize {
    let shot = scratch.path.join(name);
    let ok = Command::new("import")
        .args(["-display", display, "-window", "root"])
        .arg(&shot)
        .status()
        .unwrap()
        .success();
    assert!(ok, "screenshot of {display}");
    let out = Command::new("/usr/bin/convert")
        .arg(&shot)
        .args(["-format", "%k", "info:"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The root and user variants run at once: one at a time picks a display
/// number and starts its server, or both would take the same free one.
static DISPLAYS: std::sync::Mutex<()> = std::sync::Mutex::new(());

both!(an_x11_app_draws_its_window_on_the_display, |who| {
    if !need(&["Xvfb", "xeyes", "import", "convert"]) {
        return;
    }
    let _one_at_a_time = DISPLAYS.lock().unwrap_or_else(|e| e.into_inner());
    let n = free_display();
    let display = format!(":{n}");
    // -ac: any local client (the test user's too) may connect.
    let _x = Running(
        Command::new("Xvfb")
            .args([
                &display,
                "-ac",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "320x240x24",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_for(10, || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()),
        "Xvfb did not start"
    );
    let s = Scratch::new("x11");
    assert_eq!(
        screen_colours(&display, &s, "before.png"),
        1,
        "an empty display is one colour"
    );
    let Some(mut c) = sandbox_env(who, &[("DISPLAY", &display)]) else {
        return;
    };
    let app = Running(
        c.args(["run", "xeyes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The window appears when xeyes has drawn: more than one colour.
    let drawn = wait_for(10, || screen_colours(&display, &s, "after.png") > 1);
    let mut app = app;
    let exited = app.0.try_wait().unwrap();
    let mut err = String::new();
    if exited.is_some() {
        app.0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
    }
    assert!(drawn, "xeyes drew nothing (exited: {exited:?}) {err}");
});

// ---------------------------------------------------------------- Chromium

// Chromium refuses to run as root without giving up its own sandbox: the
// root variant makes the app uid 1000 inside instead.
both!(chromium_headless_renders_a_page_to_png, |who| {
    if !need(&["chromium", "convert"]) {
        return;
    }
    let s = Scratch::new("chromium");
    let work = s.dir("work", 0o777);
    s.write(
        "work/page.html",
        "<html><body style='margin:0;background:#fff'>\
         <div style='position:absolute;left:100px;top:75px;width:200px;height:150px;background:rgb(255,0,0)'></div>\
         </body></html>",
    );
    // A user's override of the shipped profile: the shipped one, plus the
    // folder with the page.
    let root_uid = if matches!(who, Who::Root) {
        "[user]\nuid = 1000\ngid = 1000\n"
    } else {
        ""
    };
    let profile = s.write(
        "chromium.toml",
        &format!(
            "extends = [\"chromium\"]\n{root_uid}[[mount]]\ntype = \"bind\"\nsrc = \"{work}\"\n"
        ),
    );
    let Some(mut c) = sandbox(who) else { return };
    let out = c
        // The profile's program takes the words after `--` as arguments.
        .args(["run", &profile, "--", "--headless", "--window-size=400,300"])
        .arg(format!("--screenshot={work}/out.png"))
        .arg(format!("file://{work}/page.html"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let png = format!("{work}/out.png");
    assert!(Path::new(&png).exists(), "no screenshot: {}", stderr(&out));
    let pixel = |x: u32, y: u32| {
        let o = Command::new("/usr/bin/convert")
            .arg(&png)
            .args(["-format", &format!("%[pixel:p{{{x},{y}}}]"), "info:"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(pixel(200, 150), "srgb(255,0,0)", "the red box");
    assert_eq!(pixel(10, 290), "srgb(255,255,255)", "the page's background");
});

// ---------------------------------------------------------------- nginx

#[test]
fn nginx_serves_on_loopback_and_is_confined() {
    if !is_root() {
        cannot("the nginx profile is for a root-run service");
        return;
    }
    if !need(&["nginx", "curl"]) {
        return;
    }
    // The shipped profile forwards host port 8080.
    let server = Running(
        sandbox(Who::Root)
            .unwrap()
            .args(["run", "nginx"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut page = String::new();
    let served = wait_for(15, || {
        let o = Command::new("curl")
            .args(["-s", "-m", "2", "http://127.0.0.1:8080/"])
            .output()
            .unwrap();
        page = String::from_utf8_lossy(&o.stdout).into_owned();
        page.contains("Welcome to nginx")
    });
    drop(server);
    assert!(served, "curl got: {page}");
    // What nginx could do, from a shell under the same profile.
    let out = ok(run_sh(
        Who::Root,
        "nginx",
        "for p in /root /home; do test -e $p && echo \"sees $p\"; done
         for f in /etc/nginx/x /usr/x /x /var/www/x /tmp/../etc/x; do
           touch $f 2>/dev/null && echo \"wrote $f\"; done
         touch /var/log/nginx/sandbox-probe && echo log-ok && rm /var/log/nginx/sandbox-probe
         touch /run/probe && echo run-ok
         id -u",
    )
    .unwrap());
    assert_eq!(
        out, "log-ok\nrun-ok\n0\n",
        "root, with only the capabilities nginx needs"
    );
}

// ---------------------------------------------------------------- Redis

/// As the `redis` user, as a systemd unit with User=redis runs it: the
/// shipped profile expects its caller to own the configuration and data.
/// The caller's override of the shipped profile (in its
/// ~/.config/sandbox/profiles, found by name) keeps the data in a folder
/// of the test instead of /var/lib/redis.
#[test]
fn redis_answers_on_loopback_and_keeps_data_in_its_one_writable_folder() {
    use std::os::unix::process::CommandExt;
    if !is_root() {
        cannot("runs the service as the redis user");
        return;
    }
    if !need(&["redis-server", "redis-cli"]) {
        return;
    }
    let Ok(Some(redis)) = nix::unistd::User::from_name("redis") else {
        cannot("no redis user");
        return;
    };
    let s = Scratch::new("redis");
    let data = s.dir("data", 0o700);
    s.dir("config/sandbox/profiles", 0o755);
    s.write(
        "config/sandbox/profiles/redis-server.toml",
        &format!(
            "# My redis: the shipped one, with the data in {data}.\nextends = [\"redis-server\"]\n\n[[mount]]\ntype = \"bind\"\nsrc = \"{data}\"\ndst = \"/var/lib/redis\"\n"
        ),
    );
    std::os::unix::fs::chown(&data, Some(redis.uid.as_raw()), Some(redis.gid.as_raw())).unwrap();
    let as_redis = || {
        let mut c = Command::new(binary());
        c.uid(redis.uid.as_raw())
            .gid(redis.gid.as_raw())
            .env_clear()
            .env("HOME", &redis.dir)
            .env("USER", "redis")
            .env("PATH", "/usr/bin:/bin")
            .env("XDG_CONFIG_HOME", s.path.join("config"))
            .current_dir("/")
            .stdin(Stdio::null());
        c
    };
    let server = Running(
        as_redis()
            .args(["run", "redis-server"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let cli = |args: &[&str]| {
        let o = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", "6379"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let answered = wait_for(15, || cli(&["ping"]) == "PONG");
    let mut server = server;
    if !answered {
        let _ = server.0.kill();
        let mut err = String::new();
        server
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("redis did not answer: {err}");
    }
    assert_eq!(cli(&["set", "sandboxed", "yes"]), "OK");
    assert_eq!(cli(&["save"]), "OK");
    drop(server);
    assert!(
        Path::new(&data).join("dump.rdb").exists(),
        "the data is in the one writable folder"
    );
    // Nowhere else is writable for it.
    let out = as_redis()
        .args(["run", "redis-server", "--command", "--", "/bin/sh", "-c"])
        .arg(
            "for f in /etc/redis/x /x /usr/x /var/x /tmp/../x; do touch $f 2>/dev/null && echo \"wrote $f\"; done
             touch /var/lib/redis/probe && echo data-ok",
        )
        .output()
        .unwrap();
    assert_eq!(ok(out), "data-ok\n");
}

// ---------------------------------------------------------------- D-Bus

both!(dbus_calls_reach_allowed_names_only, |who| {
    if !need(&[
        "dbus-daemon",
        "xdg-dbus-proxy",
        "dbus-send",
        "dbus-test-tool",
    ]) {
        return;
    }
    // The servers outside run as the caller: skip (or fail under
    // SANDBOX_MUST_WORK) where that caller cannot be had, as sandbox() does.
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("dbus");
    let dir = s.dir("bus", 0o755);
    s.chown_to(who, "bus");
    let address = format!("unix:path={dir}/socket");
    let env = [("DBUS_SESSION_BUS_ADDRESS", address.as_str())];
    let _daemon = Running(
        host_command(
            who,
            "dbus-daemon",
            &["--session", "--nofork", "--address", &address],
            &[],
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap(),
    );
    assert!(wait_for(10, || Path::new(&format!("{dir}/socket")).exists()));
    let _allowed = Running(
        host_command(
            who,
            "dbus-test-tool",
            &["echo", "--name=org.sandbox.Allowed"],
            &env,
        )
        .spawn()
        .unwrap(),
    );
    let _denied = Running(
        host_command(
            who,
            "dbus-test-tool",
            &["echo", "--name=org.sandbox.Denied"],
            &env,
        )
        .spawn()
        .unwrap(),
    );
    let owned = |name: &str| {
        host_command(
            who,
            "dbus-send",
            &[
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ],
            &env,
        )
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
        .unwrap_or(false)
    };
    assert!(wait_for(10, || owned("org.sandbox.Allowed")
        && owned("org.sandbox.Denied")));
    let profile = s.write(
        "p.toml",
        "extends = [\"base\", \"home-private\", \"dbus\"]\n[dbus]\ntalk = [\"org.sandbox.Allowed\"]\n",
    );
    let Some(mut c) = sandbox_env(who, &env) else {
        return;
    };
    let out = c
        .args(["run", &profile, "--", "/bin/sh", "-c"])
        .arg(
            "call() { dbus-send --session --print-reply --dest=$1 / org.sandbox.Test.Echo >/dev/null 2>&1 && echo \"$1 answered\" || echo \"$1 refused\"; }
             call org.sandbox.Allowed; call org.sandbox.Denied
             dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames | grep -o 'org.sandbox.[A-Za-z]*' | sort",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        ok(out),
        "org.sandbox.Allowed answered\norg.sandbox.Denied refused\norg.sandbox.Allowed\n",
        "the denied name is neither callable nor visible"
    );
});

// ---------------------------------------------------------------- sound

both!(a_pulseaudio_client_reaches_the_server_outside, |who| {
    if !need(&["pulseaudio", "pactl"]) {
        return;
    }
    // The servers outside run as the caller: skip (or fail under
    // SANDBOX_MUST_WORK) where that caller cannot be had, as sandbox() does.
    if sandbox(who).is_none() {
        return;
    }
    let s = Scratch::new("pulse");
    let runtime = s.dir("runtime", 0o700);
    let home = s.dir("home", 0o700);
    s.chown_to_caller(who, "runtime");
    s.chown_to_caller(who, "home");
    let env = [
        ("XDG_RUNTIME_DIR", runtime.as_str()),
        ("HOME", home.as_str()),
    ];
    let socket = format!("{runtime}/pulse/native");
    let _server = Running(
        host_command(
            who,
            "pulseaudio",
            &[
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--disable-shm",
                "--load=module-null-sink sink_name=sandbox_null",
                &format!("--load=module-native-protocol-unix socket={socket} auth-anonymous=1"),
            ],
            &env,
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    assert!(
        wait_for(15, || Path::new(&socket).exists()),
        "pulseaudio did not start"
    );
    let profile = s.write(
        "p.toml",
        "extends = [\"base\", \"home-private\", \"pulseaudio\"]\n",
    );
    let Some(mut c) = sandbox_env(who, &[("XDG_RUNTIME_DIR", runtime.as_str())]) else {
        return;
    };
    let out = c
        .args(["run", &profile, "--", "pactl", "list", "short", "sinks"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        ok(out).contains("sandbox_null"),
        "the null sink outside is listed inside"
    );
});

// ---------------------------------------------------------------- the library

/// `sandbox check` on every shipped profile and fragment, against this
/// machine (the services' packages installed, as .ci/run does): valid,
/// and not one warning; an app not installed here is said, with its
/// package, and nothing else.
#[test]
fn every_shipped_profile_checks_clean_on_this_machine() {
    if !need(&["nginx", "redis-server"]) {
        return;
    }
    if !Path::new("/etc/postgresql").is_dir() {
        cannot("postgresql is not installed (see .ci/run)");
        return;
    }
    let mut failures = vec![];
    for (name, _) in sandbox::profile::resolve::BUILTIN {
        let out = Command::new(binary())
            .args(["check", name])
            .output()
            .unwrap();
        // An app this machine lacks is said (and only that), with the
        // package to install.
        let err = stderr(&out);
        let not_installed = !out.status.success()
            && err
                .lines()
                .filter(|l| l.contains(": error: ") || l.contains(": warning: "))
                .all(|l| l.contains(": error: ") && l.contains("' is not installed: "))
            && err.lines().filter(|l| l.contains(": error: ")).count() == 1
            && err.contains("= hint: install the package '");
        if not_installed {
            continue;
        }
        if !out.status.success() || !out.stderr.is_empty() || !out.stdout.is_empty() {
            failures.push(format!(
                "{name}: {:?}\n{}{}",
                out.status,
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn http_server_serves_the_current_folder_read_only() {
    if !need(&[PYTHON, "curl"]) {
        return;
    }
    let s = Scratch::new("site");
    let site = s.dir("site", 0o755);
    s.write("site/index.html", "hello from a sandboxed site\n");
    let Some(mut c) = sandbox(Who::User) else {
        return;
    };
    let server = Running(
        c.args(["run", "http-server"])
            .current_dir(&site)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut body = String::new();
    let served = wait_for(15, || {
        let o = Command::new("curl")
            .args(["-s", "-m", "2", "http://127.0.0.1:8000/index.html"])
            .output()
            .unwrap();
        body = String::from_utf8_lossy(&o.stdout).into_owned();
        !body.is_empty()
    });
    drop(server);
    assert!(served);
    assert_eq!(body, "hello from a sandboxed site\n");
    // The server cannot change what it serves.
    let Some(mut c) = sandbox(Who::User) else {
        return;
    };
    let out = c
        .args([
            "run",
            "http-server",
            "--command",
            "--",
            "/bin/sh",
            "-c",
            "touch index.html || echo read-only",
        ])
        .current_dir(&site)
        .output()
        .unwrap();
    assert!(ok(out).contains("read-only"));
}
