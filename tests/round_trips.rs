//! What a write sends to the database while it holds the writer lock (docs/scaling.md, "The
//! chain head's cap"): on PostgreSQL every statement is a round trip during which no other
//! write can run, so a batch of new commitments sends one statement per table whatever its
//! size, and as few as the books' rules allow.

use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::Connection;
use investai::domain::money::Cents;
use investai::storage::commitment_batch::{record_commitments, Answered, CommitmentRequest, KeyedRequest};
use investai::storage::commitments::NewCommitment;
use serde_json::json;

use crate::common::{self, created, id, Backend};

/// Statements a batch of new commitments sends from its `BEGIN` to its `COMMIT`, both
/// included: the writer lock, the keys, the tranches' totals (with their latest call and their
/// funds' latest distribution) and pairs, the removals dated after the batch's earliest date
/// (none here, so no commitment is read for them), the journal's head and
/// tree size, the commitments and their events, the tranche and capital totals, the entries and
/// postings, the daily totals, the tree's frontier and new hashes, the head with the tree's
/// size, the keys' answers, and the commit. What never changes once written (the sources' kinds,
/// the accounts' codes) is read before the lock, with the plan.
const BATCH_STATEMENTS_UNDER_LOCK_MAX: usize = 18;

/// Records every statement a connection sends.
fn recorder(statements: &Arc<Mutex<Vec<String>>>) -> impl Instrumentation {
    let statements = Arc::clone(statements);
    move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            statements.lock().expect("the recorder's lock").push(query.to_string());
        }
    }
}

/// The statements from the one that takes the writer lock to the commit.
fn under_lock(statements: &[String]) -> Vec<String> {
    let begin = statements.iter().position(|s| s.contains("UPDATE books_version")).expect("the lock taken");
    let commit = statements.iter().rposition(|s| s.trim() == "COMMIT").expect("the commit");
    statements[begin..=commit].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commitment_batch_sends_the_same_few_statements_under_the_lock_whatever_its_size() {
    let app = common::spawn_app(Backend::Postgres).await;
    let fund = app.create_fund("Round trips fund").await;
    let tranche = json!({"name": "Senior", "seniority": 1, "target_size": "100000000.00", "pref_rate": "0"});
    let tranche = id(&created(&app, &format!("/api/v1/funds/{fund}/tranches"), tranche).await);
    // An entry in the journal: every batch below appends to a tree with a frontier to read.
    let entry = json!({"effective_date": "2025-01-01", "description": "Opening", "postings": [
        {"account": "1010", "debit": "1.00"}, {"account": "3900", "credit": "1.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), entry).await;
    let sizes = [1usize, 16, 64];
    let mut sources = Vec::new();
    for n in 0..sizes.iter().sum::<usize>() {
        let source = json!({"kind": "private", "legal_name": format!("Round trips investor {n}"), "country": "DE"});
        sources.push(id(&created(&app, "/api/v1/sources", source).await));
    }
    let mut sources = sources.into_iter();
    let mut counts = Vec::new();
    for size in sizes {
        let requests: Vec<CommitmentRequest> = sources
            .by_ref()
            .take(size)
            .map(|source| CommitmentRequest {
                fund_id: fund.clone(),
                new: NewCommitment {
                    source_id: source.clone(),
                    tranche_id: tranche.clone(),
                    amount: Cents::new(100_000),
                    effective_date: chrono::NaiveDate::from_ymd_opt(2025, 1, 2).expect("a date"),
                    allow_oversubscription: false,
                    actor: "staff:alice".into(),
                },
                key: Some(KeyedRequest {
                    principal: "staff:alice".into(),
                    key: format!("round-trips-{source}"),
                    request_hash: "fingerprint".into(),
                }),
            })
            .collect();
        let statements = Arc::new(Mutex::new(Vec::new()));
        let mut conn = app.conn();
        let investai::storage::DbConnection::Postgresql(pg) = &mut *conn else { panic!("a PostgreSQL connection") };
        pg.set_instrumentation(recorder(&statements));
        let answers = record_commitments(&mut conn, &requests).expect("the batch");
        let investai::storage::DbConnection::Postgresql(pg) = &mut *conn else { panic!("a PostgreSQL connection") };
        pg.set_instrumentation(|_: InstrumentationEvent<'_>| {});
        assert!(answers.iter().all(|a| matches!(a, Ok(Answered::Created(_)))), "{answers:?}");
        let recorded = statements.lock().expect("the recorder's lock").clone();
        let sent = under_lock(&recorded);
        assert!(
            sent.len() <= BATCH_STATEMENTS_UNDER_LOCK_MAX,
            "a batch of {size} sent {} statements under the lock: {sent:#?}",
            sent.len()
        );
        counts.push(sent.len());
    }
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "statements under the lock by batch size {sizes:?}: {counts:?}");
}

/// An entry posted with its accounts named by id (a manual entry, a reversal) looks its
/// accounts up once: the same read that finds them in the fund's chart gives the floors their
/// codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_looks_up_its_accounts_once() {
    use investai::domain::ledger::PostingLine;
    use investai::storage::ledger::{post_entry, standard_account, NewEntry};
    let app = common::spawn_app(Backend::Postgres).await;
    let fund = app.create_fund("Round trips entries fund").await;
    let mut conn = app.conn();
    let (cash, reserve) = (
        standard_account(&mut conn, &fund, "1010").expect("the cash account").id,
        standard_account(&mut conn, &fund, "3900").expect("the reserve account").id,
    );
    let line = |account_id: &str, cents: i64| PostingLine {
        account_id: account_id.to_string(),
        amount: Cents::new(cents),
        party_id: None,
        memo: String::new(),
    };
    let entry = NewEntry {
        fund_id: fund.clone(),
        effective_date: chrono::NaiveDate::from_ymd_opt(2025, 1, 2).expect("a date"),
        actor: "staff:alice".into(),
        event_type: "manual".into(),
        event_id: investai::storage::new_id(),
        description: "Reserve".into(),
        reverses_entry_id: None,
        amount_field: "postings",
        date_field: "effective_date",
        postings: vec![line(&cash, 100), line(&reserve, -100)],
    };
    let statements = Arc::new(Mutex::new(Vec::new()));
    let investai::storage::DbConnection::Postgresql(pg) = &mut *conn else { panic!("a PostgreSQL connection") };
    pg.set_instrumentation(recorder(&statements));
    let mut entry = Some(entry);
    investai::storage::write_tx(&mut conn, |conn| post_entry(conn, entry.take().expect("posted once")))
        .expect("the entry");
    let recorded = statements.lock().expect("the recorder's lock").clone();
    let lookups: Vec<&String> = recorded.iter().filter(|s| s.contains("FROM \"ledger_accounts\"")).collect();
    assert_eq!(lookups.len(), 1, "{lookups:#?}");
}
