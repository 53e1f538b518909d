//! Journal storage: accounts, posting balanced hash-chained entries, balances, verification.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;
use utoipa::ToSchema;

use super::investments::counts_in_nav;
use super::schema::{journal_entries, ledger_accounts, ledger_head, merkle_tree, postings};
use super::{new_id, now_micros, DbConnection, PageOf};
use crate::domain::ledger::{
    canonical_timestamp, chain_hash, check_balanced, reversal_of, AccountKind, CanonicalEntry, CanonicalPosting,
    ChainFault, ChainVerifier, PostingLine, StoredEntry, CANONICAL_VERSION,
};
use crate::domain::money::Cents;
use crate::domain::{chart, merkle};
use crate::error::{AppError, AppResult, Message, OutOfOrder};

/// Entries read per page when verifying or exporting, so memory stays flat.
pub const VERIFY_PAGE_ENTRIES: i64 = 500;
/// A date after every entry: "as of the end of time". Not `NaiveDate::MAX`, whose text form
/// (`+262142-12-31`) sorts before real dates where SQLite compares dates as text.
pub const LAST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date,
    None => panic!("9999-12-31 is a date"),
};
/// Largest page a journal listing returns.
pub const ENTRIES_PAGE_MAX: i64 = 500;

#[derive(Clone, Debug, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = ledger_accounts)]
pub struct Account {
    pub id: String,
    pub fund_id: String,
    pub code: String,
    pub name: String,
    /// asset, liability, equity, income or expense
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::time::utc")]
    pub created_at: NaiveDateTime,
}

impl Account {
    pub fn account_kind(&self) -> AppResult<AccountKind> {
        AccountKind::parse(&self.kind)
            .ok_or_else(|| AppError::internal(format!("account {} has unknown kind {}", self.id, self.kind)))
    }
}

pub fn create_account(
    conn: &mut DbConnection,
    fund_id: &str,
    code: &str,
    name: &str,
    kind: AccountKind,
) -> AppResult<Account> {
    if find_account_by_code(conn, fund_id, code)?.is_some() {
        return Err(AppError::conflict(
            "account-code-taken",
            Message::new("msg-account-code-taken").text("code", code),
        ));
    }
    let account = Account {
        id: new_id(),
        fund_id: fund_id.to_string(),
        code: code.to_string(),
        name: name.to_string(),
        kind: kind.as_str().to_string(),
        created_at: now_micros(),
    };
    diesel::insert_into(ledger_accounts::table).values(&account).execute(conn)?;
    Ok(account)
}

/// The account with `code` in the fund's chart, if there is one. No code holds a control
/// character, and PostgreSQL cannot take a NUL in a text parameter: such a code is none.
pub fn find_account_by_code(conn: &mut DbConnection, fund_id: &str, code: &str) -> AppResult<Option<Account>> {
    if code.chars().any(char::is_control) {
        return Ok(None);
    }
    Ok(ledger_accounts::table
        .filter(ledger_accounts::fund_id.eq(fund_id))
        .filter(ledger_accounts::code.eq(code))
        .select(Account::as_select())
        .first(conn)
        .optional()?)
}

/// The account with `code` in the fund's chart, or an error naming the missing code.
pub fn account_by_code(conn: &mut DbConnection, fund_id: &str, code: &str) -> AppResult<Account> {
    find_account_by_code(conn, fund_id, code)?
        .ok_or_else(|| AppError::internal(format!("fund {fund_id} has no account {code} in its chart")))
}

/// The accounts with `codes` in the fund's chart, in the order of `codes`, in one query.
pub fn accounts_by_codes<const N: usize>(
    conn: &mut DbConnection,
    fund_id: &str,
    codes: [&str; N],
) -> AppResult<[Account; N]> {
    let mut found: Vec<Account> = ledger_accounts::table
        .filter(ledger_accounts::fund_id.eq(fund_id))
        .filter(ledger_accounts::code.eq_any(codes))
        .select(Account::as_select())
        .load(conn)?;
    let ordered: Vec<Account> = codes
        .iter()
        .map(|code| {
            let index = found.iter().position(|a| a.code == *code);
            index
                .map(|i| found.swap_remove(i))
                .ok_or_else(|| AppError::internal(format!("fund {fund_id} has no account {code} in its chart")))
        })
        .collect::<AppResult<_>>()?;
    ordered.try_into().map_err(|_| AppError::internal("account lookup returned the wrong number of accounts"))
}

/// An account of the standard chart, created on first use for funds whose chart predates it.
pub fn standard_account(conn: &mut DbConnection, fund_id: &str, code: &str) -> AppResult<Account> {
    if let Some(account) = find_account_by_code(conn, fund_id, code)? {
        return Ok(account);
    }
    let (_, name, kind) = crate::domain::chart::STANDARD_CHART
        .iter()
        .find(|(c, _, _)| *c == code)
        .ok_or_else(|| AppError::internal(format!("{code} is not in the standard chart")))?;
    create_account(conn, fund_id, code, name, *kind)
}

