//! Capital calls, their per-investor notices, and contributions that pay them.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::capital_totals::{self, Amounts, CapitalChanges};
use super::commitments::{callable_where_a_removal_follows, commitment_rows, committed_on, CommitmentFilter};
use super::ledger::{account_by_code, post_entry, NewEntry};
use super::schema::{capital_call_lines, capital_calls, commitments, contributions, notices, sources, tranches};
use super::structure::{get_facility, get_tranche, Tranche};
use super::{new_id, now_micros, DbConnection};
use crate::domain::capital::{allocate_call, split_by_purpose, CallError};
use crate::domain::chart::{
    tranche_account, CAPITAL_CALL_RECEIVABLE, CASH, CONTRIBUTED_CAPITAL, UNFUNDED_COMMITMENTS,
    UNFUNDED_COMMITMENTS_CONTRA,
};
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult, Message, OutOfOrder};

/// Investors one call may reach per tranche: bounds the entry and the transaction.
pub const CALL_INVESTORS_MAX: i64 = 5_000;
/// Purposes of called money, in the order notices list them.
pub const PURPOSES: [&str; 3] = ["investment", "fees", "expenses"];

#[derive(Clone, Debug)]
pub struct CallLine {
    pub tranche_id: String,
    pub purpose: String,
    pub facility_id: Option<String>,
    pub amount: Cents,
}

#[derive(Clone, Debug)]
pub struct NewCall {
    pub call_date: NaiveDate,
    pub due_date: NaiveDate,
    pub description: String,
    pub lines: Vec<CallLine>,
    pub actor: String,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = capital_calls)]
pub struct CallRow {
    pub id: String,
    pub fund_id: String,
    pub call_number: i32,
    pub call_date: NaiveDate,
    pub due_date: NaiveDate,
    pub description: String,
    pub amount_cents: i64,
    pub actor: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = capital_call_lines)]
