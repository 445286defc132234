//! What Docker's CLI does with a `--format` value: `table` (the command's default table),
//! `table TEMPLATE` (a table whose header row is the same template rendered over the
//! command's column titles), `json` (`{{json .}}` per row), or any other template, each
//! row followed by a newline.

use serde_json::{Map, Value};

use crate::Template;
use crate::error::TemplateError;
use crate::options::Options;
use crate::table::tabulate;

const TABLE_KEY: &str = "table";
const JSON_KEY: &str = "json";
const JSON_TEMPLATE: &str = "{{json .}}";

/// A `--format` value, classified as Docker's CLI classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// A table: the template (without `table`) of its rows.
    Table(String),
    /// One JSON object per row.
    Json,
    /// A template per row.
    Custom(String),
}

impl Format {
    /// Reads a `--format` value. An empty one, or `table` alone, means the command's
    /// default table (such as `table {{.ID}}\t{{.Image}}`); anything that starts with
    /// `table` is a table; `json` is JSON lines; the rest are templates. As in Docker, the
    /// two-character sequences `\t` and `\n` in the value stand for a tab and a newline,
    /// and spaces around the template are dropped.
    pub fn new(format: &str, default_table: &str) -> Format {
        let format = if format.is_empty() || format == TABLE_KEY {
            default_table
        } else {
            format
        };
        if let Some(rows) = format.strip_prefix(TABLE_KEY) {
            return Format::Table(clean(rows));
        }
        if format == JSON_KEY {
            return Format::Json;
        }
        Format::Custom(clean(format))
    }

    /// Whether the output is a table with a header row.
    pub fn is_table(&self) -> bool {
        matches!(self, Format::Table(_))
    }

    /// The template each row is rendered with.
    pub fn template_text(&self) -> &str {
        match self {
            Format::Table(text) | Format::Custom(text) => text,
            Format::Json => JSON_TEMPLATE,
        }
    }

    /// Renders the rows, each followed by a newline; a table gets its header row (the
    /// template rendered over `header`, which maps field names to column titles, such as
    /// `"ID": "CONTAINER ID"`) and aligned columns. Docker's CLI prints an error as
    /// `template parsing error: {error}`, and nothing of the rows.
    pub fn render(
        &self,
        header: &Map<String, Value>,
        rows: &[Value],
        options: &Options<'_>,
    ) -> Result<String, TemplateError> {
        let template = Template::parse(self.template_text())?;
        let mut body = String::new();
        for row in rows {
            body.push_str(&template.render_with(row, options)?);
            body.push('\n');
        }
        if !self.is_table() {
            return Ok(body);
        }
        let mut text = template.render_header(header);
        text.push('\n');
        text.push_str(&body);
        Ok(tabulate(&text))
    }
}

/// Docker's `preFormat`: surrounding spaces dropped, `\t` and `\n` written out replaced.
fn clean(format: &str) -> String {
    format
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n")
}

