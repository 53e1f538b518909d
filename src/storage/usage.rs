//! Metered GPU-hour usage from facilities: one write transaction per batch.
//!
//! Ledger, one entry per award and batch: the subsidy is an expense owed to the facility
//! (`Dr 5200 / Cr 2200`), and the pool money moves from the award's commitment to the cash
//! held for that payable (`Dr 1040 / Cr 1030`). Every stored record names its entry.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::awards::AwardRow;
use super::ledger::{post_entry, standard_account, NewEntry};
use super::schema::{grant_awards, usage_records};
use super::structure::get_facility;
use super::usage_sums;
use super::{new_id, now_micros, DbConnection};
use crate::domain::chart::{COMPUTE_GRANT_AWARDED, COMPUTE_GRANT_DUE, COMPUTE_SUBSIDIES, GRANT_COMMITMENTS_PAYABLE};
use crate::domain::hours::GpuHours;
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::domain::usage::{
    evaluate_batch, first_with_same_id, AwardDebit, AwardMeter, MeteredFacility, RecordOutcome, StoredRecord,
    UsageRecord,
};
use crate::error::{AppError, AppResult};

/// Ids per `IN (...)` lookup, well inside both backends' bind-parameter limits.
const LOOKUP_CHUNK: usize = 5_000;
/// Rows per multi-row INSERT of records on SQLite (9 columns each; it binds at most 32,766).
const INSERT_CHUNK: usize = 3_000;

/// What a batch did to one award.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AwardUsage {
    pub award_id: String,
    /// None while the award's hours so far earn less than a cent.
    pub entry_id: Option<String>,
    pub records: usize,
    #[schema(value_type = String)]
    pub gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub subsidy: Cents,
    #[schema(value_type = String)]
    pub used_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub remaining_gpu_hours: GpuHours,
}

/// A record that was not counted, and why.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RefusedRecord {
    /// Position in the batch, from 0.
    pub index: usize,
    pub record_id: String,
    pub code: String,
    /// Why, in English; the facility's upload page says it in its reader's language.
    #[schema(value_type = String)]
    pub reason: crate::error::Wording,
}

/// The answer to a batch. Records that count are `accepted`: new now, or `replayed` (sent
/// before, answered with their original entry). A replayed batch debits nothing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UsageReport {
    pub records: usize,
    pub accepted: usize,
    pub new: usize,
    pub replayed: usize,
    /// Of the replayed, those whose record id came earlier in this same batch.
    pub duplicates: usize,
    pub refused: usize,
    pub awards: Vec<AwardUsage>,
    pub refusals: Vec<RefusedRecord>,
}

/// A row of `usage_records`, as both reads see it.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = usage_records)]
struct UsageRow {
    record_id: String,
    award_id: String,
    milli_hours: i64,
    period_start_us: i64,
    period_end_us: i64,
    subsidy_cents: i64,
    entry_id: Option<String>,
    received_at_us: i64,
}

impl UsageRow {
    fn stored(self) -> StoredRecord {
        StoredRecord {
            record: UsageRecord {
                record_id: self.record_id,
                award_id: self.award_id,
                gpu_hours: GpuHours::from_milli(self.milli_hours),
                period_start: from_micros(self.period_start_us),
                period_end: from_micros(self.period_end_us),
            },
            subsidy: Cents::new(self.subsidy_cents),
            entry_id: self.entry_id.unwrap_or_default(),
        }
    }

    fn view(self) -> StoredUsage {
        StoredUsage {
            record_id: self.record_id,
            award_id: self.award_id,
            gpu_hours: GpuHours::from_milli(self.milli_hours),
            period_start: from_micros(self.period_start_us),
            period_end: from_micros(self.period_end_us),
            subsidy: Cents::new(self.subsidy_cents),
            entry_id: self.entry_id,
            received_at: from_micros(self.received_at_us),
        }
    }
}

/// A timestamp as stored: microseconds since 1970-01-01 UTC.
pub(super) fn to_micros(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_micros()
}

pub(super) fn from_micros(micros: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(micros).map_or(NaiveDateTime::MIN, |t| t.naive_utc())
}

