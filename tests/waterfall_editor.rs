//! The waterfall editor on both backends: a distribution previewed under proposed terms
//! (`POST /funds/{id}/waterfall/preview`) agrees to the cent with the terms worked out here on
//! their own, writes nothing and is refused exactly as `POST /funds/{id}/waterfall` refuses the
//! same terms; the staff page previews edited terms beside the terms in force, then saves them,
//! or, with four eyes on, proposes them.

use crate::common;

use common::pages::{get, hidden, post_form, read, Html};
use common::{assert_problem, created, id, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

struct Fund {
    id: String,
    senior: String,
    junior: String,
    /// Senior A (600.00), Senior B (400.00), Junior C (500.00).
    investors: [String; 3],
}

/// Runs a write as staff: directly, or with four eyes on, proposed by one staff user and
/// approved by another. The write's answer.
async fn write(app: &TestApp, path: &str, body: Value, operation: Value) -> Value {
    if !app.state.settings.four_eyes {
        return created(app, path, body).await;
    }
    let proposal = app.post("/api/v1/proposals", &app.token(Role::Staff, "ann"), &operation).await;
    assert_eq!(proposal.status, 201, "{}", proposal.text);
    let approval = app
        .post(
            &format!("/api/v1/proposals/{}/approval", id(&proposal.body)),
            &app.token(Role::Staff, "bob"),
            &json!({"revision": proposal.body["revision"]}),
        )
        .await;
    assert_eq!(approval.status, 200, "{}", approval.text);
    approval.body["result"].clone()
}

/// A senior tranche (8% preferred return) held by A (600.00) and B (400.00), a junior one (5%)
/// held by C (500.00); everything called and paid on 2025-01-01. Terms in force (version 1):
/// the senior's pref, capital senior first, the residual split 50/50.
async fn fund(app: &TestApp) -> Fund {
    let fund = app.create_fund("Editor fund").await;
    let tranche = |name: &str, seniority: i32, rate: &str, target: &str| json!({"name": name, "seniority": seniority, "target_size": target, "pref_rate": rate});
    let tranches = format!("/api/v1/funds/{fund}/tranches");
    let senior = id(&created(app, &tranches, tranche("Senior", 1, "0.08", "1000.00")).await);
    let junior = id(&created(app, &tranches, tranche("Junior", 2, "0.05", "500.00")).await);
    let mut investors = Vec::new();
    for (name, tranche, amount) in
        [("Senior A", &senior, "600.00"), ("Senior B", &senior, "400.00"), ("Junior C", &junior, "500.00")]
    {
        let body = json!({"kind": "private", "legal_name": name, "country": "FR"});
        let source = id(&created(app, "/api/v1/sources", body).await);
        let body =
            json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2024-12-01"});
        created(app, &format!("/api/v1/funds/{fund}/commitments"), body).await;
        investors.push(source);
    }
    let body = json!({"name": "GF", "kind": "gigafactory", "member_state": "DE", "chip_count": 1000, "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000});
    let facility = id(&created(app, "/api/v1/facilities", body).await);
    let call = json!({"call_date": "2025-01-01", "due_date": "2025-01-01", "description": "All in", "lines": [
        {"tranche_id": senior, "purpose": "investment", "facility_id": facility, "amount": "1000.00"},
        {"tranche_id": junior, "purpose": "investment", "facility_id": facility, "amount": "500.00"}]});
    let mut operation = call.clone();
    operation["kind"] = json!("capital_call");
    operation["fund_id"] = json!(fund);
    write(app, &format!("/api/v1/funds/{fund}/capital-calls"), call, operation).await;
    let notices = app.get(&format!("/api/v1/notices?fund_id={fund}"), &app.staff()).await;
    let notices = notices.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(notices.len(), 3, "one notice per investor");
    for notice in notices {
        let body = json!({"amount": notice["amount"], "value_date": "2025-01-01"});
        created(app, &format!("/api/v1/notices/{}/contributions", id(&notice)), body).await;
    }
    let terms = json!({"steps": [
        {"type": "pref", "tranches": [senior], "mode": "sequential"},
        {"type": "capital", "tranches": [senior, junior], "mode": "sequential"},
        {"type": "split", "shares": [{"tranche": senior, "percent": "50"}, {"tranche": junior, "percent": "50"}]}
    ]});
    let operation = json!({"kind": "waterfall_terms", "fund_id": fund, "terms": terms});
    write(app, &format!("/api/v1/funds/{fund}/waterfall"), terms, operation).await;
    let [a, b, c] = <[String; 3]>::try_from(investors).expect("three investors");
    Fund { id: fund, senior, junior, investors: [a, b, c] }
}

/// The edited steps: pref of both tranches and capital pro rata, 10% of what remains to the
/// compute-grant pool (at most 100.00), the residual split 30/70.
fn edited_steps(f: &Fund) -> Value {
    json!([
        {"type": "pref", "tranches": [f.senior, f.junior], "mode": "pro_rata"},
        {"type": "capital", "tranches": [f.senior, f.junior], "mode": "pro_rata"},
        {"type": "reserve", "account": "1010", "percent": "10", "cap": "100.00"},
        {"type": "split", "shares": [{"tranche": f.senior, "percent": "30"}, {"tranche": f.junior, "percent": "70"}]}
    ])
}

/// Parts of `total` in proportion to `weights`, each rounded down, the cents left over one each
/// to the largest remainders (the lower index first between equal ones).
fn largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i64 = weights.iter().sum();
    let mut parts: Vec<i64> = weights.iter().map(|w| total * w / sum).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(total * weights[i] % sum), i));
    let left = total - parts.iter().sum::<i64>();
    for &i in order.iter().take(usize::try_from(left).unwrap_or(0)) {
        parts[i] += 1;
    }
    parts
}

