//! How a request writes a number: in plain notation, nothing else. Amounts (`money::Cents`), GPU-hours
//! (`hours::GpuHours`) and the decimals that are not money (a rate, a percent, a score, a head
//! count) are written in plain notation: digits, at most one point between digits, and a leading
//! minus where a negative is allowed. An exponent (`"8e-2"`), a `+`, a bare point (`".5"`,
//! `"5."`), spaces around the figure and JSON floats are refused. A decimal that is not money may
//! also be a JSON integer, as page forms send whole numbers.

use std::fmt;

use rust_decimal::Decimal;
use serde::{de, Deserializer};

/// What a refusal says a decimal should look like.
const DECIMAL_EXPECTED: &str =
    "a decimal written plainly as a string, such as \"0.08\" (no exponent, no + and no spaces)";

/// Whether `text` is in plain notation: an optional `-`, digits, and optionally a point followed
/// by digits. Nothing else, not even spaces.
pub fn is_plain(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && fraction.is_none_or(digits)
}

/// A decimal in plain notation, exactly as written.
pub fn parse(text: &str) -> Result<Decimal, &'static str> {
    if !is_plain(text) {
        return Err(DECIMAL_EXPECTED);
    }
    Decimal::from_str_exact(text).map_err(|_| "too many digits for a decimal")
}

struct PlainDecimal;

impl de::Visitor<'_> for PlainDecimal {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(DECIMAL_EXPECTED)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
        parse(text).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }
}

/// For `#[serde(deserialize_with = "...")]` on a request's `Decimal` field.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(PlainDecimal)
}

/// The same for an optional field (with `#[serde(default)]`): `null` or absent is `None`.
pub fn deserialize_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    struct Optional;
    impl<'de> de::Visitor<'de> for Optional {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(DECIMAL_EXPECTED)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserialize(deserializer).map(Some)
        }
    }
    deserializer.deserialize_option(Optional)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Request {
        #[serde(deserialize_with = "deserialize")]
        rate: Decimal,
        #[serde(default, deserialize_with = "deserialize_option")]
        cap: Option<Decimal>,
    }

    fn read(json: &str) -> Result<Request, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn only_plain_notation_is_read() {
        let request = read(r#"{"rate": "0.080", "cap": "1.20"}"#).unwrap();
        assert_eq!(
            (request.rate.to_string().as_str(), request.cap.map(|c| c.to_string())),
            ("0.080", Some("1.20".into()))
        );
        assert_eq!(read(r#"{"rate": 12}"#).unwrap().rate, Decimal::from(12));
        assert_eq!(read(r#"{"rate": "-1.5", "cap": null}"#).unwrap().cap, None);
        for refused in ["8e-2", "1e2", "+5", ".5", "5.", " 5", "5 ", "\u{a0}5", "1,5", "", "-", "0x10", "NaN", "1.2.3"]
        {
            let json = serde_json::json!({ "rate": refused }).to_string();
            assert!(read(&json).is_err(), "{refused:?} should be refused");
            let json = serde_json::json!({ "rate": "1", "cap": refused }).to_string();
            assert!(read(&json).is_err(), "cap {refused:?} should be refused");
        }
        // A JSON float is a binary fraction: refused, like an amount written as one.
        assert!(read(r#"{"rate": 0.08}"#).is_err());
        assert!(read(r#"{"rate": 8e-2}"#).is_err());
    }

    proptest! {
        #[test]
        fn every_decimal_reads_back_from_its_own_writing(mantissa in any::<i64>(), scale in 0u32..=12) {
            let value = Decimal::new(mantissa, scale);
            prop_assert!(is_plain(&value.to_string()));
            prop_assert_eq!(parse(&value.to_string()), Ok(value));
        }

        #[test]
        fn plain_notation_is_exactly_the_pattern(text in "[-+ .e0-9]{0,8}") {
            let pattern = plain_reference(&text);
            prop_assert_eq!(is_plain(&text), pattern);
        }
    }

    /// A second reading of the rule, character by character: `-?[0-9]+(\.[0-9]+)?`.
    fn plain_reference(text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let mut at = usize::from(chars.first() == Some(&'-'));
        let start = at;
        while at < chars.len() && chars[at].is_ascii_digit() {
            at += 1;
        }
        if at == start {
            return false;
        }
        if at == chars.len() {
            return true;
        }
        if chars[at] != '.' {
            return false;
        }
        at += 1;
        let fraction = at;
        while at < chars.len() && chars[at].is_ascii_digit() {
            at += 1;
        }
        at > fraction && at == chars.len()
    }
}