pub fn list_accounts(conn: &mut DbConnection, fund_id: &str) -> AppResult<Vec<Account>> {
    Ok(ledger_accounts::table
        .filter(ledger_accounts::fund_id.eq(fund_id))
        .order(ledger_accounts::code.asc())
        .select(Account::as_select())
        .load(conn)?)
}

/// An entry to post; the storage layer adds sequence, timestamps and hashes.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub fund_id: String,
    pub effective_date: NaiveDate,
    pub actor: String,
    pub event_type: String,
    pub event_id: String,
    pub description: String,
    pub reverses_entry_id: Option<String>,
    /// The request field that carries what this entry posts: a refusal by the floor rule
    /// names it (`amount`, `cash`, `postings`...).
    pub amount_field: &'static str,
    /// The request field that carries the entry's date: a refusal of an entry that moves NAV on
    /// or before the fund's latest valuation names it.
    pub date_field: &'static str,
    pub postings: Vec<PostingLine>,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = journal_entries)]
pub struct EntryRow {
    pub id: String,
    pub sequence: i64,
    pub fund_id: String,
    pub effective_date: NaiveDate,
    pub created_at: NaiveDateTime,
    pub actor: String,
    pub event_type: String,
    pub event_id: String,
    pub description: String,
    pub reverses_entry_id: Option<String>,
    pub previous_hash: String,
    pub hash: String,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = postings)]
pub struct PostingRow {
    pub entry_id: String,
    pub line: i32,
    pub account_id: String,
    pub amount_cents: i64,
    pub party_id: Option<String>,
    pub memo: String,
}

impl EntryRow {
    /// What the entry's hash covers (docs/ledger.md, "Hash chain").
    pub fn canonical<'a>(&'a self, lines: &'a [PostingRow]) -> CanonicalEntry<'a> {
        CanonicalEntry {
            version: CANONICAL_VERSION,
            sequence: self.sequence,
            id: &self.id,
            fund_id: &self.fund_id,
            effective_date: self.effective_date,
            created_at: canonical_timestamp(self.created_at),
            actor: &self.actor,
            event_type: &self.event_type,
            event_id: &self.event_id,
            description: &self.description,
            reverses_entry_id: self.reverses_entry_id.as_deref(),
            postings: lines
                .iter()
                .map(|p| CanonicalPosting {
                    line: p.line,
                    account_id: &p.account_id,
                    amount_cents: p.amount_cents,
                    party_id: p.party_id.as_deref(),
                    memo: &p.memo,
                })
                .collect(),
        }
    }
}

/// Posts a balanced entry at the end of the chain. Call inside [`super::write_tx`].
pub fn post_entry(conn: &mut DbConnection, entry: NewEntry) -> AppResult<EntryRow> {
    check_balanced(&entry.postings)?;
    let (codes, in_nav) = accounts_in_fund(conn, &entry.fund_id, &entry.postings)?;
    let mut chain = ChainedEntries::at_head(conn)?;
    // The codes just read spare the floors a lookup of their own.
    chain.codes.extend(codes);
    chain.in_nav.extend(in_nav);
    let row = chain.link(entry).clone();
    chain.write(conn)?;
    Ok(row)
}

/// [`post_entry`] for postings to `accounts`, loaded earlier: they are checked against the
/// fund here instead of in the database, which spares the writer lock a round trip.
pub fn post_entry_to(conn: &mut DbConnection, entry: NewEntry, accounts: &[&Account]) -> AppResult<EntryRow> {
    let mut chain = ChainedEntries::at_head(conn)?;
    let row = chain.push(entry, accounts)?.clone();
    chain.write(conn)?;
    Ok(row)
}

/// Entries chained in memory after the head read under the writer lock, then written
/// together: one statement per table however many entries, so a batch of writes costs the
/// lock a few round trips instead of a few per entry.
pub struct ChainedEntries {
    head: (i64, String),
    /// The leaves of the journal's Merkle tree when the head was read.
    tree_size: i64,
    entries: Vec<EntryRow>,
    postings: Vec<PostingRow>,
    /// Each entry's `amount_field`.
    fields: Vec<&'static str>,
    /// Each entry's `date_field`.
    date_fields: Vec<&'static str>,
    /// The codes of the accounts the entries were checked against, by account id: the floors
    /// need no lookup for them.
    codes: HashMap<String, String>,
    /// Which of those accounts count in the investors' net assets (NAV).
    in_nav: HashSet<String>,
}

impl ChainedEntries {
    /// An empty chain continuing the journal's head, read under the writer lock with the size
    /// of its Merkle tree in one statement.
    pub fn at_head(conn: &mut DbConnection) -> AppResult<Self> {
        let tree_size = merkle_tree::table.find(1).select(merkle_tree::size).single_value();
        let (sequence, hash, tree_size): (i64, String, Option<i64>) = ledger_head::table
            .find(1)
            .select((ledger_head::sequence, ledger_head::last_hash, tree_size))
            .first(conn)?;
        let tree_size = tree_size.ok_or_else(|| AppError::internal("the journal's Merkle tree has no size row"))?;
        Ok(ChainedEntries {
            head: (sequence, hash),
            tree_size,
            entries: Vec::new(),
            postings: Vec::new(),
            fields: Vec::new(),
            date_fields: Vec::new(),
            codes: HashMap::new(),
            in_nav: HashSet::new(),
        })
    }

