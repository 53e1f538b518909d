//! Auditor exports, the reading part: the snapshot an export covers, the journal read page by
//! page, capital accounts, and each export written to any `io::Write` so that memory stays
//! flat however large the ledger. Formatting lives in `domain::export`; streaming the bytes
//! to the client in `http::api::exports`. See docs/exports.md.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Serialize;

use super::funds::get_fund;
use super::ledger::{chain_head, list_accounts, trial_balance_through, EntryRow, PostingRow, TrialBalance};
use super::schema::{capital_calls, journal_entries, notices, postings, tranches};
use super::waterfall::{liquidate, positions_as_of, Liquidation};
use super::DbConnection;
use crate::domain::beancount;
use crate::domain::export::{
    csv_text, debit_credit, hledger_account, hledger_assertions, hledger_preamble, hledger_trailer,
    hledger_transaction, json_line, xlsx_cell_value, EntryFacts, ExportMeta, JsonLine, PostingFacts, PostingRecord,
    CURRENCY, JOURNAL_COLUMNS,
};
use crate::domain::ledger::{AccountKind, GENESIS_HASH};
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult};

/// Journal entries read per page: each page is one query for the entries and one for their
/// postings.
pub const EXPORT_PAGE_ENTRIES: i64 = 2_000;
/// Rows of a worksheet (Excel's limit), header row included; a longer journal continues on
/// further journal sheets.
pub const XLSX_SHEET_ROWS: u32 = 1_048_576;

/// The exports there are, by the name in the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    JournalCsv,
    JournalJsonl,
    JournalHledger,
    JournalBeancount,
    JournalProofs,
    Workbook,
    TrialBalanceCsv,
    CapitalAccountsCsv,
}

impl ExportKind {
    pub const ALL: [ExportKind; 8] = [
        ExportKind::JournalCsv,
        ExportKind::JournalJsonl,
        ExportKind::JournalHledger,
        ExportKind::JournalBeancount,
        ExportKind::JournalProofs,
        ExportKind::Workbook,
        ExportKind::TrialBalanceCsv,
        ExportKind::CapitalAccountsCsv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExportKind::JournalCsv => "journal.csv",
            ExportKind::JournalJsonl => "journal.jsonl",
            ExportKind::JournalHledger => "journal.hledger",
            ExportKind::JournalBeancount => "journal.beancount",
            ExportKind::JournalProofs => "journal-proofs.jsonl",
            ExportKind::Workbook => "workbook.xlsx",
            ExportKind::TrialBalanceCsv => "trial-balance.csv",
            ExportKind::CapitalAccountsCsv => "capital-accounts.csv",
        }
    }

    pub fn parse(name: &str) -> Option<ExportKind> {
        ExportKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportKind::JournalCsv | ExportKind::TrialBalanceCsv | ExportKind::CapitalAccountsCsv => {
                "text/csv; charset=utf-8; header=present"
            }
            ExportKind::JournalJsonl | ExportKind::JournalProofs => "application/jsonl; charset=utf-8",
            ExportKind::JournalHledger | ExportKind::JournalBeancount => "text/plain; charset=utf-8",
            ExportKind::Workbook => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// `investai-<fund>-journal-<as_of>.csv` and so on.
    pub fn file_name(self, fund_id: &str, as_of: NaiveDate) -> String {
        let (stem, extension) = self.name().split_once('.').unwrap_or((self.name(), "txt"));
        format!("investai-{fund_id}-{stem}-{as_of}.{extension}")
    }
}

/// Fixes what an export covers before its first byte: the fund (404 if unknown), the chain
/// head now, and the last entry of the fund dated on or before `as_of` up to that head.
/// Entries are append-only, so entries posted while the export runs are left out.
pub fn snapshot(
    conn: &mut DbConnection,
    kind: ExportKind,
    fund_id: &str,
    as_of: NaiveDate,
    exported_at: String,
    verifier_key: Option<&str>,
) -> AppResult<ExportMeta> {
    let fund = get_fund(conn, fund_id)?;
    if kind == ExportKind::JournalProofs && super::merkle::trusted_latest(conn, verifier_key)?.is_none() {
        return Err(AppError::rule("no-checkpoint", "no checkpoint has been signed yet: the proofs need one"));
    }
    let (head_sequence, head_hash) = chain_head(conn)?;
    let last: Option<(i64, String)> = journal_entries::table
        .filter(journal_entries::fund_id.eq(fund_id))
        .filter(journal_entries::effective_date.le(as_of))
        .filter(journal_entries::sequence.le(head_sequence))
        .order(journal_entries::sequence.desc())
        .select((journal_entries::sequence, journal_entries::hash))
        .first(conn)
        .optional()?;
    let (last_sequence, last_hash) = last.unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
    Ok(ExportMeta {
        export: kind.name().to_string(),
        fund_id: fund.id,
        fund_name: fund.name,
        as_of,
        last_sequence,
        last_hash,
        head_sequence,
        head_hash,
        exported_at,
    })
}

/// An account as the exports name it.
#[derive(Clone, Debug)]
pub struct ExportAccount {
    pub code: String,
    pub name: String,
    pub kind: AccountKind,
    /// `assets:1000 Cash at bank`
    pub hledger_name: String,
}

