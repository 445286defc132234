//! Docker image references: `[registry[:port]/]path[:tag][@digest]`, parsed and normalized
//! as the docker CLI does it (distribution/reference's `ParseNormalizedNamed`).
//!
//! Normalization: a name without a registry is on `docker.io`; a single path component on
//! `docker.io` is an official image, `library/<name>`; `index.docker.io` is `docker.io`.
//! The first component is a registry only if it contains `.` or `:`, is `localhost`, or has
//! an uppercase letter (a path component never has one). Errors carry Docker's words
//! (`invalid reference format`, `invalid reference format: repository name (library/Busybox)
//! must be lowercase`, ...), so that the CLI can print them as they are.
//!
//! The familiar forms (`busybox:latest`, `myreg:5000/app`) are what `docker images` and
//! `docker ps` show. A 64-hex string is refused here, as Docker refuses it as a name: image
//! ids and their prefixes are the engine's business, to be tried before parsing a reference.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::Digest;

/// The registry of names that carry none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The old name of Docker Hub's registry, normalized to [`DEFAULT_REGISTRY`].
const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
const OFFICIAL_PREFIX: &str = "library/";
/// The tag that a reference naming neither tag nor digest means when pulling or tagging.
pub const DEFAULT_TAG: &str = "latest";
/// Longest `registry/path` that Docker accepts.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Longest tag: one leading word character and 127 more.
const TAG_LENGTH_MAX: usize = 128;

/// A normalized image reference: a registry, a repository path in it, and optionally a tag
/// and a digest. Ordered and hashed by `(registry, repository, tag, digest)`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not a reference. `Display` is Docker's message; the input is kept for
/// callers that want to say more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The string does not follow the grammar.
    #[error("invalid reference format")]
    InvalidFormat { input: String },
    /// The repository part has uppercase letters (Docker names the normalized repository).
    #[error("invalid reference format: repository name ({repository}) must be lowercase")]
    Uppercase { input: String, repository: String },
    /// `registry/path` is longer than [`NAME_TOTAL_LENGTH_MAX`].
    #[error("repository name must not be more than 255 characters")]
    NameTooLong { input: String },
    /// A bare 64-hex string, which Docker takes for an image id, never for a name.
    #[error("invalid repository name ({input}), cannot specify 64-byte hexadecimal strings")]
    HexName { input: String },
    /// The digest is well formed but not a valid sha256 digest (`reason` is go-digest's).
    #[error("{reason}")]
    InvalidDigest { input: String, reason: &'static str },
    /// A tag given on its own (to [`Reference::with_tag`]) is not a valid tag.
    #[error("invalid tag format")]
    InvalidTag { input: String },
}

impl ReferenceError {
    /// The string that failed to parse.
    pub fn input(&self) -> &str {
        match self {
            ReferenceError::InvalidFormat { input }
            | ReferenceError::Uppercase { input, .. }
            | ReferenceError::NameTooLong { input }
            | ReferenceError::HexName { input }
            | ReferenceError::InvalidDigest { input, .. }
            | ReferenceError::InvalidTag { input } => input,
        }
    }
}

