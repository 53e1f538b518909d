//! Pages in English, French and German on both backends: every page every demo user reaches
//! shows every label from the catalogue (none left in English), in the language chosen by the
//! switch, by the user's stored preference at the next sign-in, or by the browser's
//! `Accept-Language`.

mod common;

use common::pages::{crawl, get, hidden, read, signed_in_accepting};
use common::TestApp;

async fn sign_in(app: &TestApp, username: &str, password: &str, accept_language: &str) -> reqwest::Client {
    signed_in_accepting(app, username, password, Some(accept_language)).await
}

/// The page's `<html lang>`.
fn page_lang(html: &str) -> &str {
    html.split("<html lang=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("")
}

async fn every_page_of_every_demo_user_reads_in_french_and_german(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    for (tag, accept) in [("fr", "fr-FR,fr;q=0.9,en;q=0.5"), ("de", "de-DE,de;q=0.9")] {
        for user in &fixture.users {
            let browser = sign_in(&app, &user.username, &user.password, accept).await;
            for (path, html) in crawl(&browser, &app, &user.username).await {
                assert_eq!(page_lang(&html), tag, "{}: {path} is not in {tag}", user.username);
            }
        }
    }
    let missing = investai::i18n::untranslated();
    let lines: Vec<String> = missing.iter().map(|text| format!("{} = {text}", investai::i18n::ui_key(text))).collect();
    assert!(missing.is_empty(), "labels without a catalogue entry (add to locales/*/pages.ftl):\n{}", lines.join("\n"));
}

async fn the_switch_and_the_stored_preference_choose_the_language(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    let user = fixture.users.iter().find(|u| u.username == "auditor").expect("demo auditor");
    // The browser asks for German.
    let browser = sign_in(&app, &user.username, &user.password, "de").await;
    let home = get(&browser, &app, "/").await;
    assert_eq!(page_lang(&home.text), "de");
    // The switch: French from now on, back to the page it was pressed on.
    let switched = get(&browser, &app, "/language?lang=fr&back=/audit/journal").await;
    assert_eq!((switched.status, switched.location.as_str()), (303, "/audit/journal"));
    assert_eq!(page_lang(&get(&browser, &app, "/audit/journal").await.text), "fr");
    // Only a path on this site is gone back to; an unknown language is refused.
    let elsewhere = get(&browser, &app, "/language?lang=de&back=//evil.example").await;
    assert_eq!((elsewhere.status, elsewhere.location.as_str()), (303, "/"));
    assert_eq!(get(&browser, &app, "/language?lang=it").await.status, 400);
    get(&browser, &app, "/language?lang=fr").await;
    // A new browser asking for English gets French at sign-in: the stored preference.
    let elsewhere = sign_in(&app, &user.username, &user.password, "en").await;
    assert_eq!(page_lang(&get(&elsewhere, &app, "/").await.text), "fr");
    // The sign-in page itself follows the browser.
    let anonymous = reqwest::Client::builder().build().expect("client");
    let login = anonymous
        .get(format!("{}/login", app.address))
        .header("Accept-Language", "de-CH")
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    assert_eq!(page_lang(&login), "de");
    assert!(login.contains("Anmelden"), "{login}");
    // A refusal shown on a page is in the page's language too.
    let french = sign_in_refused(&app, "auditor", "not the password", "fr").await;
    assert!(french.contains("nom d’utilisateur inconnu ou mot de passe erroné"), "{french}");
}

/// `1234.50` in German (`1.234,50 EUR`) and French (`1 234,50 EUR`, no-break spaces), written
/// here from the languages' rules, not with the service's formatter.
fn amount_in(plain: &str, group: &str, decimal: &str) -> String {
    let (whole, cents) = plain.split_once('.').expect("an amount with cents");
    let digits: Vec<char> = whole.chars().collect();
    let mut grouped = String::new();
    for (index, digit) in digits.iter().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push_str(group);
        }
        grouped.push(*digit);
    }
    format!("{grouped}{decimal}{cents}\u{a0}EUR")
}

