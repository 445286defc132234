//! The JSON of Docker's `GET /images/{name}/json` (`ImageInspect`) and
//! `GET /images/{name}/history` (`HistoryResponseItem`), made from an image config and
//! what the store knows about the image. Field names, order, and which fields are `null`,
//! empty or left out follow dockerd (API v1.45, with the older versions' extra fields).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::config::{HealthConfig, ImageConfig, RunConfig};
use super::time::{GO_ZERO_RFC3339, GO_ZERO_UNIX, Timestamp};
use super::{ModelError, serde_helpers::is_false};
use crate::digest::Digest;

/// What the image store knows about an image, beyond its config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// Familiar `name:tag` references (`busybox:latest`).
    pub repo_tags: Vec<String>,
    /// Familiar `name@digest` references.
    pub repo_digests: Vec<String>,
    /// The parent image (images built or committed locally only).
    pub parent: Option<Digest>,
    /// Total size of the layers, unpacked.
    pub size: i64,
    pub graph_driver: GraphDriver,
    /// When the image was last tagged here, RFC 3339.
    pub last_tag_time: Option<String>,
}

/// `GraphDriver`: the storage driver and its facts (`LowerDir`, `UpperDir`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GraphDriver {
    #[serde(rename = "Data")]
    pub data: BTreeMap<String, String>,
    #[serde(rename = "Name")]
    pub name: String,
}

/// `docker image inspect`'s object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageInspect {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "RepoTags")]
    pub repo_tags: Vec<String>,
    #[serde(rename = "RepoDigests")]
    pub repo_digests: Vec<String>,
    #[serde(rename = "Parent")]
    pub parent: String,
    #[serde(rename = "Comment")]
    pub comment: String,
    #[serde(rename = "Created", skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// API < 1.45 only, and only when not empty.
    #[serde(rename = "Container", skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// API < 1.45 only.
    #[serde(rename = "ContainerConfig", skip_serializing_if = "Option::is_none")]
    pub container_config: Option<InspectConfig>,
    #[serde(rename = "DockerVersion")]
    pub docker_version: String,
    #[serde(rename = "Author")]
    pub author: String,
    #[serde(rename = "Config")]
    pub config: Option<InspectConfig>,
    #[serde(rename = "Architecture")]
    pub architecture: String,
    #[serde(rename = "Variant", skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(rename = "Os")]
    pub os: String,
    #[serde(rename = "OsVersion", skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(rename = "Size")]
    pub size: i64,
    /// API < 1.44 only: the same as `Size`.
    #[serde(rename = "VirtualSize", skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
    #[serde(rename = "GraphDriver")]
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: InspectRootFs,
    #[serde(rename = "Metadata")]
    pub metadata: InspectMetadata,
}

/// `RootFS`: `Layers` is left out when there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectRootFs {
    #[serde(rename = "Type")]
    pub fs_type: String,
    #[serde(rename = "Layers", skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
}

/// `Metadata`: dockerd always writes `LastTagTime`, Go's zero time when never tagged here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectMetadata {
    #[serde(rename = "LastTagTime")]
    pub last_tag_time: String,
}

/// Docker's `container.Config` as inspect shows it: every field of the type, with Go's
/// zero values where the image has none, `null` for absent lists and maps, and the
/// `omitempty` fields left out when empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InspectConfig {
    #[serde(rename = "Hostname")]
    pub hostname: String,
    #[serde(rename = "Domainname")]
    pub domainname: String,
    #[serde(rename = "User")]
    pub user: String,
    #[serde(rename = "AttachStdin")]
    pub attach_stdin: bool,
    #[serde(rename = "AttachStdout")]
    pub attach_stdout: bool,
    #[serde(rename = "AttachStderr")]
    pub attach_stderr: bool,
    #[serde(
        rename = "ExposedPorts",
        serialize_with = "set_as_object",
        skip_serializing_if = "none_or_empty_set"
    )]
    pub exposed_ports: Option<BTreeSet<String>>,
    #[serde(rename = "Tty")]
    pub tty: bool,
    #[serde(rename = "OpenStdin")]
    pub open_stdin: bool,
    #[serde(rename = "StdinOnce")]
    pub stdin_once: bool,
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Cmd")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Healthcheck", skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    #[serde(rename = "ArgsEscaped", skip_serializing_if = "is_false")]
    pub args_escaped: bool,
    #[serde(rename = "Image")]
    pub image: String,
    #[serde(rename = "Volumes", serialize_with = "set_as_object")]
    pub volumes: Option<BTreeSet<String>>,
    #[serde(rename = "WorkingDir")]
    pub working_dir: String,
    #[serde(rename = "Entrypoint")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "NetworkDisabled", skip_serializing_if = "is_false")]
    pub network_disabled: bool,
    #[serde(rename = "MacAddress", skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    #[serde(rename = "OnBuild")]
    pub on_build: Option<Vec<String>>,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "StopSignal", skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(rename = "StopTimeout", skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(rename = "Shell", skip_serializing_if = "none_or_empty_list")]
    pub shell: Option<Vec<String>>,
}

