//! The staff workbench pages over HTTP on both backends: a fund's tranches, the facilities and
//! their prices. Each page is read as staff, each form posted and its effect read back through
//! the JSON API; with four eyes on, prices are proposed instead of written; every other role is
//! refused.

mod common;

use common::pages::{get, hidden, post_form, read, Html};
use common::{created, id, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

/// The cells of each body row of the table with `caption`, as text.
fn table_rows(page: &str, caption: &str) -> Vec<Vec<String>> {
    let start = page.find(&format!("<caption>{caption}</caption>")).unwrap_or_else(|| panic!("no table {caption:?}"));
    let table = &page[start..];
    let table = &table[..table.find("</table>").expect("end of table")];
    let body = table.split("<tbody>").nth(1).expect("table body");
    body.split("<tr>")
        .skip(1)
        .map(|row| row.split("<td").skip(1).map(|cell| text_of(&format!("<td{cell}"))).collect())
        .collect()
}

fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&").trim().to_string()
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
    assert_eq!(
        row,
        vec![
            "Nordic Gigafactory",
            "AI gigafactory",
            "FI",
            "100,000 × NVIDIA GB200",
            "200,000,000",
            "EUR 2.10",
            "Prices"
        ]
    );
    assert!(register.text.contains(&format!("href=\"{path}\"")), "the register links to each price page");
}

async fn other_roles_are_refused_every_workbench_page(app: TestApp) {
    let fund = app.create_fund("Refusing fund").await;
    let facility = register_facility(&app, "Refused Factory").await;
    let source =
        id(&created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": "Iris", "country": "FR"})).await);
    let pages =
        [format!("/funds/{fund}/tranches"), "/facilities".to_string(), format!("/facilities/{facility}/prices")];
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
            let form = [("csrf_token", csrf.as_str()), ("name", "X"), ("price_per_gpu_hour", "1.00")];
            let sent =
                read(browser.post(format!("{}{path}", app.address)).form(&form).send().await.expect("post")).await;
            assert_eq!(sent.status, 403, "{role} posts {path}");
        }
    }
    let staff = app.staff();
    assert!(items(&app.get(&format!("/api/v1/funds/{fund}/tranches"), &staff).await).is_empty());
    assert_eq!(items(&app.get("/api/v1/facilities", &staff).await).len(), 1);
    assert!(prices_of(&app, &facility).await.is_empty());
}

/// With four eyes on, the price form proposes; a second staff user's approval executes what was
/// proposed.
async fn prices_are_proposed_not_written(app: TestApp) {
    let facility = register_facility(&app, "Proposed Factory").await;
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
}

async fn with_four_eyes(backend: common::Backend) -> TestApp {
    common::spawn_app_with(backend, |settings| settings.four_eyes = true).await
}

mod four_eyes {
    use super::*;
    on_both_backends!(spawn = super::with_four_eyes; prices_are_proposed_not_written);
}

on_both_backends!(
    tranches_are_listed_most_senior_first_and_added_from_their_page,
    a_facility_is_registered_then_priced_after_a_preview,
    other_roles_are_refused_every_workbench_page,
);
