//! Commitments of sources to tranches. A commitment changes only by new events (initial,
//! increase, decrease, cancel); the row keeps the running totals the events produce.
//! Unfunded commitments are carried in memorandum accounts (9000/9100) so that the ledger
//! reconciles with them.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;
use utoipa::ToSchema;

use super::capital_totals::{self, Amounts, CapitalChanges};
use super::ledger::{accounts_by_codes, post_entry_to, Account, ChainedEntries, NewEntry};
use super::schema::{
    capital_calls, commitment_events, commitments, funds, ledger_accounts, notices, sources, tranches,
};
use super::structure::{get_tranche, Tranche, TrancheRow};
use super::{new_id, now_micros, DbConnection};
use crate::domain::capital::{callable_on_every_date_from, first_date_called_above_committed, most_committed_from};
use crate::domain::chart::{UNFUNDED_COMMITMENTS, UNFUNDED_COMMITMENTS_CONTRA};
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult, Message, OutOfOrder};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = commitments)]
pub struct CommitmentRow {
    pub id: String,
    pub fund_id: String,
    pub tranche_id: String,
    pub source_id: String,
    pub committed_cents: i64,
    pub called_cents: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = commitment_events)]
pub struct CommitmentEventRow {
    pub id: String,
    pub commitment_id: String,
    /// `initial`, `increase`, `decrease` or `cancel`
    pub kind: String,
    pub amount_cents: i64,
    pub committed_after_cents: i64,
    pub effective_date: NaiveDate,
    pub oversubscription_allowed: i32,
    pub actor: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CommitmentEvent {
    pub kind: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    #[schema(value_type = String)]
    pub committed_after: Cents,
    pub effective_date: NaiveDate,
    pub oversubscription_allowed: bool,
    pub actor: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Commitment {
    pub id: String,
    pub fund_id: String,
    pub tranche_id: String,
    pub source_id: String,
    #[schema(value_type = String)]
    pub committed: Cents,
    #[schema(value_type = String)]
    pub called: Cents,
    #[schema(value_type = String)]
    pub unfunded: Cents,
    #[schema(value_type = String)]
    pub paid_in: Cents,
    /// Every change, oldest first (only on single-commitment reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<CommitmentEvent>>,
}

impl From<CommitmentEventRow> for CommitmentEvent {
    fn from(e: CommitmentEventRow) -> Self {
        CommitmentEvent {
            kind: e.kind,
            amount: Cents::new(e.amount_cents),
            committed_after: Cents::new(e.committed_after_cents),
            effective_date: e.effective_date,
            oversubscription_allowed: e.oversubscription_allowed == 1,
            actor: e.actor,
        }
    }
}

impl CommitmentRow {
    pub fn unfunded(&self) -> Cents {
        Cents::new(self.committed_cents - self.called_cents)
    }

    fn view(&self, paid_in: i64) -> Commitment {
        Commitment {
            id: self.id.clone(),
            fund_id: self.fund_id.clone(),
            tranche_id: self.tranche_id.clone(),
            source_id: self.source_id.clone(),
            committed: Cents::new(self.committed_cents),
            called: Cents::new(self.called_cents),
            unfunded: self.unfunded(),
            paid_in: Cents::new(paid_in),
            events: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AmendmentKind {
    Increase,
    Decrease,
    Cancel,
}

#[derive(Clone, Debug)]
pub struct NewCommitment {
    pub source_id: String,
    pub tranche_id: String,
    pub amount: Cents,
    pub effective_date: NaiveDate,
    pub allow_oversubscription: bool,
    pub actor: String,
}

/// The total committed to a tranche: its running total, kept by every write that changes a
/// commitment's amount (read in constant time, however many commitments the tranche has).
fn tranche_committed(conn: &mut DbConnection, tranche_id: &str) -> AppResult<Cents> {
    let total: i64 = tranches::table.find(tranche_id).select(tranches::committed_cents).first(conn)?;
    Ok(Cents::new(total))
}

/// Adds each delta to its tranche's running total: one statement on PostgreSQL, one in-process
/// statement per tranche on SQLite.
fn add_to_tranche_totals(conn: &mut DbConnection, added: &[(&str, Cents)]) -> AppResult<()> {
    let DbConnection::Postgresql(pg) = conn else {
        return added.iter().try_for_each(|(tranche_id, delta)| add_to_tranche_total(conn, tranche_id, *delta));
    };
    if added.is_empty() {
        return Ok(());
    }
    let (ids, deltas): (Vec<&str>, Vec<i64>) = added.iter().map(|(id, delta)| (*id, delta.get())).unzip();
    let updated = diesel::sql_query(
        "UPDATE tranches SET committed_cents = tranches.committed_cents + added.delta \
         FROM (SELECT unnest($1::text[]) AS id, unnest($2::bigint[]) AS delta) AS added \
         WHERE tranches.id = added.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&ids)
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&deltas)
    .execute(pg)?;
    if updated != added.len() {
        return Err(AppError::internal(format!("{} of {} tranche running totals updated", updated, added.len())));
    }
    Ok(())
}

/// Adds `delta` to a tranche's running total, in the transaction that changes its commitments.
fn add_to_tranche_total(conn: &mut DbConnection, tranche_id: &str, delta: Cents) -> AppResult<()> {
    let updated = diesel::update(tranches::table.find(tranche_id))
        .set(tranches::committed_cents.eq(tranches::committed_cents + delta.get()))
        .execute(conn)?;
    if updated != 1 {
        return Err(AppError::internal(format!("tranche {tranche_id}: running total not updated")));
    }
    Ok(())
}

/// The latest removal (decrease or cancellation) dated after `after` of a commitment of each of
/// `tranche_ids` that has one. The removals are read first, by their own index (they are few,
/// whatever the tranches hold), then their commitments by key: joined the other way round, a
/// planner may read every commitment of the tranche.
fn latest_removals(
    conn: &mut DbConnection,
    tranche_ids: &[&str],
    after: NaiveDate,
) -> AppResult<HashMap<String, NaiveDate>> {
    let removals: Vec<(String, NaiveDate)> = commitment_events::table
        .filter(sql::<diesel::sql_types::Bool>("commitment_events.kind IN ('decrease', 'cancel')"))
        .filter(commitment_events::effective_date.gt(after))
        .select((commitment_events::commitment_id, commitment_events::effective_date))
        .load(conn)?;
    let mut latest: HashMap<String, NaiveDate> = HashMap::new();
    for (commitment_id, date) in &removals {
        let known = latest.entry(commitment_id.clone()).or_insert(*date);
        *known = (*known).max(*date);
    }
    let ids: Vec<&str> = latest.keys().map(String::as_str).collect();
    let mut by_tranche: HashMap<String, NaiveDate> = HashMap::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let tranches_of: Vec<(String, String)> = commitments::table
            .filter(commitments::id.eq_any(chunk))
            .filter(commitments::tranche_id.eq_any(tranche_ids))
            .filter(super::planned_each_time())
            .select((commitments::id, commitments::tranche_id))
            .load(conn)?;
        for (commitment_id, tranche_id) in tranches_of {
            let Some(date) = latest.get(&commitment_id) else { continue };
            let known = by_tranche.entry(tranche_id).or_insert(*date);
            *known = (*known).max(*date);
        }
    }
    Ok(by_tranche)
}

/// The events of the tranche's commitments dated after `after`, signed. Read only when a
/// removal of the tranche is dated after it.
fn tranche_events_after(
    conn: &mut DbConnection,
    tranche_id: &str,
    after: NaiveDate,
) -> AppResult<Vec<(NaiveDate, Cents)>> {
    let rows: Vec<(NaiveDate, String, i64)> = commitment_events::table
        .inner_join(commitments::table.on(commitments::id.eq(commitment_events::commitment_id)))
        .filter(commitments::tranche_id.eq(tranche_id))
        .filter(commitment_events::effective_date.gt(after))
        .select((commitment_events::effective_date, commitment_events::kind, commitment_events::amount_cents))
        .load(conn)?;
    let mut events = Vec::with_capacity(rows.len());
    for (date, kind, amount) in rows {
        events.push((date, signed_event_amount(&kind, Cents::new(amount))?));
    }
    Ok(events)
}

/// The events dated after `from` that can leave a tranche committing more on some date from
/// `from` on than its running total: none unless a removal is dated after `from`; then all of
/// them, for [`most_committed_from`].
fn events_after_if_removed(
    conn: &mut DbConnection,
    removals: &HashMap<String, NaiveDate>,
    tranche_id: &str,
    from: NaiveDate,
) -> AppResult<Option<Vec<(NaiveDate, Cents)>>> {
    match removals.get(tranche_id) {
        Some(removal) if *removal > from => Ok(Some(tranche_events_after(conn, tranche_id, from)?)),
        _ => Ok(None),
    }
}

/// The most a tranche with running total `total` commits on any date from `from` on: the total
/// itself unless [`events_after_if_removed`] found events that leave more before a removal.
fn most_committed(total: Cents, later: Option<&[(NaiveDate, Cents)]>, from: NaiveDate) -> AppResult<Cents> {
    Ok(later.map_or(Ok(total), |later| most_committed_from(total, later, from))?)
}

/// Refuses taking the tranche above its target on any date from the commitment's on:
/// `committed` is the most it commits on one of those dates (docs/capital-activity.md).
fn check_target(tranche: &Tranche, committed: Cents, added: Cents, allowed: bool) -> AppResult<()> {
    let after = committed.checked_add(added)?;
    if after > tranche.target_size && !allowed {
        return Err(AppError::rule_on(
            "above-tranche-target",
            "amount",
            Message::new("msg-above-tranche-target")
                .text("tranche", &tranche.name)
                .amount("after", after)
                .amount("target", tranche.target_size),
        ));
    }
    Ok(())
}

/// What a new commitment needs that never changes once written, read before the writer lock:
/// the tranche (checked to belong to the fund, with its minimum ticket), the source, and the
/// fund's memorandum accounts.
pub struct CommitmentPlan {
    fund_id: String,
    tranche: Tranche,
    memo: Account,
    contra: Account,
    /// The source's kind and programme, for the capital totals.
    source_kind: (String, String),
}

impl CommitmentPlan {
    pub fn tranche(&self) -> &Tranche {
        &self.tranche
    }
}

/// Checks a new commitment against what does not change: the fund, tranche and source exist
/// and belong together, and the amount reaches the tranche's minimum ticket.
pub fn plan_commitment(conn: &mut DbConnection, fund_id: &str, new: &NewCommitment) -> AppResult<CommitmentPlan> {
    plan_commitments(conn, &[(fund_id, new)])?
        .pop()
        .unwrap_or_else(|| Err(AppError::internal("planning one commitment gave no plan")))
}

/// [`plan_commitment`] for each of many new commitments (fund id and commitment), reading
/// funds, tranches, sources and memorandum accounts once for all of them. The outer error is
/// the database's; each inner one is that commitment's own.
pub fn plan_commitments(
    conn: &mut DbConnection,
    requests: &[(&str, &NewCommitment)],
) -> AppResult<Vec<AppResult<CommitmentPlan>>> {
    let found = PlanRows::load(conn, requests)?;
    Ok(requests.iter().map(|(fund_id, new)| found.plan(fund_id, new)).collect())
}

/// The funds, tranches, sources and memorandum accounts a set of new commitments names.
struct PlanRows {
    funds: HashSet<String>,
    tranches: Vec<TrancheRow>,
    /// Kind and programme by source id.
    sources: HashMap<String, (String, String)>,
    memo_accounts: Vec<Account>,
}

impl PlanRows {
    fn load(conn: &mut DbConnection, requests: &[(&str, &NewCommitment)]) -> AppResult<PlanRows> {
        let fund_ids: Vec<&str> = requests.iter().map(|(fund_id, _)| *fund_id).collect();
        let tranche_ids: Vec<&str> = requests.iter().map(|(_, new)| new.tranche_id.as_str()).collect();
        let source_ids: Vec<&str> = requests.iter().map(|(_, new)| new.source_id.as_str()).collect();
        let funds: Vec<String> = funds::table.filter(funds::id.eq_any(&fund_ids)).select(funds::id).load(conn)?;
        let tranches =
            tranches::table.filter(tranches::id.eq_any(&tranche_ids)).select(TrancheRow::as_select()).load(conn)?;
        // Sources grow with every investor: a plan cached while the table was small scans it all.
        let sources: Vec<(String, String, String)> = sources::table
            .filter(sources::id.eq_any(&source_ids))
            .filter(super::planned_each_time())
            .select((sources::id, sources::kind, sources::programme))
            .load(conn)?;
        let memo_accounts = ledger_accounts::table
            .filter(ledger_accounts::fund_id.eq_any(&fund_ids))
            .filter(ledger_accounts::code.eq_any([UNFUNDED_COMMITMENTS, UNFUNDED_COMMITMENTS_CONTRA]))
            .select(Account::as_select())
            .load(conn)?;
        Ok(PlanRows {
            funds: funds.into_iter().collect(),
            tranches,
            sources: sources.into_iter().map(|(id, kind, programme)| (id, (kind, programme))).collect(),
            memo_accounts,
        })
    }

    fn plan(&self, fund_id: &str, new: &NewCommitment) -> AppResult<CommitmentPlan> {
        if !self.funds.contains(fund_id) {
            return Err(AppError::not_found(format!("fund {fund_id}")));
        }
        let tranche = self
            .tranches
            .iter()
            .find(|t| t.id == new.tranche_id)
            .ok_or_else(|| AppError::rule_on("unknown-tranche", "tranche_id", "no such tranche"))?
            .to_tranche()?;
        if tranche.fund_id != fund_id {
            return Err(AppError::rule_on("unknown-tranche", "tranche_id", "the tranche belongs to another fund"));
        }
        let Some(source_kind) = self.sources.get(&new.source_id).cloned() else {
            return Err(AppError::rule_on("unknown-source", "source_id", "no such source"));
        };
        if new.amount < tranche.min_ticket {
            return Err(AppError::rule_on(
                "below-minimum-ticket",
                "amount",
                Message::new("msg-below-minimum-ticket")
                    .text("tranche", &tranche.name)
                    .amount("ticket", tranche.min_ticket),
            ));
        }
        let (memo, contra) =
            (self.account(fund_id, UNFUNDED_COMMITMENTS)?, self.account(fund_id, UNFUNDED_COMMITMENTS_CONTRA)?);
        Ok(CommitmentPlan { fund_id: fund_id.to_string(), tranche, memo, contra, source_kind })
    }

    fn account(&self, fund_id: &str, code: &str) -> AppResult<Account> {
        self.memo_accounts
            .iter()
            .find(|a| a.fund_id == fund_id && a.code == code)
            .cloned()
            .ok_or_else(|| AppError::internal(format!("fund {fund_id} has no account {code} in its chart")))
    }
}

/// The latest call of each tranche and the latest distribution of each tranche's fund, read
/// under the writer lock. A call shared what it called by the unfunded amounts on its date, and
/// a fee on commitments took what was committed on its distribution's date: a commitment or an
/// amendment dated on or before either, recorded after it, would have changed that share or
/// that fee, so it is refused (docs/capital-activity.md).
#[derive(Debug, Default)]
pub struct SettledDates {
    calls: HashMap<String, NaiveDate>,
    /// By tranche: its fund's latest distribution.
    distributions: HashMap<String, NaiveDate>,
}

impl SettledDates {
    pub fn load(conn: &mut DbConnection, tranche_ids: &[&str]) -> AppResult<SettledDates> {
        let rows: Vec<(String, Option<NaiveDate>, Option<NaiveDate>)> = tranches::table
            .filter(tranches::id.eq_any(tranche_ids))
            .select((tranches::id, latest_call_of_tranche(), latest_distribution_of_fund()))
            .load(conn)?;
        let mut settled = SettledDates::default();
        for (tranche, call, distribution) in rows {
            settled.note(tranche, call, distribution);
        }
        Ok(settled)
    }

    fn note(&mut self, tranche: String, call: Option<NaiveDate>, distribution: Option<NaiveDate>) {
        if let Some(call) = call {
            self.calls.insert(tranche.clone(), call);
        }
        if let Some(distribution) = distribution {
            self.distributions.insert(tranche, distribution);
        }
    }

    /// Refuses a commitment or an amendment of `tranche_id` dated `date` if a call of the tranche
    /// or a distribution of its fund is dated on or after it.
    pub fn check(&self, tranche_id: &str, date: NaiveDate) -> AppResult<()> {
        let refusal = |code, message| OutOfOrder { code, field: "effective_date", message };
        refusal("commitment-before-call", "msg-commitment-before-call")
            .unless_after(self.calls.get(tranche_id).copied(), date)?;
        refusal("commitment-before-distribution", "msg-commitment-before-distribution")
            .unless_after(self.distributions.get(tranche_id).copied(), date)
    }
}

/// The latest call date of the tranche of the row, for a select from `tranches` (by the index on
/// call lines by tranche).
fn latest_call_of_tranche() -> diesel::expression::SqlLiteral<diesel::sql_types::Nullable<diesel::sql_types::Date>> {
    sql("(SELECT MAX(capital_calls.call_date) FROM capital_call_lines \
         JOIN capital_calls ON capital_calls.id = capital_call_lines.call_id \
         WHERE capital_call_lines.tranche_id = tranches.id)")
}

/// The latest distribution date of the fund of the tranche of the row, for a select from
/// `tranches` (by the index on distributions by fund and date).
fn latest_distribution_of_fund() -> diesel::expression::SqlLiteral<diesel::sql_types::Nullable<diesel::sql_types::Date>>
{
    sql("(SELECT MAX(distributions.distribution_date) FROM distributions WHERE distributions.fund_id = tranches.fund_id)")
}

/// The commitments already made to some tranches, read under the writer lock: each tranche's
/// running total and which sources it has, kept up to date as a batch adds to them. Both reads
/// are by key (the tranche row, the unique (tranche, source) index), so their cost does not grow
/// with the commitments a tranche holds.
pub struct TrancheBook {
    committed: HashMap<String, Cents>,
    /// For each tranche with a removal dated after the earliest date the batch commits to it on:
    /// its events dated after that date, with those the batch adds.
    later: HashMap<String, Vec<(NaiveDate, Cents)>>,
    /// What this batch added to each tranche, written back by [`TrancheBook::write_totals`].
    added: HashMap<String, Cents>,
    pairs: HashSet<(String, String)>,
    settled: SettledDates,
    /// What this batch committed, per fund, tranche and source, for the capital totals.
    capital: CapitalChanges,
}

impl TrancheBook {
    /// Reads the totals of `tranche_ids` and which of `source_ids` committed to them; `dates[i]`
    /// is the date the batch commits to `tranche_ids[i]` on.
    pub fn load(
        conn: &mut DbConnection,
        tranche_ids: &[&str],
        source_ids: &[&str],
        dates: &[NaiveDate],
    ) -> AppResult<TrancheBook> {
        let totals: Vec<(String, i64, Option<NaiveDate>, Option<NaiveDate>)> = tranches::table
            .filter(tranches::id.eq_any(tranche_ids))
            .select((tranches::id, tranches::committed_cents, latest_call_of_tranche(), latest_distribution_of_fund()))
            .load(conn)?;
        let mut settled = SettledDates::default();
        for (tranche, _, call, distribution) in &totals {
            settled.note(tranche.clone(), *call, *distribution);
        }
        let pairs: Vec<(String, String)> = match conn {
            // The sources hidden from the planner in a subquery (as the usage lookup's ids,
            // storage/usage.rs): shown up to 128 of them on a table with no statistics, it probes
            // the pair index by tranche alone and reads every commitment of the batch's tranches
            // (351 ms at 1.2 million commitments and 128 sources; 1.1 ms hidden).
            DbConnection::Postgresql(pg) => commitments::table
                .filter(commitments::tranche_id.eq_any(tranche_ids))
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("commitments.source_id = ANY(ARRAY(SELECT unnest(")
                        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(source_ids)
                        .sql(")))"),
                )
                .select((commitments::tranche_id, commitments::source_id))
                .load(pg)?,
            DbConnection::Sqlite(sqlite) => commitments::table
                .filter(commitments::tranche_id.eq_any(tranche_ids))
                .filter(commitments::source_id.eq_any(source_ids))
                .filter(super::planned_each_time())
                .select((commitments::tranche_id, commitments::source_id))
                .load(sqlite)?,
        };
        let mut earliest: HashMap<&str, NaiveDate> = HashMap::new();
        for (tranche, date) in tranche_ids.iter().zip(dates) {
            let first = earliest.entry(tranche).or_insert(*date);
            *first = (*first).min(*date);
        }
        let removals = match earliest.values().min() {
            Some(from) => latest_removals(conn, tranche_ids, *from)?,
            None => HashMap::new(),
        };
        let mut later = HashMap::new();
        for (tranche, from) in earliest {
            if let Some(events) = events_after_if_removed(conn, &removals, tranche, from)? {
                later.insert(tranche.to_string(), events);
            }
        }
        Ok(TrancheBook {
            committed: totals.into_iter().map(|(id, cents, _, _)| (id, Cents::new(cents))).collect(),
            later,
            added: HashMap::new(),
            pairs: pairs.into_iter().collect(),
            settled,
            capital: CapitalChanges::default(),
        })
    }

    /// Refuses a second commitment of a source to a tranche, one dated on or before a call of the
    /// tranche or a distribution of its fund, and one above the target.
    pub fn admit(&self, tranche: &Tranche, new: &NewCommitment) -> AppResult<()> {
        if self.pairs.contains(&(new.tranche_id.clone(), new.source_id.clone())) {
            return Err(AppError::conflict(
                "commitment-exists",
                "this source already has a commitment to this tranche; amend it instead",
            ));
        }
        self.settled.check(&new.tranche_id, new.effective_date)?;
        let total = self.committed.get(&tranche.id).copied().unwrap_or(Cents::ZERO);
        let most = most_committed(total, self.later.get(&tranche.id).map(Vec::as_slice), new.effective_date)?;
        check_target(tranche, most, new.amount, new.allow_oversubscription)
    }

    /// Counts a commitment just recorded under `plan`, effective from `effective_date`.
    pub fn note(&mut self, row: &CommitmentRow, plan: &CommitmentPlan, effective_date: NaiveDate) -> AppResult<()> {
        if let Some(later) = self.later.get_mut(&row.tranche_id) {
            later.push((effective_date, Cents::new(row.committed_cents)));
        }
        let (kind, programme) = &plan.source_kind;
        self.capital.know_source(&row.source_id, kind, programme);
        let amount = Cents::new(row.committed_cents);
        for totals in [&mut self.committed, &mut self.added] {
            let total = totals.entry(row.tranche_id.clone()).or_insert(Cents::ZERO);
            *total = total.checked_add(amount)?;
        }
        self.pairs.insert((row.tranche_id.clone(), row.source_id.clone()));
        self.capital.add(&row.fund_id, &row.tranche_id, &row.source_id, Amounts::committed(row.committed_cents))
    }

    /// Adds what the batch committed to each tranche's running total, and to the capital totals.
    /// Every write holds the writer lock, so no two take these rows at once; the deltas still go
    /// in tranche order.
    pub fn write_totals(&self, conn: &mut DbConnection) -> AppResult<()> {
        let mut added: Vec<(&str, Cents)> = self.added.iter().map(|(id, cents)| (id.as_str(), *cents)).collect();
        added.sort();
        add_to_tranche_totals(conn, &added)?;
        self.capital.write(conn)
    }
}

/// The rows of a new commitment admitted by a [`TrancheBook`]: the commitment, its initial
/// event, its memorandum entry linked onto `chain`, and the view answered for it.
pub fn initial_commitment(
    plan: &CommitmentPlan,
    new: &NewCommitment,
    chain: &mut ChainedEntries,
) -> AppResult<(CommitmentRow, CommitmentEventRow, Commitment)> {
    let row = CommitmentRow {
        id: new_id(),
        fund_id: plan.fund_id.clone(),
        tranche_id: new.tranche_id.clone(),
        source_id: new.source_id.clone(),
        committed_cents: new.amount.get(),
        called_cents: 0,
        created_at: now_micros(),
    };
    let input = EventInput {
        kind: "initial",
        amount: new.amount,
        effective_date: new.effective_date,
        oversubscription_allowed: new.allow_oversubscription,
        actor: &new.actor,
    };
    let event = event_row(&row, input);
    chain.push(event_entry(&row, &event, [&plan.memo, &plan.contra])?, &[&plan.memo, &plan.contra])?;
    // What `get_commitment` would read back: nothing of it is called or paid in yet.
    let mut view = row.view(0);
    view.events = Some(vec![event.clone().into()]);
    Ok((row, event, view))
}

/// Records a new commitment and its memorandum entry, checking what other writes change: no
/// commitment of the source to the tranche yet, and the tranche target. Call inside
/// [`super::write_tx`], after [`plan_commitment`].
pub fn record_commitment(conn: &mut DbConnection, plan: &CommitmentPlan, new: &NewCommitment) -> AppResult<Commitment> {
    let mut book =
        TrancheBook::load(conn, &[new.tranche_id.as_str()], &[new.source_id.as_str()], &[new.effective_date])?;
    book.admit(&plan.tranche, new)?;
    let mut chain = ChainedEntries::at_head(conn)?;
    let (row, event, view) = initial_commitment(plan, new, &mut chain)?;
    diesel::insert_into(commitments::table).values(&row).execute(conn)?;
    book.note(&row, plan, new.effective_date)?;
    book.write_totals(conn)?;
    diesel::insert_into(commitment_events::table).values(&event).execute(conn)?;
    chain.write(conn)?;
    Ok(view)
}

/// Records a new commitment and its memorandum entry.
pub fn create_commitment(conn: &mut DbConnection, fund_id: &str, new: NewCommitment) -> AppResult<Commitment> {
    let plan = plan_commitment(conn, fund_id, &new)?;
    record_commitment(conn, &plan, &new)
}

/// Applies an increase, decrease or cancellation as a new event.
pub fn amend_commitment(
    conn: &mut DbConnection,
    commitment_id: &str,
    kind: AmendmentKind,
    amount: Option<Cents>,
    effective_date: NaiveDate,
    allow_oversubscription: bool,
    actor: &str,
) -> AppResult<Commitment> {
    let row = commitment_row(conn, commitment_id)?;
    let since = effective_since(conn, commitment_id)?;
    if effective_date < since {
        return Err(AppError::rule_on(
            "amendment-before-commitment",
            "effective_date",
            Message::new("msg-amendment-before-commitment").date("date", effective_date).date("since", since),
        ));
    }
    SettledDates::load(conn, &[row.tranche_id.as_str()])?.check(&row.tranche_id, effective_date)?;
    let committed = Cents::new(row.committed_cents);
    let called = Cents::new(row.called_cents);
    let (delta, after, label) = match (kind, amount) {
        (AmendmentKind::Increase, Some(amount)) => {
            let tranche = get_tranche(conn, &row.tranche_id)?;
            let total = tranche_committed(conn, &tranche.id)?;
            let removals = latest_removals(conn, &[tranche.id.as_str()], effective_date)?;
            let later = events_after_if_removed(conn, &removals, &tranche.id, effective_date)?;
            let most = most_committed(total, later.as_deref(), effective_date)?;
            check_target(&tranche, most, amount, allow_oversubscription)?;
            (amount, committed.checked_add(amount)?, "increase")
        }
        (AmendmentKind::Decrease, Some(amount)) => {
            let after = committed.checked_sub(amount)?;
            if after < called {
                return Err(AppError::rule_on(
                    "decrease-below-called",
                    "amount",
                    Message::new("msg-decrease-below-called")
                        .amount("called", called)
                        .amount("removable", committed.checked_sub(called)?),
                ));
            }
            (amount, after, "decrease")
        }
        (AmendmentKind::Cancel, None) => {
            let unfunded = committed.checked_sub(called)?;
            if unfunded.is_zero() {
                return Err(AppError::rule("nothing-to-cancel", "the commitment has no unfunded amount left"));
            }
            (unfunded, called, "cancel")
        }
        (AmendmentKind::Cancel, Some(_)) => {
            return Err(AppError::field("amount", "a cancellation takes no amount: it cancels all that is unfunded"))
        }
        (_, None) => return Err(AppError::field("amount", "required for an increase or a decrease")),
    };
    if label != "increase" {
        check_called_on_every_date(conn, commitment_id, effective_date, delta)?;
    }
    diesel::update(commitments::table.find(commitment_id))
        .set(commitments::committed_cents.eq(after.get()))
        .execute(conn)?;
    let change = after.checked_sub(committed)?;
    add_to_tranche_total(conn, &row.tranche_id, change)?;
    capital_totals::add_one(conn, &row.fund_id, &row.tranche_id, &row.source_id, Amounts::committed(change.get()))?;
    let row = CommitmentRow { committed_cents: after.get(), ..row };
    let [memo, contra] = accounts_by_codes(conn, &row.fund_id, [UNFUNDED_COMMITMENTS, UNFUNDED_COMMITMENTS_CONTRA])?;
    let input = EventInput {
        kind: label,
        amount: delta,
        effective_date,
        oversubscription_allowed: allow_oversubscription,
        actor,
    };
    record_event(conn, &row, input, [&memo, &contra])?;
    get_commitment(conn, commitment_id)
}

/// The amount each of `ids` committed on `date`: the sum of its events effective on or before it
/// (none for a commitment that took effect later).
pub fn committed_on(conn: &mut DbConnection, ids: &[&str], date: NaiveDate) -> AppResult<HashMap<String, Cents>> {
    let mut committed: HashMap<String, Cents> = HashMap::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let events: Vec<(String, String, i64)> = commitment_events::table
            .filter(commitment_events::commitment_id.eq_any(chunk))
            .filter(commitment_events::effective_date.le(date))
            .filter(super::planned_each_time())
            .select((commitment_events::commitment_id, commitment_events::kind, commitment_events::amount_cents))
            .load(conn)?;
        for (id, kind, amount) in events {
            let total = committed.entry(id).or_insert(Cents::ZERO);
            *total = total.checked_add(signed_event_amount(&kind, Cents::new(amount))?)?;
        }
    }
    Ok(committed)
}

/// Refuses taking `removed` from a commitment from `from` on if, on any date from then on, it
/// would have committed less than it had been called by then (docs/capital-activity.md).
/// Today's totals are checked by the caller; this holds the earlier dates, which the investor's
/// unfunded floor (9000) misses when the investor's other commitments cover the difference.
fn check_called_on_every_date(
    conn: &mut DbConnection,
    commitment_id: &str,
    from: NaiveDate,
    removed: Cents,
) -> AppResult<()> {
    let history = dated_histories(conn, &[commitment_id])?.remove(commitment_id).unwrap_or_default();
    match first_date_called_above_committed(&history.events, &history.calls, from, removed)? {
        None => Ok(()),
        Some(broken) => Err(AppError::rule_on(
            "called-above-committed",
            "effective_date",
            Message::new("msg-called-above-committed")
                .amount("removed", removed)
                .date("from", from)
                .date("date", broken.date)
                .amount("committed", broken.committed)
                .amount("called", broken.called),
        )),
    }
}

/// What a call dated `date` may draw on each of the commitments `ids` that lose part of their
/// amount after that date (a decrease or cancellation dated later): the least, over every date
/// from the call's on, of committed less called by then. The others are left out: what they
/// commit never falls after the call's date, so their bound is the call's date and today.
pub fn callable_where_a_removal_follows(
    conn: &mut DbConnection,
    ids: &[&str],
    date: NaiveDate,
) -> AppResult<HashMap<String, Cents>> {
    let mut falling: Vec<String> = Vec::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let found: Vec<String> = commitment_events::table
            .filter(commitment_events::commitment_id.eq_any(chunk))
            .filter(commitment_events::effective_date.gt(date))
            .filter(commitment_events::kind.eq_any(["decrease", "cancel"]))
            .filter(super::planned_each_time())
            .select(commitment_events::commitment_id)
            .distinct()
            .load(conn)?;
        falling.extend(found);
    }
    let falling: Vec<&str> = falling.iter().map(String::as_str).collect();
    let mut callable = HashMap::new();
    for (id, history) in dated_histories(conn, &falling)? {
        let room = callable_on_every_date_from(&history.events, &history.calls, date)?;
        callable.insert(id, room);
    }
    Ok(callable)
}

/// A commitment's events (signed: removals negative) and its shares of calls, each dated.
#[derive(Default)]
struct DatedHistory {
    events: Vec<(NaiveDate, Cents)>,
    calls: Vec<(NaiveDate, Cents)>,
}

fn dated_histories(conn: &mut DbConnection, ids: &[&str]) -> AppResult<HashMap<String, DatedHistory>> {
    let mut histories: HashMap<String, DatedHistory> = HashMap::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let events: Vec<(String, NaiveDate, String, i64)> = commitment_events::table
            .filter(commitment_events::commitment_id.eq_any(chunk))
            .filter(super::planned_each_time())
            .select((
                commitment_events::commitment_id,
                commitment_events::effective_date,
                commitment_events::kind,
                commitment_events::amount_cents,
            ))
            .load(conn)?;
        for (id, date, kind, amount) in events {
            let signed = signed_event_amount(&kind, Cents::new(amount))?;
            histories.entry(id).or_default().events.push((date, signed));
        }
        let calls: Vec<(String, NaiveDate, i64)> = notices::table
            .inner_join(capital_calls::table)
            .filter(notices::commitment_id.eq_any(chunk))
            .filter(super::planned_each_time())
            .select((notices::commitment_id, capital_calls::call_date, notices::amount_cents))
            .load(conn)?;
        for (id, date, amount) in calls {
            histories.entry(id).or_default().calls.push((date, Cents::new(amount)));
        }
    }
    Ok(histories)
}