impl Reference {
    /// Parses and normalizes `s` as the docker CLI does. No default tag is added: see
    /// [`Reference::with_default_tag`].
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ReferenceError::HexName {
                input: s.to_owned(),
            });
        }
        let (registry, remainder) = split_docker_domain(s);
        // Docker checks the case of everything before the first ':' of the remainder (so a
        // digest's algorithm is included); its message names that text.
        let remote = remainder.split(':').next().unwrap_or_default();
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::Uppercase {
                input: s.to_owned(),
                repository: remote.to_owned(),
            });
        }
        let full = format!("{registry}/{remainder}");
        // Past the case check above, uppercase letters can only be where they are allowed
        // (registry, tag, digest), so Docker's "must be lowercase" fallback cannot happen.
        let parts = split_reference(&full).ok_or_else(|| ReferenceError::InvalidFormat {
            input: s.to_owned(),
        })?;
        if parts.registry.len() + 1 + parts.path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong {
                input: s.to_owned(),
            });
        }
        let digest = match parts.digest {
            Some(d) => Some(
                parse_digest(d).map_err(|reason| ReferenceError::InvalidDigest {
                    input: s.to_owned(),
                    reason,
                })?,
            ),
            None => None,
        };
        Ok(Reference {
            registry: parts.registry.to_owned(),
            repository: parts.path.to_owned(),
            tag: parts.tag.map(str::to_owned),
            digest,
        })
    }

    /// The registry host (and port), e.g. `docker.io`, `localhost:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path in the registry, e.g. `library/busybox`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// Neither a tag nor a digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// Adds the tag `latest` if the reference has neither tag nor digest (Docker's
    /// `TagNameOnly`), as pull, push, tag and run do.
    pub fn with_default_tag(mut self) -> Reference {
        if self.is_name_only() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }

    /// The same repository with `tag` (and no digest), as `docker tag` makes it.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !is_tag(tag) {
            return Err(ReferenceError::InvalidTag {
                input: tag.to_owned(),
            });
        }
        Ok(Reference {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.name_only()
        })
    }

    /// The same repository pinned to `digest` (and no tag), as a repo digest is recorded.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.name_only()
        }
    }

    /// The repository alone, without tag or digest.
    pub fn name_only(&self) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: None,
        }
    }

    /// `registry/repository`, e.g. `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The name as `docker images` shows it: `busybox`, `user/app`, `myreg:5000/app`.
    ///
    /// Unlike Docker, a Docker Hub path whose first component would read as a registry
    /// (`docker.io/a.b/c`) keeps its `docker.io/`, so that the familiar form always parses
    /// back to the same reference.
    pub fn familiar_name(&self) -> String {
        if self.registry != DEFAULT_REGISTRY {
            return self.name();
        }
        match self.repository.strip_prefix(OFFICIAL_PREFIX) {
            Some(official) if !official.contains('/') => return official.to_owned(),
            _ => {}
        }
        match self.repository.split_once('/') {
            Some((first, _)) if looks_like_registry(first) => self.name(),
            _ => self.repository.clone(),
        }
    }

    /// The reference as Docker shows it: `busybox:latest`, `busybox@sha256:...`.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        self.push_tag_and_digest(&mut s);
        s
    }

    fn push_tag_and_digest(&self, s: &mut String) {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(&digest.to_string());
        }
    }
}

