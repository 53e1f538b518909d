//! The four-eyes principle on both backends, on the demo's books with `four_eyes` on: a
//! distribution proposed by one staff user is refused to the same user and executed by another
//! exactly as previewed; a proposal whose preview changed is refused at approval and shown
//! again; approvals racing on one node, and on two nodes of one PostgreSQL, execute it once.

use crate::common;

use common::{assert_problem, start_server, Backend, TestApp};
use futures_util::future::join_all;
use investai::domain::roles::Role;
use serde_json::{json, Value};

async fn four_eyes_demo(backend: Backend) -> TestApp {
    let app = common::spawn_app_with(backend, |settings| settings.four_eyes = true).await;
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    app
}

/// The demo's compartment, whose waterfall reserves for the pool.
async fn gigafactories(app: &TestApp) -> String {
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    let fund = funds.body["items"].as_array().into_iter().flatten().find(|f| f["parent_id"].is_string());
    fund.and_then(|f| f["id"].as_str()).expect("compartment").to_string()
}

fn staff(app: &TestApp, name: &str) -> String {
    app.token(Role::Staff, name)
}

/// Today, in UTC: the date the records below are dated (none may be dated after it, and the
/// demo's own records come before it).
fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

fn distribution(fund: &str, cash: &str, description: &str) -> Value {
    json!({"kind": "distribution", "fund_id": fund, "cash": cash, "date": today(), "description": description})
}

async fn distributions(app: &TestApp, fund: &str) -> usize {
    let list = app.get(&format!("/api/v1/funds/{fund}/distributions?limit=500"), &app.auditor()).await;
    list.body["items"].as_array().map_or(0, Vec::len)
}

async fn propose(app: &TestApp, by: &str, body: &Value) -> Value {
    let reply = app.post("/api/v1/proposals", &staff(app, by), body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body
}

async fn approve(app: &TestApp, by: &str, proposal: &Value) -> common::Reply {
    let id = proposal["id"].as_str().expect("id");
    let body = json!({"revision": proposal["revision"]});
    app.post(&format!("/api/v1/proposals/{id}/approval"), &staff(app, by), &body).await
}

async fn a_distribution_takes_effect_only_when_another_staff_user_approves_it(app: TestApp) {
    let fund = gigafactories(&app).await;
    let before = distributions(&app, &fund).await;
    let direct = app
        .post(
            &format!("/api/v1/funds/{fund}/distributions"),
            &staff(&app, "ann"),
            &json!({"cash": "1000000.00", "date": today(), "description": "Direct"}),
        )
        .await;
    assert_problem(&direct, 422, None);
    assert_eq!(direct.body["type"], "/problems/four-eyes-required");

    let entries_before = app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"].clone();
    let proposal = propose(&app, "ann", &distribution(&fund, "1000000.00", "Year-end distribution")).await;
    assert_eq!((proposal["status"].as_str(), proposal["revision"].as_i64()), (Some("pending"), Some(1)));
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(
        (verify.body["ok"].clone(), verify.body["entries_checked"].clone()),
        (json!(true), entries_before),
        "a preview posts nothing"
    );
    // The preview is the waterfall's own preview of the same cash, line for line.
    let preview = app
        .post(
            &format!("/api/v1/funds/{fund}/distributions/preview"),
            &app.auditor(),
            &json!({"cash": "1000000.00", "date": today(), "description": "Year-end distribution"}),
        )
        .await;
    assert_eq!(proposal["preview"]["allocation"], preview.body["allocation"], "{}", proposal);
    assert_eq!(proposal["preview"]["investors"], preview.body["investors"]);

    let own = approve(&app, "ann", &proposal).await;
    assert_problem(&own, 422, None);
    assert_eq!(own.body["type"], "/problems/own-proposal");
    assert_eq!(distributions(&app, &fund).await, before, "nothing executed");
    let stale = app
        .post(
            &format!("/api/v1/proposals/{}/approval", proposal["id"].as_str().expect("id")),
            &staff(&app, "bob"),
            &json!({"revision": 7}),
        )
        .await;
    assert_problem(&stale, 409, None);
    assert_eq!(stale.body["type"], "/problems/proposal-revised");

    let approved = approve(&app, "bob", &proposal).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["status"], "executed");
    assert_eq!(approved.body["decided_by"], "staff:bob");
    assert_eq!(approved.body["result"]["allocation"], proposal["preview"]["allocation"], "executed as previewed");
    assert_eq!(distributions(&app, &fund).await, before + 1);
    let executed = approved.body["result"]["id"].as_str().expect("distribution id");
    let entries = app.get(&format!("/api/v1/ledger/entries?event_id={executed}"), &app.auditor()).await;
    assert_eq!(entries.body["items"][0]["actor"], "staff:bob (proposed by staff:ann)", "{}", entries.text);
    assert_problem(&approve(&app, "carl", &proposal).await, 409, None);
    let shown = app.get(&format!("/api/v1/proposals/{}", proposal["id"].as_str().expect("id")), &app.auditor()).await;
    assert_eq!(shown.body["status"], "executed");
    assert_eq!(shown.body["proposed_by"], "staff:ann");
}

