//! Deployments into facilities, proceeds, valuations, and the fund overview.

use crate::http::api::{page_after, Page, PageQuery};
use crate::http::extract::ValidQuery;
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::structure::{positive, Checks};
use crate::auth::Principal;
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::error::AppResult;
use crate::http::api::funds::validate_name;
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson};
use crate::http::views::cached_json;
use crate::http::{idempotent, AppState};
use crate::storage::funds::get_fund;
use crate::storage::investments::{self, Deployment, DeploymentRow, Proceeds, ProceedsRow, Valuation, ValuationRow};
use crate::storage::overview::{fund_overview, FundOverview};

pub fn routes(table: &mut RouteTable) {
    table.post("/funds/{fund_id}/deployments", deploy);
    table.get("/funds/{fund_id}/deployments", list_deployments);
    table.post("/funds/{fund_id}/proceeds", receive_proceeds);
    table.post("/funds/{fund_id}/valuations", record_valuation);
    table.get("/funds/{fund_id}/overview", overview);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentRequest {
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub facility_id: String,
    /// `equity` or `grant`
    pub kind: String,
    #[schema(value_type = String)]
    pub amount: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub value_date: NaiveDate,
    pub description: String,
}

/// Invest called cash in a facility, as equity or a grant (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/deployments", tag = "investments", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = DeploymentRequest,
    responses((status = 201, body = Deployment),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn deploy(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<DeploymentRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let row = deployment_row(&principal, &fund_id, &body.value)?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        investments::deploy(conn, row.clone())
    })
    .await
}

/// A deployment as the API takes it, checked: the row `deploy` records.
pub fn deployment_row(principal: &Principal, fund_id: &str, input: &DeploymentRequest) -> AppResult<DeploymentRow> {
    let mut checks = Checks::default();
    let facility_id = checks.id("facility_id", &input.facility_id);
    checks.require("kind", matches!(input.kind.as_str(), "equity" | "grant"), "must be equity or grant");
    checks.check("amount", positive(input.amount));
    checks.check("description", validate_name(&input.description));
    checks.finish()?;
    Ok(DeploymentRow {
        id: String::new(),
        fund_id: fund_id.to_string(),
        facility_id: facility_id.unwrap_or_default(),
        kind: input.kind.clone(),
        amount_cents: input.amount.get(),
        value_date: input.value_date,
        description: input.description.trim().to_string(),
        actor: principal.actor(),
        created_at: chrono::NaiveDateTime::default(),
    })
}

/// A fund's deployments (staff, auditors).
#[utoipa::path(get, path = "/funds/{fund_id}/deployments", tag = "investments", security(("bearer" = [])), params(PageQuery, ("fund_id" = String, Path, format = Uuid)), responses((status = 200, body = Page<Deployment>)))]
pub async fn list_deployments(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let fund_id = parse_id("fund_id", &path)?;
    let list = state
        .db(move |conn| {
            get_fund(conn, &fund_id)?;
            investments::list_deployments(conn, &[fund_id])
        })
        .await?;
    let page = page_after(list, |d| d.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProceedsRequest {
    /// The facility the cash comes from; none for other income.
    #[schema(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub facility_id: Option<String>,
    #[schema(value_type = String)]
    pub amount: Cents,
    /// Part of the amount that returns invested cost (0 when omitted); the rest is gain or income.
    #[schema(value_type = Option<String>)]
    pub cost_returned: Option<Cents>,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub value_date: NaiveDate,
    pub description: String,
}

/// Record cash received by the fund (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/proceeds", tag = "investments", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = ProceedsRequest,
    responses((status = 201, body = Proceeds),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn receive_proceeds(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ProceedsRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let row = proceeds_row(&principal, &fund_id, &body.value)?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        investments::receive_proceeds(conn, row.clone())
    })
    .await
}

/// Proceeds as the API takes them, checked: the row `receive_proceeds` records.
pub fn proceeds_row(principal: &Principal, fund_id: &str, input: &ProceedsRequest) -> AppResult<ProceedsRow> {
    let cost = input.cost_returned.unwrap_or(Cents::ZERO);
    let mut checks = Checks::default();
    let facility_id = match &input.facility_id {
        Some(id) => checks.id("facility_id", id),
        None => None,
    };
    checks.check("amount", positive(input.amount));
    checks.require("cost_returned", !cost.is_negative() && cost <= input.amount, "must be between 0 and the amount");
    checks.check("description", validate_name(&input.description));
    checks.finish()?;
    Ok(ProceedsRow {
        id: String::new(),
        fund_id: fund_id.to_string(),
        facility_id,
        amount_cents: input.amount.get(),
        cost_returned_cents: cost.get(),
        value_date: input.value_date,
        description: input.description.trim().to_string(),
        actor: principal.actor(),
        created_at: chrono::NaiveDateTime::default(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValuationRequest {
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub as_of: NaiveDate,
    /// The fund's net asset value on that date.
    #[schema(value_type = String)]
    pub nav: Cents,
    pub description: String,
}

/// Record the fund's NAV on a date; the books are revalued to it (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/valuations", tag = "investments", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = ValuationRequest,
    responses((status = 201, body = Valuation),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn record_valuation(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ValuationRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let row = valuation_row(&principal, &fund_id, &body.value)?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        investments::record_valuation(conn, row.clone())
    })
    .await
}

/// A valuation as the API takes it, checked: the row `record_valuation` records.
pub fn valuation_row(principal: &Principal, fund_id: &str, input: &ValuationRequest) -> AppResult<ValuationRow> {
    let mut checks = Checks::default();
    checks.require("nav", !input.nav.is_negative(), "must not be negative");
    checks.check("description", validate_name(&input.description));
    checks.finish()?;
    Ok(ValuationRow {
        id: String::new(),
        fund_id: fund_id.to_string(),
        as_of_date: input.as_of,
        nav_cents: input.nav.get(),
        description: input.description.trim().to_string(),
        actor: principal.actor(),
        created_at: chrono::NaiveDateTime::default(),
    })
}

/// Target, committed, called, paid-in, unfunded and deployed, by tranche, by kind and
/// programme of source; public against private and the leverage ratio (staff, auditors).
#[utoipa::path(get, path = "/funds/{fund_id}/overview", tag = "investments", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = FundOverview), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn overview(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let fund_id = parse_id("fund_id", &path)?;
    let key = format!("fund-overview/{fund_id}");
    cached_json(&state, key, move |conn| crate::storage::read_tx(conn, |conn| fund_overview(conn, &fund_id))).await
}
