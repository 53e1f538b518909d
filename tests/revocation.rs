//! Revocation, on both backends: signing out ends a token at once (API and browser); a token
//! whose user does not exist, is disabled, or no longer holds the token's role is refused;
//! administrators disable, re-enable, reset passwords and change roles, each ending the user's
//! earlier tokens and each recorded with who did it. The same across two nodes is in
//! `two_nodes.rs`.

use crate::common;

use common::{assert_problem, Reply, TestApp};
use investai::domain::roles::Role;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough password";

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Reply {
    app.post("/api/v1/auth/token", "", &json!({"username": username, "password": password})).await
}

async fn token_of(app: &TestApp, username: &str, password: &str) -> String {
    let reply = sign_in(app, username, password).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["access_token"].as_str().expect("token").to_string()
}

/// A new staff user with `PASSWORD`; returns their id.
async fn add_staff(app: &TestApp, admin: &str, username: &str) -> String {
    let body = json!({"username": username, "role": "staff", "password": PASSWORD});
    let reply = app.post("/api/v1/users", admin, &body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["id"].as_str().expect("id").to_string()
}

async fn reads(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/funds", token).await.status
}

async fn signing_out_ends_the_token_at_once(app: TestApp) {
    let admin = app.token(Role::Admin, "root");
    add_staff(&app, &admin, "dana").await;
    let (first, second) = (token_of(&app, "dana", PASSWORD).await, token_of(&app, "dana", PASSWORD).await);
    assert_eq!(reads(&app, &first).await, 200);
    let out = app.post("/api/v1/auth/sign-out", &first, &Value::Null).await;
    assert_eq!(out.status, 204, "{}", out.text);
    let refused = app.get("/api/v1/funds", &first).await;
    assert_problem(&refused, 401, None);
    assert!(refused.body["detail"].as_str().unwrap_or_default().contains("signed out"), "{}", refused.text);
    assert_eq!(reads(&app, &second).await, 200, "the user's other session goes on");
    assert_eq!(app.post("/api/v1/auth/sign-out", &first, &Value::Null).await.status, 401);

    // A browser session: after signing out, its token is refused as a cookie and as a bearer.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    let csrf = |page: &str| {
        page.split("name=\"csrf_token\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf").to_string()
    };
    let form = browser.get(format!("{}/login", app.address)).send().await.expect("form").text().await.expect("page");
    let signed_in = browser
        .post(format!("{}/login", app.address))
        .form(&[("username", "dana"), ("password", PASSWORD), ("csrf_token", &csrf(&form))])
        .send()
        .await
        .expect("login");
    assert_eq!(signed_in.status().as_u16(), 303);
    let session = signed_in
        .cookies()
        .find(|c| c.name() == "investai_session")
        .map(|c| c.value().to_string())
        .expect("session cookie");
    let home = browser.get(format!("{}/", app.address)).send().await.expect("home");
    assert_eq!(home.status().as_u16(), 200);
    let home = home.text().await.expect("page");
    let out = browser
        .post(format!("{}/logout", app.address))
        .form(&[("csrf_token", csrf(&home))])
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status().as_u16(), 303);
    assert_problem(&app.get("/api/v1/funds", &session).await, 401, None);
    let replayed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/", app.address))
        .header("Cookie", format!("investai_session={session}"))
        .send()
        .await
        .expect("replay");
    assert_eq!(replayed.status().as_u16(), 303, "a signed-out cookie leads to the sign-in page");
}

