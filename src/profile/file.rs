//! Reading one profile file from the file system: a file, a device or a
//! pipe (`sandbox run /dev/stdin`) alike, never more than [`MAX_BYTES`], so
//! that a path such as `/dev/zero` is an error rather than all of memory.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The most a profile file may hold: far more than any profile needs (the
/// largest shipped one is a few kB), little enough to read at once.
pub const MAX_BYTES: u64 = 1 << 20;

/// Why a file could not be used, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    fn new(message: String, hint: Option<&str>) -> Problem {
        Problem {
            message,
            hint: hint.map(str::to_string),
        }
    }
}

/// The text of the profile at `path`.
pub fn read(path: &Path) -> Result<String, Problem> {
    let shown = path.display();
    let cannot =
        |e: std::io::Error| Problem::new(format!("cannot read profile {shown}: {e}"), None);
    // O_NOCTTY: naming a terminal must not make it ours.
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    let mut bytes = vec![];
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Problem::new(
            format!(
                "profile {shown} holds more than {} MiB, the most a profile may hold",
                MAX_BYTES >> 20
            ),
            Some("a profile is a short TOML text: is this the right file?"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let start = bytes[..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + bytes[..start].iter().filter(|b| **b == b'\n').count();
        // Columns count characters, as in every other diagnostic.
        let col = 1 + String::from_utf8_lossy(&bytes[start..at]).chars().count();
        Problem::new(
            format!("profile {shown} is not UTF-8 text (line {line}, column {col})"),
            Some("a profile is TOML, which is UTF-8: save it as UTF-8"),
        )
    })
}
