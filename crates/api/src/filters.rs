//! Docker's `filters` query parameter: a set of values per key, sent as JSON.
//!
//! Clients send `{"status":{"running":true}}` (what the docker CLI and Go client write);
//! some send the legacy `{"status":["running"]}` (docker-py, API < 1.22): both are read.
//! Values of one key are alternatives (any may match), different keys must all match;
//! that logic is the engine's, this module only carries the sets and Docker's errors.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Filters as keys to sets of values. Values keep the order they were added in, once each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, Vec<String>>,
}

/// A filter that is not well-formed or not accepted. The texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A `filters` parameter that is not JSON of either accepted shape, an unknown key, or a
    /// value a key does not accept.
    #[error("{}", invalid_filter_text(.key.as_deref(), .values.as_deref()))]
    Invalid {
        key: Option<String>,
        values: Option<Vec<String>>,
    },
    /// A `--filter` argument without `=`.
    #[error("bad format of filter (expected name=value)")]
    BadFormat,
}

// Go prints a []string as `[a b]`, which Docker's message embeds.
fn invalid_filter_text(key: Option<&str>, values: Option<&[String]>) -> String {
    match (key, values) {
        (None, _) => "invalid filter".to_owned(),
        (Some(key), None) => format!("invalid filter '{key}'"),
        (Some(key), Some(values)) => format!("invalid filter '{key}=[{}]'", values.join(" ")),
    }
}

impl FilterError {
    fn key(key: &str) -> Self {
        Self::Invalid {
            key: Some(key.to_owned()),
            values: None,
        }
    }
}