fn stored_records(
    conn: &mut DbConnection,
    facility_id: &str,
    records: &[UsageRecord],
) -> AppResult<HashMap<String, StoredRecord>> {
    let mut stored = HashMap::new();
    let ids: Vec<&str> = records.iter().map(|r| r.record_id.as_str()).filter(|id| could_be_stored(id)).collect();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let of_facility = usage_records::table.filter(usage_records::facility_id.eq(facility_id));
        // This table grows fastest of all: planned at each execution.
        let rows: Vec<UsageRow> = match conn {
            // The ids hidden from the planner in a subquery, so it plans one probe of the primary
            // key per id whatever the table's statistics say. Shown the 5,000 ids of a chunk on a
            // table with no statistics yet, it took the facility's condition alone and read every
            // record of the facility (1.06 s a chunk at 2.68 million records; 18 ms so).
            DbConnection::Postgresql(pg) => of_facility
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("usage_records.record_id = ANY(ARRAY(SELECT unnest(")
                        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(chunk)
                        .sql(")))"),
                )
                .select(UsageRow::as_select())
                .load(pg)?,
            DbConnection::Sqlite(sqlite) => of_facility
                .filter(usage_records::record_id.eq_any(chunk))
                .filter(super::planned_each_time())
                .select(UsageRow::as_select())
                .load(sqlite)?,
        };
        for row in rows {
            stored.insert(row.record_id.clone(), row.stored());
        }
    }
    Ok(stored)
}

/// No stored id holds a control character, and PostgreSQL cannot take a NUL in a text
/// parameter: an id with one is not looked up, and its record is refused on its fields.
fn could_be_stored(id: &str) -> bool {
    !id.chars().any(char::is_control)
}

fn award_rows(conn: &mut DbConnection, records: &[UsageRecord]) -> AppResult<HashMap<String, AwardRow>> {
    let mut ids: Vec<&str> = records.iter().map(|r| r.award_id.as_str()).filter(|id| could_be_stored(id)).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut awards = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        // Awards grow with every call: a plan cached while the table was small scans it all.
        let rows: Vec<AwardRow> = grant_awards::table
            .filter(grant_awards::id.eq_any(chunk))
            .filter(super::planned_each_time())
            .select(AwardRow::as_select())
            .load(conn)?;
        for row in rows {
            awards.insert(row.id.clone(), row);
        }
    }
    Ok(awards)
}

fn meter(row: &AwardRow) -> AppResult<AwardMeter> {
    Ok(AwardMeter {
        facility_id: row.facility_id.clone(),
        running: row.is_running(),
        start_date: row.start_date,
        end_date: row.end_date,
        awarded: row.awarded(),
        used: row.used(),
        price: Cents::new(row.price_cents),
        intensity_percent: row.intensity()?,
    })
}

/// Counts a facility's batch. Run inside `write_tx`: evaluation, entries, award balances and
/// records commit together, so a batch is either wholly counted or not at all.
pub fn ingest(
    conn: &mut DbConnection,
    facility_id: &str,
    records: &[UsageRecord],
    actor: &str,
) -> AppResult<UsageReport> {
    ingest_with_outcomes(conn, facility_id, records, actor).map(|(report, _)| report)
}

