//! Where each compute-grant euro came from: the pool's flows read from the journal in sequence
//! order and replayed through `domain::attribution` (docs/grants.md, "Where the pool's money
//! came from"). Nothing is stored: the attribution is a function of the journal (each usage
//! entry's hours, which its memo also states, read from the usage kept per entry), so anyone
//! holding a journal export can recompute it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::funds::get_fund;
use super::schema::{grant_awards, journal_entries, ledger_accounts, postings, sources};
use super::usage_sums::UsageByEntry;
use super::DbConnection;
use crate::domain::attribution::{Attribution, AwardShare, PoolFlow, PoolShare, UNATTRIBUTED};
use crate::domain::chart::{CASH, COMPUTE_GRANT_AWARDED, COMPUTE_GRANT_COMMITTED, COMPUTE_GRANT_POOL};
use crate::domain::hours::GpuHours;
use crate::domain::money::Cents;
use crate::error::{AppError, AppResult};

/// The programme private investors' money is shown under; they are never shown one by one.
pub const PRIVATE_PROGRAMME: &str = "private";

/// The awards' figures attributed to one group of sources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AwardFigures {
    /// Aid value of awards.
    #[schema(value_type = String)]
    pub awarded: Cents,
    /// Aid used: subsidy of the GPU-hours used.
    #[schema(value_type = String)]
    pub used: Cents,
    /// Aid returned to the pool when awards lapsed.
    #[schema(value_type = String)]
    pub returned: Cents,
    #[schema(value_type = String)]
    pub gpu_hours_used: GpuHours,
    #[schema(value_type = String)]
    pub gpu_hours_lapsed: GpuHours,
}

/// Figures of the pool's money attributed to one group of sources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AttributedFigures {
    /// Reserved into the pool by distributions.
    #[schema(value_type = String)]
    pub reserved: Cents,
    /// Put into the pool by manual entries (always unattributed).
    #[schema(value_type = String)]
    pub topped_up: Cents,
    /// Taken out of the pool by manual entries.
    #[schema(value_type = String)]
    pub withdrawn: Cents,
    #[schema(value_type = String)]
    pub committed_to_calls: Cents,
    #[serde(flatten)]
    pub awards: AwardFigures,
    /// Still in the pool, in calls' unawarded budgets, and in awards' unused aid.
    #[schema(value_type = String)]
    pub in_pool: Cents,
    #[schema(value_type = String)]
    pub in_calls: Cents,
    #[schema(value_type = String)]
    pub in_awards: Cents,
}

/// One row of the awards by programme, Member State and the beneficiaries' SME category.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SmeCategoryRow {
    pub programme: String,
    pub member_state: Option<String>,
    /// micro, small or medium.
    pub sme_category: String,
    pub figures: AwardFigures,
}

/// One row: a programme and Member State (or, for staff, one source), with its figures.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttributionRow {
    /// `digital_europe`, `horizon_europe`, `investeu`, `eib`, `cohesion`, `private`, or
    /// `unattributed`.
    pub programme: String,
    /// The Member State (or `EU`) of a public source; null for private and unattributed money.
    pub member_state: Option<String>,
    /// The source itself (staff and auditors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    pub figures: AttributedFigures,
}

/// The pool's accounts as the ledger holds them, beside the attributed totals.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PoolReconciliation {
    /// Balance of account 1010 (all entries): equals `totals.in_pool`.
    #[schema(value_type = String)]
    pub pool_account: Cents,
    /// Balance of account 1020: equals `totals.in_calls`.
    #[schema(value_type = String)]
    pub calls_account: Cents,
    /// Balance of account 1030: equals `totals.in_awards`.
    #[schema(value_type = String)]
    pub awards_account: Cents,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GrantAttribution {
    pub fund_id: String,
    /// Entries read, up to this sequence number.
    pub through_sequence: i64,
    pub totals: AttributedFigures,
    /// By programme and Member State of the sources.
    pub by_programme_and_member_state: Vec<AttributionRow>,
    /// The awards' figures, split further by the SME category of the beneficiaries.
    pub by_sme_category: Vec<SmeCategoryRow>,
    /// By source (staff and auditors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_source: Option<Vec<AttributionRow>>,
    pub reconciliation: PoolReconciliation,
}

