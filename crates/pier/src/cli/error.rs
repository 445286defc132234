//! How a command fails: the text on stderr and the exit status, as Docker's CLI prints them.
//!
//! Docker's CLI prefixes a daemon's refusal with `Error response from daemon: `, prints
//! other errors as they are, and exits with 1 unless a command chose another status (125 for
//! flag errors and for `run`/`create` failures, the container's status for `run`).

use api::client::Error as ApiError;

/// Why a command ends unsuccessfully.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A request failed (a daemon's refusal, no daemon, a broken stream).
    #[error("{}", api_error_text(.0))]
    Api(#[from] ApiError),
    /// A message and the status to exit with; an empty message prints nothing.
    #[error("{message}")]
    Status { message: String, code: u8 },
    /// A bad flag value or argument, found before anything was sent: Docker's
    /// `<message>\n\nUsage:  <usage>\n\nRun '<command> --help' for more information`,
    /// status 125. `usage` starts with the command.
    #[error("{message}\n\nUsage:  {usage}\n\nRun '{command} --help' for more information")]
    Flag {
        message: String,
        command: String,
        usage: String,
    },
    /// Anything else: printed as is, status 1.
    #[error("{0}")]
    Other(String),
}

/// Text of a client error as Docker's CLI prints it.
pub fn api_error_text(error: &ApiError) -> String {
    match error {
        ApiError::Daemon { .. } => format!("Error response from daemon: {error}"),
        _ => error.to_string(),
    }
}

impl CliError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }

    /// Ends the command with `code` and nothing printed (a container's exit status).
    pub fn exit(code: u8) -> Self {
        Self::Status {
            message: String::new(),
            code,
        }
    }

    pub fn status(message: impl Into<String>, code: u8) -> Self {
        Self::Status {
            message: message.into(),
            code,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Status { code, .. } => *code,
            Self::Flag { .. } => 125,
            Self::Api(_) | Self::Other(_) => 1,
        }
    }

    /// True for a daemon's 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api(error) if error.is_not_found())
    }
}

/// Docker's `docker run` and `docker create` failure to create or start: `pier: <error>`
/// and a pointer to the help, with 125 for the daemon's errors and 126/127 when the command
/// could not be run or found (the daemon's message says which).
pub fn run_failure(error: CliError, command: &str) -> CliError {
    let code = match &error {
        CliError::Status { .. } | CliError::Flag { .. } => return error,
        _ => run_status_of(&error.to_string()),
    };
    with_help(error, command, code)
}

/// A `run`/`create` flag combination or file Docker's CLI refuses before sending anything:
/// `pier: <error>` and a pointer to the help, status 125.
pub fn parse_failure(error: CliError, command: &str) -> CliError {
    match &error {
        CliError::Status { .. } | CliError::Flag { .. } => error,
        _ => with_help(error, command, 125),
    }
}

fn with_help(error: CliError, command: &str, code: u8) -> CliError {
    CliError::status(
        format!("pier: {error}\n\nRun 'pier {command} --help' for more information"),
        code,
    )
}

/// The status `docker run` exits with for a start that failed with `message`.
pub fn run_status_of(message: &str) -> u8 {
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("system cannot find the file specified")
    {
        127
    } else if message.contains("permission denied") || message.contains("is a directory") {
        126
    } else {
        125
    }
}

/// Collects the failures of a command that acts on several names (`rm a b c`): each success
/// is printed by the caller as it happens, the failures together at the end, status 1.
#[derive(Debug, Default)]
pub struct Failures {
    messages: Vec<String>,
}

impl Failures {
    pub fn add(&mut self, error: CliError) {
        self.messages.push(error.to_string());
    }

    pub fn into_result(self) -> Result<(), CliError> {
        if self.messages.is_empty() {
            Ok(())
        } else {
            Err(CliError::Other(self.messages.join("\n")))
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        Self::Other(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::StatusCode;

    fn daemon(message: &str) -> CliError {
        CliError::Api(ApiError::Daemon {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        })
    }

    #[test]
    fn daemon_errors_have_dockers_prefix() {
        let error = daemon("No such container: web");
        assert_eq!(
            error.to_string(),
            "Error response from daemon: No such container: web"
        );
        assert_eq!(error.exit_code(), 1);
        assert!(error.is_not_found());
    }

    #[test]
    fn run_failures_exit_as_dockers() {
        let error = run_failure(daemon("No such image: x:latest"), "run");
        assert_eq!(
            error.to_string(),
            "pier: Error response from daemon: No such image: x:latest\n\nRun 'pier run --help' for more information"
        );
        assert_eq!(error.exit_code(), 125);
        let not_found =
            daemon("failed to create task: exec: \"nope\": executable file not found in $PATH");
        assert_eq!(run_failure(not_found, "run").exit_code(), 127);
        let denied = daemon("exec /etc/passwd: permission denied");
        assert_eq!(run_failure(denied, "run").exit_code(), 126);
    }

    #[test]
    fn flag_errors_as_dockers() {
        let error = CliError::Flag {
            message: "invalid argument \"12zz\" for \"-m, --memory\" flag: invalid size: '12zz'"
                .into(),
            command: "pier run".into(),
            usage: "pier run [OPTIONS] IMAGE [COMMAND] [ARG...]".into(),
        };
        assert_eq!(
            error.to_string(),
            "invalid argument \"12zz\" for \"-m, --memory\" flag: invalid size: '12zz'\n\nUsage:  pier run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'pier run --help' for more information"
        );
        assert_eq!(error.exit_code(), 125);
    }

    #[test]
    fn failures_join_at_the_end() {
        let mut failures = Failures::default();
        assert!(Failures::default().into_result().is_ok());
        failures.add(daemon("No such container: a"));
        failures.add(daemon("No such container: b"));
        assert_eq!(
            failures.into_result().unwrap_err().to_string(),
            "Error response from daemon: No such container: a\nError response from daemon: No such container: b"
        );
    }
}
