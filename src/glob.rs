//! Name globs (`*` and `?`), as `[env] keep` writes them: the plan reads
//! them to know what passes, the executor to pass it (a leaf module).

/// `true` when `name` matches the glob `pattern` (`*` and `?` only).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("LC_*", "LC_ALL"));
        assert!(glob_match("TERM", "TERM"));
        assert!(!glob_match("TERM", "TERMINAL"));
        assert!(glob_match("X?G", "XDG"));
        assert!(!glob_match("LC_*", "LANG"));
    }
}
