//! Reading one profile file from the file system: a file, a device or a
//! pipe (`sandbox run /dev/stdin`) alike, never more than [`MAX_BYTES`], so
//! that a path such as `/dev/zero` is an error rather than all of memory.
//!
//! As root, only a profile that no one but root can change is read: a
//! profile decides what root runs and with which privileges, and `sudo -E`
//! or `su` without `-` keep a user's HOME and XDG_CONFIG_HOME, so the search
//! path leads into the user's files. The rules (docs/security-model.md,
//! "Profiles root loads"): the file is root's, a regular file or a pipe,
//! that neither its group nor others can write; every folder on the way to
//! it, as named and where it really is, is root's and writable by no one
//! else, or sticky (like /tmp), and then what lies on the way in it is
//! root's (only an entry's owner may rename or remove it there).

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
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

/// The text of the profile at `path`; with `root_only`, only if root alone
/// can change it (see the module's comment).
pub fn read(path: &Path, root_only: bool) -> Result<String, Problem> {
    let shown = path.display();
    let cannot =
        |e: std::io::Error| Problem::new(format!("cannot read profile {shown}: {e}"), None);
    // Checked before the open too, which may have effects of its own (a
    // device's): the file (its own problem is the one to tell, when it has
    // one), then the folders as named.
    if root_only {
        if let Ok(meta) = std::fs::metadata(path) {
            check_file(path, &meta)?;
        }
        check_folders(path, &std::path::absolute(path).map_err(cannot)?)?;
    }
    // O_NOCTTY: naming a terminal must not make it ours.
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    if root_only {
        opened(path, &file)?;
    }
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

/// Root refuses `path` because of `what`; `fix` says how to make it root's.
fn refuse(path: &Path, what: String, fix: String) -> Problem {
    Problem {
        message: format!("root does not load profile {}: {what}", path.display()),
        hint: Some(fix),
    }
}

/// The rest of the hint when another user's file is on the way: how root
/// came to look there.
const OWN_PROFILES: &str = "; with 'sudo -E' or 'su' without '-', HOME and XDG_CONFIG_HOME \
                            are still the user's: for root's own profiles use 'sudo -i' or 'su -'";

/// `uid 1000 (ada)`.
fn who(uid: u32) -> String {
    match crate::userdb::name(uid) {
        Some(name) => format!("uid {uid} ({name})"),
        None => format!("uid {uid}"),
    }
}

/// Whether its group or others may write to it.
fn shared(meta: &Metadata) -> bool {
    meta.mode() & 0o022 != 0
}

/// The checks on the opened file (fstat: what was opened, whatever the
/// path led to, a pipe included), then on the folders where it really is.
fn opened(path: &Path, file: &File) -> Result<(), Problem> {
    let shown = path.display();
    let meta = file
        .metadata()
        .map_err(|e| Problem::new(format!("cannot read profile {shown}: {e}"), None))?;
    check_file(path, &meta)?;
    // Every symlink resolved, as the kernel opened it; an unnamed pipe is
    // nowhere.
    match std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
        Ok(real) if real.is_absolute() => check_folders(path, &real),
        Ok(_) => Ok(()),
        Err(e) => Err(Problem::new(
            format!("cannot tell which folder profile {shown} is in (/proc/self/fd: {e})"),
            Some("root loads a profile only once it knows no one else can change it: mount /proc"),
        )),
    }
}

/// Whether the file `meta` describes is one root may load: root's, a
/// regular file or a pipe, that no one else can write.
fn check_file(path: &Path, meta: &Metadata) -> Result<(), Problem> {
    let shown = path.display();
    let kind = meta.file_type();
    let pipe = kind.is_fifo();
    if !kind.is_file() && !pipe {
        let what = if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else {
            "neither a regular file nor a pipe"
        };
        return Err(refuse(
            path,
            format!("it is {what}"),
            "copy the profile into a file of root's".into(),
        ));
    }
    if meta.uid() != 0 {
        let what = format!(
            "it belongs to {}, who could change what root runs",
            who(meta.uid())
        );
        let fix = if pipe {
            "feed the profile from a process of root's".to_string()
        } else {
            format!(
                "if root should run it: chown root:root {shown}; chmod go-w {shown}{OWN_PROFILES}"
            )
        };
        return Err(refuse(path, what, fix));
    }
    if shared(meta) {
        let what = format!(
            "its group or others can write it (mode {:04o})",
            meta.mode() & 0o7777
        );
        return Err(refuse(path, what, format!("chmod go-w {shown}")));
    }
    Ok(())
}

/// The checks on every folder on the way to `at` (absolute), up to `/`.
fn check_folders(path: &Path, at: &Path) -> Result<(), Problem> {
    for (entry, folder) in at.ancestors().zip(at.ancestors().skip(1)) {
        let shown = folder.display();
        let stat = |p: &Path, follow: bool| {
            if follow {
                std::fs::metadata(p)
            } else {
                std::fs::symlink_metadata(p)
            }
            .map_err(|e| {
                Problem::new(
                    format!(
                        "cannot check folder {shown} of profile {}: {e}",
                        path.display()
                    ),
                    None,
                )
            })
        };
        let meta = stat(folder, true)?;
        let fix = format!(
            "chown root:root {shown}; chmod go-w {shown}, or keep the profile in /etc/sandbox/profiles"
        );
        if meta.uid() != 0 {
            let what = format!(
                "the folder {shown} belongs to {}, who could put another file in its place",
                who(meta.uid())
            );
            return Err(refuse(path, what, fix + OWN_PROFILES));
        }
        if !shared(&meta) {
            continue;
        }
        if meta.mode() & libc::S_ISVTX == 0 {
            let what = format!(
                "its group or others can write the folder {shown} (mode {:04o}), and so put another file in its place",
                meta.mode() & 0o7777
            );
            return Err(refuse(path, what, fix));
        }
        // Sticky: what is on the way in it is safe if it is root's.
        let owner = stat(entry, false)?.uid();
        if owner != 0 {
            let what = format!(
                "{} in the sticky folder {shown} belongs to {}, who could replace it",
                entry.display(),
                who(owner)
            );
            let fix = format!(
                "keep the profile in a folder only root can write, such as /etc/sandbox/profiles{OWN_PROFILES}"
            );
            return Err(refuse(path, what, fix));
        }
    }
    Ok(())
}
