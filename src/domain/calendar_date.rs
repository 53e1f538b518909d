//! How a request writes a date: as an RFC 3339 full-date, `YYYY-MM-DD`, four digits of year, two
//! of month and two of day, nothing else. A sign, a year beyond four digits (`+10000-01-01`,
//! `-0001-01-01`), a one-digit month or day and spaces are refused, though a looser parser would
//! take them: the embedded database keeps dates as text and orders them as text, which is the
//! calendar's order only for years written with exactly four digits. A date outside it would be
//! ordered before every other, so both backends would answer differently.

use std::fmt;

use chrono::NaiveDate;
use serde::{de, Deserializer};

/// What a refusal says a date should look like.
const DATE_EXPECTED: &str = "a calendar date written as YYYY-MM-DD, such as \"2026-03-31\"";

/// A date written as `YYYY-MM-DD`, and one the calendar has.
pub fn parse(text: &str) -> Result<NaiveDate, &'static str> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(DATE_EXPECTED);
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| DATE_EXPECTED);
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let year = i32::try_from(year).map_err(|_| DATE_EXPECTED)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or("no such day in the calendar")
}

/// The same for a command-line argument (`clap`'s `value_parser`).
pub fn parse_argument(text: &str) -> Result<NaiveDate, String> {
    parse(text).map_err(str::to_string)
}

struct CalendarDate;

impl de::Visitor<'_> for CalendarDate {
    type Value = NaiveDate;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(DATE_EXPECTED)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<NaiveDate, E> {
        parse(text).map_err(E::custom)
    }
}

/// For `#[serde(deserialize_with = "...")]` on a request's `NaiveDate` field.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    deserializer.deserialize_str(CalendarDate)
}

/// The same for an optional field (with `#[serde(default)]`): `null` or absent is `None`.
pub fn deserialize_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    /// A date read by [`deserialize`], so that serde's own `Option` reads `null` and absence.
    struct Written(NaiveDate);
    impl<'de> serde::Deserialize<'de> for Written {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize(deserializer).map(Written)
        }
    }
    Ok(<Option<Written> as serde::Deserialize>::deserialize(deserializer)?.map(|written| written.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_digit_years_two_digit_months_and_days_only() {
        assert_eq!(parse("2026-03-31"), Ok(NaiveDate::from_ymd_opt(2026, 3, 31).expect("a day")));
        assert_eq!(parse("0001-01-01"), Ok(NaiveDate::from_ymd_opt(1, 1, 1).expect("a day")));
        assert_eq!(parse("9999-12-31"), Ok(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a day")));
        assert_eq!(parse("2024-02-29"), Ok(NaiveDate::from_ymd_opt(2024, 2, 29).expect("a day")));
        for text in [
            "+10000-01-01",
            "-0001-01-01",
            "+2026-03-31",
            " 2026-03-31",
            "2026-03-31 ",
            "2026-3-31",
            "2026-03-1",
            "26-03-31",
            "2026/03/31",
            "2026-03-31T00:00:00Z",
            "２０２６-03-31",
            "",
        ] {
            assert_eq!(parse(text), Err(DATE_EXPECTED), "{text:?}");
        }
        for text in ["2025-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00"] {
            assert_eq!(parse(text), Err("no such day in the calendar"), "{text:?}");
        }
    }

    /// Day numbers from 0000-01-01 to 9999-12-31, as chrono counts them from 0001-01-01.
    const FIRST_DAY: i32 = -366;
    const LAST_DAY: i32 = 3_652_058;

    proptest::proptest! {
        /// What the embedded database relies on: any two dates this takes compare as text as
        /// they compare in the calendar, and each reads back as written.
        #[test]
        fn text_order_is_calendar_order_for_every_date_accepted(a in FIRST_DAY..=LAST_DAY, b in FIRST_DAY..=LAST_DAY) {
            let day = |n: i32| NaiveDate::from_num_days_from_ce_opt(n + 1).expect("a day of years 0 to 9999");
            let (a, b) = (day(a), day(b));
            let (text_a, text_b) = (a.format("%Y-%m-%d").to_string(), b.format("%Y-%m-%d").to_string());
            proptest::prop_assert_eq!(parse(&text_a), Ok(a));
            proptest::prop_assert_eq!(parse(&text_b), Ok(b));
            proptest::prop_assert_eq!(text_a.cmp(&text_b), a.cmp(&b), "{} {}", text_a, text_b);
        }
    }

    #[test]
    fn the_day_range_is_years_0_to_9999() {
        let day = |n: i32| NaiveDate::from_num_days_from_ce_opt(n + 1).expect("a day");
        assert_eq!((day(FIRST_DAY).to_string(), day(LAST_DAY).to_string()), ("0000-01-01".into(), "9999-12-31".into()));
        // Outside it chrono writes a sign, and the text order breaks.
        let after = day(LAST_DAY + 1).format("%Y-%m-%d").to_string();
        assert_eq!(after, "+10000-01-01");
        assert!(after.as_str() < "2026-01-01" && parse(&after).is_err());
    }

    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[serde(deserialize_with = "deserialize")]
        on: NaiveDate,
        #[serde(default, deserialize_with = "deserialize_option")]
        to: Option<NaiveDate>,
    }

    #[test]
    fn json_and_query_strings_take_the_same_dates() {
        let body: Body = serde_json::from_str(r#"{"on": "2026-03-31", "to": null}"#).expect("parses");
        assert_eq!((body.on.to_string().as_str(), body.to), ("2026-03-31", None));
        let body: Body = serde_json::from_str(r#"{"on": "2026-03-31"}"#).expect("parses");
        assert_eq!(body.to, None);
        let body: Body = serde_urlencoded::from_str("on=2026-03-31&to=2026-04-30").expect("parses");
        assert_eq!(body.to.map(|d| d.to_string()).as_deref(), Some("2026-04-30"));
        for json in [r#"{"on": "+10000-01-01"}"#, r#"{"on": 20260331}"#, r#"{"on": "2026-03-31", "to": "-0001-01-01"}"#]
        {
            let error = serde_json::from_str::<Body>(json).expect_err(json).to_string();
            assert!(error.contains("YYYY-MM-DD"), "{error}");
        }
        assert!(serde_urlencoded::from_str::<Body>("on=%2B10000-01-01").is_err());
    }
}
