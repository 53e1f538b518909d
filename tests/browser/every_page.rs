//! Every page of every demo user in Chromium, at a 1,366 px laptop and a 390 px phone: no
//! serious or critical axe-core violation, nothing wider than the screen and no text wider
//! than its box, every control in the
//! tab order (and on each home page reached by pressing Tab), and a screenshot of each.

use std::collections::BTreeSet;

use super::harness::{Browser, LAPTOP, PHONE};
use crate::common::pages::{crawl, signed_in};
use crate::common::TestApp;

/// Pages of one role visited in the browser at most (one per page shape, see [`shape`]).
const PAGES_PER_ROLE_MAX: usize = 40;
/// Tab presses on one page at most.
const TAB_PRESSES_MAX: usize = 400;

/// A page's path with its ids and query left out: `/funds/{id}/calls/{id}`. Pages of one shape
/// are drawn by one handler, so the browser visits the first of each.
fn shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|segment| {
            let id_like = segment.len() >= 8 && segment.chars().any(|c| c.is_ascii_digit()) && segment.contains('-');
            if id_like || (!segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit())) {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A screenshot name for a page: `funds-id-calls-id`, `home`.
fn screenshot_name(shape: &str) -> String {
    let name: String = shape.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let name = name.split('-').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-");
    if name.is_empty() {
        "home".into()
    } else {
        name
    }
}

/// The pages of a user: the first of each shape its links reach, home first.
async fn pages_of(app: &TestApp, username: &str, password: &str) -> Vec<String> {
    let client = signed_in(app, username, password).await;
    let mut shapes = BTreeSet::new();
    let mut pages = Vec::new();
    for (path, _) in crawl(&client, app, username).await {
        // The language links switch the session's language; the languages test reads those.
        if path.starts_with("/lang") || !shapes.insert(shape(&path)) {
            continue;
        }
        pages.push(path);
    }
    pages.truncate(PAGES_PER_ROLE_MAX);
    pages
}

async fn every_page_of_every_role_is_accessible_at_a_laptop_and_a_phone(app: &TestApp, browser: &Browser) {
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    let mut failures = Vec::new();
    let mut visited = 0;
    for user in &fixture.users {
        let pages = pages_of(app, &user.username, &user.password).await;
        let role = user.role.as_str();
        browser.viewport(LAPTOP).await;
        browser.login(&user.username, &user.password).await;
        for (size_name, size) in [("laptop", LAPTOP), ("phone", PHONE)] {
            browser.viewport(size).await;
            for path in &pages {
                browser.goto(path).await;
                browser.assert_not_error_page().await;
                visited += 1;
                let at = format!("{role} {size_name} {path}");
                for violation in browser.accessibility_violations().await {
                    failures.push(format!("{at}: {violation}"));
                }
                let (page_width, window_width) = browser.widths().await;
                if page_width > window_width {
                    failures.push(format!("{at}: {page_width} px wide in a {window_width} px window"));
                }
                for text in browser.overflowing_text().await {
                    failures.push(format!("{at}: text wider than its box: {text}"));
                }
                for control in browser.controls_out_of_tab_order().await {
                    failures.push(format!("{at}: out of the tab order: {control}"));
                }
                browser.screenshot(&format!("{}-{size_name}-{}", user.username, screenshot_name(&shape(path)))).await;
            }
        }
        browser.viewport(LAPTOP).await;
        browser.goto("/").await;
        for control in browser.controls_tab_misses(TAB_PRESSES_MAX).await {
            failures.push(format!("{role} laptop /: Tab never reaches {control}"));
        }
        browser.sign_out().await;
    }
    assert!(visited >= 2 * 6 * 2, "every role's pages were visited at both sizes: {visited}");
    eprintln!("{visited} page views checked, {} findings", failures.len());
    // The checks find what they look for: an image without text, a field without a label and a
    // link taken out of the tab order, added to the login page.
    browser.goto("/login").await;
    let planted = "document.querySelector('main').insertAdjacentHTML('beforeend', \
        '<img src=\"/static/none.png\"><input id=\"planted\"><a href=\"/\" tabindex=\"-1\">x</a>');";
    browser.client().execute(planted, vec![]).await.expect("plant faults");
    let found = browser.accessibility_violations().await.join("\n");
    assert!(found.contains("image-alt (critical)") && found.contains("label (critical)"), "{found}");
    assert_eq!(browser.controls_out_of_tab_order().await.len(), 1);
    assert!(failures.is_empty(), "{} findings:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn pages_of_one_shape_are_visited_once() {
    assert_eq!(
        shape("/funds/01a21946-0f3c-7d4e-9a1b-3e80e0000001/calls/01a21946-aaaa-7d4e-9a1b-3e80e0000002"),
        "/funds/{id}/calls/{id}"
    );
    assert_eq!(shape("/audit/journal?page=2"), "/audit/journal");
    assert_eq!(shape("/statements/f-1/inv-1"), "/statements/f-1/inv-1", "short names are kept");
    assert_eq!(screenshot_name("/funds/{id}/calls/{id}"), "funds-id-calls-id");
    assert_eq!(screenshot_name("/"), "home");
}

browser_tests!(module = pages, spawn = crate::common::spawn_app; every_page_of_every_role_is_accessible_at_a_laptop_and_a_phone);
