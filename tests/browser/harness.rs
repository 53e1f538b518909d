//! Browser harness: headless Chromium, driven through chromedriver (WebDriver), against the
//! real server on port 0 and a fresh SQLite database.
//!
//! Each test gets its own chromedriver on a free port, its own Chromium profile in a
//! temporary folder and its own server. Chromedriver runs in a process group of its own and
//! the whole group (chromedriver, Chromium and its helpers) is killed when the [`Browser`]
//! is dropped, so nothing is left running after `cargo test`, even when a test panics.
//!
//! Chromium and chromedriver must be installed (Debian: `apt-get install chromium
//! chromium-driver`); without them the tests fail, unless `INVESTAI_SKIP_BROWSER=1`.
//! `INVESTAI_CHROMIUM` and `INVESTAI_CHROMEDRIVER` name other binaries.
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use investai::domain::roles::Role;
use serde_json::{json, Value};

use crate::common::TestApp;

/// Set to `1` to skip the browser tests where Chromium cannot be installed.
pub const SKIP_ENV: &str = "INVESTAI_SKIP_BROWSER";

/// Password of the users the harness creates with [`Browser::sign_in_new`].
pub const PASSWORD: &str = "correct horse battery staple";

/// Desktop window (the size every session starts with).
pub const DESKTOP: (u32, u32) = (1280, 900);
/// Phone-sized viewport (CSS pixels).
pub const PHONE: (u32, u32) = (390, 844);
/// A common laptop screen.
pub const LAPTOP: (u32, u32) = (1366, 768);

/// How long a click may take to lead to the next page.
const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(10);

const INSTALL_HINT: &str = "browser tests need Chromium and chromedriver: on Debian \
    `apt-get install chromium chromium-driver` (`.ci/run` does this); \
    INVESTAI_CHROMIUM / INVESTAI_CHROMEDRIVER name other binaries; \
    set INVESTAI_SKIP_BROWSER=1 to skip these tests where they cannot run";

/// True (and says so) when the browser tests are to be skipped.
pub fn skipped(test: &str) -> bool {
    let skip = std::env::var(SKIP_ENV).is_ok_and(|v| v == "1");
    if skip {
        eprintln!("{test}: skipped ({SKIP_ENV}=1)");
    }
    skip
}

