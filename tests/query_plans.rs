//! Reads of tables that grow with the books go by an index, and lookups by a list of keys in them
//! are planned for their values at each execution (docs/scaling.md, "Commitments"). PostgreSQL
//! plans a prepared statement for its values five times, then may keep one generic plan for the
//! life of the connection; made while a table was small, that plan reads the whole table, and its
//! cost then grows with the books on every write that runs it. Such lookups must not be
//! statements the connection keeps prepared; no statement may scan a growing table where
//! sequential scans are priced out (so no index served it); and no statement the connection kept
//! may need to read a growing table whole (PostgreSQL only: SQLite plans by its rules, not by a
//! table's size, and `schema::` holds it to the same indexes).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use investai::domain::roles::Role;
use serde_json::{json, Value};

use crate::common::{self, created, id, Backend, TestApp};
use crate::grants;

/// Tables whose rows grow with the books: investors, their commitments, calls and payments,
/// investments, what came back of them and their valuations, distributions, the journal and its tree, keys,
/// proposals, compute grants with their reviews, usage and imports, SMEs' profiles, facilities'
/// prices, and users with their events and signed-out tokens.
const GROWING_TABLES: [&str; 38] = [
    "sources",
    "commitments",
    "commitment_events",
    "capital_calls",
    "capital_call_lines",
    "notices",
    "contributions",
    "deployments",
    "proceeds",
    "write_downs",
    "loss_allocations",
    "valuations",
    "distributions",
    "distribution_lines",
    "proposals",
    "checkpoints",
    "journal_entries",
    "postings",
    "account_days",
    "merkle_hashes",
    "idempotency_keys",
    "grant_applications",
    "grant_reviews",
    "grant_awards",
    "award_capacity",
    "award_undertakings",
    "usage_records",
    "entry_usage",
    "award_day_usage",
    "award_quarter_usage",
    "facility_quarter_usage",
    "usage_imports",
    "slurm_accounts",
    "sme_profiles",
    "users",
    "user_events",
    "revoked_tokens",
    "facility_prices",
];

/// Each write below runs more often than PostgreSQL's custom plans before it may keep a
/// generic one (five).
const WRITES_EACH: usize = 8;

#[derive(QueryableByName, Debug)]
struct PreparedStatement {
    #[diesel(sql_type = Text)]
    statement: String,
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    parameters: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    parameter_types: Option<String>,
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_by_keys_in_growing_tables_are_planned_for_their_values() {
    let (app, before) = server_on_one_connection(false).await;
    commit_from_new_investors(&app).await;
    report_usage_and_lapse(&app).await;
    let entries = post_manual_entries(&app).await;
    reverse_entries(&app, &entries).await;
    invest_and_distribute(&app).await;
    administer_users_and_bank_accounts(&app).await;
    state_sme_profiles(&app).await;
    page_through_lists(&app).await;
    open_pages_of_lists(&app).await;
    assert_read_by_index(&app, &before);
}

/// The same with four eyes on: operations proposed by one user and approved, rejected or
/// withdrawn, each deciding under the writer lock as the operation alone would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_on_proposals_are_planned_for_their_values() {
    let (app, before) = server_on_one_connection(true).await;
    decide_proposals(&app).await;
    assert_read_by_index(&app, &before);
}

/// A server on PostgreSQL with one pooled connection, so that the statements the test reads
/// are the ones the server prepared, and that connection's sequential scans priced out, as on
/// large tables; with the tables' scan counts so far.
async fn server_on_one_connection(four_eyes: bool) -> (TestApp, std::collections::BTreeMap<String, i64>) {
    let app = common::spawn_app_with(Backend::Postgres, |settings| {
        settings.pool_size = 1;
        settings.four_eyes = four_eyes;
    })
    .await;
    let before = {
        let mut conn = app.conn();
        let pg = postgres(&mut conn);
        // As on large tables: a statement reads a table whole only where no index serves it.
        pg.batch_execute("SET enable_seqscan = off").expect("sequential scans priced out");
        sequential_scans(pg)
    };
    (app, before)
}