fn set_as_object<S: serde::Serializer>(
    set: &Option<BTreeSet<String>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    super::serde_helpers::string_set::serialize(set, s)
}

fn none_or_empty_set(set: &Option<BTreeSet<String>>) -> bool {
    set.as_ref().is_none_or(BTreeSet::is_empty)
}

fn none_or_empty_list(list: &Option<Vec<String>>) -> bool {
    list.as_ref().is_none_or(Vec::is_empty)
}

impl InspectConfig {
    /// The inspect form of an image's run config, reading Docker's extra fields
    /// (`Hostname`, `Image`, ...) where the config has them.
    pub fn from_run_config(c: &RunConfig) -> InspectConfig {
        let text = |key: &str| {
            c.extra
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let flag = |key: &str| c.extra.get(key).and_then(Value::as_bool).unwrap_or(false);
        InspectConfig {
            hostname: text("Hostname"),
            domainname: text("Domainname"),
            user: c.user.clone().unwrap_or_default(),
            attach_stdin: flag("AttachStdin"),
            attach_stdout: flag("AttachStdout"),
            attach_stderr: flag("AttachStderr"),
            exposed_ports: c.exposed_ports.clone(),
            tty: flag("Tty"),
            open_stdin: flag("OpenStdin"),
            stdin_once: flag("StdinOnce"),
            env: c.env.clone(),
            cmd: c.cmd.clone(),
            healthcheck: c.healthcheck.clone(),
            args_escaped: c.args_escaped.unwrap_or(false),
            image: text("Image"),
            volumes: c.volumes.clone(),
            working_dir: c.working_dir.clone().unwrap_or_default(),
            entrypoint: c.entrypoint.clone(),
            network_disabled: flag("NetworkDisabled"),
            mac_address: text("MacAddress"),
            on_build: c.on_build.clone(),
            labels: c.labels.clone(),
            stop_signal: c.stop_signal.clone().unwrap_or_default(),
            stop_timeout: c.extra.get("StopTimeout").and_then(Value::as_i64),
            shell: c.shell.clone(),
        }
    }
}

impl ImageInspect {
    /// The inspect object of the image with `config`, as dockerd answers API version
    /// `api_version` (`(1, 45)`): `VirtualSize` below 1.44, `Container` and
    /// `ContainerConfig` below 1.45.
    pub fn new(config: &ImageConfig, facts: ImageFacts, api_version: (u32, u32)) -> ImageInspect {
        let before = |minor: u32| api_version < (1, minor);
        // Docker shows the last history comment when the image has none of its own.
        let comment = config
            .comment()
            .filter(|c| !c.is_empty())
            .or_else(|| config.history().last().and_then(|h| h.comment.as_deref()))
            .unwrap_or_default()
            .to_owned();
        let os = match config.os() {
            "" => "linux".to_owned(),
            os => os.to_owned(),
        };
        ImageInspect {
            id: config.id().to_string(),
            repo_tags: facts.repo_tags,
            repo_digests: facts.repo_digests,
            parent: facts.parent.map(|p| p.to_string()).unwrap_or_default(),
            comment,
            created: config.created_time().map(|t| t.to_rfc3339_nano()),
            container: config
                .container()
                .filter(|c| before(45) && !c.is_empty())
                .map(str::to_owned),
            container_config: before(45).then(|| {
                config
                    .container_config()
                    .map(InspectConfig::from_run_config)
                    .unwrap_or_default()
            }),
            docker_version: config.docker_version().unwrap_or_default().to_owned(),
            author: config.author().unwrap_or_default().to_owned(),
            config: config.config().map(InspectConfig::from_run_config),
            architecture: config.architecture().to_owned(),
            variant: config
                .variant()
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            os,
            os_version: config
                .os_version()
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            size: facts.size,
            virtual_size: before(44).then_some(facts.size),
            graph_driver: facts.graph_driver,
            root_fs: InspectRootFs {
                fs_type: config.rootfs().fs_type.clone(),
                layers: config.diff_ids().iter().map(Digest::to_string).collect(),
            },
            metadata: InspectMetadata {
                last_tag_time: facts
                    .last_tag_time
                    .as_deref()
                    .and_then(Timestamp::parse)
                    .map_or_else(|| GO_ZERO_RFC3339.to_owned(), |t| t.to_rfc3339_nano()),
            },
        }
    }
}

/// One row of `GET /images/{name}/history`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryResponseItem {
    /// The image id for rows that are an image here, `<missing>` for the others.
    #[serde(rename = "Id")]
    pub id: String,
    /// Unix seconds.
    #[serde(rename = "Created")]
    pub created: i64,
    #[serde(rename = "CreatedBy")]
    pub created_by: String,
    /// Familiar `name:tag` references of that image; `null` when none.
    #[serde(rename = "Tags")]
    pub tags: Option<Vec<String>>,
    /// Size of the layer the step made (0 for empty layers).
    #[serde(rename = "Size")]
    pub size: i64,
    #[serde(rename = "Comment")]
    pub comment: String,
}

