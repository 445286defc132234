//! Go's `fmt` as templates use it: how values print (`{{.}}`, `print`, `println`) and
//! `printf` with its verbs, flags, widths and precisions, including Go's complaints in the
//! output (`%!d(string=abc)`, `%!s(MISSING)`, `%!(EXTRA int=2)`).

use std::fmt::Write as _;

use serde_json::Value;

use crate::float::format_float;
use crate::value::{Val, all_strings};

/// Go's `strconv.Quote`: double quotes, Go escapes, printable characters kept.
pub(crate) fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

fn quote_with(s: &str, delimiter: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(delimiter);
    for c in s.chars() {
        push_escaped(&mut out, c, delimiter, ascii_only);
    }
    out.push(delimiter);
    out
}

fn push_escaped(out: &mut String, c: char, delimiter: char, ascii_only: bool) {
    if c == delimiter || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    let printable = if ascii_only {
        c.is_ascii() && is_print(c)
    } else {
        is_print(c)
    };
    if printable {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Go's `unicode.IsPrint`, closely enough: graphic characters and the ASCII space.
fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    !c.is_control()
        && !c.is_whitespace()
        && !matches!(c,
            '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}')
}

/// What `fmt.Sprint` makes of one value with `%v`: `[a b]`, `map[k:v]`, `<nil>`.
pub(crate) fn print_v(value: &Val<'_>) -> String {
    let mut out = String::new();
    Printer::default().print_arg(&mut out, &value.unboxed(), 'v');
    out
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
pub(crate) fn sprint(args: &[Val<'_>]) -> String {
    let mut out = String::new();
    let mut previous_string = false;
    for (index, arg) in args.iter().enumerate() {
        let arg = arg.unboxed();
        let is_string = matches!(arg, Val::Str(_));
        if index > 0 && !is_string && !previous_string {
            out.push(' ');
        }
        Printer::default().print_arg(&mut out, &arg, 'v');
        previous_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: spaces between all operands and a newline after them.
pub(crate) fn sprintln(args: &[Val<'_>]) -> String {
    let mut out = String::new();
    for (index, arg) in args.iter().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        Printer::default().print_arg(&mut out, &arg.unboxed(), 'v');
    }
    out.push('\n');
    out
}

/// Go's `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Val<'_>]) -> String {
    let args: Vec<Val<'_>> = args.iter().map(Val::unboxed).collect();
    let mut out = String::with_capacity(format.len());
    let mut chars = format.char_indices().peekable();
    let mut arg_index = 0;
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut printer = Printer::default();
        while let Some(&(_, flag)) = chars.peek() {
            match flag {
                '#' => printer.sharp = true,
                '0' => printer.zero = !printer.minus,
                '+' => printer.plus = true,
                '-' => {
                    printer.minus = true;
                    printer.zero = false;
                }
                ' ' => printer.space = true,
                _ => break,
            }
            chars.next();
        }
        if chars.peek().is_some_and(|&(_, c)| c == '*') {
            chars.next();
            match int_from_arg(&args, &mut arg_index) {
                Some(width) if width < 0 => {
                    printer.minus = true;
                    printer.zero = false;
                    printer.width = Some(width.unsigned_abs() as usize);
                }
                Some(width) => printer.width = Some(width as usize),
                None => out.push_str("%!(BADWIDTH)"),
            }
        } else {
            match parse_number(&mut chars) {
                Ok(width) => printer.width = width,
                Err(TooLarge) => {
                    out.push_str("%!(NOVERB)");
                    break;
                }
            }
        }
        if chars.peek().is_some_and(|&(_, c)| c == '.') {
            chars.next();
            if chars.peek().is_some_and(|&(_, c)| c == '*') {
                chars.next();
                match int_from_arg(&args, &mut arg_index) {
                    Some(precision) if precision < 0 => printer.precision = None,
                    Some(precision) => printer.precision = Some(precision as usize),
                    None => out.push_str("%!(BADPREC)"),
                }
            } else {
                match parse_number(&mut chars) {
                    Ok(precision) => printer.precision = Some(precision.unwrap_or(0)),
                    Err(TooLarge) => {
                        out.push_str("%!(NOVERB)");
                        break;
                    }
                }
            }
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        match verb {
            '%' => out.push('%'),
            _ if arg_index >= args.len() => {
                let _ = write!(out, "%!{verb}(MISSING)");
            }
            _ => {
                if verb == 'v' {
                    printer.sharp_v = printer.sharp;
                    printer.sharp = false;
                    printer.plus = false;
                }
                printer.print_arg(&mut out, &args[arg_index], verb);
                arg_index += 1;
            }
        }
    }
    if arg_index < args.len() {
        out.push_str("%!(EXTRA ");
        for (index, arg) in args[arg_index..].iter().enumerate() {
            if index > 0 {
                out.push_str(", ");
            }
            if !matches!(arg, Val::Invalid) {
                out.push_str(arg.type_name());
                out.push('=');
            }
            Printer::default().print_arg(&mut out, arg, 'v');
        }
        out.push(')');
    }
    out
}

/// A width or precision over a million: Go gives up on the rest of the format.
struct TooLarge;

const MAX_WIDTH: usize = 1_000_000;

fn parse_number(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<Option<usize>, TooLarge> {
    let mut number: Option<usize> = None;
    while let Some(&(_, c)) = chars.peek() {
        let Some(digit) = c.to_digit(10) else { break };
        let so_far = number.unwrap_or(0);
        if so_far > MAX_WIDTH {
            chars.by_ref().for_each(drop);
            return Err(TooLarge);
        }
        number = Some(so_far * 10 + digit as usize);
        chars.next();
    }
    Ok(number)
}

fn int_from_arg(args: &[Val<'_>], index: &mut usize) -> Option<i64> {
    let value = args.get(*index).and_then(|arg| match arg {
        Val::Int(i) => Some(*i),
        Val::Uint(u) => i64::try_from(*u).ok(),
        _ => None,
    });
    *index += 1;
    value.filter(|v| v.unsigned_abs() <= MAX_WIDTH as u64)
}

#[derive(Default, Clone, Copy)]
struct Printer {
    plus: bool,
    minus: bool,
    sharp: bool,
    sharp_v: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

impl Printer {
    fn print_arg(&self, out: &mut String, arg: &Val<'_>, verb: char) {
        match arg {
            Val::Invalid | Val::Iface(Value::Null) => match verb {
                'v' => self.pad(out, "<nil>"),
                'T' => self.pad(out, "<nil>"),
                _ => self.bad_verb(out, arg, verb),
            },
            _ if verb == 'T' => self.pad(out, arg.type_name()),
            Val::Iface(value) => self.print_arg(out, &Val::from_json(value), verb),
            Val::Bool(b) => match verb {
                't' | 'v' => self.pad(out, if *b { "true" } else { "false" }),
                _ => self.bad_verb(out, arg, verb),
            },
            Val::Int(i) => self.print_integer(out, arg, *i < 0, i.unsigned_abs(), verb),
            Val::Uint(u) => self.print_integer(out, arg, false, *u, verb),
            Val::Float(f) => self.print_float(out, arg, *f, verb),
            Val::Str(s) => self.print_string(out, arg, s, verb),
            Val::Array(items) => {
                let of_strings = all_strings(items.iter());
                let items: Vec<Val<'_>> = items
                    .iter()
                    .map(|item| Val::element(item, of_strings))
                    .collect();
                self.print_list(out, arg, &items, verb);
            }
            Val::Strings(items) => {
                let items: Vec<Val<'_>> = items.iter().map(|s| Val::str(s.as_str())).collect();
                self.print_list(out, arg, &items, verb);
            }
            Val::Object(map) => {
                let of_strings = all_strings(map.values());
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                if self.sharp_v {
                    out.push_str(arg.type_name());
                    out.push('{');
                } else {
                    out.push_str("map[");
                }
                for (index, key) in keys.iter().enumerate() {
                    if index > 0 {
                        out.push_str(if self.sharp_v { ", " } else { " " });
                    }
                    self.print_element(out, &Val::str(key.as_str()), verb);
                    out.push(':');
                    self.print_element(out, &Val::element(&map[key.as_str()], of_strings), verb);
                }
                out.push(if self.sharp_v { '}' } else { ']' });
            }
        }
    }

    fn print_list(&self, out: &mut String, list: &Val<'_>, items: &[Val<'_>], verb: char) {
        if self.sharp_v {
            out.push_str(list.type_name());
            out.push('{');
        } else {
            out.push('[');
        }
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                out.push_str(if self.sharp_v { ", " } else { " " });
            }
            self.print_element(out, item, verb);
        }
        out.push(if self.sharp_v { '}' } else { ']' });
    }

    /// An element inside a list or map: a nil interface is `<nil>` whatever the verb.
    fn print_element(&self, out: &mut String, item: &Val<'_>, verb: char) {
        if item.is_nil_interface() {
            out.push_str(if self.sharp_v {
                "interface {}(nil)"
            } else {
                "<nil>"
            });
            return;
        }
        self.print_arg(out, &item.unboxed(), verb);
    }

    fn bad_verb(&self, out: &mut String, arg: &Val<'_>, verb: char) {
        let _ = write!(out, "%!{verb}(");
        match arg {
            Val::Invalid | Val::Iface(Value::Null) => out.push_str("<nil>"),
            arg => {
                out.push_str(arg.type_name());
                out.push('=');
                let plain = Printer {
                    width: self.width,
                    precision: self.precision,
                    minus: self.minus,
                    zero: self.zero,
                    ..Printer::default()
                };
                plain.print_arg(out, arg, 'v');
            }
        }
        out.push(')');
    }

    /// Pads to the width in characters: spaces (or zeros with `0`), on the left unless `-`.
    fn pad(&self, out: &mut String, text: &str) {
        let Some(width) = self.width else {
            out.push_str(text);
            return;
        };
        let length = text.chars().count();
        if length >= width {
            out.push_str(text);
            return;
        }
        // `-` pads on the right, with spaces: it turns `0` off.
        if self.minus {
            out.push_str(text);
            out.extend(std::iter::repeat_n(' ', width - length));
        } else {
            let fill = if self.zero { '0' } else { ' ' };
            out.extend(std::iter::repeat_n(fill, width - length));
            out.push_str(text);
        }
    }

    fn print_string(&self, out: &mut String, arg: &Val<'_>, s: &str, verb: char) {
        match verb {
            'v' if self.sharp_v => self.pad(out, &quote(s)),
            'v' | 's' => match self.precision {
                Some(precision) => {
                    let truncated: String = s.chars().take(precision).collect();
                    self.pad(out, &truncated);
                }
                None => self.pad(out, s),
            },
            'q' => {
                if self.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || is_print(c)) {
                    self.pad(out, &format!("`{s}`"));
                } else {
                    self.pad(out, &quote_with(s, '"', self.plus));
                }
            }
            'x' | 'X' => {
                let bytes = s.as_bytes();
                let bytes = match self.precision {
                    Some(precision) => &bytes[..precision.min(bytes.len())],
                    None => bytes,
                };
                self.pad(out, &hex_bytes(bytes, verb == 'X', self.sharp, self.space));
            }
            _ => self.bad_verb(out, arg, verb),
        }
    }

    fn print_integer(
        &self,
        out: &mut String,
        arg: &Val<'_>,
        negative: bool,
        magnitude: u64,
        verb: char,
    ) {
        let (base, upper) = match verb {
            'v' | 'd' => (10, false),
            'b' => (2, false),
            'o' | 'O' => (8, false),
            'x' => (16, false),
            'X' => (16, true),
            'c' => return self.pad(out, &rune(negative, magnitude).to_string()),
            'q' => {
                let c = rune(negative, magnitude).to_string();
                return self.pad(out, &quote_with(&c, '\'', self.plus));
            }
            'U' => {
                let mut text = format!("U+{magnitude:04X}");
                if self.sharp
                    && let Some(c) = char::from_u32(u32::try_from(magnitude).unwrap_or(u32::MAX))
                        .filter(|c| is_print(*c))
                {
                    let _ = write!(text, " '{c}'");
                }
                return self.pad(out, &text);
            }
            _ => return self.bad_verb(out, arg, verb),
        };
        let mut digits = match base {
            2 => format!("{magnitude:b}"),
            8 => format!("{magnitude:o}"),
            16 if upper => format!("{magnitude:X}"),
            16 => format!("{magnitude:x}"),
            _ => magnitude.to_string(),
        };
        let mut zero_pad_to = None;
        match self.precision {
            Some(0) if magnitude == 0 => {
                return Printer {
                    zero: false,
                    ..*self
                }
                .pad(out, "");
            }
            Some(precision) => zero_pad_to = Some(precision),
            None if self.zero && !self.minus => {
                if let Some(width) = self.width {
                    let sign = negative || self.plus || self.space;
                    zero_pad_to = Some(width.saturating_sub(usize::from(sign)));
                }
            }
            None => {}
        }
        if let Some(target) = zero_pad_to
            && digits.len() < target
        {
            digits = "0".repeat(target - digits.len()) + &digits;
        }
        let prefix = match (base, self.sharp || verb == 'O') {
            (2, true) if self.sharp => "0b",
            (8, true) if verb == 'O' => "0o",
            (8, true) if !digits.starts_with('0') => "0",
            (16, true) if self.sharp && upper => "0X",
            (16, true) if self.sharp => "0x",
            _ => "",
        };
        let sign = if negative {
            "-"
        } else if self.plus {
            "+"
        } else if self.space {
            " "
        } else {
            ""
        };
        Printer {
            zero: false,
            ..*self
        }
        .pad(out, &format!("{sign}{prefix}{digits}"));
    }

    fn print_float(&self, out: &mut String, arg: &Val<'_>, value: f64, verb: char) {
        let body = match verb {
            'v' => format_float(value, 'g', self.precision),
            'g' | 'G' => format_float(value, verb, self.precision),
            'e' | 'E' | 'f' | 'F' => format_float(value, verb, Some(self.precision.unwrap_or(6))),
            _ => return self.bad_verb(out, arg, verb),
        };
        let negative = value.is_sign_negative() && !value.is_nan();
        let mut sign = if negative { "-" } else { "+" };
        if self.space && sign == "+" && !self.plus {
            sign = " ";
        }
        if !value.is_finite() {
            let text = if value.is_nan() && !self.space && !self.plus {
                body
            } else {
                format!("{sign}{body}")
            };
            return Printer {
                zero: false,
                ..*self
            }
            .pad(out, &text);
        }
        let num = format!("{sign}{body}");
        if self.plus || negative || sign == " " {
            if let Some(width) = self.width.filter(|w| self.zero && *w > num.len()) {
                out.push_str(sign);
                out.push_str(&"0".repeat(width - num.len()));
                out.push_str(&body);
                return;
            }
            return self.pad(out, &num);
        }
        if let Some(width) = self.width.filter(|w| self.zero && *w > body.len()) {
            out.push_str(&"0".repeat(width - body.len()));
            out.push_str(&body);
            return;
        }
        self.pad(out, &body);
    }
}

/// Go's `%x` of a string: with ` `, bytes apart, each with its `0x` under `#`.
/// The character an integer stands for; not one (negative, too large, a surrogate) is
/// U+FFFD, as in Go.
fn rune(negative: bool, magnitude: u64) -> char {
    if negative {
        return '\u{fffd}';
    }
    u32::try_from(magnitude)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}')
}

fn hex_bytes(bytes: &[u8], upper: bool, sharp: bool, apart: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3 + 2);
    let prefix = if upper { "0X" } else { "0x" };
    for (index, byte) in bytes.iter().enumerate() {
        if apart && index > 0 {
            out.push(' ');
        }
        if sharp && (apart || index == 0) {
            out.push_str(prefix);
        }
        let _ = if upper {
            write!(out, "{byte:02X}")
        } else {
            write!(out, "{byte:02x}")
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    #[test]
    fn floats_print_as_gos_v() {
        let cases = [
            (1234567.0, "1.234567e+06"),
            (1e20, "1e+20"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (1e21, "1e+21"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5, "1.5"),
            (3.0, "3"),
            (0.0, "0"),
            (-2.25, "-2.25"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ];
        for (value, want) in cases {
            assert_eq!(print_v(&Val::Float(value)), want, "{value}");
        }
    }

    #[test]
    fn printf_matches_go() {
        let cases: Vec<(&str, Vec<Val<'_>>, &str)> = vec![
            (
                "%.3g|%.3g|%.3g|%.4g",
                vec![
                    Val::Float(1.234567),
                    Val::Float(999.9),
                    Val::Float(100.0),
                    Val::Float(1023.5),
                ],
                "1.23|1e+03|100|1024",
            ),
            (
                "%.3g|%.2f|%5s|%-10s|%q|%t|%d",
                vec![
                    Val::Float(0.0001234),
                    Val::Float(3.14158),
                    s("ab"),
                    s("cd"),
                    s("x\"y\n"),
                    Val::Bool(true),
                    Val::Int(42),
                ],
                "0.000123|3.14|   ab|cd        |\"x\\\"y\\n\"|true|42",
            ),
            (
                "%d|%s|%t|%x|%X|%o",
                vec![
                    s("s"),
                    Val::Int(5),
                    Val::Int(1),
                    s("hi"),
                    Val::Int(255),
                    Val::Int(8),
                ],
                "%!d(string=s)|%!s(int=5)|%!t(int=1)|6869|FF|10",
            ),
            (
                "%e|%E|%08.3f|%+d|%c|%U",
                vec![
                    Val::Float(1234.5678),
                    Val::Float(1e-7),
                    Val::Float(-3.14158),
                    Val::Int(5),
                    Val::Int(65),
                    Val::Int(0x1F600),
                ],
                "1.234568e+03|1.000000E-07|-003.142|+5|A|U+1F600",
            ),
            ("%d %d", vec![Val::Int(1)], "1 %!d(MISSING)"),
            (
                "%d\n",
                vec![Val::Int(1), Val::Int(2), s("x")],
                "1\n%!(EXTRA int=2, string=x)",
            ),
            (
                "%-5d|%05d|%x|%.1s|%10.3s|",
                vec![
                    Val::Int(42),
                    Val::Int(-42),
                    Val::Int(-255),
                    s("hello"),
                    s("hello"),
                ],
                "42   |-0042|-ff|h|       hel|",
            ),
            ("%z", vec![Val::Int(-42)], "%!z(int=-42)"),
            (
                "%v %s %d",
                vec![Val::Invalid, Val::Invalid, Val::Invalid],
                "<nil> %!s(<nil>) %!d(<nil>)",
            ),
            ("100%% %", vec![], "100% %!(NOVERB)"),
            (
                "%*d|%-*d|%.*f",
                vec![
                    Val::Int(4),
                    Val::Int(7),
                    Val::Int(3),
                    Val::Int(8),
                    Val::Int(1),
                    Val::Float(2.25),
                ],
                "   7|8  |2.2",
            ),
            (
                "%6.2f|%+.1e|% d|%#x|%#o|%b",
                vec![
                    Val::Float(3.14158),
                    Val::Float(12345.0),
                    Val::Int(5),
                    Val::Int(255),
                    Val::Int(8),
                    Val::Int(5),
                ],
                "  3.14|+1.2e+04| 5|0xff|010|101",
            ),
            (
                "%q|%#v|%#v",
                vec![Val::Int(97), s("a"), Val::Int(3)],
                "'a'|\"a\"|3",
            ),
            (
                "%5t|%-6v|%3c",
                vec![Val::Bool(false), Val::Bool(true), Val::Int(66)],
                "false|true  |  B",
            ),
            (
                "%g|%G|%.0f|%.1f",
                vec![
                    Val::Float(1e-7),
                    Val::Float(2.5e30),
                    Val::Float(2.5),
                    Val::Float(0.25),
                ],
                "1e-07|2.5E+30|2|0.2",
            ),
            (
                "%x %X % x %#x",
                vec![s("hi"), s("hi"), s("hi"), s("hi")],
                "6869 6869 68 69 0x6869",
            ),
            (
                "%08.3f|%-8.2f|%+08d|%o|%#b",
                vec![
                    Val::Float(3.14158),
                    Val::Float(2.5),
                    Val::Int(42),
                    Val::Int(-8),
                    Val::Int(5),
                ],
                "0003.142|2.50    |+0000042|-10|0b101",
            ),
            (
                "%5.1f|%-8v|%q|%x",
                vec![Val::Float(3.14158), s("ab"), s("ab"), Val::Int(255)],
                "  3.1|ab      |\"ab\"|ff",
            ),
            (
                "%s|%v|%d",
                vec![Val::Bool(true), Val::Float(1e6), Val::Float(2.0)],
                "%!s(bool=true)|1e+06|%!d(float64=2)",
            ),
            (
                "%e|%.2e|%E|%.0e",
                vec![
                    Val::Float(0.0),
                    Val::Float(123456.789),
                    Val::Float(1e100),
                    Val::Float(5.5),
                ],
                "0.000000e+00|1.23e+05|1.000000E+100|6e+00",
            ),
        ];
        for (format, args, want) in cases {
            assert_eq!(sprintf(format, &args), want, "{format}");
        }
        assert_eq!(
            sprintf("a%99999999d|b", &[Val::Int(1)]),
            "a%!(NOVERB)%!(EXTRA int=1)"
        );
        assert_eq!(
            sprintf("%c|%q", &[Val::Int(-1), Val::Int(-1)]),
            "\u{fffd}|'\u{fffd}'"
        );
    }

    #[test]
    fn composites_print_as_gos() {
        let data = serde_json::json!({"L": [1, "a", null, {"b": true, "a": 1.5}], "S": ["x", "y"], "M": {"a": 1, "b": "x"}});
        let list = Val::from_json(&data["L"]);
        assert_eq!(print_v(&list), "[1 a <nil> map[a:1.5 b:true]]");
        assert_eq!(
            sprintf("%s", std::slice::from_ref(&list)),
            "[%!s(int=1) a <nil> map[a:%!s(float64=1.5) b:%!s(bool=true)]]"
        );
        assert_eq!(
            sprintf("%d", &[Val::from_json(&data["L"])]),
            "[1 %!d(string=a) <nil> map[%!d(string=a):%!d(float64=1.5) %!d(string=b):%!d(bool=true)]]"
        );
        assert_eq!(
            sprintf("%q", &[Val::from_json(&data["S"])]),
            "[\"x\" \"y\"]"
        );
        assert_eq!(
            sprintf(
                "%v|%s",
                &[Val::from_json(&data["M"]), Val::from_json(&data["M"])]
            ),
            "map[a:1 b:x]|map[a:%!s(int=1) b:x]"
        );
        assert_eq!(
            sprintf("%#v", &[Val::from_json(&data["S"])]),
            "[]string{\"x\", \"y\"}"
        );
        assert_eq!(
            sprintf("%#v", &[Val::from_json(&data["L"])]),
            "[]interface {}{1, \"a\", interface {}(nil), map[string]interface {}{\"a\":1.5, \"b\":true}}"
        );
    }

    #[test]
    fn sprint_spaces_between_non_strings() {
        let args = [Val::Int(1), Val::Int(2), s("a"), s("b"), Val::Int(3)];
        assert_eq!(sprint(&args), "1 2ab3");
        assert_eq!(sprint(&[s("a"), Val::Int(1), s("b")]), "a1b");
        assert_eq!(sprintln(&[Val::Int(1), s("a")]), "1 a\n");
    }

    #[test]
    fn quote_escapes_as_go() {
        assert_eq!(
            quote("a\"b\\c\n\t\u{1}\u{7f}é\u{a0}\u{1F600}"),
            "\"a\\\"b\\\\c\\n\\t\\x01\\x7fé\\u00a0\u{1F600}\""
        );
    }
}
