//! Input handling, idempotency and authentication on both backends.

use crate::common;

use base64::Engine;
use common::{assert_problem, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

fn fund_body(name: &str) -> Value {
    json!({"name": name, "target_size": "1000.00", "inception_date": "2025-02-11", "term_years": 10})
}

async fn fund_count(app: &TestApp) -> usize {
    app.get("/api/v1/funds", &app.staff()).await.body["items"].as_array().map_or(0, Vec::len)
}

async fn malformed_inputs_get_problems_and_change_nothing(app: TestApp) {
    let staff = app.staff();
    let url = format!("{}/api/v1/funds", app.address);
    let raw = |body: &'static str| {
        app.client.post(&url).bearer_auth(&staff).header("content-type", "application/json").body(body)
    };
    assert_problem(&app.send(raw("{\"name\": ")).await, 400, None);
    let unknown = app.post("/api/v1/funds", &staff, &json!({"name": "A", "target_size": "1.00", "inception_date": "2025-01-01", "term_years": 5, "colour": "red"})).await;
    assert_problem(&unknown, 400, Some("colour"));
    assert!(unknown.text.contains("colour"), "{}", unknown.text);
    let wrong_type = app
        .post(
            "/api/v1/funds",
            &staff,
            &json!({"name": "A", "target_size": "1.00", "inception_date": "2025-01-01", "term_years": "five"}),
        )
        .await;
    assert_problem(&wrong_type, 400, Some("term_years"));
    let number_amount = app
        .post(
            "/api/v1/funds",
            &staff,
            &json!({"name": "A", "target_size": 12.5, "inception_date": "2025-01-01", "term_years": 5}),
        )
        .await;
    assert_problem(&number_amount, 400, Some("target_size"));
    let three_decimals = app
        .post(
            "/api/v1/funds",
            &staff,
            &json!({"name": "A", "target_size": "1.005", "inception_date": "2025-01-01", "term_years": 5}),
        )
        .await;
    assert_problem(&three_decimals, 400, Some("target_size"));
    assert!(three_decimals.text.contains("2 decimal"), "{}", three_decimals.text);
    let negative = app
        .post(
            "/api/v1/funds",
            &staff,
            &json!({"name": "A", "target_size": "-5.00", "inception_date": "2025-01-01", "term_years": 5}),
        )
        .await;
    assert_problem(&negative, 400, Some("target_size"));
    let absurd = app
        .post(
            "/api/v1/funds",
            &staff,
            &json!({"name": "A", "target_size": "10000000000000.01", "inception_date": "2025-01-01", "term_years": 5}),
        )
        .await;
    assert_problem(&absurd, 400, Some("target_size"));
    let bad_date = app
        .post(
            "/api/v1/funds",
            &staff,
            &json!({"name": "A", "target_size": "1.00", "inception_date": "2025-02-30", "term_years": 5}),
        )
        .await;
    assert_problem(&bad_date, 400, Some("inception_date"));
    let bad_parent = app.post("/api/v1/funds", &staff, &json!({"name": "A", "parent_id": "not-a-uuid", "target_size": "1.00", "inception_date": "2025-01-01", "term_years": 5})).await;
    assert_problem(&bad_parent, 400, Some("parent_id"));
    let bad_path = app.get("/api/v1/funds/12345", &staff).await;
    assert_problem(&bad_path, 400, Some("fund_id"));
    let text_plain = app.send(app.client.post(&url).bearer_auth(&staff).body("{}")).await;
    assert_problem(&text_plain, 415, None);
    let huge = "x".repeat(5 * 1024 * 1024);
    let too_large = app.send(app.client.post(&url).bearer_auth(&staff).json(&json!({"name": huge}))).await;
    assert_problem(&too_large, 413, None);
    assert_eq!(fund_count(&app).await, 0);
}

