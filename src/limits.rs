//! The rlimits a profile may set (`[limits]`), and their values: the
//! vocabulary the profile, the plan and the executor share (a leaf module).

/// A resource of setrlimit(2), by its `[limits]` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    Nofile,
    Nproc,
    Core,
    Cpu,
    Fsize,
    Stack,
    As,
    Memlock,
}

impl Resource {
    /// In documentation order.
    pub const ALL: [Resource; 8] = [
        Resource::Nofile,
        Resource::Nproc,
        Resource::Core,
        Resource::Cpu,
        Resource::Fsize,
        Resource::Stack,
        Resource::As,
        Resource::Memlock,
    ];

    /// The `[limits]` key, as the plan prints it too.
    pub fn key(self) -> &'static str {
        match self {
            Resource::Nofile => "nofile",
            Resource::Nproc => "nproc",
            Resource::Core => "core",
            Resource::Cpu => "cpu",
            Resource::Fsize => "fsize",
            Resource::Stack => "stack",
            Resource::As => "as",
            Resource::Memlock => "memlock",
        }
    }

    /// Whether the value is a size in bytes, which a profile may write as
    /// "64M", rather than a count or seconds.
    pub fn is_size(self) -> bool {
        match self {
            Resource::Core
            | Resource::Fsize
            | Resource::Stack
            | Resource::As
            | Resource::Memlock => true,
            Resource::Nofile | Resource::Nproc | Resource::Cpu => false,
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// An rlimit value: a number (both soft and hard) or unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitValue {
    Value(u64),
    Unlimited,
}
