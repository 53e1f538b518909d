//! Lookups by a list of keys in tables that grow with the books are planned for their values at
//! each execution (docs/scaling.md, "Commitments"). PostgreSQL plans a prepared statement for its
//! values five times, then may keep one generic plan for the life of the connection; made while
//! a table was small, that plan reads the whole table, and its cost then grows with the books on
//! every write that runs it. Such lookups must not be statements the connection keeps prepared,
//! and no generic plan the connection kept may read a growing table whole (PostgreSQL only:
//! SQLite plans by its rules, not by a table's size).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use investai::domain::roles::Role;
use serde_json::{json, Value};

use crate::common::{self, created, id, Backend, TestApp};
use crate::grants;

/// Tables whose rows grow with the books: investors, their commitments and notices, the
/// journal and its tree, keys, and compute grants with their usage.
const GROWING_TABLES: [&str; 16] = [
    "sources",
    "commitments",
    "commitment_events",
    "notices",
    "journal_entries",
    "postings",
    "account_days",
    "merkle_hashes",
    "idempotency_keys",
    "grant_applications",
    "grant_awards",
    "award_undertakings",
    "usage_records",
    "entry_usage",
    "award_day_usage",
    "users",
];

/// Each write below runs more often than PostgreSQL's custom plans before it may keep a
/// generic one (five).
const WRITES_EACH: usize = 8;

#[derive(QueryableByName, Debug)]
struct PreparedStatement {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    statement: String,
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    parameters: i64,
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_by_keys_in_growing_tables_are_planned_for_their_values() {
    // One connection: the statements the test reads are the ones the server prepared.
    let app = common::spawn_app_with(Backend::Postgres, |settings| settings.pool_size = 1).await;
    commit_from_new_investors(&app).await;
    report_usage(&app).await;
    post_manual_entries(&app).await;
    let mut conn = app.conn();
    let conn: &mut investai::storage::DbConnection = &mut conn;
    let investai::storage::DbConnection::Postgresql(pg) = conn else { panic!("a PostgreSQL connection") };
    let prepared: Vec<PreparedStatement> = diesel::sql_query(
        "SELECT name, statement, generic_plans, cardinality(parameter_types)::bigint AS parameters \
             FROM pg_prepared_statements ORDER BY statement",
    )
    .load(pg)
    .expect("the connection's prepared statements");
    let ran_here = prepared.iter().any(|s| s.statement.contains("FROM \"tranches\"") && s.generic_plans > 0);
    assert!(ran_here, "the workload ran on this connection, often enough for generic plans: {prepared:#?}");
    let kept: Vec<&str> = prepared
        .iter()
        .map(|s| s.statement.as_str())
        .filter(|sql| sql.contains("= ANY(") && GROWING_TABLES.iter().any(|t| sql.contains(&format!("FROM \"{t}\""))))
        .collect();
    assert!(kept.is_empty(), "lookups by keys in growing tables kept prepared, to be planned once: {kept:#?}");
    let scans: Vec<String> = prepared
        .iter()
        .filter(|s| s.generic_plans > 0)
        .filter_map(|s| {
            let plan = generic_plan(pg, s);
            let scanned = GROWING_TABLES.iter().find(|t| plan.contains(&format!("Seq Scan on {t} ")))?;
            Some(format!("{scanned}: {}\n{plan}", s.statement))
        })
        .collect();
    assert!(scans.is_empty(), "a kept plan reads a growing table whole: {scans:#?}");
}

/// The plan a statement runs with now that it has a generic one (its parameters do not change
/// a generic plan, so they are all NULL here).
fn generic_plan(pg: &mut diesel::PgConnection, statement: &PreparedStatement) -> String {
    assert!(statement.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{}", statement.name);
    let arguments = vec!["NULL"; usize::try_from(statement.parameters).expect("a count")].join(", ");
    let explain = match arguments.as_str() {
        "" => format!("EXPLAIN EXECUTE {}", statement.name),
        _ => format!("EXPLAIN EXECUTE {}({arguments})", statement.name),
    };
    let lines: Vec<PlanLine> = diesel::sql_query(explain).load(pg).expect("the kept plan");
    lines.into_iter().map(|l| l.line + " ").collect::<Vec<_>>().join("\n")
}

/// New investors commit to one tranche, one request at a time, are called, and pay part of a notice.
async fn commit_from_new_investors(app: &TestApp) {
    let fund = app.create_fund("Plans fund").await;
    let tranche = json!({"name": "Senior", "seniority": 1, "target_size": "100000000.00", "pref_rate": "0"});
    let tranche = id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), tranche).await);
    for n in 0..WRITES_EACH {
        let source = json!({"kind": "private", "legal_name": format!("Plans investor {n}"), "country": "DE"});
        let source = id(&created(app, "/api/v1/sources", source).await);
        let commitment =
            json!({"source_id": source, "tranche_id": tranche, "amount": "1000.00", "effective_date": "2024-12-01"});
        created(app, &format!("/api/v1/funds/{fund}/commitments"), commitment).await;
    }
    for n in 0..WRITES_EACH {
        let call = json!({"call_date": "2025-01-01", "due_date": "2025-01-01", "description": format!("Call {n}"),
            "lines": [{"tranche_id": tranche, "purpose": "expenses", "amount": "80.00"}]});
        let call = id(&created(app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await);
        let notices = app.get(&format!("/api/v1/notices?call_id={call}"), &app.staff()).await;
        let notice = notices.body["items"][0]["id"].as_str().expect("a notice").to_string();
        let payment = json!({"amount": "10.00", "value_date": "2025-01-01"});
        created(app, &format!("/api/v1/notices/{notice}/contributions"), payment).await;
    }
}

/// A facility reports usage against an award in small batches.
async fn report_usage(app: &TestApp) {
    let g = grants::setup(app, "1000000.00", 1_000_000).await;
    let call = grants::open_call(app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let application = grants::reviewed(app, &call, "sme-plans", &grants::application(&g, "RCS-PL", "10000"), 1).await;
    let award = grants::award(app, &application, json!({})).await;
    assert_eq!(award.status, 201, "{}", award.text);
    let award = award.body["id"].as_str().expect("award id").to_string();
    let operator = app.token(Role::Facility, &g.facility);
    for n in 0..WRITES_EACH {
        let records: Vec<Value> = (0..2)
            .map(|r| {
                json!({"record_id": format!("plan-{n}-{r}"), "award_id": award, "gpu_hours": "1",
                    "period_start": "2026-02-02T08:00:00Z", "period_end": "2026-02-02T20:00:00Z"})
            })
            .collect();
        let reply = app.post("/api/v1/usage", &operator, &json!({ "records": records })).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["new"], 2, "{}", reply.text);
    }
}

/// Staff post journal entries by hand, each checked against the floors.
async fn post_manual_entries(app: &TestApp) {
    let fund = app.create_fund("Plans entries fund").await;
    for n in 0..WRITES_EACH {
        let body = json!({"effective_date": "2025-01-01", "description": format!("Reserve {n}"), "postings": [
            {"account": "1010", "debit": "100.00"}, {"account": "3900", "credit": "100.00"}]});
        created(app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    }
}
