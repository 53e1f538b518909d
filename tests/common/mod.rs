//! Test harness: a real server on port 0 against a fresh database, SQLite or PostgreSQL.
#![allow(dead_code)]

use std::net::TcpListener;

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use diesel::{Connection, PgConnection};
use investai::auth::login::token_for;
use investai::auth::JwtKeys;
use investai::config::Settings;
use investai::domain::roles::Role;
use investai::http::AppState;
use investai::startup;
use investai::storage::users::{self, UserRow};
use investai::storage::{schema, DbConnection, PooledConn};
use serde_json::Value;

pub mod pages;
pub mod standby;

pub const TEST_SECRET: &str = "test-0123456789abcdefghijklmnopqrstuvwxyz";
/// The test servers' checkpoint signing key, and its verifier key (`investai checkpoint-key`).
pub const TEST_CHECKPOINT_KEY: &str =
    "PRIVATE+KEY+investai.test/journal+fa4d7644+AbteLoYtx8AcYZE2JrH3AXdN2+YiP7PZKq72/0gca6Ul";
pub const TEST_CHECKPOINT_VERIFIER_KEY: &str =
    "investai.test/journal+fa4d7644+AZoKRnouGFIpxli1U8rubqG8W2JsoxB7tuoTNkliRxd1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("INVESTAI_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub keys: JwtKeys,
    pub state: AppState,
    pub database_url: String,
    pub backend: Backend,
    settings: Settings,
    handle: actix_web::dev::ServerHandle,
    /// 500s answered by the servers this app ran before its last restart.
    internal_errors_earlier: u64,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The node stops with its app, and its workers, threads and pool end with it: a run of
        // thousands of apps (the simulation's long mode) stays as small as a run of one.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let handle = self.handle.clone();
            runtime.spawn(async move { handle.stop(false).await });
        }
        // A 500 is a fault on the server's side whatever the test asserted: it fails the test.
        let internal_errors = self.internal_errors();
        if internal_errors > 0 && !std::thread::panicking() {
            panic!("the server answered {internal_errors} request(s) with 500 during this test (see its ERROR log)");
        }
        if let Some(name) = &self.pg_database {
            if let Ok(mut admin) = PgConnection::establish(&postgres_admin_url()) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

fn fresh_database(backend: Backend, dir: &tempfile::TempDir) -> (String, Option<String>) {
    match backend {
        Backend::Sqlite => (format!("sqlite://{}", dir.path().join("test.db").display()), None),
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let mut admin = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("PostgreSQL tests need a server at {admin_url}: {e}"));
            let name = format!("investai_test_{}", uuid::Uuid::new_v4().simple());
            admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create test database");
            if std::env::var("INVESTAI_TEST_PG_SYNC_OFF").is_ok_and(|v| v == "1") {
                // Long runs that test no power cut (the simulation's long mode): commits do not
                // wait for the disk, durability barrier included.
                admin.batch_execute(&format!("ALTER DATABASE \"{name}\" SET synchronous_commit = off")).expect("set");
            }
            let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
            (format!("{base}/{name}"), Some(name))
        }
    }
}

pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_string(),
        jwt_secret: Some(TEST_SECRET.to_string()),
        workers: 2,
        pool_size: 8,
        log_level: "warn".into(),
        checkpoint_signing_key: Some(TEST_CHECKPOINT_KEY.to_string()),
        // Tests issue checkpoints when they want one (`investai checkpoint`): no job thread.
        checkpoint_interval_seconds: 0,
        // Most tests drive the operations directly; tests/four_eyes.rs turns four eyes on.
        four_eyes: false,
        ..Settings::default()
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// A server whose database holds the InvestAI demo data.
pub async fn spawn_demo(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    let fixture: investai::seed::Fixture =
        investai::http::extract::parse_json(investai::cli::DEMO_FIXTURE.as_bytes()).expect("fixture parses");
    investai::seed::load(&mut app.conn(), &fixture, false).expect("demo loads");
    app
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, pg_database) = fresh_database(backend, &dir);
    assemble(backend, database_url, pg_database, dir, adjust)
}

/// A server on a PostgreSQL database the test made itself (and removes itself).
pub async fn spawn_app_on(database_url: &str, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    assemble(Backend::Postgres, database_url.to_string(), None, dir, adjust)
}

fn assemble(
    backend: Backend,
    database_url: String,
    pg_database: Option<String>,
    dir: tempfile::TempDir,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings(&database_url);
    adjust(&mut settings);
    let (address, state, handle) = start_node(&settings);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        keys: JwtKeys::new(TEST_SECRET, &settings.jwt_issuer, &settings.jwt_audience),
        state,
        database_url,
        backend,
        settings,
        handle,
        internal_errors_earlier: 0,
        _dir: dir,
        pg_database,
    }
}

