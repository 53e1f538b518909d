//! A seeded simulation of the whole service, in the spirit of TigerBeetle's VOPR: one seed
//! drives a sequence of every write the service accepts (sources, commitments and amendments,
//! calls, partial and late contributions, deployments, proceeds, valuations, write-downs,
//! terms, distributions, grant calls, applications, reviews, awards, usage, lapses, manual
//! entries, reversals), with amounts at and around their edges, effective dates back and
//! forward, idempotent retries, two staff clients interleaved and racing, and server restarts,
//! against the real server. After every step every invariant of the books is checked from
//! outside (`simulation/driver.rs`, `simulation/oracle.rs`). A failing seed prints its
//! sequence and replays from the seed. See docs/testing.md.
//!
//! `INVESTAI_SIM_SEEDS` (how many, from `INVESTAI_SIM_FIRST_SEED`), `INVESTAI_SIM_SEED` (one)
//! and `INVESTAI_SIM_STEPS` change the run; `scripts/simulate.sh` runs the long mode.

use crate::common;
mod driver;
mod ops;
mod oracle;

use common::{spawn_app_with, Backend, TestApp};
use driver::Sim;
use investai::storage::{capital_totals, running_amounts, usage_sums, DbConnection};

/// Seeds and steps per seed that the test suite runs on each backend.
const SUITE_SEEDS: u64 = 8;
const SUITE_STEPS: usize = 150;

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = env_number("INVESTAI_SIM_SEED") {
        return vec![seed];
    }
    let first = env_number("INVESTAI_SIM_FIRST_SEED").unwrap_or(1);
    let count = env_number("INVESTAI_SIM_SEEDS").unwrap_or(SUITE_SEEDS);
    (first..first + count).collect()
}

/// After the run, every amount kept running beside its records equals what those records sum
/// to, counted as `investai verify` counts them (docs/ledger.md, "Running amounts").
fn kept_amounts_agree(app: &TestApp) -> Result<(), String> {
    let mut pooled = app.conn();
    let conn: &mut DbConnection = &mut pooled;
    for check in &running_amounts::CHECKS {
        let found = running_amounts::disagreements(conn, check).map_err(|e| format!("[running-amounts] {e}"))?;
        if let Some(first) = found.first() {
            return Err(format!(
                "[running-amounts] {}, {}: kept {}, {} sum to {}",
                check.kept, first.item, first.kept, check.counted_from, first.counted
            ));
        }
    }
    let capital = capital_totals::disagreements(conn).map_err(|e| format!("[capital-totals] {e}"))?;
    if let Some((key, kept, counted)) = capital.first() {
        return Err(format!("[capital-totals] {key:?}: kept {kept:?}, the commitments sum to {counted:?}"));
    }
    let usage = usage_sums::disagreements(conn).map_err(|e| format!("[usage-sums] {e}"))?;
    if let Some((key, kept, counted)) = usage.first() {
        return Err(format!("[usage-sums] {key:?}: kept {kept:?}, the records sum to {counted:?}"));
    }
    Ok(())
}

/// Runs one seed; the report of its first violation if any.
async fn run_seed(backend: Backend, seed: u64, steps: usize) -> Result<usize, String> {
    let app = spawn_app_with(backend, |settings| {
        settings.lapse_interval_seconds = 0;
        settings.pool_size = 4;
    })
    .await;
    let mut sim = Sim::new(app, seed);
    for _ in 0..steps {
        sim.act(true).await;
        if let Err(violation) = sim.check().await {
            let report = sim.report(&violation);
            // Reported here with the sequence that led to it, not again when the app stops.
            sim.app.acknowledge_internal_errors();
            return Err(report);
        }
    }
    if let Err(violation) = kept_amounts_agree(&sim.app) {
        return Err(sim.report(&violation));
    }
    if sim.ignored.iter().any(|kind| kind == "[server-error]") {
        // Looked past on purpose (INVESTAI_SIM_IGNORE), to find what lies behind them.
        sim.app.acknowledge_internal_errors();
    }
    Ok(sim.mirror.len())
}

async fn simulate(backend: Backend) {
    let steps = env_number("INVESTAI_SIM_STEPS").map_or(SUITE_STEPS, |s| s as usize);
    let seeds = seeds();
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    let mut entries = 0;
    for (done, seed) in seeds.iter().enumerate() {
        if done > 0 && done % 500 == 0 {
            eprintln!("simulation on {backend:?}: {done} seeds run, {} violations", failures.len());
        }
        match run_seed(backend, *seed, steps).await {
            Ok(posted) => entries += posted,
            Err(report) => {
                eprintln!("{report}");
                failures.push(*seed);
            }
        }
    }
    println!(
        "simulation on {backend:?}: {} seeds x {steps} steps, {entries} journal entries, {} violations {failures:?} in {:.1} s",
        seeds.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "seeds with violations: {failures:?} (each printed its sequence above)");
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seeded_runs_keep_every_invariant() {
        super::simulate(super::Backend::Sqlite).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seeded_runs_keep_every_invariant() {
        super::simulate(super::Backend::Postgres).await;
    }
}
