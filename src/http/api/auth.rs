//! `POST /api/v1/auth/token`: a bearer token for API clients.

use crate::http::routes::RouteTable;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::login::{authenticate, token_for};
use crate::domain::roles::Role;
use crate::error::AppResult;
use crate::http::extract::ValidJson;
use crate::http::AppState;

pub fn routes(table: &mut RouteTable) {
    table.post("/auth/token", issue_token);
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
))]
pub async fn issue_token(state: web::Data<AppState>, body: ValidJson<TokenRequest>) -> AppResult<HttpResponse> {
    let TokenRequest { username, password } = body.value;
    let ttl = state.settings.token_ttl_minutes * 60;
    let keys = state.keys.clone();
    let (token, role) = state
        .db(move |conn| {
            let user = authenticate(conn, &username, &password)?;
            Ok((token_for(&keys, &user, ttl)?, user.role()?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenResponse { access_token: token, token_type: "Bearer", expires_in: ttl, role }))
}
