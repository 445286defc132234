//! The image's run defaults merged into the create body's Config, as Docker's `merge` and
//! `mergeAndVerifyConfig` do when a container is created (the result is what inspect shows).

use api::types::{ContainerConfig, HealthConfig};
use image::model::RunConfig;

/// Fills what the container leaves unset from the image: User, WorkingDir, StopSignal,
/// Healthcheck (field by field), Cmd and Entrypoint (only when the container sets no
/// Entrypoint), and merges ExposedPorts, Volumes, Labels (the container's win) and Env (the
/// container's first, then the image's variables it does not set). An Entrypoint of `[""]`
/// is then reset to none, as Docker does. Shell and OnBuild stay the container's: Docker
/// does not copy them either (inspect shows `"OnBuild": null` for containers).
pub fn merge_image_config(config: &mut ContainerConfig, image: &RunConfig) {
    if config.user.is_empty() {
        config.user = image.user.clone().unwrap_or_default();
    }
    if let Some(ports) = &image.exposed_ports {
        match &mut config.exposed_ports {
            Some(own) if !own.is_empty() => own.extend(ports.iter().cloned()),
            _ => config.exposed_ports = Some(ports.clone()),
        }
    }
    merge_env(config, image.env.as_deref().unwrap_or_default());
    let labels = config.labels.get_or_insert_with(Default::default);
    for (key, value) in image.labels.iter().flatten() {
        labels.entry(key.clone()).or_insert_with(|| value.clone());
    }
    if config.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        if config.cmd.as_ref().is_none_or(Vec::is_empty) {
            config.cmd = image.cmd.clone();
        }
        if config.entrypoint.is_none() {
            config.entrypoint = image.entrypoint.clone();
        }
    }
    if let Some(theirs) = &image.healthcheck {
        let ours = config.healthcheck.get_or_insert_with(HealthConfig::default);
        if ours.test.is_empty() {
            ours.test = theirs.test.clone();
        }
        let inherit = |own: &mut i64, image: i64| {
            if *own == 0 {
                *own = image;
            }
        };
        inherit(&mut ours.interval, theirs.interval);
        inherit(&mut ours.timeout, theirs.timeout);
        inherit(&mut ours.start_period, theirs.start_period);
        inherit(&mut ours.start_interval, theirs.start_interval);
        inherit(&mut ours.retries, theirs.retries);
    }
    if config.working_dir.is_empty() {
        config.working_dir = image.working_dir.clone().unwrap_or_default();
    }
    if let Some(volumes) = &image.volumes {
        match &mut config.volumes {
            Some(own) if !own.is_empty() => own.extend(volumes.iter().cloned()),
            _ => config.volumes = Some(volumes.clone()),
        }
    }
    if config.stop_signal.is_empty() {
        config.stop_signal = image.stop_signal.clone().unwrap_or_default();
    }
    reset_empty_entrypoint(config);
}

/// `--entrypoint ""` arrives as `[""]`: no entrypoint at all.
pub(crate) fn reset_empty_entrypoint(config: &mut ContainerConfig) {
    if config
        .entrypoint
        .as_deref()
        .is_some_and(|e| e.len() == 1 && e[0].is_empty())
    {
        config.entrypoint = None;
    }
}