/// No growing table was read whole by the workload since `before`, and none of the statements
/// the server's connection kept would read one whole or is a lookup by a list of keys.
fn assert_read_by_index(app: &TestApp, before: &std::collections::BTreeMap<String, i64>) {
    let mut conn = app.conn();
    let pg = postgres(&mut conn);
    let after = sequential_scans(pg);
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        value: String,
    }
    let setting: Setting =
        diesel::sql_query("SELECT current_setting('enable_seqscan') AS value").get_result(pg).expect("the setting");
    assert_eq!(setting.value, "off", "the workload ran on the connection whose sequential scans were priced out");
    let scanned: Vec<(&str, i64)> = GROWING_TABLES
        .iter()
        .map(|t| (*t, after.get(*t).copied().unwrap_or(0) - before.get(*t).copied().unwrap_or(0)))
        .filter(|(_, scans)| *scans > 0)
        .collect();
    assert!(scanned.is_empty(), "growing tables read whole where no index served a statement: {scanned:?}");
    let prepared: Vec<PreparedStatement> = diesel::sql_query(
        "SELECT statement, generic_plans, cardinality(parameter_types)::bigint AS parameters, \
             NULLIF(array_to_string(parameter_types, ', '), '') AS parameter_types FROM pg_prepared_statements ORDER BY statement",
    )
    .load(pg)
    .expect("the connection's prepared statements");
    let ran_here = prepared.iter().any(|s| s.generic_plans > 0);
    assert!(ran_here, "the workload ran on this connection, often enough for generic plans: {prepared:#?}");
    let kept: Vec<&str> = prepared
        .iter()
        .map(|s| s.statement.as_str())
        .filter(|sql| GROWING_TABLES.iter().any(|t| looks_up_by_list(sql, t)))
        .collect();
    assert!(kept.is_empty(), "lookups by keys in growing tables kept prepared, to be planned once: {kept:#?}");
    let first_columns = first_columns(pg);
    let scans: Vec<String> = prepared
        .iter()
        .filter_map(|s| {
            let plan = generic_plan_by_index(pg, s);
            let scanned = GROWING_TABLES.iter().find(|t| reads_whole(&plan, t, &first_columns))?;
            Some(format!("{scanned}: {}\n{plan}", s.statement))
        })
        .collect();
    assert!(scans.is_empty(), "a kept statement no index serves reads a growing table whole: {scans:#?}");
}

fn postgres(conn: &mut investai::storage::DbConnection) -> &mut diesel::PgConnection {
    let investai::storage::DbConnection::Postgresql(pg) = conn else { panic!("a PostgreSQL connection") };
    pg
}

#[derive(QueryableByName)]
struct TableScans {
    #[diesel(sql_type = Text)]
    relname: String,
    #[diesel(sql_type = BigInt)]
    seq_scan: i64,
}

/// Sequential scans of each table so far, the connection's own included: every statement, kept
/// prepared or planned each time, and the database's own (triggers, foreign key checks).
fn sequential_scans(pg: &mut diesel::PgConnection) -> std::collections::BTreeMap<String, i64> {
    // The connection's counts reach the shared statistics when its transaction ends.
    pg.batch_execute("SELECT pg_stat_force_next_flush()").expect("the connection's counts flushed");
    pg.batch_execute("SELECT pg_stat_clear_snapshot()").expect("a fresh view of the statistics");
    let rows: Vec<TableScans> = diesel::sql_query("SELECT relname::text AS relname, seq_scan FROM pg_stat_user_tables")
        .load(pg)
        .expect("the tables' scan counts");
    rows.into_iter().map(|r| (r.relname, r.seq_scan)).collect()
}

/// The generic plan of a kept statement (the plan for any parameters) made with sequential scans
/// priced out, as they are on a large table: a growing table it still reads whole has no index
/// for the statement. The kept plan itself is no guide on the test's small tables, where reading
/// a few rows whole is rightly cheapest, and PostgreSQL plans again once `ANALYZE` finds them grown.
fn generic_plan_by_index(pg: &mut diesel::PgConnection, statement: &PreparedStatement) -> String {
    let types = statement.parameter_types.as_deref().map(|t| format!("({t})")).unwrap_or_default();
    let arguments = vec!["NULL"; usize::try_from(statement.parameters).expect("a count")].join(", ");
    let arguments = if arguments.is_empty() { arguments } else { format!("({arguments})") };
    pg.batch_execute(&format!(
        "BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_generic_plan; \
         PREPARE plan_by_index{types} AS {}",
        statement.statement
    ))
    .expect("the statement prepared again");
    let lines: Vec<PlanLine> =
        diesel::sql_query(format!("EXPLAIN EXECUTE plan_by_index{arguments}")).load(pg).expect("its generic plan");
    pg.batch_execute("DEALLOCATE plan_by_index; ROLLBACK").expect("the statement dropped");
    lines.into_iter().map(|l| l.line + " ").collect::<Vec<_>>().join("\n")
}

