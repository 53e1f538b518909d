//! Browser tests: headless Chromium drives the real server through its HTML pages.
//! Screenshots land in `target/screenshots/<test>-<name>.png`. See docs/testing.md.

use crate::common;
#[macro_use]
mod harness;
mod every_page;

use base64::Engine as _;
use common::{created, id, TestApp};
use fantoccini::key::Key;
use harness::{add_user, Browser, PASSWORD, PHONE};
use investai::domain::roles::Role;
use serde_json::json;

/// The links of the main navigation, as read from the page.
const MAIN_NAV_LINKS: &str = "nav[aria-label='Main'] a";

/// What each role's main navigation offers, as (label, href), in order. The one place to
/// update when the navigation grows.
const NAVIGATION: [(Role, &[(&str, &str)]); 6] = [
    (
        Role::Staff,
        &[
            ("Home", "/"),
            ("Inbox", "/inbox"),
            ("Sources", "/sources"),
            ("Facilities", "/facilities"),
            ("Grant calls", "/grant-calls"),
            ("Review queue", "/review"),
            ("Proposals", "/proposals"),
            ("Journal", "/audit/journal"),
            ("API reference", "/api/docs/"),
        ],
    ),
    (Role::Investor, &[("Home", "/"), ("Notices", "/notices"), ("Documents", "/documents")]),
    (
        Role::Auditor,
        &[
            ("Home", "/"),
            ("Journal", "/audit/journal"),
            ("Trial balance", "/audit/trial-balance"),
            ("Hash chain", "/audit/chain"),
            ("Exports", "/audit/exports"),
            ("API reference", "/api/docs/"),
        ],
    ),
    (
        Role::Sme,
        &[
            ("Home", "/"),
            ("Grant calls", "/grant-calls"),
            ("My applications", "/applications"),
            ("Company profile", "/profile"),
        ],
    ),
    (Role::Facility, &[("Home", "/"), ("Upload usage", "/facility/usage")]),
    (
        Role::Admin,
        &[("Home", "/"), ("Users", "/admin/users"), ("Proposals", "/proposals"), ("API reference", "/api/docs/")],
    ),
];

/// The heading of each role's home page.
fn home_heading(role: Role) -> &'static str {
    match role {
        Role::Staff => "Fund administration",
        Role::Investor => "Your positions",
        Role::Auditor => "Audit",
        Role::Sme => "Compute grants",
        // The facility's own name, as registered for its operator (`party_of`).
        Role::Facility => "facility-party-1",
        Role::Admin => "Users",
    }
}

/// The party a party-bound test user acts for.
fn party_of(role: Role) -> Option<String> {
    role.is_party_bound().then(|| format!("{}-party-1", role.as_str()))
}

async fn each_role_signs_in_and_sees_its_home_and_navigation(app: &TestApp, browser: &Browser) {
    for (role, expected) in NAVIGATION {
        let username = format!("{}-user", role.as_str());
        let party = party_of(role);
        browser.sign_in_new(app, &username, role, party.as_deref()).await;
        browser.assert_not_error_page().await;
        assert_eq!(browser.text_of("h1").await, home_heading(role));
        assert_eq!(
            browser.text_of(".who").await,
            format!("{username} · {}", investai::i18n::Lang::En.name_of("role", role.as_str()))
        );
        let links = browser.links(MAIN_NAV_LINKS).await;
        let expected: Vec<(String, String)> = expected.iter().map(|(l, h)| (l.to_string(), h.to_string())).collect();
        assert_eq!(links, expected, "navigation of {role}");
        browser.screenshot(&format!("home-{role}")).await;
        for (label, href) in &links {
            let (status, content_type) = browser.fetch(href).await;
            assert_eq!((status, content_type.as_str()), (200, "text/html"), "{role}: {label} ({href})");
        }
        browser.sign_out().await;
        assert_eq!(browser.current_path().await, "/login", "{role} signed out");
    }
}

async fn a_wrong_password_is_refused_with_the_reason_next_to_the_field(app: &TestApp, browser: &Browser) {
    add_user(app, "sara", Role::Staff, None, PASSWORD).await;
    browser.login("sara", "not the password").await;
    assert_eq!(browser.current_path().await, "/login");
    assert_eq!(browser.status().await, 401);
    browser.assert_not_error_page().await;
    let reason = browser.field_error("username").await.expect("the user name field names its error");
    assert!(reason.contains("wrong password"), "{reason}");
    assert!(browser.exists("[role=alert]").await, "the reason is announced");
    assert_eq!(browser.value_of("username").await, "sara", "user name kept");
    assert_eq!(browser.value_of("password").await, "", "password not echoed");
    browser.screenshot("refused").await;
    browser.login("sara", PASSWORD).await;
    assert_eq!(browser.current_path().await, "/");
}

async fn signing_out_returns_to_the_login_page_for_good(app: &TestApp, browser: &Browser) {
    browser.sign_in_new(app, "olga", Role::Auditor, None).await;
    browser.sign_out().await;
    assert_eq!(browser.current_path().await, "/login");
    browser.assert_not_error_page().await;
    browser.goto("/").await;
    assert_eq!(browser.current_path().await, "/login", "the session is gone");
}

