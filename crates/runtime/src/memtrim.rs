//! Giving back memory a long-lived process can take again for free: its mappings of
//! unmodified file pages (code and read-only data of pier and its libraries, which the page
//! cache keeps; a page that is needed again faults back in without I/O) and the allocator's
//! free memory. The shim does it once it settles into supervising; the daemon when it has
//! been idle for a while.

/// A mapping from /proc/self/smaps that only holds clean pages of a file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Mapping {
    pub start: usize,
    pub end: usize,
}

/// Drops this process's clean file pages and trims the allocator. Safe from any thread at
/// any time: nothing it drops holds data that is not in the file.
pub fn release_clean_file_pages() {
    if let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") {
        for m in clean_file_mappings(&smaps) {
            // SAFETY: the range is a private, read-only file mapping without anonymous (copied
            // or written) pages: dropping its page table entries loses nothing, since every
            // page reads back from the file as it was.
            unsafe {
                libc::madvise(
                    m.start as *mut libc::c_void,
                    m.end - m.start,
                    libc::MADV_DONTNEED,
                )
            };
        }
    }
    // SAFETY: malloc_trim only returns free memory of the allocator to the kernel.
    unsafe { libc::malloc_trim(0) };
}

/// Read-only private mappings of files none of whose pages were copied on write (so no
/// relocated data: those have `Anonymous` pages).
fn clean_file_mappings(smaps: &str) -> Vec<Mapping> {
    let mut found = Vec::new();
    let mut candidate: Option<Mapping> = None;
    for line in smaps.lines() {
        if let Some(header) = parse_header(line) {
            candidate = header;
            continue;
        }
        if let Some(value) = line.strip_prefix("Anonymous:") {
            let anonymous = value.trim().trim_end_matches("kB").trim() != "0";
            if let Some(m) = candidate.take()
                && !anonymous
            {
                found.push(m);
            }
        }
    }
    found
}

/// `Some(Some(mapping))` for the header of a candidate mapping, `Some(None)` for the header
/// of any other, `None` for a field line.
fn parse_header(line: &str) -> Option<Option<Mapping>> {
    let mut parts = line.split_whitespace();
    let range = parts.next()?;
    let (start, end) = range.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    let perms = parts.next()?.as_bytes();
    let _offset = parts.next()?;
    let _device = parts.next()?;
    let inode = parts.next()?;
    let path = parts.next().unwrap_or("");
    let clean_file = perms.len() == 4
        && perms[1] == b'-'
        && perms[3] == b'p'
        && inode != "0"
        && path.starts_with('/');
    Some(clean_file.then_some(Mapping { start, end }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_file_mappings_without_copies_are_dropped() {
        let smaps = "\
55d0a0000000-55d0a0100000 r--p 00000000 fd:01 123 /usr/bin/pier
Rss:                 100 kB
Anonymous:             0 kB
55d0a0100000-55d0a0500000 r-xp 00100000 fd:01 123 /usr/bin/pier
Anonymous:             0 kB
55d0a0500000-55d0a0600000 r--p 00500000 fd:01 123 /usr/bin/pier
Anonymous:           364 kB
55d0a0600000-55d0a0610000 rw-p 00600000 fd:01 123 /usr/bin/pier
Anonymous:             0 kB
55d0a1000000-55d0a1100000 rw-p 00000000 00:00 0 [heap]
Anonymous:           148 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
";
        assert_eq!(
            clean_file_mappings(smaps),
            vec![
                Mapping {
                    start: 0x55d0a0000000,
                    end: 0x55d0a0100000
                },
                Mapping {
                    start: 0x55d0a0100000,
                    end: 0x55d0a0500000
                },
            ]
        );
    }
}
