//! File data written so that zero runs become holes: a block of zeros is skipped (the file is
//! new, so what was never written reads as zeros) and the length is set at the end. This
//! keeps sparse files sparse whether the archive said so (GNU sparse entries, PAX sparse
//! formats) or just carried the zeros. Also the sparse maps of GNU tar's PAX format 1.0,
//! which sit at the start of the entry's data.

use std::io::{self, Read};
use std::os::fd::BorrowedFd;

use rustix::io::Errno;

use super::pax::Segment;
use super::sys::{is_zero, pwrite_all, retry};

/// The hole granularity: the page and block size of every filesystem layers live on.
const BLOCK: u64 = 4096;

/// The most runs a sparse map may list (the map is held in memory).
const MAX_RUNS: u64 = 1 << 20;

/// A failure while copying: reading the archive or writing the file.
#[derive(Debug)]
pub(crate) enum CopyError {
    Read(io::Error),
    Write(Errno),
    Map(String),
}

/// Sequential writes into a new, empty file.
pub(crate) struct Sink<'a> {
    fd: BorrowedFd<'a>,
    pos: u64,
    end: u64,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(fd: BorrowedFd<'a>) -> Sink<'a> {
        Sink { fd, pos: 0, end: 0 }
    }

    /// Writes `data` at the current position, skipping all-zero blocks.
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), Errno> {
        let mut run: Option<usize> = None;
        let mut i = 0;
        while i < data.len() {
            let offset = self.pos + i as u64;
            let len = ((BLOCK - offset % BLOCK) as usize).min(data.len() - i);
            if is_zero(&data[i..i + len]) {
                if let Some(start) = run.take() {
                    self.put(&data[start..i], self.pos + start as u64)?;
                }
            } else if run.is_none() {
                run = Some(i);
            }
            i += len;
        }
        if let Some(start) = run {
            self.put(&data[start..], self.pos + start as u64)?;
        }
        self.pos += data.len() as u64;
        Ok(())
    }

    fn put(&mut self, data: &[u8], offset: u64) -> Result<(), Errno> {
        pwrite_all(self.fd, data, offset)?;
        self.end = offset + data.len() as u64;
        Ok(())
    }

    /// Moves forward to `offset`, leaving a hole.
    pub(crate) fn skip_to(&mut self, offset: u64) {
        debug_assert!(offset >= self.pos);
        self.pos = self.pos.max(offset);
    }

    /// Sets the file's length to `size` (a hole at the end is only a length).
    pub(crate) fn finish(self, size: u64) -> Result<(), Errno> {
        if self.end < size {
            retry(|| rustix::fs::ftruncate(self.fd, size))?;
        }
        Ok(())
    }
}

/// Copies exactly `len` bytes from `src` into `sink`, `buf` at a time.
pub(crate) fn copy(
    src: &mut dyn Read,
    sink: &mut Sink<'_>,
    mut len: u64,
    buf: &mut [u8],
) -> Result<(), CopyError> {
    while len > 0 {
        let want = buf.len().min(usize::try_from(len).unwrap_or(usize::MAX));
        // Fill the buffer fully so that blocks stay aligned to the file's offsets.
        let mut got = 0;
        while got < want {
            match src.read(&mut buf[got..want]) {
                Ok(0) => {
                    return Err(CopyError::Read(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the archive ends inside the file's data",
                    )));
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CopyError::Read(e)),
            }
        }
        sink.write(&buf[..got]).map_err(CopyError::Write)?;
        len -= got as u64;
    }
    Ok(())
}

/// Checks that the runs are in order, do not overlap, fit in `real_size`, and add up to the
/// `data_len` bytes the archive holds.
pub(crate) fn check_map(map: &[Segment], real_size: u64, data_len: u64) -> Result<(), String> {
    let mut end = 0u64;
    let mut total = 0u64;
    for s in map {
        if s.offset < end {
            return Err("runs out of order or overlapping".into());
        }
        end = s
            .offset
            .checked_add(s.len)
            .ok_or("a run past the largest size")?;
        if end > real_size {
            return Err(format!(
                "a run ends at {end}, past the file's size {real_size}"
            ));
        }
        total += s.len;
    }
    if total != data_len {
        return Err(format!("runs hold {total} bytes, the archive {data_len}"));
    }
    Ok(())
}

/// Writes the runs of a sparse file from `src`, which holds their data back to back.
pub(crate) fn copy_runs(
    src: &mut dyn Read,
    sink: &mut Sink<'_>,
    map: &[Segment],
    buf: &mut [u8],
) -> Result<(), CopyError> {
    for s in map {
        sink.skip_to(s.offset);
        copy(src, sink, s.len, buf)?;
    }
    Ok(())
}

