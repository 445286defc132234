//! Printing helpers shared by commands: errors in the form users of Docker and runc expect,
//! and columns aligned as Go's tabwriter aligns them.

use std::io::Write;

/// Writes rows as columns separated by at least `padding` spaces, each at least `min_width`
/// wide, padding included (Go's tabwriter with the same settings; the tabwriter crate counts
/// its minimum width without the padding).
pub fn columns(rows: &[Vec<String>], min_width: usize, padding: usize) -> String {
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(min_width.saturating_sub(padding))
        .padding(padding);
    for row in rows {
        let _ = writeln!(tw, "{}", row.join("\t"));
    }
    tw.into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_pad_like_runc_list() {
        let rows = vec![
            vec!["ID".into(), "PID".into(), "STATUS".into()],
            vec!["web".into(), "4242".into(), "running".into()],
        ];
        assert_eq!(
            columns(&rows, 12, 3),
            "ID          PID         STATUS\nweb         4242        running\n"
        );
        let long = vec![vec!["a-very-long-id".into(), "1".into()]];
        assert_eq!(columns(&long, 12, 3), "a-very-long-id   1\n");
    }
}
