//! Idempotency keys: a replayed POST returns the stored response and writes nothing.
//!
//! A key is looked up, and stored with the response, inside the business transaction itself,
//! so the write and its stored response commit together or not at all. Writers queue on one
//! lock, so a concurrent duplicate runs after the first and replays it. A key left claimed but
//! not completed (written by a release that claimed in a transaction of its own) answers 409
//! until its lease ends, then may be taken over.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{now_micros, DbConnection};
use crate::error::{AppError, AppResult};

/// Longest key accepted.
pub const KEY_LENGTH_MAX: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: run the request.
    Proceed,
    /// The key was claimed by a request that never completed: run the request in its place.
    TakeOver,
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
    let existing: Option<KeyRow> =
        idempotency_keys::table.find((principal, key)).select(KeyRow::as_select()).first(conn).optional()?;
    let Some(row) = existing else {
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
        _ if row.locked_until > now_micros() => Err(AppError::conflict(
            "request-in-flight",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )),
        // The node that claimed it died before completing: nothing was written, take over.
        _ => Ok(Claim::TakeOver),
    }
}

/// Stores the key with the response. Call inside the same transaction as the business write,
/// with what [`claim`] answered there.
pub fn complete(
    conn: &mut DbConnection,
    claim: &Claim,
    principal: &str,
    key: &str,
    request_hash: &str,
    response: (u16, &str),
) -> AppResult<()> {
    let (status, body) = (Some(i32::from(response.0)), Some(response.1.to_string()));
    if *claim == Claim::TakeOver {
        diesel::update(idempotency_keys::table.find((principal, key)))
            .set((
                idempotency_keys::state.eq("completed"),
                idempotency_keys::response_status.eq(status),
                idempotency_keys::response_body.eq(body),
            ))
            .execute(conn)?;
        return Ok(());
    }
    let now = now_micros();
    let row = KeyRow {
        principal: principal.to_string(),
        idempotency_key: key.to_string(),
        request_hash: request_hash.to_string(),
        state: "completed".into(),
        response_status: status,
        response_body: body,
        created_at: now,
        locked_until: now,
    };
    diesel::insert_into(idempotency_keys::table).values(&row).execute(conn)?;
    Ok(())
}