/// The fund's chart, by account id, and the ids in code order.
fn export_accounts(conn: &mut DbConnection, fund_id: &str) -> AppResult<(HashMap<String, ExportAccount>, Vec<String>)> {
    let mut by_id = HashMap::new();
    let mut order = Vec::new();
    for account in list_accounts(conn, fund_id)? {
        let kind = account.account_kind()?;
        let hledger_name = hledger_account(kind, &account.code, &account.name);
        order.push(account.id.clone());
        by_id.insert(account.id, ExportAccount { code: account.code, name: account.name, kind, hledger_name });
    }
    Ok((by_id, order))
}

/// An entry of a page with its postings in line order.
pub struct PageEntry {
    pub entry: EntryRow,
    pub postings: Vec<PostingRow>,
}

/// Reads the entries `meta` covers in sequence order, `EXPORT_PAGE_ENTRIES` at a time, and
/// hands each page to `visit`. Every page moves past the last sequence read, and the loop
/// ends at `meta.last_sequence`, so it is bounded by the entries covered.
pub fn for_each_page(
    conn: &mut DbConnection,
    meta: &ExportMeta,
    mut visit: impl FnMut(&mut DbConnection, &[PageEntry]) -> AppResult<()>,
) -> AppResult<()> {
    let mut after = 0i64;
    while after < meta.last_sequence {
        let entries: Vec<EntryRow> = journal_entries::table
            .filter(journal_entries::fund_id.eq(&meta.fund_id))
            .filter(journal_entries::effective_date.le(meta.as_of))
            .filter(journal_entries::sequence.gt(after))
            .filter(journal_entries::sequence.le(meta.last_sequence))
            .order(journal_entries::sequence.asc())
            .limit(EXPORT_PAGE_ENTRIES)
            .select(EntryRow::as_select())
            .load(conn)?;
        let Some(last) = entries.last().map(|e| e.sequence) else { break };
        let lines: Vec<PostingRow> = postings::table
            .inner_join(journal_entries::table)
            .filter(journal_entries::fund_id.eq(&meta.fund_id))
            .filter(journal_entries::effective_date.le(meta.as_of))
            .filter(journal_entries::sequence.gt(after))
            .filter(journal_entries::sequence.le(last))
            .order((journal_entries::sequence.asc(), postings::line.asc()))
            .select(PostingRow::as_select())
            .load(conn)?;
        let page = assemble(entries, lines)?;
        visit(conn, &page)?;
        after = last;
    }
    Ok(())
}

/// Entries and their postings (in line order) as one page.
fn assemble(entries: Vec<EntryRow>, lines: Vec<PostingRow>) -> AppResult<Vec<PageEntry>> {
    let mut page: Vec<PageEntry> = entries.into_iter().map(|entry| PageEntry { entry, postings: Vec::new() }).collect();
    let index: HashMap<String, usize> = page.iter().enumerate().map(|(i, item)| (item.entry.id.clone(), i)).collect();
    for line in lines {
        let slot = index
            .get(&line.entry_id)
            .copied()
            .ok_or_else(|| AppError::internal(format!("posting of entry {} outside its page", line.entry_id)))?;
        page[slot].postings.push(line);
    }
    for item in &mut page {
        item.postings.sort_by_key(|p| p.line);
    }
    Ok(page)
}

/// `for_each_page` in date order: entries by effective date, then sequence (the order
/// ledger tools read a journal in). Each page moves past the last (date, sequence) read.
pub fn for_each_page_by_date(
    conn: &mut DbConnection,
    meta: &ExportMeta,
    mut visit: impl FnMut(&mut DbConnection, &[PageEntry]) -> AppResult<()>,
) -> AppResult<()> {
    let mut after: Option<(NaiveDate, i64)> = None;
    // Bounded by the entries covered: every page holds at least one entry not read before.
    let pages_max = meta.last_sequence / EXPORT_PAGE_ENTRIES + 2;
    for _ in 0..pages_max {
        let mut query = journal_entries::table
            .filter(journal_entries::fund_id.eq(&meta.fund_id))
            .filter(journal_entries::effective_date.le(meta.as_of))
            .filter(journal_entries::sequence.le(meta.last_sequence))
            .into_boxed();
        if let Some((date, sequence)) = after {
            query = query.filter(
                journal_entries::effective_date
                    .gt(date)
                    .or(journal_entries::effective_date.eq(date).and(journal_entries::sequence.gt(sequence))),
            );
        }
        let entries: Vec<EntryRow> = query
            .order((journal_entries::effective_date.asc(), journal_entries::sequence.asc()))
            .limit(EXPORT_PAGE_ENTRIES)
            .select(EntryRow::as_select())
            .load(conn)?;
        let Some(last) = entries.last().map(|e| (e.effective_date, e.sequence)) else { return Ok(()) };
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        let lines: Vec<PostingRow> = postings::table
            .filter(postings::entry_id.eq_any(&ids))
            .filter(super::planned_each_time())
            .select(PostingRow::as_select())
            .load(conn)?;
        let page = assemble(entries, lines)?;
        visit(conn, &page)?;
        after = Some(last);
    }
    Err(AppError::internal("the date-ordered export read more pages than the entries it covers"))
}

/// Counts of what an export wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub entries: u64,
    pub postings: u64,
}

fn io_error(error: std::io::Error) -> AppError {
    AppError::internal(format!("export output: {error}"))
}

fn csv_error(error: csv::Error) -> AppError {
    AppError::internal(format!("export CSV: {error}"))
}

