//! Errors, worded as Go's text/template words them for a template named "" (as Docker's
//! CLI names its templates). Docker's CLI prints them after `template parsing error: `.

/// A template that could not be parsed or executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The text is not a valid template: `template: :1: unexpected "}" in operand`.
    #[error("template: :{line}: {message}")]
    Parse {
        /// Line of the template (from 1) where parsing stopped.
        line: usize,
        /// What is wrong, in Go's words.
        message: String,
    },
    /// Executing the template failed:
    /// `template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`.
    #[error("template: :{line}:{column}: executing \"\" at <{context}>: {message}")]
    Exec {
        /// Line (from 1) of the part of the template that failed.
        line: usize,
        /// Its byte offset in that line (from 0, as Go counts it).
        column: usize,
        /// That part of the template, as Go prints it back (`.Foo`, `index .L 5`).
        context: String,
        /// What went wrong, in Go's words.
        message: String,
    },
}
