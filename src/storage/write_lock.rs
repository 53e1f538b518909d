//! How long writers wait for the single writer lock, how long each holds it, and how many gave up
//! waiting (docs/scaling.md, "The chain head's cap"). Every write of the books runs under that
//! lock, so the held time per write bounds the writes a second: at most one second of holding per
//! second.
//! The figures are the process's own, served on `/metrics`; the storage layer only observes.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntCounter, Opts};

/// Bucket bounds from 50 µs to 10 s: a small write holds the lock for a fraction of a
/// millisecond, a 10,000-record usage batch for most of a second.
const LOCK_SECONDS_BUCKETS: [f64; 16] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

fn histogram(name: &str, help: &str) -> Histogram {
    let options = HistogramOpts::new(name, help).namespace("investai").buckets(LOCK_SECONDS_BUCKETS.to_vec());
    // The name, help and buckets are constants that pass the library's checks (unit test below).
    Histogram::with_opts(options).unwrap_or_else(|error| unreachable!("constant histogram options: {error}"))
}

/// From asking for the writer lock to holding it (queueing behind other writers).
pub static WAITED: LazyLock<Histogram> = LazyLock::new(|| {
    histogram("write_lock_wait_seconds", "Time a write transaction waited for the single writer lock")
});

/// From holding the writer lock to its release by commit or rollback.
pub static HELD: LazyLock<Histogram> =
    LazyLock::new(|| histogram("write_lock_held_seconds", "Time a write transaction held the single writer lock"));

/// Write transactions that gave up waiting for the lock (the lock timeout, or a failed begin):
/// the clients got "busy, try again", and their waits, the longest, are in `WAITED` too.
pub static REFUSED: LazyLock<IntCounter> = LazyLock::new(|| {
    let options = Opts::new("write_lock_refused_total", "Write transactions that gave up waiting for the writer lock")
        .namespace("investai");
    // A constant name and help that pass the library's checks (unit test below).
    IntCounter::with_opts(options).unwrap_or_else(|error| unreachable!("constant counter options: {error}"))
});

/// Called by the write transaction for each attempt that took the lock.
pub(super) fn observe(waited: Duration, held: Duration) {
    WAITED.observe(waited.as_secs_f64());
    HELD.observe(held.as_secs_f64());
}

/// Called by the write transaction for each attempt that did not get the lock.
pub(super) fn observe_refused(waited: Duration) {
    WAITED.observe(waited.as_secs_f64());
    REFUSED.inc();
}

/// Adds the histograms and the counter to a registry (the one `/metrics` serves).
pub fn register(registry: &prometheus::Registry) -> prometheus::Result<()> {
    registry.register(Box::new(WAITED.clone()))?;
    registry.register(Box::new(HELD.clone()))?;
    registry.register(Box::new(REFUSED.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_register_and_count_what_they_observe() {
        let registry = prometheus::Registry::new();
        register(&registry).expect("valid, distinct names");
        let (held_before, refused_before) = (HELD.get_sample_count(), REFUSED.get());
        observe(Duration::from_micros(70), Duration::from_millis(3));
        observe_refused(Duration::from_millis(15));
        assert!(HELD.get_sample_count() > held_before);
        assert!(REFUSED.get() > refused_before);
        let families = registry.gather();
        let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "investai_write_lock_held_seconds",
                "investai_write_lock_refused_total",
                "investai_write_lock_wait_seconds"
            ]
        );
    }
}
