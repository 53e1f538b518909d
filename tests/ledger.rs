//! The journal on both backends: balance rules, reversals, trial balance, tamper detection.

use crate::common;

use common::{assert_problem, TestApp};
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

fn entry(debit_account: &str, credit_account: &str, debit: &str, credit: &str) -> Value {
    json!({
        "effective_date": "2025-03-01",
        "description": "Opening cash",
        "postings": [
            {"account": debit_account, "debit": debit},
            {"account": credit_account, "credit": credit}
        ]
    })
}

async fn entry_count(app: &TestApp) -> usize {
    let reply = app.get("/api/v1/ledger/entries?limit=500", &app.auditor()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["items"].as_array().map_or(0, Vec::len)
}

async fn balanced_entry_posts_and_trial_balance_balances(app: TestApp) {
    let fund = app.create_fund("Ledger fund").await;
    let reply = app
        .post(
            &format!("/api/v1/funds/{fund}/journal-entries"),
            &app.staff(),
            &entry("1000", "3900", "1500.25", "1500.25"),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["sequence"], 1);
    assert_eq!(reply.body["actor"], "staff:alice");
    assert_eq!(reply.body["postings"][0]["debit"], "1500.25");
    assert_eq!(reply.body["postings"][1]["credit"], "1500.25");
    assert_eq!(reply.body["hash"].as_str().map(str::len), Some(64));

    let tb = app.get(&format!("/api/v1/funds/{fund}/trial-balance?as_of=2025-12-31"), &app.auditor()).await;
    assert_eq!(tb.status, 200, "{}", tb.text);
    assert_eq!(tb.body["total_debit"], "1500.25");
    assert_eq!(tb.body["total_credit"], "1500.25");
    assert_eq!(tb.body["balanced"], true);

    // Before the effective date the account is empty.
    let early = app.get(&format!("/api/v1/funds/{fund}/accounts/1000/balance?as_of=2025-02-28"), &app.auditor()).await;
    assert_eq!(early.body["net"], "0.00", "{}", early.text);
    let later = app.get(&format!("/api/v1/funds/{fund}/accounts/1000/balance?as_of=2025-03-01"), &app.auditor()).await;
    assert_eq!(later.body["net"], "1500.25", "{}", later.text);
}

/// A manual entry keeps off the memorandum accounts, which only commitments and calls move (their
/// balance is the unfunded commitments), and off the calls receivable, and names only parties the
/// books know.
async fn manual_entries_keep_off_the_unfunded_memo_and_name_known_parties(app: TestApp) {
    let fund = app.create_fund("Memo fund").await;
    let source = common::created(
        &app,
        "/api/v1/sources",
        json!({"kind": "private", "legal_name": "Memo investor", "country": "DE"}),
    )
    .await;
    let source = common::id(&source);
    let url = format!("/api/v1/funds/{fund}/journal-entries");
    let with_party = |debit: &str, credit: &str, party: &str| {
        json!({"effective_date": "2025-03-01", "description": "Adjustment", "postings": [
            {"account": debit, "debit": "100.00", "party_id": party},
            {"account": credit, "credit": "100.00", "party_id": party}]})
    };
    let before = entry_count(&app).await;
    for (debit, credit, field) in [("9000", "9100", "postings[0].account"), ("1000", "9000", "postings[1].account")] {
        let refused = app.post(&url, &app.staff(), &with_party(debit, credit, &source)).await;
        assert_problem(&refused, 422, Some(field));
        assert_eq!(refused.body["type"], "/problems/account-kept-by-commitments", "{}", refused.text);
    }
    // Nor a sub-account of them, which staff may open: 9000.01 is still the unfunded memo.
    for (code, kind) in [("9000.01", "asset"), ("9100.01", "liability")] {
        let account = json!({"code": code, "name": "Memo sub-account", "kind": kind});
        common::created(&app, &format!("/api/v1/funds/{fund}/accounts"), account).await;
    }
    let refused = app.post(&url, &app.staff(), &with_party("9000.01", "9100.01", &source)).await;
    assert_problem(&refused, 422, Some("postings[0].account"));
    assert_eq!(refused.body["type"], "/problems/account-kept-by-commitments", "{}", refused.text);
    let nobody = "00000000-0000-7000-8000-000000000000";
    let unknown = app.post(&url, &app.staff(), &with_party("1000", "3900", nobody)).await;
    assert_problem(&unknown, 422, Some("postings[0].party_id"));
    assert_eq!(unknown.body["type"], "/problems/unknown-party", "{}", unknown.text);
    // Nor the calls receivable, which notices keep call by call.
    for (debit, credit, field) in [("3900", "1100", "postings[1].account"), ("1100", "3900", "postings[0].account")] {
        let refused = app.post(&url, &app.staff(), &with_party(debit, credit, &source)).await;
        assert_problem(&refused, 422, Some(field));
        assert_eq!(refused.body["type"], "/problems/account-kept-by-calls", "{}", refused.text);
    }
    assert_eq!(entry_count(&app).await, before, "refusals post nothing");
    let known = app.post(&url, &app.staff(), &with_party("1000", "3900", &source)).await;
    assert_eq!(known.status, 201, "{}", known.text);
}

async fn unbalanced_entry_is_refused_and_changes_nothing(app: TestApp) {
    let fund = app.create_fund("Unbalanced fund").await;
    let reply = app
        .post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &entry("1000", "3900", "100.00", "99.99"))
        .await;
    assert_problem(&reply, 422, Some("postings"));
    assert!(reply.body["detail"].as_str().unwrap_or_default().contains("do not balance"));
    let single =
        json!({"effective_date": "2025-03-01", "description": "x", "postings": [{"account": "1000", "debit": "1.00"}]});
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &single).await;
    assert_problem(&reply, 422, Some("postings"));
    let unknown = entry("1000", "9999", "1.00", "1.00");
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &unknown).await;
    assert_problem(&reply, 422, Some("postings[1].account"));
    // Balanced, yet moving twice the largest amount: the debits of an entry, however its
    // postings alternate, sum to at most EUR 10,000,000,000,000.00.
    let most = "10000000000000.00";
    let twice = json!({"effective_date": "2025-03-01", "description": "x", "postings": [
        {"account": "5000", "debit": most}, {"account": "4000", "credit": most},
        {"account": "5000", "debit": most}, {"account": "4000", "credit": most}]});
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &twice).await;
    assert_problem(&reply, 422, Some("postings"));
    assert_eq!(reply.body["type"], "/problems/amount-out-of-range", "{}", reply.text);
    assert_eq!(entry_count(&app).await, 0);
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
    assert_eq!(verify.body["entries_checked"], 0);
}

