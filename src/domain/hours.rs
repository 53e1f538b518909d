//! GPU-hours, exact to the thousandth, and the calendar quarters facility capacity is sold in.
//!
//! Usage is metered to three decimals; hours are carried as integer thousandths so that
//! debits of an award sum exactly, like cents. JSON carries them as decimal strings
//! (`"1234.500"`); whole numbers may also be sent as JSON integers.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::money::{allocate_units, MoneyError};

/// Thousandths in one GPU-hour.
pub const MILLI_PER_HOUR: i64 = 1_000;
/// Largest figure of hours the service accepts: 10^12 GPU-hours.
pub const GPU_HOURS_MAX: i64 = 1_000_000_000_000;

/// GPU-hours in thousandths. Never negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuHours(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("not a decimal number of GPU-hours (expected a string such as \"12.500\")")]
    NotANumber,
    #[error("more than 3 decimal places: GPU-hours are metered to the thousandth")]
    TooManyDecimals,
    #[error("above the limit of 1,000,000,000,000 GPU-hours")]
    TooLarge,
    #[error("must not be negative")]
    Negative,
}

impl GpuHours {
    pub const ZERO: GpuHours = GpuHours(0);

    pub const fn from_milli(milli: i64) -> Self {
        GpuHours(milli)
    }

    pub fn from_whole(hours: i64) -> Result<Self, HoursError> {
        if !(0..=GPU_HOURS_MAX).contains(&hours) {
            return Err(if hours < 0 { HoursError::Negative } else { HoursError::TooLarge });
        }
        Ok(GpuHours(hours * MILLI_PER_HOUR))
    }

    pub const fn milli(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Differences and sums of valid figures stay far inside i64; saturate rather than wrap.
    pub fn saturating_sub(self, other: GpuHours) -> GpuHours {
        GpuHours(self.0.saturating_sub(other.0).max(0))
    }

    pub fn saturating_add(self, other: GpuHours) -> GpuHours {
        GpuHours(self.0.saturating_add(other.0))
    }
}

impl FromStr for GpuHours {
    type Err = HoursError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.starts_with('-') {
            return Err(HoursError::Negative);
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
            return Err(HoursError::NotANumber);
        }
        if fraction.len() > 3 {
            return Err(HoursError::TooManyDecimals);
        }
        if whole.len() > 13 {
            return Err(HoursError::TooLarge);
        }
        let whole: i64 = whole.parse().map_err(|_| HoursError::NotANumber)?;
        let padded = format!("{fraction:0<3}");
        let thousandths: i64 = padded.parse().map_err(|_| HoursError::NotANumber)?;
        if whole > GPU_HOURS_MAX || (whole == GPU_HOURS_MAX && thousandths > 0) {
            return Err(HoursError::TooLarge);
        }
        Ok(GpuHours(whole * MILLI_PER_HOUR + thousandths))
    }
}

impl fmt::Display for GpuHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / MILLI_PER_HOUR, self.0 % MILLI_PER_HOUR)
    }
}

impl Serialize for GpuHours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GpuHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HoursVisitor;
        impl serde::de::Visitor<'_> for HoursVisitor {
            type Value = GpuHours;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("GPU-hours as a decimal string such as \"12.500\", or a whole number")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<GpuHours, E> {
                // Plain notation only in a request (docs/ledger.md, "Money"); files may pad.
                if text.trim() != text {
                    return Err(E::custom(HoursError::NotANumber));
                }
                text.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<GpuHours, E> {
                let whole = i64::try_from(value).map_err(|_| E::custom(HoursError::TooLarge))?;
                GpuHours::from_whole(whole).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<GpuHours, E> {
                GpuHours::from_whole(value).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(HoursVisitor)
    }
}

/// A calendar quarter: `2026-Q1` is January to March 2026.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4
    pub number: u32,
}

impl Quarter {
    pub fn of(date: NaiveDate) -> Quarter {
        Quarter { year: date.year(), number: date.month0() / 3 + 1 }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter { year: self.year + 1, number: 1 }
        } else {
            Quarter { year: self.year, number: self.number + 1 }
        }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    /// A sortable integer key (`year * 4 + number - 1`), as the database stores it.
    pub fn key(self) -> i32 {
        self.year * 4 + self.number as i32 - 1
    }

