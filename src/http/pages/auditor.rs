//! Auditor pages: the journal browser (filter by fund, account, date, event, actor; paged),
//! single entries with their hashes, account ledgers with running balances, the trial
//! balance as of any date, the hash-chain status, and the exports.

use crate::i18n::{phrase, verbatim, Lang};
use std::collections::HashMap;

use actix_web::{get, web, HttpRequest};
use chrono::NaiveDate;
use serde::Deserialize;

use super::forms::{Field, FieldKind, FormSpec};
use super::view::{eur, fact, link, Card, Cell, Page, Section, Table};
use super::{next_page_link, render, PageQuery, PageResult, Session};
use crate::domain::money::Cents;
use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::extract::parse_id;
use crate::http::AppState;
use crate::storage::funds::{self, Fund};
use crate::storage::ledger::{self, EntryFilter, EntryWithPostings};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(journal_page)
        .service(entry_page)
        .service(ledger_page)
        .service(trial_balance_page)
        .service(chain_page)
        .service(exports_page);
}

/// Entries per page of the journal browser and of an account ledger: a page a reader scrolls
/// through, the next one a link away.
const JOURNAL_PAGE_ENTRIES: i64 = 25;

const READERS: &[Role] = &[Role::Auditor, Role::Staff, Role::Admin];

fn today() -> NaiveDate {
    crate::http::api::capital::today()
}

fn fund_options(funds: &[Fund]) -> Vec<(String, String)> {
    funds.iter().map(|f| (f.id.clone(), f.name.clone())).collect()
}

