//! Explaining a figure: the journal entries (and, for NAV, the waterfall lines) that make up a
//! fund's or an investor's paid-in, distributed and NAV, and the compute-grant pool's balance,
//! beside the figure as the metrics and the account balance report it (docs/ledger.md,
//! "Explaining a figure").

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;
use utoipa::ToSchema;

use super::investments::counts_in_nav;
use super::ledger::{account_balance, find_account_by_code, list_accounts};
use super::schema::{journal_entries, postings};
use super::waterfall::{liquidate, positions_as_of, Liquidation, PositionState};
use super::DbConnection;
use crate::domain::chart::COMPUTE_GRANT_POOL;
use crate::domain::explain::{page_of_parts, EntryPage, Figure};
use crate::domain::money::Cents;
use crate::domain::waterfall::Target;
use crate::error::{AppError, AppResult};

/// Entries one answer lists at most (`limit`); the rest follow page by page (`next_after`).
pub const EXPLAIN_ENTRIES_MAX: i64 = 500;
/// Waterfall lines one answer lists at most; `waterfall_lines_truncated` says when there were more.
pub const EXPLAIN_LINES_MAX: usize = 500;
// The document states it as a literal, in `Explanation::waterfall_lines`.
const _: () = assert!(EXPLAIN_LINES_MAX == 500);

/// A figure, and the journal entries and waterfall lines that make it up.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub figure: Figure,
    /// `fund` or `investor`
    pub scope: &'static str,
    pub fund_id: String,
    /// The investor (a source) whose figure it is; none for a fund's.
    pub investor_id: Option<String>,
    pub as_of: NaiveDate,
    /// The figure as the fund's metrics report it (`GET .../metrics`: paid-in, distributed, NAV),
    /// or the balance of account `1010` (`GET .../accounts/1010/balance`).
    #[schema(value_type = String, example = "1250000.00")]
    pub amount: Cents,
    /// What every entry that makes up the figure adds to it, over all of them (not this page
    /// only): the figure itself for paid-in, distributed and the pool; for NAV, the investors'
    /// net assets liquidated (`liquidated`).
    #[schema(value_type = String, example = "1250000.00")]
    pub sum_of_entries: Cents,
    /// How many entries make up the figure (those whose part is not zero).
    pub entry_count: u64,
    /// A page of them, in sequence order: at most `limit`, after the sequence `after`.
    pub entries: Vec<ExplainedEntry>,
    /// When more entries follow: send it back as `after` for the next page.
    pub next_after: Option<String>,
    /// Whether more entries follow this page (from `next_after` on).
    pub truncated: bool,
    /// True when the caller may not read the fund's journal and the entries are not listed:
    /// an investor asking for its NAV, whose entries are the whole fund's net assets.
    pub entries_withheld: bool,
    /// NAV only: the investors' net assets in the books that the waterfall liquidates.
    #[schema(value_type = Option<String>)]
    pub liquidated: Option<Cents>,
    /// NAV only: the date of the latest valuation carried forward.
    pub valuation_date: Option<NaiveDate>,
    /// NAV only: the version of the waterfall terms the liquidation ran through.
    pub terms_version: Option<i32>,
    /// NAV only: the lines of the liquidation that pay the positions in scope, in the order of
    /// the steps; at most 500 (`waterfall_lines_truncated` says when there are more).
    pub waterfall_lines: Vec<ExplainedLine>,
    /// NAV only: what every such line pays, all of them: the figure.
    #[schema(value_type = Option<String>)]
    pub sum_of_waterfall_lines: Option<Cents>,
    /// NAV only: how many such lines there are.
    pub waterfall_line_count: Option<u64>,
    /// NAV only: whether lines were left off `waterfall_lines`.
    pub waterfall_lines_truncated: Option<bool>,
    /// A fund's NAV only: what the liquidation pays to accounts (fees, the pool's reserve and
    /// shares), which no investor holds.
    #[schema(value_type = Option<String>)]
    pub paid_to_accounts: Option<Cents>,
    /// A fund's NAV only: what no step could pay. `liquidated` = `amount` + `paid_to_accounts`
    /// + `undistributed`.
    #[schema(value_type = Option<String>)]
    pub undistributed: Option<Cents>,
}

/// One journal entry and its part of the figure.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExplainedEntry {
    pub sequence: i64,
    pub entry_id: String,
    pub effective_date: NaiveDate,
    pub event_type: String,
    pub event_id: String,
    pub description: String,
    /// What the entry's counted postings add to the figure (negative where it takes away).
    #[schema(value_type = String, example = "1250000.00")]
    pub amount: Cents,
}

/// One line of the hypothetical liquidation paying a position.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExplainedLine {
    /// The step's index in the terms.
    pub step: usize,
    /// `fee`, `pref`, `capital`, `reserve`, `catch_up` or `split`
    pub kind: String,
    pub investor_id: String,
    pub commitment_id: String,
    pub tranche_id: String,
    /// The rule that set `owed`, in words.
    pub rule: String,
    #[schema(value_type = String)]
    pub owed: Cents,
    #[schema(value_type = String)]
    pub paid: Cents,
}

