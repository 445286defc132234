//! Docker's legacy (v1) layer ids and the `<v1 id>/json` files of `docker save`, byte for
//! byte as Docker 20.10 makes them (moby `image/tarexport/save.go`, `image/v1/imagev1.go`).
//!
//! Layer `i` of an image gets a v1 image: for every layer but the top one an empty one
//! created at the Unix epoch; for the top one the image's config as Go reads it into
//! `image.V1Image` (so history, rootfs and unknown fields are gone, `container_config` is
//! always there, and strings are escaped as Go escapes them). Its id is
//!
//! ```text
//! v1id(i) = sha256(JSON of the v1 image without "id", its keys sorted, plus
//!                  "layer_id": ChainID(i) and, above the bottom, "parent": v1id(i-1))
//! ```
//!
//! and its `json` file is the v1 image in Go's field order with `id`, `parent` (the parent's
//! hex) and, below the top, `os` added. Docker wrote the epoch in the daemon's local time
//! zone; pier writes it in UTC, as a daemon running in UTC does.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::model::time::{GO_ZERO_RFC3339, Timestamp};

/// One layer's directory in a docker-archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct V1Layer {
    pub id: Digest,
    /// The `json` file.
    pub json: Vec<u8>,
}

/// The v1 layers of an image with config `config` (its exact bytes) and layer chain ids
/// `chain_ids`, bottom first.
pub(super) fn v1_layers(config: &[u8], chain_ids: &[Digest]) -> Vec<V1Layer> {
    let doc: Map<String, Value> = match serde_json::from_slice(config) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let top = V1Image::from_config(&doc);
    let mut layers: Vec<V1Layer> = Vec::with_capacity(chain_ids.len());
    for (i, chain_id) in chain_ids.iter().enumerate() {
        let mut image = if i + 1 == chain_ids.len() {
            top.clone()
        } else {
            V1Image::epoch()
        };
        let parent = layers.last().map(|l| l.id.clone());
        let id = image.create_id(chain_id, parent.as_ref());
        image.id = id.hex().to_owned();
        image.parent = parent.map(|p| p.hex().to_owned()).unwrap_or_default();
        image.os = top.os.clone();
        layers.push(V1Layer {
            id,
            json: image.to_json().into_bytes(),
        });
    }
    layers
}

/// Go's `image.V1Image`, its fields already in their JSON form where they are not strings.
#[derive(Debug, Clone, Default)]
struct V1Image {
    id: String,
    parent: String,
    comment: String,
    /// RFC 3339, as Go prints a `time.Time`.
    created: String,
    container: String,
    /// JSON of a `container.Config`.
    container_config: String,
    docker_version: String,
    author: String,
    /// JSON of a `*container.Config`, absent when nil.
    config: Option<String>,
    architecture: String,
    variant: String,
    os: String,
    size: i64,
}

impl V1Image {
    /// `V1Image{Created: time.Unix(0, 0)}` (in UTC).
    fn epoch() -> V1Image {
        V1Image {
            created: "1970-01-01T00:00:00Z".to_owned(),
            container_config: container_config(None),
            ..Default::default()
        }
    }

    /// The config read as Go reads it into `image.Image`: `parent` goes to the outer
    /// struct's field and `id` is overwritten later, so neither is taken.
    fn from_config(doc: &Map<String, Value>) -> V1Image {
        let text = |name: &str| string(field(doc, name));
        let created = match field(doc, "created") {
            Some(Value::String(s)) => Timestamp::parse(s)
                .map(|t| t.to_rfc3339_nano())
                .unwrap_or_else(|| GO_ZERO_RFC3339.to_owned()),
            _ => GO_ZERO_RFC3339.to_owned(),
        };
        let config = match field(doc, "config") {
            Some(v @ Value::Object(_)) => Some(container_config(Some(v))),
            _ => None,
        };
        V1Image {
            id: String::new(),
            parent: String::new(),
            comment: text("comment"),
            created,
            container: text("container"),
            container_config: container_config(field(doc, "container_config")),
            docker_version: text("docker_version"),
            author: text("author"),
            config,
            architecture: text("architecture"),
            variant: text("variant"),
            os: text("os"),
            size: field(doc, "Size").and_then(Value::as_i64).unwrap_or(0),
        }
    }

