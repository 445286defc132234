//! A tar writer for layers: POSIX ustar headers, with a PAX extended header in front only
//! when ustar cannot say it all (long names, large ids or sizes, sub-second or negative
//! times, atimes, xattrs). Empty user and group names and fixed fields everywhere else, so
//! that the same input always gives the same bytes. GNU tar, Go's archive/tar (Docker,
//! containerd) and the tar crate read it.

use std::io::{self, Write};

use super::pax::{Segment, Time};

const BLOCK: usize = 512;

/// Entry types.
pub(crate) const REGULAR: u8 = b'0';
pub(crate) const HARD_LINK: u8 = b'1';
pub(crate) const SYMLINK: u8 = b'2';
pub(crate) const CHAR: u8 = b'3';
pub(crate) const BLOCK_DEVICE: u8 = b'4';
pub(crate) const DIRECTORY: u8 = b'5';
pub(crate) const FIFO: u8 = b'6';
const PAX: u8 = b'x';

/// One entry's header.
#[derive(Debug, Clone)]
pub(crate) struct Header<'a> {
    /// Relative, without a trailing `/` (added for directories).
    pub path: &'a [u8],
    pub kind: u8,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: Time,
    /// Recorded (in PAX) only when given.
    pub atime: Option<Time>,
    /// Keep nanoseconds of mtime (in PAX) instead of whole seconds.
    pub exact_mtime: bool,
    pub link: Option<&'a [u8]>,
    pub device: (u32, u32),
    /// Sorted; written as `SCHILY.xattr.<key>`.
    pub xattrs: &'a [(Vec<u8>, Vec<u8>)],
    /// A sparse file in GNU's PAX format 1.0: `path` is a stand-in name, the data starts
    /// with the map (see [`sparse_map`]).
    pub sparse: Option<Sparse<'a>>,
}

/// The real name and length of a sparse file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sparse<'a> {
    pub name: &'a [u8],
    pub real_size: u64,
}

/// The map that opens the data of a PAX 1.0 sparse entry: the count of runs, then offset
/// and length of each, one decimal number per line, padded to a block.
pub(crate) fn sparse_map(runs: &[Segment]) -> Vec<u8> {
    let mut text = format!("{}\n", runs.len());
    for run in runs {
        text += &format!("{}\n{}\n", run.offset, run.len);
    }
    let mut bytes = text.into_bytes();
    bytes.resize(bytes.len().div_ceil(BLOCK) * BLOCK, 0);
    bytes
}

impl<'a> Header<'a> {
    /// A header with every optional field empty.
    pub(crate) fn new(path: &'a [u8], kind: u8) -> Header<'a> {
        Header {
            path,
            kind,
            mode: 0,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: Time::from_secs(0),
            atime: None,
            exact_mtime: false,
            link: None,
            device: (0, 0),
            xattrs: &[],
            sparse: None,
        }
    }
}

/// `[-]seconds[.fraction]` as PAX spells a time, trailing zeros of the fraction dropped.
pub(crate) fn format_time(t: Time) -> String {
    let (negative, sec, nsec) = if t.sec < 0 && t.nsec > 0 {
        (true, -(t.sec + 1), 1_000_000_000 - t.nsec)
    } else {
        (t.sec < 0, t.sec.unsigned_abs() as i64, t.nsec)
    };
    let sign = if negative { "-" } else { "" };
    if nsec == 0 {
        return format!("{sign}{sec}");
    }
    let fraction = format!("{nsec:09}");
    format!("{sign}{sec}.{}", fraction.trim_end_matches('0'))
}

/// One PAX record: `<length> <key>=<value>\n`, the length counting itself.
fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let rest = key.len() + value.len() + 3;
    let mut len = rest + 1;
    while len.to_string().len() + rest != len {
        len += 1;
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// Writes `value` as zero-padded octal with a NUL, if it fits the field.
fn octal(field: &mut [u8], value: u64) -> bool {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    if text.len() > digits {
        return false;
    }
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
    true
}

/// GNU's base-256 for numbers too large for octal (only device numbers need it here).
fn base256(field: &mut [u8], value: u64) {
    field.fill(0);
    let bytes = value.to_be_bytes();
    let n = field.len();
    field[n - 8..].copy_from_slice(&bytes);
    field[0] |= 0x80;
}

/// Splits `path` for ustar's prefix (155) and name (100) fields, if it can be.
fn split_ustar(path: &[u8]) -> Option<(&[u8], &[u8])> {
    if path.len() <= 100 {
        return Some((&[], path));
    }
    let slash = path
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i > 0 && i <= 155 && path.len() - i - 1 <= 100)
        .map(|(i, _)| i)
        .next_back()?;
    let name = &path[slash + 1..];
    (!name.is_empty()).then(|| (&path[..slash], name))
}

/// Writes tar entries to `out`, counting nothing itself (wrap `out` for that).
pub(crate) struct TarWriter<W: Write> {
    out: W,
}

impl<W: Write> TarWriter<W> {
    pub(crate) fn new(out: W) -> TarWriter<W> {
        TarWriter { out }
    }

