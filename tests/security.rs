//! Hostile input on both backends. Script-, attribute-, SQL- and template-like text sent in every
//! free-text field is stored exactly as sent (or refused with a 400 naming the field), and every
//! page of every role shows it escaped. Bodies above the limit are refused for every operation
//! that takes one, declared or streamed, and change nothing.

use crate::common;

use common::pages::crawl;
use common::{assert_problem, id, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// Body limit of the servers these tests start, small enough that refused bodies stay small.
const TEST_BODY_LIMIT_BYTES: usize = 64 * 1024;

const SME_ID: &str = "sme-hostile";

/// Script, attribute, SQL and template injection in one value; `field` traces it to its field.
fn hostile(field: &str) -> String {
    format!("<script>alert({field})</script>\" onmouseover=\"alert(1)' OR '1'='1; DROP TABLE funds; -- {{{{7*7}}}}")
}

/// The part of `hostile(field)` a page shows as text once the markup around it is escaped.
fn shown(field: &str) -> String {
    format!("alert({field})")
}

/// Whether any string inside `value` holds `wanted` unchanged.
fn holds_string(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(text) => text.contains(wanted),
        Value::Array(items) => items.iter().any(|v| holds_string(v, wanted)),
        Value::Object(map) => map.values().any(|v| holds_string(v, wanted)),
        _ => false,
    }
}

/// Posts a body carrying hostile text in `fields`; asserts it is created and echoed verbatim.
async fn create(app: &TestApp, token: &str, path: &str, body: Value, fields: &[&str]) -> Value {
    let reply = app.post(path, token, &body).await;
    assert!(reply.status == 201 || reply.status == 200, "{path}: {}", reply.text);
    for field in fields {
        assert!(holds_string(&reply.body, &hostile(field)), "{path} echoes {field} as sent: {}", reply.text);
    }
    reply.body
}

struct HostileBooks {
    /// Every field that was sent hostile text and stored it.
    fields: Vec<&'static str>,
    facility: String,
}

