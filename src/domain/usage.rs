//! Usage metering: which records of a facility's batch are accepted, replayed or refused.
//!
//! A record id counts once per facility, however often and in whatever batch it is sent: a
//! record already stored with the same content is a replay and answers its original result;
//! the same id with other content is refused. A record is refused, with its reason, when its
//! award is not this facility's, not running, outside its period, or would go above its hours,
//! or when its period is empty, has not ended when the batch arrives, or holds fewer GPU-hours
//! than it claims (its length times the most GPUs one record of the facility may cover); the
//! other records of the batch are kept. Each award's accepted hours are debited in batch
//! order, and each record carries its share of the subsidy, so the records of an award's entry
//! sum exactly to that entry.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::grants::subsidy_of;
use super::hours::GpuHours;
use super::money::{Cents, MoneyError};
use crate::i18n::message::{Message, Wording};

/// Records one batch may carry.
pub const USAGE_BATCH_RECORDS_MAX: usize = 10_000;
/// Longest record id, in bytes.
pub const RECORD_ID_LENGTH_MAX: usize = 128;
/// How far a record's period may end after its batch arrives: the facility's clock and the
/// service's may differ by this much.
pub const CLOCK_DIFFERENCE_MAX_SECONDS: i64 = 300;

/// The facility a batch comes from, as usage sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeteredFacility {
    pub id: String,
    /// The most GPUs one record may cover: a record's GPU-hours never exceed its period's
    /// length in hours times this. At most the facility's chip count.
    pub gpus_per_record_max: i64,
}

/// Microseconds in one hour: one GPU-hour is one GPU for this long.
const HOUR_MICROS: i128 = 3_600_000_000;

/// Whether a period of `period_micros` on `gpus` GPUs holds `hours`, compared exactly in
/// integers: hours x 3,600 s <= length x GPUs.
fn holds_hours(hours: GpuHours, period_micros: i64, gpus: i64) -> bool {
    // GpuHours counts thousandths of an hour.
    i128::from(hours.milli()) * HOUR_MICROS <= i128::from(period_micros) * i128::from(gpus) * 1_000
}

/// One metered record as a facility reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRecord {
    pub record_id: String,
    pub award_id: String,
    pub gpu_hours: GpuHours,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
}

/// A record as stored when it was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub record: UsageRecord,
    pub subsidy: Cents,
    pub entry_id: String,
}

/// An award as usage sees it.
#[derive(Clone, Debug)]
pub struct AwardMeter {
    pub facility_id: String,
    /// Awarded and not yet completed or expired.
    pub running: bool,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub awarded: GpuHours,
    pub used: GpuHours,
    pub price: Cents,
    pub intensity_percent: Decimal,
}

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RecordOutcome {
    /// Debited now.
    Accepted {
        #[schema(value_type = String)]
        subsidy: Cents,
    },
    /// Sent before (in an earlier batch or earlier in this one): the original result.
    Replayed {
        #[schema(value_type = String)]
        subsidy: Cents,
        /// The journal entry that posted it; empty when it is posted by this batch.
        entry_id: String,
    },
    /// Not counted.
    Refused {
        code: String,
        #[schema(value_type = String)]
        reason: Wording,
    },
}

/// What a batch does to one award.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwardDebit {
    pub award_id: String,
    pub hours: GpuHours,
    pub used_after: GpuHours,
    pub subsidy: Cents,
}

/// The evaluation of a batch: one outcome per record, in order, and the debits per award.
#[derive(Clone, Debug, Default)]
pub struct BatchPlan {
    pub outcomes: Vec<RecordOutcome>,
    pub debits: Vec<AwardDebit>,
}

impl BatchPlan {
    /// Indexes of the records accepted now, grouped by award id.
    pub fn accepted_by_award<'a>(&self, records: &'a [UsageRecord]) -> HashMap<&'a str, Vec<usize>> {
        let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, outcome) in self.outcomes.iter().enumerate() {
            if matches!(outcome, RecordOutcome::Accepted { .. }) {
                groups.entry(records[index].award_id.as_str()).or_default().push(index);
            }
        }
        groups
    }
}

