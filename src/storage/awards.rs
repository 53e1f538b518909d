//! Awards of GPU-hours: made in one transaction with every check, lapsed when they end, and
//! the views over them (per award, call, facility capacity by quarter, SME, public register).
//!
//! Ledger: an award commits its aid value from the call's budget (`Dr 1030 / Cr 1020`, party =
//! the SME); at its end the unused part returns to the pool (`Dr 1010 / Cr 1030`).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::grants::{application_row, call_facilities, call_row, granted_to_undertaking, reviews_of};
use super::ledger::{post_entry, standard_account, NewEntry};
use super::schema::{
    award_capacity, award_undertakings, facility_quarter_usage, grant_applications, grant_awards, grant_calls,
};
use super::structure::{get_facility, price_on};
use super::{new_id, not_in_list, now_micros, DbConnection, PageOf};
use crate::domain::chart::{COMPUTE_GRANT_AWARDED, COMPUTE_GRANT_COMMITTED, COMPUTE_GRANT_POOL};
use crate::domain::grants::{
    award_intensity, check_award, check_capacity, lapses_on, latest_end_lapsing_on, single_undertaking,
    ApplicationStatus,
};
use crate::domain::hours::{split_by_quarter, GpuHours, Quarter, AWARD_QUARTERS_MAX};
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::domain::state_aid::{aid_value, check_single_undertaking, AidBasis};
use crate::error::{AppError, AppResult, Message};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = grant_awards)]
pub struct AwardRow {
    pub id: String,
    pub application_id: String,
    pub call_id: String,
    pub fund_id: String,
    pub sme_id: String,
    pub undertaking_key: String,
    pub legal_name: String,
    pub country: String,
    pub facility_id: String,
    pub award_date: NaiveDate,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub aid_basis: String,
    pub sme_category: String,
    pub intensity_percent: String,
    pub price_cents: i64,
    pub awarded_milli_hours: i64,
    pub used_milli_hours: i64,
    pub aid_value_cents: i64,
    pub subsidy_used_cents: i64,
    pub status: String,
    pub lapsed_milli_hours: Option<i64>,
    pub returned_cents: Option<i64>,
    pub entry_id: String,
    pub lapse_entry_id: Option<String>,
    pub actor: String,
    pub created_at: chrono::NaiveDateTime,
    pub registration_number: String,
    pub nace_code: Option<String>,
    pub nuts2_region: Option<String>,
}

impl AwardRow {
    pub fn intensity(&self) -> AppResult<Decimal> {
        self.intensity_percent
            .parse()
            .map_err(|_| AppError::internal(format!("award {} has a malformed intensity", self.id)))
    }

    pub fn awarded(&self) -> GpuHours {
        GpuHours::from_milli(self.awarded_milli_hours)
    }

    pub fn used(&self) -> GpuHours {
        GpuHours::from_milli(self.used_milli_hours)
    }

    pub fn is_running(&self) -> bool {
        self.status == ApplicationStatus::Awarded.as_str()
    }
}

/// An award with what has been used of it and what remains, in GPU-hours and in EUR.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Award {
    pub id: String,
    pub application_id: String,
    pub call_id: String,
    pub sme_id: String,
    pub legal_name: String,
    pub facility_id: String,
    /// awarded (period not begun), active, completed or expired
    pub status: String,
    pub award_date: NaiveDate,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub aid_basis: AidBasis,
    pub sme_category: String,
    #[schema(value_type = String, example = "70")]
    pub intensity_percent: Decimal,
    /// List price per GPU-hour on the award date; the award keeps it.
    #[schema(value_type = String)]
    pub price_per_gpu_hour: Cents,
    #[schema(value_type = String)]
    pub awarded_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub used_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub remaining_gpu_hours: GpuHours,
    /// Awarded hours x price x intensity: the money committed from the call's budget.
    #[schema(value_type = String)]
    pub aid_value: Cents,
    #[schema(value_type = String)]
    pub subsidy_used: Cents,
    #[schema(value_type = String)]
    pub subsidy_remaining: Cents,
    #[schema(value_type = Option<String>)]
    pub lapsed_gpu_hours: Option<GpuHours>,
    /// Money the lapse returned to the compute-grant pool.
    #[schema(value_type = Option<String>)]
    pub returned_to_pool: Option<Cents>,
    pub entry_id: String,
    pub lapse_entry_id: Option<String>,
}

