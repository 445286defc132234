//! Times as Docker's API accepts them in `since`, `until` and `until=` filters (its
//! `timetypes.GetTimestamp`): Go durations back from now (`10m`, `1h30m`), Unix seconds with
//! an optional fraction (`1700000000.5`), and RFC 3339 dates and times, whole or cut short
//! (`2024-01-02`, `2024-01-02T15:04`, `2024-01-02T15:04:05.5+02:00`). Times without a zone
//! are read as UTC (Docker reads them in the daemon's zone, which on servers is UTC).

/// Nanoseconds since the epoch of `value`, with `now_nanos` the present (for durations).
pub fn parse_timestamp(value: &str, now_nanos: i64) -> Result<i64, String> {
    if value != "0" {
        if let Some(duration) = parse_duration(value) {
            // Docker keeps whole seconds of a relative time.
            let seconds = (now_nanos - duration).div_euclid(1_000_000_000);
            return Ok(seconds * 1_000_000_000);
        }
    }
    if let Some(nanos) = parse_date_time(value) {
        return Ok(nanos);
    }
    if value.contains('-') {
        return Err(format!(
            "parsing time {value:?}: cannot parse it as RFC 3339"
        ));
    }
    parse_unix(value).ok_or_else(|| format!("failed to parse value as time or duration: {value:?}"))
}

/// `seconds[.fraction]` (Docker's `ParseTimestamps`).
fn parse_unix(value: &str) -> Option<i64> {
    let (seconds, fraction) = match value.split_once('.') {
        Some((s, f)) => (s, f),
        None => (value, ""),
    };
    if seconds.is_empty() || !seconds.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
        return None;
    }
    let seconds: i64 = seconds.parse().ok()?;
    let nanos: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Go's `time.ParseDuration`: `[-+]` then numbers with units `ns us µs ms s m h`, at least one.
pub fn parse_duration(value: &str) -> Option<i64> {
    let (negative, mut rest) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." {
            return None;
        }
        let amount: f64 = number.parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += amount * scale;
    }
    let nanos = total.round() as i64;
    Some(if negative { -nanos } else { nanos })
}

/// `YYYY-MM-DD[THH[:MM[:SS[.fraction]]]][Z|±HH:MM]`.
fn parse_date_time(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let year = digits(&value[0..4])?;
    let month = digits(&value[5..7])?;
    let day = digits(&value[8..10])?;
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut rest = &value[10..];
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if let Some(time) = rest.strip_prefix('T') {
        let zone_at = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
        let (clock, zone) = time.split_at(zone_at);
        let (clock, fraction) = match clock.split_once('.') {
            Some((c, f)) => (c, Some(f)),
            None => (clock, None),
        };
        let fields: Vec<&str> = clock.split(':').collect();
        if fields.len() > 3 || fields.iter().any(|f| f.len() != 2) {
            return None;
        }
        hour = digits(fields[0])?;
        minute = fields.get(1).map_or(Some(0), |m| digits(m))?;
        second = fields.get(2).map_or(Some(0), |s| digits(s))?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        if let Some(fraction) = fraction {
            if fraction.is_empty() || fraction.len() > 9 || fields.len() != 3 {
                return None;
            }
            nanos = digits(&format!("{fraction:0<9}"))?;
        }
        rest = zone;
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = zone[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (digits(h)? * 3600 + digits(m)? * 60)
        }
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(seconds * 1_000_000_000 + nanos)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = (month + 9) % 12;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_123_456_789;
    const S: i64 = 1_000_000_000;

    #[test]
    fn durations_count_back_from_now_in_whole_seconds() {
        assert_eq!(
            parse_timestamp("10m", NOW).unwrap(),
            (1_700_000_000 - 600) * S
        );
        assert_eq!(
            parse_timestamp("1h30m", NOW).unwrap(),
            (1_700_000_000 - 5400) * S
        );
        assert_eq!(parse_timestamp("1.5s", NOW).unwrap(), 1_699_999_998 * S);
        assert_eq!(parse_duration("-2h"), Some(-7200 * S));
        assert_eq!(parse_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn unix_seconds_with_fractions() {
        assert_eq!(parse_timestamp("0", NOW).unwrap(), 0);
        assert_eq!(
            parse_timestamp("1700000000", NOW).unwrap(),
            1_700_000_000 * S
        );
        assert_eq!(
            parse_timestamp("1700000000.5", NOW).unwrap(),
            1_700_000_000 * S + 500_000_000
        );
        assert_eq!(
            parse_timestamp("1700000000.000000001", NOW).unwrap(),
            1_700_000_000 * S + 1
        );
        assert_eq!(
            parse_timestamp("soon", NOW).unwrap_err(),
            "failed to parse value as time or duration: \"soon\""
        );
    }

    #[test]
    fn rfc3339_whole_and_cut_short() {
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20Z", NOW).unwrap(),
            1_700_000_000 * S
        );
        assert_eq!(
            parse_timestamp("2023-11-14T23:13:20.25+01:00", NOW).unwrap(),
            1_700_000_000 * S + 250_000_000
        );
        assert_eq!(
            parse_timestamp("2023-11-14", NOW).unwrap(),
            1_699_920_000 * S
        );
        assert_eq!(
            parse_timestamp("2023-11-14T22", NOW).unwrap(),
            1_699_999_200 * S
        );
        assert_eq!(
            parse_timestamp("2023-11-14T22:13", NOW).unwrap(),
            1_699_999_980 * S
        );
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z", NOW).unwrap(), 0);
        assert!(parse_timestamp("2023-13-01", NOW).is_err());
        assert!(parse_timestamp("2023-02-30", NOW).is_err());
    }
}
