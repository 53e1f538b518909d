//! Distributions, write-downs, tranche NAV and investor metrics on both backends.

use crate::common;

use common::{assert_problem, created, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

struct Fund {
    id: String,
    senior: String,
    junior: String,
    investors: Vec<String>,
    facility: String,
}

/// Senior (8% pref) and a first-loss junior capped at 1.5x; two senior investors of 600.00
/// and 400.00, one junior of 500.00; everything called and paid on 2025-01-01; 1,200.00
/// deployed; the facility pays 1,800.00 back (cost 1,200.00) on 2026-01-01.
async fn fund(app: &TestApp) -> Fund {
    let f = fund_before_exit(app).await;
    created(app, &format!("/api/v1/funds/{}/proceeds", f.id), json!({"facility_id": f.facility, "amount": "1800.00", "cost_returned": "1200.00", "value_date": "2026-01-01", "description": "Exit"})).await;
    f
}

/// The fund of [`fund`] before the facility pays anything back.
async fn fund_before_exit(app: &TestApp) -> Fund {
    let id = app.create_fund("Waterfall fund").await;
    let senior = created(
        app,
        &format!("/api/v1/funds/{id}/tranches"),
        json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08"}),
    )
    .await;
    let junior = created(app, &format!("/api/v1/funds/{id}/tranches"), json!({"name": "First loss", "seniority": 2, "target_size": "500.00", "pref_rate": "0", "return_cap": "1.5", "first_loss": true})).await;
    let (senior, junior) =
        (senior["id"].as_str().unwrap_or_default().to_string(), junior["id"].as_str().unwrap_or_default().to_string());
    let mut investors = Vec::new();
    for (name, tranche, amount) in
        [("Senior A", &senior, "600.00"), ("Senior B", &senior, "400.00"), ("EU budget", &junior, "500.00")]
    {
        let source =
            created(app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"})).await;
        let source = source["id"].as_str().unwrap_or_default().to_string();
        created(
            app,
            &format!("/api/v1/funds/{id}/commitments"),
            json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2024-12-01"}),
        )
        .await;
        investors.push(source);
    }
    let facility = created(app, "/api/v1/facilities", json!({"name": "GF", "kind": "gigafactory", "member_state": "DE", "chip_count": 1000, "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000})).await;
    let facility = facility["id"].as_str().unwrap_or_default().to_string();
    let call = created(
        app,
        &format!("/api/v1/funds/{id}/capital-calls"),
        json!({"call_date": "2025-01-01", "due_date": "2025-01-01", "description": "All in", "lines": [
        {"tranche_id": senior, "purpose": "investment", "facility_id": facility, "amount": "1000.00"},
        {"tranche_id": junior, "purpose": "investment", "facility_id": facility, "amount": "500.00"}]}),
    )
    .await;
    let notices =
        app.get(&format!("/api/v1/notices?call_id={}", call["id"].as_str().unwrap_or_default()), &app.staff()).await;
    for notice in notices.body["items"].as_array().cloned().unwrap_or_default() {
        created(
            app,
            &format!("/api/v1/notices/{}/contributions", notice["id"].as_str().unwrap_or_default()),
            json!({"amount": notice["amount"], "value_date": "2025-01-01"}),
        )
        .await;
    }
    created(app, &format!("/api/v1/funds/{id}/deployments"), json!({"facility_id": facility, "kind": "equity", "amount": "1200.00", "value_date": "2025-01-02", "description": "Stake"})).await;
    Fund { id, senior, junior, investors, facility }
}

fn terms(f: &Fund) -> Value {
    json!({"steps": [
        {"type": "pref", "tranches": [f.senior], "mode": "sequential"},
        {"type": "capital", "tranches": [f.senior, f.junior], "mode": "sequential"},
        {"type": "reserve", "account": "1010", "percent": "10", "cap": "50.00"},
        {"type": "split", "shares": [{"tranche": f.senior, "percent": "40"}, {"tranche": f.junior, "percent": "60"}]}
    ]})
}

async fn preview_and_execute_agree_and_post_balanced_entries(app: TestApp) {
    let f = fund(&app).await;
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms(&f)).await;
    let body = json!({"cash": "2000.00", "date": "2026-01-01", "description": "Exit proceeds"});
    let preview = app.post(&format!("/api/v1/funds/{}/distributions/preview", f.id), &app.auditor(), &body).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let steps = &preview.body["allocation"]["steps"];
    // Pref: 8% x 365/365 on 600.00 and 400.00 = 48.00 + 32.00.
    assert_eq!(steps[0]["paid"], "80.00");
    assert_eq!(steps[1]["paid"], "1500.00");
    // Reserve: 10% of 420.00 = 42.00 (under the 50.00 cap).
    assert_eq!(steps[2]["paid"], "42.00");
    // Split of 378.00: junior 60% = 226.80 but capped at 1.5 x 500.00 - 500.00 = 250.00 -> fits.
    assert_eq!(steps[3]["paid"], "378.00");
    assert_eq!(preview.body["allocation"]["remaining"], "0.00");
    let lines = steps[0]["lines"].as_array().expect("lines");
    assert!(lines.iter().all(|l| l["rule"].as_str().is_some_and(|r| r.contains("ACT/365F"))));

    let first =
        app.post_with_key(&format!("/api/v1/funds/{}/distributions", f.id), &app.staff(), "dist-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["allocation"], preview.body["allocation"], "preview and execute agree exactly");
    let again =
        app.post_with_key(&format!("/api/v1/funds/{}/distributions", f.id), &app.staff(), "dist-1", &body).await;
    assert_eq!(again.body["id"], first.body["id"]);
    let list = app.get(&format!("/api/v1/funds/{}/distributions", f.id), &app.auditor()).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1), "one key, one distribution");
    let stored =
        app.get(&format!("/api/v1/distributions/{}", first.body["id"].as_str().expect("id")), &app.auditor()).await;
    assert_eq!(stored.body["allocation"], preview.body["allocation"]);

    let tb = app.get(&format!("/api/v1/funds/{}/trial-balance?as_of=2026-12-31", f.id), &app.auditor()).await;
    assert_eq!(tb.body["balanced"], true, "{}", tb.text);
    let pool = app.get(&format!("/api/v1/funds/{}/accounts/1010/balance?as_of=2026-12-31", f.id), &app.auditor()).await;
    assert_eq!(pool.body["net"], "42.00");
    let cash = app.get(&format!("/api/v1/funds/{}/accounts/1000/balance?as_of=2026-12-31", f.id), &app.auditor()).await;
    assert_eq!(cash.body["net"], "100.00", "300.00 left after deploying, 1,800.00 in, 2,000.00 out");
    assert_eq!(app.get("/api/v1/ledger/verify", &app.auditor()).await.body["ok"], true);

    // Each investor's notice; an investor sees only its own.
    let investor = app.token(Role::Investor, &f.investors[2]);
    let own = app.get("/api/v1/distribution-notices", &investor).await;
    let own = own.body["items"].as_array().expect("notices");
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["capital"], "500.00");
    assert_eq!(own[0]["profit"], "226.80");
    let overdrawn = app
        .post(
            &format!("/api/v1/funds/{}/distributions", f.id),
            &app.staff(),
            &json!({"cash": "100.01", "date": "2026-02-01", "description": "Too much"}),
        )
        .await;
    assert_problem(&overdrawn, 422, Some("cash"));
    let backdated = app
        .post(
            &format!("/api/v1/funds/{}/distributions", f.id),
            &app.staff(),
            &json!({"cash": "1.00", "date": "2025-12-31", "description": "Late"}),
        )
        .await;
    assert_problem(&backdated, 422, Some("date"));
}

async fn terms_are_validated_with_paths(app: TestApp) {
    let f = fund(&app).await;
    let bad = json!({"steps": [
        {"type": "pref", "tranches": ["01934b7e-0000-7000-8000-000000000000"], "mode": "sequential"},
        {"type": "split", "shares": [{"tranche": f.senior, "percent": "40"}, {"tranche": f.junior, "percent": "50"}]},
        {"type": "reserve", "account": "7777", "percent": "10"}
    ]});
    let reply = app.post(&format!("/api/v1/funds/{}/waterfall", f.id), &app.staff(), &bad).await;
    assert_problem(&reply, 400, Some("steps[0].tranches[0]"));
    assert_problem(&reply, 400, Some("steps[1].shares"));
    assert_problem(&reply, 400, Some("steps[2]"));
    assert_problem(&reply, 400, Some("steps[2].account"));
    let twice = json!({"steps": [{"type": "split", "shares": [{"tranche": f.junior, "percent": "25"},
        {"tranche": f.junior, "percent": "25"}, {"tranche": f.senior, "percent": "50"}]}]});
    let reply = app.post(&format!("/api/v1/funds/{}/waterfall", f.id), &app.staff(), &twice).await;
    assert_problem(&reply, 400, Some("steps[0].shares[1]"));
    let unknown_step = app
        .post(&format!("/api/v1/funds/{}/waterfall", f.id), &app.staff(), &json!({"steps": [{"type": "bonus"}]}))
        .await;
    assert_problem(&unknown_step, 400, None);
    let none = app
        .post(
            &format!("/api/v1/funds/{}/distributions/preview", f.id),
            &app.staff(),
            &json!({"cash": "1.00", "date": "2026-01-01", "description": "x"}),
        )
        .await;
    assert_problem(&none, 422, None);
}

/// A waterfall pays to no account that events keep beside their own records (calls, grants,
/// commitments, deployments) nor to an investor's capital account without the investor: a
/// distribution through such terms would leave the trial balance or those records wrong.
async fn terms_pay_to_no_account_kept_by_events_or_by_investor(app: TestApp) {
    let f = fund(&app).await;
    for code in ["9000", "9100", "1100", "1020", "1030", "1040", "2200", "1000", "1200", "3100.01", "3200.02"] {
        let mut kept = terms(&f);
        kept["steps"][2]["account"] = json!(code);
        let reply = app.post(&format!("/api/v1/funds/{}/waterfall", f.id), &app.staff(), &kept).await;
        assert_problem(&reply, 400, Some("steps[2].account"));
        assert!(reply.text.contains(code), "{}", reply.text);
        let preview = json!({"steps": kept["steps"], "cash": "2000.00", "date": "2026-01-01"});
        let tried = app.post(&format!("/api/v1/funds/{}/waterfall/preview", f.id), &app.staff(), &preview).await;
        assert_problem(&tried, 400, Some("steps[2].account"));
    }
    let versions = app.get(&format!("/api/v1/funds/{}/waterfall/versions", f.id), &app.auditor()).await;
    assert_eq!(versions.body["items"].as_array().map(Vec::len).unwrap_or(0), 0, "{}", versions.text);
    // Terms stored before the rule (written here straight to the table) distribute nothing.
    let mut stored = terms(&f);
    stored["steps"][2]["account"] = json!("9000");
    app.sql(&format!(
        "INSERT INTO waterfall_terms (id, fund_id, version, terms, actor, created_at) \
         VALUES ('{}', '{}', 1, '{}', 'staff:before', '2025-01-01 00:00:00')",
        uuid::Uuid::now_v7(),
        f.id,
        stored
    ))
    .expect("stored before the rule");
    let body = json!({"cash": "2000.00", "date": "2026-01-01", "description": "Exit proceeds"});
    let refused = app.post(&format!("/api/v1/funds/{}/distributions", f.id), &app.staff(), &body).await;
    assert_problem(&refused, 422, Some("steps[2].account"));
    assert_eq!(refused.body["type"], "/problems/terms-pay-a-kept-account", "{}", refused.text);
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms(&f)).await;
    created(&app, &format!("/api/v1/funds/{}/distributions", f.id), body).await;
    let tb = app.get(&format!("/api/v1/funds/{}/trial-balance?as_of=2026-12-31", f.id), &app.auditor()).await;
    assert_eq!(tb.body["balanced"], true, "{}", tb.text);
}

async fn write_down_hits_first_loss_first_and_values_follow(app: TestApp) {
    let f = fund_before_exit(&app).await;
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms(&f)).await;
    // Before the exit: 1,200.00 invested; write 700.00 down on 2025-06-30.
    let loss = created(
        &app,
        &format!("/api/v1/funds/{}/write-downs", f.id),
        json!({"facility_id": f.facility, "amount": "700.00", "value_date": "2025-06-30", "description": "Impairment"}),
    )
    .await;
    let allocations = loss["allocations"].as_array().expect("allocations");
    assert_eq!(allocations[0]["tranche_id"], f.junior.as_str());
    assert_eq!(allocations[0]["amount"], "500.00", "first loss wiped out");
    let senior_loss: i64 = allocations[1..]
        .iter()
        .map(|a| a["amount"].as_str().unwrap_or("0").replace('.', "").parse::<i64>().unwrap_or(0))
        .sum();
    assert_eq!(senior_loss, 20_000, "senior dented by 200.00");
    let too_big = app
        .post(
            &format!("/api/v1/funds/{}/write-downs", f.id),
            &app.staff(),
            &json!({"facility_id": f.facility, "amount": "500.01", "value_date": "2025-07-01", "description": "More"}),
        )
        .await;
    assert_problem(&too_big, 422, Some("amount"));
    // NAV on 2025-06-30: cash 300.00 + investments 500.00 = 800.00, liquidated senior first.
    let nav =
        app.get(&format!("/api/v1/funds/{}/tranches/{}/nav?as_of=2025-06-30", f.id, f.junior), &app.auditor()).await;
    assert_eq!(nav.status, 200, "{}", nav.text);
    assert_eq!(nav.body["fund_nav"], "800.00");
    assert_eq!(nav.body["nav"], "0.00", "the first-loss tranche is worth nothing");
    let senior =
        app.get(&format!("/api/v1/funds/{}/tranches/{}/nav?as_of=2025-06-30", f.id, f.senior), &app.auditor()).await;
    // Pref for 180 days (23.67 + 15.78) then capital 760.55: the senior tranche takes all 800.00.
    assert_eq!(senior.body["nav"], "800.00", "{}", senior.text);
    let tb = app.get(&format!("/api/v1/funds/{}/trial-balance?as_of=2025-12-31", f.id), &app.auditor()).await;
    assert_eq!(tb.body["balanced"], true);
    let statement = app
        .get(
            &format!("/api/v1/funds/{}/investors/{}/statement?from=2025-01-01&to=2025-12-31", f.id, f.investors[2]),
            &app.auditor(),
        )
        .await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    assert_eq!(statement.body["contributions"], "500.00");
    assert_eq!(statement.body["write_downs"], "500.00");
}