    /// Checks `entry` (balanced, posting only to `accounts` of its fund, loaded earlier) and
    /// links it at the end of the chain. A refused entry leaves the chain as it was.
    pub fn push(&mut self, entry: NewEntry, accounts: &[&Account]) -> AppResult<&EntryRow> {
        check_balanced(&entry.postings)?;
        let in_fund: Vec<&str> =
            accounts.iter().filter(|a| a.fund_id == entry.fund_id).map(|a| a.id.as_str()).collect();
        check_accounts_known(&entry.postings, &in_fund)?;
        for account in accounts.iter().filter(|a| entry.postings.iter().any(|p| p.account_id == a.id)) {
            self.codes.entry(account.id.clone()).or_insert_with(|| account.code.clone());
            if counts_in_nav(&account.code, &account.kind) {
                self.in_nav.insert(account.id.clone());
            }
        }
        Ok(self.link(entry))
    }

    /// Links a checked entry: sequence and previous hash from the head, then its own hash.
    fn link(&mut self, entry: NewEntry) -> &EntryRow {
        let id = new_id();
        let row = EntryRow {
            id: id.clone(),
            sequence: self.head.0 + 1,
            fund_id: entry.fund_id,
            effective_date: entry.effective_date,
            created_at: now_micros(),
            actor: entry.actor,
            event_type: entry.event_type,
            event_id: entry.event_id,
            description: entry.description,
            reverses_entry_id: entry.reverses_entry_id,
            previous_hash: self.head.1.clone(),
            hash: String::new(),
        };
        let lines: Vec<PostingRow> = entry
            .postings
            .into_iter()
            .enumerate()
            .map(|(index, p)| PostingRow {
                entry_id: id.clone(),
                line: index as i32 + 1,
                account_id: p.account_id,
                amount_cents: p.amount.get(),
                party_id: p.party_id,
                memo: p.memo,
            })
            .collect();
        let hash = chain_hash(&row.previous_hash, &row.canonical(&lines));
        self.head = (row.sequence, hash.clone());
        self.fields.push(entry.amount_field);
        self.date_fields.push(entry.date_field);
        self.postings.extend(lines);
        self.entries.push(EntryRow { hash, ..row });
        &self.entries[self.entries.len() - 1]
    }

    /// Writes the linked entries and their postings, refuses them if they break a floor on any
    /// date (`storage::floors`), and moves the chain's head to the last. Call inside the
    /// [`super::write_tx`] whose head the chain continues; a refusal rolls the write back.
    pub fn write(self, conn: &mut DbConnection) -> AppResult<()> {
        let Some(last) = self.entries.last() else {
            return Ok(());
        };
        // A lone entry goes by a statement the connection keeps prepared; several in chunks, as
        // SQLite binds at most 32,766 parameters per statement.
        if let [entry] = self.entries.as_slice() {
            diesel::insert_into(journal_entries::table).values(entry).execute(conn)?;
        } else {
            for chunk in self.entries.chunks(1_000) {
                super::batch_insert!(conn, journal_entries::table, chunk);
            }
        }
        for chunk in self.postings.chunks(1_000) {
            super::batch_insert!(conn, postings::table, chunk);
        }
        self.check_after_valuations(conn)?;
        super::floors::record_and_check(conn, &self.entries, &self.postings, &self.fields, &self.codes)?;
        let tree_size = self.grow_tree(conn)?;
        advance_head(conn, last, tree_size)
    }
}

/// Moves the journal's head to `last` and records the Merkle tree's new size: one statement on
/// PostgreSQL (a round trip less under the writer lock for every write), two on SQLite, which
/// has no data-modifying `WITH` and no round trips.
fn advance_head(conn: &mut DbConnection, last: &EntryRow, tree_size: i64) -> AppResult<()> {
    use diesel::sql_types::{BigInt, Text};
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query(
            "WITH tree AS (UPDATE merkle_tree SET size = $1 WHERE id = 1) \
             UPDATE ledger_head SET sequence = $2, last_hash = $3, last_entry_id = $4 WHERE id = 1",
        )
        .bind::<BigInt, _>(tree_size)
        .bind::<BigInt, _>(last.sequence)
        .bind::<Text, _>(&last.hash)
        .bind::<Text, _>(&last.id)
        .execute(pg)?;
        return Ok(());
    }
    diesel::update(merkle_tree::table.find(1)).set(merkle_tree::size.eq(tree_size)).execute(conn)?;
    diesel::update(ledger_head::table.find(1))
        .set((
            ledger_head::sequence.eq(last.sequence),
            ledger_head::last_hash.eq(&last.hash),
            ledger_head::last_entry_id.eq(Some(&last.id)),
        ))
        .execute(conn)?;
    Ok(())
}