impl AwardRow {
    pub fn view(&self, today: NaiveDate) -> AppResult<Award> {
        let status = ApplicationStatus::parse(&self.status)
            .ok_or_else(|| AppError::internal(format!("award {} has unknown status", self.id)))?;
        let aid = Cents::new(self.aid_value_cents);
        let used = Cents::new(self.subsidy_used_cents);
        let remaining_money = if self.is_running() { aid.checked_sub(used)? } else { Cents::ZERO };
        let remaining_hours =
            if self.is_running() { self.awarded().saturating_sub(self.used()) } else { GpuHours::ZERO };
        Ok(Award {
            id: self.id.clone(),
            application_id: self.application_id.clone(),
            call_id: self.call_id.clone(),
            sme_id: self.sme_id.clone(),
            legal_name: self.legal_name.clone(),
            facility_id: self.facility_id.clone(),
            status: status.shown(self.start_date, today).into(),
            award_date: self.award_date,
            start_date: self.start_date,
            end_date: self.end_date,
            aid_basis: AidBasis::parse(&self.aid_basis)
                .ok_or_else(|| AppError::internal(format!("award {} has unknown aid basis", self.id)))?,
            sme_category: self.sme_category.clone(),
            intensity_percent: self.intensity()?,
            price_per_gpu_hour: Cents::new(self.price_cents),
            awarded_gpu_hours: self.awarded(),
            used_gpu_hours: self.used(),
            remaining_gpu_hours: remaining_hours,
            aid_value: aid,
            subsidy_used: used,
            subsidy_remaining: remaining_money,
            lapsed_gpu_hours: self.lapsed_milli_hours.map(GpuHours::from_milli),
            returned_to_pool: self.returned_cents.map(Cents::new),
            entry_id: self.entry_id.clone(),
            lapse_entry_id: self.lapse_entry_id.clone(),
        })
    }
}

/// Hours each quarter of a facility is already held by awards.
fn reserved_by_quarter(
    conn: &mut DbConnection,
    facility_id: &str,
    from: Quarter,
    to: Quarter,
) -> AppResult<HashMap<Quarter, GpuHours>> {
    let rows: Vec<(i32, i64)> = award_capacity::table
        .filter(award_capacity::facility_id.eq(facility_id))
        .filter(award_capacity::quarter_key.between(from.key(), to.key()))
        .select((award_capacity::quarter_key, award_capacity::milli_hours))
        .load(conn)?;
    let mut reserved: HashMap<Quarter, GpuHours> = HashMap::new();
    for (key, milli) in rows {
        let entry = reserved.entry(Quarter::from_key(key)).or_default();
        *entry = entry.saturating_add(GpuHours::from_milli(milli));
    }
    Ok(reserved)
}

