//! JSON re-spaced without being re-read into maps, so that keys keep the daemon's order:
//! Go's `json.Compact` (seccomp profiles sent inline) and `json.Indent` (`inspect`).

use serde::de::IgnoredAny;

/// Removes the whitespace outside strings; an error if the text is not JSON.
pub fn compact(text: &[u8]) -> Result<String, String> {
    serde_json::from_slice::<IgnoredAny>(text).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            out.push(byte);
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                out.push(byte);
            }
            _ => out.push(byte),
        }
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Indents JSON as Go's `json.Indent(dst, src, "", indent)`: one element per line, `": "`
/// after keys, and empty objects and arrays kept as `{}` and `[]`.
pub fn indent(text: &str, unit: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // An opening bracket whose newline waits until we know the container is not empty.
    let mut pending_open = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(unit);
        }
    };
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
                out.push_str(&text[start..=at]);
            }
            continue;
        }
        if matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        }
        if pending_open {
            pending_open = false;
            if byte != b']' && byte != b'}' {
                depth += 1;
                newline(&mut out, depth);
            } else {
                out.push(byte as char);
                continue;
            }
        }
        match byte {
            b'"' => {
                in_string = true;
                start = at;
            }
            b'{' | b'[' => {
                out.push(byte as char);
                pending_open = true;
            }
            b',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            b':' => out.push_str(": "),
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(byte as char);
            }
            _ => {
                // Numbers, true, false, null: copied a character at a time.
                out.push(byte as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_keeping_order_and_strings() {
        assert_eq!(
            compact(b"{ \"z\": 1,\n \"a\": [ \"x y\", \"q\\\" \" ] }").unwrap(),
            "{\"z\":1,\"a\":[\"x y\",\"q\\\" \"]}"
        );
        assert!(compact(b"{nope").is_err());
    }

    #[test]
    fn indents_like_go() {
        let text = r#"[{"Id":"abc","Args":[],"State":{"Running":true,"Pid":42},"Labels":{},"Name":"a, b: {c}"}]"#;
        assert_eq!(
            indent(text, "    "),
            "[\n    {\n        \"Id\": \"abc\",\n        \"Args\": [],\n        \"State\": {\n            \"Running\": true,\n            \"Pid\": 42\n        },\n        \"Labels\": {},\n        \"Name\": \"a, b: {c}\"\n    }\n]"
        );
        assert_eq!(indent("[]", "    "), "[]");
        assert_eq!(indent("null", "    "), "null");
    }
}
