//! New commitments recorded in batches: one write transaction for every request a node has
//! waiting, each request decided in order as if it had been alone. The writer lock is taken
//! once per batch and its rows go in one statement per table, so the lock's round trips are
//! shared by the batch instead of paid by each commitment.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::commitments::CommitmentEventRow;
use super::commitments::{
    initial_commitment, plan_commitments, CommitmentPlan, CommitmentRow, NewCommitment, TrancheBook,
};
use super::idempotency::{self, Claim, Completion, KeysFound};
use super::ledger::ChainedEntries;
use super::schema::{commitment_events, commitments};
use super::{write_tx_before_durable, DbConnection};
use crate::error::{AppError, AppResult};

/// Most requests one batch holds: bounds the transaction and the statements' parameters.
pub const COMMITMENT_BATCH_MAX: usize = 128;

/// A request to record a new commitment of a fund.
#[derive(Clone, Debug)]
pub struct CommitmentRequest {
    pub fund_id: String,
    pub new: NewCommitment,
    pub key: Option<KeyedRequest>,
}

/// The `Idempotency-Key` of a request, its owner and the fingerprint of the request.
#[derive(Clone, Debug)]
pub struct KeyedRequest {
    pub principal: String,
    pub key: String,
    pub request_hash: String,
}

/// What a request of a batch was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answered {
    /// Recorded now: the commitment's JSON.
    Created(String),
    /// Recorded earlier under the same key: what that request was answered.
    Replayed { status: u16, body: String },
}

/// HTTP status of a commitment created.
const CREATED_STATUS: u16 = 201;

/// Records `requests` in one write transaction, in order: a request refused (by its key, its
/// plan or the tranche) writes nothing and does not disturb the others. The outer error is a
/// failure of the whole batch, which then wrote nothing.
pub fn record_commitments(
    conn: &mut DbConnection,
    requests: &[CommitmentRequest],
) -> AppResult<Vec<AppResult<Answered>>> {
    let answers = record_commitments_before_durable(conn, requests)?;
    crate::storage::wait_until_durable(conn)?;
    Ok(answers)
}

/// As [`record_commitments`], answering once the batch has committed, before it is known to be
/// on disk: no answer may go out before [`crate::storage::wait_until_durable`] has returned
/// after this call.
pub fn record_commitments_before_durable(
    conn: &mut DbConnection,
    requests: &[CommitmentRequest],
) -> AppResult<Vec<AppResult<Answered>>> {
    if requests.len() > COMMITMENT_BATCH_MAX {
        return Err(AppError::internal(format!("a batch holds at most {COMMITMENT_BATCH_MAX} commitments")));
    }
    let planned: Vec<(&str, &NewCommitment)> = requests.iter().map(|r| (r.fund_id.as_str(), &r.new)).collect();
    // Read before the writer lock: none of it changes once written.
    let (plans, mut plan_errors): (Vec<Option<CommitmentPlan>>, Vec<Option<AppError>>) =
        plan_commitments(conn, &planned)?
            .into_iter()
            .map(|plan| match plan {
                Ok(plan) => (Some(plan), None),
                Err(error) => (None, Some(error)),
            })
            .unzip();
    let decisions = write_tx_before_durable(conn, |c| decide_and_write(c, requests, &plans))?;
    let answers = decisions
        .into_iter()
        .zip(plan_errors.iter_mut())
        .map(|(decision, plan_error)| match decision {
            Decision::Answered(answer) => Ok(answer),
            Decision::Refused(error) => Err(error),
            Decision::PlanRefused => Err(plan_error
                .take()
                .unwrap_or_else(|| AppError::internal("a commitment was refused for a plan that had no error"))),
        })
        .collect();
    Ok(answers)
}

enum Decision {
    Answered(Answered),
    Refused(AppError),
    /// Refused for the error of its plan (an error cannot be cloned, so it is taken after).
    PlanRefused,
}