/// A date's NAV is valued under the terms in force on it: terms saved later leave it, and every
/// statement over it, as it was.
async fn nav_on_a_past_date_keeps_the_terms_then_in_force(app: TestApp) {
    let f = fund(&app).await;
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms(&f)).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let nav = |tranche: &str, as_of: &str| {
        let path = format!("/api/v1/funds/{}/tranches/{tranche}/nav?as_of={as_of}", f.id);
        let app = &app;
        async move {
            let reply = app.get(&path, &app.auditor()).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            reply.body
        }
    };
    let statement_path =
        format!("/api/v1/funds/{}/investors/{}/statement?from=2026-01-01&to=2026-06-30", f.id, f.investors[2]);
    let past = nav(&f.junior, "2026-06-30").await;
    let statement = app.get(&statement_path, &app.auditor()).await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    let under_first_terms = nav(&f.junior, &today).await;
    assert_eq!(past["terms_version"], 1);

    // New terms give the junior tranche 10% of the residual instead of 60%.
    let mut second = terms(&f);
    second["steps"][3]["shares"] =
        json!([{"tranche": f.senior, "percent": "90"}, {"tranche": f.junior, "percent": "10"}]);
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), second).await;
    assert_eq!(nav(&f.junior, "2026-06-30").await, past, "a past date keeps the terms then in force");
    assert_eq!(app.get(&statement_path, &app.auditor()).await.body, statement.body);
    let now = nav(&f.junior, &today).await;
    assert_eq!(now["terms_version"], 2);
    assert_ne!(now["nav"], under_first_terms["nav"], "today is valued under the terms saved today");
}