/// Awards an application (staff), `hours` adjusted down from the request if given.
///
/// In one transaction: the review conditions of the call, the price on the award date, the
/// aid value, the call's remaining budget, the de minimis ceiling over every de minimis award
/// of the undertaking, the facility's capacity in each quarter of the period; then the award,
/// its capacity, the call's commitment, the application's status and the journal entry.
pub fn award(conn: &mut DbConnection, application_id: &str, hours: Option<GpuHours>, actor: &str) -> AppResult<Award> {
    let app = application_row(conn, application_id)?;
    if !app.status()?.may_become(ApplicationStatus::Awarded) {
        return Err(AppError::rule(
            "not-under-review",
            Message::new("msg-not-submitted-award").word("status", "status", &app.status),
        ));
    }
    let call = call_row(conn, &app.call_id)?;
    let terms = call.terms(call_facilities(conn, &call.id)?)?;
    let requested = GpuHours::from_milli(app.requested_milli_hours);
    let awarded = hours.unwrap_or(requested);
    let scores: Vec<i32> = reviews_of(conn, application_id)?.iter().map(|r| r.score).collect();
    check_award(&terms, &scores, requested, awarded)
        .map_err(|e| AppError::rule_on(e.code(), "gpu_hours", e.message()))?;
    let now = now_micros();
    let today = now.date();
    let price = price_on(conn, &app.facility_id, today)?.price_per_gpu_hour;
    let category = app.category()?;
    let facts = app.input()?.facts();
    let intensity = award_intensity(&terms, &facts, category, awarded, price)?
        .ok_or_else(|| AppError::rule("not-an-sme", "the applicant is not an SME"))?
        .map_err(|e| AppError::rule_on("cumulation-exceeded", "gpu_hours", e.message()))?;
    let aid = aid_value(awarded.milli(), price, intensity)?;
    if aid.is_zero() {
        return Err(AppError::rule_on("hours-not-awardable", "gpu_hours", "the award would be worth less than a cent"));
    }
    let remaining = call.remaining();
    if aid > remaining {
        return Err(AppError::rule_on(
            "budget-exhausted",
            "gpu_hours",
            Message::new("msg-budget-exhausted").amount("aid", aid).amount("remaining", remaining),
        ));
    }
    let members = single_undertaking(&facts);
    if terms.aid_basis == AidBasis::DeMinimis {
        let granted = granted_to_undertaking(conn, &facts)?;
        if let Err(exceeded) = check_single_undertaking(today, &members, &granted, aid)? {
            return Err(AppError::rule_on("de-minimis-exceeded", "gpu_hours", exceeded.message()));
        }
    }
    let split = split_by_quarter(app.start_date, app.end_date, awarded).map_err(|e| AppError::field("end_date", e))?;
    let facility = get_facility(conn, &app.facility_id)?;
    let (first, last) = (Quarter::of(app.start_date), Quarter::of(app.end_date));
    let reserved = reserved_by_quarter(conn, &facility.id, first, last)?;
    let capacity = GpuHours::from_whole(facility.quarterly_capacity_gpu_hours).map_err(AppError::internal)?;
    check_capacity(capacity, |q| reserved.get(&q).copied().unwrap_or_default(), &split)
        .map_err(|short| AppError::rule_on("capacity-exhausted", "gpu_hours", short.message()))?;

    let id = new_id();
    let entry = post_award_entry(conn, &call.fund_id, &id, &app.sme_id, &call.id, aid, actor, today, &app.legal_name)?;
    let row = AwardRow {
        id: id.clone(),
        application_id: app.id.clone(),
        call_id: call.id.clone(),
        fund_id: call.fund_id.clone(),
        sme_id: app.sme_id.clone(),
        undertaking_key: app.undertaking_key.clone(),
        legal_name: app.legal_name.clone(),
        country: app.country.clone(),
        facility_id: app.facility_id.clone(),
        award_date: today,
        start_date: app.start_date,
        end_date: app.end_date,
        aid_basis: terms.aid_basis.as_str().into(),
        sme_category: category.as_str().into(),
        intensity_percent: intensity.normalize().to_string(),
        price_cents: price.get(),
        awarded_milli_hours: awarded.milli(),
        used_milli_hours: 0,
        aid_value_cents: aid.get(),
        subsidy_used_cents: 0,
        status: ApplicationStatus::Awarded.as_str().into(),
        lapsed_milli_hours: None,
        returned_cents: None,
        entry_id: entry,
        lapse_entry_id: None,
        actor: actor.into(),
        created_at: now,
        registration_number: app.registration_number.clone(),
        nace_code: facts.nace_code.clone(),
        nuts2_region: facts.nuts2_region.clone(),
    };
    diesel::insert_into(grant_awards::table).values(&row).execute(conn)?;
    // Every member of the single undertaking, so later applicants linked to any of them find
    // this aid (docs/grants.md, "De minimis").
    let keys: std::collections::BTreeSet<String> = members.into_iter().map(|m| m.key).collect();
    let member_rows: Vec<_> = keys
        .iter()
        .map(|key| (award_undertakings::award_id.eq(&id), award_undertakings::undertaking_key.eq(key)))
        .collect();
    super::batch_insert!(conn, award_undertakings::table, &member_rows);
    let holds: Vec<_> = split
        .iter()
        .map(|(quarter, hours)| {
            (
                award_capacity::award_id.eq(&id),
                award_capacity::facility_id.eq(&facility.id),
                award_capacity::quarter_key.eq(quarter.key()),
                award_capacity::milli_hours.eq(hours.milli()),
            )
        })
        .collect();
    super::batch_insert!(conn, award_capacity::table, &holds);
    diesel::update(grant_calls::table.find(&call.id))
        .set(grant_calls::committed_cents.eq(grant_calls::committed_cents + aid.get()))
        .execute(conn)?;
    diesel::update(grant_applications::table.find(&app.id))
        .set((
            grant_applications::status.eq(ApplicationStatus::Awarded.as_str()),
            grant_applications::decided_at.eq(Some(now)),
            grant_applications::decided_by.eq(Some(actor)),
            grant_applications::updated_at.eq(now),
        ))
        .execute(conn)?;
    row.view(today)
}

