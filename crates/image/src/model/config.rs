//! Image configs (`application/vnd.docker.container.image.v1+json` and OCI's config): the
//! platform, the run defaults (`config`), the layers' diff ids and the history.
//!
//! A parsed config keeps its exact bytes: the image id is their sha256, as Docker computes
//! it, and fields this module does not model (Docker's `container`, `container_config`
//! internals, BuildKit's additions, ...) live on in those bytes and in `extra` maps.
//! A new config (import, commit, build) is made with [`ImageConfigBuilder`] and serialized
//! as Docker does: top-level keys sorted, `config` fields in Docker's casing and order,
//! empty fields left out.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::descriptor::{Descriptor, Platform};
use super::serde_helpers::{is_false, null_default, string_or_list, string_set};
use super::time::Timestamp;
use super::{ModelError, from_json};
use crate::digest::Digest;

const CONFIG_DOC: &str = "image config";

/// The one root filesystem type there is.
pub const ROOTFS_LAYERS: &str = "layers";

/// An image config, parsed, with its exact bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfig {
    raw: Vec<u8>,
    id: Digest,
    doc: ConfigDoc,
}

/// A new image config being put together; [`ImageConfigBuilder::build`] serializes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfigBuilder {
    doc: ConfigDoc,
}

/// The defaults for containers run from the image (`config` in the image config; Docker's
/// `container.Config` as images carry it). Fields Docker writes that pier does not use
/// (`Hostname`, `Image`, `AttachStdin`, ...) are kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    #[serde(rename = "User", default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `"80/tcp"`, ...
    #[serde(
        rename = "ExposedPorts",
        default,
        with = "string_set",
        skip_serializing_if = "Option::is_none"
    )]
    pub exposed_ports: Option<BTreeSet<String>>,
    #[serde(rename = "Env", default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(
        rename = "Cmd",
        default,
        deserialize_with = "string_or_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub cmd: Option<Vec<String>>,
    #[serde(
        rename = "Healthcheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub healthcheck: Option<HealthConfig>,
    #[serde(
        rename = "ArgsEscaped",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub args_escaped: Option<bool>,
    #[serde(
        rename = "Volumes",
        default,
        with = "string_set",
        skip_serializing_if = "Option::is_none"
    )]
    pub volumes: Option<BTreeSet<String>>,
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
    #[serde(
        rename = "Entrypoint",
        default,
        deserialize_with = "string_or_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "OnBuild", default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    #[serde(rename = "Labels", default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(
        rename = "StopSignal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_signal: Option<String>,
    #[serde(rename = "Shell", default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    /// Every other field, as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `HEALTHCHECK`: durations in nanoseconds; zero means "inherit" and is not written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    /// `[]` inherit, `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", command]`.
    #[serde(
        rename = "Test",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub test: Vec<String>,
    #[serde(rename = "Interval", default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(rename = "Timeout", default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(rename = "StartPeriod", default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(rename = "StartInterval", default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(rename = "Retries", default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// One step of the image's history, bottom first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The step made no layer (ENV, CMD, ...).
    #[serde(default, skip_serializing_if = "is_false")]
    pub empty_layer: bool,
}