async fn entry_amounts_are_checked_per_posting(app: TestApp) {
    let fund = app.create_fund("Amounts").await;
    let body = json!({"effective_date": "2025-03-01", "description": "x", "postings": [
        {"account": "1000", "debit": "1.001"},
        {"account": "3900", "credit": "1.00"}
    ]});
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &body).await;
    assert_problem(&reply, 400, Some("postings[0].debit"));
    let body = json!({"effective_date": "2025-03-01", "description": "x", "postings": [
        {"account": "1000", "debit": "1.00", "credit": "1.00"},
        {"account": "3900", "credit": "0.00"}
    ]});
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &body).await;
    assert_problem(&reply, 400, Some("postings[0].debit"));
    assert_problem(&reply, 400, Some("postings[1].credit"));
}

async fn replayed_idempotency_key_creates_once(app: TestApp) {
    let staff = app.staff();
    let first = app.post_with_key("/api/v1/funds", &staff, "fund-create-1", &fund_body("Once")).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let replay = app.post_with_key("/api/v1/funds", &staff, "fund-create-1", &fund_body("Once")).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(fund_count(&app).await, 1);
    let different = app.post_with_key("/api/v1/funds", &staff, "fund-create-1", &fund_body("Other")).await;
    assert_problem(&different, 422, Some("Idempotency-Key"));
    assert_eq!(fund_count(&app).await, 1);
    // A failed request frees its key: the corrected retry goes through.
    let bad = app
        .post_with_key(
            "/api/v1/funds",
            &staff,
            "fund-create-2",
            &json!({"name": "Once", "target_size": "1.00", "inception_date": "2025-01-01", "term_years": 5}),
        )
        .await;
    assert_problem(&bad, 409, None);
    let fixed = app.post_with_key("/api/v1/funds", &staff, "fund-create-2", &fund_body("Twice")).await;
    assert_eq!(fixed.status, 201, "{}", fixed.text);
    let replay = app.post_with_key("/api/v1/funds", &staff, "fund-create-2", &fund_body("Twice")).await;
    assert_eq!(replay.body["id"], fixed.body["id"]);
    assert_eq!(fund_count(&app).await, 2);
}

/// The key of a request that a node claimed and had not completed: written by a release that
/// claimed keys in a transaction of their own, locked until `locked_until`.
fn claim_left_in_flight(app: &TestApp, key: &str, body: &Value, locked_until: &str) {
    use diesel::prelude::*;
    use investai::storage::schema::idempotency_keys as keys;
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"POST /api/v1/funds\n");
    hasher.update(serde_json::to_vec(body).expect("json"));
    let until = chrono::NaiveDateTime::parse_from_str(locked_until, "%Y-%m-%d %H:%M:%S").expect("timestamp");
    diesel::insert_into(keys::table)
        .values((
            keys::principal.eq("staff:alice"),
            keys::idempotency_key.eq(key),
            keys::request_hash.eq(hex::encode(hasher.finalize())),
            keys::state.eq("in_progress"),
            keys::created_at.eq(until - chrono::Duration::seconds(60)),
            keys::locked_until.eq(until),
        ))
        .execute(&mut app.conn())
        .expect("in-flight key");
}

async fn concurrent_duplicate_in_flight_is_409(app: TestApp) {
    let body = fund_body("In flight");
    claim_left_in_flight(&app, "busy-key", &body, "2999-01-01 00:00:00");
    let reply = app.post_with_key("/api/v1/funds", &app.staff(), "busy-key", &body).await;
    assert_problem(&reply, 409, None);
    assert_eq!(fund_count(&app).await, 0);
}

