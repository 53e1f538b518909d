//! The public figures, on both backends, on the demo's books. Where the compute-grant pool's
//! money came from: the reserves and call budgets per source are recomputed here from the
//! journal alone with the documented rule (paid-in on the distribution date, largest
//! remainder), the totals are checked against the ledger's accounts and the awards, and every
//! source's money is conserved. The open data: committed and paid-in money and leverage
//! recomputed from the commitments and the journal, the CSV files equal to the JSON, no private
//! investor named anywhere, and the latest checkpoint shown with its key.

use crate::common;

use std::collections::BTreeMap;

use common::{assert_problem, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

fn cents(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("amount string, got {value}"));
    let (whole, fraction) = text.trim_start_matches('-').split_once('.').expect("two decimals");
    let amount = whole.parse::<i64>().expect("whole") * 100 + fraction.parse::<i64>().expect("fraction");
    if text.starts_with('-') {
        -amount
    } else {
        amount
    }
}

fn milli(value: &Value) -> i64 {
    let text = value.as_str().expect("hours string");
    let (whole, fraction) = text.split_once('.').expect("three decimals");
    whole.parse::<i64>().expect("whole") * 1000 + fraction.parse::<i64>().expect("fraction")
}

/// The demo's compartment whose waterfall reserves for the pool.
async fn gigafactories(app: &TestApp) -> String {
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    let compartment =
        funds.body["items"].as_array().into_iter().flatten().find(|f| f["parent_id"].is_string()).expect("compartment");
    compartment["id"].as_str().expect("id").to_string()
}

/// Every journal entry of the fund, in sequence order.
async fn journal(app: &TestApp, fund: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after = String::new();
    loop {
        let page = app.get(&format!("/api/v1/ledger/entries?fund_id={fund}&limit=500{after}"), &app.auditor()).await;
        assert_eq!(page.status, 200, "{}", page.text);
        entries.extend(page.body["items"].as_array().cloned().unwrap_or_default());
        match page.body["next_after"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return entries,
        }
    }
}

/// The largest-remainder rule written out here: floors, then one unit each to the largest
/// remainders, ties to the earlier party (parties in id order).
fn largest_remainder(total: i64, weights: &[(String, i64)]) -> BTreeMap<String, i64> {
    let sum: i128 = weights.iter().map(|(_, w)| i128::from(*w)).sum();
    let mut parts: Vec<(String, i64, i128)> = weights
        .iter()
        .map(|(s, w)| {
            let product = i128::from(total) * i128::from(*w);
            (s.clone(), i64::try_from(product / sum).expect("fits"), product % sum)
        })
        .collect();
    let mut left = total - parts.iter().map(|p| p.1).sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].2.cmp(&parts[*a].2).then(a.cmp(b)));
    for index in order {
        if left == 0 {
            break;
        }
        parts[index].1 += 1;
        left -= 1;
    }
    parts.into_iter().map(|(s, p, _)| (s, p)).collect()
}

fn lines<'a>(entry: &'a Value, code: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    entry["postings"].as_array().into_iter().flatten().filter(move |p| p["account_code"] == code)
}

fn net(entry: &Value, code: &str) -> i64 {
    lines(entry, code).map(|p| cents(&p["debit"]) - cents(&p["credit"])).sum()
}

