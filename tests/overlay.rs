//! Overlay mounts, as root and as an unprivileged user (userxattr).

mod common;
use common::*;

/// Two lower layers owned by the caller: `top` (a, shared) over `bottom`
/// (b, shared), in a folder whose name needs escaping in mount options.
fn layers(s: &Scratch, who: Who) -> (String, String) {
    let top = s.dir("lay,ers:x\\y/top", 0o755);
    let bottom = s.dir("lay,ers:x\\y/bottom", 0o755);
    s.write("lay,ers:x\\y/top/a", "top-a\n");
    s.write("lay,ers:x\\y/top/shared", "from-top\n");
    s.write("lay,ers:x\\y/bottom/b", "bottom-b\n");
    s.write("lay,ers:x\\y/bottom/shared", "from-bottom\n");
    s.chown_to(who, "lay,ers:x\\y");
    (top, bottom)
}

fn overlay_profile(dst: &str, lower: &[&str], extra: &str) -> String {
    let lower: Vec<String> = lower.iter().map(|l| format!("{l:?}")).collect();
    format!(
        "extends = [\"default\"]\n[[mount]]\ntype = \"overlay\"\ndst = \"{dst}\"\nlower = [{}]\n{extra}",
        lower.join(", ")
    )
}

fn snapshot(dir: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

both!(
    layers_stack_top_first_and_changes_vanish_without_an_upper,
    |who| {
        let s = Scratch::new("ovl-tmp");
        let (top, bottom) = layers(&s, who);
        let before = (snapshot(&top), snapshot(&bottom));
        let profile = s.write("p.toml", &overlay_profile("/data", &[&top, &bottom], ""));
        let script = "cat /data/a /data/b /data/shared; echo new > /data/new; echo changed > /data/a; rm /data/b; ls /data | tr '\\n' ' '";
        let Some(out) = run_sh(who, &profile, script) else {
            return;
        };
        assert_eq!(ok(out), "top-a\nbottom-b\nfrom-top\na new shared ");
        // A second run starts from the lowers again: the tmpfs upper is gone.
        let again = ok(run_sh(who, &profile, "ls /data | tr '\\n' ' '; cat /data/a").unwrap());
        assert_eq!(again, "a b shared top-a\n");
        assert_eq!(
            (snapshot(&top), snapshot(&bottom)),
            before,
            "a lower layer changed"
        );
    }
);

both!(an_upper_directory_keeps_changes_and_whiteouts, |who| {
    let s = Scratch::new("ovl-up");
    let (top, bottom) = layers(&s, who);
    let before = (snapshot(&top), snapshot(&bottom));
    let state = s.dir("state", 0o755);
    s.chown_to(who, "state");
    let upper = format!("{state}/upper");
    let profile = s.write(
        "p.toml",
        &overlay_profile("/data", &[&top, &bottom], &format!("upper = {upper:?}\n")),
    );
    let Some(out) = run_sh(
        who,
        &profile,
        "echo changed > /data/a; echo new > /data/new; rm /data/b",
    ) else {
        return;
    };
    ok(out);
    // Changes are in the upper, and the next run sees them; the deleted
    // lower file stays hidden by its whiteout.
    assert_eq!(
        std::fs::read_to_string(format!("{upper}/a")).unwrap(),
        "changed\n"
    );
    assert_eq!(
        std::fs::read_to_string(format!("{upper}/new")).unwrap(),
        "new\n"
    );
    assert!(
        std::path::Path::new(&format!("{state}/.upper.work")).is_dir(),
        "work directory beside the upper"
    );
    let again = ok(run_sh(who, &profile, "ls /data | tr '\\n' ' '; cat /data/a").unwrap());
    assert_eq!(again, "a new shared changed\n");
    assert_eq!(
        (snapshot(&top), snapshot(&bottom)),
        before,
        "a lower layer changed"
    );
});

both!(an_upper_whose_name_needs_escaping_keeps_changes, |who| {
    // The layers reach overlayfs as descriptors (/proc/self/fd/N), one
    // option each: a `\`, `,` or `:` in a name is no separator.
    let s = Scratch::new("ovl-up-esc");
    let (top, bottom) = layers(&s, who);
    let state = s.dir("st\\a,t:e", 0o755);
    s.chown_to(who, "st\\a,t:e");
    let upper = format!("{state}/up\\per");
    let profile = s.write(
        "p.toml",
        &overlay_profile("/data", &[&top, &bottom], &format!("upper = {upper:?}\n")),
    );
    let Some(out) = run_sh(who, &profile, "echo changed > /data/a; cat /data/b") else {
        return;
    };
    assert_eq!(ok(out), "bottom-b\n");
    assert_eq!(
        std::fs::read_to_string(format!("{upper}/a")).unwrap(),
        "changed\n"
    );
    assert!(std::path::Path::new(&format!("{state}/.up\\per.work")).is_dir());
});

both!(a_read_only_overlay_of_one_layer_fails_at_its_line, |who| {
    let s = Scratch::new("ovl-ro-one");
    let (top, _) = layers(&s, who);
    let profile = s.write(
        "p.toml",
        &overlay_profile("/data", &[&top], "readonly = true\n"),
    );
    let Some(out) = run_sh(who, &profile, "true") else {
        return;
    };
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains(&format!(
            "{profile}:6:12: error: a read-only overlay needs at least two lower layers"
        )),
        "{}",
        stderr(&out)
    );
});

both!(a_read_only_overlay_refuses_writes, |who| {
    let s = Scratch::new("ovl-ro");
    let (top, bottom) = layers(&s, who);
    let profile = s.write(
        "p.toml",
        &overlay_profile("/data", &[&top, &bottom], "readonly = true\n"),
    );
    let Some(out) = run_sh(
        who,
        &profile,
        "cat /data/shared; touch /data/x 2>&1; rm /data/a 2>&1; true",
    ) else {
        return;
    };
    let text = ok(out);
    assert!(text.starts_with("from-top\n"), "{text}");
    assert!(
        text.contains("cannot touch '/data/x': Read-only file system"),
        "{text}"
    );
    assert!(
        text.contains("cannot remove '/data/a': Read-only file system"),
        "{text}"
    );
});

both!(a_missing_lower_fails_at_its_line, |who| {
    let s = Scratch::new("ovl-missing");
    let profile = s.write("p.toml", &overlay_profile("/data", &["/no/such/lower"], ""));
    let Some(out) = run_sh(who, &profile, "true") else {
        return;
    };
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains(&format!(
            "{profile}:5:10: error: overlay lower '/no/such/lower' is not a directory"
        )),
        "{}",
        stderr(&out)
    );
});

both!(an_upper_that_cannot_be_hosted_fails_at_its_line, |who| {
    let s = Scratch::new("ovl-badupper");
    let (top, _) = layers(&s, who);
    let profile = s.write(
        "p.toml",
        &overlay_profile("/data", &[&top], "upper = \"/proc/sandbox-upper\"\n"),
    );
    let mounts = host_mounts();
    let Some(out) = run_sh(who, &profile, "true") else {
        return;
    };
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{profile}:3:8: error: step"))
            && err.contains("make the host folders the mounts need"),
        "{err}"
    );
    assert!(err.contains("(create /proc/sandbox-upper)"), "{err}");
    assert_eq!(host_mounts(), mounts);
});