/// Posts `body` as staff and returns the created resource.
async fn an_investor_sees_its_own_notice_and_statement_and_not_anothers(app: &TestApp, browser: &Browser) {
    let fund = app.create_fund("Browser fund").await;
    let body = json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08"});
    let tranche = id(&created(app, &format!("/api/v1/funds/{fund}/tranches"), body).await);
    let mut investors = Vec::new();
    for (name, amount) in [("Alpha Capital", "600.00"), ("Beta Pension", "400.00")] {
        let source =
            id(&created(app, "/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"})).await);
        let body =
            json!({"source_id": source, "tranche_id": tranche, "amount": amount, "effective_date": "2024-12-01"});
        created(app, &format!("/api/v1/funds/{fund}/commitments"), body).await;
        investors.push(source);
    }
    let body = json!({"call_date": "2025-01-01", "due_date": "2025-02-01", "description": "Set-up fees",
        "lines": [{"tranche_id": tranche, "purpose": "fees", "amount": "100.00"}]});
    let terms = json!({"steps": [{"type": "capital", "tranches": [tranche], "mode": "sequential"},
        {"type": "split", "shares": [{"tranche": tranche, "percent": "100"}]}]});
    created(app, &format!("/api/v1/funds/{fund}/waterfall"), terms).await;
    let call = id(&created(app, &format!("/api/v1/funds/{fund}/capital-calls"), body).await);
    let notices = app.get(&format!("/api/v1/notices?call_id={call}"), &app.staff()).await;
    let notices = notices.body["items"].as_array().cloned().expect("notices");
    let notice_of = |investor: &str| id(notices.iter().find(|n| n["investor_id"] == investor).expect("notice"));
    let (own, other) = (notice_of(&investors[0]), notice_of(&investors[1]));

    browser.sign_in_new(app, "alpha", Role::Investor, Some(&investors[0])).await;
    browser.goto(&format!("/notices/{own}")).await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Capital call notice") && text.contains("Alpha Capital") && text.contains("EUR 60.00"),
        "{text}"
    );
    browser.screenshot_full_page("own-notice").await;
    browser.goto(&format!("/statements/{fund}/{}?from=2025-01-01&to=2025-12-31", investors[0])).await;
    browser.assert_not_error_page().await;
    assert!(browser.page_text().await.contains("Closing balance"));

    for path in [format!("/notices/{other}"), format!("/statements/{fund}/{}?from=2025-01-01", investors[1])] {
        browser.goto(&path).await;
        assert_eq!(browser.status().await, 404, "{path}");
        let text = browser.page_text().await;
        assert!(text.to_lowercase().contains("not found"), "{path} says it is not found: {text}");
        assert!(!text.contains("Beta Pension") && !text.contains("40.00"), "{path} shows another's data: {text}");
    }
    browser.screenshot("others-notice").await;
}

/// Scripts that take the CSRF token out of every form on the page: a wrong one, or none.
const FORGE_CSRF: &str = "document.querySelectorAll('input[name=csrf_token]').forEach(f => f.value = '00');";
const DROP_CSRF: &str = "document.querySelectorAll('input[name=csrf_token]').forEach(f => f.remove());";

async fn a_form_without_a_valid_csrf_token_is_refused(app: &TestApp, browser: &Browser) {
    browser.sign_in_new(app, "frank", Role::Staff, None).await;
    for (tamper, refusal) in [(FORGE_CSRF, 403), (DROP_CSRF, 403)] {
        browser.goto("/").await;
        browser.client().execute(tamper, vec![]).await.expect("tamper with the form");
        browser.sign_out().await;
        assert_eq!(browser.status().await, refusal, "{}", browser.page_text().await);
        browser.goto("/").await;
        assert_eq!(browser.current_path().await, "/", "a refused sign-out leaves the session");
    }
    browser.sign_out().await;

    for (tamper, refusal) in [(FORGE_CSRF, 403), (DROP_CSRF, 403)] {
        browser.goto("/login").await;
        browser.client().execute(tamper, vec![]).await.expect("tamper with the form");
        browser.fill("username", "frank").await;
        browser.fill("password", PASSWORD).await;
        browser.submit("Sign in").await;
        assert_eq!(browser.status().await, refusal, "{}", browser.page_text().await);
        browser.goto("/").await;
        assert_eq!(browser.current_path().await, "/login", "a refused sign-in signs nobody in");
    }
}

async fn keyboard_users_reach_the_skip_link_first(app: &TestApp, browser: &Browser) {
    for path in ["/login", "/"] {
        if path == "/" {
            browser.sign_in_new(app, "kim", Role::Investor, Some("kim-party")).await;
        }
        browser.goto(path).await;
        browser.press(Key::Tab).await;
        browser.assert_focus("a[href='#main']").await;
        let (x, y, width, height) =
            browser.client().active_element().await.expect("focused element").rectangle().await.expect("its position");
        assert!(x >= 0.0 && y >= 0.0 && width > 0.0 && height > 0.0, "the focused skip link is on screen");
        browser.screenshot(&format!("skip-link{}", path.replace('/', "-"))).await;
    }
}

/// What the issue asks of every page: a refusal or a missing page is one of the site's pages
/// (header, navigation, the reason in words), not the API's problem JSON.
async fn refusals_and_missing_pages_are_site_pages(app: &TestApp, browser: &Browser) {
    browser.sign_in_new(app, "nina", Role::Investor, Some("nina-party")).await;
    browser.goto("/notices/01a2093b-83fb-71f2-80cd-b28d86f67bfc").await;
    assert_eq!(browser.status().await, 404);
    browser.assert_not_error_page().await;
    browser.screenshot("not-found").await;
    browser.goto("/").await;
    browser.client().execute(FORGE_CSRF, vec![]).await.expect("forge the token");
    browser.sign_out().await;
    assert_eq!(browser.status().await, 403);
    browser.assert_not_error_page().await;
    browser.screenshot("refused-form").await;
}

