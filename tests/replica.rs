//! A node with a read replica: a PostgreSQL streaming hot standby made by `pg_basebackup`.
//! Overviews, dashboards, statements and exports are read from the standby while it is within
//! the lag setting of the primary; a write reaches it within that bound; while its replay is
//! held back past the bound, or while it is stopped, the same reads come from the primary, and
//! nothing answers 500. A client that has just written reads from the primary (the cookie of
//! its write), so it sees its write. Writes and the reads that decide money never go to it.

use std::time::{Duration, Instant};

use crate::common;

use common::standby::PrimaryAndStandby;
use common::{created, id, TestApp};
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};

/// The node's lag setting in this test.
const LAG_MAX_MS: u64 = 4_000;
/// The node checks the standby this often.
const CHECK_INTERVAL_MS: u64 = 50;
/// Polls of a condition, `POLL_MS` apart, before the test gives up on it.
const POLLS_MAX: u32 = 600;
const POLL_MS: u64 = 50;

struct Fund {
    id: String,
    tranche: String,
    /// The investor of the first commitment.
    source: String,
    facility: String,
}

async fn fund_with_tranche(app: &TestApp) -> Fund {
    let id = app.create_fund("Replicated fund").await;
    let tranche = json!({"name": "Senior", "seniority": 1, "target_size": "100000000.00", "pref_rate": "0"});
    let tranche = common::id(&created(app, &format!("/api/v1/funds/{id}/tranches"), tranche).await);
    let source = new_source(app).await;
    let facility = json!({"name": "GF", "kind": "gigafactory", "member_state": "DE", "chip_count": 1000,
        "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000});
    let facility = common::id(&created(app, "/api/v1/facilities", facility).await);
    Fund { id, tranche, source, facility }
}

async fn new_source(app: &TestApp) -> String {
    let name = format!("Replica Investor {}", uuid::Uuid::new_v4().simple());
    let source = json!({"kind": "private", "legal_name": name, "country": "DE"});
    common::id(&created(app, "/api/v1/sources", source).await)
}

/// Commits `amount` to the fund (the first from the fund's investor, each other from a new
/// one); answers the commitment's id.
async fn commit(app: &TestApp, fund: &Fund, amount: &str, first: bool) -> String {
    let source = if first { fund.source.clone() } else { new_source(app).await };
    let body = json!({"source_id": source, "tranche_id": fund.tranche, "amount": amount,
        "effective_date": "2026-01-05"});
    id(&created(app, &format!("/api/v1/funds/{}/commitments", fund.id), body).await)
}

/// The fund overview's committed total, as the node answers a client that wrote nothing lately
/// (no cookie).
async fn committed(app: &TestApp, fund: &Fund) -> String {
    committed_for(app, &reqwest::Client::new(), fund).await
}

/// The fund overview's committed total, as the node answers `client`.
async fn committed_for(app: &TestApp, client: &reqwest::Client, fund: &Fund) -> String {
    let path = format!("{}/api/v1/funds/{}/overview", app.address, fund.id);
    let reply = app.send(client.get(path).bearer_auth(app.staff())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["committed"].as_str().expect("committed").to_string()
}

/// A GET as a client that wrote nothing lately (no cookie).
async fn get_without_cookies(app: &TestApp, path: &str, token: &str) -> common::Reply {
    app.send(reqwest::Client::new().get(format!("{}{path}", app.address)).bearer_auth(token)).await
}

async fn replica_status(app: &TestApp) -> Value {
    let reply = app.get_public("/readyz").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["replica"].clone()
}

async fn wait_until_serving(app: &TestApp, serving: bool) -> Value {
    for _ in 0..POLLS_MAX {
        let status = replica_status(app).await;
        if status["serving"] == serving {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
    panic!("the replica's serving never became {serving}: {}", replica_status(app).await);
}

fn count(status: &Value, field: &str) -> u64 {
    status[field].as_u64().unwrap_or_else(|| panic!("{field} in {status}"))
}

/// Whether the commitment is on the standby, read there directly.
fn on_standby(standby_url: &str, commitment: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let Ok(mut standby) = PgConnection::establish(standby_url) else { return false };
    diesel::sql_query(format!("SELECT count(*) AS n FROM commitments WHERE id = '{commitment}'"))
        .get_result::<Found>(&mut standby)
        .is_ok_and(|found| found.n == 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_that_may_lag_come_from_a_streaming_standby_within_the_bound_and_from_the_primary_otherwise() {
    let Some(clusters) = PrimaryAndStandby::start() else {
        eprintln!("skipped: PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup, postgres) are not installed");
        return;
    };
    clusters.create_database("investai");
    let standby_url = clusters.standby_url("investai");
    let app = common::spawn_app_on(&clusters.primary_url("investai"), |settings| {
        settings.read_replica_url = Some(standby_url.clone());
        settings.replica_lag_max_millis = LAG_MAX_MS;
        settings.replica_check_interval_millis = CHECK_INTERVAL_MS;
    })
    .await;
    let fund = fund_with_tranche(&app).await;
    let start = wait_until_serving(&app, true).await;
    assert_eq!(start["lag_max_ms"], LAG_MAX_MS);

    // A write reaches the standby within the bound, and the overview read there shows it.
    let written_at = Instant::now();
    let first = commit(&app, &fund, "1000.00", true).await;
    let mut polls = 0;
    while !on_standby(&standby_url, &first) {
        polls += 1;
        assert!(written_at.elapsed() < Duration::from_millis(LAG_MAX_MS), "not on the standby within the bound");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let reached_ms = written_at.elapsed().as_millis();
    wait_until_serving(&app, true).await;
    assert_eq!(committed(&app, &fund).await, "1000.00");
    let served = count(&replica_status(&app).await, "reads_served");
    assert!(served > count(&start, "reads_served"), "the overview was read on the standby");
    eprintln!("a commitment was on the standby {reached_ms} ms after its write was acknowledged ({polls} polls)");

    // Replay held back: the standby still answers within the bound, so the overview is the
    // standby's (the primary already holds the second commitment)...
    let statement_path = format!("/api/v1/facilities/{}/statements/2026-Q1", fund.facility);
    clusters.pause_replay(true);
    let paused_at = Instant::now();
    commit(&app, &fund, "500.00", false).await;
    let behind = committed(&app, &fund).await;
    let statement = get_without_cookies(&app, &statement_path, &app.staff()).await;
    // The client that wrote carries the cookie of its write: its reads go to the primary.
    let own = committed_for(&app, &app.client, &fund).await;
    assert!(paused_at.elapsed() < Duration::from_millis(LAG_MAX_MS), "the reads took longer than the bound");
    assert_eq!(behind, "1000.00", "read on the standby, which has not replayed the second commitment");
    assert_eq!(statement.status, 200, "{}", statement.body);
    assert_eq!(own, "1500.00", "the writer reads its own write, from the primary");
    // ...and once it may be further behind than the bound, the same reads go to the primary.
    let lagging = wait_until_serving(&app, false).await;
    assert_eq!(committed(&app, &fund).await, "1500.00", "read on the primary");
    let statement = get_without_cookies(&app, &statement_path, &app.staff()).await;
    assert_eq!(statement.status, 200, "{}", statement.body);
    let after_lag = replica_status(&app).await;
    assert!(count(&after_lag, "reads_sent_to_primary") > count(&lagging, "reads_sent_to_primary"));
    assert!(count(&after_lag, "behind_ms") > LAG_MAX_MS);

    // Replay resumed: the standby catches up and serves again.
    clusters.pause_replay(false);
    wait_until_serving(&app, true).await;
    assert_eq!(committed(&app, &fund).await, "1500.00");
    let before = count(&replica_status(&app).await, "reads_served");
    let export =
        get_without_cookies(&app, &format!("/api/v1/funds/{}/exports/journal.csv", fund.id), &app.auditor()).await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(count(&replica_status(&app).await, "reads_served") > before, "the export read on the standby");

    // The standby stops: reads go to the primary at once, without an error.
    clusters.stop_standby();
    let third = commit(&app, &fund, "250.00", false).await;
    assert_eq!(committed(&app, &fund).await, "1750.00");
    let export = app.get(&format!("/api/v1/funds/{}/exports/journal.csv", fund.id), &app.auditor()).await;
    assert_eq!(export.status, 200, "{}", export.body);
    let down = wait_until_serving(&app, false).await;
    assert!(down["behind_ms"].is_null(), "an unreachable standby is vouched for by nothing: {down}");

    // Started again, it catches up from the primary's log and serves again.
    clusters.start_standby();
    wait_until_serving(&app, true).await;
    assert!(on_standby(&standby_url, &third), "the standby caught up");
    assert_eq!(committed(&app, &fund).await, "1750.00");
}
