//! Investor metrics and capital-account statements, from the positions and a hypothetical
//! liquidation of the fund on the date asked.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::tranches;
use super::waterfall::{liquidate, Liquidation, PositionState};
use super::DbConnection;
use crate::domain::metrics::{moic, multiples, xirr, Multiples, Xirr};
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Metrics {
    /// `fund`, `tranche` or `investor`
    pub scope: &'static str,
    pub id: String,
    pub name: String,
    #[schema(value_type = String)]
    pub paid_in: Cents,
    #[schema(value_type = String)]
    pub distributed: Cents,
    /// Value by hypothetical liquidation of the fund on the date.
    #[schema(value_type = String)]
    pub nav: Cents,
    #[serde(flatten)]
    pub multiples: Multiples,
    pub xirr: Xirr,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FundMetrics {
    pub fund_id: String,
    pub as_of: NaiveDate,
    /// The investors' net assets liquidated: the latest valuation as posted, with later cash flows.
    #[schema(value_type = String)]
    pub fund_nav: Cents,
    pub valuation_date: Option<NaiveDate>,
    /// None for investors, who see only their own line.
    pub fund: Option<Metrics>,
    /// Capital the fund invested in facilities up to `as_of` (its deployments); none for
    /// investors, as `fund`.
    #[schema(value_type = Option<String>)]
    pub invested: Option<Cents>,
    /// MOIC: TVPI on invested capital, the fund's distributed and NAV over `invested`, to 4
    /// decimals; none without investments, and for investors.
    #[schema(value_type = Option<String>)]
    pub moic: Option<Decimal>,
    pub tranches: Vec<Metrics>,
    pub investors: Vec<Metrics>,
}

fn group_metrics(
    scope: &'static str,
    id: String,
    name: String,
    members: &[&PositionState],
    liquidation: &Liquidation,
) -> AppResult<Metrics> {
    let mut paid_in = Cents::ZERO;
    let mut distributed = Cents::ZERO;
    let mut nav = Cents::ZERO;
    let mut flows: Vec<(NaiveDate, Cents)> = Vec::new();
    for state in members {
        for flow in state.position.flows.iter().filter(|f| f.amount.get() > 0) {
            paid_in = paid_in.checked_add(flow.amount)?;
            flows.push((flow.date, flow.amount.checked_neg()?));
        }
        for (date, amount) in &state.received {
            distributed = distributed.checked_add(*amount)?;
            flows.push((*date, *amount));
        }
        nav = nav.checked_add(liquidation.by_position.get(&*state.position.id).copied().unwrap_or_default())?;
    }
    if !nav.is_zero() {
        flows.push((liquidation.as_of, nav));
    }
    Ok(Metrics {
        scope,
        id,
        name,
        paid_in,
        distributed,
        nav,
        multiples: multiples(paid_in, distributed, nav),
        xirr: xirr(&flows),
    })
}

/// Whether `source_id` has a commitment in the fund, whatever its date.
fn has_commitment(conn: &mut DbConnection, fund_id: &str, source_id: &str) -> AppResult<bool> {
    use super::schema::commitments;
    let found: i64 = commitments::table
        .filter(commitments::fund_id.eq(fund_id))
        .filter(commitments::source_id.eq(source_id))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Metrics per fund, tranche and investor as of a date; `only_investor` limits them to one (an
/// investor without a commitment in the fund gets not found).
pub fn fund_metrics(
    conn: &mut DbConnection,
    fund_id: &str,
    as_of: NaiveDate,
    only_investor: Option<&str>,
) -> AppResult<FundMetrics> {
    let liquidation = liquidate(conn, fund_id, as_of)?;
    // Most senior first, as the query gives them.
    let tranche_names: Vec<(String, String)> = tranches::table
        .filter(tranches::fund_id.eq(fund_id))
        .order((tranches::seniority.asc(), tranches::id.asc()))
        .select((tranches::id, tranches::name))
        .load(conn)?;
    let mut source_ids: Vec<String> = liquidation.states.iter().map(|s| s.source_id.clone()).collect();
    source_ids.sort();
    source_ids.dedup();
    let source_names: BTreeMap<String, String> =
        super::structure::source_names(conn, &source_ids)?.into_iter().collect();

    let all: Vec<&PositionState> = liquidation.states.iter().collect();
    let mut investors = Vec::new();
    for (source, name) in &source_names {
        if only_investor.is_some_and(|only| only != source) {
            continue;
        }
        let members: Vec<&PositionState> = all.iter().copied().filter(|s| &s.source_id == source).collect();
        investors.push(group_metrics("investor", source.clone(), name.clone(), &members, &liquidation)?);
    }
    if let Some(only) = only_investor {
        // An investor reads a fund it has a stake in, never another's NAV.
        if investors.is_empty() && !has_commitment(conn, fund_id, only)? {
            return Err(AppError::not_found(format!("investor {only} in fund {fund_id}")));
        }
        return Ok(FundMetrics {
            fund_id: fund_id.into(),
            as_of,
            fund_nav: liquidation.fund_nav,
            valuation_date: liquidation.valuation_date,
            fund: None,
            invested: None,
            moic: None,
            tranches: vec![],
            investors,
        });
    }
    let mut tranche_metrics = Vec::new();
    for (tranche, name) in &tranche_names {
        let members: Vec<&PositionState> = all.iter().copied().filter(|s| &s.position.tranche_id == tranche).collect();
        tranche_metrics.push(group_metrics("tranche", tranche.clone(), name.clone(), &members, &liquidation)?);
    }
    let fund = group_metrics("fund", fund_id.into(), "fund".into(), &all, &liquidation)?;
    let invested = super::investments::deployed_by(conn, fund_id, as_of)?;
    Ok(FundMetrics {
        fund_id: fund_id.into(),
        as_of,
        fund_nav: liquidation.fund_nav,
        valuation_date: liquidation.valuation_date,
        invested: Some(invested),
        moic: moic(invested, fund.distributed, fund.nav),
        fund: Some(fund),
        tranches: tranche_metrics,
        investors,
    })
}

/// A tranche's value on a date by hypothetical liquidation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TrancheNav {
    pub fund_id: String,
    pub tranche_id: String,
    pub as_of: NaiveDate,
    #[schema(value_type = String)]
    pub fund_nav: Cents,
    pub valuation_date: Option<NaiveDate>,
    #[schema(value_type = String)]
    pub nav: Cents,
    /// The version of the waterfall terms that valued it: those in force on `as_of`.
    pub terms_version: i32,
    /// Per investor position of the tranche.
    pub positions: Vec<PositionNav>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PositionNav {
    pub commitment_id: String,
    pub investor_id: String,
    #[schema(value_type = String)]
    pub nav: Cents,
}

pub fn tranche_nav(
    conn: &mut DbConnection,
    fund_id: &str,
    tranche_id: &str,
    as_of: NaiveDate,
) -> AppResult<TrancheNav> {
    let tranche = super::structure::get_tranche(conn, tranche_id)?;
    if tranche.fund_id != fund_id {
        return Err(AppError::not_found(format!("tranche {tranche_id}")));
    }
    let liquidation = liquidate(conn, fund_id, as_of)?;
    let positions: Vec<PositionNav> = liquidation
        .states
        .iter()
        .filter(|s| s.position.tranche_id == tranche_id)
        .map(|s| PositionNav {
            commitment_id: s.position.id.to_string(),
            investor_id: s.source_id.clone(),
            nav: liquidation.by_position.get(&*s.position.id).copied().unwrap_or_default(),
        })
        .collect();
    let nav = Cents::sum(positions.iter().map(|p| p.nav))?;
    Ok(TrancheNav {
        fund_id: fund_id.into(),
        tranche_id: tranche_id.into(),
        as_of,
        fund_nav: liquidation.fund_nav,
        valuation_date: liquidation.valuation_date,
        nav,
        terms_version: liquidation.terms_version,
        positions,
    })
}

/// An investor's capital account over a period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Statement {
    pub fund_id: String,
    pub investor_id: String,
    pub investor_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Value by hypothetical liquidation at the end of the day before `from`.
    #[schema(value_type = String)]
    pub opening: Cents,
    #[schema(value_type = String)]
    pub contributions: Cents,
    #[schema(value_type = String)]
    pub distributions_capital: Cents,
    #[schema(value_type = String)]
    pub distributions_pref: Cents,
    /// Catch-up and residual split.
    #[schema(value_type = String)]
    pub distributions_profit: Cents,
    #[schema(value_type = String)]
    pub distributions_total: Cents,
    /// Change in value not explained by cash flows: closing - opening - contributions + distributions.
    #[schema(value_type = String)]
    pub gains_losses: Cents,
    /// Write-downs allocated to the investor in the period (part of gains and losses).
    #[schema(value_type = String)]
    pub write_downs: Cents,
    #[schema(value_type = String)]
    pub closing: Cents,
}

fn investor_value(liquidation: &Liquidation, investor: &str) -> Result<Cents, crate::domain::money::MoneyError> {
    Cents::sum(
        liquidation
            .states
            .iter()
            .filter(|s| s.source_id == investor)
            .map(|s| liquidation.by_position.get(&*s.position.id).copied().unwrap_or_default()),
    )
}

pub fn statement(
    conn: &mut DbConnection,
    fund_id: &str,
    investor: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Statement> {
    if to < from {
        return Err(AppError::field("query.to", "must not be before from"));
    }
    let investor_name = super::structure::get_source(conn, investor)?.legal_name;
    let before = from.pred_opt().unwrap_or(from);
    let opening_state = liquidate(conn, fund_id, before)?;
    let closing_state = liquidate(conn, fund_id, to)?;
    let opening = investor_value(&opening_state, investor)?;
    let closing = investor_value(&closing_state, investor)?;
    let mut contributions = Cents::ZERO;
    let (mut capital, mut pref, mut profit) = (Cents::ZERO, Cents::ZERO, Cents::ZERO);
    let mine: Vec<&PositionState> = closing_state.states.iter().filter(|s| s.source_id == investor).collect();
    if mine.is_empty() {
        return Err(AppError::not_found(format!("investor {investor} in fund {fund_id}")));
    }
    for state in &mine {
        for flow in state.position.flows.iter().filter(|f| f.amount.get() > 0 && f.date >= from) {
            contributions = contributions.checked_add(flow.amount)?;
        }
    }
    let lines = super::waterfall::investor_lines(conn, fund_id, investor, from, to)?;
    for (kind, paid) in lines {
        let slot = match kind.as_str() {
            "capital" => &mut capital,
            "pref" => &mut pref,
            _ => &mut profit,
        };
        *slot = slot.checked_add(paid)?;
    }
    let total = Cents::sum([capital, pref, profit])?;
    let opening_losses = Cents::sum(opening_state.states.iter().filter(|s| s.source_id == investor).map(|s| s.losses))?;
    let closing_losses = Cents::sum(mine.iter().map(|s| s.losses))?;
    let gains_losses = closing.checked_sub(opening)?.checked_sub(contributions)?.checked_add(total)?;
    Ok(Statement {
        fund_id: fund_id.into(),
        investor_id: investor.into(),
        investor_name,
        from,
        to,
        opening,
        contributions,
        distributions_capital: capital,
        distributions_pref: pref,
        distributions_profit: profit,
        distributions_total: total,
        gains_losses,
        write_downs: closing_losses.checked_sub(opening_losses)?,
        closing,
    })
}

/// One date of an investor's history in a fund: what it paid in and received that day, and
/// the value of its positions by hypothetical liquidation on that day.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryPoint {
    pub date: NaiveDate,
    pub contributed: Cents,
    pub distributed: Cents,
    pub nav: Cents,
}

/// Dates an investor history holds at most: the latest ones (each needs one liquidation).
pub const HISTORY_POINTS_MAX: usize = 40;

/// An investor's cash flows in a fund by date, with its NAV on each of those dates and on
/// `as_of`.
pub fn investor_history(
    conn: &mut DbConnection,
    fund_id: &str,
    investor_id: &str,
    as_of: NaiveDate,
) -> AppResult<Vec<HistoryPoint>> {
    let now = liquidate(conn, fund_id, as_of)?;
    let mine: Vec<&PositionState> = now.states.iter().filter(|s| s.source_id == investor_id).collect();
    let position_ids: Vec<String> = mine.iter().map(|s| s.position.id.to_string()).collect();
    let mut by_date: BTreeMap<NaiveDate, (Cents, Cents)> = BTreeMap::new();
    for state in &mine {
        for flow in state.position.flows.iter().filter(|f| f.amount.get() > 0 && f.date <= as_of) {
            let day = by_date.entry(flow.date).or_default();
            day.0 = day.0.checked_add(flow.amount)?;
        }
        for (date, amount) in state.received.iter().filter(|(date, _)| *date <= as_of) {
            let day = by_date.entry(*date).or_default();
            day.1 = day.1.checked_add(*amount)?;
        }
    }
    by_date.entry(as_of).or_default();
    let skip = by_date.len().saturating_sub(HISTORY_POINTS_MAX);
    let mut points = Vec::with_capacity(by_date.len() - skip);
    for (date, (contributed, distributed)) in by_date.into_iter().skip(skip) {
        let liquidation = if date == as_of { None } else { Some(liquidate(conn, fund_id, date)?) };
        let values = &liquidation.as_ref().unwrap_or(&now).by_position;
        let nav = Cents::sum(position_ids.iter().map(|id| values.get(id).copied().unwrap_or_default()))?;
        points.push(HistoryPoint { date, contributed, distributed, nav });
    }
    Ok(points)
}