async fn key_left_in_flight_is_taken_over_once_its_lease_ends(app: TestApp) {
    let body = fund_body("Taken over");
    claim_left_in_flight(&app, "stale-key", &body, "2000-01-01 00:00:00");
    let first = app.post_with_key("/api/v1/funds", &app.staff(), "stale-key", &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let replay = app.post_with_key("/api/v1/funds", &app.staff(), "stale-key", &body).await;
    assert_eq!(replay.status, 201, "{}", replay.text);
    assert_eq!(replay.body["id"], first.body["id"]);
    assert!(replay.headers.contains_key("idempotent-replayed"));
    assert_eq!(fund_count(&app).await, 1);
}

async fn concurrent_same_key_requests_create_one(app: TestApp) {
    let staff = app.staff();
    let body = fund_body("Raced");
    let requests = (0..8).map(|_| app.post_with_key("/api/v1/funds", &staff, "race-key", &body));
    let replies = futures_util::future::join_all(requests).await;
    let created: Vec<&Value> = replies.iter().filter(|r| r.status == 201).map(|r| &r.body["id"]).collect();
    assert!(!created.is_empty());
    assert!(created.iter().all(|id| *id == created[0]), "all successes are the same fund");
    // Writers queue on one lock: the duplicates run after the first and replay it.
    assert!(replies.iter().all(|r| r.status == 201), "every duplicate replays the first");
    let replayed = replies.iter().filter(|r| r.headers.contains_key("idempotent-replayed")).count();
    assert_eq!(replayed, replies.len() - 1);
    assert_eq!(fund_count(&app).await, 1);
}

fn forge(app: &TestApp, header: &str) -> String {
    let (token, _) = app.keys.mint(Role::Admin, "mallory", 0, 600).expect("mint");
    let payload = token.split('.').nth(1).expect("payload");
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
    format!("{header}.{payload}.")
}

async fn bad_tokens_get_401(app: TestApp) {
    let (_, mut claims) = app.keys.mint(Role::Staff, "alice", 0, 600).expect("mint");
    claims.exp = chrono::Utc::now().timestamp() - 3600;
    let expired = app.keys.sign(&claims).expect("sign");
    let wrong_audience = investai::auth::JwtKeys::new(common::TEST_SECRET, "investai", "other-service")
        .mint(Role::Staff, "alice", 0, 600)
        .expect("mint")
        .0;
    let wrong_key = investai::auth::JwtKeys::new("another-secret-0123456789abcdefghijkl", "investai", "investai")
        .mint(Role::Staff, "alice", 0, 600)
        .expect("mint")
        .0;
    let good = app.staff();
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let elevated = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64"))
            .expect("utf8")
            .replace("\"staff\"", "\"admin\""),
    );
    parts[1] = elevated;
    let tampered = parts.join(".");
    let unsigned = forge(&app, r#"{"alg":"none","typ":"JWT"}"#);
    let confused = forge(&app, r#"{"alg":"RS256","typ":"JWT"}"#);
    for (name, token) in [
        ("expired", expired),
        ("wrong audience", wrong_audience),
        ("wrong key", wrong_key),
        ("tampered", tampered),
        ("unsigned", unsigned),
        ("rs256 without an identity provider", confused),
        ("garbage", "abc.def".to_string()),
    ] {
        let reply = app.get("/api/v1/funds", &token).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.text);
        assert_problem(&reply, 401, None);
    }
    let missing = app.send(app.client.get(format!("{}/api/v1/funds", app.address))).await;
    assert_problem(&missing, 401, None);
    assert_eq!(app.get("/api/v1/funds", &good).await.status, 200);
}

async fn roles_are_enforced(app: TestApp) {
    let fund = app.create_fund("Roles").await;
    let investor = app.token(Role::Investor, "01933b7e-0000-7000-8000-000000000001");
    let entry = json!({"effective_date": "2025-03-01", "description": "x", "postings": [
        {"account": "1000", "debit": "1.00"}, {"account": "3900", "credit": "1.00"}]});
    for token in [&investor, &app.auditor()] {
        let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), token, &entry).await;
        assert_problem(&reply, 403, None);
    }
    assert_problem(&app.get("/api/v1/ledger/entries", &investor).await, 403, None);
    assert_problem(&app.get("/api/v1/users", &app.staff()).await, 403, None);
    assert_problem(&app.post("/api/v1/funds", &app.auditor(), &fund_body("Nope")).await, 403, None);
}