pub struct CallLineRow {
    pub call_id: String,
    pub line: i32,
    pub tranche_id: String,
    pub purpose: String,
    pub facility_id: Option<String>,
    pub amount_cents: i64,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    pub id: String,
    pub call_id: String,
    pub commitment_id: String,
    pub source_id: String,
    pub tranche_id: String,
    pub amount_cents: i64,
    pub investment_cents: i64,
    pub fees_cents: i64,
    pub expenses_cents: i64,
    pub paid_cents: i64,
    pub cumulative_called_cents: i64,
    pub remaining_unfunded_cents: i64,
    pub due_date: NaiveDate,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CallLineView {
    pub tranche_id: String,
    pub purpose: String,
    pub facility_id: Option<String>,
    #[schema(value_type = String)]
    pub amount: Cents,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CapitalCall {
    pub id: String,
    pub fund_id: String,
    pub call_number: i32,
    pub call_date: NaiveDate,
    pub due_date: NaiveDate,
    pub description: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    pub lines: Vec<CallLineView>,
    pub notice_count: usize,
}

/// A capital-call notice with the ILPA fields.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Notice {
    pub id: String,
    pub call_id: String,
    pub call_number: i32,
    pub fund_id: String,
    pub investor_id: String,
    pub investor_name: String,
    pub tranche_id: String,
    pub tranche_name: String,
    pub commitment_id: String,
    pub call_date: NaiveDate,
    pub due_date: NaiveDate,
    pub description: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    #[schema(value_type = String)]
    pub investment: Cents,
    #[schema(value_type = String)]
    pub fees: Cents,
    #[schema(value_type = String)]
    pub expenses: Cents,
    #[schema(value_type = String)]
    pub paid: Cents,
    #[schema(value_type = String)]
    pub outstanding: Cents,
    /// Called from this commitment including this notice.
    #[schema(value_type = String)]
    pub cumulative_called: Cents,
    /// Unfunded commitment left after this notice.
    #[schema(value_type = String)]
    pub remaining_unfunded: Cents,
    /// `unpaid`, `partial` or `paid`
    pub status: &'static str,
    /// Past its due date and not fully paid.
    pub late: bool,
}

fn call_error(error: CallError, tranche: &Tranche) -> AppError {
    match error {
        CallError::AboveUnfunded { call, unfunded } => AppError::rule_on(
            "call-above-unfunded",
            "lines",
            Message::new("msg-call-above-unfunded")
                .amount("call", call)
                .text("tranche", &tranche.name)
                .amount("unfunded", unfunded),
        ),
        other => AppError::rule_on("invalid-call", "lines", other.to_string()),
    }
}

/// Issues a call: allocates each tranche's amount over its investors, writes one notice per
/// investor and posts the receivables, all in the caller's transaction.
pub fn create_call(conn: &mut DbConnection, fund_id: &str, new: NewCall) -> AppResult<CapitalCall> {
    OutOfOrder { code: "call-in-future", field: "call_date", message: "msg-call-in-future" }
        .unless_come(new.call_date, now_micros().date())?;
    let mut by_tranche: BTreeMap<String, [Cents; 3]> = BTreeMap::new();
    for (index, line) in new.lines.iter().enumerate() {
        let tranche = get_tranche(conn, &line.tranche_id).map_err(|_| {
            AppError::rule_on("unknown-tranche", &format!("lines[{index}].tranche_id"), "no such tranche")
        })?;
        if tranche.fund_id != fund_id {
            return Err(AppError::rule_on(
                "unknown-tranche",
                &format!("lines[{index}].tranche_id"),
                "the tranche belongs to another fund",
            ));
        }
        if let Some(facility_id) = &line.facility_id {
            get_facility(conn, facility_id).map_err(|_| {
                AppError::rule_on("unknown-facility", &format!("lines[{index}].facility_id"), "no such facility")
            })?;
        }
        let slot = PURPOSES.iter().position(|p| *p == line.purpose).unwrap_or(0);
        let totals = by_tranche.entry(line.tranche_id.clone()).or_insert([Cents::ZERO; 3]);
        totals[slot] = totals[slot].checked_add(line.amount)?;
    }
    let call_number: Option<i32> = capital_calls::table
        .filter(capital_calls::fund_id.eq(fund_id))
        .select(diesel::dsl::max(capital_calls::call_number))
        .first(conn)?;
    let amount = Cents::sum(new.lines.iter().map(|l| l.amount))?;
    let call = CallRow {
        id: new_id(),
        fund_id: fund_id.to_string(),
        call_number: call_number.unwrap_or(0) + 1,
        call_date: new.call_date,
        due_date: new.due_date,
        description: new.description.clone(),
        amount_cents: amount.get(),
        actor: new.actor.clone(),
        created_at: now_micros(),
    };
    diesel::insert_into(capital_calls::table).values(&call).execute(conn)?;
    let line_rows: Vec<CallLineRow> = new
        .lines
        .iter()
        .enumerate()
        .map(|(index, l)| CallLineRow {
            call_id: call.id.clone(),
            line: index as i32 + 1,
            tranche_id: l.tranche_id.clone(),
            purpose: l.purpose.clone(),
            facility_id: l.facility_id.clone(),
            amount_cents: l.amount.get(),
        })
        .collect();
    super::batch_insert!(conn, capital_call_lines::table, &line_rows);

    let mut notice_rows = Vec::new();
    let mut capital = CapitalChanges::default();
    for (tranche_id, purposes) in &by_tranche {
        let tranche = get_tranche(conn, tranche_id)?;
        notice_rows.extend(allocate_tranche(conn, &call, &tranche, purposes, &mut capital)?);
    }
    capital.write(conn)?;
    for chunk in notice_rows.chunks(500) {
        super::batch_insert!(conn, notices::table, chunk);
    }
    post_call_entry(conn, &call, &notice_rows)?;
    get_call(conn, &call.id)
}

fn allocate_tranche(
    conn: &mut DbConnection,
    call: &CallRow,
    tranche: &Tranche,
    purposes: &[Cents; 3],
    capital: &mut CapitalChanges,
) -> AppResult<Vec<NoticeRow>> {
    let filter = CommitmentFilter { tranche_id: Some(tranche.id.clone()), uncalled_only: true, ..Default::default() };
    let rows = commitment_rows(conn, &filter, CALL_INVESTORS_MAX + 1)?;
    if rows.len() as i64 > CALL_INVESTORS_MAX {
        return Err(AppError::rule(
            "too-many-investors",
            Message::new("msg-too-many-investors").count("max", CALL_INVESTORS_MAX),
        ));
    }
    let total = Cents::sum(purposes.iter().copied())?;
    // A call draws on what was committed on its date and is still uncalled: not on a commitment
    // that took effect later, nor on an increase dated after it.
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    // Nor on an amount a decrease dated after it takes away: the commitment must stay committed
    // at least what is called by then on every date from the call's on.
    let on_call_date = committed_on(conn, &ids, call.call_date)?;
    let where_a_removal_follows = callable_where_a_removal_follows(conn, &ids, call.call_date)?;
    // What each commits on the call date (never more than it commits now): the notice's
    // remaining unfunded amount is counted from it too.
    let committed_then: Vec<Cents> = rows
        .iter()
        .map(|c| on_call_date.get(&c.id).copied().unwrap_or(Cents::ZERO).min(Cents::new(c.committed_cents)))
        .collect();
    let unfunded: Vec<Cents> = rows
        .iter()
        .zip(&committed_then)
        .map(|(c, committed)| {
            let uncalled = committed.checked_sub(Cents::new(c.called_cents))?.max(Cents::ZERO);
            Ok(where_a_removal_follows.get(&c.id).map_or(uncalled, |room| uncalled.min(*room)))
        })
        .collect::<AppResult<_>>()?;
    let shares = allocate_call(total, &unfunded).map_err(|e| call_error(e, tranche))?;
    let split = split_by_purpose(&shares, purposes).map_err(|e| call_error(e, tranche))?;
    let called_then = called_by_call_date_if_called_later(conn, call, &ids)?;
    let mut notices = Vec::new();
    for (((commitment, share), parts), committed) in rows.iter().zip(&shares).zip(&split).zip(&committed_then) {
        if share.is_zero() {
            continue;
        }
        let called_after = commitment.called_cents + share.get();
        // The notice tells what was called by its call's date, itself included.
        let called_before = called_then
            .as_ref()
            .map_or(commitment.called_cents, |by_date| by_date.get(&commitment.id).copied().unwrap_or(0));
        let called_through_call_date = called_before + share.get();
        diesel::update(commitments::table.find(&commitment.id))
            .set(commitments::called_cents.eq(called_after))
            .execute(conn)?;
        capital.add(
            &commitment.fund_id,
            &commitment.tranche_id,
            &commitment.source_id,
            Amounts::called(share.get()),
        )?;
        notices.push(NoticeRow {
            id: new_id(),
            call_id: call.id.clone(),
            commitment_id: commitment.id.clone(),
            source_id: commitment.source_id.clone(),
            tranche_id: tranche.id.clone(),
            amount_cents: share.get(),
            investment_cents: parts[0].get(),
            fees_cents: parts[1].get(),
            expenses_cents: parts[2].get(),
            paid_cents: 0,
            cumulative_called_cents: called_through_call_date,
            remaining_unfunded_cents: committed
                .checked_sub(Cents::new(called_through_call_date))?
                .max(Cents::ZERO)
                .get(),
            due_date: call.due_date,
            created_at: now_micros(),
        });
    }
    Ok(notices)
}

/// What each of `ids` had been called by calls dated on or before `call`'s date, when a call of
/// the fund is dated after it (a call recorded out of date order); `None` otherwise, when what
/// each has been called in all is what it had been called by then.
fn called_by_call_date_if_called_later(
    conn: &mut DbConnection,
    call: &CallRow,
    ids: &[&str],
) -> AppResult<Option<std::collections::HashMap<String, i64>>> {
    let later: i64 = capital_calls::table
        .filter(capital_calls::fund_id.eq(&call.fund_id))
        .filter(capital_calls::call_date.gt(call.call_date))
        .count()
        .get_result(conn)?;
    if later == 0 {
        return Ok(None);
    }
    let mut called = std::collections::HashMap::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let rows: Vec<(String, i64)> = notices::table
            .inner_join(capital_calls::table)
            .filter(notices::commitment_id.eq_any(chunk))
            .filter(capital_calls::call_date.le(call.call_date))
            .filter(super::planned_each_time())
            .group_by(notices::commitment_id)
            .select((
                notices::commitment_id,
                diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(SUM(notices.amount_cents) AS BIGINT)"),
            ))
            .load(conn)?;
        called.extend(rows);
    }
    Ok(Some(called))
}

