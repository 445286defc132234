//! Docker's units, as the `docker/go-units` package and Docker's CLI spell them: sizes given
//! by users (`-m 512m`), sizes and durations shown to users (`1.23MB`, `5 minutes`),
//! container status strings (`Up 5 minutes`, `Exited (0) 2 seconds ago`) and `--cpus`.
//!
//! Parsing follows go-units v0.4.0, the version Docker 20.10 ships: an unknown suffix is an
//! `invalid size: '12zz'` there (v0.5.0 says `invalid suffix` instead).

use std::time::{Duration, SystemTime};

const KIB: f64 = 1024.0;

/// Why a size given by a user was refused. The text is go-units' own; the CLI puts
/// `invalid argument "12zz" for "-m, --memory" flag: ` in front of it, as Docker's does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// The text is not a number followed by an optional unit.
    #[error("invalid size: '{0}'")]
    Invalid(String),
    /// The number part has the form of one but is not one (`1.5.5m`), or is too large.
    #[error("strconv.ParseFloat: parsing \"{number}\": {reason}")]
    Number {
        /// The digits and dots before the unit.
        number: String,
        /// Go's words for what is wrong with them.
        reason: &'static str,
    },
}

/// A size in bytes from text with binary units (`k` = 1024): Docker's `RAMInBytes`, used
/// by `--memory`, `--memory-swap`, `--shm-size` and the like. Units are `b k m g t p`, in
/// either case, optionally followed by `i` and/or `b` (`512m`, `1.5GiB`, `10 kb`).
pub fn ram_in_bytes(size: &str) -> Result<i64, SizeError> {
    parse_size(size, KIB)
}

/// A size in bytes from text with decimal units (`k` = 1000): go-units' `FromHumanSize`.
pub fn from_human_size(size: &str) -> Result<i64, SizeError> {
    parse_size(size, 1000.0)
}

/// The grammar of go-units v0.4.0: `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`.
fn parse_size(text: &str, base: f64) -> Result<i64, SizeError> {
    let invalid = || SizeError::Invalid(text.to_string());
    let bytes = text.as_bytes();
    let mut at = 0;
    loop {
        let digits_start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        if at == digits_start {
            return Err(invalid());
        }
        // A dot belongs to the number only when digits follow it.
        if at + 1 < bytes.len() && bytes[at] == b'.' && bytes[at + 1].is_ascii_digit() {
            at += 1;
        } else {
            break;
        }
    }
    let number = &text[..at];
    let mut rest = &bytes[at..];
    if let [b' ', tail @ ..] = rest {
        rest = tail;
    }
    let mut exponent = 0;
    if let [unit, tail @ ..] = rest
        && let Some(position) = b"kmgtp"
            .iter()
            .position(|u| *u == unit.to_ascii_lowercase())
    {
        exponent = position as i32 + 1;
        rest = tail;
    }
    if let [b'i' | b'I', tail @ ..] = rest {
        rest = tail;
    }
    if let [b'b' | b'B', tail @ ..] = rest {
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(invalid());
    }
    let value = parse_go_float(number)?;
    Ok((value * base.powi(exponent)) as i64)
}

/// `strconv.ParseFloat` on text that is digits and dots.
fn parse_go_float(number: &str) -> Result<f64, SizeError> {
    let error = |reason| SizeError::Number {
        number: number.to_string(),
        reason,
    };
    if number.matches('.').count() > 1 {
        return Err(error("invalid syntax"));
    }
    let value: f64 = number.parse().map_err(|_| error("invalid syntax"))?;
    if value.is_infinite() {
        return Err(error("value out of range"));
    }
    Ok(value)
}

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/// go-units' `HumanSize`: decimal units with 4 significant digits (`1.235MB`).
///
/// Docker's CLI shows image and container sizes with 3 (`docker images` says `1.23MB`):
/// that is [`human_size_with_precision`]`(size, 3)`.
pub fn human_size(size: f64) -> String {
    human_size_with_precision(size, 4)
}

/// go-units' `HumanSizeWithPrecision`: decimal units (`kB`, `MB`, ...), the number printed
/// as Go's `%.*g` prints it (`999999` with 3 digits is `1e+03kB`, as in Docker).
pub fn human_size_with_precision(size: f64, precision: usize) -> String {
    let (value, unit) = scale(size, 1000.0, &DECIMAL_UNITS);
    format!("{}{unit}", format_g(value, precision))
}

