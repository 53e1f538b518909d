//! HTML pages over HTTP on both backends: every page of every demo user answers without an
//! error, investors see only their own numbers, forms write once however often they are
//! sent, and a distribution is previewed step by step before it is executed.

use crate::common;

use common::pages::{crawl, get, hidden, links, post_form, read, signed_in, table_rows};
use common::{created, id, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

async fn every_page_of_every_demo_user_answers(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    for user in &fixture.users {
        let browser = signed_in(&app, &user.username, &user.password).await;
        let pages = crawl(&browser, &app, &user.username).await.len();
        assert!(pages >= 2, "{} reached {pages} pages", user.username);
    }
}

pub struct TwoInvestors {
    pub fund: String,
    pub alpha: String,
    pub beta: String,
}

/// Alpha commits 600.00 and Beta 400.00 to one tranche; a call of 100.00 gives each a notice.
pub async fn two_investors(app: &TestApp) -> TwoInvestors {
    let fund = app.create_fund("Pages fund").await;
    let body = json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08"});
    let tranche = id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), body).await);
    let mut ids = Vec::new();
    for (name, amount) in [("Alpha Capital", "600.00"), ("Beta Pension", "400.00")] {
        let source =
            id(&created(app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"})).await);
        let body =
            json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2024-12-01"});
        created(app, &format!("/api/v1/funds/{fund}/commitments"), body).await;
        ids.push(source);
    }
    let terms = json!({"steps": [{"type": "capital", "tranches": [tranche], "mode": "sequential"},
        {"type": "split", "shares": [{"tranche": tranche, "percent": "100"}]}]});
    created(app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    let body = json!({"call_date": "2025-01-01", "due_date": "2025-02-01", "description": "Set-up fees",
        "lines": [{"tranche_id": tranche, "purpose": "fees", "amount": "100.00"}]});
    created(app, &format!("/api/v1/funds/{fund}/capital-calls"), body).await;
    TwoInvestors { fund, alpha: ids[0].clone(), beta: ids[1].clone() }
}

async fn investors_see_only_their_own_numbers(app: TestApp) {
    let f = two_investors(&app).await;
    let alpha = app.browser_as("alpha", Role::Investor, Some(&f.alpha)).await;
    let home = get(&alpha, &app, "/").await;
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(
        home.text.contains("EUR 600.00") && home.text.contains("EUR 60.00"),
        "own commitment and call: {}",
        home.text
    );
    assert!(!home.text.contains("400.00") && !home.text.contains("EUR 40.00"), "another's numbers: {}", home.text);
    // A decrease that takes effect later leaves today's figures as they are.
    let commitments = app.get(&format!("/api/v1/funds/{}/commitments", f.fund), &app.staff()).await;
    let own = commitments.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["source_id"] == f.alpha.as_str()).map(id));
    let decrease = json!({"kind": "decrease", "amount": "100.00", "effective_date": "2099-12-31"});
    let amend = format!("/api/v1/commitments/{}/amendments", own.expect("alpha's commitment"));
    created(&app, &amend, decrease).await;
    let home = get(&alpha, &app, "/").await;
    let rows = table_rows(&home.text, "Your commitments by tranche");
    assert_eq!(rows, [["Senior", "EUR 600.00", "EUR 60.00", "EUR 0.00", "EUR 540.00"]], "as of today");
    // A second fund without waterfall terms yet shows what was committed, and the first fund
    // its figures as before.
    let termless = app.create_fund("Termless fund").await;
    let body = json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08"});
    let tranche = id(&created(&app, &format!("/api/v1/funds/{termless}/tranches"), body).await);
    let body = json!({"source_id": f.alpha, "tranche_id": tranche, "amount": "250.00", "effective_date": "2024-12-01"});
    created(&app, &format!("/api/v1/funds/{termless}/commitments"), body).await;
    let home = get(&alpha, &app, "/").await;
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(home.text.contains("EUR 250.00") && home.text.contains("EUR 60.00"), "both funds: {}", home.text);
    let notices = get(&alpha, &app, "/notices").await;
    assert!(notices.text.contains("Alpha Capital") && !notices.text.contains("Beta Pension"), "{}", notices.text);
    let others = get(&alpha, &app, &format!("/statements/{}/{}", f.fund, f.beta)).await;
    assert_eq!(others.status, 404);
    assert!(others.content_type.starts_with("text/html") && !others.text.contains("Beta Pension"), "{}", others.text);
    for staff_only in [format!("/funds/{}", f.fund), "/audit/journal".into(), "/sources".into(), "/review".into()] {
        let page = get(&alpha, &app, &staff_only).await;
        assert_eq!(page.status, 403, "{staff_only}");
        assert!(page.content_type.starts_with("text/html"), "{staff_only}: {}", page.content_type);
    }
}

