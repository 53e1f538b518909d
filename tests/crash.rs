//! Crash safety: the real `investai serve` process takes a stream of journal entries and of new
//! commitments (recorded in batches) from several writers and is killed with SIGKILL at random
//! moments, 20 times, then restarted on the same database. Every write it acknowledged must be
//! there afterwards, every entry whole (both its postings), the trial balance balanced and
//! `investai verify` passing. On SQLite and on PostgreSQL.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{investai, start_server, Backend};
use investai::domain::roles::Role;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// Kills of the server per backend.
const KILLS: usize = 20;
/// Concurrent writers.
const WRITERS: usize = 4;
/// How long the server runs between two kills, at most.
const RUN_MILLIS_MAX: u64 = 700;
/// Concurrent writers of new commitments, which the server records in batches.
const COMMITMENT_WRITERS: usize = 4;
/// Tranches and sources of the crash fund: each commitment takes a pair of them.
const CRASH_TRANCHES: usize = 4;
const CRASH_SOURCES: usize = 250;
/// What the writers were told was recorded: entry or commitment id and amount in cents.
type Acknowledged = Arc<Mutex<Vec<(String, i64)>>>;
/// (tranche, source) pairs not yet sent, taken in order by the commitment writers.
struct Pairs {
    pairs: Vec<(String, String)>,
    next: AtomicUsize,
}

/// Posts balanced entries until the server stops answering; records each 201.
async fn write_until_down(address: String, token: String, fund: String, writer: usize, acknowledged: Acknowledged) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    for n in 0.. {
        let cents = 100 + (writer as i64) * 1_000 + n;
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        let body = json!({"effective_date": "2025-03-01", "description": format!("writer {writer} entry {n}"),
            "postings": [{"account": "1000", "debit": amount}, {"account": "3900", "credit": amount}]});
        let url = format!("{address}/api/v1/funds/{fund}/journal-entries");
        if post_and_record(&client, url, &token, &body, cents, &acknowledged).await.is_none() {
            return;
        }
    }
}

/// Posts `body`; on a 201 records the id created with `cents`. None once the server is down.
async fn post_and_record(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: &Value,
    cents: i64,
    acknowledged: &Acknowledged,
) -> Option<()> {
    let reply = client.post(url).bearer_auth(token).json(body).send().await.ok()?;
    if reply.status().as_u16() == 201 {
        let created = reply.json::<Value>().await.ok()?;
        let id = created["id"].as_str().expect("id of what was created").to_string();
        acknowledged.lock().expect("lock").push((id, cents));
    }
    Some(())
}

/// Sends new commitments, each for a pair not sent before, until the server stops answering
/// or the pairs run out; records each 201.
async fn commit_until_down(
    address: String,
    token: String,
    fund: String,
    pairs: Arc<Pairs>,
    acknowledged: Acknowledged,
) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    loop {
        let index = pairs.next.fetch_add(1, Ordering::Relaxed);
        let Some((tranche, source)) = pairs.pairs.get(index) else { return };
        let cents = 100_000 + index as i64;
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        let body =
            json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2025-03-01"});
        let url = format!("{address}/api/v1/funds/{fund}/commitments");
        if post_and_record(&client, url, &token, &body, cents, &acknowledged).await.is_none() {
            return;
        }
    }
}

/// Tranches and sources for the commitment writers, every pair of them.
async fn commitment_pairs(app: &common::TestApp, fund: &str) -> Arc<Pairs> {
    let mut tranches = Vec::new();
    for n in 0..CRASH_TRANCHES {
        let body = json!({"name": format!("Crash tranche {n}"), "seniority": n + 1, "target_size": "1000000000.00",
            "pref_rate": "0.08", "min_ticket": "100.00"});
        let reply = app.post(&format!("/api/v1/funds/{fund}/tranches"), &app.staff(), &body).await;
        tranches.push(reply.body["id"].as_str().expect("tranche id").to_string());
    }
    let mut pairs = Vec::new();
    for n in 0..CRASH_SOURCES {
        let body = json!({"kind": "private", "legal_name": format!("Crash investor {n}"), "country": "IT"});
        let reply = app.post("/api/v1/sources", &app.staff(), &body).await;
        let source = reply.body["id"].as_str().expect("source id").to_string();
        pairs.extend(tranches.iter().map(|tranche| (tranche.clone(), source.clone())));
    }
    Arc::new(Pairs { pairs, next: AtomicUsize::new(0) })
}