fn xlsx_error(error: XlsxError) -> AppError {
    AppError::internal(format!("export workbook: {error}"))
}

/// Calls `row` for every posting covered, with its record, page by page.
fn for_each_record(
    conn: &mut DbConnection,
    meta: &ExportMeta,
    accounts: &HashMap<String, ExportAccount>,
    mut row: impl FnMut(&PostingRecord<'_>) -> AppResult<()>,
) -> AppResult<Written> {
    let mut written = Written::default();
    for_each_page(conn, meta, |_, page| {
        for item in page {
            let e = &item.entry;
            for p in &item.postings {
                let account = accounts
                    .get(&p.account_id)
                    .ok_or_else(|| AppError::internal(format!("account {} not in the fund's chart", p.account_id)))?;
                let (debit, credit) = debit_credit(Cents::new(p.amount_cents));
                row(&PostingRecord {
                    entry_id: &e.id,
                    sequence: e.sequence,
                    effective_date: e.effective_date,
                    line: p.line,
                    account_code: &account.code,
                    account_name: &account.name,
                    account_kind: account.kind.as_str(),
                    debit,
                    credit,
                    currency: CURRENCY,
                    description: &e.description,
                    event_type: &e.event_type,
                    event_id: &e.event_id,
                    actor: &e.actor,
                    party_id: p.party_id.as_deref(),
                    memo: &p.memo,
                    reverses_entry_id: e.reverses_entry_id.as_deref(),
                    entry_hash: &e.hash,
                })?;
                written.postings += 1;
            }
            written.entries += 1;
        }
        Ok(())
    })?;
    Ok(written)
}

/// A CSV writer that writes only the header rows it is given.
fn csv_writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new().has_headers(false).from_writer(out)
}

/// The journal as CSV: the one-line `#` preamble, a header row, one row per posting.
pub fn write_journal_csv(conn: &mut DbConnection, meta: &ExportMeta, out: &mut dyn Write) -> AppResult<Written> {
    let (accounts, _) = export_accounts(conn, &meta.fund_id)?;
    out.write_all(meta.csv_preamble().as_bytes()).map_err(io_error)?;
    let mut writer = csv_writer(out);
    writer.write_record(JOURNAL_COLUMNS).map_err(csv_error)?;
    let written = for_each_record(conn, meta, &accounts, |record| {
        writer.write_record(record.csv_row().iter().map(|field| field.as_bytes())).map_err(csv_error)
    })?;
    writer.flush().map_err(io_error)?;
    Ok(written)
}

/// The journal as JSON lines: the export line, one line per posting, the end line.
pub fn write_journal_jsonl(conn: &mut DbConnection, meta: &ExportMeta, out: &mut dyn Write) -> AppResult<Written> {
    let (accounts, _) = export_accounts(conn, &meta.fund_id)?;
    let json = |line: &JsonLine<'_>| json_line(line).map_err(|e| AppError::internal(format!("export JSON: {e}")));
    out.write_all(json(&JsonLine::Export(meta))?.as_bytes()).map_err(io_error)?;
    let written = for_each_record(conn, meta, &accounts, |record| {
        out.write_all(json(&JsonLine::Posting(record))?.as_bytes()).map_err(io_error)
    })?;
    out.write_all(json(&JsonLine::End { entries: written.entries, postings: written.postings })?.as_bytes())
        .map_err(io_error)?;
    Ok(written)
}

/// Walks the covered entries in date order for a ledger tool's format: `write` gets each entry's
/// facts and postings, accounts named by `names` (account id to the tool's name). Answers the
/// counts and each account's balance over what was written, in chart order.
fn write_by_date<'n>(
    conn: &mut DbConnection,
    meta: &ExportMeta,
    (names, order): (&'n HashMap<String, String>, &[String]),
    mut write: impl FnMut(&EntryFacts<'_>, &[PostingFacts<'_>]) -> AppResult<()>,
) -> AppResult<(Written, Vec<(&'n str, Cents)>)> {
    let mut written = Written::default();
    let mut balances: HashMap<&str, i64> = HashMap::new();
    for_each_page_by_date(conn, meta, |_, page| {
        for item in page {
            let e = &item.entry;
            let mut lines = Vec::with_capacity(item.postings.len());
            for p in &item.postings {
                let (id, account) = names
                    .get_key_value(&p.account_id)
                    .ok_or_else(|| AppError::internal(format!("account {} not in the fund's chart", p.account_id)))?;
                let balance = balances.entry(id.as_str()).or_insert(0);
                *balance = balance
                    .checked_add(p.amount_cents)
                    .ok_or_else(|| AppError::internal("an account's balance overflows"))?;
                lines.push(PostingFacts {
                    account,
                    amount: Cents::new(p.amount_cents),
                    party_id: p.party_id.as_deref(),
                    memo: &p.memo,
                });
            }
            let entry = EntryFacts {
                entry_id: &e.id,
                sequence: e.sequence,
                effective_date: e.effective_date,
                description: &e.description,
                event_type: &e.event_type,
                event_id: &e.event_id,
                actor: &e.actor,
                reverses_entry_id: e.reverses_entry_id.as_deref(),
                hash: &e.hash,
            };
            write(&entry, &lines)?;
            written.entries += 1;
            written.postings += lines.len() as u64;
        }
        Ok(())
    })?;
    let balances = order
        .iter()
        .filter_map(|id| {
            names.get(id).map(|name| (name.as_str(), Cents::new(balances.get(id.as_str()).copied().unwrap_or(0))))
        })
        .collect();
    Ok((written, balances))
}

/// The fund's accounts as declared by the ledger-tool exports: kind, code and name, in chart order.
fn declared<'a>(
    accounts: &'a HashMap<String, ExportAccount>,
    order: &[String],
) -> Vec<(AccountKind, &'a str, &'a str)> {
    order.iter().filter_map(|id| accounts.get(id)).map(|a| (a.kind, a.code.as_str(), a.name.as_str())).collect()
}

