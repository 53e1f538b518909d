//! Printable documents: capital-call notices and capital-account statements.

use actix_web::{get, web, HttpRequest};
use askama::Template;
use chrono::Datelike;
use serde::Deserialize;

use super::view::Layout;
use super::{render, PageQuery, PageResult, Session};
use crate::http::extract::parse_id;
use crate::http::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(notice_page).service(statement_page);
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    layout: Layout,
    n: crate::storage::capital::Notice,
    fund_name: String,
    bank: Option<crate::domain::payment::BankAccount>,
    reference: String,
    status: String,
}

/// The printable capital-call notice. Investors see only their own (others: 404).
#[get("/notices/{notice_id}")]
async fn notice_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    let notice_id = parse_id("notice_id", &path)?;
    let n = crate::http::api::capital::visible_notice(&state, &session.principal, notice_id).await?;
    let (fund, bank) = crate::http::api::documents::fund_and_bank_account(&state, &n.fund_id).await?;
    let reference = crate::documents::content::payment_reference(&n);
    let status = super::view::words("status", n.status);
    render(&NoticePage { layout: session.layout(req.path()), fund_name: fund.name, bank, reference, status, n })
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    layout: Layout,
    s: crate::storage::metrics::Statement,
    fund_name: String,
    pdf_href: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodParams {
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    from: Option<chrono::NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    to: Option<chrono::NaiveDate>,
}

/// The printable capital-account statement, by default for the year to date. Investors see
/// only their own (others: 404).
#[get("/statements/{fund_id}/{investor_id}")]
async fn statement_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
    query: PageQuery<PeriodParams>,
) -> PageResult {
    let (fund_id, investor) = path.into_inner();
    let fund_id = parse_id("fund_id", &fund_id)?;
    let investor = parse_id("investor_id", &investor)?;
    let to = query.to.unwrap_or_else(crate::http::api::capital::today);
    let from = query.from.unwrap_or_else(|| to.with_ordinal(1).unwrap_or(to));
    let s = crate::http::api::waterfall::visible_statement(&state, &session.principal, &fund_id, &investor, from, to)
        .await?;
    let fund_name = crate::http::api::documents::fund_name(&state, &fund_id).await?;
    let layout = session.layout(req.path());
    let pdf_href =
        format!("/api/v1/funds/{fund_id}/investors/{investor}/statement/pdf?to={to}&lang={}", layout.lang.tag());
    render(&StatementPage { layout, s, fund_name, pdf_href })
}