/// Whether a statement looks up rows of `table` by a list of keys (`"table"."key" = ANY($n)`,
/// the key an id or a sequence number), in its own FROM or in a join. A list of a few constant
/// kinds (`step_kind = ANY(...)`) is no lookup by keys.
fn looks_up_by_list(sql: &str, table: &str) -> bool {
    let qualifier = format!("\"{table}\".\"");
    sql.match_indices(&qualifier).any(|(at, _)| {
        let rest = &sql[at + qualifier.len()..];
        rest.split_once('"').is_some_and(|(column, after)| {
            let key = column == "id" || column.ends_with("_id") || column == "sequence" || column == "stored_index";
            key && after.starts_with(" = ANY(")
        })
    })
}

/// The plan nodes that read an index, forward or backward.
const INDEX_SCANS: [&str; 4] =
    ["Index Scan using ", "Index Scan Backward using ", "Index Only Scan using ", "Index Only Scan Backward using "];

#[derive(QueryableByName)]
struct FirstColumn {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    first_column: String,
}

/// The leading column of each index, by index name; none for a partial index, which holds only
/// the rows its predicate names (the unpaid notices, the published awards): walking it reads
/// those, not the table whole.
fn first_columns(pg: &mut diesel::PgConnection) -> std::collections::HashMap<String, String> {
    let rows: Vec<FirstColumn> = diesel::sql_query(
        "SELECT i.relname::text AS index_name, \
         CASE WHEN x.indpred IS NULL THEN a.attname::text ELSE '' END AS first_column FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace \
         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] WHERE n.nspname = 'public'",
    )
    .load(pg)
    .expect("the indexes' leading columns");
    rows.into_iter().map(|r| (r.index_name, r.first_column)).collect()
}