/// The date a commitment took effect: its initial event's.
fn effective_since(conn: &mut DbConnection, commitment_id: &str) -> AppResult<NaiveDate> {
    Ok(commitment_events::table
        .filter(commitment_events::commitment_id.eq(commitment_id))
        .filter(commitment_events::kind.eq("initial"))
        .select(commitment_events::effective_date)
        .first(conn)?)
}

/// What a commitment event does to the amount committed: initial commitments and increases
/// add to it (and to the memorandum asset), decreases and cancellations take from it.
pub fn signed_event_amount(kind: &str, amount: Cents) -> Result<Cents, crate::domain::money::MoneyError> {
    if matches!(kind, "initial" | "increase") {
        Ok(amount)
    } else {
        amount.checked_neg()
    }
}

/// One change to a commitment, as recorded in its history.
struct EventInput<'a> {
    kind: &'a str,
    amount: Cents,
    effective_date: NaiveDate,
    oversubscription_allowed: bool,
    actor: &'a str,
}

/// Records the event and its memorandum entry on the fund's unfunded-commitment accounts.
fn record_event(
    conn: &mut DbConnection,
    row: &CommitmentRow,
    input: EventInput,
    accounts: [&Account; 2],
) -> AppResult<CommitmentEventRow> {
    let event = event_row(row, input);
    diesel::insert_into(commitment_events::table).values(&event).execute(conn)?;
    post_entry_to(conn, event_entry(row, &event, accounts)?, &accounts)?;
    Ok(event)
}

