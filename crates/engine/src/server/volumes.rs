//! `/volumes/...`: list, create, inspect, remove and prune.

use std::sync::Arc;

use api::types::VolumeCreateOptions;
use api::version::ApiVersion;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::Engine;
use crate::volumes::VolumeListOptions;

use super::RequestVersion;
use super::body::{FiltersQuery, JsonBody, Query, filters_of, flag};
use super::error::ApiResult;

pub fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/volumes", get(list))
        .route("/volumes/create", post(create))
        .route("/volumes/prune", post(prune))
        .route("/volumes/{name}", get(inspect).delete(remove))
}

async fn list(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<FiltersQuery>,
) -> ApiResult<Response> {
    let options = VolumeListOptions {
        filters: filters_of(query.filters.as_deref())?,
    };
    Ok(Json(engine.list_volumes(options).await?).into_response())
}

async fn create(
    State(engine): State<Arc<Engine>>,
    JsonBody(body): JsonBody<VolumeCreateOptions>,
) -> ApiResult<Response> {
    let volume = engine.create_volume(body.unwrap_or_default()).await?;
    Ok((StatusCode::CREATED, Json(volume)).into_response())
}

async fn inspect(
    State(engine): State<Arc<Engine>>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(engine.inspect_volume(&name).await?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RemoveQuery {
    #[serde(deserialize_with = "flag::deserialize")]
    force: bool,
}

async fn remove(
    State(engine): State<Arc<Engine>>,
    Path(name): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<StatusCode> {
    engine.remove_volume(&name, query.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clients of API 1.42 and later prune anonymous volumes unless they say `all=true`; older
/// ones pruned every unused volume.
async fn prune(
    State(engine): State<Arc<Engine>>,
    RequestVersion(version): RequestVersion,
    Query(query): Query<FiltersQuery>,
) -> ApiResult<Response> {
    let filters = filters_of(query.filters.as_deref())?;
    let anonymous_only = version >= ApiVersion::new(1, 42);
    Ok(Json(engine.prune_volumes(filters, anonymous_only).await?).into_response())
}
