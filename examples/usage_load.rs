//! Usage-ingestion load against a running server: sets up a fund with a compute-grant pool, a
//! facility, a call and awards over the API, then posts batches of 10,000 usage records and
//! reports records per second and batch latency. The Rust side of `scripts/bench_usage.sh`.
//!
//! `cargo run --release --example usage_load -- URL [BATCHES] [CONCURRENCY] [DAYS]`, with the server's
//! settings in the environment (`DATABASE_URL`, `INVESTAI_JWT_SECRET`): the client adds the
//! users it acts as to the server's database and mints their tokens.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use investai::auth::login::token_for;
use investai::auth::JwtKeys;
use investai::config::Settings;
use investai::domain::roles::Role;
use investai::storage::{users, write_tx, DbPool};
use serde_json::{json, Value};

/// Records per batch: the largest batch the API takes.
const BATCH_RECORDS: usize = 10_000;
/// Awards the records are spread over (a facility's batch touches several awards).
const AWARDS: usize = 10;
/// Most days of June 2026 a batch's records may be spread over (DAYS): each award's records of a
/// batch then fall on that many days, as a facility's monthly accounting file does.
const DAYS_MAX: usize = 30;
/// Whole-run limit: the load stops by itself (10,000,000 records take 4 to 6 minutes here).
const RUN_SECONDS_MAX: u64 = 1_800;
/// The window of the rate over time: whether a batch costs the same as the table grows.
const RATE_WINDOW_SECONDS: u64 = 60;

struct Client {
    http: reqwest::Client,
    url: String,
    staff: String,
}

impl Client {
    async fn post(&self, path: &str, token: &str, body: &Value) -> Result<Value, String> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("POST {path}: {status} {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("POST {path}: {e}"))
    }
}

/// Users the load acts as, added to the server's database, and their tokens.
struct Tokens {
    pool: DbPool,
    keys: JwtKeys,
}

impl Tokens {
    /// A token of a new user without a password (no one signs in as it).
    fn of(&self, role: Role, name: &str, party: Option<&str>) -> Result<String, String> {
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        let user = write_tx(&mut conn, |conn| {
            users::create_user(conn, name, role, party, "no password".into(), "system:usage-load")?;
            users::find_by_username(conn, name)
        })
        .map_err(|e| e.to_string())?
        .ok_or("user not created")?;
        token_for(&self.keys, &user, 3600).map_err(|e| e.to_string())
    }
}

fn id(value: &Value) -> Result<String, String> {
    value["id"].as_str().map(str::to_string).ok_or_else(|| format!("no id in {value}"))
}

/// A fund with EUR 10 bn in its pool, a facility, a call, and `AWARDS` awards of 10^8 hours.
async fn set_up(client: &Client, tokens: &Tokens, run: &str) -> Result<(String, Vec<String>), String> {
    let staff = &client.staff;
    let fund = id(&client
        .post("/api/v1/funds", staff, &json!({"name": format!("Load fund {run}"), "target_size": "20000000000.00", "inception_date": "2025-02-11", "term_years": 10}))
        .await?)?;
    client
        .post(&format!("/api/v1/funds/{fund}/journal-entries"), staff, &json!({"effective_date": "2025-01-01",
            "description": "pool", "postings": [{"account": "1010", "debit": "10000000000.00"}, {"account": "3900", "credit": "10000000000.00"}]}))
        .await?;
    let facility = id(&client
        .post(
            "/api/v1/facilities",
            staff,
            &json!({"name": format!("Load facility {run}"), "kind": "gigafactory", "member_state": "DE",
            "chip_count": 100000, "chip_type": "GB200", "quarterly_capacity_gpu_hours": 100_000_000_000i64}),
        )
        .await?)?;
    client
        .post(
            &format!("/api/v1/facilities/{facility}/prices"),
            staff,
            &json!({"effective_date": "2025-01-01", "price_per_gpu_hour": "2.10"}),
        )
        .await?;
    let now = chrono::Utc::now();
    let call = id(&client
        .post("/api/v1/grant-calls", staff, &json!({"fund_id": fund, "name": format!("Load call {run}"), "budget": "5000000000.00",
            "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(), "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
            "eligible_facility_ids": [facility], "max_gpu_hours_per_award": "100000000", "aid_basis": "industrial_research",
            "aid_measure_reference": "SA.100001", "min_reviewers": 1, "min_average_score": "50"}))
        .await?)?;
    let mut awards = Vec::with_capacity(AWARDS);
    for n in 0..AWARDS {
        let sme_id = uuid::Uuid::new_v4().to_string();
        let sme = tokens.of(Role::Sme, &format!("load-sme-{run}-{n}"), Some(&sme_id))?;
        let application = id(&client
            .post(&format!("/api/v1/grant-calls/{call}/applications"), &sme, &json!({
                "company": {"legal_name": format!("Load SME {run} {n}"), "registration_number": format!("LOAD-{run}-{n}"), "country": "DE",
                    "nace_code": "62.01", "nuts2_region": "DE30"},
                "staff_awu": "20", "turnover": "3000000.00", "balance_sheet": "2000000.00", "related": [],
                "declarations": {"undertaking_in_difficulty": false, "outstanding_recovery_order": false},
                "project_title": "Load", "summary": "Load test", "requested_gpu_hours": "100000000",
                "facility_id": facility, "start_date": "2026-01-01", "end_date": "2027-12-31"}))
            .await?)?;
        client.post(&format!("/api/v1/applications/{application}/submit"), &sme, &Value::Null).await?;
        client
            .post(&format!("/api/v1/applications/{application}/reviews"), staff, &json!({"score": 80, "comment": "ok"}))
            .await?;
        awards.push(id(&client.post(&format!("/api/v1/applications/{application}/award"), staff, &json!({})).await?)?);
    }
    Ok((facility, awards))
}