/// Reserved into the pool and committed to calls, per source, replayed from the journal.
fn reference(entries: &[Value]) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
    let mut paid_in: Vec<(String, i64, String, i64)> = Vec::new();
    let mut pool: BTreeMap<String, i64> = BTreeMap::new();
    let (mut reserved, mut to_calls) = (BTreeMap::new(), BTreeMap::new());
    for entry in entries {
        let (date, sequence) =
            (entry["effective_date"].as_str().expect("date"), entry["sequence"].as_i64().expect("seq"));
        match entry["event_type"].as_str().expect("event") {
            "contribution" => {
                for line in lines(entry, "1000") {
                    let party = line["party_id"].as_str().expect("contribution party").to_string();
                    paid_in.push((date.to_string(), sequence, party, cents(&line["debit"])));
                }
            }
            "distribution" if net(entry, "1010") > 0 => {
                let mut weights: BTreeMap<String, i64> = BTreeMap::new();
                for (day, posted, party, amount) in &paid_in {
                    if day.as_str() <= date && *posted < sequence {
                        *weights.entry(party.clone()).or_default() += amount;
                    }
                }
                let weights: Vec<(String, i64)> = weights.into_iter().collect();
                for (source, part) in largest_remainder(net(entry, "1010"), &weights) {
                    *pool.entry(source.clone()).or_default() += part;
                    *reserved.entry(source).or_default() += part;
                }
            }
            "grant_call" => {
                let weights: Vec<(String, i64)> =
                    pool.iter().filter(|(_, v)| **v > 0).map(|(s, v)| (s.clone(), *v)).collect();
                for (source, part) in largest_remainder(net(entry, "1020"), &weights) {
                    *pool.entry(source.clone()).or_default() -= part;
                    *to_calls.entry(source).or_default() += part;
                }
            }
            _ => assert_eq!(net(entry, "1010"), 0, "the demo moves the pool only by reserves and calls: {entry}"),
        }
    }
    (reserved, to_calls)
}

const FIGURES: [&str; 10] = [
    "reserved",
    "topped_up",
    "withdrawn",
    "committed_to_calls",
    "awarded",
    "used",
    "returned",
    "in_pool",
    "in_calls",
    "in_awards",
];

fn sum_rows(rows: &Value, figure: &str) -> i64 {
    rows.as_array().into_iter().flatten().map(|row| cents(&row["figures"][figure])).sum()
}

async fn the_demo_pool_is_traced_to_its_sources_to_the_cent(app: TestApp) {
    let fund = gigafactories(&app).await;
    let traced = app.get(&format!("/api/v1/funds/{fund}/grant-attribution"), &app.auditor()).await;
    assert_eq!(traced.status, 200, "{}", traced.text);
    let body = &traced.body;
    let totals = &body["totals"];
    assert!(cents(&totals["reserved"]) > 0, "the demo's distributions reserve for the pool: {}", traced.text);

    // Per source, reserves and call budgets as the rule gives them, recomputed from the journal.
    let (reserved, to_calls) = reference(&journal(&app, &fund).await);
    let by_source: BTreeMap<String, &Value> = body["by_source"]
        .as_array()
        .expect("staff see the sources")
        .iter()
        .map(|row| (row["source_id"].as_str().expect("source id").to_string(), &row["figures"]))
        .collect();
    for (source, figures) in &by_source {
        assert_eq!(cents(&figures["reserved"]), reserved.get(source).copied().unwrap_or(0), "reserved of {source}");
        assert_eq!(cents(&figures["committed_to_calls"]), to_calls.get(source).copied().unwrap_or(0), "{source}");
        // Money in equals money accounted for, source by source.
        let money_in = cents(&figures["reserved"]) + cents(&figures["topped_up"]);
        let accounted: i64 =
            ["in_pool", "in_calls", "in_awards", "used", "withdrawn"].iter().map(|f| cents(&figures[*f])).sum();
        assert_eq!(money_in, accounted, "{source}: {figures}");
    }
    assert_eq!(reserved.keys().collect::<Vec<_>>(), by_source.keys().collect::<Vec<_>>());

    // The totals are the ledger's balances and the awards' own figures.
    let balance = |code: &'static str| {
        let app = &app;
        let fund = fund.clone();
        async move {
            let reply = app
                .get(&format!("/api/v1/funds/{fund}/accounts/{code}/balance?as_of=2100-01-01"), &app.auditor())
                .await;
            cents(&reply.body["net"])
        }
    };
    assert_eq!(cents(&totals["in_pool"]), balance("1010").await);
    assert_eq!(cents(&totals["in_calls"]), balance("1020").await);
    assert_eq!(cents(&totals["in_awards"]), balance("1030").await);
    let awards = app.get("/api/v1/awards", &app.auditor()).await;
    let awards: Vec<&Value> = awards.body["items"].as_array().expect("awards").iter().collect();
    assert!(!awards.is_empty(), "the demo makes awards");
    assert_eq!(cents(&totals["awarded"]), awards.iter().map(|a| cents(&a["aid_value"])).sum::<i64>());
    assert_eq!(cents(&totals["used"]), awards.iter().map(|a| cents(&a["subsidy_used"])).sum::<i64>());
    assert!(cents(&totals["used"]) > 0, "the demo meters usage");
    assert_eq!(milli(&totals["gpu_hours_used"]), awards.iter().map(|a| milli(&a["used_gpu_hours"])).sum::<i64>());

    // Every table sums to the totals.
    for table in ["by_programme_and_member_state", "by_source"] {
        for figure in FIGURES {
            assert_eq!(sum_rows(&body[table], figure), cents(&totals[figure]), "{table}.{figure}");
        }
    }
    for figure in ["awarded", "used", "returned"] {
        assert_eq!(sum_rows(&body["by_sme_category"], figure), cents(&totals[figure]), "by_sme_category.{figure}");
    }
    let hours: i64 =
        body["by_sme_category"].as_array().into_iter().flatten().map(|r| milli(&r["figures"]["gpu_hours_used"])).sum();
    assert_eq!(hours, milli(&totals["gpu_hours_used"]));
}