/// A refusal naming figures reads in the page's language with the figures in its form; the
/// API says the same refusal in English with the figures as its fields carry them.
async fn a_refusal_with_figures_reads_in_the_pages_language(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    let notices = app.get("/api/v1/notices?limit=200", &app.staff()).await;
    let notice = notices.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|n| n["outstanding"] != "0.00"))
        .expect("an unpaid demo notice")
        .clone();
    let (id, outstanding, amount) = (
        notice["id"].as_str().expect("id"),
        notice["outstanding"].as_str().expect("outstanding"),
        notice["amount"].as_str().expect("amount"),
    );
    let over: i64 = outstanding.replace('.', "").parse::<i64>().expect("cents") + 100_000;
    let over = format!("{}.{:02}", over / 100, over % 100);
    let staff = fixture.users.iter().find(|u| u.username == "staff").expect("demo staff");
    let path = format!("/notices/{id}/pay");
    let fields = [("amount", over.as_str()), ("value_date", "2026-01-15"), ("intent", "post")];
    for (accept, words, group, decimal) in
        [("de", "würden ihn überzahlen", ".", ","), ("fr", "un paiement de", "\u{a0}", ",")]
    {
        let browser = sign_in(&app, &staff.username, &staff.password, accept).await;
        let refused = common::pages::post_form(&browser, &app, &path, &path, &fields).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        for part in [words.to_string(), amount_in(&over, group, decimal), amount_in(outstanding, group, decimal)] {
            assert!(refused.text.contains(&part), "{accept}: the refusal should say {part:?}: {}", refused.text);
        }
        assert!(!refused.text.contains("would over-pay"), "{accept}: {}", refused.text);
    }
    let api = app
        .post(
            &format!("/api/v1/notices/{id}/contributions"),
            &app.staff(),
            &serde_json::json!({"amount": over, "value_date": "2026-01-15"}),
        )
        .await;
    assert_eq!(api.status, 422, "{}", api.text);
    let detail = api.body["detail"].as_str().unwrap_or_default();
    let english = format!("the notice has EUR {outstanding} outstanding of EUR {amount}; EUR {over} would over-pay it");
    assert_eq!(detail, english, "{}", api.text);
    assert_eq!(api.body["errors"][0]["reason"], english.as_str(), "{}", api.text);
}

/// An amount typed the way the page's language writes numbers is recorded to the cent: `12,50`
/// on a German page is twelve euros fifty, not 1,250 euros; an amount that reads two ways is
/// refused on its field and records nothing.
async fn an_amount_typed_as_the_page_writes_numbers_is_recorded_to_the_cent(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    let cents = |text: &str| text.replace('.', "").parse::<i64>().expect("cents");
    let notices = app.get("/api/v1/notices?limit=200", &app.staff()).await;
    let notice = notices.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|n| cents(n["outstanding"].as_str().unwrap_or("0.00")) > 200_000))
        .expect("a demo notice with more than EUR 2,000.00 outstanding")
        .clone();
    let id = notice["id"].as_str().expect("id");
    let outstanding = cents(notice["outstanding"].as_str().expect("outstanding"));
    let staff = fixture.users.iter().find(|u| u.username == "staff").expect("demo staff");
    let browser = sign_in(&app, &staff.username, &staff.password, "de").await;
    let path = format!("/notices/{id}/pay");
    // After the demo fund's latest distribution: a contribution is dated after it.
    let pay = |amount: &'static str| [("amount", amount), ("value_date", "2026-11-25"), ("intent", "post")];
    let unreadable = common::pages::post_form(&browser, &app, &path, &path, &pay("1,23,456")).await;
    assert_eq!(unreadable.status, 400, "{}", unreadable.text);
    let paid = common::pages::post_form(&browser, &app, &path, &path, &pay("12,50")).await;
    assert!(paid.status < 400, "{}", paid.text);
    let after = app.get(&format!("/api/v1/notices/{id}"), &app.staff()).await;
    let left = cents(after.body["outstanding"].as_str().expect("outstanding"));
    assert_eq!(outstanding - left, 1_250, "12,50 on a German page pays EUR 12.50: {}", after.text);
}

/// A rate and a multiple typed the way the page's language writes numbers are recorded as
/// typed: `0,08` on a French page is a preferred return of 8%, `1,25` a cap of 1.25 times
/// paid-in; a number that reads two ways is refused on its field and adds nothing.
async fn a_rate_typed_as_the_page_writes_numbers_is_recorded_as_typed(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    let funds = app.get("/api/v1/funds", &app.staff()).await;
    let fund = funds.body["items"][0]["id"].as_str().expect("a demo fund").to_string();
    let tranches_of = |body: &serde_json::Value| body["items"].as_array().cloned().unwrap_or_default();
    let before = tranches_of(&app.get(&format!("/api/v1/funds/{fund}/tranches"), &app.staff()).await.body);
    let seniority = before.iter().filter_map(|t| t["seniority"].as_i64()).max().unwrap_or(0) + 1;
    let staff = fixture.users.iter().find(|u| u.username == "staff").expect("demo staff");
    let path = format!("/funds/{fund}/tranches");
    for (accept, name, target_size, pref_rate, return_cap) in [
        ("fr", "Mezzanine FR", "2\u{a0}500\u{a0}000,00", "0,08", "1,25"),
        ("de", "Mezzanine DE", "2.500.000,00", "0,125", "2,5"),
    ] {
        let browser = sign_in(&app, &staff.username, &staff.password, accept).await;
        let seniority = (seniority + i64::from(accept == "de")).to_string();
        let unreadable = [
            ("name", name),
            ("seniority", &seniority),
            ("target_size", target_size),
            ("pref_rate", "0,1,2"),
            ("return_cap", return_cap),
        ];
        let refused = common::pages::post_form(&browser, &app, &path, &path, &unreadable).await;
        assert_eq!(refused.status, 400, "{accept}: {}", refused.text);
        let fields = [
            ("name", name),
            ("seniority", &seniority),
            ("target_size", target_size),
            ("pref_rate", pref_rate),
            ("return_cap", return_cap),
        ];
        let sent = common::pages::post_form(&browser, &app, &path, &path, &fields).await;
        assert_eq!(sent.status, 303, "{accept}: {}", sent.text);
    }
    let after = tranches_of(&app.get(&format!("/api/v1/funds/{fund}/tranches"), &app.staff()).await.body);
    assert_eq!(after.len(), before.len() + 2, "one tranche per language, none from the refusals");
    let recorded = |name: &str| {
        let tranche = after.iter().find(|t| t["name"] == name).expect("the tranche from the page");
        let number = |key: &str| tranche[key].as_str().and_then(|v| v.parse::<rust_decimal::Decimal>().ok());
        (tranche["target_size"].as_str().unwrap_or_default().to_string(), number("pref_rate"), number("return_cap"))
    };
    let exact = |text: &str| text.parse::<rust_decimal::Decimal>().ok();
    assert_eq!(recorded("Mezzanine FR"), ("2500000.00".to_string(), exact("0.08"), exact("1.25")));
    assert_eq!(recorded("Mezzanine DE"), ("2500000.00".to_string(), exact("0.125"), exact("2.5")));
}

