//! Funds and compartments.

use crate::http::api::{page_after, Page, PageQuery};
use crate::http::extract::ValidQuery;
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson};
use crate::http::{idempotent, AppState};
use crate::storage::funds::{self, Fund, NewFund};

pub fn routes(table: &mut RouteTable) {
    table.get("/funds", list_funds);
    table.post("/funds", create_fund);
    table.get("/funds/{fund_id}", get_fund);
}

/// Longest fund, account or party name accepted.
pub const NAME_CHARS_MAX: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFundRequest {
    pub name: String,
    /// The umbrella fund this compartment belongs to; none for an umbrella.
    #[schema(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub parent_id: Option<String>,
    #[schema(value_type = String, example = "20000000000.00")]
    pub target_size: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub inception_date: NaiveDate,
    pub term_years: i32,
}

impl NewFundRequest {
    fn validate(self) -> AppResult<NewFund> {
        let mut errors = Vec::new();
        if let Err(reason) = validate_name(&self.name) {
            errors.push(FieldError::new("name", reason));
        }
        if self.target_size.require_positive().is_err() {
            errors.push(FieldError::new("target_size", "must be greater than zero"));
        }
        if !(1..=99).contains(&self.term_years) {
            errors.push(FieldError::new("term_years", "must be 1 to 99 years"));
        }
        let parent_id = match self.parent_id.as_deref().map(|id| parse_id("parent_id", id)) {
            Some(Ok(id)) => Some(id),
            Some(Err(AppError::Validation(mut e))) => {
                errors.append(&mut e);
                None
            }
            _ => None,
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(NewFund {
            name: self.name.trim().to_string(),
            parent_id,
            target_size: self.target_size,
            inception_date: self.inception_date,
            term_years: self.term_years,
        })
    }
}

/// Names: 1 to 200 characters on one line, as `domain::text` has text (something visible, no
/// control characters, no bidirectional controls).
pub fn validate_name(name: &str) -> Result<(), String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > NAME_CHARS_MAX {
        return Err(format!("must be 1 to {NAME_CHARS_MAX} characters"));
    }
    crate::domain::text::refusal(trimmed, false).map_or(Ok(()), |reason| Err(reason.into()))
}

/// Every fund and compartment.
#[utoipa::path(get, path = "/funds", tag = "funds", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<Fund>)))]
pub async fn list_funds(
    state: web::Data<AppState>,
    _principal: Principal,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    let list = state.db(funds::list_funds).await?;
    let page = page_after(list, |f| f.id.clone(), query.after.as_deref(), query.limit)?;
    Ok(HttpResponse::Ok().json(page))
}

/// Create a fund, or a compartment of an umbrella fund, with its chart of accounts (staff).
#[utoipa::path(post, path = "/funds", tag = "funds", security(("bearer" = [])), request_body = NewFundRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses(
        (status = 201, body = Fund),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_fund(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<NewFundRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let new = body.value.validate()?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        funds::create_fund(conn, new.clone())
    })
    .await
}

/// One fund.
#[utoipa::path(get, path = "/funds/{fund_id}", tag = "funds", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Fund), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_fund(
    state: web::Data<AppState>,
    _principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let fund_id = parse_id("fund_id", &path)?;
    let fund = state.db(move |conn| funds::get_fund(conn, &fund_id)).await?;
    Ok(HttpResponse::Ok().json(fund))
}