/// What the edited steps pay, in cents, worked out here without the engine: (A, B, C, pool,
/// undistributed) for `cash` on 2026-01-01, a year after everything was paid in, when the cash
/// covers pref and capital in full.
fn edited_by_hand(cash: i64) -> [i64; 5] {
    // (paid in, pref rate in basis points, tranche: 0 senior, 1 junior)
    let positions = [(60_000i64, 800i64, 0usize), (40_000, 800, 0), (50_000, 500, 1)];
    let days = 365;
    // Simple interest, ACT/365F, rounded down to the cent.
    let pref: Vec<i64> = positions.iter().map(|(paid, bp, _)| paid * days * bp / (365 * 10_000)).collect();
    let capital: Vec<i64> = positions.iter().map(|(paid, _, _)| *paid).collect();
    let mut left = cash - pref.iter().sum::<i64>() - capital.iter().sum::<i64>();
    assert!(left >= 0, "the cash covers pref and capital");
    let pool = (left * 10 / 100).min(10_000);
    left -= pool;
    let by_tranche = largest_remainder(left, &[30, 70]);
    let mut split = [0; 3];
    for (tranche, amount) in by_tranche.iter().enumerate() {
        let members: Vec<usize> = (0..3).filter(|&i| positions[i].2 == tranche).collect();
        let weights: Vec<i64> = members.iter().map(|&i| positions[i].0).collect();
        for (member, part) in members.iter().zip(largest_remainder(*amount, &weights)) {
            split[*member] = part;
        }
    }
    let total = |i: usize| pref[i] + capital[i] + split[i];
    [total(0), total(1), total(2), pool, 0]
}

fn cents(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("an amount: {value}"));
    let (euros, cents) = text.split_once('.').expect("two decimals");
    euros.parse::<i64>().expect("euros") * 100 + cents.parse::<i64>().expect("cents")
}

async fn journal_entries(app: &TestApp) -> usize {
    let entries = app.get("/api/v1/ledger/entries?limit=500", &app.auditor()).await;
    entries.body["items"].as_array().map_or(0, Vec::len)
}

async fn terms_versions(app: &TestApp, fund: &str) -> usize {
    let versions = app.get(&format!("/api/v1/funds/{fund}/waterfall/versions?limit=500"), &app.auditor()).await;
    versions.body["items"].as_array().map_or(0, Vec::len)
}