/// A posting on one of the pool's accounts or a contribution's cash, with its entry.
type FlowPosting = (i64, String, String, NaiveDate, String, i64, Option<String>);

fn pool_postings(conn: &mut DbConnection, fund_id: &str, head: i64) -> AppResult<Vec<FlowPosting>> {
    Ok(postings::table
        .inner_join(journal_entries::table)
        .inner_join(ledger_accounts::table)
        .filter(journal_entries::fund_id.eq(fund_id))
        .filter(journal_entries::sequence.le(head))
        .filter(
            ledger_accounts::code
                .eq_any([COMPUTE_GRANT_POOL, COMPUTE_GRANT_COMMITTED, COMPUTE_GRANT_AWARDED])
                .or(ledger_accounts::code.eq(CASH).and(journal_entries::event_type.eq("contribution"))),
        )
        .order((journal_entries::sequence.asc(), postings::line.asc()))
        .select((
            journal_entries::sequence,
            journal_entries::event_type,
            journal_entries::event_id,
            journal_entries::effective_date,
            ledger_accounts::code,
            postings::amount_cents,
            postings::party_id,
        ))
        .load(conn)?)
}

/// What one entry did to the pool's accounts.
#[derive(Default)]
struct EntryEffect {
    sequence: i64,
    event_type: String,
    event_id: String,
    date: Option<NaiveDate>,
    pool: i64,
    calls_debit: i64,
    calls_party: Option<String>,
    awards_debit: i64,
    awards_net: i64,
    touches_pool_accounts: bool,
}

/// Contributions as (date, sequence, source, cents).
type PaidIn = Vec<(NaiveDate, i64, String, i64)>;

fn group_entries(rows: Vec<FlowPosting>) -> (Vec<EntryEffect>, PaidIn) {
    let mut effects: Vec<EntryEffect> = Vec::new();
    let mut paid_in = Vec::new();
    for (sequence, event_type, event_id, date, code, amount, party) in rows {
        if code == CASH {
            if amount > 0 {
                paid_in.push((date, sequence, party.unwrap_or_else(|| UNATTRIBUTED.into()), amount));
            }
            continue;
        }
        if effects.last().map(|e| e.sequence) != Some(sequence) {
            effects.push(EntryEffect { sequence, event_type, event_id, date: Some(date), ..Default::default() });
        }
        let Some(effect) = effects.last_mut() else { continue };
        effect.touches_pool_accounts = true;
        match code.as_str() {
            COMPUTE_GRANT_POOL => effect.pool += amount,
            COMPUTE_GRANT_COMMITTED => {
                if amount > 0 {
                    effect.calls_debit += amount;
                } else if effect.calls_party.is_none() {
                    effect.calls_party = party;
                }
            }
            _ => {
                effect.awards_net += amount;
                if amount > 0 {
                    effect.awards_debit += amount;
                }
            }
        }
    }
    (effects, paid_in)
}

/// Each source's paid-in capital on `date`, counting contributions posted before `sequence`.
fn paid_in_on(paid_in: &PaidIn, date: NaiveDate, sequence: i64) -> Vec<(String, Cents)> {
    let mut by_source: BTreeMap<String, i64> = BTreeMap::new();
    for (value_date, posted, source, amount) in paid_in {
        if *value_date <= date && *posted < sequence {
            *by_source.entry(source.clone()).or_default() += amount;
        }
    }
    by_source.into_iter().map(|(s, c)| (s, Cents::new(c))).collect()
}

fn inconsistent(effect: &EntryEffect, what: &str) -> AppError {
    AppError::internal(format!("entry {} ({}) {what}", effect.sequence, effect.event_type))
}