/// The journal as an hledger journal (`domain/export.rs`): preamble and directives, one
/// transaction per entry in date order, every account's balance asserted as of `as_of`, the
/// closing comment. `hledger check -s ordereddates` passes on it.
pub fn write_journal_hledger(conn: &mut DbConnection, meta: &ExportMeta, out: &mut dyn Write) -> AppResult<Written> {
    let (accounts, order) = export_accounts(conn, &meta.fund_id)?;
    out.write_all(hledger_preamble(meta, &declared(&accounts, &order)).as_bytes()).map_err(io_error)?;
    let names: HashMap<String, String> = accounts.iter().map(|(id, a)| (id.clone(), a.hledger_name.clone())).collect();
    let (written, balances) = write_by_date(conn, meta, (&names, &order), |entry, lines| {
        out.write_all(hledger_transaction(entry, lines).as_bytes()).map_err(io_error)
    })?;
    out.write_all(hledger_assertions(meta.as_of, &balances).as_bytes()).map_err(io_error)?;
    out.write_all(hledger_trailer(written.entries, written.postings).as_bytes()).map_err(io_error)?;
    Ok(written)
}

/// The journal as a beancount ledger (`domain/beancount.rs`): accounts opened on the first
/// entry's date, one transaction per entry in date order, a balance directive per account
/// the day after `as_of`. `bean-check` passes on it.
pub fn write_journal_beancount(conn: &mut DbConnection, meta: &ExportMeta, out: &mut dyn Write) -> AppResult<Written> {
    let (accounts, order) = export_accounts(conn, &meta.fund_id)?;
    let first: Option<NaiveDate> = journal_entries::table
        .filter(journal_entries::fund_id.eq(&meta.fund_id))
        .filter(journal_entries::effective_date.le(meta.as_of))
        .filter(journal_entries::sequence.le(meta.last_sequence))
        .select(diesel::dsl::min(journal_entries::effective_date))
        .first(conn)?;
    let opened = first.unwrap_or(meta.as_of);
    out.write_all(beancount::preamble(meta, opened, &declared(&accounts, &order)).as_bytes()).map_err(io_error)?;
    let names: HashMap<String, String> =
        accounts.iter().map(|(id, a)| (id.clone(), beancount::account(a.kind, &a.code, &a.name))).collect();
    let (written, balances) = write_by_date(conn, meta, (&names, &order), |entry, lines| {
        out.write_all(beancount::transaction(entry, lines).as_bytes()).map_err(io_error)
    })?;
    out.write_all(beancount::balances(meta.as_of, &balances).as_bytes()).map_err(io_error)?;
    out.write_all(beancount::trailer(written.entries, written.postings).as_bytes()).map_err(io_error)?;
    Ok(written)
}

/// The trial balance of the snapshot: the entries the journal exports of the same `meta`
/// cover, no more.
pub fn snapshot_trial_balance(conn: &mut DbConnection, meta: &ExportMeta) -> AppResult<TrialBalance> {
    trial_balance_through(conn, &meta.fund_id, meta.as_of, (meta.head_sequence, meta.head_hash.clone()))
}

/// Column names of the trial-balance CSV and sheet, in order.
pub const TRIAL_BALANCE_COLUMNS: [&str; 7] =
    ["account_code", "account_name", "account_kind", "debit", "credit", "net", "currency"];

/// A trial-balance row of the CSV.
#[derive(Serialize)]
struct TrialBalanceRecord<'a> {
    account_code: &'a str,
    account_name: &'a str,
    account_kind: &'a str,
    debit: Cents,
    credit: Cents,
    net: Cents,
    currency: &'static str,
}

/// The trial balance as CSV: the preamble, a header row, one row per account of the chart.
pub fn write_trial_balance_csv(conn: &mut DbConnection, meta: &ExportMeta, out: &mut dyn Write) -> AppResult<Written> {
    let report = snapshot_trial_balance(conn, meta)?;
    out.write_all(meta.csv_preamble().as_bytes()).map_err(io_error)?;
    let mut writer = csv_writer(out);
    writer.write_record(TRIAL_BALANCE_COLUMNS).map_err(csv_error)?;
    for a in &report.accounts {
        writer
            .serialize(TrialBalanceRecord {
                account_code: &csv_text(&a.code),
                account_name: &csv_text(&a.name),
                account_kind: &a.kind,
                debit: a.debit,
                credit: a.credit,
                net: a.net,
                currency: CURRENCY,
            })
            .map_err(csv_error)?;
    }
    writer.flush().map_err(io_error)?;
    Ok(Written::default())
}

