//! Usage as CloudEvents (CloudEvents 1.0, JSON batch format `application/cloudevents-batch+json`,
//! the form OpenMeter ingests): a JSON array of events, each
//!
//! ```json
//! {"specversion": "1.0", "type": "eu.investai.usage.gpu_hours", "source": "//meter.example/eu-1",
//!  "id": "job-4711", "subject": "<award id>", "time": "2026-06-01T10:30:00Z",
//!  "datacontenttype": "application/json",
//!  "data": {"gpu_hours": "20.000", "period_start": "2026-06-01T08:00:00Z", "period_end": "2026-06-01T10:30:00Z"}}
//! ```
//!
//! The event `id` is the record id (a facility's ids are unique across its sources), the
//! `subject` the award. The batch is read whole: a malformed event refuses the batch with every
//! wrong attribute named by its path (`[3].data.gpu_hours`), as a malformed JSON batch is.

use serde_json::{Map, Value};

use super::csv::{award_id, rfc3339};
use crate::domain::hours::GpuHours;
use crate::domain::usage::UsageRecord;
use crate::i18n::message::Message;

/// The event type of one metered record.
pub const USAGE_EVENT_TYPE: &str = "eu.investai.usage.gpu_hours";
/// The media type of a batch.
pub const CLOUDEVENTS_BATCH_MEDIA_TYPE: &str = "application/cloudevents-batch+json";
/// Wrong attributes reported per batch; the rest are left for the next try.
const EVENT_ERRORS_MAX: usize = 100;

/// A wrong attribute: its path and why.
pub type EventError = (String, Message);

/// Reads a batch of usage events into records, or names every wrong attribute.
pub fn parse(batch: &Value) -> Result<Vec<UsageRecord>, Vec<EventError>> {
    let Some(events) = batch.as_array() else {
        return Err(vec![("body".into(), Message::new("msg-cloudevents-array"))]);
    };
    let mut records = Vec::with_capacity(events.len());
    let mut errors = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match read_event(event) {
            Ok(record) => records.push(record),
            Err(wrong) => errors.extend(wrong.into_iter().map(|(path, m)| (format!("[{index}]{path}"), m))),
        }
        if errors.len() >= EVENT_ERRORS_MAX {
            break;
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        errors.truncate(EVENT_ERRORS_MAX);
        Err(errors)
    }
}

fn read_event(event: &Value) -> Result<UsageRecord, Vec<EventError>> {
    let Some(event) = event.as_object() else {
        return Err(vec![(String::new(), Message::new("msg-cloudevents-object"))]);
    };
    let mut errors = Vec::new();
    let mut text = |object: &Map<String, Value>, path: &str, name: &str| -> Option<String> {
        match object.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => {
                errors.push((format!("{path}.{name}"), Message::new("msg-cloudevents-string")));
                None
            }
        }
    };
    let specversion = text(event, "", "specversion");
    let kind = text(event, "", "type");
    let _source = text(event, "", "source");
    let id = text(event, "", "id");
    let subject = text(event, "", "subject");
    let data = event.get("data").and_then(Value::as_object);
    let hours = data.and_then(|d| text(d, ".data", "gpu_hours"));
    let start = data.and_then(|d| text(d, ".data", "period_start"));
    let end = data.and_then(|d| text(d, ".data", "period_end"));
    if data.is_none() {
        errors.push((".data".into(), Message::new("msg-cloudevents-data")));
    }
    let mut check = |ok: bool, path: &str, message: Message| {
        if !ok {
            errors.push((path.to_string(), message));
        }
    };
    check(
        specversion.as_deref().is_none_or(|v| v == "1.0"),
        ".specversion",
        Message::new("msg-cloudevents-specversion"),
    );
    check(
        kind.as_deref().is_none_or(|t| t == USAGE_EVENT_TYPE),
        ".type",
        Message::new("msg-cloudevents-type").text("type", USAGE_EVENT_TYPE),
    );
    if let Some(Value::String(media)) = event.get("datacontenttype") {
        check(
            media.split(';').next().is_some_and(|m| m.trim() == "application/json"),
            ".datacontenttype",
            Message::new("msg-cloudevents-datacontenttype"),
        );
    }
    let award = subject.map(|s| award_id(&s)).transpose().unwrap_or_else(|m| {
        errors.push((".subject".into(), m));
        None
    });
    let gpu_hours = hours.map(|h| h.parse::<GpuHours>()).transpose().unwrap_or_else(|e| {
        errors.push((".data.gpu_hours".into(), Message::new("msg-import-hours").text("error", e.to_string())));
        None
    });
    let mut time = |value: Option<String>, path: &str| {
        value.map(|v| rfc3339(&v)).transpose().unwrap_or_else(|m| {
            errors.push((path.into(), m));
            None
        })
    };
    let period_start = time(start, ".data.period_start");
    let period_end = time(end, ".data.period_end");
    match (id, award, gpu_hours, period_start, period_end) {
        (Some(record_id), Some(award_id), Some(gpu_hours), Some(period_start), Some(period_end))
            if errors.is_empty() =>
        {
            Ok(UsageRecord { record_id, award_id, gpu_hours, period_start, period_end })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AWARD: &str = "0190a6c2-8d6e-7b6a-9c1e-0a1b2c3d4e5f";

    fn event(id: &str) -> Value {
        json!({
            "specversion": "1.0", "type": USAGE_EVENT_TYPE, "source": "//meter.example/eu-1", "id": id,
            "subject": AWARD, "time": "2026-06-01T10:30:00Z", "datacontenttype": "application/json",
            "data": {"gpu_hours": "20.000", "period_start": "2026-06-01T08:00:00Z", "period_end": "2026-06-01T10:30:00Z"}
        })
    }

    #[test]
    fn a_batch_of_events_becomes_records() {
        let records = parse(&json!([event("job-1"), event("job-2")])).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].record_id, "job-2");
        assert_eq!(records[0].award_id, AWARD);
        assert_eq!(records[0].gpu_hours, GpuHours::from_milli(20_000));
    }

    #[test]
    fn every_wrong_attribute_is_named_by_its_path() {
        let mut wrong = event("job-2");
        wrong["specversion"] = json!("0.3");
        wrong["type"] = json!("request");
        wrong["data"]["gpu_hours"] = json!("1.23456");
        wrong["subject"] = json!("customer-1");
        let mut no_data = event("job-3");
        no_data.as_object_mut().unwrap().remove("data");
        let errors = parse(&json!([event("job-1"), wrong, no_data, 7])).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["[1].specversion", "[1].type", "[1].subject", "[1].data.gpu_hours", "[2].data", "[3]"]);
        assert_eq!(parse(&json!({"records": []})).unwrap_err()[0].0, "body");
    }
}
