//! Explaining a figure: the journal entries (and for NAV the waterfall lines) that make up a
//! fund's or an investor's paid-in, distributed and NAV, and the compute-grant pool's balance.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ledger::LEDGER_READERS;
use super::{page_limit_up_to, PAGE_LIMIT_DEFAULT};
use crate::auth::Principal;
use crate::domain::explain::Figure;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::extract::{parse_id, ValidQuery};
use crate::http::routes::RouteTable;
use crate::http::AppState;
use crate::storage::explain::{self, EntryWindow, Explanation, EXPLAIN_ENTRIES_MAX};
use crate::storage::funds::get_fund;
use crate::storage::read_tx;

// The document states the page maximum as a literal (`#[param(maximum = ...)]` takes no constant).
const _: () = assert!(EXPLAIN_ENTRIES_MAX == 500);

pub fn routes(table: &mut RouteTable) {
    table.get("/funds/{fund_id}/explain/{figure}", explain_fund_figure);
    table.get("/funds/{fund_id}/investors/{investor_id}/explain/{figure}", explain_investor_figure);
}

/// A figure an investor has: every figure but the pool's.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvestorFigure {
    PaidIn,
    Distributed,
    Nav,
}

impl InvestorFigure {
    fn figure(self) -> Figure {
        match self {
            InvestorFigure::PaidIn => Figure::PaidIn,
            InvestorFigure::Distributed => Figure::Distributed,
            InvestorFigure::Nav => Figure::Nav,
        }
    }

    fn parse(text: &str) -> Option<InvestorFigure> {
        [InvestorFigure::PaidIn, InvestorFigure::Distributed, InvestorFigure::Nav]
            .into_iter()
            .find(|f| f.figure().name() == text)
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExplainQuery {
    /// Calendar date (UTC), inclusive; today when omitted.
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    pub as_of: Option<NaiveDate>,
    /// The `next_after` of the previous answer: list the entries after this sequence.
    pub after: Option<i64>,
    /// Entries listed: 1 to 500; 50 when omitted.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl ExplainQuery {
    fn window(&self) -> AppResult<(NaiveDate, EntryWindow)> {
        let limit = page_limit_up_to(self.limit, PAGE_LIMIT_DEFAULT, EXPLAIN_ENTRIES_MAX)?;
        let as_of = self.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
        Ok((as_of, EntryWindow { after: self.after, limit }))
    }
}

fn unknown_figure(allowed: &[Figure]) -> AppError {
    let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
    AppError::field("figure", format!("must be one of {}", names.join(", ")))
}

/// The journal entries that make up a fund's paid-in, distributed or NAV (and the waterfall
/// lines that value its positions), or the compute-grant pool's balance, summing exactly to the
/// figure (staff, auditors).
#[utoipa::path(get, path = "/funds/{fund_id}/explain/{figure}", tag = "ledger", security(("bearer" = [])),
    params(("fund_id" = String, Path, format = Uuid), ("figure" = Figure, Path, description = "The figure to explain"), ExplainQuery),
    responses((status = 200, body = Explanation),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn explain_fund_figure(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    query: ValidQuery<ExplainQuery>,
) -> AppResult<HttpResponse> {
    principal.require(LEDGER_READERS)?;
    let (fund_id, figure) = path.into_inner();
    let fund_id = parse_id("fund_id", &fund_id)?;
    let figure = Figure::parse(&figure).ok_or_else(|| unknown_figure(&Figure::ALL))?;
    let (as_of, window) = query.window()?;
    let answer = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                get_fund(conn, &fund_id)?;
                explain::explain(conn, &fund_id, None, figure, as_of, window, true)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The journal entries that make up an investor's paid-in, distributed or NAV in a fund, and
/// for NAV the waterfall lines that give its positions their value, summing exactly to the
/// figure of its metrics. An investor sees its own only (others: 404), and for its NAV the
/// waterfall lines without the fund's entries.
#[utoipa::path(get, path = "/funds/{fund_id}/investors/{investor_id}/explain/{figure}", tag = "ledger", security(("bearer" = [])),
    params(("fund_id" = String, Path, format = Uuid), ("investor_id" = String, Path, format = Uuid),
        ("figure" = InvestorFigure, Path, description = "The figure to explain"), ExplainQuery),
    responses((status = 200, body = Explanation),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn explain_investor_figure(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String, String)>,
    query: ValidQuery<ExplainQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let (fund_id, investor, figure) = path.into_inner();
    let (fund_id, investor) = (parse_id("fund_id", &fund_id)?, parse_id("investor_id", &investor)?);
    let allowed: Vec<Figure> = Figure::ALL.into_iter().filter(|f| f.of_investors()).collect();
    let figure = InvestorFigure::parse(&figure).ok_or_else(|| unknown_figure(&allowed))?.figure();
    let (as_of, window) = query.window()?;
    if !principal.may_read_party(Role::Investor, &investor) {
        return Err(AppError::not_found(format!("investor {investor}")));
    }
    let show_fund_journal = principal.role.reads_all();
    let answer = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                get_fund(conn, &fund_id)?;
                explain::explain(conn, &fund_id, Some(&investor), figure, as_of, window, show_fund_journal)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_investor_has_every_figure_but_the_pool() {
        for figure in Figure::ALL {
            let parsed = InvestorFigure::parse(figure.name()).map(InvestorFigure::figure);
            assert_eq!(parsed, figure.of_investors().then_some(figure));
        }
    }
}
