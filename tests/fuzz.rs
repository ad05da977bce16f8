//! The loader, validator and plan compiler never panic, whatever the input:
//! random bytes, and valid profiles mutated byte by byte. Bounded so that
//! it runs in CI in a few seconds (PROPTEST_CASES raises it).

use proptest::prelude::*;
use sandbox::host::FakeHost;
use sandbox::plan::{Invocation, compile};
use sandbox::profile::{SearchPath, Vars, load_text, validate};

fn exercise(text: &str) {
    let mut l = load_text("fuzz.toml", None, text, &SearchPath::builtin_only());
    validate(&mut l, &Vars::example_user(), &FakeHost::debian_user());
    for d in &l.diags {
        let _ = d.render(&l.sources);
    }
    if !l.has_errors()
        && let Ok(p) = compile(
            &l,
            &FakeHost::debian_user(),
            &Invocation {
                command: vec!["x".into()],
                ..Invocation::default()
            },
        )
    {
        assert_eq!(sandbox::plan::check_order(&p), Ok(()));
        let _ = sandbox::plan::render_text(&p);
    }
}

/// Seeds: every shipped profile, every example, every malformed case.
fn seeds() -> Vec<String> {
    let mut v: Vec<String> = sandbox::profile::resolve::BUILTIN
        .iter()
        .map(|(_, t)| t.to_string())
        .collect();
    for dir in ["examples", "tests/malformed", "tests/warnings"] {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for e in std::fs::read_dir(root).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "toml") {
                v.push(std::fs::read_to_string(e.path()).unwrap());
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_profiles_never_panic(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let seeds = seeds();
        let mut bytes = seeds[seed.index(seeds.len())].clone().into_bytes();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn structured_values_never_panic(
        key in "(type|src|dst|size|mode|lower|upper|content|optional)",
        value in "(\"[ -~]{0,12}\"|[0-9]{1,25}|true|\\[\"[/a-z]{0,6}\"\\]|-?[0-9.e]{1,8})",
        kind in "(bind|ro-bind|tmpfs|proc|dev|overlay|symlink|file|dir|remount-ro|mqueue|x)",
    ) {
        exercise(&format!("[[mount]]\ntype = \"{kind}\"\ndst = \"/x\"\n{key} = {value}\n"));
    }
}
