//! The functions a template can call: Go's builtins (`and`, `eq`, `index`, `len`,
//! `printf`, ...) and the ones Docker's CLI adds (`json`, `join`, `split`, `lower`,
//! `upper`, `title`, `pad`, `truncate`), with their Go signatures, which decide how
//! arguments are checked and what the errors say. Docker renders table headers with a
//! second set in which its string functions give their first argument back unchanged.

use std::borrow::Cow;
use std::rc::Rc;

use serde_json::Value;

use crate::gofmt::{self, sprint};
use crate::json;
use crate::value::{Val, all_strings};

/// Which set of functions a template runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FuncSet {
    /// Go's builtins and Docker's `basicFunctions`.
    Basic,
    /// As `Basic`, with Docker's `HeaderFunctions` in place of its string functions.
    Header,
}

/// The Go type of a parameter, which decides how an argument is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// `interface {}`.
    Any,
    /// `reflect.Value`: anything, untouched (the comparison and indexing builtins).
    Value,
    Str,
    Int,
    /// `[]string`.
    Strings,
}

impl Param {
    pub fn go_name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Value => "reflect.Value",
            Param::Str => "string",
            Param::Int => "int",
            Param::Strings => "[]string",
        }
    }
}

pub(crate) struct Signature {
    pub fixed: &'static [Param],
    pub variadic: Option<Param>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Call,
    Print,
    Printf,
    Println,
    Html,
    Js,
    UrlQuery,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Json,
    Split,
    Join,
    Title,
    Lower,
    Upper,
    Pad,
    Truncate,
    /// A header function: gives its first argument back.
    First,
}

const NAMES: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "call", "print", "printf", "println", "html",
    "js", "urlquery", "eq", "ne", "lt", "le", "gt", "ge", "json", "split", "join", "title",
    "lower", "upper", "pad", "truncate",
];

/// Whether a template may name the function (checked when parsing, as Go does).
pub(crate) fn is_defined(name: &str) -> bool {
    NAMES.contains(&name)
}

const VALUE: &[Param] = &[Param::Value];
const TWO_VALUES: &[Param] = &[Param::Value, Param::Value];
const STR: &[Param] = &[Param::Str];
const TWO_STRS: &[Param] = &[Param::Str, Param::Str];
const STR_INT: &[Param] = &[Param::Str, Param::Int];

pub(crate) fn lookup(name: &str, set: FuncSet) -> Option<(Func, Signature)> {
    let fixed = |fixed| Signature {
        fixed,
        variadic: None,
    };
    let variadic = |fixed, rest| Signature {
        fixed,
        variadic: Some(rest),
    };
    if set == FuncSet::Header {
        let header = match name {
            "json" | "title" | "lower" | "upper" => Some(fixed(STR)),
            "split" | "join" => Some(fixed(TWO_STRS)),
            "truncate" => Some(fixed(STR_INT)),
            _ => None,
        };
        if let Some(signature) = header {
            return Some((Func::First, signature));
        }
    }
    Some(match name {
        "and" => (Func::And, variadic(VALUE, Param::Value)),
        "or" => (Func::Or, variadic(VALUE, Param::Value)),
        "not" => (Func::Not, fixed(VALUE)),
        "len" => (Func::Len, fixed(VALUE)),
        "index" => (Func::Index, variadic(VALUE, Param::Value)),
        "slice" => (Func::Slice, variadic(VALUE, Param::Value)),
        "call" => (Func::Call, variadic(VALUE, Param::Value)),
        "print" => (Func::Print, variadic(&[], Param::Any)),
        "printf" => (Func::Printf, variadic(STR, Param::Any)),
        "println" => (Func::Println, variadic(&[], Param::Any)),
        "html" => (Func::Html, variadic(&[], Param::Any)),
        "js" => (Func::Js, variadic(&[], Param::Any)),
        "urlquery" => (Func::UrlQuery, variadic(&[], Param::Any)),
        "eq" => (Func::Eq, variadic(VALUE, Param::Value)),
        "ne" => (Func::Ne, fixed(TWO_VALUES)),
        "lt" => (Func::Lt, fixed(TWO_VALUES)),
        "le" => (Func::Le, fixed(TWO_VALUES)),
        "gt" => (Func::Gt, fixed(TWO_VALUES)),
        "ge" => (Func::Ge, fixed(TWO_VALUES)),
        "json" => (Func::Json, fixed(&[Param::Any])),
        "split" => (Func::Split, fixed(TWO_STRS)),
        "join" => (Func::Join, fixed(&[Param::Strings, Param::Str])),
        "title" => (Func::Title, fixed(STR)),
        "lower" => (Func::Lower, fixed(STR)),
        "upper" => (Func::Upper, fixed(STR)),
        "pad" => (Func::Pad, fixed(&[Param::Str, Param::Int, Param::Int])),
        "truncate" => (Func::Truncate, fixed(STR_INT)),
        _ => return None,
    })
}

