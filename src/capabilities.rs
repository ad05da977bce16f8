//! Capability names and numbers (linux/capability.h), for `[process]
//! capabilities`, the plan that resolves them and the executor that keeps
//! them (a leaf module).

pub const CAPABILITIES: &[(&str, u8)] = &[
    ("CAP_CHOWN", 0),
    ("CAP_DAC_OVERRIDE", 1),
    ("CAP_DAC_READ_SEARCH", 2),
    ("CAP_FOWNER", 3),
    ("CAP_FSETID", 4),
    ("CAP_KILL", 5),
    ("CAP_SETGID", 6),
    ("CAP_SETUID", 7),
    ("CAP_SETPCAP", 8),
    ("CAP_LINUX_IMMUTABLE", 9),
    ("CAP_NET_BIND_SERVICE", 10),
    ("CAP_NET_BROADCAST", 11),
    ("CAP_NET_ADMIN", 12),
    ("CAP_NET_RAW", 13),
    ("CAP_IPC_LOCK", 14),
    ("CAP_IPC_OWNER", 15),
    ("CAP_SYS_MODULE", 16),
    ("CAP_SYS_RAWIO", 17),
    ("CAP_SYS_CHROOT", 18),
    ("CAP_SYS_PTRACE", 19),
    ("CAP_SYS_PACCT", 20),
    ("CAP_SYS_ADMIN", 21),
    ("CAP_SYS_BOOT", 22),
    ("CAP_SYS_NICE", 23),
    ("CAP_SYS_RESOURCE", 24),
    ("CAP_SYS_TIME", 25),
    ("CAP_SYS_TTY_CONFIG", 26),
    ("CAP_MKNOD", 27),
    ("CAP_LEASE", 28),
    ("CAP_AUDIT_WRITE", 29),
    ("CAP_AUDIT_CONTROL", 30),
    ("CAP_SETFCAP", 31),
    ("CAP_MAC_OVERRIDE", 32),
    ("CAP_MAC_ADMIN", 33),
    ("CAP_SYSLOG", 34),
    ("CAP_WAKE_ALARM", 35),
    ("CAP_BLOCK_SUSPEND", 36),
    ("CAP_AUDIT_READ", 37),
    ("CAP_PERFMON", 38),
    ("CAP_BPF", 39),
    ("CAP_CHECKPOINT_RESTORE", 40),
];

/// The number of a capability, accepting `CAP_NET_RAW`, `net_raw` or `NET_RAW`.
pub fn number(name: &str) -> Option<u8> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    CAPABILITIES
        .iter()
        .find(|(n, _)| *n == full)
        .map(|(_, v)| *v)
}

/// A capability the plan names: its number (for capset) and its name (for
/// the printed plan). Made only from the table, so the two always agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    number: u8,
    name: &'static str,
}

impl Capability {
    /// `CAP_NET_RAW`, `net_raw` or `NET_RAW`; None for a name Linux lacks.
    pub fn named(name: &str) -> Option<Capability> {
        let nr = number(name)?;
        CAPABILITIES
            .iter()
            .find(|(_, v)| *v == nr)
            .map(|&(name, number)| Capability { number, name })
    }

    pub fn number(self) -> u8 {
        self.number
    }

    /// The canonical name, `CAP_NET_RAW`.
    pub fn name(self) -> &'static str {
        self.name
    }
}

/// The ones the plan adds by itself (for namespaces the app administers).
pub const NET_ADMIN: Capability = Capability {
    number: 12,
    name: "CAP_NET_ADMIN",
};
pub const NET_BROADCAST: Capability = Capability {
    number: 11,
    name: "CAP_NET_BROADCAST",
};
pub const NET_RAW: Capability = Capability {
    number: 13,
    name: "CAP_NET_RAW",
};
pub const SYS_ADMIN: Capability = Capability {
    number: 21,
    name: "CAP_SYS_ADMIN",
};
pub const SYS_PTRACE: Capability = Capability {
    number: 19,
    name: "CAP_SYS_PTRACE",
};
pub const SYS_TIME: Capability = Capability {
    number: 25,
    name: "CAP_SYS_TIME",
};
pub const SETFCAP: Capability = Capability {
    number: 31,
    name: "CAP_SETFCAP",
};

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// As its name: the JSON plan reads as the text one does.
impl serde::Serialize for Capability {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_constants_agree_with_the_table() {
        for c in [
            NET_ADMIN,
            NET_BROADCAST,
            NET_RAW,
            SYS_ADMIN,
            SYS_TIME,
            SETFCAP,
        ] {
            assert_eq!(Capability::named(c.name()), Some(c));
        }
        assert_eq!(Capability::named("net_raw"), Some(NET_RAW));
        assert_eq!(Capability::named("CAP_NOSUCH"), None);
    }
}
