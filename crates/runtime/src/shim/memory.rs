//! Keeping the long-lived shim small: one runs per container, for as long as it runs.
//!
//! Creating a container runs a lot of code (spec parsing, seccomp, mounts) that the shim
//! never runs again, yet the pages it touched stay mapped, and counted, in the shim. Once it
//! settles into supervising, the shim drops what it can take again for free: its mappings of
//! unmodified file pages (code and read-only data of pier and its libraries, which the page
//! cache keeps; a page the loop needs faults back in without I/O), the part of its stack
//! that setup used far below where the loop runs, and the allocator's free memory.

/// Stack kept below the caller's frame: far more than the supervising loop goes deeper.
const STACK_MARGIN: usize = 16 * 1024;

/// A zeroed buffer whose pages take memory only once written: a read buffer sized for the
/// largest burst costs one page while output comes a line at a time. (A heap buffer would be
/// cleared, and so made resident, in full.)
pub(crate) struct LazyBuffer {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

impl LazyBuffer {
    pub fn new(len: usize) -> std::io::Result<LazyBuffer> {
        // SAFETY: a new private anonymous mapping; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = std::ptr::NonNull::new(ptr.cast()).ok_or_else(std::io::Error::last_os_error)?;
        Ok(LazyBuffer { ptr, len })
    }
}

impl std::ops::Deref for LazyBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes, readable (zero until written), and lives as long
        // as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for LazyBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for deref; `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for LazyBuffer {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping made in `new`, which nothing references now.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

use crate::memtrim::Mapping;

/// Call it from a shallow frame of a single-threaded process that handles no signals (the
/// shim takes them through a signalfd), since it drops stack pages below the caller's.
pub(crate) fn release_unused_memory() {
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    if let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps")
        && let Some(stack) = stack_mapping(&smaps)
    {
        let page = 4096;
        let top = sp.saturating_sub(STACK_MARGIN) & !(page - 1);
        if top > stack.start && top < stack.end {
            // SAFETY: memory below the stack pointer (less a wide margin) is not in use:
            // no frame lives there and no signal handler can run on it. Dropped pages
            // come back zeroed if the stack grows there again.
            unsafe {
                libc::madvise(
                    stack.start as *mut libc::c_void,
                    top - stack.start,
                    libc::MADV_DONTNEED,
                )
            };
        }
    }
    crate::memtrim::release_clean_file_pages();
}

/// The main thread's stack.
fn stack_mapping(smaps: &str) -> Option<Mapping> {
    smaps.lines().find_map(|line| {
        let (range, rest) = line.split_once(' ')?;
        if !rest.trim_end().ends_with("[stack]") {
            return None;
        }
        let (start, end) = range.split_once('-')?;
        Some(Mapping {
            start: usize::from_str_radix(start, 16).ok()?,
            end: usize::from_str_radix(end, 16).ok()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_buffer_is_zeroed_and_writable() {
        let mut buf = LazyBuffer::new(65536).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        buf[65535] = 7;
        assert_eq!(buf[65535], 7);
    }

    #[test]
    fn the_stack_is_found() {
        let smaps = "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\nRss: 4 kB\n";
        assert_eq!(
            stack_mapping(smaps),
            Some(Mapping {
                start: 0x7ffd00000000,
                end: 0x7ffd00021000
            })
        );
    }

    #[test]
    fn this_process_survives_dropping_its_clean_pages() {
        let rss = || {
            std::fs::read_to_string("/proc/self/smaps_rollup")
                .unwrap()
                .lines()
                .find(|l| l.starts_with("Rss:"))
                .unwrap()
                .to_owned()
        };
        let before = rss();
        release_unused_memory();
        assert!(rss() < before, "{} then {}", before, rss());
        // Code and read-only data fault back in from the page cache.
        assert_eq!(format!("{}", 6 * 7), "42");
    }
}