async fn a_proposal_whose_preview_changed_is_refused_and_shown_again(app: TestApp) {
    let fund = gigafactories(&app).await;
    let first = propose(&app, "ann", &distribution(&fund, "2000000.00", "First")).await;
    // New waterfall terms reserve 20% for the pool instead of 10%: the proposal would no
    // longer do what it showed.
    let mut terms = app.get(&format!("/api/v1/funds/{fund}/waterfall"), &app.auditor()).await.body["terms"].clone();
    for step in terms["steps"].as_array_mut().expect("steps") {
        if step["type"] == "reserve" {
            step["percent"] = json!("20");
        }
    }
    let direct = app.post(&format!("/api/v1/funds/{fund}/waterfall"), &staff(&app, "carl"), &terms).await;
    assert_eq!(direct.body["type"], "/problems/four-eyes-required", "{}", direct.text);
    let new_terms = propose(&app, "carl", &json!({"kind": "waterfall_terms", "fund_id": fund, "terms": terms})).await;
    assert_eq!(new_terms["preview"]["terms"], terms, "{new_terms}");
    let changed_terms = approve(&app, "dora", &new_terms).await;
    assert_eq!(changed_terms.status, 200, "{}", changed_terms.text);
    let before = distributions(&app, &fund).await;
    let changed = approve(&app, "bob", &first).await;
    assert_problem(&changed, 409, None);
    assert_eq!(changed.body["type"], "/problems/preview-changed");
    assert_eq!(distributions(&app, &fund).await, before, "nothing executed");
    let again = app.get(&format!("/api/v1/proposals/{}", first["id"].as_str().expect("id")), &app.auditor()).await;
    assert_eq!(again.body["status"], "pending");
    assert_eq!(again.body["revision"], 2, "{}", again.text);
    assert_ne!(again.body["preview"], first["preview"]);
    let approved = approve(&app, "bob", &again.body).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["result"]["allocation"], again.body["preview"]["allocation"]);
}

