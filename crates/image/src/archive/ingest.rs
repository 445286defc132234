//! The one pass over an archive's tar stream. Each entry's path is made clean (relative, no
//! `.` or `..` parts) or the entry is refused; regular files go into the content store as
//! they stream (hashed on the way; a `blobs/sha256/<hex>` file must hash to its name), the
//! few small documents of the formats stay in memory, and symlinks are recorded as aliases
//! inside the archive, to be followed when a file is looked up. What an entry may be depends
//! on where it is:
//!
//! | path | may be |
//! |---|---|
//! | `manifest.json`, `index.json`, `oci-layout`, `repositories` | a file, kept in memory |
//! | any other top-level name | a file (configs, podman's `<hex>.tar` layers), a symlink |
//! | `<dir>/layer.tar` | a file or a symlink (Docker links a layer seen twice) |
//! | `<dir>/json`, `<dir>/VERSION` | a file, read and dropped (nothing needs them) |
//! | `blobs/sha256/<64 hex>` | a file |
//! | `<dir>/`, `blobs/sha256/` | a directory |
//!
//! Anything else (deeper paths, other names, hard links, devices, FIFOs) is refused.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Write};

use super::{DOCUMENT_LIMIT, invalid};
use crate::content::{ContentError, ContentStore, Expected};
use crate::digest::{Digest, HashingReader};
use crate::store::ImageError;

/// A file of the archive, in the content store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stored {
    pub digest: Digest,
    pub size: u64,
}

/// What the pass found.
#[derive(Debug, Default)]
pub(super) struct Ingested {
    /// Regular files stored as blobs, by clean path.
    files: BTreeMap<String, Stored>,
    /// The small documents, by name.
    docs: BTreeMap<String, Vec<u8>>,
    /// Symlinks: clean path to clean target path.
    links: BTreeMap<String, String>,
}

/// Documents the formats keep at the top level.
const DOCUMENTS: [&str; 4] = ["manifest.json", "index.json", "oci-layout", "repositories"];

/// How many symlinks a lookup follows before it gives up.
const MAX_LINKS: usize = 8;

/// Entries an archive may have (a layout of a few hundred images has a few thousand).
const MAX_ENTRIES: usize = 100_000;

impl Ingested {
    /// A document kept in memory.
    pub fn doc(&self, name: &str) -> Option<&[u8]> {
        self.docs.get(name).map(Vec::as_slice)
    }

    /// The stored file at `path` (as an archive's own document names it), following links.
    /// The error says why there is none.
    pub fn file(&self, path: &str) -> Result<&Stored, String> {
        let mut current = clean(path).map_err(str::to_owned)?;
        for _ in 0..=MAX_LINKS {
            if let Some(stored) = self.files.get(&current) {
                return Ok(stored);
            }
            match self.links.get(&current) {
                Some(target) => current = target.clone(),
                None => return Err(format!("{path} is not in the archive")),
            }
        }
        Err(format!("{path}: too many levels of symbolic links"))
    }

    /// The layout blob `blobs/sha256/<hex>` of `digest`, if the archive has it.
    pub fn layout_blob(&self, digest: &Digest) -> Option<&Stored> {
        self.files.get(&layout_path(digest))
    }
}

/// Where an OCI layout keeps a blob.
pub(super) fn layout_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

/// `raw` as a relative path without empty, `.` or `..` parts; refused if absolute or if
/// it has `..`. An empty result is the archive's root.
pub(super) fn clean(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') {
        return Err("absolute path");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("path with .."),
            _ => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Where a symlink at `link` (clean) pointing at `target` leads, clean; refused if the
/// target is absolute or climbs out of the archive.
fn resolve_link(link: &str, target: &str) -> Result<String, &'static str> {
    if target.starts_with('/') {
        return Err("symlink to an absolute path");
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("symlink out of the archive");
                }
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("symlink to the archive's root");
    }
    Ok(parts.join("/"))
}

/// What a regular file at a clean path is.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    Document,
    Blob(Option<Digest>),
    /// Read and dropped.
    Ignored,
}

fn place(path: &str) -> Result<Place, &'static str> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [name] if DOCUMENTS.contains(name) => Ok(Place::Document),
        ["blobs"] => Err("a file where the blobs directory should be"),
        [_] => Ok(Place::Blob(None)),
        ["blobs", _] => Err("not in a digest algorithm's directory"),
        [_, "layer.tar"] => Ok(Place::Blob(None)),
        [_, "json" | "VERSION"] => Ok(Place::Ignored),
        ["blobs", "sha256", hex] => match Digest::from_hex(hex) {
            Ok(d) => Ok(Place::Blob(Some(d))),
            Err(_) => Err("a blob whose name is not a sha256 digest"),
        },
        ["blobs", _, _] => Err("a blob of an unsupported digest algorithm (pier reads sha256)"),
        _ => Err("not part of a docker-archive or an OCI layout"),
    }
}

