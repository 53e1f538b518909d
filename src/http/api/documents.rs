//! Documents as PDF, for the people who may see the records they are made from: call and
//! distribution notices, capital-account statements, award letters and facility statements.
//! Each is also linked from the pages of the roles that may see it (the browser session is
//! accepted), in the language asked (`lang`, else `Accept-Language`). See docs/documents.md.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;

use super::capital::{today, visible_notice};
use super::grants::visible_award;
use super::waterfall::visible_statement;
use crate::auth::Principal;
use crate::documents::content::{self, StatementColumns};
use crate::documents::{self, Document};
use crate::domain::hours::Quarter;
use crate::domain::payment::BankAccount;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::extract::{bearer_or_session_principal, parse_id, parse_query, ValidJson};
use crate::http::routes::RouteTable;
use crate::http::AppState;
use crate::i18n::Lang;
use crate::storage::awards::Award;
use crate::storage::capital::Notice;
use crate::storage::facility_statement::{facility_statement, FacilityStatement};
use crate::storage::funds::{self, get_fund, Fund};
use crate::storage::grants::{get_call, GrantCall};
use crate::storage::read_tx;
use crate::storage::waterfall::distribution_notices;

pub fn routes(table: &mut RouteTable) {
    table.get("/notices/{notice_id}/pdf", call_notice_pdf);
    table.get("/notices/{notice_id}/email", call_notice_email);
    table.get("/distributions/{distribution_id}/notices/{investor_id}/pdf", distribution_notice_pdf);
    table.get("/funds/{fund_id}/investors/{investor_id}/statement/pdf", statement_pdf);
    table.get("/awards/{award_id}/letter/pdf", award_letter_pdf);
    table.get("/awards/{award_id}/letter/email", award_letter_email);
    table.get("/facilities/{facility_id}/statements/{quarter}", get_facility_statement);
    table.get("/facilities/{facility_id}/statements/{quarter}/pdf", facility_statement_pdf);
    table.get("/funds/{fund_id}/bank-account", get_bank_account);
    table.put("/funds/{fund_id}/bank-account", put_bank_account);
}

/// A PDF file, as the OpenAPI document describes the documents' bodies.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfFile(pub Vec<u8>);

/// The language of a document: `lang` if given, else the best of `Accept-Language`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    /// `en`, `fr` or `de`.
    pub lang: Option<Lang>,
}

/// A statement's language and the day its three periods end.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatementDocumentQuery {
    pub lang: Option<Lang>,
    /// Today when omitted.
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    pub to: Option<NaiveDate>,
}

pub fn requested_lang(req: &HttpRequest, asked: Option<Lang>) -> Lang {
    asked.unwrap_or_else(|| {
        let header = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        Lang::negotiate(header)
    })
}