async fn proposals_are_withdrawn_rejected_and_expire(app: TestApp) {
    let fund = gigafactories(&app).await;
    let one = propose(&app, "ann", &distribution(&fund, "10.00", "Withdrawn")).await;
    let id = one["id"].as_str().expect("id");
    assert_problem(
        &app.post(&format!("/api/v1/proposals/{id}/withdrawal"), &staff(&app, "bob"), &json!(null)).await,
        422,
        None,
    );
    let withdrawn = app.post(&format!("/api/v1/proposals/{id}/withdrawal"), &staff(&app, "ann"), &json!(null)).await;
    assert_eq!(withdrawn.body["status"], "withdrawn", "{}", withdrawn.text);
    assert_problem(&approve(&app, "bob", &one).await, 409, None);
    // A decided proposal stays on record: the database refuses its deletion by the rule's name.
    let deleted = app.sql(&format!("DELETE FROM proposals WHERE id = '{id}'"));
    assert!(deleted.as_ref().is_err_and(|e| e.contains("a row of proposals is never deleted")), "{deleted:?}");

    let two = propose(&app, "ann", &distribution(&fund, "10.00", "Rejected")).await;
    let id = two["id"].as_str().expect("id");
    let path = format!("/api/v1/proposals/{id}/rejection");
    assert_problem(&app.post(&path, &staff(&app, "ann"), &json!({"reason": "mine"})).await, 422, None);
    assert_problem(&app.post(&path, &staff(&app, "bob"), &json!({"reason": " "})).await, 400, Some("reason"));
    let rejected = app.post(&path, &staff(&app, "bob"), &json!({"reason": "Wait for the audited accounts."})).await;
    assert_eq!(rejected.body["status"], "rejected", "{}", rejected.text);
    assert_eq!(rejected.body["reason"], "Wait for the audited accounts.");

    let three = propose(&app, "ann", &distribution(&fund, "10.00", "Expires")).await;
    let id = three["id"].as_str().expect("id").to_string();
    {
        use diesel::prelude::*;
        use investai::storage::schema::proposals;
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
        let mut conn = app.conn();
        let changed = investai::storage::write_tx(&mut conn, |c| {
            Ok(diesel::update(proposals::table.find(&id)).set(proposals::expires_at.eq(past)).execute(c)?)
        })
        .expect("expire");
        assert_eq!(changed, 1);
    }
    let expired = approve(&app, "bob", &three).await;
    assert_problem(&expired, 422, None);
    assert_eq!(expired.body["type"], "/problems/proposal-expired");
    let listed = app.get("/api/v1/proposals?status=expired", &app.auditor()).await;
    assert!(listed.text.contains(&id), "{}", listed.text);
    let pending = app.get("/api/v1/proposals?status=pending", &app.auditor()).await;
    assert!(!pending.text.contains(&id));
    assert_problem(&app.get("/api/v1/proposals?status=maybe", &app.auditor()).await, 400, Some("query.status"));
    assert_problem(&app.post("/api/v1/proposals", &app.auditor(), &distribution(&fund, "10.00", "x")).await, 403, None);
    let refused = app.post("/api/v1/proposals", &staff(&app, "ann"), &distribution(&fund, "-1.00", "x")).await;
    assert_problem(&refused, 400, Some("cash"));

    // However many proposals wait, the page still lists the ones decided before them.
    let waiting = propose(&app, "ann", &distribution(&fund, "10.00", "Waits")).await;
    let decided = [one["id"].as_str(), two["id"].as_str(), Some(id.as_str())].map(|id| id.expect("id").to_string());
    wait_behind(&app, waiting["id"].as_str().expect("id"), WAITING_BEHIND).await;
    let browser = common::pages::signed_in(&app, "staff", DEMO_STAFF_PASSWORD).await;
    let page = common::pages::get(&browser, &app, "/proposals").await;
    let listed: Vec<String> =
        common::pages::table_rows(&page.text, "Decided").into_iter().map(|row| row.join(" | ")).collect();
    assert_eq!(listed.len(), 3, "{listed:#?}");
    for (row, status) in listed.iter().zip(["expired", "rejected", "withdrawn"]) {
        assert!(row.contains(status), "{row}");
    }
    for id in &decided {
        assert!(page.text.contains(&format!("/proposals/{id}")), "decided proposal {id} is not listed");
    }
}

/// More proposals wait than the pending list reads at most (`PROPOSALS_LIST_MAX`).
const WAITING_BEHIND: usize = 501;
/// The demo fixture's password of its user `staff`.
const DEMO_STAFF_PASSWORD: &str = "investai-demo-2025";

/// Records `count` more pending proposals, copies of `pending` each proposed later.
async fn wait_behind(app: &TestApp, pending: &str, count: usize) {
    use diesel::prelude::*;
    use investai::storage::{proposals::get_row, schema::proposals, write_tx};
    let mut conn = app.conn();
    let row = get_row(&mut conn, pending).expect("pending proposal");
    let copies: Vec<_> = (1..=count)
        .map(|n| {
            let mut copy = row.clone();
            copy.id = format!("{}-{n:04}", row.id);
            copy.proposed_at = row.proposed_at + chrono::Duration::microseconds(n as i64);
            copy
        })
        .collect();
    write_tx(&mut conn, |c| {
        for copy in &copies {
            diesel::insert_into(proposals::table).values(copy).execute(c)?;
        }
        Ok(())
    })
    .expect("copies");
}

