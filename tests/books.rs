//! Books that cannot go wrong: each class of defect an outside audit found (an exact-arithmetic
//! reference of the waterfall, pyxirr, an adversarial probe), replayed as it was reported, in a
//! database holding the InvestAI demo data, on both backends. Expected figures are worked out
//! by hand from the rules in docs/ledger.md and docs/waterfall.md (or taken from pyxirr), never
//! read back from the service.

use crate::common;

use common::{assert_problem, created, id, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// A server on a database holding the demo data.
async fn entries(app: &TestApp) -> u64 {
    app.get("/api/v1/ledger/verify", &app.auditor()).await.body["entries_checked"].as_u64().expect("count")
}

async fn balance(app: &TestApp, fund: &str, code: &str, on: &str) -> String {
    let reply = app.get(&format!("/api/v1/funds/{fund}/accounts/{code}/balance?as_of={on}"), &app.auditor()).await;
    reply.body["net"].as_str().expect("net").to_string()
}

/// A new fund in the demo's database whose cash is `cash`, received on 2024-01-02, and one of
/// the demo's facilities.
async fn fund_holding(app: &TestApp, name: &str, cash: &str) -> (String, String) {
    let fund = app.create_fund(name).await;
    let body = json!({"effective_date": "2024-01-02", "description": "Opening cash", "postings": [
        {"account": "1000", "debit": cash}, {"account": "3900", "credit": cash}]});
    created(app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    let facilities = app.get("/api/v1/facilities", &app.staff()).await;
    let facility = facilities.body["items"][0]["id"].as_str().expect("a demo facility").to_string();
    (fund, facility)
}

fn deployment(facility: &str, amount: &str, on: &str) -> Value {
    json!({"facility_id": facility, "kind": "equity", "amount": amount, "value_date": on, "description": "Stake"})
}

/// The refusal names the first date the floor would break, the account and the balance.
fn assert_floor_refusal(reply: &common::Reply, field: &str, date: &str, account: &str, balance: &str) {
    assert_problem(reply, 422, Some(field));
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    for part in [date, account, balance] {
        assert!(detail.contains(part), "the refusal should name {part}: {}", reply.text);
    }
}

/// A distribution asks for the cash it shares out: a step paid as a share of it (a reserve)
/// must not be worked out on cash the fund does not hold on the date, even when part of it stays
/// undistributed; what stays need not be kept on later dates, what is paid out must.
async fn a_distribution_asking_for_more_cash_than_held_is_refused(app: TestApp) {
    let (fund, _) = fund_holding(&app, "Cash asked for", "1000.00").await;
    let spend = json!({"effective_date": "2024-03-10", "description": "Fees", "postings": [
        {"account": "5010", "debit": "800.00"}, {"account": "1000", "credit": "800.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), spend).await;
    let terms = json!({"steps": [{"type": "reserve", "account": "1010", "percent": "50"}]});
    created(&app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    let before = entries(&app).await;
    let url = format!("/api/v1/funds/{fund}/distributions");
    let asked = json!({"cash": "1500.00", "date": "2024-03-01", "description": "More than held"});
    let refused = app.post(&url, &app.staff(), &asked).await;
    // 1,000.00 held on 2024-03-01 less the 1,500.00 asked for: -500.00.
    assert_floor_refusal(&refused, "cash", "2024-03-01", "1000", "-500.00");
    assert_eq!(refused.body["type"], "/problems/insufficient-cash");
    assert_eq!(entries(&app).await, before, "a refusal changes nothing");
    let listed = app.get(&url, &app.auditor()).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0), "{}", listed.text);

    // 300.00 of the 1,000.00 held: half to the pool, half stays; 50.00 is left after the fees.
    let held = json!({"cash": "300.00", "date": "2024-03-01", "description": "Within what is held"});
    let done = created(&app, &url, held).await;
    let allocation = &done["allocation"];
    let split = (allocation["distributed"].as_str(), allocation["remaining"].as_str());
    assert_eq!(split, (Some("150.00"), Some("150.00")), "{done}");
    assert_eq!(balance(&app, &fund, "1000", "9999-12-31").await, "50.00");
    assert_eq!(balance(&app, &fund, "1010", "9999-12-31").await, "150.00");
    // 850.00 is held on the date, but paying 425.00 of it would leave -375.00 after the fees.
    let later = json!({"cash": "850.00", "date": "2024-03-01", "description": "Paid out before the fees"});
    let refused = app.post(&url, &app.staff(), &later).await;
    assert_floor_refusal(&refused, "cash", "2024-03-10", "1000", "-375.00");
}

async fn back_dated_and_future_dated_spends_are_refused_on_every_date(app: TestApp) {
    let (fund, facility) = fund_holding(&app, "Floors", "1000000.00").await;
    let deploy = format!("/api/v1/funds/{fund}/deployments");
    created(&app, &deploy, deployment(&facility, "1000000.00", "2024-06-01")).await;
    let before = entries(&app).await;
    // The same cash again, dated before it was spent: on 2024-03-01 it is there, but from
    // 2024-06-01 on the fund would hold -1,000,000.00.
    let again = app.post(&deploy, &app.staff(), &deployment(&facility, "1000000.00", "2024-03-01")).await;
    assert_floor_refusal(&again, "amount", "2024-06-01", "1000", "-1000000.00");
    assert_eq!(again.body["type"], "/problems/insufficient-cash");
    created(
        &app,
        &format!("/api/v1/funds/{fund}/waterfall"),
        json!({"steps": [
        {"type": "split", "shares": [{"account": "1010", "percent": "100"}]}]}),
    )
    .await;
    let distribution = json!({"cash": "1000000.00", "date": "2024-03-01", "description": "Back-dated"});
    let distributed = app.post(&format!("/api/v1/funds/{fund}/distributions"), &app.staff(), &distribution).await;
    assert_floor_refusal(&distributed, "cash", "2024-06-01", "1000", "-1000000.00");
    assert_eq!(entries(&app).await, before, "a refusal changes nothing");
    assert_eq!(balance(&app, &fund, "1000", "9999-12-31").await, "0.00");

    // Future-dated first, then today: today's spend would leave nothing for 2999-12-31. A
    // manual entry may be dated ahead (a deployment may not: docs/ledger.md).
    let (later, facility) = fund_holding(&app, "Floors, future", "1000000.00").await;
    let deploy = format!("/api/v1/funds/{later}/deployments");
    let payment = json!({"effective_date": "2999-12-31", "description": "Fees falling due", "postings": [
        {"account": "5010", "debit": "1000000.00"}, {"account": "1000", "credit": "1000000.00"}]});
    created(&app, &format!("/api/v1/funds/{later}/journal-entries"), payment).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let now = app.post(&deploy, &app.staff(), &deployment(&facility, "1000000.00", &today)).await;
    assert_floor_refusal(&now, "amount", "2999-12-31", "1000", "-1000000.00");

    // Back-dating that keeps every floor stays allowed: late recording is normal.
    let (late, facility) = fund_holding(&app, "Floors, late", "1000000.00").await;
    let deploy = format!("/api/v1/funds/{late}/deployments");
    created(&app, &deploy, deployment(&facility, "600000.00", "2024-06-01")).await;
    created(&app, &deploy, deployment(&facility, "400000.00", "2024-03-01")).await;
    assert_eq!(balance(&app, &late, "1000", "9999-12-31").await, "0.00");
}

async fn a_write_down_back_dated_before_a_return_of_cost_is_refused(app: TestApp) {
    // Investors paid 2,000,000.00 in on 2025-01-01: capital for a loss to fall on.
    let (fund, _, _) = two_tranches(&app, "Investment floor", "1000000.00", None).await;
    let facilities = app.get("/api/v1/facilities", &app.staff()).await;
    let facility = facilities.body["items"][0]["id"].as_str().expect("a demo facility").to_string();
    created(&app, &format!("/api/v1/funds/{fund}/deployments"), deployment(&facility, "1000000.00", "2025-02-01"))
        .await;
    let exit = json!({"facility_id": facility, "amount": "1000000.00", "cost_returned": "1000000.00",
        "value_date": "2025-09-01", "description": "Full return of cost"});
    created(&app, &format!("/api/v1/funds/{fund}/proceeds"), exit).await;
    let before = entries(&app).await;
    // The cost was all returned on 2025-09-01: 800,000.00 written down on 2025-05-01 would
    // leave the investment at -800,000.00 from then on.
    let down = json!({"facility_id": facility, "amount": "800000.00", "value_date": "2025-05-01", "description": "Impairment"});
    let reply = app.post(&format!("/api/v1/funds/{fund}/write-downs"), &app.staff(), &down).await;
    assert_floor_refusal(&reply, "amount", "2025-09-01", "1200", "-800000.00");
    // A manual credit to the investments account is held to the same floor, per facility.
    let manual = json!({"effective_date": "2025-05-01", "description": "Impairment by hand", "postings": [
        {"account": "5300", "debit": "800000.00"}, {"account": "1200", "credit": "800000.00", "party_id": facility}]});
    let reply = app.post(&format!("/api/v1/funds/{fund}/journal-entries"), &app.staff(), &manual).await;
    assert_floor_refusal(&reply, "postings", "2025-09-01", "1200", "-800000.00");
    assert_eq!(entries(&app).await, before, "a refusal changes nothing");
}

/// Two tranches each with one investor who paid `paid_in` on 2025-01-01: A uncapped, B with
/// `cap_b`. Returns (fund, tranche A, tranche B).
async fn two_tranches(app: &TestApp, name: &str, paid_in: &str, cap_b: Option<&str>) -> (String, String, String) {
    let fund = app.create_fund(name).await;
    let mut tranches = Vec::new();
    for (rank, cap) in [(1, None), (2, cap_b)] {
        let body = json!({"name": format!("{name} {rank}"), "seniority": rank, "target_size": "100000000.00",
            "pref_rate": "0", "return_cap": cap});
        tranches.push(id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), body).await));
    }
    for (n, tranche) in tranches.iter().enumerate() {
        let source = created(
            app,
            "/api/v1/sources",
            json!({"kind": "private", "legal_name": format!("{name} investor {n}"), "country": "DE"}),
        )
        .await;
        let commitment =
            json!({"source_id": id(&source), "tranche_id": tranche, "amount": paid_in, "effective_date": "2024-12-01"});
        created(app, &format!("/api/v1/funds/{fund}/commitments"), commitment).await;
        let call = json!({"call_date": "2025-01-01", "due_date": "2025-01-01", "description": "All in",
            "lines": [{"tranche_id": tranche, "purpose": "expenses", "amount": paid_in}]});
        let call = created(app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await;
        let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&call)), &app.staff()).await;
        let notice = notices.body["items"][0]["id"].as_str().expect("notice").to_string();
        created(
            app,
            &format!("/api/v1/notices/{notice}/contributions"),
            json!({"amount": paid_in, "value_date": "2025-01-01"}),
        )
        .await;
    }
    (fund, tranches[0].clone(), tranches[1].clone())
}