/// One investor's capital account in one tranche (one commitment) as of a date.
#[derive(Clone, Debug, Serialize)]
pub struct CapitalAccount {
    pub investor_id: String,
    pub investor_name: String,
    pub tranche_id: String,
    pub tranche_name: String,
    pub seniority: i32,
    pub commitment_id: String,
    /// Commitment events dated on or before the date, signed as the memorandum entries.
    pub committed: Cents,
    /// Notices of capital calls dated on or before the date.
    pub called: Cents,
    /// Contributions with a value date on or before the date.
    pub paid_in: Cents,
    /// Committed less called.
    pub unfunded: Cents,
    /// Distributions dated on or before the date.
    pub distributed: Cents,
    /// Value by hypothetical liquidation of the fund on the date (as the metrics and tranche
    /// NAV report it); none while the fund has no waterfall terms.
    pub nav: Option<Cents>,
    pub currency: &'static str,
}

/// Capital accounts of every commitment of the fund as of a date, ordered by tranche
/// seniority and investor name. Paid-in, distributed and NAV come from the positions and the
/// liquidation the metrics use.
pub fn capital_accounts(conn: &mut DbConnection, fund_id: &str, as_of: NaiveDate) -> AppResult<Vec<CapitalAccount>> {
    let (states, by_position) = match liquidate(conn, fund_id, as_of) {
        Ok(Liquidation { states, by_position, .. }) => (states, Some(by_position)),
        Err(AppError::Rule { code: "no-waterfall", .. }) => (positions_as_of(conn, fund_id, as_of)?, None),
        Err(other) => return Err(other),
    };
    let called: HashMap<String, i64> = notices::table
        .inner_join(capital_calls::table.on(capital_calls::id.eq(notices::call_id)))
        .filter(capital_calls::fund_id.eq(fund_id))
        .filter(capital_calls::call_date.le(as_of))
        .group_by(notices::commitment_id)
        .select((notices::commitment_id, sql::<BigInt>("CAST(SUM(notices.amount_cents) AS BIGINT)")))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let tranche_rows: BTreeMap<String, (String, i32)> = tranches::table
        .filter(tranches::fund_id.eq(fund_id))
        .select((tranches::id, tranches::name, tranches::seniority))
        .load::<(String, String, i32)>(conn)?
        .into_iter()
        .map(|(id, name, seniority)| (id, (name, seniority)))
        .collect();
    let mut source_ids: Vec<&str> = states.iter().map(|s| s.source_id.as_str()).collect();
    source_ids.sort_unstable();
    source_ids.dedup();
    let names = super::structure::source_names(conn, &source_ids)?;
    let mut rows = Vec::with_capacity(states.len());
    for state in &states {
        let id = state.position.id.to_string();
        // What it had committed on the date (positions count amendments dated by then).
        let committed = state.position.committed;
        let called = Cents::new(called.get(&id).copied().unwrap_or(0));
        let paid_in = Cents::sum(state.position.flows.iter().filter(|f| f.amount.get() > 0).map(|f| f.amount))?;
        let distributed = Cents::sum(state.received.iter().map(|(_, amount)| *amount))?;
        let (tranche_name, seniority) = tranche_rows.get(&state.position.tranche_id).cloned().unwrap_or_default();
        rows.push(CapitalAccount {
            investor_id: state.source_id.clone(),
            investor_name: names.get(&state.source_id).cloned().unwrap_or_default(),
            tranche_id: state.position.tranche_id.clone(),
            tranche_name,
            seniority,
            nav: by_position.as_ref().map(|navs| navs.get(&id).copied().unwrap_or_default()),
            commitment_id: id,
            committed,
            called,
            paid_in,
            unfunded: committed.checked_sub(called)?,
            distributed,
            currency: CURRENCY,
        });
    }
    rows.sort_by(|a, b| {
        (a.seniority, &a.investor_name, &a.commitment_id).cmp(&(b.seniority, &b.investor_name, &b.commitment_id))
    });
    Ok(rows)
}

/// Capital accounts as CSV: the preamble, a header row, one row per commitment.
pub fn write_capital_accounts_csv(
    conn: &mut DbConnection,
    meta: &ExportMeta,
    out: &mut dyn Write,
) -> AppResult<Written> {
    let rows = capital_accounts(conn, &meta.fund_id, meta.as_of)?;
    out.write_all(meta.csv_preamble().as_bytes()).map_err(io_error)?;
    let mut writer = csv_writer(out);
    writer.write_record(CAPITAL_ACCOUNT_COLUMNS).map_err(csv_error)?;
    for row in &rows {
        let row = CapitalAccount {
            investor_name: csv_text(&row.investor_name).into_owned(),
            tranche_name: csv_text(&row.tranche_name).into_owned(),
            ..row.clone()
        };
        writer.serialize(row).map_err(csv_error)?;
    }
    writer.flush().map_err(io_error)?;
    Ok(Written::default())
}

/// Column names of the capital-accounts CSV and sheet, in order.
pub const CAPITAL_ACCOUNT_COLUMNS: [&str; 13] = [
    "investor_id",
    "investor_name",
    "tranche_id",
    "tranche_name",
    "seniority",
    "commitment_id",
    "committed",
    "called",
    "paid_in",
    "unfunded",
    "distributed",
    "nav",
    "currency",
];

/// Cell formats of the workbook.
struct Formats {
    header: Format,
    amount: Format,
    date: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold(),
            amount: Format::new().set_num_format("#,##0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        }
    }
}

