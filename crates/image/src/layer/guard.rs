//! A guard in front of the tar parser. The tar crate reads PAX extended headers and GNU long
//! names whole into memory, however large the archive says they are: a small gzip bomb
//! would be enough to exhaust the daemon's memory. This reader passes the stream through
//! unchanged while following its framing (header, PAX size overrides, GNU sparse extension
//! blocks, data padded to 512 bytes) and fails the read when such a header is larger than
//! Go's archive/tar allows (1 MiB), so pier accepts what Docker accepts. Where it cannot
//! follow the framing (a header the parser will reject anyway), it stops looking.

use std::io::{self, Read};

/// The largest PAX header or GNU long name or link, as in Go's archive/tar.
pub(crate) const MAX_SPECIAL: u64 = 1 << 20;

const BLOCK: usize = 512;

enum State {
    /// Gathering a header block.
    Header {
        block: Box<[u8; BLOCK]>,
        filled: usize,
    },
    /// Gathering the records of a PAX header, then skipping its padding.
    Pax {
        records: Vec<u8>,
        size: usize,
        pad: u64,
    },
    /// Gathering a GNU sparse extension block; then `data` bytes follow.
    SparseExtension {
        block: Box<[u8; BLOCK]>,
        filled: usize,
        data: u64,
    },
    /// Data (padded) to pass before the next header.
    Skip(u64),
    /// The end of the archive, or framing the parser will reject: nothing more to check.
    Done,
}

pub(crate) struct Guard<R> {
    inner: R,
    state: State,
    /// The size a PAX header gave for the next entry.
    next_size: Option<u64>,
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64).saturating_mul(BLOCK as u64)
}

fn header() -> State {
    State::Header {
        block: Box::new([0; BLOCK]),
        filled: 0,
    }
}

impl<R: Read> Guard<R> {
    pub(crate) fn new(inner: R) -> Guard<R> {
        Guard {
            inner,
            state: header(),
            next_size: None,
        }
    }

