//! Entry paths as the archive spells them, made relative to the layer's root: a leading `/`
//! is dropped (an absolute path is contained, as tar does), empty and `.` components go, and
//! `..` is resolved lexically; a `..` that would climb above the root is refused. The kernel
//! then resolves what is left inside the destination (see `tree`), so symlinks planted by the
//! layer cannot lead out either.

use super::error::EntryProblem;

/// A clean relative path; empty for the layer's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPath {
    bytes: Vec<u8>,
    /// Where the last component starts.
    name_at: usize,
}

impl EntryPath {
    pub(crate) fn normalize(raw: &[u8]) -> Result<EntryPath, EntryProblem> {
        if raw.contains(&0) {
            return Err(EntryProblem::NulInPath);
        }
        let mut parts: Vec<&[u8]> = Vec::new();
        for part in raw.split(|&b| b == b'/') {
            match part {
                b"" | b"." => {}
                b".." => {
                    if parts.pop().is_none() {
                        return Err(EntryProblem::PathEscapes);
                    }
                }
                part => parts.push(part),
            }
        }
        let bytes = parts.join(&b'/');
        let name_at = bytes.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        Ok(EntryPath { bytes, name_at })
    }

    pub(crate) fn is_root(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The directory the entry is in, relative to the root ("" at the top).
    pub(crate) fn parent(&self) -> &[u8] {
        &self.bytes[..self.name_at.saturating_sub(1)]
    }

    /// The last component; empty only for the root.
    pub(crate) fn name(&self) -> &[u8] {
        &self.bytes[self.name_at..]
    }

    /// The components above the last one.
    pub(crate) fn ancestors(&self) -> impl Iterator<Item = &[u8]> {
        self.parent()
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
    }
}

/// `path` followed by `/name` (or `name` at the root).
pub(crate) fn join(path: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + 1 + name.len());
    out.extend_from_slice(path);
    if !path.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

/// True if `path` is `dir` or lies beneath it.
pub(crate) fn is_within(path: &[u8], dir: &[u8]) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> Result<String, EntryProblem> {
        EntryPath::normalize(raw.as_bytes()).map(|p| String::from_utf8(p.bytes).unwrap())
    }

    #[test]
    fn paths_are_made_relative_and_clean() {
        assert_eq!(norm("etc/passwd").unwrap(), "etc/passwd");
        assert_eq!(norm("./etc//passwd").unwrap(), "etc/passwd");
        assert_eq!(norm("etc/").unwrap(), "etc");
        assert_eq!(norm("/etc/passwd").unwrap(), "etc/passwd");
        assert_eq!(norm("//abs/./x/").unwrap(), "abs/x");
        assert_eq!(norm("a/b/../c").unwrap(), "a/c");
        assert_eq!(norm("a/..").unwrap(), "");
        assert_eq!(norm("./").unwrap(), "");
        assert_eq!(norm("/").unwrap(), "");
    }

    #[test]
    fn climbing_out_is_refused() {
        for raw in [
            "..",
            "../x",
            "../../etc/passwd",
            "a/../../x",
            "/../x",
            "./a/b/../../../x",
        ] {
            assert_eq!(norm(raw), Err(EntryProblem::PathEscapes), "{raw}");
        }
        assert_eq!(norm("a\0b"), Err(EntryProblem::NulInPath));
    }

    #[test]
    fn parent_and_name() {
        let p = EntryPath::normalize(b"usr/lib/x.so").unwrap();
        assert_eq!((p.parent(), p.name()), (&b"usr/lib"[..], &b"x.so"[..]));
        assert_eq!(p.ancestors().collect::<Vec<_>>(), vec![&b"usr"[..], b"lib"]);
        let p = EntryPath::normalize(b"x").unwrap();
        assert_eq!((p.parent(), p.name()), (&b""[..], &b"x"[..]));
        assert_eq!(p.ancestors().count(), 0);
        let root = EntryPath::normalize(b"./").unwrap();
        assert!(root.is_root());
        assert_eq!((root.parent(), root.name()), (&b""[..], &b""[..]));
    }

    #[test]
    fn joining_and_containment() {
        assert_eq!(join(b"", b"a"), b"a");
        assert_eq!(join(b"a/b", b"c"), b"a/b/c");
        assert!(is_within(b"a/b", b"a"));
        assert!(is_within(b"a", b"a"));
        assert!(is_within(b"anything", b""));
        assert!(!is_within(b"ab", b"a"));
        assert!(!is_within(b"a", b"a/b"));
    }
}
