//! Waterfall terms, distributions, write-downs and hypothetical liquidation: the storage side
//! of `domain::waterfall`. Positions are rebuilt from the recorded facts (contributions,
//! distribution lines, loss allocations) as of any date, so the engine always sees the truth.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::commitments::{commitment_rows, committed_on, CommitmentFilter};
use super::ledger::{account_balance, account_by_code, find_account_by_code, post_entry, NewEntry};
use super::schema::{
    capital_calls, contributions, distribution_lines, distributions, loss_allocations, notices, sources,
    waterfall_terms, write_downs,
};
use super::structure::{get_facility, list_tranches};
use super::{new_id, now_micros, DbConnection};
use crate::domain::chart::{self, tranche_account, ALLOCATED_GAINS_LOSSES, CASH, INVESTMENTS_EQUITY};
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::domain::waterfall::{self, Allocation, CapitalFlow, Position, Step, Target, Terms, TrancheTerms};
use crate::error::{AppError, AppResult, FieldError, Message, OutOfOrder};

/// Positions one fund may hold: bounds every rebuild of the state.
pub const POSITIONS_PER_FUND_MAX: i64 = 100_000;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TermsVersion {
    pub fund_id: String,
    pub version: i32,
    pub terms: Terms,
    pub actor: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
}

pub fn tranche_terms(conn: &mut DbConnection, fund_id: &str) -> AppResult<Vec<TrancheTerms>> {
    Ok(list_tranches(conn, fund_id)?
        .into_iter()
        .map(|t| TrancheTerms {
            id: t.id,
            name: t.name,
            seniority: t.seniority,
            pref_rate: t.pref_rate,
            return_cap: t.return_cap,
        })
        .collect())
}

