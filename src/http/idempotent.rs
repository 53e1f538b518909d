//! Running a business write with `Idempotency-Key` semantics.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::extract::{request_fingerprint, IdempotencyKey};
use super::AppState;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::storage::idempotency::{self, Claim};
use crate::storage::{write_tx, DbConnection};

/// Header set on a response replayed from an earlier request with the same key.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// Runs `work` in one write transaction and answers `status` with its JSON.
///
/// With an `Idempotency-Key`, the key is claimed and the response stored in the same
/// transaction as the write; a replay with the same body returns the stored response; the
/// same key with another body is 422. A duplicate sent while the first is running waits for
/// it on the writer lock and then replays it. A failed request leaves its key unused, so a
/// corrected retry may use it.
pub async fn write<T, F>(
    state: &AppState,
    req: &HttpRequest,
    principal: &Principal,
    key: IdempotencyKey,
    body: &[u8],
    status: StatusCode,
    work: F,
) -> AppResult<HttpResponse>
where
    T: Serialize + 'static,
    F: FnMut(&mut DbConnection) -> AppResult<T> + Send + 'static,
{
    let fingerprint = request_fingerprint(req, body);
    let owner = principal.actor();
    let (status, body, replayed) =
        state.db(move |conn| run(conn, owner, key.0, fingerprint, status.as_u16(), work)).await?;
    respond(status, body, replayed)
}

/// A write's JSON response, marked when replayed from an earlier request with the same key.
pub fn respond(status: u16, body: String, replayed: bool) -> AppResult<HttpResponse> {
    let status = StatusCode::from_u16(status).map_err(AppError::internal)?;
    let mut response = HttpResponse::build(status);
    response.content_type("application/json");
    if replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    Ok(response.body(body))
}

fn run<T: Serialize>(
    conn: &mut DbConnection,
    owner: String,
    key: Option<String>,
    fingerprint: String,
    status: u16,
    mut work: impl FnMut(&mut DbConnection) -> AppResult<T>,
) -> AppResult<(u16, String, bool)> {
    let encode = |value: &T| serde_json::to_string(value).map_err(AppError::internal);
    let Some(key) = key else {
        let body = write_tx(conn, |c| encode(&work(c)?))?;
        return Ok((status, body, false));
    };
    // Claim, write and stored response share one transaction: a failure rolls back the claim
    // with the rest, and a duplicate queued behind it on the writer lock finds it completed.
    write_tx(conn, |c| {
        let claim = idempotency::claim(c, &owner, &key, &fingerprint)?;
        if let Claim::Replay { status, body } = claim {
            return Ok((status, body, true));
        }
        let body = encode(&work(c)?)?;
        idempotency::complete(c, &claim, &owner, &key, &fingerprint, (status, &body))?;
        Ok((status, body, false))
    })
}
