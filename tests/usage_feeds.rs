//! Usage from the feeds facilities run, on both backends: Slurm accounting output (`sacct
//! --parsable2`) by API, page and command, CloudEvents batches, and this service's CSV with
//! every bad line answered. Expected GPU-hours and subsidies are worked out here from the rule
//! (GPUs x run time, rounded down to the thousandth; hours x price x intensity, rounded down
//! to the cent), not read back from the service.

use crate::common;
use crate::grants::{application, award, balance, entry_count, open_call, reviewed, setup, Grants};

use common::pages::{get, hidden, post_form, read};
use common::{assert_problem, investai, Reply, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// Milli-GPU-hours of `gpus` GPUs for `seconds`, rounded down: the rule, written on its own.
fn milli_hours(gpus: i64, seconds: i64) -> i64 {
    gpus * seconds * 1000 / 3600
}

/// Subsidy in cents of `milli` GPU-hours at 200 cents an hour and `percent` intensity.
fn subsidy_cents(milli: i64, percent: i64) -> i64 {
    milli * 200 * percent / 100 / 1000
}

fn hours_text(milli: i64) -> String {
    format!("{}.{:03}", milli / 1000, milli % 1000)
}

/// A running award at the fund's first facility (EUR 2.00 an hour, 2026-01-01 to 2026-03-31).
async fn running_award(app: &TestApp) -> (Grants, String, i64) {
    let g = setup(app, "1000000.00", 1_000_000).await;
    let call = open_call(app, &g, "100000.00", "industrial_research", "50000", 1).await;
    let id = reviewed(app, &call, "sme-feeds", &application(&g, "RCS-F", "10000"), 1).await;
    let awarded = award(app, &id, json!({})).await;
    assert_eq!(awarded.status, 201, "{}", awarded.text);
    let percent = awarded.body["intensity_percent"].as_str().and_then(|p| p.parse().ok()).expect("whole percent");
    (g, awarded.body["id"].as_str().expect("award id").to_string(), percent)
}

/// What `TZ=UTC sacct --parsable2 --format=JobID,JobName,Account,AllocTRES,Start,End,State`
/// prints, job steps included, with one job line sent twice.
const SACCT: &str = "\
JobID|JobName|Account|AllocTRES|Start|End|State
4711|train|sme-feeds|billing=64,cpu=64,gres/gpu=8,mem=512G,node=1|2026-02-02T08:00:00|2026-02-02T10:30:00|COMPLETED
4711.batch|batch|sme-feeds|cpu=64,gres/gpu=8,mem=512G,node=1|2026-02-02T08:00:00|2026-02-02T10:30:00|COMPLETED
4711.0|python|sme-feeds|cpu=64,gres/gpu=8,mem=512G,node=1|2026-02-02T08:00:05|2026-02-02T10:29:58|COMPLETED
4712_1|sweep|SME-Feeds|billing=8,cpu=8,gres/gpu:h100=1,mem=64G,node=1|2026-02-03T09:00:00|2026-02-03T09:20:00|COMPLETED
4713|other|someone-else|billing=8,cpu=8,gres/gpu=2,mem=64G,node=1|2026-02-03T09:00:00|2026-02-03T10:00:00|COMPLETED
4714|prep|sme-feeds|billing=4,cpu=4,mem=16G,node=1|2026-02-03T09:00:00|2026-02-03T12:00:00|COMPLETED
4715|long|sme-feeds|billing=8,cpu=8,gres/gpu=2,mem=64G,node=1|2026-02-04T08:00:00|Unknown|RUNNING
4716|late|sme-feeds|billing=8,cpu=8,gres/gpu=4,mem=64G,node=1|2026-04-02T08:00:00|2026-04-02T09:00:00|COMPLETED
4717|bad|sme-feeds|gres/gpu=two|2026-02-05T08:00:00|2026-02-05T09:00:00|FAILED
4711|train|sme-feeds|billing=64,cpu=64,gres/gpu=8,mem=512G,node=1|2026-02-02T08:00:00|2026-02-02T10:30:00|COMPLETED
";

fn results(reply: &Reply) -> Vec<(u64, String)> {
    reply.body["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("lines: {}", reply.text))
        .iter()
        .map(|l| {
            let result = l["result"].as_str().unwrap_or_default();
            let code = if result == "malformed" { "" } else { l["code"].as_str().unwrap_or_default() };
            (l["line"].as_u64().unwrap_or(0), format!("{result} {code}").trim().to_string())
        })
        .collect()
}

async fn import(app: &TestApp, token: &str, content_type: &str, file: &str) -> Reply {
    let request = app
        .client
        .post(format!("{}/api/v1/usage/imports?file_name=sacct-february.txt", app.address))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .body(file.to_string());
    app.send(request).await
}

async fn used(app: &TestApp, award_id: &str) -> Value {
    app.get(&format!("/api/v1/awards/{award_id}"), &app.auditor()).await.body["used_gpu_hours"].clone()
}

async fn slurm_jobs_count_once_against_the_mapped_award(app: TestApp) {
    let (g, award_id, percent) = running_award(&app).await;
    let operator = app.token(Role::Facility, &g.facility);
    let stranger = app.token(Role::Facility, &g.other_facility);
    let map = |account: &str| format!("/api/v1/usage/slurm-accounts/{account}");
    let put = |token: String, path: String, body: Value| {
        let request = app.client.put(format!("{}{path}", app.address)).bearer_auth(token).json(&body);
        app.send(request)
    };
    // Only the facility's own award can be mapped, under a name Slurm could have.
    assert_problem(
        &put(stranger.clone(), map("sme-feeds"), json!({"award_id": award_id})).await,
        400,
        Some("award_id"),
    );
    assert_problem(
        &put(operator.clone(), map("no%20spaces"), json!({"award_id": award_id})).await,
        400,
        Some("account"),
    );
    assert_problem(&put(operator.clone(), map("sme-feeds"), json!({"award_id": "x"})).await, 400, Some("award_id"));
    let mapped = put(operator.clone(), map("SME-Feeds"), json!({"award_id": award_id})).await;
    assert_eq!(mapped.status, 200, "{}", mapped.text);
    assert_eq!(mapped.body["account"], "sme-feeds", "kept in lower case, as Slurm keeps it");
    let listed = app.get("/api/v1/usage/slurm-accounts", &operator).await;
    assert_eq!(listed.body[0]["award_id"], award_id.as_str(), "{}", listed.text);
    assert_eq!(app.get("/api/v1/usage/slurm-accounts", &stranger).await.body, json!([]));

    let entries = entry_count(&app).await;
    let first = import(&app, &operator, "text/plain", SACCT).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let expected = [
        (2, "counted"),
        (3, "skipped job-step"),
        (4, "skipped job-step"),
        (5, "counted"),
        (6, "refused unmapped-account"),
        (7, "skipped no-gpus"),
        (8, "skipped job-not-ended"),
        (9, "refused outside-award-period"),
        (10, "malformed"),
        (11, "duplicate"),
    ];
    assert_eq!(results(&first), expected.map(|(l, r)| (l, r.to_string())), "{}", first.text);
    assert_eq!(first.body["lines"][8]["column"], "AllocTRES");
    assert_eq!(first.body["lines"][9]["duplicate_of_line"], 2);
    assert_eq!(first.body["lines"][0]["record_id"], "slurm-4711");
    assert!(first.body["lines"][4]["reason"].as_str().unwrap_or_default().contains("someone-else"), "{}", first.text);
    // 8 GPUs for 2 h 30 min and 1 GPU for 20 min.
    let milli = milli_hours(8, 9_000) + milli_hours(1, 1_200);
    assert_eq!(milli, 20_333);
    assert_eq!(first.body["gpu_hours"], hours_text(milli));
    assert_eq!((first.body["counted"].as_u64(), first.body["duplicates"].as_u64()), (Some(2), Some(1)));
    assert_eq!(used(&app, &award_id).await, hours_text(milli));
    let subsidy = subsidy_cents(milli, percent);
    assert_eq!(balance(&app, &g.fund, "5200").await, subsidy, "subsidy expense of the counted hours");
    assert_eq!(entry_count(&app).await, entries + 1, "one entry for the award");

    // The same file again counts nothing: every job line is a replay.
    let again = import(&app, &operator, "text/plain", SACCT).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!((again.body["counted"].as_u64(), again.body["replayed"].as_u64()), (Some(0), Some(2)), "{}", again.text);
    assert_eq!(used(&app, &award_id).await, hours_text(milli));
    assert_eq!(entry_count(&app).await, entries + 1);

    // The command counts a file the same way; its job ids are new, so its one job counts.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sacct-march.txt");
    let march = "JobID|Account|AllocGRES|Start|End\n\
        5001|sme-feeds|gpu:a100:4(IDX:0-3)|2026-03-02T08:00:00|2026-03-02T09:00:00\n\
        5002|nobody|gpu:1|2026-03-02T08:00:00|2026-03-02T09:00:00\n";
    std::fs::write(&file, march).expect("write the file");
    let run = || investai(&app.database_url).args(["usage", "import", "--facility", &g.facility]).arg(&file).output();
    let out = run().expect("run the import");
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "a refused line fails the command: {said}");
    assert!(said.contains("line 3: Refused unmapped-account"), "{said}");
    assert!(said.contains("1 counted"), "{said}");
    let out = run().expect("run it again");
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 counted, 1 replayed"), "{out:?}");
    assert_eq!(used(&app, &award_id).await, hours_text(milli + milli_hours(4, 3_600)));

    // Every file is in the facility's history, newest first; the other facility sees none.
    let history = app.get("/api/v1/usage/imports", &operator).await;
    let sent: Vec<(&str, &str, u64)> = history
        .body
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["channel"].as_str().unwrap_or_default(),
                h["file_format"].as_str().unwrap_or_default(),
                h["counted"].as_u64().unwrap_or(9),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [("command", "slurm", 0), ("command", "slurm", 1), ("api", "slurm", 0), ("api", "slurm", 2)],
        "{}",
        history.text
    );
    assert_eq!(history.body[3]["file_name"], "sacct-february.txt");
    assert_eq!(app.get("/api/v1/usage/imports", &stranger).await.body, json!([]));
    // Only facility operators send usage.
    assert_problem(&import(&app, &app.staff(), "text/plain", SACCT).await, 403, None);
    assert_problem(&import(&app, &operator, "application/xml", SACCT).await, 415, None);
    assert_problem(
        &import(&app, &operator, "text/plain", "JobID|Account|Start|End\n1|a|b|c\n").await,
        400,
        Some("file"),
    );
}