fn account_targets(terms: &Terms) -> Vec<(String, String)> {
    let mut accounts = Vec::new();
    for (index, step) in terms.steps.iter().enumerate() {
        match step {
            Step::Fee { account, .. } | Step::Reserve { account, .. } => {
                accounts.push((format!("steps[{index}].account"), account.clone()))
            }
            Step::CatchUp { beneficiary: Target::Account(code), .. } => {
                accounts.push((format!("steps[{index}].beneficiary"), code.clone()))
            }
            Step::Split { shares } => {
                for (i, share) in shares.iter().enumerate() {
                    if let Target::Account(code) = &share.target {
                        accounts.push((format!("steps[{index}].shares[{i}]"), code.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    accounts
}

/// Checks terms against the fund's tranches and chart of accounts; 400 naming each path.
pub fn check_terms(conn: &mut DbConnection, fund_id: &str, terms: &Terms) -> AppResult<Vec<TrancheTerms>> {
    let tranches = tranche_terms(conn, fund_id)?;
    let mut errors: Vec<FieldError> = waterfall::validate(terms, &tranches)
        .into_iter()
        .chain(waterfall::repeated_receivers(terms))
        .map(|(p, r)| FieldError::new(p, r))
        .collect();
    for (path, code) in account_targets(terms) {
        if let Some(reason) = chart::waterfall_target_refusal(&code) {
            errors.push(FieldError::new(path, format!("a waterfall step cannot pay to account {code}: {reason}")));
        } else if find_account_by_code(conn, fund_id, &code)?.is_none() {
            errors.push(FieldError::new(path, format!("no account {code} in this fund's chart")));
        }
    }
    if errors.is_empty() {
        Ok(tranches)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Stores a new version of the fund's waterfall.
pub fn set_terms(conn: &mut DbConnection, fund_id: &str, terms: Terms, actor: &str) -> AppResult<TermsVersion> {
    check_terms(conn, fund_id, &terms)?;
    let version = next_version(conn, fund_id)?;
    let text = serde_json::to_string(&terms).map_err(AppError::internal)?;
    let created_at = now_micros();
    diesel::insert_into(waterfall_terms::table)
        .values((
            waterfall_terms::id.eq(new_id()),
            waterfall_terms::fund_id.eq(fund_id),
            waterfall_terms::version.eq(version),
            waterfall_terms::terms.eq(text),
            waterfall_terms::actor.eq(actor),
            waterfall_terms::created_at.eq(created_at),
        ))
        .execute(conn)?;
    Ok(TermsVersion { fund_id: fund_id.into(), version, terms, actor: actor.into(), created_at })
}

/// The number the fund's next terms will get when stored.
fn next_version(conn: &mut DbConnection, fund_id: &str) -> AppResult<i32> {
    let latest: Option<i32> = waterfall_terms::table
        .filter(waterfall_terms::fund_id.eq(fund_id))
        .select(diesel::dsl::max(waterfall_terms::version))
        .first(conn)?;
    Ok(latest.unwrap_or(0) + 1)
}

pub fn list_terms(conn: &mut DbConnection, fund_id: &str) -> AppResult<Vec<TermsVersion>> {
    let rows: Vec<(i32, String, String, NaiveDateTime)> = waterfall_terms::table
        .filter(waterfall_terms::fund_id.eq(fund_id))
        .order(waterfall_terms::version.asc())
        .select((waterfall_terms::version, waterfall_terms::terms, waterfall_terms::actor, waterfall_terms::created_at))
        .load(conn)?;
    rows.into_iter()
        .map(|(version, text, actor, created_at)| {
            let terms =
                serde_json::from_str(&text).map_err(|e| AppError::internal(format!("stored terms v{version}: {e}")))?;
            Ok(TermsVersion { fund_id: fund_id.into(), version, terms, actor, created_at })
        })
        .collect()
}

pub fn current_terms(conn: &mut DbConnection, fund_id: &str) -> AppResult<TermsVersion> {
    list_terms(conn, fund_id)?
        .pop()
        .ok_or_else(|| AppError::rule("no-waterfall", "the fund has no waterfall terms yet; set them first"))
}

/// The terms in force at the end of `on`: the last version saved on or before that day (UTC),
/// or the first version for a day before any was saved. A later version leaves a past date's
/// values, and every statement over it, as they were.
pub fn terms_in_force(conn: &mut DbConnection, fund_id: &str, on: NaiveDate) -> AppResult<TermsVersion> {
    let mut versions = list_terms(conn, fund_id)?;
    let count = versions.iter().take_while(|v| v.created_at.date() <= on).count().max(1);
    versions.truncate(count);
    versions.pop().ok_or_else(|| AppError::rule("no-waterfall", "the fund has no waterfall terms yet; set them first"))
}

/// A position and whose it is.
#[derive(Clone, Debug)]
pub struct PositionState {
    pub position: Position,
    pub source_id: String,
    /// Write-downs allocated to it so far.
    pub losses: Cents,
    /// Distributions received, dated, for metrics.
    pub received: Vec<(NaiveDate, Cents)>,
}

/// Every position of the fund as it stood at the end of `as_of`.
pub fn positions_as_of(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<Vec<PositionState>> {
    let filter = CommitmentFilter { fund_id: Some(fund_id.to_string()), ..Default::default() };
    let rows = commitment_rows(conn, &filter, POSITIONS_PER_FUND_MAX + 1)?;
    // Refused, never cut short: a valuation or an allocation over some of the positions would
    // give the others' share to those counted.
    if rows.len() as i64 > POSITIONS_PER_FUND_MAX {
        return Err(AppError::rule(
            "too-many-positions",
            Message::new("msg-too-many-positions").count("max", POSITIONS_PER_FUND_MAX),
        ));
    }
    // What each had committed by `as_of`: an amendment or a commitment dated later is not in it.
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let committed_then = committed_on(conn, &ids, as_of)?;
    let mut states: BTreeMap<String, PositionState> = rows
        .into_iter()
        .map(|c| {
            let state = PositionState {
                position: Position {
                    id: c.id.as_str().into(),
                    tranche_id: c.tranche_id,
                    committed: committed_then.get(&c.id).copied().unwrap_or(Cents::ZERO),
                    flows: Vec::new(),
                    pref_paid: Cents::ZERO,
                    profit_received: Cents::ZERO,
                    total_received: Cents::ZERO,
                },
                source_id: c.source_id,
                losses: Cents::ZERO,
                received: Vec::new(),
            };
            (c.id, state)
        })
        .collect();
    let paid_in: Vec<(String, NaiveDate, i64)> = contributions::table
        .inner_join(notices::table.on(notices::id.eq(contributions::notice_id)))
        .inner_join(capital_calls::table.on(capital_calls::id.eq(notices::call_id)))
        .filter(capital_calls::fund_id.eq(fund_id))
        .filter(contributions::value_date.le(as_of))
        .select((notices::commitment_id, contributions::value_date, contributions::amount_cents))
        .load(conn)?;
    for (commitment, date, amount) in paid_in {
        if let Some(state) = states.get_mut(&commitment) {
            state.position.flows.push(CapitalFlow { date, amount: Cents::new(amount) });
        }
    }
    let lines: Vec<(Option<String>, String, i64, NaiveDate)> = distribution_lines::table
        .inner_join(distributions::table)
        .filter(distributions::fund_id.eq(fund_id))
        .filter(distributions::distribution_date.le(as_of))
        .filter(distribution_lines::commitment_id.is_not_null())
        .filter(distribution_lines::paid_cents.gt(0))
        .select((
            distribution_lines::commitment_id,
            distribution_lines::step_kind,
            distribution_lines::paid_cents,
            distributions::distribution_date,
        ))
        .load(conn)?;
    for (commitment, kind, paid, date) in lines {
        let Some(state) = commitment.and_then(|c| states.get_mut(&c)) else { continue };
        let paid = Cents::new(paid);
        let p = &mut state.position;
        p.total_received = p.total_received.checked_add(paid)?;
        state.received.push((date, paid));
        match kind.as_str() {
            "capital" => p.flows.push(CapitalFlow { date, amount: paid.checked_neg()? }),
            "pref" => {
                p.pref_paid = p.pref_paid.checked_add(paid)?;
                p.profit_received = p.profit_received.checked_add(paid)?;
            }
            _ => p.profit_received = p.profit_received.checked_add(paid)?,
        }
    }
    let losses: Vec<(String, i64)> = loss_allocations::table
        .inner_join(write_downs::table.on(write_downs::id.eq(loss_allocations::write_down_id)))
        .filter(write_downs::fund_id.eq(fund_id))
        .filter(write_downs::value_date.le(as_of))
        .select((loss_allocations::commitment_id, loss_allocations::amount_cents))
        .load(conn)?;
    for (commitment, amount) in losses {
        if let Some(state) = states.get_mut(&commitment) {
            state.losses = state.losses.checked_add(Cents::new(amount))?;
        }
    }
    Ok(states.into_values().collect())
}

/// What each account received from catch-up and split steps up to `as_of`.
fn account_profits(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<BTreeMap<String, Cents>> {
    let rows: Vec<(String, i64)> = distribution_lines::table
        .inner_join(distributions::table)
        .filter(distributions::fund_id.eq(fund_id))
        .filter(distributions::distribution_date.le(as_of))
        .filter(distribution_lines::target_kind.eq("account"))
        .filter(distribution_lines::step_kind.eq_any(["catch_up", "split"]))
        .select((distribution_lines::target, distribution_lines::paid_cents))
        .load(conn)?;
    let mut totals: BTreeMap<String, Cents> = BTreeMap::new();
    for (account, paid) in rows {
        let entry = totals.entry(account).or_default();
        *entry = entry.checked_add(Cents::new(paid))?;
    }
    Ok(totals)
}

/// What one investor gets from a distribution, by kind.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct InvestorShare {
    pub investor_id: String,
    pub investor_name: String,
    #[schema(value_type = String)]
    pub capital: Cents,
    #[schema(value_type = String)]
    pub pref: Cents,
    /// Catch-up and residual split.
    #[schema(value_type = String)]
    pub profit: Cents,
    #[schema(value_type = String)]
    pub total: Cents,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DistributionView {
    /// None for a preview.
    pub id: Option<String>,
    pub fund_id: String,
    pub terms_version: i32,
    pub description: String,
    pub allocation: Allocation,
    /// One distribution notice per investor.
    pub investors: Vec<InvestorShare>,
}

fn investor_shares(
    conn: &mut DbConnection,
    allocation: &Allocation,
    owners: &HashMap<String, String>,
) -> AppResult<Vec<InvestorShare>> {
    let mut shares: BTreeMap<String, InvestorShare> = BTreeMap::new();
    for step in &allocation.steps {
        for line in step.lines.iter().filter(|l| l.paid.get() > 0) {
            let Some(source) = line.position_id.as_ref().and_then(|p| owners.get(&**p)) else { continue };
            let share = shares
                .entry(source.clone())
                .or_insert_with(|| InvestorShare { investor_id: source.clone(), ..Default::default() });
            let slot = match step.kind.as_str() {
                "capital" => &mut share.capital,
                "pref" => &mut share.pref,
                _ => &mut share.profit,
            };
            *slot = slot.checked_add(line.paid)?;
            share.total = share.total.checked_add(line.paid)?;
        }
    }
    let ids: Vec<String> = shares.keys().cloned().collect();
    let names = super::structure::source_names(conn, &ids)?;
    Ok(shares
        .into_values()
        .map(|mut s| {
            s.investor_name = names.get(&s.investor_id).cloned().unwrap_or_default();
            s
        })
        .collect())
}

/// Runs the fund's current waterfall over `cash` on `date`, posting nothing.
pub fn preview(
    conn: &mut DbConnection,
    fund_id: &str,
    cash: Cents,
    date: NaiveDate,
    description: &str,
) -> AppResult<DistributionView> {
    compute(conn, fund_id, cash, date, description).map(|(view, _)| view)
}

/// Runs `terms`, which are not stored, over `cash` on `date`, posting nothing: the distribution
/// as it would be with these terms in force. The terms are checked as [`set_terms`] checks
/// them; `terms_version` is the number they would get if stored now.
pub fn preview_terms(
    conn: &mut DbConnection,
    fund_id: &str,
    terms: &Terms,
    cash: Cents,
    date: NaiveDate,
) -> AppResult<DistributionView> {
    let tranches = check_terms(conn, fund_id, terms)?;
    let version = next_version(conn, fund_id)?;
    allocate(conn, fund_id, terms, version, &tranches, cash, date, "").map(|(view, _)| view)
}

/// The allocation under the terms in force, and which investor owns each position it pays.
fn compute(
    conn: &mut DbConnection,
    fund_id: &str,
    cash: Cents,
    date: NaiveDate,
    description: &str,
) -> AppResult<(DistributionView, HashMap<String, String>)> {
    let terms = current_terms(conn, fund_id)?;
    refuse_kept_targets(&terms)?;
    let tranches = tranche_terms(conn, fund_id)?;
    allocate(conn, fund_id, &terms.terms, terms.version, &tranches, cash, date, description)
}

/// Terms saved before a step could no longer pay to an account kept by events (or by
/// investor) distribute nothing: new terms must be saved first.
fn refuse_kept_targets(terms: &TermsVersion) -> AppResult<()> {
    let kept: Vec<FieldError> = account_targets(&terms.terms)
        .into_iter()
        .filter_map(|(path, code)| {
            chart::waterfall_target_refusal(&code).map(|reason| {
                FieldError::new(
                    path,
                    format!("terms version {} pay to account {code}, which a step may not: {reason}", terms.version),
                )
            })
        })
        .collect();
    match kept.first() {
        None => Ok(()),
        Some(first) => {
            Err(AppError::Rule { code: "terms-pay-a-kept-account", detail: first.reason.clone(), errors: kept })
        }
    }
}

/// The allocation under `terms` (the same engine and positions whether they are in force or
/// only previewed), and which investor owns each position it pays.
#[allow(clippy::too_many_arguments)]
fn allocate(
    conn: &mut DbConnection,
    fund_id: &str,
    terms: &Terms,
    terms_version: i32,
    tranches: &[TrancheTerms],
    cash: Cents,
    date: NaiveDate,
    description: &str,
) -> AppResult<(DistributionView, HashMap<String, String>)> {
    let states = positions_as_of(conn, fund_id, date)?;
    let positions: Vec<Position> = states.iter().map(|s| s.position.clone()).collect();
    let owners: HashMap<String, String> =
        states.iter().map(|s| (s.position.id.to_string(), s.source_id.clone())).collect();
    let profits = account_profits(conn, fund_id, date)?;
    let allocation = waterfall::distribute(terms, tranches, &positions, &profits, cash, date).map_err(|e| match e {
        waterfall::WaterfallError::Invalid { path, reason } => {
            AppError::Validation(vec![FieldError::new(path, reason)])
        }
        waterfall::WaterfallError::Money(m) => AppError::from(m),
    })?;
    let investors = investor_shares(conn, &allocation, &owners)?;
    let view = DistributionView {
        id: None,
        fund_id: fund_id.into(),
        terms_version,
        description: description.into(),
        allocation,
        investors,
    };
    Ok((view, owners))
}

/// Distributions are recorded in date order, and each after the fund's latest write-down: that
/// write-down charged losses on the capital at risk on its date, so a distribution dated on or
/// before it would return capital the write-down had already counted as at risk. Each is also
/// dated after the latest valuation, whatever its entry does to NAV: one that pays only a
/// liability, or nothing, is still a distribution on that date (docs/waterfall.md).
fn refuse_distribution_out_of_order(conn: &mut DbConnection, fund_id: &str, date: NaiveDate) -> AppResult<()> {
    let refusal = |code, message| OutOfOrder { code, field: "date", message };
    refusal("distribution-out-of-order", "msg-distribution-out-of-order")
        .unless_on_or_after(latest_distribution(conn, fund_id)?, date)?;
    refusal("distribution-before-write-down", "msg-distribution-before-write-down")
        .unless_after(latest_write_down(conn, fund_id)?, date)?;
    refusal("before-valuation", "msg-before-valuation")
        .unless_after(super::investments::latest_valuation_date(conn, fund_id)?, date)
}

/// The date of the fund's latest distribution, if any.
pub fn latest_distribution(conn: &mut DbConnection, fund_id: &str) -> AppResult<Option<NaiveDate>> {
    Ok(distributions::table
        .filter(distributions::fund_id.eq(fund_id))
        .select(diesel::dsl::max(distributions::distribution_date))
        .first(conn)?)
}

/// The date of the fund's latest write-down, if any.
pub fn latest_write_down(conn: &mut DbConnection, fund_id: &str) -> AppResult<Option<NaiveDate>> {
    Ok(write_downs::table
        .filter(write_downs::fund_id.eq(fund_id))
        .select(diesel::dsl::max(write_downs::value_date))
        .first(conn)?)
}

/// Executes a distribution: the same computation as [`preview`], then every line, the notices
/// and one balanced journal entry, in the caller's transaction.
pub fn execute(
    conn: &mut DbConnection,
    fund_id: &str,
    cash: Cents,
    date: NaiveDate,
    description: &str,
    actor: &str,
) -> AppResult<DistributionView> {
    OutOfOrder { code: "distribution-in-future", field: "date", message: "msg-distribution-in-future" }
        .unless_come(date, now_micros().date())?;
    refuse_distribution_out_of_order(conn, fund_id, date)?;
    // The whole cash asked for must be held on the date, not only what the steps pay: a step
    // such as `reserve` takes its share of it, and what no one takes is recorded as staying in
    // cash. What is paid out meets the floor on every later date when it is posted.
    let cash_account = account_by_code(conn, fund_id, CASH)?;
    super::floors::check_holds_on(conn, (&cash_account.id, CASH), cash, date, "cash")?;
    let (mut view, source_of) = compute(conn, fund_id, cash, date, description)?;
    let id = new_id();
    let allocation_json = serde_json::to_string(&view.allocation).map_err(AppError::internal)?;
    diesel::insert_into(distributions::table)
        .values((
            distributions::id.eq(&id),
            distributions::fund_id.eq(fund_id),
            distributions::distribution_date.eq(date),
            distributions::cash_cents.eq(cash.get()),
            distributions::distributed_cents.eq(view.allocation.distributed.get()),
            distributions::remaining_cents.eq(view.allocation.remaining.get()),
            distributions::terms_version.eq(view.terms_version),
            distributions::allocation.eq(allocation_json),
            distributions::description.eq(description),
            distributions::actor.eq(actor),
            distributions::created_at.eq(now_micros()),
        ))
        .execute(conn)?;
    store_lines(conn, &id, &view.allocation, &source_of)?;
    post_distribution(conn, fund_id, &id, &view, &source_of, actor)?;
    view.id = Some(id);
    Ok(view)
}

fn store_lines(
    conn: &mut DbConnection,
    distribution_id: &str,
    allocation: &Allocation,
    source_of: &HashMap<String, String>,
) -> AppResult<()> {
    let mut rows = Vec::new();
    for step in &allocation.steps {
        for line in &step.lines {
            let (target_kind, target) = match &line.target {
                Target::Tranche(id) => ("tranche", id.to_string()),
                Target::Account(code) => ("account", code.clone()),
            };
            rows.push((
                distribution_lines::distribution_id.eq(distribution_id.to_string()),
                distribution_lines::line.eq(rows.len() as i32 + 1),
                distribution_lines::step_index.eq(step.index as i32),
                distribution_lines::step_kind.eq(step.kind.clone()),
                distribution_lines::target_kind.eq(target_kind),
                distribution_lines::target.eq(target),
                distribution_lines::commitment_id.eq(line.position_id.as_deref().map(str::to_string)),
                distribution_lines::source_id.eq(line.position_id.as_ref().and_then(|p| source_of.get(&**p).cloned())),
                distribution_lines::owed_cents.eq(line.owed.get()),
                distribution_lines::paid_cents.eq(line.paid.get()),
                distribution_lines::shortfall_cents.eq(line.shortfall.get()),
                distribution_lines::redistributed_cents.eq(line.redistributed.get()),
                distribution_lines::rule.eq(line.rule.to_string()),
            ));
        }
    }
    for chunk in rows.chunks(500) {
        super::batch_insert!(conn, distribution_lines::table, chunk);
    }
    Ok(())
}

fn post_distribution(
    conn: &mut DbConnection,
    fund_id: &str,
    distribution_id: &str,
    view: &DistributionView,
    source_of: &HashMap<String, String>,
    actor: &str,
) -> AppResult<()> {
    if view.allocation.distributed.is_zero() {
        return Ok(());
    }
    let seniority: HashMap<String, i32> =
        list_tranches(conn, fund_id)?.into_iter().map(|t| (t.id, t.seniority)).collect();
    let lines = waterfall::journal_lines(&view.allocation, |id| seniority.get(id).copied(), CASH)
        .map_err(|e| AppError::internal(format!("distribution entry: {e}")))?;
    let mut accounts: HashMap<String, String> = HashMap::new();
    let mut postings = Vec::with_capacity(lines.len());
    for line in lines {
        let account_id = match accounts.get(&line.account_code) {
            Some(id) => id.clone(),
            None => {
                let id = account_by_code(conn, fund_id, &line.account_code)?.id;
                accounts.insert(line.account_code.clone(), id.clone());
                id
            }
        };
        let party_id = line.position_id.as_ref().and_then(|p| source_of.get(&**p).cloned());
        postings.push(PostingLine { account_id, amount: line.amount, party_id, memo: line.memo });
    }
    post_entry(
        conn,
        NewEntry {
            fund_id: fund_id.into(),
            effective_date: view.allocation.date,
            actor: actor.into(),
            event_type: "distribution".into(),
            event_id: distribution_id.into(),
            description: format!("Distribution: {}", view.description),
            reverses_entry_id: None,
            amount_field: "cash",
            date_field: "date",
            postings,
        },
    )?;
    Ok(())
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DistributionSummary {
    pub id: String,
    pub date: NaiveDate,
    #[schema(value_type = String)]
    pub cash: Cents,
    #[schema(value_type = String)]
    pub distributed: Cents,
    #[schema(value_type = String)]
    pub remaining: Cents,
    pub terms_version: i32,
    pub description: String,
}

type DistributionRow = (String, NaiveDate, i64, i64, i64, i32, String, String);

pub fn list_distributions(conn: &mut DbConnection, fund_id: &str) -> AppResult<Vec<DistributionSummary>> {
    let rows: Vec<DistributionRow> = distributions::table
        .filter(distributions::fund_id.eq(fund_id))
        .order((distributions::distribution_date.asc(), distributions::created_at.asc()))
        .select((
            distributions::id,
            distributions::distribution_date,
            distributions::cash_cents,
            distributions::distributed_cents,
            distributions::remaining_cents,
            distributions::terms_version,
            distributions::description,
            distributions::fund_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, date, cash, distributed, remaining, terms_version, description, _)| DistributionSummary {
            id,
            date,
            cash: Cents::new(cash),
            distributed: Cents::new(distributed),
            remaining: Cents::new(remaining),
            terms_version,
            description,
        })
        .collect())
}

/// A stored distribution, exactly as it was computed when executed.
pub fn get_distribution(conn: &mut DbConnection, distribution_id: &str) -> AppResult<DistributionView> {
    let row: Option<(String, i32, String, String)> = distributions::table
        .find(distribution_id)
        .select((
            distributions::fund_id,
            distributions::terms_version,
            distributions::allocation,
            distributions::description,
        ))
        .first(conn)
        .optional()?;
    let (fund_id, terms_version, allocation, description) =
        row.ok_or_else(|| AppError::not_found(format!("distribution {distribution_id}")))?;
    let allocation: Allocation =
        serde_json::from_str(&allocation).map_err(|e| AppError::internal(format!("stored allocation: {e}")))?;
    let owners: HashMap<String, String> = distribution_lines::table
        .filter(distribution_lines::distribution_id.eq(distribution_id))
        .filter(distribution_lines::commitment_id.is_not_null())
        .select((distribution_lines::commitment_id, distribution_lines::source_id))
        .load::<(Option<String>, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(c, s)| Some((c?, s?)))
        .collect();
    let investors = investor_shares(conn, &allocation, &owners)?;
    Ok(DistributionView {
        id: Some(distribution_id.into()),
        fund_id,
        terms_version,
        description,
        allocation,
        investors,
    })
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WriteDown {
    pub id: String,
    pub fund_id: String,
    pub facility_id: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    pub value_date: NaiveDate,
    pub description: String,
    /// (commitment, tranche, amount) in the order the loss hit them: first-loss first.
    pub allocations: Vec<LossShare>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LossShare {
    pub commitment_id: String,
    pub tranche_id: String,
    pub investor_id: String,
    #[schema(value_type = String)]
    pub amount: Cents,
}

/// Writes an investment down and allocates the loss in reverse seniority (first-loss first).
pub fn write_down(
    conn: &mut DbConnection,
    fund_id: &str,
    facility_id: &str,
    amount: Cents,
    date: NaiveDate,
    description: &str,
    actor: &str,
) -> AppResult<WriteDown> {
    OutOfOrder { code: "write-down-in-future", field: "value_date", message: "msg-write-down-in-future" }
        .unless_come(date, now_micros().date())?;
    let facility = get_facility(conn, facility_id)
        .map_err(|_| AppError::rule_on("unknown-facility", "facility_id", "no such facility"))?;
    let investments = account_by_code(conn, fund_id, INVESTMENTS_EQUITY)?;
    let carried = account_balance(conn, &investments.id, Some(facility_id), date)?;
    if amount > carried {
        return Err(AppError::rule_on(
            "write-down-above-investment",
            "amount",
            Message::new("msg-write-down-above-investment")
                .amount("carried", carried)
                .text("facility", &facility.name)
                .amount("amount", amount),
        ));
    }
    // Capital at risk counts the losses borne before: a write-down dated before one already
    // recorded would not see it and would charge the first-loss tranche twice.
    OutOfOrder { code: "write-down-out-of-order", field: "value_date", message: "msg-write-down-out-of-order" }
        .unless_on_or_after(latest_write_down(conn, fund_id)?, date)?;
    let tranches = tranche_terms(conn, fund_id)?;
    let states = positions_as_of(conn, fund_id, date)?;
    let at_risk: Vec<(String, String, Cents)> = states
        .iter()
        .map(|s| {
            (
                s.position.id.to_string(),
                s.position.tranche_id.clone(),
                Cents::new((s.position.outstanding_capital().get() - s.losses.get()).max(0)),
            )
        })
        .collect();
    let shares = waterfall::allocate_loss(amount, &tranches, &at_risk).map_err(|e| match e {
        waterfall::WaterfallError::Invalid { path, reason } => AppError::rule_on("loss-above-capital", &path, reason),
        waterfall::WaterfallError::Money(m) => AppError::from(m),
    })?;
    let id = new_id();
    diesel::insert_into(write_downs::table)
        .values((
            write_downs::id.eq(&id),
            write_downs::fund_id.eq(fund_id),
            write_downs::facility_id.eq(facility_id),
            write_downs::amount_cents.eq(amount.get()),
            write_downs::value_date.eq(date),
            write_downs::description.eq(description),
            write_downs::actor.eq(actor),
            write_downs::created_at.eq(now_micros()),
        ))
        .execute(conn)?;
    let by_id: HashMap<&str, &PositionState> = states.iter().map(|s| (&*s.position.id, s)).collect();
    let seniority: HashMap<&str, i32> = tranches.iter().map(|t| (t.id.as_str(), t.seniority)).collect();
    let mut allocations = Vec::with_capacity(shares.len());
    let mut postings = Vec::with_capacity(shares.len() + 1);
    for (commitment, share) in &shares {
        let state = by_id.get(commitment.as_str()).ok_or_else(|| AppError::internal("loss for an unknown position"))?;
        let tranche = state.position.tranche_id.clone();
        diesel::insert_into(loss_allocations::table)
            .values((
                loss_allocations::write_down_id.eq(&id),
                loss_allocations::commitment_id.eq(commitment),
                loss_allocations::tranche_id.eq(&tranche),
                loss_allocations::source_id.eq(&state.source_id),
                loss_allocations::amount_cents.eq(share.get()),
            ))
            .execute(conn)?;
        let rank = seniority.get(tranche.as_str()).copied().unwrap_or_default();
        let account = account_by_code(conn, fund_id, &tranche_account(ALLOCATED_GAINS_LOSSES, rank))?;
        postings.push(PostingLine {
            account_id: account.id,
            amount: *share,
            party_id: Some(state.source_id.clone()),
            memo: "write-down".into(),
        });
        allocations.push(LossShare {
            commitment_id: commitment.clone(),
            tranche_id: tranche,
            investor_id: state.source_id.clone(),
            amount: *share,
        });
    }
    postings.push(PostingLine {
        account_id: investments.id,
        amount: amount.checked_neg()?,
        party_id: Some(facility_id.into()),
        memo: "write-down".into(),
    });
    post_entry(
        conn,
        NewEntry {
            fund_id: fund_id.into(),
            effective_date: date,
            actor: actor.into(),
            event_type: "write_down".into(),
            event_id: id.clone(),
            description: format!("Write-down of {}: {description}", facility.name),
            reverses_entry_id: None,
            amount_field: "amount",
            date_field: "value_date",
            postings,
        },
    )?;
    Ok(WriteDown {
        id,
        fund_id: fund_id.into(),
        facility_id: facility_id.into(),
        amount,
        value_date: date,
        description: description.into(),
        allocations,
    })
}

/// The fund's net assets liquidated through its waterfall on a date, nothing posted.
#[derive(Clone, Debug)]
pub struct Liquidation {
    pub as_of: NaiveDate,
    pub fund_nav: Cents,
    pub valuation_date: Option<NaiveDate>,
    pub by_position: BTreeMap<String, Cents>,
    pub states: Vec<PositionState>,
    /// The waterfall's allocation of `fund_nav`, line by line; none when nothing is left for
    /// investors.
    pub allocation: Option<Allocation>,
    /// The version of the terms it ran through.
    pub terms_version: i32,
}

/// Hypothetical liquidation: the investors' net assets on `as_of` (the latest valuation as
/// posted, with every cash flow since) run through the waterfall terms in force on `as_of`.
pub fn liquidate(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<Liquidation> {
    let nav = super::investments::book_nav(conn, fund_id, as_of)?;
    let valuation_date = super::investments::latest_valuation(conn, fund_id, as_of)?.map(|v| v.as_of_date);
    let states = positions_as_of(conn, fund_id, as_of)?;
    let terms = terms_in_force(conn, fund_id, as_of)?;
    let allocation = if nav.get() > 0 {
        let tranches = tranche_terms(conn, fund_id)?;
        let positions: Vec<Position> = states.iter().map(|s| s.position.clone()).collect();
        let profits = account_profits(conn, fund_id, as_of)?;
        Some(
            // Amounts beyond the range are the books' size, not a fault: the same refusal as a
            // distribution's. Stored terms that no longer validate are the service's fault.
            waterfall::distribute(&terms.terms, &tranches, &positions, &profits, nav, as_of).map_err(|e| match e {
                waterfall::WaterfallError::Money(m) => AppError::from(m),
                invalid => AppError::internal(format!("stored terms no longer run: {invalid}")),
            })?,
        )
    } else {
        // Nothing left for investors: every position is worth zero.
        None
    };
    let by_position = allocation.as_ref().map(Allocation::paid_by_position).unwrap_or_default();
    Ok(Liquidation {
        as_of,
        fund_nav: nav,
        valuation_date,
        by_position,
        states,
        allocation,
        terms_version: terms.version,
    })
}

/// (step kind, paid) of every distribution line to an investor dated within [from, to].
pub fn investor_lines(
    conn: &mut DbConnection,
    fund_id: &str,
    investor: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<(String, Cents)>> {
    let rows: Vec<(String, i64)> = distribution_lines::table
        .inner_join(distributions::table)
        .filter(distributions::fund_id.eq(fund_id))
        .filter(distributions::distribution_date.ge(from))
        .filter(distributions::distribution_date.le(to))
        .filter(distribution_lines::source_id.eq(investor))
        .filter(distribution_lines::paid_cents.gt(0))
        .select((distribution_lines::step_kind, distribution_lines::paid_cents))
        .load(conn)?;
    Ok(rows.into_iter().map(|(kind, paid)| (kind, Cents::new(paid))).collect())
}

/// Distribution notices: each investor's share of each distribution, oldest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DistributionNotice {
    pub distribution_id: String,
    pub fund_id: String,
    pub date: NaiveDate,
    pub description: String,
    #[serde(flatten)]
    pub share: InvestorShare,
}

/// (distribution, fund, date, description, investor, investor name, step kind, paid).
type NoticeLine = (String, String, NaiveDate, String, String, String, String, i64);

pub fn distribution_notices(
    conn: &mut DbConnection,
    fund_id: Option<&str>,
    investor: Option<&str>,
) -> AppResult<Vec<DistributionNotice>> {
    let mut query = distribution_lines::table
        .inner_join(distributions::table)
        .inner_join(sources::table.on(sources::id.nullable().eq(distribution_lines::source_id)))
        .filter(distribution_lines::paid_cents.gt(0))
        .into_boxed();
    if let Some(fund_id) = fund_id {
        query = query.filter(distributions::fund_id.eq(fund_id.to_string()));
    }
    if let Some(investor) = investor {
        query = query.filter(distribution_lines::source_id.eq(investor.to_string()));
    }
    let rows: Vec<NoticeLine> = query
        .order((distributions::distribution_date.asc(), distributions::id.asc()))
        .select((
            distributions::id,
            distributions::fund_id,
            distributions::distribution_date,
            distributions::description,
            sources::id,
            sources::legal_name,
            distribution_lines::step_kind,
            distribution_lines::paid_cents,
        ))
        .load(conn)?;
    let mut notices: BTreeMap<(NaiveDate, String, String), DistributionNotice> = BTreeMap::new();
    for (id, fund, date, description, source, name, kind, paid) in rows {
        let notice = notices.entry((date, id.clone(), source.clone())).or_insert_with(|| DistributionNotice {
            distribution_id: id,
            fund_id: fund,
            date,
            description,
            share: InvestorShare { investor_id: source, investor_name: name, ..Default::default() },
        });
        let paid = Cents::new(paid);
        let slot = match kind.as_str() {
            "capital" => &mut notice.share.capital,
            "pref" => &mut notice.share.pref,
            _ => &mut notice.share.profit,
        };
        *slot = slot.checked_add(paid)?;
        notice.share.total = notice.share.total.checked_add(paid)?;
    }
    Ok(notices.into_values().collect())
}
