//! Fund structure and capital activity on both backends.

use crate::common;

use common::{assert_problem, TestApp};
use investai::domain::money::Cents;
use investai::domain::roles::Role;
use investai::storage::commitment_batch::{record_commitments, Answered, CommitmentRequest, KeyedRequest};
use investai::storage::commitments::NewCommitment;
use serde_json::{json, Value};

struct Setup {
    fund: String,
    tranche: String,
    sources: Vec<String>,
    facility: String,
}

async fn source(app: &TestApp, name: &str, kind: &str, programme: Option<&str>, country: &str) -> String {
    let mut body = json!({"kind": kind, "legal_name": name, "country": country});
    if let Some(p) = programme {
        body["programme"] = json!(p);
    }
    let reply = app.post("/api/v1/sources", &app.staff(), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["id"].as_str().expect("id").to_string()
}

async fn commit(app: &TestApp, fund: &str, source: &str, tranche: &str, amount: &str) -> Value {
    let body = json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2025-03-31"});
    app.post(&format!("/api/v1/funds/{fund}/commitments"), &app.staff(), &body).await.body
}

/// A fund with one tranche (target 1,000.00) and three investors committed 500.00 / 300.01 / 199.99.
async fn setup(app: &TestApp) -> Setup {
    let fund = app.create_fund("Structure fund").await;
    let tranche = app
        .post(
            &format!("/api/v1/funds/{fund}/tranches"),
            &app.staff(),
            &json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08", "min_ticket": "100.00"}),
        )
        .await;
    assert_eq!(tranche.status, 201, "{}", tranche.text);
    let tranche = tranche.body["id"].as_str().expect("id").to_string();
    let sources = vec![
        source(app, "Alpha Pension", "private", None, "NL").await,
        source(app, "Beta Insurance", "private", None, "DE").await,
        source(app, "InvestEU", "eu_programme", Some("investeu"), "EU").await,
    ];
    for (source, amount) in sources.iter().zip(["500.00", "300.01", "199.99"]) {
        let c = commit(app, &fund, source, &tranche, amount).await;
        assert_eq!(c["committed"], amount, "{c}");
    }
    let facility = app
        .post(
            "/api/v1/facilities",
            &app.staff(),
            &json!({"name": "Gigafactory Test", "kind": "gigafactory", "member_state": "FR", "chip_count": 100000, "chip_type": "GPU", "quarterly_capacity_gpu_hours": 216000000}),
        )
        .await;
    assert_eq!(facility.status, 201, "{}", facility.text);
    Setup { fund, tranche, sources, facility: facility.body["id"].as_str().expect("id").to_string() }
}

async fn call(app: &TestApp, s: &Setup, amount: &str) -> common::Reply {
    let body = json!({"call_date": "2025-06-01", "due_date": "2025-06-30", "description": "First drawdown", "lines": [
        {"tranche_id": s.tranche, "purpose": "investment", "facility_id": s.facility, "amount": amount}
    ]});
    app.post(&format!("/api/v1/funds/{}/capital-calls", s.fund), &app.staff(), &body).await
}

async fn notices(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/notices?{query}"), token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

fn cents(value: &Value) -> i64 {
    let text = value.as_str().expect("amount string");
    let (whole, fraction) = text.split_once('.').expect("two decimals");
    whole.parse::<i64>().expect("whole") * 100 + fraction.parse::<i64>().expect("fraction")
}

async fn sources_are_validated(app: TestApp) {
    let staff = app.staff();
    let bad_lei = app
        .post(
            "/api/v1/sources",
            &staff,
            &json!({"kind": "private", "legal_name": "X", "country": "DE", "lei": "7LTWFZYICNSX8D621K87"}),
        )
        .await;
    assert_problem(&bad_lei, 400, Some("lei"));
    let good_lei = app
        .post(
            "/api/v1/sources",
            &staff,
            &json!({"kind": "private", "legal_name": "X", "country": "DE", "lei": "7LTWFZYICNSX8D621K86"}),
        )
        .await;
    assert_eq!(good_lei.status, 201, "{}", good_lei.text);
    let not_eu = app
        .post("/api/v1/sources", &staff, &json!({"kind": "member_state", "legal_name": "UK", "country": "GB"}))
        .await;
    assert_problem(&not_eu, 400, Some("country"));
    let greece = app
        .post(
            "/api/v1/sources",
            &staff,
            &json!({"kind": "member_state", "legal_name": "Greece: cohesion funds", "country": "EL"}),
        )
        .await;
    assert_eq!(greece.body["country"], "GR", "{}", greece.text);
    assert_eq!(greece.body["programme"], "cohesion");
    let bad_programme = app
        .post(
            "/api/v1/sources",
            &staff,
            &json!({"kind": "eu_programme", "legal_name": "Y", "country": "EU", "programme": "erasmus"}),
        )
        .await;
    assert_problem(&bad_programme, 400, Some("programme"));
}

/// Losses hit tranches in reverse seniority, first loss first: a first-loss tranche ranks below
/// every other tranche of its fund, so the flag and the order of losses never disagree.
async fn a_first_loss_tranche_ranks_below_every_other(app: TestApp) {
    let s = setup(&app).await;
    let path = format!("/api/v1/funds/{}/tranches", s.fund);
    let tranche = |name: &str, seniority: i32, first_loss: bool| json!({"name": name, "seniority": seniority, "target_size": "100.00", "pref_rate": "0", "first_loss": first_loss});
    for (body, status) in [
        (tranche("First loss", 5, true), 201),
        (tranche("Below the first loss", 7, false), 422),
        (tranche("Mezzanine", 3, false), 201),
        (tranche("Second loss", 4, true), 201),
        (tranche("First loss above the mezzanine", 2, true), 422),
    ] {
        let reply = app.post(&path, &app.staff(), &body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
        if status == 422 {
            assert_problem(&reply, 422, Some("seniority"));
            assert_eq!(reply.body["type"], "/problems/first-loss-not-most-junior", "{}", reply.text);
        }
    }
    let listed = app.get(&path, &app.auditor()).await;
    let names: Vec<&str> =
        listed.body["items"].as_array().expect("items").iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["Senior", "Mezzanine", "Second loss", "First loss"]);
}

async fn commitments_follow_target_ticket_and_amendment_rules(app: TestApp) {
    let s = setup(&app).await;
    let extra = source(&app, "Gamma Bank", "private", None, "FR").await;
    let over = app
        .post(
            &format!("/api/v1/funds/{}/commitments", s.fund),
            &app.staff(),
            &json!({"source_id": extra, "tranche_id": s.tranche, "amount": "100.00", "effective_date": "2025-04-01"}),
        )
        .await;
    assert_problem(&over, 422, Some("amount"));
    assert!(over.text.contains("over-subscription"), "{}", over.text);
    let small = app
        .post(&format!("/api/v1/funds/{}/commitments", s.fund), &app.staff(), &json!({"source_id": extra, "tranche_id": s.tranche, "amount": "10.00", "effective_date": "2025-04-01", "allow_oversubscription": true}))
        .await;
    assert_problem(&small, 422, Some("amount"));
    let allowed = app
        .post(&format!("/api/v1/funds/{}/commitments", s.fund), &app.staff(), &json!({"source_id": extra, "tranche_id": s.tranche, "amount": "100.00", "effective_date": "2025-04-01", "allow_oversubscription": true}))
        .await;
    assert_eq!(allowed.status, 201, "{}", allowed.text);
    let duplicate = app
        .post(&format!("/api/v1/funds/{}/commitments", s.fund), &app.staff(), &json!({"source_id": extra, "tranche_id": s.tranche, "amount": "100.00", "effective_date": "2025-04-01", "allow_oversubscription": true}))
        .await;
    assert_problem(&duplicate, 409, None);

    let id = allowed.body["id"].as_str().expect("id").to_string();
    let amend = |body: Value| {
        let app = &app;
        let id = id.clone();
        async move { app.post(&format!("/api/v1/commitments/{id}/amendments"), &app.staff(), &body).await }
    };
    let up = amend(
        json!({"kind": "increase", "amount": "50.00", "effective_date": "2025-05-01", "allow_oversubscription": true}),
    )
    .await;
    assert_eq!(up.body["committed"], "150.00", "{}", up.text);
    // Call 110% of... everything: 1,150.00 of commitments, call 575.00 (half).
    assert_eq!(call(&app, &s, "575.00").await.status, 201);
    let now = app.get(&format!("/api/v1/commitments/{id}"), &app.staff()).await;
    assert_eq!(now.body["called"], "75.00", "{}", now.text);
    let too_far = amend(json!({"kind": "decrease", "amount": "80.00", "effective_date": "2025-07-01"})).await;
    assert_problem(&too_far, 422, Some("amount"));
    let down = amend(json!({"kind": "decrease", "amount": "75.00", "effective_date": "2025-07-01"})).await;
    assert_eq!(down.body["committed"], "75.00", "{}", down.text);
    let nothing_left = amend(json!({"kind": "cancel", "effective_date": "2025-07-02"})).await;
    assert_problem(&nothing_left, 422, None);
    let history = app.get(&format!("/api/v1/commitments/{id}"), &app.staff()).await;
    let kinds: Vec<&str> =
        history.body["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["initial", "increase", "decrease"]);
    // The memorandum account carries exactly the unfunded total.
    let memo =
        app.get(&format!("/api/v1/funds/{}/accounts/9000/balance?as_of=2030-01-01", s.fund), &app.auditor()).await;
    let overview = app.get(&format!("/api/v1/funds/{}/overview", s.fund), &app.auditor()).await;
    assert_eq!(memo.body["net"], overview.body["unfunded"], "{}", overview.text);
    assert_tranche_totals_agree(&app);
}

async fn concurrent_commitments_never_pass_the_target(app: TestApp) {
    let fund = app.create_fund("Raced fund").await;
    let body = json!({"name": "Mezzanine", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08", "min_ticket": "100.00"});
    let tranche = app.post(&format!("/api/v1/funds/{fund}/tranches"), &app.staff(), &body).await;
    let tranche = tranche.body["id"].as_str().expect("id").to_string();
    let mut sources = Vec::new();
    for n in 0..8 {
        sources.push(source(&app, &format!("Racer {n}"), "private", None, "IT").await);
    }
    // Eight commitments of 400.00 at once, one of them twice: two fit under the target of 1,000.00.
    let path = format!("/api/v1/funds/{fund}/commitments");
    let staff = app.staff();
    let requests = sources.iter().chain(std::iter::once(&sources[0])).map(|source| {
        let body =
            json!({"source_id": source, "tranche_id": tranche, "amount": "400.00", "effective_date": "2025-03-31"});
        let (app, path, staff) = (&app, &path, &staff);
        async move { app.post(path, staff, &body).await }
    });
    let replies = futures_util::future::join_all(requests).await;
    let created: Vec<&common::Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 2, "{:?}", replies.iter().map(|r| &r.text).collect::<Vec<_>>());
    assert!(
        replies.iter().all(|r| matches!(r.status, 201 | 409 | 422)),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // The answer to a new commitment is the commitment as read back.
    for reply in created {
        let id = reply.body["id"].as_str().expect("id");
        let read = app.get(&format!("/api/v1/commitments/{id}"), &app.auditor()).await;
        assert_eq!(read.body, reply.body);
    }
    let overview = app.get(&format!("/api/v1/funds/{fund}/overview"), &app.auditor()).await;
    assert_eq!(overview.body["committed"], "800.00", "{}", overview.text);
    assert_tranche_totals_agree(&app);
}

async fn a_call_allocates_exactly_and_never_above_unfunded(app: TestApp) {
    let s = setup(&app).await;
    let reply = call(&app, &s, "333.33").await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["notice_count"], 3);
    let list = notices(&app, &app.staff(), &format!("call_id={}", reply.body["id"].as_str().expect("id"))).await;
    let total: i64 = list.iter().map(|n| cents(&n["amount"])).sum();
    assert_eq!(total, 33_333);
    let amounts: Vec<i64> = list.iter().map(|n| cents(&n["amount"])).collect();
    // 333.33 x 500.00/1000.00 = 166.665 -> 166.66 or 166.67; every share within a cent of pro rata.
    for (notice, committed) in list.iter().zip([50_000i64, 30_001, 19_999]) {
        let share = cents(&notice["amount"]);
        // |share - 33,333 x committed / 100,000| < 1 cent, in integers.
        assert!((share * 100_000 - 33_333 * committed).abs() < 100_000, "{amounts:?}");
        assert_eq!(cents(&notice["remaining_unfunded"]), committed - share);
        assert_eq!(notice["investment"], notice["amount"]);
    }
    // The rest of the unfunded amount can be called exactly; one cent more cannot.
    let refused = call(&app, &s, "666.68").await;
    assert_problem(&refused, 422, Some("lines"));
    let calls = app.get(&format!("/api/v1/funds/{}/capital-calls", s.fund), &app.auditor()).await;
    assert_eq!(calls.body["items"].as_array().map(Vec::len), Some(1), "the refused call wrote nothing");
    let rest = call(&app, &s, "666.67").await;
    assert_eq!(rest.status, 201, "{}", rest.text);
    assert_eq!(rest.body["call_number"], 2);
    let overview = app.get(&format!("/api/v1/funds/{}/overview", s.fund), &app.auditor()).await;
    assert_eq!(overview.body["unfunded"], "0.00");
    assert_eq!(overview.body["called"], "1000.00");
    let tb = app.get(&format!("/api/v1/funds/{}/trial-balance?as_of=2030-01-01", s.fund), &app.auditor()).await;
    assert_eq!(tb.body["balanced"], true);
}

/// A call reaches every investor with something left to call, however many of the tranche's
/// commitments are fully called: beyond the 5,000 a call may reach it is refused, not cut short.
async fn a_call_never_skips_an_investor_with_something_left_to_call(app: TestApp) {
    const LATER_INVESTORS: usize = 5_001;
    let s = setup(&app).await;
    assert_eq!(call(&app, &s, "1000.00").await.status, 201, "the first three are called in full");
    let later: Vec<CommitmentRequest> = {
        let mut conn = app.conn();
        (0..LATER_INVESTORS)
            .map(|n| {
                let source = investai::storage::structure::Source {
                    id: String::new(),
                    kind: "private".into(),
                    programme: "private".into(),
                    legal_name: format!("Later investor {n}"),
                    country: "IT".into(),
                    lei: None,
                    created_at: chrono::NaiveDateTime::default(),
                };
                let source = investai::storage::structure::create_source(&mut conn, source).expect("source");
                let mut request = commitment_request(&s.fund, &s.tranche, &source.id, 10_000, None);
                request.new.effective_date = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).expect("date");
                request.new.allow_oversubscription = true;
                request
            })
            .collect()
    };
    let mut answers = Vec::new();
    for batch in later.chunks(128) {
        answers.extend(record_commitments(&mut app.conn(), batch).expect("the batch is recorded"));
    }
    let ids: Vec<String> = answers
        .iter()
        .map(|answer| match answer {
            Ok(Answered::Created(body)) => {
                serde_json::from_str::<Value>(body).expect("json")["id"].as_str().expect("id").to_string()
            }
            other => panic!("{}", outcome(other)),
        })
        .collect();
    let second = |amount: &str| {
        json!({"call_date": "2025-08-01", "due_date": "2025-08-31", "description": "Second drawdown", "lines": [
            {"tranche_id": s.tranche, "purpose": "investment", "facility_id": s.facility, "amount": amount}]})
    };
    let calls = format!("/api/v1/funds/{}/capital-calls", s.fund);
    let refused = app.post(&calls, &app.staff(), &second("5000.00")).await;
    assert_problem(&refused, 422, None);
    assert_eq!(refused.body["type"], "/problems/too-many-investors", "{}", refused.text);
    // One fewer with something to call: all 5,000 are called, a cent-exact 1.00 each.
    let cancel = json!({"kind": "cancel", "effective_date": "2025-07-15"});
    let cancelled = app.post(&format!("/api/v1/commitments/{}/amendments", ids[0]), &app.staff(), &cancel).await;
    assert_eq!(cancelled.status, 201, "{}", cancelled.text);
    let reply = app.post(&calls, &app.staff(), &second("5000.00")).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["notice_count"], 5_000);
    let overview = app.get(&format!("/api/v1/funds/{}/overview", s.fund), &app.auditor()).await;
    assert_eq!(overview.body["called"], "6000.00", "{}", overview.text);
    assert_eq!(overview.body["unfunded"], "495000.00", "{}", overview.text);
}

async fn contributions_pay_notices_without_over_payment(app: TestApp) {
    let s = setup(&app).await;
    let reply = call(&app, &s, "100.00").await;
    let list = notices(&app, &app.staff(), &format!("call_id={}", reply.body["id"].as_str().expect("id"))).await;
    let notice = &list[0];
    let id = notice["id"].as_str().expect("id");
    assert_eq!(notice["amount"], "50.00");
    assert_eq!(notice["late"], true, "due 2025-06-30 and unpaid");
    let pay = |amount: &str| json!({"amount": amount, "value_date": "2025-06-20"});
    let partial = app.post(&format!("/api/v1/notices/{id}/contributions"), &app.staff(), &pay("20.00")).await;
    assert_eq!(partial.status, 201, "{}", partial.text);
    assert_eq!(partial.body["notice"]["status"], "partial");
    let over = app.post(&format!("/api/v1/notices/{id}/contributions"), &app.staff(), &pay("30.01")).await;
    assert_problem(&over, 422, Some("amount"));
    assert!(over.text.contains("30.00"), "{}", over.text);
    let rest = app.post(&format!("/api/v1/notices/{id}/contributions"), &app.staff(), &pay("30.00")).await;
    assert_eq!(rest.body["notice"]["status"], "paid");
    assert_eq!(rest.body["notice"]["late"], false);
    let late = notices(&app, &app.staff(), "late=true").await;
    assert_eq!(late.len(), 2);
    let cash =
        app.get(&format!("/api/v1/funds/{}/accounts/1000/balance?as_of=2025-12-31", s.fund), &app.auditor()).await;
    assert_eq!(cash.body["net"], "50.00");
    let receivable =
        app.get(&format!("/api/v1/funds/{}/accounts/1100/balance?as_of=2025-12-31", s.fund), &app.auditor()).await;
    assert_eq!(receivable.body["net"], "50.00");
    let html = app.send(app.client.get(format!("{}/notices/{id}", app.address))).await;
    assert_eq!(html.status, 303, "the printable notice needs a session");
}

async fn investors_see_only_their_own(app: TestApp) {
    let s = setup(&app).await;
    call(&app, &s, "100.00").await;
    let alpha = app.token(Role::Investor, &s.sources[0]);
    let own = app.get(&format!("/api/v1/funds/{}/commitments", s.fund), &alpha).await;
    let items = own.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["source_id"], s.sources[0].as_str());
    let probing = app.get(&format!("/api/v1/funds/{}/commitments?source_id={}", s.fund, s.sources[1]), &alpha).await;
    assert_eq!(probing.body["items"].as_array().map(Vec::len), Some(0));
    let theirs = notices(&app, &alpha, "").await;
    assert_eq!(theirs.len(), 1);
    let all = notices(&app, &app.staff(), "").await;
    let other = all.iter().find(|n| n["investor_id"] != s.sources[0].as_str()).expect("another notice");
    let other_id = other["id"].as_str().expect("id");
    assert_problem(&app.get(&format!("/api/v1/notices/{other_id}"), &alpha).await, 404, None);
    let commitment = other["commitment_id"].as_str().expect("id");
    assert_problem(&app.get(&format!("/api/v1/commitments/{commitment}"), &alpha).await, 404, None);
    assert_problem(&app.get(&format!("/api/v1/sources/{}", s.sources[1]), &alpha).await, 404, None);
    assert_eq!(app.get(&format!("/api/v1/sources/{}", s.sources[0]), &alpha).await.status, 200);
    assert_problem(&app.get(&format!("/api/v1/funds/{}/overview", s.fund), &alpha).await, 403, None);
    assert_problem(&app.get("/api/v1/ledger/entries", &alpha).await, 403, None);
}

async fn deployments_proceeds_and_valuations_post_balanced_entries(app: TestApp) {
    let s = setup(&app).await;
    let reply = call(&app, &s, "1000.00").await;
    let list = notices(&app, &app.staff(), &format!("call_id={}", reply.body["id"].as_str().expect("id"))).await;
    for notice in &list {
        let body = json!({"amount": notice["amount"], "value_date": "2025-06-15"});
        app.post(&format!("/api/v1/notices/{}/contributions", notice["id"].as_str().expect("id")), &app.staff(), &body)
            .await;
    }
    let deploy = |amount: &str, date: &str| json!({"facility_id": s.facility, "kind": "equity", "amount": amount, "value_date": date, "description": "Equity"});
    let early =
        app.post(&format!("/api/v1/funds/{}/deployments", s.fund), &app.staff(), &deploy("10.00", "2025-06-01")).await;
    assert_problem(&early, 422, Some("amount"));
    let too_much = app
        .post(&format!("/api/v1/funds/{}/deployments", s.fund), &app.staff(), &deploy("1000.01", "2025-07-01"))
        .await;
    assert_problem(&too_much, 422, Some("amount"));
    let ok =
        app.post(&format!("/api/v1/funds/{}/deployments", s.fund), &app.staff(), &deploy("800.00", "2025-07-01")).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let proceeds = json!({"facility_id": s.facility, "amount": "250.00", "cost_returned": "200.00", "value_date": "2025-09-01", "description": "Partial exit"});
    let back = app.post(&format!("/api/v1/funds/{}/proceeds", s.fund), &app.staff(), &proceeds).await;
    assert_eq!(back.status, 201, "{}", back.text);
    let valuation = json!({"as_of": "2025-12-31", "nav": "1100.00", "description": "Year end"});
    let valued = app.post(&format!("/api/v1/funds/{}/valuations", s.fund), &app.staff(), &valuation).await;
    // Book NAV before: cash 200 + 250 = 450, investments 600 -> 1,050; the valuation adds 50.
    assert_eq!(valued.body["adjustment"], "50.00", "{}", valued.text);
    let tb = app.get(&format!("/api/v1/funds/{}/trial-balance?as_of=2025-12-31", s.fund), &app.auditor()).await;
    assert_eq!(tb.body["balanced"], true, "{}", tb.text);
    let overview = app.get(&format!("/api/v1/funds/{}/overview", s.fund), &app.auditor()).await;
    assert_eq!(overview.body["deployed"], "800.00");
    assert_eq!(overview.body["paid_in"], "1000.00");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
}

async fn demo_data_loads_and_balances(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    let funds = app.get("/api/v1/funds", &app.auditor()).await;
    let umbrella = funds.body["items"]
        .as_array()
        .expect("funds")
        .iter()
        .find(|f| f["name"] == "InvestAI")
        .expect("umbrella")
        .clone();
    let overview =
        app.get(&format!("/api/v1/funds/{}/overview", umbrella["id"].as_str().expect("id")), &app.auditor()).await;
    assert_eq!(overview.body["fund"]["target_size"], "200000000000.00");
    assert_eq!(overview.body["committed"], "200000000000.00");
    assert_eq!(overview.body["public"]["committed"], "50000000000.00");
    assert_eq!(overview.body["private"]["committed"], "150000000000.00");
    assert_eq!(overview.body["leverage"], "3.00");
    let compartment = &overview.body["compartments"][0];
    assert_eq!(compartment["fund"]["target_size"], "20000000000.00");
    let tranche_names: Vec<&str> =
        compartment["by_tranche"].as_array().expect("tranches").iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(tranche_names, vec!["Senior", "Mezzanine", "Public first-loss"]);
    assert_eq!(compartment["by_tranche"][2]["first_loss"], true);
    assert!(funds.body["items"].as_array().expect("funds").len() == 2);
    for fund in funds.body["items"].as_array().expect("funds") {
        let tb =
            app.get(&format!("/api/v1/funds/{}/trial-balance", fund["id"].as_str().expect("id")), &app.auditor()).await;
        assert_eq!(tb.body["balanced"], true, "{}", tb.text);
    }
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
    let late = notices(&app, &app.staff(), "late=true").await;
    assert!(!late.is_empty(), "the demo has a late notice");
    assert_tranche_totals_agree(&app);
}

async fn facility_prices_are_versioned_by_date(app: TestApp) {
    let s = setup(&app).await;
    let path = format!("/api/v1/facilities/{}/prices", s.facility);
    for (date, price) in [("2025-01-01", "2.00"), ("2026-01-01", "2.35")] {
        let reply = app.post(&path, &app.staff(), &json!({"effective_date": date, "price_per_gpu_hour": price})).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let again =
        app.post(&path, &app.staff(), &json!({"effective_date": "2026-01-01", "price_per_gpu_hour": "9.99"})).await;
    assert_problem(&again, 409, None);
    let free =
        app.post(&path, &app.staff(), &json!({"effective_date": "2027-01-01", "price_per_gpu_hour": "0.00"})).await;
    assert_problem(&free, 400, Some("price_per_gpu_hour"));
    let sme = app.token(Role::Sme, "01934b7e-0000-7000-8000-0000000000aa");
    let on = |date: &str| format!("/api/v1/facilities/{}/price?as_of={date}", s.facility);
    assert_eq!(app.get(&on("2025-12-31"), &sme).await.body["price_per_gpu_hour"], "2.00");
    assert_eq!(app.get(&on("2026-01-01"), &sme).await.body["price_per_gpu_hour"], "2.35");
    assert_problem(&app.get(&on("2024-12-31"), &sme).await, 422, None);
    assert_eq!(app.get(&path, &sme).await.body["items"].as_array().map(Vec::len), Some(2));
}

/// A fund whose one tranche has a target of 1,000.00 and a minimum ticket of 100.00, and
/// `count` sources: what a batch of commitments is recorded against.
async fn raced_tranche(app: &TestApp, name: &str, count: usize) -> (String, String, Vec<String>) {
    let fund = app.create_fund(name).await;
    let body = json!({"name": "Mezzanine", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08", "min_ticket": "100.00"});
    let tranche = app.post(&format!("/api/v1/funds/{fund}/tranches"), &app.staff(), &body).await;
    let tranche = tranche.body["id"].as_str().expect("id").to_string();
    let mut sources = Vec::new();
    for n in 0..count {
        sources.push(source(app, &format!("{name} source {n}"), "private", None, "IT").await);
    }
    (fund, tranche, sources)
}

/// Asserts every tranche's running total equals the sum of its commitments, summed here row
/// by row from the commitments table.
fn assert_tranche_totals_agree(app: &TestApp) {
    use diesel::prelude::*;
    use investai::storage::schema::{commitments, tranches};
    let mut conn = app.conn();
    let kept: Vec<(String, i64)> =
        tranches::table.select((tranches::id, tranches::committed_cents)).load(&mut *conn).expect("tranches");
    let rows: Vec<(String, i64)> = commitments::table
        .select((commitments::tranche_id, commitments::committed_cents))
        .load(&mut *conn)
        .expect("commitments");
    assert!(!kept.is_empty(), "no tranche to check");
    for (tranche, total) in kept {
        let summed: i64 = rows.iter().filter(|(t, _)| *t == tranche).map(|(_, cents)| cents).sum();
        assert_eq!(total, summed, "tranche {tranche}: running total against the sum of its commitments");
    }
    let capital = investai::storage::capital_totals::disagreements(&mut conn).expect("capital totals");
    assert!(capital.is_empty(), "capital totals against their commitments and notices: {capital:?}");
}

fn commitment_request(
    fund: &str,
    tranche: &str,
    source: &str,
    cents: i64,
    key: Option<(&str, &str)>,
) -> CommitmentRequest {
    CommitmentRequest {
        fund_id: fund.to_string(),
        new: NewCommitment {
            source_id: source.to_string(),
            tranche_id: tranche.to_string(),
            amount: Cents::new(cents),
            effective_date: chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"),
            allow_oversubscription: false,
            actor: "staff:batch".into(),
        },
        key: key.map(|(key, hash)| KeyedRequest {
            principal: "staff:batch".into(),
            key: key.to_string(),
            request_hash: hash.to_string(),
        }),
    }
}

/// The error code of a refused request, or what it was answered.
fn outcome(answer: &Result<Answered, investai::error::AppError>) -> String {
    match answer {
        Ok(Answered::Created(_)) => "created".into(),
        Ok(Answered::Replayed { status, .. }) => format!("replayed {status}"),
        Err(error) => error.code().to_string(),
    }
}

async fn a_batch_decides_each_commitment_in_order_as_if_alone(app: TestApp) {
    let (fund, tranche, s) = raced_tranche(&app, "Batched fund", 4).await;
    let request = |source: &str, cents: i64, key| commitment_request(&fund, &tranche, source, cents, key);
    let batch = vec![
        request(&s[0], 40_000, Some(("k1", "h1"))),
        request(&s[0], 40_000, Some(("k1", "h1"))),
        request(&s[1], 40_000, Some(("k1", "h2"))),
        request(&s[1], 40_000, None),
        request(&s[2], 40_000, None),
        request(&s[2], 5_000, None),
        commitment_request(&fund, &fund, &s[3], 40_000, None),
        request(&s[0], 10_000, None),
        request(&s[2], 20_000, Some(("k2", "h3"))),
    ];
    let answers = record_commitments(&mut app.conn(), &batch).expect("the batch is recorded");
    let outcomes: Vec<String> = answers.iter().map(outcome).collect();
    assert_eq!(
        outcomes,
        [
            "created",
            "replayed 201",
            "idempotency-key-reused",
            "created",
            "above-tranche-target",
            "below-minimum-ticket",
            "unknown-tranche",
            "commitment-exists",
            "created"
        ]
    );
    // The replay is the first answer itself, and both are the commitment as read back.
    let (Ok(Answered::Created(first)), Ok(Answered::Replayed { body: replayed, .. })) = (&answers[0], &answers[1])
    else {
        panic!("{outcomes:?}");
    };
    assert_eq!(first, replayed);
    let first: Value = serde_json::from_str(first).expect("json");
    let read = app.get(&format!("/api/v1/commitments/{}", first["id"].as_str().expect("id")), &app.auditor()).await;
    assert_eq!(read.body, first);
    // A later batch replays a key from the database, and refuses it for another request.
    let again = vec![request(&s[0], 40_000, Some(("k1", "h1"))), request(&s[3], 40_000, Some(("k2", "h9")))];
    let answers = record_commitments(&mut app.conn(), &again).expect("the batch is recorded");
    assert_eq!(answers.iter().map(outcome).collect::<Vec<_>>(), ["replayed 201", "idempotency-key-reused"]);
    let overview = app.get(&format!("/api/v1/funds/{fund}/overview"), &app.auditor()).await;
    assert_eq!(overview.body["committed"], "1000.00", "{}", overview.text);
    let tb = app.get(&format!("/api/v1/funds/{fund}/trial-balance?as_of=2030-01-01"), &app.auditor()).await;
    assert_eq!(tb.body["balanced"], true);
    let report = investai::storage::ledger::verify_chain(&mut app.conn()).expect("verify");
    assert!(report.ok, "{:?}", report.first_fault);
}

/// The target holds on every date, not only once every event has taken effect: a removal dated
/// later leaves the tranche committing more before it than its running total says. Target
/// 1,000.00; A commits 800.00 from 2025-01-01 and removes 300.00 from 2025-09-01 (500.00 in
/// all, 800.00 until 2025-08-31).
async fn the_tranche_target_holds_on_every_date_before_a_later_removal(app: TestApp) {
    let (fund, tranche, s) = raced_tranche(&app, "Dated target fund", 4).await;
    let commitments = format!("/api/v1/funds/{fund}/commitments");
    let on = |source: &str, amount: &str, date: &str| json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": date});
    let a = common::created(&app, &commitments, on(&s[0], "800.00", "2025-01-01")).await;
    let amendments = format!("/api/v1/commitments/{}/amendments", a["id"].as_str().expect("id"));
    let removal = json!({"kind": "decrease", "amount": "300.00", "effective_date": "2025-09-01"});
    assert_eq!(app.post(&amendments, &app.staff(), &removal).await.status, 201);
    // 400.00 from 2025-02-01 would make 1,200.00 until the removal.
    let refused = app.post(&commitments, &app.staff(), &on(&s[1], "400.00", "2025-02-01")).await;
    assert_problem(&refused, 422, Some("amount"));
    assert_eq!(refused.body["type"], "/problems/above-tranche-target", "{}", refused.text);
    assert!(refused.text.contains("1,200.00") || refused.text.contains("1200.00"), "{}", refused.text);
    let increase = json!({"kind": "increase", "amount": "300.00", "effective_date": "2025-02-01"});
    let refused = app.post(&amendments, &app.staff(), &increase).await;
    assert_problem(&refused, 422, Some("amount"));
    // In one batch: 400.00 from 2025-10-01 (900.00 from then), then 100.00 from 2025-02-01, which
    // makes 900.00 until the removal, 600.00 after it and 1,000.00 from 2025-10-01: both fit.
    let dated = |source: &str, cents: i64, (y, m, d): (i32, u32, u32)| {
        let mut request = commitment_request(&fund, &tranche, source, cents, None);
        request.new.effective_date = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
        request
    };
    let batch = vec![dated(&s[1], 40_000, (2025, 10, 1)), dated(&s[2], 10_000, (2025, 2, 1))];
    let answers = record_commitments(&mut app.conn(), &batch).expect("the batch is recorded");
    assert_eq!(answers.iter().map(outcome).collect::<Vec<_>>(), ["created", "created"]);
    // Full on every date from 2025-10-01: 100.00 more from 2025-08-01 is refused.
    let refused = app.post(&commitments, &app.staff(), &on(&s[3], "100.00", "2025-08-01")).await;
    assert_problem(&refused, 422, Some("amount"));
    assert_tranche_totals_agree(&app);
}

async fn a_batch_answers_as_the_same_requests_one_by_one(app: TestApp) {
    // A fixed pseudo-random stream of requests over 6 sources, 4 keys and amounts around the
    // minimum ticket and the target, recorded as one batch in one fund and one by one in another.
    let mut seed: u64 = 0x5eed_1e55;
    let mut next = |bound: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % bound
    };
    let mut picks: Vec<(usize, i64, Option<u64>)> = Vec::new();
    for _ in 0..48 {
        // One in four is a retry of the request before it.
        let retry = picks.last().copied().filter(|_| next(4) == 0);
        let source = next(6) as usize;
        let cents = [5_000, 10_000, 25_000, 40_000, 99_999][next(5) as usize];
        let key = (next(2) == 0).then(|| next(4));
        picks.push(retry.unwrap_or((source, cents, key)));
    }
    let mut outcomes = Vec::new();
    for (name, batched) in [("Batch", true), ("Singles", false)] {
        let (fund, tranche, sources) = raced_tranche(&app, name, 6).await;
        let keys: Vec<(String, String)> =
            picks.iter().map(|(source, cents, key)| (format!("{name}-{key:?}"), format!("{source}-{cents}"))).collect();
        let requests: Vec<CommitmentRequest> = picks
            .iter()
            .zip(&keys)
            .map(|((source, cents, key), (k, hash))| {
                commitment_request(&fund, &tranche, &sources[*source], *cents, key.map(|_| (k.as_str(), hash.as_str())))
            })
            .collect();
        let answers: Vec<String> = if batched {
            record_commitments(&mut app.conn(), &requests).expect("batch").iter().map(outcome).collect()
        } else {
            requests
                .iter()
                .map(|r| outcome(&record_commitments(&mut app.conn(), std::slice::from_ref(r)).expect("one")[0]))
                .collect()
        };
        let overview = app.get(&format!("/api/v1/funds/{fund}/overview"), &app.auditor()).await;
        outcomes.push((answers, overview.body["committed"].clone()));
    }
    assert_eq!(outcomes[0], outcomes[1]);
    let seen = &outcomes[0].0;
    for kind in ["created", "replayed 201", "idempotency-key-reused", "commitment-exists", "above-tranche-target"] {
        assert!(seen.iter().any(|o| o == kind), "no {kind} among {seen:?}");
    }
    let report = investai::storage::ledger::verify_chain(&mut app.conn()).expect("verify");
    assert!(report.ok, "{:?}", report.first_fault);
    assert_tranche_totals_agree(&app);
}

on_both_backends!(
    a_first_loss_tranche_ranks_below_every_other,
    a_batch_decides_each_commitment_in_order_as_if_alone,
    a_batch_answers_as_the_same_requests_one_by_one,
    the_tranche_target_holds_on_every_date_before_a_later_removal,
    concurrent_commitments_never_pass_the_target,
    facility_prices_are_versioned_by_date,
    sources_are_validated,
    commitments_follow_target_ticket_and_amendment_rules,
    a_call_allocates_exactly_and_never_above_unfunded,
    a_call_never_skips_an_investor_with_something_left_to_call,
    contributions_pay_notices_without_over_payment,
    investors_see_only_their_own,
    deployments_proceeds_and_valuations_post_balanced_entries,
    demo_data_loads_and_balances,
);
