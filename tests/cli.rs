//! The `investai` binary: verify, token, serve refusals and the demo.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{investai, TestApp, TEST_SECRET};
use investai::domain::roles::Role;
use serde_json::json;

async fn verify_command_names_the_first_bad_entry(app: TestApp) {
    let fund = app.create_fund("CLI fund").await;
    let mut ids = Vec::new();
    for amount in ["5.00", "6.00"] {
        let body = json!({"effective_date": "2025-03-01", "description": "x", "postings": [
            {"account": "1000", "debit": amount}, {"account": "3900", "credit": amount}]});
        let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &body).await;
        ids.push(reply.body["id"].as_str().expect("id").to_string());
    }
    let good = investai(&app.database_url).arg("verify").output().expect("run verify");
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("2 entries"));

    let unguard = match app.backend {
        common::Backend::Sqlite => "DROP TRIGGER journal_entries_append_only_update;",
        common::Backend::Postgres => "DROP TRIGGER journal_entries_append_only ON journal_entries;",
    };
    app.sql(unguard).expect("drop guard");
    app.sql(&format!("UPDATE journal_entries SET actor = 'staff:eve' WHERE id = '{}'", ids[0])).expect("tamper");
    let bad = investai(&app.database_url).arg("verify").output().expect("run verify");
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains(&ids[0]), "{stderr}");
}

/// A fund with one commitment of 400.00 (2025-03-31), called for 100.00 (2025-06-01) and paid
/// 30.00 (2025-06-20).
struct CalledAndPartlyPaid {
    fund: String,
    tranche: String,
    source: String,
    commitment: String,
    notice: String,
}

async fn called_and_partly_paid(app: &TestApp) -> CalledAndPartlyPaid {
    let fund = app.create_fund("Totals fund").await;
    let tranche = common::created(
        app,
        &format!("/api/v1/funds/{fund}/tranches"),
        json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08", "min_ticket": "100.00"}),
    )
    .await;
    let source = common::created(
        app,
        "/api/v1/sources",
        json!({"kind": "eu_programme", "programme": "investeu", "legal_name": "InvestEU", "country": "EU"}),
    )
    .await;
    let tranche = tranche["id"].as_str().expect("tranche id").to_string();
    let source = source["id"].as_str().expect("source id").to_string();
    let body = json!({"source_id": source, "tranche_id": tranche, "amount": "400.00", "effective_date": "2025-03-31"});
    let commitment = common::created(app, &format!("/api/v1/funds/{fund}/commitments"), body).await;
    let call = json!({"call_date": "2025-06-01", "due_date": "2025-06-30", "description": "Fees",
        "lines": [{"tranche_id": tranche, "purpose": "fees", "amount": "100.00"}]});
    let call = common::created(app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await;
    let notices =
        app.get(&format!("/api/v1/notices?call_id={}", call["id"].as_str().expect("call id")), &app.staff()).await;
    let notice = notices.body["items"][0]["id"].as_str().expect("notice id").to_string();
    let pay = json!({"amount": "30.00", "value_date": "2025-06-20"});
    common::created(app, &format!("/api/v1/notices/{notice}/contributions"), pay).await;
    let commitment = commitment["id"].as_str().expect("commitment id").to_string();
    CalledAndPartlyPaid { fund, tranche, source, commitment, notice }
}

/// The capital totals the overview reads are checked against the commitments they sum.
async fn verify_command_names_a_capital_total_that_disagrees_with_its_commitments(app: TestApp) {
    let CalledAndPartlyPaid { tranche, .. } = called_and_partly_paid(&app).await;
    let verify = || investai(&app.database_url).arg("verify").output().expect("run verify");
    let good = verify();
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("capital totals verified"));

    // The migration's backfill, run again on an emptied table, finds the same totals.
    app.refill_as_migrated("2026-12-03-000001_capital_totals", "capital_totals");
    let again = verify();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));

    app.sql("UPDATE capital_totals SET committed_cents = committed_cents + 1").expect("tamper");
    let bad = investai(&app.database_url).arg("verify").output().expect("run verify");
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains(&format!("tranche {tranche}, eu_programme/investeu")), "{stderr}");
    assert!(
        stderr.contains(
            "kept 40001/10000/3000 committed/called/paid cents, the commitments and notices sum to 40000/10000/3000"
        ),
        "{stderr}"
    );
}

