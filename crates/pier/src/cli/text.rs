//! Small pieces of Docker's CLI text: short ids, truncation with `…`, Go's quoting, image
//! names in their familiar form, and writing to stdout without dying on a closed pipe.

use std::io::Write;

/// Docker's short id: the first 12 hex digits, without any `sha256:`.
pub fn short_id(id: &str) -> &str {
    let id = id.split_once(':').map_or(id, |(_, hex)| hex);
    match id.char_indices().nth(12) {
        Some((at, _)) => &id[..at],
        None => id,
    }
}

/// Docker's `Ellipsis`: at most `max` characters, the last of them `…` when cut.
pub fn ellipsis(text: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Go's `strconv.Quote`: double quotes, with `"`, `\` and unprintable characters escaped.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An image reference as Docker shows it: without `docker.io/library/` or `docker.io/`.
pub fn familiar_name(reference: &str) -> &str {
    for prefix in [
        "docker.io/library/",
        "index.docker.io/library/",
        "docker.io/",
        "index.docker.io/",
    ] {
        if let Some(rest) = reference.strip_prefix(prefix) {
            return rest;
        }
    }
    reference
}

/// Splits `name[:tag][@digest]` into its name, tag and digest (a `:` in the registry's
/// port is not a tag).
pub fn split_reference(reference: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |at| at + 1);
    match rest[last_slash..].rfind(':') {
        Some(colon) => {
            let at = last_slash + colon;
            (&rest[..at], Some(&rest[at + 1..]), digest)
        }
        None => (rest, None, digest),
    }
}

/// `busybox` → `busybox:latest`, as Docker names an image it looks for
/// (`Unable to find image 'busybox:latest' locally`).
pub fn with_default_tag(reference: &str) -> String {
    let familiar = familiar_name(reference);
    match split_reference(familiar) {
        (_, Some(_), _) | (_, _, Some(_)) => familiar.to_owned(),
        (name, None, None) => format!("{name}:latest"),
    }
}

/// An I/O error as Go words it: `open /x: no such file or directory`.
pub fn go_io_error(op: &str, path: &str, error: &std::io::Error) -> String {
    let reason = match error.raw_os_error() {
        Some(code) => {
            let text = nix::errno::Errno::from_raw(code).desc();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        }
        None => error.to_string(),
    };
    format!("{op} {path}: {reason}")
}

/// Writes a line to stdout; a closed stdout is not an error worth dying of.
pub fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Writes text as it is to stdout.
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes a line to stderr.
pub fn print_err(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_ellipsis() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(ellipsis("sleep 1000", 20), "sleep 1000");
        assert_eq!(
            ellipsis("/bin/sh -c 'while true; do sleep 1; done'", 20),
            "/bin/sh -c 'while t…"
        );
        assert_eq!(ellipsis("abc", 0), "");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("sh"), "\"sh\"");
        assert_eq!(go_quote("echo \"hi\"\n"), "\"echo \\\"hi\\\"\\n\"");
        assert_eq!(go_quote("a\u{1b}b…"), "\"a\\x1bb…\"");
    }

    #[test]
    fn references() {
        assert_eq!(familiar_name("docker.io/library/busybox:1"), "busybox:1");
        assert_eq!(
            split_reference("localhost:5000/a/b:1@sha256:00"),
            ("localhost:5000/a/b", Some("1"), Some("sha256:00"))
        );
        assert_eq!(
            split_reference("localhost:5000/a"),
            ("localhost:5000/a", None, None)
        );
        assert_eq!(with_default_tag("busybox"), "busybox:latest");
        assert_eq!(
            with_default_tag("docker.io/library/busybox:1.36"),
            "busybox:1.36"
        );
        assert_eq!(
            with_default_tag("localhost:5000/x"),
            "localhost:5000/x:latest"
        );
    }
}
