//! `events`: the daemon's events as they happen (or those of a past window with
//! `--until`), one line each in Docker's form or as `--format` says.

use std::collections::BTreeMap;

use api::client::Query;
use api::types::EventMessage;
use clap::Args;

use crate::cli::format;
use crate::cli::text::print_text;
use crate::cli::time::{UnixTime, rfc3339_nano_fixed, timestamp_arg};
use crate::cli::{CliError, Context};

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Show all events created since timestamp
    #[arg(long, value_name = "string")]
    since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long, value_name = "string")]
    until: Option<String>,
}

pub async fn events(ctx: &Context, args: EventsArgs) -> Result<(), CliError> {
    let filters = ctx.filters(&args.filters, "-f, --filter")?;
    let now = UnixTime::now();
    let time = |value: &Option<String>| -> Result<Option<String>, CliError> {
        value
            .as_deref()
            .map(|v| timestamp_arg(v, now).map_err(CliError::Other))
            .transpose()
    };
    let template = match args.format.as_deref().filter(|f| !f.is_empty()) {
        None => None,
        Some("json") => Some(format::single("{{json .}}")?),
        Some(text) => Some(format::single(text)?),
    };
    let path = Query::new()
        .arg_opt("since", time(&args.since)?)
        .arg_opt("until", time(&args.until)?)
        .filters(&filters)
        .build("/events");
    let client = ctx.client().await?;
    let mut stream = client.get_json_stream::<EventMessage>(&path).await?;
    while let Some(event) = stream.next_message().await? {
        let line = match &template {
            Some(template) => {
                let value =
                    serde_json::to_value(&event).map_err(|e| CliError::other(e.to_string()))?;
                format::render_one(template, &value)?
            }
            None => line(&event),
        };
        print_text(&format!("{line}\n"));
    }
    Ok(())
}

/// Docker's line for an event: `<time> <type> <action> <id> (<attributes>)`.
pub fn line(event: &EventMessage) -> String {
    let mut out = String::new();
    if event.time_nano != 0 {
        out.push_str(&rfc3339_nano_fixed(UnixTime::from_nanos(event.time_nano)));
        out.push(' ');
    } else if event.time != 0 {
        out.push_str(&rfc3339_nano_fixed(UnixTime {
            secs: event.time,
            nanos: 0,
        }));
        out.push(' ');
    }
    out.push_str(&format!(
        "{} {} {}",
        event.kind, event.action, event.actor.id
    ));
    if !event.actor.attributes.is_empty() {
        let sorted: BTreeMap<_, _> = event.actor.attributes.iter().collect();
        let attributes: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!(" ({})", attributes.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::types::EventActor;

    #[test]
    fn event_lines_as_docker() {
        let event = EventMessage {
            kind: "container".into(),
            action: "start".into(),
            actor: EventActor {
                id: "abc".into(),
                attributes: [("name", "web"), ("image", "busybox")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            },
            time: 1_795_842_000,
            time_nano: 1_795_842_000_123_456_789,
            ..Default::default()
        };
        assert_eq!(
            line(&event),
            "2026-11-28T05:00:00.123456789Z container start abc (image=busybox, name=web)"
        );
    }
}