/// go-units' `BytesSize`: binary units (`KiB`, `MiB`, ...) with 4 significant digits.
pub fn bytes_size(size: f64) -> String {
    let (value, unit) = scale(size, KIB, &BINARY_UNITS);
    format!("{}{unit}", format_g(value, 4))
}

fn scale(mut size: f64, base: f64, units: &'static [&'static str]) -> (f64, &'static str) {
    let mut index = 0;
    while size >= base && index < units.len() - 1 {
        size /= base;
        index += 1;
    }
    (size, units[index])
}

/// Go's `%.{precision}g`: `precision` significant digits, an exponent when it is below -4
/// or not below the precision, trailing zeros removed.
fn format_g(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let precision = precision.max(1);
    let scientific = format!("{:.*e}", precision - 1, value.abs());
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if exponent < -4 || exponent >= precision as i32 {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{dot}{rest}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        let zeros = "0".repeat(integer_len - digits.len());
        format!("{sign}{digits}{zeros}")
    } else {
        let (integer, fraction) = digits.split_at(integer_len);
        format!("{sign}{integer}.{fraction}")
    }
}

/// go-units' `HumanDuration`: "Less than a second", "1 second", "About a minute",
/// "5 minutes", "About an hour", "3 hours", "2 days", "3 weeks", "4 months", "2 years".
pub fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let minutes = seconds / 60;
    // Hours round to the nearest (go-units adds half an hour) while all else truncates.
    let hours = (duration.as_secs_f64() / 3600.0 + 0.5) as u64;
    match () {
        _ if seconds < 1 => "Less than a second".into(),
        _ if seconds == 1 => "1 second".into(),
        _ if seconds < 60 => format!("{seconds} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", seconds / 3600 / 24 / 365),
    }
}

/// How long ago `then` was, as Docker's CLI says it in CREATED columns: "5 minutes ago".
/// A time in the future counts as now, as a negative Go duration does.
pub fn human_duration_since(then: SystemTime, now: SystemTime) -> String {
    format!("{} ago", human_duration(elapsed(Some(then), now)))
}

fn elapsed(since: Option<SystemTime>, now: SystemTime) -> Duration {
    since
        .and_then(|since| now.duration_since(since).ok())
        .unwrap_or_default()
}

/// What Docker's daemon knows of a container's state that its status strings are made from.
/// `None` times are Go's zero time (`0001-01-01T00:00:00Z`): never started, never finished.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateSummary<'a> {
    /// The process is alive (also while paused or restarting).
    pub running: bool,
    /// Its cgroup is frozen.
    pub paused: bool,
    /// The restart policy is bringing it back.
    pub restarting: bool,
    /// `docker rm` is under way.
    pub removal_in_progress: bool,
    /// Removal failed half-way.
    pub dead: bool,
    /// Exit code of the last run.
    pub exit_code: i64,
    /// When the last run started.
    pub started_at: Option<SystemTime>,
    /// When the last run ended.
    pub finished_at: Option<SystemTime>,
    /// Health status when a health check is configured: `starting`, `healthy`, `unhealthy`.
    pub health: Option<&'a str>,
}

/// The `Status` of a container in `GET /containers/json` and `docker ps`, as Docker's
/// daemon words it: `Up 5 minutes`, `Up Less than a second`, `Up 3 minutes (Paused)`,
/// `Up 2 hours (healthy)`, `Up 4 seconds (health: starting)`, `Restarting (1) 3 seconds
/// ago`, `Exited (0) 2 seconds ago`, `Created`, `Removal In Progress`, `Dead`.
pub fn container_status(state: &StateSummary<'_>, now: SystemTime) -> String {
    if state.running {
        let up = human_duration(elapsed(state.started_at, now));
        if state.paused {
            return format!("Up {up} (Paused)");
        }
        if state.restarting {
            let ago = human_duration(elapsed(state.finished_at, now));
            return format!("Restarting ({}) {ago} ago", state.exit_code);
        }
        return match state.health {
            Some("starting") => format!("Up {up} (health: starting)"),
            Some(health) => format!("Up {up} ({health})"),
            None => format!("Up {up}"),
        };
    }
    if state.removal_in_progress {
        return "Removal In Progress".into();
    }
    if state.dead {
        return "Dead".into();
    }
    if state.started_at.is_none() {
        return "Created".into();
    }
    if state.finished_at.is_none() {
        return String::new();
    }
    let ago = human_duration(elapsed(state.finished_at, now));
    format!("Exited ({}) {ago} ago", state.exit_code)
}

