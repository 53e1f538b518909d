//! The floor rule applied to every write (docs/ledger.md, "Floors"): the daily totals of each
//! account, kept with the postings in the write's transaction, and the check that no account a
//! write lowers breaks its floor on the write's date or on any later date. Every entry reaches
//! the journal through [`super::ledger::ChainedEntries::write`], which calls this: one place
//! for every kind of write.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::upsert::excluded;

use super::ledger::{EntryRow, PostingRow};
use super::schema::{account_days, ledger_accounts};
use super::DbConnection;
use crate::domain::floors::{first_breach, floor_of, Breach, Floor, Normal};
use crate::domain::money::{Cents, MoneyError};
use crate::error::{AppError, AppResult, FieldError, Message};

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = account_days)]
struct DayRow {
    account_id: String,
    party_key: String,
    day: NaiveDate,
    net_cents: i64,
}

/// An account and a party's share of it ('' for the whole account).
type Key = (String, String);

/// What one write lowers: per key, the earliest date it lowers it on and the entry that does.
struct Lowered {
    floor: &'static Floor,
    from: NaiveDate,
    entry: usize,
}

/// Adds the postings of `entries` to the daily totals, then refuses the write if an account
/// it takes toward its floor stands below zero on any date from the entry's date on. Call
/// after the postings are inserted, inside the write's transaction: a refusal rolls back
/// everything. `fields[i]` names the request field behind entry `i`, for the refusal.
pub fn record_and_check(
    conn: &mut DbConnection,
    entries: &[EntryRow],
    postings: &[PostingRow],
    fields: &[&'static str],
    known_codes: &HashMap<String, String>,
) -> AppResult<()> {
    let index_of: HashMap<&str, usize> = entries.iter().enumerate().map(|(i, e)| (e.id.as_str(), i)).collect();
    let mut totals: BTreeMap<(Key, NaiveDate), i64> = BTreeMap::new();
    for posting in postings {
        let Some(entry) = index_of.get(posting.entry_id.as_str()).map(|i| &entries[*i]) else { continue };
        for key in keys(posting) {
            let total = totals.entry((key, entry.effective_date)).or_default();
            *total = total.checked_add(posting.amount_cents).ok_or(MoneyError::Overflow)?;
        }
    }
    add_days(conn, totals)?;
    let lowered = lowered(conn, entries, postings, &index_of, known_codes)?;
    for ((account_id, party), lowering) in &lowered {
        if let Some(breach) = breach(conn, lowering.floor, account_id, party, lowering.from)? {
            let field = fields.get(lowering.entry).copied().unwrap_or("postings");
            return Err(refusal(conn, lowering, account_id, party, breach, field)?);
        }
    }
    Ok(())
}

/// The whole account, and the party's share when the posting names one.
fn keys(posting: &PostingRow) -> Vec<Key> {
    let mut keys = vec![(posting.account_id.clone(), String::new())];
    if let Some(party) = posting.party_id.as_ref().filter(|p| !p.is_empty()) {
        keys.push((posting.account_id.clone(), party.clone()));
    }
    keys
}

fn add_days(conn: &mut DbConnection, totals: BTreeMap<(Key, NaiveDate), i64>) -> AppResult<()> {
    let rows: Vec<DayRow> = totals
        .into_iter()
        .map(|(((account_id, party_key), day), net_cents)| DayRow { account_id, party_key, day, net_cents })
        .collect();
    let conflict = (account_days::account_id, account_days::party_key, account_days::day);
    let add = account_days::net_cents.eq(account_days::net_cents + excluded(account_days::net_cents));
    super::upsert_all!(conn, account_days::table, rows, on conflict, set add);
    Ok(())
}

/// The keys the write takes toward their floor, each from the first date it does.
fn lowered(
    conn: &mut DbConnection,
    entries: &[EntryRow],
    postings: &[PostingRow],
    index_of: &HashMap<&str, usize>,
    known_codes: &HashMap<String, String>,
) -> AppResult<BTreeMap<Key, Lowered>> {
    let mut floors: HashMap<String, &'static Floor> =
        known_codes.iter().filter_map(|(id, code)| floor_of(code).map(|f| (id.clone(), f))).collect();
    let mut ids: Vec<&str> =
        postings.iter().map(|p| p.account_id.as_str()).filter(|id| !known_codes.contains_key(*id)).collect();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let codes: Vec<(String, String)> = ledger_accounts::table
            .filter(ledger_accounts::id.eq_any(chunk))
            .select((ledger_accounts::id, ledger_accounts::code))
            .load(conn)?;
        floors.extend(codes.into_iter().filter_map(|(id, code)| floor_of(&code).map(|f| (id, f))));
    }
    let mut lowered: BTreeMap<Key, Lowered> = BTreeMap::new();
    for posting in postings {
        let Some(floor) = floors.get(&posting.account_id).copied() else { continue };
        let Some(entry) = index_of.get(posting.entry_id.as_str()).copied() else { continue };
        if !floor.lowers(Cents::new(posting.amount_cents)) {
            continue;
        }
        let from = entries[entry].effective_date;
        for key in keys(posting).into_iter().filter(|(_, party)| party.is_empty() || floor.per_party) {
            lowered
                .entry(key)
                .and_modify(|l| {
                    if from < l.from {
                        (l.from, l.entry) = (from, entry);
                    }
                })
                .or_insert(Lowered { floor, from, entry });
        }
    }
    Ok(lowered)
}