async fn the_public_sees_programmes_and_member_states_never_a_private_investor(app: TestApp) {
    let fund = gigafactories(&app).await;
    let public = app.get_public(&format!("/api/v1/transparency/funds/{fund}/grant-attribution")).await;
    assert_eq!(public.status, 200, "{}", public.text);
    assert!(public.body.get("by_source").is_none(), "{}", public.text);
    assert!(!public.text.contains("source_id") && !public.text.contains("Aurora"), "{}", public.text);
    let rows = public.body["by_programme_and_member_state"].as_array().expect("rows");
    let private: Vec<&Value> = rows.iter().filter(|r| r["programme"] == "private").collect();
    assert_eq!(private.len(), 1, "private money is one row: {}", public.text);
    assert_eq!(private[0]["member_state"], Value::Null);
    assert!(rows.iter().any(|r| r["programme"] == "digital_europe" && r["member_state"] == "EU"), "{}", public.text);
    let staff = app.get(&format!("/api/v1/funds/{fund}/grant-attribution"), &app.staff()).await;
    assert_eq!(staff.body["totals"], public.body["totals"]);

    assert_problem(
        &app.get(&format!("/api/v1/funds/{fund}/grant-attribution"), &app.token(Role::Investor, "x")).await,
        403,
        None,
    );
    assert_problem(
        &app.get_public("/api/v1/transparency/funds/not-a-fund/grant-attribution").await,
        400,
        Some("fund_id"),
    );
    let unknown = uuid::Uuid::new_v4();
    assert_problem(
        &app.get_public(&format!("/api/v1/transparency/funds/{unknown}/grant-attribution")).await,
        404,
        None,
    );
}

async fn manual_entries_top_up_the_pool_unattributed_and_never_touch_grant_commitments(app: TestApp) {
    let fund = gigafactories(&app).await;
    let path = format!("/api/v1/funds/{fund}/journal-entries");
    let into_calls = json!({"effective_date": "2026-01-01", "description": "move budget", "postings": [
        {"account": "1020", "debit": "10.00"}, {"account": "1010", "credit": "10.00"}]});
    let refused = app.post(&path, &app.staff(), &into_calls).await;
    assert_problem(&refused, 422, Some("postings[0].account"));
    assert_eq!(refused.body["type"], "/problems/account-kept-by-grants");
    let before = app.get_public(&format!("/api/v1/transparency/funds/{fund}/grant-attribution")).await;
    let top_up = json!({"effective_date": "2026-01-01", "description": "Member State top-up of the pool", "postings": [
        {"account": "1010", "debit": "1234.56"}, {"account": "3900", "credit": "1234.56"}]});
    assert_eq!(app.post(&path, &app.staff(), &top_up).await.status, 201);
    let after = app.get_public(&format!("/api/v1/transparency/funds/{fund}/grant-attribution")).await;
    let unattributed = after.body["by_programme_and_member_state"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["programme"] == "unattributed")
        .expect("an unattributed row");
    assert_eq!(unattributed["figures"]["topped_up"], "1234.56");
    assert_eq!(cents(&after.body["totals"]["in_pool"]) - cents(&before.body["totals"]["in_pool"]), 123_456);
    assert_eq!(after.body["totals"]["reserved"], before.body["totals"]["reserved"]);
}