fn split_line<'a>(allocation: &'a Value, target: &Value) -> &'a Value {
    let split = allocation["steps"].as_array().and_then(|s| s.last()).expect("split step");
    split["lines"].as_array().into_iter().flatten().find(|l| &l["target"] == target).expect("line of the target")
}

async fn a_capped_target_hands_its_excess_on_and_every_line_tells_the_truth(app: TestApp) {
    let (fund, a, b) = two_tranches(&app, "Capped split", "1000000.00", Some("1.1")).await;
    let terms = json!({"steps": [
        {"type": "capital", "tranches": [a, b], "mode": "pro_rata"},
        {"type": "split", "shares": [{"tranche": a, "percent": "40"}, {"tranche": b, "percent": "50"}, {"account": "1010", "percent": "10"}]}]});
    created(&app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    // 1,000,000.00 more cash, so that 3,000,000.00 is there to distribute.
    let body = json!({"effective_date": "2025-01-01", "description": "Income", "postings": [
        {"account": "1000", "debit": "1000000.00"}, {"account": "4000", "credit": "1000000.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    let request = json!({"cash": "3000000.00", "date": "2025-06-30", "description": "Exit"});
    let preview = app.post(&format!("/api/v1/funds/{fund}/distributions/preview"), &app.auditor(), &request).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    // Capital returns 2,000,000.00; the split shares 1,000,000.00. B may take 1.1 x 1,000,000.00
    // - 1,000,000.00 = 100,000.00 of its 500,000.00; its 400,000.00 goes to A and 1010 40:10.
    let allocation = &preview.body["allocation"];
    let expected = [
        (json!({"tranche": a}), "400000.00", "720000.00", "0.00", "320000.00"),
        (json!({"tranche": b}), "500000.00", "100000.00", "400000.00", "0.00"),
        (json!({"account": "1010"}), "100000.00", "180000.00", "0.00", "80000.00"),
    ];
    for (target, owed, paid, shortfall, redistributed) in &expected {
        let line = split_line(allocation, target);
        assert_eq!(
            (&line["owed"], &line["paid"], &line["shortfall"], &line["redistributed"]),
            (&json!(owed), &json!(paid), &json!(shortfall), &json!(redistributed)),
            "{target}: {line}"
        );
    }
    let executed = app.post(&format!("/api/v1/funds/{fund}/distributions"), &app.staff(), &request).await;
    assert_eq!(executed.status, 201, "{}", executed.text);
    assert_eq!(executed.body["allocation"], preview.body["allocation"], "executed exactly as previewed");
    assert_eq!(balance(&app, &fund, "1010", "2025-06-30").await, "180000.00");
}

async fn an_exact_tie_between_split_targets_goes_to_the_lower_id(app: TestApp) {
    let (fund, a, b) = two_tranches(&app, "Tie", "100.00", None).await;
    let (lower, higher) = if a < b { (a, b) } else { (b, a) };
    // The higher id listed first: a tie must not follow the listing order.
    let terms = json!({"steps": [
        {"type": "capital", "tranches": [lower, higher], "mode": "pro_rata"},
        {"type": "split", "shares": [{"tranche": higher, "percent": "50"}, {"tranche": lower, "percent": "50"}]}]});
    created(&app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    let body = json!({"effective_date": "2025-01-01", "description": "Income", "postings": [
        {"account": "1000", "debit": "0.01"}, {"account": "4000", "credit": "0.01"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    // 200.00 returns capital; the residual cent is an exact 50/50 tie.
    let request = json!({"cash": "200.01", "date": "2025-06-30", "description": "Tie"});
    let preview = app.post(&format!("/api/v1/funds/{fund}/distributions/preview"), &app.auditor(), &request).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(split_line(&preview.body["allocation"], &json!({"tranche": lower}))["paid"], "0.01", "{}", preview.text);
    assert_eq!(split_line(&preview.body["allocation"], &json!({"tranche": higher}))["paid"], "0.00");
}

/// One investor paying `calls` (date, amount) into a fund whose NAV on `on` is `nav`.
async fn one_investor(app: &TestApp, calls: &[(&str, &str)], nav: &str, on: &str) -> (String, String) {
    let fund = app.create_fund("XIRR").await;
    let tranche = id(&created(
        app,
        &format!("/api/v1/funds/{fund}/tranches"),
        json!({"name": "Only", "seniority": 1, "target_size": "10000000.00", "pref_rate": "0"}),
    )
    .await);
    let source = id(&created(
        app,
        "/api/v1/sources",
        json!({"kind": "private", "legal_name": "XIRR investor", "country": "FR"}),
    )
    .await);
    created(
        app,
        &format!("/api/v1/funds/{fund}/commitments"),
        json!({"source_id": source, "tranche_id": tranche, "amount": "5000000.00", "effective_date": "2024-05-01"}),
    )
    .await;
    let facilities = app.get("/api/v1/facilities", &app.staff()).await;
    let facility = facilities.body["items"][0]["id"].as_str().expect("a demo facility").to_string();
    for (date, amount) in calls {
        let call = json!({"call_date": date, "due_date": date, "description": "Call",
            "lines": [{"tranche_id": tranche, "purpose": "investment", "facility_id": facility, "amount": amount}]});
        let call = created(app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await;
        let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&call)), &app.staff()).await;
        let notice = notices.body["items"][0]["id"].as_str().expect("notice").to_string();
        created(app, &format!("/api/v1/notices/{notice}/contributions"), json!({"amount": amount, "value_date": date}))
            .await;
        created(app, &format!("/api/v1/funds/{fund}/deployments"), deployment(&facility, amount, date)).await;
    }
    created(
        app,
        &format!("/api/v1/funds/{fund}/waterfall"),
        json!({"steps": [
        {"type": "capital", "tranches": [tranche], "mode": "pro_rata"},
        {"type": "split", "shares": [{"tranche": tranche, "percent": "100"}]}]}),
    )
    .await;
    created(
        app,
        &format!("/api/v1/funds/{fund}/valuations"),
        json!({"as_of": on, "nav": nav, "description": "Valuation"}),
    )
    .await;
    (fund, source)
}

async fn xirr_finds_the_one_rate_of_a_deep_loss(app: TestApp) {
    let (fund, investor) =
        one_investor(&app, &[("2024-05-15", "1000000.00"), ("2024-05-30", "1000000.00")], "1500000.00", "2024-06-30")
            .await;
    let metrics = app.get(&format!("/api/v1/funds/{fund}/metrics?as_of=2024-06-30"), &app.auditor()).await;
    let line = metrics.body["investors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["id"] == investor.as_str())
        .expect("line");
    assert_eq!(line["nav"], "1500000.00", "{line}");
    assert_eq!(line["xirr"]["status"], "rate", "{line}");
    // pyxirr.xirr([2024-05-15, 2024-05-30, 2024-06-30], [-1e6, -1e6, 1.5e6]) = -0.9355857...
    let rate = line["xirr"]["rate"].as_f64().expect("rate");
    assert!((rate - -0.935_585_7).abs() < 1e-7, "{rate}");
}

/// A valuation states NAV on its date, carried forward by every cash flow since: one dated before
/// the fund's latest valuation would move NAV on that later date away from what its valuation
/// says, so it is refused and writes nothing. On the latest date or after, it is recorded.
async fn a_valuation_is_never_dated_before_the_latest(app: TestApp) {
    let (fund, investor) = one_investor(&app, &[("2024-05-15", "1000000.00")], "1200000.00", "2024-06-30").await;
    let nav_on = |on: &'static str| {
        let (app, fund, investor) = (&app, fund.clone(), investor.clone());
        async move {
            let metrics = app.get(&format!("/api/v1/funds/{fund}/metrics?as_of={on}"), &app.auditor()).await;
            let lines = metrics.body["investors"].as_array().cloned().unwrap_or_default();
            let line = lines.into_iter().find(|l| l["id"] == investor.as_str()).expect("line");
            line["nav"].as_str().unwrap_or_default().to_string()
        }
    };
    let valuations = format!("/api/v1/funds/{fund}/valuations");
    let before = entries(&app).await;
    let earlier = json!({"as_of": "2024-05-31", "nav": "1100000.00", "description": "Month end"});
    let refused = app.post(&valuations, &app.staff(), &earlier).await;
    assert_problem(&refused, 422, Some("as_of"));
    assert_eq!(refused.body["type"], "/problems/valuation-before-latest", "{}", refused.text);
    assert!(refused.body["detail"].as_str().unwrap_or_default().contains("2024-06-30"), "{}", refused.text);
    assert_eq!(entries(&app).await, before, "a refusal posts nothing");
    assert_eq!(nav_on("2024-06-30").await, "1200000.00");
    // A restatement on the latest date, and a later valuation, are recorded.
    created(&app, &valuations, json!({"as_of": "2024-06-30", "nav": "1150000.00", "description": "Restated"})).await;
    assert_eq!(nav_on("2024-06-30").await, "1150000.00");
    created(&app, &valuations, json!({"as_of": "2024-07-31", "nav": "1300000.00", "description": "Month end"})).await;
    assert_eq!(nav_on("2024-07-31").await, "1300000.00");
    assert_eq!(nav_on("2024-06-30").await, "1150000.00");
    // A valuation states NAV on a date that has come: one dated tomorrow (a typo for a year
    // would freeze every write that moves NAV until then) is refused.
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let before = entries(&app).await;
    let ahead = json!({"as_of": tomorrow, "nav": "1300000.00", "description": "Typo"});
    let refused = app.post(&valuations, &app.staff(), &ahead).await;
    assert_problem(&refused, 422, Some("as_of"));
    assert_eq!(refused.body["type"], "/problems/valuation-in-future", "{}", refused.text);
    assert_eq!(entries(&app).await, before, "a refusal posts nothing");
}

/// A valuation states NAV on its date, and NAV after it is that valuation carried forward by the
/// cash flows since: a write that moves NAV, dated on or before the latest valuation, would move
/// NAV on that date away from what the valuation says. It is refused on its date's field, naming
/// the valuation's date; a write that leaves NAV where it is (cash into an investment) is not.
async fn a_write_that_moves_nav_is_dated_after_the_latest_valuation(app: TestApp) {
    let (fund, facility) = fund_holding(&app, "Valued", "1000000.00").await;
    created(&app, &format!("/api/v1/funds/{fund}/deployments"), deployment(&facility, "600000.00", "2024-02-01")).await;
    let valuation = json!({"as_of": "2024-06-30", "nav": "900000.00", "description": "Half year"});
    created(&app, &format!("/api/v1/funds/{fund}/valuations"), valuation).await;
    let proceeds = |on: &str| json!({"facility_id": facility, "amount": "500.00", "cost_returned": "0.00", "value_date": on, "description": "Dividend"});
    let manual = json!({"effective_date": "2024-05-01", "description": "Late income", "postings": [
        {"account": "1000", "debit": "10.00"}, {"account": "3900", "credit": "10.00"}]});
    let before = entries(&app).await;
    for (path, body, field) in [
        (format!("/api/v1/funds/{fund}/proceeds"), proceeds("2024-06-30"), "value_date"),
        (format!("/api/v1/funds/{fund}/proceeds"), proceeds("2024-03-01"), "value_date"),
        (format!("/api/v1/funds/{fund}/journal-entries"), manual, "effective_date"),
    ] {
        let refused = app.post(&path, &app.staff(), &body).await;
        assert_problem(&refused, 422, Some(field));
        assert_eq!(refused.body["type"], "/problems/before-valuation", "{body}: {}", refused.text);
        assert!(refused.body["detail"].as_str().unwrap_or_default().contains("2024-06-30"), "{}", refused.text);
    }
    assert_eq!(entries(&app).await, before, "refusals post nothing");
    assert_eq!(balance(&app, &fund, "1000", "2024-06-30").await, "400000.00");
    // Cash into an investment leaves NAV as it is; income after the valuation moves it.
    created(&app, &format!("/api/v1/funds/{fund}/deployments"), deployment(&facility, "100000.00", "2024-06-15")).await;
    created(&app, &format!("/api/v1/funds/{fund}/proceeds"), proceeds("2024-07-01")).await;
    assert_eq!(balance(&app, &fund, "1000", "2024-07-01").await, "300500.00");
}

/// A distribution is dated after the latest valuation even when its entry leaves NAV as it is:
/// here the terms pay only a fee already owed (debit 2100, credit 1000). Dated on the
/// valuation's date it is refused and stores nothing; a day later it is recorded.
async fn a_distribution_that_leaves_nav_as_it_is_is_dated_after_the_latest_valuation(app: TestApp) {
    let (fund, _) = fund_holding(&app, "Fee only", "1000000.00").await;
    let owed = json!({"effective_date": "2024-05-01", "description": "Audit fee owed", "postings": [
        {"account": "5010", "debit": "100.00"}, {"account": "2100", "credit": "100.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), owed).await;
    let valuation = json!({"as_of": "2024-06-30", "nav": "999900.00", "description": "Half year"});
    created(&app, &format!("/api/v1/funds/{fund}/valuations"), valuation).await;
    let terms = json!({"steps": [{"type": "fee", "name": "Audit", "account": "2100", "fixed": "100.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    let distributions = format!("/api/v1/funds/{fund}/distributions");
    let on = |date: &str| json!({"cash": "100.00", "date": date, "description": "Audit fee paid"});
    let before = entries(&app).await;
    let refused = app.post(&distributions, &app.staff(), &on("2024-06-30")).await;
    assert_problem(&refused, 422, Some("date"));
    assert_eq!(refused.body["type"], "/problems/before-valuation", "{}", refused.text);
    assert!(refused.body["detail"].as_str().unwrap_or_default().contains("2024-06-30"), "{}", refused.text);
    assert_eq!(entries(&app).await, before, "a refusal posts nothing");
    let listed = app.get(&distributions, &app.staff()).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0), "{}", listed.text);
    created(&app, &distributions, on("2024-07-01")).await;
    assert_eq!(balance(&app, &fund, "2100", "2024-07-01").await, "0.00");
}

async fn nav_counts_paid_in_capital_only(app: TestApp) {
    // The demo on 2025-06-21: the fund's NAV is its net assets less what investors still owe.
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    let compartment =
        funds.body["items"].as_array().into_iter().flatten().find(|f| f["parent_id"].is_string()).expect("compartment");
    let demo = compartment["id"].as_str().expect("id");
    let metrics = app.get(&format!("/api/v1/funds/{demo}/metrics?as_of=2025-06-21"), &app.auditor()).await;
    let tb = app.get(&format!("/api/v1/funds/{demo}/trial-balance?as_of=2025-06-21"), &app.auditor()).await;
    let cents = |text: &str| text.replace('.', "").parse::<i64>().expect("cents");
    let outside = ["9000", "9100", "1010", "1020", "1030", "1040", "2200", "1100"];
    let net_assets: i64 = tb.body["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| matches!(a["kind"].as_str(), Some("asset" | "liability")))
        .filter(|a| !outside.contains(&a["code"].as_str().unwrap_or_default().split('.').next().unwrap_or_default()))
        .map(|a| cents(a["net"].as_str().expect("net")))
        .sum();
    assert_eq!(cents(metrics.body["fund_nav"].as_str().expect("nav")), net_assets, "{}", metrics.text);
    let paid_in = cents(metrics.body["fund"]["paid_in"].as_str().expect("paid in"));
    assert!(cents(metrics.body["fund_nav"].as_str().unwrap_or("0")) <= paid_in, "no gains yet: {}", metrics.text);

    // Two investors called 500,000.00 each on 2025-03-03; one pays that day, one never does.
    let fund = app.create_fund("Defaulting investor").await;
    let tranche = id(&created(
        &app,
        &format!("/api/v1/funds/{fund}/tranches"),
        json!({"name": "Senior", "seniority": 1, "target_size": "10000000.00", "pref_rate": "0.08"}),
    )
    .await);
    let mut investors = Vec::new();
    for name in ["Pays", "Defaults"] {
        let source =
            id(&created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "IT"}))
                .await);
        created(
            &app,
            &format!("/api/v1/funds/{fund}/commitments"),
            json!({"source_id": source, "tranche_id": tranche, "amount": "1000000.00", "effective_date": "2025-03-01"}),
        )
        .await;
        investors.push(source);
    }
    let call = json!({"call_date": "2025-03-03", "due_date": "2025-03-03", "description": "First call",
        "lines": [{"tranche_id": tranche, "purpose": "expenses", "amount": "1000000.00"}]});
    let call = created(&app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await;
    let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&call)), &app.staff()).await;
    let payer = notices.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["investor_id"] == investors[0].as_str())
        .expect("notice");
    created(
        &app,
        &format!("/api/v1/notices/{}/contributions", id(payer)),
        json!({"amount": "500000.00", "value_date": "2025-03-03"}),
    )
    .await;
    created(
        &app,
        &format!("/api/v1/funds/{fund}/waterfall"),
        json!({"steps": [
        {"type": "pref", "tranches": [tranche], "mode": "pro_rata"},
        {"type": "capital", "tranches": [tranche], "mode": "pro_rata"},
        {"type": "split", "shares": [{"tranche": tranche, "percent": "100"}]}]}),
    )
    .await;
    let metrics = app.get(&format!("/api/v1/funds/{fund}/metrics?as_of=2025-03-03"), &app.auditor()).await;
    assert_eq!(metrics.body["fund_nav"], "500000.00", "{}", metrics.text);
    let nav_of = |who: &str| {
        metrics.body["investors"].as_array().into_iter().flatten().find(|l| l["id"] == who).map(|l| l["nav"].clone())
    };
    assert_eq!(nav_of(&investors[0]), Some(json!("500000.00")), "what it paid, the day it paid: {}", metrics.text);
    assert_eq!(nav_of(&investors[1]), Some(json!("0.00")), "{}", metrics.text);
    assert_eq!(metrics.body["investors"][0]["tvpi"].as_str().map(|t| t == "1.0000" || t == "0.0000"), Some(true));
    let own = app
        .get(&format!("/api/v1/funds/{fund}/metrics?as_of=2025-03-03"), &app.token(Role::Investor, &investors[0]))
        .await;
    assert_eq!(own.body["investors"][0]["rvpi"], "1.0000", "{}", own.text);
}

/// A read (`read_tx`) sees one state of the books from its first query to its last, even when a
/// write commits between two of them: a report never mixes a state before a write with one after.
async fn a_read_sees_one_state_of_the_books_while_a_write_commits(app: TestApp) {
    use investai::storage::{read_tx, version::books_version};
    let mut conn = app.conn();
    let (first, last) = read_tx(&mut conn, |c| {
        let first = books_version(c)?;
        app.sql("UPDATE books_version SET version = version + 1 WHERE id = 1").expect("a write on another connection");
        Ok((first, books_version(c)?))
    })
    .expect("read");
    assert_eq!(first, last, "the second query of the read saw the write committed after the first");
    let mut after = app.conn();
    assert_eq!(books_version(&mut after).expect("version"), first + 1, "the write committed");
}

/// A call draws on what was committed on its date: a commitment that took effect later, or an
/// increase dated later, is not called (the probe called 500.00 on 2025-06-01 from a commitment
/// of 2026-03-01, leaving it called above committed, unfunded -500.00, because the investor's
/// other commitments kept the memorandum floor); an amendment dated before its commitment took
/// effect is refused.
async fn a_call_draws_only_on_what_was_committed_on_its_date(app: TestApp) {
    let fund = app.create_fund("Dated commitments fund").await;
    let tranche = |name: &str, seniority: i64| json!({"name": name, "seniority": seniority, "target_size": "1000000.00", "pref_rate": "0.05"});
    let early = id(&created(&app, &format!("/api/v1/funds/{fund}/tranches"), tranche("Early", 1)).await);
    let late = id(&created(&app, &format!("/api/v1/funds/{fund}/tranches"), tranche("Late", 2)).await);
    let source = created(
        &app,
        "/api/v1/sources",
        json!({"kind": "private", "legal_name": "Dated investor",
        "country": "DE"}),
    )
    .await;
    let source = id(&source);
    let commit = |tranche: &str, amount: &str, date: &str| json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": date});
    let commitments = format!("/api/v1/funds/{fund}/commitments");
    let first = id(&created(&app, &commitments, commit(&early, "100000.00", "2025-01-10")).await);
    let second = id(&created(&app, &commitments, commit(&late, "1000.00", "2026-03-01")).await);
    let call = |tranche: &str, amount: &str, date: &str| {
        json!({"call_date": date, "due_date": date, "description": "Dated call",
            "lines": [{"tranche_id": tranche, "purpose": "expenses", "amount": amount}]})
    };
    let calls = format!("/api/v1/funds/{fund}/capital-calls");
    let before = entries(&app).await;
    // Nothing was committed to Late on 2025-06-01.
    let refused = app.post(&calls, &app.staff(), &call(&late, "500.00", "2025-06-01")).await;
    assert_problem(&refused, 422, None);
    assert_eq!(refused.body["type"], "/problems/call-above-unfunded", "{}", refused.text);
    // An increase before the commitment took effect is refused; one after it is not drawn on
    // by a call dated before the increase.
    let amend = format!("/api/v1/commitments/{first}/amendments");
    let increase = |date: &str| json!({"kind": "increase", "amount": "1000.00", "effective_date": date});
    assert_problem(&app.post(&amend, &app.staff(), &increase("2025-01-01")).await, 422, Some("effective_date"));
    assert_eq!(entries(&app).await, before, "refusals post nothing");
    let increased = app.post(&amend, &app.staff(), &increase("2025-02-01")).await;
    assert_eq!(increased.status, 201, "{}", increased.text);
    let over = app.post(&calls, &app.staff(), &call(&early, "100000.01", "2025-01-20")).await;
    assert_eq!(over.body["type"], "/problems/call-above-unfunded", "{}", over.text);
    let in_full = created(&app, &calls, call(&early, "100000.00", "2025-01-20")).await;
    // Its notice tells what is left to call on its date: nothing until the increase of 2025-02-01.
    let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&in_full)), &app.staff()).await;
    let notice = &notices.body["items"][0];
    assert_eq!(
        (notice["cumulative_called"].as_str(), notice["remaining_unfunded"].as_str()),
        (Some("100000.00"), Some("0.00")),
        "{}",
        notices.text
    );
    created(&app, &calls, call(&early, "1000.00", "2025-02-01")).await;
    created(&app, &calls, call(&late, "1000.00", "2026-03-01")).await;
    for (commitment, committed) in [(&first, "101000.00"), (&second, "1000.00")] {
        let read = app.get(&format!("/api/v1/commitments/{commitment}"), &app.staff()).await;
        assert_eq!(
            (read.body["committed"].as_str(), read.body["called"].as_str()),
            (Some(committed), Some(committed)),
            "{}",
            read.text
        );
    }
}

/// A call recorded after a later-dated one tells on its notice what was called by its own date.
/// 200.00 committed from 2025-01-10; 100.00 called on 2025-06-01, then 50.00 on 2025-03-01: the
/// second notice says 50.00 called and 150.00 left on 2025-03-01, not 150.00 and 50.00.
async fn a_notice_counts_the_calls_dated_by_its_own(app: TestApp) {
    let fund = app.create_fund("Out of order calls fund").await;
    let tranche = json!({"name": "Only", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.05"});
    let tranche = id(&created(&app, &format!("/api/v1/funds/{fund}/tranches"), tranche).await);
    let source = json!({"kind": "private", "legal_name": "Patient investor", "country": "AT"});
    let source = id(&created(&app, "/api/v1/sources", source).await);
    let commitment =
        json!({"source_id": source, "tranche_id": tranche, "amount": "200.00", "effective_date": "2025-01-10"});
    created(&app, &format!("/api/v1/funds/{fund}/commitments"), commitment).await;
    let calls = format!("/api/v1/funds/{fund}/capital-calls");
    let call = |amount: &str, date: &str| {
        json!({"call_date": date, "due_date": date, "description": "Call",
            "lines": [{"tranche_id": tranche, "purpose": "expenses", "amount": amount}]})
    };
    let told = |call: Value| {
        let app = &app;
        async move {
            let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&call)), &app.staff()).await;
            let notice = &notices.body["items"][0];
            (
                notice["cumulative_called"].as_str().map(str::to_string),
                notice["remaining_unfunded"].as_str().map(str::to_string),
            )
        }
    };
    let june = created(&app, &calls, call("100.00", "2025-06-01")).await;
    assert_eq!(told(june).await, (Some("100.00".into()), Some("100.00".into())));
    let march = created(&app, &calls, call("50.00", "2025-03-01")).await;
    assert_eq!(told(march).await, (Some("50.00".into()), Some("150.00".into())));
}

/// A fund with tranches S and J, and one investor committed 100.00 to S and 1,000.00 to J from
/// 2025-01-10: the fund, S and the commitment to S.
async fn small_senior_and_large_junior(app: &TestApp, name: &str) -> (String, String, String) {
    let fund = app.create_fund(name).await;
    let tranche = |name: &str, seniority: i64| json!({"name": name, "seniority": seniority, "target_size": "1000000.00", "pref_rate": "0.05"});
    let senior = id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), tranche("S", 1)).await);
    let junior = id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), tranche("J", 2)).await);
    let source = created(
        app,
        "/api/v1/sources",
        json!({"kind": "private", "legal_name": "Two-tranche investor", "country": "FR"}),
    )
    .await;
    let source = id(&source);
    let commit = |tranche: &str, amount: &str| json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2025-01-10"});
    let commitments = format!("/api/v1/funds/{fund}/commitments");
    let small = id(&created(app, &commitments, commit(&senior, "100.00")).await);
    created(app, &commitments, commit(&junior, "1000.00")).await;
    (fund, senior, small)
}