async fn database_refuses_an_unbalanced_head_advance(app: TestApp) {
    // Even code that skipped the domain check could not commit an unbalanced entry: the
    // trigger on the chain head refuses it.
    let fund = app.create_fund("Trigger fund").await;
    let accounts = app.get(&format!("/api/v1/funds/{fund}/accounts"), &app.auditor()).await;
    let cash = accounts.body["items"][0]["id"].as_str().expect("account").to_string();
    let outcome = app.sql(&format!(
        "INSERT INTO journal_entries (id, sequence, fund_id, effective_date, created_at, actor, event_type, event_id, description, previous_hash, hash)
         VALUES ('e1', 1, '{fund}', '2025-01-01', '2025-01-01 00:00:00', 'x', 'manual', 'e1', 'x', '0', 'h1');
         INSERT INTO postings (entry_id, line, account_id, amount_cents, memo) VALUES ('e1', 1, '{cash}', 100, '');
         INSERT INTO postings (entry_id, line, account_id, amount_cents, memo) VALUES ('e1', 2, '{cash}', -99, '');
         UPDATE ledger_head SET sequence = 1, last_hash = 'h1', last_entry_id = 'e1' WHERE id = 1;"
    ));
    let error = outcome.expect_err("the database must refuse the unbalanced entry");
    assert!(error.contains("balance"), "{error}");
}