fn post_call_entry(conn: &mut DbConnection, call: &CallRow, notices: &[NoticeRow]) -> AppResult<()> {
    let receivable = account_by_code(conn, &call.fund_id, CAPITAL_CALL_RECEIVABLE)?;
    let memo = account_by_code(conn, &call.fund_id, UNFUNDED_COMMITMENTS)?;
    let contra = account_by_code(conn, &call.fund_id, UNFUNDED_COMMITMENTS_CONTRA)?;
    let mut capital_accounts = BTreeMap::new();
    let mut postings = Vec::with_capacity(notices.len() * 4);
    for notice in notices {
        if !capital_accounts.contains_key(&notice.tranche_id) {
            let tranche = get_tranche(conn, &notice.tranche_id)?;
            let account =
                account_by_code(conn, &call.fund_id, &tranche_account(CONTRIBUTED_CAPITAL, tranche.seniority))?;
            capital_accounts.insert(notice.tranche_id.clone(), account.id);
        }
        let capital = capital_accounts.get(&notice.tranche_id).cloned().unwrap_or_default();
        let amount = Cents::new(notice.amount_cents);
        let party = Some(notice.source_id.clone());
        let memo_text = format!("notice {}", notice.id);
        postings.push(PostingLine {
            account_id: receivable.id.clone(),
            amount,
            party_id: party.clone(),
            memo: memo_text.clone(),
        });
        postings.push(PostingLine {
            account_id: capital,
            amount: amount.checked_neg()?,
            party_id: party.clone(),
            memo: memo_text.clone(),
        });
        postings.push(PostingLine {
            account_id: contra.id.clone(),
            amount,
            party_id: party.clone(),
            memo: memo_text.clone(),
        });
        postings.push(PostingLine {
            account_id: memo.id.clone(),
            amount: amount.checked_neg()?,
            party_id: party,
            memo: memo_text,
        });
    }
    post_entry(
        conn,
        NewEntry {
            fund_id: call.fund_id.clone(),
            effective_date: call.call_date,
            actor: call.actor.clone(),
            event_type: "capital_call".into(),
            event_id: call.id.clone(),
            description: format!("Capital call {}: {}", call.call_number, call.description),
            reverses_entry_id: None,
            amount_field: "lines",
            date_field: "call_date",
            postings,
        },
    )?;
    Ok(())
}