async fn a_preview_under_edited_terms_is_exact_and_writes_nothing(app: TestApp) {
    let f = fund(&app).await;
    let (entries, proposals) = (journal_entries(&app).await, app.get("/api/v1/proposals", &app.auditor()).await);
    let path = format!("/api/v1/funds/{}/waterfall/preview", f.id);
    let body = json!({"steps": edited_steps(&f), "cash": "2000.01", "date": "2026-01-01"});
    let preview = app.post(&path, &app.staff(), &body).await;
    assert_eq!(preview.status, 200, "{}", preview.text);

    let [a, b, c, pool, undistributed] = edited_by_hand(200_001);
    let share = |investor: &str| {
        let shares = preview.body["investors"].as_array().expect("investors");
        let share = shares.iter().find(|s| s["investor_id"] == investor).expect("a share");
        cents(&share["total"])
    };
    assert_eq!(share(&f.investors[0]), a, "{}", preview.text);
    assert_eq!(share(&f.investors[1]), b, "{}", preview.text);
    assert_eq!(share(&f.investors[2]), c, "{}", preview.text);
    assert_eq!((a, b, c, pool), (71_199, 47_466, 77_386, 3_950), "the hand computation itself");
    let allocation = &preview.body["allocation"];
    let steps = allocation["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 4);
    assert_eq!(cents(&steps[2]["paid"]), pool, "10% of 395.01, rounded down");
    assert_eq!(steps[2]["lines"][0]["target"], json!({"account": "1010"}));
    assert_eq!(cents(&allocation["remaining"]), undistributed);
    // Every cent of the cash is accounted for: investors, accounts and what stays.
    let lines = steps.iter().flat_map(|s| s["lines"].as_array().cloned().unwrap_or_default());
    let paid: i64 = lines.map(|l| cents(&l["paid"])).sum();
    assert_eq!(paid + cents(&allocation["remaining"]), 200_001);
    assert_eq!(cents(&allocation["distributed"]), paid);
    assert_eq!(a + b + c + pool + undistributed, 200_001);
    assert_eq!(preview.body["terms_version"], 2, "the number the terms would get");
    assert_eq!(preview.body["id"], Value::Null);

    // Auditors may preview too; the terms in force give another allocation.
    let again = app.post(&path, &app.auditor(), &body).await;
    assert_eq!(again.body["allocation"], preview.body["allocation"]);
    let in_force = app
        .post(
            &format!("/api/v1/funds/{}/distributions/preview", f.id),
            &app.staff(),
            &json!({"cash": "2000.01", "date": "2026-01-01", "description": "In force"}),
        )
        .await;
    assert_eq!(in_force.status, 200, "{}", in_force.text);
    assert_ne!(in_force.body["allocation"], preview.body["allocation"]);
    assert_eq!(in_force.body["terms_version"], 1);

    assert_eq!(journal_entries(&app).await, entries, "a preview posts nothing");
    assert_eq!(terms_versions(&app, &f.id).await, 1, "a preview stores no terms");
    assert_eq!(app.get("/api/v1/proposals", &app.auditor()).await.body, proposals.body, "nor proposes any");
    let distributions = app.get(&format!("/api/v1/funds/{}/distributions", f.id), &app.auditor()).await;
    assert_eq!(distributions.body["items"], json!([]));

    let investor = app.token(Role::Investor, &f.investors[0]);
    assert_problem(&app.post(&path, &investor, &body).await, 403, None);
    let elsewhere = format!("/api/v1/funds/{}/waterfall/preview", uuid::Uuid::new_v4());
    assert_problem(&app.post(&elsewhere, &app.staff(), &body).await, 404, None);
}

async fn edited_terms_are_refused_as_saving_them_would_be(app: TestApp) {
    let f = fund(&app).await;
    let path = format!("/api/v1/funds/{}/waterfall/preview", f.id);
    let bad_steps = json!([
        {"type": "pref", "tranches": ["01934b7e-0000-7000-8000-000000000000"], "mode": "sequential"},
        {"type": "split", "shares": [{"tranche": f.senior, "percent": "40"}, {"tranche": f.junior, "percent": "50"}]},
        {"type": "reserve", "account": "7777", "percent": "10"}
    ]);
    let preview =
        app.post(&path, &app.staff(), &json!({"steps": bad_steps, "cash": "100.00", "date": "2026-01-01"})).await;
    for field in ["steps[0].tranches[0]", "steps[1].shares", "steps[2]", "steps[2].account"] {
        assert_problem(&preview, 400, Some(field));
    }
    let saving =
        app.post(&format!("/api/v1/funds/{}/waterfall", f.id), &app.staff(), &json!({"steps": bad_steps})).await;
    assert_eq!(preview.body["errors"], saving.body["errors"], "the same reasons as saving the terms");
    assert_eq!(preview.body["type"], saving.body["type"]);

    // Cash that is not positive is named with the terms' problems, in one answer.
    let zero = app.post(&path, &app.staff(), &json!({"steps": bad_steps, "cash": "0.00", "date": "2026-01-01"})).await;
    assert_problem(&zero, 400, Some("cash"));
    assert_problem(&zero, 400, Some("steps[1].shares"));
    let fine = edited_steps(&f);
    for (body, field) in [
        (json!({"steps": fine, "cash": "1.001", "date": "2026-01-01"}), Some("cash")),
        (json!({"steps": fine, "cash": "-1.00", "date": "2026-01-01"}), Some("cash")),
        (json!({"steps": fine, "cash": "1.00", "date": "2026-02-30"}), Some("date")),
        (json!({"steps": [{"type": "bonus"}], "cash": "1.00", "date": "2026-01-01"}), None),
        (json!({"steps": fine, "cash": "1.00", "date": "2026-01-01", "description": "x"}), None),
        (json!({"steps": [], "cash": "1.00", "date": "2026-01-01"}), Some("steps")),
        // Finer than the exact arithmetic holds: 1 - t = 1e-28 would overflow once the senior
        // tranche's pref is paid; a percentage beyond what a decimal sums.
        (
            json!({"steps": [{"type": "pref", "tranches": [f.senior], "mode": "sequential"},
            {"type": "catch_up", "beneficiary": {"account": "1010"}, "target_percent": "99.99999999999999999999999999"}],
            "cash": "10000.00", "date": "2026-01-01"}),
            Some("steps[1].target_percent"),
        ),
        (
            json!({"steps": [{"type": "split", "shares": [
            {"tranche": f.senior, "percent": "50000000000000000000000000000"},
            {"tranche": f.junior, "percent": "50000000000000000000000000000"}]}],
            "cash": "1.00", "date": "2026-01-01"}),
            Some("steps[0].shares[1].percent"),
        ),
    ] {
        let reply = app.post(&path, &app.staff(), &body).await;
        assert_problem(&reply, 400, field);
    }
    let unknown_step = app
        .post(&format!("/api/v1/funds/{}/waterfall", f.id), &app.staff(), &json!({"steps": [{"type": "bonus"}]}))
        .await;
    let unknown_preview = app
        .post(&path, &app.staff(), &json!({"steps": [{"type": "bonus"}], "cash": "1.00", "date": "2026-01-01"}))
        .await;
    assert_eq!(unknown_preview.body["errors"], unknown_step.body["errors"], "{}", unknown_preview.text);
    assert_eq!(terms_versions(&app, &f.id).await, 1);
    assert_eq!(app.internal_errors(), 0);
}

/// The part of a page from the form posting to `action` on.
fn form_at<'a>(page: &'a str, action: &str) -> &'a str {
    page.split(&format!("action=\"{action}\"")).nth(1).unwrap_or_else(|| panic!("no form to {action}: {page}"))
}

