//! `/networks/...`: list, inspect, create, remove, prune, connect and disconnect.

use std::sync::Arc;

use api::types::{NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::Engine;
use crate::network::NetworkListOptions;

use super::body::{FiltersQuery, JsonBody, Query, filters_of};
use super::error::{ApiError, ApiResult};

pub fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/networks", get(list))
        .route("/networks/create", post(create))
        .route("/networks/prune", post(prune))
        .route("/networks/{id}", get(inspect).delete(remove))
        .route("/networks/{id}/connect", post(connect))
        .route("/networks/{id}/disconnect", post(disconnect))
}

async fn list(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<FiltersQuery>,
) -> ApiResult<Response> {
    let options = NetworkListOptions {
        filters: filters_of(query.filters.as_deref())?,
    };
    Ok(Json(engine.list_networks(options).await?).into_response())
}

async fn inspect(State(engine): State<Arc<Engine>>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(Json(engine.inspect_network(&id).await?).into_response())
}

async fn create(
    State(engine): State<Arc<Engine>>,
    JsonBody(body): JsonBody<NetworkCreateRequest>,
) -> ApiResult<Response> {
    let Some(body) = body else {
        return Err(ApiError::bad_request("network name cannot be empty"));
    };
    let created = engine.create_network(body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn remove(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    engine.remove_network(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn prune(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<FiltersQuery>,
) -> ApiResult<Response> {
    let filters = filters_of(query.filters.as_deref())?;
    Ok(Json(engine.prune_networks(filters).await?).into_response())
}

async fn connect(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NetworkConnectRequest>,
) -> ApiResult<StatusCode> {
    let body = body.unwrap_or_default();
    engine
        .connect_network(
            &id,
            &body.container,
            body.endpoint_config.unwrap_or_default(),
        )
        .await?;
    Ok(StatusCode::OK)
}

async fn disconnect(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NetworkDisconnectRequest>,
) -> ApiResult<StatusCode> {
    let body = body.unwrap_or_default();
    engine
        .disconnect_network(&id, &body.container, body.force)
        .await?;
    Ok(StatusCode::OK)
}