    pub fn from_key(key: i32) -> Quarter {
        Quarter { year: key.div_euclid(4), number: key.rem_euclid(4) as u32 + 1 }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

impl FromStr for Quarter {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("{text:?} is not a quarter such as 2026-Q1");
        let (year, number) = text.trim().split_once("-Q").ok_or_else(invalid)?;
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let number: u32 = number.parse().map_err(|_| invalid())?;
        if !(1..=4).contains(&number) || !(1900..=9999).contains(&year) {
            return Err(invalid());
        }
        Ok(Quarter { year, number })
    }
}

/// Quarters an award period touches, at most this many (25 years): bounds every loop over them.
pub const AWARD_QUARTERS_MAX: usize = 100;

/// Splits `hours` over the quarters of the period `start..=end`, pro rata to the days of the
/// period in each quarter, exact to the thousandth (largest remainder, earlier quarter first).
pub fn split_by_quarter(start: NaiveDate, end: NaiveDate, hours: GpuHours) -> Result<Vec<(Quarter, GpuHours)>, String> {
    if end < start {
        return Err("the period ends before it starts".into());
    }
    let mut quarters = Vec::new();
    let mut quarter = Quarter::of(start);
    while quarter.first_day() <= end {
        if quarters.len() == AWARD_QUARTERS_MAX {
            return Err(format!("the period spans more than {AWARD_QUARTERS_MAX} quarters"));
        }
        let from = start.max(quarter.first_day());
        let to = end.min(quarter.last_day());
        quarters.push((quarter, i128::from((to - from).num_days() + 1)));
        quarter = quarter.next();
    }
    let weights: Vec<i128> = quarters.iter().map(|(_, days)| *days).collect();
    let shares = allocate_units(hours.milli(), &weights).map_err(|e: MoneyError| e.to_string())?;
    Ok(quarters.into_iter().zip(shares).map(|((q, _), share)| (q, GpuHours(share))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_and_prints_thousandths() {
        assert_eq!("12.5".parse::<GpuHours>(), Ok(GpuHours(12_500)));
        assert_eq!("0.001".parse::<GpuHours>(), Ok(GpuHours(1)));
        assert_eq!("7".parse::<GpuHours>(), Ok(GpuHours(7_000)));
        assert_eq!(GpuHours(1_234_567).to_string(), "1234.567");
        assert_eq!("1.0001".parse::<GpuHours>(), Err(HoursError::TooManyDecimals));
        assert_eq!("-1".parse::<GpuHours>(), Err(HoursError::Negative));
        assert_eq!("1e3".parse::<GpuHours>(), Err(HoursError::NotANumber));
        assert_eq!("1.".parse::<GpuHours>(), Err(HoursError::NotANumber));
        assert_eq!("".parse::<GpuHours>(), Err(HoursError::NotANumber));
        assert_eq!("1000000000000.001".parse::<GpuHours>(), Err(HoursError::TooLarge));
        let parsed: GpuHours = serde_json::from_str("42").unwrap();
        assert_eq!(parsed, GpuHours(42_000));
        assert!(serde_json::from_str::<GpuHours>("1.5").is_err(), "fractions travel as strings, never floats");
        for refused in ["\" 1.5\"", "\"1.5 \"", "\"1e3\"", "\"+1\""] {
            assert!(serde_json::from_str::<GpuHours>(refused).is_err(), "{refused} should be refused");
        }
    }

    #[test]
    fn quarters_and_their_keys() {
        assert_eq!(Quarter::of(d("2026-03-31")).to_string(), "2026-Q1");
        assert_eq!(Quarter::of(d("2026-04-01")).to_string(), "2026-Q2");
        assert_eq!(Quarter { year: 2026, number: 4 }.last_day(), d("2026-12-31"));
        let q: Quarter = "2027-Q3".parse().unwrap();
        assert_eq!(Quarter::from_key(q.key()), q);
        assert!("2027-Q5".parse::<Quarter>().is_err());
    }

    #[test]
    fn splits_a_period_by_days_in_each_quarter() {
        // 2026-03-02..2026-04-30: 30 days in Q1, 30 in Q2.
        let split = split_by_quarter(d("2026-03-02"), d("2026-04-30"), GpuHours(1_001)).unwrap();
        assert_eq!(split.len(), 2);
        assert_eq!(split[0], (Quarter { year: 2026, number: 1 }, GpuHours(501)), "the tie goes to the earlier quarter");
        assert_eq!(split[1].1, GpuHours(500));
        assert!(split_by_quarter(d("2026-05-01"), d("2026-04-30"), GpuHours(1)).is_err());
    }

    proptest! {
        #[test]
        fn a_split_sums_exactly_to_the_hours(start in 0i64..3000, length in 0i64..1500, milli in 0i64..1_000_000_000_000) {
            let start = d("2025-01-01") + chrono::Duration::days(start);
            let end = start + chrono::Duration::days(length);
            let split = split_by_quarter(start, end, GpuHours(milli)).unwrap();
            prop_assert_eq!(split.iter().map(|(_, h)| h.milli()).sum::<i64>(), milli);
            prop_assert_eq!(split[0].0, Quarter::of(start));
            prop_assert_eq!(split[split.len() - 1].0, Quarter::of(end));
        }
    }
}