/// Each running amount a write keeps beside its records, and the journal's balances of 9000
/// and 1100, are counted again from the records; each that differs is named with both figures.
async fn verify_command_names_each_running_amount_that_disagrees_with_its_records(app: TestApp) {
    let CalledAndPartlyPaid { fund, tranche, source, commitment, notice } = called_and_partly_paid(&app).await;
    let verify = || investai(&app.database_url).arg("verify").output().expect("run verify");
    let good = verify();
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("running amounts verified"));

    let stamp = match app.backend {
        common::Backend::Sqlite => "'2025-06-21 00:00:00'",
        common::Backend::Postgres => "TIMESTAMP '2025-06-21 00:00:00'",
    };
    let day = match app.backend {
        common::Backend::Sqlite => "'2025-06-20'",
        common::Backend::Postgres => "DATE '2025-06-20'",
    };
    app.sql(&format!(
        "UPDATE commitments SET called_cents = called_cents + 1 WHERE id = '{commitment}';
         UPDATE notices SET paid_cents = paid_cents + 2 WHERE id = '{notice}';
         UPDATE tranches SET committed_cents = committed_cents + 3 WHERE id = '{tranche}';
         UPDATE account_days SET net_cents = net_cents + 4 WHERE party_key = '' AND day = {day}
             AND account_id = (SELECT id FROM ledger_accounts WHERE fund_id = '{fund}' AND code = '1000');
         INSERT INTO commitment_events (id, commitment_id, kind, amount_cents, committed_after_cents,
             effective_date, oversubscription_allowed, actor, created_at)
             VALUES ('forged-event', '{commitment}', 'increase', 5, 40005, {day}, 0, 'staff:eve', {stamp});
         INSERT INTO contributions (id, notice_id, amount_cents, value_date, actor, created_at)
             VALUES ('forged-contribution', '{notice}', 6, {day}, 'staff:eve', {stamp});"
    ))
    .expect("tamper");
    let bad = verify();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    for named in [
        format!("commitment amount, commitment {commitment}: kept 40000 cents, its events sum to 40005 cents"),
        format!("commitment called, commitment {commitment}: kept 10001 cents, its notices sum to 10000 cents"),
        format!("notice paid, notice {notice}: kept 3002 cents, its contributions sum to 3006 cents"),
        format!("tranche committed, tranche {tranche}: kept 40003 cents, its commitments sum to 40000 cents"),
        "party '', 2025-06-20: kept 3004 cents, the postings of the day sum to 3000 cents".to_string(),
        format!(
            "journal balance of 9000, fund {fund}, investor {source}: kept 30000 cents, the commitment events \
             less the calls sum to 30005 cents"
        ),
        format!(
            "journal balance of 1100, fund {fund}, investor {source}: kept 7000 cents, the calls less the \
             contributions sum to 6994 cents"
        ),
    ] {
        assert!(stderr.contains(&named), "{named} not in: {stderr}");
    }
    assert_eq!(stderr.matches("RUNNING AMOUNT DISAGREES").count(), 7, "{stderr}");

    // The API counts the same amounts again: the chain is whole, the books are not.
    let api = app.get("/api/v1/ledger/verify", &app.auditor()).await;
    assert_eq!(api.status, 200, "{}", api.text);
    assert_eq!((&api.body["ok"], &api.body["kept_amounts_agree"]), (&json!(false), &json!(false)), "{}", api.text);
    assert!(api.body["first_fault"].is_null(), "the hash chain itself verifies: {}", api.text);
    let differing = api.body["kept_amounts_differing"].as_array().expect("differences");
    let running: Vec<(String, String, String)> = differing
        .iter()
        .filter(|d| d["kept_amount"].as_str().is_some_and(|k| k.contains(", cents (")))
        .map(|d| {
            let field = |name: &str| d[name].as_str().expect("text").to_string();
            (field("item"), field("kept"), field("counted"))
        })
        .collect();
    let expected = [
        (format!("commitment {commitment}"), "40000", "40005"),
        (format!("commitment {commitment}"), "10001", "10000"),
        (format!("notice {notice}"), "3002", "3006"),
        (format!("tranche {tranche}"), "40003", "40000"),
        (format!("fund {fund}, investor {source}"), "30000", "30005"),
        (format!("fund {fund}, investor {source}"), "7000", "6994"),
    ];
    for (item, kept, counted) in expected {
        let found = running.iter().any(|(i, k, c)| *i == item && k == kept && c == counted);
        assert!(found, "{item}: kept {kept}, counted {counted} not in {running:?}");
    }
    assert!(running.iter().any(|(i, k, c)| i.ends_with("party '', 2025-06-20") && k == "3004" && c == "3000"));
    assert_eq!(running.len(), 7, "{running:?}");
}