/// `ingest`, with what became of each record, in order.
pub fn ingest_with_outcomes(
    conn: &mut DbConnection,
    facility_id: &str,
    records: &[UsageRecord],
    actor: &str,
) -> AppResult<(UsageReport, Vec<RecordOutcome>)> {
    let stored = stored_records(conn, facility_id, records)?;
    let rows = award_rows(conn, records)?;
    let meters = rows.iter().map(|(id, row)| Ok((id.clone(), meter(row)?))).collect::<AppResult<HashMap<_, _>>>()?;
    // A facility token whose facility is not registered reports nothing.
    let facility = metered_facility(conn, facility_id)?;
    let metered = MeteredFacility { id: facility.id, gpus_per_record_max: facility.gpus_per_record_max };
    let plan = evaluate_batch(&metered, records, &meters, &stored, now_micros())?;
    let batch_id = new_id();
    let today = now_micros().date();
    let counts = plan.accepted_by_award(records);
    let mut entries: HashMap<String, Option<String>> = HashMap::new();
    let mut awards = Vec::with_capacity(plan.debits.len());
    for debit in &plan.debits {
        let row = &rows[&debit.award_id];
        let count = counts.get(debit.award_id.as_str()).map_or(0, Vec::len);
        let entry_id = post_usage_entry(conn, row, debit, count, &batch_id, actor, today)?;
        diesel::update(grant_awards::table.find(&debit.award_id))
            .set((
                grant_awards::used_milli_hours.eq(debit.used_after.milli()),
                grant_awards::subsidy_used_cents.eq(grant_awards::subsidy_used_cents + debit.subsidy.get()),
            ))
            .execute(conn)?;
        awards.push(AwardUsage {
            award_id: debit.award_id.clone(),
            entry_id: entry_id.clone(),
            records: count,
            gpu_hours: debit.hours,
            subsidy: debit.subsidy,
            used_gpu_hours: debit.used_after,
            remaining_gpu_hours: row.awarded().saturating_sub(debit.used_after),
        });
        entries.insert(debit.award_id.clone(), entry_id);
    }
    insert_records(conn, facility_id, records, &plan.outcomes, &entries)?;
    usage_sums::add_batch(conn, facility_id, records, &plan.outcomes, &entries)?;
    Ok((report(records, &plan.outcomes, awards), plan.outcomes))
}

/// The facility a token speaks for; one whose facility is not registered reports nothing.
pub fn metered_facility(conn: &mut DbConnection, facility_id: &str) -> AppResult<super::structure::Facility> {
    get_facility(conn, facility_id).map_err(|error| match error {
        AppError::NotFound(_) => AppError::Forbidden(format!("no facility {facility_id} is registered")),
        other => other,
    })
}

/// A usage record as written: every column given (none left to its default), as `COPY` needs.
#[derive(Insertable)]
#[diesel(table_name = usage_records, treat_none_as_default_value = false)]
struct NewUsageRow<'a> {
    facility_id: &'a str,
    record_id: &'a str,
    award_id: &'a str,
    milli_hours: i64,
    period_start_us: i64,
    period_end_us: i64,
    subsidy_cents: i64,
    entry_id: Option<String>,
    received_at_us: i64,
}

/// Writes the accepted records: on PostgreSQL with one binary `COPY ... FROM STDIN` inside the
/// write transaction (a batch of 10,000 would otherwise bind 90,000 parameters), on SQLite as
/// multi-row `INSERT`s.
fn insert_records(
    conn: &mut DbConnection,
    facility_id: &str,
    records: &[UsageRecord],
    outcomes: &[RecordOutcome],
    entries: &HashMap<String, Option<String>>,
) -> AppResult<()> {
    let received_at = to_micros(now_micros());
    let rows: Vec<NewUsageRow<'_>> = records
        .iter()
        .zip(outcomes)
        .filter_map(|(record, outcome)| match outcome {
            RecordOutcome::Accepted { subsidy } => Some(NewUsageRow {
                facility_id,
                record_id: &record.record_id,
                award_id: &record.award_id,
                milli_hours: record.gpu_hours.milli(),
                period_start_us: to_micros(record.period_start),
                period_end_us: to_micros(record.period_end),
                subsidy_cents: subsidy.get(),
                entry_id: entries.get(&record.award_id).cloned().flatten(),
                received_at_us: received_at,
            }),
            _ => None,
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Postgresql(pg) => {
            let copied = diesel::copy_from(usage_records::table).from_insertable(&rows).execute(pg)?;
            if copied != rows.len() {
                return Err(AppError::internal(format!("COPY wrote {copied} of {} usage records", rows.len())));
            }
        }
        DbConnection::Sqlite(sqlite) => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(usage_records::table).values(chunk).execute(sqlite)?;
            }
        }
    }
    Ok(())
}

