//! Criterion benchmarks of the pure engine: one distribution over 4 tranches and 10,000
//! investor positions, and XIRR over 100-flow series. `cargo bench --bench engine`.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use investai::domain::metrics::xirr;
use investai::domain::money::Cents;
use investai::domain::waterfall::{distribute, CapitalFlow, Mode, Position, Share, Step, Target, Terms, TrancheTerms};
use rust_decimal::Decimal;

/// Positions in the distribution benchmark.
const POSITIONS: usize = 10_000;

/// A deterministic pseudo-random sequence (no dependency, same numbers every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn fund() -> (Terms, Vec<TrancheTerms>, Vec<Position>) {
    let tranches: Vec<TrancheTerms> = (0..4)
        .map(|i| TrancheTerms {
            id: format!("t{i}"),
            name: format!("Tranche {i}"),
            seniority: i + 1,
            pref_rate: Decimal::new(8 - i64::from(i), 2),
            return_cap: (i == 3).then(|| Decimal::new(125, 2)),
        })
        .collect();
    let ids: Vec<String> = tranches.iter().map(|t| t.id.clone()).collect();
    let terms = Terms {
        steps: vec![
            Step::Pref { tranches: ids[..3].to_vec(), mode: Mode::Sequential },
            Step::Capital { tranches: ids.clone(), mode: Mode::Sequential },
            Step::Reserve { account: "1010".into(), percent: Decimal::new(10, 0), cap: None },
            Step::Split {
                shares: ids
                    .iter()
                    .zip([40, 30, 20, 10])
                    .map(|(id, p)| Share { target: Target::Tranche(id.as_str().into()), percent: Decimal::new(p, 0) })
                    .collect(),
            },
        ],
    };
    let mut random = Lcg(42);
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let positions = (0..POSITIONS)
        .map(|i| {
            let paid = Cents::new(100_000_000 + random.next(5_000_000_000) as i64);
            Position {
                id: format!("p{i:05}").into(),
                tranche_id: format!("t{}", i % 4),
                committed: paid,
                flows: vec![CapitalFlow { date: start + Duration::days(random.next(300) as i64), amount: paid }],
                pref_paid: Cents::ZERO,
                profit_received: Cents::ZERO,
                total_received: Cents::ZERO,
            }
        })
        .collect();
    (terms, tranches, positions)
}

fn series(seed: u64) -> Vec<(NaiveDate, Cents)> {
    let mut random = Lcg(seed);
    let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
    let mut flows = vec![(start, Cents::new(-1_000_000_000))];
    for i in 1..100 {
        let amount = if i < 20 { -(random.next(100_000_000) as i64) } else { random.next(200_000_000) as i64 };
        flows.push((start + Duration::days(i * 30 + random.next(20) as i64), Cents::new(amount)));
    }
    flows
}

fn benchmarks(c: &mut Criterion) {
    let (terms, tranches, positions) = fund();
    let total_paid: i64 = positions.iter().map(|p| p.paid_in().get()).sum();
    // Enough cash to run through pref, all capital, the reserve and the capped split.
    let cash = Cents::new(total_paid + total_paid / 3);
    let date = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default();
    let accounts = BTreeMap::new();
    // Computing the allocation, and separately computing it and freeing its 27,500 lines.
    c.bench_function("distribution_4_tranches_10000_positions", |b| {
        b.iter_with_large_drop(|| {
            distribute(black_box(&terms), &tranches, black_box(&positions), &accounts, cash, date)
        })
    });
    c.bench_function("distribution_4_tranches_10000_positions_with_drop", |b| {
        b.iter(|| distribute(black_box(&terms), &tranches, black_box(&positions), &accounts, cash, date))
    });
    let one = series(7);
    c.bench_function("xirr_100_flows", |b| b.iter(|| xirr(black_box(&one))));
}

criterion_group! {
    name = engine;
    config = Criterion::default().sample_size(30);
    targets = benchmarks
}
criterion_main!(engine);
