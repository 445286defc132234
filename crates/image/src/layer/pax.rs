//! The PAX extended header records pier reads (the tar crate itself applies `path`,
//! `linkpath` and `size`): numeric ids, times with fractions, `SCHILY.xattr.*`, and the
//! `GNU.sparse.*` records of GNU tar's three PAX sparse formats (0.0, 0.1, 1.0).

use std::io;

use super::error::EntryProblem;
use super::xattr::Xattrs;

/// A point in time as PAX and utimensat spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time {
    pub sec: i64,
    /// Always below 1e9.
    pub nsec: u32,
}

impl Time {
    pub(crate) fn from_secs(sec: i64) -> Time {
        Time { sec, nsec: 0 }
    }
}

/// One run of data of a sparse file: `len` bytes at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub offset: u64,
    pub len: u64,
}

/// A file stored in one of the PAX sparse formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PaxSparse {
    /// The file's length, holes included.
    pub real_size: u64,
    /// The data runs; `None` when they are listed at the start of the data (format 1.0).
    pub map: Option<Vec<Segment>>,
}

/// What the records of one entry say.
#[derive(Debug, Default)]
pub(crate) struct Records {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub mtime: Option<Time>,
    pub atime: Option<Time>,
    /// In the order the archive gives them.
    pub xattrs: Xattrs,
    /// `GNU.sparse.name`: the real path of a sparse file.
    pub sparse_name: Option<Vec<u8>>,
    pub sparse: Option<PaxSparse>,
}

const XATTR_PREFIX: &[u8] = b"SCHILY.xattr.";

fn bad(key: &[u8], reason: impl Into<String>) -> EntryProblem {
    EntryProblem::BadPax {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: reason.into(),
    }
}

fn number(key: &[u8], value: &[u8]) -> Result<u64, EntryProblem> {
    std::str::from_utf8(value)
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad(key, "not a decimal number"))
}

fn id(key: &[u8], value: &[u8]) -> Result<u32, EntryProblem> {
    u32::try_from(number(key, value)?).map_err(|_| bad(key, "id out of range"))
}

/// `[-]seconds[.fraction]`, the fraction cut to nanoseconds.
pub(crate) fn parse_time(value: &[u8]) -> Option<Time> {
    let text = std::str::from_utf8(value).ok()?;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sec: i64 = whole.parse().ok()?;
    let mut nsec: u32 = 0;
    for (i, digit) in fraction.bytes().take(9).enumerate() {
        nsec += u32::from(digit - b'0') * 10u32.pow(8 - i as u32);
    }
    Some(match (negative, nsec) {
        (false, _) => Time { sec, nsec },
        (true, 0) => Time { sec: -sec, nsec: 0 },
        (true, _) => Time {
            sec: -sec - 1,
            nsec: 1_000_000_000 - nsec,
        },
    })
}

/// Pairs of offset and length from `off,len,off,len,...` (format 0.1).
fn parse_map(key: &[u8], value: &[u8]) -> Result<Vec<Segment>, EntryProblem> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let numbers = value
        .split(|&b| b == b',')
        .map(|n| number(key, n))
        .collect::<Result<Vec<u64>, _>>()?;
    if numbers.len() % 2 != 0 {
        return Err(bad(key, "an odd count of numbers"));
    }
    Ok(numbers
        .chunks_exact(2)
        .map(|pair| Segment {
            offset: pair[0],
            len: pair[1],
        })
        .collect())
}