/// A call shares what it calls by each commitment's unfunded amount on its date, and a fee on
/// commitments is worked out on what was committed on a distribution's date. A commitment or an
/// amendment dated on or before a call of its tranche, or a distribution of its fund, recorded
/// after it, would have changed that share or that fee: it is refused on `effective_date`, naming
/// the date, and posts nothing.
async fn a_commitment_is_never_dated_on_or_before_a_call_of_its_tranche_or_a_distribution(app: TestApp) {
    let (fund, senior, small) = small_senior_and_large_junior(&app, "Settled dates fund").await;
    let call = json!({"call_date": "2025-03-01", "due_date": "2025-03-15", "description": "Half of S",
        "lines": [{"tranche_id": senior, "purpose": "expenses", "amount": "50.00"}]});
    let call = created(&app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await;
    let other =
        created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": "Late investor", "country": "IT"}))
            .await;
    let commitments = format!("/api/v1/funds/{fund}/commitments");
    let amend = format!("/api/v1/commitments/{small}/amendments");
    let commit = |date: &str| json!({"source_id": other["id"], "tranche_id": senior, "amount": "100.00", "effective_date": date});
    let before = entries(&app).await;
    for date in ["2025-02-01", "2025-03-01"] {
        refused_on(&app, &commitments, commit(date), "commitment-before-call", "2025-03-01").await;
    }
    for body in [
        json!({"kind": "increase", "amount": "10.00", "effective_date": "2025-02-01"}),
        json!({"kind": "decrease", "amount": "10.00", "effective_date": "2025-03-01"}),
        json!({"kind": "cancel", "effective_date": "2025-01-15"}),
    ] {
        refused_on(&app, &amend, body, "commitment-before-call", "2025-03-01").await;
    }
    assert_eq!(entries(&app).await, before, "refusals post nothing");
    created(&app, &commitments, commit("2025-03-02")).await;
    created(&app, &amend, json!({"kind": "increase", "amount": "10.00", "effective_date": "2025-03-02"})).await;
    // The investor pays; 10.00 of it goes back on 2025-06-01.
    let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&call)), &app.staff()).await;
    let notice = notices.body["items"][0]["id"].as_str().unwrap_or_default().to_string();
    created(
        &app,
        &format!("/api/v1/notices/{notice}/contributions"),
        json!({"amount": "50.00", "value_date": "2025-03-05"}),
    )
    .await;
    let terms = json!({"steps": [{"type": "capital", "tranches": [senior], "mode": "pro_rata"}]});
    created(&app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    let distribution = json!({"cash": "10.00", "date": "2025-06-01", "description": "Return"});
    created(&app, &format!("/api/v1/funds/{fund}/distributions"), distribution).await;
    let before = entries(&app).await;
    let increase = |date: &str| json!({"kind": "increase", "amount": "10.00", "effective_date": date});
    refused_on(&app, &amend, increase("2025-06-01"), "commitment-before-distribution", "2025-06-01").await;
    let junior_commitment = json!({"source_id": other["id"], "tranche_id": junior_of(&app, &fund, &senior).await,
        "amount": "100.00", "effective_date": "2025-05-01"});
    refused_on(&app, &commitments, junior_commitment, "commitment-before-distribution", "2025-06-01").await;
    assert_eq!(entries(&app).await, before, "refusals post nothing");
    created(&app, &amend, increase("2025-06-02")).await;
    assert_committed_and_called(&app, &small, "120.00", "50.00").await;
}

