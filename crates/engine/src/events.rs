//! The daemon's events (`GET /events`): every change to a container or image is published
//! here, kept in a bounded history for `since`, and streamed to subscribers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde_json::{Value, json};
use tokio::sync::broadcast;

/// Events kept for `--since` (Docker keeps 256).
const HISTORY: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `container`, `image`, `volume`, `network`, `daemon`.
    pub kind: &'static str,
    /// `create`, `start`, `die`, `destroy`, `tag`, ...
    pub action: String,
    pub actor_id: String,
    pub attributes: BTreeMap<String, String>,
    pub time_nano: i64,
}

impl Event {
    pub fn new(
        kind: &'static str,
        action: impl Into<String>,
        actor_id: impl Into<String>,
    ) -> Event {
        Event {
            kind,
            action: action.into(),
            actor_id: actor_id.into(),
            attributes: BTreeMap::new(),
            time_nano: now_nanos(),
        }
    }

    pub fn attribute(mut self, key: &str, value: impl Into<String>) -> Event {
        self.attributes.insert(key.to_owned(), value.into());
        self
    }

    /// The JSON Docker sends: the current fields and, for containers and images, the
    /// legacy `status`/`id`/`from` that old clients read.
    pub fn to_json(&self) -> Value {
        let mut message = json!({
            "Type": self.kind,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": self.attributes},
            "scope": "local",
            "time": self.time_nano / 1_000_000_000,
            "timeNano": self.time_nano,
        });
        if self.kind == "container" || self.kind == "image" {
            message["status"] = json!(self.action);
            message["id"] = json!(self.actor_id);
            if let Some(image) = self.attributes.get("image") {
                message["from"] = json!(image);
            }
        }
        message
    }
}

pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

pub struct Events {
    history: Mutex<VecDeque<Event>>,
    sender: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            sender: broadcast::channel(HISTORY).0,
        }
    }
}

impl Events {
    pub fn publish(&self, event: Event) {
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(event.clone());
        // Sent under the history lock so that a subscriber sees each event once: either in
        // the history it copied or on its receiver.
        let _ = self.sender.send(event);
    }

    /// The events at or after `since_nano`, and a receiver for those still to come.
    pub fn subscribe(&self, since_nano: Option<i64>) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let past = match since_nano {
            Some(since) => history
                .iter()
                .filter(|e| e.time_nano >= since)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        (past, self.sender.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_replays_history_then_live_events_follow() {
        let events = Events::default();
        events.publish(Event::new("container", "create", "a"));
        let (past, mut live) = events.subscribe(Some(0));
        assert_eq!(past.len(), 1);
        events.publish(Event::new("container", "start", "a"));
        assert_eq!(live.try_recv().unwrap().action, "start");
        let (none, _) = events.subscribe(None);
        assert!(none.is_empty());
    }

    #[test]
    fn container_events_carry_the_legacy_fields() {
        let e = Event::new("container", "die", "abc").attribute("image", "busybox");
        let j = e.to_json();
        assert_eq!(j["status"], "die");
        assert_eq!(j["from"], "busybox");
        assert_eq!(j["Actor"]["Attributes"]["image"], "busybox");
    }
}