/// Creates one of everything that has free text, each text hostile.
async fn hostile_books(app: &TestApp) -> HostileBooks {
    let staff = app.staff();
    let fund_body = json!({"name": hostile("fund_name"), "target_size": "1000000.00", "inception_date": "2025-01-01", "term_years": 10});
    let fund = id(&create(app, &staff, "/api/v1/funds", fund_body, &["fund_name"]).await);
    let account = json!({"code": "6950", "name": hostile("account_name"), "kind": "expense"});
    create(app, &staff, &format!("/api/v1/funds/{fund}/accounts"), account, &["account_name"]).await;
    let tranche =
        json!({"name": hostile("tranche_name"), "seniority": 1, "target_size": "1000000.00", "pref_rate": "0.05"});
    let tranche = id(&create(app, &staff, &format!("/api/v1/funds/{fund}/tranches"), tranche, &["tranche_name"]).await);
    let source = json!({"kind": "private", "legal_name": hostile("source_name"), "country": "DE"});
    let source = id(&create(app, &staff, "/api/v1/sources", source, &["source_name"]).await);
    let facility = json!({"name": hostile("facility_name"), "kind": "ai_factory", "member_state": "FI",
        "chip_count": 10, "chip_type": hostile("chip_type"), "quarterly_capacity_gpu_hours": 100000});
    let facility = id(&create(app, &staff, "/api/v1/facilities", facility, &["facility_name", "chip_type"]).await);
    let price = json!({"effective_date": "2025-01-01", "price_per_gpu_hour": "2.00"});
    create(app, &staff, &format!("/api/v1/facilities/{facility}/prices"), price, &[]).await;
    let commitment =
        json!({"source_id": source, "tranche_id": tranche, "amount": "1000.00", "effective_date": "2025-01-02"});
    create(app, &staff, &format!("/api/v1/funds/{fund}/commitments"), commitment, &[]).await;
    let call = json!({"call_date": "2025-02-01", "due_date": "2025-03-01", "description": hostile("call_description"),
        "lines": [{"tranche_id": tranche, "purpose": "fees", "amount": "100.00"}]});
    create(app, &staff, &format!("/api/v1/funds/{fund}/capital-calls"), call, &["call_description"]).await;
    let entry = json!({"effective_date": "2025-01-03", "description": hostile("entry_description"), "postings": [
        {"account": "1010", "debit": "50000.00", "memo": hostile("posting_memo")}, {"account": "6950", "debit": "10.00"},
        {"account": "3900", "credit": "50010.00"}]});
    let entry = id(&create(
        app,
        &staff,
        &format!("/api/v1/funds/{fund}/journal-entries"),
        entry,
        &["entry_description", "posting_memo"],
    )
    .await);
    let small = json!({"effective_date": "2025-01-04", "description": "to reverse", "postings": [
        {"account": "1000", "debit": "1.00"}, {"account": "3900", "credit": "1.00"}]});
    let small = id(&create(app, &staff, &format!("/api/v1/funds/{fund}/journal-entries"), small, &[]).await);
    let reversal = json!({"effective_date": "2025-01-05", "reason": hostile("reversal_reason")});
    create(app, &staff, &format!("/api/v1/ledger/entries/{small}/reversal"), reversal, &["reversal_reason"]).await;
    assert!(!entry.is_empty());
    let valuation = json!({"as_of": "2025-06-30", "nav": "900.00", "description": hostile("valuation_description")});
    create(app, &staff, &format!("/api/v1/funds/{fund}/valuations"), valuation, &["valuation_description"]).await;
    let now = chrono::Utc::now();
    let grant_call = json!({"fund_id": fund, "name": hostile("grant_call_name"), "budget": "10000.00",
        "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(), "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
        "eligible_facility_ids": [facility], "max_gpu_hours_per_award": "1000", "aid_basis": "de_minimis",
        "min_reviewers": 1, "min_average_score": "60"});
    let grant_call = id(&create(app, &staff, "/api/v1/grant-calls", grant_call, &["grant_call_name"]).await);
    let sme = app.token(Role::Sme, &common::party_id(SME_ID));
    let application = |registration: &str| {
        json!({
            "company": {"legal_name": hostile("company_name"), "registration_number": registration, "country": "FR", "nace_code": "62.01", "nuts2_region": "FR10"},
            "staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00", "related": [], "declarations": {"undertaking_in_difficulty": false, "outstanding_recovery_order": false}, 
            "project_title": hostile("project_title"), "summary": hostile("project_summary"),
            "requested_gpu_hours": "100", "facility_id": facility, "start_date": "2026-01-01", "end_date": "2026-03-31"})
    };
    let path = format!("/api/v1/grant-calls/{grant_call}/applications");
    // Registration numbers have a strict form: hostile text there is refused, naming the field.
    let refused = app.post(&path, &sme, &application(&hostile("registration_number"))).await;
    assert_problem(&refused, 400, Some("company.registration_number"));
    let fields = ["company_name", "project_title", "project_summary"];
    let application = id(&create(app, &sme, &path, application("HRB 4711/B"), &fields).await);
    create(app, &sme, &format!("/api/v1/applications/{application}/submit"), json!(null), &[]).await;
    let review = json!({"score": 40, "comment": hostile("review_comment")});
    create(app, &staff, &format!("/api/v1/applications/{application}/reviews"), review, &["review_comment"]).await;
    let rejection = json!({"reason": hostile("rejection_reason")});
    create(app, &staff, &format!("/api/v1/applications/{application}/rejection"), rejection, &["rejection_reason"])
        .await;
    let fields = vec![
        "fund_name",
        "account_name",
        "tranche_name",
        "source_name",
        "facility_name",
        "chip_type",
        "call_description",
        "entry_description",
        "posting_memo",
        "reversal_reason",
        "valuation_description",
        "grant_call_name",
        "company_name",
        "project_title",
        "project_summary",
        "review_comment",
        "rejection_reason",
    ];
    HostileBooks { fields, facility }
}