impl Filters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the `filters` query parameter; an empty string means no filters.
    pub fn from_json(text: &str) -> Result<Self, FilterError> {
        if text.trim().is_empty() {
            return Ok(Self::new());
        }
        let mut filters = Self::new();
        if let Ok(sets) = serde_json::from_str::<BTreeMap<String, BTreeMap<String, bool>>>(text) {
            for (key, values) in sets {
                // Go's Args.Get lists every value present, whatever its boolean says.
                filters.fields.entry(key.clone()).or_default();
                for value in values.into_keys() {
                    filters.add(&key, &value);
                }
            }
            return Ok(filters);
        }
        let lists = serde_json::from_str::<BTreeMap<String, Vec<String>>>(text).map_err(|_| {
            FilterError::Invalid {
                key: None,
                values: None,
            }
        })?;
        for (key, values) in lists {
            filters.fields.entry(key.clone()).or_default();
            for value in values {
                filters.add(&key, &value);
            }
        }
        Ok(filters)
    }

    /// Builds filters from `--filter name=value` arguments, as the docker CLI reads them.
    pub fn from_flags<I, S>(args: I) -> Result<Self, FilterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut filters = Self::new();
        for arg in args {
            filters.add_flag(arg.as_ref())?;
        }
        Ok(filters)
    }

    /// Adds one `--filter` argument: the name is trimmed and lower-cased, the value trimmed;
    /// an empty argument adds nothing.
    pub fn add_flag(&mut self, arg: &str) -> Result<(), FilterError> {
        if arg.is_empty() {
            return Ok(());
        }
        let (name, value) = arg.split_once('=').ok_or(FilterError::BadFormat)?;
        self.add(&name.trim().to_lowercase(), value.trim());
        Ok(())
    }

    /// Adds a value to a key's set.
    pub fn add(&mut self, key: &str, value: &str) {
        let values = self.fields.entry(key.to_owned()).or_default();
        if !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
        }
    }

    /// Builder form of [`Filters::add`].
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.add(key, value);
        self
    }

    /// The values of a key; empty when the key is absent.
    pub fn get(&self, key: &str) -> &[String] {
        self.fields.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether the key was given at all.
    pub fn contains(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Refuses any key not in `allowed` with Docker's `invalid filter '<key>'`.
    pub fn validate(&self, allowed: &[&str]) -> Result<(), FilterError> {
        match self.keys().find(|key| !allowed.contains(key)) {
            Some(key) => Err(FilterError::key(key)),
            None => Ok(()),
        }
    }

    /// True when the key is absent or empty, or one of its values equals `source`.
    pub fn exact_match(&self, key: &str, source: &str) -> bool {
        let values = self.get(key);
        values.is_empty() || values.iter().any(|v| v == source)
    }

    /// True when the key is absent or empty, or `source` equals or starts with one of its
    /// values (how Docker matches ids).
    pub fn prefix_match(&self, key: &str, source: &str) -> bool {
        let values = self.get(key);
        values.is_empty() || values.iter().any(|v| source.starts_with(v.as_str()))
    }

    /// Label-style matching: every value `k` or `k=v` must be present in `labels` (a
    /// `HashMap` or `BTreeMap` of strings); true when the key is absent or empty.
    pub fn match_labels<L: Labels + ?Sized>(&self, key: &str, labels: &L) -> bool {
        self.get(key)
            .iter()
            .all(|wanted| match wanted.split_once('=') {
                Some((k, v)) => labels.label(k) == Some(v),
                None => labels.label(wanted).is_some(),
            })
    }

    /// A boolean filter (`dangling=true`): `1`/`true` or `0`/`false`; `default` when the key
    /// is absent. No, conflicting or other values are Docker's `invalid filter 'k=[v...]'`.
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool, FilterError> {
        let Some(values) = self.fields.get(key) else {
            return Ok(default);
        };
        let has = |wanted: &str| values.iter().any(|v| v == wanted);
        let is_true = has("1") || has("true");
        let is_false = has("0") || has("false");
        if is_true == is_false {
            return Err(FilterError::Invalid {
                key: Some(key.to_owned()),
                values: (!values.is_empty()).then(|| values.clone()),
            });
        }
        Ok(is_true)
    }

    /// The `filters` parameter's value, in the form the docker CLI sends:
    /// `{"key":{"value":true}}`.
    pub fn to_json(&self) -> String {
        let sets: BTreeMap<&str, BTreeMap<&str, bool>> = self
            .fields
            .iter()
            .map(|(key, values)| {
                let set = values.iter().map(|v| (v.as_str(), true)).collect();
                (key.as_str(), set)
            })
            .collect();
        // A map of strings to maps of strings to booleans always serializes.
        serde_json::to_string(&sets).unwrap_or_default()
    }

    /// `filters=<percent-encoded JSON>` for a query string; empty when there are no filters.
    pub fn to_query(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        form_urlencoded::Serializer::new(String::new())
            .append_pair("filters", &self.to_json())
            .finish()
    }
}

/// Maps of labels that [`Filters::match_labels`] looks into.
pub trait Labels {
    fn label(&self, name: &str) -> Option<&str>;
}

impl<S: std::hash::BuildHasher> Labels for HashMap<String, String, S> {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl Labels for BTreeMap<String, String> {
    fn label(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

impl fmt::Display for Filters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_set_form() {
        let f =
            Filters::from_json(r#"{"status":{"running":true,"paused":true},"label":{}}"#).unwrap();
        let mut status = f.get("status").to_vec();
        status.sort();
        assert_eq!(status, ["paused", "running"]);
        assert!(f.contains("label"));
        assert!(f.get("label").is_empty());
        assert!(f.get("name").is_empty());
        assert!(!f.contains("name"));
    }

    #[test]
    fn reads_the_legacy_list_form() {
        let f = Filters::from_json(r#"{"status":["running","exited","running"]}"#).unwrap();
        assert_eq!(f.get("status"), ["running", "exited"]);
    }

    #[test]
    fn empty_parameter_is_no_filter() {
        assert!(Filters::from_json("").unwrap().is_empty());
        assert!(Filters::from_json("{}").unwrap().is_empty());
    }

    #[test]
    fn refuses_other_json_as_docker_does() {
        for bad in ["[]", "{\"a\":1}", "not json", "{\"a\":[1]}"] {
            let err = Filters::from_json(bad).unwrap_err();
            assert_eq!(err.to_string(), "invalid filter", "{bad}");
        }
    }

    #[test]
    fn validate_names_the_unknown_key() {
        let f = Filters::new().with("status", "running").with("foo", "x");
        assert_eq!(
            f.validate(&["status", "name"]).unwrap_err().to_string(),
            "invalid filter 'foo'"
        );
        assert!(f.validate(&["status", "foo"]).is_ok());
    }

    #[test]
    fn parses_cli_flags() {
        let f = Filters::from_flags([" Status = running", "label=a=b", ""]).unwrap();
        assert_eq!(f.get("status"), ["running"]);
        assert_eq!(f.get("label"), ["a=b"]);
        let err = Filters::from_flags(["status"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad format of filter (expected name=value)"
        );
    }

    #[test]
    fn round_trips_through_the_query_form() {
        let f = Filters::new()
            .with("status", "running")
            .with("label", "a=b c");
        let json = f.to_json();
        assert_eq!(
            json,
            r#"{"label":{"a=b c":true},"status":{"running":true}}"#
        );
        assert_eq!(Filters::from_json(&json).unwrap(), f);
        let query = f.to_query();
        assert!(query.starts_with("filters=%7B%22label%22"), "{query}");
        let decoded: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded, [("filters".to_owned(), json)]);
        assert_eq!(Filters::new().to_query(), "");
    }

    #[test]
    fn booleans_as_docker_reads_them() {
        let f = Filters::new().with("dangling", "true");
        assert!(f.get_bool("dangling", false).unwrap());
        assert!(!f.get_bool("other", false).unwrap());
        let f = Filters::new().with("dangling", "0");
        assert!(!f.get_bool("dangling", true).unwrap());
        let f = Filters::new()
            .with("dangling", "maybe")
            .with("dangling", "x");
        assert_eq!(
            f.get_bool("dangling", false).unwrap_err().to_string(),
            "invalid filter 'dangling=[maybe x]'"
        );
        let f = Filters::new()
            .with("dangling", "true")
            .with("dangling", "false");
        assert!(f.get_bool("dangling", false).is_err());
    }

    #[test]
    fn matching_helpers() {
        let f = Filters::new()
            .with("id", "abc")
            .with("label", "a")
            .with("label", "b=2");
        assert!(f.prefix_match("id", "abcdef"));
        assert!(!f.prefix_match("id", "bcd"));
        assert!(f.exact_match("name", "anything"));
        assert!(!f.exact_match("id", "abcdef"));
        let mut labels = HashMap::new();
        labels.insert("a".to_owned(), "1".to_owned());
        assert!(!f.match_labels("label", &labels));
        labels.insert("b".to_owned(), "2".to_owned());
        assert!(f.match_labels("label", &labels));
        assert!(f.match_labels("none", &HashMap::<String, String>::new()));
        let sorted: BTreeMap<String, String> = labels.into_iter().collect();
        assert!(f.match_labels("label", &sorted));
    }
}
