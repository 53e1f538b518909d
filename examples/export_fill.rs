//! Fills a database with a large journal for the export benchmark: one fund and ENTRIES
//! entries of four postings each, posted through `storage::ledger::post_entry` (so the hash
//! chain is valid and `investai verify` passes) in transactions of `ENTRIES_PER_TX` entries.
//! Prints the fund id. The Rust side of `scripts/bench_export.sh`.
//!
//! `cargo run --release --example export_fill -- DATABASE_URL [ENTRIES]`

use std::time::Instant;

use anyhow::{anyhow, Context};
use chrono::{Days, NaiveDate};
use investai::domain::chart::{CASH, FUND_EXPENSES, MANAGEMENT_FEES, OPENING_BALANCE_EQUITY};
use investai::domain::ledger::PostingLine;
use investai::domain::money::Cents;
use investai::storage::funds::{create_fund, NewFund};
use investai::storage::ledger::{account_by_code, post_entry, NewEntry};
use investai::storage::{build_pool, new_id, run_migrations, write_tx, DbTarget};

/// Entries posted per write transaction.
const ENTRIES_PER_TX: usize = 5_000;
/// Default journal size: 250,000 entries of 4 postings, one million postings.
const ENTRIES_DEFAULT: usize = 250_000;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| anyhow!("usage: export_fill DATABASE_URL [ENTRIES]"))?;
    let entries: usize = args.next().map(|n| n.parse()).transpose().context("ENTRIES")?.unwrap_or(ENTRIES_DEFAULT);
    let target = DbTarget::parse(&url).map_err(|e| anyhow!(e))?;
    let pool = build_pool(&target, 1)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    let start = NaiveDate::from_ymd_opt(2025, 2, 11).ok_or_else(|| anyhow!("start date"))?;
    let fund = write_tx(&mut conn, |conn| {
        create_fund(
            conn,
            NewFund {
                name: format!("Export benchmark {}", new_id()),
                parent_id: None,
                target_size: Cents::from_eur(20_000_000_000)?,
                inception_date: start,
                term_years: 10,
            },
        )
    })?;
    let accounts = write_tx(&mut conn, |conn| {
        Ok([CASH, OPENING_BALANCE_EQUITY, MANAGEMENT_FEES, FUND_EXPENSES]
            .map(|code| account_by_code(conn, &fund.id, code).map(|a| a.id)))
    })?;
    let [cash, equity, fees, expenses] = accounts;
    let (cash, equity, fees, expenses) = (cash?, equity?, fees?, expenses?);
    let began = Instant::now();
    let mut posted = 0usize;
    while posted < entries {
        let batch = ENTRIES_PER_TX.min(entries - posted);
        write_tx(&mut conn, |conn| {
            for i in posted..posted + batch {
                let n = i as i64;
                let (a, b) = (Cents::new(100 + n % 99_991), Cents::new(1 + n % 997));
                let line = |account: &str, amount: Cents, memo: String| PostingLine {
                    account_id: account.to_string(),
                    amount,
                    party_id: None,
                    memo,
                };
                post_entry(
                    conn,
                    NewEntry {
                        fund_id: fund.id.clone(),
                        effective_date: start + Days::new((i % 700) as u64),
                        actor: "staff:bench".into(),
                        event_type: "manual_entry".into(),
                        event_id: new_id(),
                        description: format!("Benchmark entry {i}, fees and \"expenses\""),
                        reverses_entry_id: None,
                        amount_field: "postings",
                        date_field: "effective_date",
                        // Cash comes in, so its floor holds on every date whatever the order.
                        postings: vec![
                            line(&fees, a.checked_neg()?, format!("invoice {i}")),
                            line(&expenses, b.checked_neg()?, String::new()),
                            line(&equity, a.checked_neg()?, String::new()),
                            line(&cash, a.checked_add(b)?.checked_add(a)?, "bank".into()),
                        ],
                    },
                )?;
            }
            Ok(())
        })?;
        posted += batch;
        if posted.is_multiple_of(50_000) || posted == entries {
            eprintln!("{posted} entries, {:.0} entries/s", posted as f64 / began.elapsed().as_secs_f64());
        }
    }
    println!("{}", fund.id);
    Ok(())
}
