//! Log levels and response headers of client mistakes: anything an anonymous client can cause
//! logs at INFO or WARN, never at ERROR (which pages an operator); every page carries a strict
//! Content-Security-Policy; wrong methods answer 405 with `Allow`, and HEAD is GET without the
//! body; the `Bearer` scheme is
//! matched case-insensitively. The server runs in this process, so one subscriber sees its
//! events; this file holds only these tests, and none of them causes a server error.

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use common::TestApp;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Every event at INFO or above the server logged: level, and target and message.
type Events = Arc<Mutex<Vec<(Level, String)>>>;

struct Capture(Events);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        // INFO, WARN and ERROR only: TRACE and DEBUG are more verbose, so greater.
        if *event.metadata().level() > Level::INFO {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if let Ok(mut events) = self.0.lock() {
            events.push((*event.metadata().level(), format!("{}: {}", event.metadata().target(), message.0)));
        }
    }
}

/// The events of this test process, captured from the first call on.
fn events() -> Events {
    static EVENTS: OnceLock<Events> = OnceLock::new();
    EVENTS
        .get_or_init(|| {
            let events = Events::default();
            let subscriber = tracing_subscriber::registry().with(Capture(events.clone()));
            tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");
            events
        })
        .clone()
}

fn status(response: &reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn client_mistakes_never_log_at_error(app: TestApp) {
    let events = events();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let url = |path: &str| format!("{}{path}", app.address);
    let sent = [
        status(&client.get(url("/no/such/page")).send().await.expect("get")),
        status(&client.get(url("/api/v1/no-such-thing")).send().await.expect("get")),
        status(&client.get(url("/funds/nope")).send().await.expect("get")),
        status(&client.post(url("/login")).form(&[("username", "x"), ("password", "y")]).send().await.expect("post")),
        status(&client.get(url("/api/v1/funds")).bearer_auth("not-a-token").send().await.expect("get")),
        status(&client.delete(url("/api/v1/funds")).send().await.expect("delete")),
    ];
    assert_eq!(sent, [404, 404, 303, 403, 401, 405]);
    let logged = events.lock().map(|e| e.clone()).unwrap_or_default();
    let errors: Vec<&(Level, String)> =
        logged.iter().filter(|(level, message)| *level == Level::ERROR && !is_shutdown_race(message)).collect();
    assert!(errors.is_empty(), "client mistakes logged at ERROR: {errors:?}");
    assert!(
        logged
            .iter()
            .any(|(level, message)| matches!(*level, Level::INFO | Level::WARN) && message.contains("status=404")),
        "client mistakes are still logged, at INFO or WARN: {logged:?}"
    );
}

/// The acceptor of a node being stopped that takes one last connection after its workers have
/// gone logs "No workers" at ERROR (actix-server signals its acceptor to stop and stops the
/// workers without waiting between the two). The nodes of this binary's other tests stop while
/// this one runs, and their HTTP clients may still be opening a spare connection; no request
/// reaches a handler there, so nothing a client sends can cause it.
fn is_shutdown_race(message: &str) -> bool {
    message == "actix_server::accept: No workers"
}

/// The policy of pages: nothing but this origin's stylesheet, no script, forms to this
/// origin only, never in a frame.
async fn pages_carry_a_strict_content_security_policy(app: TestApp) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for path in ["/login", "/", "/no/such/page", "/api/v1/funds"] {
        let response = client.get(format!("{}{path}", app.address)).send().await.expect("get");
        let policy = response
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Content-Security-Policy on {path}"))
            .to_string();
        for directive in ["default-src 'none'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe-inline") && !policy.contains("script-src"), "{path}: {policy}");
    }
    // No page holds a script of its own or an inline style the policy would block.
    let login = client.get(format!("{}/login", app.address)).send().await.expect("get").text().await.expect("body");
    assert!(!login.contains("<script") && !login.contains("style="), "{login}");
}

async fn wrong_methods_answer_405_with_allow(app: TestApp) {
    let client = reqwest::Client::new();
    let response = client.delete(format!("{}/api/v1/funds", app.address)).send().await.expect("delete");
    assert_eq!(status(&response), 405);
    let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut methods: Vec<&str> = allow.split(',').map(str::trim).collect();
    methods.sort_unstable();
    assert_eq!(methods, ["GET", "HEAD", "POST"], "Allow: {allow}");
    let problem: serde_json::Value = response.json().await.expect("problem+json");
    assert_eq!(problem["status"], 405);
    // The health checks too, for any method (TRACE answered 404).
    for path in ["/healthz", "/readyz"] {
        let trace = reqwest::Method::from_bytes(b"TRACE").expect("method");
        let response = client.request(trace, format!("{}{path}", app.address)).send().await.expect("trace");
        assert_eq!(status(&response), 405, "{path}");
        assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET, HEAD"), "{path}");
    }
    let unknown = client.delete(format!("{}/api/v1/no-such-thing", app.address)).send().await.expect("delete");
    assert_eq!(status(&unknown), 404, "an unknown path stays a 404 whatever the method");
}

/// HEAD answers what GET answers, status and headers, its Content-Length included, without the
/// body (RFC 9110, section 9.3.2): the health checks, the API, pages and static files.
async fn head_is_get_without_the_body(app: TestApp) {
    let client = reqwest::Client::new();
    let token = app.auditor();
    for path in ["/healthz", "/readyz", "/api/v1/funds", "/login", "/static/app.css"] {
        let url = format!("{}{path}", app.address);
        let get = client.get(&url).bearer_auth(&token).send().await.expect("get");
        let (get_status, get_type) = (status(&get), header(&get, "content-type"));
        let get_body = get.bytes().await.expect("body");
        let head = client.head(&url).bearer_auth(&token).send().await.expect("head");
        assert_eq!((status(&head), header(&head, "content-type")), (get_status, get_type), "{path}");
        assert_eq!(header(&head, "content-length"), get_body.len().to_string(), "{path}");
        assert!(head.bytes().await.expect("body").is_empty(), "{path}: HEAD sent a body");
    }
    let unknown = client.head(format!("{}/api/v1/no-such-thing", app.address)).send().await.expect("head");
    assert_eq!(status(&unknown), 404);
    // Where GET is not served, neither is HEAD: 405 naming the methods that are.
    let approval = format!("{}/api/v1/proposals/{}/approval", app.address, uuid::Uuid::new_v4());
    let head = client.head(&approval).bearer_auth(&token).send().await.expect("head");
    assert_eq!((status(&head), header(&head, "allow")), (405, "POST".to_string()));
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn the_bearer_scheme_is_case_insensitive(app: TestApp) {
    let token = app.auditor();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/funds", app.address))
            .header("Authorization", format!("{scheme} {token}"))
            .send()
            .await
            .expect("get");
        assert_eq!(status(&response), 200, "scheme {scheme}");
    }
    let other = reqwest::Client::new()
        .get(format!("{}/api/v1/funds", app.address))
        .header("Authorization", format!("Basic {token}"))
        .send()
        .await
        .expect("get");
    assert_eq!(status(&other), 401);
}

on_both_backends!(
    client_mistakes_never_log_at_error,
    pages_carry_a_strict_content_security_policy,
    wrong_methods_answer_405_with_allow,
    head_is_get_without_the_body,
    the_bearer_scheme_is_case_insensitive,
);