/// An image known to the store, for naming history rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryImage {
    pub id: Digest,
    /// Familiar `name:tag` references.
    pub tags: Vec<String>,
}

/// The history rows of an image, newest first, as dockerd makes them.
///
/// `layer_sizes[i]` is the unpacked size of the layer with `config.diff_ids()[i]`.
/// `images` are the image itself and then its local ancestors (parent, grandparent, ...):
/// the newest rows take their ids and tags, one each, and the rest say `<missing>`, which
/// is all rows but the first for a pulled image.
pub fn image_history(
    config: &ImageConfig,
    layer_sizes: &[i64],
    images: &[HistoryImage],
) -> Result<Vec<HistoryResponseItem>, ModelError> {
    let mut rows = Vec::with_capacity(config.history().len());
    let mut layer = 0;
    for (i, h) in config.history().iter().enumerate() {
        let size = if h.empty_layer {
            0
        } else {
            let size = layer_sizes.get(layer).copied().ok_or_else(|| {
                ModelError::invalid(
                    "image config",
                    format!("history[{i}]"),
                    "too many non-empty layers in History section",
                )
            })?;
            layer += 1;
            size
        };
        rows.push(HistoryResponseItem {
            id: "<missing>".to_owned(),
            created: h
                .created
                .as_deref()
                .and_then(Timestamp::parse)
                .map_or(GO_ZERO_UNIX, |t| t.unix_seconds()),
            created_by: h.created_by.clone().unwrap_or_default(),
            tags: None,
            size,
            comment: h.comment.clone().unwrap_or_default(),
        });
    }
    rows.reverse();
    for (row, image) in rows.iter_mut().zip(images) {
        row.id = image.id.to_string();
        row.tags = (!image.tags.is_empty()).then(|| image.tags.clone());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::tests::DOCKER_CONFIG;
    use serde_json::json;

    fn facts() -> ImageFacts {
        ImageFacts {
            repo_tags: vec!["example:1.0".into()],
            repo_digests: vec![],
            parent: None,
            size: 4_261_550,
            graph_driver: GraphDriver {
                data: BTreeMap::from([("MergedDir".into(), "/m".into())]),
                name: "overlay2".into(),
            },
            last_tag_time: None,
        }
    }

    #[test]
    fn inspect_has_dockers_field_names_and_empty_values() {
        let config = ImageConfig::parse(DOCKER_CONFIG).unwrap();
        let inspect = ImageInspect::new(&config, facts(), (1, 45));
        let v = serde_json::to_value(&inspect).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "Id",
            "RepoTags",
            "RepoDigests",
            "Parent",
            "Comment",
            "Created",
            "DockerVersion",
            "Author",
            "Config",
            "Architecture",
            "Os",
            "Size",
            "GraphDriver",
            "RootFS",
            "Metadata",
        ];
        expected.sort_unstable();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(keys_sorted, expected);
        assert_eq!(v["Id"], config.id().to_string());
        assert_eq!(v["RepoDigests"], json!([]));
        assert_eq!(v["Parent"], "");
        assert_eq!(v["Comment"], "");
        assert_eq!(v["Created"], "2023-05-19T20:19:24.5489546Z");
        assert_eq!(v["DockerVersion"], "20.10.23");
        assert_eq!(v["Author"], "");
        assert_eq!(v["Os"], "linux");
        assert_eq!(
            v["GraphDriver"],
            json!({"Data": {"MergedDir": "/m"}, "Name": "overlay2"})
        );
        assert_eq!(
            v["RootFS"],
            json!({"Type": "layers", "Layers": ["sha256:9547b4c33213e630a0ca602a989ecc094e042146ae8afa502e1e65af6473db03"]})
        );
        assert_eq!(
            v["Metadata"],
            json!({"LastTagTime": "0001-01-01T00:00:00Z"})
        );
        assert_eq!(
            v["Config"],
            json!({
                "Hostname": "", "Domainname": "", "User": "nobody",
                "AttachStdin": false, "AttachStdout": false, "AttachStderr": false,
                "ExposedPorts": {"443/tcp": {}, "80/tcp": {}},
                "Tty": false, "OpenStdin": false, "StdinOnce": false,
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["sh"],
                "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30000000000_i64, "Retries": 3},
                "ArgsEscaped": true,
                "Image": "sha256:9d5226e6ce3fb6aee2822206a5ef85f38c303d2b37bfc894b419fca2c0501269",
                "Volumes": {"/data": {}},
                "WorkingDir": "/srv",
                "Entrypoint": null,
                "OnBuild": ["RUN echo child"],
                "Labels": {"maintainer": "someone"},
                "StopSignal": "SIGQUIT",
                "Shell": ["/bin/sh", "-c"],
            })
        );
        // Field order is dockerd's (Go struct order).
        let text = serde_json::to_string(&inspect).unwrap();
        let order = [
            "\"Id\"",
            "\"RepoTags\"",
            "\"RepoDigests\"",
            "\"Parent\"",
            "\"Comment\"",
            "\"Created\"",
            "\"DockerVersion\"",
            "\"Author\"",
            "\"Config\"",
            "\"Architecture\"",
            "\"Os\"",
            "\"Size\"",
            "\"GraphDriver\"",
            "\"RootFS\"",
            "\"Metadata\"",
        ];
        let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn older_api_versions_get_the_deprecated_fields() {
        let config = ImageConfig::parse(DOCKER_CONFIG).unwrap();
        let v = serde_json::to_value(ImageInspect::new(&config, facts(), (1, 41))).unwrap();
        assert_eq!(v["VirtualSize"], 4_261_550);
        assert_eq!(v["Container"].as_str().map(str::len), Some(64));
        let cc = &v["ContainerConfig"];
        assert_eq!(cc["Hostname"], "3ea13d9ab1fc");
        assert_eq!(cc["Volumes"], Value::Null);
        assert_eq!(cc["Labels"], json!({}));
        assert!(cc.get("ExposedPorts").is_none(), "omitempty");
        assert!(cc.get("StopSignal").is_none(), "omitempty");

        // A minimal OCI config: no config, no created, no layers, no container.
        let bare = ImageConfig::parse(
            r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"history":[{"comment":"Imported from -","empty_layer":true}]}"#,
        )
        .unwrap();
        let mut f = facts();
        f.repo_tags.clear();
        f.parent = Some(config.id().clone());
        f.last_tag_time = Some("2024-01-01T10:00:00.500000000Z".into());
        let v = serde_json::to_value(ImageInspect::new(&bare, f, (1, 43))).unwrap();
        assert_eq!(v["RepoTags"], json!([]));
        assert_eq!(v["Parent"], config.id().to_string());
        assert_eq!(v["Comment"], "Imported from -");
        assert!(v.get("Created").is_none());
        assert!(v.get("Container").is_none());
        assert_eq!(v["ContainerConfig"]["Cmd"], Value::Null);
        assert_eq!(v["ContainerConfig"]["Image"], "");
        assert_eq!(v["Config"], Value::Null);
        assert_eq!(v["RootFS"], json!({"Type": "layers"}));
        assert_eq!(v["Metadata"]["LastTagTime"], "2024-01-01T10:00:00.5Z");
    }

    #[test]
    fn history_rows_are_newest_first_with_missing_ids() {
        let config = ImageConfig::parse(DOCKER_CONFIG).unwrap();
        let image = HistoryImage {
            id: config.id().clone(),
            tags: vec!["example:1.0".into()],
        };
        let rows = image_history(&config, &[4_261_550], &[image]).unwrap();
        let v = serde_json::to_value(&rows).unwrap();
        assert_eq!(
            v,
            json!([
                {
                    "Id": config.id().to_string(),
                    "Created": 1_684_527_564,
                    "CreatedBy": "/bin/sh -c #(nop)  CMD [\"sh\"]",
                    "Tags": ["example:1.0"],
                    "Size": 0,
                    "Comment": "",
                },
                {
                    "Id": "<missing>",
                    "Created": 1_684_527_564,
                    "CreatedBy": "/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / ",
                    "Tags": null,
                    "Size": 4_261_550,
                    "Comment": "",
                },
            ])
        );
        let e = image_history(&config, &[], &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid image config: history[0]: too many non-empty layers in History section"
        );
        let untagged = HistoryImage {
            id: config.id().clone(),
            tags: vec![],
        };
        let rows = image_history(&config, &[1], &[untagged]).unwrap();
        assert_eq!(rows[0].tags, None);
        let no_time =
            ImageConfig::parse(r#"{"rootfs":{"type":"layers"},"history":[{"empty_layer":true}]}"#)
                .unwrap();
        assert_eq!(
            image_history(&no_time, &[], &[]).unwrap()[0].created,
            GO_ZERO_UNIX
        );
    }
}
