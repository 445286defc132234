//! Command-line errors in Docker's words: clap finds them, this module says them as the
//! docker CLI (pflag and cobra) does, with its exit statuses (125 for flags, 1 for argument
//! counts and unknown commands).

use clap::error::{ContextKind, ContextValue, ErrorKind};

use super::usage::{arity_error, usage_of};

/// What to print and how to exit for a command line clap refused (or for `--help`).
#[derive(Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub to_stdout: bool,
    pub code: u8,
}

/// pflag takes the word after a flag as its value even when it starts with `-`
/// (`--health-interval -1s`, `--entrypoint -x`); clap needs to be told so, flag by flag.
/// `k=v` strings as a map (Docker's `ConvertKVStringsToMap`): `k` alone maps to "", and the
/// last of a repeated key wins.
pub fn kv_map(items: &[String]) -> std::collections::BTreeMap<String, String> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (item.clone(), String::new()),
        })
        .collect()
}

pub fn pflag_values(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            let takes_value = arg.get_action().takes_values();
            if takes_value && !arg.is_positional() && !arg.is_require_equals_set() {
                arg.allow_hyphen_values(true)
            } else {
                arg
            }
        })
        .mut_subcommands(pflag_values)
}

/// Gives every client command Docker's usage line in its help (`pier run [OPTIONS] IMAGE
/// [COMMAND] [ARG...]`); `daemon` and `runtime` keep their own.
pub fn docker_usage(command: clap::Command) -> clap::Command {
    fn walk(command: clap::Command, path: &mut Vec<String>) -> clap::Command {
        let name = command.get_name().to_owned();
        if matches!(name.as_str(), "daemon" | "runtime") && path.is_empty() {
            return command;
        }
        path.push(name);
        let command = if command.has_subcommands() {
            command.mut_subcommands(|sub| walk(sub, path))
        } else {
            let names: Vec<&str> = path.iter().map(String::as_str).collect();
            let (usage, _) = usage_of(&names);
            command.override_usage(format!("{} {usage}", path_text(path)))
        };
        path.pop();
        command
    }
    command.mut_subcommands(|sub| walk(sub, &mut Vec::new()))
}

/// The canonical names of the subcommands invoked (`["container", "ls"]` for
/// `pier -H x container ps -a`).
pub fn command_path(root: &clap::Command, argv: &[String]) -> Vec<String> {
    let mut path = Vec::new();
    let mut current = root;
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if path.is_empty() && (arg == "-H" || arg == "--host") {
            args.next();
            continue;
        }
        if arg.starts_with('-') {
            continue;
        }
        match current.find_subcommand(arg) {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                current = sub;
                if !current.has_subcommands() {
                    break;
                }
            }
            None => break,
        }
    }
    path
}

/// `pier run`, `pier container ls`.
pub fn path_text(path: &[String]) -> String {
    let mut text = String::from("pier");
    for name in path {
        text.push(' ');
        text.push_str(name);
    }
    text
}

/// Docker's `<message>\n\nUsage:  <path> <usage>\n\nRun '<path> --help' for more
/// information`, for flag errors.
pub fn flag_error_text(path: &[String], message: &str) -> String {
    let command = path_text(path);
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    let (usage, _) = usage_of(&names);
    format!("{message}\n\nUsage:  {command} {usage}\n\nRun '{command} --help' for more information")
}