/// The helpers that the current pages do not use yet (selects, date fields, labels with
/// quotes, reasons tied to fields) on a page of their own.
async fn the_harness_fills_selects_dates_and_reads_field_errors(_app: &TestApp, browser: &Browser) {
    let page = r#"<!doctype html><title>form</title><main><form>
        <label for="kind">Kind</label><select id="kind"><option value="a">Alpha</option><option value="b">Beta</option></select>
        <label for="start">Start</label><input id="start" type="date">
        <label for="hours">Hours</label><input id="hours" aria-describedby="hours-error" aria-invalid="true">
        <p id="hours-error">must be a whole number</p>
        <button type="button" onclick="document.title = 'clicked'">Don't "save"</button></form></main>"#;
    let url = format!("data:text/html;base64,{}", base64::engine::general_purpose::STANDARD.encode(page));
    browser.client().goto(&url).await.expect("open the form");
    browser.select("kind", "b").await;
    assert_eq!(browser.value_of("kind").await, "b");
    browser.select("kind", "Alpha").await;
    assert_eq!(browser.value_of("kind").await, "a", "by label");
    browser.fill("start", "2025-03-31").await;
    assert_eq!(browser.value_of("start").await, "2025-03-31");
    browser.fill("hours", "12.5").await;
    assert_eq!(browser.field_error("hours").await.as_deref(), Some("must be a whole number"));
    assert_eq!(browser.field_error("start").await, None);
    browser.click("button").await;
    assert_eq!(browser.client().title().await.expect("title"), "clicked");
    let quoted = browser.client().find(fantoccini::Locator::XPath(&harness::button_xpath(r#"Don't "save""#))).await;
    assert!(quoted.is_ok(), "a label with both quotes is found");
}

async fn the_login_page_fits_a_phone(_app: &TestApp, browser: &Browser) {
    browser.viewport(PHONE).await;
    browser.goto("/login").await;
    browser.assert_not_error_page().await;
    let widths = browser.widths().await;
    assert_eq!(widths.1, u64::from(PHONE.0), "phone viewport");
    assert!(widths.0 <= widths.1, "no sideways scrolling on a phone: {widths:?}");
    browser.screenshot("phone").await;
}

/// A fund whose compute-grant pool holds EUR 1,000,000.00, a facility at EUR 2.00 an hour and
/// an open de minimis call needing two reviews; (fund, facility, call).
async fn grant_call(app: &TestApp) -> (String, String, String) {
    let fund = app.create_fund("Grants fund").await;
    let body = json!({"effective_date": "2025-01-01", "description": "reserve for compute grants", "postings": [
        {"account": "1010", "debit": "1000000.00"}, {"account": "3900", "credit": "1000000.00"}]});
    created(app, &format!("/api/v1/funds/{fund}/journal-entries"), body).await;
    let body = json!({"name": "LUMI-AI", "kind": "ai_factory", "member_state": "FI", "chip_count": 1000,
        "chip_type": "H100", "quarterly_capacity_gpu_hours": 2000000});
    let facility = id(&created(app, "/api/v1/facilities", body).await);
    let price = json!({"effective_date": "2025-01-01", "price_per_gpu_hour": "2.00"});
    created(app, &format!("/api/v1/facilities/{facility}/prices"), price).await;
    let now = chrono::Utc::now();
    let body = json!({"fund_id": fund, "name": "SME compute call", "budget": "500000.00",
        "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(), "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
        "eligible_facility_ids": [facility], "max_gpu_hours_per_award": "50000", "aid_basis": "de_minimis",
        "min_reviewers": 2, "min_average_score": "60"});
    let call = id(&created(app, "/api/v1/grant-calls", body).await);
    (fund, facility, call)
}

async fn an_sme_applies_and_staff_review_and_award_in_the_browser(app: &TestApp, browser: &Browser) {
    let (_, facility, call) = grant_call(app).await;
    browser.sign_in_new(app, "ada", Role::Sme, Some("sme-ada")).await;
    browser.follow(&format!("a[href='/grant-calls/{call}/apply']")).await;
    for (field, value) in [
        ("f-company-legal_name", "Ada Robotics SAS"),
        ("f-company-registration_number", "RCS 123 456 789"),
        ("f-company-country", "FR"),
        ("f-company-nace_code", "62.01"),
        ("f-company-nuts2_region", "FR10"),
        ("f-staff_awu", "8"),
        ("f-turnover", "1500000.00"),
        ("f-balance_sheet", "1200000.00"),
        ("f-project_title", "Grasping model"),
        ("f-summary", "Training a vision-language-action model."),
        ("f-requested_gpu_hours", "ten thousand"),
        ("f-start_date", "2026-01-01"),
        ("f-end_date", "2026-03-31"),
    ] {
        browser.fill(field, value).await;
    }
    browser.select("f-facility_id", &facility).await;
    browser.submit("Save draft and check").await;
    assert_eq!(browser.status().await, 400);
    browser.assert_not_error_page().await;
    let reason = browser.field_error("f-requested_gpu_hours").await.expect("the hours field names its error");
    assert!(!reason.is_empty(), "a reason next to the hours");
    assert_eq!(browser.value_of("f-company-legal_name").await, "Ada Robotics SAS", "the input is kept");
    browser.screenshot("refused-hours").await;

    browser.fill("f-requested_gpu_hours", "10000").await;
    browser.submit("Save draft and check").await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(text.contains("Draft saved"), "{text}");
    assert!(text.contains("SME category\nMicro enterprise"), "the category is shown before submitting: {text}");
    assert!(text.contains("Aid value\nEUR 20,000.00"), "10,000 h x EUR 2.00 x 100 %: {text}");
    browser.screenshot_full_page("draft").await;
    browser.submit("Submit application").await;
    assert!(browser.page_text().await.contains("Application submitted."));
    let application = browser.current_path().await;
    browser.sign_out().await;

    for (reviewer, score) in [("rita", "80"), ("rob", "70")] {
        browser.sign_in_new(app, reviewer, Role::Staff, None).await;
        browser.follow("a[href='/review']").await;
        browser.follow(&format!("a[href='{application}']")).await;
        browser.fill("f-score", score).await;
        browser.fill("f-comment", "Clear plan.").await;
        browser.submit("Record review").await;
        assert!(browser.page_text().await.contains("Review recorded."));
        browser.sign_out().await;
    }

    browser.sign_in_new(app, "sam", Role::Staff, None).await;
    browser.goto(&application).await;
    browser.fill("f-gpu_hours", "20000").await;
    browser.submit("Award").await;
    assert_eq!(browser.status().await, 422);
    let reason = browser.field_error("f-gpu_hours").await.expect("the hours field names its error");
    assert!(!reason.is_empty());
    browser.screenshot("refused-award").await;
    browser.fill("f-gpu_hours", "8000").await;
    browser.submit("Award").await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(text.contains("Award made."), "{text}");
    assert!(text.contains("GPU-hours awarded\n8,000"), "{text}");
    assert!(text.contains("Aid value\nEUR 16,000.00"), "{text}");
    browser.screenshot_full_page("awarded").await;
    browser.sign_out().await;

    browser.login("ada", PASSWORD).await;
    let text = browser.page_text().await;
    assert!(text.contains("GPU-hours awarded\n8,000"), "the SME sees its award: {text}");
    browser.screenshot_full_page("sme-home").await;
}

/// The SME states its company once in its profile, with a related public body; the category
/// and every rule applied show on the profile, and an application takes the profile.
async fn an_sme_states_its_profile_once_and_applies_with_it(app: &TestApp, browser: &Browser) {
    let (_, facility, call) = grant_call(app).await;
    browser.sign_in_new(app, "bea", Role::Sme, Some("sme-bea")).await;
    browser.goto("/profile").await;
    for (field, value) in [
        ("f-company-legal_name", "Bea Vision GmbH"),
        ("f-company-registration_number", "HRB 77"),
        ("f-company-country", "DE"),
        ("f-company-nace_code", "62.01"),
        ("f-company-nuts2_region", "DE21"),
        ("f-figures-staff_awu", "8"),
        ("f-figures-turnover", "1500000.00"),
        ("f-figures-balance_sheet", "1200000.00"),
        ("f-related-0-legal_name", "Gemeinde Seeon"),
        ("f-related-0-country", "DE"),
        ("f-related-0-registration_number", "GEM 09189"),
        ("f-related-0-holding_percent", "30"),
        ("f-related-0-listed_investor-annual_budget", "6000000.00"),
        ("f-related-0-listed_investor-inhabitants", "4600"),
    ] {
        browser.fill(field, value).await;
    }
    browser.select("f-related-0-public_body", "true").await;
    browser.select("f-related-0-listed_investor-kind", "autonomous_local_authority").await;
    browser.submit("Save profile").await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(text.contains("Profile saved"), "{text}");
    assert!(text.contains("SME category\nMicro enterprise"), "a small municipality is excepted: {text}");
    assert!(
        text.contains("an autonomous local authority with a budget of EUR 6000000.00 and 4600 inhabitants"),
        "{text}"
    );
    browser.screenshot_full_page("profile").await;

    browser.goto(&format!("/grant-calls/{call}/apply")).await;
    assert!(browser.page_text().await.contains("come from your company profile"));
    for (field, value) in [
        ("f-project_title", "Inspection model"),
        ("f-summary", "Training a defect-detection model."),
        ("f-requested_gpu_hours", "1000"),
        ("f-start_date", "2026-01-01"),
        ("f-end_date", "2026-03-31"),
    ] {
        browser.fill(field, value).await;
    }
    browser.select("f-facility_id", &facility).await;
    browser.submit("Save draft and check").await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(text.contains("Draft saved") && text.contains("SME category\nMicro enterprise"), "{text}");
    assert!(text.contains("Rec. 2003/361 Art. 3(4)"), "the rules applied are shown: {text}");
    browser.screenshot_full_page("draft-from-profile").await;
}

async fn a_facility_uploads_usage_and_sees_each_rows_result(app: &TestApp, browser: &Browser) {
    let (_, facility, call) = grant_call(app).await;
    let sme = app.token(Role::Sme, "sme-usage");
    let body = json!({
        "company": {"legal_name": "Usage SAS", "registration_number": "U-1", "country": "FR", "nace_code": "62.01", "nuts2_region": "FR10"},
        "staff_awu": "8", "turnover": "1500000.00", "balance_sheet": "1200000.00", "related": [], "declarations": {"undertaking_in_difficulty": false, "outstanding_recovery_order": false}, 
        "project_title": "Usage", "summary": "Usage.", "requested_gpu_hours": "100", "facility_id": facility,
        "start_date": "2026-01-01", "end_date": "2026-03-31"});
    let application = id(&app.post(&format!("/api/v1/grant-calls/{call}/applications"), &sme, &body).await.body);
    app.post(&format!("/api/v1/applications/{application}/submit"), &sme, &json!(null)).await;
    for reviewer in ["r1", "r2"] {
        let body = json!({"score": 80, "comment": "ok"});
        let token = app.token(Role::Staff, reviewer);
        app.post(&format!("/api/v1/applications/{application}/reviews"), &token, &body).await;
    }
    let award = id(&created(app, &format!("/api/v1/applications/{application}/award"), json!({})).await);

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("usage.csv");
    let csv = format!(
        "record_id,award_id,gpu_hours,period_start,period_end\n\
         jan-1,{award},60.5,2026-01-05T08:00:00Z,2026-01-05T20:00:00Z\n\
         jan-2,{award},50,2026-01-06T08:00:00Z,2026-01-06T20:00:00Z\n"
    );
    std::fs::write(&file, csv).expect("write the usage file");
    browser.sign_in_new(app, "fiona", Role::Facility, Some(&facility)).await;
    let text = browser.page_text().await;
    assert!(text.contains("LUMI-AI") && text.contains("Usage SAS"), "capacity and awards: {text}");
    browser.screenshot_full_page("facility-home").await;
    browser.follow("a[href='/facility/usage']").await;
    let input = browser.client().find(fantoccini::Locator::Id("f-file")).await.expect("file field");
    input.send_keys(&file.display().to_string()).await.expect("choose the file");
    browser.submit("Upload").await;
    browser.assert_not_error_page().await;
    let rows: Vec<String> =
        browser.texts_of("table tbody tr").await.into_iter().filter(|row| row.contains(" jan-")).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].contains("jan-1") && rows[0].contains("counted"), "{rows:?}");
    assert!(rows[1].contains("jan-2") && rows[1].contains("refused (above-award-hours)"), "{rows:?}");
    browser.screenshot_full_page("usage-result").await;
}

async fn staff_record_a_commitment_and_auditors_read_the_books(app: &TestApp, browser: &Browser) {
    let fund = app.create_fund("Pages fund").await;
    let body = json!({"name": "Senior", "seniority": 1, "target_size": "1000.00", "pref_rate": "0.08"});
    created(app, &format!("/api/v1/funds/{fund}/tranches"), body).await;
    created(app, "/api/v1/sources", json!({"kind": "private", "legal_name": "Gamma Bank", "country": "DE"})).await;
    browser.sign_in_new(app, "stella", Role::Staff, None).await;
    browser.follow(&format!("a[href='/funds/{fund}']")).await;
    assert!(browser.exists("svg.chart").await, "the capital stack is drawn");
    assert!(browser.page_text().await.contains("No figures yet"), "a fund without terms says why it has no NAV");
    browser.follow(&format!("a[href='/funds/{fund}/commitments/new']")).await;
    browser.fill("f-amount", "250.555").await;
    browser.submit("Record commitment").await;
    assert_eq!(browser.status().await, 400);
    let reason = browser.field_error("f-amount").await.expect("the amount names its error");
    assert!(reason.contains("decimal"), "{reason}");
    browser.fill("f-amount", "250.00").await;
    browser.submit("Record commitment").await;
    let text = browser.page_text().await;
    assert!(text.contains("Commitment recorded.") && text.contains("Gamma Bank"), "{text}");
    assert!(text.contains("EUR 250.00"), "{text}");
    browser.screenshot_full_page("fund").await;
    browser.viewport(PHONE).await;
    browser.goto(&format!("/funds/{fund}")).await;
    let widths = browser.widths().await;
    assert!(widths.0 <= widths.1, "the fund page fits a phone (tables scroll in place): {widths:?}");
    browser.screenshot_full_page("fund-phone").await;
    browser.viewport(harness::DESKTOP).await;
    browser.sign_out().await;

    browser.sign_in_new(app, "audra", Role::Auditor, None).await;
    browser.goto(&format!("/audit/trial-balance?fund_id={fund}")).await;
    let text = browser.page_text().await;
    assert!(text.contains("Balanced\nyes"), "{text}");
    browser.goto("/audit/chain").await;
    assert!(browser.page_text().await.contains("intact"));
    browser.goto(&format!("/audit/journal?fund_id={fund}")).await;
    assert!(browser.page_text().await.contains("commitment"), "the journal lists the commitment's entry");
    browser.screenshot_full_page("journal").await;
}

/// `1234567.89` as the pages show it: `1,234,567.89`.
fn grouped(amount: &str) -> String {
    let (whole, cents) = amount.split_once('.').unwrap_or((amount, "00"));
    let digits: Vec<char> = whole.chars().collect();
    let mut out = String::new();
    for (index, digit) in digits.iter().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*digit);
    }
    format!("{out}.{cents}")
}