impl ChainedEntries {
    /// Refuses an entry that moves the investors' net assets (NAV) dated on or before its fund's
    /// latest valuation, which states NAV on its date (docs/waterfall.md): such an entry would
    /// move NAV on that date away from what the valuation says. A valuation's own entry is what
    /// brings the books to it. Entries that leave NAV as it is read nothing.
    fn check_after_valuations(&self, conn: &mut DbConnection) -> AppResult<()> {
        let mut nav_change: HashMap<&str, i128> = HashMap::new();
        for posting in self.postings.iter().filter(|p| self.in_nav.contains(&p.account_id)) {
            *nav_change.entry(posting.entry_id.as_str()).or_default() += i128::from(posting.amount_cents);
        }
        let mut valued: HashMap<&str, Option<NaiveDate>> = HashMap::new();
        for (entry, date_field) in self.entries.iter().zip(&self.date_fields) {
            if entry.event_type == "valuation" || nav_change.get(entry.id.as_str()).is_none_or(|c| *c == 0) {
                continue;
            }
            let latest = match valued.get(entry.fund_id.as_str()) {
                Some(latest) => *latest,
                None => {
                    let latest = super::investments::latest_valuation_date(conn, &entry.fund_id)?;
                    valued.insert(entry.fund_id.as_str(), latest);
                    latest
                }
            };
            OutOfOrder { code: "before-valuation", field: date_field, message: "msg-before-valuation" }
                .unless_after(latest, entry.effective_date)?;
        }
        Ok(())
    }

    /// Appends the entries to the journal's Merkle tree, in the same transaction, and answers
    /// its new size, for the caller to record. The tree is at the entry before the first unless
    /// the database predates it; then it catches up first.
    fn grow_tree(&self, conn: &mut DbConnection) -> AppResult<i64> {
        let Some(first) = self.entries.first() else { return Ok(self.tree_size) };
        let mut size = self.tree_size;
        if size != first.sequence - 1 {
            size = super::merkle::catch_up(conn)?;
        }
        let new: Vec<&str> = self.entries.iter().filter(|e| e.sequence > size).map(|e| e.hash.as_str()).collect();
        super::merkle::append_leaves(conn, size, &new)
    }
}

/// The code of each account `lines` post to, by account id, once each is found in the fund's
/// chart of accounts.
fn accounts_in_fund(
    conn: &mut DbConnection,
    fund_id: &str,
    lines: &[PostingLine],
) -> AppResult<(HashMap<String, String>, HashSet<String>)> {
    let mut wanted: Vec<&str> = lines.iter().map(|p| p.account_id.as_str()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let found: Vec<(String, String, String)> = ledger_accounts::table
        .filter(ledger_accounts::fund_id.eq(fund_id))
        .filter(ledger_accounts::id.eq_any(&wanted))
        .select((ledger_accounts::id, ledger_accounts::code, ledger_accounts::kind))
        .load(conn)?;
    let in_nav =
        found.iter().filter(|(_, code, kind)| counts_in_nav(code, kind)).map(|(id, _, _)| id.clone()).collect();
    let codes: HashMap<String, String> = found.into_iter().map(|(id, code, _)| (id, code)).collect();
    let in_fund: Vec<&str> = codes.keys().map(String::as_str).collect();
    check_accounts_known(lines, &in_fund)?;
    Ok((codes, in_nav))
}

/// Every line posts to one of `in_fund`, the ids of accounts of the entry's fund.
fn check_accounts_known(lines: &[PostingLine], in_fund: &[&str]) -> AppResult<()> {
    match lines.iter().position(|line| !in_fund.contains(&line.account_id.as_str())) {
        Some(index) => Err(AppError::rule_on(
            "unknown-account",
            &format!("postings[{index}].account"),
            "no such account in this fund's chart of accounts",
        )),
        None => Ok(()),
    }
}

/// Events whose entry is the whole record: a reversal of the entry undoes the event. Every
/// other event (a contribution, a distribution, an award...) is also held outside the journal
/// (notices, positions, awards), which a reversal of its entry alone would leave disagreeing
/// with the books.
pub const REVERSIBLE_EVENTS: [&str; 2] = ["manual_entry", "proceeds"];

/// Posts the reversing entry of `entry_id`. An entry is reversed at most once, a reversal
/// itself is not reversed (post a new entry instead), and only entries of
/// [`REVERSIBLE_EVENTS`] are reversed this way.
pub fn reverse_entry(
    conn: &mut DbConnection,
    entry_id: &str,
    actor: &str,
    effective_date: NaiveDate,
    reason: &str,
) -> AppResult<EntryRow> {
    let original = get_entry(conn, entry_id)?;
    if original.entry.reverses_entry_id.is_some() {
        return Err(AppError::rule("reversal-of-reversal", "a reversing entry cannot itself be reversed"));
    }
    if !REVERSIBLE_EVENTS.contains(&original.entry.event_type.as_str()) {
        return Err(AppError::rule(
            "entry-records-an-event",
            Message::new("msg-entry-records-an-event").count("number", original.entry.sequence).word(
                "event",
                "event",
                &original.entry.event_type,
            ),
        ));
    }
    let already: i64 =
        journal_entries::table.filter(journal_entries::reverses_entry_id.eq(entry_id)).count().get_result(conn)?;
    if already > 0 {
        return Err(AppError::conflict(
            "already-reversed",
            Message::new("msg-already-reversed").text("entry", entry_id),
        ));
    }
    if effective_date < original.entry.effective_date {
        return Err(AppError::rule_on(
            "reversal-before-original",
            "effective_date",
            "a reversal cannot be dated before the entry it reverses",
        ));
    }
    let lines: Vec<PostingLine> = original
        .postings
        .iter()
        .map(|p| PostingLine {
            account_id: p.account_id.clone(),
            amount: Cents::new(p.amount_cents),
            party_id: p.party_id.clone(),
            memo: p.memo.clone(),
        })
        .collect();
    post_entry(
        conn,
        NewEntry {
            fund_id: original.entry.fund_id.clone(),
            effective_date,
            actor: actor.to_string(),
            event_type: "reversal".into(),
            event_id: entry_id.to_string(),
            description: format!("Reversal of entry {}: {reason}", original.entry.sequence),
            reverses_entry_id: Some(entry_id.to_string()),
            amount_field: "effective_date",
            date_field: "effective_date",
            postings: reversal_of(&lines)?,
        },
    )
}

#[derive(Clone, Debug)]
pub struct EntryWithPostings {
    pub entry: EntryRow,
    pub postings: Vec<PostingRow>,
}

pub fn get_entry(conn: &mut DbConnection, entry_id: &str) -> AppResult<EntryWithPostings> {
    let entry = journal_entries::table
        .find(entry_id)
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("journal entry {entry_id}")))?;
    let lines = postings::table
        .filter(postings::entry_id.eq(entry_id))
        .order(postings::line.asc())
        .select(PostingRow::as_select())
        .load(conn)?;
    Ok(EntryWithPostings { entry, postings: lines })
}