/// A record of what has happened is dated on a day that has come: a call, a payment, a
/// deployment, proceeds, a distribution and a write-down dated tomorrow are each refused on
/// their date field, naming tomorrow and today, and post nothing; dated today, each is
/// recorded. A distribution dated ahead may still be previewed.
async fn records_of_what_has_happened_are_dated_on_or_before_today(app: TestApp) {
    let today = chrono::Utc::now().date_naive();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let today = today.to_string();
    let (fund, senior, _) = small_senior_and_large_junior(&app, "Dated today fund").await;
    let facilities = app.get("/api/v1/facilities", &app.staff()).await;
    let facility = facilities.body["items"][0]["id"].as_str().expect("a demo facility").to_string();
    let funds = format!("/api/v1/funds/{fund}");
    created(
        &app,
        &format!("{funds}/waterfall"),
        json!({"steps": [{"type": "capital", "tranches": [senior], "mode": "pro_rata"}]}),
    )
    .await;
    let call = |on: &str| {
        json!({"call_date": on, "due_date": tomorrow, "description": "Half of S",
        "lines": [{"tranche_id": senior, "purpose": "expenses", "amount": "50.00"}]})
    };
    let call = refused_then_recorded(&app, &format!("{funds}/capital-calls"), call, "call", "call_date").await;
    let notices = app.get(&format!("/api/v1/notices?call_id={}", id(&call)), &app.staff()).await;
    let notice = notices.body["items"][0]["id"].as_str().expect("notice").to_string();
    let payment = |on: &str| json!({"amount": "50.00", "value_date": on});
    let path = format!("/api/v1/notices/{notice}/contributions");
    refused_then_recorded(&app, &path, payment, "contribution", "value_date").await;
    let stake = |on: &str| deployment(&facility, "10.00", on);
    refused_then_recorded(&app, &format!("{funds}/deployments"), stake, "deployment", "value_date").await;
    let proceeds = |on: &str| {
        json!({"facility_id": facility, "amount": "5.00", "cost_returned": "5.00",
        "value_date": on, "description": "Part of the cost back"})
    };
    refused_then_recorded(&app, &format!("{funds}/proceeds"), proceeds, "proceeds", "value_date").await;
    let distribution = |on: &str| json!({"cash": "10.00", "date": on, "description": "Return"});
    let preview = app.post(&format!("{funds}/distributions/preview"), &app.auditor(), &distribution(&tomorrow)).await;
    assert_eq!(preview.status, 200, "a distribution dated ahead is previewed: {}", preview.text);
    refused_then_recorded(&app, &format!("{funds}/distributions"), distribution, "distribution", "date").await;
    let write_down =
        |on: &str| json!({"facility_id": facility, "amount": "1.00", "value_date": on, "description": "Impairment"});
    refused_then_recorded(&app, &format!("{funds}/write-downs"), write_down, "write-down", "value_date").await;
    // Cash: 50.00 paid, 10.00 deployed, 5.00 back, 10.00 distributed.
    assert_eq!(balance(&app, &fund, "1000", &today).await, "35.00");
}