/// Write-downs, reversals and price changes go through proposals too, and execute as previewed.
async fn write_downs_reversals_and_prices_need_a_second_staff_user(app: TestApp) {
    // The umbrella fund holds its stake in Gigafactory Rhein-Main.
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    let umbrella = funds.body["items"].as_array().into_iter().flatten().find(|f| f["parent_id"].is_null());
    let fund = umbrella.and_then(|f| f["id"].as_str()).expect("umbrella").to_string();
    let facilities = app.get("/api/v1/facilities?limit=500", &app.auditor()).await;
    let held =
        facilities.body["items"].as_array().into_iter().flatten().find(|f| f["name"] == "Gigafactory Rhein-Main");
    let facility = held.and_then(|f| f["id"].as_str()).expect("Gigafactory Rhein-Main").to_string();
    let seine = facilities.body["items"].as_array().into_iter().flatten().find(|f| f["name"] == "Gigafactory Seine");
    let sold = seine.and_then(|f| f["id"].as_str()).expect("Gigafactory Seine").to_string();
    // A write-down the books would refuse now is refused when proposed, with the reason.
    let refused = app
        .post(
            "/api/v1/proposals",
            &staff(&app, "ann"),
            &json!({"kind": "write_down", "fund_id": gigafactories(&app).await,
            "facility_id": sold, "amount": "1.00", "value_date": today(), "description": "Sold stake"}),
        )
        .await;
    assert_problem(&refused, 422, Some("amount"));
    assert_eq!(refused.body["type"], "/problems/write-down-above-investment");
    let write_down = json!({"facility_id": facility, "amount": "1000.00", "value_date": today(),
        "description": "Impairment of the cooling plant"});
    let direct = app.post(&format!("/api/v1/funds/{fund}/write-downs"), &staff(&app, "ann"), &write_down).await;
    assert_eq!(direct.body["type"], "/problems/four-eyes-required", "{}", direct.text);
    let mut operation = write_down.clone();
    operation["kind"] = json!("write_down");
    operation["fund_id"] = json!(fund);
    let proposal = propose(&app, "ann", &operation).await;
    let approved = approve(&app, "bob", &proposal).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["result"]["amount"], "1000.00", "{}", approved.text);

    let entry = json!({"effective_date": today(), "description": "Bank charge booked twice", "postings": [
        {"account": "5010", "debit": "25.00"}, {"account": "1000", "credit": "25.00"}]});
    let direct = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &staff(&app, "ann"), &entry).await;
    assert_eq!(direct.body["type"], "/problems/four-eyes-required", "{}", direct.text);
    let mut operation = entry.clone();
    operation["kind"] = json!("manual_entry");
    operation["fund_id"] = json!(fund);
    let proposal = propose(&app, "ann", &operation).await;
    assert_eq!(proposal["preview"]["postings"].as_array().map(Vec::len), Some(2), "{proposal}");
    let posted = approve(&app, "bob", &proposal).await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    let entry_id = posted.body["result"]["id"].as_str().expect("the approved entry's id");
    let reversal = json!({"effective_date": today(), "reason": "Booked twice"});
    let direct = app.post(&format!("/api/v1/ledger/entries/{entry_id}/reversal"), &staff(&app, "ann"), &reversal).await;
    assert_eq!(direct.body["type"], "/problems/four-eyes-required", "{}", direct.text);
    let proposal = propose(
        &app,
        "ann",
        &json!({"kind": "reversal", "entry_id": entry_id, "effective_date": today(), "reason": "Booked twice"}),
    )
    .await;
    assert_eq!(proposal["preview"]["reverses_entry_id"], entry_id, "{proposal}");
    assert_eq!(approve(&app, "bob", &proposal).await.status, 200);
    let reversed =
        app.get(&format!("/api/v1/ledger/entries?event_id={entry_id}&event_type=reversal"), &app.auditor()).await;
    assert_eq!(reversed.body["items"].as_array().map(Vec::len), Some(1), "{}", reversed.text);

    let price = json!({"kind": "facility_price", "facility_id": facility, "effective_date": "2027-01-01", "price_per_gpu_hour": "2.50"});
    let direct = app
        .post(
            &format!("/api/v1/facilities/{facility}/prices"),
            &staff(&app, "ann"),
            &json!({"effective_date": "2027-01-01", "price_per_gpu_hour": "2.50"}),
        )
        .await;
    assert_eq!(direct.body["type"], "/problems/four-eyes-required", "{}", direct.text);
    let proposal = propose(&app, "ann", &price).await;
    assert_problem(&approve(&app, "ann", &proposal).await, 422, None);
    assert_eq!(approve(&app, "bob", &proposal).await.status, 200);
    let prices = app.get(&format!("/api/v1/facilities/{facility}/prices"), &app.auditor()).await;
    assert!(prices.text.contains("2027-01-01") && prices.text.contains("2.50"), "{}", prices.text);
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
}

