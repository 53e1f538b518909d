//! Waterfall terms, distributions (preview and execute), write-downs, tranche NAV, investor
//! metrics and capital-account statements.

use crate::http::api::{page_after, CursorQuery, Page, PageQuery};
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::capital::today;
use super::structure::{positive, Checks};
use super::AsOfQuery;
use crate::auth::Principal;
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::domain::waterfall::Terms;
use crate::error::{AppError, AppResult};
use crate::http::api::funds::validate_name;
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson, ValidQuery};
use crate::http::views::cached_json;
use crate::http::{idempotent, AppState};
use crate::storage::funds::get_fund;
use crate::storage::metrics::{self, FundMetrics, Statement, TrancheNav};
use crate::storage::read_tx;
use crate::storage::waterfall::{
    self, DistributionNotice, DistributionSummary, DistributionView, TermsVersion, WriteDown,
};

/// Roles that read every investor's figures.
const READERS: &[Role] = &[Role::Staff, Role::Auditor, Role::Admin];

pub fn routes(table: &mut RouteTable) {
    table.post("/funds/{fund_id}/waterfall", set_terms);
    table.get("/funds/{fund_id}/waterfall", get_terms);
    table.get("/funds/{fund_id}/waterfall/versions", list_terms);
    table.post("/funds/{fund_id}/waterfall/preview", preview_terms);
    table.post("/funds/{fund_id}/distributions/preview", preview);
    table.post("/funds/{fund_id}/distributions", execute);
    table.get("/funds/{fund_id}/distributions", list_distributions);
    table.get("/distributions/{distribution_id}", get_distribution);
    table.get("/distribution-notices", notices);
    table.post("/funds/{fund_id}/write-downs", write_down);
    table.get("/funds/{fund_id}/tranches/{tranche_id}/nav", tranche_nav);
    table.get("/funds/{fund_id}/metrics", fund_metrics);
    table.get("/funds/{fund_id}/investors/{investor_id}/statement", statement);
}

/// Set the fund's waterfall: stored as a new version (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/waterfall", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = Terms,
    responses((status = 201, body = TermsVersion),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn set_terms(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<Terms>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "new waterfall terms")?;
    let fund_id = parse_id("fund_id", &path)?;
    let terms = body.value.clone();
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        waterfall::set_terms(conn, &fund_id, terms.clone(), &actor)
    })
    .await
}

/// The fund's current waterfall. Investors may read the terms of the fund.
#[utoipa::path(get, path = "/funds/{fund_id}/waterfall", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = TermsVersion), (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_terms(
    state: web::Data<AppState>,
    _principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let fund_id = parse_id("fund_id", &path)?;
    let terms = state.db(move |conn| waterfall::current_terms(conn, &fund_id)).await?;
    Ok(HttpResponse::Ok().json(terms))
}