/// `body(tomorrow)` posted to `path` is refused as `{kind}-in-future` on `field`, naming both
/// dates, and posts nothing; `body(today)` is recorded, and answered.
async fn refused_then_recorded(
    app: &TestApp,
    path: &str,
    body: impl Fn(&str) -> Value,
    kind: &str,
    field: &str,
) -> Value {
    let today = chrono::Utc::now().date_naive();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let before = entries(app).await;
    let refused = app.post(path, &app.staff(), &body(&tomorrow)).await;
    assert_problem(&refused, 422, Some(field));
    assert_eq!(refused.body["type"], format!("/problems/{kind}-in-future"), "{}", refused.text);
    let detail = refused.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&tomorrow) && detail.contains(&today.to_string()), "{}", refused.text);
    assert_eq!(entries(app).await, before, "a refusal posts nothing");
    created(app, path, body(&today.to_string())).await
}

/// `body` posted to `path` is refused with `code` on `effective_date`, naming `named`.
async fn refused_on(app: &TestApp, path: &str, body: Value, code: &str, named: &str) {
    let refused = app.post(path, &app.staff(), &body).await;
    assert_problem(&refused, 422, Some("effective_date"));
    assert_eq!(refused.body["type"], format!("/problems/{code}"), "{body}: {}", refused.text);
    assert!(refused.body["detail"].as_str().unwrap_or_default().contains(named), "{}", refused.text);
}