async fn users_log_in_for_tokens(app: TestApp) {
    let admin = app.token(Role::Admin, "root");
    let weak =
        app.post("/api/v1/users", &admin, &json!({"username": "bob", "role": "staff", "password": "short"})).await;
    assert_problem(&weak, 400, Some("password"));
    let unbound = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "ivy", "role": "investor", "password": "a long enough password"}),
        )
        .await;
    assert_problem(&unbound, 400, Some("party_id"));
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "bob", "role": "staff", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(!created.text.contains("argon2"), "no hash in responses");
    let wrong = app
        .send(
            app.client
                .post(format!("{}/api/v1/auth/token", app.address))
                .json(&json!({"username": "bob", "password": "not the password"})),
        )
        .await;
    assert_problem(&wrong, 401, None);
    let unknown = app
        .send(
            app.client
                .post(format!("{}/api/v1/auth/token", app.address))
                .json(&json!({"username": "nobody", "password": "not the password"})),
        )
        .await;
    assert_eq!(unknown.body["detail"], wrong.body["detail"], "same answer for unknown users");
    let ok = app
        .send(
            app.client
                .post(format!("{}/api/v1/auth/token", app.address))
                .json(&json!({"username": "bob", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let token = ok.body["access_token"].as_str().expect("token");
    assert_eq!(app.post("/api/v1/funds", token, &fund_body("By Bob")).await.status, 201);
    let entries_by_bob = app.get("/api/v1/ledger/entries?actor=staff:bob", &app.auditor()).await;
    assert_eq!(entries_by_bob.status, 200);
}

async fn browser_login_needs_csrf_and_sets_a_strict_cookie(app: TestApp) {
    let admin = app.token(Role::Admin, "root");
    app.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "sara", "role": "staff", "password": "a long enough password"}),
    )
    .await;
    let home = app.send(app.client.get(format!("{}/", app.address))).await;
    assert_eq!(home.status, 303);
    let form = app.send(app.client.get(format!("{}/login", app.address))).await;
    assert_eq!(form.status, 200);
    let csrf = form
        .text
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf field")
        .to_string();
    let forged = app
        .send(app.client.post(format!("{}/login", app.address)).form(&[
            ("username", "sara"),
            ("password", "a long enough password"),
            ("csrf_token", "00"),
        ]))
        .await;
    assert_eq!(forged.status, 403);
    let wrong = app
        .send(app.client.post(format!("{}/login", app.address)).form(&[
            ("username", "sara"),
            ("password", "wrong password!"),
            ("csrf_token", &csrf),
        ]))
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text.contains("wrong password"), "reason shown on the form");
    let ok = app
        .send(app.client.post(format!("{}/login", app.address)).form(&[
            ("username", "sara"),
            ("password", "a long enough password"),
            ("csrf_token", &csrf),
        ]))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    let cookie = ok.headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let home = app.send(app.client.get(format!("{}/", app.address))).await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("Fund administration") && home.text.contains("sara · Fund staff"), "{}", home.text);
    // The session cookie does not authenticate the JSON API: it wants a bearer token.
    let api = app.send(app.client.get(format!("{}/api/v1/funds", app.address))).await;
    assert_eq!(api.status, 401);
}

