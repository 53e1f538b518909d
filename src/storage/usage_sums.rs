//! Usage sums kept beside the records, so that a read which would sum a facility's or an award's
//! records reads one row per quarter or per day instead (docs/scaling.md, "Reads that stay flat"):
//! - `facility_quarter_usage`: a facility's hours by quarter of the period start (capacity);
//! - `award_quarter_usage`: each award's records, hours and aid by facility and quarter of the
//!   period start (the facility's quarterly statement);
//! - `award_day_usage`: each award's hours and aid by day of the period end (the burn-down);
//! - `entry_usage`: the records, hours and aid each usage entry posted, by award (the
//!   compute-grant attribution).
//!
//! Each usage batch adds its accepted records to all four in its own transaction
//! ([`add_batch`]). The records stay the evidence: [`disagreements`] sums them again and lists
//! every kept sum that differs (`investai verify`).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::schema::{award_day_usage, award_quarter_usage, entry_usage, facility_quarter_usage};
use super::usage::to_micros;
use super::{batch_insert, DbConnection};
use crate::domain::burn_down::DailyUse;
use crate::domain::hours::{GpuHours, Quarter};
use crate::domain::money::Cents;
use crate::domain::usage::{RecordOutcome, UsageRecord};
use crate::error::{AppError, AppResult};

/// Microseconds in a day: a record's day is its period end divided by this (UTC).
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Records, milli-GPU-hours and aid cents; a kept sum without a count or aid holds zero there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, QueryableByName)]
pub struct UsageSum {
    #[diesel(sql_type = BigInt)]
    pub records: i64,
    #[diesel(sql_type = BigInt)]
    pub milli_hours: i64,
    #[diesel(sql_type = BigInt)]
    pub subsidy_cents: i64,
}

impl UsageSum {
    fn checked_add(self, other: UsageSum) -> AppResult<UsageSum> {
        let add = |a: i64, b: i64| a.checked_add(b).ok_or_else(|| AppError::internal("usage sum overflows"));
        Ok(UsageSum {
            records: add(self.records, other.records)?,
            milli_hours: add(self.milli_hours, other.milli_hours)?,
            subsidy_cents: add(self.subsidy_cents, other.subsidy_cents)?,
        })
    }

    fn add_to<K: Ord>(sums: &mut BTreeMap<K, UsageSum>, key: K, sum: UsageSum) -> AppResult<()> {
        let total = sums.entry(key).or_default();
        *total = total.checked_add(sum)?;
        Ok(())
    }
}

