//! Deterministic tar entries for archives: ustar headers with owner 0:0, no user or group
//! names, fixed modes (0755 directories, 0644 files, 0777 links) and the times given. A
//! file's data is copied from a reader that must give exactly the size announced.

use std::io::{self, BufWriter, Read, Write};

const BLOCK: u64 = 512;

pub(super) struct TarWriter<W: Write> {
    out: BufWriter<W>,
}

fn header(
    path: &str,
    kind: tar::EntryType,
    mode: u32,
    size: u64,
    mtime: u64,
) -> io::Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    match h.as_ustar_mut() {
        // Written as given (the tar crate's `set_path` would drop a directory's `/`).
        Some(ustar) if path.len() <= ustar.name.len() => {
            ustar.name[..path.len()].copy_from_slice(path.as_bytes());
        }
        _ => h.set_path(path)?,
    }
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h.set_mtime(mtime);
    Ok(h)
}

impl<W: Write> TarWriter<W> {
    pub fn new(out: W) -> Self {
        TarWriter {
            out: BufWriter::with_capacity(1 << 20, out),
        }
    }

    fn put(&mut self, mut h: tar::Header) -> io::Result<()> {
        h.set_cksum();
        self.out.write_all(h.as_bytes())
    }

    /// A directory; `path` without its trailing `/`.
    pub fn dir(&mut self, path: &str, mtime: u64) -> io::Result<()> {
        self.put(header(
            &format!("{path}/"),
            tar::EntryType::Directory,
            0o755,
            0,
            mtime,
        )?)
    }

    pub fn symlink(&mut self, path: &str, target: &str, mtime: u64) -> io::Result<()> {
        let mut h = header(path, tar::EntryType::Symlink, 0o777, 0, mtime)?;
        h.set_link_name(target)?;
        self.put(h)
    }

    pub fn bytes(&mut self, path: &str, mtime: u64, data: &[u8]) -> io::Result<()> {
        self.file(path, mtime, data.len() as u64, data)
    }

    /// A regular file of `size` bytes read from `data`, which must hold exactly that many.
    pub fn file(&mut self, path: &str, mtime: u64, size: u64, data: impl Read) -> io::Result<()> {
        self.put(header(path, tar::EntryType::Regular, 0o644, size, mtime)?)?;
        let mut data = data.take(size + 1);
        let copied = io::copy(&mut (&mut data).take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{path}: {copied} bytes where {size} were expected"),
            ));
        }
        let mut extra = [0u8; 1];
        if data.read(&mut extra)? != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{path}: more than the {size} bytes expected"),
            ));
        }
        let pad = (BLOCK - size % BLOCK) % BLOCK;
        self.out.write_all(&vec![0u8; pad as usize])
    }

    /// Ends the archive (two zero blocks) and flushes it.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK as usize])?;
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_and_sizes_are_enforced() {
        let mut w = TarWriter::new(Vec::new());
        w.dir("d", 5).unwrap();
        w.bytes("d/f", 5, b"hello").unwrap();
        w.symlink("d/l", "../d/f", 5).unwrap();
        let out = w.finish().unwrap();
        assert_eq!(out.len() % 512, 0);
        let mut archive = tar::Archive::new(&out[..]);
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut data = String::new();
            entry.read_to_string(&mut data).unwrap();
            seen.push((
                entry.path().unwrap().display().to_string(),
                entry.header().mtime().unwrap(),
                data,
            ));
        }
        assert_eq!(
            seen,
            [
                ("d/".into(), 5, String::new()),
                ("d/f".into(), 5, "hello".into()),
                ("d/l".into(), 5, String::new())
            ]
        );
        let mut w = TarWriter::new(Vec::new());
        assert!(w.file("short", 0, 10, &b"abc"[..]).is_err());
        let mut w = TarWriter::new(Vec::new());
        assert!(w.file("long", 0, 2, &b"abc"[..]).is_err());
    }
}
