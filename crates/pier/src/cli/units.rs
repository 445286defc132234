//! The units of Docker's CLI text (go-units), through `api::units`: durations (`5 minutes`),
//! sizes (`1.23MB`) and memory sizes in flags (`512m`).

use std::time::Duration;

/// `About a minute`, `5 seconds`...
pub fn human_duration(duration: Duration) -> String {
    api::units::human_duration(duration)
}

/// `5 seconds ago`.
pub fn ago(secs: i64, now: super::time::UnixTime) -> String {
    let then = super::time::UnixTime { secs, nanos: 0 };
    format!("{} ago", human_duration(then.elapsed_until(now)))
}

/// A size with three significant digits (`HumanSizeWithPrecision(size, 3)`: `ps`, `images`).
pub fn size3(bytes: i64) -> String {
    api::units::human_size_with_precision(bytes as f64, 3)
}

/// A size with four significant digits (`HumanSize`: `system df`).
pub fn size4(bytes: i64) -> String {
    api::units::human_size(bytes as f64)
}

/// `RAMInBytes`: `512m` → 536870912; the error is go-units' text.
pub fn ram_in_bytes(text: &str) -> Result<i64, String> {
    api::units::ram_in_bytes(text).map_err(|e| e.to_string())
}

/// A size in binary units (`BytesSize`: `15.6GiB`, `info`'s Total Memory).
pub fn binary_size(bytes: i64) -> String {
    api::units::bytes_size(bytes as f64)
}