/// Lays the document out on a blocking thread and answers it as a PDF download.
async fn pdf_response(document: Document, file_name: String) -> AppResult<HttpResponse> {
    let bytes = web::block(move || documents::pdf(&document))
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{file_name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

async fn fund_of(state: &AppState, fund_id: String) -> AppResult<Fund> {
    state.db(move |conn| get_fund(conn, &fund_id)).await
}

/// A notice's fund and the account its investors pay into: what the notice, printed or as
/// PDF, shows beside the notice itself.
pub async fn fund_and_bank_account(state: &AppState, fund_id: &str) -> AppResult<(Fund, Option<BankAccount>)> {
    let fund_id = fund_id.to_string();
    state
        .db(move |conn| read_tx(conn, |conn| Ok((get_fund(conn, &fund_id)?, funds::bank_account(conn, &fund_id)?))))
        .await
}

/// The name a page shows for a fund.
pub async fn fund_name(state: &AppState, fund_id: &str) -> AppResult<String> {
    Ok(fund_of(state, fund_id.to_string()).await?.name)
}

/// A capital-call notice as PDF, with the payment instructions.
#[utoipa::path(get, path = "/notices/{notice_id}/pdf", tag = "documents", security(("bearer" = []), ("session" = [])),
    params(("notice_id" = String, Path, format = Uuid), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "The notice"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn call_notice_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (lang, notice, fund, bank) = notice_to_send(&state, &req, &path).await?;
    let document = content::call_notice(lang, today(), &fund, &notice, bank.as_ref());
    pdf_response(document, format!("call-notice-{}-{}.pdf", notice.call_number, notice.id)).await
}

/// The e-mail that sends a call notice (subject and plain text, with the payment instructions),
/// in the requested language.
#[utoipa::path(get, path = "/notices/{notice_id}/email", tag = "documents", security(("bearer" = []), ("session" = [])),
    params(("notice_id" = String, Path, format = Uuid), DocumentQuery),
    responses((status = 200, body = content::EmailText),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn call_notice_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (lang, notice, fund, bank) = notice_to_send(&state, &req, &path).await?;
    Ok(HttpResponse::Ok().json(content::call_notice_email(lang, &fund, &notice, bank.as_ref())))
}

/// A notice the principal may see, in the requested language, with its fund and bank account.
async fn notice_to_send(
    state: &AppState,
    req: &HttpRequest,
    notice_id: &str,
) -> AppResult<(Lang, Notice, Fund, Option<BankAccount>)> {
    let principal = bearer_or_session_principal(req).await?;
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let query: DocumentQuery = parse_query(req.query_string())?;
    let lang = requested_lang(req, query.lang);
    let notice = visible_notice(state, &principal, parse_id("notice_id", notice_id)?).await?;
    let (fund, bank) = fund_and_bank_account(state, &notice.fund_id).await?;
    Ok((lang, notice, fund, bank))
}

/// An investor's distribution notice as PDF.
#[utoipa::path(get, path = "/distributions/{distribution_id}/notices/{investor_id}/pdf", tag = "documents", security(("bearer" = []), ("session" = [])),
    params(("distribution_id" = String, Path, format = Uuid), ("investor_id" = String, Path, format = Uuid), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "The notice"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn distribution_notice_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let principal = bearer_or_session_principal(&req).await?;
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let query: DocumentQuery = parse_query(req.query_string())?;
    let lang = requested_lang(&req, query.lang);
    let (distribution_id, investor_id) = path.into_inner();
    let distribution_id = parse_id("distribution_id", &distribution_id)?;
    let investor_id = parse_id("investor_id", &investor_id)?;
    if !principal.may_read_party(Role::Investor, &investor_id) {
        return Err(AppError::not_found(format!("investor {investor_id}")));
    }
    let missing = format!("distribution notice {distribution_id} for investor {investor_id}");
    let (fund, notice) = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                let notice = distribution_notices(conn, None, Some(&investor_id))?
                    .into_iter()
                    .find(|n| n.distribution_id == distribution_id)
                    .ok_or_else(|| AppError::not_found(missing))?;
                Ok((get_fund(conn, &notice.fund_id)?, notice))
            })
        })
        .await?;
    let document = content::distribution_notice(lang, today(), &fund, &notice);
    pdf_response(document, format!("distribution-notice-{}.pdf", notice.distribution_id)).await
}

/// An investor's capital-account statement as PDF: quarter-, year- and inception-to-date
/// columns ending on `to`, each equal to the statement endpoint for that period.
#[utoipa::path(get, path = "/funds/{fund_id}/investors/{investor_id}/statement/pdf", tag = "documents", security(("bearer" = []), ("session" = [])),
    params(("fund_id" = String, Path, format = Uuid), ("investor_id" = String, Path, format = Uuid), StatementDocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "The statement"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn statement_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let principal = bearer_or_session_principal(&req).await?;
    let query: StatementDocumentQuery = parse_query(req.query_string())?;
    let lang = requested_lang(&req, query.lang);
    let (fund_id, investor_id) = path.into_inner();
    let fund_id = parse_id("fund_id", &fund_id)?;
    let investor_id = parse_id("investor_id", &investor_id)?;
    let to = query.to.unwrap_or_else(today);
    let (fund, columns) = statement_columns(&state, &principal, &fund_id, &investor_id, to).await?;
    let document = content::capital_statement(lang, today(), &fund, &columns);
    pdf_response(document, format!("capital-statement-{investor_id}-{to}.pdf")).await
}