async fn hostile_text_is_stored_as_sent_and_shown_escaped(app: TestApp) {
    let books = hostile_books(&app).await;
    let fields = &books.fields;
    let mut pages = Vec::new();
    let facility = books.facility.as_str();
    let sme_id = common::party_id(SME_ID);
    let users = [
        ("sec-staff", Role::Staff, None),
        ("sec-auditor", Role::Auditor, None),
        ("sec-sme", Role::Sme, Some(sme_id.as_str())),
        ("sec-facility", Role::Facility, Some(facility)),
    ];
    for (user, role, party) in users {
        let browser = app.browser_as(user, role, party).await;
        pages.extend(crawl(&browser, &app, user).await);
    }
    for (path, text) in &pages {
        let lowered = text.to_lowercase();
        assert!(!lowered.contains("<script"), "{path} holds a script element: {text}");
        assert!(!lowered.contains("onmouseover=\"alert"), "{path} holds an injected attribute: {text}");
    }
    let unseen: Vec<&str> =
        fields.iter().copied().filter(|f| !pages.iter().any(|(_, text)| text.contains(&shown(f)))).collect();
    assert!(unseen.is_empty(), "fields no page shows: {unseen:?}");
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    assert_eq!(funds.status, 200, "the funds table is still there");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
}

/// Path with every `{parameter}` replaced by a fresh id.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { part.to_string() })
        .collect::<Vec<_>>()
        .join("/")
}

/// Journal entries and funds the service holds: what a refused request must not change.
async fn books(app: &TestApp) -> (Value, Value) {
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    (verify.body["entries_checked"].clone(), funds.body)
}

async fn oversized_bodies_are_refused_everywhere_and_change_nothing(app: TestApp) {
    let fund = app.create_fund("Limits").await;
    let before = books(&app).await;
    let document = app.send(app.client.get(format!("{}/api/openapi.json", app.address))).await;
    let oversized = format!("{{\"pad\":\"{}\"}}", "a".repeat(TEST_BODY_LIMIT_BYTES));
    let mut refused = 0;
    for (path, item) in document.body["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operation") {
            if operation.get("requestBody").is_none() {
                continue;
            }
            let url = format!("{}{}", app.address, concrete(path));
            let request = match method.as_str() {
                "post" => app.client.post(&url),
                "put" => app.client.put(&url),
                other => panic!("{other} {path} takes a body"),
            };
            let request = request.bearer_auth(app.staff()).header("content-type", "application/json");
            let reply = app.send(request.body(oversized.clone())).await;
            assert_eq!(reply.status, 413, "{method} {path}: {}", reply.text);
            assert_problem(&reply, 413, None);
            refused += 1;
        }
    }
    assert!(refused >= 25, "{refused} operations take a body");
    // A streamed body declares no length: it is refused once it passes the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..TEST_BODY_LIMIT_BYTES / 1024 + 2).map(|_| Ok(vec![b' '; 1024])).collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let request = app
        .client
        .post(format!("{}/api/v1/funds/{fund}/journal-entries", app.address))
        .bearer_auth(app.staff())
        .header("content-type", "application/json")
        .body(streamed);
    assert_problem(&app.send(request).await, 413, None);
    // A form of the pages above its own limit.
    let form = format!("username=x&password={}", "a".repeat(TEST_BODY_LIMIT_BYTES));
    let login = app
        .send(
            app.client
                .post(format!("{}/login", app.address))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form),
        )
        .await;
    assert_eq!(login.status, 413, "{}", login.text);
    assert_eq!(books(&app).await, before, "refused bodies changed nothing");
}

async fn spawn_with_small_limit(backend: common::Backend) -> TestApp {
    common::spawn_app_with(backend, |settings| settings.body_limit_bytes = TEST_BODY_LIMIT_BYTES).await
}

on_both_backends!(
    spawn = super::spawn_with_small_limit;
    hostile_text_is_stored_as_sent_and_shown_escaped,
    oversized_bodies_are_refused_everywhere_and_change_nothing,
);