async fn metrics_and_statements_reconcile(app: TestApp) {
    let f = fund(&app).await;
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms(&f)).await;
    created(
        &app,
        &format!("/api/v1/funds/{}/distributions", f.id),
        json!({"cash": "1000.00", "date": "2026-01-01", "description": "First"}),
    )
    .await;
    let metrics = app.get(&format!("/api/v1/funds/{}/metrics?as_of=2026-06-30", f.id), &app.auditor()).await;
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    let fund = &metrics.body["fund"];
    assert_eq!(fund["paid_in"], "1500.00");
    assert_eq!(fund["distributed"], "1000.00");
    assert_eq!(fund["dpi"], "0.6667");
    assert_eq!(fund["xirr"]["status"], "rate", "{}", metrics.text);
    // MOIC: TVPI on the capital invested, the 1,200.00 deployed on 2025-01-02.
    assert_eq!(metrics.body["invested"], "1200.00", "{}", metrics.text);
    let cents = |v: &Value| v.as_str().expect("an amount").replace('.', "").parse::<i64>().expect("cents");
    let value = cents(&fund["distributed"]) + cents(&fund["nav"]);
    let moic = rust_decimal::Decimal::new(value, 0) / rust_decimal::Decimal::new(120_000, 0);
    let mut shown = moic.round_dp(4);
    shown.rescale(4);
    assert_eq!(metrics.body["moic"], shown.to_string(), "{}", metrics.text);
    // Investors see their own line only.
    let investor = app.token(Role::Investor, &f.investors[0]);
    let own = app.get(&format!("/api/v1/funds/{}/metrics?as_of=2026-06-30", f.id), &investor).await;
    assert_eq!(own.body["fund"], Value::Null);
    assert_eq!((&own.body["invested"], &own.body["moic"]), (&Value::Null, &Value::Null), "fund figures");
    assert_eq!(own.body["investors"].as_array().map(Vec::len), Some(1));
    assert_eq!(own.body["investors"][0]["id"], f.investors[0].as_str());
    // An investor without a stake in the fund reads none of its figures, not even its NAV.
    let body = json!({"kind": "private", "legal_name": "Outsider Capital", "country": "DE"});
    let outsider = app.token(Role::Investor, &common::id(&created(&app, "/api/v1/sources", body).await));
    let refused = app.get(&format!("/api/v1/funds/{}/metrics?as_of=2026-06-30", f.id), &outsider).await;
    assert_problem(&refused, 404, None);
    assert!(!refused.text.contains("fund_nav"), "{}", refused.text);
    let theirs = app
        .get(&format!("/api/v1/funds/{}/investors/{}/statement?from=2025-01-01", f.id, f.investors[1]), &investor)
        .await;
    assert_problem(&theirs, 404, None);
    // A statement's closing balance is the investor's NAV on its last day.
    let statement = app
        .get(
            &format!("/api/v1/funds/{}/investors/{}/statement?from=2025-01-01&to=2026-06-30", f.id, f.investors[0]),
            &investor,
        )
        .await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    assert_eq!(statement.body["closing"], own.body["investors"][0]["nav"]);
    assert_eq!(statement.body["opening"], "0.00");
    assert_eq!(statement.body["distributions_total"], own.body["investors"][0]["distributed"]);
}