/// The full form: `docker.io/library/busybox:latest`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_tag_and_digest(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Reference, ReferenceError> {
        Reference::parse(s)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Reference, D::Error> {
        let s = String::deserialize(d)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Docker's `splitDockerDomain`: the registry and the rest of `name`.
fn split_docker_domain(name: &str) -> (&str, String) {
    let (registry, remainder) = match name.split_once('/') {
        None => (DEFAULT_REGISTRY, name),
        Some((first, rest)) if first == LEGACY_DEFAULT_REGISTRY => (DEFAULT_REGISTRY, rest),
        Some((first, rest)) if looks_like_registry(first) || first.to_lowercase() != first => {
            (first, rest)
        }
        Some(_) => (DEFAULT_REGISTRY, name),
    };
    if registry == DEFAULT_REGISTRY && !remainder.contains('/') {
        (registry, format!("{OFFICIAL_PREFIX}{remainder}"))
    } else {
        (registry, remainder.to_owned())
    }
}

fn looks_like_registry(component: &str) -> bool {
    component == "localhost" || component.contains(['.', ':'])
}

/// The parts of `registry/path[:tag][@digest]` once the grammar is checked.
struct Parts<'a> {
    registry: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Checks the grammar of a reference whose registry is explicit (the normalized form).
fn split_reference(s: &str) -> Option<Parts<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest_syntax(d)) {
        return None;
    }
    // The path has no ':', so a ':' after the last '/' starts the tag.
    let last_slash = rest.rfind('/')?;
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    let (registry, path) = name.split_once('/')?;
    if !is_domain(registry) || !path.split('/').all(is_path_component) {
        return None;
    }
    Some(Parts {
        registry,
        path,
        tag,
        digest,
    })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `host[:port]` with host a DNS-like name (`[a-zA-Z0-9]` at both ends of each dotted
/// component, `-` inside) or a bracketed IPv6 address.
fn is_domain(d: &str) -> bool {
    let (host, port) = if let Some(v6) = d.strip_prefix('[') {
        let Some(end) = v6.find(']') else {
            return false;
        };
        let addr = &v6[..end];
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match &v6[end + 1..] {
            "" => return true,
            rest => match rest.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (d, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    d.starts_with('[') || host.split('.').all(is_domain_component)
}

fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        }
        _ => false,
    }
}

/// `[\w][\w.-]{0,127}`
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_LENGTH_MAX
        && word(b[0])
        && b[1..].iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest_syntax(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    algorithm_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's validation of a syntactically valid digest, with its messages.
fn parse_digest(d: &str) -> Result<Digest, &'static str> {
    match d.split_once(':') {
        Some(("sha256", hex)) if hex.len() != 64 => Err("invalid checksum digest length"),
        Some(("sha256", hex)) => {
            Digest::from_hex(hex).map_err(|_| "invalid checksum digest format")
        }
        _ => Err("unsupported digest algorithm"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";

    fn ok(input: &str) -> Reference {
        Reference::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    fn err(input: &str) -> String {
        match Reference::parse(input) {
            Ok(r) => panic!("{input:?} parsed as {r}"),
            Err(e) => {
                assert_eq!(e.input(), input);
                e.to_string()
            }
        }
    }

    #[test]
    fn valid_references_normalize_as_docker_does() {
        let d = format!("sha256:{HEX}");
        // input, full form, familiar form, familiar name
        let table: Vec<(String, String, String, &str)> = vec![
            (
                "busybox".into(),
                "docker.io/library/busybox".into(),
                "busybox".into(),
                "busybox",
            ),
            (
                "busybox:1.36".into(),
                "docker.io/library/busybox:1.36".into(),
                "busybox:1.36".into(),
                "busybox",
            ),
            (
                "library/busybox".into(),
                "docker.io/library/busybox".into(),
                "busybox".into(),
                "busybox",
            ),
            (
                "docker.io/busybox".into(),
                "docker.io/library/busybox".into(),
                "busybox".into(),
                "busybox",
            ),
            (
                "index.docker.io/library/busybox:latest".into(),
                "docker.io/library/busybox:latest".into(),
                "busybox:latest".into(),
                "busybox",
            ),
            (
                "user/app".into(),
                "docker.io/user/app".into(),
                "user/app".into(),
                "user/app",
            ),
            (
                "library/a/b".into(),
                "docker.io/library/a/b".into(),
                "library/a/b".into(),
                "library/a/b",
            ),
            (
                "localhost:5000/a/b:tag".into(),
                "localhost:5000/a/b:tag".into(),
                "localhost:5000/a/b:tag".into(),
                "localhost:5000/a/b",
            ),
            (
                "localhost/app".into(),
                "localhost/app".into(),
                "localhost/app".into(),
                "localhost/app",
            ),
            (
                "myreg.example.com/team/app:v1.2_3-rc".into(),
                "myreg.example.com/team/app:v1.2_3-rc".into(),
                "myreg.example.com/team/app:v1.2_3-rc".into(),
                "myreg.example.com/team/app",
            ),
            (
                "[::1]:5000/app".into(),
                "[::1]:5000/app".into(),
                "[::1]:5000/app".into(),
                "[::1]:5000/app",
            ),
            (
                "Registry.Example/app".into(),
                "Registry.Example/app".into(),
                "Registry.Example/app".into(),
                "Registry.Example/app",
            ),
            // An uppercase first component is a registry, as in Docker.
            (
                "Foo/bar".into(),
                "Foo/bar".into(),
                "Foo/bar".into(),
                "Foo/bar",
            ),
            (
                format!("a@{d}"),
                format!("docker.io/library/a@{d}"),
                format!("a@{d}"),
                "a",
            ),
            (
                format!("a:tag@{d}"),
                format!("docker.io/library/a:tag@{d}"),
                format!("a:tag@{d}"),
                "a",
            ),
            (
                format!("localhost:5000/a@{d}"),
                format!("localhost:5000/a@{d}"),
                format!("localhost:5000/a@{d}"),
                "localhost:5000/a",
            ),
            (
                "a_b__c-d---e/f.g:TAG".into(),
                "docker.io/a_b__c-d---e/f.g:TAG".into(),
                "a_b__c-d---e/f.g:TAG".into(),
                "a_b__c-d---e/f.g",
            ),
            // A first component with a '.' is a registry, and '_' is not allowed in one.
            (
                "docker.io/a.b/c".into(),
                "docker.io/a.b/c".into(),
                "docker.io/a.b/c".into(),
                "docker.io/a.b/c",
            ),
            // A tag that looks like a port: no '/', so it is a tag.
            (
                "localhost:5000".into(),
                "docker.io/library/localhost:5000".into(),
                "localhost:5000".into(),
                "localhost",
            ),
        ];
        for (input, full, familiar, familiar_name) in table {
            let r = ok(&input);
            assert_eq!(r.to_string(), full, "{input}");
            assert_eq!(r.familiar(), familiar, "{input}");
            assert_eq!(r.familiar_name(), familiar_name, "{input}");
        }
    }

    #[test]
    fn accessors_and_default_tag() {
        let r = ok("localhost:5000/a/b");
        assert_eq!(r.registry(), "localhost:5000");
        assert_eq!(r.repository(), "a/b");
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest(), None);
        assert_eq!(r.name(), "localhost:5000/a/b");
        assert!(r.is_name_only());
        let tagged = r.clone().with_default_tag();
        assert_eq!(tagged.tag(), Some("latest"));
        assert_eq!(tagged.familiar(), "localhost:5000/a/b:latest");

        let d: Digest = format!("sha256:{HEX}").parse().unwrap();
        let pinned = ok(&format!("busybox@{d}"));
        assert_eq!(pinned.digest(), Some(&d));
        assert_eq!(
            pinned.clone().with_default_tag(),
            pinned,
            "a digest needs no tag"
        );
        let both = ok(&format!("busybox:1@{d}"));
        assert_eq!((both.tag(), both.digest()), (Some("1"), Some(&d)));

        assert_eq!(
            both.with_tag("2").unwrap().to_string(),
            "docker.io/library/busybox:2"
        );
        assert_eq!(
            both.with_tag("-x").unwrap_err().to_string(),
            "invalid tag format"
        );
        assert_eq!(
            ok("busybox:1").with_digest(d.clone()).familiar(),
            format!("busybox@{d}")
        );
        assert_eq!(both.name_only().to_string(), "docker.io/library/busybox");
    }

    #[test]
    fn invalid_references_fail_with_dockers_words() {
        let long_component = "a".repeat(NAME_TOTAL_LENGTH_MAX);
        let table: Vec<(String, &str)> = vec![
            ("".into(), "invalid reference format"),
            ("a//b".into(), "invalid reference format"),
            ("-a".into(), "invalid reference format"),
            ("a-".into(), "invalid reference format"),
            ("a:".into(), "invalid reference format"),
            (":tag".into(), "invalid reference format"),
            ("a:-tag".into(), "invalid reference format"),
            (format!("a:{}", "t".repeat(129)), "invalid reference format"),
            ("a/".into(), "invalid reference format"),
            ("/a".into(), "invalid reference format"),
            ("a b".into(), "invalid reference format"),
            ("a@".into(), "invalid reference format"),
            ("a@sha256:abc".into(), "invalid reference format"),
            ("a@sha256".into(), "invalid reference format"),
            ("a..b".into(), "invalid reference format"),
            ("a___b".into(), "invalid reference format"),
            ("a_.b".into(), "invalid reference format"),
            ("a_b.c/d".into(), "invalid reference format"),
            ("localhost:port/a".into(), "invalid reference format"),
            ("-reg.io/a".into(), "invalid reference format"),
            ("reg.io/a:b/c".into(), "invalid reference format"),
            ("a/b:c/d".into(), "invalid reference format"),
            (
                "UPPER".into(),
                "invalid reference format: repository name (library/UPPER) must be lowercase",
            ),
            (
                "library/Busybox:latest".into(),
                "invalid reference format: repository name (library/Busybox) must be lowercase",
            ),
            (
                "localhost:5000/App".into(),
                "invalid reference format: repository name (App) must be lowercase",
            ),
            (
                format!("a@SHA256:{HEX}"),
                "invalid reference format: repository name (library/a@SHA256) must be lowercase",
            ),
            (
                HEX.into(),
                "invalid repository name (7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa), cannot specify 64-byte hexadecimal strings",
            ),
            (
                format!("a@sha256:{}", &HEX[..63]),
                "invalid checksum digest length",
            ),
            (
                format!("a@sha256:{}", HEX.to_uppercase()),
                "invalid checksum digest format",
            ),
            (
                format!("a@sha512:{HEX}{HEX}"),
                "unsupported digest algorithm",
            ),
            (
                long_component.clone(),
                "repository name must not be more than 255 characters",
            ),
            (
                format!("reg.io/{}", "a".repeat(249)),
                "repository name must not be more than 255 characters",
            ),
        ];
        for (input, message) in table {
            assert_eq!(err(&input), message, "{input:?}");
        }
    }

    #[test]
    fn length_limit_counts_registry_and_path() {
        // docker.io/library/ is 18 characters: 237 more make 255.
        let longest = "a".repeat(NAME_TOTAL_LENGTH_MAX - 18);
        assert_eq!(ok(&longest).name().len(), NAME_TOTAL_LENGTH_MAX);
        let tag = "t".repeat(128);
        assert_eq!(ok(&format!("{longest}:{tag}")).tag(), Some(tag.as_str()));
        assert_eq!(
            err(&format!("{longest}a")),
            "repository name must not be more than 255 characters"
        );
    }

    #[test]
    fn path_components_follow_the_grammar() {
        for good in [
            "a",
            "a0",
            "a.b",
            "a_b",
            "a__b",
            "a-b",
            "a---b",
            "a.b-c_d__e",
        ] {
            assert!(is_path_component(good), "{good}");
        }
        for bad in [
            "", "A", "a.", ".a", "a..b", "a___b", "a._b", "_a", "a-", "a:b",
        ] {
            assert!(!is_path_component(bad), "{bad}");
        }
        for good in ["a", "a.b", "a-b.c", "a:1", "[::1]", "[fe80::1]:5000", "A.B"] {
            assert!(is_domain(good), "{good}");
        }
        for bad in [
            "", "-a", "a-", "a..b", "a:", "a:b", "[]", "[::1", "[::1]x", "a_b",
        ] {
            assert!(!is_domain(bad), "{bad}");
        }
    }

    #[test]
    fn familiar_and_full_forms_parse_back_to_the_same_reference() {
        let d = format!("sha256:{HEX}");
        let inputs = [
            "busybox".to_owned(),
            "busybox:latest".to_owned(),
            "user/app:1".to_owned(),
            "library/a/b".to_owned(),
            "docker.io/a.b/c".to_owned(),
            "docker.io/localhost/c".to_owned(),
            "localhost/a".to_owned(),
            "localhost:5000/a/b:tag".to_owned(),
            "Foo/bar:x".to_owned(),
            "[::1]:5000/app".to_owned(),
            format!("a@{d}"),
            format!("a:tag@{d}"),
            format!("reg.io:443/x/y/z:t@{d}"),
        ];
        for input in inputs {
            let r = ok(&input);
            assert_eq!(ok(&r.familiar()), r, "familiar of {input}");
            assert_eq!(ok(&r.to_string()), r, "full form of {input}");
            assert_eq!(
                ok(&r.familiar_name()),
                r.name_only(),
                "familiar name of {input}"
            );
        }
        // Docker Hub paths that would read as registries keep their registry.
        assert_eq!(ok("docker.io/a.b/c").familiar(), "docker.io/a.b/c");
    }

    /// xorshift64*, so that the generated cases are the same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[test]
    fn generated_references_round_trip() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let registries = [
            "",
            "docker.io/",
            "index.docker.io/",
            "localhost/",
            "localhost:5000/",
            "reg.io/",
            "a-b.example.com:443/",
            "[::1]:5000/",
            "Foo/",
        ];
        let components = [
            "a",
            "library",
            "b0",
            "x.y",
            "x_y",
            "x__y",
            "x--y",
            "localhost",
            "9",
        ];
        let tags = ["", ":latest", ":1.0", ":V_1-rc.2", ":_x"];
        let digests = [
            "",
            "@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
        ];
        for _ in 0..5000 {
            let mut input = rng.pick(&registries).to_owned();
            let depth = 1 + rng.next() % 3;
            let path: Vec<&str> = (0..depth).map(|_| rng.pick(&components)).collect();
            let (tag, digest) = (rng.pick(&tags), rng.pick(&digests));
            input.push_str(&path.join("/"));
            input.push_str(tag);
            input.push_str(digest);
            let r = ok(&input);
            assert_eq!(r.tag(), tag.strip_prefix(':'), "{input}");
            assert_eq!(r.digest().is_some(), !digest.is_empty(), "{input}");
            assert!(r.repository().ends_with(&path[path.len() - 1]), "{input}");
            assert_eq!(ok(&r.to_string()), r, "full form of {input}");
            assert_eq!(ok(&r.familiar()), r, "familiar form of {input}");
            assert_eq!(
                ok(&r.familiar_name()),
                r.name_only(),
                "familiar name of {input}"
            );
            assert_eq!(ok(&r.name()), r.name_only(), "name of {input}");
        }
    }

    #[test]
    fn arbitrary_strings_never_panic_and_valid_ones_round_trip() {
        let mut rng = Rng(42);
        let alphabet = [
            "a",
            "b",
            "Z",
            "0",
            "9",
            ".",
            "_",
            "-",
            ":",
            "/",
            "@",
            "sha256:",
            "localhost",
            "é",
            "[",
            "]",
            " ",
        ];
        for _ in 0..20_000 {
            let len = rng.next() % 12;
            let input: String = (0..len).map(|_| rng.pick(&alphabet)).collect();
            if let Ok(r) = Reference::parse(&input) {
                assert_eq!(ok(&r.familiar()), r, "{input}");
            }
        }
    }

    #[test]
    fn serde_ordering_and_hashing() {
        let r = ok("busybox:1");
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"docker.io/library/busybox:1\"");
        assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
        assert_eq!(
            serde_json::from_str::<Reference>("\"busybox:1\"").unwrap(),
            r
        );
        let e = serde_json::from_str::<Reference>("\"a//b\"").unwrap_err();
        assert!(e.to_string().contains("invalid reference format"), "{e}");
        assert_eq!("busybox:1".parse::<Reference>().unwrap(), r);

        let mut refs = [ok("b"), ok("a:2"), ok("a:1"), ok("a"), ok("localhost/z")];
        refs.sort();
        let sorted: Vec<String> = refs.iter().map(Reference::familiar).collect();
        assert_eq!(sorted, ["a", "a:1", "a:2", "b", "localhost/z"]);
        let set: std::collections::HashSet<Reference> = [
            "busybox",
            "docker.io/library/busybox",
            "index.docker.io/busybox",
        ]
        .iter()
        .map(|s| ok(s))
        .collect();
        assert_eq!(set.len(), 1);
    }
}