/// Whether a plan reads `table` whole: a sequential scan of it, or an index scan whose index
/// condition does not name the index's leading column (a walk of the whole index, as for
/// `ORDER BY id LIMIT n` filtered on another column, or a condition on a later column only).
fn reads_whole(plan: &str, table: &str, first_columns: &std::collections::HashMap<String, String>) -> bool {
    let lines: Vec<&str> = plan.lines().collect();
    lines.iter().enumerate().any(|(n, line)| {
        if line.contains(&format!("Seq Scan on {table} ")) {
            return true;
        }
        let index_scan = INDEX_SCANS.iter().any(|node| line.contains(node));
        if !index_scan || !line.contains(&format!(" on {table} ")) {
            return false;
        }
        let index = line.split(" using ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or_default();
        let Some(first) = first_columns.get(index) else { return true };
        if first.is_empty() {
            return false;
        }
        // The node's own details are the lines after it, up to the next node.
        let details: Vec<&str> = lines[n + 1..].iter().take_while(|l| !l.contains("->")).copied().collect();
        let probes = details.iter().any(|l| l.contains("Index Cond:") && l.contains(&format!("({first} ")));
        // The first rows of an index, in its order, as many as a limit asks: a page, not a walk.
        let first_rows = n > 0 && lines[n - 1].trim_start().trim_start_matches("->").trim_start().starts_with("Limit ");
        let bounded = first_rows && !details.iter().any(|l| l.contains("Filter:") || l.contains("Index Cond:"));
        !probes && !bounded
    })
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

/// SMEs are awarded compute grants for a period now past; a facility reports usage against
/// one in small batches; then the awards lapse.
async fn report_usage_and_lapse(app: &TestApp) {
    let g = grants::setup(app, "1000000.00", 1_000_000).await;
    // De minimis: each award is published in the state-aid register, which the lists page through.
    let call = grants::open_call(app, &g, "100000.00", "de_minimis", "50000", 1).await;
    let mut awards = Vec::new();
    for n in 0..WRITES_EACH {
        let body = grants::application(&g, &format!("RCS-PL{n}"), "1000");
        let application = grants::reviewed(app, &call, &format!("sme-plans-{n}"), &body, 1).await;
        let award = grants::award(app, &application, json!({})).await;
        assert_eq!(award.status, 201, "{}", award.text);
        awards.push(award.body["id"].as_str().expect("award id").to_string());
    }
    let operator = app.token(Role::Facility, &g.facility);
    for n in 0..WRITES_EACH {
        let records: Vec<Value> = (0..2)
            .map(|r| {
                json!({"record_id": format!("plan-{n}-{r}"), "award_id": awards[0], "gpu_hours": "1",
                    "period_start": "2026-02-02T08:00:00Z", "period_end": "2026-02-02T20:00:00Z"})
            })
            .collect();
        let reply = app.post("/api/v1/usage", &operator, &json!({ "records": records })).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["new"], 2, "{}", reply.text);
    }
    import_slurm_usage(app, &operator, &awards).await;
    let lapsed = app.post("/api/v1/grants/lapse", &app.staff(), &json!({})).await;
    assert_eq!(lapsed.status, 200, "{}", lapsed.text);
    assert_eq!(lapsed.body.as_array().map(Vec::len), Some(WRITES_EACH), "every award lapsed: {}", lapsed.text);
    let sme = common::party_id("sme-plans-0");
    read_each(
        app,
        &[
            &format!("/api/v1/applications?call_id={call}&limit=500"),
            &format!("/api/v1/smes/{sme}/grants"),
            &format!("/api/v1/funds/{}/grant-attribution", g.fund),
        ],
    )
    .await;
}

/// The facility maps a Slurm account to each award and imports `sacct` output charging them.
async fn import_slurm_usage(app: &TestApp, operator: &str, awards: &[String]) {
    for (n, award) in awards.iter().enumerate() {
        let path = format!("{}/api/v1/usage/slurm-accounts/plans-{n}", app.address);
        let reply = app.send(app.client.put(&path).bearer_auth(operator).json(&json!({"award_id": award}))).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    for n in 0..WRITES_EACH {
        let jobs: String = (0..awards.len())
            .map(|a| format!("9{n}{a}|train|plans-{a}|billing=8,cpu=8,gres/gpu=1,mem=64G,node=1|2026-02-03T08:00:00|2026-02-03T09:00:00|COMPLETED\n"))
            .collect();
        let file = format!("JobID|JobName|Account|AllocTRES|Start|End|State\n{jobs}");
        let request = app
            .client
            .post(format!("{}/api/v1/usage/imports?file_name=sacct-{n}.txt", app.address))
            .bearer_auth(operator)
            .header("Content-Type", "text/plain")
            .body(file);
        let reply = app.send(request).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["counted"].as_u64(), Some(awards.len() as u64), "{}", reply.text);
    }
    for path in ["/api/v1/usage/imports", "/api/v1/usage/slurm-accounts"] {
        let reply = app.get(path, operator).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

/// The lists that grow with the books, a page and the next, each more often than the custom
/// plans before a generic one.
async fn page_through_lists(app: &TestApp) {
    let admin = app.token(Role::Admin, "plans-admin");
    for path in ["/api/v1/sources", "/api/v1/awards", "/api/v1/grants/register", "/api/v1/users"] {
        for _ in 0..WRITES_EACH {
            let first = app.get(&format!("{path}?limit=2"), &admin).await;
            assert_eq!(first.status, 200, "{path}: {}", first.text);
            let after =
                first.body["next_after"].as_str().unwrap_or_else(|| panic!("{path}: a next page: {}", first.text));
            let next = app.get(&format!("{path}?limit=2&after={after}"), &admin).await;
            assert_eq!(next.status, 200, "{path}: {}", next.text);
            assert_eq!(next.body["items"].as_array().map(Vec::len), Some(2), "{path}: {}", next.text);
        }
    }
}

/// The pages that show lists growing with the books, each a page and the next, by the roles
/// that read them: sources and users, a fund's commitments and its commitment form, the inbox,
/// and a facility's home page with its awards.
async fn open_pages_of_lists(app: &TestApp) {
    let funds = app.get("/api/v1/funds?limit=1", &app.staff()).await;
    let fund = funds.body["items"][0]["id"].as_str().expect("a fund").to_string();
    let facilities = app.get("/api/v1/facilities", &app.staff()).await;
    let facility =
        facilities.body[0]["id"].as_str().or(facilities.body["items"][0]["id"].as_str()).expect("a facility");
    let staff = app.browser_as("plans-staff", Role::Staff, None).await;
    let admin = app.browser_as("plans-admin-pages", Role::Admin, None).await;
    let operator = app.browser_as("plans-operator", Role::Facility, Some(facility)).await;
    let pages = [
        (&staff, "/sources?limit=2".to_string()),
        (&staff, format!("/funds/{fund}")),
        (&staff, format!("/funds/{fund}/commitments/new?sources_from=Plans")),
        (&staff, "/inbox".to_string()),
        (&staff, "/proposals".to_string()),
        (&admin, "/admin/users?limit=2".to_string()),
        (&operator, "/?limit=2".to_string()),
    ];
    for _ in 0..WRITES_EACH {
        for (browser, path) in &pages {
            let page = common::pages::get(browser, app, path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.text);
            if let Some(next) = common::pages::links(&page.text).into_iter().find(|l| l.contains("after=")) {
                let page = common::pages::get(browser, app, &next).await;
                assert_eq!(page.status, 200, "{next}: {}", page.text);
            }
        }
    }
}

/// Reads that look up lists of keys, each more often than the custom plans before a generic one.
async fn read_each(app: &TestApp, paths: &[&str]) {
    for _ in 0..WRITES_EACH {
        for path in paths {
            let reply = app.get(path, &app.staff()).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        }
    }
}

/// Staff post journal entries by hand, each checked against the floors; their ids.
async fn post_manual_entries(app: &TestApp) -> Vec<String> {
    let fund = app.create_fund("Plans entries fund").await;
    let mut entries = Vec::new();
    for n in 0..WRITES_EACH {
        let body = json!({"effective_date": "2025-01-01", "description": format!("Reserve {n}"), "postings": [
            {"account": "1010", "debit": "100.00"}, {"account": "3900", "credit": "100.00"}]});
        entries.push(id(&created(app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await));
    }
    entries
}

/// Each entry is reversed, then read with its reversal; an auditor pages through the journal.
async fn reverse_entries(app: &TestApp, entries: &[String]) {
    for entry in entries {
        let reversal = json!({"effective_date": "2025-01-02", "reason": "Posted in error"});
        created(app, &format!("/api/v1/ledger/entries/{entry}/reversal"), reversal).await;
    }
    let paths: Vec<String> = entries.iter().map(|e| format!("/api/v1/ledger/entries/{e}")).collect();
    for path in &paths {
        let reply = app.get(path, &app.staff()).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    let browser = app.browser_as("plans-auditor", Role::Auditor, None).await;
    for _ in 0..WRITES_EACH {
        for path in ["/audit/journal", "/audit/chain"] {
            let page = common::pages::get(&browser, app, path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.text);
        }
    }
}

/// An admin opens users, sets their passwords, disables and enables them and changes their
/// roles, and registers a fund's bank account again and again.
async fn administer_users_and_bank_accounts(app: &TestApp) {
    let admin = app.token(Role::Admin, "plans-admin");
    for n in 0..WRITES_EACH {
        let body =
            json!({"username": format!("plans-user-{n}"), "role": "auditor", "password": "a long enough password"});
        let user = app.post("/api/v1/users", &admin, &body).await;
        assert_eq!(user.status, 201, "{}", user.text);
        let user = user.body["id"].as_str().expect("user id").to_string();
        let writes = [
            ("password", json!({"password": "another long password"})),
            ("disable", Value::Null),
            ("enable", Value::Null),
            ("role", json!({"role": "staff"})),
        ];
        for (action, body) in writes {
            let reply = app.post(&format!("/api/v1/users/{user}/{action}"), &admin, &body).await;
            assert_eq!(reply.status, 200, "{action}: {}", reply.text);
        }
        let events = app.get(&format!("/api/v1/users/{user}/events"), &admin).await;
        assert_eq!(events.status, 200, "{}", events.text);
    }
    let users = app.get("/api/v1/users", &admin).await;
    assert_eq!(users.status, 200, "{}", users.text);
    let fund = app.create_fund("Plans bank fund").await;
    let path = format!("{}/api/v1/funds/{fund}/bank-account", app.address);
    for n in 0..WRITES_EACH {
        let body = json!({"account_holder": format!("Plans fund SICAV {n}"), "iban": "DE89 3704 0044 0532 0130 00"});
        let reply = app.send(app.client.put(&path).bearer_auth(&admin).json(&body)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

/// SMEs state their profiles, each twice (a new version).
async fn state_sme_profiles(app: &TestApp) {
    for n in 0..WRITES_EACH {
        let who = format!("plans-profile-{n}");
        let party = common::party_id(&who);
        let url = format!("{}/api/v1/smes/{party}/profile", app.address);
        for turnover in ["1500000.00", "1600000.00"] {
            let profile = json!({"company": {"legal_name": format!("Plans SME {n}"), "registration_number": format!("RCS-PP{n}"),
                "country": "FR", "nace_code": "62.01", "nuts2_region": "FR10"},
                "figures": {"staff_awu": "8", "turnover": turnover, "balance_sheet": "1200000.00"}});
            let reply = app.send(app.client.put(&url).bearer_auth(grants::sme(app, &who)).json(&profile)).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            let read = app.get(&format!("/api/v1/smes/{party}/profile"), &app.staff()).await;
            assert_eq!(read.status, 200, "{}", read.text);
        }
    }
}

/// Four eyes: staff propose manual entries another approves, reversals of them, entries
/// rejected and withdrawn, and price changes; admins propose bank accounts and roles.
async fn decide_proposals(app: &TestApp) {
    let fund = app.create_fund("Plans proposals fund").await;
    let (ann, bob) = (app.token(Role::Staff, "plans-ann"), app.token(Role::Staff, "plans-bob"));
    let (alice, bruno) = (app.token(Role::Admin, "plans-alice"), app.token(Role::Admin, "plans-bruno"));
    let facility = json!({"name": "Plans priced GF", "kind": "gigafactory", "member_state": "DE", "chip_count": 1000,
        "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000});
    let facility = id(&created(app, "/api/v1/facilities", facility).await);
    let mut decided = Vec::new();
    for n in 0..WRITES_EACH {
        let entry = json!({"kind": "manual_entry", "fund_id": fund, "effective_date": "2025-01-01",
            "description": format!("Reserve {n}"), "postings": [
            {"account": "1010", "debit": "100.00"}, {"account": "3900", "credit": "100.00"}]});
        let posted = decide(app, &ann, &bob, &entry, "approval").await;
        let entry_id = posted["result"]["id"].as_str().expect("the approved entry's id");
        let reversal = json!({"kind": "reversal", "entry_id": entry_id, "effective_date": "2025-01-02", "reason": "Posted in error"});
        decided.push(decide(app, &ann, &bob, &reversal, "approval").await);
        decided.push(decide(app, &ann, &bob, &entry, "rejection").await);
        decided.push(decide(app, &ann, &ann, &entry, "withdrawal").await);
        let price = json!({"kind": "facility_price", "facility_id": facility,
            "effective_date": format!("2027-01-0{}", n + 1), "price_per_gpu_hour": format!("2.5{n}")});
        decided.push(decide(app, &ann, &bob, &price, "approval").await);
        let bank = json!({"kind": "bank_account", "fund_id": fund, "account_holder": format!("Plans SICAV {n}"),
            "iban": "DE89 3704 0044 0532 0130 00"});
        decided.push(decide(app, &alice, &bruno, &bank, "approval").await);
        let user =
            json!({"username": format!("plans-role-{n}"), "role": "auditor", "password": "a long enough password"});
        let user = app.post("/api/v1/users", &alice, &user).await;
        assert_eq!(user.status, 201, "{}", user.text);
        let role = json!({"kind": "user_role", "user_id": user.body["id"], "role": "staff"});
        decided.push(decide(app, &alice, &bruno, &role, "approval").await);
    }
    for status in ["pending", "executed", "rejected", "withdrawn"] {
        read_each(app, &[&format!("/api/v1/proposals?status={status}")]).await;
    }
    for _ in 0..WRITES_EACH {
        let first = app.get("/api/v1/proposals?limit=2", &alice).await;
        let after = first.body["next_after"].as_str().unwrap_or_else(|| panic!("a next page: {}", first.text));
        let next = app.get(&format!("/api/v1/proposals?limit=2&after={after}"), &alice).await;
        assert_eq!(next.body["items"].as_array().map(Vec::len), Some(2), "{}", next.text);
    }
    for proposal in &decided {
        let path = format!("/api/v1/proposals/{}", proposal["id"].as_str().expect("id"));
        let reply = app.get(&path, &alice).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

/// `proposer` proposes `operation`, then `decider` decides it (`approval`, `rejection` or
/// `withdrawal`); the decided proposal.
async fn decide(app: &TestApp, proposer: &str, decider: &str, operation: &Value, decision: &str) -> Value {
    let proposal = app.post("/api/v1/proposals", proposer, operation).await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    let id = proposal.body["id"].as_str().expect("id");
    let body = match decision {
        "approval" => json!({"revision": proposal.body["revision"]}),
        "rejection" => json!({"reason": "Not this quarter."}),
        _ => Value::Null,
    };
    let reply = app.post(&format!("/api/v1/proposals/{id}/{decision}"), decider, &body).await;
    assert_eq!(reply.status, 200, "{decision}: {}", reply.text);
    reply.body
}

/// A fund's investor pays in and raises the commitment; the fund deploys the cash into a
/// facility, takes proceeds back, writes part of the stake down, distributes cash through its
/// waterfall and values its holdings.
async fn invest_and_distribute(app: &TestApp) {
    let fund = app.create_fund("Plans investing fund").await;
    let facility = json!({"name": "Plans GF", "kind": "gigafactory", "member_state": "DE", "chip_count": 1000,
        "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000});
    let facility = id(&created(app, "/api/v1/facilities", facility).await);
    let tranche = json!({"name": "Senior", "seniority": 1, "target_size": "100000000.00", "pref_rate": "0"});
    let tranche = id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), tranche).await);
    let source = json!({"kind": "private", "legal_name": "Plans investing investor", "country": "FR"});
    let source = id(&created(app, "/api/v1/sources", source).await);
    let commitment =
        json!({"source_id": source, "tranche_id": tranche, "amount": "100000.00", "effective_date": "2024-12-01"});
    let commitment = id(&created(app, &format!("/api/v1/funds/{fund}/commitments"), commitment).await);
    let call = json!({"call_date": "2025-01-01", "due_date": "2025-01-01", "description": "Investment call",
        "lines": [{"tranche_id": tranche, "purpose": "investment", "facility_id": facility, "amount": "20000.00"}]});
    let call = id(&created(app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await);
    let notices = app.get(&format!("/api/v1/notices?call_id={call}"), &app.staff()).await;
    let notice = notices.body["items"][0]["id"].as_str().expect("a notice").to_string();
    let payment = json!({"amount": "20000.00", "value_date": "2025-01-01"});
    created(app, &format!("/api/v1/notices/{notice}/contributions"), payment).await;
    let terms = json!({"steps": [{"type": "capital", "tranches": [tranche], "mode": "sequential"},
        {"type": "split", "shares": [{"tranche": tranche, "percent": "100"}]}]});
    created(app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    for n in 0..WRITES_EACH {
        let writes = [
            (
                "deployments",
                json!({"facility_id": facility, "kind": "equity", "amount": "1000.00",
                "value_date": "2025-02-01", "description": format!("Stake {n}")}),
            ),
            (
                "proceeds",
                json!({"facility_id": facility, "amount": "600.00", "cost_returned": "500.00",
                "value_date": "2025-06-01", "description": format!("Partial exit {n}")}),
            ),
            (
                "write-downs",
                json!({"facility_id": facility, "amount": "100.00", "value_date": "2025-07-01",
                "description": format!("Impairment {n}")}),
            ),
            (
                "distributions",
                json!({"cash": "50.00", "date": "2025-08-01", "description": format!("Distribution {n}")}),
            ),
        ];
        for (path, body) in writes {
            created(app, &format!("/api/v1/funds/{fund}/{path}"), body).await;
        }
        // After the distributions: an amendment is dated after its fund's latest.
        let increase = json!({"kind": "increase", "amount": "100.00", "effective_date": "2025-08-02"});
        created(app, &format!("/api/v1/commitments/{commitment}/amendments"), increase).await;
    }
    // After every write that moves NAV: a valuation states NAV on its date.
    for n in 0..WRITES_EACH {
        let valuation = json!({"as_of": format!("2025-09-1{n}"), "nav": "30000.00", "description": "Month end"});
        created(app, &format!("/api/v1/funds/{fund}/valuations"), valuation).await;
    }
    read_each(
        app,
        &[
            &format!("/api/v1/funds/{fund}/deployments"),
            &format!("/api/v1/ledger/entries?fund_id={fund}&limit=500"),
            &format!("/api/v1/funds/{fund}/explain/paid_in"),
            &format!("/api/v1/funds/{fund}/exports/journal.beancount"),
        ],
    )
    .await;
}

#[test]
fn plans_that_read_a_table_whole_are_told_from_plans_that_probe_an_index() {
    let first_columns = std::collections::HashMap::from([
        ("notices_call_id_commitment_id_key".to_string(), "call_id".to_string()),
        ("notices_pkey".to_string(), "id".to_string()),
        ("notices_unpaid".to_string(), String::new()),
    ]);
    let whole = |plan: &str| reads_whole(plan, "notices", &first_columns);
    assert!(whole("Seq Scan on notices  (cost=0.00..13.10 rows=310 width=96) "));
    assert!(whole("Parallel Seq Scan on notices  (cost=0.00..13.10 rows=310 width=96) "));
    let walk = "Index Scan Backward using notices_pkey on notices  (cost=0.15..53.57 rows=2 width=228) \n  Filter: (call_id = $1) ";
    assert!(whole(walk), "a walk of the whole primary key, filtered");
    let later = "Index Scan using notices_call_id_commitment_id_key on notices  (cost=0.42..2294.43 rows=1 width=228) \n  Index Cond: (commitment_id = $1) ";
    assert!(whole(later), "a condition on the index's second column only");
    let probe = "Index Scan using notices_call_id_commitment_id_key on notices  (cost=0.15..8.17 rows=1 width=228) \n  Index Cond: ((call_id = $1) AND (commitment_id = $2)) ";
    assert!(!whole(probe), "a probe by the leading column");
    let join = "Nested Loop \n  ->  Index Scan using notices_pkey on notices  (cost=0.15..8.17 rows=1 width=228) \n        Index Cond: (id = contributions.notice_id) ";
    assert!(!whole(join), "an inner probe of a join");
    assert!(!whole("Seq Scan on notices_archive  (cost=0.00..1.00 rows=1 width=8) "), "another table");
    let page = "Limit  (cost=0.14..5.30 rows=24 width=308) \n  ->  Index Scan using notices_pkey on notices  (cost=0.14..51.75 rows=240 width=308) ";
    assert!(!whole(page), "the first rows of an index, as many as the limit");
    let filtered_page = "Limit  (cost=0.14..5.30 rows=24 width=308) \n  ->  Index Scan using notices_pkey on notices  (cost=0.14..51.75 rows=240 width=308) \n        Filter: (call_id = $1) ";
    assert!(whole(filtered_page), "a limit over a filtered walk may read the whole index");
    let unlimited = "Sort  (cost=0.14..5.30 rows=24 width=308) \n  ->  Index Scan using notices_pkey on notices  (cost=0.14..51.75 rows=240 width=308) ";
    assert!(whole(unlimited), "a walk with no limit");
    let subset = "Limit  (cost=0.14..5.30 rows=24 width=308) \n  ->  Index Scan using notices_unpaid on notices  (cost=0.14..51.75 rows=240 width=308) \n        Filter: (due_date < $1) ";
    assert!(!whole(subset), "a walk of a partial index reads the rows its predicate names, not the table");
}