    /// The fields Go writes, in struct order, `omitempty` applied.
    fn fields(&self) -> Vec<(&'static str, String)> {
        fn text(out: &mut Vec<(&'static str, String)>, name: &'static str, value: &str) {
            if !value.is_empty() {
                out.push((name, quote(value)));
            }
        }
        let mut out = Vec::new();
        text(&mut out, "id", &self.id);
        text(&mut out, "parent", &self.parent);
        text(&mut out, "comment", &self.comment);
        out.push(("created", quote(&self.created)));
        text(&mut out, "container", &self.container);
        out.push(("container_config", self.container_config.clone()));
        text(&mut out, "docker_version", &self.docker_version);
        text(&mut out, "author", &self.author);
        if let Some(config) = &self.config {
            out.push(("config", config.clone()));
        }
        text(&mut out, "architecture", &self.architecture);
        text(&mut out, "variant", &self.variant);
        text(&mut out, "os", &self.os);
        if self.size != 0 {
            out.push(("Size", self.size.to_string()));
        }
        out
    }

    /// `json.Marshal(v1Image)`.
    fn to_json(&self) -> String {
        object(self.fields().into_iter())
    }

    /// moby's `v1.CreateID`.
    fn create_id(&self, chain_id: &Digest, parent: Option<&Digest>) -> Digest {
        let image = V1Image {
            id: String::new(),
            ..self.clone()
        };
        let mut sorted: BTreeMap<&str, String> = image.fields().into_iter().collect();
        sorted.insert("layer_id", quote(&chain_id.to_string()));
        if let Some(parent) = parent {
            sorted.insert("parent", quote(&parent.to_string()));
        }
        Digest::of(object(sorted.into_iter()).as_bytes())
    }
}

/// `{"k":v,...}` of already-encoded values.
fn object<'a>(fields: impl Iterator<Item = (&'a str, String)>) -> String {
    let body: Vec<String> = fields.map(|(k, v)| format!("{}:{v}", quote(k))).collect();
    format!("{{{}}}", body.join(","))
}

/// A struct field as Go's decoder finds it: the exact key, else one equal ignoring case.
fn field<'a>(doc: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    doc.get(name).or_else(|| {
        doc.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn string(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// A string as Go's `encoding/json` writes it (HTML-safe, as `json.Marshal` does).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `[]string`: `null` when nil. `single` accepts a lone string as one element, as
/// Docker's `strslice.StrSlice` does.
fn strings(v: Option<&Value>, single: bool) -> Option<Vec<String>> {
    match v {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().unwrap_or_default().to_owned())
                .collect(),
        ),
        Some(Value::String(s)) if single => Some(vec![s.clone()]),
        _ => None,
    }
}

fn list_json(items: &Option<Vec<String>>) -> String {
    match items {
        None => "null".to_owned(),
        Some(items) => {
            let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
            format!("[{}]", quoted.join(","))
        }
    }
}

/// A Go map (`map[string]struct{}` or `map[string]string`); keys come sorted.
fn map_json(v: Option<&Value>, set: bool) -> Option<String> {
    let map = v?.as_object()?;
    Some(object(map.iter().map(|(k, v)| {
        let value = if set {
            "{}".to_owned()
        } else {
            quote(v.as_str().unwrap_or_default())
        };
        (k.as_str(), value)
    })))
}