/// For each record of a batch, the index of the first record with its id: its own index,
/// or an earlier one when the id repeats within the batch (counted once, there).
pub fn first_with_same_id(records: &[UsageRecord]) -> Vec<usize> {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    records.iter().enumerate().map(|(index, r)| *first.entry(r.record_id.as_str()).or_insert(index)).collect()
}

fn refused(code: &str, reason: Message) -> RecordOutcome {
    RecordOutcome::Refused { code: code.into(), reason: reason.into() }
}

/// A record's own fields, before any award is looked at. `ended_by` is the latest a period may
/// end: the batch's arrival plus the clock difference allowed.
fn check_fields(record: &UsageRecord, gpus_per_record_max: i64, ended_by: NaiveDateTime) -> Option<RecordOutcome> {
    let id = &record.record_id;
    if id.is_empty() || id.len() > RECORD_ID_LENGTH_MAX || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Some(refused(
            "invalid-record-id",
            Message::new("msg-usage-record-id").count("max", RECORD_ID_LENGTH_MAX),
        ));
    }
    if record.gpu_hours.is_zero() {
        return Some(refused("zero-hours", Message::new("msg-usage-zero-hours")));
    }
    if record.period_end <= record.period_start {
        return Some(refused("invalid-period", Message::new("msg-usage-period")));
    }
    if record.period_end > ended_by {
        return Some(refused(
            "period-not-ended",
            Message::new("msg-usage-period-not-ended")
                .text("end", record.period_end.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .count("seconds", CLOCK_DIFFERENCE_MAX_SECONDS),
        ));
    }
    let period_micros = (record.period_end - record.period_start).num_microseconds().unwrap_or(i64::MAX);
    if !holds_hours(record.gpu_hours, period_micros, gpus_per_record_max) {
        return Some(refused(
            "implausible-hours",
            Message::new("msg-usage-implausible")
                .hours("hours", record.gpu_hours)
                .count("gpus", gpus_per_record_max)
                .count("seconds", period_micros / 1_000_000),
        ));
    }
    None
}

/// Evaluates a facility's batch, arrived at `received_at`, against its awards and the records
/// already stored.
pub fn evaluate_batch(
    facility: &MeteredFacility,
    records: &[UsageRecord],
    awards: &HashMap<String, AwardMeter>,
    stored: &HashMap<String, StoredRecord>,
    received_at: NaiveDateTime,
) -> Result<BatchPlan, MoneyError> {
    assert!(records.len() <= USAGE_BATCH_RECORDS_MAX, "batch size is checked at the edge");
    let ended_by = received_at + chrono::Duration::seconds(CLOCK_DIFFERENCE_MAX_SECONDS);
    let mut used: HashMap<&str, GpuHours> = HashMap::new();
    let mut seen: HashMap<&str, (usize, Cents)> = HashMap::new();
    let mut outcomes = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let outcome = if let Some(previous) = stored.get(&record.record_id) {
            replay(record, &previous.record, previous.subsidy, &previous.entry_id)
        } else if let Some((first, subsidy)) = seen.get(record.record_id.as_str()) {
            replay(record, &records[*first], *subsidy, "")
        } else if let Some(outcome) = check_fields(record, facility.gpus_per_record_max, ended_by) {
            outcome
        } else {
            match awards.get(&record.award_id).filter(|a| a.facility_id == facility.id) {
                None => refused("not-this-facility", Message::new("msg-usage-not-this-facility")),
                Some(award) => {
                    let before = *used.get(record.award_id.as_str()).unwrap_or(&award.used);
                    let outcome = debit(record, award, before)?;
                    if let RecordOutcome::Accepted { subsidy } = outcome {
                        used.insert(record.award_id.as_str(), before.saturating_add(record.gpu_hours));
                        seen.insert(record.record_id.as_str(), (index, subsidy));
                    }
                    outcome
                }
            }
        };
        outcomes.push(outcome);
    }
    let mut debits = Vec::with_capacity(used.len());
    for (award_id, used_after) in used {
        let award = &awards[award_id];
        let before = subsidy_of(award.used, award.price, award.intensity_percent)?;
        let after = subsidy_of(used_after, award.price, award.intensity_percent)?;
        debits.push(AwardDebit {
            award_id: award_id.to_string(),
            hours: used_after.saturating_sub(award.used),
            used_after,
            subsidy: after.checked_sub(before)?,
        });
    }
    debits.sort_by(|a, b| a.award_id.cmp(&b.award_id));
    Ok(BatchPlan { outcomes, debits })
}

