//! Resource limits: Docker's open-files default (what current Docker gives a container:
//! 1024 soft, 524288 hard), never above this machine's hard limit, overridden by `Ulimits`.

use api::types::Ulimit;
use oci_spec::runtime::{PosixRlimit, PosixRlimitBuilder, PosixRlimitType};

use super::error::{Result, SpecError};

const DEFAULT_NOFILE_SOFT: u64 = 1024;
const DEFAULT_NOFILE_HARD: u64 = 524_288;

/// go-units' ulimit names.
const NAMES: &[(&str, PosixRlimitType)] = &[
    ("core", PosixRlimitType::RlimitCore),
    ("cpu", PosixRlimitType::RlimitCpu),
    ("data", PosixRlimitType::RlimitData),
    ("fsize", PosixRlimitType::RlimitFsize),
    ("locks", PosixRlimitType::RlimitLocks),
    ("memlock", PosixRlimitType::RlimitMemlock),
    ("msgqueue", PosixRlimitType::RlimitMsgqueue),
    ("nice", PosixRlimitType::RlimitNice),
    ("nofile", PosixRlimitType::RlimitNofile),
    ("nproc", PosixRlimitType::RlimitNproc),
    ("rss", PosixRlimitType::RlimitRss),
    ("rtprio", PosixRlimitType::RlimitRtprio),
    ("rttime", PosixRlimitType::RlimitRttime),
    ("sigpending", PosixRlimitType::RlimitSigpending),
    ("stack", PosixRlimitType::RlimitStack),
];

fn rlimit(typ: PosixRlimitType, soft: u64, hard: u64) -> Result<PosixRlimit> {
    PosixRlimitBuilder::default()
        .typ(typ)
        .soft(soft)
        .hard(hard)
        .build()
        .map_err(|e| SpecError::Internal(format!("rlimit: {e}")))
}

/// -1 (or any negative value) means unlimited, as Go's conversion to uint64 makes it.
fn as_limit(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

fn kind_of(ulimit: &Ulimit) -> Result<PosixRlimitType> {
    NAMES
        .iter()
        .find(|(name, _)| *name == ulimit.name)
        .map(|(_, typ)| *typ)
        .ok_or_else(|| SpecError::invalid(format!("invalid ulimit type: {}", ulimit.name)))
}

/// Checks `Ulimits` (names and soft <= hard).
pub(crate) fn validate(ulimits: &[Ulimit]) -> Result<()> {
    for ulimit in ulimits {
        kind_of(ulimit)?;
        if as_limit(ulimit.soft) > as_limit(ulimit.hard) {
            return Err(SpecError::invalid(format!(
                "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                ulimit.soft, ulimit.hard
            )));
        }
    }
    Ok(())
}

/// The container's rlimits: the default, clamped to `nofile_hard`, then the container's own.
pub(crate) fn rlimits(ulimits: &[Ulimit], nofile_hard: u64) -> Result<Vec<PosixRlimit>> {
    validate(ulimits)?;
    let hard = DEFAULT_NOFILE_HARD.min(nofile_hard);
    let mut limits = vec![rlimit(
        PosixRlimitType::RlimitNofile,
        DEFAULT_NOFILE_SOFT.min(hard),
        hard,
    )?];
    for ulimit in ulimits {
        let typ = kind_of(ulimit)?;
        limits.retain(|l| l.typ() != typ);
        limits.push(rlimit(typ, as_limit(ulimit.soft), as_limit(ulimit.hard))?);
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulimit(name: &str, soft: i64, hard: i64) -> Ulimit {
        Ulimit {
            name: name.into(),
            soft,
            hard,
        }
    }

    fn summary(limits: &[PosixRlimit]) -> Vec<(PosixRlimitType, u64, u64)> {
        limits
            .iter()
            .map(|l| (l.typ(), l.soft(), l.hard()))
            .collect()
    }

    #[test]
    fn defaults_never_exceed_the_hosts_hard_limit() {
        use PosixRlimitType::*;
        let cases: &[(u64, (u64, u64))] = &[
            (20_000, (1024, 20_000)),
            (1_048_576, (1024, 524_288)),
            (512, (512, 512)),
        ];
        for (host_hard, (soft, hard)) in cases {
            assert_eq!(
                summary(&rlimits(&[], *host_hard).unwrap()),
                [(RlimitNofile, *soft, *hard)]
            );
        }
    }

    #[test]
    fn ulimits_override_and_add() {
        use PosixRlimitType::*;
        let limits = rlimits(
            &[ulimit("nofile", 4096, 8192), ulimit("core", -1, -1)],
            20_000,
        )
        .unwrap();
        assert_eq!(
            summary(&limits),
            [(RlimitNofile, 4096, 8192), (RlimitCore, u64::MAX, u64::MAX)]
        );
    }

    #[test]
    fn bad_ulimits_in_dockers_words() {
        assert_eq!(
            rlimits(&[ulimit("bogus", 1, 1)], 20_000)
                .unwrap_err()
                .to_string(),
            "invalid ulimit type: bogus"
        );
        assert_eq!(
            rlimits(&[ulimit("nproc", 20, 10)], 20_000)
                .unwrap_err()
                .to_string(),
            "ulimit soft limit must be less than or equal to hard limit: 20 > 10"
        );
    }
}
