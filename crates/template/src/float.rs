//! Go's `strconv.FormatFloat`: the digits of a float in `%e`, `%f` and `%g` forms, the
//! shortest ones that read back exactly when no precision is given.

use std::fmt::Write as _;

/// The decimal digits of |value| (no trailing zeros) and the position of the decimal point:
/// |value| = 0.DIGITS × 10^point. Shortest digits that read back exactly without a
/// precision, else rounded to `significant` digits.
fn decimal_digits(value: f64, significant: Option<usize>) -> (String, i32) {
    let scientific = match significant {
        Some(count) => format!("{:.*e}", count.max(1) - 1, value.abs()),
        None => format!("{:e}", value.abs()),
    };
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        return ("0".into(), 1);
    }
    (digits.to_string(), exponent + 1)
}

/// `d.ddde+XX`, with `decimals` digits after the point (all of them when `None`).
fn exponent_form(digits: &str, point: i32, decimals: Option<usize>, upper: bool) -> String {
    let exponent = if digits == "0" { 0 } else { point - 1 };
    let (first, rest) = digits.split_at(1);
    let mut fraction = rest.to_string();
    if let Some(decimals) = decimals {
        while fraction.len() < decimals {
            fraction.push('0');
        }
    }
    let mut out = first.to_string();
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(&fraction);
    }
    out.push(if upper { 'E' } else { 'e' });
    out.push(if exponent < 0 { '-' } else { '+' });
    let _ = write!(out, "{:02}", exponent.unsigned_abs());
    out
}

/// Plain decimal form of 0.DIGITS × 10^point with all the digits.
fn plain_form(digits: &str, point: i32) -> String {
    if point <= 0 {
        return format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize));
    }
    let point = point as usize;
    if digits.len() <= point {
        return format!("{digits}{}", "0".repeat(point - digits.len()));
    }
    format!("{}.{}", &digits[..point], &digits[point..])
}

/// Go's `strconv.FormatFloat(|value|, verb, precision, 64)` without the sign.
pub(crate) fn format_float(value: f64, verb: char, precision: Option<usize>) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return "Inf".into();
    }
    let upper = verb.is_ascii_uppercase();
    match verb.to_ascii_lowercase() {
        'e' => match precision {
            Some(decimals) => {
                let (digits, point) = decimal_digits(value, Some(decimals + 1));
                exponent_form(&digits, point, Some(decimals), upper)
            }
            None => {
                let (digits, point) = decimal_digits(value, None);
                exponent_form(&digits, point, None, upper)
            }
        },
        'f' => match precision {
            Some(decimals) => format!("{:.*}", decimals, value.abs()),
            None => {
                let (digits, point) = decimal_digits(value, None);
                plain_form(&digits, point)
            }
        },
        _ => {
            let (digits, point) = decimal_digits(value, precision.map(|p| p.max(1)));
            let limit = precision.map_or(6, |p| p.max(1) as i32);
            let exponent = point - 1;
            if digits != "0" && (exponent < -4 || exponent >= limit) {
                exponent_form(&digits, point, None, upper)
            } else {
                plain_form(&digits, point)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_match_go() {
        let cases = [
            (1234567.0, 'g', None, "1.234567e+06"),
            (123456.0, 'g', None, "123456"),
            (0.00001, 'g', None, "1e-05"),
            (1e21, 'f', None, "1000000000000000000000"),
            (1e-7, 'e', None, "1e-07"),
            (2.5e30, 'G', None, "2.5E+30"),
            (1.234567, 'g', Some(3), "1.23"),
            (999.9, 'g', Some(3), "1e+03"),
            (0.0, 'e', Some(6), "0.000000e+00"),
            (5.5, 'e', Some(0), "6e+00"),
            (2.5, 'f', Some(0), "2"),
            (0.000123, 'f', None, "0.000123"),
        ];
        for (value, verb, precision, want) in cases {
            assert_eq!(
                format_float(value, verb, precision),
                want,
                "{value} {verb} {precision:?}"
            );
        }
    }
}
