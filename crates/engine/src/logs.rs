//! `docker logs`: the container's json-file log (written by its shim, rotated), read from
//! the oldest rotated file on, filtered and framed, and followed while the container runs.

use std::sync::Arc;
use std::time::Duration;

use api::stdcopy::{self, StreamType};
use runtime::logfile::{LogReader, Stream};
use tokio::sync::mpsc;

use crate::Engine;
use crate::error::{EngineError, Result};

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Unix time (seconds, nanoseconds): entries before it are skipped.
    pub since: Option<(i64, u32)>,
    /// Entries after it are skipped, and following stops there.
    pub until: Option<(i64, u32)>,
    pub timestamps: bool,
    /// The last n entries only.
    pub tail: Option<usize>,
}

/// How often a follower looks for new output.
const FOLLOW_POLL: Duration = Duration::from_millis(50);

impl Engine {
    /// Streams the container's log as chunks ready to send (framed unless it has a tty).
    pub fn container_logs(
        self: &Arc<Self>,
        reference: &str,
        options: LogOptions,
    ) -> Result<(bool, mpsc::Receiver<Vec<u8>>)> {
        if !options.stdout && !options.stderr {
            return Err(EngineError::InvalidArgument(
                "Bad parameters: you must choose at least one stream".into(),
            ));
        }
        let handle = self.containers.get(reference)?;
        let (tty, path) = {
            let record = handle.record();
            (record.tty(), record.log_path.clone())
        };
        let (sender, receiver) = mpsc::channel(64);
        std::thread::Builder::new()
            .name("logs".into())
            .spawn(move || {
                let alive = || handle.record().state.status.is_alive();
                let Ok(mut reader) = LogReader::open(&path) else {
                    return;
                };
                if let Some(n) = options.tail
                    && reader.tail(n).is_err()
                {
                    return;
                }
                let mut finishing = false;
                loop {
                    match reader.next_entry() {
                        Ok(Some(entry)) => {
                            let key = (entry.secs, entry.nanos);
                            if options.until.is_some_and(|u| key > u) {
                                return;
                            }
                            if options.since.is_some_and(|s| key < s) {
                                continue;
                            }
                            let wanted = match entry.stream {
                                Stream::Stdout => options.stdout,
                                Stream::Stderr => options.stderr,
                            };
                            if !wanted {
                                continue;
                            }
                            let mut payload = Vec::with_capacity(entry.bytes.len() + 40);
                            if options.timestamps {
                                payload.extend_from_slice(entry.time.as_bytes());
                                payload.push(b' ');
                            }
                            payload.extend_from_slice(&entry.bytes);
                            let chunk = if tty {
                                payload
                            } else {
                                let kind = match entry.stream {
                                    Stream::Stdout => StreamType::Stdout,
                                    Stream::Stderr => StreamType::Stderr,
                                };
                                let mut framed =
                                    Vec::with_capacity(payload.len() + stdcopy::HEADER_LEN);
                                stdcopy::encode_into(kind, &payload, &mut framed);
                                framed
                            };
                            if sender.blocking_send(chunk).is_err() {
                                return;
                            }
                        }
                        Ok(None) if options.follow && !finishing => {
                            if sender.is_closed() {
                                return;
                            }
                            // One more pass after the container stops picks up its last words.
                            finishing = !alive();
                            if !finishing {
                                std::thread::sleep(FOLLOW_POLL);
                            }
                        }
                        Ok(None) | Err(_) => return,
                    }
                }
            })
            .map_err(|e| EngineError::Internal(format!("starting a log reader: {e}")))?;
        Ok((tty, receiver))
    }
}

/// Docker's `since`/`until`: unix seconds with an optional fraction (`1700000000.5`).
pub fn parse_timestamp(text: &str) -> Result<Option<(i64, u32)>> {
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    let invalid =
        || EngineError::InvalidArgument(format!("invalid value for \"since\"/\"until\": {text}"));
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: i64 = secs.parse().map_err(|_| invalid())?;
    let nanos = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        format!("{frac:0<9}")
            .parse::<u32>()
            .map_err(|_| invalid())?
    };
    Ok(Some((secs, nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_fractions() {
        assert_eq!(parse_timestamp("").unwrap(), None);
        assert_eq!(parse_timestamp("12").unwrap(), Some((12, 0)));
        assert_eq!(parse_timestamp("12.5").unwrap(), Some((12, 500_000_000)));
        assert_eq!(parse_timestamp("12.000000001").unwrap(), Some((12, 1)));
        assert!(parse_timestamp("x").is_err());
    }
}
