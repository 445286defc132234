//! Detach keys (`--detach-keys`, default ctrl-p ctrl-q): parsing Docker's notation and
//! spotting the sequence in what is typed.

/// Docker's default: ctrl-p, ctrl-q.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// Parses `ctrl-p,ctrl-q`, `a,ctrl-\`... into bytes, as Docker's `term.ToBytes`.
pub fn parse_detach_keys(keys: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    for key in keys.split(',') {
        let key = key.trim();
        if let Some(name) = key.strip_prefix("ctrl-") {
            let mut chars = name.chars();
            let byte = match (chars.next(), chars.next()) {
                (Some(c), None) => ctrl_byte(c),
                _ => None,
            };
            bytes.push(byte.ok_or_else(|| format!("Unknown character: '{key}'"))?);
        } else {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii() => bytes.push(c as u8),
                _ => return Err(format!("Unknown character: '{key}'")),
            }
        }
    }
    Ok(bytes)
}

fn ctrl_byte(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(c as u8 - b'a' + 1),
        '@' => Some(0),
        '[' => Some(27),
        '\\' => Some(28),
        ']' => Some(29),
        '^' => Some(30),
        '_' => Some(31),
        _ => None,
    }
}

/// What to do with a piece of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// Send these bytes (possibly held-back keys followed by the new ones; possibly none).
    Send(Vec<u8>),
    /// The whole sequence was typed: detach.
    Detach,
}

/// Docker's escape proxy: keys are matched only when they arrive one per read (typed, not
/// pasted or piped), so that data that happens to hold the sequence passes through. Keys
/// that start the sequence are held back until it completes or breaks off.
#[derive(Debug)]
pub struct DetachMatcher {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachMatcher {
    pub fn new(keys: Vec<u8>) -> Self {
        Self { keys, matched: 0 }
    }

    /// Feeds the bytes of one read.
    pub fn feed(&mut self, read: &[u8]) -> Input {
        if self.keys.is_empty() {
            return Input::Send(read.to_vec());
        }
        let held = |matcher: &mut Self| {
            let out = matcher.keys[..matcher.matched].to_vec();
            matcher.matched = 0;
            out
        };
        if read.len() != 1 || read[0] != self.keys[self.matched] {
            let mut out = held(self);
            out.extend_from_slice(read);
            return Input::Send(out);
        }
        if self.matched == self.keys.len() - 1 {
            self.matched = 0;
            return Input::Detach;
        }
        self.matched += 1;
        Input::Send(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockers_notation() {
        assert_eq!(parse_detach_keys(DEFAULT_DETACH_KEYS).unwrap(), [16, 17]);
        assert_eq!(
            parse_detach_keys("a,ctrl-\\,ctrl-@").unwrap(),
            [b'a', 28, 0]
        );
        assert_eq!(
            parse_detach_keys("ctrl-1").unwrap_err(),
            "Unknown character: 'ctrl-1'"
        );
        assert!(parse_detach_keys("ab").is_err());
    }

    #[test]
    fn typed_sequence_detaches() {
        let mut matcher = DetachMatcher::new(vec![16, 17]);
        assert_eq!(matcher.feed(b"l"), Input::Send(b"l".to_vec()));
        assert_eq!(matcher.feed(&[16]), Input::Send(vec![]));
        assert_eq!(matcher.feed(&[17]), Input::Detach);
    }

    #[test]
    fn broken_sequence_gives_the_keys_back() {
        let mut matcher = DetachMatcher::new(vec![16, 17]);
        assert_eq!(matcher.feed(&[16]), Input::Send(vec![]));
        assert_eq!(matcher.feed(b"x"), Input::Send(vec![16, b'x']));
        assert_eq!(matcher.feed(&[16, 17]), Input::Send(vec![16, 17]));
    }
}
