//! The writer and the reader together: rotation, reading across rotated files, tail, follow.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

/// Every entry from the reader's position to the current end.
fn drain(reader: &mut LogReader) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(e) = reader.next_entry().unwrap() {
        out.push(String::from_utf8(e.bytes).unwrap());
    }
    out
}

fn read_all(path: &Path) -> Vec<String> {
    drain(&mut LogReader::open(path).unwrap())
}

fn lines(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("line {i:04}\n")).collect()
}

/// The size of one entry of `lines` in the file.
fn entry_size() -> u64 {
    let mut out = Vec::new();
    encode::encode_entry(
        &mut out,
        b"line 0000\n",
        Stream::Stdout,
        &encode::format_time(at(0)),
    );
    out.len() as u64
}

fn write_lines(w: &mut LogWriter, range: std::ops::Range<usize>) {
    for (i, line) in range.clone().zip(lines(range)) {
        w.write(Stream::Stdout, line.as_bytes(), at(i as u64))
            .unwrap();
    }
}

fn file_sizes(path: &Path, rotated: u32) -> Vec<Option<u64>> {
    (0..=rotated)
        .map(|n| {
            let p = if n == 0 {
                path.to_owned()
            } else {
                rotated_path(path, n)
            };
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .collect()
}

#[test]
fn entries_round_trip_with_stream_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c-json.log");
    let mut w = LogWriter::open(&path, Rotation::default()).unwrap();
    w.write(Stream::Stdout, b"out 1\nout", at(1)).unwrap();
    w.write(Stream::Stderr, b"err\n", at(2)).unwrap();
    w.write(Stream::Stdout, b" 2\n", at(3)).unwrap();
    w.write(Stream::Stdout, b"no newline", at(4)).unwrap();
    w.finish(at(5)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        r#"{"log":"out 1\n","stream":"stdout","time":"2027-01-15T08:00:01.000000000Z"}"#
    );
    let mut reader = LogReader::open(&path).unwrap();
    let mut entries = Vec::new();
    while let Some(e) = reader.next_entry().unwrap() {
        entries.push(e);
    }
    let summary: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.stream,
                String::from_utf8_lossy(&e.bytes).into_owned(),
                e.secs,
            )
        })
        .collect();
    let base = 1_800_000_000;
    assert_eq!(
        summary,
        vec![
            (Stream::Stdout, "out 1\n".to_owned(), base + 1),
            (Stream::Stderr, "err\n".to_owned(), base + 2),
            (Stream::Stdout, "out 2\n".to_owned(), base + 3),
            (Stream::Stdout, "no newline".to_owned(), base + 5),
        ]
    );
    assert_eq!(entries[0].time, "2027-01-15T08:00:01.000000000Z");
    assert_eq!(entries[0].nanos, 0);
}

#[test]
fn a_reopened_log_is_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    write_lines(
        &mut LogWriter::open(&path, Rotation::default()).unwrap(),
        0..2,
    );
    write_lines(
        &mut LogWriter::open(&path, Rotation::default()).unwrap(),
        2..4,
    );
    assert_eq!(read_all(&path), lines(0..4));
}

#[test]
fn rotation_with_one_file_truncates_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rotation = Rotation {
        max_size: Some(entry_size() * 3),
        max_files: 1,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    write_lines(&mut w, 0..7);
    // 3 fit, then 3 more after a truncation, then the 7th alone.
    assert_eq!(file_sizes(&path, 1), vec![Some(entry_size()), None]);
    assert_eq!(read_all(&path), lines(6..7));
}

#[test]
fn rotation_with_two_files_keeps_one_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rotation = Rotation {
        max_size: Some(entry_size() * 3),
        max_files: 2,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    write_lines(&mut w, 0..8);
    assert_eq!(
        file_sizes(&path, 2),
        vec![Some(entry_size() * 2), Some(entry_size() * 3), None]
    );
    assert_eq!(read_all(&path), lines(3..8));
}

#[test]
fn rotation_with_three_files_shifts_them_and_never_exceeds_the_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    // Not a multiple of the entry size: the file stops short of it.
    let max = entry_size() * 2 + entry_size() / 2;
    let rotation = Rotation {
        max_size: Some(max),
        max_files: 3,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    write_lines(&mut w, 0..9);
    let sizes = file_sizes(&path, 3);
    assert_eq!(
        sizes,
        vec![
            Some(entry_size()),
            Some(entry_size() * 2),
            Some(entry_size() * 2),
            None
        ]
    );
    // Oldest first across .2, .1 and the current file.
    assert_eq!(read_all(&path), lines(4..9));
}

