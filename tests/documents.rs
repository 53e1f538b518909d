//! The PDF documents on both backends, read back as text with `pdftotext` and compared with
//! the JSON API: fund name, dates and every amount, in English, French and German. Amounts and
//! dates are formatted here by the test's own rules (docs/languages.md), not by the service's
//! code; the payment reference is checked by the test's own ISO 11649 arithmetic.

use crate::common;

use std::process::Command;

use chrono::{Datelike, NaiveDate};
use common::{assert_problem, party_id, TestApp};
use investai::domain::roles::Role;
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
enum Lang {
    En,
    Fr,
    De,
}

const LANGS: [Lang; 3] = [Lang::En, Lang::Fr, Lang::De];

impl Lang {
    fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
        }
    }

    /// `1234567.89` (as the API gives it) as the language writes it.
    fn eur(self, api: &str) -> String {
        let (sign, unsigned) = api.strip_prefix('-').map_or(("", api), |rest| ("-", rest));
        let (whole, cents) = unsigned.split_once('.').expect("two decimals");
        let (group, point) = match self {
            Lang::En => (",", "."),
            Lang::Fr => (" ", ","),
            Lang::De => (".", ","),
        };
        let digits: Vec<char> = whole.chars().collect();
        let groups: Vec<String> = digits.rchunks(3).rev().map(|c| c.iter().collect()).collect();
        let number = format!("{sign}{}{point}{cents}", groups.join(group));
        match self {
            Lang::En => format!("EUR {number}"),
            _ => format!("{number} EUR"),
        }
    }

    /// A paid-out amount as a deduction: `EUR -5.00`, and zero as `EUR 0.00`.
    fn deduction(self, api: &str) -> String {
        if api.trim_start_matches(['0', '.']).is_empty() {
            self.eur(api)
        } else {
            self.eur(&format!("-{api}"))
        }
    }

    fn date(self, day: NaiveDate) -> String {
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const FR: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        const DE: [&str; 12] = [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ];
        let month = day.month0() as usize;
        match self {
            Lang::En => format!("{} {} {}", day.day(), EN[month], day.year()),
            Lang::Fr => format!("{} {} {}", day.day(), FR[month], day.year()),
            Lang::De => format!("{}. {} {}", day.day(), DE[month], day.year()),
        }
    }
}

/// Downloads a PDF and extracts its text with `pdftotext`, spaces normalised.
async fn pdf_text(app: &TestApp, path: &str, token: &str) -> String {
    let response = app.client.get(format!("{}{path}", app.address)).bearer_auth(token).send().await.expect("request");
    assert_eq!(response.status(), 200, "{path}");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(content_type, "application/pdf", "{path}");
    let bytes = response.bytes().await.expect("body");
    assert!(bytes.starts_with(b"%PDF-"), "{path} is not a PDF");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("document.pdf");
    std::fs::write(&file, &bytes).expect("write pdf");
    let out = Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed: scripts/test installs it");
    assert!(out.status.success(), "pdftotext failed on {path}");
    normalise(&String::from_utf8_lossy(&out.stdout))
}

fn normalise(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[track_caller]
fn assert_shows(text: &str, expected: &str, what: &str) {
    assert!(text.contains(&normalise(expected)), "{what}: {expected:?} missing from the PDF text:\n{text}");
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("{field} missing in {value}"))
}

fn date_of(value: &Value, field: &str) -> NaiveDate {
    str_of(value, field)[..10].parse().expect("date")
}

/// ISO 11649: moving `RFkk` to the end and reading letters as 10..35 leaves 1 modulo 97.
fn creditor_reference_holds(reference: &str) -> bool {
    let rearranged = format!("{}{}", &reference[4..], &reference[..4]);
    let digits: String = rearranged.chars().map(|c| c.to_digit(36).expect("alphanumeric").to_string()).collect();
    digits.chars().fold(0u32, |r, d| (r * 10 + d.to_digit(10).expect("digit")) % 97) == 1
}