fn merge_env(config: &mut ContainerConfig, image_env: &[String]) {
    match &mut config.env {
        Some(own) if !own.is_empty() => {
            let key = |entry: &str| entry.split_once('=').map_or(entry, |(k, _)| k).to_owned();
            let own_keys: Vec<String> = own.iter().map(|e| key(e)).collect();
            for entry in image_env {
                if !own_keys.contains(&key(entry)) {
                    own.push(entry.clone());
                }
            }
        }
        _ => {
            if !image_env.is_empty() {
                config.env = Some(image_env.to_vec());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn list(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| (*s).to_owned()).collect())
    }

    fn image() -> RunConfig {
        RunConfig {
            user: Some("www-data".into()),
            env: list(&["PATH=/usr/bin:/bin", "NGINX_VERSION=1.25", "LANG=C"]),
            cmd: list(&["nginx", "-g", "daemon off;"]),
            entrypoint: list(&["/docker-entrypoint.sh"]),
            working_dir: Some("/srv".into()),
            exposed_ports: Some(BTreeSet::from(["80/tcp".to_owned()])),
            volumes: Some(BTreeSet::from(["/var/cache/nginx".to_owned()])),
            labels: Some(BTreeMap::from([
                ("maintainer".to_owned(), "NGINX".to_owned()),
                ("tier".to_owned(), "image".to_owned()),
            ])),
            stop_signal: Some("SIGQUIT".into()),
            healthcheck: Some(image::model::HealthConfig {
                test: vec!["CMD".into(), "true".into()],
                interval: 5_000_000_000,
                retries: 3,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn empty_container_config_takes_everything() {
        let mut config = ContainerConfig::default();
        merge_image_config(&mut config, &image());
        assert_eq!(config.user, "www-data");
        assert_eq!(
            config.env,
            list(&["PATH=/usr/bin:/bin", "NGINX_VERSION=1.25", "LANG=C"])
        );
        assert_eq!(config.cmd, list(&["nginx", "-g", "daemon off;"]));
        assert_eq!(config.entrypoint, list(&["/docker-entrypoint.sh"]));
        assert_eq!(config.working_dir, "/srv");
        assert_eq!(config.stop_signal, "SIGQUIT");
        assert_eq!(config.labels.as_ref().unwrap()["tier"], "image");
        assert_eq!(config.healthcheck.as_ref().unwrap().retries, 3);
        assert_eq!(
            config.volumes,
            Some(BTreeSet::from(["/var/cache/nginx".to_owned()]))
        );
    }

    #[test]
    fn the_container_wins() {
        let mut config = ContainerConfig {
            user: "1000".into(),
            env: list(&["LANG=en_US.UTF-8", "FOO=bar"]),
            cmd: list(&["sh"]),
            working_dir: "/app".into(),
            exposed_ports: Some(BTreeSet::from(["443/tcp".to_owned()])),
            labels: Some(BTreeMap::from([("tier".to_owned(), "web".to_owned())])),
            healthcheck: Some(HealthConfig {
                interval: 1_000_000_000,
                ..Default::default()
            }),
            ..Default::default()
        };
        merge_image_config(&mut config, &image());
        assert_eq!(config.user, "1000");
        // Docker's order: the container's variables, then the image's it does not set.
        assert_eq!(
            config.env,
            list(&[
                "LANG=en_US.UTF-8",
                "FOO=bar",
                "PATH=/usr/bin:/bin",
                "NGINX_VERSION=1.25"
            ])
        );
        assert_eq!(config.cmd, list(&["sh"]));
        assert_eq!(config.entrypoint, list(&["/docker-entrypoint.sh"]));
        assert_eq!(config.working_dir, "/app");
        assert_eq!(
            config.exposed_ports,
            Some(BTreeSet::from(["443/tcp".to_owned(), "80/tcp".to_owned()]))
        );
        let labels = config.labels.unwrap();
        assert_eq!(
            (labels["tier"].as_str(), labels["maintainer"].as_str()),
            ("web", "NGINX")
        );
        let health = config.healthcheck.unwrap();
        assert_eq!(health.interval, 1_000_000_000);
        assert_eq!(health.test, vec!["CMD", "true"]);
        assert_eq!(health.retries, 3);
    }

    #[test]
    fn an_entrypoint_of_the_container_drops_the_images_cmd() {
        let mut config = ContainerConfig {
            entrypoint: list(&["/bin/echo"]),
            ..Default::default()
        };
        merge_image_config(&mut config, &image());
        assert_eq!(config.entrypoint, list(&["/bin/echo"]));
        assert_eq!(config.cmd, None);
    }

    #[test]
    fn an_empty_entrypoint_resets_the_images() {
        let mut config = ContainerConfig {
            entrypoint: list(&[""]),
            cmd: list(&["ls"]),
            ..Default::default()
        };
        merge_image_config(&mut config, &image());
        assert_eq!(config.entrypoint, None);
        assert_eq!(config.cmd, list(&["ls"]));
        let mut bare = ContainerConfig {
            entrypoint: list(&[""]),
            ..Default::default()
        };
        merge_image_config(&mut bare, &image());
        assert_eq!((bare.entrypoint, bare.cmd), (None, None));
    }

    #[test]
    fn labels_are_never_null_afterwards() {
        let mut config = ContainerConfig::default();
        merge_image_config(&mut config, &RunConfig::default());
        assert_eq!(config.labels, Some(BTreeMap::new()));
        assert_eq!(config.env, None);
    }
}