#[allow(clippy::too_many_arguments)]
fn post_award_entry(
    conn: &mut DbConnection,
    fund_id: &str,
    award_id: &str,
    sme_id: &str,
    call_id: &str,
    aid: Cents,
    actor: &str,
    date: NaiveDate,
    beneficiary: &str,
) -> AppResult<String> {
    let awarded = standard_account(conn, fund_id, COMPUTE_GRANT_AWARDED)?;
    let committed = standard_account(conn, fund_id, COMPUTE_GRANT_COMMITTED)?;
    let entry = post_entry(
        conn,
        NewEntry {
            fund_id: fund_id.into(),
            effective_date: date,
            actor: actor.into(),
            event_type: "grant_award".into(),
            event_id: award_id.into(),
            description: format!("compute grant awarded to {beneficiary}"),
            reverses_entry_id: None,
            amount_field: "gpu_hours",
            date_field: "gpu_hours",
            postings: vec![
                PostingLine {
                    account_id: awarded.id,
                    amount: aid,
                    party_id: Some(sme_id.into()),
                    memo: "award".into(),
                },
                PostingLine {
                    account_id: committed.id,
                    amount: aid.checked_neg()?,
                    party_id: Some(call_id.into()),
                    memo: "award".into(),
                },
            ],
        },
    )?;
    Ok(entry.id)
}

pub fn award_row(conn: &mut DbConnection, award_id: &str) -> AppResult<AwardRow> {
    grant_awards::table
        .find(award_id)
        .select(AwardRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("award {award_id}")))
}

pub fn get_award(conn: &mut DbConnection, award_id: &str) -> AppResult<Award> {
    award_row(conn, award_id)?.view(now_micros().date())
}

#[derive(Clone, Debug, Default)]
pub struct AwardFilter {
    pub call_id: Option<String>,
    pub sme_id: Option<String>,
    pub facility_id: Option<String>,
}

/// Awards the pages list at most (the API pages through them all).
pub const AWARDS_LIST_MAX: i64 = 10_000;

pub fn list_awards(conn: &mut DbConnection, filter: &AwardFilter) -> AppResult<Vec<Award>> {
    Ok(page_of_awards(conn, filter, None, AWARDS_LIST_MAX)?.items)
}