async fn the_public_reads_the_figures_and_the_checkpoint_without_signing_in(app: &TestApp, browser: &Browser) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    app.issue_checkpoint();
    let checkpoint = app.get_public("/api/v1/transparency/checkpoints?limit=1").await;
    let root = checkpoint.body["items"][0]["root_hash"].as_str().expect("root").to_string();
    let lines = app.get_public("/api/v1/transparency/funds").await;
    let compartment = lines.body.as_array().expect("funds").iter().find(|l| l["parent_id"].is_string()).expect("one");
    let fund = compartment["fund_id"].as_str().expect("id").to_string();

    browser.goto("/transparency").await;
    browser.assert_not_error_page().await;
    assert_eq!(browser.status().await, 200, "no sign-in needed");
    let text = browser.page_text().await;
    assert!(text.contains("Sign in") && !text.contains("Sign out"), "{text}");
    assert!(text.contains(&root), "the latest checkpoint's root is shown: {text}");
    assert!(text.contains(&format!("{} : 1", compartment["leverage_committed"].as_str().expect("leverage"))), "{text}");
    browser.screenshot_full_page("index").await;

    browser.follow(&format!("a[href='/transparency/funds/{fund}']")).await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    let report = app.get_public(&format!("/api/v1/transparency/funds/{fund}")).await;
    let totals = &report.body["capital_totals"];
    for figure in ["public_committed", "private_committed", "public_paid_in", "private_paid_in"] {
        let shown = format!("EUR {}", grouped(totals[figure].as_str().expect("amount")));
        assert!(text.contains(&shown), "{figure} {shown} on the page: {text}");
    }
    let filled = format!("EUR {}", grouped(report.body["pool"]["filled"].as_str().expect("filled")));
    assert!(text.contains(&format!("Filled\n{filled}")), "{filled}: {text}");
    assert!(text.contains("Digital Europe") && text.contains("Where the pool's money came from"), "{text}");
    let sources = app.get("/api/v1/sources?limit=500", &app.staff()).await;
    for source in sources.body["items"].as_array().expect("sources").iter().filter(|s| s["kind"] == "private") {
        let name = source["legal_name"].as_str().expect("name");
        assert!(!text.contains(name), "{name} is not shown to the public");
    }
    let csv = browser.attr_of("a[href$='/open-data/capital.csv']", "href").await;
    assert!(csv.is_some_and(|href| href.contains(&fund)), "the open data is linked");
    browser.screenshot_full_page("fund").await;
    browser.viewport(PHONE).await;
    browser.goto(&format!("/transparency/funds/{fund}")).await;
    let widths = browser.widths().await;
    assert!(widths.0 <= widths.1, "the public page fits a phone: {widths:?}");
    browser.screenshot_full_page("fund-phone").await;
}

