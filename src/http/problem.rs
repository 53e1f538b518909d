//! RFC 9457 problem details for every error the service returns.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, FieldError};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem: `/problems/{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Per-field reasons for validation failures, by JSON path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn from_error(error: &AppError) -> Problem {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = match error {
            // The cause is logged with the request id; the client gets no internals.
            AppError::Internal(_) => "internal error; quote the X-Request-Id response header when reporting it".into(),
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("/problems/{}", error.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors: error.field_errors().to_vec(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = %cause, "internal error");
        }
        let problem = Problem::from_error(self);
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        match self {
            AppError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"investai\""));
            }
            AppError::MethodNotAllowed { allowed, .. } => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            AppError::TooManyRequests { retry_after_seconds, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
                // A client told to wait gets no kept-alive connection to go on with at once.
                response.force_close();
            }
            _ => {}
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

/// Query strings that do not parse (`?as_of=yesterday`) become 400 problems.
pub fn query_error(error: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = error.to_string();
    let field = detail.split('`').nth(1).map_or_else(|| "query".to_string(), |name| format!("query.{name}"));
    AppError::Validation(vec![FieldError::new(field, detail)]).into()
}

/// Path segments that do not parse become 400 problems.
pub fn path_error(error: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::field("path", error.to_string()).into()
}

/// A known path with a method it does not serve: 405 naming the methods it does.
pub fn method_not_allowed(
    allowed: Vec<String>,
) -> impl Fn(HttpRequest) -> std::future::Ready<Result<HttpResponse, AppError>> + Clone {
    move |req: HttpRequest| {
        std::future::ready(Err(AppError::MethodNotAllowed {
            method: super::method_as_sent(&req).to_string(),
            allowed: allowed.clone(),
        }))
    }
}

/// Unknown routes answer with a problem too.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!("{} {}", super::method_as_sent(&req), req.path())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that cannot be reached answers 503 without its host, port or user, which the
    /// driver's message names; the log keeps them.
    #[test]
    fn an_unreachable_database_is_named_to_the_client_without_its_address() {
        let cause =
            "connection to server at \"10.1.2.3\", port 5432 failed: FATAL: role \"fund_writer\" does not exist";
        let problem = Problem::from_error(&crate::error::database_unavailable(&cause));
        assert_eq!(problem.status, 503);
        assert_eq!(problem.problem_type, "/problems/unavailable");
        for internal in ["10.1.2.3", "5432", "fund_writer"] {
            assert!(!problem.detail.contains(internal), "{}", problem.detail);
        }
    }
}
