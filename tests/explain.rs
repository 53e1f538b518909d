//! Explaining a figure: the entries (and for NAV the waterfall lines) that make up paid-in,
//! distributed, NAV and the compute-grant pool sum exactly to the figure the metrics and the
//! account balance report, checked against what each test posted itself, on both backends.

use crate::common;

use std::collections::BTreeMap;

use common::{assert_problem, created, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// Cents of a decimal EUR string (`"-12.30"` is -1230); panics on anything else.
fn cents(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("not an amount: {value}"));
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (euros, hundredths) = digits.split_once('.').unwrap_or_else(|| panic!("no cents in {text}"));
    assert_eq!(hundredths.len(), 2, "{text}");
    let amount = euros.parse::<i64>().expect("euros") * 100 + hundredths.parse::<i64>().expect("cents");
    if negative {
        -amount
    } else {
        amount
    }
}

fn sum_of(items: &Value, field: &str) -> i64 {
    items.as_array().map(|a| a.iter().map(|i| cents(&i[field])).sum()).unwrap_or_default()
}

struct Books {
    fund: String,
    investors: Vec<String>,
    /// What each investor paid in, as the test posted it.
    paid: BTreeMap<String, i64>,
    /// What each investor was paid by the distributions, from their answers.
    received: BTreeMap<String, i64>,
    /// What the distributions reserved to the compute-grant pool, and the manual top-up.
    pool: i64,
    /// Entries that moved the pool: the distributions that reserved some, and the top-up.
    pool_entries: u64,
    contribution_count: usize,
}

