//! `--change` instructions of `docker import` and `docker commit`: the Dockerfile
//! instructions that only set image configuration, applied to a config.

use std::collections::BTreeMap;

use super::ImageError;
use crate::model::RunConfig;

/// Instructions a change may use, as Docker allows them.
const ALLOWED: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];
const OTHER_INSTRUCTIONS: &[&str] = &["ADD", "ARG", "COPY", "FROM", "MAINTAINER", "RUN", "SHELL"];

fn bad(message: String) -> ImageError {
    ImageError::InvalidArgument(message)
}

/// Applies `changes` (e.g. `CMD ["sh"]`, `ENV A=1`, `EXPOSE 80/udp`) to `config`.
pub fn apply_changes(config: &mut RunConfig, changes: &[String]) -> Result<(), ImageError> {
    for change in changes {
        let line = change.trim();
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let instruction = word.to_ascii_uppercase();
        let rest = rest.trim();
        if !ALLOWED.contains(&instruction.as_str()) {
            return Err(if OTHER_INSTRUCTIONS.contains(&instruction.as_str()) {
                bad(format!("{instruction} is not a valid change command"))
            } else {
                bad(format!(
                    "dockerfile parse error line 1: unknown instruction: {word}"
                ))
            });
        }
        match instruction.as_str() {
            "CMD" => config.cmd = Some(command(rest, config.shell.as_deref())),
            "ENTRYPOINT" => config.entrypoint = Some(command(rest, config.shell.as_deref())),
            "ENV" => {
                let env = config.env.get_or_insert_with(Vec::new);
                for (key, value) in key_values("ENV", rest)? {
                    env.retain(|kv| kv.split('=').next() != Some(key.as_str()));
                    env.push(format!("{key}={value}"));
                }
            }
            "LABEL" => {
                let labels = config.labels.get_or_insert_with(BTreeMap::new);
                for (key, value) in key_values("LABEL", rest)? {
                    labels.insert(key, value);
                }
            }
            "EXPOSE" => {
                let ports = config.exposed_ports.get_or_insert_with(Default::default);
                for port in rest.split_whitespace() {
                    ports.insert(exposed_port(port)?);
                }
            }
            "USER" => config.user = Some(required("USER", rest)?.to_owned()),
            "WORKDIR" => config.working_dir = Some(required("WORKDIR", rest)?.to_owned()),
            "STOPSIGNAL" => config.stop_signal = Some(required("STOPSIGNAL", rest)?.to_owned()),
            "VOLUME" => {
                let volumes = config.volumes.get_or_insert_with(Default::default);
                for v in json_array(rest)
                    .unwrap_or_else(|| rest.split_whitespace().map(str::to_owned).collect())
                {
                    volumes.insert(v);
                }
            }
            "ONBUILD" => config
                .on_build
                .get_or_insert_with(Vec::new)
                .push(required("ONBUILD", rest)?.to_owned()),
            _ => {
                return Err(bad(format!(
                    "{instruction} is not supported as a change yet"
                )));
            }
        }
    }
    Ok(())
}

fn required<'a>(instruction: &str, rest: &'a str) -> Result<&'a str, ImageError> {
    if rest.is_empty() {
        Err(bad(format!("{instruction} requires exactly one argument")))
    } else {
        Ok(rest)
    }
}

fn json_array(text: &str) -> Option<Vec<String>> {
    text.starts_with('[')
        .then(|| serde_json::from_str(text).ok())
        .flatten()
}

/// The exec form (a JSON array) as is; the shell form run by the image's shell.
fn command(text: &str, shell: Option<&[String]>) -> Vec<String> {
    if let Some(args) = json_array(text) {
        return args;
    }
    let mut args: Vec<String> = shell
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
    args.push(text.to_owned());
    args
}

/// `K=V K2="v w"` pairs, or the legacy `K V...` form with a single pair.
fn key_values(instruction: &str, text: &str) -> Result<Vec<(String, String)>, ImageError> {
    if text.is_empty() {
        return Err(bad(format!("{instruction} requires at least one argument")));
    }
    let words = split_words(text);
    if !words[0].contains('=') {
        let (key, value) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        return Ok(vec![(key.to_owned(), value.trim().to_owned())]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(bad(format!("{instruction} names can not be blank"))),
        })
        .collect()
}

/// Whitespace-separated words, with double or single quotes and backslash escapes removed.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn exposed_port(port: &str) -> Result<String, ImageError> {
    let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
    let proto = proto.to_ascii_lowercase();
    let valid_number = |n: &str| n.parse::<u16>().is_ok_and(|n| n > 0);
    let valid = match number.split_once('-') {
        Some((a, b)) => valid_number(a) && valid_number(b),
        None => valid_number(number),
    };
    if !valid || !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(bad(format!("invalid containerPort: {port}")));
    }
    Ok(format!("{number}/{proto}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(changes: &[&str]) -> Result<RunConfig, ImageError> {
        let mut config = RunConfig::default();
        apply_changes(
            &mut config,
            &changes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        Ok(config)
    }

    #[test]
    fn every_config_instruction() {
        let c = apply(&[
            "CMD [\"httpd\", \"-f\"]",
            "ENTRYPOINT /init --verbose",
            "ENV A=1 B=\"two words\"",
            "ENV LEGACY some value",
            "LABEL org.example=yes",
            "EXPOSE 80 53/udp",
            "user nobody",
            "WORKDIR /srv",
            "VOLUME [\"/data\"]",
            "STOPSIGNAL SIGQUIT",
        ])
        .unwrap();
        assert_eq!(c.cmd.unwrap(), vec!["httpd", "-f"]);
        assert_eq!(
            c.entrypoint.unwrap(),
            vec!["/bin/sh", "-c", "/init --verbose"]
        );
        assert_eq!(
            c.env.unwrap(),
            vec!["A=1", "B=two words", "LEGACY=some value"]
        );
        assert_eq!(c.labels.unwrap()["org.example"], "yes");
        assert_eq!(
            c.exposed_ports.unwrap().into_iter().collect::<Vec<_>>(),
            vec!["53/udp", "80/tcp"]
        );
        assert_eq!(c.user.unwrap(), "nobody");
        assert_eq!(c.working_dir.unwrap(), "/srv");
        assert!(c.volumes.unwrap().contains("/data"));
        assert_eq!(c.stop_signal.unwrap(), "SIGQUIT");
    }

    #[test]
    fn other_instructions_are_refused_in_dockers_words() {
        assert_eq!(
            apply(&["RUN true"]).unwrap_err().to_string(),
            "RUN is not a valid change command"
        );
        assert_eq!(
            apply(&["BOGUS x"]).unwrap_err().to_string(),
            "dockerfile parse error line 1: unknown instruction: BOGUS"
        );
        assert!(apply(&["EXPOSE 99999"]).is_err());
        assert!(apply(&["ENV =x"]).is_err());
    }
}
