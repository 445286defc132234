//! The compression of a whole archive (`docker save | gzip` and the like), told from its
//! first bytes, which are read fully even from a pipe that hands them out one at a time.

use std::io::{self, BufReader, Read};

use super::invalid;
use crate::store::ImageError;

const GZIP: &[u8] = &[0x1f, 0x8b];
const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
const BZIP2: &[u8] = b"BZh";

/// How an archive is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    None,
    Gzip,
    Zstd,
}

fn classify(head: &[u8]) -> Result<Compression, ImageError> {
    if head.starts_with(GZIP) {
        Ok(Compression::Gzip)
    } else if head.starts_with(ZSTD) {
        Ok(Compression::Zstd)
    } else if head.starts_with(XZ) || head.starts_with(BZIP2) {
        Err(invalid(
            "archive",
            "xz and bzip2 compressed archives are not supported; decompress it first, or use gzip or zstd",
        ))
    } else {
        Ok(Compression::None)
    }
}

/// Reads up to `n` bytes, fewer only at the end of the stream.
fn read_head(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// The tar stream inside `input`, decompressed if it is gzip or zstd.
pub(super) fn decompressed<'a>(
    mut input: impl Read + 'a,
) -> Result<(Compression, Box<dyn Read + 'a>), ImageError> {
    let head =
        read_head(&mut input, XZ.len()).map_err(|e| invalid("archive", format!("reading: {e}")))?;
    let compression = classify(&head)?;
    let whole = BufReader::with_capacity(1 << 20, io::Cursor::new(head).chain(input));
    let reader: Box<dyn Read + 'a> = match compression {
        Compression::None => Box::new(whole),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(whole)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(whole)
                .map_err(|e| invalid("archive", format!("zstd: {e}")))?,
        ),
    };
    Ok((compression, reader))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    use crate::test_support::Trickle;

    #[test]
    fn detects_and_decodes_even_from_a_trickle() {
        let data = b"a tar would be here".to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&data[..], 1).unwrap();
        for (bytes, want) in [
            (data.clone(), Compression::None),
            (gz, Compression::Gzip),
            (zst, Compression::Zstd),
        ] {
            let (c, mut r) = decompressed(Trickle(&bytes)).unwrap();
            assert_eq!(c, want);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, data);
        }
        let (c, mut r) = decompressed(&b"ab"[..]).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!((c, &out[..]), (Compression::None, &b"ab"[..]));
        let err = decompressed(&b"BZh91AY&SY"[..]).err().unwrap();
        assert!(err.to_string().contains("bzip2"), "{err}");
    }
}