/// Senior (8% pref) and a capped first-loss junior; three investors who pay their notices in
/// two parts each; 1,200.00 deployed; 1,800.00 back on 2026-01-01; two distributions through a
/// waterfall that reserves 10% for the pool; a valuation; a manual entry into the pool and one
/// to an investor's distributions account, which is no distribution.
async fn books(app: &TestApp) -> Books {
    let fund = app.create_fund("Explained fund").await;
    let tranche = |name: &str, rank: i32, size: &str, extra: Value| {
        let mut body = json!({"name": name, "seniority": rank, "target_size": size, "pref_rate": "0.08"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let senior =
        created(app, &format!("/api/v1/funds/{fund}/tranches"), tranche("Senior", 1, "1000.00", json!({}))).await;
    let junior = created(
        app,
        &format!("/api/v1/funds/{fund}/tranches"),
        tranche("First loss", 2, "500.00", json!({"pref_rate": "0", "return_cap": "1.5", "first_loss": true})),
    )
    .await;
    let (senior, junior) = (common::id(&senior), common::id(&junior));
    let mut investors = Vec::new();
    for (name, tranche, amount) in
        [("Senior A", &senior, "600.00"), ("Senior B", &senior, "400.00"), ("EU budget", &junior, "500.00")]
    {
        let source =
            created(app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"})).await;
        let source = common::id(&source);
        let body =
            json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2024-12-01"});
        created(app, &format!("/api/v1/funds/{fund}/commitments"), body).await;
        investors.push(source);
    }
    let facility = created(app, "/api/v1/facilities", json!({"name": "GF", "kind": "gigafactory", "member_state": "DE", "chip_count": 1000, "chip_type": "GPU", "quarterly_capacity_gpu_hours": 2160000})).await;
    let facility = common::id(&facility);
    let call = created(
        app,
        &format!("/api/v1/funds/{fund}/capital-calls"),
        json!({"call_date": "2025-01-01", "due_date": "2025-01-31", "description": "All in", "lines": [
        {"tranche_id": senior, "purpose": "investment", "facility_id": facility, "amount": "1000.00"},
        {"tranche_id": junior, "purpose": "investment", "facility_id": facility, "amount": "500.00"}]}),
    )
    .await;
    let notices = app.get(&format!("/api/v1/notices?call_id={}", common::id(&call)), &app.staff()).await;
    let mut paid = BTreeMap::new();
    let mut contribution_count = 0;
    for notice in notices.body["items"].as_array().cloned().unwrap_or_default() {
        let amount = cents(&notice["amount"]);
        let first = amount / 3 + 1;
        for (part, on) in [(first, "2025-01-01"), (amount - first, "2025-01-20")] {
            let body = json!({"amount": format!("{}.{:02}", part / 100, part % 100), "value_date": on});
            created(app, &format!("/api/v1/notices/{}/contributions", common::id(&notice)), body).await;
            contribution_count += 1;
        }
        let investor = notice["investor_id"].as_str().expect("investor").to_string();
        *paid.entry(investor).or_insert(0) += amount;
    }
    created(app, &format!("/api/v1/funds/{fund}/deployments"), json!({"facility_id": facility, "kind": "equity", "amount": "1200.00", "value_date": "2025-01-21", "description": "Stake"})).await;
    created(app, &format!("/api/v1/funds/{fund}/proceeds"), json!({"facility_id": facility, "amount": "1800.00", "cost_returned": "1200.00", "value_date": "2026-01-01", "description": "Exit"})).await;
    let terms = json!({"steps": [
        {"type": "pref", "tranches": [senior], "mode": "sequential"},
        {"type": "capital", "tranches": [senior, junior], "mode": "sequential"},
        {"type": "reserve", "account": "1010", "percent": "10", "cap": "50.00"},
        {"type": "split", "shares": [{"tranche": senior, "percent": "40"}, {"tranche": junior, "percent": "60"}]}
    ]});
    created(app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    let mut received = BTreeMap::new();
    let (mut pool, mut pool_entries) = (0, 0);
    for (cash, on) in [("1000.00", "2026-01-01"), ("700.00", "2026-03-01")] {
        let body = json!({"cash": cash, "date": on, "description": format!("Distribution of {on}")});
        let distribution = created(app, &format!("/api/v1/funds/{fund}/distributions"), body).await;
        for share in distribution["investors"].as_array().cloned().unwrap_or_default() {
            let investor = share["investor_id"].as_str().expect("investor").to_string();
            *received.entry(investor).or_insert(0) += cents(&share["total"]);
        }
        let mut reserved = 0;
        for step in distribution["allocation"]["steps"].as_array().cloned().unwrap_or_default() {
            for line in step["lines"].as_array().cloned().unwrap_or_default() {
                if line["target"]["account"] == "1010" {
                    reserved += cents(&line["paid"]);
                }
            }
        }
        pool += reserved;
        pool_entries += u64::from(reserved != 0);
    }
    let top_up = json!({"effective_date": "2026-04-01", "description": "Pool top-up", "postings": [
        {"account": "1010", "debit": "12.34"}, {"account": "1000", "credit": "12.34"}]});
    created(app, &format!("/api/v1/funds/{fund}/journal-entries"), top_up).await;
    pool += 1234;
    pool_entries += 1;
    let not_a_distribution = json!({"effective_date": "2026-04-02", "description": "Fee rebate", "postings": [
        {"account": "3200.01", "debit": "10.00", "party_id": investors[0]}, {"account": "1000", "credit": "10.00"}]});
    created(app, &format!("/api/v1/funds/{fund}/journal-entries"), not_a_distribution).await;
    // After them: a valuation states NAV on its date, and nothing that moves NAV is dated before it.
    created(
        app,
        &format!("/api/v1/funds/{fund}/valuations"),
        json!({"as_of": "2026-06-30", "nav": "1000.00", "description": "Mark"}),
    )
    .await;
    Books { fund, investors, paid, received, pool, pool_entries, contribution_count }
}

const AS_OF: &str = "2026-12-31";

async fn explain(app: &TestApp, token: &str, path: &str) -> Value {
    let reply = app.get(path, token).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    reply.body
}

/// Every entry of an explanation, page after page, with `limit` entries a page.
async fn all_entries(app: &TestApp, token: &str, path: &str, limit: u32) -> (Value, Vec<Value>) {
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    let mut first = None;
    loop {
        let query = match &after {
            Some(after) => format!("{path}?as_of={AS_OF}&limit={limit}&after={after}"),
            None => format!("{path}?as_of={AS_OF}&limit={limit}"),
        };
        let page = explain(app, token, &query).await;
        let listed = page["entries"].as_array().cloned().unwrap_or_default();
        assert!(listed.len() <= limit as usize);
        entries.extend(listed);
        assert_eq!(page["truncated"], page["next_after"].is_string(), "{page}");
        after = page["next_after"].as_str().map(str::to_string);
        first.get_or_insert(page);
        if after.is_none() {
            break;
        }
    }
    let first = first.expect("a page");
    assert_eq!(entries.len() as u64, first["entry_count"].as_u64().expect("count"), "{first}");
    let sequences: Vec<i64> = entries.iter().map(|e| e["sequence"].as_i64().expect("sequence")).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "in sequence order, none twice: {sequences:?}");
    (first, entries)
}

/// The explanation of `figure` at `path` sums exactly to `expected` (the test's own figure),
/// page by page, and `sum_of_entries` says the same.
async fn assert_entries_sum(app: &TestApp, token: &str, path: &str, expected: i64) -> Value {
    let (first, entries) = all_entries(app, token, path, 2).await;
    let listed: i64 = entries.iter().map(|e| cents(&e["amount"])).sum();
    assert_eq!(listed, expected, "{path}: the entries add up to the figure");
    assert_eq!(cents(&first["sum_of_entries"]), expected, "{path}: {first}");
    let whole = explain(app, token, &format!("{path}?as_of={AS_OF}&limit=500")).await;
    assert_eq!(whole["truncated"], false);
    assert_eq!(sum_of(&whole["entries"], "amount"), expected);
    whole
}

async fn paid_in_distributed_and_the_pool_add_up_to_what_was_posted(app: TestApp) {
    let b = books(&app).await;
    let auditor = app.auditor();
    let metrics = explain(&app, &auditor, &format!("/api/v1/funds/{}/metrics?as_of={AS_OF}", b.fund)).await;
    let paid_in: i64 = b.paid.values().sum();
    let distributed: i64 = b.received.values().sum();
    assert_eq!(paid_in, 150_000);
    assert_eq!(cents(&metrics["fund"]["paid_in"]), paid_in);
    assert_eq!(cents(&metrics["fund"]["distributed"]), distributed);

    let base = format!("/api/v1/funds/{}/explain", b.fund);
    let answer = assert_entries_sum(&app, &auditor, &format!("{base}/paid_in"), paid_in).await;
    assert_eq!(cents(&answer["amount"]), paid_in);
    assert_eq!(answer["figure"], "paid_in");
    assert_eq!(answer["scope"], "fund");
    assert_eq!(answer["entry_count"].as_u64(), Some(b.contribution_count as u64), "one entry per contribution");
    assert!(answer["entries"].as_array().expect("entries").iter().all(|e| e["event_type"] == "contribution"));

    let answer = assert_entries_sum(&app, &auditor, &format!("{base}/distributed"), distributed).await;
    assert_eq!(cents(&answer["amount"]), distributed);
    assert_eq!(answer["entry_count"], 2, "two distributions; the manual entry to 3200.01 is none");

    let pool = app.get(&format!("/api/v1/funds/{}/accounts/1010/balance?as_of={AS_OF}", b.fund), &auditor).await;
    assert_eq!(cents(&pool.body["net"]), b.pool);
    let answer = assert_entries_sum(&app, &auditor, &format!("{base}/compute_grant_pool"), b.pool).await;
    assert_eq!(cents(&answer["amount"]), b.pool);
    assert_eq!(answer["entry_count"].as_u64(), Some(b.pool_entries), "the reserves and the top-up");
    assert!(b.pool_entries >= 2);

    for investor in &b.investors {
        let line = metrics["investors"]
            .as_array()
            .and_then(|l| l.iter().find(|m| m["id"] == investor.as_str()))
            .cloned()
            .expect("the investor's metrics");
        let base = format!("/api/v1/funds/{}/investors/{investor}/explain", b.fund);
        let paid = b.paid[investor];
        assert_eq!(cents(&line["paid_in"]), paid);
        let answer = assert_entries_sum(&app, &auditor, &format!("{base}/paid_in"), paid).await;
        assert_eq!(cents(&answer["amount"]), paid);
        assert_eq!(answer["investor_id"], investor.as_str());
        assert_eq!(answer["entry_count"], 2, "each investor paid in two parts");
        let received = b.received.get(investor).copied().unwrap_or_default();
        assert_eq!(cents(&line["distributed"]), received);
        let answer = assert_entries_sum(&app, &auditor, &format!("{base}/distributed"), received).await;
        assert_eq!(cents(&answer["amount"]), received);
    }

    // On a date before anything was paid, nothing makes the figure up.
    let early = explain(&app, &auditor, &format!("{base}/paid_in?as_of=2024-12-31")).await;
    assert_eq!(early["amount"], "0.00");
    assert_eq!(early["sum_of_entries"], "0.00");
    assert_eq!(early["entry_count"], 0);
    // Between the two parts: only the first parts.
    let between = explain(&app, &auditor, &format!("{base}/paid_in?as_of=2025-01-10")).await;
    assert_eq!(between["entry_count"], 3);
    assert_eq!(between["amount"], between["sum_of_entries"]);
    assert_eq!(sum_of(&between["entries"], "amount"), cents(&between["amount"]));
}

async fn nav_is_the_liquidation_of_the_entries_through_the_waterfall(app: TestApp) {
    let b = books(&app).await;
    let auditor = app.auditor();
    let metrics = explain(&app, &auditor, &format!("/api/v1/funds/{}/metrics?as_of={AS_OF}", b.fund)).await;
    let trial = explain(&app, &auditor, &format!("/api/v1/funds/{}/trial-balance?as_of={AS_OF}", b.fund)).await;
    // The investors' net assets from the trial balance: assets and liabilities but the
    // memorandum, the receivable and the pool's accounts (docs/waterfall.md).
    let outside = ["9000", "9100", "1100", "1010", "1020", "1030", "1040", "2200"];
    let net_assets: i64 = trial["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter(|a| a["kind"] == "asset" || a["kind"] == "liability")
        .filter(|a| !outside.contains(&a["code"].as_str().unwrap_or_default().split('.').next().unwrap_or_default()))
        .map(|a| cents(&a["net"]))
        .sum();
    assert_eq!(cents(&metrics["fund_nav"]), net_assets);

    let path = format!("/api/v1/funds/{}/explain/nav", b.fund);
    let answer = assert_entries_sum(&app, &auditor, &path, net_assets).await;
    assert_eq!(answer["amount"], metrics["fund"]["nav"], "{answer}");
    assert_eq!(answer["liquidated"], metrics["fund_nav"]);
    assert_eq!(answer["valuation_date"], "2026-06-30");
    assert_eq!(answer["terms_version"], 1);
    let lines = &answer["waterfall_lines"];
    assert_eq!(sum_of(lines, "paid"), cents(&answer["amount"]));
    assert_eq!(answer["sum_of_waterfall_lines"], answer["amount"]);
    assert_eq!(answer["waterfall_lines_truncated"], false);
    assert_eq!(lines.as_array().map(|l| l.len() as u64), answer["waterfall_line_count"].as_u64());
    assert_eq!(
        cents(&answer["amount"]) + cents(&answer["paid_to_accounts"]) + cents(&answer["undistributed"]),
        net_assets,
        "the liquidation pays all it is given: {answer}"
    );
    assert!(cents(&answer["paid_to_accounts"]) > 0, "the reserve takes its share of the liquidation too");

    for investor in &b.investors {
        let line = metrics["investors"]
            .as_array()
            .and_then(|l| l.iter().find(|m| m["id"] == investor.as_str()))
            .cloned()
            .expect("the investor's metrics");
        let path = format!("/api/v1/funds/{}/investors/{investor}/explain/nav?as_of={AS_OF}", b.fund);
        let answer = explain(&app, &auditor, &path).await;
        assert_eq!(answer["amount"], line["nav"], "{answer}");
        let lines = answer["waterfall_lines"].as_array().cloned().unwrap_or_default();
        assert!(lines.iter().all(|l| l["investor_id"] == investor.as_str()), "{answer}");
        assert_eq!(lines.iter().map(|l| cents(&l["paid"])).sum::<i64>(), cents(&line["nav"]));
        assert_eq!(answer["paid_to_accounts"], Value::Null, "a fund's figure only");
        assert_eq!(answer["entries_withheld"], false, "the auditor reads the fund's journal");
        assert_eq!(answer["sum_of_entries"], metrics["fund_nav"]);
    }
}

async fn an_investor_explains_its_own_figures_only(app: TestApp) {
    let b = books(&app).await;
    let (own, other) = (&b.investors[0], &b.investors[1]);
    let investor = app.token(Role::Investor, own);
    let base = format!("/api/v1/funds/{}/investors", b.fund);
    let mine = explain(&app, &investor, &format!("{base}/{own}/explain/paid_in?as_of={AS_OF}")).await;
    assert_eq!(cents(&mine["amount"]), b.paid[own]);
    assert_eq!(sum_of(&mine["entries"], "amount"), b.paid[own]);
    let theirs = app.get(&format!("{base}/{other}/explain/paid_in?as_of={AS_OF}"), &investor).await;
    assert_problem(&theirs, 404, None);
    let theirs = app.get(&format!("{base}/{other}/explain/nav"), &investor).await;
    assert_problem(&theirs, 404, None);
    // The fund's figures and the pool are the ledger readers'.
    for figure in ["paid_in", "compute_grant_pool"] {
        let fund = app.get(&format!("/api/v1/funds/{}/explain/{figure}", b.fund), &investor).await;
        assert_problem(&fund, 403, None);
    }
    // Its NAV: its own waterfall lines; the fund's entries are not its to read.
    let nav = explain(&app, &investor, &format!("{base}/{own}/explain/nav?as_of={AS_OF}")).await;
    assert_eq!(nav["entries_withheld"], true);
    assert_eq!(nav["entries"], json!([]));
    assert_eq!(nav["entry_count"], 0);
    let lines = nav["waterfall_lines"].as_array().cloned().unwrap_or_default();
    assert!(!lines.is_empty() && lines.iter().all(|l| l["investor_id"] == own.as_str()), "{nav}");
    assert_eq!(sum_of(&nav["waterfall_lines"], "paid"), cents(&nav["amount"]));
    let metrics = explain(&app, &investor, &format!("/api/v1/funds/{}/metrics?as_of={AS_OF}", b.fund)).await;
    assert_eq!(nav["amount"], metrics["investors"][0]["nav"]);
    // Other roles bound to a party read none of it.
    let sme = app.token(Role::Sme, own);
    assert_problem(&app.get(&format!("{base}/{own}/explain/paid_in"), &sme).await, 403, None);
}

async fn bad_input_is_a_problem_naming_the_field(app: TestApp) {
    let b = books(&app).await;
    let auditor = app.auditor();
    let fund = format!("/api/v1/funds/{}", b.fund);
    let investor = &b.investors[0];
    for path in [format!("{fund}/explain/irr"), format!("{fund}/investors/{investor}/explain/PAID_IN")] {
        let reply = app.get(&path, &auditor).await;
        assert_problem(&reply, 400, Some("figure"));
    }
    let pool = app.get(&format!("{fund}/investors/{investor}/explain/compute_grant_pool"), &auditor).await;
    assert_problem(&pool, 400, Some("figure"));
    assert_problem(&app.get("/api/v1/funds/not-a-fund/explain/nav", &auditor).await, 400, Some("fund_id"));
    let stranger = "01934b7e-0000-7000-8000-000000000000";
    assert_problem(&app.get(&format!("/api/v1/funds/{stranger}/explain/paid_in"), &auditor).await, 404, None);
    for figure in ["paid_in", "distributed", "nav"] {
        let reply = app.get(&format!("{fund}/investors/{stranger}/explain/{figure}"), &auditor).await;
        assert_problem(&reply, 404, None);
    }
    assert_problem(&app.get(&format!("{fund}/investors/x/explain/nav"), &auditor).await, 400, Some("investor_id"));
    for (query, field) in [
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("after=x", "query.after"),
        ("as_of=2026-13-01", "query.as_of"),
        ("color=red", "query.color"),
    ] {
        let reply = app.get(&format!("{fund}/explain/paid_in?{query}"), &auditor).await;
        assert_problem(&reply, 400, Some(field));
    }
    // A fund without waterfall terms has no NAV to explain, as it has no metrics.
    let bare = app.create_fund("No terms").await;
    let reply = app.get(&format!("/api/v1/funds/{bare}/explain/nav"), &auditor).await;
    assert_problem(&reply, 422, None);
    let reply = app.get(&format!("/api/v1/funds/{bare}/explain/paid_in"), &auditor).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["amount"], "0.00");
}

/// A server on a database holding the demo data.
async fn demo(backend: common::Backend) -> TestApp {
    let app = common::spawn_app(backend).await;
    let text = std::fs::read_to_string("fixtures/investai.json").expect("demo fixture");
    let fixture: investai::seed::Fixture = serde_json::from_str(&text).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    app
}

async fn every_demo_figure_is_explained_to_the_cent(app: TestApp) {
    let auditor = app.auditor();
    let funds = explain(&app, &auditor, "/api/v1/funds").await;
    let funds: Vec<String> =
        funds["items"].as_array().expect("funds").iter().map(|f| f["id"].as_str().expect("id").to_string()).collect();
    assert!(funds.len() >= 2);
    let mut explained = 0;
    for fund in &funds {
        let metrics = explain(&app, &auditor, &format!("/api/v1/funds/{fund}/metrics?as_of={AS_OF}")).await;
        for figure in ["paid_in", "distributed", "nav"] {
            let path = format!("/api/v1/funds/{fund}/explain/{figure}");
            let expected = if figure == "nav" { &metrics["fund_nav"] } else { &metrics["fund"][figure] };
            let answer = assert_entries_sum(&app, &auditor, &path, cents(expected)).await;
            assert_eq!(answer["amount"], metrics["fund"][figure], "{path}: {answer}");
            if figure == "nav" {
                assert_eq!(sum_of(&answer["waterfall_lines"], "paid"), cents(&answer["amount"]), "{path}");
            }
            explained += 1;
        }
        let pool = app.get(&format!("/api/v1/funds/{fund}/accounts/1010/balance?as_of={AS_OF}"), &auditor).await;
        let path = format!("/api/v1/funds/{fund}/explain/compute_grant_pool");
        let answer = assert_entries_sum(&app, &auditor, &path, cents(&pool.body["net"])).await;
        assert_eq!(answer["amount"], pool.body["net"]);
        for line in metrics["investors"].as_array().cloned().unwrap_or_default() {
            let investor = line["id"].as_str().expect("id");
            for figure in ["paid_in", "distributed"] {
                let path = format!("/api/v1/funds/{fund}/investors/{investor}/explain/{figure}");
                let answer = assert_entries_sum(&app, &auditor, &path, cents(&line[figure])).await;
                assert_eq!(answer["amount"], line[figure], "{path}");
            }
            let path = format!("/api/v1/funds/{fund}/investors/{investor}/explain/nav?as_of={AS_OF}");
            let answer = explain(&app, &auditor, &path).await;
            assert_eq!(answer["amount"], line["nav"], "{path}");
            assert_eq!(sum_of(&answer["waterfall_lines"], "paid"), cents(&line["nav"]), "{path}");
            explained += 3;
        }
    }
    assert!(explained > 4 * funds.len(), "the demo's investors were explained too ({explained})");
    // The demo's compartment filled the pool with its second distribution.
    let mut pool_total = 0;
    for fund in &funds {
        let answer =
            explain(&app, &auditor, &format!("/api/v1/funds/{fund}/explain/compute_grant_pool?as_of={AS_OF}")).await;
        pool_total += answer["entry_count"].as_u64().unwrap_or_default();
    }
    assert!(pool_total > 0, "the demo's pool has entries");
}

on_both_backends!(
    paid_in_distributed_and_the_pool_add_up_to_what_was_posted,
    nav_is_the_liquidation_of_the_entries_through_the_waterfall,
    an_investor_explains_its_own_figures_only,
    bad_input_is_a_problem_naming_the_field,
);

mod demo_data {
    use super::common;
    use super::*;

    on_both_backends!(spawn = super::demo; every_demo_figure_is_explained_to_the_cent);
}
