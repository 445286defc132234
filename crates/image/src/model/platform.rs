//! Choosing a manifest from an index for a platform, as Docker does through containerd's
//! `platforms.Only`: names are normalized (`x86_64` is `amd64`, `aarch64` is `arm64`, `arm`
//! means `arm/v7`, ...), then the wanted platform is tried first and its compatible
//! fallbacks after it, in order: `arm64` → `arm/v8` → `arm/v7` → `arm/v6` → `arm/v5`;
//! `arm/v7` → `v6` → `v5`; `amd64/vN` → ... → `amd64` → `386`. Within one rank the first
//! entry of the index wins; entries without a platform are never chosen.

use super::descriptor::{Descriptor, Platform};
use super::manifest::Index;

/// `os/architecture/variant` in containerd's normal form; the variant is empty when the
/// architecture's default (`arm64` is v8, `amd64` is v1).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Normal {
    os: String,
    architecture: String,
    variant: String,
}

/// Normalizes `os`, `architecture` and `variant` as containerd does. `arm` with no variant
/// becomes `arm/v7`; `arm64/v8` becomes plain `arm64`.
pub fn normalize_platform(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
    let n = normal(os, architecture, variant.unwrap_or_default());
    Platform::new(&n.os, &n.architecture, Some(&n.variant))
}

fn normal(os: &str, architecture: &str, variant: &str) -> Normal {
    let mut os = os.to_ascii_lowercase();
    if os == "macos" {
        os = "darwin".to_owned();
    }
    let architecture = architecture.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    let (architecture, variant) = match architecture.as_str() {
        "i386" => ("386".to_owned(), String::new()),
        "x86_64" | "x86-64" | "amd64" => (
            "amd64".to_owned(),
            if variant == "v1" {
                String::new()
            } else {
                variant
            },
        ),
        "aarch64" | "arm64" => (
            "arm64".to_owned(),
            match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" | "9.0" | "v9.0" => "v9".to_owned(),
                _ => variant,
            },
        ),
        "armhf" => ("arm".to_owned(), "v7".to_owned()),
        "armel" => ("arm".to_owned(), "v6".to_owned()),
        "arm" => (
            "arm".to_owned(),
            match variant.as_str() {
                "" | "7" => "v7".to_owned(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            },
        ),
        _ => (architecture, variant),
    };
    Normal {
        os,
        architecture,
        variant,
    }
}

/// The wanted platform and its fallbacks, best first (containerd's `platformVector`).
fn candidates(want: Normal) -> Vec<Normal> {
    let version = |v: &str| v.strip_prefix('v').and_then(|n| n.parse::<u32>().ok());
    let with = |architecture: &str, variant: String| Normal {
        os: want.os.clone(),
        architecture: architecture.to_owned(),
        variant,
    };
    let mut out = vec![want.clone()];
    match want.architecture.as_str() {
        "amd64" => {
            if let Some(n) = version(&want.variant).filter(|n| *n > 1) {
                for lower in (2..n).rev() {
                    out.push(with("amd64", format!("v{lower}")));
                }
                out.push(with("amd64", String::new()));
            }
            out.push(with("386", String::new()));
        }
        "arm" => {
            if let Some(n) = version(&want.variant).filter(|n| *n > 5) {
                for lower in (5..n).rev() {
                    out.push(with("arm", format!("v{lower}")));
                }
            }
        }
        "arm64" => {
            if !want.variant.is_empty() {
                out.push(with("arm64", String::new()));
            }
            out.extend(candidates(with("arm", "v8".to_owned())));
        }
        _ => {}
    }
    out
}

/// The manifest of `index` to run on `os/architecture[/variant]`, Docker's way (see the
/// module doc); `None` if no entry fits.
pub fn select_platform<'a>(
    index: &'a Index,
    os: &str,
    architecture: &str,
    variant: Option<&str>,
) -> Option<&'a Descriptor> {
    let entries: Vec<(&Descriptor, Normal)> = index
        .manifests()
        .iter()
        .filter_map(|d| {
            let p = d.platform.as_ref()?;
            Some((
                d,
                normal(
                    &p.os,
                    &p.architecture,
                    p.variant.as_deref().unwrap_or_default(),
                ),
            ))
        })
        .collect();
    let want = normal(os, architecture, variant.unwrap_or_default());
    candidates(want).into_iter().find_map(|candidate| {
        entries
            .iter()
            .find(|(_, normal)| *normal == candidate)
            .map(|(d, _)| *d)
    })
}