pub fn get_call(conn: &mut DbConnection, call_id: &str) -> AppResult<CapitalCall> {
    let call: CallRow = capital_calls::table
        .find(call_id)
        .select(CallRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("capital call {call_id}")))?;
    let lines: Vec<CallLineRow> = capital_call_lines::table
        .filter(capital_call_lines::call_id.eq(call_id))
        .order(capital_call_lines::line.asc())
        .select(CallLineRow::as_select())
        .load(conn)?;
    let notice_count: i64 = notices::table.filter(notices::call_id.eq(call_id)).count().get_result(conn)?;
    Ok(call_view(call, lines, notice_count as usize))
}

fn call_view(call: CallRow, lines: Vec<CallLineRow>, notice_count: usize) -> CapitalCall {
    CapitalCall {
        id: call.id,
        fund_id: call.fund_id,
        call_number: call.call_number,
        call_date: call.call_date,
        due_date: call.due_date,
        description: call.description,
        amount: Cents::new(call.amount_cents),
        lines: lines
            .into_iter()
            .map(|l| CallLineView {
                tranche_id: l.tranche_id,
                purpose: l.purpose,
                facility_id: l.facility_id,
                amount: Cents::new(l.amount_cents),
            })
            .collect(),
        notice_count,
    }
}

pub fn list_calls(conn: &mut DbConnection, fund_id: &str) -> AppResult<Vec<CapitalCall>> {
    let calls: Vec<CallRow> = capital_calls::table
        .filter(capital_calls::fund_id.eq(fund_id))
        .order(capital_calls::call_number.asc())
        .select(CallRow::as_select())
        .load(conn)?;
    calls
        .into_iter()
        .map(|call| {
            let id = call.id.clone();
            get_call(conn, &id)
        })
        .collect()
}

