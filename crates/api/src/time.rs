//! Times as Docker writes and reads them: Go's `Time.String()` and RFC 3339 with fixed
//! nanoseconds (UTC: pier reads no time zone database), Go durations (`1m30s`), and the
//! `since`/`until` values of `logs`, `events` and filters (durations, dates, or unix
//! seconds: Docker's `timetypes.GetTimestamp`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as seconds and nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnixTime {
    pub secs: i64,
    pub nanos: u32,
}

impl UnixTime {
    pub fn now() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => Self {
                secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                nanos: since.subsec_nanos(),
            },
            Err(_) => Self { secs: 0, nanos: 0 },
        }
    }

    pub fn from_nanos(nanos: i64) -> Self {
        Self {
            secs: nanos.div_euclid(1_000_000_000),
            nanos: nanos.rem_euclid(1_000_000_000) as u32,
        }
    }

    /// How long ago this was, seen from `now` (zero for the future).
    pub fn elapsed_until(self, now: UnixTime) -> Duration {
        let nanos = |t: UnixTime| i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos);
        let diff = nanos(now) - nanos(self);
        if diff <= 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(u64::try_from(diff).unwrap_or(u64::MAX))
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn split(secs: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    (
        year,
        month,
        day,
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
    )
}

/// Go's `time.Unix(secs, 0).String()` in UTC: `2024-05-01 10:20:30 +0000 UTC` (the
/// `CreatedAt` of `ps` and `images`).
pub fn go_time_string(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} +0000 UTC")
}

/// RFC 3339 with nine fraction digits, as Docker's `RFC3339NanoFixed`:
/// `2024-05-01T10:20:30.000000001Z`.
pub fn rfc3339_nano_fixed(time: UnixTime) -> String {
    let (y, mo, d, h, mi, s) = split(time.secs);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}Z",
        time.nanos
    )
}