fn replay(record: &UsageRecord, original: &UsageRecord, subsidy: Cents, entry_id: &str) -> RecordOutcome {
    if record == original {
        RecordOutcome::Replayed { subsidy, entry_id: entry_id.to_string() }
    } else {
        refused("record-id-conflict", Message::new("msg-usage-record-id-conflict"))
    }
}

/// Debits one record from an award that has `before` hours used.
fn debit(record: &UsageRecord, award: &AwardMeter, before: GpuHours) -> Result<RecordOutcome, MoneyError> {
    if !award.running {
        return Ok(refused("award-not-running", Message::new("msg-usage-award-not-running")));
    }
    // The period is its days whole: from midnight starting the first to midnight ending the last.
    let before_start = record.period_start < award.start_date.and_time(NaiveTime::MIN);
    let after_end = award.end_date.succ_opt().is_some_and(|next| record.period_end > next.and_time(NaiveTime::MIN));
    if before_start || after_end {
        return Ok(refused(
            "outside-award-period",
            Message::new("msg-usage-outside-period").date("start", award.start_date).date("end", award.end_date),
        ));
    }
    let remaining = award.awarded.saturating_sub(before);
    if record.gpu_hours > remaining {
        return Ok(refused(
            "above-award-hours",
            Message::new("msg-usage-above-award")
                .hours("hours", record.gpu_hours)
                .hours("awarded", award.awarded)
                .hours("remaining", remaining),
        ));
    }
    let after = before.saturating_add(record.gpu_hours);
    let subsidy = subsidy_of(after, award.price, award.intensity_percent)?.checked_sub(subsidy_of(
        before,
        award.price,
        award.intensity_percent,
    )?)?;
    Ok(RecordOutcome::Accepted { subsidy })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 5, day).unwrap().and_hms_opt(hour, 0, 0).unwrap()
    }

    /// When the tests' batches arrive: after every period they report.
    fn received() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
    }

    fn record(id: &str, award: &str, milli: i64) -> UsageRecord {
        UsageRecord {
            record_id: id.into(),
            award_id: award.into(),
            gpu_hours: GpuHours::from_milli(milli),
            period_start: at(2, 0),
            period_end: at(2, 1),
        }
    }

    fn meter(facility: &str, awarded_hours: i64) -> AwardMeter {
        AwardMeter {
            facility_id: facility.into(),
            running: true,
            start_date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            awarded: GpuHours::from_whole(awarded_hours).unwrap(),
            used: GpuHours::ZERO,
            price: Cents::new(333),
            intensity_percent: Decimal::from(70),
        }
    }

    /// A facility whose records may cover up to 1,000 GPUs.
    fn facility(id: &str) -> MeteredFacility {
        MeteredFacility { id: id.into(), gpus_per_record_max: 1_000 }
    }

    fn awards() -> HashMap<String, AwardMeter> {
        HashMap::from([("a1".to_string(), meter("f1", 10)), ("a2".to_string(), meter("f2", 10))])
    }

    fn codes(plan: &BatchPlan) -> Vec<String> {
        plan.outcomes
            .iter()
            .map(|o| match o {
                RecordOutcome::Accepted { .. } => "accepted".to_string(),
                RecordOutcome::Replayed { .. } => "replayed".to_string(),
                RecordOutcome::Refused { code, .. } => code.clone(),
            })
            .collect()
    }

    #[test]
    fn refuses_bad_records_and_keeps_the_good_ones() {
        let mut late = record("r6", "a1", 1_000);
        late.period_end = at(1, 0) + chrono::Duration::days(61) + chrono::Duration::hours(1);
        let batch = vec![
            record("r1", "a1", 6_000),
            record("r2", "a2", 1_000),
            record("r3", "a1", 4_001),
            record("r4", "a1", 4_000),
            record("r1", "a1", 6_000),
            late,
            record("r7", "nope", 1),
            record("", "a1", 1),
            record("r9", "a1", 0),
        ];
        let plan = evaluate_batch(&facility("f1"), &batch, &awards(), &HashMap::new(), received()).unwrap();
        assert_eq!(
            codes(&plan),
            [
                "accepted",
                "not-this-facility",
                "above-award-hours",
                "accepted",
                "replayed",
                "outside-award-period",
                "not-this-facility",
                "invalid-record-id",
                "zero-hours"
            ]
        );
        assert_eq!(plan.debits.len(), 1);
        assert_eq!(plan.debits[0].hours, GpuHours::from_whole(10).unwrap());
        // 10 h x EUR 3.33 x 70% = EUR 23.31.
        assert_eq!(plan.debits[0].subsidy, Cents::new(2_331));
        if let RecordOutcome::Refused { reason, .. } = &plan.outcomes[2] {
            assert!(reason.english().contains("4.000 remain"), "{reason}");
        }
    }

    /// An award's period is its days whole: usage may run up to midnight ending its last day,
    /// and not a second past it, nor start before midnight beginning its first.
    #[test]
    fn usage_fills_the_award_period_to_the_midnight_ending_its_last_day() {
        let midnight = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let one_second = chrono::Duration::seconds(1);
        let cases = [
            (midnight(2026, 6, 30) + chrono::Duration::hours(20), midnight(2026, 7, 1), "accepted"),
            (
                midnight(2026, 6, 30) + chrono::Duration::hours(20),
                midnight(2026, 7, 1) + one_second,
                "outside-award-period",
            ),
            (midnight(2026, 4, 1), midnight(2026, 4, 1) + chrono::Duration::hours(1), "accepted"),
            (
                midnight(2026, 4, 1) - one_second,
                midnight(2026, 4, 1) + chrono::Duration::hours(1),
                "outside-award-period",
            ),
        ];
        for (n, (start, end, expected)) in cases.into_iter().enumerate() {
            let mut usage = record(&format!("m{n}"), "a1", 1_000);
            (usage.period_start, usage.period_end) = (start, end);
            let plan = evaluate_batch(&facility("f1"), &[usage], &awards(), &HashMap::new(), received()).unwrap();
            assert_eq!(codes(&plan), [expected], "{start} to {end}");
        }
    }

    #[test]
    fn a_replayed_batch_changes_nothing() {
        let batch = vec![record("r1", "a1", 2_500), record("r2", "a1", 2_500)];
        let first = evaluate_batch(&facility("f1"), &batch, &awards(), &HashMap::new(), received()).unwrap();
        let stored: HashMap<String, StoredRecord> = batch
            .iter()
            .zip(&first.outcomes)
            .map(|(r, o)| match o {
                RecordOutcome::Accepted { subsidy } => {
                    (r.record_id.clone(), StoredRecord { record: r.clone(), subsidy: *subsidy, entry_id: "e1".into() })
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let mut after = awards();
        after.get_mut("a1").unwrap().used = GpuHours::from_milli(5_000);
        let again = evaluate_batch(&facility("f1"), &batch, &after, &stored, received()).unwrap();
        assert!(again.debits.is_empty());
        assert!(again
            .outcomes
            .iter()
            .all(|o| matches!(o, RecordOutcome::Replayed { entry_id, .. } if entry_id == "e1")));
        let mut changed = batch[0].clone();
        changed.gpu_hours = GpuHours::from_milli(1);
        let conflict = evaluate_batch(&facility("f1"), &[changed], &after, &stored, received()).unwrap();
        assert_eq!(codes(&conflict), ["record-id-conflict"]);
    }

    #[test]
    fn an_ended_award_takes_no_usage() {
        let mut ended = awards();
        ended.get_mut("a1").unwrap().running = false;
        let plan =
            evaluate_batch(&facility("f1"), &[record("r1", "a1", 1)], &ended, &HashMap::new(), received()).unwrap();
        assert_eq!(codes(&plan), ["award-not-running"]);
    }

    #[test]
    fn a_period_ends_before_the_batch_arrives_give_or_take_five_minutes() {
        let arrived = at(2, 1);
        let ending = |id: &str, seconds_after: i64| UsageRecord {
            period_end: arrived + chrono::Duration::seconds(seconds_after),
            ..record(id, "a1", 1)
        };
        let batch =
            [ending("before", -1), ending("on-arrival", 0), ending("at-the-limit", 300), ending("past-it", 301)];
        let plan = evaluate_batch(&facility("f1"), &batch, &awards(), &HashMap::new(), arrived).unwrap();
        assert_eq!(codes(&plan), ["accepted", "accepted", "accepted", "period-not-ended"]);
        let RecordOutcome::Refused { reason, .. } = &plan.outcomes[3] else { panic!("refused") };
        assert!(reason.english().contains("2026-05-02T01:05:01Z"), "{}", reason.english());
    }

    #[test]
    fn a_record_holds_no_more_hours_than_its_period_on_the_facilitys_gpus() {
        let mut awards = awards();
        awards.get_mut("a1").unwrap().awarded = GpuHours::from_whole(1_000_000).unwrap();
        let with_period = |id: &str, milli: i64, seconds: i64| {
            let mut r = record(id, "a1", milli);
            r.period_end = r.period_start + chrono::Duration::seconds(seconds);
            r
        };
        let batch = vec![
            with_period("one-second", 500_000, 1),
            with_period("empty", 1, 0),
            with_period("full-hour", 1_000_000, 3_600),
            with_period("above-full-hour", 1_000_001, 3_600),
            with_period("one-second-full", 277, 1),
            with_period("one-second-above", 278, 1),
        ];
        let plan = evaluate_batch(&facility("f1"), &batch, &awards, &HashMap::new(), received()).unwrap();
        assert_eq!(
            codes(&plan),
            ["implausible-hours", "invalid-period", "accepted", "implausible-hours", "accepted", "implausible-hours"]
        );
        if let RecordOutcome::Refused { reason, .. } = &plan.outcomes[0] {
            assert_eq!(reason.english(), "500.000 GPU-hours do not fit in the period: at most 1000 GPUs for 1 s");
        }
    }

    proptest! {
        /// The integer comparison agrees with the rule computed in decimals: hours <= length in
        /// hours x GPUs.
        #[test]
        fn plausibility_matches_the_decimal_rule(
            milli in 1i64..10_000_000_000,
            micros in 1i64..400_000_000_000,
            gpus in 1i64..10_000_000,
        ) {
            let hours = Decimal::new(milli, 3);
            let capacity = Decimal::new(micros, 6) / Decimal::from(3_600) * Decimal::from(gpus);
            let exact = Decimal::from(milli) * Decimal::from(3_600_000_000i64) <= Decimal::from(micros) * Decimal::from(gpus) * Decimal::from(1_000);
            prop_assert_eq!(holds_hours(GpuHours::from_milli(milli), micros, gpus), exact);
            // Away from the boundary the rounded division agrees too.
            if (hours - capacity).abs() > Decimal::new(1, 6) {
                prop_assert_eq!(exact, hours <= capacity);
            }
        }

        #[test]
        fn never_above_the_award_and_records_sum_to_the_debit(
            sizes in proptest::collection::vec(1i64..3_000, 1..200),
            awarded in 1i64..200,
            already in 0i64..200_000,
        ) {
            let mut awards = HashMap::from([("a1".to_string(), meter("f1", awarded))]);
            let award = awards.get_mut("a1").unwrap();
            award.used = GpuHours::from_milli(already.min(award.awarded.milli()));
            let used_before = award.used;
            let batch: Vec<UsageRecord> =
                sizes.iter().enumerate().map(|(i, s)| record(&format!("r{i}"), "a1", *s)).collect();
            let plan = evaluate_batch(&facility("f1"), &batch, &awards, &HashMap::new(), received()).unwrap();
            let accepted_hours: i64 = batch
                .iter()
                .zip(&plan.outcomes)
                .filter(|(_, o)| matches!(o, RecordOutcome::Accepted { .. }))
                .map(|(r, _)| r.gpu_hours.milli())
                .sum();
            let accepted_subsidy: i64 = plan
                .outcomes
                .iter()
                .filter_map(|o| match o { RecordOutcome::Accepted { subsidy } => Some(subsidy.get()), _ => None })
                .sum();
            prop_assert!(used_before.milli() + accepted_hours <= awards["a1"].awarded.milli());
            let debited_hours: i64 = plan.debits.iter().map(|d| d.hours.milli()).sum();
            let debited_subsidy: i64 = plan.debits.iter().map(|d| d.subsidy.get()).sum();
            prop_assert_eq!(debited_hours, accepted_hours);
            prop_assert_eq!(debited_subsidy, accepted_subsidy);
        }
    }
}