/// The demo's books with four eyes on.
async fn four_eyes_demo(backend: common::Backend) -> TestApp {
    let app = common::spawn_app_with(backend, |settings| settings.four_eyes = true).await;
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    app
}

const DEMO_PASSWORD: &str = "investai-demo-2025";

/// Staff steer the demo fund by its page: performance of the fund and of each tranche, the
/// capital stack most senior on top, and every table fits a laptop screen and a phone.
async fn the_fund_page_shows_performance_and_fits_a_laptop_and_a_phone(app: &TestApp, browser: &Browser) {
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    let fund = funds.body["items"]
        .as_array()
        .and_then(|list| list.iter().find(|f| f["name"] == "AI Gigafactories Fund"))
        .and_then(|f| f["id"].as_str())
        .expect("the demo compartment")
        .to_string();
    let metrics = app.get(&format!("/api/v1/funds/{fund}/metrics"), &app.staff()).await;
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    browser.login("staff", DEMO_PASSWORD).await;
    browser.viewport(harness::LAPTOP).await;
    browser.goto(&format!("/funds/{fund}")).await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(text.contains("Performance on"), "{text}");
    // The fund's row carries the API's figures, multiples as the API rounds them (four decimals).
    let rows = browser.texts_of(".table-wrap[aria-label^='Performance'] tbody tr").await;
    let line = rows.iter().find(|r| r.starts_with("Fund")).cloned().unwrap_or_default();
    let fund_metrics = &metrics.body["fund"];
    let paid_in = fund_metrics["paid_in"].as_str().expect("paid-in");
    let tvpi: rust_decimal::Decimal = fund_metrics["tvpi"].as_str().expect("tvpi").parse().expect("decimal");
    for expected in [paid_in_text(paid_in), format!("{tvpi}x")] {
        assert!(line.contains(&expected), "{expected} missing from the fund's row {line:?}");
    }
    for tranche in metrics.body["tranches"].as_array().expect("tranches") {
        assert!(text.contains(tranche["name"].as_str().unwrap_or("?")), "{tranche}");
    }
    // Most senior on top: the chart's first bar is the tranche of seniority 1.
    let tranches = app.get(&format!("/api/v1/funds/{fund}/tranches"), &app.staff()).await;
    let senior = tranches.body["items"]
        .as_array()
        .and_then(|list| list.iter().find(|t| t["seniority"] == 1))
        .and_then(|t| t["name"].as_str())
        .expect("a senior tranche")
        .to_string();
    let labels = browser.texts_of("svg[aria-labelledby^='stack-'] text[text-anchor='end']").await;
    assert_eq!(labels.first(), Some(&senior), "bars: {labels:?}");
    assert_eq!(browser.scrolling_tables().await, Vec::<String>::new(), "every table fits at 1,366 px");
    browser.screenshot_full_page("fund-laptop").await;
    browser.viewport(PHONE).await;
    browser.goto(&format!("/funds/{fund}")).await;
    let widths = browser.widths().await;
    assert!(widths.0 <= widths.1, "the fund page fits a phone: {widths:?}");
    assert_eq!(browser.scrolling_tables().await, Vec::<String>::new(), "no table scrolls sideways on a phone");
    browser.screenshot_full_page("fund-phone").await;
    browser.viewport(harness::DESKTOP).await;
}