/// Where a sum is kept: the table and its key in words (`facility F, 2026-Q1, award A`).
pub type SumKey = (&'static str, String);

/// The day of a record's period end: days since 1970-01-01 UTC, as the migration that made
/// `award_day_usage` counted the records stored before it (SQL's integer division, like Rust's,
/// truncates toward zero).
fn day_of(period_end: NaiveDateTime) -> i64 {
    to_micros(period_end) / MICROS_PER_DAY
}

/// The sums of a batch's accepted records, one map per kept table.
#[derive(Default)]
struct BatchSums<'a> {
    facility_quarters: BTreeMap<i32, UsageSum>,
    award_quarters: BTreeMap<(i32, &'a str), UsageSum>,
    award_days: BTreeMap<(&'a str, i64), UsageSum>,
    entries: BTreeMap<(&'a str, &'a str), UsageSum>,
}

/// Adds a facility's batch, accepted records only, to the kept sums; `entries` holds the entry
/// each award's records posted in (none while they earn no cent). Call inside the transaction
/// that stores the records. Keys are written in order, so two batches never take the same rows
/// in opposite orders.
pub(super) fn add_batch(
    conn: &mut DbConnection,
    facility_id: &str,
    records: &[UsageRecord],
    outcomes: &[RecordOutcome],
    entries: &HashMap<String, Option<String>>,
) -> AppResult<()> {
    let mut sums = BatchSums::default();
    for (record, outcome) in records.iter().zip(outcomes) {
        if let RecordOutcome::Accepted { subsidy } = outcome {
            let sum = UsageSum { records: 1, milli_hours: record.gpu_hours.milli(), subsidy_cents: subsidy.get() };
            let quarter = Quarter::of(record.period_start.date()).key();
            UsageSum::add_to(&mut sums.facility_quarters, quarter, sum)?;
            UsageSum::add_to(&mut sums.award_quarters, (quarter, record.award_id.as_str()), sum)?;
            UsageSum::add_to(&mut sums.award_days, (record.award_id.as_str(), day_of(record.period_end)), sum)?;
            if let Some(Some(entry)) = entries.get(&record.award_id) {
                UsageSum::add_to(&mut sums.entries, (entry.as_str(), record.award_id.as_str()), sum)?;
            }
        }
    }
    add_facility_quarters(conn, facility_id, &sums.facility_quarters)?;
    add_award_quarters(conn, facility_id, &sums.award_quarters)?;
    add_award_days(conn, &sums.award_days)?;
    add_entries(conn, &sums.entries)
}

/// The batch's entries are new: one row each, never added to.
fn add_entries(conn: &mut DbConnection, entries: &BTreeMap<(&str, &str), UsageSum>) -> AppResult<()> {
    use entry_usage as t;
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = entries
        .iter()
        .map(|((entry_id, award_id), sum)| {
            (
                t::entry_id.eq(*entry_id),
                t::award_id.eq(*award_id),
                t::records.eq(sum.records),
                t::milli_hours.eq(sum.milli_hours),
                t::subsidy_cents.eq(sum.subsidy_cents),
            )
        })
        .collect();
    batch_insert!(conn, t::table, &rows);
    Ok(())
}

/// Per usage entry, per award: (aid cents, milli-GPU-hours).
pub type UsageByEntry = HashMap<String, BTreeMap<String, (i64, i64)>>;

/// What each usage entry of `fund_id` posted, by entry and award: one row per entry, however
/// many records it posted.
pub fn fund_entry_usage(conn: &mut DbConnection, fund_id: &str) -> AppResult<UsageByEntry> {
    use super::schema::grant_awards;
    let rows: Vec<(String, String, i64, i64)> = entry_usage::table
        .inner_join(grant_awards::table.on(grant_awards::id.eq(entry_usage::award_id)))
        .filter(grant_awards::fund_id.eq(fund_id))
        .select((entry_usage::entry_id, entry_usage::award_id, entry_usage::subsidy_cents, entry_usage::milli_hours))
        .load(conn)?;
    let mut by_entry = UsageByEntry::new();
    for (entry_id, award_id, cents, milli) in rows {
        by_entry.entry(entry_id).or_default().insert(award_id, (cents, milli));
    }
    Ok(by_entry)
}

fn add_facility_quarters(
    conn: &mut DbConnection,
    facility_id: &str,
    quarters: &BTreeMap<i32, UsageSum>,
) -> AppResult<()> {
    use diesel::upsert::excluded;
    use facility_quarter_usage as t;
    let rows: Vec<_> = quarters
        .iter()
        .map(|(quarter, sum)| {
            (t::facility_id.eq(facility_id), t::quarter_key.eq(*quarter), t::milli_hours.eq(sum.milli_hours))
        })
        .collect();
    let add = t::milli_hours.eq(t::milli_hours + excluded(t::milli_hours));
    let key = (t::facility_id, t::quarter_key);
    super::upsert_all!(conn, t::table, rows, on key, set add);
    Ok(())
}

fn add_award_quarters(
    conn: &mut DbConnection,
    facility_id: &str,
    quarters: &BTreeMap<(i32, &str), UsageSum>,
) -> AppResult<()> {
    use award_quarter_usage as t;
    use diesel::upsert::excluded;
    let rows: Vec<_> = quarters
        .iter()
        .map(|((quarter, award_id), sum)| {
            (
                t::facility_id.eq(facility_id),
                t::quarter_key.eq(*quarter),
                t::award_id.eq(*award_id),
                t::records.eq(sum.records),
                t::milli_hours.eq(sum.milli_hours),
                t::subsidy_cents.eq(sum.subsidy_cents),
            )
        })
        .collect();
    let add = (
        t::records.eq(t::records + excluded(t::records)),
        t::milli_hours.eq(t::milli_hours + excluded(t::milli_hours)),
        t::subsidy_cents.eq(t::subsidy_cents + excluded(t::subsidy_cents)),
    );
    let key = (t::facility_id, t::quarter_key, t::award_id);
    super::upsert_all!(conn, t::table, rows, on key, set add);
    Ok(())
}

fn add_award_days(conn: &mut DbConnection, days: &BTreeMap<(&str, i64), UsageSum>) -> AppResult<()> {
    use award_day_usage as t;
    use diesel::upsert::excluded;
    let rows: Vec<_> = days
        .iter()
        .map(|((award_id, day), sum)| {
            (
                t::award_id.eq(*award_id),
                t::day.eq(*day),
                t::milli_hours.eq(sum.milli_hours),
                t::subsidy_cents.eq(sum.subsidy_cents),
            )
        })
        .collect();
    let add = (
        t::milli_hours.eq(t::milli_hours + excluded(t::milli_hours)),
        t::subsidy_cents.eq(t::subsidy_cents + excluded(t::subsidy_cents)),
    );
    let key = (t::award_id, t::day);
    super::upsert_all!(conn, t::table, rows, on key, set add);
    Ok(())
}

fn date_of_day(day: i64) -> AppResult<NaiveDate> {
    Ok(chrono::DateTime::from_timestamp(day.saturating_mul(86_400), 0)
        .ok_or_else(|| AppError::Internal(format!("usage day {day} out of range")))?
        .date_naive())
}

/// An award's use summed by the day its records' periods end, in date order, from the sums each
/// batch keeps: one row per day of use, however many records the award has.
pub fn award_daily_use(conn: &mut DbConnection, award_id: &str) -> AppResult<Vec<DailyUse>> {
    let rows: Vec<(i64, i64, i64)> = award_day_usage::table
        .filter(award_day_usage::award_id.eq(award_id))
        .order(award_day_usage::day.asc())
        .select((award_day_usage::day, award_day_usage::milli_hours, award_day_usage::subsidy_cents))
        .load(conn)?;
    rows.into_iter()
        .map(|(day, milli, cents)| {
            Ok(DailyUse { date: date_of_day(day)?, hours: GpuHours::from_milli(milli), subsidy: Cents::new(cents) })
        })
        .collect()
}

/// Each award's records, hours and aid in one quarter at one facility, by award id.
pub fn award_quarter_sums(
    conn: &mut DbConnection,
    facility_id: &str,
    quarter: Quarter,
) -> AppResult<Vec<(String, UsageSum)>> {
    use award_quarter_usage as t;
    let rows: Vec<(String, i64, i64, i64)> = t::table
        .filter(t::facility_id.eq(facility_id))
        .filter(t::quarter_key.eq(quarter.key()))
        .order(t::award_id.asc())
        .select((t::award_id, t::records, t::milli_hours, t::subsidy_cents))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(award, records, milli_hours, subsidy_cents)| (award, UsageSum { records, milli_hours, subsidy_cents }))
        .collect())
}