/// The flows of the pool, in journal order, from the entries that touch its accounts.
fn flows_of(
    effects: &[EntryEffect],
    paid_in: &PaidIn,
    usage: &UsageByEntry,
    entry_ids: &HashMap<i64, String>,
    lapsed_hours: &HashMap<String, i64>,
) -> AppResult<Vec<PoolFlow>> {
    let mut flows = Vec::new();
    for effect in effects.iter().filter(|e| e.touches_pool_accounts) {
        let date = effect.date.ok_or_else(|| inconsistent(effect, "has no date"))?;
        match effect.event_type.as_str() {
            "distribution" if effect.pool >= 0 => flows.push(PoolFlow::Reserve {
                amount: Cents::new(effect.pool),
                paid_in: paid_in_on(paid_in, date, effect.sequence),
            }),
            "grant_call" => flows
                .push(PoolFlow::CallBudget { call: effect.event_id.clone(), amount: Cents::new(effect.calls_debit) }),
            "grant_award" => flows.push(PoolFlow::Award {
                call: effect.calls_party.clone().ok_or_else(|| inconsistent(effect, "names no call"))?,
                award: effect.event_id.clone(),
                amount: Cents::new(effect.awards_debit),
            }),
            "grant_usage" => {
                let entry_id = entry_ids.get(&effect.sequence).ok_or_else(|| inconsistent(effect, "has no id"))?;
                let by_award = usage.get(entry_id).ok_or_else(|| inconsistent(effect, "has no usage kept"))?;
                if by_award.values().map(|(cents, _)| cents).sum::<i64>() != -effect.awards_net {
                    return Err(inconsistent(effect, "disagrees with the usage it posted"));
                }
                for (award, (cents, milli)) in by_award {
                    flows.push(PoolFlow::Usage {
                        award: award.clone(),
                        amount: Cents::new(*cents),
                        hours: GpuHours::from_milli(*milli),
                    });
                }
            }
            "grant_lapse" => flows.push(PoolFlow::Lapse {
                award: effect.event_id.clone(),
                amount: Cents::new(effect.pool),
                hours: GpuHours::from_milli(lapsed_hours.get(&effect.event_id).copied().unwrap_or(0)),
            }),
            _ if effect.calls_debit != 0 || effect.awards_net != 0 => {
                return Err(inconsistent(effect, "moves grant commitments outside the grant events"))
            }
            _ if effect.pool > 0 => flows.push(PoolFlow::TopUp { amount: Cents::new(effect.pool) }),
            _ if effect.pool < 0 => flows.push(PoolFlow::Withdrawal { amount: Cents::new(-effect.pool) }),
            _ => {}
        }
    }
    Ok(flows)
}

/// Who a source is for the tables: (programme, Member State or none, name).
type SourceFacts = (String, Option<String>, String);

/// The facts of the sources among `ids`: only those the fund's attribution names, not every
/// investor of every fund.
fn source_facts(conn: &mut DbConnection, ids: &[&str]) -> AppResult<HashMap<String, SourceFacts>> {
    let mut rows: Vec<(String, String, String, String, String)> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::LOOKUP_KEYS_MAX) {
        rows.extend(
            sources::table
                .filter(sources::id.eq_any(chunk))
                .filter(super::planned_each_time())
                .select((sources::id, sources::kind, sources::programme, sources::country, sources::legal_name))
                .load::<(String, String, String, String, String)>(conn)?,
        );
    }
    Ok(rows
        .into_iter()
        .map(|(id, kind, programme, country, name)| {
            let facts = if kind == "private" {
                (PRIVATE_PROGRAMME.to_string(), None, name)
            } else {
                (programme, Some(country), name)
            };
            (id, facts)
        })
        .collect())
}

fn cents(value: i64) -> Cents {
    Cents::new(value)
}

fn add_pool_share(figures: &mut AttributedFigures, share: &PoolShare) -> AppResult<()> {
    figures.reserved = figures.reserved.checked_add(cents(share.reserved))?;
    figures.topped_up = figures.topped_up.checked_add(cents(share.topped_up))?;
    figures.withdrawn = figures.withdrawn.checked_add(cents(share.withdrawn))?;
    figures.committed_to_calls = figures.committed_to_calls.checked_add(cents(share.committed_to_calls))?;
    Ok(())
}

