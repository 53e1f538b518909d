//! The capital stack's running totals: committed, called and paid in per fund, tranche, source
//! kind and programme. Every write that changes a commitment's amount, calls from it or records
//! a contribution adds to them in its own transaction, so the fund overview reads at most
//! tranches times programmes rows, however many commitments and notices the fund holds. The
//! commitments, notices and contributions stay the record: [`recount`] sums them again, and
//! [`disagreements`] lists every total that differs from that sum.

use std::collections::{BTreeMap, BTreeSet};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::upsert::excluded;

use super::schema::{capital_totals, commitments, notices, sources};
use super::DbConnection;
use crate::error::{AppError, AppResult};

/// Sources looked up in one query.
const SOURCES_PER_QUERY_MAX: usize = 1_000;

/// Committed, called and paid in, in cents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Amounts {
    pub committed: i64,
    pub called: i64,
    pub paid: i64,
}

impl Amounts {
    pub fn committed(cents: i64) -> Amounts {
        Amounts { committed: cents, ..Amounts::default() }
    }

    pub fn called(cents: i64) -> Amounts {
        Amounts { called: cents, ..Amounts::default() }
    }

    pub fn paid(cents: i64) -> Amounts {
        Amounts { paid: cents, ..Amounts::default() }
    }

    fn checked_add(self, other: Amounts) -> AppResult<Amounts> {
        let add = |a: i64, b: i64| a.checked_add(b).ok_or_else(|| AppError::internal("capital total overflows"));
        Ok(Amounts {
            committed: add(self.committed, other.committed)?,
            called: add(self.called, other.called)?,
            paid: add(self.paid, other.paid)?,
        })
    }
}

/// Where a total is kept: fund, tranche, source kind, programme.
pub type TotalKey = (String, String, String, String);

/// Changes a write makes, per fund, tranche and source, added to the totals by [`Self::write`].
#[derive(Default)]
pub struct CapitalChanges {
    by_source: BTreeMap<(String, String, String), Amounts>,
    /// Kind and programme of sources read before the writer lock, by source id.
    known: BTreeMap<String, (String, String)>,
}

impl CapitalChanges {
    /// Names a source's kind and programme, read before the writer lock (a source's never
    /// change once registered), so that [`Self::write`] need not read them under it.
    pub fn know_source(&mut self, source_id: &str, kind: &str, programme: &str) {
        self.known.entry(source_id.to_string()).or_insert_with(|| (kind.to_string(), programme.to_string()));
    }

    pub fn add(&mut self, fund_id: &str, tranche_id: &str, source_id: &str, amounts: Amounts) -> AppResult<()> {
        let key = (fund_id.to_string(), tranche_id.to_string(), source_id.to_string());
        let total = self.by_source.entry(key).or_default();
        *total = total.checked_add(amounts)?;
        Ok(())
    }

    /// Adds the changes to their totals, in key order (so two writers never take the same rows
    /// in opposite orders). Call inside the transaction that made the changes.
    pub fn write(&self, conn: &mut DbConnection) -> AppResult<()> {
        let unknown: BTreeSet<&str> = self
            .by_source
            .keys()
            .map(|(_, _, source)| source.as_str())
            .filter(|source| !self.known.contains_key(*source))
            .collect();
        let mut kinds = source_kinds(conn, &unknown)?;
        kinds.extend(self.known.iter().map(|(id, kind)| (id.clone(), kind.clone())));
        let mut totals: BTreeMap<TotalKey, Amounts> = BTreeMap::new();
        for ((fund_id, tranche_id, source_id), amounts) in &self.by_source {
            let (kind, programme) = kinds
                .get(source_id.as_str())
                .ok_or_else(|| AppError::internal(format!("source {source_id} of a capital change not found")))?;
            let key = (fund_id.clone(), tranche_id.clone(), kind.clone(), programme.clone());
            let total = totals.entry(key).or_default();
            *total = total.checked_add(*amounts)?;
        }
        add_to_totals(conn, totals)
    }
}

/// Adds one change to its total.
pub fn add_one(
    conn: &mut DbConnection,
    fund_id: &str,
    tranche_id: &str,
    source_id: &str,
    amounts: Amounts,
) -> AppResult<()> {
    let mut changes = CapitalChanges::default();
    changes.add(fund_id, tranche_id, source_id, amounts)?;
    changes.write(conn)
}