async fn database_refuses_a_head_advance_over_a_gap_or_an_unbalanced_entry(app: TestApp) {
    // A batch moves the head over several entries at once: the trigger checks every one of
    // them, not only the last, and refuses a head that skips a sequence number.
    let fund = app.create_fund("Batch trigger fund").await;
    let accounts = app.get(&format!("/api/v1/funds/{fund}/accounts"), &app.auditor()).await;
    let cash = accounts.body["items"][0]["id"].as_str().expect("account").to_string();
    let entry = |id: &str, sequence: i64, second_line_cents: i64| {
        format!(
            "INSERT INTO journal_entries (id, sequence, fund_id, effective_date, created_at, actor, event_type, event_id, description, previous_hash, hash)
             VALUES ('{id}', {sequence}, '{fund}', '2025-01-01', '2025-01-01 00:00:00', 'x', 'manual', '{id}', 'x', '0', 'h{id}');
             INSERT INTO postings (entry_id, line, account_id, amount_cents, memo) VALUES ('{id}', 1, '{cash}', 100, '');
             INSERT INTO postings (entry_id, line, account_id, amount_cents, memo) VALUES ('{id}', 2, '{cash}', {second_line_cents}, '');"
        )
    };
    // Two entries (id, sequence, cents of the second line against 100 on the first) and the head
    // moved to the second, in a transaction of its own, rolled back when refused (SQLite would
    // keep the statements before the refused one).
    let attempt = |first: (&str, i64, i64), last: (&str, i64, i64)| -> Result<(), String> {
        let statements = format!(
            "BEGIN; {}{}UPDATE ledger_head SET sequence = {}, last_hash = 'h{}', last_entry_id = '{}' WHERE id = 1; COMMIT;",
            entry(first.0, first.1, first.2),
            entry(last.0, last.1, last.2),
            last.1,
            last.0,
            last.0
        );
        let mut conn = app.conn();
        let conn: &mut investai::storage::DbConnection = &mut conn;
        let outcome = conn.batch_execute(&statements).map_err(|e| e.to_string());
        if outcome.is_err() {
            let _ = conn.batch_execute("ROLLBACK");
        }
        outcome
    };
    let error =
        attempt(("a", 1, -99), ("b", 2, -100)).expect_err("the database must refuse the unbalanced first entry");
    assert!(error.contains("balance"), "{error}");
    let error =
        attempt(("a", 1, -100), ("c", 3, -100)).expect_err("the database must refuse a head that skips an entry");
    assert!(error.contains("in sequence"), "{error}");
    attempt(("a", 1, -100), ("b", 2, -100)).expect("two balanced entries in sequence move the head over both");
}

async fn reversal_undoes_an_entry_once(app: TestApp) {
    let fund = app.create_fund("Reversal fund").await;
    let posted = app
        .post(
            &format!("/api/v1/funds/{fund}/journal-entries"),
            &app.staff(),
            &entry("1000", "3900", "250.00", "250.00"),
        )
        .await;
    let id = posted.body["id"].as_str().expect("id").to_string();
    let body = json!({"effective_date": "2025-03-02", "reason": "Posted to the wrong fund"});
    let reversal = app.post(&format!("/api/v1/ledger/entries/{id}/reversal"), &app.staff(), &body).await;
    assert_eq!(reversal.status, 201, "{}", reversal.text);
    assert_eq!(reversal.body["reverses_entry_id"], id.as_str());
    assert_eq!(reversal.body["postings"][0]["credit"], "250.00");
    let again = app.post(&format!("/api/v1/ledger/entries/{id}/reversal"), &app.staff(), &body).await;
    assert_problem(&again, 409, None);
    let cash = app.get(&format!("/api/v1/funds/{fund}/accounts/1000/balance?as_of=2025-12-31"), &app.auditor()).await;
    assert_eq!(cash.body["net"], "0.00");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], true);
    assert_eq!(verify.body["entries_checked"], 2);
}