/// `rootfs`: the layers' diff ids (digests of the uncompressed tars), bottom first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub fs_type: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub diff_ids: Vec<Digest>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ConfigDoc {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    config: Option<RunConfig>,
    #[serde(default)]
    container: Option<String>,
    #[serde(default)]
    container_config: Option<RunConfig>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    docker_version: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    history: Vec<History>,
    #[serde(default)]
    os: String,
    #[serde(rename = "os.features", default, deserialize_with = "null_default")]
    os_features: Vec<String>,
    #[serde(rename = "os.version", default)]
    os_version: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    rootfs: RootFs,
    #[serde(default)]
    variant: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl ConfigDoc {
    fn validate(&self) -> Result<(), ModelError> {
        if self.rootfs.fs_type != ROOTFS_LAYERS {
            return Err(ModelError::invalid(
                CONFIG_DOC,
                "rootfs.type",
                format!(
                    "expected {ROOTFS_LAYERS:?}, found {:?}",
                    self.rootfs.fs_type
                ),
            ));
        }
        check_time("created", self.created.as_deref())?;
        for (i, h) in self.history.iter().enumerate() {
            check_time(&format!("history[{i}].created"), h.created.as_deref())?;
        }
        // Docker refuses such configs when storing them (image/store.go).
        let non_empty = self.history.iter().filter(|h| !h.empty_layer).count();
        if non_empty > self.rootfs.diff_ids.len() {
            return Err(ModelError::invalid(
                CONFIG_DOC,
                "history",
                "too many non-empty layers in History section",
            ));
        }
        Ok(())
    }

    /// Docker's serialization: top-level keys sorted (Docker sorts them so that configs
    /// survive round trips), nested objects in their field order.
    fn to_json(&self) -> Vec<u8> {
        fn text<T: Serialize + ?Sized>(v: &T) -> String {
            // Strings, lists and maps with string keys: cannot fail.
            serde_json::to_string(v).unwrap_or_default()
        }
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                fields.insert(key.to_owned(), value);
            }
        };
        put("architecture", Some(text(&self.architecture)));
        put("author", self.author.as_ref().map(text));
        put("comment", self.comment.as_ref().map(text));
        put("config", self.config.as_ref().map(text));
        put("container", self.container.as_ref().map(text));
        put("container_config", self.container_config.as_ref().map(text));
        put("created", self.created.as_ref().map(text));
        put("docker_version", self.docker_version.as_ref().map(text));
        put(
            "history",
            (!self.history.is_empty()).then(|| text(&self.history)),
        );
        put("os", Some(text(&self.os)));
        put(
            "os.features",
            (!self.os_features.is_empty()).then(|| text(&self.os_features)),
        );
        put("os.version", self.os_version.as_ref().map(text));
        put("parent", self.parent.as_ref().map(text));
        put("rootfs", Some(text(&self.rootfs)));
        put("variant", self.variant.as_ref().map(text));
        for (key, value) in &self.extra {
            fields.entry(key.clone()).or_insert_with(|| text(value));
        }
        let mut out = String::from("{");
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&text(key));
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        out.into_bytes()
    }
}

fn check_time(field: &str, value: Option<&str>) -> Result<(), ModelError> {
    match value {
        Some(s) if Timestamp::parse(s).is_none() => Err(ModelError::invalid(
            CONFIG_DOC,
            field,
            format!("invalid RFC 3339 time {s:?}"),
        )),
        _ => Ok(()),
    }
}

impl ImageConfig {
    /// Parses a config, keeping its bytes.
    pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<ImageConfig, ModelError> {
        let raw = bytes.into();
        let doc: ConfigDoc = from_json(CONFIG_DOC, &raw)?;
        doc.validate()?;
        Ok(ImageConfig {
            id: Digest::of(&raw),
            raw,
            doc,
        })
    }

    /// The exact bytes: what is stored, pushed and hashed.
    pub fn bytes(&self) -> &[u8] {
        &self.raw
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.raw
    }

    /// The image id: the sha256 of [`ImageConfig::bytes`].
    pub fn id(&self) -> &Digest {
        &self.id
    }

    /// A descriptor of this config with `media_type` (OCI's or Docker's config type).
    pub fn descriptor(&self, media_type: &str) -> Descriptor {
        Descriptor::new(media_type, self.id.clone(), self.raw.len() as u64)
    }

    /// As written (`amd64`, `arm64`, ...; empty if missing).
    pub fn architecture(&self) -> &str {
        &self.doc.architecture
    }

    /// As written (`linux`; empty if missing).
    pub fn os(&self) -> &str {
        &self.doc.os
    }

    pub fn variant(&self) -> Option<&str> {
        self.doc.variant.as_deref()
    }

    pub fn os_version(&self) -> Option<&str> {
        self.doc.os_version.as_deref()
    }

    pub fn os_features(&self) -> &[String] {
        &self.doc.os_features
    }

    /// The platform this image says it runs on.
    pub fn platform(&self) -> Platform {
        let mut p = Platform::new(self.os(), self.architecture(), self.variant());
        p.os_version = self.doc.os_version.clone();
        p.os_features = self.doc.os_features.clone();
        p
    }

    /// `created`, as written (RFC 3339, checked when parsing).
    pub fn created(&self) -> Option<&str> {
        self.doc.created.as_deref()
    }

    pub fn created_time(&self) -> Option<Timestamp> {
        self.created().and_then(Timestamp::parse)
    }

    pub fn author(&self) -> Option<&str> {
        self.doc.author.as_deref()
    }

