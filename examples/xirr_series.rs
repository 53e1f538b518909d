//! Reads XIRR series (JSON: [{"dates": [...], "amounts": [...]}]) from a file, prints each
//! rate (and, where there are several, every root) and the time per series: the Rust side of
//! `scripts/bench_xirr.py`.
//!
//! `cargo run --release --example xirr_series -- series.json`

use std::time::Instant;

use chrono::NaiveDate;
use investai::domain::metrics::{xirr, Xirr};
use investai::domain::money::Cents;
use serde::Deserialize;

/// Passes over all series when timing; the fastest pass is reported.
const TIMING_PASSES: usize = 50;

#[derive(Deserialize)]
struct Series {
    dates: Vec<NaiveDate>,
    amounts: Vec<Cents>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: xirr_series FILE")?;
    let series: Vec<Series> = serde_json::from_slice(&std::fs::read(path)?)?;
    let flows: Vec<Vec<(NaiveDate, Cents)>> =
        series.iter().map(|s| s.dates.iter().copied().zip(s.amounts.iter().copied()).collect()).collect();
    let found: Vec<Xirr> = flows.iter().map(|f| xirr(f)).collect();
    let rates: Vec<Option<f64>> = found.iter().map(Xirr::rate).collect();
    let roots: Vec<Option<&Vec<f64>>> =
        found.iter().map(|x| if let Xirr::MultipleRoots { roots, .. } = x { Some(roots) } else { None }).collect();
    let mut best = f64::MAX;
    for _ in 0..TIMING_PASSES {
        let start = Instant::now();
        for f in &flows {
            std::hint::black_box(xirr(std::hint::black_box(f)));
        }
        best = best.min(start.elapsed().as_secs_f64() / flows.len() as f64);
    }
    println!("{}", serde_json::json!({"rates": rates, "roots": roots, "seconds_per_series": best}));
    Ok(())
}
