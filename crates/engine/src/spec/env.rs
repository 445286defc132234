//! The process environment as Docker builds it: `PATH` (the default), `HOSTNAME`, `TERM=xterm`
//! with a terminal, then the container's variables replacing those of the same name or
//! added after them; a bare `NAME` removes the variable.

use runtime::profile::DEFAULT_PATH_ENV;

pub(crate) fn process_env(config_env: &[String], hostname: &str, tty: bool) -> Vec<String> {
    let mut env = vec![DEFAULT_PATH_ENV.to_owned(), format!("HOSTNAME={hostname}")];
    if tty {
        env.push("TERM=xterm".to_owned());
    }
    replace_or_append(env, config_env)
}

/// Docker's `ReplaceOrAppendEnvValues`: only the defaults are replaced in place.
fn replace_or_append(defaults: Vec<String>, overrides: &[String]) -> Vec<String> {
    let keys: Vec<String> = defaults
        .iter()
        .map(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k).to_owned())
        .collect();
    let mut env: Vec<Option<String>> = defaults.into_iter().map(Some).collect();
    for value in overrides {
        match value.split_once('=') {
            None => {
                if let Some(i) = keys.iter().position(|k| k == value) {
                    env[i] = None;
                }
            }
            Some((key, _)) => match keys.iter().position(|k| k == key) {
                Some(i) => env[i] = Some(value.clone()),
                None => env.push(Some(value.clone())),
            },
        }
    }
    env.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn environments() {
        let path = DEFAULT_PATH_ENV;
        let cases: &[(&[&str], bool, &[&str])] = &[
            (&[], false, &[path, "HOSTNAME=abc"]),
            (&[], true, &[path, "HOSTNAME=abc", "TERM=xterm"]),
            (
                &["PATH=/bin", "FOO=1"],
                false,
                &["PATH=/bin", "HOSTNAME=abc", "FOO=1"],
            ),
            (
                &["TERM=vt100", "HOSTNAME=custom"],
                true,
                &[path, "HOSTNAME=custom", "TERM=vt100"],
            ),
            (&["HOSTNAME"], false, &[path]),
            (
                &["FOO=1", "FOO=2"],
                false,
                &[path, "HOSTNAME=abc", "FOO=1", "FOO=2"],
            ),
        ];
        for (config, tty, expected) in cases {
            assert_eq!(
                process_env(&strings(config), "abc", *tty),
                strings(expected),
                "{config:?}"
            );
        }
    }
}
