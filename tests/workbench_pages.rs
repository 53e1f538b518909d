//! The staff workbench pages over HTTP on both backends: a fund's tranches, the facilities and
//! their prices, proceeds and the reversal of an entry. Each page is read as staff, each form
//! posted and its effect read back through the JSON API; with four eyes on, prices and
//! reversals are proposed instead of written; every other role is refused.

use crate::common;

use common::pages::{get, hidden, post_form, read, table_rows, Html};
use common::{created, id, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// `1250.50` → `EUR 1,250.50`, as the pages show amounts.
fn eur(decimal: &str) -> String {
    let (whole, cents) = decimal.split_once('.').unwrap_or((decimal, "00"));
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("EUR {grouped}.{cents}")
}

fn items(reply: &common::Reply) -> Vec<Value> {
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_string()
}

/// Posts a form to `action` with the CSRF token and idempotency key of a page already read.
async fn post_again(
    browser: &reqwest::Client,
    app: &TestApp,
    page: &Html,
    action: &str,
    fields: &[(&str, &str)],
) -> Html {
    let mut form = vec![
        ("csrf_token".to_string(), hidden(&page.text, "csrf_token")),
        ("idempotency_key".to_string(), hidden(&page.text, "idempotency_key")),
    ];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    read(browser.post(format!("{}{action}", app.address)).form(&form).send().await.expect("post")).await
}

async fn prices_of(app: &TestApp, facility: &str) -> Vec<Value> {
    items(&app.get(&format!("/api/v1/facilities/{facility}/prices"), &app.staff()).await)
}

async fn register_facility(app: &TestApp, name: &str) -> String {
    let body = json!({"name": name, "kind": "ai_factory", "member_state": "IT", "chip_count": 512,
        "chip_type": "NVIDIA H100", "quarterly_capacity_gpu_hours": 1_000_000});
    id(&created(app, "/api/v1/facilities", body).await)
}

/// Proceeds of `amount` received by the fund as other income; the journal entry they posted.
async fn proceeds_entry(app: &TestApp, fund: &str, amount: &str) -> Value {
    let body = json!({"amount": amount, "value_date": "2025-03-01", "description": "Interest on deposits"});
    created(app, &format!("/api/v1/funds/{fund}/proceeds"), body).await;
    let listed = app.get(&format!("/api/v1/ledger/entries?fund_id={fund}&event_type=proceeds"), &app.staff()).await;
    items(&listed).pop().expect("the proceeds entry")
}

/// (account code, debit, credit) of each posting, in line order.
fn postings(entry: &Value) -> Vec<(String, String, String)> {
    entry["postings"]
        .as_array()
        .expect("postings")
        .iter()
        .map(|p| (text(p, "account_code"), text(p, "debit"), text(p, "credit")))
        .collect()
}

/// The same postings with debit and credit swapped: what a reversal posts.
fn swapped(lines: &[(String, String, String)]) -> Vec<(String, String, String)> {
    lines.iter().map(|(code, debit, credit)| (code.clone(), credit.clone(), debit.clone())).collect()
}

/// (account, debit, credit) of each row of a postings table on a page.
fn shown_postings(page: &str, caption: &str) -> Vec<(String, String, String)> {
    table_rows(page, caption).into_iter().map(|row| (row[0].clone(), row[2].clone(), row[3].clone())).collect()
}

fn as_shown(lines: &[(String, String, String)]) -> Vec<(String, String, String)> {
    lines.iter().map(|(code, debit, credit)| (code.clone(), eur(debit), eur(credit))).collect()
}

async fn tranches_are_listed_most_senior_first_and_added_from_their_page(app: TestApp) {
    let fund = app.create_fund("Workbench fund").await;
    let junior = json!({"name": "Junior", "seniority": 3, "target_size": "500.00", "pref_rate": "0.12",
        "first_loss": true});
    created(&app, &format!("/api/v1/funds/{fund}/tranches"), junior).await;
    let staff = app.browser_as("wendy", Role::Staff, None).await;
    let path = format!("/funds/{fund}/tranches");
    let page = get(&staff, &app, &path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Tranches of Workbench fund"), "{}", page.text);

    let fields = [
        ("name", "Senior A"),
        ("seniority", "1"),
        ("target_size", "1,000,000.00"),
        ("pref_rate", "0.08"),
        ("return_cap", "1.5"),
        ("min_ticket", ""),
    ];
    let sent = post_form(&staff, &app, &path, &path, &fields).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(sent.location, format!("{path}?done=tranche"));
    let listed = items(&app.get(&format!("/api/v1/funds/{fund}/tranches"), &app.staff()).await);
    let senior = listed.iter().find(|t| t["name"] == "Senior A").expect("the tranche from the form");
    assert_eq!(
        (
            &senior["seniority"],
            &senior["target_size"],
            &senior["pref_rate"],
            &senior["return_cap"],
            &senior["first_loss"]
        ),
        (&json!(1), &json!("1000000.00"), &json!("0.08"), &json!("1.5"), &json!(false)),
        "{senior}"
    );

    let page = get(&staff, &app, &sent.location).await;
    assert!(page.text.contains("Tranche added"), "{}", page.text);
    let rows = table_rows(&page.text, "Tranches, most senior first");
    assert_eq!(
        rows,
        vec![
            vec!["Senior A", "1", "EUR 1,000,000.00", "8%", "1.5× paid-in", "no", "EUR 0.00"],
            vec!["Junior", "3", "EUR 500.00", "12%", "none", "yes", "EUR 0.00"],
        ],
        "most senior first"
    );

    // A seniority already taken is refused with the page and the input kept; nothing is added.
    let fields = [("name", "Senior B"), ("seniority", "1"), ("target_size", "10.00"), ("pref_rate", "0.05")];
    let refused = post_form(&staff, &app, &path, &path, &fields).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(refused.text.contains("seniority 1") && refused.text.contains("value=\"Senior B\""), "{}", refused.text);
    assert_eq!(table_rows(&refused.text, "Tranches, most senior first").len(), 2);
    assert_eq!(items(&app.get(&format!("/api/v1/funds/{fund}/tranches"), &app.staff()).await).len(), 2);
}

async fn a_facility_is_registered_then_priced_after_a_preview(app: TestApp) {
    let staff = app.browser_as("fabio", Role::Staff, None).await;
    let fields = [
        ("name", "Nordic Gigafactory"),
        ("kind", "gigafactory"),
        ("member_state", "FI"),
        ("chip_count", "100000"),
        ("chip_type", "NVIDIA GB200"),
        ("quarterly_capacity_gpu_hours", "200000000"),
        ("gpus_per_record_max", ""),
    ];
    let sent = post_form(&staff, &app, "/facilities", "/facilities", &fields).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    let facility = sent
        .location
        .strip_prefix("/facilities/")
        .and_then(|rest| rest.strip_suffix("/prices?done=facility"))
        .unwrap_or_else(|| panic!("to the new facility's prices: {}", sent.location))
        .to_string();
    let registered = app.get(&format!("/api/v1/facilities/{facility}"), &app.staff()).await;
    assert_eq!(registered.status, 200, "{}", registered.text);
    assert_eq!(
        (&registered.body["name"], &registered.body["member_state"], &registered.body["chip_count"]),
        (&json!("Nordic Gigafactory"), &json!("FI"), &json!(100_000)),
    );

    let path = format!("/facilities/{facility}/prices");
    let page = get(&staff, &app, &sent.location).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Facility registered") && page.text.contains("No price yet."), "{}", page.text);
    assert!(!page.text.contains("Set price"), "the price is set only once what will apply was shown");

    let price = [("effective_date", "2025-01-01"), ("price_per_gpu_hour", "2.10"), ("intent", "default")];
    let preview = post_form(&staff, &app, &path, &path, &price).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(
        preview.text.contains("New list price per GPU-hour")
            && preview.text.contains("EUR 2.10")
            && preview.text.contains("a later price is set (none is yet)"),
        "{}",
        preview.text
    );
    let set_button = preview.text.find("value=\"execute\"").expect("Set price after the preview");
    assert!(preview.text.find("New list price per GPU-hour").is_some_and(|at| at < set_button), "preview first");
    assert!(prices_of(&app, &facility).await.is_empty(), "a preview records nothing");

    let execute = [("effective_date", "2025-01-01"), ("price_per_gpu_hour", "2.10"), ("intent", "execute")];
    for _ in 0..2 {
        let set = post_again(&staff, &app, &preview, &path, &execute).await;
        assert_eq!(set.status, 303, "{}", set.text);
        assert_eq!(set.location, format!("{path}?done=price"));
    }
    let recorded = prices_of(&app, &facility).await;
    assert_eq!(recorded.len(), 1, "one price however often the form is sent: {recorded:?}");
    assert_eq!(
        (&recorded[0]["effective_date"], &recorded[0]["price_per_gpu_hour"]),
        (&json!("2025-01-01"), &json!("2.10"))
    );

    // A version on the same date is refused by the preview already, as Set price would.
    let again = post_form(&staff, &app, &path, &path, &price).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.text.contains("a new price takes a new effective date"), "{}", again.text);
    assert!(!again.text.contains("value=\"execute\""), "{}", again.text);
    // An earlier date applies until the day before the version that follows it.
    let earlier = [("effective_date", "2024-06-01"), ("price_per_gpu_hour", "1.95"), ("intent", "default")];
    let preview = post_form(&staff, &app, &path, &path, &earlier).await;
    assert!(preview.text.contains("2024-12-31 (the price from 2025-01-01 follows)"), "{}", preview.text);

    let page = get(&staff, &app, &path).await;
    assert_eq!(
        table_rows(&page.text, "Price versions, oldest first"),
        vec![vec!["2025-01-01", "EUR 2.10", "in force today"]]
    );
    let register = get(&staff, &app, "/facilities").await;
    assert_eq!(register.status, 200, "{}", register.text);
    let row = table_rows(&register.text, "Facilities")
        .into_iter()
        .find(|row| row[0] == "Nordic Gigafactory")
        .expect("the facility is listed");
    // The statement linked is the last closed quarter's.
    let today = chrono::Utc::now().date_naive();
    let this_quarter = chrono::Datelike::month0(&today) / 3 + 1;
    let year = chrono::Datelike::year(&today);
    let closed = if this_quarter == 1 { format!("{}-Q4", year - 1) } else { format!("{year}-Q{}", this_quarter - 1) };
    assert_eq!(
        row,
        vec![
            "Nordic Gigafactory".to_string(),
            "AI gigafactory".into(),
            "FI".into(),
            "100,000 × NVIDIA GB200".into(),
            "200,000,000".into(),
            "EUR 2.10".into(),
            format!("{closed} (PDF)"),
            "Prices".into(),
        ]
    );
    assert!(register.text.contains(&format!("href=\"{path}\"")), "the register links to each price page");
}

async fn proceeds_are_posted_and_reversed_by_their_negation(app: TestApp) {
    let fund = app.create_fund("Proceeds fund").await;
    let staff = app.browser_as("pablo", Role::Staff, None).await;
    let path = format!("/funds/{fund}/proceeds/new");
    let page = get(&staff, &app, &path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Proceeds fund"), "{}", page.text);
    let fields = [
        ("facility_id", ""),
        ("amount", "1250.50"),
        ("cost_returned", ""),
        ("value_date", "2025-03-01"),
        ("description", "Interest on deposits"),
    ];
    // First pressed, the form only shows the entry it would post: Dr 1000, Cr 4100, nothing posted.
    let checked = post_form(&staff, &app, &path, &path, &fields).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert!(checked.text.contains("What will be posted") && checked.text.contains("EUR 1,250.50"), "{}", checked.text);
    assert!(checked.text.contains("value=\"post\""), "the button that posts comes after the check");
    let none = app.get(&format!("/api/v1/ledger/entries?fund_id={fund}&event_type=proceeds"), &app.staff()).await;
    assert_eq!(items(&none).len(), 0, "checking posts nothing: {}", none.text);
    let mut confirmed = fields.to_vec();
    confirmed.push(("intent", "post"));
    let sent = post_form(&staff, &app, &path, &path, &confirmed).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(sent.location, format!("/funds/{fund}?done=proceeds"));
    let listed = app.get(&format!("/api/v1/ledger/entries?fund_id={fund}&event_type=proceeds"), &app.staff()).await;
    let entries = items(&listed);
    assert_eq!(entries.len(), 1, "{}", listed.text);
    let original = &entries[0];
    let lines = postings(original);
    assert!(lines.contains(&("1000".into(), "1250.50".into(), "0.00".into())), "cash debited: {lines:?}");
    let credits: Vec<&str> = lines.iter().map(|(_, _, credit)| credit.as_str()).filter(|c| *c != "0.00").collect();
    assert_eq!(credits, ["1250.50"], "{lines:?}");

    let entry = id(original);
    let sequence = original["sequence"].as_i64().expect("sequence");
    let path = format!("/ledger/entries/{entry}/reverse");
    let entry_page = get(&staff, &app, &format!("/audit/entries/{entry}")).await;
    assert!(entry_page.text.contains(&format!("href=\"{path}\"")), "the journal entry page leads to its reversal");
    let page = get(&staff, &app, &path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(shown_postings(&page.text, &format!("Postings of entry {sequence}")), as_shown(&lines));
    let will_post = shown_postings(&page.text, "Postings the reversal will post");
    assert_eq!(will_post, as_shown(&swapped(&lines)), "debit and credit swapped");
    let table_at = page.text.find("Postings the reversal will post").expect("table");
    let button_at = page.text.find("Post reversal").expect("button");
    assert!(table_at < button_at, "what will be posted is shown before the button");

    let reversal = [("effective_date", "2025-03-02"), ("reason", "Booked twice")];
    let sent = post_form(&staff, &app, &path, &path, &reversal).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(sent.location, format!("{path}?done=reversal"));
    let found = app.get(&format!("/api/v1/ledger/entries?event_type=reversal&event_id={entry}"), &app.staff()).await;
    let reversals = items(&found);
    assert_eq!(reversals.len(), 1, "{}", found.text);
    let posted = &reversals[0];
    assert_eq!(
        (text(posted, "reverses_entry_id"), text(posted, "effective_date")),
        (entry.clone(), "2025-03-02".into())
    );
    assert!(text(posted, "description").contains("Booked twice"), "{posted}");
    assert_eq!(postings(posted), swapped(&lines), "the reversal posts the original negated");
    let parties =
        |e: &Value| e["postings"].as_array().map(|p| p.iter().map(|p| p["party_id"].clone()).collect::<Vec<_>>());
    assert_eq!(parties(posted), parties(original));

    let page = get(&staff, &app, &sent.location).await;
    assert!(page.text.contains("Reversal posted") && page.text.contains("Reversed by entry"), "{}", page.text);
    assert!(!page.text.contains("Post reversal"), "an entry is reversed once");
    let again = get(&staff, &app, &format!("/ledger/entries/{}/reverse", id(posted))).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(again.text.contains("itself a reversal") && !again.text.contains("Post reversal"), "{}", again.text);
}

async fn other_roles_are_refused_every_workbench_page(app: TestApp) {
    let fund = app.create_fund("Refusing fund").await;
    let facility = register_facility(&app, "Refused Factory").await;
    let entry = id(&proceeds_entry(&app, &fund, "10.00").await);
    let source =
        id(&created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": "Iris", "country": "FR"})).await);
    let pages = [
        format!("/funds/{fund}/tranches"),
        "/facilities".to_string(),
        format!("/facilities/{facility}/prices"),
        format!("/funds/{fund}/proceeds/new"),
        format!("/ledger/entries/{entry}/reverse"),
    ];
    let users =
        [("olga", Role::Auditor, None), ("ines", Role::Investor, Some(source.as_str())), ("adam", Role::Admin, None)];
    for (name, role, party) in users {
        let browser = app.browser_as(name, role, party).await;
        let home = get(&browser, &app, "/").await;
        let csrf = hidden(&home.text, "csrf_token");
        for path in &pages {
            let page = get(&browser, &app, path).await;
            assert_eq!(page.status, 403, "{role} reads {path}");
            assert!(page.content_type.starts_with("text/html") && page.text.contains("Not allowed"), "{role}: {path}");
            let form = [("csrf_token", csrf.as_str()), ("name", "X"), ("amount", "1.00"), ("reason", "no")];
            let sent =
                read(browser.post(format!("{}{path}", app.address)).form(&form).send().await.expect("post")).await;
            assert_eq!(sent.status, 403, "{role} posts {path}");
        }
    }
    let staff = app.staff();
    assert!(items(&app.get(&format!("/api/v1/funds/{fund}/tranches"), &staff).await).is_empty());
    assert_eq!(items(&app.get("/api/v1/facilities", &staff).await).len(), 1);
    assert!(items(&app.get(&format!("/api/v1/ledger/entries?event_type=reversal&event_id={entry}"), &staff).await)
        .is_empty());
}

/// With four eyes on, the price and reversal forms propose; a second staff user's approval
/// executes what was proposed.
async fn prices_and_reversals_are_proposed_not_written(app: TestApp) {
    let fund = app.create_fund("Four eyes fund").await;
    let facility = register_facility(&app, "Proposed Factory").await;
    let original = proceeds_entry(&app, &fund, "300.00").await;
    let entry = id(&original);
    let staff = app.browser_as("petra", Role::Staff, None).await;
    let approver = app.token(Role::Staff, "victor");

    let path = format!("/facilities/{facility}/prices");
    let price = [("effective_date", "2025-01-01"), ("price_per_gpu_hour", "2.10"), ("intent", "default")];
    let preview = post_form(&staff, &app, &path, &path, &price).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(preview.text.contains("Propose price") && !preview.text.contains("Set price"), "{}", preview.text);
    let refused = post_again(
        &staff,
        &app,
        &preview,
        &path,
        &[("effective_date", "2025-01-01"), ("price_per_gpu_hour", "2.10"), ("intent", "execute")],
    )
    .await;
    assert_eq!(refused.status, 422, "a direct price is refused under four eyes: {}", refused.text);
    let propose = [("effective_date", "2025-01-01"), ("price_per_gpu_hour", "2.10"), ("intent", "propose")];
    let sent = post_again(&staff, &app, &preview, &path, &propose).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    let proposal = sent
        .location
        .strip_prefix("/proposals/")
        .and_then(|p| p.strip_suffix("?done=proposed"))
        .expect("to the proposal")
        .to_string();
    let shown = app.get(&format!("/api/v1/proposals/{proposal}"), &app.staff()).await;
    assert_eq!((text(&shown.body, "kind"), text(&shown.body, "status")), ("facility_price".into(), "pending".into()));
    assert_eq!(shown.body["operation"]["price_per_gpu_hour"], "2.10");
    let prices_path = format!("/api/v1/facilities/{facility}/prices");
    assert!(items(&app.get(&prices_path, &app.staff()).await).is_empty(), "nothing priced before approval");
    let page = get(&staff, &app, &path).await;
    assert!(
        page.text.contains(&format!("href=\"/proposals/{proposal}\"")),
        "the pending price is shown: {}",
        page.text
    );
    let approved =
        app.post(&format!("/api/v1/proposals/{proposal}/approval"), &approver, &json!({"revision": 1})).await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let prices = items(&app.get(&prices_path, &app.staff()).await);
    assert_eq!(prices.len(), 1, "{prices:?}");
    assert_eq!(prices[0]["price_per_gpu_hour"], "2.10");

    let path = format!("/ledger/entries/{entry}/reverse");
    let page = get(&staff, &app, &path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Propose reversal") && !page.text.contains("Post reversal"), "{}", page.text);
    let lines = postings(&original);
    assert_eq!(shown_postings(&page.text, "Postings the reversal will post"), as_shown(&swapped(&lines)));
    let sent =
        post_form(&staff, &app, &path, &path, &[("effective_date", "2025-03-05"), ("reason", "Wrong fund")]).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    let proposal = sent
        .location
        .strip_prefix("/proposals/")
        .and_then(|p| p.strip_suffix("?done=proposed"))
        .expect("to the proposal")
        .to_string();
    let shown = app.get(&format!("/api/v1/proposals/{proposal}"), &app.staff()).await;
    assert_eq!((text(&shown.body, "kind"), text(&shown.body, "status")), ("reversal".into(), "pending".into()));
    let previewed: Vec<(String, String, String)> = shown.body["preview"]["postings"]
        .as_array()
        .expect("previewed postings")
        .iter()
        .map(|p| (text(p, "account_code"), text(p, "debit"), text(p, "credit")))
        .collect();
    assert_eq!(previewed, swapped(&lines), "the proposal previews the original negated");
    let reversals = format!("/api/v1/ledger/entries?event_type=reversal&event_id={entry}");
    assert!(items(&app.get(&reversals, &app.staff()).await).is_empty(), "nothing posted before approval");
    let page = get(&staff, &app, &path).await;
    assert!(page.text.contains("waits for approval"), "{}", page.text);
}

async fn with_four_eyes(backend: common::Backend) -> TestApp {
    common::spawn_app_with(backend, |settings| settings.four_eyes = true).await
}

mod four_eyes {
    use super::*;
    on_both_backends!(spawn = super::with_four_eyes; prices_and_reversals_are_proposed_not_written);
}

/// A valuation and a grant call are irreversible: the first press shows the entries they would
/// post (nothing is written), the second posts them.
async fn valuations_and_grant_calls_show_their_entries_before_they_post(app: TestApp) {
    let fund = app.create_fund("Checked fund").await;
    let pool = json!({"effective_date": "2025-01-01", "description": "reserve", "postings": [
        {"account": "1010", "debit": "50000.00"}, {"account": "3900", "credit": "50000.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), pool).await;
    let facility = id(&created(
        &app,
        "/api/v1/facilities",
        json!({"name": "Checked AI", "kind": "ai_factory",
        "member_state": "FI", "chip_count": 100, "chip_type": "H100", "quarterly_capacity_gpu_hours": 1000}),
    )
    .await);
    let staff = app.browser_as("vera", Role::Staff, None).await;
    let entries = |event: &'static str| {
        let (app, fund) = (&app, fund.clone());
        async move {
            items(&app.get(&format!("/api/v1/ledger/entries?fund_id={fund}&event_type={event}"), &app.staff()).await)
                .len()
        }
    };
    let path = format!("/funds/{fund}/valuations/new");
    let fields = [("as_of", "2025-06-30"), ("nav", "0.00"), ("description", "Half-year valuation")];
    let checked = post_form(&staff, &app, &path, &path, &fields).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert!(checked.text.contains("What will be posted"), "{}", checked.text);
    assert_eq!(entries("valuation").await, 0, "checking a valuation posts nothing");
    // A write between the check and the post changes the entry the valuation would post: the
    // post is refused, nothing is written, and the new entry is shown to be checked again.
    let shown = hidden(&checked.text, "_checked");
    let owed = json!({"effective_date": "2025-06-01", "description": "audit fee owed", "postings": [
        {"account": "5010", "debit": "1000.00"}, {"account": "2100", "credit": "1000.00"}]});
    created(&app, &format!("/api/v1/funds/{fund}/journal-entries"), owed).await;
    let mut confirmed = fields.to_vec();
    confirmed.extend([("intent", "post"), ("_checked", shown.as_str())]);
    let stale = post_form(&staff, &app, &path, &path, &confirmed).await;
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert!(stale.text.contains("has changed since you checked") && stale.text.contains("1,000.00"), "{}", stale.text);
    assert_eq!(entries("valuation").await, 0, "a post of what was not checked writes nothing");
    let shown = hidden(&stale.text, "_checked");
    let mut confirmed = fields.to_vec();
    confirmed.extend([("intent", "post"), ("_checked", shown.as_str())]);
    let sent = post_form(&staff, &app, &path, &path, &confirmed).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(entries("valuation").await, 1);

    let call = [
        ("fund_id", fund.as_str()),
        ("name", "Checked call"),
        ("budget", "20000.00"),
        ("opens_at", "2025-01-01T00:00"),
        ("closes_at", "2035-01-01T00:00"),
        ("eligible_facility_ids", facility.as_str()),
        ("max_gpu_hours_per_award", "100"),
        ("aid_basis", "de_minimis"),
        ("min_reviewers", "1"),
        ("min_average_score", "50"),
    ];
    let checked = post_form(&staff, &app, "/grant-calls/new", "/grant-calls/new", &call).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    for shown in ["What will be posted", "1020", "1010", "EUR 20,000.00"] {
        assert!(checked.text.contains(shown), "{shown} missing: {}", checked.text);
    }
    let calls = app.get("/api/v1/grant-calls", &app.staff()).await;
    assert_eq!(items(&calls).len(), 0, "checking a call opens nothing: {}", calls.text);
    let mut confirmed = call.to_vec();
    confirmed.push(("intent", "post"));
    let sent = post_form(&staff, &app, "/grant-calls/new", "/grant-calls/new", &confirmed).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(items(&app.get("/api/v1/grant-calls", &app.staff()).await).len(), 1);
}

on_both_backends!(
    valuations_and_grant_calls_show_their_entries_before_they_post,
    tranches_are_listed_most_senior_first_and_added_from_their_page,
    a_facility_is_registered_then_priced_after_a_preview,
    proceeds_are_posted_and_reversed_by_their_negation,
    other_roles_are_refused_every_workbench_page,
);