fn add_award_share(figures: &mut AwardFigures, share: &AwardShare) -> AppResult<()> {
    figures.awarded = figures.awarded.checked_add(cents(share.awarded))?;
    figures.used = figures.used.checked_add(cents(share.used))?;
    figures.returned = figures.returned.checked_add(cents(share.returned))?;
    figures.gpu_hours_used = GpuHours::from_milli(figures.gpu_hours_used.milli() + share.hours_used_milli);
    figures.gpu_hours_lapsed = GpuHours::from_milli(figures.gpu_hours_lapsed.milli() + share.hours_lapsed_milli);
    Ok(())
}

/// Per source: every figure of the attribution.
fn figures_by_source(attribution: &Attribution) -> AppResult<BTreeMap<String, AttributedFigures>> {
    let mut by_source: BTreeMap<String, AttributedFigures> = BTreeMap::new();
    for (source, share) in &attribution.pool_shares {
        add_pool_share(by_source.entry(source.clone()).or_default(), share)?;
    }
    for shares in attribution.award_shares.values() {
        for (source, share) in shares {
            add_award_share(&mut by_source.entry(source.clone()).or_default().awards, share)?;
        }
    }
    for (source, amount) in &attribution.pool {
        let figures = by_source.entry(source.clone()).or_default();
        figures.in_pool = figures.in_pool.checked_add(cents(*amount))?;
    }
    for holdings in attribution.calls.values() {
        for (source, amount) in holdings {
            let figures = by_source.entry(source.clone()).or_default();
            figures.in_calls = figures.in_calls.checked_add(cents(*amount))?;
        }
    }
    for holdings in attribution.awards.values() {
        for (source, amount) in holdings {
            let figures = by_source.entry(source.clone()).or_default();
            figures.in_awards = figures.in_awards.checked_add(cents(*amount))?;
        }
    }
    Ok(by_source)
}

fn add_figures(into: &mut AttributedFigures, other: &AttributedFigures) -> AppResult<()> {
    add_pool_share(
        into,
        &PoolShare {
            reserved: other.reserved.get(),
            topped_up: other.topped_up.get(),
            withdrawn: other.withdrawn.get(),
            committed_to_calls: other.committed_to_calls.get(),
        },
    )?;
    add_award_share(
        &mut into.awards,
        &AwardShare {
            awarded: other.awards.awarded.get(),
            used: other.awards.used.get(),
            returned: other.awards.returned.get(),
            hours_used_milli: other.awards.gpu_hours_used.milli(),
            hours_lapsed_milli: other.awards.gpu_hours_lapsed.milli(),
        },
    )?;
    into.in_pool = into.in_pool.checked_add(other.in_pool)?;
    into.in_calls = into.in_calls.checked_add(other.in_calls)?;
    into.in_awards = into.in_awards.checked_add(other.in_awards)?;
    Ok(())
}

fn facts_of<'a>(facts: &'a HashMap<String, SourceFacts>, source: &str) -> (String, Option<String>, Option<&'a str>) {
    match facts.get(source) {
        Some((programme, member_state, name)) => (programme.clone(), member_state.clone(), Some(name.as_str())),
        None => (UNATTRIBUTED.to_string(), None, None),
    }
}

fn row(programme: String, member_state: Option<String>, figures: AttributedFigures) -> AttributionRow {
    AttributionRow { programme, member_state, source_id: None, source_name: None, figures }
}

