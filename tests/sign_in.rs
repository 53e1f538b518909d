//! Sign-in under attack, on both backends: failed sign-ins are throttled per account and
//! client address with growing waits (429 and `Retry-After`), a success clears the account's
//! count, and more sign-ins at once than the node hashes and queues are refused at once
//! instead of piling up; both refusals are answered after a hold, so that a flood's connections
//! wait. The servers here hash on one thread, so the queue is short.

use crate::common;

use std::time::{Duration, Instant};

use common::{assert_problem, Backend, Reply, TestApp};
use futures_util::future::join_all;
use serde_json::json;

const PASSWORD: &str = "a long enough password";
/// The servers' `sign_in_refusal_hold_millis`: shorter than the first throttle wait (1 s), so
/// that two held refusals fit in it.
const REFUSAL_HOLD: Duration = Duration::from_millis(300);

async fn spawn_with_one_hash_thread(backend: Backend) -> TestApp {
    common::spawn_app_with(backend, |s| {
        s.password_hash_threads = 1;
        s.sign_in_refusal_hold_millis = REFUSAL_HOLD.as_millis() as u64;
    })
    .await
}

async fn create_user(app: &TestApp, username: &str) {
    let admin = app.token(investai::domain::roles::Role::Admin, "root");
    let body = json!({"username": username, "role": "staff", "password": PASSWORD});
    let reply = app.post("/api/v1/users", &admin, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Reply {
    app.post("/api/v1/auth/token", "", &json!({"username": username, "password": password})).await
}

/// Signs in on the browser's login form, with its CSRF token.
async fn sign_in_on_the_form(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let browser = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let form = browser.get(format!("{}/login", app.address)).send().await.expect("form").text().await.expect("page");
    let csrf = form.split("name=\"csrf_token\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
    let fields = [("username", username), ("password", password), ("csrf_token", csrf)];
    browser.post(format!("{}/login", app.address)).form(&fields).send().await.expect("login")
}

fn retry_after(reply: &Reply) -> u64 {
    reply.headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

async fn failed_sign_ins_wait_longer_and_a_success_clears_them(app: TestApp) {
    create_user(&app, "alice").await;
    // Five failures are free, the sixth sets a wait of 1 s.
    for attempt in 1..=6 {
        let reply = sign_in(&app, "alice", "wrong password!").await;
        assert_problem(&reply, 401, None);
        assert!(reply.headers.get("retry-after").is_none(), "attempt {attempt}");
    }
    let asked = Instant::now();
    let throttled = sign_in(&app, "alice", PASSWORD).await;
    assert!(asked.elapsed() >= REFUSAL_HOLD, "a refusal is answered after the hold: {:?}", asked.elapsed());
    assert_problem(&throttled, 429, None);
    assert_eq!(throttled.body["type"], "/problems/sign-in-throttled");
    assert_eq!(retry_after(&throttled), 1, "{:?}", throttled.headers);
    // The browser form is throttled too, and says so on the page.
    let page = sign_in_on_the_form(&app, "alice", PASSWORD).await;
    assert_eq!(page.status().as_u16(), 429);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.expect("page").contains("too many failed sign-ins"));

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let signed_in = sign_in(&app, "alice", PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    // The success cleared the account's count: one more failure is free again.
    assert_problem(&sign_in(&app, "alice", "wrong password!").await, 401, None);
    assert_eq!(sign_in(&app, "alice", PASSWORD).await.status, 200);
}

async fn a_sign_in_flood_is_refused_beyond_the_hashing_queue(app: TestApp) {
    let attempts = (0..40).map(|n| {
        let app = &app;
        async move {
            let asked = Instant::now();
            let reply = sign_in(app, &format!("nobody-{n}"), "wrong password!").await;
            if reply.status == 429 {
                assert!(asked.elapsed() >= REFUSAL_HOLD, "a busy refusal came after {:?}", asked.elapsed());
            }
            reply
        }
    });
    let replies = join_all(attempts).await;
    let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    let checked = replies.iter().filter(|r| r.status == 401).count();
    assert_eq!(busy.len() + checked, 40, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(!busy.is_empty(), "40 at once on one hashing thread");
    for reply in &busy {
        assert_eq!(reply.body["type"], "/problems/sign-in-busy");
        assert_eq!(retry_after(reply), 1);
    }
    // Reads go on meanwhile, and the node hashes again once the flood is over.
    assert_eq!(app.get("/api/v1/funds", &app.auditor()).await.status, 200);
    create_user(&app, "bob").await;
    assert_eq!(sign_in(&app, "bob", PASSWORD).await.status, 200);
}

/// A name no account can have (a NUL byte, which PostgreSQL refuses as text; a megabyte of
/// letters) is refused as an unknown name is, by the API and by the form.
async fn a_name_no_account_can_have_is_refused_as_an_unknown_one(app: TestApp) {
    let unknown = sign_in(&app, "nobody", "wrong password!").await;
    assert_problem(&unknown, 401, None);
    for name in ["a\u{0}b".to_string(), "x".repeat(1 << 20)] {
        let reply = sign_in(&app, &name, "wrong password!").await;
        assert_problem(&reply, 401, None);
        assert_eq!(reply.body["detail"], unknown.body["detail"], "{:.20}", name);
    }
    let page = sign_in_on_the_form(&app, "a\u{0}b", PASSWORD).await;
    assert_eq!(page.status().as_u16(), 401);
    create_user(&app, "carol").await;
    assert_eq!(sign_in(&app, "carol", PASSWORD).await.status, 200);
}

on_both_backends!(
    spawn = super::spawn_with_one_hash_thread;
    a_name_no_account_can_have_is_refused_as_an_unknown_one,
    failed_sign_ins_wait_longer_and_a_success_clears_them,
    a_sign_in_flood_is_refused_beyond_the_hashing_queue,
);
