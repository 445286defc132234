//! Go's `path.Match`, which Docker's `reference` filter uses: `*` is any run of characters
//! other than `/`, `?` one such character, `[a-z]`/`[^a-z]` a class, `\` an escape.

/// The pattern is malformed (Go's `path.ErrBadPattern`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

/// Whether `name` matches the whole of `pattern`.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    check(&pattern)?;
    Ok(match_from(&pattern, &name))
}

/// Refuses malformed patterns whether or not they would match (as Go does since 1.16).
fn check(pattern: &[char]) -> Result<(), BadPattern> {
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            '\\' => {
                if i + 1 >= pattern.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            '[' => i += class(pattern, i, None)?.1,
            _ => i += 1,
        }
    }
    Ok(())
}

fn match_from(pattern: &[char], name: &[char]) -> bool {
    let Some(&first) = pattern.first() else {
        return name.is_empty();
    };
    match first {
        '*' => {
            let rest = &pattern[1..];
            for split in 0..=name.len() {
                if split > 0 && name[split - 1] == '/' {
                    break;
                }
                if match_from(rest, &name[split..]) {
                    return true;
                }
            }
            false
        }
        '?' => !name.is_empty() && name[0] != '/' && match_from(&pattern[1..], &name[1..]),
        '[' => match name.first() {
            Some(&c) => match class(pattern, 0, Some(c)) {
                Ok((true, used)) => match_from(&pattern[used..], &name[1..]),
                _ => false,
            },
            None => false,
        },
        '\\' => {
            pattern.len() > 1
                && name.first() == Some(&pattern[1])
                && match_from(&pattern[2..], &name[1..])
        }
        literal => name.first() == Some(&literal) && match_from(&pattern[1..], &name[1..]),
    }
}

/// Reads the class that starts at `pattern[start]` (`[`): whether `c` is in it (false when
/// no character is given) and how many pattern characters it spans.
fn class(pattern: &[char], start: usize, c: Option<char>) -> Result<(bool, usize), BadPattern> {
    let mut i = start + 1;
    let negated = pattern.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut ranges = 0;
    loop {
        let Some(&next) = pattern.get(i) else {
            return Err(BadPattern);
        };
        if next == ']' && ranges > 0 {
            i += 1;
            break;
        }
        let (low, after) = class_char(pattern, i)?;
        let mut high = low;
        i = after;
        if pattern.get(i) == Some(&'-') {
            let (h, after) = class_char(pattern, i + 1)?;
            high = h;
            i = after;
        }
        if c.is_some_and(|c| low <= c && c <= high) {
            matched = true;
        }
        ranges += 1;
    }
    Ok((c.is_some() && matched != negated, i - start))
}

fn class_char(pattern: &[char], i: usize) -> Result<(char, usize), BadPattern> {
    match pattern.get(i) {
        None | Some('-') | Some(']') => Err(BadPattern),
        Some('\\') => pattern.get(i + 1).map(|&c| (c, i + 2)).ok_or(BadPattern),
        Some(&c) => Ok((c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_stop_at_slashes() {
        assert!(path_match("busy*:lat*", "busybox:latest").unwrap());
        assert!(path_match("*", "busybox").unwrap());
        assert!(!path_match("*", "library/busybox").unwrap());
        assert!(path_match("*/*", "library/busybox").unwrap());
        assert!(path_match("busybox", "busybox").unwrap());
        assert!(!path_match("busybox", "busybox:latest").unwrap());
        assert!(path_match("*box*", "busybox:1.36").unwrap());
        assert!(path_match("", "").unwrap());
    }

    #[test]
    fn single_characters_classes_and_escapes() {
        assert!(path_match("b?sybox", "busybox").unwrap());
        assert!(!path_match("a?b", "a/b").unwrap());
        assert!(path_match("[a-c]at", "bat").unwrap());
        assert!(!path_match("[^a-c]at", "bat").unwrap());
        assert!(path_match("[^a-c]at", "rat").unwrap());
        assert!(path_match("a\\*b", "a*b").unwrap());
        assert!(!path_match("a\\*b", "axb").unwrap());
        assert!(path_match("[\\]]", "]").unwrap());
    }

    #[test]
    fn malformed_patterns_are_errors() {
        for bad in ["[", "[a-", "[]", "a\\", "[z-]", "x[^]"] {
            assert_eq!(path_match(bad, "x"), Err(BadPattern), "{bad}");
        }
    }
}