async fn a_form_sent_twice_records_once_and_a_forged_one_not_at_all(app: TestApp) {
    let f = two_investors(&app).await;
    let staff = app.browser_as("stan", Role::Staff, None).await;
    let body = json!({"kind": "private", "legal_name": "Gamma Bank", "country": "DE"});
    let source = id(&created(&app, "/api/v1/sources", body).await);
    let tranches = app.get(&format!("/api/v1/funds/{}/tranches", f.fund), &app.staff()).await;
    let tranche = tranches.body["items"].as_array().and_then(|t| t.first()).map(id).expect("a tranche");
    let page_path = format!("/funds/{}/commitments/new", f.fund);
    let page = get(&staff, &app, &page_path).await;
    let form = vec![
        ("csrf_token", hidden(&page.text, "csrf_token")),
        ("idempotency_key", hidden(&page.text, "idempotency_key")),
        ("source_id", source.clone()),
        ("tranche_id", tranche.clone()),
        ("amount", "50.00".to_string()),
        ("effective_date", "2025-03-01".to_string()),
        ("allow_oversubscription", "true".to_string()),
    ];
    let url = format!("{}{page_path}", app.address);
    for _ in 0..2 {
        let sent = read(staff.post(&url).form(&form).send().await.expect("post")).await;
        assert_eq!(sent.status, 303, "{}", sent.text);
        assert_eq!(sent.location, format!("/funds/{}?done=commitment", f.fund));
    }
    let count = |body: &Value| body["items"].as_array().map_or(0, Vec::len);
    let listed = app.get(&format!("/api/v1/funds/{}/commitments", f.fund), &app.staff()).await;
    assert_eq!(count(&listed.body), 3, "two set-up commitments and one from the form: {}", listed.text);

    let mut forged = form.clone();
    forged[0].1 = "00".into();
    forged[1].1 = uuid::Uuid::new_v4().to_string();
    let refused = read(staff.post(&url).form(&forged).send().await.expect("post")).await;
    assert_eq!(refused.status, 403);
    assert!(refused.content_type.starts_with("text/html"), "{}", refused.content_type);
    let listed = app.get(&format!("/api/v1/funds/{}/commitments", f.fund), &app.staff()).await;
    assert_eq!(count(&listed.body), 3, "a forged form writes nothing");

    let mut control = form.clone();
    control[1].1 = uuid::Uuid::new_v4().to_string();
    control[2].1 = "\0".into();
    let refused = read(staff.post(&url).form(&control).send().await.expect("post")).await;
    assert_eq!(refused.status, 400, "a control character names no source: {}", refused.text);
    assert!(refused.text.contains("source_id"), "{}", refused.text);
    let listed = app.get(&format!("/api/v1/funds/{}/commitments", f.fund), &app.staff()).await;
    assert_eq!(count(&listed.body), 3, "a refused form writes nothing");

    let shown = get(&staff, &app, &format!("/funds/{}?done=commitment", f.fund)).await;
    assert!(shown.text.contains("Commitment recorded."));
    let spoofed = get(&staff, &app, &format!("/funds/{}?done=%3Cb%3EYou+won%3C%2Fb%3E", f.fund)).await;
    assert!(!spoofed.text.contains("You won"), "a link cannot make a page say anything");
}