/// Column widths of the workbook's sheets, in characters (rust_xlsxwriter takes them as f64;
/// they are layout, never money): ids (36) and hashes (64) whole,
/// amounts to EUR 10 trillion with grouping.
const JOURNAL_COLUMN_WIDTHS_CHARS: [f64; 18] =
    [38.0, 10.0, 12.0, 6.0, 13.0, 40.0, 12.0, 18.0, 18.0, 9.0, 50.0, 20.0, 38.0, 28.0, 38.0, 32.0, 38.0, 66.0];
const TRIAL_BALANCE_COLUMN_WIDTHS_CHARS: [f64; 7] = [13.0, 50.0, 12.0, 18.0, 18.0, 18.0, 9.0];
const CAPITAL_ACCOUNT_COLUMN_WIDTHS_CHARS: [f64; 13] =
    [38.0, 36.0, 38.0, 28.0, 10.0, 38.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0, 9.0];

/// A sheet's header row, frozen, with its columns' widths.
fn write_header(sheet: &mut Worksheet, columns: &[&str], widths: &[f64], format: &Format) -> Result<(), XlsxError> {
    for (col, (name, width)) in columns.iter().zip(widths).enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *name, format)?;
        sheet.set_column_width(col, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// A filter on every column of a sheet's table: the header row and `last_row` below it.
fn filter_table(sheet: &mut Worksheet, columns: usize, last_row: u32) -> Result<(), XlsxError> {
    sheet.autofilter(0, 0, last_row.max(1), columns.saturating_sub(1) as u16)?;
    Ok(())
}

fn write_amount(sheet: &mut Worksheet, row: u32, col: u16, amount: Cents, formats: &Formats) -> Result<(), XlsxError> {
    sheet.write_number_with_format(row, col, xlsx_cell_value(amount), &formats.amount)?;
    Ok(())
}

/// The first date a spreadsheet's 1900 date system shows as itself: earlier serial numbers are
/// negative or fall on its phantom 1900-02-29.
const XLSX_FIRST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 3, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// A date as a date cell, or as its ISO text where a date cell would show another day.
fn write_date(
    sheet: &mut Worksheet,
    (row, col): (u32, u16),
    date: NaiveDate,
    formats: &Formats,
) -> Result<(), XlsxError> {
    if date < XLSX_FIRST_DATE {
        sheet.write_string(row, col, date.to_string())?;
    } else {
        sheet.write_datetime_with_format(row, col, date, &formats.date)?;
    }
    Ok(())
}

/// A journal row of the workbook: the CSV's columns, amounts and dates as typed cells.
fn write_journal_row(
    sheet: &mut Worksheet,
    row: u32,
    r: &PostingRecord<'_>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.write_string(row, 0, r.entry_id)?;
    // Sequences and line numbers are integers far below 2^53: exact as cell numbers.
    sheet.write_number(row, 1, r.sequence as f64)?;
    write_date(sheet, (row, 2), r.effective_date, formats)?;
    sheet.write_number(row, 3, f64::from(r.line))?;
    sheet.write_string(row, 4, r.account_code)?;
    sheet.write_string(row, 5, r.account_name)?;
    sheet.write_string(row, 6, r.account_kind)?;
    write_amount(sheet, row, 7, r.debit, formats)?;
    write_amount(sheet, row, 8, r.credit, formats)?;
    sheet.write_string(row, 9, r.currency)?;
    sheet.write_string(row, 10, r.description)?;
    sheet.write_string(row, 11, r.event_type)?;
    sheet.write_string(row, 12, r.event_id)?;
    sheet.write_string(row, 13, r.actor)?;
    if let Some(party) = r.party_id {
        sheet.write_string(row, 14, party)?;
    }
    if !r.memo.is_empty() {
        sheet.write_string(row, 15, r.memo)?;
    }
    if let Some(reversed) = r.reverses_entry_id {
        sheet.write_string(row, 16, reversed)?;
    }
    sheet.write_string(row, 17, r.entry_hash)?;
    Ok(())
}

fn new_sheet<'a>(workbook: &'a mut Workbook, name: &str) -> Result<&'a mut Worksheet, XlsxError> {
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(name)?;
    Ok(sheet)
}