/// Generates one `#[tokio::test]` per test function `async fn(&TestApp, &Browser)`: each runs
/// against its own server (SQLite) and browser. Attributes such as `#[ignore = "why"]` may
/// precede a name. A failing test leaves `<test>-failure.png` and prints the page's address
/// and text.
#[macro_export]
macro_rules! browser_tests {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {
        browser_tests!(module = chromium, spawn = $crate::common::spawn_app; $($(#[$meta])* $name),*);
    };
    (module = $module:ident, spawn = $spawn:path; $($(#[$meta:meta])* $name:ident),* $(,)?) => {
        mod $module {
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::browser::harness::skipped(stringify!($name)) {
                        return;
                    }
                    $crate::browser::harness::clear_screenshots(stringify!($name));
                    let app = $spawn($crate::common::Backend::Sqlite).await;
                    let browser = $crate::browser::harness::Browser::open(&app, stringify!($name)).await;
                    let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
                        super::$name(&app, &browser),
                    ))
                    .await;
                    if let Err(panic) = outcome {
                        browser.report_failure().await;
                        std::panic::resume_unwind(panic);
                    }
                }
            )*
        }
    };
}

/// Creates a user through the admin API (argon2-hashed password, as `investai user add` does).
/// A party named `name` is registered first when it is not an id: an investor's as a source, a
/// facility operator's as a facility (a user acts only for a party that exists).
pub async fn add_user(app: &TestApp, username: &str, role: Role, party: Option<&str>, password: &str) {
    let admin = app.token(Role::Admin, "harness-admin");
    let party = match party {
        Some(name) if uuid::Uuid::parse_str(name).is_err() && matches!(role, Role::Investor | Role::Facility) => {
            let (path, body) = if role == Role::Investor {
                ("/api/v1/sources", json!({"kind": "private", "legal_name": name, "country": "FR"}))
            } else {
                (
                    "/api/v1/facilities",
                    json!({"name": name, "kind": "ai_factory", "member_state": "FI",
                    "chip_count": 100, "chip_type": "H100", "quarterly_capacity_gpu_hours": 100000}),
                )
            };
            let registered = app.post(path, &app.staff(), &body).await;
            assert_eq!(registered.status, 201, "register {name}: {}", registered.text);
            registered.body["id"].as_str().map(String::from)
        }
        Some(name) if role == Role::Sme => Some(crate::common::party_id(name)),
        other => other.map(String::from),
    };
    let body = json!({"username": username, "role": role, "party_id": party, "password": password});
    let created = app.post("/api/v1/users", &admin, &body).await;
    assert_eq!(created.status, 201, "add user {username}: {}", created.text);
}

/// Removes the screenshots an earlier run of `test` left, so the folder shows this run only.
pub fn clear_screenshots(test: &str) {
    let prefix = format!("{test}-");
    for entry in std::fs::read_dir(screenshot_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".png") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Where screenshots go: `<target dir>/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |name| dir.join(name))).find(|p| p.is_file())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A chromedriver process group and the temporary folder holding Chromium's profile.
struct Driver {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group (process_group(0) at spawn); Chromium and
        // its helpers stay in it. Kill them all, then reap chromedriver.
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is touched.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

impl Driver {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }

    async fn start(chromedriver: &Path) -> Driver {
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir for the browser profile");
            let log = std::fs::File::create(dir.path().join("chromedriver.log")).expect("chromedriver log file");
            let port = free_port();
            let child = Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .env("TMPDIR", dir.path())
                .env("XDG_CONFIG_HOME", dir.path().join("config"))
                .env("XDG_CACHE_HOME", dir.path().join("cache"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL_HINT}", chromedriver.display()));
            let mut driver = Driver { child, port, dir };
            if driver.ready().await {
                return driver;
            }
            last_log = driver.log();
        }
        panic!("chromedriver did not start (3 tries); its log:\n{last_log}");
    }

    /// Waits until chromedriver answers `/status` with `ready`; false if it exited or timed out.
    async fn ready(&mut self) -> bool {
        let status = format!("http://127.0.0.1:{}/status", self.port);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if let Ok(reply) = client.get(&status).send().await {
                if let Ok(body) = reply.json::<Value>().await {
                    if body["value"]["ready"] == true {
                        return true;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

/// One browser session on one test's server.
pub struct Browser {
    // Dropped before the driver: the session goes first, then the process group.
    client: Client,
    base: String,
    test: String,
    driver: Driver,
}

impl Browser {
    /// Starts chromedriver and a desktop-sized headless Chromium session on `app`.
    /// Panics with install instructions if Chromium or chromedriver is missing.
    pub async fn open(app: &TestApp, test: &str) -> Browser {
        let chromedriver = program("INVESTAI_CHROMEDRIVER", &["chromedriver"])
            .unwrap_or_else(|| panic!("chromedriver not found; {INSTALL_HINT}"));
        let chromium =
            program("INVESTAI_CHROMIUM", &["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"])
                .unwrap_or_else(|| panic!("Chromium not found; {INSTALL_HINT}"));
        let driver = Driver::start(&chromedriver).await;
        let profile = driver.dir.path().join("profile");
        let (width, height) = DESKTOP;
        let options = json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"), format!("--user-data-dir={}", profile.display()),
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--force-device-scale-factor=1", "--lang=en-GB",
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| panic!("no browser session: {e}; chromedriver log:\n{}", driver.log()));
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await
            .expect("set WebDriver timeouts");
        let browser = Browser { client, base: app.address.clone(), test: test.to_string(), driver };
        // The window is DESKTOP; the page area (and every screenshot) is made exactly DESKTOP too.
        browser.viewport(DESKTOP).await;
        browser
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` (e.g. `/login`) on the test's server and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client.goto(&url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Signs in through the real login form. Does not check the outcome.
    pub async fn login(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("username", username).await;
        self.fill("password", password).await;
        self.submit("Sign in").await;
    }

    /// Creates a user with [`PASSWORD`] and signs in as it; asserts that the login page is
    /// left for one of the site's pages.
    pub async fn sign_in_new(&self, app: &TestApp, username: &str, role: Role, party: Option<&str>) {
        add_user(app, username, role, party, PASSWORD).await;
        self.login(username, PASSWORD).await;
        assert_ne!(self.current_path().await, "/login", "sign in as {username}: {}", self.page_text().await);
        self.assert_not_error_page().await;
    }

    /// Signs out with the navigation's "Sign out" button.
    pub async fn sign_out(&self) {
        self.submit("Sign out").await;
    }

    async fn element(&self, locator: Locator<'_>, what: &str) -> Element {
        match self.client.find(locator).await {
            Ok(element) => element,
            Err(e) => {
                panic!("{what} not found on {}: {e}\npage text:\n{}", self.current_path().await, self.page_text().await)
            }
        }
    }

    /// Types `value` into the field with id `field_id` (after clearing it). Date, time, colour
    /// and range inputs are set directly, as typing into them depends on the browser's locale.
    pub async fn fill(&self, field_id: &str, value: &str) {
        let field = self.element(Locator::Id(field_id), &format!("field #{field_id}")).await;
        let kind = field.attr("type").await.ok().flatten().unwrap_or_default();
        if matches!(kind.as_str(), "date" | "time" | "datetime-local" | "month" | "week" | "color" | "range") {
            let script = "const f = arguments[0]; f.value = arguments[1]; \
                f.dispatchEvent(new Event('input', {bubbles: true})); \
                f.dispatchEvent(new Event('change', {bubbles: true}));";
            let element = serde_json::to_value(&field).expect("element reference");
            self.client.execute(script, vec![element, json!(value)]).await.expect("set field value");
        } else {
            field.clear().await.unwrap_or_else(|e| panic!("clear #{field_id}: {e}"));
            field.send_keys(value).await.unwrap_or_else(|e| panic!("type into #{field_id}: {e}"));
        }
    }

    /// Chooses the option of `<select id=field_id>` whose value, or else whose label, is `value`.
    pub async fn select(&self, field_id: &str, value: &str) {
        let field = self.element(Locator::Id(field_id), &format!("select #{field_id}")).await;
        if field.select_by_value(value).await.is_err() {
            field.select_by_label(value).await.unwrap_or_else(|e| panic!("no option {value:?} in #{field_id}: {e}"));
        }
    }

    /// Clicks the button (or submit input) whose visible text is `button`, and waits for the
    /// page it leads to.
    pub async fn submit(&self, button: &str) {
        let xpath = button_xpath(button);
        let element = self.element(Locator::XPath(&xpath), &format!("button {button:?}")).await;
        self.click_and_wait(element, button).await;
    }

    /// Submits the form matched by `form_css` with its first submit button.
    pub async fn submit_form(&self, form_css: &str) {
        let css =
            format!("{form_css} button[type=submit], {form_css} button:not([type]), {form_css} input[type=submit]");
        let element = self.element(Locator::Css(&css), &format!("a submit button in {form_css}")).await;
        self.click_and_wait(element, form_css).await;
    }

    /// Clicks the element matched by `css` (a link, a button) and waits for the page it leads to.
    pub async fn follow(&self, css: &str) {
        let element = self.element(Locator::Css(css), css).await;
        self.click_and_wait(element, css).await;
    }

    /// Clicks the element matched by `css` without waiting for any navigation.
    pub async fn click(&self, css: &str) {
        let element = self.element(Locator::Css(css), css).await;
        element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks `element` and waits until another page has replaced this one and has loaded.
    /// A click returns before the navigation it starts (a form post, a redirect) is done, so
    /// the old page is marked first and the wait is for a document without the mark.
    async fn click_and_wait(&self, element: Element, what: &str) {
        self.script("document.investaiHarnessOldPage = true;").await;
        element.click().await.unwrap_or_else(|e| panic!("click {what}: {e}"));
        let deadline = Instant::now() + NAVIGATION_TIMEOUT;
        loop {
            let check = "return document.investaiHarnessOldPage !== true && document.readyState === 'complete';";
            if let Ok(Value::Bool(true)) = self.client.execute(check, vec![]).await {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: no new page within {NAVIGATION_TIMEOUT:?} (a required field left empty?); \
                     still on {}:\n{}",
                    self.current_path().await,
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The rendered text of the first element matched by `css`; panics if there is none.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self.element(Locator::Css(css), css).await;
        element.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// The rendered text of every element matched by `css` (none: empty).
    pub async fn texts_of(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap_or_default() {
            texts.push(element.text().await.unwrap_or_default());
        }
        texts
    }

    /// The current value of the field with id `field_id` (what is typed in it, not the
    /// `value` attribute the page was sent with).
    pub async fn value_of(&self, field_id: &str) -> String {
        let field = self.element(Locator::Id(field_id), &format!("field #{field_id}")).await;
        field.prop("value").await.unwrap_or_else(|e| panic!("value of #{field_id}: {e}")).unwrap_or_default()
    }

    /// An attribute of the first element matched by `css`.
    pub async fn attr_of(&self, css: &str, attribute: &str) -> Option<String> {
        let element = self.element(Locator::Css(css), css).await;
        element.attr(attribute).await.unwrap_or_else(|e| panic!("{attribute} of {css}: {e}"))
    }

    /// Every link matched by `css` as (text, href as written in the page).
    pub async fn links(&self, css: &str) -> Vec<(String, String)> {
        let mut links = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap_or_default() {
            let text = element.text().await.unwrap_or_default();
            let href = element.attr("href").await.ok().flatten().unwrap_or_default();
            links.push((text, href));
        }
        links
    }

    /// Whether an element matches `css`.
    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// The rendered text of the whole page.
    pub async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The path of the page shown, without query (`/login`).
    pub async fn current_path(&self) -> String {
        self.client.current_url().await.map(|url| url.path().to_string()).unwrap_or_default()
    }

    async fn script(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// The HTTP status of the page shown (Navigation Timing), 0 if the browser does not tell.
    pub async fn status(&self) -> u16 {
        let value = self
            .script("const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus || 0 : 0;")
            .await;
        value.as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(0)
    }

    /// The MIME type of the page shown (`text/html` for the site's pages).
    pub async fn content_type(&self) -> String {
        self.script("return document.contentType;").await.as_str().unwrap_or_default().to_string()
    }

    /// Requests `path` from the page with the browser's session (as a link would, without
    /// leaving the page) and returns the status and the MIME type of the answer; a redirect
    /// is not followed and gives `(0, "redirect")`.
    pub async fn fetch(&self, path: &str) -> (u16, String) {
        let script = "const done = arguments[arguments.length - 1]; \
            fetch(arguments[0], {redirect: 'manual'}) \
              .then(r => done(r.type === 'opaqueredirect' ? [0, 'redirect'] \
                : [r.status, (r.headers.get('content-type') || '').split(';')[0]])) \
              .catch(e => done([0, String(e)]));";
        let value =
            self.client.execute_async(script, vec![json!(path)]).await.unwrap_or_else(|e| panic!("fetch {path}: {e}"));
        let status = value[0].as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or(0);
        (status, value[1].as_str().unwrap_or_default().to_string())
    }

    /// Saves a PNG of the viewport as `target/screenshots/<test>-<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        self.save_png(name, &png)
    }

    /// Like [`Browser::screenshot`], but of the whole page, however long.
    pub async fn screenshot_full_page(&self, name: &str) -> PathBuf {
        let shot = self.cdp("Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": true})).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        self.save_png(name, &png)
    }

    fn save_png(&self, name: &str, png: &[u8]) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{}-{name}.png", self.test));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// The page's scroll width and the window's inner width, in CSS pixels: a page fits when
    /// the first is not above the second (no sideways scrolling).
    pub async fn widths(&self) -> (u64, u64) {
        let widths = self
            .client()
            .execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![])
            .await
            .expect("widths");
        (widths[0].as_u64().unwrap_or(u64::MAX), widths[1].as_u64().unwrap_or(0))
    }

    /// Text that runs out of its box sideways, clipped or over its neighbours (a word longer
    /// than the line, say): each as the start of its element's markup.
    pub async fn overflowing_text(&self) -> Vec<String> {
        let script = "return [...document.querySelectorAll('main p, main li, main dd, main dt, main label, main h1, main h2, main h3, main caption')] \
            .filter(e => !e.classList.contains('visually-hidden') && e.getClientRects().length > 0) \
            .filter(e => e.scrollWidth > e.clientWidth + 1) \
            .map(e => e.outerHTML.slice(0, 120));";
        let found = self.script(script).await;
        found.as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
    }

    /// The captions of the tables that scroll sideways in their card (wider than it).
    pub async fn scrolling_tables(&self) -> Vec<String> {
        let script = "return [...document.querySelectorAll('.table-wrap')]\
            .filter(w => w.scrollWidth > w.clientWidth + 1)\
            .map(w => w.getAttribute('aria-label') + ' (' + w.scrollWidth + ' > ' + w.clientWidth + ')');";
        let found = self.client().execute(script, vec![]).await.expect("table widths");
        found.as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
    }

    /// Resizes the viewport to `width` x `height` CSS pixels (e.g. [`PHONE`], [`DESKTOP`]), and
    /// emulates a touch screen below desktop width.
    pub async fn viewport(&self, (width, height): (u32, u32)) {
        let mobile = width < 600;
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
        self.cdp("Emulation.setTouchEmulationEnabled", json!({"enabled": mobile})).await;
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.client.session_id().await.ok().flatten().expect("WebDriver session id");
        let url = format!("http://127.0.0.1:{}/session/{session}/goog/cdp/execute", self.driver.port);
        let reply = reqwest::Client::new()
            .post(&url)
            .json(&json!({"cmd": cmd, "params": params}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"));
        let ok = reply.status().is_success();
        let body: Value = reply.json().await.unwrap_or_default();
        assert!(ok, "CDP {cmd} refused: {body}");
        body["value"].clone()
    }

    /// Presses and releases `key` (e.g. `Key::Tab`), sent to whatever has focus.
    pub async fn press(&self, key: Key) {
        let key: char = key.into();
        let actions =
            KeyActions::new("keyboard".into()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        self.client.perform_actions(actions).await.expect("key press");
        self.client.release_actions().await.expect("release keys");
    }

    /// Whether the focused element matches `css`; a failure message shows what has focus.
    pub async fn assert_focus(&self, css: &str) {
        let script = "const a = document.activeElement; \
            return [a ? a.matches(arguments[0]) : false, a ? a.outerHTML.slice(0, 200) : 'nothing'];";
        let value = self.client.execute(script, vec![json!(css)]).await.expect("active element");
        assert_eq!(value[0], true, "focus should be on {css}, is on {}", value[1]);
    }

    /// The reason shown for the field `field_id`: the text of the elements its
    /// `aria-describedby` names (None when it names none).
    pub async fn field_error(&self, field_id: &str) -> Option<String> {
        let field = self.element(Locator::Id(field_id), &format!("field #{field_id}")).await;
        let ids = field.attr("aria-describedby").await.ok().flatten()?;
        let mut texts = Vec::new();
        for id in ids.split_whitespace() {
            let described = self.element(Locator::Id(id), &format!("#{id} (aria-describedby of #{field_id})")).await;
            assert!(described.is_displayed().await.unwrap_or(false), "#{id}, the reason for #{field_id}, is hidden");
            texts.push(described.text().await.unwrap_or_default());
        }
        Some(texts.join(" "))
    }

    /// Asserts that the page shown is one of the site's HTML pages and not an error: status
    /// below 500, `text/html`, no raw JSON, and the site header and main region present.
    pub async fn assert_not_error_page(&self) {
        let path = self.current_path().await;
        let text = self.page_text().await;
        let status = self.status().await;
        assert!(status < 500, "{path} answered {status}:\n{text}");
        let content_type = self.content_type().await;
        assert_eq!(content_type, "text/html", "{path} is not an HTML page:\n{text}");
        assert!(!text.trim_start().starts_with('{'), "{path} shows raw JSON:\n{text}");
        assert!(self.exists("header").await, "{path} has no site header:\n{text}");
        assert!(self.exists("main").await, "{path} has no main region:\n{text}");
    }

    /// The serious and critical accessibility violations axe-core finds on the page shown, as
    /// `rule (impact): help — elements`. axe-core comes from the npm registry (`npm ci` in
    /// `tests/browser/axe`, which `scripts/test` runs) and is injected into the page.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let loaded = self.script("return typeof window.axe === 'object';").await;
        if loaded != json!(true) {
            self.client.execute(axe_source(), vec![]).await.unwrap_or_else(|e| panic!("inject axe-core: {e}"));
        }
        let script = "const done = arguments[arguments.length - 1]; \
            axe.run(document, {resultTypes: ['violations']}) \
              .then(r => done(r.violations \
                .filter(v => v.impact === 'serious' || v.impact === 'critical') \
                .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' - ' \
                  + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', ')))) \
              .catch(e => done(['axe-core failed: ' + e]));";
        let found = self.client.execute_async(script, vec![]).await.unwrap_or_else(|e| panic!("run axe-core: {e}"));
        found.as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
    }

    /// The page's visible controls (links, buttons, fields, focusable regions) that a keyboard
    /// cannot reach: disabled ones aside, a control taken out of the tab order (`tabindex` below
    /// zero) or a clickable element that is not a control.
    pub async fn controls_out_of_tab_order(&self) -> Vec<String> {
        let script = "const visible = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; \
            return [...document.querySelectorAll('a, button, input, select, textarea, summary, [tabindex], [onclick]')] \
              .filter(e => visible(e) && !e.disabled && e.type !== 'hidden') \
              .filter(e => e.tabIndex < 0 || (e.tagName === 'A' && !e.hasAttribute('href')) || e.hasAttribute('onclick')) \
              .map(e => e.outerHTML.slice(0, 120));";
        let found = self.script(script).await;
        found.as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
    }

    /// Presses Tab through the whole page from its top and returns the visible, enabled controls
    /// focus never reached (at most `presses_max` presses).
    pub async fn controls_tab_misses(&self, presses_max: usize) -> Vec<String> {
        let mark =
            "const visible = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; \
            const controls = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')] \
              .filter(e => visible(e) && !e.disabled && e.type !== 'hidden' && e.tabIndex >= 0); \
            controls.forEach((e, i) => e.setAttribute('data-tab-check', String(i))); \
            document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); \
            return controls.length;";
        let count = self.script(mark).await.as_u64().unwrap_or(0) as usize;
        let mut reached = std::collections::BTreeSet::new();
        let read = "const a = document.activeElement; return a ? a.getAttribute('data-tab-check') : null;";
        for _ in 0..presses_max.min(count + 5) {
            self.press(Key::Tab).await;
            if let Some(index) = self.script(read).await.as_str().and_then(|i| i.parse::<usize>().ok()) {
                reached.insert(index);
            }
            if reached.len() == count {
                break;
            }
        }
        let missed: Vec<usize> = (0..count).filter(|i| !reached.contains(i)).collect();
        let describe =
            "return arguments[0].map(i => { const e = document.querySelector('[data-tab-check=\"' + i + '\"]'); \
            return e ? e.outerHTML.slice(0, 120) : String(i); });";
        let found = self.client.execute(describe, vec![json!(missed)]).await.expect("describe missed controls");
        found.as_array().into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
    }

    /// Saves `<test>-failure.png` and prints where the browser was and what it showed.
    pub async fn report_failure(&self) {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let text = self.page_text().await;
        let shot = match self.client.screenshot().await {
            Ok(png) => self.save_png("failure", &png).display().to_string(),
            Err(e) => format!("none ({e})"),
        };
        eprintln!("browser was on {url}; screenshot {shot}; page text:\n{text}");
    }
}

/// axe-core's browser bundle, read once from `tests/browser/axe/node_modules`.
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/axe/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install axe-core with `npm ci --prefix tests/browser/axe` (scripts/test does)",
                path.display()
            )
        })
    })
}

/// XPath of a button, or a submit or button input, whose visible text is `text`.
pub fn button_xpath(text: &str) -> String {
    let text = xpath_literal(text);
    format!("//button[normalize-space(.)={text}] | //input[(@type='submit' or @type='button') and @value={text}]")
}

/// `text` as an XPath string literal (XPath 1.0 has no escapes: quotes need `concat`).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