async fn printable_notices_and_statements_respect_their_owner(app: TestApp) {
    let f = fund(&app).await;
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms(&f)).await;
    let browser = app.browser_as("senior-a", Role::Investor, Some(&f.investors[0])).await;
    let notices = app.get(&format!("/api/v1/notices?fund_id={}", f.id), &app.staff()).await;
    let items = notices.body["items"].as_array().cloned().unwrap_or_default();
    let own = items.iter().find(|n| n["investor_id"] == f.investors[0].as_str()).expect("own notice");
    let other = items.iter().find(|n| n["investor_id"] != f.investors[0].as_str()).expect("another notice");
    let page = browser
        .get(format!("{}/notices/{}", app.address, own["id"].as_str().unwrap_or_default()))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    // Amounts keep their currency on the same line: a no-break space.
    let html = page.text().await.unwrap_or_default().replace('\u{a0}', " ");
    assert!(html.contains("Capital call notice") && html.contains("EUR 600.00"), "{html}");
    let theirs = browser
        .get(format!("{}/notices/{}", app.address, other["id"].as_str().unwrap_or_default()))
        .send()
        .await
        .expect("page");
    assert_eq!(theirs.status().as_u16(), 404);
    let statement = browser
        .get(format!("{}/statements/{}/{}?from=2025-01-01&to=2025-12-31", app.address, f.id, f.investors[0]))
        .send()
        .await
        .expect("statement");
    assert_eq!(statement.status().as_u16(), 200);
    assert!(statement.text().await.unwrap_or_default().contains("Closing balance"));
    let not_mine = browser
        .get(format!("{}/statements/{}/{}?from=2025-01-01", app.address, f.id, f.investors[1]))
        .send()
        .await
        .expect("statement");
    assert_eq!(not_mine.status().as_u16(), 404);
}