/// The fund and the quarter, year and inception periods ending on `to`, by the statement
/// endpoint's code.
pub async fn statement_columns(
    state: &AppState,
    principal: &Principal,
    fund_id: &str,
    investor_id: &str,
    to: NaiveDate,
) -> AppResult<(Fund, StatementColumns)> {
    let fund = fund_of(state, fund_id.to_string()).await?;
    let inception = fund.inception_date.min(to);
    let year_start = to.with_ordinal(1).unwrap_or(to).max(inception);
    let quarter_start = Quarter::of(to).first_day().max(inception);
    let statement = |from| visible_statement(state, principal, fund_id, investor_id, from, to);
    let columns = StatementColumns {
        quarter: statement(quarter_start).await?,
        year: statement(year_start).await?,
        inception: statement(inception).await?,
    };
    Ok((fund, columns))
}

/// An SME's award letter as PDF.
#[utoipa::path(get, path = "/awards/{award_id}/letter/pdf", tag = "documents", security(("bearer" = []), ("session" = [])),
    params(("award_id" = String, Path, format = Uuid), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "The letter"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn award_letter_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (lang, award, fund, call, facility_name) = award_to_send(&state, &req, &path).await?;
    let document = content::award_letter(lang, today(), &fund, &award, &call, &facility_name);
    pdf_response(document, format!("award-letter-{}.pdf", award.id)).await
}

/// The e-mail that sends an SME its award letter, in the requested language.
#[utoipa::path(get, path = "/awards/{award_id}/letter/email", tag = "documents", security(("bearer" = []), ("session" = [])),
    params(("award_id" = String, Path, format = Uuid), DocumentQuery),
    responses((status = 200, body = content::EmailText),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn award_letter_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (lang, award, fund, call, facility_name) = award_to_send(&state, &req, &path).await?;
    Ok(HttpResponse::Ok().json(content::award_letter_email(lang, &fund, &award, &call, &facility_name)))
}

/// An award the principal may see, in the requested language, with its fund, grant call and
/// facility name.
async fn award_to_send(
    state: &AppState,
    req: &HttpRequest,
    award_id: &str,
) -> AppResult<(Lang, Award, Fund, GrantCall, String)> {
    let principal = bearer_or_session_principal(req).await?;
    let query: DocumentQuery = parse_query(req.query_string())?;
    let lang = requested_lang(req, query.lang);
    let award = visible_award(state, &principal, parse_id("award_id", award_id)?).await?;
    let (call_id, facility_id) = (award.call_id.clone(), award.facility_id.clone());
    let (fund, call, facility) = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                let call = get_call(conn, &call_id)?;
                let facility = crate::storage::structure::get_facility(conn, &facility_id)?;
                Ok((get_fund(conn, &call.fund_id)?, call, facility))
            })
        })
        .await?;
    Ok((lang, award, fund, call, facility.name))
}

async fn visible_facility_statement(
    state: &AppState,
    req: &HttpRequest,
    path: (String, String),
) -> AppResult<(FacilityStatement, Fund)> {
    let principal = bearer_or_session_principal(req).await?;
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Facility])?;
    let facility_id = parse_id("facility_id", &path.0)?;
    if !principal.may_read_party(Role::Facility, &facility_id) {
        return Err(AppError::not_found(format!("facility {facility_id}")));
    }
    let quarter: Quarter = path.1.parse().map_err(|e| AppError::field("quarter", e))?;
    let (statement, fund) = state
        .read_db(move |conn| {
            read_tx(conn, |conn| {
                let statement = facility_statement(conn, &facility_id, quarter)?;
                let fund = issuing_fund(conn, &statement)?;
                Ok((statement, fund))
            })
        })
        .await?;
    Ok((statement, fund))
}