/// Refuses to take `amount` from the whole account of `code` on `on` unless the account holds
/// that much at the end of that day: the check a write makes for money it reads but does not
/// post in full (a distribution's cash, of which what no one takes stays in the account; what
/// it does post meets the floor on every later date through [`record_and_check`]). Nothing is
/// written.
pub fn check_holds_on(
    conn: &mut DbConnection,
    (account_id, code): (&str, &str),
    amount: Cents,
    on: NaiveDate,
    field: &'static str,
) -> AppResult<()> {
    let Some(floor) = floor_of(code) else { return Ok(()) };
    let after_on = on.succ_opt().ok_or_else(|| AppError::internal("no day after the last date"))?;
    let through = balance_before(conn, account_id, "", after_on)?;
    let taken = -floor.held(amount.get());
    if let Some(breach) = first_breach(floor, through, [(on, taken)]) {
        let lowering = Lowered { floor, from: on, entry: 0 };
        return Err(refusal(conn, &lowering, account_id, "", breach, field)?);
    }
    Ok(())
}

/// The first date on or after `from` on which the key stands below its floor, if any.
fn breach(
    conn: &mut DbConnection,
    floor: &Floor,
    account_id: &str,
    party: &str,
    from: NaiveDate,
) -> AppResult<Option<Breach>> {
    // The balance before `from` and each day from `from` on: as many rows as the key has dates
    // with entries, not postings. Both statements stay prepared on the connection.
    let opening = balance_before(conn, account_id, party, from)?;
    let days: Vec<(NaiveDate, i64)> = account_days::table
        .filter(account_days::account_id.eq(account_id))
        .filter(account_days::party_key.eq(party))
        .filter(account_days::day.ge(from))
        .order(account_days::day.asc())
        .select((account_days::day, account_days::net_cents))
        .load(conn)?;
    Ok(first_breach(floor, opening, days))
}

/// The key's balance (debit positive) from its days before `before`.
fn balance_before(conn: &mut DbConnection, account_id: &str, party: &str, before: NaiveDate) -> AppResult<i64> {
    Ok(account_days::table
        .filter(account_days::account_id.eq(account_id))
        .filter(account_days::party_key.eq(party))
        .filter(account_days::day.lt(before))
        .select(sql::<BigInt>("CAST(COALESCE(SUM(net_cents), 0) AS BIGINT)"))
        .first(conn)?)
}

fn refusal(
    conn: &mut DbConnection,
    lowering: &Lowered,
    account_id: &str,
    party: &str,
    breach: Breach,
    field: &str,
) -> AppResult<AppError> {
    let (code, name): (String, String) =
        ledger_accounts::table.find(account_id).select((ledger_accounts::code, ledger_accounts::name)).first(conn)?;
    let side = match lowering.floor.normal {
        Normal::Debit => "debit",
        Normal::Credit => "credit",
    };
    let held = Cents::new(lowering.floor.held(breach.balance.get()));
    // `party` is "none" for an account without parties: the catalogue's selector reads it.
    let message = Message::new("msg-floor-breach")
        .text("code", code)
        .text("name", name)
        .text("party", if party.is_empty() { "none" } else { party })
        .amount("held", held)
        .text("side", side)
        .date("date", breach.date)
        .date("from", lowering.from);
    let reason = FieldError::message(field, message);
    Ok(AppError::Rule { code: lowering.floor.problem, detail: reason.reason.clone(), errors: vec![reason] })
}