    pub fn comment(&self) -> Option<&str> {
        self.doc.comment.as_deref()
    }

    /// Docker only: the id of the container the image was committed from.
    pub fn container(&self) -> Option<&str> {
        self.doc.container.as_deref()
    }

    /// Docker only: the config of that container.
    pub fn container_config(&self) -> Option<&RunConfig> {
        self.doc.container_config.as_ref()
    }

    /// Docker only.
    pub fn docker_version(&self) -> Option<&str> {
        self.doc.docker_version.as_deref()
    }

    /// Docker only (legacy builder): the parent image's id.
    pub fn parent(&self) -> Option<&str> {
        self.doc.parent.as_deref()
    }

    /// The run defaults; `None` when the config has none (`null` or missing).
    pub fn config(&self) -> Option<&RunConfig> {
        self.doc.config.as_ref()
    }

    pub fn rootfs(&self) -> &RootFs {
        &self.doc.rootfs
    }

    /// The layers' diff ids, bottom first.
    pub fn diff_ids(&self) -> &[Digest] {
        &self.doc.rootfs.diff_ids
    }

    /// The chain ids of the layers, bottom first.
    pub fn chain_ids(&self) -> Vec<Digest> {
        super::chain_ids(self.diff_ids())
    }

    /// The history, bottom first.
    pub fn history(&self) -> &[History] {
        &self.doc.history
    }

    /// Top-level fields not modelled here, as written.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.doc.extra
    }

    /// A builder for a child of this image, as Docker's `NewChildImage` starts one: it keeps
    /// the platform, run defaults, layers and history, and drops what described how this
    /// image was made (author, comment, created, container, container_config,
    /// docker_version, parent) and unknown fields.
    pub fn child(&self) -> ImageConfigBuilder {
        let d = &self.doc;
        ImageConfigBuilder {
            doc: ConfigDoc {
                architecture: d.architecture.clone(),
                author: None,
                comment: None,
                config: d.config.clone(),
                container: None,
                container_config: None,
                created: None,
                docker_version: None,
                history: d.history.clone(),
                os: d.os.clone(),
                os_features: d.os_features.clone(),
                os_version: d.os_version.clone(),
                parent: None,
                rootfs: d.rootfs.clone(),
                variant: d.variant.clone(),
                extra: Map::new(),
            },
        }
    }
}

impl ImageConfigBuilder {
    /// An image with no layers, no history and no run defaults.
    pub fn new(os: &str, architecture: &str) -> ImageConfigBuilder {
        ImageConfigBuilder {
            doc: ConfigDoc {
                architecture: architecture.to_owned(),
                author: None,
                comment: None,
                config: None,
                container: None,
                container_config: None,
                created: None,
                docker_version: None,
                history: Vec::new(),
                os: os.to_owned(),
                os_features: Vec::new(),
                os_version: None,
                parent: None,
                rootfs: RootFs {
                    fs_type: ROOTFS_LAYERS.to_owned(),
                    diff_ids: Vec::new(),
                },
                variant: None,
                extra: Map::new(),
            },
        }
    }

    pub fn variant(mut self, variant: Option<&str>) -> Self {
        self.doc.variant = variant.filter(|v| !v.is_empty()).map(str::to_owned);
        self
    }

    pub fn os_version(mut self, os_version: Option<&str>) -> Self {
        self.doc.os_version = os_version.map(str::to_owned);
        self
    }

    /// `created` as RFC 3339 text (checked by [`ImageConfigBuilder::build`]).
    pub fn created(mut self, created: impl Into<String>) -> Self {
        self.doc.created = Some(created.into());
        self
    }

    /// `created` from a time, written as Docker writes it (`RFC3339Nano`).
    pub fn created_at(self, created: Timestamp) -> Self {
        self.created(created.to_rfc3339_nano())
    }

