//! The module structure (docs/architecture.md): profile -> plan -> exec,
//! with the vocabulary they share in leaf modules. One crate cannot have
//! the compiler check who imports whom, so this reads the sources.

use std::path::Path;

/// The `crate::NAME` modules a source file refers to, outside comments.
fn crate_refs(text: &str) -> Vec<String> {
    let mut refs = vec![];
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !refs.contains(&name) {
                refs.push(name);
            }
        }
    }
    refs
}

/// Every .rs file of a module (a file or a folder), with its text.
fn sources(module: &str) -> Vec<(String, String)> {
    let file = Path::new("src").join(format!("{module}.rs"));
    let dir = Path::new("src").join(module);
    let mut files = vec![];
    if file.exists() {
        files.push(file);
    }
    if dir.is_dir() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    assert!(!files.is_empty(), "no module {module}");
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect()
}

/// `module` refers to no module but `allowed` (and itself).
fn only_imports(module: &str, allowed: &[&str]) {
    for (file, text) in sources(module) {
        for r in crate_refs(&text) {
            assert!(
                r == module || allowed.contains(&r.as_str()),
                "{file} uses crate::{r}: {module} may use only {allowed:?}"
            );
        }
    }
}

const LEAVES: [&str; 9] = [
    "capabilities",
    "diag",
    "exit",
    "glob",
    "limits",
    "namespaces",
    "paths",
    "syscalls",
    "userdb",
];

#[test]
fn shared_vocabulary_is_in_leaf_modules() {
    for leaf in LEAVES {
        only_imports(leaf, &[]);
    }
}

#[test]
fn the_profile_knows_nothing_of_the_plan_or_the_executor() {
    let mut allowed = LEAVES.to_vec();
    allowed.push("host");
    only_imports("profile", &allowed);
}

#[test]
fn the_executor_takes_its_types_from_the_plan_not_the_profile() {
    let mut allowed = LEAVES.to_vec();
    // host: the hint for a refused host path (report.rs).
    allowed.extend(["plan", "host"]);
    only_imports("exec", &allowed);
}

#[test]
fn the_executor_reads_no_environment_but_the_callers_it_is_given() {
    for (file, text) in sources("exec") {
        for read in ["env::var", "env::vars", "env!(", "getenv"] {
            assert!(
                !text.contains(read),
                "{file} reads the environment ({read})"
            );
        }
    }
}