/// A hidden field's value as the browser sends it back (the page escapes it as HTML).
fn unescaped(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Previews the edited steps from the page, as a browser does; the page answered.
async fn preview_on_page(app: &TestApp, browser: &reqwest::Client, f: &Fund, steps: &str, cash: &str) -> Html {
    let page = format!("/funds/{}/waterfall", f.id);
    post_form(
        browser,
        app,
        &page,
        &page,
        &[("steps", steps), ("cash", cash), ("date", "2026-01-01"), ("intent", "default")],
    )
    .await
}

/// Sends the save form of a previewed page as it stands.
async fn save_from(app: &TestApp, browser: &reqwest::Client, f: &Fund, preview: &Html) -> Html {
    let action = format!("/funds/{}/waterfall/save", f.id);
    let form = form_at(&preview.text, &action);
    let fields: Vec<(String, String)> = ["csrf_token", "idempotency_key", "steps", "cash", "date"]
        .into_iter()
        .map(|name| (name.to_string(), unescaped(&hidden(form, name))))
        .chain([("intent".to_string(), "default".to_string())])
        .collect();
    read(browser.post(format!("{}{action}", app.address)).form(&fields).send().await.expect("save")).await
}

async fn the_page_previews_edited_terms_beside_those_in_force_then_saves_them(app: TestApp) {
    let f = fund(&app).await;
    let staff = app.browser_as("stan", Role::Staff, None).await;
    let path = format!("/funds/{}/waterfall", f.id);
    let page = get(&staff, &app, &path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Terms in force") && page.text.contains("Steps of version 1"), "{}", page.text);
    assert!(page.text.contains("The residual: Senior 50%, Junior 50%"), "the terms in words: {}", page.text);
    assert!(
        page.text.contains(&f.junior) && page.text.contains("<textarea"),
        "the form holds the terms: {}",
        page.text
    );
    assert!(!page.text.contains("Save these terms"), "nothing to save before a preview");
    let entries = journal_entries(&app).await;

    let steps = serde_json::to_string_pretty(&edited_steps(&f)).expect("json");
    let preview = preview_on_page(&app, &staff, &f, &steps, "2,000.00").await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let text = &preview.text;
    assert!(text.contains("Under the edited terms (would be version 2)"), "{text}");
    assert!(text.contains("Under the terms in force (version 1)"), "{text}");
    // Senior A: 48.00 + 600.00 + 63.99 edited; 48.00 + 600.00 + 126.00 in force.
    let [a, _, _, pool, _] = edited_by_hand(200_000);
    assert_eq!((a, pool), (71_199, 3_950));
    assert!(text.contains("EUR 711.99") && text.contains("EUR 774.00") && text.contains("EUR -62.01"), "{text}");
    assert!(text.contains("Account 1010") && text.contains("+EUR 39.50"), "the pool gains: {text}");
    assert!(
        text.contains("Waterfall steps, edited terms") && text.contains("Waterfall steps, terms in force"),
        "{text}"
    );
    assert!(text.contains("Distribution by investor, edited terms"), "{text}");
    let (preview_at, save_at) =
        (text.find("Under the edited terms").unwrap_or(usize::MAX), text.find("Save these terms"));
    assert!(save_at.is_some_and(|s| s > preview_at), "the save button comes after the preview");
    assert_eq!(journal_entries(&app).await, entries, "a preview on the page posts nothing");
    assert_eq!(terms_versions(&app, &f.id).await, 1);

    // Invalid terms: refused with every reason and where it is, and nothing to save.
    let bad = steps.replace("\"70\"", "\"60\"").replace("1010", "7777");
    let refused = preview_on_page(&app, &staff, &f, &bad, "2000.00").await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(refused.text.contains("steps[3].shares: percentages sum to 90, not 100"), "{}", refused.text);
    assert!(refused.text.contains("steps[2].account: no account 7777"), "{}", refused.text);
    assert!(refused.text.contains("aria-invalid=\"true\"") && !refused.text.contains("Save these terms"));
    let not_json = preview_on_page(&app, &staff, &f, "[{", "2000.00").await;
    assert_eq!(not_json.status, 400);
    assert!(not_json.text.contains("not valid JSON"), "{}", not_json.text);

    // Saving sends the previewed terms, once however often it is sent.
    for _ in 0..2 {
        let saved = save_from(&app, &staff, &f, &preview).await;
        assert_eq!(saved.status, 303, "{}", saved.text);
        assert_eq!(saved.location, format!("/funds/{}/waterfall?done=terms", f.id));
    }
    let current = app.get(&format!("/api/v1/funds/{}/waterfall", f.id), &app.auditor()).await;
    assert_eq!(current.body["version"], 2, "{}", current.text);
    assert_eq!(current.body["terms"]["steps"], edited_steps(&f));
    assert_eq!(current.body["actor"], "staff:stan");
    assert_eq!(terms_versions(&app, &f.id).await, 2);
    let shown = get(&staff, &app, &format!("{path}?done=terms")).await;
    assert!(shown.text.contains("New terms saved") && shown.text.contains("Steps of version 2"), "{}", shown.text);
    let spoofed = get(&staff, &app, &format!("{path}?done=%3Cb%3Ewon%3C%2Fb%3E")).await;
    assert!(!spoofed.text.contains("won"), "a link cannot make the page say anything");

    let investor = app.browser_as("ines", Role::Investor, Some(&f.investors[0])).await;
    assert_eq!(get(&investor, &app, &path).await.status, 403);
    // Auditors read the terms and their versions, and may not edit them.
    let auditor = app.browser_as("audra", Role::Auditor, None).await;
    let read_only = get(&auditor, &app, &path).await;
    assert_eq!(read_only.status, 200, "{}", read_only.text);
    assert!(
        read_only.text.contains("Steps of version 2") && !read_only.text.contains("<textarea"),
        "{}",
        read_only.text
    );
    let fields = [
        ("csrf_token", hidden(&read_only.text, "csrf_token")),
        ("steps", steps.clone()),
        ("cash", "2000.00".into()),
        ("date", "2026-01-01".into()),
    ];
    let url = format!("{}{path}", app.address);
    let refused = read(auditor.post(url).form(&fields).send().await.expect("post")).await;
    assert_eq!(refused.status, 403, "an auditor cannot preview here");
}

async fn with_four_eyes_the_page_proposes_the_previewed_terms(app: TestApp) {
    let f = fund(&app).await;
    let direct =
        app.post(&format!("/api/v1/funds/{}/waterfall", f.id), &app.staff(), &json!({"steps": edited_steps(&f)})).await;
    assert_problem(&direct, 422, None);
    let api_preview = app
        .post(
            &format!("/api/v1/funds/{}/waterfall/preview", f.id),
            &app.staff(),
            &json!({"steps": edited_steps(&f), "cash": "2000.00", "date": "2026-01-01"}),
        )
        .await;
    assert_eq!(api_preview.status, 200, "a preview needs no proposal: {}", api_preview.text);

    let staff = app.browser_as("stan", Role::Staff, None).await;
    let steps = serde_json::to_string(&edited_steps(&f)).expect("json");
    let preview = preview_on_page(&app, &staff, &f, &steps, "2000.00").await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(preview.text.contains("Propose these terms") && !preview.text.contains("Save these terms"));
    let proposed = save_from(&app, &staff, &f, &preview).await;
    assert_eq!(proposed.status, 303, "{}", proposed.text);
    let proposal_id = proposed
        .location
        .strip_prefix("/proposals/")
        .and_then(|rest| rest.strip_suffix("?done=proposed"))
        .unwrap_or_else(|| panic!("to the proposal: {}", proposed.location))
        .to_string();
    let proposal = app.get(&format!("/api/v1/proposals/{proposal_id}"), &app.staff()).await;
    assert_eq!(proposal.body["kind"], "waterfall_terms", "{}", proposal.text);
    assert_eq!(proposal.body["status"], "pending");
    assert_eq!(proposal.body["proposed_by"], "staff:stan");
    assert_eq!(proposal.body["operation"]["terms"]["steps"], edited_steps(&f));
    assert_eq!(proposal.body["preview"]["version"], 2, "{}", proposal.text);
    assert_eq!(terms_versions(&app, &f.id).await, 1, "nothing in force until approved");
    let page = get(&staff, &app, &format!("/funds/{}/waterfall", f.id)).await;
    assert!(page.text.contains(&format!("/proposals/{proposal_id}")), "the page lists what waits: {}", page.text);

    let approved = app
        .post(
            &format!("/api/v1/proposals/{proposal_id}/approval"),
            &app.token(Role::Staff, "bob"),
            &json!({"revision": proposal.body["revision"]}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let current = app.get(&format!("/api/v1/funds/{}/waterfall", f.id), &app.auditor()).await;
    assert_eq!(current.body["terms"]["steps"], edited_steps(&f));
    // What the API previewed is what a distribution now does.
    let now = app
        .post(
            &format!("/api/v1/funds/{}/distributions/preview", f.id),
            &app.staff(),
            &json!({"cash": "2000.00", "date": "2026-01-01", "description": "Now in force"}),
        )
        .await;
    assert_eq!(now.body["allocation"], api_preview.body["allocation"]);
    assert_eq!(now.body["investors"], api_preview.body["investors"]);
}

async fn with_four_eyes(backend: common::Backend) -> TestApp {
    common::spawn_app_with(backend, |settings| settings.four_eyes = true).await
}

mod four_eyes {
    use super::*;
    on_both_backends!(spawn = super::with_four_eyes; with_four_eyes_the_page_proposes_the_previewed_terms);
}

on_both_backends!(
    a_preview_under_edited_terms_is_exact_and_writes_nothing,
    edited_terms_are_refused_as_saving_them_would_be,
    the_page_previews_edited_terms_beside_those_in_force_then_saves_them,
);
