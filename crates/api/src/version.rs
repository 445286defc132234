//! Engine API versions: parsing `1.45`, ordering, the range pier serves, and the
//! `/vX.Y` prefix of request paths.
//!
//! A client asks for a version by prefixing its paths (`/v1.41/containers/json`); a path
//! without a prefix means the server's default. The real docker CLI learns the server's
//! version from the `API-Version` header of `GET /_ping` and then uses the lower of the
//! server's and its own, so a server that answers `1.45` there is spoken to in `1.45` or less.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An Engine API version, `major.minor`. Ordered numerically (`1.9 < 1.10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u16,
    pub minor: u16,
}

/// The oldest API version pier serves (Docker 1.12's, as dockerd's own minimum).
pub const MIN_API_VERSION: ApiVersion = ApiVersion::new(1, 24);
/// The newest API version pier serves and its client speaks.
pub const MAX_API_VERSION: ApiVersion = ApiVersion::new(1, 45);
/// The version of requests whose path carries none.
pub const DEFAULT_API_VERSION: ApiVersion = MAX_API_VERSION;

/// A version string that is not `major.minor`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid API version {0:?}: expected <major>.<minor>, as in 1.45")]
pub struct ParseVersionError(pub String);

/// A requested version outside the range the server serves. The texts are dockerd's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedVersion {
    #[error(
        "client version {requested} is too old. Minimum supported API version is {minimum}, please upgrade your client to a newer version"
    )]
    TooOld {
        requested: ApiVersion,
        minimum: ApiVersion,
    },
    #[error("client version {requested} is too new. Maximum supported API version is {maximum}")]
    TooNew {
        requested: ApiVersion,
        maximum: ApiVersion,
    },
}

impl ApiVersion {
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// Parses `1.45`. Both parts are required and must be decimal numbers.
    pub fn parse(text: &str) -> Result<Self, ParseVersionError> {
        let invalid = || ParseVersionError(text.to_owned());
        let (major, minor) = text.split_once('.').ok_or_else(invalid)?;
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            part.parse::<u16>().map_err(|_| invalid())
        };
        Ok(Self::new(number(major)?, number(minor)?))
    }

    /// Checks that a server serving `MIN_API_VERSION..=MAX_API_VERSION` accepts this version.
    pub fn check_supported(self) -> Result<(), UnsupportedVersion> {
        if self < MIN_API_VERSION {
            return Err(UnsupportedVersion::TooOld {
                requested: self,
                minimum: MIN_API_VERSION,
            });
        }
        if self > MAX_API_VERSION {
            return Err(UnsupportedVersion::TooNew {
                requested: self,
                maximum: MAX_API_VERSION,
            });
        }
        Ok(())
    }

    /// The path prefix that asks for this version: `/v1.45`.
    pub fn path_prefix(self) -> String {
        format!("/v{self}")
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        DEFAULT_API_VERSION
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = ParseVersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Splits a request path into the version its `/vX.Y` prefix asks for and the rest:
/// `/v1.41/containers/json` gives `(Some(1.41), "/containers/json")`; a path without a
/// prefix comes back whole with `None`. A first segment that is `v` followed by something
/// other than a version (`/volumes`, `/vfoo/...`) is no prefix.
pub fn split_path(path: &str) -> (Option<ApiVersion>, &str) {
    let Some(after_v) = path.strip_prefix("/v") else {
        return (None, path);
    };
    let end = after_v.find('/').unwrap_or(after_v.len());
    match ApiVersion::parse(&after_v[..end]) {
        Ok(version) => {
            let rest = &after_v[end..];
            (Some(version), if rest.is_empty() { "/" } else { rest })
        }
        Err(_) => (None, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let v = ApiVersion::parse("1.45").unwrap();
        assert_eq!(v, ApiVersion::new(1, 45));
        assert_eq!(v.to_string(), "1.45");
        assert_eq!("1.24".parse::<ApiVersion>().unwrap(), MIN_API_VERSION);
    }

    #[test]
    fn refuses_what_is_not_major_dot_minor() {
        for bad in [
            "", "1", "1.", ".4", "1.4.5", "a.b", "1.-4", "+1.4", "1. 4", "99999.1",
        ] {
            assert!(ApiVersion::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn orders_numerically() {
        assert!(ApiVersion::parse("1.9").unwrap() < ApiVersion::parse("1.10").unwrap());
        assert!(ApiVersion::new(2, 0) > ApiVersion::new(1, 99));
        assert_eq!(
            std::cmp::min(ApiVersion::new(1, 47), MAX_API_VERSION),
            MAX_API_VERSION
        );
    }

    #[test]
    fn splits_versioned_paths() {
        assert_eq!(
            split_path("/v1.41/containers/json"),
            (Some(ApiVersion::new(1, 41)), "/containers/json")
        );
        assert_eq!(split_path("/v1.45"), (Some(MAX_API_VERSION), "/"));
        assert_eq!(split_path("/containers/json"), (None, "/containers/json"));
        assert_eq!(split_path("/volumes/x"), (None, "/volumes/x"));
        assert_eq!(split_path("/vfoo/info"), (None, "/vfoo/info"));
        assert_eq!(split_path("/_ping"), (None, "/_ping"));
    }

    #[test]
    fn unsupported_versions_read_as_dockerd_says_them() {
        assert_eq!(
            ApiVersion::new(1, 99)
                .check_supported()
                .unwrap_err()
                .to_string(),
            "client version 1.99 is too new. Maximum supported API version is 1.45"
        );
        assert_eq!(
            ApiVersion::new(1, 23)
                .check_supported()
                .unwrap_err()
                .to_string(),
            "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
        );
        assert!(ApiVersion::new(1, 41).check_supported().is_ok());
    }

    #[test]
    fn serializes_as_a_string() {
        let json = serde_json::to_string(&ApiVersion::new(1, 41)).unwrap();
        assert_eq!(json, "\"1.41\"");
        let back: ApiVersion = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ApiVersion::new(1, 41));
    }
}