async fn a_distribution_is_previewed_step_by_step_then_executed_once(app: TestApp) {
    let f = two_investors(&app).await;
    let notices = app.get("/api/v1/notices", &app.staff()).await;
    for notice in notices.body["items"].as_array().expect("notices") {
        let body = json!({"amount": notice["amount"], "value_date": "2025-01-15"});
        created(&app, &format!("/api/v1/notices/{}/contributions", id(notice)), body).await;
    }
    let body = json!({"effective_date": "2025-06-30", "description": "cash for the distribution", "postings": [
        {"account": "1000", "debit": "150.00"}, {"account": "3900", "credit": "150.00"}]});
    created(&app, &format!("/api/v1/funds/{}/journal-entries", f.fund), body).await;
    let entries = |reply: &common::Reply| reply.body["items"].as_array().map_or(0, Vec::len);
    let before = entries(&app.get("/api/v1/ledger/entries?limit=500", &app.auditor()).await);

    let staff = app.browser_as("dora", Role::Staff, None).await;
    let page_path = format!("/funds/{}/distributions/new", f.fund);
    let fields =
        [("cash", "150.00"), ("date", "2025-07-01"), ("description", "First distribution"), ("intent", "default")];
    let preview = post_form(&staff, &app, &page_path, &page_path, &fields).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(
        preview.text.contains("Waterfall steps") && preview.text.contains("Distribution by investor"),
        "{}",
        preview.text
    );
    assert!(
        preview.text.contains("Alpha Capital") && preview.text.contains("EUR 90.00"),
        "60% of 150.00: {}",
        preview.text
    );
    let after_preview = entries(&app.get("/api/v1/ledger/entries?limit=500", &app.auditor()).await);
    assert_eq!(after_preview, before, "a preview posts nothing");

    let key = hidden(&preview.text, "idempotency_key");
    let execute = [
        ("csrf_token", hidden(&preview.text, "csrf_token")),
        ("idempotency_key", key),
        ("cash", "150.00".into()),
        ("date", "2025-07-01".into()),
        ("description", "First distribution".into()),
        ("intent", "execute".into()),
    ];
    for _ in 0..2 {
        let url = format!("{}{page_path}", app.address);
        let done = read(staff.post(url).form(&execute).send().await.expect("execute")).await;
        assert_eq!(done.status, 303, "{}", done.text);
    }
    let after = entries(&app.get("/api/v1/ledger/entries?limit=500", &app.auditor()).await);
    assert_eq!(after, before + 1, "one distribution entry, however often the form is sent");
}

