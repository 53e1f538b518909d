//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::error::{AppError, AppResult};
use crate::storage::has_pending_migrations;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Another method than GET: 405 with `Allow`, as on the API's paths.
    let only_get = || web::to(super::problem::method_not_allowed(vec!["GET".to_string(), "HEAD".to_string()]));
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)).default_service(only_get()))
        .service(web::resource("/readyz").route(web::get().to(readyz)).default_service(only_get()));
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    /// `sqlite` or `postgres`
    pub database: &'static str,
    pub migrations: &'static str,
    /// The read replica, when one is configured. Readiness does not depend on it: while it is
    /// too far behind or unreachable, its reads go to the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<crate::storage::replica::ReplicaStatus>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers and its schema is current.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = Readiness),
    (status = 503, body = crate::http::problem::Problem, content_type = "application/problem+json"),
))]
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let database = state.backend;
    state
        .db(|conn| {
            conn.batch_execute("SELECT 1").map_err(|e| crate::error::database_unavailable(&e))?;
            if has_pending_migrations(conn)? {
                return Err(AppError::Unavailable("database migrations are pending".into()));
            }
            Ok(())
        })
        .await?;
    let replica = state.replica.as_ref().map(|replica| replica.status());
    Ok(HttpResponse::Ok().json(Readiness { status: "ready", database, migrations: "current", replica }))
}
