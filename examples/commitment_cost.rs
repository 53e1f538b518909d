//! What admitting a commitment costs as a tranche fills (docs/scaling.md, "Commitments").
//! Fills one tranche with commitments through the real batch code, and at each level times, in
//! the same run:
//!   - `batch`: a batch of BATCH new commitments in its own write transaction, as the writer
//!     records them (the target check reads the tranche's running total);
//!   - `sum`: the read the target check made before running totals: the sum of every commitment
//!     of the tranche.
//!
//! A flat `batch` column while `sum` grows is the constant cost per write.
//! `cargo run --release --example commitment_cost -- DATABASE_URL [LEVELS]`
//! (LEVELS: commitments in the tranche at each measurement, comma-separated).

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use investai::domain::money::Cents;
use investai::storage::commitment_batch::{record_commitments, CommitmentRequest};
use investai::storage::commitments::NewCommitment;
use investai::storage::funds::{create_fund, NewFund};
use investai::storage::schema::{commitments, sources};
use investai::storage::structure::{create_tranche, NewTranche, Source};
use investai::storage::{build_pool, new_id, now_micros, run_migrations, write_tx, DbConnection, DbTarget};

/// Commitments a batch holds while filling (the writer's largest batch).
const FILL_BATCH: usize = investai::storage::commitment_batch::COMMITMENT_BATCH_MAX;
/// Commitments of a timed batch (about what 64 connections leave waiting for the writer).
const BATCH: usize = 64;
/// Timed batches (and sums) at each level; the median is reported.
const SAMPLES: usize = 30;
const LEVELS_DEFAULT: &str = "1000,10000,50000,200000";

/// `count` new sources, inserted directly (their own checks are not what is measured here).
fn new_sources(conn: &mut DbConnection, count: usize) -> anyhow::Result<Vec<String>> {
    let rows: Vec<Source> = (0..count)
        .map(|_| {
            let id = new_id();
            Source {
                legal_name: format!("Bench investor {id}"),
                id,
                kind: "private".into(),
                programme: "private".into(),
                country: "DE".into(),
                lei: None,
                created_at: now_micros(),
            }
        })
        .collect();
    write_tx(conn, |conn| {
        for row in &rows {
            diesel::insert_into(sources::table).values(row).execute(conn)?;
        }
        Ok(())
    })?;
    Ok(rows.into_iter().map(|s| s.id).collect())
}

fn requests(fund: &str, tranche: &str, sources: &[String]) -> Vec<CommitmentRequest> {
    sources
        .iter()
        .map(|source| CommitmentRequest {
            fund_id: fund.to_string(),
            new: NewCommitment {
                source_id: source.clone(),
                tranche_id: tranche.to_string(),
                amount: Cents::new(100_000_000),
                effective_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
                allow_oversubscription: false,
                actor: "staff:bench".into(),
            },
            key: None,
        })
        .collect()
}

fn record(conn: &mut DbConnection, fund: &str, tranche: &str, count: usize) -> anyhow::Result<Duration> {
    let sources = new_sources(conn, count)?;
    let began = Instant::now();
    let answers = record_commitments(conn, &requests(fund, tranche, &sources)).map_err(|e| anyhow!("batch: {e}"))?;
    let elapsed = began.elapsed();
    if let Some(refused) = answers.iter().find_map(|a| a.as_ref().err()) {
        return Err(anyhow!("a commitment was refused: {refused}"));
    }
    Ok(elapsed)
}

fn old_sum(conn: &mut DbConnection, tranche: &str) -> anyhow::Result<Duration> {
    let began = Instant::now();
    let _total: Option<i64> = commitments::table
        .filter(commitments::tranche_id.eq(tranche))
        .select(sql::<Nullable<BigInt>>("CAST(SUM(committed_cents) AS BIGINT)"))
        .first(conn)?;
    Ok(began.elapsed())
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times.get(times.len() / 2).map_or(0.0, |t| t.as_secs_f64() * 1e3)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| anyhow!("usage: commitment_cost DATABASE_URL [LEVELS]"))?;
    let levels: Vec<usize> = args
        .next()
        .unwrap_or_else(|| LEVELS_DEFAULT.into())
        .split(',')
        .map(|n| n.trim().parse())
        .collect::<Result<_, _>>()
        .context("LEVELS")?;
    let target = DbTarget::parse(&url).map_err(|e| anyhow!(e))?;
    let pool = build_pool(&target, 1)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    let (fund, tranche) = write_tx(&mut conn, |conn| {
        let fund = create_fund(
            conn,
            NewFund {
                name: format!("Commitment benchmark {}", new_id()),
                parent_id: None,
                target_size: Cents::from_eur(20_000_000_000)?,
                inception_date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
                term_years: 10,
            },
        )?;
        let tranche = create_tranche(
            conn,
            &fund.id,
            NewTranche {
                name: "Senior".into(),
                seniority: 1,
                target_size: Cents::from_eur(10_000_000_000_000)?,
                pref_rate: rust_decimal::Decimal::ZERO,
                return_cap: None,
                first_loss: false,
                min_ticket: Cents::ZERO,
            },
        )?;
        Ok((fund.id, tranche.id))
    })?;
    println!("commitments in the tranche | batch of {BATCH} (median of {SAMPLES}) | sum of the tranche (median)");
    let mut filled = 0usize;
    for level in levels {
        while filled < level {
            let count = FILL_BATCH.min(level - filled);
            record(&mut conn, &fund, &tranche, count)?;
            filled += count;
        }
        if let DbConnection::Postgresql(_) = &mut *conn {
            // What autovacuum does on a production server (this machine's cluster runs without it).
            use diesel::connection::SimpleConnection;
            conn.batch_execute("VACUUM ANALYZE commitments")?;
            conn.batch_execute("VACUUM ANALYZE tranches")?;
        }
        let (mut batches, mut sums) = (Vec::new(), Vec::new());
        for _ in 0..SAMPLES {
            batches.push(record(&mut conn, &fund, &tranche, BATCH)?);
            sums.push(old_sum(&mut conn, &tranche)?);
        }
        filled += SAMPLES * BATCH;
        println!("{filled:>26} | {:>8.2} ms | {:>8.2} ms", median_ms(batches), median_ms(sums));
    }
    Ok(())
}