/// A capital call is proposed with every notice it will send, and sends exactly those.
async fn a_capital_call_sends_the_notices_its_proposal_showed(app: TestApp) {
    let fund = gigafactories(&app).await;
    let tranches = app.get(&format!("/api/v1/funds/{fund}/tranches"), &app.auditor()).await;
    let tranche = tranches.body["items"][0]["id"].as_str().expect("a tranche").to_string();
    let call = json!({"call_date": today(), "due_date": today(), "description": "Fees for 2027",
        "lines": [{"tranche_id": tranche, "purpose": "fees", "amount": "1000.00"}]});
    let direct = app.post(&format!("/api/v1/funds/{fund}/capital-calls"), &staff(&app, "ann"), &call).await;
    assert_eq!(direct.body["type"], "/problems/four-eyes-required", "{}", direct.text);
    let mut operation = call.clone();
    operation["kind"] = json!("capital_call");
    operation["fund_id"] = json!(fund);
    let proposal = propose(&app, "ann", &operation).await;
    let notices = proposal["preview"]["notices"].as_array().expect("the notices it will send").clone();
    assert!(!notices.is_empty(), "{proposal}");
    let cents = |v: &Value| v.as_str().expect("amount").replace('.', "").parse::<i64>().expect("cents");
    assert_eq!(notices.iter().map(|n| cents(&n["amount"])).sum::<i64>(), 100_000, "the lines are allocated exactly");
    let approved = approve(&app, "bob", &proposal).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["result"]["call"]["amount"], "1000.00");
    let call_id = approved.body["result"]["call"]["id"].as_str().expect("call id");
    let sent = app.get(&format!("/api/v1/notices?call_id={call_id}&limit=500"), &app.staff()).await;
    let sent: Vec<Value> = sent.body["items"].as_array().expect("notices").clone();
    assert_eq!(sent.len(), notices.len());
    for (notice, previewed) in sent.iter().zip(&notices) {
        assert_eq!((&notice["investor_id"], &notice["amount"]), (&previewed["investor_id"], &previewed["amount"]));
    }
}

/// Approvers racing on one node: exactly one executes it.
async fn racing_approvals_execute_a_proposal_once(app: TestApp) {
    let fund = gigafactories(&app).await;
    let before = distributions(&app, &fund).await;
    let proposal = propose(&app, "ann", &distribution(&fund, "500000.00", "Raced")).await;
    let approvers = ["bob", "carl", "dora", "emil", "fay", "gus"];
    let replies = join_all(approvers.iter().map(|by| approve(&app, by, &proposal))).await;
    let executed = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(executed, 1, "{:?}", replies.iter().map(|r| (r.status, r.text.clone())).collect::<Vec<_>>());
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 409));
    assert_eq!(distributions(&app, &fund).await, before + 1);
}