/// The workbook: sheets `about` (the snapshot), `journal` (and `journal 2`… past Excel's
/// row limit), `trial balance` and `capital accounts`. Every sheet is written in constant-
/// memory mode to a temporary file, the workbook is saved to another, and that file is
/// copied to `out`.
pub fn write_workbook(conn: &mut DbConnection, meta: &ExportMeta, out: &mut dyn Write) -> AppResult<Written> {
    let (accounts, _) = export_accounts(conn, &meta.fund_id)?;
    let trial_balance = snapshot_trial_balance(conn, meta)?;
    let capital = capital_accounts(conn, &meta.fund_id, meta.as_of)?;
    let dir = tempfile::tempdir().map_err(io_error)?;
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    workbook.set_tempdir(dir.path()).map_err(xlsx_error)?;

    let about = new_sheet(&mut workbook, "about").map_err(xlsx_error)?;
    about.write_string_with_format(0, 0, "key", &formats.header).map_err(xlsx_error)?;
    about.write_string_with_format(0, 1, "value", &formats.header).map_err(xlsx_error)?;
    about.write_string(1, 0, "fund_name").map_err(xlsx_error)?;
    about.write_string(1, 1, &meta.fund_name).map_err(xlsx_error)?;
    for (index, (key, value)) in meta.pairs().iter().enumerate() {
        let row = index as u32 + 2;
        about.write_string(row, 0, *key).map_err(xlsx_error)?;
        about.write_string(row, 1, value).map_err(xlsx_error)?;
    }
    about.set_column_width(0, 16).map_err(xlsx_error)?;
    about.set_column_width(1, 70).map_err(xlsx_error)?;

    // Journal sheets are addressed by index: the row closure cannot hold a sheet borrowed
    // from the workbook while it may add the next one.
    let mut sheet_index = workbook.worksheets().len();
    let header =
        |sheet: &mut Worksheet| write_header(sheet, &JOURNAL_COLUMNS, &JOURNAL_COLUMN_WIDTHS_CHARS, &formats.header);
    header(new_sheet(&mut workbook, "journal").map_err(xlsx_error)?).map_err(xlsx_error)?;
    let mut sheets = 1;
    let mut row: u32 = 1;
    let written = for_each_record(conn, meta, &accounts, |record| {
        if row == XLSX_SHEET_ROWS {
            let full = workbook.worksheet_from_index(sheet_index).map_err(xlsx_error)?;
            filter_table(full, JOURNAL_COLUMNS.len(), row - 1).map_err(xlsx_error)?;
            sheets += 1;
            sheet_index = workbook.worksheets().len();
            header(new_sheet(&mut workbook, &format!("journal {sheets}")).map_err(xlsx_error)?).map_err(xlsx_error)?;
            row = 1;
        }
        let sheet = workbook.worksheet_from_index(sheet_index).map_err(xlsx_error)?;
        write_journal_row(sheet, row, record, &formats).map_err(xlsx_error)?;
        row += 1;
        Ok(())
    })?;
    let last = workbook.worksheet_from_index(sheet_index).map_err(xlsx_error)?;
    filter_table(last, JOURNAL_COLUMNS.len(), row - 1).map_err(xlsx_error)?;

    let tb = new_sheet(&mut workbook, "trial balance").map_err(xlsx_error)?;
    write_header(tb, &TRIAL_BALANCE_COLUMNS, &TRIAL_BALANCE_COLUMN_WIDTHS_CHARS, &formats.header)
        .map_err(xlsx_error)?;
    let mut row = 1;
    for a in &trial_balance.accounts {
        tb.write_string(row, 0, &a.code).map_err(xlsx_error)?;
        tb.write_string(row, 1, &a.name).map_err(xlsx_error)?;
        tb.write_string(row, 2, &a.kind).map_err(xlsx_error)?;
        write_amount(tb, row, 3, a.debit, &formats).map_err(xlsx_error)?;
        write_amount(tb, row, 4, a.credit, &formats).map_err(xlsx_error)?;
        write_amount(tb, row, 5, a.net, &formats).map_err(xlsx_error)?;
        tb.write_string(row, 6, CURRENCY).map_err(xlsx_error)?;
        row += 1;
    }
    filter_table(tb, TRIAL_BALANCE_COLUMNS.len(), row - 1).map_err(xlsx_error)?;
    tb.write_string_with_format(row, 1, "total, memorandum accounts apart", &formats.header).map_err(xlsx_error)?;
    write_amount(tb, row, 3, trial_balance.total_debit, &formats).map_err(xlsx_error)?;
    write_amount(tb, row, 4, trial_balance.total_credit, &formats).map_err(xlsx_error)?;
    row += 1;
    tb.write_string_with_format(row, 1, "total of the memorandum accounts", &formats.header).map_err(xlsx_error)?;
    write_amount(tb, row, 3, trial_balance.memorandum_total_debit, &formats).map_err(xlsx_error)?;
    write_amount(tb, row, 4, trial_balance.memorandum_total_credit, &formats).map_err(xlsx_error)?;

    let ca = new_sheet(&mut workbook, "capital accounts").map_err(xlsx_error)?;
    write_header(ca, &CAPITAL_ACCOUNT_COLUMNS, &CAPITAL_ACCOUNT_COLUMN_WIDTHS_CHARS, &formats.header)
        .map_err(xlsx_error)?;
    filter_table(ca, CAPITAL_ACCOUNT_COLUMNS.len(), capital.len() as u32).map_err(xlsx_error)?;
    for (index, c) in capital.iter().enumerate() {
        let row = index as u32 + 1;
        ca.write_string(row, 0, &c.investor_id).map_err(xlsx_error)?;
        ca.write_string(row, 1, &c.investor_name).map_err(xlsx_error)?;
        ca.write_string(row, 2, &c.tranche_id).map_err(xlsx_error)?;
        ca.write_string(row, 3, &c.tranche_name).map_err(xlsx_error)?;
        ca.write_number(row, 4, f64::from(c.seniority)).map_err(xlsx_error)?;
        ca.write_string(row, 5, &c.commitment_id).map_err(xlsx_error)?;
        for (col, amount) in [(6, c.committed), (7, c.called), (8, c.paid_in), (9, c.unfunded), (10, c.distributed)] {
            write_amount(ca, row, col, amount, &formats).map_err(xlsx_error)?;
        }
        if let Some(nav) = c.nav {
            write_amount(ca, row, 11, nav, &formats).map_err(xlsx_error)?;
        }
        ca.write_string(row, 12, CURRENCY).map_err(xlsx_error)?;
    }

    let path = dir.path().join("workbook.xlsx");
    workbook.save(&path).map_err(xlsx_error)?;
    drop(workbook);
    let mut file = std::fs::File::open(&path).map_err(io_error)?;
    std::io::copy(&mut file, out).map_err(io_error)?;
    Ok(written)
}

