//! What every client command shares: the connection to the daemon (and starting one),
//! errors and exit statuses as Docker's CLI has them, the local terminal, hijacked
//! sessions, `--format` templates and times.

pub mod args;
pub mod connect;
pub mod detach;
pub mod error;
pub mod format;
pub mod json;
pub mod prompt;
pub mod session;
pub mod terminal;
pub mod text;
pub use api::time;
pub mod units;
pub mod upload;
pub mod usage;

use api::client::Client;
use tokio::sync::OnceCell;

pub use error::{CliError, Failures};

use connect::HostChoice;

/// One command's view of the world: which daemon, connected on first use, and the command's
/// path for the texts of its errors.
pub struct Context {
    host: HostChoice,
    client: OnceCell<Client>,
    path: Vec<String>,
}

impl Context {
    pub fn new(host: HostChoice, path: Vec<String>) -> Self {
        Self {
            host,
            client: OnceCell::new(),
            path,
        }
    }

    /// The client, connected (and a daemon started if need be) on first use.
    pub async fn client(&self) -> Result<&Client, CliError> {
        self.client
            .get_or_try_init(|| connect::connect(&self.host))
            .await
    }

    /// `pier run`, `pier container ls`...
    pub fn command_text(&self) -> String {
        args::path_text(&self.path)
    }

    /// A bad flag value, as Docker reports it (status 125).
    pub fn flag_error(&self, message: impl Into<String>) -> CliError {
        let names: Vec<&str> = self.path.iter().map(String::as_str).collect();
        CliError::Flag {
            message: message.into(),
            command: self.command_text(),
            usage: format!("{} {}", self.command_text(), usage::usage_of(&names).0),
        }
    }

    /// Docker's `invalid argument "<value>" for "<flag>" flag: <reason>`.
    pub fn invalid_flag(
        &self,
        value: &str,
        flag: &str,
        reason: impl std::fmt::Display,
    ) -> CliError {
        self.flag_error(format!(
            "invalid argument \"{value}\" for \"{flag}\" flag: {reason}"
        ))
    }

    /// The `--filter key=value` flags of a command; a malformed one is named as Docker names
    /// it, under the flag's spelling in that command (`-f, --filter` or `--filter`).
    pub fn filters(
        &self,
        values: &[String],
        flag: &str,
    ) -> Result<api::filters::Filters, CliError> {
        api::filters::Filters::from_flags(values).map_err(|e| {
            let value = values
                .iter()
                .find(|f| !f.contains('='))
                .cloned()
                .unwrap_or_default();
            self.invalid_flag(&value, flag, e)
        })
    }
}
