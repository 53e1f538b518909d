//! State aid as the rules are written, on both backends: the SME category with public-body
//! control, control other than by holding and the two-period rule; one de minimis ceiling per
//! single undertaking across applicants; GBER declarations, bonus and cumulation; the SME
//! profile; the register in the Transparency Award Module's fields, checked against its
//! documented schema; aid granted by basis, category and region.
//!
//! Expected figures are worked out here from the rules (docs/grants.md), not read back.

use crate::common;

use chrono::{Duration, Utc};
use common::{assert_problem, party_id, Reply, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

struct World {
    fund: String,
    facility: String,
}

/// A fund whose pool holds EUR 5,000,000 and a facility at EUR 2.00 a GPU-hour.
async fn world(app: &TestApp) -> World {
    let fund = app.create_fund("State aid fund").await;
    let body = json!({"effective_date": "2025-01-01", "description": "reserve for compute grants", "postings": [
        {"account": "1010", "debit": "5000000.00"}, {"account": "3900", "credit": "5000000.00"}]});
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = json!({"name": "Leonardo-AI", "kind": "ai_factory", "member_state": "IT", "chip_count": 1000,
        "chip_type": "H100", "quarterly_capacity_gpu_hours": 10_000_000});
    let reply = app.post("/api/v1/facilities", &app.staff(), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let facility = reply.body["id"].as_str().expect("id").to_string();
    let price = json!({"effective_date": "2025-01-01", "price_per_gpu_hour": "2.00"});
    let reply = app.post(&format!("/api/v1/facilities/{facility}/prices"), &app.staff(), &price).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    World { fund, facility }
}

fn call_body(w: &World, name: &str, basis: &str, extra: Value) -> Value {
    let now = Utc::now();
    let mut body = json!({"fund_id": w.fund, "name": name, "budget": "2000000.00",
        "opens_at": (now - Duration::days(1)).to_rfc3339(), "closes_at": (now + Duration::days(30)).to_rfc3339(),
        "eligible_facility_ids": [w.facility], "max_gpu_hours_per_award": "500000", "aid_basis": basis,
        "min_reviewers": 1, "min_average_score": "50"});
    for (key, value) in extra.as_object().into_iter().flatten() {
        body[key] = value.clone();
    }
    body
}

async fn open_call(app: &TestApp, body: Value) -> String {
    let reply = app.post("/api/v1/grant-calls", &app.staff(), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["id"].as_str().expect("id").to_string()
}

fn company(name: &str, registration: &str, country: &str) -> Value {
    let region = if country == "DE" { "DE21" } else { "FR10" };
    json!({"legal_name": name, "registration_number": registration, "country": country,
        "nace_code": "62.01", "nuts2_region": region})
}

/// A micro enterprise asking for `hours`, its related enterprises `related`.
fn application(w: &World, company: Value, hours: &str, related: Value) -> Value {
    json!({
        "company": company, "staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00",
        "related": related, "declarations": {"undertaking_in_difficulty": false, "outstanding_recovery_order": false},
        "project_title": "Foundation model for robotics", "summary": "Training a vision-language-action model.",
        "requested_gpu_hours": hours, "facility_id": w.facility, "start_date": "2027-01-01", "end_date": "2027-03-31"
    })
}

fn related(name: &str, registration: &str, holding: &str, staff: &str, extra: Value) -> Value {
    let mut body = json!({"legal_name": name, "country": "DE", "registration_number": registration,
        "holding_percent": holding, "figures": {"staff_awu": staff, "turnover": "1000000.00", "balance_sheet": "1000000.00"}});
    for (key, value) in extra.as_object().into_iter().flatten() {
        body[key] = value.clone();
    }
    body
}

fn sme(app: &TestApp, name: &str) -> String {
    app.token(Role::Sme, &party_id(name))
}

async fn draft(app: &TestApp, call: &str, who: &str, body: &Value) -> Reply {
    let reply = app.post(&format!("/api/v1/grant-calls/{call}/applications"), &sme(app, who), body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply
}

async fn submit(app: &TestApp, who: &str, id: &str) -> Reply {
    app.post(&format!("/api/v1/applications/{id}/submit"), &sme(app, who), &json!(null)).await
}

/// Drafts, submits, reviews and awards; the award.
async fn awarded(app: &TestApp, call: &str, who: &str, body: &Value) -> Value {
    let id = draft(app, call, who, body).await.body["id"].as_str().expect("id").to_string();
    let submitted = submit(app, who, &id).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let review = json!({"score": 80, "comment": "Sound plan."});
    let reply =
        app.post(&format!("/api/v1/applications/{id}/reviews"), &app.token(Role::Staff, "reviewer"), &review).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let award = app.post(&format!("/api/v1/applications/{id}/award"), &app.staff(), &json!({})).await;
    assert_eq!(award.status, 201, "{}", award.text);
    award.body
}

fn refusal_codes(reply: &Reply) -> Vec<String> {
    reply.body["assessment"]["refusals"]
        .as_array()
        .map(|list| list.iter().map(|r| r["code"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

async fn sme_category_as_written(app: TestApp) {
    let w = world(&app).await;
    let call = open_call(&app, call_body(&w, "Category call", "de_minimis", json!({}))).await;
    // A municipality holding 30%: not an SME whatever the figures (Art. 3(4)).
    let city = related("Stadt München", "DE-GEM-09162", "30", "0", json!({"public_body": true}));
    let reply =
        draft(&app, &call, "cat-1", &application(&w, company("Isar AI", "HRB 501", "DE"), "1000", json!([city]))).await;
    assert_eq!(reply.body["assessment"]["sme_category"], "not_sme", "{}", reply.text);
    assert_eq!(refusal_codes(&reply), ["publicly-controlled"]);
    let refused = submit(&app, "cat-1", reply.body["id"].as_str().expect("id")).await;
    assert_problem(&refused, 422, Some("related"));
    // The same 30% held by a university, an investor Art. 3(2) lists: autonomous, micro.
    let university = related(
        "TU München",
        "DE-KDOER-1",
        "30",
        "0",
        json!({"public_body": true,
        "listed_investor": {"kind": "university_or_research_centre"}}),
    );
    let reply =
        draft(&app, &call, "cat-1", &application(&w, company("Isar AI", "HRB 501", "DE"), "1000", json!([university])))
            .await;
    assert_eq!(reply.body["assessment"]["sme_category"], "micro", "{}", reply.text);
    assert!(refusal_codes(&reply).is_empty(), "{}", reply.text);
    // A parent holding 10% that appoints the board's majority: linked, in full (Art. 3(3)(b)).
    let parent = related("Holding GmbH", "HRB 900", "10", "45", json!({"control": "board_majority"}));
    let reply =
        draft(&app, &call, "cat-2", &application(&w, company("Lech AI", "HRB 502", "DE"), "1000", json!([parent])))
            .await;
    let assessment = &reply.body["assessment"];
    assert_eq!(assessment["aggregated"]["staff_awu"], "53", "8 + 45 in full, not 10% of 45");
    assert_eq!(assessment["sme_category"], "medium");
    let rules = assessment["rules"].to_string();
    assert!(rules.contains("majority of the board"), "{rules}");
    // Two periods (Art. 4(2)): 8 AWU now and 60 before is a crossing in one period only: the
    // category stays medium; 60 in both is medium; 8 in both is micro.
    for (previous_staff, expected) in [("60", "medium"), ("8", "micro")] {
        let mut body = application(&w, company("Inn AI", "HRB 503", "DE"), "1000", json!([]));
        body["previous_period"] =
            json!({"staff_awu": previous_staff, "turnover": "1500000.00", "balance_sheet": "1200000.00"});
        let reply = draft(&app, &call, "cat-3", &body).await;
        assert_eq!(reply.body["assessment"]["sme_category"], expected, "previous {previous_staff}: {}", reply.text);
    }
    let mut grown = application(&w, company("Inn AI", "HRB 503", "DE"), "1000", json!([]));
    grown["staff_awu"] = json!("60");
    grown["previous_period"] = json!({"staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00"});
    let reply = draft(&app, &call, "cat-3", &grown).await;
    assert_eq!(reply.body["assessment"]["sme_category"], "micro", "grew once: still micro");
    assert!(reply.body["assessment"]["rules"].to_string().contains("4(2)"));
}

async fn linked_enterprises_share_one_de_minimis_ceiling(app: TestApp) {
    let w = world(&app).await;
    let call = open_call(&app, call_body(&w, "De minimis call", "de_minimis", json!({}))).await;
    // Alpha states Beta as linked (board majority): Alpha receives EUR 200,000 here
    // (100,000 h x EUR 2.00 x 100%).
    let beta_as_linked = related("Beta Robotics GmbH", "HRB 2", "0", "5", json!({"control": "board_majority"}));
    let alpha = application(&w, company("Alpha Vision GmbH", "HRB 1", "DE"), "100000", json!([beta_as_linked]));
    let award = awarded(&app, &call, "alpha", &alpha).await;
    assert_eq!(award["aid_value"], "200000.00");
    // Beta applies on its own, not naming Alpha: it is one undertaking with Alpha all the same,
    // recognised by its register number. EUR 120,000 more would make 320,000.
    let beta = application(&w, company("Beta Robotics GmbH", "hrb-2", "DE"), "60000", json!([]));
    let id = draft(&app, &call, "beta", &beta).await.body["id"].as_str().expect("id").to_string();
    let refused = submit(&app, "beta", &id).await;
    assert_problem(&refused, 422, Some("requested_gpu_hours"));
    assert_eq!(refused.body["type"], "/problems/de-minimis-exceeded");
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    for expected in [
        "Alpha Vision GmbH (DE:HRB1), whose application names the applicant as linked",
        "granted EUR 200000.00 here",
        "EUR 320000.00",
        "at most EUR 100000.00 more",
    ] {
        assert!(detail.contains(expected), "{expected} missing from {detail}");
    }
    // EUR 100,000 brings the single undertaking exactly to the ceiling: submitted.
    let fits = application(&w, company("Beta Robotics GmbH", "HRB 2", "DE"), "50000", json!([]));
    let id = draft(&app, &call, "beta", &fits).await.body["id"].as_str().expect("id").to_string();
    assert_eq!(submit(&app, "beta", &id).await.status, 200);
    // Gamma names Alpha as linked (60%) with EUR 10,000 Alpha received elsewhere:
    // 200,000 + 10,000 + 100,000 = 310,000.
    let alpha_as_parent = related("Alpha Vision GmbH", "HRB-1", "60", "8", json!({"de_minimis_received": "10000.00"}));
    let gamma = application(&w, company("Gamma Data GmbH", "HRB 3", "DE"), "50000", json!([alpha_as_parent]));
    let reply = draft(&app, &call, "gamma", &gamma).await;
    assert_eq!(refusal_codes(&reply), ["de-minimis-exceeded"], "{}", reply.text);
    let reason = reply.body["assessment"]["refusals"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("declared EUR 10000.00") && reason.contains("310000.00"), "{reason}");
    // A partner (30%) is not part of the single undertaking: nothing of Alpha's counts.
    let alpha_as_partner = related("Alpha Vision GmbH", "HRB 1", "30", "8", json!({}));
    let delta = application(&w, company("Delta Labs GmbH", "HRB 4", "DE"), "50000", json!([alpha_as_partner]));
    let reply = draft(&app, &call, "delta", &delta).await;
    assert!(refusal_codes(&reply).is_empty(), "{}", reply.text);
}

async fn gber_conditions_bonus_and_cumulation(app: TestApp) {
    let w = world(&app).await;
    let refused =
        app.post("/api/v1/grant-calls", &app.staff(), &call_body(&w, "No SA", "industrial_research", json!({}))).await;
    assert_problem(&refused, 400, Some("aid_measure_reference"));
    let bad = call_body(&w, "Bad SA", "industrial_research", json!({"aid_measure_reference": "SA-12"}));
    assert_problem(&app.post("/api/v1/grant-calls", &app.staff(), &bad).await, 400, Some("aid_measure_reference"));
    let bonus_on_de_minimis = call_body(&w, "Bonus", "de_minimis", json!({"bonus_allowed": true}));
    assert_problem(
        &app.post("/api/v1/grant-calls", &app.staff(), &bonus_on_de_minimis).await,
        400,
        Some("bonus_allowed"),
    );
    let call = open_call(
        &app,
        call_body(
            &w,
            "ED call",
            "experimental_development",
            json!({"aid_measure_reference": "sa.654321", "bonus_allowed": true}),
        ),
    )
    .await;
    let view = app.get(&format!("/api/v1/grant-calls/{call}"), &app.staff()).await;
    assert_eq!(view.body["call"]["aid_measure_reference"], "SA.654321", "{}", view.text);
    assert_eq!(view.body["call"]["intensities_with_bonus"]["small"], "60", "25 + 20 + 15");
    // Declarations are required by GBER calls, and refuse when they say yes.
    let mut body = application(&w, company("Epsilon SAS", "RCS 1", "FR"), "10000", json!([]));
    body.as_object_mut().expect("object").remove("declarations");
    let reply = draft(&app, &call, "eps", &body).await;
    assert_eq!(refusal_codes(&reply), ["declaration-missing", "declaration-missing"], "{}", reply.text);
    body["declarations"] = json!({"undertaking_in_difficulty": true, "outstanding_recovery_order": false});
    let reply = draft(&app, &call, "eps", &body).await;
    assert_eq!(refusal_codes(&reply), ["undertaking-in-difficulty"]);
    // Bonus and cumulation: 10,000 h x EUR 2.00 = EUR 20,000 of costs; 60% is the highest
    // intensity; EUR 4,000 of other aid is 20 points, so this award gets 40%: EUR 8,000.
    let mut body = application(&w, company("Epsilon SAS", "RCS 1", "FR"), "10000", json!([]));
    body["bonus"] = json!("collaboration");
    body["other_aid_same_costs"] = json!("4000.00");
    let award = awarded(&app, &call, "eps", &body).await;
    assert_eq!(award["intensity_percent"], "40");
    assert_eq!(award["aid_value"], "8000.00");
    // The award's aid plus the other aid, against 60% of the costs (10,000 h x EUR 2.00), in cents.
    let aid_cents: i64 = award["aid_value"].as_str().expect("aid").replace('.', "").parse().expect("cents");
    assert!((aid_cents + 400_000) * 100 <= 2_000_000 * 60, "aid for the same costs stays within the highest intensity");
    // Other aid above the highest intensity leaves nothing: refused with the figures.
    body["other_aid_same_costs"] = json!("12000.00");
    let reply = draft(&app, &call, "eps", &body).await;
    assert_eq!(refusal_codes(&reply), ["cumulation-exceeded"]);
    // De minimis excludes fishery and aquaculture.
    let dm = open_call(&app, call_body(&w, "DM call", "de_minimis", json!({}))).await;
    let mut fishery = company("Zeta Fisch GmbH", "HRB 9", "DE");
    fishery["nace_code"] = json!("03.11");
    let reply = draft(&app, &dm, "zeta", &application(&w, fishery, "1000", json!([]))).await;
    assert_eq!(refusal_codes(&reply), ["sector-excluded"]);
    assert_eq!(reply.body["assessment"]["refusals"][0]["field"], "company.nace_code");
    // A NUTS 2 region outside the company's country is refused at the edge.
    let mut elsewhere = company("Eta SAS", "RCS 7", "FR");
    elsewhere["nuts2_region"] = json!("DE21");
    let reply = app
        .post(
            &format!("/api/v1/grant-calls/{dm}/applications"),
            &sme(&app, "eta"),
            &application(&w, elsewhere, "1000", json!([])),
        )
        .await;
    assert_problem(&reply, 400, Some("company.nuts2_region"));
}

async fn put_profile(app: &TestApp, who: &str, body: &Value) -> Reply {
    let url = format!("{}/api/v1/smes/{}/profile", app.address, party_id(who));
    app.send(app.client.put(url).bearer_auth(sme(app, who)).json(body)).await
}

async fn profile_is_stated_once_and_followed_by_drafts(app: TestApp) {
    let w = world(&app).await;
    let call = open_call(&app, call_body(&w, "Profile call", "de_minimis", json!({}))).await;
    let project = json!({"project_title": "Speech model", "summary": "Fine-tuning a speech model.",
        "requested_gpu_hours": "1000", "facility_id": w.facility, "start_date": "2027-01-01", "end_date": "2027-03-31"});
    let none = app.post(&format!("/api/v1/grant-calls/{call}/applications"), &sme(&app, "theta"), &project).await;
    assert_problem(&none, 422, Some("company"));
    let mut profile = json!({"company": company("Theta Speech SAS", "RCS 8", "FR"),
        "figures": {"staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00"},
        "de_minimis_received": "0.00"});
    let saved = put_profile(&app, "theta", &profile).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!((saved.body["version"].clone(), saved.body["sme_category"].clone()), (json!(1), json!("micro")));
    assert_eq!(saved.body["enterprise"]["company"]["nace_code"], "J62.01", "normalised");
    // Only the SME itself writes its profile.
    let url = format!("{}/api/v1/smes/{}/profile", app.address, party_id("theta"));
    let other = app.send(app.client.put(url).bearer_auth(sme(&app, "iota")).json(&profile)).await;
    assert_eq!(other.status, 404);
    // Figures without the company are refused: they would mix two sources.
    let mut mixed = project.clone();
    mixed["staff_awu"] = json!("8");
    let reply = app.post(&format!("/api/v1/grant-calls/{call}/applications"), &sme(&app, "theta"), &mixed).await;
    assert_problem(&reply, 400, Some("staff_awu"));
    let first = draft(&app, &call, "theta", &project).await;
    assert_eq!(first.body["from_profile"], true);
    assert_eq!(first.body["company"]["legal_name"], "Theta Speech SAS");
    let first_id = first.body["id"].as_str().expect("id").to_string();
    assert_eq!(submit(&app, "theta", &first_id).await.status, 200);
    let second = draft(&app, &call, "theta", &project).await;
    let second_id = second.body["id"].as_str().expect("id").to_string();
    // The profile changes: 60 AWU, one period: medium. The draft follows, the submitted
    // application keeps what it was submitted with.
    profile["figures"]["staff_awu"] = json!("60");
    let saved = put_profile(&app, "theta", &profile).await;
    assert_eq!((saved.body["version"].clone(), saved.body["drafts_updated"].clone()), (json!(2), json!(1)));
    let token = sme(&app, "theta");
    let draft_now = app.get(&format!("/api/v1/applications/{second_id}"), &token).await;
    assert_eq!(
        (draft_now.body["staff_awu"].clone(), draft_now.body["sme_category"].clone()),
        (json!("60"), json!("medium"))
    );
    let submitted_now = app.get(&format!("/api/v1/applications/{first_id}"), &token).await;
    assert_eq!(
        (submitted_now.body["staff_awu"].clone(), submitted_now.body["sme_category"].clone()),
        (json!("8"), json!("micro"))
    );
    let read = app.get(&format!("/api/v1/smes/{}/profile", party_id("theta")), &app.staff()).await;
    assert_eq!(read.body["version"], 2);
}

/// The record schema documented in docs/, compiled.
fn register_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/state-aid-register.schema.json"))
        .expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

async fn register_in_the_transparency_format(app: TestApp) {
    let w = world(&app).await;
    let dm = open_call(&app, call_body(&w, "Small de minimis", "de_minimis", json!({}))).await;
    let ir = open_call(
        &app,
        call_body(&w, "Industrial research", "industrial_research", json!({"aid_measure_reference": "SA.100001"})),
    )
    .await;
    // De minimis: 1,000 h x EUR 2.00 = EUR 2,000, published whatever its amount.
    let small_dm =
        awarded(&app, &dm, "r1", &application(&w, company("Kappa SAS", "RCS 11", "FR"), "1000", json!([]))).await;
    // GBER at 70% (small): 50,000 h = EUR 70,000, not published; 80,000 h = EUR 112,000, published.
    let under =
        awarded(&app, &ir, "r2", &application(&w, company("Lambda SAS", "RCS 12", "FR"), "50000", json!([]))).await;
    let over = awarded(&app, &ir, "r3", &application(&w, company("Mu GmbH", "HRB 13", "DE"), "80000", json!([]))).await;
    assert_eq!((under["aid_value"].clone(), over["aid_value"].clone()), (json!("70000.00"), json!("112000.00")));
    let page = app.get_public("/api/v1/grants/register").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let items = page.body["items"].as_array().expect("items").clone();
    let ids: Vec<&str> = items.iter().map(|r| r["award_id"].as_str().unwrap_or_default()).collect();
    assert_eq!(ids.len(), 2, "{}", page.text);
    assert!(ids.contains(&small_dm["id"].as_str().expect("id")) && ids.contains(&over["id"].as_str().expect("id")));
    let schema = register_schema();
    for record in &items {
        let errors: Vec<String> =
            schema.iter_errors(record).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{record}: {errors:?}");
    }
    let gber = items.iter().find(|r| r["award_id"] == over["id"]).expect("GBER record");
    assert_eq!(gber["aid_measure_reference"], "SA.100001");
    assert_eq!(gber["beneficiary_identifier"], "HRB 13");
    assert_eq!(gber["region_nuts2"], "DE21");
    assert_eq!(gber["sector_nace"], "J62.01");
    assert_eq!(gber["aid_element_eur"], "112000.00");
    assert_eq!(gber["publication_rule"], "gber-above-100000");
    let de_minimis = items.iter().find(|r| r["award_id"] == small_dm["id"]).expect("de minimis record");
    assert_eq!(de_minimis["aid_measure_reference"], Value::Null);
    assert_eq!(de_minimis["granting_authority"], "State aid fund", "the fund grants when the call names no authority");
    // The CSV holds the same records, column for column.
    let csv = app.send(app.client.get(format!("{}/api/v1/grants/register.csv", app.address))).await;
    assert_eq!(csv.status, 200);
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
    let schema_json: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/state-aid-register.schema.json"))
            .expect("schema"),
    )
    .expect("json");
    let documented: Vec<String> = schema_json["required"]
        .as_array()
        .expect("required")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(header, documented, "CSV columns are the documented fields, in order");
    for (row, record) in reader.records().zip(&items) {
        let row = row.expect("row");
        for (cell, column) in row.iter().zip(&header) {
            let expected = record[column.as_str()].as_str().unwrap_or_default();
            assert_eq!(cell, expected, "{column}");
        }
    }
    // The fund's public page shows the same records and the aid granted by basis, category
    // and region, summed here from the three awards.
    let report = app.get_public(&format!("/api/v1/transparency/funds/{}", w.fund)).await;
    assert_eq!(report.body["state_aid_register"].as_array().map(Vec::len), Some(2), "{}", report.text);
    let granted = &report.body["state_aid_granted"];
    assert_eq!(granted["total"]["aid_granted"], "184000.00", "2,000 + 70,000 + 112,000");
    assert_eq!(granted["total"]["awards"], 3);
    let group = |list: &str, key: &str| {
        granted[list].as_array().and_then(|l| l.iter().find(|g| g["key"] == key)).map(|g| g["aid_granted"].clone())
    };
    assert_eq!(group("by_basis", "de_minimis"), Some(json!("2000.00")));
    assert_eq!(group("by_basis", "industrial_research"), Some(json!("182000.00")));
    assert_eq!(group("by_sme_category", "micro"), Some(json!("184000.00")));
    assert_eq!(group("by_region", "FR10"), Some(json!("72000.00")));
    assert_eq!(group("by_region", "DE21"), Some(json!("112000.00")));
    let all = app.get_public(&format!("/api/v1/grants/aid-granted?fund_id={}", w.fund)).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body, *granted, "the API answers what the public page shows");
    assert_problem(&app.get_public("/api/v1/grants/aid-granted?fund_id=nope").await, 400, Some("query.fund_id"));
    let page = app.send(app.client.get(format!("{}/transparency/funds/{}", app.address, w.fund))).await;
    assert!(page.text.contains("HRB 13") && page.text.contains("SA.100001") && page.text.contains("State aid granted"));
}

on_both_backends!(
    sme_category_as_written,
    linked_enterprises_share_one_de_minimis_ceiling,
    gber_conditions_bonus_and_cumulation,
    profile_is_stated_once_and_followed_by_drafts,
    register_in_the_transparency_format,
);
