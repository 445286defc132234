//! Go's text/template as Docker's CLI uses it for `--format`, over JSON data; Docker's
//! `--format` handling (`table`, `json`, custom templates) and its aligned tables.
//!
//! Templates are evaluated against `serde_json::Value` rows whose keys are the template's
//! field names (`.ID`, `.Names`, `.State.Running`). Everything users see is Go's: values
//! print as Go's `fmt` prints them (`map[a:1]`, `[a b]`, `<no value>`), `printf` follows
//! Go's verbs, `json` writes what Go's `encoding/json` writes, and errors read as Go's
//! (`template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`).
//!
//! Written by hand rather than with the `gtmpl` crate: gtmpl (last released in 2021) has
//! its own value type, so every row would be converted into it, losing the difference
//! between integers and floats and the order of keys that `{{json .}}` must keep; its
//! `printf` is documented as incomplete; its messages are not Go's, which Docker users and
//! scripts see; and Docker's functions, the table header functions and Go's typing of
//! Docker's data (what `index` of a missing label gives, what compares with what) would
//! all have to be built around it. The evaluator here is small and follows Go's source
//! structure, so its behaviour can be checked against Go case by case.
//!
//! Not supported: complex numbers, and explicit argument indexes in `printf` (`%[1]d`).

mod ast;
mod error;
mod exec;
mod float;
mod format;
mod funcs;
mod gofmt;
mod json;
mod lex;
mod options;
mod parse;
mod table;
mod value;

use std::collections::HashMap;

use serde_json::{Map, Value};

pub use error::TemplateError;
pub use format::{Format, render_table};
pub use options::{Methods, MissingKey, Options};
pub use table::tabulate;

use ast::Node;
use funcs::FuncSet;

/// A parsed template.
#[derive(Debug)]
pub struct Template {
    text: String,
    nodes: Vec<Node>,
    /// Templates defined with `{{define}}` or `{{block}}`, by name.
    defines: HashMap<String, Vec<Node>>,
}

impl Template {
    /// Parses a template, checking what Go checks when parsing: syntax, that functions
    /// exist, that variables are declared before use.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let parsed = parse::parse(text)?;
        Ok(Template {
            text: text.to_string(),
            nodes: parsed.nodes,
            defines: parsed.defines,
        })
    }

    /// Renders the template over `data` with Go's defaults (a missing key is `<no value>`).
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        self.render_with(data, &Options::default())
    }

    /// Renders the template over `data`.
    pub fn render_with(
        &self,
        data: &Value,
        options: &Options<'_>,
    ) -> Result<String, TemplateError> {
        let (out, result) = exec::execute(self, data, options, FuncSet::Basic);
        result.map(|()| out)
    }

    /// Renders a table's header row as Docker's CLI does: the row template over the
    /// command's column titles, with Docker's header functions (which leave the titles as
    /// they are). Docker ignores errors here and keeps what was written before them.
    pub fn render_header(&self, header: &Map<String, Value>) -> String {
        let data = Value::Object(header.clone());
        let (out, _) = exec::execute(self, &data, &Options::default(), FuncSet::Header);
        out
    }
}

#[cfg(test)]
mod tests;