/// A role change is proposed by one admin and approved by another; staff neither propose nor
/// decide it, and nobody proposes or approves a change of their own role.
async fn role_changes_need_a_second_admin(app: TestApp) {
    let (alice, bruno) = (app.token(Role::Admin, "alice-admin"), app.token(Role::Admin, "bruno-admin"));
    let target = app.user_for(Role::Auditor, "target-auditor");
    let target_token = app.token(Role::Auditor, "target-auditor");
    assert_eq!(app.get("/api/v1/ledger/verify", &target_token).await.status, 200, "the auditor reads the books");
    let direct = json!({"role": "staff"});
    let refused = app.post(&format!("/api/v1/users/{}/role", target.id), &alice, &direct).await;
    assert_eq!(refused.body["type"], "/problems/four-eyes-required", "{}", refused.text);
    let body = json!({"kind": "user_role", "user_id": target.id, "role": "staff"});
    assert_eq!(
        app.post("/api/v1/proposals", &app.staff(), &body).await.status,
        403,
        "staff do not propose role changes"
    );
    let proposal = app.post("/api/v1/proposals", &alice, &body).await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    assert_eq!(proposal.body["preview"]["role"], "staff", "{}", proposal.text);
    let id = proposal.body["id"].as_str().expect("id");
    let approval = json!({"revision": proposal.body["revision"]});
    let url = format!("/api/v1/proposals/{id}/approval");
    assert_eq!(app.post(&url, &app.token(Role::Staff, "stella"), &approval).await.status, 403, "nor decide them");
    let own = app.post(&url, &alice, &approval).await;
    assert_eq!(own.body["type"], "/problems/own-proposal", "{}", own.text);
    let users = app.get("/api/v1/users", &alice).await;
    let role_of = |users: &Value| {
        users["items"]
            .as_array()
            .and_then(|l| l.iter().find(|u| u["id"] == target.id.as_str()))
            .map(|u| u["role"].clone())
    };
    assert_eq!(role_of(&users.body), Some(json!("auditor")), "nothing changed before approval");
    let approved = app.post(&url, &bruno, &approval).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let users = app.get("/api/v1/users", &alice).await;
    assert_eq!(role_of(&users.body), Some(json!("staff")));
    assert_eq!(app.get("/api/v1/ledger/verify", &target_token).await.status, 401, "the old role's token ends");
    let events = app.get(&format!("/api/v1/users/{}/events", target.id), &alice).await;
    let actors = events.body["items"].to_string();
    assert!(
        actors.contains("bruno-admin") && actors.contains("alice-admin"),
        "who proposed and who approved: {actors}"
    );
    // Nobody proposes or approves a change of their own role.
    let alice_row = app.user_for(Role::Admin, "alice-admin");
    let own_body = json!({"kind": "user_role", "user_id": alice_row.id, "role": "auditor"});
    assert_eq!(app.post("/api/v1/proposals", &alice, &own_body).await.body["type"], "/problems/own-account");
    let by_bruno = app.post("/api/v1/proposals", &bruno, &own_body).await;
    assert_eq!(by_bruno.status, 201, "{}", by_bruno.text);
    let id = by_bruno.body["id"].as_str().expect("id");
    let approval = json!({"revision": by_bruno.body["revision"]});
    let own_approval = app.post(&format!("/api/v1/proposals/{id}/approval"), &alice, &approval).await;
    assert_eq!(own_approval.body["type"], "/problems/own-account", "{}", own_approval.text);
}

/// A new bank account redirects what investors pay: with four eyes on, one admin proposes it,
/// another approves it, and the notices print it only then.
async fn a_bank_account_change_needs_a_second_admin(app: TestApp) {
    let (alice, bruno) = (app.token(Role::Admin, "alice-admin"), app.token(Role::Admin, "bruno-admin"));
    let fund = gigafactories(&app).await;
    let path = format!("/api/v1/funds/{fund}/bank-account");
    let before = app.get(&path, &app.staff()).await;
    assert_eq!(before.status, 200, "{}", before.text);
    let direct = json!({"account_holder": "Elsewhere Ltd", "iban": "DE89 3704 0044 0532 0130 00"});
    let refused = app.send(app.client.put(format!("{}{path}", app.address)).bearer_auth(&alice).json(&direct)).await;
    assert_problem(&refused, 422, None);
    assert_eq!(refused.body["type"], "/problems/four-eyes-required", "{}", refused.text);
    let body = json!({"kind": "bank_account", "fund_id": fund, "account_holder": "Elsewhere Ltd",
        "iban": "de89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"});
    assert_eq!(app.post("/api/v1/proposals", &app.staff(), &body).await.status, 403, "staff do not propose it");
    let invalid = json!({"kind": "bank_account", "fund_id": fund, "account_holder": "Elsewhere Ltd",
        "iban": "DE89 3704 0044 0532 0130 01"});
    assert_problem(&app.post("/api/v1/proposals", &alice, &invalid).await, 400, Some("iban"));
    let proposal = app.post("/api/v1/proposals", &alice, &body).await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    assert_eq!(proposal.body["preview"]["iban"], "DE89370400440532013000", "{}", proposal.text);
    let id = proposal.body["id"].as_str().expect("id");
    let approval = json!({"revision": proposal.body["revision"]});
    let url = format!("/api/v1/proposals/{id}/approval");
    assert_eq!(app.post(&url, &app.token(Role::Staff, "stella"), &approval).await.status, 403, "nor decide it");
    assert_eq!(app.post(&url, &alice, &approval).await.body["type"], "/problems/own-proposal");
    assert_eq!(app.get(&path, &app.staff()).await.body, before.body, "nothing changed before approval");
    let approved = app.post(&url, &bruno, &approval).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let after = app.get(&path, &app.staff()).await;
    assert_eq!(after.body["iban"], "DE89370400440532013000", "{}", after.text);
    assert_eq!(after.body["account_holder"], "Elsewhere Ltd", "{}", after.text);
    let decided = app.get(&format!("/api/v1/proposals/{id}"), &alice).await;
    assert_eq!(
        (decided.body["proposed_by"].as_str(), decided.body["decided_by"].as_str()),
        (Some("admin:alice-admin"), Some("admin:bruno-admin")),
        "{}",
        decided.text
    );
}