pub async fn dashboard(state: &AppState, session: &Session) -> PageResult {
    let (all, head) = state.read_db(|conn| Ok((funds::list_funds(conn)?, ledger::chain_head(conn)?))).await?;
    let mut table = Table::new("Funds", &["Fund", "", "", ""]);
    for f in &all {
        table.row(vec![
            Cell::link(f.name.clone(), format!("/funds/{}", f.id)),
            Cell::link("Journal", format!("/audit/journal?fund_id={}", f.id)),
            Cell::link("Trial balance", format!("/audit/trial-balance?fund_id={}", f.id)),
            Cell::link("Exports", format!("/audit/exports?fund_id={}", f.id)),
        ]);
    }
    let page = Page::new(session.layout("/"), "Audit")
        .subtitle("Read every book, export the ledger and check that nothing was altered.")
        .card(
            Card::new("Ledger")
                .with(Section::Facts(vec![
                    fact("Entries in the chain", head.0.to_string()),
                    fact("Hash of the last entry", head.1),
                ]))
                .with(Section::Links(vec![link("Verify the hash chain now", "/audit/chain")])),
        )
        .card(Card::new("Funds").with(Section::Table(table)));
    render(&page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalQuery {
    fund_id: Option<String>,
    account: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    to: Option<NaiveDate>,
    event_type: Option<String>,
    actor: Option<String>,
    after: Option<i64>,
}

fn blank_to_none(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// What a page of entries names: accounts (code and name) and parties, by id.
struct Labels {
    accounts: HashMap<String, (String, String)>,
    parties: HashMap<String, String>,
}

impl Labels {
    fn party(&self, party_id: Option<&str>) -> String {
        party_id.map(|id| self.parties.get(id).cloned().unwrap_or_else(|| short_id(id))).unwrap_or_default()
    }
}

/// `01a21946-8e4a-770f-b3d3-66228da3e80e` → `01a21946…3e80e`: enough to tell ids apart on a
/// page; the entry's own page shows them whole.
fn short_id(id: &str) -> String {
    match (id.get(..8), id.get(id.len().saturating_sub(5)..)) {
        (Some(head), Some(tail)) if id.len() > 16 => format!("{head}…{tail}"),
        _ => id.to_string(),
    }
}

/// A description with every UUID in it named (a party's name) or shortened.
fn readable(description: &str, names: &HashMap<String, String>) -> String {
    const UUID_CHARS: usize = 36;
    let mut out = String::with_capacity(description.len());
    let mut rest = description;
    while let Some(start) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        let candidate = rest.get(start..start + UUID_CHARS).filter(|c| uuid::Uuid::try_parse(c).is_ok());
        let boundary = |i: usize| !rest[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
        match candidate {
            Some(id) if boundary(start) => {
                out.push_str(&rest[..start]);
                out.push_str(&names.get(id).cloned().unwrap_or_else(|| short_id(id)));
                rest = &rest[start + UUID_CHARS..];
            }
            _ => {
                let next = start + rest[start..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&rest[..next]);
                rest = &rest[next..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The rows of a page of entries: one per posting, entries kept together.
fn postings_table(caption: &str, entries: &[EntryWithPostings], labels: &Labels) -> Table {
    let mut table = Table::new(
        caption,
        &["Seq.", "Date", "Account", "#Debit", "#Credit", "Counterparty", "Description", "Event", "Actor"],
    );
    for item in entries {
        let e = &item.entry;
        for p in &item.postings {
            let (code, name) = labels.accounts.get(&p.account_id).cloned().unwrap_or_default();
            let amount = Cents::new(p.amount_cents);
            let (debit, credit) =
                if amount.is_negative() { (String::new(), eur(amount.abs())) } else { (eur(amount), String::new()) };
            table.row(vec![
                Cell::link(e.sequence.to_string(), format!("/audit/entries/{}", e.id)),
                Cell::text(e.effective_date.to_string()),
                Cell::link(format!("{code} {name}"), format!("/audit/ledger/{}/{code}", e.fund_id)),
                Cell::num(debit),
                Cell::num(credit),
                Cell::text(labels.party(p.party_id.as_deref())),
                Cell::text(readable(
                    &if p.memo.is_empty() { e.description.clone() } else { format!("{} · {}", e.description, p.memo) },
                    &labels.parties,
                )),
                Cell::text(format!("{} {}", e.event_type, short_id(&e.event_id))),
                Cell::text(e.actor.clone()),
            ]);
        }
    }
    table.empty("No entry matches.")
}

fn labels_of(
    conn: &mut crate::storage::DbConnection,
    entries: &[EntryWithPostings],
) -> crate::error::AppResult<Labels> {
    let mut ids: Vec<&str> = entries.iter().flat_map(|e| e.postings.iter().map(|p| p.account_id.as_str())).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut parties: Vec<&str> = entries
        .iter()
        .flat_map(|e| e.postings.iter().filter_map(|p| p.party_id.as_deref()))
        .chain(entries.iter().map(|e| e.entry.event_id.as_str()))
        .collect();
    parties.sort_unstable();
    parties.dedup();
    Ok(Labels { accounts: ledger::account_labels(conn, &ids)?, parties: ledger::party_names(conn, &parties)? })
}

#[get("/audit/journal")]
async fn journal_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    query: PageQuery<JournalQuery>,
) -> PageResult {
    session.require(READERS)?;
    let q = query.0;
    let fund_id = blank_to_none(&q.fund_id).map(|id| parse_id("fund_id", &id)).transpose()?;
    let account = blank_to_none(&q.account);
    if account.is_some() && fund_id.is_none() {
        return Err(AppError::field("account", "choose a fund to filter by account").into());
    }
    crate::http::api::ledger::date_range_in_order(q.from, q.to, "to")?;
    let mut filter = EntryFilter {
        fund_id: fund_id.clone(),
        event_type: blank_to_none(&q.event_type),
        actor: blank_to_none(&q.actor),
        from_date: q.from,
        to_date: q.to,
        after_sequence: q.after,
        ..Default::default()
    };
    let (all_funds, entries, labels) = state
        .db(move |conn| {
            if let (Some(fund), Some(code)) = (&filter.fund_id, &account) {
                let found = ledger::find_account_by_code(conn, fund, code)?
                    .ok_or_else(|| AppError::field("account", format!("no account {code} in this fund")))?;
                filter.account_id = Some(found.id);
            }
            let entries = ledger::list_entries(conn, &filter, JOURNAL_PAGE_ENTRIES)?;
            let labels = labels_of(conn, &entries.items)?;
            Ok((funds::list_funds(conn)?, entries, labels))
        })
        .await?;
    let filters = FormSpec::filter(
        "/audit/journal",
        "Filter",
        vec![
            Field::new("fund_id", "Fund", FieldKind::Select)
                .optional()
                .options(fund_options(&all_funds))
                .value(q.fund_id.clone().unwrap_or_default()),
            Field::new("account", "Account code", FieldKind::Text)
                .optional()
                .value(q.account.clone().unwrap_or_default()),
            Field::new("from", "From", FieldKind::Date)
                .optional()
                .value(q.from.map(|d| d.to_string()).unwrap_or_default()),
            Field::new("to", "To", FieldKind::Date).optional().value(q.to.map(|d| d.to_string()).unwrap_or_default()),
            Field::new("event_type", "Event", FieldKind::Text)
                .optional()
                .value(q.event_type.clone().unwrap_or_default()),
            Field::new("actor", "Actor (role:subject)", FieldKind::Text)
                .optional()
                .value(q.actor.clone().unwrap_or_default()),
        ],
    );
    let mut card =
        Card::new("Entries").with(Section::Table(postings_table("Journal postings", &entries.items, &labels)));
    if let Some(after) = &entries.next_after {
        card = card.with(next_page_link(&req, "/audit/journal", after));
    }
    let page = Page::new(session.layout("/audit/journal"), "Journal")
        .card(Card::new("Filters").with(Section::Form(filters)))
        .card(card);
    render(&page)
}

#[get("/audit/entries/{entry_id}")]
async fn entry_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<String>,
) -> PageResult {
    session.require(READERS)?;
    let entry_id = parse_id("entry_id", &path)?;
    let (item, labels) = state
        .db(move |conn| {
            let item = ledger::get_entry(conn, &entry_id)?;
            let labels = labels_of(conn, std::slice::from_ref(&item))?;
            Ok((item, labels))
        })
        .await?;
    let e = &item.entry;
    let mut facts = vec![
        fact("Sequence", e.sequence.to_string()),
        fact("Effective date", e.effective_date.to_string()),
        fact("Recorded at", format!("{} UTC", e.created_at.format("%Y-%m-%d %H:%M:%S"))),
        fact("Actor", e.actor.clone()),
        fact("Event", format!("{} {}", e.event_type, e.event_id)),
        fact("Hash", e.hash.clone()),
        fact("Previous hash", e.previous_hash.clone()),
    ];
    if let Some(reversed) = &e.reverses_entry_id {
        facts.push(super::view::Fact {
            label: "Reverses".into(),
            value: reversed.clone(),
            href: Some(format!("/audit/entries/{reversed}")),
        });
    }
    let mut entry_card = Card::new("Entry").with(Section::Facts(facts));
    if session.principal.role == Role::Staff {
        // The reversal page says whether this entry may be reversed, and shows what it would post.
        entry_card = entry_card.with(Section::Links(vec![super::view::link(
            "Reverse this entry",
            format!("/ledger/entries/{}/reverse", e.id),
        )]));
    }
    let page =
        Page::new(session.layout(req.path()), phrase("page-journal-entry", &[("number", e.sequence.to_string())]))
            .subtitle(verbatim(e.description.clone()))
            .card(entry_card)
            .card(Card::new("Postings").with(Section::Table(postings_table(
                "Postings of this entry",
                std::slice::from_ref(&item),
                &labels,
            ))));
    render(&page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AsOfQuery {
    fund_id: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    as_of: Option<NaiveDate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerQuery {
    #[serde(default, deserialize_with = "crate::domain::calendar_date::deserialize_option")]
    as_of: Option<NaiveDate>,
    /// The page after this sequence (keyset pagination).
    after: Option<i64>,
}

#[get("/audit/ledger/{fund_id}/{code}")]
async fn ledger_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    path: web::Path<(String, String)>,
    query: PageQuery<LedgerQuery>,
) -> PageResult {
    session.require(READERS)?;
    let (fund_id, code) = path.into_inner();
    let fund_id = parse_id("fund_id", &fund_id)?;
    let as_of = query.as_of.unwrap_or_else(today);
    let after = query.after.filter(|a| *a > 0);
    let (account, entries, labels, brought_forward) = state
        .db(move |conn| {
            let account = ledger::find_account_by_code(conn, &fund_id, &code)?
                .ok_or_else(|| AppError::not_found(format!("account {code}")))?;
            let filter = EntryFilter {
                fund_id: Some(fund_id.clone()),
                account_id: Some(account.id.clone()),
                to_date: Some(as_of),
                after_sequence: after,
                ..Default::default()
            };
            let entries = ledger::list_entries(conn, &filter, JOURNAL_PAGE_ENTRIES)?;
            let labels = labels_of(conn, &entries.items)?;
            let brought_forward = match after {
                Some(after) => ledger::account_balance_through(conn, &account.id, as_of, after)?,
                None => Cents::ZERO,
            };
            Ok((account, entries, labels, brought_forward))
        })
        .await?;
    let mut balance = brought_forward;
    let mut table = Table::new(
        phrase("page-postings-to", &[("account", format!("{} {}", account.code, account.name))]),
        &["Seq.", "Date", "Counterparty", "Description", "#Debit", "#Credit", "#Balance"],
    );
    if after.is_some() {
        let row = [Cell::text(""), Cell::text(""), Cell::text(""), Cell::text("Brought forward")];
        table.row(row.into_iter().chain([Cell::text(""), Cell::text(""), Cell::money(balance)]).collect());
    }
    for item in &entries.items {
        for p in item.postings.iter().filter(|p| p.account_id == account.id) {
            let amount = Cents::new(p.amount_cents);
            balance = balance.checked_add(amount).map_err(AppError::from)?;
            let (debit, credit) =
                if amount.is_negative() { (String::new(), eur(amount.abs())) } else { (eur(amount), String::new()) };
            let description = if p.memo.is_empty() {
                item.entry.description.clone()
            } else {
                format!("{} · {}", item.entry.description, p.memo)
            };
            table.row(vec![
                Cell::link(item.entry.sequence.to_string(), format!("/audit/entries/{}", item.entry.id)),
                Cell::text(item.entry.effective_date.to_string()),
                Cell::text(labels.party(p.party_id.as_deref())),
                Cell::text(readable(&description, &labels.parties)),
                Cell::num(debit),
                Cell::num(credit),
                Cell::money(balance),
            ]);
        }
    }
    let mut card = Card::new("Ledger").with(Section::Table(table.empty("No posting to this account.")));
    if let Some(after) = &entries.next_after {
        card = card.with(next_page_link(&req, req.path(), after));
    }
    let page = Page::new(
        session.layout(req.path()),
        phrase("page-account", &[("account", format!("{} {}", account.code, account.name))]),
    )
    .subtitle(phrase(
        "page-account-subtitle",
        &[
            ("kind", Lang::current().name_of("account-kind", &account.kind)),
            ("date", crate::i18n::format::date(as_of, Lang::current())),
        ],
    ))
    .card(card);
    render(&page)
}

#[get("/audit/trial-balance")]
async fn trial_balance_page(state: web::Data<AppState>, session: Session, query: PageQuery<AsOfQuery>) -> PageResult {
    session.require(READERS)?;
    let as_of = query.as_of.unwrap_or_else(today);
    let fund_id = blank_to_none(&query.fund_id).map(|id| parse_id("fund_id", &id)).transpose()?;
    let (all_funds, balance) = state
        .db(move |conn| {
            let all = funds::list_funds(conn)?;
            let chosen = fund_id.or_else(|| all.first().map(|f| f.id.clone()));
            let balance = chosen.map(|id| ledger::trial_balance(conn, &id, as_of)).transpose()?;
            Ok((all, balance))
        })
        .await?;
    let filters = FormSpec::filter(
        "/audit/trial-balance",
        "Show",
        vec![
            Field::new("fund_id", "Fund", FieldKind::Select)
                .options(fund_options(&all_funds))
                .value(balance.as_ref().map(|b| b.fund_id.clone()).unwrap_or_default()),
            Field::new("as_of", "As of", FieldKind::Date).value(as_of.to_string()),
        ],
    );
    let mut page = Page::new(session.layout("/audit/trial-balance"), "Trial balance")
        .card(Card::new("Fund and date").with(Section::Form(filters)));
    if let Some(tb) = balance {
        let mut table = Table::new(
            phrase("page-trial-balance-as-of", &[("date", crate::i18n::format::date(tb.as_of, Lang::current()))]),
            &["Code", "Account", "Kind", "#Debit", "#Credit"],
        );
        let rows = |table: &mut Table, memorandum: bool, totals: (Cents, Cents)| {
            for a in tb.accounts.iter().filter(|a| !a.net.is_zero() && a.memorandum == memorandum) {
                table.row(vec![
                    Cell::link(a.code.clone(), format!("/audit/ledger/{}/{}?as_of={}", tb.fund_id, a.code, tb.as_of)),
                    Cell::text(a.name.clone()),
                    Cell::text(a.kind.clone()),
                    Cell::money(a.debit),
                    Cell::money(a.credit),
                ]);
            }
            table.row(vec![
                Cell::text(""),
                Cell::text("Total"),
                Cell::text(""),
                Cell::money(totals.0),
                Cell::money(totals.1),
            ]);
        };
        rows(&mut table, false, (tb.total_debit, tb.total_credit));
        let mut memorandum = Table::new(
            "Memorandum accounts (unfunded commitments), totalled apart",
            &["Code", "Account", "Kind", "#Debit", "#Credit"],
        );
        rows(&mut memorandum, true, (tb.memorandum_total_debit, tb.memorandum_total_credit));
        page = page.card(
            Card::new("Balances")
                .with(Section::Facts(vec![
                    fact("Balanced", if tb.balanced { "yes" } else { "NO" }),
                    fact("Last entry in the chain", format!("{} · {}", tb.last_entry_sequence, tb.last_entry_hash)),
                ]))
                .with(Section::Table(table))
                .with(Section::Table(memorandum))
                .with(Section::Links(vec![link(
                    "Exports as of this date",
                    format!("/audit/exports?fund_id={}&as_of={}", tb.fund_id, tb.as_of),
                )])),
        );
    }
    render(&page)
}

#[get("/audit/chain")]
async fn chain_page(state: web::Data<AppState>, session: Session) -> PageResult {
    session.require(READERS)?;
    let report = state.db(ledger::verify_chain).await?;
    let mut card = Card::new("Verification").with(Section::Facts(vec![
        fact("Result", if report.ok { "intact: every entry balances and every hash matches" } else { "BROKEN" }),
        fact("Entries checked", report.entries_checked.to_string()),
        fact("Head sequence", report.head_sequence.to_string()),
        fact("Head hash", report.head_hash.clone()),
    ]));
    if let Some(fault) = &report.first_fault {
        card = card.with(Section::Alert(phrase("page-first-fault", &[("fault", fault.to_string())])));
    }
    card = card.text("The same check runs from the command line as `investai verify`.");
    render(&Page::new(session.layout("/audit/chain"), "Hash chain").card(card))
}

/// The exports an auditor can download, in the order they are listed.
const EXPORTS: [(&str, &str); 8] = [
    ("journal.csv", "Journal, one row per posting (CSV)"),
    ("journal.jsonl", "Journal, one JSON object per line"),
    ("journal.hledger", "Journal in hledger format (plain text)"),
    ("journal.beancount", "Journal in beancount format (plain text)"),
    ("journal-proofs.jsonl", "Entries with their proofs in the latest signed checkpoint (JSON lines)"),
    ("workbook.xlsx", "Workbook: journal, trial balance, capital accounts (XLSX)"),
    ("trial-balance.csv", "Trial balance (CSV)"),
    ("capital-accounts.csv", "Capital accounts (CSV)"),
];

#[get("/audit/exports")]
async fn exports_page(state: web::Data<AppState>, session: Session, query: PageQuery<AsOfQuery>) -> PageResult {
    session.require(READERS)?;
    let as_of = query.as_of.unwrap_or_else(today);
    let fund_id = blank_to_none(&query.fund_id).map(|id| parse_id("fund_id", &id)).transpose()?;
    let all_funds = state.read_db(funds::list_funds).await?;
    let chosen = fund_id.or_else(|| all_funds.first().map(|f| f.id.clone()));
    let filters = FormSpec::filter(
        "/audit/exports",
        "Show",
        vec![
            Field::new("fund_id", "Fund", FieldKind::Select)
                .options(fund_options(&all_funds))
                .value(chosen.clone().unwrap_or_default()),
            Field::new("as_of", "As of", FieldKind::Date).value(as_of.to_string()),
        ],
    );
    let mut page = Page::new(session.layout("/audit/exports"), "Exports")
        .card(Card::new("Fund and date").with(Section::Form(filters)));
    if let Some(fund_id) = chosen {
        let links = EXPORTS
            .iter()
            .map(|(name, label)| link(*label, format!("/api/v1/funds/{fund_id}/exports/{name}?as_of={as_of}")))
            .collect();
        page = page.card(
            Card::new("Downloads")
                .text(phrase("page-exports-as-of", &[("date", crate::i18n::format::date(as_of, Lang::current()))]))
                .with(Section::Links(links)),
        );
    }
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_the_ids_they_hold() {
        let names = HashMap::from([("01a21946-8e4a-770f-b3d3-66228da3e80e".to_string(), "Gamma Bank".to_string())]);
        assert_eq!(
            readable("Call 01a21946-8e4a-770f-b3d3-66228da3e80e: notice 01a21946-8e4a-770f-b3d3-6623c559a9e5", &names),
            "Call Gamma Bank: notice 01a21946…9a9e5"
        );
        let untouched = "Façade 2026-01-01, x01a21946-8e4a-770f-b3d3-66228da3e80e";
        assert_eq!(readable(untouched, &names), untouched, "an id inside a longer word is left alone");
        assert_eq!(readable("", &names), "");
    }
}