fn event(id: &str, award_id: &str, hours: &str, day: u32) -> Value {
    json!({
        "specversion": "1.0", "type": "eu.investai.usage.gpu_hours", "source": "//openmeter.lumi.example/gpu",
        "id": id, "subject": award_id, "time": format!("2026-02-{day:02}T20:00:00Z"),
        "datacontenttype": "application/json",
        "data": {"gpu_hours": hours, "period_start": format!("2026-02-{day:02}T08:00:00Z"), "period_end": format!("2026-02-{day:02}T20:00:00Z")}
    })
}

async fn cloud_events(app: &TestApp, token: &str, batch: &Value) -> Reply {
    let request = app
        .client
        .post(format!("{}/api/v1/usage", app.address))
        .bearer_auth(token)
        .header("Content-Type", "application/cloudevents-batch+json")
        .body(batch.to_string());
    app.send(request).await
}

async fn cloudevents_batches_count_like_any_batch(app: TestApp) {
    let (g, award_id, percent) = running_award(&app).await;
    let operator = app.token(Role::Facility, &g.facility);
    let batch = json!([
        event("ev-1", &award_id, "12.5", 2),
        event("ev-2", &award_id, "10000", 3),
        event("ev-1", &award_id, "12.5", 2),
        event("ev-3", &award_id, "0.125", 4),
    ]);
    let first = cloud_events(&app, &operator, &batch).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        (first.body["new"].as_u64(), first.body["replayed"].as_u64(), first.body["duplicates"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(first.body["refusals"][0]["code"], "above-award-hours", "{}", first.text);
    assert_eq!(first.body["refusals"][0]["record_id"], "ev-2");
    let milli = 12_500 + 125;
    assert_eq!(used(&app, &award_id).await, hours_text(milli));
    assert_eq!(balance(&app, &g.fund, "5200").await, subsidy_cents(milli, percent));
    // Sent again, nothing more is counted.
    let replay = cloud_events(&app, &operator, &batch).await;
    assert_eq!((replay.body["new"].as_u64(), replay.body["replayed"].as_u64()), (Some(0), Some(3)), "{}", replay.text);
    assert_eq!(used(&app, &award_id).await, hours_text(milli));
    // A malformed batch is refused whole, every wrong attribute named; nothing is counted.
    let mut wrong = event("ev-9", &award_id, "1.2345", 5);
    wrong["type"] = json!("request");
    let refused = cloud_events(&app, &operator, &json!([event("ev-8", &award_id, "1", 5), wrong])).await;
    assert_problem(&refused, 400, Some("[1].type"));
    let fields: Vec<&str> =
        refused.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["[1].type", "[1].data.gpu_hours"], "{}", refused.text);
    assert_eq!(used(&app, &award_id).await, hours_text(milli));
    assert_problem(&cloud_events(&app, &operator, &json!({"records": []})).await, 400, Some("body"));
    // The JSON batch still takes application/json; another media type is refused.
    let request = app
        .client
        .post(format!("{}/api/v1/usage", app.address))
        .bearer_auth(&operator)
        .header("Content-Type", "text/plain")
        .body("x");
    assert_problem(&app.send(request).await, 415, None);
}

async fn a_csv_file_answers_every_line_on_the_page(app: TestApp) {
    let (g, award_id, percent) = running_award(&app).await;
    let browser = app.browser_as("fiona-feeds", Role::Facility, Some(&g.facility)).await;
    let csv = format!(
        "record_id,award_id,gpu_hours,period_start,period_end\n\
         c-1,{award_id},1.5,2026-02-02T08:00:00Z,2026-02-02T09:30:00Z\n\
         c-2,not-an-award,1,2026-02-02T08:00:00Z,2026-02-02T09:00:00Z\n\
         c-3,{award_id},2,yesterday,2026-02-02T09:00:00Z\n\
         c-1,{award_id},1.5,2026-02-02T08:00:00Z,2026-02-02T09:30:00Z\n\
         c-4,{award_id},0,2026-02-02T08:00:00Z,2026-02-02T09:00:00Z\n"
    );
    let upload = |file: String, name: &'static str| {
        let browser = browser.clone();
        let app = &app;
        async move {
            let page = get(&browser, app, "/facility/usage").await;
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", hidden(&page.text, "csrf_token"))
                .part("file", reqwest::multipart::Part::bytes(file.into_bytes()).file_name(name));
            read(browser.post(format!("{}/facility/usage", app.address)).multipart(form).send().await.expect("upload"))
                .await
        }
    };
    // Text parts beside the file are bounded together, and one file is read: a request of many
    // parts is refused before it is held in memory.
    let page = get(&browser, &app, "/facility/usage").await;
    let token = hidden(&page.text, "csrf_token");
    let padded = (0..4).fold(reqwest::multipart::Form::new().text("csrf_token", token.clone()), |form, i| {
        form.text(format!("note{i}"), "x".repeat(8 * 1024))
    });
    let twice = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .part("file", reqwest::multipart::Part::bytes(b"a".to_vec()).file_name("a.csv"))
        .part("file", reqwest::multipart::Part::bytes(b"b".to_vec()).file_name("b.csv"));
    for (form, said) in [(padded, "larger than 16,384 bytes"), (twice, "send one file at a time")] {
        let refused =
            read(browser.post(format!("{}/facility/usage", app.address)).multipart(form).send().await.expect("upload"))
                .await;
        assert_eq!(refused.status, 400, "{}", refused.text);
        assert!(refused.text.contains(said), "{said}: {}", refused.text);
    }
    // A file's name is kept as sent, so a name that cannot be kept as sent is refused, not cut or
    // cleaned, and nothing of its file counts.
    for (name, said) in [("usage\u{202E}vsc.csv".to_string(), "reorder"), ("x".repeat(201), "at most 200 characters")] {
        let page = get(&browser, &app, "/facility/usage").await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", hidden(&page.text, "csrf_token"))
            .part("file", reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name(name));
        let refused =
            read(browser.post(format!("{}/facility/usage", app.address)).multipart(form).send().await.expect("upload"))
                .await;
        assert_eq!(refused.status, 400, "{}", refused.text);
        assert!(refused.text.contains("file_name") && refused.text.contains(said), "{said}: {}", refused.text);
    }
    assert_eq!(used(&app, &award_id).await, "0.000", "a refused file counts nothing");
    let result = upload(csv, "february.csv").await;
    assert_eq!(result.status, 200, "{}", result.text);
    for said in [
        "malformed (award_id): not an award id (a UUID): not-an-award",
        "malformed (period_start): not a time such as",
        "duplicate of line 2: counted once",
        "refused (zero-hours)",
    ] {
        assert!(result.text.contains(said), "the result should say {said:?}: {}", result.text);
    }
    assert_eq!(used(&app, &award_id).await, "1.500", "the good line counts, the others are answered");
    // The facility's home shows what it is owed for 2026-Q1: 1.5 h x EUR 2.00 x intensity.
    let home = get(&browser, &app, "/").await;
    let owed = subsidy_cents(1_500, percent);
    let row =
        home.text.split("<tr>").find(|r| r.contains("2026-Q1") && r.contains("PDF")).expect("a 2026-Q1 payable row");
    assert!(row.contains(&format!("EUR {}.{:02}", owed / 100, owed % 100)), "payable {owed} cents: {row}");
    assert!(home.text.contains("Reserved, unused") && home.text.contains("Reserved by awards"), "{}", home.text);

    // Slurm accounts are mapped from the same page; the template lists the running awards.
    let mapped = post_form(
        &browser,
        &app,
        "/facility/usage",
        "/facility/slurm-accounts",
        &[("account", "sme-feeds"), ("award_id", &award_id)],
    )
    .await;
    assert_eq!(mapped.status, 303, "{}", mapped.text);
    let after = get(&browser, &app, &mapped.location).await;
    assert!(after.text.contains("Slurm account mapped"), "{}", after.text);
    let refused = post_form(
        &browser,
        &app,
        "/facility/usage",
        "/facility/slurm-accounts",
        &[("account", "two words"), ("award_id", &award_id)],
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    let slurm = upload(SACCT.to_string(), "sacct.txt").await;
    assert_eq!(slurm.status, 200, "{}", slurm.text);
    assert!(slurm.text.contains("skipped: a job step"), "{}", slurm.text);
    let page = get(&browser, &app, "/facility/usage").await;
    for said in ["sme-feeds", "february.csv", "sacct.txt"] {
        assert!(page.text.contains(said), "the page should show {said:?}");
    }
    let template = get(&browser, &app, "/facility/usage/template.csv").await;
    assert_eq!(template.text, format!("record_id,award_id,gpu_hours,period_start,period_end\r\n,{award_id},,,\r\n"));
    assert!(template.content_type.starts_with("text/csv"), "{}", template.content_type);
}

/// A record id holding a NUL byte (which PostgreSQL refuses as text) is refused with its record alone;
/// the batch's other records count.
async fn a_record_id_holding_a_nul_is_refused_with_its_record(app: TestApp) {
    let (g, award_id, _) = running_award(&app).await;
    let operator = app.token(Role::Facility, &g.facility);
    let record = |id: &str, award: &str, day: u32| {
        json!({"record_id": id, "award_id": award, "gpu_hours": "1",
            "period_start": format!("2026-02-{day:02}T08:00:00Z"), "period_end": format!("2026-02-{day:02}T09:00:00Z")})
    };
    let batch = json!({"records": [
        record("nul-1", &award_id, 2), record("nul\u{0}2", &award_id, 3), record("nul-3", &award_id, 4)]});
    let reply = app.post("/api/v1/usage", &operator, &batch).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["new"], 2, "{}", reply.text);
    let refused: Vec<&str> =
        reply.body["refusals"].as_array().expect("refusals").iter().filter_map(|r| r["code"].as_str()).collect();
    assert_eq!(refused, ["invalid-record-id"], "{}", reply.text);
    assert_eq!(used(&app, &award_id).await, hours_text(2_000));
}

on_both_backends!(
    a_record_id_holding_a_nul_is_refused_with_its_record,
    slurm_jobs_count_once_against_the_mapped_award,
    cloudevents_batches_count_like_any_batch,
    a_csv_file_answers_every_line_on_the_page,
);