/// Capital at risk is what a position paid in less the losses it bore before: a write-down dated
/// before one already recorded would not see that later loss and would charge the first-loss
/// tranche a second time. Write-downs are recorded in date order; the same date is in order.
async fn write_downs_are_recorded_in_date_order(app: TestApp) {
    let f = fund_before_exit(&app).await;
    let write_downs = format!("/api/v1/funds/{}/write-downs", f.id);
    let loss = |amount: &str, on: &str| json!({"facility_id": f.facility, "amount": amount, "value_date": on, "description": "Impairment"});
    // 500.00 on 2025-06-01: the first-loss tranche's 500.00 is gone.
    let first = created(&app, &write_downs, loss("500.00", "2025-06-01")).await;
    assert_eq!(first["allocations"][0]["amount"], "500.00");
    let before = app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"].clone();
    let refused = app.post(&write_downs, &app.staff(), &loss("100.00", "2025-03-01")).await;
    assert_problem(&refused, 422, Some("value_date"));
    assert_eq!(refused.body["type"], "/problems/write-down-out-of-order", "{}", refused.text);
    assert!(refused.body["detail"].as_str().unwrap_or_default().contains("2025-06-01"), "{}", refused.text);
    assert_eq!(app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"], before);
    // On the same date the senior investors bear it, 600 : 400.
    let second = created(&app, &write_downs, loss("100.00", "2025-06-01")).await;
    let mut shares: Vec<(String, String)> = second["allocations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["investor_id"].as_str().unwrap_or_default().to_string(),
                a["amount"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    shares.sort();
    let mut expected =
        vec![(f.investors[0].clone(), "60.00".to_string()), (f.investors[1].clone(), "40.00".to_string())];
    expected.sort();
    assert_eq!(shares, expected, "{second}");
}

/// A write-down allocates by capital at risk on its date, counting the capital returned by then.
/// A distribution dated on or before it, recorded after it, would return capital the write-down
/// had already charged: here the first-loss tranche bears 500.00 on 2025-06-01, and a return of
/// 300.00 of its capital dated 2025-03-01 would leave its investor 300.00 below zero
/// (500.00 paid in - 300.00 returned - 500.00 borne).
async fn a_distribution_is_never_dated_on_or_before_a_write_down(app: TestApp) {
    let f = fund_before_exit(&app).await;
    let first_loss_capital = json!({"steps": [{"type": "capital", "tranches": [f.junior], "mode": "sequential"}]});
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), first_loss_capital).await;
    let loss =
        json!({"facility_id": f.facility, "amount": "500.00", "value_date": "2025-06-01", "description": "Impairment"});
    let loss = created(&app, &format!("/api/v1/funds/{}/write-downs", f.id), loss).await;
    assert_eq!(loss["allocations"][0]["amount"], "500.00", "{loss}");
    let distributions = format!("/api/v1/funds/{}/distributions", f.id);
    let before = app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"].clone();
    for date in ["2025-03-01", "2025-06-01"] {
        let body = json!({"cash": "300.00", "date": date, "description": "Exit proceeds"});
        let refused = app.post(&distributions, &app.staff(), &body).await;
        assert_problem(&refused, 422, Some("date"));
        assert_eq!(refused.body["type"], "/problems/distribution-before-write-down", "{}", refused.text);
        assert!(refused.body["detail"].as_str().unwrap_or_default().contains("2025-06-01"), "{}", refused.text);
    }
    assert_eq!(app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"], before);
    // The day after is in order.
    let body = json!({"cash": "300.00", "date": "2025-06-02", "description": "Exit proceeds"});
    let paid = created(&app, &distributions, body).await;
    assert_eq!(paid["allocation"]["distributed"], "300.00", "{paid}");
}

/// A write-down charges losses on the capital paid in by its date. A contribution dated on or
/// before it, recorded after it, would have been at risk then: here the first-loss investor owes
/// a second call of 100.00 when 600.00 is written down on 2025-06-01, so the first-loss tranche
/// bears its 500.00 and the senior investors 100.00. Had 100.00 more been paid on 2025-03-01, the
/// first-loss tranche would have borne all 600.00.
async fn a_contribution_is_never_dated_on_or_before_a_write_down(app: TestApp) {
    let f = fund_before_exit(&app).await;
    let notice = second_first_loss_call(&app, &f).await;
    let loss =
        json!({"facility_id": f.facility, "amount": "600.00", "value_date": "2025-06-01", "description": "Impairment"});
    let loss = created(&app, &format!("/api/v1/funds/{}/write-downs", f.id), loss).await;
    assert_eq!(loss["allocations"][0]["amount"], "500.00", "{loss}");
    contribution_refused_until_the_day_after(&app, &notice, "contribution-before-write-down").await;
}

/// A distribution shares what it pays by the capital paid in by its date. A contribution dated
/// on or before it, recorded after it, would have had a share: here the first-loss investor owes
/// 100.00 when 300.00 is distributed on 2025-06-01; paid on 2025-03-01, the 100.00 would have
/// been capital owed back by that distribution.
async fn a_contribution_is_never_dated_on_or_before_a_distribution(app: TestApp) {
    let f = fund_before_exit(&app).await;
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms(&f)).await;
    let notice = second_first_loss_call(&app, &f).await;
    let body = json!({"cash": "300.00", "date": "2025-06-01", "description": "Exit proceeds"});
    created(&app, &format!("/api/v1/funds/{}/distributions", f.id), body).await;
    contribution_refused_until_the_day_after(&app, &notice, "contribution-before-distribution").await;
}

/// Paying 100.00 on the notice is refused on 2025-03-01 and 2025-06-01 with `code`, naming
/// 2025-06-01 and posting nothing, and accepted on 2025-06-02.
async fn contribution_refused_until_the_day_after(app: &TestApp, notice: &str, code: &str) {
    let contributions = format!("/api/v1/notices/{notice}/contributions");
    let before = app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"].clone();
    for date in ["2025-03-01", "2025-06-01"] {
        let refused = app.post(&contributions, &app.staff(), &json!({"amount": "100.00", "value_date": date})).await;
        assert_problem(&refused, 422, Some("value_date"));
        assert_eq!(refused.body["type"], format!("/problems/{code}"), "{}", refused.text);
        assert!(refused.body["detail"].as_str().unwrap_or_default().contains("2025-06-01"), "{}", refused.text);
    }
    assert_eq!(app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"], before);
    let paid = created(app, &contributions, json!({"amount": "100.00", "value_date": "2025-06-02"})).await;
    assert_eq!(paid["amount"], "100.00", "{paid}");
}

/// The first-loss commitment grows by 100.00 from 2025-02-01 and is called for it on that date;
/// the notice's id.
async fn second_first_loss_call(app: &TestApp, f: &Fund) -> String {
    let listed = app.get(&format!("/api/v1/funds/{}/commitments?limit=500", f.id), &app.staff()).await;
    let first_loss = listed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["tranche_id"] == f.junior.as_str())
        .and_then(|c| c["id"].as_str())
        .expect("the first-loss commitment")
        .to_string();
    let more =
        json!({"kind": "increase", "amount": "100.00", "effective_date": "2025-02-01", "allow_oversubscription": true});
    created(app, &format!("/api/v1/commitments/{first_loss}/amendments"), more).await;
    let call = json!({"call_date": "2025-02-01", "due_date": "2025-02-15", "description": "Second call", "lines": [
        {"tranche_id": f.junior, "purpose": "investment", "facility_id": f.facility, "amount": "100.00"}]});
    let call = created(app, &format!("/api/v1/funds/{}/capital-calls", f.id), call).await;
    let notices =
        app.get(&format!("/api/v1/notices?call_id={}", call["id"].as_str().unwrap_or_default()), &app.staff()).await;
    notices.body["items"][0]["id"].as_str().unwrap_or_default().to_string()
}

/// A fee on commitments is worked out on what was committed on the distribution's date: an
/// increase dated after it, or a commitment that takes effect later, is not in its base. Here
/// 1,500.00 is committed on 2026-01-01; 10,000.00 more from 2027-01-01 is left out: 2% of
/// 1,500.00 = 30.00, not 2% of 11,500.00.
async fn a_fee_on_commitments_counts_what_was_committed_on_its_date(app: TestApp) {
    let f = fund(&app).await;
    let mut terms = terms(&f);
    if let Some(steps) = terms["steps"].as_array_mut() {
        steps.insert(0, json!({"type": "fee", "name": "Management", "account": "5000", "rate_on_commitments": "0.02"}));
    }
    created(&app, &format!("/api/v1/funds/{}/waterfall", f.id), terms).await;
    let listed = app.get(&format!("/api/v1/funds/{}/commitments?limit=500", f.id), &app.staff()).await;
    let senior_a = listed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["source_id"] == f.investors[0].as_str())
        .and_then(|c| c["id"].as_str())
        .expect("Senior A's commitment")
        .to_string();
    let later = json!({"kind": "increase", "amount": "10000.00", "effective_date": "2027-01-01", "allow_oversubscription": true});
    created(&app, &format!("/api/v1/commitments/{senior_a}/amendments"), later).await;
    let source =
        created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": "Late", "country": "IT"})).await;
    let late = json!({"source_id": source["id"], "tranche_id": f.junior, "amount": "5000.00", "effective_date": "2027-01-01",
        "allow_oversubscription": true});
    created(&app, &format!("/api/v1/funds/{}/commitments", f.id), late).await;
    let body = json!({"cash": "100.00", "date": "2026-01-01", "description": "Exit proceeds"});
    let preview = app.post(&format!("/api/v1/funds/{}/distributions/preview", f.id), &app.auditor(), &body).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let fee = &preview.body["allocation"]["steps"][0];
    assert_eq!(fee["paid"], "30.00", "{}", preview.text);
    let rule = fee["lines"][0]["rule"].as_str().unwrap_or_default();
    assert!(rule.contains("1500.00"), "{rule}");
}