type Outcome<'d> = Result<Val<'d>, String>;

/// Calls a function whose arguments have been checked against its signature.
/// (`and` and `or` are evaluated by the executor, which must not evaluate all arguments.)
pub(crate) fn call<'d>(func: Func, args: Vec<Val<'d>>) -> Outcome<'d> {
    let mut args = args.into_iter();
    let mut next = || args.next().unwrap_or(Val::Invalid);
    match func {
        Func::And | Func::Or => Ok(next()),
        Func::Not => Ok(Val::Bool(!next().is_true())),
        Func::Len => length(&next()),
        Func::Index => {
            let item = next();
            index(item, args.collect())
        }
        Func::Slice => {
            let item = next();
            slice(item, args.collect())
        }
        Func::Call => match next().unboxed() {
            Val::Invalid => Err("call of nil".into()),
            other => Err(format!("non-function of type {}", other.type_name())),
        },
        Func::Print => Ok(owned(sprint(&args.collect::<Vec<_>>()))),
        Func::Println => Ok(owned(gofmt::sprintln(&args.collect::<Vec<_>>()))),
        Func::Printf => {
            let format = string_of(&next());
            Ok(owned(gofmt::sprintf(&format, &args.collect::<Vec<_>>())))
        }
        Func::Html => Ok(owned(html_escape(&escaper_text(args.collect())))),
        Func::Js => Ok(owned(js_escape(&escaper_text(args.collect())))),
        Func::UrlQuery => Ok(owned(query_escape(&escaper_text(args.collect())))),
        Func::Eq => {
            let first = next();
            eq(&first, &args.collect::<Vec<_>>()).map(Val::Bool)
        }
        Func::Ne => {
            let (a, b) = (next(), next());
            eq(&a, std::slice::from_ref(&b)).map(|equal| Val::Bool(!equal))
        }
        Func::Lt => {
            let (a, b) = (next(), next());
            lt(&a, &b).map(Val::Bool)
        }
        Func::Le => {
            let (a, b) = (next(), next());
            le(&a, &b).map(Val::Bool)
        }
        Func::Gt => {
            let (a, b) = (next(), next());
            le(&a, &b).map(|le| Val::Bool(!le))
        }
        Func::Ge => {
            let (a, b) = (next(), next());
            lt(&a, &b).map(|lt| Val::Bool(!lt))
        }
        Func::Json => Ok(owned(json::encode(&next()))),
        Func::Split => {
            let (s, separator) = (string_of(&next()), string_of(&next()));
            Ok(Val::Strings(split(&s, &separator).into()))
        }
        Func::Join => {
            let list = strings_of(&next());
            let separator = string_of(&next());
            Ok(owned(list.join(&separator)))
        }
        Func::Title => Ok(owned(title(&string_of(&next())))),
        Func::Lower => Ok(owned(map_chars(&string_of(&next()), char::to_lowercase))),
        Func::Upper => Ok(owned(map_chars(&string_of(&next()), char::to_uppercase))),
        Func::Pad => {
            let s = string_of(&next());
            let (prefix, suffix) = (int_of(&next()), int_of(&next()));
            if s.is_empty() {
                return Ok(owned(s));
            }
            if prefix < 0 || suffix < 0 {
                return Err("strings: negative Repeat count".into());
            }
            Ok(owned(format!(
                "{}{s}{}",
                " ".repeat(prefix as usize),
                " ".repeat(suffix as usize)
            )))
        }
        Func::Truncate => {
            let s = string_of(&next());
            let length = int_of(&next());
            if (s.len() as i64) < length {
                return Ok(owned(s));
            }
            if length < 0 {
                return Err(format!(
                    "runtime error: slice bounds out of range [:{length}]"
                ));
            }
            let mut end = length as usize;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Ok(owned(s[..end].to_string()))
        }
        Func::First => Ok(next()),
    }
}

