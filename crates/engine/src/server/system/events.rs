//! `GET /events`: the events kept since `since`, then live ones until `until` (or until the
//! client goes), each a JSON object on its own line, through Docker's event filters.

use std::sync::atomic::{AtomicI64, Ordering};

use api::filters::Filters;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use image::reference::Reference;
use tokio::sync::broadcast::error::RecvError;

use crate::events::{Event, Events, now_nanos};
use crate::images::timestamp::parse_timestamp;
use crate::server::error::{ApiError, ApiResult};

/// Clients streaming events now (`NEventsListener` of `info`), across this process.
static LISTENERS: AtomicI64 = AtomicI64::new(0);

pub fn listeners() -> i64 {
    LISTENERS.load(Ordering::Relaxed)
}

/// Counts a listener for as long as its stream lives.
struct Listening;

impl Listening {
    fn new() -> Listening {
        LISTENERS.fetch_add(1, Ordering::Relaxed);
        Listening
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        LISTENERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Docker's event filters: values of one key are alternatives, keys must all match; names
/// match by prefix of the actor's id or `name` attribute.
pub struct EventFilter {
    filters: Filters,
}

impl EventFilter {
    pub fn new(filters: Filters) -> EventFilter {
        EventFilter { filters }
    }

    /// True when `key` is absent or a value equals `source`.
    fn exact(&self, key: &str, source: &str) -> bool {
        self.filters.exact_match(key, source)
    }

    /// True when `key` is absent or a value equals or prefixes `source`.
    fn fuzzy(&self, key: &str, source: &str) -> bool {
        self.filters.prefix_match(key, source)
    }

    fn fuzzy_name(&self, key: &str, event: &Event) -> bool {
        let name = event.attributes.get("name").map_or("", String::as_str);
        self.fuzzy(key, &event.actor_id) || self.fuzzy(key, name)
    }

    fn matches_action(&self, event: &Event) -> bool {
        // Actions such as `exec_start: sh -c ...` are found by their first word.
        let prefixed = ["health_status", "exec_create", "exec_start"];
        if self
            .filters
            .get("event")
            .iter()
            .any(|v| prefixed.contains(&v.as_str()))
        {
            return self.fuzzy("event", &event.action);
        }
        self.exact("event", &event.action)
    }

    fn matches_image(&self, event: &Event) -> bool {
        let attribute = if event.kind == "image" {
            "name"
        } else {
            "image"
        };
        let name = event.attributes.get(attribute).map_or("", String::as_str);
        let strip = |text: &str| match Reference::parse(text) {
            Ok(reference) => reference.familiar_name(),
            Err(_) => text.to_owned(),
        };
        self.exact("image", &event.actor_id)
            || self.exact("image", name)
            || self.exact("image", &strip(&event.actor_id))
            || self.exact("image", &strip(name))
    }

    pub fn includes(&self, event: &Event) -> bool {
        self.matches_action(event)
            && self.exact("type", event.kind)
            && self.exact("scope", "local")
            && [
                "daemon",
                "container",
                "plugin",
                "volume",
                "network",
                "node",
                "service",
                "secret",
                "config",
            ]
            .iter()
            .all(|key| self.fuzzy_name(key, event))
            && self.matches_image(event)
            && self.filters.match_labels("label", &event.attributes)
    }
}

/// The time window asked for, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    pub fn parse(since: Option<&str>, until: Option<&str>, now: i64) -> ApiResult<Window> {
        let read = |value: Option<&str>| -> ApiResult<Option<i64>> {
            match value.filter(|v| !v.is_empty()) {
                Some(v) => parse_timestamp(v, now)
                    .map(Some)
                    .map_err(ApiError::bad_request),
                None => Ok(None),
            }
        };
        let window = Window {
            since: read(since)?,
            until: read(until)?,
        };
        if let (Some(s), Some(u)) = (window.since, window.until)
            && u < s
        {
            return Err(ApiError::bad_request(format!(
                "`since` time ({}) cannot be after `until` time ({})",
                since.unwrap_or_default(),
                until.unwrap_or_default()
            )));
        }
        Ok(window)
    }
}

fn line(event: &Event) -> Bytes {
    let mut text = event.to_json().to_string().into_bytes();
    text.push(b'\n');
    Bytes::from(text)
}

