//! Which compression a layer stream uses, told from its first bytes, and the decoders.

use std::fmt;
use std::io::{self, BufRead, Read};

/// The compressions of OCI layer media types (`tar`, `tar+gzip`, `tar+zstd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

fn classify(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Peeks at the magic bytes (gzip 1f 8b, zstd 28 b5 2f fd; else plain tar) without consuming
/// them. Decides on what one `fill_buf` returns: a reader that hands out fewer than four bytes
/// at first is taken as plain (a tar starts with a 512-byte header, so a short first read of a
/// real layer is a compressed stream on a slow pipe; [`apply_layer`](super::apply_layer)
/// reads the first bytes fully itself and is not affected).
pub fn detect_compression<R: BufRead>(r: &mut R) -> io::Result<Compression> {
    loop {
        match r.fill_buf() {
            Ok(head) => return Ok(classify(head)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reads up to four bytes (fewer only at end of stream) and tells the compression from them.
pub(crate) fn read_magic<R: Read>(r: &mut R) -> io::Result<(Compression, Vec<u8>)> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok((classify(&head[..n]), head[..n].to_vec()))
}

/// The decompressed stream of `r`.
pub(crate) fn decoder<'a, R: BufRead + Send + 'a>(
    compression: Compression,
    r: R,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(r),
        // Concatenated members are one stream, as gzip(1) reads them.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        // zstd's reader decodes concatenated frames too.
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn detects_without_consuming() {
        let plain = b"etc/passwd\0\0\0".to_vec();
        let gz = gzip(b"hello");
        let zst = zstd::encode_all(&b"hello"[..], 1).unwrap();
        for (bytes, want) in [
            (plain.clone(), Compression::None),
            (gz.clone(), Compression::Gzip),
            (zst.clone(), Compression::Zstd),
            (Vec::new(), Compression::None),
            (vec![0x1f], Compression::None),
        ] {
            let mut r = io::BufReader::new(&bytes[..]);
            assert_eq!(detect_compression(&mut r).unwrap(), want);
            let mut all = Vec::new();
            r.read_to_end(&mut all).unwrap();
            assert_eq!(all, bytes, "nothing consumed");
        }
        for (bytes, want) in [(gz, Compression::Gzip), (zst, Compression::Zstd)] {
            let mut r = io::BufReader::new(&bytes[..]);
            let c = detect_compression(&mut r).unwrap();
            assert_eq!(c, want);
            let mut out = String::new();
            decoder(c, r).unwrap().read_to_string(&mut out).unwrap();
            assert_eq!(out, "hello");
        }
    }

    use crate::test_support::Trickle;

    #[test]
    fn magic_is_read_fully_from_a_trickle() {
        let zst = zstd::encode_all(&b"x"[..], 1).unwrap();
        let (c, head) = read_magic(&mut Trickle(&zst)).unwrap();
        assert_eq!((c, &head[..]), (Compression::Zstd, &zst[..4]));
        let (c, head) = read_magic(&mut Trickle(b"ab")).unwrap();
        assert_eq!((c, &head[..]), (Compression::None, &b"ab"[..]));
    }

    #[test]
    fn concatenated_gzip_members_are_one_stream() {
        let mut two = gzip(b"hello ");
        two.extend(gzip(b"world"));
        let mut out = String::new();
        decoder(Compression::Gzip, &two[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello world");
    }
}