fn owned<'d>(s: String) -> Val<'d> {
    Val::Str(Cow::Owned(s))
}

fn string_of(value: &Val<'_>) -> String {
    match value.unboxed() {
        Val::Str(s) => s.into_owned(),
        _ => String::new(),
    }
}

fn int_of(value: &Val<'_>) -> i64 {
    match value.unboxed() {
        Val::Int(i) => i,
        _ => 0,
    }
}

fn strings_of(value: &Val<'_>) -> Vec<String> {
    match value.unboxed() {
        Val::Strings(items) => items.to_vec(),
        Val::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Go's `strings.Split`: an empty separator splits after each character.
fn split(s: &str, separator: &str) -> Vec<String> {
    if separator.is_empty() {
        return s.chars().map(String::from).collect();
    }
    s.split(separator).map(str::to_string).collect()
}

/// Go's `strings.Title`: the first letter of each word in title case.
fn title(s: &str) -> String {
    let mut previous = ' ';
    s.chars()
        .map(|c| {
            let out = if is_word_separator(previous) {
                single_mapping(c, char::to_uppercase)
            } else {
                c
            };
            previous = c;
            out
        })
        .collect()
}

fn is_word_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphabetic() || c.is_numeric() {
        return false;
    }
    c.is_whitespace()
}

/// Go maps case one character to one character; a character whose mapping is longer
/// (`ß` in upper case) stays as it is.
fn single_mapping<I: Iterator<Item = char>>(c: char, map: impl Fn(char) -> I) -> char {
    let mut mapped = map(c);
    match (mapped.next(), mapped.next()) {
        (Some(m), None) => m,
        _ => c,
    }
}

fn map_chars<I: Iterator<Item = char>>(s: &str, map: impl Fn(char) -> I + Copy) -> String {
    s.chars().map(|c| single_mapping(c, map)).collect()
}

/// The text `html`, `js` and `urlquery` escape: one string as it is, else `fmt.Sprint` of
/// the arguments (a nil one printing as `<no value>`).
fn escaper_text(args: Vec<Val<'_>>) -> String {
    if let [Val::Str(s)] = args.as_slice() {
        return s.to_string();
    }
    let args: Vec<Val<'_>> = args
        .into_iter()
        .map(|arg| match arg {
            Val::Invalid => Val::str("<no value>"),
            other => other,
        })
        .collect();
    sprint(&args)
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() && (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c if !c.is_ascii() && (c.is_control() || c.is_whitespace()) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            byte => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

static NIL: Value = Value::Null;

/// The zero value of the elements of a map: `""` in `map[string]string`, else a nil
/// interface.
pub(crate) fn zero_element<'d>(of_strings: bool) -> Val<'d> {
    if of_strings {
        Val::str("")
    } else {
        Val::Iface(&NIL)
    }
}

fn length(item: &Val<'_>) -> Outcome<'static> {
    let count = match item {
        Val::Iface(Value::Null) => return Err("len of nil pointer".into()),
        Val::Invalid => return Err("reflect: call of reflect.Value.Type on zero Value".into()),
        item => match item.unboxed() {
            Val::Str(s) => s.len(),
            Val::Array(items) => items.len(),
            Val::Object(map) => map.len(),
            Val::Strings(items) => items.len(),
            other => return Err(format!("len of type {}", other.type_name())),
        },
    };
    Ok(Val::Int(count as i64))
}

fn index_arg(index: &Val<'_>, cap: usize) -> Result<usize, String> {
    let x = match index.unboxed() {
        Val::Int(i) => i,
        Val::Uint(u) => u as i64,
        Val::Invalid => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index<'d>(item: Val<'d>, indexes: Vec<Val<'d>>) -> Outcome<'d> {
    // Docker's typed data has nil maps where JSON has null: indexing one by a key gives
    // the zero string, as Docker shows for `index .Config.Labels "x"` on an image without
    // labels.
    if item.is_nil_interface() && matches!(indexes.first().map(Val::unboxed), Some(Val::Str(_))) {
        return Ok(Val::str(""));
    }
    let mut item = item.unboxed();
    if let Val::Invalid = item {
        return Err("index of untyped nil".into());
    }
    for position in indexes {
        if item.is_nil_interface() {
            return Err("index of nil pointer".into());
        }
        item = match item.unboxed() {
            Val::Array(items) => {
                let at = index_arg(&position, items.len())?;
                let element = items.get(at).ok_or("reflect: slice index out of range")?;
                Val::element(element, all_strings(items.iter()))
            }
            Val::Strings(items) => {
                let at = index_arg(&position, items.len())?;
                let element = items.get(at).ok_or("reflect: slice index out of range")?;
                Val::Str(Cow::Owned(element.clone()))
            }
            Val::Str(s) => {
                let at = index_arg(&position, s.len())?;
                let byte = s
                    .as_bytes()
                    .get(at)
                    .ok_or("reflect: string index out of range")?;
                Val::Int(i64::from(*byte))
            }
            Val::Object(map) => {
                let key = match position.unboxed() {
                    Val::Str(key) => key,
                    Val::Invalid => return Err("value is nil; should be of type string".into()),
                    other => {
                        return Err(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        ));
                    }
                };
                let of_strings = all_strings(map.values());
                match map.get(key.as_ref()) {
                    Some(element) => Val::element(element, of_strings),
                    None => zero_element(of_strings),
                }
            }
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice<'d>(item: Val<'d>, indexes: Vec<Val<'d>>) -> Outcome<'d> {
    let item = item.unboxed();
    if let Val::Invalid = item {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let length = match &item {
        Val::Str(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Val::Array(items) => items.len(),
        Val::Strings(items) => items.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut bounds = [0, length, length];
    for (at, index) in indexes.iter().enumerate() {
        bounds[at] = index_arg(index, length)?;
    }
    if bounds[0] > bounds[1] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[0], bounds[1]
        ));
    }
    if indexes.len() == 3 && bounds[1] > bounds[2] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[1], bounds[2]
        ));
    }
    let (from, to) = (bounds[0], bounds[1]);
    Ok(match item {
        Val::Str(s) => {
            let bytes = &s.as_bytes()[from..to];
            Val::Str(Cow::Owned(String::from_utf8_lossy(bytes).into_owned()))
        }
        Val::Array(items) => Val::Array(&items[from..to]),
        Val::Strings(items) => Val::Strings(Rc::from(&items[from..to])),
        other => other,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BasicKind {
    Bool,
    Int,
    Uint,
    Float,
    Str,
    Other,
}

fn basic_kind(value: &Val<'_>) -> BasicKind {
    match value {
        Val::Bool(_) => BasicKind::Bool,
        Val::Int(_) => BasicKind::Int,
        Val::Uint(_) => BasicKind::Uint,
        Val::Float(_) => BasicKind::Float,
        Val::Str(_) => BasicKind::Str,
        _ => BasicKind::Other,
    }
}

const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const BAD_COMPARISON: &str = "incompatible types for comparison";

fn eq(first: &Val<'_>, others: &[Val<'_>]) -> Result<bool, String> {
    let a = first.unboxed();
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(&a);
    for other in others {
        let b = other.unboxed();
        let k2 = basic_kind(&b);
        let truth = match (&a, &b) {
            (Val::Int(x), Val::Uint(y)) => *x >= 0 && *x as u64 == *y,
            (Val::Uint(x), Val::Int(y)) => *y >= 0 && *x == *y as u64,
            _ if k1 != k2 => {
                if !matches!(a, Val::Invalid) && !matches!(b, Val::Invalid) {
                    return Err(BAD_COMPARISON.into());
                }
                false
            }
            (Val::Bool(x), Val::Bool(y)) => x == y,
            (Val::Int(x), Val::Int(y)) => x == y,
            (Val::Uint(x), Val::Uint(y)) => x == y,
            (Val::Float(x), Val::Float(y)) => x == y,
            (Val::Str(x), Val::Str(y)) => x == y,
            (Val::Invalid, _) | (_, Val::Invalid) => {
                matches!(a, Val::Invalid) && matches!(b, Val::Invalid)
            }
            _ => {
                let described = gofmt::sprintf("%s", std::slice::from_ref(&b));
                return Err(format!(
                    "non-comparable type {described}: {}",
                    b.type_name()
                ));
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(first: &Val<'_>, second: &Val<'_>) -> Result<bool, String> {
    let (a, b) = (first.unboxed(), second.unboxed());
    let (k1, k2) = (basic_kind(&a), basic_kind(&b));
    if k1 == BasicKind::Other || k2 == BasicKind::Other {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    Ok(match (&a, &b) {
        (Val::Int(x), Val::Uint(y)) => *x < 0 || (*x as u64) < *y,
        (Val::Uint(x), Val::Int(y)) => *y >= 0 && *x < *y as u64,
        _ if k1 != k2 => return Err(BAD_COMPARISON.into()),
        (Val::Bool(_), _) => return Err(BAD_COMPARISON_TYPE.into()),
        (Val::Int(x), Val::Int(y)) => x < y,
        (Val::Uint(x), Val::Uint(y)) => x < y,
        (Val::Float(x), Val::Float(y)) => x < y,
        (Val::Str(x), Val::Str(y)) => x.as_bytes() < y.as_bytes(),
        _ => return Err(BAD_COMPARISON_TYPE.into()),
    })
}

fn le(first: &Val<'_>, second: &Val<'_>) -> Result<bool, String> {
    if lt(first, second)? {
        return Ok(true);
    }
    eq(first, std::slice::from_ref(second))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn docker_string_functions() {
        assert_eq!(split("a:b:c", ":"), vec!["a", "b", "c"]);
        assert_eq!(split("", ":"), vec![""]);
        assert_eq!(split("ab", ""), vec!["a", "b"]);
        assert_eq!(title("hello world-foo_bar x.y"), "Hello World-Foo_bar X.Y");
        assert_eq!(map_chars("Straße", char::to_uppercase), "STRAßE");
        let truncated = call(Func::Truncate, vec![Val::str("héllo"), Val::Int(2)]).unwrap();
        assert_eq!(string_of(&truncated), "h");
        let padded = call(Func::Pad, vec![Val::str("x"), Val::Int(1), Val::Int(2)]).unwrap();
        assert_eq!(string_of(&padded), " x  ");
        assert_eq!(
            call(Func::Pad, vec![Val::str("x"), Val::Int(-1), Val::Int(2)]).unwrap_err(),
            "strings: negative Repeat count"
        );
    }

    #[test]
    fn escapers_match_go() {
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"
        );
        assert_eq!(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(js_escape("<'a'>\n"), "\\u003C\\'a\\'\\u003E\\n");
        assert_eq!(escaper_text(vec![Val::Invalid]), "<no value>");
    }

    #[test]
    fn comparisons_follow_go() {
        let data = json!({"m": {"a": 1}, "l": [1]});
        assert_eq!(eq(&Val::Int(1), &[Val::Uint(1)]), Ok(true));
        assert_eq!(
            eq(&Val::Int(1), &[Val::Float(1.0)]),
            Err(BAD_COMPARISON.into())
        );
        assert_eq!(eq(&Val::Invalid, &[Val::str("x")]), Ok(false));
        assert_eq!(eq(&Val::Invalid, &[Val::Invalid]), Ok(true));
        assert_eq!(
            eq(&Val::str("b"), &[Val::str("a"), Val::str("b")]),
            Ok(true)
        );
        assert_eq!(
            eq(&Val::from_json(&data["m"]), &[Val::from_json(&data["m"])]),
            Err("non-comparable type map[a:%!s(int=1)]: map[string]interface {}".into())
        );
        assert_eq!(lt(&Val::str("a"), &Val::str("b")), Ok(true));
        assert_eq!(lt(&Val::Int(-1), &Val::Uint(0)), Ok(true));
        assert_eq!(
            lt(&Val::Bool(true), &Val::Bool(false)),
            Err(BAD_COMPARISON_TYPE.into())
        );
        assert_eq!(
            lt(&Val::from_json(&data["l"]), &Val::Int(1)),
            Err(BAD_COMPARISON_TYPE.into())
        );
        assert_eq!(le(&Val::Int(2), &Val::Int(2)), Ok(true));
    }
}