/// Source id -> is it private, from the sources list.
async fn private_sources(app: &TestApp) -> BTreeMap<String, (bool, String)> {
    let sources = app.get("/api/v1/sources?limit=500", &app.staff()).await;
    sources.body["items"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| {
            let id = s["id"].as_str().expect("id").to_string();
            (id, (s["kind"] == "private", s["legal_name"].as_str().expect("name").to_string()))
        })
        .collect()
}

/// Private per public, rounded half away from zero to two decimals, in integers.
fn leverage(private: i64, public: i64) -> String {
    let hundredths = (i128::from(private) * 200 + i128::from(public)) / (2 * i128::from(public));
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

async fn the_open_data_is_the_books_and_names_no_private_investor(app: TestApp) {
    let fund = gigafactories(&app).await;
    let note = app.issue_checkpoint();
    let sources = private_sources(&app).await;
    // Committed, from the commitments; paid in, from the contributions' cash in the journal.
    let commitments = app.get(&format!("/api/v1/funds/{fund}/commitments?limit=500"), &app.staff()).await;
    let (mut committed, mut paid_in) = ([0i64; 2], [0i64; 2]);
    for c in commitments.body["items"].as_array().expect("commitments") {
        let private = sources[c["source_id"].as_str().expect("source")].0;
        committed[usize::from(private)] += cents(&c["committed"]);
    }
    for entry in journal(&app, &fund).await.iter().filter(|e| e["event_type"] == "contribution") {
        for line in lines(entry, "1000") {
            paid_in[usize::from(sources[line["party_id"].as_str().expect("party")].0)] += cents(&line["debit"]);
        }
    }
    let report = app.get_public(&format!("/api/v1/transparency/funds/{fund}")).await;
    assert_eq!(report.status, 200, "{}", report.text);
    let licence = report.headers.get("link").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        licence.contains("creativecommons.org/licenses/by/4.0") && licence.contains("rel=\"license\""),
        "{licence}"
    );
    let totals = &report.body["capital_totals"];
    assert_eq!([cents(&totals["public_committed"]), cents(&totals["private_committed"])], committed, "{}", report.text);
    assert_eq!([cents(&totals["public_paid_in"]), cents(&totals["private_paid_in"])], paid_in);
    assert_eq!(totals["leverage_committed"], leverage(committed[1], committed[0]).as_str());
    assert_eq!(totals["leverage_paid_in"], leverage(paid_in[1], paid_in[0]).as_str());
    let rows = report.body["capital"].as_array().expect("capital rows");
    assert_eq!(rows.iter().map(|r| cents(&r["committed"])).sum::<i64>(), committed[0] + committed[1]);
    assert!(
        rows.iter().filter(|r| r["money"] == "private").all(|r| r["sources"].as_u64() >= Some(3)),
        "{}",
        report.text
    );
    // The pool's figures are the attribution's, and the checkpoint is the one just signed.
    let pool = &report.body["pool"];
    let attribution = &report.body["grant_attribution"]["totals"];
    assert_eq!(pool["awarded"], attribution["awarded"]);
    assert_eq!(pool["available"], attribution["in_pool"]);
    assert_eq!(report.body["checkpoint"]["note"], note.as_str());
    assert_eq!(report.body["checkpoint"]["verifier_key"], common::TEST_CHECKPOINT_VERIFIER_KEY);

    // Each CSV holds the JSON's figures, row for row.
    let csv_of = |table: &'static str| {
        let path = format!("/api/v1/transparency/funds/{fund}/open-data/{table}.csv");
        let app = &app;
        async move {
            let reply = app.get_public(&path).await;
            assert_eq!(reply.status, 200, "{table}: {}", reply.text);
            assert!(reply.headers.get("link").is_some(), "{table} carries its licence");
            let mut reader = csv::Reader::from_reader(reply.text.as_bytes());
            let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
            let rows: Vec<Vec<String>> =
                reader.records().map(|r| r.expect("record").iter().map(str::to_string).collect()).collect();
            (header, rows, reply.text)
        }
    };
    let (header, capital, _) = csv_of("capital").await;
    assert_eq!(header[4], "committed_eur");
    assert_eq!(capital.len(), rows.len());
    for (csv_row, json_row) in capital.iter().zip(rows) {
        assert_eq!(csv_row[1], json_row["programme"].as_str().unwrap_or_default());
        assert_eq!(csv_row[4], json_row["committed"].as_str().unwrap_or_default());
        assert_eq!(csv_row[5], json_row["paid_in"].as_str().unwrap_or_default());
    }
    let (_, facilities, _) = csv_of("facilities").await;
    let deployed: i64 = facilities.iter().map(|r| cents(&json!(r[4]))).sum();
    let deployments = app.get(&format!("/api/v1/funds/{fund}/deployments"), &app.staff()).await;
    let expected: i64 =
        deployments.body["items"].as_array().expect("deployments").iter().map(|d| cents(&d["amount"])).sum();
    assert_eq!(deployed, expected, "{}", deployments.text);
    let (_, attributed, _) = csv_of("grant-attribution").await;
    let awarded: i64 = attributed.iter().map(|r| cents(&json!(r[6]))).sum();
    assert_eq!(awarded, cents(&attribution["awarded"]));
    let (_, register, _) = csv_of("state-aid-register").await;
    assert_eq!(register.len(), report.body["state_aid_register"].as_array().map_or(0, Vec::len));
    let mut published = report.text.clone();
    for table in ["capital", "facilities", "grant-attribution", "grants-by-sme-category", "state-aid-register"] {
        published.push_str(&csv_of(table).await.2);
    }
    let page = app.get_public(&format!("/transparency/funds/{fund}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    published.push_str(&page.text);
    for (id, (private, name)) in &sources {
        if *private {
            assert!(!published.contains(name.as_str()) && !published.contains(id.as_str()), "{name} is published");
        }
    }

    assert_problem(
        &app.get_public(&format!("/api/v1/transparency/funds/{fund}/open-data/secrets.csv")).await,
        400,
        Some("file"),
    );
    assert_problem(&app.get_public("/api/v1/transparency/funds/x/open-data/capital.csv").await, 400, Some("fund_id"));
    let unknown = uuid::Uuid::new_v4();
    assert_problem(&app.get_public(&format!("/api/v1/transparency/funds/{unknown}")).await, 404, None);
    let lines = app.get_public("/api/v1/transparency/funds").await;
    let line = lines.body.as_array().expect("funds").iter().find(|l| l["fund_id"] == fund.as_str()).expect("listed");
    assert_eq!(&line["leverage_paid_in"], &totals["leverage_paid_in"]);
    assert_eq!(app.get_public("/transparency").await.status, 200);
}

/// Proceeds undone by a reversal returned no cost: the public facilities table counts only
/// those that stand, as the investments account does.
async fn a_reversed_return_of_cost_is_not_published(app: TestApp) {
    let fund = app.create_fund("Returned fund").await;
    let opening = json!({"effective_date": "2024-01-02", "description": "Opening cash", "postings": [
        {"account": "1000", "debit": "1000000.00"}, {"account": "3900", "credit": "1000000.00"}]});
    common::created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), opening).await;
    let facilities = app.get("/api/v1/facilities", &app.staff()).await;
    let facility = facilities.body["items"][0]["id"].as_str().expect("a demo facility").to_string();
    let stake = json!({"facility_id": facility, "kind": "equity", "amount": "1000000.00", "value_date": "2024-02-01", "description": "Stake"});
    common::created(&app, &format!("/api/v1/funds/{fund}/deployments"), stake).await;
    let proceeds = |cost: &str, on: &str| json!({"facility_id": facility, "amount": "500000.00", "cost_returned": cost, "value_date": on, "description": "Exit"});
    let wrong =
        common::created(&app, &format!("/api/v1/funds/{fund}/proceeds"), proceeds("300000.00", "2024-06-01")).await;
    common::created(&app, &format!("/api/v1/funds/{fund}/proceeds"), proceeds("200000.00", "2024-07-01")).await;
    let entry = journal(&app, &fund).await.into_iter().find(|e| e["event_id"] == wrong["id"]).expect("its entry");
    let undo = json!({"effective_date": "2024-06-02", "reason": "Recorded against the wrong facility"});
    common::created(&app, &format!("/api/v1/ledger/entries/{}/reversal", entry["id"].as_str().expect("id")), undo)
        .await;
    // 1,000,000.00 invested, 200,000.00 of it returned by the proceeds that stand.
    let investments =
        app.get(&format!("/api/v1/funds/{fund}/accounts/1200/balance?as_of=2024-12-31"), &app.auditor()).await;
    assert_eq!(investments.body["net"], "800000.00", "{}", investments.text);
    let report = app.get_public(&format!("/api/v1/transparency/funds/{fund}")).await;
    assert_eq!(report.status, 200, "{}", report.text);
    let row = report.body["facilities"].as_array().and_then(|rows| rows.first()).expect("the facility");
    assert_eq!(row["deployed"], "1000000.00", "{}", report.text);
    assert_eq!(row["cost_returned"], "200000.00", "{}", report.text);
}