async fn journal_rows_cannot_be_changed_through_the_database(app: TestApp) {
    let fund = app.create_fund("Append-only fund").await;
    app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &entry("1000", "3900", "10.00", "10.00"))
        .await;
    let update = app.sql("UPDATE postings SET amount_cents = 2000 WHERE line = 1");
    assert!(update.is_err_and(|e| e.contains("append-only")));
    let delete = app.sql("DELETE FROM journal_entries");
    assert!(delete.is_err_and(|e| e.contains("append-only")));
    // The chain head moves with every entry but is never deleted; its refusal says so.
    let head = app.sql("DELETE FROM ledger_head");
    assert!(head.as_ref().is_err_and(|e| e.contains("a row of ledger_head is never deleted")), "{head:?}");
}

/// Removes the append-only triggers, as someone with direct database access could.
fn drop_guards(app: &TestApp) {
    let statements = match app.backend {
        common::Backend::Sqlite => {
            "DROP TRIGGER postings_append_only_update; DROP TRIGGER postings_append_only_delete;
             DROP TRIGGER journal_entries_append_only_update; DROP TRIGGER journal_entries_append_only_delete;"
        }
        common::Backend::Postgres => {
            "DROP TRIGGER postings_append_only ON postings; DROP TRIGGER journal_entries_append_only ON journal_entries;"
        }
    };
    app.sql(statements).expect("drop guards");
}

async fn post_three(app: &TestApp) -> Vec<String> {
    let fund = app.create_fund("Tamper fund").await;
    let mut ids = Vec::new();
    for amount in ["10.00", "20.00", "30.00"] {
        let reply = app
            .post(
                &format!("/api/v1/funds/{fund}/journal-entries"),
                &app.staff(),
                &entry("1000", "3900", amount, amount),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        ids.push(reply.body["id"].as_str().expect("id").to_string());
    }
    ids
}

async fn verify_names_an_edited_entry(app: TestApp) {
    let ids = post_three(&app).await;
    drop_guards(&app);
    // A balanced edit: both sides changed, so only the hash can tell.
    app.sql(&format!("UPDATE postings SET amount_cents = amount_cents * 2 WHERE entry_id = '{}'", ids[1]))
        .expect("edit");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], false, "{}", verify.text);
    assert_eq!(verify.body["entries_checked"], 1);
    assert!(verify.body["first_fault"].as_str().unwrap_or_default().contains(&ids[1]), "{}", verify.text);
}

async fn verify_names_an_edited_description(app: TestApp) {
    let ids = post_three(&app).await;
    drop_guards(&app);
    app.sql(&format!("UPDATE journal_entries SET description = 'nothing to see' WHERE id = '{}'", ids[0]))
        .expect("edit");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], false);
    assert_eq!(verify.body["fault"]["problem"], "hash_mismatch");
    assert!(verify.body["first_fault"].as_str().unwrap_or_default().contains(&ids[0]));
}

async fn verify_names_a_deleted_entry(app: TestApp) {
    let ids = post_three(&app).await;
    drop_guards(&app);
    app.sql(&format!(
        "DELETE FROM postings WHERE entry_id = '{id}'; DELETE FROM journal_entries WHERE id = '{id}';",
        id = ids[1]
    ))
    .expect("delete");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], false);
    assert_eq!(verify.body["fault"]["problem"], "missing_sequence");
    assert!(verify.body["first_fault"].as_str().unwrap_or_default().contains(&ids[2]), "{}", verify.text);
}

