//! Pages in English, French and German on both backends: every page every demo user reaches
//! shows every label from the catalogue (none left in English), in the language chosen by the
//! switch, by the user's stored preference at the next sign-in, or by the browser's
//! `Accept-Language`.

mod common;

use common::pages::{crawl, get, hidden, read};
use common::TestApp;

async fn sign_in(app: &TestApp, username: &str, password: &str, accept_language: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("Accept-Language", accept_language.parse().expect("header"));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .expect("client");
    let login = get(&browser, app, "/login").await;
    let form = [("username", username), ("password", password), ("csrf_token", &hidden(&login.text, "csrf_token"))];
    let signed_in = read(browser.post(format!("{}/login", app.address)).form(&form).send().await.expect("login")).await;
    assert_eq!(signed_in.status, 303, "{username}: {}", signed_in.text);
    browser
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
    every_page_of_every_demo_user_reads_in_french_and_german,
    the_switch_and_the_stored_preference_choose_the_language,
);
