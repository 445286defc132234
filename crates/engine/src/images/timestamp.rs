//! Times as Docker's API accepts them in `since`, `until` and `until=` filters (its
//! `timetypes.GetTimestamp` then `ParseTimestamps`), as nanoseconds since the epoch. The
//! grammar is [`api::time`]'s, shared with the CLI.

use api::time::{UnixTime, timestamp_arg};

/// Nanoseconds since the epoch of `value`, with `now_nanos` the present (for durations).
pub fn parse_timestamp(value: &str, now_nanos: i64) -> Result<i64, String> {
    let text = timestamp_arg(value, UnixTime::from_nanos(now_nanos))?;
    parse_unix(&text).ok_or_else(|| format!("failed to parse value as time or duration: {value:?}"))
}

/// `seconds[.fraction]` (Docker's `ParseTimestamps`).
fn parse_unix(value: &str) -> Option<i64> {
    let (seconds, fraction) = value.split_once('.').unwrap_or((value, ""));
    let negative = seconds.starts_with('-');
    let seconds: i64 = seconds.parse().ok()?;
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    let nanos = if negative { -nanos } else { nanos };
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
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