/// The value of an unlabelled sample in Prometheus' text format (0 when absent).
fn metric_value(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .find_map(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn health_readiness_metrics_and_request_ids(app: TestApp) {
    let health = app.send(app.client.get(format!("{}/healthz", app.address))).await;
    assert_eq!(health.body["status"], "ok");
    let ready = app.send(app.client.get(format!("{}/readyz", app.address))).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["migrations"], "current");
    assert!(ready.headers.contains_key("x-request-id"));
    let metrics = app.send(app.client.get(format!("{}/metrics", app.address))).await;
    assert!(metrics.text.contains("investai_http_requests_total"), "{}", metrics.text);
    // The writer lock's figures (docs/scaling.md, "The chain head's cap") count every write.
    let writes_before = metric_value(&metrics.text, "investai_write_lock_held_seconds_count");
    app.create_fund("Lock figures").await;
    let metrics = app.send(app.client.get(format!("{}/metrics", app.address))).await;
    let writes_after = metric_value(&metrics.text, "investai_write_lock_held_seconds_count");
    assert!(writes_after > writes_before, "{writes_before} then {writes_after} write transactions");
    assert!(metric_value(&metrics.text, "investai_write_lock_held_seconds_sum") > 0.0, "{}", metrics.text);
    assert!(metric_value(&metrics.text, "investai_write_lock_wait_seconds_count") >= writes_after);
    let missing = app.send(app.client.get(format!("{}/no/such/page", app.address))).await;
    assert_problem(&missing, 404, None);
}

/// A write that gives up waiting for the writer lock answers "busy", leaves its connection fit
/// for the next request, and shows on `/metrics`: counted as refused, its wait in the histogram.
async fn a_write_refused_the_lock_is_counted_and_leaves_its_connection_usable(app: TestApp) {
    use diesel::connection::SimpleConnection;
    use investai::storage::{POSTGRES_LOCK_TIMEOUT_MS, SQLITE_BUSY_TIMEOUT_MS};
    let metrics = || async { app.send(app.client.get(format!("{}/metrics", app.address))).await.text };
    let before = metrics().await;
    // Another connection holds the lock, as a long write on another node would.
    let (hold, wait_briefly, wait_as_usual) = match app.backend {
        common::Backend::Sqlite => (
            "BEGIN IMMEDIATE",
            "PRAGMA busy_timeout = 200".to_string(),
            format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"),
        ),
        common::Backend::Postgres => (
            "BEGIN; UPDATE books_version SET version = version + 1 WHERE id = 1",
            "SET lock_timeout = 200".to_string(),
            format!("SET lock_timeout = {POSTGRES_LOCK_TIMEOUT_MS}"),
        ),
    };
    let mut holder = app.conn();
    holder.batch_execute(hold).expect("hold the writer lock");
    let mut writer = app.conn();
    writer.batch_execute(&wait_briefly).expect("a short lock wait");
    let refused = investai::storage::write_tx(&mut writer, |_| Ok(()));
    let after_refusal = writer.batch_execute(&wait_as_usual).map_err(|e| e.to_string());
    holder.batch_execute("ROLLBACK").expect("release the lock");
    assert!(matches!(refused, Err(investai::error::AppError::Unavailable(_))), "{refused:?}");
    assert_eq!(after_refusal, Ok(()), "the refused writer's connection is usable again");
    investai::storage::write_tx(&mut writer, |_| Ok(())).expect("the same connection writes once the lock is free");
    let after = metrics().await;
    let grew = |name: &str| metric_value(&after, name) - metric_value(&before, name);
    assert!(grew("investai_write_lock_refused_total") >= 1.0, "{after}");
    assert!(grew("investai_write_lock_wait_seconds_sum") >= 0.2, "{after}");
}

on_both_backends!(
    a_write_refused_the_lock_is_counted_and_leaves_its_connection_usable,
    malformed_inputs_get_problems_and_change_nothing,
    entry_amounts_are_checked_per_posting,
    replayed_idempotency_key_creates_once,
    concurrent_duplicate_in_flight_is_409,
    key_left_in_flight_is_taken_over_once_its_lease_ends,
    concurrent_same_key_requests_create_one,
    bad_tokens_get_401,
    roles_are_enforced,
    users_log_in_for_tokens,
    browser_login_needs_csrf_and_sets_a_strict_cookie,
    health_readiness_metrics_and_request_ids,
);
