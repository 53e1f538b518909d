//! Periodic work a node does by itself: lapsing compute-grant awards whose period has ended.
//!
//! Every node may run it: each award is lapsed in its own write transaction that re-reads the
//! award first, so two nodes (or the job and `investai grants lapse`) never lapse one twice.

use std::time::Duration;

use crate::storage::{awards, DbPool};

/// Who the journal names as the actor of the periodic lapse.
pub const LAPSE_ACTOR: &str = "system:lapse-job";

/// Runs the lapse job now and then every `interval_seconds`, on a thread of its own (the job
/// is blocking database work and must not hold an HTTP worker).
pub fn spawn_lapse_job(pool: DbPool, interval_seconds: u64) {
    let spawned = std::thread::Builder::new().name("lapse-job".into()).spawn(move || loop {
        run_lapse_once(&pool);
        std::thread::sleep(Duration::from_secs(interval_seconds));
    });
    if let Err(error) = spawned {
        tracing::error!(%error, "could not start the lapse job; run `investai grants lapse` from a scheduler instead");
    }
}

/// One pass: lapses every award that ended before today. Failures are logged and retried on
/// the next pass; nothing is half done because each award is one transaction.
pub fn run_lapse_once(pool: &DbPool) {
    let today = chrono::Utc::now().date_naive();
    let outcome = pool
        .get()
        .map_err(crate::error::AppError::from)
        .and_then(|mut conn| awards::lapse_due(&mut conn, today, LAPSE_ACTOR));
    match outcome {
        Ok(done) if done.is_empty() => {}
        Ok(done) => tracing::info!(awards = done.len(), "ended awards lapsed"),
        Err(error) => tracing::warn!(%error, "lapse job failed; it runs again at the next interval"),
    }
}