/// Renders a clap error for the command line `argv`.
pub fn render(error: &clap::Error, root: &clap::Command, argv: &[String]) -> Rendered {
    let path = command_path(root, argv);
    // `pier runtime` speaks as runc and crun do, not as the docker CLI: clap's own words.
    if path.first().is_some_and(|first| first == "runtime") {
        return Rendered {
            text: error.render().to_string(),
            to_stdout: !error.use_stderr(),
            code: u8::try_from(error.exit_code()).unwrap_or(1),
        };
    }
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    let command = path_text(&path);
    let flag = |message: String| Rendered {
        text: flag_error_text(&path, &message),
        to_stdout: false,
        code: 125,
    };
    let arity = || {
        let (usage, arity) = usage_of(&names);
        Rendered {
            text: arity_error(&command, usage, arity),
            to_stdout: false,
            code: 1,
        }
    };
    let context = |kind: ContextKind| match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        Some(ContextValue::Strings(texts)) => texts.first().cloned(),
        _ => None,
    };
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Rendered {
            text: error.render().to_string(),
            to_stdout: true,
            code: 0,
        },
        ErrorKind::UnknownArgument => match context(ContextKind::InvalidArg) {
            Some(arg) if arg.starts_with("--") => {
                let name = arg.split('=').next().unwrap_or(&arg);
                flag(format!("unknown flag: {name}"))
            }
            Some(arg) if arg.starts_with('-') && arg.len() > 1 => {
                let letter = arg[1..].chars().next().unwrap_or('-');
                flag(format!("unknown shorthand flag: '{letter}' in -{letter}"))
            }
            _ => arity(),
        },
        ErrorKind::InvalidSubcommand => {
            let unknown = context(ContextKind::InvalidSubcommand).unwrap_or_default();
            Rendered {
                text: format!(
                    "pier: unknown command: {command} {unknown}\n\nRun '{command} --help' for more information"
                ),
                to_stdout: false,
                code: 1,
            }
        }
        ErrorKind::MissingRequiredArgument
        | ErrorKind::TooFewValues
        | ErrorKind::WrongNumberOfValues
        | ErrorKind::MissingSubcommand => arity(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = context(ContextKind::InvalidArg).unwrap_or_default();
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let shown = flag_display(root, &names, &arg);
            if value.is_empty() && error.kind() == ErrorKind::InvalidValue {
                return flag(format!(
                    "flag needs an argument: {}",
                    needs_argument(&shown, argv)
                ));
            }
            let reason = error_source(error).unwrap_or_else(|| "invalid value".to_owned());
            flag(format!(
                "invalid argument \"{value}\" for \"{shown}\" flag: {reason}"
            ))
        }
        _ => {
            let text = error.render().to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            flag(first.to_owned())
        }
    }
}

/// `-m, --memory` for the flag clap names as `--memory <MEMORY>` (pflag's way of naming a
/// flag in its errors).
fn flag_display(root: &clap::Command, path: &[&str], arg: &str) -> String {
    // clap names a flag with an optional value `--ipv6[=<bool>]`.
    let name = arg.split([' ', '=', '[']).next().unwrap_or(arg);
    let mut command = root;
    for step in path {
        match command.find_subcommand(step) {
            Some(sub) => command = sub,
            None => break,
        }
    }
    let found = command.get_arguments().find(|candidate| {
        name.strip_prefix("--")
            .is_some_and(|long| candidate.get_long() == Some(long))
            || name
                .strip_prefix('-')
                .and_then(|short| short.chars().next())
                .is_some_and(|short| name.len() == 2 && candidate.get_short() == Some(short))
    });
    match found {
        Some(arg) => match (arg.get_short(), arg.get_long()) {
            (Some(short), Some(long)) => format!("-{short}, --{long}"),
            (None, Some(long)) => format!("--{long}"),
            (Some(short), None) => format!("-{short}"),
            (None, None) => name.to_owned(),
        },
        None => name.to_owned(),
    }
}

/// pflag names a flag that lacks its value by how it was typed: `--name`, or `'e' in -e`.
fn needs_argument(shown: &str, argv: &[String]) -> String {
    let short = shown
        .strip_prefix('-')
        .and_then(|rest| rest.chars().next())
        .filter(|c| *c != '-');
    let typed_short = argv
        .last()
        .is_some_and(|last| last.starts_with('-') && !last.starts_with("--"));
    match (short, typed_short) {
        (Some(letter), true) => format!("'{letter}' in -{letter}"),
        _ => shown.rsplit(", ").next().unwrap_or(shown).to_owned(),
    }
}

