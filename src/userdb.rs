//! Users' names, as /etc/passwd has them.
//!
//! The binary is linked statically (.cargo/config.toml), and a static
//! glibc's name service loads the shared modules /etc/nsswitch.conf names
//! (`systemd`, `sss`, `ldap`) into a process that has no shared libc: a
//! lookup of a user those modules know, or of one no database knows,
//! crashes it. So sandbox asks /etc/passwd only. A user only another
//! database knows (LDAP, a systemd DynamicUser) is shown by number, and
//! `${USER}` comes from `$USER` (src/profile/vars.rs).

/// The name of `uid` in /etc/passwd, if it has one.
pub fn name(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    name_in(&text, uid)
}

/// The name of `uid` in `passwd`, a text in /etc/passwd's format; the
/// first line that has it wins, as for glibc's `files`.
fn name_in(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let (name, _password, id) = (f.next()?, f.next()?, f.next()?);
        (id.parse::<u32>().ok()? == uid && !name.is_empty() && !name.starts_with(['+', '-']))
            .then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_by_uid() {
        let t = "root:x:0:0:root:/root:/bin/bash\n\
                 # a comment\n\
                 +nis\n\
                 ada:x:1000:1000::/home/ada:/bin/sh\n\
                 twin:x:1000:1000::/home/t:/bin/sh\n\
                 broken\n";
        assert_eq!(name_in(t, 0).as_deref(), Some("root"));
        assert_eq!(name_in(t, 1000).as_deref(), Some("ada"));
        assert_eq!(name_in(t, 4242), None);
        assert_eq!(name_in("", 0), None);
    }

    #[test]
    fn this_machine_knows_root() {
        assert_eq!(name(0).as_deref(), Some("root"));
    }
}