/// `EUR 1,234.56` as a page writes an API amount.
fn paid_in_text(amount: &str) -> String {
    let (whole, cents) = amount.split_once('.').unwrap_or((amount, "00"));
    let digits: Vec<char> = whole.chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(*c);
    }
    format!("EUR {grouped}.{cents}")
}

/// Opens the proposal waiting for this user from the inbox and decides it with `button`.
async fn decide_newest(browser: &Browser, button: &str) -> String {
    browser.follow("nav[aria-label='Main'] a[href='/inbox']").await;
    browser.assert_not_error_page().await;
    let links = browser.links("#proposals-to-decide a").await;
    assert_eq!(links.len(), 1, "one proposal waits for this user: {links:?}");
    browser.screenshot_full_page("inbox").await;
    let (_, href) = links.first().cloned().expect("a proposal waits");
    browser.goto(&href).await;
    browser.submit(button).await;
    browser.assert_not_error_page().await;
    href
}

async fn two_staff_users_propose_and_approve_a_distribution_and_an_award(app: &TestApp, browser: &Browser) {
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    let fund = funds.body["items"].as_array().into_iter().flatten().find(|f| f["parent_id"].is_string());
    let fund = fund.and_then(|f| f["id"].as_str()).expect("compartment").to_string();
    let path = format!("/api/v1/funds/{fund}/distributions");
    let distributions = || async { app.get(&path, &app.auditor()).await.body["items"].as_array().map_or(0, Vec::len) };
    let before = distributions().await;

    browser.login("staff", DEMO_PASSWORD).await;
    browser.goto(&format!("/funds/{fund}/distributions/new")).await;
    browser.fill("f-cash", "1000000.00").await;
    browser.fill("f-date", &chrono::Utc::now().date_naive().to_string()).await;
    browser.fill("f-description", "Year-end distribution").await;
    browser.submit("Propose distribution").await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(text.contains("Proposed. It takes effect when another staff user approves it."), "{text}");
    assert!(text.contains("Distribution by investor") && text.contains("Withdraw proposal"), "{text}");
    assert!(!text.contains("Approve and execute"), "the proposer cannot approve: {text}");
    assert_eq!(distributions().await, before, "nothing executed yet");
    browser.screenshot_full_page("distribution-proposed").await;
    browser.sign_out().await;

    browser.login("verifier", DEMO_PASSWORD).await;
    let proposal = decide_newest(browser, "Approve and execute").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Approved and executed exactly as previewed.") && text.contains("Status\nExecuted"),
        "{text}"
    );
    browser.screenshot_full_page("distribution-approved").await;
    assert_eq!(distributions().await, before + 1);
    let id = proposal.trim_start_matches("/proposals/");
    let decided = app.get(&format!("/api/v1/proposals/{id}"), &app.auditor()).await;
    assert_ne!(decided.body["decided_by"], decided.body["proposed_by"], "{}", decided.text);

    // The fund page lists the distribution and every late payer with its days overdue.
    browser.goto(&format!("/funds/{fund}")).await;
    let text = browser.page_text().await;
    assert!(text.contains("Year-end distribution"), "{text}");
    let late = app.get(&format!("/api/v1/notices?fund_id={fund}&late=true&limit=500"), &app.staff()).await;
    let today = chrono::Utc::now().date_naive();
    let late = late.body["items"].as_array().cloned().unwrap_or_default();
    assert!(!late.is_empty(), "the demo has late payers");
    for notice in &late {
        let due: chrono::NaiveDate = notice["due_date"].as_str().and_then(|d| d.parse().ok()).expect("due date");
        let row =
            format!("{} {} {}", notice["investor_name"].as_str().unwrap_or_default(), due, (today - due).num_days());
        assert!(
            text.contains(&format!("No. {}", notice["call_number"]))
                && text.replace(&format!("No. {} ", notice["call_number"]), "").contains(&row),
            "{row}: {text}"
        );
    }
    browser.screenshot_full_page("fund").await;

    // A manual entry is proposed from its form, shows what it would post, and is withdrawn.
    browser.follow(&format!("a[href='/funds/{fund}/propose/manual-entry']")).await;
    browser.fill("f-description", "Bank charge").await;
    browser.fill("f-postings-0-account", "5010").await;
    browser.fill("f-postings-0-debit", "12.50").await;
    browser.fill("f-postings-1-account", "1000").await;
    browser.fill("f-postings-1-credit", "12.50").await;
    browser.submit("Propose a manual entry").await;
    browser.assert_not_error_page().await;
    let text = browser.page_text().await;
    assert!(text.contains("Proposal: Manual entry") && text.contains("Withdraw proposal"), "{text}");
    assert!(text.contains("5010 Fund expenses EUR 12.50 EUR 0.00"), "what it would post: {text}");
    browser.screenshot_full_page("entry-proposed").await;
    browser.submit("Withdraw proposal").await;
    assert!(browser.page_text().await.contains("Proposal withdrawn."), "{}", browser.page_text().await);

    // The application waiting for review gets its second review, and an award is proposed by
    // the verifier and approved by the other staff user.
    let waiting = app.get("/api/v1/applications?status=under_review", &app.staff()).await;
    let application = waiting.body["items"][0]["id"].as_str().expect("an application under review").to_string();
    browser.goto(&format!("/applications/{application}")).await;
    browser.fill("f-score", "78").await;
    browser.fill("f-comment", "Feasible with fewer hours.").await;
    browser.submit("Record review").await;
    browser.fill("f-gpu_hours", "1000").await;
    browser.submit("Propose award").await;
    browser.assert_not_error_page().await;
    assert!(browser.page_text().await.contains("Proposed. It takes effect"), "{}", browser.page_text().await);
    let awards = app
        .get(
            &format!("/api/v1/awards?sme_id={}", waiting.body["items"][0]["sme_id"].as_str().unwrap_or_default()),
            &app.auditor(),
        )
        .await;
    let awarded_before = awards.body["items"].as_array().map_or(0, Vec::len);
    browser.sign_out().await;

    browser.login("staff", DEMO_PASSWORD).await;
    decide_newest(browser, "Approve and execute").await;
    let text = browser.page_text().await;
    assert!(text.contains("Approved and executed") && text.contains("GPU-hours\n1,000"), "{text}");
    browser.screenshot_full_page("award-approved").await;
    let awards = app
        .get(
            &format!("/api/v1/awards?sme_id={}", waiting.body["items"][0]["sme_id"].as_str().unwrap_or_default()),
            &app.auditor(),
        )
        .await;
    assert_eq!(awards.body["items"].as_array().map_or(0, Vec::len), awarded_before + 1, "{}", awards.text);
}