async fn first_item(app: &TestApp, path: &str) -> Value {
    let reply = app.get(path, &app.staff()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["items"][0].clone()
}

async fn call_notices_carry_the_api_figures_and_payment_instructions(app: TestApp) {
    let notice = first_item(&app, "/api/v1/notices?limit=1").await;
    let fund = app.get(&format!("/api/v1/funds/{}", str_of(&notice, "fund_id")), &app.staff()).await.body;
    let bank = app.get(&format!("/api/v1/funds/{}/bank-account", str_of(&fund, "id")), &app.staff()).await;
    assert_eq!(bank.status, 200, "the demo fund has a bank account: {}", bank.text);
    for lang in LANGS {
        let path = format!("/api/v1/notices/{}/pdf?lang={}", str_of(&notice, "id"), lang.tag());
        let text = pdf_text(&app, &path, &app.staff()).await;
        assert_shows(&text, str_of(&fund, "name"), "fund name");
        assert_shows(&text, str_of(&notice, "investor_name"), "investor");
        assert_shows(&text, &lang.date(date_of(&notice, "call_date")), "call date");
        assert_shows(&text, &lang.date(date_of(&notice, "due_date")), "due date");
        for field in [
            "amount",
            "investment",
            "fees",
            "expenses",
            "paid",
            "outstanding",
            "cumulative_called",
            "remaining_unfunded",
        ] {
            assert_shows(&text, &lang.eur(str_of(&notice, field)), field);
        }
        assert_shows(&text, "LU28 0019 4006 4475 0000", "IBAN in groups of four");
        assert_shows(&text, str_of(&bank.body, "account_holder"), "account holder");
        let reference = text.split_whitespace().find(|w| w.starts_with("RF") && w.len() > 6).expect("an RF reference");
        assert!(creditor_reference_holds(reference), "{reference} fails ISO 11649");
        assert!(!text.contains("-0.00") && !text.contains("-0,00"), "no negative zero: {text}");
        // The e-mail that sends the notice: the same figures and the same payment reference.
        let path = format!("/api/v1/notices/{}/email?lang={}", str_of(&notice, "id"), lang.tag());
        let email = app.get(&path, &app.staff()).await;
        assert_eq!(email.status, 200, "{}", email.text);
        assert_eq!(email.body["lang"], lang.tag(), "{}", email.text);
        assert!(str_of(&email.body, "subject").contains(str_of(&fund, "name")), "{}", email.text);
        let body = normalise(str_of(&email.body, "body"));
        for (expected, what) in [
            (str_of(&notice, "investor_name").to_string(), "investor"),
            (lang.eur(str_of(&notice, "amount")), "amount called"),
            (lang.eur(str_of(&notice, "outstanding")), "amount to pay"),
            (lang.date(date_of(&notice, "due_date")), "due date"),
            ("LU28 0019 4006 4475 0000".to_string(), "IBAN"),
            (reference.to_string(), "payment reference"),
        ] {
            assert_shows(&body, &expected, what);
        }
    }
    let french = pdf_text(&app, &format!("/api/v1/notices/{}/pdf?lang=fr", str_of(&notice, "id")), &app.staff()).await;
    assert_shows(&french, "Instructions de paiement", "French heading");
    // Without `lang`, the request's Accept-Language decides.
    let response = app
        .client
        .get(format!("{}/api/v1/notices/{}/pdf", app.address, str_of(&notice, "id")))
        .bearer_auth(app.staff())
        .header("Accept-Language", "de-AT, fr;q=0.5")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);

    // Another investor's notice is not there for them; a language we do not speak is a 400.
    let stranger = app.token(Role::Investor, &party_id("someone else"));
    let reply = app.get(&format!("/api/v1/notices/{}/pdf", str_of(&notice, "id")), &stranger).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    let reply = app.get(&format!("/api/v1/notices/{}/pdf?lang=it", str_of(&notice, "id")), &app.staff()).await;
    assert_problem(&reply, 400, Some("query.lang"));
}

async fn distribution_notices_and_statements_carry_the_api_figures(app: TestApp) {
    let notice = first_item(&app, "/api/v1/distribution-notices?limit=1").await;
    let fund = app.get(&format!("/api/v1/funds/{}", str_of(&notice, "fund_id")), &app.staff()).await.body;
    let investor = str_of(&notice, "investor_id");
    let owner = app.token(Role::Investor, investor);
    for lang in LANGS {
        let path = format!(
            "/api/v1/distributions/{}/notices/{investor}/pdf?lang={}",
            str_of(&notice, "distribution_id"),
            lang.tag()
        );
        let text = pdf_text(&app, &path, &owner).await;
        assert_shows(&text, str_of(&fund, "name"), "fund name");
        assert_shows(&text, &lang.date(date_of(&notice, "date")), "distribution date");
        for field in ["capital", "pref", "profit", "total"] {
            assert_shows(&text, &lang.eur(str_of(&notice, field)), field);
        }
    }

    // The statement's three columns equal the statement endpoint for each period.
    let to = NaiveDate::from_ymd_opt(2026, 5, 20).expect("date");
    let inception = date_of(&fund, "inception_date");
    let periods = [
        NaiveDate::from_ymd_opt(2026, 4, 1).expect("date"),
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        inception,
    ];
    let base = format!("/api/v1/funds/{}/investors/{investor}/statement", str_of(&fund, "id"));
    for lang in LANGS {
        let text = pdf_text(&app, &format!("{base}/pdf?to={to}&lang={}", lang.tag()), &owner).await;
        assert_shows(&text, str_of(&fund, "name"), "fund name");
        assert_shows(&text, &lang.date(to), "period end");
        for from in periods {
            let statement = app.get(&format!("{base}?from={from}&to={to}"), &owner).await;
            assert_eq!(statement.status, 200, "{}", statement.text);
            let s = &statement.body;
            assert_shows(&text, &lang.date(from), "period start");
            for field in ["opening", "contributions", "gains_losses", "closing"] {
                assert_shows(&text, &lang.eur(str_of(s, field)), field);
            }
            for field in ["distributions_capital", "distributions_pref", "distributions_profit", "write_downs"] {
                assert_shows(&text, &lang.deduction(str_of(s, field)), field);
            }
        }
        assert!(!text.contains("-0.00") && !text.contains("-0,00"), "no negative zero: {text}");
    }
}

