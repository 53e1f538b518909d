//! Commitments of sources to tranches, and their amendments.

use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::structure::{positive, Checks};
use super::{page_limit, Page};
use crate::auth::Principal;
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::extract::{parse_id, request_fingerprint, IdempotencyKey, ValidJson, ValidQuery};
use crate::http::idempotent;
use crate::http::AppState;
use crate::storage::commitment_batch::{Answered, CommitmentRequest, KeyedRequest};
use crate::storage::commitments::{self, AmendmentKind, Commitment, CommitmentFilter, NewCommitment};
use crate::storage::funds::get_fund;

pub fn routes(table: &mut RouteTable) {
    table.post("/funds/{fund_id}/commitments", create_commitment);
    table.get("/funds/{fund_id}/commitments", list_commitments);
    table.get("/commitments/{commitment_id}", get_commitment);
    table.post("/commitments/{commitment_id}/amendments", amend_commitment);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommitmentRequest {
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub source_id: String,
    #[schema(value_type = uuid::Uuid)]
    #[serde(deserialize_with = "crate::http::extract::uuid_text")]
    pub tranche_id: String,
    #[schema(value_type = String, example = "500000000.00")]
    pub amount: Cents,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub effective_date: NaiveDate,
    /// Staff may take a tranche above its target only by saying so here.
    #[serde(default)]
    pub allow_oversubscription: bool,
}

/// Record a source's commitment to a tranche (staff).
#[utoipa::path(post, path = "/funds/{fund_id}/commitments", tag = "commitments", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = NewCommitmentRequest,
    responses((status = 201, body = Commitment),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn create_commitment(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<NewCommitmentRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let fund_id = parse_id("fund_id", &path)?;
    let input = &body.value;
    let mut checks = Checks::default();
    let source_id = checks.id("source_id", &input.source_id);
    let tranche_id = checks.id("tranche_id", &input.tranche_id);
    checks.check("amount", positive(input.amount));
    checks.finish()?;
    let new = NewCommitment {
        source_id: source_id.unwrap_or_default(),
        tranche_id: tranche_id.unwrap_or_default(),
        amount: input.amount,
        effective_date: input.effective_date,
        allow_oversubscription: input.allow_oversubscription,
        actor: principal.actor(),
    };
    let key = key.0.map(|key| KeyedRequest {
        principal: principal.actor(),
        key,
        request_hash: request_fingerprint(&req, &body.raw),
    });
    match state.commitments.record(CommitmentRequest { fund_id, new, key }).await? {
        Answered::Created(json) => idempotent::respond(StatusCode::CREATED.as_u16(), json, false),
        Answered::Replayed { status, body } => idempotent::respond(status, body, true),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommitmentQuery {
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub tranche_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub source_id: Option<String>,
    /// Commitment id to continue after (from `next_after`).
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A fund's commitments. An investor sees only its own.
#[utoipa::path(get, path = "/funds/{fund_id}/commitments", tag = "commitments", security(("bearer" = [])), params(("fund_id" = String, Path, format = Uuid), CommitmentQuery),
    responses((status = 200, body = Page<Commitment>)))]
pub async fn list_commitments(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: ValidQuery<CommitmentQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let fund_id = parse_id("fund_id", &path)?;
    let query = query.0;
    let requested_source = query.source_id.clone();
    let Some(source_id) = principal.party_filter(requested_source) else {
        return Ok(HttpResponse::Ok().json(Page::<Commitment> { items: vec![], next_after: None }));
    };
    let filter = CommitmentFilter {
        fund_id: Some(fund_id.clone()),
        tranche_id: query.tranche_id.clone(),
        source_id,
        after_id: query.after.clone(),
        uncalled_only: false,
    };
    let limit = page_limit(query.limit)?;
    let items = state
        .db(move |conn| {
            get_fund(conn, &fund_id)?;
            commitments::list_commitments(conn, &filter, limit + 1)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |c| c.id.clone())))
}

/// One commitment with its history of events. Investors may read only their own.
#[utoipa::path(get, path = "/commitments/{commitment_id}", tag = "commitments", security(("bearer" = [])), params(("commitment_id" = String, Path, format = Uuid)),
    responses((status = 200, body = Commitment), (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn get_commitment(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff, Role::Auditor, Role::Admin, Role::Investor])?;
    let commitment_id = parse_id("commitment_id", &path)?;
    let view = state.db(move |conn| commitments::get_commitment(conn, &commitment_id)).await?;
    if !principal.may_read_party(Role::Investor, &view.source_id) {
        return Err(AppError::not_found(format!("commitment {}", view.id)));
    }
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentRequest {
    pub kind: AmendmentKind,
    /// Required for `increase` and `decrease`; none for `cancel` (it cancels all that is unfunded).
    #[schema(value_type = Option<String>)]
    pub amount: Option<Cents>,
    #[serde(deserialize_with = "crate::domain::calendar_date::deserialize")]
    pub effective_date: NaiveDate,
    #[serde(default)]
    pub allow_oversubscription: bool,
}

/// Amend a commitment by a new event: increase, decrease (never below what is called) or cancel (staff).
#[utoipa::path(post, path = "/commitments/{commitment_id}/amendments", tag = "commitments", security(("bearer" = [])), params(("commitment_id" = String, Path, format = Uuid),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    request_body = AmendmentRequest,
    responses((status = 201, body = Commitment),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json")))]
pub async fn amend_commitment(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<String>,
    body: ValidJson<AmendmentRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Staff])?;
    let commitment_id = parse_id("commitment_id", &path)?;
    let input = &body.value;
    if let Some(amount) = input.amount {
        positive(amount).map_err(|reason| AppError::field("amount", reason))?;
    }
    let (kind, amount, date, allow) = (input.kind, input.amount, input.effective_date, input.allow_oversubscription);
    let actor = principal.actor();
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        commitments::amend_commitment(conn, &commitment_id, kind, amount, date, allow, &actor)
    })
    .await
}
