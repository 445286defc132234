//! Request bodies and query strings, with Docker's errors for malformed ones (a 400 that says
//! what is wrong, never axum's plain-text rejections).

use api::filters::Filters;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::RequestVersion;
use super::error::{ApiError, ApiResult};

/// A JSON body; an empty one is `T::default()` when `T` allows it (Docker treats a missing
/// body of most POSTs as empty options).
pub struct JsonBody<T>(pub Option<T>);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| JsonBody(Some(v)))
            .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
    }
}

/// The query string, decoded leniently: Docker's clients send booleans as `1`/`true`/`0`.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|e| ApiError::bad_request(format!("invalid query parameters: {e}")))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestVersion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(parts
            .extensions
            .get::<RequestVersion>()
            .copied()
            .unwrap_or(RequestVersion(api::version::DEFAULT_API_VERSION)))
    }
}

/// Docker's booleans in query strings: `1`, `true`, `True` are true; `0`, `false`, empty are
/// false.
pub mod flag {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        let text = String::deserialize(d)?;
        Ok(matches!(
            text.to_ascii_lowercase().as_str(),
            "1" | "true" | "yes"
        ))
    }
}

/// A `filters` query parameter alone (lists and prunes).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FiltersQuery {
    pub filters: Option<String>,
}

/// Docker's `filters` JSON; none (or empty) filters nothing.
pub fn filters_of(text: Option<&str>) -> ApiResult<Filters> {
    match text.filter(|t| !t.is_empty()) {
        Some(text) => Ok(Filters::from_json(text)?),
        None => Ok(Filters::new()),
    }
}
