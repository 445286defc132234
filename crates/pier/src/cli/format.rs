//! `--format`, through the template crate: nothing or `table` for the command's default
//! table, `table <template>` for a table of one's own, `json` for JSON lines, any other
//! template per row; and templates over single values (`inspect -f`, `info -f`). Errors
//! are Docker's: `template parsing error: ...`.

use serde_json::{Map, Value};
use template::{Format, Methods, MissingKey, Options, Template};

use super::error::CliError;

/// What a command's table is: its default template, its column titles, and the Go type
/// Docker's CLI renders rows of (named in errors about unknown fields).
pub struct Table<'a> {
    /// With its `table ` prefix.
    pub default: &'a str,
    /// Column titles by field name (`"ID"` → `"CONTAINER ID"`).
    pub headers: &'a [(&'a str, &'a str)],
    /// `*formatter.ContainerContext`...
    pub row_type: &'a str,
    /// Methods rows offer besides their fields (`.Label "name"`).
    pub methods: Option<&'a dyn Methods>,
}

impl Table<'_> {
    /// The format `--format` asks for (`None` or empty: the default table).
    pub fn format(&self, flag: Option<&str>) -> Format {
        Format::new(flag.unwrap_or(""), self.default)
    }

    /// The format `-q` asks for unless `--format` names one: `{{.<field>}}` per row.
    pub fn quiet_format(&self, flag: Option<&str>, field: &str) -> Format {
        match flag.filter(|f| !f.is_empty() && *f != "table") {
            Some(given) => Format::new(given, self.default),
            None => Format::Custom(format!("{{{{.{field}}}}}")),
        }
    }

    /// Renders rows as `format` says.
    pub fn render(&self, format: &Format, rows: &[Value]) -> Result<String, CliError> {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(field, title)| ((*field).to_owned(), Value::String((*title).to_owned())))
            .collect();
        let options = Options {
            missing_key: MissingKey::NoValue,
            root_type: Some(self.row_type),
            methods: self.methods,
        };
        if *format == Format::Json {
            return Ok(json_lines(rows));
        }
        format
            .render(&headers, rows, &options)
            .map_err(|e| CliError::other(format!("template parsing error: {e}")))
    }
}

/// `--format json`: each row as Go's `json.Marshal` writes it (keys sorted, `<`, `>`, `&`
/// escaped), one per line.
fn json_lines(rows: &[Value]) -> String {
    let mut out = String::new();
    for row in rows {
        let text = serde_json::to_string(row).unwrap_or_default();
        for c in text.chars() {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                c => out.push(c),
            }
        }
        out.push('\n');
    }
    out
}

/// A template for single values (`inspect -f`, `info -f`, `version -f`); a bad one is
/// Docker's status 64 there.
pub fn single(text: &str) -> Result<Template, CliError> {
    let text = text.replace("\\t", "\t").replace("\\n", "\n");
    Template::parse(&text).map_err(|e| CliError::status(format!("template parsing error: {e}"), 64))
}

/// Renders one value; a field the value lacks is `<no value>`, as in Go.
pub fn render_one(template: &Template, value: &Value) -> Result<String, CliError> {
    template
        .render(value)
        .map_err(|e| CliError::other(format!("template parsing error: {e}")))
}

/// Renders an object `inspect` found, as Docker does: first as its typed Go value would
/// render (a top-level field it lacks is an error), then, if that failed, over the raw JSON
/// with `missingkey=error`, whose error is the one reported.
pub fn render_inspected(template: &Template, value: &Value) -> Result<String, CliError> {
    let typed = Options {
        root_type: Some("inspected"),
        ..Options::default()
    };
    if let Ok(text) = template.render_with(value, &typed) {
        return Ok(text);
    }
    let raw = Options {
        missing_key: MissingKey::Error,
        ..Options::default()
    };
    template
        .render_with(value, &raw)
        .map_err(|e| CliError::other(format!("template parsing error: {e}")))
}

/// The label a `.Label "name"` call asks for; None for other methods.
pub fn label_call<'a>(name: &str, args: &'a [Value]) -> Option<Result<&'a str, String>> {
    if name != "Label" {
        return None;
    }
    Some(match args {
        [Value::String(wanted)] => Ok(wanted),
        _ => Err(format!(
            "wrong number of args for Label: want 1 got {}",
            args.len()
        )),
    })
}

/// Docker's `.Label "name"` on rows whose `Labels` field is `k=v,k2=v2`.
pub struct LabelMethod;

impl Methods for LabelMethod {
    fn call(
        &self,
        receiver: &Map<String, Value>,
        name: &str,
        args: &[Value],
    ) -> Option<Result<String, String>> {
        let wanted = match label_call(name, args)? {
            Ok(wanted) => wanted,
            Err(e) => return Some(Err(e)),
        };
        let labels = receiver.get("Labels").and_then(Value::as_str).unwrap_or("");
        let found = labels
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == wanted)
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        Some(Ok(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TABLE: Table = Table {
        default: "table {{.ID}}\t{{.Names}}",
        headers: &[("ID", "CONTAINER ID"), ("Names", "NAMES")],
        row_type: "*formatter.ContainerContext",
        methods: Some(&LabelMethod),
    };

    fn rows() -> Vec<Value> {
        vec![json!({"ID": "abc", "Names": "web", "Labels": "a=1,tier=front"})]
    }

    #[test]
    fn default_and_custom_tables() {
        let out = TABLE.render(&TABLE.format(None), &rows()).unwrap();
        assert_eq!(out, "CONTAINER ID   NAMES\nabc            web\n");
        let custom = TABLE
            .render(
                &TABLE.format(Some("{{.Names}} {{.Label \"tier\"}}")),
                &rows(),
            )
            .unwrap();
        assert_eq!(custom, "web front\n");
        let quiet = TABLE
            .render(&TABLE.quiet_format(None, "ID"), &rows())
            .unwrap();
        assert_eq!(quiet, "abc\n");
    }

    #[test]
    fn json_lines_escape_as_go() {
        let out = TABLE.render(
            &TABLE.format(Some("json")),
            &[json!({"Tag": "<none>", "A": "x&y"})],
        );
        assert_eq!(
            out.unwrap(),
            "{\"A\":\"x\\u0026y\",\"Tag\":\"\\u003cnone\\u003e\"}\n"
        );
    }

    #[test]
    fn unknown_fields_fail_as_dockers() {
        let error = TABLE
            .render(&TABLE.format(Some("{{.Nope}}")), &rows())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext"
        );
    }

    #[test]
    fn inspect_templates() {
        let value = json!({"State": {"Running": true}, "Config": {"Labels": {}}});
        let template = single("{{.State.Running}} {{.Config.Labels.x}}").unwrap();
        assert_eq!(
            render_inspected(&template, &value).unwrap(),
            "true <no value>"
        );
        let missing = single("{{.Nope}}").unwrap();
        assert_eq!(
            render_inspected(&missing, &value).unwrap_err().to_string(),
            "template parsing error: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\""
        );
        assert_eq!(single("{{.Nope").unwrap_err().exit_code(), 64);
    }
}
