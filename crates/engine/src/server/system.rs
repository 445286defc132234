//! `/_ping`, `/version`, `/info`, `/events`, `/system/df`.
//!
//! | module | what it does |
//! |---|---|
//! | `host` | facts about the host (kernel, OS, memory, CPUs, cgroup version) and the engine's id |
//! | `info` | the bodies of `/version` and `/info` |
//! | `events` | the event stream and Docker's event filters |
//! | `df` | disk usage of images, containers and volumes |

mod df;
mod events;
mod host;
mod info;

use std::sync::Arc;

use api::filters::Filters;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::Engine;
use crate::events::now_nanos;

use super::body::Query;
use super::error::{ApiError, ApiResult};

pub fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/_ping", get(ping).head(ping))
        .route("/version", get(version))
        .route("/info", get(info))
        .route("/events", get(events))
        .route("/system/df", get(disk_usage))
}

/// Clients read the version headers that every response carries (see `server::handle`).
async fn ping() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
            (header::PRAGMA, "no-cache"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        "OK",
    )
}

async fn version() -> ApiResult<Response> {
    let version = tokio::task::spawn_blocking(info::version)
        .await
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(version).into_response())
}

async fn info(State(engine): State<Arc<Engine>>) -> ApiResult<Response> {
    let listeners = events::listeners();
    let info = crate::blocking(move || info::info(&engine, listeners)).await?;
    Ok(Json(info).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EventsQuery {
    since: Option<String>,
    until: Option<String>,
    filters: Option<String>,
}

async fn events(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Response> {
    let window =
        events::Window::parse(query.since.as_deref(), query.until.as_deref(), now_nanos())?;
    let filters = match query.filters.as_deref().filter(|f| !f.is_empty()) {
        Some(text) => Filters::from_json(text)?,
        None => Filters::new(),
    };
    events::stream(&engine.events, window, events::EventFilter::new(filters))
}

async fn disk_usage(State(engine): State<Arc<Engine>>, uri: Uri) -> ApiResult<Response> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query parameters: {e}")))?;
    let types: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "type")
        .map(|(_, v)| v)
        .collect();
    for t in &types {
        if !["container", "image", "volume", "build-cache"].contains(&t.as_str()) {
            return Err(ApiError::bad_request(format!("unknown object type: {t}")));
        }
    }
    let usage = df::data_usage(&engine, df::Parts::from_types(&types)).await?;
    Ok(Json(usage).into_response())
}
