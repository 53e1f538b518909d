//! Two server processes on one PostgreSQL database, written to at the same time: awards
//! racing for one call's budget, contributions to one notice, and the same usage records sent
//! to both. No budget is overspent, no usage record counts twice, no update is lost, a view
//! cached on one node follows a write on the other, and `investai verify` passes afterwards.
//! A user disabled, re-roled, given a new password or signed out on one node is refused on
//! the other within the standing refresh time (5 s by default).

use crate::common;

use common::{investai, start_server, Backend, Server};
use futures_util::future::join_all;
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// Applications that race for a budget that fits `AWARDS_FUNDED` of them.
const APPLICATIONS: usize = 24;
const AWARDS_FUNDED: usize = 6;
/// Partial payments of EUR 10.00 sent to one notice through both nodes.
const PAYMENTS: usize = 20;
/// Reads of node b's overview, 10 ms apart, before its cache must show node a's write.
const OVERVIEW_POLLS_MAX: usize = 200;

struct Client<'a> {
    http: reqwest::Client,
    app: &'a common::TestApp,
}

impl Client<'_> {
    async fn send(&self, node: &Server, role: Role, sub: &str, path: &str, body: &Value) -> (u16, Value) {
        let token = self.app.token(role, sub);
        let reply = self
            .http
            .post(format!("{}{path}", node.address))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, node: &Server, path: &str) -> Value {
        let token = self.app.auditor();
        let reply = self.http.get(format!("{}{path}", node.address)).bearer_auth(token).send().await.expect("get");
        reply.json().await.expect("json")
    }

    async fn created(&self, node: &Server, path: &str, body: Value) -> String {
        let (status, reply) = self.send(node, Role::Staff, "alice", path, &body).await;
        assert_eq!(status, 201, "{path}: {reply}");
        reply["id"].as_str().unwrap_or_default().to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_neither_overspend_nor_double_count() {
    let app = common::spawn_app(Backend::Postgres).await;
    let (a, b) = (start_server(&app.database_url).await, start_server(&app.database_url).await);
    let c = Client { http: reqwest::Client::new(), app: &app };

    // A fund whose pool holds 1,000,000.00; a facility at 2.00 an hour; a call whose budget
    // fits exactly six awards of 1,000 h (1,000 h x 2.00 x 70% = 1,400.00 each).
    let fund = c
        .created(
            &a,
            "/api/v1/funds",
            json!({"name": "Two nodes", "target_size": "1000000000.00",
        "inception_date": "2025-02-11", "term_years": 10}),
        )
        .await;
    c.created(&a, &format!("/api/v1/funds/{fund}/journal-entries"), json!({"effective_date": "2025-01-01",
        "description": "pool", "postings": [{"account": "1010", "debit": "1000000.00"}, {"account": "3900", "credit": "1000000.00"}]})).await;
    let facility = c
        .created(
            &a,
            "/api/v1/facilities",
            json!({"name": "LUMI-AI", "kind": "ai_factory", "member_state": "FI",
        "chip_count": 1000, "chip_type": "H100", "quarterly_capacity_gpu_hours": 100000000}),
        )
        .await;
    c.created(
        &a,
        &format!("/api/v1/facilities/{facility}/prices"),
        json!({"effective_date": "2025-01-01", "price_per_gpu_hour": "2.00"}),
    )
    .await;
    let now = chrono::Utc::now();
    let budget = format!("{}.00", 1_400 * AWARDS_FUNDED);
    let call = c.created(&a, "/api/v1/grant-calls", json!({"fund_id": fund, "name": "Race", "budget": budget,
        "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(), "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
        "eligible_facility_ids": [facility], "max_gpu_hours_per_award": "1000", "aid_basis": "industrial_research", "aid_measure_reference": "SA.100001",
        "min_reviewers": 1, "min_average_score": "60"})).await;
    let mut applications = Vec::new();
    for n in 0..APPLICATIONS {
        let sme = format!("sme-{n}");
        let body = json!({"company": {"legal_name": format!("SME {n}"), "registration_number": format!("R-{n}"), "country": "FR", "nace_code": "62.01", "nuts2_region": "FR10"},
            "staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00", "related": [], "declarations": {"undertaking_in_difficulty": false, "outstanding_recovery_order": false}, 
            "project_title": "Model", "summary": "Training.", "requested_gpu_hours": "1000", "facility_id": facility,
            "start_date": "2026-01-01", "end_date": "2026-03-31"});
        let (status, draft) =
            c.send(&a, Role::Sme, &sme, &format!("/api/v1/grant-calls/{call}/applications"), &body).await;
        assert_eq!(status, 201, "{draft}");
        let id = draft["id"].as_str().expect("id").to_string();
        let (status, _) = c.send(&b, Role::Sme, &sme, &format!("/api/v1/applications/{id}/submit"), &Value::Null).await;
        assert_eq!(status, 200);
        let review = json!({"score": 80, "comment": "ok"});
        let (status, _) = c.send(&a, Role::Staff, "rev", &format!("/api/v1/applications/{id}/reviews"), &review).await;
        assert_eq!(status, 201);
        applications.push(id);
    }

    // Awards, half through each node, all at once.
    let awards = join_all(applications.iter().enumerate().map(|(n, id)| {
        let node = if n % 2 == 0 { &a } else { &b };
        let (c, path) = (&c, format!("/api/v1/applications/{id}/award"));
        async move { c.send(node, Role::Staff, "alice", &path, &json!({})).await }
    }))
    .await;
    let won: Vec<&Value> = awards.iter().filter(|(status, _)| *status == 201).map(|(_, body)| body).collect();
    assert_eq!(won.len(), AWARDS_FUNDED, "{awards:?}");
    assert!(awards.iter().all(|(status, _)| *status == 201 || *status == 422), "{awards:?}");
    let summary = c.get(&b, &format!("/api/v1/grant-calls/{call}")).await;
    assert_eq!(summary["call"]["remaining"], "0.00", "{summary}");
    let committed = c.get(&a, &format!("/api/v1/funds/{fund}/accounts/1020/balance?as_of=2100-01-01")).await;
    assert_eq!(committed["net"], "0.00", "the call's budget is fully committed and never overdrawn: {committed}");

    // The same usage records sent to both nodes at once, twice each: every record counts once.
    let award = won[0]["id"].as_str().expect("award id").to_string();
    let records: Vec<Value> = (0..50)
        .map(|n| {
            json!({"record_id": format!("rec-{n}"), "award_id": award, "gpu_hours": "1.500",
            "period_start": "2026-01-05T08:00:00Z", "period_end": "2026-01-05T20:00:00Z"})
        })
        .collect();
    let batch = json!({"records": records});
    let sends = join_all((0..4).map(|n| {
        let node = if n % 2 == 0 { &a } else { &b };
        c.send(node, Role::Facility, &facility, "/api/v1/usage", &batch)
    }))
    .await;
    assert!(sends.iter().all(|(status, _)| *status == 200), "{sends:?}");
    let new: u64 = sends.iter().map(|(_, report)| report["new"].as_u64().unwrap_or(0)).sum();
    assert_eq!(new, 50, "each record counted by exactly one of the four sends: {sends:?}");
    let used = c.get(&a, &format!("/api/v1/awards/{award}")).await;
    assert_eq!(used["used_gpu_hours"], "75.000", "50 x 1.500 h, once: {used}");

    // Partial payments to one notice through both nodes: no payment is lost.
    let tranche = c
        .created(
            &a,
            &format!("/api/v1/funds/{fund}/tranches"),
            json!({"name": "Senior", "seniority": 1, "target_size": "10000.00", "pref_rate": "0.08"}),
        )
        .await;
    let source =
        c.created(&a, "/api/v1/sources", json!({"kind": "private", "legal_name": "Alpha", "country": "FR"})).await;
    c.created(
        &a,
        &format!("/api/v1/funds/{fund}/commitments"),
        json!({"source_id": source, "tranche_id": tranche, "amount": "10000.00", "effective_date": "2024-12-01"}),
    )
    .await;
    let capital_call = c.created(&a, &format!("/api/v1/funds/{fund}/capital-calls"), json!({"call_date": "2025-01-01",
        "due_date": "2025-02-01", "description": "Fees", "lines": [{"tranche_id": tranche, "purpose": "fees", "amount": "1000.00"}]})).await;
    let notices = c.get(&a, &format!("/api/v1/notices?call_id={capital_call}")).await;
    let notice = notices["items"][0]["id"].as_str().expect("notice").to_string();
    let payments = join_all((0..PAYMENTS).map(|n| {
        let node = if n % 2 == 0 { &a } else { &b };
        let (c, path) = (&c, format!("/api/v1/notices/{notice}/contributions"));
        async move {
            c.send(node, Role::Staff, "alice", &path, &json!({"amount": "10.00", "value_date": "2025-01-15"})).await
        }
    }))
    .await;
    assert!(payments.iter().all(|(status, _)| *status == 201), "{payments:?}");
    let paid = c.get(&b, &format!("/api/v1/notices/{notice}")).await;
    assert_eq!(paid["paid"], format!("{}.00", 10 * PAYMENTS), "no payment lost: {paid}");

    // A view cached on one node follows a write on the other (the watcher reads the books
    // version every few milliseconds); without it, node b would answer the old overview.
    let overview = format!("/api/v1/funds/{fund}/overview");
    let cached = c.get(&b, &overview).await;
    assert_eq!(c.get(&b, &overview).await, cached, "unchanged books, unchanged view");
    let beta =
        c.created(&a, "/api/v1/sources", json!({"kind": "private", "legal_name": "Beta", "country": "DE"})).await;
    c.created(
        &a,
        &format!("/api/v1/funds/{fund}/commitments"),
        json!({"source_id": beta, "tranche_id": tranche, "amount": "5000.00", "effective_date": "2025-03-01",
            "allow_oversubscription": true}),
    )
    .await;
    let mut followed = false;
    for _ in 0..OVERVIEW_POLLS_MAX {
        if c.get(&b, &overview).await != cached {
            followed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(followed, "node b's overview shows node a's commitment within {OVERVIEW_POLLS_MAX} polls");

    a.kill();
    b.kill();
    let verify = investai(&app.database_url).arg("verify").output().expect("investai verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

/// The nodes' default `standing_refresh_seconds`: how stale a node's view of a user may be.
const STANDING_REFRESH_SECONDS: u64 = 5;
/// Slack over the refresh time for the polling request itself on a busy machine.
const REFUSAL_SLACK_SECONDS: u64 = 3;

/// Polls `node` with `token` every 100 ms until it answers 401; the seconds that took.
async fn seconds_until_refused(http: &reqwest::Client, node: &Server, token: &str) -> f64 {
    let started = std::time::Instant::now();
    let deadline = std::time::Duration::from_secs(STANDING_REFRESH_SECONDS + REFUSAL_SLACK_SECONDS);
    loop {
        let reply = http.get(format!("{}/api/v1/funds", node.address)).bearer_auth(token).send().await.expect("get");
        if reply.status().as_u16() == 401 {
            return started.elapsed().as_secs_f64();
        }
        assert_eq!(reply.status().as_u16(), 200);
        assert!(started.elapsed() < deadline, "node {} still accepts the token after {deadline:?}", node.address);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_node_is_refused_on_the_other_within_the_refresh_time() {
    let app = common::spawn_app(Backend::Postgres).await;
    let (a, b) = (start_server(&app.database_url).await, start_server(&app.database_url).await);
    let http = reqwest::Client::new();
    let admin = app.token(Role::Admin, "root");
    let password = "a long enough password";
    let sign_in = |node: &Server, username: &str| {
        let request = http
            .post(format!("{}/api/v1/auth/token", node.address))
            .json(&json!({"username": username, "password": password}));
        async move {
            let reply: Value = request.send().await.expect("sign in").json().await.expect("json");
            reply["access_token"].as_str().expect("token").to_string()
        }
    };
    let post = |node: &Server, path: String, token: &str, body: Value| {
        let request = http.post(format!("{}{path}", node.address)).bearer_auth(token).json(&body);
        async move { request.send().await.expect("post").status().as_u16() }
    };
    let mut ids = Vec::new();
    for name in ["fay", "gus", "hal", "ivy"] {
        let body = json!({"username": name, "role": "staff", "password": password});
        let reply = app.post("/api/v1/users", &admin, &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        ids.push(reply.body["id"].as_str().expect("id").to_string());
    }
    let changes = [
        ("disable", json!(null)),
        ("password", json!({"password": "a new long password"})),
        ("role", json!({"role": "auditor"})),
        ("sign-out", json!(null)),
    ];
    for ((change, body), (id, name)) in changes.into_iter().zip(ids.iter().zip(["fay", "gus", "hal", "ivy"])) {
        let token = sign_in(&a, name).await;
        let read = http.get(format!("{}/api/v1/funds", b.address)).bearer_auth(&token).send().await.expect("get");
        assert_eq!(read.status().as_u16(), 200, "node b has read {name}'s standing");
        let status = match change {
            "sign-out" => post(&a, "/api/v1/auth/sign-out".into(), &token, body).await,
            _ => post(&a, format!("/api/v1/users/{id}/{change}"), &admin, body).await,
        };
        assert!(matches!(status, 200 | 204), "{change}: {status}");
        let on_a = http.get(format!("{}/api/v1/funds", a.address)).bearer_auth(&token).send().await.expect("get");
        assert_eq!(on_a.status().as_u16(), 401, "{change}: refused at once on the node that made it");
        let seconds = seconds_until_refused(&http, &b, &token).await;
        println!("{change}: refused on the other node after {seconds:.2} s");
    }
}
