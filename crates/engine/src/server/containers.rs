//! `/containers/...`: create, list, inspect and the lifecycle.

use std::sync::Arc;

use api::filters::Filters;
use api::types::{ContainerCreateBody, ContainerCreateResponse, ContainerWaitResponse};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::Engine;
use crate::containers::{CreateRequest, ListOptions, WaitCondition};

use super::body::{JsonBody, Query, flag};
use super::error::{ApiError, ApiResult};

pub fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/containers/create", post(create))
        .route("/containers/json", get(list))
        .route("/containers/{id}/json", get(inspect))
        .route("/containers/{id}/start", post(start))
        .route("/containers/{id}/stop", post(stop))
        .route("/containers/{id}/restart", post(restart))
        .route("/containers/{id}/kill", post(kill))
        .route("/containers/{id}/pause", post(pause))
        .route("/containers/{id}/unpause", post(unpause))
        .route("/containers/{id}/wait", post(wait))
        .route("/containers/{id}/rename", post(rename))
        .route("/containers/{id}", delete(remove))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateQuery {
    name: Option<String>,
}

async fn create(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<CreateQuery>,
    JsonBody(body): JsonBody<ContainerCreateBody>,
) -> ApiResult<Response> {
    let body = body.ok_or_else(|| {
        ApiError::bad_request("config cannot be empty in order to create a container")
    })?;
    let (id, warnings) = engine
        .create_container(CreateRequest {
            name: query.name,
            body,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ContainerCreateResponse { id, warnings }),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    #[serde(deserialize_with = "flag::deserialize")]
    all: bool,
    limit: Option<i64>,
    #[serde(deserialize_with = "flag::deserialize")]
    size: bool,
    filters: Option<String>,
}

async fn list(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let filters = match query.filters.as_deref().filter(|f| !f.is_empty()) {
        Some(text) => Filters::from_json(text)?,
        None => Filters::new(),
    };
    let options = ListOptions {
        all: query.all,
        limit: query.limit.unwrap_or(-1),
        size: query.size,
        filters,
    };
    Ok(Json(engine.list_containers(&options)?).into_response())
}

async fn inspect(State(engine): State<Arc<Engine>>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(engine.inspect_container(&id)?).into_response())
}

async fn start(State(engine): State<Arc<Engine>>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    engine.start_container(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StopQuery {
    t: Option<i64>,
    signal: Option<String>,
}

async fn stop(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<StopQuery>,
) -> ApiResult<StatusCode> {
    engine
        .stop_container(&id, query.t, query.signal.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn restart(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<StopQuery>,
) -> ApiResult<StatusCode> {
    engine
        .restart_container(&id, query.t, query.signal.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KillQuery {
    signal: Option<String>,
}

async fn kill(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<KillQuery>,
) -> ApiResult<StatusCode> {
    engine.kill_container(&id, query.signal.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pause(State(engine): State<Arc<Engine>>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    engine.pause_container(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unpause(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    engine.unpause_container(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WaitQuery {
    condition: Option<String>,
}

/// The status line goes out at once, the body when the condition holds: clients send the
/// wait, see it accepted, and only then start the container.
async fn wait(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<WaitQuery>,
) -> ApiResult<Response> {
    let condition = WaitCondition::parse(query.condition.as_deref().unwrap_or(""))?;
    let done = engine.wait_container(&id, condition)?;
    let body = futures_util::stream::once(async move {
        let code = done.await;
        let mut json = serde_json::to_vec(&ContainerWaitResponse {
            status_code: code as i64,
            error: None,
        })
        .unwrap_or_default();
        json.push(b'\n');
        Ok::<_, std::convert::Infallible>(json)
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RemoveQuery {
    #[serde(deserialize_with = "flag::deserialize")]
    force: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    v: bool,
}

async fn remove(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<StatusCode> {
    engine.remove_container(&id, query.force, query.v).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RenameQuery {
    name: String,
}

async fn rename(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    Query(query): Query<RenameQuery>,
) -> ApiResult<StatusCode> {
    engine.rename_container(&id, &query.name).await?;
    Ok(StatusCode::NO_CONTENT)
}