/// Every version of the fund's waterfall, oldest first.
#[utoipa::path(get, path = "/funds/{fund_id}/waterfall/versions", tag = "waterfall", security(("bearer" = [])), params(CursorQuery, ("fund_id" = String, Path, format = Uuid)), responses((status = 200, body = Page<TermsVersion>)))]
pub async fn list_terms(
    state: web::Data<AppState>,
    _principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<CursorQuery>,
) -> AppResult<HttpResponse> {
    let fund_id = parse_id("fund_id", &path)?;
    let list = state.db(move |conn| waterfall::list_terms(conn, &fund_id)).await?;
    let page = page_after(list, |v| v.version.to_string(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

/// Terms to try, as `POST .../waterfall` takes them, and the distribution to run them over.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsPreviewRequest {
    /// The steps, as in the terms of `POST /funds/{fund_id}/waterfall`.
    pub steps: Vec<crate::domain::waterfall::Step>,
    /// Cash to distribute.
    #[schema(value_type = String, example = "250000000.00")]
    pub cash: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub date: NaiveDate,
}

/// Run a distribution under proposed terms without storing them or posting anything: the
/// allocation as it would be if these terms were in force, checked exactly as
/// `POST .../waterfall` checks them (staff, auditors). `terms_version` is the number the terms
/// would get if stored now.
#[utoipa::path(post, path = "/funds/{fund_id}/waterfall/preview", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid)), request_body = TermsPreviewRequest,
    responses((status = 200, body = DistributionView),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn preview_terms(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: ValidJson<TermsPreviewRequest>,
) -> AppResult<HttpResponse> {
    principal.require(READERS)?;
    let fund_id = parse_id("fund_id", &path)?;
    let TermsPreviewRequest { steps, cash, date } = body.value;
    let terms = Terms { steps };
    let cash_problem = positive(cash).err().map(|reason| crate::error::FieldError::new("cash", reason));
    let view = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                get_fund(conn, &fund_id)?;
                let Some(cash_problem) = cash_problem else {
                    return waterfall::preview_terms(conn, &fund_id, &terms, cash, date);
                };
                // Refused either way; the terms' problems are named with the cash's, in one answer.
                let mut errors = vec![cash_problem];
                match waterfall::check_terms(conn, &fund_id, &terms) {
                    Ok(_) => {}
                    Err(AppError::Validation(more)) => errors.extend(more),
                    Err(other) => return Err(other),
                }
                Err(AppError::Validation(errors))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistributionRequest {
    /// Cash to distribute.
    #[schema(value_type = String, example = "250000000.00")]
    pub cash: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub date: NaiveDate,
    pub description: String,
}

fn check_distribution(input: &DistributionRequest) -> AppResult<()> {
    let mut checks = Checks::default();
    checks.check("cash", positive(input.cash));
    checks.check("description", validate_name(&input.description));
    checks.finish()
}

/// Run the waterfall over an amount of cash without posting anything (staff, auditors).
#[utoipa::path(post, path = "/funds/{fund_id}/distributions/preview", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid)), request_body = DistributionRequest,
    responses((status = 200, body = DistributionView),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn preview(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: ValidJson<DistributionRequest>,
) -> AppResult<HttpResponse> {
    principal.require(READERS)?;
    let fund_id = parse_id("fund_id", &path)?;
    check_distribution(&body.value)?;
    let DistributionRequest { cash, date, description } = body.value;
    let view = state
        .db(move |conn| {
            read_tx(conn, |conn| {
                get_fund(conn, &fund_id)?;
                waterfall::preview(conn, &fund_id, cash, date, description.trim())
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Execute a distribution: the preview's allocation, posted with its journal entry and one
/// distribution notice per investor, in one transaction (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/distributions", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = DistributionRequest,
    responses((status = 201, body = DistributionView),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn execute(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<DistributionRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "a distribution")?;
    let fund_id = parse_id("fund_id", &path)?;
    check_distribution(&body.value)?;
    let (cash, date, description) = (body.value.cash, body.value.date, body.value.description.trim().to_string());
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        waterfall::execute(conn, &fund_id, cash, date, &description, &actor)
    })
    .await
}

/// A fund's executed distributions (staff, auditors).
#[utoipa::path(get, path = "/funds/{fund_id}/distributions", tag = "waterfall", security(("bearer" = [])), params(PageQuery, ("fund_id" = String, Path, format = Uuid)), responses((status = 200, body = Page<DistributionSummary>)))]
pub async fn list_distributions(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    principal.require(READERS)?;
    let fund_id = parse_id("fund_id", &path)?;
    let list = state.db(move |conn| waterfall::list_distributions(conn, &fund_id)).await?;
    let page = page_after(list, |d| d.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

/// One executed distribution with every line of its allocation (staff, auditors).
#[utoipa::path(get, path = "/distributions/{distribution_id}", tag = "waterfall", security(("bearer" = [])), params(("distribution_id" = String, Path, format = Uuid)),
    responses((status = 200, body = DistributionView), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_distribution(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(READERS)?;
    let id = parse_id("distribution_id", &path)?;
    let view = state.db(move |conn| waterfall::get_distribution(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub fund_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub investor_id: Option<String>,
    /// The `next_after` of the previous page (`distribution_id/investor_id` of its last notice).
    pub after: Option<String>,
    /// 1 to 500; 50 when omitted.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Distribution notices, per investor and distribution. An investor sees only its own.
#[utoipa::path(get, path = "/distribution-notices", tag = "waterfall", security(("bearer" = [])), params(NoticeQuery), responses((status = 200, body = Page<DistributionNotice>)))]
pub async fn notices(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<NoticeQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let fund_id = query.fund_id.clone();
    let asked = query.investor_id.clone();
    let list = match principal.party_filter(asked) {
        None => Vec::<DistributionNotice>::new(),
        Some(investor) => {
            state.db(move |conn| waterfall::distribution_notices(conn, fund_id.as_deref(), investor.as_deref())).await?
        }
    };
    let key = |n: &DistributionNotice| format!("{}/{}", n.distribution_id, n.share.investor_id);
    let page = page_after(list, key, query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteDownRequest {
    pub facility_id: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub value_date: NaiveDate,
    pub description: String,
}

/// Write an investment down; the loss is allocated in reverse seniority, first-loss first (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/write-downs", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = WriteDownRequest,
    responses((status = 201, body = WriteDown),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn write_down(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<WriteDownRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "a write-down")?;
    let fund_id = parse_id("fund_id", &path)?;
    let input = &body.value;
    let mut checks = Checks::default();
    let facility_id = checks.id("facility_id", &input.facility_id);
    checks.check("amount", positive(input.amount));
    checks.check("description", validate_name(&input.description));
    checks.finish()?;
    let (facility_id, amount, date, description) =
        (facility_id.unwrap_or_default(), input.amount, input.value_date, input.description.trim().to_string());
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        waterfall::write_down(conn, &fund_id, &facility_id, amount, date, &description, &actor)
    })
    .await
}

/// A tranche's NAV on a date by hypothetical liquidation through the same waterfall (staff, auditors).
#[utoipa::path(get, path = "/funds/{fund_id}/tranches/{tranche_id}/nav", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid), ("tranche_id" = String, Path, format = Uuid), AsOfQuery),
    responses((status = 200, body = TrancheNav), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn tranche_nav(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    query: ValidQuery<AsOfQuery>,
) -> AppResult<HttpResponse> {
    principal.require(READERS)?;
    let (fund_id, tranche_id) = path.into_inner();
    let (fund_id, tranche_id) = (parse_id("fund_id", &fund_id)?, parse_id("tranche_id", &tranche_id)?);
    let as_of = query.date();
    let nav =
        state.db(move |conn| read_tx(conn, |conn| metrics::tranche_nav(conn, &fund_id, &tranche_id, as_of))).await?;
    Ok(HttpResponse::Ok().json(nav))
}

/// Paid-in, distributed, NAV, DPI, RVPI, TVPI and XIRR per fund, tranche and investor as of a
/// date. An investor gets its own line only.
#[utoipa::path(get, path = "/funds/{fund_id}/metrics", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid), AsOfQuery),
    responses((status = 200, body = FundMetrics), (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn fund_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<AsOfQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let fund_id = parse_id("fund_id", &path)?;
    let as_of = query.date();
    let only = principal.party_scope().map(str::to_string);
    let key = format!("fund-metrics/{fund_id}/{as_of}/{}", only.as_deref().unwrap_or("*"));
    cached_json(&state, key, move |conn| {
        read_tx(conn, |conn| {
            get_fund(conn, &fund_id)?;
            metrics::fund_metrics(conn, &fund_id, as_of, only.as_deref())
        })
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub from: NaiveDate,
    /// Today when omitted.
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    pub to: Option<NaiveDate>,
}

/// Loads a statement the caller may see: investors only their own (others: 404).
pub async fn visible_statement(
    state: &AppState,
    principal: &Principal,
    fund_id: &str,
    investor: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Statement> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    if !principal.may_read_party(Role::Investor, investor) {
        return Err(AppError::not_found(format!("investor {investor}")));
    }
    let (fund_id, investor) = (fund_id.to_string(), investor.to_string());
    state
        .read_db(move |conn| {
            read_tx(conn, |conn| {
                get_fund(conn, &fund_id)?;
                metrics::statement(conn, &fund_id, &investor, from, to)
            })
        })
        .await
}

/// An investor's capital-account statement for a period. Printable at `/statements/{fund}/{investor}`.
#[utoipa::path(get, path = "/funds/{fund_id}/investors/{investor_id}/statement", tag = "waterfall", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid), ("investor_id" = String, Path, format = Uuid), PeriodQuery),
    responses((status = 200, body = Statement), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn statement(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    query: ValidQuery<PeriodQuery>,
) -> AppResult<HttpResponse> {
    let (fund_id, investor) = path.into_inner();
    let (fund_id, investor) = (parse_id("fund_id", &fund_id)?, parse_id("investor_id", &investor)?);
    let to = query.to.unwrap_or_else(today);
    let view = visible_statement(&state, &principal, &fund_id, &investor, query.from, to).await?;
    Ok(HttpResponse::Ok().json(view))
}
