//! Giving back the memory a supervisor no longer needs. The launcher and
//! the sandbox's PID 1 live as long as the app, but once set up they only
//! wait for signals and children: the code and constant data that parsing,
//! planning and setup touched stay resident (and count in every process's
//! RSS and PSS) for nothing. Dropping those pages is safe for read-only
//! file mappings: they are read back from the file if ever touched again.
//! MADV_RANDOM first (no read-ahead when a page is read back). A later
//! touch still maps the 64 kB around it (the kernel's fault-around, for
//! pages still in the page cache): what stays resident is the handful of
//! 64 kB windows the waiting loops run in, so the trim runs everything it
//! needs before the drop.

use std::io;
use std::time::Duration;

/// How long the app runs before the supervisors trim: a short command
/// ends first and pays nothing.
pub const AFTER: Duration = Duration::from_millis(100);

/// One mapping of /proc/self/maps: start, end, and whether it may be dropped.
fn droppable(line: &str) -> Option<(usize, usize)> {
    let mut f = line.split_whitespace();
    let range = f.next()?;
    let perms = f.next()?;
    let path = f.nth(3)?;
    // Read-only (never dirty), private, backed by a file: `r--p`, `r-xp`.
    // Never a writable mapping (its changes would be lost), nor the vdso.
    if !path.starts_with('/') || perms.as_bytes().get(1) != Some(&b'-') || !perms.ends_with('p') {
        return None;
    }
    let (a, b) = range.split_once('-')?;
    Some((
        usize::from_str_radix(a, 16).ok()?,
        usize::from_str_radix(b, 16).ok()?,
    ))
}

/// The droppable mappings of a /proc/self/smaps text: read-only file
/// mappings none of whose pages is a private copy. A relocated RELRO
/// segment is `r--p` and file-backed too, but its pages were written
/// before it was made read-only: dropping them would bring back the
/// unrelocated file contents.
fn droppable_in_smaps(smaps: &str) -> Vec<(usize, usize)> {
    let mut out = vec![];
    let mut current: Option<(usize, usize)> = None;
    let mut copied = false;
    let mut flush = |current: Option<(usize, usize)>, copied: bool| {
        if let (Some(m), false) = (current, copied) {
            out.push(m);
        }
    };
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            flush(current.take(), copied);
            current = droppable(line);
            copied = false;
        } else if let Some(kb) = line.strip_prefix("Anonymous:") {
            copied |= kb.trim().trim_end_matches("kB").trim() != "0";
        }
    }
    flush(current, copied);
    out
}

/// Drop this process's resident read-only file pages and return freed heap.
/// `smaps`: this process's /proc/PID/smaps, opened beforehand (PID 1 must
/// not open paths in the sandbox's tree, which the app may have made);
/// None: open /proc/self/smaps now (the launcher).
pub fn trim(smaps: Option<&std::fs::File>) -> io::Result<()> {
    let text = match smaps {
        Some(f) => read_from_start(f)?,
        None => std::fs::read_to_string("/proc/self/smaps")?,
    };
    let ranges = droppable_in_smaps(&text);
    // Everything but the advice itself comes first: code that runs after
    // the drop is faulted back in, with the pages around it.
    super::sys::malloc_trim();
    for (start, end) in ranges.iter() {
        // SAFETY: madvise changes no memory Rust reasons about unless the
        // advice discards writable contents; these ranges are whole
        // mappings that /proc/self/smaps lists as read-only, backed by a
        // file and with no anonymous (copied-on-write) page: droppable_in_smaps
        // keeps no others. A page dropped
        // is read back unchanged from its file on the next access, and no
        // reference into them sees a difference.
        unsafe {
            libc::madvise(*start as *mut libc::c_void, end - start, libc::MADV_RANDOM);
            libc::madvise(
                *start as *mut libc::c_void,
                end - start,
                libc::MADV_DONTNEED,
            );
        }
    }
    // `ranges` (a few words on the heap) is freed after the drop, so the
    // allocator's free path is one of the pages read back.
    drop(ranges);
    Ok(())
}

/// The whole of a /proc file through a descriptor, from its start.
fn read_from_start(f: &std::fs::File) -> io::Result<String> {
    use std::os::unix::fs::FileExt;
    let mut out = vec![];
    let mut buf = vec![0u8; 16 << 10];
    loop {
        let n = f.read_at(&mut buf, out.len() as u64)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).map_err(|_| io::Error::from_raw_os_error(libc::EILSEQ))
}

#[cfg(test)]
mod tests {
    use super::droppable;

    #[test]
    fn mappings_with_private_copies_are_kept() {
        let smaps = "1000-2000 r--p 00000000 fe:01 9 /usr/bin/x\nRss: 4 kB\nAnonymous: 0 kB\n\
                     2000-3000 r--p 00001000 fe:01 9 /usr/bin/x\nAnonymous: 4 kB\n\
                     3000-4000 r-xp 00002000 fe:01 9 /usr/bin/x\nAnonymous: 0 kB\n";
        assert_eq!(
            super::droppable_in_smaps(smaps),
            vec![(0x1000, 0x2000), (0x3000, 0x4000)]
        );
    }

    #[test]
    fn only_read_only_file_mappings_are_dropped() {
        let code = "55d0c0000000-55d0c0100000 r-xp 00001000 fe:01 123 /usr/bin/sandbox";
        assert_eq!(droppable(code), Some((0x55d0c0000000, 0x55d0c0100000)));
        assert!(
            droppable("7f00-7f10 r--p 00000000 fe:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6")
                .is_some()
        );
        assert!(
            droppable("7f00-7f10 rw-p 00000000 fe:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6")
                .is_none()
        );
        assert!(droppable("7f00-7f10 rw-p 00000000 00:00 0 [heap]").is_none());
        assert!(droppable("7f00-7f10 r-xp 00000000 00:00 0 [vdso]").is_none());
        assert!(droppable("7f00-7f10 r--s 00000000 fe:01 9 /dev/shm/x").is_none());
        assert!(droppable("7f00-7f10 rw-p 00000000 00:00 0").is_none());
    }
}
