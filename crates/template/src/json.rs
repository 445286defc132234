//! JSON as Docker's `json` template function writes it: Go's `encoding/json` with HTML
//! escaping off. It differs from serde_json's output in its numbers (`100` for 100.0,
//! `1e-7`, `1e+21`) and in escaping U+2028 and U+2029.

use std::fmt::Write as _;

use serde_json::Value;

use crate::float::format_float;
use crate::value::Val;

pub(crate) fn encode(value: &Val<'_>) -> String {
    let mut out = String::new();
    match value {
        Val::Invalid => out.push_str("null"),
        Val::Iface(value) => encode_value(&mut out, value),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Uint(u) => {
            let _ = write!(out, "{u}");
        }
        Val::Float(f) => encode_float(&mut out, *f),
        Val::Str(s) => encode_string(&mut out, s),
        Val::Array(items) => encode_array(&mut out, items.iter()),
        Val::Object(map) => {
            out.push('{');
            for (index, (key, value)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                encode_string(&mut out, key);
                out.push(':');
                encode_value(&mut out, value);
            }
            out.push('}');
        }
        Val::Strings(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                encode_string(&mut out, item);
            }
            out.push(']');
        }
    }
    out
}

fn encode_array<'a>(out: &mut String, items: impl Iterator<Item = &'a Value>) {
    out.push('[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(',');
        }
        encode_value(out, item);
    }
    out.push(']');
}

fn encode_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                encode_float(out, n.as_f64().unwrap_or_default());
            } else {
                let _ = write!(out, "{n}");
            }
        }
        Value::String(s) => encode_string(out, s),
        Value::Array(items) => encode_array(out, items.iter()),
        Value::Object(map) => {
            out.push('{');
            for (index, (key, value)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                encode_string(out, key);
                out.push(':');
                encode_value(out, value);
            }
            out.push('}');
        }
    }
}

/// Go writes floats plainly between 1e-6 and 1e21, else with an exponent (`1e-7`, `1e+21`).
fn encode_float(out: &mut String, value: f64) {
    if !value.is_finite() {
        // Go refuses to encode these at all; `null` keeps the output JSON.
        out.push_str("null");
        return;
    }
    let magnitude = value.abs();
    if value.is_sign_negative() && value != 0.0 {
        out.push('-');
    }
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        let text = format_float(magnitude, 'e', None);
        // Go shortens a one-digit negative exponent: e-07 -> e-7.
        match text.split_once("e-0") {
            Some((mantissa, digit)) if digit.len() == 1 => {
                let _ = write!(out, "{mantissa}e-{digit}");
            }
            _ => out.push_str(&text),
        }
        return;
    }
    out.push_str(&format_float(magnitude, 'f', None));
}

fn encode_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_as_go_does() {
        let data = json!({"A": "<&>\u{2028}\u{1}\"", "F": 1.5, "M": {"b": 1e-7, "a": 100.0}, "Z": null, "L": [1, 2.5e21, -0.5, true]});
        assert_eq!(
            encode(&Val::from_json(&data)),
            r#"{"A":"<&>\u2028\u0001\"","F":1.5,"L":[1,2.5e+21,-0.5,true],"M":{"a":100,"b":1e-7},"Z":null}"#
        );
        assert_eq!(encode(&Val::Invalid), "null");
        assert_eq!(
            encode(&Val::Strings(vec!["a".to_string()].into())),
            r#"["a"]"#
        );
        assert_eq!(encode(&Val::Float(1e-6)), "0.000001");
        assert_eq!(encode(&Val::Float(123456789.0)), "123456789");
    }
}