/// A facility's refused usage rows read in the upload page's language, each with its figures.
async fn refused_usage_rows_read_in_the_pages_language(app: TestApp) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    let operator = fixture.users.iter().find(|u| u.username == "seine-operator").expect("demo facility user");
    let csv = "record_id,award_id,gpu_hours,period_start,period_end\n\
        de-1,01a00000-0000-7000-8000-000000000000,5,2026-01-05T08:00:00Z,2026-01-05T20:00:00Z\n\
        de-2,01a00000-0000-7000-8000-000000000000,0,2026-01-05T08:00:00Z,2026-01-05T20:00:00Z\n";
    for (accept, words) in [
        (
            "de",
            [
                "abgelehnt (not-this-facility): keine Bewilligung mit dieser Kennung an Ihrer Anlage",
                "gpu_hours muss größer als null sein",
            ],
        ),
        (
            "fr",
            [
                "refusé (not-this-facility) : aucune attribution avec cet identifiant dans votre installation",
                "gpu_hours doit être supérieur à zéro",
            ],
        ),
    ] {
        let browser = sign_in(&app, &operator.username, &operator.password, accept).await;
        let page = get(&browser, &app, "/facility/usage").await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", hidden(&page.text, "csrf_token"))
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("usage.csv"));
        let sent =
            browser.post(format!("{}/facility/usage", app.address)).multipart(form).send().await.expect("upload");
        let result = read(sent).await;
        assert_eq!(result.status, 200, "{}", result.text);
        for part in words {
            assert!(result.text.contains(part), "{accept}: the result should say {part:?}: {}", result.text);
        }
        // A file refused as a whole says why in the page's language too.
        let page = get(&browser, &app, "/facility/usage").await;
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", hidden(&page.text, "csrf_token"))
            .part("file", reqwest::multipart::Part::bytes(b"id,hours\n1,2\n".to_vec()).file_name("usage.csv"));
        let sent =
            browser.post(format!("{}/facility/usage", app.address)).multipart(form).send().await.expect("upload");
        let refused = read(sent).await;
        assert_eq!(refused.status, 400, "{}", refused.text);
        let header =
            if accept == "de" { "die Kopfzeile muss die Spalten" } else { "la ligne d&#39;en-tête doit nommer" };
        assert!(refused.text.contains(header), "{accept}: {}", refused.text);
    }
}

/// The sign-in page after a refused sign-in, asked in `accept_language`.
async fn sign_in_refused(app: &TestApp, username: &str, password: &str, accept_language: &str) -> String {
    let browser = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let login = browser
        .get(format!("{}/login", app.address))
        .header("Accept-Language", accept_language)
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let form = [("username", username), ("password", password), ("csrf_token", &hidden(&login, "csrf_token"))];
    let refused = browser
        .post(format!("{}/login", app.address))
        .header("Accept-Language", accept_language)
        .form(&form)
        .send()
        .await
        .expect("sign-in");
    assert_eq!(refused.status(), 401);
    refused.text().await.expect("body")
}

on_both_backends!(
    an_amount_typed_as_the_page_writes_numbers_is_recorded_to_the_cent,
    a_rate_typed_as_the_page_writes_numbers_is_recorded_as_typed,
    a_refusal_with_figures_reads_in_the_pages_language,
    refused_usage_rows_read_in_the_pages_language,
    every_page_of_every_demo_user_reads_in_french_and_german,
    the_switch_and_the_stored_preference_choose_the_language,
);