fn event_row(row: &CommitmentRow, input: EventInput) -> CommitmentEventRow {
    let EventInput { kind, amount, effective_date, oversubscription_allowed, actor } = input;
    CommitmentEventRow {
        id: new_id(),
        commitment_id: row.id.clone(),
        kind: kind.to_string(),
        amount_cents: amount.get(),
        committed_after_cents: row.committed_cents,
        effective_date,
        oversubscription_allowed: i32::from(oversubscription_allowed),
        actor: actor.to_string(),
        created_at: now_micros(),
    }
}

/// The memorandum entry of an event: the unfunded commitment, debited to the memorandum asset
/// and credited to its contra account (the other way round for decreases and cancellations).
fn event_entry(row: &CommitmentRow, event: &CommitmentEventRow, [memo, contra]: [&Account; 2]) -> AppResult<NewEntry> {
    let amount = Cents::new(event.amount_cents);
    let signed = signed_event_amount(&event.kind, amount)?;
    let line = |account: &Account, amount: Cents| PostingLine {
        account_id: account.id.clone(),
        amount,
        party_id: Some(row.source_id.clone()),
        memo: row.tranche_id.clone(),
    };
    Ok(NewEntry {
        fund_id: row.fund_id.clone(),
        effective_date: event.effective_date,
        actor: event.actor.clone(),
        event_type: format!("commitment_{}", event.kind),
        event_id: event.id.clone(),
        description: format!("Commitment {}: {amount}", event.kind),
        reverses_entry_id: None,
        amount_field: "amount",
        date_field: "effective_date",
        postings: vec![line(memo, signed), line(contra, signed.checked_neg()?)],
    })
}

