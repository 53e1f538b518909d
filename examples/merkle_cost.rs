//! What the journal's Merkle tree costs a write as the journal grows (docs/ledger.md, "Merkle
//! tree and checkpoints"). On a fresh database, first appends PREFILL leaves (in transactions of
//! 10,000, timed apart), then LEAVES more in write transactions of BATCH leaves, all through the
//! code the write path calls (`storage::merkle::append`), and prints the time per leaf for each
//! tenth of the measured run, then the time of a root and of a consistency proof at the end. The
//! tree is all that is written: the cost of the entries themselves is another benchmark's.
//!
//! `cargo run --release --example merkle_cost -- DATABASE_URL [LEAVES] [BATCH] [PREFILL]`

use std::time::Instant;

use anyhow::{anyhow, Context};
use investai::storage::{build_pool, merkle, read_tx, run_migrations, write_tx, DbTarget};
use sha2::{Digest, Sha256};

const LEAVES_DEFAULT: u64 = 1_000_000;
/// Leaves per write transaction: one entry per write is the common case of the API.
const BATCH_DEFAULT: u64 = 1;
/// Tenths of the run reported.
const PARTS: u64 = 10;
/// Leaves per transaction while prefilling.
const PREFILL_BATCH: u64 = 10_000;

/// Appends leaves `size..end` in transactions of `batch`; the new size.
fn append_up_to(
    conn: &mut investai::storage::DbConnection,
    mut size: u64,
    end: u64,
    batch: u64,
) -> anyhow::Result<u64> {
    while size < end {
        let count = batch.min(end - size);
        let hashes: Vec<String> = (size..size + count).map(|n| hex::encode(Sha256::digest(n.to_be_bytes()))).collect();
        let borrowed: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let at = size as i64;
        write_tx(conn, |c| merkle::append(c, at, &borrowed))?;
        size += count;
    }
    Ok(size)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| anyhow!("usage: merkle_cost DATABASE_URL [LEAVES] [BATCH]"))?;
    let leaves: u64 = args.next().map_or(Ok(LEAVES_DEFAULT), |a| a.parse()).context("LEAVES")?;
    let batch: u64 = args.next().map_or(Ok(BATCH_DEFAULT), |a| a.parse()).context("BATCH")?.max(1);
    let prefill: u64 = args.next().map_or(Ok(0), |a| a.parse()).context("PREFILL")?;
    let target = DbTarget::parse(&url).map_err(|e| anyhow!(e))?;
    let pool = build_pool(&target, 2)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    println!("backend {}, {prefill} leaves first, then {leaves} timed, {batch} per transaction", target.backend_name());

    let began = Instant::now();
    let mut size = append_up_to(&mut conn, 0, prefill, PREFILL_BATCH)?;
    if prefill > 0 {
        let per_leaf_us = began.elapsed().as_secs_f64() * 1e6 / prefill as f64;
        println!("prefill of {prefill:>9}: {per_leaf_us:>8.1} us per leaf ({PREFILL_BATCH} per transaction)");
    }
    let end = prefill + leaves;
    let part = (leaves / PARTS).max(1);
    while size < end {
        let began = Instant::now();
        let part_end = (size + part).min(end);
        size = append_up_to(&mut conn, size, part_end, batch)?;
        let per_leaf_us = began.elapsed().as_secs_f64() * 1e6 / part as f64;
        println!("leaves up to {part_end:>9}: {per_leaf_us:>8.1} us per leaf");
    }
    let began = Instant::now();
    let root = read_tx(&mut conn, |c| merkle::root(c, size))?;
    println!("root of {size} leaves in {:.2} ms: {}", began.elapsed().as_secs_f64() * 1e3, hex::encode(root.0));
    let began = Instant::now();
    let proof = read_tx(&mut conn, |c| merkle::consistency_proof(c, (size / 3) as i64, size as i64))?;
    println!(
        "consistency proof {} to {size} ({} hashes) in {:.2} ms",
        size / 3,
        proof.hashes.len(),
        began.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