#[derive(Clone, Debug, Default)]
pub struct NoticeFilter {
    pub fund_id: Option<String>,
    pub call_id: Option<String>,
    pub source_id: Option<String>,
    pub late_only: bool,
    pub after_id: Option<String>,
}

type NoticeJoin = (NoticeRow, CallRow, String, String);

/// Notices with their call, investor and tranche names, oldest first.
pub fn list_notices(
    conn: &mut DbConnection,
    filter: &NoticeFilter,
    today: NaiveDate,
    limit: i64,
) -> AppResult<Vec<Notice>> {
    let mut query = notices::table
        .inner_join(capital_calls::table)
        .inner_join(sources::table.on(sources::id.eq(notices::source_id)))
        .inner_join(tranches::table.on(tranches::id.eq(notices::tranche_id)))
        .into_boxed();
    if let Some(fund_id) = &filter.fund_id {
        query = query.filter(capital_calls::fund_id.eq(fund_id.clone()));
    }
    if let Some(call_id) = &filter.call_id {
        query = query.filter(notices::call_id.eq(call_id.clone()));
    }
    if let Some(source_id) = &filter.source_id {
        query = query.filter(notices::source_id.eq(source_id.clone()));
    }
    if filter.late_only {
        query = query.filter(notices::due_date.lt(today)).filter(notices::paid_cents.lt(notices::amount_cents));
    }
    if let Some(after) = &filter.after_id {
        query = query.filter(notices::id.gt(after.clone()));
    }
    let rows: Vec<NoticeJoin> = query
        .order(notices::id.asc())
        .limit(limit)
        .select((NoticeRow::as_select(), CallRow::as_select(), sources::legal_name, tranches::name))
        .load(conn)?;
    Ok(rows.into_iter().map(|row| notice_view(row, today)).collect())
}

fn notice_view((notice, call, investor_name, tranche_name): NoticeJoin, today: NaiveDate) -> Notice {
    let outstanding = notice.amount_cents - notice.paid_cents;
    Notice {
        status: if notice.paid_cents == 0 {
            "unpaid"
        } else if outstanding > 0 {
            "partial"
        } else {
            "paid"
        },
        late: outstanding > 0 && notice.due_date < today,
        id: notice.id,
        call_id: call.id,
        call_number: call.call_number,
        fund_id: call.fund_id,
        investor_id: notice.source_id,
        investor_name,
        tranche_id: notice.tranche_id,
        tranche_name,
        commitment_id: notice.commitment_id,
        call_date: call.call_date,
        due_date: notice.due_date,
        description: call.description,
        amount: Cents::new(notice.amount_cents),
        investment: Cents::new(notice.investment_cents),
        fees: Cents::new(notice.fees_cents),
        expenses: Cents::new(notice.expenses_cents),
        paid: Cents::new(notice.paid_cents),
        outstanding: Cents::new(outstanding),
        cumulative_called: Cents::new(notice.cumulative_called_cents),
        remaining_unfunded: Cents::new(notice.remaining_unfunded_cents),
    }
}

