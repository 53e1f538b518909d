//! What the floor rule costs a write at a large journal (docs/ledger.md, "Floors"). Fills one
//! fund with ENTRIES entries over 700 days (cash coming in, through the real posting code),
//! then times writes alternately, each in its own write transaction as a request's would be:
//!   - `raises`: cash in (debit 1000): nothing taken toward a floor, nothing checked;
//!   - `lowers today`: cash out on the last day: cash checked from that day on;
//!   - `lowers back-dated`: cash out on the first day: cash checked on every one of the 700 days.
//!
//! Every write also keeps the daily totals. The floor check's cost is the difference between a
//! lowering write and a raising one, measured in the same run. The Rust side of
//! `scripts/bench_floors.sh`.
//!
//! `cargo run --release --example floor_cost -- DATABASE_URL [ENTRIES] [WRITES]`

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use chrono::{Days, NaiveDate};
use investai::domain::chart::{CASH, FUND_EXPENSES, OPENING_BALANCE_EQUITY};
use investai::domain::ledger::PostingLine;
use investai::domain::money::Cents;
use investai::storage::funds::{create_fund, NewFund};
use investai::storage::ledger::{account_by_code, post_entry, NewEntry};
use investai::storage::{build_pool, new_id, run_migrations, write_tx, DbConnection, DbTarget};

/// Entries posted per write transaction while filling.
const ENTRIES_PER_TX: usize = 5_000;
const ENTRIES_DEFAULT: usize = 100_000;
const WRITES_DEFAULT: usize = 300;
/// Days the filled entries spread over.
const DAYS: u64 = 700;

struct Accounts {
    fund: String,
    cash: String,
    equity: String,
    expenses: String,
}

fn entry(accounts: &Accounts, date: NaiveDate, cash_cents: i64, other: &str) -> NewEntry {
    let line = |account: &str, amount: i64| PostingLine {
        account_id: account.to_string(),
        amount: Cents::new(amount),
        party_id: None,
        memo: String::new(),
    };
    NewEntry {
        fund_id: accounts.fund.clone(),
        effective_date: date,
        actor: "staff:bench".into(),
        event_type: "manual_entry".into(),
        event_id: new_id(),
        description: "Floor benchmark".into(),
        reverses_entry_id: None,
        amount_field: "postings",
        date_field: "effective_date",
        postings: vec![line(&accounts.cash, cash_cents), line(other, -cash_cents)],
    }
}

fn one_write(conn: &mut DbConnection, new: NewEntry) -> anyhow::Result<Duration> {
    let began = Instant::now();
    write_tx(conn, |conn| post_entry(conn, new.clone()))?;
    Ok(began.elapsed())
}

fn median_micros(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times.get(times.len() / 2).map_or(0.0, |t| t.as_secs_f64() * 1e6)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or_else(|| anyhow!("usage: floor_cost DATABASE_URL [ENTRIES] [WRITES]"))?;
    let entries: usize = args.next().map(|n| n.parse()).transpose().context("ENTRIES")?.unwrap_or(ENTRIES_DEFAULT);
    let writes: usize = args.next().map(|n| n.parse()).transpose().context("WRITES")?.unwrap_or(WRITES_DEFAULT);
    let target = DbTarget::parse(&url).map_err(|e| anyhow!(e))?;
    let pool = build_pool(&target, 1)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).ok_or_else(|| anyhow!("start date"))?;
    let last = start + Days::new(DAYS - 1);
    let accounts = write_tx(&mut conn, |conn| {
        let fund = create_fund(
            conn,
            NewFund {
                name: format!("Floor benchmark {}", new_id()),
                parent_id: None,
                target_size: Cents::from_eur(20_000_000_000)?,
                inception_date: start,
                term_years: 10,
            },
        )?;
        Ok(Accounts {
            cash: account_by_code(conn, &fund.id, CASH)?.id,
            equity: account_by_code(conn, &fund.id, OPENING_BALANCE_EQUITY)?.id,
            expenses: account_by_code(conn, &fund.id, FUND_EXPENSES)?.id,
            fund: fund.id,
        })
    })?;
    let mut posted = 0usize;
    while posted < entries {
        let batch = ENTRIES_PER_TX.min(entries - posted);
        write_tx(&mut conn, |conn| {
            for i in posted..posted + batch {
                let date = start + Days::new(i as u64 % DAYS);
                post_entry(conn, entry(&accounts, date, 1_000_000 + i as i64 % 997, &accounts.equity))?;
            }
            Ok(())
        })
        .map_err(|e| anyhow!("fill: {e}"))?;
        posted += batch;
    }
    if let DbConnection::Postgresql(_) = &mut *conn {
        // What autovacuum does on a production server (this machine's cluster runs without it):
        // the fill updated each day's total 140 times, leaving dead row versions behind.
        use diesel::connection::SimpleConnection;
        conn.batch_execute("VACUUM ANALYZE account_days")?;
    }
    let (mut raises, mut today, mut back) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..writes {
        raises.push(one_write(&mut conn, entry(&accounts, last, 100, &accounts.equity))?);
        today.push(one_write(&mut conn, entry(&accounts, last, -100, &accounts.expenses))?);
        back.push(one_write(&mut conn, entry(&accounts, start, -100, &accounts.expenses))?);
    }
    let (raise, lower_today, lower_back) = (median_micros(raises), median_micros(today), median_micros(back));
    println!("journal: {entries} entries over {DAYS} days, then {writes} writes of each kind (median per write)");
    println!("raises cash (no floor checked):        {raise:8.0} us");
    println!("lowers cash today (1 day checked):     {lower_today:8.0} us  floor check {:+.0} us", lower_today - raise);
    println!("lowers cash back-dated ({DAYS} days):  {lower_back:8.0} us  floor check {:+.0} us", lower_back - raise);
    Ok(())
}
