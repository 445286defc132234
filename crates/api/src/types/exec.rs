//! Exec bodies: create (`POST /containers/{id}/exec`), start (`POST /exec/{id}/start`) and
//! inspect (`GET /exec/{id}/json`). Create answers with an [`IdResponse`](super::IdResponse).

use serde::{Deserialize, Serialize};

use super::system::nullable;

/// `POST /containers/{id}/exec` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfig {
    /// `user`, `user:group`, `uid` or `uid:gid`.
    pub user: String,
    pub privileged: bool,
    pub tty: bool,
    /// `[height, width]` of the terminal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u32; 2]>,
    pub attach_stdin: bool,
    pub attach_stderr: bool,
    pub attach_stdout: bool,
    pub detach: bool,
    /// `ctrl-p,ctrl-q` form; empty for the default.
    pub detach_keys: String,
    /// `NAME=value` entries added to the container's environment.
    #[serde(deserialize_with = "nullable")]
    pub env: Vec<String>,
    pub working_dir: String,
    #[serde(deserialize_with = "nullable")]
    pub cmd: Vec<String>,
}

/// `POST /exec/{id}/start` body (also what `POST /exec/{id}/resize` needs to know).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartConfig {
    /// Start and return at once, without streams.
    pub detach: bool,
    pub tty: bool,
    /// `[height, width]` of the terminal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u32; 2]>,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecInspectResponse {
    #[serde(rename = "ID")]
    pub id: String,
    pub running: bool,
    /// `null` until the process has exited.
    pub exit_code: Option<i64>,
    pub process_config: ExecProcessConfig,
    pub open_stdin: bool,
    pub open_stderr: bool,
    pub open_stdout: bool,
    pub can_remove: bool,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// The detach key sequence as bytes, base64-encoded (Go's `[]byte`); `null` for none.
    pub detach_keys: Option<String>,
    pub pid: i64,
}

/// The process of an exec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecProcessConfig {
    pub tty: bool,
    pub entrypoint: String,
    #[serde(deserialize_with = "nullable")]
    pub arguments: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_as_the_docker_cli_sends_it() {
        let config: ExecConfig = serde_json::from_value(json!({
            "User": "", "Privileged": false, "Tty": true, "ConsoleSize": [24, 80],
            "AttachStdin": true, "AttachStderr": true, "AttachStdout": true,
            "Detach": false, "DetachKeys": "", "Env": null, "WorkingDir": "", "Cmd": ["sh"]
        }))
        .unwrap();
        assert_eq!(config.console_size, Some([24, 80]));
        assert!(config.env.is_empty());
        assert_eq!(config.cmd, ["sh"]);
        let json = serde_json::to_value(ExecConfig::default()).unwrap();
        assert!(json.get("ConsoleSize").is_none());
        assert_eq!(json["AttachStdout"], false);
    }

    #[test]
    fn inspect_wire_form() {
        let inspect = ExecInspectResponse {
            id: "e".into(),
            container_id: "c".into(),
            process_config: ExecProcessConfig {
                entrypoint: "sh".into(),
                arguments: vec!["-c".into(), "exit 2".into()],
                privileged: Some(false),
                ..Default::default()
            },
            ..Default::default()
        };
        let json = serde_json::to_value(&inspect).unwrap();
        assert_eq!(json["ID"], "e");
        assert_eq!(json["ContainerID"], "c");
        assert_eq!(json["ExitCode"], serde_json::Value::Null);
        assert_eq!(
            json["ProcessConfig"],
            json!({"tty": false, "entrypoint": "sh", "arguments": ["-c", "exit 2"], "privileged": false})
        );
    }
}