/// The streaming response: past events first, then live ones unless `until` has passed.
pub fn stream(events: &Events, window: Window, filter: EventFilter) -> ApiResult<Response> {
    let replay = window.since.is_some() || window.until.is_some();
    let (past, live) = events.subscribe(replay.then(|| window.since.unwrap_or(0)));
    let until = window.until;
    let within = move |e: &Event| until.is_none_or(|u| e.time_nano <= u);
    let past: Vec<Bytes> = past
        .iter()
        .filter(|e| within(e) && filter.includes(e))
        .map(line)
        .collect();
    let only_past = until.is_some_and(|u| u <= now_nanos());
    let deadline = until.map(|u| {
        let wait = u.saturating_sub(now_nanos()).max(0) as u64;
        tokio::time::Instant::now() + std::time::Duration::from_nanos(wait)
    });
    let live_state = (!only_past).then(|| (live, filter, Listening::new()));
    let live = futures_util::stream::unfold(live_state, move |state| async move {
        let (mut receiver, filter, listening) = state?;
        loop {
            let next = match deadline {
                Some(at) => tokio::select! {
                    r = receiver.recv() => r,
                    _ = tokio::time::sleep_until(at) => return None,
                },
                None => receiver.recv().await,
            };
            match next {
                Ok(event) if !within(&event) => return None,
                Ok(event) if filter.includes(&event) => {
                    let bytes = line(&event);
                    return Some((bytes, Some((receiver, filter, listening))));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let body = futures_util::stream::iter(past)
        .chain(live)
        .map(Ok::<_, std::convert::Infallible>);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&str, &str)]) -> EventFilter {
        let mut f = Filters::new();
        for (k, v) in pairs {
            f.add(k, v);
        }
        EventFilter::new(f)
    }

    fn container(action: &str) -> Event {
        Event::new("container", action, "abc123")
            .attribute("name", "web")
            .attribute("image", "busybox:latest")
            .attribute("tier", "front")
    }

    #[test]
    fn type_event_and_names() {
        let e = container("start");
        assert!(filter(&[]).includes(&e));
        assert!(filter(&[("type", "container")]).includes(&e));
        assert!(!filter(&[("type", "image")]).includes(&e));
        assert!(filter(&[("event", "start"), ("event", "die")]).includes(&e));
        assert!(!filter(&[("event", "stop")]).includes(&e));
        assert!(filter(&[("container", "web")]).includes(&e));
        assert!(filter(&[("container", "abc")]).includes(&e));
        assert!(!filter(&[("container", "db")]).includes(&e));
        // A container filter leaves out what is not that container.
        let image = Event::new("image", "tag", "sha256:1").attribute("name", "busybox:1");
        assert!(!filter(&[("container", "web")]).includes(&image));
    }

    #[test]
    fn exec_actions_match_by_their_first_word() {
        let e = container("exec_start: sh -c true");
        assert!(filter(&[("event", "exec_start")]).includes(&e));
        assert!(!filter(&[("event", "start")]).includes(&e));
    }

    #[test]
    fn images_match_with_or_without_their_tag() {
        let e = container("create");
        assert!(filter(&[("image", "busybox")]).includes(&e));
        assert!(filter(&[("image", "busybox:latest")]).includes(&e));
        assert!(!filter(&[("image", "alpine")]).includes(&e));
        let tag = Event::new("image", "tag", "sha256:1").attribute("name", "me/app:2");
        assert!(filter(&[("image", "me/app")]).includes(&tag));
        assert!(filter(&[("image", "sha256:1")]).includes(&tag));
    }

    #[test]
    fn labels_are_attributes() {
        let e = container("start");
        assert!(filter(&[("label", "tier=front")]).includes(&e));
        assert!(filter(&[("label", "tier")]).includes(&e));
        assert!(!filter(&[("label", "tier=back")]).includes(&e));
    }

    #[test]
    fn windows_read_docker_times_and_refuse_backwards_ones() {
        let now = 2_000_000_000_000_000_000;
        let w = Window::parse(Some("1700000000"), Some("1700000000.5"), now).unwrap();
        assert_eq!(w.since, Some(1_700_000_000_000_000_000));
        assert_eq!(w.until, Some(1_700_000_000_500_000_000));
        let e = Window::parse(Some("20"), Some("10"), now).unwrap_err();
        assert_eq!(
            e.message,
            "`since` time (20) cannot be after `until` time (10)"
        );
        assert_eq!(Window::parse(None, Some(""), now).unwrap().until, None);
        assert!(Window::parse(Some("yesterday"), None, now).is_err());
    }

    #[tokio::test]
    async fn a_past_until_replays_and_ends() {
        let events = Events::default();
        events.publish(container("create"));
        events.publish(Event::new("image", "tag", "sha256:1"));
        let window = Window {
            since: Some(0),
            until: Some(now_nanos()),
        };
        let response = stream(&events, window, filter(&[("type", "container")])).unwrap();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let json: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(json["Action"], "create");
        assert_eq!(json["Actor"]["Attributes"]["name"], "web");
    }

    #[tokio::test]
    async fn live_events_stream_until_the_deadline() {
        let events = std::sync::Arc::new(Events::default());
        let window = Window {
            since: None,
            until: Some(now_nanos() + 300_000_000),
        };
        let response = stream(&events, window, filter(&[])).unwrap();
        let publisher = events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            publisher.publish(Event::new("volume", "create", "v1"));
        });
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("\"Type\":\"volume\""), "{text}");
        assert_eq!(text.lines().count(), 1);
    }
}
