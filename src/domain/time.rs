//! Timestamps. The service keeps them in UTC without an offset (`NaiveDateTime`, to the
//! microsecond); on the wire they are RFC 3339 with the `Z` that says so.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use serde::{Deserialize, Serializer};

/// Reads a timestamp a request sends: RFC 3339 through chrono's dedicated parser, which takes a
/// four-digit year only (a usage batch carries 20,000 timestamps, and the generic `FromStr`
/// behind `DateTime`'s own serde impl is several times slower, and takes any year). An offset
/// that carries it past year 9999 or before year 0 in UTC is refused too: the embedded database
/// orders timestamps as text (`domain/calendar_date.rs`). The time is cut to the microsecond
/// ([`to_the_microsecond`]), the finest both backends store, so callers keep it as it is.
pub fn rfc3339<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(deserializer)?;
    let expected = "an RFC 3339 timestamp such as 2026-06-01T08:00:00Z";
    let at = DateTime::parse_from_rfc3339(&text)
        .map_err(|e| serde::de::Error::custom(format!("not {expected}: {e}")))
        .and_then(|at| {
            to_the_microsecond(at).ok_or_else(|| serde::de::Error::custom(format!("not {expected}: out of range")))
        })?;
    if !(0..=9999).contains(&at.year()) {
        return Err(serde::de::Error::custom(format!("not {expected}: the year in UTC is outside 0000 to 9999")));
    }
    Ok(at)
}

/// A parsed time in UTC, cut to the microsecond the service keeps: a record sent again with the
/// same text then equals the one stored, nanoseconds and all.
pub fn to_the_microsecond<Tz: chrono::TimeZone>(at: DateTime<Tz>) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(at.timestamp_micros())
}

/// Writes a UTC timestamp as RFC 3339, e.g. `2026-11-23T19:25:52.824670Z`.
pub fn utc<S: Serializer>(timestamp: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&timestamp.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// As [`utc`], for an optional timestamp (`null` when absent).
pub fn utc_option<S: Serializer>(timestamp: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match timestamp {
        Some(timestamp) => utc(timestamp, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Stamped {
        #[serde(serialize_with = "utc")]
        at: NaiveDateTime,
        #[serde(serialize_with = "utc_option")]
        maybe: Option<NaiveDateTime>,
    }

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        let at = chrono::DateTime::from_timestamp_micros(1_763_925_952_824_670).expect("in range").naive_utc();
        let whole = chrono::DateTime::from_timestamp(1_763_925_952, 0).expect("in range").naive_utc();
        let json = serde_json::to_string(&Stamped { at, maybe: Some(whole) }).expect("serializes");
        assert_eq!(json, r#"{"at":"2025-11-23T19:25:52.824670Z","maybe":"2025-11-23T19:25:52Z"}"#);
        let json = serde_json::to_string(&Stamped { at, maybe: None }).expect("serializes");
        assert!(json.ends_with(r#""maybe":null}"#), "{json}");
        let parsed = chrono::DateTime::parse_from_rfc3339("2025-11-23T19:25:52.824670Z").expect("RFC 3339");
        assert_eq!(parsed.naive_utc(), at);
    }

    #[derive(Debug, serde::Deserialize)]
    struct Sent {
        #[serde(deserialize_with = "rfc3339")]
        at: DateTime<Utc>,
    }

    /// What is kept is microseconds; a finer time is read as the microsecond it falls in, so
    /// it compares equal to what was stored from it.
    #[test]
    fn a_time_finer_than_a_microsecond_is_read_to_the_microsecond() {
        let sent: Sent = serde_json::from_str(r#"{"at": "2026-06-01T08:00:00.0000019+01:00"}"#).expect("RFC 3339");
        let kept = chrono::DateTime::from_timestamp_micros(1_780_297_200_000_001).expect("in range");
        assert_eq!(sent.at, kept);
        assert_eq!(sent.at.timestamp_subsec_nanos(), 1_000);
    }
}
