//! Compute grants on both backends: calls from the pool, SME applications with their
//! category and state-aid checks, reviews, awards under races, usage metering, lapses.

use crate::common;

use chrono::{Duration, Utc};
use common::{assert_problem, investai, Reply, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// Balances are read on a date after everything the tests post.
const LATER: &str = "2100-01-01";
/// The migration that keeps what a usage entry posted from being changed or deleted.
const ENTRY_USAGE_GUARD: &str = "2026-12-07-000001_entry_usage_append_only";

pub struct Grants {
    pub fund: String,
    pub facility: String,
    pub other_facility: String,
}

fn cents(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("amount string, got {value}"));
    let negative = text.starts_with('-');
    let (whole, fraction) = text.trim_start_matches('-').split_once('.').expect("two decimals");
    let amount = whole.parse::<i64>().expect("whole") * 100 + fraction.parse::<i64>().expect("fraction");
    if negative {
        -amount
    } else {
        amount
    }
}

async fn facility(app: &TestApp, name: &str, quarterly_hours: i64, price: &str) -> String {
    let body = json!({"name": name, "kind": "ai_factory", "member_state": "FI", "chip_count": 1000,
        "chip_type": "H100", "quarterly_capacity_gpu_hours": quarterly_hours});
    let reply = app.post("/api/v1/facilities", &app.staff(), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.body["id"].as_str().expect("id").to_string();
    let price = json!({"effective_date": "2025-01-01", "price_per_gpu_hour": price});
    let reply = app.post(&format!("/api/v1/facilities/{id}/prices"), &app.staff(), &price).await;
    if reply.body["type"] == "/problems/four-eyes-required" {
        propose_and_approve(app, price, json!({"kind": "facility_price", "facility_id": id})).await;
    } else {
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    id
}

/// With four eyes on, a write the direct call refuses: proposed by one staff user with the
/// fields of `body` and `operation`, approved by another.
async fn propose_and_approve(app: &TestApp, body: Value, operation: Value) {
    let mut proposed = body;
    for (name, value) in operation.as_object().into_iter().flatten() {
        proposed[name] = value.clone();
    }
    let proposal = app.post("/api/v1/proposals", &app.token(Role::Staff, "proposer"), &proposed).await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    let id = proposal.body["id"].as_str().expect("id");
    let approval = json!({"revision": proposal.body["revision"]});
    let approved =
        app.post(&format!("/api/v1/proposals/{id}/approval"), &app.token(Role::Staff, "approver"), &approval).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
}

/// A fund whose compute-grant pool holds `pool`, and two facilities at EUR 2.00 an hour.
pub async fn setup(app: &TestApp, pool: &str, quarterly_hours: i64) -> Grants {
    let fund = app.create_fund("Grants fund").await;
    let body = json!({"effective_date": "2025-01-01", "description": "reserve for compute grants", "postings": [
        {"account": "1010", "debit": pool}, {"account": "3900", "credit": pool}]});
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &body).await;
    if reply.body["type"] == "/problems/four-eyes-required" {
        propose_and_approve(app, body, json!({"kind": "manual_entry", "fund_id": fund})).await;
    } else {
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    Grants {
        fund,
        facility: facility(app, "LUMI-AI", quarterly_hours, "2.00").await,
        other_facility: facility(app, "MareNostrum-AI", quarterly_hours, "3.00").await,
    }
}

fn call_body(g: &Grants, name: &str, budget: &str, basis: &str, max_hours: &str, reviewers: i32) -> Value {
    let now = Utc::now();
    json!({"fund_id": g.fund, "name": name, "budget": budget,
        "opens_at": (now - Duration::days(1)).to_rfc3339(), "closes_at": (now + Duration::days(30)).to_rfc3339(),
        "eligible_facility_ids": [g.facility], "max_gpu_hours_per_award": max_hours, "aid_basis": basis,
        "aid_measure_reference": (basis != "de_minimis").then_some("SA.100001"),
        "min_reviewers": reviewers, "min_average_score": "60"})
}

pub async fn open_call(
    app: &TestApp,
    g: &Grants,
    budget: &str,
    basis: &str,
    max_hours: &str,
    reviewers: i32,
) -> String {
    let reply =
        app.post("/api/v1/grant-calls", &app.staff(), &call_body(g, "Call", budget, basis, max_hours, reviewers)).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["id"].as_str().expect("id").to_string()
}

/// A micro enterprise in France asking for `hours` in Q1 2026.
pub fn application(g: &Grants, registration: &str, hours: &str) -> Value {
    json!({
        "company": {"legal_name": format!("Mistral Robotics {registration}"), "registration_number": registration, "country": "FR", "nace_code": "62.01", "nuts2_region": "FR10"},
        "staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00", "related": [], "declarations": {"undertaking_in_difficulty": false, "outstanding_recovery_order": false},
        "project_title": "Robot grasping foundation model", "summary": "Training a 7B vision-language-action model.",
        "requested_gpu_hours": hours, "facility_id": g.facility, "start_date": "2026-01-01", "end_date": "2026-03-31"
    })
}

/// The token of the SME named `name` (its id is `common::party_id(name)`).
pub fn sme(app: &TestApp, name: &str) -> String {
    app.token(Role::Sme, &common::party_id(name))
}

pub async fn draft(app: &TestApp, call: &str, sme_id: &str, body: &Value) -> Reply {
    app.post(&format!("/api/v1/grant-calls/{call}/applications"), &sme(app, sme_id), body).await
}

/// Drafts, submits and reviews an application (scores 80 by `reviews` reviewers); its id.
pub async fn reviewed(app: &TestApp, call: &str, sme_id: &str, body: &Value, reviews: usize) -> String {
    let reply = draft(app, call, sme_id, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.body["id"].as_str().expect("id").to_string();
    let submitted = app.post(&format!("/api/v1/applications/{id}/submit"), &sme(app, sme_id), &json!(null)).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    assert_eq!(submitted.body["status"], "submitted");
    for reviewer in 0..reviews {
        let token = app.token(Role::Staff, &format!("reviewer{reviewer}"));
        let body = json!({"score": 80, "comment": "Strong team, clear compute plan."});
        let reply = app.post(&format!("/api/v1/applications/{id}/reviews"), &token, &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    id
}

pub async fn award(app: &TestApp, application: &str, body: Value) -> Reply {
    app.post(&format!("/api/v1/applications/{application}/award"), &app.staff(), &body).await
}

pub async fn balance(app: &TestApp, fund: &str, code: &str) -> i64 {
    let reply = app.get(&format!("/api/v1/funds/{fund}/accounts/{code}/balance?as_of={LATER}"), &app.auditor()).await;
    if reply.status == 404 {
        return 0;
    }
    assert_eq!(reply.status, 200, "{}", reply.text);
    cents(&reply.body["net"])
}

pub async fn entry_count(app: &TestApp) -> usize {
    let reply = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(reply.body["ok"], true, "{}", reply.text);
    reply.body["entries_checked"].as_u64().expect("count") as usize
}

fn usage(record: &str, award: &str, hours: &str, day: u32) -> Value {
    json!({"record_id": record, "award_id": award, "gpu_hours": hours,
        "period_start": format!("2026-02-{day:02}T08:00:00Z"), "period_end": format!("2026-02-{day:02}T20:00:00Z")})
}

/// Staff, turnover, balance sheet, a linked enterprise's (60%) staff and turnover, category.
type Threshold = (&'static str, &'static str, &'static str, Option<(&'static str, &'static str)>, &'static str);

async fn sme_categories_at_every_threshold(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let cases: [Threshold; 13] = [
        ("9.99", "2000000.00", "5000000.00", None, "micro"),
        ("9", "2000000.01", "2000000.00", None, "micro"),
        ("9", "2000000.01", "2000000.01", None, "small"),
        ("10", "1.00", "1.00", None, "small"),
        ("49.99", "10000000.00", "99000000.00", None, "small"),
        ("49", "10000000.01", "10000000.01", None, "medium"),
        ("50", "1.00", "1.00", None, "medium"),
        ("249.99", "50000000.00", "99000000.00", None, "medium"),
        ("249", "60000000.00", "43000000.00", None, "medium"),
        ("249", "50000000.01", "43000000.01", None, "not_sme"),
        ("250", "1.00", "1.00", None, "not_sme"),
        ("30", "8000000.00", "8000000.00", None, "small"),
        ("30", "8000000.00", "8000000.00", Some(("25", "4000000.00")), "medium"),
    ];
    for (index, (staff, turnover, balance, linked, expected)) in cases.iter().enumerate() {
        let mut body = application(&g, &format!("RCS-{index}"), "100");
        body["staff_awu"] = json!(staff);
        body["turnover"] = json!(turnover);
        body["balance_sheet"] = json!(balance);
        if let Some((linked_staff, linked_turnover)) = linked {
            body["related"] = json!([{"holding_percent": "60", "figures":
                {"staff_awu": linked_staff, "turnover": linked_turnover, "balance_sheet": linked_turnover}}]);
        }
        let reply = draft(&app, &call, "sme-thresholds", &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.body["sme_category"], *expected, "case {index}: {}", reply.text);
        assert_eq!(reply.body["assessment"]["sme_category"], *expected);
        let intensity = &reply.body["assessment"]["intensity_percent"];
        match *expected {
            "micro" | "small" => assert_eq!(intensity, "70"),
            "medium" => assert_eq!(intensity, "60"),
            _ => assert!(intensity.is_null()),
        }
    }
    // The small firm that is medium with its linked enterprise, shown with its aggregated figures.
    let reply = app.get(&format!("/api/v1/applications?call_id={call}&limit=500"), &sme(&app, "sme-thresholds")).await;
    let items = reply.body["items"].as_array().expect("items");
    assert_eq!(items.len(), cases.len());
    let last = app
        .get(&format!("/api/v1/applications/{}", items[12]["id"].as_str().unwrap()), &sme(&app, "sme-thresholds"))
        .await;
    assert_eq!(last.body["assessment"]["aggregated"]["staff_awu"], "55", "{}", last.text);
    // Related enterprises' figures are validated with their path.
    let mut bad = application(&g, "RCS-bad", "100");
    bad["related"] =
        json!([{"holding_percent": "101", "figures": {"staff_awu": "1", "turnover": "1.00", "balance_sheet": "1.00"}}]);
    assert_problem(&draft(&app, &call, "sme-thresholds", &bad).await, 400, Some("related[0].holding_percent"));
}

async fn submissions_are_refused_with_the_exact_reason(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "5000", 1).await;
    let submit = |id: String| {
        let app = &app;
        async move { app.post(&format!("/api/v1/applications/{id}/submit"), &sme(app, "sme-1"), &json!(null)).await }
    };
    let cases: [(&str, Value, &str, &str); 4] = [
        (
            "not-in-eu",
            json!({"company": {"legal_name": "Zurich AI", "registration_number": "CHE-1", "country": "CH"}}),
            "company.country",
            "CH",
        ),
        ("not-an-sme", json!({"staff_awu": "300"}), "staff_awu", "300 annual work units"),
        (
            "hours-above-call-maximum",
            json!({"requested_gpu_hours": "5000.001"}),
            "requested_gpu_hours",
            "maximum of 5000.000",
        ),
        ("facility-not-eligible", json!({"facility_id": g.other_facility}), "facility_id", "not eligible"),
    ];
    for (code, change, field, words) in cases {
        let mut body = application(&g, "RCS-1", "100");
        for (key, value) in change.as_object().expect("object") {
            body[key] = value.clone();
        }
        let reply = draft(&app, &call, "sme-1", &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.body["assessment"]["refusals"][0]["code"], code, "{}", reply.text);
        let refused = submit(reply.body["id"].as_str().expect("id").to_string()).await;
        assert_problem(&refused, 422, Some(field));
        assert_eq!(refused.body["type"], format!("/problems/{code}"), "{}", refused.text);
        assert!(refused.body["detail"].as_str().unwrap_or_default().contains(words), "{}", refused.text);
    }
    // A call that has closed refuses a submission that was fine while it was open.
    let now = Utc::now();
    let mut closed = call_body(&g, "Closed call", "1000.00", "industrial_research", "5000", 1);
    closed["opens_at"] = json!((now - Duration::days(10)).to_rfc3339());
    closed["closes_at"] = json!((now - Duration::days(1)).to_rfc3339());
    let closed = app.post("/api/v1/grant-calls", &app.staff(), &closed).await;
    assert_eq!(closed.status, 201, "{}", closed.text);
    let reply = draft(&app, closed.body["id"].as_str().unwrap(), "sme-1", &application(&g, "RCS-1", "100")).await;
    let refused = submit(reply.body["id"].as_str().expect("id").to_string()).await;
    assert_problem(&refused, 422, Some("call_id"));
    assert_eq!(refused.body["type"], "/problems/call-closed");
    // Nothing was submitted; another SME cannot see or submit these drafts.
    let other = app
        .post(
            &format!("/api/v1/applications/{}/submit", reply.body["id"].as_str().unwrap()),
            &sme(&app, "sme-2"),
            &json!(null),
        )
        .await;
    assert_problem(&other, 404, None);
    let listed = app.get("/api/v1/applications?status=submitted", &app.staff()).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0), "{}", listed.text);
    // A call budget above the pool is refused, and nothing is reserved.
    let before = balance(&app, &g.fund, "1010").await;
    let too_big = app
        .post("/api/v1/grant-calls", &app.staff(), &call_body(&g, "Too big", "2000000.00", "de_minimis", "10", 1))
        .await;
    assert_problem(&too_big, 422, Some("budget"));
    assert_eq!(too_big.body["type"], "/problems/pool-insufficient");
    // The pool holds 899,000.00: 2,000,000.00 would leave it at -1,101,000.00 from today on.
    assert!(too_big.body["detail"].as_str().unwrap_or_default().contains("-1101000.00"), "{}", too_big.text);
    assert_eq!(balance(&app, &g.fund, "1010").await, before);
    // Times are kept to the microsecond: a call closing less than one after it opens is refused.
    let mut instant = call_body(&g, "Instant call", "1.00", "de_minimis", "10", 1);
    instant["opens_at"] = json!("2027-01-01T00:00:00.0000001Z");
    instant["closes_at"] = json!("2027-01-01T00:00:00.0000009Z");
    let refused = app.post("/api/v1/grant-calls", &app.staff(), &instant).await;
    assert_problem(&refused, 400, Some("closes_at"));
    assert_eq!(balance(&app, &g.fund, "1010").await, before);
}

async fn de_minimis_is_refused_with_the_figures_and_rechecked_at_award(app: TestApp) {
    let g = setup(&app, "2000000.00", 10_000_000).await;
    let call = open_call(&app, &g, "1000000.00", "de_minimis", "200000", 1).await;
    // 50,000 h x EUR 2.00 x 100% = EUR 100,000 of aid; 250,000 declared: 350,000 > 300,000.
    let mut body = application(&g, "RCS 77", "50000");
    body["de_minimis_received"] = json!("250000.00");
    let reply = draft(&app, &call, "sme-a", &body).await;
    assert_eq!(reply.body["assessment"]["aid_value"], "100000.00", "{}", reply.text);
    let id = reply.body["id"].as_str().expect("id");
    let refused = app.post(&format!("/api/v1/applications/{id}/submit"), &sme(&app, "sme-a"), &json!(null)).await;
    assert_problem(&refused, 422, Some("requested_gpu_hours"));
    assert_eq!(refused.body["type"], "/problems/de-minimis-exceeded");
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    for figure in ["250000.00", "100000.00", "350000.00", "300000.00", "at most EUR 50000.00 more"] {
        assert!(detail.contains(figure), "{figure} missing from {detail}");
    }
    // Two applications of one undertaking (same register number, two SME accounts), each under
    // the ceiling alone: the second award is refused because of the first.
    let first = reviewed(&app, &call, "sme-a", &application(&g, "RCS-77", "80000"), 1).await;
    let second = reviewed(&app, &call, "sme-b", &application(&g, "rcs 77", "80000"), 1).await;
    let awarded = app.post(&format!("/api/v1/applications/{first}/award"), &app.staff(), &json!({})).await;
    assert_eq!(awarded.status, 201, "{}", awarded.text);
    assert_eq!(awarded.body["aid_value"], "160000.00");
    let refused = app.post(&format!("/api/v1/applications/{second}/award"), &app.staff(), &json!({})).await;
    assert_problem(&refused, 422, Some("gpu_hours"));
    assert_eq!(refused.body["type"], "/problems/de-minimis-exceeded");
    assert!(refused.body["detail"].as_str().unwrap_or_default().contains("320000.00"), "{}", refused.text);
    // Adjusted down to fit the headroom, it is awarded.
    let fits =
        app.post(&format!("/api/v1/applications/{second}/award"), &app.staff(), &json!({"gpu_hours": "70000"})).await;
    assert_eq!(fits.status, 201, "{}", fits.text);
    assert_eq!(fits.body["aid_value"], "140000.00");
    assert_eq!(entry_count(&app).await, 4, "pool funding, call, two awards");
    // A group: Alpha declares EUR 150,000 received elsewhere, names Beta as linked and is
    // awarded EUR 100,000 here. Beta then applies alone, declaring nothing, for EUR 100,000:
    // 150,000 + 100,000 + 100,000 = 350,000, above the ceiling; 50,000 is what fits.
    let mut alpha = application(&g, "RCS-ALPHA", "50000");
    alpha["de_minimis_received"] = json!("150000.00");
    alpha["related"] = json!([{"legal_name": "Beta Robotics", "registration_number": "RCS-BETA", "country": "FR",
        "holding_percent": "60", "figures": {"staff_awu": "5", "turnover": "500000.00", "balance_sheet": "400000.00"}}]);
    let alpha = reviewed(&app, &call, "sme-alpha", &alpha, 1).await;
    let awarded = app.post(&format!("/api/v1/applications/{alpha}/award"), &app.staff(), &json!({})).await;
    assert_eq!(awarded.status, 201, "{}", awarded.text);
    assert_eq!(awarded.body["aid_value"], "100000.00");
    let beta = draft(&app, &call, "sme-beta", &application(&g, "RCS-BETA", "50000")).await;
    let beta = beta.body["id"].as_str().expect("id").to_string();
    let refused = app.post(&format!("/api/v1/applications/{beta}/submit"), &sme(&app, "sme-beta"), &json!(null)).await;
    assert_problem(&refused, 422, Some("requested_gpu_hours"));
    assert_eq!(refused.body["type"], "/problems/de-minimis-exceeded", "{}", refused.text);
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    // Beta may know who links it (to contest it) and the aid granted here, which the register
    // publishes; what Alpha declared received elsewhere is counted, not attributed.
    for figure in [
        "RCS-ALPHA",
        "granted EUR 100000.00 here",
        "EUR 150000.00 more counted",
        "350000.00",
        "at most EUR 50000.00 more",
    ] {
        assert!(detail.contains(figure), "{figure} missing from {detail}");
    }
    // The aid a linked enterprise received elsewhere counts when another member declared it:
    // Delta names Epsilon as linked, declares EUR 150,000 received by Epsilon elsewhere, and is
    // awarded EUR 100,000. Epsilon then applies alone, declaring nothing, for EUR 100,000.
    let mut delta = application(&g, "RCS-DELTA", "50000");
    delta["related"] = json!([{"legal_name": "Epsilon Vision", "registration_number": "RCS-EPSILON", "country": "FR",
        "holding_percent": "60", "de_minimis_received": "150000.00",
        "figures": {"staff_awu": "5", "turnover": "500000.00", "balance_sheet": "400000.00"}}]);
    let delta = reviewed(&app, &call, "sme-delta", &delta, 1).await;
    let awarded = app.post(&format!("/api/v1/applications/{delta}/award"), &app.staff(), &json!({})).await;
    assert_eq!(awarded.status, 201, "{}", awarded.text);
    let epsilon = draft(&app, &call, "sme-epsilon", &application(&g, "RCS-EPSILON", "50000")).await;
    let epsilon = epsilon.body["id"].as_str().expect("id").to_string();
    let refused =
        app.post(&format!("/api/v1/applications/{epsilon}/submit"), &sme(&app, "sme-epsilon"), &json!(null)).await;
    assert_problem(&refused, 422, Some("requested_gpu_hours"));
    assert_eq!(refused.body["type"], "/problems/de-minimis-exceeded", "{}", refused.text);
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    for figure in ["EUR 150000.00 more counted", "350000.00", "at most EUR 50000.00 more"] {
        assert!(detail.contains(figure), "{figure} missing from {detail}");
    }
    // Linked through another: Zeta names Eta and Theta as linked and is awarded EUR 100,000;
    // Theta, applying alone, was awarded EUR 150,000. Eta then applies alone for EUR 100,000:
    // Zeta's award joins Eta to Zeta and, through Zeta, to Theta: 100,000 + 150,000 + 100,000.
    let linked = |name: &str, number: &str| {
        json!({"legal_name": name, "registration_number": number, "country": "FR",
        "holding_percent": "60", "figures": {"staff_awu": "5", "turnover": "500000.00", "balance_sheet": "400000.00"}})
    };
    let mut zeta = application(&g, "RCS-ZETA", "50000");
    zeta["related"] = json!([linked("Eta Sensors", "RCS-ETA"), linked("Theta Drives", "RCS-THETA")]);
    for (sme_name, body) in [("sme-zeta", zeta), ("sme-theta", application(&g, "RCS-THETA", "75000"))] {
        let id = reviewed(&app, &call, sme_name, &body, 1).await;
        let awarded = app.post(&format!("/api/v1/applications/{id}/award"), &app.staff(), &json!({})).await;
        assert_eq!(awarded.status, 201, "{}", awarded.text);
    }
    let eta = draft(&app, &call, "sme-eta", &application(&g, "RCS-ETA", "50000")).await;
    let eta = eta.body["id"].as_str().expect("id").to_string();
    let refused = app.post(&format!("/api/v1/applications/{eta}/submit"), &sme(&app, "sme-eta"), &json!(null)).await;
    assert_problem(&refused, 422, Some("requested_gpu_hours"));
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    for figure in ["EUR 150000.00 more counted", "350000.00", "at most EUR 50000.00 more"] {
        assert!(detail.contains(figure), "{figure} missing from {detail}");
    }
    // Zeta links Eta, so Eta reads Zeta's name; Theta is linked to Zeta by Zeta's application
    // alone, and its own names nobody: Eta reads its aid only within the sum.
    assert!(detail.contains("RCS-ZETA") && !detail.contains("RCS-THETA"), "{detail}");
}

/// Facilities have seven days after an award's end to report the usage of its last day: a lapse
/// run within them leaves the award running and such usage counts; a run after them lapses what
/// is left. Here 1,000 h ending 2026-03-31, and 10 h used on its last evening.
async fn usage_of_the_last_day_counts_until_the_award_lapses(app: TestApp) {
    let g = setup(&app, "1000000.00", 100_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let application = reviewed(&app, &call, "sme-last", &application(&g, "RCS-LAST", "1000"), 1).await;
    let award = app.post(&format!("/api/v1/applications/{application}/award"), &app.staff(), &json!({})).await;
    assert_eq!(award.status, 201, "{}", award.text);
    let award_id = award.body["id"].as_str().expect("id").to_string();
    let lapse = |as_of: &str| json!({"as_of": as_of});
    let early = app.post("/api/v1/grants/lapse", &app.staff(), &lapse("2026-04-07")).await;
    assert_eq!(early.body, json!([]), "{}", early.text);
    let last_evening = json!({"records": [{"record_id": "last-evening", "award_id": award_id, "gpu_hours": "10",
        "period_start": "2026-03-31T14:00:00Z", "period_end": "2026-04-01T00:00:00Z"}]});
    let operator = app.token(Role::Facility, &g.facility);
    let counted = app.post("/api/v1/usage", &operator, &last_evening).await;
    assert_eq!(counted.body["new"], 1, "{}", counted.text);
    let lapsed = app.post("/api/v1/grants/lapse", &app.staff(), &lapse("2026-04-08")).await;
    assert_eq!(lapsed.body[0]["lapsed_gpu_hours"], "990.000", "{}", lapsed.text);
    // 10 h x EUR 2.00 x 70% = 14.00 used; the rest of the aid goes back to the pool.
    assert_eq!(cents(&lapsed.body[0]["returned_to_pool"]), cents(&award.body["aid_value"]) - 1_400);
}

async fn award_usage_replay_and_lapse(app: TestApp) {
    let g = setup(&app, "1000000.00", 100_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 2).await;
    let app_id = reviewed(&app, &call, "sme-1", &application(&g, "RCS-1", "10000"), 1).await;
    // One review is not enough for this call.
    let early = app.post(&format!("/api/v1/applications/{app_id}/award"), &app.staff(), &json!({})).await;
    assert_problem(&early, 422, Some("gpu_hours"));
    assert_eq!(early.body["type"], "/problems/too-few-reviews");
    let token = app.token(Role::Staff, "reviewer-b");
    let body = json!({"score": 40, "comment": "Thin data plan."});
    assert_eq!(app.post(&format!("/api/v1/applications/{app_id}/reviews"), &token, &body).await.status, 201);
    let again = app.post(&format!("/api/v1/applications/{app_id}/reviews"), &token, &body).await;
    assert_problem(&again, 409, None);
    // Staff adjust hours down: 8,000 h x EUR 2.00 x 70% = EUR 11,200.
    let above = app
        .post(&format!("/api/v1/applications/{app_id}/award"), &app.staff(), &json!({"gpu_hours": "10000.001"}))
        .await;
    assert_problem(&above, 422, Some("gpu_hours"));
    let award =
        app.post(&format!("/api/v1/applications/{app_id}/award"), &app.staff(), &json!({"gpu_hours": "8000"})).await;
    assert_eq!(award.status, 201, "{}", award.text);
    let award_id = award.body["id"].as_str().expect("id").to_string();
    assert_eq!(award.body["aid_value"], "11200.00");
    assert_eq!(award.body["price_per_gpu_hour"], "2.00");
    assert_eq!(award.body["intensity_percent"], "70");
    assert_eq!(award.body["status"], "active", "the period began in the past");
    assert_eq!(balance(&app, &g.fund, "1030").await, 1_120_000);
    let capacity =
        app.get(&format!("/api/v1/facilities/{}/capacity?from=2026-Q1&to=2026-Q2", g.facility), &app.staff()).await;
    assert_eq!(capacity.body["quarters"][0]["reserved_gpu_hours"], "8000.000", "{}", capacity.text);
    assert_eq!(capacity.body["quarters"][0]["free_gpu_hours"], "92000.000");
    assert_eq!(capacity.body["quarters"][1]["reserved_gpu_hours"], "0.000");

    // The second facility's operator cannot report against this award; records above the award,
    // outside its period, or malformed are refused one by one, and the rest count.
    let operator = app.token(Role::Facility, &g.facility);
    let stranger = app.token(Role::Facility, &g.other_facility);
    let foreign = app.post("/api/v1/usage", &stranger, &json!({"records": [usage("x-1", &award_id, "1", 2)]})).await;
    assert_eq!(foreign.status, 200, "{}", foreign.text);
    assert_eq!(foreign.body["refusals"][0]["code"], "not-this-facility");
    let mut outside = usage("r-outside", &award_id, "1", 3);
    outside["period_end"] = json!("2026-04-01T00:00:01Z");
    let batch = json!({"records": [
        usage("r-1", &award_id, "1000.333", 2), usage("r-2", &award_id, "3000", 3), outside,
        usage("r-3", &award_id, "4000", 4), usage("r-4", &award_id, "2999.75", 5), usage("r-1", &award_id, "1000.333", 2),
    ]});
    let first = app.post("/api/v1/usage", &operator, &batch).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["new"], 3, "{}", first.text);
    assert_eq!(first.body["replayed"], 1);
    assert_eq!(first.body["refused"], 2);
    assert_eq!(first.body["refusals"][0]["code"], "outside-award-period");
    assert_eq!(first.body["refusals"][1]["code"], "above-award-hours");
    assert_eq!(first.body["refusals"][1]["index"], 3);
    assert!(
        first.body["refusals"][1]["reason"].as_str().unwrap_or_default().contains("3999.667 remain"),
        "{}",
        first.text
    );
    // 7,000.083 h used: 7,000.083 x EUR 2.00 x 70% = EUR 9,800.1162, posted as 9,800.11.
    assert_eq!(first.body["awards"][0]["gpu_hours"], "7000.083");
    assert_eq!(first.body["awards"][0]["subsidy"], "9800.11");
    assert_eq!(first.body["awards"][0]["remaining_gpu_hours"], "999.917");
    let entries = entry_count(&app).await;

    // The same batch again changes nothing and answers the original result.
    let replay = app.post("/api/v1/usage", &operator, &batch).await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.body["new"], 0);
    assert_eq!(replay.body["replayed"], 4, "{}", replay.text);
    assert_eq!(replay.body["awards"].as_array().map(Vec::len), Some(0));
    assert_eq!(entry_count(&app).await, entries);
    let state = app.get(&format!("/api/v1/awards/{award_id}"), &operator).await;
    assert_eq!(state.body["used_gpu_hours"], "7000.083", "{}", state.text);
    assert_eq!(state.body["subsidy_used"], "9800.11");
    assert_eq!(state.body["subsidy_remaining"], "1399.89");
    // The same record id with other content is refused, not counted twice.
    let conflict = app.post("/api/v1/usage", &operator, &json!({"records": [usage("r-1", &award_id, "2", 2)]})).await;
    assert_eq!(conflict.body["refusals"][0]["code"], "record-id-conflict", "{}", conflict.text);
    // Each record is traceable to the entry that posted it.
    let records = app.get(&format!("/api/v1/awards/{award_id}/usage"), &app.auditor()).await;
    let items = records.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    let subsidies: i64 = items.iter().map(|r| cents(&r["subsidy"])).sum();
    assert_eq!(subsidies, 980_011);
    let first_record = items.iter().find(|r| r["record_id"] == "r-1").expect("r-1");
    assert_eq!(first_record["subsidy"], "1400.46", "floor(1,000.333 x 1.40)");
    assert!(items.iter().all(|r| r["entry_id"] == first.body["awards"][0]["entry_id"]));
    assert_eq!(balance(&app, &g.fund, "5200").await, 980_011);
    assert_eq!(balance(&app, &g.fund, "2200").await, -980_011);
    // Oversized and empty batches are refused whole.
    assert_problem(&app.post("/api/v1/usage", &operator, &json!({"records": []})).await, 400, Some("records"));
    assert_problem(&app.post("/api/v1/usage", &app.staff(), &batch).await, 403, None);

    // Facilities have seven days after the end to report the period's last usage: a run on
    // 2026-04-07 leaves the award running.
    let early = app.post("/api/v1/grants/lapse", &app.staff(), &json!({"as_of": "2026-04-07"})).await;
    assert_eq!(early.body, json!([]), "{}", early.text);
    let state = app.get(&format!("/api/v1/awards/{award_id}"), &operator).await;
    assert_eq!(state.body["status"], "active", "{}", state.text);
    // The award ended on 2026-03-31: the lapse returns exactly the unused EUR 1,399.89.
    let pool_before = balance(&app, &g.fund, "1010").await;
    let lapsed = app.post("/api/v1/grants/lapse", &app.staff(), &json!({})).await;
    assert_eq!(lapsed.status, 200, "{}", lapsed.text);
    assert_eq!(lapsed.body[0]["status"], "expired", "{}", lapsed.text);
    assert_eq!(lapsed.body[0]["lapsed_gpu_hours"], "999.917");
    assert_eq!(lapsed.body[0]["returned_to_pool"], "1399.89");
    assert_eq!(balance(&app, &g.fund, "1010").await, pool_before + 139_989);
    assert_eq!(balance(&app, &g.fund, "1030").await, 0, "nothing left committed to the award");
    let lapse_entry = lapsed.body[0]["entry_id"].as_str().expect("entry");
    let entry = app.get(&format!("/api/v1/ledger/entries/{lapse_entry}"), &app.auditor()).await;
    // The day after the period (2026-04-01), but not before the award was made (today): the
    // pool's money was committed to the award only then.
    let award = app
        .get(&format!("/api/v1/awards/{}", lapsed.body[0]["award_id"].as_str().expect("award")), &app.auditor())
        .await;
    let expected = award.body["award_date"].as_str().expect("award date").max("2026-04-01");
    assert_eq!(entry.body["effective_date"], expected, "{}", entry.text);
    let twice = app.post("/api/v1/grants/lapse", &app.staff(), &json!({})).await;
    assert_eq!(twice.body, json!([]), "a second run changes nothing");
    // The database keeps the lapse as written: the award cannot be made to lapse again.
    for change in ["status = 'awarded'", "lapsed_milli_hours = 0", "returned_cents = 0"] {
        let refused = app.sql(&format!("UPDATE grant_awards SET {change}"));
        assert!(refused.as_ref().is_err_and(|e| e.contains("keeps its lapse")), "{change}: {refused:?}");
    }
    let cli = investai(&app.database_url).args(["grants", "lapse"]).output().expect("run grants lapse");
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    assert!(
        String::from_utf8_lossy(&cli.stdout).contains("0 award(s) ended"),
        "{}",
        String::from_utf8_lossy(&cli.stdout)
    );
    let future = investai(&app.database_url).args(["grants", "lapse", "--as-of", "2999-01-01"]).output().expect("run");
    assert!(!future.status.success(), "a lapse in the future is refused");
    let signed = investai(&app.database_url).args(["grants", "lapse", "--as-of=-0001-01-01"]).output().expect("run");
    let said = String::from_utf8_lossy(&signed.stderr);
    assert!(!signed.status.success() && said.contains("YYYY-MM-DD"), "a date is written YYYY-MM-DD: {said}");
    let late = app.post("/api/v1/usage", &operator, &json!({"records": [usage("r-9", &award_id, "1", 6)]})).await;
    assert_eq!(late.body["refusals"][0]["code"], "award-not-running");
    let ended = app.get(&format!("/api/v1/awards/{award_id}"), &sme(&app, "sme-1")).await;
    assert_eq!(ended.body["status"], "expired");
    assert_eq!(ended.body["remaining_gpu_hours"], "0.000");
    let grants_of_sme_1 = format!("/api/v1/smes/{}/grants", common::party_id("sme-1"));
    let mine = app.get(&grants_of_sme_1, &sme(&app, "sme-1")).await;
    assert_eq!(mine.body["used_gpu_hours"], "7000.083", "{}", mine.text);
    assert_problem(&app.get(&grants_of_sme_1, &sme(&app, "sme-2")).await, 404, None);
    assert_problem(&app.get("/api/v1/smes/null,null/grants", &app.auditor()).await, 400, Some("sme_id"));
    let summary = app.get(&format!("/api/v1/grant-calls/{call}"), &app.auditor()).await;
    assert_eq!(summary.body["returned_to_pool"], "1399.89", "{}", summary.text);
    // With one award, the call's figures are one SME's and one facility's: theirs to read in
    // their own views, not in the call's.
    for party in [sme(&app, "sme-1"), app.token(Role::Facility, &g.facility), app.token(Role::Investor, "investor-1")] {
        assert_problem(&app.get(&format!("/api/v1/grant-calls/{call}"), &party).await, 403, None);
    }
    assert_eq!(summary.body["applications"]["expired"], 1);
    let trial = app.get(&format!("/api/v1/funds/{}/trial-balance?as_of={LATER}", g.fund), &app.auditor()).await;
    assert_eq!(trial.body["total_debit"], trial.body["total_credit"], "{}", trial.text);
    // The pool was filled by a manual entry: all of it is unattributed, and its life is traced
    // to the cent (1,000,000.00 in; 100,000.00 to the call; 11,200.00 awarded; 9,800.11 used
    // for 7,000.083 h; 1,399.89 and 999.917 h back at the lapse).
    let traced = app.get(&format!("/api/v1/funds/{}/grant-attribution", g.fund), &app.auditor()).await;
    assert_eq!(traced.status, 200, "{}", traced.text);
    let totals = &traced.body["totals"];
    for (figure, expected) in [
        ("topped_up", "1000000.00"),
        ("committed_to_calls", "100000.00"),
        ("awarded", "11200.00"),
        ("used", "9800.11"),
        ("returned", "1399.89"),
        ("gpu_hours_used", "7000.083"),
        ("gpu_hours_lapsed", "999.917"),
        ("in_calls", "88800.00"),
        ("in_awards", "0.00"),
    ] {
        assert_eq!(totals[figure], expected, "{figure}: {}", traced.text);
    }
    assert_eq!(cents(&totals["in_pool"]), balance(&app, &g.fund, "1010").await);
    assert_eq!(traced.body["by_programme_and_member_state"][0]["programme"], "unattributed");
    entry_count(&app).await;
    let verify = investai(&app.database_url).arg("verify").output().expect("run verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

async fn fifty_concurrent_awards_against_a_budget_for_ten(app: TestApp) {
    let g = setup(&app, "1000000.00", 100_000_000).await;
    // Each award: 1,000 h x EUR 2.00 x 70% = EUR 1,400; the budget fits exactly ten.
    let call = open_call(&app, &g, "14000.00", "industrial_research", "1000", 1).await;
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(reviewed(&app, &call, &format!("sme-{n}"), &application(&g, &format!("RCS-{n}"), "1000"), 1).await);
    }
    let replies = futures_util::future::join_all(ids.iter().map(|id| award(&app, id, json!({})))).await;
    let won = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(won, 10, "{:?}", replies.iter().map(|r| (r.status, r.text.clone())).collect::<Vec<_>>());
    for refused in replies.iter().filter(|r| r.status != 201) {
        assert_problem(refused, 422, Some("gpu_hours"));
        assert_eq!(refused.body["type"], "/problems/budget-exhausted", "{}", refused.text);
    }
    let summary = app.get(&format!("/api/v1/grant-calls/{call}"), &app.staff()).await;
    assert_eq!(summary.body["call"]["committed"], "14000.00", "{}", summary.text);
    assert_eq!(summary.body["call"]["remaining"], "0.00");
    assert_eq!(summary.body["awards"], 10);
    assert_eq!(balance(&app, &g.fund, "1020").await, 0, "the call's budget is fully committed, never overdrawn");
    assert_eq!(balance(&app, &g.fund, "1030").await, 1_400_000);
    assert_eq!(balance(&app, &g.fund, "1010").await, 100_000_000 - 1_400_000);
    assert_eq!(entry_count(&app).await, 12);
}

async fn two_awards_race_for_the_last_hours_of_a_quarter(app: TestApp) {
    // 1,000 GPU-hours a quarter; two awards of 600 in the same quarter: one fits.
    let g = setup(&app, "1000000.00", 1_000).await;
    let call = open_call(&app, &g, "100000.00", "experimental_development", "1000", 1).await;
    let mut body = application(&g, "RCS-A", "600");
    body["start_date"] = json!("2026-04-01");
    body["end_date"] = json!("2026-06-30");
    let a = reviewed(&app, &call, "sme-a", &body, 1).await;
    body["company"]["registration_number"] = json!("RCS-B");
    let b = reviewed(&app, &call, "sme-b", &body, 1).await;
    let staff = app.staff();
    let (first, second) = futures_util::join!(award(&app, &a, json!({})), award(&app, &b, json!({})));
    let statuses = [first.status, second.status];
    assert!(statuses.contains(&201) && statuses.contains(&422), "{} / {}", first.text, second.text);
    let loser = if first.status == 422 { &first } else { &second };
    assert_eq!(loser.body["type"], "/problems/capacity-exhausted", "{}", loser.text);
    assert!(loser.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("2026-Q2: the facility has 400.000 GPU-hours free"));
    let capacity =
        app.get(&format!("/api/v1/facilities/{}/capacity?from=2026-Q2&to=2026-Q2", g.facility), &staff).await;
    assert_eq!(capacity.body["quarters"][0]["reserved_gpu_hours"], "600.000", "{}", capacity.text);
}

async fn register_is_public_and_parties_see_only_their_own(app: TestApp) {
    let g = setup(&app, "2000000.00", 10_000_000).await;
    let call = open_call(&app, &g, "1000000.00", "industrial_research", "200000", 1).await;
    // 80,000 h x EUR 2.00 x 70% = EUR 112,000 (published); 100 h = EUR 140 (not).
    let big = reviewed(&app, &call, "sme-big", &application(&g, "RCS-BIG", "80000"), 1).await;
    let small = reviewed(&app, &call, "sme-small", &application(&g, "RCS-SMALL", "100"), 1).await;
    for id in [&big, &small] {
        let reply = app.post(&format!("/api/v1/applications/{id}/award"), &app.staff(), &json!({})).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let register = app.send(app.client.get(format!("{}/api/v1/grants/register", app.address))).await;
    assert_eq!(register.status, 200, "{}", register.text);
    let entries = register.body["items"].as_array().expect("list");
    assert_eq!(entries.len(), 1, "{}", register.text);
    assert_eq!(entries[0]["aid_element_eur"], "112000.00");
    assert_eq!(entries[0]["beneficiary_name"], "Mistral Robotics RCS-BIG");
    assert_eq!(entries[0]["facility"], "LUMI-AI");
    assert!(entries[0].get("sme_id").is_none(), "no internal ids in the public register");

    let award = app.get(&format!("/api/v1/awards?sme_id={}", common::party_id("sme-big")), &app.auditor()).await;
    let award_id = award.body["items"][0]["id"].as_str().expect("id").to_string();
    assert_problem(&app.get(&format!("/api/v1/awards/{award_id}"), &sme(&app, "sme-small")).await, 404, None);
    assert_problem(
        &app.get(&format!("/api/v1/awards/{award_id}"), &app.token(Role::Facility, &g.other_facility)).await,
        404,
        None,
    );
    assert_eq!(
        app.get(&format!("/api/v1/awards/{award_id}"), &app.token(Role::Facility, &g.facility)).await.status,
        200
    );
    let theirs = app.get("/api/v1/awards", &app.token(Role::Facility, &g.other_facility)).await;
    assert_eq!(theirs.body["items"], json!([]));
    let mine = app.get("/api/v1/awards", &sme(&app, "sme-small")).await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
    let capacity = app
        .get(&format!("/api/v1/facilities/{}/capacity", g.facility), &app.token(Role::Facility, &g.other_facility))
        .await;
    assert_problem(&capacity, 404, None);
    let hidden = app.get(&format!("/api/v1/applications/{big}"), &sme(&app, "sme-small")).await;
    assert_problem(&hidden, 404, None);
    let own = app.get(&format!("/api/v1/applications/{big}"), &sme(&app, "sme-big")).await;
    assert_eq!(own.body["reviews"], json!([]), "reviewers' comments stay internal");
    let staff_view = app.get(&format!("/api/v1/applications/{big}"), &app.staff()).await;
    assert_eq!(staff_view.body["reviews"].as_array().map(Vec::len), Some(1));
    assert_problem(
        &app.post(&format!("/api/v1/grant-calls/{call}/applications"), &app.staff(), &application(&g, "X", "1")).await,
        403,
        None,
    );
    assert_problem(&app.get("/api/v1/awards", &app.token(Role::Investor, "someone")).await, 403, None);
}

async fn a_usage_batch_above_its_record_limit_is_refused(app: TestApp) {
    let record = |n: usize| {
        json!({"record_id": format!("r{n}"), "award_id": uuid::Uuid::now_v7().to_string(), "gpu_hours": "0.001",
            "period_start": "2026-01-01T00:00:00Z", "period_end": "2026-01-01T01:00:00Z"})
    };
    let records: Vec<Value> = (0..=investai::domain::usage::USAGE_BATCH_RECORDS_MAX).map(record).collect();
    let facility = app.token(Role::Facility, "fac-limits");
    let reply = app.post("/api/v1/usage", &facility, &json!({ "records": records })).await;
    assert_problem(&reply, 400, Some("records"));
}

/// An award keeps the list price in force on its date (docs/grants.md), so a price version that
/// would take effect on or before the facility's latest award is refused: read back, the price in
/// force on the award date would no longer be the one the award kept.
async fn a_price_takes_effect_after_the_facilitys_latest_award(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let id = reviewed(&app, &call, "sme-price", &application(&g, "RCS-P", "1000"), 1).await;
    let awarded = award(&app, &id, json!({})).await;
    assert_eq!(awarded.status, 201, "{}", awarded.text);
    let award_date = awarded.body["award_date"].as_str().expect("award date").to_string();
    let today = chrono::NaiveDate::parse_from_str(&award_date, "%Y-%m-%d").expect("a date");
    let prices = format!("/api/v1/facilities/{}/prices", g.facility);
    for date in [today - Duration::days(40), today] {
        let body = json!({"effective_date": date.to_string(), "price_per_gpu_hour": "2.50"});
        let refused = app.post(&prices, &app.staff(), &body).await;
        assert_problem(&refused, 422, Some("effective_date"));
        assert_eq!(refused.body["type"], "/problems/price-before-award", "{}", refused.text);
        assert!(refused.body["detail"].as_str().unwrap_or_default().contains(&award_date), "{}", refused.text);
    }
    // The staff page's preview refuses it too, before it offers to set the price.
    let staff = app.browser_as("price-staff", Role::Staff, None).await;
    let page = format!("/facilities/{}/prices", g.facility);
    let fields = [("effective_date", award_date.as_str()), ("price_per_gpu_hour", "2.50"), ("intent", "default")];
    let preview = common::pages::post_form(&staff, &app, &page, &page, &fields).await;
    assert_eq!(preview.status, 422, "{}", preview.text);
    assert!(preview.text.contains("keeps the price then in force"), "{}", preview.text);
    assert!(!preview.text.contains("value=\"execute\""), "no Set price under a refusal: {}", preview.text);
    let in_force =
        app.get(&format!("/api/v1/facilities/{}/price?as_of={award_date}", g.facility), &app.auditor()).await;
    assert_eq!(in_force.body["price_per_gpu_hour"], "2.00", "{}", in_force.text);
    let tomorrow = json!({"effective_date": (today + Duration::days(1)).to_string(), "price_per_gpu_hour": "2.50"});
    let reply = app.post(&prices, &app.staff(), &tomorrow).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    // Another facility's awards do not hold this one's prices back.
    let other = json!({"effective_date": today.to_string(), "price_per_gpu_hour": "3.50"});
    let reply = app.post(&format!("/api/v1/facilities/{}/prices", g.other_facility), &app.staff(), &other).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

/// Usage is measured, so a record reports a period that has ended: one that ends after its
/// batch arrives, by more than the clock difference allowed (five minutes), is refused one by one
/// (`period-not-ended`) and debits nothing; the rest of the batch is counted.
async fn usage_reports_only_periods_that_have_ended(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let today = Utc::now().date_naive();
    let mut body = application(&g, "RCS-NOW", "1000");
    body["start_date"] = json!((today - Duration::days(30)).to_string());
    body["end_date"] = json!((today + Duration::days(30)).to_string());
    let id = reviewed(&app, &call, "sme-now", &body, 1).await;
    let award_id = award(&app, &id, json!({})).await.body["id"].as_str().expect("award id").to_string();
    let now = Utc::now();
    let record = |id: &str, start: Duration, end: Duration| {
        json!({"record_id": id, "award_id": award_id, "gpu_hours": "1",
            "period_start": (now + start).to_rfc3339(), "period_end": (now + end).to_rfc3339()})
    };
    let batch = json!({"records": [
        record("ended", Duration::hours(-2), Duration::hours(-1)),
        record("within-clock-difference", Duration::hours(-2), Duration::seconds(60)),
        record("running", Duration::hours(-1), Duration::hours(1)),
        record("tomorrow", Duration::days(1), Duration::days(1) + Duration::hours(1)),
    ]});
    let reply = app.post("/api/v1/usage", &app.token(Role::Facility, &g.facility), &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!((reply.body["accepted"].as_i64(), reply.body["refused"].as_i64()), (Some(2), Some(2)), "{}", reply.text);
    let refused: Vec<(&str, &str)> = reply.body["refusals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["record_id"].as_str().unwrap_or_default(), r["code"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(refused, [("running", "period-not-ended"), ("tomorrow", "period-not-ended")], "{}", reply.text);
    let kept = app.get(&format!("/api/v1/awards/{award_id}"), &app.staff()).await;
    assert_eq!(kept.body["used_gpu_hours"], "2.000", "{}", kept.text);
}

/// A record claims no more GPU-hours than its period holds on the facility's GPUs: 500 h in one
/// second was paid before.
async fn implausible_usage_is_refused_record_by_record(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let id = reviewed(&app, &call, "sme-usage", &application(&g, "RCS-U", "10000"), 1).await;
    let award_id = award(&app, &id, json!({})).await.body["id"].as_str().expect("award id").to_string();
    let period = |record: &str, hours: &str, start: &str, end: &str| json!({"record_id": record, "award_id": award_id, "gpu_hours": hours, "period_start": start, "period_end": end});
    // The facility has 1,000 chips and, by default, one record may cover all of them.
    let batch = json!({"records": [
        period("one-second", "500", "2026-02-02T08:00:00Z", "2026-02-02T08:00:01Z"),
        period("empty", "1", "2026-02-02T08:00:00Z", "2026-02-02T08:00:00Z"),
        period("full-hour", "1000", "2026-02-03T08:00:00Z", "2026-02-03T09:00:00Z"),
        period("above-full-hour", "1000.001", "2026-02-04T08:00:00Z", "2026-02-04T09:00:00Z"),
    ]});
    let reply = app.post("/api/v1/usage", &app.token(Role::Facility, &g.facility), &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let refusals: Vec<(u64, &str)> = reply.body["refusals"]
        .as_array()
        .expect("refusals")
        .iter()
        .map(|r| (r["index"].as_u64().unwrap_or(99), r["code"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(refusals, [(0, "implausible-hours"), (1, "invalid-period"), (3, "implausible-hours")], "{}", reply.text);
    let reason = reply.body["refusals"][0]["reason"].as_str().unwrap_or_default();
    assert_eq!(reason, "500.000 GPU-hours do not fit in the period: at most 1000 GPUs for 1 s");
    // Only the full hour is paid: 1,000 h x EUR 2.00 x 70% = EUR 1,400.00.
    assert_eq!(reply.body["awards"][0]["subsidy"], "1400.00", "{}", reply.text);
    assert_eq!(balance(&app, &g.fund, "1030").await, 1_400_000 - 140_000, "the award's aid less what was used");

    // The limit is set per facility, from 1 to its chips, and shown with it.
    let narrow = |max: i64| {
        json!({"name": format!("Narrow {max}"), "kind": "ai_factory", "member_state": "FI", "chip_count": 1000,
            "chip_type": "H100", "quarterly_capacity_gpu_hours": 100000, "gpus_per_record_max": max})
    };
    assert_problem(
        &app.post("/api/v1/facilities", &app.staff(), &narrow(1001)).await,
        400,
        Some("gpus_per_record_max"),
    );
    assert_problem(&app.post("/api/v1/facilities", &app.staff(), &narrow(0)).await, 400, Some("gpus_per_record_max"));
    let eight = app.post("/api/v1/facilities", &app.staff(), &narrow(8)).await;
    assert_eq!(eight.status, 201, "{}", eight.text);
    assert_eq!(eight.body["gpus_per_record_max"], 8);
}

/// The database itself keeps a usage record to an award at its own facility and to a stored
/// entry, and keeps records and awards from being edited away (docs/scaling.md, "Usage at COPY
/// speed"): what someone with direct database access, or a defect, would otherwise get in.
async fn the_database_keeps_usage_records_to_their_award_facility_and_entry(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let id = reviewed(&app, &call, "sme-keys", &application(&g, "RCS-K", "10000"), 1).await;
    let award_id = award(&app, &id, json!({})).await.body["id"].as_str().expect("award id").to_string();
    let reply = app
        .post(
            "/api/v1/usage",
            &app.token(Role::Facility, &g.facility),
            &json!({"records": [usage("kept", &award_id, "10", 2)]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let entry = reply.body["awards"][0]["entry_id"].as_str().expect("entry id").to_string();
    let insert = |record: &str, facility: &str, award: &str, entry: &str| {
        format!(
            "INSERT INTO usage_records (facility_id, record_id, award_id, milli_hours, period_start_us, \
             period_end_us, subsidy_cents, entry_id, received_at_us) \
             VALUES ('{facility}', '{record}', '{award}', 1000, 0, 3600000000, 140, {entry}, 0)"
        )
    };
    let stored = format!("'{entry}'");
    // A row naming what is stored, at its own facility, goes in; the checks refuse nothing else.
    app.sql(&insert("direct-ok", &g.facility, &award_id, &stored)).expect("a record naming stored rows");
    app.sql(&insert("direct-no-entry", &g.facility, &award_id, "NULL")).expect("a record with no entry yet");
    // Each refusal must come from the rule that forbids it, not from some other error: the
    // award's facility check, SQLite's own foreign key for the entry, or an append-only guard.
    let award_elsewhere = "not one of its facility's";
    let no_entry = match app.backend {
        common::Backend::Sqlite => "FOREIGN KEY constraint failed",
        common::Backend::Postgres => "journal entry that is not stored",
    };
    for (record, facility, award, entry, why, rule) in [
        (
            "other-facility",
            g.other_facility.as_str(),
            award_id.as_str(),
            stored.as_str(),
            "another facility's award",
            award_elsewhere,
        ),
        (
            "no-award",
            g.facility.as_str(),
            "no-such-award",
            stored.as_str(),
            "an award that is not stored",
            award_elsewhere,
        ),
        (
            "no-facility",
            "no-such-facility",
            award_id.as_str(),
            stored.as_str(),
            "a facility that is not stored",
            award_elsewhere,
        ),
        (
            "no-entry",
            g.facility.as_str(),
            award_id.as_str(),
            "'no-such-entry'",
            "an entry that is not stored",
            no_entry,
        ),
    ] {
        let refused = app.sql(&insert(record, facility, award, entry));
        assert!(refused.as_ref().is_err_and(|e| e.contains(rule)), "a usage record naming {why}: {refused:?}");
    }
    // The service writes records with binary COPY on PostgreSQL: its rows are checked too.
    if matches!(app.backend, common::Backend::Postgres) {
        copy_record(&app, "copied-ok", &g.facility, &award_id).expect("a copied record naming stored rows");
        let refused = copy_record(&app, "copied-foreign", &g.other_facility, &award_id);
        assert!(refused.as_ref().is_err_and(|e| e.contains(award_elsewhere)), "a copied record: {refused:?}");
    }
    let deleted_award = format!("DELETE FROM grant_awards WHERE id = '{award_id}'");
    let moved_award = format!("UPDATE grant_awards SET facility_id = '{}' WHERE id = '{award_id}'", g.other_facility);
    for (statement, what, rule) in [
        ("UPDATE usage_records SET milli_hours = 1", "a usage record edited", "usage_records is append-only"),
        ("DELETE FROM usage_records", "usage records deleted", "usage_records is append-only"),
        ("UPDATE entry_usage SET milli_hours = 1", "an entry's usage edited", "entry_usage is append-only"),
        ("DELETE FROM entry_usage", "an entry's usage deleted", "entry_usage is append-only"),
        (deleted_award.as_str(), "an award deleted", "a row of grant_awards is never deleted"),
        (moved_award.as_str(), "an award moved", "keeps its id and facility"),
        (
            "UPDATE grant_awards SET aid_value_cents = aid_value_cents + 100",
            "an award's aid value edited",
            "keeps what it was granted with",
        ),
        (
            "UPDATE grant_awards SET legal_name = 'Someone else'",
            "an award's beneficiary renamed",
            "keeps what it was granted with",
        ),
        ("UPDATE grant_awards SET award_date = '2020-01-01'", "an award back-dated", "keeps what it was granted with"),
        (
            "UPDATE grant_awards SET aid_basis = 'de_minimis'",
            "an award's basis changed",
            "keeps what it was granted with",
        ),
        ("UPDATE grant_awards SET used_milli_hours = 0", "an award's use taken back", "use only grows"),
        ("UPDATE grant_awards SET subsidy_used_cents = 0", "an award's subsidy taken back", "use only grows"),
    ] {
        let refused = app.sql(statement);
        assert!(refused.as_ref().is_err_and(|e| e.contains(rule)), "{what}: {refused:?}");
    }
    let kept = app.get(&format!("/api/v1/awards/{award_id}"), &app.staff()).await;
    assert_eq!(kept.body["used_gpu_hours"], "10.000", "{}", kept.text);
}

/// An award's use by day, which its burn-down reads, is what each batch adds in its own
/// transaction (docs/scaling.md, "Reads that stay flat"): equal to its stored records summed here
/// and to the hours sent, refusals left out.
async fn an_awards_use_by_day_is_kept_with_each_batch(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let id = reviewed(&app, &call, "sme-days", &application(&g, "RCS-D", "10000"), 1).await;
    let award_id = award(&app, &id, json!({})).await.body["id"].as_str().expect("award id").to_string();
    let facility = app.token(Role::Facility, &g.facility);
    let first = json!({"records": [usage("d-1", &award_id, "10", 2), usage("d-2", &award_id, "2.5", 2),
        usage("d-3", &award_id, "7.125", 5)]});
    // The second batch adds to a day the first used, opens another, and has a refusal.
    let mut empty = usage("d-empty", &award_id, "1", 9);
    empty["period_end"] = empty["period_start"].clone();
    let second = json!({"records": [usage("d-4", &award_id, "0.375", 2), usage("d-5", &award_id, "4", 9), empty]});
    for batch in [first, second] {
        let reply = app.post("/api/v1/usage", &facility, &batch).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let kept = day_usage_kept(&app, &award_id);
    assert_eq!(kept, day_usage_of_records(&app, &award_id), "the sums kept are the records summed");
    let hours: Vec<(i64, i64)> = kept.iter().map(|&(day, milli, _)| (day, milli)).collect();
    // 2026-02-02 is day 20,486 since 1970-01-01.
    assert_eq!(hours, [(20_486, 12_875), (20_489, 7_125), (20_493, 4_000)], "hours sent, the refusal left out");
    assert!(kept.iter().all(|&(_, _, cents)| cents > 0), "{kept:?}");
}

/// A facility's quarterly statement reads each award's use in the quarter, kept with each batch
/// (docs/scaling.md, "Reads that stay flat"); `investai verify` sums the records again and names
/// every kept sum that a record written past the service leaves behind.
async fn a_facilitys_statement_is_kept_with_each_batch_and_verified(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let mut body = application(&g, "RCS-Q", "10000");
    body["end_date"] = json!("2026-06-30");
    let id = reviewed(&app, &call, "sme-quarters", &body, 1).await;
    let award_id = award(&app, &id, json!({})).await.body["id"].as_str().expect("award id").to_string();
    // The second record starts in Q1 and ends in Q2: it counts in Q1, as capacity counts it.
    let across = json!({"record_id": "q-2", "award_id": award_id, "gpu_hours": "2",
        "period_start": "2026-03-31T23:00:00Z", "period_end": "2026-04-01T01:00:00Z"});
    let mut may = usage("q-3", &award_id, "3.5", 5);
    for field in ["period_start", "period_end"] {
        may[field] = json!(may[field].as_str().expect("time").replace("2026-02", "2026-05"));
    }
    let mut outside = usage("q-out", &award_id, "1", 5);
    outside["period_start"] = json!("2026-07-01T08:00:00Z");
    outside["period_end"] = json!("2026-07-01T09:00:00Z");
    let batch = json!({"records": [usage("q-1", &award_id, "10", 2), across, may, outside]});
    let reply = app.post("/api/v1/usage", &app.token(Role::Facility, &g.facility), &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!((reply.body["accepted"].as_i64(), reply.body["refused"].as_i64()), (Some(3), Some(1)), "{}", reply.text);
    let records = app.get(&format!("/api/v1/awards/{award_id}/usage?limit=200"), &app.staff()).await;
    let aid = |ids: &[&str]| -> i64 {
        let items = records.body["items"].as_array().expect("items");
        let of = |r: &&Value| ids.contains(&r["record_id"].as_str().unwrap_or_default());
        items.iter().filter(of).map(|r| cents(&r["subsidy"])).sum()
    };
    let operator = app.token(Role::Facility, &g.facility);
    let path = |quarter: &str| format!("/api/v1/facilities/{}/statements/{quarter}", g.facility);
    let expect_lines = |reply: &Reply, records: i64, hours: &str, subsidy: i64| {
        assert_eq!(reply.status, 200, "{}", reply.text);
        let line = &reply.body["lines"][0];
        assert_eq!((line["award_id"].as_str(), line["records"].as_i64()), (Some(award_id.as_str()), Some(records)));
        assert_eq!((line["gpu_hours"].as_str(), cents(&line["subsidy"])), (Some(hours), subsidy), "{}", reply.text);
        assert_eq!(cents(&reply.body["payable"]), subsidy, "{}", reply.text);
    };
    let (q1, q2) = (aid(&["q-1", "q-2"]), aid(&["q-3"]));
    assert!(q1 > 0 && q2 > 0, "{}", records.text);
    expect_lines(&app.get(&path("2026-Q1"), &operator).await, 2, "12.000", q1);
    expect_lines(&app.get(&path("2026-Q2"), &operator).await, 1, "3.500", q2);
    let verify = || investai(&app.database_url).arg("verify").output().expect("run verify");
    let good = verify();
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("usage sums verified"));

    // The migrations' fills, run again on emptied tables, find the same sums. What an entry
    // posted is never changed or deleted, so its fill runs with that guard's migration undone,
    // as it ran before the guard existed.
    app.refill_as_migrated("2026-12-06-000001_award_quarter_usage", "award_quarter_usage");
    app.run_migration(ENTRY_USAGE_GUARD, "down");
    app.refill_as_migrated("2026-12-06-000002_entry_usage", "entry_usage");
    app.run_migration(ENTRY_USAGE_GUARD, "up");
    let again = verify();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    expect_lines(&app.get(&path("2026-Q1"), &operator).await, 2, "12.000", q1);

    // A record written past the service: in the records, in none of the sums; and usage added
    // to the sums of an entry that posted none.
    let entry = reply.body["awards"][0]["entry_id"].as_str().expect("entry id");
    app.sql(&format!(
        "INSERT INTO entry_usage (entry_id, award_id, records, milli_hours, subsidy_cents) \
         SELECT id, '{award_id}', 1, 1, 1 FROM journal_entries WHERE id <> '{entry}' ORDER BY id LIMIT 1"
    ))
    .expect("usage added to another entry");
    let started = chrono::NaiveDate::from_ymd_opt(2026, 2, 10).and_then(|d| d.and_hms_opt(8, 0, 0)).expect("time");
    let started = started.and_utc().timestamp_micros();
    app.sql(&format!(
        "INSERT INTO usage_records (facility_id, record_id, award_id, milli_hours, period_start_us, period_end_us, \
         subsidy_cents, entry_id, received_at_us) VALUES ('{}', 'past-service', '{award_id}', 1000, {started}, {}, 140, \
         NULL, 0)",
        g.facility,
        started + 3_600_000_000
    ))
    .expect("a record naming stored rows");
    let bad = verify();
    assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stdout));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    for kept in [
        format!("facility_quarter_usage, facility {}, 2026-Q1: kept 0/12000/0", g.facility),
        format!(
            "award_quarter_usage, facility {}, 2026-Q1, award {award_id}: kept 2/12000/{q1} records/milli-GPU-hours/aid \
             cents, the usage records sum to 3/13000/{}",
            g.facility,
            q1 + 140
        ),
        format!(
            "award_day_usage, award {award_id}, 2026-02-10: kept 0/0/0 records/milli-GPU-hours/aid cents, the usage \
             records sum to 0/1000/140"
        ),
    ] {
        assert!(stderr.contains(&kept), "{kept}\n{stderr}");
    }
    let added =
        format!(", award {award_id}: kept 1/1/1 records/milli-GPU-hours/aid cents, the usage records sum to 0/0/0");
    let named = stderr.lines().filter(|line| line.starts_with("USAGE SUM DISAGREES: entry_usage, entry "));
    assert_eq!(named.filter(|line| line.ends_with(&added) && !line.contains(entry)).count(), 1, "{stderr}");
    assert_eq!(stderr.matches("USAGE SUM DISAGREES").count(), 4, "{stderr}");
}

/// A page of an award's records after a record id reads one index in record-id order: its cost
/// is the page's, not the award's (docs/scaling.md, "Reads that stay flat").
async fn a_page_of_an_awards_records_reads_one_index_without_sorting(app: TestApp) {
    let g = setup(&app, "1000000.00", 1_000_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let id = reviewed(&app, &call, "sme-pages", &application(&g, "RCS-P", "10000"), 1).await;
    let award_id = award(&app, &id, json!({})).await.body["id"].as_str().expect("award id").to_string();
    let batch = json!({"records": [usage("d-1", &award_id, "1", 2), usage("d-2", &award_id, "1", 3)]});
    let reply = app.post("/api/v1/usage", &app.token(Role::Facility, &g.facility), &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let plan = award_page_plan(&app, &award_id);
    assert!(plan.contains("usage_records_award_record"), "the award's page reads its index: {plan}");
    assert!(!plan.contains("Sort") && !plan.contains("TEMP B-TREE"), "no sort of the award's records: {plan}");
}

/// The use by day kept for an award: (day, milli-hours, aid cents), by day.
fn day_usage_kept(app: &TestApp, award: &str) -> Vec<(i64, i64, i64)> {
    use diesel::prelude::*;
    use investai::storage::schema::award_day_usage as days;
    let mut conn = app.conn();
    let conn: &mut investai::storage::DbConnection = &mut conn;
    days::table
        .filter(days::award_id.eq(award))
        .order(days::day.asc())
        .select((days::day, days::milli_hours, days::subsidy_cents))
        .load(conn)
        .expect("kept use by day")
}

/// The same, summed here from the award's stored records.
fn day_usage_of_records(app: &TestApp, award: &str) -> Vec<(i64, i64, i64)> {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;
    use investai::storage::schema::usage_records as records;
    let mut conn = app.conn();
    let conn: &mut investai::storage::DbConnection = &mut conn;
    let day = "period_end_us / 86400000000";
    records::table
        .filter(records::award_id.eq(award))
        .group_by(sql::<BigInt>(day))
        .order(sql::<BigInt>(day))
        .select(sql::<(BigInt, BigInt, BigInt)>(&format!(
            "{day}, CAST(SUM(milli_hours) AS BIGINT), CAST(SUM(subsidy_cents) AS BIGINT)"
        )))
        .load(conn)
        .expect("records summed by day")
}

/// How the database reads a page of an award's records after a record id, as `award_records`
/// asks for it. PostgreSQL is kept from scanning the whole table, which it would rather do while
/// the table is small.
fn award_page_plan(app: &TestApp, award: &str) -> String {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct PostgresLine {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    #[derive(QueryableByName)]
    struct SqliteLine {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let page = format!(
        "SELECT * FROM usage_records WHERE award_id = '{award}' AND record_id > 'd-1' ORDER BY record_id LIMIT 100"
    );
    let mut conn = app.conn();
    let conn: &mut investai::storage::DbConnection = &mut conn;
    let lines = match conn {
        investai::storage::DbConnection::Postgresql(pg) => {
            diesel::connection::SimpleConnection::batch_execute(pg, "SET enable_seqscan = off").expect("planner");
            let lines = diesel::sql_query(format!("EXPLAIN {page}")).load::<PostgresLine>(pg);
            diesel::connection::SimpleConnection::batch_execute(pg, "RESET enable_seqscan").expect("planner");
            lines.expect("plan").into_iter().map(|l| l.line).collect::<Vec<_>>()
        }
        investai::storage::DbConnection::Sqlite(sqlite) => {
            let lines = diesel::sql_query(format!("EXPLAIN QUERY PLAN {page}")).load::<SqliteLine>(sqlite);
            lines.expect("plan").into_iter().map(|l| l.detail).collect::<Vec<_>>()
        }
    };
    lines.join("\n")
}

/// Writes one usage record with a binary `COPY ... FROM STDIN`, as the service does on PostgreSQL.
fn copy_record(app: &TestApp, record: &str, facility: &str, award: &str) -> Result<usize, String> {
    use diesel::prelude::*;
    use investai::storage::schema::usage_records;
    use investai::storage::DbConnection;
    #[derive(Insertable)]
    #[diesel(table_name = usage_records, treat_none_as_default_value = false)]
    struct Row<'a> {
        facility_id: &'a str,
        record_id: &'a str,
        award_id: &'a str,
        milli_hours: i64,
        period_start_us: i64,
        period_end_us: i64,
        subsidy_cents: i64,
        entry_id: Option<&'a str>,
        received_at_us: i64,
    }
    let row = Row {
        facility_id: facility,
        record_id: record,
        award_id: award,
        milli_hours: 1000,
        period_start_us: 0,
        period_end_us: 3_600_000_000,
        subsidy_cents: 140,
        entry_id: None,
        received_at_us: 0,
    };
    let mut conn = app.conn();
    match &mut *conn {
        DbConnection::Postgresql(pg) => {
            diesel::copy_from(usage_records::table).from_insertable(&[row]).execute(pg).map_err(|e| e.to_string())
        }
        DbConnection::Sqlite(_) => Err("SQLite has no COPY".to_string()),
    }
}

async fn with_four_eyes(backend: common::Backend) -> TestApp {
    common::spawn_app_with(backend, |settings| settings.four_eyes = true).await
}

/// Awards and rejections take effect only when a staff user other than the proposer approves.
async fn awards_and_rejections_need_a_second_staff_user(app: TestApp) {
    let g = setup(&app, "1000000.00", 100_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let first = reviewed(&app, &call, "sme-1", &application(&g, "RCS-1", "10000"), 1).await;
    let second = reviewed(&app, &call, "sme-2", &application(&g, "RCS-2", "10000"), 1).await;
    let direct = award(&app, &first, json!({"gpu_hours": "8000"})).await;
    assert_problem(&direct, 422, None);
    assert_eq!(direct.body["type"], "/problems/four-eyes-required");
    let (ann, bob) = (app.token(Role::Staff, "ann"), app.token(Role::Staff, "bob"));
    let body = json!({"kind": "grant_award", "application_id": first, "gpu_hours": "8000"});
    let proposal = app.post("/api/v1/proposals", &ann, &body).await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    // 8,000 h x EUR 2.00 x 70% = EUR 11,200.00, and nothing is committed until approval.
    assert_eq!(proposal.body["preview"]["aid_value"], "11200.00", "{}", proposal.text);
    assert_eq!(proposal.body["preview"]["awarded_gpu_hours"], "8000.000");
    assert_eq!(balance(&app, &g.fund, "1030").await, 0);
    let id = proposal.body["id"].as_str().expect("id");
    let path = format!("/api/v1/proposals/{id}/approval");
    assert_problem(&app.post(&path, &ann, &json!({"revision": 1})).await, 422, None);
    let approved = app.post(&path, &bob, &json!({"revision": 1})).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["result"]["aid_value"], "11200.00");
    assert_eq!(balance(&app, &g.fund, "1030").await, 1_120_000);

    let body = json!({"kind": "grant_rejection", "application_id": second, "reason": "Budget kept for robotics."});
    let proposal = app.post("/api/v1/proposals", &bob, &body).await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    let id = proposal.body["id"].as_str().expect("id");
    let rejected = app.post(&format!("/api/v1/proposals/{id}/approval"), &ann, &json!({"revision": 1})).await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    let seen = app.get(&format!("/api/v1/applications/{second}"), &sme(&app, "sme-2")).await;
    assert_eq!(seen.body["status"], "rejected", "{}", seen.text);
}

mod four_eyes {
    use super::*;
    on_both_backends!(spawn = super::with_four_eyes; awards_and_rejections_need_a_second_staff_user);
}

on_both_backends!(
    usage_of_the_last_day_counts_until_the_award_lapses,
    an_awards_use_by_day_is_kept_with_each_batch,
    a_facilitys_statement_is_kept_with_each_batch_and_verified,
    a_page_of_an_awards_records_reads_one_index_without_sorting,
    the_database_keeps_usage_records_to_their_award_facility_and_entry,
    implausible_usage_is_refused_record_by_record,
    usage_reports_only_periods_that_have_ended,
    a_price_takes_effect_after_the_facilitys_latest_award,
    a_usage_batch_above_its_record_limit_is_refused,
    sme_categories_at_every_threshold,
    submissions_are_refused_with_the_exact_reason,
    de_minimis_is_refused_with_the_figures_and_rechecked_at_award,
    award_usage_replay_and_lapse,
    fifty_concurrent_awards_against_a_budget_for_ten,
    two_awards_race_for_the_last_hours_of_a_quarter,
    register_is_public_and_parties_see_only_their_own,
);

/// The server lapses ended awards by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_lapses_ended_awards_by_itself() {
    let app = common::spawn_app_with(common::Backend::Sqlite, |s| s.lapse_interval_seconds = 1).await;
    let g = setup(&app, "1000000.00", 100_000).await;
    let call = open_call(&app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let id = reviewed(&app, &call, "sme-1", &application(&g, "RCS-1", "100"), 1).await;
    let award = app.post(&format!("/api/v1/applications/{id}/award"), &app.staff(), &json!({})).await;
    let award_id = award.body["id"].as_str().expect("id").to_string();
    let mut status = String::new();
    for _ in 0..50 {
        let reply = app.get(&format!("/api/v1/awards/{award_id}"), &app.staff()).await;
        status = reply.body["status"].as_str().unwrap_or_default().to_string();
        if status == "expired" {
            assert_eq!(reply.body["returned_to_pool"], "140.00");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the award was not lapsed within 10 s: {status}");
}
