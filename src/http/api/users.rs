//! User administration (admin role).

use crate::http::api::{page_limit, PageQuery};
use crate::http::routes::RouteTable;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{password, Principal};
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::http::api::{page_limit_up_to, Page};
use crate::http::extract::{parse_id, IdempotencyKey, ValidJson, ValidQuery};
use crate::http::{idempotent, AppState};
use crate::storage::users::{self, AccountChange, User, UserEvent, USER_EVENTS_PAGE_MAX};

pub fn routes(table: &mut RouteTable) {
    table.get("/users", list_users);
    table.post("/users", create_user);
    table.post("/users/{id}/disable", disable_user);
    table.post("/users/{id}/enable", enable_user);
    table.post("/users/{id}/password", reset_password);
    table.post("/users/{id}/role", change_role);
    table.get("/users/{id}/events", list_events);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub username: String,
    pub role: Role,
    /// Required for investor, sme and facility users: the party they act for.
    #[schema(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub party_id: Option<String>,
    /// At least 12 characters.
    pub password: String,
}

/// Every user (admin only).
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<User>)))]
pub async fn list_users(
    state: web::Data<AppState>,
    principal: Principal,
    query: ValidQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    let limit = page_limit(query.limit)?;
    let after = query.after.clone();
    let page = state.db(move |conn| users::page_of_users(conn, after.as_deref(), limit)).await?;
    Ok(HttpResponse::Ok().json(Page { items: page.items, next_after: page.next_after }))
}

/// Create a user (admin only).
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])), request_body = NewUserRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses(
        (status = 201, body = User),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json"),
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
    let actor = principal.actor();
    password::check_strength(&input.password).map_err(|reason| AppError::field("password", reason))?;
    let hash = state.hasher.hash(input.password.clone()).await?;
    idempotent::write(&state, &req, &principal, key, &body.raw, StatusCode::CREATED, move |conn| {
        users::create_user(conn, &input.username, input.role, input.party_id.as_deref(), hash.clone(), &actor)
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The new password, at least 12 characters; hand it over in person.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChangeRequest {
    pub role: Role,
    /// Required for investor, sme and facility: the party the user acts for.
    #[schema(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub party_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Event id to continue after (from `next_after`).
    #[param(value_type = Option<uuid::Uuid>)]
    #[serde(default, deserialize_with = "crate::http::extract::optional_uuid_text")]
    pub after: Option<String>,
    /// 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Applies an administrator's change to a user and ends the user's standing on this node at
/// once (other nodes within the standing refresh time).
async fn change_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    raw: &[u8],
    change: AccountChange,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    let id = parse_id("id", req.match_info().query("id"))?;
    let lookup = id.clone();
    let username = state.db(move |conn| users::find_by_id(conn, &lookup)).await?.username;
    let (admin, actor) = (principal.username.clone(), principal.actor());
    let response = idempotent::write(&state, &req, &principal, key, raw, StatusCode::OK, move |conn| {
        users::change_account(conn, &id, change.clone(), &admin, &actor)
    })
    .await;
    // Whatever the answer: a change committed and then answered with an error applies here too.
    state.standings.forget(&username);
    response
}

/// Disable a user (admin only): their tokens and sessions end, and they cannot sign in.
#[utoipa::path(post, path = "/users/{id}/disable", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses(
        (status = 200, body = User),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
) -> AppResult<HttpResponse> {
    change_account(state, req, principal, key, b"", AccountChange::Disable).await
}

/// Enable a disabled user again (admin only). Tokens ended by disabling stay ended.
#[utoipa::path(post, path = "/users/{id}/enable", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses(
        (status = 200, body = User),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn enable_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
) -> AppResult<HttpResponse> {
    change_account(state, req, principal, key, b"", AccountChange::Enable).await
}

/// Set a new password for a user (admin only): the user's tokens and sessions end.
#[utoipa::path(post, path = "/users/{id}/password", tag = "users", security(("bearer" = [])),
    request_body = PasswordResetRequest,
    params(("id" = String, Path, format = Uuid), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses(
        (status = 200, body = User),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<PasswordResetRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    parse_id("id", req.match_info().query("id"))?;
    password::check_strength(&body.value.password).map_err(|reason| AppError::field("password", reason))?;
    let password_hash = state.hasher.hash(body.value.password.clone()).await?;
    change_account(state, req, principal, key, &body.raw, AccountChange::ResetPassword { password_hash }).await
}

/// Change a user's role, and party for party-bound roles (admin only): the user's tokens and
/// sessions end; they sign in again with the new role.
#[utoipa::path(post, path = "/users/{id}/role", tag = "users", security(("bearer" = [])),
    request_body = RoleChangeRequest,
    params(("id" = String, Path, format = Uuid), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses(
        (status = 200, body = User),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: ValidJson<RoleChangeRequest>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    super::proposals::require_proposal(&state, "a change of role")?;
    let RoleChangeRequest { role, party_id } = &body.value;
    let change = AccountChange::ChangeRole { role: *role, party_id: party_id.clone() };
    change_account(state, req, principal, key, &body.raw, change).await
}

/// What was done to a user's account, by whom, oldest first (admin only).
#[utoipa::path(get, path = "/users/{id}/events", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), EventQuery),
    responses(
        (status = 200, body = Page<UserEvent>),
        (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: ValidQuery<EventQuery>,
) -> AppResult<HttpResponse> {
    principal.require(&[Role::Admin])?;
    let id = parse_id("id", req.match_info().query("id"))?;
    let after = query.after.clone();
    let limit = page_limit_up_to(query.limit, 50, USER_EVENTS_PAGE_MAX)?;
    let items = state.db(move |conn| users::list_events(conn, &id, after.as_deref(), limit + 1)).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(items, limit, |e| e.id.clone())))
}