async fn tokens_that_speak_for_no_active_user_are_refused(app: TestApp) {
    let ghost = app.keys.mint(Role::Staff, "ghost", 0, 600).expect("mint").0;
    let refused = app.get("/api/v1/funds", &ghost).await;
    assert_problem(&refused, 401, None);
    assert!(refused.body["detail"].as_str().unwrap_or_default().contains("does not exist"), "{}", refused.text);
    // A staff user's name in a token that claims the admin role.
    app.user_for(Role::Staff, "alice");
    let elevated = app.keys.mint(Role::Admin, "alice", 0, 600).expect("mint").0;
    assert_problem(&app.get("/api/v1/users", &elevated).await, 401, None);
    // A token from before the user's credentials version.
    let stale = app.keys.mint(Role::Staff, "alice", -1, 600).expect("mint").0;
    assert_problem(&app.get("/api/v1/funds", &stale).await, 401, None);
    assert_eq!(reads(&app, &app.staff()).await, 200);
}

async fn administrators_disable_reset_and_re_role_and_each_is_recorded(app: TestApp) {
    let admin = app.token(Role::Admin, "root");
    let id = add_staff(&app, &admin, "erin").await;
    let act = |action: &str| format!("/api/v1/users/{id}/{action}");
    let first = token_of(&app, "erin", PASSWORD).await;

    let disabled = app.post(&act("disable"), &admin, &Value::Null).await;
    assert_eq!((disabled.status, &disabled.body["disabled"]), (200, &json!(true)), "{}", disabled.text);
    assert_problem(&app.get("/api/v1/funds", &first).await, 401, None);
    assert_problem(&sign_in(&app, "erin", PASSWORD).await, 401, None);

    assert_eq!(app.post(&act("enable"), &admin, &Value::Null).await.status, 200);
    assert_problem(&app.get("/api/v1/funds", &first).await, 401, None);
    let second = token_of(&app, "erin", PASSWORD).await;
    assert_eq!(reads(&app, &second).await, 200);

    let weak = app.post(&act("password"), &admin, &json!({"password": "short"})).await;
    assert_problem(&weak, 400, Some("password"));
    assert_eq!(reads(&app, &second).await, 200, "a refused reset changes nothing");
    let new_password = "another long password";
    assert_eq!(app.post(&act("password"), &admin, &json!({"password": new_password})).await.status, 200);
    assert_problem(&app.get("/api/v1/funds", &second).await, 401, None);
    assert_problem(&sign_in(&app, "erin", PASSWORD).await, 401, None);
    let third = token_of(&app, "erin", new_password).await;

    let no_party = app.post(&act("role"), &admin, &json!({"role": "investor"})).await;
    assert_problem(&no_party, 400, Some("party_id"));
    let unknown = json!({"role": "investor", "party_id": "01934b7e-0000-7000-8000-00000000ffff"});
    let unknown_party = app.post(&act("role"), &admin, &unknown).await;
    assert_problem(&unknown_party, 422, Some("party_id"));
    assert_eq!(reads(&app, &third).await, 200, "a refused role change changes nothing");
    let auditor = app.post(&act("role"), &admin, &json!({"role": "auditor"})).await;
    assert_eq!((auditor.status, &auditor.body["role"]), (200, &json!("auditor")), "{}", auditor.text);
    assert_problem(&app.get("/api/v1/funds", &third).await, 401, None);
    assert_eq!(sign_in(&app, "erin", new_password).await.body["role"], "auditor");

    // Only administrators, only existing users, never their own account.
    assert_problem(&app.post(&act("disable"), &app.staff(), &Value::Null).await, 403, None);
    let missing = "/api/v1/users/01934b7e-0000-7000-8000-00000000eeee/disable";
    assert_problem(&app.post(missing, &admin, &Value::Null).await, 404, None);
    assert_problem(&app.post("/api/v1/users/not-a-uuid/disable", &admin, &Value::Null).await, 400, Some("id"));
    let root = app.user_for(Role::Admin, "root");
    let own = app.post(&format!("/api/v1/users/{}/disable", root.id), &admin, &Value::Null).await;
    assert_problem(&own, 409, None);
    assert_eq!(own.body["type"], "/problems/own-account");
    assert_eq!(reads(&app, &admin).await, 200);

    let events = app.get(&format!("/api/v1/users/{id}/events"), &admin).await;
    assert_eq!(events.status, 200, "{}", events.text);
    let items = events.body["items"].as_array().expect("items");
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(actions, ["created", "disabled", "enabled", "password_reset", "role_changed"]);
    assert!(items.iter().all(|e| e["actor"] == "admin:root"), "{}", events.text);
    assert_eq!(items[4]["detail"], "staff to auditor");
    let page = app.get(&format!("/api/v1/users/{id}/events?limit=2"), &admin).await;
    let after = page.body["next_after"].as_str().expect("next page");
    let rest = app.get(&format!("/api/v1/users/{id}/events?limit=200&after={after}"), &admin).await;
    assert_eq!(rest.body["items"].as_array().map(Vec::len), Some(3));
    let exactly = app.get(&format!("/api/v1/users/{id}/events?limit=5"), &admin).await;
    assert_eq!(exactly.body["items"].as_array().map(Vec::len), Some(5));
    assert_eq!(exactly.body["next_after"], Value::Null, "five events fill the page: {}", exactly.text);
    assert_problem(&app.get(&format!("/api/v1/users/{id}/events?limit=0"), &admin).await, 400, Some("query.limit"));
}

