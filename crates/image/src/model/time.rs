//! RFC 3339 timestamps as image configs carry them (`created`), read and written the way
//! Go's `time` package does: parsed strictly, printed in `RFC3339Nano` form (fraction
//! without trailing zeros, `Z` for UTC), and turned into Unix seconds for the APIs that
//! want numbers (`docker history`).

use std::time::{SystemTime, UNIX_EPOCH};

/// A parsed timestamp, with the wall-clock fields and offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset from UTC in seconds.
    offset: i32,
}

/// Go's zero `time.Time` in Unix seconds (0001-01-01T00:00:00Z), what Docker reports for
/// a missing time.
pub const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// Go's zero `time.Time` as `RFC3339Nano`.
pub const GO_ZERO_RFC3339: &str = "0001-01-01T00:00:00Z";

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as Go's JSON decoding of a
    /// `time.Time` accepts it.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let num = |from: usize, to: usize| -> Option<u32> {
            let part = s.get(from..to)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = i64::from(num(0, 4)?);
        let (month, day) = (num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        let mut rest = &s[19..];
        let mut nanos = 0;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            for (i, d) in fraction.bytes().take(9).take(digits).enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
            }
            rest = &fraction[digits..];
        }
        let offset = match rest {
            "Z" => 0,
            _ => {
                let rb = rest.as_bytes();
                if rb.len() != 6 || rb[3] != b':' || !matches!(rb[0], b'+' | b'-') {
                    return None;
                }
                let hh: i32 = rest[1..3].parse().ok()?;
                let mm: i32 = rest[4..6].parse().ok()?;
                if !rest[1..3]
                    .bytes()
                    .chain(rest[4..6].bytes())
                    .all(|c| c.is_ascii_digit())
                    || hh > 23
                    || mm > 59
                {
                    return None;
                }
                let sign = if rb[0] == b'-' { -1 } else { 1 };
                sign * (hh * 3600 + mm * 60)
            }
        };
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset,
        })
    }

    /// From Unix time, in UTC.
    pub fn from_unix(seconds: i64, nanos: u32) -> Timestamp {
        let days = seconds.div_euclid(86_400);
        let secs = seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Timestamp {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            nanos: nanos.min(999_999_999),
            offset: 0,
        }
    }

    /// The current time, in UTC.
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    pub fn from_system_time(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let (mut secs, mut nanos) = (-(d.as_secs() as i64), d.subsec_nanos());
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Timestamp::from_unix(secs, nanos)
            }
        }
    }

    /// Seconds since the Unix epoch (Go's `Time.Unix`).
    pub fn unix_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
            - i64::from(self.offset)
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Go's `Format(time.RFC3339Nano)`: the same wall clock and offset, the fraction
    /// without trailing zeros, `Z` for a zero offset.
    pub fn to_rfc3339_nano(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos > 0 {
            let fraction = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(fraction.trim_end_matches('0'));
        }
        if self.offset == 0 {
            s.push('Z');
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let abs = self.offset.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60));
        }
        s
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339_nano())
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_go_does() {
        let t = Timestamp::parse("2023-05-19T20:19:24.5489546Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_684_527_564);
        assert_eq!(t.subsec_nanos(), 548_954_600);
        assert_eq!(t.to_rfc3339_nano(), "2023-05-19T20:19:24.5489546Z");
        let t = Timestamp::parse("2023-05-19T22:19:24.000000000+02:00").unwrap();
        assert_eq!(t.unix_seconds(), 1_684_527_564);
        assert_eq!(t.to_rfc3339_nano(), "2023-05-19T22:19:24+02:00");
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00+00:00")
                .unwrap()
                .to_rfc3339_nano(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::parse(GO_ZERO_RFC3339).unwrap().unix_seconds(),
            GO_ZERO_UNIX
        );
        assert_eq!(
            Timestamp::parse("2024-02-29T23:59:59-05:30")
                .unwrap()
                .unix_seconds(),
            1_709_270_999
        );
        for bad in [
            "",
            "2023-05-19",
            "2023-05-19 20:19:24Z",
            "2023-05-19T20:19:24",
            "2023-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:60:00Z",
            "2023-01-01T00:00:60Z",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00+0100",
            "2023-01-01T00:00:00+24:00",
            "2023-01-01T00:00:00z",
            "+023-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn mutated_timestamps_never_panic() {
        let base = "2023-05-19T20:19:24.548954600+02:00";
        let replacements = ["", "é", "+", "-", "9", "Z", ":", ".", "€", "T"];
        for i in 0..base.len() {
            for r in replacements {
                let mutated = format!("{}{r}{}", &base[..i], &base[i + 1..]);
                if let Some(t) = Timestamp::parse(&mutated) {
                    assert_eq!(
                        Timestamp::parse(&t.to_rfc3339_nano()).map(|u| u.unix_seconds()),
                        Some(t.unix_seconds())
                    );
                }
            }
        }
    }

    #[test]
    fn unix_round_trip() {
        for secs in [
            0,
            1,
            86_399,
            86_400,
            951_782_400,
            1_709_251_199,
            4_102_444_800,
            -1,
        ] {
            let t = Timestamp::from_unix(secs, 120_000_000);
            assert_eq!(t.unix_seconds(), secs);
            assert_eq!(Timestamp::parse(&t.to_rfc3339_nano()), Some(t));
        }
        assert_eq!(
            Timestamp::from_unix(0, 0).to_string(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix(1_709_251_199, 1).to_string(),
            "2024-02-29T23:59:59.000000001Z"
        );
        let now = Timestamp::now();
        assert!(now.unix_seconds() > 1_700_000_000);
    }
}