/// Reads the records of one entry.
pub(crate) fn parse<'a>(
    records: impl Iterator<Item = io::Result<tar::PaxExtension<'a>>>,
) -> Result<Records, EntryProblem> {
    let mut out = Records::default();
    let (mut major, mut minor) = (None, None);
    let mut real_size = None;
    let mut map_01 = None;
    let mut map_00: Vec<Segment> = Vec::new();
    let mut pending_offset: Option<u64> = None;
    for record in records {
        let record = record.map_err(|e| bad(b"", e.to_string()))?;
        let (key, value) = (record.key_bytes(), record.value_bytes());
        match key {
            b"uid" => out.uid = Some(id(key, value)?),
            b"gid" => out.gid = Some(id(key, value)?),
            b"mtime" => out.mtime = Some(parse_time(value).ok_or_else(|| bad(key, "not a time"))?),
            b"atime" => out.atime = Some(parse_time(value).ok_or_else(|| bad(key, "not a time"))?),
            b"GNU.sparse.name" => out.sparse_name = Some(value.to_vec()),
            b"GNU.sparse.major" => major = Some(number(key, value)?),
            b"GNU.sparse.minor" => minor = Some(number(key, value)?),
            b"GNU.sparse.realsize" | b"GNU.sparse.size" => real_size = Some(number(key, value)?),
            b"GNU.sparse.map" => map_01 = Some(parse_map(key, value)?),
            b"GNU.sparse.offset" => pending_offset = Some(number(key, value)?),
            b"GNU.sparse.numbytes" => {
                let offset = pending_offset
                    .take()
                    .ok_or_else(|| bad(key, "without a GNU.sparse.offset before it"))?;
                map_00.push(Segment {
                    offset,
                    len: number(key, value)?,
                });
            }
            _ => {
                if let Some(name) = key.strip_prefix(XATTR_PREFIX) {
                    if name.is_empty() || name.contains(&0) {
                        return Err(bad(key, "not an attribute name"));
                    }
                    out.xattrs.push((name.to_vec(), value.to_vec()));
                }
                // ctime, uname, gname, charset, comment, LIBARCHIVE.* (a copy of the
                // SCHILY.xattr records), SCHILY.dev/ino/nlink...: nothing pier keeps.
            }
        }
    }
    let sparse_key = b"GNU.sparse.realsize";
    out.sparse = match (major, minor) {
        (Some(1), Some(0)) => Some(PaxSparse {
            real_size: real_size.ok_or_else(|| bad(sparse_key, "missing for sparse format 1.0"))?,
            map: None,
        }),
        (Some(major), minor) if major != 0 => {
            return Err(bad(
                b"GNU.sparse.major",
                format!("unknown sparse format {major}.{}", minor.unwrap_or(0)),
            ));
        }
        _ => match (map_01, map_00.is_empty()) {
            (Some(map), _) => Some(PaxSparse {
                real_size: real_size.ok_or_else(|| bad(b"GNU.sparse.size", "missing"))?,
                map: Some(map),
            }),
            (None, false) => Some(PaxSparse {
                real_size: real_size.ok_or_else(|| bad(b"GNU.sparse.size", "missing"))?,
                map: Some(map_00),
            }),
            (None, true) => None,
        },
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8]) -> Result<Records, EntryProblem> {
        parse(tar::PaxExtensions::new(text))
    }

    fn record(key: &str, value: &[u8]) -> Vec<u8> {
        let body = [b" ", key.as_bytes(), b"=", value, b"\n"].concat();
        let mut len = body.len() + 1;
        while len.to_string().len() + body.len() != len {
            len += 1;
        }
        [len.to_string().as_bytes(), &body].concat()
    }

    #[test]
    fn times_keep_their_fractions() {
        assert_eq!(
            parse_time(b"1700000000"),
            Some(Time {
                sec: 1_700_000_000,
                nsec: 0
            })
        );
        assert_eq!(
            parse_time(b"1.5"),
            Some(Time {
                sec: 1,
                nsec: 500_000_000
            })
        );
        assert_eq!(
            parse_time(b"12.123456789999"),
            Some(Time {
                sec: 12,
                nsec: 123_456_789
            })
        );
        assert_eq!(
            parse_time(b"-1.25"),
            Some(Time {
                sec: -2,
                nsec: 750_000_000
            })
        );
        assert_eq!(parse_time(b"-3"), Some(Time { sec: -3, nsec: 0 }));
        for bad in [&b""[..], b".5", b"1e9", b"1.2.3", b"-", b"x"] {
            assert_eq!(parse_time(bad), None);
        }
    }

    #[test]
    fn ids_times_and_xattrs() {
        let text = [
            record("uid", b"4000000000"),
            record("gid", b"7"),
            record("mtime", b"1700000000.5"),
            record("atime", b"1600000000"),
            record("SCHILY.xattr.security.capability", b"\x01\x00\x00\x02\0="),
            record("SCHILY.xattr.user.x", b""),
            record("LIBARCHIVE.xattr.user.x", b"eA=="),
            record("ctime", b"1"),
        ]
        .concat();
        let r = records(&text).unwrap();
        assert_eq!((r.uid, r.gid), (Some(4_000_000_000), Some(7)));
        assert_eq!(
            r.mtime,
            Some(Time {
                sec: 1_700_000_000,
                nsec: 500_000_000
            })
        );
        assert_eq!(r.atime, Some(Time::from_secs(1_600_000_000)));
        assert_eq!(
            r.xattrs,
            vec![
                (
                    b"security.capability".to_vec(),
                    b"\x01\x00\x00\x02\0=".to_vec()
                ),
                (b"user.x".to_vec(), Vec::new()),
            ]
        );
        assert!(r.sparse.is_none());
        assert!(matches!(
            records(&record("uid", b"-1")),
            Err(EntryProblem::BadPax { .. })
        ));
        assert!(matches!(
            records(&record("uid", b"4294967296")),
            Err(EntryProblem::BadPax { .. })
        ));
        assert!(matches!(
            records(&record("mtime", b"soon")),
            Err(EntryProblem::BadPax { .. })
        ));
    }

    #[test]
    fn the_three_sparse_formats() {
        let v10 = [
            record("GNU.sparse.major", b"1"),
            record("GNU.sparse.minor", b"0"),
            record("GNU.sparse.name", b"var/log/lastlog"),
            record("GNU.sparse.realsize", b"1048576"),
        ]
        .concat();
        let r = records(&v10).unwrap();
        assert_eq!(r.sparse_name.as_deref(), Some(&b"var/log/lastlog"[..]));
        assert_eq!(
            r.sparse,
            Some(PaxSparse {
                real_size: 1 << 20,
                map: None
            })
        );

        let v01 = [
            record("GNU.sparse.size", b"9000"),
            record("GNU.sparse.numblocks", b"2"),
            record("GNU.sparse.map", b"0,10,8192,808"),
        ]
        .concat();
        let map = vec![
            Segment { offset: 0, len: 10 },
            Segment {
                offset: 8192,
                len: 808,
            },
        ];
        let r = records(&v01).unwrap();
        assert_eq!(
            r.sparse,
            Some(PaxSparse {
                real_size: 9000,
                map: Some(map.clone())
            })
        );

        let v00 = [
            record("GNU.sparse.size", b"9000"),
            record("GNU.sparse.offset", b"0"),
            record("GNU.sparse.numbytes", b"10"),
            record("GNU.sparse.offset", b"8192"),
            record("GNU.sparse.numbytes", b"808"),
        ]
        .concat();
        let r = records(&v00).unwrap();
        assert_eq!(
            r.sparse,
            Some(PaxSparse {
                real_size: 9000,
                map: Some(map)
            })
        );

        let unknown = [
            record("GNU.sparse.major", b"2"),
            record("GNU.sparse.minor", b"0"),
        ]
        .concat();
        assert!(records(&unknown).is_err());
        assert!(records(&record("GNU.sparse.map", b"1,2,3")).is_err());
    }
}