async fn verify_notices_a_deleted_last_entry(app: TestApp) {
    let ids = post_three(&app).await;
    drop_guards(&app);
    app.sql(&format!("DELETE FROM postings WHERE entry_id = '{id}'", id = ids[2])).expect("delete");
    let verify = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(verify.body["ok"], false, "{}", verify.text);
    assert!(verify.body["first_fault"].as_str().unwrap_or_default().contains(&ids[2]), "{}", verify.text);
}

async fn journal_lists_filter_and_paginate(app: TestApp) {
    let ids = post_three(&app).await;
    let first = app.get("/api/v1/ledger/entries?limit=2", &app.auditor()).await;
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(2));
    let after = first.body["next_after"].as_str().expect("next page");
    let second = app.get(&format!("/api/v1/ledger/entries?limit=2&after={after}"), &app.auditor()).await;
    assert_eq!(second.body["items"][0]["id"], ids[2].as_str());
    assert_eq!(second.body["next_after"], Value::Null);
    // A page that ends at the last entry offers no next page: nothing follows it.
    let whole = app.get("/api/v1/ledger/entries?limit=3", &app.auditor()).await;
    assert_eq!(whole.body["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(whole.body["next_after"], Value::Null, "{}", whole.text);
    let by_actor = app.get("/api/v1/ledger/entries?actor=staff:nobody", &app.auditor()).await;
    assert_eq!(by_actor.body["items"].as_array().map(Vec::len), Some(0));
    let bad = app.get("/api/v1/ledger/entries?from=yesterday", &app.auditor()).await;
    assert_problem(&bad, 400, Some("query.from"));
    // A range that ends before it starts is refused, not answered with an empty journal; a range
    // of one day is a range.
    let reversed = app.get("/api/v1/ledger/entries?from=2026-01-02&to=2026-01-01", &app.auditor()).await;
    assert_problem(&reversed, 400, Some("query.to"));
    let one_day = app.get("/api/v1/ledger/entries?from=2026-01-01&to=2026-01-01", &app.auditor()).await;
    assert_eq!(one_day.status, 200, "{}", one_day.text);
    let browser = app.browser_as("range-auditor", investai::domain::roles::Role::Auditor, None).await;
    let page = crate::common::pages::get(&browser, &app, "/audit/journal?from=2026-01-02&to=2026-01-01").await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(page.text.contains("is before from"), "{}", page.text);
    // The journal page shows 25 entries; with exactly 25 it links to no empty next page, with 26
    // it does.
    let fund = first.body["items"][0]["fund_id"].as_str().expect("the entries' fund").to_string();
    for count in 4..=26 {
        if count == 26 {
            let full = crate::common::pages::get(&browser, &app, "/audit/journal").await;
            assert!(!full.text.contains("Next page"), "25 entries fill one page: {}", full.text);
        }
        let body = entry("1000", "3900", "1.00", "1.00");
        let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let more = crate::common::pages::get(&browser, &app, "/audit/journal").await;
    assert!(more.text.contains("Next page"), "{}", more.text);
    let one = app.get(&format!("/api/v1/ledger/entries/{}", ids[0]), &app.auditor()).await;
    assert_eq!(one.body["sequence"], 1);
    let missing = app.get(&format!("/api/v1/ledger/entries/{}", uuid::Uuid::now_v7()), &app.auditor()).await;
    assert_problem(&missing, 404, None);
}

on_both_backends!(
    balanced_entry_posts_and_trial_balance_balances,
    manual_entries_keep_off_the_unfunded_memo_and_name_known_parties,
    unbalanced_entry_is_refused_and_changes_nothing,
    database_refuses_an_unbalanced_head_advance,
    database_refuses_a_head_advance_over_a_gap_or_an_unbalanced_entry,
    reversal_undoes_an_entry_once,
    journal_rows_cannot_be_changed_through_the_database,
    verify_names_an_edited_entry,
    verify_names_an_edited_description,
    verify_names_a_deleted_entry,
    verify_notices_a_deleted_last_entry,
    journal_lists_filter_and_paginate,
);
