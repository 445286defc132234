//! Tests of the public API with data shaped like Docker's; `go_cases` compares the
//! evaluator with Go case by case.

mod go_cases;

use serde_json::{Map, Value, json};

use crate::{Methods, MissingKey, Options, Template, TemplateError};

fn inspect() -> Value {
    json!({
        "Id": "3f4c2a1b9d8e7f60",
        "Name": "/web",
        "Args": ["-g", "daemon off;"],
        "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0},
        "Config": {"Labels": {"com.docker.compose.project": "shop", "tier": "front"}, "Env": ["A=1", "B=2"]},
        "Image": {"Labels": null},
        "Mounts": [{"Source": "/srv", "Destination": "/data"}, {"Source": "/etc/x", "Destination": "/x"}],
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "front": {"IPAddress": "10.1.0.5"}}}
    })
}

fn render(template: &str, data: &Value) -> Result<String, TemplateError> {
    Template::parse(template)?.render(data)
}

#[test]
fn docker_inspect_formats() {
    let data = inspect();
    let cases = [
        (
            "{{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}",
            "true 4242 0",
        ),
        ("{{.Name}} {{.Id | printf \"%.12s\"}}", "/web 3f4c2a1b9d8e"),
        ("{{join .Args \" \"}}", "-g daemon off;"),
        (
            "{{json .Config.Labels}}",
            r#"{"com.docker.compose.project":"shop","tier":"front"}"#,
        ),
        (
            "{{index .Config.Labels \"com.docker.compose.project\"}}",
            "shop",
        ),
        ("[{{index .Config.Labels \"missing\"}}]", "[]"),
        ("[{{index .Image.Labels \"missing\"}}]", "[]"),
        (
            "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}",
            "/srv:/data /etc/x:/x ",
        ),
        (
            "{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{$net.IPAddress}};{{end}}",
            "bridge=172.17.0.2;front=10.1.0.5;",
        ),
        ("{{range .Config.Env}}{{println .}}{{end}}", "A=1\nB=2\n"),
        (
            "{{if eq .State.Status \"running\"}}up{{else}}down{{end}}",
            "up",
        ),
        ("{{len .Mounts}} {{(index .Mounts 1).Source}}", "2 /etc/x"),
        ("{{with .State}}{{.Status | upper}}{{end}}", "RUNNING"),
        (
            "{{.Config.Labels}}",
            "map[com.docker.compose.project:shop tier:front]",
        ),
    ];
    for (template, want) in cases {
        assert_eq!(render(template, &data).as_deref(), Ok(want), "{template}");
    }
}

#[test]
fn inspect_reports_missing_keys_as_docker_does() {
    let options = Options {
        missing_key: MissingKey::Error,
        ..Options::default()
    };
    let template = Template::parse("{{.Foo}}").unwrap();
    assert_eq!(
        template
            .render_with(&inspect(), &options)
            .unwrap_err()
            .to_string(),
        "template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\""
    );
    assert_eq!(template.render(&inspect()).unwrap(), "<no value>");
}

#[test]
fn typed_rows_reject_unknown_fields_by_their_type() {
    let options = Options {
        root_type: Some("*formatter.ContainerContext"),
        ..Options::default()
    };
    let row = json!({"ID": "abc", "Extra": {"A": 1}});
    let unknown = Template::parse("{{.ID}} {{.Foo}}").unwrap();
    assert_eq!(
        unknown.render_with(&row, &options).unwrap_err().to_string(),
        "template: :1:10: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.ContainerContext"
    );
    // Below the top level, the data is JSON again.
    let nested = Template::parse("{{.Extra.B}}").unwrap();
    assert_eq!(nested.render_with(&row, &options).unwrap(), "<no value>");
}

struct Labels;

impl Methods for Labels {
    fn call(
        &self,
        receiver: &Map<String, Value>,
        name: &str,
        args: &[Value],
    ) -> Option<Result<String, String>> {
        if name != "Label" {
            return None;
        }
        let [Value::String(key)] = args else {
            return Some(Err(format!(
                "wrong number of args for Label: want 1 got {}",
                args.len()
            )));
        };
        let labels = receiver
            .get("Labels")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let value = labels
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        Some(Ok(value))
    }
}

#[test]
fn methods_take_arguments() {
    let options = Options {
        methods: Some(&Labels),
        ..Options::default()
    };
    let row = json!({"Names": "web", "Labels": "tier=front,project=shop"});
    let render = |text: &str| Template::parse(text).unwrap().render_with(&row, &options);
    assert_eq!(
        render("{{.Names}}: {{.Label \"project\"}}").unwrap(),
        "web: shop"
    );
    assert_eq!(render("{{\"tier\" | .Label | upper}}").unwrap(), "FRONT");
    assert_eq!(
        render("{{.Label}}").unwrap_err().to_string(),
        "template: :1:2: executing \"\" at <.Label>: error calling Label: wrong number of args for Label: want 1 got 0"
    );
    assert_eq!(
        render("{{.Names 1}}").unwrap_err().to_string(),
        "template: :1:2: executing \"\" at <.Names>: Names is not a method but has arguments"
    );
}

#[test]
fn headers_keep_what_was_written_before_an_error() {
    let header: Map<String, Value> = json!({"ID": "CONTAINER ID", "Names": "NAMES"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let template = Template::parse("{{.ID}}\t{{.Names | lower}}\t{{json .}}").unwrap();
    assert_eq!(template.render_header(&header), "CONTAINER ID\tNAMES\t");
}

#[test]
fn errors_display_as_go() {
    assert_eq!(
        Template::parse("{{.ID}").unwrap_err(),
        TemplateError::Parse {
            line: 1,
            message: "bad character U+007D '}'".into()
        }
    );
    let error = render("a\nb {{index .L 3}}", &json!({"L": []})).unwrap_err();
    assert_eq!(
        error,
        TemplateError::Exec {
            line: 2,
            column: 4,
            context: "index .L 3".into(),
            message: "error calling index: index out of range: 3".into(),
        }
    );
}