/// A page of the awards `filter` selects, in the order of their ids, after the award `after`.
pub fn page_of_awards(
    conn: &mut DbConnection,
    filter: &AwardFilter,
    after: Option<&str>,
    limit: i64,
) -> AppResult<PageOf<Award>> {
    let mut query = grant_awards::table.into_boxed();
    if let Some(call) = &filter.call_id {
        query = query.filter(grant_awards::call_id.eq(call.clone()));
    }
    if let Some(sme) = &filter.sme_id {
        query = query.filter(grant_awards::sme_id.eq(sme.clone()));
    }
    if let Some(facility) = &filter.facility_id {
        query = query.filter(grant_awards::facility_id.eq(facility.clone()));
    }
    if let Some(after) = after {
        let (call, sme, facility): (String, String, String) = grant_awards::table
            .find(after)
            .select((grant_awards::call_id, grant_awards::sme_id, grant_awards::facility_id))
            .first(conn)
            .optional()?
            .ok_or_else(not_in_list)?;
        let selected = |wanted: &Option<String>, value: &String| wanted.as_ref().is_none_or(|w| w == value);
        if !(selected(&filter.call_id, &call)
            && selected(&filter.sme_id, &sme)
            && selected(&filter.facility_id, &facility))
        {
            return Err(not_in_list());
        }
        query = query.filter(grant_awards::id.gt(after.to_string()));
    }
    let rows: Vec<AwardRow> =
        query.order(grant_awards::id.asc()).limit(limit + 1).select(AwardRow::as_select()).load(conn)?;
    let today = now_micros().date();
    PageOf::from_rows(rows, limit, |row| row.id.clone()).try_map(|row| row.view(today))
}

/// Running awards whose period ends from `from` to `to`, soonest first, at most `limit`: read
/// from the index of running awards by end date, however many awards there are.
pub fn awards_ending_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> AppResult<Vec<Award>> {
    let rows: Vec<AwardRow> = grant_awards::table
        .filter(grant_awards::status.eq(ApplicationStatus::Awarded.as_str()))
        .filter(grant_awards::end_date.between(from, to))
        .order((grant_awards::end_date.asc(), grant_awards::id.asc()))
        .limit(limit)
        .select(AwardRow::as_select())
        .load(conn)?;
    let today = now_micros().date();
    rows.into_iter().map(|row| row.view(today)).collect()
}

/// What a lapse did to one award.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Lapse {
    pub award_id: String,
    /// completed (every hour used) or expired (unused hours lapsed)
    pub status: String,
    #[schema(value_type = String)]
    pub lapsed_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub returned_to_pool: Cents,
    pub entry_id: Option<String>,
}

/// Awards one lapse run takes at most; the next run takes the rest.
pub const LAPSE_BATCH_MAX: i64 = 1_000;

/// Running awards that lapse on `as_of`: their period ended, and so did the days facilities
/// have to report its usage ([`lapses_on`]).
pub fn awards_due_to_lapse(conn: &mut DbConnection, as_of: NaiveDate) -> AppResult<Vec<String>> {
    let Some(latest_end) = latest_end_lapsing_on(as_of) else { return Ok(Vec::new()) };
    Ok(grant_awards::table
        .filter(grant_awards::status.eq(ApplicationStatus::Awarded.as_str()))
        .filter(grant_awards::end_date.le(latest_end))
        .order(grant_awards::end_date.asc())
        .limit(LAPSE_BATCH_MAX)
        .select(grant_awards::id)
        .load(conn)?)
}