/// Which page of the entries to list.
#[derive(Clone, Copy, Debug)]
pub struct EntryWindow {
    pub after: Option<i64>,
    pub limit: i64,
}

/// Explains `figure` of the fund, or of one investor in it, as of a date. With
/// `show_fund_journal` false (an investor), a NAV's entries, which are the whole fund's, are
/// withheld. An investor without a position in the fund is not found.
pub fn explain(
    conn: &mut DbConnection,
    fund_id: &str,
    investor: Option<&str>,
    figure: Figure,
    as_of: NaiveDate,
    window: EntryWindow,
    show_fund_journal: bool,
) -> AppResult<Explanation> {
    if investor.is_some() && !figure.of_investors() {
        return Err(AppError::field("figure", format!("an investor has no {} figure", figure.name())));
    }
    let mut explanation = Explanation {
        figure,
        scope: if investor.is_some() { "investor" } else { "fund" },
        fund_id: fund_id.into(),
        investor_id: investor.map(str::to_string),
        as_of,
        amount: Cents::ZERO,
        sum_of_entries: Cents::ZERO,
        entry_count: 0,
        entries: Vec::new(),
        next_after: None,
        truncated: false,
        entries_withheld: false,
        liquidated: None,
        valuation_date: None,
        terms_version: None,
        waterfall_lines: Vec::new(),
        sum_of_waterfall_lines: None,
        waterfall_line_count: None,
        waterfall_lines_truncated: None,
        paid_to_accounts: None,
        undistributed: None,
    };
    let in_scope = |state: &PositionState| investor.is_none_or(|i| state.source_id == i);
    let counted_accounts: Vec<String> = match figure {
        Figure::PaidIn | Figure::Distributed => {
            // The same positions, contributions and distribution lines as the metrics.
            let states = positions_as_of(conn, fund_id, as_of)?;
            let mine: Vec<&PositionState> = states.iter().filter(|s| in_scope(s)).collect();
            if let (Some(investor), true) = (investor, mine.is_empty()) {
                return Err(AppError::not_found(format!("investor {investor} in fund {fund_id}")));
            }
            explanation.amount = figure_of_positions(figure, &mine)?;
            accounts_of(conn, fund_id, |code, _| figure.counts_account(code))?
        }
        Figure::Nav => {
            let liquidation = liquidate(conn, fund_id, as_of)?;
            if let Some(investor) = investor.filter(|_| !liquidation.states.iter().any(in_scope)) {
                return Err(AppError::not_found(format!("investor {investor} in fund {fund_id}")));
            }
            explain_liquidation(&mut explanation, &liquidation, investor)?;
            if !show_fund_journal {
                explanation.entries_withheld = true;
                return Ok(explanation);
            }
            accounts_of(conn, fund_id, counts_in_nav)?
        }
        Figure::ComputeGrantPool => {
            let pool = find_account_by_code(conn, fund_id, COMPUTE_GRANT_POOL)?
                .ok_or_else(|| AppError::not_found(format!("account {COMPUTE_GRANT_POOL}")))?;
            explanation.amount = account_balance(conn, &pool.id, None, as_of)?;
            vec![pool.id]
        }
    };
    let party = if figure.party_postings_only() { Some(investor) } else { None };
    let parts = entry_parts(conn, fund_id, figure, &counted_accounts, party, as_of)?;
    let limit = usize::try_from(window.limit.clamp(1, EXPLAIN_ENTRIES_MAX)).map_err(AppError::internal)?;
    let page = page_of_parts(parts, window.after, limit)?;
    list_page(conn, &mut explanation, page)?;
    Ok(explanation)
}

/// Paid-in or distributed of the positions, summed as the metrics sum them.
fn figure_of_positions(figure: Figure, positions: &[&PositionState]) -> AppResult<Cents> {
    let mut total = Cents::ZERO;
    for state in positions {
        if figure == Figure::PaidIn {
            for flow in state.position.flows.iter().filter(|f| f.amount.get() > 0) {
                total = total.checked_add(flow.amount)?;
            }
        } else {
            for (_, amount) in &state.received {
                total = total.checked_add(*amount)?;
            }
        }
    }
    Ok(total)
}

/// Ids of the fund's accounts whose postings count, by code and kind.
fn accounts_of(conn: &mut DbConnection, fund_id: &str, counts: impl Fn(&str, &str) -> bool) -> AppResult<Vec<String>> {
    Ok(list_accounts(conn, fund_id)?.into_iter().filter(|a| counts(&a.code, &a.kind)).map(|a| a.id).collect())
}