#[test]
fn an_entry_larger_than_the_maximum_still_gets_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rotation = Rotation {
        max_size: Some(10),
        max_files: 2,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    write_lines(&mut w, 0..2);
    assert_eq!(
        file_sizes(&path, 2),
        vec![Some(entry_size()), Some(entry_size()), None]
    );
}

#[test]
fn many_lines_in_one_write_rotate_between_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rotation = Rotation {
        max_size: Some(entry_size() * 10),
        max_files: 3,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    let text: String = lines(0..25).concat();
    w.write(Stream::Stdout, text.as_bytes(), at(0)).unwrap();
    assert_eq!(
        file_sizes(&path, 2),
        vec![
            Some(entry_size() * 5),
            Some(entry_size() * 10),
            Some(entry_size() * 10)
        ]
    );
    assert_eq!(read_all(&path), lines(0..25));
}

#[test]
fn tail_counts_back_across_rotated_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rotation = Rotation {
        max_size: Some(entry_size() * 4),
        max_files: 3,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    write_lines(&mut w, 0..10);
    // Files: .2 = 0..4, .1 = 4..8, current = 8..10.
    for (n, expected) in [
        (0, lines(10..10)),
        (1, lines(9..10)),
        (2, lines(8..10)),
        (5, lines(5..10)),
        (10, lines(0..10)),
        (100, lines(0..10)),
    ] {
        let mut reader = LogReader::open(&path).unwrap();
        reader.tail(n).unwrap();
        assert_eq!(drain(&mut reader), expected, "tail {n}");
    }
}

#[test]
fn tail_ignores_an_unfinished_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    write_lines(
        &mut LogWriter::open(&path, Rotation::default()).unwrap(),
        0..3,
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, b"{\"log\":\"half").unwrap();
    let mut reader = LogReader::open(&path).unwrap();
    reader.tail(2).unwrap();
    assert_eq!(drain(&mut reader), lines(1..3));
    // The rest of that line arrives: now it is an entry.
    std::io::Write::write_all(
        &mut file,
        b" done\\n\",\"stream\":\"stderr\",\"time\":\"2027-01-15T08:00:00.000000000Z\"}\n",
    )
    .unwrap();
    assert_eq!(drain(&mut reader), vec!["half done\n".to_owned()]);
}

#[test]
fn follow_continues_into_the_new_file_after_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rotation = Rotation {
        max_size: Some(entry_size() * 3),
        max_files: 3,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    write_lines(&mut w, 0..2);
    let mut reader = LogReader::open(&path).unwrap();
    assert_eq!(drain(&mut reader), lines(0..2));
    assert!(reader.next_entry().unwrap().is_none());
    // One more into the old file, then a rotation, then lines in the new one.
    write_lines(&mut w, 2..5);
    assert_eq!(drain(&mut reader), lines(2..5));
    // Several rotations while the reader sleeps: it walks through the rotated files.
    write_lines(&mut w, 5..11);
    assert_eq!(drain(&mut reader), lines(5..11));
    assert!(reader.next_entry().unwrap().is_none());
    write_lines(&mut w, 11..12);
    assert_eq!(drain(&mut reader), lines(11..12));
}

#[test]
fn follow_survives_truncation_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let rotation = Rotation {
        max_size: Some(entry_size() * 3),
        max_files: 1,
    };
    let mut w = LogWriter::open(&path, rotation).unwrap();
    write_lines(&mut w, 0..3);
    let mut reader = LogReader::open(&path).unwrap();
    assert_eq!(drain(&mut reader), lines(0..3));
    write_lines(&mut w, 3..4);
    assert_eq!(drain(&mut reader), lines(3..4));
}

#[test]
fn a_missing_log_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = LogReader::open(&dir.path().join("nope")).err().unwrap();
    assert!(err.to_string().contains("opening log"), "{err}");
}

#[test]
fn malformed_lines_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    std::fs::write(
        &path,
        "garbage\n{\"log\":\"ok\\n\",\"stream\":\"stdout\",\"time\":\"2027-01-15T08:00:00.5Z\"}\n",
    )
    .unwrap();
    let mut reader = LogReader::open(&path).unwrap();
    let entry = reader.next_entry().unwrap().unwrap();
    assert_eq!((entry.bytes, entry.nanos), (b"ok\n".to_vec(), 500_000_000));
    assert!(reader.next_entry().unwrap().is_none());
}
