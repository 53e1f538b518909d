//! Deployments into facilities, proceeds back from them, and valuations of the fund.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::ledger::{account_balance, account_balances, account_by_code, post_entry, NewEntry};
use super::schema::{deployments, proceeds, valuations};
use super::structure::get_facility;
use super::{new_id, now_micros, DbConnection};
use crate::domain::chart::{
    CAPITAL_CALL_RECEIVABLE, CASH, COMPUTE_GRANT_AWARDED, COMPUTE_GRANT_COMMITTED, COMPUTE_GRANT_DUE,
    COMPUTE_GRANT_POOL, GRANTS_TO_FACILITIES, GRANT_COMMITMENTS_PAYABLE, INVESTMENTS_EQUITY, INVESTMENT_INCOME,
    REALISED_GAINS, UNFUNDED_COMMITMENTS, UNFUNDED_COMMITMENTS_CONTRA, UNREALISED_GAINS,
};
use crate::domain::ledger::PostingLine;
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult, Message, OutOfOrder};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = deployments)]
pub struct DeploymentRow {
    pub id: String,
    pub fund_id: String,
    pub facility_id: String,
    pub kind: String,
    pub amount_cents: i64,
    pub value_date: NaiveDate,
    pub description: String,
    pub actor: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Deployment {
    pub id: String,
    pub fund_id: String,
    pub facility_id: String,
    /// `equity` or `grant`
    pub kind: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    pub value_date: NaiveDate,
    pub description: String,
}

impl From<DeploymentRow> for Deployment {
    fn from(r: DeploymentRow) -> Self {
        Deployment {
            id: r.id,
            fund_id: r.fund_id,
            facility_id: r.facility_id,
            kind: r.kind,
            amount: Cents::new(r.amount_cents),
            value_date: r.value_date,
            description: r.description,
        }
    }
}

fn two_postings(
    debit: String,
    credit: String,
    amount: Cents,
    party: Option<String>,
    memo: &str,
) -> AppResult<Vec<PostingLine>> {
    Ok(vec![
        PostingLine { account_id: debit, amount, party_id: party.clone(), memo: memo.to_string() },
        PostingLine { account_id: credit, amount: amount.checked_neg()?, party_id: party, memo: memo.to_string() },
    ])
}

/// Invests called cash in a facility as equity or a grant. Only cash the fund holds on the
/// value date and keeps on every later date can be deployed (the floor rule of the ledger).
pub fn deploy(conn: &mut DbConnection, row: DeploymentRow) -> AppResult<Deployment> {
    OutOfOrder { code: "deployment-in-future", field: "value_date", message: "msg-deployment-in-future" }
        .unless_come(row.value_date, now_micros().date())?;
    let facility = get_facility(conn, &row.facility_id)
        .map_err(|_| AppError::rule_on("unknown-facility", "facility_id", "no such facility"))?;
    let cash = account_by_code(conn, &row.fund_id, CASH)?;
    let amount = Cents::new(row.amount_cents);
    let target = if row.kind == "equity" { INVESTMENTS_EQUITY } else { GRANTS_TO_FACILITIES };
    let debit = account_by_code(conn, &row.fund_id, target)?;
    let row = DeploymentRow { id: new_id(), created_at: now_micros(), ..row };
    diesel::insert_into(deployments::table).values(&row).execute(conn)?;
    post_entry(
        conn,
        NewEntry {
            fund_id: row.fund_id.clone(),
            effective_date: row.value_date,
            actor: row.actor.clone(),
            event_type: "deployment".into(),
            event_id: row.id.clone(),
            description: format!("{} deployment into {}: {}", row.kind, facility.name, row.description),
            reverses_entry_id: None,
            amount_field: "amount",
            date_field: "value_date",
            postings: two_postings(debit.id, cash.id, amount, Some(facility.id.clone()), &row.kind)?,
        },
    )?;
    Ok(row.into())
}

/// What the fund deployed into facilities up to the end of `as_of`.
pub fn deployed_by(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<Cents> {
    let amounts: Vec<i64> = deployments::table
        .filter(deployments::fund_id.eq(fund_id))
        .filter(deployments::value_date.le(as_of))
        .select(deployments::amount_cents)
        .load(conn)?;
    Ok(Cents::sum(amounts.into_iter().map(Cents::new))?)
}

pub fn list_deployments(conn: &mut DbConnection, fund_ids: &[String]) -> AppResult<Vec<Deployment>> {
    Ok(deployments::table
        .filter(deployments::fund_id.eq_any(fund_ids))
        .filter(super::planned_each_time())
        .order(deployments::value_date.asc())
        .select(DeploymentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Deployment::from)
        .collect())
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = proceeds)]
pub struct ProceedsRow {
    pub id: String,
    pub fund_id: String,
    pub facility_id: Option<String>,
    pub amount_cents: i64,
    pub cost_returned_cents: i64,
    pub value_date: NaiveDate,
    pub description: String,
    pub actor: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Proceeds {
    pub id: String,
    pub fund_id: String,
    pub facility_id: Option<String>,
    #[schema(value_type = String)]
    pub amount: Cents,
    /// Part of the amount that returns invested cost; the rest is gain or income.
    #[schema(value_type = String)]
    pub cost_returned: Cents,
    pub value_date: NaiveDate,
    pub description: String,
}

/// Cash received by the fund: return of cost from a facility, gains, or income.
pub fn receive_proceeds(conn: &mut DbConnection, row: ProceedsRow) -> AppResult<Proceeds> {
    OutOfOrder { code: "proceeds-in-future", field: "value_date", message: "msg-proceeds-in-future" }
        .unless_come(row.value_date, now_micros().date())?;
    let cash = account_by_code(conn, &row.fund_id, CASH)?;
    let amount = Cents::new(row.amount_cents);
    let cost = Cents::new(row.cost_returned_cents);
    let gain = amount.checked_sub(cost)?;
    let mut postings =
        vec![PostingLine { account_id: cash.id, amount, party_id: row.facility_id.clone(), memo: "proceeds".into() }];
    match &row.facility_id {
        Some(facility_id) => {
            get_facility(conn, facility_id)
                .map_err(|_| AppError::rule_on("unknown-facility", "facility_id", "no such facility"))?;
            let investments = account_by_code(conn, &row.fund_id, INVESTMENTS_EQUITY)?;
            let carried = account_balance(conn, &investments.id, Some(facility_id), row.value_date)?;
            if cost > carried {
                return Err(AppError::rule_on(
                    "cost-above-investment",
                    "cost_returned",
                    Message::new("msg-cost-above-investment").amount("carried", carried).amount("cost", cost),
                ));
            }
            if !cost.is_zero() {
                postings.push(PostingLine {
                    account_id: investments.id,
                    amount: cost.checked_neg()?,
                    party_id: Some(facility_id.clone()),
                    memo: "cost returned".into(),
                });
            }
            if !gain.is_zero() {
                let gains = account_by_code(conn, &row.fund_id, REALISED_GAINS)?;
                postings.push(PostingLine {
                    account_id: gains.id,
                    amount: gain.checked_neg()?,
                    party_id: Some(facility_id.clone()),
                    memo: "realised gain".into(),
                });
            }
        }
        None => {
            if !cost.is_zero() {
                return Err(AppError::rule_on(
                    "cost-without-facility",
                    "cost_returned",
                    "cost can only be returned by a facility",
                ));
            }
            let income = account_by_code(conn, &row.fund_id, INVESTMENT_INCOME)?;
            postings.push(PostingLine {
                account_id: income.id,
                amount: gain.checked_neg()?,
                party_id: None,
                memo: "income".into(),
            });
        }
    }
    let row = ProceedsRow { id: new_id(), created_at: now_micros(), ..row };
    diesel::insert_into(proceeds::table).values(&row).execute(conn)?;
    post_entry(
        conn,
        NewEntry {
            fund_id: row.fund_id.clone(),
            effective_date: row.value_date,
            actor: row.actor.clone(),
            event_type: "proceeds".into(),
            event_id: row.id.clone(),
            description: format!("Proceeds: {}", row.description),
            reverses_entry_id: None,
            amount_field: "cost_returned",
            date_field: "value_date",
            postings,
        },
    )?;
    Ok(Proceeds {
        id: row.id,
        fund_id: row.fund_id,
        facility_id: row.facility_id,
        amount,
        cost_returned: cost,
        value_date: row.value_date,
        description: row.description,
    })
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = valuations)]
pub struct ValuationRow {
    pub id: String,
    pub fund_id: String,
    pub as_of_date: NaiveDate,
    pub nav_cents: i64,
    pub description: String,
    pub actor: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Valuation {
    pub id: String,
    pub fund_id: String,
    pub as_of: NaiveDate,
    #[schema(value_type = String)]
    pub nav: Cents,
    /// The unrealised gain (positive) or loss posted to bring the books to this NAV.
    #[schema(value_type = String)]
    pub adjustment: Cents,
    pub description: String,
}

/// Accounts outside the investors' net assets: memorandum commitments; capital called and not
/// yet paid, a receivable from the investor who owes it and not value of the fund for anyone
/// else (contra-equity until paid: NAV counts paid-in capital only, so a late or defaulting
/// investor never raises another's NAV); and the compute-grant pool, which is earmarked for SME
/// GPU-hours once the waterfall has reserved it, with what the pool owes facilities (paid from
/// the pool, not from the investors' cash).
pub const OUTSIDE_NAV: [&str; 8] = [
    UNFUNDED_COMMITMENTS,
    UNFUNDED_COMMITMENTS_CONTRA,
    CAPITAL_CALL_RECEIVABLE,
    COMPUTE_GRANT_POOL,
    COMPUTE_GRANT_COMMITTED,
    COMPUTE_GRANT_AWARDED,
    COMPUTE_GRANT_DUE,
    GRANT_COMMITMENTS_PAYABLE,
];

/// The investors' net assets in the books on a date: assets less liabilities, leaving out
/// the accounts of [`OUTSIDE_NAV`].
pub fn book_nav(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<Cents> {
    let balances = account_balances(conn, fund_id, as_of)?;
    let mut nav = Cents::ZERO;
    for balance in balances.iter().filter(|b| counts_in_nav(&b.code, &b.kind)) {
        nav = nav.checked_add(balance.net)?;
    }
    Ok(nav)
}

/// Whether an account (by code and kind) is part of the investors' net assets: an asset or
/// liability, and not (a sub-account of) one of [`OUTSIDE_NAV`].
pub fn counts_in_nav(code: &str, kind: &str) -> bool {
    let parent = code.split('.').next().unwrap_or_default();
    matches!(kind, "asset" | "liability") && !OUTSIDE_NAV.contains(&parent)
}

/// Records the fund's NAV and posts the unrealised gain or loss that brings the books to it.
pub fn record_valuation(conn: &mut DbConnection, row: ValuationRow) -> AppResult<Valuation> {
    // NAV is stated on a date that has come; one dated ahead would also hold every write that
    // moves NAV back until then (docs/ledger.md).
    OutOfOrder { code: "valuation-in-future", field: "as_of", message: "msg-valuation-in-future" }
        .unless_come(row.as_of_date, now_micros().date())?;
    refuse_before_latest_valuation(conn, &row.fund_id, row.as_of_date)?;
    let nav = Cents::new(row.nav_cents);
    let adjustment = nav.checked_sub(book_nav(conn, &row.fund_id, row.as_of_date)?)?;
    let investments = account_by_code(conn, &row.fund_id, INVESTMENTS_EQUITY)?;
    let carried = account_balance(conn, &investments.id, None, row.as_of_date)?;
    if carried.checked_add(adjustment)?.is_negative() {
        return Err(AppError::rule_on(
            "valuation-below-books",
            "nav",
            Message::new("msg-valuation-below-books").amount("nav", nav).amount("carried", carried),
        ));
    }
    let row = ValuationRow { id: new_id(), created_at: now_micros(), ..row };
    diesel::insert_into(valuations::table).values(&row).execute(conn)?;
    if !adjustment.is_zero() {
        let gains = account_by_code(conn, &row.fund_id, UNREALISED_GAINS)?;
        post_entry(
            conn,
            NewEntry {
                fund_id: row.fund_id.clone(),
                effective_date: row.as_of_date,
                actor: row.actor.clone(),
                event_type: "valuation".into(),
                event_id: row.id.clone(),
                description: format!("Valuation to NAV {nav}: {}", row.description),
                reverses_entry_id: None,
                amount_field: "nav",
                date_field: "as_of",
                postings: two_postings(investments.id, gains.id, adjustment, None, "revaluation")?,
            },
        )?;
    }
    Ok(Valuation {
        id: row.id,
        fund_id: row.fund_id,
        as_of: row.as_of_date,
        nav,
        adjustment,
        description: row.description,
    })
}

/// A valuation states NAV on its date, and NAV after it is that valuation carried forward by
/// every cash flow since (docs/waterfall.md): one dated before the fund's latest would move NAV
/// on the later valuation's date away from what that valuation says, so it is refused. A
/// valuation on the latest date restates it.
fn refuse_before_latest_valuation(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<()> {
    OutOfOrder { code: "valuation-before-latest", field: "as_of", message: "msg-valuation-before-latest" }
        .unless_on_or_after(latest_valuation_date(conn, fund_id)?, as_of)
}

/// The date of the fund's latest valuation, if any.
pub fn latest_valuation_date(conn: &mut DbConnection, fund_id: &str) -> AppResult<Option<NaiveDate>> {
    Ok(valuations::table
        .filter(valuations::fund_id.eq(fund_id))
        .select(diesel::dsl::max(valuations::as_of_date))
        .first(conn)?)
}

/// The latest valuation on or before a date.
pub fn latest_valuation(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<Option<ValuationRow>> {
    Ok(valuations::table
        .filter(valuations::fund_id.eq(fund_id))
        .filter(valuations::as_of_date.le(as_of))
        .order((valuations::as_of_date.desc(), valuations::created_at.desc()))
        .select(ValuationRow::as_select())
        .first(conn)
        .optional()?)
}
