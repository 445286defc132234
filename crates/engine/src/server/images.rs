//! `/images/...`: list, inspect, history, tag, remove, prune, save (`get`), load, and
//! `create` (import, and pull as far as pier can without a registry client).
//!
//! Image names may hold slashes (`localhost:5000/team/app:1`), so the per-image routes are
//! one wildcard whose last segment says what is asked (`.../json`, `.../history`, `.../tag`,
//! `.../get`); a DELETE takes the whole rest as the name.

mod pipe;

use std::sync::Arc;

use api::types::JsonMessage;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::Engine;
use crate::images::{ImageListOptions, ImportRequest, repo_tag_reference};

use super::RequestVersion;
use super::body::{Query, filters_of, flag};
use super::error::{ApiError, ApiResult};

pub fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route("/images/json", get(list))
        .route("/images/create", post(create))
        .route("/images/load", post(load))
        .route("/images/prune", post(prune))
        .route("/images/get", get(save_many))
        .route(
            "/images/{*rest}",
            get(get_named).post(post_named).delete(remove),
        )
}

/// Every `key=value` pair of the query, repeated keys kept (`names=a&names=b`).
fn query_pairs(uri: &Uri) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query parameters: {e}")))
}

fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// A stream of progress messages, one JSON object per line (`\r\n`, as dockerd writes them).
fn json_lines(messages: &[JsonMessage]) -> Response {
    let mut body = Vec::new();
    for message in messages {
        if let Ok(line) = serde_json::to_vec(message) {
            body.extend_from_slice(&line);
            body.extend_from_slice(b"\r\n");
        }
    }
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn status(text: impl Into<String>) -> JsonMessage {
    JsonMessage {
        status: text.into(),
        ..Default::default()
    }
}

fn stream(text: impl Into<String>) -> JsonMessage {
    JsonMessage {
        stream: text.into(),
        ..Default::default()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    #[serde(deserialize_with = "flag::deserialize")]
    all: bool,
    filters: Option<String>,
    #[serde(rename = "shared-size", deserialize_with = "flag::deserialize")]
    shared_size: bool,
}

async fn list(
    State(engine): State<Arc<Engine>>,
    RequestVersion(version): RequestVersion,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let options = ImageListOptions {
        all: query.all,
        filters: filters_of(query.filters.as_deref())?,
        shared_size: query.shared_size,
        version,
    };
    Ok(Json(engine.list_images(options).await?).into_response())
}

async fn get_named(
    State(engine): State<Arc<Engine>>,
    RequestVersion(version): RequestVersion,
    Path(rest): Path<String>,
) -> ApiResult<Response> {
    if let Some(name) = rest.strip_suffix("/json") {
        return Ok(Json(engine.inspect_image(name, version).await?).into_response());
    }
    if let Some(name) = rest.strip_suffix("/history") {
        return Ok(Json(engine.image_history(name).await?).into_response());
    }
    if let Some(name) = rest.strip_suffix("/get") {
        return save(engine, vec![name.to_owned()]).await;
    }
    Err(ApiError::not_found("page not found"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TagQuery {
    repo: String,
    tag: String,
}

async fn post_named(
    State(engine): State<Arc<Engine>>,
    Path(rest): Path<String>,
    Query(query): Query<TagQuery>,
) -> ApiResult<Response> {
    if let Some(name) = rest.strip_suffix("/tag") {
        engine.tag_image(name, &query.repo, &query.tag).await?;
        return Ok(StatusCode::CREATED.into_response());
    }
    Err(ApiError::not_found("page not found"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RemoveQuery {
    #[serde(deserialize_with = "flag::deserialize")]
    force: bool,
    #[serde(deserialize_with = "flag::deserialize")]
    noprune: bool,
}

async fn remove(
    State(engine): State<Arc<Engine>>,
    Path(name): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<Response> {
    let items = engine
        .remove_image(&name, query.force, query.noprune)
        .await?;
    Ok(Json(items).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PruneQuery {
    filters: Option<String>,
}

async fn prune(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Response> {
    let filters = filters_of(query.filters.as_deref())?;
    Ok(Json(engine.prune_images(filters).await?).into_response())
}

async fn save_many(State(engine): State<Arc<Engine>>, uri: Uri) -> ApiResult<Response> {
    let names = query_pairs(&uri)?
        .into_iter()
        .filter(|(k, _)| k == "names")
        .map(|(_, v)| v)
        .collect();
    save(engine, names).await
}

async fn save(engine: Arc<Engine>, names: Vec<String>) -> ApiResult<Response> {
    pipe::streamed_response("application/x-tar", move |out| {
        engine.save_images(&names, out)
    })
    .await
}

/// `docker load`: the archive streams from the request into the store; the answer is what
/// Docker 25 prints, a line per name (`Loaded image: busybox:latest`) or, for an image
/// without one, its id. (`quiet` only silences progress, which pier does not send.)
async fn load(State(engine): State<Arc<Engine>>, body: Body) -> ApiResult<Response> {
    let loaded = engine.load_images(pipe::body_reader(body)).await?;
    let mut messages = Vec::new();
    for image in loaded {
        if image.tags.is_empty() {
            messages.push(stream(format!("Loaded image ID: {}\n", image.id)));
        }
        for tag in image.tags {
            messages.push(stream(format!("Loaded image: {}\n", tag.familiar())));
        }
    }
    Ok(json_lines(&messages))
}

/// `POST /images/create`: `fromSrc=-` imports the body as a root filesystem; `fromImage`
/// pulls (refused until pier has a registry client).
async fn create(State(engine): State<Arc<Engine>>, uri: Uri, body: Body) -> ApiResult<Response> {
    let pairs = query_pairs(&uri)?;
    let from_image = query_value(&pairs, "fromImage");
    if !from_image.is_empty() {
        engine.pull(from_image, query_value(&pairs, "tag"))?;
    }
    let source = query_value(&pairs, "fromSrc");
    if source != "-" {
        return Err(ApiError::bad_request(format!(
            "importing from {source:?} is not supported: send the archive in the request body (fromSrc=-)"
        )));
    }
    let repo = query_value(&pairs, "repo");
    let reference = if repo.is_empty() {
        None
    } else {
        Some(repo_tag_reference(repo, query_value(&pairs, "tag"))?)
    };
    let message = query_value(&pairs, "message");
    let request = ImportRequest {
        reference,
        changes: pairs
            .iter()
            .filter(|(k, v)| k == "changes" && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect(),
        message: (!message.is_empty()).then(|| message.to_owned()),
        source: source.to_owned(),
    };
    let id = engine
        .import_image(pipe::body_reader(body), request)
        .await?;
    Ok(json_lines(&[status(id.to_string())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_query_keys_are_kept() {
        let uri: Uri = "/images/get?names=busybox&names=alpine%3A3&x="
            .parse()
            .unwrap();
        let pairs = query_pairs(&uri).unwrap();
        assert_eq!(query_value(&pairs, "names"), "busybox");
        let names: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == "names")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(names, ["busybox", "alpine:3"]);
        assert_eq!(query_value(&pairs, "missing"), "");
    }

    #[test]
    fn progress_lines_end_as_dockerd_ends_them() {
        let response = json_lines(&[status("sha256:1"), stream("Loaded image: a:1\n")]);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
    }
}
