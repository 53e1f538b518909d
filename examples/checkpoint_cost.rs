//! What signing a checkpoint costs the writes that wait for it (docs/ledger.md, "Checkpoints"):
//! before it signs, a node walks every entry since the last checkpoint, recomputing each hash and
//! the root, inside a write transaction. On a fresh database, posts ENTRIES entries (through the
//! real posting code, in transactions of 5,000), then signs checkpoints STEP entries apart with the
//! code the job runs (`storage::merkle::issue_checkpoint`), each in its own write transaction, and
//! prints the median time of one: the time writes wait for it.
//!
//! `cargo run --release --example checkpoint_cost -- DATABASE_URL [ENTRIES] [STEP]`

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use investai::domain::chart::{CASH, OPENING_BALANCE_EQUITY};
use investai::domain::ledger::PostingLine;
use investai::domain::merkle::{generate_signer_key, CheckpointSigner};
use investai::domain::money::Cents;
use investai::storage::funds::{create_fund, NewFund};
use investai::storage::ledger::{account_by_code, post_entry, NewEntry};
use investai::storage::merkle::{issue_checkpoint, CheckpointPolicy};
use investai::storage::{build_pool, new_id, run_migrations, write_tx, DbTarget};

const ENTRIES_DEFAULT: usize = 20_000;
const STEP_DEFAULT: i64 = 1_000;
/// Entries posted per write transaction while filling.
const ENTRIES_PER_TX: usize = 5_000;

fn entry(fund: &str, cash: &str, equity: &str, date: NaiveDate, cents: i64) -> NewEntry {
    let line = |account: &str, amount: i64| PostingLine {
        account_id: account.to_string(),
        amount: Cents::new(amount),
        party_id: None,
        memo: String::new(),
    };
    NewEntry {
        fund_id: fund.to_string(),
        effective_date: date,
        actor: "staff:bench".into(),
        event_type: "manual_entry".into(),
        event_id: new_id(),
        description: "Checkpoint benchmark".into(),
        reverses_entry_id: None,
        amount_field: "postings",
        date_field: "effective_date",
        postings: vec![line(cash, cents), line(equity, -cents)],
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| anyhow!("usage: checkpoint_cost DATABASE_URL [ENTRIES] [STEP]"))?;
    let entries: usize = args.next().map(|n| n.parse()).transpose().context("ENTRIES")?.unwrap_or(ENTRIES_DEFAULT);
    let step: i64 = args.next().map(|n| n.parse()).transpose().context("STEP")?.unwrap_or(STEP_DEFAULT).max(1);
    let target = DbTarget::parse(&url).map_err(|e| anyhow!(e))?;
    let pool = build_pool(&target, 1)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    let date = NaiveDate::from_ymd_opt(2025, 1, 1).ok_or_else(|| anyhow!("date"))?;
    let (fund, cash, equity) = write_tx(&mut conn, |conn| {
        let new = NewFund {
            name: format!("Checkpoint benchmark {}", new_id()),
            parent_id: None,
            target_size: Cents::from_eur(20_000_000_000)?,
            inception_date: date,
            term_years: 10,
        };
        let fund = create_fund(conn, new)?;
        let cash = account_by_code(conn, &fund.id, CASH)?.id;
        let equity = account_by_code(conn, &fund.id, OPENING_BALANCE_EQUITY)?.id;
        Ok((fund.id, cash, equity))
    })?;
    let mut posted = 0usize;
    while posted < entries {
        let batch = ENTRIES_PER_TX.min(entries - posted);
        write_tx(&mut conn, |conn| {
            for i in posted..posted + batch {
                post_entry(conn, entry(&fund, &cash, &equity, date, 100 + i as i64 % 997))?;
            }
            Ok(())
        })
        .map_err(|e| anyhow!("fill: {e}"))?;
        posted += batch;
    }
    let (signer_key, _) = generate_signer_key("investai.bench/journal");
    let signer = CheckpointSigner::new(&signer_key).map_err(|e| anyhow!(e))?;
    let policy =
        CheckpointPolicy { every_entries: 1, at_least_every: chrono::Duration::days(1), entries_per_step: step };
    let mut times: Vec<Duration> = Vec::new();
    let mut signed = 0;
    loop {
        let now = chrono::Utc::now().naive_utc();
        let began = Instant::now();
        let issued = write_tx(&mut conn, |c| issue_checkpoint(c, &signer, policy, now, true, None))?;
        let Some(row) = issued else { break };
        times.push(began.elapsed());
        signed = row.tree_size;
    }
    times.sort();
    let median_ms = times.get(times.len() / 2).map_or(0.0, |t| t.as_secs_f64() * 1e3);
    let max_ms = times.last().map_or(0.0, |t| t.as_secs_f64() * 1e3);
    println!(
        "backend {}: {entries} entries, {} checkpoints {step} entries apart up to {signed}: {median_ms:.1} ms median, \
         {max_ms:.1} ms at most, per checkpoint under the writer lock",
        target.backend_name(),
        times.len()
    );
    Ok(())
}