/// The `State` of a container in `GET /containers/json`: `created`, `running`, `paused`,
/// `restarting`, `removing`, `exited` or `dead`.
pub fn container_state(state: &StateSummary<'_>) -> &'static str {
    match () {
        _ if state.running && state.paused => "paused",
        _ if state.running && state.restarting => "restarting",
        _ if state.running => "running",
        _ if state.removal_in_progress => "removing",
        _ if state.dead => "dead",
        _ if state.started_at.is_none() => "created",
        _ => "exited",
    }
}

/// Why `--cpus` was refused, in the words of Docker's CLI (flag parsing included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpusError {
    /// Not a decimal number or a fraction.
    #[error(
        "invalid argument \"{0}\" for \"--cpus\" flag: failed to parse {0} as a rational number"
    )]
    NotRational(String),
    /// More digits than a nano-CPU resolves.
    #[error("invalid argument \"{0}\" for \"--cpus\" flag: value is too precise")]
    TooPrecise(String),
}

/// `--cpus` in nano-CPUs (`1.5` -> 1_500_000_000), as Docker's `ParseCPUs` reads it: a
/// decimal number with an optional exponent (`1.5`, `.5`, `2e-1`) or a fraction (`3/2`).
/// Values too large for an i64 saturate; the daemon refuses them by their range.
pub fn parse_cpus(value: &str) -> Result<i64, CpusError> {
    let not_rational = || CpusError::NotRational(value.to_string());
    let (numerator, denominator) = parse_rational(value).ok_or_else(not_rational)?;
    let nano = numerator.checked_mul(1_000_000_000);
    match nano {
        Some(nano) if nano % denominator != 0 => Err(CpusError::TooPrecise(value.to_string())),
        Some(nano) => Ok(clamp_i64(nano / denominator)),
        None if numerator < 0 => Ok(i64::MIN),
        None => Ok(i64::MAX),
    }
}