pub fn commitment_row(conn: &mut DbConnection, commitment_id: &str) -> AppResult<CommitmentRow> {
    commitments::table
        .find(commitment_id)
        .select(CommitmentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("commitment {commitment_id}")))
}

/// One commitment with its event history.
pub fn get_commitment(conn: &mut DbConnection, commitment_id: &str) -> AppResult<Commitment> {
    let row = commitment_row(conn, commitment_id)?;
    let paid = paid_in_by_commitment(conn, &[row.id.as_str()])?;
    let mut view = row.view(paid.get(&row.id).copied().unwrap_or(0));
    let events: Vec<CommitmentEventRow> = commitment_events::table
        .filter(commitment_events::commitment_id.eq(commitment_id))
        .order(commitment_events::created_at.asc())
        .select(CommitmentEventRow::as_select())
        .load(conn)?;
    view.events = Some(events.into_iter().map(CommitmentEvent::from).collect());
    Ok(view)
}

fn paid_in_by_commitment(conn: &mut DbConnection, ids: &[&str]) -> AppResult<HashMap<String, i64>> {
    let mut paid = HashMap::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let rows: Vec<(String, i64)> = notices::table
            .filter(notices::commitment_id.eq_any(chunk))
            .group_by(notices::commitment_id)
            .select((notices::commitment_id, sql::<BigInt>("CAST(SUM(paid_cents) AS BIGINT)")))
            .load(conn)?;
        paid.extend(rows);
    }
    Ok(paid)
}