/// Reads the map that opens the data of a PAX 1.0 sparse entry: decimal numbers one per
/// line (the count of runs, then offset and length of each), padded to 512 bytes. Gives the
/// runs and how many bytes of the entry the map took.
pub(crate) fn read_map_v1(
    src: &mut dyn Read,
    entry_len: u64,
) -> Result<(Vec<Segment>, u64), CopyError> {
    let mut text: Vec<u8> = Vec::new();
    let mut numbers: Vec<u64> = Vec::new();
    let mut wanted: Option<u64> = None;
    let mut consumed = 0u64;
    let mut start = 0;
    loop {
        if wanted.is_some_and(|w| numbers.len() as u64 == 1 + 2 * w) {
            break;
        }
        if consumed + 512 > entry_len {
            return Err(CopyError::Map("the map runs past the entry's data".into()));
        }
        let mut block = [0u8; 512];
        src.read_exact(&mut block).map_err(CopyError::Read)?;
        consumed += 512;
        text.extend_from_slice(&block);
        while let Some(nl) = text[start..].iter().position(|&b| b == b'\n') {
            let line = &text[start..start + nl];
            let n = std::str::from_utf8(line)
                .ok()
                .filter(|l| !l.is_empty() && l.len() <= 20 && l.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|l| l.parse::<u64>().ok())
                .ok_or_else(|| {
                    CopyError::Map(format!(
                        "{:?} is not a number",
                        String::from_utf8_lossy(line)
                    ))
                })?;
            numbers.push(n);
            start += nl + 1;
            if wanted.is_none() {
                // Each run takes at least two digits and two newlines of the entry.
                if n > entry_len / 4 || n > MAX_RUNS {
                    return Err(CopyError::Map(format!("{n} runs cannot fit in the entry")));
                }
                wanted = Some(n);
            }
            if wanted.is_some_and(|w| numbers.len() as u64 == 1 + 2 * w) {
                break;
            }
        }
    }
    let map = numbers[1..]
        .chunks_exact(2)
        .map(|p| Segment {
            offset: p[0],
            len: p[1],
        })
        .collect();
    Ok((map, consumed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn zero_blocks_become_holes() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("f");
        let f = std::fs::File::create(&path).unwrap();
        let mut data = vec![0u8; 8 << 20];
        data[0] = 1;
        data[(4 << 20) + 5] = 2;
        let mut sink = Sink::new(f.as_fd());
        let mut buf = vec![0u8; 1 << 20];
        copy(&mut &data[..], &mut sink, data.len() as u64, &mut buf).unwrap();
        sink.finish(data.len() as u64).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);
        let m = std::fs::metadata(&path).unwrap();
        assert_eq!(m.len(), 8 << 20);
        assert!(m.blocks() * 512 <= 64 * 1024, "{} blocks", m.blocks());
    }

    #[test]
    fn runs_and_their_checks() {
        let map = [
            Segment { offset: 0, len: 3 },
            Segment {
                offset: 10000,
                len: 2,
            },
        ];
        check_map(&map, 10002, 5).unwrap();
        assert!(check_map(&map, 10001, 5).is_err());
        assert!(check_map(&map, 10002, 6).is_err());
        assert!(check_map(&[map[1], map[0]], 10002, 5).is_err());
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("f");
        let f = std::fs::File::create(&path).unwrap();
        let mut sink = Sink::new(f.as_fd());
        copy_runs(&mut &b"abcde"[..], &mut sink, &map, &mut [0u8; 4096]).unwrap();
        sink.finish(20000).unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!(got.len(), 20000);
        assert_eq!((&got[..3], &got[10000..10002]), (&b"abc"[..], &b"de"[..]));
        assert!(got[3..10000].iter().all(|&b| b == 0));
    }

    #[test]
    fn the_v1_map() {
        let mut data = b"2\n0\n3\n10000\n2\n".to_vec();
        data.resize(512, 0);
        data.extend_from_slice(b"abcde");
        let mut src = &data[..];
        let (map, used) = read_map_v1(&mut src, data.len() as u64).unwrap();
        assert_eq!(
            map,
            vec![
                Segment { offset: 0, len: 3 },
                Segment {
                    offset: 10000,
                    len: 2
                }
            ]
        );
        assert_eq!((used, src), (512, &b"abcde"[..]));
        for bad in [&b"x\n"[..], b"99999999\n", b"1\n0\n"] {
            let mut data = bad.to_vec();
            data.resize(512, 0);
            assert!(read_map_v1(&mut &data[..], 512).is_err());
        }
    }
}