fn report(records: &[UsageRecord], outcomes: &[RecordOutcome], awards: Vec<AwardUsage>) -> UsageReport {
    let mut new = 0;
    let mut replayed = 0;
    let mut duplicates = 0;
    let first = first_with_same_id(records);
    let mut refusals = Vec::new();
    for (index, (record, outcome)) in records.iter().zip(outcomes).enumerate() {
        match outcome {
            RecordOutcome::Accepted { .. } => new += 1,
            RecordOutcome::Replayed { .. } => {
                replayed += 1;
                duplicates += usize::from(first[index] != index);
            }
            RecordOutcome::Refused { code, reason } => refusals.push(RefusedRecord {
                index,
                record_id: record.record_id.clone(),
                code: code.clone(),
                reason: reason.clone(),
            }),
        }
    }
    UsageReport {
        records: records.len(),
        accepted: new + replayed,
        new,
        replayed,
        duplicates,
        refused: refusals.len(),
        awards,
        refusals,
    }
}

fn post_usage_entry(
    conn: &mut DbConnection,
    award: &AwardRow,
    debit: &AwardDebit,
    records: usize,
    batch_id: &str,
    actor: &str,
    date: chrono::NaiveDate,
) -> AppResult<Option<String>> {
    if debit.subsidy.is_zero() {
        // Hours too few to earn a cent yet: the records are kept, with no money to post.
        return Ok(None);
    }
    let fund = &award.fund_id;
    let expense = standard_account(conn, fund, COMPUTE_SUBSIDIES)?;
    let payable = standard_account(conn, fund, GRANT_COMMITMENTS_PAYABLE)?;
    let due = standard_account(conn, fund, COMPUTE_GRANT_DUE)?;
    let awarded = standard_account(conn, fund, COMPUTE_GRANT_AWARDED)?;
    let amount = debit.subsidy;
    let credit = amount.checked_neg()?;
    let sme = Some(award.sme_id.clone());
    let facility = Some(award.facility_id.clone());
    let memo = format!("award {}: {} GPU-hours in {records} records", award.id, debit.hours);
    let line = |account_id: String, amount: Cents, party: &Option<String>| PostingLine {
        account_id,
        amount,
        party_id: party.clone(),
        memo: memo.clone(),
    };
    let entry = post_entry(
        conn,
        NewEntry {
            fund_id: fund.clone(),
            effective_date: date,
            actor: actor.into(),
            event_type: "grant_usage".into(),
            event_id: batch_id.into(),
            description: format!("GPU-hours used under the award to {}", award.legal_name),
            reverses_entry_id: None,
            amount_field: "records",
            date_field: "records",
            postings: vec![
                line(expense.id, amount, &sme),
                line(payable.id, credit, &facility),
                line(due.id, amount, &facility),
                line(awarded.id, credit, &sme),
            ],
        },
    )?;
    Ok(Some(entry.id))
}

/// Largest page of an award's records.
pub const RECORDS_PAGE_MAX: i64 = 1_000;

/// A stored usage record.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StoredUsage {
    pub record_id: String,
    pub award_id: String,
    #[schema(value_type = String)]
    pub gpu_hours: GpuHours,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub period_start: NaiveDateTime,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub period_end: NaiveDateTime,
    #[schema(value_type = String)]
    pub subsidy: Cents,
    /// The journal entry that posted it; none if its hours earned less than a cent.
    pub entry_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub received_at: NaiveDateTime,
}

/// An award's records in record-id order, after `after`.
pub fn award_records(
    conn: &mut DbConnection,
    award_id: &str,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<StoredUsage>> {
    let mut query = usage_records::table.filter(usage_records::award_id.eq(award_id)).into_boxed();
    if let Some(after) = after {
        query = query.filter(usage_records::record_id.gt(after.to_string()));
    }
    Ok(query
        .order(usage_records::record_id.asc())
        // One row beyond the largest page tells a list that more follow.
        .limit(limit.clamp(1, RECORDS_PAGE_MAX + 1))
        .select(UsageRow::as_select())
        .load(conn)?
        .into_iter()
        .map(UsageRow::view)
        .collect())
}