/// Ends one award whose period and reporting days are over: unused hours lapse and the unused aid goes back to
/// the pool, dated the day after the award's end (or the award's date, if later). Run inside
/// `write_tx`; an award already ended is left alone, so running it twice (or on two nodes)
/// changes nothing.
pub fn lapse_award(conn: &mut DbConnection, award_id: &str, as_of: NaiveDate, actor: &str) -> AppResult<Option<Lapse>> {
    let award = award_row(conn, award_id)?;
    if !award.is_running() || !lapses_on(award.end_date, as_of) {
        return Ok(None);
    }
    let unused = award.awarded().saturating_sub(award.used());
    let returned = Cents::new(award.aid_value_cents).checked_sub(Cents::new(award.subsidy_used_cents))?;
    let status = if unused.is_zero() { ApplicationStatus::Completed } else { ApplicationStatus::Expired };
    // The day after the period, but never before the award itself was posted: an award made
    // for a period already past lapses on its own date, not before the money was committed.
    let effective = award.end_date.succ_opt().unwrap_or(award.end_date).max(award.award_date);
    let entry_id = if returned.is_zero() {
        None
    } else {
        let pool = standard_account(conn, &award.fund_id, COMPUTE_GRANT_POOL)?;
        let awarded = standard_account(conn, &award.fund_id, COMPUTE_GRANT_AWARDED)?;
        let memo = format!("{unused} GPU-hours lapsed");
        let entry = post_entry(
            conn,
            NewEntry {
                fund_id: award.fund_id.clone(),
                effective_date: effective,
                actor: actor.into(),
                event_type: "grant_lapse".into(),
                event_id: award.id.clone(),
                description: format!(
                    "award to {} ended {}: unused aid back to the compute-grant pool",
                    award.legal_name, award.end_date
                ),
                reverses_entry_id: None,
                amount_field: "as_of",
                date_field: "as_of",
                postings: vec![
                    PostingLine {
                        account_id: pool.id,
                        amount: returned,
                        party_id: Some(award.sme_id.clone()),
                        memo: memo.clone(),
                    },
                    PostingLine {
                        account_id: awarded.id,
                        amount: returned.checked_neg()?,
                        party_id: Some(award.sme_id.clone()),
                        memo,
                    },
                ],
            },
        )?;
        Some(entry.id)
    };
    diesel::update(grant_awards::table.find(&award.id))
        .set((
            grant_awards::status.eq(status.as_str()),
            grant_awards::lapsed_milli_hours.eq(Some(unused.milli())),
            grant_awards::returned_cents.eq(Some(returned.get())),
            grant_awards::lapse_entry_id.eq(entry_id.clone()),
        ))
        .execute(conn)?;
    diesel::update(grant_applications::table.find(&award.application_id))
        .set(grant_applications::status.eq(status.as_str()))
        .execute(conn)?;
    Ok(Some(Lapse {
        award_id: award.id,
        status: status.as_str().into(),
        lapsed_gpu_hours: unused,
        returned_to_pool: returned,
        entry_id,
    }))
}

/// Lapses every award due on `as_of`, each in its own transaction.
pub fn lapse_due(conn: &mut DbConnection, as_of: NaiveDate, actor: &str) -> AppResult<Vec<Lapse>> {
    let due = awards_due_to_lapse(conn, as_of)?;
    let mut done = Vec::with_capacity(due.len());
    for award_id in due {
        if let Some(lapse) = super::write_tx(conn, |c| lapse_award(c, &award_id, as_of, actor))? {
            done.push(lapse);
        }
    }
    Ok(done)
}

/// A call with what its awards hold and use.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CallSummary {
    pub call: super::grants::GrantCall,
    /// Applications by status.
    pub applications: BTreeMap<String, i64>,
    pub awards: i64,
    #[schema(value_type = String)]
    pub awarded_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub used_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub subsidy_used: Cents,
    #[schema(value_type = String)]
    pub returned_to_pool: Cents,
}

/// (awarded, used) thousandths of GPU-hours, subsidy used and returned cents of one award.
type AwardTotals = (i64, i64, i64, Option<i64>);

pub fn call_summary(conn: &mut DbConnection, call_id: &str) -> AppResult<CallSummary> {
    let call = super::grants::get_call(conn, call_id)?;
    let statuses: Vec<String> = grant_applications::table
        .filter(grant_applications::call_id.eq(call_id))
        .select(grant_applications::status)
        .load(conn)?;
    let mut applications = BTreeMap::new();
    for status in statuses {
        *applications.entry(status).or_insert(0) += 1;
    }
    let awards: Vec<AwardTotals> = grant_awards::table
        .filter(grant_awards::call_id.eq(call_id))
        .select((
            grant_awards::awarded_milli_hours,
            grant_awards::used_milli_hours,
            grant_awards::subsidy_used_cents,
            grant_awards::returned_cents,
        ))
        .load(conn)?;
    let sum = |f: fn(&AwardTotals) -> i64| awards.iter().map(f).sum::<i64>();
    Ok(CallSummary {
        call,
        applications,
        awards: awards.len() as i64,
        awarded_gpu_hours: GpuHours::from_milli(sum(|a| a.0)),
        used_gpu_hours: GpuHours::from_milli(sum(|a| a.1)),
        subsidy_used: Cents::new(sum(|a| a.2)),
        returned_to_pool: Cents::new(sum(|a| a.3.unwrap_or(0))),
    })
}