/// Filters of the journal browser and exports.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub fund_id: Option<String>,
    pub account_id: Option<String>,
    pub event_type: Option<String>,
    pub event_id: Option<String>,
    pub actor: Option<String>,
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    /// Only entries after this sequence (keyset pagination).
    pub after_sequence: Option<i64>,
}

/// A page of entries with their postings, in sequence order, and the sequence to continue after
/// when more follow.
pub fn list_entries(conn: &mut DbConnection, filter: &EntryFilter, limit: i64) -> AppResult<PageOf<EntryWithPostings>> {
    let limit = limit.clamp(1, ENTRIES_PAGE_MAX);
    let mut query = journal_entries::table.into_boxed();
    if let Some(fund_id) = &filter.fund_id {
        query = query.filter(journal_entries::fund_id.eq(fund_id.clone()));
    }
    if let Some(account_id) = &filter.account_id {
        let with_account =
            postings::table.filter(postings::account_id.eq(account_id.clone())).select(postings::entry_id);
        query = query.filter(journal_entries::id.eq_any(with_account));
    }
    if let Some(event_type) = &filter.event_type {
        query = query.filter(journal_entries::event_type.eq(event_type.clone()));
    }
    if let Some(event_id) = &filter.event_id {
        query = query.filter(journal_entries::event_id.eq(event_id.clone()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(journal_entries::actor.eq(actor.clone()));
    }
    if let Some(from) = filter.from_date {
        query = query.filter(journal_entries::effective_date.ge(from));
    }
    if let Some(to) = filter.to_date {
        query = query.filter(journal_entries::effective_date.le(to));
    }
    if let Some(after) = filter.after_sequence {
        query = query.filter(journal_entries::sequence.gt(after));
    }
    let rows: Vec<EntryRow> =
        query.order(journal_entries::sequence.asc()).limit(limit + 1).select(EntryRow::as_select()).load(conn)?;
    let page = PageOf::from_rows(rows, limit, |entry| entry.sequence.to_string());
    Ok(PageOf { items: attach_postings(conn, page.items)?, next_after: page.next_after })
}

fn attach_postings(conn: &mut DbConnection, entries: Vec<EntryRow>) -> AppResult<Vec<EntryWithPostings>> {
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    let mut by_entry: HashMap<String, Vec<PostingRow>> = HashMap::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let rows: Vec<PostingRow> = postings::table
            .filter(postings::entry_id.eq_any(chunk))
            .filter(super::planned_each_time())
            .order((postings::entry_id.asc(), postings::line.asc()))
            .select(PostingRow::as_select())
            .load(conn)?;
        for row in rows {
            by_entry.entry(row.entry_id.clone()).or_default().push(row);
        }
    }
    Ok(entries
        .into_iter()
        .map(|entry| {
            let postings = by_entry.remove(&entry.id).unwrap_or_default();
            EntryWithPostings { entry, postings }
        })
        .collect())
}

/// Balance of one account: debits positive, credits negative, as of a date (inclusive).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AccountBalance {
    pub account_id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    /// Net of debits and credits: positive is a debit balance.
    #[schema(value_type = String, example = "1250000.00")]
    pub net: Cents,
    #[schema(value_type = String, example = "1250000.00")]
    pub debit: Cents,
    #[schema(value_type = String, example = "0.00")]
    pub credit: Cents,
    /// A memorandum account (unfunded commitments): totalled apart in the trial balance.
    pub memorandum: bool,
}