/// SQLite page cache of the connection while it exports, in KiB. An export reads the journal
/// once, in order: a large cache would not be read again, and it also bounds the memory
/// SQLite sorts in (the trial balance's grouping), so the server stays small.
pub const EXPORT_SQLITE_CACHE_KIB: i64 = 2_048;

fn set_sqlite_cache(conn: &mut DbConnection, kib: i64) -> AppResult<()> {
    if let DbConnection::Sqlite(c) = conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&format!("PRAGMA cache_size = -{kib};"))?;
    }
    Ok(())
}

/// Writes the export `meta` names to `out`. On SQLite the connection's page cache is small
/// while it runs, and set back before the connection returns to the pool.
/// `verifier_key` picks the checkpoint the proofs are against (`merkle::trusted_latest`).
pub fn write_export(
    conn: &mut DbConnection,
    kind: ExportKind,
    meta: &ExportMeta,
    verifier_key: Option<&str>,
    out: &mut dyn Write,
) -> AppResult<Written> {
    set_sqlite_cache(conn, EXPORT_SQLITE_CACHE_KIB)?;
    let written = write_export_body(conn, kind, meta, verifier_key, out);
    let restored = set_sqlite_cache(conn, super::SQLITE_CACHE_KIB);
    let written = written?;
    restored?;
    Ok(written)
}

fn write_export_body(
    conn: &mut DbConnection,
    kind: ExportKind,
    meta: &ExportMeta,
    verifier_key: Option<&str>,
    out: &mut dyn Write,
) -> AppResult<Written> {
    match kind {
        ExportKind::JournalCsv => write_journal_csv(conn, meta, out),
        ExportKind::JournalJsonl => write_journal_jsonl(conn, meta, out),
        ExportKind::JournalHledger => write_journal_hledger(conn, meta, out),
        ExportKind::JournalBeancount => write_journal_beancount(conn, meta, out),
        ExportKind::JournalProofs => write_journal_proofs(conn, meta, verifier_key, out),
        ExportKind::Workbook => write_workbook(conn, meta, out),
        ExportKind::TrialBalanceCsv => write_trial_balance_csv(conn, meta, out),
        ExportKind::CapitalAccountsCsv => write_capital_accounts_csv(conn, meta, out),
    }
}

/// The fund's entries, each with what its hash covers and its inclusion proof in the latest
/// checkpoint's tree, for checking offline with `investai verify-export` (docs/exports.md):
/// a first line with the snapshot and the checkpoint's signed note, one line per entry up to the
/// checkpoint's tree size, and a last line with the count.
pub fn write_journal_proofs(
    conn: &mut DbConnection,
    meta: &ExportMeta,
    verifier_key: Option<&str>,
    out: &mut dyn Write,
) -> AppResult<Written> {
    let checkpoint = super::merkle::trusted_latest(conn, verifier_key)?
        .ok_or_else(|| AppError::rule("no-checkpoint", "no checkpoint has been signed yet"))?;
    let proven = ProvenMeta { meta, checkpoint: &checkpoint.note, tree_size: checkpoint.tree_size };
    let json = |line: &ProvenLine<'_>| json_text(line);
    out.write_all(json(&ProvenLine::Export(proven))?.as_bytes()).map_err(io_error)?;
    let mut written = Written::default();
    for_each_page(conn, meta, |conn, page| {
        for item in page.iter().filter(|item| item.entry.sequence <= checkpoint.tree_size) {
            let e = &item.entry;
            let canonical = crate::domain::ledger::canonical_json(&e.canonical(&item.postings));
            let path = super::merkle::audit_path(conn, e.sequence, checkpoint.tree_size)?;
            let inclusion: Vec<String> = path.iter().map(crate::domain::merkle::hex_of).collect();
            let line = ProvenLine::Entry {
                sequence: e.sequence,
                hash: &e.hash,
                previous_hash: &e.previous_hash,
                canonical: &canonical,
                inclusion: &inclusion,
            };
            out.write_all(json(&line)?.as_bytes()).map_err(io_error)?;
            written.entries += 1;
            written.postings += item.postings.len() as u64;
        }
        Ok(())
    })?;
    out.write_all(json(&ProvenLine::End { entries: written.entries })?.as_bytes()).map_err(io_error)?;
    Ok(written)
}

#[derive(Serialize)]
struct ProvenMeta<'a> {
    #[serde(flatten)]
    meta: &'a ExportMeta,
    /// The signed note the proofs lead to.
    checkpoint: &'a str,
    tree_size: i64,
}

#[derive(Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum ProvenLine<'a> {
    Export(ProvenMeta<'a>),
    Entry {
        sequence: i64,
        hash: &'a str,
        previous_hash: &'a str,
        /// The canonical JSON the hash covers, as text: hashed as is.
        canonical: &'a str,
        /// The audit path to the checkpoint's root, hex.
        inclusion: &'a [String],
    },
    End {
        entries: u64,
    },
}

fn json_text(line: &impl Serialize) -> AppResult<String> {
    let mut text = serde_json::to_string(line).map_err(|e| AppError::internal(format!("export JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}