/// One demo user of each role reads its home page in French and in German, chosen with the
/// switch at the foot of the page, on a 1,366 px laptop and a 390 px phone: the page says its
/// language, its heading is no longer the English one, it fits the screen, and a screenshot
/// of each is kept.
async fn every_role_reads_its_home_in_french_and_german_on_a_laptop_and_a_phone(_app: &TestApp, browser: &Browser) {
    let users = [
        ("staff", Role::Staff),
        ("aurora", Role::Investor),
        ("auditor", Role::Auditor),
        ("nordlicht", Role::Sme),
        ("seine-operator", Role::Facility),
        ("admin", Role::Admin),
    ];
    for (username, role) in users {
        browser.viewport(harness::LAPTOP).await;
        browser.login(username, DEMO_PASSWORD).await;
        browser.assert_not_error_page().await;
        let english = browser.text_of("h1").await;
        for lang in ["fr", "de"] {
            browser.follow(&format!("footer button[value='{lang}']")).await;
            browser.assert_not_error_page().await;
            assert_eq!(browser.attr_of("html", "lang").await.as_deref(), Some(lang), "{role}");
            assert_eq!(browser.current_path().await, "/", "the switch goes back to the page");
            let heading = browser.text_of("h1").await;
            let catalogue = investai::i18n::Lang::from_tag(lang).expect("ours").label(&english);
            assert_eq!(heading, catalogue, "{role}'s home heading in {lang}, as the catalogue has it");
            for (screen, size) in [("laptop", harness::LAPTOP), ("phone", PHONE)] {
                browser.viewport(size).await;
                browser.goto("/").await;
                let widths = browser.widths().await;
                assert!(widths.0 <= widths.1, "{role} in {lang} fits a {screen}: {widths:?}");
                browser.screenshot_full_page(&format!("{role}-{lang}-{screen}")).await;
            }
            browser.viewport(harness::LAPTOP).await;
        }
        browser.follow("footer button[value='en']").await;
        assert_eq!(browser.text_of("h1").await, english, "back in English");
        browser.sign_out().await;
    }
    browser.viewport(harness::DESKTOP).await;
}

browser_tests!(module = four_eyes, spawn = super::four_eyes_demo;
    two_staff_users_propose_and_approve_a_distribution_and_an_award,
    the_fund_page_shows_performance_and_fits_a_laptop_and_a_phone,
    every_role_reads_its_home_in_french_and_german_on_a_laptop_and_a_phone,
);

browser_tests!(
    the_public_reads_the_figures_and_the_checkpoint_without_signing_in,
    each_role_signs_in_and_sees_its_home_and_navigation,
    a_wrong_password_is_refused_with_the_reason_next_to_the_field,
    signing_out_returns_to_the_login_page_for_good,
    an_investor_sees_its_own_notice_and_statement_and_not_anothers,
    a_form_without_a_valid_csrf_token_is_refused,
    keyboard_users_reach_the_skip_link_first,
    the_login_page_fits_a_phone,
    the_harness_fills_selects_dates_and_reads_field_errors,
    refusals_and_missing_pages_are_site_pages,
    an_sme_applies_and_staff_review_and_award_in_the_browser,
    an_sme_states_its_profile_once_and_applies_with_it,
    a_facility_uploads_usage_and_sees_each_rows_result,
    staff_record_a_commitment_and_auditors_read_the_books,
);