/// Net balance of every account of a fund as of a date, summed in the database.
pub fn account_balances(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<Vec<AccountBalance>> {
    account_balances_through(conn, fund_id, as_of, i64::MAX)
}

/// As [`account_balances`], counting only entries up to `last_sequence`: the balances of a
/// snapshot of the chain, which later entries do not change.
pub fn account_balances_through(
    conn: &mut DbConnection,
    fund_id: &str,
    as_of: NaiveDate,
    last_sequence: i64,
) -> AppResult<Vec<AccountBalance>> {
    let sums: Vec<(String, i64)> = postings::table
        .inner_join(journal_entries::table)
        .filter(journal_entries::fund_id.eq(fund_id))
        .filter(journal_entries::effective_date.le(as_of))
        .filter(journal_entries::sequence.le(last_sequence))
        .group_by(postings::account_id)
        .select((postings::account_id, sql::<BigInt>("CAST(SUM(postings.amount_cents) AS BIGINT)")))
        .load(conn)?;
    let sums: HashMap<String, i64> = sums.into_iter().collect();
    let accounts = list_accounts(conn, fund_id)?;
    Ok(accounts
        .into_iter()
        .map(|account| {
            let net = Cents::new(sums.get(&account.id).copied().unwrap_or(0));
            AccountBalance {
                debit: if net.is_negative() { Cents::ZERO } else { net },
                credit: if net.is_negative() { net.abs() } else { Cents::ZERO },
                net,
                memorandum: crate::domain::chart::is_memorandum(&account.code),
                account_id: account.id,
                code: account.code,
                name: account.name,
                kind: account.kind,
            }
        })
        .collect())
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TrialBalance {
    pub fund_id: String,
    pub as_of: NaiveDate,
    pub accounts: Vec<AccountBalance>,
    /// Debits of the fund's own accounts, memorandum accounts apart.
    #[schema(value_type = String)]
    pub total_debit: Cents,
    #[schema(value_type = String)]
    pub total_credit: Cents,
    /// Debits and credits of the memorandum accounts (unfunded commitments), which balance
    /// among themselves.
    #[schema(value_type = String)]
    pub memorandum_total_debit: Cents,
    #[schema(value_type = String)]
    pub memorandum_total_credit: Cents,
    /// Both sets of totals agree.
    pub balanced: bool,
    /// Hash of the last entry in the chain when the balance was taken.
    pub last_entry_hash: String,
    pub last_entry_sequence: i64,
}

pub fn trial_balance(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<TrialBalance> {
    let head = chain_head(conn)?;
    trial_balance_through(conn, fund_id, as_of, head)
}

/// The trial balance of the chain up to `head` (sequence and hash), later entries left out.
pub fn trial_balance_through(
    conn: &mut DbConnection,
    fund_id: &str,
    as_of: NaiveDate,
    head: (i64, String),
) -> AppResult<TrialBalance> {
    let (last_entry_sequence, last_entry_hash) = head;
    let accounts = account_balances_through(conn, fund_id, as_of, last_entry_sequence)?;
    let totals = |memorandum: bool| -> AppResult<(Cents, Cents)> {
        let of = |side: fn(&AccountBalance) -> Cents| {
            Cents::sum(accounts.iter().filter(|a| a.memorandum == memorandum).map(side))
        };
        Ok((of(|a| a.debit)?, of(|a| a.credit)?))
    };
    let (total_debit, total_credit) = totals(false)?;
    let (memorandum_total_debit, memorandum_total_credit) = totals(true)?;
    Ok(TrialBalance {
        fund_id: fund_id.to_string(),
        as_of,
        balanced: total_debit == total_credit && memorandum_total_debit == memorandum_total_credit,
        accounts,
        total_debit,
        total_credit,
        memorandum_total_debit,
        memorandum_total_credit,
        last_entry_hash,
        last_entry_sequence,
    })
}

pub fn chain_head(conn: &mut DbConnection) -> AppResult<(i64, String)> {
    Ok(ledger_head::table.find(1).select((ledger_head::sequence, ledger_head::last_hash)).first(conn)?)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    pub entries_checked: i64,
    pub head_sequence: i64,
    pub head_hash: String,
    /// The first fault found, in plain words.
    pub first_fault: Option<String>,
    pub fault: Option<ChainFault>,
}

/// Re-checks every entry's balance and the whole hash chain, page by page.
pub fn verify_chain(conn: &mut DbConnection) -> AppResult<VerifyReport> {
    verify_chain_observing(conn, |_| {})
}

/// Proves that the journal extends `checkpoint` (whose signature the caller has checked): the
/// chain verifies, it holds at least the checkpoint's entries, the root of those entries,
/// recomputed from the entries themselves, is the checkpoint's, and so is the root of the stored
/// tree that proofs are served from. `Err` names the first fault.
pub fn verify_checkpoint(
    conn: &mut DbConnection,
    checkpoint: &merkle::SignedCheckpoint,
) -> AppResult<Result<VerifyReport, String>> {
    let mut leaves = merkle::RootBuilder::default();
    let mut root_of_first = (checkpoint.size == 0).then(|| leaves.root());
    let mut malformed = None;
    let report = verify_chain_observing(conn, |entry| {
        if leaves.size() >= checkpoint.size {
            return;
        }
        match merkle::leaf_hash(&entry.hash) {
            Ok(leaf) => leaves.push(leaf),
            Err(e) => malformed = malformed.take().or(Some(format!("entry {}: {e}", entry.sequence))),
        }
        if leaves.size() == checkpoint.size {
            root_of_first = Some(leaves.root());
        }
    })?;
    if let Some(fault) = report.first_fault.clone().or(malformed) {
        return Ok(Err(fault));
    }
    let size = checkpoint.size;
    let Some(root) = root_of_first else {
        return Ok(Err(format!(
            "the journal holds {} entries, the checkpoint was signed over {size}: entries were removed",
            report.entries_checked
        )));
    };
    if root != checkpoint.root {
        return Ok(Err(format!(
            "the first {size} entries have root {}, the checkpoint says {}: entries were rewritten",
            merkle::hex_of(&root),
            merkle::hex_of(&checkpoint.root)
        )));
    }
    let stored = super::merkle::root(conn, size)?;
    if stored != checkpoint.root {
        return Ok(Err(format!(
            "the stored Merkle tree has root {} at size {size}, not the checkpoint's: the proofs it serves are wrong",
            merkle::hex_of(&stored)
        )));
    }
    Ok(Ok(report))
}

/// [`verify_chain`], showing each entry checked to `observe`, in sequence.
fn verify_chain_observing(conn: &mut DbConnection, observe: impl FnMut(&EntryRow)) -> AppResult<VerifyReport> {
    verify_chain_from(conn, ChainVerifier::default(), i64::MAX, observe)
}

/// Walks the chain from the entry `verifier` expects next through entry `through` (checked
/// against the head when the walk reaches it), showing each entry checked to `observe`; the
/// report's `entries_checked` is the last sequence checked.
pub fn verify_chain_from(
    conn: &mut DbConnection,
    mut verifier: ChainVerifier,
    through: i64,
    mut observe: impl FnMut(&EntryRow),
) -> AppResult<VerifyReport> {
    let (head_sequence, head_hash) = chain_head(conn)?;
    let mut after = verifier.entries_checked();
    let fault = loop {
        let entries: Vec<EntryRow> = journal_entries::table
            .filter(journal_entries::sequence.gt(after))
            .filter(journal_entries::sequence.le(through))
            .order(journal_entries::sequence.asc())
            .limit(VERIFY_PAGE_ENTRIES)
            .select(EntryRow::as_select())
            .load(conn)?;
        let Some(last) = entries.last() else {
            break (through >= head_sequence).then(|| verifier.finish(head_sequence, &head_hash).err()).flatten();
        };
        after = last.sequence;
        let page = attach_postings(conn, entries)?;
        let outcome = page.iter().try_for_each(|item| {
            verifier.check(&StoredEntry {
                canonical: item.entry.canonical(&item.postings),
                previous_hash: &item.entry.previous_hash,
                hash: &item.entry.hash,
            })?;
            observe(&item.entry);
            Ok(())
        });
        if let Err(fault) = outcome {
            break Some(fault);
        }
    };
    Ok(VerifyReport {
        ok: fault.is_none(),
        entries_checked: verifier.entries_checked(),
        head_sequence,
        head_hash,
        first_fault: fault.as_ref().map(ChainFault::describe),
        fault,
    })
}

/// Code and name of each account id given, for display next to postings.
pub fn account_labels(conn: &mut DbConnection, ids: &[&str]) -> AppResult<HashMap<String, (String, String)>> {
    let mut labels = HashMap::new();
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let rows: Vec<(String, String, String)> = ledger_accounts::table
            .filter(ledger_accounts::id.eq_any(chunk))
            .select((ledger_accounts::id, ledger_accounts::code, ledger_accounts::name))
            .load(conn)?;
        labels.extend(rows.into_iter().map(|(id, code, name)| (id, (code, name))));
    }
    Ok(labels)
}

/// The names of the parties postings name: investors (sources), facilities, grant calls and
/// SMEs (by the legal name of their latest award). Ids of no known party are left out.
pub fn party_names(conn: &mut DbConnection, ids: &[&str]) -> AppResult<HashMap<String, String>> {
    use super::schema::{facilities, grant_awards, grant_calls};
    let mut names = super::structure::source_names(conn, ids)?;
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        let rows: Vec<(String, String)> = facilities::table
            .filter(facilities::id.eq_any(chunk))
            .select((facilities::id, facilities::name))
            .load(conn)?;
        names.extend(rows);
        let rows: Vec<(String, String)> = grant_calls::table
            .filter(grant_calls::id.eq_any(chunk))
            .select((grant_calls::id, grant_calls::name))
            .load(conn)?;
        names.extend(rows);
        let rows: Vec<(String, String)> = grant_awards::table
            .filter(grant_awards::sme_id.eq_any(chunk))
            .filter(super::planned_each_time())
            .order(grant_awards::award_date.asc())
            .select((grant_awards::sme_id, grant_awards::legal_name))
            .load(conn)?;
        names.extend(rows);
    }
    Ok(names)
}

/// Net balance of one account over the entries dated on or before `as_of` up to sequence
/// `last_sequence`: the balance brought forward to a page of its ledger.
pub fn account_balance_through(
    conn: &mut DbConnection,
    account_id: &str,
    as_of: NaiveDate,
    last_sequence: i64,
) -> AppResult<Cents> {
    let total: Option<i64> = postings::table
        .inner_join(journal_entries::table)
        .filter(postings::account_id.eq(account_id))
        .filter(journal_entries::effective_date.le(as_of))
        .filter(journal_entries::sequence.le(last_sequence))
        .select(sql::<diesel::sql_types::Nullable<BigInt>>("CAST(SUM(postings.amount_cents) AS BIGINT)"))
        .first(conn)?;
    Ok(Cents::new(total.unwrap_or(0)))
}

/// Net balance (debit-positive) of one account as of a date, optionally for one party.
pub fn account_balance(
    conn: &mut DbConnection,
    account_id: &str,
    party_id: Option<&str>,
    as_of: NaiveDate,
) -> AppResult<Cents> {
    let mut query = postings::table
        .inner_join(journal_entries::table)
        .filter(postings::account_id.eq(account_id.to_string()))
        .filter(journal_entries::effective_date.le(as_of))
        .into_boxed();
    if let Some(party) = party_id {
        query = query.filter(postings::party_id.eq(party.to_string()));
    }
    let total: Option<i64> = query
        .select(sql::<diesel::sql_types::Nullable<BigInt>>("CAST(SUM(postings.amount_cents) AS BIGINT)"))
        .first(conn)?;
    Ok(Cents::new(total.unwrap_or(0)))
}

/// A line of a manual entry by account code: positive debits, negative credits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodedLine {
    pub code: String,
    pub amount: Cents,
    pub party_id: Option<String>,
    pub memo: String,
}

