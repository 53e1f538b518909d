//! A browser's view of the HTML pages: fetch, read hidden fields, post forms, crawl links.

use std::collections::{BTreeSet, VecDeque};

use super::TestApp;

/// Pages one crawl visits at most per user.
pub const CRAWL_PAGES_MAX: usize = 120;

pub struct Html {
    pub status: u16,
    pub content_type: String,
    pub location: String,
    pub text: String,
}

pub async fn get(browser: &reqwest::Client, app: &TestApp, path: &str) -> Html {
    read(browser.get(format!("{}{path}", app.address)).send().await.expect("get")).await
}

pub async fn read(response: reqwest::Response) -> Html {
    let header =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (status, content_type, location) = (response.status().as_u16(), header("content-type"), header("location"));
    Html { status, content_type, location, text: response.text().await.expect("body") }
}

/// The value of the hidden input `name` in a page (every form of a page carries the same token).
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    page.split(&marker).nth(1).and_then(|s| s.split('"').next()).expect("hidden field").to_string()
}

/// Posts a form found on `page_path`, with its CSRF token and idempotency key and `fields`.
pub async fn post_form(
    browser: &reqwest::Client,
    app: &TestApp,
    page_path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Html {
    let page = get(browser, app, page_path).await;
    assert_eq!(page.status, 200, "{page_path}: {}", page.text);
    let mut form = vec![
        ("csrf_token".to_string(), hidden(&page.text, "csrf_token")),
        ("idempotency_key".to_string(), hidden(&page.text, "idempotency_key")),
    ];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    read(browser.post(format!("{}{action}", app.address)).form(&form).send().await.expect("post")).await
}

pub fn links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|href| href.starts_with('/'))
        .map(|href| href.replace("&amp;", "&").replace("&#38;", "&"))
        .collect()
}

/// A cookie-keeping client signed in through the login form as `username`.
pub async fn signed_in(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    signed_in_accepting(app, username, password, None).await
}

/// Like [`signed_in`], sending `Accept-Language` with every request when given.
pub async fn signed_in_accepting(
    app: &TestApp,
    username: &str,
    password: &str,
    accept_language: Option<&str>,
) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(accept) = accept_language {
        headers.insert("Accept-Language", accept.parse().expect("header"));
    }
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

/// Visits every page reachable from the home page by links (downloads, named like files, and
/// the API excepted),
/// asserting each is one of the site's HTML pages; the path and text of each.
pub async fn crawl(browser: &reqwest::Client, app: &TestApp, who: &str) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut visited = Vec::new();
    let mut queue = VecDeque::from([String::from("/")]);
    while let Some(path) = queue.pop_front() {
        if seen.len() == CRAWL_PAGES_MAX || !seen.insert(path.clone()) {
            continue;
        }
        let page = get(browser, app, &path).await;
        assert!(page.status < 500, "{who}: {path} answered {}: {}", page.status, page.text);
        assert_eq!(page.status, 200, "{who}: {path} is linked from its pages but answers {}", page.status);
        assert!(page.content_type.starts_with("text/html"), "{who}: {path} is {}", page.content_type);
        assert!(page.text.contains("<main id=\"main\">"), "{who}: {path} is one of the site's pages");
        for link in links(&page.text) {
            let download = link.rsplit('/').next().is_some_and(|file| file.contains('.'));
            let skip = link.starts_with("/api/") || link.starts_with("/static/") || link.starts_with('#') || download;
            if !skip && !seen.contains(&link) {
                queue.push_back(link);
            }
        }
        visited.push((path, page.text));
    }
    visited
}

/// The cells of each body row of the table with `caption`, as text.
pub fn table_rows(page: &str, caption: &str) -> Vec<Vec<String>> {
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
