//! Docker's tables: text with tab-terminated cells aligned as Docker's CLI aligns them,
//! through its copy of Go's text/tabwriter set up as
//! `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`: each column as wide as its widest cell
//! plus 3 spaces, and at least 10; the last cell of a line is not padded; a column ends
//! at the first line that has fewer cells. Docker's copy counts a cell's width in terminal
//! columns (go-runewidth), which the `tabwriter` crate does too (unicode-width); the
//! crate's minimum width excludes the padding, hence 7 for Docker's 10.

use std::io::Write;

const MIN_WIDTH: usize = 10;
const PADDING: usize = 3;

/// Aligns `text` as Docker's tables are aligned.
pub fn tabulate(text: &str) -> String {
    let mut writer = tabwriter::TabWriter::new(Vec::with_capacity(text.len() * 2))
        .minwidth(MIN_WIDTH - PADDING)
        .padding(PADDING);
    // Writing to memory cannot fail.
    let _ = writer.write_all(text.as_bytes());
    match writer.into_inner() {
        Ok(bytes) => String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected strings are Go's text/tabwriter output with Docker's settings.
    #[test]
    fn aligns_as_docker() {
        let cases = [
            (
                "CONTAINER ID\tIMAGE\tCOMMAND\tNAMES\nabc123\tbusybox:latest\t\"sh\"\tweb\n",
                "CONTAINER ID   IMAGE            COMMAND   NAMES\nabc123         busybox:latest   \"sh\"      web\n",
            ),
            ("a\tb\n", "a         b\n"),
            ("a\tb\t\n", "a         b         \n"),
            ("\t\tx\n", "                    x\n"),
            (
                "aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n",
                "aaaa      bbb       d\naa        b         dd\na         \naa        cccc      eee\n",
            ),
            ("x\ny\tz\n", "x\ny         z\n"),
            ("a\tb", "a         b"),
            ("", ""),
            ("NAME\n", "NAME\n"),
            ("0123456789\tb\n", "0123456789   b\n"),
            ("012345678\tb\n", "012345678   b\n"),
            ("0123456\tb\n", "0123456   b\n"),
            ("héllo\tb\n", "héllo     b\n"),
            (
                "日本語日本語日本語\tb\nx\ty\n",
                "日本語日本語日本語   b\nx                    y\n",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(tabulate(text), want, "{text:?}");
        }
    }
}