/// The platform pier runs on, as Docker names it: `linux/amd64`, `linux/arm64`, ...
pub fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    };
    let os = std::env::consts::OS;
    normalize_platform(os, architecture, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::tests::OCI_INDEX_FIXTURE;

    fn pick(index: &Index, os: &str, arch: &str, variant: Option<&str>) -> Option<char> {
        select_platform(index, os, arch, variant)
            .map(|d| d.digest.hex().chars().next().unwrap_or('?'))
    }

    #[test]
    fn selects_docker_s_choice() {
        // 1 amd64, 2 arm/v6, 3 arm/v7, 4 arm64/v8, 5 s390x, 6 attestation, 7 no platform.
        let index = Index::parse(OCI_INDEX_FIXTURE).unwrap();
        assert_eq!(pick(&index, "linux", "amd64", None), Some('1'));
        assert_eq!(pick(&index, "linux", "x86_64", None), Some('1'));
        assert_eq!(pick(&index, "linux", "amd64", Some("v3")), Some('1'));
        assert_eq!(pick(&index, "linux", "arm64", None), Some('4'));
        assert_eq!(pick(&index, "linux", "aarch64", Some("v8")), Some('4'));
        assert_eq!(pick(&index, "linux", "arm", None), Some('3'));
        assert_eq!(pick(&index, "linux", "arm", Some("v7")), Some('3'));
        assert_eq!(pick(&index, "linux", "arm", Some("v8")), Some('3'));
        assert_eq!(pick(&index, "linux", "arm", Some("v6")), Some('2'));
        assert_eq!(pick(&index, "linux", "armel", None), Some('2'));
        assert_eq!(pick(&index, "linux", "arm", Some("v5")), None);
        assert_eq!(pick(&index, "linux", "s390x", None), Some('5'));
        assert_eq!(pick(&index, "linux", "ppc64le", None), None);
        assert_eq!(pick(&index, "windows", "amd64", None), None);
        assert_eq!(pick(&index, "unknown", "unknown", None), Some('6'));
    }

    #[test]
    fn falls_back_from_arm64_to_32_bit_arm_and_amd64_to_386() {
        let digest = |n: char| n.to_string().repeat(64);
        let list = |entries: &[(char, &str, Option<&str>)]| {
            let manifests = entries
                .iter()
                .map(|(n, arch, variant)| {
                    Descriptor::new(
                        crate::model::media_types::DOCKER_MANIFEST,
                        crate::Digest::from_hex(&digest(*n)).unwrap(),
                        1,
                    )
                    .with_platform(Platform::new("linux", arch, *variant))
                })
                .collect();
            Index::docker_manifest_list(manifests)
        };
        let arm32 = list(&[('a', "arm", Some("v6")), ('b', "arm", Some("v7"))]);
        assert_eq!(pick(&arm32, "linux", "arm64", None), Some('b'));
        assert_eq!(pick(&arm32, "linux", "arm64", Some("v8")), Some('b'));
        let arm_v8 = list(&[('b', "arm", Some("v7")), ('c', "arm", Some("v8"))]);
        assert_eq!(pick(&arm_v8, "linux", "arm64", None), Some('c'));
        let x86 = list(&[('d', "386", None)]);
        assert_eq!(pick(&x86, "linux", "amd64", None), Some('d'));
        let levels = list(&[('e', "amd64", Some("v2")), ('f', "amd64", None)]);
        assert_eq!(pick(&levels, "linux", "amd64", Some("v3")), Some('e'));
        assert_eq!(pick(&levels, "linux", "amd64", None), Some('f'));
        let twice = list(&[('1', "amd64", None), ('2', "amd64", None)]);
        assert_eq!(
            pick(&twice, "linux", "amd64", None),
            Some('1'),
            "first entry wins"
        );
    }

    #[test]
    fn normalizes_names() {
        for ((os, arch, variant), expected) in [
            (("Linux", "x86_64", None), "linux/amd64"),
            (("linux", "aarch64", Some("v8")), "linux/arm64"),
            (("linux", "arm64", Some("9")), "linux/arm64/v9"),
            (("linux", "arm", None), "linux/arm/v7"),
            (("linux", "armhf", None), "linux/arm/v7"),
            (("linux", "arm", Some("6")), "linux/arm/v6"),
            (("linux", "i386", None), "linux/386"),
            (("macos", "arm64", None), "darwin/arm64"),
        ] {
            assert_eq!(normalize_platform(os, arch, variant).to_string(), expected);
        }
        let host = host_platform();
        assert_eq!(host.os, "linux");
        assert!(!host.architecture.is_empty());
    }
}