async fn minted_token_is_accepted_by_the_server(app: TestApp) {
    let mint = |user: &str| {
        investai(&app.database_url)
            .env("INVESTAI_JWT_SECRET", TEST_SECRET)
            .args(["token", "--user", user, "--ttl", "10m"])
            .output()
            .expect("run token")
    };
    app.user_for(Role::Auditor, "carol");
    let out = mint("carol");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(app.get("/api/v1/ledger/verify", &token).await.status, 200);
    // Only for a user who exists and may act.
    let out = mint("nobody");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user nobody"));
    let admin = app.token(Role::Admin, "root");
    let carol = app.user_for(Role::Auditor, "carol");
    assert_eq!(
        app.post(&format!("/api/v1/users/{}/disable", carol.id), &admin, &serde_json::json!(null)).await.status,
        200
    );
    let out = mint("carol");
    assert!(String::from_utf8_lossy(&out.stderr).contains("disabled"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(app.get("/api/v1/ledger/verify", &token).await.status, 401, "the earlier token ended with the user");
}

on_both_backends!(
    verify_command_names_the_first_bad_entry,
    verify_command_names_a_capital_total_that_disagrees_with_its_commitments,
    verify_command_names_each_running_amount_that_disagrees_with_its_records,
    minted_token_is_accepted_by_the_server
);

#[test]
fn serve_refuses_to_start_without_a_secret() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = investai(&url).args(["serve", "--bind", "127.0.0.1:0"]).output().expect("run serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("INVESTAI_JWT_SECRET"));
    let weak = investai(&url).env("INVESTAI_JWT_SECRET", "changeme").arg("migrate").output().expect("run");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("jwt_secret"));
}

#[test]
fn user_add_reads_the_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("u.db").display());
    let mut child = investai(&url)
        .args(["user", "add", "--role", "auditor", "--name", "olga"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"a long enough password\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("olga"));
}

#[tokio::test]
async fn demo_serves_and_its_key_signs_cli_tokens() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let mut child = investai(&url)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    let address = lines.find_map(|line| line.split("running at ").nth(1).map(str::to_string)).expect("demo banner");
    // Keep reading so the server never writes to a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let out = investai(&url).args(["token", "--user", "staff"]).output().expect("token");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let client = reqwest::Client::new();
    let health = client.get(format!("{address}/healthz")).send().await.expect("healthz");
    let funds = client.get(format!("{address}/api/v1/funds")).bearer_auth(&token).send().await.expect("funds");
    let status = funds.status().as_u16();
    let body: serde_json::Value = funds.json().await.unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(status, 200);
    assert!(body["items"].as_array().is_some_and(|funds| funds.iter().any(|f| f["name"] == "InvestAI")), "{body}");
}