/// Streams the archive's entries into `content`.
pub(super) fn ingest(content: &ContentStore, input: impl Read) -> Result<Ingested, ImageError> {
    let mut archive = tar::Archive::new(input);
    let entries = archive
        .entries()
        .map_err(|e| invalid("archive", format!("not a tar stream: {e}")))?;
    let mut found = Ingested::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut after = String::from("the start");
    for (n, entry) in entries.enumerate() {
        if n >= MAX_ENTRIES {
            return Err(invalid(
                "archive",
                format!("more than {MAX_ENTRIES} entries; no image archive has that many"),
            ));
        }
        let mut entry = entry
            .map_err(|e| invalid("archive", format!("malformed tar after entry {after}: {e}")))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = clean(&raw).map_err(|why| invalid(&format!("entry {raw:?}"), why))?;
        let kind = entry.header().entry_type();
        let named = |why: &str| invalid(&format!("entry {raw:?}"), why);
        if kind.is_pax_global_extensions() {
            continue;
        }
        if kind.is_dir() {
            let depth = path.split('/').filter(|p| !p.is_empty()).count();
            if depth > 2 && path != "blobs/sha256" {
                return Err(named("a directory where the formats have none"));
            }
            after = format!("{raw:?}");
            continue;
        }
        if path.is_empty() {
            return Err(named("the archive's root must be a directory"));
        }
        if !seen.insert(path.clone()) {
            return Err(named("appears twice in the archive"));
        }
        if kind.is_symlink() {
            if place(&path).map_err(named)? != Place::Blob(None) {
                return Err(named("a symlink where the formats allow none"));
            }
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            let resolved = resolve_link(&path, &target)
                .map_err(|why| named(&format!("{why} ({target:?})")))?;
            found.links.insert(path, resolved);
        } else if kind.is_file() || kind.is_contiguous() {
            let size = entry.header().size().map_err(|e| named(&e.to_string()))?;
            match place(&path).map_err(named)? {
                Place::Document => {
                    if size > DOCUMENT_LIMIT {
                        return Err(named(&format!(
                            "{size} bytes, more than the {DOCUMENT_LIMIT} allowed"
                        )));
                    }
                    let mut bytes = Vec::with_capacity(size as usize);
                    entry
                        .read_to_end(&mut bytes)
                        .map_err(|e| named(&format!("reading: {e}")))?;
                    found.docs.insert(path, bytes);
                }
                Place::Ignored => {
                    io::copy(&mut entry, &mut io::sink())
                        .map_err(|e| named(&format!("reading: {e}")))?;
                }
                Place::Blob(expected) => {
                    let stored = store(content, &mut entry, size, expected, n, &raw)?;
                    found.files.insert(path, stored);
                }
            }
        } else if kind.is_hard_link() {
            return Err(named("hard links are not allowed in image archives"));
        } else {
            return Err(named(&format!(
                "entries of type {:?} are not allowed in image archives",
                kind.as_byte() as char
            )));
        }
        after = format!("{raw:?}");
    }
    Ok(found)
}

/// Copies one entry into the content store, checking it against `expected` if given.
fn store(
    content: &ContentStore,
    entry: &mut impl Read,
    size: u64,
    expected: Option<Digest>,
    n: usize,
    raw: &str,
) -> Result<Stored, ImageError> {
    let named = |why: String| invalid(&format!("entry {raw:?}"), why);
    let mismatch = |e: ContentError| named(format!("content does not match its name: {e}"));
    if let Some(digest) = expected.as_ref().filter(|d| content.contains(d)) {
        // The store has it: the bytes are only checked, not written again.
        let mut hashing = HashingReader::new(entry);
        io::copy(&mut hashing, &mut io::sink()).map_err(|e| named(format!("reading: {e}")))?;
        let (actual, read) = hashing.finish();
        if actual != *digest {
            return Err(mismatch(ContentError::DigestMismatch {
                expected: digest.clone(),
                actual,
            }));
        }
        return Ok(Stored {
            digest: digest.clone(),
            size: read,
        });
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let key = format!("load-{}-{nanos}-{n}", std::process::id());
    let mut writer = content.writer(&key)?;
    writer.truncate()?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let got = match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(named(format!("reading: {e}"))),
        };
        writer
            .write_all(&buf[..got])
            .map_err(|e| ImageError::io("storing", content.root(), e))?;
    }
    let checked = expected.map(|digest| Expected {
        digest,
        size: Some(size),
    });
    match writer.commit(checked.as_ref()) {
        Ok((digest, size)) => Ok(Stored { digest, size }),
        Err(e @ (ContentError::DigestMismatch { .. } | ContentError::SizeMismatch { .. })) => {
            Err(mismatch(e))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_or_refused() {
        assert_eq!(clean("./manifest.json").unwrap(), "manifest.json");
        assert_eq!(clean("a//b/./layer.tar").unwrap(), "a/b/layer.tar");
        assert_eq!(clean("./").unwrap(), "");
        assert!(clean("/etc/passwd").is_err());
        assert!(clean("a/../../b").is_err());
        assert!(clean("..").is_err());
    }

    #[test]
    fn links_stay_inside() {
        assert_eq!(
            resolve_link("b/layer.tar", "../a/layer.tar").unwrap(),
            "a/layer.tar"
        );
        assert_eq!(resolve_link("x.tar", "./y.tar").unwrap(), "y.tar");
        assert!(resolve_link("b/layer.tar", "../../etc/shadow").is_err());
        assert!(resolve_link("b/layer.tar", "/etc/shadow").is_err());
        assert!(resolve_link("b/layer.tar", "..").is_err());
    }

    #[test]
    fn places_of_the_formats() {
        let hex = "a".repeat(64);
        assert_eq!(place("manifest.json"), Ok(Place::Document));
        assert_eq!(place("abc.json"), Ok(Place::Blob(None)));
        assert_eq!(place("abc/layer.tar"), Ok(Place::Blob(None)));
        assert_eq!(place("abc/VERSION"), Ok(Place::Ignored));
        assert_eq!(
            place(&format!("blobs/sha256/{hex}")),
            Ok(Place::Blob(Some(Digest::from_hex(&hex).unwrap())))
        );
        for bad in [
            "blobs/sha256/xyz",
            "blobs/sha512/abc",
            "abc/other",
            "a/b/c",
            "blobs",
            "blobs/x",
        ] {
            assert!(place(bad).is_err(), "{bad}");
        }
    }
}