/// Every figure a client sends is at most EUR 10^13, but a step owes the sum of its positions:
/// a distribution whose capital step owes EUR 10^13 + 1.00 is stored and reads back as stored.
async fn a_distribution_owing_more_than_any_one_figure_reads_back(app: TestApp) {
    let id = app.create_fund("Largest figures").await;
    let largest = "10000000000000.00";
    let mut tranches = Vec::new();
    for (name, seniority) in [("A", 1), ("B", 2)] {
        let body = json!({"name": name, "seniority": seniority, "target_size": largest, "pref_rate": "0"});
        tranches.push(common::id(&created(&app, &format!("/api/v1/funds/{id}/tranches"), body).await));
    }
    // An entry's debits stay within the largest figure, so the largest commitment is called in halves.
    for (tranche, amount, calls) in
        [(&tranches[0], largest, ["5000000000000.00"; 2].as_slice()), (&tranches[1], "1.00", &["1.00"])]
    {
        let source = created(
            &app,
            "/api/v1/sources",
            json!({"kind": "private", "legal_name": format!("Holder of {amount}"), "country": "FR"}),
        )
        .await;
        let body =
            json!({"source_id": source["id"], "tranche_id": tranche, "amount": amount, "effective_date": "2025-01-01"});
        created(&app, &format!("/api/v1/funds/{id}/commitments"), body).await;
        for part in calls {
            let call = created(&app, &format!("/api/v1/funds/{id}/capital-calls"), json!({"call_date": "2025-01-02",
                "due_date": "2025-01-02", "description": "Fees", "lines": [{"tranche_id": tranche, "purpose": "fees", "amount": part}]})).await;
            let notices = app.get(&format!("/api/v1/notices?call_id={}", common::id(&call)), &app.staff()).await;
            let notice = notices.body["items"][0]["id"].as_str().expect("notice").to_string();
            created(
                &app,
                &format!("/api/v1/notices/{notice}/contributions"),
                json!({"amount": part, "value_date": "2025-01-02"}),
            )
            .await;
        }
    }
    let terms = json!({"steps": [{"type": "capital", "tranches": tranches, "mode": "pro_rata"}]});
    created(&app, &format!("/api/v1/funds/{id}/waterfall"), terms).await;
    let body = json!({"cash": "1.00", "date": "2026-01-01", "description": "First return"});
    let executed = created(&app, &format!("/api/v1/funds/{id}/distributions"), body).await;
    assert_eq!(executed["allocation"]["steps"][0]["owed"], "10000000000001.00", "{executed}");
    let stored = app.get(&format!("/api/v1/distributions/{}", common::id(&executed)), &app.auditor()).await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    assert_eq!(stored.body["allocation"], executed["allocation"]);
}

on_both_backends!(
    a_distribution_owing_more_than_any_one_figure_reads_back,
    terms_pay_to_no_account_kept_by_events_or_by_investor,
    nav_on_a_past_date_keeps_the_terms_then_in_force,
    printable_notices_and_statements_respect_their_owner,
    preview_and_execute_agree_and_post_balanced_entries,
    terms_are_validated_with_paths,
    write_down_hits_first_loss_first_and_values_follow,
    metrics_and_statements_reconcile,
    a_fee_on_commitments_counts_what_was_committed_on_its_date,
    write_downs_are_recorded_in_date_order,
    a_distribution_is_never_dated_on_or_before_a_write_down,
    a_contribution_is_never_dated_on_or_before_a_write_down,
    a_contribution_is_never_dated_on_or_before_a_distribution,
);
