//! Commitments of sources to tranches. A commitment changes only by new events (initial,
//! increase, decrease, cancel); the row keeps the running totals the events produce.
//! Unfunded commitments are carried in memorandum accounts (9000/9100) so that the ledger
//! reconciles with them.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Serialize;
use utoipa::ToSchema;

use super::funds::get_fund;
use super::ledger::{accounts_by_codes, post_entry_to, Account, NewEntry};
use super::schema::{commitment_events, commitments, notices};
use super::structure::{get_source, get_tranche, Tranche};
use super::{new_id, now_micros, DbConnection};
use crate::domain::chart::{UNFUNDED_COMMITMENTS, UNFUNDED_COMMITMENTS_CONTRA};
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult};

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

fn tranche_committed(conn: &mut DbConnection, tranche_id: &str) -> AppResult<Cents> {
    let total: Option<i64> = commitments::table
        .filter(commitments::tranche_id.eq(tranche_id))
        .select(sql::<Nullable<BigInt>>("CAST(SUM(committed_cents) AS BIGINT)"))
        .first(conn)?;
    Ok(Cents::new(total.unwrap_or(0)))
}

fn check_target(tranche: &Tranche, committed: Cents, added: Cents, allowed: bool) -> AppResult<()> {
    let after = committed.checked_add(added)?;
    if after > tranche.target_size && !allowed {
        return Err(AppError::rule_on(
            "above-tranche-target",
            "amount",
            format!(
                "commitments to {} would reach {after}, above its target of {}; staff may allow an over-subscription explicitly",
                tranche.name, tranche.target_size
            ),
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
}

/// Checks a new commitment against what does not change: the fund, tranche and source exist
/// and belong together, and the amount reaches the tranche's minimum ticket.
pub fn plan_commitment(conn: &mut DbConnection, fund_id: &str, new: &NewCommitment) -> AppResult<CommitmentPlan> {
    get_fund(conn, fund_id)?;
    let tranche = get_tranche(conn, &new.tranche_id)
        .map_err(|_| AppError::rule_on("unknown-tranche", "tranche_id", "no such tranche"))?;
    if tranche.fund_id != fund_id {
        return Err(AppError::rule_on("unknown-tranche", "tranche_id", "the tranche belongs to another fund"));
    }
    get_source(conn, &new.source_id).map_err(|_| AppError::rule_on("unknown-source", "source_id", "no such source"))?;
    if new.amount < tranche.min_ticket {
        return Err(AppError::rule_on(
            "below-minimum-ticket",
            "amount",
            format!("the minimum ticket of {} is {}", tranche.name, tranche.min_ticket),
        ));
    }
    let [memo, contra] = accounts_by_codes(conn, fund_id, [UNFUNDED_COMMITMENTS, UNFUNDED_COMMITMENTS_CONTRA])?;
    Ok(CommitmentPlan { fund_id: fund_id.to_string(), tranche, memo, contra })
}

/// Records a new commitment and its memorandum entry, checking what other writes change: no
/// commitment of the source to the tranche yet, and the tranche target. Call inside
/// [`super::write_tx`], after [`plan_commitment`].
pub fn record_commitment(conn: &mut DbConnection, plan: &CommitmentPlan, new: &NewCommitment) -> AppResult<Commitment> {
    // One query for both: the tranche's total committed and whether the source is among it.
    let (committed, existing): (Option<i64>, Option<i64>) = commitments::table
        .filter(commitments::tranche_id.eq(&plan.tranche.id))
        .select((
            sql::<Nullable<BigInt>>("CAST(SUM(committed_cents) AS BIGINT)"),
            sql::<Nullable<BigInt>>("CAST(SUM(CASE WHEN source_id = ")
                .bind::<Text, _>(&new.source_id)
                .sql(" THEN 1 ELSE 0 END) AS BIGINT)"),
        ))
        .first(conn)?;
    if existing.unwrap_or(0) > 0 {
        return Err(AppError::conflict(
            "commitment-exists",
            "this source already has a commitment to this tranche; amend it instead",
        ));
    }
    check_target(&plan.tranche, Cents::new(committed.unwrap_or(0)), new.amount, new.allow_oversubscription)?;
    let row = CommitmentRow {
        id: new_id(),
        fund_id: plan.fund_id.clone(),
        tranche_id: new.tranche_id.clone(),
        source_id: new.source_id.clone(),
        committed_cents: new.amount.get(),
        called_cents: 0,
        created_at: now_micros(),
    };
    diesel::insert_into(commitments::table).values(&row).execute(conn)?;
    let input = EventInput {
        kind: "initial",
        amount: new.amount,
        effective_date: new.effective_date,
        oversubscription_allowed: new.allow_oversubscription,
        actor: &new.actor,
    };
    let event = record_event(conn, &row, input, [&plan.memo, &plan.contra])?;
    // What `get_commitment` would read back: nothing of it is called or paid in yet.
    let mut view = row.view(0);
    view.events = Some(vec![event.into()]);
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
    let committed = Cents::new(row.committed_cents);
    let called = Cents::new(row.called_cents);
    let (delta, after, label) = match (kind, amount) {
        (AmendmentKind::Increase, Some(amount)) => {
            let tranche = get_tranche(conn, &row.tranche_id)?;
            let tranche_total = tranche_committed(conn, &tranche.id)?;
            check_target(&tranche, tranche_total, amount, allow_oversubscription)?;
            (amount, committed.checked_add(amount)?, "increase")
        }
        (AmendmentKind::Decrease, Some(amount)) => {
            let after = committed.checked_sub(amount)?;
            if after < called {
                return Err(AppError::rule_on(
                    "decrease-below-called",
                    "amount",
                    format!(
                        "{called} is already called; the commitment cannot fall below it (at most {} can be removed)",
                        committed.checked_sub(called)?
                    ),
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
    diesel::update(commitments::table.find(commitment_id))
        .set(commitments::committed_cents.eq(after.get()))
        .execute(conn)?;
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
    [memo, contra]: [&Account; 2],
) -> AppResult<CommitmentEventRow> {
    let EventInput { kind, amount, effective_date, oversubscription_allowed, actor } = input;
    let event = CommitmentEventRow {
        id: new_id(),
        commitment_id: row.id.clone(),
        kind: kind.to_string(),
        amount_cents: amount.get(),
        committed_after_cents: row.committed_cents,
        effective_date,
        oversubscription_allowed: i32::from(oversubscription_allowed),
        actor: actor.to_string(),
        created_at: now_micros(),
    };
    diesel::insert_into(commitment_events::table).values(&event).execute(conn)?;
    let signed = signed_event_amount(kind, amount)?;
    post_entry_to(
        conn,
        NewEntry {
            fund_id: row.fund_id.clone(),
            effective_date,
            actor: actor.to_string(),
            event_type: format!("commitment_{kind}"),
            event_id: event.id.clone(),
            description: format!("Commitment {kind}: {amount}"),
            reverses_entry_id: None,
            postings: vec![
                PostingLine {
                    account_id: memo.id.clone(),
                    amount: signed,
                    party_id: Some(row.source_id.clone()),
                    memo: row.tranche_id.clone(),
                },
                PostingLine {
                    account_id: contra.id.clone(),
                    amount: signed.checked_neg()?,
                    party_id: Some(row.source_id.clone()),
                    memo: row.tranche_id.clone(),
                },
            ],
        },
        &[memo, contra],
    )?;
    Ok(event)
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
    for chunk in ids.chunks(500) {
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
    Ok(query.order(commitments::id.asc()).limit(limit).select(CommitmentRow::as_select()).load(conn)?)
}

pub fn list_commitments(conn: &mut DbConnection, filter: &CommitmentFilter, limit: i64) -> AppResult<Vec<Commitment>> {
    let rows = commitment_rows(conn, filter, limit)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let paid = paid_in_by_commitment(conn, &ids)?;
    Ok(rows.iter().map(|r| r.view(paid.get(&r.id).copied().unwrap_or(0))).collect())
}