/// `json.Marshal` of a `container.Config` (Docker 20.10's fields) read from `v`.
fn container_config(v: Option<&Value>) -> String {
    let empty = Map::new();
    let doc = v.and_then(Value::as_object).unwrap_or(&empty);
    let get = |name: &str| field(doc, name);
    let flag = |name: &str| get(name).and_then(Value::as_bool).unwrap_or(false);
    let mut out: Vec<(&str, String)> = Vec::new();
    for name in ["Hostname", "Domainname", "User"] {
        out.push((name, quote(&string(get(name)))));
    }
    for name in ["AttachStdin", "AttachStdout", "AttachStderr"] {
        out.push((name, flag(name).to_string()));
    }
    if let Some(ports) = map_json(get("ExposedPorts"), true).filter(|p| p != "{}") {
        out.push(("ExposedPorts", ports));
    }
    for name in ["Tty", "OpenStdin", "StdinOnce"] {
        out.push((name, flag(name).to_string()));
    }
    out.push(("Env", list_json(&strings(get("Env"), false))));
    out.push(("Cmd", list_json(&strings(get("Cmd"), true))));
    if let Some(Value::Object(health)) = get("Healthcheck") {
        out.push(("Healthcheck", health_config(health)));
    }
    if flag("ArgsEscaped") {
        out.push(("ArgsEscaped", "true".to_owned()));
    }
    out.push(("Image", quote(&string(get("Image")))));
    out.push((
        "Volumes",
        map_json(get("Volumes"), true).unwrap_or_else(|| "null".to_owned()),
    ));
    out.push(("WorkingDir", quote(&string(get("WorkingDir")))));
    out.push(("Entrypoint", list_json(&strings(get("Entrypoint"), true))));
    if flag("NetworkDisabled") {
        out.push(("NetworkDisabled", "true".to_owned()));
    }
    let mac = string(get("MacAddress"));
    if !mac.is_empty() {
        out.push(("MacAddress", quote(&mac)));
    }
    out.push(("OnBuild", list_json(&strings(get("OnBuild"), false))));
    out.push((
        "Labels",
        map_json(get("Labels"), false).unwrap_or_else(|| "null".to_owned()),
    ));
    let stop_signal = string(get("StopSignal"));
    if !stop_signal.is_empty() {
        out.push(("StopSignal", quote(&stop_signal)));
    }
    if let Some(timeout) = get("StopTimeout").and_then(Value::as_i64) {
        out.push(("StopTimeout", timeout.to_string()));
    }
    if let Some(shell) = strings(get("Shell"), true).filter(|s| !s.is_empty()) {
        out.push(("Shell", list_json(&Some(shell))));
    }
    object(out.into_iter())
}

