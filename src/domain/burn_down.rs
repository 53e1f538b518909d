//! An award's burn-down: the GPU-hours and aid it has used, day by day, and what is left.
//! Hours are counted on the day a record's period ends (UTC), as the quarterly statements do.

use chrono::NaiveDate;

use super::hours::GpuHours;
use super::money::{Cents, MoneyError};

/// What an award used on one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyUse {
    pub date: NaiveDate,
    pub hours: GpuHours,
    pub subsidy: Cents,
}

/// An award at the end of a day on which it was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnDownPoint {
    pub date: NaiveDate,
    pub used_that_day: GpuHours,
    pub used_to_date: GpuHours,
    pub remaining: GpuHours,
    pub subsidy_to_date: Cents,
    pub subsidy_remaining: Cents,
}

/// The running totals of `days` (in date order) against the award's hours and aid value.
/// Usage never exceeds an award, so a remainder below zero is an error, not a figure to show.
pub fn burn_down(awarded: GpuHours, aid_value: Cents, days: &[DailyUse]) -> Result<Vec<BurnDownPoint>, MoneyError> {
    let mut used = GpuHours::from_milli(0);
    let mut subsidy = Cents::ZERO;
    let mut points = Vec::with_capacity(days.len());
    for day in days {
        used = used.saturating_add(day.hours);
        subsidy = subsidy.checked_add(day.subsidy)?;
        let remaining =
            awarded.milli().checked_sub(used.milli()).filter(|left| *left >= 0).ok_or(MoneyError::Negative)?;
        points.push(BurnDownPoint {
            date: day.date,
            used_that_day: day.hours,
            used_to_date: used,
            remaining: GpuHours::from_milli(remaining),
            subsidy_to_date: subsidy,
            subsidy_remaining: aid_value.checked_sub(subsidy)?.require_non_negative()?,
        });
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(date: &str, milli: i64, cents: i64) -> DailyUse {
        DailyUse { date: date.parse().unwrap(), hours: GpuHours::from_milli(milli), subsidy: Cents::new(cents) }
    }

    #[test]
    fn each_day_adds_to_what_was_used_and_takes_from_what_is_left() {
        // 100 GPU-hours worth EUR 140.00 (EUR 2.00 an hour at 70%): 12.5 h on one day and
        // 30.25 h on the next use EUR 17.50 and EUR 42.35.
        let points = burn_down(
            GpuHours::from_milli(100_000),
            Cents::new(14_000),
            &[day("2026-03-01", 12_500, 1_750), day("2026-03-04", 30_250, 4_235)],
        )
        .unwrap();
        let last = points[1];
        assert_eq!(last.used_to_date, GpuHours::from_milli(42_750));
        assert_eq!(last.remaining, GpuHours::from_milli(57_250));
        assert_eq!(last.subsidy_to_date, Cents::new(5_985));
        assert_eq!(last.subsidy_remaining, Cents::new(8_015));
        assert_eq!(points[0].remaining, GpuHours::from_milli(87_500));
    }

    #[test]
    fn using_more_than_was_awarded_is_an_error() {
        let over = burn_down(GpuHours::from_milli(1_000), Cents::new(200), &[day("2026-03-01", 1_001, 200)]);
        assert!(over.is_err());
    }

    proptest! {
        /// Used and remaining add up to the award on every day; the last day's subsidy is the
        /// sum of all days'.
        #[test]
        fn used_and_remaining_always_add_up(uses in prop::collection::vec((0i64..5_000, 0i64..10_000), 0..40)) {
            let awarded = GpuHours::from_milli(uses.iter().map(|u| u.0).sum::<i64>() + 7);
            let aid = Cents::new(uses.iter().map(|u| u.1).sum::<i64>() + 3);
            let start: NaiveDate = "2026-01-01".parse().unwrap();
            let days: Vec<DailyUse> = uses.iter().enumerate().map(|(i, (milli, cents))| DailyUse {
                date: start + chrono::Days::new(i as u64),
                hours: GpuHours::from_milli(*milli),
                subsidy: Cents::new(*cents),
            }).collect();
            let points = burn_down(awarded, aid, &days).unwrap();
            for p in &points {
                prop_assert_eq!(p.used_to_date.milli() + p.remaining.milli(), awarded.milli());
                prop_assert_eq!(p.subsidy_to_date.get() + p.subsidy_remaining.get(), aid.get());
            }
            if let Some(last) = points.last() {
                prop_assert_eq!(last.subsidy_to_date.get(), uses.iter().map(|u| u.1).sum::<i64>());
                prop_assert_eq!(last.remaining.milli(), 7);
            }
        }
    }
}
