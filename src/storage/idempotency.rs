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
    judge(existing.as_ref(), request_hash)
}

/// What a stored key means for a request with `request_hash`.
fn judge(existing: Option<&KeyRow>, request_hash: &str) -> AppResult<Claim> {
    let Some(row) = existing else {
        return Ok(Claim::Proceed);
    };
    if row.request_hash != request_hash {
        return Err(key_reused());
    }
    match (row.state.as_str(), row.response_status, &row.response_body) {
        ("completed", Some(status), Some(body)) => Ok(Claim::Replay { status: status as u16, body: body.clone() }),
        _ if row.locked_until > now_micros() => Err(AppError::conflict(
            "request-in-flight",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )),
        // The node that claimed it died before completing: nothing was written, take over.
        _ => Ok(Claim::TakeOver),
    }
}

/// The refusal of a key sent again with another request.
pub fn key_reused() -> AppError {
    AppError::rule_on(
        "idempotency-key-reused",
        "Idempotency-Key",
        "this key was used for a different request; use a new key for a new request",
    )
}

/// The stored keys of a batch of requests, read in one query, to claim each in memory.
pub struct KeysFound(Vec<KeyRow>);

/// Looks up every `(principal, key)` of a batch, one query per principal (a batch usually has
/// one), so that both columns of the primary key are searched in its index. Call inside the
/// batch's write transaction.
pub fn find_keys(conn: &mut DbConnection, wanted: &[(&str, &str)]) -> AppResult<KeysFound> {
    let mut principals: Vec<&str> = wanted.iter().map(|(principal, _)| *principal).collect();
    principals.sort_unstable();
    principals.dedup();
    let mut rows = Vec::new();
    for principal in principals {
        let keys: Vec<&str> = wanted.iter().filter(|(p, _)| *p == principal).map(|(_, key)| *key).collect();
        let found: Vec<KeyRow> = idempotency_keys::table
            .filter(idempotency_keys::principal.eq(principal))
            .filter(idempotency_keys::idempotency_key.eq_any(keys))
            .filter(super::planned_each_time())
            .select(KeyRow::as_select())
            .load(conn)?;
        rows.extend(found);
    }
    Ok(KeysFound(rows))
}

impl KeysFound {
    /// [`claim`] against the keys found and those completed since.
    pub fn claim(&self, principal: &str, key: &str, request_hash: &str) -> AppResult<Claim> {
        judge(self.find(principal, key), request_hash)
    }

    /// Counts a key completed by a request of the batch, so that a later request with the same
    /// key replays its response (or is refused, for another request) as it would from the table.
    pub fn complete(&mut self, done: &Completion) {
        self.0.retain(|row| !(row.principal == done.principal && row.idempotency_key == done.key));
        let response = (done.status, done.body.as_str());
        self.0.push(KeyRow::completed(&done.principal, &done.key, &done.request_hash, response, now_micros()));
    }

    fn find(&self, principal: &str, key: &str) -> Option<&KeyRow> {
        self.0.iter().find(|row| row.principal == principal && row.idempotency_key == key)
    }
}

/// A key to store with its response, once the request's write is done.
pub struct Completion {
    pub claim: Claim,
    pub principal: String,
    pub key: String,
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// Stores the keys of a batch with their responses: new keys in one statement, the rare
/// taken-over ones one by one. Call inside the batch's write transaction.
pub fn complete_all(conn: &mut DbConnection, completions: &[Completion]) -> AppResult<()> {
    let now = now_micros();
    let mut fresh = Vec::with_capacity(completions.len());
    for done in completions {
        if done.claim == Claim::TakeOver {
            complete(conn, &done.claim, &done.principal, &done.key, &done.request_hash, (done.status, &done.body))?;
        } else {
            fresh.push(KeyRow::completed(
                &done.principal,
                &done.key,
                &done.request_hash,
                (done.status, &done.body),
                now,
            ));
        }
    }
    for chunk in fresh.chunks(1_000) {
        super::batch_insert!(conn, idempotency_keys::table, chunk);
    }
    Ok(())
}

impl KeyRow {
    fn completed(principal: &str, key: &str, request_hash: &str, response: (u16, &str), now: NaiveDateTime) -> Self {
        KeyRow {
            principal: principal.to_string(),
            idempotency_key: key.to_string(),
            request_hash: request_hash.to_string(),
            state: "completed".into(),
            response_status: Some(i32::from(response.0)),
            response_body: Some(response.1.to_string()),
            created_at: now,
            locked_until: now,
        }
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
    let row = KeyRow::completed(principal, key, request_hash, response, now_micros());
    diesel::insert_into(idempotency_keys::table).values(&row).execute(conn)?;
    Ok(())
}
