//! Docker's confirmation for destructive commands (`prune` without `-f`).

use std::io::{BufRead, Write};

/// Prints `message` and `Are you sure you want to continue? [y/N] `, and reads the answer
/// from stdin: only `y` or `Y` agrees.
pub fn confirm(message: &str) -> bool {
    {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{message}\nAre you sure you want to continue? [y/N] ");
        let _ = out.flush();
    }
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y")
}