async fn award_letters_and_facility_statements_carry_the_api_figures(app: TestApp) {
    let award = first_item(&app, "/api/v1/awards?limit=1").await;
    let call =
        app.get(&format!("/api/v1/grant-calls/{}", str_of(&award, "call_id")), &app.staff()).await.body["call"].clone();
    let fund = app.get(&format!("/api/v1/funds/{}", str_of(&call, "fund_id")), &app.staff()).await.body;
    let sme = app.token(Role::Sme, str_of(&award, "sme_id"));
    for lang in LANGS {
        let path = format!("/api/v1/awards/{}/letter/pdf?lang={}", str_of(&award, "id"), lang.tag());
        let text = pdf_text(&app, &path, &sme).await;
        assert_shows(&text, str_of(&fund, "name"), "fund name");
        assert_shows(&text, str_of(&award, "legal_name"), "beneficiary");
        assert_shows(&text, &lang.date(date_of(&award, "start_date")), "start");
        assert_shows(&text, &lang.date(date_of(&award, "end_date")), "end");
        assert_shows(&text, &lang.eur(str_of(&award, "aid_value")), "aid value");
        assert_shows(&text, &lang.eur(str_of(&award, "price_per_gpu_hour")), "price");
        let regulation = if str_of(&award, "aid_basis") == "de_minimis" { "2023/2831" } else { "651/2014" };
        assert_shows(&text, regulation, "legal basis");
        let path = format!("/api/v1/awards/{}/letter/email?lang={}", str_of(&award, "id"), lang.tag());
        let email = app.get(&path, &sme).await;
        assert_eq!(email.status, 200, "{}", email.text);
        let body = normalise(str_of(&email.body, "body"));
        for (expected, what) in [
            (str_of(&award, "legal_name").to_string(), "beneficiary"),
            (lang.eur(str_of(&award, "aid_value")), "aid value"),
            (lang.date(date_of(&award, "start_date")), "start"),
            (lang.date(date_of(&award, "end_date")), "end"),
            (str_of(&fund, "name").to_string(), "fund"),
        ] {
            assert_shows(&body, &expected, what);
        }
    }
    let other_sme = app.token(Role::Sme, &party_id("another sme"));
    let hidden = app.get(&format!("/api/v1/awards/{}/letter/email", str_of(&award, "id")), &other_sme).await;
    assert_eq!(hidden.status, 404, "another SME's award letter e-mail: {}", hidden.text);

    // The facility's statement for the quarter of its first usage record: the payable is the
    // sum of the subsidies of the records whose period starts in the quarter, summed here
    // from every award's records.
    let facility = str_of(&award, "facility_id");
    let awards = app.get(&format!("/api/v1/awards?facility_id={facility}&limit=200"), &app.staff()).await;
    assert_eq!(awards.status, 200, "{}", awards.text);
    let mut records = Vec::new();
    for award in awards.body["items"].as_array().expect("items") {
        let mut after = String::new();
        loop {
            let path = format!("/api/v1/awards/{}/usage?limit=200{after}", str_of(award, "id"));
            let page = app.get(&path, &app.staff()).await;
            assert_eq!(page.status, 200, "{}", page.text);
            records.extend(page.body["items"].as_array().expect("items").iter().cloned());
            match page.body["next_after"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => break,
            }
        }
    }
    let first = records.first().expect("the demo facility has usage");
    let start = date_of(first, "period_start");
    let quarter = format!("{}-Q{}", start.year(), start.month0() / 3 + 1);
    let cents = |value: &str| -> i64 { value.replace('.', "").parse().expect("cents") };
    let in_quarter = |r: &&Value| {
        let day = date_of(r, "period_start");
        day.year() == start.year() && day.month0() / 3 == start.month0() / 3
    };
    let expected: i64 = records.iter().filter(in_quarter).map(|r| cents(str_of(r, "subsidy"))).sum();
    let operator = app.token(Role::Facility, facility);
    let statement = app.get(&format!("/api/v1/facilities/{facility}/statements/{quarter}"), &operator).await;
    assert_eq!(statement.status, 200, "{}", statement.text);
    assert_eq!(cents(str_of(&statement.body, "payable")), expected, "payable = sum of the quarter's records");
    for lang in LANGS {
        let path = format!("/api/v1/facilities/{facility}/statements/{quarter}/pdf?lang={}", lang.tag());
        let text = pdf_text(&app, &path, &operator).await;
        assert_shows(&text, str_of(&statement.body, "facility_name"), "facility");
        assert_shows(&text, &lang.eur(str_of(&statement.body, "payable")), "payable");
        for line in statement.body["lines"].as_array().expect("lines") {
            assert_shows(&text, &lang.eur(str_of(line, "subsidy")), "line subsidy");
        }
    }
    let reply = app.get(&format!("/api/v1/facilities/{facility}/statements/2026-Q5"), &operator).await;
    assert_problem(&reply, 400, Some("quarter"));
    let other = app.token(Role::Facility, &party_id("another facility"));
    let reply = app.get(&format!("/api/v1/facilities/{facility}/statements/{quarter}/pdf"), &other).await;
    assert_eq!(reply.status, 404, "{}", reply.text);
}