/// A proposal stored before its operation's rules grew stricter (a date written `+10000-01-01`,
/// read as a date once and refused now) is the proposer's mistake: its approval is refused
/// with 422 and executes nothing, and it can still be read and rejected.
async fn a_proposal_stored_under_looser_rules_is_refused_and_can_be_rejected(app: TestApp) {
    let fund = gigafactories(&app).await;
    let stored = propose(&app, "ann", &distribution(&fund, "10.00", "Stored long ago")).await;
    let id = stored["id"].as_str().expect("id");
    app.sql(&format!(
        "UPDATE proposals SET request = replace(request, '{}', '+10000-01-01') WHERE id = '{id}'",
        today()
    ))
    .expect("the stored date rewritten");
    let before = distributions(&app, &fund).await;

    let approval = approve(&app, "bob", &stored).await;
    assert_problem(&approval, 422, None);
    assert_eq!(approval.body["type"], "/problems/proposal-unreadable", "{}", approval.text);
    assert!(approval.text.contains("YYYY-MM-DD"), "{}", approval.text);
    assert_eq!(distributions(&app, &fund).await, before);

    let read = app.get(&format!("/api/v1/proposals/{id}"), &app.auditor()).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["operation"]["date"], "+10000-01-01");
    let browser = common::pages::signed_in(&app, "staff", DEMO_STAFF_PASSWORD).await;
    let page = common::pages::get(&browser, &app, &format!("/proposals/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let rejected = app
        .post(&format!("/api/v1/proposals/{id}/rejection"), &staff(&app, "bob"), &json!({"reason": "Unreadable."}))
        .await;
    assert_eq!(rejected.body["status"], "rejected", "{}", rejected.text);
    assert_eq!(app.internal_errors(), 0);
}

on_both_backends!(spawn = super::four_eyes_demo;
    a_bank_account_change_needs_a_second_admin,
    role_changes_need_a_second_admin,
    a_distribution_takes_effect_only_when_another_staff_user_approves_it,
    a_proposal_whose_preview_changed_is_refused_and_shown_again,
    proposals_are_withdrawn_rejected_and_expire,
    a_proposal_stored_under_looser_rules_is_refused_and_can_be_rejected,
    racing_approvals_execute_a_proposal_once,
    write_downs_reversals_and_prices_need_a_second_staff_user,
    a_capital_call_sends_the_notices_its_proposal_showed,
);

/// Two server processes on one PostgreSQL, each asked to approve the same proposal at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_approving_one_proposal_execute_it_once() {
    let app = four_eyes_demo(Backend::Postgres).await;
    let (a, b) = (start_server(&app.database_url).await, start_server(&app.database_url).await);
    let fund = gigafactories(&app).await;
    let before = distributions(&app, &fund).await;
    let proposal = propose(&app, "ann", &distribution(&fund, "750000.00", "Two nodes")).await;
    let id = proposal["id"].as_str().expect("id");
    let http = reqwest::Client::new();
    let sends = [(&a, "bob"), (&b, "carl"), (&a, "dora"), (&b, "emil")].map(|(node, by)| {
        let request = http
            .post(format!("{}/api/v1/proposals/{id}/approval", node.address))
            .bearer_auth(staff(&app, by))
            .json(&json!({"revision": 1}));
        async move { request.send().await.expect("approval").status().as_u16() }
    });
    let statuses = join_all(sends).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    assert_eq!(distributions(&app, &fund).await, before + 1);
}
