//! User administration (admin role).

use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{password, Principal};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::extract::{IdempotencyKey, ValidJson};
use crate::http::{idempotent, AppState};
use crate::storage::users::{self, User};

pub fn routes(table: &mut RouteTable) {
    table.get("/users", list_users);
    table.post("/users", create_user);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub username: String,
    pub role: Role,
    /// Required for investor, sme and facility users: the party they act for.
    pub party_id: Option<String>,
    /// At least 12 characters.
    pub password: String,
}

/// Every user (admin only).
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])), responses((status = 200, body = [User])))]
pub async fn list_users(state: web::Data<AppState>, principal: Principal) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    let list = state.db(users::list_users).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Create a user (admin only).
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])), request_body = NewUserRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, body = User),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<NewUserRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    let input = body.value;
    password::check_strength(&input.password).map_err(|reason| AppError::field("password", reason))?;
    let hash = state.hasher.hash(input.password.clone()).await?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        users::create_user(conn, &input.username, input.role, input.party_id.as_deref(), hash.clone())
    })
    .await
}
