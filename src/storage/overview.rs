//! The fund overview: the capital stack by tranche, by kind and programme of source, and
//! public against private money with the leverage ratio. An umbrella fund's figures include
//! its compartments. Read from the capital totals (`capital_totals`), a few rows per tranche.

use std::collections::BTreeMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::capital_totals::{self, Amounts};
use super::funds::{get_fund, Fund, FundRow};
use super::schema::{deployments, funds};
use super::structure::{is_public_kind, list_tranches};
use super::DbConnection;
use crate::domain::money::Cents;
use crate::error::AppResult;

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Figures {
    #[schema(value_type = String)]
    pub committed: Cents,
    #[schema(value_type = String)]
    pub called: Cents,
    #[schema(value_type = String)]
    pub paid_in: Cents,
    #[schema(value_type = String)]
    pub unfunded: Cents,
}

impl Figures {
    fn add(&mut self, amounts: &Amounts) -> AppResult<()> {
        self.committed = self.committed.checked_add(Cents::new(amounts.committed))?;
        self.called = self.called.checked_add(Cents::new(amounts.called))?;
        self.paid_in = self.paid_in.checked_add(Cents::new(amounts.paid))?;
        self.unfunded = self.committed.checked_sub(self.called)?;
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TrancheFigures {
    pub tranche_id: String,
    pub name: String,
    pub seniority: i32,
    pub first_loss: bool,
    #[schema(value_type = Option<String>)]
    pub return_cap: Option<Decimal>,
    #[schema(value_type = String)]
    pub target_size: Cents,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GroupFigures {
    /// Source kind or programme.
    pub key: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FundOverview {
    pub fund: Fund,
    /// Totals of this fund and its compartments.
    #[serde(flatten)]
    pub totals: Figures,
    #[schema(value_type = String)]
    pub deployed: Cents,
    pub public: Figures,
    pub private: Figures,
    /// Private euros committed per public euro, to two decimals; none without public money.
    #[schema(value_type = Option<String>, example = "3.00")]
    pub leverage: Option<Decimal>,
    pub by_tranche: Vec<TrancheFigures>,
    pub by_source_kind: Vec<GroupFigures>,
    pub by_programme: Vec<GroupFigures>,
    /// The compartments of an umbrella fund, each with its own overview.
    #[schema(no_recursion)]
    pub compartments: Vec<FundOverview>,
}

pub fn fund_overview(conn: &mut DbConnection, fund_id: &str) -> AppResult<FundOverview> {
    let fund = get_fund(conn, fund_id)?;
    let compartment_ids: Vec<String> = funds::table
        .filter(funds::parent_id.eq(fund_id))
        .order(funds::created_at.asc())
        .select(FundRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.id)
        .collect();
    let mut compartments = Vec::with_capacity(compartment_ids.len());
    for id in &compartment_ids {
        compartments.push(fund_overview(conn, id)?);
    }
    let mut scope = vec![fund_id.to_string()];
    scope.extend(compartment_ids);

    // The running totals, not the commitments: the cost does not grow with the fund's size.
    let facts = capital_totals::totals(conn, &scope)?;
    let mut totals = Figures::default();
    let (mut public, mut private) = (Figures::default(), Figures::default());
    let mut by_kind: BTreeMap<String, Figures> = BTreeMap::new();
    let mut by_programme: BTreeMap<String, Figures> = BTreeMap::new();
    let mut by_tranche: BTreeMap<String, Figures> = BTreeMap::new();
    for ((_, tranche, kind, programme), amounts) in &facts {
        totals.add(amounts)?;
        let side = if is_public_kind(kind) { &mut public } else { &mut private };
        side.add(amounts)?;
        by_kind.entry(kind.clone()).or_default().add(amounts)?;
        by_programme.entry(programme.clone()).or_default().add(amounts)?;
        by_tranche.entry(tranche.clone()).or_default().add(amounts)?;
    }
    let tranches = list_tranches(conn, fund_id)?
        .into_iter()
        .map(|t| TrancheFigures {
            figures: by_tranche.remove(&t.id).unwrap_or_default(),
            tranche_id: t.id,
            name: t.name,
            seniority: t.seniority,
            first_loss: t.first_loss,
            return_cap: t.return_cap,
            target_size: t.target_size,
        })
        .collect();
    let deployed: Option<i64> = deployments::table
        .filter(deployments::fund_id.eq_any(&scope))
        .select(sql::<diesel::sql_types::Nullable<BigInt>>("CAST(SUM(amount_cents) AS BIGINT)"))
        .first(conn)?;
    let leverage = crate::domain::metrics::leverage(private.committed, public.committed);
    let group =
        |map: BTreeMap<String, Figures>| map.into_iter().map(|(key, figures)| GroupFigures { key, figures }).collect();
    Ok(FundOverview {
        fund,
        totals,
        deployed: Cents::new(deployed.unwrap_or(0)),
        public,
        private,
        leverage,
        by_tranche: tranches,
        by_source_kind: group(by_kind),
        by_programme: group(by_programme),
        compartments,
    })
}