/// Accounts that only the grant events post to: the budgets of calls and the aid of awards are
/// also held outside the journal, and the pool's attribution follows them (docs/grants.md).
const GRANT_EVENT_ACCOUNTS: [&str; 2] = [chart::COMPUTE_GRANT_COMMITTED, chart::COMPUTE_GRANT_AWARDED];

/// Posts a manual entry of `lines`, resolving their account codes in the fund's chart.
pub fn post_manual_entry(
    conn: &mut DbConnection,
    fund_id: &str,
    effective_date: NaiveDate,
    description: &str,
    lines: &[CodedLine],
    actor: &str,
) -> AppResult<EntryWithPostings> {
    super::funds::get_fund(conn, fund_id)?;
    let named: Vec<&str> = lines.iter().filter_map(|line| line.party_id.as_deref()).collect();
    let known = party_names(conn, &named)?;
    let mut postings = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let field = format!("postings[{index}].account");
        // A sub-account (`9000.01`) is kept as its parent is.
        let parent = line.code.split('.').next().unwrap_or_default();
        if GRANT_EVENT_ACCOUNTS.contains(&parent) {
            return Err(AppError::rule_on(
                "account-kept-by-grants",
                &field,
                Message::new("msg-account-kept-by-grants").text("code", &line.code),
            ));
        }
        if parent == chart::CAPITAL_CALL_RECEIVABLE {
            return Err(AppError::rule_on(
                "account-kept-by-calls",
                &field,
                Message::new("msg-account-kept-by-calls").text("code", &line.code),
            ));
        }
        if chart::MEMORANDUM_ACCOUNTS.contains(&parent) {
            return Err(AppError::rule_on(
                "account-kept-by-commitments",
                &field,
                Message::new("msg-account-kept-by-commitments").text("code", &line.code),
            ));
        }
        if let Some(party) = line.party_id.as_deref().filter(|party| !known.contains_key(*party)) {
            return Err(AppError::rule_on(
                "unknown-party",
                &format!("postings[{index}].party_id"),
                Message::new("msg-unknown-posting-party").text("party", party),
            ));
        }
        let account = find_account_by_code(conn, fund_id, &line.code)?.ok_or_else(|| {
            AppError::rule_on("unknown-account", &field, Message::new("msg-unknown-account").text("code", &line.code))
        })?;
        postings.push(PostingLine {
            account_id: account.id,
            amount: line.amount,
            party_id: line.party_id.clone(),
            memo: line.memo.clone(),
        });
    }
    let row = post_entry(
        conn,
        NewEntry {
            fund_id: fund_id.to_string(),
            effective_date,
            actor: actor.to_string(),
            event_type: "manual_entry".into(),
            event_id: super::new_id(),
            description: description.to_string(),
            reverses_entry_id: None,
            amount_field: "postings",
            date_field: "effective_date",
            postings,
        },
    )?;
    get_entry(conn, &row.id)
}