/// The fund's tranche other than `senior`.
async fn junior_of(app: &TestApp, fund: &str, senior: &str) -> String {
    let listed = app.get(&format!("/api/v1/funds/{fund}/tranches"), &app.staff()).await;
    let items = listed.body["items"].as_array().or(listed.body.as_array()).cloned().unwrap_or_default();
    items.iter().filter_map(|t| t["id"].as_str()).find(|t| *t != senior).expect("a second tranche").to_string()
}

async fn assert_committed_and_called(app: &TestApp, commitment: &str, committed: &str, called: &str) {
    let read = app.get(&format!("/api/v1/commitments/{commitment}"), &app.staff()).await;
    let figures = (read.body["committed"].as_str(), read.body["called"].as_str());
    assert_eq!(figures, (Some(committed), Some(called)), "{}", read.text);
}

/// A decrease or a cancellation must leave the commitment at least what it had been called on
/// every date from the amendment's on, even when the investor's other commitments keep the
/// investor's unfunded total (account 9000) above zero. One dated on or before the call is
/// refused outright; one dated after it can still break a date before a later increase.
async fn a_back_dated_decrease_never_leaves_a_commitment_called_above_it(app: TestApp) {
    let (fund, senior, small) = small_senior_and_large_junior(&app, "Back-dated decreases fund").await;
    let call = json!({"call_date": "2025-03-01", "due_date": "2025-03-15", "description": "All of S",
        "lines": [{"tranche_id": senior, "purpose": "expenses", "amount": "100.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/capital-calls"), call).await;
    let amend = format!("/api/v1/commitments/{small}/amendments");
    let increase = json!({"kind": "increase", "amount": "50.00", "effective_date": "2025-04-01"});
    created(&app, &amend, increase).await;
    let before = entries(&app).await;
    // Committed 100.00 - 50.00 = 50.00 from 2025-03-15, against 100.00 called on 2025-03-01.
    let decrease = |amount: &str, date: &str| json!({"kind": "decrease", "amount": amount, "effective_date": date});
    let cancel = |date: &str| json!({"kind": "cancel", "effective_date": date});
    // Each refusal names the first date it would break and what was called by then.
    refused_on(&app, &amend, decrease("50.00", "2025-02-01"), "commitment-before-call", "2025-03-01").await;
    let refusals = [
        (decrease("50.00", "2025-03-15"), "2025-03-15"),
        (decrease("0.01", "2025-03-02"), "2025-03-02"),
        (cancel("2025-03-31"), "2025-03-31"),
    ];
    for (body, first_broken) in refusals {
        let refused = app.post(&amend, &app.staff(), &body).await;
        assert_problem(&refused, 422, Some("effective_date"));
        assert_eq!(refused.body["type"], "/problems/called-above-committed", "{}", refused.text);
        let detail = refused.body["detail"].as_str().unwrap_or_default();
        // The amendment's own date is named too: where it is the first broken, it shows twice.
        let times = if body["effective_date"] == first_broken { 2 } else { 1 };
        assert!(detail.matches(first_broken).count() == times && detail.contains("100.00"), "{}", refused.text);
    }
    assert_eq!(entries(&app).await, before, "refusals post nothing");
    // From 2025-04-01 on it commits 150.00: 50.00 can go, not a cent more.
    let over = app.post(&amend, &app.staff(), &decrease("50.01", "2025-04-01")).await;
    assert_eq!(over.body["type"], "/problems/decrease-below-called", "{}", over.text);
    created(&app, &amend, cancel("2025-04-01")).await;
    assert_committed_and_called(&app, &small, "100.00", "100.00").await;
    // Unfunded (9000) on each date: S has none left from the call on; J keeps its 1,000.00.
    for (on, unfunded) in [("2025-02-28", "1100.00"), ("2025-03-31", "1000.00"), ("2025-04-01", "1000.00")] {
        assert_eq!(balance(&app, &fund, "9000", on).await, unfunded, "unfunded on {on}");
    }
}

/// A call dated before a decrease draws no more than the commitment keeps committed on every
/// date from the call's on: here 100.00 from 2025-01-10, 50.00 of it gone from 2025-02-01 and
/// 50.00 back from 2025-04-01. On 2025-01-20 it commits 100.00, and today 100.00 too, yet from
/// 2025-02-01 to 2025-03-31 only 50.00: a call dated 2025-01-20 may take 50.00, not a cent more.
/// The investor's 1,000.00 in J keeps account 9000 above zero, so no floor of the fund catches it.
async fn a_back_dated_call_never_leaves_a_commitment_called_above_it(app: TestApp) {
    let (fund, senior, small) = small_senior_and_large_junior(&app, "Back-dated calls fund").await;
    let amend = format!("/api/v1/commitments/{small}/amendments");
    created(&app, &amend, json!({"kind": "increase", "amount": "50.00", "effective_date": "2025-04-01"})).await;
    created(&app, &amend, json!({"kind": "decrease", "amount": "50.00", "effective_date": "2025-02-01"})).await;
    let calls = format!("/api/v1/funds/{fund}/capital-calls");
    let call = |date: &str, amount: &str| {
        json!({"call_date": date, "due_date": "2025-06-30", "description": "S",
        "lines": [{"tranche_id": senior, "purpose": "expenses", "amount": amount}]})
    };
    let before = entries(&app).await;
    for amount in ["100.00", "50.01"] {
        let refused = app.post(&calls, &app.staff(), &call("2025-01-20", amount)).await;
        assert_problem(&refused, 422, Some("lines"));
        assert_eq!(refused.body["type"], "/problems/call-above-unfunded", "a call of {amount}: {}", refused.text);
    }
    assert_eq!(entries(&app).await, before, "refusals post nothing");
    created(&app, &calls, call("2025-01-20", "50.00")).await;
    // Nothing is left to call before 2025-04-01; from then on, the 50.00 the increase brings.
    let refused = app.post(&calls, &app.staff(), &call("2025-03-31", "0.01")).await;
    assert_eq!(refused.body["type"], "/problems/call-above-unfunded", "{}", refused.text);
    created(&app, &calls, call("2025-04-01", "50.00")).await;
    assert_committed_and_called(&app, &small, "100.00", "100.00").await;
    // Unfunded (9000): S's 100.00 and J's 1,000.00, less what S has been called by each date.
    for (on, unfunded) in
        [("2025-01-19", "1100.00"), ("2025-01-20", "1050.00"), ("2025-02-01", "1000.00"), ("2025-04-01", "1000.00")]
    {
        assert_eq!(balance(&app, &fund, "9000", on).await, unfunded, "unfunded on {on}");
    }
}

/// The records money figures are computed from beside the journal are only ever added: the
/// database refuses changing or deleting any of them, as it does for journal entries. The demo,
/// with a write-down added here, holds rows of each.
async fn records_beside_the_journal_are_append_only(app: TestApp) {
    let (fund, _, _) = two_tranches(&app, "Append-only fund", "1000000.00", None).await;
    let facilities = app.get("/api/v1/facilities", &app.staff()).await;
    let facility = facilities.body["items"][0]["id"].as_str().expect("a demo facility").to_string();
    created(&app, &format!("/api/v1/funds/{fund}/deployments"), deployment(&facility, "1000000.00", "2025-02-01"))
        .await;
    let down =
        json!({"facility_id": facility, "amount": "100.00", "value_date": "2025-05-01", "description": "Impairment"});
    created(&app, &format!("/api/v1/funds/{fund}/write-downs"), down).await;
    const TABLES: [(&str, &str); 16] = [
        ("ledger_accounts", "name = 'Renamed'"),
        ("sources", "country = 'PL'"),
        ("waterfall_terms", "created_at = '2020-01-01 00:00:00'"),
        ("contributions", "amount_cents = amount_cents + 1"),
        ("deployments", "amount_cents = amount_cents + 1"),
        ("proceeds", "cost_returned_cents = 0"),
        ("valuations", "nav_cents = nav_cents + 1"),
        ("write_downs", "amount_cents = amount_cents + 1"),
        ("distributions", "description = 'Rewritten'"),
        ("distribution_lines", "step_kind = 'capital'"),
        ("loss_allocations", "amount_cents = amount_cents + 1"),
        ("commitment_events", "amount_cents = amount_cents + 1"),
        ("capital_calls", "description = 'Rewritten'"),
        ("capital_call_lines", "amount_cents = amount_cents + 1"),
        ("award_undertakings", "undertaking_key = 'XX:0'"),
        ("facility_prices", "price_cents = price_cents + 1"),
    ];
    for (table, change) in TABLES {
        let rows: i64 = {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let mut conn = app.conn();
            let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
            match &mut *conn {
                investai::storage::DbConnection::Sqlite(c) => query.get_result::<Count>(c),
                investai::storage::DbConnection::Postgresql(c) => query.get_result::<Count>(c),
            }
            .expect("count")
            .n
        };
        assert!(rows > 0, "the demo holds rows of {table}");
        for statement in [format!("UPDATE {table} SET {change}"), format!("DELETE FROM {table}")] {
            let refused = app.sql(&statement);
            assert!(refused.as_ref().is_err_and(|e| e.contains("is append-only")), "{statement}: {refused:?}");
        }
    }
    // Tranches, commitments and notices change only where the service moves them.
    for (statement, refusal) in [
        ("UPDATE tranches SET pref_rate = '0.5'", "tranches keeps what it was recorded with"),
        ("UPDATE tranches SET first_loss = 1 - first_loss", "tranches keeps what it was recorded with"),
        ("DELETE FROM tranches", "tranches is append-only"),
        ("UPDATE commitments SET source_id = tranche_id", "commitments keeps what it was recorded with"),
        (
            "UPDATE commitments SET called_cents = 0 WHERE called_cents > 0",
            "commitments keeps what it was recorded with",
        ),
        ("DELETE FROM commitments", "commitments is append-only"),
        ("UPDATE notices SET amount_cents = amount_cents + 1", "notices keeps what it was recorded with"),
        ("UPDATE notices SET paid_cents = 0 WHERE paid_cents > 0", "notices keeps what it was recorded with"),
        ("DELETE FROM notices", "notices is append-only"),
    ] {
        let refused = app.sql(statement);
        assert!(refused.as_ref().is_err_and(|e| e.contains(refusal)), "{statement}: {refused:?}");
    }
}

on_both_backends!(spawn = super::common::spawn_demo;
    records_beside_the_journal_are_append_only,
    a_read_sees_one_state_of_the_books_while_a_write_commits,
    back_dated_and_future_dated_spends_are_refused_on_every_date,
    a_distribution_asking_for_more_cash_than_held_is_refused,
    a_write_down_back_dated_before_a_return_of_cost_is_refused,
    a_capped_target_hands_its_excess_on_and_every_line_tells_the_truth,
    an_exact_tie_between_split_targets_goes_to_the_lower_id,
    xirr_finds_the_one_rate_of_a_deep_loss,
    nav_counts_paid_in_capital_only,
    a_call_draws_only_on_what_was_committed_on_its_date,
    a_back_dated_decrease_never_leaves_a_commitment_called_above_it,
    a_back_dated_call_never_leaves_a_commitment_called_above_it,
    a_valuation_is_never_dated_before_the_latest,
    a_commitment_is_never_dated_on_or_before_a_call_of_its_tranche_or_a_distribution,
    a_write_that_moves_nav_is_dated_after_the_latest_valuation,
    a_distribution_that_leaves_nav_as_it_is_is_dated_after_the_latest_valuation,
    a_notice_counts_the_calls_dated_by_its_own,
    records_of_what_has_happened_are_dated_on_or_before_today,
);