async fn auditors_download_exports_with_their_session_and_investors_cannot(app: TestApp) {
    let f = two_investors(&app).await;
    let auditor = app.browser_as("audrey", Role::Auditor, None).await;
    let page = get(&auditor, &app, &format!("/audit/exports?fund_id={}&as_of=2025-12-31", f.fund)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let downloads: Vec<String> = links(&page.text).into_iter().filter(|l| l.contains("/exports/")).collect();
    assert_eq!(downloads.len(), 8, "{downloads:?}");
    // The entries with their proofs need a signed checkpoint.
    let signed = common::investai(&app.database_url)
        .env("INVESTAI_CHECKPOINT_SIGNING_KEY", common::TEST_CHECKPOINT_KEY)
        .arg("checkpoint")
        .output()
        .expect("run checkpoint");
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    for link in &downloads {
        let response = auditor.get(format!("{}{link}", app.address)).send().await.expect("download");
        assert_eq!(response.status().as_u16(), 200, "{link}");
        let as_of = response.headers().get("x-ledger-as-of").and_then(|v| v.to_str().ok()).map(str::to_string);
        assert_eq!(as_of.as_deref(), Some("2025-12-31"), "{link}");
        assert!(response.headers().contains_key("x-ledger-last-hash"), "{link}");
    }
    let investor = app.browser_as("ivan", Role::Investor, Some(&f.alpha)).await;
    let refused = get(&investor, &app, &downloads[0]).await;
    assert_eq!(refused.status, 403, "an investor cannot download the journal");
}

/// A contribution and a deployment are checked first: the entries they would post are shown
/// and nothing is written; the second press posts them.
async fn contributions_and_deployments_show_their_entries_before_they_post(app: TestApp) {
    let f = two_investors(&app).await;
    let staff = app.browser_as("paula", Role::Staff, None).await;
    let notices = app.get("/api/v1/notices", &app.staff()).await;
    let notice = notices.body["items"][0].clone();
    let path = format!("/notices/{}/pay", id(&notice));
    let amount = notice["amount"].as_str().expect("amount").to_string();
    let fields = [("amount", amount.as_str()), ("value_date", "2025-01-15")];
    let checked = post_form(&staff, &app, &path, &path, &fields).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert!(checked.text.contains("What will be posted") && checked.text.contains("1000"), "{}", checked.text);
    let entries = |event: &'static str| {
        let (app, fund) = (&app, f.fund.clone());
        async move {
            let list =
                app.get(&format!("/api/v1/ledger/entries?fund_id={fund}&event_type={event}"), &app.staff()).await;
            list.body["items"].as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(entries("contribution").await, 0, "checking a contribution posts nothing");
    let sent = post_form(&staff, &app, &path, &path, &[fields[0], fields[1], ("intent", "post")]).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(entries("contribution").await, 1);

    let facility = id(&created(
        &app,
        "/api/v1/facilities",
        json!({"name": "Pages AI", "kind": "ai_factory",
        "member_state": "FI", "chip_count": 10, "chip_type": "H100", "quarterly_capacity_gpu_hours": 100}),
    )
    .await);
    let path = format!("/funds/{}/deployments/new", f.fund);
    let fields = [
        ("facility_id", facility.as_str()),
        ("kind", "equity"),
        ("amount", "10.00"),
        ("value_date", "2025-02-01"),
        ("description", "Equity stake"),
    ];
    let checked = post_form(&staff, &app, &path, &path, &fields).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert!(checked.text.contains("What will be posted") && checked.text.contains("EUR 10.00"), "{}", checked.text);
    assert_eq!(entries("deployment").await, 0, "checking a deployment posts nothing");
    let mut confirmed = fields.to_vec();
    confirmed.push(("intent", "post"));
    let sent = post_form(&staff, &app, &path, &path, &confirmed).await;
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert_eq!(entries("deployment").await, 1);
}

/// Follows a list's "Next page" links from `first`, at most `pages` pages; the cells of column
/// `column` of the table `caption`, page after page.
async fn walk_list(browser: &reqwest::Client, app: &TestApp, first: &str, caption: &str, column: usize) -> Vec<String> {
    const PAGES_MAX: usize = 20;
    let mut cells = Vec::new();
    let mut path = Some(first.to_string());
    for _ in 0..PAGES_MAX {
        let Some(here) = path.take() else { break };
        let page = get(browser, app, &here).await;
        assert_eq!(page.status, 200, "{here}: {}", page.text);
        let rows = common::pages::table_rows(&page.text, caption);
        assert!(rows.len() <= 2, "{here}: at most the limit of 2 rows: {rows:?}");
        cells.extend(rows.into_iter().map(|row| row[column].clone()));
        path = links(&page.text).into_iter().find(|l| l.contains("after="));
    }
    assert!(path.is_none(), "{first}: ends within {PAGES_MAX} pages");
    cells
}

/// Sources, users and a facility's awards show a page at a time on their pages, as in the API:
/// walked two by two through "Next page" they give every item once, in the order the test works
/// out itself. The commitment form's source menu starts at a name; the inbox lists the awards
/// that end within 30 days and no other.
async fn long_lists_page_on_their_pages(app: TestApp) {
    for name in ["Zeta Capital", "Alpha Partners", "Mu Holdings", "Beta Fund", "Kappa Bank"] {
        created(&app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "DE"})).await;
    }
    let staff = app.browser_as("lists-staff", Role::Staff, None).await;
    let mut names = vec!["Alpha Partners", "Beta Fund", "Kappa Bank", "Mu Holdings", "Zeta Capital"];
    names.sort_unstable();
    assert_eq!(walk_list(&staff, &app, "/sources?limit=2", "Sources of capital", 0).await, names);
    let unknown = get(&staff, &app, &format!("/sources?after={}", uuid::Uuid::new_v4())).await;
    assert_eq!(unknown.status, 400, "an after that names no source: {}", unknown.text);
    // A malformed query on a page answers an error page, not the API's JSON.
    for path in ["/sources?limit=0", "/sources?sort=name", "/audit/journal?from=yesterday"] {
        let refused = get(&staff, &app, path).await;
        assert_eq!(refused.status, 400, "{path}: {}", refused.text);
        assert!(refused.content_type.starts_with("text/html"), "{path}: {} {}", refused.content_type, refused.text);
    }

    let fund = app.create_fund("Lists fund").await;
    let menu = get(&staff, &app, &format!("/funds/{fund}/commitments/new?sources_from=Kappa")).await;
    assert_eq!(menu.status, 200, "{}", menu.text);
    let offered: Vec<&str> = menu.text.split("<option").skip(1).filter_map(|o| o.split('>').nth(1)).collect();
    let offered: Vec<&str> =
        offered.iter().filter_map(|o| o.split(" (DE)").next()).filter(|o| names.contains(o)).collect();
    assert_eq!(offered, ["Kappa Bank", "Mu Holdings", "Zeta Capital"], "{}", menu.text);
    let control = get(&staff, &app, &format!("/funds/{fund}/commitments/new?sources_from=%00")).await;
    assert_eq!(control.status, 400, "a control character is no name: {}", control.text);

    let admin = app.browser_as("lists-admin", Role::Admin, None).await;
    for n in 0..3 {
        let body =
            json!({"username": format!("lists-user-{n}"), "role": "auditor", "password": "a long enough password"});
        let reply = app.post("/api/v1/users", &app.token(Role::Admin, "root"), &body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let users = app.get("/api/v1/users?limit=500", &app.token(Role::Admin, "root")).await;
    let mut usernames: Vec<String> = users.body["items"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().expect("name").into())
        .collect();
    usernames.sort_unstable();
    assert!(usernames.len() >= 5, "{usernames:?}");
    assert_eq!(walk_list(&admin, &app, "/admin/users?limit=2", "Users", 0).await, usernames);

    let g = crate::grants::setup(&app, "1000000.00", 1_000_000).await;
    let call = crate::grants::open_call(&app, &g, "100000.00", "de_minimis", "50000", 1).await;
    let today = chrono::Utc::now().date_naive();
    let mut awards = Vec::new();
    for (n, ends_in_days) in [40, 10, 50].into_iter().enumerate() {
        let mut body = crate::grants::application(&g, &format!("RCS-LIST{n}"), "10");
        body["start_date"] = json!(today.to_string());
        body["end_date"] = json!((today + chrono::Duration::days(ends_in_days)).to_string());
        let application = crate::grants::reviewed(&app, &call, &format!("sme-lists-{n}"), &body, 1).await;
        let award = crate::grants::award(&app, &application, json!({})).await;
        assert_eq!(award.status, 201, "{}", award.text);
        awards.push(award.body["id"].as_str().expect("award id").to_string());
    }
    let operator = app.browser_as("lists-operator", Role::Facility, Some(&g.facility)).await;
    let mut by_id = awards.clone();
    by_id.sort_unstable();
    assert_eq!(walk_list(&operator, &app, "/?limit=2", "Awards at this facility", 0).await, by_id);
    let inbox = get(&staff, &app, "/inbox").await;
    assert_eq!(inbox.status, 200, "{}", inbox.text);
    let ending = common::pages::table_rows(&inbox.text, "Awards ending within 30 days");
    let ends: Vec<String> = ending.iter().map(|row| row[1].clone()).collect();
    assert_eq!(ends, [(today + chrono::Duration::days(10)).to_string()], "{ending:?}");
}

on_both_backends!(
    contributions_and_deployments_show_their_entries_before_they_post,
    every_page_of_every_demo_user_answers,
    investors_see_only_their_own_numbers,
    a_form_sent_twice_records_once_and_a_forged_one_not_at_all,
    a_distribution_is_previewed_step_by_step_then_executed_once,
    auditors_download_exports_with_their_session_and_investors_cannot,
    long_lists_page_on_their_pages,
);
