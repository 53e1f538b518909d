//! Capital calls, notices and contributions.

use crate::http::api::{page_after, PageQuery};
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::structure::{positive, Checks};
use super::{page_limit, Page};
use crate::auth::Principal;
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::api::funds::validate_name;
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson, ValidQuery};
use crate::http::{idempotent, AppState};
use crate::storage::capital::{self, CallLine, CapitalCall, Contribution, NewCall, Notice, NoticeFilter, PURPOSES};
use crate::storage::funds::get_fund;

/// Lines one call may carry.
pub const CALL_LINES_MAX: usize = 100;

pub fn routes(table: &mut RouteTable) {
    table.post("/funds/{fund_id}/capital-calls", create_call);
    table.get("/funds/{fund_id}/capital-calls", list_calls);
    table.get("/capital-calls/{call_id}", get_call);
    table.get("/notices", list_notices);
    table.get("/notices/{notice_id}", get_notice);
    table.post("/notices/{notice_id}/contributions", pay_notice);
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallLineRequest {
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub tranche_id: String,
    /// `investment` (name the facility), `fees` or `expenses`
    pub purpose: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub facility_id: Option<String>,
    #[schema(value_type = String, example = "250000000.00")]
    pub amount: Cents,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCallRequest {
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub call_date: NaiveDate,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub due_date: NaiveDate,
    pub description: String,
    pub lines: Vec<CallLineRequest>,
}

pub fn validate_call(input: &NewCallRequest, actor: String) -> AppResult<NewCall> {
    let mut checks = Checks::default();
    checks.check("description", validate_name(&input.description));
    checks.require("due_date", input.due_date >= input.call_date, "must not be before the call date");
    checks.require("lines", !input.lines.is_empty() && input.lines.len() <= CALL_LINES_MAX, "give 1 to 100 lines");
    let mut lines = Vec::with_capacity(input.lines.len());
    for (index, line) in input.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        let tranche_id = checks.id(&field("tranche_id"), &line.tranche_id);
        checks.require(
            &field("purpose"),
            PURPOSES.contains(&line.purpose.as_str()),
            "must be investment, fees or expenses",
        );
        let facility_id = match (&line.facility_id, line.purpose.as_str()) {
            (Some(id), "investment") => checks.id(&field("facility_id"), id),
            (None, "investment") => {
                checks.require(&field("facility_id"), false, "an investment names the facility it is for");
                None
            }
            (Some(_), _) => {
                checks.require(&field("facility_id"), false, "only investment lines name a facility");
                None
            }
            (None, _) => None,
        };
        checks.check(&field("amount"), positive(line.amount));
        lines.push(CallLine {
            tranche_id: tranche_id.unwrap_or_default(),
            purpose: line.purpose.clone(),
            facility_id,
            amount: line.amount,
        });
    }
    checks.finish()?;
    Ok(NewCall {
        call_date: input.call_date,
        due_date: input.due_date,
        description: input.description.trim().to_string(),
        lines,
        actor,
    })
}

/// Issue a capital call on one or more tranches (staff): one notice per investor, pro rata to unfunded commitment.
#[utoipa::path(post, path = "/funds/{fund_id}/capital-calls", tag = "capital", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = NewCallRequest,
    responses((status = 201, body = CapitalCall),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_call(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<NewCallRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    super::proposals::require_proposal(&state, "a capital call")?;
    let fund_id = parse_id("fund_id", &path)?;
    let new = validate_call(&body.value, principal.actor())?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        get_fund(conn, &fund_id)?;
        capital::create_call(conn, &fund_id, new.clone())
    })
    .await
}

/// A fund's capital calls (staff, auditors).
#[utoipa::path(get, path = "/funds/{fund_id}/capital-calls", tag = "capital", security(("bearer" = [])), params(PageQuery, ("fund_id" = String, Path, format = Uuid)), responses((status = 200, body = Page<CapitalCall>)))]
pub async fn list_calls(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let fund_id = parse_id("fund_id", &path)?;
    let calls = state
        .db(move |conn| {
            get_fund(conn, &fund_id)?;
            capital::list_calls(conn, &fund_id)
        })
        .await?;
    let page = page_after(calls, |c| c.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

/// One capital call (staff, auditors).
#[utoipa::path(get, path = "/capital-calls/{call_id}", tag = "capital", security(("bearer" = [])), params(("call_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CapitalCall), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_call(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin])?;
    let call_id = parse_id("call_id", &path)?;
    let call = state.db(move |conn| capital::get_call(conn, &call_id)).await?;
    Ok(HttpResponse::Ok().json(call))
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
    pub call_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub investor_id: Option<String>,
    /// Only notices past due and not fully paid.
    #[serde(default)]
    pub late: bool,
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Capital-call notices. An investor sees only its own.
#[utoipa::path(get, path = "/notices", tag = "capital", security(("bearer" = [])), params(NoticeQuery), responses((status = 200, body = Page<Notice>)))]
pub async fn list_notices(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<NoticeQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let query = query.0;
    let asked = query.investor_id.clone();
    let Some(source_id) = principal.party_filter(asked) else {
        return Ok(HttpResponse::Ok().json(Page::<Notice> { items: vec![], next_after: None }));
    };
    let filter = NoticeFilter {
        fund_id: query.fund_id.clone(),
        call_id: query.call_id.clone(),
        source_id,
        late_only: query.late,
        after_id: query.after.clone(),
    };
    let limit = page_limit(query.limit)?;
    let items = state.db(move |conn| capital::list_notices(conn, &filter, today(), limit + 1)).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |n| n.id.clone())))
}

/// Loads a notice the caller may see; another investor's notice answers 404.
pub async fn visible_notice(state: &AppState, principal: &Principal, notice_id: String) -> AppResult<Notice> {
    let notice = state.db(move |conn| capital::get_notice(conn, &notice_id, today())).await?;
    if !principal.may_read_party(Role::Investor, &notice.investor_id) {
        return Err(AppError::not_found(format!("notice {}", notice.id)));
    }
    Ok(notice)
}

/// One notice with the ILPA capital-call fields. Printable at `/notices/{id}`.
#[utoipa::path(get, path = "/notices/{notice_id}", tag = "capital", security(("bearer" = [])), params(("notice_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Notice), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_notice(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let notice = visible_notice(&state, &principal, parse_id("notice_id", &path)?).await?;
    Ok(HttpResponse::Ok().json(notice))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionRequest {
    #[schema(value_type = String, example = "1000000.00")]
    pub amount: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub value_date: NaiveDate,
}

/// Record a contribution paying a notice, in part or in full (staff). Over-payment is refused.
#[utoipa::path(post, path = "/notices/{notice_id}/contributions", tag = "capital", security(("bearer" = [])), params(("notice_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = ContributionRequest,
    responses((status = 201, body = Contribution),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn pay_notice(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<ContributionRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let notice_id = parse_id("notice_id", &path)?;
    let amount = contribution_amount(&body.value)?;
    let value_date = body.value.value_date;
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        capital::record_contribution(conn, &notice_id, amount, value_date, &actor, today())
    })
    .await
}

/// A contribution's amount, checked as the API checks it.
pub fn contribution_amount(input: &ContributionRequest) -> AppResult<Cents> {
    positive(input.amount).map_err(|reason| AppError::field("amount", reason))
}