#[derive(Clone, Debug, Default)]
pub struct CommitmentFilter {
    pub fund_id: Option<String>,
    pub tranche_id: Option<String>,
    pub source_id: Option<String>,
    /// Only ids after this one (keyset pagination; ids are time-ordered UUIDv7).
    pub after_id: Option<String>,
    /// Only commitments with something left to call, filtered before the limit so that a limit
    /// counts only those.
    pub uncalled_only: bool,
}

pub fn commitment_rows(
    conn: &mut DbConnection,
    filter: &CommitmentFilter,
    limit: i64,
) -> AppResult<Vec<CommitmentRow>> {
    let mut query = commitments::table.into_boxed();
    if let Some(fund_id) = &filter.fund_id {
        query = query.filter(commitments::fund_id.eq(fund_id.clone()));
    }
    if let Some(tranche_id) = &filter.tranche_id {
        query = query.filter(commitments::tranche_id.eq(tranche_id.clone()));
    }
    if let Some(source_id) = &filter.source_id {
        query = query.filter(commitments::source_id.eq(source_id.clone()));
    }
    if let Some(after) = &filter.after_id {
        query = query.filter(commitments::id.gt(after.clone()));
    }
    if filter.uncalled_only {
        query = query.filter(commitments::committed_cents.gt(commitments::called_cents));
    }
    Ok(query.order(commitments::id.asc()).limit(limit).select(CommitmentRow::as_select()).load(conn)?)
}

pub fn list_commitments(conn: &mut DbConnection, filter: &CommitmentFilter, limit: i64) -> AppResult<Vec<Commitment>> {
    let rows = commitment_rows(conn, filter, limit)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let paid = paid_in_by_commitment(conn, &ids)?;
    Ok(rows.iter().map(|r| r.view(paid.get(&r.id).copied().unwrap_or(0))).collect())
}