/// Batch bodies, built before the clock starts: unique record ids, hours 0.001 to 1.999, each
/// award's records on `days` days from 2026-06-01.
fn batches(run: &str, awards: &[String], count: usize, days: usize) -> Vec<String> {
    (0..count)
        .map(|batch| {
            let records: Vec<Value> = (0..BATCH_RECORDS)
                .map(|n| {
                    let seq = batch * BATCH_RECORDS + n;
                    let day = seq / awards.len() % days + 1;
                    json!({"record_id": format!("{run}-{seq:09}"), "award_id": awards[seq % awards.len()],
                        "gpu_hours": format!("{}.{:03}", seq % 2, seq % 999 + 1),
                        "period_start": format!("2026-06-{day:02}T00:00:00Z"),
                        "period_end": format!("2026-06-{day:02}T01:00:00Z")})
                })
                .collect();
            json!({ "records": records }).to_string()
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: usage_load URL [BATCHES] [CONCURRENCY] [DAYS]")?;
    let batch_count: usize = args.next().map_or(Ok(20), |a| a.parse()).map_err(|_| "BATCHES must be a number")?;
    let concurrency: usize = args.next().map_or(Ok(2), |a| a.parse()).map_err(|_| "CONCURRENCY must be a number")?;
    let days: usize = args
        .next()
        .map_or(Ok(1), |a| a.parse())
        .ok()
        .filter(|d| (1..=DAYS_MAX).contains(d))
        .ok_or(format!("DAYS must be a number from 1 to {DAYS_MAX}"))?;
    let settings = Settings::load(None)?;
    let secret = settings.jwt_secret.clone().ok_or("set INVESTAI_JWT_SECRET to the server's secret")?;
    let keys = JwtKeys::from_settings(&settings, &secret)?;
    let (pool, _) = investai::startup::open_database(&settings).map_err(|e| e.to_string())?;
    let tokens = Tokens { pool, keys };
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().map_err(|e| e.to_string())?;
    let staff = tokens.of(Role::Staff, &format!("load-staff-{}", std::process::id()), None)?;
    let client = Client { http, url, staff };
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let (facility, awards) = set_up(&client, &tokens, &run).await?;
    let operator = tokens.of(Role::Facility, &format!("load-operator-{run}"), Some(&facility))?;
    let bodies = Arc::new(batches(&run, &awards, batch_count, days));
    let body_bytes: usize = bodies.iter().map(String::len).sum::<usize>() / bodies.len().max(1);

    let next = Arc::new(AtomicUsize::new(0));
    let client = Arc::new(client);
    let deadline = Instant::now() + Duration::from_secs(RUN_SECONDS_MAX);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, bodies, next, operator) = (client.clone(), bodies.clone(), next.clone(), operator.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= bodies.len() || Instant::now() > deadline {
                    return Ok::<_, String>(latencies);
                }
                let sent = Instant::now();
                let response = client
                    .http
                    .post(format!("{}/api/v1/usage", client.url))
                    .bearer_auth(&operator)
                    .header("content-type", "application/json")
                    .body(bodies[index].clone())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                let report: Value = response.json().await.map_err(|e| e.to_string())?;
                if !status.is_success() || report["new"] != BATCH_RECORDS {
                    return Err(format!("batch {index}: {status} {report}"));
                }
                latencies.push((sent.elapsed(), started.elapsed()));
            }
        }));
    }
    let mut done = Vec::new();
    for worker in workers {
        done.extend(worker.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = done.iter().map(|(latency, _)| *latency).collect();
    latencies.sort();
    let records = latencies.len() * BATCH_RECORDS;
    println!(
        "batches: {} x {BATCH_RECORDS} records ({:.1} MB each), {concurrency} concurrent, {AWARDS} awards, {days} day(s) each",
        latencies.len(),
        body_bytes as f64 / 1e6
    );
    println!("records per second: {:.0}", records as f64 / elapsed.as_secs_f64());
    println!(
        "batch latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; total {:.2} s",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        elapsed.as_secs_f64()
    );
    print_rate_by_window(&done.iter().map(|(_, at)| *at).collect::<Vec<_>>());
    Ok(())
}

/// Records per second in each whole window of the run (by when each batch was answered), and
/// the last whole window against the first.
fn print_rate_by_window(answered_at: &[Duration]) {
    let windows = answered_at.iter().map(|at| at.as_secs() / RATE_WINDOW_SECONDS).max().unwrap_or(0);
    let rates: Vec<f64> = (0..windows)
        .map(|window| {
            let batches = answered_at.iter().filter(|at| at.as_secs() / RATE_WINDOW_SECONDS == window).count();
            (batches * BATCH_RECORDS) as f64 / RATE_WINDOW_SECONDS as f64
        })
        .collect();
    for (window, rate) in rates.iter().enumerate() {
        println!("window {} ({RATE_WINDOW_SECONDS} s): {rate:.0} records/s", window + 1);
    }
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        if rates.len() >= 2 && *first > 0.0 {
            println!("last whole window / first: {:.2}", last / first);
        }
    }
}