/// Go's `time.RFC3339` in UTC: `2024-05-01T10:20:30Z` (`history`'s dates).
pub fn rfc3339_seconds(secs: i64) -> String {
    let (y, mo, d, h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Go's `time.ANSIC` in UTC: `Thu May  7 21:09:36 2026` (`version`'s build times).
pub fn ansic(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s) = split(secs);
    let weekday = DAYS[secs.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[(mo as usize).saturating_sub(1).min(11)];
    format!("{weekday} {month} {d:>2} {h:02}:{mi:02}:{s:02} {y}")
}

/// Parses RFC 3339 (`2024-05-01T10:20:30.5Z`, `...+02:00`) and the shorter forms Docker
/// accepts for `--since` (`2024-05-01`, `2024-05-01T10`, `2024-05-01T10:20`); a time
/// without a zone is taken as UTC.
pub fn parse_date(text: &str) -> Option<UnixTime> {
    let (date, rest) = match text.split_once(['T', 't']) {
        Some((date, rest)) => (date, Some(rest)),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = digits(parts.next()?, 4)?;
    let month: u32 = u32::try_from(digits(parts.next()?, 2)?).ok()?;
    let day_text = parts.next()?;
    // A date alone may still carry a zone: `2024-05-01Z`.
    let (day_text, date_zone) = split_zone(day_text);
    let day: u32 = u32::try_from(digits(day_text, 2)?).ok()?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0;
    let mut offset = date_zone?;
    if let Some(rest) = rest {
        let (clock, zone) = split_zone(rest);
        offset = zone?;
        let (clock, fraction) = match clock.split_once('.') {
            Some((clock, fraction)) => (clock, Some(fraction)),
            None => (clock, None),
        };
        let mut fields = clock.split(':');
        let hour = digits(fields.next()?, 2)?;
        let minute = fields.next().map(|m| digits(m, 2)).unwrap_or(Some(0))?;
        let second = fields.next().map(|s| digits(s, 2)).unwrap_or(Some(0))?;
        if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        secs += hour * 3600 + minute * 60 + second;
        if let Some(fraction) = fraction {
            if fraction.is_empty() || fraction.len() > 9 || !all_digits(fraction) {
                return None;
            }
            let padded = format!("{fraction:0<9}");
            nanos = padded.parse().ok()?;
        }
    }
    Some(UnixTime {
        secs: secs - offset,
        nanos,
    })
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn digits(text: &str, len: usize) -> Option<i64> {
    if text.len() != len || !all_digits(text) {
        return None;
    }
    text.parse().ok()
}

/// Splits a trailing zone (`Z`, `+02:00`, `-0700`) off; the offset in seconds is `None`
/// when the zone is malformed, 0 when there is none.
fn split_zone(text: &str) -> (&str, Option<i64>) {
    if let Some(rest) = text.strip_suffix(['Z', 'z']) {
        return (rest, Some(0));
    }
    if let Some(at) = text.rfind(['+', '-']) {
        let (rest, zone) = text.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let zone = zone[1..].replace(':', "");
        let offset = match (zone.len(), all_digits(&zone)) {
            (4, true) => {
                let hours: i64 = zone[..2].parse().unwrap_or(0);
                let minutes: i64 = zone[2..].parse().unwrap_or(0);
                Some(sign * (hours * 3600 + minutes * 60))
            }
            _ => None,
        };
        return (rest, offset);
    }
    (text, Some(0))
}

/// Parses a Go duration: `300ms`, `-1.5h`, `2h45m`, `1µs`; units ns, us (µs), ms, s, m, h.
/// A bare `0` is zero.
pub fn parse_go_duration(text: &str) -> Option<(bool, Duration)> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some((negative, Duration::ZERO));
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
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
    }
    Duration::try_from_secs_f64(total)
        .ok()
        .map(|d| (negative, d))
}

/// A `--since`/`--until` value as the daemon's query wants it (Docker's
/// `timetypes.GetTimestamp`): a duration counts back from `now` (`10m`), a date becomes
/// `secs.nanos`, unix seconds pass through; anything else is Docker's error.
pub fn timestamp_arg(value: &str, now: UnixTime) -> Result<String, String> {
    if value != "0"
        && let Some((negative, duration)) = parse_go_duration(value)
    {
        // Go's `now.Add(-d).Unix()`: the whole seconds of the exact instant.
        let now_nanos = i128::from(now.secs) * 1_000_000_000 + i128::from(now.nanos);
        let back = i128::try_from(duration.as_nanos()).unwrap_or(i128::MAX);
        let then = if negative {
            now_nanos.saturating_add(back)
        } else {
            now_nanos.saturating_sub(back)
        };
        return Ok(then.div_euclid(1_000_000_000).to_string());
    }
    if let Some(time) = parse_date(value) {
        return Ok(format!("{}.{:09}", time.secs, time.nanos));
    }
    if value.contains('-') {
        return Err(format!("parsing time {value:?}: invalid date"));
    }
    let (secs, fraction) = value.split_once('.').unwrap_or((value, "0"));
    if all_digits(secs) && all_digits(fraction) {
        return Ok(value.to_owned());
    }
    Err(format!(
        "failed to parse value as time or duration: {value:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(go_time_string(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            go_time_string(1_714_558_830),
            "2024-05-01 10:20:30 +0000 UTC"
        );
        assert_eq!(
            rfc3339_nano_fixed(UnixTime::from_nanos(1_714_558_830_000_000_001)),
            "2024-05-01T10:20:30.000000001Z"
        );
        assert_eq!(
            rfc3339_nano_fixed(UnixTime {
                secs: 951_782_400,
                nanos: 120_000_000
            }),
            "2000-02-29T00:00:00.120000000Z"
        );
    }

    #[test]
    fn ansic_dates() {
        assert_eq!(ansic(1_778_188_176), "Thu May  7 21:09:36 2026");
        assert_eq!(ansic(0), "Thu Jan  1 00:00:00 1970");
    }

    #[test]
    fn parses_dates() {
        let t = |s| parse_date(s).map(|t| (t.secs, t.nanos));
        assert_eq!(t("2024-05-01T10:20:30Z"), Some((1_714_558_830, 0)));
        assert_eq!(
            t("2024-05-01T10:20:30.5Z"),
            Some((1_714_558_830, 500_000_000))
        );
        assert_eq!(t("2024-05-01T12:20:30+02:00"), Some((1_714_558_830, 0)));
        assert_eq!(t("2024-05-01T10:20"), Some((1_714_558_800, 0)));
        assert_eq!(t("2024-05-01"), Some((1_714_521_600, 0)));
        assert_eq!(t("2024-13-01"), None);
        assert_eq!(t("yesterday"), None);
    }

    #[test]
    fn parses_go_durations() {
        let d = |s| parse_go_duration(s).map(|(neg, d)| (neg, d.as_millis()));
        assert_eq!(d("1m30s"), Some((false, 90_000)));
        assert_eq!(d("300ms"), Some((false, 300)));
        assert_eq!(d("1.5h"), Some((false, 5_400_000)));
        assert_eq!(d("-2s"), Some((true, 2000)));
        assert_eq!(d("0"), Some((false, 0)));
        assert_eq!(d("10"), None);
        assert_eq!(d("5x"), None);
        assert_eq!(d(""), None);
    }

    #[test]
    fn timestamps_for_since_and_until() {
        let now = UnixTime {
            secs: 1_000_000,
            nanos: 5,
        };
        assert_eq!(timestamp_arg("10m", now).unwrap(), "999400");
        assert_eq!(timestamp_arg("1714558830", now).unwrap(), "1714558830");
        assert_eq!(timestamp_arg("1714558830.5", now).unwrap(), "1714558830.5");
        assert_eq!(timestamp_arg("0", now).unwrap(), "0");
        assert_eq!(
            timestamp_arg("2024-05-01T10:20:30Z", now).unwrap(),
            "1714558830.000000000"
        );
        assert_eq!(
            timestamp_arg("soon", now).unwrap_err(),
            "failed to parse value as time or duration: \"soon\""
        );
    }

    #[test]
    fn elapsed_is_never_negative() {
        let then = UnixTime { secs: 10, nanos: 0 };
        let now = UnixTime { secs: 12, nanos: 1 };
        assert_eq!(then.elapsed_until(now), Duration::new(2, 1));
        assert_eq!(now.elapsed_until(then), Duration::ZERO);
    }
}