/// The same changes from the administrator's pages: each shows on the user's page and in its
/// history; a refused one shows the form again with the reason and changes nothing.
async fn an_administrator_changes_accounts_from_the_pages(app: TestApp) {
    use common::pages::{get, post_form};
    let admin = app.browser_as("pat", Role::Admin, None).await;
    let id = add_staff(&app, &app.token(Role::Admin, "root"), "quinn").await;
    let user_page = format!("/admin/users/{id}");
    let list = get(&admin, &app, "/admin/users").await;
    assert!(list.text.contains(&format!("href=\"{user_page}\"")), "the list links to the user's page");
    let token = token_of(&app, "quinn", PASSWORD).await;

    let weak = post_form(&admin, &app, &user_page, &format!("{user_page}/password"), &[("password", "short")]).await;
    assert_eq!(weak.status, 400, "{}", weak.text);
    assert!(weak.text.contains("at least 12"), "the reason is shown next to the field");
    assert_eq!(reads(&app, &token).await, 200, "a refused reset changes nothing");

    let disabled = post_form(&admin, &app, &user_page, &format!("{user_page}/disable"), &[]).await;
    assert_eq!((disabled.status, disabled.location.as_str()), (303, format!("{user_page}?done=account").as_str()));
    assert_problem(&app.get("/api/v1/funds", &token).await, 401, None);
    let page = get(&admin, &app, &user_page).await;
    assert!(page.text.contains("disabled") && page.text.contains("Enable user"), "{}", page.text);
    assert!(page.text.contains("admin:pat"), "the history names who did it");

    let enabled = post_form(&admin, &app, &user_page, &format!("{user_page}/enable"), &[]).await;
    assert_eq!(enabled.status, 303);
    let role_action = format!("{user_page}/role");
    let role = post_form(&admin, &app, &user_page, &role_action, &[("role", "auditor"), ("party_id", "")]).await;
    assert_eq!(role.status, 303, "{}", role.text);
    assert_eq!(sign_in(&app, "quinn", PASSWORD).await.body["role"], "auditor");
    let unknown = post_form(&admin, &app, &user_page, &format!("{user_page}/promote"), &[]).await;
    assert_eq!(unknown.status, 404);
    let own = app.user_for(Role::Admin, "root");
    let other_admin_page = format!("/admin/users/{}", own.id);
    let staff_browser = app.browser_as("rita", Role::Staff, None).await;
    assert_eq!(get(&staff_browser, &app, &other_admin_page).await.status, 403);
}

on_both_backends!(
    an_administrator_changes_accounts_from_the_pages,
    signing_out_ends_the_token_at_once,
    tokens_that_speak_for_no_active_user_are_refused,
    administrators_disable_reset_and_re_role_and_each_is_recorded,
);
