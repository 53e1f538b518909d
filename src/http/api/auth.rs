//! `POST /api/v1/auth/token`: a bearer token for API clients.

use crate::http::routes::RouteTable;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::login::{self, client_address, sign_in, token_for};
use crate::auth::Principal;
use crate::domain::roles::Role;
use crate::error::AppResult;
use crate::http::extract::ValidJson;
use crate::http::AppState;

pub fn routes(table: &mut RouteTable) {
    table.post("/auth/token", issue_token);
    table.post("/auth/sign-out", sign_out);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub role: Role,
}

/// Exchange a user name and password for a bearer token.
#[utoipa::path(post, path = "/auth/token", tag = "auth", request_body = TokenRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = crate::http::problem::Problem, content_type = "application/problem+json"),
    (status = 429, body = crate::http::problem::Problem, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds before the next sign-in is checked"))),
))]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidJson<TokenRequest>,
) -> AppResult<HttpResponse> {
    let TokenRequest { username, password } = body.value;
    let ttl = state.settings.token_ttl_minutes * 60;
    let user = sign_in(&state, username, password, client_address(&state, &req)).await?;
    let (token, role) = (token_for(&state.keys, &user, ttl)?, user.role()?);
    Ok(HttpResponse::Ok().json(TokenResponse { access_token: token, token_type: "Bearer", expires_in: ttl, role }))
}

/// End the calling token: it is refused from now on, on every node within the standing
/// refresh time (docs/security.md). Signing out a token twice is not an error.
#[utoipa::path(post, path = "/auth/sign-out", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "The token is revoked"),
    (status = 401, body = crate::http::problem::Problem, content_type = "application/problem+json"),
))]
pub async fn sign_out(state: web::Data<AppState>, principal: Principal) -> AppResult<HttpResponse> {
    login::sign_out(&state, &principal).await?;
    Ok(HttpResponse::NoContent().finish())
}