/// One quarter of a facility's capacity.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuarterCapacity {
    /// `2026-Q1`
    pub quarter: String,
    #[schema(value_type = String)]
    pub capacity_gpu_hours: GpuHours,
    /// Held by awards for this quarter.
    #[schema(value_type = String)]
    pub reserved_gpu_hours: GpuHours,
    /// Reported usage whose period starts in this quarter.
    #[schema(value_type = String)]
    pub used_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub free_gpu_hours: GpuHours,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FacilityCapacity {
    pub facility_id: String,
    pub name: String,
    pub quarters: Vec<QuarterCapacity>,
}

/// Capacity by quarter from `from` to `to` (at most [`AWARD_QUARTERS_MAX`] quarters).
pub fn facility_capacity(
    conn: &mut DbConnection,
    facility_id: &str,
    from: Quarter,
    to: Quarter,
) -> AppResult<FacilityCapacity> {
    let facility = get_facility(conn, facility_id)?;
    if to < from || (to.key() - from.key()) as usize >= AWARD_QUARTERS_MAX {
        return Err(AppError::invalid(
            "query.to",
            Message::new("msg-quarters-range").count("max", AWARD_QUARTERS_MAX - 1),
        ));
    }
    let capacity = GpuHours::from_whole(facility.quarterly_capacity_gpu_hours).map_err(AppError::internal)?;
    let reserved = reserved_by_quarter(conn, facility_id, from, to)?;
    let used: HashMap<i32, i64> = facility_quarter_usage::table
        .filter(facility_quarter_usage::facility_id.eq(facility_id))
        .filter(facility_quarter_usage::quarter_key.between(from.key(), to.key()))
        .select((facility_quarter_usage::quarter_key, facility_quarter_usage::milli_hours))
        .load::<(i32, i64)>(conn)?
        .into_iter()
        .collect();
    let mut quarters = Vec::new();
    let mut quarter = from;
    while quarter <= to {
        let held = reserved.get(&quarter).copied().unwrap_or_default();
        quarters.push(QuarterCapacity {
            quarter: quarter.to_string(),
            capacity_gpu_hours: capacity,
            reserved_gpu_hours: held,
            used_gpu_hours: GpuHours::from_milli(used.get(&quarter.key()).copied().unwrap_or(0)),
            free_gpu_hours: capacity.saturating_sub(held),
        });
        quarter = quarter.next();
    }
    Ok(FacilityCapacity { facility_id: facility.id, name: facility.name, quarters })
}

/// An SME's grants: its applications and awards with totals.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SmeGrants {
    pub sme_id: String,
    pub applications: Vec<super::grants::Application>,
    pub awards: Vec<Award>,
    #[schema(value_type = String)]
    pub awarded_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub used_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub remaining_gpu_hours: GpuHours,
    #[schema(value_type = String)]
    pub aid_value: Cents,
    #[schema(value_type = String)]
    pub subsidy_used: Cents,
}

pub fn sme_grants(conn: &mut DbConnection, sme_id: &str) -> AppResult<SmeGrants> {
    let filter = super::grants::ApplicationFilter { sme_id: Some(sme_id.into()), ..Default::default() };
    let applications = super::grants::list_applications(conn, &filter, super::grants::APPLICATIONS_PAGE_MAX)?;
    let awards = list_awards(conn, &AwardFilter { sme_id: Some(sme_id.into()), ..Default::default() })?;
    let hours = |f: fn(&Award) -> GpuHours| awards.iter().fold(GpuHours::ZERO, |acc, a| acc.saturating_add(f(a)));
    Ok(SmeGrants {
        sme_id: sme_id.into(),
        awarded_gpu_hours: hours(|a| a.awarded_gpu_hours),
        used_gpu_hours: hours(|a| a.used_gpu_hours),
        remaining_gpu_hours: hours(|a| a.remaining_gpu_hours),
        aid_value: Cents::sum(awards.iter().map(|a| a.aid_value))?,
        subsidy_used: Cents::sum(awards.iter().map(|a| a.subsidy_used))?,
        applications,
        awards,
    })
}
