//! Environment variables and labels from flags and files, as Docker's CLI reads them:
//! `-e NAME` takes the value from pier's own environment, `--env-file` lines are
//! `NAME=value` (the value untrimmed), a bare `NAME`, `# comments` or blank.

use std::collections::BTreeMap;

use crate::cli::args::kv_map;

pub use crate::cli::text::go_io_error;

/// Docker's `ValidateEnv` for one `-e` value.
pub fn validate_env(value: &str) -> Result<String, String> {
    let (name, has_value) = match value.split_once('=') {
        Some((name, _)) => (name, true),
        None => (value, false),
    };
    if name.is_empty() {
        return Err(format!("invalid environment variable: {value}"));
    }
    if has_value {
        return Ok(value.to_owned());
    }
    match std::env::var(name) {
        Ok(found) => Ok(format!("{name}={found}")),
        Err(_) => Ok(value.to_owned()),
    }
}

/// Docker's `ValidateLabel` for one `-l` value.
pub fn validate_label(value: &str) -> Result<String, String> {
    let name = value.split_once('=').map_or(value, |(name, _)| name);
    if name.trim().is_empty() {
        return Err(format!("invalid label '{value}': empty name"));
    }
    Ok(value.to_owned())
}

/// Finds the value of a variable a file names without one.
pub type Lookup = dyn Fn(&str) -> Option<String>;

/// Reads a file of `NAME=value` lines; bare names are looked up with `lookup` and dropped
/// when it finds nothing (or always, without `lookup`).
pub fn parse_kv_file(path: &str, lookup: Option<&Lookup>) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(path).map_err(|e| go_io_error("open", path, &e))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = Vec::new();
    for (number, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let raw = if number == 0 {
            raw.strip_prefix('\u{feff}').unwrap_or(raw)
        } else {
            raw
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (line, None),
        };
        let name = name.trim_start();
        if name.contains([' ', '\t', '\n', '\u{b}', '\u{c}', '\r']) {
            return Err(format!("variable '{name}' contains whitespaces"));
        }
        if name.is_empty() {
            return Err(format!("no variable name on line '{line}'"));
        }
        match value {
            Some(value) => lines.push(format!("{name}={value}")),
            None => {
                if let Some(found) = lookup.and_then(|lookup| lookup(line)) {
                    lines.push(format!("{}={found}", name.trim()));
                }
            }
        }
    }
    Ok(lines)
}

/// Environment from `--env-file`s then `-e`s (Docker's `ReadKVEnvStrings`).
pub fn read_env(files: &[String], env: &[String]) -> Result<Vec<String>, String> {
    let lookup = |name: &str| std::env::var(name).ok();
    let mut all = Vec::new();
    for file in files {
        let lines = parse_kv_file(file, Some(&lookup)).map_err(|e| {
            if e.starts_with("open ") {
                e
            } else {
                format!("invalid env file ({file}): {e}")
            }
        })?;
        all.extend(lines);
    }
    all.extend(env.iter().cloned());
    Ok(all)
}

/// Labels from `--label-file`s then `-l`s, as a map (`name` alone is an empty value).
pub fn read_labels(
    files: &[String],
    labels: &[String],
) -> Result<BTreeMap<String, String>, String> {
    let mut all = Vec::new();
    for file in files {
        all.extend(parse_kv_file(file, None).map_err(|e| {
            if e.starts_with("open ") {
                e
            } else {
                format!("invalid label file ({file}): {e}")
            }
        })?);
    }
    all.extend(labels.iter().cloned());
    Ok(kv_map(&all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn env_values() {
        assert_eq!(validate_env("A=1").unwrap(), "A=1");
        assert_eq!(
            validate_env("=x").unwrap_err(),
            "invalid environment variable: =x"
        );
        assert_eq!(
            validate_env("PIER_SURELY_UNSET_VARIABLE").unwrap(),
            "PIER_SURELY_UNSET_VARIABLE"
        );
        let path = std::env::var("PATH").unwrap();
        assert_eq!(validate_env("PATH").unwrap(), format!("PATH={path}"));
    }

    #[test]
    fn env_files_as_docker_reads_them() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        write!(
            file,
            "\u{feff}# comment\n\n  A=1 2 \nB=\nPATH\nPIER_SURELY_UNSET_VARIABLE\nC==x\r\n"
        )
        .unwrap();
        let name = file.path().to_str().unwrap().to_owned();
        let env = read_env(std::slice::from_ref(&name), &["D=4".into()]).unwrap();
        let path = std::env::var("PATH").unwrap();
        assert_eq!(
            env,
            vec![
                "A=1 2 ".to_owned(),
                "B=".into(),
                format!("PATH={path}"),
                "C==x".into(),
                "D=4".into()
            ]
        );
        let mut bad = tempfile::NamedTempFile::new().unwrap();
        writeln!(bad, "A B=1").unwrap();
        let bad_name = bad.path().to_str().unwrap().to_owned();
        assert_eq!(
            read_env(std::slice::from_ref(&bad_name), &[]).unwrap_err(),
            format!("invalid env file ({bad_name}): variable 'A B' contains whitespaces")
        );
        assert_eq!(
            read_env(&["/nonexistent/env".into()], &[]).unwrap_err(),
            "open /nonexistent/env: no such file or directory"
        );
    }

    #[test]
    fn labels() {
        assert_eq!(
            validate_label("=x").unwrap_err(),
            "invalid label '=x': empty name"
        );
        let map = read_labels(&[], &["a=1".into(), "b".into(), "a=2".into()]).unwrap();
        assert_eq!(map.get("a").unwrap(), "2");
        assert_eq!(map.get("b").unwrap(), "");
    }
}