/// Renders `rows` as a table with the template `format` (with or without its leading
/// `table`), its header row made from `header_names` (field name -> column title).
pub fn render_table(
    format: &str,
    header_names: &Map<String, Value>,
    rows: &[Value],
) -> Result<String, TemplateError> {
    let rows_format = format.strip_prefix(TABLE_KEY).unwrap_or(format);
    Format::Table(clean(rows_format)).render(header_names, rows, &Options::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers() -> Map<String, Value> {
        let value = json!({
            "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND",
            "RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES",
        });
        value.as_object().cloned().unwrap_or_default()
    }

    fn rows() -> Vec<Value> {
        vec![
            json!({"ID": "3f4c2a1b9d8e", "Image": "busybox", "Command": "\"sh\"", "RunningFor": "5 minutes ago", "Status": "Up 5 minutes", "Ports": "", "Names": "web"}),
            json!({"ID": "0a1b2c3d4e5f", "Image": "nginx:latest", "Command": "\"/docker-entrypoint.…\"", "RunningFor": "2 hours ago", "Status": "Exited (0) 2 seconds ago", "Ports": "0.0.0.0:8080->80/tcp", "Names": "proxy"}),
        ]
    }

    const PS_TABLE: &str = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}";

    #[test]
    fn classifies_as_docker() {
        assert_eq!(
            Format::new("", "table {{.ID}}"),
            Format::Table("{{.ID}}".into())
        );
        assert_eq!(
            Format::new("table", "table {{.ID}}"),
            Format::Table("{{.ID}}".into())
        );
        assert_eq!(
            Format::new("table {{.ID}}\\t{{.Names}}", "x"),
            Format::Table("{{.ID}}\t{{.Names}}".into())
        );
        assert_eq!(Format::new("json", "x"), Format::Json);
        assert_eq!(
            Format::new(" {{.ID}}\\n ", "x"),
            Format::Custom("{{.ID}}\n".into())
        );
        assert_eq!(Format::Json.template_text(), "{{json .}}");
    }

    #[test]
    fn default_ps_table_reads_as_dockers() {
        let out = Format::new("table", PS_TABLE)
            .render(&headers(), &rows(), &Options::default())
            .unwrap();
        assert_eq!(
            out,
            "CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS                     PORTS                  NAMES\n\
             3f4c2a1b9d8e   busybox        \"sh\"                     5 minutes ago   Up 5 minutes                                      web\n\
             0a1b2c3d4e5f   nginx:latest   \"/docker-entrypoint.…\"   2 hours ago     Exited (0) 2 seconds ago   0.0.0.0:8080->80/tcp   proxy\n"
        );
    }

    #[test]
    fn custom_tables_take_their_header_from_the_same_template() {
        let out = render_table(
            "table {{.ID}}\t{{.Names | upper}}: {{.Image}}",
            &headers(),
            &rows(),
        )
        .unwrap();
        assert_eq!(
            out,
            "CONTAINER ID   NAMES: IMAGE\n3f4c2a1b9d8e   WEB: busybox\n0a1b2c3d4e5f   PROXY: nginx:latest\n"
        );
        let empty = render_table("table {{.ID}}", &headers(), &[]).unwrap();
        assert_eq!(empty, "CONTAINER ID\n");
        // A header field the command has no title for prints as Go prints a missing key.
        let unknown = render_table("table {{.ID}}\t{{.Size}}", &headers(), &rows()[..1]).unwrap();
        assert_eq!(
            unknown,
            "CONTAINER ID   <no value>\n3f4c2a1b9d8e   <no value>\n"
        );
    }

    /// Expected output captured from Docker 28's `docker context ls` with the same format.
    #[test]
    fn matches_docker_context_ls() {
        let header = json!({"Name": "NAME", "Description": "DESCRIPTION", "DockerEndpoint": "DOCKER ENDPOINT", "Error": "ERROR"});
        let header = header.as_object().cloned().unwrap_or_default();
        let row = json!({"Current": true, "Description": "Current DOCKER_HOST based configuration", "DockerEndpoint": "unix:///var/run/docker.sock", "Error": "", "Name": "default"});
        let format = "table {{.Name}}{{if .Current}} *{{end}}\\t{{.Description}}\\t{{.DockerEndpoint}}\\t{{.Error}}";
        let out = Format::new(format, "x")
            .render(&header, std::slice::from_ref(&row), &Options::default())
            .unwrap();
        assert_eq!(
            out,
            "NAME        DESCRIPTION                               DOCKER ENDPOINT               ERROR\n\
             default *   Current DOCKER_HOST based configuration   unix:///var/run/docker.sock   \n"
        );
        let error = Format::new(
            "{{.Name | printf \"%-10s\"}}|{{json .Current}}|{{.DockerEndpoint | split}}",
            "x",
        )
        .render(&header, &[row], &Options::default())
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "template: :1:65: executing \"\" at <split>: wrong number of args for split: want 2 got 1"
        );
    }

    #[test]
    fn json_and_custom_formats_write_a_line_per_row() {
        let rows = rows();
        let json_lines = Format::Json
            .render(&headers(), &rows[..1], &Options::default())
            .unwrap();
        assert_eq!(
            json_lines,
            "{\"Command\":\"\\\"sh\\\"\",\"ID\":\"3f4c2a1b9d8e\",\"Image\":\"busybox\",\"Names\":\"web\",\"Ports\":\"\",\"RunningFor\":\"5 minutes ago\",\"Status\":\"Up 5 minutes\"}\n"
        );
        let custom = Format::new("{{.Names}}: {{.Status}}", "x")
            .render(&headers(), &rows, &Options::default())
            .unwrap();
        assert_eq!(
            custom,
            "web: Up 5 minutes\nproxy: Exited (0) 2 seconds ago\n"
        );
    }

    #[test]
    fn errors_stop_the_output() {
        let options = Options {
            root_type: Some("*formatter.ContainerContext"),
            ..Options::default()
        };
        let error = Format::new("table {{.Foo}}", "x")
            .render(&headers(), &rows(), &options)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.ContainerContext"
        );
        let error = Format::new("{{.ID}", "x")
            .render(&headers(), &rows(), &options)
            .unwrap_err();
        assert_eq!(error.to_string(), "template: :1: bad character U+007D '}'");
    }
}
