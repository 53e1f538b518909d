//! Funds and compartments: the books the ledger keeps.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::ledger::create_account;
use super::schema::funds;
use super::{new_id, now_micros, DbConnection};
use crate::domain::chart::STANDARD_CHART;
use crate::domain::money::Cents;
use crate::domain::payment::BankAccount;
use crate::error::{AppError, AppResult, Message};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = funds)]
pub struct FundRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub target_cents: i64,
    pub currency: String,
    pub inception_date: NaiveDate,
    pub term_years: i32,
    pub created_at: NaiveDateTime,
}

/// A fund as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Fund {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    /// `umbrella` or `compartment`
    pub kind: String,
    #[schema(value_type = String, example = "200000000000.00")]
    pub target_size: Cents,
    pub currency: String,
    pub inception_date: NaiveDate,
    pub term_years: i32,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
}

impl From<FundRow> for Fund {
    fn from(row: FundRow) -> Self {
        Fund {
            id: row.id,
            parent_id: row.parent_id,
            name: row.name,
            kind: row.kind,
            target_size: Cents::new(row.target_cents),
            currency: row.currency,
            inception_date: row.inception_date,
            term_years: row.term_years,
            created_at: row.created_at,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewFund {
    pub name: String,
    pub parent_id: Option<String>,
    pub target_size: Cents,
    pub inception_date: NaiveDate,
    pub term_years: i32,
}

/// Creates a fund (a compartment when it has a parent) with the standard chart of accounts.
pub fn create_fund(conn: &mut DbConnection, new: NewFund) -> AppResult<Fund> {
    if let Some(parent_id) = &new.parent_id {
        let parent = get_fund(conn, parent_id)
            .map_err(|_| AppError::rule_on("unknown-parent-fund", "parent_id", "no such fund"))?;
        if parent.kind != "umbrella" {
            return Err(AppError::rule_on(
                "compartment-of-compartment",
                "parent_id",
                "compartments belong to an umbrella fund, not to another compartment",
            ));
        }
    }
    let taken: i64 = funds::table.filter(funds::name.eq(&new.name)).count().get_result(conn)?;
    if taken > 0 {
        return Err(AppError::conflict("fund-name-taken", Message::new("msg-fund-name-taken").text("name", &new.name)));
    }
    let row = FundRow {
        id: new_id(),
        kind: if new.parent_id.is_some() { "compartment" } else { "umbrella" }.into(),
        parent_id: new.parent_id,
        name: new.name,
        target_cents: new.target_size.get(),
        currency: "EUR".into(),
        inception_date: new.inception_date,
        term_years: new.term_years,
        created_at: now_micros(),
    };
    diesel::insert_into(funds::table).values(&row).execute(conn)?;
    for (code, name, kind) in STANDARD_CHART {
        create_account(conn, &row.id, code, name, *kind)?;
    }
    Ok(row.into())
}

pub fn get_fund(conn: &mut DbConnection, fund_id: &str) -> AppResult<Fund> {
    funds::table
        .find(fund_id)
        .select(FundRow::as_select())
        .first(conn)
        .optional()?
        .map(Fund::from)
        .ok_or_else(|| AppError::not_found(format!("fund {fund_id}")))
}

pub fn list_funds(conn: &mut DbConnection) -> AppResult<Vec<Fund>> {
    Ok(funds::table
        .order(funds::created_at.asc())
        .select(FundRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Fund::from)
        .collect())
}

/// The account investors pay a fund's calls into: its own, or its umbrella's.
pub fn bank_account(conn: &mut DbConnection, fund_id: &str) -> AppResult<Option<BankAccount>> {
    let mut next = Some(fund_id.to_string());
    // Funds nest one level (umbrella and compartments); the bound guards a corrupt tree.
    for _ in 0..FUND_NESTING_MAX {
        let Some(id) = next else { break };
        let (parent, holder, iban, bic): (Option<String>, Option<String>, Option<String>, Option<String>) =
            funds::table
                .find(&id)
                .select((funds::parent_id, funds::bank_account_holder, funds::bank_iban, funds::bank_bic))
                .first(conn)
                .optional()?
                .ok_or_else(|| AppError::not_found(format!("fund {id}")))?;
        if let (Some(account_holder), Some(iban)) = (holder, iban) {
            return Ok(Some(BankAccount { account_holder, iban, bic }));
        }
        next = parent;
    }
    Ok(None)
}

/// Registers the account a fund's call notices print.
/// A bank account as entered (IBAN with spaces, lower case), checked: a refusal names its field.
pub fn checked_bank_account(holder: &str, iban: &str, bic: Option<&str>) -> AppResult<BankAccount> {
    BankAccount::parse(holder, iban, bic).map_err(|(field, reason)| AppError::field(field, reason))
}

pub fn set_bank_account(conn: &mut DbConnection, fund_id: &str, account: &BankAccount) -> AppResult<()> {
    let updated = diesel::update(funds::table.find(fund_id))
        .set((
            funds::bank_account_holder.eq(&account.account_holder),
            funds::bank_iban.eq(&account.iban),
            funds::bank_bic.eq(&account.bic),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(AppError::not_found(format!("fund {fund_id}")));
    }
    Ok(())
}

/// Umbrella, compartment: the deepest a fund tree goes, with room to spare.
const FUND_NESTING_MAX: usize = 4;
