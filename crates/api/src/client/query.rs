//! Request paths: escaped path segments and query strings.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::filters::Filters;

// What Go's url.URL escapes in a path, which is what the docker client sends: everything
// but unreserved characters, sub-delimiters, `:`, `@` and `/`. Image references keep their
// `/` and `:` readable this way (`/images/library/busybox:1.36/json`).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Escapes a name or id for use in a path (`/containers/{name}/json`).
pub fn escape_path(segment: &str) -> String {
    utf8_percent_encode(segment, PATH).to_string()
}

/// A query string under construction: `Query::new().arg("all", "1").build("/containers/json")`.
pub struct Query {
    serializer: form_urlencoded::Serializer<'static, String>,
    empty: bool,
}

impl Query {
    pub fn new() -> Self {
        Self {
            serializer: form_urlencoded::Serializer::new(String::new()),
            empty: true,
        }
    }

    /// Adds `key=value`, percent-encoded.
    pub fn arg(mut self, key: &str, value: impl AsRef<str>) -> Self {
        self.serializer.append_pair(key, value.as_ref());
        self.empty = false;
        self
    }

    /// Adds `key=value` when there is a value.
    pub fn arg_opt<V: AsRef<str>>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(value) => self.arg(key, value),
            None => self,
        }
    }

    /// Adds `key=1` when `flag` is set (how the docker client sends booleans).
    pub fn flag(self, key: &str, flag: bool) -> Self {
        if flag { self.arg(key, "1") } else { self }
    }

    /// Adds `filters=<json>` unless there are none.
    pub fn filters(self, filters: &Filters) -> Self {
        if filters.is_empty() {
            self
        } else {
            self.arg("filters", filters.to_json())
        }
    }

    /// `path?query`, or `path` alone when nothing was added.
    pub fn build(mut self, path: &str) -> String {
        if self.empty {
            return path.to_owned();
        }
        format!("{path}?{}", self.serializer.finish())
    }
}

impl Default for Query {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        assert_eq!(escape_path("busybox:1.36"), "busybox:1.36");
        assert_eq!(
            escape_path("localhost:5000/a/b@sha256:00"),
            "localhost:5000/a/b@sha256:00"
        );
        assert_eq!(escape_path("a b?c#d%"), "a%20b%3Fc%23d%25");
    }

    #[test]
    fn builds_queries() {
        assert_eq!(Query::new().build("/info"), "/info");
        let filters = Filters::new().with("status", "running");
        let path = Query::new()
            .flag("all", true)
            .flag("size", false)
            .arg_opt("limit", Some("5"))
            .arg_opt::<&str>("since", None)
            .arg("name", "a b&c")
            .filters(&filters)
            .build("/containers/json");
        assert_eq!(
            path,
            "/containers/json?all=1&limit=5&name=a+b%26c&filters=%7B%22status%22%3A%7B%22running%22%3Atrue%7D%7D"
        );
    }
}