/// Every sum kept, keyed as [`recount`] keys them.
fn kept(conn: &mut DbConnection) -> AppResult<BTreeMap<SumKey, UsageSum>> {
    let mut sums = BTreeMap::new();
    let facility_quarters: Vec<(String, i32, i64)> = facility_quarter_usage::table
        .select((
            facility_quarter_usage::facility_id,
            facility_quarter_usage::quarter_key,
            facility_quarter_usage::milli_hours,
        ))
        .load(conn)?;
    for (facility, quarter, milli_hours) in facility_quarters {
        let sum = UsageSum { milli_hours, ..UsageSum::default() };
        UsageSum::add_to(&mut sums, facility_quarter_key(&facility, quarter), sum)?;
    }
    let award_quarters: Vec<(String, i32, String, i64, i64, i64)> = award_quarter_usage::table
        .select((
            award_quarter_usage::facility_id,
            award_quarter_usage::quarter_key,
            award_quarter_usage::award_id,
            award_quarter_usage::records,
            award_quarter_usage::milli_hours,
            award_quarter_usage::subsidy_cents,
        ))
        .load(conn)?;
    for (facility, quarter, award, records, milli_hours, subsidy_cents) in award_quarters {
        let sum = UsageSum { records, milli_hours, subsidy_cents };
        UsageSum::add_to(&mut sums, award_quarter_key(&facility, quarter, &award), sum)?;
    }
    let award_days: Vec<(String, i64, i64, i64)> = award_day_usage::table
        .select((
            award_day_usage::award_id,
            award_day_usage::day,
            award_day_usage::milli_hours,
            award_day_usage::subsidy_cents,
        ))
        .load(conn)?;
    for (award, day, milli_hours, subsidy_cents) in award_days {
        let sum = UsageSum { milli_hours, subsidy_cents, ..UsageSum::default() };
        UsageSum::add_to(&mut sums, award_day_key(&award, day)?, sum)?;
    }
    let entries: Vec<(String, String, i64, i64, i64)> = entry_usage::table
        .select((
            entry_usage::entry_id,
            entry_usage::award_id,
            entry_usage::records,
            entry_usage::milli_hours,
            entry_usage::subsidy_cents,
        ))
        .load(conn)?;
    for (entry, award, records, milli_hours, subsidy_cents) in entries {
        UsageSum::add_to(&mut sums, entry_key(&entry, &award), UsageSum { records, milli_hours, subsidy_cents })?;
    }
    Ok(sums)
}