/// `json.Marshal` of a `container.HealthConfig` (all its fields are `omitempty`).
fn health_config(doc: &Map<String, Value>) -> String {
    let mut out: Vec<(&str, String)> = Vec::new();
    if let Some(test) = strings(field(doc, "Test"), false).filter(|t| !t.is_empty()) {
        out.push(("Test", list_json(&Some(test))));
    }
    for name in ["Interval", "Timeout", "StartPeriod", "Retries"] {
        if let Some(n) = field(doc, name).and_then(Value::as_i64).filter(|n| *n != 0) {
            out.push((name, n.to_string()));
        }
    }
    object(out.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `docker save` (20.10) wrote for a layer below the top (seen in real archives).
    const EMPTY_CONFIG: &str = r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}"#;

    #[test]
    fn lower_layers_are_empty_v1_images() {
        let chains = [Digest::of(b"a"), Digest::of(b"b")];
        let layers = v1_layers(br#"{"os":"linux","architecture":"amd64"}"#, &chains);
        let bottom = String::from_utf8(layers[0].json.clone()).unwrap();
        assert_eq!(
            bottom,
            format!(
                r#"{{"id":"{}","created":"1970-01-01T00:00:00Z","container_config":{EMPTY_CONFIG},"os":"linux"}}"#,
                layers[0].id.hex()
            )
        );
        // The id hashes the sorted fields with the layer's chain id.
        let hashed = format!(
            r#"{{"container_config":{EMPTY_CONFIG},"created":"1970-01-01T00:00:00Z","layer_id":"{}"}}"#,
            chains[0]
        );
        assert_eq!(layers[0].id, Digest::of(hashed.as_bytes()));
        let top = String::from_utf8(layers[1].json.clone()).unwrap();
        assert!(
            top.starts_with(&format!(
                r#"{{"id":"{}","parent":"{}","created":"0001-01-01T00:00:00Z""#,
                layers[1].id.hex(),
                layers[0].id.hex()
            )),
            "{top}"
        );
        assert!(
            top.ends_with(r#""architecture":"amd64","os":"linux"}"#),
            "{top}"
        );
    }

    #[test]
    fn the_top_layer_carries_the_config_as_go_reads_it() {
        let config = br#"{"architecture":"amd64","config":{"Env":["A=<1>"],"Cmd":"sh","Labels":{"b":"2","a":"1"},"ExposedPorts":{},"Volumes":{"/v":{}},"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000},"StopTimeout":0},"created":"2024-01-02T03:04:05.500000000+01:00","history":[{"created_by":"x"}],"os":"linux","rootfs":{"type":"layers","diff_ids":[]},"unknown":1,"parent":"sha256:abc","Size":7}"#;
        let chain = [Digest::of(b"a")];
        let layers = v1_layers(config, &chain);
        let json = String::from_utf8(layers[0].json.clone()).unwrap();
        let expected_config = r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=\u003c1\u003e"],"Cmd":["sh"],"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000},"Image":"","Volumes":{"/v":{}},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"a":"1","b":"2"},"StopTimeout":0}"#;
        assert_eq!(
            json,
            format!(
                r#"{{"id":"{}","created":"2024-01-02T03:04:05.5+01:00","container_config":{EMPTY_CONFIG},"config":{expected_config},"architecture":"amd64","os":"linux","Size":7}}"#,
                layers[0].id.hex()
            )
        );
        let hashed = format!(
            r#"{{"Size":7,"architecture":"amd64","config":{expected_config},"container_config":{EMPTY_CONFIG},"created":"2024-01-02T03:04:05.5+01:00","layer_id":"{}","os":"linux"}}"#,
            chain[0]
        );
        assert_eq!(layers[0].id, Digest::of(hashed.as_bytes()));
    }

    /// `docker save` of Docker 20.10.24 (dockerd on a private root, in UTC), of an image
    /// loaded from this config and three layers, and of a one-layer image sharing the top one.
    const DOCKER_20_10_CONFIG: &str = r##"{"architecture":"amd64","author":"Pier <p@example.com>","comment":"a comment","config":{"Hostname":"","Domainname":"","User":"nobody","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{},"443/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin","Q=a<b&c>d"],"Cmd":["sh","-c","echo \"hi\""],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"ArgsEscaped":true,"Image":"sha256:9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269","Volumes":{"/data":{}},"WorkingDir":"/srv","Entrypoint":null,"OnBuild":["RUN echo child"],"Labels":{"b":"2","a":"1"},"StopSignal":"SIGQUIT","StopTimeout":5,"Shell":["/bin/sh","-c"]},"container":"3ea13d9ab1fcd2ec71dd6b16dc2b1ae6a0e1f3f87f6a9ef1b09b1be35ffcc4d6","container_config":{"Hostname":"3ea13d9ab1fc","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin"],"Cmd":["/bin/sh","-c","#(nop) ","CMD [\"sh\"]"],"Image":"sha256:9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}},"created":"2023-05-19T20:19:24.5489546+02:00","docker_version":"20.10.23","history":[{"created":"2023-05-19T20:19:24.2705788Z","created_by":"/bin/sh -c #(nop) ADD file:x in / "}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:d62a066d73e987ab5c7fb6c106bb9e7899f144cc1a6a177ebad42b848c80e9b0","sha256:6dcadfe83145f178427441cb030aab168267d64cd736f0bc2aee8a2224944baa","sha256:220744b54708d95ba02fe868a0e7f0ba048f991e4ce4b2a0ed6392a55a5e91f0"]},"unknown_field":{"x":1}}"##;
    /// Its top layer's `json`, as that `docker save` wrote it.
    const DOCKER_20_10_TOP_JSON: &str = r##"{"id":"c0c999e8bb0b2e433a2e52005a9c2e4433f9567480ccce1c933fcb64dc0d991c","parent":"9cc97a318fec348b7eb7f76a85820bab3d75025af903ed4514730a1ff80d2075","comment":"a comment","created":"2023-05-19T20:19:24.5489546+02:00","container":"3ea13d9ab1fcd2ec71dd6b16dc2b1ae6a0e1f3f87f6a9ef1b09b1be35ffcc4d6","container_config":{"Hostname":"3ea13d9ab1fc","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin"],"Cmd":["/bin/sh","-c","#(nop) ","CMD [\"sh\"]"],"Image":"sha256:9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}},"docker_version":"20.10.23","author":"Pier \u003cp@example.com\u003e","config":{"Hostname":"","Domainname":"","User":"nobody","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin","Q=a\u003cb\u0026c\u003ed"],"Cmd":["sh","-c","echo \"hi\""],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"ArgsEscaped":true,"Image":"sha256:9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269","Volumes":{"/data":{}},"WorkingDir":"/srv","Entrypoint":null,"OnBuild":["RUN echo child"],"Labels":{"a":"1","b":"2"},"StopSignal":"SIGQUIT","StopTimeout":5,"Shell":["/bin/sh","-c"]},"architecture":"amd64","os":"linux"}"##;

    #[test]
    fn v1_ids_and_json_are_docker_20_10_s() {
        let config = crate::model::ImageConfig::parse(DOCKER_20_10_CONFIG).unwrap();
        let layers = v1_layers(config.bytes(), &config.chain_ids());
        let ids: Vec<&str> = layers.iter().map(|l| l.id.hex()).collect();
        assert_eq!(
            ids,
            [
                "a45990c02828b79967822ea06f011d4dc7351dc29875ba4a7297743407d55fcb",
                "9cc97a318fec348b7eb7f76a85820bab3d75025af903ed4514730a1ff80d2075",
                "c0c999e8bb0b2e433a2e52005a9c2e4433f9567480ccce1c933fcb64dc0d991c",
            ]
        );
        assert_eq!(
            String::from_utf8(layers[2].json.clone()).unwrap(),
            DOCKER_20_10_TOP_JSON
        );
        assert_eq!(
            String::from_utf8(layers[1].json.clone()).unwrap(),
            format!(
                r#"{{"id":"{}","parent":"{}","created":"1970-01-01T00:00:00Z","container_config":{EMPTY_CONFIG},"os":"linux"}}"#,
                ids[1], ids[0]
            )
        );
        // The other image: its one layer is the first's top layer, under its own v1 id.
        let second = br#"{"architecture":"amd64","os":"linux","created":"2020-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":["sha256:220744b54708d95ba02fe868a0e7f0ba048f991e4ce4b2a0ed6392a55a5e91f0"]}}"#;
        let config = crate::model::ImageConfig::parse(&second[..]).unwrap();
        let layers = v1_layers(config.bytes(), &config.chain_ids());
        assert_eq!(
            layers[0].id.hex(),
            "df4dd8b9480581ba932db684a5964549521e3b240bcbd817b8b2b79e64e30c14"
        );
        assert_eq!(
            String::from_utf8(layers[0].json.clone()).unwrap(),
            format!(
                r#"{{"id":"{}","created":"2020-01-01T00:00:00Z","container_config":{EMPTY_CONFIG},"architecture":"amd64","os":"linux"}}"#,
                layers[0].id.hex()
            )
        );
    }

    #[test]
    fn go_escapes() {
        assert_eq!(
            quote("a\"b\\c\n\u{1}<&>\u{2028}é"),
            r#""a\"b\\c\n\u0001\u003c\u0026\u003e\u2028é""#
        );
    }
}