    /// Writes the header (and the PAX header before it, if needed). The entry's `size` bytes
    /// of data follow with [`TarWriter::data`] and [`TarWriter::pad`].
    pub(crate) fn header(&mut self, h: &Header<'_>) -> io::Result<()> {
        let mut path = h.path.to_vec();
        if h.kind == DIRECTORY {
            path.push(b'/');
        }
        let mut block = [0u8; BLOCK];
        let mut records = Vec::new();
        match split_ustar(&path) {
            Some((prefix, name)) => {
                block[..name.len()].copy_from_slice(name);
                block[345..345 + prefix.len()].copy_from_slice(prefix);
            }
            None => {
                pax_record(&mut records, b"path", &path);
                let cut = truncated(&path, 100);
                block[..cut.len()].copy_from_slice(cut);
            }
        }
        if let Some(link) = h.link {
            if link.len() <= 100 {
                block[157..157 + link.len()].copy_from_slice(link);
            } else {
                pax_record(&mut records, b"linkpath", link);
                let cut = truncated(link, 100);
                block[157..157 + cut.len()].copy_from_slice(cut);
            }
        }
        octal(&mut block[100..108], u64::from(h.mode & 0o7777));
        if !octal(&mut block[108..116], u64::from(h.uid)) {
            pax_record(&mut records, b"uid", h.uid.to_string().as_bytes());
            octal(&mut block[108..116], 0);
        }
        if !octal(&mut block[116..124], u64::from(h.gid)) {
            pax_record(&mut records, b"gid", h.gid.to_string().as_bytes());
            octal(&mut block[116..124], 0);
        }
        if !octal(&mut block[124..136], h.size) {
            pax_record(&mut records, b"size", h.size.to_string().as_bytes());
            octal(&mut block[124..136], 0);
        }
        let whole = u64::try_from(h.mtime.sec)
            .ok()
            .filter(|&s| octal(&mut block[136..148], s));
        if whole.is_none() || (h.exact_mtime && h.mtime.nsec != 0) {
            let t = if h.exact_mtime {
                h.mtime
            } else {
                Time::from_secs(h.mtime.sec)
            };
            pax_record(&mut records, b"mtime", format_time(t).as_bytes());
            if whole.is_none() {
                octal(&mut block[136..148], 0);
            }
        }
        if let Some(atime) = h.atime {
            pax_record(&mut records, b"atime", format_time(atime).as_bytes());
        }
        if let Some(sparse) = h.sparse {
            pax_record(&mut records, b"GNU.sparse.major", b"1");
            pax_record(&mut records, b"GNU.sparse.minor", b"0");
            pax_record(&mut records, b"GNU.sparse.name", sparse.name);
            pax_record(
                &mut records,
                b"GNU.sparse.realsize",
                sparse.real_size.to_string().as_bytes(),
            );
        }
        for (key, value) in h.xattrs {
            pax_record(&mut records, &[&b"SCHILY.xattr."[..], key].concat(), value);
        }
        block[156] = h.kind;
        block[257..263].copy_from_slice(b"ustar\0");
        block[263..265].copy_from_slice(b"00");
        if matches!(h.kind, CHAR | BLOCK_DEVICE) {
            for (field, value) in [(329..337, h.device.0), (337..345, h.device.1)] {
                if !octal(&mut block[field.clone()], u64::from(value)) {
                    base256(&mut block[field], u64::from(value));
                }
            }
        } else {
            octal(&mut block[329..337], 0);
            octal(&mut block[337..345], 0);
        }
        if !records.is_empty() {
            self.pax_header(&path, &records)?;
        }
        self.out.write_all(checksummed(&mut block))
    }