fn clamp_i64(value: i128) -> i64 {
    value.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// A rational `numerator / denominator` (denominator > 0) from `[+-]a/b` or a decimal
/// floating-point number; `None` when the text is neither (or does not fit in i128).
fn parse_rational(text: &str) -> Option<(i128, i128)> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let sign = if negative { -1 } else { 1 };
    if let Some((numerator, denominator)) = unsigned.split_once('/') {
        let numerator = parse_digits(numerator)?;
        let denominator = parse_digits(denominator)?;
        if denominator == 0 {
            return None;
        }
        return Some((sign * numerator, denominator));
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits = format!("{integer}{fraction}");
    let mut numerator = parse_digits(&digits)?;
    let mut denominator: i128 = 1;
    let scale = exponent - fraction.len() as i64;
    let power = 10i128.checked_pow(u32::try_from(scale.unsigned_abs()).ok()?)?;
    if scale >= 0 {
        numerator = numerator.checked_mul(power)?;
    } else {
        denominator = power;
    }
    Some((sign * numerator, denominator))
}

fn parse_digits(text: &str) -> Option<i128> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_in_bytes_reads_binary_units() {
        let cases: &[(&str, i64)] = &[
            ("32", 32),
            ("32b", 32),
            ("32B", 32),
            ("32k", 32 * 1024),
            ("32K", 32 * 1024),
            ("32kb", 32 * 1024),
            ("32Kb", 32 * 1024),
            ("32Kib", 32 * 1024),
            ("32KIB", 32 * 1024),
            ("32Mb", 32 * 1024 * 1024),
            ("32Gb", 32 * 1024 * 1024 * 1024),
            ("32Tb", 32 * 1024 * 1024 * 1024 * 1024),
            ("8Pb", 8 * 1024 * 1024 * 1024 * 1024 * 1024),
            ("512m", 512 * 1024 * 1024),
            ("10 m", 10 * 1024 * 1024),
            ("0.3m", 314572),
            ("1.5g", 1610612736),
            ("10i", 10),
            ("10ib", 10),
            ("0", 0),
        ];
        for (text, want) in cases {
            assert_eq!(ram_in_bytes(text), Ok(*want), "{text}");
        }
    }

    #[test]
    fn ram_in_bytes_refuses_like_docker_20_10() {
        let invalid = [
            "", "12zz", "-5m", ".5m", "5.m", "1e3", "32mb ", " 32", "32  m", "m", "32bb", "32ki b",
        ];
        for text in invalid {
            assert_eq!(
                ram_in_bytes(text).unwrap_err().to_string(),
                format!("invalid size: '{text}'"),
                "{text}"
            );
        }
        assert_eq!(
            ram_in_bytes("1.5.5m").unwrap_err().to_string(),
            "strconv.ParseFloat: parsing \"1.5.5\": invalid syntax"
        );
    }

    #[test]
    fn from_human_size_reads_decimal_units() {
        let cases: &[(&str, i64)] = &[
            ("32", 32),
            ("32kb", 32_000),
            ("32KiB", 32_000),
            ("32M", 32_000_000),
            ("1.5G", 1_500_000_000),
            ("2t", 2_000_000_000_000),
        ];
        for (text, want) in cases {
            assert_eq!(from_human_size(text), Ok(*want), "{text}");
        }
        assert!(from_human_size("hello").is_err());
    }

    #[test]
    fn sizes_print_as_go_units_does() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0B"),
            (1.0, "1B"),
            (1000.0, "1kB"),
            (1024.0, "1.024kB"),
            (1_234_567.0, "1.235MB"),
            (1e6, "1MB"),
            (1e7, "10MB"),
            (1e9, "1GB"),
            (3.42e12, "3.42TB"),
            (1e15, "1PB"),
            (1e18, "1EB"),
            (1e27, "1000YB"),
            (1e28, "1e+04YB"),
            (999.9, "999.9B"),
        ];
        for (size, want) in cases {
            assert_eq!(human_size(*size), *want, "{size}");
        }
    }

    #[test]
    fn docker_images_size_has_three_digits() {
        let cases: &[(f64, &str)] = &[
            (1_234_567.0, "1.23MB"),
            (4_261_888.0, "4.26MB"),
            (77_800_000.0, "77.8MB"),
            (999_999.0, "1e+03kB"),
            (100_000.0, "100kB"),
            (0.0, "0B"),
            (5.0, "5B"),
        ];
        for (size, want) in cases {
            assert_eq!(human_size_with_precision(*size, 3), *want, "{size}");
        }
    }

    #[test]
    fn binary_sizes_print_as_go_units_does() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0B"),
            (1024.0, "1KiB"),
            (1024.0 * 1024.0, "1MiB"),
            (1_048_577.0, "1MiB"),
            (1024.0 * 1024.0 * 1024.0 * 3.5, "3.5GiB"),
            (1024.0f64.powi(4) * 1.25, "1.25TiB"),
            (1023.0, "1023B"),
            (1536.0, "1.5KiB"),
        ];
        for (size, want) in cases {
            assert_eq!(bytes_size(*size), *want, "{size}");
        }
    }

    #[test]
    fn go_g_format_matches_go() {
        let cases: &[(f64, usize, &str)] = &[
            (1.234567, 3, "1.23"),
            (999.9, 3, "1e+03"),
            (100.0, 3, "100"),
            (1023.5, 4, "1024"),
            (0.0001234, 3, "0.000123"),
            (0.00001234, 3, "1.23e-05"),
            (-2.5, 2, "-2.5"),
            (12.0, 1, "1e+01"),
            (0.5, 0, "0.5"),
        ];
        for (value, precision, want) in cases {
            assert_eq!(format_g(*value, *precision), *want, "{value} {precision}");
        }
    }

    #[test]
    fn durations_read_as_go_units_does() {
        let s = Duration::from_secs;
        let cases: &[(Duration, &str)] = &[
            (Duration::ZERO, "Less than a second"),
            (Duration::from_millis(999), "Less than a second"),
            (s(1), "1 second"),
            (s(2), "2 seconds"),
            (s(59), "59 seconds"),
            (s(60), "About a minute"),
            (s(119), "About a minute"),
            (s(120), "2 minutes"),
            (s(59 * 60 + 59), "59 minutes"),
            (s(3600), "About an hour"),
            (s(3600 + 29 * 60), "About an hour"),
            (s(3600 + 30 * 60), "2 hours"),
            (s(47 * 3600), "47 hours"),
            (s(47 * 3600 + 30 * 60), "2 days"),
            (s(13 * 24 * 3600), "13 days"),
            (s(14 * 24 * 3600), "2 weeks"),
            (s(59 * 24 * 3600), "8 weeks"),
            (s(60 * 24 * 3600), "2 months"),
            (s(729 * 24 * 3600), "24 months"),
            (s(730 * 24 * 3600), "2 years"),
            (s(3 * 365 * 24 * 3600 + 100), "3 years"),
        ];
        for (duration, want) in cases {
            assert_eq!(human_duration(*duration), *want, "{duration:?}");
        }
    }

    fn at(seconds_before_now: u64, now: SystemTime) -> Option<SystemTime> {
        Some(now - Duration::from_secs(seconds_before_now))
    }

    #[test]
    fn container_status_reads_as_dockers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let running = StateSummary {
            running: true,
            started_at: at(300, now),
            ..Default::default()
        };
        let exited = StateSummary {
            exit_code: 0,
            started_at: at(10, now),
            finished_at: at(2, now),
            ..Default::default()
        };
        let cases: Vec<(StateSummary, &str, &str)> = vec![
            (running.clone(), "Up 5 minutes", "running"),
            (
                StateSummary {
                    started_at: Some(now),
                    ..running.clone()
                },
                "Up Less than a second",
                "running",
            ),
            (
                StateSummary {
                    started_at: at(180, now),
                    paused: true,
                    ..running.clone()
                },
                "Up 3 minutes (Paused)",
                "paused",
            ),
            (
                StateSummary {
                    health: Some("healthy"),
                    ..running.clone()
                },
                "Up 5 minutes (healthy)",
                "running",
            ),
            (
                StateSummary {
                    health: Some("starting"),
                    ..running.clone()
                },
                "Up 5 minutes (health: starting)",
                "running",
            ),
            (
                StateSummary {
                    restarting: true,
                    exit_code: 1,
                    finished_at: at(3, now),
                    ..running.clone()
                },
                "Restarting (1) 3 seconds ago",
                "restarting",
            ),
            (exited.clone(), "Exited (0) 2 seconds ago", "exited"),
            (
                StateSummary {
                    exit_code: 137,
                    finished_at: at(7200, now),
                    ..exited.clone()
                },
                "Exited (137) 2 hours ago",
                "exited",
            ),
            (StateSummary::default(), "Created", "created"),
            (
                StateSummary {
                    removal_in_progress: true,
                    ..exited.clone()
                },
                "Removal In Progress",
                "removing",
            ),
            (
                StateSummary {
                    dead: true,
                    ..exited.clone()
                },
                "Dead",
                "dead",
            ),
            (
                StateSummary {
                    finished_at: None,
                    ..exited.clone()
                },
                "",
                "exited",
            ),
        ];
        for (state, status, short) in cases {
            assert_eq!(container_status(&state, now), status, "{state:?}");
            assert_eq!(container_state(&state), short, "{state:?}");
        }
        assert_eq!(
            human_duration_since(now - Duration::from_secs(90), now),
            "About a minute ago"
        );
        assert_eq!(
            human_duration_since(now + Duration::from_secs(90), now),
            "Less than a second ago"
        );
    }

    #[test]
    fn cpus_are_read_as_rationals() {
        let cases: &[(&str, i64)] = &[
            ("1", 1_000_000_000),
            ("1.5", 1_500_000_000),
            ("0.01", 10_000_000),
            (".5", 500_000_000),
            ("2.", 2_000_000_000),
            ("3/2", 1_500_000_000),
            ("-1", -1_000_000_000),
            ("+2", 2_000_000_000),
            ("2e-1", 200_000_000),
            ("1E2", 100_000_000_000),
            ("0.000000001", 1),
            ("0", 0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_cpus(text), Ok(*want), "{text}");
        }
    }

    #[test]
    fn cpus_errors_read_as_dockers() {
        assert_eq!(
            parse_cpus("x").unwrap_err().to_string(),
            "invalid argument \"x\" for \"--cpus\" flag: failed to parse x as a rational number"
        );
        for text in [
            "", "1.5.5", "1/0", "1e", "abc", "1,5", " 1", "-", "1/-2", ".",
        ] {
            assert_eq!(
                parse_cpus(text),
                Err(CpusError::NotRational(text.into())),
                "{text}"
            );
        }
        assert_eq!(
            parse_cpus("0.0000000001").unwrap_err().to_string(),
            "invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too precise"
        );
        assert_eq!(parse_cpus("1e30"), Ok(i64::MAX));
    }
}