/// The attribution of a fund's pool, replayed from the journal. `with_sources` adds the rows by
/// source, which name private investors: staff and auditors only.
pub fn grant_attribution(conn: &mut DbConnection, fund_id: &str, with_sources: bool) -> AppResult<GrantAttribution> {
    get_fund(conn, fund_id)?;
    // Entries are append-only: reading up to the head fixed first gives one consistent state
    // however many entries are posted meanwhile (as exports do, docs/exports.md).
    let (through_sequence, _) = super::ledger::chain_head(conn)?;
    let rows = pool_postings(conn, fund_id, through_sequence)?;
    let (effects, paid_in) = group_entries(rows);
    let usage = super::usage_sums::fund_entry_usage(conn, fund_id)?;
    let usage_sequences: Vec<i64> =
        effects.iter().filter(|e| e.event_type == "grant_usage").map(|e| e.sequence).collect();
    let mut entry_ids: HashMap<i64, String> = HashMap::with_capacity(usage_sequences.len());
    for chunk in usage_sequences.chunks(super::LOOKUP_KEYS_MAX) {
        let rows: Vec<(i64, String)> = journal_entries::table
            .filter(journal_entries::sequence.eq_any(chunk))
            .filter(super::planned_each_time())
            .select((journal_entries::sequence, journal_entries::id))
            .load(conn)?;
        entry_ids.extend(rows);
    }
    let award_rows: Vec<(String, String, Option<i64>)> = grant_awards::table
        .filter(grant_awards::fund_id.eq(fund_id))
        .select((grant_awards::id, grant_awards::sme_category, grant_awards::lapsed_milli_hours))
        .load(conn)?;
    let lapsed: HashMap<String, i64> = award_rows.iter().map(|(id, _, l)| (id.clone(), l.unwrap_or(0))).collect();
    let category: HashMap<String, String> = award_rows.into_iter().map(|(id, c, _)| (id, c)).collect();
    let flows = flows_of(&effects, &paid_in, &usage, &entry_ids, &lapsed)?;
    let attribution = Attribution::replay(&flows)
        .map_err(|(index, e)| AppError::internal(format!("compute-grant attribution, flow {index}: {e}")))?;
    let by_source = figures_by_source(&attribution)?;
    let mut named: Vec<&str> = by_source.keys().map(String::as_str).collect();
    named.extend(attribution.award_shares.values().flat_map(|shares| shares.keys().map(String::as_str)));
    named.sort_unstable();
    named.dedup();
    let facts = source_facts(conn, &named)?;

    let mut totals = AttributedFigures::default();
    let mut grouped: BTreeMap<(String, Option<String>), AttributedFigures> = BTreeMap::new();
    let mut source_rows = Vec::new();
    for (source, figures) in &by_source {
        add_figures(&mut totals, figures)?;
        let (programme, member_state, name) = facts_of(&facts, source);
        add_figures(grouped.entry((programme.clone(), member_state.clone())).or_default(), figures)?;
        source_rows.push(AttributionRow {
            source_id: name.map(|_| source.clone()),
            source_name: name.map(str::to_string),
            ..row(programme, member_state, figures.clone())
        });
    }
    let mut by_category: BTreeMap<(String, Option<String>, String), AwardFigures> = BTreeMap::new();
    for (award, shares) in &attribution.award_shares {
        let sme_category = category.get(award).cloned().unwrap_or_default();
        for (source, share) in shares {
            let (programme, member_state, _) = facts_of(&facts, source);
            add_award_share(by_category.entry((programme, member_state, sme_category.clone())).or_default(), share)?;
        }
    }
    let balances = super::ledger::account_balances_through(conn, fund_id, super::ledger::LAST_DATE, through_sequence)?;
    let balance_of = |code: &str| balances.iter().find(|b| b.code == code).map(|b| b.net).unwrap_or(Cents::ZERO);
    let reconciliation = PoolReconciliation {
        pool_account: balance_of(COMPUTE_GRANT_POOL),
        calls_account: balance_of(COMPUTE_GRANT_COMMITTED),
        awards_account: balance_of(COMPUTE_GRANT_AWARDED),
    };
    if (reconciliation.pool_account, reconciliation.calls_account, reconciliation.awards_account)
        != (totals.in_pool, totals.in_calls, totals.in_awards)
    {
        return Err(AppError::internal("compute-grant attribution does not reconcile with accounts 1010-1030"));
    }
    Ok(GrantAttribution {
        fund_id: fund_id.to_string(),
        through_sequence,
        totals,
        by_programme_and_member_state: grouped.into_iter().map(|((p, m), f)| row(p, m, f)).collect(),
        by_sme_category: by_category
            .into_iter()
            .map(|((programme, member_state, sme_category), figures)| SmeCategoryRow {
                programme,
                member_state,
                sme_category,
                figures,
            })
            .collect(),
        by_source: with_sources.then_some(source_rows),
        reconciliation,
    })
}