/// A node on a fresh port 0: its address, state and handle.
fn start_node(settings: &Settings) -> (String, AppState, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let app = startup::build(settings.clone(), TEST_SECRET.to_string(), listener).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port);
    let handle = app.server.handle();
    tokio::spawn(app.server);
    (address, app.state, handle)
}

/// A party's id from a name a test reads better: the name itself when it is a UUID, otherwise
/// a UUID derived from it (the same name, the same id).
pub fn party_id(name: &str) -> String {
    if let Ok(id) = uuid::Uuid::parse_str(name) {
        return id.to_string();
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    /// 500s answered by this app's servers so far, restarts included.
    pub fn internal_errors(&self) -> u64 {
        self.internal_errors_earlier + self.state.internal_errors.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// For a test that reported the server's 500s itself (the simulation, with the sequence
    /// that caused them): they no longer fail the test again when the app stops.
    pub fn acknowledge_internal_errors(&mut self) {
        self.internal_errors_earlier = 0;
        self.state.internal_errors.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Stops the server (gracefully: requests under way finish) and starts a new node on the
    /// same database and settings, on a new port: what was acknowledged must still be there.
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        self.internal_errors_earlier = self.internal_errors();
        let (address, state, handle) = start_node(&self.settings);
        (self.address, self.state, self.handle) = (address, state, handle);
    }

    /// [`Self::restart`] with the settings changed by `adjust`: another kind of node on the
    /// same database.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut Settings)) {
        adjust(&mut self.settings);
        self.restart().await;
    }

    /// A token of the user `user_for(role, sub)`, valid for an hour.
    pub fn token(&self, role: Role, sub: &str) -> String {
        token_for(&self.keys, &self.user_for(role, sub), 3600).expect("mint")
    }

    /// The user a test's token speaks for, created on first use: `sub` is the user name of a
    /// role that acts as itself, and the party of a party-bound role (the user is then
    /// `role-party`). The row is written directly, so that a test may act for a party no
    /// register holds; it has no password, so no one signs in as it.
    pub fn user_for(&self, role: Role, sub: &str) -> UserRow {
        let username = if role.is_party_bound() { format!("{role}-{sub}") } else { sub.to_string() };
        let mut conn = self.conn();
        if let Some(user) = users::find_by_username(&mut conn, &username).expect("find user") {
            return user;
        }
        let row = UserRow {
            id: investai::storage::new_id(),
            username: username.clone(),
            role: role.as_str().to_string(),
            party_id: role.is_party_bound().then(|| sub.to_string()),
            password_hash: "no password".into(),
            created_at: investai::storage::now_micros(),
            disabled_at: None,
            credentials_version: 0,
        };
        // Two tests' requests may create the same user at once: the loser finds the winner's.
        let _ = diesel::insert_into(schema::users::table).values(&row).execute(&mut conn);
        users::find_by_username(&mut conn, &username).expect("find user").expect("user created")
    }

    pub fn staff(&self) -> String {
        self.token(Role::Staff, "alice")
    }

    pub fn auditor(&self) -> String {
        self.token(Role::Auditor, "carol")
    }

    pub fn conn(&self) -> PooledConn {
        self.state.pool.get().expect("pooled connection")
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.address)).bearer_auth(token)).await
    }

    /// Signs a checkpoint now with `investai checkpoint`; the note.
    pub fn issue_checkpoint(&self) -> String {
        let out = investai(&self.database_url)
            .env("INVESTAI_CHECKPOINT_SIGNING_KEY", TEST_CHECKPOINT_KEY)
            .arg("checkpoint")
            .output()
            .expect("run checkpoint");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8 note")
    }

    /// A GET without a token, as the public sends it.
    pub async fn get_public(&self, path: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.address))).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(self.client.post(format!("{}{path}", self.address)).bearer_auth(token).json(body)).await
    }

    pub async fn post_with_key(&self, path: &str, token: &str, key: &str, body: &Value) -> Reply {
        self.send(
            self.client
                .post(format!("{}{path}", self.address))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(body),
        )
        .await
    }

    /// Creates a fund with the standard chart and returns its id.
    pub async fn create_fund(&self, name: &str) -> String {
        let reply = self
            .post(
                "/api/v1/funds",
                &self.staff(),
                &serde_json::json!({"name": name, "target_size": "1000000000.00", "inception_date": "2025-02-11", "term_years": 10}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["id"].as_str().expect("fund id").to_string()
    }

    /// Runs raw SQL on the test database (tests that tamper with the journal).
    pub fn sql(&self, statements: &str) -> Result<(), String> {
        let mut conn = self.conn();
        let conn: &mut DbConnection = &mut conn;
        conn.batch_execute(statements).map_err(|e| e.to_string())
    }

    /// Empties `table` and fills it again with the fill of this backend's `migration` (its SQL
    /// from `INSERT INTO table` to the end), as the migration filled it from the stored rows.
    pub fn refill_as_migrated(&self, migration: &str, table: &str) {
        let sql = self.migration_sql(migration, "up");
        let fill = &sql[sql.find(&format!("INSERT INTO {table}")).expect("the migration fills the table")..];
        self.sql(&format!("DELETE FROM {table}; {fill}")).expect("fill again");
    }

    /// Runs this backend's `migration` once more, `up` or `down`, as its file has it.
    pub fn run_migration(&self, migration: &str, direction: &str) {
        let sql = self.migration_sql(migration, direction);
        self.sql(&sql).unwrap_or_else(|e| panic!("{migration} {direction}: {e}"));
    }

    fn migration_sql(&self, migration: &str, direction: &str) -> String {
        let backend = match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let path = format!("{}/migrations/{backend}/{migration}/{direction}.sql", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

impl TestApp {
    /// A browser of its own, signed in as a new user with `role` (and `party` for party roles).
    pub async fn browser_as(&self, username: &str, role: Role, party: Option<&str>) -> reqwest::Client {
        let password = "a long enough password";
        let admin = self.token(Role::Admin, "root");
        let body = serde_json::json!({"username": username, "role": role, "party_id": party, "password": password});
        let created = self.post("/api/v1/users", &admin, &body).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("client");
        let form = browser.get(format!("{}/login", self.address)).send().await.expect("login form");
        let page = form.text().await.expect("page");
        let csrf = page.split("name=\"csrf_token\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
        let signed_in = browser
            .post(format!("{}/login", self.address))
            .form(&[("username", username), ("password", password), ("csrf_token", csrf)])
            .send()
            .await
            .expect("login");
        assert_eq!(signed_in.status().as_u16(), 303);
        browser
    }
}

/// The `investai` binary with a clean environment on the test's database.
pub fn investai(database_url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_investai"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("INVESTAI_LOG_LEVEL", "warn");
    command
}

/// Posts `body` to `path` as staff and asserts it was created (201); the reply's body.
pub async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app.post(path, &app.staff(), &body).await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.text);
    reply.body
}

/// The `id` of a created resource.
pub fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_string()
}

/// Asserts an RFC 9457 problem with `status` and, if given, a field error on `field`.
pub fn assert_problem(reply: &Reply, status: u16, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text);
    let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(content_type, "application/problem+json", "{}", reply.text);
    assert!(reply.body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{}", reply.text);
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", reply.text);
    if let Some(field) = field {
        let fields: Vec<&str> = reply.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "expected an error on {field}, got {}", reply.text);
    }
}

/// Generates one `#[tokio::test]` per backend for each async test function `fn(TestApp)`,
/// on a server from `spawn_app` or, after `spawn = path;`, from that function.
#[macro_export]
macro_rules! on_both_backends {
    (spawn = $spawn:path; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($spawn(super::common::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($spawn(super::common::Backend::Postgres).await).await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        on_both_backends!(spawn = super::common::spawn_app; $($name),*);
    };
}

/// How long a started server may take to answer its readiness check.
const START_SECONDS_MAX: u64 = 60;

/// A server running as its own process (`investai serve`).
pub struct Server {
    pub child: std::process::Child,
    pub address: String,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Starts the `investai serve` process on the database and waits until it answers.
pub async fn start_server(database_url: &str) -> Server {
    let port = free_port();
    let mut child = investai(database_url)
        .env("INVESTAI_JWT_SECRET", TEST_SECRET)
        .env("INVESTAI_LAPSE_INTERVAL_SECONDS", "0")
        .env("INVESTAI_FOUR_EYES", "false")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn investai serve");
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(START_SECONDS_MAX);
    while std::time::Instant::now() < deadline {
        if let Ok(reply) = client.get(format!("{address}/readyz")).send().await {
            if reply.status().is_success() {
                return Server { child, address };
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start within {START_SECONDS_MAX} s");
}

impl Server {
    /// SIGKILL: no shutdown hook, no flush, like a power cut to the process.
    pub fn kill(self) {
        drop(self);
    }
}

/// A failing test leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