fn error_source(error: &clap::Error) -> Option<String> {
    use std::error::Error as _;
    error.source().map(|source| source.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, Parser, Subcommand};

    #[derive(Parser, Debug)]
    #[command(name = "pier")]
    struct Root {
        #[arg(short = 'H', long)]
        host: Option<String>,
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Subcommand, Debug)]
    enum Sub {
        Run(RunLike),
        Logs(One),
        #[command(subcommand)]
        Container(Group),
    }

    #[derive(Subcommand, Debug)]
    enum Group {
        #[command(visible_alias = "ps")]
        Ls(NoArgs),
    }

    #[derive(Args, Debug)]
    struct RunLike {
        #[arg(short = 'm', long)]
        memory: Option<String>,
        #[arg(long, value_parser = |v: &str| v.parse::<i64>().map_err(|_| format!("strconv.ParseInt: parsing {v:?}: invalid syntax")))]
        stop_timeout: Option<i64>,
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true",
              value_parser = |v: &str| v.parse::<bool>().map_err(|_| format!("strconv.ParseBool: parsing {v:?}: invalid syntax")))]
        sig_proxy: Option<bool>,
        #[arg(required = true, num_args = 1.., trailing_var_arg = true)]
        rest: Vec<String>,
    }

    #[derive(Args, Debug)]
    struct One {
        container: String,
    }

    #[derive(Args, Debug)]
    struct NoArgs {
        #[arg(short = 'a')]
        all: bool,
    }

    fn rendered(line: &[&str]) -> Rendered {
        let root = docker_usage(pflag_values(Root::command()));
        let argv: Vec<String> = line.iter().map(|s| (*s).to_owned()).collect();
        let error = root.clone().try_get_matches_from(&argv).unwrap_err();
        render(&error, &root, &argv)
    }

    use clap::CommandFactory;

    #[test]
    fn paths_skip_global_flags_and_use_canonical_names() {
        let root = Root::command();
        let argv = ["pier", "-H", "unix:///x", "container", "ps", "-a"].map(String::from);
        assert_eq!(command_path(&root, &argv), ["container", "ls"]);
    }

    #[test]
    fn unknown_flags_as_pflag_says_them() {
        let long = rendered(&["pier", "run", "--foo", "busybox"]);
        assert_eq!(
            long.text,
            "unknown flag: --foo\n\nUsage:  pier run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'pier run --help' for more information"
        );
        assert_eq!((long.code, long.to_stdout), (125, false));
        let short = rendered(&["pier", "run", "-z", "busybox"]);
        assert!(
            short
                .text
                .starts_with("unknown shorthand flag: 'z' in -z\n")
        );
    }

    #[test]
    fn values_and_counts() {
        let missing = rendered(&["pier", "run", "--memory"]);
        assert!(
            missing
                .text
                .starts_with("flag needs an argument: --memory\n"),
            "{}",
            missing.text
        );
        let bad = rendered(&["pier", "run", "--stop-timeout", "x", "busybox"]);
        assert!(bad.text.starts_with(
            "invalid argument \"x\" for \"--stop-timeout\" flag: strconv.ParseInt: parsing \"x\": invalid syntax\n"
        ), "{}", bad.text);
        let optional = rendered(&["pier", "run", "--sig-proxy=x", "busybox"]);
        assert!(optional.text.starts_with(
            "invalid argument \"x\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"x\": invalid syntax\n"
        ), "{}", optional.text);
        let none = rendered(&["pier", "run"]);
        assert_eq!(none.code, 1);
        assert!(
            none.text
                .starts_with("pier: 'pier run' requires at least 1 argument\n")
        );
        let two = rendered(&["pier", "logs", "a", "b"]);
        assert!(
            two.text
                .starts_with("pier: 'pier logs' requires 1 argument\n"),
            "{}",
            two.text
        );
        let extra = rendered(&["pier", "container", "ls", "x"]);
        assert!(
            extra
                .text
                .starts_with("pier: 'pier container ls' accepts no arguments\n"),
            "{}",
            extra.text
        );
    }

    #[test]
    fn unknown_commands() {
        let unknown = rendered(&["pier", "frobnicate"]);
        assert_eq!(
            unknown.text,
            "pier: unknown command: pier frobnicate\n\nRun 'pier --help' for more information"
        );
        assert_eq!(unknown.code, 1);
    }

    #[test]
    fn help_shows_dockers_usage() {
        let help = rendered(&["pier", "run", "--help"]);
        assert_eq!((help.code, help.to_stdout), (0, true));
        assert!(
            help.text
                .contains("pier run [OPTIONS] IMAGE [COMMAND] [ARG...]"),
            "{}",
            help.text
        );
    }
}
