//! Idempotency keys: a replayed POST returns the stored response and writes nothing.
//!
//! A key is claimed, and completed with the response, inside the business transaction itself,
//! so the write and its stored response commit together or not at all. Writers queue on one
//! lock, so a concurrent duplicate runs after the first and replays it. A key left claimed but
//! not completed (written by a release that claimed in a transaction of its own) answers 409
//! until its lease ends, then may be taken over.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{now_micros, DbConnection};
use crate::error::{AppError, AppResult};

/// How long a claimed key stays locked if its request never completes (a crashed node).
pub const IN_FLIGHT_LEASE_SECONDS: i64 = 60;
/// Longest key accepted.
pub const KEY_LENGTH_MAX: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request.
    Proceed,
    /// The same request already completed: answer with what it answered.
    Replay { status: u16, body: String },
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    principal: String,
    idempotency_key: String,
    request_hash: String,
    state: String,
    response_status: Option<i32>,
    response_body: Option<String>,
    created_at: NaiveDateTime,
    locked_until: NaiveDateTime,
}

/// Claims `key` for `principal`. Call inside the business write transaction.
pub fn claim(conn: &mut DbConnection, principal: &str, key: &str, request_hash: &str) -> AppResult<Claim> {
    let now = now_micros();
    let lease_end = now + Duration::seconds(IN_FLIGHT_LEASE_SECONDS);
    let existing: Option<KeyRow> =
        idempotency_keys::table.find((principal, key)).select(KeyRow::as_select()).first(conn).optional()?;
    let Some(row) = existing else {
        diesel::insert_into(idempotency_keys::table)
            .values(&KeyRow {
                principal: principal.to_string(),
                idempotency_key: key.to_string(),
                request_hash: request_hash.to_string(),
                state: "in_progress".into(),
                response_status: None,
                response_body: None,
                created_at: now,
                locked_until: lease_end,
            })
            .execute(conn)?;
        return Ok(Claim::Proceed);
    };
    if row.request_hash != request_hash {
        return Err(AppError::rule_on(
            "idempotency-key-reused",
            "Idempotency-Key",
            "this key was used for a different request; use a new key for a new request",
        ));
    }
    match (row.state.as_str(), row.response_status, row.response_body) {
        ("completed", Some(status), Some(body)) => Ok(Claim::Replay { status: status as u16, body }),
        _ if row.locked_until > now => Err(AppError::conflict(
            "request-in-flight",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )),
        _ => {
            // The node that claimed it died before completing: nothing was written, take over.
            diesel::update(idempotency_keys::table.find((principal, key)))
                .set(idempotency_keys::locked_until.eq(lease_end))
                .execute(conn)?;
            Ok(Claim::Proceed)
        }
    }
}

/// Stores the response. Call inside the same transaction as the business write.
pub fn complete(conn: &mut DbConnection, principal: &str, key: &str, status: u16, body: &str) -> AppResult<()> {
    let updated = diesel::update(idempotency_keys::table.find((principal, key)))
        .set((
            idempotency_keys::state.eq("completed"),
            idempotency_keys::response_status.eq(Some(i32::from(status))),
            idempotency_keys::response_body.eq(Some(body)),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(AppError::internal("idempotency key vanished while its request ran"));
    }
    Ok(())
}