fn facility_quarter_key(facility: &str, quarter: i32) -> SumKey {
    ("facility_quarter_usage", format!("facility {facility}, {}", Quarter::from_key(quarter)))
}

fn award_quarter_key(facility: &str, quarter: i32, award: &str) -> SumKey {
    ("award_quarter_usage", format!("facility {facility}, {}, award {award}", Quarter::from_key(quarter)))
}

fn award_day_key(award: &str, day: i64) -> AppResult<SumKey> {
    Ok(("award_day_usage", format!("award {award}, {}", date_of_day(day)?)))
}

fn entry_key(entry: &str, award: &str) -> SumKey {
    ("entry_usage", format!("entry {entry}, award {award}"))
}

/// The stored records grouped by facility, award, day of the period start (rounded down), day of
/// the period end (truncated, as [`day_of`]) and the entry they posted, if any: few rows, from
/// which every kept key follows, in one pass over the records.
#[derive(QueryableByName)]
struct RecordGroup {
    #[diesel(sql_type = Text)]
    facility_id: String,
    #[diesel(sql_type = Text)]
    award_id: String,
    #[diesel(sql_type = BigInt)]
    start_day: i64,
    #[diesel(sql_type = BigInt)]
    end_day: i64,
    #[diesel(sql_type = Nullable<Text>)]
    entry_id: Option<String>,
    #[diesel(embed)]
    sum: UsageSum,
}

const RECORD_GROUPS_SQL: &str = "SELECT facility_id, award_id, \
    CAST((period_start_us - ((period_start_us % 86400000000) + 86400000000) % 86400000000) / 86400000000 AS BIGINT) AS start_day, \
    CAST(period_end_us / 86400000000 AS BIGINT) AS end_day, entry_id, \
    CAST(COUNT(*) AS BIGINT) AS records, CAST(SUM(milli_hours) AS BIGINT) AS milli_hours, \
    CAST(SUM(subsidy_cents) AS BIGINT) AS subsidy_cents \
    FROM usage_records GROUP BY 1, 2, 3, 4, 5";

/// The kept sums again, from every stored record (for checks, not for answering requests).
pub fn recount(conn: &mut DbConnection) -> AppResult<BTreeMap<SumKey, UsageSum>> {
    let groups = match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(RECORD_GROUPS_SQL).load::<RecordGroup>(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::sql_query(RECORD_GROUPS_SQL).load::<RecordGroup>(sqlite)?,
    };
    let mut sums = BTreeMap::new();
    for group in groups {
        let quarter = Quarter::of(date_of_day(group.start_day)?).key();
        let sum = group.sum;
        let hours = UsageSum { milli_hours: sum.milli_hours, ..UsageSum::default() };
        let hours_and_aid = UsageSum { records: 0, ..sum };
        UsageSum::add_to(&mut sums, facility_quarter_key(&group.facility_id, quarter), hours)?;
        UsageSum::add_to(&mut sums, award_quarter_key(&group.facility_id, quarter, &group.award_id), sum)?;
        UsageSum::add_to(&mut sums, award_day_key(&group.award_id, group.end_day)?, hours_and_aid)?;
        if let Some(entry_id) = &group.entry_id {
            UsageSum::add_to(&mut sums, entry_key(entry_id, &group.award_id), sum)?;
        }
    }
    Ok(sums)
}

/// Every kept sum that differs from its recount, as (key, kept, recounted); a sum of zero and a
/// missing one are the same.
pub fn disagreements(conn: &mut DbConnection) -> AppResult<Vec<(SumKey, UsageSum, UsageSum)>> {
    let kept = kept(conn)?;
    let recounted = recount(conn)?;
    Ok(super::differences(&kept, &recounted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_days_date_and_quarter_follow_the_calendar() {
        // 2026-02-02 is day 20,486 since 1970-01-01; 1969-12-31 is day -1.
        assert_eq!(date_of_day(20_486).ok(), NaiveDate::from_ymd_opt(2026, 2, 2));
        assert_eq!(date_of_day(-1).ok(), NaiveDate::from_ymd_opt(1969, 12, 31));
        let last_of_march = NaiveDate::from_ymd_opt(2026, 3, 31).map(|d| Quarter::of(d).to_string());
        assert_eq!(last_of_march.as_deref(), Some("2026-Q1"));
    }

    #[test]
    fn a_period_end_counts_on_the_day_it_falls() {
        let end = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").map(day_of).ok();
        assert_eq!(end("2026-02-02 23:59:59.999999"), Some(20_486));
        assert_eq!(end("2026-02-03 00:00:00.0"), Some(20_487));
    }
}