/// (sequence, part of the figure) of every entry of the fund dated on or before `as_of` that
/// posts to the counted accounts, in sequence order, summed in the database. `party`: only
/// postings naming a party count (`Some`), that party's (`Some(Some(..))`).
fn entry_parts(
    conn: &mut DbConnection,
    fund_id: &str,
    figure: Figure,
    accounts: &[String],
    party: Option<Option<&str>>,
    as_of: NaiveDate,
) -> AppResult<Vec<(i64, Cents)>> {
    let mut query = postings::table
        .inner_join(journal_entries::table)
        .filter(journal_entries::fund_id.eq(fund_id.to_string()))
        .filter(journal_entries::effective_date.le(as_of))
        .filter(postings::account_id.eq_any(accounts.to_vec()))
        .group_by(journal_entries::sequence)
        .select((journal_entries::sequence, sql::<BigInt>("CAST(SUM(postings.amount_cents) AS BIGINT)")))
        .order(journal_entries::sequence.asc())
        .into_boxed();
    if let Some(event_type) = figure.event_type() {
        query = query.filter(journal_entries::event_type.eq(event_type));
    }
    match party {
        Some(Some(party)) => query = query.filter(postings::party_id.eq(party.to_string())),
        Some(None) => query = query.filter(postings::party_id.is_not_null()),
        None => {}
    }
    let rows: Vec<(i64, i64)> = query.load(conn)?;
    rows.into_iter().map(|(sequence, net)| Ok((sequence, figure.part_of(Cents::new(net))?))).collect()
}

type EntryHead = (i64, String, NaiveDate, String, String, String);

/// Fills in the totals and the page's entries.
fn list_page(conn: &mut DbConnection, explanation: &mut Explanation, page: EntryPage) -> AppResult<()> {
    let sequences: Vec<i64> = page.page.iter().map(|(sequence, _)| *sequence).collect();
    let heads: Vec<EntryHead> = journal_entries::table
        .filter(journal_entries::sequence.eq_any(sequences))
        .filter(super::planned_each_time())
        .select((
            journal_entries::sequence,
            journal_entries::id,
            journal_entries::effective_date,
            journal_entries::event_type,
            journal_entries::event_id,
            journal_entries::description,
        ))
        .load(conn)?;
    let mut heads: HashMap<i64, EntryHead> = heads.into_iter().map(|h| (h.0, h)).collect();
    for (sequence, amount) in page.page {
        let (sequence, entry_id, effective_date, event_type, event_id, description) =
            heads.remove(&sequence).ok_or_else(|| AppError::internal(format!("entry {sequence} vanished")))?;
        explanation.entries.push(ExplainedEntry {
            sequence,
            entry_id,
            effective_date,
            event_type,
            event_id,
            description,
            amount,
        });
    }
    explanation.sum_of_entries = page.total;
    explanation.entry_count = u64::try_from(page.count).map_err(AppError::internal)?;
    explanation.truncated = page.next_after.is_some();
    explanation.next_after = page.next_after.map(|s| s.to_string());
    Ok(())
}

/// The NAV and the liquidation's lines that pay the positions in scope, as the metrics value
/// them: each position's NAV is what the liquidation pays it.
fn explain_liquidation(
    explanation: &mut Explanation,
    liquidation: &Liquidation,
    investor: Option<&str>,
) -> AppResult<()> {
    let owners: HashMap<&str, &PositionState> = liquidation.states.iter().map(|s| (&*s.position.id, s)).collect();
    let in_scope: BTreeSet<&str> = liquidation
        .states
        .iter()
        .filter(|s| investor.is_none_or(|i| s.source_id == i))
        .map(|s| &*s.position.id)
        .collect();
    let mut amount = Cents::ZERO;
    for position in &in_scope {
        amount = amount.checked_add(liquidation.by_position.get(*position).copied().unwrap_or_default())?;
    }
    let (mut lines_sum, mut line_count, mut to_accounts) = (Cents::ZERO, 0u64, Cents::ZERO);
    let mut lines = Vec::new();
    let steps = liquidation.allocation.iter().flat_map(|a| &a.steps);
    for step in steps {
        for line in step.lines.iter().filter(|l| l.paid.get() > 0) {
            let position = line.position_id.as_deref().filter(|p| in_scope.contains(p));
            let Some(state) = position.and_then(|p| owners.get(p)) else {
                if matches!(line.target, Target::Account(_)) {
                    to_accounts = to_accounts.checked_add(line.paid)?;
                }
                continue;
            };
            lines_sum = lines_sum.checked_add(line.paid)?;
            line_count += 1;
            if lines.len() < EXPLAIN_LINES_MAX {
                lines.push(ExplainedLine {
                    step: step.index,
                    kind: step.kind.clone(),
                    investor_id: state.source_id.clone(),
                    commitment_id: state.position.id.to_string(),
                    tranche_id: state.position.tranche_id.clone(),
                    rule: line.rule.to_string(),
                    owed: line.owed,
                    paid: line.paid,
                });
            }
        }
    }
    explanation.amount = amount;
    explanation.liquidated = Some(liquidation.fund_nav);
    explanation.valuation_date = liquidation.valuation_date;
    explanation.terms_version = Some(liquidation.terms_version);
    explanation.waterfall_lines_truncated = Some(line_count > lines.len() as u64);
    explanation.waterfall_lines = lines;
    explanation.sum_of_waterfall_lines = Some(lines_sum);
    explanation.waterfall_line_count = Some(line_count);
    if investor.is_none() {
        explanation.paid_to_accounts = Some(to_accounts);
        explanation.undistributed =
            Some(liquidation.allocation.as_ref().map(|a| a.remaining).unwrap_or(liquidation.fund_nav));
    }
    Ok(())
}
