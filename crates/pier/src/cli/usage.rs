//! Docker's usage lines and argument counts per command, for the texts of argument errors
//! (`'pier run' requires at least 1 argument`) and flag errors (`Usage:  pier run ...`).

/// How many positional arguments a command takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Any,
    AtLeast(usize),
    Exactly(usize),
    AtMost(usize),
}

/// The part of Docker's usage line after the command's path, and its arity, by the
/// command's canonical name (the last word of its path).
pub fn usage_of(path: &[&str]) -> (&'static str, Arity) {
    let leaf = path.last().copied().unwrap_or("");
    let group = if path.len() > 1 { path[0] } else { "" };
    match (group, leaf) {
        ("network", "create") => ("[OPTIONS] NETWORK", Arity::Exactly(1)),
        ("network", "rm") => ("NETWORK [NETWORK...]", Arity::AtLeast(1)),
        ("network", "inspect") => ("[OPTIONS] NETWORK [NETWORK...]", Arity::AtLeast(1)),
        ("network", "connect" | "disconnect") => ("[OPTIONS] NETWORK CONTAINER", Arity::Exactly(2)),
        ("", "run") | ("container", "run") | (_, "create") if group != "volume" => {
            ("[OPTIONS] IMAGE [COMMAND] [ARG...]", Arity::AtLeast(1))
        }
        (_, "start" | "stop" | "kill" | "restart") => {
            ("[OPTIONS] CONTAINER [CONTAINER...]", Arity::AtLeast(1))
        }
        ("volume", "rm") => ("[OPTIONS] VOLUME [VOLUME...]", Arity::AtLeast(1)),
        ("volume", "inspect") => ("[OPTIONS] VOLUME [VOLUME...]", Arity::AtLeast(1)),
        ("volume", "create") => ("[OPTIONS] [VOLUME]", Arity::AtMost(1)),
        ("image", "rm") | (_, "rmi") => ("[OPTIONS] IMAGE [IMAGE...]", Arity::AtLeast(1)),
        ("image", "inspect") => ("[OPTIONS] IMAGE [IMAGE...]", Arity::AtLeast(1)),
        ("container", "inspect") => ("[OPTIONS] CONTAINER [CONTAINER...]", Arity::AtLeast(1)),
        (_, "rm") => ("[OPTIONS] CONTAINER [CONTAINER...]", Arity::AtLeast(1)),
        (_, "pause" | "unpause" | "wait") => ("CONTAINER [CONTAINER...]", Arity::AtLeast(1)),
        (_, "rename") => ("CONTAINER NEW_NAME", Arity::Exactly(2)),
        (_, "inspect") => ("[OPTIONS] NAME|ID [NAME|ID...]", Arity::AtLeast(1)),
        (_, "logs" | "attach") => ("[OPTIONS] CONTAINER", Arity::Exactly(1)),
        (_, "exec") => ("[OPTIONS] CONTAINER COMMAND [ARG...]", Arity::AtLeast(2)),
        ("", "images") | ("image", "ls") => ("[OPTIONS] [REPOSITORY[:TAG]]", Arity::AtMost(1)),
        (_, "history") => ("[OPTIONS] IMAGE", Arity::Exactly(1)),
        (_, "tag") => ("SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", Arity::Exactly(2)),
        (_, "save") => ("[OPTIONS] IMAGE [IMAGE...]", Arity::AtLeast(1)),
        (_, "import") => ("[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", Arity::AtLeast(1)),
        (_, "port") => ("CONTAINER [PRIVATE_PORT[/PROTO]]", Arity::AtLeast(1)),
        (_, "daemon" | "runtime") => ("[OPTIONS]", Arity::Any),
        _ => ("[OPTIONS]", Arity::Exactly(0)),
    }
}

/// Docker's text for a wrong number of arguments: `pier: 'pier logs' requires 1
/// argument`, the usage line, and where to find help.
pub fn arity_error(command: &str, usage: &str, arity: Arity) -> String {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let (requirement, pointer) = match arity {
        Arity::AtLeast(n) => (format!("requires at least {n} {}", plural(n)), "See"),
        Arity::Exactly(0) => ("accepts no arguments".to_owned(), "Run"),
        Arity::Exactly(n) => (format!("requires {n} {}", plural(n)), "Run"),
        Arity::AtMost(n) => (format!("requires at most {n} {}", plural(n)), "Run"),
        Arity::Any => ("got unexpected arguments".to_owned(), "Run"),
    };
    format!(
        "pier: '{command}' {requirement}\n\nUsage:  {command} {usage}\n\n{pointer} '{command} --help' for more information"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usages() {
        assert_eq!(
            usage_of(&["run"]),
            ("[OPTIONS] IMAGE [COMMAND] [ARG...]", Arity::AtLeast(1))
        );
        assert_eq!(
            usage_of(&["container", "rm"]),
            ("[OPTIONS] CONTAINER [CONTAINER...]", Arity::AtLeast(1))
        );
        assert_eq!(usage_of(&["image", "rm"]).0, "[OPTIONS] IMAGE [IMAGE...]");
        assert_eq!(usage_of(&["volume", "create"]).1, Arity::AtMost(1));
        assert_eq!(
            usage_of(&["network", "create"]),
            ("[OPTIONS] NETWORK", Arity::Exactly(1))
        );
        assert_eq!(usage_of(&["network", "rm"]).0, "NETWORK [NETWORK...]");
        assert_eq!(usage_of(&["network", "disconnect"]).1, Arity::Exactly(2));
        assert_eq!(
            usage_of(&["network", "ls"]),
            ("[OPTIONS]", Arity::Exactly(0))
        );
        assert_eq!(usage_of(&["ps"]), ("[OPTIONS]", Arity::Exactly(0)));
    }

    #[test]
    fn arity_texts() {
        assert_eq!(
            arity_error(
                "pier run",
                "[OPTIONS] IMAGE [COMMAND] [ARG...]",
                Arity::AtLeast(1)
            ),
            "pier: 'pier run' requires at least 1 argument\n\nUsage:  pier run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'pier run --help' for more information"
        );
        assert_eq!(
            arity_error("pier logs", "[OPTIONS] CONTAINER", Arity::Exactly(1)),
            "pier: 'pier logs' requires 1 argument\n\nUsage:  pier logs [OPTIONS] CONTAINER\n\nRun 'pier logs --help' for more information"
        );
        assert!(
            arity_error("pier ps", "[OPTIONS]", Arity::Exactly(0))
                .starts_with("pier: 'pier ps' accepts no arguments\n")
        );
    }
}