    /// What a full header block means for what follows.
    fn after_header(&mut self, block: &[u8; BLOCK]) -> io::Result<State> {
        if block.iter().all(|&b| b == 0) {
            return Ok(State::Done);
        }
        let Some(size) = super::header::numeric(&block[124..136]) else {
            return Ok(State::Done);
        };
        match block[156] {
            kind @ (b'x' | b'g' | b'L' | b'K') => {
                if size > MAX_SPECIAL {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "a {} of {size} bytes, more than the {MAX_SPECIAL} allowed",
                            match kind {
                                b'x' | b'g' => "PAX extended header",
                                b'L' => "GNU long name",
                                _ => "GNU long link name",
                            }
                        ),
                    ));
                }
                if kind == b'g' {
                    // The parser hands a global header out as an entry, with any PAX header
                    // before it: that one's size no longer applies.
                    self.next_size = None;
                }
                if kind == b'x' {
                    return Ok(State::Pax {
                        records: Vec::new(),
                        size: size as usize,
                        pad: padded(size) - size,
                    });
                }
                Ok(State::Skip(padded(size)))
            }
            kind => {
                let size = self.next_size.take().unwrap_or(size);
                // An old GNU sparse header says whether extension blocks follow it.
                if kind == b'S' && block[482] != 0 {
                    return Ok(State::SparseExtension {
                        block: Box::new([0; BLOCK]),
                        filled: 0,
                        data: padded(size),
                    });
                }
                Ok(State::Skip(padded(size)))
            }
        }
    }

    /// Follows the framing through `data`.
    fn watch(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let state = std::mem::replace(&mut self.state, State::Done);
            self.state = match state {
                State::Done => return Ok(()),
                State::Skip(left) => {
                    let n = left.min(data.len() as u64);
                    data = &data[n as usize..];
                    if left == n {
                        header()
                    } else {
                        State::Skip(left - n)
                    }
                }
                State::Header { mut block, filled } => {
                    let n = (BLOCK - filled).min(data.len());
                    block[filled..filled + n].copy_from_slice(&data[..n]);
                    data = &data[n..];
                    if filled + n == BLOCK {
                        self.after_header(&block)?
                    } else {
                        State::Header {
                            block,
                            filled: filled + n,
                        }
                    }
                }
                State::Pax {
                    mut records,
                    size,
                    pad,
                } => {
                    let n = (size - records.len()).min(data.len());
                    records.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    if records.len() < size {
                        State::Pax { records, size, pad }
                    } else {
                        // The parser takes the first `size` record that is a number.
                        self.next_size = tar::PaxExtensions::new(&records)
                            .filter_map(Result::ok)
                            .find(|r| r.key_bytes() == b"size")
                            .and_then(|r| r.value().ok()?.parse().ok());
                        if pad == 0 { header() } else { State::Skip(pad) }
                    }
                }
                State::SparseExtension {
                    mut block,
                    filled,
                    data: size,
                } => {
                    let n = (BLOCK - filled).min(data.len());
                    block[filled..filled + n].copy_from_slice(&data[..n]);
                    data = &data[n..];
                    match (filled + n == BLOCK, block[504] != 0) {
                        (false, _) => State::SparseExtension {
                            block,
                            filled: filled + n,
                            data: size,
                        },
                        (true, true) => State::SparseExtension {
                            block: Box::new([0; BLOCK]),
                            filled: 0,
                            data: size,
                        },
                        (true, false) if size == 0 => header(),
                        (true, false) => State::Skip(size),
                    }
                }
            };
        }
        Ok(())
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.watch(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::tarwriter::{self, Header, TarWriter};

    fn read_through(tar: &[u8]) -> io::Result<()> {
        let mut g = Guard::new(tar);
        // Small and odd reads, so that blocks arrive in pieces.
        let mut buf = [0u8; 7];
        while g.read(&mut buf)? != 0 {}
        Ok(())
    }

    #[test]
    fn huge_extended_headers_are_refused() {
        for kind in [b'x', b'g', b'L', b'K'] {
            let mut w = TarWriter::new(Vec::new());
            let mut h = Header::new(b"big", kind);
            h.size = MAX_SPECIAL + 1;
            w.header(&h).unwrap();
            let tar = w.finish().unwrap();
            let err = read_through(&tar).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{}", kind as char);
            assert!(
                err.to_string().contains("more than the 1048576 allowed"),
                "{err}"
            );
        }
    }

    #[test]
    fn framing_is_followed_past_data_pax_sizes_and_sparse_blocks() {
        // A PAX header that makes a file's size larger than its header says, then a file
        // whose data looks like a huge PAX header: the guard must skip it as data.
        let mut w = TarWriter::new(Vec::new());
        let mut fake = [0u8; BLOCK];
        fake[..4].copy_from_slice(b"fake");
        fake[124..136].copy_from_slice(b"77777777777\0");
        fake[156] = b'x';
        let mut file = Header::new(b"data", tarwriter::REGULAR);
        file.size = 8 << 30; // over the octal limit: the size goes in a PAX record
        w.header(&file).unwrap();
        let tar = w.finish().unwrap();
        let mut g = Guard::new(&tar[..]);
        let mut sink = Vec::new();
        g.read_to_end(&mut sink).unwrap();
        assert!(g.next_size.is_none(), "used by the entry");
        assert!(matches!(g.state, State::Skip(n) if n > 0));

        let mut w = TarWriter::new(Vec::new());
        let mut file = Header::new(b"f", tarwriter::REGULAR);
        file.size = fake.len() as u64;
        w.header(&file).unwrap();
        w.data(&fake).unwrap();
        let tar = w.finish().unwrap();
        read_through(&tar).unwrap();

        // An old GNU sparse header with an extension block.
        let mut header = [0u8; BLOCK];
        header[..1].copy_from_slice(b"s");
        header[124..136].copy_from_slice(b"00000001000\0");
        header[156] = b'S';
        header[257..265].copy_from_slice(b"ustar  \0");
        header[482] = 1;
        let mut extension = [0u8; BLOCK];
        extension[0] = b'7'; // not zero: must not be taken for the end
        let mut tar = header.to_vec();
        tar.extend_from_slice(&extension);
        tar.extend_from_slice(&[0x55; BLOCK]); // the data: 512 bytes
        let mut next = Header::new(b"n", b'x');
        next.size = MAX_SPECIAL + 1;
        let mut w = TarWriter::new(Vec::new());
        w.header(&next).unwrap();
        tar.extend(w.finish().unwrap());
        let err = read_through(&tar).unwrap_err();
        assert!(err.to_string().contains("PAX extended header"), "{err}");
    }
}