async fn only_an_admin_registers_a_valid_bank_account(app: TestApp) {
    let fund = app.create_fund("Bank account fund").await;
    let path = format!("/api/v1/funds/{fund}/bank-account");
    let body = serde_json::json!({"account_holder": "Fund SICAV", "iban": "de89 3704 0044 0532 0130 00"});
    let reply = app.send(app.client.put(format!("{}{path}", app.address)).bearer_auth(app.staff()).json(&body)).await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    let admin = app.token(Role::Admin, "admin");
    let bad = serde_json::json!({"account_holder": "Fund SICAV", "iban": "DE89 3704 0044 0532 0130 01"});
    let reply = app.send(app.client.put(format!("{}{path}", app.address)).bearer_auth(&admin).json(&bad)).await;
    assert_problem(&reply, 400, Some("iban"));
    assert_eq!(app.get(&path, &app.staff()).await.status, 404, "a refused account is not stored");
    let reply = app.send(app.client.put(format!("{}{path}", app.address)).bearer_auth(&admin).json(&body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["iban"], "DE89370400440532013000");
    assert_eq!(app.get(&path, &app.staff()).await.body["iban"], "DE89370400440532013000");
}

/// Signs a demo user in with a browser's cookie store.
async fn demo_browser(app: &TestApp, username: &str) -> reqwest::Client {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    let login = common::pages::get(&browser, app, "/login").await;
    let csrf = common::pages::hidden(&login.text, "csrf_token");
    let form = [("username", username), ("password", "investai-demo-2025"), ("csrf_token", csrf.as_str())];
    let signed_in = browser.post(format!("{}/login", app.address)).form(&form).send().await.expect("login");
    assert_eq!(signed_in.status(), 303, "{username} signs in");
    browser
}

/// Each role's pages link the documents it may have, and the links answer PDFs to the
/// browser's session: the investor's notices and statement, the SME's award letter, the
/// facility's quarterly statements.
async fn pages_link_each_role_to_its_documents(app: TestApp) {
    for (username, page, wanted) in [
        ("aurora", "/notices", "/api/v1/notices/"),
        ("aurora", "/notices", "/api/v1/distributions/"),
        ("aurora", "/", "/statement/pdf"),
        ("nordlicht", "/", "/letter/pdf"),
        ("seine-operator", "/", "/statements/"),
    ] {
        let browser = demo_browser(&app, username).await;
        let mut html = common::pages::get(&browser, &app, page).await.text;
        if username == "nordlicht" {
            // The award's letter is on the application's page.
            let application = common::pages::links(&html)
                .into_iter()
                .find(|l| l.starts_with("/applications/"))
                .expect("the SME's home links its application");
            html = common::pages::get(&browser, &app, &application).await.text;
        }
        let link = common::pages::links(&html)
            .into_iter()
            .find(|l| l.contains(wanted) && l.contains("pdf"))
            .unwrap_or_else(|| panic!("{username}: {page} links no {wanted} document"));
        let response = browser.get(format!("{}{link}", app.address)).send().await.expect("pdf");
        assert_eq!(response.status(), 200, "{username}: {link}");
        let bytes = response.bytes().await.expect("body");
        assert!(bytes.starts_with(b"%PDF-"), "{username}: {link} answers a PDF");
    }
}

on_both_backends!(
    spawn = super::common::spawn_demo;
    call_notices_carry_the_api_figures_and_payment_instructions,
    distribution_notices_and_statements_carry_the_api_figures,
    award_letters_and_facility_statements_carry_the_api_figures,
    only_an_admin_registers_a_valid_bank_account,
    pages_link_each_role_to_its_documents,
);