pub fn get_notice(conn: &mut DbConnection, notice_id: &str, today: NaiveDate) -> AppResult<Notice> {
    let row: Option<NoticeJoin> = notices::table
        .inner_join(capital_calls::table)
        .inner_join(sources::table.on(sources::id.eq(notices::source_id)))
        .inner_join(tranches::table.on(tranches::id.eq(notices::tranche_id)))
        .filter(notices::id.eq(notice_id))
        .select((NoticeRow::as_select(), CallRow::as_select(), sources::legal_name, tranches::name))
        .first(conn)
        .optional()?;
    row.map(|r| notice_view(r, today)).ok_or_else(|| AppError::not_found(format!("notice {notice_id}")))
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = contributions)]
pub struct ContributionRow {
    pub id: String,
    pub notice_id: String,
    pub amount_cents: i64,
    pub value_date: NaiveDate,
    pub actor: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Contribution {
    pub id: String,
    pub notice_id: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    pub value_date: NaiveDate,
    /// The notice after this payment.
    pub notice: Notice,
}

/// A distribution shared what it paid, and a write-down its loss, by the capital paid in by its
/// date: a payment dated then, recorded after it, would have had a share and would leave that
/// allocation wrong (docs/capital-activity.md).
fn refuse_before_distribution_or_write_down(
    conn: &mut DbConnection,
    fund_id: &str,
    value_date: NaiveDate,
) -> AppResult<()> {
    use super::waterfall::{latest_distribution, latest_write_down};
    let refusal = |code, message| OutOfOrder { code, field: "value_date", message };
    refusal("contribution-before-distribution", "msg-contribution-before-distribution")
        .unless_after(latest_distribution(conn, fund_id)?, value_date)?;
    refusal("contribution-before-write-down", "msg-contribution-before-write-down")
        .unless_after(latest_write_down(conn, fund_id)?, value_date)
}

/// Records a payment against a notice; paying more than is outstanding is refused.
pub fn record_contribution(
    conn: &mut DbConnection,
    notice_id: &str,
    amount: Cents,
    value_date: NaiveDate,
    actor: &str,
    today: NaiveDate,
) -> AppResult<Contribution> {
    OutOfOrder { code: "contribution-in-future", field: "value_date", message: "msg-contribution-in-future" }
        .unless_come(value_date, today)?;
    let notice = get_notice(conn, notice_id, today)?;
    if amount > notice.outstanding {
        return Err(AppError::rule_on(
            "over-payment",
            "amount",
            Message::new("msg-over-payment")
                .amount("outstanding", notice.outstanding)
                .amount("amount", notice.amount)
                .amount("paid", amount),
        ));
    }
    if value_date < notice.call_date {
        return Err(AppError::rule_on(
            "contribution-before-call",
            "value_date",
            "a contribution cannot be dated before its call",
        ));
    }
    refuse_before_distribution_or_write_down(conn, &notice.fund_id, value_date)?;
    let row = ContributionRow {
        id: new_id(),
        notice_id: notice_id.to_string(),
        amount_cents: amount.get(),
        value_date,
        actor: actor.to_string(),
        created_at: now_micros(),
    };
    diesel::insert_into(contributions::table).values(&row).execute(conn)?;
    diesel::update(notices::table.find(notice_id))
        .set(notices::paid_cents.eq(notices::paid_cents + amount.get()))
        .execute(conn)?;
    let commitment_fund: String =
        commitments::table.find(&notice.commitment_id).select(commitments::fund_id).first(conn)?;
    capital_totals::add_one(
        conn,
        &commitment_fund,
        &notice.tranche_id,
        &notice.investor_id,
        Amounts::paid(amount.get()),
    )?;
    let cash = account_by_code(conn, &notice.fund_id, CASH)?;
    let receivable = account_by_code(conn, &notice.fund_id, CAPITAL_CALL_RECEIVABLE)?;
    let party = Some(notice.investor_id.clone());
    let memo = format!("notice {notice_id}");
    post_entry(
        conn,
        NewEntry {
            fund_id: notice.fund_id.clone(),
            effective_date: value_date,
            actor: actor.to_string(),
            event_type: "contribution".into(),
            event_id: row.id.clone(),
            description: format!("Contribution to call {} by {}", notice.call_number, notice.investor_name),
            reverses_entry_id: None,
            amount_field: "amount",
            date_field: "value_date",
            postings: vec![
                PostingLine { account_id: cash.id, amount, party_id: party.clone(), memo: memo.clone() },
                PostingLine { account_id: receivable.id, amount: amount.checked_neg()?, party_id: party, memo },
            ],
        },
    )?;
    Ok(Contribution {
        id: row.id,
        notice_id: notice_id.to_string(),
        amount,
        value_date,
        notice: get_notice(conn, notice_id, today)?,
    })
}