async fn acknowledged_writes_survive_sigkill(backend: Backend) {
    let app = common::spawn_app(backend).await;
    let database_url = app.database_url.clone();
    let token = app.token(Role::Staff, "crash");
    let fund = app.create_fund("Crash fund").await;
    let seed = std::env::var("INVESTAI_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("crash test seed {seed} (set INVESTAI_CRASH_SEED to repeat)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let pairs = commitment_pairs(&app, &fund).await;
    let acknowledged: Acknowledged = Arc::default();
    let committed: Acknowledged = Arc::default();
    for _ in 0..KILLS {
        let server = start_server(&database_url).await;
        let (address, fund) = (&server.address, &fund);
        let mut writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(write_until_down(address.clone(), token.clone(), fund.clone(), w, acknowledged.clone()))
            })
            .collect();
        writers.extend((0..COMMITMENT_WRITERS).map(|_| {
            tokio::spawn(commit_until_down(
                address.clone(),
                token.clone(),
                fund.clone(),
                pairs.clone(),
                committed.clone(),
            ))
        }));
        tokio::time::sleep(Duration::from_millis(rng.gen_range(50..RUN_MILLIS_MAX))).await;
        server.kill();
        for writer in writers {
            writer.await.expect("writer");
        }
    }

    let server = start_server(&database_url).await;
    let client = reqwest::Client::new();
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() > KILLS, "the writers got through: {} entries", acknowledged.len());
    for (id, cents) in &acknowledged {
        let reply = client
            .get(format!("{}/api/v1/ledger/entries/{id}", server.address))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get entry");
        assert_eq!(reply.status().as_u16(), 200, "acknowledged entry {id} is missing after the crashes");
        let entry: Value = reply.json().await.expect("entry");
        let postings = entry["postings"].as_array().expect("postings");
        assert_eq!(postings.len(), 2, "entry {id} is whole");
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        assert_eq!(postings[0]["debit"], amount.as_str(), "entry {id} as acknowledged");
    }
    let committed = committed.lock().expect("lock").clone();
    assert!(committed.len() > KILLS, "the commitment writers got through: {} commitments", committed.len());
    for (id, cents) in &committed {
        let reply = client.get(format!("{}/api/v1/commitments/{id}", server.address)).bearer_auth(&token).send().await;
        let reply = reply.expect("get commitment");
        assert_eq!(reply.status().as_u16(), 200, "acknowledged commitment {id} is missing after the crashes");
        let commitment: Value = reply.json().await.expect("commitment");
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        assert_eq!(commitment["committed"], amount.as_str(), "commitment {id} as acknowledged");
        assert_eq!(commitment["events"].as_array().map(Vec::len), Some(1), "commitment {id} is whole");
    }
    let balance = client
        .get(format!("{}/api/v1/funds/{fund}/trial-balance?as_of=2100-01-01", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("trial balance");
    let balance: Value = balance.json().await.expect("trial balance body");
    assert_eq!(balance["balanced"], true, "{balance}");
    server.kill();
    let verify = investai(&database_url).arg("verify").output().expect("investai verify");
    let said = format!("{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    assert!(verify.status.success(), "investai verify after the crashes: {said}");
    println!(
        "{backend:?}: {} acknowledged entries and {} acknowledged commitments survived {KILLS} kills",
        acknowledged.len(),
        committed.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_writes_survive_sigkill() {
    acknowledged_writes_survive_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_writes_survive_sigkill() {
    acknowledged_writes_survive_sigkill(Backend::Postgres).await;
}

/// Crashes of PostgreSQL itself right after an answer.
const DATABASE_CRASHES: usize = 5;

/// PostgreSQL stopped at once (`immediate`, losing its shared memory) right after each
/// acknowledged commitment, then started again: every acknowledged commitment is there. A
/// write is acknowledged only once its commit record is written out of the server's memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_write_survives_a_crash_of_postgresql_right_after_the_answer() {
    use diesel::{Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
    let Some(clusters) = common::standby::PrimaryAndStandby::start() else {
        eprintln!("skipped: PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup, postgres) are not installed");
        return;
    };
    clusters.create_database("investai");
    let url = clusters.primary_url("investai");
    let app = common::spawn_app_on(&url, |_| {}).await;
    let fund = app.create_fund("Crash fund").await;
    let tranche = json!({"name": "Senior", "seniority": 1, "target_size": "100000000.00", "pref_rate": "0"});
    let tranche = common::id(&common::created(&app, &format!("/api/v1/funds/{fund}/tranches"), tranche).await);
    let mut lost = Vec::new();
    for n in 0..DATABASE_CRASHES {
        let source = json!({"kind": "private", "legal_name": format!("Crash investor {n}"), "country": "DE"});
        let source = common::id(&common::created(&app, "/api/v1/sources", source).await);
        let body =
            json!({"source_id": source, "tranche_id": tranche, "amount": "100.00", "effective_date": "2026-01-05"});
        let commitment = common::id(&common::created(&app, &format!("/api/v1/funds/{fund}/commitments"), body).await);
        clusters.crash_and_restart_primary();
        let mut conn = diesel::PgConnection::establish(&url).expect("primary after restart");
        let found: i64 = investai::storage::schema::commitments::table
            .filter(investai::storage::schema::commitments::id.eq(&commitment))
            .count()
            .get_result(&mut conn)
            .expect("count");
        if found != 1 {
            lost.push(commitment);
        }
    }
    assert!(lost.is_empty(), "{} of {DATABASE_CRASHES} acknowledged commitments lost: {lost:?}", lost.len());
}