/// One or two private investors' money is theirs: no private row, no private total and no
/// leverage are published for a fund until three private investors hold money in it.
async fn one_or_two_private_investors_money_is_never_published(app: TestApp) {
    let fund = app.create_fund("Few private investors").await;
    let tranche = common::created(
        &app,
        &format!("/api/v1/funds/{fund}/tranches"),
        json!({"name": "Senior", "seniority": 1, "target_size": "100000000.00", "pref_rate": "0"}),
    )
    .await;
    let commit = |source: Value, amount: &str| {
        let body = json!({"source_id": source["id"], "tranche_id": tranche["id"], "amount": amount, "effective_date": "2025-01-01"});
        let app = &app;
        let path = format!("/api/v1/funds/{fund}/commitments");
        async move { common::created(app, &path, body).await }
    };
    let public = common::created(
        &app,
        "/api/v1/sources",
        json!({"kind": "eu_programme", "programme": "investeu", "legal_name": "InvestEU few", "country": "EU"}),
    )
    .await;
    commit(public, "1000000.00").await;
    let amounts = ["1234567.89", "7654321.01", "5555555.55"];
    for (n, amount) in amounts.iter().enumerate() {
        let source = common::created(
            &app,
            "/api/v1/sources",
            json!({"kind": "private", "legal_name": format!("Quiet investor {n}"), "country": "LU"}),
        )
        .await;
        commit(source, amount).await;
        let report = app.get_public(&format!("/api/v1/transparency/funds/{fund}")).await;
        assert_eq!(report.status, 200, "{}", report.text);
        let totals = &report.body["capital_totals"];
        let page = app.get_public(&format!("/transparency/funds/{fund}")).await;
        let index = app.get_public("/transparency").await;
        let csv = app.get_public(&format!("/api/v1/transparency/funds/{fund}/open-data/capital.csv")).await;
        if n < 2 {
            let private_rows =
                report.body["capital"].as_array().into_iter().flatten().filter(|r| r["money"] == "private").count();
            assert_eq!(private_rows, 0, "{}", report.text);
            assert_eq!(
                (&totals["private_committed"], &totals["leverage_committed"]),
                (&Value::Null, &Value::Null),
                "{}",
                report.text
            );
            for published in [&report.text, &page.text, &index.text, &csv.text] {
                for figure in &amounts[..=n] {
                    assert!(!published.contains(figure), "{figure} published: {published}");
                }
            }
            assert!(page.text.contains("withheld: fewer than three private investors"), "{}", page.text);
        } else {
            // 1,234,567.89 + 7,654,321.01 + 5,555,555.55 = 14,444,444.45 of three investors.
            assert_eq!(totals["private_committed"], "14444444.45", "{}", report.text);
            assert_eq!(totals["leverage_committed"], "14.44", "{}", report.text);
            assert!(csv.text.contains("14444444.45"), "{}", csv.text);
        }
    }
}

on_both_backends!(spawn = super::common::spawn_demo;
    one_or_two_private_investors_money_is_never_published,
    the_open_data_is_the_books_and_names_no_private_investor,
    the_demo_pool_is_traced_to_its_sources_to_the_cent,
    the_public_sees_programmes_and_member_states_never_a_private_investor,
    manual_entries_top_up_the_pool_unattributed_and_never_touch_grant_commitments,
    a_reversed_return_of_cost_is_not_published,
);