    pub fn author(mut self, author: impl Into<String>) -> Self {
        self.doc.author = Some(author.into());
        self
    }

    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.doc.comment = Some(comment.into());
        self
    }

    pub fn docker_version(mut self, version: impl Into<String>) -> Self {
        self.doc.docker_version = Some(version.into());
        self
    }

    /// Docker's commit records the container the image came from.
    pub fn container(mut self, id: impl Into<String>, config: Option<RunConfig>) -> Self {
        self.doc.container = Some(id.into());
        self.doc.container_config = config;
        self
    }

    pub fn config(mut self, config: RunConfig) -> Self {
        self.doc.config = Some(config);
        self
    }

    /// The run defaults, made empty if there were none.
    pub fn config_mut(&mut self) -> &mut RunConfig {
        self.doc.config.get_or_insert_with(RunConfig::default)
    }

    /// Adds a layer on top, with the history step that made it.
    pub fn add_layer(mut self, diff_id: Digest, mut history: History) -> Self {
        history.empty_layer = false;
        self.doc.rootfs.diff_ids.push(diff_id);
        self.doc.history.push(history);
        self
    }

    /// Adds a history step that made no layer.
    pub fn add_empty_layer(mut self, mut history: History) -> Self {
        history.empty_layer = true;
        self.doc.history.push(history);
        self
    }

    /// The serialized config, deterministic for equal builders.
    pub fn to_json(&self) -> Vec<u8> {
        self.doc.to_json()
    }

    /// Serializes and checks the config (times, rootfs) as a parsed one is checked.
    pub fn build(&self) -> Result<ImageConfig, ModelError> {
        ImageConfig::parse(self.to_json())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A config as Docker's legacy builder wrote it (keys sorted, full container configs,
    /// Docker-only fields), with a healthcheck and ONBUILD added.
    pub(crate) const DOCKER_CONFIG: &str = r##"{"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"nobody","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{},"443/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"ArgsEscaped":true,"Image":"sha256:9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269","Volumes":{"/data":{}},"WorkingDir":"/srv","Entrypoint":null,"OnBuild":["RUN echo child"],"Labels":{"maintainer":"someone"},"StopSignal":"SIGQUIT","Shell":["/bin/sh","-c"]},"container":"3ea13d9ab1fcd2ec71dd6b16dc2b1ae6a0e1f3f87f6a9ef1b09b1be35ffcc4d6","container_config":{"Hostname":"3ea13d9ab1fc","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh","-c","#(nop) ","CMD [\"sh\"]"],"Image":"sha256:9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}},"created":"2023-05-19T20:19:24.5489546Z","docker_version":"20.10.23","history":[{"created":"2023-05-19T20:19:24.2705788Z","created_by":"/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / "},{"created":"2023-05-19T20:19:24.5489546Z","created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:9547b4c33213e630a0ca602a989ecc094e042146ae8afa502e1e65af6473db03"]}}"##;

    /// A config as BuildKit writes it (OCI field names, only set fields, an extra key).
    const BUILDKIT_CONFIG: &str = r#"{"architecture":"arm64","variant":"v8","config":{"Env":["A=1"],"Entrypoint":"/entry.sh","Cmd":null,"WorkingDir":"/","ArgsEscaped":true},"created":"2024-01-02T03:04:05Z","history":[{"created":"2024-01-02T03:04:05Z","created_by":"COPY / / # buildkit","comment":"buildkit.dockerfile.v0"}],"moby.buildkit.buildinfo.v1":"e30=","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:2dc9f76fb25b31e0ae9d36adce713364c682ba0d2fa70756486e5cedfaf40012"]}}"#;

    #[test]
    fn docker_config_keeps_bytes_and_docker_only_fields() {
        let c = ImageConfig::parse(DOCKER_CONFIG).unwrap();
        assert_eq!(c.bytes(), DOCKER_CONFIG.as_bytes());
        assert_eq!(c.id(), &Digest::of(DOCKER_CONFIG.as_bytes()));
        assert_eq!(
            (c.os(), c.architecture(), c.variant()),
            ("linux", "amd64", None)
        );
        assert_eq!(c.platform().to_string(), "linux/amd64");
        assert_eq!(c.created(), Some("2023-05-19T20:19:24.5489546Z"));
        assert_eq!(c.created_time().unwrap().unix_seconds(), 1_684_527_564);
        assert_eq!(c.docker_version(), Some("20.10.23"));
        assert_eq!(c.container().map(str::len), Some(64));
        assert_eq!(c.diff_ids().len(), 1);
        assert_eq!(c.chain_ids(), c.diff_ids());
        assert_eq!(c.history().len(), 2);
        assert!(c.history()[1].empty_layer);
        assert_eq!(
            c.history()[1].created_by.as_deref(),
            Some("/bin/sh -c #(nop)  CMD [\"sh\"]")
        );

        let run = c.config().unwrap();
        assert_eq!(run.user.as_deref(), Some("nobody"));
        assert_eq!(run.cmd.as_deref(), Some(&["sh".to_owned()][..]));
        assert_eq!(run.entrypoint, None);
        let ports: Vec<&str> = run
            .exposed_ports
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        assert_eq!(ports, ["443/tcp", "80/tcp"]);
        assert!(run.volumes.as_ref().unwrap().contains("/data"));
        assert_eq!(run.working_dir.as_deref(), Some("/srv"));
        assert_eq!(
            run.on_build.as_deref(),
            Some(&["RUN echo child".to_owned()][..])
        );
        assert_eq!(run.labels.as_ref().unwrap()["maintainer"], "someone");
        assert_eq!(run.stop_signal.as_deref(), Some("SIGQUIT"));
        assert_eq!(run.shell.as_ref().unwrap().len(), 2);
        assert_eq!(run.args_escaped, Some(true));
        let health = run.healthcheck.as_ref().unwrap();
        assert_eq!(health.test, ["CMD-SHELL", "true"]);
        assert_eq!(
            (health.interval, health.retries, health.timeout),
            (30_000_000_000, 3, 0)
        );
        assert_eq!(run.extra["Hostname"], "");
        assert_eq!(run.extra["AttachStdin"], false);
        assert!(run.extra["Image"].as_str().unwrap().starts_with("sha256:"));

        let cc = c.container_config().unwrap();
        assert_eq!(cc.cmd.as_ref().unwrap()[2], "#(nop) ");
        assert_eq!(cc.volumes, None);
        assert_eq!(cc.labels, Some(BTreeMap::new()));
    }

    #[test]
    fn buildkit_config_reads_string_commands_and_keeps_unknown_fields() {
        let c = ImageConfig::parse(BUILDKIT_CONFIG).unwrap();
        assert_eq!(c.bytes(), BUILDKIT_CONFIG.as_bytes());
        assert_eq!(c.platform().to_string(), "linux/arm64/v8");
        let run = c.config().unwrap();
        assert_eq!(
            run.entrypoint.as_deref(),
            Some(&["/entry.sh".to_owned()][..])
        );
        assert_eq!(run.cmd, None);
        assert_eq!(c.extra()["moby.buildkit.buildinfo.v1"], "e30=");
        assert_eq!(
            c.history()[0].comment.as_deref(),
            Some("buildkit.dockerfile.v0")
        );
        assert_eq!(c.container(), None);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let d = "sha256:9547b4c33213e630a0ca602a989ecc094e042146ae8afa502e1e65af6473db03";
        let cases = [
            (
                r#"{"architecture":"amd64","os":"linux"}"#.to_owned(),
                "invalid image config: missing field `rootfs`",
            ),
            (
                r#"{"os":"linux","rootfs":{"type":"zfs"}}"#.to_owned(),
                "invalid image config: rootfs.type: expected \"layers\", found \"zfs\"",
            ),
            (
                r#"{"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#.to_owned(),
                "invalid image config: rootfs.diff_ids[0]: invalid digest",
            ),
            (
                r#"{"created":"yesterday","rootfs":{"type":"layers"}}"#.to_owned(),
                "invalid image config: created: invalid RFC 3339 time \"yesterday\"",
            ),
            (
                format!(
                    r#"{{"rootfs":{{"type":"layers","diff_ids":["{d}"]}},"history":[{{}},{{"created":"2023-01-01"}}]}}"#
                ),
                "invalid image config: history[1].created: invalid RFC 3339 time",
            ),
            (
                r#"{"rootfs":{"type":"layers"},"history":[{"created_by":"ADD"}]}"#.to_owned(),
                "invalid image config: history: too many non-empty layers in History section",
            ),
            (
                r#"{"rootfs":{"type":"layers"},"config":{"Cmd":7}}"#.to_owned(),
                "invalid image config: config.Cmd: data did not match any variant",
            ),
            (
                r#"{"rootfs":{"type":"layers"},"config":{"Env":"A=1"}}"#.to_owned(),
                "invalid image config: config.Env: invalid type: string \"A=1\", expected a sequence",
            ),
            (
                r#"{"rootfs":{"type":"layers"},"config":{"Healthcheck":{"Retries":"x"}}}"#
                    .to_owned(),
                "invalid image config: config.Healthcheck.Retries: invalid type",
            ),
        ];
        for (doc, start) in cases {
            let e = ImageConfig::parse(doc.as_bytes()).unwrap_err();
            assert!(e.to_string().starts_with(start), "{doc}\n{e}");
        }
    }

    #[test]
    fn built_configs_use_dockers_names_and_are_deterministic() {
        let layer: Digest =
            "sha256:9547b4c33213e630a0ca602a989ecc094e042146ae8afa502e1e65af6473db03"
                .parse()
                .unwrap();
        let mut b = ImageConfigBuilder::new("linux", "amd64")
            .created("2024-01-01T00:00:00Z")
            .comment("Imported from -")
            .add_layer(
                layer.clone(),
                History {
                    created: Some("2024-01-01T00:00:00Z".into()),
                    comment: Some("Imported from -".into()),
                    ..History::default()
                },
            );
        let run = b.config_mut();
        run.cmd = Some(vec!["sh".into()]);
        run.env = Some(vec!["A=1".into()]);
        run.exposed_ports = Some(BTreeSet::from(["80/tcp".to_owned()]));
        run.healthcheck = Some(HealthConfig {
            test: vec!["NONE".into()],
            ..HealthConfig::default()
        });
        let b = b.add_empty_layer(History {
            created: Some("2024-01-01T00:00:01Z".into()),
            created_by: Some("CMD [\"sh\"]".into()),
            ..History::default()
        });
        let expected = concat!(
            r#"{"architecture":"amd64","comment":"Imported from -","#,
            r#""config":{"ExposedPorts":{"80/tcp":{}},"Env":["A=1"],"Cmd":["sh"],"Healthcheck":{"Test":["NONE"]}},"#,
            r#""created":"2024-01-01T00:00:00Z","#,
            r#""history":[{"created":"2024-01-01T00:00:00Z","comment":"Imported from -"},"#,
            r#"{"created":"2024-01-01T00:00:01Z","created_by":"CMD [\"sh\"]","empty_layer":true}],"#,
            r#""os":"linux","#,
            r#""rootfs":{"type":"layers","diff_ids":["sha256:9547b4c33213e630a0ca602a989ecc094e042146ae8afa502e1e65af6473db03"]}}"#
        );
        assert_eq!(String::from_utf8(b.to_json()).unwrap(), expected);
        let c = b.build().unwrap();
        assert_eq!(c.bytes(), expected.as_bytes());
        assert_eq!(c.id(), &Digest::of(expected.as_bytes()));
        assert_eq!(b.clone().build().unwrap(), c, "deterministic");
        assert_eq!(c.diff_ids(), [layer]);
        assert!(
            ImageConfigBuilder::new("linux", "amd64")
                .created("now")
                .build()
                .is_err()
        );
        let empty = ImageConfigBuilder::new("linux", "arm")
            .variant(Some("v7"))
            .build()
            .unwrap();
        assert_eq!(
            std::str::from_utf8(empty.bytes()).unwrap(),
            r#"{"architecture":"arm","os":"linux","rootfs":{"type":"layers"},"variant":"v7"}"#
        );
    }

    #[test]
    fn child_configs_keep_layers_and_defaults_and_drop_provenance() {
        let parent = ImageConfig::parse(BUILDKIT_CONFIG).unwrap();
        let diff: Digest =
            "sha256:9f3bfcc4a1a8a676da07287a1aa6f2dcc8e869ea6f054c337593481a5bb1345e"
                .parse()
                .unwrap();
        let child = parent
            .child()
            .created("2024-02-02T00:00:00Z")
            .add_layer(diff.clone(), History::default())
            .build()
            .unwrap();
        assert_eq!(child.diff_ids(), [parent.diff_ids()[0].clone(), diff]);
        assert_eq!(child.history().len(), 2);
        assert_eq!(child.config(), parent.config());
        assert_eq!(child.platform(), parent.platform());
        assert!(child.extra().is_empty());
        assert_eq!(
            child.chain_ids()[1].to_string(),
            "sha256:61199b56f34827cbab596c63fd6e0ac0c448faa7e026e330994818190852d479"
        );
        // A config that was not changed is never re-serialized: the bytes stay.
        let reparsed = ImageConfig::parse(parent.bytes().to_vec()).unwrap();
        assert_eq!(reparsed.bytes(), BUILDKIT_CONFIG.as_bytes());
    }
}
