//! One shape for whatever fails in the executor, as youki's and hakoniwa's
//! errors echo the call: the errno, the call that returned it with its
//! arguments, and any text that says more. A mechanism returns
//! `Result<T, Failure>`; the step that ran it adds its index
//! ([`super::report::StepError`]).
//!
//! The errno is the one the OS gave wherever the cause had one, so that the
//! hint table (report.rs) can match it; a cause without one (a library's own
//! check, a helper that only printed why) gets the errno that honestly
//! names it, and its text goes into `detail`.

use std::io;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub errno: i32,
    /// The call and its arguments, e.g. `mount_setattr /home` or
    /// `write /sys/fs/cgroup/x/cgroup.subtree_control "+memory"`.
    pub call: String,
    /// What else is known (a helper's message, a library's text); often empty.
    pub detail: String,
}

impl Failure {
    pub fn new(errno: i32, call: impl Into<String>) -> Failure {
        Failure {
            errno,
            call: call.into(),
            detail: String::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Failure {
        self.detail = detail.into();
        self
    }

    /// A library's error: the OS error it wraps (found through its
    /// sources), else `otherwise`; its own text is the detail.
    pub fn library(
        e: &(dyn std::error::Error + 'static),
        otherwise: i32,
        call: impl Into<String>,
    ) -> Failure {
        Failure::new(os_errno(e).unwrap_or(otherwise), call).with_detail(e.to_string())
    }
}

/// `CALL: errno text (detail)`, for messages outside the step reports.
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}: {}", self.call, errno_text(self.errno))?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// The errno's text, as strerror(3) gives it.
pub fn errno_text(errno: i32) -> String {
    let s = io::Error::from_raw_os_error(errno).to_string();
    // "No such file or directory (os error 2)" -> without the suffix.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The OS code of the first `io::Error` in `e`'s chain of sources.
fn os_errno(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut at = Some(e);
    while let Some(e) = at {
        if let Some(code) = e
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
        {
            return Some(code);
        }
        at = e.source();
    }
    None
}

/// An error a call returns, as a [`Failure`] of that call.
pub trait Cause {
    fn failure(self, call: String) -> Failure;
}

impl Cause for io::Error {
    fn failure(self, call: String) -> Failure {
        match self.raw_os_error() {
            Some(code) => Failure::new(code, call),
            // Made by std itself (a NUL in a path, a short write): its kind
            // names the errno, its message is kept.
            None => Failure::new(kind_errno(self.kind()), call).with_detail(self.to_string()),
        }
    }
}

impl Cause for nix::Error {
    fn failure(self, call: String) -> Failure {
        Failure::new(self as i32, call)
    }
}

impl Cause for std::ffi::NulError {
    fn failure(self, call: String) -> Failure {
        Failure::new(libc::EINVAL, call).with_detail("a NUL byte in the text")
    }
}

fn kind_errno(kind: io::ErrorKind) -> i32 {
    use io::ErrorKind::*;
    match kind {
        NotFound => libc::ENOENT,
        PermissionDenied => libc::EACCES,
        AlreadyExists => libc::EEXIST,
        InvalidInput | InvalidData => libc::EINVAL,
        Unsupported => libc::ENOTSUP,
        TimedOut => libc::ETIMEDOUT,
        Interrupted => libc::EINTR,
        OutOfMemory => libc::ENOMEM,
        // WriteZero, UnexpectedEof and the rest: a transfer that fell short.
        _ => libc::EIO,
    }
}

/// `r.call("pivot_root")?`: the error as a failure of that call.
pub trait Call<T> {
    fn call(self, call: impl Into<String>) -> Result<T, Failure>;
    /// The same, the call's text made only on failure.
    fn call_with(self, call: impl FnOnce() -> String) -> Result<T, Failure>;
}

impl<T, E: Cause> Call<T> for Result<T, E> {
    fn call(self, call: impl Into<String>) -> Result<T, Failure> {
        self.map_err(|e| e.failure(call.into()))
    }

    fn call_with(self, call: impl FnOnce() -> String) -> Result<T, Failure> {
        self.map_err(|e| e.failure(call()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_keeps_its_errno() {
        let f = Err::<(), _>(io::Error::from_raw_os_error(libc::EACCES))
            .call("open /x")
            .unwrap_err();
        assert_eq!(f, Failure::new(libc::EACCES, "open /x"));
    }

    #[test]
    fn an_error_without_an_os_code_keeps_its_text() {
        let f = Err::<(), _>(io::Error::new(io::ErrorKind::InvalidInput, "a NUL"))
            .call("open")
            .unwrap_err();
        assert_eq!((f.errno, f.detail.as_str()), (libc::EINVAL, "a NUL"));
    }

    #[test]
    fn a_library_error_is_searched_for_the_os_error_it_wraps() {
        #[derive(Debug)]
        struct Wrapper(io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "the library failed: {}", self.0)
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Wrapper(io::Error::from_raw_os_error(libc::E2BIG));
        assert_eq!(Failure::library(&e, libc::EINVAL, "x").errno, libc::E2BIG);
        let plain = io::Error::other("no code");
        assert_eq!(
            Failure::library(&plain, libc::ENOTSUP, "x").errno,
            libc::ENOTSUP
        );
    }
}