    fn pax_header(&mut self, path: &[u8], records: &[u8]) -> io::Result<()> {
        let base = path
            .split(|&b| b == b'/')
            .rfind(|c| !c.is_empty())
            .unwrap_or(b"");
        let name = [&b"PaxHeaders/"[..], truncated(base, 88)].concat();
        let mut block = [0u8; BLOCK];
        block[..name.len()].copy_from_slice(&name);
        octal(&mut block[100..108], 0o644);
        octal(&mut block[108..116], 0);
        octal(&mut block[116..124], 0);
        octal(&mut block[124..136], records.len() as u64);
        octal(&mut block[136..148], 0);
        block[156] = PAX;
        block[257..263].copy_from_slice(b"ustar\0");
        block[263..265].copy_from_slice(b"00");
        octal(&mut block[329..337], 0);
        octal(&mut block[337..345], 0);
        self.out.write_all(checksummed(&mut block))?;
        self.out.write_all(records)?;
        self.pad(records.len() as u64)
    }

    pub(crate) fn data(&mut self, data: &[u8]) -> io::Result<()> {
        self.out.write_all(data)
    }

    /// Zeros after `size` bytes of data, to the next block.
    pub(crate) fn pad(&mut self, size: u64) -> io::Result<()> {
        let rest = (size % BLOCK as u64) as usize;
        if rest != 0 {
            self.out.write_all(&[0u8; BLOCK][rest..])?;
        }
        Ok(())
    }