/// The fund whose grant calls pay the facility: the umbrella of the first award's fund, or
/// the first umbrella when the quarter has no usage.
fn issuing_fund(conn: &mut crate::storage::DbConnection, statement: &FacilityStatement) -> AppResult<Fund> {
    let fund = match statement.lines.first() {
        Some(line) => {
            let fund_id = get_call(conn, &line.call_id)?.fund_id;
            get_fund(conn, &fund_id)?
        }
        None => funds::list_funds(conn)?
            .into_iter()
            .find(|f| f.parent_id.is_none())
            .ok_or_else(|| AppError::not_found("fund"))?,
    };
    match &fund.parent_id {
        Some(parent) => get_fund(conn, parent),
        None => Ok(fund),
    }
}

/// A facility's usage and the subsidy payable for one quarter (`2026-Q3`), award by award.
#[utoipa::path(get, path = "/facilities/{facility_id}/statements/{quarter}", tag = "documents", security(("bearer" = [])),
    params(("facility_id" = String, Path, format = Uuid), ("quarter" = String, Path, example = "2026-Q3")),
    responses((status = 200, body = FacilityStatement),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_facility_statement(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let (statement, _) = visible_facility_statement(&state, &req, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(statement))
}

/// A facility's quarterly usage and payable statement as PDF.
#[utoipa::path(get, path = "/facilities/{facility_id}/statements/{quarter}/pdf", tag = "documents", security(("bearer" = []), ("session" = [])),
    params(("facility_id" = String, Path, format = Uuid), ("quarter" = String, Path, example = "2026-Q3"), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "The statement"),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn facility_statement_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let query: DocumentQuery = parse_query(req.query_string())?;
    let lang = requested_lang(&req, query.lang);
    let (statement, fund) = visible_facility_statement(&state, &req, path.into_inner()).await?;
    let document = content::facility_statement(lang, today(), &fund, &statement);
    pdf_response(document, format!("facility-statement-{}-{}.pdf", statement.facility_id, statement.quarter)).await
}

/// The account printed on a fund's call notices (its own, or its umbrella's).
#[utoipa::path(get, path = "/funds/{fund_id}/bank-account", tag = "documents", security(("bearer" = [])),
    params(("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = BankAccount),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_bank_account(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let fund_id = parse_id("fund_id", &path)?;
    let missing = format!("bank account of fund {fund_id}");
    let account = state.db(move |conn| funds::bank_account(conn, &fund_id)).await?;
    Ok(HttpResponse::Ok().json(account.ok_or_else(|| AppError::not_found(missing))?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountRequest {
    pub account_holder: String,
    /// Spaces allowed.
    pub iban: String,
    pub bic: Option<String>,
}

/// Registers the account a fund's call notices print (admin: a changed account redirects
/// investors' money, so fund staff cannot change it). With four eyes on, it is proposed by one
/// admin and approved by another (`POST /proposals`, kind `bank_account`).
#[utoipa::path(put, path = "/funds/{fund_id}/bank-account", tag = "documents", security(("bearer" = [])),
    params(("fund_id" = String, Path, format = Uuid)), request_body = BankAccountRequest,
    responses((status = 200, body = BankAccount),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "four eyes are on: propose the change", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn put_bank_account(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: ValidJson<BankAccountRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    super::proposals::require_proposal(&state, "a change of bank account")?;
    let fund_id = parse_id("fund_id", &path)?;
    let account = funds::checked_bank_account(&body.value.account_holder, &body.value.iban, body.value.bic.as_deref())?;
    let stored = account.clone();
    // Under the writer lock, as an approved bank-account proposal is: the two never interleave.
    state.db(move |conn| crate::storage::write_tx(conn, |c| funds::set_bank_account(c, &fund_id, &stored))).await?;
    tracing::info!(actor = %principal.username, fund_id = %path.as_str(), "fund bank account changed");
    Ok(HttpResponse::Ok().json(account))
}
