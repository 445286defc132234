//! One log entry as a line of JSON, byte for byte as Docker's json-file driver writes it, and
//! the timestamps in it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Stream;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `{"log":...,"stream":...,"time":...}\n` to `out`.
pub(crate) fn encode_entry(out: &mut Vec<u8>, log: &[u8], stream: Stream, time: &str) {
    out.extend_from_slice(b"{\"log\":");
    encode_string(out, log);
    out.extend_from_slice(b",\"stream\":\"");
    out.extend_from_slice(stream.as_str().as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// A JSON string as Docker's encoder makes it: HTML-sensitive and control characters as
/// `\u00XX` (only `\n`, `\r`, `\\` and `"` have short forms), U+2028/U+2029 escaped, and each
/// byte that is not valid UTF-8 as `\ufffd`.
fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut rest = s;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                encode_valid(out, valid);
                rest = &[];
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // valid_up_to vouches for this prefix, so the fallback is never taken.
                encode_valid(out, std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(after.len()).max(1);
                // Go replaces an invalid sequence one byte at a time.
                for _ in 0..bad.min(after.len()) {
                    out.extend_from_slice(b"\\ufffd");
                }
                rest = &after[bad.min(after.len())..];
            }
        }
    }
    out.push(b'"');
}

fn encode_valid(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escaped: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\u{2028}' => Some(b"\\u2028"),
            '\u{2029}' => Some(b"\\u2029"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match escaped {
            Some(text) => out.extend_from_slice(text),
            None => {
                let b = c as u8;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
            }
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&bytes[start..]);
}

/// RFC 3339 in UTC with exactly nine fractional digits, as Docker writes log times.
pub(crate) fn format_time(time: SystemTime) -> String {
    humantime::format_rfc3339_nanos(time).to_string()
}

/// Seconds and nanoseconds since the epoch of a log time.
pub(crate) fn parse_time(text: &str) -> Option<(i64, u32)> {
    let time = humantime::parse_rfc3339(text).ok()?;
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    Some((i64::try_from(since.as_secs()).ok()?, since.subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(log: &[u8]) -> String {
        let mut out = Vec::new();
        encode_entry(
            &mut out,
            log,
            Stream::Stdout,
            "2026-11-28T05:00:00.123456789Z",
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn entries_are_dockers_bytes() {
        assert_eq!(
            line(b"hello\n"),
            "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-28T05:00:00.123456789Z\"}\n"
        );
    }

    #[test]
    fn strings_are_escaped_as_go_escapes_them() {
        let out = line(b"<a href=\"x\">&\t\\\r\x1b\xff\xfe\xe2\x80\xa8caf\xc3\xa9\n");
        assert!(
            out.contains(
                r#""log":"\u003ca href=\"x\"\u003e\u0026\u0009\\\r\u001b\ufffd\ufffd\u2028café\n""#
            ),
            "{out}"
        );
        // What we write, serde reads back (with the invalid bytes replaced).
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            value["log"],
            "<a href=\"x\">&\t\\\r\x1b\u{fffd}\u{fffd}\u{2028}café\n"
        );
    }

    #[test]
    fn a_truncated_sequence_at_the_end_is_replaced_bytewise() {
        assert!(line(b"ab\xe2\x80").contains(r#""log":"ab\ufffd\ufffd""#));
    }

    #[test]
    fn times_have_nine_digits_and_parse_back() {
        let t = UNIX_EPOCH + Duration::new(1_800_000_000, 5_000);
        let text = format_time(t);
        assert_eq!(text, "2027-01-15T08:00:00.000005000Z");
        assert_eq!(parse_time(&text), Some((1_800_000_000, 5_000)));
        assert_eq!(parse_time("yesterday"), None);
    }
}