    /// The end of the archive (two zero blocks); gives back the output.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK])?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The first bytes of `s`, at most `max`.
fn truncated(s: &[u8], max: usize) -> &[u8] {
    &s[..s.len().min(max)]
}

/// Fills in the checksum: the sum of all bytes with the field itself taken as spaces.
fn checksummed(block: &mut [u8; BLOCK]) -> &[u8; BLOCK] {
    block[148..156].fill(b' ');
    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
    let text = format!("{sum:06o}");
    block[148..154].copy_from_slice(text.as_bytes());
    block[154] = 0;
    block[155] = b' ';
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn archive(headers: &[(Header<'_>, &[u8])]) -> Vec<u8> {
        let mut w = TarWriter::new(Vec::new());
        for (h, data) in headers {
            w.header(h).unwrap();
            w.data(data).unwrap();
            w.pad(data.len() as u64).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn times_as_pax_spells_them() {
        assert_eq!(format_time(Time { sec: 5, nsec: 0 }), "5");
        assert_eq!(
            format_time(Time {
                sec: 5,
                nsec: 500_000_000
            }),
            "5.5"
        );
        assert_eq!(format_time(Time { sec: 1, nsec: 1 }), "1.000000001");
        assert_eq!(
            format_time(Time {
                sec: -2,
                nsec: 750_000_000
            }),
            "-1.25"
        );
        assert_eq!(format_time(Time { sec: -3, nsec: 0 }), "-3");
        for t in [
            Time {
                sec: -2,
                nsec: 750_000_000,
            },
            Time { sec: 99, nsec: 120 },
        ] {
            assert_eq!(
                super::super::pax::parse_time(format_time(t).as_bytes()),
                Some(t)
            );
        }
    }

    #[test]
    fn pax_record_lengths_count_themselves() {
        for n in [0, 1, 80, 90, 95, 1000] {
            let mut out = Vec::new();
            pax_record(&mut out, b"path", &vec![b'a'; n]);
            let (len, _) = std::str::from_utf8(&out).unwrap().split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), out.len(), "{n}");
        }
    }

    #[test]
    fn ustar_splits_long_paths_and_pax_takes_the_rest() {
        let long_dir = "d".repeat(120);
        let split = format!("{long_dir}/file");
        assert_eq!(split_ustar(split.as_bytes()).unwrap().1, b"file");
        let unsplittable = "n".repeat(300);
        assert!(split_ustar(unsplittable.as_bytes()).is_none());
    }

    #[test]
    fn the_tar_crate_reads_what_we_write() {
        let long = format!("{}/{}", "a".repeat(150), "b".repeat(150));
        let link_target = "t".repeat(200);
        let xattrs = vec![
            (
                b"security.capability".to_vec(),
                vec![1, 0, 0, 2, 0, 0x20, 0, 0],
            ),
            (b"user.k".to_vec(), b"v".to_vec()),
        ];
        let mut file = Header::new(long.as_bytes(), REGULAR);
        file.mode = 0o4755;
        file.uid = 5_000_000;
        file.gid = 7;
        file.size = 5;
        file.mtime = Time {
            sec: 1_700_000_000,
            nsec: 250_000_000,
        };
        file.exact_mtime = true;
        file.atime = Some(Time {
            sec: 1_600_000_000,
            nsec: 0,
        });
        file.xattrs = &xattrs;
        let mut dir = Header::new(b"etc", DIRECTORY);
        dir.mode = 0o1777;
        let mut link = Header::new(b"l", SYMLINK);
        link.link = Some(link_target.as_bytes());
        let mut dev = Header::new(b"dev/big", BLOCK_DEVICE);
        dev.device = (4095, 1_048_575);
        let bytes = archive(&[(dir, b""), (file, b"hello"), (link, b""), (dev, b"")]);
        assert_eq!(bytes.len() % 512, 0);

        let mut ar = tar::Archive::new(&bytes[..]);
        let mut entries = ar.entries().unwrap();
        let e = entries.next().unwrap().unwrap();
        assert_eq!(&*e.path_bytes(), b"etc/");
        assert_eq!(e.header().mode().unwrap(), 0o1777);
        let mut e = entries.next().unwrap().unwrap();
        assert_eq!(&*e.path_bytes(), long.as_bytes());
        assert_eq!(e.header().mode().unwrap(), 0o4755);
        let records: Vec<(String, Vec<u8>)> = e
            .pax_extensions()
            .unwrap()
            .unwrap()
            .map(|r| {
                let r = r.unwrap();
                (r.key().unwrap().to_owned(), r.value_bytes().to_vec())
            })
            .collect();
        let parsed = super::super::pax::parse(tar::PaxExtensions::new(
            &records
                .iter()
                .flat_map(|(k, v)| {
                    let mut out = Vec::new();
                    pax_record(&mut out, k.as_bytes(), v);
                    out
                })
                .collect::<Vec<u8>>(),
        ))
        .unwrap();
        assert_eq!(parsed.uid, Some(5_000_000));
        assert_eq!(
            parsed.mtime,
            Some(Time {
                sec: 1_700_000_000,
                nsec: 250_000_000
            })
        );
        assert_eq!(parsed.atime, Some(Time::from_secs(1_600_000_000)));
        assert_eq!(parsed.xattrs, xattrs);
        let mut data = String::new();
        e.read_to_string(&mut data).unwrap();
        assert_eq!(data, "hello");
        let e = entries.next().unwrap().unwrap();
        assert_eq!(&*e.link_name_bytes().unwrap(), link_target.as_bytes());
        let e = entries.next().unwrap().unwrap();
        assert_eq!(e.header().device_major().unwrap(), Some(4095));
        assert_eq!(e.header().device_minor().unwrap(), Some(1_048_575));
        assert!(entries.next().is_none());
    }

    #[test]
    fn sparse_maps_read_back() {
        let runs = [
            Segment { offset: 0, len: 5 },
            Segment {
                offset: 1 << 30,
                len: 4096,
            },
        ];
        let map = sparse_map(&runs);
        assert_eq!(map.len(), 512);
        assert!(map.starts_with(b"2\n0\n5\n1073741824\n4096\n\0"));
        let (read, used) = super::super::sparse::read_map_v1(&mut &map[..], 512).unwrap();
        assert_eq!((read, used), (runs.to_vec(), 512));
    }

    #[test]
    fn deterministic_and_whole_seconds_by_default() {
        let mut h = Header::new(b"f", REGULAR);
        h.mtime = Time { sec: 10, nsec: 999 };
        let a = archive(&[(h.clone(), b"")]);
        assert_eq!(a, archive(&[(h, b"")]));
        // One header and the end: no PAX header for a dropped fraction.
        assert_eq!(a.len(), 3 * 512);
    }
}
