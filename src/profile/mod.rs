//! Profiles: the TOML format, loading with `extends`, variable expansion
//! and validation. Nothing here mounts, creates or changes anything.

pub mod decode;
pub mod file;
pub mod guarded;
pub mod merge;
pub mod overrides;
pub mod resolve;
pub mod syntax;
pub mod types;
pub mod units;
pub mod validate;
pub mod vars;

pub use resolve::{Loaded, Location, SearchPath, load, load_text, locate};
pub use types::*;
pub use validate::validate;
pub use vars::Vars;