fn source_kinds(conn: &mut DbConnection, source_ids: &BTreeSet<&str>) -> AppResult<BTreeMap<String, (String, String)>> {
    let ids: Vec<&str> = source_ids.iter().copied().collect();
    let mut kinds = BTreeMap::new();
    for chunk in ids.chunks(SOURCES_PER_QUERY_MAX) {
        // Sources grow with every investor: a plan cached while the table was small scans it all.
        let rows: Vec<(String, String, String)> = sources::table
            .filter(sources::id.eq_any(chunk))
            .filter(super::planned_each_time())
            .select((sources::id, sources::kind, sources::programme))
            .load(conn)?;
        kinds.extend(rows.into_iter().map(|(id, kind, programme)| (id, (kind, programme))));
    }
    Ok(kinds)
}

#[derive(Insertable)]
#[diesel(table_name = capital_totals)]
struct TotalRow {
    fund_id: String,
    tranche_id: String,
    source_kind: String,
    programme: String,
    committed_cents: i64,
    called_cents: i64,
    paid_cents: i64,
}

/// One statement for all the totals on PostgreSQL (the keys are distinct and in order).
fn add_to_totals(conn: &mut DbConnection, totals: BTreeMap<TotalKey, Amounts>) -> AppResult<()> {
    let rows: Vec<TotalRow> = totals
        .into_iter()
        .map(|((fund_id, tranche_id, source_kind, programme), amounts)| TotalRow {
            fund_id,
            tranche_id,
            source_kind,
            programme,
            committed_cents: amounts.committed,
            called_cents: amounts.called,
            paid_cents: amounts.paid,
        })
        .collect();
    let conflict =
        (capital_totals::fund_id, capital_totals::tranche_id, capital_totals::source_kind, capital_totals::programme);
    let add = (
        capital_totals::committed_cents.eq(capital_totals::committed_cents + excluded(capital_totals::committed_cents)),
        capital_totals::called_cents.eq(capital_totals::called_cents + excluded(capital_totals::called_cents)),
        capital_totals::paid_cents.eq(capital_totals::paid_cents + excluded(capital_totals::paid_cents)),
    );
    super::upsert_all!(conn, capital_totals::table, rows, on conflict, set add);
    Ok(())
}

/// The running totals of `fund_ids`.
pub fn totals(conn: &mut DbConnection, fund_ids: &[String]) -> AppResult<BTreeMap<TotalKey, Amounts>> {
    let rows: Vec<(String, String, String, String, i64, i64, i64)> = capital_totals::table
        .filter(capital_totals::fund_id.eq_any(fund_ids))
        .select((
            capital_totals::fund_id,
            capital_totals::tranche_id,
            capital_totals::source_kind,
            capital_totals::programme,
            capital_totals::committed_cents,
            capital_totals::called_cents,
            capital_totals::paid_cents,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(fund, tranche, kind, programme, committed, called, paid)| {
            ((fund, tranche, kind, programme), Amounts { committed, called, paid })
        })
        .collect())
}

/// The totals summed again from the commitments and notices of `fund_ids` (every one of them
/// read: for checks, not for answering requests).
pub fn recount(conn: &mut DbConnection, fund_ids: &[String]) -> AppResult<BTreeMap<TotalKey, Amounts>> {
    let paid: BTreeMap<String, i64> = notices::table
        .inner_join(commitments::table.on(commitments::id.eq(notices::commitment_id)))
        .filter(commitments::fund_id.eq_any(fund_ids))
        .group_by(notices::commitment_id)
        .select((notices::commitment_id, sql::<BigInt>("CAST(SUM(notices.paid_cents) AS BIGINT)")))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let rows: Vec<(String, String, String, String, String, i64, i64)> = commitments::table
        .inner_join(sources::table)
        .filter(commitments::fund_id.eq_any(fund_ids))
        .select((
            commitments::id,
            commitments::fund_id,
            commitments::tranche_id,
            sources::kind,
            sources::programme,
            commitments::committed_cents,
            commitments::called_cents,
        ))
        .load(conn)?;
    let mut totals: BTreeMap<TotalKey, Amounts> = BTreeMap::new();
    for (id, fund, tranche, kind, programme, committed, called) in rows {
        let paid = paid.get(&id).copied().unwrap_or(0);
        let total = totals.entry((fund, tranche, kind, programme)).or_default();
        *total = total.checked_add(Amounts { committed, called, paid })?;
    }
    Ok(totals)
}

/// Every total that differs from its recount, as (key, kept, recounted); a total of zero and
/// a missing one are the same.
pub fn disagreements(conn: &mut DbConnection) -> AppResult<Vec<(TotalKey, Amounts, Amounts)>> {
    let fund_ids: Vec<String> = super::schema::funds::table.select(super::schema::funds::id).load(conn)?;
    let kept = totals(conn, &fund_ids)?;
    let recounted = recount(conn, &fund_ids)?;
    Ok(super::differences(&kept, &recounted))
}