/// Rows of the batch's admitted commitments, written together at the end.
#[derive(Default)]
struct BatchRows {
    commitments: Vec<CommitmentRow>,
    events: Vec<CommitmentEventRow>,
    completions: Vec<Completion>,
}

fn decide_and_write(
    conn: &mut DbConnection,
    requests: &[CommitmentRequest],
    plans: &[Option<CommitmentPlan>],
) -> AppResult<Vec<Decision>> {
    let wanted: Vec<(&str, &str)> =
        requests.iter().filter_map(|r| r.key.as_ref()).map(|k| (k.principal.as_str(), k.key.as_str())).collect();
    let mut keys = idempotency::find_keys(conn, &wanted)?;
    let tranche_ids: Vec<&str> = requests.iter().map(|r| r.new.tranche_id.as_str()).collect();
    let source_ids: Vec<&str> = requests.iter().map(|r| r.new.source_id.as_str()).collect();
    let dates: Vec<NaiveDate> = requests.iter().map(|r| r.new.effective_date).collect();
    let mut book = TrancheBook::load(conn, &tranche_ids, &source_ids, &dates)?;
    let mut chain = ChainedEntries::at_head(conn)?;
    let mut rows = BatchRows::default();
    let decisions: Vec<Decision> = requests
        .iter()
        .zip(plans)
        .map(|(request, plan)| decide(request, plan.as_ref(), &mut keys, &mut book, &mut chain, &mut rows))
        .collect::<AppResult<_>>()?;
    assert_eq!(rows.commitments.len(), rows.events.len(), "each commitment has its initial event");
    for chunk in rows.commitments.chunks(1_000) {
        super::batch_insert!(conn, commitments::table, chunk);
    }
    for chunk in rows.events.chunks(1_000) {
        super::batch_insert!(conn, commitment_events::table, chunk);
    }
    book.write_totals(conn)?;
    chain.write(conn)?;
    idempotency::complete_all(conn, &rows.completions)?;
    Ok(decisions)
}

/// One request: its key first (a replay writes nothing), then its plan, then the tranche.
/// An error fails the whole batch; a refusal of the request is a [`Decision`].
fn decide(
    request: &CommitmentRequest,
    plan: Option<&CommitmentPlan>,
    keys: &mut KeysFound,
    book: &mut TrancheBook,
    chain: &mut ChainedEntries,
    rows: &mut BatchRows,
) -> AppResult<Decision> {
    let claim = match &request.key {
        None => None,
        Some(keyed) => match keys.claim(&keyed.principal, &keyed.key, &keyed.request_hash) {
            Ok(Claim::Replay { status, body }) => return Ok(Decision::Answered(Answered::Replayed { status, body })),
            Ok(claim) => Some((claim, keyed)),
            Err(error) => return Ok(Decision::Refused(error)),
        },
    };
    let Some(plan) = plan else {
        return Ok(Decision::PlanRefused);
    };
    if let Err(refusal) = book.admit(plan.tranche(), &request.new) {
        return Ok(Decision::Refused(refusal));
    }
    let body = record(request, plan, book, chain, rows)?;
    if let Some((claim, keyed)) = claim {
        let done = Completion {
            claim,
            principal: keyed.principal.clone(),
            key: keyed.key.clone(),
            request_hash: keyed.request_hash.clone(),
            status: CREATED_STATUS,
            body: body.clone(),
        };
        keys.complete(&done);
        rows.completions.push(done);
    }
    Ok(Decision::Answered(Answered::Created(body)))
}

/// Links the rows of a commitment the tranche admitted; answers its JSON.
fn record(
    request: &CommitmentRequest,
    plan: &CommitmentPlan,
    book: &mut TrancheBook,
    chain: &mut ChainedEntries,
    rows: &mut BatchRows,
) -> AppResult<String> {
    let (row, event, view) = initial_commitment(plan, &request.new, chain)?;
    let body = serde_json::to_string(&view).map_err(AppError::internal)?;
    book.note(&row, plan, request.new.effective_date)?;
    rows.commitments.push(row);
    rows.events.push(event);
    Ok(body)
}
